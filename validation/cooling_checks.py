"""Runners of the liquid-cooling validation cases (``validation/cases/cooling_*.toml``).

Each runner builds a small campus with a ``[cooling]`` section (:func:`gigawatt.build_campus`), solves it
with :func:`gigawatt.solve` and reports what it measured, with the reference computed at run time from
something gigawatt does not contain: pandapipes on the same loop network, CoolProp's coolant properties,
the ``fluids`` package (Colebrook friction, Darcy–Weisbach) and the ``ht`` package (epsilon-NTU). The case
files hold the inputs, tolerances and their reasons; the harness compares (see
:mod:`gigawatt.validation.harness`).

SI units throughout (Pa, kg/s, K, W, m); pandapipes takes bar, km and mm, converted here at its boundary.

References
----------
.. [1] D. Lohmeier, D. Cronbach, S. R. Drauz, M. Braun, T. M. Kneiske, "Pandapipes: An Open-Source
   Piping Grid Calculation Package for Multi-Energy Grid Simulations", Sustainability 12(23), 9899
   (2020). doi:10.3390/su12239899
.. [2] C. Bell, fluids and ht: open-source fluid dynamics and heat transfer components for Python,
   https://github.com/CalebBell/fluids, https://github.com/CalebBell/ht
.. [3] I. H. Bell et al., Ind. Eng. Chem. Res. 53(6), 2498-2508 (2014). doi:10.1021/ie4033999 (CoolProp)
.. [4] Open Compute Project, liquid-cooling guidelines (document not pinned down; seen on secondary pages
   only): about 1.5 L/min of coolant per kW at a rise of 10 K or less, range 1.25-2.0 L/min/kW.
"""
from __future__ import annotations

import math

import numpy as np

COLEBROOK_PANDAPIPES = 3.71
"""Denominator of the roughness term in pandapipes' Colebrook equation, ``k/(3.71 d)``
(``pandapipes.pf.derivative_toolbox.colebrook_np``); Colebrook (1939), gigawatt and ``fluids`` use 3.7."""
COLEBROOK_GIGAWATT = 3.7
RE_TURBULENT_MIN = 4000.0
"""Reynolds number from which gigawatt's friction factor is Colebrook's; pandapipes uses Colebrook at every
Reynolds number, so the cross-code comparison needs every pipe above it [-]."""


def _measured(*args, **kwargs):
    # Imported here, not at module level: checks.py imports this module to register its runners.
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


# --- building and solving -------------------------------------------------------------------------

IDEALISED_CAMPUS = {"rack_power_basis": "chips", "station_loss_model": "none", "shelf_loss_model": "none"}
"""What the cooling cases assume of the electrical side unless their ``campus`` input says otherwise: racks
given at the chips, lossless stations, no shelves (the cooling stage is checked, not the power chain)."""


