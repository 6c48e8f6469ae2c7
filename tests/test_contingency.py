"""The contingency analysis (gigawatt.solver.contingency, ``gigawatt contingency``): outages with a closed-form
consequence, islanding and overloads as findings, the redundancy settings, the command line and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr


def _two_stations(load_w=1.8e6, spare=False):
    """Stations A (2 MW, droop 0.02) and B (3 MW, droop 0.05) at bus 'dc' feeding one lossless rack; with
    ``spare``, a third (C, 3 MW, droop 0.05) stands by at B's bus."""
    src = [{"id": "A", "bus": "dc", "v_set_v": 800.0, "droop": 0.02, "rated_power_w": 2e6},
           {"id": "B", "bus": "dc", "v_set_v": 800.0, "droop": 0.05, "rated_power_w": 3e6}]
    if spare:
        src.append({"id": "C", "bus": "dc", "v_set_v": 800.0, "droop": 0.05, "rated_power_w": 3e6,
                    "in_service": False, "spare": True})
    return {"case": {"name": "two-stations"}, "bus": [{"id": "dc", "v_nominal_v": 800.0}], "source": src,
            "rack": [{"id": "r", "bus": "dc", "p_it_w": load_w, "vrm_efficiency": 1.0}]}


def _make(doc):
    import gigawatt as gw

    doc = dict(doc)
    tables = {k: doc.pop(k) for k in list(doc) if k in ("bus", "line", "source", "converter", "rack")}
    return gw.make_case(tables, **doc)


def test_droop_station_trips_survivor_on_its_droop_line():
    # Closed form (droop law of cases/schema.csv source.droop): the survivor carries the whole lossless
    # load P and the bus sits at v_set·(1 − droop·P/rated). B: 800·(1 − 0.05·1.8/3) = 776 V.
    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage, run_contingency

    case = _make(_two_stations())
    ds = gw.solve(apply_outage(case, (("stations", "A"),)).case)
    assert float(ds["p_dc_w"].sel(source="B")) == pytest.approx(1.8e6, rel=1e-9)
    assert float(ds["v_v"].sel(bus="dc")) == pytest.approx(776.0, rel=1e-9)
    res = run_contingency(case, "stations")
    assert list(res["outage"].values) == ["stations:A", "stations:B"]
    # B alone: 1.8/3 = 0.6 of its rating; A alone: 1.8/2 = 0.9: neither overloaded, no rack lost
    assert res["station_loading_max"].sel(outage="stations:A") == pytest.approx(0.6, rel=1e-9)
    assert res["station_loading_max"].sel(outage="stations:B") == pytest.approx(0.9, rel=1e-9)
    assert not res["single_point_of_failure"].any()
    assert float(res["energy_balance_residual"].max()) <= 1e-9
    # A alone at 1.8 V drop in 800: v = 800·(1 − 0.02·0.9) = 785.6 V
    assert float(res["v_min_pu"].sel(outage="stations:B")) == pytest.approx(785.6 / 800.0, rel=1e-9)


def test_station_overload_is_a_single_point_of_failure():
    from gigawatt.solver.contingency import run_contingency

    res = run_contingency(_make(_two_stations(load_w=2.4e6)), "stations")
    # A alone would carry 2.4 MW on 2 MW: 1.2 of its rating
    assert res["station_loading_max"].sel(outage="stations:B") == pytest.approx(1.2, rel=1e-9)
    assert bool(res["single_point_of_failure"].sel(outage="stations:B"))
    assert "stations above their rated power" in str(res["finding"].sel(outage="stations:B").values)
    assert not bool(res["single_point_of_failure"].sel(outage="stations:A"))
    assert int(res["rank"].sel(outage="stations:B")) == 1


def test_spare_station_switches_in():
    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage, run_contingency

    case = _make(_two_stations(load_w=2.4e6, spare=True))
    state = apply_outage(case, (("stations", "B"),))
    assert "spare C switched in" in "; ".join(state.notes)
    ds = gw.solve(state.case)
    # A and C share 2.4 MW by rating/droop: k_A = 2e6/(0.02·800) = 125000, k_C = 3e6/(0.05·800) = 75000 W/V
    assert float(ds["p_dc_w"].sel(source="C")) == pytest.approx(2.4e6 * 75000 / 200000, rel=1e-9)
    res = run_contingency(case, "stations")
    assert list(res["outage"].values) == ["stations:A", "stations:B"]  # the spare is not an outage of its own


