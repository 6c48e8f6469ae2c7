"""The district-heating stage: the network the campus's reusable heat feeds, and the plant at its head.

What it solves (SI units throughout):

1. **Demand** of every consumer at the outdoor temperature, through the consumer-model registry
   (:mod:`gigawatt.models.consumers`), or given; ``mass_flow`` consumers draw a given flow and take out a
   given heat, or none (a pandapipes sink, or a flow control in series with a heat exchanger), the water
   exchange (a pandapipes sink).
2. **Hydraulics** by the Global Gradient solver, prepared once
   (:func:`gigawatt.solver.numerics.hydraulic_network.prepare_hydraulic_network`): substations are flow-controlled, so
   they enter as a draw at their supply node and a return at their return node. The supply and return
   networks then meet only at the plant: the return node is held at ``p_return_pa``; the supply node at
   ``p_supply_pa`` when given, otherwise the pump lifts the whole supply network until the worst-placed
   substation sees ``dp_min_pa`` (differential-pressure control), which sets the pump's head and power.
   Flow may run either way in any pipe, and a pipe with no flow is no special case (the solver's laminar
   derivative is finite at zero flow).
3. **Temperatures** by one upwind sweep (:mod:`gigawatt.solver.numerics.thermal_kernel`) with the exact exponential
   heat loss of each buried pipe to the ground; a substation cools its water to ``t_return_k`` (or passes
   it through if it arrives colder) and draws the flow that delivers its demand,
   ``m cp (T_in(m) - T_return) = Q``. ``T_in`` depends on the flows (slower water loses more heat), so the
   flows are the fixed point m = Q / (cp (T_in(m) - T_return)), bounded by the lossless flow and the flow
   at a 1 K difference (its cap), with Anderson acceleration [1]_; each iterate takes one Newton step of
   the hydraulics (the first of a solve without a warm start settles them; each continues from the last one's
   evaluation, :meth:`gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.session`) and a thermal sweep
   (of the supply network alone where nothing couples it to the return network, :class:`SupplySide`; the whole
   network once, at the answer), and the answer is checked with the hydraulics converged. A prepared network
   (:func:`prepare_district_heating`) starts each solve from the last one, each substation's inlet temperature
   predicted at its new flow (:meth:`DistrictHeatingNetwork._predicted_t_in`). A substation is
   flagged under-supplied when its water arrives below ``t_supply_min_k`` or it gets less than its demand
   (capped). Rounding flows in dead ends and stagnant loops are set to zero before the thermal sweep.
   That is the ``fixed_return`` control; the others of :data:`gigawatt.models.substations.SUBSTATION_CONTROLS`
   (:class:`SubstationControls`) draw m = Q / (cp dT) (``fixed_delta_t``), or ``fixed_return`` within a flow
   limit (``flow_limited``); each keeps max(demand flow, ``flow_min_kg_s``), its outlet then at
   T_in - Q / (m cp). A substation whose water arrives at or below its return set-point even at its largest
   flow passes it through at its demand's flow at the design difference (or its minimum), and is counted in
   ``dh_bypassed``.
4. **Plant**: the heat the network needs, ``m cp (T_supply - T_return)`` at the plant, comes from heat
   pumps lifting the campus's reusable heat (COP from the Carnot fraction with approach temperatures,
   :func:`gigawatt.models.heat_pumps.cop_carnot_fraction`; capacity limit), or from a direct exchanger
   when the campus heat is warm enough; a peak boiler covers the rest.

Ledger: heat put in at the plant = heat delivered to consumers + pipe losses, to rounding. With
``frictional_heating`` the pipes' pressure-drop work (:func:`pipe_friction_w`) is heat put in too, dissipated
evenly along each pipe (:func:`gigawatt.models.pipe_heat.frictional_heat_outlet_share`); without it (the
default) the pump's heat is neglected.

References
----------
.. [1] H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal.
   49(4), 1715-1735 (2011). doi:10.1137/10078356X
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from gigawatt.cases.schema import check_scalar, schema
from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.consumers import (BUILDING_TYPES, DANISH_NORMAL_YEAR_DEGREE_DAYS_K_D, DHW_PROFILES, YEAR_S,
                                       consumer_heat_demand_w, home_heat_parameters, homes_heated_annual,
                                       lights_on_fraction)
from gigawatt.models.coolant import coolant_properties
from gigawatt.models.cooling_plant import pump_speed_for_head
from gigawatt.models.heat_pumps import cop_carnot_fraction, cop_from_map
from gigawatt.models.flow_correlations import GRAVITY_M_S2, pump_efficiency
from gigawatt.models.ground import ground_temperature_kusuda
from gigawatt.models.pipe_heat import buried_single_pipe_u, pipe_wall_heat_capacity_j_per_m_k, steel_outer_diameter_m
from gigawatt.models.substations import (SUBSTATION_CONTROLS, cold_bypass_flow, flow_fixed_return, outlet_temperature,
                                         with_minimum_flow)
from gigawatt.solver.numerics.anderson import combine, history_step
from gigawatt.solver.district_heating.fixed_point_kernels import (fixed_return_flows, heat_residuals, next_flows,
                                                                   supply_side_flows)
from gigawatt.solver.numerics.hydraulic_network import prepare_hydraulic_network
from gigawatt.solver.district_heating.twin import prepare_twin_pipes, solve_with_twins, twin_exchange_w
from gigawatt.solver.numerics.thermal_kernel import NODE_HEAT, NODE_JUNCTION, NODE_OUTLET_T, NODE_SUPPLY, prepare_thermal_network

MIN_DRIVING_DT_K = 1.0
"""Smallest supply-minus-return temperature difference a substation draws its flow for [K]."""
HEAT_RTOL = 1e-10
"""Relative heat residual of every substation at which the flow-temperature iteration stops."""
ZERO_FLOW_RTOL = 1e-12
"""Pipe flows below this fraction of the largest are rounding (dead ends, stagnant loops): set to zero."""
MAX_FIXED_POINT = 100
PROPERTY_TOL_K = 1e-9
"""Picard tolerance of ``properties = "per_pipe"`` [K]: the largest change of a pipe's or substation's inlet or
outlet temperature between two iterates (water's density moves by ~7e-4 relative per kelvin at 60 °C, so 1e-9 K is ~1e-12 of
the properties, near their rounding)."""
MAX_PROPERTY_ITERATIONS = 30
SETTLE_HYDRAULICS_RTOL = 1e-6
"""Relative heat residual below which every iterate of the flow fixed point settles its hydraulics (above
it one Newton step an iterate)."""
STALL_ITERATES = 4
"""Iterates without a new best heat residual after which the flow fixed point leaves Anderson acceleration
for safeguarded secant steps per substation (and settled hydraulics)."""
ANDERSON_DEPTH = 5
"""Iterates the Anderson acceleration of the substation flows combines (5: a step of a time series in 6
iterates where a plain fixed point with per-substation secant steps took 7, with half the hydraulic Newton
steps; measured on the 10⁴-consumer town of ``gigawatt bench``)."""


@dataclass(frozen=True)
class HeatOffer:
    """What the campus hands the district-heating plant: reusable heat at a temperature.

    ``q_available_w`` [W] in the facility water at ``t_source_k`` [K], which the plant may cool down to
    ``t_source_min_k`` [K] (the facility supply temperature)."""

    q_available_w: float
    t_source_k: float
    t_source_min_k: float


def _where(case, element, field, value=None, allowed=None):
    return {"file": case.file, "element": element, "field": field, "value": value, "allowed": allowed}


def pipe_u_w_per_m_k(pipes: pd.DataFrame, case=None) -> np.ndarray:
    """Heat-loss coefficient per metre of each pipe [W/(m K)]: given, or from its pre-insulated geometry
    (whose validity, bore < steel outer diameter < casing < twice the depth, is checked)."""
    u = pipes["u_w_per_m_k"].to_numpy(float)
    d = pipes["diameter_m"].to_numpy(float)
    od = steel_outer_diameter_m(d, pipes["outer_diameter_m"].to_numpy(float))
    casing = pipes["casing_diameter_m"].to_numpy(float)
    casing = np.where(np.isnan(casing), 2.0 * od + 0.05, casing)
    depth = pipes["depth_m"].to_numpy(float)
    need = np.isnan(u)
    ids = pipes["id"].to_numpy()
    file = case.file if case is not None else None
    for field, value, bad, allowed in (
            ("outer_diameter_m", od, od <= d, lambda i: f"> diameter_m = {d[i]:g} m"),
            ("casing_diameter_m", casing, casing <= od, lambda i: f"> the steel outer diameter {od[i]:g} m"),
            ("depth_m", depth, 2.0 * depth <= casing, lambda i: f"> half the casing diameter, {casing[i] / 2:g} m")):
        hit = np.flatnonzero(need & bad)
        if hit.size:
            i = int(hit[0])
            raise CaseError("the pre-insulated pipe's geometry is impossible", file=file,
                            element=f"dh_pipe '{ids[i]}'", field=field, value=float(value[i]), allowed=allowed(i))
    if need.any():
        u = u.copy()
        u[need] = buried_single_pipe_u(od[need], casing[need],
                                       pipes["insulation_conductivity_w_per_m_k"].to_numpy(float)[need],
                                       pipes["soil_conductivity_w_per_m_k"].to_numpy(float)[need],
                                       pipes["depth_m"].to_numpy(float)[need])
    return u


def pipe_ground_t_k(s: dict, pipes: pd.DataFrame, idle: np.ndarray | None = None) -> np.ndarray:
    """The ambient of each pipe in service [K], the undisturbed ground at its depth: ``ground_t_k``, or with
    ``ground = "kusuda"`` the seasonal profile at ``day_of_year`` (:func:`pipe_ground_at`); then ``idle`` (zero-length
    branches after the pipes) at ``ground_t_k``."""
    t = pipe_ground_at(s, pipes["depth_m"].to_numpy(float), s["day_of_year"] * 86400.0)
    return t if idle is None else np.concatenate([t, np.full(idle.size, s["ground_t_k"])])


def pipe_ground_at(s: dict, depth_m: np.ndarray, time_s: float) -> np.ndarray:
    """Undisturbed ground temperature at each depth [m] at time ``time_s`` from 1 January [s] by the
    ``[district_heating]`` settings ``s``: ``ground_t_k`` for ``ground = "constant"``, else Kusuda & Achenbach's
    profile (:func:`gigawatt.models.ground.ground_temperature_kusuda`) [K]."""
    if s["ground"] != "kusuda":
        return np.full(np.size(depth_m), float(s["ground_t_k"]))
    mean = s["ground_mean_t_k"] if s["ground_mean_t_k"] is not None else s["ground_t_k"]
    return np.asarray(ground_temperature_kusuda(depth_m, time_s, mean, s["ground_amplitude_k"],
                                                s["ground_coldest_day"] * 86400.0, s["ground_diffusivity_m2_s"]),
                      dtype=float) * np.ones(np.size(depth_m))


def pipe_friction_w(dh, m_branch_kg_s, p_pa) -> np.ndarray:
    """Frictional heat of each branch of the thermal network of ``dh`` [W]: the work of each pipe's pressure
    drop, abs(m (p_from - p_to)) / rho (its nodes at one height, so the drop is all friction and minor losses),
    and none in pumps and substations. ``m_branch_kg_s``: the thermal network's branch flows [kg/s];
    ``p_pa``: the node pressures [Pa]."""
    n_pipe = dh.pf.size
    out = np.zeros(m_branch_kg_s.size)
    to = dh.tnet.branch_to[:n_pipe]
    out[:n_pipe] = np.abs(m_branch_kg_s[:n_pipe] * (p_pa[dh.pf] - p_pa[to])) / dh.rho_pipe
    return out


def pipe_wall_capacity_j_per_k(pipes: pd.DataFrame, s: dict, case=None) -> np.ndarray:
    """Heat capacity of each pipe's wall [J/K] for a time series: given per metre, or the steel service pipe
    between its inner and outer diameter (outer default: 1.1 × inner) with ``pipe_wall_capacity = "steel"``,
    else none."""
    c = pipes["wall_heat_capacity_j_per_m_k"].to_numpy(float)
    if s["pipe_wall_capacity"] == "steel":
        d = pipes["diameter_m"].to_numpy(float)
        od = steel_outer_diameter_m(d, pipes["outer_diameter_m"].to_numpy(float))
        bad = np.flatnonzero(np.isnan(c) & (od <= d))
        if bad.size:
            i = int(bad[0])
            raise CaseError("a steel wall needs an outer diameter above the inner one",
                            file=case.file if case is not None else None, element=f"dh_pipe '{pipes['id'].iloc[i]}'",
                            field="outer_diameter_m", value=float(od[i]), allowed=f"> diameter_m = {d[i]:g} m")
        c = np.where(np.isnan(c), pipe_wall_heat_capacity_j_per_m_k(d, od), c)
    return np.nan_to_num(c) * pipes["length_m"].to_numpy(float)


def consumer_demand_w(case, s: dict) -> np.ndarray:
    """Heat demand of every consumer at the outdoor temperature and hour of the day of the settings ``s`` [W]
    (for mass_flow consumers the heat they take out at their flow, 0 when none is given)."""
    return ConsumerDemand(case).at(s["outdoor_t_k"], s["hour_of_day"])


_SIGLINDE = {"a": 3.0890721, "b": -37.1849497, "c": 5.7137959, "d": 0.1071295}
_DHW_PROFILE_NAMES = tuple(DHW_PROFILES)
_DEMAND_MODELS = {  # kind: (its parameter columns, the count it is linear in, the model's keyword arguments at an hour)
    "homes_degree_days": (("t_design_k", "space_design_w", "t_heating_limit_k", "dhw_w", "dhw_profile_index"),
                          "n_homes", lambda p, hour: {
                              "t_design_k": p["t_design_k"], "space_design_w": p["space_design_w"],
                              "t_heating_limit_k": p["t_heating_limit_k"], "dhw_w": p["dhw_w"], "hour_of_day": hour,
                              "dhw_profile": _DHW_PROFILE_NAMES[int(p["dhw_profile_index"])]}),
    "homes_siglinde": (("customer_value_w",), "n_homes", lambda p, hour: {**p, **_SIGLINDE}),
    "vertical_farm": (("t_set_k", "u_envelope_w_per_m2k", "led_power_w_per_m2", "ventilation_w_per_m2k",
                       "lights_on_h", "photoperiod_h"), "floor_area_m2", lambda p, hour: {
                          "floor_area_m2": 1.0, "t_set_k": p["t_set_k"],
                          "u_envelope_w_per_m2k": p["u_envelope_w_per_m2k"],
                          "led_power_w_per_m2": p["led_power_w_per_m2"],
                          "ventilation_w_per_m2k": p["ventilation_w_per_m2k"],
                          "lit": lights_on_fraction(hour, p["lights_on_h"], p["photoperiod_h"])}),
}
_HOME_KEYS = ("building_type", "t_design_k", "t_heating_limit_k", "design_load_w", "dhw_w", "dhw_profile")
_HOME_CHOICES = ("building_type", "dhw_profile")


def home_parameters(case) -> pd.DataFrame:
    """Each consumer's home parameters resolved from its building type (:func:`home_heat_parameters`):
    ``space_design_w``, ``dhw_w``, ``design_load_w`` (space heating + peak-hour hot water) [W],
    ``annual_heat_j`` in the normal year [J] and ``dhw_profile_index``; NaN for consumers that are not
    ``homes_degree_days``. Errors name the first consumer with the offending parameters. Kept with the case
    (:meth:`gigawatt.cases.case.Case.derived`, keyed by its consumer table): the steady stage, the series and
    the results' attributes all ask for it."""
    return case.derived(("dh_home_parameters",), ("dh_consumer",), lambda: _home_parameters(case))


