"""Effectiveness-NTU heat exchangers (models/heat_exchangers.py) against the ``ht`` package, the closed forms
of Incropera et al. Table 11.3, the first and second laws, and the limits NTU -> infinity and C_r -> 1.

Every test runs twice: jitted in this process, and as plain Python (``NUMBA_DISABLE_JIT=1``) in a
subprocess that runs this same file (``test_same_tests_pass_without_jit``), as STYLE.md asks.
"""
from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ht.hx import effectiveness_from_NTU

from gigawatt.models import heat_exchangers as hx

EPS = np.finfo(float).eps
JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"
EFFECTIVENESS = {"counterflow": hx.effectiveness_counterflow, "parallel": hx.effectiveness_parallel}


# --- the JIT switch --------------------------------------------------------------------------------

def test_kernels_are_compiled_or_plain_python_as_the_environment_says():
    # With NUMBA_DISABLE_JIT=1 numba's decorator returns the Python function itself; otherwise a
    # dispatcher holding it as .py_func. The subprocess run relies on this.
    for f in (hx.effectiveness_counterflow, hx.effectiveness_parallel, hx.effectiveness, hx.exchanger_outlets):
        assert hasattr(f, "py_func") is (not JIT_OFF)


# --- against the ht package ------------------------------------------------------------------------

NTU_GRID = np.logspace(-2, np.log10(50.0), 25)
CR_GRID = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]


@pytest.mark.parametrize("name", list(hx.ARRANGEMENTS))
def test_effectiveness_matches_ht(name):
    # Every registry entry against ht.hx.effectiveness_from_NTU with the same name as subtype (ht 1.2,
    # the textbook forms). Tolerance: ht evaluates 1 - exp(-x), which loses about eps/x relative by
    # cancellation; on this grid the smallest x = NTU(1 - C_r) is 1e-2 * 1e-2 = 1e-4 (counter-flow; parallel
    # has x = NTU(1 + C_r) >= 1e-2), so ht is good to about 2.2e-16/1e-4 = 2.2e-12 and ours to a few eps.
    # 1e-11 relative covers both with a factor 4 for the few roundings in each formula.
    code = hx.ARRANGEMENTS[name]
    for ntu, c_r in itertools.product(NTU_GRID, CR_GRID):
        ref = effectiveness_from_NTU(float(ntu), c_r, subtype=name)
        assert EFFECTIVENESS[name](ntu, c_r) == pytest.approx(ref, rel=1e-11, abs=0), (ntu, c_r)
        assert hx.effectiveness(ntu, c_r, code) == EFFECTIVENESS[name](ntu, c_r)


def test_counterflow_balanced_closed_form_and_no_0_over_0_near_it():
    # C_r = 1 exactly: Incropera Table 11.3, epsilon = NTU/(1 + NTU); our single expression gives it to
    # rounding (a few eps).
    for ntu in (1e-6, 0.1, 1.0, 3.0, 1e3):
        assert hx.effectiveness_counterflow(ntu, 1.0) == pytest.approx(ntu / (1.0 + ntu), rel=4 * EPS)
    # Approaching C_r = 1 from below the textbook form is 0/0-prone; ours is smooth. Its slope there,
    # from a first-order expansion of the closed form in delta = 1 - C_r, is
    # d epsilon / d delta = NTU^2 / (2 (1 + NTU)^2). Check the difference quotient against it: the
    # second-order term is O(delta) relative, rounding is about eps/delta relative, so with
    # delta = 1e-6 both are below 1e-5 of the slope; tolerance 1e-5 relative.
    delta = 1e-6
    for ntu in (0.05, 0.5, 2.0, 10.0):
        slope = (hx.effectiveness_counterflow(ntu, 1.0 - delta) - hx.effectiveness_counterflow(ntu, 1.0)) / delta
        assert slope == pytest.approx(ntu**2 / (2.0 * (1.0 + ntu) ** 2), rel=1e-5), ntu
    # Down to a C_r one unit of rounding below 1 the result stays finite, monotone in C_r and within
    # the slope bound of the C_r = 1 value (slope <= 1/2, plus 4 eps of rounding).
    for delta in (1e-9, 1e-12, 1e-15, EPS / 2):
        for ntu in (0.3, 3.0, 30.0):
            e1, e = hx.effectiveness_counterflow(ntu, 1.0), hx.effectiveness_counterflow(ntu, 1.0 - delta)
            assert math.isfinite(e) and e >= e1 and e - e1 <= delta / 2 + 4 * EPS


