"""Issue 14: a stratified storage tank is never discharged below ``storage_t_min_k``.

Its usable heat is what it holds above water at ``t_min_k`` (as the fully mixed tank's), not what its layers
would give down to the network's return temperature: discharged by return water colder than ``t_min_k``, a
stratified tank stops when its heat content is that of water at ``t_min_k`` (mean temperature ``t_min_k``),
so its stored energy above the floor never goes negative.

Independent answers: with no losses (UA = 0) a charge–hold–discharge cycle gives back exactly what was
charged, M·cp·(t_max − t_min) for a tank charged full from empty, the same as a fully mixed tank's closed
form; with losses, the tank's ledger (charged − discharged = lost + stored change) closes to round-off.
"""
from __future__ import annotations

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.models.storage import MixedTank, StratifiedTank
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import HeatOffer

T_MIN, T_MAX, T_RETURN, T_AMB = 323.15, 353.15, 313.15, 283.15  # return water 10 K below the tank's floor
DT = 3600.0


def above_floor_j(tank) -> float:
    """Heat the tank holds above water at its t_min_k [J]."""
    return tank.energy_j() - tank.mass_kg * tank.cp_j_per_kg_k * (tank.t_min_k - tank.t_ref_k)


def cycle(tank, charge_steps=3, hold_steps=5, discharge_steps=8):
    """Charge as fast as the tank takes, hold, then discharge as fast as it gives; returns the per-step
    (charged, discharged, lost, above the floor at the step's end) [J]."""
    out = []
    for k in range(charge_steps + hold_steps + discharge_steps):
        if k < charge_steps:
            q = tank.max_charge_w(DT)
        elif k < charge_steps + hold_steps:
            q = 0.0
        else:
            q = -tank.max_discharge_w(DT)
        got, led = tank.step(q, DT)
        assert abs(led["residual_j"]) <= 1e-12 * max(abs(v) for v in led.values())
        out.append((led["charged_j"], led["discharged_j"], led["loss_j"], above_floor_j(tank)))
    return np.array(out)


@pytest.mark.parametrize("layers", [1, 10, 40])
def test_lossless_cycle_gives_back_what_was_charged_never_below_the_floor(layers):
    volume = 500.0
    strat = StratifiedTank(volume, 0.0, T_AMB, T_MIN, T_MAX, T_MIN, n_layers=layers, t_charge_k=T_MAX,
                           t_return_k=T_RETURN)
    mixed = MixedTank(volume, 0.0, T_AMB, T_MIN, T_MAX, T_MIN)
    full = strat.mass_kg * strat.cp_j_per_kg_k * (T_MAX - T_MIN)
    s, m = cycle(strat), cycle(mixed)
    for run in (s, m):
        assert run[:, 0].sum() == pytest.approx(full, rel=1e-12)  # charged full from empty
        assert run[:, 1].sum() == pytest.approx(full, rel=1e-9)   # ... and all of it given back
        assert run[:, 3].min() >= -1e-9 * full                    # never below the floor
        assert run[-1, 3] == pytest.approx(0.0, abs=1e-9 * full)  # empty at the end
    assert strat.max_discharge_w(DT) <= 1e-9 * full / DT
    assert float(np.mean(strat.t_layers_k)) == pytest.approx(T_MIN, abs=1e-9)


def test_with_losses_the_ledger_closes_and_discharge_stops_at_the_floor():
    strat = StratifiedTank(500.0, 2000.0, T_AMB, T_MIN, T_MAX, T_MIN, n_layers=20, t_charge_k=T_MAX,
                           t_return_k=T_RETURN)
    run = cycle(strat)
    assert strat.energy_balance_residual() <= 1e-12
    # charged − discharged = lost + stored change over the cycle (the tank starts at the floor)
    assert run[:, 0].sum() - run[:, 1].sum() == pytest.approx(run[:, 2].sum() + run[-1, 3], rel=1e-9)
    gave = run[:, 1] > 0
    assert gave[8:].sum() >= 2 and not gave[:8].any()
    # every step that discharged ends at or above the floor (losses alone may then cool it further, as they
    # do a mixed tank), and the last one empties it to within a step's losses
    assert run[gave, 3].min() >= -1e-9 * run[:, 0].sum()
    last = np.flatnonzero(gave)[-1]
    assert run[last, 3] <= 2000.0 * (T_MAX - T_AMB) * DT


def test_series_stratified_tank_never_below_its_floor():
    """In the district-heating series: a stratified tank charged by a surplus of campus heat, then discharged
    with the plant's return water below ``storage_t_min_k``: ``dh_storage_energy_j`` (heat above the floor)
    never negative, the tank's mean never below the floor, and what it gave at most what it took."""
    pipe = dict(length_m=500.0, diameter_m=0.1, u_w_per_m_k=0.4)
    doc = {"district_heating": {"supply_node": "S", "return_node": "R", "storage": "stratified",
                                "storage_volume_m3": 50.0, "storage_ua_w_per_k": 40.0, "storage_t_min_k": 333.15,
                                "storage_t_max_k": 343.15, "storage_layers": 10},
           "dh_node": [{"id": x} for x in ["S", "A", "R", "Ar"]],
           "dh_pipe": [dict(id="s1", from_node="S", to_node="A", **pipe),
                       dict(id="r1", from_node="Ar", to_node="R", **pipe)],
           "dh_consumer": [{"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 3e5}]}
    case = gw.make_case({k: v for k, v in doc.items() if k.startswith("dh_")}, district_heating=doc["district_heating"],
                        case={"name": "tank"})
    ser = DistrictHeatingSeries(case)
    rich, poor = HeatOffer(5e6, 318.15, 308.15), HeatOffer(0.0, 318.15, 308.15)
    charged = discharged = 0.0
    returns = []
    for k in range(24):
        f = ser.step(rich if k < 6 else poor, 278.15, DT)
        charged += f["dh_storage_charge_w"] * DT
        discharged += f["dh_storage_discharge_w"] * DT
        returns.append(f["dh_t_return_k"])
        if f["dh_storage_discharge_w"] > 0:  # (losses alone may cool a tank below its floor, as a mixed one's)
            assert f["dh_storage_energy_j"] >= -1e-9 * ser.tank.mass_kg * ser.tank.cp_j_per_kg_k * 10.0, k
            assert f["dh_storage_t_k"] >= 333.15 - 1e-9, k
    assert max(returns) < 333.15  # the return water is colder than the floor: the case the defect was in
    assert charged > 0 and 0 < discharged <= charged
    assert ser.energy_balance_residual() <= 1e-9
