"""A case's DC network as a :class:`~gigawatt.solver.dc.meshed.DCGrid`, and its load flow as a results Dataset
(``gigawatt.solve_dc_grid``).

What it takes from the case: buses, in-service lines (their loop resistance at their conductor temperature),
sources (stiff, or V–P droop ``k = rated/(droop · v_set)`` as in :mod:`gigawatt.solver.dc.kernel`), DC/DC
converters under voltage, ratio or power control (``converter.control``; quadratic or no loss model, since the
grid solver evaluates ``a + b|I| + c I²`` itself), racks as constant-power loads of their input power,
``dc_terminal`` (set power with voltage limits) and ``dc_conductance`` rows. A source's conversion loss lies
outside the DC network: it is evaluated after the load flow at the source's (signed, for two-way models)
output.
"""
from __future__ import annotations

import numpy as np

from gigawatt.cases.case import Case
from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import QuadraticLoss, loss_by_model
from gigawatt.models.dc_elements import TERMINAL_MODES
from gigawatt.models.racks import rack_powers
from gigawatt.solver.dc.assembly import STIFF_DROOP, _lines
from gigawatt.solver.dc.meshed import DCGrid, DCGridResult, DCGridSolver, dc_grid
from gigawatt.solver.dc.results import _var, make_dataset


def _live(case: Case, table: str) -> np.ndarray:
    return np.flatnonzero(case.tables[table]["in_service"].to_numpy(bool))


def _converter_loss(case: Case, conv, j: int) -> tuple[float, float, float]:
    """(a, b, c) of converter row j's loss model: quadratic or none."""
    name = conv["loss_model"].iloc[j]
    if not name:
        return 0.0, 0.0, 0.0
    model = case.loss_models[name]
    if not isinstance(model, QuadraticLoss):
        raise CaseError("the DC grid load flow takes quadratic converter losses (a + b·I + c·I² on the output "
                        "current) or none", file=case.file, element=f"converter '{conv['id'].iloc[j]}'",
                        field="loss_model", value=name, allowed="a loss model of kind quadratic, or empty")
    return model.a_w, model.b_v, model.c_ohm


def grid_from_case(case: Case) -> DCGrid:
    """The case's DC network as a :class:`DCGrid` (bus indices = bus-table rows; in-service elements only, in
    table order; ``names`` keeps their ids)."""
    t = case.tables
    in_service, r, frm, to = _lines(case)
    live = np.flatnonzero(in_service)
    src, conv = t["source"], t["converter"]
    s_live = _live(case, "source")
    s_bus = case.ref_rows("source", "bus")
    droop = src["droop"].to_numpy(float)
    v_set = src["v_set_v"].to_numpy(float)
    k = np.where(droop < STIFF_DROOP, 0.0, src["rated_power_w"].to_numpy(float) / np.maximum(droop, 1e-300) / v_set)
    feeds = [(s_bus[j], v_set[j], k[j]) for j in s_live]
    c_live = _live(case, "converter")
    c_from, c_to = case.ref_rows("converter", "from_bus"), case.ref_rows("converter", "to_bus")
    dcdc = []
    for j in c_live:
        control = conv["control"].iloc[j]
        field = {"voltage": "v_set_v", "ratio": "ratio", "power": "p_set_w"}[control]
        setpoint = float(conv[field].iloc[j])
        if np.isnan(setpoint):
            raise CaseError(f"a converter under {control} control needs {field}", file=case.file,
                            element=f"converter '{conv['id'].iloc[j]}'", field=field, allowed="a value")
        if control == "voltage" and conv["droop"].iloc[j] >= STIFF_DROOP:
            raise CaseError("the DC grid load flow holds a voltage-controlled converter's output stiffly",
                            file=case.file, element=f"converter '{conv['id'].iloc[j]}'", field="droop",
                            value=conv["droop"].iloc[j], allowed="0")
        dcdc.append((c_from[j], c_to[j], control, setpoint, *_converter_loss(case, conv, j)))
    term = t["dc_terminal"]
    t_live = _live(case, "dc_terminal")
    t_bus = case.ref_rows("dc_terminal", "bus")
    v_max = term["v_max_v"].to_numpy(float)
    terminals = [(t_bus[j], term["p_set_w"].iloc[j], term["v_min_v"].iloc[j],
                  np.inf if np.isnan(v_max[j]) else v_max[j]) for j in t_live]
    g_live = _live(case, "dc_conductance")
    g_bus = case.ref_rows("dc_conductance", "bus")
    conductances = [(g_bus[j], t["dc_conductance"]["g_s"].iloc[j]) for j in g_live]
    p_in, _, _ = rack_powers(case)
    r_bus = case.ref_rows("rack", "bus")
    loads = list(zip(r_bus, p_in))
    names = {"bus": t["bus"]["id"].to_numpy(), "line": t["line"]["id"].to_numpy()[live],
             "feed": src["id"].to_numpy()[s_live], "dcdc": conv["id"].to_numpy()[c_live],
             "terminal": term["id"].to_numpy()[t_live], "conductance": t["dc_conductance"]["id"].to_numpy()[g_live],
             "load": t["rack"]["id"].to_numpy(),
             "labels": {"feed": "source", "dcdc": "converter", "terminal": "dc_terminal",
                        "conductance": "dc_conductance", "load": "rack"}}
    try:
        return dc_grid(t["bus"]["v_nominal_v"].to_numpy(float), lines=zip(frm[live], to[live], r[live]),
                       feeds=feeds, terminals=terminals, loads=loads, conductances=conductances, dcdc=dcdc,
                       names=names)
    except CaseError as err:
        raise err.located(file=case.file) from None


