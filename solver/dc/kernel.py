"""Numba kernel of the DC load flow with constant-power loads and V–P droop sources.

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).

Equations (SI: V, A, S, W). For every bus i that no stiff source holds, Kirchhoff's current law

    F_i(V) = Σ_j g_ij (V_i − V_j) + (P_i − KV_i) / V_i + K_i = 0,

where g_ij [S] are line conductances, P_i [W] the constant-power load, and the droop sources at the bus
inject P = Σ_s k_s (v_set,s − V) with k_s = rated_s / (droop_s · v_set,s) [W/V], summed as
K_i = Σ k_s [W/V] and KV_i = Σ k_s v_set,s [W]. A bus held by a stiff source keeps V_i = v_set.

Newton's method solves J ΔV = −F. J is symmetric: J_ii = Σ_j g_ij − (P_i − KV_i)/V_i², J_ij = −g_ij.
The buses come in breadth-first order of a spanning tree (parents before children), so the tree part of J
factors as L·D·Lᵀ without fill-in by eliminating leaves towards the root: O(N) per iteration. The k lines
that close rings ("links") add a rank-k term U·G·Uᵀ, handled exactly with the Woodbury identity; the columns
L⁻¹U are non-zero only on the paths from the link ends to the root, so a ring costs O(depth), not O(N).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

STATUS_CONVERGED = 0
STATUS_MAX_ITERATIONS = 1
STATUS_SINGULAR = 2
STATUS_NAMES = {STATUS_CONVERGED: "converged", STATUS_MAX_ITERATIONS: "no convergence within the iterations",
                STATUS_SINGULAR: "singular Jacobian"}


@njit(cache=True)
def _path_end(l, end, link_a, link_b):
    return link_a[l] if end == 0 else link_b[l]


@njit(cache=True)
def link_paths(parent, link_a, link_b, fixed, start):
    """CSR lists of the tree paths from each link end up to its root (or to a stiff bus).

    Returns ``ptr`` (k+1), ``nodes`` and ``sign`` (+1 on the path from end a, −1 from end b).
    """
    k = link_a.size
    ptr = np.zeros(k + 1, dtype=np.int64)
    for l in range(k):
        count = 0
        for end in range(2):
            node = _path_end(l, end, link_a, link_b)
            while node >= start and not fixed[node]:
                count += 1
                node = parent[node]
        ptr[l + 1] = ptr[l] + count
    nodes = np.empty(ptr[k], dtype=np.int64)
    sign = np.empty(ptr[k], dtype=np.float64)
    e = 0
    for l in range(k):
        for end in range(2):
            node = _path_end(l, end, link_a, link_b)
            while node >= start and not fixed[node]:
                nodes[e] = node
                sign[e] = 1.0 if end == 0 else -1.0
                e += 1
                node = parent[node]
    return ptr, nodes, sign


PARALLEL_MIN_BUSES = 20_000
"""Fewest buses in a level's zones for :func:`newton_zones` (threads over zones); below it the zones are solved
one after another by :func:`newton_zones_serial`, the same code per zone. Measured on the 2-core machine at a
load average of 9: 480 steps of the bundled case's year (828 buses, 4 zones) spent 9.4–11.7 s of wall time in
their DC stage with the zones in parallel, 0.5–1.3 s serially, the parallel region waiting for a worker thread
to be scheduled (and the waiting threads doubling the CPU time); at 10⁵ buses (16 zones of 6,240) the threads
pay."""


@njit(cache=True)
def newton_zone(z, zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max, parent, up,
                g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop, tol_rel, max_iter,
                i_fixed, work, scratch, status, iterations, worst, worst_bus, zone_load, zone_loss):
    """Solve zone ``z`` by :func:`newton_dc` (see :func:`newton_zones`)."""
    b0, b1 = zone_start[z], zone_end[z]
    l0, l1 = zone_link_start[z], zone_link_end[z]
    load = 0.0
    for i in range(b0, b1):
        load += abs(p_load[i])
    floor = 8.0 * np.finfo(np.float64).eps * zone_v_nominal[z] * zone_g_max[z]
    tol_a = max(tol_rel * max(load / zone_v_nominal[z], 1e-6), floor)
    st, it, w, wb = newton_dc(parent, up, g_parent, g_couple, link_a[l0:l1], link_b[l0:l1], link_g[l0:l1],
                              fixed, v, p_load, k_droop, kv_droop, b0, b1, tol_a, max_iter, i_fixed, work,
                              scratch)
    status[z], iterations[z], worst[z], worst_bus[z] = st, it, w, wb
    load, loss = 0.0, 0.0
    for i in range(b0, b1):
        load += p_load[i]
        p = parent[i]
        if p >= 0:
            dv = v[i] - v[p]
            loss += g_parent[i] * dv * dv
    for l in range(l0, l1):
        dv = v[link_a[l]] - v[link_b[l]]
        loss += link_g[l] * dv * dv
    zone_load[z], zone_loss[z] = load, loss


@njit(cache=True, parallel=True)
def newton_zones(z0, z1, zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max,
                 parent, up, g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop,
                 tol_rel, max_iter, i_fixed, work, scratch, status, iterations, worst, worst_bus, zone_load,
                 zone_loss):
    """Solve zones z0..z1-1 (independent of each other) in parallel, each by :func:`newton_dc`.

    A zone's tolerance is ``tol_rel`` times its total load current Σ|P|/V_nominal [A], but never below what
    rounding allows: a bus current is a sum of terms g·(V_i − V_j), each uncertain by about g·eps·V, so the
    floor is 8·eps·V_nominal·max_i(Σ_j g_ij + K_i) (``zone_g_max``, from the assembly). Per-zone outcomes
    go to ``status``, ``iterations``, ``worst`` [A], ``worst_bus``, and the zone's total constant-power load
    and line loss [W] (for the ledger).
    """
    for z in prange(z0, z1):
        newton_zone(z, zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max, parent, up,
                    g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop, tol_rel,
                    max_iter, i_fixed, work, scratch, status, iterations, worst, worst_bus, zone_load, zone_loss)


@njit(cache=True, nogil=True)
def newton_zones_serial(z0, z1, zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max,
                        parent, up, g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop,
                        tol_rel, max_iter, i_fixed, work, scratch, status, iterations, worst, worst_bus, zone_load,
                        zone_loss):
    """:func:`newton_zones` one zone after another (small levels: :data:`PARALLEL_MIN_BUSES`, or while a worker
    thread of the solve is busy); each zone's arithmetic is the same, so are its results, bit for bit. It
    releases the GIL: that worker runs meanwhile."""
    for z in range(z0, z1):
        newton_zone(z, zone_start, zone_end, zone_link_start, zone_link_end, zone_v_nominal, zone_g_max, parent, up,
                    g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop, tol_rel,
                    max_iter, i_fixed, work, scratch, status, iterations, worst, worst_bus, zone_load, zone_loss)


@njit(cache=True, error_model="numpy")
def fixed_currents_and_worst(f, d, fixed, i_fixed, start, end):
    """The convergence check of a Newton iterate on buses start..end-1: each fixed bus's mismatch is its
    source current (``i_fixed``), and its row becomes the identity; returns (the largest |mismatch| of the
    others, its bus) — infinite at a NaN or infinite mismatch."""
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
def newton_dc(parent, up, g_parent, g_couple, link_a, link_b, link_g, fixed, v, p_load, k_droop, kv_droop, start,
              end, tol_a, max_iter, i_fixed, work, scratch):
    """Solve buses start..end-1 in place in ``v`` [V].

    ``parent`` holds global bus indices (−1 at a root), ordered so that parent < child; ``up`` is the same
    with each root pointing to itself; ``g_couple`` is ``g_parent`` where the bus and its parent are both
    free (neither held by a stiff source), else 0. Links index global buses inside the slice. On return
    ``i_fixed`` holds, at each stiff bus, the current [A] its sources supply. ``work`` is scratch space of
    shape (4, n), allocated once by the caller so that repeated solves do not pay for fresh pages;
    ``scratch`` (n, or empty when there are no links) serves the rings. Returns (status, iterations, largest
    mismatch [A], index of the worst bus).

    Each iteration is three sweeps: root-to-leaves (apply the last step, currents F and the tree diagonal),
    then, unless the mismatch is already within tolerance, leaves-to-root (elimination J_tree = L·D·Lᵀ with
    z = L⁻¹(−F), y = D⁻¹z) and root-to-leaves again (ΔV = L⁻ᵀy, with damping so that no bus loses more
    than half its voltage).
    """
    f, d, lo, x = work[0], work[1], work[2], work[3]
    # lo: L below the diagonal, the multiplier of each bus into its parent; x: the Newton step ΔV.
    x[start:end] = 0.0
    k = link_a.size
    if k > 0:
        scratch[start:end] = 0.0
    ptr, nodes, sign = link_paths(parent, link_a, link_b, fixed, start)
    wval = np.empty(nodes.size)
    cmat = np.empty((k, k))
    svec = np.empty(k)
    alpha = 0.0
    worst, worst_i = np.inf, start
    for it in range(max_iter + 1):
        # Sweep 1: apply the step and each bus's own terms (a loop the compiler vectorises), then the tree
        # branches, parents before children.
        for i in range(start, end):
            vi = v[i] + alpha * x[i]
            v[i] = vi
            x[i] = 0.0
            inv_v = 1.0 / vi
            net_load = p_load[i] - kv_droop[i]
            f[i] = net_load * inv_v + k_droop[i]
            d[i] = -net_load * inv_v * inv_v
        for i in range(start, end):  # branch-free: a root is its own "up" with g_parent = 0
            p = up[i]
            g = g_parent[i]
            flow = g * (v[i] - v[p])
            f[i] += flow
            f[p] -= flow
            d[i] += g
            d[p] += g
        for l in range(k):  # links enter F here and J through Woodbury below
            a, b = link_a[l], link_b[l]
            flow = link_g[l] * (v[a] - v[b])
            f[a] += flow
            f[b] -= flow
        # Convergence check (a light pass: the elimination below is skipped once converged).
        worst, worst_i = fixed_currents_and_worst(f, d, fixed, i_fixed, start, end)
        if worst <= tol_a:
            return STATUS_CONVERGED, it, worst, worst_i
        if it == max_iter or not np.isfinite(worst):
            break
        # Sweep 2, children before parents: elimination.
        singular = -1
        for i in range(end - 1, start - 1, -1):
            fi = f[i]
            di = d[i]
            inv_d = 1.0 / di
            if not (np.isfinite(di) and np.isfinite(inv_d)):  # zero, not finite, or so small 1/d overflows
                singular = i
            p = up[i]
            gc = g_couple[i]  # 0 where a stiff bus cuts the coupling, and at roots
            zi = x[i] - fi
            li = -gc * inv_d
            lo[i] = li
            d[p] -= gc * gc * inv_d
            x[p] -= li * zi
            x[i] = zi * inv_d
        if singular >= 0:
            return STATUS_SINGULAR, it, worst, singular
        if k > 0:
            woodbury_correction(lo, d, x, link_g, ptr, nodes, sign, wval, scratch, cmat, svec)
        # Sweep 3, parents before children: ΔV = L⁻ᵀ y and the damping factor.
        alpha = 1.0
        for i in range(start, end):
            x[i] -= lo[i] * x[up[i]]
            if x[i] < -0.5 * v[i]:
                alpha = min(alpha, -0.5 * v[i] / x[i])
    return STATUS_MAX_ITERATIONS, max_iter, worst, worst_i


@njit(cache=True, error_model="numpy")
def woodbury_correction(lo, d, y, link_g, ptr, nodes, sign, wval, scratch, cmat, svec):
    """Turn y = D⁻¹L⁻¹r of the tree into D⁻¹(z − W t) for the tree plus links (in place in ``y``).

    W = L⁻¹U along each link's paths; C = G⁻¹ + WᵀD⁻¹W (k × k); t = C⁻¹ Wᵀ y.
    """
    k = link_g.size
    for l in range(k):
        for e in range(ptr[l], ptr[l + 1]):
            if e == ptr[l] or sign[e] != sign[e - 1]:
                wval[e] = sign[e]
            else:
                wval[e] = -lo[nodes[e - 1]] * wval[e - 1]
    for l in range(k):
        for e in range(ptr[l], ptr[l + 1]):
            scratch[nodes[e]] += wval[e]
        for m in range(k):
            acc = 0.0
            for e in range(ptr[m], ptr[m + 1]):
                acc += scratch[nodes[e]] * wval[e] / d[nodes[e]]
            cmat[l, m] = acc
        cmat[l, l] += 1.0 / link_g[l]
        acc = 0.0
        for e in range(ptr[l], ptr[l + 1]):
            acc += wval[e] * y[nodes[e]]
            scratch[nodes[e]] = 0.0
        svec[l] = acc
    t = np.linalg.solve(cmat, svec)
    for l in range(k):
        for e in range(ptr[l], ptr[l + 1]):
            y[nodes[e]] -= wval[e] * t[l] / d[nodes[e]]


@njit(cache=True, nogil=True)
def branch_currents(frm, to, r, v):
    """Current [A] of each branch from ``frm`` to ``to`` (NaN where ``frm`` < 0, out of service). One thread: a
    pass over the lines is cheaper than waking the others (at 10⁵ lines, measured at a load average of 5: 6 ms
    in parallel, the wait for a worker thread)."""
    out = np.empty(frm.size)
    for j in range(frm.size):
        out[j] = (v[frm[j]] - v[to[j]]) / r[j] if frm[j] >= 0 else np.nan
    return out


@njit(cache=True, nogil=True)
def by_row(pos, v, p_load, level):
    """Voltage [V], constant-power load [W] and level of each bus row from their values per solver position
    (``pos``: the position of each row), in one pass: ``v[pos]``, ``p_load[pos]``, ``level[pos]``, the same
    values (a pure gather), without NumPy's three passes over ``pos`` (a third of a millisecond each at 10⁵
    buses, the row-to-position map being scattered)."""
    n = pos.size
    v_row = np.empty(n)
    p_row = np.empty(n)
    level_row = np.empty(n, dtype=level.dtype)
    for r in range(n):
        i = pos[r]
        v_row[r] = v[i]
        p_row[r] = p_load[i]
        level_row[r] = level[i]
    return v_row, p_row, level_row
