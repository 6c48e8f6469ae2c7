"""Command line: a thin layer over the library. Heavy imports happen inside the commands, so ``--help`` is
instant."""
from __future__ import annotations

import contextlib
import gc
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click


def _fail(err) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gigawatt")
def main():
    """gigawatt: the energy chain of AI data-center campuses, from the grid to the chips."""
    if not sys.warnoptions:  # the numerical libraries' own warnings are not for the user of the command
        import warnings  # (python -W default, or PYTHONWARNINGS=default, shows them)

        warnings.simplefilter("ignore")


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the full results as NetCDF here (default: <case name>.nc in the current folder; with --year "
                   "<case name>-year.nc, so a year never replaces the steady results).")
@click.option("--no-output", is_flag=True, help="Print the summary only; write no results file.")
@click.option("--series", type=click.Path(dir_okay=False, path_type=Path),
              help="A time-series CSV (time, p_it_fraction or p_it_kw, outdoor_t_c …): solve every step and write "
                   "the figures along 'time' with the period's totals.")
@click.option("--year", is_flag=True,
              help="Solve the case along a time axis: its [time] table, or an hourly year (a steady IT load and the "
                   "bundled weather year) when it has none.")
def run(case, output, no_output, series, year):
    """Solve CASE (a TOML case file; the bundled default case if omitted) and print a summary. A case with a
    [time] table is solved at every step of its time axis."""
    with _dask_absent():
        _run(case, output, no_output, series, year)
    _end_process()


def _own_process() -> bool:
    """Whether this process was started for this one command: the ``gigawatt`` script, a ``__main__`` named
    ``gigawatt`` that runs :func:`main` (not tests invoking the command, a notebook, nor a program of the user's that
    calls :func:`main` and goes on)."""
    entry = sys.modules.get("__main__")
    return getattr(entry, "main", None) is main and Path(getattr(entry, "__file__", None) or "").stem == "gigawatt"


def _end_process() -> None:
    """End at once a process started for this one command (:func:`_own_process`), its output flushed and its files
    closed: the interpreter's teardown would free every object of numba, LLVM, pandas and xarray one by one, a third
    of a second or more of a cold ``gigawatt run`` for nothing the user sees (mypy ends so too:
    ``mypy.util.hard_exit``). In any other process it returns and the command ends as usual."""
    if not _own_process():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _run(case, output, no_output, series, year):
    own = _own_process()
    if own:  # the imports and the case make about 1.6e5 long-lived objects: the cyclic collector would go over
        gc.disable()  # them again and again (three full collections of a cold run), finding next to nothing
    import gigawatt as gw
    from gigawatt.output_paths import case_inputs, check_output, default_output, remove_stale
    from gigawatt.summary import design_point_lines, format_summary, time_series_lines
    from gigawatt.tables import echo_text

    path = None
    with _interruptible("no results written"):
        try:
            loaded = _with_time_axis(case) if year else gw.load_case(case)
            if own:  # kept out of every later collection (about 0.3 s of CPU of a cold run)
                gc.freeze()
                gc.enable()
            timed = series is not None or loaded.settings.get("time") is not None
            if not no_output:  # before anything is computed: never an input, a folder or a device
                path = check_output(output or default_output(loaded.name, "-year.nc" if year else ".nc"),
                                    case_inputs(loaded.file) + ([series] if series is not None else []))
                remove_stale(path, say=_say)
            if not timed:
                points = gw.solve_design_points(loaded)
                result = next(iter(points.values()))
            else:
                from gigawatt.cases.series_file import read_timeseries
                from gigawatt.time_series import run_time_series, time_inputs

                inputs = read_timeseries(series) if series is not None else time_inputs(loaded)
                if sys.stderr.isatty():  # a progress bar on a terminal; nothing in a log (an error stays one line)
                    with click.progressbar(length=inputs.sizes["time"], label="time steps", file=sys.stderr) as bar:
                        result = run_time_series(loaded, inputs, output=path, progress=lambda k, n: bar.update(1))
                else:
                    result = run_time_series(loaded, inputs, output=path)
        except gw.GigawattError as err:
            _fail(err)
        except OSError as err:
            _fail(f"{path}: cannot write the results: {err.strerror or err}")
        if not timed:
            echo_text(format_summary(result))
            for ds in list(points.values())[1:]:
                echo_text("\n".join(["", *design_point_lines(ds)]))
            if path is not None:
                write_netcdf(result, path, "results", groups={f"{name}_design": ds for name, ds in points.items()
                                                              if ds is not result})
            return
    echo_text("\n".join(time_series_lines(result)))
    result.close()
    if path is not None:
        click.echo(f"results written to {path}")


