"""Bipolar DC load flow: a ±V three-wire network (positive pole, neutral, negative pole) with constant-power
loads, solved by Newton's method on the nodal current equations with a sparse LU factorisation.

Model (SI: V, A, Ω, S, W)
-------------------------
Every bus has three nodes: its positive pole, neutral and negative pole conductors (``CONDUCTORS``). Every
in-service line is three conductors in parallel runs, each of resistance

    R = ρ(T)·L / (A·n_parallel)       (``loop_factor`` does not apply: each conductor is its own branch),

with A = ``cross_section_m2`` for the poles and ``neutral_cross_section_m2`` (default: the pole's) for the
neutral. A given ``r_ohm`` is the go-and-return loop of one pole (as in a monopolar case), so each pole
conductor is ``r_ohm/2``; a given ``neutral_r_ohm`` is the neutral conductor alone. Without either neutral
field the neutral has the pole conductor's resistance (a full-size neutral).

Every source is a station of two pole converters, each of rating ``rated_power_w/2``. The positive one
holds its pole at +v_pole against the station's neutral, the negative one at −v_pole, with

    v_pole = v_set·(1 − droop·P_pole/(rated_power_w/2))        (P_pole: that pole's output power),

and the station's neutral is earthed at its bus (V_neutral = 0 V there; see Earthing below for the
alternative of one earthing point per zone). The loss model is evaluated per
pole, at the pole's output power, pole-to-neutral voltage and rating ``rated_power_w/2``; the station loss is
the sum of both (a constant-efficiency model gives the same total as one converter of the full rating; a
quadratic model a + b·I + c·I² counts its no-load term a once per pole). A DC/DC converter is treated the
same way at its output (a station feeding the bipolar zone of ``to_bus``, whose neutral it earths) and
draws its input power plus losses pole to pole at ``from_bus`` (no neutral current there).

Racks are constant-power loads between two conductors of their bus: ``pole = "bipolar"`` between the poles
(at about 2·v_nominal), ``positive`` between the positive pole and the neutral, ``negative`` between the
neutral and the negative pole. Unequal pole loads return their difference through the neutral.

Equations: with u = V_p − V_q the voltage across an element from node p to node q, a constant-power load
P draws I = P/u from p to q, and a droop pole converter gives I = −k·(v_set − u)/u (k = rated/2 /
(droop·v_set) [W/V]); both are I = (P − KV)/u + K with KV = k·v_set, K = k, as in the monopolar kernel
(:mod:`gigawatt.solver.dc.kernel`). Kirchhoff's current law at every free node,

    F_n = Σ_branches g·(V_n − V_m) + Σ_elements ±I(u) = 0,

is solved by Newton's method. The Jacobian is symmetric (g for branches, dI/du = −(P − KV)/u² for elements,
in the ``[[s, −s], [−s, s]]`` pattern of a two-terminal element) and sparse, with a pattern fixed by the
topology: its fill-reducing order and symbolic factorisation are computed once per level and each
iteration factors it as L·D·Lᵀ (:mod:`gigawatt.solver.numerics.spd_solvers`: envelope or minimum-degree sparse,
Numba kernels), which handles rings and meshes alike and costs O(N) on the nearly tree-like networks of a
campus. On the upper branch of the P–V curve J is positive definite; where a pivot is not positive (close to
the nose) the step falls back to SuperLU with partial pivoting. Nodes held by stiff converters
(the poles of a stiff station's bus) and every station's neutral are fixed.

Earthing (``[dc] earthing``): ``every_station`` (the default) earths each station's neutral at its bus
(0 V); the earth, taken as ideal (0 Ω), then carries between stations whatever the neutral conductors do
not, reported as ``i_earth_a`` at each station bus. It carries nothing with one station per zone (all loads
and converters are two-terminal, so the currents into the earth sum to zero), nor, whatever the pole
imbalance, when all stations are stiff and every line's neutral is the same fraction of its poles'
conductance (the weighted common-mode potential then solves Kirchhoff's law with zero at every station).
``one_per_zone`` earths one station per zone (the zone's root in the assembly: its stiff station if any,
else its largest feed); every other station's pole converters hold ±v_pole against the station's own
neutral, which floats: a stiff one ties its poles to its neutral (V± = V_neutral ± v_set, one unknown whose
three current balances add up), and no earth current flows.

Zones fed through DC/DC converters are solved first, level by level, as in the monopolar solver
(:mod:`gigawatt.solver.dc.loadflow`); the topology, levels, feeds and rack powers come from the same assembly
(:func:`gigawatt.solver.dc.assembly.assemble`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gigawatt.errors import ConvergenceError
from gigawatt.models.conductors import conductor_resistance
from gigawatt.solver.numerics import spd_solvers as rs
from gigawatt.solver.numerics.iteration_limit import iteration_limit_error, nose_iteration_cap
from gigawatt.models.converter_losses import loss_by_model
from gigawatt.solver.dc.assembly import Network, conductor_properties

CONDUCTORS = ("pos", "neutral", "neg")
"""The three conductors of a bipolar line, in node order (node of bus row b, conductor c: 3·b + c)."""
POS, NEUTRAL, NEG = 0, 1, 2
RACK_TERMINALS = {"bipolar": (POS, NEG), "positive": (POS, NEUTRAL), "negative": (NEUTRAL, NEG)}
"""Conductors a rack of each ``pole`` draws between (current leaves the first, returns by the second)."""


def rack_terminals(poles: np.ndarray) -> np.ndarray:
    """(n, 2) conductors each rack draws between, from its ``pole`` (see :data:`RACK_TERMINALS`)."""
    poles = np.asarray(poles, dtype=object)
    return np.column_stack([np.where(poles == "negative", NEUTRAL, POS),
                            np.where(poles == "positive", NEUTRAL, NEG)]).astype(np.int64).reshape(-1, 2)


def conductor_resistances(lines) -> tuple[np.ndarray, np.ndarray]:
    """Resistance [Ω] of one pole conductor and of the neutral conductor of each line (see module docstring).

    ``lines`` is a validated line table. Returns ``(r_pole, r_neutral)``.
    """
    rho, alpha = conductor_properties(lines)
    length = lines["length_m"].to_numpy(dtype=float)
    temp = lines["conductor_temp_k"].to_numpy(dtype=float)
    n_par = lines["n_parallel"].to_numpy(dtype=float)
    area = lines["cross_section_m2"].to_numpy(dtype=float)
    r_given = lines["r_ohm"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_pole = np.where(np.isnan(r_given), conductor_resistance(length, area, rho, alpha, temp, 1.0, n_par),
                          0.5 * r_given)
        area_n = lines["neutral_cross_section_m2"].to_numpy(dtype=float)
        r_n_geom = conductor_resistance(length, area_n, rho, alpha, temp, 1.0, n_par)
    r_n_given = lines["neutral_r_ohm"].to_numpy(dtype=float)
    r_neutral = np.where(~np.isnan(r_n_given), r_n_given, np.where(np.isnan(area_n), r_pole, r_n_geom))
    return r_pole, r_neutral


def circuit_cross_section_m2(lines, system: str) -> np.ndarray:
    """Conductor cross-section [m²] of each line's whole circuit, for conductor mass and cost: monopolar
    ``loop_factor``·A·n_parallel (go and return), bipolar (2·A + A_neutral)·n_parallel, with A_neutral =
    ``neutral_cross_section_m2`` or A. NaN where the line gives ``r_ohm`` without a cross-section.

    Multiply by ``length_m`` and the material's density (copper 8960 kg/m³) for the conductor mass.
    """
    area = lines["cross_section_m2"].to_numpy(dtype=float)
    n_par = lines["n_parallel"].to_numpy(dtype=float)
    if system != "bipolar":
        return lines["loop_factor"].to_numpy(dtype=float) * area * n_par
    area_n = lines["neutral_cross_section_m2"].to_numpy(dtype=float)
    return (2.0 * area + np.where(np.isnan(area_n), area, area_n)) * n_par


@dataclass(frozen=True)
class BipolarState:
    """Solution of a bipolar network, indexed by table rows (not solver positions)."""

    v: np.ndarray  # [V] (n_bus, 3): positive pole, neutral, negative pole against earth
    line_i: np.ndarray  # [A] (n_line, 3) per conductor, from_bus → to_bus (NaN out of service)
    r_pole: np.ndarray  # [Ω] per line (NaN out of service)
    r_neutral: np.ndarray  # [Ω]
    feed_p: np.ndarray  # [W] (n_feed, 2): output power of the positive and negative pole converters
    feed_loss: np.ndarray  # [W] (n_feed, 2)
    p_load: np.ndarray  # [W] per bus row: racks and converter inputs
    i_earth: np.ndarray  # [A] per bus row: current from earth into the neutral at station buses
    iterations: int
    max_mismatch_a: float


@dataclass(frozen=True)
class _Level:
    """One voltage level as a sparse system: local nodes, branches, elements and the Jacobian's layout."""

    nodes: np.ndarray  # global node of each local node
    zone: np.ndarray  # zone (solve order) of each local node
    ba: np.ndarray  # branch ends, local nodes
    bb: np.ndarray
    bg: np.ndarray  # [S]
    el: np.ndarray  # element indices (global) in this level
    ep: np.ndarray  # element ends, local nodes
    eq: np.ndarray
    var: np.ndarray  # unknown of each local node (a tied pole shares its neutral's), −1 if fixed
    indep: np.ndarray  # bool: the local nodes that are the unknowns, in their order
    slave: np.ndarray  # local nodes tied to a master: V = V[master] + offset
    slave_master: np.ndarray
    slave_offset: np.ndarray  # [V]
    var_row: np.ndarray  # row of each unknown in the linear solver's order
    place: np.ndarray  # value-array place of each Jacobian entry (3 per branch, then 3 per element), −1: none
    layout: object  # gigawatt.solver.numerics.spd_solvers.Layout (None without unknowns)
    coo: tuple  # (rows, cols) of the same entries in solver rows, for the SuperLU fall-back


