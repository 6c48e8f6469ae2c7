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
    # 100 homes, space-heating design load 5 kW at -12 degC, limit 17 degC (29 K), hot water 300 W on average.
    # At 0 degC with the day's mean hot water: 100 * (5000 * 17/29 + 300) = 323,103.448... W; at the design
    # temperature 100 * 5300; above the limit the hot water only. At 07:00 the tapping cycle M draws 1.61 of its
    # 5.845 kWh a day, so f = 24 * 1.61/5.845 and the hot water is 300 * f. Hand calculations, exact to rounding.
    kw = dict(t_design_k=-12 + C0, n_homes=100, space_design_w=5000.0, t_heating_limit_k=17 + C0, dhw_w=300.0)
    q = cm.homes_degree_days_w(np.array([0.0, -12.0, 20.0]) + C0, **kw)
    np.testing.assert_allclose(q, [100 * (5000 * 17 / 29 + 300), 100 * 5300, 100 * 300], rtol=1e-14)
    q7 = cm.homes_degree_days_w(20 + C0, hour_of_day=7.0, **kw)
    assert q7 == pytest.approx(100 * 300 * 24 * 1.61 / 5.845, rel=1e-14)
    assert cm.DESTEST_PEAK_LOAD_W == 19.35e3


def test_degree_days_monotone_and_flat_above_the_limit():
    q = cm.homes_degree_days_w(T_SWEEP_K, t_design_k=-12 + C0)
    assert np.all(np.diff(q) <= 0)
    assert np.all(q[T_SWEEP_K >= cm.DEFAULT_HEATING_LIMIT_K] == 0.0)  # no hot water unless given


def test_degree_day_annual_sum_on_a_synthetic_year():
    # A synthetic year: a cosine of the day, mean 8 degC, amplitude 10 K, plus a 4 K daily swing. The model's
    # energy over its 8760 hours is H * degree-hours + hot water * 8760 h, H = Q_SH,design / (T_lim - T_d):
    # the closed form of the degree-day method, whatever the year.
    h = np.arange(8760.0)
    t = C0 + 8.0 - 10.0 * np.cos(2 * np.pi * h / 8760.0) + 2.0 * np.cos(2 * np.pi * (h % 24 - 15) / 24)
    kw = dict(t_design_k=-12 + C0, space_design_w=4000.0, t_heating_limit_k=17 + C0, dhw_w=250.0)
    e = cm.homes_degree_days_w(t, hour_of_day=h % 24, **kw).sum() * 3600.0
    dh = cm.degree_hours_k_s(t, 17 + C0)
    assert dh == pytest.approx(np.clip(17 + C0 - t, 0, None).sum() * 3600.0, rel=1e-15)
    assert e == pytest.approx(4000.0 / 29.0 * dh + 250.0 * 8760 * 3600.0, rel=1e-12)


def test_building_type_parameters_reproduce_their_annual_heat_in_the_normal_year():
    # The inversion: a year whose hourly degree-time equals the normal year's degree-days (3009 K d) gives back
    # the type's published annual heat; the hot water is persons x 850 kWh; the design load is the space
    # heating at -12 degC plus the hot water's peak hour. Detached: 14 MWh, 2.5 persons -> 2.125 MWh hot
    # water (15.2 %); H = 11.875 MWh / (3009 K d * 86400 s) = 163.3 W/K; 4.77 kW at 29 K.
    for name, bt in cm.BUILDING_TYPES.items():
        p = cm.home_heat_parameters(name)
        assert p["annual_heat_j"] == pytest.approx(bt.annual_heat_j, rel=1e-14)
        assert p["dhw_annual_j"] == pytest.approx(bt.persons * 850 * 3.6e6, rel=1e-14)
        h = (bt.annual_heat_j - p["dhw_annual_j"]) / (3009 * 86400.0)
        assert p["space_design_w"] == pytest.approx(h * 29.0, rel=1e-14)
        peak = p["dhw_w"] * 24 * 1.61 / 5.845  # the 07:00 hour of the tapping cycle M
        assert p["design_load_w"] == pytest.approx(p["space_design_w"] + peak, rel=1e-14)
        # a constant outdoor temperature with 3009 K d of degree-time in 365 days
        t = np.full(8760, 17 + C0 - 3009.0 / 365.0)
        e = cm.homes_degree_days_w(t, t_design_k=-12 + C0, space_design_w=p["space_design_w"], dhw_w=p["dhw_w"],
                                   hour_of_day=np.arange(8760.0) % 24).sum() * 3600.0
        assert e == pytest.approx(bt.annual_heat_j, rel=1e-12)
    assert cm.home_heat_parameters("detached")["space_design_w"] == pytest.approx(4768.68, abs=0.01)
    assert cm.home_heat_parameters("detached")["dhw_share"] == pytest.approx(2.125 / 14.0, rel=1e-14)
    assert cm.DANISH_NORMAL_YEAR_DEGREE_DAYS_K_D == 3009.0


