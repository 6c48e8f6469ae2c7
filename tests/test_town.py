"""The town builder (``[town]``, :mod:`gigawatt.cases.town`): the network it lays out, the pipes it sizes, the
case file hook and its errors, and the bundled default case's town heated by the campus.

References the numbers are checked against: the pipe catalogue rows (isoplus 2005, AVKO), the district-heating
design rules of thumb (100-200 Pa/m, 0.5-2.5 m/s, steel roughness 0.05 mm; no primary source pinned down)
recomputed with ``fluids`` (Colebrook, Darcy-Weisbach), CoolProp's water, the buried-pipe U-value of DN100 in a
200 mm casing derived from the single-pipe formula (P. Wallentén, Lund Institute of Technology, Report
TVBH-3017, 1991), and conservation laws (mass at every node, the heat ledger). No timing is asserted (the benchmark prints them).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

import gigawatt as gw
from gigawatt.cases.town import (PLANT_NODES, STANDARD_PIPES, build_town, build_town_tables,
                                 standard_pipe_arrays, town_layout)
from gigawatt.errors import CaseError
from gigawatt.models.consumers import home_heat_parameters

SMALL = {"homes": 250, "homes_per_substation": 2, "substations_per_street": 7, "streets_per_district": 4,
         "spines": 2, "vertical_farms": 3}
"""125 substations in 18 streets (the last with 6), 5 districts on 2 spines, 3 farms: every remainder used."""


def _graph(nodes, pipes):
    index = pd.Index(nodes["id"])
    f, t = index.get_indexer(pipes["from_node"]), index.get_indexer(pipes["to_node"])
    assert (f >= 0).all() and (t >= 0).all()
    return index, f, t, sp.coo_matrix((np.ones(f.size), (f, t)), shape=(len(index),) * 2)


# --- layout -------------------------------------------------------------------------------------------

def test_counts_and_names():
    tabs = build_town_tables(SMALL)
    nodes, pipes, cons = tabs["dh_node"], tabs["dh_pipe"], tabs["dh_consumer"]
    nc, n_st, n_d, nf = 125, 18, 5, 3
    # Supply nodes: plant, hub, districts, street junctions, taps, farms; the return network mirrors them.
    assert len(nodes) == 2 * (2 + n_d + n_st + nc + nf)
    # Tree pipes: trunk, a spine segment per district, a main segment per street, a street pipe per tap, a farm
    # branch per farm; ties: between neighbouring streets of a district (4 streets -> 3 ties, 4 districts full,
    # the last has 2 streets -> 1 tie).
    ties = 4 * 3 + 1
    assert len(pipes) == 2 * (1 + n_d + n_st + nc + nf + ties)
    assert len(cons) == nc + nf
    for df in (nodes, pipes, cons):
        assert df["id"].is_unique
    assert cons["n_homes"].sum() == 250 and cons["n_homes"].iloc[nc - 1] == 2  # 250 = 125 x 2
    assert (cons["kind"] == "homes_degree_days").sum() == nc and (cons["kind"] == "vertical_farm").sum() == nf
    assert {"plant-S", "plant-R", "hub-S", "D5-St2-T6-S", "F3-R"} <= set(nodes["id"])
    assert {"trunk-S", "trunk-R", "D1-St1-tie-S", "D5-St2-T6-pipe-R", "F1-branch-S"} <= set(pipes["id"])
    # Every consumer sits between a supply node and its mirror in the return network.
    assert (cons["supply_node"].str[:-2] == cons["return_node"].str[:-2]).all()
    assert cons["supply_node"].str.endswith("-S").all() and cons["return_node"].str.endswith("-R").all()


def test_two_networks_meshed_by_the_ties():
    # Supply and return are separate networks (joined only through the plant and the substations), and each
    # has exactly one independent loop per tie: cycles = pipes - nodes + components (Euler).
    for tie, loops in ((True, 13), (False, 0)):
        tabs = build_town_tables({**SMALL, "tie_streets": tie})
        index, f, t, g = _graph(tabs["dh_node"], tabs["dh_pipe"])
        n_comp, label = csgraph.connected_components(g, directed=False)
        assert n_comp == 2
        supply = label == label[index.get_loc("plant-S")]
        assert supply.sum() == len(index) // 2 and label[index.get_loc("plant-R")] != label[index.get_loc("plant-S")]
        assert all(i.endswith("-S") for i in index[supply])
        assert len(f) - len(index) + n_comp == 2 * loops


def test_return_pipes_point_to_the_plant():
    # Return pipes are the supply pipes reversed: every tree pipe of the return network ends nearer the plant.
    pipes = build_town_tables(SMALL)["dh_pipe"].set_index("id")
    sup = pipes[pipes.index.str.endswith("-S")]
    ret = pipes.loc[sup.index.str[:-2] + "-R"]
    assert (ret["from_node"].str[:-2].to_numpy() == sup["to_node"].str[:-2].to_numpy()).all()
    assert (ret["to_node"].str[:-2].to_numpy() == sup["from_node"].str[:-2].to_numpy()).all()
    for col in ("length_m", "diameter_m", "casing_diameter_m"):
        np.testing.assert_array_equal(ret[col].to_numpy(), sup[col].to_numpy())


def test_design_flows_conserve_mass():
    # Kirchhoff at design: at every supply node, the design flow of the pipe feeding it equals the flows of the
    # tree pipes leaving it plus the design flow of its consumer. Independent of the builder's suffix sums.
    lay = town_layout(SMALL)
    tree = lay.pipe_role != "tie"
    n = lay.node_ids.size
    inflow, outflow, drawn = np.zeros(n), np.zeros(n), np.zeros(n)
    np.add.at(inflow, lay.pipe_to[tree], lay.pipe_design_flow_kg_s[tree])
    np.add.at(outflow, lay.pipe_from[tree], lay.pipe_design_flow_kg_s[tree])
    s, p = lay.settings, lay.plant
    nc = lay.consumer_n_homes.size
    drawn[lay.consumer_node[:nc]] = lay.home_design_w * lay.consumer_n_homes / (
        lay.cp_j_per_kg_k * (p["t_supply_k"] - s["t_return_k"]))
    drawn[lay.consumer_node[nc:]] = lay.farm_design_w / (lay.cp_j_per_kg_k * (p["t_supply_k"] - s["farm_t_return_k"]))
    inner = np.arange(1, n)  # the plant has no inflow
    np.testing.assert_allclose(inflow[inner], outflow[inner] + drawn[inner], rtol=1e-12, atol=0)
    # The trunk carries everything: sum of design demands over cp dT. A detached home: 14 MWh a year less
    # 2.5 x 850 kWh of hot water, over 3009 K d at base 17 C, times 29 K, plus the hot water's 07:00 peak
    # (1.61 of the tapping cycle's 5.845 kWh a day); a farm of 10,000 m2 at U = 0.5 W/(m2 K) plus 0.5 air
    # changes of 4 m (1.2 x 1006 x 0.5 x 4 / 3600 W/(m2 K)) from 22 C to -12 C, lights off.
    dhw_w = 2.5 * 850 * 3.6e6 / (365 * 86400.0)
    home_w = (14e3 - 2.5 * 850) * 3.6e6 / (3009 * 86400.0) * 29.0 + dhw_w * 24 * 1.61 / 5.845
    assert lay.home_design_w == pytest.approx(home_w, rel=1e-12)
    farm_w = (0.5 + 1.2 * 1006 * 0.5 * 4 / 3600) * 1e4 * 34.0
    assert lay.farm_design_w == pytest.approx(farm_w, rel=1e-12)
    assert outflow[0] == pytest.approx(drawn.sum(), rel=1e-12)


def test_design_fluid_is_coolprop_water():
    # The network fluid at the mean of 75 C supply and 40 C return, from CoolProp itself: the registry's water
    # is IAPWS-95 ('HEOS::Water'), taken at the network's pressure (the schema's 2 bar gauge at the plant's
    # return, plus 1 atm: 301,325 Pa, one of the stored pressures). The stored tables interpolate CoolProp on a
    # 0.25 K grid; 1e-6 relative is far above their interpolation error and far below any effect on a pipe size.
    from CoolProp.CoolProp import PropsSI

    from gigawatt.models.coolant import _spec

    lay = town_layout(SMALL)
    t, fluid, p_pa = 0.5 * (348.15 + 313.15), _spec("water").fluid, 301325.0
    assert fluid == "HEOS::Water"
    assert lay.cp_j_per_kg_k == pytest.approx(PropsSI("C", "T", t, "P", p_pa, fluid), rel=1e-6)
    assert lay.density_kg_m3 == pytest.approx(PropsSI("D", "T", t, "P", p_pa, fluid), rel=1e-6)
    assert lay.viscosity_pa_s == pytest.approx(PropsSI("V", "T", t, "P", p_pa, fluid), rel=1e-6)


# --- pipe sizes ---------------------------------------------------------------------------------------

def test_standard_pipes_are_the_catalogue_rows():
    # isoplus design catalogue (2005) table R 2.0: DN100 is 114.3 x 3.6 mm in a 200 mm casing, DN800 813 x 8.8 in
    # 1000 mm; sizes increase, casings enclose the steel.
    std = standard_pipe_arrays()
    assert STANDARD_PIPES[100] == (114.3, 3.6, 200) and STANDARD_PIPES[800] == (813.0, 8.8, 1000)
    i = list(std["dn"]).index(100)
    assert std["inner_m"][i] == pytest.approx(0.1071, rel=1e-12)
    assert (np.diff(std["inner_m"]) > 0).all() and (std["casing_m"] > std["outer_m"]).all()


def _fluids_gradient(m, d, rho, mu, k):
    """Darcy-Weisbach gradient [Pa/m] with fluids' exact Colebrook friction factor (turbulent flow only)."""
    from fluids.friction import friction_factor

    v = m / (rho * math.pi * d * d / 4)
    re = rho * v * d / mu
    return friction_factor(re, k / d, Method="Colebrook") / d * rho * v * v / 2, v, re


