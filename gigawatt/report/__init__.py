"""``gigawatt report RESULTS.nc``: figures of a results file (PNG) and one self-contained HTML page with
them embedded and a table of headline KPIs.

Figures, each drawn only when the results have its data (the page lists the others and why):

=====================  ==========================================================================
``sankey.png``         the energy chain from the power plants (AC grid) or the grid to the chips, their heat
                       and its reuse (:mod:`gigawatt.report.sankey`; the ledger is checked before drawing)
``voltage.png``        voltage along the feeders against distance from the source (one line per distinct
                       profile, the legend counting the feeders it stands for)
``poles.png``          a bipolar network's pole-to-neutral and neutral voltages along the feeders
``fault_currents.png`` peak and quasi steady-state fault current along the feeders (a fault study)
``temperatures.png``   chip temperatures of the racks; coolant supply and return by loop
``dh_supply.png``      supply temperature at the district-heating consumers
``dh_by_kind.png``     heat delivered and demanded by consumer kind
``heat_duration.png``  campus heat available vs network demand over the period, sorted (``time``)
``monthly_heat.png``   heat delivered per month (``time``)
``sweep_kpis.png``     efficiency, PUE, ERF, grid power against each swept parameter (``scenario``), in
                       the units the user typed (the coordinate's ``given_as``)
``compare.png``        losses by stage and efficiency of each architecture (``architecture``)
``contingency.png``    the worst outages and the single points of failure (``outage``)
=====================  ==========================================================================

Scalar figures (KPIs, ledger totals) are read as global attributes or as 0-d variables alike
(:mod:`gigawatt.report.values`).
The variable and attribute names each figure relies on are listed in :mod:`gigawatt.report.figures` and
:mod:`gigawatt.report.sankey`. In short, for results along ``time`` (datetime64 coordinate): the series
``q_available_w``, ``dh_q_demand_w``, ``dh_q_delivered_w``, ``q_recovered_w`` [W] along ``time`` alone draw
the duration curves and months; the ledger scalars of a steady solve (``p_grid_w``, ``p_it_w``,
``p_facility_w``, ``q_liquid_w``, ``q_air_w``, ``p_pumps_w``, ``p_fans_w``, ``q_rejected_w``, ...) given as
series along ``time`` (and ``stage_loss_w`` along (time, stage)) draw the Sankey diagram of the period's
mean power and the KPI table's energies and the period's ratios (PUE = Σ total facility / Σ IT equipment energy,
ERF, ...: formed by :func:`gigawatt.report.figures.period_kpis`, through the one KPI module
:mod:`gigawatt.models.kpis`, when the file does not carry them).
For sweeps: a ``scenario`` dimension, the swept fields as coordinates along it, and the KPIs
``efficiency_grid_to_chip``, ``pue``, ``erf``, ``p_grid_w`` as variables along it. For comparisons
(``gigawatt compare``): an ``architecture`` dimension with ``stage_loss_w`` (architecture, stage) and
``efficiency_grid_to_chip``, ``p_grid_w``, ``copper_mass_kg``, ``annual_energy_mwh``, ``annual_cost`` along it.
A results file is recognised by its ``gigawatt_version`` attribute (a comparison also by its ``architecture``
dimension and a title starting "gigawatt ").
Datasets with a ``scenario`` dimension get the sweep figure and KPI table only (the per-element figures
belong to one scenario).
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.output_paths import atomic_write, check_folder, check_target
from gigawatt.report import figures as F
from gigawatt.report.sankey import LedgerError, draw_sankey, energy_chain, format_w
from gigawatt.report.swing_figures import SWING_FIGURES
from gigawatt.report.values import has_scalar, scalar

__all__ = ["build_report", "open_results", "LedgerError", "FIGURES"]


def _sankey(ds):
    if "scenario" in ds.dims or "architecture" in ds.dims:
        raise F.Skip("a sweep or comparison: the energy chain belongs to one scenario")
    if has_scalar(ds, "p_grid_w") and not scalar(ds, "p_grid_w") > 0:
        raise F.Skip(f"no power drawn from the grid (p_grid_w = {scalar(ds, 'p_grid_w'):g} W)")
    try:
        chain = energy_chain(ds)
    except KeyError as err:
        raise F.Skip(err.args[0]) from None
    title = f"energy chain of '{ds.attrs.get('case_name', '')}'"
    if has_scalar(ds, "efficiency_plant_to_chip"):
        title += f": {scalar(ds, 'efficiency_plant_to_chip'):.2%} of the plants' power reaches the chips"
    elif has_scalar(ds, "efficiency_grid_to_chip"):
        title += f": {scalar(ds, 'efficiency_grid_to_chip'):.2%} of the grid's power reaches the chips"
    if has_scalar(ds, "erf"):
        when = "design hour" if ds.attrs.get("kpi_period") == "design hour" else "over the period"
        title += f"; energy reuse factor {scalar(ds, 'erf'):.3f} ({when})"
    return draw_sankey(chain, title)


def _single(func):
    """A per-element figure: not for sweeps."""
    def draw(ds):
        if "scenario" in ds.dims or "architecture" in ds.dims:
            raise F.Skip(("a sweep" if "scenario" in ds.dims else "a comparison")
                         + ": this figure is drawn from the results of one scenario")
        return func(ds)
    draw.__doc__ = func.__doc__
    return draw


# name -> (file, caption, function)
FIGURES = {
    "sankey": ("sankey.png", "Energy chain from the grid to the chips, their heat and its reuse", _sankey),
    "voltage": ("voltage.png", "Voltage profiles along the feeders", _single(F.voltage_profiles)),
    "poles": ("poles.png", "Bipolar network: pole and neutral voltages along the feeders",
              _single(F.pole_voltages)),
    "fault_currents": ("fault_currents.png", "DC fault currents along the feeders",
                       _single(F.fault_currents_along_feeders)),
    "temperatures": ("temperatures.png", "Chip and coolant temperatures", _single(F.temperatures)),
    "dh_supply": ("dh_supply.png", "District heating: supply temperature at the consumers",
                  _single(F.dh_supply_temperatures)),
    "dh_by_kind": ("dh_by_kind.png", "District heating: heat by consumer kind", _single(F.dh_heat_by_kind)),
    "heat_duration": ("heat_duration.png", "Heat duration curves", _single(F.heat_duration)),
    "monthly_heat": ("monthly_heat.png", "Heat by month", _single(F.monthly_heat)),
    "sweep_kpis": ("sweep_kpis.png", "KPIs against the swept parameters", F.sweep_kpis),
    "compare": ("compare.png", "Architectures compared: losses by stage and efficiency", F.compare_architectures),
    "contingency": ("contingency.png", "The worst outages and the single points of failure", F.contingency),
    **SWING_FIGURES,
}


@dataclass
class Report:
    """What :func:`build_report` wrote: the page, the figures (name → PNG path) and the skipped figures
    (name → reason)."""

    html: Path
    figures: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def open_results(path) -> "xarray.Dataset":  # noqa: F821
    """Open a gigawatt results NetCDF (lazily); a missing file, a file that is not NetCDF or one that gigawatt
    did not write raises :class:`~gigawatt.errors.CaseError`."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise CaseError("no such results file", file=str(path))
    try:
        ds = xr.open_dataset(path)
    except Exception as err:  # netCDF4, h5netcdf and scipy raise various types for foreign files
        raise CaseError(f"not a NetCDF results file ({type(err).__name__}: {str(err).splitlines()[0][:120]})",
                        file=str(path)) from None
    comparison = "architecture" in ds.dims and str(ds.attrs.get("title", "")).startswith("gigawatt ")
    if "gigawatt_version" not in ds.attrs and not comparison:  # comparisons written before they carried it
        ds.close()
        raise CaseError("not a gigawatt results file (no 'gigawatt_version' attribute)", file=str(path))
    try:
        check_numbers(ds, str(path))
    except CaseError:
        ds.close()
        raise
    return ds


