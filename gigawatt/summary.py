"""The summary a power engineer reads at a glance, from a results dataset."""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.quantities import engineering_parts

from gigawatt.models.consumers import YEAR_S, homes_heated_annual
from gigawatt.solver.dc.results import STAGES
from gigawatt.solver.plausibility import VELOCITY_WARN_M_S

MAX_LISTED = 12  # sources listed one by one; the rest are summed


def _mw(x) -> str:
    """A power [W] in the prefix its magnitude calls for (W, kW, MW, GW), right-aligned."""
    number, unit = engineering_parts(x, "W", digits=6)
    return f"{number:>11} {unit:<2}"


def _pct(part, whole, digits: int = 3) -> str:
    """``part`` as a percentage of ``whole``, or ``–`` when there is no whole (a case without load)."""
    whole = float(whole)
    return f"{100 * float(part) / whole:{digits + 4}.{digits}f}" if whole > 0 and whole == whole else "      –"


def format_summary(ds: xr.Dataset) -> str:
    """Sources, IT power, losses by stage and kind, efficiency, lowest voltage, convergence; cooling and
    district heating when the case has them."""
    a = ds.attrs
    if "bus" not in ds.sizes:  # a district-heating network alone
        lines = [f"case {a['case_name']!r}", ""] + district_heating_lines(ds)
        if a.get("warnings"):
            lines += ["", "warnings"] + [f"  {w}" for w in a["warnings"].splitlines()]
        return "\n".join(lines)
    lines = [f"case {a['case_name']!r}  ({ds.sizes['bus']} buses, {ds.sizes['line']} lines, "
             f"{ds.sizes['source']} sources, {ds.sizes['converter']} converters, {ds.sizes['rack']} racks)"]
    if "design_point" in a:
        lines.append(f"design point: {a['design_point']}")
    lines.append("")
    lines.append("power drawn from each source (grid side)")
    for sid in ds["source"].values[:MAX_LISTED]:
        s = ds.sel(source=sid)
        lines.append(f"  {sid:<24} {_mw(s.source_p_grid_w)}   DC out {_mw(s.p_dc_w)}   at {float(s.source_v_v):8.2f} V"
                     f"   loading {100 * float(s.source_loading):6.1f} %")
    if ds.sizes["source"] > MAX_LISTED:
        rest = ds.isel(source=slice(MAX_LISTED, None))
        lines.append(f"  {'... and %d more' % rest.sizes['source']:<24} {_mw(rest.source_p_grid_w.sum())}   loading "
                     f"{100 * float(rest.source_loading.min()):.1f}–{100 * float(rest.source_loading.max()):.1f} %")
    lines.append(f"  {'total':<24} {_mw(a['p_grid_w'])}")
    lines += dc_grid_element_lines(ds)
    lines += it_power_lines(ds)
    lines.append("")
    lines.append("losses by stage")
    for st in ds["stage"].values:
        v = float(ds.stage_loss_w.sel(stage=st))
        lines.append(f"  {st:<24} {_mw(v)}   {_pct(v, a['p_grid_w'])} % of grid power")
    lines.append("losses by element kind")
    for k in ds["kind"].values:
        v = float(ds.kind_loss_w.sel(kind=k))
        if v:
            lines.append(f"  {k:<24} {_mw(v)}")
    lines.append(f"  {'total':<24} {_mw(a['p_loss_w'])}")
    lines.append("")
    eff = float(a["efficiency_grid_to_chip"])
    lines.append("grid-to-chip efficiency        " + (f"{100 * eff:.3f} %" if eff == eff else "– (no power drawn)"))
    i = int(np.argmin(ds.v_pu.values))
    lines.append(f"lowest voltage                 {float(ds.v_v[i]):.3f} V = {float(ds.v_pu[i]):.4f} pu "
                 f"at bus '{ds.bus.values[i]}'")
    its = "substitutions (DC grid load flow)" if "dc_solver" in a else "Newton iterations"
    lines.append(f"converged in {a['iterations']} {its}; largest mismatch {a['max_mismatch_a']:.2e} A; "
                 f"energy balance residual {a['energy_balance_residual']:.1e}")
    if a.get("dc_system") == "bipolar":
        lines += [""] + bipolar_lines(ds)
    if "p_plant_w" in a:
        lines += [""] + grid_lines(ds)
    if "p_facility_w" in a:
        lines += [""] + cooling_lines(ds)
    if "dh_q_plant_w" in a:
        lines += [""] + district_heating_lines(ds)
    if "pue" in a:
        lines += [""] + kpi_lines(a)
    if a.get("warnings"):
        lines += ["", "warnings"] + [f"  {w}" for w in a["warnings"].splitlines()]
    return "\n".join(lines)


