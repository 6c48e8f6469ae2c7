"""Sparse symmetric positive definite solves by envelope (profile) factorisation in a reverse Cuthill-McKee order.

The hydraulic solver factors one matrix per Newton iteration whose pattern never changes: the reduced
``A^T D^-1 A`` of :mod:`gigawatt.solver.numerics.hydraulic_kernel`, a weighted graph Laplacian. Cooling loops and
district-heating branches are long and thin (ladders, trees with a few loops), and after a reverse
Cuthill-McKee ordering [1]_ [2]_ their matrices have a small envelope: row ``i`` holds its nonzeros only in
columns ``first[i] .. i``. Cholesky (here its square-root-free ``L D L^T`` form) creates fill only inside
the envelope [3]_, so the factor fits in the same storage and the work is about
``sum_i (i - first[i])^2 / 2`` multiply-adds: a fraction of a millisecond for a 2x10^4-node set of cooling
ladders, where a general sparse LU (SuperLU through ``scipy.sparse.linalg.spsolve``) took 40-80 ms,
redoing its symbolic analysis and ordering on every call.

Everything that depends on the pattern only (ordering, envelope layout, where each matrix entry goes, the
work estimate) is computed once by :func:`envelope_layout`; the kernels :func:`envelope_ldlt` and
:func:`envelope_ldlt_solve` then run per iteration (called from Python as one, :func:`envelope_factor_solve`).
They are ``numba.njit(cache=True)`` functions written once; with ``NUMBA_DISABLE_JIT=1`` the same source runs as
plain Python.

Storage: the lower triangle row by row, row ``i`` from column ``first[i]`` to the diagonal, at
``env[ptr[i] : ptr[i + 1]]``; entry ``(i, j)``, ``first[i] <= j <= i``, is ``env[ptr[i] + j - first[i]]``.

References
----------
.. [1] E. Cuthill and J. McKee, "Reducing the bandwidth of sparse symmetric matrices", Proc. 24th National
   Conference of the ACM, 1969, pp. 157-172. doi:10.1145/800195.805928
.. [2] A. George and J. W. H. Liu, Computer Solution of Large Sparse Positive Definite Systems,
   Prentice-Hall 1981, chapter 4 (the reverse ordering, envelope methods and their storage).
.. [3] G. H. Golub and C. F. Van Loan, Matrix Computations, 4th ed., Johns Hopkins 2013, section 4.3
   (band and envelope Cholesky: no fill outside the envelope).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import reverse_cuthill_mckee


class EnvelopeLayout(NamedTuple):
    """Where things go in the envelope of an ``n x n`` symmetric matrix in reverse Cuthill-McKee order."""

    order: np.ndarray      # [n] int64: order[k] = original index of the row placed at position k
    position: np.ndarray   # [n] int64: position of each original index (inverse of ``order``)
    first: np.ndarray      # [n] int64: first column of each row's envelope (positions)
    ptr: np.ndarray        # [n + 1] int64: start of each row in the envelope array
    work: float            # multiply-adds of one factorisation [-]


@njit(cache=True)
def _envelope_first(n, rows, cols, position, first_out):
    """First envelope column of each row, in ``position`` order, from the pattern ``(rows, cols)``."""
    for i in range(n):
        first_out[i] = i
    for e in range(rows.size):
        r = position[rows[e]]
        c = position[cols[e]]
        if c < r and c < first_out[r]:
            first_out[r] = c
        elif r < c and r < first_out[c]:
            first_out[c] = r


@njit(cache=True)
def _factor_work(first):
    """Multiply-adds of :func:`envelope_ldlt` with this envelope: row i, column j takes
    ``j - max(first[i], first[j])`` of them, the diagonal ``i - first[i]``."""
    work = 0.0
    for i in range(first.size):
        for j in range(first[i], i):
            work += j - max(first[i], first[j])
        work += i - first[i]
    return work


@njit(cache=True)
def _envelope_first_and_work(n, rows, cols, position, first_out):
    """:func:`_envelope_first` into ``first_out``, then :func:`_factor_work` of it: one kernel for Python to
    call (each kernel called from Python costs a cache load in a fresh process)."""
    _envelope_first(n, rows, cols, position, first_out)
    return _factor_work(first_out)


def envelope_layout(n: int, rows, cols) -> EnvelopeLayout:
    """Reverse Cuthill-McKee order and envelope of the symmetric pattern given by entries ``(rows, cols)``.

    Parameters
    ----------
    n : int
        Order of the matrix.
    rows, cols : array_like of int
        Row and column of every (structurally) nonzero entry, in either triangle; duplicates allowed. The
        diagonal is always part of the envelope.

    Returns
    -------
    EnvelopeLayout
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    off = rows != cols
    graph = sp.csr_matrix((np.ones(int(off.sum())), (rows[off], cols[off])), shape=(n, n))
    order = reverse_cuthill_mckee(graph, symmetric_mode=False).astype(np.int64) if n else np.zeros(0, np.int64)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    first = np.empty(n, dtype=np.int64)
    work = _envelope_first_and_work(n, rows, cols, position, first)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.arange(n) - first + 1, out=ptr[1:])
    return EnvelopeLayout(order, position, first, ptr, float(work))


