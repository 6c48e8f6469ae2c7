"""Parameter sweeps: the grid of scenarios of one case, solved on Dask, resumable, one dataset at the end.

A swept field is named ``section.field`` for a settings field (``district_heating.t_supply_k``,
``campus.rack_it_power_kw``, ``cooling.facility_class``) or ``table.field`` for an element-table field set on
every row (``rack.p_it_kw``), in any spelling the loader accepts. Every value is parsed, converted to SI and
checked against the schema (:mod:`gigawatt.cases.schema`) before any computing starts.

The grid (cartesian product, the first field outermost) runs on a ``dask.distributed`` cluster: a
``LocalCluster`` of worker processes by default (no server needed), or an existing cluster's scheduler.
Workers get the case as plain data (the parsed TOML document with its CSV tables read in, or a built case's
tables), build and solve their scenario, and send back the results as NetCDF bytes; this process writes each
one as it arrives to ``OUT.parts/<key>.nc`` (to a temporary file of this run first, then renamed:
:mod:`gigawatt.output_paths`), so the files are always whole; a part that cannot be read all the same (a
full disk, a crash) is removed and solved again. The key is a hash of the base case's content hash, the
scenario's values and the content of the time-series files it reads (not their names): a rerun skips the
scenarios whose part exists, and solves again those whose files changed. A scenario that fails with a
gigawatt error (bad input, no convergence) is
recorded in ``OUT.parts/<key>.error.json`` and skipped on rerun too (it would fail the same way); any other
failure (a lost worker, a bug) is recorded there but tried again on rerun.

At the end the scalar results (the numeric attributes of every scenario's dataset: ``p_grid_w``, ``pue``,
``erf``, …) are gathered in one dataset along a ``scenario`` dimension, with one coordinate per swept field
(canonical name, SI) and ``status``/``error`` variables, written to ``OUT`` the same whole-file way.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import itertools
import json
import logging
import math
import os
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.schema import ELEMENT_TABLES, SETTINGS_TABLES, canonical_names, check_scalar, parse_scalar, schema
from gigawatt.errors import CaseError, GigawattError
from gigawatt.output_paths import atomic_write, case_inputs, check_output, default_output, remove_stale
from gigawatt.quantities import engineering
from gigawatt.series_writer import figure_units

SCHEDULER_CONNECT_TIMEOUT_S = 5.0
# Settings sections the case must already have to be swept (sweeping them into a case that lacks them would
# add a whole system, not vary one); these always exist.
_ALWAYS_PRESENT = ("case", "solver", "dc", "kpi")  # dc: all defaults when absent (once the bipolar branch is merged)
# Units of result attributes by their name's suffix (the naming convention of STYLE.md), for the KPI variables.
@dataclass(frozen=True)
class SweptField:
    """One swept field: where it lives, its canonical name and its values in SI (and as the user gave them)."""

    given: str  # as the user wrote it, e.g. "rack.p_it_kw"
    table: str  # settings section or element table
    field: str  # canonical field name, e.g. "p_it_w"
    values: tuple  # SI, the schema's type
    given_values: tuple

    @property
    def is_settings(self) -> bool:
        return self.table in SETTINGS_TABLES

    @property
    def coord(self) -> str:
        """Name of its coordinate in the sweep dataset: ``table.field`` in canonical spelling."""
        return f"{self.table}.{self.field}"


def parse_set_option(text: str) -> tuple[str, list[str]]:
    """Split one ``--set FIELD=v1,v2,...`` option into the field name and its value texts.

    >>> parse_set_option("rack.p_it_kw=100, 120")
    ('rack.p_it_kw', ['100', '120'])
    """
    name, sep, values = str(text).partition("=")
    if not sep or not name.strip():
        raise CaseError("expected FIELD=v1,v2,... (for example rack.p_it_kw=100,120)", element="--set", value=text)
    return name.strip(), [v.strip() for v in values.split(",")]


def swept_field(name: str, values) -> SweptField:
    """Validate one swept field and its values against the schema (type, unit spelling, bounds).

    Raises
    ------
    CaseError
        Naming the field (``--set``) and the first bad value: an unknown section, table or field, a field that
        cannot be swept (ids, lists), no values, a value of the wrong type or out of range, a value twice.
    """
    where = dict(element="--set", field=name)
    table, dot, fname = str(name).partition(".")
    if not dot or table not in schema() or table not in ELEMENT_TABLES + SETTINGS_TABLES:
        raise CaseError("expected section.field or table.field, with a known section or table", **where,
                        allowed=", ".join(SETTINGS_TABLES + ELEMENT_TABLES))
    try:
        canon, factor, offset = canonical_names(table, [fname])[fname]
    except CaseError as err:
        raise CaseError(err.reason, **where, allowed=err.allowed) from None
    f = schema()[table][canon]
    if f.type == "list" or (table in ELEMENT_TABLES and canon == "id"):
        raise CaseError("this field cannot be swept", **where)
    values = list(values)
    if not values or any(str(v).strip() == "" for v in values):
        raise CaseError("expected one or more comma-separated values, none empty", **where, value=",".join(map(str, values)))
    out = []
    for raw in values:
        try:
            v = parse_scalar(f, raw)
            if f.type in ("float", "int"):
                v = v * factor + offset if (factor, offset) != (1.0, 0.0) else v
                v = int(v) if f.type == "int" else float(v)
            check_scalar(f, v)
        except CaseError as err:
            allowed = err.allowed
            if allowed and (factor, offset) != (1.0, 0.0):
                allowed += f" as {canon} = {fname} × {factor:g}" + (f" + {offset:g}" if offset else "")
            raise CaseError(err.reason, **where, value=raw, allowed=allowed) from None
        if v in out:
            raise CaseError("value given twice", **where, value=raw)
        out.append(v)
    return SweptField(name, table, canon, tuple(out), tuple(values))


def parse_grid(fields) -> list[SweptField]:
    """Validate a grid given as ``{field: values}`` or a list of ``--set`` texts; each field once."""
    if isinstance(fields, dict):
        items = list(fields.items())
    else:
        items = [parse_set_option(t) for t in fields]
    if not items:
        raise CaseError("nothing to sweep: give at least one --set FIELD=v1,v2,...", element="--set")
    out = [swept_field(name, values) for name, values in items]
    seen = {}
    for sf in out:
        if sf.coord in seen:
            raise CaseError(f"field swept twice (also as '{seen[sf.coord]}')", element="--set", field=sf.given)
        seen[sf.coord] = sf.given
    return out


# --- the case as plain data, and building a scenario's case from it ---------------------------------------

@dataclass(frozen=True)
class CaseSource:
    """A case as picklable data: a case file's parsed document, or a built case's tables and settings."""

    doc: dict | None
    parts: dict | None
    file: str | None
    table_files: dict

    @classmethod
    def of(cls, case) -> "CaseSource":
        """From a case file path (None: the bundled default case) or a :class:`~gigawatt.cases.case.Case`."""
        from gigawatt.cases.case import Case
        from gigawatt.cases.loader import read_case_document

        if isinstance(case, Case):
            parts = {"tables": {k: v.copy() for k, v in case.tables.items()},
                     "loss_models": copy.deepcopy(dict(case.loss_model_params)),
                     "settings": {k: None if v is None else dict(v) for k, v in case.settings.items()}}
            return cls(None, parts, case.file, {})
        doc, file, table_files = read_case_document(case)
        return cls(doc, None, file, table_files)

    def sections(self) -> set[str]:
        """Settings sections this case has (those a sweep may vary)."""
        if self.doc is not None:
            town = {"district_heating"} if self.doc.get("town") is not None else set()  # a town implies it
            return set(_ALWAYS_PRESENT) | town | {s for s in SETTINGS_TABLES if self.doc.get(s) is not None}
        return {k for k, v in self.parts["settings"].items() if v is not None}

    def build(self, settings: dict | None = None, rows: dict | None = None):
        """The case with ``settings`` ``{(section, field): value}`` set before building and ``rows``
        ``{(table, field): value}`` set on every row of the built tables (values canonical, SI)."""
        from gigawatt.cases.case import make_case
        from gigawatt.cases.loader import case_from_document

        settings, rows = settings or {}, rows or {}
        if self.doc is not None:
            doc = dict(self.doc)
            for (section, fname), value in settings.items():
                doc[section] = _with_setting(doc.get(section), section, fname, value)
            case = case_from_document(doc, self.file, self.table_files)
            if not rows:
                return case
            tables = dict(case.tables)
            loss_models = dict(case.loss_model_params)
            sets = {k: None if v is None else dict(v) for k, v in case.settings.items()}
        else:
            tables, loss_models = dict(self.parts["tables"]), self.parts["loss_models"]
            sets = {k: None if v is None else dict(v) for k, v in self.parts["settings"].items()}
            for (section, fname), value in settings.items():
                sets[section][fname] = value
        for (table, fname), value in rows.items():
            df = tables[table].copy()
            df[fname] = value
            tables[table] = df
        accepted = inspect.signature(make_case).parameters  # every settings section make_case takes
        return make_case(tables, loss_models=loss_models, file=self.file,
                         **{k: v for k, v in sets.items() if k in accepted and k not in ("tables", "file")})


def _with_setting(section: dict | None, name: str, fname: str, value) -> dict:
    """A copy of a settings section with ``fname`` set, dropping the field's other spellings."""
    section = dict(section or {})
    for given, (canon, _, _) in canonical_names(name, list(section)).items():
        if canon == fname:
            del section[given]
    section[fname] = value
    return section


