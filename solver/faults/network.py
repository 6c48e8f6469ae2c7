"""The fault network of a case: conductors, the sources of each contribution kind, and the driving-point
resistance and inductance of every fault.

Nodes and layers
----------------
A monopolar network has one layer: node ``p`` is the positive conductor of the bus at solver position ``p``;
the return conductor is the reference, and a line is one branch of its loop resistance (go and return) and
loop inductance. A bipolar network has three layers (``CONDUCTORS``: positive, neutral, negative; node
``3p + c``) against earth, the reference; each line is three branches, pole conductors of resistance
``r_pole`` and the neutral of ``r_neutral`` (:func:`gigawatt.solver.dc.bipolar.conductor_resistances`), each of
half the line's loop inductance; the neutral is tied to earth at every station (``[dc] earthing =
"every_station"``) or at each zone's root station (``"one_per_zone"``), as in the load flow.

Resistances are taken at 20 °C (the largest fault currents; IEC 60909 and IEC 61660 take the conductors
cold for the maximum currents), or as given (``r_ohm``). Loads (racks as constant-power loads) carry no
fault current: a short circuit collapses their voltage and their converters stop drawing.

Contribution kinds and their networks
-------------------------------------
Each kind (:data:`KINDS`) has its own network: the conductors plus that kind's sources, each as its internal
impedance between its terminals; the other kinds' sources are open. Converters (stations and DC/DC outputs)
sit behind their droop resistance droop·v_set²/rated (0 for a stiff one: a short) with no inductance;
capacitors behind their ESR; batteries behind their internal R and L. A zero impedance joins its terminals
into one node (or ties it to the reference). For a fault between nodes a and b (b may be the reference),
the kind's driving-point impedance is

    Z_ab(s) = Z_aa + Z_bb - 2 Z_ab,     Z = Y(s)^-1,

with Y(s) the kind's nodal admittance matrix, each branch of impedance r + s·l, and Z taken on the pattern of
its factor by selected inversion (:mod:`gigawatt.solver.numerics.selected_inversion`; every fault's pair is
added to the pattern). Its value at s = 0 is the driving-point resistance R, and its first derivative in s
the inductance L = Σ_b l_b (i_b/I)² with i_b the branch currents of the resistive network: the low-frequency
(first-moment) inductance, in which each branch counts by the share of the fault current it carries. (The
inductance of the network with its sources short-circuited would count a capacitor right at the fault, with
no inductance, as if it carried all of it.) It is taken by a central difference of two more factorisations at
s = ±eps. A fault whose terminals the kind's network does not join, or joins to no source, gets R = inf (no
contribution). A part of a network with no path to
the reference (a bipolar layer joined to the rest only through its sources) is referred to one of its own
nodes; the driving-point resistance between two of its nodes does not depend on that choice.

The driving voltage of converters and capacitors is the no-load voltage between the fault's terminals (the
set-points: capacitors are charged to the bus voltage); of batteries, the open-circuit voltage of their
network, solved with their EMFs behind their internal resistances.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gigawatt.cases.case import Case
from gigawatt.cases.schema import schema
from gigawatt.errors import CaseError
from gigawatt.models.conductors import T20_K
from gigawatt.solver.dc.assembly import Network, line_resistance
from gigawatt.solver.dc.bipolar import RACK_TERMINALS, conductor_resistances
from gigawatt.solver.dc.ratings import line_inductance
from gigawatt.solver.numerics import selected_inversion as si

KINDS = ("converter", "capacitor", "battery")
"""Contribution kinds: current-limited converters (stations, DC/DC outputs), capacitors (DC links, rack
shelves), batteries."""
CONDUCTORS = {"monopolar": ("pos",), "bipolar": ("pos", "neutral", "neg")}
REFERENCE = -1
"""Layer index of the reference (the return conductor of a monopolar network, earth in a bipolar one)."""
POS, NEUTRAL, NEG = 0, 1, 2
FAULT_TYPES = {
    "monopolar": {"pole_to_pole": ((POS, REFERENCE),)},
    "bipolar": {"pole_to_pole": ((POS, NEG),),
                "pole_to_neutral": ((POS, NEUTRAL), (NEG, NEUTRAL)),
                "pole_to_earth": ((POS, REFERENCE), (NEG, REFERENCE))},
}
"""Fault types and their variants (pairs of layers the fault joins); a bus reports the variant with the
largest peak current (the positive or the negative pole)."""
TREE_ORDER_MAX_WORK_PER_ROW = 50.0
"""The leaves-first order of the assembly's tree is kept while the factorisation costs at most this many
multiply-adds per row (a tree costs a few); beyond (many rings), a minimum-degree order."""


@dataclass(frozen=True)
class Sources:
    """The sources of one contribution kind (node −1: the reference)."""

    a: np.ndarray  # node of the terminal the current leaves by into the network
    b: np.ndarray  # node it returns by
    r: np.ndarray  # [Ω] internal resistance
    l: np.ndarray  # [H] internal inductance
    e: np.ndarray  # [V] EMF (batteries) or pre-fault voltage a − b
    zone: np.ndarray  # zone of the source's bus (solve order)
    layers: np.ndarray  # (n, 2) layers of a and b (REFERENCE for the reference)
    value: np.ndarray  # converters: current limit [A]; capacitors: capacitance [F]; batteries: NaN


@dataclass(frozen=True)
class FaultSystem:
    """Conductors and sources of a case's DC network for fault studies (module notes)."""

    system: str  # monopolar or bipolar
    n_bus: int
    n_layer: int
    edge_a: np.ndarray  # branch ends (nodes)
    edge_b: np.ndarray
    edge_r: np.ndarray  # [Ω]
    edge_l: np.ndarray  # [H]
    earthed: np.ndarray  # nodes tied to the reference by the earthing (bipolar neutrals)
    sources: dict  # kind -> Sources
    v_noload: np.ndarray  # [V] (n_bus, n_layer) potential of each node at no load (positions)
    zone: np.ndarray  # zone of each bus position
    n_zone: int