TREE_ORDER_MAX_WORK_PER_ROW = 50.0
"""The leaves-first order of the assembly's spanning tree is kept while its factorisation costs at most this
many multiply-adds per row (a tree costs about 10: no fill); beyond (many rings), a minimum-degree order."""


def _level_system(rows: np.ndarray, bfs_rank: np.ndarray, fixed: np.ndarray, master: np.ndarray, offset: np.ndarray,
                  zone_row: np.ndarray, ba, bb, bg, ep, eq) -> _Level:
    """The sparse layout of the level made of bus rows ``rows`` (branches/elements given in global nodes).

    Unknowns: every node neither fixed nor tied. A node tied to a master (the poles of a stiff station whose
    neutral is not earthed: V± = V_neutral ± v_pole) shares its master's unknown, and their three current
    balances add up (the pole converters' currents stay inside that supernode).

    The Jacobian's pattern is fixed by the topology, so its order and symbolic factorisation are computed
    once here; each Newton iteration then only adds values and factors (sparse L·D·Lᵀ,
    :mod:`gigawatt.solver.numerics.sparse_ldl`). The order eliminates buses leaves first along the breadth-first
    spanning tree of the assembly (``bfs_rank``: each row's position there), the three conductors of a bus
    together: a radial network factors without fill and rings add fill only along their paths. Where that
    costs more than :data:`TREE_ORDER_MAX_WORK_PER_ROW` (a dense mesh), the minimum-degree order of
    :func:`gigawatt.solver.numerics.spd_solvers.choose` is used instead."""
    nodes = (3 * rows[:, None] + np.arange(3)).ravel()
    loc = np.full(fixed.size, -1, dtype=np.int64)
    loc[nodes] = np.arange(nodes.size)
    bsel = loc[ba] >= 0
    esel = np.flatnonzero(loc[ep] >= 0)
    la, lb, lp, lq = loc[ba[bsel]], loc[bb[bsel]], loc[ep[esel]], loc[eq[esel]]
    fix = fixed[nodes]
    local_master = loc[master[nodes]]
    indep = ~fix & (local_master == np.arange(nodes.size))
    natural = np.where(indep, np.cumsum(indep) - 1, -1)
    var = np.where(fix, -1, natural[local_master])
    slave = np.flatnonzero(~fix & ~indep)
    n_free = int(indep.sum())
    x, y = np.concatenate([la, lp]), np.concatenate([lb, lq])  # the two ends of every two-terminal entry
    vx, vy = var[x], var[y]
    both = (vx >= 0) & (vy >= 0) & (vx != vy)
    inner = (vx >= 0) & (vx == vy)  # both ends in one supernode: no term in the Jacobian
    layout = None
    var_row = np.zeros(0, dtype=np.int64)
    if n_free:
        lr, lc = vx[both], vy[both]
        order = np.lexsort((np.tile(np.arange(3), rows.size)[indep], -bfs_rank.repeat(3)[indep]))
        position = np.empty(n_free, dtype=np.int64)
        position[order] = np.arange(n_free)
        layout = rs.REDUCED_SOLVERS["sparse"].layout(n_free, lr, lc, position)
        if layout.work > TREE_ORDER_MAX_WORK_PER_ROW * n_free:
            layout = rs.choose("auto", n_free, lr, lc)
        var_row = layout.position
    row = np.where(var >= 0, var_row[np.maximum(var, 0)] if n_free else -1, -1)
    diag = np.where(var >= 0, layout.diagonal[np.maximum(row, 0)] if n_free else -1, -1)
    off = np.full(x.size, -1, dtype=np.int64)
    if n_free:
        off[both] = layout.off
    dx, dy = np.where(inner, -1, diag[x]), np.where(inner, -1, diag[y])
    # Entries of each branch (then each element): (x, x), (y, y), (x, y); the matrix is symmetric.
    nb = la.size
    place = np.concatenate([dx[:nb], dy[:nb], off[:nb], dx[nb:], dy[nb:], off[nb:]])
    r = np.concatenate([row[la], row[lb], row[la], row[lp], row[lq], row[lp]])
    c = np.concatenate([row[la], row[lb], row[lb], row[lp], row[lq], row[lq]])
    return _Level(nodes, zone_row[rows].repeat(3), la, lb, bg[bsel], esel, lp, lq, var, indep, slave,
                  local_master[slave], offset[nodes[slave]], var_row, place, layout, (r, c))


