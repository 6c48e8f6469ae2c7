"""Input checks shared by the model functions: each raises :class:`~gigawatt.errors.CaseError` naming the
field, the offending value and the allowed range."""
from __future__ import annotations

import math

import numpy as np

from gigawatt.errors import CaseError


def first_bad(x, ok) -> float:
    """The first element of ``x`` where ``ok`` is False, as a float (for error messages)."""
    return float(np.atleast_1d(x)[~np.atleast_1d(ok)][0])


def positive_temperature(name: str, t) -> np.ndarray:
    """``t`` as a float array [K]; every value finite and > 0 K."""
    t = np.asarray(t, dtype=float)
    if t.ndim == 0 and math.isfinite(v := float(t)) and v > 0.0:  # a good scalar (a step's): no array reductions
        return t
    ok = np.isfinite(t) & (t > 0.0)
    if not np.all(ok):
        raise CaseError("temperature out of range", field=name, value=first_bad(t, ok), allowed="> 0 K, finite")
    return t


def in_range(name: str, value, lo: float, hi: float, allowed: str, lo_open=False, hi_open=False) -> float:
    """``value`` as a float, finite and within [lo, hi] (ends open where asked)."""
    v = float(value)
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        raise CaseError("out of range", field=name, value=v, allowed=allowed)
    return v


def from_registry(registry: dict, kind: str, what: str):
    """The entry named ``kind`` of a model registry; an unknown name is a CaseError listing the known ones."""
    if kind not in registry:
        raise CaseError(f"unknown {what}", field="kind", value=kind, allowed="one of " + ", ".join(registry))
    return registry[kind]