def dc_grid_element_lines(ds: xr.Dataset) -> list[str]:
    """The set-power terminals (power, mode) and conductance loads of a case with DC grid elements."""
    lines = []
    if "terminal_p_w" in ds and ds.sizes.get("dc_terminal"):
        lines += ["", "set-power terminals (into the DC network; negative: drawing)"]
        for tid in ds["dc_terminal"].values[:MAX_LISTED]:
            x = ds.sel(dc_terminal=tid)
            lines.append(f"  {tid:<24} {_mw(x.terminal_p_w)}   {x.terminal_mode.item()}")
        lines.append(f"  {'total':<24} {_mw(ds.attrs.get('p_dc_terminals_w', 0.0))}")
    if "conductance_p_w" in ds and ds.sizes.get("dc_conductance"):
        lines.append(f"conductance loads (G·V²)       {_mw(ds.attrs.get('p_dc_conductances_w', 0.0)).strip()} in "
                     f"{ds.sizes['dc_conductance']} load(s)")
    return lines


def it_power_lines(ds: xr.Dataset) -> list[str]:
    """IT power at the rack inputs (the IT equipment of ISO/IEC 30134-2) and at the chips, the basis the case
    gives its racks' power on, and the elements the case makes lossless."""
    a = ds.attrs
    lines = [f"IT power at the rack inputs     {_mw(a['p_rack_input_w'])}   (IT equipment, ISO/IEC 30134-2; the "
             f"racks' p_it_w on basis '{a.get('rack_power_basis', 'input')}')",
             f"power at the chips             {_mw(a['p_it_w'])}   (after the shelves and voltage regulators)"]
    ideal = [f"{n} {what}" for n, what in ((a.get("lossless_stations", 0), "stations without a loss model"),
                                           (a.get("racks_without_shelf", 0), "racks without power shelves")) if n]
    if ideal:
        lines.append(f"idealised by the case           {'; '.join(ideal)} (lossless)")
    return lines


_UNDEFINED = "–"


def _ratio(a, name: str) -> str:
    """A KPI attribute to four decimals, or a dash where it is undefined (NaN: its denominator is zero)."""
    v = float(a[name])
    return f"{v:.4f}" if v == v else _UNDEFINED