def _home_parameters(case) -> pd.DataFrame:
    """:func:`home_parameters`, computed: one call of :func:`home_heat_parameters` per distinct parameter set
    (the sets found by factorising each key column, in the order of their first consumer)."""
    c = case.tables["dh_consumer"]
    names = ("space_design_w", "dhw_w", "design_load_w", "annual_heat_j", "dhw_profile_index")
    values = np.full((len(c), len(names)), np.nan)
    kind, kinds = case.codes("dh_consumer", "kind")  # (codes kept with the case: no string compares)
    homes = np.flatnonzero(kind == kinds.index("homes_degree_days"))
    if homes.size:
        columns = [c[k].to_numpy()[homes] for k in _HOME_KEYS]
        # the choice fields by their codes (kept with the case), the numbers as they are
        keys = np.stack([case.codes("dh_consumer", k)[0][homes].astype(float) if k in _HOME_CHOICES
                         else col.astype(float) for k, col in zip(_HOME_KEYS, columns)], axis=1)
        first, inverse = _distinct_rows(keys)
        per_set = np.empty((first.size, len(names)))
        for k in range(first.size):  # sets in the order of their first consumer
            p = {key: col[first[k]] for key, col in zip(_HOME_KEYS, columns)}
            try:
                r = home_heat_parameters(p["building_type"], p["t_design_k"], p["t_heating_limit_k"],
                                         None if pd.isna(p["design_load_w"]) else p["design_load_w"],
                                         None if pd.isna(p["dhw_w"]) else p["dhw_w"], p["dhw_profile"])
            except CaseError as err:
                raise err.located(file=case.file, element=f"dh_consumer '{c['id'].iloc[homes[first[k]]]}'") from None
            per_set[k] = [r[name] for name in names[:-1]] + [float(_DHW_PROFILE_NAMES.index(p["dhw_profile"]))]
        values[homes] = per_set[inverse]
    return pd.DataFrame(values, index=c.index, columns=list(names))


