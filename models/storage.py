r"""Thermal storage tanks for a district-heating plant, and the rule that dispatches heat pumps, tank and boiler.

Two tank models, each a state (temperatures) advanced one time step at a time with an energy ledger:

**Fully mixed (one node)**: the water is at one temperature T; heat enters through an exchanger at the rate
Q (> 0 charging, < 0 discharging, constant over the step) and leaks to the surroundings:

.. math:: \rho V c_p \frac{dT}{dt} = Q - UA\,(T - T_a)
   \quad\Rightarrow\quad T(t) = T_\mathrm{eq} + (T_0 - T_\mathrm{eq})\, e^{-t/\tau_s},\quad
   T_\mathrm{eq} = T_a + Q/UA,\quad \tau_s = \rho V c_p / UA

solved exactly per step (:func:`mixed_tank_step`), with its loss :math:`\int UA (T - T_a)\,dt` in closed form.

**Stratified (N layers, plug flow)**: N layers of equal mass, layer 0 at the top. Charging, hot water enters
the top and the same mass leaves at the bottom; discharging, network return water enters the bottom and the
top water leaves for the network. Water moves as a plug: a step is cut into sub-steps that each move at
most one layer's mass, and a sub-step moving a fraction c of a layer mixes that fraction into the next
layer (first-order upwind; c = 1 is an exact shift). Mixing assumption: each layer is fully mixed, there is
no conduction between layers, and water that would lie under colder water (an inversion, e.g. return water
warmer than the bottom) mixes with it at once until the column is stable (buoyancy). Each layer loses
:math:`UA/N\,(T_i - T_a)` exactly over each sub-step (the tank's UA spread by volume; lids not apart).
With layer-aligned steps (c = 1) a water parcel leaves with
:math:`T_a + (T_\mathrm{in} - T_a) e^{-t_s/\tau_s}` after its storage time :math:`t_s`, the same
:math:`\tau_s` as the mixed tank's.

Ledger (both, per step and summed in ``ledger``): heat charged − heat discharged = heat lost + change of the
stored enthalpy :math:`\rho V c_p (T - T_\mathrm{ref})`.

Units: V [m³], ρ [kg/m³], c_p [J/(kg K)], UA [W/K], T [K], Q [W], t [s], energies [J]. Validity: constant
UA and ambient temperature over a step, incompressible water, no heat capacity of the tank wall.

**Dispatch** (:data:`DISPATCH_RULES`; :func:`dispatch_heat_pumps_first`): the heat pumps run up to what they
can give (their capacity, or what the campus heat lifts, whichever is less); what they give beyond the
network's demand charges the tank, up to what it takes in the step (to its top temperature); a demand beyond
the heat pumps is met by the tank, down to ``t_min_k`` (its heat content), before the peak boiler fires; the boiler
covers the rest. So the tank is charged when the campus has heat to spare and discharged at demand peaks.
:func:`run_storage_dispatch` applies a rule over a series of steps.

API: ``MixedTank(volume_m3, ua_w_per_k, t_ambient_k, t_min_k, t_max_k, t_k)`` and
``StratifiedTank(volume_m3, ua_w_per_k, t_ambient_k, t_min_k, t_max_k, t_k, n_layers, t_charge_k,
t_return_k)``, each with ``max_charge_w(dt_s)``, ``max_discharge_w(dt_s)``, ``step(q_w, dt_s)`` (returns
the heat really charged (> 0) or discharged (< 0) [W] and the step's ledger) and ``energy_j()``;
``run_storage_dispatch(tank, demand_w, hp_available_w, dt_s)``.

References
----------
.. [1] J. A. Duffie, W. A. Beckman, Solar Engineering of Thermal Processes, 4th ed., Wiley 2013, sections
   8.3 (the fully mixed tank, its loss UA (T - T_a)) and 8.4 (stratified multi-node tanks, inversion mixing).
.. [2] M. Kleinbach, W. A. Beckman, S. A. Klein, "Performance study of one-dimensional models for
   stratified thermal storage tanks", Solar Energy 50(2), 155-166 (1993),
   doi:10.1016/0038-092X(93)90087-5 (multi-node and plug-flow tank models compared with measurements).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from gigawatt.errors import CaseError

RHO_WATER_KG_M3 = 983.2
"""Density of water at 60 degC [kg/m³] (IAPWS-IF97)."""
CP_WATER_J_PER_KG_K = 4185.0
"""Specific heat of water at 60 degC [J/(kg K)] (IAPWS-IF97: 4.185 kJ/(kg K))."""


@njit(cache=True)
def mixed_tank_step(t_k, q_w, dt_s, mass_kg, cp_j_per_kg_k, ua_w_per_k, t_ambient_k):
    r"""Temperature of a fully mixed tank after ``dt_s`` with heat ``q_w`` put in, and the heat it lost.

    .. math:: T_1 = T_\mathrm{eq} + (T_0 - T_\mathrm{eq}) e^{-x},\quad
              L = UA (T_\mathrm{eq} - T_a) \Delta t + \rho V c_p (T_0 - T_\mathrm{eq}) (1 - e^{-x}),\quad
              x = UA\,\Delta t / (\rho V c_p)

    Parameters: temperature [K], heat rate [W] (> 0 in), step [s], water mass [kg], cp [J/(kg K)], UA [W/K],
    surroundings [K]. Returns ``(T_1 [K], L [J])``, L > 0 when the tank gives heat away.
    """
    c = mass_kg * cp_j_per_kg_k
    if ua_w_per_k == 0.0:
        return t_k + q_w * dt_s / c, 0.0
    em = math.expm1(-ua_w_per_k * dt_s / c)
    t_eq = t_ambient_k + q_w / ua_w_per_k
    return t_k + (t_k - t_eq) * em, ua_w_per_k * (t_eq - t_ambient_k) * dt_s - c * (t_k - t_eq) * em


@njit(cache=True)
def mixed_tank_heat_to_reach(t_k, t_target_k, dt_s, mass_kg, cp_j_per_kg_k, ua_w_per_k, t_ambient_k):
    """The constant heat rate [W] that brings a fully mixed tank from ``t_k`` to ``t_target_k`` [K] in ``dt_s``
    [s] (the inverse of :func:`mixed_tank_step`): > 0 to warm it, < 0 to cool it."""
    c = mass_kg * cp_j_per_kg_k
    if ua_w_per_k == 0.0:
        return c * (t_target_k - t_k) / dt_s
    em = math.expm1(-ua_w_per_k * dt_s / c)
    return ua_w_per_k * (t_target_k - t_ambient_k) - ua_w_per_k * (t_target_k - t_k) * (1.0 + em) / em


@njit(cache=True)
def _stabilise(t):
    """Mix inversions (a layer warmer than the one above it, layer 0 on top) until the column is stable:
    pool-adjacent-violators over equal masses, which conserves the sum exactly as blocks of means."""
    n = t.shape[0]
    mean = np.empty(n)
    size = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        mean[k], size[k] = t[i], 1
        while k > 0 and mean[k] > mean[k - 1]:
            tot = mean[k - 1] * size[k - 1] + mean[k] * size[k]
            size[k - 1] += size[k]
            mean[k - 1] = tot / size[k - 1]
            k -= 1
        k += 1
    i = 0
    for j in range(k):
        for _ in range(size[j]):
            t[i] = mean[j]
            i += 1


@njit(cache=True)
def stratified_tank_step(t_layers, m_kg_s, t_in_k, dt_s, layer_mass_kg, cp_j_per_kg_k, ua_w_per_k,
                         t_ambient_k):
    """Advance a stratified tank (``t_layers`` [K], layer 0 on top, changed in place) by ``dt_s`` [s] with a
    flow ``m_kg_s`` [kg/s]: > 0 water at ``t_in_k`` enters the top and leaves at the bottom (charging), < 0
    enters the bottom and leaves at the top (discharging). See the module notes.

    Returns ``(t_out_mean [K], heat_lost_j [J])``: the mean temperature of the water that left (``t_in_k``
    without flow) and the heat the layers lost to the surroundings.
    """
    n = t_layers.shape[0]
    big_m = abs(m_kg_s) * dt_s
    n_sub = max(1, int(math.ceil(big_m / layer_mass_kg - 1e-12)))
    c = big_m / (n_sub * layer_mass_kg)
    h = dt_s / n_sub
    decay = math.expm1(-ua_w_per_k / n * h / (layer_mass_kg * cp_j_per_kg_k))
    out = 0.0
    loss = 0.0
    for _ in range(n_sub):
        if m_kg_s > 0.0:
            out += t_layers[n - 1]
            for i in range(n - 1, 0, -1):
                t_layers[i] += c * (t_layers[i - 1] - t_layers[i])
            t_layers[0] += c * (t_in_k - t_layers[0])
        elif m_kg_s < 0.0:
            out += t_layers[0]
            for i in range(n - 1):
                t_layers[i] += c * (t_layers[i + 1] - t_layers[i])
            t_layers[n - 1] += c * (t_in_k - t_layers[n - 1])
        for i in range(n):
            d = (t_layers[i] - t_ambient_k) * decay
            loss -= layer_mass_kg * cp_j_per_kg_k * d
            t_layers[i] += d
        _stabilise(t_layers)
    return (out / n_sub if big_m > 0.0 else t_in_k), loss


def _check(element, **values):
    for name, (value, ok, allowed) in values.items():
        if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and ok(value)):
            raise CaseError("out of range", element=element, field=name, value=value, allowed=allowed)


def _check_dt(element, dt_s):
    _check(element, dt_s=(dt_s, lambda v: v > 0, "> 0 s, finite"))


@dataclass
class _Tank:
    volume_m3: float
    ua_w_per_k: float
    t_ambient_k: float
    t_min_k: float
    t_max_k: float
    t_k: float
    rho_kg_m3: float = RHO_WATER_KG_M3
    cp_j_per_kg_k: float = CP_WATER_J_PER_KG_K
    t_ref_k: float = 273.15
    ledger: dict = field(default_factory=dict)

    def _validate(self, element):
        _check(element,
               volume_m3=(self.volume_m3, lambda v: v > 0, "> 0 m3"),
               ua_w_per_k=(self.ua_w_per_k, lambda v: v >= 0, ">= 0 W/K"),
               rho_kg_m3=(self.rho_kg_m3, lambda v: v > 0, "> 0 kg/m3"),
               cp_j_per_kg_k=(self.cp_j_per_kg_k, lambda v: v > 0, "> 0 J/(kg K)"),
               t_ambient_k=(self.t_ambient_k, lambda v: v > 0, "> 0 K"),
               t_min_k=(self.t_min_k, lambda v: v > 0, "> 0 K"),
               t_max_k=(self.t_max_k, lambda v: v > self.t_min_k, f"> t_min_k = {self.t_min_k} K"))

    @property
    def mass_kg(self) -> float:
        return self.rho_kg_m3 * self.volume_m3

    def _start_ledger(self):
        self.ledger = {"charged_j": 0.0, "discharged_j": 0.0, "loss_j": 0.0, "stored_change_j": 0.0,
                       "stored_start_j": self.energy_j()}

    def _book(self, q_w, dt_s, loss_j, before_j):
        step = {"charged_j": max(q_w, 0.0) * dt_s, "discharged_j": max(-q_w, 0.0) * dt_s, "loss_j": loss_j,
                "stored_change_j": self.energy_j() - before_j}
        for key, value in step.items():
            self.ledger[key] += value
        step["residual_j"] = step["charged_j"] - step["discharged_j"] - loss_j - step["stored_change_j"]
        return step

    def energy_balance_residual(self) -> float:
        """|charged − discharged − lost − stored change| over the run, relative to the largest term."""
        g = self.ledger
        terms = [g[k] for k in ("charged_j", "discharged_j", "loss_j", "stored_change_j")]
        scale = max(abs(x) for x in terms)
        return abs(terms[0] - terms[1] - terms[2] - terms[3]) / scale if scale > 0 else 0.0


@dataclass
class MixedTank(_Tank):
    """A fully mixed tank (module notes): ``volume_m3`` [m³], ``ua_w_per_k`` [W/K] to ``t_ambient_k`` [K],
    usable between ``t_min_k`` and ``t_max_k`` [K], at ``t_k`` [K] now."""

    def __post_init__(self):
        self._validate("mixed tank")
        _check("mixed tank", t_k=(self.t_k, lambda v: v > 0, "> 0 K"))
        self._start_ledger()

    def energy_j(self) -> float:
        """Stored enthalpy relative to ``t_ref_k`` [J]."""
        return self.mass_kg * self.cp_j_per_kg_k * (self.t_k - self.t_ref_k)

    def max_charge_w(self, dt_s) -> float:
        """Heat rate that brings the tank to ``t_max_k`` at the end of the step [W] (0 when it is there)."""
        _check_dt("mixed tank", dt_s)
        return max(float(mixed_tank_heat_to_reach(self.t_k, self.t_max_k, dt_s, self.mass_kg, self.cp_j_per_kg_k,
                                                  self.ua_w_per_k, self.t_ambient_k)), 0.0)

    def max_discharge_w(self, dt_s) -> float:
        """Heat rate that can be taken out over the step leaving the tank at ``t_min_k`` [W] (>= 0)."""
        _check_dt("mixed tank", dt_s)
        return max(-float(mixed_tank_heat_to_reach(self.t_k, self.t_min_k, dt_s, self.mass_kg,
                                                   self.cp_j_per_kg_k, self.ua_w_per_k, self.t_ambient_k)), 0.0)

    def step(self, q_w, dt_s):
        """Put in ``q_w`` [W] (< 0 take out) for ``dt_s`` [s]. Returns ``(q_w, ledger of the step [J])``."""
        _check_dt("mixed tank", dt_s)
        _check("mixed tank step", q_w=(q_w, lambda v: True, "a finite heat rate [W]"))
        before = self.energy_j()
        self.t_k, loss = mixed_tank_step(self.t_k, float(q_w), float(dt_s), self.mass_kg, self.cp_j_per_kg_k,
                                         self.ua_w_per_k, self.t_ambient_k)
        return float(q_w), self._book(float(q_w), dt_s, loss, before)


@dataclass
class StratifiedTank(_Tank):
    """A stratified tank of ``n_layers`` plug-flow layers (module notes), charged with water at ``t_charge_k``
    [K] entering the top and discharged by network return water at ``t_return_k`` [K] entering the bottom;
    ``t_k`` the initial temperature of every layer [K] (or one per layer, top first)."""

    n_layers: int = 20
    t_charge_k: float = 353.15
    t_return_k: float = 313.15
    t_layers_k: np.ndarray = None

    def __post_init__(self):
        self._validate("stratified tank")
        _check("stratified tank", n_layers=(self.n_layers, lambda v: int(v) == v and v >= 1, "an integer >= 1"),
               t_charge_k=(self.t_charge_k, lambda v: v > self.t_return_k, f"> t_return_k = {self.t_return_k} K"),
               t_return_k=(self.t_return_k, lambda v: v > 0, "> 0 K"))
        layers = np.broadcast_to(np.asarray(self.t_k, dtype=float), (int(self.n_layers),)).copy()
        bad = np.flatnonzero(~(np.isfinite(layers) & (layers > 0)))
        if bad.size:
            raise CaseError("out of range", element=f"stratified tank layer {bad[0]}", field="t_k",
                            value=float(layers[bad[0]]), allowed="> 0 K")
        self.t_layers_k = layers
        _stabilise(self.t_layers_k)
        self._start_ledger()

    @property
    def layer_mass_kg(self) -> float:
        return self.mass_kg / self.n_layers

    def energy_j(self) -> float:
        return float(self.layer_mass_kg * self.cp_j_per_kg_k * np.sum(self.t_layers_k - self.t_ref_k))

    def max_charge_w(self, dt_s) -> float:
        """Heat that fills every layer below ``t_max_k`` with water at ``t_charge_k`` within the step [W] (losses
        over the step not counted)."""
        _check_dt("stratified tank", dt_s)
        top = min(self.t_charge_k, self.t_max_k)
        return float(self.layer_mass_kg * self.cp_j_per_kg_k * np.sum(np.maximum(top - self.t_layers_k, 0.0)) / dt_s)

    def max_discharge_w(self, dt_s) -> float:
        r"""Heat the tank can give within the step [W], the lesser of:

        - what the plug flow can carry out: the layers above ``t_min_k``, each replaced by return water,
          :math:`m_\mathrm{layer} c_p \sum_{T_i > T_\min} (T_i - T_\mathrm{ret})^+`;
        - the heat it holds above water at ``t_min_k`` less its loss over the step,
          :math:`M c_p (\bar T - T_\min) - UA\,(\bar T - T_a)\,\Delta t` (the loss at the present mean
          temperature: an upper bound of the step's, as a tank being discharged only cools).

        The second is the floor the fully mixed tank has: with return water colder than ``t_min_k`` the
        tank stops when its heat content is that of water at ``t_min_k`` (its mean temperature), its top still
        warmer than ``t_min_k`` and its bottom return water; counting the layers down to the return
        temperature instead would take it below ``t_min_k`` and its stored heat below zero."""
        _check_dt("stratified tank", dt_s)
        t = self.t_layers_k
        hot = t[t > self.t_min_k]
        c = self.layer_mass_kg * self.cp_j_per_kg_k
        plug = c * float(np.sum(np.maximum(hot - self.t_return_k, 0.0)))
        mean = float(np.mean(t))
        above_floor = self.mass_kg * self.cp_j_per_kg_k * (mean - self.t_min_k) \
            - self.ua_w_per_k * max(mean - self.t_ambient_k, 0.0) * dt_s
        return max(min(plug, above_floor), 0.0) / dt_s

    def step(self, q_w, dt_s):
        """Charge (``q_w`` > 0) or discharge (< 0) about ``|q_w|`` [W] for ``dt_s`` [s]: the flow that would carry
        it at the present bottom (charging) or top (discharging) temperature. Returns ``(heat really charged
        or, < 0, discharged [W], ledger of the step [J])``: it differs from ``q_w`` when the thermocline
        reaches the outlet within the step."""
        _check_dt("stratified tank", dt_s)
        _check("stratified tank step", q_w=(q_w, lambda v: True, "a finite heat rate [W]"))
        cp = self.cp_j_per_kg_k
        t = self.t_layers_k
        if q_w > 0 and self.t_charge_k > t[-1]:
            m, t_in = q_w / (cp * (self.t_charge_k - t[-1])), self.t_charge_k
        elif q_w < 0 and t[0] > self.t_return_k:
            m, t_in = q_w / (cp * (t[0] - self.t_return_k)), self.t_return_k
        else:
            m, t_in = 0.0, self.t_return_k
        return self.step_flow(m, t_in, dt_s)

    def step_flow(self, m_kg_s, t_in_k, dt_s):
        """Move water through the tank for ``dt_s`` [s]: ``m_kg_s`` > 0 enters the top at ``t_in_k`` [K] (charging),
        < 0 the bottom (discharging). Returns ``(heat put in, < 0 taken out [W], ledger of the step [J])``."""
        _check_dt("stratified tank", dt_s)
        _check("stratified tank step", m_kg_s=(m_kg_s, lambda v: True, "a finite mass flow [kg/s]"),
               t_in_k=(t_in_k, lambda v: v > 0, "> 0 K"))
        before = self.energy_j()
        t_out, loss = stratified_tank_step(self.t_layers_k, float(m_kg_s), float(t_in_k), float(dt_s),
                                           self.layer_mass_kg, self.cp_j_per_kg_k, self.ua_w_per_k, self.t_ambient_k)
        q = abs(m_kg_s) * self.cp_j_per_kg_k * (t_in_k - t_out)
        return q, self._book(q, dt_s, loss, before)


def dispatch_heat_pumps_first(q_demand_w, q_hp_available_w, charge_max_w, discharge_max_w) -> dict:
    """Split a step's network demand between heat pumps, tank and peak boiler [W] (module notes):

    1. the heat pumps give ``hp = min(demand, available) + charge``;
    2. ``charge = min(available - demand, charge_max)`` when they can give more than the demand;
    3. ``discharge = min(demand - available, discharge_max)`` when they cannot;
    4. ``boiler = demand - min(demand, available) - discharge``.

    ``curtailed_w`` is what the heat pumps could have given and nothing took."""
    to_net = min(q_demand_w, q_hp_available_w)
    charge = min(max(q_hp_available_w - q_demand_w, 0.0), charge_max_w)
    discharge = min(max(q_demand_w - q_hp_available_w, 0.0), discharge_max_w)
    return {"hp_w": to_net + charge, "charge_w": charge, "discharge_w": discharge,
            "boiler_w": q_demand_w - to_net - discharge, "curtailed_w": q_hp_available_w - to_net - charge}


DISPATCH_RULES = {"heat_pumps_first": dispatch_heat_pumps_first}
"""Dispatch rules by name: ``rule(q_demand_w, q_hp_available_w, charge_max_w, discharge_max_w) -> dict``."""


def run_storage_dispatch(tank, demand_w, hp_available_w, dt_s, rule="heat_pumps_first") -> dict:
    """Dispatch a plant with a tank over a series of steps of ``dt_s`` [s]: the network's demand [W] and what the
    heat pumps can give [W] per step. The tank's real charge and discharge are what it took and gave (a
    stratified tank's may fall short of the rule's); the boiler covers any shortfall of the discharge.

    Returns arrays [W] ``hp_w``, ``boiler_w``, ``charge_w``, ``discharge_w``, ``curtailed_w``, ``tank_loss_w``
    and ``tank_energy_j`` (at the end of each step), and ``ledger``: over the run, heat pumps + boiler =
    demand + tank losses + change of tank enthalpy [J], with its relative residual."""
    if rule not in DISPATCH_RULES:
        raise CaseError("unknown dispatch rule", element="storage dispatch", field="rule", value=rule,
                        allowed=", ".join(DISPATCH_RULES))
    demand = np.asarray(demand_w, dtype=float)
    avail = np.asarray(hp_available_w, dtype=float)
    for name, arr in (("demand_w", demand), ("hp_available_w", avail)):
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
        if arr.ndim != 1 or arr.shape != demand.shape:
            raise CaseError("one value per step", element="storage dispatch", field=name, value=arr.shape,
                            allowed=f"shape {demand.shape}")
        if bad.size:
            raise CaseError("out of range", element=f"storage dispatch step {bad[0]}", field=name,
                            value=float(arr[bad[0]]), allowed=">= 0 W, finite")
    _check_dt("storage dispatch", dt_s)
    out = {k: np.zeros(demand.size) for k in ("hp_w", "boiler_w", "charge_w", "discharge_w", "curtailed_w",
                                              "tank_loss_w", "tank_energy_j")}
    choose = DISPATCH_RULES[rule]
    start = tank.energy_j()
    for i in range(demand.size):
        d = choose(demand[i], avail[i], tank.max_charge_w(dt_s), tank.max_discharge_w(dt_s))
        q = d["charge_w"] - d["discharge_w"]
        got, step = tank.step(q, dt_s) if q != 0.0 else tank.step(0.0, dt_s)
        charge, discharge = max(got, 0.0), max(-got, 0.0)
        to_net = min(demand[i], avail[i])
        out["hp_w"][i] = to_net + charge
        out["charge_w"][i], out["discharge_w"][i] = charge, discharge
        out["boiler_w"][i] = demand[i] - to_net - discharge
        out["curtailed_w"][i] = avail[i] - to_net - charge
        out["tank_loss_w"][i] = step["loss_j"] / dt_s
        out["tank_energy_j"][i] = tank.energy_j()
    supplied = float(np.sum(out["hp_w"] + out["boiler_w"]) * dt_s)
    used = float(np.sum(demand) * dt_s)
    lost = float(np.sum(out["tank_loss_w"]) * dt_s)
    change = tank.energy_j() - start
    scale = max(abs(supplied), abs(used), abs(lost), abs(change), 1e-300)
    out["ledger"] = {"supplied_j": supplied, "demand_j": used, "tank_loss_j": lost, "tank_stored_change_j": change,
                     "energy_balance_residual": abs(supplied - used - lost - change) / scale}
    return out