def _step(lv: _Level, s_elem, ff, work):
    """Newton step of the unknowns (their natural order) from J·Δ = −F: the sparse L·D·Lᵀ of the layout, or
    SuperLU with pivoting where a pivot is not positive (near the nose, where J stops being definite)."""
    g, s = lv.bg, s_elem
    data = np.concatenate([g, g, -g, s, s, -s])
    keep = lv.place >= 0
    values = np.bincount(lv.place[keep], data[keep], minlength=lv.layout.n_values)
    rhs = np.zeros(lv.var_row.size)
    rhs[lv.var_row] = -ff
    if rs.factor_solve(lv.layout, values, rhs, work):
        return rhs[lv.var_row]
    r, c = lv.coo
    rr, cc, dd = r[keep], c[keep], data[keep]
    off = rr != cc
    mat = sp.csc_matrix((np.r_[dd, dd[off]], (np.r_[rr, cc[off]], np.r_[cc, rr[off]])), shape=(rhs.size,) * 2)
    rhs[:] = 0.0
    rhs[lv.var_row] = -ff
    return spla.splu(mat, permc_spec="COLAMD").solve(rhs)[lv.var_row]  # raises RuntimeError if singular


def _residual(lv: _Level, v, e_p, e_kv, e_k):
    """Node currents F [A] (leaving each local node), element voltages u [V] and dI/du [S]."""
    m = lv.nodes.size
    ib = lv.bg * (v[lv.ba] - v[lv.bb])
    u = v[lv.ep] - v[lv.eq]
    net = e_p - e_kv
    ie = net / u + e_k
    f = (np.bincount(lv.ba, ib, m) - np.bincount(lv.bb, ib, m)
         + np.bincount(lv.ep, ie, m) - np.bincount(lv.eq, ie, m))
    return f, u, -net / (u * u)


