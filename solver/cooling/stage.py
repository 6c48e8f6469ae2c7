"""The liquid-cooling stage: technology loops, CDUs, facility water, dry coolers and heat recovery.

What it solves, in the order it is solved (SI units throughout):

1. **Hydraulics** of every technology loop (:mod:`gigawatt.solver.cooling.loops` ladders) with the
   Global Gradient solver (:func:`gigawatt.solver.numerics.hydraulic_network.solve_hydraulic_network`): each CDU pump
   runs at the speed that gives its loop the *design flow*, the sum of its racks' design heat over
   ``cp * design_delta_t_k`` (constant-flow control). The flows therefore do not depend on the heat, and
   the loop's pressure drop fixes the pump's head, speed (affinity laws) and power. Racks take the flow
   the network gives them, or with ``rack_flow_control`` a valve holds each at its design flow and the
   pump makes up the head of the least-favoured rack.
2. **Chips**: each CDU holds its loop's supply temperature, so every *heat unit*'s (rack's, or with
   ``plate_resolution`` cold plate's) coolant inlet temperature is known before any heat is placed. Chip
   (cold-plate case) temperature ``T = T_in + q_liquid / (2 m cp) + R q_plate`` and chip power ``P(T)``
   with leakage (:mod:`gigawatt.models.chips`) meet at a fixed point solved per unit by Newton's method;
   everything in it is inside the rack (VRM and shelf losses depend on rack power only), so one electrical
   solve with the fixed-point IT powers is consistent: the coupling costs no extra electrical solve.
   Thermal runaway (no fixed point) is an error naming the rack.
3. **Heat sources** from the electrical results: a share of IT power and of the VRM and shelf losses goes
   to liquid at each rack; the rest, and every station, converter and conductor loss, goes to air and is
   removed by air handlers whose coils sit on the facility water.
4. **Thermal network** of the loops (:func:`gigawatt.solver.numerics.thermal_kernel.solve_thermal_network`): one
   upwind sweep, each unit's heat at the middle of its branch, mixing in manifolds and headers, pipe heat
   loss to the room by the exact exponential solution.
5. **CDUs**: counter-flow plate exchangers (epsilon-NTU), UA sized for the design point
   (:func:`gigawatt.models.cooling_plant.cdu_design_ua`); each CDU's valve passes the facility flow that
   brings its loop back to the supply set-point (:func:`~gigawatt.models.cooling_plant.cdu_facility_capacity`).
6. **Facility water**: CDU and air-coil outlets mix; the facility pump adds its shaft heat; the
   heat-recovery exchanger takes what the district-heating side asks (up to what is available above the
   facility supply temperature); dry coolers reject the rest, which they can only do when the facility
   supply temperature is at least ``dry_cooler_approach_k`` above ambient.

Ledgers: heat into the coolants (rack liquid heat + pump shaft heat + air-coil heat) = heat rejected + heat
recovered + loop pipe losses; facility power (grid + pumps + fans) = heat rejected + recovered + pipe
losses + motor losses + dry-cooler fan power. Both are stored with their relative residuals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from numba import njit

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.chips import (LEAKAGE_MODELS, STATUS_CONVERGED, chip_fixed_point, chip_power,
                                   cold_plate_resistance, junction_temperature)
from gigawatt.models.coolant import check_coolant_temperatures, coolant_properties
from gigawatt.models.coolant_store import stored_constants, stored_table
from gigawatt.models.cooling_plant import (FACILITY_WATER_CLASSES, STATUS_CAPACITY, STATUS_OK, cdu_design_ua,
                                           cdu_facility_capacity, dry_cooler_design, dry_cooler_speed,
                                           fan_power_affinity, pump_speed_for_head)
from gigawatt.models.flow_correlations import GRAVITY_M_S2, pressure_drop_darcy_weisbach
from gigawatt.models.racks import chip_powers, rack_powers
from gigawatt.solver.cooling.loops import LOOP_SETTINGS, LoopNetwork, case_loops, loop_of_racks
from gigawatt.solver.cooling.repeats import first_same_row, input_bits
from gigawatt.solver.numerics.hydraulic_network import HydraulicResult, solve_hydraulic_network
from gigawatt.solver.numerics.thermal_kernel import (NODE_HEAT, NODE_JUNCTION, NODE_SUPPLY, incidence,
                                                    prepare_thermal_network)

AUTO_PUMP_SHUTOFF = 1.4
"""Auto-sized pump: shut-off head at rated speed over the loop's design head [-]."""
AUTO_PUMP_CURVE = 0.2
"""Auto-sized pump: quadratic coefficient b = AUTO_PUMP_CURVE * design head / design flow^2, so the pump
runs its design point at speed sqrt((1 + 0.2) / 1.4) = 0.926 of rated."""
FIXED_POINT_RTOL = 1e-13
"""Relative change of rack IT power at which the chip fixed point (with liquid-cooled shelves) stops."""


def _where(case) -> dict:
    return {"file": case.file, "element": "[cooling]"}


def resolve_settings(case) -> dict:
    """The ``[cooling]`` settings with derived defaults filled and cross-field checks made."""
    s = dict(case.settings["cooling"])
    if s["facility_supply_t_k"] is None:
        s["facility_supply_t_k"] = FACILITY_WATER_CLASSES[s["facility_class"]]
    if s["tcs_supply_t_k"] is None:
        s["tcs_supply_t_k"] = s["facility_supply_t_k"] + s["cdu_approach_k"]
    if s["vrm_liquid_fraction"] is None:
        s["vrm_liquid_fraction"] = s["liquid_fraction"]
    if s["tcs_supply_t_k"] <= s["facility_supply_t_k"]:
        raise CaseError("the technology-loop supply set-point must be above the facility supply temperature "
                        "(the CDU moves heat from the loop to the facility water)", field="tcs_supply_t_k",
                        value=s["tcs_supply_t_k"], allowed=f"> {s['facility_supply_t_k']:.2f} K", **_where(case))
    if s["leakage_model"] != "none" and s["leakage_fraction"] > 0 and s["leakage_k_per_k"] == 0:
        raise CaseError("a leakage model needs its temperature coefficient", field="leakage_k_per_k", value=0.0,
                        allowed="> 0 1/K (state its source in the case)", **_where(case))
    return s


def _table(name: str):
    """A coolant's property table over its whole valid range at 1 atm (stored with the package)."""
    return stored_table(name)


@dataclass(frozen=True)
class Fluid:
    """Constant properties of a loop's coolant at its design mean temperature."""

    name: str
    density_kg_m3: float
    cp_j_per_kg_k: float
    viscosity_pa_s: float
    conductivity_w_per_m_k: float


@dataclass(frozen=True)
class LoopHydraulics:
    """Per-loop results of the flow solve (arrays over loops) and the solve itself."""

    result: HydraulicResult
    flow_kg_s: np.ndarray
    pressure_drop_pa: np.ndarray   # pump discharge to suction through headers, racks and the CDU
    head_m: np.ndarray
    speed_ratio: np.ndarray
    efficiency: np.ndarray
    shaft_w: np.ndarray
    electric_w: np.ndarray
    h0_m: np.ndarray
    b_s2_m5: np.ndarray
    rack_valve_dp_pa: np.ndarray   # per rack: pressure drop across its flow-control valve (NaN: none)