def _say(msg: str) -> None:
    click.echo(msg, err=True)


@contextlib.contextmanager
def _interruptible(what: str):
    """Ctrl-C or SIGTERM inside the block: the temporary files are removed on the way out (each writer's
    own clean-up), one line says so, exit status 130 (143 for SIGTERM)."""
    from gigawatt.output_paths import Terminated, terminate_as_interrupt

    try:
        with terminate_as_interrupt():
            yield
    except KeyboardInterrupt as err:
        click.echo(f"interrupted: {what}", err=True)
        if isinstance(err, Terminated):
            # The run's clean-up has run on the way here (temporary files removed). All that is left is the
            # interpreter's shutdown, which only frees objects, and those of a compilation the signal cut short
            # (numba's llvmlite handles) print "Exception ignored ... Traceback" as they go: leave at once.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(143)
        sys.exit(130)


def _with_time_axis(case):
    """The case with its [time] table, or with an empty one (an hourly year) when it has none."""
    from gigawatt.cases.loader import case_from_document, read_case_document

    doc, file, table_files = read_case_document(case)
    doc = {**doc, "time": doc.get("time") or {}}
    return case_from_document(doc, file, table_files)


def write_netcdf(ds, path: Path, what: str, groups: dict | None = None) -> None:
    """Write ``ds`` to ``path`` whole (a temporary file of this run renamed when complete: no half-written
    file on an error, Ctrl-C or SIGTERM) and say so; a failure is a one-line error naming the file.
    ``groups``: further datasets stored as NetCDF groups of the same file (``xarray.open_dataset(path,
    group=name)``)."""
    from gigawatt.output_paths import atomic_write

    def write(tmp):
        ds.to_netcdf(tmp)
        for name, extra in (groups or {}).items():
            extra.to_netcdf(tmp, mode="a", group=name)

    try:
        atomic_write(path, write)
    except (OSError, ValueError) as err:
        _fail(f"{path}: cannot write the {what}: {getattr(err, 'strerror', None) or err}")
    click.echo(f"{what} written to {path}" + (f" (also: group {', '.join(map(repr, groups))})" if groups else ""))


HIDDEN_FROM_XARRAY = ("dask", "pint")
"""Duck-array libraries xarray imports to ask whether an array is one of theirs (see :func:`_dask_absent`)."""


@contextmanager
def _dask_absent():
    """Within, dask and pint look absent to xarray (unless xarray or either is imported already, as in a process
    that runs commands in turn): a command that holds its arrays in memory then never imports them.

    xarray asks for dask (``import dask.array``, its scheduler before a write) whenever it makes a Variable
    or writes a file, and for pint whenever it makes an index, even when no array is theirs: about half a
    second of imports for dask, a third of a cold ``gigawatt run``, and a seventh of a second for pint. A
    command of this CLI runs alone in its process, single-threaded, and uses no dask array and no pint
    quantity in a Dataset, so while it runs an ``import dask`` or ``import pint`` fails and xarray takes its
    plain paths; :func:`gigawatt.quantities.ureg` imports pint itself when a unit needs it.
    """
    if "xarray" in sys.modules or any(name in sys.modules for name in HIDDEN_FROM_XARRAY):
        yield  # in use, or xarray may have looked for them already
        return
    for name in HIDDEN_FROM_XARRAY:
        sys.modules[name] = None  # ``import dask`` raises ImportError
    try:
        yield
    finally:
        for name in HIDDEN_FROM_XARRAY:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
        _forget_absent_dask()


