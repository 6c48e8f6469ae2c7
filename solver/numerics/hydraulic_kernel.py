"""Numba kernels of steady incompressible flow in a pipe network with loops (Global Gradient Algorithm).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (the tests run it both ways).
The per-element work (branch pressure residuals and their derivatives, node mass balances, the entries of
the reduced matrix, the Newton update) lives here; the sparse factorisation is in
:mod:`gigawatt.solver.numerics.envelope`, the iteration itself in :mod:`gigawatt.solver.numerics.hydraulic_iteration`
(one kernel) and its Python driver :mod:`gigawatt.solver.numerics.hydraulic_network`.

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

Speed. The Colebrook friction factor of every turbulent pipe is the costly part. The solver's kernel
(:func:`gga_evaluate`) finds it in passes of Halley steps over all pipes that Numba vectorises
(``error_model="numpy"``: no Python division check; the logarithm of :mod:`gigawatt.solver.numerics.vector_math`),
each pipe started from a first-order prediction out of its root at the previous iterate
(:class:`ColebrookMemory`), usually within reach of one step; then one plain pass adds pumps, node
balances and the reduced system. :func:`branch_residuals` is the plain form straight from the model
functions; the tests check that both give the same numbers.

References
----------
.. [1] E. Todini and S. Pilati, "A gradient algorithm for the analysis of pipe networks", in B. Coulbeck
   and C.-H. Orr (eds.), Computer Applications in Water Supply, Vol. 1, Research Studies Press,
   Letchworth, 1988, pp. 1-20.
.. [2] L. A. Rossman, EPANET 2 Users Manual, EPA/600/R-00/057, US EPA 2000, appendix D.
.. [3] S. E. Haaland, "Simple and explicit formulas for the friction factor in turbulent pipe flow",
   J. Fluids Engineering 105(1), 89-90 (1983). doi:10.1115/1.3240948 (start value only).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from gigawatt.models.flow_correlations import (GRAVITY_M_S2, RE_LAMINAR_MAX, RE_TURBULENT_MIN, colebrook_darcy,
                                        pressure_drop_darcy_weisbach, pressure_drop_darcy_weisbach_dm, pump_head,
                                        pump_head_dq)
from gigawatt.solver.numerics.vector_math import log_positive

BRANCH_PIPE = 0
"""``branch_kind`` of a pipe (Darcy-Weisbach with minor losses)."""
BRANCH_PUMP = 1
"""``branch_kind`` of a pump (quadratic head curve, affinity laws)."""

PUMP_Q_FLOOR_M3_S = 1e-9
"""Smallest |Q| [m^3/s] used in a pump's slope ``g (a n + 2 b |Q|)``, so a pump with ``a = 0`` keeps a
positive derivative at exactly zero flow (a regularisation of the Jacobian only; the head is exact)."""

COLEBROOK_MAX_STEPS = 30
"""Cap on the steps of one Colebrook root (never reached: from Haaland's estimate the root takes two, from a
prediction one)."""
PREDICTOR_MAX_CHANGE = 0.1
"""Largest relative change of a pipe's Reynolds number for which its next Colebrook iteration starts from
the first-order prediction ``x + dx/dRe (Re - Re_last)``; beyond it, from Haaland's estimate."""

_C_LN = 2.0 / math.log(10.0)         # 2 log10(y) = _C_LN ln(y)
_C_HAALAND = 1.8 / math.log(10.0)    # 1.8 log10(y) = _C_HAALAND ln(y)
_EPS = 2.220446049250313e-16


class PipeCoefficients(NamedTuple):
    """Per-pipe constants of the pipe law (made by :func:`pipe_coefficients`)."""

    re_per_kg_s: np.ndarray        # D / (A mu) [s/kg]
    k_dyn: np.ndarray              # 1 / (2 rho A^2) [Pa s^2/kg^2]
    l_over_d: np.ndarray           # L / D [-]
    laminar: np.ndarray            # 32 mu L / (rho A D^2) [Pa s/kg]
    cw_a: np.ndarray               # (eps/D) / 3.7 [-]
    haaland_c: np.ndarray          # ((eps/D) / 3.7)^1.11 [-]
    transition_slope: np.ndarray   # df/dRe across 2300 < Re < 4000 [-]
    k_minor: np.ndarray            # sum of minor-loss coefficients [-]