@dataclass(frozen=True)
class CoolingPlant:
    """Everything of the cooling stage that does not depend on the heat: settings, fluids, loops, flows."""

    settings: dict
    tcs: Fluid
    fws: Fluid
    loops: LoopNetwork
    rack_design_heat_w: np.ndarray
    rack_design_flow_kg_s: np.ndarray
    hydraulics: LoopHydraulics
    rack_flow_kg_s: np.ndarray
    unit_flow_kg_s: np.ndarray     # per heat unit (rack, or plate with plate_resolution)
    unit_t_in_k: np.ndarray        # coolant temperature at each unit's inlet
    unit_r_th_k_per_w: np.ndarray  # case-to-coolant resistance of one cold plate of each unit
    cdu_ua_w_per_k: np.ndarray
    thermal: LoopThermal

    @property
    def rack_t_in_k(self) -> np.ndarray:
        """Coolant temperature at each rack's first heat unit [K]."""
        return self.unit_t_in_k[::self.loops.units_per_rack]


def prepare_cooling(case, rack_shelf_loss_w: np.ndarray, loop_flow_fraction: dict | None = None) -> CoolingPlant:
    """Settings, coolant properties, loop networks, design flows and the hydraulic solve of a case.

    ``loop_flow_fraction``: cooling loops that run below their design flow (a pump lost, see
    :func:`gigawatt.solver.contingency.outages.survivor_flow_fraction`), loop id → flow over design flow [-].
    Such a loop's racks get that fraction of their design flow, so its hydraulics, coolant temperatures and
    chips are solved at the reduced flow; the rack branches and the CDU exchanger keep their design
    (``k_unit`` and UA from the design flow). The loop's pump figures are those of the case's pump curve at
    the reduced flow and head, not of the surviving pumps at their top speed.
    """
    s = resolve_settings(case)
    t_sup, dt = s["tcs_supply_t_k"], s["design_delta_t_k"]
    t_f = s["facility_supply_t_k"]
    stored_constants(s["coolant"], t_sup, "tcs_supply_t_k", case.file)
    stored_constants(s["facility_coolant"], t_f, "facility_supply_t_k", case.file)
    tcs = Fluid(s["coolant"], *stored_constants(s["coolant"], t_sup + 0.5 * dt,
                                                "tcs_supply_t_k + design_delta_t_k / 2", case.file))
    fws = Fluid(s["facility_coolant"], *stored_constants(s["facility_coolant"], t_f + 0.5 * s["air_coil_delta_t_k"],
                                                         "facility_supply_t_k + air_coil_delta_t_k / 2", case.file))

    racks = case.tables["rack"]
    p_ref = chip_powers(case)
    vrm_ref = p_ref * (1.0 / racks["vrm_efficiency"].to_numpy(float) - 1.0)
    q_design = (s["liquid_fraction"] * p_ref + s["vrm_liquid_fraction"] * vrm_ref
                + s["shelf_liquid_fraction"] * rack_shelf_loss_w)
    m_design = q_design / (tcs.cp_j_per_kg_k * dt)

    # Heat-unit branch loss coefficient from its design pressure drop, dp = K rho v^2 / 2 at the unit's
    # design flow (units of zero design heat take the mean design flow of their loop's units).
    rack_loop, loop_ids = loop_of_racks(racks)
    n_loop = loop_ids.size
    per_rack = s["chips_per_rack"] if s["plate_resolution"] else 1
    unit_loop = np.repeat(rack_loop, per_rack)
    m_unit = np.repeat(m_design / per_rack, per_rack)
    loop_flow = np.bincount(rack_loop, weights=m_design, minlength=n_loop)
    n_live = np.bincount(unit_loop, weights=(m_unit > 0).astype(float), minlength=n_loop)
    mean_flow = np.divide(loop_flow / per_rack, n_live / per_rack, out=np.ones(n_loop), where=n_live > 0)
    m_nominal = np.where(m_unit > 0, m_unit, mean_flow[unit_loop])
    d_unit = s["plate_hose_diameter_m"] if s["plate_resolution"] else s["rack_hose_diameter_m"]
    area = 0.25 * math.pi * d_unit ** 2
    k_unit = 2.0 * s["rack_dp_design_pa"] * tcs.density_kg_m3 * area ** 2 / m_nominal ** 2
    loops = case_loops(case, s, k_unit)

    ua = cdu_design_ua(loop_flow * tcs.cp_j_per_kg_k, dt, s["cdu_approach_k"])
    if loop_flow_fraction:
        frac = np.array([float(loop_flow_fraction.get(str(x), 1.0)) for x in loop_ids])
        loop_flow, m_run = loop_flow * frac, m_design * frac[rack_loop]
    else:
        m_run = m_design
    hyd = _solve_hydraulics(case, s, tcs, loops, loop_flow, m_run)
    m = hyd.result.pipe_m_kg_s
    thermal = _loop_thermal(s, tcs, loops, hyd.result, case)
    th = thermal.solve(np.zeros(loops.unit_rack.size))
    m_unit = np.abs(m[loops.unit_pipe])
    return CoolingPlant(s, tcs, fws, loops, q_design, m_design, hyd, np.abs(m[loops.rack_inlet_pipe]), m_unit,
                        th.t_node_k[loops.pipe_from[loops.unit_pipe]],
                        _plate_resistance(case, s, tcs, m_unit * loops.units_per_rack / s["chips_per_rack"]), ua,
                        thermal)


PLATE_GEOMETRY = ("cold_plate_channel_d_h_m", "cold_plate_channel_area_m2", "cold_plate_wetted_area_m2")


def _plate_resistance(case, s: dict, tcs: Fluid, m_plate_kg_s: np.ndarray) -> np.ndarray:
    """Case-to-coolant resistance of one cold plate at its flow [K/W]: given, or conduction plus the
    convective resistance of :func:`gigawatt.models.chips.cold_plate_resistance` when the channels are."""
    if s["cold_plate_channels"] is None:
        return np.full(m_plate_kg_s.size, s["chip_r_th_k_per_w"])
    missing = [f for f in PLATE_GEOMETRY if s[f] is None]
    if missing:
        raise CaseError("cold_plate_channels needs the channel geometry", field=missing[0],
                        allowed="a value (with cold_plate_channels)", **_where(case))
    r = np.empty(m_plate_kg_s.size)
    _plate_resistances(m_plate_kg_s, s["cold_plate_channels"], s["cold_plate_channel_d_h_m"],
                       s["cold_plate_channel_area_m2"], s["cold_plate_wetted_area_m2"], tcs.viscosity_pa_s,
                       tcs.cp_j_per_kg_k, tcs.conductivity_w_per_m_k,
                       s["header_roughness_m"] / s["cold_plate_channel_d_h_m"], s["cold_plate_nu_laminar"],
                       s["chip_r_th_k_per_w"], r)
    return r


@njit(cache=True)
def _plate_resistances(m, n_channels, d_h, area, wetted, mu, cp, k, rel_roughness, nu_laminar, r_cond, out):
    """:func:`cold_plate_resistance` of each plate at its flow [K/W]; infinite without flow."""
    for i in range(m.size):
        out[i] = cold_plate_resistance(m[i], n_channels, d_h, area, wetted, mu, cp, k, rel_roughness, nu_laminar,
                                       r_cond) if m[i] > 0 else np.inf


@njit(cache=True)
def _pipe_drops(m, d, length, roughness, rho, mu, k_minor, out):
    """Darcy-Weisbach pressure drop of each pipe at its flow [Pa] (see pressure_drop_darcy_weisbach)."""
    for i in range(m.size):
        out[i] = pressure_drop_darcy_weisbach(m[i], d[i], length[i], roughness, rho, mu, k_minor[i])


