"""Newton's method of :func:`gigawatt.solver.dc.kernel.newton_dc` for a zone without links (a tree), its sweeps
fused into fewer passes over the buses: the kernel of the time series (:mod:`gigawatt.solver.dc.series_kernel`).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).

Same equations, same operations on every number in the same order, so the same voltages, iterations and
mismatch bit for bit (tested against ``newton_dc`` on random networks). A step of ``newton_dc`` is five passes
over the buses (own terms, tree branches, convergence check, elimination, back-substitution) and every
iteration repeats them; here

1. :func:`first_pass` (or the caller's own pass, e.g. the voltage predictor's) forms F and the tree diagonal at
   the start: each bus's own terms, then its branch to its parent, parents before children (so each F_i gets
   its own terms, its parent branch, then its children's branches in order, as in ``newton_dc``);
2. :func:`check` the mismatch (a light pass), and while it exceeds the tolerance
3. :func:`eliminate` children before parents (``newton_dc``'s second sweep, the same code);
4. :func:`step_pass` parents before children: ΔV = L⁻ᵀy, the damping factor α, the new voltages and F and the
   diagonal there, all in one pass. α (the largest step ≤ 1 that takes no bus below half its voltage) is only
   known at the end of the pass, so the pass applies α = 1 and keeps the old voltages; in the rare step with
   α < 1 it restores them and applies α with :func:`first_pass`'s arithmetic, as ``newton_dc`` does.

The Newton step accumulates in one of two arrays while the other holds the last step, so no pass is needed to
clear it. Zones with links (rings) use ``newton_dc`` (its Woodbury correction).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.solver.dc.kernel import STATUS_CONVERGED, STATUS_MAX_ITERATIONS, STATUS_SINGULAR


@njit(cache=True, error_model="numpy", inline="always")
def bus_terms(i, vi, up, g_parent, v, p_load, k_droop, kv_droop, f, d):
    """Bus i at voltage ``vi`` [V] (already in ``v``): its own terms of F [A] and of the diagonal [S], then its
    branch to its parent (a root is its own parent, with g = 0), as ``newton_dc``'s first sweep."""
    inv_v = 1.0 / vi
    net_load = p_load[i] - kv_droop[i]
    f[i] = net_load * inv_v + k_droop[i]
    d[i] = -net_load * inv_v * inv_v
    p = up[i]
    g = g_parent[i]
    flow = g * (vi - v[p])
    f[i] += flow
    f[p] -= flow
    d[i] += g
    d[p] += g


@njit(cache=True, error_model="numpy")
def first_pass(start, end, alpha, up, g_parent, v, x, x_next, p_load, k_droop, kv_droop, f, d):
    """V ← V + α·x, then F and the tree diagonal at V, parents before children; clears ``x_next`` (where the
    next elimination accumulates)."""
    for i in range(start, end):
        vi = v[i] + alpha * x[i]
        v[i] = vi
        x_next[i] = 0.0
        bus_terms(i, vi, up, g_parent, v, p_load, k_droop, kv_droop, f, d)


@njit(cache=True, error_model="numpy")
def check(start, end, fixed, f, d, i_fixed):
    """``newton_dc``'s convergence check: the currents of stiff buses to ``i_fixed`` [A] (their rows set to
    the identity), and the largest |F_i| [A] of the other buses with its bus (the first; the last NaN)."""
    worst, worst_i = 0.0, start
    for i in range(start, end):
        fi = f[i]
        if fixed[i]:
            i_fixed[i] = fi
            f[i] = 0.0
            d[i] = 1.0
        elif not abs(fi) <= worst:  # also catches NaN
            worst, worst_i = (abs(fi) if np.isfinite(fi) else np.inf), i
    return worst, worst_i


@njit(cache=True, error_model="numpy")
def eliminate(start, end, up, g_couple, f, d, lo, x):
    """``newton_dc``'s elimination, children before parents: J_tree = L·D·Lᵀ, x ← D⁻¹L⁻¹(x − F) (``x`` holds
    zeros on entry). Returns the singular bus (−1 if none)."""
    singular = -1
    for i in range(end - 1, start - 1, -1):
        fi = f[i]
        di = d[i]
        if di == 0.0 or not np.isfinite(di):
            singular = i
        inv_d = 1.0 / di
        p = up[i]
        gc = g_couple[i]
        zi = x[i] - fi
        li = -gc * inv_d
        lo[i] = li
        d[p] -= gc * gc * inv_d
        x[p] -= li * zi
        x[i] = zi * inv_d
    return singular


@njit(cache=True, error_model="numpy")
def step_pass(start, end, up, g_parent, v, v_old, x, x_next, lo, p_load, k_droop, kv_droop, f, d):
    """Back-substitution ΔV = L⁻ᵀy in ``x``, V ← V + ΔV (old voltages to ``v_old``), and F and the diagonal at
    the new V, parents before children; clears ``x_next``. Returns α of ``newton_dc`` (1 unless a bus would
    lose more than half its voltage: then the caller redoes the pass's V, F and diagonal with that α)."""
    alpha = 1.0
    for i in range(start, end):
        xi = x[i] - lo[i] * x[up[i]]
        x[i] = xi
        vo = v[i]
        if xi < -0.5 * vo:
            alpha = min(alpha, -0.5 * vo / xi)
        v_old[i] = vo
        vi = vo + 1.0 * xi
        v[i] = vi
        x_next[i] = 0.0
        bus_terms(i, vi, up, g_parent, v, p_load, k_droop, kv_droop, f, d)
    return alpha


@njit(cache=True, error_model="numpy")
def newton_tree(up, g_parent, g_couple, fixed, v, p_load, k_droop, kv_droop, start, end, tol_a, max_iter, i_fixed,
                f, d, lo, x, x_next, v_old, formed):
    """:func:`gigawatt.solver.dc.kernel.newton_dc` for buses start..end-1 of a zone without links, the same
    results bit for bit (see the module notes). ``formed``: F and the diagonal are already formed at ``v`` and
    ``x`` is cleared (by the caller's pass); else :func:`first_pass` forms them. ``f``, ``d``, ``lo``, ``x``,
    ``x_next``, ``v_old``: scratch of the buses' size. Returns (status, iterations, largest mismatch [A],
    worst bus)."""
    if not formed:
        first_pass(start, end, 0.0, up, g_parent, v, x, x, p_load, k_droop, kv_droop, f, d)
    worst, worst_i = np.inf, start
    for it in range(max_iter + 1):
        worst, worst_i = check(start, end, fixed, f, d, i_fixed)
        if worst <= tol_a:
            return STATUS_CONVERGED, it, worst, worst_i
        if it == max_iter or not np.isfinite(worst):
            break
        singular = eliminate(start, end, up, g_couple, f, d, lo, x)
        if singular >= 0:
            return STATUS_SINGULAR, it, worst, singular
        alpha = step_pass(start, end, up, g_parent, v, v_old, x, x_next, lo, p_load, k_droop, kv_droop, f, d)
        if alpha < 1.0:  # damped: V from the old voltages with α, as newton_dc applies it
            for i in range(start, end):
                v[i] = v_old[i]
            first_pass(start, end, alpha, up, g_parent, v, x, x_next, p_load, k_droop, kv_droop, f, d)
        x, x_next = x_next, x
    return STATUS_MAX_ITERATIONS, max_iter, worst, worst_i
