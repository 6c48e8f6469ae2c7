"""Numba kernels of steady incompressible flow in a pipe network with loops (Global Gradient Algorithm).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).
The per-element work (branch pressure residuals and their derivatives, node mass balances, the entries of
the reduced matrix, the Newton update) lives here; the one sparse linear solve per iteration is done by the
Python driver :mod:`gigawatt.solver.hydraulics` with ``scipy.sparse`` (Numba has no sparse solver).

Unknowns (SI): branch mass flows ``m`` [kg/s], positive from a branch's ``from`` node to its ``to`` node,
and the pressures ``p`` [Pa] of the nodes whose pressure is not fixed. Equations:

* every branch b: ``F_b = h_b(m_b) - (p_from - p_to) = 0`` [Pa], with ``h_b`` the pressure the branch takes
  in flow direction: the Darcy-Weisbach pressure drop of a pipe (``pressure_drop_darcy_weisbach``), or
  minus the pressure rise ``rho g H(Q)`` of a pump;
* every free node i: ``G_i = inj_i + sum(m into i) - sum(m out of i) = 0`` [kg/s].

Newton's method on both with the branch flows eliminated is the Global Gradient Algorithm of Todini &
Pilati [1]_ (the method of EPANET [2]_). With ``D = diag(dh/dm)`` and ``A`` the branch-node incidence
(+1 at ``from``, -1 at ``to``) restricted to the free nodes, one step solves

    (A^T D^-1 A) dp = G + A^T D^-1 F,        dm = D^-1 (A dp - F).

``A^T D^-1 A`` is a weighted graph Laplacian with the fixed-pressure nodes removed: symmetric positive
definite when every ``D_b > 0`` and every connected component holds a fixed pressure. The node equations
are linear in ``m``, so after the first full step every free node balances to rounding, whatever the
branch laws do; the later iterations only drive ``F`` to zero.

``D_b > 0`` everywhere, including at zero flow and through flow reversal: a pipe's laminar
(Hagen-Poiseuille) derivative ``32 mu L / (rho A D^2)`` is finite at ``m = 0`` (pipes need ``L > 0``), and a
pump's ``g (a n + 2 b |Q|)`` is floored at ``|Q| = PUMP_Q_FLOOR_M3_S``.

References
----------
.. [1] E. Todini and S. Pilati, "A gradient algorithm for the analysis of pipe networks", in B. Coulbeck
   and C.-H. Orr (eds.), Computer Applications in Water Supply, Vol. 1, Research Studies Press,
   Letchworth, 1988, pp. 1-20.
.. [2] L. A. Rossman, EPANET 2 Users Manual, EPA/600/R-00/057, US EPA 2000, appendix D.
"""
from __future__ import annotations

from numba import njit

from gigawatt.models.hydraulics import (GRAVITY_M_S2, pressure_drop_darcy_weisbach,
                                        pressure_drop_darcy_weisbach_dm, pump_head, pump_head_dq)

BRANCH_PIPE = 0
"""``branch_kind`` of a pipe (Darcy-Weisbach with minor losses)."""
BRANCH_PUMP = 1
"""``branch_kind`` of a pump (quadratic head curve, affinity laws)."""

PUMP_Q_FLOOR_M3_S = 1e-9
"""Smallest |Q| [m^3/s] used in a pump's slope ``g (a n + 2 b |Q|)``, so a pump with ``a = 0`` keeps a
positive derivative at exactly zero flow (a regularisation of the Jacobian only; the head is exact)."""