def _start_flows(loops: LoopNetwork, keep: np.ndarray, inject: np.ndarray, fixed: np.ndarray, idle_loop: np.ndarray,
                 rack_flow: np.ndarray, m_one_m_s: np.ndarray) -> np.ndarray:
    """Starting flows of the kept pipes [kg/s] that already satisfy every node's mass balance: each heat unit
    at its share of its rack's flow ``rack_flow``, and the pipes between the units, which form a forest in a
    ladder (headers, feeds, hoses, manifolds), carry what their subtree's units and injections leave over
    (:func:`_forest_flows`). The Newton iteration then starts next to the answer and needs fewer steps. Where
    those pipes hold a cycle, or a loop has units without design flow, every pipe starts at 1 m/s
    (``m_one_m_s`` [kg/s]); idle loops start at rest, their exact solution."""
    per_rack = loops.units_per_rack
    m_unit = rack_flow[loops.unit_rack] / per_rack
    live_unit = ~idle_loop[loops.pipe_loop[loops.unit_pipe]]
    fallback = np.where(idle_loop[loops.pipe_loop], 0.0, m_one_m_s)[keep]
    if np.any(live_unit & (m_unit <= 0)):
        return fallback
    is_unit = np.zeros(keep.size, dtype=bool)
    is_unit[loops.unit_pipe] = True
    m = np.zeros(keep.size)
    m[loops.unit_pipe] = m_unit
    excess = inject.copy()
    unit = np.flatnonzero(is_unit & keep)
    np.subtract.at(excess, loops.pipe_from[unit], m[unit])
    np.add.at(excess, loops.pipe_to[unit], m[unit])
    tree = np.flatnonzero(~is_unit & keep)
    m_tree = np.empty(tree.size)
    if not _forest_flows(loops.n_node, loops.pipe_from[tree], loops.pipe_to[tree], excess, ~np.isnan(fixed), m_tree):
        return fallback
    m[tree] = m_tree
    return m[keep]


@njit(cache=True)
def _forest_flows(n_node, frm, to, excess, fixed, m_out):
    """Flows of the branches ``frm -> to`` of a forest that balance ``excess`` [kg/s] (net inflow at each node
    from outside the forest) at every node but the roots: each tree hangs from its fixed-pressure nodes (or, if
    it has none, from its first node, whose balance is then the tree's total excess), and a branch carries the
    excess of the subtree below it towards its root. False (``m_out`` unset) if the branches hold a cycle."""
    start, adj_branch, _, _ = incidence(n_node, frm, to)
    parent_branch = np.full(n_node, -1, dtype=np.int64)
    seen = np.zeros(n_node, dtype=np.bool_)
    order = np.empty(n_node, dtype=np.int64)
    n_order = 0
    for phase in range(2):  # fixed nodes first as roots, then any node not reached yet
        for root in range(n_node):
            if seen[root] or (phase == 0 and not fixed[root]):
                continue
            seen[root] = True
            order[n_order] = root
            head = n_order
            n_order += 1
            while head < n_order:  # breadth first
                v = order[head]
                head += 1
                for k in range(start[v], start[v + 1]):
                    b = adj_branch[k]
                    if b == parent_branch[v]:
                        continue
                    w = to[b] if frm[b] == v else frm[b]
                    if seen[w]:
                        return False  # reached twice: a cycle
                    seen[w] = True
                    parent_branch[w] = b
                    order[n_order] = w
                    n_order += 1
    subtree = excess.copy()
    for k in range(n_node - 1, -1, -1):
        v = order[k]
        b = parent_branch[v]
        if b < 0:
            continue
        up = to[b] if frm[b] == v else frm[b]
        m_out[b] = subtree[v] if frm[b] == v else -subtree[v]
        subtree[up] += subtree[v]
    return True