class PumpCurves(NamedTuple):
    """Per-branch pump data (entries of pipes unused)."""

    h0_m: np.ndarray               # shut-off head at rated speed [m]
    a_s_m2: np.ndarray             # linear coefficient [s/m^2]
    b_s2_m5: np.ndarray            # quadratic coefficient [s^2/m^5]
    speed_ratio: np.ndarray        # speed over rated speed [-]
    density_kg_m3: np.ndarray      # [kg/m^3]


class ColebrookMemory(NamedTuple):
    """Per pipe, the last Colebrook root, the Reynolds number it was found at and its slope there: the
    start of the next one (work arrays of one solve; ``x`` 0 where the pipe was not turbulent)."""

    x: np.ndarray                  # 1 / sqrt(f) [-]
    re: np.ndarray                 # Reynolds number [-]
    dx_dre: np.ndarray             # dx/dRe [-]


class BranchWork(NamedTuple):
    """Scratch arrays of one evaluation (per pipe: the first three; per branch: the rest)."""

    n_pipe: int
    re: np.ndarray                 # Reynolds number [-]
    x: np.ndarray                  # Colebrook x being iterated [-]
    todo: np.ndarray               # int64: 1 while the pipe's Colebrook root is not yet found
    h: np.ndarray                  # pressure the branch takes in flow direction [Pa]
    dh: np.ndarray                 # its derivative d/dm [Pa s/kg]
    c: np.ndarray                  # 1 / dh [kg/(s Pa)]
    cf: np.ndarray                 # F / dh [kg/s]


def branch_work(n_pipe: int, n_branch: int) -> BranchWork:
    """Fresh :class:`BranchWork` arrays."""
    return BranchWork(n_pipe, np.empty(n_pipe), np.empty(n_pipe), np.empty(n_pipe, dtype=np.int64),
                      *(np.empty(n_branch) for _ in range(4)))