def test_capacity_against_fluids():
    # The capacity is where the gradient reaches 100 Pa/m or the velocity 2.5 m/s, whichever comes first.
    # Recomputed with fluids' Colebrook root (a different implementation): 1e-9 relative leaves room for the two
    # friction-factor solvers' rounding (each converged to ~1e-15) amplified by the gradient's f*m^2 form.
    lay = town_layout(SMALL)
    rho, mu = lay.density_kg_m3, lay.viscosity_pa_s
    std = standard_pipe_arrays()
    for d, cap in zip(std["inner_m"], lay.capacity_kg_s):
        grad, v, re = _fluids_gradient(cap, d, rho, mu, 5e-5)
        assert re > 4000  # both tools solve Colebrook here
        assert grad <= 100.0 * (1 + 1e-9) and v <= 2.5 * (1 + 1e-12)
        assert grad == pytest.approx(100.0, rel=1e-9) or v == pytest.approx(2.5, rel=1e-12)
    # Small pipes are limited by the gradient, large ones by the velocity (the design rules of thumb).
    v_cap = lay.capacity_kg_s / (rho * math.pi * std["inner_m"] ** 2 / 4)
    assert v_cap[0] < 1.0 and v_cap[-1] == pytest.approx(2.5, rel=1e-12)


def test_each_pipe_is_the_smallest_that_meets_the_rules():
    # For every tree pipe: at its design flow its size keeps both rules (fluids' gradient, velocity), and the next
    # smaller standard size breaks one of them. Checked where both sizes run turbulent (Re >= 4000), where
    # fluids' Colebrook and ours are the same law.
    # (19.35 kW of space heating a home, the DESTEST house's: it keeps the street pipes turbulent, where the
    # check applies)
    lay = town_layout({**SMALL, "homes": 3000, "homes_per_substation": 1, "substations_per_street": 20,
                       "streets_per_district": 10, "design_load_w": 19350.0})
    rho, mu = lay.density_kg_m3, lay.viscosity_pa_s
    d = standard_pipe_arrays()["inner_m"]
    checked = 0
    for m, i in zip(lay.pipe_design_flow_kg_s[lay.pipe_role != "tie"], lay.pipe_size[lay.pipe_role != "tie"]):
        grad, v, re = _fluids_gradient(m, d[i], rho, mu, 5e-5)
        assert v <= 2.5 * (1 + 1e-12) and (re < 4000 or grad <= 100.0 * (1 + 1e-9))
        if i > 0:
            g_small, v_small, re_small = _fluids_gradient(m, d[i - 1], rho, mu, 5e-5)
            if min(re, re_small) >= 4000:
                assert g_small > 100.0 * (1 - 1e-9) or v_small > 2.5 * (1 - 1e-12)
                checked += 1
    assert checked > 0.9 * (lay.pipe_role != "tie").sum()