def _solve_hydraulics(case, s: dict, tcs: Fluid, loops: LoopNetwork, loop_flow: np.ndarray,
                      rack_flow: np.ndarray) -> LoopHydraulics:
    """Flows and pressures of every loop at its design flow; the pumps' operating points.

    With ``rack_flow_control`` each rack's first pipe carries a valve holding ``rack_flow`` [kg/s]: those
    pipes leave the network as fixed flows, the supply side (held at 0 Pa meanwhile) and the return side
    (0 Pa at R) are solved apart, and the supply side is then raised until the least-favoured valve keeps
    ``valve_min_dp_pa``.
    """
    fixed = np.full(loops.n_node, np.nan)
    fixed[loops.return_node] = 0.0  # the expansion tank at each CDU inlet; only differences matter
    inject = np.zeros(loops.n_node)
    inject[loops.supply_node] = loop_flow
    keep = np.ones(loops.pipe_role.size, dtype=bool)
    valve = loops.rack_inlet_pipe
    if s["rack_flow_control"]:
        keep[valve] = False
        np.add.at(inject, loops.pipe_from[valve], -rack_flow)
        np.add.at(inject, loops.pipe_to[valve], rack_flow)
        fixed[loops.supply_node] = 0.0
    # Idle loops (no liquid heat, no design flow) are held at 0 Pa throughout and start at zero flow, which
    # is their exact solution.
    idle_loop = loop_flow <= 0
    node_loop = np.full(loops.n_node, -1)
    node_loop[loops.pipe_from] = loops.pipe_loop
    node_loop[loops.pipe_to] = loops.pipe_loop
    fixed[idle_loop[node_loop]] = 0.0
    m_start = _start_flows(loops, keep, inject, fixed, idle_loop, rack_flow,
                           tcs.density_kg_m3 * 0.25 * math.pi * loops.pipe_diameter_m ** 2)
    result = solve_hydraulic_network(
        m_start_kg_s=m_start, m_start_is_guess=True, node_fixed_p_pa=fixed, node_injection_kg_s=inject, pipe_from=loops.pipe_from[keep],
        pipe_to=loops.pipe_to[keep], pipe_length_m=loops.pipe_length_m[keep],
        pipe_diameter_m=loops.pipe_diameter_m[keep], pipe_roughness_m=s["header_roughness_m"],
        pipe_k_minor=loops.pipe_k_minor[keep], density_kg_m3=tcs.density_kg_m3,
        viscosity_pa_s=tcs.viscosity_pa_s, pipe_ids=loops.pipe_ids[keep])
    valve_dp = np.full(valve.size, np.nan)
    if s["rack_flow_control"]:
        p = result.p_pa.copy()
        drop = np.empty(valve.size)
        _pipe_drops(rack_flow, loops.pipe_diameter_m[valve], loops.pipe_length_m[valve], s["header_roughness_m"],
                    tcs.density_kg_m3, tcs.viscosity_pa_s, loops.pipe_k_minor[valve], drop)
        raw = p[loops.pipe_from[valve]] - p[loops.pipe_to[valve]] - drop
        lift = np.full(loops.n_loop, -np.inf)
        np.maximum.at(lift, loops.rack_loop, s["valve_min_dp_pa"] - raw)
        graph = sp.coo_matrix((np.ones(int(keep.sum())), (loops.pipe_from[keep], loops.pipe_to[keep])),
                              shape=(loops.n_node, loops.n_node))
        _, label = csgraph.connected_components(graph, directed=False)
        side_lift = np.zeros(label.max() + 1)
        side_lift[label[loops.supply_node]] = lift
        p += side_lift[label]
        valve_dp = raw + lift[loops.rack_loop]
        m = np.empty(keep.size)
        m[keep], m[valve] = result.pipe_m_kg_s, rack_flow
        supply = np.zeros(loops.n_node)
        supply[loops.return_node] = -loop_flow
        result = replace(result, p_pa=p, m_kg_s=m, pipe_m_kg_s=m, supply_kg_s=supply)
    rho = tcs.density_kg_m3
    live = loop_flow > 0
    dp = np.where(live, result.p_pa[loops.supply_node] - result.p_pa[loops.return_node] + s["cdu_dp_pa"], 0.0)
    head = dp / (rho * GRAVITY_M_S2)
    q = loop_flow / rho
    q_safe = np.where(live, q, 1.0)
    h0 = np.full(loops.n_loop, s["pump_h0_m"]) if s["pump_h0_m"] else AUTO_PUMP_SHUTOFF * head
    b = np.full(loops.n_loop, s["pump_b_s2_m5"]) if s["pump_b_s2_m5"] is not None \
        else AUTO_PUMP_CURVE * head / q_safe ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.where(live, pump_speed_for_head(q, head, np.where(live, h0, 1.0), 0.0, b), 0.0)
    too_fast = np.flatnonzero(speed > s["pump_max_speed"] * (1 + 1e-12))
    if too_fast.size:
        i = int(too_fast[np.argmax((speed / s["pump_max_speed"])[too_fast])])
        n = s["pump_max_speed"]
        h_max = h0[i] * n * n - b[i] * q[i] ** 2
        raise CaseError(f"the pump cannot deliver its loop's design flow of {q[i] * 1e3:.2f} L/s at any speed up "
                        f"to {n:g} of rated: the loop needs {head[i]:.2f} m of head, the pump gives "
                        f"{h_max:.2f} m (short by {head[i] - h_max:.2f} m)", file=case.file,
                        element=f"pump of cooling loop '{loops.loop_ids[i]}'",
                        **({"field": "pump_h0_m", "value": float(h0[i]),
                            "allowed": f">= {(head[i] + b[i] * q[i] ** 2) / n ** 2:.2f} m at this pump_b_s2_m5"}
                           if s["pump_h0_m"] else
                           {"field": "pump_max_speed", "value": n,
                            "allowed": f">= {speed[i]:.4f} for the auto-sized pump"}))
    # Best-efficiency flow at rated speed: given; for auto-sized pumps their design point (they run at
    # pump_eta_best); for a given curve where it gives 0.8 H0 (b q^2 = 0.2 H0).
    if s["pump_best_flow_m3_s"] is not None:
        q_best = np.full(loops.n_loop, s["pump_best_flow_m3_s"])
    elif s["pump_h0_m"]:
        q_best = np.sqrt(np.divide(0.2 * h0, b, out=np.full(loops.n_loop, np.inf), where=b > 0))
    else:
        q_best = np.divide(q, speed, out=np.ones(loops.n_loop), where=speed > 0)
    x = np.divide(q, speed * q_best, out=np.ones(loops.n_loop), where=live)
    eta = np.where(live, s["pump_eta_best"] * x * (2.0 - x), 1.0)  # pump_efficiency, vectorised
    off_curve = np.flatnonzero(live & (eta <= 0.05 * s["pump_eta_best"]))
    if off_curve.size:
        i = int(off_curve[0])
        raise CaseError(f"the pump runs at {x[i]:.2f} times its best-efficiency flow, off its efficiency curve "
                        f"(0 < Q/Q_best < 2)", file=case.file, element=f"pump of cooling loop '{loops.loop_ids[i]}'",
                        field="pump_best_flow_m3_s", value=float(q_best[i]),
                        allowed=f"about {q[i] / speed[i]:.4g} m3/s (the loop's design flow at its speed)")
    shaft = rho * GRAVITY_M_S2 * q * head / eta
    return LoopHydraulics(result, loop_flow, dp, head, speed, np.where(live, eta, 0.0), shaft,
                          shaft / s["motor_efficiency"], h0, b, valve_dp)


def _split_units(loops: LoopNetwork):
    """(branches that are not heat units, heat-unit branches) of the pipe list."""
    other = np.ones(loops.pipe_role.size, dtype=bool)
    other[loops.unit_pipe] = False
    return np.flatnonzero(other), loops.unit_pipe


@dataclass(frozen=True)
class LoopThermal:
    """The loops' thermal network, set up once per case (:func:`prepare_thermal_network`): the hydraulic
    network with each heat unit's branch split at a *heat node* (half the branch on either side),
    numbered ``n_node + unit``, where the unit's heat enters. Only the heat changes between solves."""

    network: object                # ThermalNetwork
    node_value: np.ndarray         # supply temperatures in place, heat nodes to be filled
    heat_node: np.ndarray
    m_branch_kg_s: np.ndarray
    m_node_kg_s: np.ndarray
    branch_loop: np.ndarray        # loop index of each branch (:func:`thermal_pipe_loop`)
    fixed: list = field(default_factory=list, compare=False, repr=False)  # [FixedFlowSweep] from the 3rd solve

    def solve(self, q_unit_w: np.ndarray):
        """Steady temperatures of every loop with heat ``q_unit_w`` [W] put in at each heat unit. From the
        third solve on, the sweep's order and exponentials are kept (``ThermalNetwork.with_flows``; the
        same result to the last bit, in about half the time)."""
        value = self.node_value.copy()
        value[self.heat_node] = -q_unit_w
        if len(self.fixed) < 2:  # a sweep each for the two solves of a steady case (set-up, heat): no plan
            self.fixed.append(None)
            return self.network.solve(value, self.m_branch_kg_s, self.m_node_kg_s)
        if self.fixed[0] is None:
            self.fixed[0] = self.network.with_flows(self.m_branch_kg_s, self.m_node_kg_s)
        return self.fixed[0].solve(value)


def _loop_thermal(s: dict, tcs: Fluid, loops: LoopNetwork, hyd: HydraulicResult, case=None) -> LoopThermal:
    """Set up the loops' thermal network (see :class:`LoopThermal`). With ``case``, the network (it depends
    on the topology, the pipes' heat loss and the coolant's cp, not on the flows) is made once and kept with
    the case, keyed by the rack table and those settings (STYLE rule 7), as the loop topology is."""
    n_unit = loops.unit_pipe.size
    heat_node = loops.n_node + np.arange(n_unit)
    other, up = _split_units(loops)
    m = hyd.pipe_m_kg_s
    frm = np.concatenate([loops.pipe_from[other], loops.pipe_from[up], heat_node])
    to = np.concatenate([loops.pipe_to[other], heat_node, loops.pipe_to[up]])
    flow = np.concatenate([m[other], m[up], m[up]])
    length = np.concatenate([loops.pipe_length_m[other], 0.5 * loops.pipe_length_m[up],
                             0.5 * loops.pipe_length_m[up]])
    kind = np.full(loops.n_node + n_unit, NODE_JUNCTION, dtype=np.int64)
    kind[loops.supply_node] = NODE_SUPPLY
    kind[heat_node] = NODE_HEAT
    value = np.zeros(kind.size)
    value[loops.supply_node] = s["tcs_supply_t_k"]
    m_node = np.zeros(kind.size)
    loop_flow = -hyd.supply_kg_s[loops.return_node]
    m_node[loops.supply_node] = loop_flow
    m_node[loops.return_node] = -loop_flow

    def prepare():
        return prepare_thermal_network(kind, frm, to, s["pipe_u_w_per_m_k"], length, s["room_t_k"],
                                       tcs.cp_j_per_kg_k, tcs.cp_j_per_kg_k)

    if case is None:
        network = prepare()
    else:
        key = (*(s[k] for k in LOOP_SETTINGS), s["pipe_u_w_per_m_k"], s["room_t_k"], tcs.cp_j_per_kg_k)
        network = case.derived(("cooling_thermal", key), ("rack",), prepare)
    return LoopThermal(network, value, heat_node, flow, m_node, thermal_pipe_loop(loops))


