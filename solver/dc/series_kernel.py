"""Numba kernel of a DC load-flow time series on a single-level monopolar network (no DC/DC converters).

Zones (buses joined by lines, each fed by its own stations) are independent of each other at every step, so
the kernel runs one zone per thread over *all* steps of a chunk: no per-step synchronisation, no per-step
Python. Per step and zone it

1. sums the racks' input powers into the bus loads: P_i = Σ_racks at i p_in,r [W] (rack order, as
   ``numpy.bincount`` does, so the loads are bit-identical to :func:`gigawatt.solver.dc.assembly.with_rack_power`),
   once per pattern of racks on a bus (:func:`gigawatt.solver.dc.series_batch.rack_patterns`; a campus has a
   handful);
2. solves Kirchhoff's law by Newton with :func:`gigawatt.solver.dc.kernel.newton_dc` (a zone without links:
   :func:`gigawatt.solver.dc.series_newton.newton_tree_run`, the same results bit for bit, with the predictor
   and the bus loads in its first sweep), warm-started from the previous steps' voltages (extrapolated in the
   zone's load, :func:`predict_start`); the zone's tolerance is
   that of :func:`gigawatt.solver.dc.kernel.newton_zones` (``tol_rel`` × Σ|P|/V_nominal [A], floored at the
   rounding level). When the start already meets it, the step costs one mismatch pass and zero iterations.
   A start that fails is retried once from the set-points, as a cold solve would start;
3. computes what :func:`gigawatt.solver.dc.loadflow.feed_powers` computes: droop feeds P = k·(v_set − V); stiff
   feeds share the zone's draw (loads + line losses − droop feeds) by their current balances, the rounding
   remainder by rating;
4. updates the period's extremes: lowest voltage per bus and largest |I| = |V_from − V_to|/R per line, with
   the (first) step where each occurs, and the step's lowest per-unit voltage with its bus (lowest bus-table
   row on ties, as ``numpy.argmin`` over the bus table).

Outputs per (step, zone) and (step, feed) go to arrays the caller reduces; a zone that does not converge
stops there (``status`` ≠ 0 at that step, −1 after it). A step whose rack loads in a zone equal the previous
step's (bit for bit; tested per rack type of the zone) repeats that step's results with zero iterations:
exactly what Newton would return, since its first mismatch pass at those voltages is the last pass of the
previous step. Nothing else is remembered between steps: a load that never repeats (a coupled year's) costs
what the profile's loads cost.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from gigawatt.solver.dc.kernel import STATUS_CONVERGED, newton_dc
from gigawatt.solver.dc.series_newton import newton_tree_run, ready_blocks

NOT_RUN = -1
PREDICT_MAX_RATIO = 2.0
"""Largest load-change ratio r the voltage predictor extrapolates with (see :func:`predict_start`)."""


@njit(cache=True, parallel=True, error_model="numpy")
def series_zones(zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max, parent, up, g_parent,
                 g_couple, link_a, link_b, link_g, fixed, v_start, k_droop, kv_droop, tol_rel, max_iter, bus_rack_ptr,
                 rack_type, load_by_type, load_by_type_t, feed_ptr, feed_bus, feed_stiff, feed_k, feed_v_set,
                 feed_rated, feed_rated_bus, line_ptr, line_list, line_from, line_to, line_r, v_nominal, bus_row, step0,
                 v, v_prev, load_hist, p_load, i_fixed, work, scratch, status, iterations, worst, zone_load, zone_loss,
                 vmin_pu, vmin_row, feed_p, feed_v, bus_vmin, bus_vmin_step, line_imax, line_imax_step, tree_r,
                 tree_dv_max, tree_imax, tree_imax_step, blocks, block_ptr, bus_pattern, pattern_ptr, pattern_type,
                 zone_pattern_ptr):
    """Solve every step of ``load_by_type`` (steps × rack types, rack input power [W]) zone by zone, in
    parallel over zones (see the module notes); ``load_by_type_t``: the same, transposed (C-contiguous).
    ``bus_rack_ptr``: CSR ranges of each bus's racks (into
    ``rack_type``, in rack-table order on each bus); ``feed_ptr``, ``line_ptr``: of each zone's feeds and
    lines followed apart (``line_list``: links and parallel lines); every other in-service line is the only line
    from a bus to its parent and is followed at that bus (``tree_r`` [Ω], NaN elsewhere; ``tree_dv_max``,
    ``tree_imax``, ``tree_imax_step``: see :func:`_ledger_buses_lines`).
    ``v`` [V] holds the warm start and is left at the last step's solution; ``step0`` is the global index of
    the chunk's first step (for the ``*_step`` extremes). A zone without links is solved by
    :func:`gigawatt.solver.dc.series_newton.newton_tree` with its blocks ``blocks[block_ptr[z]:block_ptr[z + 1]]``
    (:func:`~gigawatt.solver.dc.series_newton.tree_blocks`), the others by ``newton_dc``: the same results.
    ``bus_pattern``: each bus's pattern of racks, a sequence of rack types (``pattern_type[pattern_ptr[j]:
    pattern_ptr[j + 1]]``, in the bus's rack order), those of zone z numbered ``zone_pattern_ptr[z]`` to
    ``zone_pattern_ptr[z + 1] − 1``: a step's bus loads are summed once per pattern, not once per bus."""
    n_steps = load_by_type.shape[0]
    pattern_load = np.empty(pattern_ptr.size - 1)  # [W] a step's load of each pattern (zones: disjoint ranges)
    for z in prange(zone_start.size):
        b0, b1 = zone_start[z], zone_end[z]
        l0, l1 = zone_link_start[z], zone_link_end[z]
        za, zb, zg = link_a[l0:l1], link_b[l0:l1], link_g[l0:l1]
        floor = 8.0 * np.finfo(np.float64).eps * zone_v_nominal[z] * zone_g_max[z]
        droop = False  # whether a bus of the zone has droop sources (newton_tree reads K and KV only then)
        for i in range(b0, b1):
            droop |= k_droop[i] != 0.0 or kv_droop[i] != 0.0
        tree = l1 == l0
        tree_z = blocks[block_ptr[z]:block_ptr[z + 1]]
        fixed_at = np.nonzero(fixed[b0:b1])[0] + b0
        ready = ready_blocks(tree_z, up)
        vn = _common_nominal(v_nominal, b0, b1)
        types = _zone_types(zone_pattern_ptr[z], zone_pattern_ptr[z + 1], pattern_ptr, pattern_type,
                            load_by_type.shape[1])
        solve = np.ones(n_steps, dtype=np.bool_)  # False: the step repeats the previous one's loads
        for k in range(1, n_steps):
            solve[k] = not _same_loads(k, types, load_by_type)
        loads = _zone_loads(b0, b1, bus_rack_ptr, rack_type, load_by_type_t)
        for k in range(n_steps):
            if not solve[k]:
                _repeat_step(k, z, feed_ptr[z], feed_ptr[z + 1], status, iterations, worst, zone_load, zone_loss,
                             vmin_pu, vmin_row, feed_p, feed_v)
                # The history shifts as predict_start would shift it at r = 0 (equal loads); V_{k−1} is not
                # copied to v_prev, since with S_k = S_{k−1} the next step's ratio is 0 and never reads it.
                load_hist[z, 1], load_hist[z, 2] = load_hist[z, 0], load_hist[z, 2] + 1.0
                continue
            load = loads[k]
            tol_a = max(tol_rel * max(load / zone_v_nominal[z], 1e-6), floor)
            for j in range(zone_pattern_ptr[z], zone_pattern_ptr[z + 1]):
                acc = 0.0
                for q in range(pattern_ptr[j], pattern_ptr[j + 1]):
                    acc += load_by_type[k, pattern_type[q]]
                pattern_load[j] = acc
            if tree:  # the predictor in the first sweep, a block at a time
                st, it, w, _ = newton_tree_run(tree_z, ready, up, g_couple, g_parent, fixed_at, v, p_load, k_droop,
                                               kv_droop, droop, tol_a, max_iter, i_fixed, work, True,
                                               _predict_ratio(load_hist, z, load), v_prev, bus_pattern, pattern_load)
            else:
                _predict_with_loads(v, v_prev, load_hist, z, b0, b1, load, bus_pattern, pattern_load, p_load)
                st, it, w, _ = newton_dc(parent, up, g_parent, g_couple, za, zb, zg, fixed, v, p_load, k_droop,
                                         kv_droop, b0, b1, tol_a, max_iter, i_fixed, work, scratch)
            if st != STATUS_CONVERGED:  # retry from the set-points, where a cold solve starts
                for i in range(b0, b1):
                    v[i] = v_start[i]
                    work[3, i] = 0.0
                if tree:
                    st, it2, w, _ = newton_tree_run(tree_z, ready, up, g_couple, g_parent, fixed_at, v, p_load,
                                                    k_droop, kv_droop, droop, tol_a, max_iter, i_fixed, work, False,
                                                    0.0, v_prev, bus_pattern, pattern_load)
                else:
                    st, it2, w, _ = newton_dc(parent, up, g_parent, g_couple, za, zb, zg, fixed, v, p_load, k_droop,
                                              kv_droop, b0, b1, tol_a, max_iter, i_fixed, work, scratch)
                it += it2
            status[k, z], iterations[k, z], worst[k, z] = st, it, w
            if st != STATUS_CONVERGED:
                for kk in range(k + 1, n_steps):
                    status[kk, z] = NOT_RUN
                break
            _ledger_buses_lines(k, z, b0, b1, za, zb, zg, parent, g_parent, v, p_load, v_nominal, vn, bus_row, step0,
                                zone_load, zone_loss, vmin_pu, vmin_row, bus_vmin, bus_vmin_step, tree_r,
                                tree_dv_max, tree_imax, tree_imax_step)
            _feeds(k, feed_ptr[z], feed_ptr[z + 1], feed_bus, feed_stiff, feed_k, feed_v_set, feed_rated,
                   feed_rated_bus, v, i_fixed, zone_load[k, z] + zone_loss[k, z], feed_p, feed_v)
            _line_extremes(k, line_ptr[z], line_ptr[z + 1], line_list, line_from, line_to, line_r, step0, v,
                           line_imax, line_imax_step)


