"""Cooling-plant components: facility-water classes, coolant distribution units, pumps on speed control,
dry coolers (fan speed on the fan laws, against outdoor temperature and load) and air handlers. Pure functions, SI units; the scalar kernels are ``numba.njit(cache=True)``
(with ``NUMBA_DISABLE_JIT=1`` the same code runs as Python).

References
----------
.. [1] ASHRAE TC 9.9, Liquid Cooling Guidelines for Datacom Equipment Centers, 2nd ed. (2014) and the
   2021 class naming W17 ... W45, W+ (the number is the highest facility-water supply temperature, degC;
   the 2021 naming seen on secondary pages only, not read in the ASHRAE text).
.. [2] Incropera, F. P. et al., Fundamentals of Heat and Mass Transfer, 6th ed., Wiley 2007, Section 11.4
   and Table 11.3 (effectiveness-NTU; counter-flow, C_r = 1: epsilon = NTU / (1 + NTU)).
.. [3] Karassik, I. J. et al., Pump Handbook, 4th ed., McGraw-Hill 2008 (affinity laws).
.. [4] ASHRAE Handbook - HVAC Systems and Equipment (2020), chapter "Fans": the fan laws (flow in the speed,
   pressure in its square, power in its cube, for a given fan and system).
"""
from __future__ import annotations

import math

from numba import njit

from gigawatt.models.heat_exchangers import COUNTER_FLOW, exchanger_outlets

FACILITY_WATER_CLASSES: dict[str, float] = {
    "W17": 290.15, "W27": 300.15, "W32": 305.15, "W40": 313.15, "W45": 318.15,
}
"""ASHRAE facility-water classes [1]_: name -> highest facility-water supply temperature [K]. A case
names a class and gets that temperature as its facility supply set-point unless it states its own."""


def cdu_design_ua(c_design_w_per_k: float, delta_t_design_k: float, approach_k: float) -> float:
    r"""UA of a counter-flow CDU exchanger sized for a balanced design point [W/K].

    At design both streams have the capacity rate :math:`C` (``c_design_w_per_k``), the technology loop
    cools by :math:`\Delta T` and leaves ``approach_k`` above the facility inlet. For :math:`C_r = 1`,
    :math:`\varepsilon = \Delta T / (\Delta T + \mathrm{approach}) = \mathrm{NTU}/(1 + \mathrm{NTU})` [2]_,
    hence

    .. math:: UA = C\,\frac{\Delta T}{\mathrm{approach}}

    Parameters
    ----------
    c_design_w_per_k : float
        Capacity rate of the technology loop at design, m cp [W/K], > 0.
    delta_t_design_k : float
        Design temperature drop of the technology loop across the CDU [K], > 0.
    approach_k : float
        Design approach, technology supply minus facility supply [K], > 0.

    Examples
    --------
    A 2 MW CDU at 10 K rise and 4 K approach (C = 200 kW/K): NTU = 2.5.

    >>> cdu_design_ua(200e3, 10.0, 4.0)
    500000.0
    """
    return c_design_w_per_k * delta_t_design_k / approach_k


STATUS_OK = 0
STATUS_SECOND_LAW = 1   # the set-point is at or below the facility inlet: no flow can reach it
STATUS_CAPACITY = 2     # even the largest facility flow cannot take the duty


@njit(cache=True, inline="always")
def _illinois_point(lo, hi, f_lo, f_hi):
    """The next point of a regula falsi on the bracket [lo, hi] (``f_lo`` < 0 ≤ ``f_hi``): the secant's root, or
    the midpoint where rounding puts that root on an end."""
    x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
    if not lo < x < hi:  # a secant step on the rounding floor: halve instead
        x = 0.5 * (lo + hi)
    return x


@njit(cache=True, inline="always")
def _illinois_update(lo, hi, f_lo, f_hi, r_hi, side, x, f):
    """The bracket after the function's value ``f`` at ``x``, by the Illinois variant of regula falsi (Dowell &
    Jarratt 1971): ``x`` replaces the end whose sign ``f`` has, and the end kept twice running counts half.
    ``r_hi``: the function's true value at ``hi`` (``f_hi`` is scaled down); ``side``: which end moved last."""
    if f < 0.0:
        lo, f_lo = x, f
        if side == -1:
            f_hi *= 0.5
        side = -1
    else:
        hi, f_hi, r_hi = x, f, f
        if side == 1:
            f_lo *= 0.5
        side = 1
    return lo, hi, f_lo, f_hi, r_hi, side


