"""The pipe wall's heat capacity in the transport-delay model (the node method's correction, a lumped capacity at
each pipe's outlet as van der Heijde et al. 2017, doi:10.1016/j.enconman.2017.08.072), each result checked
against something the code does not compute:

- the lumped capacity's step: its first law, C (T_end - T_0) = m cp dt (T_in - mean outlet), and its limits;
- a pipe with a wall under a step of its inlet temperature against the closed form of the continuous problem:
  the plug flow delays the step by tau = W / m and cools it by exp(-U' L / (m cp)), then the wall's capacity C
  passes it as a first-order lag, T(t) = T2 + (T1 - T2) exp(-(t - tau) / theta), theta = C / (m cp); the series'
  step means are compared with the integral of that over each step, written out here;
- no capacity: the plug flow of before, bit for bit; a vanishing capacity tends to it;
- a district-heating time series with steel walls: nothing moving equals the steady solve, the ledger closes.

Tolerances: 1e-9 K on temperatures of ~350 K (the closed form and the series evaluate the same exponentials in
different orders, round-off ~1e-13 relative); ledgers 1e-12 a step and 1e-9 over a run (the issue's target).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.models.pipe_heat import lumped_capacity_outlet, pipe_wall_heat_capacity_j_per_m_k
from gigawatt.solver.district_heating.dynamics import DynamicThermalNetwork
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import prepare_district_heating

TG, RHO, CP = 283.15, 1000.0, 4180.0
# W = RHO A L = 1000 kg exactly (A = 2^-6 m2, L = 64 m) and 1 kg/s: tau = 1000 s, ten steps of 100 s
AREA, LENGTH, M, DT = 0.015625, 64.0, 1.0, 100.0


@pytest.mark.parametrize("t0, t_in, m, c, dt", [(350.0, 360.0, 3.0, 4.3e6, 60.0), (360.0, 340.0, 0.01, 1e3, 3600.0),
                                                (340.0, 341.0, 50.0, 1e9, 1.0)])
def test_the_lumped_capacity_keeps_its_first_law(t0, t_in, m, c, dt):
    mean, end = lumped_capacity_outlet(t0, t_in, m, CP, c, dt)
    # round-off: a few ulp of temperatures of ~350 K (1e-13 K) times the larger of the two capacities
    assert c * (end - t0) == pytest.approx(m * CP * dt * (t_in - mean), abs=1e-13 * 350.0 * (c + m * CP * dt))
    theta = c / (m * CP)
    assert end == pytest.approx(t_in + (t0 - t_in) * math.exp(-dt / theta), rel=1e-15)
    assert min(t0, t_in) <= mean <= max(t0, t_in)


def test_the_lumped_capacity_limits():
    assert lumped_capacity_outlet(350.0, 360.0, 3.0, CP, 0.0, 60.0) == (360.0, 360.0)  # no capacity: passes
    assert lumped_capacity_outlet(350.0, 360.0, 0.0, CP, 1e5, 60.0) == (350.0, 350.0)  # no flow: keeps
    mean, end = lumped_capacity_outlet(350.0, 360.0, 3.0, CP, 1e-9, 60.0)  # a vanishing capacity
    assert mean == pytest.approx(360.0, abs=1e-9) and end == pytest.approx(360.0, abs=1e-12)


def test_steel_wall_capacity_of_a_dn100():
    """DN100 steel, 114.3 x 3.6 mm (EN 10220): 9.833 kg/m of steel at 7854 kg/m3 (Incropera Table A.1), written
    out here from the ring's area, times 434 J/(kg K)."""
    ring = math.pi / 4 * (0.1143 ** 2 - 0.1071 ** 2)
    assert float(pipe_wall_heat_capacity_j_per_m_k(0.1071, 0.1143)) == pytest.approx(ring * 7854 * 434, rel=1e-14)
    assert ring * 7854 == pytest.approx(9.833, abs=5e-4)


def one_pipe(u, c_wall):
    net = DynamicThermalNetwork(["supply", "junction"], [0], [1], [u], [LENGTH], [AREA], TG, RHO, CP,
                                wall_heat_capacity_j_per_k=[c_wall])
    return net


