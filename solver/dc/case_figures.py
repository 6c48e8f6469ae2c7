"""What a DC solve needs of the case's tables alone, not of its load flow: the lines' resistances, the racks'
chip powers (on an input basis the root of each rack's chain, :func:`gigawatt.models.racks.chip_powers`), each bus's route length from its
feeds (:func:`gigawatt.solver.dc.results.bus_distance_m`), each line's rating
(:func:`gigawatt.solver.dc.ratings.case_line_ratings`) and the results' echoed columns and indexes
(:func:`gigawatt.solver.dc.results.result_inputs`).

From :data:`BACKGROUND_MIN_BUSES` buses they are found on a worker thread, started before the assembly, so that
the second core finds them while the first assembles and solves (the assembly's and the distances' kernels
release the GIL); each is handed over when asked for, in that order. An item the worker has not begun when it is
asked for is found by the thread that asks (the worker then skips it), so that thread never waits for work
that has not started (a loaded machine may start the worker late). Below it, each is found when asked for.
The numbers are the same either way: the same functions on the same tables.
"""
from __future__ import annotations

import os
import threading

import numpy as np

BACKGROUND_MIN_BUSES = 20_000
"""Fewest buses for :class:`CaseFigures` to use a worker thread (and only where the process may use two CPUs);
below it the thread costs more than it saves."""

ITEMS = ("lines", "rack_p_it_w", "rack_powers", "line_ratings", "result_inputs", "bus_distance_m")
"""The figures, in the order the worker finds them: those that hold the GIL (NumPy and pandas steps) while the
assembly runs its kernels, which release it; the bus distances, one kernel that releases it too, last, while the
solve's and the results' Python runs (which asks for them last)."""


class CaseFigures:
    """The figures of :data:`ITEMS` for ``case`` at lines in service ``line_in_service`` (default: the lines'
    ``in_service``): ``lines`` (in service, loop resistance [Ω] and end-bus rows of every line, as the assembly
    takes them), ``rack_p_it_w`` [W] per rack row, ``rack_powers`` (input, shelf and regulator losses [W] at
    those chip powers, :func:`gigawatt.models.racks.rack_powers`), ``bus_distance_m`` [m] per bus row, ``line_ratings``
    (rating [A], method) per line row, ``result_inputs`` (the columns the results echo and the indexes of their
    dimensions, :func:`gigawatt.solver.dc.results.result_inputs`: one results Dataset's own). ``background``: use
    a worker thread (default: from :data:`BACKGROUND_MIN_BUSES` buses). An error found on the worker is raised by
    :meth:`get` of that item."""

    def __init__(self, case, line_in_service=None, *, background: bool | None = None):
        self._case = case
        self._live = (case.tables["line"]["in_service"].to_numpy(bool) if line_in_service is None
                      else np.asarray(line_in_service, bool))
        self._out, self._error = {}, {}
        self._ready = {name: threading.Event() for name in ITEMS}
        self._begun, self._claims = set(), threading.Lock()
        if background is None:
            background = len(case.tables["bus"]) >= BACKGROUND_MIN_BUSES and _cpus() >= 2
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._run, name="gigawatt-case-figures", daemon=True)
            self._thread.start()

    def uses_lines(self, line_in_service) -> bool:
        """Whether these figures are for lines in service ``line_in_service``."""
        return np.array_equal(self._live, np.asarray(line_in_service, bool))

    def busy(self) -> bool:
        """Whether the worker thread is still finding figures (False without one)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self):
        for name in ITEMS:
            if self._claim(name):
                self._compute(name)

    def _claim(self, name: str) -> bool:
        """Whether the calling thread is the first to take up ``name`` (and so must compute it)."""
        with self._claims:
            if name in self._begun:
                return False
            self._begun.add(name)
            return True

    def _compute(self, name: str):
        try:
            self._out[name] = _FIGURES[name](self)
        except BaseException as err:  # handed to the caller by get()
            self._error[name] = err
        self._ready[name].set()

    def get(self, name: str):
        """The figure ``name`` (one of :data:`ITEMS`): found here if no thread has begun it, else waited for."""
        if self._claim(name):
            self._compute(name)
        self._ready[name].wait()
        if name in self._error:
            raise self._error[name]
        return self._out[name]


def _cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _lines(figures):
    from gigawatt.solver.dc.assembly import _lines

    return _lines(figures._case)


def _chip_powers(figures):
    from gigawatt.models.racks import chip_powers

    return chip_powers(figures._case)


def _rack_powers(figures):
    from gigawatt.models.racks import rack_powers

    return rack_powers(figures._case, figures.get("rack_p_it_w"))


def _distances(figures):
    from gigawatt.solver.dc.results import bus_distance_m

    return bus_distance_m(figures._case, figures._live)


def _ratings(figures):
    from gigawatt.solver.dc.ratings import case_line_ratings

    return case_line_ratings(figures._case)


def _result_inputs(figures):
    from gigawatt.solver.dc.results import result_inputs

    return result_inputs(figures._case)


_FIGURES = {"lines": _lines, "rack_p_it_w": _chip_powers, "rack_powers": _rack_powers, "bus_distance_m": _distances,
            "line_ratings": _ratings, "result_inputs": _result_inputs}
