"""Tests of the cooling stage's set-up paths: the peeled elimination order of the sparse solver on loop shapes, the
pipe names composed from character tables, the loop topology kept with the case, and the starting flows of
the loops' hydraulic solve.

References: SciPy's ``spsolve`` (SuperLU) for the sparse solver in the new order; Python's own string
formatting for the names; the array-by-array assembly (:func:`build_loops`) for the kept topology; the mass
balance at every node, and the solve from the former 1 m/s start, for the starting flows. Every test runs
twice: jitted here and as plain Python (``NUMBA_DISABLE_JIT=1``, listed in ``tests/test_without_jit.py``; STYLE.md 4).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import gigawatt as gw
from gigawatt.models.racks import rack_powers
from gigawatt.solver.cooling import loops as lp
from gigawatt.solver.cooling import stage as st
from gigawatt.solver.numerics import spd_solvers as rs
from gigawatt.solver.numerics.hydraulic_network import solve_hydraulic_network



def ladder(k: int, first: int = 0) -> tuple[list, list]:
    """Edges of a ladder of ``k`` rungs on nodes ``first ..  first + 2k - 1``."""
    s, r = first + np.arange(k), first + k + np.arange(k)
    return [*s[:-1], *r[:-1], *s], [*s[1:], *r[1:], *r]


def ladder_of_ladders(racks: int, plates: int) -> tuple[int, np.ndarray, np.ndarray]:
    """A header ladder of ``racks`` rungs, each rung replaced by a ladder of ``plates`` rungs (a row of racks
    modelled plate by plate, the pattern of ``plate_resolution``)."""
    fr, to = [], []
    n = 2 * racks
    for i in range(racks - 1):
        fr += [i, racks + i]
        to += [i + 1, racks + i + 1]
    for i in range(racks):
        a, b = ladder(plates, n)
        fr += [i, racks + i, *a]
        to += [n, n + plates, *b]  # the hoses to the rack's manifolds
        n += 2 * plates
    return n, np.array(fr), np.array(to)


def grid(g: int) -> tuple[int, np.ndarray, np.ndarray]:
    idx = np.arange(g * g).reshape(g, g)
    fr = np.r_[idx[:, :-1].ravel(), idx[:-1].ravel()]
    to = np.r_[idx[:, 1:].ravel(), idx[1:].ravel()]
    return g * g, fr, to


def laplacian_system(n, fr, to, seed=1):
    """A weighted graph Laplacian plus a positive diagonal (symmetric positive definite), as COO entries with
    both triangles and repeated diagonal entries, and a right-hand side."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 10.0, fr.size)
    rows = np.r_[fr, to, fr, to, np.arange(n)]
    cols = np.r_[to, fr, fr, to, np.arange(n)]
    vals = np.r_[-w, -w, w, w, rng.uniform(0.01, 1.0, n)]
    return rows, cols, vals, rng.normal(size=n)


# --- the sparse solver's order on cooling-loop shapes --------------------------------------------------------

@pytest.mark.parametrize("shape", ["ladder", "ladder_of_ladders", "tree", "grid"])
def test_peeled_order_and_sparse_solve_against_superlu(shape):
    # Ladders (of ladders) and trees are emptied by eliminating nodes of degree at most two (series and parallel
    # reductions): the factor has at most two entries per column below the diagonal. A grid is not (a 3x3 grid
    # holds a K4 minor): its core goes to SuperLU's minimum degree. Either way the sparse solver's solution equals
    # SuperLU's to rounding (condition numbers here below 1e5: rtol 1e-9 leaves room).
    if shape == "ladder":
        n, (fr, to) = 80, map(np.array, ladder(40))
    elif shape == "ladder_of_ladders":
        n, fr, to = ladder_of_ladders(8, 20)
    elif shape == "tree":
        rng = np.random.default_rng(3)
        n = 300
        fr, to = rng.integers(0, np.arange(1, n)), np.arange(1, n)
    else:
        n, fr, to = grid(6)
    rows, cols, vals, b = laplacian_system(n, fr, to)
    off = rows != cols
    lay = rs._SparseLDL.layout(n, rows[off], cols[off])  # the diagonal is always in the pattern
    np.testing.assert_array_equal(np.sort(lay.position), np.arange(n))
    if shape != "grid":
        assert np.max(np.diff(lay.data[3])) <= 2  # l_ptr: at most two entries per column of L
    else:
        assert np.max(np.diff(lay.data[3])) > 2  # the grid's core fills
    values = np.zeros(lay.n_values + 1)
    np.add.at(values, lay.off, 0.5 * vals[off])  # (i, j) and (j, i) share one place: each adds half
    np.add.at(values, lay.diagonal[lay.position[rows[~off]]], vals[~off])  # diagonal places by solver row
    rhs = np.zeros(n + 1)
    rhs[lay.position] = b  # the solver works in its own order
    assert rs.factor_solve(lay, values, rhs, rs._SparseLDL.make_work(lay))
    reference = spla.spsolve(sp.csc_matrix((vals, (rows, cols)), shape=(n, n)), b)
    np.testing.assert_allclose(rhs[lay.position], reference, rtol=1e-9, atol=1e-12 * np.max(np.abs(reference)))


# --- names ----------------------------------------------------------------------------------------------

