"""Heat demand of district-heating consumers from the outdoor temperature and the time of day.

Chosen by name through :data:`CONSUMER_MODELS` (never a chain of string comparisons); every model takes
an array of outdoor temperatures [K] and keyword parameters, and returns the heat demand [W] at the
consumer (its substation), same shape:

``"homes_degree_days"``
    Space heating linear in the degree difference below a heating limit, plus domestic hot water (DHW) as a
    year-round base load with its own daily profile (:func:`homes_degree_days_w`). Its parameters follow
    from a building type's published annual heat use (:data:`BUILDING_TYPES`, :func:`home_heat_parameters`)
    by the degree-day method, so that the design load and the annual energy agree with each other.
``"homes_siglinde"``
    The BDEW SigLinDe daily-factor formula with per-building-type coefficients (:func:`homes_siglinde_w`).
``"vertical_farm"``
    Envelope and ventilation loss minus the LED heat while the lights are on, floored at zero: the heat a
    farm takes; its balance (:func:`vertical_farm_balance_w`) is negative when it needs cooling
    (:func:`vertical_farm_w`). An ILLUSTRATIVE model: no published figure anchors a farm's annual heat.

Pure numpy; invalid parameters raise :class:`gigawatt.errors.CaseError` naming the field, the value and
the allowed range.

References
----------
.. [1] IBPSA Project 1, DESTEST (District Energy Simulation Test), common exercise CE_1,
   https://github.com/ibpsa/project1-destest (D. Saelens et al., "Towards a DESTEST: a District Energy
   Simulation Test developed in IBPSA Project 1", Proc. Building Simulation 2019, Rome): single-family
   house peak heat load 19.35 kW (a test network's design value, kept as :data:`DESTEST_PEAK_LOAD_W`;
   about three times the annual heat of a Danish home when used as a design load with a 15 degC
   heating limit).
.. [2] BDEW/VKU/GEODE, "Leitfaden Abwicklung von Standardlastprofilen Gas" (2025): SigLinDe profiles,
   h(theta) = A/(1 + (B/(theta - theta0))^C) + D + max(mH theta + bH, mW theta + bW), theta0 = 40 degC
   (the formula checked in the guideline).
.. [3] demandlib 0.2.2 (oemof), ``demandlib/bdew/bdew_data/shlp_sigmoid_factors.csv``: sigmoid coefficients
   A, B, C, D per BDEW building type, building class and wind class; demandlib implements the sigmoid
   part of [2]_ only (no linear terms).
.. [4] Forsyningstilsynet (Danish Utility Regulator), district-heating price statistics
   (forsyningstilsynet.dk/analyser-og-tal/forbrugerpriser/fjernvarmepriser/): until 2024 a standard house
   of 130 m2 using 18.1 MWh a year and a flat of 75 m2 using 15 MWh. Updated by Energistyrelsen (Danish
   Energy Agency) from 2025: a standard house of 125 m2 with an annual use of 14 MWh and a standard flat
   of 80 m2 with 7.8 MWh (Dansk Fjernvarme's heat-price statistics of 1 January 2025, as reported by
   installator.dk, "Opdatering af 'standardhus' gør fjernvarme mere attraktiv", and hvacfokus.dk, 26 May
   2025, "Opdatering af begrebet Standardhus ...").
.. [5] Meta, Odense data centre: 100,000 MWh a year of heat to Fjernvarme Fyn's network, for about 6,900
   homes at first (Meta engineering blog 2018/2020; Danish Board of District Heating): 14.5 MWh per home.
.. [6] Ørsted, "Sammenligning af varmeforbrug" (privat.orsted.dk/kundeservice/forbrug/gennemsnitsforbrug/
   varmeforbrug/): district heat for domestic hot water averages 850 kWh a year per person.
.. [7] Commission Delegated Regulation (EU) No 812/2013, Annex VII, Table 3, load profile "M": 23 draw-offs
   a day, reference energy 5.845 kWh a day (the tapping cycles of EN 16147 and EN 13203-2).
.. [8] DS 418, "Beregning af bygningers varmetab" (Danish Standards): design outdoor temperature -12 degC.
.. [9] Danish heating degree-days ("graddage"): base 17 degC on daily means; normal year by month 468 421
   421 307 180 69 40 40 111 214 328 410 = 3009 K d (district-heating utilities' table, e.g.
   auningfjernvarme.dk "Graddage"; its period not stated).
.. [10] P. Kusuma, P. M. Pattison, B. Bugbee, "From physics to fixtures to food: current and potential LED
   efficacy", Horticulture Research 7, 56 (2020), doi:10.1038/s41438-020-0283-7: fixture efficacy limits
   3.4 umol/J (white + red) and 4.1 umol/J (blue + red) with current LEDs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.input_checks import from_registry, in_range, positive_temperature

ZERO_CELSIUS_K = 273.15
"""0 degC in kelvin [K]."""
HOUR_S = 3600.0
DAY_S = 86400.0
YEAR_S = 365.0 * DAY_S
"""A 365-day year [s] (the bundled weather year's length)."""
MWH_J = 3.6e9

DESTEST_PEAK_LOAD_W = 19.35e3
"""Design (peak) heat load of one single-family house [W]: IBPSA Project 1 DESTEST [1]_ (a test network's
value; not a default here)."""

DESIGN_OUTDOOR_T_DK_K = 261.15
"""Design outdoor temperature of Denmark, -12 degC [K] (DS 418 [8]_)."""

DEFAULT_HEATING_LIMIT_K = 290.15
"""Heating limit (balance-point) temperature [K], 17 degC: the base of the Danish heating degree-days [9]_,
so that the degree-day method ties a home's annual space heat to its design load exactly."""

DANISH_NORMAL_YEAR_HDD = (468, 421, 421, 307, 180, 69, 40, 40, 111, 214, 328, 410)
"""Danish normal-year heating degree-days by month, base 17 degC [K d] [9]_ (3009 in all)."""
DANISH_NORMAL_YEAR_DEGREE_DAYS_K_D = float(sum(DANISH_NORMAL_YEAR_HDD))
"""Heating degree-days of the Danish normal year, base 17 degC [K d]: 3009."""

DHW_PER_PERSON_J = 850.0 * 3.6e6
"""District heat for domestic hot water per person and year [J]: 850 kWh (Ørsted [6]_)."""

TAPPING_CYCLE_M_KWH = (
    ("07:00", 0.105), ("07:05", 1.4), ("07:30", 0.105), ("08:01", 0.105), ("08:15", 0.105), ("08:30", 0.105),
    ("08:45", 0.105), ("09:00", 0.105), ("09:30", 0.105), ("10:30", 0.105), ("11:30", 0.105), ("11:45", 0.105),
    ("12:45", 0.315), ("14:30", 0.105), ("15:30", 0.105), ("16:30", 0.105), ("18:00", 0.105), ("18:15", 0.105),
    ("18:30", 0.105), ("19:00", 0.105), ("20:30", 0.735), ("21:15", 0.105), ("21:30", 1.4))
"""Draw-offs of the load profile M [7]_: start time (local) and useful energy Q_tap [kWh]; 5.845 kWh a day."""


def _hourly_shares(draws) -> np.ndarray:
    """Share of the day's energy drawn in each hour of the day [-] (24 values summing to 1)."""
    e = np.zeros(24)
    for hhmm, kwh in draws:
        e[int(hhmm[:2])] += kwh
    return e / e.sum()


DHW_PROFILES = {"tapping_cycle_m": _hourly_shares(TAPPING_CYCLE_M_KWH), "flat": np.full(24, 1.0 / 24.0)}
"""Daily shapes of the hot-water draw: the share of a day's DHW energy in each local hour [-].
``tapping_cycle_m``: the draw-offs of the EU load profile M [7]_ summed by hour (one household's test
sequence, applied to every home: a town's coincident peak is lower, so this overstates the hourly peaks,
not the energy); ``flat``: the same every hour. The same shape every day of the week (no weekly variation
is sourced)."""


@dataclass(frozen=True)
class BuildingType:
    """A kind of home and its annual heat use in a normal Danish year.

    Attributes
    ----------
    annual_heat_j : float
        Heat a home uses in a normal year, space heating and hot water [J].
    floor_area_m2 : float
        Heated floor area [m2].
    persons : float
        Occupants per home [-] (they set the hot water: :data:`DHW_PER_PERSON_J` each).
    basis : str
        Where the figures come from, printed with results; ASSUMPTION marks what no source gives.
    """

    annual_heat_j: float
    floor_area_m2: float
    persons: float
    basis: str

    @property
    def dhw_annual_j(self) -> float:
        """Hot water a year [J]: persons x 850 kWh [6]_."""
        return self.persons * DHW_PER_PERSON_J


BUILDING_TYPES = {
    "detached": BuildingType(14.0 * MWH_J, 125.0, 2.5,
                             "Energistyrelsen's standard house 2025: 125 m2, 14 MWh/yr [4]; 2.5 persons ASSUMPTION"),
    "terraced": BuildingType(14.0 * MWH_J * 100.0 / 125.0, 100.0, 2.2,
                             "ASSUMPTION: 100 m2 at the standard house's 112 kWh/m2 (terraced and detached houses use "
                             "about the same per m2, e.g. Vojens Fjernvarme 2016/17: 106 and 109 kWh/m2); 2.2 persons"),
    "flats": BuildingType(7.8 * MWH_J, 80.0, 1.7,
                          "Energistyrelsen's standard flat 2025: 80 m2, 7.8 MWh/yr [4]; 1.7 persons ASSUMPTION"),
}
"""Building types of homes by name: annual heat use in a normal year, floor area, occupants and the basis of
the figures (:class:`BuildingType`). The district-heating statistics' standard homes [4]_; Meta's Odense
figure of 14.5 MWh per home [5]_ is an independent check of the detached house."""


def dhw_profile_factor(hour_of_day, profile: str = "tapping_cycle_m") -> np.ndarray:
    r"""Hot-water draw in a local hour relative to the day's mean [-]: 24 x the hour's share of the day.

    .. math:: f(h) = 24\, s_{\lfloor h \rfloor}, \qquad \sum_{h=0}^{23} s_h = 1

    so that :math:`\int_0^{24\,h} \bar Q_\mathrm{DHW} f\, dt = \bar Q_\mathrm{DHW} \cdot 24\,h`, the day's energy.

    Parameters
    ----------
    hour_of_day : array_like
        Local time of day [h], in [0, 24) (a step takes the value of the hour it starts in).
    profile : str
        Name in :data:`DHW_PROFILES`.
    """
    shares = from_registry(DHW_PROFILES, profile, "hot-water profile")
    h = np.asarray(hour_of_day, dtype=float)
    if h.ndim == 0 and math.isfinite(v := float(h)) and 0.0 <= v < 24.0:  # a good scalar (a step's hour)
        return 24.0 * shares[math.floor(v)]
    bad = ~(np.isfinite(h) & (h >= 0.0) & (h < 24.0))
    if np.any(bad):
        raise CaseError("hour of the day out of range", field="hour_of_day",
                        value=float(np.atleast_1d(h)[np.atleast_1d(bad)][0]), allowed="[0, 24) h")
    return 24.0 * shares[np.floor(h).astype(int)]


def degree_hours_k_s(t_out_k, t_heating_limit_k=DEFAULT_HEATING_LIMIT_K, dt_s=HOUR_S) -> float:
    r"""Heating degree-time of a temperature series [K s]: :math:`\sum_i \max(0, T_\mathrm{lim} - T_i)\,\Delta t`.

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperatures [K], > 0, each the mean over a step of ``dt_s`` [s].
    """
    t = positive_temperature("t_out_k", t_out_k)
    return float(np.clip(t_heating_limit_k - t, 0.0, None).sum() * dt_s)


def home_heat_parameters(building_type: str = "detached", t_design_k=DESIGN_OUTDOOR_T_DK_K,
                         t_heating_limit_k=DEFAULT_HEATING_LIMIT_K, design_load_w=None, dhw_w=None,
                         dhw_profile: str = "tapping_cycle_m",
                         degree_days_k_d=DANISH_NORMAL_YEAR_DEGREE_DAYS_K_D) -> dict:
    r"""Parameters of :func:`homes_degree_days_w` for one home of a building type, by the degree-day method.

    The home's space heating is :math:`H\,\max(0, T_\mathrm{lim} - T)` with one heat-loss coefficient H
    [W/K] (transmission and ventilation less the gains, which set the heating limit). Over a normal year its
    energy is :math:`H \cdot DD \cdot 86400\,s` with DD the degree-days at base :math:`T_\mathrm{lim}`, so

    .. math::

        H = \frac{E_\mathrm{year} - E_\mathrm{DHW}}{DD \cdot 86400\,\mathrm{s}}, \qquad
        \dot Q_\mathrm{SH,design} = H\,(T_\mathrm{lim} - T_\mathrm{design}), \qquad
        \bar Q_\mathrm{DHW} = E_\mathrm{DHW} / (365 \cdot 86400\,\mathrm{s})

    and the design load is the model's largest demand at the design temperature, space heating plus the
    hot water of the profile's peak hour: :math:`\dot Q_\mathrm{design} = \dot Q_\mathrm{SH,design} +
    \bar Q_\mathrm{DHW} \max_h f(h)`.

    Parameters
    ----------
    building_type : str
        Name in :data:`BUILDING_TYPES`.
    t_design_k, t_heating_limit_k : float
        Design outdoor temperature and heating limit [K] (defaults -12 degC, DS 418 [8]_, and 17 degC, the
        Danish degree-day base [9]_).
    design_load_w : float, optional
        Space-heating design load of one home at ``t_design_k`` [W]: given, it replaces the type's (the
        annual energy then follows from it).
    dhw_w : float, optional
        Mean hot-water heat of one home over the year [W]: given, it replaces the type's.
    dhw_profile : str
        Name in :data:`DHW_PROFILES`.
    degree_days_k_d : float
        Degree-days of the normal year the type's annual figure refers to [K d], base ``t_heating_limit_k``
        (default 3009, the Danish normal year at base 17 degC [9]_).

    Returns
    -------
    dict
        ``space_design_w`` and ``dhw_w`` (the keywords of :func:`homes_degree_days_w` besides the
        temperatures), ``design_load_w`` (space heating + peak-hour hot water at the design temperature)
        [W], ``annual_heat_j`` and ``dhw_annual_j`` in the normal year [J], ``dhw_share`` [-].
    """
    bt = from_registry(BUILDING_TYPES, building_type, "building type")
    t_lim = in_range("t_heating_limit_k", t_heating_limit_k, 0.0, np.inf, "> 0 K, finite", lo_open=True,
                     hi_open=True)
    t_d = in_range("t_design_k", t_design_k, 0.0, t_lim, f"(0, {t_lim}) K (below t_heating_limit_k)",
                   lo_open=True, hi_open=True)
    dd = in_range("degree_days_k_d", degree_days_k_d, 0.0, np.inf, "> 0 K d, finite", lo_open=True, hi_open=True)
    dhw = bt.dhw_annual_j / YEAR_S if dhw_w is None else in_range("dhw_w", dhw_w, 0.0, np.inf, ">= 0 W, finite",
                                                                  hi_open=True)
    if design_load_w is None:
        space_j = bt.annual_heat_j - dhw * YEAR_S
        if not space_j > 0.0:
            raise CaseError("the hot water alone exceeds the building type's annual heat", field="dhw_w",
                            value=dhw, allowed=f"< {bt.annual_heat_j / YEAR_S:g} W ({building_type})")
        space_design = space_j / (dd * DAY_S) * (t_lim - t_d)
    else:
        space_design = in_range("design_load_w", design_load_w, 0.0, np.inf, "> 0 W, finite", lo_open=True,
                                hi_open=True)
    peak = float(np.max(dhw_profile_factor(np.arange(24.0), dhw_profile)))
    annual = space_design / (t_lim - t_d) * dd * DAY_S + dhw * YEAR_S
    return {"space_design_w": space_design, "dhw_w": dhw, "design_load_w": space_design + dhw * peak,
            "annual_heat_j": annual, "dhw_annual_j": dhw * YEAR_S, "dhw_share": dhw * YEAR_S / annual}


def homes_degree_days_w(t_out_k, t_design_k, n_homes=1.0, space_design_w=None,
                        t_heating_limit_k=DEFAULT_HEATING_LIMIT_K, dhw_w=0.0, hour_of_day=None,
                        dhw_profile="tapping_cycle_m"):
    r"""Heat demand of homes: space heating linear in the degree difference below a heating limit, plus hot water.

    .. math::

        \dot Q = n \left[\dot Q_\mathrm{SH,design}
        \frac{\max(0,\, T_\mathrm{lim} - T_\mathrm{out})}{T_\mathrm{lim} - T_\mathrm{design}}
        + \bar Q_\mathrm{DHW}\, f(h)\right]

    The space-heating part is the steady balance :math:`UA(T_\mathrm{in} - T_\mathrm{out}) - \dot Q_\mathrm{gains}
    = UA(T_\mathrm{lim} - T_\mathrm{out})`, the heating limit being the balance-point temperature at which
    internal and solar gains cover the loss. Hot water is a base load at every outdoor temperature, shaped
    over the day by :func:`dhw_profile_factor` (its daily mean is ``dhw_w``).

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperature [K] (daily mean for daily loads, or the hour's for hourly), > 0.
    t_design_k : float
        Design outdoor temperature [K] (DS 418: -12 degC in Denmark [8]_), below ``t_heating_limit_k``.
    n_homes : float
        Number of homes [-], >= 0 (a fraction allowed: homes-equivalent).
    space_design_w : float, optional
        Space-heating design load of one home at ``t_design_k`` [W], > 0. Default: the detached house of
        :data:`BUILDING_TYPES` (:func:`home_heat_parameters`).
    t_heating_limit_k : float
        Heating limit temperature [K], > 0. Default 290.15 K (17 degC, the Danish degree-day base [9]_).
    dhw_w : float
        Mean hot-water heat of one home over the day [W], >= 0. Default 0.
    hour_of_day : array_like, optional
        Local hour [h] in [0, 24), broadcast with ``t_out_k``; None: the day's mean hot water (f = 1).
    dhw_profile : str
        Name in :data:`DHW_PROFILES`.

    Returns
    -------
    numpy.ndarray
        Heat demand [W], >= 0, non-increasing in the outdoor temperature; the space heating above its design
        value when colder than the design temperature (the model extrapolates linearly there).

    Notes
    -----
    Validity: buildings whose heat loss is dominated by transmission and ventilation at a fixed indoor
    set-point; ignores thermal mass (use daily means for daily loads) and solar-gain variation.
    """
    t = positive_temperature("t_out_k", t_out_k)
    n = in_range("n_homes", n_homes, 0.0, np.inf, ">= 0, finite", hi_open=True)
    if space_design_w is None:
        space_design_w = home_heat_parameters(t_design_k=t_design_k, t_heating_limit_k=t_heating_limit_k)[
            "space_design_w"]
    q_d = in_range("space_design_w", space_design_w, 0.0, np.inf, "> 0 W, finite", lo_open=True, hi_open=True)
    t_lim = in_range("t_heating_limit_k", t_heating_limit_k, 0.0, np.inf, "> 0 K, finite", lo_open=True,
                     hi_open=True)
    t_d = in_range("t_design_k", t_design_k, 0.0, t_lim, f"(0, {t_lim}) K (below t_heating_limit_k)",
                   lo_open=True, hi_open=True)
    dhw = in_range("dhw_w", dhw_w, 0.0, np.inf, ">= 0 W, finite", hi_open=True)
    f = 1.0 if hour_of_day is None else dhw_profile_factor(hour_of_day, dhw_profile)
    return n * (q_d * np.maximum(0.0, t_lim - t) / (t_lim - t_d) + dhw * f)


def homes_heated_annual(q_reused_j, annual_heat_per_home_j, period_s=YEAR_S) -> float:
    r"""Homes heated, on an annual-energy basis [-]: the heat reused over a period, scaled to a year, divided
    by a home's annual heat.

    .. math:: N = \frac{Q_\mathrm{reused}\,(t_\mathrm{year} / t_\mathrm{period})}{E_\mathrm{home,year}}

    the way a data centre's operator counts homes (Meta, Odense: 100,000 MWh a year / 14.5 MWh per home
    = 6,900 homes [5]_). For a full year the scaling is 1; for one hour held for a year it is 8760.

    Parameters
    ----------
    q_reused_j : float
        Campus heat reused over the period [J], >= 0.
    annual_heat_per_home_j : float
        Heat one home uses in a year [J], > 0.
    period_s : float
        Length of the period [s], > 0 (default a 365-day year).
    """
    q = in_range("q_reused_j", q_reused_j, 0.0, np.inf, ">= 0 J, finite", hi_open=True)
    e = in_range("annual_heat_per_home_j", annual_heat_per_home_j, 0.0, np.inf, "> 0 J, finite", lo_open=True,
                 hi_open=True)
    t = in_range("period_s", period_s, 0.0, np.inf, "> 0 s, finite", lo_open=True, hi_open=True)
    return q * (YEAR_S / t) / e


SIGLINDE_THETA0_C = 40.0
"""theta0 of the SigLinDe formula [degC] [2]_."""

SIGLINDE_EFH_CLASS1_WIND0 = {"a": 3.0890721, "b": -37.1849497, "c": 5.7137959, "d": 0.1071295,
                             "m_h": 0.0, "b_h": 0.0, "m_w": 0.0, "b_w": 0.0}
"""Example SigLinDe coefficients [-] (B in degC): BDEW type EFH (single-family house), building class 1,
not windy, as tabulated by demandlib 0.2.2 [3]_ (row ``11`` of ``shlp_sigmoid_factors.csv``). That table
holds the sigmoid part only, so the linear coefficients mH, bH, mW, bW are zero here: not sourced, not
invented. Users with the BDEW guideline's full coefficient sets pass all eight."""


def siglinde_factor(theta_c, a, b, c, d, m_h=0.0, b_h=0.0, m_w=0.0, b_w=0.0):
    r"""SigLinDe daily heat-demand factor h [-] at the (weighted daily mean) outdoor temperature theta [degC].

    .. math::

        h(\theta) = \frac{A}{1 + \left(\frac{B}{\theta - \theta_0}\right)^C} + D
        + \max(m_H \theta + b_H,\; m_W \theta + b_W), \qquad \theta_0 = 40\,^\circ\mathrm{C}

    Parameters
    ----------
    theta_c : array_like
        Outdoor temperature [degC], < 40 (the sigmoid's pole is at theta0).
    a, b, c, d : float
        Sigmoid coefficients [-]; B [degC] < 0 (so B/(theta - theta0) > 0 below theta0), A > 0, C > 0,
        D >= 0.
    m_h, b_h, m_w, b_w : float
        Linear space-heating and hot-water coefficients [1/degC] and [-]; zero drops the linear part.

    Returns
    -------
    numpy.ndarray
        h [-], the day's demand relative to the customer value (BDEW "Kundenwert").

    Notes
    -----
    Source: BDEW/VKU/GEODE guideline [2]_ (formula checked in the guideline). With B < 0, C > 0 and
    m_h, m_w <= 0 (as in the BDEW tables), h decreases with theta.
    """
    theta = np.asarray(theta_c, dtype=float)
    a = in_range("a", a, 0.0, np.inf, "> 0, finite", lo_open=True, hi_open=True)
    b = in_range("b", b, -np.inf, 0.0, "< 0 degC, finite", lo_open=True, hi_open=True)
    c = in_range("c", c, 0.0, np.inf, "> 0, finite", lo_open=True, hi_open=True)
    d = in_range("d", d, 0.0, np.inf, ">= 0, finite", hi_open=True)
    lin = [in_range(k, v, -np.inf, np.inf, "finite", lo_open=True, hi_open=True)
           for k, v in (("m_h", m_h), ("b_h", b_h), ("m_w", m_w), ("b_w", b_w))]
    bad = ~(np.isfinite(theta) & (theta < SIGLINDE_THETA0_C))
    if np.any(bad):
        raise CaseError("outdoor temperature at or above the SigLinDe pole theta0 = 40 degC", field="t_out_k",
                        value=float(np.atleast_1d(theta)[np.atleast_1d(bad)][0]) + ZERO_CELSIUS_K,
                        allowed=f"< {SIGLINDE_THETA0_C + ZERO_CELSIUS_K} K, finite")
    sigmoid = a / (1.0 + (b / (theta - SIGLINDE_THETA0_C)) ** c) + d
    return sigmoid + np.maximum(lin[0] * theta + lin[1], lin[2] * theta + lin[3])


def homes_siglinde_w(t_out_k, customer_value_w, a, b, c, d, m_h=0.0, b_h=0.0, m_w=0.0, b_w=0.0, n_homes=1.0):
    r"""Heat demand of homes from the BDEW SigLinDe formula [W].

    .. math:: \dot Q = n\, \overline{\dot Q}_\mathrm{KW}\, h(\theta), \qquad \theta = T_\mathrm{out} - 273.15

    with h from :func:`siglinde_factor` and the customer value :math:`\overline{\dot Q}_\mathrm{KW}` the
    mean heat load on a day with h = 1 (BDEW "Kundenwert" in kWh/d divided by 24 h, in W). The customer
    value follows from a known annual demand as annual energy / (sum over the year's days of h * 86400 s)
    (the guideline also applies weekday factors, which are left to the caller).

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperature [K] (BDEW: the weighted mean of the day and the three days before), < 313.15.
    customer_value_w : float
        Mean heat load of one home at h = 1 [W], > 0.
    a, b, c, d, m_h, b_h, m_w, b_w : float
        SigLinDe coefficients of the building type (see :func:`siglinde_factor`); an example set is
        :data:`SIGLINDE_EFH_CLASS1_WIND0`.
    n_homes : float
        Number of homes [-], >= 0.

    Returns
    -------
    numpy.ndarray
        Daily mean heat demand [W].
    """
    t = positive_temperature("t_out_k", t_out_k)
    q_kw = in_range("customer_value_w", customer_value_w, 0.0, np.inf, "> 0 W, finite", lo_open=True, hi_open=True)
    n = in_range("n_homes", n_homes, 0.0, np.inf, ">= 0, finite", hi_open=True)
    return n * q_kw * siglinde_factor(t - ZERO_CELSIUS_K, a, b, c, d, m_h, b_h, m_w, b_w)


AIR_RHO_CP_J_PER_M3K = 1.2 * 1006.0
"""Volumetric heat capacity of indoor air [J/(m3 K)]: density 1.2 kg/m3 (20 degC, sea level) x c_p 1006 J/(kg K)."""

FARM_ASSUMPTIONS = {"ppfd_umol_per_m2_s": 250.0, "led_efficacy_umol_per_j": 2.7, "tiers": 4.0,
                    "photoperiod_h": 16.0, "lights_on_h": 6.0, "u_envelope_w_per_m2k": 0.5,
                    "air_changes_per_h": 0.5, "room_height_m": 4.0, "t_set_k": 295.15}
"""The vertical farm's default inputs, every one an ILLUSTRATIVE ASSUMPTION (no published farm anchors its
annual heat): photosynthetic photon flux density at the canopy 250 umol/(m2 s) (leafy greens); LED
fixtures of 2.7 umol/J (below the 3.4 umol/J limit of white + red fixtures [10]_); 4 growing tiers per m2
of floor; lights on 16 h a day from 06:00; envelope 0.5 W/(m2 K) per m2 of floor; 0.5 air changes an hour
of a 4 m high room; 22 degC inside."""

FARM_MODEL_BASIS = ("illustrative assumption: no published figure anchors a vertical farm's annual heat; "
                    "lit, a farm is cooling-dominated and takes heat only while its balance (envelope and "
                    "ventilation loss less LED heat) is positive")
"""What the farm model is, printed with every result that counts farms."""


def led_power_density_w_per_m2(ppfd_umol_per_m2_s, led_efficacy_umol_per_j, tiers=1.0) -> float:
    r"""LED electric power per m2 of farm floor while lit [W/m2].

    .. math:: p_\mathrm{LED} = n_\mathrm{tiers}\, \mathrm{PPFD} / \eta_\mathrm{photon}

    Parameters
    ----------
    ppfd_umol_per_m2_s : float
        Photosynthetic photon flux density at the canopy [umol/(m2 s)], >= 0.
    led_efficacy_umol_per_j : float
        Photon efficacy of the fixtures [umol/J], > 0 (about 2.5-3 for current fixtures; limits 3.4 and 4.1
        [10]_).
    tiers : float
        Growing area per m2 of floor [-], > 0 (stacked tiers).
    """
    ppfd = in_range("ppfd_umol_per_m2_s", ppfd_umol_per_m2_s, 0.0, 5000.0, "[0, 5000] umol/(m2 s)")
    eta = in_range("led_efficacy_umol_per_j", led_efficacy_umol_per_j, 0.0, 10.0, "(0, 10] umol/J", lo_open=True)
    n = in_range("tiers", tiers, 0.0, 100.0, "(0, 100]", lo_open=True)
    return n * ppfd / eta


def ventilation_w_per_m2k(air_changes_per_h, room_height_m) -> float:
    r"""Ventilation heat-loss coefficient per m2 of floor [W/(m2 K)]: :math:`\rho c_p\, n\, h / 3600\,s`.

    Parameters
    ----------
    air_changes_per_h : float
        Outdoor air changes per hour [1/h], >= 0.
    room_height_m : float
        Room height [m], > 0.
    """
    n = in_range("air_changes_per_h", air_changes_per_h, 0.0, 100.0, "[0, 100] 1/h")
    h = in_range("room_height_m", room_height_m, 0.0, 100.0, "(0, 100] m", lo_open=True)
    return AIR_RHO_CP_J_PER_M3K * n * h / HOUR_S


def lights_on_fraction(hour_of_day, lights_on_h=6.0, photoperiod_h=16.0) -> np.ndarray:
    """1 in the hours the farm's lights are on, else 0 [-]: lit from ``lights_on_h`` for ``photoperiod_h``
    hours, wrapping past midnight; ``hour_of_day`` [h] in [0, 24) (a step takes its starting hour's state)."""
    h = np.asarray(hour_of_day, dtype=float)
    on = in_range("lights_on_h", lights_on_h, 0.0, 24.0, "[0, 24) h", hi_open=True)
    period = in_range("photoperiod_h", photoperiod_h, 0.0, 24.0, "[0, 24] h")
    return (np.mod(np.floor(h) - on, 24.0) < period).astype(float)


def vertical_farm_balance_w(t_out_k, floor_area_m2, t_set_k, u_envelope_w_per_m2k, led_power_w_per_m2,
                            led_heat_fraction=1.0, ventilation_w_per_m2k=0.0, lit=1.0):
    r"""Heat balance of a vertical farm [W]: positive, it needs heating; negative, cooling.

    .. math::

        B = (U + H_v) A_\mathrm{floor} (T_\mathrm{set} - T_\mathrm{out})
        - f_\mathrm{heat}\, p_\mathrm{LED}\, \lambda\, A_\mathrm{floor}

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperature [K], > 0.
    floor_area_m2 : float
        Floor area of the growing rooms [m2], > 0.
    t_set_k : float
        Indoor set-point temperature [K], > 0.
    u_envelope_w_per_m2k : float
        Transmission heat-loss coefficient of the envelope per m2 of floor [W/(m2 K)], >= 0.
    led_power_w_per_m2 : float
        LED electric power per m2 of floor while lit [W/m2], >= 0 (:func:`led_power_density_w_per_m2`).
    led_heat_fraction : float
        Share of the LED power that ends as sensible heat in the room [-], in [0, 1]. Default 1: in an
        opaque envelope all electric power ends as heat inside (first law) except what photosynthesis
        stores and what transpiration carries off as latent heat; lower it for those.
    ventilation_w_per_m2k : float
        Ventilation heat-loss coefficient per m2 of floor [W/(m2 K)], >= 0 (:func:`ventilation_w_per_m2k`).
    lit : array_like
        Share of the step the lights are on [-], in [0, 1] (:func:`lights_on_fraction`); broadcast.

    Notes
    -----
    Validity: steady state (no thermal mass), no solar gain (opaque building), constant U, sensible heat
    only. An ILLUSTRATIVE model (:data:`FARM_MODEL_BASIS`).
    """
    t = positive_temperature("t_out_k", t_out_k)
    area = in_range("floor_area_m2", floor_area_m2, 0.0, np.inf, "> 0 m2, finite", lo_open=True, hi_open=True)
    t_set = in_range("t_set_k", t_set_k, 0.0, np.inf, "> 0 K, finite", lo_open=True, hi_open=True)
    u = in_range("u_envelope_w_per_m2k", u_envelope_w_per_m2k, 0.0, np.inf, ">= 0 W/(m2 K), finite", hi_open=True)
    hv = in_range("ventilation_w_per_m2k", ventilation_w_per_m2k, 0.0, np.inf, ">= 0 W/(m2 K), finite",
                  hi_open=True)
    p_led = in_range("led_power_w_per_m2", led_power_w_per_m2, 0.0, np.inf, ">= 0 W/m2, finite", hi_open=True)
    f = in_range("led_heat_fraction", led_heat_fraction, 0.0, 1.0, "[0, 1]")
    lit = np.asarray(lit, dtype=float)
    if not (0.0 <= float(lit) <= 1.0 if lit.ndim == 0 else np.all((lit >= 0.0) & (lit <= 1.0))):
        raise CaseError("share of the step lit out of range", field="lit", value=float(np.min(lit)), allowed="[0, 1]")
    return (u + hv) * area * (t_set - t) - f * p_led * lit * area


def vertical_farm_w(t_out_k, floor_area_m2, t_set_k, u_envelope_w_per_m2k, led_power_w_per_m2,
                    led_heat_fraction=1.0, ventilation_w_per_m2k=0.0, lit=1.0):
    r"""Heat a vertical farm takes from the network [W]: its balance where positive, else zero.

    .. math:: \dot Q = \max(0, B)

    with B from :func:`vertical_farm_balance_w` (same parameters). Zero means the farm needs no heat at that
    temperature and lighting: with the lights on, a farm is cooling-dominated (its LED heat exceeds the
    envelope and ventilation loss in any Danish weather at the default assumptions); it takes heat only in
    its dark hours when it is cold enough. The cooling it then needs is not modelled (it could be a heat
    source for the network). An ILLUSTRATIVE model (:data:`FARM_MODEL_BASIS`).

    Returns
    -------
    numpy.ndarray
        Heat demand [W], >= 0, non-increasing in the outdoor temperature.
    """
    return np.maximum(0.0, vertical_farm_balance_w(t_out_k, floor_area_m2, t_set_k, u_envelope_w_per_m2k,
                                                   led_power_w_per_m2, led_heat_fraction, ventilation_w_per_m2k,
                                                   lit))


CONSUMER_MODELS = {"homes_degree_days": homes_degree_days_w, "homes_siglinde": homes_siglinde_w,
                   "vertical_farm": vertical_farm_w}
"""Registry of consumer heat-demand models by name; each takes ``(t_out_k, **parameters)`` and returns [W]."""


def consumer_heat_demand_w(kind, t_out_k, **parameters):
    """Heat demand [W] from the consumer model named ``kind`` in :data:`CONSUMER_MODELS`.

    Raises
    ------
    CaseError
        ``kind`` not in the registry (field ``kind``), or the model's own parameter errors.
    """
    return from_registry(CONSUMER_MODELS, kind, "consumer model")(t_out_k, **parameters)