@njit(cache=True)
def pipe_coefficients(diameter_m, length_m, roughness_m, k_minor, density_kg_m3, viscosity_pa_s):
    """Per-pipe constants of the pipe law (one pass at set-up, SI).

    Parameters
    ----------
    diameter_m, length_m, roughness_m : float64[np]
        Inner diameter [m], length [m], absolute roughness [m].
    k_minor : float64[np]
        Sum of minor-loss coefficients [-].
    density_kg_m3, viscosity_pa_s : float64[np]
        Fluid density [kg/m^3] and dynamic viscosity [Pa s].

    Returns
    -------
    PipeCoefficients
        Reynolds number per unit mass flow ``D / (A mu)`` [s/kg]; dynamic pressure per squared mass flow
        ``1 / (2 rho A^2)`` [Pa s^2/kg^2]; ``L / D`` [-]; Hagen-Poiseuille slope ``32 mu L / (rho A D^2)``
        [Pa s/kg]; ``(eps/D)/3.7`` and its power 1.11 (Haaland [3]_) [-]; slope df/dRe of the transition blend
        of :func:`gigawatt.models.flow_correlations.darcy_friction_factor` [-]; ``k_minor``.
    """
    n = diameter_m.size
    out = PipeCoefficients(np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n),
                           np.empty(n), k_minor.copy())
    f_lam = 64.0 / RE_LAMINAR_MAX
    rr_all = np.empty(n)
    for b in range(n):
        rr_all[b] = roughness_m[b] / diameter_m[b]
    # Pipes of one size share these: a Colebrook root and a power for each distinct relative roughness only.
    distinct = np.unique(rr_all)
    haaland_of = np.empty(distinct.size)
    slope_of = np.empty(distinct.size)
    for k in range(distinct.size):
        rr = distinct[k]
        haaland_of[k] = (rr / 3.7) ** 1.11
        slope_of[k] = (colebrook_darcy(RE_TURBULENT_MIN, rr) - f_lam) / (RE_TURBULENT_MIN - RE_LAMINAR_MAX)
    for b in range(n):
        d = diameter_m[b]
        area = 0.25 * math.pi * d * d
        rr = rr_all[b]
        out.re_per_kg_s[b] = d / (area * viscosity_pa_s[b])
        out.k_dyn[b] = 1.0 / (2.0 * density_kg_m3[b] * area * area)
        out.l_over_d[b] = length_m[b] / d
        out.laminar[b] = 32.0 * viscosity_pa_s[b] * length_m[b] / (density_kg_m3[b] * area * d * d)
        out.cw_a[b] = rr / 3.7
        k = np.searchsorted(distinct, rr)
        out.haaland_c[b] = haaland_of[k]
        out.transition_slope[b] = slope_of[k]
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _colebrook_step(x, b, a):
    """One step on g(x) = x + c ln(a + b x) (see :func:`colebrook_newton`): (new x, whether it is the root to
    machine precision).

    Halley's step ``s = 2 g g' / (2 g'^2 - g g'')``, with ``g' = (arg + c b) / arg`` and
    ``g'' = -c b^2 / arg^2`` (``arg = a + b x``), written with one division; Newton's ``s = g / g'`` where the
    Halley correction would change the step by a factor 2 or more (far from the root). To leading order in
    ``s``, the error left after Newton's step is ``|g''| / (2 g') s^2 <= c s^2 / (2 x_m^2)``, after Halley's
    ``(|g'''| / (6 g') + (g'' / (2 g'))^2) |s|^3 <= (c / (3 x_m^3) + c^2 / (4 x_m^4)) |s|^3`` (using
    ``|g'''| = 2 c b^3 / arg^3 <= 2 c / x^3`` and ``g' >= 1``), with ``x_m = min(x, x_new)``; the root is
    reached when that is at most half a unit of rounding of ``x``.
    """
    arg = a + b * x
    g = x + _C_LN * log_positive(arg)
    den = arg + _C_LN * b  # arg g'
    cubic = g * _C_LN * b * b  # -g g'' arg^2: the Halley correction, relative to (arg g')^2 below
    halley = abs(cubic) <= den * den
    step = 2.0 * g * arg * den / (2.0 * den * den + cubic) if halley else g * arg / den
    x_new = x - step
    x_min = min(x, x_new)
    s2 = step * step / (x_min * x_min)
    if halley:
        err = (_C_LN / 3.0 + _C_LN * _C_LN / (4.0 * x_min)) * s2 * abs(step) / x_min
    else:
        err = 0.5 * _C_LN * s2
    return x_new, err <= 0.5 * _EPS * x_new


@njit(cache=True, error_model="numpy")
def colebrook_newton(x, re, a, max_steps):
    r"""Root :math:`x = 1/\sqrt{f}` of the Colebrook-White equation by Halley's (and Newton's) method from a
    given start.

    .. math:: g(x) = x + \frac{2}{\ln 10} \ln\left(a + \frac{2.51}{Re}\, x\right) = 0,
              \quad a = \frac{\varepsilon / D}{3.7}

    The same root as :func:`gigawatt.models.flow_correlations.colebrook_darcy` (to a few units in the last place),
    found faster when a good start is known; :func:`gga_evaluate` takes the same steps, pipe by pipe in
    vectorised passes.

    ``g`` is increasing (:math:`g' \ge 1`) and concave, and its derivatives are bounded by powers of
    :math:`1/x` (:math:`|g''| = c b^2/(a + b x)^2 \le c/x^2`, :math:`c = 2/\ln 10`), so the error left
    after a step has a bound in the step itself (see ``_colebrook_step``: cubic in the step for Halley's,
    quadratic for Newton's). Iteration stops once that bound is below half a unit of rounding of ``x``:
    one logarithm from a start within about 1e-5 of the root (a prediction from the previous iterate), two
    from Haaland's estimate. Newton's step is taken instead of Halley's far from the root, where it is the
    safer: every Newton iterate stays positive (``g' >= 1`` gives ``x_{k+1} >= -c ln(a + b x_k) > 0`` while
    ``a + b x_k < 1``).

    Parameters
    ----------
    x : float
        Start value [-], > 0 (e.g. :func:`haaland_x`).
    re : float
        Reynolds number [-], > 0 (meant for Re >= 4000; see ``colebrook_darcy``).
    a : float
        Relative roughness over 3.7 [-], >= 0.
    max_steps : int
        Most steps taken.

    Returns
    -------
    float
        :math:`1/\sqrt{f}` [-]: the Colebrook root to machine precision unless ``max_steps`` cut it short.
    """
    b = 2.51 / re
    for _ in range(max_steps):
        x, done = _colebrook_step(x, b, a)
        if done:
            break
    return x