def solve_dc_grid(case: Case, *, solver: DCGridSolver | None = None) -> "xr.Dataset":  # noqa: F821
    """DC load flow of ``case`` with set-power terminals (P–V switching at their limits), DC/DC converters
    under voltage, ratio or power control anywhere in the network (meshes included) and constant-conductance
    loads; returns an ``xarray.Dataset`` of the buses, lines, sources, converters, terminals, conductances and
    racks with units, and the ledger in its attributes.

    ``solver``: a :class:`DCGridSolver` prepared from ``grid_from_case(case)`` to reuse (its factorisations
    are kept); default: a new one.
    """
    grid = grid_from_case(case)
    solver = DCGridSolver(grid) if solver is None else solver
    try:
        res = solver.solve()
    except CaseError as err:
        raise err.located(file=case.file) from None
    return grid_dataset(case, grid, res)


def grid_dataset(case: Case, grid: DCGrid, res: DCGridResult):
    """The results Dataset of one grid load flow (see :func:`solve_dc_grid`)."""
    t = case.tables
    n = grid.names
    src = t["source"].iloc[_live(case, "source")]
    v = res.v_v
    loss_src = loss_by_model(case.loss_models, src["loss_model"].to_numpy(object), res.feed_p_w,
                             v[grid.feed_bus], src["rated_power_w"].to_numpy(float), "source", src["id"].to_numpy())
    term = t["dc_terminal"].iloc[_live(case, "dc_terminal")]
    rated_t = term["rated_power_w"].to_numpy(float)
    ds = {
        "v_v": _var("bus", "v_v", v),
        "v_pu": _var("bus", "v_pu", v / grid.v_nominal_v),
        "i_a": _var("line", "i_a", res.line_i_a),
        "line_p_loss_w": _var("line", "p_loss_w", res.line_loss_w),
        "p_dc_w": _var("source", "p_dc_w", res.feed_p_w),
        "source_loss_w": _var("source", "loss_w", loss_src),
        "source_p_grid_w": _var("source", "p_grid_w", res.feed_p_w + loss_src),
        "p_out_w": _var("converter", "p_out_w", res.dcdc_p_out_w),
        "converter_loss_w": _var("converter", "loss_w", res.dcdc_loss_w),
        "converter_p_in_w": _var("converter", "p_in_w", res.dcdc_p_in_w),
        "terminal_p_w": _var("dc_terminal", "p_w", res.terminal_p_w, "W",
                             "power the terminal injects into its bus (negative: draws)"),
        "terminal_mode": _var("dc_terminal", "mode", np.array(TERMINAL_MODES, dtype=object)[res.terminal_mode], "1",
                              "set_power, or at_v_min / at_v_max where it holds a voltage limit"),
        "terminal_loading": _var("dc_terminal", "loading", res.terminal_p_w / rated_t, "1",
                                 "|power| / rated power (NaN without a rating)"),
        "conductance_p_w": _var("dc_conductance", "p_w", res.conductance_p_w, "W", "power drawn, G·V²"),
        "rack_p_in_w": _var("rack", "p_in_w", res.load_p_w),
    }
    coords = {"bus": n["bus"], "line": n["line"], "source": n["feed"], "converter": n["dcdc"],
              "dc_terminal": n["terminal"], "dc_conductance": n["conductance"], "rack": n["load"]}
    delivered = float(res.feed_p_w.sum() + res.terminal_p_w.sum())
    attrs = {"p_sources_dc_w": float(res.feed_p_w.sum()), "p_terminals_w": float(res.terminal_p_w.sum()),
             "p_racks_w": float(res.load_p_w.sum()), "p_conductances_w": float(res.conductance_p_w.sum()),
             "p_line_loss_w": float(res.line_loss_w.sum()), "p_converter_loss_w": float(res.dcdc_loss_w.sum()),
             "p_source_loss_w": float(loss_src.sum()), "ledger_residual_w": float(res.ledger_residual_w),
             "energy_balance_residual": abs(float(res.ledger_residual_w)) / max(abs(delivered), 1e-300),
             "iterations": int(res.iterations), "converged": 1,
             "solver": "gigawatt.solver.dc.meshed (substitution on a factorisation kept per pattern of held buses)"}
    return make_dataset(ds, coords, attrs)


