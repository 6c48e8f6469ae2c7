"""The cooling stage along a series (gigawatt.solver.cooling.steps.HeatSteps) against the steady functions it
stands for (solve_heat, heat_offered, with_recovery): the same figures to the last bit, on campuses that
exercise its branches (pipe heat loss, cold plates as heat units, rack flow control, several loops), at random
rack powers, and the same errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.solver.chain_stepper import ChainStepper
from gigawatt.solver.cooling.stage import heat_offered, solve_heat, with_recovery
from gigawatt.solver.cooling.steps import HeatSteps

VARIANTS = {
    "default": {},
    "pipe_loss": {"pipe_u_w_per_m_k": 0.5},
    "plates": {"plate_resolution": True, "chips_per_rack": 6},
    "valves": {"rack_flow_control": True},
}
_STEPPERS: dict = {}


def stepper(variant: str) -> ChainStepper:
    """A prepared chain of a two-hall campus with ``[cooling]`` overrides (kept across examples: read only)."""
    if variant not in _STEPPERS:
        case = gw.build_campus(halls=2, rows_per_hall=2, racks_per_row=3, rack_it_power_kw=120.0,
                               cooling=VARIANTS[variant])
        _STEPPERS[variant] = ChainStepper(case)
    return _STEPPERS[variant]


def _steady(s: ChainStepper, p_it, dc, demand, ambient):
    """The figures of the steady functions, as the stepper of main formed them (the plant at the ambient)."""
    from dataclasses import replace

    plant = replace(s.plant, settings={**s.plant.settings, "ambient_t_k": ambient})
    heat = solve_heat(s.case, plant, p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w, dc.p_in_w,
                      dry_cooler_design=s.dry_cooler_design, strict=False, facility=False)
    offered = heat_offered(s.case, plant, heat)
    heat = with_recovery(s.case, plant, heat, dc.p_in_w, demand, dry_cooler_design=s.dry_cooler_design, strict=False)
    return offered, heat


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@settings(max_examples=15, deadline=None)
@given(fractions=st.lists(st.floats(0.0, 1.2), min_size=1, max_size=12), demand=st.floats(0.0, 5e6),
       ambient=st.floats(243.15, 303.15))
def test_heat_steps_equal_solve_heat_and_with_recovery(variant, fractions, demand, ambient):
    s = stepper(variant)
    n = s.p_ref_w.size
    scale = np.resize(np.asarray(fractions), n)  # each rack at its own fraction
    p_it = s.chip_points(s.p_ref_w * scale)[0]
    dc = s.dc.fresh().step(p_it)
    offered, heat = _steady(s, p_it, dc, demand, ambient)
    steps = s.heat_steps
    water, q_liquid, loop_loss = steps.loops(p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w)
    assert steps.offered(water) == offered
    fac = steps.facility(water, q_liquid, loop_loss, dc.p_in_w, demand, ambient_t_k=ambient)
    assert list(fac) == list(heat.facility)  # same figures, same order
    for name, value in heat.facility.items():
        assert np.array_equal(fac[name], value), name  # bit for bit (NaN as NaN)
    assert q_liquid == heat.rack_q_liquid_w.sum() and loop_loss == heat.loop_pipe_loss_w.sum()
    # the per-rack heat behind the sums: bit for bit too
    np.testing.assert_array_equal(steps.q_liq, heat.rack_q_liquid_w)
    np.testing.assert_array_equal(steps.q_air, heat.rack_q_air_w)
    np.testing.assert_array_equal(steps.duty, heat.cdu_duty_w)
    np.testing.assert_array_equal(steps.c_cold, heat.cdu_c_cold_w_per_k)


def test_heat_steps_facility_without_recovery_is_solve_heats():
    # No district heating: the case's recovery_demand_w and the plant's ambient (ambient_t_k None).
    s = stepper("default")
    p_it = s.chip_points(s.p_ref_w * 0.7)[0]
    dc = s.dc.fresh().step(p_it)
    heat = solve_heat(s.case, s.plant, p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w, dc.p_in_w,
                      dry_cooler_design=s.dry_cooler_design, strict=False)
    water, q_liquid, loop_loss = s.heat_steps.loops(p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w)
    assert s.heat_steps.facility(water, q_liquid, loop_loss, dc.p_in_w) == heat.facility


def test_heat_steps_raise_solve_heats_error():
    # A CDU asked more than its exchanger passes with the valve fully open: the same CaseError as solve_heat's.
    s = stepper("default")
    p_it = s.p_ref_w * 3.0
    dc = s.dc.fresh().step(p_it)
    with pytest.raises(CaseError) as expected:
        solve_heat(s.case, s.plant, p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w, dc.p_in_w,
                   facility=False)
    steps = HeatSteps(s.case, s.plant, s.dry_cooler_design)
    with pytest.raises(CaseError) as got:
        steps.loops(p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w)
    assert str(got.value) == str(expected.value)
