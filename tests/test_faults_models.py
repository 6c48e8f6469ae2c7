"""The fault-current models (gigawatt.models.fault_currents) against closed forms and against the circuit
equations integrated with scipy's solve_ivp; the conductor ratings (gigawatt.models.ampacity) against their
sources. The scalar functions are Numba kernels: this file also runs with NUMBA_DISABLE_JIT=1
(tests/test_without_jit.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

from gigawatt.models import ampacity as amp
from gigawatt.models import fault_currents as fc

RLC_CASES = [  # (E, R, L, C): over-damped, critical, under-damped, lossless-ish
    (800.0, 0.05, 1e-6, 1e-3),
    (800.0, 2.0 * math.sqrt(1e-6 / 1e-3), 1e-6, 1e-3),
    (800.0, 0.01, 1e-6, 2e-3),
    (800.0, 1e-5, 2e-6, 1e-3),
]


def integrate_rlc(e, r, l, c, t):
    """i(t) of the series RLC discharge, L di/dt = v - R i, C dv/dt = -i, integrated numerically."""
    sol = solve_ivp(lambda _, y: [(y[1] - r * y[0]) / l, -y[0] / c], (0.0, t[-1]), [0.0, e], method="Radau",
                    rtol=1e-11, atol=1e-9, t_eval=t)
    return sol.y[0]


def test_rl_and_rc_closed_forms():
    # RL: (V/R)(1 - e^(-tR/L)); the initial slope V/L; the limits L = 0 and R = 0.
    v, r, l = 800.0, 0.02, 5e-5
    for t in (1e-6, 1e-4, 2.5e-3, 1.0):
        assert fc.rl_current(t, v, r, l) == pytest.approx(v / r * (1.0 - math.exp(-t * r / l)), rel=1e-14)
    assert fc.rl_current(1e-9, v, r, l) == pytest.approx(v * 1e-9 / l, rel=1e-6)
    assert fc.rl_current(1e-3, v, r, 0.0) == v / r
    assert fc.rl_current(1e-3, v, 0.0, l) == pytest.approx(v * 1e-3 / l)
    assert fc.rl_current(0.0, v, r, l) == 0.0 and fc.rl_current(-1.0, v, r, l) == 0.0
    # RC: (E/R) e^(-t/RC); its charge is C·E.
    e, r, c = 800.0, 0.02, 2e-3
    assert fc.rc_discharge_current(r * c, e, r, c) == pytest.approx(e / r / math.e, rel=1e-15)
    assert quad(lambda t: fc.rc_discharge_current(t, e, r, c), 0, 50 * r * c)[0] == pytest.approx(c * e, rel=1e-9)


@pytest.mark.parametrize("e, r, l, c", RLC_CASES)
def test_rlc_discharge_against_solve_ivp(e, r, l, c):
    t = np.linspace(0.0, 8.0 * math.sqrt(l * c), 4001)
    ref = integrate_rlc(e, r, l, c, t)
    got = np.array([fc.rlc_discharge_current(x, e, r, l, c) for x in t])
    assert np.max(np.abs(got - ref)) <= 1e-7 * np.max(np.abs(ref))
    # the first peak: zero slope there, and no larger value before it
    t_p, i_p = fc.rlc_peak(e, r, l, c)
    h = 1e-6 * t_p
    assert abs(fc.rlc_discharge_current(t_p + h, e, r, l, c) - fc.rlc_discharge_current(t_p - h, e, r, l, c)) \
        <= 1e-9 * i_p
    assert i_p == pytest.approx(np.max(ref[t <= 1.5 * t_p]), rel=1e-6)


def test_rlc_without_inductance_is_the_rc_discharge():
    assert fc.rlc_discharge_current(3e-5, 800.0, 0.02, 0.0, 2e-3) == fc.rc_discharge_current(3e-5, 800.0, 0.02, 2e-3)
    assert fc.rlc_peak(800.0, 0.02, 0.0, 2e-3) == (0.0, 40000.0)


def test_standard_function_shape():
    i_p, t_p, i_k, tau1, tau2 = 50e3, 1e-3, 20e3, 4e-4, 2e-3
    f = lambda t: fc.standard_function(t, i_p, t_p, i_k, tau1, tau2)  # noqa: E731
    assert f(-1e-9) == 0.0 and f(0.0) == 0.0
    assert f(t_p) == pytest.approx(i_p) and f(t_p * (1 - 1e-12)) == pytest.approx(i_p, rel=1e-9)
    assert f(t_p + tau2) == pytest.approx(i_k + (i_p - i_k) / math.e, rel=1e-12)
    assert f(1.0) == pytest.approx(i_k, rel=1e-12)
    # the rise is (1 - e^(-t/tau1)) scaled to reach i_p at t_p; its limits: a step and a straight line
    assert f(0.5 * t_p) == pytest.approx(i_p * (1 - math.exp(-0.5 * t_p / tau1)) / (1 - math.exp(-t_p / tau1)))
    assert fc.standard_function(0.5 * t_p, i_p, t_p, i_k, 0.0, tau2) == i_p
    assert fc.standard_function(0.25 * t_p, i_p, t_p, i_k, np.inf, tau2) == pytest.approx(0.25 * i_p)
    # no decay (NaN tau2): it holds its peak
    assert fc.standard_function(10.0, i_p, t_p, i_p, tau1, np.nan) == i_p


def test_converter_at_its_limit_is_the_rl_rise_exactly():
    e, r, l, i_lim = 800.0, 0.026, 20e-6, 2000.0
    q = fc.converter_contribution(e, r, l, i_lim)
    assert q[0] == q[2] == i_lim and math.isnan(q[4])
    assert q[1] == pytest.approx(-(l / r) * math.log(1.0 - i_lim * r / e), rel=1e-14)
    assert q[3] == pytest.approx(l / r, rel=1e-15)
    for frac in (0.01, 0.3, 0.99):
        t = frac * q[1]
        assert fc.standard_function(t, *q) == pytest.approx(fc.rl_current(t, e, r, l), rel=1e-12)
    # below the limit: E/R, reached (by convention) after RISE_TIME_CONSTANTS time constants
    q = fc.converter_contribution(e, 1.0, l, i_lim)
    assert q[0] == q[2] == e and q[1] == pytest.approx(fc.RISE_TIME_CONSTANTS * l)
    # no inductance: a step to the limit; no path or no voltage: nothing
    assert fc.converter_contribution(e, r, 0.0, i_lim)[:2] == (i_lim, 0.0)
    assert fc.converter_contribution(e, np.inf, l, i_lim)[0] == 0.0
    assert fc.converter_contribution(0.0, r, l, i_lim)[0] == 0.0


@pytest.mark.parametrize("e, r, l, c", RLC_CASES[:3])
def test_capacitor_contribution(e, r, l, c):
    i_p, t_p, i_k, tau1, tau2 = fc.capacitor_contribution(e, r, l, c)
    assert (t_p, i_p) == fc.rlc_peak(e, r, l, c) and i_k == 0.0
    assert tau2 == pytest.approx(r * c, rel=1e-15)
    # tau2 = RC: the standard function's decay carries the charge left at the peak, C·v_C(t_p) = C·R·i_p
    rest = quad(lambda t: fc.rlc_discharge_current(t, e, r, l, c), t_p, t_p + 200 * r * c + 60 * math.sqrt(l * c),
                limit=2000)[0]
    assert rest == pytest.approx(c * r * i_p, rel=1e-6)
    # tau1: the standard function leaves zero at the circuit's initial slope E/L
    h = 1e-9 * t_p
    slope = fc.standard_function(h, i_p, t_p, i_k, tau1, tau2) / h
    assert slope == pytest.approx(e / l, rel=1e-6)


def test_capacitor_without_inductance_is_the_rc_discharge():
    q = fc.capacitor_contribution(800.0, 0.02, 0.0, 2e-3)
    assert q[:4] == (40000.0, 0.0, 0.0, 0.0) and q[4] == pytest.approx(4e-5)
    for t in (0.0, 1e-5, 4e-5, 2e-4):
        assert fc.standard_function(t, *q) == pytest.approx(fc.rc_discharge_current(t, 800.0, 0.02, 2e-3), rel=1e-12)


def test_tau_from_slope_inverts_the_initial_slope():
    for tau in (1e-6, 1e-4, 1e-2):
        i_p, t_p = 1e4, 1e-4
        slope = i_p / (tau * -math.expm1(-t_p / tau))
        assert fc.tau_from_slope(i_p, t_p, slope) == pytest.approx(tau, rel=1e-9)
    assert fc.tau_from_slope(1e4, 1e-4, np.inf) == 0.0
    assert fc.tau_from_slope(1e4, 1e-4, 1e4 / 1e-4) == np.inf  # no steeper at first than on average


def _sum_reference(parts, t):
    return sum(np.array([fc.contribution_current(x, k, *p) for x in t]) for k, p in parts)


def test_superpose_against_the_summed_circuit_responses():
    # A converter at its limit, an under-damped capacitor and a battery (the validation case's contributions)
    parts = [(fc.RL, (800.0, 0.0052, 10e-6, 10e3)), (fc.RLC, (800.0, 0.011, 1e-6, 5e-3)),
             (fc.RL, (810.0, 0.042, 7e-6, np.inf))]
    kind = np.array([k for k, _ in parts])
    p = np.array([list(x) for _, x in parts])
    q = np.array([fc.converter_contribution(*parts[0][1]), fc.capacitor_contribution(*parts[1][1]),
                  fc.converter_contribution(*parts[2][1])])
    i_p, t_p, i_k, tau1, tau2 = fc.superpose(kind, p, q)
    t = np.linspace(0.0, 2e-3, 400001)
    s = _sum_reference(parts, t)
    assert i_p == pytest.approx(s.max(), rel=1e-9) and t_p == pytest.approx(t[np.argmax(s)], abs=2 * (t[1] - t[0]))
    assert i_k == pytest.approx(10e3 + 810.0 / 0.042, rel=1e-14)
    # tau1: the initial slope sum E/L of the three
    assert tau1 == pytest.approx(fc.tau_from_slope(i_p, t_p, 800 / 10e-6 + 800 / 1e-6 + 810 / 7e-6), rel=1e-12)
    # tau2: the charge above I_k after the peak, integrated numerically. Here the battery is still far below
    # its I_k and the capacitor's current swings negative: that charge is negative, no decay to speak of (NaN).
    excess = quad(lambda x: sum(fc.contribution_current(x, k, *pp) for k, pp in parts) - i_k, t_p, 0.05,
                  limit=4000, points=[t_p + 1e-4, 1e-3])[0]
    assert excess < 0 and math.isnan(tau2)


def test_superpose_decay_carries_the_charge_above_i_k():
    # An over-damped capacitor peaking after the converter has reached its limit: a decay to I_k.
    parts = [(fc.RL, (800.0, 0.01, 1e-6, 5e3)), (fc.RLC, (800.0, 0.05, 2e-6, 5e-3))]
    kind = np.array([k for k, _ in parts])
    p = np.array([list(x) for _, x in parts])
    q = np.array([fc.converter_contribution(*parts[0][1]), fc.capacitor_contribution(*parts[1][1])])
    i_p, t_p, i_k, tau1, tau2 = fc.superpose(kind, p, q)
    t = np.linspace(0.0, 1e-4, 200001)
    s = _sum_reference(parts, t)
    assert i_p == pytest.approx(s.max(), rel=1e-9) and i_k == 5e3
    excess = quad(lambda x: sum(fc.contribution_current(x, k, *pp) for k, pp in parts) - i_k, t_p, 1.0,
                  limit=4000, points=[t_p + 1e-3, 1e-2])[0]
    assert excess > 0 and tau2 == pytest.approx(excess / (i_p - i_k), rel=1e-7)


def test_superpose_of_one_contribution_is_that_contribution():
    for kind, params, func in ((fc.RL, (800.0, 0.026, 20e-6, 2000.0), fc.converter_contribution),
                               (fc.RLC, (800.0, 0.01, 1e-6, 2e-3), fc.capacitor_contribution)):
        q = np.array([func(*params), (0.0, 0.0, 0.0, 0.0, np.nan)])
        p = np.array([params, (800.0, np.inf, 0.0, 0.0)])
        got = fc.superpose(np.array([kind, fc.RL]), p, q)
        np.testing.assert_array_equal(np.array(got), q[0])


def test_superpose_of_rising_contributions_ends_at_their_sum():
    # two batteries (no limit): the sum rises to I_k for ever; i_p = I_k, at the later t_p
    parts = [(800.0, 0.05, 1e-5, np.inf), (800.0, 0.1, 5e-5, np.inf)]
    q = np.array([fc.converter_contribution(*x) for x in parts])
    got = fc.superpose(np.array([fc.RL, fc.RL]), np.array(parts), q)
    assert got[0] == got[2] == pytest.approx(800 / 0.05 + 800 / 0.1) and got[1] == max(q[:, 1])
    assert math.isnan(got[4])


# --- conductor ratings ---------------------------------------------------------------------------------

def test_ampacity_docstring_examples(kit):
    assert {"iec60287_dc_rating", "canalis_ktc_rating", "busway_loop_inductance",
            "conductor_temperature_from_load"} <= kit.run_docstring_examples(amp)


def test_iec60287_rating_is_the_heat_balance():
    # At its rating the conductor's loss I²R' through T gives exactly the allowed rise.
    r, t_th = 8e-5, 1.3
    i = amp.iec60287_dc_rating(r, t_th, 363.15, 303.15)
    assert i * i * r * t_th == pytest.approx(60.0, rel=1e-14)
    assert amp.conductor_temperature_from_load(i, i, 363.15, 303.15) == pytest.approx(363.15)
    assert amp.conductor_temperature_from_load(0.0, i, 363.15, 303.15) == 303.15


def test_canalis_table_reproduced_at_its_sizes():
    t = amp.CANALIS_KTC
    area = 1.7241e-8 / t["r20_ohm_per_m"]  # the equivalent copper section of each size
    np.testing.assert_allclose(amp.canalis_ktc_rating(area), t["rated_current_a"], rtol=1e-12)
    assert np.isnan(amp.canalis_ktc_rating([100e-6, 4000e-6])).all()  # outside the catalogue
    np.testing.assert_allclose(amp.busway_loop_inductance(area), 2 * t["x1_ohm_per_m"] / (2 * np.pi * 50), rtol=1e-12)


def test_default_loop_inductance_by_kind():
    got = amp.default_loop_inductance(np.array(["cable", "busway", "busbar", "busway"], dtype=object),
                                      np.array([1e-3, 1e-3, 1e-3, np.nan]))
    assert got[0] == pytest.approx(4e-7 / 1 * (0.25 + math.log(2)), rel=1e-12)  # mu0/pi (1/4 + ln 2)
    assert got[1] == got[2] == amp.busway_loop_inductance(1e-3)
    assert got[3] == amp.CABLE_LOOP_INDUCTANCE_H_PER_M