def annual_heat_per_home_j(case) -> tuple[float, str]:
    """Mean annual heat of the case's homes in a normal year [J] (weighted by their number) and its basis;
    without ``homes_degree_days`` consumers, the detached house of
    :data:`gigawatt.models.consumers.BUILDING_TYPES`."""
    c = case.tables["dh_consumer"]
    kind, kinds = case.codes("dh_consumer", "kind")
    homes = kind == kinds.index("homes_degree_days")
    n = c["n_homes"].to_numpy(float)[homes]
    if homes.any() and n.sum() > 0:
        e = home_parameters(case)["annual_heat_j"].to_numpy(float)[homes]
        building, names = case.codes("dh_consumer", "building_type")
        types = sorted(names[k] for k in np.unique(building[homes]))
        return float(np.sum(n * e) / n.sum()), (
            f"the network's {n.sum():,.0f} homes ({', '.join(types)}) in a normal Danish year, "
            f"{DANISH_NORMAL_YEAR_DEGREE_DAYS_K_D:.0f} K d")
    return BUILDING_TYPES["detached"].annual_heat_j, "a detached standard house in a normal Danish year"


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: the first row of each distinct row of ``values`` [rows x columns] (in the order
    they first occur; NaN equal to NaN) and the distinct row of each row (``values[first][inverse]`` is
    ``values``). Each column is factorised, and the codes joined into one integer key when they fit."""
    if values.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    same = (values == values[0]) | (np.isnan(values) & np.isnan(values[0]))
    if same.all():  # one set (a town of one building type): no factorising
        return np.zeros(1, np.int64), np.zeros(values.shape[0], np.int64)
    key = np.zeros(values.shape[0], np.int64)
    span = 1
    for col in values.T:
        codes, uniques = pd.factorize(col, use_na_sentinel=False)
        span *= max(len(uniques), 1)
        if span >= 2 ** 62:  # too many combinations for one integer: distinct rows of the codes so far
            _, key = np.unique(np.stack([key, codes], axis=1), axis=0, return_inverse=True)
            key, span = key.ravel().astype(np.int64), int(key.max()) + 1
            continue
        key = key * max(len(uniques), 1) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.ravel()]


class ConsumerDemand:
    """The consumers' heat demand as a function of the outdoor temperature and the hour of the day, through
    the consumer-model registry (:func:`gigawatt.models.consumers.consumer_heat_demand_w`). Each model is
    linear in its count (homes, floor area), so it is evaluated once per distinct parameter set; the sets are
    found once here, and :meth:`at` costs one model call per set. Errors name the first consumer with the
    offending set."""

    def __init__(self, case):
        c = case.tables["dh_consumer"]
        self.case, self.n = case, len(c)
        code, labels = case.codes("dh_consumer", "kind")
        rows_of = {kind: np.flatnonzero(code == k) for k, kind in enumerate(labels)}
        self.ids = c["id"].to_numpy()
        need = {"fixed": ("demand_w",), "process": ("demand_w",), "homes_siglinde": ("customer_value_w",),
                "vertical_farm": ("floor_area_m2",), "mass_flow": ("mass_flow_kg_s",), "series": ("demand_w",)}
        for kind, fields in need.items():
            for f in fields:
                missing = rows_of[kind][np.isnan(c[f].to_numpy(float)[rows_of[kind]])]
                if missing.size:
                    i = int(missing[0])
                    raise CaseError(f"a {kind} consumer needs {f}", **_where(case, f"dh_consumer '{self.ids[i]}'", f))
        self.fixed = np.zeros(self.n, dtype=bool)
        for kind in ("fixed", "process", "series"):
            self.fixed[rows_of[kind]] = True
        self.fixed[rows_of["mass_flow"]] = c["demand_w"].notna().to_numpy()[rows_of["mass_flow"]]
        # series consumers: their demand_w in a steady solve, their column of the heat_demand file in a series
        self.series_rows = rows_of["series"]
        group = c["demand_group"].to_numpy(object) if "demand_group" in c else np.full(len(c), None, object)
        self.series_names = np.array([str(g) if isinstance(g, str) and g.strip() else str(self.ids[i])
                                      for i, g in zip(self.series_rows, group[self.series_rows])], dtype=object)
        self.fixed_w = c["demand_w"].to_numpy(float)[self.fixed]
        resolved = home_parameters(case)

        def column(name):
            return (resolved if name in resolved else c)[name].to_numpy(float)
        self.groups = []  # (kind, rows, parameter sets, set of each row, count of each row, first row of each set)
        for kind, (cols, count, _) in _DEMAND_MODELS.items():
            rows = rows_of[kind]
            if rows.size:
                values = np.stack([column(name)[rows] for name in cols], axis=1)
                first, inverse = _distinct_rows(values)
                self.groups.append((kind, rows, values[first], inverse, column(count)[rows], rows[first]))

    def series_columns(self, names, file=None) -> np.ndarray:
        """For each series consumer, the position of its column (its ``demand_group``, else its id) among the
        heat-demand file's columns ``names``. A column that names no series consumer or group, or a series
        consumer without a column, is a :class:`CaseError`."""
        names = [str(x) for x in names]
        known = set(self.series_names)
        for name in names:
            if name not in known:
                raise CaseError("heat-demand column names no series consumer or demand_group", file=file,
                                element="header", field=name,
                                allowed=", ".join(sorted(known)) or "no dh_consumer of kind series")
        where = {name: k for k, name in enumerate(names)}
        for i, name in zip(self.series_rows, self.series_names):
            if name not in where:
                raise CaseError("this series consumer has no column in the heat-demand file", file=file,
                                element=f"dh_consumer '{self.ids[i]}'", field="demand_group", value=name,
                                allowed="a column named so")
        return np.array([where[name] for name in self.series_names], dtype=np.int64)

    def at(self, t_out_k: float, hour_of_day: float, series_w=None) -> np.ndarray:
        """Heat demand of every consumer at outdoor temperature ``t_out_k`` [K] in the local hour of the day
        ``hour_of_day`` [h] (hot water's profile, the farms' lights) [W]; ``series_w`` [W]: the series
        consumers' demands of the step (in their order; None: their ``demand_w``)."""
        return self._assemble([np.array([float(self._model(kind, key, t_out_k, hour_of_day, i))
                                         for key, i in zip(keys, first)])
                               for kind, _, keys, _, _, first in self.groups], series_w)

    def over(self, t_out_k: np.ndarray, hour_of_day: np.ndarray, series_w=None) -> "DemandSteps":
        """The demands of a run of steps (arrays ``t_out_k`` [K], ``hour_of_day`` [h], one value a step;
        ``series_w`` [W] steps x series consumers or None), each parameter set's model evaluated once for the
        run: :meth:`DemandSteps.row` ``j`` is :meth:`at` of step ``j``, bit for bit."""
        per_unit = []
        for kind, _, keys, _, _, first in self.groups:
            if kind in _EXACT_ON_ARRAYS:
                sets = [np.broadcast_to(np.asarray(self._model(kind, key, t_out_k, hour_of_day, i), dtype=float),
                                        t_out_k.shape) for key, i in zip(keys, first)]
            else:
                sets = [np.array([float(self._model(kind, key, t, h, i)) for t, h in zip(t_out_k, hour_of_day)])
                        for key, i in zip(keys, first)]
            per_unit.append(np.stack(sets, axis=1))
        return DemandSteps(self, per_unit, series_w)

    def _assemble(self, per_unit, series_w) -> np.ndarray:
        """Every consumer's demand [W] from each group's demand per unit of its parameter sets (``per_unit``, in
        :attr:`groups` order) and the series consumers' ``series_w`` (None: their ``demand_w``)."""
        q = np.zeros(self.n)
        q[self.fixed] = self.fixed_w
        if series_w is not None:
            q[self.series_rows] = series_w
        for (_, rows, _, inverse, count, _), p in zip(self.groups, per_unit):
            q[rows] = p[inverse] * count
        return q

    def energy_j(self, t_out_k, hour_of_day, dt_s: float) -> np.ndarray:
        """Heat every consumer demands over a series of steps of ``dt_s`` [s] at outdoor temperatures
        ``t_out_k`` [K] starting in the local hours ``hour_of_day`` [h] (arrays of the same length) [J]: the
        models evaluated on the whole series at once, no network solve."""
        t, h = np.asarray(t_out_k, dtype=float), np.asarray(hour_of_day, dtype=float)
        e = np.zeros(self.n)
        e[self.fixed] = self.fixed_w * t.size * dt_s
        for kind, rows, keys, inverse, count, first in self.groups:
            per_unit = np.array([float(np.sum(self._model(kind, key, t, h, i))) * dt_s for key, i in zip(keys, first)])
            e[rows] = per_unit[inverse] * count
        return e

    def _model(self, kind, key, t_out_k, hour_of_day, first):
        """One parameter set's demand per unit (home, m² of farm) [W]; errors name consumer ``first``."""
        cols, _, params = _DEMAND_MODELS[kind]
        try:
            return consumer_heat_demand_w(kind, t_out_k, **params(dict(zip(cols, key)), hour_of_day))
        except CaseError as err:
            raise err.located(file=self.case.file, element=f"dh_consumer '{self.ids[first]}'") from None



_EXACT_ON_ARRAYS = ("homes_degree_days", "vertical_farm")
"""Demand models whose arithmetic is elementwise (+ − × ÷, max, floor, mod): the same bits on a run's arrays as
on each step's scalars. The others (``**``) are evaluated a step at a time."""


class DemandSteps:
    """The consumers' heat demands over a run of steps (:meth:`ConsumerDemand.over`); :meth:`row` gives step
    ``j``'s demand of every consumer [W]."""

    def __init__(self, model: ConsumerDemand, per_unit: list, series_w=None):
        self.model, self.per_unit, self.series_w = model, per_unit, series_w

    def row(self, j: int) -> np.ndarray:
        """Every consumer's demand at step ``j`` of the run [W]."""
        return self.model._assemble([p[j] for p in self.per_unit],
                                    None if self.series_w is None else self.series_w[j])

class SubstationControls:
    """The substations' control modes (:data:`gigawatt.models.substations.SUBSTATION_CONTROLS`, the
    ``dh_consumer`` fields ``control``, ``delta_t_k``, ``flow_max_kg_s``, ``flow_min_kg_s``), prepared once:
    the one flow law of the steady stage and the time series. Errors name the first consumer that lacks a
    field its mode needs."""

    def __init__(self, case, t_return_k: np.ndarray, heat: np.ndarray, t_floor_k: float):
        c = case.tables["dh_consumer"]
        ids = c["id"].to_numpy()
        if "control" in c:  # each consumer's mode by its code (kept with the case: no string compares)
            code, labels = case.codes("dh_consumer", "control")
            is_mode = {m: code == labels.index(m) for m in SUBSTATION_CONTROLS}
        else:
            is_mode = {m: np.full(len(c), m == "fixed_return") for m in SUBSTATION_CONTROLS}
        for mode, field in (("fixed_delta_t", "delta_t_k"), ("flow_limited", "flow_max_kg_s")):
            missing = np.flatnonzero(is_mode[mode] & heat & c[field].isna().to_numpy())
            if missing.size:
                i = int(missing[0])
                raise CaseError(f"a {mode} substation needs {field}", **_where(case, f"dh_consumer '{ids[i]}'", field))
        self.t_ret = t_return_k
        self.delta_t = np.nan_to_num(c["delta_t_k"].to_numpy(float), nan=1.0)
        self.flow_max = np.where(is_mode["flow_limited"], c["flow_max_kg_s"].to_numpy(float), np.inf)
        self.flow_min = np.where(heat, c["flow_min_kg_s"].to_numpy(float), 0.0)
        self.holds_return = np.zeros(len(c), dtype=bool)
        for m, law in SUBSTATION_CONTROLS.items():
            if law.holds_return:
                self.holds_return |= is_mode[m]
        self.fixed_dt = heat & ~self.holds_return
        # lowest temperature a substation cools its water to: its return set-point, or the ground's
        self.floor = np.where(self.holds_return, t_return_k, t_floor_k)
        self.groups = [(m, np.flatnonzero(is_mode[m])) for m in SUBSTATION_CONTROLS if np.any(is_mode[m])]
        self.plain = (len(self.groups) == 1 and self.groups[0][0] == "fixed_return" and not np.any(self.flow_min))

    def flows(self, demand_w, t_in_k, t_supply_k, cp, pass_cold=True):
        """``(flow, by_heat, cold)``: each substation's flow [kg/s] for its demand at inlet temperatures
        ``t_in_k`` [K] (the plant supplying at ``t_supply_k``); where its outlet follows from the heat it
        takes out (fixed drop, minimum flow) rather than its return set-point; and where its water arrives at
        or below the set-point and is passed through (:func:`gigawatt.models.substations.cold_bypass_flow`;
        with ``pass_cold`` False such a substation keeps its control law: the steady stage's search for a flow
        that warms its water).
        Consumers without a heat demand model (mass_flow) are left to the caller."""
        if self.plain:
            m = flow_fixed_return(demand_w, t_in_k, self.t_ret, cp, MIN_DRIVING_DT_K)
            by_heat = np.zeros(m.size, dtype=bool)
        else:
            m = np.empty(demand_w.size)
            for mode, rows in self.groups:
                m[rows] = SUBSTATION_CONTROLS[mode].flow(demand_w[rows], t_in_k[rows], self.t_ret[rows],
                                                         self.delta_t[rows], self.flow_max[rows],
                                                         cp if np.ndim(cp) == 0 else cp[rows])
            by_heat = self.fixed_dt | (m < self.flow_min)
            m = with_minimum_flow(m, self.flow_min)
        cold = self.holds_return & (t_in_k <= self.t_ret)
        if pass_cold and np.any(cold):
            m = np.where(cold, self.bypass_flow(demand_w, t_supply_k, cp), m)
            by_heat &= ~cold
        return m, by_heat, cold

    def bypass_flow(self, demand_w, t_supply_k, cp):
        """The flow each substation passes water through at when it arrives too cold [kg/s]
        (:func:`gigawatt.models.substations.cold_bypass_flow`)."""
        return cold_bypass_flow(demand_w, t_supply_k, self.t_ret, self.flow_min, cp, self.flow_max)

    def outlet_k(self, demand_w, t_in_k, flow, by_heat, cp):
        """Outlet temperature each substation is set to [K]: its return set-point (or its inlet's, if colder),
        or where ``by_heat`` the inlet less the heat it takes out, no lower than its floor."""
        t_set = np.minimum(self.t_ret, t_in_k)
        if np.any(by_heat):
            t_heat = np.maximum(outlet_temperature(demand_w, t_in_k, flow, cp), np.minimum(self.floor, t_in_k))
            t_set = np.where(by_heat, t_heat, t_set)
        return t_set

    def bounds(self, demand_w, t_supply_k, cp):
        """``(lo, hi)``: the flows a substation's fixed point stays between [kg/s] (the lossless flow and the
        1 K cap, within the flow limit, at least the minimum flow; the fixed drop's flow for that mode)."""
        lo = np.minimum(demand_w / (cp * np.maximum(t_supply_k - self.t_ret, MIN_DRIVING_DT_K)), self.flow_max)
        hi = np.minimum(demand_w / (cp * MIN_DRIVING_DT_K), self.flow_max)
        dt_flow = demand_w / (cp * self.delta_t)
        lo, hi = np.where(self.fixed_dt, dt_flow, lo), np.where(self.fixed_dt, dt_flow, hi)
        return with_minimum_flow(lo, self.flow_min), with_minimum_flow(hi, self.flow_min)


