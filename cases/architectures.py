"""Distribution architectures on the same IT load: turn a DC case into its AC, 800 VDC or ±400 VDC variant.

The reference is the case as given: a monopolar DC design at its buses' nominal voltages (what the campus
builder and every DC case produce). A ``[campus]``-built case is transformed like explicit tables: its
tables are the builder's, so regenerating from the ``[campus]`` settings with resized sections would give the
same network; one code path serves both. :func:`with_architecture` keeps its topology, its racks and their power
at the chips (a case that gives its racks' input power, ``p_it_basis = "input"``, is first turned to the chips
through its own rack chain: the compute load is what the architectures share), and changes what the
architecture changes:

``ac`` — traditional AC (415 V line to line by default):
    each grid-fed station becomes a *lineup*: MV/LV transformer (a ``source`` of kind ``transformer``) → double-
    conversion UPS (a converter) → the station's bus, with a PDU transformer (a converter) between the UPS and
    the bus only when ``pdu_transformer`` asks for one (a 400 V IEC installation feeds its racks straight from
    the LV switchboard; a North-American 480 V one steps down to 415/240 V in its PDUs). Buses run at
    ``ac_v_ll_v``; lines become their balanced three-phase per-phase equivalent (loop factor 1/cos²φ, see
    :func:`gigawatt.models.ac_chain.per_phase_loop_factor`); the racks' shelves become server power supplies
    (80 PLUS Titanium curve), fed as the rack standard says (:data:`gigawatt.models.ac_chain.RACK_FEEDS`:
    ``orv3`` three-wire delta, ``19inch`` four-wire wye).
``dc800`` — 800 VDC monopolar: buses and set-points moved to ``dc_v_v`` (per-unit set-points kept); stations
    and shelves keep the case's loss models. A case already at 800 V is unchanged apart from its name and, with
    ``shelf_provisioning``, its shelf ratings.
``dc400`` — ±400 VDC bipolar (the bipolar solver's interface: settings ``[dc] system = "bipolar"``, buses at
    the pole-to-neutral voltage, racks connected pole to pole by default, neutral conductor of the pole's
    section).

Provisioning (``shelf_provisioning``, 2 by default: N+N): every architecture's rack power supplies or shelves
are rated that many times the rack's draw at full IT power, so each runs at half its rating or less, where AI
racks run them (two independent feeds, each able to carry the rack). ``None`` keeps the case's shelf ratings.

Conductor sizing rule (``sizing``), applied to every line's cross-section (and to ``r_ohm`` where that is
given instead) from the reference design's current at the same power:

``current_density`` (default): the same current density, A_new = A_ref · I_new / I_ref — what sizing by
    ampacity does. Copper scales with current times the number of conductors.
``loss_fraction``: the same conductor loss per watt carried, A_new = A_ref · (n I²)_new / (n I²)_ref, n the
    current-carrying conductors (2 DC, 3 AC phases, 2 poles of a balanced bipole) — distribution losses are
    then equal by construction, and the copper shows the price.

Conductor counts per circuit (for copper mass): 2 for monopolar DC; 3 phases for AC, plus a neutral of
``ac_neutral_fraction`` of the phase section only when the rack standard's feed has one; 2 poles + neutral for
the bipole. Protective earth conductors are left out everywhere.

Loss models: the AC stages use the case's loss models named ``ac_mv_transformer``, ``ac_ups``,
``ac_pdu_transformer`` and ``ac_psu`` when it defines them, otherwise the defaults of
:mod:`gigawatt.models.ac_chain` (each stating its source); ``loss_models`` in the options (what a preset sets)
override both, and its ``dc_station`` and ``dc_shelf`` entries replace the DC stations' and shelves' models.
A preset (:data:`PRESETS`) is a named set of options reproducing a published comparison. Every stage's
assumption (model, provisioning, wiring, source) is stated in :attr:`Architecture.assumptions`. Cooling and
district heating are dropped: the comparison is of the electrical chain at the same IT load (chip leakage at a
coolant temperature would change that load).
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError
from gigawatt.models import ac_chain
from gigawatt.models.racks import chip_powers

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
    rack_standard : str
        How the AC racks' power supplies are fed, a key of :data:`gigawatt.models.ac_chain.RACK_FEEDS`:
        ``orv3`` (three-wire delta, default: the power shelves of AI racks) or ``19inch`` (four-wire wye).
    ac_neutral_fraction : float
        AC neutral section over the phase section [-], for copper mass only (balanced: no neutral current);
        counted only when the rack standard's feed has a neutral.
    pdu_transformer : bool
        A PDU transformer between the UPS and the AC distribution (False by default: a 400 V IEC chain feeds
        the racks at the LV switchboard's voltage; True for a 480 V → 415/240 V North-American chain).
    ups_rating_factor : float
        UPS rating over the station rating it replaces [-] (1 by default, an N+1 block near its rating; 2 for a
        2N system whose UPSs each carry half).
    shelf_provisioning : float or None
        Installed rating of every architecture's rack power supplies or shelves over the rack's draw at their
        output at full IT power [-]: 2 (default) is N+N, each supply at half load; None keeps the case's shelf
        ratings (like for like).
    dc_v_v : float
        Voltage of ``dc800`` [V].
    dc400_v_pole_v : float
        Pole-to-neutral voltage of ``dc400`` [V].
    rack_pole : str
        How ``dc400`` racks connect: ``bipolar`` (pole to pole), ``positive`` or ``negative``.
    loss_models : mapping or None
        Loss models [registry parameter dicts] that override the case's and the defaults by name: ``ac_*``
        the AC stages, ``dc_station`` every DC station, ``dc_shelf`` every DC shelf (what a preset sets).
    model_sources : mapping or None
        Where each of ``loss_models`` comes from (printed and stored with a comparison).
    """

    sizing: str = "current_density"
    ac_v_ll_v: float = 415.0
    power_factor: float = ac_chain.POWER_FACTOR
    rack_standard: str = "orv3"
    ac_neutral_fraction: float = 1.0
    pdu_transformer: bool = False
    ups_rating_factor: float = 1.0
    shelf_provisioning: float | None = 2.0
    dc_v_v: float = 800.0
    dc400_v_pole_v: float = 400.0
    rack_pole: str = "bipolar"
    loss_models: Mapping | None = None
    model_sources: Mapping | None = None


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
    assumptions : dict
        Stage name (of :data:`gigawatt.compare.STAGES`; ``distribution`` holds the wiring) → what the
        architecture assumes there (model, rating, source or "assumption"), in words.
    """

    name: str
    case: object
    converter_stage: dict = field(default_factory=dict)
    conductors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    current_conductors: int = 2
    assumptions: dict = field(default_factory=dict)


# --- stating the assumptions ------------------------------------------------------------------------

def _percent(x) -> str:
    return f"{100 * float(x):.4g}"


_DESCRIPTIONS = {
    "constant_efficiency": lambda p: f"constant {_percent(p['efficiency'])} %",
    "efficiency_curve": lambda p: ("/".join(_percent(e) for e in p["efficiency"]) + " % at "
                                   + "/".join(_percent(x) for x in p["load_fraction"]) + " % load"),
    "transformer": lambda p: (f"no-load loss {_percent(p['no_load_loss_fraction'])} % and load loss "
                              f"{_percent(p['load_loss_fraction'])} % of rating, cos phi {p['power_factor']:g}"),
    "quadratic": lambda p: f"a + b|I| + c I^2 with a = {p['a_w']:g} W, b = {p['b_v']:g} V, c = {p['c_ohm']:g} ohm",
}
"""Loss-model kind (:data:`gigawatt.models.converter_losses.LOSS_MODELS`) → its parameters in words."""


def describe_loss_model(params: Mapping) -> str:
    """A loss model's parameters in words (``"constant 98 %"``, ``"95/97/98/97.5 % at 10/20/50/100 % load"``)."""
    describe = _DESCRIPTIONS.get(params.get("kind"))
    return describe(params) if describe else f"kind {params.get('kind')}"


