r"""The district-heating stage of a time series: transport delay, a storage tank and plant dispatch, step by step.

A steady solve (:meth:`gigawatt.solver.district_heating.stage.DistrictHeatingNetwork.solve`) makes every pipe's
outlet follow its inlet at once. Over a time series the water takes time to cross the network and the pipes
store heat; this module steps the network through time in the *quasi-dynamic* way that is standard in
district-heating simulation: the hydraulics are steady at every step (pressure waves settle in seconds,
against steps of minutes to hours), the temperatures are dynamic (plug flow with transport delay, the node
method of Benonysson 1991 [1]_, compared with the Modelica plug-flow pipe by van der Heijde et al. 2017 [2]_;
the same split as the quasi-dynamic model of Li et al. 2025 [3]_ and the dynamic module of the commercial
NetSim tool, "a series of stationary calculations separated by a user-identified time interval" [5]_).

One step of ``dt_s`` [s] (:meth:`DistrictHeatingSeries.step`), SI units throughout:

1. **Demand** of every consumer at the step's outdoor temperature and local hour of the day (hot water's
   daily profile, the farms' lights) (:class:`gigawatt.solver.district_heating.stage.ConsumerDemand`),
   ``Q_i`` [W].
2. **Substation flows** deliver the demand at the temperature that reaches them,
   :math:`\dot m_i = Q_i / (c_p \max(T_{\mathrm{in},i} - T_{\mathrm{ret},i},\ 1\,\mathrm K))` [kg/s] (capped at
   the 1 K flow, as in the steady stage; the other substation controls and the minimum flow as the steady
   stage's, :class:`gigawatt.solver.district_heating.stage.SubstationControls`, water at or below the return
   set-point passed through at the bypass flow), with :math:`T_{\mathrm{in},i}` the step-mean temperature of the water
   that arrived at the substation's supply node over the *previous* step (what its controller measured: a
   zero-order hold, one step of lag). Within the step the substation takes out its demand from the water
   that really arrives, cooling it no further than its return temperature
   (:data:`gigawatt.solver.district_heating.dynamics.NODE_TAKE_UP_TO`): its return temperature follows, as a real
   substation's does whose valve keeps the building's supply at its set-point within the hour. Only water
   that arrives too cold for the flow leaves demand unmet (``dh_q_unmet_w``); zero in a steady state. (Had
   the substations cooled to their return temperature with the lagged flow, the heat taken would swing with
   the arriving water: at light load, with water cooling in the streets between draws, that delivered a
   third to nine tenths more than the demand in the summer months of the bundled case's year.)
3. **Hydraulics** for those flows: the prepared Global Gradient network, Newton warm-started from the last
   step's flows and converged to its tolerances (10⁻⁸ Pa, mass balance 10⁻¹³ relative) at every step, or a
   :class:`gigawatt.errors.ConvergenceError`.
4. **Temperatures**: the dynamic network (:class:`gigawatt.solver.district_heating.dynamics.DynamicThermalNetwork`) is
   advanced by ``dt_s`` with those flows: exact exponential loss of every water parcel, substations cooling
   their water to their return temperature; the plant's supply node at ``t_supply_k``.
5. **Plant**: the heat the returning water needs to leave at ``t_supply_k``,
   :math:`Q_\mathrm{plant} = \dot m c_p (T_\mathrm{sup} - \bar T_\mathrm{ret})` over the step [W], is split by
   the dispatch rule between the campus heat (heat pumps, :func:`gigawatt.solver.district_heating.stage._plant`'s
   COP and capacity), the storage tank (:mod:`gigawatt.models.storage`) and the peak boiler.

**Dispatch** ``heat_pumps_first`` (:func:`gigawatt.models.storage.dispatch_heat_pumps_first`): the campus
heat covers the network first; its surplus (up to what the offer lifts and the heat pumps' capacity) charges
the tank up to ``storage_t_max_k``; a deficit discharges the tank down to ``storage_t_min_k``; the boiler
covers the rest. The tank is an energy store at the plant (its exchanger temperatures are not modelled: the
mixed tank's heat is usable between ``storage_t_min_k`` and ``storage_t_max_k``; the stratified tank is
charged at ``t_supply_k`` and discharged by the plant's return water).

**Ledger** (every step and over the run, J): heat put in at the plant (heat pumps + boiler + direct exchange)
+ the pipes' frictional heat (with ``frictional_heating``) = heat delivered to consumers + pipe losses + change
of the heat stored in the pipes' water (and walls) + tank losses + change of the tank's heat + the c_p steps
(``cp_step_j``, 0 to round-off with the network's properties). The pipes' terms
come from the dynamic network's own ledger (each water element's
loss from its temperature history), the tank's from its model, so the residual checks the bookkeeping: it
closes to round-off (10⁻¹⁴ relative a step measured).

Speed: a step is one hydraulic solve and one dynamic step, no fixed point. The hydraulic solve continues the last
step's in a session the series holds (:meth:`gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.held_session`,
``chord_first``): its first step is a chord step from the last answer with the last sparse LDL^T factor (whose
elimination-tree walks are recorded once, :func:`gigawatt.solver.numerics.sparse_ldl.ldl_rows`), plus the
second-order remainder the last step's chord step left, scaled to this change of the substation draws; then Newton
steps, the last of them again with its predecessor's factor once the residual is low enough: on the benchmark town
at 10^4 consumers 2.5 residual evaluations and 1.1 factorisations a step (Newton from the last flows extrapolated
along the change of the draws, as the first step and a step after new per-pipe properties still start, took 3.3
and 2.3). The dynamic network is numbered in the order a step visits its nodes
(:func:`visiting_order`), so its sweep walks memory in order (a third faster at 10^4 consumers than in the
builder's numbering, which puts the substations after all the streets); the dynamic step keeps its upwind
order while no flow changes direction. ``gigawatt bench --dh-series 1e3,1e4``
measures it.

**Properties** (``[district_heating] properties``): the network's one set (``"network"``), or each pipe's
density, viscosity and c_p and each substation's c_p at its own temperatures (``"per_pipe"``, as the steady
stage's :meth:`gigawatt.solver.district_heating.stage.DistrictHeatingNetwork._set_pipe_properties`), taken at the
start of a step from the *previous* step's step-mean inlet and outlet temperatures (a zero-order hold, like the
substations' controllers), not iterated within the step: the properties move by ~1e-3 per kelvin, so the lag
errs by that times a step's temperature change, while an iteration would repeat the hydraulic and dynamic step
(whose parcels would have to be rolled back) two or three times for it; and the run starts from the steady
per-pipe solve, so a series with nothing moving keeps its properties and reproduces it. When they change, each
pipe keeps its volume and its water's temperatures
(:meth:`gigawatt.solver.district_heating.dynamics.DynamicThermalNetwork.set_properties`); the change of stored
enthalpy that re-evaluation makes is booked in the pipes' stored change and balanced in the c_p-step term. The
plant's heat is then the fluid's enthalpy rise m (h(T_sup) - h(T_ret)) (as the steady stage's), and
``dh_q_cp_step_w`` takes what the c_p steps where branches meet, that re-evaluation and the plant's true
enthalpy against the dynamic network's c_p lines add up to, so the ledger is the dynamic network's own.

Validity: as the two models (plug flow, no wall capacity, constant ground temperature; a fully mixed or 1-D
stratified tank), steady hydraulics per step, properties held within a step. Steps from minutes to hours;
a front is resolved to one step, so resolve a delay with ``dt_s`` well below the residence time. With constant
inputs the steps converge to the steady solve (the step map is the steady stage's plain fixed point in
time), once the old water has left the pipes.

References
----------
.. [1] A. Benonysson, "Dynamic modelling and operational optimization of district heating systems", PhD
   thesis, Technical University of Denmark (1991) (the node method).
.. [2] B. van der Heijde et al., "Dynamic equation-based thermo-hydraulic pipe model for district heating and
   cooling systems", Energy Conversion and Management 151, 158-169 (2017), doi:10.1016/j.enconman.2017.08.072.
.. [3] C. Li, S. Prasad, Y. Bai, C. Turkeri, J. Wang, "A quasi-dynamic model and comprehensive simulation study
   of district heating networks considering temperature delay", Energy 318 (2025), article S0360544225004979
   (steady hydraulics each step, the users' supply temperatures traced back along the transport delay).
.. [4] J. A. Duffie, W. A. Beckman, Solar Engineering of Thermal Processes, 4th ed., Wiley 2013, 8.3-8.4 (tanks).
.. [5] Vitec Energy, NetSim manual, "Dynamic calculations"
   (http://doc.energy.vitec.net/ManualData/ve/en/netsim/dynamiccalculations.htm).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from gigawatt.cases.schema import check_scalar, schema
from gigawatt.errors import CaseError
from gigawatt.models.storage import DISPATCH_RULES, MixedTank, StratifiedTank
from gigawatt.solver.district_heating.dynamics import DEFAULT_MAX_PARCELS, from_district_heating
from gigawatt.solver.district_heating.surroundings import PipeSurroundings, ground_at_series_start
from gigawatt.solver.numerics.thermal_kernel import array_sum, upwind_order
from gigawatt.solver.district_heating.stage import (MIN_DRIVING_DT_K, PROPERTY_TOL_K, ZERO_FLOW_RTOL, DemandSteps,
                                              HeatOffer, _plant, heat_pump_cop, network_pump, pipe_friction_w,
                                              prepare_district_heating)

HYDRAULIC_TOL_PA = 1e-8
"""Default pressure-balance tolerance of a step's hydraulic solve [Pa]: the hydraulic solver's own."""
STEP_LEDGER_KEYS = ("heat_in_j", "delivered_j", "pipe_loss_j", "pipe_stored_change_j", "tank_loss_j",
                    "tank_stored_change_j", "cp_step_j", "friction_j")
"""The terms of the stage's ledger (module notes), summed over the run in :attr:`DistrictHeatingSeries.ledger`: heat
in at the plant, then what it goes to, then the pipes' frictional heat (heat in too)."""
_OUT_KEYS = STEP_LEDGER_KEYS[1:-1]