def kpi_lines(a) -> list[str]:
    """The KPIs of a result (its attributes ``a``) with their boundary and basis: the design hour of a steady
    solve, or the period of a time series (:mod:`gigawatt.models.kpis`)."""
    import textwrap

    design = a.get("kpi_period") == "design hour"
    title = ("KPIs at the design hour (ratios of instantaneous powers; the standards define them on a year's "
             "energy)" if design else f"KPIs over the period of {a.get('kpi_period', '')} (ratios of energies)")
    k = {name: _ratio(a, name) for name in ("pue", "ppue_cooling", "ppue_power", "itue", "tue", "erf", "ref",
                                               "nuclear_share", "cue_kg_per_kwh") if name in a}
    lines = [title,
             f"  PUE                          {k['pue']}   total facility / IT equipment (ISO/IEC 30134-2)",
             f"  partial PUE cooling / power  {k['ppue_cooling']} / {k['ppue_power']}   (IT + pumps and fans) "
             f"/ IT; (IT + power delivery from the meter to the IT boundary) / IT",
             f"  ITUE / TUE                   {k['itue']} / {k['tue']}   IT equipment / chips; total / chips "
             f"= PUE × ITUE (Patterson et al. 2013)"]
    if "erf" in a:
        label = "design-hour value" if design else "over the period"
        hp = a.get("hp_electric_w") if design else a.get("energy_hp_electric_j")
        beside = ""
        if hp:
            beside = (f"; heat pumps' electricity {_mw(hp).strip()}" if design
                      else f"; heat pumps' electricity {hp / 3.6e9:,.1f} MWh") + " (outside the boundary, in no KPI)"
        lines.append(f"  ERF                          {k['erf']}   {label}: heat delivered to reuse / total "
                     f"facility (ISO/IEC 30134-6){beside}")
    if "cue_kg_per_kwh" in a:
        lines.append(f"  CUE                          {k['cue_kg_per_kwh']} kgCO2e/kWh   emissions of the total "
                     f"energy / IT energy (ISO/IEC 30134-8)")
    if "ref" in a:
        lines.append(f"  REF / nuclear share          {k['ref']} / {k['nuclear_share']}   of the total "
                     f"energy (ISO/IEC 30134-3)")
    if any(v == _UNDEFINED for v in k.values()):
        lines.append(f"  {_UNDEFINED}: not defined (no IT power, or no energy, to divide by)")
    if a.get("kpi_basis"):
        lines.append("  boundary and basis")
        for text in str(a["kpi_basis"]).splitlines():
            lines += textwrap.wrap(text, 110, initial_indent="    - ", subsequent_indent="      ")
    return lines


def bipolar_lines(ds: xr.Dataset) -> list[str]:
    """The neutral of a bipolar case: pole balance, the largest neutral current and where, neutral loss,
    the lowest pole voltage, earth current between stations."""
    a = ds.attrs
    lines = [f"bipolar DC (±{float(ds.v_nominal_v.max()):.0f} V with a neutral)",
             f"  pole powers + / −            {_mw(a['p_pos_w']).strip()} / {_mw(a['p_neg_w']).strip()}; "
             f"imbalance {100 * a['pole_imbalance']:+.2f} % of the total"]
    i_n = np.abs(np.nan_to_num(ds.i_neutral_a.values))
    if i_n.size:
        k = int(np.argmax(i_n))
        lines.append(f"  largest neutral current      {i_n[k]:.1f} A in line '{ds.line.values[k]}' "
                     f"(pole currents {float(ds.i_pos_a[k]):.1f} / {float(ds.i_neg_a[k]):.1f} A)")
    lines.append(f"  neutral conductor loss       {_mw(a['neutral_loss_w']).strip()}")
    pos = ds.v_pos_v.values - ds.v_neutral_v.values
    neg = ds.v_neutral_v.values - ds.v_neg_v.values
    v_nom = ds.v_nominal_v.values
    for name, v in (("positive", pos), ("negative", neg)):
        i = int(np.argmin(v / v_nom))
        lines.append(f"  {'lowest ' + name + ' pole':<28} {v[i]:.3f} V to neutral = {v[i] / v_nom[i]:.4f} pu at bus "
                     f"'{ds.bus.values[i]}'")
    j = int(np.argmax(np.abs(ds.v_neutral_v.values)))
    lines.append(f"  largest neutral potential    {float(ds.v_neutral_v[j]):+.3f} V at bus '{ds.bus.values[j]}'")
    earth = np.abs(ds.i_earth_a.values)
    if earth.size and earth.max() > 1e-6 * max(float(np.nanmax(np.abs(ds.i_pos_a.values), initial=0.0)), 1.0):
        e = int(np.argmax(earth))
        lines.append(f"  earth current                up to {earth[e]:.1f} A at station bus '{ds.bus.values[e]}' "
                     f"(each station earths its neutral)")
    return lines


