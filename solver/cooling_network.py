"""Assembly of the technology cooling loops: one loop per CDU, its racks tapped off a pair of headers.

Each loop (racks sharing a ``cooling_loop`` name, in table order) becomes a ladder network::

    CDU supply S ──feed── s1 ── s2 ── … ── sk        supply header, one segment per rack pitch
                          │     │          │         rack branches: hoses + manifolds + cold plates
    CDU return R ──feed── r1 ── r2 ── … ── rk        return header (direct return, drawn here)

With reverse return the return header runs the other way, r1 → rk, and a return feed of the row's length
plus the feed length brings it back from rk to R, so every rack's path is equally long. Nodes of loop l are
``S, R, s1..sk, r1..rk``; its pipes, ``3k`` of them, in the order feed supply, supply header, racks, return
header, feed return. All loops go into one set of arrays (they are separate connected components, each with
its return node as pressure reference). Built with array arithmetic, no Python loop over racks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_LOOP = "tcs"
"""Loop name of racks whose ``cooling_loop`` is empty."""

ROLES = ("feed_supply", "supply_header", "rack", "return_header", "feed_return")
"""Pipe roles, indexed by :attr:`LoopNetwork.pipe_role`."""
FEED_SUPPLY, SUPPLY_HEADER, RACK, RETURN_HEADER, FEED_RETURN = range(5)


@dataclass(frozen=True)
class LoopNetwork:
    """The technology loops as arrays (SI). Racks are in case-table order unless stated."""

    loop_ids: np.ndarray           # [n_loop] loop names, in order of first appearance
    rack_loop: np.ndarray          # [n_rack] loop index of each rack
    n_node: int
    supply_node: np.ndarray        # [n_loop] CDU outlet (pump discharge) node
    return_node: np.ndarray        # [n_loop] CDU inlet node, the loop's pressure reference
    rack_supply_node: np.ndarray   # [n_rack] supply-header tap of each rack
    rack_return_node: np.ndarray   # [n_rack] return-header tap of each rack
    rack_pipe: np.ndarray          # [n_rack] index of each rack's branch among the pipes
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


def loop_of_racks(racks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(loop index per rack, loop names) from the rack table's ``cooling_loop`` column."""
    names = racks["cooling_loop"].to_numpy(object).copy()
    names[names == ""] = DEFAULT_LOOP
    codes, loop_ids = pd.factorize(names, sort=False)
    return codes.astype(np.int64), np.asarray(loop_ids, dtype=object)


def build_loops(racks: pd.DataFrame, s: dict, rack_k_minor: np.ndarray) -> LoopNetwork:
    """Ladder networks of every loop from the rack table and the ``[cooling]`` settings ``s``.

    ``rack_k_minor`` [-] is each rack branch's loss coefficient on its hose's dynamic pressure (manifolds,
    quick disconnects and cold plates).
    """
    rack_loop, loop_ids = loop_of_racks(racks)
    n_rack, n_loop = rack_loop.size, loop_ids.size
    order = np.argsort(rack_loop, kind="stable")                      # racks grouped by loop, table order kept
    size = np.bincount(rack_loop, minlength=n_loop)
    first = np.r_[0, np.cumsum(size)[:-1]]
    pos = np.empty(n_rack, dtype=np.int64)                             # position of each rack in its loop
    pos[order] = np.arange(n_rack) - np.repeat(first, size)
    base = np.r_[0, np.cumsum(2 * size + 2)[:-1]]                      # first node of each loop
    k = size[rack_loop]
    s_node = base[rack_loop] + 2 + pos
    r_node = s_node + k
    sup, ret = base, base + 1

    last = pos == k - 1
    inner = ~last
    seg = s["header_segment_length_m"]
    feed = s["header_feed_length_m"]
    row_length = (size - 1) * seg
    if s["reverse_return"]:
        ret_from, ret_to = r_node[inner], r_node[inner] + 1
        back = np.zeros(n_loop, dtype=np.int64)
        back[rack_loop[last]] = r_node[last]
        feed_ret_len = feed + row_length
    else:
        ret_from, ret_to = r_node[inner] + 1, r_node[inner]
        back = base + 2 + size                                         # r1
        feed_ret_len = np.full(n_loop, feed)
    hd, hk = s["header_diameter_m"], s["header_k_minor"]
    n_inner = int(inner.sum())
    parts = [  # (from, to, length, diameter, k_minor, role, loop)
        (sup, base + 2, np.full(n_loop, feed), hd, hk, FEED_SUPPLY, np.arange(n_loop)),
        (s_node[inner], s_node[inner] + 1, np.full(n_inner, seg), hd, hk, SUPPLY_HEADER, rack_loop[inner]),
        (s_node, r_node, np.full(n_rack, s["rack_hose_length_m"]), s["rack_hose_diameter_m"], rack_k_minor, RACK,
         rack_loop),
        (ret_from, ret_to, np.full(n_inner, seg), hd, hk, RETURN_HEADER, rack_loop[inner]),
        (back, ret, feed_ret_len, hd, hk, FEED_RETURN, np.arange(n_loop)),
    ]
    counts = [p[0].size for p in parts]
    cat = lambda i, dtype=float: np.concatenate([np.broadcast_to(np.asarray(p[i], dtype), (c,))  # noqa: E731
                                                 for p, c in zip(parts, counts)])
    role = np.repeat([p[5] for p in parts], counts)
    loop = cat(6, np.int64)
    rack_pipe = counts[0] + counts[1] + np.arange(n_rack)
    number = pd.DataFrame({"loop": loop, "role": role}).groupby(["loop", "role"]).cumcount().to_numpy() + 1
    pipe_ids = loop_ids[loop] + "-" + np.array(ROLES, dtype=object)[role] + number.astype(str).astype(object)
    pipe_ids[rack_pipe] = racks["id"].to_numpy(object) + "-branch"
    return LoopNetwork(loop_ids=loop_ids, rack_loop=rack_loop, n_node=int(np.sum(2 * size + 2)), supply_node=sup,
                       return_node=ret, rack_supply_node=s_node, rack_return_node=r_node, rack_pipe=rack_pipe,
                       pipe_from=cat(0, np.int64), pipe_to=cat(1, np.int64), pipe_loop=loop, pipe_role=role,
                       pipe_length_m=cat(2), pipe_diameter_m=cat(3), pipe_k_minor=cat(4), pipe_ids=pipe_ids)
