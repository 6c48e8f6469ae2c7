"""Current ratings (ampacity), conductor temperature from the load, and loop inductance of DC conductors.

Pure, vectorised functions in SI units. Which rating applies to which line is chosen by
:func:`gigawatt.solver.dc.ratings.line_ratings` through the registry :data:`AMPACITY_METHODS`.

References
----------
.. [1] IEC 60287-1-1:2006+A1:2014, Electric cables - Calculation of the current rating - Part 1-1: Current
   rating equations (100 % load factor) and calculation of losses - General, clause 1.4.1.1, equation (1).
.. [2] Schneider Electric, "Canalis KTC 1000 to 5000 A - Busbar trunking systems - Copper", catalogue 2014,
   design guide "Characteristics of run sections" (Canalis KTC 3L + PE): nominal rated current Inc at an
   ambient temperature of 35 degC, average phase-conductor resistance R20 at 20 degC and average reactance X1
   at Inc, 35 degC and 50 Hz. A manufacturer's table, not a standard.
.. [3] F. W. Grover, "Inductance Calculations", Van Nostrand, 1946 (Dover reprint 2004), the inductance of a
   return circuit of two parallel round wires: L = (mu0/pi)(1/4 + ln(D/r)) per unit length; also
   C. R. Paul, "Inductance: Loop and Partial", Wiley-IEEE Press, 2010, doi:10.1002/9780470561232, ch. 5.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.models.conductors import resistivity_at_temperature

MU0_H_PER_M = 4e-7 * np.pi
"""Magnetic constant [H/m] (the pre-2019 exact value; the 2019 SI value differs by 1e-10 relative)."""

CANALIS_KTC = {
    "rated_current_a": np.array([1000.0, 1350.0, 1600.0, 2000.0, 2500.0, 3200.0, 4000.0, 5000.0]),
    "r20_ohm_per_m": np.array([0.041, 0.029, 0.024, 0.018, 0.014, 0.012, 0.009, 0.007]) * 1e-3,
    "x1_ohm_per_m": np.array([0.022, 0.016, 0.015, 0.013, 0.011, 0.008, 0.007, 0.007]) * 1e-3,
    "ambient_temp_k": 308.15,
}
"""Copper busway ratings of a manufacturer's catalogue [2]_ (Canalis KTC10 ... KTC50): nominal rated current
[A] at 35 degC ambient, average resistance of one phase conductor at 20 degC [Ohm/m] and its reactance at
50 Hz [Ohm/m]. The vendor rates the busway for 50/60 Hz AC ("for DC, consult us"); in DC the same conductor
has no skin, proximity or enclosure eddy-current losses, so the AC rating is on the safe side for DC."""

CABLE_LOOP_INDUCTANCE_H_PER_M = MU0_H_PER_M / np.pi * (0.25 + np.log(2.0))
"""Loop inductance [H/m] of two touching round conductors (spacing D = 2r) by the two-wire formula [3]_:
(mu0/pi)(1/4 + ln 2) = 0.377 uH/m, whatever their size. Insulation keeps real cores further apart (a larger
inductance); for the largest fault currents the smaller value is on the safe side."""


def iec60287_dc_rating(r_ohm_per_m, thermal_resistance_k_m_per_w, conductor_max_temp_k, ambient_temp_k):
    r"""Continuous current rating of one DC conductor by IEC 60287-1-1 [1]_, equation (1).

    .. math:: I = \sqrt{\frac{\theta_{max} - \theta_{amb}}{R' \, T}}

    the standard's equation (1) for a single-core cable (n = 1) carrying DC: no dielectric loss (W_d = 0,
    a low-voltage cable), no sheath or armour loss (lambda_1 = lambda_2 = 0, none is induced by DC), with
    T = T1 + T2 + T3 + T4 the thermal resistance from the conductor to the ambient per metre.

    Parameters
    ----------
    r_ohm_per_m : array_like
        DC resistance of the conductor per metre at its maximum temperature [Ohm/m].
    thermal_resistance_k_m_per_w : array_like
        T, conductor to ambient [K m/W].
    conductor_max_temp_k, ambient_temp_k : array_like
        Maximum continuous conductor temperature and ambient temperature [K].

    Returns
    -------
    numpy.ndarray
        Rating [A].

    Notes
    -----
    Validity: steady state at 100 % load factor; the thermal resistances (IEC 60287-2-1) are the caller's.
    Cables in groups need T4 (or a derating) for their mutual heating.

    Examples
    --------
    >>> round(float(iec60287_dc_rating(1e-4, 1.0, 363.15, 303.15)), 3)  # 60 K over 1e-4 Ohm/m and 1 K m/W
    774.597
    """
    dt = np.asarray(conductor_max_temp_k, float) - np.asarray(ambient_temp_k, float)
    return np.sqrt(dt / (np.asarray(r_ohm_per_m, float) * np.asarray(thermal_resistance_k_m_per_w, float)))


def canalis_ktc_rating(cross_section_m2):
    """Rating [A] of a copper busway of ``cross_section_m2`` per conductor from the vendor table
    :data:`CANALIS_KTC` [2]_: the rating is interpolated log–log against the conductor's resistance per metre
    at 20 degC (copper, 1.7241e-8 Ohm m / A), i.e. against its equivalent copper cross-section.

    NaN outside the table (about 420 to 2460 mm² per conductor, 1000 to 5000 A): the catalogue says nothing
    there. Rated at 35 degC ambient.

    >>> round(float(canalis_ktc_rating(1000e-6)))   # 1000 mm2: between the 2000 A and 2500 A sizes
    2078
    """
    r20 = 1.7241e-8 / np.asarray(cross_section_m2, float)
    t = CANALIS_KTC
    x, y = np.log(t["r20_ohm_per_m"][::-1]), np.log(t["rated_current_a"][::-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(r20)
    inside = (lr >= x[0] - 1e-12) & (lr <= x[-1] + 1e-12)
    return np.where(inside, np.exp(np.interp(lr, x, y)), np.nan)


def busway_loop_inductance(cross_section_m2):
    """Loop inductance per metre [H/m] of a busway's go and return conductors: twice the vendor's
    per-conductor reactance at 50 Hz [2]_ over 2π·50 Hz, interpolated against the equivalent copper resistance
    as :func:`canalis_ktc_rating` and held at the table's ends outside it (70–140 nH/m). The positive-sequence
    reactance of a three-phase busway stands in for the DC loop's half; an approximation.

    >>> round(float(busway_loop_inductance(1000e-6)) * 1e9, 1)  # nH/m
    80.6
    """
    r20 = 1.7241e-8 / np.asarray(cross_section_m2, float)
    t = CANALIS_KTC
    x = np.log(t["r20_ohm_per_m"][::-1])
    x1 = np.interp(np.log(r20), x, t["x1_ohm_per_m"][::-1])
    return 2.0 * x1 / (2.0 * np.pi * 50.0)


def default_loop_inductance(kind, cross_section_m2):
    """Loop inductance per metre [H/m] of a line without ``l_h_per_m``: busways and busbars from the vendor's
    reactance (:func:`busway_loop_inductance`; a busbar is taken as close as a busway, an assumption), cables
    and lines without a cross-section :data:`CABLE_LOOP_INDUCTANCE_H_PER_M`."""
    kind = np.asarray(kind, dtype=object)
    area = np.asarray(cross_section_m2, float)
    bars = ((kind == "busway") | (kind == "busbar")) & np.isfinite(area)
    out = np.full(np.broadcast(kind, area).shape, CABLE_LOOP_INDUCTANCE_H_PER_M)
    if bars.any():
        out[bars] = busway_loop_inductance(np.broadcast_to(area, out.shape)[bars])
    return out


def conductor_temperature_from_load(current_a, ampacity_a, conductor_max_temp_k, ambient_temp_k):
    r"""Steady conductor temperature [K] of a conductor carrying ``current_a`` whose rating ``ampacity_a``
    brings it to ``conductor_max_temp_k``:

    .. math:: \theta = \theta_{amb} + (\theta_{max} - \theta_{amb}) \, (I / I_z)^2

    the IEC 60287-1-1 [1]_ heat balance Δθ = I²·R·T at fixed R and T (the losses, and so the rise, go with
    I²), taken between the load and the rating. It neglects the rise of R with θ itself (a few % at full load,
    on the low side above it).

    >>> float(conductor_temperature_from_load(500.0, 1000.0, 363.15, 303.15))  # half load: a quarter of the rise
    318.15
    """
    ratio = np.abs(np.asarray(current_a, float)) / np.asarray(ampacity_a, float)
    t_amb = np.asarray(ambient_temp_k, float)
    return t_amb + (np.asarray(conductor_max_temp_k, float) - t_amb) * ratio * ratio


def _given(lines, codes=None):
    return lines["ampacity_a"].to_numpy(float)


def _is(lines, codes, field: str, value: str, rows=None) -> np.ndarray:
    """Whether each line (of ``rows``, default all) has ``value`` in the choice ``field``: from the case's codes
    (``codes[field]`` = ``(code, labels)``, :meth:`gigawatt.cases.case.Case.codes`) when given, else by comparing
    the strings (slower by far at 10⁵ lines)."""
    if codes is not None and field in codes:
        code, labels = codes[field]
        code = code if rows is None else code[rows]
        return code == labels.index(value)
    values = lines[field].to_numpy()
    return (values if rows is None else values[rows]) == value


def _on_runs(func, x: np.ndarray) -> np.ndarray:
    """``func(x)`` of an element-wise ``func``, evaluated once per run of equal consecutive values of ``x``
    (equal bit patterns) and repeated over the run: the same numbers, fewer evaluations (a row of busways
    shares one cross-section)."""
    x = np.ascontiguousarray(x, dtype=float)
    if x.size < 2:
        return func(x)
    bits = x.view(np.int64)
    new_run = np.empty(x.size, dtype=bool)
    new_run[0] = True
    np.not_equal(bits[1:], bits[:-1], out=new_run[1:])
    start = np.flatnonzero(new_run)
    if start.size > x.size // 2:
        return func(x)
    length = np.empty(start.size, dtype=np.int64)
    np.subtract(start[1:], start[:-1], out=length[:-1])
    length[-1] = x.size - start[-1]
    return np.repeat(func(x[start]), length)


def _iec60287(lines, codes=None):
    """IEC 60287 for every line with a thermal resistance, per circuit × n_parallel (NaN for the others; only
    the lines with one are evaluated)."""
    from gigawatt.models.conductors import MATERIALS

    out = np.full(len(lines), np.nan)
    rows = np.flatnonzero(~np.isnan(lines["thermal_resistance_k_m_per_w"].to_numpy(float)))
    if not rows.size:
        return out

    def col(name):
        return lines[name].to_numpy()[rows]

    area = col("cross_section_m2").astype(float)
    rho20 = col("rho20_ohm_m").astype(float)
    alpha = col("alpha_per_k").astype(float)
    for name, props in MATERIALS.items():
        this = _is(lines, codes, "material", name, rows)
        rho20[this & np.isnan(rho20)] = props["rho20_ohm_m"]
        alpha[this & np.isnan(alpha)] = props["alpha_per_k"]
    t_max = col("conductor_max_temp_k").astype(float)
    r_per_m = resistivity_at_temperature(rho20, alpha, t_max) / area
    out[rows] = col("n_parallel").astype(float) * iec60287_dc_rating(
        r_per_m, col("thermal_resistance_k_m_per_w").astype(float), t_max, col("ambient_temp_k").astype(float))
    return out


def _canalis(lines, codes=None):
    """The vendor table's rating of every copper busway (NaN for the other lines; only busways are evaluated,
    once per run of equal cross-sections)."""
    if codes is not None and "kind" in codes and "material" in codes:  # the look-ups and copies in two kernels
        return _canalis_by_code(lines, codes)
    out = np.full(len(lines), np.nan)
    rows = np.flatnonzero(_is(lines, codes, "kind", "busway") & _is(lines, codes, "material", "copper"))
    if rows.size:
        out[rows] = (_on_runs(canalis_ktc_rating, lines["cross_section_m2"].to_numpy(float)[rows])
                     * lines["n_parallel"].to_numpy(float)[rows])
    return out


def _canalis_by_code(lines, codes):
    """:func:`_canalis` from the case's codes of kind and material: the copper busways and their runs of equal
    cross-sections found in one pass (:func:`_runs_of`), the vendor table evaluated at the first of each run (at
    every busway if there are more runs than half of them: as :func:`_on_runs`), the ratings spread over the
    runs times n_parallel (:func:`_spread_runs`): the same numbers, element by element."""
    kind, kind_labels = codes["kind"]
    material, material_labels = codes["material"]
    area = np.ascontiguousarray(lines["cross_section_m2"].to_numpy(float))
    rows, starts = _runs_of(kind, kind_labels.index("busway"), material, material_labels.index("copper"), area)
    if rows.size and starts.size > rows.size // 2:
        starts = np.arange(rows.size)
    rating = canalis_ktc_rating(area[rows[starts]]) if rows.size else np.empty(0)
    return _spread_runs(len(lines), rows, starts, rating, lines["n_parallel"].to_numpy(float))


@njit(cache=True, nogil=True)
def _runs_of(kind, kind_k, material, material_k, area):
    """The rows whose ``kind`` code is ``kind_k`` and ``material`` code ``material_k``, and where among them each
    run of equal ``area`` (equal bit patterns) starts: ``(rows, starts)``."""
    bits = area.view(np.int64)
    rows = np.empty(kind.size, dtype=np.int64)
    starts = np.empty(kind.size, dtype=np.int64)
    n, s, last = 0, 0, 0
    for i in range(kind.size):
        if kind[i] == kind_k and material[i] == material_k:
            if n == 0 or bits[i] != last:
                starts[s] = n
                s += 1
                last = bits[i]
            rows[n] = i
            n += 1
    return rows[:n], starts[:s]


@njit(cache=True, nogil=True)
def _spread_runs(m, rows, starts, rating, n_parallel):
    """``m`` ratings [A], NaN but at ``rows``: each run's ``rating`` (runs begin at ``starts`` among ``rows``)
    times the row's ``n_parallel``."""
    out = np.full(m, np.nan)
    for j in range(starts.size):
        end = starts[j + 1] if j + 1 < starts.size else rows.size
        for k in range(starts[j], end):
            out[rows[k]] = rating[j] * n_parallel[rows[k]]
    return out


AMPACITY_METHODS = {
    "given": _given,  # the case's ampacity_a
    "iec60287": _iec60287,  # IEC 60287-1-1 eq. (1) with the line's thermal resistance
    "canalis_ktc": _canalis,  # copper busways: the Canalis KTC vendor table (a manufacturer's table)
}
"""Rating methods, in the order they are tried: each takes a validated line table (and optionally the case's codes
of its choice fields, ``{field: (code, labels)}``) and returns one rating per line [A] (NaN where it does not
apply); the first that applies rates the line."""