def grid_lines(ds: xr.Dataset) -> list[str]:
    """The grid side: supplies, the stations' AC intake and its coupling, AC losses by kind, voltages and
    loadings, the plant-to-chip ledger."""
    a = ds.attrs
    lines = [f"grid side ({ds.sizes['ac_bus']} AC buses, {ds.sizes['ac_line']} lines, {ds.sizes['ac_trafo']} "
             f"transformers, {ds.sizes['ac_supply']} supplies; AC load flow by {a['ac_solver']})"]
    for sid in ds["ac_supply"].values[:MAX_LISTED]:
        s = ds.sel(ac_supply=sid)
        lines.append(f"  {sid:<24} {_mw(s.ac_supply_p_w)}   {float(s.ac_supply_q_var) / 1e6:+10.4f} Mvar   "
                     f"({s.ac_supply_kind.item()})")
    if ds.sizes["ac_supply"] > MAX_LISTED:
        rest = ds.isel(ac_supply=slice(MAX_LISTED, None))
        lines.append(f"  {'... and %d more' % rest.sizes['ac_supply']:<24} {_mw(rest.ac_supply_p_w.sum())}")
    lines.append(f"  {'power from the plants':<24} {_mw(a['p_plant_w'])}   {a['q_plant_var'] / 1e6:+10.4f} Mvar")
    lines.append(f"  {'stations AC intake':<24} {_mw(a['p_ac_intake_w'])}   {a['q_ac_intake_var'] / 1e6:+10.4f} Mvar"
                 f"   (DC output + station losses; coupling residual {a['ac_coupling_residual']:.1e})")
    for k in ds["ac_kind"].values:
        v = float(ds.ac_kind_loss_w.sel(ac_kind=k))
        lines.append(f"  {k + ' loss':<24} {_mw(v)}   {_pct(v, a['p_plant_w'])} % of plant power")
    vm = ds.ac_vm_pu.values
    if np.isfinite(vm).any():
        i, j = int(np.nanargmin(vm)), int(np.nanargmax(vm))
        lines.append(f"  AC voltage                   {vm[i]:.4f} pu at '{ds.ac_bus.values[i]}' to {vm[j]:.4f} pu "
                     f"at '{ds.ac_bus.values[j]}'")
    for dim, var, label in (("ac_line", "ac_line_loading", "line"), ("ac_trafo", "ac_trafo_loading", "transformer")):
        x = ds[var].values
        if np.isfinite(x).any():
            i = int(np.nanargmax(x))
            lines.append(f"  highest {label} loading{' ' * (17 - len(label))}{100 * x[i]:.1f} % ('{ds[dim].values[i]}')")
    lines.append(f"  plant-to-chip efficiency     {100 * a['efficiency_plant_to_chip']:.3f} %  (AC losses "
                 f"{_mw(a['p_ac_loss_w']).strip()}, {_pct(a['p_ac_loss_w'], a['p_plant_w']).strip()} % of plant power)")
    lines.append(f"  load flow converged in {a['ac_iterations']} iterations; largest mismatch "
                 f"{a['ac_max_mismatch_w']:.1e} W; plant energy balance residual {a['plant_energy_balance_residual']:.1e}")
    return lines


def _c(t_k) -> str:
    return f"{float(t_k) - 273.15:.2f} °C"


