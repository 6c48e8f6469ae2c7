"""Physical invariants of the liquid-cooling stage on random small campuses (hypothesis).

Random rows and racks of unequal power regrouped into one to three technology loops, any coolant, any
ASHRAE facility class, direct or reverse return, pipe heat exchange with the room in both directions,
chip leakage (none, exponential or linear, kept far from runaway), shelf and VRM heat to liquid or air,
heat recovery below, at or above what is available. Every case is feasible by construction (dry coolers
5-25 K above ambient, pipe losses far below the rack heat, CDU valves able to pass twice the design flow),
so every solve must succeed, and after it:

- mass balance at every node of the loop networks (pipe flows of the results on the loops' topology),
- the first law at every CDU: duty = C_hot dT_hot = C_cold dT_cold = epsilon C_min (T_hot,in - T_cold,in)
  with the exact counter-flow epsilon-NTU relation, and no temperature cross,
- the first law of every loop: CDU duty = rack heat + pump shaft heat - pipe losses,
- the heat ledger (heat into the coolants = rejected + recovered + pipe losses) and the facility energy
  ledger (grid + pumps + fans = heat out + motor losses + dry-cooler fans), recomputed from the variables,
- the electrical ledger unchanged: the same electrical results as a solve without [cooling] at the racks'
  fixed-point IT power, and heat sources = grid power,
- PUE and partial PUE recomputed.

Checks use the results dataset; from the solver they take only the loop topology and the two coolants'
constant properties (``prepare_cooling``), which the results do not carry.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.models.cooling_plant import FACILITY_WATER_CLASSES
from gigawatt.models.flow_correlations import GRAVITY_M_S2

# 25 random campuses, the same on every run; no shrinking (a falsifying example is printed as drawn).
COOLING_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                            phases=[Phase.explicit, Phase.reuse, Phase.generate],
                            suppress_health_check=[HealthCheck.too_slow])

COOLANTS = ("water", "pg20", "pg25", "pg30", "pg40", "eg20", "eg25", "eg30", "eg40")
SHELF = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
         "efficiency": [0.95, 0.97, 0.98, 0.975]}  # the bundled case's shelf curve
RACK_KW_MAX = 130.0  # stations are sized for racks of this power (GB200 NVL72 class); random racks draw 15-100 %

# Tolerances, and why:
# - the heat and facility ledgers are sums of a few dozen terms of one sign each (heat in, heat out) formed
#   twice, here and in the solver: rounding leaves ~1e-15 relative; 1e-9 is the ledger target.
LEDGER_RTOL = 1e-9
# - a node's mass balance is left by the hydraulic solver at 1e-13 of the largest flow (its tol_mass_rel);
#   summing three or four flows here adds a few ulps of the loop flow.
MASS_RTOL = 1e-12
# - the CDU valve's flow comes from a bracketed root on ln C_cold stopped at rounding (cdu_facility_capacity);
#   the duty it leaves differs from the set-point duty by far less than 1e-12 relative.
CDU_RTOL = 1e-10


@st.composite
def cooling_cases(draw):
    """A random feasible cooling campus as ``make_case`` keyword arguments."""
    rows, per_row = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    loss_models = {"shelf": SHELF}
    built = gw.build_campus(halls=1, rows_per_hall=rows, racks_per_row=per_row, rack_it_power_kw=RACK_KW_MAX,
                            shelf_loss_model="shelf", loss_models=loss_models)
    racks = built.tables["rack"].copy()
    n = len(racks)
    racks["p_it_w"] = [RACK_KW_MAX * 1e3 * draw(st.floats(0.15, 1.0)) for _ in range(n)]
    racks["vrm_efficiency"] = [draw(st.floats(0.85, 0.95)) for _ in range(n)]
    if draw(st.booleans()):  # regroup the racks into 1-3 loops of any size, each with one rack at least
        n_loop = draw(st.integers(1, min(3, n)))
        loop = [draw(st.integers(0, n_loop - 1)) for _ in range(n)]
        loop[:n_loop] = range(n_loop)
        racks["cooling_loop"] = [f"L{i}" for i in loop]

    t_f = FACILITY_WATER_CLASSES[cls := draw(st.sampled_from(sorted(FACILITY_WATER_CLASSES)))]
    leakage = draw(st.sampled_from(["none", "exponential", "linear"]))
    p_it = float(racks["p_it_w"].sum())
    cooling = {
        "coolant": draw(st.sampled_from(COOLANTS)),
        "facility_coolant": draw(st.sampled_from(["water", "pg25", "eg30"])),
        "facility_class": cls,
        "ambient_t_k": t_f - 5.0 - draw(st.floats(0.0, 20.0)),
        "cdu_approach_k": draw(st.floats(2.0, 8.0)),
        "design_delta_t_k": draw(st.floats(5.0, 15.0)),
        "liquid_fraction": draw(st.floats(0.5, 0.95)),
        "vrm_liquid_fraction": draw(st.none() | st.floats(0.0, 1.0)),
        "shelf_liquid_fraction": draw(st.floats(0.0, 1.0)),
        # At most 130 kW / 72 = 1.8 kW per plate (GB200 NVL72) through 0.005-0.015 K/W: 9-27 K rise.
        "chips_per_rack": draw(st.integers(72, 144)),
        "chip_r_th_k_per_w": draw(st.floats(0.005, 0.015)),
        "reverse_return": draw(st.booleans()),
        "header_diameter_m": draw(st.floats(0.08, 0.2)),
        "header_segment_length_m": draw(st.floats(0.6, 1.2)),
        "header_feed_length_m": draw(st.floats(5.0, 40.0)),
        "rack_hose_diameter_m": draw(st.floats(0.03, 0.06)),
        # Pipes give heat to the room or take it (room up to 15 K above the supply), at most
        # 2 W/(m K) * 2 * 40 m * 30 K ~ 5 kW per loop, a small share of a rack's 25+ kW to liquid.
        "pipe_u_w_per_m_k": draw(st.sampled_from([0.0, 0.5, 2.0])),
        "room_t_k": t_f + draw(st.floats(-10.0, 15.0)),
        "pump_eta_best": draw(st.floats(0.6, 0.85)),
        "motor_efficiency": draw(st.floats(0.9, 0.97)),
        "air_fan_w_per_w": draw(st.floats(0.0, 0.05)),
        "dry_cooler_fan_w_per_w": draw(st.floats(0.0, 0.03)),
        "recovery_demand_w": draw(st.sampled_from([0.0, 0.3, 2.0])) * p_it,
        "leakage_model": leakage,
    }
    if leakage != "none":
        # Up to 20 % leakage doubling every 35 K or slower. The runaway parameter k b P_leak e^(k (a + b P_dyn
        # - T_ref)) stays below about 0.2 (bound 1/e; worst case W45 + 8 K approach, b = 2.6e-4 K/W), and the
        # linear model stays positive down to T_ref - 1/k = 283 K, below every supply temperature.
        cooling.update(leakage_fraction=draw(st.floats(0.0, 0.2)), leakage_k_per_k=draw(st.floats(0.005, 0.02)),
                       leakage_t_ref_k=333.15)
    cooling = {k: v for k, v in cooling.items() if v is not None}  # None: the default (VRM share = IT share)
    return {"tables": {**built.tables, "rack": racks}, "loss_models": loss_models, "cooling": cooling}


def plant_of(case):
    """The solver's loop topology and coolant properties for ``case`` (not in the results dataset)."""
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.cooling.stage import prepare_cooling

    return prepare_cooling(case, assemble(case).rack_shelf_loss)