def test_ties_take_the_larger_street_end():
    lay = town_layout(SMALL)
    tie = np.flatnonzero(lay.pipe_role == "tie")
    street_end = {int(t): int(s) for s, t in zip(lay.pipe_size[lay.pipe_role == "street"],
                                                lay.pipe_to[lay.pipe_role == "street"])}
    for j in tie:
        assert lay.pipe_size[j] == max(street_end[int(lay.pipe_from[j])], street_end[int(lay.pipe_to[j])])
        assert lay.pipe_design_flow_kg_s[j] == 0.0


def test_trunk_beyond_the_largest_pipe_runs_in_parallel():
    # 60,000 detached homes of 6.37 kW over 35 K: about 2,610 kg/s, beyond one DN800 (about 1,225 kg/s at
    # 2.5 m/s): three parallel trunks (the fewest that can carry it), each the smallest size for its third (DN700).
    lay = town_layout({"homes": 60000, "homes_per_substation": 30})
    trunk = lay.pipe_role == "trunk"
    assert list(lay.pipe_ids[trunk]) == ["trunk", "trunk-2", "trunk-3"]
    share = lay.pipe_design_flow_kg_s[trunk]
    assert 2 * lay.capacity_kg_s[-1] < share.sum() <= 3 * lay.capacity_kg_s[-1]
    size = lay.pipe_size[trunk]
    assert (share <= lay.capacity_kg_s[size]).all() and (share > lay.capacity_kg_s[size - 1]).all()
    assert (standard_pipe_arrays()["dn"][size] == 700).all()
    total = lay.home_design_w * 60000 / (lay.cp_j_per_kg_k * 35.0)
    assert lay.pipe_design_flow_kg_s[trunk].sum() == pytest.approx(total, rel=1e-12)
    tabs = build_town_tables({"homes": 60000, "homes_per_substation": 30})
    assert {"trunk-2-S", "trunk-3-R"} <= set(tabs["dh_pipe"]["id"])