def _unknown_residual(lv: _Level, f):
    """Current balance [A] of each unknown: its node's, plus those of the nodes tied to it."""
    m = lv.var >= 0
    return np.bincount(lv.var[m], f[m], lv.var_row.size)


def _newton(lv: _Level, v, e_p, e_kv, e_k, tol_zone, max_iter):
    """Solve the level in place in ``v`` (local node voltages). Returns (converged, iterations, worst [A],
    worst local node)."""
    worst, worst_i = np.inf, 0
    tol = tol_zone[lv.zone][lv.indep]
    work = rs.REDUCED_SOLVERS[lv.layout.name].make_work(lv.layout) if lv.layout is not None else None
    free_nodes = np.flatnonzero(lv.indep)
    v[lv.slave] = v[lv.slave_master] + lv.slave_offset
    for it in range(max_iter + 1):
        f, u, s = _residual(lv, v, e_p, e_kv, e_k)
        ff = _unknown_residual(lv, f)
        if ff.size == 0:
            return True, it, 0.0, 0
        err = np.abs(ff)
        k = int(np.argmax(np.where(np.isfinite(err), err, np.inf)))
        worst, worst_i = float(err[k]) if np.isfinite(err[k]) else np.inf, int(free_nodes[k])
        if np.all(err <= tol):
            return True, it, worst, worst_i
        if it == max_iter or not np.isfinite(worst):
            break
        try:
            dx = _step(lv, s, ff, work)
        except RuntimeError:  # exactly singular
            return False, it, worst, worst_i
        step = np.where(lv.var >= 0, dx[np.maximum(lv.var, 0)], 0.0)
        du = step[lv.ep] - step[lv.eq]
        # Damping: no element loses more than half its voltage in one step (the P–V curve's upper branch).
        shrink = du < -0.5 * u
        alpha = min(1.0, float(np.min(-0.5 * u[shrink] / du[shrink]))) if shrink.any() else 1.0
        v += alpha * step
        v[lv.slave] = v[lv.slave_master] + lv.slave_offset
    return False, max_iter, worst, worst_i