def _stage_text(what: str, name: str, models: Mapping, source: str, rating: str = "") -> str:
    """``what: model (rating); source``; ``name`` is the loss model's name (empty: lossless)."""
    model = describe_loss_model(models[name]) if name else "lossless (no loss model)"
    return f"{what}: {model}" + (f", {rating}" if rating else "") + f"; source: {source}"


def _model_source(name: str, case, o: ArchitectureOptions) -> str:
    """Where the loss model ``name`` comes from: the options' sources, the case, or the AC defaults."""
    given = dict(o.model_sources or {})
    if name in given:
        return given[name]
    if name in dict(o.loss_models or {}):
        return "given in the comparison's options (no source stated)"
    if name in case.loss_model_params:
        return f"the case's loss model '{name}' (see the case file's references)"
    return ac_chain.DEFAULT_SOURCES.get(name, "assumption")


def _provisioning_text(o: ArchitectureOptions, what: str) -> str:
    if o.shelf_provisioning is None:
        return f"{what} rated as the case's shelves (shelf_rated_power_w)"
    n = o.shelf_provisioning
    redundancy = " (N+N)" if n == 2.0 else ""
    return (f"{what} rated {n:g}x the rack's full-load draw{redundancy}, so each runs at "
            f"{100 / n:.0f} % of its rating at full IT load (provisioning: assumption of the comparison)")


