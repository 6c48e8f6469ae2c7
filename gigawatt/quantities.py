"""Values shown to people: a quantity in the SI prefix its magnitude calls for (``0.0002 MW`` is ``200 W``;
pint chooses the prefix). The results themselves stay in SI."""
from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=1)
def ureg():
    """The one pint registry of the application layer (imported on first use: ``gigawatt --help`` stays
    instant), with the reactive power unit ``var`` that pint's defaults lack."""
    import sys

    if "pint" in sys.modules and sys.modules["pint"] is None:  # hidden from xarray during a command (cli)
        del sys.modules["pint"]
    import pint

    reg = pint.UnitRegistry()
    reg.define("volt_ampere_reactive = volt * ampere = var")
    return reg


# Units that are their own base in pint's registry (no prefix, no offset): for these, to_compact takes the
# multiple of three of log10(|magnitude|) and the SI prefix of that power, held at quecto and quetta
# (tests/test_quantities_fast.py checks this against pint itself).
_PLAIN_SI_UNITS = frozenset({"W", "J", "V", "A"})
_SI_PREFIX_SYMBOLS = {-30: "q", -27: "r", -24: "y", -21: "z", -18: "a", -15: "f", -12: "p", -9: "n", -6: "µ",
                      -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E", 21: "Z", 24: "Y", 27: "R",
                      30: "Q"}


def prefix_scale(magnitude: float, unit: str = "W") -> tuple[float, str]:
    """(scale, prefixed unit) of the SI prefix that puts ``|magnitude|`` [``unit``] between 1 and 1000, as
    pint chooses it (``to_compact``): ``prefix_scale(1.27e7) == (1e6, 'MW')``. The one place where a prefix
    is chosen by magnitude: single values (:func:`engineering`) and figure axes
    (:func:`gigawatt.report.values.engineering`) both use it."""
    magnitude = abs(float(magnitude))
    if not math.isfinite(magnitude) or magnitude == 0.0:
        return 1.0, unit
    if unit in _PLAIN_SI_UNITS:  # pint's choice without importing pint (half a second of a cold run)
        power = min(max(math.floor(math.log10(magnitude) / 3) * 3, -30), 30)
        return float(f"1e{power}"), _SI_PREFIX_SYMBOLS[power] + unit
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