@njit(cache=True, inline="always", error_model="numpy")
def haaland_x(re, haaland_c):
    r"""Haaland's explicit estimate [3]_ of :math:`x = 1/\sqrt{f}`, within about 1.5 % of the Colebrook root:
    :math:`x = -1.8 \log_{10}\left((\varepsilon/D/3.7)^{1.11} + 6.9/Re\right)` [-].

    Parameters
    ----------
    re : float
        Reynolds number [-], > 0.
    haaland_c : float
        :math:`(\varepsilon/D/3.7)^{1.11}` [-] (:class:`PipeCoefficients`).
    """
    return -_C_HAALAND * log_positive(haaland_c + 6.9 / re)


@njit(cache=True, error_model="numpy")
def _colebrook_starts(m, pc, memory, explicit, work):
    """Reynolds numbers and Colebrook start values of every pipe; marks the turbulent ones to iterate
    (none if ``explicit``). Returns how many are marked. Vectorises: both starts are computed, one kept."""
    count = 0
    for b in range(work.n_pipe):
        re = abs(m[b]) * pc.re_per_kg_s[b]
        x_last, re_last = memory.x[b], memory.re[b]
        predict = x_last > 0.0 and abs(re - re_last) <= PREDICTOR_MAX_CHANGE * re_last
        x_pred = x_last + memory.dx_dre[b] * (re - re_last)
        x_start = haaland_x(max(re, RE_TURBULENT_MIN), pc.haaland_c[b])  # (finite, if unused, below 4000)
        work.re[b] = re
        work.x[b] = x_pred if predict else x_start
        todo = 1 if (re >= RE_TURBULENT_MIN and not explicit) else 0
        work.todo[b] = todo
        count += todo
    return count


@njit(cache=True, error_model="numpy")
def _colebrook_pass(pc, work):
    """One step (``_colebrook_step``) for every pipe still marked; unmarks those whose root is found. Returns
    how many stay marked. Vectorises: the step is taken everywhere and kept where marked."""
    count = 0
    for b in range(work.n_pipe):
        x = work.x[b]
        x_new, done = _colebrook_step(x, 2.51 / max(work.re[b], RE_TURBULENT_MIN), pc.cw_a[b])
        todo = work.todo[b]
        work.x[b] = x_new if todo else x
        todo = 0 if done else todo
        work.todo[b] = todo
        count += todo
    return count


COLEBROOK_FEW = 8
"""Once at most one pipe in this many still lacks its Colebrook root (after a first pass over all), the rest
are stepped one by one (:func:`_colebrook_finish`) instead of in further passes over every pipe."""


@njit(cache=True, error_model="numpy")
def _colebrook_finish(pc, work, max_steps):
    """The remaining steps of the pipes still marked, pipe by pipe: each takes the steps it would take in
    further passes of :func:`_colebrook_pass` (up to ``max_steps`` more), so its root is the same to the bit.
    Leaves ``work.todo`` holding the marked pipes' positions, not marks (no later pass reads it)."""
    count = 0
    for b in range(work.n_pipe):  # compact the marked positions to the front (count <= b: nothing unread lost)
        if work.todo[b]:
            work.todo[count] = b
            count += 1
    for i in range(count):
        b = work.todo[i]
        x = work.x[b]
        bb = 2.51 / max(work.re[b], RE_TURBULENT_MIN)
        for _ in range(max_steps):
            x, done = _colebrook_step(x, bb, pc.cw_a[b])
            if done:
                break
        work.x[b] = x