@njit(cache=True, error_model="numpy")
def predict_start(v, v_prev, load_hist, z, b0, b1, load):
    """Start zone z's Newton from the secant extrapolation of its last two solutions in its total load S =
    Σ|P_i| [W]: V⁰ = V_{k−1} + r·(V_{k−1} − V_{k−2}), r = (S_k − S_{k−1})/(S_{k−1} − S_{k−2}), when |r| ≤
    :data:`PREDICT_MAX_RATIO` (else V⁰ = V_{k−1}). Under a uniform scaling of the loads the voltage drops are
    nearly linear in S, so this start is off by O(ΔS²) instead of O(ΔS), and Newton usually meets the tolerance
    after one iteration instead of two; the answer is still Newton's, to the same tolerance. Shifts the history:
    ``v_prev`` ← V_{k−1}, ``load_hist[z]`` ← (S_k, S_{k−1}, count of solved steps)."""
    r = _predict_ratio(load_hist, z, load)
    for i in range(b0, b1):
        vi = v[i]
        v[i] = vi + r * (vi - v_prev[i])
        v_prev[i] = vi


@njit(cache=True, error_model="numpy")
def _predict_ratio(load_hist, z, load):
    """The ratio r of :func:`predict_start` for zone z at total load ``load`` [W]; shifts ``load_hist[z]``."""
    s1, s2, count = load_hist[z, 0], load_hist[z, 1], load_hist[z, 2]
    r = 0.0
    if count >= 2 and s1 != s2:
        r = (load - s1) / (s1 - s2)
        if not abs(r) <= PREDICT_MAX_RATIO:
            r = 0.0
    load_hist[z, 0], load_hist[z, 1], load_hist[z, 2] = load, s1, count + 1.0
    return r