def _layer_node(n_layer: int, bus: np.ndarray, layer) -> np.ndarray:
    layer = np.asarray(layer)
    return np.where(layer == REFERENCE, REFERENCE, np.asarray(bus, np.int64) * n_layer + layer)


def _need(df, rows, field: str, table: str, file, when: str):
    """Raise a CaseError naming the first of ``rows`` whose ``field`` is empty."""
    values = df[field].to_numpy(float)[rows]
    missing = np.isnan(values)
    if missing.any():
        i = int(rows[np.flatnonzero(missing)[0]])
        f = schema()[table][field]
        raise CaseError(f"its fault contribution needs {field} ({when})", file=file,
                        element=f"{table} '{df['id'].iloc[i]}'", field=field, allowed=f"{f.bounds} {f.unit}".strip())


def build_fault_system(case: Case, net: Network) -> FaultSystem:
    """The :class:`FaultSystem` of a case (its DC assembly ``net``). Raises :class:`CaseError` for a source
    without the data its contribution needs (named with the field) and for a station with no DC fault model."""
    system = (case.settings.get("dc") or {}).get("system") or "monopolar"
    n_layer = len(CONDUCTORS[system])
    t = case.tables
    lines = t["line"]
    live = np.flatnonzero(net.line_in_service)
    cold = lines.iloc[live].assign(conductor_temp_k=T20_K)
    a, b = net.line_from[live].astype(np.int64), net.line_to[live].astype(np.int64)
    l_loop = line_inductance(lines.iloc[live])
    if system == "monopolar":
        ea, eb, er, el = a, b, line_resistance(cold), l_loop
        earthed = np.zeros(0, np.int64)
    else:
        r_pole, r_neutral = conductor_resistances(cold)
        ea = np.concatenate([3 * a + c for c in range(3)])
        eb = np.concatenate([3 * b + c for c in range(3)])
        er = np.concatenate([r_pole, r_neutral, r_pole])
        el = np.tile(0.5 * l_loop, 3)  # each conductor half the loop
        earthing = (case.settings.get("dc") or {}).get("earthing") or "every_station"
        stations = np.unique(net.feeds.bus) if earthing == "every_station" else np.flatnonzero(net.parent < 0)
        earthed = 3 * stations.astype(np.int64) + NEUTRAL
    v = net.v_start
    v_noload = v[:, None] if system == "monopolar" else np.column_stack([v, np.zeros_like(v), -v])
    sources = {"converter": _converters(case, net, system, n_layer),
               "capacitor": _capacitors(case, net, system, n_layer),
               "battery": _batteries(case, net, system, n_layer)}
    return FaultSystem(system, net.n_bus, n_layer, ea, eb, er, el, earthed, sources, v_noload,
                       net.zone.astype(np.int64), int(net.zones.start.size))