def _forget_absent_dask() -> None:
    """xarray remembers whether dask and pint are there: after :func:`_dask_absent`, let it look again (a
    process that runs commands in turn, as the tests do, may use them later). Internal caches of xarray, hence
    defensive."""
    try:
        from xarray.namedarray import pycompat, utils
    except ImportError:
        return
    cached = getattr(pycompat, "_cached_duck_array_modules", {})
    for name in HIDDEN_FROM_XARRAY:
        if name in cached and not getattr(cached[name], "available", True):
            del cached[name]
    clear = getattr(getattr(utils, "module_available", None), "cache_clear", None)
    if clear is not None:
        clear()


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--architectures", default=None,
              help="Comma-separated: ac, dc800, dc400; the first is the baseline of the differences "
                   "[default: the preset's, else ac,dc800,dc400, or ac,dc800 without the bipolar solver].")
@click.option("--preset", default=None,
              help="A published comparison's settings by name: lbnl2008 (380 VDC against best-practice AC, LBNL "
                   "2008) or nvidia800vdc (800 VDC against 415 VAC, NVIDIA 2025). Options given here override it.")
@click.option("--tariff", default=None, type=float,
              help="Energy tariff per MWh (default 80, an assumption: state your own).")
@click.option("--hours", default=8760.0, show_default=True, type=float, help="Operating hours per year.")
@click.option("--sizing", default=None, help="Conductor sizing rule: current_density (default) or loss_fraction.")
@click.option("--provisioning", default=None,
              help="Rack supplies and shelves rated this many times the rack's full-load draw [default 2: N+N, "
                   "each at half load], or 'case' for the case's shelf ratings.")
@click.option("--rack-standard", default=None,
              help="How AC racks are fed: orv3 (three-wire delta, default) or 19inch (four-wire wye, neutral counted).")
@click.option("--pdu-transformer/--no-pdu-transformer", default=None,
              help="A PDU transformer after the UPS (default: none, a 400 V IEC chain).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the comparison as NetCDF here (dimension 'architecture'; every assumption in its "
                   "attributes).")
def compare(case, architectures, preset, tariff, hours, sizing, provisioning, rack_standard, pdu_transformer, output):
    """Solve CASE (default: the bundled case) in each distribution architecture on the same IT load and
    compare efficiency, losses by stage, copper, and annual energy and cost, with every stage's assumption
    and its source."""
    import gigawatt as gw
    from gigawatt.cases.architectures import bipolar_available, preset_options
    from gigawatt.compare import DEFAULT_TARIFF_PER_MWH, compare as run_compare, format_comparison, parse_architectures

    given = {k: v for k, v in {"sizing": sizing, "rack_standard": rack_standard,
                               "pdu_transformer": pdu_transformer}.items() if v is not None}
    from gigawatt.output_paths import case_inputs, check_output, remove_stale

    try:
        if provisioning is not None:  # 'case' gives None: the case's shelf ratings
            given["shelf_provisioning"] = _provisioning(provisioning)
        options = preset_options(preset, **given)
        if architectures is None and preset is None:
            architectures = "ac,dc800,dc400" if bipolar_available() else "ac,dc800"
        names = None if architectures is None else parse_architectures(architectures)
        loaded = gw.load_case(case)
        if output:
            check_output(output, case_inputs(loaded.file), what="comparison")
            remove_stale(output, say=_say)
        result = run_compare(loaded, names, tariff_per_mwh=DEFAULT_TARIFF_PER_MWH if tariff is None else tariff,
                             hours=hours, options=options, preset=preset)
    except gw.GigawattError as err:
        _fail(err)
    click.echo(format_comparison(result))
    if output:
        write_netcdf(result, output, "comparison")