@njit(cache=True, error_model="numpy")
def _pipe_laws(m, pc, memory, work):
    """Pressure drop and its derivative of every pipe from its Colebrook x (laminar, transition and
    turbulent regimes as :func:`gigawatt.models.flow_correlations.pressure_drop_darcy_weisbach` and ``..._dm``), and
    the new :class:`ColebrookMemory`. Vectorises: every regime is computed, one kept."""
    for b in range(work.n_pipe):
        mb = m[b]
        m_abs = abs(mb)
        re = work.re[b]
        x = work.x[b]
        k_dyn, l_over_d, k_minor, slope = pc.k_dyn[b], pc.l_over_d[b], pc.k_minor[b], pc.transition_slope[b]
        # Turbulent: f = 1/x^2 and, by implicit differentiation of g(x, Re) = 0,
        # dx/dRe = c b x / (Re (a + b x + c b)), df/dRe = -2 x^-3 dx/dRe: one division for both.
        inv_re = 1.0 / max(re, RE_TURBULENT_MIN)  # finite where the turbulent law is computed but not kept
        bb = 2.51 * inv_re
        den = pc.cw_a[b] + bb * x + _C_LN * bb
        q = 1.0 / (x * x * den)
        turbulent = re >= RE_TURBULENT_MIN
        f = q * den if turbulent else 64.0 / RE_LAMINAR_MAX + slope * (re - RE_LAMINAR_MAX)
        df_dre = -2.0 * _C_LN * bb * inv_re * q if turbulent else slope
        coef = f * l_over_d + k_minor
        h = coef * k_dyn * mb * m_abs
        dh = 2.0 * coef * k_dyn * m_abs + l_over_d * df_dre * pc.re_per_kg_s[b] * k_dyn * mb * mb
        laminar = re <= RE_LAMINAR_MAX
        lam = pc.laminar[b]
        work.h[b] = lam * mb + k_minor * k_dyn * mb * m_abs if laminar else h
        work.dh[b] = lam + 2.0 * k_minor * k_dyn * m_abs if laminar else dh
        memory.x[b] = x if turbulent else 0.0
        memory.re[b] = re
        memory.dx_dre[b] = _C_LN * bb * inv_re * x * x * x * q if turbulent else 0.0


@njit(cache=True, error_model="numpy")
def _branch_residuals(m, p, branch_from, branch_to, pumps, work, f_out, d_out):
    """Pump laws, then ``F``, ``D``, ``1/D`` and ``F/D`` of every branch; the second loop vectorises."""
    for b in range(work.n_pipe, m.size):
        work.h[b], work.dh[b] = _pump_pressure_loss(m[b], pumps.density_kg_m3[b], pumps.h0_m[b], pumps.a_s_m2[b],
                                                    pumps.b_s2_m5[b], pumps.speed_ratio[b])
    for b in range(m.size):
        dh = work.dh[b]
        fb = work.h[b] - (p[branch_from[b]] - p[branch_to[b]])
        c = 1.0 / dh
        f_out[b] = fb
        d_out[b] = dh
        work.c[b] = c
        work.cf[b] = c * fb


@njit(cache=True)
def _add_branch_entries(b, system, work, env_out, rhs_out):
    """Branch ``b``'s terms of the reduced system: its conductance ``work.c[b]`` on the two diagonal entries
    and off the diagonal, ``work.cf[b]`` on the right-hand side of its two ends. A fixed end's entries go to a
    spare last slot of ``env_out`` and ``rhs_out``: no branch per entry."""
    rhs_from, rhs_to, entry_from, entry_to, entry_off = system
    c, cf = work.c[b], work.cf[b]
    env_out[entry_from[b]] += c
    env_out[entry_to[b]] += c
    env_out[entry_off[b]] -= c
    rhs_out[rhs_from[b]] += cf
    rhs_out[rhs_to[b]] -= cf


@njit(cache=True)
def _assemble(m, branch_from, branch_to, injection_kg_s, free_index, system, work, f_out, g_out, env_out, rhs_out):
    """Node balances, (if ``system`` is not empty) the reduced system, and the largest residuals; see
    :func:`gga_evaluate`."""
    assemble = system[2].size > 0  # entry_from
    g_out[:] = injection_kg_s
    if assemble:
        env_out[:] = 0.0
        rhs_out[:] = 0.0
    f_max, f_at, h_max, m_max = 0.0, -1, 0.0, 0.0
    for b in range(m.size):
        mb = m[b]
        g_out[branch_from[b]] -= mb
        g_out[branch_to[b]] += mb
        fb = abs(f_out[b])
        if fb > f_max or f_at < 0:
            f_max, f_at = fb, b
        h_max = max(h_max, abs(work.h[b]))
        m_max = max(m_max, abs(mb))
        if assemble:
            _add_branch_entries(b, system, work, env_out, rhs_out)
    g_max, g_at = 0.0, -1
    for i in range(g_out.size):
        k = free_index[i]
        if k >= 0:
            if assemble:
                rhs_out[k] += g_out[i]
            if abs(g_out[i]) > g_max or g_at < 0:
                g_max, g_at = abs(g_out[i]), i
    return f_max, f_at, h_max, m_max, g_max, g_at


