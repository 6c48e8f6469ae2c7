"""The electrical stage of a time series (gigawatt.solver.dc.series): every step equals gw.solve of the case
with its racks at that step's power, stepping is history-free, and the many-step kernel keeps exactly what
step-by-step solving gives.

Tolerances: ``REL`` 1e-9 on the figures and ``PU`` 1e-9 on voltages (the brief): a warm-started Newton stops
at a different iterate than a cold one, both within the solver tolerance (1e-11 of the load current), which
moves voltages by about 1e-13 pu. The ledger closes to ``LEDGER`` 1e-9, the project's bound (measured: about
1e-13; a zone fed by droop stations alone shares its residual current among them, so it closes there too).
"""
from __future__ import annotations

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.solver.dc.series import FIGURES, DCSeries, run_dc_series
from gigawatt.solver.dc.results import STAGES
from gigawatt.sweep import CaseSource

REL, PU, LEDGER = 1e-9, 1e-9, 1e-9


# The racks' p_it_w at the chips: these cases scale it and step the series at it (the series takes the chips).
def _campus_rings():
    return gw.build_campus(halls=2, rows_per_hall=3, racks_per_row=4, rack_it_power_kw=120, ring_rows=2,
                           rack_power_basis="chips")


def _campus_parallel():
    # The rings campus with a line doubled (two parallel lines from a bus to its parent) and one line out of
    # service: the many-step kernel follows these lines' currents apart from the others (tree lines alone).
    import pandas as pd

    case = _campus_rings()
    line = case.tables["line"]
    extra = pd.DataFrame([{**line.iloc[3].to_dict(), "id": "parallel", "length_m": 2.0 * line["length_m"].iloc[3]},
                          {**line.iloc[5].to_dict(), "id": "spare", "in_service": False}])
    tables = {k: v for k, v in case.tables.items() if len(v)}
    return gw.make_case({**tables, "line": pd.concat([line, extra], ignore_index=True)},
                        loss_models=case.loss_model_params)


def _with_converter(kit):
    # 800 V level with a droop station, a 50 V level behind a DC/DC converter (quadratic loss), a shelf on an
    # efficiency curve: two voltage levels, so run_dc_series takes the step-by-step path.
    doc = kit.base_doc()
    return gw.make_case({k: doc[k] for k in ("bus", "line", "source", "converter", "rack")},
                        loss_models=doc["loss_models"], case=doc["case"])


def _bipolar():
    return gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=3, rack_it_power_kw=100, v_dc_v=400.0,
                           rack_pole="alternating", rack_power_basis="chips", dc={"system": "bipolar"})


def _scaled_solve(case, scale):
    """gw.solve of the case with every rack's p_it_w scaled (scalar or per rack)."""
    p = case.tables["rack"]["p_it_w"].to_numpy(float)
    return gw.solve(CaseSource.of(case).build(rows={("rack", "p_it_w"): p * scale}))


def _mismatch_w(case, mismatch_a) -> float:
    """[W] the power the accepted current mismatches can leave unaccounted: every bus at that mismatch."""
    return len(case.tables["bus"]) * mismatch_a * case.tables["bus"]["v_nominal_v"].max()


def _ledger_closes(residual) -> bool:
    return residual <= LEDGER


