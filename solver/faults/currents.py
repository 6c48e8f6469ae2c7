"""Fault currents at buses: each contribution's characteristic quantities from its network's driving point, and
their sum (:mod:`gigawatt.models.fault_currents`).

For a fault at a bus (one variant of a fault type: the pair of conductors it joins), each kind contributes:

* converters: E = the no-load voltage across the fault, R and L of the converter network, limited to the sum
  of the current limits of the converters of the bus's zone that drive that pole (for a fault close to one
  station and far from another, the sum of the limits overstates the far one's share: on the safe side);
* capacitors: the same E, R and L of the capacitor network, and the zone's capacitance across the fault's
  conductors with the conductors taken as ideal (:func:`zone_capacitance`): the charge C·E the capacitors
  deliver to the fault;
* batteries: the open-circuit voltage of the battery network, its R and L.

The total is their time-domain sum (:func:`gigawatt.models.fault_currents.superpose`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from gigawatt.models.fault_currents import capacitor_contribution, converter_contribution, superpose
from gigawatt.solver.faults.network import (FAULT_TYPES, KINDS, NEG, NEUTRAL, POS, REFERENCE, FaultSystem,
                                            KindNetwork, _layer_node, kind_network)

QUANTITIES = ("i_p", "t_p", "i_k", "tau1", "tau2")
"""The characteristic quantities, in the order of the last axis of the arrays here."""


@dataclass(frozen=True)
class FaultPoints:
    """Faults at a set of points (buses, or device terminals), each with its contribution parameters."""

    e: np.ndarray  # [V] (n, kinds) driving voltage
    r: np.ndarray  # [Ω] (n, kinds)
    l: np.ndarray  # [H] (n, kinds)
    i_limit: np.ndarray  # [A] (n,) converters' current limit
    c_eq: np.ndarray  # [F] (n,) capacitance across the fault


@njit(cache=True)
def evaluate(e, r, l, i_limit, c_eq, contrib, total):
    """Characteristic quantities of every point: ``contrib`` (n, kinds, 5) and ``total`` (n, 5)."""
    q = np.empty((3, 5))
    for k in range(e.shape[0]):
        q[0, :] = converter_contribution(e[k, 0], r[k, 0], l[k, 0], i_limit[k])
        q[1, :] = capacitor_contribution(e[k, 1], r[k, 1], l[k, 1], c_eq[k])
        q[2, :] = converter_contribution(e[k, 2], r[k, 2], l[k, 2], np.inf)
        contrib[k, :, :] = q
        total[k, :] = superpose(q)


def evaluate_points(pts: FaultPoints) -> tuple[np.ndarray, np.ndarray]:
    """(contributions (n, kinds, 5), total (n, 5)) of :class:`FaultPoints`."""
    n = pts.e.shape[0]
    contrib, total = np.empty((n, len(KINDS), 5)), np.empty((n, 5))
    if n:
        evaluate(np.ascontiguousarray(pts.e), np.ascontiguousarray(pts.r), np.ascontiguousarray(pts.l),
                 pts.i_limit, pts.c_eq, contrib, total)
    return contrib, total


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


def battery_potentials(fs: FaultSystem, net_r: KindNetwork) -> np.ndarray:
    """Open-circuit node potentials [V] of the battery network (EMFs behind their internal resistances)."""
    src = fs.sources["battery"]
    n = fs.n_bus * fs.n_layer
    inj = np.zeros(n)
    g = np.where(src.r > 0, 1.0 / np.where(src.r > 0, src.r, 1.0), 0.0)
    np.add.at(inj, src.a[src.a >= 0], (src.e * g)[src.a >= 0])
    np.add.at(inj, src.b[src.b >= 0], -(src.e * g)[src.b >= 0])
    return net_r.solve(inj)


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


def bus_faults(fs: FaultSystem, buses: np.ndarray, networks: dict | None = None) -> tuple[BusFaults, dict]:
    """Fault currents at the bus positions ``buses``; returns them and the kind networks (kind, "r"/"l")
    factorised for them (their patterns hold every fault of these buses)."""
    types = FAULT_TYPES[fs.system]
    variants = [(name, v) for name, vs in types.items() for v in vs]
    na = np.concatenate([_layer_node(fs.n_layer, buses, np.full(buses.size, v[0])) for _, v in variants])
    nb = np.concatenate([_layer_node(fs.n_layer, buses, np.full(buses.size, v[1])) for _, v in variants])
    rank = fs.n_bus - 1 - np.arange(fs.n_bus)  # leaves first: the assembly's positions are parents first
    if networks is None:
        networks = {(k, q): kind_network(fs, k, q, (na, nb), rank) for k in KINDS for q in ("r", "l")}
    m = buses.size
    e = np.zeros((na.size, len(KINDS)))
    r = np.zeros_like(e)
    l = np.zeros_like(e)
    v_node = np.concatenate([fs.v_noload.ravel(), [0.0]])
    noload = np.abs(v_node[np.where(na < 0, -1, na)] - v_node[np.where(nb < 0, -1, nb)])
    pot_b = np.concatenate([battery_potentials(fs, networks["battery", "r"]), [0.0]])
    for j, kind in enumerate(KINDS):
        r[:, j] = networks[kind, "r"].z(na, nb)
        l[:, j] = networks[kind, "l"].z(na, nb)
        e[:, j] = noload if kind != "battery" else np.abs(pot_b[np.where(na < 0, -1, na)] - pot_b[np.where(nb < 0, -1, nb)])
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
    pts = FaultPoints(e, r, l, i_lim, c_eq)
    contrib, total = evaluate_points(pts)
    # per fault type, the variant with the largest peak
    out_c = np.empty((m, len(types), len(KINDS), 5))
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
        points.append(FaultPoints(e[rows], r[rows], l[rows], i_lim[rows], c_eq[rows]))
        start += len(vs) * m
    return BusFaults(buses, tuple(types), chosen, layers, points, out_c, out_t), networks
