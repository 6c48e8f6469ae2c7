"""The KPIs of a solved case, at its design hour or at one step of a time series, and the statement of their
boundary and basis: the case's figures handed to :func:`gigawatt.models.kpis.facility_kpis` (the one place
the KPIs are formed).

The total facility power is metered at the campus's AC supplies when the grid side is solved (its
transformer, line and cable losses are then inside the boundary), else at the stations' AC intake; it is
that electrical power plus the coolant pumps and fans. The cooling's own supply is not modelled: its power is
taken as drawn in the same mix as the IT's, which is how the carbon figures (CUE, REF, nuclear share) treat
it. Carbon intensities and kinds of energy come from the AC supplies with a solved grid side, else from the
DC sources (stations); along a series, whose grid side is not solved, only supplies that all state the same
factor and kind give the mix.
"""
from __future__ import annotations

import math

import numpy as np

from gigawatt.models.kpis import KPI_ATTRS, basis_statement, boundary_powers, facility_kpis, supply_mix

def supply_table(case) -> str:
    """The table whose rows supply the campus for the carbon figures: ``ac_supply`` when the case has a grid
    side, else ``source`` (the stations)."""
    return "ac_supply" if len(case.tables["ac_supply"]) else "source"


def _supplies(case, table: str):
    t = case.tables[table]
    live = t["in_service"].to_numpy(bool)
    return (t["id"].to_numpy()[live], t["carbon_intensity_kg_per_j"].to_numpy(float)[live],
            t["energy_source"].to_numpy()[live], live)


def supplies(case) -> tuple:
    """The in-service supplies of :func:`supply_table`: ids, carbon intensities [kg/J], kinds of energy and
    the in-service mask over the table's rows; fixed for a case (a time series reads them once for
    :func:`mix`)."""
    return _supplies(case, supply_table(case))


def mix(case, supply_p_w=None, *, supplies_: tuple | None = None) -> dict:
    """The campus's supply mix (:func:`gigawatt.models.kpis.supply_mix`) from what each supply of
    :func:`supply_table` delivers (``supply_p_w``, one per row [W]); without it (a step of a series, whose
    grid side is not solved), the mix of supplies that all state the same factor and kind, else NaN.
    ``supplies_``: the case's :func:`supplies` if already read."""
    _, cef, kind, live = supplies(case) if supplies_ is None else supplies_
    if supply_p_w is not None:
        return supply_mix(np.asarray(supply_p_w, float)[live], cef, kind)
    same_cef = cef.size > 0 and (np.all(cef == cef[0]) or np.all(np.isnan(cef)))
    same_kind = kind.size > 0 and np.all(kind == kind[0])
    return supply_mix([1.0], [cef[0] if same_cef else math.nan], [kind[0] if same_kind else "unspecified"])


def kpi_figures(case, *, p_facility_w: float, p_cooling_w: float, p_it_w: float, vrm_loss_w: float,
                shelf_loss_w: float, q_recovered_w: float | None, p_ac_loss_w: float = 0.0,
                supply_mix_: dict | None = None) -> dict:
    """The KPI attributes of one instant: the boundary powers [W], the emissions [kg/s] and every KPI.

    ``p_facility_w``: the stations' intake plus pumps and fans; ``p_ac_loss_w``: the grid side's losses
    when it is solved (inside the metered boundary); ``supply_mix_``: from :func:`mix`."""
    p_total = p_facility_w + p_ac_loss_w
    figures = {"p_total_facility": p_total, "p_cooling": p_cooling_w, "q_recovered": q_recovered_w,
               **boundary_powers(p_it_w, vrm_loss_w, shelf_loss_w)}
    m = supply_mix_ or {}
    co2e = m.get("cef_kg_per_j", math.nan) * p_total
    for name, share in (("p_renewable", "renewable_share"), ("p_nuclear", "nuclear_share")):
        figures[name] = m.get(share, math.nan) * p_total
    boundary = case.settings["kpi"]["it_boundary"]
    k = facility_kpis(figures, it_boundary=boundary, co2e_kg=co2e)
    out = {"p_total_facility_w": p_total, "p_rack_input_w": figures["p_rack_input"],
           "p_shelf_output_w": figures["p_shelf_output"], "p_it_equipment_w": k.pop("it_equipment")}
    if math.isfinite(co2e):
        out["co2e_kg_per_s"] = co2e
    for name in ("p_renewable", "p_nuclear"):
        if math.isfinite(figures[name]):
            out[f"{name}_w"] = figures[name]
    out.update(k)
    return out


def period_kpis(case, energy: dict, mass_co2e_kg: float | None) -> dict:
    """The KPIs over a period from its energies [J] (``energy_<figure>_j`` of a time series) and the
    emissions' mass [kg] (None: not known)."""
    figures = {n: energy.get(f"energy_{n}_j") for n in ("p_total_facility", "p_cooling", "p_rack_input",
                                                         "p_shelf_output", "p_it", "q_recovered", "p_renewable",
                                                         "p_nuclear")}
    k = facility_kpis(figures, it_boundary=case.settings["kpi"]["it_boundary"], co2e_kg=mass_co2e_kg)
    k.pop("it_equipment")
    return k


def carbon_note(case, *, series: bool = False) -> str:
    """Where CUE's emission factors come from, or why there is no CUE (for :func:`kpi_basis`)."""
    table = supply_table(case)
    ids, cef, _, _ = _supplies(case, table)
    what = "AC supplies" if table == "ac_supply" else "stations (the case has no grid side)"
    if not ids.size:
        return "not computed: no supply in service"
    missing = np.flatnonzero(np.isnan(cef))
    if missing.size:
        return (f"not computed: the case gives no carbon intensity for {table} '{ids[missing[0]]}' "
                f"(carbon_intensity_kg_per_kwh)")
    if series and table == "ac_supply" and not np.all(cef == cef[0]):
        return ("not computed along the series: the AC supplies' intensities differ and the grid side is not "
                "solved per step, so their shares are unknown (the design-hour solve gives CUE)")
    return (f"from the carbon intensities of the campus's {what}, each weighted by the power it delivers; "
            "the pumps and fans drawn in the same mix")


def kpi_basis(case, *, ac_solved: bool, ac_in_case: bool, period: str, series: bool = False) -> str:
    """The case's statement of its KPIs' boundary and basis (:func:`gigawatt.models.kpis.basis_statement`)."""
    if ac_solved:
        meter = ("at the campus's AC supplies (the grid side's transformers, lines and cables are inside the "
                 "boundary)")
    elif ac_in_case:
        meter = ("at the stations' AC intake: the grid side is not solved along a series, so its transformer "
                 "and cable losses are not in the total")
    else:
        meter = "at the stations' AC intake (the case has no grid side)"
    term = case.tables["dc_terminal"]
    if len(term) and term["in_service"].to_numpy(bool).any():
        meter += ("; and at the DC set-power terminals (dc_terminal: storage, links), whose delivery into the DC "
                  "network counts as power taken in (negative while they draw)")
    return basis_statement(it_boundary=case.settings["kpi"]["it_boundary"], meter=meter, period=period,
                           carbon=carbon_note(case, series=series))


def kpi_units() -> str:
    """The units and meaning of the KPI attributes, for a results file's ``kpi_attrs_units`` attribute."""
    units = {"cue_kg_per_kwh": "kg/kWh"}
    return "; ".join(f"{k} [{units.get(k, '1')}]: {v}" for k, v in KPI_ATTRS.items())
