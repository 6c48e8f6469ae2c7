"""The district-heating stage of a time series (:mod:`gigawatt.solver.district_heating.series`), each result checked against
something the series did not compute:

- constant inputs: the steady stage (:meth:`DistrictHeatingNetwork.solve`, an independent fixed-point solver)
  at the same outdoor temperature, after the old water has left the pipes;
- transport delay: plug flow's closed form, the front of a supply-temperature step reaching a consumer after
  tau = rho A L / m, the outlet before and after on the exponential T_g + (T_in - T_g) exp(-U L / (m cp));
- the ledger (heat in = delivered + pipe losses + pipes' stored change + tank losses + tank's stored change)
  every step and over random runs (hypothesis);
- storage: a charge-discharge cycle returns what was charged less the tank's losses, the losses from the
  fully mixed tank's closed form (Duffie & Beckman 8.3) written out here.

Tolerances: temperatures 1e-8 K and flows/heats 1e-9 relative against the steady solve (its own heat
tolerance is 1e-10 of each demand; the series reaches it geometrically, the step map being the steady stage's
plain fixed point); ledgers 1e-12 a step (round-off of sums of ~10^4 terms) and 1e-9 over a run (the issue's
target); the delay 1e-6 of tau (the front's step mean is linear in the share of new water, so only rounding
remains).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import HeatOffer, prepare_district_heating

T_OUT = 278.15
OFFER = HeatOffer(5e5, 318.15, 308.15)


def pipe(pid, frm, to, length_m=500.0, diameter_m=0.1, u_w_per_m_k=0.4):
    return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=diameter_m, u_w_per_m_k=u_w_per_m_k)


def small_doc(**settings_) -> dict:
    """A line S - A - B with a fixed consumer at A and a house group at B (demand follows the weather), and a
    return line; the plant's heat pumps take the campus heat."""
    return {
        "case": {"name": "dh-series"},
        "district_heating": {"supply_node": "S", "return_node": "R", **settings_},
        "dh_node": [{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]],
        "dh_pipe": [pipe("s1", "S", "A"), pipe("s2", "A", "B", 300.0, 0.08), pipe("r1", "Ar", "R"),
                    pipe("r2", "Br", "Ar", 300.0, 0.08)],
        "dh_consumer": [
            {"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 3e5},
            {"id": "cB", "supply_node": "B", "return_node": "Br", "kind": "homes_degree_days", "n_homes": 20.0},
        ],
    }


def case_of(doc):
    return gw.make_case({k: v for k, v in doc.items() if k.startswith("dh_")},
                        district_heating=doc["district_heating"], case=doc["case"])


@pytest.fixture(scope="module")
def town():
    return gw.load_case()  # the bundled case: 1,004 consumers in meshed streets


def test_constant_inputs_reproduce_the_steady_solve(town):
    """Start from the steady state at the case's -5 degC, then hold +5 degC: after the old water has left, every
    figure, node temperature and flow is the steady stage's at +5 degC."""
    ser = DistrictHeatingSeries(town, OFFER)
    for _ in range(40):
        f = ser.step(OFFER, T_OUT, 3600.0)
    st_ = prepare_district_heating(town).solve(OFFER, outdoor_t_k=T_OUT)
    ref = st_.figures
    for key in ("dh_q_plant_w", "dh_q_delivered_w", "dh_q_demand_w", "dh_q_loss_w", "dh_flow_kg_s", "hp_heat_w",
                "hp_electric_w", "q_from_campus_w", "boiler_heat_w", "dh_pump_w", "dh_plant_electric_w"):
        assert f[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-6), key
    assert f["dh_t_return_k"] == pytest.approx(ref["dh_t_return_k"], abs=1e-8)
    assert f["dh_undersupplied"] == ref["dh_undersupplied"]
    np.testing.assert_allclose(ser.node_t_k(), st_.node_t_k, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ser.consumer_flow_kg_s, st_.consumer_flow_kg_s, rtol=1e-9)
    np.testing.assert_allclose(ser.pipe_flow_kg_s(), st_.pipe_flow_kg_s, rtol=1e-9, atol=1e-9)
    assert abs(f["dh_pipe_stored_change_j"]) <= 1e-9 * f["dh_pipe_stored_j"]
    assert f["dh_q_unmet_w"] <= 1e-9 * f["dh_q_demand_w"]
    assert ser.energy_balance_residual() <= 1e-9


def delay_case(length_m=1000.0, diameter_m=0.1, u=0.3, m_kg_s=3.0):
    """Plant - 1 km supply pipe - a consumer drawing a given flow and heat - return pipe - plant."""
    doc = {
        "case": {"name": "dh-delay"},
        "district_heating": {"supply_node": "S", "return_node": "R"},
        "dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
        "dh_pipe": [pipe("s1", "S", "A", length_m, diameter_m, u), pipe("r1", "Ar", "R", length_m, diameter_m, u)],
        "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                         "mass_flow_kg_s": m_kg_s, "demand_w": 2e5}],
    }
    return case_of(doc)


@pytest.mark.parametrize("dt", [20.0, 60.0, 300.0])
def test_a_supply_step_reaches_the_consumer_after_the_residence_time(dt):
    """The plant's supply steps from 75 to 85 degC at t = 0: the water reaching the consumer changes after
    tau = rho A L / m (the front's arrival from the step means, as validation/dyn_checks.py reads it), and
    before and after it is the exponential of the pipe at that flow."""
    length, d, u, m = 1000.0, 0.1, 0.3, 3.0
    ser = DistrictHeatingSeries(delay_case(length, d, u, m))
    rho, cp, tg = ser.dh.rho, ser.dh.cp, ser.s["ground_t_k"]
    tau = rho * math.pi * d * d / 4 * length / m
    arrived = []
    for _ in range(int(2 * tau / dt) + 2):
        ser.step(None, T_OUT, dt, t_supply_k=358.15)
        arrived.append(float(ser.t_in[0]))
    out = np.array(arrived)
    i = 1 + int(np.argmax(np.abs(np.diff(out)) > 1e-3))
    arrival = (i + 1) * dt - (out[i] - out[i - 1]) / (out[i + 1] - out[i - 1]) * dt
    assert arrival == pytest.approx(tau, rel=1e-6)
    decay = math.exp(-u * length / (m * cp))
    assert out[0] == pytest.approx(tg + (348.15 - tg) * decay, abs=1e-9)
    assert out[-1] == pytest.approx(tg + (358.15 - tg) * decay, abs=1e-9)
    assert ser.energy_balance_residual() <= 1e-9


STORAGE = {"storage_volume_m3": 50.0, "storage_ua_w_per_k": 40.0, "storage_t_min_k": 323.15}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["none", "mixed", "stratified"]), interface=st.sampled_from(["heat_pump", "direct"]),
       steps=st.lists(st.tuples(st.floats(253.15, 293.15), st.sampled_from([60.0, 900.0, 3600.0]),
                                st.floats(338.15, 363.15), st.floats(0.0, 2e6)), min_size=1, max_size=25))
