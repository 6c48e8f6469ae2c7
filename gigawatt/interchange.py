"""Interchange with the tool district-heating engineers already use: a pandapipes heat network as a gigawatt
case.

:func:`from_pandapipes` reads a ``pandapipesNet`` [1]_ (its element tables only: the object is not changed
and pandapipes is not imported) and writes the ``dh_node``, ``dh_pipe`` and ``dh_consumer`` tables and the
``[district_heating]`` settings of a :class:`gigawatt.Case`. Every element either converts to the same
physics or is named in one :class:`gigawatt.CaseError` that lists all of them with the reason; nothing is
dropped silently. Elements out of service are left out and named in the case's ``description``.

What converts (SI units; pandapipes' bar, km and mm are converted here):

============================ ===================================================================
pandapipes                   gigawatt
============================ ===================================================================
junction                     ``dh_node``; heights only shift pressures (gigawatt's nodes have no
                             elevation): by ρ g (h − h_plant) and the atmosphere's change over it,
                             stated in the case's description
                             (:func:`hydrostatic_offsets_m`); refused only where they would drive a
                             flow (the plant's two junctions at different heights joined by pipes)
pipe                         ``dh_pipe``: length, inner diameter, ``k_mm`` → roughness (scaled by
                             3.7/3.71, see :data:`COLEBROOK_PANDAPIPES`), ``loss_coefficient`` →
                             ``k_minor``, ``u_w_per_m2k`` → ``u_w_per_m_k`` = u·π·(outer diameter,
                             or the inner one where none is given: what pandapipes multiplies by),
                             ``in_service``; ``sections`` only discretise the same exponential
                             solution (no effect in steady state). ``text_k``: one ground temperature.
pipe of length 0             as a valve: a ``dh_pipe`` of :data:`VALVE_LENGTH_M`, no roughness, no heat
                             loss, its ``loss_coefficient`` (what pandapipes computes for it); its
                             junctions are kept, not merged, so each keeps its results
valve between two junctions  a ``dh_pipe`` of :data:`VALVE_LENGTH_M`, no roughness, no heat loss,
                             ``k_minor`` = its loss coefficient on its diameter; closed: out of service
heat_exchanger, qext_w = 0   as a valve
ext_grid ('pt')              the plant: ``supply_node``, ``p_supply_pa``, ``t_supply_k``; a second,
                             pressure-only ext_grid is the plant's ``return_node`` (``p_return_pa``)
circ_pump_pressure           the plant: flow junction → ``supply_node`` at ``p_flow_bar`` and
                             ``t_flow_k``, return junction → ``return_node`` at p_flow − plift
sink                         a ``mass_flow`` consumer (``mdot × scaling``) returning to the plant's
                             return node (a node ``plant return`` is added when the net has none:
                             an open network; it is held at the supply pressure, so no pump work)
heat_consumer qext + treturn a ``fixed`` consumer: ``demand_w`` = qext, ``t_return_k`` = treturn
heat_consumer qext + deltat  a ``fixed`` consumer with ``t_return_k`` = t_supply − deltat, only where
                             that is exact: water reaches it at the plant's supply temperature
                             (adiabatic supply network that no return flows into)
heat_consumer mdot, no heat  a ``mass_flow`` consumer from its from- to its to-junction
heat_consumer mdot + qext    a ``mass_flow`` consumer taking out ``demand_w`` = qext at its flow
heat_exchanger, qext_w > 0,  a ``mass_flow`` consumer: the sink's flow (``mdot × scaling``) and the
then a sink                  exchanger's heat, from the exchanger's inlet to the plant's return node,
                             where the junction between them joins nothing else (the sink holds the
                             exchanger's flow); that junction is left out, the consumer has the sink's id
flow_control in series with  a ``mass_flow`` consumer (``controlled_mdot``, ``demand_w`` = the
one heat_exchanger           exchanger's qext) from the first one's inlet to the second one's
                             outlet, where the junction between them joins nothing else (the
                             classic pandapipes substation); that junction is left out
============================ ===================================================================

What does not convert, and why, is in :data:`NOT_CONVERTIBLE` (element tables) and in the checks below
(per element).

Physics the two tools do not share, which no conversion can remove:

- **Fluid properties.** gigawatt takes the network fluid's properties from its own tables (CoolProp) at
  one temperature, the mean of the plant's supply and the consumers' return temperatures, for the whole
  network; pandapipes evaluates its fluid's (temperature-dependent for its ``water``, constant for a
  fluid made with ``create_constant_fluid``) at each node. A liquid converts as gigawatt's ``water`` when
  its density, viscosity (and heat capacity, if the network exchanges heat) at the supply temperature lie
  within water's range (:data:`WATER_RANGE`; at most at :data:`PANDAPIPES_WATER_T_MAX_K`, where pandapipes'
  water tables end); a mass_flow consumer's ``t_return_k`` (which its model does not use) is set to the
  supply temperature so that it does not move that mean. Above 100 °C the case solves where the pressure its
  plant holds keeps the supply water liquid (:func:`gigawatt.models.coolant_store.stored_table`).
- **Heights.** pandapipes' junction pressures are gauge to the local atmosphere, which falls with height by
  the barometric formula (about 12 Pa per metre), and include the water's weight; gigawatt's nodes have no
  height. Where heights cannot drive a flow (every consumer holds its flow), they change the pressures
  only: gigawatt's is pandapipes' plus ρ g (h − h_plant) plus the atmosphere's change between the two
  heights (:func:`hydrostatic_offsets_m` gives h − h_plant).
- **Friction.** gigawatt uses Colebrook's equation above Reynolds 4000, the laminar 64/Re below 2300 and a
  blend between; pandapipes' ``colebrook`` model uses Colebrook at every Reynolds number, and its default
  model is Nikuradse's. The conversion keeps the roughness Colebrook sees; a net whose
  ``user_pf_options`` name another friction model is refused.

References
----------
.. [1] D. Lohmeier, D. Cronbach, S. R. Drauz, M. Braun, T. M. Kneiske, "Pandapipes: An Open-Source
   Piping Grid Calculation Package for Multi-Energy Grid Simulations", Sustainability 12(23), 9899
   (2020). doi:10.3390/su12239899
.. [2] C. F. Colebrook, "Turbulent flow in pipes, with particular reference to the transition region
   between the smooth and rough pipe laws", J. Inst. Civil Eng. 11(4), 133-156 (1939).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError

COLEBROOK_PANDAPIPES = 3.71
"""Denominator of the roughness term in pandapipes' Colebrook equation, ``k/(3.71 d)``
(``pandapipes.pf.derivative_toolbox.colebrook_np``); Colebrook (1939) [2]_ and gigawatt have 3.7. Roughness
enters only through that ratio, so gigawatt's roughness is ``k × 3.7/3.71``: the same friction factor."""
COLEBROOK_GIGAWATT = 3.7
VALVE_LENGTH_M = 1e-6
"""Length of the pipe an open valve becomes [m]. pandapipes' valve has only its loss coefficient K on its
diameter's dynamic pressure; the pipe adds friction f L/D on the same dynamic pressure: for a valve of 25 mm or
more, below 2e-6 of it when turbulent (smooth Colebrook f < 0.04 above Re 4000) and below 3e-5 down to Re 100
(laminar f = 64/Re): a millipascal at 2 m/s."""
PLANT_RETURN_ID = "plant return"
"""Id of the node added as the plant's return node when the net has none (an open network of sinks)."""
PANDAPIPES_AMBIENT_K = 293.15
"""pandapipes' default ``ambient_temperature`` option [K], used where a pipe's ``text_k`` is not given."""
WATER_RANGE = {"density": (900.0, 1005.0), "viscosity": (1.7e-4, 1.85e-3), "heat_capacity": (4150.0, 4350.0)}
"""Ranges of liquid water's density [kg/m^3], viscosity [Pa s] and heat capacity [J/(kg K)] between 273.16
and 423.15 K (IAPWS-95 via CoolProp: 917-1000, 1.8e-4-1.79e-3, 4180-4310), with a small margin: a
pandapipes liquid inside them converts as gigawatt's ``water``."""
PANDAPIPES_WATER_T_MAX_K = 368.0
"""Last temperature of pandapipes' water property tables [K] (``pandapipes/properties/water``); above it
pandapipes extrapolates them linearly (its viscosity at 413 K, 1.3e-4 Pa s, is below water's 1.9e-4). A
fluid is checked against :data:`WATER_RANGE` at the supply temperature or this, whichever is lower; the
converted case takes gigawatt's own water, tabulated to 423.15 K and liquid at the pressure its plant holds."""
SUPPLY_TEMPERATURE_TYPES = ("t", "pt", "tp")
PRESSURE_TYPES = ("p", "pt", "tp")

