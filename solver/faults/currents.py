"""Fault currents at buses: each contribution's characteristic quantities from its network's driving point, and
their sum (:mod:`gigawatt.models.fault_currents`).

For a fault at a bus (one variant of a fault type: the pair of conductors it joins), the contributions
(:data:`CONTRIBUTIONS`) are:

* ``converter``: E = the no-load voltage across the fault, R and L of the converter network, limited to the
  sum of the current limits of the converters of the bus's zone that drive that pole (for a fault close to
  one station and far from another, the sum of the limits overstates the far one's share: on the safe side);
* ``local_capacitor``: the capacitors at the faulted bus directly across the fault's conductors, in parallel
  with the fault: each discharges through its own ESR alone (an RC discharge, no inductance);
* ``capacitor``: every other capacitor of the zone, through the capacitor network: its R and L with the local
  ones taken out (they sit across the fault's port: Y_rest = Y - 1/ESR_local, L_rest = L·(Y/Y_rest)²), and the
  zone's capacitance across the fault's conductors with the conductors taken as ideal (:func:`zone_capacitance`)
  less the local one: the charge C·E they deliver to the fault;
* ``battery``: the open-circuit voltage of the battery network, its R and L.

The total is the time-domain sum of their circuit responses (:func:`gigawatt.models.fault_currents.superpose`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from gigawatt.models.fault_currents import RL, RLC, capacitor_contribution, converter_contribution, superpose
from gigawatt.solver.faults.network import (FAULT_TYPES, KINDS, NEG, NEUTRAL, POS, REFERENCE, FaultSystem,
                                            KindNetwork, _layer_node, kind_network)

QUANTITIES = ("i_p", "t_p", "i_k", "tau1", "tau2")
"""The characteristic quantities, in the order of the last axis of the arrays here."""
CONTRIBUTIONS = ("converter", "capacitor", "local_capacitor", "battery")
"""The contributions to a fault (module notes), in the order of the arrays here."""


@dataclass(frozen=True)
class FaultPoints:
    """Faults at a set of points (buses, or device terminals), each with its contributions' parameters."""

    e: np.ndarray  # [V] (n, contributions) driving voltage
    r: np.ndarray  # [Ω] (n, contributions)
    l: np.ndarray  # [H] (n, contributions)
    i_limit: np.ndarray  # [A] (n,) converters' current limit
    c: np.ndarray  # [F] (n, 2) capacitance of the network's capacitors and of the local ones


@njit(cache=True)
def evaluate(e, r, l, i_limit, c, contrib, total):
    """Characteristic quantities of every point: ``contrib`` (n, contributions, 5) and ``total`` (n, 5)."""
    q = np.empty((4, 5))
    p = np.empty((4, 4))
    kind = np.array([RL, RLC, RLC, RL])
    for k in range(e.shape[0]):
        p[0, 0], p[0, 1], p[0, 2], p[0, 3] = e[k, 0], r[k, 0], l[k, 0], i_limit[k]
        p[1, 0], p[1, 1], p[1, 2], p[1, 3] = e[k, 1], r[k, 1], l[k, 1], c[k, 0]
        p[2, 0], p[2, 1], p[2, 2], p[2, 3] = e[k, 2], r[k, 2], 0.0, c[k, 1]
        p[3, 0], p[3, 1], p[3, 2], p[3, 3] = e[k, 3], r[k, 3], l[k, 3], np.inf
        q[0, :] = converter_contribution(p[0, 0], p[0, 1], p[0, 2], p[0, 3])
        q[1, :] = capacitor_contribution(p[1, 0], p[1, 1], p[1, 2], p[1, 3])
        q[2, :] = capacitor_contribution(p[2, 0], p[2, 1], p[2, 2], p[2, 3])
        q[3, :] = converter_contribution(p[3, 0], p[3, 1], p[3, 2], p[3, 3])
        contrib[k, :, :] = q
        total[k, :] = superpose(kind, p, q)


def evaluate_points(pts: FaultPoints) -> tuple[np.ndarray, np.ndarray]:
    """(contributions (n, contributions, 5), total (n, 5)) of :class:`FaultPoints`."""
    n = pts.e.shape[0]
    contrib, total = np.empty((n, len(CONTRIBUTIONS), 5)), np.empty((n, 5))
    if n:
        evaluate(np.ascontiguousarray(pts.e), np.ascontiguousarray(pts.r), np.ascontiguousarray(pts.l),
                 pts.i_limit, np.ascontiguousarray(pts.c), contrib, total)
    return contrib, total


