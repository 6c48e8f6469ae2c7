"""Issue 14: ``from_pandapipes`` converts what it refused without need, and the converted networks solve as
pandapipes' own pipeflow does.

- Heights in a network where every consumer holds its flow change pressures, not flows or temperatures:
  gigawatt's pressure is pandapipes' plus ρ g (h − h_plant) plus the atmosphere's change over that height
  (pandapipes' pressures are gauge to the local atmosphere, by the barometric formula), stated in the case's
  description. Refused only where a height difference lies between the plant's two held pressures on a path
  of pipes (it would drive a flow).
- Pipes of length 0 become 1 µm pipes without heat loss or roughness, keeping their loss coefficient: what
  pandapipes computes for them (its friction λL/D and its heat loss vanish with L); their junctions are kept.
- A sink behind a heat exchanger holds the exchanger's flow: a ``mass_flow`` consumer with the exchanger's
  heat.
- Supply water above 100 °C converts where the plant's pressure keeps it liquid (gigawatt's water is stored
  to 423.15 K with its saturation pressure); where it would boil, a CaseError says so.

Reference: pandapipes' pipeflow on the same nets. Run with gigawatt's constant water properties (as the
random-network validation case dh_crosscode_pandapipes_random does), the two agree as two solvers of the same
equations do: flows to 1e-9 of the largest, temperatures to 1e-7 K, pressures to 0.01 Pa (measured on
Schutterwald: 3e-14 kg/s, 4e-13 K, 1.3 mPa, the last pandapipes' convergence at its tol_res of 1e-6). Run with
pandapipes' own water, whose heat capacity differs from gigawatt's by up to a few tenths of a per cent,
temperatures differ by at most that fraction of the largest temperature drop (the exponential solution and
each consumer's drop q/(m cp) scale with 1/cp).
"""
from __future__ import annotations

import logging
import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt import interchange as ic
from gigawatt.errors import CaseError

pps = pytest.importorskip("pandapipes")
logging.getLogger("pandapipes").setLevel(logging.ERROR)

from gigawatt.validation.dh_checks import fluid_properties  # noqa: E402  (after the pandapipes skip)

PIPEFLOW = dict(friction_model="colebrook", tol_p=1e-10, tol_m=1e-10, tol_T=1e-9, tol_res=1e-6, max_iter_hyd=300,
                max_iter_therm=200, max_iter_bidirect=200, tolerance_colebrook=1e-14, max_iter_colebrook=100,
                use_numba=False)


def constant_water(ds, case):
    props = fluid_properties(ds, case)
    return props, pps.create_constant_fluid(name="gw", fluid_type="liquid", density=props["density_kg_m3"],
                                            viscosity=props["viscosity_pa_s"], heat_capacity=props["cp_j_per_kg_k"])


def pressure_shift_pa(net, rho):
    """What gigawatt's pressure adds to pandapipes' at each junction [Pa] (module notes), with pandapipes' own
    gravity and barometric formula."""
    from pandapipes.component_models.component_toolbox import p_correction_height_air
    from pandapipes.constants import GRAVITATION_CONSTANT

    off = ic.hydrostatic_offsets_m(net).reindex(net.junction.index).to_numpy()
    h = net.junction["height_m"].fillna(0.0).to_numpy(float)
    air = (p_correction_height_air(h) - p_correction_height_air(h - off)) * 1e5
    return rho * GRAVITATION_CONSTANT * off + air


def assert_same(net, case, ds, rho, kept=None):
    """Flows, temperatures and (shifted) pressures of every pipe and kept junction against pandapipes'."""
    ids = ic.pandapipes_ids(net)
    m_gw = ds["dh_pipe_flow_kg_s"].sel(dh_pipe=ids["pipe"].to_numpy()).to_numpy()
    m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()
    assert np.max(np.abs(m_gw - m_pp)) <= 1e-9 * np.max(np.abs(m_pp))
    junctions = ids["junction"][ids["junction"].isin(case.tables["dh_node"]["id"])] if kept is None else kept
    t_gw = ds["dh_t_k"].sel(dh_node=junctions.to_numpy()).to_numpy()
    assert np.max(np.abs(t_gw - net.res_junction.loc[junctions.index, "t_k"].to_numpy())) <= 1e-7
    p_gw = ds["dh_p_pa"].sel(dh_node=junctions.to_numpy()).to_numpy()
    p_pp = net.res_junction.loc[junctions.index, "p_bar"].to_numpy() * 1e5
    shift = pressure_shift_pa(net, rho)[net.junction.index.get_indexer(junctions.index)]
    assert np.max(np.abs(p_gw - (p_pp + shift))) <= 1e-2


# --- Schutterwald, the heat network bundled with pandapipes -------------------------------------------------

