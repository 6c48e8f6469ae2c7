"""Cooling-plant components: facility-water classes, coolant distribution units, pumps on speed control,
dry coolers and air handlers. Pure functions, SI units; the scalar kernels are ``numba.njit(cache=True)``
(with ``NUMBA_DISABLE_JIT=1`` the same code runs as Python).

References
----------
.. [1] ASHRAE TC 9.9, Liquid Cooling Guidelines for Datacom Equipment Centers, 2nd ed. (2014) and the
   2021 class naming W17 ... W45, W+ (the number is the highest facility-water supply temperature, degC;
   the 2021 naming seen on secondary pages only, not read in the ASHRAE text).
.. [2] Incropera, F. P. et al., Fundamentals of Heat and Mass Transfer, 6th ed., Wiley 2007, Section 11.4
   and Table 11.3 (effectiveness-NTU; counter-flow, C_r = 1: epsilon = NTU / (1 + NTU)).
.. [3] Karassik, I. J. et al., Pump Handbook, 4th ed., McGraw-Hill 2008 (affinity laws).
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
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < x < hi:  # a secant step on the rounding floor: halve instead
            x = 0.5 * (lo + hi)
        f = exchanger_outlets(t_hot_in_k, t_cold_in_k, c_hot_w_per_k, math.exp(x), ua_w_per_k, COUNTER_FLOW)[2] \
            - q_need
        if f < 0.0:
            lo, f_lo = x, f
            if side == -1:
                f_hi *= 0.5  # Illinois: the end kept twice running counts half
            side = -1
        else:
            hi, f_hi, r_hi = x, f, f
            if side == 1:
                f_lo *= 0.5
            side = 1
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


def dry_cooler_fan_power(q_rejected_w, specific_fan_power_w_per_w):
    """Fan power of dry coolers rejecting ``q_rejected_w`` [W]: P = q * specific fan power (a linear
    model of EC-fan dry coolers at their design air flow; the specific power is the case's input)."""
    return q_rejected_w * specific_fan_power_w_per_w
