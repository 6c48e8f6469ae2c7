"""Validation runners of the contingency analysis (:mod:`gigawatt.solver.contingency`): outages whose
consequence is known in closed form, and the ledger of every outage."""
from __future__ import annotations

import math

from gigawatt.errors import GigawattError


def _measured(*args, **kwargs):
    # Imported here, not at module level: dc_checks imports this module to register its runners.
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def droop_station_trip(spec):
    """Two droop stations feed one bus; each trips in turn. The survivor carries the whole (lossless,
    constant-power) load P, so its output is P and the bus sits on its droop line:
    V = v_set·(1 − droop·P/rated)."""
    import gigawatt as gw
    from gigawatt.solver.contingency import apply_outage, run_contingency

    inp = spec["inputs"]
    sources = inp["sources"]
    case = gw.make_case(
        {"bus": [{"id": "dc", "v_nominal_v": inp["v_nominal_v"]}],
         "source": [{"id": s["id"], "bus": "dc", "v_set_v": s["v_set_v"], "droop": s["droop"],
                     "rated_power_w": s["rated_power_w"]} for s in sources],
         "rack": [{"id": "load", "bus": "dc", "p_it_w": inp["load_p_w"], "vrm_efficiency": 1.0}]},
        case={"name": spec["name"]})
    out = []
    for tripped in sources:
        survivor = next(s for s in sources if s is not tripped)
        ds = gw.solve(apply_outage(case, (("stations", tripped["id"]),)).case)
        point = f"{tripped['id']} trips"
        p = inp["load_p_w"]
        out += [_measured("p_survivor_w", float(ds["p_dc_w"].sel(source=survivor["id"])), p, point),
                _measured("v_bus_v", float(ds["v_v"].sel(bus="dc")),
                          survivor["v_set_v"] * (1 - survivor["droop"] * p / survivor["rated_power_w"]), point)]
    every = run_contingency(case, "stations")
    out += [_measured("energy_balance_residual", float(r), point=f"outage {o}")
            for o, r in zip(every["outage"].values, every["energy_balance_residual"].values)]
    return out


def parallel_pump_trip(spec):
    """One cooling loop with two identical pumps in parallel; one trips and the survivor runs at its top
    speed n. Closed form: H0·n² − b₁·Q² = K·Q² with one pump's b₁ = 4·b (b of the pair), K from the loop's
    quadratic losses at its design flow, K = (cdu_dp_pa + rack_dp_design_pa)/(ρ·g·Q_d²)."""
    import gigawatt as gw
    from gigawatt.models.flow_correlations import GRAVITY_M_S2
    from gigawatt.solver.contingency import apply_outage
    from gigawatt.solver.contingency.outages import base_hydraulics

    inp = spec["inputs"]
    cooling = dict(inp["cooling"])
    case = gw.make_case(
        {"bus": [{"id": "dc", "v_nominal_v": 800.0}],
         "source": [{"id": "st", "bus": "dc", "v_set_v": 800.0, "rated_power_w": 2 * inp["rack_p_it_w"]}],
         "rack": [{"id": "r1", "bus": "dc", "p_it_w": inp["rack_p_it_w"], "vrm_efficiency": 1.0,
                   "cooling_loop": "L1"}]},
        case={"name": spec["name"]}, cooling=cooling)
    hyd, loops = base_hydraulics(case)
    q_d = float(hyd.q_m3_s[0])
    rho = float(hyd.flow_kg_s[0]) / q_d
    k_sys = (cooling["cdu_dp_pa"] + cooling["rack_dp_design_pa"]) / (rho * GRAVITY_M_S2 * q_d ** 2)
    n = cooling["pump_max_speed"]
    q_closed = n * math.sqrt(cooling["pump_h0_m"] / (4.0 * cooling["pump_b_s2_m5"] + k_sys))
    state = apply_outage(case, (("pumps", "L1-pump1"),), hyd, loops)
    point = "L1-pump1 trips"
    out = [_measured("survivor_flow_m3_s", state.loop_flow_fraction * q_d, q_closed, point)]
    try:
        ds = gw.solve(state.case, loop_flow_fraction=state.loop_flows)
    except GigawattError as err:
        return out + [_measured(q, f"solve failed: {err}", point=point)
                      for q in ("rack_delta_t_k", "t_chip_k", "energy_balance_residual")]
    # At the survivor's flow m = ρ·Q the rack's liquid heat Q_l = P·liquid_fraction (VRM efficiency 1, no
    # leakage) warms the coolant by Q_l/(m·cp); each of the N cold plates takes Q_l/N through its resistance R,
    # and the chip model puts the plate at the coolant's mean temperature, T_in + Q_l/(2·m·cp).
    cp = _coolant_cp(state.case)
    m = rho * q_closed
    q_l = inp["rack_p_it_w"] * cooling["liquid_fraction"]
    t_in = float(ds["t_coolant_in_k"].sel(rack="r1"))
    out += [_measured("rack_delta_t_k", float(ds["t_coolant_out_k"].sel(rack="r1")) - t_in, q_l / (m * cp), point),
            _measured("t_chip_k", float(ds["t_chip_k"].sel(rack="r1")),
                      t_in + q_l / (2 * m * cp) + cooling["chip_r_th_k_per_w"] * q_l / cooling["chips_per_rack"],
                      point),
            _measured("energy_balance_residual", float(ds.attrs["energy_balance_residual"]), point=point)]
    return out


def _coolant_cp(case) -> float:
    """The technology coolant's heat capacity [J/(kg K)] the cooling stage uses (its stored constants at the
    loop's design mean temperature)."""
    from gigawatt.solver.cooling.stage import prepare_cooling
    from gigawatt.solver.dc.assembly import assemble

    return float(prepare_cooling(case, assemble(case).rack_shelf_loss).tcs.cp_j_per_kg_k)


CONTINGENCY_RUNNERS = {"droop_station_trip": droop_station_trip, "parallel_pump_trip": parallel_pump_trip}
"""Runners of the contingency validation cases, by the name their case files give."""