def _dc_assumptions(case, t: dict, models: Mapping, o: ArchitectureOptions, wiring: str) -> dict:
    """The stage assumptions of a DC architecture from its tables and loss models."""
    stations = sorted(set(t["source"]["loss_model"].fillna("").astype(str)))
    shelves = sorted(set(t["rack"]["shelf_loss_model"].fillna("").astype(str)))
    return {
        "station": "; ".join(_stage_text("AC/DC station (rectifier or SST)", n, models, _model_source(n, case, o))
                             for n in stations),
        "ups": "none (no double-conversion UPS in a DC chain)",
        "pdu_transformer": "none",
        "distribution": wiring,
        "rack_shelf": "; ".join(_stage_text("rack power shelf", n, models, _model_source(n, case, o),
                                            _provisioning_text(o, "shelves")) for n in shelves),
        "rack_vrm": _vrm_text(t),
    }


def _vrm_text(t: dict) -> str:
    eta = np.unique(t["rack"]["vrm_efficiency"].to_numpy(float))
    return ("voltage regulators " + "/".join(_percent(e) for e in eta) + " %, the same in every architecture "
            "(the case's vrm_efficiency)")


def _shelf_ratings(rack: pd.DataFrame, o: ArchitectureOptions) -> None:
    """Rate every rack's shelves or supplies ``shelf_provisioning`` times its draw at full IT power (in place)."""
    if o.shelf_provisioning is None:
        return
    if not (np.isfinite(o.shelf_provisioning) and o.shelf_provisioning >= 1.0):
        raise CaseError("shelf provisioning out of range", field="shelf_provisioning", value=o.shelf_provisioning,
                        allowed=">= 1 (2 is N+N), or None for the case's shelf ratings")
    rack["shelf_rated_power_w"] = (o.shelf_provisioning * np.maximum(rack["p_it_w"].to_numpy(float), 1.0)
                                   / rack["vrm_efficiency"].to_numpy(float))


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
    out = {name: df.copy() for name, df in t.items()}
    # Every architecture carries the same compute load: the racks' power at the chips, found from the case's
    # own rack chain when it gives the rack input; each architecture's chain then draws what it needs.
    out["rack"]["p_it_w"] = chip_powers(case)
    out["rack"]["p_it_basis"] = "chips"
    return out


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
    feed = ac_chain.RACK_FEEDS.get(o.rack_standard)
    if feed is None:
        raise CaseError("unknown rack standard", field="rack_standard", value=o.rack_standard,
                        allowed="one of " + ", ".join(ac_chain.RACK_FEEDS))
    v_bus_ref = pd.Series(t["bus"]["v_nominal_v"].to_numpy(float), index=t["bus"]["id"].to_numpy())
    line = t["line"]
    r_cond = _resize_lines(line, _line_v_ref(t), 1.0 / (math.sqrt(3.0) * v * pf), 3, o.sizing)
    line["loop_factor"] = ac_chain.per_phase_loop_factor(pf)
    line["r_ohm"] = r_cond * line["loop_factor"].to_numpy(float)
    t["bus"]["v_nominal_v"] = v

    # The lineup of each station: MV/LV transformer → UPS (→ PDU transformer) → the station's bus.
    src = t["source"]
    sid = src["id"].to_numpy().astype(str)
    rated = src["rated_power_w"].to_numpy(float)
    v_set = v * src["v_set_v"].to_numpy(float) / v_bus_ref.reindex(src["bus"].to_numpy()).to_numpy(float)
    lv, ups = np.char.add(sid, ":lv").astype(object), np.char.add(sid, ":ups").astype(object)
    in_service = src["in_service"].to_numpy(bool)
    stage_of = {"ac_ups": "ups", "ac_pdu_transformer": "pdu_transformer"}
    conv = [dict(id=np.char.add(sid, ":ups").astype(object), from_bus=lv,
                 to_bus=ups if o.pdu_transformer else src["bus"].to_numpy(), rated_power_w=rated * o.ups_rating_factor,
                 loss_model="ac_ups")]
    if o.pdu_transformer:
        conv.append(dict(id=np.char.add(sid, ":pdu").astype(object), from_bus=ups, to_bus=src["bus"].to_numpy(),
                         rated_power_w=rated / pf, loss_model="ac_pdu_transformer"))
    last = len(conv) - 1  # the converter at the station's bus holds its set-point and droop
    new_buses = np.concatenate([lv, ups]) if o.pdu_transformer else lv
    t["bus"] = pd.concat([t["bus"], pd.DataFrame({"id": new_buses, "v_nominal_v": v})], ignore_index=True)
    t["converter"] = pd.concat([pd.DataFrame({
        "id": c["id"], "from_bus": c["from_bus"], "to_bus": c["to_bus"],
        "v_set_v": v_set if k == last else np.full(len(src), v),
        "droop": src["droop"].to_numpy(float) if k == last else np.zeros(len(src)),
        "rated_power_w": c["rated_power_w"], "loss_model": c["loss_model"], "in_service": in_service})
        for k, c in enumerate(conv)], ignore_index=True)
    t["source"] = pd.DataFrame({"id": src["id"].to_numpy(), "bus": lv, "kind": "transformer", "v_set_v": v,
                                "droop": 0.0, "rated_power_w": rated / pf, "loss_model": "ac_mv_transformer",
                                "in_service": in_service})
    rack = t["rack"]
    rack["shelf_loss_model"] = "ac_psu"
    _shelf_ratings(rack, o)
    if rack["shelf_rated_power_w"].isna().any():
        i = int(np.flatnonzero(rack["shelf_rated_power_w"].isna().to_numpy())[0])
        raise CaseError("the AC architecture needs each rack's shelf rating for its power supplies (or "
                        "shelf_provisioning)", file=case.file, element=f"rack '{rack['id'].iloc[i]}'",
                        field="shelf_rated_power_w")
    overrides = {k: m for k, m in dict(o.loss_models or {}).items() if k in DEFAULT_AC_LOSS_MODELS}
    models = {**_with_pf(DEFAULT_AC_LOSS_MODELS, pf), **dict(case.loss_model_params), **overrides}
    built = _make(t, models, case, "ac")
    stage = {cid: stage_of[c["loss_model"]] for c in conv for cid in c["id"].tolist()}
    neutral = o.ac_neutral_fraction if feed.neutral else 0.0
    src_of = {n: _model_source(n, case, o) for n in DEFAULT_AC_LOSS_MODELS}
    wiring = (f"{v:g} V three-phase, per-phase equivalent at cos phi {pf:g}; rack standard '{o.rack_standard}': "
              f"{feed.wiring}" + (f", neutral {neutral:g}x the phase section" if feed.neutral else "")
              + f"; sections by the {o.sizing} rule; source: {feed.source}")
    assumptions = {
        "station": _stage_text("MV/LV transformer", "ac_mv_transformer", models, src_of["ac_mv_transformer"],
                               "rated as the DC station it replaces"),
        "ups": _stage_text("double-conversion UPS", "ac_ups", models, src_of["ac_ups"],
                           f"rated {o.ups_rating_factor:g}x the station (assumption)"),
        "pdu_transformer": (_stage_text("PDU transformer", "ac_pdu_transformer", models, src_of["ac_pdu_transformer"],
                                        "rated as the station") if o.pdu_transformer else
                            f"none: the racks are fed at the {v:g} V of the LV switchboard (pdu_transformer false)"),
        "distribution": wiring,
        "rack_shelf": _stage_text("server power supplies", "ac_psu", models, src_of["ac_psu"],
                                  _provisioning_text(o, "supplies")),
        "rack_vrm": _vrm_text(t),
    }
    return Architecture("ac", built, stage, np.full(len(line), 3.0 + neutral), 3, assumptions)


