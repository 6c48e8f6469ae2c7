"""Validation runners for the physics that time adds: transport delay in pipes, thermal storage tanks.

Each runner measures what :mod:`gigawatt.solver.district_heating.dynamics` and :mod:`gigawatt.models.storage` give and
computes the reference from the closed forms its case file names, written out here with ``math`` (not by
calling the model's own functions).
"""
from __future__ import annotations

import math

import numpy as np


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def _pipe_front(inp, flows):
    """Run one pipe (supply node 0 -> node 1) filled with the steady profile at ``t_before_k``, then with the
    inlet at ``t_after_k``; ``flows(t)`` the flow [kg/s] of the step starting at t. Returns (arrival time of
    the front from the step-mean outlets [s], outlet of the first step [K], outlet of the last [K], network)."""
    from gigawatt.solver.district_heating.dynamics import DynamicThermalNetwork

    area = math.pi * inp["diameter_m"] ** 2 / 4
    net = DynamicThermalNetwork(["supply", "junction"], [0], [1], [inp["u_w_per_m_k"]], [inp["length_m"]], [area],
                                inp["t_ground_k"], inp["rho_kg_m3"], inp["cp_j_per_kg_k"],
                                max_parcels=inp["max_parcels"])
    m0 = flows(0.0)
    net.fill_steady([inp["t_before_k"], math.nan], [m0])
    dt, t, outlets = inp["dt_s"], 0.0, []
    while t < inp["duration_s"]:
        m = flows(t)
        outlets.append(net.step([inp["t_after_k"], 0.0], [m], [m, -m], dt).t_branch_out_k[0])
        t += dt
    # the front's step is the first whose outlet jumps (by more than a thousandth of the inlet's step); it holds
    # old water and a share of new: the share from its mean between the step before's (old) and after's (new)
    out = np.array(outlets)
    i = 1 + int(np.argmax(np.abs(np.diff(out)) > 1e-3 * abs(inp["t_after_k"] - inp["t_before_k"])))
    arrival = (i + 1) * dt - (out[i] - out[i - 1]) / (out[i + 1] - out[i - 1]) * dt
    return arrival, outlets[0], outlets[-1], net


def transport_delay(spec):
    """A pipe whose inlet steps from ``t_before_k`` to ``t_after_k`` at t = 0 (plug flow): the front leaves
    after tau with int m dt = rho A L (tau = L / v at a constant flow); before and after, the outlet is the
    exponential T_g + (T_in − T_g) exp(−U' L / (m cp)) of the flow the water had. Points: constant flow; a
    flow that changes at ``t_change_s`` before the front arrives."""
    inp = spec["inputs"]
    out = []
    for variant in inp["variants"]:
        p = {**inp, **variant}
        m1, m2, t_c = p["m_kg_s"], p.get("m_after_kg_s", p["m_kg_s"]), p.get("t_change_s", math.inf)
        arrival, first, last, net = _pipe_front(p, lambda t: m1 if t < t_c else m2)
        w = p["rho_kg_m3"] * math.pi * p["diameter_m"] ** 2 / 4 * p["length_m"]
        tau = w / m1 if w / m1 <= t_c else t_c + (w - m1 * t_c) / m2
        tg, ua = p["t_ground_k"], p["u_w_per_m_k"] * p["length_m"]
        name = p["name"]
        out += [
            _measured("front_arrival_s", arrival, tau, name),
            _measured("t_out_before_k", first, tg + (p["t_before_k"] - tg) * math.exp(-ua / (m1 * p["cp_j_per_kg_k"])),
                      name),
            _measured("t_out_after_k", last, tg + (p["t_after_k"] - tg) * math.exp(-ua / (m2 * p["cp_j_per_kg_k"])),
                      name),
            _measured("energy_balance_residual", net.energy_balance_residual(), 0.0, name),
        ]
    return out


