"""Interchange the other way: a gigawatt case as the networks of the tools our users continue in.

- :func:`to_pandapower`: the DC network as a pandapower network of purely resistive three-phase lines that
  has the same per-unit voltages and losses (see :mod:`gigawatt.validation.pandapower_equivalent` for why);
- :func:`to_pandapipes`: the district-heating network as a pandapipes heat network, its substations at the
  flows and return temperatures of a gigawatt solve.

Both are what ``gigawatt bench`` and ``gigawatt validate`` compare against, so the equivalence is tested.
"""
from __future__ import annotations

import math

from gigawatt.errors import CaseError

PIPEFLOW_OPTIONS = {"friction_model": "colebrook", "tol_p": 1e-10, "tol_m": 1e-10, "tol_T": 1e-10, "tol_res": 1e-6,
                    "max_iter_hyd": 100, "max_iter_therm": 100, "tolerance_colebrook": 1e-14,
                    "max_iter_colebrook": 100, "check_connectivity": False}
"""pandapipes pipeflow options that reproduce gigawatt's district-heating solve (and the options of
``gigawatt bench``'s peer, for its timing and its answer alike): Colebrook friction (as ours) and
tolerances tight enough that what remains of the differences is not pandapipes stopping early; pandapipes'
default ``use_numba=True``, its fast path. Its connectivity check is off: for heat transfer it searches from
the temperature slacks without crossing heat consumers, so it would drop the whole return network (whose
node temperatures, with every flow given, follow from the substations' outlets by mixing alone)."""


def to_pandapower(case):
    """The case's DC network as a ``pandapowerNet``: buses and lines named by the case's ids (lines in
    service only), one load per bus with racks (their input powers summed), an external grid per source.

    ``pandapower.runpp(net, init="flat")`` solves it (the default DC initialisation divides by the lines'
    zero reactance). Restrictions: stiff sources only (pandapower has no V–P droop) and no DC/DC converters; racks become
    loads of their input power (IT power through voltage regulators and shelves). Raises
    :class:`~gigawatt.errors.CaseError` for a case outside them.
    """
    from gigawatt.validation.pandapower_equivalent import to_pandapower as equivalent

    net, bus_index = equivalent(case)
    net.bus.loc[bus_index, "name"] = case.tables["bus"]["id"].to_numpy()
    lines = case.tables["line"]
    net.line["name"] = lines["id"].to_numpy()[lines["in_service"].to_numpy(bool)]
    return net


def to_pandapipes(case, result=None):
    """The case's district-heating network as a pandapipes net (junction i is dh node i, heat consumer k is
    consumer k; pipes out of service are left out), its substations at the flows and return temperatures of
    ``result`` (a :func:`gigawatt.solve` dataset of this case; solved here when not given).

    ``pandapipes.pipeflow(net, mode="sequential", **PIPEFLOW_OPTIONS)`` then reproduces the temperatures,
    pressures and flows of the solve (pandapipes' default iteration limits can stop short of it).
    """
    import numpy as np
    import pandas as pd

    if case.settings.get("district_heating") is None:
        raise CaseError("the case has no district-heating network ([district_heating])", file=case.file,
                        field="district_heating")
    if result is None:
        from gigawatt.solver.solve import solve

        result = solve(case)
    s = case.settings["district_heating"]
    sup = pd.Index(case.tables["dh_node"]["id"]).get_indexer([s["supply_node"]])[0]
    net, _ = district_heating_net(case, result["dh_consumer_flow_kg_s"].to_numpy(),
                                  result["dh_consumer_t_return_k"].to_numpy(),
                                  float(np.asarray(result["dh_p_pa"])[sup]))
    net.junction["name"] = case.tables["dh_node"]["id"].to_numpy()
    net.heat_consumer["name"] = case.tables["dh_consumer"]["id"].to_numpy()
    return net


def heating_fluid(case) -> tuple[float, float, float]:
    """(density [kg/m^3], cp [J/(kg K)], viscosity [Pa s]) the stage uses: at the mean of the supply and the
    consumers' mean return temperature, and the network's pressure (water's properties depend on it)."""
    import numpy as np

    from gigawatt.models.coolant_store import stored_constants
    from gigawatt.solver.district_heating.stage import plant_pressure_pa

    s = case.settings["district_heating"]
    t_ret = case.tables["dh_consumer"]["t_return_k"].to_numpy(float)
    t_mean = 0.5 * (s["t_supply_k"] + float(np.mean(t_ret)))
    rho, cp, mu, _ = stored_constants(s["fluid"], t_mean, "t_supply_k", case.file, plant_pressure_pa(s))
    return rho, cp, mu