class SupplySide(NamedTuple):
    """The supply network (the plant's supply node and every node joined to it) as a thermal network of its own,
    each substation's draw a flow leaving its supply node: the temperatures reaching the substations, which are
    all the flow fixed point reads, from a sweep of this part alone (the same node equations, taken in the
    same order, as in the sweep of the whole network). Made by :func:`supply_side_of`."""

    net: object             # ThermalNetwork of the supply side
    nodes: np.ndarray       # its nodes: their hydraulic (and thermal) node numbers
    branches: np.ndarray    # its branches: their numbers among the pipes, then booster pumps
    consumer_node: np.ndarray  # each consumer's supply node, numbered among ``nodes``
    source: object          # the whole network's ThermalNetwork it was cut from
    sup_at: int             # the plant's supply node among ``nodes`` (-1: not on this side)


def supply_side_of(tnet, nodes, branches, consumer_node) -> SupplySide:
    """The :class:`SupplySide` of nodes ``nodes`` and branches ``branches`` (pipes, then booster pumps) cut from
    the whole network's thermal network ``tnet`` (its node kinds, branch data and heat capacities)."""
    at = np.full(tnet.n_node, -1)
    at[nodes] = np.arange(nodes.size)
    net = prepare_thermal_network(tnet.node_kind[nodes], at[tnet.branch_from[branches]], at[tnet.branch_to[branches]],
                                  tnet.u_w_per_m_k[branches], tnet.length_m[branches], tnet.t_ambient_k[branches],
                                  tnet.cp_branch[branches], tnet.cp_node[nodes], tnet.t_ref_k,
                                  node_names=nodes)  # (errors name the node as the whole network's would)
    sup_at = np.flatnonzero(tnet.node_kind[nodes] == NODE_SUPPLY)
    return SupplySide(net, nodes, branches, consumer_node, tnet, int(sup_at[0]) if sup_at.size else -1)


class _SupplyTemperatures(NamedTuple):
    """What the fixed point reads of a sweep of the supply side: each substation's inlet temperature [K]."""

    t_in_k: np.ndarray


@dataclass(frozen=True)
class DHState:
    """The district-heating solve, for :func:`add_district_heating`."""

    node_p_pa: np.ndarray
    node_t_k: np.ndarray
    pipe_flow_kg_s: np.ndarray
    pipe_velocity_m_s: np.ndarray
    pipe_t_out_k: np.ndarray
    pipe_loss_w: np.ndarray
    consumer_q_w: np.ndarray
    consumer_demand_w: np.ndarray
    consumer_flow_kg_s: np.ndarray
    consumer_t_supply_k: np.ndarray
    consumer_t_return_k: np.ndarray
    consumer_undersupplied: np.ndarray
    figures: dict
    booster_flow_kg_s: np.ndarray
    booster_head_m: np.ndarray
    booster_power_w: np.ndarray


def solve_district_heating(case, offer: HeatOffer | None) -> DHState:
    """Solve the case's district-heating network and plant (see the module notes):
    ``prepare_district_heating(case).solve(offer)``."""
    return prepare_district_heating(case).solve(offer)


def plant_pressure_pa(s: dict) -> float:
    """The lowest absolute pressure the plant holds [Pa]: its return (or supply, if lower) gauge pressure of the
    ``[district_heating]`` settings ``s`` plus 1 atm. Water at the supply temperature must be liquid there
    (the supply side, where it is hottest, is held higher by the pump)."""
    from gigawatt.models.coolant import P_REFERENCE_PA

    return min(p for p in (s["p_return_pa"], s["p_supply_pa"]) if p is not None) + P_REFERENCE_PA


def prepare_district_heating(case) -> "DistrictHeatingNetwork":
    """Check the case's district-heating network and set up everything that does not change between solves
    (topology, pipe coefficients, the prepared hydraulic and thermal networks, the consumers' demands), for
    :meth:`DistrictHeatingNetwork.solve`, as often as wanted."""
    from gigawatt.models.coolant_store import stored_constants

    s = case.settings["district_heating"]
    nodes, pipes_all, cons = case.tables["dh_node"], case.tables["dh_pipe"], case.tables["dh_consumer"]
    node_ids = nodes["id"].to_numpy()
    n = len(nodes)
    live = pipes_all["in_service"].to_numpy(bool)
    pipes = pipes_all if live.all() else pipes_all[live]  # (a boolean index copies every column)
    # ids to rows: looked up when the case was made and kept with it (Case.ref_rows)
    pf = case.ref_rows("dh_pipe", "from_node")[live]
    pt = case.ref_rows("dh_pipe", "to_node")[live]
    pumps_all = case.tables["dh_pump"]
    live_q = pumps_all["in_service"].to_numpy(bool)
    pumps = pumps_all if live_q.all() else pumps_all[live_q]
    qf = case.ref_rows("dh_pump", "from_node")[live_q]
    qt = case.ref_rows("dh_pump", "to_node")[live_q]
    cs = case.ref_rows("dh_consumer", "supply_node")
    cr = case.ref_rows("dh_consumer", "return_node")
    sup, ret = (_node_row(case, node_ids, s[field], field) for field in ("supply_node", "return_node"))
    t_sup = s["t_supply_k"]
    t_ret_c = cons["t_return_k"].to_numpy(float)
    kind_code, kinds = case.codes("dh_consumer", "kind")
    is_flow = kind_code == kinds.index("mass_flow")
    t_mean = 0.5 * (t_sup + (float(np.mean(t_ret_c)) if len(cons) else t_sup))
    # The supply water must stay liquid at the lowest pressure the plant holds; the properties are those at
    # the mean temperature.
    p_abs = plant_pressure_pa(s)
    stored_constants(s["fluid"], t_sup, "t_supply_k", case.file, p_abs)
    rho, cp, mu, _ = stored_constants(s["fluid"], t_mean, "t_supply_k", case.file, p_abs)
    if s["properties"] == "per_pipe":
        from gigawatt.models.coolant_store import stored_table

        fluid_table = stored_table(s["fluid"], p_abs)
    else:
        fluid_table = None

    ends = (np.concatenate([pf, qf]), np.concatenate([pt, qt]))
    _, label = csgraph.connected_components(sp.coo_matrix((np.ones(ends[0].size), ends), shape=(n, n)),
                                            directed=False)
    _check_reachable(case, label, cs, cr, sup, ret, node_ids)
    demand_model = ConsumerDemand(case)
    demand = demand_model.at(s["outdoor_t_k"], s["hour_of_day"])
    if s["hp_model"] == "map":
        heat_pump_map(case)  # a broken map is an input error even when the campus offers no heat

    fixed = np.full(n, np.nan)
    fixed[ret] = s["p_return_pa"]
    lift_mode = s["p_supply_pa"] is None
    fixed[sup] = 0.0 if lift_mode else s["p_supply_pa"]
    if lift_mode:
        if label[sup] == label[ret]:
            raise CaseError("pipes join the supply and the return network, so the pump's lift is not a single "
                            "pressure: give the plant's supply pressure", **_where(
                                case, "[district_heating]", "p_supply_pa", None, "a pressure [Pa]"))
    rough = pipes["roughness_m"].to_numpy(float) > 0.05 * pipes["diameter_m"].to_numpy(float)
    if rough.any():
        i = int(np.flatnonzero(rough)[0])
        raise CaseError("roughness beyond the friction factor's range", **_where(
            case, f"dh_pipe '{pipes['id'].iloc[i]}'", "roughness_m", float(pipes["roughness_m"].iloc[i]),
            f"<= 0.05 × diameter_m = {0.05 * pipes['diameter_m'].iloc[i]:g} m"))
    hnet = prepare_hydraulic_network(
        node_fixed_p_pa=fixed, pipe_from=pf, pipe_to=pt, pipe_length_m=pipes["length_m"].to_numpy(float),
        pipe_diameter_m=pipes["diameter_m"].to_numpy(float), pipe_roughness_m=pipes["roughness_m"].to_numpy(float),
        pipe_k_minor=pipes["k_minor"].to_numpy(float), density_kg_m3=rho, viscosity_pa_s=mu,
        pump_from=qf, pump_to=qt, pump_h0_m=pumps["h0_m"].to_numpy(float), pump_a_s_m2=pumps["a_s_m2"].to_numpy(float),
        pump_b_s2_m5=pumps["b_s2_m5"].to_numpy(float), pump_speed_ratio=pumps["speed_ratio"].to_numpy(float),
        node_ids=nodes["id"].to_numpy(), pipe_ids=pipes["id"].to_numpy(), pump_ids=pumps["id"].to_numpy(),
        linear_solver="sparse")  # streets and rings: nearly all nodes peel (a cheap minimum-degree order)
    u = pipe_u_w_per_m_k(pipes, case)
    twins, u = prepare_twin_pipes(pipes_all, live, u, case)  # twin pipes (solver/district_heating/twin.py)

    # Thermal network: nodes, then one node per consumer (its substation outlet); branches: pipes, booster
    # pumps (no length, no loss), then consumer supply -> substation -> consumer return (likewise).
    nc = len(cons)
    sub = n + np.arange(nc)
    kind = np.full(n + nc, NODE_JUNCTION, dtype=np.int64)
    kind[sup] = NODE_SUPPLY
    kind[sub[~is_flow]] = NODE_OUTLET_T
    flow_heat = is_flow & (demand > 0)  # a given flow with a given heat taken out: the outlet follows
    kind[sub[flow_heat]] = NODE_HEAT
    idle = np.zeros(qf.size + 2 * nc)
    tnet = prepare_thermal_network(kind, np.concatenate([pf, qf, cs, sub]), np.concatenate([pt, qt, sub, cr]),
                                   np.concatenate([u, idle]), np.concatenate([pipes["length_m"].to_numpy(float), idle]),
                                   pipe_ground_t_k(s, pipes, idle), cp, cp)
    supply_side = None
    if twins is None and fluid_table is None and not s["frictional_heating"] and label[sup] != label[ret]:
        # The supply network alone: what reaches the substations does not depend on the return network
        # (no twin pipe couples the two, no property follows its temperatures), so the fixed point's iterates
        # sweep it alone, and the whole network is swept once, at the answer.
        side = np.flatnonzero(label == label[sup])
        at = np.full(n, -1)
        at[side] = np.arange(side.size)
        n_pipe = pf.size
        rows = np.concatenate([np.flatnonzero(label[pf] == label[sup]),
                               n_pipe + np.flatnonzero(label[qf] == label[sup])])
        supply_side = supply_side_of(tnet, side, rows, at[cs])
    given_flow = np.nan_to_num(cons["mass_flow_kg_s"].to_numpy(float))
    controls = SubstationControls(case, t_ret_c, ~is_flow, s["ground_t_k"])
    area = np.where(kind_code == kinds.index("vertical_farm"), cons["floor_area_m2"].to_numpy(float), 0.0)
    return DistrictHeatingNetwork(
        case=case, s=s, n=n, live=live, pf=pf, live_pumps=live_q, qf=qf, qt=qt,
        pump_efficiency=pumps["efficiency"].to_numpy(float), cs=cs, cr=cr, sup=sup, ret=ret, sub=sub, label=label,
        t_ret_c=t_ret_c, is_flow=is_flow, flow_heat=flow_heat, given_flow=given_flow, rho=rho, cp=cp, demand_model=demand_model,
        demand=demand, hnet=hnet,
        tnet=tnet, lift_mode=lift_mode, t_supply_min=cons["t_supply_min_k"].to_numpy(float), farm_area=area,
        pipe_area=0.25 * math.pi * pipes["diameter_m"].to_numpy(float) ** 2, consumer_ids=cons["id"].to_numpy(),
        annual_heat_per_home_j=annual_heat_per_home_j(case)[0], controls=controls,
        pipe_wall_c_j_per_k=pipe_wall_capacity_j_per_k(pipes, s, case), fluid_table=fluid_table,
        hnet_network=hnet, tnet_network=tnet, rho_pipe=np.full(pf.size, rho), twins=twins, supply_side=supply_side)