def test_the_ledger_closes_every_step_and_over_a_random_run(kind, interface, steps):
    """Random weather, steps, supply temperatures and campus heat, with and without a tank: heat in =
    delivered + pipe losses + pipes' stored change + tank losses + tank's stored change, each step to
    round-off and over the run to 1e-9; the plant's split adds up to the network's heat."""
    extra = {} if kind == "none" else {"storage": kind, **STORAGE, "storage_t_max_k": 338.15}
    ser = DistrictHeatingSeries(case_of(small_doc(interface=interface, **extra)))
    t_campus = 318.15 if interface == "heat_pump" else 373.15  # a direct exchanger needs hot campus water
    for t_out, dt, t_sup, q in steps:
        f = ser.step(HeatOffer(q, t_campus, 308.15), t_out, dt, t_supply_k=t_sup)
        assert f["dh_ledger_residual"] <= 1e-12
        need = max(f["dh_q_plant_w"], 0.0)
        campus = f["hp_heat_w"] if interface == "heat_pump" else f["q_from_campus_w"]
        split = campus + f["boiler_heat_w"] + f["dh_storage_discharge_w"] - f["dh_storage_charge_w"]
        assert split == pytest.approx(need, rel=1e-12, abs=1e-6)
        assert f["boiler_heat_w"] >= 0 and f["hp_heat_w"] >= 0
    assert ser.energy_balance_residual() <= 1e-9


