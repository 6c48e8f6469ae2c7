"""Tests of gigawatt.from_pandapipes (gigawatt/interchange.py): every convertible element with its units, a
round trip from a gigawatt case through a pandapipes net and back, the error that lists every element that
does not convert, the rules for ids, out-of-service elements and fluids, and a converted network solved by
both tools.

The agreement with the reference results shipped in pandapipes (OpenModelica) and with pandapipes on random
meshed networks is in the validation cases ``validation/cases/dh_crosscode_*.toml``.
"""
from __future__ import annotations

import copy
import logging
import math

import numpy as np
import pandas as pd
import pytest

import gigawatt as gw
from gigawatt import interchange as ic
from gigawatt.errors import CaseError

pps = pytest.importorskip("pandapipes")
logging.getLogger("pandapipes").setLevel(logging.ERROR)  # its notes on circulation pumps and zero heat

K_SCALE = 3.7 / 3.71  # gigawatt roughness per pandapipes k (Colebrook's 3.7 against pandapipes' 3.71)


def closed_net(fluid="water"):
    """A small closed district-heating net with one of every convertible element.

    Supply s0..s3, return r0..r3; circulation pump r0 -> s0 (6 bar, 2.5 bar lift, 80 degC); supply pipes
    s0-s1 (outer diameter given), s1-s2, s1-s3 and the return pipes mirrored; an open valve s2-s2v with a
    loss coefficient and a heat exchanger without heat s2v-s2w; a closed valve s3-s2 (a bypass, shut);
    consumers: s2w -> r2 and s3 -> r3 (qext and treturn), a flow-only consumer s1 -> r1 (mdot, no heat),
    and a sink at s3 (scaled) that leaves the network.
    """
    net = pps.create_empty_network(name="closed", fluid=fluid)
    j = {n: pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15, name=n)
         for n in ("s0", "s1", "s2", "s2v", "s2w", "s3", "r0", "r1", "r2", "r3")}
    pps.create_circ_pump_const_pressure(net, j["r0"], j["s0"], p_flow_bar=6.0, plift_bar=2.5, t_flow_k=353.15,
                                        type="pt", name="plant")
    pipe = dict(k_mm=0.1, u_w_per_m2k=0.8, text_k=281.15)
    pps.create_pipe_from_parameters(net, j["s0"], j["s1"], length_km=0.25, inner_diameter_mm=150.0,
                                    outer_diameter_mm=168.3, loss_coefficient=1.5, name="sp01", **pipe)
    pps.create_pipe_from_parameters(net, j["s1"], j["s2"], length_km=0.12, inner_diameter_mm=100.0, name="sp12",
                                    **pipe)
    pps.create_pipe_from_parameters(net, j["s1"], j["s3"], length_km=0.09, inner_diameter_mm=80.0, name="sp13",
                                    **pipe)
    pps.create_pipe_from_parameters(net, j["r1"], j["r0"], length_km=0.25, inner_diameter_mm=150.0, name="rp10",
                                    **pipe)
    pps.create_pipe_from_parameters(net, j["r2"], j["r1"], length_km=0.12, inner_diameter_mm=100.0, name="rp21",
                                    **pipe)
    pps.create_pipe_from_parameters(net, j["r3"], j["r1"], length_km=0.09, inner_diameter_mm=80.0, name="rp31",
                                    **pipe)
    pps.create_valve(net, j["s2"], j["s2v"], et="ju", inner_diameter_mm=100.0, loss_coefficient=2.3, name="v_open")
    pps.create_valve(net, j["s3"], j["s2"], et="ju", inner_diameter_mm=50.0, opened=False, name="v_shut")
    pps.create_heat_exchanger(net, j["s2v"], j["s2w"], qext_w=0.0, inner_diameter_mm=100.0, loss_coefficient=0.7,
                              name="hx0")
    pps.create_heat_consumer(net, j["s2w"], j["r2"], qext_w=400e3, treturn_k=318.15, name="c2")
    pps.create_heat_consumer(net, j["s3"], j["r3"], qext_w=250e3, treturn_k=313.15, name="c3")
    pps.create_heat_consumer(net, j["s1"], j["r1"], qext_w=0.0, controlled_mdot_kg_per_s=0.4, name="bypass1")
    pps.create_sink(net, j["s3"], mdot_kg_per_s=0.5, scaling=0.8, name="leak3")
    return net


