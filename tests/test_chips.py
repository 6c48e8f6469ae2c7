"""Tests of gigawatt.models.chips: cold plate, coolant rise, leakage models and the electro-thermal fixed
point, against hand calculations, the ``ht``/``fluids`` references and the Lambert-W closed form.

The kernel-side functions are checked both jitted and through ``.py_func`` (the plain Python source) in
this process, and the whole file runs again with ``NUMBA_DISABLE_JIT=1`` from test_without_jit.py.
Each test says where its expected number comes from and why its tolerance is what it is.
"""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from CoolProp.CoolProp import PropsSI
from fluids.friction import Colebrook
from ht.conv_internal import turbulent_Gnielinski

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models import chips as ch
from gigawatt.models.flow_correlations import LAMINAR_NUSSELT


def both(func):
    """The jitted function and its Python source (``.py_func``); just the function when the JIT is off."""
    return [func, func.py_func] if hasattr(func, "py_func") else [func]


def ids(funcs):
    return ["jit" if hasattr(f, "py_func") else "py" for f in funcs]


EXP, LIN = ch.LEAKAGE_EXPONENTIAL, ch.LEAKAGE_LINEAR

# A GPU-like chip for the fixed-point tests. The leakage numbers are ILLUSTRATIVE test inputs, not
# sourced defaults (none exists, see the module docstring): 700 W dynamic, 100 W leakage at 60 degC,
# leakage doubling every 20 K (k = ln 2 / 20), cold plate 0.02 K/W (inside the 0.01-0.03 K/W commonly quoted
# for 700-1000 W GPU cold plates: an assumption, not checked against a primary source).
CHIP = {"p_dynamic_w": 700.0, "p_leak_ref_w": 100.0, "k_per_k": math.log(2.0) / 20.0, "t_ref_k": 333.15}


# --- cold plate ------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", both(ch.coolant_temperature_rise), ids=ids(both(ch.coolant_temperature_rise)))
def test_coolant_temperature_rise_by_hand(f):
    # dT = Q/(m cp): 1000/(1 * 4186) = 0.23889154... K; 700 W into 1.5 L/min of water (0.02475 kg/s at
    # 990 kg/m^3, cp 4180): 700 / 103.455 = 6.766227 K (hand division rounded to 7 figures, hence rel 1e-6;
    # the first is exact to rounding, rel 1e-15).
    assert f(1000.0, 1.0, 4186.0) == pytest.approx(1000.0 / 4186.0, rel=1e-15)
    assert f(700.0, 1.5e-3 / 60.0 * 990.0, 4180.0) == pytest.approx(6.766227, rel=1e-6)


@pytest.mark.parametrize("f", both(ch.case_temperature), ids=ids(both(ch.case_temperature)))
def test_case_temperature_by_hand(f):
    # T = T_in + R Q: 333.15 + 0.02 * 700 = 347.15 K (exact in decimals; rel 1e-15 for binary rounding).
    assert f(333.15, 700.0, 0.02) == pytest.approx(347.15, rel=1e-15)
    assert f(300.0, 0.0, 0.03) == 300.0


@pytest.mark.parametrize("f", both(ch.cold_plate_resistance), ids=ids(both(ch.cold_plate_resistance)))
def test_cold_plate_resistance_laminar_by_hand(f):
    # 100 channels, D_h = 0.1 mm, channel area 1e-8 m^2, mu = 5e-4 Pa s: m = 2.5e-3 kg/s gives per channel
    # Re = 2.5e-5 * 1e-4 / (1e-8 * 5e-4) = 500, laminar, so Nu = 48/11 (constant heat flux):
    # h = 48/11 * 0.65 / 1e-4 = 28363.63... W/(m^2 K); A_wet = 1e-3 m^2:
    # 1/(h A) = 1.1e-3 / 0.0312 = 0.0352564102564... K/W, plus R_cond 0.005 K/W. rel 1e-14: rounding only.
    r = f(2.5e-3, 100.0, 1e-4, 1e-8, 1e-3, 5e-4, 4180.0, 0.65, 0.0, LAMINAR_NUSSELT["constant_heat_flux"], 0.005)
    assert r == pytest.approx(1.1e-3 / 0.0312 + 0.005, rel=1e-14)
    # Twice the flow (Re = 1000) is still laminar: fully developed laminar h does not depend on flow, same R.
    r2 = f(5e-3, 100.0, 1e-4, 1e-8, 1e-3, 5e-4, 4180.0, 0.65, 0.0, LAMINAR_NUSSELT["constant_heat_flux"], 0.005)
    assert r2 == pytest.approx(r, rel=1e-14)