def test_a_charge_discharge_cycle_returns_the_energy_less_the_losses():
    """A fully mixed tank: 12 h of campus heat beyond the demand charges it (the heat pumps give demand +
    charge, no boiler), then 12 h without campus heat discharge it (no heat pumps, the tank before the
    boiler). Over the cycle, discharged = charged - losses - the tank's stored change, and the losses are the
    closed form of the tank's temperature history, rho V cp dT/dt = Q - UA (T - T_a), integrated here."""
    doc = small_doc(storage="mixed", **STORAGE, storage_t_max_k=343.15)
    ser = DistrictHeatingSeries(case_of(doc))
    tank = ser.tank
    c = tank.mass_kg * tank.cp_j_per_kg_k
    ua, ta = STORAGE["storage_ua_w_per_k"], doc["district_heating"].get("storage_ambient_t_k", 283.15)
    e0 = tank.energy_j()
    charged = discharged = lost = expected_loss = 0.0
    t = tank.t_k
    rich, poor = HeatOffer(5e6, 318.15, 308.15), HeatOffer(0.0, 318.15, 308.15)
    for k in range(24):
        f = ser.step(rich if k < 12 else poor, T_OUT, 3600.0)
        q = f["dh_storage_charge_w"] - f["dh_storage_discharge_w"]
        if k < 12:
            assert f["boiler_heat_w"] == 0.0 and f["dh_storage_discharge_w"] == 0.0
            assert f["hp_heat_w"] == pytest.approx(f["dh_q_plant_w"] + f["dh_storage_charge_w"], rel=1e-12)
        else:
            assert f["hp_heat_w"] == 0.0 and f["dh_storage_charge_w"] == 0.0
        # closed form over the step (Duffie & Beckman 8.3)
        t_eq = ta + q / ua
        t_new = t_eq + (t - t_eq) * math.exp(-ua * 3600.0 / c)
        expected_loss += ua * (t_eq - ta) * 3600.0 + c * (t - t_eq) * (1 - math.exp(-ua * 3600.0 / c))
        t = t_new
        charged += f["dh_storage_charge_w"] * 3600.0
        discharged += f["dh_storage_discharge_w"] * 3600.0
        lost += f["dh_storage_loss_w"] * 3600.0
    assert charged > 0 and discharged > 0.5 * charged
    assert tank.t_k == pytest.approx(t, abs=1e-9)
    assert lost == pytest.approx(expected_loss, rel=1e-9)
    assert discharged == pytest.approx(charged - lost - (tank.energy_j() - e0), rel=1e-12)
    assert f["dh_storage_energy_j"] == pytest.approx(tank.energy_j() - c * (323.15 - tank.t_ref_k), rel=1e-12)
    assert ser.energy_balance_residual() <= 1e-9