def by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("id")


# --- what converts, field by field -----------------------------------------------------------------

def test_every_convertible_element_maps_with_its_units():
    net = closed_net()
    case = gw.from_pandapipes(net, name="closed net")
    s = case.settings["district_heating"]
    assert case.name == "closed net"
    # Circulation pump: flow junction is the supply node at p_flow; the return node at p_flow - plift (bar ->
    # Pa: x 1e5, exact in binary here).
    assert (s["supply_node"], s["return_node"]) == ("s0", "r0")
    assert s["p_supply_pa"] == 6.0e5 and s["p_return_pa"] == 3.5e5 and s["t_supply_k"] == 353.15
    assert s["ground_t_k"] == 281.15 and s["fluid"] == "water"
    assert list(case.tables["dh_node"]["id"]) == list(net.junction["name"])

    p = by_id(case.tables["dh_pipe"])
    # km -> m, mm -> m; k scaled so Colebrook's k/(3.7 d) equals pandapipes' k/(3.71 d); U' per metre is
    # pandapipes' u per m2 times the surface per metre it uses, pi x (outer diameter, else inner).
    assert p.loc["sp01", "length_m"] == pytest.approx(250.0, rel=1e-15)
    assert p.loc["sp01", "diameter_m"] == pytest.approx(0.15, rel=1e-15)
    assert p.loc["sp01", "roughness_m"] == pytest.approx(1e-4 * K_SCALE, rel=1e-15)
    assert p.loc["sp01", "roughness_m"] / 3.7 == pytest.approx(1e-4 / 3.71, rel=1e-15)
    assert p.loc["sp01", "k_minor"] == 1.5
    assert p.loc["sp01", "u_w_per_m_k"] == pytest.approx(0.8 * math.pi * 0.1683, rel=1e-15)
    assert p.loc["sp12", "u_w_per_m_k"] == pytest.approx(0.8 * math.pi * 0.100, rel=1e-15)
    assert (p.loc["sp12", "from_node"], p.loc["sp12", "to_node"]) == ("s1", "s2")
    # Valves and the heat exchanger without heat: short smooth adiabatic pipes with their loss coefficient.
    for pid, k, d, live in (("v_open", 2.3, 0.1, True), ("hx0", 0.7, 0.1, True), ("v_shut", 0.0, 0.05, False)):
        assert p.loc[pid, "length_m"] == ic.VALVE_LENGTH_M
        assert (p.loc[pid, "k_minor"], p.loc[pid, "diameter_m"]) == (k, pytest.approx(d, rel=1e-15))
        assert p.loc[pid, "roughness_m"] == 0.0 and p.loc[pid, "u_w_per_m_k"] == 0.0
        assert bool(p.loc[pid, "in_service"]) is live

    c = by_id(case.tables["dh_consumer"])
    assert c.loc["c2", "kind"] == "fixed"
    assert (c.loc["c2", "demand_w"], c.loc["c2", "t_return_k"]) == (400e3, 318.15)
    assert (c.loc["c2", "supply_node"], c.loc["c2", "return_node"]) == ("s2w", "r2")
    assert c.loc["c2", "t_supply_min_k"] == 318.15  # pandapipes serves it whenever the water arrives warmer
    assert c.loc["bypass1", "kind"] == "mass_flow" and c.loc["bypass1", "mass_flow_kg_s"] == 0.4
    assert (c.loc["bypass1", "supply_node"], c.loc["bypass1", "return_node"]) == ("s1", "r1")
    # A sink leaves the network: a mass_flow consumer of mdot x scaling to the plant's return node.
    assert c.loc["leak3", "mass_flow_kg_s"] == pytest.approx(0.4, rel=1e-15)
    assert (c.loc["leak3", "supply_node"], c.loc["leak3", "return_node"]) == ("s3", "r0")
    assert c.loc["leak3", "t_return_k"] == 353.15  # unused by its model; the supply temperature
    assert "pandapipes net 'closed'" in case.settings["case"]["description"]