@njit(cache=True)
def cdu_facility_capacity(t_hot_in_k, t_hot_out_set_k, c_hot_w_per_k, t_cold_in_k, ua_w_per_k, c_cold_max_w_per_k):
    r"""Facility-side capacity rate a CDU's control valve must pass to hold the technology-loop set-point.

    Solves :math:`q(C_c) = C_h (T_{h,i} - T_{h,o,set})` for :math:`C_c`, with :math:`q` the counter-flow
    duty of :func:`gigawatt.models.heat_exchangers.exchanger_outlets` [2]_. :math:`q` rises monotonically
    with :math:`C_c`, so a bracket on :math:`x = \ln C_c` holds the unique root; it is narrowed by the
    Illinois variant of regula falsi (Dowell & Jarratt 1971: superlinear, order about 1.44, never leaving the
    bracket; about ten duty evaluations where bisection took some sixty), and the answer is the bracket's
    upper end once the duty there is within rounding of the need or the bracket is 1e-15 wide.

    Parameters
    ----------
    t_hot_in_k, t_hot_out_set_k : float
        Technology-loop return (exchanger hot inlet) and supply set-point (hot outlet) [K].
    c_hot_w_per_k : float
        Technology-loop capacity rate [W/K], > 0.
    t_cold_in_k : float
        Facility-water supply temperature [K].
    ua_w_per_k : float
        Exchanger UA [W/K], > 0.
    c_cold_max_w_per_k : float
        Largest facility capacity rate the valve can pass [W/K], > 0.

    Returns
    -------
    c_cold_w_per_k : float
        Facility capacity rate [W/K] (0 when there is no duty; NaN unless the status is OK).
    status : int
        :data:`STATUS_OK`, :data:`STATUS_SECOND_LAW` or :data:`STATUS_CAPACITY`.
    q_max_w : float
        Largest duty the exchanger can take at ``c_cold_max_w_per_k`` [W].
    """
    q_need = c_hot_w_per_k * (t_hot_in_k - t_hot_out_set_k)
    q_max = exchanger_outlets(t_hot_in_k, t_cold_in_k, c_hot_w_per_k, c_cold_max_w_per_k, ua_w_per_k,
                              COUNTER_FLOW)[2]
    if q_need <= 0.0:
        return 0.0, STATUS_OK, q_max
    if t_hot_out_set_k <= t_cold_in_k:
        return math.nan, STATUS_SECOND_LAW, q_max
    if q_need > q_max:
        return math.nan, STATUS_CAPACITY, q_max
    hi = math.log(c_cold_max_w_per_k)
    lo = hi - 60.0
    f_hi = q_max - q_need  # >= 0
    f_lo = exchanger_outlets(t_hot_in_k, t_cold_in_k, c_hot_w_per_k, math.exp(lo), ua_w_per_k, COUNTER_FLOW)[2] \
        - q_need  # < 0: e^-60 of the largest flow takes nothing
    rounding = 4.0 * 2.220446049250313e-16 * q_need
    r_hi = f_hi  # the duty's true excess at hi (f_hi is scaled down by the Illinois rule)
    side = 0
    for _ in range(200):
        if r_hi <= rounding or hi - lo <= 1e-15:
            break
        x = _illinois_point(lo, hi, f_lo, f_hi)
        f = exchanger_outlets(t_hot_in_k, t_cold_in_k, c_hot_w_per_k, math.exp(x), ua_w_per_k, COUNTER_FLOW)[2] \
            - q_need
        lo, hi, f_lo, f_hi, r_hi, side = _illinois_update(lo, hi, f_lo, f_hi, r_hi, side, x, f)
    return math.exp(hi), STATUS_OK, q_max


def pump_speed_for_head(q_m3_s, head_m, h0_m, a_s_m2, b_s2_m5):
    r"""Speed ratio at which a pump delivers ``head_m`` at flow ``q_m3_s`` (affinity laws) [-].

    The head curve at speed ratio :math:`n` is :math:`H = H_0 n^2 - a n Q - b Q^2` [3]_ (see
    :func:`gigawatt.models.flow_correlations.pump_head`); its positive root in :math:`n`:

    .. math:: n = \frac{a Q + \sqrt{a^2 Q^2 + 4 H_0 (H + b Q^2)}}{2 H_0}

    Vectorised. Inputs: Q >= 0 [m^3/s], H >= 0 [m], H0 > 0 [m], a, b >= 0.

    Examples
    --------
    >>> round(float(pump_speed_for_head(0.05, 30.0, 42.0, 0.0, 0.2 * 30.0 / 0.05**2)), 6)
    0.92582
    """
    import numpy as np

    q, h = np.asarray(q_m3_s, float), np.asarray(head_m, float)
    return (a_s_m2 * q + np.sqrt((a_s_m2 * q) ** 2 + 4.0 * h0_m * (h + b_s2_m5 * q * q))) / (2.0 * h0_m)