def test_dhw_profile_integrates_to_its_daily_energy():
    # The day's 24 hours at the mean hot water times the profile give the mean times 24 h, for every profile;
    # the tapping cycle M sums to its 5.845 kWh a day (Regulation 812/2013), with no draw between 22:00 and 07:00.
    assert sum(kwh for _, kwh in cm.TAPPING_CYCLE_M_KWH) == pytest.approx(5.845, abs=1e-12)
    hours = np.arange(24.0)
    for name in cm.DHW_PROFILES:
        f = cm.dhw_profile_factor(hours, name)
        assert (f * 300.0 * 3600.0).sum() == pytest.approx(300.0 * 86400.0, rel=1e-14)
        # a step inside an hour takes that hour's value
        np.testing.assert_array_equal(cm.dhw_profile_factor(hours + 0.5, name), f)
    f = cm.dhw_profile_factor(hours, "tapping_cycle_m")
    assert np.all(f[[22, 23, 0, 1, 2, 3, 4, 5, 6]] == 0.0) and f[7] == pytest.approx(24 * 1.61 / 5.845, rel=1e-14)
    np.testing.assert_array_equal(cm.dhw_profile_factor(hours, "flat"), np.ones(24))


def test_scalar_inputs_take_the_array_path_values_and_errors():
    # A time step passes scalars (one outdoor temperature, one hour), checked without array reductions: the
    # same bits as the same value in a one-element array, and the same errors (field, value) for bad ones.
    from gigawatt.models.heat_pumps import cop_carnot_fraction

    kw = dict(t_design_k=-12 + C0, n_homes=100, space_design_w=5000.0, t_heating_limit_k=17 + C0, dhw_w=300.0)
    farm = dict(floor_area_m2=1.0, t_set_k=295.15, u_envelope_w_per_m2k=0.5, led_power_w_per_m2=370.0,
                ventilation_w_per_m2k=1.2)
    for t in (C0 - 30.0, C0 - 12.0, C0 + 0.37, C0 + 17.0, C0 + 30.0):
        for h in (0.0, 6.99, 7.0, 12.5, 23.999):
            one, arr = np.array([t]), np.array([h])
            assert cm.homes_degree_days_w(t, hour_of_day=h, **kw) == cm.homes_degree_days_w(one, hour_of_day=arr,
                                                                                            **kw)[0]
            assert cm.dhw_profile_factor(h) == cm.dhw_profile_factor(arr)[0]
            lit = cm.lights_on_fraction(h, 6.0, 16.0)
            assert cm.vertical_farm_w(t, lit=lit, **farm) == cm.vertical_farm_w(one, lit=np.array([lit]), **farm)[0]
        assert cop_carnot_fraction(t + 40.0, 348.15) == cop_carnot_fraction(np.array([t + 40.0]), 348.15)[0]
    for bad in (24.0, -0.5, float("nan"), float("inf")):
        with pytest.raises(CaseError) as scalar:
            cm.dhw_profile_factor(bad)
        with pytest.raises(CaseError) as array:
            cm.dhw_profile_factor(np.array([bad]))
        assert str(scalar.value) == str(array.value)
    for bad in (0.0, -1.0, float("nan")):
        for call in (lambda t: cm.homes_degree_days_w(t, **kw), lambda t: cop_carnot_fraction(t, 348.15)):
            with pytest.raises(CaseError) as scalar:
                call(bad)
            with pytest.raises(CaseError) as array:
                call(np.array([bad]))
            assert str(scalar.value) == str(array.value)
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(CaseError) as scalar:
            cm.vertical_farm_w(C0, lit=bad, **farm)
        with pytest.raises(CaseError) as array:
            cm.vertical_farm_w(C0, lit=np.array([bad]), **farm)
        assert str(scalar.value) == str(array.value)
    with pytest.raises(CaseError, match="space_design_w"):
        cm.homes_degree_days_w(C0, **{**kw, "space_design_w": float("inf")})
    with pytest.raises(CaseError):  # no lift
        cop_carnot_fraction(350.0, 300.0)


