"""Distribution architectures on the same IT load: turn a DC case into its AC, 800 VDC or ±400 VDC variant.

The reference is the case as given: a monopolar DC design at its buses' nominal voltages (what the campus
builder and every DC case produce). A ``[campus]``-built case is transformed like explicit tables: its
tables are the builder's, so regenerating from the ``[campus]`` settings with resized sections would give the
same network; one code path serves both. :func:`with_architecture` keeps its topology, its racks and their IT power,
and changes what the architecture changes:

``ac`` — traditional AC (415/240 V):
    each grid-fed station becomes a *lineup*: MV/LV transformer (a ``source`` of kind ``transformer``) → double-
    conversion UPS (a converter) → PDU transformer (a converter) → the station's bus. Buses run at 415 V line to
    line; lines become their balanced three-phase per-phase equivalent (loop factor 1/cos²φ, see
    :func:`gigawatt.models.ac_chain.per_phase_loop_factor`); the racks' shelves become server power supplies
    (80 PLUS Titanium curve) at the same rating unless ``psu_rating_factor`` says otherwise.
``dc800`` — 800 VDC monopolar: buses and set-points moved to ``dc_v_v`` (per-unit set-points kept); stations
    and shelves keep the case's loss models. A case already at 800 V is unchanged apart from its name.
``dc400`` — ±400 VDC bipolar (the bipolar solver's interface: settings ``[dc] system = "bipolar"``, buses at
    the pole-to-neutral voltage, racks connected pole to pole by default, neutral conductor of the pole's
    section).

Conductor sizing rule (``sizing``), applied to every line's cross-section (and to ``r_ohm`` where that is
given instead) from the reference design's current at the same power:

``current_density`` (default): the same current density, A_new = A_ref · I_new / I_ref — what sizing by
    ampacity does. Copper scales with current times the number of conductors.
``loss_fraction``: the same conductor loss per watt carried, A_new = A_ref · (n I²)_new / (n I²)_ref, n the
    current-carrying conductors (2 DC, 3 AC phases, 2 poles of a balanced bipole) — distribution losses are
    then equal by construction, and the copper shows the price.

Conductor counts per circuit (for copper mass): 2 for monopolar DC; 3 phases + neutral (``ac_neutral_fraction``
of the phase section, 1 by default: full-size neutral for IT loads with triplen harmonics) for AC; 2 poles +
neutral for the bipole. Protective earth conductors are left out everywhere.

Loss models: the AC stages use the case's loss models named ``ac_mv_transformer``, ``ac_ups``,
``ac_pdu_transformer`` and ``ac_psu`` when it defines them, otherwise the defaults of
:mod:`gigawatt.models.ac_chain` (each citing its primary source). Cooling and district heating are dropped:
the comparison is of the electrical chain at the same IT load (chip leakage at a coolant temperature would
change that load).
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError
from gigawatt.models import ac_chain

COPPER_DENSITY_KG_M3 = 8960.0
"""Density of copper [kg/m³] (annealed copper at 20 °C; IEC 60028 uses 8.89 g/cm³ for the mass resistivity,
8.96 g/cm³ is the handbook density of pure copper — the figure the project brief states)."""

DEFAULT_AC_LOSS_MODELS = {
    "ac_mv_transformer": ac_chain.MV_TRANSFORMER,
    "ac_ups": ac_chain.UPS_DOUBLE_CONVERSION_MODERN,
    "ac_pdu_transformer": ac_chain.PDU_TRANSFORMER,
    "ac_psu": ac_chain.PSU_TITANIUM,
}
"""Loss models of the AC stages by the name a case may override them under (see the module docstring)."""


@dataclass(frozen=True)
class ArchitectureOptions:
    """Parameters of the architecture transform (SI units; defaults cite their source or say assumption).

    Attributes
    ----------
    sizing : str
        Conductor sizing rule, a key of :data:`SIZING_RULES`.
    ac_v_ll_v : float
        AC distribution voltage, line to line [V] (415/240 V: the PSUs see 240 V phase to neutral, the
        80 PLUS 230 V class).
    power_factor : float
        cos φ of the AC loads [-] (:data:`gigawatt.models.ac_chain.POWER_FACTOR`, an assumption).
    ac_neutral_fraction : float
        AC neutral section over the phase section [-], for copper mass only (balanced: no neutral current).
    ups_rating_factor : float
        UPS rating over the station rating it replaces [-] (2 for a 2N system whose UPSs each carry half).
    psu_rating_factor : float or None
        Installed PSU output rating over the rack's shelf output at full IT power [-]; None keeps the
        rack's shelf rating (like for like).
    dc_v_v : float
        Voltage of ``dc800`` [V].
    dc400_v_pole_v : float
        Pole-to-neutral voltage of ``dc400`` [V].
    rack_pole : str
        How ``dc400`` racks connect: ``bipolar`` (pole to pole), ``positive`` or ``negative``.
    """

    sizing: str = "current_density"
    ac_v_ll_v: float = 415.0
    power_factor: float = ac_chain.POWER_FACTOR
    ac_neutral_fraction: float = 1.0
    ups_rating_factor: float = 1.0
    psu_rating_factor: float | None = None
    dc_v_v: float = 800.0
    dc400_v_pole_v: float = 400.0
    rack_pole: str = "bipolar"


@dataclass(frozen=True)
class Architecture:
    """A case in one architecture and what the comparison needs to read its results.

    Attributes
    ----------
    name : str
        Architecture name (a key of :data:`ARCHITECTURES`).
    case : gigawatt.cases.case.Case
        The transformed case.
    converter_stage : dict
        Converter id → stage name (``ups``, ``pdu_transformer``) for converters the transform added.
    conductors : numpy.ndarray
        Conductors per circuit of each line, weighted by section (for copper mass) [-].
    current_conductors : int
        Conductors carrying the load current in a balanced circuit (2 DC, 3 AC).
    """

    name: str
    case: object
    converter_stage: dict = field(default_factory=dict)
    conductors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    current_conductors: int = 2


# --- conductor sizing ------------------------------------------------------------------------------

def _current_density(k_ref, n_ref, k_new, n_new):
    """Same current density: section ∝ current per conductor at the same power."""
    return k_new / k_ref


def _loss_fraction(k_ref, n_ref, k_new, n_new):
    """Same conductor loss per watt: section ∝ n·I² at the same power."""
    return (n_new * k_new * k_new) / (n_ref * k_ref * k_ref)


SIZING_RULES = {"current_density": _current_density, "loss_fraction": _loss_fraction}
"""Conductor sizing rules: name → f(k_ref, n_ref, k_new, n_new) giving the section ratio new/reference, with k
the current per conductor per watt carried [A/W] and n the current-carrying conductors per circuit."""


# --- transforms ------------------------------------------------------------------------------------

def _reference(case) -> dict:
    """Checks that the case is a single-level monopolar DC design; returns its tables as copies."""
    t = case.tables
    settings = case.settings.get("dc") if hasattr(case.settings, "get") else None
    if settings and settings.get("system", "monopolar") != "monopolar":
        raise CaseError("the architecture transform starts from a monopolar DC case", file=case.file,
                        element="[dc]", field="system", value=settings.get("system"), allowed="monopolar")
    if len(t["converter"]):
        raise CaseError("the architecture transform needs a single-voltage-level case (no DC/DC converters)",
                        file=case.file, element=f"converter '{t['converter']['id'].iloc[0]}'", field="converter",
                        allowed="no converter rows")
    if not len(t["source"]):
        raise CaseError("the case has no source to transform", file=case.file, field="source")
    return {name: df.copy() for name, df in t.items()}


def _resize_lines(line: pd.DataFrame, v_ref: np.ndarray, k_new: float, n_new: int, sizing: str):
    """Scale sections and given loop resistances by the sizing rule (reference: 2-wire DC at ``v_ref``)."""
    rule = SIZING_RULES.get(sizing)
    if rule is None:
        raise CaseError("unknown conductor sizing rule", field="sizing", value=sizing,
                        allowed="one of " + ", ".join(SIZING_RULES))
    ratio = rule(1.0 / v_ref, 2, k_new, n_new)
    line["cross_section_m2"] = line["cross_section_m2"].to_numpy(float) * ratio
    if "neutral_cross_section_m2" in line:  # a given neutral (bipolar schema) follows its poles
        line["neutral_cross_section_m2"] = line["neutral_cross_section_m2"].to_numpy(float) * ratio
    # A given r_ohm is the loop of `loop_factor` conductors: one conductor's resistance scales as 1/ratio.
    r_conductor = line["r_ohm"].to_numpy(float) / line["loop_factor"].to_numpy(float) / ratio
    return r_conductor


def _line_v_ref(t: dict) -> np.ndarray:
    v_bus = pd.Series(t["bus"]["v_nominal_v"].to_numpy(float), index=t["bus"]["id"].to_numpy())
    return v_bus.reindex(t["line"]["from_bus"].to_numpy()).to_numpy(float)


def _settings(case, arch: str) -> dict:
    s = case.settings
    name = dict(s["case"])
    name["name"] = f"{name['name']} [{arch}]"
    return {"case": name, "solver": dict(s["solver"])}


def _to_ac(case, o: ArchitectureOptions) -> Architecture:
    t = _reference(case)
    pf, v = o.power_factor, o.ac_v_ll_v
    if not (0.0 < pf <= 1.0):
        raise CaseError("power factor out of range", field="power_factor", value=pf, allowed="(0, 1]")
    v_bus_ref = pd.Series(t["bus"]["v_nominal_v"].to_numpy(float), index=t["bus"]["id"].to_numpy())
    line = t["line"]
    r_cond = _resize_lines(line, _line_v_ref(t), 1.0 / (math.sqrt(3.0) * v * pf), 3, o.sizing)
    line["loop_factor"] = ac_chain.per_phase_loop_factor(pf)
    line["r_ohm"] = r_cond * line["loop_factor"].to_numpy(float)
    t["bus"]["v_nominal_v"] = v

    src = t["source"]
    sid = src["id"].to_numpy().astype(str)
    rated = src["rated_power_w"].to_numpy(float)
    v_set = v * src["v_set_v"].to_numpy(float) / v_bus_ref.reindex(src["bus"].to_numpy()).to_numpy(float)
    lv, ups = np.char.add(sid, ":lv").astype(object), np.char.add(sid, ":ups").astype(object)
    t["bus"] = pd.concat([t["bus"], pd.DataFrame({"id": np.concatenate([lv, ups]), "v_nominal_v": v})],
                         ignore_index=True)
    t["converter"] = pd.DataFrame({
        "id": np.concatenate([np.char.add(sid, ":ups"), np.char.add(sid, ":pdu")]).astype(object),
        "from_bus": np.concatenate([lv, ups]), "to_bus": np.concatenate([ups, src["bus"].to_numpy()]),
        "v_set_v": np.concatenate([np.full(len(src), v), v_set]),
        "droop": np.concatenate([np.zeros(len(src)), src["droop"].to_numpy(float)]),
        "rated_power_w": np.concatenate([rated * o.ups_rating_factor, rated / pf]),
        "loss_model": np.repeat(np.array(["ac_ups", "ac_pdu_transformer"], dtype=object), len(src)),
        "in_service": np.concatenate([src["in_service"].to_numpy(bool)] * 2),
    })
    t["source"] = pd.DataFrame({"id": src["id"].to_numpy(), "bus": lv, "kind": "transformer", "v_set_v": v,
                                "droop": 0.0, "rated_power_w": rated / pf, "loss_model": "ac_mv_transformer",
                                "in_service": src["in_service"].to_numpy(bool)})
    rack = t["rack"]
    rack["shelf_loss_model"] = "ac_psu"
    if o.psu_rating_factor is not None:
        rack["shelf_rated_power_w"] = (o.psu_rating_factor * np.maximum(rack["p_it_w"].to_numpy(float), 1.0)
                                       / rack["vrm_efficiency"].to_numpy(float))
    elif rack["shelf_rated_power_w"].isna().any():
        i = int(np.flatnonzero(rack["shelf_rated_power_w"].isna().to_numpy())[0])
        raise CaseError("the AC architecture needs each rack's shelf rating for its power supplies (or "
                        "psu_rating_factor)", file=case.file, element=f"rack '{rack['id'].iloc[i]}'",
                        field="shelf_rated_power_w")
    models = {**_with_pf(DEFAULT_AC_LOSS_MODELS, pf), **dict(case.loss_model_params)}
    built = _make(t, models, case, "ac")
    stage = dict.fromkeys(np.char.add(sid, ":ups").tolist(), "ups")
    stage.update(dict.fromkeys(np.char.add(sid, ":pdu").tolist(), "pdu_transformer"))
    return Architecture("ac", built, stage, np.full(len(line), 3.0 + o.ac_neutral_fraction), 3)


def _with_pf(models: dict, pf: float) -> dict:
    """Default loss models with the transformers' power factor set to the architecture's."""
    return {k: ({**m, "power_factor": pf} if m["kind"] == "transformer" else dict(m)) for k, m in models.items()}


def _dc_tables(case, v_new: float, k_new: float, sizing: str) -> dict:
    t = _reference(case)
    v_bus_ref = pd.Series(t["bus"]["v_nominal_v"].to_numpy(float), index=t["bus"]["id"].to_numpy())
    line = t["line"]
    r_cond = _resize_lines(line, _line_v_ref(t), k_new, 2, sizing)
    line["r_ohm"] = r_cond * line["loop_factor"].to_numpy(float)
    src = t["source"]
    src["v_set_v"] = v_new * src["v_set_v"].to_numpy(float) / v_bus_ref.reindex(src["bus"].to_numpy()).to_numpy(float)
    t["bus"]["v_nominal_v"] = v_new
    return t


def _to_dc800(case, o: ArchitectureOptions) -> Architecture:
    t = _dc_tables(case, o.dc_v_v, 1.0 / o.dc_v_v, o.sizing)
    return Architecture("dc800", _make(t, dict(case.loss_model_params), case, "dc800"), {},
                        np.full(len(t["line"]), 2.0), 2)


def bipolar_available() -> bool:
    """Whether this build has the ±400 VDC bipolar solver's case interface (``[dc] system``, ``rack.pole``)."""
    from gigawatt.cases.case import make_case
    from gigawatt.cases.schema import schema

    s = schema()
    return ("dc" in s and "system" in s["dc"] and "pole" in s.get("rack", {})
            and "dc" in inspect.signature(make_case).parameters)


