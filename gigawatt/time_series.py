"""A case solved step by step along its time axis: the coupled chain at every step, warm-started, its
figures as series along ``time``, and the period's energies with their ledgers.

The inputs (a Dataset along ``time``, SI units) come from the case's ``[time]`` table (:func:`time_inputs`:
a bundled IT-load shape or a CSV file, the bundled weather year, a constant or a CSV file) or are given:

* ``p_it_fraction`` [-]: every rack's power at the chips at that fraction of its case value (at 1 each rack
  draws its ``p_it_w``, on its ``p_it_basis``); or ``p_it_w`` [W]: the campus's total IT power on the racks'
  basis (their inputs, or their chips), every rack's chips scaled by the same factor to draw it;
* ``outdoor_t_k`` [K]: the dry coolers' ambient and the weather of the district-heating demand;
* ``heat_demand_w`` [W] along ``time`` and ``demand_column`` (``[time] heat_demand``,
  :func:`gigawatt.cases.series_file.read_heat_demand`): the demands of the ``series`` district-heating
  consumers, one column per consumer id or ``demand_group``;
* ``terminal_p_set_w`` [W] along ``time`` and ``terminal_column`` (``[time] terminal_schedule``,
  :func:`gigawatt.cases.series_file.read_terminal_schedule`): the set powers of the set-power terminals
  (``dc_terminal``) the columns name, in place of their ``p_set_w`` (a battery's charge and discharge schedule).

A case with DC grid elements (set-power terminals, conductance loads, ratio- or power-controlled or meshed
DC/DC converters) has each step's DC network solved by the DC grid load flow
(:mod:`gigawatt.solver.dc.series_grid`); when its DC stage does not depend on the cooling's state (no chip
leakage) the steps of a chunk are solved together in one batch. Its steps carry ``p_dc_terminals_w``,
``p_dc_conductances_w`` and ``terminals_at_limit`` besides the other figures.

Each step is solved by :class:`gigawatt.solver.chain_stepper.ChainStepper` (the stages prepared once, each
warm-started from the last step). Outputs: the step's scalar figures (``p_grid_w``, ``p_it_w``, ``pue``,
``q_recovered_w``, ``dh_q_delivered_w``, …, as the attributes of :func:`gigawatt.solve`'s results) as
variables along ``time``, each bus's lowest voltage and each rack's hottest chip over the period
(``v_min_pu_over_period``, ``t_chip_max_k_over_period``), and attributes with the period's energies [J] (``energy_<name>_j`` = Σ power ×
step for every ``*_w`` figure; ``mass_co2e_kg`` from ``co2e_kg_per_s``), the KPIs over the period (``pue``,
``erf``, …: ratios of the period's energies, formed by :mod:`gigawatt.solver.facility_kpis` as the design
hour's are, with the statement of their boundary and basis in ``kpi_basis``), and the period's ledgers, each
relative to its inflow:

* ``energy_balance_residual``: |Σ (grid − IT − losses grid to chips) Δt| / Σ grid Δt (with DC grid elements:
  |Σ (grid + terminals − IT − losses − conductance loads) Δt| / (Σ grid Δt + |Σ terminals Δt|));
* ``heat_balance_residual``: |Σ (heat into the coolant − rejected − recovered − loop pipe losses) Δt| / Σ in;
* ``facility_energy_residual``: |Σ (facility power − heat and motor losses to the outside) Δt| / Σ facility.

With ``output`` the steps are appended to that NetCDF file a chunk (``[time] chunk_steps``) at a time, so a
long series never holds more than one chunk in memory (:mod:`gigawatt.series_writer`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.memory import BYTES_PER_STEP, BYTES_PER_STEP_KEPT, check_memory
from gigawatt.errors import CaseError, ConvergenceError

INPUTS = ("p_it_fraction", "p_it_w", "outdoor_t_k")
"""The time-series columns a run uses (canonical names, SI)."""
BUNDLED_LOADS = ("steady", "training", "inference")
DEFAULT_CHUNK_STEPS = 168


def time_inputs(case) -> xr.Dataset:
    """The inputs along the case's ``[time]`` axis (see the module notes); raises :class:`CaseError` naming
    the ``[time]`` field, or the CSV file, row and column, before any computing."""
    from gigawatt.cases.profiles import bundled_profile
    from gigawatt.cases.series_file import read_timeseries

    t = case.settings.get("time")
    if t is None:
        raise CaseError("the case has no time axis: add a [time] table (empty for an hourly year)", file=case.file,
                        element="[time]")
    start, step = _start(case, t["start"]), _step(case, t["step"])
    periods = int(t["periods"])
    _check_end(case, start, step, periods)
    check_memory(periods, BYTES_PER_STEP, "the time axis's inputs", file=case.file, element="[time]",
                 field="periods", value=periods)
    grid = dict(start=start, periods=periods, step=step)
    if t["it_load"] in BUNDLED_LOADS:
        load = bundled_profile(t["it_load"], **grid)[["p_it_fraction"]]
    else:
        load = read_timeseries(_beside(case, t["it_load"], "it_load"), **grid)
        if not {"p_it_fraction", "p_it_w"} & set(load.data_vars):
            raise CaseError("the IT-load file has neither p_it_fraction nor p_it_w", file=load.attrs["file"],
                            element="header", allowed="p_it_fraction, p_it_w (or p_it_kw, p_it_mw)")
        load = load[[n for n in ("p_it_fraction", "p_it_w") if n in load][:1]]
    if t["weather"] == "constant":
        weather = xr.Dataset({"outdoor_t_k": ("time", np.full(periods, _constant_outdoor(case)))},
                             coords={"time": load.time.values})
    else:  # the bundled weather year or a CSV file
        from gigawatt.cases.weather import outdoor_temperature

        try:
            weather = outdoor_temperature(t["weather"], base_dir=Path(case.file).parent if case.file else None,
                                          file=case.file, **grid)
        except CaseError as err:
            if err.field != "weather":
                raise
            raise CaseError(err.reason, file=case.file, element="[time]", field="weather", value=err.value,
                            allowed="bundled, constant, or a time-series CSV file (relative to the case file)") \
                from None
    parts = [load.assign_coords(time=load.time.values), weather.assign_coords(time=load.time.values)]
    if str(t.get("heat_demand", "none")).strip() != "none":
        from gigawatt.cases.series_file import read_heat_demand

        demand = read_heat_demand(_beside(case, t["heat_demand"], "heat_demand", "none"), **grid)
        parts.append(demand.assign_coords(time=load.time.values))
    elif "dh_consumer" in case.tables and np.any(case.tables["dh_consumer"]["kind"].to_numpy() == "series"):
        raise CaseError("the case has series consumers (dh_consumer kind = series) but no heat-demand file",
                        file=case.file, element="[time]", field="heat_demand", value="none",
                        allowed="a heat-demand CSV file (relative to the case file)")
    if str(t.get("terminal_schedule", "none")).strip() != "none":
        from gigawatt.cases.series_file import read_terminal_schedule

        schedule = read_terminal_schedule(_beside(case, t["terminal_schedule"], "terminal_schedule", "none"), **grid)
        schedule["terminal_p_set_w"].attrs["file"] = schedule.attrs["file"]  # for messages about its columns
        parts.append(schedule.assign_coords(time=load.time.values))
    out = xr.merge(parts)
    out.attrs = {"step_s": pd.Timedelta(step).total_seconds(), "it_load": t["it_load"], "weather": t["weather"]}
    return out


def _start(case, value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
        if ts is pd.NaT:  # pandas reads "" and "NaT" as no time at all
            raise ValueError
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        ts = ts.as_unit("ns")  # pandas may hold years beyond 2262 in seconds; the time axis is in nanoseconds
    except (TypeError, ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        raise CaseError("not an ISO 8601 time stamp between 1677 and 2262 (the range of pandas' datetimes)",
                        file=case.file, element="[time]", field="start", value=value,
                        allowed="for example 2025-01-01T00:00") from None
    return ts


def _check_end(case, start: pd.Timestamp, step: pd.Timedelta, periods: int) -> None:
    """The last time stamp must be one pandas' datetimes (nanoseconds in 64 bits) can hold."""
    last_ns = start.value + step.value * (periods - 1)  # Python integers: no overflow
    if last_ns > pd.Timestamp.max.value:
        fit = (pd.Timestamp.max.value - start.value) // step.value + 1
        raise CaseError(f"the time axis would end after {pd.Timestamp.max:%Y-%m-%d}, the last date pandas' datetimes "
                        "hold", file=case.file, element="[time]", field="periods", value=periods,
                        allowed=f"at most {fit} steps of {step} from {start}")