NOT_CONVERTIBLE = {
    "source": "feeds water into a junction; gigawatt's network is fed only by its plant, and a pandapipes "
              "source carries no temperature of its own",
    "pump": "a booster pump on a pandapipes std_type curve (lift in bar against m3/h); give it to gigawatt as a "
            "dh_pump row with its head curve H0, a, b in metres",
    "circ_pump_mass": "holds the plant's mass flow; gigawatt's plant holds pressures (a circ_pump_pressure "
                      "converts)",
    "press_control": "a branch that holds a pressure downstream; gigawatt has no pressure-control branch",
    "compressor": "a gas compressor; gigawatt's district-heating network is liquid",
    "mass_storage": "stores mass over time; gigawatt solves the steady state",
}
"""Element tables that never convert, with the reason each listed element gives."""

_CONVERTED = ("junction", "pipe", "valve", "heat_exchanger", "ext_grid", "circ_pump_pressure", "sink",
              "heat_consumer", "flow_control")


@dataclass(frozen=True)
class Problem:
    """One pandapipes element that does not convert: its table, index, name and why."""

    table: str
    index: object
    name: object
    reason: str

    def label(self) -> str:
        named = isinstance(self.name, str) and self.name != ""
        return f"{self.table} {self.index}" + (f" ('{self.name}')" if named else "")