def test_homes_heated_on_an_annual_energy_basis():
    # Meta, Odense: 100,000 MWh a year for homes of 14.5 MWh -> 6,896.55 homes; one hour of 10 MW for
    # homes of 14 MWh a year: 10 MWh * 8760 / 14 MWh = 6257.14.
    assert cm.homes_heated_annual(100_000 * 3.6e9, 14.5 * 3.6e9) == pytest.approx(100_000 / 14.5, rel=1e-14)
    assert cm.homes_heated_annual(10e6 * 3600.0, 14 * 3.6e9, 3600.0) == pytest.approx(10 * 8760 / 14, rel=1e-14)


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
    # 1000 m2, U = 2 W/(m2 K), ventilation 0.5 W/(m2 K), set-point 22 degC, LEDs 50 W/m2 of which 80 % heat
    # the room: lit at -10 degC: 2.5 * 1000 * 32 - 0.8 * 50 * 1000 = 80,000 - 40,000 = 40,000 W; lit at
    # 10 degC: 30,000 - 40,000 = -10,000 W (cooling) -> takes 0; dark at 10 degC: 30,000 W. Exact to rounding.
    kw = dict(floor_area_m2=1000, t_set_k=22 + C0, u_envelope_w_per_m2k=2.0, led_power_w_per_m2=50.0,
              led_heat_fraction=0.8, ventilation_w_per_m2k=0.5)
    t = np.array([-10.0, 10.0, 10.0]) + C0
    lit = np.array([1.0, 1.0, 0.0])
    np.testing.assert_allclose(cm.vertical_farm_balance_w(t, lit=lit, **kw), [40000.0, -10000.0, 30000.0],
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(cm.vertical_farm_w(t, lit=lit, **kw), [40000.0, 0.0, 30000.0], rtol=1e-12, atol=0)


def test_vertical_farm_monotone_and_zero_when_leds_cover_the_loss():
    q = cm.vertical_farm_w(T_SWEEP_K, floor_area_m2=500, t_set_k=22 + C0, u_envelope_w_per_m2k=1.5,
                           led_power_w_per_m2=30.0)
    assert np.all(np.diff(q) <= 0) and np.all(q >= 0)
    # The balance point: U (T_set - T) = p_LED -> T = 22 - 30/1.5 = 2 degC; demand is zero above it.
    assert np.all(q[T_SWEEP_K >= 2 + C0] == 0) and np.all(q[T_SWEEP_K < 2 + C0 - 1e-9] > 0)


def test_default_farm_is_cooled_with_lights_on_and_heated_with_them_off():
    # The default assumptions: 4 tiers x 250 umol/(m2 s) / 2.7 umol/J = 370.4 W/m2 of LEDs while lit;
    # ventilation 1.2 * 1006 * 0.5 * 4 / 3600 = 0.6707 W/(m2 K). Lit, the balance point lies at
    # 22 - 370.4 / 1.1707 = -294 degC: cooling in any weather; dark at -12 degC: 1.1707 * 34 = 39.8 W/m2 of heat.
    a = cm.FARM_ASSUMPTIONS
    led = cm.led_power_density_w_per_m2(a["ppfd_umol_per_m2_s"], a["led_efficacy_umol_per_j"], a["tiers"])
    vent = cm.ventilation_w_per_m2k(a["air_changes_per_h"], a["room_height_m"])
    assert led == pytest.approx(4 * 250 / 2.7, rel=1e-14) and vent == pytest.approx(1.2 * 1006 * 2 / 3600, rel=1e-14)
    kw = dict(floor_area_m2=1.0, t_set_k=a["t_set_k"], u_envelope_w_per_m2k=a["u_envelope_w_per_m2k"],
              led_power_w_per_m2=led, ventilation_w_per_m2k=vent)
    t = np.array([-12.0, 30.0]) + C0
    assert np.all(cm.vertical_farm_balance_w(t, lit=1.0, **kw) < 0)  # lights on: cooling at -12 and at 30 degC
    dark = cm.vertical_farm_balance_w(t, lit=0.0, **kw)
    assert dark[0] == pytest.approx((0.5 + vent) * 34.0, rel=1e-14) and dark[1] < 0  # dark: heat in the cold only
    # the photoperiod: lit 16 h from 06:00, dark 22:00-06:00 (wrapping midnight)
    on = cm.lights_on_fraction(np.arange(24.0), a["lights_on_h"], a["photoperiod_h"])
    np.testing.assert_array_equal(on, (np.arange(24) >= 6) & (np.arange(24) < 22))
    np.testing.assert_array_equal(cm.lights_on_fraction(np.arange(24.0), 20.0, 10.0),
                                  (np.arange(24) >= 20) | (np.arange(24) < 6))


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
    (lambda: cm.homes_degree_days_w(C0, t_design_k=20 + C0), "t_design_k"),  # above the 17 degC limit
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, space_design_w=0.0), "space_design_w"),
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, n_homes=-1), "n_homes"),
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, dhw_w=-1.0), "dhw_w"),
    (lambda: cm.homes_degree_days_w(C0, t_design_k=-12 + C0, dhw_w=1.0, hour_of_day=24.0), "hour_of_day"),
    (lambda: cm.home_heat_parameters("igloo"), "kind"),
    (lambda: cm.home_heat_parameters("flats", dhw_w=1e4), "dhw_w"),  # more hot water than the flat's heat
    (lambda: cm.vertical_farm_w(C0, floor_area_m2=10, t_set_k=295, u_envelope_w_per_m2k=1,
                                led_power_w_per_m2=10, lit=2.0), "lit"),
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
