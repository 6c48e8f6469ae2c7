"""Time-series inputs from CSV: a ``time`` column and value columns named like the schema's ``timeseries``
fields (``p_it_w``, ``p_it_fraction``, ``outdoor_t_k``) in any unit spelling the loader accepts (``p_it_kw``,
``p_it_mw``, ``outdoor_t_c``).

Format (``#`` starts a comment line; blank lines are skipped)::

    # IT load of hall A, measured
    time,p_it_kw,outdoor_t_c
    2025-01-01T00:00,98000,-3.5
    2025-01-01T01:00,97500,-3.9

Time stamps are ISO 8601, all without or all with a UTC offset (converted to UTC, then stored without one);
the step is regular, one second or more (hourly for a year is 8760 rows), and each row holds the values from
its time stamp to the next. Everything is checked before any computing, and each error names the file, the
column and the row (data row, counted from 1, and its line in the file): a missing or unparsable time
stamp, a repeated or backwards time stamp, a gap or an irregular step, a step other than the one asked for, a
start or length other than the requested period, an unknown column or unit spelling, a missing, non-numeric
or out-of-range value.
"""
from __future__ import annotations

import difflib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.schema import aliases, canonical_names, refuse_control_characters, schema
from gigawatt.errors import CaseError

TABLE = "timeseries"
ONE_QUANTITY = (("p_it_fraction", "p_it_w"),)
"""Columns that give one quantity in two ways (the IT load as a share of the racks' power, or in watts): a
file holds at most one column of each group, so that none is silently ignored."""
# A UTC offset after the time of day (a date alone, 2025-01-01, ends in digits that look like one).
_OFFSET = re.compile(r"[T ]\d.*(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


def read_timeseries(path, *, start=None, periods: int | None = None, step=None, columns=None,
                    min_step="1s") -> xr.Dataset:
    """Read and check a time-series CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    start : str or pandas.Timestamp, optional
        Requested first time stamp (UTC or as in the file).
    periods : int, optional
        Requested number of steps (8760 for an hourly year).
    step : str or pandas.Timedelta, optional
        Requested step (``"1h"``, ``"15min"``, ``"1s"``); default: the file's own (its smallest interval).
    columns : iterable of str, optional
        Canonical value columns that must be present (``["p_it_fraction"]``).
    min_step : str or pandas.Timedelta, optional
        Shortest step accepted (default 1 s, then whole seconds); below a second (a training-swing trace,
        ``"10ms"``) the step is a whole number of milliseconds.

    Returns
    -------
    xarray.Dataset
        One variable per value column, canonical name, SI (``units``, ``long_name`` and ``given_as``
        attributes), along a ``time`` coordinate (datetime64, UTC where the file gave offsets); attributes
        ``file`` and ``step_s`` [s].

    Raises
    ------
    CaseError
        Naming the file, the row and line, the column and the value of the first problem found.
    """
    df, file, where = _load_csv(path)
    if "time" not in df.columns:
        raise CaseError("no 'time' column", file=file, element="header", allowed="a time column and value columns: "
                        + ", ".join(schema()[TABLE]))
    values_given = [c for c in df.columns if c != "time"]
    known = [n for n in schema()[TABLE] if n != "time"]
    spellings = known + list(aliases(TABLE))
    for given in values_given:
        if given not in spellings:
            near = difflib.get_close_matches(given, spellings, n=1)
            raise CaseError("unknown column (name or unit spelling)" + (f"; did you mean '{near[0]}'?" if near else ""),
                            file=file, element="header", field=given, allowed=", ".join(known)
                            + " (other unit spellings: see docs/case-format.md)")
    try:
        names = canonical_names(TABLE, values_given, file=file, element="header")
    except CaseError as err:  # one quantity in two columns
        raise CaseError(err.reason.replace("field", "column"), file=file, element="header", field=err.field) from None
    if not values_given:
        raise CaseError("no value columns besides 'time'", file=file, element="header",
                        allowed=", ".join(n for n in schema()[TABLE] if n != "time"))
    given_canon = {canon: given for given, (canon, _, _) in names.items()}
    for group in ONE_QUANTITY:
        both = [given_canon[c] for c in group if c in given_canon]
        if len(both) > 1:
            raise CaseError(f"columns '{both[0]}' and '{both[1]}' give one quantity two ways: keep one", file=file,
                            element="header", field=both[1], allowed=f"one of {', '.join(group)} (any unit spelling)")
    missing = [c for c in (columns or ()) if c not in given_canon]
    if missing:
        raise CaseError("required column is missing", file=file, element="header", field=missing[0])
    time, step_td = _time_axis(df, file, where, start, periods, step, min_step)
    data = {}
    fields = schema()[TABLE]
    for given, (canon, factor, offset) in names.items():
        f = fields[canon]
        si = _values(df[given], given, f, file, where, factor, offset, canon)
        data[canon] = ("time", si, {"units": f.unit or "1", "long_name": f.description, "given_as": given})
    return xr.Dataset(data, coords={"time": time}, attrs={"file": file, "step_s": step_td.total_seconds()})


def read_heat_demand(path, *, start=None, periods: int | None = None, step=None) -> xr.Dataset:
    """Read and check a heat-demand CSV file (the schema's ``heat_demand`` table): a ``time`` column as in
    :func:`read_timeseries`, and one column per series consumer or ``demand_group``, heat demand in W.

    Parameters as :func:`read_timeseries` (``start``, ``periods``, ``step``: the case's time axis).

    Returns
    -------
    xarray.Dataset
        ``heat_demand_w`` [W] along ``time`` and ``demand_column`` (the columns' names, as in the file);
        attributes ``file`` and ``step_s`` [s].

    Raises
    ------
    CaseError
        Naming the file, row and line, column and value of the first problem: those of :func:`read_timeseries`
        (gaps, a wrong step, a missing or non-numeric value) and a negative demand. Whether each column names
        a consumer or group is the case's to check
        (:meth:`gigawatt.solver.district_heating.stage.ConsumerDemand.series_columns`).
    """
    return _read_named_columns(path, schema()["heat_demand"]["demand_w"], "heat_demand_w", "demand_column",
                               "heat demand of the series consumers", "series consumer or demand_group, heat "
                               "demand in W", start=start, periods=periods, step=step)


def read_terminal_schedule(path, *, start=None, periods: int | None = None, step=None) -> xr.Dataset:
    """Read and check a terminal schedule CSV file (the schema's ``terminal_schedule`` table): a ``time`` column
    as in :func:`read_timeseries`, and one column per set-power terminal (``dc_terminal`` id), its set power in
    W at each step (positive into the DC bus: discharging; negative: charging).

    Parameters as :func:`read_timeseries` (``start``, ``periods``, ``step``: the case's time axis).

    Returns
    -------
    xarray.Dataset
        ``terminal_p_set_w`` [W] along ``time`` and ``terminal_column`` (the columns' names, as in the file);
        attributes ``file`` and ``step_s`` [s].

    Raises
    ------
    CaseError
        Naming the file, row and line, column and value of the first problem: those of :func:`read_timeseries`
        (gaps, a wrong step, a missing or non-numeric value, a value beyond the schema's bounds). Whether each
        column names a terminal is the case's to check
        (:meth:`gigawatt.solver.dc.series_grid.GridSeries.schedule_columns`).
    """
    return _read_named_columns(path, schema()["terminal_schedule"]["p_set_w"], "terminal_p_set_w",
                               "terminal_column", "set power of the terminal (negative: drawn)",
                               "dc_terminal id, set power in W", start=start, periods=periods, step=step)


def _read_named_columns(path, f, name: str, dim: str, long_name: str, per_column: str, *, start, periods, step
                        ) -> xr.Dataset:
    """A ``time`` column and columns named by the user (each checked against the schema field ``f``) as the
    variable ``name`` [f's unit] along ``time`` and ``dim``; ``per_column`` says in messages what a column is."""
    df, file, where = _load_csv(path)
    if "time" not in df.columns:
        raise CaseError("no 'time' column", file=file, element="header",
                        allowed=f"a time column and one column per {per_column.split(',')[0]}")
    given = [c for c in df.columns if c != "time"]
    if not given:
        raise CaseError("no value columns besides 'time'", file=file, element="header",
                        allowed=f"one column per {per_column}")
    if len(set(given)) < len(given):
        raise CaseError("a column appears twice", file=file, element="header",
                        field=next(c for c in given if given.count(c) > 1))
    time, step_td = _time_axis(df, file, where, start, periods, step, "1s")
    values = np.column_stack([_values(df[c], c, f, file, where, canon=c) for c in given])
    return xr.Dataset({name: (("time", dim), values, {"units": f.unit or "1", "long_name": long_name})},
                      coords={"time": time, dim: np.array(given, dtype=object)},
                      attrs={"file": file, "step_s": step_td.total_seconds()})


def _load_csv(path):
    """``(table of strings, file name, where(i))`` of a CSV file, comments and blank lines skipped; ``where(i)``
    names data row i (0-based) as the user finds it in the file."""
    file = str(path)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError("time-series file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as err:
        raise CaseError(f"cannot read the time-series file: {err}", file=file) from None
    refuse_control_characters(text, file=file)
    lines = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        df = pd.read_csv(io.StringIO(text), comment="#", skipinitialspace=True, dtype=str, keep_default_na=False,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise CaseError(f"not a CSV table: {str(err).strip()}", file=file) from None
    df.columns = [str(c).strip() for c in df.columns]

    def where(i: int) -> str:  # data row i (0-based) as the user finds it in the file
        line = f", line {lines[i + 1]}" if i + 1 < len(lines) else ""
        return f"row {i + 1}{line}"

    return df, file, where


def _time_axis(df, file, where, start, periods, step, min_step):
    """The checked time stamps and step of a table from :func:`_load_csv` (see :func:`read_timeseries`)."""
    if not len(df):
        raise CaseError("no data rows", file=file)

    time = _parse_time(df["time"], file, where)
    step_td = _check_steps(time, df["time"], step, file, where, pd.Timedelta(min_step))
    if start is not None:
        want = _timestamp(start, "start")
        if time[0] != want:
            raise CaseError("does not start at the requested period", file=file, element=where(0), field="time",
                            value=df["time"].iloc[0], allowed=f"starts at {want.isoformat()}")
    if periods is not None and len(time) != int(periods):
        raise CaseError(f"has {len(time)} rows, not the {int(periods)} of the requested period", file=file,
                        element=where(int(periods)) + " (the first row beyond)" if len(time) > int(periods) else None,
                        field="time", allowed=f"{int(periods)} rows")
    return time, step_td


def _values(column, given, f, file, where, factor=1.0, offset=0.0, canon=None) -> np.ndarray:
    """A value column as SI floats (value × factor + offset), each present, finite and within the bounds of
    the schema field ``f``; else a CaseError naming the row."""
    canon = f.name if canon is None else canon
    col = column.str.strip()
    empty = (col == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise CaseError("missing value", file=file, element=where(i), field=given)
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)  # fast, but may miss the last bit
    bad = ~np.isfinite(num)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("expected a finite number", file=file, element=where(i), field=given, value=col.iloc[i])
    num = col.to_numpy().astype(float)  # correctly rounded: a written file reads back to the same numbers
    si = num * factor + offset
    lo, hi, lo_in, hi_in = f.interval
    ok = (si >= lo if lo_in else si > lo) & (si <= hi if hi_in else si < hi)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        allowed = f"{f.bounds} {f.unit}".strip()
        if given != canon:
            allowed += f" as {canon} = {given} × {factor:g}" + (f" + {offset:g}" if offset else "")
        raise CaseError("out of range", file=file, element=where(i), field=given, value=col.iloc[i],
                        allowed=allowed)
    return si


def _timestamp(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise CaseError(f"not an ISO 8601 time stamp: the requested {what}", value=value) from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _parse_time(col: pd.Series, file: str, where) -> pd.DatetimeIndex:
    text = col.str.strip()
    aware = text.str.contains(_OFFSET).to_numpy()
    if aware.any() and not aware.all():
        i = int(np.flatnonzero(aware != aware[0])[0])
        raise CaseError("time stamps mix with and without a UTC offset", file=file, element=where(i), field="time",
                        value=col.iloc[i], allowed="all with or all without an offset")
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(aware[0]))
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("not an ISO 8601 time stamp", file=file, element=where(i), field="time", value=col.iloc[i],
                        allowed="for example 2025-01-01T00:00 or 2025-01-01T00:00+01:00")
    if aware[0]:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DatetimeIndex(parsed, name="time")


def _check_steps(time: pd.DatetimeIndex, col: pd.Series, step, file: str, where,
                 min_step: pd.Timedelta = pd.Timedelta(1, "s")) -> pd.Timedelta:
    diffs = np.diff(time.asi8)  # ns
    back = np.flatnonzero(diffs <= 0)
    if len(back):
        i = int(back[0])
        reason = "repeats the time stamp of the row before" if diffs[i] == 0 else "is earlier than the row before"
        raise CaseError(f"time stamp {reason} (time stamps must increase)", file=file, element=where(i + 1),
                        field="time", value=col.iloc[i + 1])
    if step is not None:
        want = pd.Timedelta(step)
    elif len(diffs):
        want = pd.Timedelta(int(diffs.min()), "ns")
    else:
        raise CaseError("a single row has no step: give the step", file=file, field="time")
    unit = pd.Timedelta(1, "s") if min_step >= pd.Timedelta(1, "s") else pd.Timedelta(1, "ms")
    if want < min_step or want % unit:
        what, least = (("seconds", f"{min_step.total_seconds():g} s") if unit == pd.Timedelta(1, "s") else
                       ("milliseconds", f"{min_step.total_seconds() * 1000:g} ms"))
        raise CaseError(f"step is not a whole number of {what} of at least {least}", file=file, field="time",
                        value=str(want), allowed=f">= {least}, whole {what}")
    off = np.flatnonzero(diffs != want.value)
    if len(off):
        i = int(off[0])
        d = pd.Timedelta(int(diffs[i]), "ns")
        if d > want and d % want == pd.Timedelta(0):
            reason = f"gap: {d // want - 1} missing step(s) of {_span(want)} before this row"
        else:
            reason = f"irregular step of {_span(d)} before this row (the step is {_span(want)})"
        raise CaseError(reason, file=file, element=where(i + 1), field="time", value=col.iloc[i + 1])
    return want


def _span(td: pd.Timedelta) -> str:
    """A duration as a person writes it: 1h, 15min, 30s, 1h 30min."""
    s = td.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    if s < 1 and round(s * 1000, 9) == int(round(s * 1000)):
        return f"{int(round(s * 1000))}ms"
    return str(td)


def write_timeseries(ds: xr.Dataset, path, *, spellings: dict | None = None) -> Path:
    """Write a time-series dataset as a CSV file :func:`read_timeseries` reads back to the same numbers.

    Parameters
    ----------
    ds : xarray.Dataset
        Variables along ``time`` in canonical names and SI (as :func:`read_timeseries` returns).
    path : str or Path
        The CSV file (written whole: a temporary file renamed when complete, :mod:`gigawatt.output_paths`);
        never the file ``ds`` was read from, a folder or a device (a :class:`~gigawatt.errors.CaseError`).
    spellings : dict, optional
        ``{canonical name: other spelling}`` to write a column in another unit (``{"p_it_w": "p_it_kw"}``).
    """
    from gigawatt.output_paths import atomic_write, check_output

    path = check_output(path, [ds.attrs.get("file")], what="time-series file", option="path")
    spellings = spellings or {}
    alias = {a: (c, fac, off) for a, (c, fac, off) in canonical_names(TABLE, list(spellings.values())).items()}
    out = {"time": pd.DatetimeIndex(ds["time"].values).strftime("%Y-%m-%dT%H:%M:%S")}
    for name in ds.data_vars:
        spelled = spellings.get(name, name)
        canon, factor, offset = alias.get(spelled, (name, 1.0, 0.0))
        if canon != name:
            raise CaseError("spelling of another column", field=spelled, value=name)
        out[spelled] = (ds[name].values - offset) / factor
    return atomic_write(path, lambda tmp: pd.DataFrame(out).to_csv(tmp, index=False, float_format="%.17g"))
