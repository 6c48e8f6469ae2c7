"""The hydraulic Newton iteration as one kernel (:mod:`gigawatt.solver.numerics.hydraulic_iteration`) against the
Python loop it replaced, kept here as the reference (``_reference_iterate``, the loop of
``HydraulicNetwork._iterate`` and ``_pressure_step`` before the kernel, calling the same per-step kernels).

The kernel makes the same floating-point operations in the same order, so everything is compared to the bit:
flows, pressures, supplies, iterations, residuals, convergence, the number of evaluations, and the whole state a
session keeps (its last iterate, whether it holds a factor, the chord record, every work array), over random
networks with loops, pumps and several fixed pressures, every linear solver, and runs of solves in held
sessions with chord first steps, zero-step resumes, guesses, iteration caps (the partial results of the
convergence error) and backtracking.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigawatt.errors import ConvergenceError
from gigawatt.solver.numerics import hydraulic_kernel as hk
from gigawatt.solver.numerics import hydraulic_network as hn
from gigawatt.solver.numerics import spd_solvers as rs
from gigawatt.solver.numerics.hydraulic_network import HydraulicNetwork, HydraulicResult, prepare_hydraulic_network

JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"  # (plain Python: fewer random runs, the same comparisons)
RHO, MU = 998.2, 1.002e-3  # water at 20 degC [kg/m^3, Pa s] (as in tests/test_hydraulic_network.py)
_TINY = float(np.finfo(float).tiny)
_EPS = np.finfo(float).eps
_NO_ASSEMBLY = (np.zeros(0, dtype=np.int64),) * 5
COUNTS = {"backtracks": 0, "fallbacks": 0, "chord_reuses": 0}  # what the reference loop met, over the module


# --- the reference: the Python loop as it was before the kernel ------------------------------------------------

def _reference_pressure_step(self, w, f, d, assembled, reuse=False):
    n = self.n_free
    if not n:
        return False
    inv_diag, l_values, l_diag, y = w.factor
    own = (inv_diag,) if self.reduced.name == "envelope" else (l_values, l_diag, y)
    if assembled:
        hk.assemble_reduced(self.system, self.free_index, w.branch, w.g, w.values, w.rhs)
        w.dp[:n] = w.rhs[:n]
        if reuse:
            rs.solve_factored(self.reduced, w.dp, own)
            return True
        if rs.factor_solve(self.reduced, w.values, w.dp, own):
            return self.reduced.name == "sparse"
        COUNTS["fallbacks"] += 1
    nb = self.n_branch
    rows, cols = np.empty(4 * nb, dtype=np.int64), np.empty(4 * nb, dtype=np.int64)
    values, rhs = np.empty(4 * nb), np.empty(n)
    hk.reduced_pattern(self.branch_from, self.branch_to, self.free_index, rows, cols)
    hk.reduced_system(f, d, w.g, self.branch_from, self.branch_to, self.free_index, values, rhs)
    w.dp[:n] = rs.superlu_solve(rows, cols, values, rhs, n)
    return False


def _reference_iterate(self, w, m_start, injection, pumps, tol_pa, tol_mass_rel, max_iterations, warm=False,
                       resume=None, session=None, min_iterations=1, chord=False):
    b_from, b_to, free_index, system = self.branch_from, self.branch_to, self.free_index, self.system
    assembled = self.reduced.name != "scipy"
    p_fixed_max = self._p_fixed_max
    inj_max = float(np.max(np.abs(injection), initial=0.0))
    evaluations, factorisations = [0], 0

    def evaluate(m, p, f, d, explicit=False):
        evaluations[0] += 1
        return hk.gga_evaluate(m, p, b_from, b_to, self.pipes, pumps, w.memory, explicit,
                               injection, free_index, _NO_ASSEMBLY, w.branch, f, d, w.g, w.values, w.rhs)

    if resume is not None:
        m, p, f, d = resume
        m_new, p_new, f_new, d_new = (w.m if m is w.m_new else w.m_new, w.p if p is w.p_new else w.p_new,
                                      w.f if f is w.f_new else w.f_new, w.d if d is w.d_new else w.d_new)
        f_max, f_at, h_max, m_max, g_max, g_at = hk.gga_assemble(m, b_from, b_to, injection, free_index,
                                                                 _NO_ASSEMBLY, w.branch, f, w.g, w.values, w.rhs)
    else:
        m, m_new, p, p_new, f, f_new, d, d_new = w.m, w.m_new, w.p, w.p_new, w.f, w.f_new, w.d, w.d_new
        m[:] = m_start
        for start in w.memory:
            start[:] = 0.0
        p[:] = self._p_start
        f_max, f_at, h_max, m_max, g_max, g_at = evaluate(m, p, f, d, explicit=not warm)
    iterations = 0
    converged = False
    factored = session is not None and session.factored
    f_before = 0.0
    reuse = False
    first_test = min_iterations if warm or resume is not None else max(min_iterations, 1)
    while True:
        tol_f = max(tol_pa, 16.0 * _EPS * max(p_fixed_max, h_max))
        tol_g = max(tol_mass_rel * max(m_max, inj_max), _TINY)
        if reuse:
            tol_g = max(min(tol_g, 64.0 * _EPS * max(m_max, inj_max)), _TINY)
        if iterations >= first_test and f_max <= tol_f and g_max <= tol_g:
            converged = True
            break
        if iterations >= max_iterations:
            break
        iterations += 1
        reuse = chord and (iterations == 1 or (factored and f_max * f_max < 0.01 * tol_f * f_before))
        COUNTS["chord_reuses"] += int(reuse and iterations > 1)
        f_before = f_max
        factorisations += int(assembled and self.n_free > 0 and not reuse)  # (factor_solve's calls)
        factored = _reference_pressure_step(self, w, f, d, assembled, reuse=reuse)
        alpha = 1.0
        for _ in range(12):
            hk.newton_step(m, p, f, d, w.dp, self.node_row, system[0], system[1], alpha, m_new, p_new)
            if chord and iterations == 1:
                session.correct_chord(injection, m_new, p_new)
            stats = evaluate(m_new, p_new, f_new, d_new)
            if iterations == 1 or stats[0] < f_max or stats[0] <= tol_f:
                break
            alpha *= 0.5
            COUNTS["backtracks"] += 1
        f_max, f_at, h_max, m_max, g_max, g_at = stats
        m, m_new = m_new, m
        p, p_new = p_new, p
        f, f_new = f_new, f
        d, d_new = d_new, d

    if session is not None:
        session.last = (m, p, f, d)
        session.factored = factored
        if session.chords:
            session._ended(injection, m, p)
    m_out = m.copy()
    result = HydraulicResult(p_pa=p.copy(), m_kg_s=m_out, pipe_m_kg_s=m_out[:self.n_pipe],
                             pump_m_kg_s=m_out[self.n_pipe:], supply_kg_s=np.where(self.fixed, -w.g, 0.0),
                             iterations=iterations, max_mass_imbalance_kg_s=float(g_max),
                             max_pressure_residual_pa=float(f_max), converged=converged,
                             evaluations=evaluations[0], factorisations=factorisations)
    if not converged:
        raise ConvergenceError("no convergence", partial=result)
    return result


# --- random networks and runs of solves ------------------------------------------------------------------------

def random_network(rng, n, chords, n_pump, n_fixed):
    """A connected network: a random tree plus loop-closing pipes, pumps between random nodes, ``n_fixed``
    fixed pressures, random demands and a few injections; pipes DN20-DN150 (DN20 ones often laminar)."""
    fr, to = [], []
    for v in range(1, n):
        fr.append(int(rng.integers(0, v)))
        to.append(v)
    edges = {(min(a, b), max(a, b)) for a, b in zip(fr, to)}
    for _ in range(chords):
        u, v = (int(x) for x in rng.choice(n, 2, replace=False))
        if (min(u, v), max(u, v)) not in edges:
            edges.add((min(u, v), max(u, v)))
            fr.append(u)
            to.append(v)
    nb = len(fr)
    p = np.full(n, np.nan)
    fixed = rng.choice(n, n_fixed, replace=False)
    p[fixed] = rng.uniform(5.5e5, 6e5, n_fixed)
    inj = -rng.uniform(0.0, 2.0, n)
    inj[rng.choice(n, max(1, n // 8), replace=False)] = rng.uniform(0.5, 3.0, max(1, n // 8))
    pump_ends = [tuple(int(x) for x in rng.choice(n, 2, replace=False)) for _ in range(n_pump)]
    return dict(node_fixed_p_pa=p, node_injection_kg_s=inj, pipe_from=fr, pipe_to=to,
                pipe_length_m=rng.uniform(5.0, 400.0, nb),
                pipe_diameter_m=rng.choice([0.02, 0.0545, 0.1091, 0.1603], nb),
                pipe_roughness_m=5e-5, pipe_k_minor=rng.uniform(0.0, 3.0, nb),
                pump_from=[a for a, _ in pump_ends], pump_to=[b for _, b in pump_ends],
                pump_h0_m=rng.uniform(10.0, 40.0, n_pump), pump_a_s_m2=rng.uniform(0.0, 50.0, n_pump),
                pump_b_s2_m5=rng.uniform(100.0, 5e3, n_pump), pump_speed_ratio=rng.uniform(0.6, 1.1, n_pump),
                density_kg_m3=RHO, viscosity_pa_s=MU)


def _zero_work(w):
    """Zero every array of a work set (two runs then start from the same bits, np.empty's garbage aside)."""
    for item in w:
        for a in (item if isinstance(item, tuple) else (item,)):
            if isinstance(a, np.ndarray):
                a[:] = 0


def _work_bits(w):
    out = []
    for item in w:
        for a in (item if isinstance(item, tuple) else (item,)):
            out.append(a.tobytes() if isinstance(a, np.ndarray) else a)
    return out


def _session_state(session):
    w = session.work
    where = None if session.last is None else [
        [k for k, a in enumerate(w) if a is x] for x in session.last]
    record = None if session._record is None else [a.tobytes() for a in session._record]
    return (where, session.factored, session.chords, session.pumps is None, record, session._known.tobytes(),
            _work_bits(w))


def _result_bits(res: HydraulicResult):
    return (res.p_pa.tobytes(), res.m_kg_s.tobytes(), res.supply_kg_s.tobytes(), res.iterations,
            np.float64(res.max_mass_imbalance_kg_s).tobytes(), np.float64(res.max_pressure_residual_pa).tobytes(),
            res.converged, res.evaluations, res.factorisations)


def _run(net: HydraulicNetwork, plan, reference: bool):
    """The solves of ``plan`` in one held session, and a plain one each: their results and the session's state
    after each (partial results of a convergence error; its message is the driver's, not compared)."""
    session = net.held_session()
    _zero_work(session.work)
    out = []
    last = None
    for kind, scale, chord_first, min_iterations, max_iterations in plan:
        inj = net.injection * scale
        kw = dict(node_injection_kg_s=inj, max_iterations=max_iterations)
        if kind == "last" and last is not None:
            kw.update(m_start_kg_s=last, min_iterations=min_iterations, chord_first=chord_first)
        elif kind == "guess" and last is not None:
            kw.update(m_start_kg_s=last * 1.05, m_start_is_guess=True)
        elif kind == "nudged" and last is not None:
            kw.update(m_start_kg_s=last * (1.0 + 1e-15), chord_first=chord_first)
        for held in (session, None):
            try:
                res = net.solve(session=held, **kw)
            except ConvergenceError as err:
                res = err.partial
            out.append(_result_bits(res))
            if held is not None:
                out.append(_session_state(session))
                last = res.m_kg_s
    return out


def _compare(net_args, linear_solver, plan, monkeypatch):
    new_net = prepare_hydraulic_network(**net_args, linear_solver=linear_solver)
    ref_net = prepare_hydraulic_network(**net_args, linear_solver=linear_solver)
    new = _run(new_net, plan, reference=False)
    with monkeypatch.context() as patch:
        patch.setattr(HydraulicNetwork, "_iterate", _reference_iterate)
        ref = _run(ref_net, plan, reference=True)
    assert len(new) == len(ref)
    for k, (a, b) in enumerate(zip(new, ref)):
        assert a == b, f"solve {k // 3}, item {k % 3}: differs from the Python loop"


step = st.tuples(st.sampled_from(["last", "last", "last", "guess", "nudged", "default"]),
                 st.sampled_from([1.0, 1.0 + 1e-6, 1.002, 0.97, 1.3]), st.booleans(), st.sampled_from([0, 1]),
                 st.sampled_from([50, 50, 50, 1, 2]))


@settings(max_examples=60 if not JIT_OFF else 15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 60), chords=st.integers(0, 20), n_pump=st.integers(0, 3),
       n_fixed=st.integers(1, 3), linear_solver=st.sampled_from(["sparse", "sparse", "envelope", "scipy", "auto"]),
       plan=st.lists(step, min_size=1, max_size=6))