def _to_dc400(case, o: ArchitectureOptions) -> Architecture:
    if not bipolar_available():
        raise CaseError("the dc400 architecture needs the bipolar DC solver (settings section [dc] with "
                        "system = \"bipolar\"), which this build does not have", field="architecture",
                        value="dc400", allowed="ac, dc800")
    vp = o.dc400_v_pole_v
    # Racks pole to pole draw P/(2 vp) from each pole; a single-pole rack P/vp from its pole and the neutral.
    k_new = 1.0 / (2.0 * vp) if o.rack_pole == "bipolar" else 1.0 / vp
    t = _dc_tables(case, vp, k_new, o.sizing)
    t["rack"]["pole"] = o.rack_pole
    # Neutral of the pole's section unless the case gave one (the bipolar schema's default).
    neutral = t["line"].get("neutral_cross_section_m2")
    pole_section = t["line"]["cross_section_m2"].to_numpy(float)
    ratio = np.ones(len(t["line"])) if neutral is None else np.where(
        np.isnan(neutral.to_numpy(float)), 1.0, neutral.to_numpy(float) / pole_section)
    built = _make(t, dict(case.loss_model_params), case, "dc400", dc={"system": "bipolar"})
    return Architecture("dc400", built, {}, 2.0 + ratio, 2)


