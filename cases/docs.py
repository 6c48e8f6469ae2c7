"""Generate the case-field reference from the schema table and the loss-model registry.

``python -m gigawatt.cases.docs > docs/case-format.md``; a test checks that the committed file matches, so
the reference cannot drift from the schema.
"""
from __future__ import annotations

from gigawatt.cases.schema import ELEMENT_TABLES, UNIT_ALIASES, schema
from gigawatt.models.converter_losses import LOSS_MODELS

INTRO = {
    "case": "Settings `[case]`: what the case is.",
    "solver": "Settings `[solver]`: the Newton solver.",
    "bus": "Element table `bus`: DC buses.",
    "line": "Element table `line`: cables, busways and busbars (two-wire DC circuits).",
    "source": "Element table `source`: rectifiers and solid-state transformers feeding a DC bus from the grid.",
    "converter": "Element table `converter`: DC/DC converters between two voltage levels.",
    "rack": "Element table `rack`: racks as constant-power loads (IT power through shelves and regulators).",
    "dh_node": "Element table `dh_node`: junctions of the district-heating supply and return networks.",
    "dh_pipe": "Element table `dh_pipe`: buried pre-insulated pipes (flow either way; heat loss to the ground).",
    "dh_consumer": "Element table `dh_consumer`: substations between a supply and a return node, demand by model.",
    "dh_heat_pump_map": ("Element table `dh_heat_pump_map`: the plant heat pumps' manufacturer map (COP at a grid of "
                         "source outlet x sink temperatures), used with `hp_model = \"map\"`."),
    "dh_pump": "Element table `dh_pump`: booster pumps inside the district-heating network, on head curves.",
    "district_heating": ("Settings `[district_heating]`: the plant where campus heat enters the network (heat pumps or "
                         "direct exchange, peak boiler), its pump control and the weather."),
    "campus": ("Settings `[campus]`: the parametric campus builder (sites, halls, stations, rows, busways, racks, and "
               "with `grid` each site's grid side: supply, HV line, HV/MV transformers, MV cables; gigawatt.cases.campus)."),
    "town": ("Settings `[town]`: the parametric town builder: homes in streets tied into rings, districts on spine "
             "mains, a vertical-farm cluster and a trunk main from the plant, as dh_node, dh_pipe and dh_consumer "
             "tables (supply and return networks), pipes sized from design flow (see gigawatt.cases.town)."),
    "dc": ("Settings `[dc]`: the DC system, monopolar (two-wire) or bipolar (±V with a neutral conductor); "
           "optional, default monopolar."),
    "ac_bus": ("Element table `ac_bus`: three-phase buses of the grid side (solved with pandapower after the DC side; "
               "see gigawatt.solver.ac.grid)."),
    "ac_line": "Element table `ac_line`: three-phase overhead lines and cables (π model), by parameters or a pandapower standard type.",
    "ac_trafo": "Element table `ac_trafo`: two-winding transformers (T model, taps at neutral), by parameters or a standard type.",
    "battery": ("Element table `battery`: DC batteries on a bus; they float in the load flow (no current) and feed "
                "DC faults (gigawatt.solver.faults)."),
    "protection": ("Element table `protection`: breakers, fuses and solid-state breakers on a line end or at a bus; "
                   "`gigawatt faults` checks each against the fault current it must interrupt and against the device "
                   "upstream (gigawatt.solver.faults.devices)."),
    "protection_curve": ("Element table `protection_curve`: points of the devices' time–current curves, one row per "
                         "point, grouped by `curve`."),
    "ac_supply": ("Element table `ac_supply`: what feeds the grid side: transmission substations (`ext_grid`) and plant "
                  "generators (`gen`); every AC island with a station needs a slack."),
    "timeseries": ("Time-series CSV columns (`gigawatt.cases.series_file.read_timeseries`): a `time` column and value "
                   "columns named like the fields below, in any unit spelling listed at the end (`p_it_kw`, "
                   "`outdoor_t_c`)."),
    "time": ("Settings `[time]`: the case's time axis; with it `gigawatt run` solves every step of the coupled chain "
             "(see gigawatt.time_series). Optional: an empty `[time]` is an hourly year."),
    "kpi": ("Settings `[kpi]`: the boundary of the key performance indicators (PUE, partial PUE, ITUE, TUE, ERF, "
            "CUE; see gigawatt.models.kpis). Optional: by default the IT equipment begins at the rack input."),
    "swing": ("Settings `[swing]`: an AI training job's power swings at a fine step (10 ms), the stores that smooth "
              "them and what the grid sees (`gigawatt swings`, gigawatt.solver.swings). Optional."),
    "store": ("Element table `store`: batteries and capacitor banks in the racks, on the DC bus or at the facility, "
              "each with its control law (gigawatt.models.energy_storage); used by `gigawatt swings`."),
    "cooling": ("Settings `[cooling]`: the liquid-cooling system (technology loops with CDUs, facility water, dry "
                "coolers, heat recovery). A case without it solves the electrical network alone."),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole reference as Markdown."""
    out = ["# Case format reference", "",
           "Generated from `cases/schema.csv` and the loss-model registry by `python -m gigawatt.cases.docs`;",
           "do not edit by hand. Units are SI; the loader also accepts the other spellings listed at the end.",
           ""]
    for table, fields in schema().items():
        out += [f"## {table}", "", INTRO.get(table, ""), "",
                "| field | type | unit | default | allowed | description |", "|---|---|---|---|---|---|"]
        for f in fields.values():
            out.append(f"| `{f.name}` | {f.type} | {_cell(f.unit)} | {_cell(f.default)} | {_cell(f.bounds)} | "
                       f"{_cell(f.description)} |")
        out.append("")
    out += ["## loss_models", "", "Named converter loss models, `[loss_models.NAME]` with `kind = ...`:", ""]
    for kind, cls in LOSS_MODELS.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        out += [f"### kind = \"{kind}\"", "", summary, "", "| parameter | unit | description |", "|---|---|---|"]
        out += [f"| `{name}` | {_cell(unit)} | {_cell(desc)} |" for name, unit, desc in cls.FIELDS]
        out.append("")
    out += ["## Other unit spellings", "", "A field ending in the canonical suffix may be given with another:", "",
            "| canonical | also accepted (value × factor + offset) |", "|---|---|"]
    for (suffix, unit), alts in UNIT_ALIASES.items():
        alt = ", ".join(f"`{a}` (×{fac:g}{f' + {off:g}' if off else ''})" for a, (fac, off) in alts.items())
        out.append(f"| `{suffix}` [{unit}] | {alt} |")
    out += ["", f"Element tables: {', '.join(ELEMENT_TABLES)} — TOML arrays (`[[line]]`) or a CSV file name "
            "relative to the case file (`line = \"lines.csv\"`).", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