def test_open_network_gets_a_plant_return_node_at_the_supply_pressure():
    # ext_grid ('pt') and sinks only, as pandapipes' OpenModelica and STANET test networks: the sinks return to
    # an added node held at the supply pressure (no pump lift: none in pandapipes either).
    net = pps.create_empty_network(fluid="water")
    j = pps.create_junctions(net, 3, pn_bar=4.0, tfluid_k=343.15)
    pps.create_ext_grid(net, j[0], p_bar=4.0, t_k=343.15)
    pps.create_pipes_from_parameters(net, [j[0], j[1]], [j[1], j[2]], length_km=[0.4, 0.3], inner_diameter_mm=90.0)
    pps.create_sinks(net, [j[1], j[2]], mdot_kg_per_s=[1.0, 2.0])
    case = gw.from_pandapipes(net)
    s = case.settings["district_heating"]
    assert s["return_node"] == ic.PLANT_RETURN_ID == case.tables["dh_node"]["id"].iloc[-1]
    assert s["p_return_pa"] == s["p_supply_pa"] == 4e5
    assert set(case.tables["dh_consumer"]["return_node"]) == {ic.PLANT_RETURN_ID}
    # Only pipes losing heat carry a ground temperature; with none, pandapipes' ambient default stands in.
    assert s["ground_t_k"] == ic.PANDAPIPES_AMBIENT_K
    assert (case.tables["dh_pipe"]["u_w_per_m_k"] == 0.0).all()  # given as 0, not left to the geometry


def test_round_trip_from_a_gigawatt_case_through_pandapipes():
    # A gigawatt network written as a pandapipes net by hand (the inverse of each documented mapping) comes
    # back as the same tables.
    nodes = ["S", "A", "B", "R", "RA", "RB"]
    pipes = [("sa", "S", "A", 320.0, 0.2, 2e-4, 0.5, 0.35), ("ab", "A", "B", 180.0, 0.125, 1e-4, 0.0, 0.28),
             ("ra", "RA", "R", 320.0, 0.2, 2e-4, 0.5, 0.35), ("rb", "RB", "RA", 180.0, 0.125, 1e-4, 0.0, 0.28)]
    consumers = [("ca", "A", "RA", 7.5e5, 320.15), ("cb", "B", "RB", 3.2e5, 315.15)]
    settings = {"supply_node": "S", "return_node": "R", "t_supply_k": 348.15, "p_supply_pa": 7.5e5,
                "p_return_pa": 2.5e5, "ground_t_k": 282.15}
    net = pps.create_empty_network(name="round trip", fluid="water")
    j = {n: pps.create_junction(net, pn_bar=5.0, tfluid_k=340.0, name=n) for n in nodes}
    for pid, a, b, length, d, k, kmin, u in pipes:
        pps.create_pipe_from_parameters(net, j[a], j[b], length_km=length / 1e3, inner_diameter_mm=d * 1e3,
                                        k_mm=k * 1e3 / K_SCALE, loss_coefficient=kmin, u_w_per_m2k=u / (math.pi * d),
                                        text_k=settings["ground_t_k"], name=pid)
    for cid, a, b, q, tr in consumers:
        pps.create_heat_consumer(net, j[a], j[b], qext_w=q, treturn_k=tr, name=cid)
    pps.create_circ_pump_const_pressure(net, j["R"], j["S"], p_flow_bar=settings["p_supply_pa"] / 1e5,
                                        plift_bar=(settings["p_supply_pa"] - settings["p_return_pa"]) / 1e5,
                                        t_flow_k=settings["t_supply_k"], type="pt")
    case = gw.from_pandapipes(net)
    for key, value in settings.items():
        have = case.settings["district_heating"][key]
        assert have == (value if isinstance(value, str) else pytest.approx(value, rel=1e-15))
    assert list(case.tables["dh_node"]["id"]) == nodes
    got = case.tables["dh_pipe"]
    for row, (pid, a, b, length, d, k, kmin, u) in zip(got.itertuples(), pipes):
        assert (row.id, row.from_node, row.to_node, row.k_minor) == (pid, a, b, kmin)
        # Each value goes through one multiplication and one division each way: a few ulp.
        for have, want in ((row.length_m, length), (row.diameter_m, d), (row.roughness_m, k), (row.u_w_per_m_k, u)):
            assert have == pytest.approx(want, rel=4e-16)
    c = case.tables["dh_consumer"]
    assert list(zip(c["id"], c["supply_node"], c["return_node"], c["demand_w"], c["t_return_k"])) == consumers


