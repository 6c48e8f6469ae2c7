"""Cooling results: per-rack, per-loop (CDU and pump) and per-pipe variables, the facility figures and the
heat ledger, added to the electrical results dataset.

Dimensions: ``rack`` (shared with the electrical results), ``cooling_loop`` (one CDU and its pump each) and
``coolant_pipe`` (headers, feeds and rack branches of all loops). Facility-wide figures are dataset
attributes, like the electrical ledger.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.solver.cooling.stage import CoolingPlant, HeatState
from gigawatt.solver.cooling.loops import ROLES, numbered_names

COOLING_VARIABLES = {
    # rack
    "t_chip_k": ("rack", "K", "chip (cold-plate case) temperature, the rack's hottest"),
    "t_junction_k": ("rack", "K", "chip junction temperature, the rack's hottest: case + chip_r_jc_k_per_w x the "
                                  "plate's heat (R_jc an assumption of the case)"),
    "t_coolant_in_k": ("rack", "K", "coolant temperature at the rack inlet"),
    "t_coolant_out_k": ("rack", "K", "coolant temperature at the rack outlet"),
    "coolant_flow_kg_s": ("rack", "kg/s", "coolant mass flow through the rack"),
    "coolant_flow_l_min_per_kw": ("rack", "L/(min*kW)", "coolant volume flow per kW of heat to liquid"),
    "q_liquid_w": ("rack", "W", "heat the rack puts into the coolant"),
    "q_air_w": ("rack", "W", "heat the rack gives to the air"),
    "chip_over_limit": ("rack", "1", "chip temperature above chip_t_max_k"),
    "valve_pressure_drop_pa": ("rack", "Pa", "pressure drop across the rack's flow-control valve (NaN: none)"),
    # plate (plate_resolution only)
    "plate_rack": ("plate", "1", "rack of the cold plate"),
    "plate_t_chip_k": ("plate", "K", "chip (cold-plate case) temperature"),
    "plate_flow_kg_s": ("plate", "kg/s", "coolant mass flow through the cold plate"),
    "plate_t_coolant_in_k": ("plate", "K", "coolant temperature at the plate inlet"),
    "plate_t_coolant_out_k": ("plate", "K", "coolant temperature at the plate outlet"),
    # loop
    "loop_flow_kg_s": ("cooling_loop", "kg/s", "coolant mass flow of the loop (the CDU pump's)"),
    "loop_pressure_drop_pa": ("cooling_loop", "Pa", "pressure the pump makes up: headers, racks and CDU"),
    "pump_head_m": ("cooling_loop", "m", "pump head"),
    "pump_speed_ratio": ("cooling_loop", "1", "pump speed over rated speed"),
    "pump_efficiency": ("cooling_loop", "1", "pump hydraulic efficiency"),
    "pump_power_w": ("cooling_loop", "W", "pump electrical power"),
    "cdu_duty_w": ("cooling_loop", "W", "heat the CDU moves to the facility water"),
    "cdu_t_hot_in_k": ("cooling_loop", "K", "loop return temperature at the CDU (pump heat included)"),
    "cdu_ua_w_per_k": ("cooling_loop", "W/K", "CDU exchanger conductance UA"),
    "cdu_effectiveness": ("cooling_loop", "1", "CDU exchanger effectiveness"),
    "cdu_facility_flow_kg_s": ("cooling_loop", "kg/s", "facility water flow through the CDU"),
    "cdu_t_facility_out_k": ("cooling_loop", "K", "facility water temperature leaving the CDU"),
    "loop_pipe_loss_w": ("cooling_loop", "W", "heat the loop's pipes give to the room"),
    # pipe
    "pipe_flow_kg_s": ("coolant_pipe", "kg/s", "mass flow, positive from pipe_from to pipe_to"),
    "pipe_velocity_m_s": ("coolant_pipe", "m/s", "mean velocity"),
    "pipe_pressure_drop_pa": ("coolant_pipe", "Pa", "pressure drop in the flow direction"),
    "pipe_role": ("coolant_pipe", "1", "feed_supply, supply_header, rack, return_header or feed_return"),
    "pipe_loop": ("coolant_pipe", "1", "cooling loop of the pipe"),
}

FACILITY_ATTRS = {  # attribute -> (unit, what)
    "t_tcs_supply_k": ("K", "technology-loop supply set-point"),
    "t_facility_supply_k": ("K", "facility water supply temperature"),
    "t_facility_return_k": ("K", "facility water return temperature"),
    "facility_flow_kg_s": ("kg/s", "facility water flow"),
    "q_liquid_w": ("W", "heat captured by liquid at the racks"),
    "q_air_w": ("W", "heat given to air (racks' rest, stations, converters, conductors)"),
    "q_available_w": ("W", "heat available for reuse in the facility return"),
    "t_reuse_k": ("K", "temperature of the heat available for reuse"),
    "q_recovered_w": ("W", "heat taken by the heat-recovery exchanger"),
    "q_rejected_w": ("W", "heat rejected to ambient by the dry coolers"),
    "p_pumps_w": ("W", "electrical power of all pumps"),
    "p_fans_w": ("W", "electrical power of air-handler and dry-cooler fans"),
    "p_cooling_w": ("W", "pumps and fans"),
    "p_facility_w": ("W", "grid power (the stations' AC intake, plus what DC set-power terminals deliver) + pumps "
                          "+ fans; the KPIs' total adds the grid side's losses (gigawatt.solver.facility_kpis)"),
    "dry_cooler_fan_w": ("W", "dry-cooler fan power, the design fan power times the speed cubed (fan laws)"),
    "dry_cooler_speed": ("1", "dry-cooler fan speed over the design speed, holding the facility supply set-point"),
    "dry_cooler_over_limit": ("1", "1 when the dry coolers at full speed cannot hold the facility supply set-point"),
    "dry_cooler_shortfall_w": ("W", "heat the dry coolers cannot reject at full speed (trim cooling, not modelled)"),
    "heat_balance_residual": ("1", "heat into coolant vs rejected + recovered + pipe losses, relative"),
    "facility_energy_residual": ("1", "facility power vs heat out + motor losses + fan power, relative"),
}

DRY_COOLER_DESIGN_ATTRS = {  # attribute -> (unit, what): what the dry coolers are sized for
    "dry_cooler_design_q_w": ("W", "heat the dry coolers reject at full speed at the design ambient (facility "
                                   "supply - dry_cooler_approach_k)"),
    "dry_cooler_design_fan_w": ("W", "dry-cooler fan power at full speed, dry_cooler_fan_w_per_w x the design heat"),
}


def _var(name, values):
    dim, unit, long_name = COOLING_VARIABLES[name]
    return xr.Variable(dim, np.asarray(values), attrs={"units": unit, "long_name": long_name})


def add_cooling(ds: xr.Dataset, plant: CoolingPlant, heat: HeatState, t_chip_unit_k: np.ndarray,
                fixed_point_iterations: int, t_junction_unit_k: np.ndarray) -> xr.Dataset:
    """Add the cooling variables and facility attributes to the electrical results ``ds`` (in place).

    ``t_chip_unit_k``, ``t_junction_unit_k``: chip case and junction temperature per heat unit (rack, or plate
    with ``plate_resolution``) [K].
    """
    new, coords = {}, {}  # added in one merge: each ds[name] = ... realigns every index
    s, loops, hyd, tcs = plant.settings, plant.loops, plant.hydraulics, plant.tcs
    n = loops.units_per_rack
    t_chip_k = t_chip_unit_k if n == 1 else np.max(t_chip_unit_k.reshape(-1, n), axis=1)
    t_junction_k = t_junction_unit_k if n == 1 else np.max(t_junction_unit_k.reshape(-1, n), axis=1)
    if n > 1:
        coords["plate"] = numbered_names(np.strings.add(np.asarray(ds.rack.values, dtype=str), "-plate"),
                                         loops.unit_rack, np.tile(np.arange(1, n + 1), ds.sizes["rack"]))
        new["plate_rack"] = _var("plate_rack", ds.rack.values[loops.unit_rack])
        new["plate_t_chip_k"] = _var("plate_t_chip_k", t_chip_unit_k)
        new["plate_flow_kg_s"] = _var("plate_flow_kg_s", plant.unit_flow_kg_s)
        new["plate_t_coolant_in_k"] = _var("plate_t_coolant_in_k", plant.unit_t_in_k)
        new["plate_t_coolant_out_k"] = _var("plate_t_coolant_out_k", heat.unit_t_out_k)
    coords["cooling_loop"] = loops.loop_ids
    coords["coolant_pipe"] = loops.pipe_ids
    m = plant.rack_flow_kg_s
    new["t_chip_k"] = _var("t_chip_k", t_chip_k)
    new["t_junction_k"] = _var("t_junction_k", t_junction_k)
    new["t_coolant_in_k"] = _var("t_coolant_in_k", plant.rack_t_in_k)
    new["t_coolant_out_k"] = _var("t_coolant_out_k", heat.rack_t_out_k)
    new["coolant_flow_kg_s"] = _var("coolant_flow_kg_s", m)
    per_kw = np.divide(m / tcs.density_kg_m3 * 60e3, heat.rack_q_liquid_w / 1e3, out=np.full(m.size, np.nan),
                       where=heat.rack_q_liquid_w > 0)
    new["coolant_flow_l_min_per_kw"] = _var("coolant_flow_l_min_per_kw", per_kw)
    new["rack_q_liquid_w"] = _var("q_liquid_w", heat.rack_q_liquid_w)
    new["rack_q_air_w"] = _var("q_air_w", heat.rack_q_air_w)
    new["chip_over_limit"] = _var("chip_over_limit", t_chip_k > s["chip_t_max_k"])
    new["valve_pressure_drop_pa"] = _var("valve_pressure_drop_pa", hyd.rack_valve_dp_pa)

    new["loop_flow_kg_s"] = _var("loop_flow_kg_s", hyd.flow_kg_s)
    new["loop_pressure_drop_pa"] = _var("loop_pressure_drop_pa", hyd.pressure_drop_pa)
    new["pump_head_m"] = _var("pump_head_m", hyd.head_m)
    new["pump_speed_ratio"] = _var("pump_speed_ratio", hyd.speed_ratio)
    new["pump_efficiency"] = _var("pump_efficiency", hyd.efficiency)
    new["pump_power_w"] = _var("pump_power_w", hyd.electric_w)
    new["cdu_duty_w"] = _var("cdu_duty_w", heat.cdu_duty_w)
    new["cdu_t_hot_in_k"] = _var("cdu_t_hot_in_k", heat.loop_t_return_k)
    new["cdu_ua_w_per_k"] = _var("cdu_ua_w_per_k", plant.cdu_ua_w_per_k)
    new["cdu_effectiveness"] = _var("cdu_effectiveness", heat.cdu_effectiveness)
    new["cdu_facility_flow_kg_s"] = _var("cdu_facility_flow_kg_s",
                                        heat.cdu_c_cold_w_per_k / plant.fws.cp_j_per_kg_k)
    new["cdu_t_facility_out_k"] = _var("cdu_t_facility_out_k", heat.cdu_t_cold_out_k)
    new["loop_pipe_loss_w"] = _var("loop_pipe_loss_w", heat.loop_pipe_loss_w)

    r = hyd.result
    p = r.p_pa
    area = 0.25 * np.pi * loops.pipe_diameter_m ** 2
    new["pipe_flow_kg_s"] = _var("pipe_flow_kg_s", r.pipe_m_kg_s)
    new["pipe_velocity_m_s"] = _var("pipe_velocity_m_s", r.pipe_m_kg_s / (tcs.density_kg_m3 * area))
    new["pipe_pressure_drop_pa"] = _var("pipe_pressure_drop_pa",
                                       np.sign(r.pipe_m_kg_s) * (p[loops.pipe_from] - p[loops.pipe_to]))
    new["pipe_role"] = _var("pipe_role", np.array(ROLES, dtype=object)[loops.pipe_role])
    new["pipe_loop"] = _var("pipe_loop", loops.loop_ids[loops.pipe_loop])
    ds.update(xr.Dataset(new, coords=coords))
    fac = dict(heat.facility, t_tcs_supply_k=s["tcs_supply_t_k"], q_liquid_w=float(heat.rack_q_liquid_w.sum()),
               q_air_w=heat.facility["q_air_w"])
    ds.attrs.update({k: float(fac[k]) for k in FACILITY_ATTRS})
    ds.attrs.update({k: float(fac[k]) for k in DRY_COOLER_DESIGN_ATTRS})
    ds.attrs["chip_r_jc_k_per_w"] = float(s["chip_r_jc_k_per_w"])  # junction-to-case: the case's assumption
    ds.attrs.update({"coolant": s["coolant"], "facility_coolant": s["facility_coolant"],
                     "facility_class": s["facility_class"], "chip_fixed_point_iterations": fixed_point_iterations,
                     "hydraulic_iterations": r.iterations,
                     "hydraulic_max_mass_imbalance_kg_s": r.max_mass_imbalance_kg_s,
                     "hydraulic_max_pressure_residual_pa": r.max_pressure_residual_pa,
                     "facility_attrs_units": "; ".join(f"{k} [{u}]" for k, (u, _) in
                                                       {**FACILITY_ATTRS, **DRY_COOLER_DESIGN_ATTRS}.items())})
    hot = np.flatnonzero(t_chip_k > s["chip_t_max_k"])
    if hot.size:
        worst = hot[np.argsort(-t_chip_k[hot])][:5]
        lines = [f"rack '{ds.rack.values[i]}' chips at {t_chip_k[i] - 273.15:.1f} °C, above the "
                 f"{s['chip_t_max_k'] - 273.15:.1f} °C limit" for i in worst]
        if hot.size > 5:
            lines.append(f"... {hot.size} racks above the chip temperature limit in all")
        ds.attrs["warnings"] = "\n".join(filter(None, [ds.attrs.get("warnings", "")] + lines))
    ds.attrs["title"] = ds.attrs["title"].replace("DC load flow", "DC load flow and liquid cooling")
    return ds