@njit(cache=True)
def assemble_reduced(system, free_index, work, g, env_out, rhs_out):
    """The reduced system ``A^T D^-1 A`` and ``G + A^T D^-1 F`` of an iterate that :func:`gga_evaluate` evaluated
    without one (``system`` empty there), from its ``work.c``, ``work.cf`` and node balances ``g``: the same
    entries, summed in the same order, as :func:`gga_evaluate` assembles with ``system`` given. The solver
    assembles only once it knows a step is to be taken, so the converged iterate costs no assembly."""
    env_out[:] = 0.0
    rhs_out[:] = 0.0
    for b in range(system[2].size):  # entry_from
        _add_branch_entries(b, system, work, env_out, rhs_out)
    for i in range(g.size):
        k = free_index[i]
        if k >= 0:
            rhs_out[k] += g[i]


@njit(cache=True)
def gga_evaluate(m, p, branch_from, branch_to, pc, pumps, memory, explicit, injection_kg_s, free_index, system, work,
                 f_out, d_out, g_out, env_out, rhs_out):
    """Everything the Global Gradient iteration needs at one iterate.

    The branch residuals ``F`` and slopes ``D`` (as :func:`branch_residuals`), the node imbalances ``G`` (as
    :func:`node_imbalance`) and, where ``system`` is not empty, the reduced system ``A^T D^-1 A`` in its
    linear solver's storage (:mod:`gigawatt.solver.numerics.spd_solvers`) and ``G + A^T D^-1 F`` (as
    :func:`reduced_system`).

    Parameters
    ----------
    m, p, branch_from, branch_to
        As in :func:`branch_residuals`; the ``work.n_pipe`` pipes first, then the pumps.
    pc : PipeCoefficients
        Of the pipes.
    pumps : PumpCurves
        Of all branches (pipe entries unused).
    memory : ColebrookMemory
        Each pipe's last Colebrook root (read as a start, then updated).
    explicit : bool
        Take Haaland's estimate [3]_ for the friction factor instead of the Colebrook root: for the
        starting iterate of the solver only, whose residuals shape the first step and are never tested.
    injection_kg_s, free_index
        As in :func:`node_imbalance` and :func:`reduced_system`.
    system : tuple of int64 arrays
        ``(rhs_from, rhs_to, entry_from, entry_to, entry_off)`` per branch: the rows of its ends in
        ``rhs_out`` and the places of its two diagonal and its off-diagonal entries in ``env_out``; a
        fixed end's point to the spare last slot of each array. ``entry_*`` empty: no assembly.
    work : BranchWork
        Scratch arrays.
    f_out, d_out, g_out, env_out, rhs_out
        Out: F [Pa], D [Pa s/kg], G [kg/s], the matrix values [kg/(s Pa)] and the right-hand side [kg/s]
        (each of the last two one longer than the system, for the spare slot).

    Returns
    -------
    (float, int, float, float, float, int)
        Largest |F_b| [Pa] and its branch (the first of equal ones), largest |h_b| [Pa], largest |m_b|
        [kg/s], largest |G_i| over the free nodes [kg/s] and its node.
    """
    todo = _colebrook_starts(m, pc, memory, explicit, work)
    for steps in range(COLEBROOK_MAX_STEPS):
        if todo == 0:
            break
        if todo * COLEBROOK_FEW <= work.n_pipe and steps > 0:
            _colebrook_finish(pc, work, COLEBROOK_MAX_STEPS - steps)
            break
        todo = _colebrook_pass(pc, work)
    _pipe_laws(m, pc, memory, work)
    _branch_residuals(m, p, branch_from, branch_to, pumps, work, f_out, d_out)
    return _assemble(m, branch_from, branch_to, injection_kg_s, free_index, system, work, f_out, g_out, env_out,
                     rhs_out)


