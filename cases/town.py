"""Parametric town builder: the district-heating network of a town of homes and a vertical-farm cluster.

Topology of the supply network (the return network mirrors it node for node and pipe for pipe, with
every return pipe pointing back towards the plant)::

    plant ─trunk─ hub ─spine─ D1 ─spine─ D(1+s) ─ …     s spines radiate from the hub; districts are
                   │           │                        dealt to them in turn
                   │           ├─main─ St1 ─main─ St2    one distribution main per district, a street
                   │           │        │          │     junction every street_spacing_m
                   │           │        T1         T1    streets: a substation tap every
                   │           │        …          …     substation_spacing_m
                   │           │        Tk ──tie── Tk    tie_streets: the far ends of neighbouring
                   │                                     streets joined, a ring per pair: meshed
                   └─farm branch─ F1 ─ F2 ─ …            the vertical-farm cluster

Consumers: one ``homes_degree_days`` substation per tap (``homes_per_substation`` homes of ``building_type``
behind it: their annual heat, hot water and design load from :data:`gigawatt.models.consumers.BUILDING_TYPES`)
and one ``vertical_farm`` consumer per farm node (lit ``farm_photoperiod_h`` hours a day; an illustrative
model), between the tap's supply node and its mirror in the return network.

Pipe sizing. Every pipe of the tree (trunk, spines, mains, streets, farm branch) is sized for its design
flow: the sum, over the consumers downstream of it in the tree, of the design demand at ``t_design_k`` (a
home's space heating and its hot water's peak hour; a farm's with its lights off) divided by
``cp (t_supply - t_return)`` (the plant's supply temperature, each consumer's return temperature; heat losses
and simultaneity are neglected). It gets the smallest standard steel service
pipe (:data:`STANDARD_PIPES`, DN20 to DN800) on which that flow keeps both

* the Darcy–Weisbach pressure gradient at or below ``design_pressure_gradient_pa_per_m`` (default
  100 Pa/m) and
* the mean velocity at or below ``design_velocity_max_m_s`` (default 2.5 m/s),

common district-heating design rules (100–200 Pa/m; 0.5–2.5 m/s; steel roughness 0.05 mm; rules of thumb
of design guidance, not checked against a primary source),
with the network fluid's density and viscosity at the mean of the supply and the homes' return temperature.
The gradient rule governs the small pipes, the velocity rule the large ones. A flow beyond DN800 is split
evenly over the fewest parallel pipes that can carry it (named ``…-2``, ``…-3``), each sized for its share.
Ring ties carry no flow in the tree; each gets the larger size of the two street ends it joins. The pipes
are buried pre-insulated single pipes: outer diameter and casing from the same catalogue row, so the solver
derives their heat-loss coefficient from the geometry (:func:`gigawatt.models.pipe_heat.buried_single_pipe_u`).

Arrays are built with numpy (no Python loop per element): 10⁵ consumers in a fraction of a second.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gigawatt.cases.campus import _ids
from gigawatt.cases.memory import BYTES_PER_CONSUMER, check_memory
from gigawatt.cases.schema import schema_keywords, validate_settings
from gigawatt.errors import CaseError

if TYPE_CHECKING:
    from gigawatt.cases.case import Case

PLANT_NODES = {"supply_node": "plant-S", "return_node": "plant-R"}
"""The plant's nodes in a generated town: the ``[district_heating]`` supply and return nodes by default."""