def cooling_campus(campus: dict, cooling: dict, rack_it_power_kw=None, name: str = "cooling validation"):
    """A campus case (:func:`gigawatt.build_campus` with ``campus`` and ``cooling``); when
    ``rack_it_power_kw`` (a list [kW]) is given, the racks of every row take these powers in order,
    so that a row's racks are uneven."""
    import gigawatt as gw

    case = gw.build_campus(**{**IDEALISED_CAMPUS, **campus}, cooling=cooling, case={"name": name})
    if rack_it_power_kw is None:
        return case
    tables = {k: v.copy() for k, v in case.tables.items()}
    racks = tables["rack"]
    per_row = np.asarray(rack_it_power_kw, dtype=float) * 1e3
    if racks.shape[0] % per_row.size:
        raise ValueError(f"rack_it_power_kw has {per_row.size} entries; a row has {campus['racks_per_row']} racks")
    racks["p_it_w"] = np.tile(per_row, racks.shape[0] // per_row.size)
    return gw.make_case(tables, cooling=cooling, case={"name": name})


def solve_with_plant(case):
    """``(ds, plant, heat)``: the solved dataset, and the cooling plant and heat state gigawatt solved it
    with (for what the dataset does not carry: node pressures, the loop network, the return-node
    temperature). Same calls as :func:`gigawatt.solve`, on the dataset's electrical results."""
    import gigawatt as gw
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.cooling.stage import prepare_cooling, solve_heat

    ds = gw.solve(case)
    plant = prepare_cooling(case, assemble(case).rack_shelf_loss)
    other = float(ds.stage_loss_w.sel(stage=["ac_dc_station", "distribution", "dc_dc_converter"]).sum())
    heat = solve_heat(case, plant, ds.rack_p_it_w.to_numpy(), ds.vrm_loss_w.to_numpy(), ds.shelf_loss_w.to_numpy(),
                      other, ds.attrs["p_grid_w"])
    return ds, plant, heat


def coolprop_properties(coolant: str, t_k: float) -> tuple[float, float, float]:
    """(density [kg/m^3], cp [J/(kg K)], viscosity [Pa s]) of a gigawatt coolant at ``t_k`` [K], from
    CoolProp itself [3]_ (not gigawatt's tables), at 1 atm, the pressure the cooling stage takes them at (water:
    IAPWS-95; the glycols: Melinder's fits, which do not depend on pressure)."""
    from CoolProp.CoolProp import PropsSI

    from gigawatt.models.coolant import COOLANTS, P_REFERENCE_PA

    fluid = COOLANTS[coolant].coolprop_name
    return tuple(float(PropsSI(k, "T", t_k, "P", P_REFERENCE_PA, fluid)) for k in ("D", "C", "V"))


# --- cross-code: pandapipes -----------------------------------------------------------------------


def to_pandapipes(loops, fluid, settings: dict, unit_q_w: np.ndarray, loop_flow_kg_s: np.ndarray,
                  p_return_bar: float):
    """The technology loops as a pandapipes net [1]_, with the same fluid, pipes and heat.

    Every gigawatt node becomes a junction (same position); every pipe a pandapipes pipe with the same
    length, inner diameter, roughness and minor-loss coefficient (``loss_coefficient``, on the same
    dynamic pressure). pandapipes' Colebrook has ``k/(3.71 d)`` where gigawatt has ``k/(3.7 d)``: roughness
    enters only through that ratio, so ``k_mm`` is scaled by 3.71/3.7 to make the two friction laws one.
    Each heat unit's pipe is split in two halves with a ``heat_exchanger`` between them (no pressure loss)
    that puts the unit's heat in (``qext_w`` = −heat: pandapipes counts heat *extracted* positive), as
    gigawatt puts it in at the branch's middle; the unit's minor loss sits on the first half. Each CDU is a
    mass ``source`` at the supply node with a ``t`` ext_grid there (the CDU holds the supply temperature),
    and a ``p`` ext_grid at the return node (the expansion tank: gigawatt's pressure reference). Pipe heat
    loss: pandapipes' U is per m² of outer surface, ``u_w_per_m2k = U' / (pi d)`` with the outer diameter
    left equal to the inner one; ambient ``room_t_k``.

    Parameters
    ----------
    loops : gigawatt.solver.cooling.loops.LoopNetwork
        The loops as gigawatt built them (``CoolingPlant.loops``).
    fluid : gigawatt.solver.cooling.stage.Fluid
        The technology coolant's constant properties (``CoolingPlant.tcs``) [SI].
    settings : dict
        The resolved ``[cooling]`` settings (``CoolingPlant.settings``).
    unit_q_w : ndarray
        Heat each heat unit puts into the coolant [W].
    loop_flow_kg_s : ndarray
        Each loop's flow, the CDU pump's [kg/s].
    p_return_bar : float
        Pressure held at every return node [bar]; only differences to it are meaningful.

    Returns
    -------
    net : pandapipesNet
    node_junction : ndarray
        pandapipes junction of each gigawatt node.
    unit_out_junction : ndarray
        Junction after each heat unit's heat exchanger (gigawatt's heat node).
    pipe_row : ndarray
        pandapipes pipe row of each gigawatt pipe (the first half for a heat unit).
    """
    import pandapipes as pps

    pp_fluid = pps.create_constant_fluid(name=f"gigawatt {fluid.name}", fluid_type="liquid",
                                         density=fluid.density_kg_m3, viscosity=fluid.viscosity_pa_s,
                                         heat_capacity=fluid.cp_j_per_kg_k)
    net = pps.create_empty_network(fluid=pp_fluid)
    t_sup, t_room = settings["tcs_supply_t_k"], settings["room_t_k"]
    junction = np.array([pps.create_junction(net, pn_bar=p_return_bar, tfluid_k=t_sup) for _ in range(loops.n_node)])
    k_mm = settings["header_roughness_m"] * 1e3 * COLEBROOK_PANDAPIPES / COLEBROOK_GIGAWATT
    unit_of_pipe = {int(p): u for u, p in enumerate(loops.unit_pipe)}
    unit_out = np.empty(loops.unit_pipe.size, dtype=np.int64)
    pipe_row = np.empty(loops.pipe_from.size, dtype=np.int64)

    def pipe(a, b, length_m, d_m, k_minor):
        return pps.create_pipe_from_parameters(
            net, a, b, length_km=length_m / 1e3, inner_diameter_mm=d_m * 1e3, k_mm=k_mm, loss_coefficient=k_minor,
            u_w_per_m2k=settings["pipe_u_w_per_m_k"] / (math.pi * d_m), text_k=t_room)

    for p in range(loops.pipe_from.size):
        a, b = junction[loops.pipe_from[p]], junction[loops.pipe_to[p]]
        length, d, k = loops.pipe_length_m[p], loops.pipe_diameter_m[p], loops.pipe_k_minor[p]
        u = unit_of_pipe.get(p)
        if u is None:
            pipe_row[p] = pipe(a, b, length, d, k)
            continue
        heat_in = pps.create_junction(net, pn_bar=p_return_bar, tfluid_k=t_sup)
        unit_out[u] = pps.create_junction(net, pn_bar=p_return_bar, tfluid_k=t_sup)
        pipe_row[p] = pipe(a, heat_in, 0.5 * length, d, k)
        pps.create_heat_exchanger(net, heat_in, unit_out[u], qext_w=-float(unit_q_w[u]), inner_diameter_mm=d * 1e3,
                                  loss_coefficient=0.0)
        pipe(unit_out[u], b, 0.5 * length, d, 0.0)
    for loop in range(loops.n_loop):
        pps.create_source(net, junction[loops.supply_node[loop]], mdot_kg_per_s=float(loop_flow_kg_s[loop]))
        pps.create_ext_grid(net, junction[loops.supply_node[loop]], t_k=t_sup, type="t")
        pps.create_ext_grid(net, junction[loops.return_node[loop]], p_bar=p_return_bar, type="p")
    return net, junction, unit_out, pipe_row


def _check_turbulent(loops, plant):
    """Raise unless every pipe's Reynolds number is at least :data:`RE_TURBULENT_MIN`."""
    m = np.abs(plant.hydraulics.result.pipe_m_kg_s)
    re = 4.0 * m / (math.pi * loops.pipe_diameter_m * plant.tcs.viscosity_pa_s)
    if re.min() < RE_TURBULENT_MIN:
        i = int(np.argmin(re))
        raise ValueError(f"pipe '{loops.pipe_ids[i]}' runs at Re = {re[i]:.0f}, below {RE_TURBULENT_MIN:.0f}: "
                         "there gigawatt's friction factor is not Colebrook's and pandapipes' is; the "
                         "comparison would test the two laminar/transition models, which differ by design")


def pandapipes_loops(spec):
    """Technology loops of small campuses against pandapipes: node pressures, pipe mass flows, rack inlet and
    outlet temperatures and loop return temperatures, for every layout of the case file."""
    import pandapipes as pps

    inp = spec["inputs"]
    out = []
    for layout in inp["layouts"]:
        cooling = {**inp.get("cooling", {}), **layout.get("cooling", {})}
        case = cooling_campus(inp["campus"], cooling, layout.get("rack_it_power_kw"), name=spec["name"])
        ds, plant, heat = solve_with_plant(case)
        loops, s = plant.loops, plant.settings
        _check_turbulent(loops, plant)
        n = loops.units_per_rack  # heat units per rack: 1 (lumped rack) or its cold plates, sharing its heat
        q_unit = heat.rack_q_liquid_w[loops.unit_rack] / n
        net, junction, unit_out, pipe_row = to_pandapipes(loops, plant.tcs, s, q_unit, plant.hydraulics.flow_kg_s,
                                                          inp["p_return_bar"])
        pps.pipeflow(net, **inp["pipeflow"])  # raises PipeflowNotConverged: a failed row

        point = layout["name"]
        ref = np.empty(loops.n_node, dtype=np.int64)  # each node's return node (its loop's pressure reference)
        ref[loops.pipe_from] = loops.return_node[loops.pipe_loop]
        ref[loops.pipe_to] = loops.return_node[loops.pipe_loop]
        p_gw = plant.hydraulics.result.p_pa
        p_pp = net.res_junction["p_bar"].loc[junction].to_numpy() * 1e5
        dev_p = np.abs((p_gw - p_gw[ref]) - (p_pp - p_pp[ref]))
        out.append(_measured("max_abs_dev_node_pressure_pa", float(dev_p.max()), 0.0, point))
        out.append(_measured("max_node_pressure_above_return_pa", float(np.max(p_gw - p_gw[ref])),
                             float(np.max(p_pp - p_pp[ref])), point))

        m_gw = ds["pipe_flow_kg_s"].to_numpy()
        m_pp = net.res_pipe["mdot_from_kg_per_s"].loc[pipe_row].to_numpy()
        out.append(_measured("max_rel_dev_pipe_mass_flow", float(np.max(np.abs(m_gw - m_pp) / np.abs(m_gw))), 0.0,
                             point))

        # gigawatt's rack inlet is its first heat unit's inlet node; its outlet the unit's heat node (lumped
        # rack) or the node where the rack's plates have mixed (rack_outlet_node).
        t_pp = net.res_junction["t_k"]
        t_in_pp = t_pp.loc[junction[loops.pipe_from[loops.unit_pipe[::n]]]].to_numpy()
        t_out_pp = t_pp.loc[unit_out if n == 1 else junction[loops.rack_outlet_node]].to_numpy()
        out.append(_measured("max_abs_dev_rack_inlet_t_k",
                             float(np.max(np.abs(ds["t_coolant_in_k"].to_numpy() - t_in_pp))), 0.0, point))
        out.append(_measured("max_abs_dev_rack_outlet_t_k",
                             float(np.max(np.abs(ds["t_coolant_out_k"].to_numpy() - t_out_pp))), 0.0, point))
        t_ret_gw = heat.thermal.t_node_k[loops.return_node]
        out.append(_measured("max_abs_dev_loop_return_t_k",
                             float(np.max(np.abs(t_ret_gw - t_pp.loc[junction[loops.return_node]].to_numpy()))), 0.0,
                             point))
        out.append(_measured("max_rack_rise_k", float(np.max(ds["t_coolant_out_k"] - ds["t_coolant_in_k"])),
                             float(np.max(t_out_pp - t_in_pp)), point))
    return out


# --- published: coolant flow per kilowatt ----------------------------------------------------------


def coolant_flow_per_kw(spec):
    """One direct-to-chip rack on its own loop at its design heat: its coolant flow per kW of liquid heat,
    against the published rule (about 1.5 L/min per kW at a 10 K rise: Open Compute Project liquid-cooling
    guidelines [4]_, secondary) and against Q = m cp dT with CoolProp's properties."""
    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for variant in inp["variants"]:
        cooling = {**inp["cooling"], "coolant": variant["coolant"], "design_delta_t_k": variant["design_delta_t_k"]}
        ds = gw.solve(cooling_campus(inp["campus"], cooling, name=spec["name"]))
        per_kw = ds["coolant_flow_l_min_per_kw"].to_numpy()
        if per_kw.size != 1:
            raise ValueError("this case is one rack on one loop")
        t_mean = ds.attrs["t_tcs_supply_k"] + 0.5 * variant["design_delta_t_k"]
        rho, cp, _ = coolprop_properties(variant["coolant"], t_mean)
        # V/Q = 1/(rho cp dT) [m^3/J] -> L/min per kW: times 6e4 (L/min per m^3/s) and 1e3 (W per kW).
        closed = 6e4 * 1e3 / (rho * cp * variant["design_delta_t_k"])
        point = variant["name"]
        out.append(_measured("coolant_flow_l_min_per_kw", float(per_kw[0]), point=point))
        if variant["ocp"]:
            out.append(_measured("coolant_flow_l_min_per_kw_in_ocp_range", float(per_kw[0]), point=point))
        out.append(_measured("coolant_flow_l_min_per_kw_vs_coolprop", float(per_kw[0]), closed, point))
    return out


# --- analytic: CDU epsilon-NTU and first law -------------------------------------------------------


def cdu_epsilon_ntu(spec):
    """Every CDU of solved campuses: duty, temperatures, flows and UA against the exact counter-flow
    epsilon-NTU relation (``ht``) and the first law on both streams."""
    import ht

    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for variant in inp["variants"]:
        case = cooling_campus(inp["campus"], {**inp.get("cooling", {}), **variant.get("cooling", {})},
                              name=spec["name"])
        s = case.settings["cooling"]  # the case's settings, defaults filled from the schema
        ds = gw.solve(case)
        t_set, t_f = ds.attrs["t_tcs_supply_k"], ds.attrs["t_facility_supply_k"]
        # Constant properties at each loop's design mean temperature (gigawatt's stated convention):
        # technology loop at supply + design_delta_t/2, facility water at supply + air_coil_delta_t/2.
        dt = s["design_delta_t_k"]
        cp_h = coolprop_properties(s["coolant"], t_set + 0.5 * dt)[1]
        cp_c = coolprop_properties(s["facility_coolant"], t_f + 0.5 * s["air_coil_delta_t_k"])[1]
        for loop in ds.cooling_loop.values:
            d = ds.sel(cooling_loop=loop)
            duty, t_hot_in, ua = float(d.cdu_duty_w), float(d.cdu_t_hot_in_k), float(d.cdu_ua_w_per_k)
            c_h = float(d.loop_flow_kg_s) * cp_h
            c_c = float(d.cdu_facility_flow_kg_s) * cp_c
            c_min, c_max = min(c_h, c_c), max(c_h, c_c)
            eps = float(ht.effectiveness_from_NTU(ua / c_min, c_min / c_max, subtype="counterflow"))
            point = f"{variant['name']}, loop {loop}"
            out += [
                _measured("duty_by_epsilon_ntu_w", duty, eps * c_min * (t_hot_in - t_f), point),
                _measured("cdu_effectiveness", float(d.cdu_effectiveness), eps, point),
                _measured("duty_hot_side_w", duty, c_h * (t_hot_in - t_set), point),
                _measured("duty_cold_side_w", duty, c_c * (float(d.cdu_t_facility_out_k) - t_f), point),
                _measured("cdu_ua_w_per_k", ua, c_h * dt / s["cdu_approach_k"], point),
            ]
    return out


# --- analytic: pump and loop pressure drop along the rack path -------------------------------------


def _darcy_weisbach_pa(m_kg_s, length_m, d_m, roughness_m, k_minor, rho, mu):
    """Pressure drop [Pa] of a pipe by Darcy–Weisbach with ``fluids``: Colebrook's friction factor (Clamond's
    solution, ``fluids.friction.friction_factor``) and ``fluids.core.dP_from_K(f L/D + K, rho, V)``."""
    from fluids.core import K_from_f, Reynolds, dP_from_K
    from fluids.friction import friction_factor

    v = m_kg_s / (rho * 0.25 * math.pi * d_m ** 2)
    re = Reynolds(V=v, D=d_m, rho=rho, mu=mu)
    if re < RE_TURBULENT_MIN:
        raise ValueError(f"Re = {re:.0f} < {RE_TURBULENT_MIN:.0f}: the closed form here is Colebrook's")
    fd = friction_factor(Re=re, eD=roughness_m / d_m)
    return dP_from_K(K_from_f(fd, length_m, d_m) + k_minor, rho, v)


def pump_and_path(spec):
    """A loop with one rack: loop flow from Q = m cp dT, the pressure drop of each pipe on the rack's path
    by Darcy–Weisbach (``fluids``), the loop pressure drop as their sum plus the CDU's, the pump head,
    its speed on the affinity-law head curve and its power rho g Q H / eta."""
    import gigawatt as gw
    from gigawatt.models.flow_correlations import GRAVITY_M_S2

    inp = spec["inputs"]
    out = []
    for variant in inp["variants"]:
        case = cooling_campus(inp["campus"], {**inp["cooling"], **variant.get("cooling", {})}, name=spec["name"])
        s = case.settings["cooling"]  # the case's settings, defaults filled from the schema
        ds = gw.solve(case)
        if ds.sizes["rack"] != 1 or ds.sizes["cooling_loop"] != 1:
            raise ValueError("this case is one rack on one loop")
        point = variant["name"]
        t_mean = ds.attrs["t_tcs_supply_k"] + 0.5 * s["design_delta_t_k"]
        rho, cp, mu = coolprop_properties(s["coolant"], t_mean)
        p_it = float(ds.rack_p_it_w[0])
        eta_vrm = float(case.tables["rack"]["vrm_efficiency"].iloc[0])
        if s["shelf_liquid_fraction"] != 0:
            raise ValueError("the closed form for the flow below assumes air-cooled shelves")
        vlf = s["liquid_fraction"] if s["vrm_liquid_fraction"] is None else s["vrm_liquid_fraction"]
        q_liquid = s["liquid_fraction"] * p_it + vlf * p_it * (1.0 / eta_vrm - 1.0)  # shelves air-cooled
        m = q_liquid / (cp * s["design_delta_t_k"])
        out.append(_measured("loop_flow_kg_s", float(ds.loop_flow_kg_s[0]), m, point))

        # The rack's path: supply feed, its branch, return feed (one rack: no header segments; with reverse
        # return the return feed is feed + (racks - 1) pitches = the feed). The branch's minor losses are
        # rack_dp_design_pa at the rack's design flow, which a lone rack runs at.
        eps = s["header_roughness_m"]
        feed = _darcy_weisbach_pa(m, s["header_feed_length_m"], s["header_diameter_m"], eps, s["header_k_minor"],
                                  rho, mu)
        rack = _darcy_weisbach_pa(m, s["rack_hose_length_m"], s["rack_hose_diameter_m"], eps, 0.0, rho, mu) \
            + s["rack_dp_design_pa"]
        closed = {"feed_supply": feed, "rack": rack, "feed_return": feed}
        roles = ds["pipe_role"].to_numpy()
        if sorted(roles) != sorted(closed):
            raise ValueError(f"expected pipes {sorted(closed)}, got {sorted(roles)}")
        for role, dp in closed.items():
            got = float(ds["pipe_pressure_drop_pa"].to_numpy()[roles == role][0])
            out.append(_measured(f"pipe_pressure_drop_pa ({role})", got, dp, point))
        dp_loop = feed + rack + feed + s["cdu_dp_pa"]
        out.append(_measured("loop_pressure_drop_pa", float(ds.loop_pressure_drop_pa[0]), dp_loop, point))

        head = dp_loop / (rho * GRAVITY_M_S2)
        q = m / rho
        out.append(_measured("pump_head_m", float(ds.pump_head_m[0]), head, point))
        # Head curve at speed ratio n: H = H0 n^2 - b Q^2 (affinity laws); auto-sized pumps have
        # H0 = 1.4 H_design and b = 0.2 H_design / Q_design^2 (schema, pump_h0_m and pump_b_s2_m5).
        h0 = 1.4 * head if s["pump_h0_m"] is None else s["pump_h0_m"]
        b = 0.2 * head / q ** 2 if s["pump_b_s2_m5"] is None else s["pump_b_s2_m5"]
        out.append(_measured("pump_speed_ratio", float(ds.pump_speed_ratio[0]), math.sqrt((head + b * q * q) / h0),
                             point))
        # Efficiency: the parabola eta_best x (2 - x), x = Q / (n Q_best), through the best-efficiency flow
        # (schema, pump_best_flow_m3_s): an auto-sized pump runs at it (x = 1); a given curve has it where
        # the rated-speed curve gives 0.8 H0, b Q_best^2 = 0.2 H0.
        n = math.sqrt((head + b * q * q) / h0)
        q_best = q / n if s["pump_h0_m"] is None else math.sqrt(0.2 * h0 / b)
        x = q / (n * q_best)
        p_pump = rho * GRAVITY_M_S2 * q * head / (s["pump_eta_best"] * x * (2.0 - x) * s["motor_efficiency"])
        out.append(_measured("pump_power_w", float(ds.pump_power_w[0]), p_pump, point))
    return out


COOLING_RUNNERS = {
    "pandapipes_loops": pandapipes_loops,
    "coolant_flow_per_kw": coolant_flow_per_kw,
    "cdu_epsilon_ntu": cdu_epsilon_ntu,
    "pump_and_path": pump_and_path,
}
"""Runners of the cooling cases, by the name their case files give under ``runner`` (registered in
:data:`gigawatt.validation.dc_checks.RUNNERS`)."""