def uses_grid_elements(case: Case) -> bool:
    """Whether the case needs the DC grid load flow (:mod:`gigawatt.solver.dc.meshed`) rather than the
    level-by-level one: an in-service set-power terminal or conductance load, a DC/DC converter under ratio or
    power control, or one whose input and output buses are joined by lines (inside a mesh)."""
    t = case.tables
    if any(len(t[k]) and t[k]["in_service"].to_numpy(bool).any() for k in ("dc_terminal", "dc_conductance")):
        return True
    conv = t["converter"]
    live = conv["in_service"].to_numpy(bool)
    if not live.any():
        return False
    if (conv["control"].to_numpy()[live] != "voltage").any():
        return True
    zone = _line_zones(case)
    return bool((zone[case.ref_rows("converter", "from_bus")[live]]
                 == zone[case.ref_rows("converter", "to_bus")[live]]).any())


def _line_zones(case: Case) -> np.ndarray:
    """Connected component of each bus row over the in-service lines."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(case.tables["bus"])
    live = case.tables["line"]["in_service"].to_numpy(bool)
    frm, to = case.ref_rows("line", "from_bus")[live], case.ref_rows("line", "to_bus")[live]
    return connected_components(coo_matrix((np.ones(frm.size), (frm, to)), shape=(n, n)), directed=False)[1]


def _bus_levels(case: Case, grid: DCGrid) -> np.ndarray:
    """Voltage level of each bus row: the fewest DC/DC converters between it and a source (0 on a source's
    zone; a zone whose converters all sit inside it keeps its feeds' level)."""
    zone = _line_zones(case)
    level = np.full(zone.max(initial=-1) + 1, np.iinfo(np.int64).max // 2)
    level[zone[grid.feed_bus]] = 0
    z_from, z_to = zone[grid.dcdc_from], zone[grid.dcdc_to]
    for _ in range(level.size):
        new = level.copy()
        np.minimum.at(new, z_to, level[z_from] + (z_from != z_to))
        if np.array_equal(new, level):
            break
        level = new
    out = level[zone]
    return np.where(out > level.size, 0, out)


def chain_dc_dataset(case: Case, *, version: str, p_it=None) -> "xr.Dataset":  # noqa: F821
    """The coupled chain's DC stage (:func:`gigawatt.solve`) for a case with DC grid elements: the load flow of
    :func:`solve_dc_grid`, its figures by table row in the Dataset of the level-by-level load flow
    (:func:`gigawatt.solver.dc.results.rows_dataset`: the same variables, stages and ledger), plus the
    terminals' and conductances' variables. Set-power terminals are supplies other than the stations and
    conductance loads are loads other than the racks: both enter the ledger (``p_dc_terminals_w``,
    ``p_dc_conductances_w``), ``p_grid + p_dc_terminals = p_it + losses + p_dc_conductances``.

    ``p_it`` [W]: the racks' IT power when it differs from the case's (chip leakage at the coolant's
    temperature). ``max_mismatch_a`` is Kirchhoff's current law at every bus, evaluated on the results.
    """
    from gigawatt.solver.dc.results import RowFlows, rows_dataset

    t = case.tables
    grid = grid_from_case(case)
    p_in, shelf, vrm = rack_powers(case, p_it)
    try:
        res = DCGridSolver(grid).solve(load_p_w=p_in)
    except CaseError as err:
        raise err.located(file=case.file) from None
    g = grid_dataset(case, grid, res)
    n_bus = grid.n_bus
    v = res.v_v

    def rows(table, values):
        out = np.zeros(len(t[table]))
        out[_live(case, table)] = values
        return out

    lines_live = t["line"]["in_service"].to_numpy(bool)
    _, r_all, _, _ = _lines(case)
    i_line = np.full(lines_live.size, np.nan)
    i_line[lines_live] = res.line_i_a
    p_load = (np.bincount(grid.load_bus, weights=res.load_p_w, minlength=n_bus)
              + np.bincount(grid.dcdc_from, weights=res.dcdc_p_in_w, minlength=n_bus))
    flows = RowFlows(v_v=v, p_load_w=p_load, level=_bus_levels(case, grid), line_i_a=i_line, line_r_ohm=r_all,
                     line_in_service=lines_live, p_dc_w=rows("source", res.feed_p_w),
                     source_loss_w=rows("source", g["source_loss_w"].values),
                     p_out_w=rows("converter", res.dcdc_p_out_w), converter_loss_w=rows("converter", res.dcdc_loss_w),
                     rack_p_in_w=p_in, shelf_loss_w=shelf, vrm_loss_w=vrm)
    extra = {k: g[k].variable for k in ("terminal_p_w", "terminal_mode", "terminal_loading", "conductance_p_w")}
    ds = rows_dataset(case, flows, version=version, p_it=p_it, iterations=res.iterations,
                      max_mismatch_a=_kcl_mismatch_a(grid, res), extra=extra,
                      extra_coords={"dc_terminal": grid.names["terminal"], "dc_conductance": grid.names["conductance"]},
                      other_supply_w=float(res.terminal_p_w.sum()), other_load_w=float(res.conductance_p_w.sum()))
    ds.attrs["dc_solver"] = g.attrs["solver"]
    return ds


def _kcl_mismatch_a(grid: DCGrid, res: DCGridResult):
    """Largest current mismatch [A] of Kirchhoff's law at any bus: what the elements inject (P/V) against what
    the lines carry away; of a many-step result, one per step."""
    import scipy.sparse as sp

    n, v = grid.n_bus, res.v_v

    def at(bus, p):  # summed per bus (the last axis), for one step or many
        incidence = sp.csr_matrix((np.ones(bus.size), (np.arange(bus.size), bus)), shape=(bus.size, n))
        return np.asarray(incidence.T @ np.asarray(p, float).T).T

    inject = (at(grid.feed_bus, res.feed_p_w) + at(grid.terminal_bus, res.terminal_p_w) - at(grid.load_bus, res.load_p_w)
              - at(grid.conductance_bus, res.conductance_p_w) + at(grid.dcdc_to, res.dcdc_p_out_w)
              - at(grid.dcdc_from, res.dcdc_p_in_w)) / v
    away = at(grid.line_from, res.line_i_a) - at(grid.line_to, res.line_i_a)
    worst = np.max(np.abs(inject - away), axis=-1, initial=0.0)
    return float(worst) if np.ndim(worst) == 0 else worst
