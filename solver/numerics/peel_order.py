"""A minimum-degree order for nearly tree-shaped networks, cheap to find: peel the low-degree nodes, order the rest.

Eliminating a node of degree 0 or 1 from a symmetric matrix's graph makes no fill; one of degree 2 makes at
most one entry (its two neighbours become adjacent) and never raises a degree. A minimum-degree ordering
[1]_ takes such nodes first whenever there are any; on a district-heating network (streets: chains of
service nodes with houses hanging off them, rings tying neighbouring streets) they are nearly all the nodes.
:func:`peel_low_degree` eliminates them exactly, in the graph of the factor, in O(edges x largest degree)
without forming any matrix; what is left (the *core*: every node of degree 3 or more once the rest is gone)
is ordered by SuperLU's multiple minimum degree (``scipy.sparse.linalg.splu``, ``permc_spec =
"MMD_AT_PLUS_A"``, as :func:`gigawatt.solver.numerics.sparse_ldl.ldl_layout` does for the whole matrix) on
the core's own graph, fill included. :func:`peeled_minimum_degree_position` gives the position of every node
for :func:`gigawatt.solver.numerics.sparse_ldl.ldl_layout`. Numba kernel written once (``cache=True``; the
same source runs as plain Python with ``NUMBA_DISABLE_JIT=1``).

References
----------
.. [1] A. George, J. W. H. Liu, "The evolution of the minimum degree ordering algorithm", SIAM Review
   31(1), 1-19 (1989). doi:10.1137/1031001
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

PEEL_MAX_DEGREE = 2
"""Nodes of at most this degree are eliminated by peeling (no fill beyond one entry each)."""


@njit(cache=True)
def _remove(adj, start, stop, node):
    """Drop ``node`` from a neighbour list (its slot set to -1)."""
    for k in range(start, stop):
        if adj[k] == node:
            adj[k] = -1
            return


@njit(cache=True)
def _replace(adj, start, stop, node, other):
    """Put ``other`` in the slot of ``node`` in a neighbour list."""
    for k in range(start, stop):
        if adj[k] == node:
            adj[k] = other
            return


@njit(cache=True)
def _has(adj, start, stop, node):
    for k in range(start, stop):
        if adj[k] == node:
            return True
    return False


@njit(cache=True)
def peel_low_degree(n, adj_ptr, adj, order):
    """Eliminate every node whose degree in the graph of the factor is at most 2, as long as there are any
    (each degree-2 node joins its two neighbours). ``adj_ptr`` [n + 1], ``adj``: the neighbour lists of a
    simple graph (no duplicates, no self-loops), overwritten with the core's graph (eliminated neighbours
    set to -1). Fills ``order`` with the eliminated nodes in elimination order; returns how many."""
    deg = np.empty(n, np.int64)
    gone = np.zeros(n, np.bool_)
    # two stacks, taken lowest degree first (a minimum-degree order): degree 0 or 1, then degree 2
    low = np.empty(n + 2 * adj.size + 1, np.int64)
    two = np.empty(n + 1, np.int64)
    top_low, top_two = 0, 0
    for v in range(n - 1, -1, -1):
        deg[v] = adj_ptr[v + 1] - adj_ptr[v]
        if deg[v] <= 1:
            low[top_low] = v
            top_low += 1
        elif deg[v] == 2:
            two[top_two] = v
            top_two += 1
    count = 0
    while top_low > 0 or top_two > 0:
        if top_low > 0:
            top_low -= 1
            v = low[top_low]
        else:
            top_two -= 1
            v = two[top_two]
        if gone[v]:
            continue
        gone[v] = True
        order[count] = v
        count += 1
        a, b = -1, -1
        for k in range(adj_ptr[v], adj_ptr[v + 1]):
            if adj[k] >= 0:
                if a < 0:
                    a = adj[k]
                else:
                    b = adj[k]
        if b >= 0 and not _has(adj, adj_ptr[a], adj_ptr[a + 1], b):
            # a and b become neighbours in v's place: no degree changes
            _replace(adj, adj_ptr[a], adj_ptr[a + 1], v, b)
            _replace(adj, adj_ptr[b], adj_ptr[b + 1], v, a)
            continue
        for u in (a, b):
            if u >= 0:
                _remove(adj, adj_ptr[u], adj_ptr[u + 1], v)
                deg[u] -= 1
                if deg[u] <= 1:
                    low[top_low] = u
                    top_low += 1
                elif deg[u] == 2:
                    two[top_two] = u
                    top_two += 1
    return count


def peeled_minimum_degree_position(n: int, rows, cols) -> np.ndarray:
    """New position of each of the ``n`` rows of a symmetric pattern with off-diagonal entries ``(rows, cols)``
    (either triangle, duplicates allowed): the peeled nodes (:func:`peel_low_degree`) first, in the order
    they were eliminated, then the core in SuperLU's multiple-minimum-degree order of its own graph."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    off = rows != cols
    lo, hi = np.minimum(rows[off], cols[off]), np.maximum(rows[off], cols[off])
    key = np.sort(lo * max(n, 1) + hi)
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else key  # (np.unique hashes, 50x slower)
    lo, hi = key // max(n, 1), key % max(n, 1)
    ends = np.concatenate([lo, hi])
    other = np.concatenate([hi, lo])
    by = np.argsort(ends, kind="stable")
    adj = np.ascontiguousarray(other[by])
    adj_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=adj_ptr[1:])
    order = np.empty(n, np.int64)
    count = peel_low_degree(n, adj_ptr, adj, order)
    position = np.empty(n, np.int64)
    position[order[:count]] = np.arange(count)
    if count < n:
        core = np.ones(n, dtype=bool)
        core[order[:count]] = False
        core_nodes = np.flatnonzero(core)
        local = np.full(n, -1, np.int64)
        local[core_nodes] = np.arange(core_nodes.size)
        owner = np.repeat(np.arange(n), np.diff(adj_ptr))
        keep = (adj >= 0) & core[owner]
        r, c = local[owner[keep]], local[adj[keep]]
        m = core_nodes.size
        pattern = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(m, m))
        # diagonally dominant values on the pattern: any SPD values give the same ordering
        probe = (pattern + pattern.T + sp.eye(m) * (2.0 * r.size + 1.0)).tocsc()
        core_position = spla.splu(probe, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                  options={"SymmetricMode": True}).perm_c.astype(np.int64)
        position[core_nodes] = count + core_position
    return position
