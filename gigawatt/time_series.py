"""A case solved step by step along a time series: the steady coupled chain at each step, the results'
scalar figures as series along ``time``, and the energy totals over the period with their ledger.

This is the first, plain form of issue 5's time stepping: each step is a full steady solve
(:func:`gigawatt.solve` of the case with that step's IT power and outdoor temperature), so its cost is
``steps × one solve`` (about 0.13 s a step for the bundled campus); no transport delay or storage yet (they
are in :mod:`gigawatt.solver.dh_dynamics` and :mod:`gigawatt.models.storage`, not wired in).

Inputs (a Dataset along ``time`` from :func:`gigawatt.cases.timeseries.read_timeseries`, SI units):

* ``p_it_fraction`` [-]: every rack at that fraction of its case IT power; or ``p_it_w`` [W]: the campus's
  total IT power, every rack scaled by the same factor;
* ``outdoor_t_k`` [K]: the district-heating plant's outdoor temperature (the consumers' demands follow it).

Outputs: every numeric scalar attribute of a step's results (``p_grid_w``, ``p_it_w``, ``pue``,
``q_available_w``, ``dh_q_demand_w``, … as in :func:`gigawatt.sweep.scalar_results`) as a variable along
``time``, and attributes with the period's energies [J] (``energy_<name>_j`` = Σ power × step for every
``*_w`` figure), ``pue`` and ``erf`` over the period (ratios of energies), and the period's ledger
``energy_balance_residual`` = |Σ (grid − IT − losses) Δt| / Σ grid Δt.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.errors import CaseError

INPUTS = ("p_it_fraction", "p_it_w", "outdoor_t_k")
"""The time-series columns a run uses (canonical names, SI)."""


def run_time_series(case, series: xr.Dataset, *, progress=None) -> xr.Dataset:
    """Solve ``case`` at every step of ``series`` (see the module notes) and return the figures along
    ``time`` with the period's totals. ``progress(k, n)`` is called after each step.

    Raises
    ------
    gigawatt.CaseError
        A series with none of the inputs, or one that scales a campus without IT power.
    gigawatt.ConvergenceError
        A step that does not solve; its message names the step's time.
    """
    from gigawatt.errors import ConvergenceError
    from gigawatt.solver.solve import solve
    from gigawatt.sweep import CaseSource, scalar_results

    used = [name for name in INPUTS if name in series]
    if not used:
        raise CaseError("the time series has none of the inputs a run uses", element="time series",
                        allowed=", ".join(INPUTS))
    times = series["time"].to_numpy()
    if times.size < 1:
        raise CaseError("the time series has no steps", element="time series")
    step_s = _step_seconds(times)
    source = CaseSource.of(case)
    p_ref = case.tables["rack"]["p_it_w"].to_numpy(float)
    if ("p_it_w" in series or "p_it_fraction" in series) and not p_ref.sum() > 0:
        raise CaseError("the time series scales the racks' IT power, but the case has none", element="rack",
                        field="p_it_w", value=float(p_ref.sum()))
    heating = case.settings.get("district_heating") is not None
    records = []
    for k, t in enumerate(times):
        rows, settings = {}, {}
        if "p_it_fraction" in series:
            rows[("rack", "p_it_w")] = p_ref * float(series["p_it_fraction"][k])
        elif "p_it_w" in series:
            rows[("rack", "p_it_w")] = p_ref * (float(series["p_it_w"][k]) / p_ref.sum())
        if "outdoor_t_k" in series and heating:
            settings[("district_heating", "outdoor_t_k")] = float(series["outdoor_t_k"][k])
        try:
            records.append(scalar_results(solve(source.build(settings, rows)).attrs))
        except ConvergenceError as err:
            raise ConvergenceError(f"time step {np.datetime_as_string(t, unit='s')}: {err}", partial=err.partial,
                                   details=err.details) from None
        if progress:
            progress(k + 1, times.size)
    names = [n for n in records[0] if all(n in r for r in records)]
    ds = xr.Dataset({n: ("time", np.array([r[n] for r in records])) for n in names}, coords={"time": times})
    ds.attrs.update(_totals(ds, step_s))
    ds.attrs.update({"title": f"gigawatt time series of case '{case.name}'", "case_name": case.name,
                     "case_hash": case.hash(), "steps": int(times.size), "step_s": step_s})
    from gigawatt import __version__

    ds.attrs["gigawatt_version"] = __version__
    return ds


def _step_seconds(times: np.ndarray) -> float:
    """The series' regular step [s] (one step: an hour, the default step of a time series)."""
    if times.size < 2:
        return 3600.0
    return float((times[1] - times[0]) / np.timedelta64(1, "s"))


def _totals(ds: xr.Dataset, step_s: float) -> dict:
    """Energies over the period [J], the period's PUE and ERF, and its energy ledger residual."""
    out = {}
    for name in ds.data_vars:
        if name.endswith("_w"):
            out[f"energy_{name[:-2]}_j"] = float(ds[name].sum()) * step_s
    grid = out.get("energy_p_grid_j", 0.0)
    if grid > 0:
        out["energy_balance_residual"] = abs(grid - out["energy_p_it_j"] - out["energy_p_loss_j"]) / grid
    if out.get("energy_p_facility_j") and out.get("energy_p_it_j"):
        out["pue"] = out["energy_p_facility_j"] / out["energy_p_it_j"]
        out["erf"] = out.get("energy_q_recovered_j", 0.0) / out["energy_p_facility_j"]
    return out