@njit(cache=True)
def envelope_ldlt(env, first, ptr, inv_diag):
    """``A = L D L^T`` factorisation (L unit lower triangular) of the envelope-stored SPD matrix in ``env``,
    in place.

    Row by row (Crout): for ``j < i``, ``w_ij = a_ij - sum_k w_ik l_jk`` (``w_ik = l_ik d_k``), then
    ``l_ij = w_ij / d_j`` and ``d_i = a_ii - sum_j w_ij l_ij``. No square roots.

    Parameters
    ----------
    env : float64[>= ptr[-1]]
        In: the lower triangle of A in envelope storage (module notes). Out: L below the diagonal, D on it.
    first, ptr : int64 arrays
        The envelope (see :class:`EnvelopeLayout`).
    inv_diag : float64[n]
        Out: ``1 / d_i``.

    Returns
    -------
    int
        -1 on success, else the first row whose pivot ``d_i`` is not positive (A not numerically positive
        definite); ``env`` is then partly overwritten.
    """
    for i in range(first.size):
        fi = first[i]
        oi = ptr[i] - fi  # env[oi + j] is entry (i, j)
        for j in range(fi, i):
            fj = first[j]
            oj = ptr[j] - fj
            s = env[oi + j]
            for k in range(max(fi, fj), j):
                s -= env[oi + k] * env[oj + k]  # w_ik (this row, not yet divided) times l_jk
            env[oi + j] = s
        d = env[oi + i]
        for j in range(fi, i):
            w = env[oi + j]
            lij = w * inv_diag[j]
            env[oi + j] = lij
            d -= w * lij
        if not d > 0.0:
            return i
        env[oi + i] = d
        inv_diag[i] = 1.0 / d
    return -1


@njit(cache=True)
def envelope_ldlt_solve(env, first, ptr, inv_diag, b):
    """Solve ``L D L^T x = b`` with the factor of :func:`envelope_ldlt`; ``b[:n]`` is overwritten by ``x``
    (entries past ``n`` are not touched)."""
    n = first.size
    for i in range(n):  # L y = b (unit diagonal), row by row
        oi = ptr[i] - first[i]
        s = b[i]
        for k in range(first[i], i):
            s -= env[oi + k] * b[k]
        b[i] = s
    for i in range(n):  # D z = y
        b[i] *= inv_diag[i]
    for i in range(n - 1, -1, -1):  # L^T x = z, column by column of L^T (rows of L)
        oi = ptr[i] - first[i]
        xi = b[i]
        for k in range(first[i], i):
            b[k] -= env[oi + k] * xi


@njit(cache=True)
def envelope_factor_solve(env, first, ptr, inv_diag, b):
    """:func:`envelope_ldlt`, then, if it succeeded, :func:`envelope_ldlt_solve` for ``b`` (in place): the
    pair as one kernel for Python to call (one cache load in a fresh process, one dispatch per Newton
    iteration). Returns what :func:`envelope_ldlt` returns (-1: factored and solved)."""
    bad = envelope_ldlt(env, first, ptr, inv_diag)
    if bad < 0:
        envelope_ldlt_solve(env, first, ptr, inv_diag, b)
    return bad