def counter_flow_effectiveness(ntu, c_r):
    """epsilon of a counter-flow exchanger (Incropera 6th ed., Table 11.3), C_r = 1 by its limit."""
    if abs(1.0 - c_r) < 1e-12:
        return ntu / (1.0 + ntu)
    e = math.exp(-ntu * (1.0 - c_r))
    return (1.0 - e) / (1.0 - c_r * e)


def check_mass_balance(ds, plant):
    loops = plant.loops
    assert list(ds.coolant_pipe.values) == list(loops.pipe_ids)
    m = ds.pipe_flow_kg_s.values
    net = np.zeros(loops.n_node)
    scale = np.zeros(loops.n_node)
    np.add.at(net, loops.pipe_from, -m)
    np.add.at(net, loops.pipe_to, m)
    np.add.at(scale, loops.pipe_from, np.abs(m))
    np.add.at(scale, loops.pipe_to, np.abs(m))
    q = ds.loop_flow_kg_s.values
    net[loops.supply_node] += q   # the CDU pump delivers the loop flow at S and takes it back at R
    net[loops.return_node] -= q
    tol = MASS_RTOL * q.max()
    assert np.abs(net).max() <= tol, f"node imbalance {np.abs(net).max():.3e} kg/s"
    assert (scale > 0).all()  # every node is on a pipe that carries flow


