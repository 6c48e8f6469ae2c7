"""Per-pipe water properties in the district-heating time series (``[district_heating] properties = "per_pipe"``
with :class:`gigawatt.solver.district_heating.series.DistrictHeatingSeries`): each pipe's density, viscosity and
c_p, and each substation's c_p, taken from the last step's temperatures.

Checked against:

- the steady stage's per-pipe solve (its own Picard iteration, an independent solver): a series with nothing
  moving reproduces it, temperatures to 1e-9 K (the steady Picard tolerance; nothing moves by more, so the series
  keeps the steady solve's properties), flows and heats to 1e-9 relative;
- the closed-form exponential of a pipe, T_out = T_g + (T_in - T_g) exp(-U' L / (m c_p)), with that pipe's own
  c_p: the mean of CoolProp's IAPWS-95 c_p (the stored table's source) at its inlet and outlet temperatures at the
  network's pressure, solved here by fixed point; after a supply-temperature step has crossed the pipe. Tolerance
  1e-6 K: the stored table's linear interpolation on its 0.25 K grid errs by ~1e-7 of c_p, which moves an
  outlet ~0.05 decay lengths from 85 degC by ~3e-7 K (measured: 1.1e-8 K). The network's one c_p misses it by
  6.7e-3 K;
- the ledger, every step, through a transient in which the properties change each step: heat in = delivered +
  losses + stored change + the c_p steps, to 1e-9 relative.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import plant_pressure_pa, prepare_district_heating


def pipe(pid, frm, to, length_m=500.0, diameter_m=0.1, u_w_per_m_k=0.4):
    return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=diameter_m, u_w_per_m_k=u_w_per_m_k,
                roughness_m=1e-4)


def two_consumer_case(**settings_):
    """A line S - A - B with a fixed consumer at A and a house group at B, and a return line; 6 bar supply."""
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]],
           "dh_pipe": [pipe("s1", "S", "A"), pipe("s2", "A", "B", 300.0, 0.08), pipe("r1", "Ar", "R"),
                       pipe("r2", "Br", "Ar", 300.0, 0.08)],
           "dh_consumer": [{"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 3e5},
                           {"id": "cB", "supply_node": "B", "return_node": "Br", "kind": "homes_degree_days",
                            "n_homes": 20.0}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", "properties": "per_pipe",
                                               "p_supply_pa": 6e5, **settings_}, case={"name": "series-props"})


def test_nothing_moving_reproduces_the_steady_per_pipe_solve():
    case = two_consumer_case()
    ser = DistrictHeatingSeries(case)
    t_out = case.settings["district_heating"]["outdoor_t_k"]
    figures = [ser.step(None, t_out, 600.0) for _ in range(5)]
    ref = prepare_district_heating(case).solve(None)
    assert ref.figures["dh_property_iterations"] >= 2
    f = figures[-1]
    np.testing.assert_allclose(ser.node_t_k(), ref.node_t_k, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ser.consumer_flow_kg_s, ref.consumer_flow_kg_s, rtol=1e-9)
    np.testing.assert_allclose(ser.pipe_flow_kg_s(), ref.pipe_flow_kg_s, rtol=1e-9)
    for key in ("dh_q_plant_w", "dh_q_delivered_w", "dh_q_loss_w", "dh_flow_kg_s"):
        assert f[key] == pytest.approx(ref.figures[key], rel=1e-9), key
    # the c_p steps are a few 1e-4 of the plant's heat; the series' equal the steady solve's to 1e-9 of that heat
    assert ref.figures["dh_q_cp_step_w"] != 0.0
    assert f["dh_q_cp_step_w"] == pytest.approx(ref.figures["dh_q_cp_step_w"], abs=1e-9 * f["dh_q_plant_w"])
    assert f["dh_t_return_k"] == pytest.approx(ref.figures["dh_t_return_k"], abs=1e-9)
    # the pipes keep the steady solve's properties: hot supply water lighter than the return's
    rho = ser.dyn.rho_branch[np.argsort(ser._bperm)[:ser.n_pipe]]
    np.testing.assert_array_equal(rho, ser.dh.rho_pipe)
    assert rho[0] < rho[2]
    for g in figures:
        assert g["dh_ledger_residual"] <= 1e-9
    assert ser.energy_balance_residual() <= 1e-9


def one_pipe_case(m_kg_s=3.0):
    """Plant - 1 km supply pipe - a consumer drawing a given flow and heat - 1 km return pipe - plant."""
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
           "dh_pipe": [pipe("s1", "S", "A", 1000.0, 0.1, 0.3), pipe("r1", "Ar", "R", 1000.0, 0.1, 0.3)],
           "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                            "mass_flow_kg_s": m_kg_s, "demand_w": 2e5}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", "properties": "per_pipe"},
                        case={"name": "series-props-pipe"})


def closed_form_outlet_k(t_in_k, t_g_k, u_l_w_per_k, m_kg_s, p_pa):
    """The exponential outlet with the pipe's own c_p, the mean of CoolProp's at its two ends [K]."""
    from CoolProp.CoolProp import PropsSI

    t_out = t_in_k
    for _ in range(50):
        cp = 0.5 * (PropsSI("C", "T", t_in_k, "P", p_pa, "HEOS::Water")
                    + PropsSI("C", "T", t_out, "P", p_pa, "HEOS::Water"))
        t_out = t_g_k + (t_in_k - t_g_k) * math.exp(-u_l_w_per_k / (m_kg_s * cp))
    return t_out, cp


def test_a_pipe_after_a_supply_step_is_the_exponential_with_its_own_cp():
    m = 3.0
    ser = DistrictHeatingSeries(one_pipe_case(m))
    tg, p = ser.s["ground_t_k"], plant_pressure_pa(ser.s)
    cp_start = ser.dyn.cp_branch.copy()
    residuals = []
    for _ in range(30):  # tau = rho A L / m ~ 2,560 s: the front crosses in ~9 steps of 300 s
        f = ser.step(None, 278.15, 300.0, t_supply_k=358.15)
        residuals.append(f["dh_ledger_residual"])
    assert not np.array_equal(ser.dyn.cp_branch, cp_start)  # the properties followed the step
    want, cp = closed_form_outlet_k(358.15, tg, 0.3 * 1000.0, m, p)
    assert float(ser.t_in[0]) == pytest.approx(want, abs=1e-6)
    network = tg + (358.15 - tg) * math.exp(-300.0 / (m * ser.dh.cp))
    assert abs(network - want) > 1e-3  # the network's one c_p would miss it
    assert max(residuals) <= 1e-9
    assert ser.energy_balance_residual() <= 1e-9


def test_twin_pipes_and_frictional_heating_keep_both_checks():
    """Twin pipes (supply and return in one casing) and frictional heating with per-pipe properties: nothing
    moving is the steady solve (1e-9 K), and a transient in which the supply and outdoor temperatures move every
    step (so the properties change every step) closes every step's ledger to 1e-9."""
    def twin(pid, frm, to, length_m, **more):
        return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=0.1, outer_diameter_m=0.114,
                    **more)
    pipes = [twin("s0", "S", "J", 900.0, twin_pipe="r0"), twin("r0", "Jr", "R", 900.0),
             twin("s1", "J", "A", 600.0, twin_pipe="r1"), twin("r1", "Ar", "Jr", 600.0),
             twin("s2", "J", "B", 1100.0, twin_pipe="r2"), twin("r2", "Br", "Jr", 1100.0)]
    consumers = [dict(id=c, supply_node=n, return_node=n + "r", kind="fixed", demand_w=q)
                 for c, n, q in (("a", "A", 3e5), ("b", "B", 1.5e5))]
    nodes = [{"id": x} for x in ("S", "R", "J", "Jr", "A", "Ar", "B", "Br")]
    case = gw.make_case({"dh_node": nodes, "dh_pipe": pipes, "dh_consumer": consumers},
                        district_heating={"supply_node": "S", "return_node": "R", "properties": "per_pipe",
                                          "frictional_heating": True, "p_supply_pa": 6e5})
    ser = DistrictHeatingSeries(case)
    steady = ser.steady_start
    assert steady.figures["dh_q_twin_exchange_w"] > 0 and steady.figures["dh_q_friction_w"] > 0
    for _ in range(4):
        f = ser.step(None, ser.s["outdoor_t_k"], 3600.0)
        np.testing.assert_allclose(ser.node_t_k(), steady.node_t_k, rtol=0, atol=1e-9)
    assert f["dh_q_twin_exchange_w"] == pytest.approx(steady.figures["dh_q_twin_exchange_w"], rel=1e-9)
    cp_before = ser.dyn.cp_branch.copy()
    for k in range(30):
        f = ser.step(None, 270.0 + k, 900.0, t_supply_k=350.0 + 0.5 * k)
        assert f["dh_ledger_residual"] <= 1e-9
    assert not np.array_equal(ser.dyn.cp_branch, cp_before)
    assert ser.energy_balance_residual() <= 1e-9