def _assert_step_equals_solve(step, ds, case):
    scale_w = ds.attrs["p_grid_w"]
    slack_w = REL * scale_w + _mismatch_w(case, step.max_mismatch_a + ds.attrs["max_mismatch_a"])
    for name in ("p_grid_w", "p_loss_w"):
        assert getattr(step, name) == pytest.approx(ds.attrs[name], rel=0, abs=slack_w), name
    assert step.p_it_w == pytest.approx(ds.attrs["p_it_w"], rel=REL)
    assert step.efficiency_grid_to_chip == pytest.approx(ds.attrs["efficiency_grid_to_chip"],
                                                         rel=slack_w / scale_w)
    assert _ledger_closes(step.energy_balance_residual)
    assert _ledger_closes(ds.attrs["energy_balance_residual"])
    stage = ds["stage_loss_w"].sel(stage=list(STAGES)).to_numpy()
    for s, expected in zip(STAGES, stage):
        assert getattr(step, f"loss_{s}_w") == pytest.approx(expected, rel=0, abs=slack_w), s
    assert step.other_loss_w == pytest.approx(stage[:3].sum(), rel=0, abs=slack_w)
    np.testing.assert_allclose(step.rack_vrm_loss_w, ds["vrm_loss_w"], rtol=REL)
    np.testing.assert_allclose(step.rack_shelf_loss_w, ds["shelf_loss_w"], rtol=REL)
    np.testing.assert_allclose(step.v_pu, ds["v_pu"], rtol=0, atol=PU)
    i_a = ds["i_a"].to_numpy()
    np.testing.assert_allclose(step.line_i_a, i_a, rtol=0, atol=REL * np.nanmax(np.abs(i_a)))
    v_pu = ds["v_pu"].to_numpy()
    assert step.v_min_pu == pytest.approx(v_pu.min(), abs=PU)
    # The lowest bus: gw.solve's, or one whose voltage ties with it within the tolerance.
    assert v_pu[list(ds["bus"].values).index(step.v_min_bus)] <= v_pu.min() + PU


@pytest.mark.parametrize("build", ["default", "rings", "converter"])
def test_steps_equal_gw_solve(build, kit):
    # Random per-step scale factors, stepped warm one after the other; each step against a cold gw.solve.
    case = {"default": gw.load_case, "rings": _campus_rings, "converter": lambda: _with_converter(kit)}[build]()
    series = DCSeries(case)
    rng = np.random.default_rng(5)
    for scale in rng.uniform(0.3, 1.1, 3):
        ds = _scaled_solve(case, scale)
        # With chip leakage (the bundled case) the IT power is gw.solve's, at the chips' temperature.
        step = series.step(ds["rack_p_it_w"].to_numpy())
        _assert_step_equals_solve(step, ds, case)
        assert step.iterations >= 1


def test_bipolar_falls_back_to_the_full_solve():
    case = _bipolar()
    series = DCSeries(case)
    for scale in (0.6, 1.0):
        _assert_step_equals_solve(series.step(case.tables["rack"]["p_it_w"].to_numpy(float) * scale),
                                  _scaled_solve(case, scale), case)


def test_per_rack_powers_equal_gw_solve():
    case = _campus_rings()
    scale = np.random.default_rng(2).uniform(0.0, 1.0, len(case.tables["rack"]))
    step = DCSeries(case).step(case.tables["rack"]["p_it_w"].to_numpy(float) * scale)
    _assert_step_equals_solve(step, _scaled_solve(case, scale), case)


def test_forward_then_backward_gives_the_same_answers(kit):
    for case in (_campus_rings(), _with_converter(kit)):
        p = case.tables["rack"]["p_it_w"].to_numpy(float)
        scales = np.random.default_rng(3).uniform(0.2, 1.0, 5)
        series = DCSeries(case)
        forward = [series.step(p * s) for s in scales]
        backward = [series.step(p * s) for s in scales[::-1]][::-1]
        for a, b in zip(forward, backward):
            slack_w = REL * a.p_grid_w + _mismatch_w(case, a.max_mismatch_a + b.max_mismatch_a)
            for name in FIGURES:
                if name in ("iterations", "v_min_bus", "max_mismatch_a", "energy_balance_residual"):
                    continue
                tol = dict(rel=0, abs=slack_w) if name.endswith("_w") else dict(rel=slack_w / a.p_grid_w)
                assert getattr(a, name) == pytest.approx(getattr(b, name), **tol), name
            np.testing.assert_allclose(a.v_pu, b.v_pu, rtol=0, atol=PU)
            for x in (a, b):
                assert _ledger_closes(x.energy_balance_residual)