def split_local(r, l, c, y_local, c_local):
    """(R, L, C) of the network's capacitors with the local ones (admittance ``y_local`` [S], capacitance
    ``c_local`` [F], across the fault's port) taken out of the capacitor network's (R, L, C) (module notes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), np.inf)
        y_rest = y - y_local
        none = ~(y_rest > 1e-12 * np.where(np.isfinite(y), y, 1.0)) | ~np.isfinite(y)
        r_rest = np.where(none, np.inf, 1.0 / np.where(none, 1.0, y_rest))
        l_rest = np.where(none, np.inf, l * (y / np.where(none, 1.0, y_rest)) ** 2)
    return r_rest, l_rest, np.maximum(c - c_local, 0.0)


def _series(x, y):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x + y > 0, x * y / (x + y), 0.0)


def zone_capacitance(fs: FaultSystem) -> np.ndarray:
    """Capacitance [F] of each zone between each pair of layers (n_zone, 3, 3) with the conductors ideal and
    the reference joined to the neutral (bipolar; every zone is earthed somewhere): the charge the capacitors
    deliver to a fault across those layers is C·E. Monopolar: [:, 0, 0] holds the zone's total."""
    src = fs.sources["capacitor"]
    cap = np.zeros((fs.n_zone, 3, 3))
    if fs.system == "monopolar":
        cap[:, 0, 0] = np.bincount(src.zone, weights=src.value, minlength=fs.n_zone)
        return cap
    la = np.where(src.layers[:, 0] == REFERENCE, NEUTRAL, src.layers[:, 0])
    lb = np.where(src.layers[:, 1] == REFERENCE, NEUTRAL, src.layers[:, 1])
    layer = {}
    for x, y in ((POS, NEUTRAL), (NEUTRAL, NEG), (POS, NEG)):
        m = ((la == x) & (lb == y)) | ((la == y) & (lb == x))
        layer[x, y] = np.bincount(src.zone[m], weights=src.value[m], minlength=fs.n_zone)
    c_pn, c_nm, c_pm = layer[POS, NEUTRAL], layer[NEUTRAL, NEG], layer[POS, NEG]
    cap[:, POS, NEG] = cap[:, NEG, POS] = c_pm + _series(c_pn, c_nm)
    cap[:, POS, NEUTRAL] = cap[:, NEUTRAL, POS] = c_pn + _series(c_pm, c_nm)
    cap[:, NEG, NEUTRAL] = cap[:, NEUTRAL, NEG] = c_nm + _series(c_pm, c_pn)
    return cap


def zone_limits(fs: FaultSystem) -> np.ndarray:
    """Sum of the current limits [A] of the converters of each zone touching each layer (n_zone, 3)."""
    src = fs.sources["converter"]
    out = np.zeros((fs.n_zone, 3))
    for layer in (POS, NEG):
        m = (src.layers[:, 0] == layer) | (src.layers[:, 1] == layer)
        out[:, layer] = np.bincount(src.zone[m], weights=src.value[m], minlength=fs.n_zone)
    return out


def battery_potentials(fs: FaultSystem, net_b: KindNetwork) -> np.ndarray:
    """Open-circuit node potentials [V] of the battery network (EMFs behind their internal resistances)."""
    src = fs.sources["battery"]
    n = fs.n_bus * fs.n_layer
    inj = np.zeros(n)
    g = np.where(src.r > 0, 1.0 / np.where(src.r > 0, src.r, 1.0), 0.0)
    np.add.at(inj, src.a[src.a >= 0], (src.e * g)[src.a >= 0])
    np.add.at(inj, src.b[src.b >= 0], -(src.e * g)[src.b >= 0])
    return net_b.solve(inj)


@dataclass(frozen=True)
class BusFaults:
    """Fault currents at buses (solver positions ``bus``), per fault type (the variant of the largest peak)."""

    bus: np.ndarray
    fault_types: tuple
    variant: np.ndarray  # (n, types) index of the variant reported (its pole pair)
    variant_layers: np.ndarray  # (n, types, 2) the layers it joins
    points: list  # per fault type: FaultPoints of the reported variant
    contrib: np.ndarray  # (n, types, kinds, 5)
    total: np.ndarray  # (n, types, 5)