def _provisioning(text: str):
    """``--provisioning``: a factor, or ``case`` (None: the case's shelf ratings)."""
    from gigawatt.errors import CaseError

    if text.strip() == "case":
        return None
    try:
        return float(text)
    except ValueError:
        raise CaseError("not a number", field="provisioning", value=text,
                        allowed="a factor >= 1 (2 is N+N) or 'case'") from None


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--buses", default=None, metavar="ID,ID,...",
              help="Comma-separated ids of the buses to fault [default: every bus].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the fault study as NetCDF here (default: <case name>-faults.nc in the current folder).")
@click.option("--no-output", is_flag=True, help="Print the table only; write no file.")
def faults(case, buses, output, no_output):
    """DC short-circuit currents of CASE (default: the bundled case) at every bus (or --buses), in the form of
    IEC 61660-1 (peak, time to peak, quasi steady-state current, rise and decay time constants) for each fault
    type, and the breaking duty and selectivity of its protective devices."""
    import gigawatt as gw
    from gigawatt.summary import format_faults

    try:
        loaded = gw.load_case(case)
        names = None if buses is None else [b.strip() for b in buses.split(",") if b.strip()]
        result = gw.fault_currents(loaded, buses=names)
    except gw.GigawattError as err:
        _fail(err)
    click.echo(format_faults(result))
    if not no_output:
        write_netcdf(result, output or Path(f"{loaded.name}-faults.nc"), "fault study")


@main.command()
@click.argument("case", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results as NetCDF here (default: <case name>-swings.nc in the current folder).")
@click.option("--no-output", is_flag=True, help="Print the summary only; write no file.")
@click.option("--method", type=click.Choice(["auto", "chebyshev", "kernel"]), default="auto", show_default=True,
              help="How the DC network is solved at every step (gigawatt.solver.swings.dc_coupling).")
def swings(case, output, no_output, method):
    """Run the AI-training power swings of CASE (its [swing] section) at their fine step with its energy
    stores (store table): the power, ramps and spectrum at the point of connection, the stores' state of
    charge, cycling and losses, and the findings (ramp limit exceeded, stores short of their law)."""
    import gigawatt as gw
    from gigawatt.output_paths import case_inputs, check_output, remove_stale
    from gigawatt.swing_summary import swing_lines

    path = None
    with _interruptible("no results written"):
        try:
            loaded = gw.load_case(case)
            if not no_output:
                trace = (loaded.settings.get("swing") or {}).get("trace")
                extra = [Path(loaded.file).parent / trace] if trace and loaded.file else []
                path = check_output(output or Path(f"{loaded.name}-swings.nc"), case_inputs(loaded.file) + extra)
                remove_stale(path, say=_say)
            result = gw.run_swings(loaded, method=method)
        except gw.GigawattError as err:
            _fail(err)
        click.echo("\n".join(swing_lines(result)))
        if path is not None:
            write_netcdf(result, path, "results")


@main.command("size-storage")
@click.argument("case", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ramp-limit", "ramp_limit", type=click.FloatRange(min=0, min_open=True),
              metavar="MW/s", help="Largest ramp of the power at the point of connection [MW/s].")
@click.option("--band", "bands", multiple=True, metavar="NAME:LOW-HIGH",
              help="A frequency band [Hz] whose RMS at the point of connection is reported with each sized store "
                   "(repeatable), e.g. torsional:15.2-16.2; with --band-rms-limit, the one band to size for.")
@click.option("--band-rms-limit", "band_rms_limit", type=click.FloatRange(min=0, min_open=True), metavar="MW",
              help="Size for the RMS of the power at the point of connection in the --band given (one band) "
                   "instead of a ramp limit: a low-pass store per placement [MW].")
@click.option("--placements", default="rack,bus,facility", show_default=True,
              help="Comma-separated placements to size (rack, bus, facility).")
def size_storage(case, ramp_limit, bands, band_rms_limit, placements):
    """The smallest store (power and energy) per placement whose ramp-limit control keeps the power at the
    point of connection of CASE's training swings within --ramp-limit, or whose low-pass control keeps its RMS
    in one --band within --band-rms-limit (gigawatt.solver.swings.sizing)."""
    import gigawatt as gw
    from gigawatt.solver.swings.run import PLACEMENTS, parse_bands
    from gigawatt.swing_summary import band_sizing_lines, sizing_lines

    chosen = _choices("--placements", placements, PLACEMENTS, what="placement")
    if (ramp_limit is None) == (band_rms_limit is None):
        _fail("give either --ramp-limit or --band-rms-limit (with one --band)")
    if band_rms_limit is not None and len(bands) != 1:
        _fail(f"--band-rms-limit sizes for one band: give exactly one --band (got {len(bands)})")
    with _interruptible("sizing stopped"):
        try:
            loaded = gw.load_case(case)
            band_spec = parse_bands(list(bands)) if bands else None
            if band_rms_limit is not None:
                (name, rng), = band_spec.items()
                sized = gw.size_storage_band(loaded, tuple(rng), band_rms_limit * 1e6, placements=chosen)
                click.echo("\n".join(band_sizing_lines(sized, name, band_rms_limit * 1e6)))
                return
            sized = gw.size_storage(loaded, ramp_limit * 1e6, placements=chosen)
            rms = {}
            if band_spec:
                for s in sized:
                    ds = gw.run_swings(loaded, stores=[s["store"]], spectrum=False, bands=list(bands))
                    rms[s["placement"]] = {b: (float(ds.band_rms_w.sel(band=b)), float(ds.band_rms_unsmoothed_w.sel(
                        band=b))) for b in band_spec}
        except gw.GigawattError as err:
            _fail(err)
    click.echo("\n".join(sizing_lines(sized, ramp_limit * 1e6, rms)))


@main.command()
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--outdir", type=click.Path(path_type=Path),
              help="Folder for the figures and report.html (default: <results name>-report).")