@njit(cache=True)
def _pump_pressure_loss(m_kg_s, rho, h0_m, a_s_m2, b_s2_m5, speed_ratio):
    """Pressure a pump branch takes in flow direction, -rho g H(Q), and its derivative d/dm [Pa, Pa s/kg].

    For Q >= 0 the head is :func:`pump_head`. For reverse flow (Q < 0), outside any fitted curve, the curve
    is continued point-symmetrically about shut-off, ``H(Q) = 2 H(0) - H(-Q)``: continuous with a
    continuous slope at Q = 0 and strictly falling, so the Newton iteration can pass through zero.
    """
    q = m_kg_s / rho
    if q >= 0.0:
        head = pump_head(q, speed_ratio, h0_m, a_s_m2, b_s2_m5)
    else:
        head = 2.0 * pump_head(0.0, speed_ratio, h0_m, a_s_m2, b_s2_m5) - pump_head(-q, speed_ratio, h0_m,
                                                                                     a_s_m2, b_s2_m5)
    q_abs = max(abs(q), PUMP_Q_FLOOR_M3_S)
    slope = -pump_head_dq(q_abs, speed_ratio, h0_m, a_s_m2, b_s2_m5)  # -dH/dQ > 0 [s/m^2]
    # h = -rho g H(m/rho): dh/dm = -rho g H'(Q) / rho = g (-H'(Q)).
    return -rho * GRAVITY_M_S2 * head, GRAVITY_M_S2 * slope


@njit(cache=True)
def branch_residuals(m, p, branch_from, branch_to, branch_kind, diameter_m, length_m, roughness_m, k_minor,
                     pump_h0_m, pump_a_s_m2, pump_b_s2_m5, pump_speed_ratio, density_kg_m3, viscosity_pa_s,
                     f_out, d_out):
    """Pressure residual of every branch and its derivative, written into ``f_out`` and ``d_out``.

    Parameters
    ----------
    m : float64[nb]
        Branch mass flows [kg/s], > 0 from ``branch_from`` to ``branch_to``.
    p : float64[nn]
        Node pressures [Pa].
    branch_from, branch_to : int64[nb]
        Node positions of each branch's ends.
    branch_kind : int64[nb]
        :data:`BRANCH_PIPE` or :data:`BRANCH_PUMP`.
    diameter_m, length_m, roughness_m, k_minor : float64[nb]
        Pipe inner diameter [m], length [m] (> 0), absolute roughness [m], sum of minor-loss
        coefficients [-]; not read for pumps.
    pump_h0_m, pump_a_s_m2, pump_b_s2_m5, pump_speed_ratio : float64[nb]
        Pump curve at rated speed ``H = H0 - a Q - b Q^2`` [m, s/m^2, s^2/m^5] and speed ratio [-];
        not read for pipes.
    density_kg_m3, viscosity_pa_s : float64[nb]
        Fluid density [kg/m^3] and dynamic viscosity [Pa s] in each branch.
    f_out : float64[nb]
        Out: ``F_b = h_b(m_b) - (p_from - p_to)`` [Pa].
    d_out : float64[nb]
        Out: ``dh_b/dm_b`` [Pa s/kg], > 0.
    """
    for b in range(m.size):
        if branch_kind[b] == BRANCH_PIPE:
            h = pressure_drop_darcy_weisbach(m[b], diameter_m[b], length_m[b], roughness_m[b], density_kg_m3[b],
                                             viscosity_pa_s[b], k_minor[b])
            dh = pressure_drop_darcy_weisbach_dm(m[b], diameter_m[b], length_m[b], roughness_m[b],
                                                 density_kg_m3[b], viscosity_pa_s[b], k_minor[b])
        else:
            h, dh = _pump_pressure_loss(m[b], density_kg_m3[b], pump_h0_m[b], pump_a_s_m2[b], pump_b_s2_m5[b],
                                        pump_speed_ratio[b])
        f_out[b] = h - (p[branch_from[b]] - p[branch_to[b]])
        d_out[b] = dh


@njit(cache=True)
def node_imbalance(m, branch_from, branch_to, injection_kg_s, g_out):
    """Mass balance of every node, ``G_i = inj_i + sum(m in) - sum(m out)`` [kg/s], into ``g_out``.

    ``injection_kg_s`` [kg/s] is the net external injection (a demand is negative). At a fixed-pressure
    node ``-G_i`` is the flow the pressure holder must supply when its given injection is 0.
    """
    g_out[:] = injection_kg_s
    for b in range(m.size):
        g_out[branch_from[b]] -= m[b]
        g_out[branch_to[b]] += m[b]


