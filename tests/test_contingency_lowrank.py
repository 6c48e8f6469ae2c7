"""Line outages by a rank-1 update of the base case's factorised Jacobian (gigawatt.solver.contingency.lowrank),
checked against a full re-solve of each outage from its set-points."""
from __future__ import annotations

import numpy as np
import pytest


def _ring(tolerance=1e-14):
    """Twelve buses in a ring with one chord (b3-b9): a stiff station at b0, a droop station at b6, a
    constant-power rack at every other bus; solver tolerance tightened so both solves reach round-off."""
    import gigawatt as gw

    n = 12
    bus = [{"id": f"b{i}", "v_nominal_v": 800.0} for i in range(n)]
    line = [{"id": f"l{i}", "from_bus": f"b{i}", "to_bus": f"b{(i + 1) % n}", "kind": "cable",
             "length_m": 50.0 + 10 * i, "cross_section_mm2": 240.0} for i in range(n)]
    line.append({"id": "chord", "from_bus": "b3", "to_bus": "b9", "kind": "cable", "length_m": 80.0,
                 "cross_section_mm2": 240.0})
    src = [{"id": "s0", "bus": "b0", "v_set_v": 800.0, "rated_power_w": 8e6},
           {"id": "s6", "bus": "b6", "v_set_v": 800.0, "droop": 0.03, "rated_power_w": 4e6}]
    rack = [{"id": f"r{i}", "bus": f"b{i}", "p_it_w": 3e5 + 1e4 * i, "vrm_efficiency": 1.0}
            for i in range(1, n) if i != 6]
    return gw.make_case({"bus": bus, "line": line, "source": src, "rack": rack}, case={"name": "ring"},
                        solver={"tolerance": tolerance})


def test_rank_one_update_matches_a_full_resolve_to_round_off():
    # Every line of the ring out in turn: the chord steps on the base factor downdated by that line
    # (Sherman-Morrison) against gw.solve of the outage case from its set-points. Both stop at round-off
    # (chord steps below 1e-15 relative; Newton at a current mismatch of 1e-14 of the load current), so the
    # voltages agree to about 1e-14; 1e-12 leaves a margin for the conditioning of the long ring.
    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage
    from gigawatt.solver.contingency.lowrank import factor_base, line_outage_voltages
    from gigawatt.solver.dc.assembly import assemble

    case = _ring()
    base = gw.solve(case)
    net = assemble(case)
    v0 = np.empty(net.n_bus)
    v0[net.pos] = base["v_v"].to_numpy()
    bf = factor_base(net, v0)
    for row, line_id in enumerate(case.tables["line"]["id"]):
        v, steps, why = line_outage_voltages(bf, row)
        assert v is not None, why
        full = gw.solve(apply_outage(case, (("lines", line_id),)).case)
        np.testing.assert_allclose(v[net.pos], full["v_v"].to_numpy(), rtol=1e-12, atol=0)
        assert 1 <= steps <= 20
        assert not np.allclose(v, v0, rtol=1e-6)  # the outage does move the voltages


def test_analysis_starts_line_outages_from_the_update_and_says_where_it_does_not_apply():
    # In the analysis the update's voltages are the DC solver's start: it finds them within tolerance at once
    # (0 Newton iterations); a station outage is not low-rank (it changes the droop structure) and says so.
    from gigawatt.solver.contingency import run_contingency

    ds = run_contingency(_ring(tolerance=1e-11), "stations,lines")
    lines = ds.sel(outage=[o for o in ds["outage"].values if o.startswith("lines:")])
    assert (lines["dc_newton_iterations"].to_numpy() == 0).all()
    assert all(t.startswith("rank-1 update") for t in lines["dc_start"].values)
    station = ds.sel(outage="stations:s6")
    assert "droop" in str(station["dc_start"].values) and int(station["dc_newton_iterations"]) >= 1
    assert np.nanmax(np.abs(ds["energy_balance_residual"].to_numpy())) <= 1e-12


def test_a_bridge_is_not_updated_and_other_kinds_say_why():
    # A radial feeder's line islands its end (a bridge: 1 - g·uᵀJ₀⁻¹u = 0 would be singular): the islanding
    # step handles it and the note says the update does not apply.
    import gigawatt as gw
    from gigawatt.solver.contingency import run_contingency
    from gigawatt.solver.contingency.analysis import base_factor
    from gigawatt.solver.contingency.lowrank import applies, line_outage_voltages

    case = gw.make_case({"bus": [{"id": "a", "v_nominal_v": 800.0}, {"id": "b", "v_nominal_v": 800.0}],
                         "line": [{"id": "ab", "from_bus": "a", "to_bus": "b", "length_m": 20.0,
                                   "cross_section_mm2": 240.0}],
                         "source": [{"id": "s", "bus": "a", "v_set_v": 800.0, "rated_power_w": 1e6}],
                         "rack": [{"id": "r", "bus": "b", "p_it_w": 1e5, "vrm_efficiency": 1.0},
                                  {"id": "q", "bus": "a", "p_it_w": 1e5, "vrm_efficiency": 1.0}]},
                        case={"name": "radial"})
    ds = run_contingency(case, "lines")
    assert "does not apply" in str(ds["dc_start"].values[0]) and int(ds["racks_unsupplied"].values[0]) == 1
    # asked directly, the update refuses the bridge rather than return a wrong answer
    base = gw.solve(case)
    bf = base_factor(case, base)
    v, _, why = line_outage_voltages(bf, 0)
    assert v is None and "bridge" in why
    assert "droop" in applies(case, "stations") and "not changes of the DC" in applies(case, "cdus")


def test_contingency_benchmark_records_say_what_was_timed():
    # The benchmark's records on a small case (no timing is asserted: the wall times are the benchmark's to
    # print): which outages, how many solved, the ledger, the load average; a subset is extrapolated.
    from gigawatt.bench.contingency import format_table, run_case

    rec, = run_case("ring", _ring(tolerance=1e-11), subset=4)
    assert rec["outages"] == 4 and rec["outages_all"] == 15 and rec["ok"] == 4
    assert rec["extrapolated_s"] == pytest.approx(rec["wall_s"] * 15 / 4)
    assert rec["max_energy_balance_residual"] <= 1e-12 and rec["load_average_before"] >= 0
    assert "ring" in format_table([rec])