# --- what does not convert -----------------------------------------------------------------------

def test_every_element_that_does_not_convert_is_listed_with_its_reason():
    net = closed_net()
    j = dict(zip(net.junction["name"], net.junction.index))
    pps.create_source(net, j["s2"], mdot_kg_per_s=0.3, name="src")
    pps.create_flow_control(net, j["s3"], j["r3"], controlled_mdot_kg_per_s=0.2, name="fc")
    pps.create_heat_exchanger(net, j["s2"], j["r2"], qext_w=5e4, inner_diameter_mm=50.0, name="hx_hot")
    pps.create_heat_consumer(net, j["s3"], j["r3"], treturn_k=330.0, controlled_mdot_kg_per_s=1.0, name="c_mdot")
    pps.create_heat_consumer(net, j["s3"], j["r3"], qext_w=-1e5, treturn_k=330.0, name="c_feeds")
    pps.create_heat_consumer(net, j["s2"], j["r2"], qext_w=1e5, deltat_k=30.0, name="c_dt")
    pps.create_pump(net, j["r1"], j["r0"], std_type="P1", name="booster")
    pps.create_circ_pump_const_mass_flow(net, j["r3"], j["s3"], p_flow_bar=6.0, mdot_flow_kg_per_s=2.0,
                                         t_flow_k=353.15, name="second plant")
    net.pipe.loc[net.pipe["name"] == "sp13", "text_k"] = 285.15
    net.pipe.loc[net.pipe["name"] == "rp21", "qext_w"] = 1e3
    pps.create_valve(net, j["s1"], int(net.pipe.index[net.pipe["name"] == "sp12"][0]), et="pi",
                     inner_diameter_mm=100.0, name="v_pipe")
    with pytest.raises(CaseError) as err:
        gw.from_pandapipes(net)
    got = {(p.table, p.name) for p in err.value.problems}
    expected = {("source", "src"), ("flow_control", "fc"), ("heat_exchanger", "hx_hot"), ("heat_consumer", "c_mdot"),
                ("heat_consumer", "c_feeds"), ("heat_consumer", "c_dt"), ("pump", "booster"),
                ("circ_pump_mass", "second plant"), ("pipe", "sp13"), ("pipe", "rp21"),
                ("valve", "v_pipe")}
    assert got == expected  # every one, and nothing convertible among them
    message = str(err.value)
    assert message.startswith("pandapipes net 'closed': 11 element(s) of the pandapipes net cannot be converted")
    for p in err.value.problems:
        assert p.label() in message and p.reason in message
    # The reasons say what gigawatt lacks (spot checks of the wording a user acts on).
    reasons = {p.name: p.reason for p in err.value.problems}
    assert "one ground temperature" in reasons["sp13"]  # (heights: tests/test_defects_pandapipes.py)
    assert "deltat_k" in reasons["c_dt"] and "treturn_k" in reasons["c_dt"]  # lossy pipes on its way
    assert "controlled_mdot_kg_per_s" in reasons["c_mdot"]


def test_several_plants_or_none():
    net = closed_net()
    j = dict(zip(net.junction["name"], net.junction.index))
    pps.create_ext_grid(net, j["s3"], p_bar=6.0, t_k=350.0, name="eg")
    with pytest.raises(CaseError, match="several points") as err:
        gw.from_pandapipes(net)
    assert {p.name for p in err.value.problems} == {"plant", "eg"}
    net = closed_net()
    net.circ_pump_pressure["in_service"] = False
    with pytest.raises(CaseError, match="no plant feeds it"):
        gw.from_pandapipes(net)


