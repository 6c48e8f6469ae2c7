"""Assembly: validated element tables → typed arrays in breadth-first order, grouped by voltage level.

A *zone* is a set of buses joined by lines. Converters join zones: a DC/DC converter holds the voltage of
its output zone like a source and draws its output power plus its losses, a constant power, from its input
bus. Zones fed through converters are solved first (deepest level first), so each converter's input power
is known when the zone above it is solved: the coupled problem is solved exactly, level by level.

Within all zones of one level, buses are numbered in breadth-first order of a spanning tree (parents before
children), which is what the O(N) tree elimination of :mod:`gigawatt.solver.dc.kernel` needs; the lines not
in the tree are the *links* that close rings.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gigawatt.cases.case import Case
from gigawatt.errors import CaseError
from gigawatt.models.conductors import MATERIALS, T20_K, conductor_resistance
from gigawatt.models.racks import chip_powers, rack_powers
from gigawatt.solver.dc.ordering import (line_loop_resistances, network_arrays, rack_loads, rows_and_zones,
                                         tree_order)

STIFF_DROOP = 1e-12
"""Droop [pu] below which a source or converter is a stiff feed: it moves the voltage by less than 1e-12 of its
set-point at rated power, below the load flow's tolerance (the default 1e-11)."""


@dataclass(frozen=True)
class Feeds:
    """Sources and converter outputs together: everything that sets a zone's voltage. Bus indices are
    solver positions."""

    table: np.ndarray  # "source" or "converter"
    row: np.ndarray  # row in that table
    ids: np.ndarray  # element id
    loss_model: np.ndarray  # loss model name ('' = lossless)
    bus: np.ndarray  # output bus position
    input_bus: np.ndarray  # input bus position for converters, −1 for grid-fed sources
    v_set: np.ndarray  # [V]
    droop: np.ndarray  # [pu]
    rated: np.ndarray  # [W]
    k_droop: np.ndarray  # [W/V], 0 for stiff feeds
    stiff: np.ndarray  # bool


@dataclass(frozen=True)
class Zones:
    """Zones in solve order: each a contiguous range of bus positions and of links."""

    start: np.ndarray
    end: np.ndarray
    link_start: np.ndarray
    link_end: np.ndarray
    v_nominal: np.ndarray  # [V] lowest nominal voltage in the zone, to scale its tolerance
    g_max: np.ndarray  # [S] largest Σ_j g_ij + K_i over the zone's buses: sets its rounding floor
    levels: list  # [(level, first zone, end zone)], deepest level first


@dataclass(frozen=True)
class Network:
    """Typed arrays of a case, ready for the kernels. ``pos`` maps a bus-table row to its solver position;
    everything indexed by bus below is in solver positions unless it says otherwise."""

    n_bus: int
    pos: np.ndarray  # bus-table row → position
    bus_row: np.ndarray  # position → bus-table row
    v_nominal: np.ndarray  # [V]
    parent: np.ndarray  # parent position, −1 at a zone root
    g_parent: np.ndarray  # [S] conductance to the parent (parallel lines summed), 0 at roots
    up: np.ndarray  # parent position, or the bus itself at a root (for branch-free kernel loops)
    g_couple: np.ndarray  # [S] g_parent where neither the bus nor its parent is stiff, else 0
    tree_line: np.ndarray  # a line-table row on the edge to the parent, −1 at roots
    zone: np.ndarray  # zone (index in solve order) of each position
    level: np.ndarray  # level of each position (0 = fed from the grid)
    fixed: np.ndarray  # bool: held by a stiff source or converter
    v_start: np.ndarray  # [V] initial voltages (set-points)
    k_droop: np.ndarray  # [W/V] per bus
    kv_droop: np.ndarray  # [W] per bus
    zones: "Zones"
    link_a: np.ndarray
    link_b: np.ndarray
    link_g: np.ndarray
    link_line: np.ndarray  # line-table row of each link
    line_in_service: np.ndarray  # bool per line-table row
    line_from: np.ndarray  # position (−1 if out of service)
    line_to: np.ndarray
    line_r: np.ndarray  # [Ω] (NaN if out of service)
    feeds: Feeds
    rack_bus: np.ndarray  # position
    rack_p_it: np.ndarray  # [W] at the chips of each rack (what its draw follows from)
    rack_p_in: np.ndarray  # [W] drawn by each rack
    rack_shelf_loss: np.ndarray  # [W]
    rack_vrm_loss: np.ndarray  # [W]
    rack_load: np.ndarray  # [W] per bus position: sum of rack input powers
    element_bus: dict  # {"source": bus position per source row, "converter_from": …, "converter_to": …}


