"""Selected entries of the inverse of a sparse symmetric positive definite matrix: the Takahashi equations on
its ``L D L^T`` factor.

The inverse ``Z = A^-1`` of a sparse matrix is dense, but its entries on the pattern of the factor L (the
diagonal included) follow from L and D alone, column by column from the last one back [1]_ [2]_:

    Z_ij = - sum_{k in S_j} L_kj Z_ik            for i in S_j,
    Z_jj = 1/d_j - sum_{k in S_j} L_kj Z_kj,

with ``S_j`` the rows of the entries of column j of L below the diagonal. Every ``Z_ik`` these need lies on
the pattern of L (the rows of a column of L form a clique of the filled graph), so the work is
``sum_j |S_j|^2`` (times a binary search), O(n) on a tree ordered leaves first, where each column of L has one
entry. The driving-point resistance of every bus of a network is the diagonal of the inverse of its nodal
conductance matrix: one factorisation and one pass here, instead of n solves.

An entry off the pattern is not computed; add the pairs you need to the pattern as structural (zero) entries
when laying it out (:func:`inverse_layout`).

The factorisation is :mod:`gigawatt.solver.numerics.sparse_ldl` (``ldl_numeric_rows``); the kernels are Numba
(``cache=True``), the same source running as Python with ``NUMBA_DISABLE_JIT=1``.

References
----------
.. [1] K. Takahashi, J. Fagan, M.-S. Chen, "Formation of a sparse bus impedance matrix and its application to
   short circuit study", Proc. 8th PICA Conference, Minneapolis, 1973, pp. 63-69.
.. [2] A. M. Erisman, W. F. Tinney, "On computing certain elements of the inverse of a sparse matrix",
   Communications of the ACM 18(3), 177-179 (1975). doi:10.1145/360680.360704
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from gigawatt.solver.numerics.sparse_ldl import ldl_layout, ldl_numeric_rows, ldl_rows, ldl_solve


class InverseLayout(NamedTuple):
    """Order, pattern and symbolic factorisation of an n x n symmetric matrix (see :func:`inverse_layout`)."""

    n: int
    position: np.ndarray   # new position of each original row
    col_ptr: np.ndarray    # upper triangle, compressed columns, new order
    row_index: np.ndarray
    l_ptr: np.ndarray      # columns of L
    row_ptr: np.ndarray    # rows of L (ldl_rows)
    row_col: np.ndarray
    row_place: np.ndarray
    l_index: np.ndarray    # row index of each entry of L (ascending within a column)
    entry: np.ndarray      # value-array place of each given off-diagonal entry
    diagonal: np.ndarray   # value-array place of each diagonal entry, by original index
    n_values: int
    work: float            # multiply-adds of one factorisation


def inverse_layout(n: int, rows, cols, position=None) -> InverseLayout:
    """Lay out the symmetric pattern of the entries ``(rows[e], cols[e])`` (either triangle, duplicates
    allowed, the diagonal always in) for :func:`factor` and :func:`selected_inverse`; ``position`` (new
    position of each row) replaces the minimum-degree order, as in
    :func:`gigawatt.solver.numerics.sparse_ldl.ldl_layout`."""
    lay, entry, diagonal = ldl_layout(n, rows, cols, position)
    row_ptr, row_col, row_place, l_index = ldl_rows(n, lay.col_ptr, lay.row_index, lay.l_ptr, lay.parent)
    return InverseLayout(n, lay.position, lay.col_ptr, lay.row_index, lay.l_ptr, row_ptr, row_col, row_place,
                         l_index, entry, diagonal, int(lay.col_ptr[-1]), lay.work)


def assemble(layout: InverseLayout, off_values, diag_values) -> np.ndarray:
    """The value array of the matrix whose given off-diagonal entries are ``off_values`` (duplicates add up)
    and whose diagonal is ``diag_values`` (by original index)."""
    values = np.zeros(layout.n_values)
    np.add.at(values, layout.entry, off_values)
    values[layout.diagonal] += diag_values
    return values


def factor(layout: InverseLayout, values) -> tuple[np.ndarray, np.ndarray] | None:
    """``(l_values, d)`` of ``A = L D L^T``, or None when a pivot is not positive (A not positive definite)."""
    n = layout.n
    l_values, d, y = np.empty(int(layout.l_ptr[-1])), np.empty(n), np.empty(n)
    if ldl_numeric_rows(n, layout.col_ptr, layout.row_index, values, layout.l_ptr, layout.row_ptr, layout.row_col,
                        layout.row_place, layout.l_index, l_values, d, y) >= 0:
        return None
    return l_values, d


def solve(layout: InverseLayout, l_values, d, b) -> np.ndarray:
    """``x = A^-1 b`` (original order) with the factor of :func:`factor`."""
    x = np.empty(layout.n)
    x[layout.position] = b
    ldl_solve(layout.n, layout.l_ptr, layout.l_index, l_values, d, x)
    return x[layout.position]


@njit(cache=True)
def _find(l_ptr, l_index, col, row):
    """Place of entry (row, col), row > col, among the entries of column col of L (rows ascending); -1 if absent."""
    lo, hi = l_ptr[col], l_ptr[col + 1] - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        r = l_index[mid]
        if r == row:
            return mid
        if r < row:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


@njit(cache=True)
def takahashi(n, l_ptr, l_index, l_values, d, z_values, z_diag):
    """Entries of ``A^-1`` on the pattern of L: ``z_values`` (aligned with ``l_values``: the entry of Z at the
    place of L_ij, i > j) and ``z_diag`` (new order), by the Takahashi equations (module notes). Returns -1, or
    the first column whose clique misses an entry of the pattern (not a factor of ``ldl_numeric``)."""
    for j in range(n - 1, -1, -1):
        p0, p1 = l_ptr[j], l_ptr[j + 1]
        for a in range(p0, p1):
            i = l_index[a]
            s = 0.0
            for b in range(p0, p1):
                k = l_index[b]
                if k == i:
                    z_ik = z_diag[i]
                else:
                    place = _find(l_ptr, l_index, min(i, k), max(i, k))
                    if place < 0:
                        return j
                    z_ik = z_values[place]
                s += l_values[b] * z_ik
            z_values[a] = -s
        s = 0.0
        for a in range(p0, p1):
            s += l_values[a] * z_values[a]
        z_diag[j] = 1.0 / d[j] - s
    return -1


@njit(cache=True)
def _entries(l_ptr, l_index, z_values, z_diag, pi, pj, out):
    for e in range(pi.size):
        a, b = pi[e], pj[e]
        if a == b:
            out[e] = z_diag[a]
        else:
            place = _find(l_ptr, l_index, min(a, b), max(a, b))
            out[e] = z_values[place] if place >= 0 else np.nan


class SelectedInverse(NamedTuple):
    """The entries of ``A^-1`` on the pattern of its factor (see :func:`selected_inverse`)."""

    layout: InverseLayout
    z_values: np.ndarray
    z_diag: np.ndarray  # new order

    def diagonal(self) -> np.ndarray:
        """``(A^-1)_ii`` of every row, original order."""
        return self.z_diag[self.layout.position]

    def entries(self, i, j) -> np.ndarray:
        """``(A^-1)_ij`` for the pairs ``(i[e], j[e])`` (original indices); NaN where a pair is off the pattern."""
        pos = self.layout.position
        pi, pj = pos[np.asarray(i, np.int64)], pos[np.asarray(j, np.int64)]
        out = np.empty(pi.size)
        _entries(self.layout.l_ptr, self.layout.l_index, self.z_values, self.z_diag, pi, pj, out)
        return out


def selected_inverse(layout: InverseLayout, l_values, d) -> SelectedInverse:
    """Run the Takahashi equations on a factor from :func:`factor`."""
    z_values, z_diag = np.empty(l_values.size), np.empty(layout.n)
    bad = takahashi(layout.n, layout.l_ptr, layout.l_index, l_values, d, z_values, z_diag)
    if bad >= 0:  # cannot happen with a factor of ldl_numeric (its pattern is the filled graph's)
        raise RuntimeError(f"selected inversion: column {bad} of L misses an entry of its clique")
    return SelectedInverse(layout, z_values, z_diag)
