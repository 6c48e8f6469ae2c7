"""Steady incompressible flow in a pipe network with loops: the Python driver of the hydraulic kernels.

:func:`prepare_hydraulic_network` takes plain arrays (nodes, pipes, pumps; SI units), checks them once and
sets up everything that depends on the topology only; :meth:`HydraulicNetwork.solve` then runs Newton's
method in the form of the Global Gradient Algorithm (Todini & Pilati 1988; see
:mod:`gigawatt.solver.numerics.hydraulic_kernel`, which holds the equations, the per-element kernels and the
references), as often as wanted with other injections or pump speeds; the iteration itself runs in one kernel
(:mod:`gigawatt.solver.numerics.hydraulic_iteration`), which returns here only for a step by SuperLU.
:func:`solve_hydraulic_network` does both in one call. The coolant and district-heating stages call them with
their own element tables turned into these arrays; this module knows nothing of cases or schemas.

The reduced system ``(A^T D^-1 A) dp = rhs`` of each iteration is solved by an ``L D L^T`` factorisation
whose ordering and storage are set up once (:mod:`gigawatt.solver.numerics.spd_solvers`): envelope storage in a
reverse Cuthill-McKee order for long thin networks (a cooling loop's ladder), a sparse factor in a
minimum-degree order where the envelope would be wide (racks modelled plate by plate, meshed grids);
``linear_solver`` forces one of them or SuperLU (``scipy.sparse.linalg.spsolve``).

Speed (10,240 racks, 3x10^4 pipes, on the 2-core machine of the benchmarks): the kernel evaluates an
iterate in well under a millisecond (vectorised Colebrook passes, each pipe starting from a prediction out
of its last root), a factorisation and solve of the reduced system takes about half a millisecond, and
work arrays are kept between solves of a prepared network (:mod:`gigawatt.solver.numerics.work_arrays`); see
``gigawatt bench``. Solves that continue one another (a fixed point's iterates, each starting from the last
one's answer) run in a :meth:`HydraulicNetwork.session`, where the start's evaluation is the last solve's; a time
series holds one for its run (:meth:`HydraulicNetwork.held_session`) and takes chord steps with the last
factorisation where they converge as fast as Newton's (``solve(chord_first=True)``): about one factorisation a step.

Sign convention: a branch mass flow is positive from its ``from`` node to its ``to`` node; a node
injection is positive into the network (a demand is negative); pressures are as given (gauge or absolute,
the equations only see differences). Elevation is not included.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.solver.numerics import hydraulic_iteration as gi
from gigawatt.solver.numerics import hydraulic_kernel as hk
from gigawatt.solver.numerics import spd_solvers as rs
from gigawatt.solver.numerics.work_arrays import ScratchPool


LINEAR_SOLVERS = ("auto", *rs.REDUCED_SOLVERS)
"""Choices of ``linear_solver`` (``auto``: see :func:`gigawatt.solver.numerics.spd_solvers.choose`)."""

@dataclass(frozen=True)
class HydraulicResult:
    """Solution of :func:`solve_hydraulic_network`.

    Attributes
    ----------
    p_pa : ndarray[nn]
        Node pressures [Pa] (fixed ones as given).
    m_kg_s : ndarray[nb]
        Branch mass flows [kg/s], pipes first then pumps, > 0 from ``from`` to ``to``.
    pipe_m_kg_s, pump_m_kg_s : ndarray
        The same flows split by branch type [kg/s] (views of ``m_kg_s``).
    supply_kg_s : ndarray[nn]
        Flow each node's pressure holder injects [kg/s] (0 at free nodes); their sum balances the
        given injections.
    iterations : int
        Newton iterations taken.
    max_mass_imbalance_kg_s : float
        Largest |inflow - outflow + injection| over the free nodes [kg/s].
    max_pressure_residual_pa : float
        Largest |h_b(m_b) - (p_from - p_to)| over the branches [Pa]; it bounds the pressure residual
        around any loop of k branches by k times itself.
    converged : bool
        Whether the tolerances were met.
    evaluations : int
        Iterates evaluated (branch laws and residuals): the start's, unless a session had it from the last
        solve, and every trial step's.
    factorisations : int
        Numeric factorisations of the reduced system begun (envelope or sparse; a chord step takes none).
    """

    p_pa: np.ndarray
    m_kg_s: np.ndarray
    pipe_m_kg_s: np.ndarray
    pump_m_kg_s: np.ndarray
    supply_kg_s: np.ndarray
    iterations: int
    max_mass_imbalance_kg_s: float
    max_pressure_residual_pa: float
    converged: bool
    evaluations: int
    factorisations: int



def _array(value, n, dtype=float):
    return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), (n,))).copy()


def _namer(kind: str, ids):
    """Element names for error messages, made only when one is needed (ids may hold 10^5 entries)."""
    if ids is None:
        return lambda i: f"{kind} {i}"
    return lambda i: f"{kind} '{ids[i]}'"


def _check(name, values, label, ok, allowed):
    bad = np.flatnonzero(~ok(values))
    if bad.size:
        i = int(bad[0])
        raise CaseError("out of range", element=label(i), field=name, value=float(values[i]), allowed=allowed)


class _Work(NamedTuple):
    """Scratch arrays of one solve (see :mod:`gigawatt.solver.numerics.work_arrays`)."""

    memory: hk.ColebrookMemory
    branch: hk.BranchWork
    m: np.ndarray
    m_new: np.ndarray
    p: np.ndarray
    p_new: np.ndarray
    f: np.ndarray
    f_new: np.ndarray
    d: np.ndarray
    d_new: np.ndarray
    g: np.ndarray
    values: np.ndarray     # the reduced matrix in its solver's storage + a spare slot
    rhs: np.ndarray        # right-hand side + a spare slot
    dp: np.ndarray         # pressure step + a spare slot that stays 0
    factor: tuple          # the linear solvers' work arrays (_kernel_factor)


class HydraulicSession:
    """A run of solves of one network that continue one another (made by :meth:`HydraulicNetwork.session`):
    one set of work arrays held for the run, and where in it the last solve's final iterate lies (its flows,
    pressures, residuals and slopes, branch laws and Colebrook roots). A solve in the session that starts from
    flows equal, bit for bit, to the last solve's answer takes that evaluation instead of evaluating the same
    flows again; nothing else carries over, and nothing outlives the session."""

    def __init__(self, work):
        self.work = work
        self.last = None  # (m, p, f, d) arrays of ``work`` holding the last solve's final iterate, or None
        self.pumps = None  # the pump curves and speeds it was solved with
        self.factored = False  # whether ``work`` holds the sparse factor of the last solve's last Newton step
        self.chords = False  # whether the solves of this session take chord first steps (solve's chord_first)
        # correct_chord's record, in arrays kept for the session: the last injections and their change, the last
        # first step's flows and pressures and the remainder the solve added to them
        self._record = None
        self._known = np.zeros(3, dtype=np.bool_)  # whether the change, the chord step, the remainder are known

    def correct_chord(self, injection, m, p) -> None:
        """The first step of a chord solve has just made flows ``m`` and pressures ``p`` [kg/s, Pa] for node
        injections ``injection``: keep them, and add to them the last solve's remainder (its answer less its chord
        step's) scaled by the square of a, the projection <dI, dI_last>/<dI_last, dI_last> (clipped to [0, 2]) of
        this change of the injections on the last one: the chord step is exact to first order in the change, its
        remainder of second order, so a change along the last one leaves a² times the last remainder
        (:func:`~gigawatt.solver.numerics.hydraulic_kernel.chord_correction`)."""
        hk.chord_correction(injection, m, p, *self._arrays(injection, m, p), self._known)

    def _ended(self, injection, m, p) -> None:
        """Bookkeeping of :meth:`correct_chord` at the end of a solve with answer ``m``, ``p``."""
        hk.chord_record(injection, m, p, *self._arrays(injection, m, p), self._known)

    def _arrays(self, injection, m, p):
        if self._record is None:
            self._record = (np.zeros(injection.size), np.zeros(injection.size), np.zeros(m.size),
                            np.zeros(p.size), np.zeros(m.size), np.zeros(p.size), np.zeros(1, dtype=np.bool_))
        return self._record


@dataclass(frozen=True, eq=False)
class HydraulicNetwork:
    """A checked network, set up for repeated solves: made by :func:`prepare_hydraulic_network`.

    Holds the branch arrays (pipes first, then pumps), the per-pipe constants of the residual kernel and
    the ordering and storage of the reduced matrix; all read-only. Its work arrays are kept between
    solves in a :class:`~gigawatt.solver.numerics.work_arrays.ScratchPool` (one set per running solve), so one network
    may be solved from several threads at once.
    """

    n_node: int
    n_pipe: int
    n_pump: int
    p_fixed: np.ndarray            # [nn] fixed pressures [Pa], NaN at free nodes
    fixed: np.ndarray              # [nn] bool
    injection: np.ndarray          # [nn] default injections [kg/s], 0 at fixed nodes
    branch_from: np.ndarray        # [nb] int64
    branch_to: np.ndarray
    branch_kind: np.ndarray        # BRANCH_PIPE / BRANCH_PUMP
    area_m2: np.ndarray            # [nb] pipe cross-section (0 for pumps), for the default start
    pipes: hk.PipeCoefficients     # [np] per-pipe constants of the pipe law
    pumps: hk.PumpCurves           # [nb] pump curves, default speed ratios, and the density of every branch
    free_index: np.ndarray         # [nn] row of each free node in the reduced system (solver's order), -1 if fixed
    node_row: np.ndarray           # [nn] free_index, with n_free (a spare row) in place of -1
    n_free: int
    reduced: rs.Layout             # the linear solver's order and storage of the reduced matrix
    system: tuple                  # [nb] rows of each branch's ends and places of its entries in the
                                   # value array (hydraulic_kernel.assemble_reduced), spare slot if none
    node_ids: object = None
    pipe_ids: object = None
    pump_ids: object = None
    pipe_viscosity_pa_s: np.ndarray = None  # [np] the viscosity the pipe constants were made with
    scratch: ScratchPool = field(default=None, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "scratch", ScratchPool(self._make_work))
        # What every solve starts from unless told otherwise, computed once.
        p_start = np.where(self.fixed, self.p_fixed, np.mean(self.p_fixed[self.fixed]) if self.fixed.any() else 0.0)
        object.__setattr__(self, "_p_start", p_start)
        object.__setattr__(self, "_p_fixed_max", float(np.max(np.abs(self.p_fixed[self.fixed]), initial=0.0)))
        object.__setattr__(self, "_m_start", self.start_flows())
        object.__setattr__(self, "_kernel_network", (self.branch_from, self.branch_to, self.free_index, self.node_row,
                                                     self.system))
        object.__setattr__(self, "_kernel_solver", _kernel_solver(self.reduced, self.n_free))

    @property
    def n_branch(self) -> int:
        return self.n_pipe + self.n_pump

    @property
    def linear_solver(self) -> str:
        """Name of the reduced system's solver (:data:`gigawatt.solver.numerics.spd_solvers.REDUCED_SOLVERS`)."""
        return self.reduced.name

    @property
    def factor_work(self) -> float:
        """Multiply-adds of one factorisation of the reduced matrix (NaN for SuperLU)."""
        return self.reduced.work

    def with_fluid(self, density_kg_m3, viscosity_pa_s) -> "HydraulicNetwork":
        """The same network with other fluid properties in its pipes (per pipe or one for all: density
        [kg/m^3], dynamic viscosity [Pa s]); pumps keep theirs. The pipe-law constants scale exactly with
        them (``D/(A mu)``, ``1/(2 rho A^2)``, ``32 mu L/(rho A D^2)``), so the topology, ordering and
        factorisation layout are shared, not rebuilt."""
        pc, n_pipe = self.pipes, self.n_pipe
        rho = np.broadcast_to(np.asarray(density_kg_m3, dtype=float), (n_pipe,))
        mu = np.broadcast_to(np.asarray(viscosity_pa_s, dtype=float), (n_pipe,))
        ok = np.isfinite(rho) & (rho > 0) & np.isfinite(mu) & (mu > 0)
        if not ok.all():
            b = int(np.flatnonzero(~ok)[0])
            raise CaseError("not a valid fluid property", element=self.branch_name(b),
                            field="density_kg_m3, viscosity_pa_s", value=(float(rho[b]), float(mu[b])),
                            allowed="> 0")
        rho0, mu0 = self.pumps.density_kg_m3[:n_pipe], self.pipe_viscosity_pa_s
        pipes = pc._replace(re_per_kg_s=pc.re_per_kg_s * (mu0 / mu), k_dyn=pc.k_dyn * (rho0 / rho),
                            laminar=pc.laminar * ((mu / mu0) * (rho0 / rho)))
        density = self.pumps.density_kg_m3.copy()
        density[:n_pipe] = rho
        return replace(self, pipes=pipes, pumps=self.pumps._replace(density_kg_m3=density),
                       pipe_viscosity_pa_s=np.array(mu))

    def branch_name(self, b: int) -> str:
        """Name of branch ``b`` (pipes first, then pumps) for messages."""
        if b < self.n_pipe:
            return _namer("pipe", self.pipe_ids)(b)
        return _namer("pump", self.pump_ids)(b - self.n_pipe)

    def node_name(self, i: int) -> str:
        return _namer("node", self.node_ids)(i)

    def _make_work(self) -> _Work:
        nn, nb, n_pipe, n_free = self.n_node, self.n_branch, self.n_pipe, self.n_free
        n_values = self.reduced.n_values + 1 if self.reduced.name != "scipy" else 0
        return _Work(hk.ColebrookMemory(np.zeros(n_pipe), np.zeros(n_pipe), np.zeros(n_pipe)),
                     hk.branch_work(n_pipe, nb),
                     *(np.empty(k) for k in (nb, nb, nn, nn, nb, nb, nb, nb, nn, n_values, n_free + 1)),
                     np.zeros(n_free + 1), _kernel_factor(self.reduced))

    @contextmanager
    def session(self):
        """A :class:`HydraulicSession` for a run of solves that continue one another (pass it to :meth:`solve`;
        its work set is held until the block ends)."""
        with self.scratch.take() as work:
            yield HydraulicSession(work)

    def held_session(self) -> HydraulicSession:
        """A :class:`HydraulicSession` with its own work set, held for as long as the caller keeps it (a time
        series stepping one network: each step's solve continues the last one's); the set is the pool's free one
        where there is one."""
        return HydraulicSession(self.scratch.keep())

    def start_flows(self, pump_speed_ratio=None) -> np.ndarray:
        """Default starting flows [kg/s]: 1 m/s in every pipe, each pump where its head is half its
        shut-off head at its speed."""
        nb, pumps = self.n_branch, slice(self.n_pipe, self.n_branch)
        q = self.pumps
        speed = q.speed_ratio if pump_speed_ratio is None else pump_speed_ratio
        m = q.density_kg_m3 * self.area_m2  # 1 m/s; pumps have area 0 and are overwritten
        if self.n_pump:
            # A pump where H = H0 n^2 / 2: b Q^2 + a n Q - H0 n^2 / 2 = 0.
            n_, aa, bb, hh = speed[pumps], q.a_s_m2[pumps], q.b_s2_m5[pumps], q.h0_m[pumps]
            with np.errstate(divide="ignore", invalid="ignore"):
                q_half = np.where(bb > 0, (-aa * n_ + np.sqrt((aa * n_) ** 2 + 2.0 * bb * hh * n_ ** 2))
                                  / (2.0 * bb), 0.5 * hh * n_ / np.where(aa > 0, aa, 1.0))
            m[pumps] = q.density_kg_m3[pumps] * q_half
        return m

    def solve(self, *, node_injection_kg_s=None, pump_speed_ratio=None, tol_pa=1e-8, tol_mass_rel=1e-13,
              max_iterations=50, m_start_kg_s=None, m_start_is_guess=False,
              session: HydraulicSession | None = None, min_iterations=1, chord_first=False) -> HydraulicResult:
        """Steady flows and pressures (Global Gradient Algorithm); see :func:`solve_hydraulic_network`.

        Parameters
        ----------
        node_injection_kg_s : array_like[nn] or float, optional
            Injections [kg/s] in place of the prepared ones (ignored at fixed-pressure nodes).
        pump_speed_ratio : array_like[nq] or float, optional
            Pump speed ratios [-] in place of the prepared ones.
        tol_pa, tol_mass_rel, max_iterations, m_start_kg_s, m_start_is_guess
            As in :func:`solve_hydraulic_network`.
        session : HydraulicSession, optional
            Of this network (:meth:`session`): the solve uses its work arrays, and starts from the last solve's
            final evaluation where ``m_start_kg_s`` is that solve's answer (the same iterate, to rounding: the
            Colebrook roots and pressures it was evaluated with).
        min_iterations : int
            Newton steps taken before convergence is tested (default 1). 0: a session's last answer, given as
            the start, is returned as it is when it already meets the tolerances at these injections and pump
            speeds (its residuals are Colebrook's, kept from that solve, its node balances made anew), as in a
            time step whose hydraulics did not change. A start without its pressures (not resumed in a session)
            meets them only where the start's pressures fit; a guess (or the default start, whose friction
            factors are Haaland's) always takes a step.
        chord_first : bool
            A solve resumed in a session whose last solve ended with a sparse factorisation takes its first step
            with that factor (a chord step from the last answer for the new injections: no evaluation and no
            factorisation before it, the slopes one Newton step old), plus the second-order remainder the last
            such step left, scaled to this change of the injections (:meth:`HydraulicSession.correct_chord`); the
            later steps are Newton's, to the same tolerances (a time series, whose injections change a little
            each step).

        Returns
        -------
        HydraulicResult
        """
        nn, nb, n_pipe = self.n_node, self.n_branch, self.n_pipe
        injection = self.injection
        if node_injection_kg_s is not None:
            given = node_injection_kg_s
            plain = type(given) is np.ndarray and given.dtype == np.float64 and given.shape == (nn,)
            injection = given.copy() if plain else _array(given, nn)  # (a step's own array: copied as it is)
            injection[self.fixed] = 0.0
            if not np.isfinite(injection).all():  # (the check names the first node that is not)
                _check("node_injection_kg_s", injection, _namer("node", self.node_ids), np.isfinite, "finite")
        pumps = self.pumps
        if pump_speed_ratio is not None:
            speed = pumps.speed_ratio.copy()
            speed[n_pipe:] = _array(pump_speed_ratio, self.n_pump)
            _check("speed_ratio", speed[n_pipe:], _namer("pump", self.pump_ids), lambda x: (x > 0) & np.isfinite(x),
                   "> 0")
            pumps = pumps._replace(speed_ratio=speed)
        if m_start_kg_s is not None:
            m_start = m_start_kg_s
        elif pump_speed_ratio is not None:
            m_start = self.start_flows(pumps.speed_ratio)
        else:
            m_start = self._m_start
        warm = m_start_kg_s is not None and not m_start_is_guess
        if session is None:
            with self.scratch.take() as work:
                return self._iterate(work, m_start, injection, pumps, tol_pa, tol_mass_rel, max_iterations,
                                     warm=warm, min_iterations=min_iterations)
        last, session.last = session.last, None
        resume = (last is not None and m_start_kg_s is not None and pumps is session.pumps
                  and np.array_equal(last[0], m_start_kg_s))
        session.pumps = pumps
        session.chords |= chord_first
        chord = chord_first and resume and session.factored and self.reduced.name == "sparse"
        return self._iterate(session.work, m_start, injection, pumps, tol_pa, tol_mass_rel, max_iterations,
                             warm=warm, resume=last if resume else None, session=session,
                             min_iterations=min_iterations, chord=chord)

    def _iterate(self, w: _Work, m_start, injection, pumps, tol_pa, tol_mass_rel, max_iterations, warm=False,
                 resume=None, session=None, min_iterations=1, chord=False):
        """The Newton iteration of :meth:`solve` in the work arrays ``w``
        (:func:`~gigawatt.solver.numerics.hydraulic_iteration.gga_iterate`, which returns here only for a step
        by SuperLU); ``resume``: the arrays ``(m, p, f, d)`` of ``w`` holding the evaluation of the start (a
        session's last solve's final iterate), else None; where it ends goes to ``session``; ``min_iterations``
        as :meth:`solve` (0 only for a start whose residuals are Colebrook's: ``warm`` or ``resume``)."""
        if resume is not None:
            m, p, f, d = resume
            # the current iterate's arrays and the next one's
            pairs = (m, w.m if m is w.m_new else w.m_new, p, w.p if p is w.p_new else w.p_new,
                     f, w.f if f is w.f_new else w.f_new, d, w.d if d is w.d_new else w.d_new)
        else:
            w.m[:] = m_start  # (broadcasts a scalar, checks the length of an array)
            pairs = (w.m, w.m_new, w.p, w.p_new, w.f, w.f_new, w.d, w.d_new)
        first_test = min_iterations if warm or resume is not None else max(min_iterations, 1)
        chords = session is not None and session.chords
        record = (*session._arrays(injection, w.m, w.p), session._known) if chords else _NO_RECORD
        settings = np.array([tol_pa, tol_mass_rel, max_iterations, first_test, self._p_fixed_max, warm,
                             resume is not None, chord, chords], dtype=float)
        state, fstate = np.zeros(10, dtype=np.int64), np.zeros(5)
        state[gi.FACTORED] = session is not None and session.factored
        args = (self._kernel_network, self.pipes, pumps, w.memory, w.branch, w.g, w.values, w.rhs, w.dp,
                self._kernel_solver, w.factor, injection, self._p_start, record, settings)
        while gi.gga_iterate(state, fstate, *pairs, *args) == gi.NEED_STEP:
            odd = state[gi.SWAPS] % 2
            self._superlu_step(w, pairs[4 + odd], pairs[6 + odd])
            state[gi.PHASE] = gi.STEP_GIVEN
        odd = int(state[gi.SWAPS] % 2)
        m, p = pairs[odd], pairs[2 + odd]
        iterations, converged = int(state[gi.ITERATIONS]), bool(state[gi.CONVERGED])
        f_at, g_at = int(state[gi.F_AT]), int(state[gi.G_AT])
        f_max, g_max = float(fstate[gi.F_MAX]), float(fstate[gi.G_MAX])
        if session is not None:
            session.last = (m, p, pairs[4 + odd], pairs[6 + odd])
            session.factored = bool(state[gi.FACTORED])
        m_out = m.copy()
        result = HydraulicResult(p_pa=p.copy(), m_kg_s=m_out, pipe_m_kg_s=m_out[:self.n_pipe],
                                 pump_m_kg_s=m_out[self.n_pipe:], supply_kg_s=np.where(self.fixed, -w.g, 0.0),
                                 iterations=iterations, max_mass_imbalance_kg_s=g_max,
                                 max_pressure_residual_pa=f_max, converged=converged,
                                 evaluations=int(state[gi.EVALUATIONS]),
                                 factorisations=int(state[gi.FACTORISATIONS]))
        if not converged:
            branch = self.branch_name(f_at) if f_at >= 0 else None
            node = self.node_name(g_at) if g_at >= 0 else None
            raise ConvergenceError(
                f"hydraulic network: no convergence in {iterations} iterations; largest pressure residual "
                f"{f_max:.3g} Pa at {branch} (flow {m[f_at]:.6g} kg/s), largest mass imbalance {g_max:.3g} kg/s "
                f"at {node}", partial=result,
                details={"branch": branch, "node": node, "max_pressure_residual_pa": float(f_max),
                         "max_mass_imbalance_kg_s": float(g_max), "iterations": iterations})
        return result

    def _superlu_step(self, w: _Work, f, d) -> None:
        """The pressure step into ``w.dp[:n_free]`` by SuperLU, from the current iterate's residuals ``f``, slopes
        ``d`` and node balances ``w.g`` (:func:`~gigawatt.solver.numerics.hydraulic_kernel.reduced_system`): the
        solver ``scipy``, and the fall-back of the others where a pivot was not positive (the matrix is symmetric
        positive definite, so only rounding can do that)."""
        n, nb = self.n_free, self.n_branch
        rows, cols = np.empty(4 * nb, dtype=np.int64), np.empty(4 * nb, dtype=np.int64)
        values, rhs = np.empty(4 * nb), np.empty(n)
        hk.reduced_pattern(self.branch_from, self.branch_to, self.free_index, rows, cols)
        hk.reduced_system(f, d, w.g, self.branch_from, self.branch_to, self.free_index, values, rhs)
        w.dp[:n] = rs.superlu_solve(rows, cols, values, rhs, n)