def _where(case, field, value=None, allowed=None):
    return {"file": case.file, "element": "[district_heating]", "field": field, "value": value, "allowed": allowed}


def make_tank(case, s: dict, t_return_k: float):
    """The plant's storage tank from the ``storage*`` settings (None for ``storage = none``), checked: a volume
    and a UA are needed, ``storage_t_min_k < storage_t_max_k <= t_supply_k``, the start temperature within
    them. ``t_return_k`` [K]: the plant's return temperature at the start (a stratified tank's bottom water)."""
    kind = s.get("storage", "none")
    if kind == "none":
        return None
    for field in ("storage_volume_m3", "storage_ua_w_per_k"):
        if s.get(field) is None:
            raise CaseError(f"a {kind} storage tank needs {field}", **_where(case, field, None, "a number"))
    t_sup = s["t_supply_k"]
    t_max = s["storage_t_max_k"] if s.get("storage_t_max_k") is not None else t_sup
    t_min = s["storage_t_min_k"]
    if t_max > t_sup:
        raise CaseError("the heat pumps charge the tank at the supply temperature: it cannot get hotter",
                        **_where(case, "storage_t_max_k", t_max, f"<= t_supply_k = {t_sup:g} K"))
    if not t_min < t_max:
        raise CaseError("the tank's lowest temperature must lie below its highest",
                        **_where(case, "storage_t_min_k", t_min, f"< storage_t_max_k = {t_max:g} K"))
    t0 = s["storage_t_start_k"] if s.get("storage_t_start_k") is not None else t_min
    if not t_min <= t0 <= t_max:
        raise CaseError("the tank's start temperature lies outside its range",
                        **_where(case, "storage_t_start_k", t0, f"[{t_min:g}, {t_max:g}] K"))
    if s["dispatch"] not in DISPATCH_RULES:  # the schema allows only registered rules; kept for make_case callers
        raise CaseError("unknown dispatch rule", **_where(case, "dispatch", s["dispatch"], ", ".join(DISPATCH_RULES)))
    common = dict(volume_m3=s["storage_volume_m3"], ua_w_per_k=s["storage_ua_w_per_k"],
                  t_ambient_k=s["storage_ambient_t_k"], t_min_k=t_min, t_max_k=t_max, t_k=t0)
    if kind == "mixed":
        return MixedTank(**common)
    return StratifiedTank(**common, n_layers=int(s["storage_layers"]), t_charge_k=t_max,
                          t_return_k=min(t_return_k, t_max - 1e-6))


