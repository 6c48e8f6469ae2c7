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
network (each line is then a bridge; parallel lines between two buses are split off together). For a line
that closes a ring, and for every device of a bipolar network, the duty is the fault at the device's bus
itself, all its contributions (an upper bound: both sides together).

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

from gigawatt.solver.faults.currents import (CONTRIBUTIONS, FaultPoints, evaluate_points, zone_capacitance,
                                             zone_limits)
from gigawatt.solver.faults.network import KINDS, FaultSystem

SELECTIVITY_POINTS = 64
"""Currents (log-spaced) at which two curves are compared."""


@dataclass(frozen=True)
class DeviceDuty:
    """Per device (rows of the protection table in service, in table order)."""

    row: np.ndarray
    duty: np.ndarray  # [A] peak current it must interrupt
    direction: np.ndarray  # "forward", "reverse" or "bus"
    forward_i_p: np.ndarray  # [A]
    reverse_i_p: np.ndarray  # [A]
    forward_i_k: np.ndarray  # [A]
    upstream: np.ndarray  # index (among these devices) of the upstream device, −1 if none
    selective: np.ndarray  # 1, 0 or NaN (no curve, no upstream device)
    crossing_a: np.ndarray  # [A] lowest current at which the pair is not selective (NaN if selective)


def curve_time(points_a: np.ndarray, points_s: np.ndarray, current) -> np.ndarray:
    """Operating time [s] of a time–current curve given by points (current [A], time [s]) at ``current``:
    log–log interpolation, inf below the first point, the last time above the last."""
    current = np.asarray(current, float)
    t = np.exp(np.interp(np.log(current), np.log(points_a), np.log(points_s)))
    return np.where(current < points_a[0], np.inf, t)


@njit(cache=True)
def _reciprocal(x0, x1):
    """1/x to first order in s (value, derivative) of x0 + s·x1: an admittance's impedance or the reverse
    (x0 inf: a short's impedance is 0; x0 0: an open circuit's is inf)."""
    if x0 == np.inf:
        return 0.0, 0.0
    if x0 <= 0.0:
        return np.inf, 0.0
    return 1.0 / x0, -x1 / (x0 * x0)


@njit(cache=True)
def _series(a0, a1, b0, b1):
    """Two admittances (first order in s) in series."""
    za0, za1 = _reciprocal(a0, a1)
    zb0, zb1 = _reciprocal(b0, b1)
    return _reciprocal(za0 + zb0, za1 + zb1)


@njit(cache=True)
def _through(j, y_from, y_to):
    """Norton current of a source (j, y_from) seen through a series branch that makes it y_to (s = 0)."""
    if y_from == np.inf:
        return j
    if y_from <= 0.0:
        return 0.0
    return j * y_to / y_from


@njit(cache=True)
def tree_admittances(parent, shunt0, shunt1, line0, line1, inject, out0, out1, j_down, j_up):
    """One kind's network on the assembly's tree (parents before children), each admittance to first order in
    s (value ``out0``, derivative ``out1``), rows: 0 ``down`` (each bus's subtree to the reference), 1 ``eff``
    (that subtree seen from its parent through its tree line), 2 ``up`` (the rest of the network seen from the
    bus through its tree line), 3 ``full`` = down + up; and the Norton currents at s = 0 ``j_down``, ``j_up`` of
    those two sides for node injections ``inject`` (a side's open-circuit voltage is its current over its
    admittance)."""
    n = parent.size
    for p in range(n):
        out0[0, p], out1[0, p] = shunt0[p], shunt1[p]
        out0[1, p], out1[1, p] = 0.0, 0.0
        j_down[p] = inject[p]
    for c in range(n - 1, -1, -1):
        p = parent[c]
        if p >= 0:
            e0, e1 = _series(line0[c], line1[c], out0[0, c], out1[0, c])
            out0[1, c], out1[1, c] = e0, e1
            out0[0, p] += e0
            out1[0, p] += e1
            j_down[p] += _through(j_down[c], out0[0, c], e0)
    for c in range(n):
        p = parent[c]
        if p < 0:
            out0[2, c], out1[2, c], j_up[c] = 0.0, 0.0, 0.0
        else:
            if out0[3, p] == np.inf:
                r0, r1 = np.inf, 0.0
            else:
                r0, r1 = out0[3, p] - out0[1, c], out1[3, p] - out1[1, c]
            j_rest = j_down[p] + j_up[p] - _through(j_down[c], out0[0, c], out0[1, c])
            u0, u1 = _series(line0[c], line1[c], r0, r1)
            out0[2, c], out1[2, c] = u0, u1
            j_up[c] = _through(j_rest, r0, u0)
        out0[3, c], out1[3, c] = out0[0, c] + out0[2, c], out1[0, c] + out1[2, c]


@njit(cache=True)
def subtree_sums(parent, value, out):
    """Sum of ``value`` over each bus's subtree (parents before children)."""
    for p in range(parent.size):
        out[p] = value[p]
    for c in range(parent.size - 1, -1, -1):
        if parent[c] >= 0:
            out[parent[c]] += out[c]


def _branch_admittance(r, l):
    """(y0, y1) of branches of impedance r + s·l (r = 0: a short)."""
    with np.errstate(divide="ignore"):
        y0 = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), np.inf)
        y1 = np.where(r > 0, -l / np.where(r > 0, r, 1.0) ** 2, 0.0)
    return y0, y1


def _summed(index, y0, y1, n):
    """Admittances (y0 may be inf) summed per ``index``."""
    s0 = np.bincount(index, weights=np.where(np.isinf(y0), 0.0, y0), minlength=n)
    s1 = np.bincount(index, weights=np.where(np.isinf(y0), 0.0, y1), minlength=n)
    s0[index[np.isinf(y0)]] = np.inf
    return s0, s1