def from_pandapipes(net, *, name: str | None = None):
    """A pandapipes heat network as a gigawatt district-heating case (see the module notes for the
    mapping).

    Parameters
    ----------
    net : pandapipes.pandapipesNet
        The network; only its element tables, fluid and ``user_pf_options`` are read (it is not changed).
    name : str, optional
        The case's name; default: the net's name, or ``"from pandapipes"``.

    Returns
    -------
    gigawatt.Case
        A case with the ``dh_node``, ``dh_pipe`` and ``dh_consumer`` tables and ``[district_heating]``
        settings; its ``description`` says where it came from and which elements were out of service.
        Ids are the pandapipes names where a table's names are all present and distinct, else
        ``"<table> <index>"`` (:func:`pandapipes_ids`).

    Raises
    ------
    gigawatt.CaseError
        Listing every element that does not convert, with the reason (also as ``err.problems``, a list of
        :class:`Problem`); or, after conversion, a value outside the case schema's bounds.

    Examples
    --------
    >>> import pandapipes as pps
    >>> import gigawatt as gw
    >>> net = pps.create_empty_network(fluid="water")
    >>> j = [pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15) for _ in range(2)]
    >>> _ = pps.create_ext_grid(net, j[0], p_bar=5.0, t_k=353.15)
    >>> _ = pps.create_pipe_from_parameters(net, j[0], j[1], length_km=0.2, inner_diameter_mm=100.0,
    ...                                     k_mm=0.1, u_w_per_m2k=1.0, text_k=283.15)
    >>> _ = pps.create_sink(net, j[1], mdot_kg_per_s=2.0)
    >>> case = gw.from_pandapipes(net, name="one pipe")
    >>> case.settings["district_heating"]["p_supply_pa"], float(case.tables["dh_pipe"]["length_m"].iloc[0])
    (500000.0, 200.0)
    """
    import gigawatt as gw

    problems: list[Problem] = []
    tables = _element_tables(net)
    omitted: list[str] = []
    for table, df in tables.items():
        if table in _CONVERTED:
            continue
        reason = NOT_CONVERTIBLE.get(table, "an element gigawatt's district-heating network does not have")
        problems += [Problem(table, i, _name(df, i), reason) for i in _live_rows(table, df, omitted)]

    ids = pandapipes_ids(net)
    junctions = tables.get("junction", pd.DataFrame())
    node_id = ids["junction"]
    _check_junctions(junctions, problems)

    plant = _plant(tables, node_id, problems)
    heights = _check_heights(tables, plant, problems)
    t_supply = plant.get("t_supply_k", math.nan)
    _check_fluid(net, tables, t_supply, problems)
    _check_friction_model(net, problems)

    substations, used_exchangers, inner = _controlled_substations(tables, node_id, ids["flow_control"], plant,
                                                                   problems, omitted)
    sink_pairs = _sink_exchangers(tables)
    used_exchangers |= {k for k, _, _ in sink_pairs}
    inner |= {b for _, _, b in sink_pairs}
    pipes, ground_t_k = _pipes(tables.get("pipe"), node_id, ids["pipe"], net, problems)
    pipes += _valves(tables.get("valve"), node_id, ids["valve"], problems, omitted)
    exchangers = tables.get("heat_exchanger")
    pipes += _zero_heat_exchangers(None if exchangers is None else exchangers.drop(index=list(used_exchangers)),
                                   node_id, ids["heat_exchanger"], problems, omitted)

    nodes = [{"id": node_id[i]} for i in junctions.index if i not in inner]
    if plant.get("return_node") is None:
        if PLANT_RETURN_ID in set(node_id.values):
            problems.append(Problem("junction", "-", PLANT_RETURN_ID, "its name is the id of the plant return "
                                    "node the conversion adds to this open network; rename it"))
        nodes.append({"id": PLANT_RETURN_ID})
        plant["return_node"] = PLANT_RETURN_ID
        plant["p_return_pa"] = plant.get("p_supply_pa", math.nan)

    sinks = tables.get("sink")
    consumers = _sinks(None if sinks is None else sinks.drop(index=[i for _, i, _ in sink_pairs]), node_id,
                       ids["sink"], plant, problems, omitted)
    hx = tables.get("heat_exchanger")
    consumers += [_mass_flow(ids["sink"][i], node_id[hx.at[k, "from_junction"]], plant.get("return_node"),
                             _float(sinks, i, "mdot_kg_per_s", 0.0) * _float(sinks, i, "scaling", 1.0),
                             plant.get("t_supply_k"), _float(hx, k, "qext_w")) for k, i, _ in sink_pairs]
    consumers += _heat_consumers(tables, node_id, ids["heat_consumer"], plant, problems, omitted)
    consumers += substations

    if problems:
        raise _not_convertible(net, problems)

    settings = {"supply_node": plant["supply_node"], "return_node": plant["return_node"],
                "t_supply_k": plant["t_supply_k"], "p_supply_pa": plant["p_supply_pa"],
                "p_return_pa": plant["p_return_pa"], "ground_t_k": ground_t_k, "fluid": "water"}
    net_name = _net_name(net)
    description = f"Converted from the pandapipes net {net_name!r} by gigawatt.from_pandapipes."
    if omitted:
        description += " Out of service there, left out: " + ", ".join(omitted) + "."
    if heights:
        description += " " + heights
    return gw.make_case({"dh_node": nodes, "dh_pipe": pipes, "dh_consumer": consumers},
                        case={"name": name or net_name or "from pandapipes", "description": description},
                        district_heating=settings)


def pandapipes_ids(net) -> dict[str, pd.Series]:
    """The gigawatt id of every element of the converted tables, by table: ``{table: Series index → id}``.

    A table's ids are its names when every name is a non-empty string and no two are equal (and no
    sink shares a heat consumer's name: both become ``dh_consumer`` rows; pipes, valves and heat
    exchangers likewise become ``dh_pipe`` rows); otherwise ``"<table> <index>"`` for every row of it.
    """
    tables = _element_tables(net)
    out = {}
    groups = (("junction",), ("pipe", "valve", "heat_exchanger"), ("sink", "heat_consumer", "flow_control"))
    for group in groups:
        frames = {t: tables.get(t, pd.DataFrame(columns=["name"])) for t in group}
        names = {t: df["name"] if "name" in df else pd.Series([None] * len(df), index=df.index)
                 for t, df in frames.items()}
        pooled = pd.concat(list(names.values())) if any(len(n) for n in names.values()) else pd.Series([], dtype=object)
        all_named = pooled.map(lambda v: isinstance(v, str) and v != "").all() and not pooled.duplicated().any()
        for t in group:
            idx = frames[t].index
            out[t] = (names[t].astype(object) if all_named and len(idx) else
                      pd.Series([f"{t} {i}" for i in idx], index=idx, dtype=object))
    return out


# --- reading the net -------------------------------------------------------------------------------