def test_pipe_heat_loss_from_the_catalogue_geometry():
    # A DN100 pipe of the town in its 200 mm casing, PUR 0.027, soil 1.5, 1 m deep: U = 0.277 W/(m K), the
    # figure derived from the single-pipe formula (Wallentén 1991; rounded to 3 digits, hence 5e-4 absolute).
    from gigawatt.solver.district_heating.stage import pipe_u_w_per_m_k

    pipes = gw.make_case(build_town_tables({"homes": 3000}), district_heating=dict(PLANT_NODES)).tables["dh_pipe"]
    dn100 = pipes[np.isclose(pipes["diameter_m"], 0.1071)]
    assert len(dn100)
    np.testing.assert_allclose(pipe_u_w_per_m_k(dn100), 0.277, atol=5e-4)


# --- solved ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def design_hour():
    """A town of 1,200 homes and 2 farms solved alone at its design outdoor temperature."""
    case = build_town(district_heating={"outdoor_t_c": -12}, homes=1200, vertical_farms=2, spines=2)
    return case, gw.solve(case)


def test_no_consumer_under_supplied_at_design(design_hour):
    case, ds = design_hour
    assert ds.attrs["dh_undersupplied"] == 0
    cons = case.tables["dh_consumer"]
    drawing = ds.dh_consumer_demand_w.values > 0  # a substation without demand draws no water
    assert (ds.dh_consumer_t_supply_k.values >= cons["t_supply_min_k"].to_numpy())[drawing].all()
    # Every substation gets its demand: at the design temperature and the steady hour (07:00, the hot water's
    # peak) the design load of its homes (space heating and the peak hour's hot water: the model's own
    # definition); the farms are lit at 07:00, so cooling-dominated: no heat. 1e-9 relative is the fixed
    # point's stopping rule (1e-10 of the flows) with margin.
    homes = (cons["kind"] == "homes_degree_days").to_numpy()
    design = home_heat_parameters("detached")["design_load_w"]
    np.testing.assert_allclose(ds.dh_consumer_demand_w.values[homes], design * cons["n_homes"][homes], rtol=1e-12)
    assert (ds.dh_consumer_demand_w.values[~homes] == 0).all() and ds.attrs["vertical_farm_area_served_m2"] == 0
    np.testing.assert_allclose(ds.dh_consumer_q_w.values, ds.dh_consumer_demand_w.values, rtol=1e-9)