def _bipolar_network(net: Network, case, earthing: str = "every_station"):
    """Global node arrays: fixed nodes and their voltages, branches, and the element lists (racks and droop
    pole converters; converter inputs are added per level)."""
    n = net.n_bus
    lines = case.tables["line"]
    live = net.line_in_service
    r_pole = np.full(len(lines), np.nan)
    r_neutral = np.full(len(lines), np.nan)
    if live.any():
        r_pole[live], r_neutral[live] = conductor_resistances(lines[live])
    frm = np.where(live, net.bus_row[np.maximum(net.line_from, 0)], -1)
    to = np.where(live, net.bus_row[np.maximum(net.line_to, 0)], -1)
    li = np.flatnonzero(live)
    ba = np.concatenate([3 * frm[li] + c for c in range(3)])
    bb = np.concatenate([3 * to[li] + c for c in range(3)])
    bg = np.concatenate([1.0 / r_pole[li], 1.0 / r_neutral[li], 1.0 / r_pole[li]])

    f = net.feeds
    f_bus = net.bus_row[f.bus]
    if earthing == "one_per_zone":  # the zone's root: its stiff bus if it has one, else its largest feed's
        earthed = np.zeros(n, dtype=bool)
        earthed[net.bus_row[net.parent < 0]] = True
    else:
        earthed = np.zeros(n, dtype=bool)
        earthed[f_bus] = True
    fixed = np.zeros(3 * n, dtype=bool)
    v_fixed = np.zeros(3 * n)
    master = np.arange(3 * n)
    offset = np.zeros(3 * n)
    fixed[3 * np.flatnonzero(earthed) + NEUTRAL] = True
    st = np.flatnonzero(f.stiff)
    on_earth = earthed[f_bus[st]]
    e, t = st[on_earth], st[~on_earth]
    fixed[3 * f_bus[e] + POS] = fixed[3 * f_bus[e] + NEG] = True
    v_fixed[3 * f_bus[e] + POS] = f.v_set[e]
    v_fixed[3 * f_bus[e] + NEG] = -f.v_set[e]
    # A stiff station whose neutral is not earthed holds its poles at ±v_set against its own neutral.
    master[3 * f_bus[t] + POS] = master[3 * f_bus[t] + NEG] = 3 * f_bus[t] + NEUTRAL
    offset[3 * f_bus[t] + POS] = f.v_set[t]
    offset[3 * f_bus[t] + NEG] = -f.v_set[t]

    racks = case.tables["rack"]
    term = rack_terminals(racks["pole"].to_numpy())
    r_bus = net.bus_row[net.rack_bus]
    dr = np.flatnonzero(~f.stiff)
    k_pole = 0.5 * f.k_droop[dr]
    elements = {
        "p": np.concatenate([3 * r_bus + term[:, 0], 3 * f_bus[dr] + POS, 3 * f_bus[dr] + NEUTRAL]),
        "q": np.concatenate([3 * r_bus + term[:, 1], 3 * f_bus[dr] + NEUTRAL, 3 * f_bus[dr] + NEG]),
        "p_w": np.concatenate([net.rack_p_in, np.zeros(2 * dr.size)]),
        "kv_w": np.concatenate([np.zeros(r_bus.size), k_pole * f.v_set[dr], k_pole * f.v_set[dr]]),
        "k_w_per_v": np.concatenate([np.zeros(r_bus.size), k_pole, k_pole]),
    }
    return r_pole, r_neutral, frm, to, (ba, bb, bg), (fixed, v_fixed, master, offset), elements, f_bus


