"""Values shown to people: a quantity in the SI prefix its magnitude calls for (``0.0002 MW`` is ``200 W``;
pint chooses the prefix). The results themselves stay in SI."""
from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=1)
def ureg():
    """The one pint registry of the application layer (imported on first use: ``gigawatt --help`` stays
    instant)."""
    import pint

    return pint.UnitRegistry()


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
    q = ureg().Quantity(value, unit).to_compact()
    return f"{q.magnitude:.{digits}g}", f"{q.units:~P}"
