"""The assembly kernels of :mod:`gigawatt.solver.dc.ordering` against the SciPy routines they replace.

The reference below is the assembly's earlier way, kept here as the oracle: zones by
:func:`scipy.sparse.csgraph.connected_components`, the order by :func:`scipy.sparse.csgraph.breadth_first_order`
from a virtual super-root joined to one root per zone, the conductance to each parent from a running sum over
the lines sorted by (lower end, higher end). The kernels must give the same arrays to the last bit (so the
solver's results do not move), on random networks with several zones, parallel lines, rings, lines given in
either direction and in any order, and buses with more lines than the insertion sort takes.

Every test runs twice: jitted in this process, and as plain Python (``NUMBA_DISABLE_JIT=1``) in the
subprocess of ``tests/test_without_jit.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from gigawatt.solver.dc.ordering import (_SHORT_ROW, line_loop_resistances, line_rows, rows_and_zones, tree_order,
                                        zones_by_union, zones_of)


def reference(n, frm, to, g, roots_of_zone, row_key_of_zone):
    """Zones, order and tree as the assembly computed them with SciPy (see the module docstring)."""
    adj = coo_matrix((np.ones(frm.size), (frm, to)), shape=(n, n)).tocsr()
    n_zone, zone = connected_components(adj, directed=False)
    roots = np.sort(roots_of_zone(zone, n_zone))
    sup = n
    graph = coo_matrix((np.ones(frm.size + roots.size), (np.r_[frm, np.full(roots.size, sup)], np.r_[to, roots])),
                       shape=(n + 1, n + 1)).tocsr()
    bfs, pred = breadth_first_order(graph, sup, directed=False, return_predecessors=True)
    rank = np.empty(n, dtype=np.int64)
    rank[bfs[1:]] = np.arange(n)
    key = row_key_of_zone(n_zone)[zone]
    bus_row = np.lexsort((rank, key))
    pred_row = pred[bus_row]
    is_root = pred_row == sup
    line_key = np.minimum(frm, to).astype(np.int64) * (n + 1) + np.maximum(frm, to)
    child, par = bus_row[~is_root], pred_row[~is_root]
    tree_key = np.minimum(child, par).astype(np.int64) * (n + 1) + np.maximum(child, par)
    order = np.argsort(line_key, kind="stable")
    left = np.searchsorted(line_key[order], tree_key, side="left")
    right = np.searchsorted(line_key[order], tree_key, side="right")
    cum = np.r_[0.0, np.cumsum(g[order])]
    g_parent = np.zeros(n)
    g_parent[~is_root] = cum[right] - cum[left]
    tree_line = np.full(n, -1, dtype=np.int64)
    tree_line[~is_root] = order[left]
    covered = np.zeros(frm.size + 1, dtype=np.int64)
    np.add.at(covered, left, 1)
    np.add.at(covered, right, -1)
    in_tree = np.zeros(frm.size, dtype=bool)
    in_tree[order] = np.cumsum(covered)[:-1] > 0
    return n_zone, zone, roots, key, bus_row, np.where(is_root, n, pred_row), g_parent, tree_line, in_tree


def random_network(seed: int, n: int, zones: int, extra: int, star: int):
    """``zones`` random trees over ``n`` buses (shuffled numbering), ``extra`` more lines inside zones (rings
    and parallel lines), one bus joined to ``star`` others, every line in a random direction and order."""
    rng = np.random.default_rng(seed)
    label = rng.permutation(n)
    cut = np.sort(rng.choice(np.arange(1, n), zones - 1, replace=False))
    frm, to = [], []
    for part in np.split(np.arange(n), cut):
        for k in range(1, part.size):
            frm.append(part[k])
            to.append(part[rng.integers(0, k)])
        for _ in range(extra * part.size // n):
            if part.size > 1:
                a, b = rng.choice(part, 2, replace=False)
                frm.append(a)
                to.append(b)
        if part.size > star:  # a busbar feeding many rows, and a parallel line to one of them
            hub = part[0]
            for b in part[1:star + 1]:
                frm.append(b)
                to.append(hub)
            frm.append(hub)
            to.append(part[1])
    frm, to = label[np.array(frm, dtype=np.int64)], label[np.array(to, dtype=np.int64)]
    flip = rng.random(frm.size) < 0.5
    frm, to = np.where(flip, to, frm), np.where(flip, frm, to)
    order = rng.permutation(frm.size)
    g = rng.uniform(0.5, 2e3, frm.size)
    return frm[order].astype(np.int64), to[order].astype(np.int64), g[order], rng


CASES = [(1, 40, 1, 10, 3), (2, 300, 4, 60, 25), (3, 2000, 7, 200, 40), (4, 50, 50, 0, 1), (5, 500, 1, 0, 0)]


@pytest.mark.parametrize("seed,n,zones,extra,star", CASES)
def test_same_zones_order_and_tree_as_scipy(seed, n, zones, extra, star):
    frm, to, g, rng = random_network(seed, n, zones, extra, star)

    def roots_of_zone(zone, n_zone):  # any bus of each zone
        return np.array([rng.choice(np.flatnonzero(zone == z)) for z in range(n_zone)], dtype=np.int64)

    zone_levels = rng.integers(0, 3, size=n)

    def row_key_of_zone(n_zone):  # zones grouped by a level, deepest first, then by number
        key = np.empty(n_zone, dtype=np.int64)
        key[np.lexsort((np.arange(n_zone), -zone_levels[:n_zone]))] = np.arange(n_zone)
        return key

    n_zone, zone, roots, row_key, *expected = reference(n, frm, to, g, roots_of_zone, row_key_of_zone)
    rows = line_rows(n, frm, to) + line_rows(n, to, frm)
    got_zones = zones_of(n, *rows)
    assert got_zones[0] == n_zone
    np.testing.assert_array_equal(got_zones[1], zone)
    got = tree_order(n, g, roots, zone, row_key_of_zone(n_zone), *rows)
    for name, a, b in zip(("bus_row", "pred_row", "g_parent", "tree_line", "in_tree"), got, expected):
        np.testing.assert_array_equal(a, b, err_msg=name)  # bit for bit, g_parent included
    fused = rows_and_zones(n, frm, to)  # the assembly's one kernel: the same rows and zones
    for a, b in zip(fused, (*rows, *got_zones)):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_zones_by_union_number_the_zones_as_scipy(n, data):
    # Any lines (parallel, in either direction, in any order; isolated buses and self-loops too): the zones of
    # the union-find are scipy's connected components, numbered the same way (by their lowest bus row).
    m = data.draw(st.integers(0, 2 * n))
    frm = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    to = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    n_zone, zone = connected_components(coo_matrix((np.ones(m), (frm, to)), shape=(n, n)).tocsr(), directed=False)
    got = zones_by_union(n, frm, to)
    assert got[0] == n_zone
    np.testing.assert_array_equal(got[1], zone)
    np.testing.assert_array_equal(got[1], zones_of(n, *line_rows(n, frm, to), *line_rows(n, to, frm))[1])


def test_long_rows_are_sorted_like_short_ones():
    # A bus with more lines than the insertion sort takes is sorted by np.sort on (other end, line): the
    # same order, ties between parallel lines kept in line order.
    m = 3 * _SHORT_ROW
    head = np.zeros(m, dtype=np.int64)
    other = np.r_[np.arange(m // 2, 0, -1), np.arange(1, m // 2 + 1)].astype(np.int64)  # each end twice
    start, line, end = line_rows(m // 2 + 1, head, other)
    assert start[0] == 0 and start[1] == m
    expected = np.lexsort((np.arange(m), other))
    np.testing.assert_array_equal(line, expected)
    np.testing.assert_array_equal(end, other[expected])


def numpy_network_arrays(bus_row, pred_row, g_parent, tree_edge, in_tree, live, frm, to, g, zone_of_row, zone_level,
                         fixed_row, v_fixed, zone_v, v_nominal_row, f_bus, f_k, f_vset, frm_all, to_all, in_service):
    """The assembly's earlier NumPy steps after the tree (the oracle of :func:`network_arrays`)."""
    n = bus_row.size
    is_root = pred_row == n
    tree_line = np.full(n, -1, dtype=np.int64)
    tree_line[~is_root] = live[tree_edge[~is_root]]
    pos = np.empty(n, dtype=np.int64)
    pos[bus_row] = np.arange(n)
    parent = np.where(is_root, -1, pos[np.where(is_root, 0, pred_row)]).astype(np.int32)
    zone_pos = zone_of_row[bus_row]
    zone_start = np.flatnonzero(np.r_[True, zone_pos[1:] != zone_pos[:-1]])
    zone_end = np.r_[zone_start[1:], n]
    zone_rank = np.empty(zone_level.size, dtype=np.int64)
    zone_rank[zone_pos[zone_start]] = np.arange(zone_start.size)
    link_zone = zone_rank[zone_of_row[frm[~in_tree]]]
    lorder = np.argsort(link_zone, kind="stable")
    link_a, link_b, link_g = pos[frm[~in_tree]][lorder], pos[to[~in_tree]][lorder], g[~in_tree][lorder]
    link_line = live[~in_tree][lorder]
    level_pos = zone_level[zone_pos]
    v_nominal = v_nominal_row[bus_row]
    fb = pos[f_bus]
    k_droop = np.bincount(fb, weights=f_k, minlength=n)
    kv_droop = np.bincount(fb, weights=f_k * f_vset, minlength=n)
    v_start = np.where(fixed_row, v_fixed, zone_v[zone_of_row])[bus_row]
    g_sum = (k_droop + g_parent + np.bincount(np.maximum(parent, 0), weights=g_parent, minlength=n)
             + np.bincount(link_a, weights=link_g, minlength=n) + np.bincount(link_b, weights=link_g, minlength=n))
    fixed = fixed_row[bus_row]
    up = np.where(parent >= 0, parent, np.arange(n)).astype(parent.dtype)
    arrays = {
        "pos": pos, "parent": parent, "up": up, "fixed": fixed, "v_nominal": v_nominal, "v_start": v_start,
        "k_droop": k_droop, "kv_droop": kv_droop,
        "g_couple": np.where((parent >= 0) & ~fixed & ~fixed[up], g_parent, 0.0),
        "zone_start": zone_start, "zone_end": zone_end,
        "link_start": np.searchsorted(link_zone[lorder], np.arange(zone_start.size), side="left"),
        "link_end": np.searchsorted(link_zone[lorder], np.arange(zone_start.size), side="right"),
        "zone_v_nominal": np.minimum.reduceat(v_nominal, zone_start),
        "zone_g_max": np.maximum.reduceat(g_sum, zone_start), "zone_lev": level_pos[zone_start],
        "link_a": link_a, "link_b": link_b, "link_g": link_g, "link_line": link_line,
    }
    index = {"pos": pos, "bus_row": bus_row, "tree_line": tree_line,
             "zone": np.repeat(np.arange(zone_start.size), zone_end - zone_start), "level": level_pos,
             "line_from": np.where(in_service, pos[np.maximum(frm_all, 0)], -1),
             "line_to": np.where(in_service, pos[np.maximum(to_all, 0)], -1)}
    return arrays, index