def test_parallel_pump_survivor_flow_against_the_curves_crossing():
    # The algebra of survivor_flow_fraction against a numerical crossing of one pump's curve
    # H0·n² − 4b·Q² with the system curve K·Q² (Karassik et al., Pump Handbook, parallel pumps).
    from scipy.optimize import brentq

    from gigawatt.solver.contingency.outages import survivor_flow_fraction

    h0, b, q_d, head = 18.0, 3.5e5, 2.4e-3, 13.3
    k = head / q_d ** 2
    frac, speed = survivor_flow_fraction(h0, b, q_d, head, 2, 1, 1.0)
    q = brentq(lambda x: h0 - 4 * b * x * x - k * x * x, 0.0, 1.0, xtol=1e-15)
    assert speed == 1.0 and frac * q_d == pytest.approx(q, rel=1e-12)
    # two of three running with headroom: design flow held at speed sqrt((H_d + b·9/4·Q_d²)/H0)
    frac, speed = survivor_flow_fraction(40.0, b, q_d, head, 3, 2, 1.0)
    assert frac == 1.0 and speed == pytest.approx(math.sqrt((head + b * 9 / 4 * q_d ** 2) / 40.0), rel=1e-12)


@pytest.mark.parametrize("name", ["contingency_analytic_droop_trip", "contingency_analytic_parallel_pump"])
def test_validation_cases_pass(name):
    import tomllib

    from gigawatt.validation.harness import CASES_DIR, run_case

    spec = tomllib.loads((CASES_DIR / f"{name}.toml").read_text())
    spec["name"] = name
    rows = run_case(spec)
    assert rows and all(r.passed for r in rows), [(r.quantity, r.expected, r.got, r.error) for r in rows]


def _radial(parallel_feeders=False, r_ohm=0.01, p_w=1e5):
    """Station at 'a'; line 'l1' (and 'l1b' in parallel) to 'b' with rack r1; line 'l2' on to 'c' with r2."""
    lines = [{"id": "l1", "from_bus": "a", "to_bus": "b", "length_m": 10.0, "r_ohm": r_ohm, "max_i_a": 300.0},
             {"id": "l2", "from_bus": "b", "to_bus": "c", "length_m": 10.0, "r_ohm": r_ohm}]
    if parallel_feeders:
        lines.append({"id": "l1b", "from_bus": "a", "to_bus": "b", "length_m": 10.0, "r_ohm": r_ohm})
    return {"case": {"name": "radial"},
            "bus": [{"id": x, "v_nominal_v": 800.0} for x in "abc"], "line": lines,
            "source": [{"id": "s", "bus": "a", "v_set_v": 800.0, "rated_power_w": 1e7}],
            "rack": [{"id": "r1", "bus": "b", "p_it_w": p_w, "vrm_efficiency": 1.0},
                     {"id": "r2", "bus": "c", "p_it_w": p_w, "vrm_efficiency": 1.0}]}


def test_islanding_is_a_finding_not_an_error():
    from gigawatt.solver.contingency import run_contingency

    res = run_contingency(_make(_radial()), "lines")
    l1, l2 = res.sel(outage="lines:l1"), res.sel(outage="lines:l2")
    assert int(l1["racks_unsupplied"]) == 2 and float(l1["p_it_lost_w"]) == pytest.approx(2e5)
    assert int(l2["racks_unsupplied"]) == 1 and bool(l2["single_point_of_failure"])
    assert "racks unsupplied (islanded)" in str(l2["finding"].values)
    assert str(l1["status"].values) == "ok"
    # after l2 is out, r1 alone draws 1e5 W through 0.01 Ω: V = (800 + sqrt(800² − 4·1e5·0.01))/2
    v = 0.5 * (800 + math.sqrt(800 ** 2 - 4 * 1e5 * 0.01))
    assert float(l2["v_min_pu"]) == pytest.approx(v / 800, rel=1e-9)
    assert str(l2["line_worst"].values) == "l1"  # the only rated line, at 1e5/v of its 300 A
    assert float(l2["line_loading_max"]) == pytest.approx(1e5 / v / 300.0, rel=1e-9)
    assert int(res["rank"].sel(outage="lines:l1")) == 1