def check_loops(ds, case, plant):
    s = case.settings["cooling"]
    cp, rho = plant.tcs.cp_j_per_kg_k, plant.tcs.density_kg_m3
    cp_f = plant.fws.cp_j_per_kg_k
    loop_of_rack = pd.Series(case.tables["rack"]["cooling_loop"].to_numpy(object)).replace("", "tcs").to_numpy()
    t_set, t_f = ds.attrs["t_tcs_supply_k"], ds.attrs["t_facility_supply_k"]
    for j, name in enumerate(ds.cooling_loop.values):
        mine = loop_of_rack == name
        m_loop = float(ds.loop_flow_kg_s[j])
        # Every rack is a branch of its loop: their flows add up to the loop's.
        assert ds.coolant_flow_kg_s.values[mine].sum() == pytest.approx(m_loop, rel=MASS_RTOL * mine.sum())

        # Pump: shaft power Q dp / eta, head dp / (rho g), electrical = shaft / motor efficiency.
        dp = float(ds.loop_pressure_drop_pa[j])
        shaft = m_loop / rho * dp / float(ds.pump_efficiency[j])
        assert float(ds.pump_power_w[j]) == pytest.approx(shaft / s["motor_efficiency"], rel=1e-13)
        assert float(ds.pump_head_m[j]) == pytest.approx(dp / (rho * GRAVITY_M_S2), rel=1e-13)
        assert 0 < float(ds.pump_speed_ratio[j]) <= s["pump_max_speed"]

        # First law of the loop: what the CDU takes is what the racks and the pump put in, less what the
        # pipes give to the room.
        duty = float(ds.cdu_duty_w[j])
        heat_in = ds.rack_q_liquid_w.values[mine].sum() + shaft - float(ds.loop_pipe_loss_w[j])
        assert duty == pytest.approx(heat_in, rel=LEDGER_RTOL)

        # First law at the CDU, both sides, and the exact counter-flow epsilon-NTU relation.
        c_hot = m_loop * cp
        c_cold = float(ds.cdu_facility_flow_kg_s[j]) * cp_f
        t_hot_in, t_cold_out = float(ds.cdu_t_hot_in_k[j]), float(ds.cdu_t_facility_out_k[j])
        assert duty > 0
        assert duty == pytest.approx(c_hot * (t_hot_in - t_set), rel=LEDGER_RTOL)
        assert duty == pytest.approx(c_cold * (t_cold_out - t_f), rel=LEDGER_RTOL)
        c_min, c_max = min(c_hot, c_cold), max(c_hot, c_cold)
        eps = counter_flow_effectiveness(float(ds.cdu_ua_w_per_k[j]) / c_min, c_min / c_max)
        assert duty == pytest.approx(eps * c_min * (t_hot_in - t_f), rel=CDU_RTOL)
        assert float(ds.cdu_effectiveness[j]) == pytest.approx(eps, rel=CDU_RTOL)
        # Second law: the streams do not cross; the valve stays within its limit.
        assert t_f < t_cold_out < t_hot_in and t_f < t_set < t_hot_in
        assert c_cold <= s["cdu_max_flow_ratio"] * c_hot * (1 + 1e-12)
        # UA sized for the design point: C_design dT / approach (Incropera, Table 11.3, C_r = 1), with
        # C_design the loop's design flow, which the pump delivers.
        assert float(ds.cdu_ua_w_per_k[j]) == pytest.approx(c_hot * s["design_delta_t_k"] / s["cdu_approach_k"],
                                                            rel=1e-12)