def _element_tables(net) -> dict[str, pd.DataFrame]:
    """The net's non-empty element tables, by table name (from its component list)."""
    names = [c.table_name() for c in getattr(net, "component_list", [])]
    out = {}
    for t in names:
        df = net[t] if t in net else None
        if isinstance(df, pd.DataFrame) and len(df):
            out[t] = df
    return out


def _in_service(df: pd.DataFrame) -> np.ndarray:
    if "in_service" not in df:
        return np.ones(len(df), dtype=bool)
    values = df["in_service"].to_numpy(object)
    return np.where(pd.isna(values), True, values).astype(bool)  # not given: in service


def _live_rows(table: str, df, omitted: list[str]):
    """The index of each in-service row of ``df``; rows out of service are named in ``omitted``."""
    live = _in_service(df)
    omitted += [_label(table, i, df) for i in df.index[~live]]
    return df.index[live]


def _name(df, i):
    return df.at[i, "name"] if "name" in df else None


def _label(table, i, df) -> str:
    return Problem(table, i, _name(df, i), "").label()


def _net_name(net) -> str:
    n = net["name"] if "name" in net else ""
    return n if isinstance(n, str) else ""


def _float(df, i, col, default=math.nan) -> float:
    if col not in df:
        return default
    v = df.at[i, col]
    return default if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _not_convertible(net, problems: list[Problem]) -> CaseError:
    """One error listing every element, grouped by reason (in order of first appearance)."""
    by_reason: dict[str, list[str]] = {}
    for p in problems:
        by_reason.setdefault(p.reason, []).append(p.label())
    lines = [f"- {', '.join(labels)}: {reason}" for reason, labels in by_reason.items()]
    err = CaseError(f"{len(problems)} element(s) of the pandapipes net cannot be converted:\n" + "\n".join(lines),
                    element=f"pandapipes net {_net_name(net)!r}")
    err.problems = problems
    return err


# --- checks ----------------------------------------------------------------------------------------


def _check_junctions(junctions: pd.DataFrame, problems: list[Problem]) -> None:
    """Junctions in service (heights: :func:`_check_heights`, once the plant is known)."""
    if not len(junctions):
        problems.append(Problem("junction", "-", None, "the net has no junctions"))
        return
    for i in junctions.index[~_in_service(junctions)]:
        problems.append(Problem("junction", i, _name(junctions, i), "out of service: gigawatt's nodes have no "
                                "in_service; take it and its elements out of the net"))


def _heights(junctions: pd.DataFrame) -> pd.Series:
    """Each junction's height [m] (0 where none is given)."""
    if "height_m" not in junctions:
        return pd.Series(0.0, index=junctions.index)
    return junctions["height_m"].fillna(0.0).astype(float)


def _check_heights(tables, plant: dict, problems: list[Problem]) -> str:
    """Heights change pressures, not flows, unless they act between the plant's two held pressures.

    Every consumer of the converted case holds its own flow, so the pipe network splits into the parts joined
    to the plant's supply node and to its return node by pipes, valves and exchangers alone: in each, the flows
    follow from the consumers' draws, and around a loop the heights cancel; gigawatt's pressures are then
    pandapipes' plus ρ g (h − h_plant) and the atmosphere's change over that height (module notes,
    :func:`hydrostatic_offsets_m`). Only where one part holds both
    plant nodes at different heights would a height difference drive a flow: that is refused. Returns the
    sentence for the case's description ('' when the net is flat)."""
    junctions = tables.get("junction", pd.DataFrame())
    if not len(junctions):
        return ""
    h = _heights(junctions)
    if h.nunique() <= 1:
        return ""
    sup, ret = plant.get("supply_node_index"), plant.get("return_node_index")
    comp = _component(tables)
    if sup is not None and ret is not None and h[sup] != h[ret] and comp[sup] == comp[ret]:
        for i, end in ((sup, "supply"), (ret, "return")):
            problems.append(Problem("junction", i, _name(junctions, i), f"the plant's {end} junction, at {h[i]:g} m, "
                                    f"joined to the other one ({h[ret if end == 'supply' else sup]:g} m) by pipes: "
                                    "the height difference between the two pressures the plant holds would drive "
                                    "a flow, which gigawatt's nodes, without elevation, cannot"))
        return ""
    offsets = _offsets(tables, plant)
    return (f"Junction heights {h.min():g} to {h.max():g} m: gigawatt's nodes have none, so its pressures are "
            f"pandapipes' (gauge to the local atmosphere) plus rho g (h - h_plant) and the atmosphere's change over "
            f"that height, h_plant the height of the plant junction the node is joined to by pipes (h - h_plant "
            f"{offsets.min():+.3g} to {offsets.max():+.3g} m: gigawatt.interchange.hydrostatic_offsets_m); flows "
            "and temperatures are unchanged.")


def _branch_edges(tables) -> list[tuple]:
    """(a, b) junctions of every in-service pipe, open valve and heat exchanger: what carries water between
    junctions without holding its flow."""
    edges = []
    for table, ends in (("pipe", ("from_junction", "to_junction")), ("valve", ("junction", "element")),
                        ("heat_exchanger", ("from_junction", "to_junction"))):
        df = tables.get(table)
        if df is None:
            continue
        live = _in_service(df)
        if table == "valve":
            live &= df["opened"].to_numpy(bool) if "opened" in df else True
            live &= (df["et"].astype(str) == "ju").to_numpy() if "et" in df else True
        edges += list(zip(df[ends[0]].to_numpy()[live], df[ends[1]].to_numpy()[live]))
    return edges