def _mixed_closed_form(t0, q, t, c, ua, ta):
    """T after t [s] at heat rate q [W] from t0 [K], and the heat lost meanwhile [J] (Duffie & Beckman 8.3)."""
    tau = c / ua
    t_eq = ta + q / ua
    decay = math.exp(-t / tau)
    return t_eq + (t0 - t_eq) * decay, ua * (t_eq - ta) * t + c * (t0 - t_eq) * (1 - decay)


def mixed_tank_cycle(inp):
    """Charge at ``q_charge_w`` for ``t_charge_s``, hold ``t_hold_s``, discharge for ``t_discharge_s`` at the rate
    that brings it back to its start temperature (computed in closed form); stepped by ``dt_s``."""
    from gigawatt.models.storage import MixedTank

    p = inp
    tank = MixedTank(p["volume_m3"], p["ua_w_per_k"], p["t_ambient_k"], p["t_min_k"], p["t_max_k"], p["t0_k"],
                     rho_kg_m3=p["rho_kg_m3"], cp_j_per_kg_k=p["cp_j_per_kg_k"])
    c, ua, ta, t0 = p["rho_kg_m3"] * p["volume_m3"] * p["cp_j_per_kg_k"], p["ua_w_per_k"], p["t_ambient_k"], p["t0_k"]
    t1, loss1 = _mixed_closed_form(t0, p["q_charge_w"], p["t_charge_s"], c, ua, ta)
    t2, loss2 = _mixed_closed_form(t1, 0.0, p["t_hold_s"], c, ua, ta)
    # discharge rate q < 0 with T(t_d) = t0: t0 = Teq + (t2 − Teq) e^{-x}, Teq = ta + q/ua
    x = math.exp(-p["t_discharge_s"] * ua / c)
    q_d = ua * ((t0 - t2 * x) / (1 - x) - ta)
    t3, loss3 = _mixed_closed_form(t2, q_d, p["t_discharge_s"], c, ua, ta)
    dt = p["dt_s"]
    got = {}
    for name, q, duration in (("charge", p["q_charge_w"], p["t_charge_s"]), ("hold", 0.0, p["t_hold_s"]),
                              ("discharge", q_d, p["t_discharge_s"])):
        for _ in range(round(duration / dt)):
            tank.step(q, dt)
        got[name] = tank.t_k
    g = tank.ledger
    point = "fully mixed"
    charged = p["q_charge_w"] * p["t_charge_s"]
    return [
        _measured("t_after_charge_k", got["charge"], t1, point),
        _measured("t_after_hold_k", got["hold"], t2, point),
        _measured("t_end_k", got["discharge"], t0, point),
        _measured("returned_j", g["discharged_j"], charged - (loss1 + loss2 + loss3), point),
        _measured("loss_j", g["loss_j"], loss1 + loss2 + loss3, point),
        _measured("energy_balance_residual", tank.energy_balance_residual(), 0.0, point),
    ]


