"""Solve every outage through the coupled chain, measure it against the base case, rank the outages and
name the single points of failure.

An outage is a *single point of failure* when after it some rack is unsupplied (islanded), some rack is
over its chip limit (tripped for want of cooling, or hotter than ``chip_t_max_k``), some cooling loop runs
below its design flow, or the network cannot carry its load: the solve raised a
:class:`~gigawatt.errors.ConvergenceError` or could not meet a duty (the message is kept), or a station or
a rated line carries more than its rating. The ranking puts the outages with most racks lost (unsupplied
+ over their limit) first, then those whose solve failed, then the most stations and lines over their
rating, then the lowest loop flow, the lowest voltage and the largest loss of grid-to-chip efficiency.
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr

from gigawatt.errors import CaseError, ConvergenceError, GigawattError
from gigawatt.solver.contingency.outages import apply_outage, base_hydraulics, list_outages, outage_name
from gigawatt.solver.solve import solve

NO_RATING = "no rating"

FIGURES = {  # name -> (units, long_name)
    "v_min_pu": ("1", "lowest bus voltage"),
    "line_loading_max": ("1", "highest line current over its rating (NaN: no rating)"),
    "lines_overloaded": ("1", "lines above their rating"),
    "station_loading_max": ("1", "highest station output over its rated power"),
    "stations_overloaded": ("1", "stations above their rated power"),
    "t_chip_max_k": ("K", "hottest chip"),
    "racks_over_limit": ("1", "racks over their chip limit (tripped for want of cooling, or hotter than it)"),
    "racks_unsupplied": ("1", "racks islanded without a station"),
    "p_it_lost_w": ("W", "IT power of the racks lost"),
    "loop_flow_fraction": ("1", "lowest cooling-loop flow over its design flow"),
    "unmet_heat_w": ("W", "district-heating demand not delivered"),
    "boiler_share": ("1", "share of the plant's heat from the peak boiler"),
    "delta_efficiency_grid_to_chip": ("1", "grid-to-chip efficiency minus the base case's"),
    "delta_pue": ("1", "PUE minus the base case's"),
    "energy_balance_residual": ("1", "relative residual of the electrical ledger"),
    "heat_balance_residual": ("1", "relative residual of the heat ledger"),
}
TEXTS = {"v_min_bus": "bus of the lowest voltage", "line_worst": "line of the highest loading",
         "station_worst": "station of the highest loading", "hottest_rack": "rack of the hottest chip",
         "finding": "why the outage is a single point of failure (empty: it is not)",
         "notes": "what the redundancy did", "status": "ok, or cannot_carry (the solve failed; see finding)"}


def outage_figures(case, ds: xr.Dataset, base: xr.Dataset | None = None) -> dict:
    """The figures of one solved case (see :data:`FIGURES`), deltas against ``base`` when given."""
    a = ds.attrs
    out = {k: math.nan for k in FIGURES} | {k: "" for k in TEXTS}
    v = ds["v_pu"].to_numpy()
    if v.size:
        i = int(np.nanargmin(v))
        out.update(v_min_pu=float(v[i]), v_min_bus=str(ds["bus"].values[i]))
    lines = case.tables["line"]
    ids = lines["id"].to_numpy(object)
    rating = lines["max_i_a"].to_numpy(float) if "max_i_a" in lines else np.full(len(lines), np.nan)
    rated = np.isfinite(rating) & lines["in_service"].to_numpy(bool)
    if rated.any():
        current = np.abs(ds["i_a"].sel(line=ids[rated]).to_numpy())
        load = current / rating[rated]
        k = int(np.argmax(load))
        out.update(line_loading_max=float(load[k]), lines_overloaded=int((load > 1).sum()), line_worst=str(ids[rated][k]))
    else:
        out.update(line_worst=NO_RATING)
    load = ds["source_loading"].to_numpy()
    if load.size and np.isfinite(load).any():
        k = int(np.nanargmax(load))
        out.update(station_loading_max=float(load[k]), stations_overloaded=int((load > 1).sum()),
                   station_worst=str(ds["source"].values[k]))
    if "t_chip_k" in ds:
        t = ds["t_chip_k"].to_numpy()
        k = int(np.argmax(t))
        out.update(t_chip_max_k=float(t[k]), hottest_rack=str(ds["rack"].values[k]),
                   racks_over_limit=int(ds["chip_over_limit"].to_numpy().sum()))
    else:
        out.update(racks_over_limit=0)
    if "dh_q_demand_w" in a:
        out["unmet_heat_w"] = max(float(a["dh_q_demand_w"]) - float(a["dh_q_delivered_w"]), 0.0)
        out["boiler_share"] = float(a["boiler_heat_w"]) / float(a["dh_q_plant_w"]) if a["dh_q_plant_w"] > 0 else 0.0
    out.update(energy_balance_residual=float(a["energy_balance_residual"]),
               heat_balance_residual=float(a.get("heat_balance_residual", math.nan)), racks_unsupplied=0,
               p_it_lost_w=0.0, loop_flow_fraction=1.0, status="ok")
    if base is not None:
        b = base.attrs
        out["delta_efficiency_grid_to_chip"] = float(a["efficiency_grid_to_chip"]) - float(b["efficiency_grid_to_chip"])
        if "pue" in a:
            out["delta_pue"] = float(a["pue"]) - float(b["pue"])
    return out


def solve_outage(case, outage: tuple, base: xr.Dataset, hydraulics, loop_ids, dh_network=None) -> dict:
    """The figures of one outage (``outage_figures`` with what the outage did): never raises for what the
    outage does to the network; an input error (an element that does not exist) still raises."""
    state = apply_outage(case, outage, hydraulics, loop_ids)
    p_ref = dict(zip(base["rack"].values, base["rack_p_it_w"].to_numpy()))
    lost = list(state.racks_tripped) + list(state.racks_unsupplied)
    findings = []
    if state.racks_unsupplied:
        findings.append(f"{len(state.racks_unsupplied)} racks unsupplied (islanded)")
    if state.racks_tripped:
        findings.append(f"{len(state.racks_tripped)} racks lose their cooling")
    if state.loop_flow_fraction < 1.0:
        findings.append(f"a cooling loop at {state.loop_flow_fraction:.3f} of its design flow (chip temperatures "
                        f"at that flow not solved)")
    if state.case is None:
        out = {k: math.nan for k in FIGURES} | {k: "" for k in TEXTS} | {"status": "ok", "racks_over_limit": 0}
    else:
        try:
            same_dh = state.case.settings.get("district_heating") is case.settings.get("district_heating")
            out = outage_figures(state.case, solve(state.case, district_heating_network=dh_network if same_dh
                                                    else None), base)
        except (ConvergenceError, CaseError) as err:
            out = {k: math.nan for k in FIGURES} | {k: "" for k in TEXTS}
            out.update(status="cannot_carry", racks_over_limit=0)
            findings.append(f"the network cannot carry its load: {str(err).splitlines()[0]}")
    for key, what in (("racks_over_limit", "racks over their chip limit"),
                      ("stations_overloaded", "stations above their rated power"),
                      ("lines_overloaded", "lines above their rating")):
        if out[key] > 0:  # NaN (not solved, no rating) is not
            findings.append(f"{int(out[key])} {what}")
    out.update(racks_unsupplied=len(state.racks_unsupplied), loop_flow_fraction=state.loop_flow_fraction,
               racks_over_limit=(out["racks_over_limit"] if not math.isnan(out["racks_over_limit"]) else 0)
               + len(state.racks_tripped),
               p_it_lost_w=float(sum(p_ref.get(r, 0.0) for r in lost)), finding="; ".join(findings),
               notes="; ".join(state.notes))
    return out


def solve_outages(case, outages: list, base: xr.Dataset) -> list[dict]:
    """:func:`solve_outage` for each outage, the base case's loop hydraulics and district-heating network
    prepared once (an outage leaves the town's network as it is; one that changes the plant's settings, a
    heat-pump outage, prepares its own)."""
    hydraulics, loop_ids = base_hydraulics(case)
    network = None
    if case.settings.get("district_heating") is not None:
        from gigawatt.solver.district_heating.stage import prepare_district_heating

        network = prepare_district_heating(case)
    return [solve_outage(case, o, base, hydraulics, loop_ids, network) for o in outages]


def run_contingency(case, elements: str | None = None, n: int = 1, *, map_outages=None) -> xr.Dataset:
    """Every outage of ``n`` elements (1 or 2) of the kinds in ``elements`` (``"stations,lines:cable,cdus"``;
    None: all kinds), solved through the coupled chain and ranked; one dataset along ``outage``.

    ``map_outages(case, outages, base) -> list of records`` runs the outages (default
    :func:`solve_outages` in this process; the command line passes one that runs them on Dask).
    """
    from gigawatt import __version__

    outages = list_outages(case, elements, n)
    base = solve(case)
    records = (map_outages or solve_outages)(case, outages, base) if outages else []
    return combine(case, outages, records, base, elements, n, __version__)


def combine(case, outages: list, records: list[dict], base: xr.Dataset, elements, n, version) -> xr.Dataset:
    """The records as one dataset along ``outage``, with ``rank`` (1: worst) and ``single_point_of_failure``."""
    names = np.array([outage_name(o) for o in outages], dtype=object)
    data = {}
    for k, (units, long_name) in FIGURES.items():
        data[k] = ("outage", np.array([r[k] for r in records], dtype=float), {"units": units, "long_name": long_name})
    for k, long_name in TEXTS.items():
        data[k] = ("outage", np.array([r[k] for r in records], dtype=object), {"long_name": long_name})
    spof = np.array([bool(r["finding"]) for r in records], dtype=bool)
    data["single_point_of_failure"] = ("outage", spof, {"long_name": "the outage loses racks or load (see finding)"})
    data["outage_kind"] = ("outage", np.array(["+".join(k for k, _ in o) for o in outages], dtype=object),
                           {"long_name": "kinds of the elements out"})
    lost = data["racks_unsupplied"][1] + data["racks_over_limit"][1]
    failed = np.array([r["status"] != "ok" for r in records], dtype=float)
    over = np.nan_to_num(data["stations_overloaded"][1]) + np.nan_to_num(data["lines_overloaded"][1])
    order = np.lexsort((np.nan_to_num(data["delta_efficiency_grid_to_chip"][1], nan=-np.inf),
                        np.nan_to_num(data["v_min_pu"][1], nan=-np.inf), data["loop_flow_fraction"][1],
                        -over, -failed, -lost)) if records else np.array([], int)
    rank = np.empty(len(records), dtype=np.int64)
    rank[order] = np.arange(1, len(records) + 1)
    data["rank"] = ("outage", rank, {"long_name": "1: the worst outage (see the module notes for the order)"})
    b = base.attrs
    attrs = {"title": f"gigawatt contingency analysis (N-{n}) of case '{case.name}'", "case_name": case.name,
             "case_hash": case.hash(), "case_file": case.file or "", "gigawatt_version": version,
             "contingency_order": n, "elements": elements or "all", "outages": len(records),
             "single_points_of_failure": int(spof.sum()),
             "line_rating": "from line.max_i_a" if "max_i_a" in case.tables["line"]
             and np.isfinite(case.tables["line"]["max_i_a"].to_numpy(float)).any() else NO_RATING,
             "base_efficiency_grid_to_chip": float(b["efficiency_grid_to_chip"]),
             "base_v_min_pu": float(base["v_pu"].min()) if base["v_pu"].size else math.nan,
             "max_energy_balance_residual": float(np.nanmax(data["energy_balance_residual"][1]))
             if records and np.isfinite(data["energy_balance_residual"][1]).any() else math.nan}
    if "pue" in b:
        attrs["base_pue"] = float(b["pue"])
    from gigawatt.solver.results_schema import conform

    return conform(xr.Dataset(data, coords={"outage": ("outage", names)}, attrs=attrs))


def format_contingency(ds: xr.Dataset, top: int = 10) -> str:
    """The ranking's worst ``top`` outages and every single point of failure, as text."""
    a = ds.attrs
    lines = [f"{a['title']}: {a['outages']} outages, {a['single_points_of_failure']} single points of failure; "
             f"line ratings: {a['line_rating']}"]
    order = np.argsort(ds["rank"].to_numpy())
    lines.append(f"{'rank':>4}  {'outage':<40} {'v_min pu':>8} {'stations>1':>10} {'racks lost':>10} "
                 f"{'t_chip max C':>12} {'boiler':>7} {'d eff':>9}")
    for i in order[:top]:
        r = {k: ds[k].values[i] for k in ds.data_vars if "outage" in ds[k].dims}
        lost = int(r["racks_unsupplied"] + r["racks_over_limit"])
        lines.append(f"{int(r['rank']):>4}  {str(ds['outage'].values[i])[:40]:<40} {r['v_min_pu']:>8.4f} "
                     f"{r['stations_overloaded']:>10.0f} {lost:>10d} {r['t_chip_max_k'] - 273.15:>12.2f} "
                     f"{r['boiler_share']:>7.1%} {r['delta_efficiency_grid_to_chip']:>+9.5f}")
    spof = np.flatnonzero(ds["single_point_of_failure"].to_numpy())
    lines.append(f"single points of failure ({spof.size}):")
    lines.extend(f"  {ds['outage'].values[i]}: {ds['finding'].values[i]}" for i in spof)
    return "\n".join(lines)
