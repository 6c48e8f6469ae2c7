"""Scratch arrays kept between solves of one prepared network.

A solve of a 10^4-rack coolant network needs a few megabytes of work arrays. Allocated afresh each time,
that memory comes from the operating system page by page (the C allocator hands large blocks back when
they are freed), and on the virtual machines this was measured on each first touch of a page costs about
2 microseconds: 1-2 ms per solve, as much as the solve itself. A prepared network therefore keeps its work
arrays in a :class:`ScratchPool` and reuses them.

Nothing a caller sees lives in the pool: results are always fresh arrays, and no value carries over from
one solve to the next (every kernel writes its work arrays before reading them). Each solve holds its own
set for as long as it runs, so solves of one network from several threads never share one; a new set is
made when none is free.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable


class ScratchPool:
    """Sets of scratch arrays made by ``make()``, lent out one per solve (see the module notes)."""

    def __init__(self, make: Callable[[], object]):
        self._make = make
        self._free: list = []
        self._lock = threading.Lock()

    def keep(self):
        """A free set of scratch arrays (a new one if none is free) for the caller to keep: it does not come back
        to the pool (a session held for a time series' run, which would otherwise add a set beside the pool's)."""
        with self._lock:
            work = self._free.pop() if self._free else None
        return self._make() if work is None else work

    @contextmanager
    def take(self):
        """A set of scratch arrays (:meth:`keep`), returned to the pool afterwards."""
        work = self.keep()
        try:
            yield work
        finally:
            with self._lock:
                self._free.append(work)
