"""Validation runners of the KPIs (:mod:`gigawatt.models.kpis`): a worked example of the definitions' arithmetic,
and the KPIs of a stretch of the bundled year against a hand calculation from the results' own energies.
"""
from __future__ import annotations

J_PER_MWH = 3.6e9


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def kpi_worked_example(spec):
    """PUE at each IT boundary, the partial PUEs, ITUE, TUE, ERF, CUE (one supply and a mix), REF and the
    nuclear share of a data centre given by its energies over a year [MWh] (``inputs``), through
    :func:`gigawatt.models.kpis.facility_kpis` (the function every result's KPIs come from)."""
    from gigawatt.models.kpis import IT_BOUNDARIES, J_PER_KWH, boundary_powers, facility_kpis, supply_mix

    e = {k: float(v) * J_PER_MWH for k, v in spec["inputs"]["energy_mwh"].items()}
    figures = boundary_powers(e["chips"], e["vrm_loss"], e["shelf_loss"])
    total = figures["p_rack_input"] + e["cooling"] + e["power_delivery_loss"]
    figures.update(p_total_facility=total, p_cooling=e["cooling"], q_recovered=e["reused"])
    out = []
    for boundary in IT_BOUNDARIES:
        k = facility_kpis(figures, it_boundary=boundary)
        out.append(_measured("pue", k["pue"], point=boundary))
        if boundary == "rack_input":
            out += [_measured(name, k[name]) for name in ("ppue_cooling", "ppue_power", "itue", "tue", "erf")]
    one = spec["inputs"]["one_supply"]
    cef = float(one["carbon_intensity_kg_per_kwh"]) / J_PER_KWH  # [kg/J]
    k = facility_kpis(figures, it_boundary="rack_input", co2e_kg=cef * total)
    out.append(_measured("cue_kg_per_kwh", k["cue_kg_per_kwh"], point="one supply"))
    mixed = spec["inputs"]["two_supplies"]
    m = supply_mix(mixed["share"], [c / J_PER_KWH for c in mixed["carbon_intensity_kg_per_kwh"]],
                   mixed["energy_source"])
    figures.update(p_renewable=m["renewable_share"] * total, p_nuclear=m["nuclear_share"] * total)
    k = facility_kpis(figures, it_boundary="rack_input", co2e_kg=m["cef_kg_per_j"] * total)
    out += [_measured("cue_kg_per_kwh", k["cue_kg_per_kwh"], point="two supplies"),
            _measured("ref", k["ref"], point="two supplies"),
            _measured("nuclear_share", k["nuclear_share"], point="two supplies")]
    return out


def bundled_year_kpis(spec):
    """The bundled case along a stretch of its year ([time] from ``inputs``): the period's ERF, PUE, TUE and
    heat pumps' electricity as the results report them, each against the same quantity summed by hand from
    the results' own step series (Σ power × step over the steps: heat recovered over grid intake + pumps +
    fans; that total over the racks' input power, chips + regulator + shelf losses; over the chips)."""
    import numpy as np

    from gigawatt.cases.loader import case_from_document, read_case_document
    from gigawatt.time_series import run_time_series

    doc, file, table_files = read_case_document(None)
    doc = {**doc, "time": dict(spec["inputs"]["time"])}
    ds = run_time_series(case_from_document(doc, file, table_files))
    a = ds.attrs

    def energy(*names):
        return float(sum(np.sum(ds[n].values) for n in names)) * a["step_s"]

    total = energy("p_grid_w", "p_pumps_w", "p_fans_w")
    rack_input = energy("p_it_w", "loss_rack_vrm_w", "loss_rack_shelf_w")
    return [_measured("erf", a["erf"], expected=energy("q_recovered_w") / total),
            _measured("pue", a["pue"], expected=total / rack_input),
            _measured("tue", a["tue"], expected=total / energy("p_it_w")),
            _measured("hp_electric_mwh", a["energy_hp_electric_j"] / J_PER_MWH,
                      expected=energy("hp_electric_w") / J_PER_MWH)]


KPI_RUNNERS = {"kpi_worked_example": kpi_worked_example, "bundled_year_kpis": bundled_year_kpis}
"""Runners of the KPI cases (registered in :data:`gigawatt.validation.dc_checks.RUNNERS`)."""
