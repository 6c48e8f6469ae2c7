"""Heat demand of district-heating consumers from the outdoor temperature.

Chosen by name through :data:`CONSUMER_MODELS` (never a chain of string comparisons); every model takes
an array of outdoor temperatures [K] and keyword parameters, and returns the heat demand [W] at the
consumer (its substation), same shape:

``"homes_degree_days"``
    Design heat load at a design outdoor temperature, linear in the degree difference below a heating
    limit, plus a constant hot-water share (:func:`homes_degree_days_w`).
``"homes_siglinde"``
    The BDEW SigLinDe daily-factor formula with per-building-type coefficients (:func:`homes_siglinde_w`).
``"vertical_farm"``
    Steady envelope loss minus LED heat gains, floored at zero (:func:`vertical_farm_w`).

Pure numpy; invalid parameters raise :class:`gigawatt.errors.CaseError` naming the field, the value and
the allowed range.

References
----------
.. [1] IBPSA Project 1, DESTEST (District Energy Simulation Test), common exercise CE_1,
   https://github.com/ibpsa/project1-destest (D. Saelens et al., "Towards a DESTEST: a District Energy
   Simulation Test developed in IBPSA Project 1", Proc. Building Simulation 2019, Rome): single-family
   house peak heat load 19.35 kW, the test network's design value.
.. [2] BDEW/VKU/GEODE, "Leitfaden Abwicklung von Standardlastprofilen Gas" (2025): SigLinDe profiles,
   h(theta) = A/(1 + (B/(theta - theta0))^C) + D + max(mH theta + bH, mW theta + bW), theta0 = 40 degC
   (the formula checked in the guideline).
.. [3] demandlib 0.2.2 (oemof), ``demandlib/bdew/bdew_data/shlp_sigmoid_factors.csv``: sigmoid coefficients
   A, B, C, D per BDEW building type, building class and wind class; demandlib implements the sigmoid
   part of [2]_ only (no linear terms).
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.input_checks import from_registry, in_range, positive_temperature

ZERO_CELSIUS_K = 273.15
"""0 degC in kelvin [K]."""

DESTEST_PEAK_LOAD_W = 19.35e3
"""Design (peak) heat load of one single-family house [W]: IBPSA Project 1 DESTEST [1]_."""

DEFAULT_HEATING_LIMIT_K = 288.15
"""Heating limit (balance-point) temperature [K], 15 degC: above it the house needs no space heating."""

SIGLINDE_THETA0_C = 40.0
"""theta0 of the SigLinDe formula [degC] [2]_."""

SIGLINDE_EFH_CLASS1_WIND0 = {"a": 3.0890721, "b": -37.1849497, "c": 5.7137959, "d": 0.1071295,
                             "m_h": 0.0, "b_h": 0.0, "m_w": 0.0, "b_w": 0.0}
"""Example SigLinDe coefficients [-] (B in degC): BDEW type EFH (single-family house), building class 1,
not windy, as tabulated by demandlib 0.2.2 [3]_ (row ``11`` of ``shlp_sigmoid_factors.csv``). That table
holds the sigmoid part only, so the linear coefficients mH, bH, mW, bW are zero here: not sourced, not
invented. Users with the BDEW guideline's full coefficient sets pass all eight."""