@njit(cache=True, error_model="numpy")
def _zone_loads(b0, b1, bus_rack_ptr, rack_type, load_by_type_t):
    """The total load Σ_i |P_i| [W] of buses b0..b1-1 at every step of ``load_by_type_t`` (rack types × steps),
    P_i = Σ_racks at i p_in,r summed in rack order: each step's sum in bus order, as a pass per step would add
    it, but the steps side by side (loops over the steps the compiler vectorises, not one chain)."""
    n_steps = load_by_type_t.shape[1]
    out = np.zeros(n_steps)
    acc = np.empty(n_steps)
    for i in range(b0, b1):
        acc[:] = 0.0
        for r in range(bus_rack_ptr[i], bus_rack_ptr[i + 1]):
            row = load_by_type_t[rack_type[r]]
            for k in range(n_steps):
                acc[k] += row[k]
        for k in range(n_steps):
            out[k] += abs(acc[k])
    return out


@njit(cache=True, error_model="numpy")
def _predict_with_loads(v, v_prev, load_hist, z, b0, b1, load, bus_pattern, pattern_load, p_load):
    """:func:`predict_start` at total load ``load`` [W] (:func:`_zone_loads`), writing the step's bus loads
    P_i [W] (``pattern_load`` of each bus's pattern of racks: Σ_racks at i p_in,r in rack order) to ``p_load``
    in the same pass."""
    r = _predict_ratio(load_hist, z, load)
    for i in range(b0, b1):
        p_load[i] = pattern_load[bus_pattern[i]]
        vi = v[i]
        v[i] = vi + r * (vi - v_prev[i])
        v_prev[i] = vi