# --- one scenario (runs on a worker) -----------------------------------------------------------------------

def solve_scenario(source: CaseSource, settings: dict, rows: dict, numba_threads: int | None = None) -> dict:
    """Build and solve one scenario; return its record: ``status`` ok with the results as NetCDF ``bytes``
    and the scalar ``kpis``, or ``status`` failed with the ``error`` text and whether it would fail again."""
    if numba_threads:
        import numba

        numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    from gigawatt.solver.solve import solve

    try:
        case = source.build(settings, rows)
        if case.settings.get("time") is None:
            result = solve(case)
        else:  # a scenario-year: the case along its time axis, the period's totals as its figures
            from gigawatt.time_series import run_time_series

            result = run_time_series(case)
    except GigawattError as err:
        return {"status": "failed", "error": f"{type(err).__name__}: {err}", "deterministic": True}
    except Exception as err:  # noqa: BLE001 - recorded for the user, and tried again on rerun
        return {"status": "failed", "error": f"{type(err).__name__}: {err}", "deterministic": False}
    import dask

    fd, tmp = tempfile.mkstemp(suffix=".nc")
    os.close(fd)
    try:
        # A local file of this worker: xarray would otherwise take a cluster-wide lock (a scheduler round trip
        # per write, about 1 s per scenario) because it runs inside a dask.distributed worker.
        with dask.config.set(scheduler="synchronous"):
            result.to_netcdf(tmp)
        data = Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)
    return {"status": "ok", "netcdf": data, "kpis": scalar_results(result.attrs)}