def _with_pf(models: dict, pf: float) -> dict:
    """Default loss models with the transformers' power factor set to the architecture's."""
    return {k: ({**m, "power_factor": pf} if m["kind"] == "transformer" else dict(m)) for k, m in models.items()}


def _dc_tables(case, v_new: float, k_new: float, o: ArchitectureOptions) -> tuple[dict, dict]:
    """The case's tables at ``v_new`` with lines resized, shelves provisioned and the options' DC models applied;
    and the loss models they use."""
    t = _reference(case)
    v_bus_ref = pd.Series(t["bus"]["v_nominal_v"].to_numpy(float), index=t["bus"]["id"].to_numpy())
    line = t["line"]
    r_cond = _resize_lines(line, _line_v_ref(t), k_new, 2, o.sizing)
    line["r_ohm"] = r_cond * line["loop_factor"].to_numpy(float)
    src = t["source"]
    src["v_set_v"] = v_new * src["v_set_v"].to_numpy(float) / v_bus_ref.reindex(src["bus"].to_numpy()).to_numpy(float)
    t["bus"]["v_nominal_v"] = v_new
    _shelf_ratings(t["rack"], o)
    models = dict(case.loss_model_params)
    given = dict(o.loss_models or {})
    for key, table, col in (("dc_station", "source", "loss_model"), ("dc_shelf", "rack", "shelf_loss_model")):
        if key in given:
            models[key] = given[key]
            t[table][col] = key
    return t, models