def test_beyond_the_nose_is_a_finding():
    # Two parallel feeders of 0.4 Ω carry 2 × 200 kW (r2 behind another 0.4 Ω); one feeder alone can carry
    # at most P_max = V0²/(4R) = 800²/1.6 = 400 kW to bus b even with r2 there too, so with r2 behind l2 the
    # 400 kW cannot pass: a ConvergenceError, reported as a finding.
    from gigawatt.solver.contingency import run_contingency

    res = run_contingency(_make(_radial(parallel_feeders=True, r_ohm=0.4, p_w=2e5)), "lines:l1,lines:l1b")
    for o in ("lines:l1", "lines:l1b"):
        assert str(res["status"].sel(outage=o).values) == "cannot_carry"
        assert "cannot carry its load" in str(res["finding"].sel(outage=o).values)
        assert bool(res["single_point_of_failure"].sel(outage=o))


def _cooled(failover, pumps=1, loops=2):
    doc = {"case": {"name": "cooled"}, "bus": [{"id": "dc", "v_nominal_v": 800.0}],
           "source": [{"id": "s", "bus": "dc", "v_set_v": 800.0, "rated_power_w": 1e7}],
           "rack": [{"id": f"r{i}", "bus": "dc", "p_it_w": 1e5, "vrm_efficiency": 1.0, "cooling_loop": f"L{i % loops}"}
                    for i in range(4)],
           "cooling": {"cdu_failover": failover, "pumps_per_cdu": pumps}}
    return _make(doc)


def test_cdu_without_failover_trips_its_racks_and_standby_pump_covers_a_pump():
    from gigawatt.solver.contingency import run_contingency

    res = run_contingency(_cooled("none"), "cdus,pumps")
    assert list(res["outage"].values) == ["cdus:L0", "cdus:L1", "pumps:L0-pump", "pumps:L1-pump"]
    assert (res["racks_over_limit"] == 2).all() and res["single_point_of_failure"].all()
    assert float(res["p_it_lost_w"].sel(outage="cdus:L0")) == pytest.approx(2e5)
    res = run_contingency(_cooled("standby_pump"), "cdus,pumps")
    assert bool(res["single_point_of_failure"].sel(outage="cdus:L0"))  # a standby pump is no exchanger
    assert not bool(res["single_point_of_failure"].sel(outage="pumps:L0-pump"))
    assert float(res["delta_pue"].sel(outage="pumps:L0-pump")) == 0.0


def test_shared_header_feeds_the_neighbour_or_says_it_cannot():
    from gigawatt.solver.contingency import apply_outage, run_contingency

    case = _cooled("shared_header")
    state = apply_outage(case, (("cdus", "L0"),))
    assert set(state.case.tables["rack"]["cooling_loop"]) == {"L1"}
    res = run_contingency(case, "cdus")
    # the neighbour's pump, pinned to its base curve (auto-sized: 1.4 × its design head), cannot give twice
    # its flow (it would need about 4 × the head): the network cannot carry the heat
    assert (res["status"] == "cannot_carry").all()
    assert "pump cannot deliver" in str(res["finding"].sel(outage="cdus:L0").values)


def test_heat_pump_outage_hands_the_town_to_the_boiler():
    import gigawatt as gw
    from gigawatt.solver.contingency import run_contingency

    res = run_contingency(gw.load_case(), "heat_pumps")
    assert list(res["outage"].values) == ["heat_pumps:heat_pump1"]
    assert float(res["boiler_share"][0]) == pytest.approx(1.0, rel=1e-12)
    assert float(res["unmet_heat_w"][0]) == pytest.approx(0.0, abs=1e-3)
    assert float(res["delta_efficiency_grid_to_chip"][0]) == pytest.approx(0.0, abs=1e-12)


def test_n2_lists_pairs():
    from gigawatt.solver.contingency import list_outages

    case = _make(_radial(parallel_feeders=True))
    assert len(list_outages(case, "lines", 2)) == 3  # C(3, 2)
    assert list_outages(case, "lines:cable", 1) == [(("lines", "l1"),), (("lines", "l2"),), (("lines", "l1b"),)]


def test_cli_writes_the_ranking_and_report_draws_it(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, _radial())
    out = tmp_path / "o.nc"
    res = cli("contingency", path, "--elements", "lines,stations", "-o", out)
    assert res.exit_code == 0, res.output
    assert "single points of failure (3)" in res.stdout and "lines:l1: 2 racks unsupplied" in res.stdout
    with xr.open_dataset(out) as ds:
        assert ds.sizes["outage"] == 3 and set(np.asarray(ds["rank"])) == {1, 2, 3}
        assert ds.attrs["line_rating"] == "from line.max_i_a"
    res = cli("report", out, "-o", tmp_path / "rep")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "contingency.png").is_file()


