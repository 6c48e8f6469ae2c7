"""Elements whose inputs repeat: a campus repeats its racks, loops and CDUs, so a kernel that solves a root or
a fixed point per element (a chip's temperature, a CDU's valve) meets the very same inputs many times.
:func:`first_same_row` finds, for each element, the first one with the same inputs bit for bit; the kernel then
solves each distinct input once and copies the answer to its repeats: the same function of the same inputs,
so the same numbers as solving every element.

Written here rather than taken from NumPy: ``np.unique(rows, axis=0, return_inverse=True)`` gives the same
grouping by sorting the rows (n log n, a copy, and a call outside the kernel each step); a hash table inside the
kernel finds it in one pass.
"""
from __future__ import annotations

import numpy as np
from numba import njit


def input_bits(*columns) -> np.ndarray:
    """The float inputs of n elements (each column an array of n [any unit]) as an n × k array of their bit
    patterns (int64), for :func:`first_same_row`."""
    out = np.empty((len(columns[0]), len(columns)))  # (column_stack's array, without its per-column calls)
    for j, c in enumerate(columns):
        out[:, j] = c
    return out.view(np.int64)


@njit(cache=True)
def first_same_row(bits):
    """For each row i of ``bits`` (n × k int64, :func:`input_bits`): the first row with the same k values, an
    index <= i (i itself for the first of its kind). An open-addressed hash table over the rows; a collision
    is settled by comparing the rows, so the answer does not depend on the hash."""
    n, k = bits.shape
    size = 2
    while size < 2 * n:
        size *= 2
    mask = size - 1
    slot_row = np.full(size, -1, np.int64)
    first = np.empty(n, np.int64)
    for i in range(n):
        h = 0
        for j in range(k):
            x = bits[i, j]
            h ^= x ^ (x >> (13 + j)) ^ (x >> (29 + j))
        slot = (h ^ (h >> 17) ^ (h >> 37)) & mask
        while True:
            r = slot_row[slot]
            if r < 0:
                slot_row[slot] = i
                first[i] = i
                break
            same = True
            for j in range(k):
                if bits[r, j] != bits[i, j]:
                    same = False
                    break
            if same:
                first[i] = r
                break
            slot = (slot + 1) & mask
    return first