def test_deltat_consumer_converts_only_where_its_water_is_the_plants():
    # pandapipes' deltat_k holds the drop, gigawatt a return temperature: equal only if the water arrives at
    # the plant's supply temperature, i.e. through adiabatic pipes that no return water mixes into.
    net = pps.create_empty_network(fluid="water")
    s0, s1, r0, r1 = pps.create_junctions(net, 4, pn_bar=5.0, tfluid_k=350.0, name=["s0", "s1", "r0", "r1"])
    pps.create_circ_pump_const_pressure(net, r0, s0, p_flow_bar=5.0, plift_bar=2.0, t_flow_k=350.15, type="pt")
    sp = pps.create_pipe_from_parameters(net, s0, s1, length_km=0.2, inner_diameter_mm=100.0, u_w_per_m2k=0.0)
    pps.create_pipe_from_parameters(net, r1, r0, length_km=0.2, inner_diameter_mm=100.0, u_w_per_m2k=1.0,
                                    text_k=283.15)
    pps.create_heat_consumer(net, s1, r1, qext_w=2e5, deltat_k=30.0, name="c")
    case = gw.from_pandapipes(copy.deepcopy(net))
    c = case.tables["dh_consumer"].iloc[0]
    assert (c["kind"], c["demand_w"], c["t_return_k"]) == ("fixed", 2e5, pytest.approx(320.15, rel=1e-15))
    net.pipe.loc[sp, "u_w_per_m2k"] = 1.0  # now the supply pipe loses heat: the return temperature is unknown
    with pytest.raises(CaseError, match="deltat_k"):
        gw.from_pandapipes(net)


def test_fluids_other_than_water_and_other_friction_models_are_refused():
    with pytest.raises(CaseError, match="a gas"):
        gw.from_pandapipes(closed_net(fluid="lgas"))
    glycol = pps.create_constant_fluid(name="pg40", fluid_type="liquid", density=1040.0, viscosity=4e-3,
                                       heat_capacity=3650.0)
    with pytest.raises(CaseError, match="outside water's range") as err:
        gw.from_pandapipes(closed_net(fluid=glycol))
    assert len(err.value.problems) == 3  # density, viscosity and heat capacity, each named
    # A constant water-like fluid (as pandapipes' test networks carry) converts as gigawatt's water.
    water = pps.create_constant_fluid(name="w", fluid_type="liquid", density=998.2, viscosity=1.0e-3,
                                      heat_capacity=4184.0)
    assert gw.from_pandapipes(closed_net(fluid=water)).settings["district_heating"]["fluid"] == "water"
    net = closed_net()
    net["user_pf_options"] = {"friction_model": "nikuradse"}
    with pytest.raises(CaseError, match="Colebrook"):
        gw.from_pandapipes(net)
    net["user_pf_options"] = {"friction_model": "colebrook"}
    gw.from_pandapipes(net)


def test_values_outside_the_schema_are_refused_by_it():
    net = closed_net()
    net.pipe.loc[net.pipe["name"] == "sp12", "inner_diameter_mm"] = 0.0
    with pytest.raises(CaseError) as err:
        gw.from_pandapipes(net)
    assert err.value.element == "dh_pipe 'sp12'" and err.value.field == "diameter_m"


# --- ids, out-of-service elements, no hidden state ---------------------------------------------------

def test_ids_are_names_when_unique_else_table_and_index():
    net = closed_net()
    ids = ic.pandapipes_ids(net)
    assert list(ids["junction"]) == list(net.junction["name"])
    assert list(ids["pipe"]) == list(net.pipe["name"])
    assert (list(ids["valve"]), list(ids["heat_exchanger"])) == (["v_open", "v_shut"], ["hx0"])
    net.junction.loc[net.junction.index[3], "name"] = "s1"  # a duplicate: every junction falls back
    net.sink["name"] = "c2"  # a sink named like a heat consumer: both become dh_consumer rows
    ids = ic.pandapipes_ids(net)
    assert list(ids["junction"]) == [f"junction {i}" for i in net.junction.index]
    assert list(ids["sink"]) == [f"sink {i}" for i in net.sink.index]
    assert list(ids["heat_consumer"]) == [f"heat_consumer {i}" for i in net.heat_consumer.index]
    assert list(ids["pipe"]) == list(net.pipe["name"])  # pipes untouched
    case = gw.from_pandapipes(net)
    assert case.settings["district_heating"]["supply_node"] == "junction 0"