def scalar_results(attrs: dict) -> dict:
    """The numeric scalar attributes of a result (its KPIs, ledger residuals and solver figures; not the wall
    times a time series records, ``seconds_<stage>``, which differ from run to run)."""
    out = {}
    for k, v in attrs.items():
        if k.startswith("seconds_"):
            continue
        if isinstance(v, (bool, np.bool_)):
            out[k] = float(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) or (isinstance(v, np.ndarray) and v.size == 1
                                                                      and v.dtype.kind in "iuf"):
            out[k] = float(np.asarray(v).reshape(()))
    return out


# --- the sweep ----------------------------------------------------------------------------------------------

@dataclass
class Scenario:
    index: int
    values: dict  # coord -> SI value
    key: str
    settings: dict
    rows: dict


def scenarios(grid: list[SweptField], case_hash: str, files=None) -> list[Scenario]:
    """The cartesian product of the swept values, first field outermost, each with its resume key: a hash of
    the base case's content hash, the scenario's values and ``files(settings)`` (the content digests of the
    files the scenario reads beyond the case, :func:`input_digests`), so that a changed time-series file is
    solved again on resume, not taken from the parts."""
    out = []
    for i, combo in enumerate(itertools.product(*(sf.values for sf in grid))):
        values = {sf.coord: v for sf, v in zip(grid, combo)}
        settings = {(sf.table, sf.field): v for sf, v in zip(grid, combo) if sf.is_settings}
        rows = {(sf.table, sf.field): v for sf, v in zip(grid, combo) if not sf.is_settings}
        key = hashlib.sha256(json.dumps({"case_hash": case_hash, "values": values,
                                         "files": files(settings) if files else {}}, sort_keys=True,
                                        default=str).encode()).hexdigest()[:20]
        out.append(Scenario(i, values, key, settings, rows))
    return out