STANDARD_PIPES = {
    # DN: (steel outer diameter [mm], wall [mm], casing outer diameter [mm], standard insulation)
    20: (26.9, 2.3, 90), 25: (33.7, 2.6, 90), 32: (42.4, 2.6, 110), 40: (48.3, 2.6, 110), 50: (60.3, 2.9, 125),
    65: (76.1, 2.9, 140), 80: (88.9, 3.2, 160), 100: (114.3, 3.6, 200), 125: (139.7, 3.6, 225),
    150: (168.3, 4.0, 250), 200: (219.1, 4.5, 315), 250: (273.0, 5.0, 400), 300: (323.9, 5.6, 450),
    350: (355.6, 5.6, 500), 400: (406.4, 6.3, 560), 450: (457.2, 6.3, 630), 500: (508.0, 6.3, 670),
    600: (610.0, 7.1, 800), 700: (711.0, 8.0, 900), 800: (813.0, 8.8, 1000),
}
"""Pre-insulated single steel pipes to EN 253 (DN20–DN800): steel outer diameter, wall thickness and the
casing of the standard insulation class [mm], from the isoplus design catalogue, chapter "Pipes", table
R 2.0 "Heating pipe" (isoplus Fernwärmetechnik, edition 04/2005). The catalogue's non-standard sizes
(DN175, 225, 550, 650, 750, 850, marked there) are left out, and so are DN900 and DN1000, whose casings the
copy we read does not show. DN20–DN400 outer and casing diameters agree with the AVKO catalogue
(pit.avko.bg, "Pre-insulated T-piece parallel"); DN100 in a 200 mm casing is the pipe whose U' = 0.277 W/(m K)
is derived in :func:`gigawatt.models.pipe_heat.buried_single_pipe_u`."""

ZERO_CELSIUS_K = 273.15


def standard_pipe_arrays() -> dict[str, np.ndarray]:
    """:data:`STANDARD_PIPES` as arrays in SI units: ``dn``, ``outer_m``, ``inner_m``, ``casing_m``."""
    dn = np.array(sorted(STANDARD_PIPES))
    od, wall, casing = (np.array([STANDARD_PIPES[d][i] for d in dn], dtype=float) * 1e-3 for i in range(3))
    return {"dn": dn, "outer_m": od, "inner_m": od - 2.0 * wall, "casing_m": casing}


def pipe_capacity_kg_s(inner_diameter_m, density_kg_m3, viscosity_pa_s, roughness_m, gradient_max_pa_per_m,
                       velocity_max_m_s):
    r"""Largest mass flow a pipe may carry under the two design rules [kg/s].

    .. math:: \dot m_\mathrm{max} = \min\left(\rho A v_\mathrm{max},\; \dot m :
              \frac{\Delta p}{L}(\dot m) = R_\mathrm{max}\right), \quad A = \pi D^2 / 4

    with :math:`\Delta p / L` the Darcy–Weisbach gradient of a straight pipe without minor losses
    (:func:`gigawatt.models.flow_correlations.pressure_drop_darcy_weisbach`: Colebrook above Re 4000, Hagen–Poiseuille
    below 2300, blended between), which rises monotonically with the flow, so the root is unique (found by
    bisection to 1e-13 relative, from below: the capacity never breaks the gradient rule).

    Parameters
    ----------
    inner_diameter_m : array_like
        Inner diameters [m], > 0.
    density_kg_m3, viscosity_pa_s : float
        Fluid density [kg/m^3] and dynamic viscosity [Pa s] at the design temperature.
    roughness_m : float
        Absolute wall roughness [m] (steel 5e-5 m, a design rule of thumb; see the module docstring).
    gradient_max_pa_per_m : float
        Largest design pressure gradient [Pa/m] (100–200 Pa/m, same row).
    velocity_max_m_s : float
        Largest design mean velocity [m/s] (0.5–2.5 m/s, same row).

    Returns
    -------
    numpy.ndarray
        The capacity of each diameter [kg/s].
    """
    from gigawatt.models.flow_correlations import pressure_drop_darcy_weisbach

    d = np.atleast_1d(np.asarray(inner_diameter_m, dtype=float))
    m_velocity = density_kg_m3 * 0.25 * math.pi * d ** 2 * velocity_max_m_s
    out = np.empty(d.size)
    for i, di in enumerate(d):
        def excess(m, di=di):
            return pressure_drop_darcy_weisbach(m, di, 1.0, roughness_m, density_kg_m3, viscosity_pa_s, 0.0) \
                - gradient_max_pa_per_m
        lo, hi = 0.0, m_velocity[i]
        if excess(hi) <= 0.0:  # the velocity rule governs
            out[i] = hi
            continue
        while hi - lo > 1e-13 * hi:  # bisection: the gradient rises monotonically with the flow
            mid = 0.5 * (lo + hi)
            if excess(mid) > 0.0:
                hi = mid
            else:
                lo = mid
        out[i] = lo
    return out


