"""Validation runner for the bundled weather year (:mod:`gigawatt.cases.weather`): its monthly, season and
annual means and its heating degree-days, measured on the year as :func:`~gigawatt.cases.weather.bundled_weather`
returns it (hourly, 2025, from the packaged file), against the published figures its case file names.

The season means follow DMI's convention (the mean of the three monthly means, winter = December, January,
February of the same year here); the annual mean is the mean of all 8760 hours (day-weighted); heating
degree-days sum ``max(0, 17 °C − daily mean)`` over the year's days (the Danish "graddage").
"""
from __future__ import annotations

import numpy as np

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEASONS = {"DJF": (12, 1, 2), "MAM": (3, 4, 5), "JJA": (6, 7, 8), "SON": (9, 10, 11)}


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def bundled_weather_dmi(spec):
    """Monthly means [°C] of the bundled year (points Jan … Dec), season means (DJF … SON), annual mean [°C]
    and heating degree-days [K·d]."""
    from gigawatt.cases.weather import ZERO_CELSIUS_K, bundled_weather, heating_degree_days

    inp = spec["inputs"]
    ds = bundled_weather(start=inp["start"], periods=int(inp["periods"]), step=inp["step"], site=inp["site"])
    t_c = ds.outdoor_t_k.values - ZERO_CELSIUS_K
    month = ds.time.dt.month.values
    monthly = {m: float(t_c[month == m].mean()) for m in range(1, 13)}
    out = [_measured("monthly_mean_t_c", monthly[m], point=MONTHS[m - 1]) for m in range(1, 13)]
    out += [_measured("season_mean_t_c", float(np.mean([monthly[m] for m in months])), point=name)
            for name, months in SEASONS.items()]
    out.append(_measured("annual_mean_t_c", float(t_c.mean())))
    out.append(_measured("heating_degree_days_k_d", heating_degree_days(ds.outdoor_t_k.values, ds.time.values,
                                                                         base_c=float(inp["hdd_base_c"]))))
    return out


def bundled_weather_summer_design(spec):
    """The bundled year's summer design figures [°C]: the dry-bulb exceeded by ``exceedance`` of the year's
    hours (ASHRAE's annual cooling design definition: 0.4 % of 8760 h, the 35th warmest hour) and the warmest
    hour."""
    from gigawatt.cases.weather import ZERO_CELSIUS_K, bundled_weather

    inp = spec["inputs"]
    ds = bundled_weather(start=inp["start"], periods=int(inp["periods"]), step=inp["step"], site=inp["site"])
    t_c = np.sort(ds.outdoor_t_k.values - ZERO_CELSIUS_K)[::-1]
    rank = int(round(float(inp["exceedance"]) * t_c.size))  # hours at or above the design value
    return [_measured("cooling_design_dry_bulb_t_c", float(t_c[rank - 1]), point=f"{100 * inp['exceedance']:g} %"),
            _measured("warmest_hour_t_c", float(t_c[0]))]


WEATHER_RUNNERS = {"bundled_weather_dmi": bundled_weather_dmi,
                   "bundled_weather_summer_design": bundled_weather_summer_design}
"""Runners of the weather cases (registered in :data:`gigawatt.validation.dc_checks.RUNNERS`)."""