@pytest.fixture(scope="module")
def schutterwald():
    from pandapipes.networks import schutterwald_heat

    net = schutterwald_heat()
    case = gw.from_pandapipes(net)
    return net, case, gw.solve(case)


def test_schutterwald_converts_with_its_heights_and_zero_length_pipes(schutterwald):
    """It was refused for a 2.7 m height spread and for 68 pipes of length 0."""
    net, case, ds = schutterwald
    zero = net.pipe.index[net.pipe["length_km"] == 0.0]
    assert len(zero) == 68 and net.junction["height_m"].max() - net.junction["height_m"].min() > 2.7
    pipes = case.tables["dh_pipe"].set_index("id")
    short = pipes.loc[ic.pandapipes_ids(net)["pipe"][zero].to_numpy()]
    assert (short["length_m"] == ic.VALVE_LENGTH_M).all() and (short["u_w_per_m_k"] == 0.0).all()
    assert len(case.tables["dh_node"]) == len(net.junction)  # no junction merged away
    text = case.settings["case"]["description"]
    assert "Junction heights 147.72 to 150.43 m" in text and "flows and temperatures are unchanged" in text
    assert ds.attrs["dh_heat_balance_residual"] <= 1e-9


def test_schutterwald_solves_as_pandapipes_with_the_same_water(schutterwald):
    net, case, ds = schutterwald
    props, fluid = constant_water(ds, case)
    from pandapipes.networks import schutterwald_heat

    ref = schutterwald_heat()
    ref.fluid = fluid
    pps.pipeflow(ref, mode="sequential", **PIPEFLOW)
    assert_same(ref, case, ds, props["density_kg_m3"])
    # every heat consumer's outlet: its inlet less q / (m cp), in both
    out = ds["dh_consumer_t_return_k"].sel(dh_consumer=ic.pandapipes_ids(ref)["heat_consumer"].to_numpy())
    np.testing.assert_allclose(out, ref.res_heat_consumer["t_outlet_k"], rtol=0, atol=1e-7)


def test_schutterwald_solves_as_pandapipes_with_its_own_water(schutterwald):
    """Against pandapipes' own (temperature-dependent) water: flows as before; temperatures within the
    relative difference of the two heat capacities times the largest temperature drop (measured 0.045 K)."""
    net, case, ds = schutterwald
    from pandapipes.networks import schutterwald_heat

    ref = schutterwald_heat()
    pps.pipeflow(ref, mode="sequential", **PIPEFLOW)
    ids = ic.pandapipes_ids(ref)
    m_gw = ds["dh_pipe_flow_kg_s"].sel(dh_pipe=ids["pipe"].to_numpy()).to_numpy()
    assert np.max(np.abs(m_gw - ref.res_pipe["mdot_from_kg_per_s"].to_numpy())) <= 1e-9 * 14.35
    t_pp = ref.res_junction["t_k"].to_numpy()
    t_gw = ds["dh_t_k"].sel(dh_node=ids["junction"].to_numpy()).to_numpy()
    t_sup = case.settings["district_heating"]["t_supply_k"]
    flowing = t_pp > ref.pipe["text_k"].min() + 1e-6  # junctions without flow sit at the ambient in both
    cp_gw = fluid_properties(ds, case)["cp_j_per_kg_k"]
    t_grid = np.linspace(t_pp[flowing].min(), t_sup, 50)
    cp_pp = np.array([float(np.asarray(ref.fluid.get_property("heat_capacity", t)).ravel()[0]) for t in t_grid])
    tol = np.max(np.abs(cp_pp / cp_gw - 1.0)) * (t_sup - t_pp[flowing].min())
    assert 0.01 < tol < 0.5  # a few tenths of a per cent of some 30 K
    assert np.max(np.abs(t_gw - t_pp)[flowing]) <= tol


# --- heights, small nets ------------------------------------------------------------------------------------

def closed_hilly_net(fluid="water", return_height=0.0):
    """Plant r0 -> s0 (6 bar, 2.5 bar lift, 80 degC); supply s0-s1-s2, return r2-r1-r0; consumers s1->r1 and
    s2->r2 (qext, treturn); the streets climb 25 m."""
    net = pps.create_empty_network(name="hilly", fluid=fluid)
    heights = {"s0": 0.0, "s1": 12.0, "s2": 25.0, "r0": return_height, "r1": 12.0, "r2": 25.0}
    j = {n: pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15, height_m=h, name=n) for n, h in heights.items()}
    pps.create_circ_pump_const_pressure(net, j["r0"], j["s0"], p_flow_bar=6.0, plift_bar=2.5, t_flow_k=353.15,
                                        name="plant")
    for a, b, length in (("s0", "s1", 0.4), ("s1", "s2", 0.3), ("r2", "r1", 0.3), ("r1", "r0", 0.4)):
        pps.create_pipe_from_parameters(net, j[a], j[b], length_km=length, inner_diameter_mm=100.0, k_mm=0.1,
                                        u_w_per_m2k=1.0, text_k=283.15, name=a + b)
    pps.create_heat_consumer(net, j["s1"], j["r1"], qext_w=300e3, treturn_k=318.15, name="c1")
    pps.create_heat_consumer(net, j["s2"], j["r2"], qext_w=200e3, treturn_k=313.15, name="c2")
    return net