def check_ledgers(ds, case, plant, ds_electrical):
    s, a = case.settings["cooling"], ds.attrs
    eta_m = s["motor_efficiency"]
    p_loop_pumps = float(ds.pump_power_w.sum())
    fac_pump_electric = a["p_pumps_w"] - p_loop_pumps
    fac_pump_shaft = fac_pump_electric * eta_m
    # Facility pump: rho g Q H / eta on the facility flow.
    q_fac = a["facility_flow_kg_s"] / plant.fws.density_kg_m3
    assert fac_pump_shaft == pytest.approx(plant.fws.density_kg_m3 * GRAVITY_M_S2 * q_fac
                                           * s["facility_pump_head_m"] / s["facility_pump_efficiency"], rel=1e-9)

    # Heat sources: every watt from the grid is heat in a rack (to liquid or air) or a loss elsewhere (air).
    other = float(ds.stage_loss_w.sel(stage=["ac_dc_station", "distribution", "dc_dc_converter"]).sum())
    q_liquid, q_air_racks = float(ds.rack_q_liquid_w.sum()), float(ds.rack_q_air_w.sum())
    assert q_liquid + q_air_racks + other == pytest.approx(a["p_grid_w"], rel=1e-12)
    np.testing.assert_allclose(ds.rack_q_liquid_w + ds.rack_q_air_w, ds.rack_p_it_w + ds.vrm_loss_w + ds.shelf_loss_w, rtol=1e-13)
    assert a["q_liquid_w"] == pytest.approx(q_liquid, rel=1e-13)
    assert a["q_air_w"] == pytest.approx(q_air_racks + other, rel=1e-13)

    # Heat ledger, recomputed: into the coolants (racks' liquid heat, loop pump shaft heat, air-coil heat
    # with the air handlers' fan heat, facility pump shaft heat) = rejected + recovered + pipe losses.
    air_fan = s["air_fan_w_per_w"] * a["q_air_w"]
    q_coil = a["q_air_w"] + air_fan
    q_in = q_liquid + p_loop_pumps * eta_m + q_coil + fac_pump_shaft
    pipe_loss = float(ds.loop_pipe_loss_w.sum())
    q_out = a["q_rejected_w"] + a["q_recovered_w"] + pipe_loss
    assert abs(q_in - q_out) <= LEDGER_RTOL * q_in  # ledger-check
    assert a["heat_balance_residual"] <= LEDGER_RTOL  # ledger-check
    assert a["q_available_w"] == pytest.approx(float(ds.cdu_duty_w.sum()) + q_coil + fac_pump_shaft, rel=1e-12)

    # Recovery takes what is asked, capped by what is available; the dry coolers the rest.
    assert a["q_recovered_w"] == pytest.approx(min(s["recovery_demand_w"], a["q_available_w"]), rel=1e-15)
    assert a["q_rejected_w"] >= 0
    # Facility water: the mixed return of CDUs and air coils, each coil at air_coil_delta_t_k.
    c_fac = float((ds.cdu_facility_flow_kg_s.sum())) * plant.fws.cp_j_per_kg_k + q_coil / s["air_coil_delta_t_k"]
    assert a["facility_flow_kg_s"] * plant.fws.cp_j_per_kg_k == pytest.approx(c_fac, rel=1e-12)
    assert a["t_facility_return_k"] == pytest.approx(a["t_facility_supply_k"] + a["q_available_w"] / c_fac,
                                                     rel=1e-12)
    assert a["t_reuse_k"] == a["t_facility_return_k"]

    # Dry coolers (sized on all the heat available, at an ambient 5-25 K below the facility supply by
    # construction): they hold the set-point at a speed in [0, 1], the fan power in its cube (fan laws).
    dry_fan = a["dry_cooler_fan_w"]
    assert a["dry_cooler_over_limit"] == 0 and 0.0 <= a["dry_cooler_speed"] <= 1.0
    assert a["dry_cooler_design_fan_w"] == pytest.approx(s["dry_cooler_fan_w_per_w"] * a["q_available_w"], rel=1e-15)
    assert dry_fan == pytest.approx(a["dry_cooler_design_fan_w"] * a["dry_cooler_speed"] ** 3, rel=1e-14, abs=1e-9)
    assert (a["dry_cooler_speed"] == 0.0) == (a["q_rejected_w"] == 0.0)

    # Facility energy ledger: grid + pumps + fans = heat rejected + recovered + pipe losses + motor losses
    # + dry-cooler fans (whose power goes to the outdoor air directly).
    assert a["p_fans_w"] == pytest.approx(air_fan + dry_fan, rel=1e-13)
    p_facility = a["p_grid_w"] + a["p_pumps_w"] + a["p_fans_w"]
    assert a["p_facility_w"] == pytest.approx(p_facility, rel=1e-15)
    out = q_out + a["p_pumps_w"] * (1 - eta_m) + dry_fan
    assert abs(p_facility - out) <= LEDGER_RTOL * p_facility  # ledger-check
    assert a["facility_energy_residual"] <= LEDGER_RTOL  # ledger-check

    # PUE from its definition (ISO/IEC 30134-2): facility power over the IT equipment's, which begins at the
    # rack input by default (the racks' input powers summed here); partial PUE of cooling; TUE on the chips.
    p_it = float(ds.rack_p_in_w.sum())
    assert a["pue"] == pytest.approx(p_facility / p_it, rel=1e-13)
    assert a["ppue_cooling"] == pytest.approx((p_it + a["p_pumps_w"] + a["p_fans_w"]) / p_it, rel=1e-13)
    assert a["tue"] == pytest.approx(p_facility / float(ds.p_it_w.sum()), rel=1e-13)
    assert a["tue"] >= a["pue"] > 1

    # Electrical ledger unchanged: the same network solved without [cooling] at the racks' fixed-point IT
    # power gives the same electrical results, and its own ledger still closes.
    assert a["energy_balance_residual"] <= 1e-9  # ledger-check
    for name, var in ds_electrical.data_vars.items():
        if var.dtype.kind in "fc":
            np.testing.assert_allclose(ds[name].values, var.values, rtol=1e-12, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(ds[name].values, var.values, err_msg=name)
    assert a["p_grid_w"] == pytest.approx(ds_electrical.attrs["p_grid_w"], rel=1e-12)


@COOLING_SETTINGS
@given(cooling_cases())
def test_cooling_invariants_on_random_campuses(spec):
    case = gw.make_case(**spec)
    ds = gw.solve(case)
    plant = plant_of(case)
    check_mass_balance(ds, plant)
    check_loops(ds, case, plant)
    racks = case.tables["rack"].copy()
    racks["p_it_w"], racks["p_it_basis"] = ds.rack_p_it_w.values, "chips"  # the solved power at the chips
    electrical = gw.solve(gw.make_case({**case.tables, "rack": racks}, loss_models=spec["loss_models"]))
    check_ledgers(ds, case, plant, electrical)
