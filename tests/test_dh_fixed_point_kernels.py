"""The district-heating fixed point's kernels (:mod:`gigawatt.solver.district_heating.fixed_point_kernels`)
against the NumPy expressions they replaced in the stage (its previous implementation), to the bit: random
arrays with ties, NaN, zero flows, passing and capped substations. Each kernel runs jitted and as plain
Python (its ``py_func``, the code ``NUMBA_DISABLE_JIT=1`` runs)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.models.substations import flow_fixed_return
from gigawatt.solver.district_heating.fixed_point_kernels import (fixed_return_flows, heat_residuals, next_flows,
                                                                   supply_side_flows)
from gigawatt.solver.district_heating.stage import HEAT_RTOL, MIN_DRIVING_DT_K, ZERO_FLOW_RTOL


def _py(fn, jit):
    return fn if jit else getattr(fn, "py_func", fn)


def _same(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all((a == b) & (np.signbit(a) == np.signbit(b)) | both_nan))


@pytest.mark.parametrize("jit", [True, False])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n_branch=st.integers(1, 60), n_side=st.integers(1, 30),
       nc=st.integers(0, 40), still=st.booleans(), has_sup=st.booleans())
def test_supply_side_flows_is_the_numpy_of_the_stage(jit, seed, n_branch, n_side, nc, still, has_sup):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal(n_branch) * np.exp(rng.uniform(-30, 2, n_branch))  # rounding-sized flows among them
    m[rng.random(n_branch) < 0.2] = 0.0
    branches = rng.choice(n_branch, size=int(rng.integers(0, n_branch + 1)), replace=False)
    flow = rng.uniform(0, 2, nc)
    consumer_node = rng.integers(0, n_side, nc)
    sup_at = int(rng.integers(0, n_side)) if has_sup else -1
    m_sup = float(rng.uniform(0, 50))
    # the stage's NumPy (before the kernel)
    m_branch = m.copy()
    m_branch[np.abs(m_branch) <= ZERO_FLOW_RTOL * max(np.max(np.abs(m_branch), initial=0.0), 1e-300)] = 0.0
    if still:
        m_branch[:] = 0.0
    m_node = np.zeros(n_side)
    if not still:
        m_node[np.arange(n_side) == sup_at] = m_sup
        m_node -= np.bincount(consumer_node, flow, n_side)
    m_side_out, m_node_out = np.full(branches.size, np.nan), np.full(n_side, np.nan)
    _py(supply_side_flows, jit)(m, ZERO_FLOW_RTOL, branches, flow, consumer_node, sup_at, m_sup, still, m_side_out,
                                m_node_out)
    assert _same(m_side_out, m_branch[branches]) and _same(m_node_out, m_node)


def _consumers(rng, nc):
    demand = rng.uniform(0, 5e4, nc) * (rng.random(nc) > 0.1)
    t_ret = rng.choice([313.15, 318.15], nc)
    t_in = t_ret + rng.uniform(-3, 30, nc)
    t_in[rng.random(nc) < 0.05] = np.nan
    cp = np.full(nc, 4190.0) if rng.random() < 0.5 else rng.uniform(4150, 4210, nc)
    lo = demand / (cp * 30.0)
    hi = demand / (cp * MIN_DRIVING_DT_K)
    return demand, t_ret, t_in, cp, lo, hi


@pytest.mark.parametrize("jit", [True, False])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), nc=st.integers(0, 60))
def test_heat_residuals_is_the_numpy_of_the_stage(jit, seed, nc):
    rng = np.random.default_rng(seed)
    demand, t_ret, t_in, cp, lo, hi = _consumers(rng, nc)
    heat = (demand > 0) & (rng.random(nc) > 0.1)
    passing = rng.random(nc) < 0.2
    t_ref = np.where(rng.random(nc) < 0.2, t_in - rng.uniform(0, 5, nc), t_ret)
    exact = demand / (cp * np.maximum(t_in - t_ref, 1e-3))
    flow = np.where(rng.random(nc) < 0.5, exact * (1 + rng.choice([0, 1e-12, 1e-9, -1e-6], nc)), hi)
    # the stage's NumPy (before the kernel)
    r = np.where(heat, flow * cp * np.maximum(t_in - t_ref, 0.0) - demand, 0.0)
    capped = heat & ((flow >= hi) | (passing & (t_in <= t_ret))) & (r < 0)
    settled = bool(np.all((np.abs(r) <= HEAT_RTOL * np.maximum(demand, 1.0)) | capped))
    worst = float(np.max(np.abs(r) / np.maximum(demand, 1.0), initial=0.0))
    r_out = np.full(nc, -1.0)
    got_settled, got_worst = _py(heat_residuals, jit)(flow, t_in, t_ref, cp, demand, heat, hi, passing, t_ret,
                                                      HEAT_RTOL, r_out)
    assert _same(r_out, r) and bool(got_settled) == settled and _same(got_worst, worst)


@pytest.mark.parametrize("jit", [True, False])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), nc=st.integers(0, 60))
def test_fixed_return_and_next_flows_are_the_numpy_of_the_stage(jit, seed, nc):
    rng = np.random.default_rng(seed)
    demand, t_ret, t_in, cp, lo, hi = _consumers(rng, nc)
    passing = rng.random(nc) < 0.2
    bypass = rng.uniform(0, 1, nc)
    # the stage's NumPy (before the kernels)
    plain = np.where(passing, bypass, np.clip(flow_fixed_return(demand, t_in, t_ret, cp, MIN_DRIVING_DT_K), lo, hi))
    out = np.full(nc, -1.0)
    _py(fixed_return_flows, jit)(demand, t_in, t_ret, cp, MIN_DRIVING_DT_K, lo, hi, passing, bypass, out)
    assert _same(out, plain)
    heat = rng.random(nc) > 0.1
    keep = rng.random(nc) < 0.3
    step = plain * (1 + rng.uniform(-0.5, 0.5, nc))
    step[rng.random(nc) < 0.05] = np.nan
    fixed = rng.uniform(0, 1, nc)
    flow = np.where(heat, np.where(keep, plain, np.clip(step, lo, hi)), fixed)
    out = np.full(nc, -1.0)
    _py(next_flows, jit)(heat, keep, plain, step, lo, hi, fixed, out)
    assert _same(out, flow)