def _step(case, value) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError, OverflowError):
        td = None
    if td is pd.NaT:
        td = None
    if td is None or td < pd.Timedelta(1, "s") or td % pd.Timedelta(1, "s"):
        raise CaseError("not a step of whole seconds, at least 1 s", file=case.file, element="[time]", field="step",
                        value=value, allowed="for example 1h, 15min, 10s")
    return td


def time_input_files(time_settings: dict | None, case_file: str | None) -> dict[str, Path]:
    """``{field: path}`` of the CSV files a ``[time]`` table names (``it_load``, ``weather``; not the bundled
    choices), relative to the case file: the files a run reads beyond the case file and its table CSVs
    (whose content the case hash covers). Missing files are listed too (the run refuses them itself)."""
    if not time_settings:
        return {}
    named = {field: time_settings.get(field) for field in ("it_load", "weather", "heat_demand", "terminal_schedule")}
    builtin = {"it_load": BUNDLED_LOADS, "weather": ("bundled", "constant"), "heat_demand": ("none",),
               "terminal_schedule": ("none",)}
    out = {}
    for field, name in named.items():
        if isinstance(name, str) and name.strip() not in builtin[field]:
            path = Path(name.strip())
            out[field] = Path(case_file).parent / path if case_file and not path.is_absolute() else path
    return out