def thermal_pipe_loop(loops: LoopNetwork) -> np.ndarray:
    """Loop index of each branch of the thermal network of :func:`_thermal` (in its branch order)."""
    other, up = _split_units(loops)
    return np.concatenate([loops.pipe_loop[other], loops.pipe_loop[up], loops.pipe_loop[up]])


@njit(cache=True)
def _chip_points(a, b, p_dynamic, p_leak_ref, model, k_per_k, t_ref_k, t_out, p_out, status_out, bits):
    """Per rack: chip temperature T = a + b P(T) and power P(T) (see :func:`chip_fixed_point`); a unit whose
    inputs' ``bits`` (:func:`~gigawatt.solver.cooling.repeats.input_bits`) repeat those of an earlier unit takes
    its answer (:mod:`gigawatt.solver.cooling.repeats`)."""
    first = first_same_row(bits)
    for i in range(a.size):
        j = first[i]
        if j < i:
            t_out[i], p_out[i], status_out[i] = t_out[j], p_out[j], status_out[j]
            continue
        t, status, _ = chip_fixed_point(a[i], b[i], p_dynamic[i], model, p_leak_ref[i], k_per_k, t_ref_k)
        t_out[i] = t
        status_out[i] = status
        p_out[i] = chip_power(t, p_dynamic[i], model, p_leak_ref[i], k_per_k, t_ref_k)


def chip_operating_points(case, plant: CoolingPlant, p_ref_w: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, int]:
    """Rack IT power and chip temperature per heat unit at the electro-thermal fixed point.

    A rack's IT power, VRM and shelf heat are shared evenly by its heat units (the rack, or its plates);
    unit ``u`` of rack ``r`` with ``n`` units per rack and ``N`` chips per rack has

        T_u = a_u + b_u P_u,  a_u = T_in,u + s_f q_shelf,r / (2 n m_u cp),
        b_u = (l_f + v_f (1/eta_vrm - 1)) / (2 m_u cp) + R l_f n / N,

    and ``P_r = sum_u P_u(T_u)``. ``p_ref_w`` [W]: each rack's IT power at the leakage reference
    temperature (default: the case's, :func:`gigawatt.models.racks.chip_powers`; a time series passes the
    step's). Returns
    ``(p_it_w per rack, t_chip_k per unit, iterations, t_junction_k per unit)``; without leakage ``p_it_w`` is
    ``p_ref_w``. ``t_chip_k`` is the chip's case (the cold plate's base); the junction runs
    ``R_jc q_plate`` above it, ``q_plate = l_f P_u n / N`` the heat each plate takes (``chip_r_jc_k_per_w``:
    :func:`gigawatt.models.chips.junction_temperature`), and leakage is evaluated at the junction, so the fixed
    point runs on ``b_u + R_jc l_f n / N``.
    """
    return ChipPoints(case, plant)(p_ref_w)