DRY_COOLER_UA_EXPONENT = 0.6
"""Exponent m of the dry cooler's conductance against air flow, UA = UA_design (V/V_design)^m [-]. The finned
air side dominates a dry cooler's resistance (an assumption: water side and fin efficiency held constant), and
its heat-transfer coefficient follows the tube-bank correlation Nu ∝ Re^m with m about 0.6 in the Reynolds
range of finned coils (Zukauskas; Incropera et al., Fundamentals of Heat and Mass Transfer, 6th ed., 2007,
Section 7.6, Eq. 7.58 and Table 7.5: m = 0.60-0.63 for 10^3 < Re < 2 10^5) [2]_."""


def fan_power_affinity(p_design_w, speed_ratio):
    r"""Fan power at a speed by the fan affinity laws [W].

    .. math:: \dot V \propto n, \quad \Delta p \propto n^2, \quad P = P_\mathrm{design}\, n^3

    with n the speed over the design speed. Vectorised.

    Parameters
    ----------
    p_design_w : array_like
        Electrical fan power at the design speed [W], >= 0.
    speed_ratio : array_like
        Speed over the design speed [-], >= 0.

    Returns
    -------
    numpy.ndarray
        Fan power [W].

    Notes
    -----
    Validity: the same fan in the same system (a fixed system curve through the origin: the coil's and the
    casing's pressure drop in the square of the flow), constant air density and drive efficiency; EC motors
    lose some efficiency at low speed, so the cube law is a lower bound below about 30 % speed. Source: the fan
    laws [4]_.

    Examples
    --------
    >>> float(fan_power_affinity(80e3, 0.5))   # half speed: an eighth of the power
    10000.0
    """
    import numpy as np

    n = np.asarray(speed_ratio, dtype=float)
    return np.asarray(p_design_w, dtype=float) * n * n * n


def dry_cooler_design(q_design_w: float, c_water_w_per_k: float, approach_k: float) -> tuple[float, float]:
    r"""Conductance and air capacity rate of a dry cooler sized for its design point [W/K, W/K].

    At design the dry cooler rejects ``q_design_w`` from a water stream of capacity rate C_w, cooling it by
    :math:`\Delta T = q / C_w` to the facility supply temperature, ``approach_k`` above the design ambient,
    with its fans at full speed. The air capacity rate at full speed is taken equal to the water's
    (**assumption**: the air warms by as much as the water cools, about 10 K, typical of dry-cooler
    selections); the coil is counter-flow (multi-row cross-counter-flow coils approach it). With
    :math:`C_r = 1`, :math:`\varepsilon = \Delta T/(\Delta T + \mathrm{approach}) = \mathrm{NTU}/(1 +
    \mathrm{NTU})` [2]_, so :math:`UA = C_w \Delta T / \mathrm{approach}` (:func:`cdu_design_ua`).

    Parameters
    ----------
    q_design_w : float
        Design heat rejection [W], > 0.
    c_water_w_per_k : float
        Water capacity rate at design [W/K], > 0.
    approach_k : float
        Facility supply temperature minus the design ambient [K], > 0.

    Returns
    -------
    ua_w_per_k, c_air_w_per_k : float
        Design conductance and full-speed air capacity rate [W/K].

    Examples
    --------
    >>> dry_cooler_design(1e6, 1e5, 5.0)   # 10 K water range, 5 K approach: NTU = 2
    (200000.0, 100000.0)
    """
    return cdu_design_ua(c_water_w_per_k, q_design_w / c_water_w_per_k, approach_k), c_water_w_per_k


