"""The linear solvers of the hydraulic solver's reduced system ``(A^T D^-1 A) dp = rhs``, behind one interface.

The matrix is a weighted graph Laplacian of the free nodes: its pattern is fixed by the topology, so each
solver orders the rows and lays out the storage once (``layout``), and the Global Gradient kernels
(:func:`gigawatt.solver.numerics.hydraulic_kernel.assemble_reduced`, or ``gga_evaluate``) then add each branch's
entries straight into the value array at places found once. Registry :data:`REDUCED_SOLVERS`:

``envelope``
    Reverse Cuthill-McKee order and envelope ``L D L^T`` (:mod:`gigawatt.solver.numerics.envelope`): the fastest where
    the envelope is narrow (the ladder of a cooling loop: 3 entries a row).
``sparse``
    Minimum-degree order and sparse ``L D L^T`` (:mod:`gigawatt.solver.numerics.sparse_ldl`): where the envelope is
    wide (a loop whose racks are ladders of cold plates; district-heating towns; meshed networks). The order is
    :func:`gigawatt.solver.numerics.peel_order.peeled_minimum_degree_position`: nodes of degree at most 2
    eliminated first (series and parallel reductions: no fill beyond one entry each, linear time; they empty
    ladders, ladders of ladders and trees), the rest by SuperLU's multiple minimum degree. On a district-heating
    town of 10^4 consumers this is the same factor as minimum degree over the whole matrix (125 824 against
    125 448 multiply-adds) for a seventh of the set-up.
``scipy``
    ``scipy.sparse.linalg.spsolve`` (SuperLU), which redoes its ordering every time; no assembly by the
    kernel. Also the fall-back of the other two when a pivot is not positive, which a symmetric positive
    definite matrix only shows by rounding.

:func:`choose` picks one for ``"auto"``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gigawatt.solver.numerics.envelope import envelope_factor_solve, envelope_layout
from gigawatt.solver.numerics.peel_order import peeled_minimum_degree_position
from gigawatt.solver.numerics.sparse_ldl import ldl_layout, ldl_numeric_rows_solve, ldl_rows, ldl_solve

ENVELOPE_MAX_WORK_PER_ROW = 8.0
"""``auto`` takes the envelope solver when its factorisation costs at most this many multiply-adds per row
(a band of about three); beyond, it also lays out the sparse solver and takes the cheaper of the two."""
ENVELOPE_OVERHEAD = 2.0
"""How much cheaper per multiply-add the envelope factorisation is than the sparse one (contiguous rows, no
elimination-tree walk), measured on cooling ladders; used to compare their work counts."""


class Layout(NamedTuple):
    """One solver's order and storage of the reduced matrix of ``n`` free nodes."""

    name: str
    position: np.ndarray     # [n] row of each free node (natural free numbering) in the solver's order
    diagonal: np.ndarray     # [n] place of each row's diagonal entry in the value array (by row)
    off: np.ndarray          # [e] place of each given off-diagonal entry in the value array
    n_values: int            # length of the value array
    work: float              # multiply-adds of one factorisation
    data: tuple              # the solver's own arrays (read-only)


class _Envelope:
    @staticmethod
    def layout(n, rows, cols):
        lay = envelope_layout(n, rows, cols)
        r, c = lay.position[rows], lay.position[cols]
        hi, lo = np.maximum(r, c), np.minimum(r, c)
        return Layout("envelope", lay.position, lay.ptr[1:] - 1, lay.ptr[hi] + lo - lay.first[hi], int(lay.ptr[-1]),
                      lay.work, (lay.first, lay.ptr))

    @staticmethod
    def make_work(layout):
        return (np.empty(layout.position.size),)

    @staticmethod
    def factor_solve(layout, values, b, work):
        first, ptr = layout.data
        (inv_diag,) = work
        return envelope_factor_solve(values, first, ptr, inv_diag, b) < 0


class _SparseLDL:
    @staticmethod
    def layout(n, rows, cols, position=None):
        if position is None:
            position = peeled_minimum_degree_position(n, rows, cols)
        lay, entry, diagonal = ldl_layout(n, rows, cols, position)
        # the walks of the elimination tree, once: each Newton iteration's factorisation is arithmetic only
        row_ptr, row_col, row_place, l_index = ldl_rows(n, lay.col_ptr, lay.row_index, lay.l_ptr, lay.parent)
        return Layout("sparse", lay.position, diagonal[np.argsort(lay.position)] if n else diagonal, entry,
                      int(lay.col_ptr[-1]), lay.work,
                      (lay.col_ptr, lay.row_index, lay.parent, lay.l_ptr, row_ptr, row_col, row_place, l_index))

    @staticmethod
    def make_work(layout):
        n = layout.position.size
        n_l = int(layout.data[3][-1])
        return (np.empty(n_l), np.empty(n), np.empty(n))

    @staticmethod
    def factor_solve(layout, values, b, work):
        col_ptr, row_index, _, l_ptr, row_ptr, row_col, row_place, l_index = layout.data
        l_values, d, y = work
        n = layout.position.size
        return ldl_numeric_rows_solve(n, col_ptr, row_index, values, l_ptr, row_ptr, row_col, row_place, l_index,
                                      l_values, d, y, b) < 0


class _SuperLU:
    @staticmethod
    def layout(n, rows, cols):
        # No value array (the kernel assembles nothing): every place is the spare slot 0.
        return Layout("scipy", np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                      np.zeros(np.size(rows), dtype=np.int64), 0, float("nan"), ())

    @staticmethod
    def make_work(layout):
        return ()


REDUCED_SOLVERS = {"envelope": _Envelope, "sparse": _SparseLDL, "scipy": _SuperLU}
"""Linear solvers of the reduced system by name (see the module notes)."""


def choose(name: str, n: int, rows, cols) -> Layout:
    """The layout of solver ``name`` for the pattern ``(rows, cols)`` of ``n`` free nodes (natural free
    numbering); ``"auto"``: envelope if narrow (:data:`ENVELOPE_MAX_WORK_PER_ROW`), else the cheaper of
    envelope and sparse."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if name != "auto":
        return REDUCED_SOLVERS[name].layout(n, rows, cols)
    envelope = _Envelope.layout(n, rows, cols)
    if envelope.work <= ENVELOPE_MAX_WORK_PER_ROW * n:
        return envelope
    sparse = _SparseLDL.layout(n, rows, cols)
    return envelope if envelope.work <= ENVELOPE_OVERHEAD * sparse.work else sparse


def factor_solve(layout: Layout, values, b, work) -> bool:
    """Factor the matrix in ``values`` (overwritten) and solve for ``b[:n]`` in place; False if a pivot was
    not positive (then use :func:`superlu_solve`)."""
    return REDUCED_SOLVERS[layout.name].factor_solve(layout, values, b, work)


def solve_factored(layout: Layout, b, work) -> None:
    """Solve for ``b[:n]`` in place with the sparse factor a :func:`factor_solve` left in ``work``."""
    _, _, _, l_ptr, _, _, _, l_index = layout.data
    l_values, d, _ = work
    ldl_solve(layout.position.size, l_ptr, l_index, l_values, d, b)


def superlu_solve(rows, cols, values, rhs, n: int) -> np.ndarray:
    """``spsolve`` of the matrix given by (possibly repeated) COO entries."""
    mat = sp.csc_matrix((values, (rows, cols)), shape=(n, n))  # COO -> CSC sums the duplicate entries
    return np.atleast_1d(spla.spsolve(mat, rhs))
