"""Frictional heating in district-heating pipes (``[district_heating] frictional_heating``): the work of each pipe's
pressure drop, abs(m dp) / rho, dissipated evenly along it. Checked against the closed forms written out here:

- a pipe without loss: its water warms by dp / (rho cp) (adiabatic throttling of an incompressible liquid);
- a pipe with loss: m cp dT/dx = -U' (T - T_g) + P_f / L solved exactly, T_out = T_g + (T_in - T_g) e^-N +
  P_f / (U' L) (1 - e^-N), N = U' L / (m cp);
- the ledgers: plant heat + frictional heat = delivered + losses (steady) and + stored change (series), to
  round-off; the frictional heat no more than the pump's hydraulic power;
- a time series with nothing moving equals the steady solve with frictional heating too; off (the default), the
  results are those without it.

Tolerances: 1e-9 K on temperatures (the closed forms and the solver evaluate the same exponentials; the stage's
own heat tolerance, 1e-10 of each demand, moves flows and so temperatures by less), ledgers 1e-12 (round-off).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.solver.district_heating.dynamics import DynamicThermalNetwork
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import prepare_district_heating


def line_case(u=0.0, friction=True, diameter_m=0.05, **settings_):
    """Plant S - 1 km supply pipe - a consumer at A drawing 3 kg/s and 200 kW - 1 km return pipe - plant R; DN50,
    so that the pipes' drop (0.58 bar each) makes a visible 0.14 K."""
    pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=1000.0, diameter_m=diameter_m,  # noqa: E731
                                  u_w_per_m_k=u)
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
           "dh_pipe": [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
           "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                            "mass_flow_kg_s": 3.0, "demand_w": 2e5}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R",
                                               "frictional_heating": friction, **settings_}, case={"name": "friction"})


def test_a_pipe_without_loss_warms_its_water_by_dp_over_rho_cp():
    dh = prepare_district_heating(line_case(u=0.0))
    st_ = dh.solve(None)
    p, t = st_.node_p_pa, st_.node_t_k  # S, A, Ar, R
    rho, cp = dh.rho, dh.cp
    assert t[1] - t[0] == pytest.approx((p[0] - p[1]) / (rho * cp), abs=1e-12)
    assert t[3] - t[2] == pytest.approx((p[2] - p[3]) / (rho * cp), abs=1e-12)
    assert t[1] - t[0] > 0.1  # 0.58 bar over 1 km of DN50 at 3 kg/s: 0.14 K
    friction = 3.0 * ((p[0] - p[1]) + (p[2] - p[3])) / rho
    assert st_.figures["dh_q_friction_w"] == pytest.approx(friction, rel=1e-12)
    assert st_.figures["dh_heat_balance_residual"] <= 1e-12
    # the pipes dissipate part of what the pump gives the water (the rest: the consumer's differential pressure)
    assert friction <= st_.figures["dh_pump_w"] * st_.figures["dh_pump_efficiency"] * (1 + 1e-12)


@pytest.mark.parametrize("u", [0.3, 3.0])
def test_a_pipe_with_loss_follows_the_closed_form(u):
    dh = prepare_district_heating(line_case(u=u))
    st_ = dh.solve(None)
    p, t = st_.node_p_pa, st_.node_t_k
    tg, m, cp, length = dh.s["ground_t_k"], 3.0, dh.cp, 1000.0
    n = u * length / (m * cp)
    for a, b in ((0, 1), (2, 3)):
        p_f = m * (p[a] - p[b]) / dh.rho
        expected = tg + (t[a] - tg) * math.exp(-n) + p_f / (u * length) * (1 - math.exp(-n))
        assert t[b] == pytest.approx(expected, abs=1e-9)
    assert st_.figures["dh_heat_balance_residual"] <= 1e-12


def test_off_by_default_and_then_nothing_changes():
    on, off = (prepare_district_heating(line_case(u=0.3, friction=f)).solve(None) for f in (True, False))
    default = prepare_district_heating(gw.make_case(
        {k: v for k, v in line_case(u=0.3).tables.items() if k.startswith("dh_")},
        district_heating={"supply_node": "S", "return_node": "R"}, case={"name": "default"})).solve(None)
    assert default.figures["dh_q_friction_w"] == 0.0
    np.testing.assert_array_equal(default.node_t_k, off.node_t_k)
    assert np.all(on.node_t_k[1:] > off.node_t_k[1:])


def test_a_series_with_nothing_moving_is_the_steady_solve_with_friction():
    case = line_case(u=0.3, pipe_wall_capacity="steel")
    ser = DistrictHeatingSeries(case)
    steady = prepare_district_heating(case).solve(None)
    t_out = case.settings["district_heating"]["outdoor_t_k"]
    for _ in range(4):
        f = ser.step(None, t_out, 900.0)
        np.testing.assert_allclose(ser.node_t_k(), steady.node_t_k, rtol=0, atol=1e-9)
        assert f["dh_q_friction_w"] == pytest.approx(steady.figures["dh_q_friction_w"], rel=1e-9)
        assert f["dh_ledger_residual"] <= 1e-12
    assert ser.energy_balance_residual() <= 1e-9


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from([60.0, 900.0, 3600.0]), st.floats(338.15, 363.15)),
                      min_size=1, max_size=15))
def test_the_series_ledger_closes_with_friction_over_a_random_run(steps):
    case = line_case(u=0.3)
    ser = DistrictHeatingSeries(case)
    t_out = case.settings["district_heating"]["outdoor_t_k"]
    for dt, t_sup in steps:
        f = ser.step(None, t_out, dt, t_supply_k=t_sup)
        assert f["dh_ledger_residual"] <= 1e-12
        assert f["dh_q_friction_w"] > 0
    assert ser.energy_balance_residual() <= 1e-9


def test_dynamic_pipe_passes_its_frictional_heat_as_the_steady_solution_does():
    """One pipe, its inlet held: after the old water has left, the outlet is the closed form with the source,
    and every step's ledger (friction in, loss and stored change out) closes."""
    rho, cp, tg, u, length, area, m, p_f = 1000.0, 4180.0, 283.15, 0.5, 200.0, 0.01, 2.0, 5000.0
    net = DynamicThermalNetwork(["supply", "junction"], [0], [1], [u], [length], [area], tg, rho, cp)
    net.fill_uniform(330.0)
    for _ in range(30):
        step = net.step([350.0, 0.0], [m], [m, -m], 60.0, q_gain_w=[p_f])
        assert abs(step.ledger["residual_j"]) <= 1e-12 * float(step.stored_j.sum())
    n = u * length / (m * cp)
    expected = tg + (350.0 - tg) * math.exp(-n) + p_f / (u * length) * (1 - math.exp(-n))
    assert step.t_branch_out_k[0] == pytest.approx(expected, abs=1e-9)
    assert step.ledger["friction_j"] == pytest.approx(p_f * 60.0, rel=1e-15)


def test_the_report_energy_chain_balances_with_frictional_heating():
    """The Sankey's ledger check: the pipes' frictional heat enters the district-heating plant as an input (the
    pump's work), so every node of the chain still balances."""
    from gigawatt.report.sankey import check_balance, energy_chain

    case = gw.load_case()
    s = {"district_heating": {**case.settings["district_heating"], "frictional_heating": True}}
    ds = gw.solve(case.with_tables(case.tables, s))
    assert ds.attrs["dh_q_friction_w"] > 0.05 * ds.attrs["dh_q_loss_w"]  # 139 kW against 1.25 MW
    check_balance(energy_chain(ds))
