"""Outdoor temperature for time series: a bundled hourly year for the default site, and any user CSV.

:func:`bundled_weather` returns ``outdoor_t_k`` [K] along ``time`` for any start, length and step of 1 s or
more, with the conventions of :func:`gigawatt.cases.profiles.bundled_profile`: each value is the exact mean of
the bundled hourly year over its step, from its time stamp to the next (the year is a staircase of hourly
means, so a 15 min step repeats its hour and a 1 d step is the day's mean). :func:`outdoor_temperature` is the
hook of a case's ``weather = "bundled" | "<file.csv>"`` field; :func:`write_bundled_weather` writes the year as
a CSV that :func:`gigawatt.cases.series_file.read_timeseries` reads back, for users who start from it.

The default site
----------------
A Danish town on Zealand or Funen (Høje-Taastrup, Odense), heated by the default case
(``cases/bundled/hall_800vdc.toml``, design hour −12 °C). No well-kept PyPI package ships an hourly year for
Denmark: pvlib 0.16.1, windpowerlib 0.2.2, tsam 4.1.1, ladybug-core, eppy and dhnx ship none; demandlib 0.2.2
(MIT) ships the German Weather Service's test reference years TRY2010, whose region 2 (Rostock-Warnemünde,
54°11'N 12°05'E, mean year of 1988–2007) lies 170 km south of Høje-Taastrup across the Baltic. The licence of
the DWD data inside it is not stated, so it is not copied here; it serves only as an independent check in the
tests (its daily variability, diurnal range and coldest hour). The bundled year is therefore SYNTHETIC, built
from published DMI figures by :func:`synthesize_year` and stored in
``cases/bundled/weather_dk_2001_2010.csv`` (°C, 0.01 K; the file is the data, the recipe reproduces it).

Sources (Danish Meteorological Institute, national means of Denmark "for landet som helhed", the decade
2001–2010, °C; each monthly summary "Vejret i Danmark – <month> <year>" states the month's 2001–10 value):

========  ======  ==========================================================================================
month     T [°C]  where
========  ======  ==========================================================================================
Jan       1.5     ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-januar-2015/ (and januar-2016)
Feb       2.0     derived: 3 × winter DJF 1.9 − Dec − Jan; DJF 2001–10 = 1.9 from
                  ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-vinteren-2012-2013/
Mar       3.0     www.dmi.dk/vejr/arkiver/maanedsaesonaar/201401/vejret-i-danmark-marts-2014/
Apr       7.5     www.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-april-2016/
May       11.4    ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-maj-2015/
Jun       15.2    derived: Jun + Aug = 3 × summer JJA 16.4 − Jul 17.4 (…/vejret-i-danmark-sommer-2015/), split
                  by the 1961–90 normals' Aug − Jun = 15.7 − 14.3 = 1.4 K (…/vejret-i-danmark-juni-2016/,
                  …/vejret-i-danmark-august-2016/)
Jul       17.4    ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-juli-2015/
Aug       16.6    derived with June (above)
Sep       13.8    ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-september-2015/
Oct       9.4     www.dmi.dk/vejr/arkiver/maanedsaesonaar/201402/vejret-i-danmark-oktober-2014/
Nov       5.9     derived: 3 × autumn SON 9.7 (…/vejret-i-danmark-efteraaret-2015/) − Sep − Oct
Dec       2.2     www.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-december-2015/
year      8.8     ny.dmi.dk/vejr/arkiver/maanedsaesonaar/vejret-i-danmark-aaret-2015/ (a check, not an input)
spring    7.3     www.dmi.dk/vejr/arkiver/maanedsaesonaar/201401/vejret-i-danmark-foraar-2014/ (a check)
========  ======  ==========================================================================================

Why 2001–2010 and national: DMI's monthly summaries give the decade value for every month (its 1991–2020
normals were not found on a stored page); the decade is 1.1 K warmer than the 1961–90 normal (7.7 °C) and
close to the 1991–2020 one (8.7 °C, DMI via kristeligt-dagblad.dk, January 2022). National means stand in for
Zealand and Funen, which run a few tenths of a kelvin warmer in winter (DMI, January 2012: Fyn normal 0.4 °C
against 0.0 °C nationally): slightly conservative for heating.

Recipe (:func:`synthesize_year`), hour i of a 365-day year (8760 h), d its day (0 = 1 January):

``T_i = S(t_i) + A(t_i) + DTR(d)/2 · <cos(2 pi (h - 15 h)/24 h)>_hour``

* ``S``: the smoothest periodic annual course (least integral of S''², Fourier series to 40 cycles a year)
  whose monthly means make the monthly means of T equal the table above EXACTLY (a mean-preserving
  "histospline", Boneva, Kendall & Stefanov, J. R. Stat. Soc. B 33 (1971)). It also takes out the month-scale
  means of the random part, as a typical year should.
* Diurnal cycle: hour means of a cosine, lowest at 03:00 and highest at 15:00 (hour of day of the time
  stamps, local time), of range ``DTR(d) = 6.2 + 2.7 cos(2 pi (d - 172)/365)`` K (ASSUMPTION: least-squares
  fit, with the synoptic part's small share, to mean daily max − min of 6.3 K in March (DMI 2002–11,
  dmi.dk/nyheder/2012/saadan-er-foraaret-nu-med-endnu-flere-tal), 8.8 K in July (ten years to 2012, a DMI
  meteorologist quoted by sn.dk, secondary), 4.4 K in November (DMI 2011–20 reference, quoted by
  nordjyske.dk, secondary) and about 3.8 K in January (DWD TRY2010 region 2). The bundled year's mean daily
  max − min comes out 4.6, 7.0, 8.8 and 4.5 K in January, March, July and November.
* Synoptic variability ``A``: daily anomalies, a seeded AR(1) from day to day (correlation 0.6; DWD TRY2010
  region 2: 0.56), its linear drift over the year removed so that 31 December runs on into 1 January, of
  standard deviation ``sigma(d) = 3.5 + 1.5 cos(2 pi (d - 15)/365)`` K (5 K mid-January, 2 K mid-July), put
  at each day's noon and joined by a periodic cubic spline (an hourly AR(1) would be too rough: it doubled
  the winter daily range). ASSUMPTIONS, chosen so that the coldest hours approach the −12 °C design
  temperature (seed 0: −10.5 °C; seeds 1–4 give −9.6 to −13.7 °C) while staying above the lowest temperatures
  DMI recorded on Zealand in recent winters (−17.6 °C near Roskilde, 16 January 2013; −15.3 °C at Roskilde
  airport, 29 December 2014; DMI "Vejret i Danmark – vinteren 2012-2013", "– december 2014").

Results of the bundled year: monthly means as the table (within 0.0003 K, the file's 0.01 K rounding), annual
mean 8.86 °C (the day-weighted mean of the monthly values; DMI 8.8), coldest hour −10.53 °C (3 March, 03:00),
warmest 26.8 °C, heating degree-days (base 17 °C, daily means) 3050 K·d against the Danish normal year's 3009
(468 421 421 307 180 69 40 40 111 214 328 410, as published by district-heating utilities, e.g.
auningfjernvarme.dk "Graddage"; its period is not stated there). Validation: ``validation/cases/weather_published_dmi_2001_2010.toml``.

Time: the year repeats every 365 days from 1 January 00:00 of the start's year (in a leap year the calendar
slips one day after 28 February); time stamps are read as local time, like the profiles' hours.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.profiles import _grid
from gigawatt.cases.schema import schema
from gigawatt.errors import CaseError
from gigawatt.models.consumers import DANISH_NORMAL_YEAR_HDD  # noqa: F401 (the table the demand model is calibrated on)

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
ZERO_CELSIUS_K = 273.15
HOURS = 8760
"""Hours of the bundled (365-day) year."""
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

DMI_MONTHLY_MEAN_C = (1.5, 2.0, 3.0, 7.5, 11.4, 15.2, 17.4, 16.6, 13.8, 9.4, 5.9, 2.2)
"""Monthly mean temperatures of Denmark, 2001–2010 [°C] (DMI; February, June, August and November derived
from DMI's season means, see the module notes)."""
DMI_SEASON_MEAN_C = {"DJF": 1.9, "MAM": 7.3, "JJA": 16.4, "SON": 9.7}
"""DMI season means of Denmark, 2001–2010 [°C] (winter December to February, and so on)."""
DMI_ANNUAL_MEAN_C = 8.8
"""DMI annual mean of Denmark, 2001–2010 [°C]."""

DTR_MEAN_K, DTR_AMPLITUDE_K, DTR_PEAK_DAY = 6.2, 2.7, 172
"""Diurnal range of the cosine [K], DTR = mean + amplitude cos(2 pi (d - peak)/365) (ASSUMPTION, module notes)."""
SIGMA_MEAN_K, SIGMA_AMPLITUDE_K, SIGMA_PEAK_DAY = 3.5, 1.5, 15
"""Standard deviation of the daily synoptic anomaly [K], same form (ASSUMPTION: 5 K mid-January, 2 K mid-July)."""
DAY_TO_DAY_CORRELATION = 0.6
"""Lag-1-day correlation of the daily synoptic anomaly [-] (ASSUMPTION; DWD TRY2010 region 2: 0.56)."""
SEED = 0
HARMONICS = 40


@dataclass(frozen=True)
class Site:
    """A bundled weather year: its file (hourly °C, ``time,outdoor_t_c``) and what to tell the user."""

    file: str
    description: str
    source: str
    assumption: str


SITES = {
    "default": Site(
        file="weather_dk_2001_2010.csv",
        description="Danish town (Zealand/Funen), synthetic hourly year reproducing DMI's 2001-2010 national "
                    "monthly means",
        source="DMI monthly summaries 'Vejret i Danmark' (2001-2010 decade values, national); see "
               "gigawatt.cases.weather",
        assumption="SYNTHETIC year (gigawatt.cases.weather.synthesize_year): monthly means exact; diurnal range "
                   f"{DTR_MEAN_K} + {DTR_AMPLITUDE_K} cos(2 pi (d - {DTR_PEAK_DAY})/365) K, coldest 03:00, "
                   f"warmest 15:00; synoptic daily AR(1) sd {SIGMA_MEAN_K} + {SIGMA_AMPLITUDE_K} cos(2 pi (d - "
                   f"{SIGMA_PEAK_DAY})/365) K of daily anomalies, day-to-day correlation {DAY_TO_DAY_CORRELATION}, "
                   f"spline-interpolated to hours, seed {SEED}"),
}
"""Bundled weather years by site name."""


# --- the recipe ------------------------------------------------------------------------------------


def _month_of_hour() -> np.ndarray:
    return np.repeat(np.arange(12), np.array(MONTH_DAYS) * 24)


def smoothest_course(month_means, month_of_hour, harmonics: int = HARMONICS) -> np.ndarray:
    """The smoothest periodic hourly course (least integral of its squared second derivative, a Fourier series
    to ``harmonics`` cycles a year) whose means over the hours of each month are ``month_means`` exactly."""
    n = len(month_of_hour)
    theta = 2 * np.pi * (np.arange(n) + 0.5) / n
    k = np.arange(1, harmonics + 1)
    basis = np.hstack([np.ones((n, 1)), np.cos(np.outer(theta, k)), np.sin(np.outer(theta, k))])
    roughness = np.concatenate([[0.0], k.astype(float) ** 4, k.astype(float) ** 4])  # the constant is free
    months = np.unique(month_of_hour)
    a = np.array([basis[month_of_hour == m].mean(axis=0) for m in months])
    m, p = a.shape  # minimise c' R c subject to a c = month_means: the KKT system
    kkt = np.block([[np.diag(roughness), a.T], [a, np.zeros((m, m))]])
    coef = np.linalg.solve(kkt, np.concatenate([np.zeros(p), np.asarray(month_means, float)]))[:p]
    return basis @ coef


def synthesize_year(seed: int = SEED, month_means_c=DMI_MONTHLY_MEAN_C) -> np.ndarray:
    """The synthetic hourly year of the default site [°C], 8760 hour values from 1 January 00:00 (see the
    module notes for the recipe, its sources and its assumptions). Deterministic for a given ``seed`` and
    numpy's PCG64 stream; the bundled file is the reference."""
    from scipy.interpolate import CubicSpline

    rng = np.random.default_rng(seed)
    n, days = HOURS, HOURS // 24
    z = np.empty(days + 1)
    z[0] = rng.standard_normal()  # the stationary start
    shocks = rng.standard_normal(days) * np.sqrt(1.0 - DAY_TO_DAY_CORRELATION**2)
    for j in range(days):
        z[j + 1] = DAY_TO_DAY_CORRELATION * z[j] + shocks[j]
    j = np.arange(days)
    z = z[:days] - (z[days] - z[0]) * j / days  # 31 December runs on into 1 January
    sigma = SIGMA_MEAN_K + SIGMA_AMPLITUDE_K * np.cos(2 * np.pi * (j + 0.5 - SIGMA_PEAK_DAY) / 365)
    noon = 12.0 + 24.0 * j  # the day's anomaly sits at its noon; a periodic cubic spline between noons
    spline = CubicSpline(np.append(noon, noon[0] + n), np.append(sigma * z, sigma[0] * z[0]), bc_type="periodic")
    hour = np.arange(n)
    synoptic = spline(np.mod(hour + 0.5 - noon[0], n) + noon[0])
    day = hour // 24 + 0.5
    dtr = DTR_MEAN_K + DTR_AMPLITUDE_K * np.cos(2 * np.pi * (day - DTR_PEAK_DAY) / 365)
    w, h = 2 * np.pi / 24, hour % 24
    diurnal = dtr / 2 * (np.sin(w * (h + 1 - 15)) - np.sin(w * (h - 15))) / w  # hour means of the cosine
    variable = synoptic + diurnal
    months = _month_of_hour()
    target = np.asarray(month_means_c, float) - np.array([variable[months == m].mean() for m in range(12)])
    return smoothest_course(target, months) + variable


def write_bundled_file(path=None) -> Path:
    """(Re)write the default site's bundled file from :func:`synthesize_year`, in °C to 0.01 K, with a header
    saying what it is (``python -m gigawatt.cases.weather``)."""
    path = Path(path or BUNDLED_DIR / SITES["default"].file)
    t = synthesize_year()
    time = pd.date_range("2001-01-01", periods=HOURS, freq="h").strftime("%Y-%m-%dT%H:%M")
    site = SITES["default"]
    head = ["# Bundled weather year of gigawatt's default site: " + site.description + ".",
            "# Source: " + site.source + ".",
            "# " + site.assumption + ".",
            "# Hour means from each time stamp to the next; a 365-day reference year (the dates are labels).",
            "time,outdoor_t_c"]
    body = [f"{s},{v:.2f}" for s, v in zip(time, np.round(t, 2) + 0.0)]
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return path


# --- the bundled year along any time axis --------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _hourly_year_c(site: str) -> np.ndarray:
    """The site's 8760 hour means [°C], read (and checked) once from its bundled file; read-only."""
    from gigawatt.cases.series_file import read_timeseries

    ds = read_timeseries(BUNDLED_DIR / SITES[site].file, periods=HOURS, step="1h", columns=["outdoor_t_k"])
    values = ds.outdoor_t_k.values - ZERO_CELSIUS_K
    values.setflags(write=False)
    return values


def _site(site: str) -> Site:
    try:
        return SITES[site]
    except (KeyError, TypeError):
        raise CaseError("unknown bundled weather site", field="site", value=site,
                        allowed=", ".join(SITES)) from None


def bundled_weather(start="2025-01-01", periods: int = 8760, step="1h", site: str = "default") -> xr.Dataset:
    """The bundled weather year of ``site`` along a time axis: ``outdoor_t_k`` [K], each value the exact mean
    of the hourly year over its step.

    Parameters
    ----------
    start : str or pandas.Timestamp
        First time stamp (local time); the year runs from 1 January 00:00 of its year and repeats every 365 d.
    periods : int
        Number of steps (8760 for an hourly year), >= 1.
    step : str or pandas.Timedelta
        Step, a whole number of seconds, at least 1 s (``"1h"``, ``"15min"``, ``"1d"``).
    site : str
        A key of :data:`SITES` (``"default"``: the Danish town of the default case).

    Returns
    -------
    xarray.Dataset
        ``outdoor_t_k`` along ``time`` (attributes ``units``, ``long_name``, ``site``, ``source``,
        ``assumption``); dataset attribute ``step_s`` [s].

    Raises
    ------
    CaseError
        Unknown site (a ``ValueError``).
    ValueError
        A step that is not a whole number of seconds of at least 1 s, or ``periods`` < 1.

    Examples
    --------
    >>> ds = bundled_weather("2025-01-01", periods=24 * 365, step="1d")   # daily means
    >>> round(float(ds.outdoor_t_k.mean()) - 273.15, 2)                 # the year's mean, °C
    8.86
    """
    info = _site(site)
    if int(periods) < 1:
        raise ValueError(f"periods must be at least 1 (got {periods!r})")
    time, _, dt = _grid(start, int(periods), step)
    if time.tz is not None:  # as read_timeseries does: to UTC, then without the offset
        time = time.tz_convert("UTC").tz_localize(None)
    year = _hourly_year_c(site)
    cum = np.concatenate([[0.0], np.cumsum(year) * 3600.0])  # integral from 1 January 00:00 [°C s]
    span = HOURS * 3600.0
    origin = pd.Timestamp(year=time[0].year, month=1, day=1)
    t = (time - origin).total_seconds().to_numpy()
    t0 = np.mod(t, span)
    edges = np.arange(HOURS + 1) * 3600.0

    def integral(x):  # of the periodic staircase from 0 to x >= 0 [°C s]
        return np.floor(x / span) * cum[-1] + np.interp(np.mod(x, span), edges, cum)

    mean_c = (integral(t0 + dt) - integral(t0)) / dt
    f = schema()["timeseries"]["outdoor_t_k"]
    attrs = {"units": "K", "long_name": f.description, "site": site, "description": info.description,
             "source": info.source, "assumption": info.assumption}
    return xr.Dataset({"outdoor_t_k": ("time", mean_c + ZERO_CELSIUS_K, attrs)}, coords={"time": time},
                      attrs={"step_s": float(dt)})


def write_bundled_weather(path, start="2025-01-01", periods: int = 8760, step="1h", site: str = "default",
                          spellings: dict | None = None) -> Path:
    """Write the bundled year (see :func:`bundled_weather`) as a time-series CSV to edit and use as a case's
    own weather; in °C unless ``spellings`` says otherwise (``{"outdoor_t_k": "outdoor_t_k"}`` for kelvin)."""
    from gigawatt.cases.series_file import write_timeseries

    ds = bundled_weather(start, periods, step, site)
    return write_timeseries(ds, path, spellings=spellings or {"outdoor_t_k": "outdoor_t_c"})


def outdoor_temperature(weather: str, *, start, periods: int, step, base_dir=None, file=None,
                        site: str = "default") -> xr.Dataset:
    """The outdoor temperature a case's ``weather`` field names, along its time axis: ``"bundled"`` (the
    bundled year of ``site``) or a CSV file (relative to ``base_dir``, the case file's folder) with an
    ``outdoor_t_k`` column in any spelling (``outdoor_t_c``), checked to start at ``start`` with ``periods``
    rows of ``step``. Returns a dataset with ``outdoor_t_k`` [K] along ``time``. Errors name ``file`` (the
    case file) and the field ``weather``."""
    from gigawatt.cases.series_file import read_timeseries

    if not isinstance(weather, str) or not weather.strip():
        raise CaseError("expected 'bundled' or the name of a CSV file", file=file, field="weather", value=weather)
    if weather.strip() == "bundled":
        return bundled_weather(start, periods, step, site)
    path = Path(weather)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise CaseError("weather file not found", file=file, field="weather", value=weather,
                        allowed="'bundled' or an existing CSV file (relative to the case file)")
    ds = read_timeseries(path, start=start, periods=periods, step=step, columns=["outdoor_t_k"])
    return ds[["outdoor_t_k"]]


def heating_degree_days(outdoor_t_k, time, base_c: float = 17.0) -> float:
    """Heating degree-days [K·d]: the sum over calendar days of ``max(0, base − daily mean)``, the Danish
    definition (base 17 °C, "graddage"). ``outdoor_t_k`` [K] step means along ``time`` (a regular axis whose
    days are complete)."""
    s = pd.Series(np.asarray(outdoor_t_k, float) - ZERO_CELSIUS_K, index=pd.DatetimeIndex(time))
    daily = s.groupby(s.index.normalize()).mean()
    return float(np.clip(base_c - daily.to_numpy(), 0.0, None).sum())


if __name__ == "__main__":  # pragma: no cover - regenerate the bundled file
    print(write_bundled_file())