def test_contingency_figure_skips_other_results():
    import gigawatt as gw
    from gigawatt.report.figures import Skip, contingency

    with pytest.raises(Skip, match="no outage dimension"):
        contingency(gw.solve(_make(_radial())))


def test_cli_on_dask_gives_the_same_numbers(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, _radial())
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    assert cli("contingency", path, "--elements", "lines", "-o", a).exit_code == 0
    res = cli("contingency", path, "--elements", "lines", "-o", b, "--workers", "1")
    assert res.exit_code == 0, res.output
    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        xr.testing.assert_identical(x, y)


@pytest.mark.parametrize("args, needle", [
    (["--elements", "stations,transformers"], "unknown element kind (got 'transformers'"),
    (["--n", "3"], "contingency order must be 1 or 2 (got 3"),
    (["--elements", "lines:l9"], "no such element among the lines in service (got 'l9'"),
    (["--elements", "cdus:L1"], "no such element among the cdus in service (got 'L1'"),
])
def test_bad_input_one_line_exit_2(args, needle, tmp_path, kit, cli):
    path = kit.write_case(tmp_path, _radial())
    out = tmp_path / "o.nc"
    res = cli("contingency", path, *args, "-o", out)
    assert res.exit_code == 2
    assert needle in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_warm_start_from_the_base_finds_the_cold_solution_in_fewer_iterations():
    # A station trips in the bundled campus: the outage solved from the base case's voltages (as the analysis
    # does) lands on the cold start's solution to the solver's tolerance, in no more Newton iterations; from
    # its own solution the solve stops at once (iteration 0: the mismatch is already within tolerance).
    import pandas as pd

    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage

    case = gw.load_case()
    base = gw.solve(case)
    out = apply_outage(case, (("stations", str(case.tables["source"]["id"].iat[0])),)).case
    cold = gw.solve(out)
    warm = gw.solve(out, v_start_v=pd.Series(base["v_v"].to_numpy(), index=base["bus"].to_numpy()))
    assert warm.attrs["iterations"] <= cold.attrs["iterations"]
    # tolerance 1e-11 of the load current: the voltages agree far inside 1e-9 relative
    np.testing.assert_allclose(warm["v_v"].to_numpy(), cold["v_v"].to_numpy(), rtol=1e-9, atol=0)
    again = gw.solve(out, v_start_v=pd.Series(cold["v_v"].to_numpy(), index=cold["bus"].to_numpy()))
    assert again.attrs["iterations"] == 0
    np.testing.assert_array_equal(again["v_v"].to_numpy(), cold["v_v"].to_numpy())
    assert abs(warm.attrs["energy_balance_residual"]) <= 1e-12


def test_a_lost_pump_heats_the_loop_by_its_reduced_flow():
    # Two loops with two parallel pumps each; L1-pump1 trips and the survivor (at pump_max_speed) gives the
    # loop the fraction f of its design flow from survivor_flow_fraction. The chain then solves L1 at that
    # flow: its racks' coolant flow is f times the base's, their coolant rise 1/f times the base's (same heat,
    # no leakage), and L2 is untouched.
    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage, run_contingency

    racks = [{"id": f"r{k}", "bus": "dc", "p_it_w": 1e5, "vrm_efficiency": 1.0, "cooling_loop": f"L{1 + k % 2}"}
             for k in range(4)]
    case = gw.make_case({"bus": [{"id": "dc", "v_nominal_v": 800.0}],
                         "source": [{"id": "st", "bus": "dc", "v_set_v": 800.0, "rated_power_w": 1e6}],
                         "rack": racks},
                        case={"name": "pumps"},
                        cooling={"coolant": "water", "facility_class": "W32", "liquid_fraction": 1.0,
                                 "pumps_per_cdu": 2, "pump_h0_m": 18.0, "pump_b_s2_m5": 8.75e4,
                                 "pump_max_speed": 1.0})
    base = gw.solve(case)
    state = apply_outage(case, (("pumps", "L1-pump1"),))
    f = state.loop_flows["L1"]
    assert 0.5 < f < 1.0 and list(state.loop_flows) == ["L1"]
    out = gw.solve(state.case, loop_flow_fraction=state.loop_flows)
    l1, l2 = ["r0", "r2"], ["r1", "r3"]
    np.testing.assert_allclose(out["coolant_flow_kg_s"].sel(rack=l1), f * base["coolant_flow_kg_s"].sel(rack=l1),
                               rtol=1e-9)
    rise = (out["t_coolant_out_k"] - out["t_coolant_in_k"]).sel(rack=l1)
    base_rise = (base["t_coolant_out_k"] - base["t_coolant_in_k"]).sel(rack=l1)
    np.testing.assert_allclose(rise, base_rise / f, rtol=1e-9)
    np.testing.assert_allclose(out["t_chip_k"].sel(rack=l2), base["t_chip_k"].sel(rack=l2), rtol=1e-12)
    ds = run_contingency(case, "pumps")
    hot = ds.sel(outage="pumps:L1-pump1")
    assert float(hot["t_chip_max_k"]) == pytest.approx(float(out["t_chip_k"].max()), rel=1e-12)
    assert float(hot["t_chip_max_k"]) > float(base["t_chip_k"].max())
    assert "design flow" in str(hot["finding"].values) and "not solved" not in str(hot["finding"].values)
    assert np.nanmax(np.abs(ds["energy_balance_residual"].to_numpy())) <= 1e-12


