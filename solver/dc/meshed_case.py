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
        "p_loss_w": _var("line", "p_loss_w", res.line_loss_w),
        "p_dc_w": _var("source", "p_dc_w", res.feed_p_w),
        "source_loss_w": _var("source", "loss_w", loss_src),
        "p_grid_w": _var("source", "p_grid_w", res.feed_p_w + loss_src),
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