def test_mass_balance_and_heat_ledger(design_hour):
    case, ds = design_hour
    nodes, pipes, cons = case.tables["dh_node"], case.tables["dh_pipe"], case.tables["dh_consumer"]
    index, f, t, _ = _graph(nodes, pipes)
    net = np.zeros(len(index))
    m = ds.dh_pipe_flow_kg_s.values
    np.add.at(net, t, m)
    np.add.at(net, f, -m)
    q = ds.dh_consumer_flow_kg_s.values
    np.add.at(net, index.get_indexer(cons["supply_node"]), -q)
    np.add.at(net, index.get_indexer(cons["return_node"]), q)
    plant = index.get_indexer([PLANT_NODES["supply_node"], PLANT_NODES["return_node"]])
    free = np.setdiff1d(np.arange(len(index)), plant)
    # The Global Gradient solve closes the node balances to rounding of flows up to ~150 kg/s.
    assert np.max(np.abs(net[free])) < 1e-9
    assert net[plant[0]] == pytest.approx(-q.sum(), rel=1e-12) and net[plant[1]] == pytest.approx(q.sum(), rel=1e-12)
    # Heat in at the plant = delivered + lost to the ground (the stage's ledger, checked independently here).
    q_loss = ds.dh_pipe_loss_w.values.sum()
    assert ds.attrs["dh_q_plant_w"] == pytest.approx(ds.dh_consumer_q_w.values.sum() + q_loss, rel=1e-9)
    # Losses: positive, and below what every pipe would lose were all its water at the plant's supply
    # temperature, sum U L (T_supply - T_ground) (no water in the network is hotter). About 7 % of the heat at
    # design (buried pre-insulated pipes, a 2 km trunk, 6.4 kW a home).
    from gigawatt.solver.district_heating.stage import pipe_u_w_per_m_k

    s = case.settings["district_heating"]
    bound = float((pipe_u_w_per_m_k(pipes) * pipes["length_m"]).sum()) * (s["t_supply_k"] - s["ground_t_k"])
    assert 0.0 < q_loss < bound and q_loss < 0.1 * ds.attrs["dh_q_plant_w"]


def test_design_velocities_and_worst_consumer(design_hour):
    case, ds = design_hour
    # At the design hour flows are the design flows, give or take the heat lost on the way (a few kelvin of a
    # 35 K drop: under 10 %) and the ties' share: velocities stay under the 2.5 m/s rule with that margin.
    assert np.nanmax(np.abs(ds.dh_pipe_velocity_m_s.values)) < 2.5 * 1.1
    # The pump holds 0.5 bar at the worst-placed substation (the [district_heating] default dp_min_pa).
    cons = case.tables["dh_consumer"]
    index = pd.Index(case.tables["dh_node"]["id"])
    p = ds.dh_p_pa.values
    dp = p[index.get_indexer(cons["supply_node"])] - p[index.get_indexer(cons["return_node"])]
    assert dp.min() == pytest.approx(5e4, rel=1e-9)