class ChipPoints:
    """:func:`chip_operating_points` of one case and plant with the terms that do not depend on the IT power
    worked out once (a time series calls it at every step); the same arithmetic in the same order, so the same
    numbers. The plant's ``settings`` may differ later only in what the chips do not read (the ambient)."""

    def __init__(self, case, plant: CoolingPlant):
        s, cp, loops = plant.settings, plant.tcs.cp_j_per_kg_k, plant.loops
        self.case, self.unit_t_in_k = case, plant.unit_t_in_k
        self.n, self.rack = loops.units_per_rack, loops.unit_rack
        n, rack = self.n, self.rack
        eta = case.tables["rack"]["vrm_efficiency"].to_numpy(float)[rack]
        m = plant.unit_flow_kg_s
        lf, vlf, self.slf = s["liquid_fraction"], s["vrm_liquid_fraction"], s["shelf_liquid_fraction"]
        self.maybe_dry = np.flatnonzero((m <= 0) & (lf + vlf > 0))  # units that fail once their rack has power
        half_c = np.where(m > 0, 0.5 / np.where(m > 0, m, 1.0) / cp, 0.0)
        r_plate = np.where(m > 0, plant.unit_r_th_k_per_w, 0.0)
        b = half_c * (lf + vlf * (1.0 / eta - 1.0)) + r_plate * lf * n / s["chips_per_rack"]
        self.r_jc, self.plate_share = s["chip_r_jc_k_per_w"], lf * n / s["chips_per_rack"]  # q_plate = share P_u
        self.b_case, self.b = b, b + self.r_jc * self.plate_share  # to the junction: leakage at its temperature
        self.half_c = half_c
        self.model = s["leakage_model"]
        self.leaky = not (self.model == "none" or s["leakage_fraction"] == 0)
        self.f, self.k_per_k, self.t_ref_k = s["leakage_fraction"], s["leakage_k_per_k"], s["leakage_t_ref_k"]

    def __call__(self, p_ref_w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """``(p_it_w per rack, t_chip_k per unit, iterations, t_junction_k per unit)`` at the racks' IT powers
        ``p_ref_w`` [W] (default: the case's, :func:`gigawatt.models.racks.chip_powers`)."""
        case, n, rack, slf = self.case, self.n, self.rack, self.slf
        p_ref = chip_powers(case) if p_ref_w is None else np.asarray(p_ref_w, float)
        no_flow = self.maybe_dry[p_ref[rack[self.maybe_dry]] > 0]
        if no_flow.size:
            i = int(rack[no_flow[0]])
            raise CaseError("the rack puts heat into a cooling loop that has no flow", file=case.file,
                            element=f"rack '{case.tables['rack']['id'].iloc[i]}'", field="p_it_w",
                            value=float(p_ref[i]))
        half_c, b, r_jc, plate_share = self.half_c, self.b, self.r_jc, self.plate_share
        p_unit_ref = p_ref[rack] / n
        # the shelves' heat enters the coolant only with liquid-cooled shelves (slf > 0): at slf = 0 the term
        # is an exact zero and ``a`` the inlet temperature itself
        p_it, shelf = p_ref.copy(), rack_powers(case, p_ref)[1] if slf else None
        for iteration in range(1, 51):
            a = self.unit_t_in_k + half_c * slf * shelf[rack] / n if slf else self.unit_t_in_k
            if not self.leaky:
                t_case = a + self.b_case * p_unit_ref
                return p_ref.copy(), t_case, iteration, junction_temperature(t_case, plate_share * p_unit_ref, r_jc)
            f = self.f
            t_chip, p_new, status = np.empty_like(a), np.empty_like(a), np.empty(a.size, dtype=np.int64)
            p_dynamic, p_leak = p_unit_ref * (1 - f), p_unit_ref * f
            _chip_points(a, b, p_dynamic, p_leak, LEAKAGE_MODELS[self.model], self.k_per_k, self.t_ref_k, t_chip,
                         p_new, status, input_bits(a, b, p_dynamic, p_leak))
            bad = np.flatnonzero(status != STATUS_CONVERGED)
            if bad.size:
                u = int(bad[0])
                name = case.tables["rack"]["id"].iloc[int(rack[u])]
                raise ConvergenceError(
                    f"rack '{name}': thermal runaway: its chips' leakage rises faster with temperature than the "
                    f"cold plates remove it (coolant {a[u] - 273.15:.2f} °C, {b[u] * 1e3:.4f} K/kW from power to "
                    f"chip temperature); no steady chip temperature exists",
                    details={"rack": name, "t_coolant_k": float(a[u]), "k_per_w": float(b[u])})
            negative = np.flatnonzero(p_new < p_unit_ref * (1 - f))
            if negative.size:
                u = int(negative[0])
                raise CaseError(f"the {self.model} leakage model gives negative leakage at the chip temperature "
                                f"{t_chip[u] - 273.15:.2f} °C of rack '{case.tables['rack']['id'].iloc[int(rack[u])]}'"
                                f": the chips run below the model's validity (1 + k (T - T_ref) >= 0)", file=case.file,
                                element="[cooling]", field="leakage_t_ref_k", value=self.t_ref_k,
                                allowed=f"<= {t_chip[u] + 1.0 / self.k_per_k:.2f} K for this leakage_k_per_k")
            p_rack = np.bincount(rack, weights=p_new, minlength=p_ref.size)
            if slf == 0:  # the shelves' heat does not reach the coolant: one pass is the fixed point
                return p_rack, t_chip - r_jc * plate_share * p_new, iteration, t_chip
            change = np.max(np.abs(p_rack - p_it), initial=0.0)
            p_it = p_rack
            if change <= FIXED_POINT_RTOL * max(np.max(p_it, initial=0.0), 1.0):
                return p_it, t_chip - r_jc * plate_share * p_new, iteration, t_chip
            shelf = rack_powers(case, p_it)[1]
        raise ConvergenceError("chip fixed point with liquid-cooled shelves did not converge in 50 iterations",
                               details={"change_w": float(change)})


@dataclass(frozen=True)
class HeatState:
    """The heat side of a solve: what :mod:`gigawatt.solver.cooling.results` turns into variables."""

    rack_q_liquid_w: np.ndarray
    rack_q_air_w: np.ndarray
    rack_t_out_k: np.ndarray
    unit_t_out_k: np.ndarray       # coolant leaving each heat unit (rack or plate)
    q_air_other_w: float           # station, converter and conductor losses and conductance loads, all to air
    thermal: object                # ThermalResult of the loops
    loop_pipe_loss_w: np.ndarray
    loop_t_return_k: np.ndarray    # at the CDU hot inlet, pump heat included
    cdu_duty_w: np.ndarray
    cdu_c_cold_w_per_k: np.ndarray
    cdu_t_cold_out_k: np.ndarray
    cdu_effectiveness: np.ndarray
    facility: dict                 # scalar results of the facility loop [W, K, kg/s]
    water: tuple | None = None     # the facility water's mixed stream before recovery (:func:`_facility_water`)


def solve_heat(case, plant: CoolingPlant, rack_p_it_w, rack_vrm_loss_w, rack_shelf_loss_w,
               other_loss_w: float, p_grid_w: float, recovery_demand_w: float | None = None,
               dry_cooler_design: DryCoolerDesign | None = None, strict: bool = True, facility: bool = True
               ) -> HeatState:
    """Heat from the electrical results through the loops, CDUs and facility water to ambient and reuse.

    ``recovery_demand_w`` [W]: heat the recovery exchanger takes (default: the case's
    ``recovery_demand_w``; the district-heating stage passes what its plant draws). ``dry_cooler_design``:
    what the dry coolers are sized for (default: this point's heat); ``strict``: a facility set-point the dry
    coolers cannot hold at the ambient is an error (else counted in ``dry_cooler_over_limit``); ``facility``
    False: the facility water is left to :func:`with_recovery` (``facility`` empty; :func:`heat_offered`)."""
    s, tcs, loops, hyd = plant.settings, plant.tcs, plant.loops, plant.hydraulics
    lf, vlf, slf = s["liquid_fraction"], s["vrm_liquid_fraction"], s["shelf_liquid_fraction"]
    q_liq = lf * rack_p_it_w + vlf * rack_vrm_loss_w + slf * rack_shelf_loss_w
    q_air_rack = (1 - lf) * rack_p_it_w + (1 - vlf) * rack_vrm_loss_w + (1 - slf) * rack_shelf_loss_w
    n = loops.units_per_rack
    th = plant.thermal.solve(q_liq[loops.unit_rack] / n)
    unit_t_out = th.t_node_k[plant.thermal.heat_node]  # (the heat nodes: n_node + unit)
    t_out = unit_t_out if n == 1 else th.t_node_k[loops.rack_outlet_node]
    _check_loop_temperatures(case, tcs, loops, th.t_node_k)

    loop_loss = np.bincount(plant.thermal.branch_loop, weights=th.q_loss_w, minlength=loops.n_loop)
    c_hot = hyd.flow_kg_s * tcs.cp_j_per_kg_k
    live = c_hot > 0
    t_ret = np.where(live, th.t_node_k[loops.return_node] + hyd.shaft_w / np.where(live, c_hot, 1.0),
                     s["tcs_supply_t_k"])
    t_set, t_f = s["tcs_supply_t_k"], s["facility_supply_t_k"]
    duty = c_hot * (t_ret - t_set)
    cold = np.flatnonzero(live & (duty < 0))
    if cold.size:
        i = int(cold[np.argmin(duty[cold])])
        raise CaseError(f"the loop comes back at {t_ret[i] - 273.15:.2f} °C, colder than its supply set-point: "
                        f"its pipes lose more heat to the room than its racks put in, and a CDU can only cool",
                        file=case.file, element=f"CDU of cooling loop '{loops.loop_ids[i]}'",
                        field="tcs_supply_t_k", value=t_set,
                        allowed=f"<= {t_ret[i]:.2f} K, or less pipe loss (pipe_u_w_per_m_k, room_t_k)")
    c_cold, eps = _cdus(case, s, loops, t_ret, c_hot, plant.cdu_ua_w_per_k, duty)
    t_cold_out = t_f + np.divide(duty, c_cold, out=np.zeros_like(duty), where=c_cold > 0)

    # the facility water's stream before recovery: worked out once, for heat_offered and with_recovery alike
    water = _facility_water(s, plant.fws, q_air_rack.sum() + other_loss_w, duty, c_cold)
    heat = HeatState(q_liq, q_air_rack, t_out, unit_t_out, other_loss_w, th, loop_loss, t_ret, duty, c_cold,
                     t_cold_out, eps, {}, water)
    if not facility:
        return heat
    return with_recovery(case, plant, heat, p_grid_w, recovery_demand_w, dry_cooler_design, strict)


def with_recovery(case, plant: CoolingPlant, heat: HeatState, p_grid_w: float,
                  recovery_demand_w: float | None = None, dry_cooler_design: DryCoolerDesign | None = None,
                  strict: bool = True) -> HeatState:
    """The facility water of a :func:`solve_heat` result again, with the recovery exchanger taking
    ``recovery_demand_w`` [W] (the loops and CDUs do not depend on it): what the district-heating stage needs
    once it knows what its plant draws. ``p_grid_w`` [W]: the stations' AC intake; ``dry_cooler_design`` and
    ``strict`` as :func:`solve_heat`. The KPIs (PUE, ...) are formed from these figures by
    :mod:`gigawatt.solver.facility_kpis`."""
    fac = recovery_facility(case, plant, _water(heat, plant.settings, plant.fws), heat.rack_q_liquid_w.sum(),
                            heat.loop_pipe_loss_w.sum(), p_grid_w, recovery_demand_w, dry_cooler_design, strict)
    return replace(heat, facility=fac)


def recovery_facility(case, plant: CoolingPlant, water: tuple, q_liquid_sum, loop_loss_sum, p_grid_w: float,
                      recovery_demand_w: float | None = None, dry_cooler_design: DryCoolerDesign | None = None,
                      strict: bool = True, ambient_t_k: float | None = None, shaft_sum=None, electric_sum=None,
                      dry_ua: tuple | None = None) -> dict:
    """The facility figures of :func:`with_recovery` from the facility water's stream ``water``
    (:func:`_facility_water`), the racks' liquid heat ``q_liquid_sum`` and the loops' pipe loss ``loop_loss_sum``
    [W] (each summed over its array), with the heat and facility ledgers. ``ambient_t_k`` [K]: the dry coolers'
    outdoor air (None: the plant's ``ambient_t_k``); ``shaft_sum``, ``electric_sum`` [W] (the loop pumps' shaft
    and electric power summed) and ``dry_ua`` (:func:`~gigawatt.models.cooling_plant.dry_cooler_design` of
    ``dry_cooler_design``) where already known (a time series)."""
    s, fws, hyd = plant.settings, plant.fws, plant.hydraulics
    demand = s["recovery_demand_w"] if recovery_demand_w is None else recovery_demand_w
    fac = _facility(case, s, fws, water, demand, dry_cooler_design, strict, ambient_t_k, dry_ua)
    shaft_sum = hyd.shaft_w.sum() if shaft_sum is None else shaft_sum
    q_in = q_liquid_sum + shaft_sum + fac["q_air_coil_w"] + fac["facility_pump_shaft_w"]
    q_out = fac["q_rejected_w"] + fac["q_recovered_w"] + loop_loss_sum
    fac["heat_balance_residual"] = abs(q_in - q_out) / max(abs(q_in), 1e-300)
    fac["q_into_coolant_w"] = q_in
    fac["q_loop_loss_w"] = float(loop_loss_sum)
    p_pumps = (hyd.electric_w.sum() if electric_sum is None else electric_sum) + fac["facility_pump_electric_w"]
    p_fans = fac["air_fan_w"] + fac["dry_cooler_fan_w"]
    p_facility = p_grid_w + p_pumps + p_fans
    motor_loss = p_pumps - shaft_sum - fac["facility_pump_shaft_w"]
    to_outside = q_out + motor_loss + fac["dry_cooler_fan_w"]
    fac.update(p_pumps_w=p_pumps, p_fans_w=p_fans, p_cooling_w=p_pumps + p_fans, p_facility_w=p_facility,
               q_to_outside_w=to_outside,
               facility_energy_residual=abs(p_facility - to_outside) / max(p_facility, 1e-300))
    return fac


def _check_loop_temperatures(case, tcs: Fluid, loops: LoopNetwork, t_node_k: np.ndarray) -> None:
    """Every loop temperature inside the coolant's valid range; a violation names where it happens (the
    rack, for the heat nodes and rack-level pipes)."""
    table = _table(tcs.name)
    lim = table.limits
    bad = np.flatnonzero((t_node_k < lim.t_low_k) | (t_node_k > lim.t_high_k))
    if not bad.size:
        return
    i = int(bad[np.argmax(np.abs(t_node_k[bad] - 0.5 * (lim.t_low_k + lim.t_high_k)))])
    if i >= loops.n_node:
        where = f"rack '{case.tables['rack']['id'].iloc[int(loops.unit_rack[i - loops.n_node])]}'"
    else:
        at = np.flatnonzero((loops.pipe_from == i) | (loops.pipe_to == i))[0]
        where = f"pipe '{loops.pipe_ids[at]}'"
    try:
        coolant_properties(table, t_node_k[i], field="t_coolant_k")
    except CaseError as err:
        raise CaseError(f"{err.reason} in the technology loop at {where}", file=case.file,
                        element=f"[cooling] coolant '{tcs.name}'", field="t_coolant_k", value=float(t_node_k[i]),
                        allowed=err.allowed) from None


@njit(cache=True)
def _cdu_capacities(t_hot_in, t_set, c_hot, t_cold_in, ua, c_cold_max, c_out, status_out, q_max_out, bits):
    """:func:`cdu_facility_capacity` of each CDU; a CDU whose inputs' ``bits``
    (:func:`~gigawatt.solver.cooling.repeats.input_bits`) repeat those of an earlier CDU takes its answer
    (:mod:`gigawatt.solver.cooling.repeats`)."""
    first = first_same_row(bits)
    for i in range(t_hot_in.size):
        j = first[i]
        if j < i:
            c_out[i], status_out[i], q_max_out[i] = c_out[j], status_out[j], q_max_out[j]
            continue
        c_out[i], status_out[i], q_max_out[i] = cdu_facility_capacity(t_hot_in[i], t_set, c_hot[i], t_cold_in,
                                                                       ua[i], c_cold_max[i])


def _cdus(case, s, loops, t_ret, c_hot, ua, duty):
    """Facility capacity rate each CDU's valve passes, and the exchangers' effectiveness."""
    n = t_ret.size
    c_cold, status, q_max = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n)
    c_max = s["cdu_max_flow_ratio"] * c_hot
    t_f = s["facility_supply_t_k"]
    _cdu_capacities(t_ret, s["tcs_supply_t_k"], c_hot, t_f, ua, c_max, c_cold, status, q_max,
                    input_bits(t_ret, c_hot, ua, c_max))
    bad = np.flatnonzero(status != STATUS_OK)
    if bad.size:
        i = int(bad[np.argmax((duty / q_max)[bad])])
        why = ("its duty {:.1f} kW exceeds the {:.1f} kW its exchanger passes with the facility valve fully "
               "open ({:g} × design flow)".format(duty[i] / 1e3, q_max[i] / 1e3, s["cdu_max_flow_ratio"])
               if status[i] == STATUS_CAPACITY else "the set-point is not above the facility supply")
        raise CaseError(f"the CDU cannot hold its loop's supply set-point of {s['tcs_supply_t_k'] - 273.15:.2f} °C "
                        f"with facility water at {t_f - 273.15:.2f} °C: {why}", file=case.file,
                        element=f"CDU of cooling loop '{loops.loop_ids[i]}'", field="tcs_supply_t_k",
                        value=s["tcs_supply_t_k"], allowed="a set-point the CDU can hold (raise it, lower the "
                        "facility supply, or raise cdu_max_flow_ratio)")
    c_min = np.minimum(c_hot, c_cold)
    q_ideal = c_min * (t_ret - t_f)
    eps = np.divide(duty, q_ideal, out=np.zeros(n), where=q_ideal > 0)
    return c_cold, eps