def test_the_kernel_iteration_is_the_python_loop_to_the_bit(seed, n, chords, n_pump, n_fixed, linear_solver, plan,
                                                            monkeypatch):
    rng = np.random.default_rng(seed)
    net_args = random_network(rng, n, chords, n_pump, min(n_fixed, n))
    _compare(net_args, linear_solver, plan, monkeypatch)


@pytest.mark.parametrize("linear_solver", ["sparse", "envelope", "scipy"])
def test_the_paths_the_random_runs_must_meet(linear_solver, monkeypatch):
    # Deterministic runs through backtracking (pumps started from the default start) and chord steps reused
    # after the first (a series of small changes), compared to the bit; and the counts show these paths were taken.
    before = dict(COUNTS)
    rng = np.random.default_rng(4)
    net_args = random_network(rng, 40, 15, 3, 2)
    plan = [("default", 1.0, False, 1, 50)] + [("last", 1.0 + 1e-4 * k, True, 1, 50) for k in range(1, 8)]
    _compare(net_args, linear_solver, plan, monkeypatch)
    assert COUNTS["backtracks"] > before["backtracks"]
    if linear_solver == "sparse":
        assert COUNTS["chord_reuses"] > before["chord_reuses"]


@pytest.mark.filterwarnings("ignore::scipy.sparse.linalg.MatrixRankWarning")
def test_a_pivot_that_is_not_positive_falls_back_to_superlu_as_before(monkeypatch):
    # Conductances 1e15 apart in series: the second pivot of the envelope or sparse LDL^T rounds to 0, and the
    # step goes to SuperLU (the kernel stops, the driver solves, the kernel resumes), as the Python loop did
    # (SuperLU finds the matrix singular to rounding too: the path is what is compared here, not the answer).
    p = np.array([6e5, np.nan, np.nan, 5e5])
    net_args = dict(node_fixed_p_pa=p, node_injection_kg_s=0.0, pipe_from=[0, 1, 2], pipe_to=[1, 2, 3],
                    pipe_length_m=[1e5, 1e-6, 1e5], pipe_diameter_m=[0.001, 1.0, 0.001], pipe_roughness_m=0.0,
                    density_kg_m3=RHO, viscosity_pa_s=MU)
    calls = []
    real = HydraulicNetwork._superlu_step
    monkeypatch.setattr(HydraulicNetwork, "_superlu_step", lambda *a: (calls.append(1), real(*a)))
    for linear_solver in ("sparse", "envelope"):
        before = COUNTS["fallbacks"]
        calls[:] = []
        _compare(net_args, linear_solver, [("default", 1.0, False, 1, 50), ("last", 1.0, True, 1, 50)], monkeypatch)
        assert COUNTS["fallbacks"] > before and calls


def test_the_driver_passes_the_kernel_arrays_of_its_solver():
    rng = np.random.default_rng(3)
    for name in ("sparse", "envelope", "scipy"):
        net = prepare_hydraulic_network(**random_network(rng, 12, 4, 1, 1), linear_solver=name)
        kind = net._kernel_solver[0]
        assert kind == {"envelope": hn.gi.SOLVER_ENVELOPE, "sparse": hn.gi.SOLVER_SPARSE,
                        "scipy": hn.gi.SOLVER_EXTERNAL}[name]
