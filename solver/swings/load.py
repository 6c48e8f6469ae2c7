"""The IT-load fraction of a swing series: from the ``[swing]`` parameters or from a measured trace.

A trace is a time-series CSV read through :func:`gigawatt.cases.series_file.read_timeseries` (every check of
that reader: gaps, repeats, irregular steps, values out of range; each one error line naming the file, row
and column), at the ``[swing]`` step (10 ms or more, whole milliseconds), with ``p_it_fraction`` (of every
rack's IT power) or ``p_it_w`` (the campus's IT power, turned into a fraction of the racks' total).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gigawatt.cases.memory import check_memory
from gigawatt.errors import CaseError
from gigawatt.models.training_load import training_swing

MIN_STEP = "10ms"
BYTES_PER_STEP = 8 * 60
"""Memory a step of the series holds at once, about: the chain's series with and without the stores, the
spectrum, the results [B]."""
BYTES_PER_STORE_STEP = 8 * 12
PARAMETERS = ("period_s", "duty", "high", "depth", "checkpoint_every_s", "checkpoint_s", "checkpoint_level",
              "start_s", "stop_s", "ramp_s", "idle")


def swing_settings(case) -> dict:
    """The case's ``[swing]`` settings, checked for what the schema's bounds cannot say alone."""
    sw = case.settings.get("swing")
    if sw is None:
        raise CaseError("the case has no [swing] section (the training job's swings and their step)",
                        file=case.file, element="[swing]", allowed="a [swing] section, even empty for the defaults")
    steps = sw["duration_s"] / sw["step_s"]
    if abs(steps - round(steps)) > 1e-6 * steps or round(steps) < 2:
        raise CaseError("duration is not a whole number (at least 2) of steps", file=case.file, element="[swing]",
                        field="duration_s", value=sw["duration_s"], allowed=f"a multiple of step_s = {sw['step_s']} s")
    if abs(sw["step_s"] * 1000 - round(sw["step_s"] * 1000)) > 1e-9:
        raise CaseError("step is not a whole number of milliseconds", file=case.file, element="[swing]",
                        field="step_s", value=sw["step_s"], allowed="10 ms or more, whole milliseconds")
    n_store = len(case.tables["store"])
    check_memory(round(steps), BYTES_PER_STEP + BYTES_PER_STORE_STEP * n_store, "steps of the swing series "
                 "(duration_s / step_s)", file=case.file, element="[swing]", field="duration_s", value=sw["duration_s"])
    per = sw["cooling_step_s"] / sw["step_s"]
    if abs(per - round(per)) > 1e-6 * per:
        raise CaseError("cooling step is not a whole number of electrical steps", file=case.file, element="[swing]",
                        field="cooling_step_s", value=sw["cooling_step_s"], allowed=f"a multiple of {sw['step_s']} s")
    if sw["depth"] > sw["high"]:
        raise CaseError("depth is larger than the compute level", file=case.file, element="[swing]", field="depth",
                        value=sw["depth"], allowed=f"[0, high = {sw['high']}]")
    if sw["checkpoint_every_s"] > 0 and sw["checkpoint_s"] >= sw["checkpoint_every_s"]:
        raise CaseError("checkpoint pause not shorter than its interval", file=case.file, element="[swing]",
                        field="checkpoint_s", value=sw["checkpoint_s"],
                        allowed=f"below checkpoint_every_s = {sw['checkpoint_every_s']} s")
    return sw


def it_fraction(case, p_it_total_w: float, groups: int = 1) -> tuple[np.ndarray, float, str]:
    """(IT-load fraction [1] per step and group (steps, groups), step [s], the source: 'parameters' or the
    trace file). Group g (a hall, with ``[swing] scope = "hall"``) runs the job delayed by g·hall_offset_s."""
    sw = swing_settings(case)
    dt = float(sw["step_s"])
    n = int(round(sw["duration_s"] / dt))
    if sw.get("trace"):
        from gigawatt.cases.series_file import read_timeseries

        path = Path(sw["trace"])
        if not path.is_absolute() and case.file:
            path = Path(case.file).parent / path
        ds = read_timeseries(path, min_step=MIN_STEP)  # its own step, checked regular
        if round(ds.attrs["step_s"] * 1000) != round(dt * 1000):
            raise CaseError(f"the trace's step is {ds.attrs['step_s'] * 1000:g} ms, not the [swing] step", file=str(path),
                            field="time", value=f"{ds.attrs['step_s'] * 1000:g} ms",
                            allowed=f"step_s = {dt * 1000:g} ms (or set step_ms to the trace's)")
        if ds.sizes["time"] != n:
            raise CaseError(f"the trace has {ds.sizes['time']} rows, not the {n} of duration_s / step_s",
                            file=str(path), field="time", allowed=f"{n} rows (or set duration_s)")
        if groups > 1:
            raise CaseError("a trace is the campus's load: a job per hall comes from the parameters",
                            file=case.file, element="[swing]", field="scope", value="hall", allowed="campus")
        if "p_it_fraction" in ds:
            return ds["p_it_fraction"].to_numpy()[:, None], dt, str(path)
        if "p_it_w" in ds:
            return (ds["p_it_w"].to_numpy() / p_it_total_w)[:, None], dt, str(path)
        raise CaseError("a swing trace needs p_it_fraction or p_it_w", file=str(path), element="header")
    t = np.arange(n) * dt
    par = {k: sw[k] for k in PARAMETERS}
    return np.column_stack([training_swing(t - g * sw["hall_offset_s"], **par) for g in range(groups)]), dt, \
        "parameters"