def cooling_lines(ds: xr.Dataset) -> list[str]:
    """Chips, coolant, pumps, CDUs, heat rejected and reused, PUE: the cooling part of the summary."""
    a = ds.attrs
    flow = ds.coolant_flow_l_min_per_kw.values
    duty = ds.cdu_duty_w.values
    lines = [f"liquid cooling ({ds.sizes['cooling_loop']} loops with one CDU each; coolant {a['coolant']}, "
             f"facility water {a['facility_coolant']}, class {a['facility_class']})",
             hottest_chip_line(ds),
             f"  coolant supply / return      {_c(a['t_tcs_supply_k'])} / up to {_c(ds.t_coolant_out_k.max())} "
             f"at the racks",
             f"  rack flow per kW to liquid   " + (f"{np.nanmin(flow):.3f}–{np.nanmax(flow):.3f} L/min/kW"
                                                   if np.isfinite(flow).any() else "no heat to liquid"),
             f"  loop pressure drop           {ds.loop_pressure_drop_pa.max() / 1e3:.1f} kPa (largest); "
             f"pump speed {ds.pump_speed_ratio.min():.3f}–{ds.pump_speed_ratio.max():.3f} of rated",
             f"  CDU duty                     {duty.min() / 1e3:.1f}–{duty.max() / 1e3:.1f} kW per CDU, "
             f"{_mw(duty.sum()).strip()} in all",
             f"  facility water               {_c(a['t_facility_supply_k'])} → {_c(a['t_facility_return_k'])}, "
             f"{a['facility_flow_kg_s']:.1f} kg/s",
             f"  heat to liquid / to air      {_mw(a['q_liquid_w']).strip()} / {_mw(a['q_air_w']).strip()}",
             f"  heat available for reuse     {_mw(a['q_available_w']).strip()} at {_c(a['t_reuse_k'])}; "
             f"recovered {_mw(a['q_recovered_w']).strip()}",
             f"  heat rejected to ambient     {_mw(a['q_rejected_w']).strip()}",
             dry_cooler_line(ds),
             f"  pumps / fans                 {_mw(a['p_pumps_w']).strip()} / {_mw(a['p_fans_w']).strip()}",
             f"  facility power               {_mw(a['p_facility_w']).strip()} (stations' intake"
             f"{' + DC terminals' if 'p_dc_terminals_w' in a else ''} + pumps + fans; KPIs below)",
             f"  heat balance residual        {a['heat_balance_residual']:.1e}; facility energy residual "
             f"{a['facility_energy_residual']:.1e}"]
    if "rack_p_it_ref_w" in ds:
        at_t, at_ref = float(ds.rack_p_it_w.sum()), float(ds.rack_p_it_ref_w.sum())
        lines.insert(2, f"  chip power with leakage      {_mw(at_t).strip()} at the chips' temperature vs "
                        f"{_mw(at_ref).strip()} at the leakage reference temperature (from the case's p_it_w): "
                        f"{(at_t - at_ref) / 1e3:+.1f} kW; chip fixed point per rack, {a['electrical_solves']} "
                        f"electrical solve")
    return lines


def hottest_chip_line(ds: xr.Dataset) -> str:
    """The hottest chip, naming what is reported: the junction (with the case's junction-to-case resistance,
    an assumption) or, without one, the case."""
    r_jc = ds.attrs.get("chip_r_jc_k_per_w", 0.0)
    over = f"case limit exceeded in {int(ds.chip_over_limit.sum())} racks"
    if r_jc > 0 and "t_junction_k" in ds:
        i = int(np.nanargmax(ds.t_junction_k.values))
        return (f"  hottest chip junction        {_c(ds.t_junction_k[i])} in rack '{ds.rack.values[i]}' (case "
                f"{_c(ds.t_chip_k[i])}; junction-to-case {r_jc:g} K/W, an assumption of the case; leakage at the "
                f"junction; {over})")
    i = int(np.nanargmax(ds.t_chip_k.values))
    return (f"  hottest chip case            {_c(ds.t_chip_k[i])} in rack '{ds.rack.values[i]}' (no junction-to-case "
            f"resistance given, chip_r_jc_k_per_w: the junction is not computed; {over})")


def dry_cooler_line(ds: xr.Dataset) -> str:
    """The dry coolers at this point: fan speed and power by the fan laws, and whether they hold the set-point."""
    a = ds.attrs
    line = (f"  dry coolers                  fans at {100 * a['dry_cooler_speed']:.1f} % speed, "
            f"{_mw(a['dry_cooler_fan_w']).strip()} (fan laws: {_mw(a['dry_cooler_design_fan_w']).strip()} at full "
            f"speed; sized for {_mw(a['dry_cooler_design_q_w']).strip()})")
    if a["dry_cooler_over_limit"]:
        line += f"; set-point NOT held, {_mw(a['dry_cooler_shortfall_w']).strip()} short (trim cooling, not modelled)"
    return line