@pytest.mark.parametrize("u, c_wall", [(0.0, 2.0e6), (5.0, 2.0e6), (5.0, 4.18e5), (2.0, 3.0e7)])
def test_a_pipe_with_a_wall_under_a_step_follows_the_closed_form(u, c_wall):
    """Steady at 70 degC, then 80 degC at the inlet from t = 0: the step means of the outlet are the closed
    form's (plug flow delay tau and decay, then the wall's first-order lag) integrated over each step."""
    t1, t2 = 343.15, 353.15
    net = one_pipe(u, c_wall)
    net.fill_steady([t1, np.nan], [M])
    w = RHO * AREA * LENGTH
    assert w == 1000.0
    tau, theta = w / M, c_wall / (M * CP)
    decay = math.exp(-u * LENGTH / (M * CP))
    a1, a2 = TG + (t1 - TG) * decay, TG + (t2 - TG) * decay  # the plug flow's outlet before and after the front
    for k in range(60):
        step = net.step([t2, 0.0], [M], [M, -M], DT)
        t_a, t_b = k * DT, (k + 1) * DT
        if t_b <= tau:
            expected = a1
        else:  # mean over the step of a2 + (a1 - a2) exp(-(t - tau) / theta), the step starting at or after tau
            expected = a2 + (a1 - a2) * theta / DT * (math.exp(-(t_a - tau) / theta) - math.exp(-(t_b - tau) / theta))
        assert step.t_branch_out_k[0] == pytest.approx(expected, abs=1e-9), k
        # relative to the enthalpy the pipe holds (water and wall, ~3e8 J against 273.15 K)
        assert abs(step.ledger["residual_j"]) <= 1e-12 * float(step.stored_j.sum())
    assert net.energy_balance_residual() <= 1e-12


def test_no_capacity_is_the_plug_flow_bit_for_bit_and_a_small_one_tends_to_it():
    rng = np.random.default_rng(7)
    inlet = 340.0 + 20.0 * rng.random(30)
    flows = 0.2 + rng.random(30)
    runs = {}
    for label, kwargs in (("none", {}), ("zero", {"wall_heat_capacity_j_per_k": [0.0]}),
                          ("tiny", {"wall_heat_capacity_j_per_k": [1e-6]})):
        net = DynamicThermalNetwork(["supply", "junction"], [0], [1], [3.0], [LENGTH], [AREA], TG, RHO, CP, **kwargs)
        net.fill_steady([345.0, np.nan], [0.5])
        runs[label] = np.array([net.step([t, 0.0], [m], [m, -m], 60.0).t_branch_out_k[0]
                                for t, m in zip(inlet, flows)])
    assert np.array_equal(runs["none"], runs["zero"])
    np.testing.assert_allclose(runs["tiny"], runs["none"], rtol=0, atol=1e-9)


def delay_case(**settings):
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
           "dh_pipe": [dict(id="s1", from_node="S", to_node="A", length_m=1000.0, diameter_m=0.1, u_w_per_m_k=0.3),
                       dict(id="r1", from_node="Ar", to_node="R", length_m=1000.0, diameter_m=0.1, u_w_per_m_k=0.3)],
           "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                            "mass_flow_kg_s": 3.0, "demand_w": 2e5}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", **settings},
                        case={"name": "dh-wall"})


def test_a_series_with_steel_walls_and_nothing_moving_is_the_steady_solve():
    case = delay_case(pipe_wall_capacity="steel")
    ser = DistrictHeatingSeries(case)
    c = ser.dh.pipe_wall_c_j_per_k
    assert c == pytest.approx(1000.0 * pipe_wall_heat_capacity_j_per_m_k(0.1, 0.11), rel=1e-14)
    steady = prepare_district_heating(case).solve(None)
    for _ in range(5):
        f = ser.step(None, case.settings["district_heating"]["outdoor_t_k"], 900.0)
        np.testing.assert_allclose(ser.node_t_k(), steady.node_t_k, rtol=0, atol=1e-9)
        assert f["dh_ledger_residual"] <= 1e-12
    assert ser.energy_balance_residual() <= 1e-9