def _component(tables) -> dict:
    """Junction index -> the label of its part of the net joined by :func:`_branch_edges` (union-find)."""
    junctions = tables.get("junction", pd.DataFrame())
    parent = {j: j for j in junctions.index}

    def root(j):
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j
    for a, b in _branch_edges(tables):
        if a in parent and b in parent:
            parent[root(a)] = root(b)
    return {j: root(j) for j in parent}


def hydrostatic_offsets_m(net) -> pd.Series:
    """Height of each junction of a pandapipes net above the plant junction of its part of the net [m] (by
    junction index): gigawatt's pressure at a converted junction is pandapipes' plus ρ g times this (ρ the
    converted case's water density) plus the change of the atmosphere's pressure over it (module notes)."""
    tables = _element_tables(net)
    return _offsets(tables, _plant(tables, pandapipes_ids(net)["junction"], []))


def _offsets(tables, plant: dict) -> pd.Series:
    """:func:`hydrostatic_offsets_m` from the net's tables and its plant: a part of the net that holds no plant
    junction (an open net's sinks return to the plant return node the conversion adds) refers to the supply
    junction."""
    h = _heights(tables["junction"])
    comp = _component(tables)
    sup = plant.get("supply_node_index")
    ref = {comp[j]: h[j] for j in (plant.get("return_node_index"), sup) if j is not None and j in comp}
    default = h[sup] if sup is not None else 0.0
    return pd.Series({j: h[j] - ref.get(comp[j], default) for j in h.index}, dtype=float)


def _check_fluid(net, tables, t_supply_k: float, problems: list[Problem]) -> None:
    """A liquid within water's property ranges at the supply temperature; heat capacity checked only if
    the network exchanges heat (pipes losing heat or heat consumers)."""
    fluid = net["fluid"] if "fluid" in net else None
    fname = getattr(fluid, "name", None)
    if fluid is None:
        problems.append(Problem("fluid", "-", None, "the net has no fluid"))
        return
    if getattr(fluid, "is_gas", False):
        problems.append(Problem("fluid", "-", fname, "a gas; gigawatt's district-heating network carries water"))
        return
    if not math.isfinite(t_supply_k):
        return  # the plant problem is reported already
    pipes = tables.get("pipe")
    heat = "heat_consumer" in tables or (pipes is not None and "u_w_per_m2k" in pipes
                                         and (pipes["u_w_per_m2k"].fillna(0.0) > 0).any())
    props = ("density", "viscosity") + (("heat_capacity",) if heat else ())
    t_check = min(t_supply_k, PANDAPIPES_WATER_T_MAX_K)
    for prop in props:
        try:
            value = float(np.asarray(fluid.get_property(prop, t_check)).ravel()[0])
        except Exception as err:  # noqa: BLE001 - a fluid without the property is reported, not raised
            problems.append(Problem("fluid", "-", fname, f"its {prop} cannot be read ({err})"))
            continue
        lo, hi = WATER_RANGE[prop]
        if not lo <= value <= hi:
            problems.append(Problem("fluid", "-", fname, f"{prop} {value:.4g} at {t_check:.2f} K is outside "
                                    f"water's range [{lo:g}, {hi:g}]: gigawatt converts only water"))


def _check_friction_model(net, problems: list[Problem]) -> None:
    opts = net["user_pf_options"] if "user_pf_options" in net else {}
    model = (opts or {}).get("friction_model")
    if model is not None and str(model).lower() != "colebrook":
        problems.append(Problem("user_pf_options", "friction_model", None,
                                f"'{model}': gigawatt's friction law is Colebrook's; remove the option to "
                                "convert with it"))


# --- the plant ------------------------------------------------------------------------------------


def _types(df) -> np.ndarray:
    return df["type"].astype(str).str.lower().to_numpy() if "type" in df else np.full(len(df), "pt")


def _plant(tables, node_id: pd.Series, problems: list[Problem]) -> dict:
    """Supply node, temperature and pressures from one circ_pump_pressure or from ext_grids."""
    eg = tables.get("ext_grid", pd.DataFrame())
    cp = tables.get("circ_pump_pressure", pd.DataFrame())
    eg_live = eg[_in_service(eg)] if len(eg) else eg
    cp_live = cp[_in_service(cp)] if len(cp) else cp
    plant: dict = {}
    if len(cp_live) > 1 or (len(cp_live) and len(eg_live)):
        for t, df in (("circ_pump_pressure", cp_live), ("ext_grid", eg_live)):
            problems += [Problem(t, i, _name(df, i), "gigawatt's network has one plant (one supply node); this "
                                 "net is fed at several points") for i in df.index]
        return plant
    if len(cp_live) == 1:
        i = cp_live.index[0]
        typ = _types(cp_live)[0]
        t_flow, p_flow, lift = (_float(cp_live, i, c) for c in ("t_flow_k", "p_flow_bar", "plift_bar"))
        if typ not in SUPPLY_TEMPERATURE_TYPES or not math.isfinite(t_flow):
            problems.append(Problem("circ_pump_pressure", i, _name(cp_live, i), "holds no flow temperature "
                                    "(t_flow_k): gigawatt's plant holds the supply temperature"))
        if "control_dp" in cp_live and bool(cp_live.at[i, "control_dp"]):
            problems.append(Problem("circ_pump_pressure", i, _name(cp_live, i), "controls a differential "
                                    "pressure elsewhere (control_dp); gigawatt's plant holds its own pressures"))
        plant.update(supply_node=node_id[cp_live.at[i, "flow_junction"]],
                     return_node=node_id[cp_live.at[i, "return_junction"]],
                     supply_node_index=cp_live.at[i, "flow_junction"],
                     return_node_index=cp_live.at[i, "return_junction"],
                     t_supply_k=t_flow, p_supply_pa=p_flow * 1e5, p_return_pa=(p_flow - lift) * 1e5)
        return plant
    if not len(eg_live):
        problems.append(Problem("ext_grid", "-", None, "the net has no ext_grid or circ_pump_pressure in "
                                "service: no plant feeds it"))
        return plant
    types = _types(eg_live)
    t_rows = eg_live.index[np.isin(types, SUPPLY_TEMPERATURE_TYPES)]
    p_only = eg_live.index[types == "p"]
    if len(t_rows) != 1:
        reason = ("no ext_grid holds a temperature: gigawatt's plant holds the supply temperature" if not len(t_rows)
                  else "several ext_grids hold a temperature: gigawatt's network has one plant (one supply node)")
        listed = t_rows if len(t_rows) else eg_live.index
        problems += [Problem("ext_grid", i, _name(eg_live, i), reason) for i in listed]
        return plant
    s = t_rows[0]
    junction = eg_live.at[s, "junction"]
    p_at_supply = [i for i in eg_live.index if eg_live.at[i, "junction"] == junction and types[eg_live.index.get_loc(i)]
                   in PRESSURE_TYPES]
    returns = [i for i in p_only if eg_live.at[i, "junction"] != junction]
    if not p_at_supply:
        problems.append(Problem("ext_grid", s, _name(eg_live, s), "holds a temperature but no pressure: "
                                "gigawatt's plant holds the pressure at its supply node"))
        return plant
    plant.update(supply_node=node_id[junction], supply_node_index=junction, t_supply_k=_float(eg_live, s, "t_k"),
                 p_supply_pa=_float(eg_live, p_at_supply[0], "p_bar") * 1e5)
    if len(returns) > 1:
        problems += [Problem("ext_grid", i, _name(eg_live, i), "several pressure-only ext_grids: gigawatt's plant has "
                             "one return node") for i in returns]
    elif returns:
        r = returns[0]
        plant.update(return_node=node_id[eg_live.at[r, "junction"]], return_node_index=eg_live.at[r, "junction"],
                     p_return_pa=_float(eg_live, r, "p_bar") * 1e5)
    return plant


