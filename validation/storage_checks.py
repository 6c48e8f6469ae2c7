"""Runners of the energy-store validation cases (``validation/cases/storage_analytic_*.toml``).

* ``battery_cycle``: a battery charged at constant terminal power from soc_min to soc_max and discharged at
  the same power back to its start (:func:`gigawatt.models.energy_storage.store_step`), against the circuit
  solved independently here (the cell current as a root of r·I² − v·I + p = 0 by ``numpy.roots``): the
  energy stored, the energy returned (whole steps and the last, partial one), the ledger (charge in =
  discharge out + losses + ΔE) and the closed-form round-trip efficiency;
* ``first_order_square``: the low-pass control law of an unconstrained store
  (:func:`gigawatt.models.energy_storage.run_store`) driven by a square-wave load at 10 ms steps, against
  the exact response of a first-order lag to that wave
  (:func:`gigawatt.models.energy_storage.first_order_square_response`, itself checked against the ODE's
  numerical solution in the tests).
"""
from __future__ import annotations

import math

import numpy as np


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def _current(p_cell, v, r):
    """The cell current [A] of the smaller magnitude that delivers p_cell [W] (numpy.roots, independent of the
    model's closed form)."""
    roots = np.roots([r, -v, p_cell])
    return float(roots[np.argmin(np.abs(roots))].real)


def battery_cycle(spec):
    from gigawatt.models.energy_storage import KIND_BATTERY, battery_round_trip_efficiency, store_step

    p = spec["inputs"]
    v, r, eta, pw, dt = p["v_oc_v"], p["r_ohm"], p["eta"], p["p_w"], p["dt_s"]
    e_r = p["e_rated_j"]
    e_lo, e_hi = p["soc_min"] * e_r, p["soc_max"] * e_r
    e = e_lo
    charged = returned = losses = 0.0
    while e < e_hi:  # charge at −P until the window is full (the last step lands on it)
        got, e, loss = store_step(KIND_BATTERY, e, -pw, dt, pw, e_lo, e_hi, v, 0.0, r, eta)
        charged, losses = charged - got * dt, losses + loss * dt
    e_full = e
    while e > e_lo:
        got, e, loss = store_step(KIND_BATTERY, e, pw, dt, pw, e_lo, e_hi, v, 0.0, r, eta)
        returned, losses = returned + got * dt, losses + loss * dt
    # the same cycle from the circuit, solved here
    i_c, i_d = _current(-pw * eta, v, r), _current(pw / eta, v, r)
    window = e_hi - e_lo
    n_c = math.ceil(window / (v * -i_c * dt) - 1e-12)
    last_c = window - (n_c - 1) * v * -i_c * dt  # internal energy of the last charging step
    i_last = -last_c / (v * dt)
    charged_cf = (n_c - 1) * pw * dt + -(v * i_last - r * i_last ** 2) / eta * dt
    n_d = math.floor(window / (v * i_d * dt) + 1e-12)
    rest = window - n_d * v * i_d * dt
    i_rest = rest / (v * dt)
    returned_cf = n_d * pw * dt + eta * (v * i_rest - r * i_rest ** 2) * dt
    rt_cf = float(battery_round_trip_efficiency(pw, v, r, eta))
    point = f"{pw / 1e6:g} MW, {e_r / 3.6e9:g} MWh"
    return [
        _measured("energy_after_charge_j", e_full, e_hi, point),
        _measured("charged_j", charged, charged_cf, point),
        _measured("returned_j", returned, returned_cf, point),
        _measured("energy_balance_residual", abs(charged - returned - losses - (e - e_lo)) / charged, 0.0, point),
        _measured("round_trip_efficiency", rt_cf, (-i_c * v) / (i_d * v) * 1.0, point),
    ]


def first_order_square(spec):
    from gigawatt.models.energy_storage import KIND_BATTERY, LAW_LOW_PASS, first_order_square_response, run_store

    p = spec["inputs"]
    dt, period, duty = p["dt_s"], p["period_s"], p["duty"]
    n = round(p["duration_s"] / dt)
    k = np.arange(n)
    load = np.where(np.mod(k, round(period / dt)) < round(duty * period / dt), p["high_w"], p["low_w"])
    tau = 1 / (2 * math.pi * p["corner_hz"])
    big = 1e3 * p["high_w"]
    out = [np.empty(n) for _ in range(4)]
    run_store(load, dt, KIND_BATTERY, LAW_LOW_PASS, p["corner_hz"], 0.0, big, big * 1e6, 0.0, 1.0, 0.5, 0.5, 0.0,
              800.0, 0.0, 1e-6, 1.0, False, *out)
    draw = load - out[0]
    # the law's draw at step k is the lag's output at the end of the step, from y(0) = the first load
    exact = first_order_square_response((k + 1) * dt, tau, p["high_w"], p["low_w"], period, duty, p["high_w"])
    a, b = math.exp(-duty * period / tau), math.exp(-(1 - duty) * period / tau)
    y_star = (p["low_w"] * (1 - b) + b * p["high_w"] * (1 - a)) / (1 - a * b)  # periodic value at a period's start
    last_start = (n // round(period / dt) - 1) * round(period / dt) - 1  # the step ending at the last period start
    point = f"tau {tau:.4g} s, dt {dt * 1000:g} ms"
    return [
        _measured("max_abs_difference_w", float(np.max(np.abs(draw - exact))), 0.0, point),
        _measured("draw_at_period_start_w", float(draw[last_start]), y_star, point),
    ]


STORAGE_RUNNERS = {"battery_cycle": battery_cycle, "first_order_square": first_order_square}
"""Runners of the energy-store cases, by the name their case files give under ``runner``."""