@pytest.mark.parametrize("f", both(ch.cold_plate_resistance), ids=ids(both(ch.cold_plate_resistance)))
def test_cold_plate_resistance_turbulent_against_ht(f):
    # 8 channels of 4 mm tube (area pi 4e-6 m^2), water-like coolant mu 6e-4, cp 4180, k 0.62 (Pr 4.045),
    # flow for Re = 2e4 per channel. Reference: h = Nu k / D with ht.turbulent_Gnielinski and
    # fluids' Colebrook friction factor (smooth): independent code for the same correlation; rel 1e-12
    # as in test_hydraulics (f agrees to ~1e-13). Wetted area 8 * pi * 4e-3 * 0.1 m, R_cond 0.
    d, mu, cp, k = 4e-3, 6e-4, 4180.0, 0.62
    area = math.pi * d * d / 4.0
    m = 8 * 2e4 * area * mu / d
    a_wet = 8 * math.pi * d * 0.1
    nu = turbulent_Gnielinski(2e4, mu * cp / k, Colebrook(2e4, 0.0))
    expected = 1.0 / (nu * k / d * a_wet)
    assert f(m, 8.0, d, area, a_wet, mu, cp, k, 0.0, 3.657, 0.0) == pytest.approx(expected, rel=1e-12)


def test_hot_water_cooling_plausibility_check():
    """PLAUSIBILITY CHECK, not a validation: order of magnitude of the published hot-water cooling figure.

    P. Kasten, S. Zimmermann, M. K. Tiwari, B. Michel, D. Poulikakos, "Hot water cooled heat sinks for
    efficient data center cooling: towards electronic cooling with high exergetic utility", Frontiers in
    Heat and Mass Transfer 1, 023006 (2010), doi:10.5098/hmt.v1.2.3006, found about 8 K between solid
    and liquid at 0.5 L/min per chip and 60 degC inlet with a manifold microchannel heat sink. Their heat
    load per chip was not read here, so two inputs are ASSUMPTIONS:
    - geometry: straight silicon microchannels 50 um wide, 302 um deep at 100 um pitch over a 10 mm x 10 mm
      die (100 channels, 10 mm long), the dimensions commonly quoted for Tuckerman & Pease (1981) (not
      re-checked in the paper here); heated wetted area = floor + two side walls, fin efficiency 1;
      laminar Nu = 48/11 (circular tube, uniform flux) in place of the rectangular-duct value;
    - heat: 150 W per chip, the order of a server processor of that time (assumption).
    Water properties at 60 degC, 1 atm, from CoolProp (IAPWS-95).
    The check: the model's solid-liquid difference R_conv Q lies within a factor 3 of 8 K (an order of
    magnitude, not a match; the geometry and heat are not those of the paper), and the flow is laminar.
    """
    t = 333.15
    rho, mu = PropsSI("D", "T", t, "P", 101325.0, "Water"), PropsSI("V", "T", t, "P", 101325.0, "Water")
    cp, k = PropsSI("C", "T", t, "P", 101325.0, "Water"), PropsSI("L", "T", t, "P", 101325.0, "Water")
    w, depth, length, n = 50e-6, 302e-6, 10e-3, 100
    area, d_h = w * depth, 2.0 * w * depth / (w + depth)
    a_wet = n * (w + 2.0 * depth) * length
    m = 0.5e-3 / 60.0 * rho
    re = (m / n) * d_h / (area * mu)
    assert re < 2300.0  # laminar, so the constant laminar Nusselt number applies (about 1000 here)
    r_conv = ch.cold_plate_resistance(m, float(n), d_h, area, a_wet, mu, cp, k, 0.0,
                                      LAMINAR_NUSSELT["constant_heat_flux"], 0.0)
    q = 150.0
    dt_solid_liquid = r_conv * q
    assert 8.0 / 3.0 <= dt_solid_liquid <= 8.0 * 3.0, dt_solid_liquid  # about 7 K
    # The coolant itself warms by Q/(m cp) = 150 / (8.2e-3 * 4185) = 4.4 K: the outlet stays near 64 degC,
    # hot enough for reuse, the point of the paper. Hand value to 2 figures, hence rel 0.02.
    assert ch.coolant_temperature_rise(q, m, cp) == pytest.approx(4.4, rel=0.02)


# --- leakage ---------------------------------------------------------------------------------------

def test_registry():
    assert ch.LEAKAGE_MODELS == {"exponential": EXP, "linear": LIN}
    assert len(set(ch.LEAKAGE_MODELS.values())) == 2


