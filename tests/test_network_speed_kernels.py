"""Tests of the fast paths of the coolant-network solvers: the vectorisable logarithm, the warm-started Colebrook
root, the fused Global Gradient kernel, the envelope and sparse LDL^T solvers of the reduced system, prepared
hydraulic and thermal networks and their scratch arrays.

References: the C library's ``log`` and the ``fluids`` package's exact Colebrook (Lambert W) for the scalar
functions; the plain kernels written straight from the model functions (``branch_residuals``,
``node_imbalance``, ``reduced_system``) and NumPy's dense solver for the fused and sparse ones; the one-call
functions for the prepared networks. Every test runs twice: jitted here and as plain Python
(``NUMBA_DISABLE_JIT=1``) in a subprocess of this file, as STYLE.md asks.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fluids.friction import Colebrook

from gigawatt.errors import CaseError
from gigawatt.models import flow_correlations as hy
from gigawatt.solver.numerics import hydraulic_kernel as hk
from gigawatt.solver.numerics import spd_solvers as rs
from gigawatt.solver.numerics import thermal_kernel as tk
from gigawatt.solver.numerics.envelope import envelope_layout, envelope_ldlt, envelope_ldlt_solve
from gigawatt.solver.numerics.hydraulic_network import prepare_hydraulic_network, solve_hydraulic_network
from gigawatt.solver.numerics.work_arrays import ScratchPool
from gigawatt.solver.numerics.sparse_ldl import ldl_numeric, ldl_solve
from gigawatt.solver.numerics.vector_math import log_positive

JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"
RHO, MU = 998.2, 1.002e-3  # water at 20 degC [kg/m^3, Pa s] (as in tests/test_hydraulics.py)
STEEL_M = 5e-5  # commercial steel roughness [m] (a district-heating design rule of thumb; no primary source)


# --- the logarithm -----------------------------------------------------------------------------------

def test_log_positive_within_one_ulp_of_the_c_library():
    # fdlibm's log is correctly rounded but for rare cases, with an error below 1 ulp; the C library's is as
    # good, so the two differ by at most 1 ulp. Arguments: a log-uniform sweep over the whole normal range,
    # and the points where the reduction switches (powers of 2, sqrt(2)/2 times them) and next to them.
    rng = np.random.default_rng(3)
    x = np.exp(rng.uniform(-700.0, 700.0, 3000 if JIT_OFF else 100_000))
    edges = np.ldexp(np.array([1.0, math.sqrt(0.5)]), np.arange(-1000, 1001, 37)[:, None]).ravel()
    x = np.concatenate([x, edges, np.nextafter(edges, 0.0), np.nextafter(edges, np.inf), [1.0, np.finfo(float).tiny]])
    ours = np.array([log_positive(float(v)) for v in x])
    ref = np.log(x)
    ulp = np.spacing(np.maximum(np.abs(ref), np.abs(ours)))
    assert np.all(np.abs(ours - ref) <= ulp), np.max(np.abs(ours - ref) / ulp)


# --- the Colebrook root ------------------------------------------------------------------------------

# fluids' Lambert-W form overflows a power at large Re eps/D and then takes its asymptotic form; the result is
# still the root, and it is that result we compare with.
@pytest.mark.filterwarnings("ignore:overflow encountered in scalar power:RuntimeWarning")
@pytest.mark.parametrize("rel_roughness", [0.0, 1e-6, 4.6e-4, 1e-2, 0.05])
def test_colebrook_root_from_haaland_against_fluids(rel_roughness):
    # Reference: fluids.friction.Colebrook with tol=None (the exact Lambert-W solution). rel 1e-12: our root
    # is exact to a few ulp (the stopping bound of colebrook_newton); fluids' Lambert W evaluation carries
    # about 1e-12 (as tests/test_hydraulic_network.py states).
    a = rel_roughness / 3.7
    for re in np.geomspace(4e3, 1e8, 23):
        x = hk.colebrook_newton(hk.haaland_x(re, a ** 1.11), re, a, hk.COLEBROOK_MAX_STEPS)
        assert 1.0 / x ** 2 == pytest.approx(Colebrook(re, rel_roughness, tol=None), rel=1e-12)
        # And the same root as the model function, both to machine precision: a few ulp.
        assert 1.0 / x ** 2 == pytest.approx(hy.colebrook_darcy(re, rel_roughness), rel=8 * np.finfo(float).eps)


@pytest.mark.parametrize("start", [1.0, 4.0, 40.0])
def test_colebrook_root_from_poor_starts(start):
    # Newton on an increasing concave g converges from any positive start below ~100; the root is the same.
    re, a = 2.5e5, 4.6e-4 / 3.7
    x = hk.colebrook_newton(start, re, a, hk.COLEBROOK_MAX_STEPS)
    assert 1.0 / x ** 2 == pytest.approx(hy.colebrook_darcy(re, 4.6e-4), rel=8 * np.finfo(float).eps)


# --- the fused kernel against the plain ones ---------------------------------------------------------

def mixed_network(seed, n=60, chords=25):
    """A random meshed network with pipes in every regime (DN8 to DN150 at various flows) and two pumps."""
    rng = np.random.default_rng(seed)
    fr = [int(rng.integers(0, v)) for v in range(1, n)]
    to = list(range(1, n))
    while len(fr) < n - 1 + chords:
        u, v = (int(x) for x in rng.choice(n, 2, replace=False))
        fr.append(u)
        to.append(v)
    nb = len(fr)
    p = np.full(n, np.nan)
    p[0], p[n - 1] = 4e5, 3.9e5
    return dict(node_fixed_p_pa=p, node_injection_kg_s=-rng.uniform(0.0, 0.5, n), pipe_from=fr, pipe_to=to,
                pipe_length_m=rng.uniform(1.0, 200.0, nb), pipe_diameter_m=rng.choice([0.008, 0.02, 0.05, 0.15], nb),
                pipe_roughness_m=STEEL_M, pipe_k_minor=rng.uniform(0.0, 5.0, nb),
                pump_from=[0, 5], pump_to=[7, 9], pump_h0_m=[30.0, 20.0], pump_a_s_m2=[0.0, 50.0],
                pump_b_s2_m5=[1e5, 2e4], pump_speed_ratio=[0.9, 1.1], density_kg_m3=RHO, viscosity_pa_s=MU)


def test_gga_evaluate_equals_the_plain_kernels():
    kw = mixed_network(11)
    net = prepare_hydraulic_network(**kw, linear_solver="envelope")
    nb, nn, npipe = net.n_branch, net.n_node, net.n_pipe
    rng = np.random.default_rng(5)
    # Flows in every regime, some reversed: Re from ~0 to ~1e6.
    m = rng.choice([-1.0, 1.0], nb) * np.exp(rng.uniform(np.log(1e-5), np.log(30.0), nb))
    p = rng.uniform(3.5e5, 4.5e5, nn)
    d_m = np.concatenate([np.asarray(kw["pipe_diameter_m"]), np.zeros(2)])
    length = np.concatenate([kw["pipe_length_m"], np.zeros(2)])
    rough = np.concatenate([np.full(npipe, STEEL_M), np.zeros(2)])
    f_ref, d_ref = np.empty(nb), np.empty(nb)
    q = net.pumps
    hk.branch_residuals(m, p, net.branch_from, net.branch_to, net.branch_kind, d_m, length, rough,
                        np.concatenate([kw["pipe_k_minor"], np.zeros(2)]), q.h0_m, q.a_s_m2, q.b_s2_m5, q.speed_ratio,
                        q.density_kg_m3, np.full(nb, MU), f_ref, d_ref)
    g_ref = np.empty(nn)
    hk.node_imbalance(m, net.branch_from, net.branch_to, net.injection, g_ref)
    values_ref, rhs_ref = np.empty(4 * nb), np.empty(net.n_free)
    rows, cols = np.empty(4 * nb, dtype=np.int64), np.empty(4 * nb, dtype=np.int64)
    hk.reduced_pattern(net.branch_from, net.branch_to, net.free_index, rows, cols)
    hk.reduced_system(f_ref, d_ref, g_ref, net.branch_from, net.branch_to, net.free_index, values_ref, rhs_ref)
    dense_ref = np.zeros((net.n_free, net.n_free))
    np.add.at(dense_ref, (rows, cols), values_ref)

    w = net._make_work()
    for start in ("cold", "warm"):
        if start == "warm":  # memory from flows 3 % away: the prediction path, then Newton to the root
            hk.gga_evaluate(m * 1.03, p, net.branch_from, net.branch_to, net.pipes, net.pumps,
                            w.memory, False, net.injection, net.free_index, net.system, w.branch, w.f, w.d, w.g,
                            w.values, w.rhs)
        f, d, g = np.empty(nb), np.empty(nb), np.empty(nn)
        stats = hk.gga_evaluate(m, p, net.branch_from, net.branch_to, net.pipes, net.pumps, w.memory,
                                False, net.injection, net.free_index, net.system, w.branch, f, d, g, w.values, w.rhs)
        # rel 1e-12 of |h|: the same formulas in another order of operations and the same Colebrook root to a
        # few ulp; F = h - dp loses digits where h and dp nearly cancel, hence relative to the drop itself.
        h_ref = f_ref + (p[net.branch_from] - p[net.branch_to])
        np.testing.assert_allclose(f, f_ref, rtol=0, atol=1e-12 * np.max(np.abs(h_ref)))
        np.testing.assert_allclose(d, d_ref, rtol=1e-12)
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-13 * np.max(np.abs(m)))
        assert stats[0] == pytest.approx(np.max(np.abs(f_ref)), rel=1e-12) and stats[1] == np.argmax(np.abs(f))
        # The envelope the kernel assembled is the plain kernel's matrix, entry by entry (rounding of sums).
        first, ptr = net.reduced.data
        dense = np.zeros_like(dense_ref)
        for i in range(net.n_free):
            dense[i, first[i]:i + 1] = w.values[ptr[i]:ptr[i + 1]]
        dense = np.tril(dense) + np.tril(dense, -1).T
        np.testing.assert_allclose(dense, dense_ref, rtol=1e-13, atol=1e-15 * np.max(np.abs(dense_ref)))
        np.testing.assert_allclose(w.rhs[:net.n_free], rhs_ref, rtol=1e-12, atol=1e-12 * np.max(np.abs(rhs_ref)))


# --- linear solvers of the reduced system ------------------------------------------------------------

def laplacian(seed, n, extra):
    """A weighted graph Laplacian of a random connected graph plus a positive diagonal: SPD."""
    rng = np.random.default_rng(seed)
    rows = [int(rng.integers(0, v)) for v in range(1, n)] + list(rng.integers(0, n, extra))
    cols = list(range(1, n)) + list(rng.integers(0, n, extra))
    keep = [i for i in range(len(rows)) if rows[i] != cols[i]]
    rows, cols = np.array(rows)[keep], np.array(cols)[keep]
    w = rng.uniform(0.1, 10.0, rows.size)
    dense = np.zeros((n, n))
    np.add.at(dense, (rows, cols), -w)
    np.add.at(dense, (cols, rows), -w)
    dense[np.diag_indices(n)] = -dense.sum(axis=1) + rng.uniform(0.01, 1.0, n)
    return rows, cols, dense


def load(layout, rows, cols, dense):
    """The value array of a reduced-solver layout holding the dense matrix (plus the spare slot)."""
    values = np.zeros(layout.n_values + 1)
    values[layout.diagonal[layout.position]] = np.diag(dense)
    values[layout.off] = dense[rows, cols]  # a pair given twice shares one place, holding the sum once
    return values


@pytest.mark.parametrize("name", ["envelope", "sparse"])
def test_reduced_solvers_against_a_dense_solve(name):
    # Reference: numpy.linalg.solve (LAPACK LU with pivoting). rel 1e-10: condition numbers of these matrices
    # are about 1e3-1e4, so both solutions carry ~1e-12 of rounding.
    for seed in range(4):
        n = 40 + 20 * seed
        rows, cols, dense = laplacian(seed, n, extra=n // 2)
        layout = rs.REDUCED_SOLVERS[name].layout(n, rows, cols)
        rhs = np.random.default_rng(seed).normal(size=n)
        b = np.zeros(n + 1)
        b[layout.position] = rhs
        assert rs.factor_solve(layout, load(layout, rows, cols, dense), b, rs.REDUCED_SOLVERS[name].make_work(layout))
        assert b[n] == 0.0  # the spare slot is left alone
        np.testing.assert_allclose(b[layout.position], np.linalg.solve(dense, rhs), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("indefinite", [False, True])
def test_fused_factor_solve_kernels_are_the_pairs_they_call(indefinite):
    # factor_solve calls one kernel per solver (factor, then solve if every pivot was positive); the pair
    # called in turn must give the same status and the same bits in the factor and the solution.
    from gigawatt.solver.numerics.envelope import _factor_work, envelope_factor_solve
    from gigawatt.solver.numerics.sparse_ldl import ldl_numeric_rows, ldl_numeric_rows_solve

    for seed in range(3):
        n = 50 + 10 * seed
        rows, cols, dense = laplacian(seed, n, extra=n // 3)
        if indefinite:
            dense[n // 2, n // 2] = -100.0
        rhs = np.random.default_rng(seed).normal(size=n)
        env = rs.REDUCED_SOLVERS["envelope"].layout(n, rows, cols)
        first, ptr = env.data
        assert env.work == _factor_work(first)
        runs = []
        for fused in (True, False):
            values, b, inv_diag = load(env, rows, cols, dense), np.zeros(n + 1), np.zeros(n)
            b[env.position] = rhs
            if fused:
                status = envelope_factor_solve(values, first, ptr, inv_diag, b)
            else:
                status = envelope_ldlt(values, first, ptr, inv_diag)
                if status < 0:
                    envelope_ldlt_solve(values, first, ptr, inv_diag, b)
            runs.append((status, values, b))
        assert (runs[0][0] >= 0) is indefinite and runs[0][0] == runs[1][0]
        np.testing.assert_array_equal(runs[0][1], runs[1][1])
        np.testing.assert_array_equal(runs[0][2], runs[1][2])
        sparse = rs.REDUCED_SOLVERS["sparse"].layout(n, rows, cols)
        col_ptr, row_index, _, l_ptr, row_ptr, row_col, row_place, l_index = sparse.data
        runs = []
        for fused in (True, False):
            values, b = load(sparse, rows, cols, dense), np.zeros(n + 1)
            l_values, d, y = rs.REDUCED_SOLVERS["sparse"].make_work(sparse)
            l_values[:], d[:] = 0.0, 0.0
            b[sparse.position] = rhs
            args = (n, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place, l_index, l_values, d, y)
            if fused:
                status = ldl_numeric_rows_solve(*args, b)
            else:
                status = ldl_numeric_rows(*args)
                if status < 0:
                    ldl_solve(n, l_ptr, l_index, l_values, d, b)
            runs.append((status, l_values, d, b))
        assert (runs[0][0] >= 0) is indefinite and runs[0][0] == runs[1][0]
        for a, c in zip(runs[0][1:], runs[1][1:]):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", ["envelope", "sparse"])
def test_factorisations_report_a_matrix_that_is_not_positive_definite(name):
    # One diagonal entry pulled far below zero: the matrix is indefinite, some pivot must come out negative,
    # and the solver must say so (the hydraulic driver then falls back to SuperLU) rather than go on.
    rows, cols, dense = laplacian(1, 30, extra=10)
    dense[7, 7] = -100.0
    layout = rs.REDUCED_SOLVERS[name].layout(30, rows, cols)
    assert not rs.factor_solve(layout, load(layout, rows, cols, dense), np.zeros(31),
                               rs.REDUCED_SOLVERS[name].make_work(layout))


# --- the hydraulic solver: every linear solver, prepared networks -------------------------------------

def turbulent_grid():
    """A meshed network of DN80-DN150 pipes carrying tens of kg/s (every pipe turbulent)."""
    rng = np.random.default_rng(8)
    n = 50
    fr = [int(rng.integers(0, v)) for v in range(1, n)] + list(rng.integers(0, n, 20))
    to = list(range(1, n)) + list(rng.integers(0, n, 20))
    keep = [i for i in range(len(fr)) if fr[i] != to[i]]
    fr, to = np.array(fr)[keep], np.array(to)[keep]
    p = np.full(n, np.nan)
    p[0] = 5e5
    return dict(node_fixed_p_pa=p, node_injection_kg_s=-rng.uniform(0.5, 2.0, n), pipe_from=fr, pipe_to=to,
                pipe_length_m=rng.uniform(20.0, 300.0, fr.size), pipe_diameter_m=rng.choice([0.0825, 0.1091, 0.1603],
                                                                                          fr.size),
                pipe_roughness_m=STEEL_M, pipe_k_minor=rng.uniform(0.0, 2.0, fr.size), density_kg_m3=RHO,
                viscosity_pa_s=MU)


def test_every_linear_solver_gives_the_same_flows():
    # The reduced system is solved to rounding by each; the Newton iterates may differ by rounding, and the
    # solver stops at 1e-8 Pa: flows agree to ~1e-12 relative. rel 1e-10 leaves room.
    kw = turbulent_grid()
    results = {name: solve_hydraulic_network(**kw, linear_solver=name) for name in ("envelope", "sparse", "scipy")}
    for name, res in results.items():
        assert res.converged and res.max_pressure_residual_pa <= 1e-8, name
        np.testing.assert_allclose(res.m_kg_s, results["scipy"].m_kg_s, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.p_pa, results["scipy"].p_pa, rtol=0, atol=1e-6)


def test_auto_takes_the_sparse_solver_for_ladders_of_ladders():
    # A row of 16 "racks", each a ladder of 40 plates between two manifolds, hung between two headers: the
    # reverse Cuthill-McKee envelope is about twice the number of racks wide, a minimum-degree order fills
    # nothing. auto must see it and take the sparse solver; a single ladder keeps the envelope.
    fr, to, nodes = [], [], 2  # 0: supply node, 1: return node (fixed)
    s_prev = r_prev = None
    for rack in range(16):
        s, r = nodes, nodes + 1
        nodes += 2
        fr += [s_prev if s_prev is not None else 0, r]
        to += [s, r_prev if r_prev is not None else 1]
        m_prev = None
        for plate in range(40):
            a, b = nodes, nodes + 1
            nodes += 2
            fr += [m_prev[0] if m_prev else s, a, b]
            to += [a, b, m_prev[1] if m_prev else r]
            m_prev = (a, b)
        s_prev, r_prev = s, r
    p = np.full(nodes, np.nan)
    p[1] = 0.0
    inj = np.zeros(nodes)
    inj[0] = 30.0
    net = prepare_hydraulic_network(node_fixed_p_pa=p, node_injection_kg_s=inj, pipe_from=fr, pipe_to=to,
                                    pipe_length_m=1.0, pipe_diameter_m=0.02, pipe_roughness_m=STEEL_M,
                                    pipe_k_minor=1.0, density_kg_m3=RHO, viscosity_pa_s=MU)
    assert net.linear_solver == "sparse"
    ref = solve_hydraulic_network(node_fixed_p_pa=p, node_injection_kg_s=inj, pipe_from=fr, pipe_to=to,
                                  pipe_length_m=1.0, pipe_diameter_m=0.02, pipe_roughness_m=STEEL_M, pipe_k_minor=1.0,
                                  density_kg_m3=RHO, viscosity_pa_s=MU, linear_solver="scipy")
    np.testing.assert_allclose(net.solve().m_kg_s, ref.m_kg_s, rtol=1e-10, atol=1e-12)


def test_prepared_network_repeats_itself_and_takes_new_injections():
    kw = turbulent_grid()
    net = prepare_hydraulic_network(**kw)
    first, second = net.solve(), net.solve()
    # Scratch arrays are reused, nothing carries over: the same answer to the last bit.
    np.testing.assert_array_equal(first.m_kg_s, second.m_kg_s)
    np.testing.assert_array_equal(first.p_pa, second.p_pa)
    inj = kw["node_injection_kg_s"] * 1.7
    fresh = solve_hydraulic_network(**{**kw, "node_injection_kg_s": inj})
    np.testing.assert_array_equal(net.solve(node_injection_kg_s=inj).m_kg_s, fresh.m_kg_s)
    np.testing.assert_array_equal(net.solve().m_kg_s, first.m_kg_s)  # the prepared injections are untouched


def test_prepared_network_from_several_threads():
    net = prepare_hydraulic_network(**turbulent_grid())
    alone = net.solve()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: net.solve(), range(8)))
    for res in results:
        np.testing.assert_array_equal(res.m_kg_s, alone.m_kg_s)


def test_prepared_network_checks_what_it_is_given():
    net = prepare_hydraulic_network(**mixed_network(2))
    with pytest.raises(CaseError, match="node 3.*node_injection_kg_s"):
        net.solve(node_injection_kg_s=np.where(np.arange(net.n_node) == 3, np.nan, 0.0))
    with pytest.raises(CaseError, match="pump 1.*speed_ratio"):
        net.solve(pump_speed_ratio=[1.0, -1.0])
    with pytest.raises(CaseError, match="linear_solver"):
        prepare_hydraulic_network(**mixed_network(2), linear_solver="cholmod")


def test_scratch_pool_lends_each_caller_its_own_set():
    made = []
    pool = ScratchPool(lambda: made.append(object()) or made[-1])
    with pool.take() as a, pool.take() as b:
        assert a is not b
    with pool.take() as c:
        assert c in (a, b)
    assert len(made) == 2
    # a kept set (a time series' held session) is a free one while there is one, and does not come back
    kept = [pool.keep(), pool.keep()]
    assert set(map(id, kept)) == set(map(id, made)) and len(made) == 2
    with pool.take() as d:
        assert d not in kept and len(made) == 3


# --- the thermal network -----------------------------------------------------------------------------

def test_prepared_thermal_network_equals_the_one_call_function():
    # A random tree fed at node 0: every other node takes a sink s_i >= 0, and the branch into a node carries
    # its own sink plus all its children's, so every node balances. Nodes of every kind, pipes losing heat.
    rng = np.random.default_rng(4)
    n = 30
    fr = np.array([int(rng.integers(0, v)) for v in range(1, n)])
    to = np.arange(1, n)
    sink = np.append(0.0, rng.uniform(0.1, 1.0, n - 1))
    carried = sink.copy()
    for node in range(n - 1, 0, -1):  # children have larger numbers than their parents
        carried[fr[node - 1]] += carried[node]
    m = carried[to]
    m_node = -sink
    m_node[0] = carried[0]
    kinds = np.array(["supply"] + ["junction", "heat", "outlet_t"] * 9 + ["junction"] * 2)
    value = np.select([kinds == "supply", kinds == "heat", kinds == "outlet_t"],
                      [350.0, rng.uniform(-5e3, 5e3, n), 330.0], 0.0)
    u, length, ambient = 0.4, rng.uniform(5.0, 50.0, n - 1), 283.15
    one = tk.solve_thermal_network(kinds, value, fr, to, m, u, length, ambient, 4184.0, m_node)
    net = tk.prepare_thermal_network(kinds, fr, to, u, length, ambient, 4184.0)
    for _ in range(2):  # reused scratch: same to the last bit
        again = net.solve(value, m, m_node)
        np.testing.assert_array_equal(again.t_node_k, one.t_node_k)
        np.testing.assert_array_equal(again.q_loss_w, one.q_loss_w)
        assert again.ledger == one.ledger
    assert np.all(np.isfinite(one.t_node_k)) and abs(one.ledger.residual) < 1e-12
    np.testing.assert_array_equal(one.t_node_k[kinds == "outlet_t"], 330.0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("solver", ["envelope", "sparse"])
def test_deferred_assembly_is_the_fused_one_to_the_bit(seed, solver):
    # The solver evaluates without assembling and assembles (assemble_reduced) only once it takes a step: the
    # matrix and right-hand side must be those gga_evaluate assembles with the system given, bit for bit.
    net = prepare_hydraulic_network(**mixed_network(seed), linear_solver=solver)
    rng = np.random.default_rng(100 + seed)
    m = rng.choice([-1.0, 1.0], net.n_branch) * np.exp(rng.uniform(np.log(1e-5), np.log(30.0), net.n_branch))
    p = rng.uniform(3.5e5, 4.5e5, net.n_node)
    fused, deferred = net._make_work(), net._make_work()
    args = (m, p, net.branch_from, net.branch_to, net.pipes, net.pumps)
    s1 = hk.gga_evaluate(*args, fused.memory, False, net.injection, net.free_index, net.system, fused.branch, fused.f,
                         fused.d, fused.g, fused.values, fused.rhs)
    none = (np.zeros(0, dtype=np.int64),) * 5
    deferred.values[:] = np.nan  # every entry must be written
    deferred.rhs[:] = np.nan
    s2 = hk.gga_evaluate(*args, deferred.memory, False, net.injection, net.free_index, none, deferred.branch,
                         deferred.f, deferred.d, deferred.g, deferred.values, deferred.rhs)
    hk.assemble_reduced(net.system, net.free_index, deferred.branch, deferred.g, deferred.values, deferred.rhs)
    assert s1 == s2
    for a, b in ((fused.values, deferred.values), (fused.rhs, deferred.rhs), (fused.g, deferred.g),
                 (fused.f, deferred.f), (fused.d, deferred.d)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(4))
def test_colebrook_finish_takes_the_steps_of_further_passes(seed):
    # After a first pass, the few pipes still without their root are stepped one by one (_colebrook_finish):
    # each must end on the bits further passes over every pipe give it, whatever its start.
    rng = np.random.default_rng(seed)
    n = 400
    re = np.exp(rng.uniform(np.log(4e3), np.log(3e7), n))
    rough = rng.uniform(0.0, 2e-3, n)
    pc = hk.pipe_coefficients(np.full(n, 0.05), np.full(n, 10.0), rough, np.zeros(n), np.full(n, RHO), np.full(n, MU))
    exact = np.array([1.0 / math.sqrt(hy.colebrook_darcy(r, e / 0.05)) for r, e in zip(re, rough)])
    x0 = exact * (1.0 + rng.choice([0.0, 1e-9, 1e-4, 0.02, 0.3], n))  # some at the root, some far off
    runs = []
    for finish in (False, True):
        work = hk.branch_work(n, n)
        work.re[:] = re
        work.x[:] = x0
        work.todo[:] = rng.integers(0, 2, n) if finish is False else runs[0][2]
        marks = work.todo.copy()
        steps = 0
        while work.todo.any() and steps < hk.COLEBROOK_MAX_STEPS:
            if finish and steps == 1:
                hk._colebrook_finish(pc, work, hk.COLEBROOK_MAX_STEPS - steps)
                break
            hk._colebrook_pass(pc, work)
            steps += 1
        runs.append((work.x.copy(), steps, marks))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_allclose(runs[1][0][runs[0][2] == 1], exact[runs[0][2] == 1], rtol=1e-13)  # a few ulp


def test_node_kinds_by_name_code_or_both():
    codes = [tk.NODE_SUPPLY, tk.NODE_JUNCTION, tk.NODE_HEAT, tk.NODE_OUTLET_T]
    np.testing.assert_array_equal(tk.node_kind_codes(["supply", "junction", "heat", "outlet_t"]), codes)
    np.testing.assert_array_equal(tk.node_kind_codes(np.array(codes)), codes)
    np.testing.assert_array_equal(tk.node_kind_codes(["supply", 0, "heat", 3]), codes)
    with pytest.raises(CaseError, match="node 2.*node_kind.*'sink'"):
        tk.node_kind_codes(["supply", "junction", "sink"])
    with pytest.raises(CaseError, match="node 1.*node_kind"):
        tk.node_kind_codes([1, 7])


# --- the JIT switch --------------------------------------------------------------------------------

def test_kernels_are_compiled_or_plain_python_as_the_environment_says():
    for fn in (hk.gga_evaluate, hk.colebrook_newton, envelope_ldlt, ldl_numeric, ldl_solve, tk.sweep):
        assert hasattr(fn, "py_func") is (not JIT_OFF), fn


@pytest.mark.skipif(JIT_OFF, reason="already the no-JIT run")
def test_same_tests_pass_without_jit():
    here = Path(__file__).resolve()
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run([str(Path(sys.executable).with_name("pytest")), here.name, "-q", "-p", "no:cacheprovider",
                           "--import-mode=importlib", "--rootdir", str(here.parent.parent)],
                          cwd=here.parent, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