# --- branches -------------------------------------------------------------------------------------


def _pipes(df, node_id, pipe_id, net, problems: list[Problem]) -> tuple[list[dict], float | None]:
    """Pipes as dh_pipe rows, and the one ground temperature of the pipes that lose heat [K]."""
    opts = (net["user_pf_options"] if "user_pf_options" in net else None) or {}
    ambient = float(opts.get("ambient_temperature", PANDAPIPES_AMBIENT_K))
    if df is None:
        return [], ambient
    rows, t_ext = [], {}
    for i in df.index:
        d_m = _float(df, i, "inner_diameter_mm") * 1e-3
        do_m = _float(df, i, "outer_diameter_mm", d_m * 1e3) * 1e-3
        u_area = _float(df, i, "u_w_per_m2k", 0.0)
        length_m = _float(df, i, "length_km") * 1e3
        if _float(df, i, "qext_w", 0.0) != 0.0:
            problems.append(Problem("pipe", i, _name(df, i), "takes an external heat flow (qext_w) along its length; "
                                    "gigawatt's pipes only lose heat to the ground"))
        live = bool(_in_service(df.loc[[i]])[0])
        if length_m == 0.0:  # pandapipes: no friction and no heat loss, its loss coefficient only
            rows.append(_short_pipe(pipe_id[i], node_id[df.at[i, "from_junction"]], node_id[df.at[i, "to_junction"]],
                                    d_m, _float(df, i, "loss_coefficient", 0.0), live))
            continue
        if not length_m > 0:
            problems.append(Problem("pipe", i, _name(df, i), f"length {length_m:g} m: a pipe's length is >= 0"))
        if u_area > 0 and live:
            t_ext[i] = _float(df, i, "text_k", ambient)
        rows.append({"id": pipe_id[i], "from_node": node_id[df.at[i, "from_junction"]],
                     "to_node": node_id[df.at[i, "to_junction"]], "length_m": length_m, "diameter_m": d_m,
                     "roughness_m": _float(df, i, "k_mm", 0.0) * 1e-3 * COLEBROOK_GIGAWATT / COLEBROOK_PANDAPIPES,
                     "k_minor": _float(df, i, "loss_coefficient", 0.0),
                     "u_w_per_m_k": u_area * math.pi * do_m, "in_service": live})
    if not t_ext:
        return rows, ambient
    values = pd.Series(t_ext)
    ref = float(values.mode().iloc[0])
    for i in values.index[(values != ref).to_numpy()]:
        problems.append(Problem("pipe", i, _name(df, i), f"ambient temperature text_k {values[i]:g} K differs from "
                                f"the {ref:g} K of most heat-losing pipes: gigawatt has one ground temperature"))
    return rows, ref


def _short_pipe(pid, a, b, d_m, k_minor, live) -> dict:
    return {"id": pid, "from_node": a, "to_node": b, "length_m": VALVE_LENGTH_M, "diameter_m": d_m,
            "roughness_m": 0.0, "k_minor": k_minor, "u_w_per_m_k": 0.0, "in_service": live}


def _valves(df, node_id, ids, problems: list[Problem], omitted: list[str]) -> list[dict]:
    if df is None:
        return []
    rows = []
    for i in _live_rows("valve", df, omitted):
        if "et" in df and str(df.at[i, "et"]) != "ju":
            problems.append(Problem("valve", i, _name(df, i), "sits between a junction and a pipe (et 'pi'); "
                                    "only valves between two junctions convert"))
            continue
        opened = bool(df.at[i, "opened"]) if "opened" in df else True
        rows.append(_short_pipe(ids[i], node_id[df.at[i, "junction"]], node_id[df.at[i, "element"]],
                                _float(df, i, "inner_diameter_mm") * 1e-3, _float(df, i, "loss_coefficient", 0.0),
                                opened))
    return rows