def _pairs(n_layer: int, bus, pole_pairs, r, l, e, zone, value) -> Sources:
    """Sources at ``bus`` between the layer pairs ``pole_pairs`` ((n, 2) per source), in one table."""
    layers = np.asarray(pole_pairs, np.int64).reshape(-1, 2)
    return Sources(_layer_node(n_layer, bus, layers[:, 0]), _layer_node(n_layer, bus, layers[:, 1]),
                   np.asarray(r, float), np.asarray(l, float), np.asarray(e, float), np.asarray(zone, np.int64),
                   layers, np.asarray(value, float))


def _feed_fields(case: Case, net: Network, field: str) -> np.ndarray:
    """A field of the source or converter table for every feed of the assembly."""
    f = net.feeds
    out = np.full(f.bus.size, np.nan)
    for table in ("source", "converter"):
        mine = f.table == table
        out[mine] = case.tables[table][field].to_numpy(float)[f.row[mine]]
    return out


def _check_feeds(case: Case, net: Network):
    f = net.feeds
    src = case.tables["source"]
    mine = f.table == "source"
    kind = src["kind"].to_numpy()[f.row[mine]]
    if (kind == "transformer").any():
        i = int(f.row[mine][np.flatnonzero(kind == "transformer")[0]])
        raise CaseError("a transformer station (an AC architecture) has no DC fault model", file=case.file,
                        element=f"source '{src['id'].iloc[i]}'", field="kind", value="transformer",
                        allowed="rectifier or sst for a DC fault study")
    for table in ("source", "converter"):
        df = case.tables[table]
        rows = f.row[f.table == table]
        has_c = ~np.isnan(df["dc_link_capacitance_f"].to_numpy(float)[rows])
        _need(df, rows[has_c], "dc_link_esr_ohm", table, case.file, "its dc_link_capacitance_f is given")


def _converters(case: Case, net: Network, system: str, n_layer: int) -> Sources:
    """Each feed as current-limited converters: one (monopolar) or two pole converters (bipolar)."""
    _check_feeds(case, net)
    f = net.feeds
    pu = _feed_fields(case, net, "fault_current_limit_pu")
    zone = net.zone[f.bus]
    if system == "monopolar":
        r = np.where(f.stiff, 0.0, f.droop * f.v_set ** 2 / f.rated)
        return _pairs(n_layer, f.bus, np.tile([POS, REFERENCE], (f.bus.size, 1)), r, np.zeros(f.bus.size),
                      f.v_set, zone, pu * f.rated / f.v_set)
    half = 0.5 * f.rated
    r = np.where(f.stiff, 0.0, f.droop * f.v_set ** 2 / half)
    two = np.repeat
    return _pairs(n_layer, two(f.bus, 2), np.tile([[POS, NEUTRAL], [NEUTRAL, NEG]], (f.bus.size, 1)),
                  two(r, 2), np.zeros(2 * f.bus.size), two(f.v_set, 2), two(zone, 2), two(pu * half / f.v_set, 2))


