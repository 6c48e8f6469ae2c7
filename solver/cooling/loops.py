"""Assembly of the technology cooling loops: one loop per CDU, its racks tapped off a pair of headers.

Each loop (racks sharing a ``cooling_loop`` name, in table order) becomes a ladder network::

    CDU supply S ──feed── s1 ── s2 ── … ── sk        supply header, one segment per rack pitch
                          │     │          │         rack branches
    CDU return R ──feed── r1 ── r2 ── … ── rk        return header (direct return, drawn here)

With reverse return the return header runs the other way, r1 → rk, and a return feed of the row's length
plus the feed length brings it back from rk to R, so every rack's path is equally long.

A rack branch is one pipe (hoses, manifolds, quick disconnects and cold plates lumped into a loss
coefficient), or, with ``plate_resolution``, a ladder of its own between ``s_i`` and ``r_i``: a supply
hose to the rack's supply manifold, one branch per cold plate, the return manifold (direct return) and a
return hose. Either way the *heat units* (racks, or plates) are branches whose heat enters at their middle
(see :mod:`gigawatt.solver.cooling.stage`).

All loops go into one set of arrays (separate connected components, each with its return node as the
pressure reference). Built with array arithmetic, no Python loop over racks or plates.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numba import njit

DEFAULT_LOOP = "tcs"
"""Loop name of racks whose ``cooling_loop`` is empty."""

ROLES = ("feed_supply", "supply_header", "rack", "return_header", "feed_return",
         "rack_hose_supply", "rack_manifold_supply", "plate", "rack_manifold_return", "rack_hose_return")
"""Pipe roles, indexed by :attr:`LoopNetwork.pipe_role`: the loop ladder's five, then the rack ladder's."""
LOOP_LADDER, RACK_LADDER = 0, 5  # first role of each ladder level
RACK, PLATE = 2, 7
LOOP_SETTINGS = ("plate_resolution", "chips_per_rack", "reverse_return", "header_segment_length_m",
                 "header_feed_length_m", "header_diameter_m", "header_k_minor", "rack_hose_length_m",
                 "rack_hose_diameter_m", "manifold_segment_length_m", "manifold_diameter_m", "plate_hose_length_m",
                 "plate_hose_diameter_m")
"""The ``[cooling]`` settings :func:`build_loops` reads (with the rack table's ``id`` and ``cooling_loop``)."""


@dataclass(frozen=True)
class LoopNetwork:
    """The technology loops as arrays (SI). Racks are in case-table order; heat units are racks (lumped)
    or plates (``plate_resolution``), plates grouped by rack."""

    loop_ids: np.ndarray           # [n_loop] loop names, in order of first appearance
    rack_loop: np.ndarray          # [n_rack] loop index of each rack
    n_node: int
    supply_node: np.ndarray        # [n_loop] CDU outlet (pump discharge) node
    return_node: np.ndarray        # [n_loop] CDU inlet node, the loop's pressure reference
    rack_inlet_pipe: np.ndarray    # [n_rack] first pipe of each rack (its branch, or its supply hose)
    rack_outlet_node: np.ndarray   # [n_rack] where the rack's outflow is mixed; -1: its unit's heat node
    unit_rack: np.ndarray          # [n_unit] rack of each heat unit
    unit_pipe: np.ndarray          # [n_unit] the heat unit's branch among the pipes
    pipe_from: np.ndarray          # [n_pipe]
    pipe_to: np.ndarray
    pipe_loop: np.ndarray
    pipe_role: np.ndarray          # index into ROLES
    pipe_length_m: np.ndarray
    pipe_diameter_m: np.ndarray
    pipe_k_minor: np.ndarray
    pipe_ids: np.ndarray

    @property
    def n_loop(self) -> int:
        return self.loop_ids.size

    @property
    def units_per_rack(self) -> int:
        return self.unit_rack.size // max(self.rack_loop.size, 1)


def loop_of_racks(racks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(loop index per rack, loop names) from the rack table's ``cooling_loop`` column."""
    names = racks["cooling_loop"].to_numpy(object).copy()
    names[names == ""] = DEFAULT_LOOP
    codes, loop_ids = pd.factorize(names, sort=False)
    return codes.astype(np.int64), np.asarray(loop_ids, dtype=object)


@dataclass(frozen=True)
class _Ladder:
    tap_supply: np.ndarray   # supply-side node of each tap
    tap_return: np.ndarray   # return-side node of each tap
    n_new: int               # nodes created
    pipes: list              # [(from, to, length, diameter, k_minor, role, group)] per pipe kind


def _ladder(group, n_group, s_node, r_node, first_node, *, seg_m, feed_m, back_m, reverse, d_m, k_minor,
            branch_m, branch_d_m, branch_k, role0) -> _Ladder:
    """Ladder between each group's supply node ``s_node[g]`` and return node ``r_node[g]``, one rung per tap.

    ``group[t]`` is the group of tap ``t`` (any order; taps keep their order within a group). New nodes,
    ``2 k`` per group of ``k`` taps, are numbered from ``first_node``. Pipe kinds, in order: feed supply,
    supply header, tap branches, return header, feed return (``role0`` + 0..4). ``back_m`` is the length of
    the return feed added per header segment with reverse return (the way back along the row).
    """
    n_tap = group.size
    order = np.argsort(group, kind="stable")
    size = np.bincount(group, minlength=n_group)
    start = np.r_[0, np.cumsum(size)[:-1]]
    pos = np.empty(n_tap, dtype=np.int64)
    pos[order] = np.arange(n_tap) - np.repeat(start, size)
    base = first_node + 2 * start                                       # first new node of each group
    k = size[group]
    s_tap = base[group] + pos
    r_tap = s_tap + k
    last = pos == k - 1
    inner = ~last
    n_inner = int(inner.sum())
    groups = np.arange(n_group)
    if reverse:
        ret_from, ret_to = r_tap[inner], r_tap[inner] + 1
        back = np.zeros(n_group, dtype=np.int64)
        back[group[last]] = r_tap[last]
        back_len = feed_m + back_m * np.maximum(size - 1, 0)
    else:
        ret_from, ret_to = r_tap[inner] + 1, r_tap[inner]
        back = base + size                                              # the first tap's return node
        back_len = np.full(n_group, feed_m)
    pipes = [
        (s_node, base, np.full(n_group, feed_m), d_m, k_minor, role0, groups),
        (s_tap[inner], s_tap[inner] + 1, np.full(n_inner, seg_m), d_m, k_minor, role0 + 1, group[inner]),
        (s_tap, r_tap, np.full(n_tap, branch_m), branch_d_m, branch_k, role0 + 2, group),
        (ret_from, ret_to, np.full(n_inner, seg_m), d_m, k_minor, role0 + 3, group[inner]),
        (back, r_node, back_len, d_m, k_minor, role0 + 4, groups),
    ]
    return _Ladder(s_tap, r_tap, 2 * n_tap, pipes)


def _rank_within(key: np.ndarray) -> np.ndarray:
    """Rank of each entry among the entries of equal ``key``, in array order (0, 1, ...)."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    run_start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    run_length = np.diff(np.r_[run_start, key.size])
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = np.arange(key.size) - np.repeat(run_start, run_length)
    return rank


def _joined(owner: np.ndarray, role: np.ndarray) -> np.ndarray:
    """``owner-role`` for every owner, role by role within each owner."""
    return np.strings.add(np.strings.add(np.repeat(owner, role.size), "-"), np.tile(role, owner.size))


@njit(cache=True)
def _compose_chars(prefix, prefix_len, digits, digits_len, which, number, out):
    """Row ``i`` of ``out``: the characters of ``prefix[which[i]]`` then those of ``digits[number[i]]``,
    zero-padded (the code points of a fixed-width ``str`` array)."""
    for i in range(which.size):
        p, d = which[i], number[i]
        k = 0
        for j in range(prefix_len[p]):
            out[i, k] = prefix[p, j]
            k += 1
        for j in range(digits_len[d]):
            out[i, k] = digits[d, j]
            k += 1
        for j in range(k, out.shape[1]):
            out[i, j] = 0


def numbered_names(prefix: np.ndarray, which: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Names ``prefix[which[i]] + str(number[i])`` (no number where it is 0) as one fixed-width ``str``
    array, composed from the characters of a few short tables rather than string by string."""
    prefix = np.asarray(prefix, dtype=str)
    digits = np.arange(int(number.max(initial=0)) + 1).astype(str)
    digits[0] = ""
    w_prefix, w_digits = max(prefix.dtype.itemsize // 4, 1), max(digits.dtype.itemsize // 4, 1)
    prefix, digits = prefix.astype(f"<U{w_prefix}"), digits.astype(f"<U{w_digits}")
    at = np.strings.str_len(prefix).astype(np.int64)
    n_digits = np.strings.str_len(digits).astype(np.int64)
    width = max(int(np.max(at[which] + n_digits[number], initial=0)), 1)
    chars = np.empty((which.size, width), dtype=np.uint32)
    _compose_chars(prefix.view(np.uint32).reshape(-1, w_prefix), at, digits.view(np.uint32).reshape(-1, w_digits),
                   n_digits, np.ascontiguousarray(which, np.int64), np.ascontiguousarray(number, np.int64), chars)
    return chars.view(f"<U{width}").ravel()


def build_loops(racks: pd.DataFrame, s: dict, branch_k_minor: np.ndarray) -> LoopNetwork:
    """Ladder networks of every loop from the rack table and the ``[cooling]`` settings ``s``.

    ``branch_k_minor`` [-]: loss coefficient of each heat unit's branch on its pipe's dynamic pressure
    (per rack, or per plate grouped by rack with ``plate_resolution``).
    """
    rack_loop, loop_ids = loop_of_racks(racks)
    n_rack, n_loop = rack_loop.size, loop_ids.size
    plates = bool(s["plate_resolution"])
    sup, ret = 2 * np.arange(n_loop), 2 * np.arange(n_loop) + 1
    loop_ladder = _ladder(rack_loop, n_loop, sup, ret, 2 * n_loop, seg_m=s["header_segment_length_m"],
                          feed_m=s["header_feed_length_m"], back_m=s["header_segment_length_m"],
                          reverse=s["reverse_return"], d_m=s["header_diameter_m"], k_minor=s["header_k_minor"],
                          branch_m=s["rack_hose_length_m"], branch_d_m=s["rack_hose_diameter_m"],
                          branch_k=0.0 if plates else branch_k_minor, role0=LOOP_LADDER)
    n_node = 2 * n_loop + loop_ladder.n_new
    parts = [p + (-1,) for p in loop_ladder.pipes]  # (..., group = loop, owner rack: none)
    if plates:
        n_plate = s["chips_per_rack"]
        plate_rack = np.repeat(np.arange(n_rack), n_plate)
        rack_ladder = _ladder(plate_rack, n_rack, loop_ladder.tap_supply, loop_ladder.tap_return, n_node,
                              seg_m=s["manifold_segment_length_m"], feed_m=0.5 * s["rack_hose_length_m"],
                              back_m=0.0, reverse=False, d_m=s["manifold_diameter_m"], k_minor=0.0,
                              branch_m=s["plate_hose_length_m"], branch_d_m=s["plate_hose_diameter_m"],
                              branch_k=branch_k_minor, role0=RACK_LADDER)
        n_node += rack_ladder.n_new
        # Hoses have the hose diameter, the manifolds theirs; the loop ladder's rack rungs are replaced.
        hose_in, man_s, plate_p, man_r, hose_out = rack_ladder.pipes
        d_hose = s["rack_hose_diameter_m"]
        hose_in = hose_in[:3] + (d_hose,) + hose_in[4:]
        hose_out = hose_out[:3] + (d_hose,) + hose_out[4:]
        rack_loop_of = lambda p: p[:6] + (rack_loop[p[6]], p[6])  # noqa: E731  group: loop, owner: rack
        parts = [parts[0], parts[1], parts[3], parts[4]] + [rack_loop_of(p) for p in
                                                            (hose_in, man_s, plate_p, man_r, hose_out)]
    counts = [np.asarray(p[0]).size for p in parts]
    offsets = np.r_[0, np.cumsum(counts)]

    def cat(i, dtype=float):
        return np.concatenate([np.broadcast_to(np.asarray(p[i], dtype), (c,)) for p, c in zip(parts, counts)])

    role = np.repeat([p[5] for p in parts], counts)
    loop = cat(6, np.int64)
    if plates:
        first_rack_kind = 4  # hose_in
        unit_pipe = offsets[6] + np.arange(n_rack * s["chips_per_rack"])
        unit_rack = np.repeat(np.arange(n_rack), s["chips_per_rack"])
        rack_inlet = offsets[first_rack_kind] + np.arange(n_rack)
        outlet = rack_ladder.tap_return[np.r_[0, np.cumsum(np.full(n_rack, s["chips_per_rack"]))[:-1]]]
    else:
        unit_pipe = offsets[2] + np.arange(n_rack)
        unit_rack = np.arange(n_rack)
        rack_inlet = unit_pipe
        outlet = np.full(n_rack, -1)
    # Pipes are named after their loop (loop ladder) or their rack (rack ladder, and a lumped rack's branch),
    # their role, and their number among the pipes of that role there.
    owner_rack = cat(7, np.int64)
    by_rack = owner_rack >= 0
    n_role, n_rack_role = len(ROLES), len(ROLES) - RACK_LADDER
    key = np.where(by_rack, n_loop * n_role + owner_rack * n_rack_role + role - RACK_LADDER, loop * n_role + role)
    number = _rank_within(key) + 1
    rack_names = np.asarray(racks["id"].to_numpy(object), dtype=str)
    roles = np.asarray(ROLES, dtype=str)
    prefix = [_joined(np.asarray(loop_ids, dtype=str), roles)]
    if plates:
        prefix.append(_joined(rack_names, roles[RACK_LADDER:]))
    else:  # a lumped rack's branch: "<rack>-branch", unnumbered
        prefix.append(np.strings.add(rack_names, "-branch"))
        key[unit_pipe] = n_loop * n_role + np.arange(n_rack)
        number[unit_pipe] = 0
    prefix = np.concatenate(prefix)
    pipe_ids = numbered_names(prefix, key, number)
    return LoopNetwork(loop_ids=loop_ids, rack_loop=rack_loop, n_node=int(n_node), supply_node=sup,
                       return_node=ret, rack_inlet_pipe=rack_inlet, rack_outlet_node=outlet, unit_rack=unit_rack,
                       unit_pipe=unit_pipe, pipe_from=cat(0, np.int64), pipe_to=cat(1, np.int64), pipe_loop=loop,
                       pipe_role=role, pipe_length_m=cat(2), pipe_diameter_m=cat(3), pipe_k_minor=cat(4),
                       pipe_ids=pipe_ids)


def case_loops(case, s: dict, branch_k_minor: np.ndarray) -> LoopNetwork:
    """:func:`build_loops` of the case's rack table, its topology made once per case: kept with the (immutable)
    case, keyed by the rack table and the values of :data:`LOOP_SETTINGS` (STYLE rule 7), with read-only
    arrays; only the heat units' ``branch_k_minor`` [-] is set per call (a repeated solve, a cooling outage)."""
    key = tuple(s[k] for k in LOOP_SETTINGS)
    topology = case.derived(("cooling_loops", key), ("rack",), lambda: _read_only(build_loops(case.tables["rack"], s,
                                                                                              0.0)))
    k_minor = topology.pipe_k_minor.copy()
    k_minor[topology.unit_pipe] = branch_k_minor
    k_minor.flags.writeable = False
    return replace(topology, pipe_k_minor=k_minor)


def _read_only(loops: LoopNetwork) -> LoopNetwork:
    for name in loops.__dataclass_fields__:
        value = getattr(loops, name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return loops