@dataclass
class DistrictHeatingNetwork:
    """A district-heating network prepared by :func:`prepare_district_heating`; :meth:`solve` it for a heat
    offer. Each solve starts from the substation and pipe flows of the previous one (a warm start: a
    time series moves little from step to step); the first from the lossless flows."""

    case: object
    s: dict
    n: int
    live: np.ndarray
    pf: np.ndarray
    live_pumps: np.ndarray
    qf: np.ndarray
    qt: np.ndarray
    pump_efficiency: np.ndarray
    cs: np.ndarray
    cr: np.ndarray
    sup: int
    ret: int
    sub: np.ndarray
    label: np.ndarray
    t_ret_c: np.ndarray
    is_flow: np.ndarray
    flow_heat: np.ndarray
    given_flow: np.ndarray
    rho: float
    cp: float
    demand_model: ConsumerDemand
    demand: np.ndarray
    hnet: object
    tnet: object
    lift_mode: bool
    t_supply_min: np.ndarray
    farm_area: np.ndarray
    pipe_area: np.ndarray
    consumer_ids: np.ndarray
    annual_heat_per_home_j: float
    controls: SubstationControls
    pipe_wall_c_j_per_k: np.ndarray  # each pipe's wall heat capacity [J/K] (a time series' dynamics)
    fluid_table: object = None  # the fluid's stored table at the plant's pressure, with properties = per_pipe
    hnet_network: object = None  # hnet and tnet with the network's one set of properties
    tnet_network: object = None
    rho_pipe: np.ndarray = None  # each pipe's density [kg/m^3] in the last solve
    cp_consumer: np.ndarray | None = None  # each substation's c_p [J/(kg K)] with properties = per_pipe
    warm: tuple | None = None  # (substation flows, their inlet temperatures, branch flows) of the last solve
    twins: object = None  # the twin pairs (solver/district_heating/twin.py), None without
    twin_warm: dict = field(default_factory=dict)  # the twin pipes' inlets of the last sweep (a start only)
    supply_side: SupplySide | None = None  # the supply network's own thermal network (the fixed point's sweeps)

    def twin_exchange(self, m_branch, th) -> float:
        """Heat the pipes that name a twin give it in this thermal result [W] (0 without twin pipes)."""
        if self.twins is None:
            return 0.0
        return float(np.sum(twin_exchange_w(self.twins, self.tnet, np.concatenate(
            [m_branch, np.zeros(self.tnet.n_branch - m_branch.size)]), th.t_node_k)))

    @property
    def cp_sub(self):
        """c_p the substations' law Q = m c_p (T_in - T_out) takes [J/(kg K)]: the network's, or with
        properties = per_pipe each one's own."""
        return self.cp if self.cp_consumer is None else self.cp_consumer

    def _evaluate(self, flow, t_in, m_start, by_heat, newton_steps=0, session=None, supply_only=False):
        """Hydraulics for these substation flows, then temperatures (substations cool to their return
        temperature, or pass water through that arrives colder). With ``newton_steps`` > 0, the hydraulics
        take at most that many Newton steps from ``m_start`` (``hyd.converged`` says whether they settled);
        where such an unsettled iterate has water circling a loop (no steady temperature: the sweep refuses
        it), they are settled first. ``session``: the fixed point's hydraulic session
        (:meth:`gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.session`), in which a solve starting from
        the last one's answer does not evaluate it again. With ``supply_only`` (and a :class:`SupplySide`), the
        temperatures of the supply side alone (:meth:`_temperatures`)."""
        n = self.n
        inject = np.bincount(self.cr, flow, n) - np.bincount(self.cs, flow, n)
        if newton_steps:
            try:
                hyd = self.hnet.solve(node_injection_kg_s=inject, m_start_kg_s=m_start, max_iterations=newton_steps,
                                      session=session)
            except ConvergenceError as err:
                hyd = err.partial
            try:
                return (hyd, *self._temperatures(hyd, flow, t_in, inject, by_heat, supply_only))
            except CaseError:
                if hyd.converged:
                    raise
                m_start = hyd.m_kg_s
        hyd = self.hnet.solve(node_injection_kg_s=inject, m_start_kg_s=m_start, session=session)
        return (hyd, *self._temperatures(hyd, flow, t_in, inject, by_heat, supply_only))

    def _temperatures(self, hyd, flow, t_in, inject, by_heat, supply_only=False):
        """The thermal sweep for these hydraulics: (thermal result, pipe and pump flows, the plant's node
        flows). With ``supply_only`` and a :class:`SupplySide`, the sweep of the supply side alone: its result holds
        the substations' inlet temperatures only (:class:`_SupplyTemperatures`), and no flows are handed back."""
        n, nc, sup, ret = self.n, self.sub.size, self.sup, self.ret
        side = self.supply_side if supply_only else None
        if side is not None and side.source is not self.tnet:  # the whole network was replaced (its ground moved)
            side = self.supply_side = supply_side_of(self.tnet, side.nodes, side.branches, side.consumer_node)
        if side is not None:
            still = not np.any(flow) and not self.live_pumps.any()  # the water stands still (as below)
            value = np.zeros(side.nodes.size)
            value[side.net.node_kind == NODE_SUPPLY] = self.s["t_supply_k"]
            # its branches' flows (rounding set to zero as below) and the plant's and substations' flows at
            # its nodes, in one pass (:func:`supply_side_flows`)
            m_side, m_node = np.empty(side.branches.size), np.empty(side.nodes.size)
            supply_side_flows(hyd.m_kg_s, ZERO_FLOW_RTOL, side.branches, flow, side.consumer_node, side.sup_at,
                              hyd.supply_kg_s[sup] - inject[sup], still, m_side, m_node)
            t_side = side.net.node_temperatures(value, m_side, m_node)
            return _SupplyTemperatures(t_side[side.consumer_node]), None, None
        m_branch = hyd.m_kg_s.copy()  # pipes, then booster pumps
        m_branch[np.abs(m_branch) <= ZERO_FLOW_RTOL * max(np.max(np.abs(m_branch), initial=0.0), 1e-300)] = 0.0
        value = np.zeros(n + nc)
        value[sup] = self.s["t_supply_k"]
        value[self.sub] = np.where(self.flow_heat, self.demand,
                                   self.controls.outlet_k(self.demand, t_in, flow, by_heat, self.cp_sub))
        # What the plant supplies and takes back: the pressure holders' flows, plus the substation flows
        # drawn from or returned to the plant's own nodes (injections there are the holders' business).
        m_node = np.zeros(n + nc)
        m_node[sup] = hyd.supply_kg_s[sup] - inject[sup]
        m_node[ret] = hyd.supply_kg_s[ret] - inject[ret]
        if not np.any(flow) and not self.live_pumps.any():
            # No substation draws and no pump drives: the water stands still (what the hydraulics return is
            # rounding noise about zero, which no relative test can tell from a flow).
            m_branch[:], m_node[:] = 0.0, 0.0
        m_all = np.concatenate([m_branch, flow, flow])
        gain = pipe_friction_w(self, m_all, hyd.p_pa) if self.s["frictional_heating"] else None
        if self.twins is not None:
            return solve_with_twins(self.tnet, self.twins, value, m_all, m_node, gain, self.twin_warm), m_branch, m_node
        return self.tnet.solve(value, m_all, m_node, q_gain_w=gain), m_branch, m_node

    def _inlet_t(self, th):
        """Each substation's inlet temperature [K] in a thermal result (of the whole network or the supply side)."""
        return th.t_in_k if isinstance(th, _SupplyTemperatures) else th.t_node_k[self.cs]

    def _settled(self, flow, t_now, cp, heat, hi, t_ref, passing):
        """``(r, settled, worst)``: each substation's heat residual [W] at inlet temperatures ``t_now`` [K]
        (``cp`` [J/(kg K)] an array), whether every one is within tolerance (or it is capped: its water arrives
        too cold, and the 1 K flow or its flow limit is all it draws; or it arrives at or below the return
        set-point and is passed through, ``passing``), and the largest relative to its demand (or 1 W).
        ``t_ref`` [K]: the outlet temperature each substation was set to (its return set-point unless its
        outlet follows its heat). One pass, :func:`heat_residuals`."""
        r = np.empty(flow.size)
        settled, worst = heat_residuals(flow, t_now, t_ref, cp, self.demand, heat, hi, passing, self.t_ret_c,
                                        HEAT_RTOL, r)
        return r, bool(settled), float(worst)

    def solve(self, offer: HeatOffer | None, *, outdoor_t_k: float | None = None) -> DHState:
        """The network's flows, pressures and temperatures and the plant's split for this heat offer, at
        the case's outdoor temperature or at ``outdoor_t_k`` [K] (the consumers' demands follow it).

        With ``[district_heating] properties = "per_pipe"``, each pipe's and each substation's properties
        follow its own inlet and outlet temperatures (:meth:`_set_pipe_properties`), found by Picard
        iteration: solve with the properties of the last iterate, take every pipe's and substation's inlet
        and outlet temperatures, until none moves by more than :data:`PROPERTY_TOL_K`
        (``dh_property_iterations``, the solves made; the first starts from the last solve's properties, a
        warm start in a sweep). The coupling is weak (properties move by ~1e-3 per kelvin, temperatures by the
        losses' small share of the flow), so it contracts in a few iterates. Where c_p changes at a node, the
        heat ledger carries the thermal sweep's ``cp_step_w`` bookkeeping term and the plant's heat is the
        enthalpy its nodes put in as the sweep counts it."""
        if self.fluid_table is None:
            state = self._solve_fixed(offer, outdoor_t_k=outdoor_t_k)
            state.figures["dh_property_iterations"] = 0
            return state
        pt = self.hnet.branch_to[:self.pf.size]
        t_last = None
        for k in range(1, MAX_PROPERTY_ITERATIONS + 1):
            state = self._solve_fixed(offer, outdoor_t_k=outdoor_t_k)
            outdoor_t_k = None  # set by the first
            m = state.pipe_flow_kg_s[self.live]
            t_node = state.node_t_k
            # each pipe's inlet and outlet temperature (a pipe without flow: its two nodes')
            t_in = np.where(m >= 0, t_node[self.pf], t_node[pt])
            t_out = np.where(m != 0, state.pipe_t_out_k[self.live], np.where(m >= 0, t_node[pt], t_node[self.pf]))
            t_ends = np.concatenate([t_in, t_out, state.consumer_t_supply_k, state.consumer_t_return_k])
            change = math.inf if t_last is None else float(np.max(np.abs(t_ends - t_last), initial=0.0))
            t_last = t_ends
            if change <= PROPERTY_TOL_K:
                state.figures["dh_property_iterations"] = k
                return state
            self._set_pipe_properties(t_in, t_out, state.consumer_t_supply_k, state.consumer_t_return_k)
        raise ConvergenceError(
            f"district heating: the pipes' properties did not settle in {MAX_PROPERTY_ITERATIONS} Picard "
            f"iterations (an inlet or outlet temperature still moved by {change:.3g} K)",
            details={"property_change_k": change})

    def _properties(self, t_k: np.ndarray, table: str, ids) -> dict:
        """The fluid's properties at temperatures ``t_k`` [K] from its stored table (element ``i`` of ``t_k``
        is element ``i % len(ids)`` of ``table``); one outside the table raises :class:`CaseError` naming the
        element."""
        lim = self.fluid_table.limits
        bad = ~((t_k >= lim.t_low_k) & (t_k <= lim.t_high_k))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CaseError(f"the fluid's temperature is outside its table ({lim.low_reason}; {lim.high_reason})",
                            **_where(self.case, f"{table} '{ids[i % len(ids)]}'", "temperature", float(t_k[i]),
                                     f"[{lim.t_low_k:g}, {lim.t_high_k:g}] K"))
        return coolant_properties(self.fluid_table, t_k, field="t_supply_k")

    def _set_pipe_properties(self, t_in_k, t_out_k, t_in_sub_k, t_out_sub_k) -> None:
        """Every pipe's and substation's properties from its inlet and outlet temperatures [K] into the
        hydraulic and thermal networks (booster pumps, and the plant pump's power, keep the network's): density and c_p the mean of their
        values at the two ends, viscosity at the mean temperature. Both this and the properties at the mean
        temperature are second-order approximations of the mean over the pipe; this one is pandapipes'
        (``pandapipes.properties.properties_toolbox.get_branch_real_density``, ``get_branch_cp``,
        ``get_branch_real_eta``), so that the two tools compare like with like."""
        n_pipe = self.pf.size
        pipe_ids = self.hnet.pipe_ids if self.hnet.pipe_ids is not None else np.arange(n_pipe)
        ends = self._properties(np.concatenate([t_in_k, t_out_k]), "dh_pipe", pipe_ids)
        mid = self._properties(0.5 * (t_in_k + t_out_k), "dh_pipe", pipe_ids)
        sub = self._properties(np.concatenate([t_in_sub_k, t_out_sub_k]), "dh_consumer", self.consumer_ids)
        rho, cp = (0.5 * (ends[f][:n_pipe] + ends[f][n_pipe:]) for f in ("density_kg_per_m3", "cp_j_per_kg_k"))
        nc = self.sub.size
        self.cp_consumer = 0.5 * (sub["cp_j_per_kg_k"][:nc] + sub["cp_j_per_kg_k"][nc:])
        self.rho_pipe = rho
        self.hnet = self.hnet_network.with_fluid(rho, mid["viscosity_pa_s"])
        cp_branch = self.tnet_network.cp_branch.copy()
        cp_branch[:n_pipe] = cp
        # the substation's inflow branch carries its mean c_p (its law Q = m c_p (T_in - T_out)); its outflow
        # branch, which has no length, the c_p of the water it returns, with which it mixes downstream
        cp_branch[cp_branch.size - 2 * nc:cp_branch.size - nc] = self.cp_consumer
        cp_branch[cp_branch.size - nc:] = sub["cp_j_per_kg_k"][nc:]
        self.tnet = self.tnet_network.with_cp(cp_branch)

    def enthalpy_j_per_kg(self, t_k):
        """The fluid's specific enthalpy at ``t_k`` [K] [J/kg], above that at its table's lowest temperature:
        its stored c_p integrated by the trapezoid rule on the table's grid, interpolated linearly between
        (``properties = "per_pipe"`` only)."""
        tab = self.fluid_table
        h_grid = np.concatenate([[0.0], np.cumsum(0.5 * (tab.cp_j_per_kg_k[1:] + tab.cp_j_per_kg_k[:-1])
                                                 * np.diff(tab.t_k))])
        return np.interp(t_k, tab.t_k, h_grid)

    def _plant_heat_per_pipe(self, th, m_branch, flow, m_node) -> tuple[float, float]:
        """(the plant's heat [W], the c_p steps at the nodes [W]) with per-pipe c_p, free of any reference
        temperature.

        The plant's heat is m (h(T_supply) - h(T_return)), h the fluid's enthalpy from its table (c_p
        integrated by the trapezoid rule on the table's grid). Each branch b of the thermal sweep holds its
        own c_p, that is the enthalpy line h_b(T) = h(T_b) + c_p,b (T - T_b) through the true enthalpy at its
        inlet temperature T_b (with c_p,b the mean of the c_p at its two ends, the line's error at its outlet
        is third order in its temperature change). Where lines of different branches meet at a node n they
        disagree a little, and the c_p step there is what enters minus what leaves, each at T_n on its own
        line (the plant's flows on h itself): step_n = sum_in |m| h_b(T_n) - sum_out |m| h_b(T_n). Summing
        the sweep's pipe and mixing equations over the network gives, exactly, plant heat + frictional heat =
        delivered + pipe losses + sum of the steps (``dh_q_cp_step_w``): the ledger, closed to round-off
        whatever reference temperature the sweep keeps its enthalpies at."""
        tn = self.tnet
        t = th.t_node_k
        m = np.abs(np.concatenate([m_branch, flow, flow]))
        forward = np.concatenate([m_branch, flow, flow]) >= 0
        up = np.where(forward, tn.branch_from, tn.branch_to)
        down = np.where(forward, tn.branch_to, tn.branch_from)
        t_b = t[up]
        h_b = self.enthalpy_j_per_kg(t_b)

        def h(temp):  # each branch's enthalpy line
            return h_b + tn.cp_branch * (temp - t_b)
        step = float(np.sum(m * (h(t[up]) - h(t[down]))))
        h_plant = self.enthalpy_j_per_kg(t[[self.sup, self.ret]])
        q_plant = float(m_node[self.sup] * h_plant[0] + m_node[self.ret] * h_plant[1])
        return q_plant, q_plant - step

    def _predicted_t_in(self, flow_last, t_in_last, heat, t_sup):
        """Inlet temperature of each substation [K] at the flow that delivers its demand now, predicted from the
        last solve (flows ``flow_last`` [kg/s], inlet temperatures ``t_in_last`` [K]): the water's excess over
        the ground decays along its path as exp(-E), E = sum U' L / (m c_p) over the pipes, and E scales with
        1 / (the path's flows); taking the path's flows to change as the substation's own,
        T_in(m) = T_g + (T_supply - T_g) exp(-E_last m_last / m), and m c_p (T_in(m) - T_return) = Q by three
        Newton steps per substation. Only the start of the fixed point (a demand that moves uniformly, as the
        outdoor temperature does, leaves it a fraction of the plain start's heat residual); where the model
        does not apply (a flow that follows its heat, water near the return set-point) the last inlet
        temperature is kept."""
        cp, demand, t_g = self.cp_sub, self.demand, self.s["ground_t_k"]
        theta_s = t_sup - t_g
        theta = t_in_last - t_g
        use = (heat & ~self.controls.fixed_dt & (flow_last > 0) & (theta > 0) & (theta <= theta_s)
               & (t_in_last > self.t_ret_c + MIN_DRIVING_DT_K))
        if theta_s <= 0 or not use.any():
            return t_in_last
        e_m = np.where(use, -np.log(np.where(use, theta / theta_s, 1.0)) * flow_last, 0.0)  # E_last m_last [kg/s]
        t_ret = self.t_ret_c
        m = np.where(use, demand / (cp * np.maximum(t_in_last - t_ret, MIN_DRIVING_DT_K)), 1.0)
        for _ in range(3):
            decay = np.exp(-e_m / m)
            drive = t_g + theta_s * decay - t_ret
            slope = cp * drive + cp * theta_s * decay * e_m / m
            m = np.maximum(m - (m * cp * drive - demand) / slope, 0.5 * m)
        t_pred = t_g + theta_s * np.exp(-e_m / m)
        ok = use & np.isfinite(t_pred) & (t_pred > t_ret + MIN_DRIVING_DT_K)
        return np.where(ok, t_pred, t_in_last)

    def _solve_fixed(self, offer: HeatOffer | None, *, outdoor_t_k: float | None = None) -> DHState:
        """:meth:`solve` with the properties the networks hold now."""
        if outdoor_t_k is not None and outdoor_t_k != self.s["outdoor_t_k"]:
            check_scalar(schema()["district_heating"]["outdoor_t_k"], float(outdoor_t_k), file=self.case.file,
                         element="solve(outdoor_t_k=...)")
            self.s = {**self.s, "outdoor_t_k": float(outdoor_t_k)}
            self.demand = self.demand_model.at(self.s["outdoor_t_k"], self.s["hour_of_day"])
        s, cp, demand, cs = self.s, self.cp_sub, self.demand, self.cs
        t_sup, t_ret_c, is_flow, given_flow = s["t_supply_k"], self.t_ret_c, self.is_flow, self.given_flow
        nc = self.sub.size
        # Each substation's flow solves r(m) = m cp (T_in(m) - T_ret) - Q = 0. The plain fixed point
        # m = G(m) = Q / (cp (T_in(m) - T_ret)), clipped between the lossless flow and the 1 K flow cap, is a
        # contraction (T_in moves with the flows by the pipes' losses only, a few per cent), and Anderson
        # acceleration over the last ANDERSON_DEPTH iterates speeds it up. Each iterate takes one Newton step of
        # the hydraulics from the last iterate's flows (the hydraulics and the flows converge together) until
        # the heat residual is below SETTLE_HYDRAULICS_RTOL, then settles them; the answer is checked with the
        # hydraulics converged. Mass-flow consumers are fixed.
        ctl = self.controls
        heat = ~is_flow & (demand > 0)
        lo, hi = ctl.bounds(demand, t_sup, cp)
        lo, hi = np.where(is_flow, given_flow, lo), np.where(is_flow, given_flow, hi)
        fixed = np.where(is_flow, given_flow, ctl.flow_min)
        if self.warm is None:  # the lossless flows (the flows at the supply temperature)
            t_in, m_start = np.full(nc, t_sup), None
        else:  # the flows that would deliver the demand at the inlet temperatures predicted from the last solve
            flow_last, t_in, m_start = self.warm
            t_in = self._predicted_t_in(flow_last, t_in, heat, t_sup)
        # A substation whose water arrives at or below its return set-point even at its largest flow passes it
        # through at its bypass flow (``passing``); found when the rest has settled, and kept there (at a
        # smaller flow its water arrives colder still).
        passing = np.zeros(nc, dtype=bool)
        bypass = ctl.bypass_flow(demand, t_sup, cp)
        law, by_heat, _ = ctl.flows(demand, t_in, t_sup, cp, pass_cold=False)
        by_heat &= ~is_flow
        flow = np.where(heat, np.clip(law, lo, hi), fixed)

        def t_ref_of(t_in, flow, by_heat):  # the outlet temperatures the residuals are taken against
            if not by_heat.any():
                return t_ret_c
            return np.where(by_heat, ctl.outlet_k(demand, t_in, flow, by_heat, cp), t_ret_c)
        tol_w = HEAT_RTOL * np.maximum(demand, 1.0)
        cp_c = np.full(nc, float(cp)) if np.ndim(cp) == 0 else np.ascontiguousarray(cp, dtype=float)
        accelerate = _Anderson(ANDERSON_DEPTH, np.flatnonzero(heat), lo)
        # One Newton step of the hydraulics an iterate, except that from no warm start (the lossless flows, no
        # pipe flows) the first iterate settles them: one step from the hydraulic solver's own guess leaves pipe
        # flows whose temperatures mislead the next iterate (9 iterates instead of 7 on the 10^4 town); the
        # iterates after it continue from settled hydraulics, one step each (4 fewer factorisations there).
        one_step = self.warm is not None
        best, stalled, prev = math.inf, 0, None
        worst_last = (math.inf, math.inf)  # the heat residuals of the last two iterates
        with self.hnet.session() as hs:  # the iterates' hydraulic solves continue one another
            for iteration in range(1, MAX_FIXED_POINT + 1):
                # Where the last two iterates say this one settles (its residual the last one's times their
                # ratio, with a margin of 2), with its hydraulics settled, the whole network is swept now, not
                # its supply side now and the whole network at the answer: the supply side's temperatures are
                # the same to the bit, and a wrong guess costs only the return side's sweep.
                whole = not one_step and worst_last[0] ** 2 <= 0.5 * HEAT_RTOL * worst_last[1] < math.inf
                hyd, th, m_branch, m_node = self._evaluate(flow, t_in, m_start, by_heat, newton_steps=one_step,
                                                            session=hs, supply_only=not whole)
                t_ref = t_ref_of(t_in, flow, by_heat)
                t_now = self._inlet_t(th)
                r, settled, worst = self._settled(flow, t_now, cp_c, heat, hi, t_ref, passing)
                if not hyd.converged and settled:
                    hyd, th, m_branch, m_node = self._evaluate(flow, t_in, hyd.m_kg_s, by_heat, session=hs,
                                                               supply_only=not whole)
                    t_now = self._inlet_t(th)
                    r, settled, worst = self._settled(flow, t_now, cp_c, heat, hi, t_ref, passing)
                m_start = hyd.m_kg_s
                t_used, t_in = t_in, t_now
                # Close to the answer the hydraulics are settled every iterate: an unsettled iterate's flows miss
                # the node balances by its rounding, which in ill-conditioned networks (the 1 um pipes valves
                # become) is more than the heat tolerance allows.
                worst_last = (worst, worst_last[0])
                one_step = (one_step or iteration == 1) and worst > SETTLE_HYDRAULICS_RTOL
                cold = heat & ~passing & ctl.holds_return & (t_in <= t_ret_c) & (flow >= hi)
                if settled and cold.any():
                    passing |= cold
                    settled = False
                if settled:
                    if np.max(np.abs(ctl.outlet_k(demand, t_in, flow, by_heat, cp)
                                     - ctl.outlet_k(demand, t_used, flow, by_heat, cp)), initial=0.0) > 1e-9:
                        # a capped substation's water (or one whose outlet follows its heat) arrived warmer or
                        # colder than last time: return it right
                        hyd, th, m_branch, m_node = self._evaluate(flow, t_in, m_start, by_heat, session=hs)
                    elif m_node is None:  # the supply side alone was swept: now the whole network, at the answer
                        inject = np.bincount(self.cr, flow, self.n) - np.bincount(self.cs, flow, self.n)
                        th, m_branch, m_node = self._temperatures(hyd, flow, t_used, inject, by_heat)
                    break
                if ctl.plain:  # every substation holds its return temperature: the map in one pass
                    plain = np.empty(nc)
                    fixed_return_flows(demand, t_in, t_ret_c, cp_c, MIN_DRIVING_DT_K, lo, hi, passing, bypass, plain)
                else:
                    law, by_heat, _ = ctl.flows(demand, t_in, t_sup, cp, pass_cold=False)
                    by_heat &= ~is_flow
                    plain = np.where(passing, bypass, np.clip(law, lo, hi))
                # Where the plain map is no contraction (small loads far out on lossy pipes: a substation's inlet
                # temperature moves strongly with its own flow) acceleration can stall; after STALL_ITERATES
                # iterates without a new best residual the rest are safeguarded secant steps per substation.
                best, stalled = (worst, 0) if worst < best else (best, stalled + 1)
                if stalled < STALL_ITERATES:
                    step = accelerate.step(flow, plain)
                else:
                    one_step = False
                    step = _secant_step(flow, r, prev, plain, lo, hi)
                prev = (flow, r)
                flow = np.empty(nc)
                next_flows(heat, by_heat | passing, plain, step, lo, hi, fixed, flow)
            else:
                i = int(np.argmax(np.abs(r) / tol_w))
                raise ConvergenceError(
                    f"district heating: the flow of consumer '{self.consumer_ids[i]}' did not settle in "
                    f"{MAX_FIXED_POINT} iterations (heat short by {-r[i]:.4g} W at {flow[i]:.6g} kg/s)",
                    details={"consumer": self.consumer_ids[i], "heat_residual_w": float(r[i]),
                             "flow_kg_s": float(flow[i])})
        self.warm = (flow, th.t_node_k[cs], hyd.m_kg_s)
        return self._state(offer, flow, hyd, th, m_branch, m_node, iteration)

    def _state(self, offer, flow, hyd, th, m_branch, m_node, iteration) -> DHState:
        """Pressures with the pump's lift, the plant, the figures and the full-length pipe and pump arrays."""
        case, s, cp, rho, demand, cs, cr = self.case, self.s, self.cp_sub, self.rho, self.demand, self.cs, self.cr
        sup, ret, n, nc, live = self.sup, self.ret, self.n, self.sub.size, self.live
        t_sup = s["t_supply_k"]
        t_in = th.t_node_k[cs]
        p = hyd.p_pa.copy()
        if self.lift_mode:
            dp_c = p[cs] - p[cr]
            lift = (s["dp_min_pa"] - np.min(dp_c)) if nc else s["dp_min_pa"]
            p[self.label == self.label[sup]] += lift
        m_plant = float(m_node[sup])
        pump_dp = p[sup] - p[ret]
        pump = network_pump(case, s, pump_dp, m_plant, rho)
        n_pipe = self.pf.size
        m_pipe, m_pump = m_branch[:n_pipe], m_branch[n_pipe:]
        # Booster pumps: the lift their curves give at their flows; electricity rho g Q H / eta, none for a
        # pump that water runs back through.
        lift_pa = p[self.qt] - p[self.qf]
        booster_w = np.maximum(m_pump * lift_pa, 0.0) / (rho * self.pump_efficiency)

        t_node = th.t_node_k[:n]
        t_out_sub = th.t_node_k[self.sub]
        q_cons = flow * cp * np.maximum(t_in - t_out_sub, 0.0)
        t_plant_ret = float(th.t_node_k[ret])
        if self.fluid_table is None:
            q_plant, cp_step = m_plant * cp * (t_sup - t_plant_ret), 0.0
        else:
            q_plant, cp_step = self._plant_heat_per_pipe(th, m_branch, flow, m_node)
        q_loss = th.q_loss_w[:self.pf.size]
        q_friction = th.ledger.friction_w
        residual = abs(q_plant + q_friction - q_cons.sum() - q_loss.sum() - cp_step) / max(abs(q_plant), 1e-300)
        short = q_cons < demand * (1.0 - 1e-6)
        under = ((t_in < self.t_supply_min) | short) & (demand > 0)
        bypassed = ~self.is_flow & (demand > 0) & self.controls.holds_return & (t_in <= self.t_ret_c)
        plant = _plant(case, s, offer, q_plant, t_sup, t_plant_ret)
        figures = dict(plant, dh_q_plant_w=q_plant, dh_t_return_k=t_plant_ret, dh_flow_kg_s=m_plant,
                       dh_q_delivered_w=float(q_cons.sum()), dh_q_demand_w=float(demand.sum()),
                       dh_q_loss_w=float(q_loss.sum()), dh_q_twin_exchange_w=self.twin_exchange(m_branch, th),
                       dh_q_friction_w=q_friction, dh_q_cp_step_w=float(cp_step), **pump, dh_pump_dp_pa=float(pump_dp),
                       dh_booster_w=float(booster_w.sum()),
                       dh_plant_electric_w=plant["hp_electric_w"] + pump["dh_pump_w"] + float(booster_w.sum()),
                       dh_heat_balance_residual=residual, dh_iterations=iteration,
                       dh_undersupplied=int(under.sum()), dh_bypassed=int(bypassed.sum()),
                       homes_equivalent=homes_heated_annual(plant["q_from_campus_w"] * YEAR_S,
                                                            self.annual_heat_per_home_j),
                       annual_heat_per_home_j=self.annual_heat_per_home_j,
                       vertical_farm_area_m2=float(self.farm_area.sum()),
                       vertical_farm_area_served_m2=float(self.farm_area[(demand > 0) & ~under].sum()))
        n_all = live.size
        flow_pipe = np.full(n_all, np.nan)
        flow_pipe[live] = m_pipe
        vel = np.full(n_all, np.nan)
        vel[live] = m_pipe / (self.rho_pipe * self.pipe_area)
        t_out_pipe = np.full(n_all, np.nan)
        t_out_pipe[live] = th.t_branch_out_k[:self.pf.size]
        loss = np.zeros(n_all)
        loss[live] = q_loss
        pumped = {name: np.full(self.live_pumps.size, np.nan) for name in ("flow", "head", "power")}
        for name, values in (("flow", m_pump), ("head", lift_pa / (rho * GRAVITY_M_S2)), ("power", booster_w)):
            pumped[name][self.live_pumps] = values
        return DHState(p, t_node, flow_pipe, vel, t_out_pipe, loss, q_cons, demand, flow, t_in, t_out_sub, under,
                       figures, pumped["flow"], pumped["head"], pumped["power"])


