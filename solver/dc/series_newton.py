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
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.solver.dc.kernel import (STATUS_CONVERGED, STATUS_MAX_ITERATIONS, STATUS_SINGULAR,
                                      fixed_currents_and_worst)

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
def terms(blocks, alpha, up, g_parent, v, x, p_load, k_droop, kv_droop, droop, f, d):
    """``newton_dc``'s first sweep: V ← V + α·x (x cleared), each bus's own terms of F [A] and of the diagonal
    [S], then its branch to its parent: F_i += g(V_i − V_p), F_p −= the same, g to both diagonals; parents
    before children. ``droop``: whether any bus of the zone has droop sources (else K and KV are not read)."""
    for q in range(blocks.shape[0]):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
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


@njit(cache=True, error_model="numpy")
def _eliminate_affine(fc, dc, dp, xc, xp, lo, gc):
    for i in range(fc.size):
        inv_d = 1.0 / dc[i]
        g = gc[i]
        zi = xc[i] - fc[i]
        li = -g * inv_d
        lo[i] = li
        dp[i] -= g * g * inv_d
        xp[i] -= li * zi
        xc[i] = zi * inv_d


@njit(cache=True, error_model="numpy")
def eliminate(blocks, up, g_couple, f, d, lo, x):
    """``newton_dc``'s elimination, children before parents: J_tree = L·D·Lᵀ, x ← D⁻¹L⁻¹(x − F) (``x`` zero
    on entry). Returns the singular bus (the first whose pivot is zero, not finite, or so small that its reciprocal
    overflows; −1 if none)."""
    for q in range(blocks.shape[0] - 1, -1, -1):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
        if s > 0:
            _eliminate_affine(f[a:b], d[a:b], d[a - s:b - s], x[a:b], x[a - s:b - s], lo[a:b], g_couple[a:b])
        else:
            for i in range(b - 1, a - 1, -1):
                inv_d = 1.0 / d[i]
                p = up[i]
                gc = g_couple[i]
                zi = x[i] - f[i]
                li = -gc * inv_d
                lo[i] = li
                d[p] -= gc * gc * inv_d
                x[p] -= li * zi
                x[i] = zi * inv_d
    # A bus's pivot is final once it is eliminated (only its parent's changes after; a root is its own parent,
    # with g = 0, which turns a pivot 1/d overflows into NaN), so look afterwards, as newton_dc: zero, not finite,
    # or so small that its reciprocal overflows.
    bad = False
    for i in range(blocks[0, 0], blocks[-1, 1]):
        bad |= not (np.isfinite(d[i]) and np.isfinite(1.0 / d[i]))
    if bad:
        for i in range(blocks[0, 0], blocks[-1, 1]):
            if not (np.isfinite(d[i]) and np.isfinite(1.0 / d[i])):
                return i
    return -1


@njit(cache=True, error_model="numpy")
def _back_affine(xc, xp, lo):
    for i in range(xc.size):
        xc[i] -= lo[i] * xp[i]


@njit(cache=True, error_model="numpy")
def back_substitute(blocks, up, lo, x, v):
    """``newton_dc``'s third sweep, parents before children: ΔV = L⁻ᵀy in ``x``; returns the damping factor α
    (the largest ≤ 1 that takes no bus below half its voltage)."""
    for q in range(blocks.shape[0]):
        a, b, s = blocks[q, 0], blocks[q, 1], blocks[q, 2]
        if s > 0:
            _back_affine(x[a:b], x[a - s:b - s], lo[a:b])
        else:
            for i in range(a, b):
                x[i] -= lo[i] * x[up[i]]
    start, end = blocks[0, 0], blocks[-1, 1]
    damp = False
    for i in range(start, end):
        damp |= x[i] < -0.5 * v[i]
    alpha = 1.0
    if damp:  # a minimum: the same in any order
        for i in range(start, end):
            if x[i] < -0.5 * v[i]:
                alpha = min(alpha, -0.5 * v[i] / x[i])
    return alpha


@njit(cache=True, error_model="numpy")
def newton_tree(blocks, up, g_couple, g_parent, fixed, v, p_load, k_droop, kv_droop, droop, start, end, tol_a,
                max_iter, i_fixed, work):
    """:func:`gigawatt.solver.dc.kernel.newton_dc` for buses start..end-1 of a zone without links, by
    :func:`tree_blocks` ``blocks``; the same arguments otherwise, the same results bit for bit. ``droop``:
    whether any of the buses has a droop source (K or KV not 0; if not, they are not read)."""
    f, d, lo, x = work[0], work[1], work[2], work[3]
    x[start:end] = 0.0
    alpha = 0.0
    worst, worst_i = np.inf, start
    for it in range(max_iter + 1):
        terms(blocks, alpha, up, g_parent, v, x, p_load, k_droop, kv_droop, droop, f, d)
        worst, worst_i = fixed_currents_and_worst(f, d, fixed, i_fixed, start, end)
        if worst <= tol_a:
            return STATUS_CONVERGED, it, worst, worst_i
        if it == max_iter or not np.isfinite(worst):
            break
        singular = eliminate(blocks, up, g_couple, f, d, lo, x)
        if singular >= 0:
            return STATUS_SINGULAR, it, worst, singular
        alpha = back_substitute(blocks, up, lo, x, v)
    return STATUS_MAX_ITERATIONS, max_iter, worst, worst_i