def test_outages_on_the_prepared_grid_side_match_fresh_solves():
    # With a grid side the analysis builds the pandapower network once (solve(..., ac_grid=)) and starts each
    # outage's AC load flow from the last one's results; each outage must give what a fresh solve of that
    # outage case gives. Both stop at pandapower's tolerance, 1e-10 of the stations' power (ac_tolerance_mva),
    # so voltages and the plant's power agree far inside 1e-8 relative.
    import gigawatt as gw
    from gigawatt.solver.ac.grid import prepare_ac_grid
    from gigawatt.solver.contingency import apply_outage, run_contingency
    from gigawatt.solver.contingency.outages import list_outages

    case = gw.build_campus(halls=2, rows_per_hall=2, racks_per_row=3, stations_per_hall=2, grid="ext_grid",
                           station_loss_model="eta",
                           loss_models={"eta": {"kind": "constant_efficiency", "efficiency": 0.98}})
    grid = prepare_ac_grid(case)
    outages = list_outages(case, "stations,lines:cable")
    for outage in outages:
        out = apply_outage(case, outage).case
        reused, fresh = gw.solve(out, ac_grid=grid), gw.solve(out)
        np.testing.assert_allclose(reused["ac_vm_pu"], fresh["ac_vm_pu"], rtol=1e-8)
        assert reused.attrs["p_plant_w"] == pytest.approx(fresh.attrs["p_plant_w"], rel=1e-8)
        assert reused.attrs["plant_energy_balance_residual"] <= 1e-9
    ds = run_contingency(case, "stations,lines:cable")
    assert (ds["status"].values == "ok").all()
    assert np.nanmax(np.abs(ds["energy_balance_residual"].to_numpy())) <= 1e-12


def test_reference_rows_carried_by_index_equal_the_look_up():
    # An outage's case takes its reference rows and choice codes from the base case by index (no look-up of ids
    # per outage, Case.with_tables(kept_rows=...)). Against the same tables looked up by id: every outage of the
    # bundled campus (islanding ones included) has the same rows, codes and hash, and solves to the same figures.
    import gigawatt as gw
    from gigawatt.cases.case import _is_element_ref
    from gigawatt.cases.schema import schema
    from gigawatt.solver.contingency import apply_outage, list_outages, outage_figures

    case = gw.load_case()
    base = gw.solve(case)
    solved = set()
    for outage in list_outages(case):
        state = apply_outage(case, outage)
        if state.case is None:
            continue
        changed = {k: v for k, v in state.case.tables.items() if v is not case.tables[k]}
        looked_up = case.with_tables(changed, {k: v for k, v in state.case.settings.items()
                                               if v is not case.settings[k]})
        for table, df in state.case.tables.items():
            for name, f in schema()[table].items():
                if name not in df.columns:
                    continue
                if _is_element_ref(f):
                    np.testing.assert_array_equal(state.case.ref_rows(table, name), looked_up.ref_rows(table, name))
                elif f.type == "ref:loss_model" or f.choices is not None:
                    np.testing.assert_array_equal(state.case.codes(table, name)[0], looked_up.codes(table, name)[0])
        assert state.case.hash() == looked_up.hash()
        what = (outage[0][0], bool(state.racks_unsupplied))
        if what not in solved:  # the first outage of each kind, islanding or not, solved both ways
            solved.add(what)
            a = outage_figures(state.case, gw.solve(state.case), base)
            b = outage_figures(looked_up, gw.solve(looked_up), base)
            assert a.keys() == b.keys()
            assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a), (outage, a, b)
    assert ("lines", True) in solved  # the remapped rows of reduced tables were checked