def test_a_stratified_tank_evens_out_the_boiler():
    """Same cycle with a stratified tank: what it took in the surplus hours it gives back (less its losses) in
    the deficit hours, in place of the boiler."""
    doc = small_doc(storage="stratified", **STORAGE, storage_t_max_k=343.15, storage_layers=10)
    ser = DistrictHeatingSeries(case_of(doc))
    rich, poor = HeatOffer(5e6, 318.15, 308.15), HeatOffer(0.0, 318.15, 308.15)
    plain = DistrictHeatingSeries(case_of(small_doc()))
    boiler = boiler_plain = charged = discharged = lost = 0.0
    e0 = ser.tank.energy_j()
    for k in range(24):
        offer = rich if k < 12 else poor
        f, g = ser.step(offer, T_OUT, 3600.0), plain.step(offer, T_OUT, 3600.0)
        boiler += f["boiler_heat_w"] * 3600.0
        boiler_plain += g["boiler_heat_w"] * 3600.0
        charged += f["dh_storage_charge_w"] * 3600.0
        discharged += f["dh_storage_discharge_w"] * 3600.0
        lost += f["dh_storage_loss_w"] * 3600.0
    assert discharged == pytest.approx(charged - lost - (ser.tank.energy_j() - e0), rel=1e-12)
    assert boiler == pytest.approx(boiler_plain - discharged, rel=1e-9)
    assert ser.energy_balance_residual() <= 1e-9


@pytest.mark.parametrize("settings_, field, value", [
    ({"storage": "mixed", "storage_ua_w_per_k": 10.0}, "storage_volume_m3", None),
    ({"storage": "mixed", "storage_volume_m3": 10.0}, "storage_ua_w_per_k", None),
    ({"storage": "stratified", "storage_volume_m3": 10.0, "storage_ua_w_per_k": 1.0, "storage_t_max_k": 360.0},
     "storage_t_max_k", "360"),
    ({"storage": "mixed", "storage_volume_m3": 10.0, "storage_ua_w_per_k": 1.0, "storage_t_min_k": 345.0,
      "storage_t_max_k": 340.0}, "storage_t_min_k", "345"),
    ({"storage": "mixed", "storage_volume_m3": 10.0, "storage_ua_w_per_k": 1.0, "storage_t_start_k": 300.0},
     "storage_t_start_k", "300"),
    ({"storage": "mixed", "storage_volume_m3": -1.0, "storage_ua_w_per_k": 1.0}, "storage_volume_m3", "-1"),
    ({"storage": "pit"}, "storage", "pit"),
    ({"storage": "stratified", "storage_volume_m3": 10.0, "storage_ua_w_per_k": 1.0, "storage_layers": 0},
     "storage_layers", "0"),
    ({"dispatch": "boiler_first"}, "dispatch", "boiler_first"),
])
def test_bad_storage_input_names_field_and_value(tmp_path, kit, settings_, field, value):
    path = kit.write_case(tmp_path, small_doc(**settings_))
    with pytest.raises(CaseError) as info:
        DistrictHeatingSeries(gw.load_case(path))
    err = info.value
    assert err.field == field and str(path) in str(err) and "district_heating" in str(err)
    if value is not None:
        assert value in str(err)


@pytest.mark.parametrize("args, field", [((None, T_OUT, 0.0), "dt_s"), ((None, T_OUT, math.nan), "dt_s"),
                                         ((None, 100.0, 60.0), "outdoor_t_k")])
