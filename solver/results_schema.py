"""The results schema: what every results dataset carries beyond its variables, in one table.

``solver/results_schema.csv`` lists every scalar figure a result may carry (the ledgers, the KPIs, the
facility, grid-side and district-heating totals, the figures of a comparison, a sweep or a contingency
study) with its unit, its meaning and, where the CF conventions have one, its ``standard_name``; and the
provenance scalars that stay attributes. :func:`conform` applies it to a dataset of any kind (a steady solve,
a time series, a sweep, a comparison, a contingency or fault study):

* each figure becomes a 0-d variable with ``units`` and ``long_name`` (selectable, kept by ``xr.concat``,
  quantified by pint-xarray); its global attribute stays as a copy for readers of older files. A figure whose
  name is already a variable along ``time`` (a year's ``pue``, hourly) is the period's value and is named
  ``<name>_over_period``;
* every unit string is one pint and UDUNITS both parse (``m^2``, not ``m2``; ``V A`` for reactive power);
* ``Conventions = "CF-1.11"`` and ``standard_name`` where one exists (``time``, ``air_temperature``).

The table drives the generated reference ``docs/results-format.md`` (``python -m
gigawatt.solver.results_schema``). It stays a hand-read CSV rather than a schema library (pandera, a
CF-checker): what it must do is attach units and names to xarray variables and print a table, which a
library would not shorten, and it keeps the same shape as the case schema ``cases/schema.csv``.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

CONVENTIONS = "CF-1.11"

# Unit spellings results used that pint or UDUNITS cannot parse, and the spelling both read.
UNIT_SPELLINGS = {"m2": "m^2", "m3": "m^3", "m3/s": "m^3/s", "var": "V A", "kg/kWh": "kg/(kW*h)"}


@lru_cache(maxsize=1)
def results_schema() -> dict:
    """``{name: {"role", "units", "standard_name", "long_name"}}`` from ``results_schema.csv``; role is
    ``figure`` (a 0-d variable and an attribute), ``provenance`` (an attribute only) or ``variable`` (a
    variable's standard name)."""
    with open(Path(__file__).with_name("results_schema.csv"), newline="", encoding="utf-8") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def figure_row(name: str) -> dict | None:
    """The table's row of a scalar ``name``; an ``energy_<figure>_j`` of a time series is the energy of that
    power figure over the period (derived, not listed)."""
    table = results_schema()
    if name in table:
        return table[name]
    if name.startswith("energy_") and name.endswith("_j"):
        base = table.get(name[len("energy_"):-2] + "_w")
        what = base["long_name"] if base else name[len("energy_"):-2].replace("_", " ")
        return {"name": name, "role": "figure", "units": "J", "standard_name": "",
                "long_name": f"energy over the period: {what}"}
    return None


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def unit_spelling(units: str) -> str:
    """``units`` as pint and UDUNITS both read it."""
    return UNIT_SPELLINGS.get(units, units)


def figure_variables(attrs: dict, taken) -> dict:
    """The 0-d variables of the figures among the scalar ``attrs``: ``{name: (value, variable attrs)}``;
    ``taken``: the names already variables (a figure of that name is the period's, ``<name>_over_period``)."""
    out = {}
    for name, value in attrs.items():
        row = figure_row(name)
        if row is None or row["role"] != "figure" or not _is_number(value):
            continue
        target = name if name not in taken else f"{name}_over_period"
        if target in taken:
            continue
        var_attrs = {"units": row["units"], "long_name": row["long_name"] + (" (over the period)" if target != name
                                                                              else "")}
        if row["standard_name"]:
            var_attrs["standard_name"] = row["standard_name"]
        out[target] = (value, var_attrs)
    return out


def variable_attrs(name: str, attrs: dict) -> dict:
    """A variable's ``attrs`` following the schema: its units spelled for pint and UDUNITS, its standard
    name, and units and long name from the table where it has none (a sweep's figures along ``scenario``)."""
    out = dict(attrs)
    if isinstance(out.get("units"), str):
        out["units"] = unit_spelling(out["units"])
    row = figure_row(name)
    if row:
        if row["standard_name"]:
            out["standard_name"] = row["standard_name"]
        if row["units"]:
            out.setdefault("units", row["units"])
        out.setdefault("long_name", row["long_name"])
    return out


def conform(ds):
    """``ds`` following the results schema (see the module notes): its variables' attributes are changed in
    place, and a new dataset of those same variables and the figures' 0-d variables is returned (``ds`` is
    meant to be dropped). Scalar attributes the table does not know stay attributes."""
    import xarray as xr

    for name, var in ds.variables.items():
        var.attrs = variable_attrs(name, var.attrs)
    new = {name: xr.Variable((), np.asarray(value), attrs=attrs)
           for name, (value, attrs) in figure_variables(ds.attrs, set(ds.variables)).items()}
    attrs = dict(ds.attrs, Conventions=CONVENTIONS)
    ds = _with_scalars(ds, new)
    ds.attrs = attrs
    return ds


def _with_scalars(ds, new: dict):
    """``ds.assign(new)`` for 0-d variables ``new`` whose names ``ds`` does not hold: the same dataset (its
    variables, now shared with ``ds``, then ``new``), without the merge, which copies every variable and aligns
    every index (about 2 ms at 10⁵ buses, for a few scalars that have no dimension to align)."""
    import xarray as xr

    if not new:
        return ds.copy()
    if not hasattr(xr.Dataset, "_construct_direct") or any(v.ndim or k in ds.variables for k, v in new.items()):
        return ds.assign(new)  # one merge: each ds[name] = ... would realign every index (10⁵ buses: ms each)
    return xr.Dataset._construct_direct({**ds.variables, **new}, set(ds.coords), dict(ds.sizes), dict(ds.attrs),
                                        dict(ds.xindexes), dict(ds.encoding))


def markdown() -> str:
    """The results-format reference (``docs/results-format.md``) from the table."""
    rows = results_schema().values()
    out = ["# Results format", "",
           "Generated by `python -m gigawatt.solver.results_schema > docs/results-format.md` from "
           "`solver/results_schema.csv`; a test checks it is current.", "",
           "Every results file gigawatt writes (`run`, `run --year`, `sweep`, `compare`, `contingency`, "
           f"`faults`) is a NetCDF file with `Conventions = \"{CONVENTIONS}\"`. Each variable carries `units` "
           "(a string pint and UDUNITS both parse) and `long_name`; the element variables carry their element "
           "kind in their dimension (`bus`, `line`, `source`, `converter`, `rack`, `cooling_loop`, `dh_node`, "
           "...) and, where two would share a name, in their name (`source_p_grid_w` per station, `p_grid_w` "
           "the total). Besides the load flow's own, the DC variables include each rack's bus (`rack_bus`), "
           "each bus's distance along its feeder (`bus_distance_m`) and each line's loading against its "
           "rating (`line_loading`, `line_ampacity_a`, `line_rating_method`).", "",
           "## Figures", "",
           "Scalar figures: each is a 0-d variable with its units (and, as a copy, a global attribute). In a "
           "time series a figure whose name is also an hourly variable (`pue`) is the period's value, "
           "`<name>_over_period`; `energy_<figure>_j` is the energy of a power figure over the period [J].", "",
           "| name | units | standard_name | meaning |", "|---|---|---|---|"]
    out += [f"| `{r['name']}` | {r['units']} | {r['standard_name']} | {r['long_name']} |"
            for r in rows if r["role"] == "figure"]
    out += ["", "## Standard names of variables", "", "| name | units | standard_name | meaning |",
            "|---|---|---|---|"]
    out += [f"| `{r['name']}` | {r['units']} | {r['standard_name']} | {r['long_name']} |"
            for r in rows if r["role"] == "variable"]
    out += ["", "## Provenance", "", "Global attributes only (about the run, not the system).", "",
            "| name | units | meaning |", "|---|---|---|"]
    out += [f"| `{r['name']}` | {r['units']} | {r['long_name']} |" for r in rows if r["role"] == "provenance"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