def _zero_heat_exchangers(df, node_id, ids, problems: list[Problem], omitted: list[str]) -> list[dict]:
    if df is None:
        return []
    rows = []
    for i in _live_rows("heat_exchanger", df, omitted):
        if _float(df, i, "qext_w", 0.0) != 0.0:
            problems.append(Problem("heat_exchanger", i, _name(df, i), "exchanges a fixed heat with the flow the "
                                    "network sends through it; gigawatt's consumers set their own flow"))
            continue
        rows.append(_short_pipe(ids[i], node_id[df.at[i, "from_junction"]], node_id[df.at[i, "to_junction"]],
                                _float(df, i, "inner_diameter_mm") * 1e-3, _float(df, i, "loss_coefficient", 0.0),
                                True))
    return rows


# --- consumers ------------------------------------------------------------------------------------


def _mass_flow(cid, supply, ret, mdot, t_supply_k, heat_w=None) -> dict:
    # t_return_k is not used by a mass_flow consumer's model; at the supply temperature it leaves the
    # network's property temperature (mean of supply and consumer return temperatures) where it was. The
    # lowest supply temperature it accepts is the schema's floor: pandapipes states none.
    row = {"id": cid, "supply_node": supply, "return_node": ret, "kind": "mass_flow", "mass_flow_kg_s": mdot,
           "t_return_k": t_supply_k}
    if heat_w is not None:
        row.update(demand_w=heat_w, t_supply_min_k=MIN_SUPPLY_T_K)
    return row


MIN_SUPPLY_T_K = 283.15
"""``t_supply_min_k`` of converted consumers that take a given heat at a given flow [K]: the schema's lowest
(pandapipes flags no consumer; gigawatt flags those whose water arrives colder than this)."""


JUNCTION_COLUMNS = ("junction", "from_junction", "to_junction", "flow_junction", "return_junction")
"""Columns of pandapipes element tables that name a junction."""


def _controlled_substations(tables, node_id, ids, plant, problems: list[Problem], omitted: list[str]):
    """Each flow_control in series with one heat_exchanger through a junction that joins nothing else, as
    a ``mass_flow`` consumer taking out the exchanger's heat: (consumer rows, the exchangers' indices, the
    inner junctions). Any other flow_control is a problem."""
    fc, hx = tables.get("flow_control"), tables.get("heat_exchanger")
    if fc is None:
        return [], set(), set()
    uses = pd.concat([df[c] for df in tables.values() for c in JUNCTION_COLUMNS if c in df]).value_counts()
    hx_live = hx.loc[_in_service(hx)] if hx is not None else pd.DataFrame(columns=["from_junction", "to_junction"])
    rows, used, inner = [], set(), set()
    for i in _live_rows("flow_control", fc, omitted):
        a, b = fc.at[i, "from_junction"], fc.at[i, "to_junction"]
        after = hx_live.index[(hx_live["from_junction"] == b).to_numpy()]   # fc, then the exchanger
        before = hx_live.index[(hx_live["to_junction"] == a).to_numpy()]    # the exchanger, then fc
        pairs = [(k, b, a, hx_live.at[k, "to_junction"]) for k in after if uses.get(b, 0) == 2]
        pairs += [(k, a, hx_live.at[k, "from_junction"], b) for k in before if uses.get(a, 0) == 2]
        mdot = _float(fc, i, "controlled_mdot_kg_per_s")
        active = bool(fc.at[i, "control_active"]) if "control_active" in fc else True
        if len(pairs) != 1 or not mdot >= 0 or not active:
            problems.append(Problem("flow_control", i, _name(fc, i), "a branch that holds its own mass flow; gigawatt "
                                    "converts one only in series with one heat exchanger through a junction that joins "
                                    "nothing else (a substation), with its control active and a flow >= 0"))
            continue
        k, mid, supply, ret = pairs[0]
        q = _float(hx_live, k, "qext_w", 0.0)
        if q < 0:
            problems.append(Problem("heat_exchanger", k, _name(hx_live, k), f"feeds {-q:g} W into the network "
                                    "(qext_w < 0); gigawatt's consumers take heat out"))
            continue
        used.add(k)
        inner.add(mid)
        rows.append(_mass_flow(ids[i], node_id[supply], node_id[ret], mdot, plant.get("t_supply_k"), q))
    return rows, used, inner


def _sink_exchangers(tables) -> list[tuple]:
    """Each heat_exchanger taking out heat (qext_w > 0) whose outlet junction joins only a sink: the sink holds
    the exchanger's flow, so the pair is a ``mass_flow`` consumer (the sink's flow, the exchanger's heat) from
    the exchanger's inlet to the plant's return node, like any sink. Returns ``(exchanger, sink, the junction
    between them)`` index triples (that junction is left out)."""
    hx, sinks = tables.get("heat_exchanger"), tables.get("sink")
    if hx is None or sinks is None:
        return []
    uses = pd.concat([df[c] for df in tables.values() for c in JUNCTION_COLUMNS if c in df]).value_counts()
    hx_live, sink_live = hx.loc[_in_service(hx)], sinks.loc[_in_service(sinks)]
    out = []
    for k in hx_live.index:
        b = hx_live.at[k, "to_junction"]
        at_b = sink_live.index[(sink_live["junction"] == b).to_numpy()]
        if len(at_b) != 1 or uses.get(b, 0) != 2 or not _float(hx_live, k, "qext_w", 0.0) > 0.0:
            continue  # anything else is converted, or refused with its reason, as it stands
        i = at_b[0]
        if _float(sink_live, i, "mdot_kg_per_s", 0.0) * _float(sink_live, i, "scaling", 1.0) >= 0:
            out.append((k, i, b))
    return out