def design_point_lines(ds: xr.Dataset) -> list[str]:
    """A further design point (the summer one of :func:`gigawatt.solve_design_points`): its label and what
    differs from the first: grid power, cooling and district heating."""
    a = ds.attrs
    lines = [f"design point: {a.get('design_point', '')}",
             f"  grid power {_mw(a['p_grid_w']).strip()}; IT power delivered to the chips {_mw(a['p_it_w']).strip()}"]
    if "pue" in a:
        lines += [""] + cooling_lines(ds)
    if "dh_q_plant_w" in a:
        lines += [""] + district_heating_lines(ds)
    return lines


def district_heating_lines(ds: xr.Dataset) -> list[str]:
    """The district-heating part of the summary: delivery, supply temperatures, losses, plant."""
    a = ds.attrs
    t_in = ds.dh_consumer_t_supply_k.values[ds.dh_consumer_demand_w.values > 0]  # consumers that draw water
    fast = int(np.sum(np.abs(np.nan_to_num(ds.dh_pipe_velocity_m_s.values)) > VELOCITY_WARN_M_S))
    lines = [f"district heating ({ds.sizes['dh_consumer']} consumers, {ds.sizes['dh_pipe']} pipes)",
             f"  heat delivered / demanded     {_mw(a['dh_q_delivered_w']).strip()} / {_mw(a['dh_q_demand_w']).strip()}"
             f"; {int(a['dh_undersupplied'])} consumers under-supplied"
             + (f", but {fast} pipes carry water faster than {VELOCITY_WARN_M_S:g} m/s to supply them (see the "
                f"warnings)" if fast else ""),
             f"  supply at consumers          " + (f"{_c(np.min(t_in))} to {_c(np.max(t_in))}" if t_in.size else "–"),
             f"  network heat loss            {_mw(a['dh_q_loss_w']).strip()} "
             f"({_pct(a['dh_q_loss_w'], a['dh_q_plant_w'], 2).strip()} % of the plant's heat)",
             f"  plant                        {_mw(a['dh_q_plant_w']).strip()}, return at {_c(a['dh_t_return_k'])}, "
             f"{a['dh_flow_kg_s']:.1f} kg/s; pump {_mw(a['dh_pump_w']).strip()}, {a['dh_pump_head_m']:.1f} m"
             + (f" at {100 * a['dh_pump_speed']:.0f} % speed" if np.isfinite(a["dh_pump_speed"]) else "")
             + (f"; boosters {_mw(a['dh_booster_w']).strip()}" if ds.sizes.get("dh_pump") else ""),
             f"  from the campus              {_mw(a['q_from_campus_w']).strip()}"
             + (f" through heat pumps (COP {a['hp_cop']:.2f}, {_mw(a['hp_electric_w']).strip()} electric)"
                if a["hp_heat_w"] > 0 else ""),
             f"  peak boiler                  {_mw(a['boiler_heat_w']).strip()}",
             f"  reuse                        {100 * a['reuse_share']:.1f} % of the campus's reusable heat",
             homes_heated_line(a, a["q_from_campus_w"] * YEAR_S, YEAR_S, "homes' worth")]
    if a.get("vertical_farm_area_m2", 0.0) > 0:
        lines.append(f"  vertical farms               {a['vertical_farm_area_served_m2']:,.0f} of "
                     f"{a['vertical_farm_area_m2']:,.0f} m² take heat at this hour ({a['vertical_farm_model']})")
    lines.append(f"  heat balance residual        {a['dh_heat_balance_residual']:.1e}")
    return lines


def homes_heated_line(a: dict, q_reused_j: float, period_s: float, label: str) -> str:
    """The summary's homes line: :func:`gigawatt.models.consumers.homes_heated_annual` of the heat reused over
    the period, with its basis (the ``homes_equivalent_basis`` attribute)."""
    homes = homes_heated_annual(q_reused_j, a["annual_heat_per_home_j"], period_s)
    return f"  {label:<28} about {homes:,.0f} ({a['homes_equivalent_basis']})"