def conductor_properties(lines: pd.DataFrame, material: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Resistivity at 20 °C [Ω·m] and temperature coefficient [1/K] of each line's conductor: given, or its
    material's (IEC 60287-1-1 Table 1, :data:`gigawatt.models.conductors.MATERIALS`).

    ``material``: the lines' material as ``(code, labels)`` (see :meth:`gigawatt.cases.case.Case.codes`),
    when known; else looked up from the names.
    """
    code, labels = material if material is not None else (None, tuple(MATERIALS))
    if code is None:
        code = pd.Index(labels).get_indexer(lines["material"].to_numpy())
    rho = lines["rho20_ohm_m"].to_numpy(dtype=float)
    alpha = lines["alpha_per_k"].to_numpy(dtype=float)
    rho_of, alpha_of = _material_constants(labels)
    return np.where(np.isnan(rho), rho_of[code], rho), np.where(np.isnan(alpha), alpha_of[code], alpha)


def _material_constants(labels) -> tuple[np.ndarray, np.ndarray]:
    """ρ20 [Ω·m] and α [1/K] of each material label (NaN for an unknown one), with a last NaN entry for code −1
    (no such material)."""
    none = {"rho20_ohm_m": np.nan, "alpha_per_k": np.nan}
    of = [MATERIALS.get(k, none) for k in labels] + [none]
    return np.array([p["rho20_ohm_m"] for p in of]), np.array([p["alpha_per_k"] for p in of])


def line_resistance(lines: pd.DataFrame, material: tuple | None = None) -> np.ndarray:
    """Loop resistance [Ω] of each line: given ``r_ohm``, or from material, geometry and temperature
    (``material``: see :func:`conductor_properties`)."""
    rho, alpha = conductor_properties(lines, material)
    r_given = lines["r_ohm"].to_numpy(dtype=float)
    area = lines["cross_section_m2"].to_numpy(dtype=float)
    need = np.isnan(r_given) & np.isnan(area)
    if need.any():
        i = int(np.flatnonzero(need)[0])
        raise CaseError("a line needs cross_section_m2 (with its material) or r_ohm",
                        element=f"line '{lines['id'].iloc[i]}'",
                        field="cross_section_m2")
    r_geom = conductor_resistance(lines["length_m"].to_numpy(dtype=float), area, rho, alpha,
                                  lines["conductor_temp_k"].to_numpy(dtype=float),
                                  lines["loop_factor"].to_numpy(dtype=float), lines["n_parallel"].to_numpy(dtype=float))
    return np.where(np.isnan(r_given), r_geom, r_given)


def _feeds(case: Case):
    src, conv = case.tables["source"], case.tables["converter"]
    src_live = src["in_service"].to_numpy(dtype=bool)
    conv_live = conv["in_service"].to_numpy(dtype=bool)

    def both(field, dtype=None):  # the in-service sources' values, then the in-service converters'
        return np.concatenate([src[field].to_numpy(dtype)[src_live], conv[field].to_numpy(dtype)[conv_live]])

    n_src = int(src_live.sum())
    table = np.concatenate([np.full(n_src, "source", dtype=object),
                            np.full(int(conv_live.sum()), "converter", dtype=object)])
    row = np.concatenate([np.flatnonzero(src_live), np.flatnonzero(conv_live)])
    ids = both("id").astype(object)
    loss_model = both("loss_model").astype(object)
    bus = np.concatenate([case.ref_rows("source", "bus")[src_live], case.ref_rows("converter", "to_bus")[conv_live]])
    input_bus = np.concatenate([np.full(n_src, -1), case.ref_rows("converter", "from_bus")[conv_live]])
    v_set = both("v_set_v", float)
    droop = both("droop", float)
    rated = both("rated_power_w", float)
    # A droop that moves the voltage by less than STIFF_DROOP of v_set at rated power is a stiff feed: its
    # slope k would be beyond float64's range (droop 1e-308 makes k infinite) or beyond the solver's tolerance.
    stiff = droop < STIFF_DROOP
    k = np.where(stiff, 0.0, rated / np.where(stiff, 1.0, droop * v_set))
    return table, row, ids, loss_model, bus, input_bus, v_set, droop, rated, k, stiff


def assemble(case: Case, *, figures=None) -> Network:
    """Turn a validated case into a :class:`Network` (typed arrays, breadth-first order, levels). ``figures``:
    the case's :class:`~gigawatt.solver.dc.case_figures.CaseFigures`, when started (the line resistances and
    the racks' chip and input powers are taken from it)."""
    buses = case.tables["bus"]
    n = len(buses)
    _refuse_grid_elements(case)
    if n == 0:
        raise CaseError("the case has no buses", file=case.file, field="bus")
    bus_ids = buses["id"].to_numpy()
    live = np.flatnonzero(case.tables["line"]["in_service"].to_numpy(dtype=bool))
    frm, to = case.ref_rows("line", "from_bus"), case.ref_rows("line", "to_bus")
    every = live.size == frm.size  # every line in service: no gathered copies
    if not every:
        frm, to = frm[live], to[live]

    # Zones: connected components over lines; each needs a feed. (The line resistances meanwhile on the worker.)
    *rows, n_zone, zone_of_row = rows_and_zones(n, frm, to)  # the lines from each bus, and to it; the zones
    in_service, r, frm_all, to_all = _lines(case) if figures is None else figures.get("lines")
    g = 1.0 / (r if every else r[live])
    zone_of_row = zone_of_row.astype(np.int32)  # as scipy's connected_components labels them
    f_table, f_row, f_ids, f_loss, f_bus, f_in, f_vset, f_droop, f_rated, f_k, f_stiff = _feeds(case)
    _check_fed(case, bus_ids, zone_of_row, n_zone, f_bus)
    fixed_row, v_fixed = _stiff_buses(case, n, f_table, f_row, f_bus, f_vset, f_stiff)
    zone_level = _zone_levels(case, n_zone, zone_of_row, f_table, f_row, f_bus, f_in)

    bus_row, pred_row, g_parent, tree_edge, in_tree = _tree(n, g, zone_of_row, zone_level, f_bus, f_rated, f_stiff,
                                                            rows)
    zone_v = np.zeros(n_zone)
    np.maximum.at(zone_v, zone_of_row[f_bus], f_vset)
    idx = np.int32 if n < 2**31 - 1 else np.int64  # index arrays: half the memory
    pos_i, bus_row_i, tree_line, zone, level = (np.empty(n, dtype=idx) for _ in range(5))
    line_from, line_to = np.empty(in_service.size, dtype=idx), np.empty(in_service.size, dtype=idx)
    # Positions, parents, zones in solve order (each a contiguous range of positions), links grouped by zone,
    # droop per bus, start voltages (the set-points of each zone): one kernel.
    (pos, parent, up, fixed, v_nominal, v_start, k_droop, kv_droop, g_couple, zone_start, zone_end, link_start,
     link_end, zone_v_nominal, zone_g_max, zone_lev, link_a, link_b, link_g, link_line) = network_arrays(
        bus_row, pred_row, g_parent, tree_edge, in_tree, live, frm, to, g, zone_of_row, zone_level, fixed_row,
        v_fixed, zone_v, buses["v_nominal_v"].to_numpy(float), f_bus, f_k, f_vset, frm_all, to_all, in_service,
        pos_i, bus_row_i, tree_line, zone, level, line_from, line_to)
    levels = [(int(lev), int(np.searchsorted(-zone_lev, -lev, side="left")),
               int(np.searchsorted(-zone_lev, -lev, side="right"))) for lev in np.unique(zone_lev)[::-1]]
    zones = Zones(zone_start, zone_end, link_start, link_end, zone_v_nominal, zone_g_max, levels)
    fb = pos[f_bus]
    rack_bus = case.ref_rows("rack", "bus")
    # Kept: the results report it (on an input basis it is a root, found once).
    if figures is None:
        p_it = chip_powers(case)
        p_in, shelf_loss, vrm_loss = rack_powers(case, p_it)
    else:
        p_it, (p_in, shelf_loss, vrm_loss) = figures.get("rack_p_it_w"), figures.get("rack_powers")
    rack_pos, rack_load = np.empty(rack_bus.size, dtype=idx), np.zeros(n)
    rack_loads(pos, rack_bus, p_in, rack_pos, rack_load)

    def positions(table, field):
        return pos[case.ref_rows(table, field)]

    return Network(
        n_bus=n, pos=pos_i, bus_row=bus_row_i, v_nominal=v_nominal, parent=parent, g_parent=g_parent,
        up=up, g_couple=g_couple, tree_line=tree_line, zone=zone, level=level,
        fixed=fixed, v_start=v_start, k_droop=k_droop, kv_droop=kv_droop, zones=zones,
        link_a=link_a, link_b=link_b, link_g=link_g, link_line=link_line, line_in_service=in_service,
        line_from=line_from, line_to=line_to, line_r=r,
        feeds=Feeds(f_table, f_row, f_ids, f_loss, fb, np.where(f_in >= 0, pos[np.maximum(f_in, 0)], -1), f_vset,
                    f_droop, f_rated, f_k, f_stiff),
        rack_bus=rack_pos, rack_p_it=p_it, rack_p_in=p_in, rack_shelf_loss=shelf_loss, rack_vrm_loss=vrm_loss,
        rack_load=rack_load,
        element_bus={"source": positions("source", "bus"), "converter_from": positions("converter", "from_bus"),
                     "converter_to": positions("converter", "to_bus")})


def _refuse_grid_elements(case: Case) -> None:
    """Set-power terminals, conductance loads and ratio- or power-controlled DC/DC converters are solved by
    the DC grid load flow (:mod:`gigawatt.solver.dc.meshed`: :func:`gigawatt.solve_dc_grid`, and
    :func:`gigawatt.solve`'s DC stage), not by this level-by-level load flow."""
    for table in ("dc_terminal", "dc_conductance"):
        t = case.tables[table]
        if len(t) and t["in_service"].to_numpy(bool).any():
            i = int(np.flatnonzero(t["in_service"].to_numpy(bool))[0])
            raise CaseError(f"{table} elements are solved by gigawatt.solve and gigawatt.solve_dc_grid; the "
                            "level-by-level load flow (contingencies, fault currents, swings) does "
                            "not take them yet", file=case.file,
                            element=f"{table} '{t['id'].iloc[i]}'", allowed="gigawatt.solve_dc_grid")
    conv = case.tables["converter"]
    other = (conv["control"].to_numpy() != "voltage") & conv["in_service"].to_numpy(bool)
    if other.any():
        i = int(np.flatnonzero(other)[0])
        raise CaseError("ratio- and power-controlled DC/DC converters are solved by gigawatt.solve and "
                        "gigawatt.solve_dc_grid; the level-by-level load flow (contingencies, fault "
                        "currents, swings) takes voltage control only", file=case.file,
                        element=f"converter '{conv['id'].iloc[i]}'", field="control", value=conv["control"].iloc[i],
                        allowed="voltage here, or gigawatt.solve_dc_grid")


def _lines(case: Case):
    """In-service mask, loop resistance [Ω] (NaN out of service) and end-bus rows of every line: one kernel
    (:func:`gigawatt.solver.dc.ordering.line_loop_resistances`, the numbers of :func:`line_resistance`) that
    releases the GIL, so that a :class:`~gigawatt.solver.dc.case_figures.CaseFigures` worker finding them keeps
    it free for the assembly."""
    lines = case.tables["line"]
    in_service = lines["in_service"].to_numpy(dtype=bool)
    code, labels = case.codes("line", "material")
    rho_of, alpha_of = _material_constants(labels)
    frm = case.ref_rows("line", "from_bus")
    to = case.ref_rows("line", "to_bus")

    def col(name):
        return lines[name].to_numpy(dtype=float)

    r, missing, self_loop = line_loop_resistances(
        in_service, code, rho_of, alpha_of, col("rho20_ohm_m"), col("alpha_per_k"), col("r_ohm"),
        col("cross_section_m2"), col("length_m"), col("conductor_temp_k"), col("loop_factor"), col("n_parallel"), T20_K,
        frm, to)
    if missing >= 0:
        raise CaseError("a line needs cross_section_m2 (with its material) or r_ohm", file=case.file,
                        element=f"line '{lines['id'].iloc[missing]}'", field="cross_section_m2")
    if self_loop >= 0:
        raise CaseError("a line must join two different buses", file=case.file,
                        element=f"line '{lines['id'].iloc[self_loop]}'", field="to_bus",
                        value=lines["to_bus"].iloc[self_loop])
    return in_service, r, frm, to


def _check_fed(case: Case, bus_ids, zone_of_row, n_zone: int, f_bus):
    """Every zone (island) needs a source or a converter output."""
    fed = np.zeros(n_zone, dtype=bool)
    fed[zone_of_row[f_bus]] = True
    if not fed.all():
        z = int(np.flatnonzero(~fed)[0])
        members = bus_ids[zone_of_row == z]
        shown = ", ".join(f"'{b}'" for b in members[:8]) + (f" and {members.size - 8} more" if members.size > 8 else "")
        raise CaseError(f"island without a source: no source or converter feeds bus(es) {shown}", file=case.file,
                        element=f"bus '{members[0]}'",
                        allowed="every connected group of buses fed by a source or converter")


def _stiff_buses(case: Case, n: int, f_table, f_row, f_bus, f_vset, f_stiff):
    """Buses held by stiff feeds and their set-points [V]; one set-point per bus."""
    fixed_row = np.zeros(n, dtype=bool)
    v_fixed = np.full(n, np.nan)
    for j in np.flatnonzero(f_stiff):
        b = f_bus[j]
        if fixed_row[b] and abs(v_fixed[b] - f_vset[j]) > 1e-9 * f_vset[j]:
            raise CaseError("two stiff sources hold the same bus at different set-points", file=case.file,
                            element=f"{f_table[j]} '{case.tables[f_table[j]]['id'].iloc[f_row[j]]}'", field="v_set_v",
                            value=f_vset[j], allowed=f"{v_fixed[b]} V (the other source's set-point) or droop > 0")
        fixed_row[b], v_fixed[b] = True, f_vset[j]
    return fixed_row, v_fixed


def _zone_levels(case: Case, n_zone: int, zone_of_row, f_table, f_row, f_bus, f_in) -> np.ndarray:
    """Level of each zone: a converter's output zone sits one level below its input zone."""
    conv = f_table == "converter"
    z_from, z_to = zone_of_row[f_in[conv]], zone_of_row[f_bus[conv]]
    same = z_from == z_to
    if same.any():
        j = int(np.flatnonzero(conv)[np.flatnonzero(same)[0]])
        raise CaseError("a converter's input and output buses are joined by lines (a loop through the converter: "
                        "such a meshed grid is solved by gigawatt.solve and gigawatt.solve_dc_grid, not by the "
                        "level-by-level load flow)",
                        file=case.file, element=f"converter '{case.tables['converter']['id'].iloc[f_row[j]]}'",
                        field="to_bus")
    zone_level = np.zeros(n_zone, dtype=np.int64)
    for _ in range(n_zone + 1):
        new = zone_level.copy()
        np.maximum.at(new, z_to, zone_level[z_from] + 1)
        if np.array_equal(new, zone_level):
            return zone_level
        zone_level = new
    raise CaseError("converters form a loop (each feeds the next back to the first)", file=case.file,
                    field="converter")


def _tree(n: int, g, zone_of_row, zone_level, f_bus, f_rated, f_stiff, rows):
    """Solver order of the buses (deepest level first, zone by zone, breadth-first from each zone's root) and
    the spanning tree (see :func:`gigawatt.solver.dc.ordering.tree_order`). The root of a zone is a stiff
    bus if there is one, else the bus of its largest feed."""
    rank = f_rated + np.where(f_stiff, np.inf, 0.0)
    order_f = np.lexsort((-rank, zone_of_row[f_bus]))
    zf = zone_of_row[f_bus[order_f]]
    roots = np.sort(f_bus[order_f][np.r_[True, zf[1:] != zf[:-1]]]).astype(np.int64)
    n_zone = zone_level.size
    zone_key = np.empty(n_zone, dtype=np.int64)
    zone_key[np.lexsort((np.arange(n_zone), -zone_level))] = np.arange(n_zone)
    return tree_order(n, g, roots, zone_of_row, zone_key, *rows)


def with_line_resistance(net: Network, r: np.ndarray) -> Network:
    """A copy of ``net`` whose in-service lines have loop resistances ``r`` [Ω] (per line-table row; the
    topology, order and feeds are shared, not rebuilt): the conductances to the parents, of the links and the
    zones' rounding floors follow."""
    live = net.line_in_service
    a, b = net.line_from[live], net.line_to[live]
    g = 1.0 / r[live]
    child = np.where(net.parent[a] == b, a, b)  # tree lines join a bus to its parent; links are dropped below
    tree = (net.parent[a] == b) | (net.parent[b] == a)
    g_parent = np.bincount(child[tree], weights=g[tree], minlength=net.n_bus)
    link_g = 1.0 / r[net.link_line]
    k = net.k_droop
    g_sum = (k + g_parent + np.bincount(np.maximum(net.parent, 0), weights=g_parent, minlength=net.n_bus)
             + np.bincount(net.link_a, weights=link_g, minlength=net.n_bus)
             + np.bincount(net.link_b, weights=link_g, minlength=net.n_bus))
    zones = replace(net.zones, g_max=np.maximum.reduceat(g_sum, net.zones.start) if net.n_bus else net.zones.g_max)
    line_r = np.where(live, r, np.nan)
    return replace(net, g_parent=g_parent, link_g=link_g, line_r=line_r, zones=zones,
                   g_couple=np.where((net.parent >= 0) & ~net.fixed & ~net.fixed[net.up], g_parent, 0.0))


def with_rack_power(net: Network, case: Case, p_it: np.ndarray) -> Network:
    """A copy of ``net`` whose racks draw for IT power ``p_it`` [W] (the topology is shared, not rebuilt)."""
    p_in, shelf_loss, vrm_loss = rack_powers(case, p_it)
    return replace(net, rack_p_it=np.asarray(p_it, dtype=float), rack_p_in=p_in, rack_shelf_loss=shelf_loss,
                   rack_vrm_loss=vrm_loss,
                   rack_load=np.bincount(net.rack_bus, weights=p_in, minlength=net.n_bus))
