"""The vector work of one Anderson acceleration step [1]_, as Numba kernels on the history's rows.

With the last ``k`` differences of the scaled iterates and of their fixed-point residuals held as the rows of
``d_x`` and ``d_f`` (float64 ``[depth, n]``, rows ``0:k``), a step needs the new scaled iterate x, its residual
f and their differences to the last ones, and the normal equations of min |f - dF^T gamma| (the ``k x k`` Gram
matrix dF dF^T and dF f), all in one pass (:func:`history_step`), and, once the caller has solved that small
system, the new iterate x + f - (dX + dF)^T gamma (:func:`combine`). Each is a single pass over the ``n``
entries in plain loops (two kernels: each costs its cache load in a fresh process): NumPy's matrix products hand such thin products to a
multithreaded BLAS, whose threads spin after every call (on a loaded machine they cost more than the sweep
of a network of the same size). Written once, ``cache=True``; with ``NUMBA_DISABLE_JIT=1`` the same code runs
as plain Python.

References
----------
.. [1] H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal.
   49(4), 1715-1735 (2011). doi:10.1137/10078356X
"""
from __future__ import annotations

from numba import njit


@njit(cache=True)
def history_step(m, g, idx, scale, x_last, f_last, first, d_x, d_f, slot, k, gram_out, rhs_out):
    """One pass over the ``n`` entries: the scaled iterate ``x = m[idx] / scale`` and its fixed-point residual
    ``f = g[idx] / scale - x`` into ``x_last`` and ``f_last`` (float64 ``[n]``), after (unless ``first``) writing
    their differences to the values held there, ``x - x_last`` and ``f - f_last``, into row ``slot`` of ``d_x``
    and ``d_f`` (the NumPy expressions' operations, element by element); then, with ``k`` > 0 rows of ``d_f``
    in use, into ``gram_out[:k, :k]`` their Gram matrix (symmetric, both triangles) and into ``rhs_out[:k]``
    their products with ``f``: the normal equations of the least squares min |f - d_f[:k]^T gamma|."""
    for i in range(k):
        rhs_out[i] = 0.0
        for j in range(k):
            gram_out[i, j] = 0.0
    for e in range(idx.shape[0]):
        x = m[idx[e]] / scale[e]
        f = g[idx[e]] / scale[e] - x
        if not first:
            d_x[slot, e] = x - x_last[e]
            d_f[slot, e] = f - f_last[e]
        x_last[e] = x
        f_last[e] = f
        for i in range(k):
            a = d_f[i, e]
            rhs_out[i] += a * f
            for j in range(i + 1):
                gram_out[i, j] += a * d_f[j, e]
    for i in range(k):
        for j in range(i):
            gram_out[j, i] = gram_out[i, j]


@njit(cache=True)
def combine(x, f, gamma, d_x, d_f, scale, idx, out):
    """The next iterate ``out[idx[e]] = (x[e] + f[e] - sum_i gamma[i] (d_x[i, e] + d_f[i, e])) * scale[e]``, over
    the ``gamma.shape[0]`` rows of the history (unscaled by ``scale`` back to the caller's units; ``out``'s other
    entries are left as they are)."""
    k = gamma.shape[0]
    for e in range(x.shape[0]):
        s = x[e] + f[e]
        for i in range(k):
            s -= gamma[i] * (d_x[i, e] + d_f[i, e])
        out[idx[e]] = s * scale[e]
