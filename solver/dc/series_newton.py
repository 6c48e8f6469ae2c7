"""Newton's method of :func:`gigawatt.solver.dc.kernel.newton_dc` for a zone without links (a tree), its sweeps
run block by block: the kernel of the time series (:mod:`gigawatt.solver.dc.series_kernel`).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).

In breadth-first order the buses of a campus come in long stretches where each bus's parent sits a fixed
distance s before it (a hall's rack taps, level by level: each tap's parent is the tap before it in its row,
one level, i.e. the number of rows, back): :func:`tree_blocks` cuts a zone into *affine* blocks [a, b) with
parent(i) = i − s, b − a ≤ s (so no bus of a block is the parent of another in it), and *general* blocks of
the other buses. On an affine block a sweep reads and writes its buses and their parents as two contiguous
slices, a loop the compiler vectorises (the divisions among them), where ``newton_dc`` goes through the parent
index one bus at a time; and the first sweep forms each bus's own terms and its branch in one pass
(:func:`terms`; K and KV not read in a zone without droop sources). Bus by bus the operations and their order
are ``newton_dc``'s (each bus's parent is in an earlier block; two buses with one parent are never in one affine
block), so the voltages, iterations and mismatch are the same bit for bit (tested against ``newton_dc`` on
random networks). Zones with links (rings) use ``newton_dc`` (its Woodbury correction).

Each sweep also does, while its data are in cache, what ``newton_dc`` does in passes of its own: the forward
sweep takes the convergence check block by block as soon as a block's rows are final (:func:`ready_blocks`),
the largest |F| found as the largest magnitude bit pattern (:func:`largest_mismatch`, vectorised; the worst
bus is looked up once, by :func:`worst_bus`); the elimination sees a bad pivot as it divides, the back
substitution a step that needs damping as it forms it; in the time series the first sweep also takes the
predictor and the bus loads (:func:`terms`). Same operations on each bus, so the same numbers.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.solver.dc.kernel import STATUS_CONVERGED, STATUS_MAX_ITERATIONS, STATUS_SINGULAR

MIN_AFFINE = 8
"""Fewest buses of an affine block (shorter stretches join the general blocks: a vector loop of a few buses
costs more than it saves)."""


@njit(cache=True)
def tree_blocks(up, start, end):
    """The blocks of buses start..end-1 (``up``: each bus's parent, a root its own): rows (a, b, s), in order,
    covering the buses; s > 0: parent(i) = i − s on [a, b) with b − a ≤ s and a − s ≥ start; s = 0: general."""
    out = np.empty((end - start, 3), dtype=np.int64)
    m = 0
    i = start
    while i < end:
        s = i - up[i]
        j = i + 1
        if s > 0:
            while j < end and j - i < s and j - up[j] == s:
                j += 1
        if s <= 0 or j - i < MIN_AFFINE:
            s = 0
        if s == 0 and m > 0 and out[m - 1, 2] == 0:
            out[m - 1, 1] = j
        else:
            out[m, 0], out[m, 1], out[m, 2] = i, j, s
            m += 1
        i = j
    return out[:m].copy()


@njit(cache=True, error_model="numpy")
def _terms_affine(fc, fp, dc, dp, vc, vp, xc, pc, kc, kvc, g, alpha):
    for i in range(fc.size):
        vi = vc[i] + alpha * xc[i]
        vc[i] = vi
        xc[i] = 0.0
        inv_v = 1.0 / vi
        net_load = pc[i] - kvc[i]
        gi = g[i]
        flow = gi * (vi - vp[i])
        fc[i] = (net_load * inv_v + kc[i]) + flow
        fp[i] -= flow
        dc[i] = -net_load * inv_v * inv_v + gi
        dp[i] += gi


@njit(cache=True, error_model="numpy")
def _terms_affine_no_droop(fc, fp, dc, dp, vc, vp, xc, pc, g, alpha):
    for i in range(fc.size):  # _terms_affine with K = KV = 0: the same operations, on constants
        vi = vc[i] + alpha * xc[i]
        vc[i] = vi
        xc[i] = 0.0
        inv_v = 1.0 / vi
        net_load = pc[i] - 0.0
        gi = g[i]
        flow = gi * (vi - vp[i])
        fc[i] = (net_load * inv_v + 0.0) + flow
        fp[i] -= flow
        dc[i] = -net_load * inv_v * inv_v + gi
        dp[i] += gi


@njit(cache=True, error_model="numpy")
def _gather_loads(pc, patc, pattern_load):
    for i in range(pc.size):
        pc[i] = pattern_load[patc[i]]


@njit(cache=True, error_model="numpy")
def _predict_affine(vc, vpc, xc, r):
    for i in range(vc.size):
        vi = vc[i]
        vc[i] = vi + r * (vi - vpc[i])
        vpc[i] = vi
        xc[i] = 0.0


@njit(cache=True)
def ready_blocks(blocks, up):
    """For each block c of :func:`tree_blocks`, the last block whose sweep changes F or the diagonal at a bus of
    blocks 0..c (the last block holding a child of one of their buses, or c): once the forward sweep is past it,
    those buses' rows are final (a running maximum, so ascending)."""
    n = blocks.shape[0]
    ready = np.arange(n)
    if n == 0:
        return ready
    start = blocks[0, 0]
    block_of = np.empty(blocks[-1, 1] - start, dtype=np.int64)
    for q in range(n):
        block_of[blocks[q, 0] - start:blocks[q, 1] - start] = q
    for i in range(start, blocks[-1, 1]):
        p = up[i]
        if p != i:
            qp = block_of[p - start]
            ready[qp] = max(ready[qp], block_of[i - start])
    for q in range(1, n):
        ready[q] = max(ready[q], ready[q - 1])
    return ready


@njit(cache=True, error_model="numpy")
def _check_block(a, b, f, f_bits, d, fixed_at, j, i_fixed, m):
    """:func:`largest_mismatch` on buses a..b-1 (whose rows are final), ``fixed_at[j:]`` the fixed buses from a
    on: returns the running largest magnitude bit pattern and the next fixed bus's index."""
    while j < fixed_at.size and fixed_at[j] < b:
        i = fixed_at[j]
        i_fixed[i] = f[i]
        f[i] = 0.0
        d[i] = 1.0
        j += 1
    for i in range(a, b):
        m = max(m, f_bits[i] & MAGNITUDE)
    return m, j


@njit(cache=True, error_model="numpy")
def terms(blocks, ready, alpha, up, g_parent, v, x, p_load, k_droop, kv_droop, droop, f, f_bits, d, fixed_at, i_fixed,
          predict, r, v_prev, bus_pattern, pattern_load):
    """``newton_dc``'s first sweep: V ← V + α·x (x cleared), each bus's own terms of F [A] and of the diagonal
    [S], then its branch to its parent: F_i += g(V_i − V_p), F_p −= the same, g to both diagonals; parents
    before children. ``droop``: whether any bus of the zone has droop sources (else K and KV are not read).
    ``predict``: each block's buses first take the time series' predictor (α must be 0): the start
    V⁰ = V + r·(V − V_prev) with V_prev ← V (:func:`gigawatt.solver.dc.series_kernel.predict_start`) and the bus
    loads from their racks' patterns, the same numbers as that pass over the zone before the sweep.
    Returns :func:`largest_mismatch`, taken block by block as soon as a block's rows are final
    (:func:`ready_blocks`), while they are in cache."""
    m, c, j = 0, 0, 0
    for q in range(blocks.shape[0]):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
        if predict:
            _gather_loads(p_load[a:b], bus_pattern[a:b], pattern_load)
            _predict_affine(v[a:b], v_prev[a:b], x[a:b], r)
        if s > 0 and droop:
            _terms_affine(f[a:b], f[a - s:b - s], d[a:b], d[a - s:b - s], v[a:b], v[a - s:b - s], x[a:b], p_load[a:b],
                          k_droop[a:b], kv_droop[a:b], g_parent[a:b], alpha)
        elif s > 0:
            _terms_affine_no_droop(f[a:b], f[a - s:b - s], d[a:b], d[a - s:b - s], v[a:b], v[a - s:b - s], x[a:b],
                                   p_load[a:b], g_parent[a:b], alpha)
        else:
            for i in range(a, b):
                vi = v[i] + alpha * x[i]
                v[i] = vi
                x[i] = 0.0
                inv_v = 1.0 / vi
                net_load = p_load[i] - kv_droop[i]
                f[i] = net_load * inv_v + k_droop[i]
                d[i] = -net_load * inv_v * inv_v
                p = up[i]  # a root is its own parent, with g = 0
                g = g_parent[i]
                flow = g * (v[i] - v[p])
                f[i] += flow
                f[p] -= flow
                d[i] += g
                d[p] += g
        while c <= q and ready[c] <= q:
            m, j = _check_block(blocks[c, 0], blocks[c, 1], f, f_bits, d, fixed_at, j, i_fixed, m)
            c += 1
    return _as_worst(m)


MAGNITUDE = 0x7FFFFFFFFFFFFFFF
"""The bits of a float64 but its sign: a non-negative double's bit pattern, as an int64, orders as the double,
+inf above every finite value and every NaN above +inf."""
INF_BITS = 0x7FF0000000000000


@njit(cache=True, error_model="numpy")
def _as_worst(m):
    """The largest |F| [A] of the largest magnitude bit pattern ``m``: infinite at a NaN."""
    if m >= INF_BITS:
        return np.inf
    return np.int64(m).view(np.float64)


@njit(cache=True, error_model="numpy")
def largest_mismatch(f, f_bits, d, fixed_at, i_fixed, start, end):
    """:func:`gigawatt.solver.dc.kernel.fixed_currents_and_worst` without the worst bus, with the fixed buses
    listed (``fixed_at``): each one's mismatch is its source current (``i_fixed``), its row the identity; returns
    the largest |F| of the others [A] (infinite at a NaN or infinite one), taken as the largest bit pattern of
    the magnitudes (``f_bits``: ``f`` seen as int64), a loop the compiler vectorises. Maxima are exact, so the
    same number."""
    return _as_worst(_check_block(start, end, f, f_bits, d, fixed_at, 0, i_fixed, 0)[0])


@njit(cache=True, error_model="numpy")
def worst_bus(f, start, end):
    """The bus ``fixed_currents_and_worst`` names after :func:`largest_mismatch` left ``f``: the first with the
    largest |F|, the last NaN if there is one, ``start`` if every |F| is 0."""
    worst, worst_i = 0.0, start
    for i in range(start, end):
        fi = f[i]
        if not abs(fi) <= worst:
            worst, worst_i = (abs(fi) if np.isfinite(fi) else np.inf), i
    return worst_i


@njit(cache=True, error_model="numpy")
def _eliminate_affine(fc, dc, dp, xc, xp, lo, gc):
    bad = False
    for i in range(fc.size):
        di = dc[i]
        inv_d = 1.0 / di
        bad |= not (np.isfinite(di) and np.isfinite(inv_d))
        g = gc[i]
        zi = xc[i] - fc[i]
        li = -g * inv_d
        lo[i] = li
        dp[i] -= g * g * inv_d
        xp[i] -= li * zi
        xc[i] = zi * inv_d
    return bad


@njit(cache=True, error_model="numpy")
def eliminate(blocks, up, g_couple, f, d, lo, x):
    """``newton_dc``'s elimination, children before parents: J_tree = L·D·Lᵀ, x ← D⁻¹L⁻¹(x − F) (``x`` zero
    on entry). Returns the singular bus (the first whose pivot is zero, not finite, or so small that its reciprocal
    overflows; −1 if none)."""
    bad = False  # a bad pivot seen as it is eliminated (see below)
    for q in range(blocks.shape[0] - 1, -1, -1):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
        if s > 0:
            bad |= _eliminate_affine(f[a:b], d[a:b], d[a - s:b - s], x[a:b], x[a - s:b - s], lo[a:b], g_couple[a:b])
        else:
            for i in range(b - 1, a - 1, -1):
                di = d[i]
                inv_d = 1.0 / di
                bad |= not (np.isfinite(di) and np.isfinite(inv_d))
                p = up[i]
                gc = g_couple[i]
                zi = x[i] - f[i]
                li = -gc * inv_d
                lo[i] = li
                d[p] -= gc * gc * inv_d
                x[p] -= li * zi
                x[i] = zi * inv_d
    # A bus's pivot is final once it is eliminated (only its parent's changes after), so the test as each is
    # eliminated finds a bad pivot when the final pivots have one: a root is its own parent with g = 0, whose
    # pivot turns NaN after its elimination only when 1/d overflowed there. The first bad bus, as newton_dc names
    # it, is then looked for in the final pivots: zero, not finite, or so small that its reciprocal overflows.
    if bad:
        for i in range(blocks[0, 0], blocks[-1, 1]):
            if not (np.isfinite(d[i]) and np.isfinite(1.0 / d[i])):
                return i
    return -1


@njit(cache=True, error_model="numpy")
def _back_affine(xc, xp, lo, vc):
    damp = False
    for i in range(xc.size):
        xi = xc[i] - lo[i] * xp[i]
        xc[i] = xi
        damp |= xi < -0.5 * vc[i]
    return damp


@njit(cache=True, error_model="numpy")
def back_substitute(blocks, up, lo, x, v):
    """``newton_dc``'s third sweep, parents before children: ΔV = L⁻ᵀy in ``x``; returns the damping factor α
    (the largest ≤ 1 that takes no bus below half its voltage; whether any step needs it is seen in the sweep)."""
    damp = False
    for q in range(blocks.shape[0]):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
        if s > 0:
            damp |= _back_affine(x[a:b], x[a - s:b - s], lo[a:b], v[a:b])
        else:
            for i in range(a, b):
                xi = x[i] - lo[i] * x[up[i]]
                x[i] = xi
                damp |= xi < -0.5 * v[i]
    alpha = 1.0
    if damp:  # a minimum: the same in any order
        for i in range(blocks[0, 0], blocks[-1, 1]):
            if x[i] < -0.5 * v[i]:
                alpha = min(alpha, -0.5 * v[i] / x[i])
    return alpha


@njit(cache=True, error_model="numpy")
def newton_tree(blocks, up, g_couple, g_parent, fixed, v, p_load, k_droop, kv_droop, droop, start, end, tol_a,
                max_iter, i_fixed, work):
    """:func:`gigawatt.solver.dc.kernel.newton_dc` for buses start..end-1 of a zone without links, by
    :func:`tree_blocks` ``blocks``; the same arguments otherwise, the same results bit for bit. ``droop``:
    whether any of the buses has a droop source (K or KV not 0; if not, they are not read)."""
    fixed_at = np.nonzero(fixed[start:end])[0] + start
    work[3, start:end] = 0.0
    st, it, worst, singular = newton_tree_run(blocks, ready_blocks(blocks, up), up, g_couple, g_parent, fixed_at, v,
                                              p_load, k_droop, kv_droop, droop, tol_a, max_iter, i_fixed, work, False,
                                              0.0, v, fixed_at, p_load)  # (no predictor: its arrays not read)
    if st == STATUS_SINGULAR:
        return st, it, worst, singular
    return st, it, worst, worst_bus(work[0], start, end)


@njit(cache=True, error_model="numpy")
def newton_tree_run(blocks, ready, up, g_couple, g_parent, fixed_at, v, p_load, k_droop, kv_droop, droop, tol_a,
                    max_iter, i_fixed, work, predict, r, v_prev, bus_pattern, pattern_load):
    """The iterations of :func:`newton_tree` (``ready``: :func:`ready_blocks`), with the fixed buses listed
    (``fixed_at``) and ``x`` (``work[3]``) zero on entry, or the predictor first (``predict``: see :func:`terms`,
    which clears x). Returns (status, iterations, largest mismatch [A], singular bus or −1); :func:`worst_bus` of
    ``work[0]`` names the worst bus."""
    f, d, lo, x = work[0], work[1], work[2], work[3]
    f_bits = f.view(np.int64)
    alpha = 0.0
    worst = np.inf
    for it in range(max_iter + 1):
        worst = terms(blocks, ready, alpha, up, g_parent, v, x, p_load, k_droop, kv_droop, droop, f, f_bits, d,
                      fixed_at, i_fixed, predict and it == 0, r, v_prev, bus_pattern, pattern_load)
        if worst <= tol_a:
            return STATUS_CONVERGED, it, worst, -1
        if it == max_iter or not np.isfinite(worst):
            break
        singular = eliminate(blocks, up, g_couple, f, d, lo, x)
        if singular >= 0:
            return STATUS_SINGULAR, it, worst, singular
        alpha = back_substitute(blocks, up, lo, x, v)
    return STATUS_MAX_ITERATIONS, max_iter, worst, -1
