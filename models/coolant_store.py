"""Coolant property tables stored with the package, so a solve needs no CoolProp at run time.

Importing CoolProp initialises its whole fluid library, about 3 s on the reference machine, which more than
doubled the run time of the default case. The tables a solve uses (each registered coolant over its whole
valid range at 1 atm, :data:`~gigawatt.models.coolant.DEFAULT_POINTS` points) are therefore generated once
from CoolProp by ``python -m gigawatt.models.coolant_store`` into ``models/data/coolant_tables.npz``; a
test regenerates them and requires the stored file to match CoolProp exactly, so the file cannot drift
from its source.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from gigawatt.models.coolant import (COOLANTS, DEFAULT_POINTS, PROPERTY_FIELDS, CoolantLimits, CoolantTable,
                                     _spec)

STORE_FILE = Path(__file__).with_name("data") / "coolant_tables.npz"
_LIMIT_NUMBERS = ("t_low_k", "t_high_k", "t_freeze_k", "t_boil_k", "p_pa")


def fresh_table(name: str) -> CoolantTable:
    """The full-range table of a coolant computed from CoolProp now (slow: imports CoolProp)."""
    from gigawatt.models.coolant import coolant_limits, coolant_table

    lim = coolant_limits(name)
    return coolant_table(name, lim.t_low_k, lim.t_high_k, DEFAULT_POINTS)


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
        arrays[f"{name}/reasons"] = np.array([tab.limits.low_reason, tab.limits.high_reason])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


@lru_cache(maxsize=None)
def stored_table(name: str) -> CoolantTable:
    """The stored full-range table of a registered coolant (see the module notes); unknown names raise
    :class:`~gigawatt.errors.CaseError` listing the known ones."""
    spec = _spec(name)
    with np.load(STORE_FILE) as data:
        props = {f: data[f"{name}/{f}"] for f in PROPERTY_FIELDS}
        t_k = data[f"{name}/t_k"]
        numbers = dict(zip(_LIMIT_NUMBERS, (float(x) for x in data[f"{name}/limits"])))
        low_reason, high_reason = (str(x) for x in data[f"{name}/reasons"])
    for arr in (t_k, *props.values()):
        arr.flags.writeable = False
    return CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=t_k,
                        limits=CoolantLimits(**numbers, low_reason=low_reason, high_reason=high_reason), **props)


def stored_coolprop_version() -> str:
    """The CoolProp version the stored tables were computed with."""
    with np.load(STORE_FILE) as data:
        return str(data["coolprop_version"])


if __name__ == "__main__":
    write_store()
    print(f"wrote {STORE_FILE}")


def stored_constants(name: str, t_k: float, field: str, file=None) -> tuple[float, float, float, float]:
    """(density [kg/m^3], cp [J/(kg K)], viscosity [Pa s], conductivity [W/(m K)]) of a registered coolant at
    ``t_k`` [K] from its stored table, range-checked: out of range raises
    :class:`~gigawatt.errors.CaseError` naming ``field`` (and the case ``file``, when given)."""
    from gigawatt.errors import CaseError
    from gigawatt.models.coolant import coolant_properties

    try:
        p = coolant_properties(stored_table(name), t_k, field=field)
    except CaseError as err:
        raise err.located(file=file) from None
    return (float(p["density_kg_per_m3"]), float(p["cp_j_per_kg_k"]), float(p["viscosity_pa_s"]),
            float(p["conductivity_w_per_m_k"]))