def _make(t: dict, models: dict, case, arch: str, **extra):
    from gigawatt.cases.case import make_case

    tables = {name: df for name, df in t.items()}
    try:
        return make_case(tables, loss_models=models, file=case.file, **_settings(case, arch), **extra)
    except CaseError as err:
        raise CaseError(f"{arch} architecture: {err.reason}", file=err.file, element=err.element, field=err.field,
                        value=err.value, allowed=err.allowed) from None


ARCHITECTURES = {"ac": _to_ac, "dc800": _to_dc800, "dc400": _to_dc400}
"""Architecture name → transform ``f(case, options) -> Architecture``."""


def build_architecture(case, name: str, options: ArchitectureOptions | None = None, **changes) -> Architecture:
    """The case in architecture ``name``, with what a comparison needs (see :class:`Architecture`).

    Parameters
    ----------
    case : gigawatt.cases.case.Case
        A monopolar DC case (one voltage level: sources, lines, racks).
    name : str
        ``ac``, ``dc800`` or ``dc400`` (:data:`ARCHITECTURES`).
    options : ArchitectureOptions, optional
        Transform parameters; keyword ``changes`` replace single fields of it.

    Raises
    ------
    CaseError
        Unknown architecture or sizing rule, a case the transform cannot start from, ``dc400`` without the
        bipolar solver, or bad loss models (for example an ``ac_ups`` efficiency outside (0, 1]).
    """
    transform = ARCHITECTURES.get(name)
    if transform is None:
        raise CaseError("unknown architecture", field="architecture", value=name,
                        allowed="one of " + ", ".join(ARCHITECTURES))
    options = options or ArchitectureOptions()
    try:
        options = replace(options, **changes)
    except TypeError as err:
        raise CaseError(f"unknown architecture option: {err}", field="options",
                        allowed=", ".join(ArchitectureOptions.__dataclass_fields__)) from None
    return transform(case, options)