def test_fresh_series_shares_the_network_and_starts_over(kit):
    # A fresh series (the dry coolers' design solve of a time series) reads the same assembled network and
    # starts from the set-points: its steps equal those of a series of its own, bit for bit, however far the
    # series it came from has gone, and that one's warm start and step count stay as they were.
    for case in (_campus_rings(), _with_converter(kit)):
        p = case.tables["rack"]["p_it_w"].to_numpy(float)
        series = DCSeries(case)
        for s in (0.3, 0.9, 0.6):
            series.step(p * s)
        v, done = series.v.copy(), series.steps_done
        fresh = series.fresh()
        assert fresh.net is series.net and fresh.steps_done == 0
        own = DCSeries(case)
        for s in (1.0, 0.7):
            a, b = fresh.step(p * s), own.step(p * s)
            for name in FIGURES:
                assert getattr(a, name) == getattr(b, name), name
            assert np.array_equal(a.v_pu, b.v_pu)
        assert np.array_equal(series.v, v) and series.steps_done == done


def _stepwise(case, scale):
    p = case.tables["rack"]["p_it_w"].to_numpy(float)
    series = DCSeries(case)
    return [series.step(p * s) for s in scale]


@pytest.mark.parametrize("build,per_rack", [("rings", False), ("rings", True), ("parallel", False),
                                            ("converter", False), ("bipolar", False)])