def solve_both(build, mode="bidirectional"):
    case = gw.from_pandapipes(build("water"))
    ds = gw.solve(case)
    props, fluid = constant_water(ds, case)
    net = build(fluid)
    pps.pipeflow(net, mode=mode, **PIPEFLOW)
    return net, case, ds, props


def test_heights_in_a_closed_network_shift_pressures_only():
    """25 m of climb: flows and temperatures as pandapipes', pressures pandapipes' plus the shift (about
    2.4 bar at the top); the same flows as the flat network's."""
    net, case, ds, props = solve_both(closed_hilly_net)
    assert_same(net, case, ds, props["density_kg_m3"])
    flat = gw.solve(gw.from_pandapipes(_flat(closed_hilly_net())))
    np.testing.assert_array_equal(ds.dh_pipe_flow_kg_s.values, flat.dh_pipe_flow_kg_s.values)
    np.testing.assert_array_equal(ds.dh_t_k.values, flat.dh_t_k.values)
    shift = pressure_shift_pa(net, props["density_kg_m3"])
    assert shift.max() > 2e5


def _flat(net):
    net.junction["height_m"] = 0.0
    return net


def test_heights_that_would_drive_a_flow_are_refused():
    """An open net whose pressure-only ext_grid (the plant's return) sits 10 m above the supply one on a path
    of pipes: the height difference acts between the two pressures the plant holds."""
    net = pps.create_empty_network(name="slope", fluid="water")
    a, b, c = (pps.create_junction(net, pn_bar=5.0, tfluid_k=353.15, height_m=h, name=n)
               for n, h in (("a", 0.0), ("b", 5.0), ("c", 10.0)))
    pps.create_ext_grid(net, a, p_bar=5.0, t_k=353.15, type="pt", name="supply")
    pps.create_ext_grid(net, c, p_bar=4.0, type="p", name="return")
    for x, y in ((a, b), (b, c)):
        pps.create_pipe_from_parameters(net, x, y, length_km=0.2, inner_diameter_mm=100.0, k_mm=0.1)
    pps.create_sink(net, b, mdot_kg_per_s=1.0)
    with pytest.raises(CaseError) as err:
        gw.from_pandapipes(net)
    assert {(p.table, p.name) for p in err.value.problems} == {("junction", "a"), ("junction", "c")}
    assert all("would drive a flow" in p.reason for p in err.value.problems)
    net.junction["height_m"] = 3.0  # one height: converts
    gw.from_pandapipes(net)


# --- zero-length pipes, a sink behind a heat exchanger ----------------------------------------------------

def open_net(fluid="water", zero_length=True, exchanger=True):
    """ext_grid at a0 (85 degC, 5 bar) -> a1 -> a2 -> [heat exchanger, 120 kW] -> b -> sink of 2 kg/s; a1 -> a3
    -> sink of 3 kg/s; a zero-length pipe (with a loss coefficient) between a2 and a2z."""
    net = pps.create_empty_network(name="open", fluid=fluid)
    j = {n: pps.create_junction(net, pn_bar=5.0, tfluid_k=350.0, name=n) for n in ("a0", "a1", "a2", "a2z", "b", "a3")}
    pps.create_ext_grid(net, j["a0"], p_bar=5.0, t_k=358.15, type="pt")
    pipe = dict(k_mm=0.05, u_w_per_m2k=2.0, text_k=278.15)
    pps.create_pipe_from_parameters(net, j["a0"], j["a1"], length_km=0.3, inner_diameter_mm=100.0, name="p01", **pipe)
    pps.create_pipe_from_parameters(net, j["a1"], j["a2"], length_km=0.2, inner_diameter_mm=80.0, name="p12", **pipe)
    pps.create_pipe_from_parameters(net, j["a1"], j["a3"], length_km=0.2, inner_diameter_mm=80.0, name="p13", **pipe)
    pps.create_pipe_from_parameters(net, j["a2"], j["a2z"], length_km=0.0 if zero_length else 0.05,
                                    inner_diameter_mm=80.0, loss_coefficient=2.0, name="zero", **pipe)
    if exchanger:
        pps.create_heat_exchanger(net, j["a2z"], j["b"], qext_w=120e3, inner_diameter_mm=80.0, loss_coefficient=1.0,
                                  name="hx")
        pps.create_sink(net, j["b"], mdot_kg_per_s=2.0, name="k_hx")
    else:
        pps.create_sink(net, j["a2z"], mdot_kg_per_s=2.0, name="k_hx")
    pps.create_sink(net, j["a3"], mdot_kg_per_s=3.0, name="k3")
    return net