def _capacitors(case: Case, net: Network, system: str, n_layer: int) -> Sources:
    """DC-link capacitors of the feeds (one per pole converter in a bipolar case) and the racks' shelves."""
    f = net.feeds
    c_feed = _feed_fields(case, net, "dc_link_capacitance_f")
    esr_feed = _feed_fields(case, net, "dc_link_esr_ohm")
    racks = case.tables["rack"]
    c_rack = racks["shelf_capacitance_f"].to_numpy(float)
    has = np.flatnonzero(~np.isnan(c_rack))
    _need(racks, has, "shelf_esr_ohm", "rack", case.file, "its shelf_capacitance_f is given")
    rack_bus = net.rack_bus[has].astype(np.int64)
    esr_rack = racks["shelf_esr_ohm"].to_numpy(float)[has]
    fh = np.flatnonzero(~np.isnan(c_feed))
    v = net.v_start
    if system == "monopolar":
        bus = np.concatenate([f.bus[fh], rack_bus])
        pairs = np.tile([POS, REFERENCE], (bus.size, 1))
        c = np.concatenate([c_feed[fh], c_rack[has]])
        esr = np.concatenate([esr_feed[fh], esr_rack])
        return _pairs(n_layer, bus, pairs, esr, np.zeros(bus.size), v[bus], net.zone[bus], c)
    # Bipolar: each pole converter's link between its pole and the neutral; shelves across the rack's terminals.
    terms = np.array([RACK_TERMINALS[p] for p in racks["pole"].to_numpy()[has]], dtype=np.int64).reshape(-1, 2)
    bus = np.concatenate([np.repeat(f.bus[fh], 2), rack_bus])
    pairs = np.concatenate([np.tile([[POS, NEUTRAL], [NEUTRAL, NEG]], (fh.size, 1)), terms])
    c = np.concatenate([np.repeat(c_feed[fh], 2), c_rack[has]])
    esr = np.concatenate([np.repeat(esr_feed[fh], 2), esr_rack])
    span = np.where((pairs[:, 0] == POS) & (pairs[:, 1] == NEG), 2.0, 1.0)
    return _pairs(n_layer, bus, pairs, esr, np.zeros(bus.size), span * v[bus], net.zone[bus], c)


def _batteries(case: Case, net: Network, system: str, n_layer: int) -> Sources:
    bat = case.tables["battery"]
    rows = np.flatnonzero(bat["in_service"].to_numpy(bool))
    for field in ("emf_v", "r_internal_ohm"):
        _need(bat, rows, field, "battery", case.file, "a battery's contribution is E/R behind its inductance")
    bus = net.pos[pd.Index(case.tables["bus"]["id"]).get_indexer(bat["bus"].to_numpy()[rows])].astype(np.int64)
    if system == "monopolar":
        pairs = np.tile([POS, REFERENCE], (rows.size, 1))
    else:
        pairs = np.array([RACK_TERMINALS[p] for p in bat["pole"].to_numpy()[rows]], np.int64).reshape(-1, 2)
    return _pairs(n_layer, bus, pairs, bat["r_internal_ohm"].to_numpy(float)[rows],
                  bat["l_internal_h"].to_numpy(float)[rows], bat["emf_v"].to_numpy(float)[rows], net.zone[bus],
                  np.full(rows.size, np.nan))


# --- one kind's network: driving points by selected inversion ---------------------------------------------

def _merge(n: int, pairs_a: np.ndarray, pairs_b: np.ndarray) -> np.ndarray:
    """Representative of each node (and of the reference, index n) after joining the pairs (−1: reference).
    Vectorised label propagation on the graph of joins (connected components)."""
    a = np.where(pairs_a < 0, n, pairs_a)
    b = np.where(pairs_b < 0, n, pairs_b)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n + 1, n + 1))
    _, label = connected_components(graph, directed=False)
    # representative: the reference's label maps to n; others to the smallest node of their component
    rep = np.full(label.max() + 1, n + 1, dtype=np.int64)
    np.minimum.at(rep, label, np.arange(n + 1))
    rep[label[n]] = n
    return rep[label]