_NO_INT = np.zeros(0, dtype=np.int64)
_NO_RECORD = (*(np.zeros(0) for _ in range(6)), np.zeros(1, dtype=np.bool_), np.zeros(3, dtype=np.bool_))
"""The chord record passed for a solve that keeps none (never read)."""


def _kernel_solver(reduced: rs.Layout, n_free: int) -> tuple:
    """The ``solver`` argument of :func:`~gigawatt.solver.numerics.hydraulic_iteration.gga_iterate`."""
    envelope, sparse = (_NO_INT,) * 2, (_NO_INT,) * 7
    if reduced.name == "envelope":
        kind, envelope = gi.SOLVER_ENVELOPE, reduced.data
    elif reduced.name == "sparse":
        col_ptr, row_index, _, l_ptr, row_ptr, row_col, row_place, l_index = reduced.data
        kind, sparse = gi.SOLVER_SPARSE, (col_ptr, row_index, l_ptr, row_ptr, row_col, row_place, l_index)
    else:
        kind = gi.SOLVER_EXTERNAL
    return (kind, n_free, *envelope, *sparse)


def _kernel_factor(reduced: rs.Layout) -> tuple:
    """The ``factor`` work arrays of :func:`~gigawatt.solver.numerics.hydraulic_iteration.gga_iterate`:
    ``(inv_diag, l_values, l_diag, y)``, empty where another solver's."""
    work = rs.REDUCED_SOLVERS[reduced.name].make_work(reduced)
    none = np.zeros(0)
    if reduced.name == "envelope":
        return (work[0], none, none, none)
    if reduced.name == "sparse":
        return (none, *work)
    return (none,) * 4


