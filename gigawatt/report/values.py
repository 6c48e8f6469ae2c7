"""Reading figures from a results file, and showing them in the units people read.

- :func:`scalar` reads one figure of a results dataset (a KPI such as ``pue``, a ledger total such as
  ``p_plant_w``) whether the file keeps it as a global attribute or as a 0-d variable: both forms exist
  (older files keep KPIs as attributes; a scalar variable carries its units), and a per-element variable of
  the same name (``p_grid_w`` along ``source``) is never taken for the total.
- :func:`typed_axis` turns a sweep's coordinate (SI, with the ``given_as`` spelling the user typed, e.g.
  ``campus.rack_it_power_kw``) back into the user's unit, through the case loader's own unit spellings
  (:data:`gigawatt.cases.schema.UNIT_ALIASES`), so the axis reads 100, 110, 120 kW and not 100000 W; a
  coordinate without ``given_as`` gets an engineering prefix chosen by its magnitude.
"""
from __future__ import annotations

import numpy as np

_MISSING = object()

# How a unit-suffix spelling of the case loader reads on an axis (suffix of the alias -> unit label).
SUFFIX_LABELS = {"_kw": "kW", "_mw": "MW", "_gw": "GW", "_kv": "kV", "_km": "km", "_mm": "mm", "_mm2": "mm²",
                 "_c": "°C", "_degc": "°C", "_kpa": "kPa", "_bar": "bar", "_kva": "kVA", "_mva": "MVA",
                 "_kvar": "kvar", "_mvar": "Mvar", "_ka": "kA", "_mohm": "mΩ", "_ohm_per_km": "Ω/km",
                 "_ms": "ms", "_uf": "µF", "_mf": "mF", "_uh": "µH", "_mh": "mH", "_kg_per_kwh": "kg/kWh",
                 "_g_per_kwh": "g/kWh", "_ohm_mm2_per_m": "Ω·mm²/m", "_nf_per_km": "nF/km",
                 "_uh_per_m": "µH/m", "_nh_per_m": "nH/m"}
# SI units that take an engineering prefix by magnitude when the user's spelling is unknown.
PREFIXED_UNITS = ("W", "V", "A", "Pa", "VA", "var", "J", "Wh")
_LARGEST_ON_AXIS = 999.999e9  # G is the largest prefix an axis takes (TW would be a typo in a case)


def scalar(ds, name: str, default=_MISSING) -> float:
    """The figure ``name`` of ``ds`` as a float: the global attribute, else a 0-d data variable; ``default``
    (else ``KeyError``) when the results have neither."""
    if name in ds.attrs:
        return float(np.asarray(ds.attrs[name]).reshape(()))
    if name in ds.variables and ds[name].ndim == 0:
        return float(ds[name].values)
    if default is _MISSING:
        raise KeyError(name)
    return default


def has_scalar(ds, name: str) -> bool:
    """Whether ``ds`` has the figure ``name`` as an attribute or a 0-d variable (see :func:`scalar`)."""
    return name in ds.attrs or (name in ds.variables and ds[name].ndim == 0)


def engineering(values, unit: str) -> tuple[float, str]:
    """(scale, unit label) for ``values`` [SI ``unit``]: the prefix that puts their largest magnitude
    between 1 and 1000 (W → kW, MW, GW), chosen by :func:`gigawatt.quantities.prefix_scale`; an axis takes
    no prefix below 1 nor above G, and other units keep scale 1."""
    from gigawatt.quantities import prefix_scale

    if unit not in PREFIXED_UNITS:
        return 1.0, unit
    top = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    if not top >= 1.0:  # below 1 (or NaN): no milli on an axis
        return 1.0, unit
    return prefix_scale(min(top, _LARGEST_ON_AXIS), unit)


def typed_axis(coord) -> tuple[np.ndarray, str, str]:
    """A numeric sweep coordinate as the user typed it: ``(values, name, unit label)``. With the coordinate's
    ``given_as`` attribute (``campus.rack_it_power_kw``) the loader's conversion is undone (value = (SI −
    offset) / factor); without it, an engineering prefix by magnitude (:func:`engineering`)."""
    from gigawatt.cases.schema import aliases

    si = np.asarray(coord.values, float)
    unit = str(coord.attrs.get("units", ""))
    name = str(coord.name)
    given = str(coord.attrs.get("given_as", ""))
    if given and "." in given:
        table, field = given.split(".", 1)
        try:
            canon, factor, offset = aliases(table).get(field, (None, 1.0, 0.0))
        except KeyError:  # a section the schema does not know (a file from another version)
            canon = None
        if canon is not None:
            label = next((SUFFIX_LABELS[suf] for suf in sorted(SUFFIX_LABELS, key=len, reverse=True)
                          if field.endswith(suf) and canon.startswith(field[: -len(suf)] + "_")), None)
            if label is not None:
                return (si - offset) / factor, given, label
        return si, given, "" if unit == "1" else unit
    scale, label = engineering(si, unit)
    return si / scale, name, "" if label == "1" else label