@pytest.mark.parametrize("f", both(ch.leakage_power), ids=ids(both(ch.leakage_power)))
def test_leakage_models_by_hand(f):
    p, k, tr = 100.0, math.log(2.0) / 20.0, 333.15
    # Exponential: doubles every ln2/k = 20 K, halves 20 K below; rel 1e-14 (exp and log round once each).
    assert f(tr, EXP, p, k, tr) == pytest.approx(100.0, rel=1e-15)
    assert f(tr + 20.0, EXP, p, k, tr) == pytest.approx(200.0, rel=1e-14)
    assert f(tr + 40.0, EXP, p, k, tr) == pytest.approx(400.0, rel=1e-14)
    assert f(tr - 20.0, EXP, p, k, tr) == pytest.approx(50.0, rel=1e-14)
    # Linear with k = 0.02 /K: 100 (1 + 0.02 * 15) = 130 W, 100 (1 - 0.02 * 10) = 80 W (rel 1e-14).
    assert f(tr + 15.0, LIN, p, 0.02, tr) == pytest.approx(130.0, rel=1e-14)
    assert f(tr - 10.0, LIN, p, 0.02, tr) == pytest.approx(80.0, rel=1e-14)
    # The linear model is the exponential's tangent at T_ref: same value and slope there (rel 1e-15).
    s = both(ch.leakage_power_slope)[-1]
    assert s(tr, LIN, p, k, tr) == pytest.approx(s(tr, EXP, p, k, tr), rel=1e-15)
    assert math.isnan(f(tr, 7, p, k, tr))


@pytest.mark.parametrize("f", both(ch.leakage_power_slope), ids=ids(both(ch.leakage_power_slope)))
def test_leakage_slope_against_finite_difference(f):
    # Central difference, h = 1e-3 K: truncation k^2 h^2 / 6 ~ 2e-10 relative (exp), 0 (linear);
    # rounding eps P / h ~ 1e-11; rtol 1e-8 leaves margin and catches any wrong factor.
    p, k, tr = 100.0, 0.03, 333.15
    for model in (EXP, LIN):
        for t in (300.0, 333.15, 370.0):
            fd = (ch.leakage_power(t + 1e-3, model, p, k, tr) - ch.leakage_power(t - 1e-3, model, p, k, tr)) / 2e-3
            assert f(t, model, p, k, tr) == pytest.approx(fd, rel=1e-8)


@pytest.mark.parametrize("f", both(ch.chip_power), ids=ids(both(ch.chip_power)))
def test_chip_power_is_dynamic_plus_leakage(f):
    # 700 W dynamic + 100 * 2 = 200 W leakage 20 K above T_ref (doubling interval 20 K) = 900 W; rel 1e-14.
    assert f(353.15, 700.0, EXP, 100.0, math.log(2.0) / 20.0, 333.15) == pytest.approx(900.0, rel=1e-14)


def test_k_from_doubling_interval():
    # ln 2 / 20 = 0.034657359027997264 (ln 2 = 0.6931471805599453); rel 1e-15.
    assert ch.k_from_doubling_interval(20.0) == pytest.approx(0.034657359027997264, rel=1e-15)
    with pytest.raises(CaseError, match="dt_double_k"):
        ch.k_from_doubling_interval(0.0)


# --- the fixed point -------------------------------------------------------------------------------

def sweep():
    """(t_coolant_k, r_th, p_dyn, p_ref, k, t_ref) from weak coupling to just short of the fold z = 1/e."""
    cases = []
    for r in (0.0, 0.005, 0.02, 0.03, 0.1):
        for t_c in (290.15, 318.15, 333.15, 343.15):
            cases.append((t_c, r, CHIP["p_dynamic_w"], CHIP["p_leak_ref_w"], CHIP["k_per_k"], CHIP["t_ref_k"]))
    cases.append((333.15, 0.02, 700.0, 100.0, 0.0, 333.15))  # k = 0: constant leakage
    cases.append((333.15, 0.02, 0.0, 0.0, 0.05, 333.15))     # no power at all: T = T_coolant
    return cases


