"""Results of the grid side: variables per AC bus, line, transformer and supply, the stations' AC intake,
and the ledger extended from the plant to the chips.

Sign convention (pandapower's): a branch's ``p_from``/``p_hv`` and ``p_to``/``p_lv`` are the powers entering
it at that end (so a loss is their sum); supplies' powers are positive when they feed the grid; stations draw
positive active and (lagging) reactive power.

Ledger: P_plant = Σ supplies = Σ stations' AC intake + AC line and transformer losses, and with the DC ledger
(intake = IT power + DC-side losses) P_plant = P_IT + every loss; both residuals are stored.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.schema import echo_variable
from gigawatt.solver.ac.grid import prepare_ac_grid, solve_ac_grid, station_reactive_power

# Limits the warnings name (not enforced): voltages outside ±10 % of nominal (EN 50160's supply-voltage band)
# and branches or generators loaded beyond their rating.
AC_VOLTAGE_BAND_PU = (0.9, 1.1)
AC_KINDS = ("ac_line_overhead", "ac_line_cable", "ac_trafo")


def _v(dim, values, units, long_name):
    return xr.Variable(dim, np.asarray(values, dtype=float), attrs={"units": units, "long_name": long_name})


def add_ac_grid(ds: xr.Dataset, case, grid=None) -> xr.Dataset:
    """Solve the grid side of ``case`` with the stations' AC intake of the DC results ``ds`` and return a new
    dataset with the AC variables, the extended ledger and provenance (``ds`` is not changed).

    ``grid``: the grid side already built (:func:`~gigawatt.solver.ac.grid.prepare_ac_grid` of a case with the
    same AC tables and the same stations in the same rows; whether in service may differ, as a station out
    draws nothing), so that many variants of one campus build it once; its loads are overwritten and its load
    flow starts from its last converged one."""
    t = case.tables
    warm = grid is not None
    grid = grid or prepare_ac_grid(case)
    src = t["source"]
    rows = grid.station_rows
    p_in = ds["source_p_grid_w"].to_numpy()[rows]  # DC output + station loss (0 out of service)
    q_in = station_reactive_power(p_in, src["power_factor"].to_numpy(float)[rows], src["q_var"].to_numpy(float)[rows])
    q_in = np.where(src["in_service"].to_numpy(bool)[rows], q_in, 0.0)
    st = solve_ac_grid(grid, p_in, q_in, max_iterations=case.settings["solver"]["max_iterations"], case=case,
                       warm=warm)

    new = {}  # every new variable, added in one step (each xarray assignment re-aligns the whole dataset)
    buses, lines, trafos, sup = t["ac_bus"], t["ac_line"], t["ac_trafo"], t["ac_supply"]
    vn = buses["v_nominal_v"].to_numpy(float)
    new["ac_v_nominal_v"] = echo_variable("ac_bus", "ac_bus", buses, "v_nominal_v")
    new["ac_vm_pu"] = _v("ac_bus", st.vm_pu, "1", "voltage magnitude in per unit of nominal")
    new["ac_v_v"] = _v("ac_bus", st.vm_pu * vn, "V", "line-to-line voltage magnitude")
    new["ac_va_degree"] = _v("ac_bus", st.va_degree, "degree", "voltage angle")
    for field in ("from_bus", "to_bus", "kind", "length_m"):
        new[f"ac_line_{field}"] = echo_variable("ac_line", "ac_line", lines, field)
    line_text = {"p_from_w": ("W", "active power entering at from_bus"),
                 "q_from_var": ("var", "reactive power entering at from_bus"),
                 "p_to_w": ("W", "active power entering at to_bus"), "q_to_var": ("var", "reactive power entering at to_bus"),
                 "loss_w": ("W", "active power loss (I²R of all circuits)"),
                 "q_loss_var": ("var", "reactive power consumed (I²X less the charging)"),
                 "i_a": ("A", "current of all circuits together (the larger end)"),
                 "loading": ("1", "current / rating of all circuits (NaN where no rating is given)")}
    for key, (units, long_name) in line_text.items():
        new[f"ac_line_{key}"] = _v("ac_line", st.line[key], units, long_name)
    for field in ("hv_bus", "lv_bus"):
        new[f"ac_trafo_{field}"] = echo_variable("ac_trafo", "ac_trafo", trafos, field)
    trafo_text = {"p_hv_w": ("W", "active power entering at the HV winding"),
                  "q_hv_var": ("var", "reactive power entering at the HV winding"),
                  "p_lv_w": ("W", "active power entering at the LV winding"),
                  "q_lv_var": ("var", "reactive power entering at the LV winding"),
                  "loss_w": ("W", "active power loss (copper and iron, all units)"),
                  "q_loss_var": ("var", "reactive power consumed"),
                  "loading": ("1", "current / rated current of all units (pandapower's trafo_loading='current')")}
    for key, (units, long_name) in trafo_text.items():
        new[f"ac_trafo_{key}"] = _v("ac_trafo", st.trafo[key], units, long_name)
    new["ac_supply_kind"] = echo_variable("ac_supply", "ac_supply", sup, "kind")
    new["ac_supply_p_w"] = _v("ac_supply", st.supply_p_w, "W", "active power fed into the grid")
    new["ac_supply_q_var"] = _v("ac_supply", st.supply_q_var, "var", "reactive power fed into the grid")
    rated = sup["rated_power_va"].to_numpy(float)
    new["ac_supply_loading"] = _v("ac_supply", np.hypot(st.supply_p_w, st.supply_q_var) / rated, "1",
                                  "apparent power / rated apparent power (NaN where no rating is given)")

    n_src = len(src)
    p_ac, q_ac, vm_ac = np.full(n_src, np.nan), np.full(n_src, np.nan), np.full(n_src, np.nan)
    p_ac[rows], q_ac[rows], vm_ac[rows] = st.station_p_w, st.station_q_var, st.vm_pu[grid.station_bus]
    new["source_ac_bus"] = echo_variable("source", "source", src, "ac_bus")
    new["source_p_ac_w"] = _v("source", p_ac, "W", "active power drawn from the AC bus (the AC load flow's load)")
    new["source_q_ac_var"] = _v("source", q_ac, "var", "reactive power drawn from the AC bus (lagging positive)")
    new["source_ac_vm_pu"] = _v("source", vm_ac, "1", "voltage magnitude at the station's AC bus [pu]")

    coords = {"ac_bus": buses["id"].to_numpy(), "ac_line": lines["id"].to_numpy(), "ac_trafo": trafos["id"].to_numpy(),
              "ac_supply": sup["id"].to_numpy(), "ac_kind": list(AC_KINDS)}
    new["ac_kind_loss_w"], ledger = _ledger(ds, st, p_in, lines)
    out = ds.assign_coords(coords).assign(new)
    out.attrs.update(ledger)
    out.attrs.update({"ac_solver": f"pandapower {grid.version} runpp, Newton-Raphson", "ac_converged": 1,
                      "ac_iterations": st.iterations, "ac_max_mismatch_w": st.max_mismatch_w,
                      "ac_tolerance_w": st.tolerance_w,
                      "title": out.attrs["title"].replace("DC load flow", "DC and AC load flow")})
    out.attrs["warnings"] = "\n".join(w for w in (ds.attrs.get("warnings", ""), _warnings(out)) if w)
    return out


def _ledger(ds, st, p_in, lines):
    """The AC losses by kind and the ledger from the plant to the chips (see the module docstring), as
    attributes."""
    kind = lines["kind"].to_numpy(dtype=object)
    loss_line = np.nan_to_num(st.line["loss_w"])
    by_kind = [loss_line[kind == "overhead"].sum(), loss_line[kind == "cable"].sum(),
               np.nansum(st.trafo["loss_w"])]
    p_plant = float(np.nansum(st.supply_p_w))
    p_intake = float(np.sum(p_in))
    p_ac_loss = float(np.sum(by_kind))
    p_it, p_dc_loss = ds.attrs["p_it_w"], ds.attrs["p_loss_w"]
    # DC grid elements: set-power terminals deliver beside the plant, conductance loads draw beside the racks.
    p_dc_other = ds.attrs.get("p_dc_conductances_w", 0.0) - ds.attrs.get("p_dc_terminals_w", 0.0)
    # The DC side's intake against what the AC load flow drew (the interface), and at each station bus the
    # network's delivery against the intake (the load flow's own balance there).
    interface = np.abs(st.station_p_w - p_in) / np.maximum(np.abs(p_in), 1e-300)
    coupling = max(float(interface.max(initial=0.0)), float(st.bus_balance_residual.max(initial=0.0)))
    return _v("ac_kind", by_kind, "W", "AC grid losses by element kind"), {
        "p_plant_w": p_plant, "q_plant_var": float(np.nansum(st.supply_q_var)),
        "p_ac_intake_w": p_intake, "q_ac_intake_var": float(np.nansum(st.station_q_var)),
        "p_ac_loss_w": p_ac_loss,
        **{f"{k}_loss_w": float(v) for k, v in zip(AC_KINDS, by_kind)},
        "ac_energy_balance_residual": abs(p_plant - p_intake - p_ac_loss) / max(abs(p_plant), 1e-300),
        "plant_energy_balance_residual": abs(p_plant - p_it - p_dc_loss - p_dc_other - p_ac_loss)
        / max(abs(p_plant), 1e-300),
        "ac_coupling_residual": coupling,
        "efficiency_plant_to_chip": p_it / p_plant if p_plant > 0 else float("nan"),
    }


def _warnings(ds) -> str:
    """AC buses outside the voltage band, branches and generators beyond their rating: one line each (at
    most five per kind)."""
    out = []
    lo, hi = AC_VOLTAGE_BAND_PU
    vm = ds["ac_vm_pu"].to_numpy()
    for i in np.flatnonzero((vm < lo) | (vm > hi))[:5]:
        out.append(f"ac_bus '{ds.ac_bus.values[i]}' is at {vm[i]:.4f} pu, outside {lo:g}–{hi:g} pu")
    for dim, var in (("ac_line", "ac_line_loading"), ("ac_trafo", "ac_trafo_loading"),
                     ("ac_supply", "ac_supply_loading")):
        x = ds[var].to_numpy()
        for i in np.flatnonzero(np.nan_to_num(x) > 1.0)[:5]:
            out.append(f"{dim} '{ds[dim].values[i]}' is loaded to {100 * x[i]:.1f} % of its rating")
    return "\n".join(out)