def test_out_of_service_elements_are_left_out_and_named():
    net = closed_net()
    net.sink["in_service"] = False
    net.heat_consumer.loc[net.heat_consumer["name"] == "c3", "in_service"] = False
    net.pipe.loc[net.pipe["name"] == "sp13", "in_service"] = False
    net.valve.loc[net.valve["name"] == "v_open", "in_service"] = False
    case = gw.from_pandapipes(net)
    ids = set(case.tables["dh_consumer"]["id"])
    assert "leak3" not in ids and "c3" not in ids and "c2" in ids
    assert "v_open" not in set(case.tables["dh_pipe"]["id"])
    p = by_id(case.tables["dh_pipe"])
    assert not p.loc["sp13", "in_service"]  # a pipe keeps its row: gigawatt's pipes have in_service
    described = case.settings["case"]["description"]
    for label in ("sink 0 ('leak3')", "heat_consumer 1 ('c3')", "valve 0 ('v_open')"):
        assert label in described


def test_the_net_is_not_changed():
    net = closed_net()
    before = {t: net[t].copy(deep=True) for t in ("junction", "pipe", "valve", "heat_consumer", "sink",
                                                    "circ_pump_pressure", "heat_exchanger")}
    gw.from_pandapipes(net)
    for t, df in before.items():
        pd.testing.assert_frame_equal(net[t], df)


def test_public_name_and_docstring_example(kit):
    assert "from_pandapipes" in gw.__all__ and gw.from_pandapipes is ic.from_pandapipes
    assert kit.run_docstring_examples(ic) == {"from_pandapipes"}


# --- the converted network solved by both ---------------------------------------------------------

def _solve_both(build, mode="bidirectional"):
    """gigawatt on the converted net, and pandapipes on the same net given gigawatt's constant fluid
    properties (gigawatt holds them constant; pandapipes' own water varies with temperature)."""
    from gigawatt.validation.dh_checks import fluid_properties

    case = gw.from_pandapipes(build("water"))
    ds = gw.solve(case)
    props = fluid_properties(ds, case)
    fluid = pps.create_constant_fluid(name="gw", fluid_type="liquid", density=props["density_kg_m3"],
                                      viscosity=props["viscosity_pa_s"], heat_capacity=props["cp_j_per_kg_k"])
    net = build(fluid)
    pps.pipeflow(net, mode=mode, friction_model="colebrook", tol_p=1e-10, tol_m=1e-10, tol_T=1e-9,
                 tol_res=1e-6, max_iter_hyd=200, max_iter_therm=200, max_iter_bidirect=200,
                 tolerance_colebrook=1e-14, max_iter_colebrook=100, use_numba=False)
    return case, ds, props, net


def _assert_same_solution(case, ds, props, net):
    ids = ic.pandapipes_ids(net)
    m_gw = ds["dh_pipe_flow_kg_s"].sel(dh_pipe=ids["pipe"].to_numpy()).to_numpy()
    m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()
    # Like for like only where every pipe is turbulent: gigawatt's friction is Colebrook's above Re 4000,
    # pandapipes' at every Reynolds number.
    d = net.pipe["inner_diameter_mm"].to_numpy() / 1e3
    assert np.min(4 * np.abs(m_pp) / (math.pi * d * props["viscosity_pa_s"])) > 4000
    # Flows and temperatures: the tolerances of the random-network validation case
    # (dh_crosscode_pandapipes_random.toml, which says why: the two solvers' convergence errors).
    assert np.max(np.abs(m_gw - m_pp)) <= 1e-9 * np.max(np.abs(m_pp))
    # Pressures to 1e-3 Pa (4e-9 of the closed net's 2.5 bar lift): pandapipes' friction factors come out
    # 1e-8 to 5e-8 below Colebrook's in that small net (its res_pipe.lambda against fluids.friction.Colebrook
    # at its Reynolds numbers; gigawatt's equals fluids' to 1e-16), 6e-5 Pa on the 1.3 kPa drop of the first
    # pipe (measured 1.0e-4 Pa at the farthest junction). The 1 um valve pipes add f L/D = 0.02 x 1e-5 of
    # their 1-3 kPa dynamic pressure, below 1e-6 Pa.
    kept = ids["junction"][ids["junction"].isin(case.tables["dh_node"]["id"])]  # substations' inner ones go
    p_gw = ds["dh_p_pa"].sel(dh_node=kept.to_numpy()).to_numpy()
    assert np.max(np.abs(p_gw - net.res_junction.loc[kept.index, "p_bar"].to_numpy() * 1e5)) <= 1e-3
    t_gw = ds["dh_t_k"].sel(dh_node=kept.to_numpy()).to_numpy()
    assert np.max(np.abs(t_gw - net.res_junction.loc[kept.index, "t_k"].to_numpy())) <= 1e-7