def test_zero_length_pipe_and_sink_behind_an_exchanger_solve_as_pandapipes():
    net, case, ds, props = solve_both(open_net, mode="sequential")
    cons = case.tables["dh_consumer"].set_index("id")
    assert cons.loc["k_hx", ["supply_node", "return_node", "kind", "mass_flow_kg_s", "demand_w"]].tolist() == \
        ["a2z", ic.PLANT_RETURN_ID, "mass_flow", 2.0, 120e3]
    assert "b" not in set(case.tables["dh_node"]["id"])  # the junction between exchanger and sink
    zero = case.tables["dh_pipe"].set_index("id").loc["zero"]
    assert zero["length_m"] == ic.VALVE_LENGTH_M and zero["k_minor"] == 2.0 and zero["u_w_per_m_k"] == 0.0
    assert_same(net, case, ds, props["density_kg_m3"])
    # the exchanger's outlet: pandapipes' junction b, gigawatt's consumer outlet, both T_in − q / (m cp)
    t_b = net.res_junction.at[net.junction.index[net.junction["name"] == "b"][0], "t_k"]
    t_in = float(ds.dh_t_k.sel(dh_node="a2z"))
    out = float(ds.dh_consumer_t_return_k.sel(dh_consumer="k_hx"))
    assert out == pytest.approx(t_in - 120e3 / (2.0 * props["cp_j_per_kg_k"]), abs=1e-9)
    assert out == pytest.approx(t_b, abs=1e-7)
    # the zero-length pipe: no heat lost, pandapipes' K ρ v²/2 as its pressure drop
    assert float(ds.dh_t_k.sel(dh_node="a2z")) == float(ds.dh_t_k.sel(dh_node="a2"))
    v = 2.0 / (props["density_kg_m3"] * math.pi * 0.04 ** 2)
    dp = float(ds.dh_p_pa.sel(dh_node="a2") - ds.dh_p_pa.sel(dh_node="a2z"))
    assert dp == pytest.approx(2.0 * props["density_kg_m3"] * v * v / 2, rel=1e-5)  # + a 1 µm pipe's f L/D


# --- above 100 °C ---------------------------------------------------------------------------------------------

def hot_net(fluid="water", p_flow_bar=6.0, lift_bar=2.5):
    """closed_hilly_net, flat, at 130 °C supply with consumers returning at 90 and 95 °C: the property
    temperature (the mean of supply and returns) is above 100 °C."""
    net = _flat(closed_hilly_net(fluid))
    net.circ_pump_pressure[["t_flow_k", "p_flow_bar", "plift_bar"]] = [403.15, p_flow_bar, lift_bar]
    net.heat_consumer["treturn_k"] = [363.15, 368.15]
    return net


def test_supply_above_100_c_converts_where_the_pressure_keeps_it_liquid():
    """130 °C, the plant's return at 3.5 bar gauge (4.5 bar absolute: water boils at 148 °C there): it converts
    and solves as pandapipes does."""
    net, case, ds, props = solve_both(hot_net)
    assert props["t_k"] > 373.15
    assert_same(net, case, ds, props["density_kg_m3"])


def test_supply_that_would_boil_is_refused():
    """130 °C with the return held at 0.5 bar gauge (1.5 bar absolute: water boils at 111.6 °C): a CaseError
    naming t_supply_k and the boiling temperature at that pressure."""
    case = gw.from_pandapipes(hot_net(p_flow_bar=1.0, lift_bar=0.5))
    with pytest.raises(CaseError) as err:
        gw.solve(case)
    assert err.value.field == "t_supply_k" and "boiling temperature at 151325 Pa" in str(err.value)


def test_boiling_limit_at_a_pressure_against_coolprop():
    """The stored water table's boiling limit at a pressure (ln p_sat interpolated between grid points 0.25 K
    apart) against CoolProp's saturation temperature: within 1e-3 K (measured 3e-5 K)."""
    from gigawatt.models.coolant import coolant_limits
    from gigawatt.models.coolant_store import stored_table

    for p in (1.5e5, 2e5, 3.01325e5, 4.5e5):
        assert stored_table("water", p).limits.t_high_k == pytest.approx(coolant_limits("water", p).t_boil_k, abs=1e-3)
    top = stored_table("water", 1e6).limits
    assert top.t_high_k == pytest.approx(423.15, abs=0.25) and "stored table" in top.high_reason
