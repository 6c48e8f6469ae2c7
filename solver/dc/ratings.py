"""Conductor ratings of the DC lines: the current rating (ampacity) each line gets, by which method, its loading
and, where the case asks, its conductor temperature from the load.

The methods are the registry :data:`gigawatt.models.ampacity.AMPACITY_METHODS`, tried in its order: the
case's ``ampacity_a``; IEC 60287-1-1 where the line gives its thermal resistance to the ambient; the Canalis
KTC vendor table for copper busways. A line none of them rates is unrated: its loading is NaN.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.models.ampacity import AMPACITY_METHODS, conductor_temperature_from_load, default_loop_inductance


def line_ratings(lines, codes=None) -> tuple[np.ndarray, np.ndarray]:
    """Rating [A] of each line of a validated line table (all its n_parallel circuits together) and the name
    of the method that gave it ('' where none applies; the rating is then NaN), as a string array (taken from
    the method names by code: no Python string per line). ``codes``: the case's codes of the lines' choice
    fields, ``{field: (code, labels)}`` (:meth:`gigawatt.cases.case.Case.codes`), to spare comparing strings."""
    rating = np.full(len(lines), np.nan)
    code = np.zeros(len(lines), dtype=np.int8)  # 0: unrated, k: the k-th method of the registry
    left = len(lines) > 0  # lines not rated yet
    for k, func in enumerate(AMPACITY_METHODS.values(), start=1):
        if not left:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            got = func(lines, codes)
        left = _rate(rating, code, np.asarray(got, dtype=float), k)
    return rating, method_names(code)


def method_names(code) -> np.ndarray:
    """The method name of each line's ``code`` (0: '', k: the k-th method of the registry), a string array."""
    return np.array(["", *AMPACITY_METHODS]).take(code)


@njit(cache=True, nogil=True)
def _rate(rating, code, got, k):
    """Each line not rated yet (``rating`` NaN) that ``got`` rates (a finite number) takes that rating [A] and
    method ``k``; returns whether any line is left unrated."""
    left = False
    for i in range(rating.size):
        if rating[i] != rating[i]:
            if np.isfinite(got[i]):
                rating[i] = got[i]
                code[i] = k
            else:
                left = True
    return left


def case_line_ratings(case) -> tuple[np.ndarray, np.ndarray]:
    """:func:`line_ratings` of the case's lines, with the case's codes of their kind and material."""
    return line_ratings(case.tables["line"], {f: case.codes("line", f) for f in ("kind", "material")})


def line_loading(current_a, ampacity_a) -> np.ndarray:
    """|I| / rating [1] of each line (NaN where unrated or out of service)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(np.asarray(current_a, float)) / np.asarray(ampacity_a, float)


def line_temperatures(lines, current_a, ampacity_a) -> np.ndarray:
    """Conductor temperature [K] of each line from its current (:func:`gigawatt.models.ampacity.
    conductor_temperature_from_load`); the case's ``conductor_temp_k`` where the line is unrated, out of service
    or its resistance is given (``r_ohm``: no temperature dependence)."""
    theta = conductor_temperature_from_load(np.nan_to_num(current_a), ampacity_a,
                                            lines["conductor_max_temp_k"].to_numpy(float),
                                            lines["ambient_temp_k"].to_numpy(float))
    fixed = ~np.isfinite(theta) | ~np.isnan(lines["r_ohm"].to_numpy(float))
    return np.where(fixed, lines["conductor_temp_k"].to_numpy(float), theta)


def line_inductance(lines) -> np.ndarray:
    """Loop inductance [H] of each line: ``l_h_per_m`` (or its default by kind) × length / n_parallel."""
    per_m = lines["l_h_per_m"].to_numpy(float)
    per_m = np.where(np.isnan(per_m), default_loop_inductance(lines["kind"].to_numpy(),
                                                              lines["cross_section_m2"].to_numpy(float)), per_m)
    return per_m * lines["length_m"].to_numpy(float) / lines["n_parallel"].to_numpy(float)


def loading_warnings(line_ids, loading, method, limit: int = 5) -> list[str]:
    """One line per line loaded above its rating (the worst ``limit`` of them, and how many in all)."""
    with np.errstate(invalid="ignore"):
        over = np.flatnonzero(loading > 1.0)  # NaN (unrated) is not above, +inf is, as with nan_to_num
    if not over.size:
        return []
    worst = _largest(loading, over, limit)
    out = [f"line '{line_ids[i]}' is loaded to {100 * loading[i]:.1f} % of its rating ({method[i]})" for i in worst]
    if over.size > limit:
        out.append(f"... {over.size} lines in all are loaded above their rating")
    return out


def _largest(x, rows, limit: int) -> np.ndarray:
    """The ``limit`` rows of ``rows`` (ascending) with the largest ``x`` (no NaN among them), largest first and
    equal values in row order: ``rows[np.argsort(-x[rows], kind="stable")][:limit]`` without sorting them all
    (10⁴ overloaded lines at 10⁵ buses): only the rows at or above the ``limit``-th largest value are sorted."""
    values = x[rows]
    if values.size > limit > 0:
        rows = rows[values >= np.partition(values, values.size - limit)[values.size - limit]]
        values = x[rows]
    return rows[np.argsort(-values, kind="stable")][:limit]