def report(results, outdir):
    """Draw the figures of RESULTS (a NetCDF written by gigawatt) as PNG files and one HTML page: the energy
    chain, voltage profiles, temperatures, district heating, year and sweep figures, as the data allow."""
    from gigawatt.errors import GigawattError
    from gigawatt.report import build_report

    try:
        written = build_report(results, outdir or Path(f"{results.stem}-report"))
    except GigawattError as err:
        _fail(err)
    click.echo(f"report written to {written.html} ({len(written.figures)} figures"
               + (f"; not drawn: {', '.join(written.skipped)}" if written.skipped else "") + ")")


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="FIELD=V1,V2,...",
              help="A swept field (section.field or table.field, any unit spelling the loader accepts) and its "
                   "values; repeat for more fields: the grid is their cartesian product.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The sweep dataset (default: <case name>-sweep.nc); each scenario's results go to "
                   "OUTPUT.parts/, and a rerun skips the scenarios already there.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local Dask cluster [default: the machine's cores].")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on an existing dask.distributed cluster (tcp://host:8786) instead of a local one.")
def sweep(case, sets, output, workers, scheduler):
    """Solve CASE (default: the bundled case) for every combination of the --set values, on Dask, and write
    one dataset with a 'scenario' dimension."""
    import gigawatt as gw
    from gigawatt.sweep import format_sweep, run_sweep

    with _interruptible("the finished scenarios are kept in the .parts folder beside the output; rerun the "
                        "same command to resume"):
        try:
            from gigawatt.progress import progress

            with progress(None, "scenarios") as advance:  # a bar on a terminal; the lines below in a log
                result = run_sweep(case, list(sets), output, workers=workers, scheduler=scheduler,
                                   progress=None if sys.stderr.isatty() else _say,
                                   on_scenario=lambda done, total: advance(total=total))
        except gw.GigawattError as err:
            _fail(err)
    click.echo(format_sweep(result))
    click.echo(f"sweep written to {result.attrs['output']}")


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--elements", default="stations,lines,converters,cdus,pumps,heat_pumps", show_default=True,
              help="Element kinds that fail, comma-separated; kind:NAME picks one element (cdus:H1-R1), "
                   "lines:cable (or busway, busbar) the lines of that kind.")
