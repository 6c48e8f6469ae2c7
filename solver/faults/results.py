"""The fault study's ``xarray.Dataset``: dimensions ``bus`` (the buses faulted), ``fault_type``,
``contribution`` and ``protection``; units on every variable; the findings in the attributes.

Currents are magnitudes [A]; times from fault inception [s]. A NaN ``tau2_s`` means the current does not decay
(it holds its peak: a converter at its current limit). An infinite ``r_th_ohm`` means the contribution's
network does not reach the fault (that kind contributes nothing there).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.schema import echo_variable
from gigawatt.models.fault_currents import RISE_TIME_CONSTANTS
from gigawatt.solver.faults.currents import CONTRIBUTIONS, QUANTITIES
from gigawatt.solver.faults.network import CONDUCTORS

FAULT_VARIABLES = {
    "i_p": ("A", "peak short-circuit current i_p"),
    "t_p": ("s", "time to peak t_p"),
    "i_k": ("A", "quasi steady-state short-circuit current I_k"),
    "tau1": ("s", "rise time constant tau1 of the standard approximation function"),
    "tau2": ("s", "decay time constant tau2 of the standard approximation function (NaN: no decay)"),
}
SUFFIX = {"i_p": "_a", "t_p": "_s", "i_k": "_a", "tau1": "_s", "tau2": "_s"}
METHOD = (
    "IEC 61660-1 characteristic quantities (i_p, t_p, I_k, tau1, tau2) per contribution from closed-form "
    "circuit responses (current-limited converters as an RL rise to their limit; capacitors as a series RLC "
    "discharge; batteries as an RL rise), each through the driving-point R and L of its own network at 20 degC "
    "(selected inversion of the nodal matrices); the total is the time-domain sum of the contributions' "
    "standard approximation functions, without the standard's correction factors (its text was not available); "
    "on the safe side where contributions share a branch. See gigawatt.models.fault_currents and "
    "gigawatt.solver.faults.")
ASSUMPTIONS = (
    "Bolted faults (no arc or fault resistance); loads draw nothing during the fault; capacitors charged to "
    "the no-load voltage; converters at their stated current limit (fault_current_limit_pu, default 2.0: an "
    f"assumption) with no overshoot; a contribution below its limit peaks at {RISE_TIME_CONSTANTS:g} rise time "
    "constants; line inductances by kind where not given (gigawatt.models.ampacity.default_loop_inductance).")


def _var(dims, values, unit, long_name):
    return xr.Variable(dims, np.asarray(values), attrs={"units": unit, "long_name": long_name})


def _labels(system: str, layers: np.ndarray) -> np.ndarray:
    """'pos-neg', 'pos-return', ... of each pair of layers (…, 2)."""
    names = np.array(list(CONDUCTORS[system]) + ["return" if system == "monopolar" else "earth"], dtype=object)
    a, b = names[layers[..., 0]], names[layers[..., 1]]  # REFERENCE (−1) picks the last name
    return (a + "-" + b).astype(str)


def build_fault_dataset(case, net, fs, bf, duty, report: np.ndarray, version: str) -> xr.Dataset:
    """The dataset of a fault study: ``bf`` (:class:`gigawatt.solver.faults.currents.BusFaults`) at the
    positions it computed, of which ``report`` (bool per computed bus) are reported along ``bus``; ``duty``
    (:class:`gigawatt.solver.faults.devices.DeviceDuty`)."""
    t = case.tables
    bus_tab, lines, dev = t["bus"], t["line"], t["protection"]
    rows = net.bus_row[bf.bus[report]]
    order = np.argsort(rows, kind="stable")  # bus-table order
    sel = np.flatnonzero(report)[order]
    ds = {}
    coords = {"bus": bus_tab["id"].to_numpy()[rows[order]], "fault_type": list(bf.fault_types),
              "contribution": list(CONTRIBUTIONS), "line": lines["id"].to_numpy(),
              "source": t["source"]["id"].to_numpy(), "protection": dev["id"].to_numpy()[duty.row]}
    for k, q in enumerate(QUANTITIES):
        unit, name = FAULT_VARIABLES[q]
        ds[q + SUFFIX[q]] = _var(("bus", "fault_type"), bf.total[sel, :, k], unit, name + ", all contributions")
        ds[f"contribution_{q}{SUFFIX[q]}"] = _var(("bus", "fault_type", "contribution"), bf.contrib[sel, :, :, k],
                                                 unit, name + " of each contribution")
    for name, attr, unit, long_name in (("r_th_ohm", "r", "ohm", "driving-point resistance of each contribution's "
                                         "network at the fault (inf: it does not reach the fault)"),
                                        ("l_th_h", "l", "H", "driving-point inductance of each contribution's network"),
                                        ("e_v", "e", "V", "driving voltage of each contribution")):
        ds[name] = _var(("bus", "fault_type", "contribution"),
                        np.stack([getattr(p, attr)[sel] for p in bf.points], axis=1), unit, long_name)
    ds["i_limit_a"] = _var(("bus", "fault_type"), np.stack([p.i_limit[sel] for p in bf.points], axis=1), "A",
                           "sum of the current limits of the converters driving the fault")
    ds["c_network_f"] = _var(("bus", "fault_type"), np.stack([p.c[sel, 0] for p in bf.points], axis=1), "F",
                             "capacitance of the network's capacitors across the fault (the local ones apart; "
                             "conductors taken as ideal)")
    ds["c_local_f"] = _var(("bus", "fault_type"), np.stack([p.c[sel, 1] for p in bf.points], axis=1), "F",
                           "capacitance at the faulted bus directly across the fault")
    ds["faulted_conductors"] = _var(("bus", "fault_type"), _labels(fs.system, bf.variant_layers[sel]), "1",
                                    "conductors the fault joins (the variant of the larger peak)")
    ds["bus_v_nominal_v"] = _var("bus", bus_tab["v_nominal_v"].to_numpy(float)[rows[order]], "V", "nominal voltage")
    for field in ("from_bus", "to_bus", "kind", "length_m"):
        ds[f"line_{field}"] = echo_variable("line", "line", lines, field)
    ds["source_bus"] = echo_variable("source", "source", t["source"], "bus")
    _devices(ds, case, duty)
    findings = device_findings(ds, coords["protection"])
    attrs = {
        "title": f"gigawatt DC fault currents of case '{case.name}'",
        "case_name": case.name, "case_hash": case.hash(), "case_file": case.file or "",
        "gigawatt_version": version, "dc_system": fs.system, "method": METHOD, "assumptions": ASSUMPTIONS,
        "buses_faulted": int(sel.size), "findings": "\n".join(findings), "warnings": "\n".join(findings),
        "sign_convention": "currents are magnitudes; times from fault inception",
    }
    from gigawatt.solver.results_schema import conform

    return conform(xr.Dataset(ds, coords=coords, attrs=attrs))


def _devices(ds: dict, case, duty) -> None:
    dev = case.tables["protection"].iloc[duty.row]
    ids = case.tables["protection"]["id"].to_numpy()
    where = np.where(dev["line"].to_numpy() != "",
                     [f"line '{ln}' ({end} end)" for ln, end in zip(dev["line"], dev["line_end"])],
                     [f"bus '{b}'" for b in dev["bus"]]) if len(dev) else np.zeros(0, dtype=object)
    dim = "protection"
    ds["protection_kind"] = echo_variable("protection", dim, dev, "kind")
    ds["protection_location"] = _var(dim, np.asarray(where, dtype=object).astype(str), "1", "where the device sits")
    for field in ("rated_current_a", "breaking_capacity_a"):
        ds[f"protection_{field}"] = echo_variable("protection", dim, dev, field)
    ds["protection_curve"] = echo_variable("protection", dim, dev, "curve")
    ds["duty_i_a"] = _var(dim, duty.duty, "A", "peak fault current the device may have to interrupt")
    ds["duty_direction"] = _var(dim, duty.direction, "1", "which fault sets the duty: forward (a fault past the "
                                "device, fed from its bus), reverse (a fault at its bus, fed back from the line) "
                                "or bus (the fault at its bus, all contributions)")
    ds["forward_i_p_a"] = _var(dim, duty.forward_i_p, "A", "peak current through the device for a fault past it")
    ds["reverse_i_p_a"] = _var(dim, duty.reverse_i_p, "A",
                               "peak current back through the device for a fault at its bus")
    ds["forward_i_k_a"] = _var(dim, duty.forward_i_k, "A", "quasi steady-state current through the device for a "
                               "fault past it")
    capacity = dev["breaking_capacity_a"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ds["duty_ratio"] = _var(dim, duty.duty / capacity, "1", "duty / breaking capacity (above 1: cannot interrupt)")
    ds["breaking_ok"] = _var(dim, (duty.duty <= capacity).astype(np.int8), "1",
                             "1 if the breaking capacity covers the duty, else 0")
    up = np.where(duty.upstream >= 0, ids[duty.row[np.maximum(duty.upstream, 0)]] if duty.row.size else "", "")
    ds["upstream"] = _var(dim, np.asarray(up, dtype=object).astype(str), "1", "the device upstream ('' none)")
    ds["selective"] = _var(dim, duty.selective, "1", "1 selective with the upstream device by their curves, 0 not, "
                           "NaN not checked (no upstream device or no curves)")
    ds["selectivity_crossing_a"] = _var(dim, duty.crossing_a, "A", "lowest current at which the upstream device "
                                        "operates no later than this one")


def device_findings(ds, ids) -> list[str]:
    """One line per device (``ids``) that cannot interrupt its duty, and per pair that is not selective."""
    out = []
    where, kinds = ds["protection_location"].values, ds["protection_kind"].values
    for k in range(len(ids)):
        what = f"{kinds[k].replace('_', ' ')} '{ids[k]}' on {where[k]}"
        if ds["breaking_ok"].values[k] == 0:
            out.append(f"{what} must interrupt up to {ds['duty_i_a'].values[k] / 1e3:.1f} kA "
                       f"({ds['duty_direction'].values[k]}), above its breaking capacity of "
                       f"{ds['protection_breaking_capacity_a'].values[k] / 1e3:.1f} kA")
        if ds["selective"].values[k] == 0.0:
            out.append(f"{what} and the device upstream of it, '{ds['upstream'].values[k]}', are not selective "
                       f"from {ds['selectivity_crossing_a'].values[k] / 1e3:.2f} kA")
    return out
