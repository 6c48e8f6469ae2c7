"""Protective devices: the fault current each must interrupt, against its breaking capacity, and its
selectivity with the device upstream.

Breaking duty
-------------
A device on a line, at the end at bus f, must interrupt two faults: one on the line just past it, fed through
it by everything on f's side of it (*forward*), and one at f itself, fed through it back from the line's
side (*reverse*: in a DC network the capacitors and batteries beyond the device discharge through it). Its
duty is the larger peak current i_p of the two; a device at a bus, the peak current of a fault at that bus.
The peak (prospective) current is the safe side for every kind: a mechanical breaker or fuse that opens after
the peak sees less, a solid-state breaker that opens during the rise too.

In a monopolar network the two sides are split along the assembly's spanning tree (for each contribution
kind, the driving-point admittances of every subtree and of the rest, two O(N) passes): exact for a radial
network (each line is then a bridge); for a line that closes a ring, and for every device of a bipolar
network, the duty is the fault at the device's bus itself, all its contributions (an upper bound: both sides
together).

A device rated below its duty is a finding of the results, not an error.

Selectivity
-----------
The device upstream of a device D is the nearest one on the path from D towards its zone's root (the
assembly's tree): first the other devices of D's own line nearer the root, then those at and above the
buses on the way. Where both have a time–current curve (``protection_curve``, log–log interpolation, no
operation below the first point, the last time above the last), they are selective when the upstream
device's time exceeds D's at every current from D's lowest operating current up to the largest current
through D for a fault beyond it (its forward peak). The upstream device is taken at D's current: it carries
no more than that (sources between them feed the fault without passing it), so its time is no shorter; on the
safe side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from gigawatt.solver.faults.currents import FaultPoints, evaluate_points, zone_capacitance, zone_limits
from gigawatt.solver.faults.network import KINDS, FaultSystem

SELECTIVITY_POINTS = 64
"""Currents (log-spaced) at which two curves are compared."""


@dataclass(frozen=True)
class DeviceDuty:
    """Per device (rows of the protection table in service, in table order)."""

    row: np.ndarray
    bus: np.ndarray  # position of the bus the device sits at
    duty: np.ndarray  # [A] peak current it must interrupt
    direction: np.ndarray  # "forward", "reverse" or "bus"
    forward_i_p: np.ndarray  # [A]
    reverse_i_p: np.ndarray  # [A]
    forward_i_k: np.ndarray  # [A]
    upstream: np.ndarray  # row of the upstream device in the protection table, −1 if none
    selective: np.ndarray  # 1, 0 or NaN (no curve, no upstream device)
    crossing_a: np.ndarray  # [A] lowest current at which the pair is not selective (NaN if selective)


def curve_time(points_a: np.ndarray, points_s: np.ndarray, current) -> np.ndarray:
    """Operating time [s] of a time–current curve given by points (current [A], time [s]) at ``current``:
    log–log interpolation, inf below the first point, the last time above the last."""
    current = np.asarray(current, float)
    t = np.exp(np.interp(np.log(current), np.log(points_a), np.log(points_s)))
    return np.where(current < points_a[0], np.inf, t)


@njit(cache=True)
def _series(y1, y2):
    """Admittance of two admittances in series (either may be inf)."""
    if y1 == np.inf:
        return y2
    if y2 == np.inf:
        return y1
    if y1 + y2 <= 0.0:
        return 0.0
    return y1 * y2 / (y1 + y2)


@njit(cache=True)
def _through(j, y_from, y_to):
    """Norton current of a source (j, y_from) seen through a series branch that makes it y_to."""
    if y_from == np.inf or y_from <= 0.0:
        return j if y_from == np.inf else 0.0
    return j * y_to / y_from


@njit(cache=True)
def tree_admittances(parent, shunt, y_line, inject, down, eff, up, full, j_down, j_up):
    """One kind's network on the assembly's tree (parents before children), for each bus: ``down`` the
    admittance of its subtree to the reference, ``eff`` that subtree seen from its parent through its tree
    line, ``up`` the rest of the network seen from the bus through its tree line, ``full`` = down + up; and
    the Norton currents ``j_down``, ``j_up`` of those two sides for node injections ``inject`` (the open-circuit
    voltage of a side is its current over its admittance)."""
    n = parent.size
    for p in range(n):
        down[p] = shunt[p]
        j_down[p] = inject[p]
        eff[p] = 0.0
    for c in range(n - 1, -1, -1):
        p = parent[c]
        if p >= 0:
            e = _series(y_line[c], down[c])
            eff[c] = e
            down[p] += e
            j_down[p] += _through(j_down[c], down[c], e)
    for c in range(n):
        p = parent[c]
        if p < 0:
            up[c] = 0.0
            j_up[c] = 0.0
        else:
            rest = np.inf if full[p] == np.inf else full[p] - eff[c]
            j_rest = j_down[p] + j_up[p] - _through(j_down[c], down[c], eff[c])
            up[c] = _series(y_line[c], rest)
            j_up[c] = _through(j_rest, rest, up[c])
        full[c] = down[c] + up[c]


@njit(cache=True)
def subtree_sums(parent, value, out):
    """Sum of ``value`` over each bus's subtree (parents before children)."""
    for p in range(parent.size):
        out[p] = value[p]
    for c in range(parent.size - 1, -1, -1):
        if parent[c] >= 0:
            out[parent[c]] += out[c]