def stratified_tank_cycle(inp):
    """Half the layers charged with water at ``t_charge_k`` (one layer a step), a hold, then discharged by return
    water one layer a step: the top water leaves last-in-first-out with T_a + (T_c − T_a) exp(−t_s / tau_s), t_s
    its storage time, tau_s = rho V cp / UA."""
    from gigawatt.models.storage import StratifiedTank

    p = inp
    n, dt = p["n_layers"], p["dt_s"]
    tank = StratifiedTank(p["volume_m3"], p["ua_w_per_k"], p["t_ambient_k"], p["t_min_k"], p["t_max_k"], p["t0_k"],
                          rho_kg_m3=p["rho_kg_m3"], cp_j_per_kg_k=p["cp_j_per_kg_k"], n_layers=n,
                          t_charge_k=p["t_charge_k"], t_return_k=p["t0_k"])
    mass = p["rho_kg_m3"] * p["volume_m3"]
    m = mass / n / dt  # one layer per step
    half, hold = n // 2, p["hold_steps"]
    for _ in range(half):
        tank.step_flow(m, p["t_charge_k"], dt)
    for _ in range(hold):
        tank.step_flow(0.0, p["t_charge_k"], dt)
    returned, first = 0.0, None
    for _ in range(half):
        q, _ = tank.step_flow(-m, p["t0_k"], dt)
        returned -= q * dt
        first = first if first is not None else p["t0_k"] - q / (m * p["cp_j_per_kg_k"])
    tau = mass * p["cp_j_per_kg_k"] / p["ua_w_per_k"]
    ta, tc, cp = p["t_ambient_k"], p["t_charge_k"], p["cp_j_per_kg_k"]
    # the water charged in step i (0-based) leaves in discharge step half-1-i after (2 half - 1 - 2 i + hold) steps
    ages = [(2 * half - 1 - 2 * i + hold) * dt for i in range(half)]
    expected = sum(mass / n * cp * (ta + (tc - ta) * math.exp(-a / tau) - p["t0_k"]) for a in ages)
    point = f"stratified, {n} layers"
    return [
        _measured("t_first_out_k", first, ta + (tc - ta) * math.exp(-min(ages) / tau), point),
        _measured("returned_j", returned, expected, point),
        _measured("energy_balance_residual", tank.energy_balance_residual(), 0.0, point),
    ]


def tank_cycle(spec):
    inp = spec["inputs"]
    return mixed_tank_cycle(inp["mixed"]) + stratified_tank_cycle(inp["stratified"])


def series_transport_delay(spec):
    """The district-heating stage of a time series (:class:`gigawatt.solver.district_heating.series.DistrictHeatingSeries`) on
    plant - supply pipe - consumer (a given flow) - return pipe: the plant's supply steps at t = 0; the water
    reaching the consumer changes after tau = rho A L / m, before and after on the exponential; the stage's
    ledger (plant heat = delivered + losses + stored change) over the run. rho and cp: CoolProp's IAPWS-95 water
    at the stage's property temperature (the mean of supply and return, schema row 'fluid') and the network's
    pressure."""
    import gigawatt as gw
    from CoolProp.CoolProp import PropsSI
    from gigawatt.solver.district_heating.series import DistrictHeatingSeries
    from gigawatt.solver.district_heating.stage import plant_pressure_pa

    p = spec["inputs"]
    pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=p["length_m"],  # noqa: E731
                                  diameter_m=p["diameter_m"], u_w_per_m_k=p["u_w_per_m_k"])
    case = gw.make_case({"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
                         "dh_pipe": [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
                         "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                                          "mass_flow_kg_s": p["m_kg_s"], "demand_w": p["demand_w"],
                                          "t_return_k": p["t_return_k"]}]},
                        district_heating={"supply_node": "S", "return_node": "R", "t_supply_k": p["t_before_k"],
                                          "ground_t_k": p["t_ground_k"]}, case={"name": "series delay"})
    ser = DistrictHeatingSeries(case)
    dt, arrived = p["dt_s"], []
    for _ in range(round(p["duration_s"] / dt)):
        ser.step(None, p["outdoor_t_k"], dt, t_supply_k=p["t_after_k"])
        arrived.append(float(ser.t_in[0]))
    out = np.array(arrived)
    i = 1 + int(np.argmax(np.abs(np.diff(out)) > 1e-3 * abs(p["t_after_k"] - p["t_before_k"])))
    arrival = (i + 1) * dt - (out[i] - out[i - 1]) / (out[i + 1] - out[i - 1]) * dt
    t_mean = 0.5 * (p["t_before_k"] + p["t_return_k"])
    p_abs = plant_pressure_pa(case.settings["district_heating"])  # the network's pressure (2 bar gauge + 1 atm)
    rho, cp = (PropsSI(k, "T", t_mean, "P", p_abs, "HEOS::Water") for k in ("D", "C"))
    tau = rho * math.pi * p["diameter_m"] ** 2 / 4 * p["length_m"] / p["m_kg_s"]
    tg, decay = p["t_ground_k"], math.exp(-p["u_w_per_m_k"] * p["length_m"] / (p["m_kg_s"] * cp))
    point = f"stage, dt {dt:g} s"
    return [
        _measured("front_arrival_s", arrival, tau, point),
        _measured("t_in_before_k", arrived[0], tg + (p["t_before_k"] - tg) * decay, point),
        _measured("t_in_after_k", arrived[-1], tg + (p["t_after_k"] - tg) * decay, point),
        _measured("energy_balance_residual", ser.energy_balance_residual(), 0.0, point),
    ]