def input_digests(base):
    """``digests(settings) -> {field: SHA-256 of the file's bytes}`` for the time-series files the case
    ``base`` reads with the swept ``settings`` ``{(section, field): value}`` applied (its ``[time]``
    ``it_load`` and ``weather`` CSVs; :func:`gigawatt.time_series.time_input_files`). Each file is read once
    per sweep; a missing one digests as ``missing`` (the scenario then fails with its own error)."""
    from gigawatt.time_series import time_input_files

    cache = {}

    def digest(path: Path) -> str:
        if path not in cache:
            try:
                cache[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                cache[path] = "missing"
        return cache[path]

    def digests(settings: dict) -> dict:
        time = base.settings.get("time")
        if time is None:
            return {}
        time = {**time, **{f: v for (section, f), v in settings.items() if section == "time"}}
        return {field: digest(path) for field, path in time_input_files(time, base.file).items()}
    return digests


def run_sweep(case, fields, output, *, workers: int | None = None, scheduler: str | None = None,
              client=None, progress=None, on_scenario=None) -> xr.Dataset:
    """Solve the grid of scenarios of ``case`` and write the sweep dataset to ``output``.

    Parameters
    ----------
    case : str, Path, Case or None
        A case file (None: the bundled default case) or a case built in code (then only its element tables
        and its ``case``/``solver``/``cooling``/``district_heating`` settings can be swept).
    fields : dict or list of str
        ``{"rack.p_it_kw": [100, 120], ...}`` or ``["rack.p_it_kw=100,120", ...]`` (``--set`` texts).
    output : str, Path or None
        The sweep dataset (NetCDF; None: ``<case name>-sweep.nc`` here, the name made safe as a file name);
        the scenarios' own results go to ``<output>.parts/``: a part that cannot be read is removed and its
        scenario solved again. Its path is in the returned dataset's ``output`` attribute.
    workers : int, optional
        Worker processes of the local cluster (default: the machine's cores). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of an existing dask.distributed scheduler (``tcp://host:8786``).
    client : dask.distributed.Client, optional
        Run on this client's cluster (left open) instead of a new local one or ``scheduler``.
    progress : callable, optional
        Called with a one-line message as each scenario finishes.
    on_scenario : callable, optional
        Called as ``on_scenario(done, total)`` as each scenario finishes (a progress bar).

    Returns
    -------
    xarray.Dataset
        Dimension ``scenario``; one coordinate per swept field (``rack.p_it_w``, SI); one variable per scalar
        result; ``status`` (ok, failed) and ``error``. Attributes ``scenarios_computed`` and
        ``scenarios_resumed`` say how many were solved in this run and how many were taken from the parts.

    Raises
    ------
    CaseError
        Before any computing: an unknown field, a bad value, a section the case lacks, an empty, malformed
        or unreachable scheduler address, an output (or its parts folder) that is an input of the sweep, a
        folder or a device, or that cannot be written (:func:`gigawatt.output_paths.check_output`).
    """
    grid = parse_grid(fields)
    if scheduler is not None and client is None:
        check_scheduler_address(scheduler)
    source = CaseSource.of(case)
    base = source.build()  # the base case must be valid; its hash keys the parts
    _check_applicable(grid, source, base)
    todo_all = scenarios(grid, base.hash(), input_digests(base))
    output = Path(output) if output is not None else default_output(base.name, "-sweep.nc")
    parts = output.with_name(output.name + ".parts")
    # Before anything is computed: the output and its parts folder are no input, and can be written.
    inputs = case_inputs(source.file) + list(source.table_files.values())
    check_output(output, inputs, what="sweep dataset", parts=parts)
    say = progress or (lambda msg: None)
    remove_stale(output, say=say)
    if parts.is_dir():
        remove_stale(folder=parts, say=say)  # left by a killed run (a live one's are kept)
    records = {s.key: _finished(parts, s.key, say) for s in todo_all}
    todo = [s for s in todo_all if records[s.key] is None]
    own = client is None
    if todo:
        cluster = None
        if own:  # before writing anything: an unreachable scheduler fails here
            client, cluster = connect(workers, scheduler)
    say(f"{len(todo_all)} scenarios, {len(todo_all) - len(todo)} finished before, {len(todo)} to solve")
    if todo:
        parts.mkdir(parents=True, exist_ok=True)
        try:
            _compute(todo, source, parts, records, client, cluster, say, on_scenario)
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    ds = combine(grid, todo_all, records, base)
    ds.attrs.update(scenarios_computed=len(todo), scenarios_resumed=len(todo_all) - len(todo), output=str(output))
    atomic_write(output, ds.to_netcdf)
    return ds


def _check_applicable(grid, source: CaseSource, base) -> None:
    have = source.sections()
    for sf in grid:
        if sf.is_settings and sf.table not in have:
            built = " (a case built in code keeps no builder settings)" if source.doc is None and sf.table in (
                "campus", "town") else ""
            raise CaseError(f"the case has no [{sf.table}] section to vary{built}", element="--set", field=sf.given,
                            allowed=", ".join(sorted(have)))
        if not sf.is_settings and not len(base.tables[sf.table]):
            raise CaseError(f"the case has no rows in table '{sf.table}'", element="--set", field=sf.given)


def _finished(parts: Path, key: str, say=None) -> dict | None:
    """The record of a scenario finished in an earlier run, or None to solve it. A part that cannot be read
    (truncated, say, by a full disk or a crash before it reached the disk) is not finished: it is removed,
    and ``say`` is told."""
    nc, err = parts / f"{key}.nc", parts / f"{key}.error.json"
    try:
        if nc.exists():
            with xr.open_dataset(nc) as ds:
                return {"status": "ok", "kpis": scalar_results(ds.attrs)}
        if err.exists():
            record = json.loads(err.read_text())
            if not isinstance(record, dict) or "status" not in record:
                raise ValueError("not a scenario record")
            if record.get("deterministic"):
                return record
    except Exception as exc:  # noqa: BLE001 - netCDF4, h5py and json raise many types for a broken file
        bad = nc if nc.exists() else err
        bad.unlink(missing_ok=True)
        if say:
            say(f"note: {bad} could not be read ({type(exc).__name__}); removed, the scenario is solved again")
    return None


def _compute(todo, source, parts, records, client, cluster, say, on_scenario=None) -> None:
    from dask.distributed import as_completed

    futures = {}
    try:
        threads = None
        cluster = cluster or getattr(client, "cluster", None)  # a cluster of this machine's processes
        if cluster is not None and getattr(cluster, "workers", None):  # share the cores between their kernels
            threads = max(1, (os.cpu_count() or 1) // len(cluster.workers))
        src = client.scatter(source, broadcast=True)
        futures = {client.submit(solve_scenario, src, s.settings, s.rows, threads, key=f"scenario-{s.key}",
                                 pure=False): s for s in todo}
        for done, future in enumerate(as_completed(futures, loop=client.loop), 1):
            s = futures[future]
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - a lost worker: recorded, tried again on rerun
                record = {"status": "failed", "error": f"{type(err).__name__}: {err}", "deterministic": False}
            _write_part(parts, s, record)
            record.pop("netcdf", None)
            records[s.key] = record
            say(f"[{done}/{len(todo)}] scenario {s.index} {_values_text(s.values)}: {record['status']}"
                + (f" ({record['error']})" if record["status"] != "ok" else ""))
            if on_scenario is not None:
                on_scenario(done, len(todo))
            future.release()
    finally:
        for future in futures:  # interrupted: nothing left running on a cluster we do not own
            future.cancel()


def connect(workers: int | None = None, scheduler: str | None = None):
    """A dask.distributed client: on ``scheduler`` (a short connect timeout, then a CaseError), or on a new
    local cluster of ``workers`` single-threaded worker processes. Returns ``(client, cluster or None)``."""
    from dask.distributed import Client

    if scheduler is not None:
        check_scheduler_address(scheduler)
        try:
            return Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT_S, set_as_default=False), None
        except Exception as err:  # noqa: BLE001 - OSError, TimeoutError, ValueError on a malformed address
            _discard_client(err)
            detail = str(err).splitlines()[0] if str(err) else f"no answer within {SCHEDULER_CONNECT_TIMEOUT_S:g} s"
            raise CaseError(f"cannot reach the dask scheduler ({type(err).__name__}: {detail})",
                            element="--scheduler", value=scheduler) from None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise CaseError("expected at least one worker", element="--workers", value=workers)
    # The worker processes ignore SIGINT (inherited): Ctrl-C reaches this process alone, which closes them.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        cluster = local_cluster(n)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return Client(cluster, set_as_default=False), cluster


def check_scheduler_address(address: str) -> str:
    """Refuse a scheduler address that cannot name a scheduler (empty, no port, an unknown scheme) before a
    client is made, with a :class:`CaseError` naming ``--scheduler``."""
    from distributed.comm import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    text = str(address).strip()
    if not text:
        raise CaseError("empty scheduler address; give one such as tcp://host:8786, or leave --scheduler out to "
                        "run on a local cluster", element="--scheduler", value=address)
    try:
        scheme, _ = parse_address(text, strict=False)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            host, _ = get_address_host_port(text)
            if not host:
                raise ValueError("no host")
    except (ValueError, TypeError) as err:
        raise CaseError(f"cannot reach the dask scheduler: not an address ({err}); expected for example "
                        "tcp://host:8786",
                        element="--scheduler", value=address) from None
    return text


def _discard_client(err: BaseException) -> None:
    """A Client whose constructor failed is still finalised later, and its finaliser then waits 10 s and
    prints a traceback; mark the half-made client closed and stop its event loop now."""
    from dask.distributed import Client

    tb = err.__traceback__
    while tb is not None:
        client = tb.tb_frame.f_locals.get("self")
        if isinstance(client, Client):
            client.status = "closed"
            runner = getattr(client, "_loop_runner", None)
            if runner is not None:
                runner.stop()
            return
        tb = tb.tb_next


def local_cluster(n: int):
    """A local dask.distributed cluster of ``n`` single-threaded worker processes. Started a second time
    if the first start fails: distributed gives its event-loop thread 10 s to come up and raises a bare
    AssertionError when a loaded machine does not schedule it in time (seen here under a full test run)."""
    from dask.distributed import LocalCluster

    def start():
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=logging.ERROR)

    with _caller_script_hidden():
        try:
            return start()
        except (AssertionError, TimeoutError, OSError):
            return start()