def _beside(case, name: str, field: str, choices: str = ", ".join(BUNDLED_LOADS)) -> Path:
    """A file named in ``[time]``, relative to the case file; a name that is neither a bundled choice nor
    an existing file is refused naming both."""
    path = Path(name)
    if case.file and not path.is_absolute():
        path = Path(case.file).parent / path
    if not path.is_file():
        raise CaseError("neither a bundled choice nor an existing CSV file", file=case.file, element="[time]",
                        field=field, value=name, allowed=f"{choices}, or a time-series CSV file")
    return path


def _constant_outdoor(case) -> float:
    dh, cooling = case.settings.get("district_heating"), case.settings.get("cooling")
    if dh is not None:
        return float(dh["outdoor_t_k"])
    return float(cooling["ambient_t_k"]) if cooling is not None else float("nan")


def run_time_series(case, series: xr.Dataset | None = None, *, output=None, progress=None) -> xr.Dataset:
    """Solve ``case`` at every step of ``series`` (default: :func:`time_inputs` of the case's ``[time]``)
    and return the figures along ``time`` with the period's totals (see the module notes). With ``output``
    (a path) the steps stream to that NetCDF file and the returned dataset is that file, opened lazily.
    ``progress(k, n)`` is called after each step.

    Raises
    ------
    gigawatt.CaseError
        A series with none of the inputs, or one that scales a campus without IT power.
    gigawatt.ConvergenceError
        A step that does not solve; its message names the step's time.
    """
    from gigawatt.cases.case import require_case
    from gigawatt.output_paths import raise_if_terminated
    from gigawatt.series_writer import SeriesWriter
    from gigawatt.solver.chain_stepper import ChainStepper, check_fraction
    from gigawatt.solver.plausibility import STEP_PEAKS, check_steady_start, series_warnings
    from gigawatt.solver.solve import check_ledgers_finite

    require_case(case, "run_time_series")
    if series is None:
        series = time_inputs(case)
    used = [name for name in INPUTS if name in series]
    if not used:
        raise CaseError("the time series has none of the inputs a run uses", element="time series",
                        allowed=", ".join(INPUTS))
    times = series["time"].to_numpy()
    if times.size < 1:
        raise CaseError("the time series has no steps", element="time series")
    step_s = _step_seconds(times, series.attrs.get("step_s"))
    p_ref = case.tables["rack"]["p_it_w"].to_numpy().astype(float)
    fraction = np.ones(times.size)
    if ("p_it_fraction" in series or "p_it_w" in series) and p_ref.size:  # (a heating network alone: no load)
        if not p_ref.sum() > 0:
            raise CaseError("the time series scales the racks' IT power, but the case has none", element="rack",
                            field="p_it_w", value=float(p_ref.sum()))
        fraction = (series["p_it_fraction"].to_numpy().astype(float) if "p_it_fraction" in series
                    else series["p_it_w"].to_numpy().astype(float) / p_ref.sum())
        check_fraction(fraction, "time series")
        if "p_it_fraction" not in series:
            fraction = _fraction_of_total(case, series["p_it_w"].to_numpy().astype(float), fraction)
    outdoor = series["outdoor_t_k"].to_numpy().astype(float) if "outdoor_t_k" in series else None
    heat_demand = series["heat_demand_w"].to_numpy().astype(float) if "heat_demand_w" in series else None
    hour_of_day = (times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")  # local, as the profiles' hours
    chunk = int((case.settings.get("time") or {}).get("chunk_steps", DEFAULT_CHUNK_STEPS))
    if output is None:  # every step's figures kept in memory
        check_memory(times.size, BYTES_PER_STEP_KEPT, "a time series kept in memory (no results file)",
                     file=case.file, element="[time]", field="periods", value=int(times.size))
    if output is not None:  # never over an input, a folder or a device; before any step is solved
        from gigawatt.output_paths import case_inputs, check_output

        output = check_output(output, case_inputs(case.file) + [series.attrs.get("file")])
    stepper = ChainStepper(case)
    if heat_demand is not None and stepper.dh is not None:
        stepper.dh.use_heat_demand(series["demand_column"].to_numpy(), file=(case.settings.get("time") or {}).get(
            "heat_demand"))
    terminals = _terminal_schedule(case, series, stepper)
    start_lines = [] if stepper.dh is None else check_steady_start(case.tables["dh_pipe"]["id"].to_numpy(),
                                                                     stepper.dh.steady_start.pipe_velocity_m_s)
    totals = _Totals(step_s)
    attrs = {"title": f"gigawatt time series of case '{case.name}'", "case_name": case.name,
             "case_hash": case.hash(), "steps": int(times.size), "step_s": step_s,
             "it_load": str(series.attrs.get("it_load", "given")), "weather": str(series.attrs.get("weather", "given"))}
    from gigawatt import __version__

    attrs["gigawatt_version"] = __version__
    writer = SeriesWriter(output, times[0]) if output is not None else None
    kept: list[dict] = []
    peaks: dict = {}  # the period's peak of each figure the plausibility checks look at, and when
    try:
        records: list[dict] = []
        for k, t in enumerate(times):
            t_out = None if outdoor is None else float(outdoor[k])
            if k % chunk == 0 and stepper.open_loop_dc:  # the chunk's DC stage in one batch
                stepper.solve_dc_ahead(fraction[k:k + chunk], terminals.rows(k, min(k + chunk, times.size)))
            if k % chunk == 0 and stepper.dh is not None:  # the chunk's heat demands, checked and evaluated at once
                b = min(k + chunk, times.size)
                demands = stepper.dh.demands(np.full(b - k, stepper.dh.s["outdoor_t_k"]) if outdoor is None
                                             else outdoor[k:b], hour_of_day[k:b],
                                             None if heat_demand is None else heat_demand[k:b])
            try:
                record = stepper.step(float(fraction[k]), t_out, step_s, float(hour_of_day[k]),
                                      None if heat_demand is None else heat_demand[k], terminals.row(k),
                                      demand_w=None if stepper.dh is None else demands.row(k % chunk))
            except ConvergenceError as err:
                raise ConvergenceError(f"time step {np.datetime_as_string(t, unit='s')}: {err}", partial=err.partial,
                                       details=err.details) from None
            for name in STEP_PEAKS:
                if name in record and record[name] > peaks.get(name, (-np.inf, None))[0]:
                    peaks[name] = (record[name], np.datetime_as_string(t, unit="s"))
            record["p_it_fraction"] = float(fraction[k])  # the step's inputs, beside its results
            if t_out is not None:
                record["outdoor_t_k"] = t_out
            records.append(record)
            raise_if_terminated()  # a SIGTERM that landed in a finalizer (see output_paths)
            if len(records) == chunk or k == times.size - 1:
                columns = _columns(records)
                totals.add(columns)
                if writer is not None:
                    writer.append(times[k + 1 - len(records):k + 1], columns)
                else:
                    kept.append(columns)
                records = []
            if progress:
                progress(k + 1, times.size)
        attrs.update(totals.result())
        attrs.update(_period_kpis(case, attrs, hours=times.size * step_s / 3600.0))
        attrs.update(stepper.ledger_attrs())
        if "energy_q_recovered_j" in attrs and "annual_heat_per_home_j" in attrs:
            from gigawatt.models.consumers import homes_heated_annual
            from gigawatt.solver.district_heating.results import demand_basis_attrs

            attrs["homes_equivalent"] = homes_heated_annual(attrs["energy_q_recovered_j"],
                                                            attrs["annual_heat_per_home_j"], times.size * step_s)
            attrs.update(demand_basis_attrs(case, "campus heat reused over the period, scaled to a year"))
        extremes = stepper.extremes()
        lines = start_lines + series_warnings(peaks, extremes)
        attrs.update(warnings="\n".join(lines), plausibility_warnings="\n".join(lines))
        check_ledgers_finite(attrs, case.file)  # before the file is committed
        attrs.update({f"seconds_{stage}": t for stage, t in stepper.seconds.items()})  # wall time by stage
        if stepper.dc is not None and stepper.dc.net is None:  # DC grid elements: how many steps were batched
            attrs["dc_steps_from_batch"] = stepper.dc.steps_from_batch
        if writer is not None:
            del stepper  # its networks and factors freed before the file is finished and read: the year's peak memory
            path = writer.finish(attrs, extremes)
            return xr.open_dataset(path)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    names = [n for n in kept[0] if all(n in c for c in kept)]
    ds = xr.Dataset({n: ("time", np.concatenate([c[n] for c in kept])) for n in names}, coords={"time": times})
    ds = ds.merge(extremes)
    ds.attrs.update(attrs)
    from gigawatt.series_writer import figure_units
    from gigawatt.solver.results_schema import conform

    for name in ds.data_vars:  # as SeriesWriter gives them in a file
        ds[name].attrs.setdefault("units", figure_units(name))
    return conform(ds)


class _TerminalSets:
    """Each step's set powers of the in-service terminals [W]: the schedule's ``values`` (steps × columns) in
    their ``columns`` over the case's ``base`` (``base`` None: a case without DC grid elements, nothing to set)."""

    def __init__(self, base=None, columns=None, values=None):
        self.base, self.columns, self.values = base, columns, values

    def row(self, k: int):
        if self.base is None or self.values is None:
            return self.base
        out = self.base.copy()
        out[self.columns] = self.values[k]
        return out

    def rows(self, a: int, b: int) -> np.ndarray:
        """Steps a … b − 1 (as many as the series has) as an array steps × terminals."""
        out = np.tile(self.base, (b - a, 1))
        if self.values is not None:
            part = self.values[a:b]
            out = out[:part.shape[0]]
            out[:, self.columns] = part
        return out


def _terminal_schedule(case, series, stepper) -> _TerminalSets:
    """The terminal set powers along the series (``terminal_p_set_w`` along ``terminal_column``, from
    ``[time] terminal_schedule``): a column that names no in-service ``dc_terminal`` is one :class:`CaseError`
    line."""
    grid = stepper.dc is not None and stepper.dc.net is None
    if "terminal_p_set_w" not in series:
        return _TerminalSets(stepper.dc.terminal_set_powers() if grid else None)
    names = series["terminal_column"].to_numpy().astype(str)
    file = series["terminal_p_set_w"].attrs.get("file")
    if not grid:
        raise CaseError("the column names no in-service dc_terminal of the case", file=file, element="header",
                        field=str(names[0]), allowed="(the case has none)")
    columns = stepper.dc.schedule_columns(names, file=file)
    values = series["terminal_p_set_w"].to_numpy().astype(float)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:  # (a file's values are checked when it is read; a Dataset's here)
        k, j = bad[0]
        raise CaseError("a terminal's set power must be a finite number", file=file, element=f"time series step {k}",
                        field=str(names[j]), value=float(values[k, j]), allowed="[-1e11, 1e11] W")
    return _TerminalSets(stepper.dc.terminal_set_powers(), columns, values)


def _fraction_of_total(case, p_total_w: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The factor on every rack's power at the chips that makes the racks' IT power, summed on their
    ``p_it_basis``, equal ``p_total_w`` [W] at each step (``start``: the ratio to the case's total, exact for
    racks given at the chips). Racks given at their input draw through shelves whose efficiency varies with
    load, so the factor is iterated, f ← f · P / ΣP(f), a contraction since the total is nearly proportional
    to f; relative accuracy 1e-13. Steps are taken a chunk at a time (about 2²² rack powers held)."""
    from gigawatt.models.racks import chip_powers
    from gigawatt.solver.dc.series import RackPowers

    racks = case.tables["rack"]
    on_input = racks["p_it_basis"].to_numpy() == "input"
    if not on_input.any():
        return start
    chips, chain = chip_powers(case), RackPowers(case)
    out = start.copy()
    size = max(1, 2 ** 22 // max(chips.size, 1))
    for k in range(0, out.size, size):
        f, target = out[k:k + size], p_total_w[k:k + size]  # f: a view, updated in place
        for _ in range(100):
            p_chips = f[:, None] * chips
            total = np.where(on_input, chain(p_chips)[0], p_chips).sum(axis=1)
            ratio = np.divide(target, total, out=np.ones_like(total), where=total > 0)
            f *= ratio
            if np.max(np.abs(ratio - 1.0), initial=0.0) <= 1e-13:
                break
    return out


def _period_kpis(case, totals: dict, hours: float) -> dict:
    """The period's KPIs from its energies (:func:`gigawatt.solver.facility_kpis.period_kpis`, the module
    every KPI comes from) and the statement of their boundary and basis; nothing without cooling."""
    from gigawatt.solver.facility_kpis import kpi_basis, kpi_units, period_kpis

    if "energy_p_total_facility_j" not in totals:
        return {}
    annual = " (a year: the annual figures the standards define)" if abs(hours - 8760.0) <= 24.0 else ""
    out = period_kpis(case, totals, totals.get("mass_co2e_kg"))
    out.update(it_boundary=case.settings["kpi"]["it_boundary"], kpi_period=f"{hours:g} h",
               kpi_basis=kpi_basis(case, ac_solved=False, ac_in_case=bool(len(case.tables["ac_supply"])),
                                   series=True, period=f"the period of {hours:,.6g} h{annual}: every KPI is a ratio "
                                   "of the period's energies (Σ power × step)"),
               kpi_attrs_units=kpi_units())
    return out


def _columns(records: list[dict]) -> dict[str, np.ndarray]:
    """Steps' numeric figures as one array per figure (the figures every step has; names such as the
    lowest-voltage bus's id are left out)."""
    common = set(records[0]).intersection(*records[1:])
    names = [n for n, v in records[0].items() if not isinstance(v, str) and n in common]
    rows = np.array([[r[n] for n in names] for r in records], float).reshape(len(records), len(names))
    return {n: rows[:, j].copy() for j, n in enumerate(names)}


def _step_seconds(times: np.ndarray, given=None) -> float:
    """The series' regular step [s] (one step: its stated step, else an hour)."""
    if times.size < 2:
        return float(given) if given and np.isfinite(given) else 3600.0
    return float((times[1] - times[0]) / np.timedelta64(1, "s"))


class _Totals:
    """Running sums of power × step over the chunks: the period's energies and ledgers without holding the
    steps."""

    def __init__(self, step_s: float):
        self.step_s = step_s
        self.energy: dict[str, float] = {}
        self.mass: dict[str, float] = {}  # [kg] from the *_kg_per_s figures (the emissions)

    def add(self, columns: dict[str, np.ndarray]) -> None:
        for name, values in columns.items():
            if name.endswith("_w"):
                self.energy[name] = self.energy.get(name, 0.0) + float(np.sum(values)) * self.step_s
            elif name.endswith("_kg_per_s"):
                self.mass[name] = self.mass.get(name, 0.0) + float(np.sum(values)) * self.step_s

    def result(self) -> dict:
        out = {f"energy_{name[:-2]}_j": value for name, value in self.energy.items()}
        e = lambda name: out.get(f"energy_{name}_j", 0.0)  # noqa: E731
        if e("p_grid") > 0:  # set-power terminals supply beside the grid, conductance loads draw beside the racks
            out["energy_balance_residual"] = (abs(e("p_grid") + e("p_dc_terminals") - e("p_it") - e("p_loss")
                                                  - e("p_dc_conductances"))
                                              / (e("p_grid") + abs(e("p_dc_terminals"))))
        if e("q_into_coolant") > 0:
            out["heat_balance_residual"] = (abs(e("q_into_coolant") - e("q_rejected") - e("q_recovered")
                                                - e("q_loop_loss")) / e("q_into_coolant"))
        if e("p_facility") > 0 and e("q_to_outside") > 0:
            out["facility_energy_residual"] = abs(e("p_facility") - e("q_to_outside")) / e("p_facility")
        if self.mass:
            out.update({f"mass_{name[:-len('_kg_per_s')]}_kg": value for name, value in self.mass.items()})
        return out