def time_series_lines(ds: xr.Dataset) -> list[str]:
    """The summary of a time-series run: its period, the energies over it (by stage where the steps carry
    them), the KPIs over the period (:func:`kpi_lines`), its extremes and the period's ledgers (see
    :mod:`gigawatt.time_series`)."""
    a = ds.attrs
    hours = a["steps"] * a["step_s"] / 3600.0
    lines = [f"case '{a['case_name']}': {a['steps']} steps of {a['step_s']:g} s ({hours:,.1f} h) from "
             f"{np.datetime_as_string(ds.time.values[0], unit='s')}"
             + (f"; IT load {a['it_load']}, weather {a['weather']}" if "it_load" in a else "")]
    rows = [("p_grid", "energy drawn from the grid"),
            ("p_dc_terminals", "DC terminals, net delivered"), ("p_dc_conductances", "DC conductance loads"),
            ("p_rack_input", "IT energy at the rack inputs"),
            ("p_it", "energy at the chips"), ("p_loss", "losses (grid to chips)")]
    rows += [(f"loss_{stage}", f"  {stage.replace('_', ' ')}") for stage in STAGES]
    rows += [("p_cooling", "pumps and fans"), ("dry_cooler_fan", "  of which dry-cooler fans"),
             ("p_total_facility", "total facility energy"), ("q_available", "heat available for reuse"),
             ("q_recovered", "heat reused"), ("q_rejected", "heat rejected"), ("dh_q_demand", "heat demand of the network"),
             ("dh_q_delivered", "heat delivered to consumers"), ("dh_q_unmet", "  not met (one-step control lag)"),
             ("dh_q_loss", "heat lost by the network's pipes"), ("hp_heat", "heat pumps' heat"),
             ("hp_electric", "heat pumps' electricity"), ("boiler_heat", "peak boiler heat"),
             ("dh_storage_charge", "storage charged"), ("dh_storage_discharge", "storage discharged"),
             ("dh_storage_loss", "storage losses"), ("dh_curtailed", "campus heat the heat pumps left")]
    optional = {"dh_q_unmet", "dh_storage_charge", "dh_storage_discharge", "dh_storage_loss", "dh_curtailed"}
    for name, label in rows:
        value = a.get(f"energy_{name}_j")
        if value is not None and not (name in optional and value == 0.0):
            lines.append(f"  {label:<30} {value / 3.6e9:14,.1f} MWh")
    if "pue" in a:
        lines += kpi_lines(a)
    if "homes_equivalent_basis" in a:
        lines.append(homes_heated_line(a, a["energy_q_recovered_j"], a["steps"] * a["step_s"], "homes heated"))
    if "vertical_farm_model" in a:
        lines.append(f"  vertical farms: {a['vertical_farm_model']}")
    junction = "t_junction_max_k" in ds and bool((ds.t_junction_max_k > ds.t_chip_max_k).any())
    chip = (("t_junction_max_k", "hottest chip junction", max,
             lambda v: f"{v - 273.15:.2f} °C (R_jc an assumption)", "rack") if junction else
            ("t_chip_max_k", "hottest chip case", max, lambda v: f"{v - 273.15:.2f} °C", "rack"))
    extremes = [chip, ("v_min_pu", "lowest voltage", min, lambda v: f"{v:.4f} pu", "bus")]
    for name, label, pick, fmt, dim in extremes:
        if name in ds:
            values = ds[name].values
            k = int(np.nanargmax(values) if pick is max else np.nanargmin(values))
            where = ""
            if f"{name}_over_period" in ds:  # the element, from the per-element extremes over the period
                per = ds[f"{name}_over_period"].values
                where = f", {dim} '{ds[dim].values[int(np.argmax(per) if pick is max else np.argmin(per))]}'"
            lines.append(f"  {label:<30} {fmt(values[k])} at {np.datetime_as_string(ds.time.values[k], unit='m')}"
                         + where)
    if "dry_cooler_over_limit" in ds:
        over_h = float(ds.dry_cooler_over_limit.sum()) * a["step_s"] / 3600.0
        short = a.get("energy_dry_cooler_shortfall_j", 0.0) / 3.6e9
        lines.append(f"  {'dry coolers over their limit':<30} {over_h:,.1f} h the facility set-point cannot be held"
                     + (f", {short:,.1f} MWh short (trim cooling, not modelled)" if over_h else ""))
    for name, label in (("energy_balance_residual", "energy balance residual"),
                        ("heat_balance_residual", "heat balance residual"),
                        ("facility_energy_residual", "facility energy residual"),
                        ("dh_energy_balance_residual", "district heating residual")):
        if name in a:
            lines.append(f"  {label:<30} {a[name]:.1e}")
    if a.get("warnings"):
        lines += ["", "warnings"] + [f"  {w}" for w in str(a["warnings"]).splitlines()]
    return lines