def with_architecture(case, name: str, **options):
    """The case turned into architecture ``name`` on the same IT load (a new :class:`~gigawatt.Case`).

    >>> import gigawatt as gw
    >>> case = gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, shelf_rated_power_kw=300)
    >>> ac = gw.with_architecture(case, "ac")
    >>> sorted(set(ac.tables["converter"]["loss_model"]))
    ['ac_pdu_transformer', 'ac_ups']
    """
    return build_architecture(case, name, **options).case


CONDUCTOR_DENSITY_KG_M3 = {"copper": COPPER_DENSITY_KG_M3, "aluminium": 2700.0}
"""Conductor densities [kg/m³]: copper as :data:`COPPER_DENSITY_KG_M3`; aluminium 2,700 (handbook value for
pure aluminium, an assumption of this table)."""


def conductor_mass_kg(arch: Architecture) -> np.ndarray:
    r"""Conductor mass of each line [kg], :math:`m = \rho\, n_c\, A\, L\, n_{par}`, with n_c the conductors per
    circuit weighted by their section (:attr:`Architecture.conductors`) and ρ the material's density
    (:data:`CONDUCTOR_DENSITY_KG_M3`); NaN for lines given by ``r_ohm`` alone (no section)."""
    line = arch.case.tables["line"]
    rho = line["material"].map(CONDUCTOR_DENSITY_KG_M3).to_numpy(float)
    return (rho * arch.conductors * line["cross_section_m2"].to_numpy(float)
            * line["length_m"].to_numpy(float) * line["n_parallel"].to_numpy(float))
