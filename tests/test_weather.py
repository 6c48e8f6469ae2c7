"""The bundled weather year (gigawatt.cases.weather): it reproduces its sources, runs on across the year's end,
works along any start and step, refuses bad input by name, is deterministic, and compares sensibly with a
measured-based reference year nearby (DWD TRY2010 region 2, shipped by demandlib).

Expected values are the sources' figures written out here (DMI's 2001-2010 decade means of Denmark, module
notes of gigawatt.cases.weather), or closed forms worked in the comments; none is read back from the code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gigawatt.cases.series_file import read_timeseries
from gigawatt.cases.weather import (HOURS, bundled_weather, heating_degree_days, outdoor_temperature,
                                    synthesize_year, write_bundled_weather)
from gigawatt.errors import CaseError

# DMI, "Vejret i Danmark", national 2001-2010 values [°C]; Feb, Jun, Aug, Nov derived from DMI's season means
DMI_2001_2010_C = [1.5, 2.0, 3.0, 7.5, 11.4, 15.2, 17.4, 16.6, 13.8, 9.4, 5.9, 2.2]
K = 273.15


@pytest.fixture(scope="module")
def year():
    ds = bundled_weather("2025-01-01", periods=8760, step="1h")
    return pd.Series(ds.outdoor_t_k.values - K, index=pd.DatetimeIndex(ds.time.values))


def test_monthly_means_reproduce_dmi(year):
    # the file holds 0.01 K values: their rounding averages to far below 0.005 K over a month
    np.testing.assert_allclose(year.groupby(year.index.month).mean().to_numpy(), DMI_2001_2010_C, atol=0.005)
    # annual mean: DMI 8.8 °C; the day-weighted mean of the twelve values is 3234.5 / 365 = 8.8616 °C
    assert year.mean() == pytest.approx(3234.5 / 365, abs=0.005)


def test_recipe_is_exact_and_is_the_bundled_file(year):
    t = synthesize_year()
    month = np.repeat(np.arange(12), np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) * 24)
    np.testing.assert_allclose([t[month == m].mean() for m in range(12)], DMI_2001_2010_C, atol=1e-9)
    # the packaged file is the recipe's output rounded to 0.01 K (numpy's PCG64 stream, seed 0)
    np.testing.assert_allclose(year.to_numpy(), t, atol=0.005 + 1e-9)


def test_another_seed_keeps_the_means_but_not_the_weather():
    a, b = synthesize_year(seed=0), synthesize_year(seed=1)
    assert np.abs(a - b).max() > 1.0
    assert a.mean() == pytest.approx(b.mean(), abs=1e-9)


def test_deterministic():
    a = bundled_weather("2025-03-01", periods=500, step="7min")
    b = bundled_weather("2025-03-01", periods=500, step="7min")
    np.testing.assert_array_equal(a.outdoor_t_k.values, b.outdoor_t_k.values)
    np.testing.assert_array_equal(synthesize_year(), synthesize_year())


def test_realistic_extremes_and_steps(year):
    # coldest hour: approaches the -12 °C design hour, above DMI's lowest on Zealand in recent winters
    # (-17.6 °C near Roskilde, 16 January 2013); warmest below Denmark's record 36.4 °C (Holstebro, 1975)
    assert -17.6 < year.min() < -9.0
    assert 20.0 < year.max() < 36.4
    assert np.abs(np.diff(year.to_numpy())).max() < 3.0  # K per hour: no jumps


def test_runs_on_across_the_year_end(year):
    steps = np.abs(np.diff(year.to_numpy()))
    ds = bundled_weather("2025-12-31T20:00", periods=8, step="1h")
    t = ds.outdoor_t_k.values - K
    np.testing.assert_allclose(t[:4], year.to_numpy()[-4:], atol=1e-9)  # 31 December, 20:00-23:00
    np.testing.assert_allclose(t[4:], year.to_numpy()[:4], atol=1e-9)   # 1 January 2026 is 1 January 2025
    assert abs(t[4] - t[3]) <= steps.max()
    two = bundled_weather("2025-01-01", periods=2 * 8760, step="1h").outdoor_t_k.values
    np.testing.assert_allclose(two[8760:], two[:8760], atol=1e-9)


@pytest.mark.parametrize("step, per_hour", [("15min", 4), ("1s", 3600), ("20min", 3)])
def test_finer_steps_average_back_to_the_hour(year, step, per_hour):
    ds = bundled_weather("2025-07-10T05:00", periods=3 * per_hour, step=step)
    means = ds.outdoor_t_k.values.reshape(3, per_hour).mean(axis=1) - K
    np.testing.assert_allclose(means, year["2025-07-10 05:00":"2025-07-10 07:00"].to_numpy(), atol=1e-9)
    assert ds.attrs["step_s"] == 3600 / per_hour


def test_coarser_and_unaligned_steps_are_step_means(year):
    day = bundled_weather("2025-02-03", periods=2, step="1d").outdoor_t_k.values - K
    np.testing.assert_allclose(day, year["2025-02-03":"2025-02-04"].to_numpy().reshape(2, 24).mean(axis=1),
                               atol=1e-9)
    # 07:30 to 08:30: half of hour 7 and half of hour 8
    half = bundled_weather("2025-05-05T07:30", periods=1, step="1h").outdoor_t_k.values[0] - K
    assert half == pytest.approx(0.5 * (year["2025-05-05 07:00"] + year["2025-05-05 08:00"]), abs=1e-9)
    # 7 min steps from 10:03 over 70 min, to 11:13: 57 min of hour 10 and 13 min of hour 11
    seven = bundled_weather("2025-05-05T10:03", periods=10, step="7min").outdoor_t_k.values.mean() - K
    assert seven == pytest.approx((57 * year["2025-05-05 10:00"] + 13 * year["2025-05-05 11:00"]) / 70, abs=1e-9)


def test_start_in_the_year_keeps_the_calendar(year):
    ds = bundled_weather("2025-06-15T13:00", periods=5, step="1h")
    np.testing.assert_allclose(ds.outdoor_t_k.values - K, year["2025-06-15 13:00":"2025-06-15 17:00"], atol=1e-9)
    assert ds.time.values[0] == np.datetime64("2025-06-15T13:00")
    # the year is the same every year: 15 June 2031 is 15 June 2025
    later = bundled_weather("2031-06-15T13:00", periods=5, step="1h")
    np.testing.assert_allclose(later.outdoor_t_k.values, ds.outdoor_t_k.values, atol=1e-9)


def test_attributes_say_what_it_is():
    ds = bundled_weather(periods=3)
    a = ds.outdoor_t_k.attrs
    assert a["units"] == "K" and a["site"] == "default"
    assert "DMI" in a["source"] and "SYNTHETIC" in a["assumption"]


def test_unknown_site_names_the_field():
    with pytest.raises(CaseError) as err:
        bundled_weather(site="copenhagen")
    assert err.value.field == "site" and err.value.value == "copenhagen" and "default" in err.value.allowed
    assert "unknown bundled weather site" in str(err.value)


@pytest.mark.parametrize("step", ["0.5s", "1500ms", "-1h", "0s"])
def test_bad_step_is_refused(step):
    with pytest.raises(ValueError, match="whole number of seconds, at least 1 s"):
        bundled_weather(step=step, periods=3)


def test_no_periods_is_refused():
    with pytest.raises(ValueError, match="periods must be at least 1"):
        bundled_weather(periods=0)


def test_writer_round_trip(tmp_path):
    path = write_bundled_weather(tmp_path / "weather.csv", start="2025-01-01", periods=48, step="30min")
    assert path.read_text().splitlines()[0] == "time,outdoor_t_c"
    back = read_timeseries(path, start="2025-01-01", periods=48, step="30min", columns=["outdoor_t_k"])
    ds = bundled_weather("2025-01-01", periods=48, step="30min")
    np.testing.assert_allclose(back.outdoor_t_k.values, ds.outdoor_t_k.values, rtol=0, atol=1e-9)


def test_outdoor_temperature_bundled_or_a_file(tmp_path):
    a = outdoor_temperature("bundled", start="2025-01-01", periods=24, step="1h")
    np.testing.assert_array_equal(a.outdoor_t_k.values, bundled_weather(periods=24).outdoor_t_k.values)
    (tmp_path / "w.csv").write_text("time,outdoor_t_c\n2025-01-01T00:00,-12\n2025-01-01T01:00,-11.5\n")
    b = outdoor_temperature("w.csv", start="2025-01-01", periods=2, step="1h", base_dir=tmp_path)
    np.testing.assert_allclose(b.outdoor_t_k.values, [261.15, 261.65], atol=1e-12)
    assert list(b.data_vars) == ["outdoor_t_k"]


def test_outdoor_temperature_bad_input_names_the_field(tmp_path):
    with pytest.raises(CaseError) as err:
        outdoor_temperature("nowhere.csv", start="2025-01-01", periods=2, step="1h", base_dir=tmp_path,
                            file="case.toml")
    assert err.value.field == "weather" and err.value.file == "case.toml" and "not found" in str(err.value)
    with pytest.raises(CaseError, match="expected 'bundled' or the name of a CSV file"):
        outdoor_temperature(3, start="2025-01-01", periods=2, step="1h")
    (tmp_path / "short.csv").write_text("time,outdoor_t_c\n2025-01-01T00:00,1\n2025-01-01T01:00,2\n")
    with pytest.raises(CaseError, match="has 2 rows, not the 24"):
        outdoor_temperature("short.csv", start="2025-01-01", periods=24, step="1h", base_dir=tmp_path)
    (tmp_path / "load.csv").write_text("time,p_it_fraction\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n")
    with pytest.raises(CaseError, match="required column is missing"):
        outdoor_temperature("load.csv", start="2025-01-01", periods=2, step="1h", base_dir=tmp_path)


def test_heating_degree_days_closed_form():
    # 10 days at 7 °C: 10 × (17 − 7) = 100 K d; a day at 20 °C adds nothing; a day of 0 and 10 °C
    # hours (mean 5 °C) adds 12
    time = pd.date_range("2025-01-01", periods=12 * 24, freq="h")
    t = np.r_[np.full(240, 7.0), np.full(24, 20.0), np.tile([0.0, 10.0], 12)] + K
    assert heating_degree_days(t, time) == pytest.approx(112.0, abs=1e-9)


def test_annual_heat_demand_of_the_default_town_is_its_degree_hours():
    """The default case's consumers over the bundled year, through ConsumerDemand (hour by hour for two days,
    vectorised over the year), equal the closed form of their models: homes n [q_SH (T_lim − T)+ / (T_lim −
    T_design) + hot water's mean × 24 × its hour's share]; farms max(0, (U + H_v) A (T_set − T) − p_LED A) when
    lit 06:00-22:00, without the LEDs otherwise. Over whole days the hot water adds its mean × 8760 h."""
    import gigawatt as gw
    from gigawatt.models.consumers import DHW_PROFILES
    from gigawatt.solver.district_heating.stage import ConsumerDemand, home_parameters

    case = gw.load_case()
    c = case.tables["dh_consumer"]
    ds = bundled_weather()
    t = ds.outdoor_t_k.values
    hour = np.arange(t.size) % 24
    demand = ConsumerDemand(case)
    homes = (c.kind == "homes_degree_days").to_numpy()
    farms = (c.kind == "vertical_farm").to_numpy()
    hp = home_parameters(case)[homes]
    assert c[homes].t_design_k.nunique() == 1 and hp.space_design_w.nunique() == 1 and hp.dhw_w.nunique() == 1
    t_lim, t_d = float(c[homes].t_heating_limit_k.iloc[0]), float(c[homes].t_design_k.iloc[0])
    n = float(c[homes].n_homes.sum())
    ua = n * float(hp.space_design_w.iloc[0]) / (t_lim - t_d)  # [W/K]
    dhw = n * float(hp.dhw_w.iloc[0])
    lit = ((hour >= 6) & (hour < 22)).astype(float)
    f = c[farms]
    farm_w = sum(np.maximum(0.0, (u + v) * a * (ts - t) - p * a * lit) for u, v, a, ts, p in zip(
        f.u_envelope_w_per_m2k, f.ventilation_w_per_m2k, f.floor_area_m2, f.t_set_k, f.led_power_w_per_m2))
    hourly = ua * np.clip(t_lim - t, 0, None) + dhw * 24 * DHW_PROFILES["tapping_cycle_m"][hour] + farm_w  # [W]
    got = np.array([demand.at(t[k], float(hour[k])).sum() for k in range(48)])
    np.testing.assert_allclose(got, hourly[:48], rtol=1e-12)
    e = demand.energy_j(t, hour.astype(float), 3600.0)
    assert e.sum() == pytest.approx(hourly.sum() * 3600.0, rel=1e-12)
    assert e[homes].sum() == pytest.approx((ua * np.clip(t_lim - t, 0, None).sum() + dhw * 8760) * 3600.0, rel=1e-12)


def test_against_the_measured_based_year_nearby(year):
    """DWD's test reference year TRY2010 for region 2 (Rostock-Warnemünde, a mean year of 1988-2007), shipped
    by demandlib, 170 km south of the default site: the synthetic year has the same day-to-day persistence
    and daily range in winter, and colder extremes (our assumption: the coldest hours approach the design
    hour; a mean year smooths them away)."""
    pytest.importorskip("demandlib")
    from importlib.resources import files

    path = files("demandlib") / "vdi" / "resources_weather" / "TRY2010_02_Jahr.dat"
    lines = path.read_text(encoding="latin-1").splitlines()
    rows = [ln.split() for ln in lines[[i for i, ln in enumerate(lines) if ln.startswith("***")][0] + 1:] if ln.strip()]
    t_try = np.array([float(r[8]) for r in rows])
    assert t_try.size == HOURS

    def daily_stats(t):
        s = pd.Series(t, index=pd.date_range("2025-01-01", periods=HOURS, freq="h"))
        d = s.resample("D")
        mean, rng = d.mean().to_numpy(), (d.max() - d.min()).to_numpy()
        wrapped = np.r_[mean[-15:], mean, mean[:15]]
        anomaly = mean - np.convolve(wrapped, np.ones(31) / 31, mode="valid")  # against a 31-day mean
        winter = np.isin(d.mean().index.month, (12, 1, 2))
        return (np.corrcoef(anomaly[:-1], anomaly[1:])[0, 1], anomaly[winter].std(), rng[winter].mean(),
                t.min())

    corr, sd_winter, range_winter, coldest = daily_stats(year.to_numpy())
    corr_try, sd_try, range_try, coldest_try = daily_stats(t_try)
    assert abs(corr - corr_try) < 0.15             # 0.66 against 0.56
    assert sd_try < sd_winter < 2 * sd_try         # 4.3 K against 2.8 K: more winter spread, same order
    assert abs(range_winter - range_try) < 1.5     # about 4.8 K against 3.7 K
    assert coldest < coldest_try                   # -10.5 °C against -8.0 °C
