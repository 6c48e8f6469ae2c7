"""DC short-circuit currents: the contributions of current-limited converters, capacitors and batteries, their
characteristic quantities in the form of IEC 61660-1, and their sum.

IEC 61660-1 [1]_ describes each contribution to a DC short-circuit current by five characteristic quantities:
the peak current ``i_p``, the time to peak ``t_p``, the quasi steady-state current ``I_k``, the rise time
constant ``tau1`` and the decay time constant ``tau2``, which fix its *standard approximation function*
(:func:`standard_function`)

    i(t) = i_p (1 - e^(-t/tau1)) / (1 - e^(-t_p/tau1))                 0 <= t <= t_p
    i(t) = i_p [(1 - alpha) e^(-(t - t_p)/tau2) + alpha],  alpha = I_k/i_p,   t >= t_p.

The standard gives the quantities of each source kind from its own factors and charts, and combines the
contributions with correction factors for their common branch. That text was not available to us. Here each
contribution's quantities come from the closed-form response of its circuit, and the total is the time-domain
sum of those responses (:func:`superpose`), as IEC 61660-1 sums partial currents, without its correction
factors (a sum of contributions each computed alone through the whole network: on the safe side, larger than
the joint circuit's current where they share a branch). The sum is taken of the circuit responses rather than
of the contributions' standard functions: a capacitor's standard function decays exponentially from its peak
where the RLC current has a flat top, so a sum of standard functions peaks too early and too low where other
contributions are still rising (2.2 % low and 20 % early in the validation case fault_analytic_time_domain).
The total's own characteristic quantities are then read off the sum:

* a **current-limited converter** (a rectifier or SST station, a DC/DC converter's output): a voltage source E
  behind the network's resistance R and inductance L, its current limited to I_lim. The current rises as
  (E/R)(1 - e^(-tR/L)) until it reaches I_lim, then holds: i_p = I_k = I_lim, t_p = -(L/R) ln(1 - I_lim R/E),
  tau1 = L/R (the standard function then *is* the exponential); below the limit i_p = I_k = E/R, reached
  asymptotically: we put t_p = 3 tau1 (the standard function rises to E/R there, 5 % faster than the
  exponential). No decay (tau2 undefined, NaN);
* a **capacitor** C charged to E discharging through R and L (its ESR and the network): the series RLC
  discharge in closed form (:func:`rlc_discharge_current`) gives i_p and t_p exactly; I_k = 0; tau1 matches
  the initial rate of rise E/L; tau2 = RC: at the peak L di/dt = 0, so the capacitor still holds
  v_C(t_p) = R·i_p, and a decay of i_p·e^(-(t - t_p)/tau2) carries exactly that charge C·R·i_p if tau2 = RC
  (whatever the damping; an under-damped current oscillates instead, its later lobes included in that charge).
  With L = 0: i_p = E/R at t_p = 0, and the standard function is the RC discharge itself;
* a **battery** of EMF E behind R and L: an RL rise to E/R (a converter without a limit). IEC 61660-1's
  battery model adds a decay of the EMF during the fault; not modelled here.

All functions are scalar ``numba.njit(cache=True)`` functions in SI units (A, s, V, Ω, H, F), usable from
kernels and from Python.

References
----------
.. [1] IEC 61660-1:1997, Short-circuit currents in d.c. auxiliary installations in power plants and
   substations - Part 1: Calculation of short-circuit currents. (The form of the standard approximation
   function and the names of the characteristic quantities; not its factors or charts.)
.. [2] J. Yang, J. E. Fletcher, J. O'Reilly, "Short-circuit and ground fault analyses and location in VSC-based
   DC network cables", IEEE Transactions on Industrial Electronics 59(10), 3827-3837 (2012).
   doi:10.1109/TIE.2011.2162712 (the capacitor discharge stage of a DC cable fault as a series RLC circuit).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

RISE_TIME_CONSTANTS = 3.0
"""t_p of a contribution that approaches its quasi steady-state current asymptotically, in rise time
constants (the exponential is at 95 % of it there)."""


@njit(cache=True)
def _rise_fraction(t, t_p, tau1):
    """(1 - e^(-t/tau1)) / (1 - e^(-t_p/tau1)) for 0 <= t <= t_p, with its limits tau1 -> 0 (a step) and
    tau1 -> inf (a straight line)."""
    if tau1 <= 0.0:
        return 1.0
    if not math.isfinite(tau1):
        return t / t_p
    return math.expm1(-t / tau1) / math.expm1(-t_p / tau1)


@njit(cache=True)
def standard_function(t, i_p, t_p, i_k, tau1, tau2):
    """The IEC 61660-1 standard approximation function [A] at time ``t`` [s] after fault inception (module
    notes); 0 before it. A NaN ``tau2`` means no decay (i_p = I_k)."""
    if t < 0.0 or i_p <= 0.0:
        return 0.0
    if t < t_p:
        return i_p * _rise_fraction(t, t_p, tau1)
    if not (tau2 > 0.0) or not math.isfinite(tau2) or i_p <= i_k:
        return i_p  # no decay (NaN), or none in finite time (an undamped discharge, R = 0)
    alpha = i_k / i_p
    return i_p * ((1.0 - alpha) * math.exp(-(t - t_p) / tau2) + alpha)


@njit(cache=True)
def rl_current(t, v, r, l):
    """Current [A] of a voltage ``v`` switched onto R and L at t = 0: (V/R)(1 - e^(-tR/L)); V t/L when R = 0;
    V/R when L = 0."""
    if t <= 0.0:
        return 0.0
    if l <= 0.0:
        return v / r
    if r <= 0.0:
        return v * t / l
    return -v / r * math.expm1(-t * r / l)


@njit(cache=True)
def rc_discharge_current(t, e, r, c):
    """Current [A] of a capacitor C charged to E discharging through R: (E/R) e^(-t/(RC))."""
    if t < 0.0:
        return 0.0
    return e / r * math.exp(-t / (r * c))


OVERDAMPED, UNDERDAMPED, CRITICAL = 0, 1, 2


@njit(cache=True)
def _rlc_regime(r, l, c):
    """Damping of a series RLC circuit (L > 0): (regime, a, b) with (s1, s2) = delta -/+ sqrt(delta² − omega0²)
    over-damped, (delta, omega) under-damped (omega² = omega0² − delta²), (delta, 0) critical; delta = R/(2L),
    omega0² = 1/(LC)."""
    delta = r / (2.0 * l)
    w0sq = 1.0 / (l * c)
    disc = delta * delta - w0sq
    if disc > 1e-12 * w0sq:
        s2 = delta + math.sqrt(disc)
        return OVERDAMPED, w0sq / s2, s2  # the slow root without cancellation
    if disc < -1e-12 * w0sq:
        return UNDERDAMPED, delta, math.sqrt(-disc)
    return CRITICAL, delta, 0.0


@njit(cache=True)
def rlc_discharge_current(t, e, r, l, c):
    """Current [A] of a capacitor C charged to E discharging through R and L in series (i(0) = 0):

    over-damped (delta > omega0): E/(L (s2 - s1)) (e^(-s1 t) - e^(-s2 t)), s1,2 = delta -/+ sqrt(delta^2 - omega0^2);
    critical: (E/L) t e^(-delta t); under-damped: E/(omega L) e^(-delta t) sin(omega t), omega^2 = omega0^2 - delta^2;
    delta = R/(2L), omega0^2 = 1/(LC). With L = 0: the RC discharge."""
    if t < 0.0:
        return 0.0
    if l <= 0.0:
        return rc_discharge_current(t, e, r, c)
    regime, a, b = _rlc_regime(r, l, c)
    if regime == OVERDAMPED:
        return e / (l * (b - a)) * (math.exp(-a * t) - math.exp(-b * t))
    if regime == UNDERDAMPED:
        return e / (b * l) * math.exp(-a * t) * math.sin(b * t)
    return e / l * t * math.exp(-a * t)


@njit(cache=True)
def rlc_peak(e, r, l, c):
    """(t_p [s], i_p [A]) of :func:`rlc_discharge_current`: its first maximum, where di/dt = 0."""
    if l <= 0.0:
        return 0.0, e / r
    regime, a, b = _rlc_regime(r, l, c)
    if regime == OVERDAMPED:
        t_p = math.log(b / a) / (b - a)
    elif regime == UNDERDAMPED:
        t_p = math.atan2(b, a) / b
    else:
        t_p = 1.0 / a
    return t_p, rlc_discharge_current(t_p, e, r, l, c)


@njit(cache=True)
def tau_from_slope(i_p, t_p, slope):
    """The rise time constant [s] whose standard function leaves 0 at ``slope`` [A/s] and reaches ``i_p`` at
    ``t_p``: the root of tau (1 - e^(-t_p/tau)) = i_p/slope (0 at an infinite slope, inf where the rise is no
    steeper at first than on average)."""
    if not (slope < np.inf) or t_p <= 0.0:
        return 0.0
    ratio = i_p / (slope * t_p)  # = (1 - e^-x)/x with x = t_p/tau, in (0, 1)
    if ratio >= 1.0 - 1e-12:
        return np.inf
    lo, hi = 0.0, 1.0
    while -math.expm1(-hi) / hi > ratio:  # (1 - e^-x)/x falls from 1 (x -> 0) towards 0
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= 0.0 or -math.expm1(-mid) / mid > ratio:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return t_p / (0.5 * (lo + hi))


@njit(cache=True)
def converter_contribution(e, r, l, i_limit):
    """(i_p, t_p, I_k, tau1, tau2) of a current-limited converter (module notes): E [V] behind R [Ω] and L [H],
    limited to ``i_limit`` [A] (inf: no limit, a battery). Zeros when E <= 0 or R is infinite (no path)."""
    if not (e > 0.0) or not (r < np.inf):
        return 0.0, 0.0, 0.0, 0.0, np.nan
    prospective = e / r if r > 0.0 else np.inf
    if l <= 0.0:
        tau1 = 0.0
    elif r > 0.0:
        tau1 = l / r
    else:
        tau1 = np.inf
    if prospective > i_limit:
        if tau1 <= 0.0:
            t_p = 0.0
        elif math.isfinite(tau1):
            t_p = -tau1 * math.log1p(-i_limit / prospective)
        else:
            t_p = i_limit * l / e
        return i_limit, t_p, i_limit, tau1, np.nan
    return prospective, RISE_TIME_CONSTANTS * tau1, prospective, tau1, np.nan


@njit(cache=True)
def capacitor_contribution(e, r, l, c):
    """(i_p, t_p, I_k, tau1, tau2) of a capacitor C [F] charged to E [V] discharging through R [Ω] (its ESR
    and the network) and L [H] (module notes). Zeros without a capacitor or a path."""
    if not (e > 0.0) or not (c > 0.0) or not (r < np.inf) or not (l < np.inf):
        return 0.0, 0.0, 0.0, 0.0, np.nan
    t_p, i_p = rlc_peak(e, r, l, c)
    tau2 = r * c if r > 0.0 else np.nan
    if l <= 0.0:
        return i_p, 0.0, 0.0, 0.0, tau2
    return i_p, t_p, 0.0, tau_from_slope(i_p, t_p, e / l), tau2


RL, RLC = 0, 1
"""Waveform kinds of :func:`contribution_current`: an RL rise (with a current limit) and an RLC discharge."""


@njit(cache=True)
def contribution_current(t, kind, e, r, l, x):
    """Current [A] of one contribution at ``t`` [s]: ``kind`` RL: E behind R and L, limited to ``x`` = I_lim
    (inf: no limit), min(I_lim, (E/R)(1 − e^(−tR/L))); RLC: a capacitor ``x`` = C charged to E discharging
    through R and L (:func:`rlc_discharge_current`). Zero where the contribution has no path (R inf) or no
    source (E <= 0, C <= 0)."""
    if t < 0.0 or not (e > 0.0) or not (r < np.inf):
        return 0.0
    if kind == RL:
        if l <= 0.0:
            return min(x, e / r) if r > 0.0 else x
        return min(x, rl_current(t, e, r, l))
    if not (x > 0.0) or not (l < np.inf):
        return 0.0
    return rlc_discharge_current(t, e, r, l, x)


@njit(cache=True)
def _capacitor_voltage(t, e, r, l, c):
    """Voltage [V] left on the capacitor of :func:`rlc_discharge_current` at ``t``."""
    if l <= 0.0:
        return e * math.exp(-t / (r * c))
    regime, a, b = _rlc_regime(r, l, c)
    if regime == OVERDAMPED:
        return e / (b - a) * (b * math.exp(-a * t) - a * math.exp(-b * t))
    if regime == UNDERDAMPED:
        return e * math.exp(-a * t) * (math.cos(b * t) + a / b * math.sin(b * t))
    return e * (1.0 + a * t) * math.exp(-a * t)


@njit(cache=True)
def _excess_charge(a, kind, e, r, l, x):
    """∫ from ``a`` to ∞ of (i(t) − I_k) [A s] of one contribution (module notes of :func:`superpose`)."""
    if not (e > 0.0) or not (r < np.inf):
        return 0.0
    if kind == RLC:
        if not (x > 0.0) or not (l < np.inf):
            return 0.0
        return x * _capacitor_voltage(a, e, r, l, x)  # the charge still on the capacitor: I_k = 0
    prospective = e / r if r > 0.0 else np.inf
    if l <= 0.0:
        return 0.0  # at its final value from t = 0
    if prospective <= x:  # rises to E/R for ever
        tau = l / r
        return -prospective * tau * math.exp(-a / tau)
    # reaches its limit at t_lim, flat after
    t_lim = -l / r * math.log1p(-x / prospective) if r > 0.0 else x * l / e
    if a >= t_lim:
        return 0.0
    if r > 0.0:
        tau = l / r
        rise = prospective * ((t_lim - a) - tau * (math.exp(-a / tau) - math.exp(-t_lim / tau)))
    else:
        rise = e * (t_lim * t_lim - a * a) / (2.0 * l)
    return rise - x * (t_lim - a)


@njit(cache=True)
def _sum_at(t, kind, p):
    s = 0.0
    for j in range(kind.size):
        s += contribution_current(t, kind[j], p[j, 0], p[j, 1], p[j, 2], p[j, 3])
    return s


@njit(cache=True)
def superpose(kind, p, q):
    """(i_p, t_p, I_k, tau1, tau2) of the sum of contributions: ``kind`` (RL or RLC) and parameters ``p`` (rows:
    E, R, L, I_lim or C) of each, ``q`` their own characteristic quantities (rows as returned by
    :func:`converter_contribution` and :func:`capacitor_contribution`).

    The contributions' circuit responses (:func:`contribution_current`) are summed in time. The sum's peak lies
    before the latest contribution peak t_p (after it no contribution rises, and an RLC current's later lobes
    are smaller than its first): found on a grid up to there and refined by golden section; where the sum
    still rises there (a contribution approaching its quasi steady-state value), i_p = I_k and t_p is that
    latest t_p. I_k is the sum of the contributions'. tau1 matches the sum's initial rate of rise Σ E/L
    (:func:`tau_from_slope`); tau2 makes the standard function carry the charge the sum carries above I_k after
    the peak, ∫(i − I_k) dt, in closed form per contribution (for a capacitor: the charge left on it). NaN
    where the sum does not decay."""
    hi = 0.0
    i_k = 0.0
    slope = 0.0
    n_on, last = 0, -1
    for j in range(kind.size):
        if q[j, 0] > 0.0:
            hi = max(hi, q[j, 1])
            i_k += q[j, 2]
            slope += p[j, 0] / p[j, 2] if p[j, 2] > 0.0 else np.inf
            n_on += 1
            last = j
    if n_on == 0:
        return 0.0, 0.0, 0.0, 0.0, np.nan
    if n_on == 1:  # the sum is that contribution: its own quantities (the same definitions)
        return q[last, 0], q[last, 1], q[last, 2], q[last, 3], q[last, 4]
    best_t, best = 0.0, _sum_at(0.0, kind, p)
    for j in range(kind.size):  # every contribution's own peak
        if q[j, 0] > 0.0:
            s = _sum_at(q[j, 1], kind, p)
            if s > best:
                best_t, best = q[j, 1], s
    n_grid = 64
    if hi > 0.0:
        step = hi / n_grid
        for g in range(1, n_grid + 1):
            t = g * step
            s = _sum_at(t, kind, p)
            if s > best:
                best_t, best = t, s
        a, b = max(0.0, best_t - step), min(hi, best_t + step)
        ratio = 0.5 * (math.sqrt(5.0) - 1.0)
        for _ in range(60):  # golden section on the bracket around the best grid point
            c1, c2 = b - ratio * (b - a), a + ratio * (b - a)
            if _sum_at(c1, kind, p) >= _sum_at(c2, kind, p):
                b = c2
            else:
                a = c1
            if b - a <= 1e-13 * hi:
                break
        t = 0.5 * (a + b)
        s = _sum_at(t, kind, p)
        if s > best:
            best_t, best = t, s
    if i_k > best:  # still rising at the latest peak: the sum approaches I_k
        best_t, best = hi, i_k
    i_p, t_p = best, best_t
    tau1 = 0.0 if t_p <= 0.0 else tau_from_slope(i_p, t_p, slope)
    excess = i_p - i_k
    if excess <= 1e-12 * i_p:
        return i_p, t_p, i_k, tau1, np.nan
    charge = 0.0
    for j in range(kind.size):
        charge += _excess_charge(t_p, kind[j], p[j, 0], p[j, 1], p[j, 2], p[j, 3])
    tau2 = charge / excess
    return i_p, t_p, i_k, tau1, (tau2 if tau2 > 0.0 else np.nan)