def test_single_stream_limit_c_r_zero():
    # C_r = 0 (one stream at constant temperature: condenser, evaporator): epsilon = 1 - exp(-NTU) for
    # both arrangements (Incropera Table 11.3, "all exchangers (C_r = 0)"), to a few eps.
    for ntu in (1e-8, 0.01, 1.0, 5.0, 40.0):
        ref = -math.expm1(-ntu)
        assert hx.effectiveness_counterflow(ntu, 0.0) == pytest.approx(ref, rel=4 * EPS)
        assert hx.effectiveness_parallel(ntu, 0.0) == pytest.approx(ref, rel=4 * EPS)


# --- limits ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("c_r", CR_GRID)
def test_infinite_ntu_limits(c_r):
    # NTU -> inf: counter-flow epsilon -> 1 (the cold stream can reach the hot inlet), parallel flow
    # epsilon -> 1/(1 + C_r) (both streams end at the mixed temperature). Exact at NTU = inf.
    assert hx.effectiveness_counterflow(math.inf, c_r) == 1.0
    assert hx.effectiveness_parallel(math.inf, c_r) == pytest.approx(1.0 / (1.0 + c_r), rel=EPS)
    # At large finite NTU, counter-flow: 1 - epsilon <= 1/(1 + NTU), the balanced (C_r = 1) shortfall,
    # which is the largest over C_r (epsilon falls as C_r rises); parallel: the shortfall is
    # exp(-NTU(1 + C_r))/(1 + C_r) < 1e-21 at NTU = 50, far below rounding, so equal to 2 eps.
    for ntu in (1e3, 1e6, 1e12):
        assert 0.0 <= 1.0 - hx.effectiveness_counterflow(ntu, c_r) <= 1.0 / (1.0 + ntu) + EPS
    assert hx.effectiveness_parallel(50.0, c_r) == pytest.approx(1.0 / (1.0 + c_r), rel=2 * EPS)


def test_ideal_counterflow_exchanger_heats_the_smaller_stream_to_the_other_inlet():
    # UA = inf, counter-flow, cold stream the smaller capacity: epsilon = 1, q = C_min (T_hi - T_ci), the
    # cold stream leaves at the hot inlet temperature (to a few ulp of 350 K).
    th, tc, q = hx.exchanger_outlets(350.0, 290.0, 5e4, 2e4, math.inf, hx.COUNTER_FLOW)
    assert q == pytest.approx(2e4 * 60.0, rel=4 * EPS)
    assert tc == pytest.approx(350.0, abs=4 * EPS * 350.0)
    assert th == pytest.approx(350.0 - q / 5e4, rel=4 * EPS)


# --- first and second law -------------------------------------------------------------------------

FIRST_LAW_GRID = list(itertools.product(
    (313.15, 333.15, 353.15),            # hot inlet [K]
    (283.15, 300.15),                    # cold inlet [K]
    (2e4, 1e5),                          # C_hot [W/K]
    (2e4, 5e4, 1e5),                     # C_cold [W/K]
    (1e4, 1e5, 1e6),                     # UA [W/K]
    (hx.COUNTER_FLOW, hx.PARALLEL_FLOW),
))


def test_first_law_hot_side_duty_equals_cold_side_duty():
    # C_h (T_hi - T_ho) = C_c (T_co - T_ci) = q, to 1e-12 relative. Rounding budget: each outlet is an
    # inlet minus q/C, so the recomputed duties carry about eps * T / dT relative error; on this grid the
    # smallest outlet change is 0.9 K at T <= 353 K, i.e. 2.2e-16 * 353 / 0.9 = 9e-14, well under 1e-12.
    # Each case also runs with the streams swapped (the "hot" inlet the colder one: q < 0, same laws).
    for t_hi, t_ci, c_h, c_c, ua, arr in FIRST_LAW_GRID:
        for a, b in ((t_hi, t_ci), (t_ci, t_hi)):
            th, tc, q = hx.exchanger_outlets(a, b, c_h, c_c, ua, arr)
            q_hot, q_cold = c_h * (a - th), c_c * (tc - b)
            assert abs(q_hot - q_cold) <= 1e-12 * abs(q), (a, b, c_h, c_c, ua, arr)
            assert abs(q_hot - q) <= 1e-12 * abs(q)
            assert math.copysign(1.0, q) == math.copysign(1.0, a - b)  # heat flows from warm to cold