@click.option("--n", "order", default=1, show_default=True, type=int, help="Elements out at once: 1 (N-1) or 2 (N-2).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The outages as NetCDF along 'outage' (default: <case name>-outages.nc).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Solve on a local Dask cluster of this many worker processes [default: in this process].")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Solve on an existing dask.distributed cluster (tcp://host:8786).")
def contingency(case, elements, order, output, workers, scheduler):
    """Take every element of the chosen kinds out of CASE (default: the bundled case), one or two at a time,
    solve the coupled chain after each outage, and print the worst outages and the single points of failure."""
    import gigawatt as gw
    from gigawatt.solver.contingency import format_contingency, run_contingency

    try:
        loaded = gw.load_case(case)
        runner = None
        if workers or scheduler:
            from gigawatt.outage_runner import dask_map

            runner = dask_map(workers, scheduler)
        result = run_contingency(loaded, elements, order, map_outages=runner)
    except gw.GigawattError as err:
        _fail(err)
    click.echo(format_contingency(result))
    write_netcdf(result, output or Path(f"{loaded.name}-outages.nc"), "outages")


def _peer_warnings(caught) -> None:
    """Warnings the peer tools (pandapower, pandapipes, ...) gave while the checks ran, once each, said as
    ours: which tool, and that the checks' rows above already say whether it agreed."""
    seen = set()
    for w in caught:
        module = Path(w.filename).parts
        tool = next((p for p in module if p in ("pandapower", "pandapipes")), None)  # the peers; not numerics
        first = str(w.message).strip().splitlines()[0][:160] if str(w.message).strip() else w.category.__name__
        if tool is None or (tool, first) in seen:
            continue
        seen.add((tool, first))
        click.echo(f"note: {tool}, run as a peer of the cross-code checks, warned: {first} (the rows above say "
                   "whether its results agreed with gigawatt's)", err=True)


@main.command()
@click.option("--tier", type=click.Choice(["analytic", "published", "cross-code"]), multiple=True,
              help="Run only these tiers (repeatable).")
def validate(tier):
    """Run every validation case; one row per checked quantity. Exit status 1 if any fails."""
    import warnings

    from gigawatt.progress import progress
    from gigawatt.validation.harness import format_rows, run_all

    with progress(None, "validation cases") as advance, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        rows = run_all(tiers=tier or None, progress=lambda name, total: advance(name, total=total))
    click.echo(format_rows(rows))
    _peer_warnings(caught)
    failed = sum(not r.passed for r in rows)
    click.echo(f"{len(rows) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of records instead of the table.")
@click.option("--sizes", default="1e4,1e5,1e6", show_default=True, help="Bus counts of the networks.")
@click.option("--no-peer", is_flag=True, help="Skip the peer tool (pandapower).")
@click.option("--repeat", default=7, show_default=True, help="Warm solves per size; the median is reported.")
@click.option("--racks", default="1e3,1e4", show_default=True,
              help="Rack counts of the coolant networks modelled per rack ('' for none).")
@click.option("--plates", default="1e5", show_default=True,
              help="Cold-plate counts of the coolant networks modelled per plate ('' for none).")
@click.option("--consumers", default="1e3,1e4,1e5", show_default=True,
              help="Consumer counts of the district-heating town networks ('' for none).")
@click.option("--bipolar", default="", show_default=True,
              help="Bus counts of ±400 VDC bipolar campuses, timed against the monopolar solver ('' for none).")
@click.option("--campus-5gw", "campus_5gw", is_flag=True,
              help="Run only the 5 GW multi-site campus benchmark (whole chain with the grid side; gigawatt.bench.campus_5gw).")
@click.option("--campus-5gw-split", default=8, show_default=True,
              help="With --campus-5gw: also the same campus with each row split into this many rows of racks of "
                   "1/N the power (the issue's several 10^5 buses); 1 for the bundled case alone.")
@click.option("--sweep", "sweep_only", is_flag=True,
              help="Only the sweep benchmark: 8 scenarios of the bundled case on 1 and 2 local Dask workers, "
                   "in turn, --repeat times (default here 3); the medians are compared.")
@click.option("--sweep-hours", default=0, show_default=True,
              help="With --sweep: each scenario is the bundled case along this many hourly steps (8760: scenario-"
                   "years; default here --repeat 1).")
@click.option("--series-dc", "series_dc", default="", metavar="SIZES",
              help="Only the DC time-series benchmark: bus counts of campuses solved over --steps hourly steps "
                   "(gigawatt.bench.dc_year), against pandapower per step extrapolated.")
@click.option("--dh-series", "dh_series", default="", metavar="SIZES",
              help="Only the district-heating time-series benchmark at these consumer counts (e.g. 1e3,1e4): "
                   "DistrictHeatingSeries steps against the steady stage (gigawatt.bench.heating_series).")
@click.option("--hydraulic-tol-pa", "hydraulic_tol_pa", type=float, default=None,
              help="With --dh-series: pressure-balance tolerance of each step's hydraulic solve [Pa] (default 1e-8).")
@click.option("--year", "year_variants", default=None,
              help="Only the year benchmark: the coupled chain along --steps hourly steps in a fresh process, for "
                   "these variants (default, large: comma-separated), against pandapower + pandapipes per step.")
@click.option("--contingency", "contingency_only", is_flag=True,
              help="Only the contingency benchmark: all single outages of stations, feeders and CDUs of the bundled "
                   "campus, and a random subset of the 5 GW campus's on this process and 1 and 2 Dask workers "
                   "(gigawatt.bench.contingency).")
@click.option("--contingency-subset", default=120, show_default=True, type=click.IntRange(min=1),
              help="With --contingency: outages of the 5 GW campus timed (the total is extrapolated).")
@click.option("--grid-steps", "grid_steps", default=None, type=click.IntRange(min=1), metavar="STEPS",
              help="Only the DC grid benchmark: a 40-hall 800 V ring with bus storage over STEPS steps of a 10 ms "
                   "training swing, all at once (gigawatt.bench.dc_grid_steps; 360000 is an hour).")
@click.option("--steps", default=None, type=click.IntRange(min=1),
              help="Hourly steps of --series-dc and --year (default 8760: a year) or --dh-series (default 48).")
@click.option("--swings", "swing_methods", default=None, metavar="METHODS",
              help="Time the whole call of an hour of training swings at 10 ms with rack and bus stores (the bundled "
                   "training_swings.toml) per way of solving the DC network: chebyshev, kernel (comma-separated).")
@click.pass_context
def bench(ctx, as_json, sizes, no_peer, repeat, racks, plates, consumers, bipolar, campus_5gw, campus_5gw_split,
          sweep_only, sweep_hours, series_dc, dh_series, hydraulic_tol_pa, year_variants, grid_steps, steps,
          swing_methods, contingency_only, contingency_subset):
    """Benchmark the DC load flow against pandapower, and the coolant and district-heating networks against
    pandapipes; or, with --campus-5gw, the 5 GW campus; with --sweep, a sweep on 1 vs 2 workers; with --year,
    a year of the coupled chain."""
    import json

    from gigawatt.progress import progress

    advance = ctx.with_resource(progress(None, "benchmark"))  # on a terminal a bar with the current step

    def say(msg):
        advance(msg) if sys.stderr.isatty() else click.echo(msg, err=True)  # off a terminal, the lines

    say = None if as_json else say
    if contingency_only:
        from gigawatt.bench import contingency as bench_contingency

        records = bench_contingency.run_benchmarks(subset_5gw=contingency_subset, progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_contingency.format_table(records))
        return
    if swing_methods is not None:
        from gigawatt.bench import swings as bench_swings

        records = bench_swings.run_benchmarks(_choices("--swings", swing_methods, bench_swings.METHODS),
                                              progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_swings.format_table(records))
        return
    if grid_steps is not None:
        from gigawatt.bench import dc_grid_steps as bench_grid_steps

        rec = bench_grid_steps.run_benchmark(grid_steps, repeat=repeat, progress=say)
        click.echo(json.dumps(rec, indent=2) if as_json else bench_grid_steps.format_table(rec))
        return
    if year_variants is not None:
        from gigawatt.bench import coupled_year as bench_year

        variants = _choices("--year", year_variants, bench_year.VARIANTS, what="variant")
        records = bench_year.run_benchmarks(variants, steps=steps or 8760, peer=not no_peer, progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_year.format_table(records))
        return
    if sweep_only:
        from gigawatt.bench.sweep_workers import format_sweep_benchmark, run_sweep_benchmark

        given = ctx.get_parameter_source("repeat") != click.core.ParameterSource.DEFAULT
        rec = run_sweep_benchmark(repeat=repeat if given else (1 if sweep_hours else 3),  # a round: two sweeps
                                  progress=say, hours=sweep_hours)
        click.echo(json.dumps(rec, indent=2) if as_json else format_sweep_benchmark(rec))
        return
    if series_dc:
        from gigawatt.bench import dc_year as bench_series

        records = bench_series.run_benchmarks(_counts("--series-dc", series_dc), steps=steps or 8760,
                                              peer=not no_peer, progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_series.format_table(records))
        return
    if dh_series:
        from gigawatt.bench import heating_series as bench_dh_series

        records = bench_dh_series.run_benchmarks(_counts("--dh-series", dh_series), steps or 48, steady=not no_peer,
                                                 hydraulic_tol_pa=hydraulic_tol_pa, progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_dh_series.format_table(records))
        return
    if campus_5gw:
        from gigawatt.bench import campus_5gw as bench_grid

        variants = ["campus_5gw"] + ([f"campus_5gw_fine{campus_5gw_split}"] if campus_5gw_split > 1 else [])
        records = bench_grid.run_benchmarks(variants, repeat=repeat, progress=say)
        click.echo(json.dumps(records, indent=2) if as_json else bench_grid.format_table(records))
        return

    from gigawatt.bench.suite import format_table, run_benchmarks

    cooling = {"coolant_per_rack": _counts("--racks", racks), "coolant_per_plate": _counts("--plates", plates)}
    records = run_benchmarks(_counts("--sizes", sizes), peer=not no_peer, repeat=repeat,
                             cooling_sizes={k: v for k, v in cooling.items() if v},
                             dh_sizes=_counts("--consumers", consumers), bipolar_sizes=_counts("--bipolar", bipolar),
                             progress=say)
    click.echo(json.dumps(records, indent=2) if as_json else format_table(records))


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
def init(folder):
    """Write a commented starter case into FOLDER (default: here): campus.toml and its CSV tables, ready to
    run with `gigawatt run FOLDER/campus.toml`. Existing files are never overwritten."""
    from gigawatt.cases.loader import write_starter_case
    from gigawatt.errors import GigawattError

    try:
        written = write_starter_case(folder)
    except GigawattError as err:
        _fail(err)
    except OSError as err:
        _fail(f"{folder}: cannot write the starter case: {err.strerror}")
    click.echo("wrote " + ", ".join(str(p) for p in written))
    click.echo(f"next: gigawatt run {written[0]}")


def _choices(option: str, text: str, known, what: str = "method") -> list[str]:
    """Comma-separated names among ``known``; a one-line error naming the option otherwise."""
    chosen = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen:
        _fail(f"{option}: unknown {what} {unknown[0] if unknown else repr(text)} (known: {', '.join(known)})")
    return chosen


def _counts(option: str, text: str) -> list[int]:
    """Comma-separated counts of at least 1 (1e4 spellings allowed); a one-line error naming the option
    otherwise."""
    try:
        counts = [float(s) for s in text.split(",") if s.strip()]
        if not all(c >= 1 and c == int(c) for c in counts):  # NaN and inf fail here too
            raise ValueError
        return [int(c) for c in counts]
    except (ValueError, OverflowError):
        _fail(f"{option}: expected comma-separated whole counts of at least 1 (such as 1e4,1e5), got {text!r}")


if __name__ == "__main__":  # pragma: no cover
    main()
