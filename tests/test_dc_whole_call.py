"""The whole DC call keeps what it reports bit for bit while doing less: the racks' chip powers (on an input
basis the root of the rack's chain, :func:`gigawatt.models.racks.chip_powers`) are found once, by the assembly,
and the results report those same numbers."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.models.racks import chip_powers, rack_powers


def _cases():
    from gigawatt.bench.dc_loadflow import build_network

    return {"bundled": gw.load_case(), "benchmark": build_network(2_000)}


def test_chip_powers_found_once_equal_the_old_path_bit_for_bit():
    for name, case in _cases().items():
        assert (case.tables["rack"]["p_it_basis"].to_numpy() == "input").any(), name  # the root is exercised
        ds = gw.solve(case)
        # the old path: the results called chip_powers(case) again (with chip leakage, the bundled case's
        # cooling, that is p_it_ref_w and the racks draw for the leaky p_it_w), and the assembly rack_powers
        case_p_it = ds["rack_p_it_ref_w"] if "rack_p_it_ref_w" in ds else ds["rack_p_it_w"]
        np.testing.assert_array_equal(case_p_it.values, chip_powers(case), err_msg=name)
        p_in, shelf, vrm = rack_powers(case, ds["rack_p_it_w"].values)
        for var, ref in (("rack_p_in_w", p_in), ("shelf_loss_w", shelf), ("vrm_loss_w", vrm)):
            if var in ds:
                np.testing.assert_array_equal(ds[var].values, ref, err_msg=f"{name} {var}")
        assert ds.attrs["energy_balance_residual"] <= 1e-9, name


def test_rating_methods_by_code_equal_the_first_method_that_rates_each_line():
    """The lines' rating and its method, taken from the method names by code: for each line the first entry
    of the registry that gives a finite rating (the registry's order), '' and NaN where none does."""
    from gigawatt.models.ampacity import AMPACITY_METHODS
    from gigawatt.solver.dc.ratings import line_ratings

    for name, case in _cases().items():
        lines = case.tables["line"]
        with np.errstate(divide="ignore", invalid="ignore"):
            each = {m: np.asarray(f(lines), float) for m, f in AMPACITY_METHODS.items()}
        want_method = [next((m for m in each if np.isfinite(each[m][i])), "") for i in range(len(lines))]
        want_rating = [each[m][i] if m else np.nan for i, m in enumerate(want_method)]
        rating, method = line_ratings(lines)
        assert method.tolist() == want_method, name
        np.testing.assert_array_equal(rating, want_rating, err_msg=name)
        ds = gw.solve(case)
        assert ds["line_rating_method"].values.tolist() == want_method, name
        assert len(set(want_method)) > 1, name  # rated and unrated lines: the codes are exercised


def _scipy_distances(n, a, b, length, sources):
    """The peer: scipy's Dijkstra on the graph of the lines, the shortest of parallel lines kept."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    if not sources.size:
        return np.full(n, np.nan)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first = np.ones(lo.size, bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    dist = dijkstra(csr_array((length[first], (lo[first], hi[first])), shape=(n, n)), directed=False,
                    indices=sources, min_only=True)
    return np.where(np.isfinite(dist), dist, np.nan)


def test_bus_distances_equal_scipy_dijkstra_on_random_networks():
    """Both searches of :func:`gigawatt.solver.dc.distances.shortest_distances` (depth-first label correcting,
    and Dijkstra's, forced with budget 0, or reached when a budget of 1 runs out) give scipy's distances
    exactly: islands, parallel lines, equal lengths (ties) and rings included."""
    from gigawatt.solver.dc.distances import shortest_distances

    rng = np.random.default_rng(15)
    for trial in range(200):
        n = int(rng.integers(1, 60))
        m = int(rng.integers(0, 3 * n))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        a, b = a[a != b], b[a != b]
        length = rng.choice([0.1, 1.0, 2.5, 3.3], a.size) if trial % 2 else rng.uniform(0.01, 100.0, a.size)
        sources = np.unique(rng.integers(0, n, int(rng.integers(0, 4))))
        want = _scipy_distances(n, a, b, length, sources)
        for budget in (4, 1, 0):
            got = shortest_distances(n, a, b, length, sources, budget)
            np.testing.assert_array_equal(got, want, err_msg=f"trial {trial}, budget {budget}")


def test_bus_distances_of_the_cases_equal_scipy_dijkstra():
    for name, case in _cases().items():
        ds = gw.solve(case)
        live = case.tables["line"]["in_service"].to_numpy(bool)
        a, b = case.ref_rows("line", "from_bus")[live], case.ref_rows("line", "to_bus")[live]
        feeds = np.unique(np.concatenate([case.ref_rows("source", "bus"), case.ref_rows("converter", "to_bus")]))
        want = _scipy_distances(len(case.tables["bus"]), a, b,
                                case.tables["line"]["length_m"].to_numpy(float)[live], feeds)
        np.testing.assert_array_equal(ds["bus_distance_m"].values, want, err_msg=name)


def test_chip_powers_of_racks_alike_equal_every_rack_solved_and_the_closed_form():
    """Racks of one shelf type with a few distinct input powers are solved once per power
    (:func:`gigawatt.models.racks._alike_racks`): the same numbers, bit for bit, as the fixed point over every
    rack, and, for shelves of constant efficiency η_s, the closed form p_chips = P_in·η_s·η_vrm to the fixed
    point's accuracy (relative 1e-14, a few roundings)."""
    from gigawatt.bench.dc_loadflow import SHELF_EFFICIENCY, VRM_EFFICIENCY, build_network
    from gigawatt.models.racks import ShelfLosses, _alike_racks, _chip_powers, _shelf_outputs

    base = build_network(2_000)
    racks = base.tables["rack"]
    p_in = np.array([120e3, 132e3, 90e3])[np.arange(len(racks)) % 3]
    case = base.with_tables({"rack": racks.assign(p_it_w=p_in)})
    rows = np.arange(len(racks))
    first, inverse = _alike_racks(case, rows, p_in)
    assert first.size == 3 and np.array_equal(p_in[first][inverse], p_in)
    got = _chip_powers(case)
    tol = 1e-14 * np.maximum(p_in, 1.0)
    every_rack = _shelf_outputs(ShelfLosses(case, rows), p_in, tol) * racks["vrm_efficiency"].to_numpy(float)
    np.testing.assert_array_equal(got, every_rack)
    np.testing.assert_allclose(got, p_in * SHELF_EFFICIENCY * VRM_EFFICIENCY, rtol=1e-14, atol=0)
    # not alike: shelf types differ, so every rack is solved (and the answer is the same)
    mixed = case.with_tables({"rack": case.tables["rack"].assign(
        shelf_v_out_v=np.where(rows % 2 == 0, 50.0, 48.0))})
    assert _alike_racks(mixed, rows, p_in) is None
    np.testing.assert_array_equal(_chip_powers(mixed), got)


def test_shelf_losses_equal_loss_by_model():
    """:class:`gigawatt.models.racks.ShelfLosses` (models grouped once) against
    :func:`gigawatt.models.converter_losses.loss_by_model` (grouped at every call), racks without shelves
    included."""
    from gigawatt.models.converter_losses import loss_by_model
    from gigawatt.models.racks import ShelfLosses

    for name, case in _cases().items():
        racks = case.tables["rack"]
        n = len(racks)
        names = racks["shelf_loss_model"].to_numpy().copy()
        names[::5] = ""  # every fifth rack without shelves
        case = case.with_tables({"rack": racks.assign(shelf_loss_model=names)})
        p = np.linspace(0.0, 1.2, n) * racks["p_it_w"].to_numpy(float)
        rated = np.nan_to_num(racks["shelf_rated_power_w"].to_numpy(float), nan=1.0)
        want = loss_by_model(case.loss_models, names, p, racks["shelf_v_out_v"].to_numpy(float), rated, "rack",
                             racks["id"].to_numpy())
        np.testing.assert_array_equal(ShelfLosses(case)(p), want, err_msg=name)
        assert (want[::5] == 0).all() and (want[1::5] > 0).any(), name


def test_ratings_from_the_case_codes_equal_the_string_comparisons():
    """The rating methods given the case's codes of kind and material rate every line as they do comparing
    the strings; the vendor table evaluated once per run of equal cross-sections gives the same numbers as
    evaluated per line."""
    from gigawatt.models.ampacity import AMPACITY_METHODS, canalis_ktc_rating
    from gigawatt.solver.dc.ratings import case_line_ratings, line_ratings

    for name, case in _cases().items():
        lines = case.tables["line"]
        codes = {f: case.codes("line", f) for f in ("kind", "material")}
        with np.errstate(divide="ignore", invalid="ignore"):
            for m, f in AMPACITY_METHODS.items():
                np.testing.assert_array_equal(f(lines, codes), f(lines), err_msg=f"{name} {m}")
        busway = (lines["kind"].to_numpy() == "busway") & (lines["material"].to_numpy() == "copper")
        want = np.where(busway, canalis_ktc_rating(lines["cross_section_m2"].to_numpy(float))
                        * lines["n_parallel"].to_numpy(float), np.nan)
        np.testing.assert_array_equal(AMPACITY_METHODS["canalis_ktc"](lines, codes), want, err_msg=name)
        for got, ref in zip(case_line_ratings(case), line_ratings(lines)):
            np.testing.assert_array_equal(got, ref, err_msg=name)


def test_evaluation_on_runs_equals_evaluation_per_element():
    from gigawatt.models.ampacity import _on_runs, canalis_ktc_rating

    rng = np.random.default_rng(3)
    for trial in range(50):
        n = int(rng.integers(0, 40))
        values = rng.choice(np.array([400e-6, 1000e-6, 2000e-6, 0.0, -0.0, np.nan, 1e-3 + 1e-19]), size=3)
        x = values[np.sort(rng.integers(0, 3, n))] if trial % 2 else rng.choice(values, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_array_equal(_on_runs(canalis_ktc_rating, x), canalis_ktc_rating(x))


def test_case_figures_on_a_worker_thread_equal_those_found_in_line(monkeypatch):
    """:class:`gigawatt.solver.dc.case_figures.CaseFigures` gives the same arrays on a worker thread as found
    when asked for, and the assembly from them the same network; an error on the worker is raised by get()."""
    import dataclasses

    import pytest
    import xarray as xr

    from gigawatt.errors import CaseError
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.dc.case_figures import ITEMS, CaseFigures

    def same(a, b, what):
        if isinstance(a, tuple):
            for x, y in zip(a, b):
                same(x, y, what)
        elif dataclasses.is_dataclass(a):
            for f in dataclasses.fields(a):
                same(getattr(a, f.name), getattr(b, f.name), f"{what}.{f.name}")
        elif isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, what
            np.testing.assert_array_equal(a, b, err_msg=what)
        elif isinstance(a, dict):
            assert list(a) == list(b), what
            for k in a:
                same(a[k], b[k], f"{what}[{k}]")
        elif isinstance(a, xr.Variable):
            assert a.identical(b) and a.dtype == b.dtype, what
        elif isinstance(a, xr.indexes.PandasIndex):
            assert a.equals(b) and a.index.dtype == b.index.dtype, what
        else:
            assert a == b, what

    for name, case in _cases().items():
        threaded, inline = CaseFigures(case, background=True), CaseFigures(case, background=False)
        for item in reversed(ITEMS):  # asked for in any order
            same(threaded.get(item), inline.get(item), f"{name} {item}")
        same(assemble(case, figures=CaseFigures(case, background=True)), assemble(case), name)
    from gigawatt.solver.dc import case_figures

    def refuse(figures):
        raise CaseError("the rack's input power does not cover its power shelves' loss at no load")

    monkeypatch.setitem(case_figures._FIGURES, "rack_p_it_w", refuse)
    case = _cases()["benchmark"]
    figures = CaseFigures(case, background=True)
    for item in ("rack_p_it_w", "rack_powers"):  # the second needs the first
        with pytest.raises(CaseError, match="loss at no load"):
            figures.get(item)
    assert figures.get("bus_distance_m").size == len(case.tables["bus"])  # the others are still found
    with pytest.raises(CaseError, match="loss at no load"):
        assemble(case, figures=CaseFigures(case, background=True))


def _same_dataset(a, b):
    """Identical, with the variables, dimensions and attributes in the same order."""
    import xarray as xr

    xr.testing.assert_identical(a, b)
    assert list(a.variables) == list(b.variables)
    assert list(a.sizes) == list(b.sizes)
    assert list(a.attrs) == list(b.attrs)
    assert all(a.variables[k].dtype == b.variables[k].dtype for k in a.variables)


def test_results_dataset_made_directly_equals_the_public_constructor():
    """:func:`gigawatt.solver.dc.results.dataset_of` gives what ``xr.Dataset(variables, coords=...)`` gives (the
    results of the bundled case and of a benchmark network rebuilt through it), and refuses what it refuses."""
    import pytest
    import xarray as xr

    from gigawatt.solver.dc.results import dataset_of

    for name, case in _cases().items():
        ds = gw.solve(case)
        coords = {k: v for k, v in ds.variables.items() if k in ds.xindexes}
        data = {k: v.copy(deep=False) for k, v in ds.variables.items() if k not in coords}
        direct = dataset_of(data, coords, dict(ds.xindexes), ds.attrs)
        public = xr.Dataset({k: v.copy(deep=False) for k, v in data.items()},
                            coords=xr.Coordinates(coords, indexes=dict(ds.xindexes)), attrs=ds.attrs)
        _same_dataset(direct, public)
    bus = {"bus": xr.Variable("bus", np.array(["a", "b"], dtype=object))}
    index = {"bus": xr.indexes.PandasIndex(bus["bus"].to_index(), "bus")}
    with pytest.raises(ValueError):
        dataset_of({"v": xr.Variable("bus", np.zeros(3))}, bus, index, {})
    with pytest.raises(ValueError):
        dataset_of({"x": xr.Variable("x", np.zeros(2)), "y": xr.Variable("x", np.zeros(3))}, {}, {}, {})


def test_conform_adds_the_figures_as_assign_would():
    """The figures' 0-d variables added without a merge: the same dataset as ``ds.assign``."""
    import xarray as xr

    from gigawatt.solver.results_schema import _with_scalars

    ds = gw.solve(_cases()["benchmark"])
    new = {"extra_a": xr.Variable((), np.asarray(1.5), attrs={"units": "W"}), "extra_b": xr.Variable((), 2)}
    _same_dataset(_with_scalars(ds, new), ds.assign(new))
    _same_dataset(_with_scalars(ds, {}), ds.assign({}))


def test_loading_warnings_pick_the_worst_lines_as_a_full_stable_sort():
    """The few worst overloaded lines, found without sorting every overloaded line: the same rows, in the same
    order (ties in row order, +inf first, NaN never), as a stable sort of them all."""
    from gigawatt.solver.dc.ratings import _largest

    rng = np.random.default_rng(7)
    for trial in range(2000):
        n = int(rng.integers(0, 40))
        x = (rng.choice([0.5, 1.0, 1.5, 2.0, 3.0, np.inf, np.nan], n) if trial % 2 else rng.random(n) * 3)
        with np.errstate(invalid="ignore"):
            over = np.flatnonzero(x > 1.0)
        for limit in (0, 1, 3, 5, 50):
            np.testing.assert_array_equal(_largest(x, over, limit),
                                          over[np.argsort(-x[over], kind="stable")][:limit])


def test_case_figures_not_begun_by_the_worker_are_found_by_the_caller_once(monkeypatch):
    """An item the worker has not begun is computed by the thread that asks for it, and every item exactly once,
    by one thread or the other, with the same numbers as found in line."""
    import threading

    from gigawatt.solver.dc import case_figures
    from gigawatt.solver.dc.case_figures import ITEMS, CaseFigures

    case = _cases()["benchmark"]
    inline = CaseFigures(case, background=False)
    for item in ITEMS:  # found before the functions are counted
        inline.get(item)
    by = {}
    release = threading.Event()
    original = dict(case_figures._FIGURES)

    def counted(item):
        def run(figures):
            by.setdefault(item, []).append(threading.current_thread() is threading.main_thread())
            if item == "lines" and not by[item][-1]:
                release.wait(10.0)  # the worker is held on its first item
            return original[item](figures)
        return run

    for item in ITEMS:
        monkeypatch.setitem(case_figures._FIGURES, item, counted(item))
    figures = CaseFigures(case, background=True)
    for item in ("line_ratings", "bus_distance_m"):  # the worker is still at "lines": found here
        np.testing.assert_array_equal(np.asarray(figures.get(item)[0] if item == "line_ratings" else figures.get(item)),
                                      np.asarray(inline.get(item)[0] if item == "line_ratings" else inline.get(item)))
        assert by[item] == [True], item
    release.set()
    for item in ITEMS:
        got, want = figures.get(item), inline.get(item)
        if item == "result_inputs":
            (echo, (index_vars, _)), (echo_in, (index_vars_in, _)) = got, want
            got, want = tuple(echo.values()) + tuple(index_vars.values()), tuple(echo_in.values()) + tuple(
                index_vars_in.values())
        for x, y in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=item)
    figures._thread.join(10.0)
    assert {k: len(v) for k, v in by.items()} == {item: 1 for item in ITEMS}
    assert by["lines"] == [False]


def _random_lines(rng, n):
    """A line table of ``n`` rows with the fields the rating methods read: kinds, materials, cross-sections in
    runs (some equal neighbours, zeros of both signs, NaN), ratings given to some lines, a few thermal
    resistances."""
    import pandas as pd

    areas = np.array([400e-6, 1000e-6, 2000e-6, 0.0, -0.0, np.nan, 1e-3 + 1e-19, 5000e-6])
    area = areas[rng.integers(0, areas.size, n)]
    area = np.where(rng.random(n) < 0.6, np.roll(area, 1), area)  # runs of equal cross-sections
    return pd.DataFrame({
        "kind": rng.choice(["cable", "busway", "busbar"], n), "material": rng.choice(["copper", "aluminium"], n),
        "cross_section_m2": area, "n_parallel": rng.choice([1.0, 2.0, 3.0], n),
        "ampacity_a": np.where(rng.random(n) < 0.2, rng.uniform(100, 4000, n), np.nan),
        "thermal_resistance_k_m_per_w": np.where(rng.random(n) < 0.1, rng.uniform(0.5, 2.0, n), np.nan),
        "rho20_ohm_m": np.where(rng.random(n) < 0.1, 2e-8, np.nan), "alpha_per_k": np.full(n, np.nan),
        "conductor_max_temp_k": np.full(n, 363.15), "ambient_temp_k": np.full(n, 303.15)})


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_rating_kernels_equal_the_numpy_expressions_they_replace(seed, n):
    """The copper busways' ratings from the codes (runs found and spread by kernels) equal the string path
    (``_on_runs`` and NumPy gathers); each line's rating and method equal the masked NumPy updates and
    ``numpy.take`` of the method names."""
    import pandas as pd

    from gigawatt.models.ampacity import AMPACITY_METHODS, _canalis
    from gigawatt.solver.dc.ratings import line_ratings, method_names

    lines = _random_lines(np.random.default_rng(seed), n)
    codes = {f: (pd.Index(labels).get_indexer(lines[f].to_numpy()).astype(np.int64), labels)
             for f, labels in (("kind", ("cable", "busway", "busbar", "")),
                               ("material", ("copper", "aluminium", "")))}
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(_canalis(lines, codes), _canalis(lines))
        rating = np.full(n, np.nan)
        code = np.zeros(n, dtype=np.int8)
        for k, func in enumerate(AMPACITY_METHODS.values(), start=1):
            got = func(lines)
            take = np.isnan(rating) & np.isfinite(got)
            rating[take], code[take] = got[take], k
    want = np.array(["", *AMPACITY_METHODS]).take(code)
    for got in (line_ratings(lines, codes), line_ratings(lines)):
        np.testing.assert_array_equal(got[0], rating)
        assert got[1].dtype == want.dtype
        np.testing.assert_array_equal(got[1], want)
    np.testing.assert_array_equal(method_names(code[::-1].copy()), want[::-1])
