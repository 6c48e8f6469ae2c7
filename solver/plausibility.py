"""Physical plausibility of a solved case: what the equations allow but the equipment cannot do.

A converged solve can still describe a campus no one could build: district-heating water at thousands of
metres per second because the demand is far beyond what the pipes carry, a pump using more power than the
heat it moves, a bus at a voltage no equipment rated for its nominal would hold. :func:`check_plausibility`
runs every check of :data:`CHECKS` on the results of :func:`gigawatt.solve` (it is called there, after every
solve), and

- adds a line to the results' ``warnings`` attribute (printed in the summary, written with the results)
  for each element outside its design range; the same lines, alone, go to the ``plausibility_warnings``
  attribute;
- raises :class:`~gigawatt.errors.ConvergenceError` (one line naming the element, the value and the limit;
  ``details`` with ``check``, ``element``, ``value``, ``limit``; ``partial`` the results) where the result
  has no physical meaning, so that no figure built on it is printed or written.

Limits (SI):

- Water velocity in pipes (district heating and the technology coolant): design practice keeps it within
  0.5–2.5 m/s, with 100–200 Pa/m of pressure loss [1]_; above :data:`VELOCITY_WARN_M_S` (3 m/s) a warning,
  above :data:`VELOCITY_ERROR_M_S` (10 m/s) an error: there the friction loss alone is some 5–10 kPa per
  metre in a DN100 pipe (Darcy–Weisbach, λ ≈ 0.015), tens of bar per kilometre, beyond the 2.5 MPa that
  district-heating pipe systems are designed for [2]_, and the demand that asks for it is beyond the
  network's capacity: its consumers cannot be said to be supplied.
- District-heating network pump: a pressure rise above :data:`PUMP_DP_WARN_PA` (2.5 MPa, the largest
  internal pressure of EN 13941's scope [2]_), or a pump drawing more electricity than the heat the
  consumers ask (pumping is a small fraction of the heat a working network moves), is warned; a pressure
  rise above :data:`PUMP_DP_ERROR_PA` (10 MPa, four times EN 13941's largest: no district-heating pipe
  system is built for it; our judgement, not a standard's figure) is an error.
- Bus voltages (DC buses, each pole to neutral in a bipolar case, and AC buses): outside ±10 % of nominal
  (:data:`VOLTAGE_BAND_PU`, the supply-voltage band of EN 50160 [3]_, applied to the DC buses as well) a
  warning (the AC grid's own warnings already say it for AC buses); at or below 0 pu or at or above
  :data:`VOLTAGE_ERROR_PU` (2 pu, twice the nominal) an error: a constant-power load cannot draw at zero
  or reversed voltage, and equipment rated for a nominal voltage does not hold twice it.

References
----------
.. [1] VICUS Software, "Pipe dimensioning in district heating networks" (design guidance: flow velocity
   0.5–2.5 m/s, specific pressure loss 100–200 Pa/m),
   https://vicus-software.com/en/knowledge/network-design/pipe-dimensioning/
.. [2] EN 13941-1:2019, District heating pipes — Design and installation of thermal insulated bonded single
   and twin pipe systems for directly buried hot water networks — Part 1: Design (scope: continuous
   operation up to 120 °C, peaks to 140 °C, maximum internal pressure 2.5 MPa).
.. [3] EN 50160:2010, Voltage characteristics of electricity supplied by public electricity networks
   (supply voltage variations within ±10 % of the nominal).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import xarray as xr

from gigawatt.errors import ConvergenceError

VELOCITY_WARN_M_S = 3.0
"""Water velocity [m/s] above which a pipe is warned: the top of the 0.5–2.5 m/s design range, with margin."""
VELOCITY_ERROR_M_S = 10.0
"""Water velocity [m/s] above which a result is refused (module notes)."""
PUMP_DP_WARN_PA = 2.5e6
"""Pressure rise [Pa] of the district-heating network pump above which it is warned (EN 13941's 2.5 MPa)."""
PUMP_DP_ERROR_PA = 1e7
"""Pressure rise [Pa] of the district-heating network pump above which a result is refused (module notes)."""
VOLTAGE_BAND_PU = (0.9, 1.1)
"""Bus voltages [pu] outside which a bus is warned (EN 50160's ±10 %)."""
VOLTAGE_ERROR_PU = 2.0
"""Bus voltage [pu] at or above which (or at or below 0 pu) a result is refused."""
MAX_LISTED = 5
"""Elements named per check; the rest are counted."""


@dataclass(frozen=True)
class Check:
    """One plausibility check on a per-element quantity of the results.

    ``values(ds)`` returns ``(element ids, values)`` or None when the results do not have the quantity (the ids
    as a function that reads them: they are needed only to name an element);
    ``warn(x)`` and ``error(x)`` mark the elements outside the design range and those without physical
    meaning; ``describe(id, x)`` says it in words; ``limit_warn``, ``limit_error`` name the limits."""

    name: str
    values: Callable
    warn: Callable
    error: Callable
    describe: Callable
    limit_warn: str
    limit_error: str


def _ids(ds, dim: str):
    """The ids of dimension ``dim`` of ``ds``, read when called (from its variables: ``ds[dim]`` would build a
    DataArray with its coordinates; a dimension without a coordinate numbers its elements)."""
    return lambda: ds.variables[dim].values if dim in ds.variables else ds[dim].values


def _per_element(var: str, dim: str, transform=np.abs):
    def values(ds):
        if var not in ds:
            return None
        return _ids(ds, dim), transform(np.asarray(ds.variables[var].values, dtype=float))
    return values


def _pole_voltages(ds):
    """Per-unit voltage of every DC bus; in a bipolar case the lower of its two pole-to-neutral voltages."""
    if "v_pu" not in ds:
        return None
    var = ds.variables
    if "v_pos_v" in ds:
        pos = var["v_pos_v"].values - var["v_neutral_v"].values
        neg = var["v_neutral_v"].values - var["v_neg_v"].values
        v_nom = var["v_nominal_v"].values
        worst = np.where(np.abs(pos / v_nom - 1) >= np.abs(neg / v_nom - 1), pos, neg) / v_nom
        return _ids(ds, "bus"), worst
    return _ids(ds, "bus"), np.asarray(var["v_pu"].values, dtype=float)


def _network_pump(ds):
    """The district-heating plant's pump: ``[("network pump", (pressure rise [Pa], electricity [W], heat
    demand [W]))]``."""
    if "dh_pump_w" not in ds.attrs:
        return None
    a = ds.attrs
    return lambda: np.array(["network pump"], dtype=object), np.array([[a["dh_pump_dp_pa"], a["dh_pump_w"],
                                                                  a["dh_q_demand_w"]]])


def _outside_band(x):
    lo, hi = VOLTAGE_BAND_PU
    return (x < lo) | (x > hi)


def _velocity(name: str, var: str, dim: str, pipe: str, fluid: str, load: str) -> Check:
    """The velocity check of one kind of pipe (module notes)."""
    return Check(name, _per_element(var, dim), lambda v: v > VELOCITY_WARN_M_S, lambda v: v > VELOCITY_ERROR_M_S,
                 lambda i, v: f"{pipe} '{i}' carries {fluid} at {v:.3g} m/s",
                 f"design practice 0.5–2.5 m/s; warned above {VELOCITY_WARN_M_S:g} m/s",
                 f"no pipe carries {fluid} above {VELOCITY_ERROR_M_S:g} m/s: the {load} is beyond the pipes' "
                 f"capacity; enlarge the pipes or lower the {load}")


CHECKS = (
    _velocity("dh_pipe_velocity", "dh_pipe_velocity_m_s", "dh_pipe", "district-heating pipe", "water", "demand"),
    _velocity("coolant_pipe_velocity", "pipe_velocity_m_s", "coolant_pipe", "coolant pipe", "coolant", "heat"),
    Check("dh_network_pump", _network_pump,
          lambda x: (x[:, 0] > PUMP_DP_WARN_PA) | ((x[:, 2] > 0.0) & (x[:, 1] > x[:, 2])),
          lambda x: x[:, 0] > PUMP_DP_ERROR_PA,
          lambda i, x: (f"the district-heating {i} raises {x[0] / 1e5:.4g} bar and draws {x[1] / 1e6:.4g} MW "
                        f"for {x[2] / 1e6:.4g} MW of heat demand"),
          f"warned above {PUMP_DP_WARN_PA / 1e5:g} bar, EN 13941's largest internal pressure, or when drawing more "
          "than the heat demand",
          f"no district-heating pipe system holds {PUMP_DP_ERROR_PA / 1e5:g} bar: the demand is beyond the "
          "network's capacity; enlarge the pipes or lower the demand"),
    Check("dc_bus_voltage", _pole_voltages, _outside_band, lambda v: (v <= 0.0) | (v >= VOLTAGE_ERROR_PU),
          lambda i, v: f"DC bus '{i}' is at {v:.4g} pu of its nominal voltage",
          f"warned outside {VOLTAGE_BAND_PU[0]:g}–{VOLTAGE_BAND_PU[1]:g} pu",
          f"a bus voltage lies between 0 and {VOLTAGE_ERROR_PU:g} pu"),
    Check("ac_bus_voltage", _per_element("ac_vm_pu", "ac_bus", transform=lambda x: x),
          lambda v: np.zeros(v.shape, dtype=bool),  # the AC grid's results warn of its band themselves
          lambda v: (v <= 0.0) | (v >= VOLTAGE_ERROR_PU),
          lambda i, v: f"AC bus '{i}' is at {v:.4g} pu of its nominal voltage",
          f"warned outside {VOLTAGE_BAND_PU[0]:g}–{VOLTAGE_BAND_PU[1]:g} pu (by the AC grid's results)",
          f"a bus voltage lies between 0 and {VOLTAGE_ERROR_PU:g} pu"),
)
"""Every check run after a solve (module notes)."""


def plausibility_warnings(ds: xr.Dataset) -> list[str]:
    """The warning lines of every check on ``ds``; raises :class:`ConvergenceError` at the first element
    without physical meaning (module notes)."""
    lines = []
    for check in CHECKS:
        got = check.values(ds)
        if got is None:
            continue
        ids_of, x = got
        if not len(x):
            continue
        bad = np.asarray(check.error(x), dtype=bool)
        if bad.any():
            ids = ids_of()
            i = int(np.flatnonzero(bad)[0])
            value = x[i].tolist() if np.ndim(x[i]) else float(x[i])
            raise ConvergenceError(
                f"implausible result: {check.describe(ids[i], x[i])} ({check.limit_error}"
                + (f"; {int(bad.sum())} elements in all" if bad.sum() > 1 else "") + ")",
                partial=ds, details={"check": check.name, "element": str(ids[i]), "value": value,
                                     "limit": check.limit_error, "count": int(bad.sum())})
        warn = np.flatnonzero(np.asarray(check.warn(x), dtype=bool))  # NaN (out of service) compares False
        ids = ids_of() if warn.size else None
        for i in warn[:MAX_LISTED]:
            lines.append(f"{check.describe(ids[i], x[i])} ({check.limit_warn})")
        if warn.size > MAX_LISTED:
            lines.append(f"... {warn.size} elements in all beyond: {check.limit_warn}")
    return lines


def check_plausibility(ds: xr.Dataset) -> xr.Dataset:
    """Run :data:`CHECKS` on the results ``ds``: add the warnings to its ``warnings`` attribute and list them in
    ``plausibility_warnings`` (in place; returns ``ds``), or raise :class:`ConvergenceError` where the result
    has no physical meaning."""
    lines = plausibility_warnings(ds)
    ds.attrs["plausibility_warnings"] = "\n".join(lines)
    if lines:
        ds.attrs["warnings"] = "\n".join(filter(None, [ds.attrs.get("warnings", "")] + lines))
    return ds


# --- along a time axis ---------------------------------------------------------------------------------------

STEP_PEAKS = {
    "dh_velocity_max_m_s": (VELOCITY_WARN_M_S, lambda v: f"the fastest district-heating pipe carries water at "
                            f"{v:.3g} m/s", f"warned above {VELOCITY_WARN_M_S:g} m/s"),
    "dh_pump_dp_pa": (PUMP_DP_WARN_PA, lambda v: f"the district-heating network pump raises {v / 1e5:.4g} bar",
                      f"warned above {PUMP_DP_WARN_PA / 1e5:g} bar"),
}
"""Figures of a time step whose peak over the period is warned beyond its design limit: ``{figure: (limit,
description, limit in words)}``. Only warned: a step can reach them in a transient of the series' one-step
control lag (substations opening to their 1 K flow cap when the water that reached them cooled while the
network stood still), which the next steps undo; whether the network can carry its demand at all is
checked on the steady state the series starts from (:func:`check_steady_start`)."""


def check_steady_start(pipe_ids, pipe_velocity_m_s) -> list[str]:
    """The district-heating checks of :data:`CHECKS` on the steady state a time series starts from (the
    network at the case's outdoor temperature): warning lines, or :class:`ConvergenceError` where its pipes
    cannot carry its demand."""
    ds = xr.Dataset({"dh_pipe_velocity_m_s": ("dh_pipe", np.asarray(pipe_velocity_m_s, dtype=float))},
                    coords={"dh_pipe": np.asarray(pipe_ids)})
    try:
        return [f"{x}, in the steady state the series starts from" for x in plausibility_warnings(ds)]
    except ConvergenceError as err:
        raise ConvergenceError(f"{err} (in the steady state the series starts from)", details=err.details) from None


def series_warnings(peaks: dict, extremes: xr.Dataset) -> list[str]:
    """The warning lines of a time series: each figure of :data:`STEP_PEAKS` whose peak over the period
    (``peaks``: ``{figure: (value, when)}``) is beyond its design limit, and each bus whose lowest voltage
    over the period (``extremes``' ``v_min_pu_over_period``) lies outside the band."""
    lines = [f"{describe(value)} at {when}, the period's peak ({limit})"
             for name, (warn, describe, limit) in STEP_PEAKS.items()
             for value, when in [peaks.get(name, (None, None))] if value is not None and value > warn]
    if "v_min_pu_over_period" in extremes:
        ds = xr.Dataset({"v_pu": extremes["v_min_pu_over_period"]})
        lines += [f"{x}, its lowest over the period" for x in plausibility_warnings(ds)]
    return lines