def _sinks(df, node_id, ids, plant, problems: list[Problem], omitted: list[str]) -> list[dict]:
    if df is None:
        return []
    rows = []
    for i in _live_rows("sink", df, omitted):
        mdot = _float(df, i, "mdot_kg_per_s", 0.0) * _float(df, i, "scaling", 1.0)
        if mdot < 0:
            problems.append(Problem("sink", i, _name(df, i), f"draws {mdot:g} kg/s, i.e. feeds water in (a source)"))
            continue
        rows.append(_mass_flow(ids[i], node_id[df.at[i, "junction"]], plant.get("return_node"), mdot,
                               plant.get("t_supply_k")))
    return rows


def _heat_consumers(tables, node_id, ids, plant, problems: list[Problem], omitted: list[str]) -> list[dict]:
    df = tables.get("heat_consumer")
    if df is None:
        return []
    t_sup = plant.get("t_supply_k", math.nan)
    at_supply_t = None  # junctions the plant's water reaches unchanged; computed once, when needed
    rows = []
    for i in _live_rows("heat_consumer", df, omitted):
        q, mdot, dt, t_ret = (_float(df, i, c) for c in ("qext_w", "controlled_mdot_kg_per_s", "deltat_k", "treturn_k"))
        a, b = df.at[i, "from_junction"], df.at[i, "to_junction"]
        base = {"id": ids[i], "supply_node": node_id[a], "return_node": node_id[b]}
        given = ~np.isnan([q, mdot, dt, t_ret])

        def refuse(reason):
            problems.append(Problem("heat_consumer", i, _name(df, i), reason))

        if math.isfinite(mdot) and ((math.isfinite(q) and q == 0.0) or (math.isfinite(dt) and dt == 0.0)):
            rows.append(_mass_flow(ids[i], node_id[a], node_id[b], mdot, t_sup))
        elif math.isfinite(mdot) and math.isfinite(q) and q > 0:
            rows.append(_mass_flow(ids[i], node_id[a], node_id[b], mdot, t_sup, q))
        elif math.isfinite(mdot):
            refuse("holds its mass flow (controlled_mdot_kg_per_s) and its temperature drop or return "
                   "temperature: gigawatt's consumers hold a flow and a heat, or a heat and a return temperature")
        elif math.isfinite(q) and q < 0:
            refuse(f"feeds {-q:g} W into the network (qext_w < 0); gigawatt's consumers take heat out")
        elif math.isfinite(q) and math.isfinite(t_ret):
            rows.append({**base, "kind": "fixed", "demand_w": q, "t_return_k": t_ret,
                         "t_supply_min_k": max(t_ret, 283.15)})
        elif math.isfinite(q) and math.isfinite(dt):
            if at_supply_t is None:
                at_supply_t = _junctions_at_supply_temperature(tables, plant)
            if a in at_supply_t and math.isfinite(t_sup):
                rows.append({**base, "kind": "fixed", "demand_w": q, "t_return_k": t_sup - dt,
                             "t_supply_min_k": max(t_sup - dt, 283.15)})
            else:
                refuse("holds its temperature drop (deltat_k) and its water does not arrive at the plant's supply "
                       "temperature (pipes on its way lose heat, or return water mixes in): gigawatt's consumers "
                       "hold a return temperature (give treturn_k)")
        else:
            refuse(f"gives {int(given.sum())} of qext_w, controlled_mdot_kg_per_s, deltat_k, treturn_k; pandapipes "
                   "needs two")
    return rows


def _junctions_at_supply_temperature(tables, plant) -> set:
    """Junctions whose water is the plant's, unchanged: the plant's supply junction and everything joined
    to it by in-service adiabatic pipes, valves and heat exchangers without heat, provided that no
    consumer, heat-losing pipe or the plant's return joins that set (else water of another temperature
    could mix in). Empty when the condition fails."""
    supply = plant.get("supply_node_index")
    if supply is None:
        return set()
    edges = []  # (a, b, adiabatic)
    pipes = tables.get("pipe")
    if pipes is not None:
        live = _in_service(pipes)
        u = pipes["u_w_per_m2k"].fillna(0.0).to_numpy(float) if "u_w_per_m2k" in pipes else np.zeros(len(pipes))
        edges += [(a, b, ui == 0) for a, b, ui, ok in zip(pipes["from_junction"], pipes["to_junction"], u, live) if ok]
    valves = tables.get("valve")
    if valves is not None:
        opened = valves["opened"].to_numpy(bool) if "opened" in valves else np.ones(len(valves), bool)
        edges += [(a, b, True) for a, b, ok in zip(valves["junction"], valves["element"], opened & _in_service(valves))
                  if ok]
    hx = tables.get("heat_exchanger")
    if hx is not None:
        q = hx["qext_w"].fillna(0.0).to_numpy(float)
        edges += [(a, b, qi == 0) for a, b, qi, ok in zip(hx["from_junction"], hx["to_junction"], q, _in_service(hx))
                  if ok]
    reach, frontier = {supply}, [supply]
    while frontier:
        j = frontier.pop()
        for a, b, adiabatic in edges:
            if j in (a, b):
                other = b if j == a else a
                if not adiabatic:
                    return set()
                if other not in reach:
                    reach.add(other)
                    frontier.append(other)
    inflow = {plant.get("return_node_index")}  # the plant's return, and every consumer's outlet
    consumers = tables.get("heat_consumer")
    if consumers is not None:
        inflow |= set(consumers.loc[_in_service(consumers), "to_junction"])
    return set() if reach & inflow else reach
