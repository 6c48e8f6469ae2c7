"""Cooling across the year: dry-cooler fans on the fan laws against outdoor temperature and load, the hours the
dry coolers cannot hold the facility set-point, chip junctions above the case, and the two design points.

Each test says where its expected number comes from and why its tolerance is what it is.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.models import cooling_plant as cp
from gigawatt.models.chips import junction_temperature

W32 = 305.15  # facility supply of the default class [K]; the dry coolers' design ambient is 5 K below


def campus(**cooling):
    """One hall of 2 rows of 4 racks of 130 kW, default [cooling] (W32, 5 K approach) with ``cooling``."""
    return gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130.0, cooling=cooling)


def counterflow_duty(n, t_w_in, t_air, c_w, ua_d, c_air_d, m=cp.DRY_COOLER_UA_EXPONENT):
    """The dry cooler's duty at speed n written out from the effectiveness of a counter-flow exchanger
    (Incropera Table 11.3), independently of gigawatt.models.heat_exchangers."""
    c_a, ua = n * c_air_d, ua_d * n**m
    c_min, c_max = min(c_a, c_w), max(c_a, c_w)
    cr, ntu = c_min / c_max, ua / c_min
    eps = ntu / (1 + ntu) if cr == 1 else (1 - math.exp(-ntu * (1 - cr))) / (1 - cr * math.exp(-ntu * (1 - cr)))
    return eps * c_min * (t_w_in - t_air)


# --- the models ------------------------------------------------------------------------------------------------

def test_fan_law_half_speed_is_an_eighth(kit):
    # Fan laws: P ∝ n³, so half speed takes 1/8 of the design power, a third 1/27; exact in floating point for
    # these powers of two and to rounding otherwise.
    assert float(cp.fan_power_affinity(80e3, 0.5)) == 10e3
    np.testing.assert_allclose(cp.fan_power_affinity(2.7e6, [0.0, 1 / 3, 1.0]), [0.0, 1e5, 2.7e6], rtol=1e-15)
    assert {"fan_power_affinity", "dry_cooler_design"} <= kit.run_docstring_examples(cp)


def test_dry_cooler_design_point_by_hand():
    # Balanced design (C_air = C_water): ε = ΔT/(ΔT + approach) = NTU/(1 + NTU), UA = C ΔT / approach. 1 MW at
    # 100 kW/K: ΔT 10 K, approach 5 K → NTU 2, UA 200 kW/K; at full speed and the design ambient it rejects the
    # design heat (rounding only).
    ua, c_air = cp.dry_cooler_design(1e6, 1e5, 5.0)
    assert (ua, c_air) == (2e5, 1e5)
    assert cp.dry_cooler_duty(1.0, 315.15, 300.15, 1e5, ua, c_air) == pytest.approx(1e6, rel=1e-14)
    assert counterflow_duty(1.0, 315.15, 300.15, 1e5, ua, c_air) == pytest.approx(1e6, rel=1e-14)


@pytest.mark.parametrize("t_air_c, q_w", [(26.0, 1e6), (17.0, 1e6), (5.0, 1e6), (-12.0, 1e6), (20.0, 4e5),
                                          (26.9, 9.9e5)])
def test_speed_holds_the_set_point(t_air_c, q_w):
    # The speed found rejects exactly the heat asked, by the counter-flow closed form written out above
    # (regula falsi stopped at 4 ulp of the duty; 1e-9 leaves room for the closed form's own rounding).
    ua, c_air = cp.dry_cooler_design(1e6, 1e5, 5.0)
    t_w_in = W32 + q_w / 1e5
    n, q_max, held = cp.dry_cooler_speed(q_w, t_w_in, t_air_c + 273.15, 1e5, ua, c_air)
    assert held and 0 < n <= 1
    assert counterflow_duty(n, t_w_in, t_air_c + 273.15, 1e5, ua, c_air) == pytest.approx(q_w, rel=1e-9)
    assert q_max == pytest.approx(counterflow_duty(1.0, t_w_in, t_air_c + 273.15, 1e5, ua, c_air), rel=1e-13)


@settings(max_examples=300, deadline=None)
@given(q_design=st.floats(1e3, 1e9), range_k=st.floats(2.0, 20.0), approach_k=st.floats(0.5, 20.0),
       t_air=st.floats(223.15, 333.15), dt_k=st.floats(1e-3, 60.0), flow=st.floats(0.05, 2.0),
       load=st.floats(1e-6, 1.5))
def test_speed_against_brentq(q_design, range_k, approach_k, t_air, dt_k, flow, load):
    # Independent check of the regula falsi: scipy's brentq on the same duty, run to 1e-15 in n. The speed returned,
    # the bracket's upper end, rejects at least the need and at most 1e-12 more (it stops at 4 ulp of the duty or of
    # n). Whenever the set-point can be held below full speed both find the same root to 1e-12 in n (at most about
    # 10 ulp of n apart), except where the duty is flat to rounding between them (ε -> 1: the air takes all the
    # water's heat, every speed there rejects the need), and there both reject the same heat to 1e-12.
    from scipy.optimize import brentq

    c_design = q_design / range_k
    ua, c_air = cp.dry_cooler_design(q_design, c_design, approach_k)
    c_w, t_in, q_need = flow * c_design, t_air + dt_k, load * q_design
    n, q_max, held = cp.dry_cooler_speed(q_need, t_in, t_air, c_w, ua, c_air)
    duty = cp.dry_cooler_duty
    assert q_max == duty(1.0, t_in, t_air, c_w, ua, c_air)
    assert held == (q_max >= q_need * (1 - 1e-12))
    if not held or n == 1.0:
        return
    assert q_need <= duty(n, t_in, t_air, c_w, ua, c_air) <= q_need * (1 + 1e-12)
    ref = brentq(lambda x: duty(x, t_in, t_air, c_w, ua, c_air) - q_need, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    if abs(n - ref) > 1e-12:
        assert abs(duty(n, t_in, t_air, c_w, ua, c_air) - duty(ref, t_in, t_air, c_w, ua, c_air)) <= 1e-12 * q_need


def test_free_cooling_colder_air_needs_less_fan():
    # At the design heat the speed falls with the outdoor temperature and the power with its cube: at 17 °C
    # (10 K colder than the design ambient) less than a sixth of the design power, at -12 °C below 1 %.
    ua, c_air = cp.dry_cooler_design(1e6, 1e5, 5.0)
    temps = np.array([27.0, 17.0, 7.0, -12.0])
    speed = np.array([cp.dry_cooler_speed(1e6, W32 + 10, t + 273.15, 1e5, ua, c_air)[0] for t in temps])
    assert speed[0] == 1.0 and np.all(np.diff(speed) < 0)
    power = cp.fan_power_affinity(1.0, speed)
    assert power[1] < 1 / 6 and power[3] < 0.01


def test_set_point_held_up_to_the_design_ambient_at_full_load():
    # Balanced design at its heat: held exactly while the air is no warmer than the water's outlet less the
    # approach (closed form: ε_d (ΔT + T_s − T_a) ≥ ΔT ⟺ T_s − T_a ≥ approach); 0.1 K beyond it is not.
    ua, c_air = cp.dry_cooler_design(1e6, 1e5, 5.0)
    for dt, held in ((-0.1, True), (0.0, True), (0.1, False), (3.0, False)):
        n, q_max, ok = cp.dry_cooler_speed(1e6, W32 + 10, W32 - 5 + dt, 1e5, ua, c_air)
        assert ok == held and (n == 1.0 or held)
        if not held:  # what full speed rejects, by hand: ε_d C (T_in − T_a) with ε_d = 2/3
            assert q_max == pytest.approx(2 / 3 * 1e5 * (10 + 5 - dt), rel=1e-13)


def test_junction_temperature_closed_form():
    # T_j = T_case + R_jc Q, the definition of thermal resistance: 1 kW through 0.015 K/W is 15 K.
    assert junction_temperature(333.15, 1000.0, 0.015) == pytest.approx(348.15, rel=1e-15)
    assert junction_temperature(333.15, 1000.0, 0.0) == 333.15


# --- in the solve ------------------------------------------------------------------------------------------------

def test_junction_offset_is_r_jc_times_the_plate_heat():
    # No leakage: each rack's junction runs R_jc q_plate above its case, q_plate = liquid share × rack IT
    # power / chips per rack (0.83 × 130 kW / 72, the defaults' by-hand plate heat). Rounding only.
    ds = gw.solve(campus(chip_r_jc_k_per_w=0.02, liquid_fraction=0.83, chips_per_rack=72))
    q_plate = 0.83 * ds.rack_p_it_w.values / 72
    np.testing.assert_allclose(ds.t_junction_k - ds.t_chip_k, 0.02 * q_plate, rtol=1e-10)
    assert ds.attrs["chip_r_jc_k_per_w"] == 0.02
    # Without R_jc the junction is the case.
    plain = gw.solve(campus())
    np.testing.assert_array_equal(plain.t_junction_k, plain.t_chip_k)


def test_leakage_is_evaluated_at_the_junction():
    # Exponential leakage: each rack's IT power is P_ref ((1 − f) + f e^{k (T_j − T_ref)}) at its junction
    # temperature, the model's closed form (1e-12: the fixed point converges to rounding); with R_jc the
    # junctions and so the IT power run higher than without.
    leak = {"leakage_model": "exponential", "leakage_fraction": 0.1, "leakage_t_ref_k": 333.15,
            "leakage_k_per_k": math.log(2) / 50}
    ds = gw.solve(campus(chip_r_jc_k_per_w=0.01, **leak))
    f, k = 0.1, math.log(2) / 50
    expected = ds.rack_p_it_ref_w.values * ((1 - f) + f * np.exp(k * (ds.t_junction_k.values - 333.15)))
    np.testing.assert_allclose(ds.rack_p_it_w.values, expected, rtol=1e-12)
    without = gw.solve(campus(**leak))
    assert (ds.rack_p_it_w.values > without.rack_p_it_w.values).all()


def series(fraction, outdoor_c):
    time = pd.date_range("2025-07-01", periods=len(outdoor_c), freq="h")
    return xr.Dataset({"p_it_fraction": ("time", np.asarray(fraction, float)),
                       "outdoor_t_k": ("time", np.asarray(outdoor_c, float) + 273.15)}, coords={"time": time})


def test_hours_over_the_limit_are_counted():
    # The dry coolers are sized on the campus at full load with full fan speed at 27 °C (W32 less the 5 K
    # approach): at full load they hold the set-point up to 27 °C and not above (closed form above), at half
    # load they hold it at 28 °C too (half the heat, a lower water inlet). Over the limit: full speed, the
    # design fan power, the heat short reported; the count is the steps over.
    from gigawatt.summary import time_series_lines

    case = campus()
    outdoor = [20.0, 26.9, 27.5, 30.0, 10.0, 28.0]
    ds = gw.run_time_series(case, series([1, 1, 1, 1, 1, 0.5], outdoor))
    over = ds.dry_cooler_over_limit.values
    np.testing.assert_array_equal(over, [0, 0, 1, 1, 0, 0])
    speed = ds.dry_cooler_speed.values
    assert (speed[over == 1] == 1.0).all() and (speed[over == 0] < 1.0).all()
    assert (ds.dry_cooler_shortfall_w.values[over == 1] > 0).all() and (ds.dry_cooler_shortfall_w.values[over == 0] == 0).all()
    steady = gw.solve(case)
    design_fan = 0.02 * steady.attrs["q_available_w"]  # sized on all the heat at full load (no recovery here)
    np.testing.assert_allclose(ds.dry_cooler_fan_w.values, design_fan * speed**3, rtol=1e-9)
    text = "\n".join(time_series_lines(ds))
    assert "dry coolers over their limit" in text and "2.0 h the facility set-point cannot be held" in text
    # Energy of the dry-cooler fans over the period: Σ P Δt (the period's totals).
    assert ds.attrs["energy_dry_cooler_fan_j"] == pytest.approx(ds.dry_cooler_fan_w.values.sum() * 3600, rel=1e-12)


def test_steady_solve_refuses_an_ambient_beyond_the_design():
    # A steady solve sizes the dry coolers on its own point: at full load they hold up to 27 °C; at 28 °C the
    # set-point cannot be held, an error naming the dry coolers (a time series counts it instead).
    assert gw.solve(campus(ambient_t_k=300.15)).attrs["dry_cooler_speed"] == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(gw.CaseError, match="dry coolers cannot cool") as info:
        gw.solve(campus(ambient_t_k=301.15))
    assert info.value.element == "[cooling] dry coolers" and info.value.field == "facility_supply_t_k"


def test_design_points_of_the_default_case():
    # The bundled case: its own hour is the winter (heating) design hour, -12 °C for the network and the dry
    # coolers; the summer (cooling) design point puts both at 26 °C (its [cooling] summer_design_t_c). The
    # winter point is gw.solve of the case itself; in summer the network asks less heat, the dry coolers reject
    # more and run faster.
    case = gw.load_case()
    points = gw.solve_design_points(case)
    assert list(points) == ["winter", "summer"]
    winter, summer = points["winter"], points["summer"]
    assert winter.attrs["design_point"] == "winter (heating design): network and dry coolers at -12.0 °C"
    assert summer.attrs["design_point"] == "summer (cooling design): network and dry coolers at 26.0 °C"
    assert winter.attrs["case_hash"] == case.hash()
    assert summer.attrs["dh_q_demand_w"] < winter.attrs["dh_q_demand_w"]
    assert summer.attrs["q_rejected_w"] > winter.attrs["q_rejected_w"]
    assert 0 < winter.attrs["dry_cooler_speed"] < summer.attrs["dry_cooler_speed"] < 1
    # A case without a summer design temperature has one point, the case as given.
    assert list(gw.solve_design_points(campus())) == ["design"]