def test_run_equals_stepwise(build, per_rack, kit):
    case = {"rings": _campus_rings, "parallel": _campus_parallel, "converter": lambda: _with_converter(kit),
            "bipolar": _bipolar}[build]()
    rng = np.random.default_rng(7)
    n_racks = len(case.tables["rack"])
    scale = rng.uniform(0.2, 1.0, (7, n_racks) if per_rack else 7)
    scale[3] = scale[2]  # a repeated step: solved by repeating the previous one, exactly
    chunks = []
    res = run_dc_series(case, scale, chunk=3, on_chunk=lambda a, b, fig: chunks.append((a, b, fig["p_grid_w"].copy())))
    assert [c[:2] for c in chunks] == [(0, 3), (3, 6), (6, 7)]
    steps = _stepwise(case, scale)
    bus_ids = list(case.tables["bus"]["id"])
    for k, st in enumerate(steps):
        for name in FIGURES:
            got = res.figures[name][k]
            want = bus_ids.index(st.v_min_bus) if name == "v_min_bus" else getattr(st, name)
            # The same kernel from the same warm start: equal but for the order of summing a handful of terms.
            assert got == pytest.approx(want, rel=1e-13, abs=1e-13 * st.p_grid_w), (k, name)
        assert _ledger_closes(res.figures["energy_balance_residual"][k])
    assert res.figures["iterations"][3] == (0 if build != "bipolar" else steps[3].iterations)
    np.testing.assert_array_equal(np.concatenate([c[2] for c in chunks]), res.figures["p_grid_w"])
    # Extremes over the period: the min/max of the stepwise results and the first step where they occur.
    v = np.array([st.v_pu for st in steps])
    np.testing.assert_allclose(res.bus_v_min_pu, v.min(axis=0), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(res.bus_v_min_step, v.argmin(axis=0))
    i = np.abs(np.array([st.line_i_a for st in steps]))
    live = case.tables["line"]["in_service"].to_numpy(bool)
    np.testing.assert_allclose(res.line_i_max_a[live], i[:, live].max(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(res.line_i_max_step[live], i[:, live].argmax(axis=0))
    ds = res.to_dataset()
    assert ds.sizes == {"step": 7, "bus": len(bus_ids), "line": len(live)}


# --- bad input and no solution ----------------------------------------------------------------------------

@pytest.mark.parametrize("scale,where", [
    (np.ones((3, 2)), None),  # wrong number of racks
    (np.ones((2, 2, 2)), None),  # three dimensions
    (np.array([]), None),  # no steps
    (np.array([1.0, 0.5, -0.1]), "step 2"),
    (np.array([1.0, np.nan]), "step 1"),
])
def test_bad_scale(scale, where):
    case = _campus_rings()
    with pytest.raises(CaseError) as info:
        run_dc_series(case, scale)
    assert info.value.field == "rack_scale"
    if where:
        assert info.value.element == where


def test_bad_scale_per_rack_names_step_and_rack():
    case = _campus_rings()
    scale = np.ones((4, len(case.tables["rack"])))
    scale[2, 5] = np.inf
    with pytest.raises(CaseError) as info:
        run_dc_series(case, scale)
    assert (info.value.field, info.value.element) == ("rack_scale", "step 2, rack 5")


def test_bad_step_powers():
    case = _campus_rings()
    series = DCSeries(case)
    p = case.tables["rack"]["p_it_w"].to_numpy(float)
    series.step(p)
    with pytest.raises(CaseError) as info:
        series.step(p[:-1])
    assert (info.value.field, info.value.element) == ("p_it_w", "step 1")
    bad = p.copy()
    bad[3] = -1.0
    with pytest.raises(CaseError) as info:
        series.step(bad)
    assert (info.value.field, info.value.element, info.value.value) == ("p_it_w", "step 1, rack 3", -1.0)


@pytest.mark.parametrize("how", ["step", "run"])
def test_beyond_the_nose_names_the_step(how):
    # 60 times the design load: beyond the maximum power the busways can carry (the nose of the P–V curve).
    case = _campus_rings()
    scale = np.array([0.5, 1.0, 60.0, 1.0])
    if how == "run":
        with pytest.raises(ConvergenceError, match=r"^step 2: no DC load-flow solution") as info:
            run_dc_series(case, scale)
    else:
        series = DCSeries(case)
        p = case.tables["rack"]["p_it_w"].to_numpy(float)
        series.step(p * scale[0])
        series.step(p * scale[1])
        with pytest.raises(ConvergenceError, match=r"^step 2: no DC load-flow solution") as info:
            series.step(p * scale[2])
        # The series is still usable, warm from the last good step.
        last = series.step(p * scale[3])
        assert _ledger_closes(last.energy_balance_residual)
    assert info.value.details["step"] == 2 and 0 < info.value.details["load_scale"] < 1


# --- the benchmark's record (no timings asserted) --------------------------------------------------------

def test_series_benchmark_record_and_peer_check():
    # pandapower (the peer, solving the same network with each step's loads) agrees on the voltages to its
    # own convergence tolerance (tolerance_mva 1e-8 on a 2 MW-scale network: about 1e-9 pu here).
    pytest.importorskip("pandapower")
    from gigawatt.bench.dc_year import format_table, run_one

    rec = run_one(2_000, "inference", steps=4, peer=True)
    assert rec["steps"] == 4 and rec["size"] > 1_900
    assert rec["check"] < 1e-8
    assert rec["max_energy_balance_residual"] < LEDGER
    # the same profile made non-repeating (no step's loads equal another's): every step runs Newton
    assert rec["max_energy_balance_residual_nonrepeating"] < LEDGER
    assert rec["wall_nonrepeating_s"] > 0 and rec["cpu_s"] > 0 and rec["cpu_nonrepeating_s"] > 0
    assert rec["iterations_per_step_nonrepeating"] >= 1
    assert rec["target_s"] is None  # the target is for 10⁵ buses × 8760 steps only
    assert rec["whole_s"] == rec["wall_s"] > 0 and rec["peer_whole_s"] == rec["peer_series_s"] > 0
    assert rec["speedup_whole"] == rec["speedup"]
    text = format_table([rec])
    assert "series_dc_inference" in text and "extrapolated to 4 steps" in text and "non-rep." in text


def test_bench_option_refuses_bad_sizes(cli):
    res = cli("bench", "--series-dc", "1e5,many")
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.strip() == ("error: --series-dc: expected comma-separated whole counts of at least 1 (such as "
                                  "1e4,1e5), got '1e5,many'")


def test_level_feeds_found_once_name_each_feeds_loss_model(kit):
    # The series finds each voltage level's feeds and their loss-model codes once (not at every step): every
    # feed in exactly one level, on that level's buses, its code naming its own loss model.
    from gigawatt.solver.dc.loadflow import level_feeds

    case = _with_converter(kit)
    series = DCSeries(case)
    f = series.net.feeds
    assert len(series._levels) == 2
    seen = []
    for _, _, b0, b1, feeds in series._levels:
        sel, code, names = feeds
        assert np.all((f.bus[sel] >= b0) & (f.bus[sel] < b1))
        assert list(np.asarray(names, dtype=object)[code]) == list(f.loss_model[sel])
        for a, b in zip(feeds, level_feeds(series.net, b0, b1)):
            np.testing.assert_array_equal(a, b)
        seen.extend(sel)
    assert sorted(seen) == list(range(f.bus.size))


def test_rack_powers_one_step_equals_batch_and_rack_powers():
    # RackPowers takes a step's racks as they are (no gathered copies, no broadcast) and a batch of steps through
    # the broadcast path: both must give exactly models.racks.rack_powers' numbers, also with racks on different
    # shelf models and lossless racks (gathered groups).
    from gigawatt.models.racks import rack_powers
    from gigawatt.solver.dc.series import RackPowers

    base = gw.load_case()
    racks = base.tables["rack"].copy()
    racks["shelf_loss_model"] = np.array(["shelf_800_50", "sst_98", ""] * len(racks))[:len(racks)]
    dc = {k: base.tables[k] for k in ("bus", "line", "source", "converter") if len(base.tables[k])}
    case = gw.make_case({**dc, "rack": racks}, loss_models=base.loss_model_params)
    p = case.tables["rack"]["p_it_w"].to_numpy(float) * np.random.default_rng(3).uniform(0.0, 1.2, len(racks))
    ref = rack_powers(case, p)
    for rows in (None, np.arange(1, len(racks), 2)):  # all racks, and a subset (as the batched series takes)
        chain, want = RackPowers(case, rows), [r if rows is None else r[rows] for r in ref]
        p_rows = p if rows is None else p[rows]
        one, batch = chain(p_rows), chain(np.tile(p_rows, (3, 1)))
        for got_one, got_batch, expected in zip(one, batch, want):
            np.testing.assert_array_equal(got_one, expected)
            np.testing.assert_array_equal(got_batch, np.tile(expected, (3, 1)))
    same = RackPowers(base)  # one model for all racks: a slice, no gathered copy
    assert all(isinstance(g[1], slice) for g in same.groups)


def test_rack_ratings_checked_once_then_the_same_numbers():
    # A time series' racks keep their shelves' output voltages and ratings: RackPowers has them checked by its
    # first call of each loss model and not again; the later calls give the first call's numbers exactly, and
    # every loss model gives the same loss with and without the check.
    from gigawatt.models.converter_losses import BUILT_IN_MODELS, make_loss_model
    from gigawatt.solver.dc.series import RackPowers

    base = gw.load_case()
    chain = RackPowers(base)
    p = base.tables["rack"]["p_it_w"].to_numpy(float) * 0.7
    assert not chain._ratings_ok
    first = chain(p)
    assert chain._ratings_ok == {g[0] for g in chain.groups}
    for got, want in zip(chain(p), first):
        np.testing.assert_array_equal(got, want)
    params = [BUILT_IN_MODELS["shelf_800_50"], BUILT_IN_MODELS["sst_98"],
              {"kind": "quadratic", "a_w": 1e3, "b_v": 2.0, "c_ohm": 0.01},
              {"kind": "transformer", "no_load_loss_fraction": 0.002, "load_loss_fraction": 0.01, "power_factor": 0.95}]
    x = np.linspace(0.0, 2e5, 9)
    for par in params:
        model = make_loss_model(par["kind"], {k: v for k, v in par.items() if k != "kind"}, name="m")
        np.testing.assert_array_equal(model.loss_w(x, 800.0, 1e5, ratings_checked=True), model.loss_w(x, 800.0, 1e5))
    racks = base.tables["rack"].copy()
    racks.loc[racks.index[2], "shelf_rated_power_w"] = 0.0
    bad = base.with_tables({"rack": racks})
    with pytest.raises(CaseError, match="rated power must be > 0"):
        RackPowers(bad)(p)
