"""The Newton iteration of the hydraulic solver (Global Gradient Algorithm) as one Numba kernel.

:meth:`gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.solve` runs its whole iteration here: the
start's evaluation, then per Newton step the convergence tests, the reduced system's assembly
(:func:`~gigawatt.solver.numerics.hydraulic_kernel.assemble_reduced`), its factorisation and solve (envelope or
sparse ``L D L^T``, or a solve with the last sparse factor: a chord step), the step with backtracking on the
largest branch residual, a chord step's correction and each trial's evaluation
(:func:`~gigawatt.solver.numerics.hydraulic_kernel.gga_evaluate`). These are the kernels the Python loop called
one by one, called in the same order on the same arrays: the same floating-point operations, so the same
results to the bit, for one dispatch per solve instead of several per iteration (what dominates on the small
networks of a year's steps).

SuperLU (``linear_solver="scipy"``, or the fall-back after a pivot that is not positive) is SciPy's, so the kernel
stops where a step needs it (:data:`NEED_STEP`) with its state in two small arrays, and the driver calls it again
once the step is in ``dp`` (:data:`STEP_GIVEN`). Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as
plain Python.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.solver.numerics import hydraulic_kernel as hk
from gigawatt.solver.numerics.envelope import envelope_factor_solve
from gigawatt.solver.numerics.sparse_ldl import ldl_numeric_rows_solve, ldl_solve

SOLVER_ENVELOPE = 0
"""``kind``: the envelope ``L D L^T`` of :mod:`gigawatt.solver.numerics.envelope`."""
SOLVER_SPARSE = 1
"""``kind``: the sparse ``L D L^T`` of :mod:`gigawatt.solver.numerics.sparse_ldl`."""
SOLVER_EXTERNAL = 2
"""``kind``: every step from the caller (SuperLU)."""

# Phases (state[PHASE] in and out).
START = 0
"""In: evaluate the start and iterate."""
STEP_GIVEN = 1
"""In: the step the kernel asked for is in ``dp[:n_free]``; continue from it. Out: never."""
NEED_STEP = 2
"""Out: solve the reduced system of the current iterate into ``dp[:n_free]`` (``f``, ``d`` of the current
iterate: see :data:`SWAPS`, node balances in ``g``), then call again with :data:`STEP_GIVEN`."""
DONE = 3
"""Out: the iteration ended (``state[CONVERGED]`` says how)."""

# Integer state (int64 array): where the iteration stands between calls.
PHASE, ITERATIONS, SWAPS, FACTORED, REUSE, F_AT, G_AT, CONVERGED, EVALUATIONS, FACTORISATIONS = range(10)
# Float state (float64 array).
F_MAX, H_MAX, M_MAX, G_MAX, F_BEFORE = range(5)

_TINY = float(np.finfo(float).tiny)
_EPS = float(np.finfo(float).eps)


@njit(cache=True)
def _max_abs(x):
    worst = 0.0
    for i in range(x.size):
        worst = max(worst, abs(x[i]))
    return worst


@njit(cache=True)
def gga_iterate(state, fstate, m, m_new, p, p_new, f, f_new, d, d_new, network, pc, pumps, memory, branch, g,
                values, rhs, dp, solver, factor, injection, p_start, record, settings):
    """The Newton iteration of :meth:`HydraulicNetwork.solve` (module notes), from ``state[PHASE]`` to the end or to
    the next step it needs from the caller.

    Parameters
    ----------
    state : int64[9]
        ``PHASE, ITERATIONS, SWAPS, FACTORED, REUSE, F_AT, G_AT, CONVERGED, EVALUATIONS, FACTORISATIONS``. In, for
        :data:`START`: ``FACTORED`` (whether ``factor`` holds the sparse factor of the last solve's last step, in
        a session); the rest is written. Out: the phase reached (:data:`NEED_STEP` or :data:`DONE`), Newton steps taken, how many times
        the current and next iterate's arrays were swapped (odd: ``m_new`` ... hold the current iterate), whether
        ``factor`` holds a sparse factor of the last step, whether the last step was solved with an earlier
        step's factor, the branch of the largest residual and the free node of the largest imbalance (-1 if
        none), whether converged, the evaluations made (of the start unless resumed, and of every trial step), the
        numeric factorisations begun (a pivot that is not positive included).
    fstate : float64[5]
        ``F_MAX, H_MAX, M_MAX, G_MAX, F_BEFORE``: the largest |F| [Pa], |h| [Pa], |m| [kg/s] and free |G| [kg/s]
        of the current iterate, and the largest |F| before the last step [Pa].
    m, m_new, p, p_new, f, f_new, d, d_new : float64 arrays
        Flows [kg/s], pressures [Pa], branch residuals [Pa] and slopes [Pa s/kg] of the current iterate and
        the next; for :data:`START` the current ones hold the start (``m``; with ``settings[RESUME]`` also its
        evaluation, ``p``, ``f``, ``d`` and the branch work arrays, a session's last solve's).
    network : tuple
        ``(branch_from, branch_to, free_index, node_row, system)``, as the network holds them.
    pc, pumps, memory, branch
        As :func:`~gigawatt.solver.numerics.hydraulic_kernel.gga_evaluate`.
    g, values, rhs, dp : float64 arrays
        Node balances [kg/s], the reduced matrix and right-hand side (each with the spare slot), the pressure
        step (its spare last entry 0).
    solver : tuple
        ``(kind, n_free, envelope_first, envelope_ptr, col_ptr, row_index, l_ptr, row_ptr, row_col, row_place,
        l_index)``: the solver (``SOLVER_*``), the order of the reduced system, then the layout arrays of the
        envelope and sparse solvers (empty for the other).
    factor : tuple of float64 arrays
        ``(inv_diag, l_values, l_diag, y)``: the envelope's and the sparse factor's work arrays.
    injection : float64[nn]
        Node injections [kg/s], 0 at fixed nodes.
    p_start : float64[nn]
        Starting pressures [Pa] (fixed ones as given), unless resumed.
    record : tuple
        The chord record of the session (:func:`~gigawatt.solver.numerics.hydraulic_kernel.chord_correction`):
        ``(last_injection, change, chord_m, chord_p, rem_m, rem_p, started, known)``.
    settings : float64[9]
        ``tol_pa, tol_mass_rel, max_iterations, first_test, p_fixed_max, warm, resume, chord, chords``: the
        tolerances, steps allowed, the step from which convergence is tested, the largest fixed |p| [Pa],
        whether the start's friction factors are Colebrook's (else Haaland's), whether the start was evaluated
        by the last solve, whether the first step is a chord step, whether the session keeps the chord record.

    Returns
    -------
    int
        ``state[PHASE]``.
    """
    b_from, b_to, free_index, node_row, system = network
    kind, n_free, env_first, env_ptr, col_ptr, row_index, l_ptr, row_ptr, row_col, row_place, l_index = solver
    inv_diag, l_values, l_diag, y = factor
    last_injection, change, chord_m, chord_p, rem_m, rem_p, started, known = record
    tol_pa, tol_mass_rel = settings[0], settings[1]
    max_iterations, first_test = int(settings[2]), int(settings[3])
    p_fixed_max = settings[4]
    warm, resume, chord, chords = settings[5] != 0.0, settings[6] != 0.0, settings[7] != 0.0, settings[8] != 0.0
    no_assembly = system[0][:0], system[0][:0], system[0][:0], system[0][:0], system[0][:0]
    inj_max = _max_abs(injection)

    phase = state[PHASE]
    swaps = state[SWAPS] if phase == STEP_GIVEN else 0
    evaluations = state[EVALUATIONS] if phase == STEP_GIVEN else 0
    factorisations = state[FACTORISATIONS] if phase == STEP_GIVEN else 0
    if swaps % 2:
        m, m_new, p, p_new, f, f_new, d, d_new = m_new, m, p_new, p, f_new, f, d_new, d
    if phase == START:
        if resume:
            # The start was evaluated at the end of the last solve (its branch laws, slopes and residuals at
            # these flows and its pressures are in the work arrays): only the node balances change.
            stats = hk.gga_assemble(m, b_from, b_to, injection, free_index, no_assembly, branch, f, g, values, rhs)
        else:
            for b in range(memory.x.size):  # no Colebrook root carries over from an earlier solve
                memory.x[b] = 0.0
                memory.re[b] = 0.0
                memory.dx_dre[b] = 0.0
            for i in range(p.size):
                p[i] = p_start[i]
            # A guess's (or the default start's) friction factors are Haaland's: they only shape the first step,
            # which is always taken in full and never tested. A warm start's are Colebrook's.
            stats = hk.gga_evaluate(m, p, b_from, b_to, pc, pumps, memory, not warm, injection, free_index,
                                    no_assembly, branch, f, d, g, values, rhs)
            evaluations += 1
        f_max, f_at, h_max, m_max, g_max, g_at = stats
        iterations = 0
        factored = state[FACTORED] != 0  # (valid until a step is solved otherwise)
        f_before = 0.0
        reuse = False
    else:
        iterations, factored, reuse = state[ITERATIONS], state[FACTORED] != 0, state[REUSE] != 0
        f_at, g_at = state[F_AT], state[G_AT]
        f_max, h_max, m_max, g_max, f_before = (fstate[F_MAX], fstate[H_MAX], fstate[M_MAX], fstate[G_MAX],
                                                fstate[F_BEFORE])
    converged = False
    given = phase == STEP_GIVEN
    while True:
        tol_f = max(tol_pa, 16.0 * _EPS * max(p_fixed_max, h_max))
        if not given:
            # (a floor at the smallest normal number: a network at standstill, no flow anywhere, is converged)
            tol_g = max(tol_mass_rel * max(m_max, inj_max), _TINY)
            if reuse:
                # after a step on an earlier factor the node equations hold only to that factor's error, not to
                # rounding as after a Newton step: such an iterate ends the solve once they hold to rounding
                tol_g = max(min(tol_g, 64.0 * _EPS * max(m_max, inj_max)), _TINY)
            if iterations >= first_test and f_max <= tol_f and g_max <= tol_g:
                converged = True
                break
            if iterations >= max_iterations:
                break
            iterations += 1
            # chord steps: the first, and one whose residual the last step brought so low that a step with that
            # step's factor ends within the tolerance, as a Newton step would (the error after it ~ r_k^2 /
            # r_(k-1), against r_k^2 for Newton's: a hundredth of the tolerance asked)
            reuse = chord and (iterations == 1 or (factored and f_max * f_max < 0.01 * tol_f * f_before))
            f_before = f_max
            solved = False
            if n_free == 0:
                factored = False
                solved = True
            elif kind != SOLVER_EXTERNAL:
                hk.assemble_reduced(system, free_index, branch, g, values, rhs)
                for k in range(n_free):
                    dp[k] = rhs[k]
                if reuse:
                    ldl_solve(n_free, l_ptr, l_index, l_values, l_diag, dp)
                    factored = True
                    solved = True
                elif kind == SOLVER_SPARSE:
                    factorisations += 1
                    if ldl_numeric_rows_solve(n_free, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place,
                                              l_index, l_values, l_diag, y, dp) < 0:
                        factored = True
                        solved = True
                else:
                    factorisations += 1
                    if envelope_factor_solve(values, env_first, env_ptr, inv_diag, dp) < 0:
                        factored = False
                        solved = True
            if not solved:  # SuperLU's, by the caller
                state[PHASE], state[ITERATIONS], state[SWAPS] = NEED_STEP, iterations, swaps
                state[EVALUATIONS], state[FACTORISATIONS] = evaluations, factorisations
                state[FACTORED], state[REUSE], state[F_AT], state[G_AT], state[CONVERGED] = 0, int(reuse), f_at, g_at, 0
                fstate[F_MAX], fstate[H_MAX], fstate[M_MAX], fstate[G_MAX] = f_max, h_max, m_max, g_max
                fstate[F_BEFORE] = f_before
                return NEED_STEP
        else:
            given = False
            factored = False
        # Backtracking on the largest branch residual. The first step is always full: the node equations are
        # linear, so a full step satisfies them, and later (damped) steps keep them satisfied.
        alpha = 1.0
        stats = (f_max, f_at, h_max, m_max, g_max, g_at)
        for _ in range(12):
            hk.newton_step(m, p, f, d, dp, node_row, system[0], system[1], alpha, m_new, p_new)
            if chord and iterations == 1:
                hk.chord_correction(injection, m_new, p_new, last_injection, change, chord_m, chord_p, rem_m, rem_p,
                                    started, known)
            stats = hk.gga_evaluate(m_new, p_new, b_from, b_to, pc, pumps, memory, False, injection, free_index,
                                    no_assembly, branch, f_new, d_new, g, values, rhs)
            evaluations += 1
            if iterations == 1 or stats[0] < f_max or stats[0] <= tol_f:
                break
            alpha *= 0.5
        f_max, f_at, h_max, m_max, g_max, g_at = stats
        m, m_new, p, p_new, f, f_new, d, d_new = m_new, m, p_new, p, f_new, f, d_new, d
        swaps += 1
    if chords:
        hk.chord_record(injection, m, p, last_injection, change, chord_m, chord_p, rem_m, rem_p, started, known)
    state[PHASE], state[ITERATIONS], state[SWAPS], state[EVALUATIONS] = DONE, iterations, swaps, evaluations
    state[FACTORISATIONS] = factorisations
    state[FACTORED], state[REUSE] = int(factored), int(reuse)
    state[F_AT], state[G_AT], state[CONVERGED] = f_at, g_at, int(converged)
    fstate[F_MAX], fstate[H_MAX], fstate[M_MAX], fstate[G_MAX], fstate[F_BEFORE] = f_max, h_max, m_max, g_max, f_before
    return DONE