@njit(cache=True)
def gga_assemble(m, branch_from, branch_to, injection_kg_s, free_index, system, work, f, g_out, env_out, rhs_out):
    """The part of :func:`gga_evaluate` that depends on the injections, for an iterate whose branch laws,
    residuals ``f`` and the ``work`` arrays an earlier :func:`gga_evaluate` left (the same flows ``m``): node
    balances, the reduced system and the largest residuals, as :func:`gga_evaluate` returns them."""
    return _assemble(m, branch_from, branch_to, injection_kg_s, free_index, system, work, f, g_out, env_out, rhs_out)


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

    Straight from the model functions (:func:`~gigawatt.models.flow_correlations.pressure_drop_darcy_weisbach` and
    its derivative), no set-up, every Colebrook root found from scratch: the reference for
    :func:`gga_evaluate`, which the solver uses.

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


@njit(cache=True, error_model="numpy")
def newton_step(m, p, f, d, dp, node_row, rhs_from, rhs_to, alpha, m_out, p_out):
    """:func:`newton_update` with every index valid, so that it vectorises: ``dp`` [Pa] has one spare
    last entry, 0, that fixed nodes and fixed branch ends point to (``node_row``: a node's row in the
    reduced system, else the spare one; ``rhs_from``, ``rhs_to``: the same for each branch's ends, as in
    :func:`gga_evaluate`)."""
    for i in range(p.size):
        p_out[i] = p[i] + alpha * dp[node_row[i]]
    for b in range(m.size):
        m_out[b] = m[b] + alpha * (dp[rhs_from[b]] - dp[rhs_to[b]] - f[b]) / d[b]


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


@njit(cache=True)
def chord_correction(injection, m, p, last_injection, change, chord_m, chord_p, rem_m, rem_p, started, known):
    """The correction of a chord step (:meth:`gigawatt.solver.numerics.hydraulic_network.HydraulicSession.correct_chord`):
    keep its flows ``m`` and pressures ``p`` in ``chord_m``, ``chord_p``; then, where the last change of the
    injections (``change``, from ``last_injection``) and the last remainder (``rem_m``, ``rem_p``) are known
    (``known[0]``, ``known[2]``), add a² times the remainder to ``m`` and ``p``, a = <dI, change>/<change, change>
    clipped to [0, 2] (0 without a change), dI = ``injection - last_injection``. ``known[1]``: a chord step is
    kept. ``started`` is not read here (:func:`chord_record`)."""
    for b in range(m.shape[0]):
        chord_m[b] = m[b]
    for i in range(p.shape[0]):
        chord_p[i] = p[i]
    known[1] = True
    if not (known[0] and known[2]):
        return
    den = 0.0
    num = 0.0
    for i in range(injection.shape[0]):
        den += change[i] * change[i]
        num += (injection[i] - last_injection[i]) * change[i]
    if den <= 0.0:
        return
    a = min(max(num / den, 0.0), 2.0)
    a2 = a * a
    for b in range(m.shape[0]):
        m[b] += a2 * rem_m[b]
    for i in range(p.shape[0]):
        p[i] += a2 * rem_p[i]


@njit(cache=True)
def chord_record(injection, m, p, last_injection, change, chord_m, chord_p, rem_m, rem_p, started, known):
    """The end of a solve of a chord session with answer ``m``, ``p``: the change of the injections since the last
    solve's (once there was one, ``started[0]``) into ``change``, these injections into ``last_injection``, and the
    remainder ``m - chord_m``, ``p - chord_p`` where this solve took a chord step (``known[1]``), else none
    (:func:`chord_correction`)."""
    if started[0]:
        for i in range(injection.shape[0]):
            change[i] = injection[i] - last_injection[i]
        known[0] = True
    for i in range(injection.shape[0]):
        last_injection[i] = injection[i]
    started[0] = True
    known[2] = known[1]
    if known[1]:
        for b in range(m.shape[0]):
            rem_m[b] = m[b] - chord_m[b]
        for i in range(p.shape[0]):
            rem_p[i] = p[i] - chord_p[i]
    known[1] = False
