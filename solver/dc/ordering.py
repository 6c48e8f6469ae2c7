"""Numba kernels of the DC assembly: zones, breadth-first solve order and tree lines of the buses, in O(N).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).
They release the GIL: a worker thread finds the case's other figures meanwhile
(:mod:`gigawatt.solver.dc.case_figures`).

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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def zones_by_union(n, frm, to):
    """:func:`zones_of` by union-find over the lines (R. E. Tarjan, "Efficiency of a good but not linear set
    union algorithm", J. ACM 22(2), 215–225, 1975, https://doi.org/10.1145/321879.321884): one pass over the
    lines in their order, then one over the buses, instead of a breadth-first search scattered over the
    adjacency. Each set's root is its lowest bus row (the higher root is joined under the lower, paths
    halved), so numbering the roots in bus order numbers the zones as :func:`zones_of` does."""
    root = np.arange(n)
    for e in range(frm.size):
        a, b = frm[e], to[e]
        while root[a] != a:  # path halving
            root[a] = root[root[a]]
            a = root[a]
        while root[b] != b:
            root[b] = root[root[b]]
            b = root[b]
        if a < b:
            root[b] = a
        elif b < a:
            root[a] = b
    zone = np.empty(n, dtype=np.int64)
    count = 0
    for v in range(n):  # a root is below every bus of its set: its zone is numbered first
        r = root[v]
        if r == v:
            zone[v] = count
            count += 1
        else:
            while root[r] != r:
                r = root[r]
            zone[v] = zone[r]
    return count, zone


@njit(cache=True, nogil=True)
def rows_and_zones(n, frm, to):
    """:func:`line_rows` by ``frm`` and by ``to`` (the six arrays ``from_start, from_line, from_end, to_start,
    to_line, to_end``) and the zones (count, zone of each bus row, as :func:`zones_of` numbers them; found by
    :func:`zones_by_union`): what the assembly asks first, as one kernel for Python to call (one cache load in
    a fresh process instead of two)."""
    from_start, from_line, from_end = line_rows(n, frm, to)
    to_start, to_line, to_end = line_rows(n, to, frm)
    count, zone = zones_by_union(n, frm, to)
    return from_start, from_line, from_end, to_start, to_line, to_end, count, zone


@njit(cache=True, nogil=True)
def tree_order(n, g, roots, zone_of_row, zone_key, from_start, from_line, from_end, to_start, to_line, to_end):
    """Solver order and spanning tree of ``n`` buses joined by lines of conductance ``g`` [S];
    ``from_*``/``to_*``: :func:`line_rows` of the lines by their from and by their to bus row.

    ``roots`` (ascending bus rows) start the search, one per zone; ``zone_key`` (per zone of ``zone_of_row``)
    orders the zones for the solve (deepest level first), each zone's buses in breadth-first order.

    Returns ``bus_row`` (position → bus row), ``pred_row`` (the parent's bus row per position, ``n`` at a
    root), ``g_parent`` [S] (per position: every line between the bus and its parent, in parallel),
    ``tree_line`` (per position: the first such line, an index into ``g``; −1 at a root) and ``in_tree``
    (per line: joins a bus to its parent; the others are the links that close rings).
    """
    m = g.size
    pred = np.full(n, -1, dtype=np.int64)
    # The roots by zone key (a stable insertion sort: few), each key's buses found by one breadth-first search
    # from its roots, in key order: the order of one search from all the roots stably sorted by key, since a
    # search never leaves its zone.
    by_key = roots.copy()
    for a in range(1, by_key.size):
        r = by_key[a]
        b = a - 1
        while b >= 0 and zone_key[zone_of_row[by_key[b]]] > zone_key[zone_of_row[r]]:
            by_key[b + 1] = by_key[b]
            b -= 1
        by_key[b + 1] = r
    for r in roots:
        pred[r] = n
    bus_row = np.empty(n, dtype=np.int64)
    end = 0
    a = 0
    while a < by_key.size:
        head = end
        key = zone_key[zone_of_row[by_key[a]]]
        while a < by_key.size and zone_key[zone_of_row[by_key[a]]] == key:
            bus_row[end] = by_key[a]
            end += 1
            a += 1
        while head < end:  # breadth first: each bus found is the parent of those it finds
            end = _reach(bus_row[head], pred, bus_row[head], bus_row, end, from_start, from_end, to_start, to_end)
            head += 1
    bus_row = bus_row[:end]

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


@njit(cache=True, nogil=True)
def network_arrays(bus_row, pred_row, g_parent, tree_edge, in_tree, live, frm, to, g, zone_of_row, zone_level,
                   fixed_row, v_fixed, zone_v, v_nominal_row, f_bus, f_k, f_vset, frm_all, to_all, in_service,
                   pos_idx, bus_row_idx, tree_line_idx, zone_idx, level_idx, line_from_idx, line_to_idx):
    """The solver's arrays in solve order from :func:`tree_order`'s (``bus_row``, ``pred_row``, ``g_parent``,
    ``tree_edge``, ``in_tree``; the in-service lines ``live`` with ends ``frm``, ``to`` and conductances ``g``),
    in a few passes instead of one NumPy temporary per step (the same numbers, element by element, and sums in
    the order ``numpy.bincount`` takes them).

    ``*_idx``: preallocated index outputs (int32 below 2³¹ buses): position of each bus row, ``bus_row``, the
    line-table row of each tree edge (−1 at roots), zone and level per position, each line's end positions
    (−1 out of service). Returns ``pos`` (int64), ``parent`` and ``up`` (int32), ``fixed``, ``v_nominal``,
    ``v_start``, ``k_droop``, ``kv_droop``, ``g_couple``, the zones' ``start``, ``end``, ``link_start``,
    ``link_end``, lowest nominal voltage, largest Σ g + K and level, and the links (``link_a``, ``link_b``,
    ``link_g``, ``link_line``) grouped by zone."""
    n = bus_row.size
    pos = np.empty(n, dtype=np.int64)
    for i in range(n):
        pos[bus_row[i]] = i
        pos_idx[bus_row[i]] = i
        bus_row_idx[i] = bus_row[i]
    parent = np.empty(n, dtype=np.int32)
    up = np.empty(n, dtype=np.int32)
    fixed = np.zeros(n, dtype=np.bool_)
    v_nominal = np.empty(n)
    v_start = np.empty(n)
    # The zones in solve order, each a run of positions: its start, end, level and rank (by zone of bus row).
    n_all = zone_level.size
    zone_start = np.empty(n_all, dtype=np.int64)
    zone_end = np.empty(n_all, dtype=np.int64)
    zone_rank = np.empty(n_all, dtype=np.int64)
    zone_lev = np.empty(n_all, dtype=np.int64)
    n_zone = 0
    last = -1
    for i in range(n):  # as few reads by bus row as can be (bus_row is scattered over the rows)
        r = bus_row[i]
        p_row = pred_row[i]
        if p_row == n:
            parent[i], up[i], tree_line_idx[i] = -1, i, -1
        else:
            p = pos[p_row]
            parent[i], up[i] = p, p
            tree_line_idx[i] = live[tree_edge[i]]
        v_nominal[i] = v_nominal_row[r]
        z = zone_of_row[r]
        if z != last:
            if n_zone > 0:
                zone_end[n_zone - 1] = i
            zone_start[n_zone], zone_rank[z], zone_lev[n_zone] = i, n_zone, zone_level[z]
            n_zone += 1
            last = z
        v_start[i] = zone_v[z]
        level_idx[i] = zone_level[z]
        zone_idx[i] = n_zone - 1
    if n_zone > 0:
        zone_end[n_zone - 1] = n
    zone_start, zone_end, zone_lev = zone_start[:n_zone], zone_end[:n_zone], zone_lev[:n_zone]
    for r in range(fixed_row.size):  # the stiff buses, few: their set-points
        if fixed_row[r]:
            fixed[pos[r]] = True
            v_start[pos[r]] = v_fixed[r]
    # The links (lines not in the tree), grouped by zone in line order: a stable counting sort.
    link_start = np.zeros(n_zone + 1, dtype=np.int64)
    for e in range(in_tree.size):
        if not in_tree[e]:
            link_start[zone_rank[zone_of_row[frm[e]]] + 1] += 1
    for z in range(n_zone):
        link_start[z + 1] += link_start[z]
    k = link_start[n_zone]
    link_a = np.empty(k, dtype=np.int64)
    link_b = np.empty(k, dtype=np.int64)
    link_g = np.empty(k)
    link_line = np.empty(k, dtype=np.int64)
    fill = link_start[:-1].copy()
    for e in range(in_tree.size):
        if not in_tree[e]:
            z = zone_rank[zone_of_row[frm[e]]]
            j = fill[z]
            link_a[j], link_b[j], link_g[j], link_line[j] = pos[frm[e]], pos[to[e]], g[e], live[e]
            fill[z] += 1
    # Droop per bus, and each bus's Σ g + K, summed as the bincounts of the NumPy assembly summed them.
    k_droop = np.zeros(n)
    kv_droop = np.zeros(n)
    for j in range(f_bus.size):
        b = pos[f_bus[j]]
        k_droop[b] += f_k[j]
        kv_droop[b] += f_k[j] * f_vset[j]
    child = np.zeros(n)
    for i in range(n):
        child[max(parent[i], 0)] += g_parent[i]
    at_a = np.zeros(n)
    at_b = np.zeros(n)
    for l in range(k):
        at_a[link_a[l]] += link_g[l]
        at_b[link_b[l]] += link_g[l]
    g_couple = np.empty(n)
    zone_v_nominal = np.empty(n_zone)
    zone_g_max = np.empty(n_zone)
    for z in range(n_zone):
        lo, hi = np.nan, np.nan
        for i in range(zone_start[z], zone_end[z]):
            g_sum = k_droop[i] + g_parent[i] + child[i] + at_a[i] + at_b[i]
            vn = v_nominal[i]
            if i == zone_start[z]:
                lo, hi = vn, g_sum
            else:  # as numpy.minimum / maximum: a NaN stays
                if lo == lo and not vn >= lo:
                    lo = vn
                if hi == hi and not g_sum <= hi:
                    hi = g_sum
            g_couple[i] = g_parent[i] if parent[i] >= 0 and not fixed[i] and not fixed[up[i]] else 0.0
        zone_v_nominal[z], zone_g_max[z] = lo, hi
    for e in range(in_service.size):
        line_from_idx[e] = pos[frm_all[e]] if in_service[e] else -1
        line_to_idx[e] = pos[to_all[e]] if in_service[e] else -1
    return (pos, parent, up, fixed, v_nominal, v_start, k_droop, kv_droop, g_couple, zone_start, zone_end,
            link_start[:-1].copy(), link_start[1:].copy(), zone_v_nominal, zone_g_max, zone_lev, link_a, link_b,
            link_g, link_line)


@njit(cache=True, nogil=True)
def line_loop_resistances(in_service, material, rho_of, alpha_of, rho20, alpha, r_given, area, length, temp,
                          loop_factor, n_parallel, t20, frm, to):
    """Loop resistance [Ω] of every line (NaN out of service) in one pass, with the GIL released: the case's
    ``r_given`` where it is a number, else ``loop_factor`` ρ(T) L / (A n_parallel) with ρ(T) = ρ20 (1 + α (T −
    ``t20``)) and ρ20, α the line's own or, where NaN, its material's (``rho_of[material]``, ``alpha_of[...]``;
    code −1 takes their last entry). The same arithmetic, element by element and in the same order, as
    :func:`gigawatt.solver.dc.assembly.line_resistance` (:func:`gigawatt.models.conductors.conductor_resistance`),
    so the same numbers; the tests compare the two.

    Returns ``(r, missing, self_loop)``: the resistances, the first in-service line with neither ``r_given``
    nor ``area`` and the first in-service line whose ends ``frm``, ``to`` are one bus (−1 where none)."""
    m = in_service.size
    r = np.full(m, np.nan)
    missing, self_loop = -1, -1
    for e in range(m):
        if not in_service[e]:
            continue
        if frm[e] == to[e] and self_loop < 0:
            self_loop = e
        if r_given[e] == r_given[e]:
            r[e] = r_given[e]
            continue
        if area[e] != area[e]:
            if missing < 0:
                missing = e
            continue
        rho = rho20[e] if rho20[e] == rho20[e] else rho_of[material[e]]
        a = alpha[e] if alpha[e] == alpha[e] else alpha_of[material[e]]
        rho_t = rho * (1.0 + a * (temp[e] - t20))
        r[e] = loop_factor[e] * rho_t * length[e] / (area[e] * n_parallel[e])
    return r, missing, self_loop


@njit(cache=True, nogil=True)
def rack_loads(pos, rack_bus, p_in, rack_pos, rack_load):
    """Each rack's bus position (``pos[rack_bus]``, into the preallocated ``rack_pos``) and each position's
    rack input power [W] (``p_in`` summed per position into ``rack_load``, zeros on entry), in one pass: the
    numbers of ``numpy.bincount(rack_pos, weights=p_in)``, which adds the racks in the same order."""
    for j in range(rack_bus.size):
        b = pos[rack_bus[j]]
        rack_pos[j] = b
        rack_load[b] += p_in[j]