def local_capacitors(fs: FaultSystem, net_c: KindNetwork, na: np.ndarray, nb: np.ndarray):
    """(admittance 1/ESR [S], capacitance [F]) of the capacitors directly across each fault's nodes (na, nb):
    those whose terminals are the fault's, after the earthing's joins."""
    src = fs.sources["capacitor"]
    n = net_c.n
    rep = net_c.rep

    def code(a, b):
        ra, rb = rep[np.where(a < 0, n, a)], rep[np.where(b < 0, n, b)]
        return np.minimum(ra, rb).astype(np.int64) * (n + 1) + np.maximum(ra, rb)

    if not src.a.size:
        return np.zeros(na.size), np.zeros(na.size)
    keys, inverse = np.unique(code(src.a, src.b), return_inverse=True)
    y = np.bincount(inverse, weights=1.0 / src.r, minlength=keys.size)
    cap = np.bincount(inverse, weights=src.value, minlength=keys.size)
    wanted = code(na, nb)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[at] == wanted
    return np.where(hit, y[at], 0.0), np.where(hit, cap[at], 0.0)


def bus_faults(fs: FaultSystem, buses: np.ndarray) -> BusFaults:
    """Fault currents at the bus positions ``buses`` (each kind's network factorised once for all of them: the
    pattern holds every fault's pair of nodes)."""
    types = FAULT_TYPES[fs.system]
    variants = [(name, v) for name, vs in types.items() for v in vs]
    na = np.concatenate([_layer_node(fs.n_layer, buses, np.full(buses.size, v[0])) for _, v in variants])
    nb = np.concatenate([_layer_node(fs.n_layer, buses, np.full(buses.size, v[1])) for _, v in variants])
    rank = fs.n_bus - 1 - np.arange(fs.n_bus)  # leaves first: the assembly's positions are parents first
    networks = {k: kind_network(fs, k, (na, nb), rank) for k in KINDS}
    m = buses.size
    e = np.zeros((na.size, len(CONTRIBUTIONS)))
    r = np.zeros_like(e)
    l = np.zeros_like(e)
    v_node = np.concatenate([fs.v_noload.ravel(), [0.0]])
    noload = np.abs(v_node[np.where(na < 0, -1, na)] - v_node[np.where(nb < 0, -1, nb)])
    pot_b = np.concatenate([battery_potentials(fs, networks["battery"]), [0.0]])
    r_s, l_s = networks["converter"].driving_point(na, nb)
    r_c, l_c = networks["capacitor"].driving_point(na, nb)
    r_b, l_b = networks["battery"].driving_point(na, nb)
    zone = np.tile(fs.zone[buses], len(variants))
    la = np.concatenate([np.full(m, v[0]) for _, v in variants])
    lb = np.concatenate([np.full(m, v[1]) for _, v in variants])
    pole = np.where(la == NEUTRAL, lb, la)  # the pole conductor of the fault (pos or neg)
    pole = np.where(pole == REFERENCE, POS, pole)
    i_lim = zone_limits(fs)[zone, pole]
    cap = zone_capacitance(fs)
    if fs.system == "monopolar":
        c_eq = cap[zone, 0, 0]
    else:
        c_eq = cap[zone, la, np.where(lb == REFERENCE, NEUTRAL, lb)]
    y_loc, c_loc = local_capacitors(fs, networks["capacitor"], na, nb)
    r_rest, l_rest, c_rest = split_local(r_c, l_c, c_eq, y_loc, c_loc)
    battery_e = np.abs(pot_b[np.where(na < 0, -1, na)] - pot_b[np.where(nb < 0, -1, nb)])
    with np.errstate(divide="ignore"):
        r_loc = np.where(y_loc > 0, 1.0 / np.where(y_loc > 0, y_loc, 1.0), np.inf)
    e[:] = np.column_stack([noload, noload, noload, battery_e])
    r[:] = np.column_stack([r_s, r_rest, r_loc, r_b])
    l[:] = np.column_stack([l_s, l_rest, np.zeros(na.size), l_b])
    pts = FaultPoints(e, r, l, i_lim, np.column_stack([c_rest, c_loc]))
    contrib, total = evaluate_points(pts)
    # per fault type, the variant with the largest peak
    out_c = np.empty((m, len(types), len(CONTRIBUTIONS), 5))
    out_t = np.empty((m, len(types), 5))
    chosen = np.zeros((m, len(types)), dtype=np.int64)
    layers = np.zeros((m, len(types), 2), dtype=np.int64)
    points = []
    start = 0
    for t, (name, vs) in enumerate(types.items()):
        block = np.arange(start, start + len(vs) * m).reshape(len(vs), m)
        best = np.argmax(total[block, 0], axis=0)
        rows = block[best, np.arange(m)]
        chosen[:, t] = best
        layers[:, t] = np.asarray(vs)[best]
        out_c[:, t], out_t[:, t] = contrib[rows], total[rows]
        points.append(FaultPoints(e[rows], r[rows], l[rows], i_lim[rows], pts.c[rows]))
        start += len(vs) * m
    return BusFaults(buses, tuple(types), chosen, layers, points, out_c, out_t)