def campus_heat_available_w(case, s: dict, offer: HeatOffer | None, q_net_w: float, t_supply_k: float,
                            t_return_k: float) -> tuple[float, float]:
    """What the campus can give the plant this step [W], and the heat pumps' COP (NaN without them).

    Heat pumps: :math:`\\min(\\text{capacity},\\ Q_\\mathrm{avail}\\,\\mathrm{COP}/(\\mathrm{COP}-1))` (the
    campus heat plus the electricity that lifts it), the COP as the steady stage's
    (:func:`gigawatt.solver.district_heating.stage.heat_pump_cop`). Direct exchange: all the offer when the campus
    water reaches the supply temperature (less the approach), else only the share of the network's heat
    that warms the return water as far as it reaches, ``(T_reach - T_ret)/(T_sup - T_ret)`` of ``q_net_w``."""
    if offer is None:
        return 0.0, math.nan
    if s["interface"] == "heat_pump":
        cop = heat_pump_cop(case, s, offer.t_source_min_k, t_supply_k)
        if not cop > 1.0:
            return 0.0, cop
        cap = s["hp_capacity_w"] if s["hp_capacity_w"] is not None else math.inf
        return min(cap, offer.q_available_w * cop / (cop - 1.0)), cop
    reach = offer.t_source_k - s["direct_approach_k"]
    if reach >= t_supply_k:
        return offer.q_available_w, math.nan
    share = max(0.0, (reach - t_return_k) / (t_supply_k - t_return_k)) if t_supply_k > t_return_k else 0.0
    return min(offer.q_available_w, share * max(q_net_w, 0.0)), math.nan


@njit(cache=True)
def step_branch_flows(m_hyd_kg_s, flow_kg_s, branch_order, rtol, m_hyd_out, m_branch_out):
    """A step's branch flows [kg/s] for the dynamic network, in one pass: ``m_hyd_out`` the hydraulic branches'
    ``m_hyd_kg_s`` with every flow of at most ``rtol`` times the largest (at least 1e-300 kg/s) set to 0 (rounding
    about a standstill), and ``m_branch_out`` the thermal network's branches (those, then the consumers' supply and
    return sides at ``flow_kg_s``) at each position ``branch_order`` of the dynamic network. Returns whether any
    consumer draws (a ``flow_kg_s`` not 0)."""
    n_h, n_c = m_hyd_kg_s.shape[0], flow_kg_s.shape[0]
    big = 0.0
    for b in range(n_h):
        big = max(big, abs(m_hyd_kg_s[b]))
    limit = rtol * max(big, 1e-300)
    for b in range(n_h):
        m_hyd_out[b] = 0.0 if abs(m_hyd_kg_s[b]) <= limit else m_hyd_kg_s[b]
    for j in range(branch_order.shape[0]):
        b = branch_order[j]
        if b < n_h:
            m_branch_out[j] = m_hyd_out[b]
        else:  # a consumer's supply side, or (one consumer count on) its return side
            c = b - n_h
            m_branch_out[j] = flow_kg_s[c if c < n_c else c - n_c]
    for i in range(n_c):
        if flow_kg_s[i] != 0.0:
            return True
    return False


@njit(cache=True)
def substation_values(demand_w, takes_demand, t_return_k, dyn_sub, value_out):
    """Each substation's node value in the dynamic network (numbered ``dyn_sub``): the heat it takes out [W]
    (``demand_w``, where ``takes_demand``), else the return temperature it cools to [K]."""
    for i in range(demand_w.shape[0]):
        value_out[dyn_sub[i]] = demand_w[i] if takes_demand[i] else t_return_k[i]


@njit(cache=True)
def lowest_difference(p, a, b):
    """min(p[a] - p[b]) as ``np.min`` gives it (NaN if any difference is NaN; ``inf`` for none)."""
    lo = np.inf
    for i in range(a.shape[0]):
        d = p[a[i]] - p[b[i]]
        if d < lo or d != d:
            lo = d
            if d != d:
                return d
    return lo


@njit(cache=True)
def substation_draws(heat, law_kg_s, given_kg_s, cr, cs, flow_out, inject_out, scratch):
    """A step's substation flows [kg/s] into ``flow_out`` (the control law's ``law_kg_s`` where ``heat``, else the
    given ``given_kg_s``) and the node injections they make [kg/s] into ``inject_out`` (into the network at each
    consumer's return node ``cr``, out at its supply node ``cs``; ``scratch`` as long): each node's sums in consumer
    order, the two sides subtracted last (as ``bincount(cr, flow) - bincount(cs, flow)``, to the bit)."""
    inject_out[:] = 0.0
    scratch[:] = 0.0
    for i in range(flow_out.shape[0]):
        q = law_kg_s[i] if heat[i] else given_kg_s[i]
        flow_out[i] = q
        inject_out[cr[i]] += q
        scratch[cs[i]] += q
    for k in range(inject_out.shape[0]):
        inject_out[k] -= scratch[k]


@njit(cache=True)
def substation_figures(demand_w, flow_kg_s, cp, flow_max_kg_s, t_supply_min_k, heat, cold, holds_return, t_node_k,
                       q_node_w, dyn_cs, dyn_sub, min_driving_dt_k, t_in_out, delivered_out, short_out, totals_out):
    """A step's substation figures in one pass: each substation's inlet temperature [K] (the step mean at its
    supply node, ``t_node_k[dyn_cs]``) into ``t_in_out``, the heat it delivered [W] (``-q_node_w[dyn_sub]``) into
    ``delivered_out`` and the demand it missed [W] into ``short_out``; ``cp`` [J/(kg K)] each substation's, or one
    value for all; ``totals_out`` [W] the sums of ``delivered_out``, ``demand_w`` and ``short_out`` (NumPy's
    ``np.sum``, to the bit: :func:`gigawatt.solver.numerics.thermal_kernel.array_sum`). Returns
    ``(undersupplied, bypassed)``: the substations with a demand whose water arrived below ``t_supply_min_k``, that
    pass it through (``heat`` and ``cold``), or that draw their 1 K flow or flow limit (``holds_return``, ``flow``
    at least min(demand / (c_p 1 K), flow_max) less 1e-12 of it); and those that pass it through."""
    under = 0
    bypassed = 0
    one_cp = cp.shape[0] == 1
    for i in range(demand_w.shape[0]):
        d = demand_w[i]
        t_in = t_node_k[dyn_cs[i]]
        t_in_out[i] = t_in
        got = -q_node_w[dyn_sub[i]]
        delivered_out[i] = got
        short_out[i] = max(d - got, 0.0)
        if d > 0:
            by = heat[i] and cold[i]
            hi = min(d / ((cp[0] if one_cp else cp[i]) * min_driving_dt_k), flow_max_kg_s[i])
            if by:
                bypassed += 1
            if t_in < t_supply_min_k[i] or by or (heat[i] and holds_return[i] and flow_kg_s[i] >= hi * (1 - 1e-12)):
                under += 1
    totals_out[0] = array_sum(delivered_out)
    totals_out[1] = array_sum(demand_w)
    totals_out[2] = array_sum(short_out)
    return under, bypassed


