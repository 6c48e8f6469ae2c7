"""Consumer heat-demand models (models/consumers.py): each against a hand calculation, SigLinDe against
demandlib's implementation of the BDEW profiles, monotonicity in the outdoor temperature, the registry and
the bad-input errors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gigawatt.errors import CaseError
from gigawatt.models import consumers as cm

C0 = 273.15  # 0 degC [K]
T_SWEEP_K = np.linspace(-20.0, 35.0, 221) + C0  # outdoor temperatures for the monotonicity checks


# --- homes by degree days -----------------------------------------------------------------------------

def test_degree_days_hand_calculation():
    # 100 homes, design load 19.35 kW (IBPSA Project 1 DESTEST, CE_1, https://github.com/ibpsa/project1-destest),
    # design -12 degC, limit 15 degC, 20 % hot water. At 0 degC: 100 * 19350 * (0.2 + 0.8 * 15/27) =
    # 1,247,000 W (hand calculation, exact to rounding). At the design temperature the design load; above the
    # limit the hot water only.
    q = cm.homes_degree_days_w(np.array([0.0, -12.0, 20.0]) + C0, t_design_k=-12 + C0, n_homes=100,
                               hot_water_share=0.2)
    np.testing.assert_allclose(q, [100 * 19350 * (0.2 + 0.8 * 15 / 27), 100 * 19350, 100 * 19350 * 0.2],
                               rtol=1e-14)
    assert cm.DESTEST_PEAK_LOAD_W == 19.35e3


def test_degree_days_monotone_and_flat_above_the_limit():
    q = cm.homes_degree_days_w(T_SWEEP_K, t_design_k=-12 + C0)
    assert np.all(np.diff(q) <= 0)
    assert np.all(q[T_SWEEP_K >= cm.DEFAULT_HEATING_LIMIT_K] == 0.0)  # no hot water share by default


# --- homes by BDEW SigLinDe ---------------------------------------------------------------------------

def test_siglinde_hand_calculation_with_linear_terms():
    # Illustrative coefficients (not a BDEW type; chosen to exercise every term): A = 2, B = -35,
    # C = 5, D = 0.1, mH = -0.04, bH = 0.7, mW = -0.002, bW = 0.1. At theta = 5 degC:
    # B/(theta - 40) = 1, so the sigmoid is 2/(1 + 1) + 0.1 = 1.1; linear: max(-0.2 + 0.7, -0.01 + 0.1)
    # = 0.5; h = 1.6. At theta = 25 degC: (35/15)^5 = 69.1586..., sigmoid 2/70.1586 + 0.1, linear
    # max(-1 + 0.7, -0.05 + 0.1) = 0.05 (the hot-water line takes over). Exact to rounding.
    p = dict(a=2.0, b=-35.0, c=5.0, d=0.1, m_h=-0.04, b_h=0.7, m_w=-0.002, b_w=0.1)
    h = cm.siglinde_factor(np.array([5.0, 25.0]), **p)
    np.testing.assert_allclose(h, [1.6, 2.0 / (1.0 + (35.0 / 15.0) ** 5) + 0.1 + 0.05], rtol=1e-14)
    # In watts, for 10 homes with a 1 kW customer value, at 5 degC: 10 * 1000 * 1.6.
    q = cm.homes_siglinde_w(5.0 + C0, customer_value_w=1e3, n_homes=10, **p)
    assert q == pytest.approx(16e3, rel=1e-14)


def test_siglinde_matches_demandlib_bdew_profile():
    # demandlib 0.2.2 (BDEW heat profiles) builds an hourly profile P = annual * kw * h(theta_geo) * F * SF,
    # with its own h (sigmoid part only), weekday factors F, hourly factors SF and kw = 1/(sum(h F)/24).
    # Rebuilding P from OUR h on demandlib's weighted temperatures must give demandlib's P: this checks our
    # formula against theirs over a year of temperatures spanning -5 to 25 degC. Example coefficients
    # (EFH, class 1, not windy) are the row demandlib reads, also checked here. Tolerance: same
    # floating-point formula, summed over 8760 hours: measured 9e-15 relative; 1e-12 leaves room for
    # summation-order differences.
    from demandlib.bdew.heat_building import HeatBuilding

    idx = pd.date_range("2023-01-01", periods=8760, freq="h")
    day = np.arange(8760) // 24
    temp = pd.Series(10.0 - 12.0 * np.cos(2 * np.pi * day / 365) + 3.0 * np.sin(1.3 * day), index=idx)
    building = HeatBuilding(idx, temperature=temp, shlp_type="EFH", building_class=1, wind_class=0,
                            annual_heat_demand=20000.0, ww_incl=True)
    profile = building.get_bdew_profile().to_numpy()
    a, b, c, d = building.get_sigmoid_parameters()
    p = cm.SIGLINDE_EFH_CLASS1_WIND0
    assert (p["a"], p["b"], p["c"], p["d"]) == (a, b, c, d)
    theta = building.df["temperature_geo"].to_numpy()
    f, sf = building.get_weekday_parameters(), building.get_sf_values()
    h = cm.siglinde_factor(theta, **p)
    ours = 20000.0 * h * f * sf / (np.sum(h * f) / 24.0)
    np.testing.assert_allclose(ours, profile, rtol=1e-12)


def test_siglinde_monotone_in_outdoor_temperature():
    q = cm.homes_siglinde_w(T_SWEEP_K, customer_value_w=1e3, **cm.SIGLINDE_EFH_CLASS1_WIND0)
    assert np.all(np.diff(q) < 0)
    assert np.all(q > 0)  # D > 0: hot water at every temperature


# --- vertical farm ------------------------------------------------------------------------------------

def test_vertical_farm_hand_calculation():
    # 1000 m2, U = 2 W/(m2 K), set-point 22 degC, LEDs 50 W/m2 of which 80 % heat the room:
    # at -10 degC: 2 * 1000 * 32 - 0.8 * 50 * 1000 = 64,000 - 40,000 = 24,000 W; at 5 degC:
    # 34,000 - 40,000 < 0 -> 0 (cooling-dominated). Hand calculation, exact to rounding.
    q = cm.vertical_farm_w(np.array([-10.0, 5.0]) + C0, floor_area_m2=1000, t_set_k=22 + C0,
                           u_envelope_w_per_m2k=2.0, led_power_w_per_m2=50.0, led_heat_fraction=0.8)
    np.testing.assert_allclose(q, [24000.0, 0.0], rtol=1e-12, atol=0)


def test_vertical_farm_monotone_and_zero_when_leds_cover_the_loss():
    q = cm.vertical_farm_w(T_SWEEP_K, floor_area_m2=500, t_set_k=22 + C0, u_envelope_w_per_m2k=1.5,
                           led_power_w_per_m2=30.0)
    assert np.all(np.diff(q) <= 0) and np.all(q >= 0)
    # The balance point: U (T_set - T) = p_LED -> T = 22 - 30/1.5 = 2 degC; demand is zero above it.
    assert np.all(q[T_SWEEP_K >= 2 + C0] == 0) and np.all(q[T_SWEEP_K < 2 + C0 - 1e-9] > 0)


# --- registry and bad input ---------------------------------------------------------------------------

def test_registry_dispatches_to_each_model():
    assert set(cm.CONSUMER_MODELS) == {"homes_degree_days", "homes_siglinde", "vertical_farm"}
    t = np.array([0.0, 10.0]) + C0
    params = {
        "homes_degree_days": dict(t_design_k=-12 + C0),
        "homes_siglinde": dict(customer_value_w=1e3, **cm.SIGLINDE_EFH_CLASS1_WIND0),
        "vertical_farm": dict(floor_area_m2=100, t_set_k=20 + C0, u_envelope_w_per_m2k=3.0,
                              led_power_w_per_m2=10.0),
    }
    for kind, func in cm.CONSUMER_MODELS.items():
        np.testing.assert_array_equal(cm.consumer_heat_demand_w(kind, t, **params[kind]), func(t, **params[kind]))
    with pytest.raises(CaseError) as err:
        cm.consumer_heat_demand_w("greenhouse", t)
    assert err.value.field == "kind" and "vertical_farm" in err.value.allowed


SIG = cm.SIGLINDE_EFH_CLASS1_WIND0


@pytest.mark.parametrize("call, field", [
    (lambda: cm.homes_degree_days_w(C0, t_design_k=20 + C0), "t_design_k"),  # above the 15 degC limit
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, design_load_w=0.0), "design_load_w"),
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, n_homes=-1), "n_homes"),
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, hot_water_share=1.0), "hot_water_share"),
    (lambda: cm.homes_degree_days_w(np.array([C0, -3.0]), t_design_k=-12 + C0), "t_out_k"),
    (lambda: cm.homes_siglinde_w(45 + C0, customer_value_w=1e3, **SIG), "t_out_k"),  # at/above theta0
    (lambda: cm.homes_siglinde_w(C0, customer_value_w=0.0, **SIG), "customer_value_w"),
    (lambda: cm.homes_siglinde_w(C0, customer_value_w=1e3, **{**SIG, "b": 37.0}), "b"),
    (lambda: cm.homes_siglinde_w(C0, customer_value_w=1e3, **{**SIG, "c": -1.0}), "c"),
    (lambda: cm.homes_siglinde_w(C0, customer_value_w=1e3, **{**SIG, "m_h": np.nan}), "m_h"),
    (lambda: cm.vertical_farm_w(C0, floor_area_m2=0, t_set_k=295, u_envelope_w_per_m2k=1,
                                led_power_w_per_m2=10), "floor_area_m2"),
    (lambda: cm.vertical_farm_w(C0, floor_area_m2=10, t_set_k=295, u_envelope_w_per_m2k=-1,
                                led_power_w_per_m2=10), "u_envelope_w_per_m2k"),
    (lambda: cm.vertical_farm_w(C0, floor_area_m2=10, t_set_k=295, u_envelope_w_per_m2k=1,
                                led_power_w_per_m2=10, led_heat_fraction=1.5), "led_heat_fraction"),
])
def test_bad_parameters_raise_case_error_naming_the_field(call, field):
    with pytest.raises(CaseError) as err:
        call()
    assert err.value.field == field
    assert err.value.allowed and field in str(err.value) and "got" in str(err.value)