def test_converted_closed_network_solves_as_pandapipes_does():
    # The elements the random-network validation does not have: valves (one shut), a heat exchanger without
    # heat, a flow-only consumer, a pipe with an outer diameter and a minor loss.
    def build(fluid):
        net = closed_net(fluid)
        net.sink.drop(net.sink.index, inplace=True)  # the next test has it
        return net

    case, ds, props, net = _solve_both(build)
    _assert_same_solution(case, ds, props, net)
    # The valve's and the heat exchanger's drops are pandapipes' K rho v^2 / 2 on their diameter.
    for elem, table in (("v_open", "valve"), ("hx0", "heat_exchanger")):
        r = net["res_" + table].loc[net[table].index[net[table]["name"] == elem][0]]
        pipe = by_id(case.tables["dh_pipe"]).loc[elem]
        dp_gw = float(ds["dh_p_pa"].sel(dh_node=pipe["from_node"]) - ds["dh_p_pa"].sel(dh_node=pipe["to_node"]))
        # Loss coefficient only (no friction in pandapipes, so no friction-factor lag): drops of 147 and 45 Pa
        # agree as the flows do (1e-9), but for the 1 um pipe's friction, f L/D / K = 0.02 x 1e-5 / 0.7 = 3e-7.
        assert dp_gw == pytest.approx((r["p_from_bar"] - r["p_to_bar"]) * 1e5, rel=1e-6)


def test_converted_open_network_of_sinks_solves_as_pandapipes_does():
    # The form of pandapipes' OpenModelica and STANET test networks: a 'pt' ext_grid feeding sinks (here
    # through a loop, a valve and pipes losing heat), which leave the net. gigawatt's sinks return to the
    # added plant return node. (A sink in a net fed by a circulation pump does not converge in pandapipes
    # 0.16, whose pump conserves mass.)
    def build(fluid):
        net = pps.create_empty_network(name="open", fluid=fluid)
        j = pps.create_junctions(net, 6, pn_bar=5.0, tfluid_k=350.0, name=[f"a{i}" for i in range(6)])
        pps.create_ext_grid(net, j[0], p_bar=5.0, t_k=358.15, type="pt")
        for a, b, length, d in ((0, 1, 0.3, 150.0), (1, 2, 0.2, 100.0), (1, 3, 0.25, 80.0), (3, 2, 0.15, 80.0),
                                (4, 5, 0.1, 65.0)):
            pps.create_pipe_from_parameters(net, j[a], j[b], length_km=length, inner_diameter_mm=d, k_mm=0.05,
                                            u_w_per_m2k=2.0, text_k=278.15, name=f"p{a}{b}")
        pps.create_valve(net, j[2], j[4], et="ju", inner_diameter_mm=65.0, loss_coefficient=4.0, name="v24")
        pps.create_sinks(net, [j[3], j[2], j[5]], mdot_kg_per_s=[3.0, 4.0, 2.5], scaling=[1.0, 0.5, 1.0],
                         name=["k3", "k2", "k5"])
        return net

    case, ds, props, net = _solve_both(build, mode="sequential")
    assert case.settings["district_heating"]["return_node"] == ic.PLANT_RETURN_ID
    _assert_same_solution(case, ds, props, net)