_NUMERIC_SUFFIXES = ("_w", "_j", "_k", "_pa", "_v", "_a", "_m", "_m2", "_kg_s", "_m3_s", "_pu", "_var", "_s",
                     "_residual", "_loading", "_ratio", "_efficiency", "_speed", "_cop", "_fraction")
_NUMERIC_NAMES = ("pue", "erf", "ppue_cooling", "efficiency_grid_to_chip", "efficiency_plant_to_chip", "iterations",
                  "converged", "steps", "dh_undersupplied", "scenarios_failed")


def _numeric_name(name: str) -> bool:
    """A result named like a number (a unit suffix, a ratio or a count): gigawatt writes these as numbers."""
    return name in _NUMERIC_NAMES or name.endswith(_NUMERIC_SUFFIXES)


def check_numbers(ds, file: str | None = None) -> None:
    """Refuse a results file whose figures are not numbers where gigawatt writes numbers (attributes and
    variables named with a unit suffix, ratios and counts): a file edited or written by another program.
    NaN and infinite values are numbers: figures they spoil are listed as not drawn."""
    for name, value in ds.attrs.items():
        v = np.asarray(value)
        if _numeric_name(name) and (v.dtype.kind not in "biuf" or v.size != 1):
            raise CaseError("a figure of the results is not a number", file=file, field=name, value=value)
    for name, var in ds.variables.items():
        if _numeric_name(str(name)) and var.dtype.kind not in "biufmM":
            raise CaseError(f"a variable of the results is not numeric ({var.dtype})", file=file, field=str(name))


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def build_report(results, outdir) -> Report:
    """Draw every figure the results have data for and write them with ``report.html`` into ``outdir``
    (created if needed). ``results``: a path or an ``xarray.Dataset``.

    Raises :class:`LedgerError` when the energy ledger does not balance (nothing is written then), and
    :class:`~gigawatt.errors.CaseError` for a results file it cannot read or an ``outdir`` it cannot write.
    """
    import xarray as xr

    outdir = check_report_folder(outdir, None if isinstance(results, xr.Dataset) else results)
    if isinstance(results, xr.Dataset):
        check_numbers(results)
    ds = results if isinstance(results, xr.Dataset) else open_results(results)
    try:
        drawn, skipped = {}, {}
        for name, (_, _, func) in FIGURES.items():
            try:
                drawn[name] = _png(func(ds))
            except F.Skip as why:
                skipped[name] = str(why)
            except LedgerError:
                raise
            except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, OverflowError) as err:
                # Data a gigawatt run did not write (NaN or infinite figures): the figure is listed as not
                # drawn, with the reason, and the others are drawn.
                reason = str(err).splitlines()[0][:160] if str(err) else ""
                skipped[name] = f"cannot be drawn from these data ({type(err).__name__}: {reason})"
        page = _html(ds, drawn, skipped, source=None if isinstance(results, xr.Dataset) else Path(results))
    finally:
        if not isinstance(results, xr.Dataset):
            ds.close()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        report = Report(outdir / "report.html", skipped=skipped)
        for name, png in drawn.items():
            path = atomic_write(outdir / FIGURES[name][0], lambda tmp: Path(tmp).write_bytes(png))
            report.figures[name] = path
        atomic_write(report.html, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    except OSError as err:
        raise CaseError(f"cannot write the report: {err.strerror or err}", file=str(outdir)) from None
    return report


def check_report_folder(outdir, results=None) -> Path:
    """Refuse, before drawing, a report folder that is a file, cannot be made or written, or where a file of
    the report would overwrite the results it is drawn from (:mod:`gigawatt.output_paths`)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise CaseError("is a file, not a folder for the report", file=str(outdir), element="-o")
    check_folder(outdir, what="report", create=True)
    for file in ["report.html"] + [f for f, _, _ in FIGURES.values()]:
        check_target(outdir / file, [results] if results is not None else [], what="report", option="-o")
    return outdir


# --- the page -----------------------------------------------------------------------------------------

def _energy_or_mean(ds, name):
    """(value, formatted) of a power quantity: its energy over the period for a time series [Wh], else the
    attribute or summed variable [W]."""
    if name in ds.data_vars and "time" in ds[name].dims:
        v = ds[name]
        if set(v.dims) - {"time"}:
            v = v.sum([d for d in v.dims if d != "time"])
        try:
            hours = F._step_hours(ds)
        except F.Skip:  # no dates to weigh the steps with
            return f"{format_w(float(v.mean()))} mean over {v.sizes['time']} steps"
        wh = float((np.asarray(v.values, float) * hours).sum())
        return f"{format_w(wh).replace('W', 'Wh')} over {hours.sum():,.0f} h"
    if has_scalar(ds, name):
        return format_w(scalar(ds, name))
    return None


def _weights(ds):
    """Step durations [h] of a dated time axis, else None (steps weigh the same)."""
    try:
        return F._step_hours(ds)
    except F.Skip:
        return None


KPI_ROWS = (("pue", "PUE (ISO/IEC 30134-2)", "{:.3f}"), ("ppue_cooling", "partial PUE of the cooling", "{:.3f}"),
            ("ppue_power", "partial PUE of the power delivery", "{:.3f}"),
            ("itue", "ITUE, IT equipment / chips (Patterson et al. 2013)", "{:.3f}"),
            ("tue", "TUE, total / chips (Patterson et al. 2013)", "{:.3f}"),
            ("erf", "energy reuse factor (ERF, ISO/IEC 30134-6)", "{:.3f}"),
            ("cue_kg_per_kwh", "CUE (ISO/IEC 30134-8)", "{:.4f} kgCO2e/kWh"),
            ("ref", "renewable energy factor (REF, ISO/IEC 30134-3)", "{:.3f}"),
            ("nuclear_share", "nuclear share of the total energy", "{:.3f}"))
"""The KPI rows of the headline table: (attribute, label, format); the label gains the basis (design hour or
period)."""


POWER_ROWS = (("p_plant_w", "fed in by the power plants (AC grid)"),
              ("p_ac_loss_w", "AC grid losses (lines and transformers)"),
              ("p_grid_w", "drawn from the grid (the stations' AC intake)"),
              ("p_rack_input_w", "IT power at the rack inputs (IT equipment, ISO/IEC 30134-2)"),
              ("p_it_w", "power at the chips"), ("p_loss_w", "electrical losses grid to chips"),
              ("p_total_facility_w", "total facility power (at the meter)"),
              ("p_pos_w", "+ pole power (bipolar)"), ("p_neg_w", "− pole power (bipolar)"),
              ("neutral_loss_w", "neutral conductor losses (bipolar)"),
              ("q_available_w", "heat available for reuse"), ("q_recovered_w", "heat recovered"),
              ("q_rejected_w", "heat rejected"), ("dh_q_delivered_w", "district heat delivered"),
              ("dh_q_demand_w", "district heat demand"),
              ("hp_electric_w", "heat pumps' electricity (outside the KPIs' boundary)"))
"""The power rows of the headline table: (name, label); energies over the period for a time series."""

COMPARE_ROWS = (("efficiency_grid_to_chip", "grid-to-chip efficiency", lambda v: f"{v:.2%}"),
                ("p_grid_w", "drawn from the grid", format_w), ("p_loss_w", "losses grid to chips", format_w),
                ("copper_mass_kg", "conductor copper", lambda v: f"{v / 1e3:,.1f} t"),
                ("annual_energy_mwh", "energy a year", lambda v: f"{v:,.0f} MWh"),
                ("annual_cost", "energy cost a year (at the tariff)", lambda v: f"{v:,.0f}"))
"""The rows of a comparison of architectures: (variable along ``architecture``, label, format)."""


def kpi_rows(ds) -> list[tuple[str, str]]:
    """Headline figures as (label, formatted value), those the results have."""
    a = ds.attrs
    rows = []
    if "scenario" in ds.dims:
        rows.append(("scenarios", str(ds.sizes["scenario"])))
        rows.append(("swept parameters", ", ".join(str(ds[p].attrs.get("given_as", p))
                                                  for p in F.swept_parameters(ds)) or "–"))
        for k in F.KPIS:
            if k in ds:
                v = F.sweep_kpi(ds, k)
                fmt = format_w if k == "p_grid_w" else (lambda x: f"{x:.4f}")
                rows.append((F.KPIS[k][0] + " (min – max)", f"{fmt(np.nanmin(v))} – {fmt(np.nanmax(v))}"))
        return rows
    if "architecture" in ds.dims:
        archs = [str(x) for x in ds.architecture.values]
        rows.append(("architectures (the first is the baseline)", ", ".join(archs)))
        for name, label, fmt in COMPARE_ROWS:
            if name in ds and ds[name].dims == ("architecture",):
                rows.append((label, " · ".join(f"{arch} {fmt(float(v))}" for arch, v in zip(archs, ds[name].values))))
        return rows
    for name, label in POWER_ROWS:
        text = _energy_or_mean(ds, name)
        if text:
            rows.append((label, text))
    for name, label in (("efficiency_plant_to_chip", "plant-to-chip efficiency"),
                        ("efficiency_grid_to_chip", "grid-to-chip efficiency")):
        if has_scalar(ds, name):
            rows.append((label, f"{scalar(ds, name):.2%}"))
    terms = F.KPIS["efficiency_grid_to_chip"][2]
    if not has_scalar(ds, "efficiency_grid_to_chip") and "time" in ds.dims and \
            all(n in ds.data_vars and ds[n].dims == ("time",) for n in terms):
        w = _weights(ds)
        num, den = (float(np.sum(ds[n].values * (1.0 if w is None else w))) for n in terms)
        rows.append(("grid-to-chip efficiency over the period", f"{num / den:.2%}" if den else "–"))
    if has_scalar(ds, "pue"):  # the results' own KPIs, at the design hour or over the period
        kpis = {n: scalar(ds, n) for n, _, _ in KPI_ROWS if has_scalar(ds, n)}
        when = " at the design hour" if a.get("kpi_period") == "design hour" else " over the period"
    else:  # a series without them: formed from its energies by the same module
        kpis, when = (F.period_kpis(ds, _weights(ds)) if "time" in ds.dims else {}), " over the period"
    for name, label, fmt in KPI_ROWS:
        if name in kpis:
            rows.append((label + when, fmt.format(float(kpis[name]))))
    if has_scalar(ds, "pole_imbalance"):
        rows.append(("pole imbalance (bipolar)", f"{scalar(ds, 'pole_imbalance'):+.3%}"))
    if "v_pu" in ds and "time" not in ds.v_pu.dims and ds.sizes.get("bus") and np.isfinite(ds.v_pu.values).any():
        i = int(np.nanargmin(ds.v_pu.values))
        what = "lowest pole-to-neutral voltage" if "v_pos_v" in ds else "lowest voltage"
        rows.append((what, f"{float(ds.v_pu.values[i]):.4f} pu at bus '{ds.bus.values[i]}'"))
    if "t_chip_k" in ds and "time" not in ds.t_chip_k.dims and ds.sizes.get("rack") and \
            np.isfinite(ds.t_chip_k.values).any():
        junction = scalar(ds, "chip_r_jc_k_per_w", 0.0) > 0 and "t_junction_k" in ds
        t = (ds.t_junction_k if junction else ds.t_chip_k).values
        i = int(np.nanargmax(t))
        rows.append(("hottest chip " + ("junction (R_jc an assumption of the case)" if junction else "case"),
                     f"{float(t[i]) - F.C0:.1f} °C in rack '{ds.rack.values[i]}'"))
    if has_scalar(ds, "dh_undersupplied"):
        rows.append(("consumers under-supplied", f"{int(scalar(ds, 'dh_undersupplied'))}"))
    if has_scalar(ds, "energy_balance_residual"):
        rows.append(("energy balance residual", f"{scalar(ds, 'energy_balance_residual'):.1e}"))
    return rows


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;overflow-wrap:anywhere}h1{font-size:1.5em;margin-bottom:.2em}.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;margin:1em 0;max-width:100%}td{padding:.25em 1em;border-bottom:1px solid #e4e4e4}
td:first-child{color:#555}td:last-child{font-variant-numeric:tabular-nums;font-weight:600}
figure{margin:2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;margin-top:.3em}
.skipped{color:#777;font-size:.9em}pre{background:#fff6e5;padding:.6em;white-space:pre-wrap}
@media (max-width:600px){body{margin:1em auto;padding:0 .5em}td{padding:.2em .4em}}"""


def _html(ds, drawn: dict[str, bytes], skipped: dict[str, str], source: Path | None) -> str:
    a = ds.attrs
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>gigawatt report: {esc(str(a.get('case_name', '')))}</title>", f"<style>{_CSS}</style>",
             "</head><body>", f"<h1>{esc(str(a.get('title', 'gigawatt results')))}</h1>",
             f'<p class="meta">case <b>{esc(str(a.get("case_name", "")))}</b>'
             + (f" · results {esc(str(source))}" if source else "")
             + f" · gigawatt {esc(str(a.get('gigawatt_version', '')))}"
             + (f" · case hash {esc(str(a['case_hash'])[:12])}" if a.get("case_hash") else "") + "</p>",
             "<h2>Headline figures</h2><table>"]
    parts += [f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in kpi_rows(ds)]
    parts.append("</table>")
    if a.get("kpi_basis"):
        parts.append("<h2>KPI boundary and basis</h2><ul>")
        parts += [f"<li>{esc(line)}</li>" for line in str(a["kpi_basis"]).splitlines()]
        parts.append("</ul>")
    if a.get("warnings"):
        parts.append(f"<h2>Warnings</h2><pre>{esc(str(a['warnings']))}</pre>")
    for name, png in drawn.items():
        file, caption, _ = FIGURES[name]
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="{name}"><img src="data:image/png;base64,{data}" alt="{esc(caption)}" '
                     f'data-file="{file}"><figcaption>{esc(caption)} (<a href="{file}">{file}</a>)</figcaption>'
                     "</figure>")
    if skipped:
        parts.append('<h2>Not drawn</h2><ul class="skipped">')
        parts += [f"<li>{esc(FIGURES[n][1])}: {esc(why)}</li>" for n, why in skipped.items()]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