# --- case file hook, builder API, errors ---------------------------------------------------------------

def _write(tmp_path, text):
    path = tmp_path / "town.toml"
    path.write_text(text)
    return path


def test_toml_town_matches_the_builder(tmp_path):
    path = _write(tmp_path, """
[town]
homes = 250
homes_per_substation = 2
substations_per_street = 7
streets_per_district = 4
spines = 2
vertical_farms = 3
trunk_length_km = 1.5

[district_heating]
outdoor_t_c = -12
""")
    case = gw.load_case(path)
    ref = build_town_tables({**SMALL, "trunk_length_m": 1500.0})
    for name, df in ref.items():
        assert len(case.tables[name]) == len(df)
        np.testing.assert_array_equal(case.tables[name]["id"].to_numpy(), df["id"].to_numpy())
    pipes = case.tables["dh_pipe"].set_index("id")
    assert pipes.loc["trunk-S", "length_m"] == 1500.0
    s = case.settings["district_heating"]
    assert (s["supply_node"], s["return_node"]) == ("plant-S", "plant-R")
    assert s["outdoor_t_k"] == pytest.approx(261.15, abs=1e-12)
    ds = gw.solve(case)
    assert ds.sizes["dh_consumer"] == 128 and ds.attrs["dh_undersupplied"] == 0


def test_toml_town_without_plant_section_and_with_extra_consumer(tmp_path):
    # No [district_heating]: the plant takes its defaults; an explicit consumer is added to the generated ones.
    path = _write(tmp_path, """
[town]
homes = 40

[[dh_consumer]]
id = "school"
supply_node = "hub-S"
return_node = "hub-R"
kind = "fixed"
demand_kw = 300
""")
    case = gw.load_case(path)
    assert case.tables["dh_consumer"]["id"].iloc[-1] == "school" and len(case.tables["dh_consumer"]) == 41
    ds = gw.solve(case)
    assert float(ds.dh_consumer_q_w.sel(dh_consumer="school")) == pytest.approx(3e5, rel=1e-9)


@pytest.mark.parametrize("town, field, fragment", [
    ({"homes": 0}, "homes", "out of range"),
    ({"homes": 10, "house_count": 3}, "house_count", "unknown field"),
    ({"homes": 10, "t_return_c": 80}, "t_return_k", "colder than the plant"),
    ({"homes": 10, "farm_t_return_c": 76, "vertical_farms": 1}, "farm_t_return_k", "colder than the plant"),
    ({"homes": 10, "substation_spacing_m": -5}, "substation_spacing_m", "out of range"),
    ({"homes": 10, "t_design_c": 20}, "t_design_k", ""),  # above the homes' 15 C heating limit
])
def test_bad_town_input_names_the_field(tmp_path, town, field, fragment):
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in town.items())
    path = _write(tmp_path, f"[town]\n{lines}\n")
    with pytest.raises(CaseError) as err:
        gw.load_case(path)
    e = err.value
    assert e.file == str(path) and e.element == "[town]" and e.field == field
    assert fragment in str(e)


def test_plant_node_that_does_not_exist(tmp_path):
    path = _write(tmp_path, '[town]\nhomes = 10\n\n[district_heating]\nsupply_node = "nowhere"\n')
    with pytest.raises(CaseError) as err:
        gw.load_case(path)
    assert err.value.field == "supply_node" and err.value.value == "nowhere"