@pytest.mark.parametrize("seed,n,zones,extra,star", CASES)
@pytest.mark.parametrize("idx", [np.int32, np.int64])
def test_network_arrays_equal_the_numpy_assembly(seed, n, zones, extra, star, idx):
    """:func:`network_arrays` gives the arrays the assembly's NumPy steps gave, bit for bit and of the same
    types, with lines out of service, stiff and droop feeds, several levels and rings."""
    from gigawatt.solver.dc.ordering import network_arrays

    frm_all, to_all, g_all, rng = random_network(seed, n, zones, extra, star)
    in_service = rng.random(frm_all.size) > 0.1
    live = np.flatnonzero(in_service)
    frm, to, g = frm_all[live], to_all[live], g_all[live]
    rows = line_rows(n, frm, to) + line_rows(n, to, frm)
    n_zone, zone_of_row = zones_of(n, *rows)
    zone_of_row = zone_of_row.astype(np.int32)
    roots = np.array(sorted(int(rng.choice(np.flatnonzero(zone_of_row == z))) for z in range(n_zone)), np.int64)
    zone_level = rng.integers(0, 3, n_zone)
    key = np.empty(n_zone, dtype=np.int64)
    key[np.lexsort((np.arange(n_zone), -zone_level))] = np.arange(n_zone)
    bus_row, pred_row, g_parent, tree_edge, in_tree = tree_order(n, g, roots, zone_of_row, key, *rows)
    n_feed = 2 * n_zone + 3
    f_bus = rng.integers(0, n, n_feed)
    f_k = np.where(rng.random(n_feed) < 0.5, 0.0, rng.uniform(1e2, 1e5, n_feed))
    f_vset = rng.uniform(700.0, 900.0, n_feed)
    fixed_row = np.zeros(n, dtype=bool)
    fixed_row[f_bus[f_k == 0.0]] = True
    v_fixed = np.where(fixed_row, rng.uniform(700.0, 900.0, n), np.nan)
    zone_v = rng.uniform(700.0, 900.0, n_zone)
    v_nominal_row = rng.choice([800.0, 400.0, np.nan], n, p=[0.6, 0.39, 0.01])
    args = (bus_row, pred_row, g_parent, tree_edge, in_tree, live, frm, to, g, zone_of_row, zone_level, fixed_row,
            v_fixed, zone_v, v_nominal_row, f_bus, f_k, f_vset, frm_all, to_all, in_service)
    want, want_index = numpy_network_arrays(*args)
    got_index = {k: np.empty(n if k not in ("line_from", "line_to") else frm_all.size, dtype=idx)
                 for k in ("pos", "bus_row", "tree_line", "zone", "level", "line_from", "line_to")}
    got = network_arrays(*args, *got_index.values())
    for (name, a), b in zip(want.items(), got):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(b, a, err_msg=name)  # bit for bit (NaN where NumPy has NaN)
    for name, a in want_index.items():
        np.testing.assert_array_equal(got_index[name], a, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(0, 40), seed=st.integers(0, 2**32 - 1))