@njit(cache=True)
def fastest_water_m_s(m_kg_s, rho_kg_m3, area_m2):
    """The largest |m| / (rho A) over the pipes [m/s] (0 for none)."""
    v = 0.0
    for b in range(area_m2.shape[0]):
        v = max(v, abs(m_kg_s[b]) / (rho_kg_m3[b] * area_m2[b]))
    return v


def visiting_order(n_node, branch_from, branch_to, m_branch_kg_s):
    """``(nodes, branches)``: the nodes in the upwind order of these flows (Kahn's algorithm, as a dynamic step
    visits them, :func:`gigawatt.solver.numerics.thermal_kernel.upwind_order`) and the branches by the position of their
    upstream node (then as given): numbered so, a step walks its arrays in order. ``(None, None)`` when the
    flows circle a loop (no upwind order)."""
    m = np.asarray(m_branch_kg_s, dtype=float).copy()
    m[np.abs(m) <= ZERO_FLOW_RTOL * max(float(np.max(np.abs(m), initial=0.0)), 1e-300)] = 0.0
    order, cyc = upwind_order(n_node, np.asarray(branch_from, np.int64), np.asarray(branch_to, np.int64), m)
    if cyc >= 0:
        return None, None
    pos = np.empty(n_node, np.int64)
    pos[order] = np.arange(n_node)
    up = np.where(m >= 0, pos[branch_from], pos[branch_to])
    return order, np.argsort(up, kind="stable")