def _suffix_sums(values: np.ndarray, group: np.ndarray, n_group: int) -> np.ndarray:
    """Per element, the sum of ``values`` from it to the end of its group (elements of one group contiguous,
    in order along the group): the design flow of the pipe feeding each element of a chain."""
    running = np.cumsum(values)
    group_end = np.cumsum(np.bincount(group, weights=values, minlength=n_group))
    return group_end[group] - running + values


def _suffixed(ids: np.ndarray, suffix: str) -> np.ndarray:
    return np.strings.add(ids.astype(str), suffix).astype(object)


def with_plant_nodes(district_heating: dict | None) -> dict:
    """``[district_heating]`` settings with the generated plant nodes as supply and return nodes unless given."""
    if district_heating is not None and not isinstance(district_heating, dict):
        return district_heating  # validate_settings reports it
    out = dict(district_heating or {})
    for key, node in PLANT_NODES.items():
        out.setdefault(key, node)
    return out



def farm_parameters(p: dict) -> dict[str, float]:
    """The farms' LED power per m² of floor while lit (``farm_led_power_w_per_m2``, or tiers × PPFD / efficacy)
    and ventilation coefficient [W/(m² K)] from validated ``[town]`` settings
    (:func:`gigawatt.models.consumers.led_power_density_w_per_m2`,
    :func:`~gigawatt.models.consumers.ventilation_w_per_m2k`)."""
    from gigawatt.models.consumers import led_power_density_w_per_m2, ventilation_w_per_m2k

    led = p["farm_led_power_w_per_m2"]
    if led is None:
        led = led_power_density_w_per_m2(p["farm_ppfd_umol_per_m2_s"], p["farm_led_efficacy_umol_per_j"],
                                         p["farm_tiers"])
    return {"led_power_w_per_m2": float(led),
            "ventilation_w_per_m2k": ventilation_w_per_m2k(p["farm_air_changes_per_h"], p["farm_room_height_m"])}


@dataclass(frozen=True)
class TownLayout:
    """The generated town before it becomes element tables: supply-side nodes and pipes (the return side
    mirrors them) with each pipe's design flow and size, and the consumers.

    Attributes
    ----------
    node_ids : ndarray of str
        Supply-node names without the ``-S`` suffix: plant, hub, districts, street junctions, taps, farms.
    pipe_ids : ndarray of str
        Pipe names without the ``-S``/``-R`` suffix; parallel copies end in ``-2``, ``-3``, …
    pipe_from, pipe_to : ndarray of int
        Supply-side ends (indices into ``node_ids``), from the plant's side to the consumers' side.
    pipe_length_m : ndarray
        Route lengths [m].
    pipe_role : ndarray of str
        trunk, spine, main, street, farm_branch or tie.
    pipe_design_flow_kg_s : ndarray
        Design flow of each pipe (of each parallel copy) in the tree [kg/s]; 0 for ties.
    pipe_size : ndarray of int
        Index into :func:`standard_pipe_arrays`.
    capacity_kg_s : ndarray
        Capacity of each standard size under the design rules [kg/s] (:func:`pipe_capacity_kg_s`).
    consumer_node : ndarray of int
        Supply node of each consumer (homes' substations first, then farms).
    consumer_n_homes : ndarray
        Homes behind each homes' substation.
    home_design_w, farm_design_w : float
        Design demand of one home (space heating and the hot water's peak hour) and of one farm (lights off)
        at ``t_design_k`` [W].
    density_kg_m3, cp_j_per_kg_k, viscosity_pa_s : float
        Fluid properties the design used (at the mean of the supply and the homes' return temperature).
    settings, plant : dict
        The validated ``[town]`` and ``[district_heating]`` settings.
    """

    node_ids: np.ndarray
    pipe_ids: np.ndarray
    pipe_from: np.ndarray
    pipe_to: np.ndarray
    pipe_length_m: np.ndarray
    pipe_role: np.ndarray
    pipe_design_flow_kg_s: np.ndarray
    pipe_size: np.ndarray
    capacity_kg_s: np.ndarray
    consumer_node: np.ndarray
    consumer_n_homes: np.ndarray
    home_design_w: float
    farm_design_w: float
    density_kg_m3: float
    cp_j_per_kg_k: float
    viscosity_pa_s: float
    settings: dict
    plant: dict


