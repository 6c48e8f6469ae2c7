"""Coolant property tables stored with the package, so a solve needs no CoolProp at run time.

Importing CoolProp initialises its whole fluid library, about 3 s on the reference machine, which more than
doubled the run time of the default case. The tables a solve uses (each registered coolant over its whole
valid range at 1 atm, :data:`~gigawatt.models.coolant.DEFAULT_POINTS` points) are therefore generated once
from CoolProp by ``python -m gigawatt.models.coolant_store`` into ``models/data/coolant_tables.npz``; a
test regenerates them and requires the stored file to match CoolProp exactly, so the file cannot drift
from its source.

Water is stored further, on the same grid spacing, up to :data:`WATER_T_MAX_K` (the highest district-heating
supply temperature of the case schema), with its saturation pressure at every grid point: a pressurised
network (water at 120 °C stays liquid above 2 bar) asks :func:`stored_table` for its pressure and gets the
boiling limit there. CoolProp's water properties do not depend on pressure (an incompressible fit), so the
stored values hold at any pressure at which the water is liquid.
"""
from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from gigawatt.models.coolant import (COOLANTS, DEFAULT_POINTS, P_REFERENCE_PA, PROPERTY_FIELDS, CoolantLimits,
                                     CoolantTable, _spec)

STORE_FILE = Path(__file__).with_name("data") / "coolant_tables.npz"
_LIMIT_NUMBERS = ("t_low_k", "t_high_k", "t_freeze_k", "t_boil_k", "p_pa")
WATER_T_MAX_K = 423.15
"""Highest temperature of the stored water table [K]: the case schema's highest ``t_supply_k`` of a
district-heating network (liquid above 4.8 bar)."""
WATER_TABLE_PA = 1e6
"""Pressure [Pa] at which the water table is computed (CoolProp refuses a liquid state below the saturation
pressure; 10 bar keeps water liquid to 453 K); the values are those at 1 atm wherever water is liquid there."""


def fresh_table(name: str) -> CoolantTable:
    """The full-range table of a coolant computed from CoolProp now (slow: imports CoolProp): its valid range
    at 1 atm on :data:`DEFAULT_POINTS` points; for water, the same grid continued at its spacing up to
    :data:`WATER_T_MAX_K`, with the saturation pressure at each point (the limits stay those at 1 atm)."""
    from gigawatt.models.coolant import coolant_limits, coolant_table, saturation_pressure_pa, tabulate

    lim = coolant_limits(name)
    if name != "water":
        return coolant_table(name, lim.t_low_k, lim.t_high_k, DEFAULT_POINTS)
    grid = np.linspace(lim.t_low_k, lim.t_high_k, DEFAULT_POINTS)  # the 1-atm grid, bit for bit, continued
    h = (lim.t_high_k - lim.t_low_k) / (DEFAULT_POINTS - 1)
    extra = lim.t_low_k + h * np.arange(DEFAULT_POINTS, int(np.ceil((WATER_T_MAX_K - lim.t_low_k) / h)) + 1)
    t_k = np.concatenate([grid, extra])
    spec = _spec(name)
    props = tabulate(spec, t_k, WATER_TABLE_PA)
    p_sat = saturation_pressure_pa(spec, t_k)
    for arr in (t_k, p_sat, *props.values()):
        arr.flags.writeable = False
    return CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=t_k, limits=lim, p_sat_pa=p_sat, **props)


def write_store(path: Path = STORE_FILE) -> None:
    """Compute every registered coolant's table from CoolProp and write them to ``path``."""
    import CoolProp

    arrays = {"coolprop_version": np.array(CoolProp.__version__)}
    for name in COOLANTS:
        tab = fresh_table(name)
        arrays[f"{name}/t_k"] = tab.t_k
        for f in PROPERTY_FIELDS:
            arrays[f"{name}/{f}"] = getattr(tab, f)
        arrays[f"{name}/limits"] = np.array([getattr(tab.limits, k) for k in _LIMIT_NUMBERS])
        if tab.p_sat_pa is not None:
            arrays[f"{name}/p_sat_pa"] = tab.p_sat_pa
        arrays[f"{name}/reasons"] = np.array([tab.limits.low_reason, tab.limits.high_reason])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