def solve_bipolar(net: Network, case, *, settings: dict) -> BipolarState:
    """Solve the bipolar network of ``case`` (assembled as ``net``) level by level; raise
    :class:`ConvergenceError` naming the weakest bus when a level has no solution."""
    n = net.n_bus
    f = net.feeds
    earthing = (case.settings.get("dc") or {}).get("earthing") or "every_station"
    r_pole, r_neutral, frm, to, (ba, bb, bg), (fixed, v_fixed, master, offset), el, f_bus = \
        _bipolar_network(net, case, earthing)
    f_in = np.where(f.input_bus >= 0, net.bus_row[np.maximum(f.input_bus, 0)], -1)
    row_level = net.level[net.pos]
    row_zone = net.zone[net.pos]
    v_nom = case.tables["bus"]["v_nominal_v"].to_numpy(float)

    # Start: every zone at its highest set-point, ± on the poles, 0 on the neutral; fixed nodes at theirs.
    v = np.zeros(3 * n)
    zone_v = np.zeros(net.zones.start.size)
    np.maximum.at(zone_v, net.zone[f.bus], f.v_set)
    v[0::3], v[2::3] = zone_v[row_zone], -zone_v[row_zone]
    v[fixed] = v_fixed[fixed]

    # Converter inputs: pole-to-pole loads at their input buses, one element each (power set per level).
    conv = np.flatnonzero(f_in >= 0)
    e_p = np.concatenate([el["p"], 3 * f_in[conv] + POS])
    e_q = np.concatenate([el["q"], 3 * f_in[conv] + NEG])
    e_pw = np.concatenate([el["p_w"], np.zeros(conv.size)])
    e_kv = np.concatenate([el["kv_w"], np.zeros(conv.size)])
    e_k = np.concatenate([el["k_w_per_v"], np.zeros(conv.size)])
    conv_elem = el["p"].size + np.arange(conv.size)

    feed_p = np.zeros((f.bus.size, 2))
    feed_loss = np.zeros((f.bus.size, 2))
    i_earth = np.zeros(n)
    iterations, worst_all = 0, 0.0
    for lev, _, _ in net.zones.levels:
        rows = np.flatnonzero(row_level == lev)
        lv = _level_system(rows, net.pos[rows], fixed, master, offset, row_zone, ba, bb, bg, e_p, e_q)
        pw, kv, kk = e_pw[lv.el], e_kv[lv.el], e_k[lv.el]
        tol_zone = _tolerances(net, lv, pw, v_nom, rows, settings["tolerance"])
        v_loc = v[lv.nodes].copy()
        ok, its, worst, worst_i = _newton(lv, v_loc, pw, kv, kk, tol_zone, settings["max_iterations"])
        if not ok:
            raise _nose_error(net, case, lv, v[lv.nodes], pw, kv, kk, tol_zone, settings, rows, worst_i, v_nom,
                              frm, to, lev, its, worst)
        v[lv.nodes] = v_loc
        iterations, worst_all = iterations + its, max(worst_all, worst)
        sel = np.flatnonzero(row_level[f_bus] == lev)
        _feed_powers(net, lv, v_loc, pw, kv, kk, sel, f_bus, feed_p, i_earth)
        # Each pole converter is held against its station's own neutral (earthed or floating): its loss model
        # sees the pole-to-neutral voltage, as its droop law does.
        v_n = v[3 * f_bus[sel] + NEUTRAL]
        for pole, v_pole in ((0, v[3 * f_bus[sel] + POS] - v_n), (1, v_n - v[3 * f_bus[sel] + NEG])):
            feed_loss[sel, pole] = loss_by_model(case.loss_models, f.loss_model[sel], feed_p[sel, pole], v_pole,
                                                 0.5 * f.rated[sel], "feed", f.ids[sel])
        up = sel[f_in[sel] >= 0]  # converters of this level: their inputs load the level above
        e_pw[conv_elem[np.searchsorted(conv, up)]] = feed_p[up].sum(axis=1) + feed_loss[up].sum(axis=1)

    vv = v.reshape(n, 3)
    line_i = np.full((len(frm), 3), np.nan)
    live = frm >= 0
    for c, r in ((POS, r_pole), (NEUTRAL, r_neutral), (NEG, r_pole)):
        line_i[live, c] = (vv[frm[live], c] - vv[to[live], c]) / r[live]
    p_load = np.bincount(e_p // 3, e_pw, n)
    return BipolarState(vv, line_i, r_pole, r_neutral, feed_p, feed_loss, p_load, i_earth, iterations, worst_all)


def _tolerances(net, lv: _Level, pw, v_nom, rows, tol_rel):
    """Per zone [A]: ``tol_rel`` times the zone's load current Σ|P|/V_nominal, never below the rounding floor
    8·eps·2V_nominal·max_n(Σ g) of a node current (as in :func:`gigawatt.solver.dc.kernel.newton_zones`)."""
    nz = net.zones.start.size
    zone_e = lv.zone[lv.ep]
    vmin = np.full(nz, np.inf)
    np.minimum.at(vmin, net.zone[net.pos[rows]], v_nom[rows])
    vmin[~np.isfinite(vmin)] = 1.0
    load = np.bincount(zone_e, np.abs(pw), nz) / vmin
    m = lv.nodes.size
    g_sum = np.bincount(lv.ba, lv.bg, m) + np.bincount(lv.bb, lv.bg, m)
    g_max = np.zeros(nz)
    np.maximum.at(g_max, lv.zone, g_sum)
    floor = 8.0 * np.finfo(float).eps * 2.0 * vmin * g_max
    return np.maximum(tol_rel * np.maximum(load, 1e-6), floor)


def _feed_powers(net, lv: _Level, v_loc, pw, kv, kk, sel, f_bus, feed_p, i_earth):
    """Pole powers [W] of the feeds ``sel`` and the earth current [A] at their buses.

    Droop poles follow their law. Stiff poles deliver the current balance of their fixed node (shared by
    rating among stiff feeds on one bus) times the pole-to-neutral voltage; the rounding-level remainder
    against what each zone draws (its loads and conductor losses) is then shared by rating, so that the
    ledger closes to round-off (as in :func:`gigawatt.solver.dc.loadflow.feed_powers`)."""
    f = net.feeds
    fcur, _, _ = _residual(lv, v_loc, pw, kv, kk)
    loc = np.full(3 * net.n_bus, -1, dtype=np.int64)
    loc[lv.nodes] = np.arange(lv.nodes.size)
    bus = f_bus[sel]
    n_pos, n_neu, n_neg = loc[3 * bus + POS], loc[3 * bus + NEUTRAL], loc[3 * bus + NEG]
    stiff = f.stiff[sel]
    rated = f.rated[sel]
    rated_bus = np.zeros(net.n_bus)
    np.add.at(rated_bus, bus[stiff], rated[stiff])
    share = np.where(stiff, rated / np.where(rated_bus[bus] > 0, rated_bus[bus], 1.0), 0.0)
    k_pole = 0.5 * f.k_droop[sel]
    u_pos, u_neg = v_loc[n_pos] - v_loc[n_neu], v_loc[n_neu] - v_loc[n_neg]  # pole-to-neutral voltages
    # A stiff pole gives its node's current balance (everything else at that node) at its pole voltage.
    p = np.where(stiff[:, None], np.column_stack([u_pos * fcur[n_pos], -u_neg * fcur[n_neg]]) * share[:, None],
                 np.column_stack([k_pole * (f.v_set[sel] - u_pos), k_pole * (f.v_set[sel] - u_neg)]))
    # Ledger closure per zone: stiff poles together deliver the zone's loads + losses − its droop poles.
    nz = net.zones.start.size
    zone = net.zone[net.pos[bus]]
    ib = lv.bg * (v_loc[lv.ba] - v_loc[lv.bb])
    draw = np.bincount(lv.zone[lv.ep], pw, nz) + np.bincount(lv.zone[lv.ba], ib * ib / lv.bg, nz)
    remainder = draw - np.bincount(zone, p.sum(axis=1), nz)
    rated_zone = np.bincount(zone[stiff], rated[stiff], nz)
    w = np.where(stiff, 0.5 * rated / np.where(rated_zone[zone] > 0, rated_zone[zone], 1.0), 0.0)
    feed_p[sel] = p + (remainder[zone] * w)[:, None]
    # Earth current into each station bus's neutral: what leaves the neutral through conductors and elements,
    # plus what the stiff pole converters there draw from it (each draws from the neutral what it gives its pole).
    stiff_bus = ~lv.indep[n_pos]
    earthed = lv.var[n_neu] < 0
    i_earth[bus] = np.where(earthed, fcur[n_neu] + np.where(stiff_bus, fcur[n_pos] + fcur[n_neg], 0.0), 0.0)


def _nose_error(net, case, lv, v0, pw, kv, kk, tol_zone, settings, rows, worst_i, v_nom, frm, to, lev, its=0,
                mismatch_a=float("nan")):
    """Explain why the level did not converge from ``v0`` (after ``its`` iterations, ``mismatch_a`` [A] left at
    local node ``worst_i``). Stopped at ``solver.max_iterations``: solve again under
    :func:`~gigawatt.solver.numerics.iteration_limit.nose_iteration_cap` iterations, and if that converges the
    cap was the cause. Otherwise bisect, under that same cap, on a uniform scaling of the level's loads for the
    largest it carries; name the weakest bus (lowest pole-to-neutral voltage in per unit at that limit), its
    pole, and the line with the largest drop on that pole's conductor."""
    bus_ids = case.tables["bus"]["id"].to_numpy()
    cap = nose_iteration_cap(settings)
    if its >= settings["max_iterations"] and np.isfinite(mismatch_a):
        ok, needed = _newton(lv, v0.copy(), pw, kv, kk, tol_zone, cap)[:2]
        if ok:
            bus = bus_ids[rows[worst_i // 3]]
            return iteration_limit_error(f"bipolar DC load flow of the ±{v_nom[rows[0]]:.0f} V level",
                                         settings["max_iterations"], mismatch_a, f" at bus '{bus}'", needed,
                                         details={"bus": bus, "level": int(lev)})
    total = float(np.abs(pw).sum())
    lo, hi = 0.0, 1.0
    v_lo = v0.copy()
    while hi - lo > settings["nose_tolerance"] * hi:
        mid = 0.5 * (lo + hi)
        trial = v0.copy()
        if _newton(lv, trial, pw * mid, kv, kk, tol_zone, cap)[0]:
            lo, v_lo = mid, trial
        else:
            hi = mid
    vb = v_lo.reshape(-1, 3)
    pole_pu = np.column_stack([vb[:, POS] - vb[:, NEUTRAL], vb[:, NEUTRAL] - vb[:, NEG]]) / v_nom[rows, None]
    if lo > 0:
        k = int(np.argmin(pole_pu))
        weak_local, pole = divmod(k, 2)
    else:
        weak_local, pole = worst_i // 3, 0
    weak_row = rows[weak_local]
    cond = POS if pole == 0 else NEG
    # The line of this level with the largest drop on that pole's conductor.
    lines = case.tables["line"]["id"].to_numpy()
    pos_of = np.full(net.n_bus, -1)
    pos_of[rows] = np.arange(rows.size)
    in_lev = np.flatnonzero((frm >= 0) & (pos_of[np.maximum(frm, 0)] >= 0))
    feeder = None
    if in_lev.size:
        drop = np.abs(vb[pos_of[frm[in_lev]], cond] - vb[pos_of[to[in_lev]], cond])
        feeder = lines[in_lev[int(np.argmax(drop))]]
    weak_id = bus_ids[weak_row]
    pole_name = ("positive", "negative")[pole]
    if lo > 0:
        msg = (f"no bipolar DC load-flow solution: the loads of the ±{v_nom[weak_row]:.0f} V level ask "
               f"{total / 1e6:.6g} MW, but it carries at most {lo * total / 1e6:.6g} MW ({100 * lo:.4g} % of it) "
               f"before a pole voltage collapses (the nose of the P–V curve). Weakest bus '{weak_id}', "
               f"{pole_name} pole at {pole_pu.flat[2 * weak_local + pole]:.3f} pu of its pole-to-neutral voltage at "
               f"that limit" + (f"; largest drop on that pole in line '{feeder}'" if feeder is not None else "")
               + ". Reduce the load there, rebalance the poles or strengthen the conductors.")
    else:
        msg = (f"no bipolar DC load-flow solution even at a small fraction of the load of the level; the worst "
               f"mismatch is at bus '{weak_id}'.")
    return ConvergenceError(msg, partial={"v_pole_pu": pole_pu, "load_scale": lo},
                            details={"bus": weak_id, "pole": pole_name, "feeder": feeder,
                                     "max_power_w": lo * total, "asked_power_w": total, "load_scale": lo,
                                     "level": int(lev)})
