"""Water properties per pipe (``[district_heating] properties = "per_pipe"``): each pipe's and substation's density,
viscosity and c_p from its own inlet and outlet temperatures, the hydraulics and temperatures iterated in turn
(Picard).

Checked against:

- Darcy-Weisbach written out here with the ``fluids`` library's Colebrook friction factor (an independent
  implementation) and each pipe's properties read from the stored water table at the mean temperature the solve
  reports for it: every pipe's pressure drop to 1e-9 relative (the Picard tolerance, 1e-9 K, moves the properties
  by ~1e-12; the solver's hydraulic tolerance is 1e-8 Pa on drops of ~1e4 Pa);
- a hot supply and a cold return pipe of the same size and flow: the supply's drop is the smaller, by the ratio
  the closed form gives with each pipe's properties (same check);
- the ledger: plant heat = delivered + losses + the c_p steps where branches meet, to round-off; the plant's heat
  is m times c_p integrated from return to supply temperature (CoolProp's c_p, scipy's quad);
- off (the default): no Picard iterate, the network's one set of properties, as before the option;
- a time series takes the option too (tests/test_dh_series_properties.py);
- pandapipes (cross-code), which takes each branch's properties from its own temperatures the same way, given
  gigawatt's stored water table (interpolated linearly, as gigawatt does), on the random meshed network of the
  validation case dh_crosscode_pandapipes_random (seed 3): pressures, pipe flows and junction temperatures. What
  is left between the two is how a junction mixes its inflows: pandapipes weighs each by the mean of c_p at the
  inflow's and at the junction's temperature (the trapezoid rule for the enthalpy difference), gigawatt's
  thermal sweep by the branch's own c_p; measured with pandapipes 0.16.0: 2.5e-3 Pa, 2.8e-8 of the largest pipe
  flow, 7.0e-5 K, against 332 Pa, 1.8e-3 and 5.0e-3 K with the network's one set of properties. The tolerances
  below are four times the measured gaps, and the network-property run must stay outside them.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from fluids.friction import friction_factor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.coolant import coolant_properties
from gigawatt.models.coolant_store import stored_table
from gigawatt.solver.numerics.hydraulic_network import prepare_hydraulic_network


def line_case(**settings_):
    """Plant S - 1 km DN100 supply pipe - a consumer at A, 400 kW, 40 degC return - 1 km return pipe - plant R;
    75 degC supply, pipes losing heat to a 10 degC ground."""
    pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=1000.0, diameter_m=0.1,  # noqa: E731
                                  u_w_per_m_k=0.3, roughness_m=1e-4)
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
           "dh_pipe": [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
           "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "demand_w": 4e5,
                            "t_return_k": 313.15}]}
    return gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", **settings_},
                        case={"name": "properties"})


def closed_form_drops(ds, case):
    """Darcy-Weisbach with the fluids library's Colebrook factor, each pipe's properties from the stored table:
    density the mean of those at its inlet (upstream node) and outlet, viscosity at their mean temperature [Pa]."""
    s = case.settings["district_heating"]
    pipes = case.tables["dh_pipe"]
    table = stored_table("water", min(s["p_return_pa"], s["p_supply_pa"] or math.inf) + 101325.0)
    m = ds["dh_pipe_flow_kg_s"].to_numpy()
    t = ds["dh_t_k"].to_series()
    up = np.where(m >= 0, t[pipes["from_node"]].to_numpy(), t[pipes["to_node"]].to_numpy())
    t_out = ds["dh_pipe_t_out_k"].to_numpy()
    rho = 0.5 * (coolant_properties(table, up)["density_kg_per_m3"]
                 + coolant_properties(table, t_out)["density_kg_per_m3"])
    mu = coolant_properties(table, 0.5 * (up + t_out))["viscosity_pa_s"]
    d, length = pipes["diameter_m"].to_numpy(), pipes["length_m"].to_numpy()
    area = math.pi * d ** 2 / 4
    re = np.abs(m) * d / (area * mu)
    f = np.array([friction_factor(Re=r, eD=e, Method="Colebrook") for r, e in zip(re, pipes["roughness_m"] / d)])
    return f * length / d * m * np.abs(m) / (2 * rho * area ** 2), rho


def test_per_pipe_drops_are_darcy_weisbach_at_each_pipe_temperature():
    case = line_case(properties="per_pipe", p_supply_pa=6e5)
    ds = gw.solve(case)
    p = ds["dh_p_pa"].to_series()
    got = np.array([p["S"] - p["A"], p["Ar"] - p["R"]])
    want, rho = closed_form_drops(ds, case)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # hot supply, cold return, same pipe and flow: the supply's drop is smaller (lower viscosity and density)
    assert got[0] < got[1] and rho[0] < rho[1]
    assert 2 <= ds.attrs["dh_property_iterations"] < 30
    assert abs(ds.attrs["dh_heat_balance_residual"]) < 1e-12


def test_per_pipe_plant_heat_is_the_enthalpy_rise():
    """The plant's heat with per-pipe c_p is m times the integral of c_p from the return to the supply
    temperature: here CoolProp's c_p (IAPWS-95, the stored table's source) at the network's pressure (2 bar gauge
    return, 301,325 Pa absolute: a stored pressure) integrated by scipy's quad, to 1e-7 (the table's linear
    interpolation on its 0.25 K grid)."""
    from CoolProp.CoolProp import PropsSI
    from scipy.integrate import quad

    ds = gw.solve(line_case(properties="per_pipe", p_supply_pa=6e5))
    a = ds.attrs
    rise, _ = quad(lambda t: PropsSI("C", "T", t, "P", 301325.0, "HEOS::Water"), a["dh_t_return_k"], 348.15,
                   epsabs=1e-9)
    assert a["dh_q_plant_w"] == pytest.approx(a["dh_flow_kg_s"] * rise, rel=1e-7)
    # the mean of the end values overstates water's mean c_p across the substation (c_p curves, with its
    # minimum near 36 degC): the c_p steps carry the difference, a few 1e-4 of the heat
    assert -1e-3 < a["dh_q_cp_step_w"] / a["dh_q_plant_w"] < 0


def test_network_properties_are_the_default_and_take_no_picard_iterate():
    case = line_case(p_supply_pa=6e5)
    assert case.settings["district_heating"]["properties"] == "network"
    ds = gw.solve(case)
    assert ds.attrs["dh_property_iterations"] == 0
    p = ds["dh_p_pa"].to_series()
    drop = np.array([p["S"] - p["A"], p["Ar"] - p["R"]])
    assert drop[0] == pytest.approx(drop[1], rel=1e-12)  # one set of properties: equal drops at equal flows


def test_with_fluid_equals_a_network_prepared_with_those_properties():
    kw = dict(node_fixed_p_pa=np.array([3e5, np.nan, np.nan]), pipe_from=np.array([0, 1]), pipe_to=np.array([1, 2]),
              pipe_length_m=np.array([300.0, 500.0]), pipe_diameter_m=np.array([0.08, 0.1]),
              pipe_roughness_m=np.array([1e-4, 5e-5]), pipe_k_minor=np.array([2.0, 0.0]))
    rho, mu = np.array([975.0, 990.0]), np.array([3.8e-4, 6.0e-4])
    inject = np.array([0.0, 0.0, -4.0])
    base = prepare_hydraulic_network(**kw, density_kg_m3=1000.0, viscosity_pa_s=1e-3)
    want = prepare_hydraulic_network(**kw, density_kg_m3=rho, viscosity_pa_s=mu).solve(node_injection_kg_s=inject)
    got = base.with_fluid(rho, mu).solve(node_injection_kg_s=inject)
    np.testing.assert_allclose(got.p_pa, want.p_pa, rtol=1e-13)
    np.testing.assert_allclose(got.m_kg_s, want.m_kg_s, rtol=1e-13)


def test_per_pipe_agrees_with_pandapipes_given_the_same_water_table():
    import tomllib
    from pathlib import Path

    pps = pytest.importorskip("pandapipes")
    from pandapipes.properties.fluids import Fluid, FluidPropertyInterExtra

    from gigawatt.interchange import pandapipes_ids
    from gigawatt.validation import dh_checks as dc

    spec = tomllib.loads((Path(dc.__file__).parent / "cases" / "dh_crosscode_pandapipes_random.toml").read_text())
    inp = spec["inputs"]
    nw = inp["networks"][0]
    args = (nw["seed"], nw["n_junction"], nw["extra_pipes"], dict(inp["generator"]))
    net = dc.random_heat_network(*args, dc.PLACEHOLDER_WATER)
    case = gw.from_pandapipes(net)
    dh = case.settings["district_heating"]
    per_pipe = case.with_tables({}, {"district_heating": {**dh, "properties": "per_pipe"}})
    table = stored_table("water", min(dh["p_return_pa"], dh["p_supply_pa"]) + 101325.0)
    net["fluid"] = Fluid("gigawatt stored water", "liquid",
                         density=FluidPropertyInterExtra(table.t_k, table.density_kg_per_m3),
                         viscosity=FluidPropertyInterExtra(table.t_k, table.viscosity_pa_s),
                         heat_capacity=FluidPropertyInterExtra(table.t_k, table.cp_j_per_kg_k))
    pps.pipeflow(net, **inp["pipeflow"])
    ids = pandapipes_ids(net)
    nodes = ids["junction"].loc[net.junction.index].to_numpy()
    pipes = ids["pipe"].loc[net.pipe.index].to_numpy()
    p_pp, t_pp = net.res_junction["p_bar"].to_numpy() * 1e5, net.res_junction["t_k"].to_numpy()
    m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()

    def gaps(ds):
        return (np.max(np.abs(ds["dh_p_pa"].sel(dh_node=nodes).to_numpy() - p_pp)),
                np.max(np.abs(ds["dh_pipe_flow_kg_s"].sel(dh_pipe=pipes).to_numpy() - m_pp)) / np.max(np.abs(m_pp)),
                np.max(np.abs(ds["dh_t_k"].sel(dh_node=nodes).to_numpy() - t_pp)))

    tol = (1e-2, 1.2e-7, 3e-4)  # Pa, of the largest flow, K: four times the gaps measured (module notes)
    ds = gw.solve(per_pipe)
    assert all(g <= t for g, t in zip(gaps(ds), tol)), gaps(ds)
    assert all(g > t for g, t in zip(gaps(gw.solve(case)), tol))
    assert ds.attrs["dh_property_iterations"] > 1 and abs(ds.attrs["dh_heat_balance_residual"]) < 1e-12


@st.composite
def radial_networks(draw):
    """A random radial supply tree (node i hangs from one of 0..i-1) with its mirrored return and a consumer at
    every node but the plant's; random lengths, diameters, demands, return temperatures and fluid."""
    n = draw(st.integers(2, 8))
    parent = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    nodes = [{"id": f"s{i}"} for i in range(n)] + [{"id": f"r{i}"} for i in range(n)]
    pipes, consumers = [], []
    for i, j in enumerate(parent, start=1):
        geo = dict(length_m=draw(st.floats(50.0, 800.0)), diameter_m=draw(st.sampled_from([0.05, 0.08, 0.1, 0.15])),
                   u_w_per_m_k=draw(st.floats(0.1, 0.6)), roughness_m=1e-4)
        pipes += [dict(id=f"sp{i}", from_node=f"s{j}", to_node=f"s{i}", **geo),
                  dict(id=f"rp{i}", from_node=f"r{i}", to_node=f"r{j}", **geo)]
        consumers.append({"id": f"c{i}", "supply_node": f"s{i}", "return_node": f"r{i}",
                          "demand_w": draw(st.floats(2e4, 3e5)), "t_return_k": draw(st.floats(303.15, 328.15))})
    fluid = draw(st.sampled_from(["water", "pg25", "eg30"]))
    t_supply = draw(st.floats(343.15, 413.15 if fluid == "water" else 368.15))  # the glycol fits end at 373.15 K
    return gw.make_case({"dh_node": nodes, "dh_pipe": pipes, "dh_consumer": consumers},
                        district_heating={"supply_node": "s0", "return_node": "r0", "properties": "per_pipe",
                                          "p_supply_pa": 8e5, "p_return_pa": 4e5, "fluid": fluid, "t_supply_k": t_supply},
                        case={"name": "random radial"})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(radial_networks())
