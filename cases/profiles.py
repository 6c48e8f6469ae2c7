"""Bundled IT-load profile shapes: ``p_it_fraction`` (every rack's IT power as a fraction of its ``p_it_w``)
along ``time``, for any start, length and step of 1 s or more.

Each value is the exact mean of the shape over its step, from its time stamp to the next (closed-form
integrals, so an hourly year of a 20 s swing costs nothing and does not alias), which is what a
:func:`gigawatt.cases.series_file.read_timeseries` row means. The shapes are ILLUSTRATIVE ASSUMPTIONS of this
module, not measurements; the qualitative behaviour of the training shape follows Choukse et al., "Power
Stabilization for AI Training Datacenters", arXiv:2508.14318 (2025): synchronous jobs alternate a
compute-heavy phase near full power with a communication phase far below it, every iteration, and fall
towards idle while checkpoints are written. Every number below (levels, periods, durations) is ours.

>>> ds = bundled_profile("training", start="2025-01-01", periods=3, step="1h")
>>> [round(float(v), 4) for v in ds.p_it_fraction.values]      # hourly means: swing mean, less the checkpoint pauses
[0.7703, 0.7703, 0.7703]
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.schema import schema


def _grid(start, periods: int, step) -> tuple[pd.DatetimeIndex, np.ndarray, float]:
    """Time stamps, their seconds since midnight of the start day, and the step [s]."""
    step_td = pd.Timedelta(step)
    if step_td < pd.Timedelta(1, "s") or step_td % pd.Timedelta(1, "s"):
        raise ValueError(f"step must be a whole number of seconds, at least 1 s (got {step!r})")
    time = pd.date_range(pd.Timestamp(start), periods=int(periods), freq=step_td, name="time")
    t0 = time[0].normalize()
    return time, (time - t0).total_seconds().to_numpy(), step_td.total_seconds()


def _dataset(time, values, shape: str, params: dict) -> xr.Dataset:
    f = schema()["timeseries"]["p_it_fraction"]
    attrs = {"units": "1", "long_name": f.description, "shape": shape,
             "assumption": "illustrative shape (gigawatt.cases.profiles), not a measurement: "
                           + ", ".join(f"{k}={v}" for k, v in params.items())}
    return xr.Dataset({"p_it_fraction": ("time", values, attrs)}, coords={"time": time},
                      attrs={"step_s": float((time[1] - time[0]).total_seconds()) if len(time) > 1 else np.nan})


def _step_means(cumulative, t: np.ndarray, step: float, period: float) -> np.ndarray:
    """Mean over [t, t + step) from the shape's integral since midnight, ``cumulative``, whose integrand
    repeats every ``period`` [s]: t is first reduced to within one period, so the difference keeps its
    precision (about 1e-13 relative) however long the series."""
    t0 = np.mod(t, period)
    return (cumulative(t0 + step) - cumulative(t0)) / step


def steady(start="2025-01-01", periods: int = 8760, step="1h", *, level: float = 1.0) -> xr.Dataset:
    """A constant IT load: every rack at ``level`` × its ``p_it_w`` [1] (1.0: full design load)."""
    time, _, _ = _grid(start, periods, step)
    return _dataset(time, np.full(len(time), float(level)), "steady", {"level": level})


def training(start="2025-01-01", periods: int = 8760, step="1h", *, high: float = 1.0, low: float = 0.3,
             iteration_s: float = 20.0, compute_share: float = 0.7, checkpoint_every_s: float = 1800.0,
             checkpoint_s: float = 60.0, checkpoint_level: float = 0.2) -> xr.Dataset:
    """A large synchronous training job: square power swings every iteration, and checkpoint pauses.

    Each checkpoint cycle of ``checkpoint_every_s`` [s] (from midnight of the start day) runs iterations of
    ``iteration_s`` [s] from its start, each at ``high`` for ``compute_share`` of the iteration (compute)
    then at ``low`` (communication), and ends with ``checkpoint_s`` [s] at ``checkpoint_level`` (checkpoint
    written, GPUs near idle). Assumptions (illustrative, not measured): 30–100 % swings with a 20 s iteration,
    70 % of it computing; a 60 s checkpoint every 30 min at 20 %. Mean over a cycle:
    ``((T - c)·(s·high + (1 - s)·low) + c·level) / T`` with ``T`` the cycle, ``c`` the checkpoint, ``s`` the
    compute share (for whole iterations).
    """
    time, t, dt = _grid(start, periods, step)
    period, share = float(iteration_s), float(compute_share)
    cycle, pause = float(checkpoint_every_s), float(checkpoint_s)
    if not (0 < share <= 1 and 0 < period and 0 <= pause < cycle):
        raise ValueError("need 0 < compute_share <= 1, iteration_s > 0 and 0 <= checkpoint_s < checkpoint_every_s")
    busy = cycle - pause
    per_iteration = period * (share * high + (1 - share) * low)

    def swing(tau):  # integral of the square wave from the start of a cycle [s]
        r = np.mod(tau, period)
        return np.floor(tau / period) * per_iteration + np.where(r < share * period, high * r,
                                                                 high * share * period + low * (r - share * period))

    def cumulative(x):
        tau = np.mod(x, cycle)
        in_cycle = np.where(tau < busy, swing(tau), swing(busy) + checkpoint_level * (tau - busy))
        return np.floor(x / cycle) * (swing(busy) + checkpoint_level * pause) + in_cycle

    params = dict(high=high, low=low, iteration_s=iteration_s, compute_share=compute_share,
                  checkpoint_every_s=checkpoint_every_s, checkpoint_s=checkpoint_s, checkpoint_level=checkpoint_level)
    return _dataset(time, _step_means(cumulative, t, dt, cycle), "training", params)


def inference(start="2025-01-01", periods: int = 8760, step="1h", *, mean: float = 0.6, amplitude: float = 0.25,
              peak_hour: float = 15.0) -> xr.Dataset:
    """Diurnal inference load: ``mean + amplitude·cos(2π (h − peak_hour) / 24 h)``, ``h`` the hour of day of
    the time stamps (their own time zone) [1]. Assumptions (illustrative): 35–85 % of design, peaking at 15:00,
    lowest at 03:00, the same every day."""
    time, t, dt = _grid(start, periods, step)
    day, phase = 86400.0, peak_hour * 3600.0

    def cumulative(x):
        return mean * x + amplitude * day / (2 * np.pi) * np.sin(2 * np.pi * (x - phase) / day)

    return _dataset(time, _step_means(cumulative, t, dt, day), "inference",
                    dict(mean=mean, amplitude=amplitude, peak_hour=peak_hour))


PROFILES = {"steady": steady, "training": training, "inference": inference}


def bundled_profile(name: str, start="2025-01-01", periods: int = 8760, step="1h", **params) -> xr.Dataset:
    """The bundled shape ``name`` (see :data:`PROFILES`): steady, training or inference."""
    try:
        shape = PROFILES[name]
    except KeyError:
        from gigawatt.errors import CaseError

        raise CaseError("unknown IT-load profile", field="profile", value=name, allowed=", ".join(PROFILES)) from None
    return shape(start, periods, step, **params)