def _ka(x) -> str:
    return f"{float(x) / 1e3:9.2f}" if np.isfinite(x) else "        –"


def _ms(x) -> str:
    return f"{float(x) * 1e3:9.3f}" if np.isfinite(x) else "        –"


def format_faults(ds: xr.Dataset, max_buses: int = MAX_LISTED) -> str:
    """A fault study (:func:`gigawatt.fault_currents`) as text: per fault type the largest peak and the smallest
    quasi steady-state current and where; a table of the buses (every one when there are at most ``max_buses``,
    else those of the largest peaks); the protective devices' duty, breaking capacity and selectivity; the
    findings."""
    a = ds.attrs
    n = ds.sizes["bus"]
    lines = [f"case {a['case_name']!r}: DC fault currents at {n} buses ({a['dc_system']}; IEC 61660-1 "
             f"characteristic quantities, contributions summed in time)", ""]
    for ft in ds.fault_type.values:
        f = ds.sel(fault_type=ft)
        if not n:
            break
        i, j = int(np.nanargmax(f.i_p_a.values)), int(np.nanargmin(f.i_k_a.values))
        lines.append(f"{ft.replace('_', ' ')}: largest peak {float(f.i_p_a[i]) / 1e3:.2f} kA at bus "
                     f"'{ds.bus.values[i]}' after {float(f.t_p_s[i]) * 1e3:.3f} ms; smallest quasi steady-state "
                     f"current {float(f.i_k_a[j]) / 1e3:.2f} kA at bus '{ds.bus.values[j]}'")
    if n:
        peak = ds.i_p_a.max("fault_type").values
        rows = np.arange(n) if n <= max_buses else np.sort(np.argsort(-peak, kind="stable")[:max_buses])
        lines += ["", ("buses" if n <= max_buses else f"the {max_buses} buses of the largest peaks"),
                  f"  {'bus':<22} {'fault type':<16} {'i_p [kA]':>9} {'t_p [ms]':>9} {'I_k [kA]':>9} "
                  f"{'tau1 [ms]':>9} {'tau2 [ms]':>9}  conductors"]
        for i in rows:
            for ft in ds.fault_type.values:
                f = ds.isel(bus=i).sel(fault_type=ft)
                lines.append(f"  {str(ds.bus.values[i]):<22} {ft:<16} {_ka(f.i_p_a)} {_ms(f.t_p_s)} {_ka(f.i_k_a)} "
                             f"{_ms(f.tau1_s)} {_ms(f.tau2_s)}  {f.faulted_conductors.item()}")
    if ds.sizes.get("protection"):
        lines += ["", f"protective devices ({ds.sizes['protection']})",
                  f"  {'device':<16} {'kind':<20} {'duty [kA]':>9} {'from':<8} {'breaks [kA]':>11} {'ok':<3} "
                  f"{'upstream':<16} selective"]
        for k in range(ds.sizes["protection"]):
            d = ds.isel(protection=k)
            sel = {1.0: "yes", 0.0: "NO"}.get(float(d.selective), "–")
            lines.append(f"  {str(ds.protection.values[k]):<16} {d.protection_kind.item():<20} {_ka(d.duty_i_a)} "
                         f"{d.duty_direction.item():<8} {_ka(d.protection_breaking_capacity_a):>11} "
                         f"{'yes' if int(d.breaking_ok) else 'NO':<3} {d.upstream.item() or '–':<16} {sel}")
    if a.get("findings"):
        lines += ["", "findings"] + [f"  {w}" for w in a["findings"].splitlines()]
    return "\n".join(lines)