@njit(cache=True, error_model="numpy")
def _zone_types(j0, j1, pattern_ptr, pattern_type, n_types):
    """The rack types in patterns j0..j1-1 (a zone's), each once, ascending."""
    seen = np.zeros(n_types, dtype=np.bool_)
    for q in range(pattern_ptr[j0], pattern_ptr[j1]):
        seen[pattern_type[q]] = True
    return np.nonzero(seen)[0]


@njit(cache=True, error_model="numpy")
def _same_loads(k, types, load_by_type):
    """Whether every rack type of the zone (``types``) draws exactly what it drew at step k − 1 (so every rack)."""
    for t in types:
        if load_by_type[k, t] != load_by_type[k - 1, t]:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _common_nominal(v_nominal, b0, b1):
    """The nominal voltage [V] all buses b0..b1-1 share, or 0 if they do not share one."""
    vn = v_nominal[b0]
    for i in range(b0 + 1, b1):
        if v_nominal[i] != vn:
            return 0.0
    return vn if vn > 0.0 and np.isfinite(vn) else 0.0


@njit(cache=True, error_model="numpy")
def _repeat_step(k, z, f0, f1, status, iterations, worst, zone_load, zone_loss, vmin_pu, vmin_row, feed_p, feed_v):
    """Step k of zone z with the loads of step k − 1: the same solution (Newton would stop at its first
    mismatch pass, which is the last pass of step k − 1), zero iterations, extremes unchanged."""
    status[k, z], iterations[k, z], worst[k, z] = status[k - 1, z], 0, worst[k - 1, z]
    zone_load[k, z], zone_loss[k, z] = zone_load[k - 1, z], zone_loss[k - 1, z]
    vmin_pu[k, z], vmin_row[k, z] = vmin_pu[k - 1, z], vmin_row[k - 1, z]
    for f in range(f0, f1):
        feed_p[k, f], feed_v[k, f] = feed_p[k - 1, f], feed_v[k - 1, f]


@njit(cache=True, error_model="numpy")
def _ledger_buses_lines(k, z, b0, b1, za, zb, zg, parent, g_parent, v, p_load, v_nominal, vn, bus_row, step0, zone_load,
                        zone_loss, vmin_pu, vmin_row, bus_vmin, bus_vmin_step, tree_r, tree_dv_max, tree_imax,
                        tree_imax_step):
    """One pass over the zone's buses: its constant-power load and line loss Σ g·ΔV² [W] (summed as in
    ``newton_zones``), each bus's lowest voltage over the period, the step's lowest per-unit voltage with its
    bus-table row (the lowest row on ties), and :func:`_line_extremes` of the line from each bus to its parent
    where that line is followed here (``tree_r`` [Ω]): |I| = |V_i − V_parent|/R [A], the same numbers as
    |V_from − V_to|/R. Correctly rounded division is monotone in the dividend, so while |ΔV| ≤ ``tree_dv_max``
    (the |ΔV| of the largest |I| so far: −1 before the first step, +inf at a bus whose line is not followed
    here) the quotient cannot exceed the largest |I| so far and is not computed. Likewise, where the buses
    share one nominal voltage ``vn`` [V] (else 0), the lowest per-unit voltage is V_min/vn, and only buses
    within rounding of V_min can tie with it: no division a bus."""
    load, loss = 0.0, 0.0
    best, best_row = np.inf, -1
    v_low = np.inf
    for i in range(b0, b1):
        load += p_load[i]
        p = parent[i]
        vi = v[i]
        if p >= 0:
            dv = vi - v[p]
            loss += g_parent[i] * dv * dv
            a = abs(dv)
            if a > tree_dv_max[i]:
                c = a / tree_r[i]
                if c > tree_imax[i]:
                    tree_imax[i], tree_dv_max[i] = c, a
                    tree_imax_step[i] = step0 + k
        if vi < bus_vmin[i]:
            bus_vmin[i] = vi
            bus_vmin_step[i] = step0 + k
        if vn > 0.0:
            v_low = min(v_low, vi)
        else:
            pu = vi / v_nominal[i]
            row = bus_row[i]
            if pu < best or (pu == best and row < best_row):
                best, best_row = pu, row
    if vn > 0.0 and v_low < np.inf:
        best, best_row = v_low / vn, _lowest_row(v, vn, v_low, bus_row, b0, b1)
    for l in range(za.size):
        dv = v[za[l]] - v[zb[l]]
        loss += zg[l] * dv * dv
    zone_load[k, z], zone_loss[k, z] = load, loss
    vmin_pu[k, z], vmin_row[k, z] = best, best_row