@contextmanager
def _caller_script_hidden():
    """Worker processes are spawned, and a spawned process first runs the caller's ``__main__`` again (by its
    path, or by its module name under ``python -m``): a plain script that calls ``run_sweep`` without an
    ``if __name__ == "__main__":`` guard would start a cluster inside every worker, and multiprocessing refuses.
    The workers need nothing from the caller's script (everything they run lives in gigawatt), so its path and
    module spec are hidden while they start."""
    main = sys.modules.get("__main__")
    hidden = {k: main.__dict__.pop(k) for k in ("__file__",) if main is not None and k in main.__dict__}
    spec = getattr(main, "__spec__", None)
    if main is not None:
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            main.__dict__.update(hidden)
            main.__spec__ = spec


def _write_part(parts: Path, s: Scenario, record: dict) -> None:
    if record["status"] == "ok":
        data = record["netcdf"]
        atomic_write(parts / f"{s.key}.nc", lambda tmp: Path(tmp).write_bytes(data))
        (parts / f"{s.key}.error.json").unlink(missing_ok=True)
    else:
        text = json.dumps({"values": s.values, **record}, indent=1, default=str)
        atomic_write(parts / f"{s.key}.error.json", lambda tmp: Path(tmp).write_text(text))


def _values_text(values: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def combine(grid: list[SweptField], todo: list[Scenario], records: dict, base) -> xr.Dataset:
    """The sweep dataset: swept values as coordinates along ``scenario``, one variable per scalar result."""
    from gigawatt import __version__

    n = len(todo)
    coords = {"scenario": np.arange(n)}
    for sf in grid:
        values = [s.values[sf.coord] for s in todo]
        unit = schema()[sf.table][sf.field].unit
        coords[sf.coord] = ("scenario", np.array(values, dtype=object if isinstance(values[0], str) else None),
                            {"long_name": f"swept {sf.table} field {sf.field}" + (
                                " (every row)" if not sf.is_settings else ""),
                             "units": unit or "1", "given_as": sf.given})
    names = []
    for s in todo:
        for k in records[s.key].get("kpis", {}):
            if k not in names:
                names.append(k)
    data = {}
    for k in names:
        data[k] = ("scenario", np.array([records[s.key].get("kpis", {}).get(k, math.nan) for s in todo], dtype=float),
                   {"units": figure_units(k)})
    data["status"] = ("scenario", np.array([records[s.key]["status"] for s in todo], dtype=object))
    data["error"] = ("scenario", np.array([records[s.key].get("error", "") for s in todo], dtype=object))
    data["part"] = ("scenario", np.array([f"{s.key}.nc" if records[s.key]["status"] == "ok"
                                          else f"{s.key}.error.json" for s in todo], dtype=object),
                    {"long_name": "file of the scenario's results in the parts folder"})
    failed = int(sum(records[s.key]["status"] != "ok" for s in todo))
    from gigawatt.solver.results_schema import conform

    return conform(xr.Dataset(data, coords=coords, attrs={
        "title": f"gigawatt sweep of case '{base.name}'", "case_name": base.name, "case_hash": base.hash(),
        "case_file": base.file or "", "gigawatt_version": __version__,
        "swept_fields": ", ".join(sf.coord for sf in grid), "scenarios_failed": failed}))


def format_sweep(ds: xr.Dataset) -> str:
    """A short table of the sweep: swept values, status and the headline figures."""
    from gigawatt.report.values import typed_axis  # the swept values as the user typed them (°C, kW)

    swept = [c for c in ds.coords if c != "scenario"]
    given = {c: typed_axis(ds[c]) if ds[c].dtype.kind in "fi" else (ds[c].values, c, "") for c in swept}
    figures = [k for k in ("p_grid_w", "p_it_w", "efficiency_grid_to_chip", "energy_p_grid_j", "energy_p_it_j",
                           "energy_q_recovered_j", "pue", "erf") if k in ds]  # energies: scenario-years
    head = ["#"] + [given[c][1] for c in swept] + figures + ["status"]
    lines = []
    for i in range(ds.sizes["scenario"]):
        row = [str(i)]
        for c in swept:
            v = given[c][0][i]
            row.append(f"{v:g}" if isinstance(v, (float, np.floating)) else str(v))
        for k in figures:
            v = float(ds[k].values[i])
            row.append("-" if math.isnan(v) else (engineering(v, "W") if k.endswith("_w") else
                                                  engineering(v, "J") if k.endswith("_j") else f"{v:.4f}"))
        row.append(str(ds["status"].values[i]))
        lines.append(row)
    from gigawatt.tables import table_lines

    out = table_lines(head, lines, align="r", rule=False)
    errors = [(i, e) for i, e in enumerate(ds["error"].values) if e]
    out += [f"scenario {i} failed: {e}" for i, e in errors]
    return "\n".join(out)


__all__ = ["SweptField", "CaseSource", "parse_grid", "run_sweep", "solve_scenario", "format_sweep", "connect"]