@dataclass(frozen=True)
class KindNetwork:
    """The factorised network of one contribution kind: see the module notes."""

    rep: np.ndarray  # representative of each node (n = the reference)
    unknown: np.ndarray  # matrix row of each representative (−1: the reference or grounded)
    component: np.ndarray  # component of each representative
    grounded: np.ndarray  # per component: joined to the reference by a branch or a join (not by our choice)
    inverses: tuple  # SelectedInverse at s = 0, +eps, −eps (the last two None without inductance)
    factor: tuple | None  # the factor at s = 0
    layout: si.InverseLayout | None
    eps: float  # [1/s] the step of the derivative in s
    n: int

    def _z(self, inverse, ua, ub) -> np.ndarray:
        zaa, zbb, zab = np.zeros(ua.size), np.zeros(ua.size), np.zeros(ua.size)
        m = ua >= 0
        zaa[m] = inverse.entries(ua[m], ua[m])
        m = ub >= 0
        zbb[m] = inverse.entries(ub[m], ub[m])
        m = (ua >= 0) & (ub >= 0) & (ua != ub)
        zab[m] = inverse.entries(ua[m], ub[m])
        return zaa + zbb - 2.0 * zab

    def driving_point(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(R [Ω], L [H]) between nodes a and b (−1: the reference): R = Z_aa + Z_bb − 2 Z_ab at s = 0 and L its
        derivative in s (module notes); R = inf where the network does not join them."""
        ra = self.rep[np.where(a < 0, self.n, a)]
        rb = self.rep[np.where(b < 0, self.n, b)]
        ua, ub = self.unknown[ra], self.unknown[rb]
        r, l = np.zeros(ra.size), np.zeros(ra.size)
        if self.inverses[0] is not None:
            r = self._z(self.inverses[0], ua, ub)
            if self.inverses[1] is not None:
                l = (self._z(self.inverses[1], ua, ub) - self._z(self.inverses[2], ua, ub)) / (2.0 * self.eps)
        ca, cb = self.component[ra], self.component[rb]
        to_ref = (ra == self.n) | (rb == self.n)
        floating = to_ref & ~self.grounded[np.where(ra == self.n, cb, ca)]
        cut = (ca != cb) | floating
        r[cut], l[cut] = np.inf, np.inf
        same = ra == rb
        r[same], l[same] = 0.0, 0.0
        return np.maximum(r, 0.0), np.maximum(l, 0.0)

    def solve(self, injection: np.ndarray) -> np.ndarray:
        """Node potentials at s = 0 (per node, reference 0) for current ``injection`` per node [A]."""
        pot_rep = np.zeros(self.n + 1)
        if self.inverses[0] is not None:
            u = self.unknown[self.rep[:-1]]
            m = u >= 0
            b = np.bincount(u[m], weights=injection[m], minlength=self.layout.n)
            x = si.solve(self.layout, *self.factor, b)
            known = np.flatnonzero(self.unknown >= 0)
            pot_rep[known] = x[self.unknown[known]]
        return pot_rep[self.rep[:-1]]


DERIVATIVE_STEP = 1e-3
"""The step in s of the central difference for the inductance, relative to the largest branch L/R: the
first-order term of 1/(r + s l) is then off by 1e-6 relative at most."""


def kind_network(fs: FaultSystem, kind: str, pairs: tuple[np.ndarray, np.ndarray], bus_rank: np.ndarray) -> KindNetwork:
    """Factorise the network of contribution ``kind`` with the node pairs ``pairs`` of every fault on the
    pattern (module notes), at s = 0 and, for its inductance, at s = ±eps. ``bus_rank``: leaves-first rank of
    each bus position (the factor's order)."""
    n = fs.n_bus * fs.n_layer
    src = fs.sources[kind]
    short = src.r <= 0.0  # a stiff converter: its terminals are one node (it has no inductance either)
    rep = _merge(n, np.concatenate([src.a[short], fs.earthed]),
                 np.concatenate([src.b[short], np.full(fs.earthed.size, REFERENCE)]))
    ba = np.concatenate([fs.edge_a, src.a[~short]])
    bb = np.concatenate([fs.edge_b, src.b[~short]])
    br = np.concatenate([fs.edge_r, src.r[~short]])
    bl = np.concatenate([fs.edge_l, src.l[~short]])
    ra, rb = rep[np.where(ba < 0, n, ba)], rep[np.where(bb < 0, n, bb)]
    keep = ra != rb
    ra, rb, br, bl = ra[keep], rb[keep], br[keep], bl[keep]
    n_rep = n + 1
    graph = coo_matrix((np.ones(ra.size), (ra, rb)), shape=(n_rep, n_rep))
    n_comp, comp = connected_components(graph, directed=False)
    grounded = np.zeros(n_comp, bool)
    grounded[comp[n]] = True
    is_rep = np.zeros(n_rep, bool)
    is_rep[rep] = True
    # a component without the reference is referred to its smallest node (a choice that changes no difference)
    anchor = np.full(n_comp, n_rep, dtype=np.int64)
    nodes = np.flatnonzero(is_rep)
    np.minimum.at(anchor, comp[nodes], nodes)
    free = is_rep.copy()
    free[n] = False
    float_anchor = anchor[~grounded]
    free[float_anchor[float_anchor < n_rep]] = False
    unknown = np.full(n_rep, -1, dtype=np.int64)
    idx = np.flatnonzero(free)
    unknown[idx] = np.arange(idx.size)
    tau_max = float(np.max(bl / br, initial=0.0))
    eps = DERIVATIVE_STEP / tau_max if tau_max > 0 else 0.0
    if not idx.size:
        return KindNetwork(rep, unknown, comp, grounded, (None, None, None), None, None, eps, n)
    ua, ub = unknown[ra], unknown[rb]
    both = (ua >= 0) & (ub >= 0)
    pa, pb = rep[np.where(pairs[0] < 0, n, pairs[0])], rep[np.where(pairs[1] < 0, n, pairs[1])]
    sa, sb = unknown[pa], unknown[pb]
    struct = (sa >= 0) & (sb >= 0) & (sa != sb)
    rows = np.concatenate([ua[both], sa[struct]])
    cols = np.concatenate([ub[both], sb[struct]])
    key = bus_rank[idx // fs.n_layer] * fs.n_layer + idx % fs.n_layer
    position = np.empty(idx.size, dtype=np.int64)
    position[np.argsort(key, kind="stable")] = np.arange(idx.size)
    layout = si.inverse_layout(idx.size, rows, cols, position)
    if layout.work > TREE_ORDER_MAX_WORK_PER_ROW * idx.size:
        layout = si.inverse_layout(idx.size, rows, cols)
    inverses, factor0 = [], None
    for s in ((0.0, eps, -eps) if eps > 0 else (0.0,)):
        g = 1.0 / (br + s * bl)
        diag = np.bincount(ua[ua >= 0], weights=g[ua >= 0], minlength=idx.size) + \
            np.bincount(ub[ub >= 0], weights=g[ub >= 0], minlength=idx.size)
        off = np.concatenate([-g[both], np.zeros(int(struct.sum()))])
        fac = si.factor(layout, si.assemble(layout, off, diag))
        if fac is None:
            raise RuntimeError(f"the {kind} network's nodal matrix is not positive definite")
        inverses.append(si.selected_inverse(layout, *fac))
        factor0 = fac if factor0 is None else factor0
    inverses += [None] * (3 - len(inverses))
    return KindNetwork(rep, unknown, comp, grounded, tuple(inverses), factor0, layout, eps, n)