def test_per_pipe_on_random_networks_closes_its_ledger_and_kirchhoff(case):
    ds = gw.solve(case)
    assert abs(ds.attrs["dh_heat_balance_residual"]) < 1e-12
    assert 2 <= ds.attrs["dh_property_iterations"] < 30
    pipes = case.tables["dh_pipe"]
    m = ds["dh_pipe_flow_kg_s"].to_series()
    cons = case.tables["dh_consumer"]
    flow = ds["dh_consumer_flow_kg_s"].to_numpy()
    # Kirchhoff at every supply node: what comes in by pipe = what leaves by pipe and substation
    for node in case.tables["dh_node"]["id"]:
        if node in ("s0", "r0"):
            continue
        net = m[pipes["id"][pipes["to_node"] == node]].sum() - m[pipes["id"][pipes["from_node"] == node]].sum()
        net += flow[(cons["return_node"] == node).to_numpy()].sum() - flow[(cons["supply_node"] == node).to_numpy()].sum()
        assert abs(net) <= 1e-9 * float(np.max(np.abs(m))), node


def test_a_pipe_colder_than_the_fluid_table_is_named():
    """Water standing in 5 km of lossy pipe in a -15 degC ground cools to the ground's temperature, below the
    water table's 273.15 K: per_pipe names the pipe (the network's one set of properties does not look)."""
    pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=5000.0, diameter_m=0.1,  # noqa: E731
                                  u_w_per_m_k=3.0)
    doc = {"dh_node": [{"id": x} for x in ["S", "A", "Ar", "R"]],
           "dh_pipe": [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
           "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                            "mass_flow_kg_s": 0.05, "demand_w": 0.0}]}
    case = gw.make_case(doc, district_heating={"supply_node": "S", "return_node": "R", "ground_t_k": 258.15,
                                               "properties": "per_pipe"}, case={"name": "cold"})
    with pytest.raises(CaseError, match=r"dh_pipe 'r1', field 'temperature'.*got 258\.15"):
        gw.solve(case)
