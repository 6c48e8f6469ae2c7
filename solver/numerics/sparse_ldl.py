"""Sparse symmetric positive definite solves by ``L D L^T`` factorisation in a minimum-degree order.

For networks whose reverse Cuthill-McKee envelope is wide (a row of racks each modelled as a ladder of cold
plates, a meshed street grid), :mod:`gigawatt.solver.numerics.envelope` would fill its whole band. A minimum-degree
ordering keeps the factor nearly as sparse as the matrix on such networks (for the per-plate cooling loops
of 10^5 plates: 3 entries per column of L, diagonal included). The ordering is taken once, at set-up, from
SuperLU's multiple minimum degree on ``A + A^T`` (``scipy.sparse.linalg.splu``, ``permc_spec =
"MMD_AT_PLUS_A"``, whose ``perm_c`` maps a row to its new position); the factorisation itself is the
up-looking algorithm of Davis's LDL package [1]_, written as Numba kernels (``cache=True``; with
``NUMBA_DISABLE_JIT=1`` the same source runs as plain Python):

* :func:`ldl_symbolic`: elimination tree and column counts of L, once per pattern;
* :func:`ldl_numeric`: L and D, once per matrix (each Newton iteration);
* :func:`ldl_rows` and :func:`ldl_numeric_rows`: the same factorisation with the elimination-tree walks done
  once: :func:`ldl_rows` records, for every row k of L, the columns of its entries in the order
  :func:`ldl_numeric` visits them and the place each entry takes in L (both depend on the pattern only), and
  the row indices of L; :func:`ldl_numeric_rows` then only does arithmetic, in the same order, so its L and D
  are bit for bit those of :func:`ldl_numeric` (about 3x faster on the 10^4-consumer district-heating town);
* :func:`ldl_solve`: ``L D L^T x = b`` (:func:`ldl_numeric_rows_solve`: the two as one kernel for Python).

The matrix is given as its upper triangle (diagonal included) in compressed-column form, rows and columns
already in the minimum-degree order (:func:`ldl_layout`).

Why hand-written: SciPy has no sparse Cholesky or LDLᵀ (``splu`` is an LU that repeats its symbolic work on
every matrix and gives no D); scikit-sparse's CHOLMOD needs SuiteSparse's C libraries built on the machine,
which ``pip install gigawatt`` cannot promise; and these kernels are called from inside Numba loops (the
hydraulic Newton iterations, the time steps) and give the factor's pattern to the selected inversion
(:mod:`gigawatt.solver.numerics.selected_inversion`), which a wrapped library would not. The ordering,
where a library does the job, is SuperLU's.

References
----------
.. [1] T. A. Davis, "Algorithm 849: A concise sparse Cholesky factorization package", ACM Transactions on
   Mathematical Software 31(4), 587-591 (2005). doi:10.1145/1114268.1114277
.. [2] J. W. H. Liu, "Modification of the minimum-degree algorithm by multiple elimination", ACM
   Transactions on Mathematical Software 11(2), 141-153 (1985). doi:10.1145/214392.214398 (the ordering
   SuperLU's ``MMD_AT_PLUS_A`` computes)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit


class LDLLayout(NamedTuple):
    """Pattern, order and symbolic factorisation of an ``n x n`` symmetric matrix (see :func:`ldl_layout`)."""

    position: np.ndarray   # [n] int64: new position of each original row/column
    col_ptr: np.ndarray    # [n + 1] int64: upper triangle in compressed columns (new order)
    row_index: np.ndarray  # [nnz] int64
    parent: np.ndarray     # [n] int64: elimination tree (-1 at a root)
    l_ptr: np.ndarray      # [n + 1] int64: column starts of L
    work: float            # multiply-adds of one numeric factorisation [-]


@njit(cache=True)
def ldl_symbolic(n, col_ptr, row_index, parent_out, l_count_out, flag):
    """Elimination tree and the number of entries of each column of L (below the diagonal).

    Davis [1]_, ``ldl_symbolic``: for each column k, walk up the tree from every row i < k of its upper
    part, marking, until a node already marked for k; each node met gains an entry in row k of L.
    """
    for k in range(n):
        parent_out[k] = -1
        flag[k] = k
        l_count_out[k] = 0
        for p in range(col_ptr[k], col_ptr[k + 1]):
            i = row_index[p]
            if i < k:
                while flag[i] != k:
                    if parent_out[i] == -1:
                        parent_out[i] = k
                    l_count_out[i] += 1
                    flag[i] = k
                    i = parent_out[i]


@njit(cache=True)
def _row_pattern(k, n, col_ptr, row_index, parent, flag, pattern):
    """The columns of row k of L (its nonzero pattern, in topological order) into ``pattern[top:n]``: the
    paths from each entry of column k of A up the elimination tree to the part already met for k. Returns top."""
    top = n
    flag[k] = k
    for p in range(col_ptr[k], col_ptr[k + 1]):
        i = row_index[p]
        length = 0
        while flag[i] != k:
            pattern[length] = i
            length += 1
            flag[i] = k
            i = parent[i]
        while length > 0:
            top -= 1
            length -= 1
            pattern[top] = pattern[length]
    return top


@njit(cache=True)
def ldl_numeric(n, col_ptr, row_index, values, l_ptr, parent, l_count, l_index, l_values, d, y, pattern, flag):
    """``A = L D L^T`` (L unit lower triangular, by columns) of the matrix in ``values``: Davis [1]_,
    ``ldl_numeric`` (up-looking: row k of L from a sparse triangular solve along the elimination tree).

    Parameters
    ----------
    n : int
        Order.
    col_ptr, row_index, values : arrays
        Upper triangle of A, compressed columns, in the factor's order (:func:`ldl_layout`).
    l_ptr, parent : int64 arrays
        From :func:`ldl_layout`.
    l_count, pattern, flag : int64[n]
        Work arrays.
    l_index, l_values : arrays[l_ptr[-1]]
        Out: row indices and values of L below the diagonal, column by column.
    d : float64[n]
        Out: D.
    y : float64[n]
        Work array.

    Returns
    -------
    int
        -1 on success, else the first column whose pivot is not positive (A not numerically positive
        definite).
    """
    for k in range(n):
        y[k] = 0.0
        l_count[k] = 0
        for p in range(col_ptr[k], col_ptr[k + 1]):
            y[row_index[p]] += values[p]
        top = _row_pattern(k, n, col_ptr, row_index, parent, flag, pattern)
        dk = y[k]
        y[k] = 0.0
        while top < n:
            i = pattern[top]
            top += 1
            yi = y[i]
            y[i] = 0.0
            p_end = l_ptr[i] + l_count[i]
            for p in range(l_ptr[i], p_end):
                y[l_index[p]] -= l_values[p] * yi
            l_ki = yi / d[i]
            dk -= l_ki * yi
            l_index[p_end] = k
            l_values[p_end] = l_ki
            l_count[i] += 1
        if not dk > 0.0:
            return k
        d[k] = dk
    return -1


@njit(cache=True)
def ldl_rows(n, col_ptr, row_index, l_ptr, parent):
    """The symbolic part of :func:`ldl_numeric`, once per pattern: ``(row_ptr, row_col, row_place, l_index)``;
    row k of L has its entries in columns ``row_col[row_ptr[k]:row_ptr[k + 1]]`` (in the order ``ldl_numeric``
    visits them), stored at ``row_place`` of the value array of L whose row indices are ``l_index``."""
    nnz = l_ptr[n]
    flag = np.empty(n, np.int64)
    pattern = np.empty(n, np.int64)
    l_count = np.zeros(n, np.int64)
    row_ptr = np.zeros(n + 1, np.int64)
    row_col = np.empty(nnz, np.int64)
    row_place = np.empty(nnz, np.int64)
    l_index = np.empty(nnz, np.int64)
    e = 0
    for k in range(n):
        top = _row_pattern(k, n, col_ptr, row_index, parent, flag, pattern)
        while top < n:
            i = pattern[top]
            top += 1
            place = l_ptr[i] + l_count[i]
            row_col[e] = i
            row_place[e] = place
            l_index[place] = k
            l_count[i] += 1
            e += 1
        row_ptr[k + 1] = e
    return row_ptr, row_col, row_place, l_index


@njit(cache=True)
def ldl_numeric_rows(n, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place, l_index, l_values, d, y):
    """:func:`ldl_numeric` with the pattern of every row of L given (:func:`ldl_rows`): the same arithmetic in
    the same order, without the elimination-tree walks. ``y`` float64[n] work array. Returns -1 on success, else
    the first column whose pivot is not positive."""
    for k in range(n):
        y[k] = 0.0
        for p in range(col_ptr[k], col_ptr[k + 1]):
            y[row_index[p]] += values[p]
        dk = y[k]
        y[k] = 0.0
        for e in range(row_ptr[k], row_ptr[k + 1]):
            i = row_col[e]
            place = row_place[e]
            yi = y[i]
            y[i] = 0.0
            for p in range(l_ptr[i], place):
                y[l_index[p]] -= l_values[p] * yi
            l_ki = yi / d[i]
            dk -= l_ki * yi
            l_values[place] = l_ki
        if not dk > 0.0:
            return k
        d[k] = dk
    return -1


@njit(cache=True)
def ldl_solve(n, l_ptr, l_index, l_values, d, b):
    """Solve ``L D L^T x = b`` with the factor of :func:`ldl_numeric`; ``b[:n]`` is overwritten by ``x``
    (entries past ``n`` are not touched)."""
    for j in range(n):  # L y = b, column by column
        bj = b[j]
        for p in range(l_ptr[j], l_ptr[j + 1]):
            b[l_index[p]] -= l_values[p] * bj
    for j in range(n):  # D z = y
        b[j] /= d[j]
    for j in range(n - 1, -1, -1):  # L^T x = z, row by row of L^T (columns of L)
        s = b[j]
        for p in range(l_ptr[j], l_ptr[j + 1]):
            s -= l_values[p] * b[l_index[p]]
        b[j] = s


@njit(cache=True)
def ldl_numeric_rows_solve(n, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place, l_index, l_values, d,
                           y, b):
    """:func:`ldl_numeric_rows`, then, if it succeeded, :func:`ldl_solve` for ``b`` (in place): the pair as one
    kernel for Python to call (one cache load in a fresh process, one dispatch per Newton iteration). Returns
    what :func:`ldl_numeric_rows` returns (-1: factored and solved)."""
    bad = ldl_numeric_rows(n, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place, l_index, l_values,
                           d, y)
    if bad < 0:
        ldl_solve(n, l_ptr, l_index, l_values, d, b)
    return bad


def ldl_layout(n: int, rows, cols, position=None) -> tuple[LDLLayout, np.ndarray, np.ndarray]:
    """Minimum-degree order, upper-triangle pattern and symbolic factorisation of the symmetric pattern
    given by the entries ``(rows, cols)`` (either triangle, duplicates allowed; the diagonal is always in).
    ``position`` (new position of each row) replaces the minimum-degree order when the caller knows a
    better one (children before parents on a tree: no fill at all).

    Returns
    -------
    layout : LDLLayout
    entry : numpy.ndarray of int64
        Place of each given entry ``(rows[e], cols[e])`` in the value array (the same place for ``(i, j)`` and
        ``(j, i)``).
    diagonal : numpy.ndarray of int64
        Place of each diagonal entry, by original index.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if position is not None:
        position = np.ascontiguousarray(position, dtype=np.int64)
    elif n:
        pattern = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        # Diagonally dominant values on the pattern: any SPD values give the same ordering.
        probe = (pattern + pattern.T + sp.eye(n) * (2.0 * rows.size + 1.0)).tocsc()
        position = spla.splu(probe, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True}).perm_c.astype(np.int64)
    else:
        position = np.zeros(0, dtype=np.int64)
    r, c = position[rows], position[cols]
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    keys = np.concatenate([hi * n + lo, np.arange(n, dtype=np.int64) * (n + 1)])  # column-major, upper
    unique, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    col = unique // n
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(col, minlength=n), out=col_ptr[1:])
    row_index = (unique % n).astype(np.int64)
    parent = np.empty(n, dtype=np.int64)
    l_count = np.empty(n, dtype=np.int64)
    ldl_symbolic(n, col_ptr, row_index, parent, l_count, np.empty(n, dtype=np.int64))
    l_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(l_count, out=l_ptr[1:])
    work = float(np.sum(l_count.astype(float) ** 2) + l_ptr[-1])
    diagonal = inverse[rows.size:][position].astype(np.int64)
    layout = LDLLayout(position, col_ptr, row_index, parent, l_ptr, work)
    return layout, inverse[:rows.size].astype(np.int64), diagonal