def town_layout(params: dict, district_heating: dict | None = None, *, file=None) -> TownLayout:
    """Lay the town out and size its pipes (see the module notes); :func:`build_town_tables` makes the tables.

    Parameters
    ----------
    params : dict
        ``[town]`` settings; validated here against the schema (units converted, defaults filled).
    district_heating : dict, optional
        ``[district_heating]`` settings as given (the plant nodes default to ``plant-S``/``plant-R``): their
        ``t_supply_k`` and ``fluid`` set the design flows.
    file : str, optional
        The case file, named in error messages.
    """
    from gigawatt.models.consumers import home_heat_parameters, vertical_farm_w
    from gigawatt.models.coolant import P_REFERENCE_PA, coolant_properties
    from gigawatt.models.coolant_store import stored_table

    p = validate_settings("town", params, file=file)
    check_memory(-(-p["homes"] // p["homes_per_substation"]) + p["vertical_farms"], BYTES_PER_CONSUMER,
                 "a town of that many substations and farms", file=file, element="[town]", field="homes",
                 value=p["homes"])
    plant = validate_settings("district_heating", with_plant_nodes(district_heating), file=file)
    t_sup = plant["t_supply_k"]
    for field in ("t_return_k", "farm_t_return_k"):
        if p[field] >= t_sup:
            raise CaseError("a consumer must return its water colder than the plant supplies it", file=file,
                            element="[town]", field=field, value=p[field],
                            allowed=f"< {t_sup} K (t_supply_k of [district_heating])")
    try:
        home_w = home_heat_parameters(p["building_type"], p["t_design_k"], p["t_heating_limit_k"], p["design_load_w"],
                                      None, p["dhw_profile"])["design_load_w"]
        farm = farm_parameters(p)
        farm_w = float(vertical_farm_w(p["t_design_k"], p["farm_floor_area_m2"], p["farm_t_set_k"],
                                       p["farm_u_envelope_w_per_m2k"], farm["led_power_w_per_m2"],
                                       ventilation_w_per_m2k=farm["ventilation_w_per_m2k"], lit=0.0))
    except CaseError as err:
        raise err.located(file=file, element="[town]") from None
    try:  # the design mean temperature must lie in the network fluid's range (the solver checks the same)
        p_abs = min(x for x in (plant["p_return_pa"], plant["p_supply_pa"]) if x is not None) + P_REFERENCE_PA
        fluid = coolant_properties(stored_table(plant["fluid"], p_abs), 0.5 * (t_sup + p["t_return_k"]),
                                   field="t_supply_k")
    except CaseError as err:
        raise err.located(file=file, element="[district_heating]") from None
    rho, cp, mu = (float(fluid[key]) for key in ("density_kg_per_m3", "cp_j_per_kg_k", "viscosity_pa_s"))

    # Counts: substations (taps), streets, districts, spines, farms.
    homes, per_sub, k, s = p["homes"], p["homes_per_substation"], p["substations_per_street"], \
        p["streets_per_district"]
    nc = -(-homes // per_sub)
    n_homes = np.full(nc, float(per_sub))
    n_homes[-1] = homes - per_sub * (nc - 1)
    n_st = -(-nc // k)
    n_d = -(-n_st // s)
    n_sp = min(p["spines"], n_d)
    nf = p["vertical_farms"]

    c = np.arange(nc)
    street_of_c, pos_c = np.divmod(c, k)
    st = np.arange(n_st)
    district_of_st, idx_st = np.divmod(st, s)
    d = np.arange(n_d)
    pos_d, spine_of_d = np.divmod(d, n_sp)
    f = np.arange(nf)

    # Supply nodes in this order: plant, hub, districts, street junctions, taps, farms.
    o_d, o_st = 2, 2 + n_d
    o_t = o_st + n_st
    o_f = o_t + nc
    node_ids = np.concatenate([np.array(["plant", "hub"], dtype=object), _ids("D{}", d),
                               _ids("D{}-St{}", district_of_st, idx_st),
                               _ids("D{}-St{}-T{}", district_of_st[street_of_c], idx_st[street_of_c], pos_c),
                               _ids("F{}", f)])

    # Design flows [kg/s]: of each consumer, then of the pipe feeding each element of every chain.
    m_home = home_w * n_homes / (cp * (t_sup - p["t_return_k"]))
    m_farm = np.full(nf, farm_w / (cp * (t_sup - p["farm_t_return_k"])))
    m_street = np.bincount(street_of_c, weights=m_home, minlength=n_st)
    m_district = np.bincount(district_of_st, weights=m_street, minlength=n_d)
    by_spine = np.argsort(spine_of_d, kind="stable")  # the districts of one spine together, in order along it
    m_spine = np.empty(n_d)
    m_spine[by_spine] = _suffix_sums(m_district[by_spine], spine_of_d[by_spine], n_sp)

    tree = [  # (role, base ids, from, to, length [m], design flow [kg/s]), supply node indices
        ("trunk", np.array(["trunk"], dtype=object), np.array([0]), np.array([1]), p["trunk_length_m"],
         np.array([m_home.sum() + m_farm.sum()])),
        ("spine", _ids("D{}-spine", d), np.where(pos_d == 0, 1, o_d + d - n_sp), o_d + d, p["district_spacing_m"],
         m_spine),
        ("main", _ids("D{}-St{}-main", district_of_st, idx_st),
         np.where(idx_st == 0, o_d + district_of_st, o_st + st - 1), o_st + st, p["street_spacing_m"],
         _suffix_sums(m_street, district_of_st, n_d)),
        ("street", _ids("D{}-St{}-T{}-pipe", district_of_st[street_of_c], idx_st[street_of_c], pos_c),
         np.where(pos_c == 0, o_st + street_of_c, o_t + c - 1), o_t + c, p["substation_spacing_m"],
         _suffix_sums(m_home, street_of_c, n_st)),
        ("farm_branch", _ids("F{}-branch", f), np.where(f == 0, 1, o_f + f - 1), o_f + f,
         np.where(f == 0, p["farm_branch_length_m"], p["farm_spacing_m"]), _suffix_sums(m_farm, np.zeros(nf, int), 1)),
    ]
    role = np.concatenate([np.full(x[2].size, x[0], dtype=object) for x in tree])
    ids = np.concatenate([x[1] for x in tree])
    p_from = np.concatenate([x[2] for x in tree])
    p_to = np.concatenate([x[3] for x in tree])
    length = np.concatenate([np.broadcast_to(np.asarray(x[4], dtype=float), x[2].shape) for x in tree])
    m_design = np.concatenate([x[5] for x in tree])

    # Sizes: the smallest standard pipe whose capacity covers the flow; beyond the largest, parallel pipes.
    capacity = pipe_capacity_kg_s(standard_pipe_arrays()["inner_m"], rho, mu, p["roughness_m"],
                                  p["design_pressure_gradient_pa_per_m"], p["design_velocity_max_m_s"])
    parallel = np.maximum(1, np.ceil(m_design / capacity[-1] * (1.0 - 1e-12))).astype(np.int64)
    m_design = m_design / parallel
    size = np.searchsorted(capacity, m_design)

    # Ring ties: the far ends of neighbouring streets of a district, as large as the larger end pipe.
    end_tap = np.minimum((st + 1) * k, nc) - 1
    tied = np.flatnonzero((idx_st < s - 1) & (st + 1 < n_st)) if p["tie_streets"] else np.zeros(0, dtype=np.int64)
    street_size = size[role == "street"]
    ids = np.concatenate([ids, _ids("D{}-St{}-tie", district_of_st[tied], idx_st[tied])])
    role = np.concatenate([role, np.full(tied.size, "tie", dtype=object)])
    p_from = np.concatenate([p_from, o_t + end_tap[tied]])
    p_to = np.concatenate([p_to, o_t + end_tap[tied + 1]])
    length = np.concatenate([length, np.full(tied.size, p["street_spacing_m"])])
    m_design = np.concatenate([m_design, np.zeros(tied.size)])
    size = np.concatenate([size, np.maximum(street_size[end_tap[tied]], street_size[end_tap[tied + 1]])])
    parallel = np.concatenate([parallel, np.ones(tied.size, dtype=np.int64)])

    if (parallel > 1).any():
        copy = np.arange(parallel.sum()) - np.repeat(np.cumsum(parallel) - parallel, parallel)
        ids = np.repeat(ids, parallel)
        ids[copy > 0] = [f"{name}-{j + 1}" for name, j in zip(ids[copy > 0], copy[copy > 0])]
        role, p_from, p_to, length, m_design, size = (
            np.repeat(a, parallel) for a in (role, p_from, p_to, length, m_design, size))

    return TownLayout(node_ids, ids, p_from, p_to, length, role, m_design, size, capacity,
                      np.concatenate([o_t + c, o_f + f]), n_homes, home_w, farm_w, rho, cp, mu, p, plant)


def build_town_tables(params: dict, district_heating: dict | None = None, *, file=None) -> dict[str, pd.DataFrame]:
    """Element tables of the town described by the ``[town]`` settings (see the module notes and the schema).

    Parameters
    ----------
    params : dict
        ``[town]`` settings; validated here against the schema (units converted, defaults filled).
    district_heating : dict, optional
        ``[district_heating]`` settings as given: their ``t_supply_k`` and ``fluid`` set the design flows.
    file : str, optional
        The case file, named in error messages.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``dh_node``, ``dh_pipe`` and ``dh_consumer`` tables in canonical names and SI units.
    """
    lay = town_layout(params, district_heating, file=file)
    p = lay.settings
    std = standard_pipe_arrays()
    sup, ret = _suffixed(lay.node_ids, "-S"), _suffixed(lay.node_ids, "-R")
    pipe = pd.DataFrame({
        "id": np.concatenate([_suffixed(lay.pipe_ids, "-S"), _suffixed(lay.pipe_ids, "-R")]),
        "from_node": np.concatenate([sup[lay.pipe_from], ret[lay.pipe_to]]),  # return pipes point to the plant
        "to_node": np.concatenate([sup[lay.pipe_to], ret[lay.pipe_from]]),
        "length_m": np.tile(lay.pipe_length_m, 2),
        "diameter_m": np.tile(std["inner_m"][lay.pipe_size], 2),
        "roughness_m": p["roughness_m"],
        "outer_diameter_m": np.tile(std["outer_m"][lay.pipe_size], 2),
        "casing_diameter_m": np.tile(std["casing_m"][lay.pipe_size], 2),
        "insulation_conductivity_w_per_m_k": p["insulation_conductivity_w_per_m_k"],
        "soil_conductivity_w_per_m_k": p["soil_conductivity_w_per_m_k"],
        "depth_m": p["depth_m"],
    })
    nc, nf = lay.consumer_n_homes.size, p["vertical_farms"]
    home = np.arange(nc + nf) < nc
    nan = np.nan
    farm = farm_parameters(p)

    def per_kind(home_value, farm_value):
        return np.where(home, home_value, farm_value)

    consumer = pd.DataFrame({
        "id": np.concatenate([lay.node_ids[lay.consumer_node[:nc]], _ids("farm{}", np.arange(nf))]),
        "supply_node": sup[lay.consumer_node],
        "return_node": ret[lay.consumer_node],
        "kind": np.repeat(np.array(["homes_degree_days", "vertical_farm"], dtype=object), [nc, nf]),
        "n_homes": np.concatenate([lay.consumer_n_homes, np.full(nf, nan)]),
        "building_type": np.where(home, p["building_type"], None),
        "design_load_w": per_kind(nan if p["design_load_w"] is None else p["design_load_w"], nan),
        "t_design_k": per_kind(p["t_design_k"], nan),
        "t_heating_limit_k": per_kind(p["t_heating_limit_k"], nan),
        "dhw_profile": np.where(home, p["dhw_profile"], None),
        "t_supply_min_k": per_kind(p["t_supply_min_k"], p["farm_t_supply_min_k"]),
        "t_return_k": per_kind(p["t_return_k"], p["farm_t_return_k"]),
        "floor_area_m2": per_kind(nan, p["farm_floor_area_m2"]),
        "t_set_k": per_kind(nan, p["farm_t_set_k"]),
        "u_envelope_w_per_m2k": per_kind(nan, p["farm_u_envelope_w_per_m2k"]),
        "led_power_w_per_m2": per_kind(nan, farm["led_power_w_per_m2"]),
        "ventilation_w_per_m2k": per_kind(nan, farm["ventilation_w_per_m2k"]),
        "lights_on_h": per_kind(nan, p["farm_lights_on_h"]),
        "photoperiod_h": per_kind(nan, p["farm_photoperiod_h"]),
    })
    return {"dh_node": pd.DataFrame({"id": np.concatenate([sup, ret])}), "dh_pipe": pipe, "dh_consumer": consumer}


@schema_keywords("town", "Every ``[town]`` field is a keyword (any unit spelling the loader accepts), from the "
                         "schema table ``cases/schema.csv``:")
def build_town(*, district_heating: dict | None = None, campus: "Case | None" = None, case: dict | None = None,
               **town) -> "Case":
    """Build a validated case with a town's district-heating network, with the same parameters as a case
    file's ``[town]`` table.

    ``district_heating`` holds the ``[district_heating]`` settings (``None`` or ``{}`` for the defaults; the
    plant nodes default to the town's ``plant-S``/``plant-R``). With ``campus``, a case from
    :func:`gigawatt.build_campus` with a ``cooling`` section, the town is added to it and its plant is fed
    by the campus's reusable heat; without, the network is solved alone and the peak boiler covers it.

    >>> from gigawatt.cases.town import build_town
    >>> case = build_town(homes=200, vertical_farms=1)
    >>> len(case.tables["dh_consumer"])
    201
    """
    from gigawatt.cases.case import make_case

    plant = with_plant_nodes(district_heating)
    built = build_town_tables(town, plant)
    if campus is None:
        return make_case(built, case=case, district_heating=plant)
    tables = {name: df for name, df in campus.tables.items() if len(df)}
    for name, df in built.items():
        tables[name] = pd.concat([tables[name], df], ignore_index=True) if name in tables else df

    def given(settings):
        return None if settings is None else {k: v for k, v in settings.items() if v is not None}

    s = campus.settings
    return make_case(tables, loss_models={k: dict(v) for k, v in campus.loss_model_params.items()},
                     case=case if case is not None else given(s["case"]), solver=given(s["solver"]),
                     cooling=given(s["cooling"]), district_heating=plant, dc=given(s.get("dc")))
