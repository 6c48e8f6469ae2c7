"""Values shown to people: a quantity in the SI prefix its magnitude calls for (``0.0002 MW`` is ``200 W``;
pint chooses the prefix). The results themselves stay in SI."""
from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=1)
def ureg():
    """The one pint registry of the application layer (imported on first use: ``gigawatt --help`` stays
    instant), with the reactive power unit ``var`` that pint's defaults lack."""
    import pint

    reg = pint.UnitRegistry()
    reg.define("volt_ampere_reactive = volt * ampere = var")
    return reg


def prefix_scale(magnitude: float, unit: str = "W") -> tuple[float, str]:
    """(scale, prefixed unit) of the SI prefix that puts ``|magnitude|`` [``unit``] between 1 and 1000, as
    pint chooses it (``to_compact``): ``prefix_scale(1.27e7) == (1e6, 'MW')``. The one place where a prefix
    is chosen by magnitude: single values (:func:`engineering`) and figure axes
    (:func:`gigawatt.report.values.engineering`) both use it."""
    magnitude = abs(float(magnitude))
    if not math.isfinite(magnitude) or magnitude == 0.0:
        return 1.0, unit
    units = ureg().Quantity(magnitude, unit).to_compact().units
    return float(ureg().Quantity(1.0, units).to(unit).magnitude), f"{units:~P}"


def engineering(value: float, unit: str = "W", digits: int = 5) -> str:
    """``value`` [``unit``, SI] with the engineering prefix (k, M, G, m, …) its magnitude calls for and
    ``digits`` significant digits: ``engineering(2e-4 * 1e6) == '200 W'``, ``engineering(1.27407e7) ==
    '12.741 MW'``."""
    number, prefixed = engineering_parts(value, unit, digits)
    return f"{number} {prefixed}"


def engineering_parts(value: float, unit: str = "W", digits: int = 5) -> tuple[str, str]:
    """The number and the prefixed unit of :func:`engineering`, for tables that align them."""
    value = float(value)
    if not math.isfinite(value) or value == 0.0:
        return f"{value:g}", unit
    scale, prefixed = prefix_scale(value, unit)
    return f"{value / scale:.{digits}g}", prefixed