def _water(heat: HeatState, s, fws: Fluid) -> tuple:
    """The facility water's mixed stream of a :func:`solve_heat` result (:func:`_facility_water`)."""
    if heat.water is not None:
        return heat.water
    return _facility_water(s, fws, heat.rack_q_air_w.sum() + heat.q_air_other_w, heat.cdu_duty_w,
                           heat.cdu_c_cold_w_per_k)


def _facility(case, s, fws: Fluid, water: tuple, recovery_demand_w, dry_cooler_design: "DryCoolerDesign | None" = None,
              strict: bool = True, ambient_t_k: float | None = None, dry_ua: tuple | None = None) -> dict:
    """The facility water loop as one mixed stream (``water``, :func:`_facility_water`): CDUs and air coils in,
    recovery and dry coolers out (the recovery exchanger first, so the dry coolers see the water it leaves, at
    the facility flow)."""
    q_air_w, t_f, air_fan, q_coil, c_total, m, shaft, q_available, t_return = water
    q_recovered = min(recovery_demand_w, q_available)
    q_rejected = q_available - q_recovered
    design = dry_cooler_design or DryCoolerDesign(q_available, c_total)  # sized on this point's heat
    dry = _dry_coolers(case, s, q_rejected, c_total, design, strict, ambient_t_k, dry_ua)
    try:  # the return within the facility coolant's range (its properties are not needed)
        check_coolant_temperatures(_table(fws.name), float(t_return), field="t_facility_return_k")
    except CaseError as err:
        raise err.located(file=case.file, element=f"[cooling] facility coolant '{fws.name}'") from None
    return {"t_facility_supply_k": t_f, "t_facility_return_k": t_return, "facility_flow_kg_s": m,
            "q_air_w": q_air_w, "air_fan_w": air_fan, "q_air_coil_w": q_coil, "facility_pump_shaft_w": shaft,
            "facility_pump_electric_w": shaft / s["motor_efficiency"], "q_available_w": q_available,
            "t_reuse_k": t_return, "q_recovered_w": q_recovered, "q_rejected_w": q_rejected, **dry}


