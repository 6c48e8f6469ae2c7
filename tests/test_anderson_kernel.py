"""The Anderson acceleration kernels (:mod:`gigawatt.solver.numerics.anderson`) against NumPy: the scaled iterate,
its residual and their differences against the NumPy expressions (to the bit), the normal equations' Gram
matrix and right-hand side against ``d_f @ d_f.T`` and ``d_f @ f``, the step they give against the tall least
squares of ``numpy.linalg.lstsq`` (the fixed point's previous implementation), and the combined iterate against
its NumPy expression. Each kernel runs jitted and as plain Python (its ``py_func``, the code
``NUMBA_DISABLE_JIT=1`` runs). Tolerances: sums of a few hundred products, so ~1e-13 relative to their terms."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.solver.numerics.anderson import combine, history_step


def _py(fn, jit):
    return fn if jit else getattr(fn, "py_func", fn)


@pytest.mark.parametrize("jit", [True, False])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), k=st.integers(1, 5), n=st.integers(1, 300), depth=st.integers(5, 7))
def test_history_step_and_combine_against_numpy(jit, seed, k, n, depth):
    rng = np.random.default_rng(seed)
    big = n + 3  # the history covers entries idx of a longer vector
    idx = rng.permutation(big)[:n]
    m, g = rng.uniform(0.01, 2.0, big), rng.uniform(0.01, 2.0, big) * np.exp(rng.uniform(-20, 0))
    scale = np.exp(rng.uniform(-3, 3, n))
    d_x, d_f = rng.standard_normal((depth, n)), rng.standard_normal((depth, n)) * np.exp(rng.uniform(-20, 0))
    x_last, f_last = rng.standard_normal(n), rng.standard_normal(n)
    x0, f0, keep_x, keep_f = x_last.copy(), f_last.copy(), d_x.copy(), d_f.copy()
    slot = int(rng.integers(0, k))
    gram, rhs = np.full((depth, depth), np.nan), np.full(depth, np.nan)
    _py(history_step, jit)(m, g, idx, scale, x_last, f_last, False, d_x, d_f, slot, k, gram, rhs)
    x = m[idx] / scale
    f = g[idx] / scale - x
    assert np.array_equal(x_last, x) and np.array_equal(f_last, f)
    assert np.array_equal(d_x[slot], x - x0) and np.array_equal(d_f[slot], f - f0)
    others = np.arange(depth) != slot
    assert np.array_equal(d_x[others], keep_x[others]) and np.array_equal(d_f[others], keep_f[others])
    a = d_f[:k]
    norm = np.linalg.norm(a, axis=1)
    np.testing.assert_allclose(gram[:k, :k], a @ a.T, rtol=0, atol=1e-13 * np.outer(norm, norm).max())
    np.testing.assert_allclose(rhs[:k], a @ f, rtol=0, atol=1e-13 * norm.max() * np.linalg.norm(f))
    assert np.array_equal(gram[:k, :k], gram[:k, :k].T)
    if k <= n:  # full column rank (random data): both least squares have one answer
        gamma = np.linalg.lstsq(gram[:k, :k], rhs[:k], rcond=None)[0]
        tall = np.linalg.lstsq(a.T, f, rcond=None)[0]
        cond = np.linalg.cond(a.T)
        if cond < 1e4:
            np.testing.assert_allclose(gamma, tall, rtol=0, atol=1e-9 * cond ** 2 * max(np.abs(tall).max(), 1.0))
        out = np.full(big, -1.0)
        _py(combine, jit)(x, f, gamma, d_x, d_f, scale, idx, out)
        # (a sum of k + 2 terms that may cancel: bounded by the terms' sizes, not the result's)
        size = (np.abs(x) + np.abs(f) + np.abs(gamma) @ (np.abs(d_x[:k]) + np.abs(d_f[:k]))) * scale
        assert np.all(np.abs(out[idx] - (x + f - gamma @ (d_x[:k] + d_f[:k])) * scale) <= 1e-14 * size)
        assert np.all(np.delete(out, idx) == -1.0)


@pytest.mark.parametrize("jit", [True, False])
def test_the_first_step_writes_no_difference(jit):
    rng = np.random.default_rng(3)
    m, g, idx, scale = rng.uniform(0.01, 2.0, 40), rng.uniform(0.01, 2.0, 40), np.arange(5, 30), rng.uniform(0.01, 0.1, 25)
    x_last, f_last, d_x, d_f = np.zeros(25), np.zeros(25), np.full((5, 25), np.nan), np.full((5, 25), np.nan)
    gram, rhs = np.full((5, 5), np.nan), np.full(5, np.nan)
    _py(history_step, jit)(m, g, idx, scale, x_last, f_last, True, d_x, d_f, 0, 0, gram, rhs)
    assert np.isnan(d_x).all() and np.isnan(d_f).all() and np.isnan(gram).all() and np.isnan(rhs).all()
    assert np.array_equal(x_last, m[idx] / scale) and np.array_equal(f_last, g[idx] / scale - m[idx] / scale)


def test_gram_of_a_rank_deficient_history_gives_the_minimum_norm_step():
    """Two equal differences (a stalled iterate): the normal equations are singular, and lstsq's
    pseudo-inverse gives the minimum-norm gamma, as the tall least squares does."""
    rng = np.random.default_rng(7)
    row = rng.standard_normal(50)
    d_f = np.stack([row, row, rng.standard_normal(50)])
    d_x = np.zeros_like(d_f)
    f = rng.standard_normal(50)
    # history_step with the iterate's residual f: m = 0, so x = 0 and g / scale = f
    gram, rhs = np.empty((3, 3)), np.empty(3)
    history_step(np.zeros(50), f.copy(), np.arange(50), np.ones(50), np.zeros(50), np.zeros(50), True, d_x, d_f, 0, 3,
                 gram, rhs)
    gamma = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    np.testing.assert_allclose(gamma, np.linalg.lstsq(d_f.T, f, rcond=None)[0], rtol=1e-8, atol=1e-10)