def test_classic_substations_flow_control_and_heat_exchanger_solve_as_pandapipes_does():
    """The substation pandapipes users built before heat_consumer existed: a flow_control in series with a
    heat_exchanger (either order) through a junction of their own. Each becomes a mass_flow consumer taking
    out the exchanger's heat at the controlled flow (that inner junction is left out); a heat_consumer with
    a flow and a heat converts the same way. Solved by both, they agree as the other converted networks do
    (flows, pressures, temperatures), and every consumer takes out exactly its heat."""
    def build(fluid):
        net = pps.create_empty_network(name="classic", fluid=fluid)
        names = ("s0", "s1", "s2", "m1", "m2", "r0", "r1", "r2")
        j = {n: pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15, name=n) for n in names}
        pps.create_circ_pump_const_pressure(net, j["r0"], j["s0"], p_flow_bar=6.0, plift_bar=2.0, t_flow_k=353.15,
                                            name="plant")
        pipe = dict(k_mm=0.1, u_w_per_m2k=1.5, text_k=283.15)
        for a, b, length, d in (("s0", "s1", 0.4, 125.0), ("s1", "s2", 0.3, 100.0), ("r2", "r1", 0.3, 100.0),
                                ("r1", "r0", 0.4, 125.0)):
            pps.create_pipe_from_parameters(net, j[a], j[b], length_km=length, inner_diameter_mm=d, name=a + b, **pipe)
        pps.create_flow_control(net, j["s1"], j["m1"], controlled_mdot_kg_per_s=2.0, inner_diameter_mm=50.0,
                                name="fc1")
        pps.create_heat_exchanger(net, j["m1"], j["r1"], qext_w=150e3, inner_diameter_mm=50.0, name="hx1")
        pps.create_heat_exchanger(net, j["s2"], j["m2"], qext_w=100e3, inner_diameter_mm=50.0, name="hx2")
        pps.create_flow_control(net, j["m2"], j["r2"], controlled_mdot_kg_per_s=1.2, inner_diameter_mm=50.0,
                                name="fc2")
        pps.create_heat_consumer(net, j["s2"], j["r2"], qext_w=80e3, controlled_mdot_kg_per_s=0.9, name="hc2")
        return net

    case, ds, props, net = _solve_both(build)
    cons = by_id(case.tables["dh_consumer"])
    assert set(cons.index) == {"fc1", "fc2", "hc2"} and (cons["kind"] == "mass_flow").all()
    assert cons.loc["fc1", ["supply_node", "return_node"]].tolist() == ["s1", "r1"]
    assert cons.loc["fc2", ["supply_node", "return_node"]].tolist() == ["s2", "r2"]
    assert cons["demand_w"].to_dict() == {"fc1": 150e3, "fc2": 100e3, "hc2": 80e3}
    assert not {"m1", "m2"} & set(case.tables["dh_node"]["id"])
    np.testing.assert_allclose(ds["dh_consumer_q_w"].sel(dh_consumer=["fc1", "fc2", "hc2"]), [150e3, 100e3, 80e3],
                               rtol=1e-12)
    _assert_same_solution(case, ds, props, net)
    # The substations' outlets are T_in - Q / (m cp); pandapipes' inner junction holds the exchanger's outlet
    # where the exchanger comes first (fc2), the inlet temperature where the flow control does (fc1).
    for name, inlet, mid, q, m in (("fc1", "s1", "m1", 150e3, 2.0), ("fc2", "s2", "m2", 100e3, 1.2)):
        t_in = float(ds["dh_t_k"].sel(dh_node=inlet))
        t_out = float(ds["dh_consumer_t_return_k"].sel(dh_consumer=name))
        assert t_out == pytest.approx(t_in - q / (m * props["cp_j_per_kg_k"]), abs=1e-9)
        t_mid = net.res_junction.at[net.junction.index[net.junction["name"] == mid][0], "t_k"]
        assert t_mid == pytest.approx(t_out if name == "fc2" else t_in, abs=1e-7)


def test_flow_control_not_in_a_substation_is_refused_with_its_reason():
    net = closed_net()
    j = dict(zip(net.junction["name"], net.junction.index))
    mid = pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15, name="mid")
    pps.create_flow_control(net, j["s2"], mid, controlled_mdot_kg_per_s=0.5, name="fc_tee")
    pps.create_heat_exchanger(net, mid, j["r2"], qext_w=1e4, inner_diameter_mm=50.0, name="hx_tee")
    pps.create_pipe_from_parameters(net, mid, j["r3"], length_km=0.05, inner_diameter_mm=50.0, name="tee")
    with pytest.raises(CaseError) as err:
        gw.from_pandapipes(net)
    reasons = {p.name: p.reason for p in err.value.problems}
    assert "in series with one heat exchanger" in reasons["fc_tee"]  # its junction joins a pipe too
    assert "hx_tee" in reasons and "set their own flow" in reasons["hx_tee"]