def _dc_wiring(v: float, conductors: str, o: ArchitectureOptions) -> str:
    return f"{v:g} V DC, {conductors}; sections by the {o.sizing} rule from the case's design"


def _to_dc800(case, o: ArchitectureOptions) -> Architecture:
    t, models = _dc_tables(case, o.dc_v_v, 1.0 / o.dc_v_v, o)
    built = _make(t, models, case, "dc800")
    return Architecture("dc800", built, {}, np.full(len(t["line"]), 2.0), 2,
                        _dc_assumptions(case, t, built.loss_model_params, o,
                                        _dc_wiring(o.dc_v_v, "two conductors (monopolar)", o)))


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
    t, models = _dc_tables(case, vp, k_new, o)
    t["rack"]["pole"] = o.rack_pole
    # Neutral of the pole's section unless the case gave one (the bipolar schema's default).
    neutral = t["line"].get("neutral_cross_section_m2")
    pole_section = t["line"]["cross_section_m2"].to_numpy(float)
    ratio = np.ones(len(t["line"])) if neutral is None else np.where(
        np.isnan(neutral.to_numpy(float)), 1.0, neutral.to_numpy(float) / pole_section)
    built = _make(t, models, case, "dc400", dc={"system": "bipolar"})
    wiring = _dc_wiring(2 * vp, f"two poles of ±{vp:g} V and a neutral (racks {o.rack_pole})", o)
    return Architecture("dc400", built, {}, 2.0 + ratio, 2, _dc_assumptions(case, t, built.loss_model_params, o,
                                                                            wiring))


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


# --- presets ---------------------------------------------------------------------------------------

def _constant(eta: float) -> dict:
    return {"kind": "constant_efficiency", "efficiency": float(eta)}


@dataclass(frozen=True)
class Preset:
    """A named comparison setting that reproduces a published AC-versus-DC figure.

    Attributes
    ----------
    description : str
        What the setting is, in one line.
    source : str
        The publication whose setting and result it reproduces.
    published : str
        What that publication found (the figure the preset should land near).
    architectures : tuple of str
        The architectures it compares, baseline first.
    options : ArchitectureOptions
        The transform's options (loss models with their sources).
    """

    description: str
    source: str
    published: str
    architectures: tuple
    options: ArchitectureOptions


_LBNL_ETA = {"mv_transformer": 0.994, "ups": 0.945, "pdu_transformer": 0.989, "psu_ac": 0.915}
_LBNL_DC_PSU = 1.0 - (1.0 - _LBNL_ETA["psu_ac"]) * (1.0 - 0.2)  # 20 % less loss than the AC supply: 93.2 %
_LBNL_RECTIFIER = math.sqrt(_LBNL_ETA["ups"])  # the rectifier half of the same double conversion: 97.21 %
_APC = ("N. Rasmussen, J. Spitaels, 'A Quantitative Comparison of High Efficiency AC vs. DC Power Distribution "
        "for Data Centers', APC White Paper 127 (secondary, its reading of the demonstration)")
_SHELF_800_50 = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
                 "efficiency": [0.95, 0.97, 0.98, 0.975]}

