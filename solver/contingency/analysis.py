"""Solve every outage through the coupled chain, measure it against the base case, rank the outages and
name the single points of failure.

An outage is a *single point of failure* when after it some rack is unsupplied (islanded), some rack is
over its chip limit (tripped for want of cooling, or hotter than ``chip_t_max_k``), some cooling loop runs
below its design flow, or the network cannot carry its load: the solve raised a
:class:`~gigawatt.errors.ConvergenceError` or could not meet a duty (the message is kept), or a station or
a rated line carries more than its rating. The ranking puts the outages with most racks lost (unsupplied
+ over their limit) first, then those whose solve failed, then the most stations and lines over their
rating, then the lowest loop flow, the lowest voltage and the largest loss of grid-to-chip efficiency.

Each outage starts from the base case: its DC load flow from the base voltages (a warm start), or for one line
out of a ring from the voltages of a rank-1 update of the base factorisation
(:mod:`~gigawatt.solver.contingency.lowrank`); a lost pump's loop is solved at the survivors' flow.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pandas as pd
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
    "dc_newton_iterations": ("1", "Newton iterations of the outage's DC load flow from its start (see dc_start)"),
    "heat_balance_residual": ("1", "relative residual of the heat ledger"),
}
TEXTS = {"v_min_bus": "bus of the lowest voltage", "line_worst": "line of the highest loading",
         "station_worst": "station of the highest loading", "hottest_rack": "rack of the hottest chip",
         "finding": "why the outage is a single point of failure (empty: it is not)",
         "notes": "what the redundancy did",
         "dc_start": "where the outage's DC load flow started: the base case's voltages, or those of a rank-1 "
                     "update of the base factorisation (and why not, where it does not apply)",
         "status": "ok, or cannot_carry (the solve failed; see finding)"}


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
               dc_newton_iterations=float(a.get("iterations", math.nan)),
               heat_balance_residual=float(a.get("heat_balance_residual", math.nan)), racks_unsupplied=0,
               p_it_lost_w=0.0, loop_flow_fraction=1.0, status="ok")
    if base is not None:
        b = base.attrs
        out["delta_efficiency_grid_to_chip"] = float(a["efficiency_grid_to_chip"]) - float(b["efficiency_grid_to_chip"])
        if "pue" in a:
            out["delta_pue"] = float(a["pue"]) - float(b["pue"])
    return out


def solve_outage(case, outage: tuple, base: xr.Dataset, hydraulics, loop_ids, dh_network=None,
                 base_factor=None, ac_grid=None, p_it_by_rack: pd.Series | None = None) -> dict:
    """The figures of one outage (``outage_figures`` with what the outage did): never raises for what the
    outage does to the network; an input error (an element that does not exist) still raises.

    The outage's DC load flow starts from the base case's voltages, or, for one line out of a ring with
    ``base_factor`` (:func:`~gigawatt.solver.contingency.lowrank.factor_base`), from the voltages of the rank-1
    update of the base factorisation, which the chain's solver then verifies (``dc_start`` says which)."""
    state = apply_outage(case, outage, hydraulics, loop_ids)
    v_start_v, dc_start = _dc_start(case, outage, state, base, base_factor)
    if p_it_by_rack is None:
        p_it_by_rack = pd.Series(base["rack_p_it_w"].to_numpy(), index=base["rack"].to_numpy())
    lost = list(state.racks_tripped) + list(state.racks_unsupplied)
    findings = []
    if state.racks_unsupplied:
        findings.append(f"{len(state.racks_unsupplied)} racks unsupplied (islanded)")
    if state.racks_tripped:
        findings.append(f"{len(state.racks_tripped)} racks lose their cooling")
    if state.loop_flow_fraction < 1.0:
        findings.append(f"a cooling loop at {state.loop_flow_fraction:.3f} of its design flow")
    if state.case is None:
        out = {k: math.nan for k in FIGURES} | {k: "" for k in TEXTS} | {"status": "ok", "racks_over_limit": 0}
        dc_start = "not solved: every rack is lost"
    else:
        try:
            same_dh = state.case.settings.get("district_heating") is case.settings.get("district_heating")
            same_stations = np.array_equal(state.case.tables["source"]["id"].to_numpy(object),
                                           case.tables["source"]["id"].to_numpy(object))

            def run(start):
                return solve(state.case, district_heating_network=dh_network if same_dh else None,
                             v_start_v=start, loop_flow_fraction=state.loop_flows or None,
                             ac_grid=ac_grid if same_stations else None)
            try:
                ds = run(v_start_v)
            except ConvergenceError:  # the base's voltages may be a poor start far from the base: set-points decide
                ds = run(None)
                dc_start = "set-points (the start from the base case did not converge)"
            out = outage_figures(state.case, ds, base)
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
               p_it_lost_w=float(p_it_by_rack.reindex(lost, fill_value=0.0).sum()) if lost else 0.0,
               finding="; ".join(findings),
               notes="; ".join(state.notes), dc_start=dc_start)
    return out


