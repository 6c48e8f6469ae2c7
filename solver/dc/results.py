"""Results: one ``xarray.Dataset`` with a dimension per element type, units on every variable, the energy
ledger and the run's provenance.

Sign convention: powers are positive in the direction of supply (from the grid towards the chips); a line
current is positive from ``from_bus`` to ``to_bus``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from gigawatt.cases.schema import echo_variable, unit_of
from gigawatt.models.kpis import boundary_powers
from gigawatt.models.racks import chip_powers
from gigawatt.solver.dc.case_figures import CaseFigures
from gigawatt.solver.dc.kernel import by_row
from gigawatt.solver.dc.ratings import case_line_ratings, line_loading, loading_warnings

# Variables the solver computes: name -> (unit, long name). Inputs echoed in the results take their unit
# from the schema table (see ``_echo``).
RESULT_VARIABLES = {
    "v_v": ("V", "voltage"),
    "v_pu": ("1", "voltage in per unit of nominal"),
    "p_load_w": ("W", "constant-power load drawn at the bus (racks and converter inputs)"),
    "level": ("1", "voltage level (0 = fed from the grid, 1 = behind one converter, ...)"),
    "i_a": ("A", "current, positive from from_bus to to_bus"),
    "p_loss_w": ("W", "conductor loss I²R"),
    "p_dc_w": ("W", "DC output power of the source"),
    "p_grid_w": ("W", "power drawn from the grid (DC output + losses)"),
    "loss_w": ("W", "conversion loss"),
    "loading": ("1", "output power / rated power"),
    "p_out_w": ("W", "output power of the converter"),
    "p_in_w": ("W", "input power"),
    "v_in_v": ("V", "input voltage"),
    "v_out_v": ("V", "output voltage"),
    "shelf_loss_w": ("W", "loss of the rack's power shelves"),
    "vrm_loss_w": ("W", "loss of the rack's voltage regulators"),
    "stage_loss_w": ("W", "losses by conversion stage"),
    "kind_loss_w": ("W", "losses by element kind"),
    "ampacity_a": ("A", "current rating of the line (all its parallel circuits)"),
    "line_loading": ("1", "|current| / current rating of the line"),
    "rating_method": ("1", "how the rating was found: given, iec60287, canalis_ktc (a vendor table), '' unrated"),
    "temp_k": ("K", "conductor temperature of the line's resistance"),
    "bus_distance_m": ("m", "route length along the lines from the nearest feed of the bus's level (a station, or "
                            "the converter feeding it); NaN where no feed reaches it"),
}

STAGES = ("ac_dc_station", "distribution", "dc_dc_converter", "rack_shelf", "rack_vrm")


def _var(dim: str, name: str, values, unit: str | None = None, long_name: str | None = None):
    u, ln = RESULT_VARIABLES.get(name, (unit, long_name))
    values = np.asarray(values)
    # An array of numbers or strings is taken as it is (xarray's fast path: what its checks would leave of it);
    # objects, dates and times go through them.
    return xr.Variable(dim, values, attrs={"units": unit or u, "long_name": long_name or ln},
                       fastpath=values.dtype.kind not in "OMm")


def make_dataset(variables: dict, coords: dict, attrs: dict, built: tuple | None = None) -> xr.Dataset:
    """The results Dataset of ``variables`` (``xarray.Variable``), each dimension indexed by its coordinate in
    ``coords`` (element ids, stage names), made once: the indexes are built here from the values as they are,
    so xarray neither infers their type nor realigns the variables (a third of the results' cost at 10⁵ buses).
    ``built``: ``(index variables, indexes)`` of some of these dimensions already built from the same values
    (:func:`coordinate_indexes`), taken for them as they are.
    """
    index_vars, indexes = coordinate_indexes({dim: values for dim, values in coords.items()
                                              if built is None or dim not in built[1]})
    if built is not None:  # the coordinates in the order of ``coords``
        indexes = {dim: indexes[dim] if dim in indexes else built[1][dim] for dim in coords}
        index_vars = {dim: index_vars[dim] if dim in index_vars else built[0][dim] for dim in coords}
    return dataset_of(variables, index_vars, indexes, attrs)


def coordinate_indexes(coords: dict) -> tuple[dict, dict]:
    """The index variables and the indexes (``xarray.indexes.PandasIndex``) of the dimensions ``coords``
    (dimension → values), built from the values as they are (object arrays kept as objects)."""
    indexes = {}
    for dim, values in coords.items():
        values = np.asarray(values)
        index = pd.Index(values, dtype=object, copy=False) if values.dtype == object else pd.Index(values)
        indexes[dim] = PandasIndex(index, dim, coord_dtype=values.dtype)
    return {k: v for index in indexes.values() for k, v in index.create_variables().items()}, indexes


def dataset_of(variables: dict, index_vars: dict, indexes: dict, attrs: dict) -> xr.Dataset:
    """The Dataset of ``variables`` (``xarray.Variable``, taken as they are, not copied) and the index variables
    and indexes of its coordinates, as ``xr.Dataset(variables, coords=xr.Coordinates(index_vars,
    indexes=indexes), attrs=attrs)`` makes it (the same variables in the same order, the same dimensions), without
    its merge: the constructor copies and checks every variable against every other (about 1.3 ms at 10⁵ buses,
    as much as the rest of the results). The dimensions are checked here: every variable's length along a
    dimension must be the same."""
    if not hasattr(xr.Dataset, "_construct_direct"):  # (an xarray without it: the public constructor)
        return xr.Dataset(variables, coords=xr.Coordinates(index_vars, indexes=indexes), attrs=attrs)
    both = {**variables}
    for name, var in index_vars.items():
        if name in both:
            raise ValueError(f"variable {name!r} has the name of a coordinate")
        both[name] = var
    dims = {}
    for name, var in both.items():
        if not isinstance(var, xr.Variable):
            raise TypeError(f"variable {name!r} is a {type(var).__name__}, not an xarray.Variable")
        for dim, size in zip(var.dims, var.shape):
            if dims.setdefault(dim, size) != size:
                raise ValueError(f"conflicting sizes for dimension {dim!r}: {size} in variable {name!r}, "
                                 f"{dims[dim]} before it")
    return xr.Dataset._construct_direct(both, set(index_vars), dims, dict(attrs), dict(indexes))


def build_dataset(case, net, st, *, version: str, p_it=None, line_temp=None, figures: CaseFigures | None = None
                  ) -> xr.Dataset:
    """The results dataset of a converged DC solve (see the module docstring for conventions).

    ``p_it`` [W]: the racks' IT power when it differs from the case's (chip leakage at the coolant's
    temperature); ``rack_p_it_w`` then holds it and ``rack_p_it_ref_w`` the case's value. ``line_temp`` [K]: the
    conductor temperatures the line resistances were taken at, when they came from the load (``[solver]
    conductor_temperature = "from_load"``); else the case's ``conductor_temp_k``. ``figures``: the case's
    :class:`~gigawatt.solver.dc.case_figures.CaseFigures`, if already started (see :func:`rows_dataset`).
    """
    t = case.tables
    pos = net.pos
    p_dc, loss_src = _per_row(net, st, "source", len(t["source"]))
    p_out, loss_conv = _per_row(net, st, "converter", len(t["converter"]))
    v_row, p_load_row, level_row = by_row(pos, st.v, st.p_load, net.level)
    flows = RowFlows(v_v=v_row, p_load_w=p_load_row, level=level_row, line_i_a=st.line_i,
                     line_r_ohm=net.line_r, line_in_service=net.line_in_service, p_dc_w=p_dc, source_loss_w=loss_src,
                     p_out_w=p_out, converter_loss_w=loss_conv, rack_p_in_w=net.rack_p_in,
                     shelf_loss_w=net.rack_shelf_loss, vrm_loss_w=net.rack_vrm_loss, rack_p_it_w=net.rack_p_it)
    return rows_dataset(case, flows, version=version, p_it=p_it, line_temp=line_temp, iterations=st.iterations,
                        max_mismatch_a=st.max_mismatch_a, figures=figures)


@dataclass(frozen=True)
class RowFlows:
    """A DC solve's figures by table row (the interface between a DC load flow and its results Dataset):
    voltages [V] and constant-power loads [W] per bus row, the level per bus row, line currents [A] (NaN out of
    service) and loop resistances [Ω], each source's DC output and conversion loss [W], each converter's output
    and loss [W] (0 out of service), and each rack's input, shelf and regulator losses [W]."""

    v_v: np.ndarray
    p_load_w: np.ndarray
    level: np.ndarray
    line_i_a: np.ndarray
    line_r_ohm: np.ndarray
    line_in_service: np.ndarray
    p_dc_w: np.ndarray
    source_loss_w: np.ndarray
    p_out_w: np.ndarray
    converter_loss_w: np.ndarray
    rack_p_in_w: np.ndarray
    shelf_loss_w: np.ndarray
    vrm_loss_w: np.ndarray
    rack_p_it_w: np.ndarray | None = None  # the case's chip powers, when the assembly found them


def rows_dataset(case, f: RowFlows, *, version: str, p_it=None, line_temp=None, iterations: int = 0,
                 max_mismatch_a: float = 0.0, extra: dict | None = None, extra_coords: dict | None = None,
                 other_supply_w: float = 0.0, other_load_w: float = 0.0, figures: CaseFigures | None = None
                 ) -> xr.Dataset:
    """The results Dataset of a DC solve from its figures by table row (see :func:`build_dataset`).

    ``extra`` / ``extra_coords``: further variables and their dimensions (the DC grid elements);
    ``other_supply_w`` [W]: what elements other than the stations deliver into the DC network (set-power
    terminals), ``other_load_w`` [W]: what loads other than the racks draw (conductance loads); both enter the
    ledger, ``p_grid + other_supply = p_it + losses + other_load``. ``figures``: the case's
    :class:`~gigawatt.solver.dc.case_figures.CaseFigures` (bus distances and line ratings), when the caller
    started them before solving; used when they are for ``f.line_in_service``.
    """
    t = case.tables
    bus, lines, src, conv, racks = t["bus"], t["line"], t["source"], t["converter"], t["rack"]
    v_row = f.v_v
    coords = {"bus": bus["id"].to_numpy(), "line": lines["id"].to_numpy(), "source": src["id"].to_numpy(),
              "converter": conv["id"].to_numpy(), "rack": racks["id"].to_numpy(), "stage": list(STAGES)}
    if figures is None or not figures.uses_lines(f.line_in_service):
        figures = CaseFigures(case, f.line_in_service, background=False)
    # Asked for in the order the worker finds them (the distances last).
    ratings = figures.get("line_ratings")
    echoed, built = figures.get("result_inputs")  # the echoed columns and the indexes: found beside the solve

    # Variables are gathered and the Dataset made once: each ds[name] = ... merges and realigns every index
    # (20 ms an assignment on the default case, three quarters of its solve).
    ds = {}
    ds["v_v"] = _var("bus", "v_v", v_row)
    ds["v_nominal_v"] = echoed["bus", "v_nominal_v"]
    ds["v_pu"] = _var("bus", "v_pu", v_row / bus["v_nominal_v"].to_numpy(float))
    ds["p_load_w"] = _var("bus", "p_load_w", f.p_load_w)
    ds["level"] = _var("bus", "level", f.level)
    ds["bus_distance_m"] = _var("bus", "bus_distance_m", figures.get("bus_distance_m"))

    line_loss = np.square(f.line_i_a)  # I²R, built in place: at 10⁶ lines every temporary is 8 MB
    line_loss *= f.line_r_ohm
    line_loss[~f.line_in_service] = 0.0
    ds["i_a"] = _var("line", "i_a", f.line_i_a)
    ds["line_p_loss_w"] = _var("line", "p_loss_w", line_loss)
    ds["r_ohm"] = xr.Variable("line", f.line_r_ohm, attrs={"units": unit_of("line", "r_ohm"),
                                                           "long_name": "loop resistance"})
    for field in ("from_bus", "to_bus", "kind", "length_m"):
        ds[f"line_{field}"] = echoed["line", field]
    add_line_ratings(ds, case, np.abs(f.line_i_a), line_temp, ratings)

    p_dc, loss_src = f.p_dc_w, f.source_loss_w
    ds["p_dc_w"] = _var("source", "p_dc_w", p_dc)
    ds["source_loss_w"] = _var("source", "loss_w", loss_src)
    ds["source_p_grid_w"] = _var("source", "p_grid_w", p_dc + loss_src)
    ds["source_loading"] = _var("source", "loading", p_dc / src["rated_power_w"].to_numpy(float))
    ds["source_v_v"] = _var("source", "v_v", v_row[case.ref_rows("source", "bus")])
    ds["source_kind"] = echoed["source", "kind"]
    ds["source_two_way"] = echoed["source", "two_way"]

    p_out, loss_conv = f.p_out_w, f.converter_loss_w
    ds["p_out_w"] = _var("converter", "p_out_w", p_out)
    ds["converter_loss_w"] = _var("converter", "loss_w", loss_conv)
    ds["converter_p_in_w"] = _var("converter", "p_in_w", p_out + loss_conv)
    ds["converter_loading"] = _var("converter", "loading", p_out / conv["rated_power_w"].to_numpy(float))
    ds["v_in_v"] = _var("converter", "v_in_v", v_row[case.ref_rows("converter", "from_bus")])
    ds["v_out_v"] = _var("converter", "v_out_v", v_row[case.ref_rows("converter", "to_bus")])
    ds["converter_two_way"] = echoed["converter", "two_way"]

    ds.update(rack_power_variables(case, f.rack_p_in_w, f.shelf_loss_w, f.vrm_loss_w, p_it, f.rack_p_it_w))
    ds["rack_v_v"] = _var("rack", "v_v", v_row[case.ref_rows("rack", "bus")])
    ds["rack_bus"] = echoed["rack", "bus"]

    coords["kind"] = _ledger(ds, src, line_loss, loss_src, loss_conv, case.codes("line", "kind"), other_supply_w,
                             other_load_w)
    attrs = ds.pop("attrs")
    ds.update(extra or {})
    coords.update(extra_coords or {})
    ds = make_dataset(ds, coords, attrs, built)
    ds.attrs["warnings"] = _warnings(ds)
    ds.attrs.update({
        "title": f"gigawatt DC load flow of case '{case.name}'",
        "case_name": case.name, "case_hash": case.hash(), "case_file": case.file or "",
        "gigawatt_version": version, "converged": 1, "iterations": iterations,
        "max_mismatch_a": max_mismatch_a,
        "sign_convention": "powers positive from grid towards chips; line current positive from from_bus to to_bus",
    })
    return ds


ECHOED = (("bus", "v_nominal_v"), ("line", "from_bus"), ("line", "to_bus"), ("line", "kind"), ("line", "length_m"),
          ("source", "kind"), ("source", "two_way"), ("converter", "two_way"), ("rack", "bus"))
"""The case's columns (table, field) the DC results echo."""


def result_inputs(case) -> tuple[dict, tuple]:
    """What the DC results take of the case's tables alone: the echoed columns (:data:`ECHOED`) as variables,
    keyed ``(table, field)``, and the index variables and indexes of the elements' dimensions and of ``stage``
    (:func:`coordinate_indexes`). Each results Dataset gets its own (:class:`~gigawatt.solver.dc.case_figures.
    CaseFigures` makes them once per solve)."""
    t = case.tables
    echo = {(table, field): echo_variable(table, table, t[table], field) for table, field in ECHOED}
    coords = {dim: t[dim]["id"].to_numpy() for dim in ("bus", "line", "source", "converter", "rack")}
    coords["stage"] = list(STAGES)
    return echo, coordinate_indexes(coords)


def bus_distance_m(case, line_in_service) -> np.ndarray:
    """Route length [m] of each bus (by table row) from the nearest feed of its level along the in-service
    lines: shortest paths (Dijkstra, :func:`gigawatt.solver.dc.distances.shortest_distances`) from every
    source's bus and every converter's output bus; parallel lines count once (the shortest), NaN where no feed
    reaches the bus."""
    from gigawatt.solver.dc.distances import shortest_distances

    n_bus = len(case.tables["bus"])
    live = np.asarray(line_in_service, bool)
    a, b = case.ref_rows("line", "from_bus"), case.ref_rows("line", "to_bus")
    length = case.tables["line"]["length_m"].to_numpy(float)
    if not live.all():  # (every line in service: no gathered copies)
        a, b, length = a[live], b[live], length[live]
    feeds = np.unique(np.concatenate([case.ref_rows("source", "bus"), case.ref_rows("converter", "to_bus")]))
    return shortest_distances(n_bus, a, b, length, feeds.astype(np.int64))


def rack_power_variables(case, rack_p_in_w, shelf_loss_w, vrm_loss_w, p_it=None, case_p_it=None) -> dict:
    """The racks' power variables: ``rack_p_it_w`` at the chips (``p_it``, else the case's p_it_w on its basis
    turned to the chips) with ``rack_p_it_ref_w`` the case's when ``p_it`` is given (leakage), the rack input
    ``rack_p_in_w`` and the shelf and regulator losses. ``case_p_it``: the case's chip powers when the
    assembly already found them (the racks draw for them without ``p_it``)."""
    case_p_it = chip_powers(case) if p_it is not None or case_p_it is None else np.array(case_p_it, copy=True)
    out = {"rack_p_it_w": _var("rack", "p_it_w", case_p_it, "W",
                          "power at the chips (the case's p_it_w on its p_it_basis, at the chips)")}
    if p_it is not None:
        out["rack_p_it_ref_w"] = _var("rack", "p_it_w", out["rack_p_it_w"].values, "W",
                                 "power at the chips at the leakage reference temperature (from the case's p_it_w)")
        out["rack_p_it_w"] = _var("rack", "p_it_w", p_it, "W", "power at the chips at their operating temperature")
    out["rack_p_in_w"] = _var("rack", "p_in_w", rack_p_in_w)
    out["shelf_loss_w"] = _var("rack", "shelf_loss_w", shelf_loss_w)
    out["vrm_loss_w"] = _var("rack", "vrm_loss_w", vrm_loss_w)
    return out


def add_line_ratings(ds: dict, case, current, line_temp=None, ratings=None) -> None:
    """Each line's rating, the method that gave it, its loading |current|/rating (``current`` [A]: the
    largest conductor current of the line) and its conductor temperature, into the variables ``ds``.
    ``ratings``: :func:`gigawatt.solver.dc.ratings.case_line_ratings` if already found."""
    lines = case.tables["line"]
    rating, method = case_line_ratings(case) if ratings is None else ratings
    ds["line_ampacity_a"] = _var("line", "ampacity_a", rating)
    ds["line_loading"] = _var("line", "line_loading", line_loading(current, rating))
    ds["line_rating_method"] = _var("line", "rating_method", method)
    temp = lines["conductor_temp_k"].to_numpy(float, copy=True) if line_temp is None else line_temp
    ds["line_temp_k"] = _var("line", "temp_k", temp, long_name="conductor temperature of the line's resistance"
                             + (" (from its load)" if line_temp is not None else " (the case's conductor_temp_k)"))


def _per_row(net, st, table: str, n_rows: int):
    """Output power and loss [W] of each row of the source or converter table (0 out of service)."""
    mine = net.feeds.table == table
    p, loss = np.zeros(n_rows), np.zeros(n_rows)
    p[net.feeds.row[mine]] = st.feed_p[mine]
    loss[net.feeds.row[mine]] = st.feed_loss[mine]
    return p, loss


def _ledger(ds: dict, src, line_loss, loss_src, loss_conv, line_kind, other_supply_w: float = 0.0,
            other_load_w: float = 0.0) -> list:
    """Energy ledger: grid power (+ what set-power terminals deliver, ``other_supply_w``) = IT power + every
    loss (+ what conductance loads draw, ``other_load_w``), with its relative residual, into the variables
    ``ds`` (with their ``"attrs"``); returns the ``kind`` coordinate. ``line_kind``: the lines' kind as
    :meth:`gigawatt.cases.case.Case.codes` gives it."""
    def total(name):  # as xarray sums (NaN skipped), on the arrays themselves
        x = ds[name].values
        s = x.sum()  # without a NaN, the sum; a NaN makes it NaN, and it is summed again without them
        return float(np.where(np.isnan(x), 0.0, x).sum() if np.isnan(s) else s)

    p_grid = total("source_p_grid_w")
    p_it = total("rack_p_it_w")
    stage = np.array([loss_src.sum(), line_loss.sum(), loss_conv.sum(), total("shelf_loss_w"), total("vrm_loss_w")])
    ds["stage_loss_w"] = _var("stage", "stage_loss_w", stage)
    from gigawatt.cases.schema import schema

    kinds = {f"station_{k}": loss_src[src["kind"].to_numpy() == k].sum() for k in schema()["source"]["kind"].choices}
    code, labels = line_kind
    kinds.update({f"line_{k}": line_loss[code == labels.index(k)].sum() for k in ("cable", "busway", "busbar")})
    kinds.update({"dc_dc_converter": stage[2], "rack_shelf": stage[3], "rack_vrm": stage[4]})
    ds["kind_loss_w"] = _var("kind", "kind_loss_w", list(kinds.values()))
    residual = (abs(p_grid + other_supply_w - p_it - stage.sum() - other_load_w)
                / max(abs(p_grid) + abs(other_supply_w), 1e-300))
    ds["attrs"] = {"p_grid_w": p_grid, "p_it_w": p_it, "p_loss_w": float(stage.sum()),
                   "efficiency_grid_to_chip": _efficiency(p_it, p_grid + other_supply_w - other_load_w),
                   "energy_balance_residual": residual}
    if other_supply_w or other_load_w:
        ds["attrs"].update({"p_dc_terminals_w": float(other_supply_w), "p_dc_conductances_w": float(other_load_w)})
    ds["attrs"].update({f"{k}_w": float(v) for k, v in boundary_powers(p_it, stage[4], stage[3]).items()
                        if k != "p_it"})
    return list(kinds)


def _efficiency(p_it: float, p_in: float) -> float:
    """IT power over what the DC network takes in for the racks [W]: the grid's draw, plus what set-power
    terminals deliver, minus what conductance loads take (without them: p_it / p_grid)."""
    return p_it / p_in if p_in > 0 else float("nan")


def _warnings(ds) -> str:
    """Operating points that solve but that the equipment cannot hold: a station or converter absorbing power
    (unless declared ``two_way``: rectifiers and SSTs are unidirectional otherwise), or loaded beyond its
    rating; a line loaded above its current rating. One line each."""
    out = []
    var = ds.variables  # the arrays themselves: ds[name] would build a DataArray with its coordinates
    for dim, loading in (("source", "source_loading"), ("converter", "converter_loading")):
        ids, x = var[dim].values, var[loading].values
        two_way = var[f"{dim}_two_way"].values.astype(bool) if f"{dim}_two_way" in var else np.zeros(x.size, bool)
        for i in np.flatnonzero((x < -1e-9) & ~two_way)[:5]:
            out.append(f"{dim} '{ids[i]}' absorbs {-x[i] * 100:.1f} % of its rating (it cannot feed power back)")
        for i in np.flatnonzero(x > 1.0)[:5]:
            out.append(f"{dim} '{ids[i]}' is loaded to {x[i] * 100:.1f} % of its rating")
    if "line_loading" in var:
        out += loading_warnings(var["line"].values, var["line_loading"].values, var["line_rating_method"].values)
    return "\n".join(out)