def test_numbered_names_equal_python_formatting():
    prefix = np.array(["", "a-", "Halle-Süd-7-", "x" * 40], dtype=object)
    rng = np.random.default_rng(5)
    which = rng.integers(0, prefix.size, 500)
    number = rng.integers(0, 1200, 500)
    number[:4] = [0, 1, 9, 10]
    names = lp.numbered_names(prefix, which, number)
    assert list(names) == [prefix[w] + (str(k) if k else "") for w, k in zip(which, number)]
    assert list(lp.numbered_names(np.array(["p"]), np.zeros(0, np.int64), np.zeros(0, np.int64))) == []


# --- the loop topology kept with the case -----------------------------------------------------------------

def small_case(**cooling):
    return gw.build_campus(halls=1, rows_per_hall=3, racks_per_row=5, rack_it_power_kw=120.0,
                           cooling={"plate_resolution": True, "chips_per_rack": 6, **cooling})


@pytest.mark.parametrize("cooling", [{}, {"reverse_return": True}, {"plate_resolution": False}])
def test_case_loops_equal_build_loops_and_are_kept_with_the_case(cooling):
    case = small_case(**cooling)
    s = st.resolve_settings(case)
    n_unit = len(case.tables["rack"]) * (s["chips_per_rack"] if s["plate_resolution"] else 1)
    k = np.linspace(2.0, 3.0, n_unit)
    kept = lp.case_loops(case, s, k)
    fresh = lp.build_loops(case.tables["rack"], s, k)
    for name in fresh.__dataclass_fields__:
        a, b = np.asarray(getattr(kept, name)), np.asarray(getattr(fresh, name))
        assert a.dtype.kind == b.dtype.kind and np.array_equal(a, b), name
    again = lp.case_loops(case, s, 2 * k)
    assert again.pipe_from is kept.pipe_from  # the topology once per case
    np.testing.assert_array_equal(again.pipe_k_minor[again.unit_pipe], 2 * k)
    np.testing.assert_array_equal(kept.pipe_k_minor[kept.unit_pipe], k)  # the first call's unchanged
    assert not kept.pipe_from.flags.writeable
    other = dict(s, header_segment_length_m=s["header_segment_length_m"] + 1.0)  # other settings, other topology
    assert lp.case_loops(case, other, k).pipe_length_m.sum() > kept.pipe_length_m.sum()


def test_thermal_network_is_kept_with_the_case_and_solves_as_a_fresh_one():
    case = small_case()
    first = st.prepare_cooling(case, rack_powers(case)[1])
    loop = str(first.loops.loop_ids[0])
    reduced = st.prepare_cooling(case, rack_powers(case)[1], {loop: 0.5})  # a cooling outage: other flows
    assert reduced.thermal.network is first.thermal.network
    fresh = st._loop_thermal(reduced.settings, reduced.tcs, reduced.loops, reduced.hydraulics.result)
    assert fresh.network is not first.thermal.network
    q = np.linspace(1e3, 2e3, reduced.loops.unit_rack.size)
    np.testing.assert_array_equal(reduced.thermal.solve(q).t_node_k, fresh.solve(q).t_node_k)


# --- starting flows ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cooling", [{}, {"reverse_return": True}, {"plate_resolution": False},
                                     {"rack_flow_control": True, "plate_resolution": False}])
def test_start_flows_balance_every_node_and_the_answer_is_the_same(cooling):
    case = small_case(**cooling)
    captured = {}
    real = st.solve_hydraulic_network

    def spy(**kw):
        captured.update(kw)
        return real(**kw)

    st.solve_hydraulic_network = spy
    try:
        plant = st.prepare_cooling(case, rack_powers(case)[1])
    finally:
        st.solve_hydraulic_network = real
    kw = dict(captured)
    m0 = kw.pop("m_start_kg_s")
    # mass balance of the start at every free node, to rounding of the largest flow
    net = np.array(kw["node_injection_kg_s"], float)
    np.add.at(net, kw["pipe_from"], -m0)
    np.add.at(net, kw["pipe_to"], m0)
    free = np.isnan(kw["node_fixed_p_pa"])
    assert np.max(np.abs(net[free])) <= 1e-12 * np.max(np.abs(m0))
    # the answer from the former start (every pipe at 1 m/s): equal to the solver's tolerance
    area = 0.25 * math.pi * np.asarray(kw["pipe_diameter_m"]) ** 2
    before = solve_hydraulic_network(m_start_kg_s=plant.tcs.density_kg_m3 * area, **kw)
    after = real(m_start_kg_s=m0, **kw)  # as the stage solved it
    assert after.converged and after.iterations <= before.iterations
    # both converged to 1e-8 Pa from starts apart by about 10 %: flows agree to ~1e-12 relative (rtol 1e-10)
    np.testing.assert_allclose(after.m_kg_s, before.m_kg_s, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(after.p_pa, before.p_pa, rtol=0, atol=1e-6)


def test_forest_flows_refuse_a_cycle():
    fr, to = np.array([0, 1, 2]), np.array([1, 2, 0])
    out = np.empty(3)
    assert not st._forest_flows(3, fr, to, np.array([1.0, 0.0, -1.0]), np.zeros(3, bool), out)
    # a path with its end fixed: each branch carries what lies beyond it
    fr, to = np.array([0, 1, 2]), np.array([1, 2, 3])
    assert st._forest_flows(4, fr, to, np.array([1.0, 2.0, 3.0, 0.0]), np.array([False, False, False, True]), out)
    np.testing.assert_array_equal(out, [1.0, 3.0, 6.0])