@pytest.mark.parametrize("f", both(ch.chip_fixed_point), ids=ids(both(ch.chip_fixed_point)))
def test_exponential_fixed_point_against_lambert_w(f):
    # Reference: exponential_fixed_point_closed_form, T from scipy.special.lambertw (principal branch),
    # accurate to a few ulps. rel 1e-10 as the brief asks; Newton stops at the rounding level of T, and
    # the root's condition number 1/g'(T) stays below ~20 short of the fold, so ~1e-14 is expected.
    checked = 0
    for case in sweep():
        z = ch.exponential_runaway_parameter(*case)
        if z > math.exp(-1.0):
            continue
        t, status, _ = f(case[0], case[1], case[2], EXP, case[3], case[4], case[5])
        assert status == ch.STATUS_CONVERGED, case
        assert t == pytest.approx(ch.exponential_fixed_point_closed_form(*case), rel=1e-10), case
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("f", both(ch.chip_fixed_point), ids=ids(both(ch.chip_fixed_point)))
@pytest.mark.parametrize("frac", [0.5, 0.9, 0.99, 0.999])
def test_exponential_fixed_point_near_the_fold(f, frac):
    # R_th chosen so z = frac / e: z is k R P_ref exp(k (T_c + R P_dyn - T_ref)); with P_dyn = 0 and
    # T_c = T_ref, z = k R P_ref, so R = frac / (e k P_ref). Near the fold the root is ill-conditioned
    # (g' = 1 - y, y = -W0(-z) -> 1): at frac 0.999, g' ~ 0.045, rounding of ~1e-13 K in g moves T by
    # ~2e-12 K; rel 1e-10 still holds with margin.
    k, p_ref, t_ref = CHIP["k_per_k"], CHIP["p_leak_ref_w"], CHIP["t_ref_k"]
    r = frac / (math.e * k * p_ref)
    assert ch.exponential_runaway_parameter(t_ref, r, 0.0, p_ref, k, t_ref) == pytest.approx(frac / math.e, rel=1e-14)
    t, status, _ = f(t_ref, r, 0.0, EXP, p_ref, k, t_ref)
    assert status == ch.STATUS_CONVERGED
    assert t == pytest.approx(ch.exponential_fixed_point_closed_form(t_ref, r, 0.0, p_ref, k, t_ref), rel=1e-10)
    # The stable root is the lower one: the upper (W_{-1}) root lies above it and also satisfies
    # T = T_c + R P(T) (residual at rounding level, abs 1e-9 K on ~400 K).
    t_up = ch.exponential_fixed_point_closed_form(t_ref, r, 0.0, p_ref, k, t_ref, branch=-1)
    assert t_up > t
    assert t_up - t_ref - r * ch.leakage_power(t_up, EXP, p_ref, k, t_ref) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("f", both(ch.chip_fixed_point), ids=ids(both(ch.chip_fixed_point)))
@pytest.mark.parametrize("frac", [1.001, 1.1, 3.0, 1e3])
def test_runaway_detected_where_lambert_w_has_no_solution(f, frac):
    # z = frac / e > 1/e: the closed form says no real fixed point; the kernel must say runaway, the
    # closed form and the Python wrapper must raise ConvergenceError.
    k, p_ref, t_ref = CHIP["k_per_k"], CHIP["p_leak_ref_w"], CHIP["t_ref_k"]
    r = frac / (math.e * k * p_ref)
    t, status, _ = f(t_ref, r, 0.0, EXP, p_ref, k, t_ref)
    assert status == ch.STATUS_RUNAWAY and math.isnan(t)
    with pytest.raises(ConvergenceError, match="runaway"):
        ch.exponential_fixed_point_closed_form(t_ref, r, 0.0, p_ref, k, t_ref)
    with pytest.raises(ConvergenceError, match="rack 'r7'.*runaway") as info:
        ch.solve_chip_temperature(t_ref, r, 0.0, "exponential", p_ref, k, t_ref, element="rack 'r7'")
    assert info.value.details["z"] == pytest.approx(frac / math.e, rel=1e-14)
    assert info.value.details["element"] == "rack 'r7'"


@pytest.mark.parametrize("f", both(ch.chip_fixed_point), ids=ids(both(ch.chip_fixed_point)))
def test_linear_fixed_point_by_hand_and_runaway(f):
    # T = T_c + R (P_dyn + P0 (1 + k (T - T_ref)))  =>  T = (T_c + R (P_dyn + P0 (1 - k T_ref))) / (1 - R P0 k).
    # T_c = T_ref = 333.15, R = 0.02, P_dyn = 700, P0 = 100, k = 0.02: R P0 k = 0.04, so
    # T - T_ref = R (P_dyn + P0) / (1 - 0.04) = 16 / 0.96 = 16.6666... K. rel 1e-13: Newton on a line is
    # exact after one step, rounding only.
    t, status, _ = f(333.15, 0.02, 700.0, LIN, 100.0, 0.02, 333.15)
    assert status == ch.STATUS_CONVERGED
    assert t == pytest.approx(333.15 + 16.0 / 0.96, rel=1e-13)
    # R P0 k >= 1: the leakage's own heating exceeds what it costs, no fixed point (runaway).
    t, status, _ = f(333.15, 0.5, 700.0, LIN, 100.0, 0.02, 333.15)  # R P0 k = 1 exactly
    assert status == ch.STATUS_RUNAWAY
    with pytest.raises(ConvergenceError, match="runaway") as info:
        ch.solve_chip_temperature(333.15, 0.6, 700.0, "linear", 100.0, 0.02, 333.15)
    assert info.value.details["loop_gain"] == pytest.approx(1.2, rel=1e-14)


