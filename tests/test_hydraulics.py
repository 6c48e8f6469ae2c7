"""Tests of gigawatt.models.flow_correlations against the reference libraries fluids and ht, closed forms and
exact scaling relations.

Every test runs twice: jitted in this process, and as plain Python (``NUMBA_DISABLE_JIT=1``) in a
subprocess that runs this same file (``test_same_tests_pass_without_jit``), as STYLE.md asks. Each test
says where its expected number comes from and why its tolerance is what it is.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

# fluids and ht are test dependencies (the references), imported without a skip: a missing reference
# must fail the run, not silently skip the comparison.
from fluids.core import Reynolds, dP_from_K
from fluids.friction import Colebrook, Prandtl_von_Karman_Nikuradse, friction_factor, one_phase_dP
from ht.conv_internal import laminar_Q_const, laminar_T_const, turbulent_Gnielinski

from gigawatt.models import flow_correlations as hy

JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"
EPS = np.finfo(float).eps

# Colebrook sweep of the brief: Re 4e3 .. 1e8 and eps/D 0 .. 0.05 (the Moody chart), log-spaced.
SWEEP_RE = [float(r) for r in np.logspace(np.log10(4e3), 8.0, 25)]
SWEEP_ED = [0.0] + [float(e) for e in np.logspace(-7.0, np.log10(0.05), 9)]

# Pipes for the pressure-drop tests: (d_m, length_m, roughness_m, density_kg_m3, viscosity_pa_s, k_minor).
PIPES = {
    # DN100 steel (109.1 mm bore), water at 20 degC, steel roughness 0.05 mm (a design rule of thumb).
    "dn100_water": (0.1091, 100.0, 5e-5, 998.2, 1.002e-3, 2.5),
    # 4 mm cold-plate channel, PG25 at 40 degC (rho 1015, mu 2.2 mPa s), drawn tube 1.5 um.
    "coldplate_pg25": (0.004, 0.3, 1.5e-6, 1015.0, 2.2e-3, 1.2),
    # DN600 district-heating main, water at 80 degC, no fittings.
    "dn600_water_80c": (0.5974, 1000.0, 5e-5, 971.8, 3.55e-4, 0.0),
}


def mass_flow_at(re_target, d_m, viscosity_pa_s):
    """Mass flow [kg/s] that gives Reynolds number ``re_target`` in a pipe of diameter ``d_m``."""
    return re_target * math.pi * d_m * viscosity_pa_s / 4.0


def test_mode_is_what_the_run_says():
    # With NUMBA_DISABLE_JIT=1 numba's decorator returns the Python function itself; otherwise a
    # dispatcher holding it as .py_func. The subprocess run below relies on this.
    assert hasattr(hy.colebrook_darcy, "py_func") is (not JIT_OFF)


# --- friction factor -------------------------------------------------------------------------------

def test_colebrook_against_fluids_exact():
    # Reference: fluids.friction.Colebrook with tol=None, the exact Lambert-W solution; where its
    # Lambert-W argument overflows (large Re * eps/D) fluids falls back to a secant solve to xtol 1e-12
    # in f, i.e. up to ~1e-10 relative. Hence rtol 1e-10 (we measured at most 3e-14).
    worst = 0.0
    for re_ in SWEEP_RE:
        for ed in SWEEP_ED:
            ours = hy.colebrook_darcy(re_, ed)
            ref = Colebrook(re_, ed)
            worst = max(worst, abs(ours / ref - 1.0))
    assert worst <= 1e-10


def test_colebrook_solved_to_machine_precision():
    # The returned f must satisfy the Colebrook equation itself: residual of
    # g(x) = x + 2 log10(eps/3.7D + 2.51 x / Re), x = 1/sqrt(f), within a few ulps of x (log10 and
    # the sum each round once; 8 eps relative allows for that and nothing more).
    for re_ in SWEEP_RE:
        for ed in SWEEP_ED:
            x = 1.0 / math.sqrt(hy.colebrook_darcy(re_, ed))
            residual = x + 2.0 * math.log10(ed / 3.7 + 2.51 * x / re_)
            assert abs(residual) <= 8.0 * EPS * x, (re_, ed, residual)


@pytest.mark.parametrize("re_", [1e-3, 1.0, 10.0, 100.0, 1000.0, 2000.0, 2039.0, 2300.0])
def test_laminar_is_64_over_re(re_):
    # Hagen-Poiseuille f = 64/Re, exact (rel 1e-15: one division). fluids.friction.friction_factor
    # returns 64/Re below its own transition Re = 2040 (checked only there).
    for ed in (0.0, 1e-3, 0.05):
        assert hy.darcy_friction_factor(re_, ed) == pytest.approx(64.0 / re_, rel=1e-15)
        if re_ < 2040.0:
            assert hy.darcy_friction_factor(re_, ed) == pytest.approx(friction_factor(re_, ed), rel=1e-15)


@pytest.mark.parametrize("ed", [0.0, 1e-4, 0.05])
def test_all_regimes_turbulent_branch_is_colebrook(ed):
    # From Re = 4000 up, darcy_friction_factor is the Colebrook root itself: rel 1e-10 as above.
    for re_ in SWEEP_RE:
        assert hy.darcy_friction_factor(re_, ed) == pytest.approx(Colebrook(re_, ed), rel=1e-10)


@pytest.mark.parametrize("ed", [0.0, 1e-4, 0.05])
def test_transition_is_a_continuous_linear_blend(ed):
    # The stated model: linear in Re from 64/2300 at Re = 2300 to the Colebrook value at 4000.
    f_lam, f_cw = 64.0 / 2300.0, hy.colebrook_darcy(4000.0, ed)
    # Midpoint is the mean of the end values (rel 1e-14: two roundings).
    assert hy.darcy_friction_factor(3150.0, ed) == pytest.approx(0.5 * (f_lam + f_cw), rel=1e-14)
    # Continuity at both ends: a step of 1e-9 in Re changes f by at most |slope| 1e-9 ~ 1e-13 relative.
    assert hy.darcy_friction_factor(2300.0 + 1e-9, ed) == pytest.approx(f_lam, rel=1e-12)
    assert hy.darcy_friction_factor(4000.0 - 1e-9, ed) == pytest.approx(f_cw, rel=1e-12)
    # f rises through the transition (what keeps the pressure drop monotone in flow).
    f = [hy.darcy_friction_factor(r, ed) for r in np.linspace(2300.0, 4000.0, 50)]
    assert np.all(np.diff(f) > 0)


@pytest.mark.parametrize("re_", [50.0, 1500.0, 2800.0, 3900.0, 4500.0, 3e4, 1e6, 5e7])
@pytest.mark.parametrize("ed", [0.0, 2e-4, 0.05])
def test_friction_derivative_against_finite_difference(re_, ed):
    # Central difference with h = 1e-6 Re: truncation ~ (h/Re)^2 = 1e-12, rounding ~ eps Re / h = 2e-10
    # relative; rtol 1e-7 leaves a wide margin and still catches any wrong term (none of the points
    # lies within h of the kinks at 2300 and 4000).
    h = 1e-6 * re_
    fd = (hy.darcy_friction_factor(re_ + h, ed) - hy.darcy_friction_factor(re_ - h, ed)) / (2.0 * h)
    assert hy.darcy_friction_factor_derivative(re_, ed) == pytest.approx(fd, rel=1e-7)


# --- pressure drop ---------------------------------------------------------------------------------

@pytest.mark.parametrize("pipe", list(PIPES))
@pytest.mark.parametrize("re_", [4000.0, 2e4, 3e5, 5e6])
def test_pressure_drop_against_fluids_turbulent(pipe, re_):
    # Reference: fluids.friction.friction_factor (Clamond's solution of Colebrook, machine precision)
    # for f, and fluids.core.dP_from_K(f L/D + K, rho, V) = K rho V^2 / 2. Our f agrees with Clamond's
    # to ~1e-15; rtol 1e-12 allows rounding in the different operation order only.
    d, length, rough, rho, mu, k = PIPES[pipe]
    m = mass_flow_at(re_, d, mu)
    v = m / (rho * math.pi * d * d / 4.0)
    re_fluids = Reynolds(V=v, D=d, rho=rho, mu=mu)
    assert re_fluids == pytest.approx(re_, rel=1e-13)
    f = friction_factor(re_fluids, eD=rough / d)
    ref = dP_from_K(f * length / d + k, rho, v)
    assert hy.pressure_drop_darcy_weisbach(m, d, length, rough, rho, mu, k) == pytest.approx(ref, rel=1e-12)
    # Without fittings, fluids' own one-call pipe pressure drop agrees too.
    ref_one = one_phase_dP(m, rho, mu, d, roughness=rough, L=length)
    assert hy.pressure_drop_darcy_weisbach(m, d, length, rough, rho, mu, 0.0) == pytest.approx(ref_one, rel=1e-12)


@pytest.mark.parametrize("pipe", list(PIPES))
@pytest.mark.parametrize("re_", [0.5, 100.0, 2000.0])
def test_pressure_drop_against_fluids_laminar(pipe, re_):
    # Laminar (below fluids' switch at Re 2040): fluids.friction.one_phase_dP uses 64/Re, the same
    # Hagen-Poiseuille law we write as 32 mu L v / D^2. rtol 1e-12: rounding only.
    d, length, rough, rho, mu, _ = PIPES[pipe]
    m = mass_flow_at(re_, d, mu)
    ref = one_phase_dP(m, rho, mu, d, roughness=rough, L=length)
    assert hy.pressure_drop_darcy_weisbach(m, d, length, rough, rho, mu, 0.0) == pytest.approx(ref, rel=1e-12)


def test_pressure_drop_worked_example():
    # DN100 steel bore 109.1 mm, 100 m, 0.05 mm roughness, water 20 degC (998.2 kg/m^3, 1.002 mPa s),
    # 10 kg/s: v = 1.07163 m/s, Re = 1.16471e5, Colebrook f = 0.0197567 (fluids: 0.01975675), so
    # dp = f L/D rho v^2/2 = 0.0197567 * 916.59 * 573.16 = 10379.2 Pa (~104 Pa/m, inside the
    # 100-200 Pa/m district-heating design range, a rule of thumb). Tolerance 0.05 Pa: the figure is rounded
    # to 0.1 Pa.
    d, length, rough, rho, mu = 0.1091, 100.0, 5e-5, 998.2, 1.002e-3
    dp = hy.pressure_drop_darcy_weisbach(10.0, d, length, rough, rho, mu, 0.0)
    assert dp == pytest.approx(10379.2, abs=0.05)
    assert 100.0 <= dp / length <= 200.0


@pytest.mark.parametrize("pipe", list(PIPES))
def test_pressure_drop_is_odd_in_flow_and_zero_without_flow(pipe):
    # Friction opposes the flow: dp(-m) = -dp(m) exactly (abs() makes it bit-for-bit), dp(0) = 0.
    d, length, rough, rho, mu, k = PIPES[pipe]
    assert hy.pressure_drop_darcy_weisbach(0.0, d, length, rough, rho, mu, k) == 0.0
    for re_ in (10.0, 3000.0, 1e5):
        m = mass_flow_at(re_, d, mu)
        assert (hy.pressure_drop_darcy_weisbach(-m, d, length, rough, rho, mu, k)
                == -hy.pressure_drop_darcy_weisbach(m, d, length, rough, rho, mu, k))


@pytest.mark.parametrize("pipe", list(PIPES))
@pytest.mark.parametrize("re_", [30.0, 1500.0, 2700.0, 3800.0, 6000.0, 2e5, 5e6])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_pressure_drop_derivative_against_finite_difference(pipe, re_, sign):
    # Central difference with h = 1e-6 m: truncation ~ (h/m)^2 = 1e-12, rounding ~ eps m / h = 2e-10
    # relative; rtol 1e-7 as for f. Points avoid the kinks at Re 2300 and 4000 by far more than h.
    d, length, rough, rho, mu, k = PIPES[pipe]
    m = sign * mass_flow_at(re_, d, mu)
    h = 1e-6 * abs(m)
    args = (d, length, rough, rho, mu, k)
    dp = hy.pressure_drop_darcy_weisbach
    fd = (dp(m + h, *args) - dp(m - h, *args)) / (2.0 * h)
    assert hy.pressure_drop_darcy_weisbach_dm(m, *args) == pytest.approx(fd, rel=1e-7)
    assert hy.pressure_drop_darcy_weisbach_dm(m, *args) > 0.0


@pytest.mark.parametrize("pipe", list(PIPES))
def test_pressure_drop_slope_at_zero_flow_is_hagen_poiseuille(pipe):
    # At zero flow the slope is the Hagen-Poiseuille resistance 128 mu L / (pi rho D^4) [Pa/(kg/s)]
    # (minor losses add K |m| / (rho A^2) = 0): finite, so a no-flow branch keeps the Jacobian regular.
    # rel 1e-14: same formula arranged differently, rounding only.
    d, length, rough, rho, mu, k = PIPES[pipe]
    expected = 128.0 * mu * length / (math.pi * rho * d**4)
    slope = hy.pressure_drop_darcy_weisbach_dm(0.0, d, length, rough, rho, mu, k)
    assert slope == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("pipe", list(PIPES))
def test_pressure_drop_rises_with_flow_through_all_regimes(pipe):
    # A Newton hydraulic solver needs dp strictly increasing in m: checked on a fine grid from creeping
    # flow through the transition to Re 1e7.
    d, length, rough, rho, mu, k = PIPES[pipe]
    re_grid = np.concatenate([np.linspace(1.0, 5000.0, 400), np.logspace(3.7, 7, 100)])
    m = np.unique([mass_flow_at(r, d, mu) for r in re_grid])
    dp = [hy.pressure_drop_darcy_weisbach(x, d, length, rough, rho, mu, k) for x in m]
    assert np.all(np.diff(dp) > 0)


# --- pumps -----------------------------------------------------------------------------------------

PUMP = {"h0_m": 32.0, "a_s_m2": 20.0, "b_s2_m5": 2400.0, "eta_best": 0.78, "q_best_m3_s": 0.06}
"""A district-heating circulation pump: 32 m shut-off, about 24 m at the best-efficiency flow 216 m^3/h."""


def head(q, n):
    return hy.pump_head(q, n, PUMP["h0_m"], PUMP["a_s_m2"], PUMP["b_s2_m5"])


def power_on_curve(q, n, rho=998.2):
    return hy.pump_shaft_power_on_curve(q, n, PUMP["h0_m"], PUMP["a_s_m2"], PUMP["b_s2_m5"], PUMP["eta_best"],
                                        PUMP["q_best_m3_s"], rho)


@pytest.mark.parametrize("n", [0.4, 0.7, 1.0, 1.15])
@pytest.mark.parametrize("q", [0.0, 0.02, 0.06, 0.09])
def test_pump_affinity_laws(n, q):
    # Affinity laws (Pump Handbook): at speed ratio n the flow scales with n, head with n^2, power with
    # n^3 and efficiency is unchanged at corresponding points. Exact relations of the model; rel 1e-13
    # allows rounding only.
    assert head(n * q, n) == pytest.approx(n * n * head(q, 1.0), rel=1e-13, abs=1e-12)
    eta_1 = hy.pump_efficiency(q, 1.0, PUMP["eta_best"], PUMP["q_best_m3_s"])
    assert hy.pump_efficiency(n * q, n, PUMP["eta_best"], PUMP["q_best_m3_s"]) == pytest.approx(eta_1, rel=1e-13,
                                                                                              abs=1e-15)
    assert power_on_curve(n * q, n) == pytest.approx(n**3 * power_on_curve(q, 1.0), rel=1e-13)


def test_pump_head_curve_points_and_slope():
    # H(0, n) = H0 n^2 (shut-off); at rated speed and Q = 0.06: 32 - 20*0.06 - 2400*0.0036 = 22.16 m
    # (hand arithmetic, exact in decimals; rel 1e-14 for binary rounding).
    assert head(0.0, 0.8) == pytest.approx(32.0 * 0.64, rel=1e-14)
    assert head(0.06, 1.0) == pytest.approx(22.16, rel=1e-14)
    # The slope of a quadratic is exact under a central difference up to rounding: h = 1e-5 m^3/s on
    # heads of ~20 m gives rounding ~ eps 20 / 1e-5 = 4e-10 absolute on slopes of ~300 s/m^2.
    for n in (0.5, 1.0):
        for q in (0.0, 0.03, 0.08):
            fd = (head(q + 1e-5, n) - head(q - 1e-5, n)) / 2e-5
            slope = hy.pump_head_dq(q, n, PUMP["h0_m"], PUMP["a_s_m2"], PUMP["b_s2_m5"])
            assert slope == pytest.approx(fd, rel=1e-8)
            assert slope == pytest.approx(-20.0 * n - 4800.0 * q, rel=1e-14)


def test_pump_efficiency_parabola():
    # eta = eta_best x (2 - x): peak eta_best at the best flow, zero at shut-off and at twice the best
    # flow, half-way values 0.75 eta_best at x = 0.5 and 1.5 (hand values; rel 1e-14).
    e = lambda q, n=1.0: hy.pump_efficiency(q, n, 0.78, 0.06)  # noqa: E731
    assert e(0.06) == pytest.approx(0.78, rel=1e-14)
    assert e(0.0) == 0.0
    assert e(0.12) == pytest.approx(0.0, abs=1e-15)
    assert e(0.03) == pytest.approx(0.585, rel=1e-14)
    assert e(0.09) == pytest.approx(0.585, rel=1e-14)
    assert e(0.048, 0.8) == pytest.approx(0.78, rel=1e-14)  # best point moves to n Q_best


def test_pump_shaft_power_by_hand():
    # P = rho g Q H / eta with rho 998.2 kg/m^3, g 9.80665 m/s^2, Q 0.05 m^3/s, H 30 m, eta 0.75:
    # 998.2 * 9.80665 = 9788.998030; * 0.05 * 30 = 14683.497045; / 0.75 = 19577.99606 W
    # (hand arithmetic carried to 10 significant figures, hence rel 1e-9).
    assert hy.pump_shaft_power(0.05, 30.0, 998.2, 0.75) == pytest.approx(19577.99606, rel=1e-9)


def test_pump_power_on_curve_matches_definition_and_is_finite_at_shutoff():
    # Away from shut-off the cancelled form equals rho g Q H(Q) / eta(Q) (rel 1e-13: rounding only).
    rho = 998.2
    for n in (0.6, 1.0):
        for q in (0.01, 0.05, 0.1):
            eta = hy.pump_efficiency(q, n, PUMP["eta_best"], PUMP["q_best_m3_s"])
            by_definition = hy.pump_shaft_power(q, head(q, n), rho, eta)
            assert power_on_curve(q, n, rho) == pytest.approx(by_definition, rel=1e-13)
    # At shut-off: rho g n^3 Q_best H0 / (2 eta_best) = 998.2 * 9.80665 * 0.06 * 32 / 1.56 = 12048.0 W at
    # n = 1 (hand: 9788.998030 * 1.92 / 1.56 = 12047.99757; rel 1e-9 for the hand digits), not 0/0.
    assert power_on_curve(0.0, 1.0, rho) == pytest.approx(12047.99757, rel=1e-9)


# --- Nusselt numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("pr", [0.5, 0.7, 3.0, 7.0, 40.0, 300.0, 2000.0])
def test_gnielinski_against_ht(pr):
    # Reference: ht.conv_internal.turbulent_Gnielinski(Re, Pr, fd), the same correlation; over its
    # validity range 3000..5e6 with Petukhov's and Colebrook's (rough) friction. rel 1e-13: rounding
    # only (ht writes (fd/8)**0.5 where we write sqrt).
    for re_ in np.logspace(np.log10(3000.0), np.log10(5e6), 12):
        re_ = float(re_)
        for fd in (hy.darcy_friction_petukhov(re_), hy.darcy_friction_factor(re_, 1e-3)):
            ref = turbulent_Gnielinski(re_, pr, fd)
            assert hy.nusselt_gnielinski(re_, pr, fd) == pytest.approx(ref, rel=1e-13)


def test_gnielinski_docs_example_of_ht():
    # ht's docstring example: turbulent_Gnielinski(Re=1E5, Pr=1.2, fd=0.0185) = 254.62682749359632
    # (a number printed in ht's documentation, independent of running ht here). rel 1e-13: rounding.
    assert hy.nusselt_gnielinski(1e5, 1.2, 0.0185) == pytest.approx(254.62682749359632, rel=1e-13)


def test_laminar_nusselt_against_ht():
    # ht.laminar_T_const() returns 3.66, Shah & London's 3.657 rounded to three figures; abs 0.005 is
    # that rounding. ht.laminar_Q_const() returns 48/11 exactly, as we do (rel 1e-15).
    assert hy.LAMINAR_NUSSELT["constant_wall_temperature"] == pytest.approx(laminar_T_const(), abs=0.005)
    assert hy.LAMINAR_NUSSELT["constant_heat_flux"] == pytest.approx(laminar_Q_const(), rel=1e-15)
    assert set(hy.LAMINAR_NUSSELT) == {"constant_wall_temperature", "constant_heat_flux"}


def test_petukhov_friction():
    # Hand value at Re = 1e5: 0.790 ln(1e5) - 1.64 = 0.790 * 11.5129255 - 1.64 = 7.4552111, squared
    # 55.580173, f = 1/55.580173 = 0.017992028 (8 significant figures by hand, hence rel 1e-7).
    assert hy.darcy_friction_petukhov(1e5) == pytest.approx(0.017992028, rel=1e-7)
    # Petukhov's explicit form approximates the smooth-pipe Prandtl-von Karman-Nikuradse law (fluids):
    # measured here -0.2 % .. +4.7 % over 3000..5e6, the largest at the low end. Bound 5 %: the
    # correlation's own agreement, a check against a typing error, not a precision claim.
    for re_ in np.logspace(np.log10(3000.0), np.log10(5e6), 30):
        re_ = float(re_)
        assert hy.darcy_friction_petukhov(re_) == pytest.approx(Prandtl_von_Karman_Nikuradse(re_), rel=0.05)


@pytest.mark.parametrize("bc", list(hy.LAMINAR_NUSSELT))
@pytest.mark.parametrize("ed", [0.0, 1e-3])
def test_nusselt_internal_flow_all_regimes(bc, ed):
    nu_lam = hy.LAMINAR_NUSSELT[bc]
    pr = 7.0
    # Laminar: the fully developed constant, whatever Re.
    for re_ in (1.0, 500.0, 2300.0):
        assert hy.nusselt_internal_flow(re_, pr, ed, nu_lam) == nu_lam
    # Turbulent (Re >= 1e4): Gnielinski with the Colebrook friction factor, checked against ht
    # (rel 1e-12: our f agrees with fluids' Colebrook to 1e-13, which moves Nu by about as much).
    for re_ in (1e4, 1e5, 1e6):
        ref = turbulent_Gnielinski(re_, pr, Colebrook(re_, ed))
        assert hy.nusselt_internal_flow(re_, pr, ed, nu_lam) == pytest.approx(ref, rel=1e-12)
    # Transition: linear in Re (Gnielinski 2013), continuous at both ends (a step of 1e-9 in Re moves
    # Nu by < 1e-11 relative), half-way value the mean of the end values (rel 1e-14).
    nu_t = hy.nusselt_gnielinski(1e4, pr, hy.darcy_friction_factor(1e4, ed))
    assert hy.nusselt_internal_flow(2300.0 + 1e-9, pr, ed, nu_lam) == pytest.approx(nu_lam, rel=1e-11)
    assert hy.nusselt_internal_flow(1e4 - 1e-9, pr, ed, nu_lam) == pytest.approx(nu_t, rel=1e-11)
    assert hy.nusselt_internal_flow(6150.0, pr, ed, nu_lam) == pytest.approx(0.5 * (nu_lam + nu_t), rel=1e-14)


# --- documentation and the no-JIT run --------------------------------------------------------------

def test_docstring_examples(kit):
    # The examples in the docstrings are part of the documentation; they must print what they say.
    assert kit.run_docstring_examples(hy) == {"colebrook_darcy", "darcy_friction_factor", "pressure_drop_darcy_weisbach"}