def _dc_start(case, outage, state, base, base_factor) -> tuple[pd.Series, str]:
    """Starting voltages of the outage's DC load flow (by bus id) and the text saying where they come from."""
    from gigawatt.solver.contingency.lowrank import applies, line_outage_voltages

    ids = base["bus"].to_numpy()
    warm = pd.Series(base["v_v"].to_numpy(), index=ids)
    why = applies(case, outage[0][0]) if len(outage) == 1 else "two elements out"
    if not why and any(n.startswith("spare ") or "islanded" in n for n in state.notes):
        why = "a spare was switched in, or buses were islanded"
    if not why and base_factor is None:
        why = "no base factorisation"
    if not why:
        row = int(np.flatnonzero(case.tables["line"]["id"].to_numpy(object) == outage[0][1])[0])
        v, steps, why = line_outage_voltages(base_factor, row)
        if v is not None:
            return (pd.Series(v[base_factor.net.pos], index=ids),
                    f"rank-1 update of the base factorisation (Sherman-Morrison), {steps} chord steps")
    return warm, f"base case's voltages (low-rank update does not apply: {why})"


def base_factor(case, base: xr.Dataset):
    """The base case's DC Jacobian at its solution, factored for the line outages' rank-1 updates
    (:mod:`gigawatt.solver.contingency.lowrank`); None where that does not apply to the case's lines."""
    from gigawatt.solver.contingency.lowrank import applies, factor_base
    from gigawatt.solver.dc.assembly import assemble, with_rack_power

    if applies(case, "lines") or not len(case.tables["line"]):
        return None
    net = assemble(case)
    if "p_it_ref_w" in base:  # chip leakage: the racks drew their solved IT power
        net = with_rack_power(net, case, base["rack_p_it_w"].to_numpy())
    v0 = np.empty(net.n_bus)
    v0[net.pos] = base["v_v"].to_numpy()
    return factor_base(net, v0)


def solve_outages(case, outages: list, base: xr.Dataset, prepared: "PreparedBase | None" = None) -> list[dict]:
    """:func:`solve_outage` for each outage, the base case's loop hydraulics, district-heating network, grid
    side and factorised DC Jacobian prepared once (an outage leaves the town's network and the grid side as
    they are; one that changes the plant's settings, a heat-pump outage, prepares its own network, and one
    that drops stations with an island its own grid side). ``prepared``: those structures already made by
    :func:`prepare_base` for this case and base (a worker solving several chunks of one run keeps them)."""
    p = prepared or prepare_base(case, base)
    factor = p.factor() if any(o[0][0] == "lines" for o in outages) else None
    with _one_numba_thread():
        return [solve_outage(case, o, base, p.hydraulics, p.loop_ids, p.network, factor, p.grid, p.p_it_by_rack)
                for o in outages]


class PreparedBase:
    """What every outage of one case shares, made once: the base case's loop hydraulics and loop ids, the
    district-heating network, the grid side, the racks' IT power and (on first use) the factorised DC
    Jacobian of the line outages. Derived from an immutable case and its base solution; kept only for them."""

    def __init__(self, case, base: xr.Dataset):
        self.case, self.base = case, base
        self.hydraulics, self.loop_ids = base_hydraulics(case)
        self.network = None
        if case.settings.get("district_heating") is not None:
            from gigawatt.solver.district_heating.stage import prepare_district_heating

            self.network = prepare_district_heating(case)
        self.grid = None
        if len(case.tables["ac_bus"]):
            from gigawatt.solver.ac.grid import prepare_ac_grid

            self.grid = prepare_ac_grid(case)
        self.p_it_by_rack = pd.Series(base["rack_p_it_w"].to_numpy(), index=base["rack"].to_numpy())
        self._factor = None

    def factor(self):
        """:func:`base_factor` of the case, made on first call."""
        if self._factor is None:
            self._factor = (base_factor(self.case, self.base),)
        return self._factor[0]


def prepare_base(case, base: xr.Dataset) -> PreparedBase:
    """The structures all outages of ``case`` share (:class:`PreparedBase`)."""
    return PreparedBase(case, base)


@contextmanager
def _one_numba_thread():
    """Numba's parallel kernels on one thread while the outages are solved: each kernel call of an outage is
    short (microseconds to a few milliseconds), so waking a thread pool for it costs more than it saves, and
    under load far more (measured on the bundled campus: 6.1 s CPU with two threads, 4.7 s with one, at load
    6.5). The outages themselves are the parallel work: ``--workers`` runs them on several processes."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


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
             "dc_start": "every outage's DC load flow starts from the base case's voltages; one line out of a "
             "ring (single-level monopolar network, fixed conductor temperatures) from a rank-1 update of the base "
             "case's factorised Jacobian (Sherman-Morrison), which the solver verifies; station outages change "
             "the droop structure and are not low-rank (see the variable dc_start)",
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