@njit(cache=True)
def dry_cooler_duty(speed_ratio, t_water_in_k, t_air_in_k, c_water_w_per_k, ua_design_w_per_k,
                    c_air_design_w_per_k, ua_exponent=DRY_COOLER_UA_EXPONENT):
    r"""Heat a dry cooler rejects with its fans at ``speed_ratio`` [W].

    .. math:: C_a = n\, C_{a,d}, \quad UA = UA_d\, n^m, \quad
              q = \varepsilon(\mathrm{NTU}, C_r)\, C_\mathrm{min} (T_{w,i} - T_{a,i})

    (counter-flow effectiveness, :func:`gigawatt.models.heat_exchangers.exchanger_outlets` [2]_). It rises
    monotonically with n from 0 at standstill (natural draught neglected).

    Parameters
    ----------
    speed_ratio : float
        Fan speed over the design speed [-], >= 0.
    t_water_in_k, t_air_in_k : float
        Water inlet and outdoor air temperature [K].
    c_water_w_per_k : float
        Water capacity rate [W/K], >= 0.
    ua_design_w_per_k, c_air_design_w_per_k : float
        Design conductance and full-speed air capacity rate (:func:`dry_cooler_design`) [W/K].
    ua_exponent : float
        m (:data:`DRY_COOLER_UA_EXPONENT`).
    """
    n = float(speed_ratio)
    return exchanger_outlets(t_water_in_k, t_air_in_k, c_water_w_per_k, n * c_air_design_w_per_k,
                             ua_design_w_per_k * n ** ua_exponent, COUNTER_FLOW)[2]


@njit(cache=True)
def dry_cooler_speed(q_need_w, t_water_in_k, t_air_in_k, c_water_w_per_k, ua_design_w_per_k,
                     c_air_design_w_per_k, ua_exponent=DRY_COOLER_UA_EXPONENT):
    r"""Fan speed at which a dry cooler rejects ``q_need_w``, holding the water's outlet set-point [-].

    Solves :math:`q(n) = q_\mathrm{need}` (:func:`dry_cooler_duty`, rising monotonically in n) on the bracket
    [0, 1] by the Illinois variant of regula falsi, as :func:`cdu_facility_capacity` (Dowell & Jarratt 1971:
    superlinear, never leaving the bracket): the answer is the bracket's upper end, the lowest speed found that
    rejects the need, once its duty is within rounding (4 ulp) of the need or the bracket is 4 ulp wide. Written
    here rather than calling scipy's ``brentq``: one compiled call at each step of a year instead of about ten
    Python evaluations, and ``scipy.optimize`` (about 0.15 s to import) kept off a cold ``gigawatt run``. Free
    cooling: in cold air a low speed suffices, and the fan power falls with its cube (:func:`fan_power_affinity`).

    Returns
    -------
    speed_ratio : float
        Fan speed over the design speed [-], in [0, 1]; 1 when the set-point cannot be held.
    q_max_w : float
        Heat rejected at full speed [W].
    held : bool
        Whether full speed suffices (``q_need_w <= q_max_w`` to within 1e-12, rounding at the design point);
        False also when the air is not colder than the water.
    """
    if q_need_w <= 0.0:
        return 0.0, 0.0, True
    q_max = 0.0
    if t_water_in_k > t_air_in_k:
        q_max = dry_cooler_duty(1.0, t_water_in_k, t_air_in_k, c_water_w_per_k, ua_design_w_per_k,
                                c_air_design_w_per_k, ua_exponent)
    if q_max < q_need_w * (1.0 - 1e-12):  # beyond rounding: the set-point cannot be held
        return 1.0, q_max, False
    if q_max <= q_need_w:  # at the design point itself, to rounding
        return 1.0, q_max, True
    eps = 2.220446049250313e-16
    lo, hi = 0.0, 1.0
    f_lo = -q_need_w  # standstill rejects nothing (natural draught neglected)
    f_hi = q_max - q_need_w  # > 0
    r_hi = f_hi  # the duty's true excess at hi (f_hi is scaled down by the Illinois rule)
    side = 0
    for _ in range(200):
        if r_hi <= 4.0 * eps * q_need_w or hi - lo <= 4.0 * eps * hi:
            break
        x = _illinois_point(lo, hi, f_lo, f_hi)
        f = dry_cooler_duty(x, t_water_in_k, t_air_in_k, c_water_w_per_k, ua_design_w_per_k, c_air_design_w_per_k,
                            ua_exponent) - q_need_w
        lo, hi, f_lo, f_hi, r_hi, side = _illinois_update(lo, hi, f_lo, f_hi, r_hi, side, x, f)
    return hi, q_max, True