PRESETS = {
    "lbnl2008": Preset(
        description="380 VDC against best-practice AC at the stage efficiencies of the 2008 demonstration",
        source="M. Ton, B. Fortenbery, W. Tschudi, 'DC Power for Improved Data Center Efficiency', Lawrence "
               "Berkeley National Laboratory / EPRI / Ecos Consulting, March 2008",
        published="DC saved 5-7 % of the energy drawn against best-practice AC (28 % against typical AC, "
                  "which this preset does not reproduce)",
        architectures=("ac", "dc800"),
        options=ArchitectureOptions(
            dc_v_v=380.0, pdu_transformer=True, rack_standard="19inch",
            loss_models={"ac_mv_transformer": _constant(_LBNL_ETA["mv_transformer"]),
                         "ac_ups": _constant(_LBNL_ETA["ups"]),
                         "ac_pdu_transformer": _constant(_LBNL_ETA["pdu_transformer"]),
                         "ac_psu": _constant(_LBNL_ETA["psu_ac"]),
                         "dc_station": _constant(_LBNL_ETA["mv_transformer"] * _LBNL_RECTIFIER),
                         "dc_shelf": _constant(_LBNL_DC_PSU)},
            model_sources={
                "ac_mv_transformer": "MV distribution transformer 99.2-99.5 % (US DOE 10 CFR 431.196, unverified): "
                                     "midpoint 99.4 %",
                "ac_ups": "modern double-conversion UPS at 25 % load, each UPS of a 2N system: 94-95 % (vendor "
                          "datasheets, unverified): 94.5 %",
                "ac_pdu_transformer": "assumption: about the US DOE 2016 minimum for 150-225 kVA dry-type units at "
                                      "35 % load (10 CFR 431.196, not checked): 98.9 %",
                "ac_psu": "best-case server power supply of 2008, 91.5 % (" + _APC + ")",
                "dc_station": "MV transformer 99.4 % times a rectifier of sqrt(94.5 %) = 97.21 % (the rectifier "
                              "half of the same double conversion, both halves taken to lose equally: derived)",
                "dc_shelf": "DC-input power supply with 20 % less loss than the AC one, 93.2 % (" + _APC + ")"}),
    ),
    "nvidia800vdc": Preset(
        description="800 VDC (SST stations, 800 V -> 50 V shelves) against 415 VAC with PDU transformers and "
                    "N+N three-phase power shelves",
        source="NVIDIA technical blog (May 2025) and white paper '800 VDC Architecture for Next-Generation AI "
               "Infrastructure' (NVIDIA, October 2025)",
        published="up to 5 % better end-to-end efficiency, about 45 % less copper",
        architectures=("ac", "dc800"),
        options=ArchitectureOptions(
            dc_v_v=800.0, pdu_transformer=True, rack_standard="orv3", shelf_provisioning=2.0,
            loss_models={"dc_station": _constant(0.98), "dc_shelf": _SHELF_800_50},
            model_sources={
                "dc_station": "solid-state transformer 97.5-98.5 % (J. W. Kolar, J. E. Huber, solid-state "
                              "transformer tutorial, IEEE APEC 2023; unverified): 98 %",
                "dc_shelf": "800 V -> 50 V GaN LLC converter 98 % at half load (Renesas conference talk, checked); "
                            "the part-load shape 95/97/98/97.5 % is an assumption"}),
    ),
}
"""Named comparison settings (``gigawatt compare --preset NAME``), each reproducing a published AC-versus-DC
figure; every stage model carries its source."""


def preset_options(name: str | None, **changes) -> ArchitectureOptions:
    """The options of preset ``name`` (None: the defaults) with single fields replaced by ``changes``."""
    if name is None:
        base = ArchitectureOptions()
    elif name in PRESETS:
        base = PRESETS[name].options
    else:
        raise CaseError("unknown comparison preset", field="preset", value=name, allowed="one of " + ", ".join(PRESETS))
    return _with_changes(base, changes)


def _with_changes(options: ArchitectureOptions, changes: dict) -> ArchitectureOptions:
    try:
        return replace(options, **changes)
    except TypeError as err:
        raise CaseError(f"unknown architecture option: {err}", field="options",
                        allowed=", ".join(ArchitectureOptions.__dataclass_fields__)) from None


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
    return transform(case, _with_changes(options or ArchitectureOptions(), changes))


def with_architecture(case, name: str, **options):
    """The case turned into architecture ``name`` on the same IT load (a new :class:`~gigawatt.Case`).

    >>> import gigawatt as gw
    >>> case = gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, shelf_rated_power_kw=300)
    >>> ac = gw.with_architecture(case, "ac")
    >>> sorted(set(ac.tables["converter"]["loss_model"]))
    ['ac_ups']
    >>> sorted(set(gw.with_architecture(case, "ac", pdu_transformer=True).tables["converter"]["loss_model"]))
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