@njit(cache=True, error_model="numpy")
def _lowest_row(v, vn, v_low, bus_row, b0, b1):
    """The lowest bus-table row among buses b0..b1-1 whose V/vn equals V_min/vn (``v_low`` = V_min [V]).
    Correctly rounded division is monotone, so those are the buses with V_min ≤ V ≤ V_hi, V_hi the largest
    double whose quotient still rounds to V_min/vn (found a double at a time: a few): comparisons only (the
    buses of identical rows end within rounding of each other)."""
    best = v_low / vn
    v_hi = v_low
    while True:
        up = np.nextafter(v_hi, np.inf)
        if not up / vn == best:
            break
        v_hi = up
    row = np.iinfo(np.int64).max
    for i in range(b0, b1):
        row = min(row, bus_row[i] if v[i] <= v_hi else row)
    return row


@njit(cache=True, error_model="numpy")
def _feeds(k, f0, f1, feed_bus, feed_stiff, feed_k, feed_v_set, feed_rated, feed_rated_bus, v, i_fixed, draw,
           feed_p, feed_v):
    """Output power [W] of the zone's feeds f0..f1-1 (:func:`gigawatt.solver.dc.loadflow.feed_powers`)."""
    droop, k_sum, any_stiff = 0.0, 0.0, False
    for f in range(f0, f1):
        b = feed_bus[f]
        feed_v[k, f] = v[b]
        if not feed_stiff[f]:
            p = feed_k[f] * (feed_v_set[f] - v[b])
            feed_p[k, f] = p
            droop += p
            k_sum += feed_k[f]
        else:
            any_stiff = True
    if not any_stiff and k_sum > 0:  # droop feeds alone deliver the draw: the common offset shared by k
        dv = (draw - droop) / k_sum
        for f in range(f0, f1):
            feed_p[k, f] = feed_p[k, f] + feed_k[f] * dv
        return
    estimate, rated = 0.0, 0.0
    for f in range(f0, f1):
        if feed_stiff[f]:
            b = feed_bus[f]
            share = feed_rated[f] / (feed_rated_bus[f] if feed_rated_bus[f] > 0 else 1.0)
            e = v[b] * i_fixed[b] * share
            feed_p[k, f] = e
            estimate += e
            rated += feed_rated[f]
    remainder = (draw - droop) - estimate
    for f in range(f0, f1):
        if feed_stiff[f]:
            feed_p[k, f] = feed_p[k, f] + remainder * feed_rated[f] / (rated if rated > 0 else 1.0)


@njit(cache=True, error_model="numpy")
def _line_extremes(k, e0, e1, line_list, line_from, line_to, line_r, step0, v, line_imax, line_imax_step):
    """Each line's largest |I| = |V_from − V_to|/R [A] over the period and its first step."""
    for e in range(e0, e1):
        j = line_list[e]
        c = abs((v[line_from[j]] - v[line_to[j]]) / line_r[j])
        if c > line_imax[j]:
            line_imax[j] = c
            line_imax_step[j] = step0 + k


@njit(cache=True, error_model="numpy")
def predict_zones(v, v_prev, load_hist, zone_start, zone_end, z0, z1, p_load):
    """:func:`predict_start` for zones z0..z1-1, each at its total load Σ|P_i| [W] summed as
    :func:`series_zones` sums it (the per-step path of :class:`gigawatt.solver.dc.series.DCSeries`)."""
    for z in range(z0, z1):
        load = 0.0
        for i in range(zone_start[z], zone_end[z]):
            load += abs(p_load[i])
        predict_start(v, v_prev, load_hist, z, zone_start[z], zone_end[z], load)
