"""Coolant property tables stored with the package, so a solve needs no CoolProp at run time.

Importing CoolProp initialises its whole fluid library, about 3 s on the reference machine, which more than
doubled the run time of the default case. The tables a solve uses (each registered coolant over its whole
valid range at 1 atm, :data:`~gigawatt.models.coolant.DEFAULT_POINTS` points) are therefore generated once
from CoolProp by ``python -m gigawatt.models.coolant_store`` into ``models/data/coolant_tables.npz``; a
test regenerates them and requires the stored file to match CoolProp exactly, so the file cannot drift
from its source.

Water (IAPWS-95) is stored further, on the same grid spacing, up to :data:`WATER_T_MAX_K` (the highest
district-heating supply temperature of the case schema), with its saturation pressure at every grid point,
and at each pressure of :data:`WATER_PRESSURES_PA`: :func:`stored_table` gives the table at a network's own
pressure, interpolated linearly in pressure between the two stored pressures around it, with the boiling
limit there (water at 120 °C stays liquid above 2 bar).

Why a pressure axis: between 1 atm and 10 bar, water's c_p falls by up to 0.11 %, its viscosity by up to
0.11 % and its density rises by up to 0.046 % (largest near 0 °C; IAPWS-95 through CoolProp) — a third of
the 0.28 % error of the incompressible fit it replaced, so not negligible for a network at 10 bar; at the
schema's highest pressure (1000 bar) the changes reach 5-11 %. Linear interpolation between the stored
pressures is within 4e-7 relative of the direct computation up to 21 bar, 1e-5 up to 101 bar and 1e-3 up
to 1000 bar (about 1.5e-6 (Δp / 1 MPa)^2 for a pressure step Δp; see the tests), below the uncertainty
IAPWS states for c_p, viscosity and conductivity (0.1 % to 1 %) everywhere a network runs.
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
WATER_PRESSURES_PA = tuple(P_REFERENCE_PA + gauge_bar * 1e5 for gauge_bar in (
    0, 1, 2, 3, 4, 6, 8, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000))
"""Absolute pressures [Pa] of the stored water tables: 1 atm plus whole gauge pressures [bar] (so a plant
holding 2 bar gauge, the schema's default, reads a stored table exactly) up to 1000 bar gauge, the schema's
highest plant pressure. At a grid temperature where water would boil at one of them, that table holds the
saturated liquid (see :func:`gigawatt.models.coolant.tabulate`)."""


def _water_grid(lim: CoolantLimits) -> np.ndarray:
    """The stored water grid [K]: the 1-atm grid (liquid range on :data:`DEFAULT_POINTS` points), continued at
    its spacing up to :data:`WATER_T_MAX_K`."""
    grid = np.linspace(lim.t_low_k, lim.t_high_k, DEFAULT_POINTS)  # the 1-atm grid, bit for bit, continued
    h = (lim.t_high_k - lim.t_low_k) / (DEFAULT_POINTS - 1)
    extra = lim.t_low_k + h * np.arange(DEFAULT_POINTS, int(np.ceil((WATER_T_MAX_K - lim.t_low_k) / h)) + 1)
    return np.concatenate([grid, extra])


def fresh_table(name: str, p_pa: float = P_REFERENCE_PA) -> CoolantTable:
    """The full-range table of a coolant computed from CoolProp now (slow: imports CoolProp): its valid range
    at 1 atm on :data:`DEFAULT_POINTS` points; for water, the stored grid (that grid continued up to
    :data:`WATER_T_MAX_K`) at the pressure ``p_pa`` [Pa], with the saturation pressure at each point (the
    limits stay those at 1 atm; :func:`stored_table` sets them at its pressure)."""
    from gigawatt.models.coolant import coolant_limits, coolant_table, saturation_pressure_pa, tabulate

    lim = coolant_limits(name)
    if name != "water":
        return coolant_table(name, lim.t_low_k, lim.t_high_k, DEFAULT_POINTS)
    t_k = _water_grid(lim)
    spec = _spec(name)
    props = tabulate(spec, t_k, p_pa)
    p_sat = saturation_pressure_pa(spec, t_k)
    for arr in (t_k, p_sat, *props.values()):
        arr.flags.writeable = False
    return CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=t_k, limits=lim, p_sat_pa=p_sat, **props)


def fresh_arrays(name: str) -> dict[str, np.ndarray]:
    """What the store holds for a coolant, computed from CoolProp now, keyed as in the file (without the
    ``name/`` prefix): ``t_k`` [K], each of :data:`PROPERTY_FIELDS` (for water one row per pressure of
    ``pressures_pa`` [Pa]), the 1-atm ``limits`` and their ``reasons``, and water's ``p_sat_pa`` [Pa]."""
    tables = [fresh_table(name, p) for p in (WATER_PRESSURES_PA if name == "water" else (P_REFERENCE_PA,))]
    tab = tables[0]
    arrays = {"t_k": tab.t_k, "limits": np.array([getattr(tab.limits, k) for k in _LIMIT_NUMBERS]),
              "reasons": np.array([tab.limits.low_reason, tab.limits.high_reason])}
    for f in PROPERTY_FIELDS:
        arrays[f] = getattr(tab, f) if name != "water" else np.stack([getattr(t, f) for t in tables])
    if name == "water":
        arrays["pressures_pa"] = np.array(WATER_PRESSURES_PA)
        arrays["p_sat_pa"] = tab.p_sat_pa
    return arrays


def write_store(path: Path = STORE_FILE) -> None:
    """Compute every registered coolant's tables from CoolProp and write them to ``path``."""
    import CoolProp

    arrays = {"coolprop_version": np.array(CoolProp.__version__)}
    for name in COOLANTS:
        arrays.update({f"{name}/{key}": value for key, value in fresh_arrays(name).items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def stored_arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays the store holds for a registered coolant, keyed as :func:`fresh_arrays`."""
    _spec(name)
    prefix = f"{name}/"
    with np.load(STORE_FILE) as data:
        return {k[len(prefix):]: data[k] for k in data.files if k.startswith(prefix)}


@lru_cache(maxsize=None)
def _stored(name: str) -> tuple[CoolantTable, np.ndarray | None, dict[str, np.ndarray] | None]:
    """The stored table of a coolant at 1 atm, and, for water, the stored pressures [Pa] and the property
    rows at each of them."""
    spec = _spec(name)
    data = stored_arrays(name)
    layers = data.get("pressures_pa")
    rows = {f: data[f] for f in PROPERTY_FIELDS} if layers is not None else None
    props = {f: (data[f][0] if layers is not None else data[f]) for f in PROPERTY_FIELDS}
    numbers = dict(zip(_LIMIT_NUMBERS, (float(x) for x in data["limits"])))
    low_reason, high_reason = (str(x) for x in data["reasons"])
    p_sat = data.get("p_sat_pa")
    for arr in (data["t_k"], *props.values(), *(() if p_sat is None else (p_sat,))):
        arr.flags.writeable = False
    table = CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=data["t_k"], p_sat_pa=p_sat,
                         limits=CoolantLimits(**numbers, low_reason=low_reason, high_reason=high_reason), **props)
    return table, layers, rows


def _at_pressure(table: CoolantTable, layers: np.ndarray, rows: dict[str, np.ndarray], p_pa: float
                 ) -> dict[str, np.ndarray]:
    """Each property of ``rows`` (one row per pressure of ``layers`` [Pa]) at ``p_pa`` [Pa], linear in pressure
    at each grid temperature. A row holds the saturated liquid where its pressure is below the saturation
    pressure, so it is taken at the pressure it was computed at, max(its pressure, p_sat(T)); below the lowest
    (water boiling at ``p_pa``: outside the table's limits) the lowest row, above the highest the highest."""
    p_eff = np.maximum(layers[:, None], np.nan_to_num(table.p_sat_pa, nan=0.0)[None, :])  # (pressure, T)
    col = np.arange(table.t_k.size)
    k = np.clip(np.count_nonzero(p_eff <= p_pa, axis=0) - 1, 0, layers.size - 2)
    lo, hi = p_eff[k, col], p_eff[k + 1, col]
    w = np.clip((p_pa - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)
    out = {}
    for f, values in rows.items():
        v0, v1 = values[k, col], values[k + 1, col]
        out[f] = np.where(w < 1.0, v0 + w * (v1 - v0), v1)  # a stored pressure: its row exactly
        out[f].flags.writeable = False
    return out


@lru_cache(maxsize=64)
def stored_table(name: str, p_pa: float = P_REFERENCE_PA) -> CoolantTable:
    """The stored table of a registered coolant, with its limits at ``p_pa`` [Pa] (default 1 atm, the stored
    limits themselves); unknown names raise :class:`~gigawatt.errors.CaseError` listing the known ones.

    Water's properties are those at ``p_pa``, interpolated linearly between the stored pressures
    :data:`WATER_PRESSURES_PA` around it (exact at each of them); a pressure above the highest is refused. Its
    tabulated saturation pressure gives the boiling limit: the temperature where ln p_sat, interpolated
    linearly between grid points 0.25 K apart, reaches ``p_pa`` (within 1e-3 K of CoolProp's own saturation
    temperature: see the tests); above the grid's saturation pressures, the grid's end
    (:data:`WATER_T_MAX_K`) is the limit. A coolant without one (the glycols) has the same properties and
    limits at every pressure."""
    table, layers, rows = _stored(name)
    if p_pa == P_REFERENCE_PA or table.p_sat_pa is None:
        return table
    if not (isinstance(p_pa, (int, float, np.integer, np.floating)) and math.isfinite(p_pa) and p_pa > 0):
        from gigawatt.errors import CaseError

        raise CaseError("not a valid pressure", element=f"coolant '{name}'", field="p_pa", value=p_pa,
                        allowed="> 0 Pa")
    if p_pa > layers[-1]:
        from gigawatt.errors import CaseError

        raise CaseError(f"above the highest pressure of the stored {name} table", element=f"coolant '{name}'",
                        field="p_pa", value=p_pa, allowed=f"(0, {layers[-1]:.6g}] Pa")
    lim = table.limits
    ok = np.isfinite(table.p_sat_pa)
    t_sat, p_sat = table.t_k[ok], table.p_sat_pa[ok]
    if p_pa >= p_sat[-1]:
        t_boil, t_high, reason = math.nan, float(table.t_k[-1]), "highest temperature of the stored table"
    else:
        t_boil = float(np.interp(math.log(p_pa), np.log(p_sat), t_sat))
        t_high, reason = t_boil, f"boiling temperature at {p_pa:.6g} Pa"
    return replace(table, **_at_pressure(table, layers, rows, float(p_pa)),
                   limits=replace(lim, t_high_k=t_high, t_boil_k=t_boil, p_pa=float(p_pa), high_reason=reason))


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