def prepare_hydraulic_network(*, node_fixed_p_pa, node_injection_kg_s=0.0,
                              pipe_from, pipe_to, pipe_length_m, pipe_diameter_m, pipe_roughness_m, pipe_k_minor=0.0,
                              pump_from=(), pump_to=(), pump_h0_m=(), pump_a_s_m2=0.0, pump_b_s2_m5=0.0,
                              pump_speed_ratio=1.0, density_kg_m3, viscosity_pa_s,
                              node_ids=None, pipe_ids=None, pump_ids=None, linear_solver="auto") -> HydraulicNetwork:
    """Check a network and set it up for :meth:`HydraulicNetwork.solve` (the arguments of
    :func:`solve_hydraulic_network` that describe the network, plus ``linear_solver``).

    Parameters
    ----------
    linear_solver : {"auto", "envelope", "sparse", "scipy"}
        How the reduced system is solved (module notes; :data:`LINEAR_SOLVERS`).

    Returns
    -------
    HydraulicNetwork

    Raises
    ------
    CaseError
        As :func:`solve_hydraulic_network`.
    """
    if linear_solver not in LINEAR_SOLVERS:
        raise CaseError("unknown linear solver", field="linear_solver", value=linear_solver,
                        allowed=", ".join(LINEAR_SOLVERS))
    p_fixed = np.asarray(node_fixed_p_pa, dtype=float).ravel().copy()
    nn = p_fixed.size
    n_pipe = np.asarray(pipe_from).size
    n_pump = np.asarray(pump_from).size
    nb = n_pipe + n_pump
    node_label, pipe_label, pump_label = (_namer("node", node_ids), _namer("pipe", pipe_ids),
                                          _namer("pump", pump_ids))

    def branch_label(b):
        return pipe_label(b) if b < n_pipe else pump_label(b - n_pipe)

    injection = _array(node_injection_kg_s, nn)
    fixed = np.isfinite(p_fixed)
    injection[fixed] = 0.0
    _check("node_injection_kg_s", injection, node_label, np.isfinite, "finite")

    b_from = np.concatenate([np.asarray(pipe_from, dtype=np.int64).ravel(),
                             np.asarray(pump_from, dtype=np.int64).ravel()])
    b_to = np.concatenate([np.asarray(pipe_to, dtype=np.int64).ravel(), np.asarray(pump_to, dtype=np.int64).ravel()])
    if b_to.size != nb:
        raise CaseError("from and to arrays differ in length", field="pipe_to/pump_to", value=b_to.size,
                        allowed=f"{nb}")
    for name, ends in (("from", b_from), ("to", b_to)):
        _check(name, ends, branch_label, lambda x: (x >= 0) & (x < nn), f"a node position in [0, {nn})")
    loops = np.flatnonzero(b_from == b_to)
    if loops.size:
        raise CaseError("a branch must join two different nodes", element=branch_label(loops[0]), field="to",
                        value=int(b_to[loops[0]]), allowed=f"not {int(b_from[loops[0]])}")

    kind = np.concatenate([np.full(n_pipe, hk.BRANCH_PIPE, np.int64), np.full(n_pump, hk.BRANCH_PUMP, np.int64)])
    zeros_q, zeros_p = np.zeros(n_pump), np.zeros(n_pipe)
    length = np.concatenate([_array(pipe_length_m, n_pipe), zeros_q])
    diameter = np.concatenate([_array(pipe_diameter_m, n_pipe), zeros_q])
    roughness = np.concatenate([_array(pipe_roughness_m, n_pipe), zeros_q])
    k_minor = np.concatenate([_array(pipe_k_minor, n_pipe), zeros_q])
    h0 = np.concatenate([zeros_p, _array(pump_h0_m, n_pump)])
    a = np.concatenate([zeros_p, _array(pump_a_s_m2, n_pump)])
    bq = np.concatenate([zeros_p, _array(pump_b_s2_m5, n_pump)])
    speed = np.concatenate([zeros_p, _array(pump_speed_ratio, n_pump)])
    rho = _array(density_kg_m3, nb)
    mu = _array(viscosity_pa_s, nb)

    pipes, pumps = slice(0, n_pipe), slice(n_pipe, nb)
    _check("length_m", length[pipes], pipe_label, lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("diameter_m", diameter[pipes], pipe_label, lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("roughness_m", roughness[pipes] / diameter[pipes], pipe_label, lambda x: (x >= 0) & (x <= 0.05),
           "relative roughness in [0, 0.05]")
    _check("k_minor", k_minor[pipes], pipe_label, lambda x: (x >= 0) & np.isfinite(x), ">= 0")
    _check("h0_m", h0[pumps], lambda i: pump_label(i), lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("a_s_m2", a[pumps], pump_label, lambda x: (x >= 0) & np.isfinite(x), ">= 0 s/m^2")
    _check("b_s2_m5", bq[pumps], pump_label, lambda x: (x >= 0) & np.isfinite(x), ">= 0 s^2/m^5")
    _check("a_s_m2 + b_s2_m5", a[pumps] + bq[pumps], pump_label, lambda x: x > 0, "> 0 (a falling head curve)")
    _check("speed_ratio", speed[pumps], pump_label, lambda x: (x > 0) & np.isfinite(x), "> 0")
    _check("density_kg_m3", rho, branch_label, lambda x: (x > 0) & np.isfinite(x), "> 0 kg/m^3")
    _check("viscosity_pa_s", mu, branch_label, lambda x: (x > 0) & np.isfinite(x), "> 0 Pa s")

    # Every connected part needs a fixed pressure, else A^T D^-1 A is singular (pressure level unknown).
    graph = sp.coo_matrix((np.ones(nb), (b_from, b_to)), shape=(nn, nn))
    _, label = csgraph.connected_components(graph, directed=False)
    held = np.zeros(label.max() + 1 if nn else 0, dtype=bool)
    held[label[fixed]] = True
    floating = np.flatnonzero(~held[label])
    if floating.size:
        raise CaseError("no fixed pressure in the part of the network that holds this node",
                        element=node_label(floating[0]), field="node_fixed_p_pa",
                        allowed="at least one finite fixed pressure per connected part")

    # The reduced matrix couples the free ends of every branch; its solver orders the rows and lays out its
    # storage once. Per branch: the rows of its ends and the places of its entries in the value array; a fixed
    # end's go to a spare slot past the end of each.
    n_free = int((~fixed).sum())
    natural = np.full(nn, -1, dtype=np.int64)
    natural[~fixed] = np.arange(n_free)
    both = (natural[b_from] >= 0) & (natural[b_to] >= 0)
    reduced = rs.choose(linear_solver, n_free, natural[b_from[both]], natural[b_to[both]])
    free_index = np.full(nn, -1, dtype=np.int64)
    free_index[~fixed] = reduced.position[natural[~fixed]]
    spare = reduced.n_values
    r, c = free_index[b_from], free_index[b_to]
    diag = np.append(reduced.diagonal, spare)  # diag[-1]: the spare slot, for a fixed end (row -1)
    off = np.full(nb, spare, dtype=np.int64)
    if reduced.off.size:
        off[both] = reduced.off
    system = (np.where(r >= 0, r, n_free), np.where(c >= 0, c, n_free), diag[r], diag[c], off)

    return HydraulicNetwork(
        n_node=nn, n_pipe=n_pipe, n_pump=n_pump, p_fixed=p_fixed, fixed=fixed, injection=injection,
        branch_from=b_from, branch_to=b_to, branch_kind=kind, area_m2=0.25 * np.pi * diameter ** 2,
        pipes=hk.pipe_coefficients(diameter[pipes], length[pipes], roughness[pipes], k_minor[pipes], rho[pipes],
                                   mu[pipes]),
        pumps=hk.PumpCurves(h0, a, bq, speed, rho), free_index=free_index,
        node_row=np.where(free_index >= 0, free_index, n_free), n_free=n_free, reduced=reduced, system=system,
        node_ids=node_ids, pipe_ids=pipe_ids, pump_ids=pump_ids, pipe_viscosity_pa_s=mu[pipes].copy())


def solve_hydraulic_network(*, node_fixed_p_pa, node_injection_kg_s=0.0,
                            pipe_from, pipe_to, pipe_length_m, pipe_diameter_m, pipe_roughness_m,
                            pipe_k_minor=0.0,
                            pump_from=(), pump_to=(), pump_h0_m=(), pump_a_s_m2=0.0, pump_b_s2_m5=0.0,
                            pump_speed_ratio=1.0,
                            density_kg_m3, viscosity_pa_s,
                            node_ids=None, pipe_ids=None, pump_ids=None,
                            tol_pa=1e-8, tol_mass_rel=1e-13, max_iterations=50, m_start_kg_s=None,
                            m_start_is_guess=False, linear_solver="auto"):
    """Steady flow in a network of pipes and pumps with loops (Global Gradient Algorithm).

    Parameters
    ----------
    node_fixed_p_pa : array_like[nn]
        Fixed pressure of each node [Pa], NaN where the pressure is unknown. Every connected part of the
        network needs at least one fixed pressure.
    node_injection_kg_s : array_like[nn] or float
        Net mass flow injected at each node [kg/s], a demand negative; ignored where the pressure is fixed
        (the pressure holder supplies what balances; see ``HydraulicResult.supply_kg_s``).
    pipe_from, pipe_to : array_like[np] of int
        Node positions of each pipe's ends; flow is positive from ``pipe_from`` to ``pipe_to``.
    pipe_length_m, pipe_diameter_m : array_like[np]
        Length [m], > 0, and inner diameter [m], > 0.
    pipe_roughness_m : array_like[np]
        Absolute wall roughness [m], >= 0, at most 0.05 of the diameter.
    pipe_k_minor : array_like[np] or float
        Sum of minor-loss coefficients on the pipe's dynamic pressure [-], >= 0.
    pump_from, pump_to : array_like[nq] of int
        Suction and discharge nodes of each pump; the pump raises the pressure from ``from`` to ``to``.
    pump_h0_m, pump_a_s_m2, pump_b_s2_m5 : array_like[nq]
        Head curve at rated speed ``H = H0 - a Q - b Q^2`` [m, s/m^2, s^2/m^5], H0 > 0, a >= 0, b >= 0,
        a + b > 0 (see ``gigawatt.models.flow_correlations.pump_head``).
    pump_speed_ratio : array_like[nq] or float
        Speed over rated speed [-], > 0 (affinity laws).
    density_kg_m3, viscosity_pa_s : float or array_like[np + nq]
        Fluid density [kg/m^3] and dynamic viscosity [Pa s], one value or one per branch (pipes first).
    node_ids, pipe_ids, pump_ids : sequence of str, optional
        Names used in error messages (default: positions).
    tol_pa : float
        Tolerance on the largest branch pressure residual [Pa]; never below what rounding of the
        pressures allows (16 eps times the largest |p| or branch pressure drop).
    tol_mass_rel : float
        Tolerance on the largest node imbalance relative to the largest flow or injection [-].
    max_iterations : int
        Newton iterations allowed.
    m_start_kg_s : array_like[np + nq], optional
        Starting branch flows [kg/s] (default: 1 m/s in every pipe, a pump at half its shut-off head).
    m_start_is_guess : bool
        ``m_start_kg_s`` is an estimate (a design split, say), not the flows of an earlier solve: its
        friction factors are then Haaland's explicit ones, as for the default start (they only shape the first
        step, which is always taken in full), instead of Colebrook roots found from scratch. False: a start
        that is already the answer is confirmed in one step.
    linear_solver : {"auto", "envelope", "sparse", "scipy"}
        How the reduced system is solved (module notes).

    Returns
    -------
    HydraulicResult

    Notes
    -----
    For repeated solves of one network, :func:`prepare_hydraulic_network` once and
    :meth:`HydraulicNetwork.solve` each time skip the checks and the set-up.

    Raises
    ------
    CaseError
        Bad geometry, fluid or pump data, a node index out of range, a part of the network without a
        fixed pressure (naming one of its nodes).
    ConvergenceError
        No convergence within ``max_iterations``; names the branch with the largest pressure residual
        and the node with the largest mass imbalance (``.details``), and carries the last iterate
        (``.partial``).
    """
    net = prepare_hydraulic_network(
        node_fixed_p_pa=node_fixed_p_pa, node_injection_kg_s=node_injection_kg_s, pipe_from=pipe_from, pipe_to=pipe_to,
        pipe_length_m=pipe_length_m, pipe_diameter_m=pipe_diameter_m, pipe_roughness_m=pipe_roughness_m,
        pipe_k_minor=pipe_k_minor, pump_from=pump_from, pump_to=pump_to, pump_h0_m=pump_h0_m,
        pump_a_s_m2=pump_a_s_m2, pump_b_s2_m5=pump_b_s2_m5, pump_speed_ratio=pump_speed_ratio,
        density_kg_m3=density_kg_m3, viscosity_pa_s=viscosity_pa_s, node_ids=node_ids, pipe_ids=pipe_ids,
        pump_ids=pump_ids, linear_solver=linear_solver)
    return net.solve(tol_pa=tol_pa, tol_mass_rel=tol_mass_rel, max_iterations=max_iterations,
                     m_start_kg_s=m_start_kg_s, m_start_is_guess=m_start_is_guess)
