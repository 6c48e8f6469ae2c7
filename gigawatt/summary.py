"""The summary a power engineer reads at a glance, from a results dataset."""
from __future__ import annotations

import numpy as np
import xarray as xr


MAX_LISTED = 12  # sources listed one by one; the rest are summed


def _mw(x) -> str:
    return f"{float(x) / 1e6:12.4f} MW"


def format_summary(ds: xr.Dataset) -> str:
    """Sources, IT power, losses by stage and kind, efficiency, lowest voltage, convergence."""
    a = ds.attrs
    lines = [f"case {a['case_name']!r}  ({ds.sizes['bus']} buses, {ds.sizes['line']} lines, "
             f"{ds.sizes['source']} sources, {ds.sizes['converter']} converters, {ds.sizes['rack']} racks)", ""]
    lines.append("power drawn from each source (grid side)")
    for sid in ds["source"].values[:MAX_LISTED]:
        s = ds.sel(source=sid)
        lines.append(f"  {sid:<24} {_mw(s.p_grid_w)}   DC out {_mw(s.p_dc_w)}   at {float(s.source_v_v):8.2f} V"
                     f"   loading {100 * float(s.source_loading):6.1f} %")
    if ds.sizes["source"] > MAX_LISTED:
        rest = ds.isel(source=slice(MAX_LISTED, None))
        lines.append(f"  {'... and %d more' % rest.sizes['source']:<24} {_mw(rest.p_grid_w.sum())}   loading "
                     f"{100 * float(rest.source_loading.min()):.1f}–{100 * float(rest.source_loading.max()):.1f} %")
    lines.append(f"  {'total':<24} {_mw(a['p_grid_w'])}")
    lines.append(f"IT power delivered to the chips {_mw(a['p_it_w'])}")
    lines.append("")
    lines.append("losses by stage")
    for st in ds["stage"].values:
        v = float(ds.stage_loss_w.sel(stage=st))
        lines.append(f"  {st:<24} {_mw(v)}   {100 * v / a['p_grid_w']:6.3f} % of grid power")
    lines.append("losses by element kind")
    for k in ds["kind"].values:
        v = float(ds.kind_loss_w.sel(kind=k))
        if v:
            lines.append(f"  {k:<24} {_mw(v)}")
    lines.append(f"  {'total':<24} {_mw(a['p_loss_w'])}")
    lines.append("")
    lines.append(f"grid-to-chip efficiency        {100 * a['efficiency_grid_to_chip']:.3f} %")
    i = int(np.argmin(ds.v_pu.values))
    lines.append(f"lowest voltage                 {float(ds.v_v[i]):.3f} V = {float(ds.v_pu[i]):.4f} pu "
                 f"at bus '{ds.bus.values[i]}'")
    lines.append(f"converged in {a['iterations']} Newton iterations; largest mismatch {a['max_mismatch_a']:.2e} A; "
                 f"energy balance residual {a['energy_balance_residual']:.1e}")
    if a.get("warnings"):
        lines += ["", "warnings"] + [f"  {w}" for w in a["warnings"].splitlines()]
    return "\n".join(lines)