@settings(max_examples=300, deadline=None)
@given(t_hot=st.floats(250.0, 400.0), t_cold=st.floats(250.0, 400.0),
       c_hot=st.floats(1.0, 1e7), c_cold=st.floats(1.0, 1e7),
       ua=st.one_of(st.floats(0.0, 1e9), st.just(math.inf)),
       arrangement=st.sampled_from([hx.COUNTER_FLOW, hx.PARALLEL_FLOW]))
def test_second_law_no_temperature_cross(t_hot, t_cold, c_hot, c_cold, ua, arrangement):
    # Any inlets, capacities and UA: 0 <= epsilon <= 1 and both outlets between the inlets (heat never
    # flows against the temperature difference); in parallel flow also the outlets do not cross (the
    # stream that entered warmer leaves no colder than the other). Slack: 4 ulp of the temperatures, the
    # rounding of T_in -/+ q/C.
    lo, hi = min(t_hot, t_cold), max(t_hot, t_cold)
    slack = 4 * EPS * hi
    th, tc, q = hx.exchanger_outlets(t_hot, t_cold, c_hot, c_cold, ua, arrangement)
    c_min, c_max = min(c_hot, c_cold), max(c_hot, c_cold)
    eps_ = hx.effectiveness(ua / c_min, c_min / c_max, arrangement)
    assert 0.0 <= eps_ <= 1.0
    assert lo - slack <= th <= hi + slack and lo - slack <= tc <= hi + slack
    if arrangement == hx.PARALLEL_FLOW:
        assert (th - tc) * (t_hot - t_cold) >= -slack * abs(t_hot - t_cold)


# --- degenerate and invalid inputs ----------------------------------------------------------------

def test_degenerate_exchangers_are_their_limits():
    # UA = 0: nothing exchanged, outlets = inlets.
    assert hx.exchanger_outlets(330.0, 300.0, 1e4, 2e4, 0.0, hx.COUNTER_FLOW) == (330.0, 300.0, 0.0)
    # No flow on one side, UA > 0: that side leaves at the other inlet (C -> 0, NTU -> inf), q = 0.
    assert hx.exchanger_outlets(330.0, 300.0, 0.0, 2e4, 1e3, hx.COUNTER_FLOW) == (300.0, 300.0, 0.0)
    assert hx.exchanger_outlets(330.0, 300.0, 1e4, 0.0, 1e3, hx.PARALLEL_FLOW) == (330.0, 330.0, 0.0)
    # Equal inlets: no duty whatever the exchanger.
    assert hx.exchanger_outlets(310.0, 310.0, 1e4, 2e4, 1e5, hx.COUNTER_FLOW) == (310.0, 310.0, 0.0)


@pytest.mark.parametrize("args", [
    (330.0, 300.0, -1.0, 2e4, 1e3, hx.COUNTER_FLOW),
    (330.0, 300.0, 1e4, math.nan, 1e3, hx.COUNTER_FLOW),
    (330.0, 300.0, 1e4, 2e4, -5.0, hx.PARALLEL_FLOW),
    (math.nan, 300.0, 1e4, 2e4, 1e3, hx.COUNTER_FLOW),
    (330.0, math.inf, 1e4, 2e4, 1e3, hx.COUNTER_FLOW),
    (330.0, 300.0, 1e4, 2e4, 1e3, 7),
])
def test_invalid_inputs_give_nan_not_a_number_that_looks_right(args):
    assert all(math.isnan(v) for v in hx.exchanger_outlets(*args))


@pytest.mark.parametrize("ntu, c_r", [(-0.1, 0.5), (1.0, -0.01), (1.0, 1.0 + 1e-12), (math.nan, 0.5),
                                      (1.0, math.nan)])
def test_effectiveness_outside_its_domain_is_nan(ntu, c_r):
    assert math.isnan(hx.effectiveness_counterflow(ntu, c_r))
    assert math.isnan(hx.effectiveness_parallel(ntu, c_r))
    assert math.isnan(hx.effectiveness(1.0, 0.5, 2))  # unknown arrangement code