def test_solve_chip_temperature_returns_a_consistent_point():
    # The returned point satisfies its own definition: T = T_c + R P(T) and P = P_dyn + P_leak(T)
    # (rel 1e-13, rounding only); warmer coolant costs leakage power (the electro-thermal trade-off).
    out = ch.solve_chip_temperature(318.15, 0.02, 700.0, "exponential", 100.0, CHIP["k_per_k"], 333.15)
    assert out["t_chip_k"] == pytest.approx(318.15 + 0.02 * out["p_total_w"], rel=1e-13)
    assert out["p_total_w"] == pytest.approx(700.0 + out["p_leak_w"], rel=1e-15)
    warmer = ch.solve_chip_temperature(333.15, 0.02, 700.0, "exponential", 100.0, CHIP["k_per_k"], 333.15)
    assert warmer["p_leak_w"] > out["p_leak_w"] and warmer["t_chip_k"] > out["t_chip_k"] + 15.0


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, field", [
    (("quadratic", 100.0, 0.03, 333.15), "leakage_model"),
    (("exponential", -1.0, 0.03, 333.15), "p_leak_ref_w"),
    (("exponential", math.nan, 0.03, 333.15), "p_leak_ref_w"),
    (("exponential", 100.0, -0.01, 333.15), "k_per_k"),
    (("exponential", 100.0, 3.0, 333.15), "k_per_k"),        # 3 /K: a percent given as a fraction?
    (("linear", 100.0, True, 333.15), "k_per_k"),
    (("linear", 100.0, 0.03, 0.0), "t_ref_k"),
    (("linear", 100.0, 0.03, "hot"), "t_ref_k"),
])
def test_bad_leakage_parameters_name_field_value_and_range(args, field):
    with pytest.raises(CaseError) as info:
        ch.check_leakage_params(*args, element="rack 'r1'")
    err = info.value
    assert err.field == field and err.element == "rack 'r1'" and err.allowed
    assert field in str(err) and "allowed" in str(err) and "rack 'r1'" in str(err)


@pytest.mark.parametrize("field, value", [("n_channels", 0.5), ("d_h_m", 0.0), ("channel_area_m2", -1e-8),
                                          ("wetted_area_m2", math.inf), ("r_conduction_k_per_w", -0.01)])
def test_bad_cold_plate_geometry(field, value):
    good = {"n_channels": 100.0, "d_h_m": 1e-4, "channel_area_m2": 1e-8, "wetted_area_m2": 1e-3,
            "r_conduction_k_per_w": 0.005}
    ch.check_cold_plate_geometry(**good)  # the good one passes
    with pytest.raises(CaseError, match=field) as info:
        ch.check_cold_plate_geometry(**dict(good, **{field: value}), element="cold_plate 'cp1'")
    assert info.value.field == field and info.value.allowed


@pytest.mark.parametrize("field, kwargs", [("t_coolant_k", {"t_coolant_k": -5.0}),
                                           ("r_th_k_per_w", {"r_th_k_per_w": -0.02}),
                                           ("p_dynamic_w", {"p_dynamic_w": math.nan})])
def test_solve_chip_temperature_bad_operating_point(field, kwargs):
    args = dict(t_coolant_k=333.15, r_th_k_per_w=0.02, p_dynamic_w=700.0, model="exponential",
                p_leak_ref_w=100.0, k_per_k=0.03, t_ref_k=333.15)
    with pytest.raises(CaseError, match=field):
        ch.solve_chip_temperature(**dict(args, **kwargs))


def test_docstring_examples():
    # As in test_hydraulics: doctest does not look inside numba dispatchers, so run each function's source.
    tried = []
    for name in dir(ch):
        func = getattr(getattr(ch, name), "py_func", getattr(ch, name))
        if callable(func) and getattr(func, "__module__", None) == ch.__name__ and func.__doc__:
            runner = doctest.DocTestRunner()
            for test in doctest.DocTestFinder().find(func, name, globs=vars(ch)):
                runner.run(test)
            assert runner.failures == 0, name
            if runner.tries:
                tried.append(name)
    assert tried == ["coolant_temperature_rise"]
