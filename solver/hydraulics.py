"""Steady incompressible flow in a pipe network with loops: the Python driver of the hydraulic kernels.

:func:`solve_hydraulic_network` takes plain arrays (nodes, pipes, pumps; SI units), checks them, and runs
Newton's method in the form of the Global Gradient Algorithm (Todini & Pilati 1988; see
:mod:`gigawatt.solver.hydraulic_kernel`, which holds the equations, the per-element kernels and the
references). The coolant and district-heating stages call it with their own element tables turned into
these arrays; it knows nothing of cases or schemas.

The only work done here rather than in a kernel is the sparse solve of the reduced system
``(A^T D^-1 A) dp = rhs`` with ``scipy.sparse.linalg.spsolve``: Numba has no sparse solver.

Sign convention: a branch mass flow is positive from its ``from`` node to its ``to`` node; a node
injection is positive into the network (a demand is negative); pressures are as given (gauge or absolute,
the equations only see differences). Elevation is not included.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.solver import hydraulic_kernel as hk

_EPS = np.finfo(float).eps


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
        The same flows split by branch type [kg/s].
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


def _array(name, value, n, dtype=float):
    a = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), (n,)))
    return a.copy()


def _check(name, values, ids, ok, allowed):
    bad = np.flatnonzero(~ok(values))
    if bad.size:
        i = int(bad[0])
        raise CaseError("out of range", element=ids[i], field=name, value=float(values[i]), allowed=allowed)


def solve_hydraulic_network(*, node_fixed_p_pa, node_injection_kg_s=0.0,
                            pipe_from, pipe_to, pipe_length_m, pipe_diameter_m, pipe_roughness_m,
                            pipe_k_minor=0.0,
                            pump_from=(), pump_to=(), pump_h0_m=(), pump_a_s_m2=0.0, pump_b_s2_m5=0.0,
                            pump_speed_ratio=1.0,
                            density_kg_m3, viscosity_pa_s,
                            node_ids=None, pipe_ids=None, pump_ids=None,
                            tol_pa=1e-8, tol_mass_rel=1e-13, max_iterations=50, m_start_kg_s=None):
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
        a + b > 0 (see ``gigawatt.models.hydraulics.pump_head``).
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

    Returns
    -------
    HydraulicResult

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
    p_fixed = np.asarray(node_fixed_p_pa, dtype=float).ravel()
    nn = p_fixed.size
    n_pipe = np.asarray(pipe_from).size
    n_pump = np.asarray(pump_from).size
    nb = n_pipe + n_pump
    node_ids = [f"node {i}" for i in range(nn)] if node_ids is None else [f"node '{x}'" for x in node_ids]
    pipe_ids = [f"pipe {i}" for i in range(n_pipe)] if pipe_ids is None else [f"pipe '{x}'" for x in pipe_ids]
    pump_ids = [f"pump {i}" for i in range(n_pump)] if pump_ids is None else [f"pump '{x}'" for x in pump_ids]
    branch_ids = pipe_ids + pump_ids

    injection = _array("node_injection_kg_s", node_injection_kg_s, nn)
    fixed = np.isfinite(p_fixed)
    injection[fixed] = 0.0
    _check("node_injection_kg_s", injection, node_ids, np.isfinite, "finite")

    b_from = np.concatenate([np.asarray(pipe_from, dtype=np.int64).ravel(),
                             np.asarray(pump_from, dtype=np.int64).ravel()])
    b_to = np.concatenate([np.asarray(pipe_to, dtype=np.int64).ravel(), np.asarray(pump_to, dtype=np.int64).ravel()])
    if b_to.size != nb:
        raise CaseError("from and to arrays differ in length", field="pipe_to/pump_to", value=b_to.size,
                        allowed=f"{nb}")
    for name, ends in (("from", b_from), ("to", b_to)):
        _check(name, ends, branch_ids, lambda x: (x >= 0) & (x < nn), f"a node position in [0, {nn})")
    loops = np.flatnonzero(b_from == b_to)
    if loops.size:
        raise CaseError("a branch must join two different nodes", element=branch_ids[loops[0]], field="to",
                        value=int(b_to[loops[0]]), allowed=f"not {int(b_from[loops[0]])}")

    kind = np.concatenate([np.full(n_pipe, hk.BRANCH_PIPE, np.int64), np.full(n_pump, hk.BRANCH_PUMP, np.int64)])
    zeros_q, zeros_p = np.zeros(n_pump), np.zeros(n_pipe)
    length = np.concatenate([_array("pipe_length_m", pipe_length_m, n_pipe), zeros_q])
    diameter = np.concatenate([_array("pipe_diameter_m", pipe_diameter_m, n_pipe), zeros_q])
    roughness = np.concatenate([_array("pipe_roughness_m", pipe_roughness_m, n_pipe), zeros_q])
    k_minor = np.concatenate([_array("pipe_k_minor", pipe_k_minor, n_pipe), zeros_q])
    h0 = np.concatenate([zeros_p, _array("pump_h0_m", pump_h0_m, n_pump)])
    a = np.concatenate([zeros_p, _array("pump_a_s_m2", pump_a_s_m2, n_pump)])
    bq = np.concatenate([zeros_p, _array("pump_b_s2_m5", pump_b_s2_m5, n_pump)])
    speed = np.concatenate([zeros_p, _array("pump_speed_ratio", pump_speed_ratio, n_pump)])
    rho = _array("density_kg_m3", density_kg_m3, nb)
    mu = _array("viscosity_pa_s", viscosity_pa_s, nb)

    pipes, pumps = slice(0, n_pipe), slice(n_pipe, nb)
    _check("length_m", length[pipes], pipe_ids, lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("diameter_m", diameter[pipes], pipe_ids, lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("roughness_m", roughness[pipes] / diameter[pipes], pipe_ids, lambda x: (x >= 0) & (x <= 0.05),
           "relative roughness in [0, 0.05]")
    _check("k_minor", k_minor[pipes], pipe_ids, lambda x: (x >= 0) & np.isfinite(x), ">= 0")
    _check("h0_m", h0[pumps], pump_ids, lambda x: (x > 0) & np.isfinite(x), "> 0 m")
    _check("a_s_m2", a[pumps], pump_ids, lambda x: (x >= 0) & np.isfinite(x), ">= 0 s/m^2")
    _check("b_s2_m5", bq[pumps], pump_ids, lambda x: (x >= 0) & np.isfinite(x), ">= 0 s^2/m^5")
    _check("a_s_m2 + b_s2_m5", a[pumps] + bq[pumps], pump_ids, lambda x: x > 0, "> 0 (a falling head curve)")
    _check("speed_ratio", speed[pumps], pump_ids, lambda x: (x > 0) & np.isfinite(x), "> 0")
    _check("density_kg_m3", rho, branch_ids, lambda x: (x > 0) & np.isfinite(x), "> 0 kg/m^3")
    _check("viscosity_pa_s", mu, branch_ids, lambda x: (x > 0) & np.isfinite(x), "> 0 Pa s")

    # Every connected part needs a fixed pressure, else A^T D^-1 A is singular (pressure level unknown).
    graph = sp.coo_matrix((np.ones(nb), (b_from, b_to)), shape=(nn, nn))
    _, label = csgraph.connected_components(graph, directed=False)
    held = np.zeros(label.max() + 1 if nn else 0, dtype=bool)
    held[label[fixed]] = True
    floating = np.flatnonzero(~held[label])
    if floating.size:
        raise CaseError("no fixed pressure in the part of the network that holds this node",
                        element=node_ids[floating[0]], field="node_fixed_p_pa",
                        allowed="at least one finite fixed pressure per connected part")

    free_index = np.full(nn, -1, dtype=np.int64)
    free_index[~fixed] = np.arange(int((~fixed).sum()))
    n_free = int((~fixed).sum())
    rows = np.empty(4 * nb, dtype=np.int64)
    cols = np.empty(4 * nb, dtype=np.int64)
    hk.reduced_pattern(b_from, b_to, free_index, rows, cols)

    p = np.where(fixed, p_fixed, np.mean(p_fixed[fixed]) if fixed.any() else 0.0)
    if m_start_kg_s is None:
        m = np.empty(nb)
        m[pipes] = rho[pipes] * 0.25 * np.pi * diameter[pipes] ** 2  # 1 m/s
        # A pump where H = H0 n^2 / 2: b Q^2 + a n Q - H0 n^2 / 2 = 0.
        n_, aa, bb, hh = speed[pumps], a[pumps], bq[pumps], h0[pumps]
        with np.errstate(divide="ignore", invalid="ignore"):
            q_half = np.where(bb > 0, (-aa * n_ + np.sqrt((aa * n_) ** 2 + 2.0 * bb * hh * n_ ** 2)) / (2.0 * bb),
                              0.5 * hh * n_ / np.where(aa > 0, aa, 1.0))
        m[pumps] = rho[pumps] * q_half
    else:
        m = _array("m_start_kg_s", m_start_kg_s, nb)

    f, d, g = np.empty(nb), np.empty(nb), np.empty(nn)
    values, rhs = np.empty(4 * nb), np.empty(n_free)
    m_new, p_new = np.empty(nb), np.empty(nn)
    f_new, d_new = np.empty(nb), np.empty(nb)
    args = (b_from, b_to, kind, diameter, length, roughness, k_minor, h0, a, bq, speed, rho, mu)

    def tolerances(m, f):
        p_scale = max(np.max(np.abs(p_fixed[fixed])), np.max(np.abs(f + (p[b_from] - p[b_to])), initial=0.0))
        m_scale = max(np.max(np.abs(m), initial=0.0), np.max(np.abs(injection), initial=0.0))
        return max(tol_pa, 16.0 * _EPS * p_scale), tol_mass_rel * m_scale

    hk.branch_residuals(m, p, *args, f, d)
    hk.node_imbalance(m, b_from, b_to, injection, g)
    iterations = 0
    converged = False
    while True:
        f_max, _ = hk.max_abs(f)
        g_max, _ = hk.max_abs_free(g, free_index)
        tol_f, tol_g = tolerances(m, f)
        if iterations > 0 and f_max <= tol_f and g_max <= tol_g:
            converged = True
            break
        if iterations >= max_iterations:
            break
        iterations += 1
        hk.reduced_system(f, d, g, b_from, b_to, free_index, values, rhs)
        if n_free:
            # scipy.sparse: Numba has no sparse solver. COO -> CSC sums the duplicate entries.
            mat = sp.csc_matrix((values, (rows, cols)), shape=(n_free, n_free))
            dp = np.atleast_1d(spla.spsolve(mat, rhs))
        else:
            dp = np.zeros(1)
        # Backtracking on the largest branch residual. The first step is always full: the node equations
        # are linear, so a full step satisfies them, and later (damped) steps keep them satisfied.
        alpha = 1.0
        for _ in range(12):
            hk.newton_update(m, p, f, d, dp, b_from, b_to, free_index, alpha, m_new, p_new)
            hk.branch_residuals(m_new, p_new, *args, f_new, d_new)
            if iterations == 1 or hk.max_abs(f_new)[0] < f_max or hk.max_abs(f_new)[0] <= tol_f:
                break
            alpha *= 0.5
        m, m_new = m_new, m
        p, p_new = p_new, p
        f, f_new = f_new, f
        d, d_new = d_new, d
        hk.node_imbalance(m, b_from, b_to, injection, g)

    f_max, f_at = hk.max_abs(f)
    g_max, g_at = hk.max_abs_free(g, free_index)
    supply = np.where(fixed, -g, 0.0)
    result = HydraulicResult(p_pa=p.copy(), m_kg_s=m.copy(), pipe_m_kg_s=m[pipes].copy(), pump_m_kg_s=m[pumps].copy(),
                             supply_kg_s=supply, iterations=iterations, max_mass_imbalance_kg_s=float(g_max),
                             max_pressure_residual_pa=float(f_max), converged=converged)
    if not converged:
        branch = branch_ids[f_at] if f_at >= 0 else None
        node = node_ids[g_at] if g_at >= 0 else None
        raise ConvergenceError(
            f"hydraulic network: no convergence in {iterations} iterations; largest pressure residual "
            f"{f_max:.3g} Pa at {branch} (flow {m[f_at]:.6g} kg/s), largest mass imbalance {g_max:.3g} kg/s "
            f"at {node}", partial=result,
            details={"branch": branch, "node": node, "max_pressure_residual_pa": float(f_max),
                     "max_mass_imbalance_kg_s": float(g_max), "iterations": iterations})
    return result