@lru_cache(maxsize=None)
def _stored(name: str) -> CoolantTable:
    spec = _spec(name)
    with np.load(STORE_FILE) as data:
        props = {f: data[f"{name}/{f}"] for f in PROPERTY_FIELDS}
        t_k = data[f"{name}/t_k"]
        numbers = dict(zip(_LIMIT_NUMBERS, (float(x) for x in data[f"{name}/limits"])))
        low_reason, high_reason = (str(x) for x in data[f"{name}/reasons"])
        p_sat = data[f"{name}/p_sat_pa"] if f"{name}/p_sat_pa" in data.files else None
    for arr in (t_k, *props.values(), *(() if p_sat is None else (p_sat,))):
        arr.flags.writeable = False
    return CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=t_k, p_sat_pa=p_sat,
                        limits=CoolantLimits(**numbers, low_reason=low_reason, high_reason=high_reason), **props)


@lru_cache(maxsize=64)
def stored_table(name: str, p_pa: float = P_REFERENCE_PA) -> CoolantTable:
    """The stored table of a registered coolant, with its limits at ``p_pa`` [Pa] (default 1 atm, the stored
    limits themselves); unknown names raise :class:`~gigawatt.errors.CaseError` listing the known ones.

    At another pressure, a tabulated saturation pressure (water) gives the boiling limit: the temperature
    where ln p_sat, interpolated linearly between grid points 0.25 K apart, reaches ``p_pa`` (within 1e-3 K
    of CoolProp's own saturation temperature: see the tests); above the grid's saturation pressures, the
    grid's end (:data:`WATER_T_MAX_K`) is the limit. A coolant without one (the glycols) has the same limits
    at every pressure."""
    table = _stored(name)
    if p_pa == P_REFERENCE_PA or table.p_sat_pa is None:
        return table
    if not (isinstance(p_pa, (int, float, np.integer, np.floating)) and math.isfinite(p_pa) and p_pa > 0):
        from gigawatt.errors import CaseError

        raise CaseError("not a valid pressure", element=f"coolant '{name}'", field="p_pa", value=p_pa,
                        allowed="> 0 Pa")
    lim = table.limits
    ok = np.isfinite(table.p_sat_pa)
    t_sat, p_sat = table.t_k[ok], table.p_sat_pa[ok]
    if p_pa >= p_sat[-1]:
        t_boil, t_high, reason = math.nan, float(table.t_k[-1]), "highest temperature of the stored table"
    else:
        t_boil = float(np.interp(math.log(p_pa), np.log(p_sat), t_sat))
        t_high, reason = t_boil, f"boiling temperature at {p_pa:.6g} Pa"
    return replace(table, limits=replace(lim, t_high_k=t_high, t_boil_k=t_boil, p_pa=float(p_pa), high_reason=reason))


def stored_coolprop_version() -> str:
    """The CoolProp version the stored tables were computed with."""
    with np.load(STORE_FILE) as data:
        return str(data["coolprop_version"])


if __name__ == "__main__":
    write_store()
    print(f"wrote {STORE_FILE}")


def stored_constants(name: str, t_k: float, field: str, file=None, p_pa: float = P_REFERENCE_PA
                     ) -> tuple[float, float, float, float]:
    """(density [kg/m^3], cp [J/(kg K)], viscosity [Pa s], conductivity [W/(m K)]) of a registered coolant at
    ``t_k`` [K] from its stored table, range-checked at the pressure ``p_pa`` [Pa] (absolute; it sets water's
    boiling limit): out of range raises :class:`~gigawatt.errors.CaseError` naming ``field`` (and the case
    ``file``, when given)."""
    from gigawatt.errors import CaseError
    from gigawatt.models.coolant import coolant_properties

    try:
        p = coolant_properties(stored_table(name, p_pa), t_k, field=field)
    except CaseError as err:
        raise err.located(file=file) from None
    return (float(p["density_kg_per_m3"]), float(p["cp_j_per_kg_k"]), float(p["viscosity_pa_s"]),
            float(p["conductivity_w_per_m_k"]))