def _node_row(case, node_ids, name, field) -> int:
    """Row of the ``dh_node`` named ``name`` (the plant's ``field`` of ``[district_heating]``)."""
    hit = np.flatnonzero(node_ids == name)
    if not hit.size:
        raise CaseError("no such dh_node", **_where(case, "[district_heating]", field, name, "a dh_node id"))
    return int(hit[0])


def _check_reachable(case, label, cs, cr, sup, ret, node_ids):
    """Every consumer's supply node connected to the plant's supply node, its return node to the return
    (``label``: connected component of each node over the pipes in service)."""
    ids = case.tables["dh_consumer"]["id"].to_numpy()
    for ends, plant_node, field in ((cs, sup, "supply_node"), (cr, ret, "return_node")):
        bad = np.flatnonzero(label[ends] != label[plant_node])
        if bad.size:
            i = int(bad[0])
            raise CaseError(f"no pipe path joins this consumer's {field} to the plant's", **_where(
                case, f"dh_consumer '{ids[i]}'", field, case.tables["dh_consumer"][field].iloc[i],
                f"a node connected to '{node_ids[plant_node]}'"))


def _plant(case, s: dict, offer: HeatOffer | None, q_w: float, t_supply_k: float, t_return_k: float) -> dict:
    """Split the network's heat between the campus (heat pumps or direct exchange) and the peak boiler."""
    q_avail = offer.q_available_w if offer else 0.0
    out = {"hp_cop": math.nan, "hp_heat_w": 0.0, "hp_electric_w": 0.0, "q_from_campus_w": 0.0,
           "q_recovered_w": 0.0}
    if s["interface"] == "heat_pump" and offer is not None and q_w > 0:
        cop = heat_pump_cop(case, s, offer.t_source_min_k, t_supply_k)
        cap = s["hp_capacity_w"] if s["hp_capacity_w"] is not None else math.inf
        heat = min(q_w, cap, q_avail * cop / (cop - 1.0)) if cop > 1 else 0.0
        out.update(hp_cop=cop, hp_heat_w=heat, hp_electric_w=heat / cop if cop > 0 else 0.0,
                   q_from_campus_w=heat * (1.0 - 1.0 / cop) if cop > 0 else 0.0)
        out["q_recovered_w"] = out["q_from_campus_w"]
    elif s["interface"] == "direct" and offer is not None and q_w > 0:
        reach = min(offer.t_source_k - s["direct_approach_k"], t_supply_k)
        share = max(0.0, (reach - t_return_k) / (t_supply_k - t_return_k)) if t_supply_k > t_return_k else 0.0
        heat = min(q_avail, share * q_w)
        out.update(q_from_campus_w=heat, q_recovered_w=heat)
    boiler = q_w - out["hp_heat_w"] - (out["q_from_campus_w"] if s["interface"] == "direct" else 0.0)
    out.update(boiler_heat_w=max(boiler, 0.0), boiler_fuel_w=max(boiler, 0.0) / s["boiler_efficiency"])
    return out


