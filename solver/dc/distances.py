"""Route lengths of the buses from their feeds: multi-source shortest paths over the lines, a numba kernel.

First a label-correcting search depth first (a stack of buses whose distance fell; see R. K. Ahuja,
T. L. Magnanti, J. B. Orlin, *Network Flows*, Prentice Hall 1993, §5.4, generic label-correcting
algorithm): on a tree, and on the near-trees of a campus (a few rings), it visits each bus about once, along
each feeder in turn, which keeps the memory access local. Its work is bounded only exponentially on bad
graphs, so past a budget of relaxations it gives way to Dijkstra's algorithm (E. W. Dijkstra, "A note on two
problems in connexion with graphs", Numerische Mathematik 1, 269–271, 1959,
https://doi.org/10.1007/BF01386390) with a binary heap, O((N + M) log N) on N buses and M lines, which
visits the buses in order of distance (scattered across the feeders: a cache miss a bus at 10⁵). Both end at
the same distances: each the least, over the bus's neighbours, of the neighbour's distance plus the line's
length, summed along the same shortest path as :func:`scipy.sparse.csgraph.dijkstra` (``min_only=True``)
sums it, which they replace (the tests compare the three on random networks).

Written once: with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.solver.numerics.thermal_kernel import incidence


@njit(cache=True)
def _adjacency(n, a, b, length):
    """Both directions of every line grouped by bus (:func:`gigawatt.solver.numerics.thermal_kernel.incidence`):
    ``start`` (n + 1), neighbour and length of each entry."""
    start, line, other, _ = incidence(n, a, b)
    return start, other, length[line]


LABEL_CORRECTING_BUDGET = 4
"""Relaxations per line end the depth-first search may spend before Dijkstra's algorithm takes over."""


@njit(cache=True, nogil=True)  # nogil: the results run it on a worker thread (gigawatt.solver.dc.results.CaseFigures)
def shortest_distances(n, a, b, length, sources, budget=LABEL_CORRECTING_BUDGET):
    """Length of the shortest route [m] from any of the buses ``sources`` to each of ``n`` buses over
    undirected lines ``a[e]``–``b[e]`` of length ``length[e]`` [m] (>= 0; parallel lines: the shortest counts);
    NaN where no source reaches the bus. ``budget``: relaxations per line end of the depth-first
    label-correcting search before Dijkstra's algorithm is used instead (0: Dijkstra's at once)."""
    start, other, weight = _adjacency(n, a, b, length)
    if budget > 0:
        dist = _label_correcting(n, start, other, weight, sources, budget * (other.size + n))
        if dist.size:
            return dist
    return _dijkstra(n, start, other, weight, sources)


@njit(cache=True)
def _label_correcting(n, start, other, weight, sources, max_relaxations):
    """Distances by depth-first label correcting (see the module notes); empty if it needs more than
    ``max_relaxations`` relaxations."""
    dist = np.full(n, np.inf)
    stack = np.empty(n, dtype=np.int64)
    queued = np.zeros(n, dtype=np.bool_)
    top = 0
    for s in sources[::-1]:
        if not queued[s]:
            dist[s] = 0.0
            stack[top] = s
            queued[s] = True
            top += 1
    work = 0
    while top > 0:
        top -= 1
        u = stack[top]
        queued[u] = False
        d = dist[u]
        work += start[u + 1] - start[u]
        if work > max_relaxations:
            return np.empty(0)
        for k in range(start[u], start[u + 1]):
            w = other[k]
            nd = d + weight[k]
            if nd < dist[w]:
                dist[w] = nd
                if not queued[w]:
                    stack[top] = w
                    queued[w] = True
                    top += 1
    for u in range(n):
        if dist[u] == np.inf:
            dist[u] = np.nan
    return dist


@njit(cache=True)
def _dijkstra(n, start, other, weight, sources):
    """Distances by Dijkstra's algorithm with a binary heap and lazy deletion (see the module notes)."""
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    cap = other.size + sources.size + 1
    key = np.empty(cap)  # the heap: tentative distance and bus of each entry, smallest key first
    node = np.empty(cap, dtype=np.int64)
    size = 0
    for s in sources:
        if dist[s] > 0.0:
            dist[s] = 0.0
            key[size], node[size] = 0.0, s
            size += 1  # all keys equal: already a heap
    while size > 0:
        d, u = key[0], node[0]
        size -= 1
        last_key, last_node = key[size], node[size]
        i = 0
        while True:  # sift the last entry down from the root
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and key[c + 1] < key[c]:
                c += 1
            if key[c] >= last_key:
                break
            key[i], node[i] = key[c], node[c]
            i = c
        if size > 0:
            key[i], node[i] = last_key, last_node
        if done[u]:
            continue
        done[u] = True
        for k in range(start[u], start[u + 1]):
            w = other[k]
            nd = d + weight[k]
            if nd < dist[w]:
                dist[w] = nd
                i = size  # push, sifting up
                size += 1
                while i > 0:
                    p = (i - 1) // 2
                    if key[p] <= nd:
                        break
                    key[i], node[i] = key[p], node[p]
                    i = p
                key[i], node[i] = nd, w
    for u in range(n):
        if not done[u]:
            dist[u] = np.nan
    return dist
