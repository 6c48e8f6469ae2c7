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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from gigawatt.solver.dc.ordering import _SHORT_ROW, line_rows, tree_order, zones_of


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
    got = tree_order(n, g, roots, row_key, n_zone, *rows)
    for name, a, b in zip(("bus_row", "pred_row", "g_parent", "tree_line", "in_tree"), got, expected):
        np.testing.assert_array_equal(a, b, err_msg=name)  # bit for bit, g_parent included


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