def test_bad_step_input_names_field_and_value(args, field):
    ser = DistrictHeatingSeries(case_of(small_doc()))
    with pytest.raises(CaseError) as info:
        ser.step(*args)
    assert info.value.field == field


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ldl_with_recorded_rows_is_ldl_numeric_bit_for_bit(seed):
    """The hydraulic solver's factorisation with the elimination-tree walks recorded once
    (:func:`ldl_rows`, :func:`ldl_numeric_rows`) gives the same L and D as Davis's up-looking ldl_numeric, bit for
    bit, and solves a random weighted graph Laplacian (grounded, so positive definite) as numpy's dense solve."""
    from gigawatt.solver.numerics.sparse_ldl import ldl_layout, ldl_numeric, ldl_numeric_rows, ldl_rows, ldl_solve

    rng = np.random.default_rng(seed)
    n = 300
    rows = np.concatenate([np.arange(1, n), rng.integers(0, n, 150)])  # a tree plus random ties (loops)
    cols = np.concatenate([rng.integers(0, np.arange(1, n)), rng.integers(0, n, 150)])
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    lay, entry, diagonal = ldl_layout(n, rows, cols)
    w = rng.uniform(0.1, 10.0, rows.size)
    dense = np.zeros((n, n))
    np.add.at(dense, (rows, cols), -w)
    np.add.at(dense, (cols, rows), -w)
    dense[np.arange(n), np.arange(n)] = -dense.sum(axis=1) + rng.uniform(0.0, 1.0, n) + 1e-3 * (np.arange(n) == 0)
    values = np.zeros(int(lay.col_ptr[-1]))
    np.add.at(values, entry, -w)
    np.add.at(values, diagonal, np.diag(dense))
    n_l = int(lay.l_ptr[-1])
    ref = (np.empty(n, np.int64), np.empty(n_l, np.int64), np.empty(n_l), np.empty(n), np.zeros(n),
           np.empty(n, np.int64), np.empty(n, np.int64))
    assert ldl_numeric(n, lay.col_ptr, lay.row_index, values, lay.l_ptr, lay.parent, *ref) == -1
    row_ptr, row_col, row_place, l_index = ldl_rows(n, lay.col_ptr, lay.row_index, lay.l_ptr, lay.parent)
    l_values, d = np.empty(n_l), np.empty(n)
    assert ldl_numeric_rows(n, lay.col_ptr, lay.row_index, values, lay.l_ptr, row_ptr, row_col, row_place, l_index,
                            l_values, d, np.empty(n)) == -1
    np.testing.assert_array_equal(l_index, ref[1])
    np.testing.assert_array_equal(l_values, ref[2])
    np.testing.assert_array_equal(d, ref[3])
    b = rng.normal(size=n)
    x = np.empty(n)
    x[lay.position] = b
    ldl_solve(n, lay.l_ptr, l_index, l_values, d, x)
    np.testing.assert_allclose(x[lay.position], np.linalg.solve(dense, b), rtol=1e-9, atol=1e-12)


def test_bench_dh_series_runs_and_reports(cli):
    """``gigawatt bench --dh-series`` on a small town: a record per size with converged steps, the ledger closed,
    the table with the target line; bad sizes are refused in one line (no timings are asserted)."""
    import json

    res = cli("bench", "--dh-series", "40", "--steps", "3", "--json")
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(res.stdout)
    assert rec["size_requested"] == 40 and rec["steps"] == 3 and rec["hydraulic_iterations_max"] >= 1
    assert rec["run_ledger_residual"] <= 1e-9 and rec["steady_step_s"] is not None
    res = cli("bench", "--dh-series", "40", "--steps", "2", "--no-peer")
    assert res.exit_code == 0 and "district_heating_series" in res.stdout and "x steady" in res.stdout
    res = cli("bench", "--dh-series", "many")
    assert res.exit_code == 2 and res.stderr.startswith("error: --dh-series")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 12), st.integers(0, 6), st.integers(0, 2**31 - 1))
def test_step_branch_flows_is_the_numpy_form(n_h, n_c, seed):
    """The step's one-pass flow kernel against the numpy it replaces (small flows zeroed, the thermal branches
    concatenated and renumbered), bit for bit, on random flows with tiny and exactly zero entries."""
    from gigawatt.solver.district_heating.series import step_branch_flows
    from gigawatt.solver.district_heating.stage import ZERO_FLOW_RTOL

    rng = np.random.default_rng(seed)
    m = rng.normal(size=n_h) * 10.0 ** rng.integers(-16, 2, size=n_h)
    m[rng.random(n_h) < 0.2] = 0.0
    flow = rng.random(n_c)
    order = rng.permutation(n_h + 2 * n_c)
    flow[rng.random(n_c) < 0.5] = 0.0
    m_hyd, m_branch = np.empty(n_h), np.empty(order.size)
    draws = step_branch_flows(m, flow, order, ZERO_FLOW_RTOL, m_hyd, m_branch)
    ref = m.copy()
    ref[np.abs(ref) <= ZERO_FLOW_RTOL * max(float(np.max(np.abs(ref), initial=0.0)), 1e-300)] = 0.0
    assert np.array_equal(m_hyd, ref)
    assert np.array_equal(m_branch, np.concatenate([ref, flow, flow])[order])
    assert draws == bool(np.any(flow))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 12), st.integers(1, 30), st.integers(0, 2**31 - 1))
