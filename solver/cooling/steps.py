"""The cooling stage of a time series: :func:`~gigawatt.solver.cooling.stage.solve_heat`,
:func:`~gigawatt.solver.cooling.stage.heat_offered` and :func:`~gigawatt.solver.cooling.stage.with_recovery` of
one prepared plant, step after step, with what does not change between steps worked out once.

A step of a series needs only the facility's figures of those functions, not their arrays per rack, loop or
CDU. :class:`HeatSteps` therefore solves the loops of a step in one compiled call (:func:`_loop_heat`: the
racks' liquid and air heat, the loops' thermal sweep replayed on the plan the fixed flows give, each loop's
pipe loss and return temperature, its CDU duty and the facility flow each CDU's valve passes) into arrays
prepared once, and the facility water with the scalar functions of :mod:`~gigawatt.solver.cooling.stage`
themselves. Same operations in the same order as those functions, so the same numbers to the last bit
(``tests/test_cooling_steps.py`` compares them). Any error (a temperature outside the coolant's range, a loop
colder than its set-point, a CDU short of capacity) is raised by :func:`solve_heat` itself, called again on
the step's inputs for its message.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gigawatt.models.cooling_plant import STATUS_OK, cdu_facility_capacity, dry_cooler_design
from gigawatt.solver.cooling.repeats import first_same_row
from gigawatt.solver.numerics.thermal_kernel import sweep_replay

OK, BAD_TEMPERATURE, COLD_LOOP, CDU_SHORT = 0, 1, 2, 3
"""Outcomes of :func:`_loop_heat` (anything but OK: :func:`solve_heat` raises the error)."""


@njit(cache=True)
def _loop_heat(p_it, vrm, shelf, lf, vlf, slf, alf, avlf, aslf, unit_rack, per_rack, node_value, heat_node,
               t_ref_k, order, node_data, edge_start, edge_nodes, edge_data, t_out_zero_flow, t_low_k, t_high_k,
               branch_loop, return_node, c_hot, live, shaft_per_c, t_set, t_f, ua, c_max,
               q_liq, q_air, value, h_in, t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step,
               loop_loss, t_ret, duty, c_cold, inputs):
    """One step of the loops (see the module notes); the arrays after ``c_max`` are outputs and scratch.
    ``alf, avlf, aslf`` = ``1 - lf`` ... as :func:`solve_heat` forms them. Returns :data:`OK` or the first
    failed check."""
    for i in range(p_it.size):  # as solve_heat: q_liq = lf p + vlf vrm + slf shelf, q_air likewise
        q_liq[i] = lf * p_it[i] + vlf * vrm[i] + slf * shelf[i]
        q_air[i] = alf * p_it[i] + avlf * vrm[i] + aslf * shelf[i]
    value[:] = node_value
    for u in range(heat_node.size):  # LoopThermal.solve: value[heat_node] = -(q_liq[unit_rack] / n)
        value[heat_node[u]] = -(q_liq[unit_rack[u]] / per_rack)
    t_node[:] = np.nan
    q_loss[:] = 0.0
    q_supply[:] = 0.0
    q_extracted[:] = 0.0
    q_sink[:] = 0.0
    q_cp_step[:] = 0.0
    sweep_replay(value, t_ref_k, order, node_data, edge_start, edge_nodes, edge_data, t_out_zero_flow, h_in,
                 t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step)
    for i in range(t_node.size):  # _check_loop_temperatures (NaN passes there too)
        if t_node[i] < t_low_k or t_node[i] > t_high_k:
            return BAD_TEMPERATURE
    loop_loss[:] = 0.0
    for b in range(branch_loop.size):  # np.bincount(branch_loop, weights=q_loss): in branch order
        loop_loss[branch_loop[b]] += q_loss[b]
    for j in range(c_hot.size):
        t_ret[j] = t_node[return_node[j]] + shaft_per_c[j] if live[j] else t_set
        duty[j] = c_hot[j] * (t_ret[j] - t_set)
        if live[j] and duty[j] < 0:
            return COLD_LOOP
    # _cdus: each CDU's valve (the first of each repeated set of inputs solved, as _cdu_capacities)
    for j in range(c_hot.size):
        inputs[j, 0], inputs[j, 1], inputs[j, 2], inputs[j, 3] = t_ret[j], c_hot[j], ua[j], c_max[j]
    first = first_same_row(inputs.view(np.int64))
    for j in range(c_hot.size):
        k = first[j]
        if k < j:
            c_cold[j] = c_cold[k]
            continue
        c, status, _ = cdu_facility_capacity(t_ret[j], t_set, c_hot[j], t_f, ua[j], c_max[j])
        if status != STATUS_OK:
            return CDU_SHORT
        c_cold[j] = c
    return OK


class HeatSteps:
    """The cooling stage of one case and plant along a series (see the module notes): :meth:`loops` solves a
    step's loops (``solve_heat(..., facility=False)``), :meth:`offered` is :func:`heat_offered` and
    :meth:`facility` the facility figures of :func:`with_recovery` at the step's outdoor temperature.

    The arrays it holds are its own scratch, overwritten at each step; what it returns is fresh (floats and a
    dict)."""

    def __init__(self, case, plant, dry_cooler_design_: "DryCoolerDesign | None"):
        from gigawatt.solver.cooling.stage import _table

        s, loops, hyd, th = plant.settings, plant.loops, plant.hydraulics, plant.thermal
        self.case, self.plant, self.design = case, plant, dry_cooler_design_
        lf, vlf, slf = s["liquid_fraction"], s["vrm_liquid_fraction"], s["shelf_liquid_fraction"]
        self.fractions = (lf, vlf, slf, 1 - lf, 1 - vlf, 1 - slf)
        sweep = th.network.with_flows(th.m_branch_kg_s, th.m_node_kg_s)  # as LoopThermal.solve's plan
        lim = _table(plant.tcs.name).limits
        c_hot = hyd.flow_kg_s * plant.tcs.cp_j_per_kg_k
        live = c_hot > 0
        n_node, n_branch, n_loop = th.network.n_node, th.network.n_branch, loops.n_loop
        # the constant terms of solve_heat's loop arithmetic, by the same operations
        shaft_per_c = hyd.shaft_w / np.where(live, c_hot, 1.0)
        self._args = (np.ascontiguousarray(loops.unit_rack, dtype=np.int64), float(loops.units_per_rack),
                      th.node_value, np.ascontiguousarray(th.heat_node, dtype=np.int64), sweep.network.t_ref_k,
                      *sweep.plan, lim.t_low_k, lim.t_high_k, np.ascontiguousarray(th.branch_loop, dtype=np.int64),
                      np.ascontiguousarray(loops.return_node, dtype=np.int64), c_hot, live, shaft_per_c,
                      s["tcs_supply_t_k"], s["facility_supply_t_k"], plant.cdu_ua_w_per_k,
                      s["cdu_max_flow_ratio"] * c_hot)
        n_rack = len(case.tables["rack"])
        self.q_liq, self.q_air = np.empty(n_rack), np.empty(n_rack)
        self.loop_loss, self.duty, self.c_cold = np.empty(n_loop), np.empty(n_loop), np.empty(n_loop)
        self._work = (np.empty(n_node), np.empty(n_node), np.empty(n_node), np.empty(n_branch), np.empty(n_branch),
                      *(np.empty(n_node) for _ in range(4)), self.loop_loss, np.empty(n_loop), self.duty,
                      self.c_cold, np.empty((n_loop, 4)))
        # with_recovery's constant sums, and the dry coolers' design conductance (_dry_coolers)
        self.shaft_sum, self.electric_sum = hyd.shaft_w.sum(), hyd.electric_w.sum()
        self.dry_ua = None if dry_cooler_design_ is None else dry_cooler_design(
            dry_cooler_design_.q_w, dry_cooler_design_.c_water_w_per_k, s["dry_cooler_approach_k"])

    def loops(self, rack_p_it_w, rack_vrm_loss_w, rack_shelf_loss_w, other_loss_w: float) -> tuple:
        """The step's loops: ``(water, Σ rack liquid heat [W], Σ loop pipe loss [W])``, ``water`` the facility
        water's stream of :func:`~gigawatt.solver.cooling.stage._facility_water`."""
        from gigawatt.solver.cooling.stage import _facility_water, solve_heat

        p_it, vrm, shelf = (np.asarray(a, dtype=float) for a in (rack_p_it_w, rack_vrm_loss_w, rack_shelf_loss_w))
        outcome = _loop_heat(p_it, vrm, shelf, *self.fractions, *self._args, self.q_liq, self.q_air, *self._work)
        if outcome != OK:  # solve_heat raises the error, with its message
            solve_heat(self.case, self.plant, p_it, vrm, shelf, other_loss_w, 0.0, facility=False)
            raise AssertionError(f"the step's loops failed check {outcome}, solve_heat found nothing")
        s = self.plant.settings
        water = _facility_water(s, self.plant.fws, self.q_air.sum() + other_loss_w, self.duty, self.c_cold)
        return water, self.q_liq.sum(), self.loop_loss.sum()

    def offered(self, water: tuple) -> tuple[float, float, float]:
        """:func:`~gigawatt.solver.cooling.stage.heat_offered` of the step's ``water``."""
        from gigawatt.solver.cooling.stage import offered_of_water

        return offered_of_water(self.case, self.plant, water)

    def facility(self, water: tuple, q_liquid_sum, loop_loss_sum, p_grid_w: float, recovery_demand_w=None,
                 ambient_t_k: float | None = None) -> dict:
        """The facility figures of :func:`~gigawatt.solver.cooling.stage.with_recovery` (not strict: a
        set-point the dry coolers cannot hold is counted) at the outdoor temperature ``ambient_t_k`` [K]
        (None: the plant's)."""
        from gigawatt.solver.cooling.stage import recovery_facility

        return recovery_facility(self.case, self.plant, water, q_liquid_sum, loop_loss_sum, p_grid_w,
                                 recovery_demand_w, self.design, False, ambient_t_k, self.shaft_sum,
                                 self.electric_sum, self.dry_ua)