def _admittance(imp):
    with np.errstate(divide="ignore"):
        return np.where(imp > 0, 1.0 / np.where(imp > 0, imp, 1.0), np.inf)


def _summed(index, y, n):
    """Admittances ``y`` (inf allowed) summed per ``index``."""
    out = np.bincount(index, weights=np.where(np.isinf(y), 0.0, y), minlength=n)
    out[index[np.isinf(y)]] = np.inf
    return out


def _tree(fs: FaultSystem, net, kind: str, quantity: str, inject=None) -> dict:
    """:func:`tree_admittances` of one kind's network (monopolar) for resistances ("r") or inductances ("l")."""
    n = net.n_bus
    src = fs.sources[kind]
    on = src.a >= 0
    shunt = _summed(src.a[on], _admittance(src.r if quantity == "r" else src.l)[on], n)
    parent = net.parent.astype(np.int64)
    a, b = fs.edge_a, fs.edge_b
    child = np.where(parent[a] == b, a, np.where(parent[b] == a, b, -1))
    tree = child >= 0
    y_line = _summed(child[tree], _admittance(fs.edge_r if quantity == "r" else fs.edge_l)[tree], n)
    out = {k: np.empty(n) for k in ("down", "eff", "up", "full", "j_down", "j_up")}
    tree_admittances(parent, shunt, y_line, np.zeros(n) if inject is None else inject, out["down"], out["eff"],
                     out["up"], out["full"], out["j_down"], out["j_up"])
    return out


