"""The time series' tree Newton (:mod:`gigawatt.solver.dc.series_newton`) against ``newton_dc``, the kernel it
re-arranges: on random radial networks in breadth-first order (hypothesis), from the same start, the same
status, iterations, mismatch, worst bus, voltages and stiff-bus currents, bit for bit, converged or not
(loads beyond the nose, singular Jacobians). And :func:`tree_blocks` and
:func:`gigawatt.solver.dc.series_batch.rack_patterns` against their definitions.

Every test runs twice: jitted in this process, and as plain Python (``NUMBA_DISABLE_JIT=1``) in the
subprocess of ``tests/test_without_jit.py``.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.solver.dc.kernel import STATUS_SINGULAR, newton_dc
from gigawatt.solver.dc.series_batch import MAX_PATTERN_RACKS, _unique_rows, rack_patterns
from gigawatt.solver.dc.series_newton import MIN_AFFINE, newton_tree, tree_blocks


def bfs_tree(children, n_roots):
    """Parents of a forest numbered breadth-first (parents before children; roots first, −1): the k-th bus
    taken from the queue gets ``children[k]`` children (0 once the list ends)."""
    parent = [-1] * n_roots
    k = 0
    while k < len(parent):
        c = children[k] if k < len(children) else 0
        parent.extend([k] * c)
        k += 1
    return np.array(parent, dtype=np.int64)


@st.composite
def networks(draw):
    """A random radial network (arrays as the assembly hands them to ``newton_dc``) and a start."""
    n_roots = draw(st.integers(1, 3))
    if draw(st.booleans()):  # a hall: a bus with m rows, chains side by side (affine blocks), some ending early
        rows = draw(st.integers(MIN_AFFINE, 40))
        counts = [rows] + draw(st.lists(st.sampled_from([1] * 30 + [0, 2]), min_size=2 * rows, max_size=400))
    else:
        counts = draw(st.lists(st.sampled_from([0, 1, 1, 1, 1, 1, 2, 3, 12]), min_size=1, max_size=160))
    parent = bfs_tree(counts, n_roots)
    n = parent.size
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    up = np.where(parent >= 0, parent, np.arange(n))
    fixed = np.zeros(n, dtype=np.bool_)
    fixed[:n_roots] = draw(st.lists(st.booleans(), min_size=n_roots, max_size=n_roots))
    fixed[rng.random(n) < draw(st.sampled_from([0.0, 0.02]))] = True
    g_parent = np.where(parent >= 0, 10.0 ** rng.uniform(0, 4, n), 0.0)
    g_couple = np.where((parent >= 0) & ~fixed & ~fixed[up], g_parent, 0.0)
    v_nom = 800.0
    droop = rng.random(n) < draw(st.sampled_from([0.0, 0.05, 0.3]))
    k_droop = np.where(droop, rng.uniform(1e2, 1e4, n), 0.0)
    kv_droop = k_droop * rng.uniform(0.99, 1.02, n) * v_nom
    scale = draw(st.sampled_from([1e3, 1e5, 1e7]))  # 1e7 W a bus: often beyond the nose
    p_load = np.where(rng.random(n) < 0.8, rng.uniform(0, scale, n), 0.0)
    if draw(st.booleans()):
        p_load[rng.integers(0, n)] = -rng.uniform(0, scale)  # a bus feeding in
    v = v_nom * rng.uniform(0.97, 1.01, n)
    tol_a = draw(st.sampled_from([1e-9, 1e-6, 1e-3]))
    max_iter = draw(st.sampled_from([0, 1, 3, 30]))
    return parent, up, g_parent, g_couple, fixed, v, p_load, k_droop, kv_droop, tol_a, max_iter


def test_a_pivot_whose_reciprocal_overflows_is_singular_in_both():
    # Found by the test below: a free root whose pivot is subnormal (1e-310 S: not zero, but 1/d overflows). Both
    # kernels call it singular at once; before, newton_dc stepped on with an infinite step (to "max iterations",
    # a non-finite mismatch) while the tree's check after the elimination saw the root's NaN and said singular.
    v_nom = 800.0
    one = np.zeros(1, np.int64)
    results = []
    for solver in ("dc", "tree"):
        v, i_fixed, work = np.array([v_nom]), np.zeros(1), np.zeros((4, 1))
        p_load, k_droop = np.array([-1e-310 * v_nom**2]), np.array([1.0])  # d = -P/V^2 = 1e-310, F = 1 A
        args = (np.zeros(1), np.zeros(1, np.bool_), v, p_load, k_droop, np.zeros(1))
        if solver == "dc":
            e_i, e_f = np.zeros(0, np.int64), np.zeros(0)
            out = newton_dc(np.array([-1]), one, args[0], args[0], e_i, e_i, e_f, *args[1:], 0, 1, 1e-9, 30, i_fixed,
                            work, e_f)
        else:
            out = newton_tree(tree_blocks(one, 0, 1), one, args[0], args[0], *args[1:], True, 0, 1, 1e-9, 30,
                              i_fixed, work)
        results.append((int(out[0]), int(out[1]), int(out[3]), v[0]))
    assert results[0] == results[1] == (STATUS_SINGULAR, 0, 0, v_nom)


@settings(max_examples=300, deadline=None)
@given(networks())
def test_tree_newton_equals_newton_dc_bit_for_bit(net):
    parent, up, g_parent, g_couple, fixed, v, p_load, k_droop, kv_droop, tol_a, max_iter = net
    n = parent.size
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    v_ref, i_ref, work = v.copy(), np.zeros(n), np.full((4, n), 7.0)
    ref = newton_dc(parent, up, g_parent, g_couple, empty_i, empty_i, empty_f, fixed, v_ref, p_load, k_droop, kv_droop,
                    0, n, tol_a, max_iter, i_ref, work, empty_f)
    v_got, i_got, work = v.copy(), np.zeros(n), np.full((4, n), -3.0)
    droop = bool((k_droop != 0).any() or (kv_droop != 0).any())
    got = newton_tree(tree_blocks(up, 0, n), up, g_couple, g_parent, fixed, v_got, p_load, k_droop, kv_droop, droop,
                      0, n, tol_a, max_iter, i_got, work)
    assert got[0] == ref[0] and got[1] == ref[1] and got[3] == ref[3]
    assert np.array_equal(np.float64(got[2]), np.float64(ref[2]), equal_nan=True)
    assert np.array_equal(v_got, v_ref, equal_nan=True)
    assert np.array_equal(i_got, i_ref, equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.sampled_from([0, 1, 1, 1, 2, 5]), min_size=1, max_size=120), n_roots=st.integers(1, 3),
       lead=st.integers(0, 5))
def test_tree_blocks_cover_the_zone_and_are_affine(counts, n_roots, lead):
    parent = bfs_tree(counts, n_roots)
    n = parent.size
    # the zone may start after other buses (a later zone): shift it by `lead` buses
    up = np.r_[np.arange(lead), np.where(parent >= 0, parent, np.arange(n)) + lead]
    blocks = tree_blocks(up, lead, lead + n)
    assert blocks[0, 0] == lead and blocks[-1, 1] == lead + n
    assert np.array_equal(blocks[1:, 0], blocks[:-1, 1])
    for a, b, s in blocks:
        assert b > a
        if s > 0:
            assert b - a >= MIN_AFFINE and b - a <= s and a - s >= lead
            assert np.array_equal(up[a:b], np.arange(a, b) - s)


@settings(max_examples=200, deadline=None)
@given(zone_sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5), n_types=st.integers(1, 4),
       per_bus=st.integers(0, 3), wide=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_rack_patterns_give_each_bus_its_racks(zone_sizes, n_types, per_bus, wide, seed):
    rng = np.random.default_rng(seed)
    zone = np.repeat(np.arange(len(zone_sizes)), zone_sizes)
    counts = rng.integers(0, per_bus + 1, zone.size)
    if wide:  # a bus with more racks than patterns group: every bus its own pattern
        counts[rng.integers(0, zone.size)] = MAX_PATTERN_RACKS + 1
    bus_rack_ptr = np.r_[0, np.cumsum(counts)]
    rack_type = rng.integers(0, n_types, bus_rack_ptr[-1])
    bus_pattern, pattern_ptr, pattern_type, zone_pattern_ptr = rack_patterns(zone, len(zone_sizes), bus_rack_ptr,
                                                                             rack_type)
    assert zone_pattern_ptr[0] == 0 and zone_pattern_ptr[-1] == pattern_ptr.size - 1
    for i in range(zone.size):
        j = bus_pattern[i]
        assert zone_pattern_ptr[zone[i]] <= j < zone_pattern_ptr[zone[i] + 1]
        assert np.array_equal(pattern_type[pattern_ptr[j]:pattern_ptr[j + 1]],
                              rack_type[bus_rack_ptr[i]:bus_rack_ptr[i + 1]])


@settings(max_examples=200, deadline=None)
@given(n_zone=st.integers(1, 50), n_rows=st.integers(1, 60), width=st.integers(0, 16), n_types=st.integers(1, 300),
       seed=st.integers(0, 2 ** 32 - 1))
def test_unique_rows_as_numpy_unique_of_rows(n_zone, n_rows, width, n_types, seed):
    # One integer per row (mixed radix) where it fits, NumPy's unique of rows otherwise (wide rows of many types):
    # the same rows, order and inverse as NumPy's unique of rows.
    rng = np.random.default_rng(seed)
    keys = np.c_[np.sort(rng.integers(0, n_zone, n_rows)), rng.integers(-1, n_types, (n_rows, width))]
    got, inverse = _unique_rows(keys, n_zone, n_types + 1)
    want, want_inverse = np.unique(keys, axis=0, return_inverse=True)
    assert np.array_equal(got, want)
    assert np.array_equal(inverse.ravel(), want_inverse.ravel())


@settings(max_examples=200, deadline=None)
@given(networks(), st.sampled_from([0.0, 0.5, -1.0, 2.0]), st.integers(1, 4))
def test_tree_newton_with_the_predictor_equals_predicting_then_newton_dc(net, r, n_patterns):
    # The series kernel's first sweep takes the predictor and the bus loads a block at a time: the same as the
    # predictor's pass over the zone (series_kernel._predict_with_loads' arithmetic) and then newton_dc.
    from gigawatt.solver.dc.series_newton import newton_tree_run, ready_blocks

    parent, up, g_parent, g_couple, fixed, v, p_load, k_droop, kv_droop, tol_a, max_iter = net
    n = parent.size
    rng = np.random.default_rng(n)
    v_prev = v * rng.uniform(0.999, 1.001, n)
    pattern_load = np.r_[p_load[:n_patterns], 0.0]
    bus_pattern = rng.integers(0, pattern_load.size, n)
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    v_ref, vp_ref, p_ref, i_ref = v.copy(), v_prev.copy(), np.zeros(n), np.zeros(n)
    for i in range(n):  # the predictor's pass, as series_kernel._predict_with_loads
        p_ref[i] = pattern_load[bus_pattern[i]]
        vi = v_ref[i]
        v_ref[i] = vi + r * (vi - vp_ref[i])
        vp_ref[i] = vi
    ref = newton_dc(parent, up, g_parent, g_couple, empty_i, empty_i, empty_f, fixed, v_ref, p_ref, k_droop, kv_droop,
                    0, n, tol_a, max_iter, i_ref, np.full((4, n), 7.0), empty_f)
    v_got, vp_got, p_got, i_got = v.copy(), v_prev.copy(), np.full(n, np.nan), np.zeros(n)
    blocks = tree_blocks(up, 0, n)
    droop = bool((k_droop != 0).any() or (kv_droop != 0).any())
    got = newton_tree_run(blocks, ready_blocks(blocks, up), up, g_couple, g_parent, np.flatnonzero(fixed), v_got,
                          p_got, k_droop, kv_droop, droop, tol_a, max_iter, i_got, np.full((4, n), np.nan), True, r,
                          vp_got, bus_pattern, pattern_load)
    assert got[0] == ref[0] and got[1] == ref[1]
    if got[0] == STATUS_SINGULAR:
        assert got[3] == ref[3]
    assert np.array_equal(np.float64(got[2]), np.float64(ref[2]), equal_nan=True)
    for a, b in ((v_got, v_ref), (vp_got, vp_ref), (p_got, p_ref), (i_got, i_ref)):
        assert np.array_equal(a, b, equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 60), vn=st.sampled_from([1.0, 3.0, 400.0, 800.0, 1500.0, 0.7]), ulps=st.integers(0, 4),
       seed=st.integers(0, 2 ** 32 - 1))
def test_lowest_row_as_the_lowest_row_of_the_least_quotient(n, vn, ulps, seed):
    # The series ledger's lowest per-unit voltage without a division a bus: the same row as the least V/vn,
    # lowest row on ties, where several buses end within a few doubles of the lowest voltage.
    from gigawatt.solver.dc.series_kernel import _lowest_row

    rng = np.random.default_rng(seed)
    v = vn * rng.uniform(0.9, 1.0, n)
    low = v.min()
    near = rng.random(n) < 0.4
    v[near] = low
    for _ in range(ulps):  # some a few doubles above the lowest
        step = near & (rng.random(n) < 0.5)
        v[step] = np.nextafter(v[step], np.inf)
    bus_row = rng.permutation(3 * n)[:n]
    pu = v / vn
    want = bus_row[pu == pu.min()].min()
    assert _lowest_row(v, vn, v.min(), bus_row, 0, n) == want
