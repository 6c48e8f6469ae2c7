"""One lock around every parallel Numba kernel of the process.

Numba runs ``prange`` loops on OpenMP where libgomp is present (``numba.config.THREADING_LAYER`` "default"
picks it), else on its "workqueue" layer, which aborts the process if two Python threads enter parallel
kernels at once. Solves from several threads therefore take turns here (each one is itself parallel):
hold :data:`PARALLEL_KERNELS` around a call that may run a ``prange`` loop.
"""
from __future__ import annotations

import threading

PARALLEL_KERNELS = threading.Lock()
"""Held around any call into a parallel Numba kernel (today the DC zones: of one solve, and of a series)."""