def wall_capacity_step(spec):
    """A steel pipe with its wall's heat capacity (lumped at the outlet, van der Heijde et al. 2017) under a step
    of its inlet temperature at t = 0 from its steady state: the closed form of the continuous problem is the
    plug flow's delayed, cooled step, a1 before tau = rho A L / m and a2 after, passed through a first-order lag
    of time constant theta = C / (m cp), C = rho_s c_s pi/4 (d_o^2 - d_i^2) L: T(t) = a2 + (a1 - a2) exp(-(t -
    tau) / theta). The flow is chosen so that tau is ``front_steps`` steps, and each step's mean outlet is
    compared with that closed form integrated over the step, written out here. Points: the first step after
    the front, a step one time constant later, the last step; and the ledger (water and wall) over the run."""
    from gigawatt.solver.district_heating.dynamics import DynamicThermalNetwork

    p = spec["inputs"]
    area = math.pi * p["d_inner_m"] ** 2 / 4
    w = p["rho_kg_m3"] * area * p["length_m"]
    dt = p["dt_s"]
    m = w / (p["front_steps"] * dt)
    c_wall = p["rho_steel_kg_m3"] * p["c_steel_j_per_kg_k"] * math.pi / 4 * (
        p["d_outer_m"] ** 2 - p["d_inner_m"] ** 2) * p["length_m"]
    net = DynamicThermalNetwork(["supply", "junction"], [0], [1], [p["u_w_per_m_k"]], [p["length_m"]], [area],
                                p["t_ground_k"], p["rho_kg_m3"], p["cp_j_per_kg_k"],
                                wall_heat_capacity_j_per_k=[c_wall])
    net.fill_steady([p["t_before_k"], math.nan], [m])
    tg, cp = p["t_ground_k"], p["cp_j_per_kg_k"]
    decay = math.exp(-p["u_w_per_m_k"] * p["length_m"] / (m * cp))
    a1, a2 = tg + (p["t_before_k"] - tg) * decay, tg + (p["t_after_k"] - tg) * decay
    tau, theta = w / m, c_wall / (m * cp)
    n = p["front_steps"]
    picks = {n: "first step after the front", n + round(theta / dt): "one time constant later",
             p["steps"] - 1: "last step"}
    out = []
    for k in range(p["steps"]):
        got = net.step([p["t_after_k"], 0.0], [m], [m, -m], dt).t_branch_out_k[0]
        if k in picks:
            t_a, t_b = k * dt - tau, (k + 1) * dt - tau
            ref = a2 + (a1 - a2) * theta / dt * (math.exp(-t_a / theta) - math.exp(-t_b / theta))
            out.append(_measured("t_out_k", got, ref, picks[k]))
    out.append(_measured("energy_balance_residual", net.energy_balance_residual(), 0.0, "over the run"))
    return out


DYN_RUNNERS = {
    "series_transport_delay": series_transport_delay,
    "transport_delay": transport_delay,
    "tank_cycle": tank_cycle,
    "wall_capacity_step": wall_capacity_step,
}
"""Runners of the time-dependent cases, by the name their case files give under ``runner`` (registered in
:data:`gigawatt.validation.dc_checks.RUNNERS`)."""