def _facility_water(s, fws: Fluid, q_air_w: float, cdu_duty_w, cdu_c_cold_w_per_k) -> tuple:
    """The facility water's mixed stream before recovery and dry coolers: (heat to air ``q_air_w`` [W], supply [K],
    air-handler fans [W], air-coil heat [W], capacity rate [W/K], flow [kg/s], pump shaft power [W], heat
    available [W], return [K])."""
    t_f = s["facility_supply_t_k"]
    air_fan = s["air_fan_w_per_w"] * q_air_w
    q_coil = q_air_w + air_fan
    c_coil = q_coil / s["air_coil_delta_t_k"]
    c_total = float(cdu_c_cold_w_per_k.sum()) + c_coil
    m = c_total / fws.cp_j_per_kg_k
    q_vol = m / fws.density_kg_m3
    shaft = fws.density_kg_m3 * GRAVITY_M_S2 * q_vol * s["facility_pump_head_m"] / s["facility_pump_efficiency"]
    q_available = float(cdu_duty_w.sum()) + q_coil + shaft
    t_return = t_f + q_available / c_total if c_total > 0 else t_f
    return q_air_w, t_f, air_fan, q_coil, c_total, m, shaft, q_available, t_return


def heat_offered(case, plant: CoolingPlant, heat: HeatState) -> tuple[float, float, float]:
    """What the facility water offers a heat-recovery plant before it takes any: ``(q_available_w [W],
    t_reuse_k [K], t_facility_supply_k [K])``, the figures of :func:`with_recovery`'s facility that do not depend
    on the heat recovered, without solving the dry coolers (a ``solve_heat(..., facility=False)`` result: a
    time series asks the district-heating stage first, then completes the facility once)."""
    return offered_of_water(case, plant, _water(heat, plant.settings, plant.fws))


def offered_of_water(case, plant: CoolingPlant, water: tuple) -> tuple[float, float, float]:
    """:func:`heat_offered` of the facility water's stream ``water`` (:func:`_facility_water`)."""
    _, t_f, _, _, _, _, _, q_available, t_return = water
    try:
        check_coolant_temperatures(_table(plant.fws.name), float(t_return), field="t_facility_return_k")
    except CaseError as err:
        raise err.located(file=case.file, element=f"[cooling] facility coolant '{plant.fws.name}'") from None
    return q_available, t_return, t_f


@dataclass(frozen=True)
class DryCoolerDesign:
    """What the dry coolers are sized for: the heat they reject at design [W] from a water stream of capacity
    rate [W/K], with their fans at full speed at the design ambient (facility supply − ``dry_cooler_approach_k``).
    :func:`gigawatt.solve` sizes them on the case's own point (all its reusable heat, none recovered); a time
    series on the case at full IT load (:func:`dry_cooler_design_of`)."""

    q_w: float
    c_water_w_per_k: float


def dry_cooler_design_of(heat: "HeatState", plant: "CoolingPlant") -> DryCoolerDesign:
    """The dry coolers' design from a solved point: all its reusable heat, at its facility flow."""
    f = heat.facility
    return DryCoolerDesign(float(f["q_available_w"]), float(f["facility_flow_kg_s"]) * plant.fws.cp_j_per_kg_k)


def _dry_coolers(case, s, q_rejected_w: float, c_water_w_per_k: float, design: DryCoolerDesign, strict: bool,
                 ambient_t_k: float | None = None, dry_ua: tuple | None = None) -> dict:
    """Fan speed that holds the facility supply set-point at this ambient and load, its fan power by the fan
    laws, and whether full speed suffices (:mod:`gigawatt.models.cooling_plant`). ``strict``: a set-point the
    dry coolers cannot hold is an error (a steady solve); otherwise it is counted (a time series).
    ``ambient_t_k`` [K]: the outdoor air (None: ``s["ambient_t_k"]``); ``dry_ua``: :func:`dry_cooler_design` of
    ``design`` if already known."""
    t_f, approach = s["facility_supply_t_k"], s["dry_cooler_approach_k"]
    t_amb = s["ambient_t_k"] if ambient_t_k is None else ambient_t_k
    p_design = s["dry_cooler_fan_w_per_w"] * design.q_w
    out = {"dry_cooler_speed": 0.0, "dry_cooler_fan_w": 0.0, "dry_cooler_over_limit": 0,
           "dry_cooler_shortfall_w": 0.0, "dry_cooler_design_q_w": design.q_w, "dry_cooler_design_fan_w": p_design}
    if q_rejected_w <= 0.0:
        return out
    ua, c_air = dry_cooler_design(design.q_w, design.c_water_w_per_k, approach) if dry_ua is None else dry_ua
    t_in = t_f + q_rejected_w / c_water_w_per_k
    speed, q_max, held = dry_cooler_speed(q_rejected_w, t_in, t_amb, c_water_w_per_k, ua, c_air)
    if not held and strict:
        raise CaseError(f"the dry coolers cannot cool the facility water to {t_f - 273.15:.2f} °C at an ambient "
                        f"of {t_amb - 273.15:.2f} °C: at full fan speed they reject {q_max / 1e6:.4g} MW of the "
                        f"{q_rejected_w / 1e6:.4g} MW (sized for {design.q_w / 1e6:.4g} MW with "
                        f"{approach:g} K of approach)", file=case.file, element="[cooling] dry coolers",
                        field="facility_supply_t_k", value=t_f,
                        allowed=f">= {t_amb + approach:.2f} K (ambient + dry_cooler_approach_k, at the design duty)")
    out.update(dry_cooler_speed=speed, dry_cooler_fan_w=float(fan_power_affinity(p_design, speed)),
               dry_cooler_over_limit=int(not held), dry_cooler_shortfall_w=0.0 if held else q_rejected_w - q_max)
    return out