def homes_degree_days_w(t_out_k, t_design_k, n_homes=1.0, design_load_w=DESTEST_PEAK_LOAD_W,
                        t_heating_limit_k=DEFAULT_HEATING_LIMIT_K, hot_water_share=0.0):
    r"""Heat demand of homes linear in the degree difference below a heating limit, plus hot water.

    .. math::

        \dot Q = n\,\dot Q_\mathrm{design}\left[s_\mathrm{hw} + (1 - s_\mathrm{hw})
        \frac{\max(0,\, T_\mathrm{lim} - T_\mathrm{out})}{T_\mathrm{lim} - T_\mathrm{design}}\right]

    The space-heating part is the steady balance :math:`UA(T_\mathrm{in} - T_\mathrm{out}) - \dot Q_\mathrm{gains}
    = UA(T_\mathrm{lim} - T_\mathrm{out})`, the heating limit being the balance-point temperature at which
    internal and solar gains cover the loss; it is scaled so that the total equals the design load at the
    design outdoor temperature. Hot water is a constant share of the design load.

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperature [K] (daily mean for daily loads, or the hour's for hourly), > 0.
    t_design_k : float
        Design outdoor temperature [K] (e.g. from EN 12831 for the site), below ``t_heating_limit_k``.
    n_homes : float
        Number of homes [-], >= 0 (a fraction allowed: homes-equivalent).
    design_load_w : float
        Design heat load of one home, space heating plus hot water [W], > 0. Default 19.35 kW, the
        DESTEST single-family house [1]_.
    t_heating_limit_k : float
        Heating limit temperature [K], > 0. Default 288.15 K (15 degC).
    hot_water_share : float
        Share of the design load that is hot water, demanded at every outdoor temperature [-], in [0, 1).
        Default 0 (space heating only; no sourced figure).

    Returns
    -------
    numpy.ndarray
        Heat demand [W], >= 0, non-increasing in the outdoor temperature; above the design load when
        colder than the design temperature (the model extrapolates linearly there).

    Notes
    -----
    Validity: buildings whose heat loss is dominated by transmission and ventilation at a fixed indoor
    set-point; ignores thermal mass (use daily means) and solar-gain variation.
    """
    t = positive_temperature("t_out_k", t_out_k)
    n = in_range("n_homes", n_homes, 0.0, np.inf, ">= 0, finite", hi_open=True)
    q_d = in_range("design_load_w", design_load_w, 0.0, np.inf, "> 0 W, finite", lo_open=True, hi_open=True)
    t_lim = in_range("t_heating_limit_k", t_heating_limit_k, 0.0, np.inf, "> 0 K, finite", lo_open=True,
                    hi_open=True)
    t_d = in_range("t_design_k", t_design_k, 0.0, t_lim, f"(0, {t_lim}) K (below t_heating_limit_k)",
                  lo_open=True, hi_open=True)
    s_hw = in_range("hot_water_share", hot_water_share, 0.0, 1.0, "[0, 1)", hi_open=True)
    space = (1.0 - s_hw) * np.maximum(0.0, t_lim - t) / (t_lim - t_d)
    return n * q_d * (s_hw + space)


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


def vertical_farm_w(t_out_k, floor_area_m2, t_set_k, u_envelope_w_per_m2k, led_power_w_per_m2,
                    led_heat_fraction=1.0):
    r"""Steady heat demand of a vertical farm: envelope loss minus LED heat, never negative [W].

    .. math::

        \dot Q = \max\!\left(0,\; U A_\mathrm{floor} (T_\mathrm{set} - T_\mathrm{out})
        - f_\mathrm{heat}\, p_\mathrm{LED} A_\mathrm{floor}\right)

    Parameters
    ----------
    t_out_k : array_like
        Outdoor temperature [K], > 0.
    floor_area_m2 : float
        Growing floor area [m2], > 0.
    t_set_k : float
        Indoor set-point temperature [K], > 0.
    u_envelope_w_per_m2k : float
        Envelope heat-loss coefficient per floor area (transmission and ventilation) [W/(m2 K)], >= 0.
    led_power_w_per_m2 : float
        LED electric power per floor area while lit [W/m2], >= 0.
    led_heat_fraction : float
        Share of the LED power that ends as sensible heat in the room [-], in [0, 1]. Default 1: in an
        opaque envelope all electric power ends as heat inside (first law) except what photosynthesis
        stores and what transpiration carries off as latent heat; lower it for those.

    Returns
    -------
    numpy.ndarray
        Heat demand [W], >= 0, non-increasing in the outdoor temperature. Zero means the farm is
        cooling-dominated at that temperature (assumption: lit vertical farms are often cooling-dominated
        by their LED lighting; not checked against a primary source).

    Notes
    -----
    Validity: steady state, a lit period (for dark periods pass ``led_power_w_per_m2=0``), no solar gain
    (opaque building), constant U. No sourced default for U or LED power density: both are inputs.
    """
    t = positive_temperature("t_out_k", t_out_k)
    area = in_range("floor_area_m2", floor_area_m2, 0.0, np.inf, "> 0 m2, finite", lo_open=True, hi_open=True)
    t_set = in_range("t_set_k", t_set_k, 0.0, np.inf, "> 0 K, finite", lo_open=True, hi_open=True)
    u = in_range("u_envelope_w_per_m2k", u_envelope_w_per_m2k, 0.0, np.inf, ">= 0 W/(m2 K), finite", hi_open=True)
    p_led = in_range("led_power_w_per_m2", led_power_w_per_m2, 0.0, np.inf, ">= 0 W/m2, finite", hi_open=True)
    f = in_range("led_heat_fraction", led_heat_fraction, 0.0, 1.0, "[0, 1]")
    return np.maximum(0.0, u * area * (t_set - t) - f * p_led * area)


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