def _tree(fs: FaultSystem, net, kind: str, inject=None):
    """:func:`tree_admittances` of one kind's network (monopolar): (value, derivative) arrays (4, n) and the
    Norton currents."""
    n = net.n_bus
    src = fs.sources[kind]
    on = src.a >= 0
    shunt0, shunt1 = _summed(src.a[on], *[x[on] for x in _branch_admittance(src.r, src.l)], n)
    parent = net.parent.astype(np.int64)
    a, b = fs.edge_a, fs.edge_b
    child = np.where(parent[a] == b, a, np.where(parent[b] == a, b, -1))
    tree = child >= 0
    line0, line1 = _summed(child[tree], *[x[tree] for x in _branch_admittance(fs.edge_r, fs.edge_l)], n)
    out0, out1 = np.empty((4, n)), np.empty((4, n))
    j_down, j_up = np.empty(n), np.empty(n)
    tree_admittances(parent, shunt0, shunt1, line0, line1, np.zeros(n) if inject is None else inject, out0, out1,
                     j_down, j_up)
    return out0, out1, j_down, j_up


def _impedance(y0, y1):
    """(R, L) of admittances y0 + s·y1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(y0 > 0, 1.0 / np.where(y0 > 0, y0, 1.0), np.inf)
        l = np.where(np.isfinite(y0) & (y0 > 0), -y1 / np.where(y0 > 0, y0, 1.0) ** 2, np.where(y0 > 0, 0.0, np.inf))
    return r, np.maximum(l, 0.0)


def _ratio(j, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((y > 0) & np.isfinite(y), j / np.where(y > 0, y, 1.0), 0.0)


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
    return DeviceDuty(rows, duty, direction.astype(str), fwd_ip, rev_ip, fwd_ik, upstream, selective, crossing)


def _split_points(fs: FaultSystem, net, f, other, pts: FaultPoints, where) -> tuple:
    """Forward (f's side without the line) and reverse (the line's side) fault points of devices at bus f on
    the tree line between f and ``other`` (monopolar)."""
    parent = net.parent.astype(np.int64)
    at_parent = parent[other] == f  # the device sits at the parent end: the line leads into other's subtree
    c = np.where(at_parent, other, f)
    n_c = len(CONTRIBUTIONS)
    e_fwd, e_rev = pts.e[where].copy(), pts.e[where].copy()
    r_fwd, r_rev, l_fwd, l_rev = (np.full((f.size, n_c), np.inf) for _ in range(4))
    l_fwd[:, 2] = l_rev[:, 2] = 0.0
    sides = {}
    for kind in KINDS:
        inject = None
        if kind == "battery":  # the batteries' EMFs as Norton currents: each side's open-circuit voltage
            src = fs.sources["battery"]
            inject = np.zeros(net.n_bus)
            np.add.at(inject, src.a[src.a >= 0], (src.e / src.r)[src.a >= 0])
        v0, v1, j_down, j_up = _tree(fs, net, kind, inject)
        sub0, sub1 = v0[1, c], v1[1, c]  # c's subtree through its line
        with np.errstate(invalid="ignore"):
            bus0 = np.where(at_parent, np.where(np.isinf(v0[3, f]), np.inf, v0[3, f] - sub0), v0[0, c])
            bus1 = np.where(at_parent, np.where(np.isinf(v0[3, f]), 0.0, v1[3, f] - sub1), v1[0, c])
        line0 = np.where(at_parent, sub0, v0[2, c])
        line1 = np.where(at_parent, sub1, v1[2, c])
        sides[kind] = (bus0, bus1, line0, line1)
        if inject is not None:
            sub_j = np.array([_through(jd, dn, ef) for jd, dn, ef in zip(j_down[c], v0[0, c], sub0)])
            j_bus = np.where(at_parent, j_down[f] + j_up[f] - sub_j, j_down[c])
            j_line = np.where(at_parent, sub_j, j_up[c])
            e_fwd[:, 3], e_rev[:, 3] = np.abs(_ratio(j_bus, bus0)), np.abs(_ratio(j_line, line0))
    for col, kind in ((0, "converter"), (3, "battery")):
        bus0, bus1, line0, line1 = sides[kind]
        r_fwd[:, col], l_fwd[:, col] = _impedance(bus0, bus1)
        r_rev[:, col], l_rev[:, col] = _impedance(line0, line1)
    # capacitors: the ones at f are across the forward fault's port (local); the rest through the network
    caps = fs.sources["capacitor"]
    on = caps.a >= 0
    y_at = np.bincount(caps.a[on], weights=1.0 / caps.r[on], minlength=net.n_bus)[f]
    c_at = np.bincount(caps.a[on], weights=caps.value[on], minlength=net.n_bus)[f]
    bus0, bus1, line0, line1 = sides["capacitor"]
    with np.errstate(invalid="ignore"):
        rest0 = np.where(np.isinf(bus0), np.inf, bus0 - y_at)
    rest0 = np.where(np.isinf(rest0) | (rest0 > 1e-12 * np.abs(bus0)), rest0, 0.0)
    r_fwd[:, 1], l_fwd[:, 1] = _impedance(rest0, bus1)
    with np.errstate(divide="ignore"):
        r_fwd[:, 2] = np.where(y_at > 0, 1.0 / np.where(y_at > 0, y_at, 1.0), np.inf)
    r_rev[:, 1], l_rev[:, 1] = _impedance(line0, line1)
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
    return (FaultPoints(e_fwd, r_fwd, l_fwd, lim - i_line, np.column_stack([cap - c_line - c_at, c_at])),
            FaultPoints(e_rev, r_rev, l_rev, i_line, np.column_stack([c_line, np.zeros(f.size)])))


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
