"""Thermal storage tanks and the heat-pumps-first dispatch (:mod:`gigawatt.models.storage`).

References: the fully mixed tank's closed form (Duffie & Beckman 8.3), written out here with ``math``; plug
flow's shift of whole layers; energy conservation. Tolerances of 1e-12 relative are round-off of a few
exponentials; the ledgers' 1e-9 is the issue's closure target.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from gigawatt.errors import CaseError
from gigawatt.models.storage import (CP_WATER_J_PER_KG_K, RHO_WATER_KG_M3, MixedTank, StratifiedTank,
                                     dispatch_heat_pumps_first, mixed_tank_heat_to_reach, mixed_tank_step,
                                     run_storage_dispatch, stratified_tank_step)

C = RHO_WATER_KG_M3 * 1000.0 * CP_WATER_J_PER_KG_K  # 1000 m3 [J/K]


def closed_form(t0, q, t, ua=2000.0, ta=283.15):
    tau = C / ua
    t_eq = ta + q / ua
    return t_eq + (t0 - t_eq) * math.exp(-t / tau)


@pytest.mark.parametrize("q", [0.0, 5e6, -3e6])
def test_mixed_tank_follows_the_closed_form_in_any_steps(q):
    """600 steps of 60 s, 10 of an hour and one of 10 h all land on T_eq + (T0 - T_eq) exp(-t/tau); the losses
    are the integral of UA (T - T_a), here by the ledger (heat in - stored change) of the closed form."""
    m = C / CP_WATER_J_PER_KG_K
    expected = closed_form(333.15, q, 36000.0)
    for n in (600, 10, 1):
        t, loss = 333.15, 0.0
        for _ in range(n):
            t, lost = mixed_tank_step(t, q, 36000.0 / n, m, CP_WATER_J_PER_KG_K, 2000.0, 283.15)
            loss += lost
        assert t == pytest.approx(expected, rel=1e-13)
        assert loss == pytest.approx(q * 36000.0 - C * (expected - 333.15), rel=1e-9)


def test_mixed_tank_without_losses_and_the_heat_to_reach_a_temperature():
    m = C / CP_WATER_J_PER_KG_K
    t, loss = mixed_tank_step(330.0, 1e6, 3600.0, m, CP_WATER_J_PER_KG_K, 0.0, 283.15)
    assert (t, loss) == (pytest.approx(330.0 + 3.6e9 / C, rel=1e-15), 0.0)
    for ua in (0.0, 1.0, 2000.0, 1e7):
        q = mixed_tank_heat_to_reach(330.0, 340.0, 3600.0, m, CP_WATER_J_PER_KG_K, ua, 283.15)
        t, _ = mixed_tank_step(330.0, q, 3600.0, m, CP_WATER_J_PER_KG_K, ua, 283.15)
        assert t == pytest.approx(340.0, rel=1e-12)


def test_stratified_plug_flow_shifts_whole_layers():
    """No losses, one layer a step: the profile moves down by one layer and the bottom layer leaves."""
    t = np.array([350.0, 340.0, 330.0, 320.0])
    t_out, loss = stratified_tank_step(t, 1.0, 360.0, 10.0, 10.0, 4185.0, 0.0, 283.15)
    assert t_out == 320.0 and loss == 0.0
    np.testing.assert_array_equal(t, [360.0, 350.0, 340.0, 330.0])
    t_out, _ = stratified_tank_step(t, -2.0, 300.0, 10.0, 10.0, 4185.0, 0.0, 283.15)  # two layers up and out
    assert t_out == pytest.approx(355.0)
    np.testing.assert_array_equal(t, [340.0, 330.0, 300.0, 300.0])


def test_stratified_inversions_mix_and_energy_is_kept():
    """Return water warmer than the bottom layers rises: the column becomes stable (never warmer below), and
    enthalpy in - out = stored change (no losses), also for fractional shifts."""
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(300.0, 360.0, 12))[::-1].copy()
    for _ in range(200):
        m = rng.uniform(-3.0, 3.0)
        t_in = rng.uniform(300.0, 365.0)
        before = t.sum()
        t_out, _ = stratified_tank_step(t, m, t_in, 7.0, 10.0, 4185.0, 0.0, 283.15)
        moved = abs(m) * 7.0
        assert 10.0 * (t.sum() - before) == pytest.approx(moved * (t_in - t_out), abs=1e-9 * 3600)
        assert np.all(np.diff(t) <= 1e-12)


def test_stratified_water_stored_longer_returns_colder():
    """Losses only: a layer's water decays as exp(-t/tau_s), tau_s = rho V cp / UA, whatever the layer."""
    t = np.full(5, 353.15)
    tau = 50.0 * 4185.0 / 100.0
    _, loss = stratified_tank_step(t, 0.0, 0.0, 600.0, 10.0, 4185.0, 100.0, 283.15)
    np.testing.assert_allclose(t, 283.15 + 70.0 * math.exp(-600.0 / tau), rtol=1e-14)
    assert loss == pytest.approx(50.0 * 4185.0 * 70.0 * (1 - math.exp(-600.0 / tau)), rel=1e-12)