@njit(cache=True)
def reduced_system(f, d, g, branch_from, branch_to, free_index, values_out, rhs_out):
    """Entries of ``A^T D^-1 A`` (4 per branch, duplicates to be summed) and the right-hand side
    ``G + A^T D^-1 F`` over the free nodes.

    ``free_index[i]`` is node i's row among the free nodes, or -1 for a fixed-pressure node. The entry
    pattern (rows, columns) is fixed by the topology and built once by :func:`reduced_pattern`; this kernel
    writes ``values_out`` [kg/(s Pa)] in that same order, 0 where an end is fixed.
    """
    rhs_out[:] = 0.0
    for i in range(free_index.size):
        if free_index[i] >= 0:
            rhs_out[free_index[i]] = g[i]
    for b in range(f.size):
        c = 1.0 / d[b]
        r = free_index[branch_from[b]]
        s = free_index[branch_to[b]]
        values_out[4 * b] = c if r >= 0 else 0.0
        values_out[4 * b + 1] = c if s >= 0 else 0.0
        values_out[4 * b + 2] = -c if (r >= 0 and s >= 0) else 0.0
        values_out[4 * b + 3] = values_out[4 * b + 2]
        # A^T D^-1 F: +F/D at the from node, -F/D at the to node.
        if r >= 0:
            rhs_out[r] += c * f[b]
        if s >= 0:
            rhs_out[s] -= c * f[b]


@njit(cache=True)
def reduced_pattern(branch_from, branch_to, free_index, rows_out, cols_out):
    """Row and column of each entry :func:`reduced_system` writes (an index 0 where the value is 0)."""
    for b in range(branch_from.size):
        r = max(free_index[branch_from[b]], 0)
        s = max(free_index[branch_to[b]], 0)
        rows_out[4 * b], cols_out[4 * b] = r, r
        rows_out[4 * b + 1], cols_out[4 * b + 1] = s, s
        rows_out[4 * b + 2], cols_out[4 * b + 2] = r, s
        rows_out[4 * b + 3], cols_out[4 * b + 3] = s, r


@njit(cache=True)
def newton_update(m, p, f, d, dp_free, branch_from, branch_to, free_index, alpha, m_out, p_out):
    """Step ``alpha`` of the Newton direction: ``p + alpha dp`` on free nodes, ``m + alpha D^-1 (A dp - F)``.

    ``dp_free`` [Pa] holds the pressure steps of the free nodes (row ``free_index[i]``); fixed pressures
    keep their values. Results go to ``m_out`` [kg/s] and ``p_out`` [Pa].
    """
    for i in range(p.size):
        k = free_index[i]
        p_out[i] = p[i] + alpha * dp_free[k] if k >= 0 else p[i]
    for b in range(m.size):
        r = free_index[branch_from[b]]
        s = free_index[branch_to[b]]
        adp = (dp_free[r] if r >= 0 else 0.0) - (dp_free[s] if s >= 0 else 0.0)
        m_out[b] = m[b] + alpha * (adp - f[b]) / d[b]


@njit(cache=True)
def max_abs(x):
    """Largest absolute value of ``x`` and its position (0, -1 for an empty array)."""
    worst = 0.0
    where = -1
    for i in range(x.size):
        if abs(x[i]) > worst or where < 0:
            worst = abs(x[i])
            where = i
    return worst, where


@njit(cache=True)
def max_abs_free(g, free_index):
    """Largest |g_i| over the free nodes and its node position (0, -1 if none)."""
    worst = 0.0
    where = -1
    for i in range(g.size):
        if free_index[i] >= 0 and (abs(g[i]) > worst or where < 0):
            worst = abs(g[i])
            where = i
    return worst, where