def heat_pump_cop(case, s: dict, t_source_out_k: float, t_sink_k: float) -> float:
    """COP of the plant's heat pumps cooling the campus water to ``t_source_out_k`` [K] and heating the
    network to ``t_sink_k`` [K]: the Carnot fraction (:func:`gigawatt.models.heat_pumps.cop_carnot_fraction`)
    or, with ``hp_model = "map"``, the manufacturer map of the ``dh_heat_pump_map`` table interpolated
    bilinearly (:func:`gigawatt.models.heat_pumps.cop_from_map`)."""
    if s["hp_model"] != "map":
        return float(cop_carnot_fraction(t_source_out_k, t_sink_k, s["hp_eta"], s["hp_approach_k"],
                                         s["hp_approach_k"]))
    source, sink, cop = heat_pump_map(case)
    try:
        return float(cop_from_map(t_source_out_k, t_sink_k, source, sink, cop, s["hp_out_of_map"]))
    except CaseError as err:
        raise CaseError(f"the heat pumps' operating point is {err.reason}", file=case.file,
                        element="dh_heat_pump_map", field=err.field, value=err.value,
                        allowed=f"{err.allowed}, or hp_out_of_map = clip") from None


def heat_pump_map(case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``dh_heat_pump_map`` table as a grid: source outlet temperatures [K], sink temperatures [K] (both
    increasing) and the COP table [source x sink]. Every source temperature must have a point at every
    sink temperature, once."""
    m = case.tables["dh_heat_pump_map"]
    if len(m) < 4:
        raise CaseError("a heat-pump map needs a grid of at least 2 source x 2 sink temperatures",
                        **_where(case, "[district_heating]", "hp_model", "map",
                                 f">= 4 points in the dh_heat_pump_map table (it has {len(m)})"))
    src, snk = m["t_source_out_k"].to_numpy(float), m["t_sink_k"].to_numpy(float)
    source, i = np.unique(src, return_inverse=True)
    sink, j = np.unique(snk, return_inverse=True)
    table = np.full((source.size, sink.size), np.nan)
    seen = np.zeros(table.shape, dtype=np.int64)
    np.add.at(seen, (i, j), 1)
    if (seen > 1).any():
        k = int(np.flatnonzero(seen[i, j] > 1)[1])
        raise CaseError("a second map point at the same source and sink temperatures",
                        **_where(case, f"dh_heat_pump_map '{m['id'].iloc[k]}'", "t_sink_k", float(snk[k]),
                                 "one point per (t_source_out_k, t_sink_k)"))
    table[i, j] = m["cop"].to_numpy(float)
    if (seen == 0).any():
        a, b = np.argwhere(seen == 0)[0]
        raise CaseError("the heat-pump map is not a full grid: a point is missing", **_where(
            case, "dh_heat_pump_map", "t_sink_k", float(sink[b]),
            f"a point at t_source_out_k = {source[a]:g} K and t_sink_k = {sink[b]:g} K"))
    return source, sink, table


def network_pump(case, s: dict, dp_pa: float, m_kg_s: float, rho_kg_m3: float) -> dict:
    r"""The network pump lifting ``m_kg_s`` [kg/s] by ``dp_pa`` [Pa]: its power [W], speed ratio, head [m]
    and efficiency.

    Without a curve (``pump_h0_m`` empty) an ideal variable-speed pump at ``pump_efficiency``,
    :math:`P = \Delta p\, Q / \eta`. With one, :math:`H = H_0 n^2 - b Q^2` (affinity laws) run at the speed
    that gives the lift, :func:`gigawatt.models.cooling_plant.pump_speed_for_head`; its efficiency is
    ``pump_efficiency`` or, with ``pump_best_flow_m3_s``, the parabola through that best point
    (:func:`gigawatt.models.flow_correlations.pump_efficiency`). A pump that would need more than
    ``pump_max_speed`` is an input error naming the head it lacks."""
    q = m_kg_s / rho_kg_m3
    head = max(dp_pa, 0.0) / (rho_kg_m3 * GRAVITY_M_S2)
    eta, speed = s["pump_efficiency"], math.nan
    if s["pump_h0_m"] is not None:
        speed = float(pump_speed_for_head(q, head, s["pump_h0_m"], 0.0, s["pump_b_s2_m5"])) if head > 0 else 0.0
        n_max = s["pump_max_speed"]
        if speed > n_max * (1 + 1e-12):
            reach = s["pump_h0_m"] * n_max ** 2 - s["pump_b_s2_m5"] * q * q
            raise CaseError(f"the network pump cannot lift {q:.4g} m3/s by {head:.4g} m: at its highest speed it "
                            f"gives {reach:.4g} m", **_where(
                                case, "[district_heating]", "pump_h0_m", s["pump_h0_m"],
                                f">= {(head + s['pump_b_s2_m5'] * q * q) / n_max ** 2:.4g} m at pump_max_speed "
                                f"= {n_max:g}"))
        if s["pump_best_flow_m3_s"] is not None and speed > 0:
            eta = float(pump_efficiency(q, speed, s["pump_efficiency"], s["pump_best_flow_m3_s"]))
            if eta <= 0.0:
                raise CaseError(f"the network pump runs at {q:.4g} m3/s, beyond twice its best-efficiency flow "
                                "at its speed", **_where(case, "[district_heating]", "pump_best_flow_m3_s",
                                                         s["pump_best_flow_m3_s"], f"> {q / (2 * speed):.4g} m3/s"))
    return {"dh_pump_w": head * rho_kg_m3 * GRAVITY_M_S2 * q / eta, "dh_pump_speed": speed,
            "dh_pump_head_m": head, "dh_pump_efficiency": eta}


def _secant_step(flow, r, prev, plain, lo, hi):
    """Per substation, the secant step on its heat residual r(m) (which rises with its own flow) from the
    previous iterate ``prev`` = (flows, residuals), where its slope is positive and it stays within [lo, hi];
    else the plain fixed-point step."""
    if prev is None:
        return plain
    prev_flow, prev_r = prev
    den = r - prev_r
    safe = np.where(den != 0, den, 1.0)
    secant = flow - r * (flow - prev_flow) / safe
    ok = (den != 0) & ((flow - prev_flow) / safe > 0) & (secant >= lo) & (secant <= hi)
    return np.where(ok, secant, plain)


class _Anderson:
    """Anderson acceleration of the fixed point m = G(m) on the entries ``idx`` of m, each scaled by ``scale``
    (flows of very different sizes weigh alike) [1]_: with x the scaled iterate and f = G(x) - x, the next
    iterate is x + f - (dX + dF) gamma, gamma minimising |f - dF gamma| over the differences dX, dF of the
    last ``depth`` + 1 iterates. The differences are kept as the rows of two arrays, each written once when its
    iterate arrives (their order does not matter to the least squares); gamma solves the normal equations
    dF^T dF gamma = dF^T f, a ``depth`` x ``depth`` system, by numpy's SVD-based lstsq (a rank-deficient history
    is harmless), and the passes over the flows are kernels (:mod:`gigawatt.solver.numerics.anderson`). Only the
    step depends on gamma: the fixed point's answer is tested on its own residuals. Written here: a dozen lines,
    and SciPy's ``anderson`` root finder owns its own loop, where this one must interleave the hydraulic and
    thermal solves and the convergence test."""

    def __init__(self, depth, idx, scale):
        self.depth, self.idx, self.scale = depth, idx, scale[idx]
        self.d_x, self.d_f = np.empty((depth, idx.size)), np.empty((depth, idx.size))
        self.x, self.f = np.empty(idx.size), np.empty(idx.size)  # the last scaled iterate and its residual
        self.gram, self.rhs = np.empty((depth, depth)), np.empty(depth)
        self.steps, self.held, self.slot = 0, 0, 0  # steps taken, differences held, the row the next goes to

    def step(self, m, g):
        first = self.steps == 0
        self.steps += 1
        k = self.held = self.held if first else min(self.held + 1, self.depth)
        history_step(m, g, self.idx, self.scale, self.x, self.f, first, self.d_x, self.d_f, self.slot, k, self.gram,
                     self.rhs)
        out = g.copy()
        if not first:
            self.slot = (self.slot + 1) % self.depth
            gamma = np.linalg.lstsq(self.gram[:k, :k], self.rhs[:k], rcond=None)[0]
            combine(self.x, self.f, gamma, self.d_x, self.d_f, self.scale, self.idx, out)
        return out
