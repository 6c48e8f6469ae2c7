"""Text of ``gigawatt swings`` and ``gigawatt size-storage``: what the grid sees, the stores, the findings."""
from __future__ import annotations


def _mw(x: float) -> str:
    return f"{x / 1e6:,.2f} MW"


def swing_lines(ds) -> list[str]:
    """The summary of a :func:`gigawatt.run_swings` result."""
    a = ds.attrs
    lines = [f"training swings of '{a['case_name']}': {a['steps']:,} steps of {a['step_s'] * 1000:g} ms "
             f"({a['steps'] * a['step_s']:g} s), load from {a['load_source']}",
             f"  DC network: {a['dc_method']}" + (f" ({a['dc_surrogate_nodes']} nodes, largest difference from a "
                                                  f"load flow {a['dc_surrogate_max_error_w']:.2g} W)"
                                                  if a["dc_method"] == "chebyshev" else ""),
             f"  point of connection: peak {_mw(a['p_poc_peak_w'])} (without stores {_mw(a['p_poc_unsmoothed_peak_w'])}, "
             f"{a['peak_reduction']:.1%} lower); largest ramp {a['ramp_max_w_per_s'] / 1e6:,.3g} MW/s (without "
             f"{a['ramp_unsmoothed_max_w_per_s'] / 1e6:,.3g} MW/s)"]
    if "band" in ds.dims:
        for b in ds["band"].values:
            sel = ds.sel(band=b)
            lines.append(f"  band {b} ({float(sel.band_low_hz):g}–{float(sel.band_high_hz):g} Hz): RMS "
                         f"{float(sel.band_rms_w) / 1e6:.4g} MW (without stores {float(sel.band_rms_unsmoothed_w) / 1e6:.4g} MW)")
    if "store" in ds.dims and ds.sizes["store"]:
        for s in ds["store"].values:
            x = ds.sel(store=s)
            lines.append(f"  store {s} ({str(x.store_placement.values)}, {str(x.store_kind.values)}, "
                         f"{str(x.store_control.values)}): {_mw(float(x.store_power_rated_w))}, "
                         f"{float(x.store_energy_rated_j) / 3.6e9:.4g} MWh; SoC {float(x.store_soc.min()):.2f}–"
                         f"{float(x.store_soc.max()):.2f}; {float(x.store_full_cycles):.3g} full cycles "
                         f"({float(x.store_life_used):.2e} of its life); losses "
                         f"{float(x.store_energy_loss_j) / 3.6e6:,.1f} kWh")
            if int(x.store_short_steps):
                lines.append(f"    FINDING: short of its law at {int(x.store_short_steps):,} steps "
                             f"({int(x.store_short_steps) * a['step_s']:g} s), by up to "
                             f"{_mw(float(x.store_short_worst_w))}")
    if "ramp_limit_w_per_s" in a:
        if a["ramp_limit_exceeded_steps"]:
            lines.append(f"  FINDING: ramp limit {a['ramp_limit_w_per_s'] / 1e6:g} MW/s exceeded at "
                         f"{a['ramp_limit_exceeded_steps']:,} steps ({a['ramp_limit_exceeded_s']:g} s, first at "
                         f"{a['ramp_limit_first_exceeded_s']:g} s), by up to "
                         f"{a['ramp_limit_worst_excess_w_per_s'] / 1e6:,.3g} MW/s")
        else:
            lines.append(f"  ramp limit {a['ramp_limit_w_per_s'] / 1e6:g} MW/s held at every step")
    lines.append(f"  energy ledger residual {a['energy_balance_residual']:.1e}; cooling step "
                 f"{a['cooling_step_s']:g} s: {a['cooling_note']}")
    return lines


def sizing_lines(sized: list[dict], limit_w_per_s: float, bands: dict | None = None) -> list[str]:
    """The table of :func:`gigawatt.size_storage`; ``bands``: ``{placement: {band: (RMS, RMS without)}}``."""
    lines = [f"smallest store per placement holding {limit_w_per_s / 1e6:g} MW/s at the point of connection "
             "(ramp-limit law; unconstrained run, closed-form rating, checked; bisection when a limit binds)",
             f"  {'placement':<10} {'power':>12} {'energy':>12} {'law limit':>12} {'grid ramp':>12}  held"]
    for s in sized:
        lines.append(f"  {s['placement']:<10} {_mw(s['power_w']):>12} {s['energy_j'] / 3.6e9:>8.4g} MWh "
                     f"{s['law_ramp_limit_w_per_s'] / 1e6:>7.4g} MW/s {s['ramp_max_w_per_s'] / 1e6:>7.4g} MW/s  "
                     f"{'yes' if s['held'] else 'NO'}")
        for b, (rms, rms0) in (bands or {}).get(s["placement"], {}).items():
            lines.append(f"    band {b}: RMS {rms / 1e6:.4g} MW (without the store {rms0 / 1e6:.4g} MW)")
    return lines


def band_sizing_lines(sized: list[dict], band: str, limit_w: float) -> list[str]:
    """The table of :func:`gigawatt.size_storage_band` for the band named ``band`` and its RMS limit [W]."""
    lines = [f"smallest store per placement holding the RMS in band {band} within {limit_w / 1e6:g} MW at the point "
             "of connection (low-pass law; corner from the spectrum, unconstrained run, closed-form rating, "
             "checked; bisection on the corner when needed)",
             f"  {'placement':<10} {'power':>12} {'energy':>12} {'corner':>10} {'band RMS':>12} {'without':>12}  held"]
    for s in sized:
        lines.append(f"  {s['placement']:<10} {_mw(s['power_w']):>12} {s['energy_j'] / 3.6e9:>8.4g} MWh "
                     f"{s['corner_hz']:>7.4g} Hz {s['band_rms_w'] / 1e6:>9.4g} MW {s['band_rms_unsmoothed_w'] / 1e6:>9.4g} MW"
                     f"  {'yes' if s['held'] else 'NO'}")
    return lines