def test_substation_values_and_lowest_difference_are_the_numpy_forms(n_c, n_node, seed):
    """The step's node values of the substations (demand or return temperature, scattered to the dynamic
    numbering) and the pump's smallest pressure difference against the numpy they replace, NaN included."""
    from gigawatt.solver.district_heating.series import lowest_difference, substation_values

    rng = np.random.default_rng(seed)
    demand, t_ret, takes = rng.random(n_c) * 1e5, 310.0 + rng.random(n_c), rng.random(n_c) < 0.5
    sub = rng.permutation(max(n_node, n_c))[:n_c]
    value, ref = rng.random(max(n_node, n_c)), None
    ref = value.copy()
    ref[sub] = np.where(takes, demand, t_ret)
    substation_values(demand, takes, t_ret, sub, value)
    assert np.array_equal(value, ref)
    if n_c:
        p, a, b = rng.normal(size=n_node) * 1e5, rng.integers(0, n_node, n_c), rng.integers(0, n_node, n_c)
        assert lowest_difference(p, a, b) == float(np.min(p[a] - p[b]))
        p[a[-1]] = np.nan
        assert math.isnan(lowest_difference(p, a, b)) and math.isnan(float(np.min(p[a] - p[b])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 12), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_substation_kernels_are_the_numpy_forms(n_c, n_node, seed):
    """The step's substation kernels (draws and injections; inlet temperatures, delivery, shortfall and the
    undersupplied and bypassed counts; the fastest water) against the numpy they replace, bit for bit, on random
    substations with zero demands, cold water, flow limits and flows at their 1 K cap."""
    from gigawatt.solver.district_heating.series import fastest_water_m_s, substation_draws, substation_figures
    from gigawatt.solver.district_heating.stage import MIN_DRIVING_DT_K

    rng = np.random.default_rng(seed)
    heat, cold, holds = (rng.random(n_c) < 0.7 for _ in range(3))
    law, given_ = rng.random(n_c), rng.random(n_c) * (rng.random(n_c) < 0.5)
    cr, cs = rng.integers(0, n_node, n_c), rng.integers(0, n_node, n_c)
    flow, inject = np.empty(n_c), np.empty(n_node)
    substation_draws(heat, law, given_, cr, cs, flow, inject, np.empty(n_node))
    ref_flow = np.where(heat, law, given_)
    assert np.array_equal(flow, ref_flow)
    assert np.array_equal(inject, np.bincount(cr, ref_flow, n_node) - np.bincount(cs, ref_flow, n_node))

    demand = rng.random(n_c) * 1e5 * (rng.random(n_c) < 0.8)
    cp = 4180.0 + rng.random(n_c)
    flow_max = np.where(rng.random(n_c) < 0.5, rng.random(n_c) * 30.0, np.inf)
    hi = np.minimum(demand / (cp * MIN_DRIVING_DT_K), flow_max)
    flow = np.where(rng.random(n_c) < 0.3, hi, rng.random(n_c) * 30.0)  # some at their cap, to the bit
    t_min = 330.0 + rng.random(n_c)
    n_dyn = 2 * n_c + 3
    t_node, q_node = 320.0 + 20.0 * rng.random(n_dyn), -1e5 * rng.random(n_dyn)
    dyn_cs, dyn_sub = rng.permutation(n_dyn)[:n_c], rng.permutation(n_dyn)[:n_c]
    t_in, delivered, short, totals = np.empty(n_c), np.empty(n_c), np.empty(n_c), np.empty(3)
    ref_t_in, ref_delivered = t_node[dyn_cs], -q_node[dyn_sub]
    ref_bypassed = heat & cold & (demand > 0)
    ref_short = np.maximum(demand - ref_delivered, 0.0)
    for c_p in (cp, np.full(1, 4180.5)):  # each substation's c_p, or one for all (as np.full of it)
        under, bypassed = substation_figures(demand, flow, c_p, flow_max, t_min, heat, cold, holds, t_node, q_node,
                                             dyn_cs, dyn_sub, MIN_DRIVING_DT_K, t_in, delivered, short, totals)
        hi = np.minimum(demand / (np.broadcast_to(c_p, (n_c,)) * MIN_DRIVING_DT_K), flow_max)
        ref_under = ((ref_t_in < t_min) | ref_bypassed | (heat & holds & (flow >= hi * (1 - 1e-12)))) & (demand > 0)
        assert np.array_equal(t_in, ref_t_in) and np.array_equal(delivered, ref_delivered)
        assert np.array_equal(short, ref_short)
        assert (under, bypassed) == (int(ref_under.sum()), int(ref_bypassed.sum()))
        assert totals.tolist() == [float(ref_delivered.sum()), float(demand.sum()), float(ref_short.sum())]

    m, rho, area = rng.normal(size=n_c + 2), 960.0 + rng.random(n_c), rng.random(n_c) + 0.01
    assert fastest_water_m_s(m, rho, area) == float(np.max(np.abs(m[:n_c]) / (rho * area), initial=0.0))


def mixed_demand_case():
    """The line of :func:`small_doc` with a consumer of every demand model at B (two parameter sets of homes, a
    Siglinde group, a farm, a series consumer)."""
    doc = small_doc()
    extra = [{"id": "h2", "kind": "homes_degree_days", "n_homes": 7.0, "t_design_k": 263.15},
             {"id": "sg", "kind": "homes_siglinde", "n_homes": 5.0, "customer_value_w": 900.0},
             {"id": "vf", "kind": "vertical_farm", "floor_area_m2": 400.0},
             {"id": "se", "kind": "series", "demand_w": 2e4}]
    doc["dh_consumer"] += [{"supply_node": "B", "return_node": "Br", **c} for c in extra]
    return case_of(doc)


@pytest.fixture(scope="module")
def mixed_series():
    series = DistrictHeatingSeries(mixed_demand_case())
    series.use_heat_demand(["se"])
    return series


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.floats(230.0, 305.0), st.floats(0.0, 23.999), st.floats(0.0, 1e5)), min_size=1,
                     max_size=30))
def test_demands_of_a_run_are_each_steps_demand_bit_for_bit(mixed_series, rows):
    """ConsumerDemand.over (the models on a run's arrays) against ConsumerDemand.at, step by step: the same bits."""
    series = mixed_series
    t, h, w = (np.array(x) for x in zip(*rows))
    run = series.demands(t, h, w[:, None])
    model = series.dh.demand_model
    for j in range(t.size):
        want = model.at(float(t[j]), float(h[j]), np.array([w[j]]))
        assert np.array_equal(run.row(j), want)


@pytest.mark.parametrize("t, h, field", [(200.0, 3.0, "outdoor_t_k"), (math.nan, 3.0, "outdoor_t_k"),
                                         (270.0, 24.0, "hour_of_day"), (270.0, -1.0, "hour_of_day")])
def test_a_bad_input_of_a_run_is_one_line_naming_the_field(t, h, field):
    series = DistrictHeatingSeries(case_of(small_doc()))
    with pytest.raises(CaseError) as err:
        series.demands(np.array([270.0, t, 271.0]), np.array([1.0, h, 2.0]))
    assert err.value.field == field and "\n" not in str(err.value)
