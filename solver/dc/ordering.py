"""Numba kernels of the DC assembly: zones, breadth-first solve order and tree lines of the buses, in O(N).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).

The results are exactly those of the sparse-graph routines of SciPy they replace, which cost most of the
assembly at 10⁵ buses (matrix conversions, comparison sorts): zones numbered as
:func:`scipy.sparse.csgraph.connected_components` numbers them (in the order of their lowest bus), and the
order of :func:`scipy.sparse.csgraph.breadth_first_order` on the undirected graph of the lines with a virtual
super-root joined to each zone's root: from a bus, its neighbours over lines *from* it in ascending bus
order, then over lines *to* it in ascending bus order. The conductance to each parent is summed as before
(differences of one running sum over the lines in ascending (lower end, higher end, line)), so the assembled
arrays, and every result, stay the same to the last bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_SHORT_ROW = 16  # rows up to this many lines are sorted by insertion; longer ones (a switchboard) by np.sort


@njit(cache=True)
def line_rows(n, head, other):
    """The lines grouped by their ``head`` end (bus rows 0..n−1), each group ordered by the ``other`` end and
    then by line: ``start`` (n + 1; group u is ``line[start[u]:start[u + 1]]``), ``line`` and ``end`` (the
    other end of each, ``other[line]``)."""
    m = head.size
    start = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        start[head[e] + 1] += 1
    for u in range(n):
        start[u + 1] += start[u]
    fill = start[:-1].copy()
    line = np.empty(m, dtype=np.int64)
    for e in range(m):  # a counting sort: each group in line order
        line[fill[head[e]]] = e
        fill[head[e]] += 1
    for u in range(n):
        a, b = start[u], start[u + 1]
        if b - a <= _SHORT_ROW:
            for i in range(a + 1, b):  # stable: equal ends keep the line order
                e = line[i]
                j = i - 1
                while j >= a and other[line[j]] > other[e]:
                    line[j + 1] = line[j]
                    j -= 1
                line[j + 1] = e
        else:
            keys = np.empty(b - a, dtype=np.int64)
            for i in range(a, b):
                keys[i - a] = other[line[i]] * m + line[i]
            keys.sort()
            for i in range(a, b):
                line[i] = keys[i - a] % m
    return start, line, other[line]


@njit(cache=True, inline="always")
def _reach(u, mark, value, queue, end, from_start, from_end, to_start, to_end):
    """Mark each neighbour of ``u`` not marked yet (``mark < 0``) with ``value`` and append it to ``queue`` at
    ``end``, over the lines from ``u``, then over the lines to it (each group in ascending order); the new end."""
    for k in range(from_start[u], from_start[u + 1]):
        w = from_end[k]
        if mark[w] < 0:
            mark[w] = value
            queue[end] = w
            end += 1
    for k in range(to_start[u], to_start[u + 1]):
        w = to_end[k]
        if mark[w] < 0:
            mark[w] = value
            queue[end] = w
            end += 1
    return end


@njit(cache=True)
def zones_of(n, from_start, from_line, from_end, to_start, to_line, to_end):
    """Connected components of the buses over the lines: (count, zone of each bus row), numbered in the
    order of their lowest bus row. ``from_*``/``to_*``: :func:`line_rows` by ``frm`` and by ``to``."""
    zone = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    count = 0
    for v in range(n):
        if zone[v] >= 0:
            continue
        zone[v] = count
        queue[0] = v
        head, end = 0, 1
        while head < end:
            end = _reach(queue[head], zone, count, queue, end, from_start, from_end, to_start, to_end)
            head += 1
        count += 1
    return count, zone


@njit(cache=True)
def tree_order(n, g, roots, row_key, n_keys, from_start, from_line, from_end, to_start, to_line, to_end):
    """Solver order and spanning tree of ``n`` buses joined by lines of conductance ``g`` [S];
    ``from_*``/``to_*``: :func:`line_rows` of the lines by their from and by their to bus row.

    ``roots`` (ascending bus rows) start the search, one per zone; ``row_key`` (per bus row, 0..n_keys−1)
    groups the buses in solve order (zone by zone, deepest level first), keeping the breadth-first order
    within each group.

    Returns ``bus_row`` (position → bus row), ``pred_row`` (the parent's bus row per position, ``n`` at a
    root), ``g_parent`` [S] (per position: every line between the bus and its parent, in parallel),
    ``tree_line`` (per position: the first such line, an index into ``g``; −1 at a root) and ``in_tree``
    (per line: joins a bus to its parent; the others are the links that close rings).
    """
    m = g.size
    pred = np.full(n, -1, dtype=np.int64)
    found = np.empty(n, dtype=np.int64)
    end = 0
    for r in roots:
        pred[r] = n
        found[end] = r
        end += 1
    head = 0
    while head < end:  # breadth first: each bus found is the parent of those it finds
        end = _reach(found[head], pred, found[head], found, end, from_start, from_end, to_start, to_end)
        head += 1
    # Counting sort of the search order by group: stable, so each group keeps the breadth-first order.
    slot = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(end):
        slot[row_key[found[i]] + 1] += 1
    for k in range(n_keys):
        slot[k + 1] += slot[k]
    bus_row = np.empty(end, dtype=np.int64)
    for i in range(end):
        k = row_key[found[i]]
        bus_row[slot[k]] = found[i]
        slot[k] += 1

    # The lines in ascending (lower end u, higher end, line): for each u, the tail of its from-group (to > u)
    # merged with the tail of its to-group (frm > u). One running sum of their conductances: the lines between
    # a bus and its parent (a run in this order) are its tree edge, their conductance the sum's increase over
    # the run; the other lines are links.
    g_row = np.zeros(n)
    run_start = np.zeros(n)
    line_row = np.full(n, -1, dtype=np.int64)
    in_tree = np.zeros(m, dtype=np.bool_)
    total = 0.0
    for u in range(n):
        i, i_end = from_start[u], from_start[u + 1]
        while i < i_end and from_end[i] <= u:
            i += 1
        j, j_end = to_start[u], to_start[u + 1]
        while j < j_end and to_end[j] <= u:
            j += 1
        while i < i_end or j < j_end:
            take_from = j >= j_end
            if not take_from and i < i_end:
                a, b = from_end[i], to_end[j]
                take_from = a < b or (a == b and from_line[i] < to_line[j])
            if take_from:
                e, hi = from_line[i], from_end[i]
                i += 1
            else:
                e, hi = to_line[j], to_end[j]
                j += 1
            before = total
            total += g[e]
            child = u if pred[u] == hi else (hi if pred[hi] == u else -1)
            if child >= 0:
                if line_row[child] < 0:
                    line_row[child] = e
                    run_start[child] = before
                g_row[child] = total - run_start[child]
                in_tree[e] = True
    return bus_row, pred[bus_row], g_row[bus_row], line_row[bus_row], in_tree