def test_line_loop_resistances_equal_line_resistance(m, seed):
    # The assembly's one-pass kernel against the NumPy model it replaces (line_resistance, which the thermal
    # iteration and the fault currents still use): the same resistances to the last bit, on lines with given
    # or missing r_ohm, resistivity and coefficient, known and unknown materials, out of service or not; the
    # same first line without r_ohm or cross-section, and the first self-loop.
    import pandas as pd

    from gigawatt.models.conductors import MATERIALS, T20_K
    from gigawatt.solver.dc.assembly import line_resistance

    rng = np.random.default_rng(seed)
    labels = (*MATERIALS, "")
    code = rng.integers(-1, len(labels), m)
    def maybe_nan(x, p):
        return np.where(rng.random(m) < p, np.nan, x)
    lines = pd.DataFrame({
        "id": [f"l{i}" for i in range(m)],
        "material": [labels[k] if k >= 0 else "unobtainium" for k in code],
        "rho20_ohm_m": maybe_nan(rng.uniform(1e-8, 3e-8, m), 0.7), "alpha_per_k": maybe_nan(rng.uniform(3e-3, 4.5e-3, m), 0.7),
        "r_ohm": maybe_nan(rng.uniform(1e-5, 1e-1, m), 0.6), "cross_section_m2": maybe_nan(rng.uniform(1e-5, 1e-2, m), 0.1),
        "length_m": rng.uniform(0.1, 500.0, m), "conductor_temp_k": rng.uniform(250.0, 400.0, m),
        "loop_factor": rng.choice([1.0, 2.0], m), "n_parallel": rng.integers(1, 5, m).astype(float)})
    in_service = rng.random(m) < 0.8
    frm = rng.integers(0, 6, m)
    to = rng.integers(0, 6, m)
    rho_of = np.array([MATERIALS[k]["rho20_ohm_m"] if k in MATERIALS else np.nan for k in labels] + [np.nan])
    alpha_of = np.array([MATERIALS[k]["alpha_per_k"] if k in MATERIALS else np.nan for k in labels] + [np.nan])
    r, missing, self_loop = line_loop_resistances(
        in_service, code.astype(np.int64), rho_of, alpha_of, *(lines[c].to_numpy(float) for c in (
            "rho20_ohm_m", "alpha_per_k", "r_ohm", "cross_section_m2", "length_m", "conductor_temp_k", "loop_factor",
            "n_parallel")), T20_K, frm, to)
    live = np.flatnonzero(in_service)
    no_r = np.isnan(lines["r_ohm"].to_numpy()) & np.isnan(lines["cross_section_m2"].to_numpy())
    assert missing == (int(live[no_r[live]][0]) if no_r[live].any() else -1)
    loops = live[frm[live] == to[live]]
    assert self_loop == (int(loops[0]) if loops.size else -1)
    if missing >= 0:
        with pytest.raises(Exception, match="cross_section_m2"):
            line_resistance(lines[in_service], (code[in_service], labels))
        return
    want = np.full(m, np.nan)
    if live.size:
        with np.errstate(all="ignore"):
            want[in_service] = line_resistance(lines[in_service], (code[in_service], labels))
    np.testing.assert_array_equal(r, want)  # bit for bit, NaN where NaN


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 50), m=st.integers(0, 80), seed=st.integers(0, 2**32 - 1))
def test_rack_loads_equal_numpy(n, m, seed):
    # The assembly's racks: their positions are pos[rack_bus] and each position's load is numpy.bincount of the
    # racks' input powers, to the last bit (several racks on one bus, buses without racks, int32 and int64).
    from gigawatt.solver.dc.ordering import rack_loads

    rng = np.random.default_rng(seed)
    pos = rng.permutation(n).astype(np.int64)
    rack_bus = rng.integers(0, n, m)
    p_in = rng.uniform(-1e5, 2e5, m) * 10.0 ** rng.integers(-6, 6, m)
    for idx in (np.int32, np.int64):
        rack_pos, rack_load = np.empty(m, dtype=idx), np.zeros(n)
        rack_loads(pos, rack_bus, p_in, rack_pos, rack_load)
        np.testing.assert_array_equal(rack_pos, pos[rack_bus])
        np.testing.assert_array_equal(rack_load, np.bincount(pos[rack_bus], weights=p_in, minlength=n))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 50), seed=st.integers(0, 2**32 - 1))
def test_by_row_equals_numpy_gathers(n, seed):
    # The results' voltages, loads and levels by bus row: NumPy's gathers, value and type.
    from gigawatt.solver.dc.kernel import by_row

    rng = np.random.default_rng(seed)
    for idx in (np.int32, np.int64):
        pos = rng.permutation(n).astype(idx)
        v, p_load = rng.uniform(700.0, 900.0, n), np.where(rng.random(n) < 0.1, np.nan, rng.normal(0.0, 1e5, n))
        level = rng.integers(0, 3, n).astype(idx)
        for got, want in zip(by_row(pos, v, p_load, level), (v[pos], p_load[pos], level[pos])):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