class DistrictHeatingSeries:
    """The district-heating stage prepared once from a case, stepped through time (module notes).

    Figures of :meth:`step` (scalars; the step's means): the plant split as ``_plant`` names it (``hp_cop``,
    ``hp_heat_w``, ``hp_electric_w``, ``q_from_campus_w``, ``q_recovered_w``, ``boiler_heat_w``,
    ``boiler_fuel_w`` [W]); ``dh_q_plant_w`` (heat the returning water needs to leave at the supply temperature),
    ``dh_q_delivered_w``, ``dh_q_demand_w``, ``dh_q_unmet_w`` (demand the substations missed, the one-step lag),
    ``dh_q_loss_w`` (pipes), ``dh_q_cp_step_w`` (the c_p-step term, module notes "Properties") [W];
    ``dh_t_supply_k``, ``dh_t_return_k`` [K]; ``dh_flow_kg_s`` [kg/s];
    ``dh_pipe_stored_j`` (enthalpy of the pipes' water above 0 degC at the step's end) and
    ``dh_pipe_stored_change_j`` [J]; ``dh_storage_charge_w``, ``dh_storage_discharge_w``, ``dh_storage_loss_w``,
    ``dh_curtailed_w`` (campus heat the heat pumps could have lifted and nothing took) [W],
    ``dh_storage_energy_j`` (tank heat above ``storage_t_min_k``) [J], ``dh_storage_t_k`` (mean) [K];
    ``dh_pump_w``, ``dh_pump_speed``, ``dh_pump_head_m``, ``dh_pump_efficiency``, ``dh_pump_dp_pa``,
    ``dh_booster_w``, ``dh_plant_electric_w`` (heat pumps + pumps) [W]; ``dh_velocity_max_m_s`` (the fastest
    pipe's water) [m/s]; ``dh_ledger_residual_j`` [J] and
    ``dh_ledger_residual`` (relative) of the step; ``dh_hydraulic_iterations``; ``dh_undersupplied``
    (substations whose water arrived below ``t_supply_min_k``, that draw their 1 K flow cap or flow limit, or that
    pass water through); ``dh_bypassed`` (substations with a demand whose water arrived at or below their
    return set-point, passed through at their bypass flow, :mod:`gigawatt.models.substations`). The run's ledger:
    :attr:`ledger` (J, :data:`STEP_LEDGER_KEYS`) and :meth:`energy_balance_residual`.

    ``DistrictHeatingSeries(case)`` prepares the network (:func:`prepare_district_heating`), solves it steady at
    the case's outdoor temperature and fills the pipes with that steady state (the start of the run), and makes
    the storage tank of the ``[district_heating]`` ``storage*`` settings. :meth:`step` then advances it.

    Parameters
    ----------
    case
        A case with ``[district_heating]`` and its ``dh_*`` tables.
    offer : HeatOffer, optional
        The campus heat of the steady start (only its plant split; the network does not depend on it).
    max_parcels : int
        Water parcels a pipe keeps (:class:`gigawatt.solver.district_heating.dynamics.DynamicThermalNetwork`).
    hydraulic_tol_pa : float
        Tolerance of every branch's pressure balance in the hydraulic Newton iteration [Pa] (the solver's own
        default 1e-8 Pa; the mass balance is held to 1e-13 relative whatever it is). 1e-4 Pa saves about one
        Newton iteration in three on the benchmark town, the flows then within about 1e-8 relative.
    reorder : bool
        Number the dynamic network in the order a step visits it (:func:`visiting_order`; the same results,
        faster on large networks). Arrays of ``dyn`` and ``last`` are then in that order; :meth:`node_t_k`,
        :meth:`pipe_flow_kg_s`, ``consumer_flow_kg_s`` and ``t_in`` are in the case's.
    """

    def __init__(self, case, offer: HeatOffer | None = None, *, max_parcels: int = DEFAULT_MAX_PARCELS,
                 hydraulic_tol_pa: float = HYDRAULIC_TOL_PA, reorder: bool = True):
        self.case = case
        self.hydraulic_tol_pa = float(hydraulic_tol_pa)
        self.dh = dh = prepare_district_heating(case)
        ground_at_series_start(dh)  # the seasonal ground on the series' first day
        self.s = dict(dh.s)
        state = dh.solve(offer)
        nc = dh.sub.size
        self.n_pipe = dh.pf.size
        t_all = np.concatenate([state.node_t_k, state.consumer_t_return_k])
        m_branch = np.concatenate([state.pipe_flow_kg_s[dh.live], state.booster_flow_kg_s[dh.live_pumps],
                                   state.consumer_flow_kg_s, state.consumer_flow_kg_s])
        # the dynamic network numbered in the order a step visits it (module notes, "Speed")
        self._nodes, self._branches = visiting_order(dh.tnet.n_node, dh.tnet.branch_from, dh.tnet.branch_to,
                                                     m_branch) if reorder else (None, None)
        self.dyn = from_district_heating(dh, max_parcels=max_parcels, node_order=self._nodes,
                                         branch_order=self._branches)
        n_all = dh.tnet.n_node
        self._npos = np.arange(n_all) if self._nodes is None else np.argsort(self._nodes)  # dynamic position of a node
        self._nperm = np.arange(n_all) if self._nodes is None else self._nodes
        self._bperm = np.arange(m_branch.size) if self._branches is None else self._branches
        self._dyn_cs, self._dyn_sub = self._npos[dh.cs], self._npos[dh.sub]
        self._dyn_sup, self._dyn_ret = int(self._npos[dh.sup]), int(self._npos[dh.ret])
        gain = pipe_friction_w(dh, m_branch, state.node_p_pa)[self._bperm] if dh.s["frictional_heating"] else None
        self._surround = PipeSurroundings(dh, self.dyn, self._branches)  # seasonal ground, twin pipes
        self._t_node_last = t_all
        self._surround.apply(self.dyn, m_branch, t_all)
        self.dyn.fill_steady(t_all[self._nperm], m_branch[self._bperm], gain)
        # Heat substations deliver their demand within a step, their return temperature following (module notes)
        heat_sub = ~dh.is_flow
        self.dyn.take_up_to(self._dyn_sub[heat_sub], dh.controls.floor[heat_sub])
        self.m_hyd = m_branch[:dh.hnet.n_branch].copy()   # warm start of the hydraulics
        self._inject = np.bincount(dh.cr, state.consumer_flow_kg_s, dh.n) - np.bincount(dh.cs, state.consumer_flow_kg_s,
                                                                                         dh.n)
        self._history = None
        self._hs = self._hs_net = None  # the hydraulic session of the steps, and its network
        self._t_in = state.consumer_t_supply_k.copy()        # what reached each substation over the last step
        self.heat = ~dh.is_flow
        self._takes_demand = dh.flow_heat | self.heat  # substations whose dynamic node takes out their demand
        self._pumps_live = bool(dh.live_pumps.any())
        self.tank = make_tank(case, self.s, state.figures["dh_t_return_k"])
        self.ledger = dict.fromkeys(STEP_LEDGER_KEYS, 0.0)
        self.steps = 0
        self.node_value = np.zeros(dh.n + nc)
        self.m_node = np.zeros(dh.n + nc)
        self._steady = state
        self.per_pipe = dh.fluid_table is not None
        self._t_props = self._property_temperatures(None) if self.per_pipe else None  # where they were taken
        self.last = None                                     # the dynamic network's last DynamicStep
        self._flow = state.consumer_flow_kg_s.copy()
        self._demand_columns = None                          # heat-demand file column of each series consumer

    def _predict(self, inject):
        """Start of this step's hydraulic Newton iteration: the last step's branch flows plus, where the substation
        draws change as they did between the last two steps, that change of the branch flows scaled by the
        projection a = <dI, dI_last>/<dI_last, dI_last> of the injection change on the last one (clipped to
        [0, 2]; 0 — the plain warm start — when they are unrelated). Only the start: the iteration converges to
        the same tolerances from any."""
        if self._history is None:
            return self.m_hyd
        m_old, inj_old, m_last, inj_last = self._history
        d_last = inj_last - inj_old
        den = float(np.sum(d_last * d_last))  # not BLAS: its threads wait for cores on a busy machine
        if den <= 0.0:
            return self.m_hyd
        a = min(max(float(np.sum((inject - inj_last) * d_last)) / den, 0.0), 2.0)
        return m_last + a * (m_last - m_old)

    def _solve_hydraulics(self, inject):
        """This step's hydraulic solve for the node injections ``inject`` [kg/s], continuing the last step's in
        a session of the network (module notes, "Speed"; a new session, from :meth:`_predict`'s start, for a new
        network: per-pipe properties)."""
        hnet = self.dh.hnet
        if self._hs is None or self._hs_net is not hnet:  # (per-pipe properties give a new network)
            self._hs, self._hs_net = hnet.held_session(), hnet
        if self._hs.last is not None:
            return hnet.solve(node_injection_kg_s=inject, m_start_kg_s=self.m_hyd, tol_pa=self.hydraulic_tol_pa,
                              session=self._hs, chord_first=True)
        return hnet.solve(node_injection_kg_s=inject, m_start_kg_s=self._predict(inject),
                          tol_pa=self.hydraulic_tol_pa, session=self._hs)

    @property
    def t_in(self) -> np.ndarray:
        """Step-mean temperature of the water that reached each consumer's supply node in the last step [K]
        (case order)."""
        return self._t_in.copy()

    @property
    def consumer_flow_kg_s(self) -> np.ndarray:
        """Each consumer's flow in the last step [kg/s] (case order)."""
        return self._flow.copy()

    def node_t_k(self) -> np.ndarray:
        """Step-mean temperature of each ``dh_node`` in the last step (of the start's steady state before the
        first step) [K] (case order)."""
        return self.last.t_node_k[self._npos[:self.dh.n]] if self.last is not None else self._steady.node_t_k.copy()

    def pipe_flow_kg_s(self) -> np.ndarray:
        """Each ``dh_pipe``'s flow in the last step [kg/s], NaN out of service (case order)."""
        out = np.full(self.dh.live.size, np.nan)
        out[self.dh.live] = self.m_hyd[:self.n_pipe]
        return out

    @property
    def steady_start(self):
        """The steady solve (``DHState``) the run started from."""
        return self._steady

    def use_heat_demand(self, names, file=None) -> None:
        """Take the series consumers' demands from a heat-demand file whose value columns are ``names`` (consumer
        ids or ``demand_group`` names; :meth:`step` ``heat_demand_w`` then gives a step's row of it). Errors
        (a column that names no series consumer, a series consumer without a column) name the file."""
        self._demand_columns = self.dh.demand_model.series_columns(names, file)

    def demands(self, outdoor_t_k, hour_of_day, heat_demand_w=None) -> DemandSteps:
        """The consumers' heat demands over a run of steps at outdoor temperatures ``outdoor_t_k`` [K] in the
        local hours ``hour_of_day`` [h] (arrays, one value a step), the series consumers' from the rows
        ``heat_demand_w`` [W] of the heat-demand file (steps x columns, :meth:`use_heat_demand`; None: their
        ``demand_w``): the inputs checked and the demand models evaluated once for the run
        (:meth:`~gigawatt.solver.district_heating.stage.ConsumerDemand.over`); give :meth:`step` each step's
        :meth:`~gigawatt.solver.district_heating.stage.DemandSteps.row` as ``demand_w``. An input out of range is
        one :class:`CaseError` naming the field, as :meth:`step` gives it."""
        t = np.asarray(outdoor_t_k, dtype=float).ravel()
        h = np.asarray(hour_of_day, dtype=float).ravel()
        fields = schema()["district_heating"]
        for name, x in (("outdoor_t_k", t), ("hour_of_day", h)):
            lo, hi, lo_in, hi_in = fields[name].interval
            bad = np.flatnonzero(~(((x >= lo) if lo_in else (x > lo)) & ((x <= hi) if hi_in else (x < hi))))
            if bad.size:
                check_scalar(fields[name], float(x[bad[0]]), file=self.case.file, element="district heating step")
        series_w = None
        if heat_demand_w is not None:
            if self._demand_columns is None:
                raise CaseError("a heat-demand row was given, but no heat-demand file's columns were named "
                                "(use_heat_demand)", file=self.case.file, element="district heating step")
            series_w = np.asarray(heat_demand_w, dtype=float)[:, self._demand_columns]
        return self.dh.demand_model.over(t, h, series_w)

    def step(self, offer: HeatOffer | None, outdoor_t_k: float, dt_s: float, *,
             t_supply_k: float | None = None, hour_of_day: float | None = None, heat_demand_w=None,
             demand_w=None) -> dict:
        """Advance the network and the plant by ``dt_s`` [s] at outdoor temperature ``outdoor_t_k`` [K] with the
        campus's heat ``offer``; ``t_supply_k`` [K] overrides the plant's supply temperature from this step on;
        ``hour_of_day`` [h] is the local hour the step starts in (hot water's profile, the farms' lights; None:
        the ``[district_heating]`` ``hour_of_day``); ``heat_demand_w`` [W]: the step's row of the heat-demand
        file named by :meth:`use_heat_demand` (the series consumers' demands; None: their ``demand_w``);
        ``demand_w`` [W]: the step's row of :meth:`demands` at this ``outdoor_t_k`` and ``hour_of_day`` (the
        demands then taken from it, its inputs checked with the run's).
        Returns the step's figures (scalars; names as ``DHState.figures`` where they mean the same)."""
        dh, s, case = self.dh, self.s, self.case
        jump = self._update_properties() if self.per_pipe else 0.0
        cp = dh.cp_sub  # the network's c_p, or each substation's with per-pipe properties
        if not (isinstance(dt_s, (int, float, np.integer, np.floating)) and math.isfinite(dt_s) and dt_s > 0):
            raise CaseError("the time step must be positive", file=case.file, element="district heating step",
                            field="dt_s", value=dt_s, allowed="> 0 s, finite")
        fields = schema()["district_heating"]
        hour = dh.s["hour_of_day"] if hour_of_day is None else hour_of_day
        if demand_w is not None:  # a row of demands(): checked and evaluated with the run
            s["outdoor_t_k"], s["hour_of_day"] = float(outdoor_t_k), float(hour)
            self.demand = demand_w
        elif (outdoor_t_k != s["outdoor_t_k"] or hour != s["hour_of_day"] or not hasattr(self, "demand")
                or heat_demand_w is not None):
            check_scalar(fields["outdoor_t_k"], float(outdoor_t_k), file=case.file, element="district heating step")
            check_scalar(fields["hour_of_day"], float(hour), file=case.file, element="district heating step")
            s["outdoor_t_k"], s["hour_of_day"] = float(outdoor_t_k), float(hour)
            series_w = None
            if heat_demand_w is not None:
                if self._demand_columns is None:
                    raise CaseError("a heat-demand row was given, but no heat-demand file's columns were named "
                                    "(use_heat_demand)", file=case.file, element="district heating step")
                series_w = np.asarray(heat_demand_w, dtype=float)[self._demand_columns]
            self.demand = dh.demand_model.at(s["outdoor_t_k"], s["hour_of_day"], series_w)
        if t_supply_k is not None and t_supply_k != s["t_supply_k"]:
            check_scalar(fields["t_supply_k"], float(t_supply_k), file=case.file, element="district heating step")
            s["t_supply_k"] = float(t_supply_k)
        demand, t_sup, t_ret_c = self.demand, s["t_supply_k"], dh.t_ret_c
        n = dh.n

        # 2. substation flows from the temperature that reached them over the last step (their control modes,
        # gigawatt.models.substations; water at or below the return set-point is passed through)
        law, _, cold = dh.controls.flows(demand, self._t_in, t_sup, cp)
        flow, inject = np.empty(law.size), np.empty(n)
        substation_draws(self.heat, law, dh.given_flow, dh.cr, dh.cs, flow, inject, np.empty(n))
        # 3. hydraulics, warm-started and converged (ConvergenceError otherwise)
        hyd = self._solve_hydraulics(inject)
        self._history = (self.m_hyd, self._inject, hyd.m_kg_s, inject)
        self.m_hyd, self._inject = hyd.m_kg_s, inject
        m_hyd, m_branch = np.empty(hyd.m_kg_s.size), np.empty(self._bperm.size)
        draws = step_branch_flows(hyd.m_kg_s, flow, self._bperm, ZERO_FLOW_RTOL, m_hyd, m_branch)
        m_node = self.m_node  # in the dynamic network's numbering
        m_node[self._dyn_sup] = hyd.supply_kg_s[dh.sup] - inject[dh.sup]
        m_node[self._dyn_ret] = hyd.supply_kg_s[dh.ret] - inject[dh.ret]
        if not draws and not self._pumps_live:
            # no substation draws and no pump drives: the water stands still (the hydraulics' answer is
            # rounding noise about zero, which no relative test tells from a flow); it cools in the pipes
            m_hyd[:] = 0.0
            m_branch[:] = 0.0  # (no flow: the consumers' sides too)
            m_node[self._dyn_sup] = m_node[self._dyn_ret] = 0.0
        # in the thermal network's numbering, for the frictional heat and the surroundings (seasonal ground, twins)
        m_thermal = (np.concatenate([m_hyd, flow, flow])
                     if s["frictional_heating"] or self._surround.active or dh.twins is not None else None)
        # 4. the water moves on
        value = self.node_value
        value[self._dyn_sup] = t_sup
        substation_values(demand, self._takes_demand, t_ret_c, self._dyn_sub, value)
        gain = None
        if s["frictional_heating"]:
            gain = pipe_friction_w(dh, m_thermal, hyd.p_pa)[self._bperm]
        self._surround.apply(self.dyn, m_thermal, self._t_node_last)
        r = self.dyn.step(value, m_branch, m_node, float(dt_s), q_gain_w=gain)
        if dh.twins is not None:  # (what the twins' partners see next step; nothing else reads it)
            self._t_node_last = r.t_node_k[self._npos]
        exchange_w = self._surround.exchange_w(m_thermal, self._t_node_last)
        self._surround.advance(float(dt_s))
        nc = demand.size
        t_in, delivered_w, short, sums = np.empty(nc), np.empty(nc), np.empty(nc), np.empty(3)
        under, bypassed = substation_figures(demand, flow, cp if np.ndim(cp) else np.array([float(cp)]),
                                             dh.controls.flow_max, dh.t_supply_min, self.heat, cold,
                                             dh.controls.holds_return, r.t_node_k, r.q_node_w, self._dyn_cs,
                                             self._dyn_sub, MIN_DRIVING_DT_K, t_in, delivered_w, short, sums)
        q_delivered, q_demand, q_unmet = sums.tolist()  # (np.sum's bits)
        self._t_in = t_in
        self.last, self._flow = r, flow
        self.steps += 1
        g = r.ledger
        q_plant = (g["heat_added_j"] + g["boundary_in_j"]) / dt_s
        t_ret = float(r.t_node_k[self._dyn_ret])
        m_plant = float(m_node[self._dyn_sup])
        cp_step_j = g["cp_step_j"] - jump
        if self.per_pipe:
            # the plant's heat as the fluid's enthalpy rise, free of the sweep's reference temperature (as the
            # steady stage's); the c_p-step term takes the difference, so the ledger is the dynamic network's
            h_plant = dh.enthalpy_j_per_kg(np.array([t_sup, t_ret]))
            q_true = float(m_node[self._dyn_sup] * h_plant[0] + m_node[self._dyn_ret] * h_plant[1])
            cp_step_j += (q_true - q_plant) * dt_s
            q_plant = q_true

        # 5. plant: campus heat, tank, boiler
        plant = self._dispatch(offer, q_plant, t_sup, t_ret, float(dt_s))
        pump = self._pumps(hyd, m_plant)
        step_ledger = {"heat_in_j": plant.pop("_heat_in_w") * dt_s, "delivered_j": g["heat_extracted_j"],
                       "pipe_loss_j": g["loss_j"], "pipe_stored_change_j": g["stored_change_j"] + jump,
                       "tank_loss_j": plant["dh_storage_loss_w"] * dt_s,
                       "tank_stored_change_j": plant.pop("_tank_change_j"), "cp_step_j": cp_step_j,
                       "friction_j": g["friction_j"]}
        for key in STEP_LEDGER_KEYS:
            self.ledger[key] += step_ledger[key]
        residual = step_ledger["heat_in_j"] + step_ledger["friction_j"] - sum(step_ledger[k] for k in _OUT_KEYS)
        return dict(
            plant, dh_q_plant_w=q_plant, dh_t_supply_k=t_sup, dh_t_return_k=t_ret, dh_flow_kg_s=m_plant,
            dh_q_delivered_w=q_delivered, dh_q_demand_w=q_demand,
            dh_q_unmet_w=q_unmet, dh_q_loss_w=g["loss_j"] / dt_s, dh_q_friction_w=g["friction_j"] / dt_s,
            dh_q_twin_exchange_w=exchange_w, dh_q_cp_step_w=cp_step_j / dt_s,
            dh_pipe_stored_change_j=step_ledger["pipe_stored_change_j"], dh_pipe_stored_j=self.dyn.stored_total_j,
            dh_ledger_residual_j=residual,
            dh_ledger_residual=abs(residual) / max(max(abs(v) for v in step_ledger.values()), 1e-300),
            dh_hydraulic_iterations=int(hyd.iterations), dh_undersupplied=int(under),
            dh_bypassed=int(bypassed), **pump,
            dh_velocity_max_m_s=fastest_water_m_s(m_hyd, dh.rho_pipe, dh.pipe_area),
            dh_plant_electric_w=plant["hp_electric_w"] + pump["dh_pump_w"] + pump["dh_booster_w"])

    def _property_temperatures(self, r):
        """Each pipe's inlet and outlet and each substation's inlet and outlet temperature [K] (case order),
        concatenated: of the last step ``r`` (step means; a pipe without flow takes its two nodes'), or of the
        steady start (``r`` None)."""
        dh = self.dh
        pt = dh.hnet.branch_to[:self.n_pipe]
        if r is None:
            st = self._steady
            m, t_node, t_out = st.pipe_flow_kg_s[dh.live], st.node_t_k, st.pipe_t_out_k[dh.live]
            t_sub_in, t_sub_out = st.consumer_t_supply_k, st.consumer_t_return_k
        else:
            m = self.m_hyd[:self.n_pipe]
            t_node = r.t_node_k[self._npos[:dh.n]]
            t_out = r.t_branch_out_k[np.argsort(self._bperm)[:self.n_pipe]]
            t_sub_in, t_sub_out = r.t_node_k[self._dyn_cs], r.t_node_k[self._dyn_sub]
        t_in = np.where(m >= 0, t_node[dh.pf], t_node[pt])
        t_out = np.where(m != 0, t_out, np.where(m >= 0, t_node[pt], t_node[dh.pf]))
        return np.concatenate([t_in, t_out, t_sub_in, t_sub_out])

    def _update_properties(self) -> float:
        """Per-pipe properties for the step about to be taken, from the last step's temperatures (module
        notes): each pipe's density, viscosity and c_p and each substation's c_p into the hydraulic, thermal
        and dynamic networks, when any of those temperatures moved by more than
        :data:`gigawatt.solver.district_heating.stage.PROPERTY_TOL_K` since the properties were taken. Returns the
        change of the pipes' stored enthalpy this re-evaluation makes [J] (0 when nothing moved)."""
        if self.last is None:
            return 0.0
        t = self._property_temperatures(self.last)
        if float(np.max(np.abs(t - self._t_props), initial=0.0)) <= PROPERTY_TOL_K:
            return 0.0
        self._t_props = t
        dh, n_p, nc = self.dh, self.n_pipe, self.dh.sub.size
        dh._set_pipe_properties(t[:n_p], t[n_p:2 * n_p], t[2 * n_p:2 * n_p + nc], t[2 * n_p + nc:])
        rho = np.full(dh.tnet.n_branch, dh.rho)
        rho[:n_p] = dh.rho_pipe
        return self.dyn.set_properties(np.arange(dh.tnet.n_branch), rho[self._bperm],
                                       np.asarray(dh.tnet.cp_branch, dtype=float)[self._bperm])

    def _dispatch(self, offer, q_net_w, t_sup, t_ret, dt_s) -> dict:
        """The plant's split of this step's network heat (module notes), in the names of ``_plant`` plus the
        storage figures; ``_heat_in_w`` and ``_tank_change_j`` for the ledger."""
        case, s, tank = self.case, self.s, self.tank
        if tank is None:
            out = _plant(case, s, offer, q_net_w, t_sup, t_ret)
            # the plant brings the returning water to the supply temperature: heat in = q_net (heat pumps + boiler
            # + direct exchange; < 0 when water comes back warmer than the supply)
            out.update(dh_storage_charge_w=0.0, dh_storage_discharge_w=0.0, dh_storage_energy_j=0.0,
                       dh_storage_loss_w=0.0, dh_storage_t_k=math.nan, dh_curtailed_w=0.0,
                       _heat_in_w=q_net_w, _tank_change_j=0.0)
            return out
        q_need = max(q_net_w, 0.0)
        avail, cop = campus_heat_available_w(case, s, offer, q_need, t_sup, t_ret)
        if isinstance(tank, StratifiedTank):
            tank.t_return_k = min(t_ret, tank.t_charge_k - 1e-6)
        d = DISPATCH_RULES[s["dispatch"]](q_need, avail, tank.max_charge_w(dt_s), tank.max_discharge_w(dt_s))
        before = tank.energy_j()
        got, led = tank.step(d["charge_w"] - d["discharge_w"], dt_s)
        charge, discharge = max(got, 0.0), max(-got, 0.0)
        to_net = min(q_need, avail)
        campus_w = to_net + charge          # heat the heat pumps (or the direct exchanger) give
        boiler = q_need - to_net - discharge
        if boiler < 0.0:  # a stratified tank gave more than asked: the heat pumps give less to the network
            campus_w += boiler
            boiler = 0.0
        out = {"hp_cop": cop, "hp_heat_w": 0.0, "hp_electric_w": 0.0, "q_from_campus_w": 0.0, "q_recovered_w": 0.0}
        if s["interface"] == "heat_pump" and campus_w > 0:
            out.update(hp_heat_w=campus_w, hp_electric_w=campus_w / cop, q_from_campus_w=campus_w * (1 - 1 / cop))
        elif s["interface"] == "direct":
            out["q_from_campus_w"] = campus_w
        out["q_recovered_w"] = out["q_from_campus_w"]
        out.update(boiler_heat_w=boiler, boiler_fuel_w=boiler / s["boiler_efficiency"],
                   dh_storage_charge_w=charge, dh_storage_discharge_w=discharge, dh_storage_energy_j=tank.energy_j()
                   - tank.mass_kg * tank.cp_j_per_kg_k * (tank.t_min_k - tank.t_ref_k),
                   dh_storage_loss_w=led["loss_j"] / dt_s, dh_storage_t_k=self.tank_mean_t_k(),
                   dh_curtailed_w=max(avail - to_net - charge, 0.0),
                   _heat_in_w=campus_w + boiler + (q_net_w if q_net_w < 0 else 0.0),
                   _tank_change_j=tank.energy_j() - before)
        return out

    def tank_mean_t_k(self) -> float:
        """Mean water temperature of the tank [K] (NaN without one)."""
        if self.tank is None:
            return math.nan
        return float(np.mean(self.tank.t_layers_k)) if isinstance(self.tank, StratifiedTank) else self.tank.t_k

    def _pumps(self, hyd, m_plant) -> dict:
        """The network pump (lifting the supply network so the worst substation sees ``dp_min_pa``, as the
        steady stage) and the booster pumps' electricity [W]."""
        dh, s, rho = self.dh, self.s, self.dh.rho
        p = hyd.p_pa
        lift = 0.0
        if dh.lift_mode:
            lift = (s["dp_min_pa"] - lowest_difference(p, dh.cs, dh.cr)) if dh.sub.size else s["dp_min_pa"]
        pump_dp = p[dh.sup] + lift - p[dh.ret]
        pump = network_pump(self.case, s, pump_dp, m_plant, rho)
        m_pump = hyd.m_kg_s[self.n_pipe:]
        lift_pa = p[dh.qt] - p[dh.qf]
        booster_w = float(np.sum(np.maximum(m_pump * lift_pa, 0.0) / (rho * dh.pump_efficiency)))
        return dict(pump, dh_pump_dp_pa=float(pump_dp), dh_booster_w=booster_w)

    def energy_balance_residual(self) -> float:
        """|heat in + frictional heat − delivered − pipe losses − pipe stored change − tank losses − tank stored
        change| over the run, relative to the largest term."""
        g = self.ledger
        scale = max(abs(v) for v in g.values())
        r = g["heat_in_j"] + g["friction_j"] - sum(g[k] for k in _OUT_KEYS)
        return abs(r) / scale if scale > 0 else 0.0