def test_build_town_with_a_campus():
    # The campus's reusable heat feeds the town through heat pumps; what they take from the campus is what the
    # cooling ledger recovers (first law at the heat-pump evaporators: heat - electricity).
    campus = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130, cooling={})
    case = build_town(campus=campus, homes=30)
    assert len(case.tables["rack"]) == 8 and len(case.tables["dh_consumer"]) == 30
    ds = gw.solve(case)
    a = ds.attrs
    assert a["q_from_campus_w"] > 0
    assert a["q_from_campus_w"] == pytest.approx(a["hp_heat_w"] - a["hp_electric_w"], rel=1e-12)
    assert a["q_recovered_w"] == pytest.approx(a["q_from_campus_w"], rel=1e-12)


# --- the bundled default case ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    case = gw.load_case()
    return case, gw.solve(case)


def test_bundled_case_heats_a_town(bundled):
    case, ds = bundled
    cons = case.tables["dh_consumer"]
    a = ds.attrs
    # A town of 6,000 homes (Hoeje-Taastrup's size: VEKS press release, 5 Mar 2024,
    # https://www.veks.dk/fokus/projekter-og-aktiviteter/overskudsvarme-microsoft) and four vertical farms,
    # at its design hour.
    assert cons["n_homes"][cons["kind"] == "homes_degree_days"].sum() == 6000
    assert (cons["kind"] == "vertical_farm").sum() == 4
    assert case.settings["district_heating"]["outdoor_t_k"] == pytest.approx(261.15, abs=1e-12)
    assert a["dh_undersupplied"] == 0 and "under" not in a.get("warnings", "")
    # The [cooling] section no longer asks for a fixed recovery: the plant sets it.
    assert case.settings["cooling"]["recovery_demand_w"] == 0.0
    assert 0 < a["q_recovered_w"] <= a["q_available_w"]
    # Heat pumps at the Carnot fraction 0.5 with 3 K approaches, lifting from the 32 C facility supply (W32) to
    # 75 C: COP = 0.5 (348.15 + 3) / ((348.15 + 3) - (305.15 - 3)) (the Carnot-fraction model, closed form).
    assert a["hp_cop"] == pytest.approx(0.5 * 351.15 / (351.15 - 302.15), rel=1e-12)
    # Unlimited heat-pump capacity: the boiler covers only what the campus's heat cannot, which is nothing when
    # the heat pumps could deliver more than the plant needs (available heat x COP / (COP - 1)).
    reach = a["q_available_w"] * a["hp_cop"] / (a["hp_cop"] - 1)
    assert a["dh_q_plant_w"] < reach and a["boiler_heat_w"] == 0.0
    # ISO/IEC 30134-6 ERF = energy reused / data-centre energy.
    assert a["erf"] == pytest.approx(a["q_recovered_w"] / a["p_facility_w"], rel=1e-12)
    assert a["dh_heat_balance_residual"] < 1e-9


def test_farms_take_heat_only_in_their_dark_hours():
    """At -12 degC the farms take heat with their lights off (03:00: envelope and ventilation loss, 10,000 m2
    each) and none lit (12:00: their LEDs' 370 W/m2 exceed it); the summary counts a farm as served by heat
    only when it takes heat, and says the farm model is an illustrative assumption."""
    from gigawatt.summary import district_heating_lines

    for hour, served in ((3.0, 2e4), (12.0, 0.0)):
        case = build_town(district_heating={"outdoor_t_c": -12, "hour_of_day": hour}, homes=40, vertical_farms=2)
        ds = gw.solve(case)
        farms = ds.dh_consumer_kind.values == "vertical_farm"
        vent = 1.2 * 1006 * 0.5 * 4 / 3600
        expected = (0.5 + vent) * 1e4 * 34.0 if hour == 3.0 else 0.0
        np.testing.assert_allclose(ds.dh_consumer_demand_w.values[farms], expected, rtol=1e-12)
        assert ds.attrs["vertical_farm_area_served_m2"] == served and ds.attrs["vertical_farm_area_m2"] == 2e4
        text = "\n".join(district_heating_lines(ds))
        assert f"{served:,.0f} of 20,000 m² take heat at this hour (illustrative assumption" in text
        assert "homes' worth" in text and "campus heat at this hour's rate held for a year" in text