def district_heating_net(case, consumer_flow_kg_s, consumer_t_return_k, p_supply_pa: float):
    """The case's district-heating network as a pandapipes net (see the module notes), built with pandapipes'
    vectorised ``create_*s`` functions: pipes with their heat loss to the ground at their depth (``ground_t_k``,
    or the ``kusuda`` ground on ``day_of_year``; twin pipes are refused), the plant as a pressure–temperature
    source at its supply node (``p_supply_pa`` [Pa]) and a pressure reference at its return node, and each substation a heat consumer drawing ``consumer_flow_kg_s`` [kg/s] and returning at
    ``consumer_t_return_k`` [K] (pandapipes fixes a substation by flow and return temperature, gigawatt by its
    demand: the flows of a solve make the two the same network).

    Returns
    -------
    (net, pipe_live)
        The net (junction i is dh node i, pipe j the j-th pipe in service, heat consumer k consumer k) and the
        mask of pipes in service.
    """
    import numpy as np
    import pandapipes as pps
    import pandas as pd

    from gigawatt.solver.district_heating.stage import pipe_ground_t_k, pipe_u_w_per_m_k
    from gigawatt.validation.cooling_checks import COLEBROOK_GIGAWATT, COLEBROOK_PANDAPIPES

    s = case.settings["district_heating"]
    nodes, pipes, cons = case.tables["dh_node"], case.tables["dh_pipe"], case.tables["dh_consumer"]
    rho, cp, mu = heating_fluid(case)
    fluid = pps.create_constant_fluid(name="gigawatt district heating water", fluid_type="liquid", density=rho,
                                      viscosity=mu, heat_capacity=cp)
    net = pps.create_empty_network(fluid=fluid)
    index = pd.Index(nodes["id"])
    p_ret_bar = s["p_return_pa"] / 1e5
    junction = np.asarray(pps.create_junctions(net, len(nodes), pn_bar=p_ret_bar, tfluid_k=s["t_supply_k"]))
    live = pipes["in_service"].to_numpy(bool)
    pl = pipes[live]
    d = pl["diameter_m"].to_numpy(float)
    twin = [i for i, x in zip(pipes["id"], pipes.get("twin_pipe", [])) if isinstance(x, str) and x.strip()]
    if twin:  # pandapipes has no pipe that exchanges heat with another
        from gigawatt.errors import CaseError

        raise CaseError("pandapipes has no twin pipes: the heat a pair passes between its pipes cannot be exported",
                        file=case.file, element=f"dh_pipe '{twin[0]}'", field="twin_pipe",
                        allowed="empty (single pipes) to export to pandapipes")
    pps.create_pipes_from_parameters(
        net, junction[index.get_indexer(pl["from_node"])], junction[index.get_indexer(pl["to_node"])],
        length_km=pl["length_m"].to_numpy(float) / 1e3, inner_diameter_mm=d * 1e3,
        k_mm=pl["roughness_m"].to_numpy(float) * 1e3 * COLEBROOK_PANDAPIPES / COLEBROOK_GIGAWATT,
        loss_coefficient=pl["k_minor"].to_numpy(float), u_w_per_m2k=pipe_u_w_per_m_k(pl) / (math.pi * d),
        text_k=pipe_ground_t_k(s, pl))
    pps.create_heat_consumers(net, junction[index.get_indexer(cons["supply_node"])],
                              junction[index.get_indexer(cons["return_node"])],
                              controlled_mdot_kg_per_s=np.asarray(consumer_flow_kg_s, dtype=float),
                              treturn_k=np.asarray(consumer_t_return_k, dtype=float))
    sup, ret = index.get_indexer([s["supply_node"], s["return_node"]])
    pps.create_ext_grid(net, junction[sup], p_bar=p_supply_pa / 1e5, t_k=s["t_supply_k"], type="pt")
    pps.create_ext_grid(net, junction[ret], p_bar=p_ret_bar, t_k=math.nan, type="p")
    return net, live