@pytest.mark.parametrize("demand, avail, charge_max, discharge_max, expected", [
    (5.0, 8.0, 10.0, 10.0, dict(hp_w=8.0, charge_w=3.0, discharge_w=0.0, boiler_w=0.0, curtailed_w=0.0)),
    (5.0, 8.0, 1.0, 10.0, dict(hp_w=6.0, charge_w=1.0, discharge_w=0.0, boiler_w=0.0, curtailed_w=2.0)),
    (9.0, 4.0, 10.0, 3.0, dict(hp_w=4.0, charge_w=0.0, discharge_w=3.0, boiler_w=2.0, curtailed_w=0.0)),
    (9.0, 4.0, 10.0, 10.0, dict(hp_w=4.0, charge_w=0.0, discharge_w=5.0, boiler_w=0.0, curtailed_w=0.0)),
    (0.0, 0.0, 10.0, 10.0, dict(hp_w=0.0, charge_w=0.0, discharge_w=0.0, boiler_w=0.0, curtailed_w=0.0)),
])
def test_dispatch_rule(demand, avail, charge_max, discharge_max, expected):
    """Heat pumps to capacity; surplus into the tank up to what it takes; deficit from the tank before the boiler."""
    assert dispatch_heat_pumps_first(demand, avail, charge_max, discharge_max) == expected


def tanks():
    return [MixedTank(2000.0, 3000.0, 283.15, 318.15, 363.15, 323.15),
            StratifiedTank(2000.0, 3000.0, 283.15, 318.15, 363.15, 313.15, n_layers=16, t_charge_k=353.15,
                           t_return_k=313.15)]


@pytest.mark.parametrize("which", [0, 1])
def test_tank_shaves_the_boilers_peaks_and_the_ledger_closes(which):
    """A week of hourly steps: heat pumps of 12 MW against a demand of 8 MW at night and 16 MW in the evening
    peak. The tank charged at night gives at the peak, so the boiler burns less than without it; over the week,
    heat pumps + boiler = demand + tank losses + change in the tank, to 1e-9."""
    hours = np.arange(168)
    demand = np.where((hours % 24 >= 17) & (hours % 24 < 21), 16e6, 8e6)
    avail = np.full(168, 12e6)
    tank = tanks()[which]
    out = run_storage_dispatch(tank, demand, avail, 3600.0)
    no_tank_boiler = np.sum(np.maximum(demand - avail, 0.0))
    assert out["boiler_w"].sum() < 0.5 * no_tank_boiler
    assert out["charge_w"][(hours % 24) < 6].sum() > 0
    assert out["discharge_w"][(hours % 24 >= 17) & (hours % 24 < 21)].sum() > 0
    assert np.all(out["boiler_w"] >= -1e-6) and np.all(out["curtailed_w"] >= -1e-6)
    assert out["ledger"]["energy_balance_residual"] <= 1e-9
    assert tank.energy_balance_residual() <= 1e-9


def test_bad_input_names_field_and_value():
    cases = [
        (lambda: MixedTank(-1.0, 100.0, 283.15, 313.15, 363.15, 330.0), "volume_m3", -1.0),
        (lambda: MixedTank(10.0, -5.0, 283.15, 313.15, 363.15, 330.0), "ua_w_per_k", -5.0),
        (lambda: MixedTank(10.0, 5.0, 283.15, 363.15, 313.15, 330.0), "t_max_k", 313.15),
        (lambda: MixedTank(10.0, 5.0, 283.15, 313.15, 363.15, math.nan), "t_k", math.nan),
        (lambda: StratifiedTank(10.0, 5.0, 283.15, 313.15, 363.15, 330.0, n_layers=0), "n_layers", 0),
        (lambda: StratifiedTank(10.0, 5.0, 283.15, 313.15, 363.15, 330.0, t_charge_k=300.0, t_return_k=310.0),
         "t_charge_k", 300.0),
        (lambda: tanks()[0].step(1e6, 0.0), "dt_s", 0.0),
        (lambda: tanks()[1].step(1e6, -60.0), "dt_s", -60.0),
        (lambda: tanks()[0].max_charge_w(math.inf), "dt_s", math.inf),
        (lambda: tanks()[0].step(math.nan, 60.0), "q_w", math.nan),
        (lambda: run_storage_dispatch(tanks()[0], [1.0, -2.0], [0.0, 0.0], 60.0), "demand_w", -2.0),
        (lambda: run_storage_dispatch(tanks()[0], [1.0, 2.0], [0.0], 60.0), "hp_available_w", (1,)),
        (lambda: run_storage_dispatch(tanks()[0], [1.0], [0.0], 60.0, rule="cheapest"), "rule", "cheapest"),
    ]
    for make, field, value in cases:
        with pytest.raises(CaseError) as err:
            make()
        assert err.value.field == field
        assert err.value.value == value or (isinstance(value, float) and math.isnan(value)
                                            and math.isnan(err.value.value))