def _ratio(j, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((y > 0) & np.isfinite(y), j / np.where(y > 0, y, 1.0), 0.0)


def _impedance(y):
    with np.errstate(divide="ignore"):
        return np.where(y > 0, 1.0 / np.where(y > 0, y, 1.0), np.inf)


def device_duty(case, net, fs: FaultSystem, bus_points, bus_total, bus_index: np.ndarray) -> DeviceDuty:
    """The breaking duty and selectivity of every protective device in service (module notes).

    ``bus_points``/``bus_total``: the per-fault-type :class:`FaultPoints` and totals (n, types, 5) of the buses
    at positions ``bus_index`` (every bus the devices sit at must be among them)."""
    dev = case.tables["protection"]
    rows = np.flatnonzero(dev["in_service"].to_numpy(bool))
    lines = case.tables["line"]
    bus_ids = pd.Index(case.tables["bus"]["id"])
    line_row = pd.Index(lines["id"]).get_indexer(dev["line"].to_numpy()[rows])
    on_line = line_row >= 0
    at_to = dev["line_end"].to_numpy()[rows] == "to"
    end_bus = np.where(at_to, lines["to_bus"].to_numpy()[np.maximum(line_row, 0)],
                       lines["from_bus"].to_numpy()[np.maximum(line_row, 0)])
    bus_name = np.where(on_line, end_bus, dev["bus"].to_numpy()[rows])
    f = net.pos[bus_ids.get_indexer(bus_name)].astype(np.int64)
    other = np.where(at_to, net.line_from[np.maximum(line_row, 0)], net.line_to[np.maximum(line_row, 0)])
    live_line = on_line & net.line_in_service[np.maximum(line_row, 0)]
    where = pd.Index(bus_index).get_indexer(f)
    # the bus fault at each device's bus, the worst fault type: the duty of bus devices and the fallback
    worst_type = np.argmax(bus_total[where, :, 0], axis=1)
    bus_peak = bus_total[where, worst_type, 0]
    n = rows.size
    fwd_ip, rev_ip, fwd_ik = bus_peak.copy(), np.full(n, np.nan), bus_total[where, worst_type, 2].copy()
    direction = np.full(n, "bus", dtype=object)
    parent = net.parent.astype(np.int64)
    split = live_line & (fs.system == "monopolar") & ((parent[other] == f) | (parent[f] == other))
    if split.any():
        fp, rp = _split_points(fs, net, f[split], other[split], bus_points[0], where[split])
        _, tot_f = evaluate_points(fp)
        _, tot_r = evaluate_points(rp)
        fwd_ip[split], rev_ip[split], fwd_ik[split] = tot_f[:, 0], tot_r[:, 0], tot_f[:, 2]
        direction[split] = np.where(tot_f[:, 0] >= tot_r[:, 0], "forward", "reverse")
    duty = np.where(split, np.fmax(fwd_ip, rev_ip), bus_peak)
    upstream = _upstream(net, rows, f, other, on_line, live_line)
    selective, crossing = _selectivity(case, rows, upstream, fwd_ip)
    return DeviceDuty(rows, f, duty, direction.astype(str), fwd_ip, rev_ip, fwd_ik, upstream, selective, crossing)


def _split_points(fs: FaultSystem, net, f, other, pts: FaultPoints, where) -> tuple:
    """Forward (f's side without the line) and reverse (the line's side) fault points of devices at bus f on
    the tree line between f and ``other`` (monopolar)."""
    parent = net.parent.astype(np.int64)
    at_parent = parent[other] == f  # the device sits at the parent end: the line leads into other's subtree
    c = np.where(at_parent, other, f)
    shape = (f.size, len(KINDS))
    e_fwd, e_rev = pts.e[where].copy(), pts.e[where].copy()
    r_fwd, r_rev, l_fwd, l_rev = (np.empty(shape) for _ in range(4))
    for j, kind in enumerate(KINDS):
        for q, out_f, out_r in (("r", r_fwd, r_rev), ("l", l_fwd, l_rev)):
            inject = None
            if kind == "battery" and q == "r":  # the batteries' EMFs as Norton currents: their sides' voltages
                src = fs.sources["battery"]
                inject = np.zeros(net.n_bus)
                np.add.at(inject, src.a[src.a >= 0], (src.e / src.r)[src.a >= 0])
            t = _tree(fs, net, kind, q, inject)
            sub_j = np.array([_through_py(jd, dn, ef) for jd, dn, ef in
                              zip(t["j_down"][c], t["down"][c], t["eff"][c])]) if inject is not None else None
            with np.errstate(invalid="ignore"):
                y_bus = np.where(at_parent, t["full"][f] - t["eff"][c], t["down"][c])
            y_bus = np.where(np.isnan(y_bus), np.inf, y_bus)
            y_line = np.where(at_parent, t["eff"][c], t["up"][c])
            out_f[:, j], out_r[:, j] = _impedance(y_bus), _impedance(y_line)
            if inject is not None:
                j_bus = np.where(at_parent, t["j_down"][f] + t["j_up"][f] - sub_j, t["j_down"][c])
                j_line = np.where(at_parent, sub_j, t["j_up"][c])
                e_fwd[:, j], e_rev[:, j] = np.abs(_ratio(j_bus, y_bus)), np.abs(_ratio(j_line, y_line))
    zone = fs.zone[f]
    cap = zone_capacitance(fs)[zone, 0, 0]
    lim = zone_limits(fs)[zone, 0]
    sums = {}
    for kind in ("capacitor", "converter"):
        src = fs.sources[kind]
        on = src.a >= 0
        sums[kind] = np.empty(net.n_bus)
        subtree_sums(parent, np.bincount(src.a[on], weights=src.value[on], minlength=net.n_bus), sums[kind])
    c_line = np.where(at_parent, sums["capacitor"][c], cap - sums["capacitor"][c])
    i_line = np.where(at_parent, sums["converter"][c], lim - sums["converter"][c])
    return (FaultPoints(e_fwd, r_fwd, l_fwd, lim - i_line, cap - c_line),
            FaultPoints(e_rev, r_rev, l_rev, i_line, c_line))


def _through_py(j, y_from, y_to):
    return float(_through(j, y_from, y_to))


def _upstream(net, rows, f, other, on_line, live_line) -> np.ndarray:
    """Index (into ``rows``) of each device's upstream device, −1 if none (module notes)."""
    parent = net.parent.astype(np.int64)
    tree = live_line & ((parent[other] == f) | (parent[f] == other))
    c = np.where(parent[other] == f, other, f)
    # location of each device on the tree: (bus, rank) with rank 1 at a bus, 2 at a line's child end, 3 at its
    # parent end; walking up from a device: higher ranks at the same bus, then every rank at the ancestors
    node = np.where(on_line, c, f)
    rank = np.where(~on_line, 1, np.where(f == c, 2, 3))
    by_node = {}
    for k in np.flatnonzero(~on_line | tree):
        by_node.setdefault(int(node[k]), []).append((int(rank[k]), int(k)))
    out = np.full(rows.size, -1, dtype=np.int64)
    for k in np.flatnonzero(~on_line | tree):
        here = sorted(x for x in by_node.get(int(node[k]), []) if x[0] > rank[k])
        if here:
            out[k] = here[0][1]
            continue
        b = parent[node[k]]
        while b >= 0:
            if b in by_node:
                out[k] = sorted(by_node[b])[0][1]
                break
            b = parent[b]
    return out


def _selectivity(case, rows, upstream, i_max) -> tuple[np.ndarray, np.ndarray]:
    """(selective 1/0/NaN, lowest current where not selective [A]) of each device with its upstream device."""
    dev = case.tables["protection"]
    pts = case.tables["protection_curve"]
    curve_of = dev["curve"].to_numpy()[rows]
    names = pts["curve"].to_numpy()
    cur, tim = pts["current_a"].to_numpy(float), pts["time_s"].to_numpy(float)
    curves = {n: (cur[names == n], tim[names == n]) for n in dict.fromkeys(names)}
    selective, crossing = np.full(rows.size, np.nan), np.full(rows.size, np.nan)
    for k in np.flatnonzero(upstream >= 0):
        u = upstream[k]
        if not curve_of[k] or not curve_of[u] or not np.isfinite(i_max[k]):
            continue
        (ca, ta), (ua, uta) = curves[curve_of[k]], curves[curve_of[u]]
        lo = ca[0]
        if i_max[k] <= lo:
            selective[k] = 1.0  # the device does not operate at any current it can see
            continue
        current = np.geomspace(lo, i_max[k], SELECTIVITY_POINTS)
        t_d, t_u = curve_time(ca, ta, current), curve_time(ua, uta, current)
        bad = np.flatnonzero(t_u <= t_d)
        selective[k] = 0.0 if bad.size else 1.0
        if bad.size:
            crossing[k] = current[bad[0]]
    return selective, crossing