def test_steel_walls_delay_and_smooth_a_supply_step_and_the_ledger_closes():
    """The same supply step with and without walls: the walls' water arrives later (it lags), ends at the same
    steady temperature, and heat in = delivered + losses + change stored in water and walls over the run."""
    out = {}
    for wall in ("none", "steel"):
        case = delay_case(pipe_wall_capacity=wall)
        ser = DistrictHeatingSeries(case)
        t_out = case.settings["district_heating"]["outdoor_t_k"]
        arrived = []
        for _ in range(120):
            ser.step(None, t_out, 120.0, t_supply_k=358.15)
            arrived.append(float(ser.t_in[0]))
        out[wall] = np.array(arrived)
        assert ser.energy_balance_residual() <= 1e-9
    rise = out["none"] - out["none"][0]
    assert np.all(out["steel"] <= out["none"] + 1e-9)
    assert np.any(out["steel"] < out["none"] - 0.1)  # the wall takes heat while the front passes
    assert out["steel"][-1] == pytest.approx(out["none"][-1], abs=1e-6)
    assert rise[-1] > 9.0


def test_a_steel_wall_thinner_than_nothing_is_an_input_error():
    case = delay_case(pipe_wall_capacity="steel")
    pipes = case.tables["dh_pipe"].copy()
    pipes["outer_diameter_m"] = 0.09
    bad = gw.make_case({"dh_node": case.tables["dh_node"], "dh_pipe": pipes, "dh_consumer": case.tables["dh_consumer"]},
                       district_heating=case.settings["district_heating"], case={"name": "bad"})
    with pytest.raises(gw.CaseError, match="outer_diameter_m.*0.09.*> diameter_m = 0.1 m"):
        prepare_district_heating(bad)


def two_consumer_case():
    """A line S - A - B with a fixed consumer at A and homes at B (demand follows the weather), its return line."""
    pipe = lambda pid, a, b, length, d: dict(id=pid, from_node=a, to_node=b, length_m=length,  # noqa: E731
                                             diameter_m=d, u_w_per_m_k=0.4)
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]],
           "dh_pipe": [pipe("s1", "S", "A", 500.0, 0.1), pipe("s2", "A", "B", 300.0, 0.08),
                       pipe("r1", "Ar", "R", 500.0, 0.1), pipe("r2", "Br", "Ar", 300.0, 0.08)],
           "dh_consumer": [{"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 3e5},
                           {"id": "cB", "supply_node": "B", "return_node": "Br", "kind": "homes_degree_days",
                            "n_homes": 20.0}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", "pipe_wall_capacity": "steel"},
                        case={"name": "dh-wall-ledger"})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.floats(253.15, 293.15), st.sampled_from([60.0, 900.0, 3600.0]),
                                st.floats(338.15, 363.15)), min_size=1, max_size=20))
def test_the_ledger_closes_with_steel_walls_over_a_random_run(steps):
    """Random weather, steps and supply temperatures with steel walls: heat in = delivered + pipe losses + change
    of the heat in the pipes' water and walls, each step to round-off and over the run to 1e-9."""
    ser = DistrictHeatingSeries(two_consumer_case())
    assert np.all(ser.dh.pipe_wall_c_j_per_k > 0)
    for t_out, dt, t_sup in steps:
        f = ser.step(None, t_out, dt, t_supply_k=t_sup)
        assert f["dh_ledger_residual"] <= 1e-12
    assert ser.energy_balance_residual() <= 1e-9


def test_a_given_wall_capacity_is_used_whatever_the_setting():
    case = delay_case()
    pipes = case.tables["dh_pipe"].copy()
    pipes["wall_heat_capacity_j_per_m_k"] = [3000.0, np.nan]
    for setting, second in (("none", 0.0), ("steel", 1000.0 * float(pipe_wall_heat_capacity_j_per_m_k(0.1, 0.11)))):
        c = gw.make_case({"dh_node": case.tables["dh_node"], "dh_pipe": pipes, "dh_consumer": case.tables["dh_consumer"]},
                         district_heating={**case.settings["district_heating"], "pipe_wall_capacity": setting},
                         case={"name": "given"})
        np.testing.assert_allclose(prepare_district_heating(c).pipe_wall_c_j_per_k, [3000.0 * 1000.0, second],
                                   rtol=1e-14)
