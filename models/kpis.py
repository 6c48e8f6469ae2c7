"""Key performance indicators of a data centre by their standards: PUE and partial PUE (ISO/IEC 30134-2),
ITUE and TUE (Patterson et al. 2013), ERF (ISO/IEC 30134-6), CUE (ISO/IEC 30134-8), REF (ISO/IEC 30134-3).

Every KPI here is a ratio of two energies over the same period, or of two powers at one instant (a design
hour): the functions take either, in the same unit (W with W, J with J). A steady solve gives the
instantaneous (design-hour) figure; a time series gives the period's figure from its energies. The
standards define the KPIs on annual energy; a design-hour value is labelled as such wherever it is shown
(:func:`basis_statement`). The functions take floats, or arrays element by element.

What is IT equipment (the boundary)
-----------------------------------
ISO/IEC 30134-2 counts as infrastructure the power delivery "external to the IT equipment" (UPS,
switchgear, generators, PDUs, batteries, distribution losses); the power supplies inside the IT equipment
are IT. In a rack of AI servers the IT equipment starts at the rack's input: its power shelves (AC/DC or
DC/DC) and the voltage regulators on the boards are IT equipment. :data:`IT_BOUNDARIES` names the three
boundaries a case may state (``[kpi] it_boundary``): ``rack_input`` (the default: the standard's reading
for shelves in the IT rack), ``shelf_output`` (shelves in a separate power rack counted as
infrastructure) and ``chips`` (everything up to the chips counted as infrastructure: PUE is then TUE).

Sign convention: every power and energy is positive as drawn from the supply towards the load; reused heat
is positive as delivered to the reuse.

References
----------
.. [1] ISO/IEC 30134-2:2016, Information technology -- Data centres -- Key performance indicators -- Part 2:
   Power usage effectiveness (PUE); identical text as EN 50600-4-2:2016. Clause 5: PUE = E_DC / E_IT, with
   the power-delivery losses external to the IT equipment in E_DC. Its informative annex on partial PUE:
   pPUE of a subsystem = (E_IT + E_subsystem) / E_IT.
.. [2] The Green Grid, White Paper #49, "PUE: a comprehensive examination of the metric", V. Avelar,
   D. Azevedo, A. French (eds.), 2012 (partial PUE and the measurement boundary).
.. [3] M. K. Patterson, S. W. Poole, C.-H. Hsu, D. Maxwell, W. Tschudi, H. Coles, D. J. Martinez, N. Bates,
   "TUE, a new energy-efficiency metric applied at ORNL's Jaguar", Supercomputing (ISC 2013), LNCS 7905,
   372-382, Springer 2013. doi:10.1007/978-3-642-38750-0_28 (ITUE = energy into the IT equipment / energy
   into its compute components; TUE = ITUE x PUE).
.. [4] ISO/IEC 30134-6:2021, ... Part 6: Energy reuse factor (ERF): ERF = E_reuse / E_DC over the period,
   the reuse outside the data centre.
.. [5] ISO/IEC 30134-8:2022, ... Part 8: Carbon usage effectiveness (CUE): CUE = (CO2-equivalent emissions
   caused by the data centre's total energy) / E_IT [kgCO2e/kWh]; with one supply CUE = CEF x PUE, as in
   The Green Grid, White Paper #32, "Carbon usage effectiveness (CUE): a green grid data center
   sustainability metric", C. Belady (ed.), 2010.
.. [6] ISO/IEC 30134-3:2016, ... Part 3: Renewable energy factor (REF): REF = E_renewable / E_DC.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

J_PER_KWH = 3.6e6
"""Joules in a kilowatt-hour [J/kWh]."""

IT_BOUNDARIES: dict[str, tuple[str, str]] = {
    "rack_input": ("p_rack_input", "the rack input: power shelves and voltage regulators are IT equipment"),
    "shelf_output": ("p_shelf_output", "the power shelves' output: the shelves (in a separate power rack) are "
                                       "infrastructure, the voltage regulators IT equipment"),
    "chips": ("p_it", "the chips: shelves and voltage regulators counted as infrastructure (PUE is then TUE)"),
}
"""IT boundary name -> (the figure that is the IT power there, what the boundary means). The figures:
``p_rack_input`` = chips + regulator losses + shelf losses; ``p_shelf_output`` = chips + regulator losses;
``p_it`` = the chips (the compute components of ITUE)."""

ENERGY_SOURCES = ("unspecified", "grid_mix", "renewable", "nuclear", "fossil")
"""Kinds of energy a supply may state (``energy_source`` of sources and AC supplies): ``renewable`` counts
towards REF, ``nuclear`` towards the nuclear share."""


_FLOATS = (float, np.float64)


def _ratio(num, den):
    """num / den, NaN where den <= 0; floats in, a float out, arrays element by element."""
    if type(num) in _FLOATS and type(den) in _FLOATS:  # two scalars (a step of a series): IEEE division alike
        return float(num) / float(den) if den > 0 else math.nan
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0)
    return float(out) if out.ndim == 0 else out


def _all_finite(x) -> bool:
    """Whether ``x`` (a float or an array) is finite throughout."""
    return math.isfinite(x) if type(x) in _FLOATS else bool(np.all(np.isfinite(x)))


def pue(total: float, it: float) -> float:
    r"""Power usage effectiveness, :math:`\mathrm{PUE} = E_{DC} / E_{IT}` [-].

    ``total`` = E_DC, the data centre's total energy at its meter; ``it`` = E_IT, the IT equipment's energy
    at the stated boundary ([J] with [J], or [W] with [W] for an instantaneous value). Validity: E_IT > 0
    (NaN otherwise); >= 1 when every infrastructure term is >= 0. ISO/IEC 30134-2:2016 clause 5 [1]_.

    References
    ----------
    .. [1] ISO/IEC 30134-2:2016 (= EN 50600-4-2:2016), clause 5.

    >>> pue(1.5e6, 1.0e6)
    1.5
    """
    return _ratio(total, it)


def partial_pue(it: float, subsystem: float) -> float:
    r"""Partial PUE of one infrastructure subsystem, :math:`(E_{IT} + E_{sub}) / E_{IT}` [-].

    ``subsystem``: the energy of that subsystem alone (cooling, or the power-distribution losses between
    the meter and the IT boundary) [J or W, as ``it``]. The partial PUEs of subsystems that together make
    up all infrastructure satisfy PUE - 1 = sum (pPUE_i - 1). ISO/IEC 30134-2:2016, informative annex on
    partial PUE [1]_; The Green Grid WP #49 [2]_.

    References
    ----------
    .. [1] ISO/IEC 30134-2:2016 (= EN 50600-4-2:2016), annex on partial PUE (pPUE).
    .. [2] The Green Grid, White Paper #49, "PUE: a comprehensive examination of the metric", 2012.

    >>> partial_pue(1.0e6, 0.25e6)
    1.25
    """
    return _ratio(it + subsystem, it)


def itue(it: float, compute: float) -> float:
    r"""IT-power usage effectiveness, :math:`\mathrm{ITUE} = E_{IT} / E_{compute}` [-]: the energy into the IT
    equipment over the energy into its compute components (here: the chips), the PUE "inside" the IT.
    Patterson et al. 2013 [1]_.

    References
    ----------
    .. [1] M. K. Patterson et al., "TUE, a new energy-efficiency metric applied at ORNL's Jaguar",
       ISC 2013, LNCS 7905, 372-382. doi:10.1007/978-3-642-38750-0_28

    >>> itue(1.2e6, 1.0e6)
    1.2
    """
    return _ratio(it, compute)


def tue(total: float, compute: float) -> float:
    r"""Total-power usage effectiveness, :math:`\mathrm{TUE} = \mathrm{ITUE} \cdot \mathrm{PUE} = E_{DC} /
    E_{compute}` [-]: the data centre's total energy over its compute components' energy, independent of
    where the IT boundary is drawn. Patterson et al. 2013 [1]_.

    References
    ----------
    .. [1] M. K. Patterson et al., ISC 2013. doi:10.1007/978-3-642-38750-0_28

    >>> tue(1.5e6, 1.0e6)
    1.5
    """
    return _ratio(total, compute)


def erf(reused: float, total: float) -> float:
    r"""Energy reuse factor, :math:`\mathrm{ERF} = E_{reuse} / E_{DC}` [-], in [0, 1]: the energy the data centre
    hands to a reuse outside it (here: the heat its facility water delivers to the district-heating
    plant) over its total energy. The reuse process itself (heat pumps, network) is outside the data centre.
    Defined on the period's energies; at one instant it is a design-hour value. ISO/IEC 30134-6:2021 [1]_.

    References
    ----------
    .. [1] ISO/IEC 30134-6:2021, Part 6: Energy reuse factor (ERF).

    >>> erf(0.25e6, 1.0e6)
    0.25
    """
    return _ratio(reused, total)


def cue(co2e_kg: float, it_j: float) -> float:
    r"""Carbon usage effectiveness, :math:`\mathrm{CUE} = m_{CO_2e} / E_{IT}` [kgCO2e/kWh]: the CO2-equivalent
    emissions caused by the data centre's total energy over the IT equipment's energy. ``co2e_kg`` [kg]
    with ``it_j`` [J] over a period, or [kg/s] with [W] at an instant. With a single supply of carbon
    emission factor CEF, CUE = CEF x PUE. ISO/IEC 30134-8:2022 [1]_; The Green Grid WP #32 [2]_.

    References
    ----------
    .. [1] ISO/IEC 30134-8:2022, Part 8: Carbon usage effectiveness (CUE).
    .. [2] The Green Grid, White Paper #32, "Carbon usage effectiveness (CUE)", 2010.

    >>> round(cue(1.0, 3.6e6), 12)   # 1 kg over 1 kWh of IT energy
    1.0
    """
    return _ratio(co2e_kg, it_j) * J_PER_KWH


def ref(renewable: float, total: float) -> float:
    r"""Renewable energy factor, :math:`\mathrm{REF} = E_{ren} / E_{DC}` [-], in [0, 1]. ISO/IEC 30134-3:2016 [1]_.

    References
    ----------
    .. [1] ISO/IEC 30134-3:2016, Part 3: Renewable energy factor (REF).
    """
    return _ratio(renewable, total)


def supply_mix(p_w, intensity_kg_per_j, energy_source) -> dict:
    """The data centre's supply mix from what each supply delivers: its carbon emission factor and the shares
    of renewable and nuclear energy.

    Parameters
    ----------
    p_w : sequence of float
        Power (or energy) each supply delivers [W or J]; negative values (a supply taking power) count 0.
    intensity_kg_per_j : sequence of float
        Each supply's carbon emission factor [kgCO2e/J]; NaN where the case gives none.
    energy_source : sequence of str
        Each supply's kind of energy (:data:`ENERGY_SOURCES`).

    Returns
    -------
    dict
        ``cef_kg_per_j``: the delivered-power-weighted mean emission factor [kgCO2e/J] (NaN unless every
        supply that delivers power has one); ``renewable_share`` and ``nuclear_share`` [-] (NaN unless every
        supply that delivers power states its kind).

    >>> supply_mix([3.0, 1.0], [0.0, 1e-7], ["nuclear", "grid_mix"])["cef_kg_per_j"]
    2.5e-08
    """
    p = [max(float(x), 0.0) for x in p_w]
    total = sum(p)
    live = [i for i, x in enumerate(p) if x > 0]
    out = {"cef_kg_per_j": math.nan, "renewable_share": math.nan, "nuclear_share": math.nan}
    if total <= 0:
        return out
    cef = [float(intensity_kg_per_j[i]) for i in live]
    if all(math.isfinite(c) for c in cef):
        out["cef_kg_per_j"] = sum(p[i] * c for i, c in zip(live, cef)) / total
    kinds = [str(energy_source[i]) for i in live]
    if all(k != "unspecified" for k in kinds):
        out["renewable_share"] = sum(p[i] for i, k in zip(live, kinds) if k == "renewable") / total
        out["nuclear_share"] = sum(p[i] for i, k in zip(live, kinds) if k == "nuclear") / total
    return out


def boundary_powers(p_it: float, vrm_loss: float, shelf_loss: float) -> dict:
    """The IT power at each boundary of :data:`IT_BOUNDARIES` [W or J, as the inputs]: ``p_it`` at the chips,
    ``p_shelf_output`` = chips + voltage-regulator losses, ``p_rack_input`` = that + shelf losses.

    >>> boundary_powers(90.0, 10.0, 2.0)
    {'p_it': 90.0, 'p_shelf_output': 100.0, 'p_rack_input': 102.0}
    """
    return {"p_it": p_it, "p_shelf_output": p_it + vrm_loss, "p_rack_input": p_it + vrm_loss + shelf_loss}


def facility_kpis(value: Callable[[str], float | None] | Mapping, *, it_boundary: str = "rack_input",
                  co2e_kg: float | None = None) -> dict:
    """Every KPI of a result, from its named power figures [W] (one instant) or energies [J] (a period).

    This is the one place the KPIs are formed: :func:`gigawatt.solve`, the time series (each step and the
    period), the sweeps, the report and the comparison all call it.

    Parameters
    ----------
    value : callable or mapping
        ``value(name)`` (or ``value[name]``) -> the figure ``name`` [W or J], None where the result has none:
        ``p_total_facility`` (at the meter: the electrical network from its supplies plus the facility's
        pumps and fans), ``p_cooling`` (pumps and fans), ``p_rack_input``, ``p_shelf_output``, ``p_it`` (the
        chips), ``q_recovered`` (heat delivered to reuse), and with a supply mix ``p_renewable`` and
        ``p_nuclear`` (the part of the total from renewable and nuclear supplies).
    it_boundary : str
        A key of :data:`IT_BOUNDARIES`.
    co2e_kg : float, optional
        The emissions the total energy causes [kg over the period, or kg/s at an instant].

    Returns
    -------
    dict
        ``pue``, ``ppue_cooling``, ``ppue_power`` (the power-delivery losses between the meter and the IT
        boundary), ``itue``, ``tue``, and where the figures allow ``erf``, ``cue_kg_per_kwh``, ``ref``,
        ``nuclear_share``; ``it_equipment``: the IT power or energy at the boundary [W or J].
    """
    get = value.get if type(value) is dict or isinstance(value, Mapping) else value
    if it_boundary not in IT_BOUNDARIES:
        raise ValueError(f"unknown IT boundary {it_boundary!r}; one of {', '.join(IT_BOUNDARIES)}")
    total, cooling, chips = get("p_total_facility"), get("p_cooling"), get("p_it")
    it = get(IT_BOUNDARIES[it_boundary][0])
    out = {"it_equipment": it, "pue": pue(total, it), "ppue_cooling": partial_pue(it, cooling),
           "ppue_power": partial_pue(it, total - cooling - it), "itue": itue(it, chips), "tue": tue(total, chips)}
    reused = get("q_recovered")
    if reused is not None:
        out["erf"] = erf(reused, total)
    if co2e_kg is not None and _all_finite(co2e_kg):
        out["cue_kg_per_kwh"] = cue(co2e_kg, it)
    for name, key in (("p_renewable", "ref"), ("p_nuclear", "nuclear_share")):
        x = get(name)
        if x is not None and _all_finite(x):
            out[key] = ref(x, total)
    return out


KPI_ATTRS = {
    "pue": "power usage effectiveness, total facility / IT equipment at the stated boundary (ISO/IEC 30134-2)",
    "ppue_cooling": "partial PUE of the cooling, (IT + pumps and fans) / IT (ISO/IEC 30134-2 annex)",
    "ppue_power": "partial PUE of the power delivery from the meter to the IT boundary (ISO/IEC 30134-2 annex)",
    "itue": "IT-power usage effectiveness, IT equipment / chips (Patterson et al. 2013)",
    "tue": "total-power usage effectiveness, total facility / chips = PUE x ITUE (Patterson et al. 2013)",
    "erf": "energy reuse factor, heat delivered to reuse / total facility (ISO/IEC 30134-6)",
    "cue_kg_per_kwh": "carbon usage effectiveness [kgCO2e/kWh], emissions of the total energy / IT energy "
                      "(ISO/IEC 30134-8)",
    "ref": "renewable energy factor, renewable / total energy (ISO/IEC 30134-3)",
    "nuclear_share": "share of the total energy from nuclear supplies",
}
"""The KPI attributes a result may carry, with their meaning (the units of each: ``1``, CUE in kg/kWh)."""


def basis_statement(*, it_boundary: str, meter: str, period: str, carbon: str) -> str:
    """The case's statement of its KPIs' boundary and basis, one line each (stored with the results as the
    ``kpi_basis`` attribute, printed by the summary and the report).

    ``meter``: where the total facility energy is metered; ``period``: what the values are taken over (a
    design hour or a period of energies); ``carbon``: where CUE's emission factors come from, or why there
    is no CUE.
    """
    return "\n".join([
        f"IT boundary: {IT_BOUNDARIES[it_boundary][1]} ([kpi] it_boundary = \"{it_boundary}\"; ISO/IEC 30134-2 "
        "counts power delivery external to the IT equipment as infrastructure)",
        f"total facility energy metered {meter}; it is the electrical network from that meter plus the coolant "
        "pumps and fans. The district-heating plant (heat pumps, network pumps, boiler) is outside the data "
        "centre: its electricity is reported beside ERF, in no KPI",
        f"basis: {period}",
        "PUE = total / IT (ISO/IEC 30134-2 clause 5); partial PUE = (IT + subsystem) / IT (its annex); "
        "ITUE = IT / chips and TUE = total / chips = PUE x ITUE (Patterson et al., ISC 2013); "
        "ERF = heat delivered to reuse / total (ISO/IEC 30134-6); REF = renewable / total (ISO/IEC 30134-3)",
        f"CUE (ISO/IEC 30134-8): {carbon}",
    ])
