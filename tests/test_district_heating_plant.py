"""The district-heating plant's equipment (issue 4, "The physics: Interface" and "Network: pumps with
head-flow curves"), each against a hand calculation:

- heat pumps from a manufacturer map (``hp_model = "map"``): the COP at map points is the table's, between
  them the bilinear mean written out here; the first law and the capacity split as with the Carnot model;
  points outside the map raise (naming the temperature and the range) or clip to the edge; a map that is
  not a full grid, has a duplicate point or too few points is refused naming the point;
- the network pump on a head curve H = H0 n^2 - b Q^2: the speed from the affinity laws solved by hand,
  n = sqrt((H + b Q^2) / H0), its power rho g Q H / eta with eta constant or the parabola through the
  best-efficiency point; a pump too weak for the lift is refused naming pump_h0_m and the head it needs.
"""
from __future__ import annotations

import math

import pytest

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.consumers import home_heat_parameters
from gigawatt.solver.district_heating.stage import HeatOffer, solve_district_heating

GRAVITY = 9.80665  # standard gravity [m/s^2] (the value the pump's head is defined with)

# A map like a manufacturer's: source outlet 30 / 40 degC x sink 60 / 80 degC.
MAP = [dict(id="a", t_source_out_k=303.15, t_sink_k=333.15, cop=4.5),
       dict(id="b", t_source_out_k=303.15, t_sink_k=353.15, cop=3.0),
       dict(id="c", t_source_out_k=313.15, t_sink_k=333.15, cop=5.6),
       dict(id="d", t_source_out_k=313.15, t_sink_k=353.15, cop=3.6)]


def network(map_rows=MAP, **settings):
    """Plant S/R, 1 km of DN100 out and back to one 400 kW consumer."""
    pipes = [dict(id="s1", from_node="S", to_node="A", length_m=1000.0, diameter_m=0.1, u_w_per_m_k=0.3),
             dict(id="r1", from_node="Ar", to_node="R", length_m=1000.0, diameter_m=0.1, u_w_per_m_k=0.3)]
    tables = {"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")], "dh_pipe": pipes,
              "dh_consumer": [dict(id="c", supply_node="A", return_node="Ar", kind="fixed", demand_w=4e5)]}
    if map_rows is not None:
        tables["dh_heat_pump_map"] = map_rows
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R", **settings})


def offer(t_source_out_k, q_available_w=1e7):
    return HeatOffer(q_available_w=q_available_w, t_source_k=t_source_out_k + 10.0, t_source_min_k=t_source_out_k)


# --- heat pumps from a manufacturer map ---------------------------------------------------------------

@pytest.mark.parametrize("t_source, t_sink, cop", [
    pytest.param(303.15, 333.15, 4.5, id="map-point-a"),
    pytest.param(313.15, 353.15, 3.6, id="map-point-d"),
    pytest.param(308.15, 343.15, (4.5 + 3.0 + 5.6 + 3.6) / 4, id="cell-centre-mean-of-corners"),
    # a quarter of the way in source, three quarters in sink: weights (3/4, 1/4) x (1/4, 3/4)
    pytest.param(305.65, 348.15, 0.75 * (0.25 * 4.5 + 0.75 * 3.0) + 0.25 * (0.25 * 5.6 + 0.75 * 3.6),
                 id="bilinear-off-centre"),
])
def test_map_cop_is_the_table_at_its_points_and_bilinear_between(t_source, t_sink, cop):
    st = solve_district_heating(network(hp_model="map", t_supply_k=t_sink), offer(t_source))
    f = st.figures
    assert f["hp_cop"] == pytest.approx(cop, rel=1e-14)
    assert f["hp_heat_w"] == pytest.approx(f["dh_q_plant_w"], rel=1e-14)  # plenty of campus heat: all by HP
    assert f["hp_electric_w"] == pytest.approx(f["hp_heat_w"] / cop, rel=1e-14)
    assert f["q_from_campus_w"] == pytest.approx(f["hp_heat_w"] - f["hp_electric_w"], rel=1e-14)
    assert f["boiler_heat_w"] == pytest.approx(0.0, abs=1e-6)


def test_map_limited_by_campus_heat_splits_as_the_first_law_says():
    """Little campus heat: the heat pumps deliver available x COP / (COP - 1), the boiler the rest."""
    st = solve_district_heating(network(hp_model="map", t_supply_k=333.15), offer(303.15, q_available_w=1e5))
    f = st.figures
    assert f["hp_heat_w"] == pytest.approx(1e5 * 4.5 / 3.5, rel=1e-14)
    assert f["boiler_heat_w"] == pytest.approx(f["dh_q_plant_w"] - f["hp_heat_w"], rel=1e-12)


@pytest.mark.parametrize("t_source, t_sink, field, value", [
    pytest.param(298.15, 343.15, "t_source_out_k", 298.15, id="source-colder-than-the-map"),
    pytest.param(308.15, 363.15, "t_sink_k", 363.15, id="sink-hotter-than-the-map"),
])
def test_point_outside_the_map_raises_naming_temperature_and_range(t_source, t_sink, field, value):
    with pytest.raises(CaseError) as info:
        solve_district_heating(network(hp_model="map", t_supply_k=t_sink), offer(t_source))
    err = info.value
    assert (err.element, err.field, err.value) == ("dh_heat_pump_map", field, value)
    assert "outside the heat-pump map" in str(err) and "hp_out_of_map = clip" in str(err)


def test_point_outside_the_map_clips_to_its_edge_when_asked():
    """Sink 90 degC above the map's 80, source 35 degC inside: the COP on the 80 degC edge, between 3.0
    and 3.6."""
    st = solve_district_heating(network(hp_model="map", hp_out_of_map="clip", t_supply_k=363.15), offer(308.15))
    assert st.figures["hp_cop"] == pytest.approx(0.5 * (3.0 + 3.6), rel=1e-14)


@pytest.mark.parametrize("rows, element, field, words", [
    pytest.param(MAP[:3], "dh_heat_pump_map", "hp_model", "at least 2 source x 2 sink", id="too-few-points"),
    pytest.param(MAP[:3] + [dict(MAP[3], t_sink_k=343.15)], "dh_heat_pump_map", "t_sink_k", "missing",
                 id="not-a-full-grid"),
    pytest.param(MAP + [dict(MAP[1], id="e")], "dh_heat_pump_map 'e'", "t_sink_k", "same source and sink",
                 id="duplicate-point"),
])
def test_broken_map_is_refused_naming_the_point(rows, element, field, words):
    """Refused before the campus's heat is looked at (here there is none)."""
    with pytest.raises(CaseError) as info:
        gw.solve(network(rows, hp_model="map"))
    err = info.value
    assert err.field == field and words in str(err)
    assert err.element == (element if field != "hp_model" else "[district_heating]")


def test_map_without_its_table_is_refused():
    with pytest.raises(CaseError, match="dh_heat_pump_map table"):
        gw.solve(network(None, hp_model="map"))


def test_bad_map_cop_is_refused_on_load_through_the_cli(tmp_path, kit, cli):
    doc = {"case": {"name": "map"}, "district_heating": {"supply_node": "S", "return_node": "R", "hp_model": "map"},
           "dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
           "dh_pipe": [dict(id="s1", from_node="S", to_node="A", length_m=100.0, diameter_m=0.1),
                       dict(id="r1", from_node="Ar", to_node="R", length_m=100.0, diameter_m=0.1)],
           "dh_consumer": [dict(id="c", supply_node="A", return_node="Ar", demand_w=1e5)],
           "dh_heat_pump_map": [dict(MAP[0], cop=0.8)] + MAP[1:]}
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "out.nc"
    line = kit.cli_error_line(cli("run", str(path), "-o", str(out)), out)
    for word in (str(path), "dh_heat_pump_map 'a'", "'cop'", "0.8", "(1, 100]"):
        assert word in line, line


# --- the network pump on a head curve -----------------------------------------------------------------

def pump_case(**pump):
    return network(None, **pump)


def test_pump_curve_speed_and_power_by_hand():
    """H0 = 40 m, b = 2e4 s^2/m^5: the speed giving the lift the differential-pressure control asks for is
    n = sqrt((H + b Q^2) / H0); power rho g Q H / eta at the constant pump_efficiency."""
    ideal = gw.solve(pump_case())
    ds = gw.solve(pump_case(pump_h0_m=40.0, pump_b_s2_m5=2e4))
    a, a0 = ds.attrs, ideal.attrs
    assert a["dh_pump_dp_pa"] == a0["dh_pump_dp_pa"]  # the curve changes the speed, not the lift
    rho = a["dh_flow_kg_s"] / (a0["dh_pump_w"] * 0.7 / a0["dh_pump_dp_pa"])  # from the ideal pump's Q = P eta / dp
    q = a["dh_flow_kg_s"] / rho
    head = a["dh_pump_dp_pa"] / (rho * GRAVITY)
    assert a["dh_pump_head_m"] == pytest.approx(head, rel=1e-12)
    n = math.sqrt((head + 2e4 * q * q) / 40.0)
    assert 0.3 < n < 1.0
    assert a["dh_pump_speed"] == pytest.approx(n, rel=1e-12)
    assert a["dh_pump_w"] == pytest.approx(rho * GRAVITY * q * head / 0.7, rel=1e-12)
    assert math.isnan(a0["dh_pump_speed"])  # no curve: no speed


def test_pump_efficiency_follows_the_parabola_through_its_best_point():
    """eta = eta_best x (2 - x), x = Q / (n Q_best): with Q_best = 2 Q at rated speed."""
    base = gw.solve(pump_case(pump_h0_m=40.0, pump_b_s2_m5=2e4)).attrs
    q = base["dh_pump_w"] * 0.7 / base["dh_pump_dp_pa"]
    ds = gw.solve(pump_case(pump_h0_m=40.0, pump_b_s2_m5=2e4, pump_best_flow_m3_s=2 * q))
    a = ds.attrs
    x = q / (a["dh_pump_speed"] * 2 * q)
    eta = 0.7 * x * (2 - x)
    assert 0.3 < eta < 0.7
    assert a["dh_pump_efficiency"] == pytest.approx(eta, rel=1e-12)
    assert a["dh_pump_w"] == pytest.approx(base["dh_pump_w"] * 0.7 / eta, rel=1e-12)


def test_pump_too_weak_for_the_lift_is_named():
    ideal = gw.solve(pump_case()).attrs
    with pytest.raises(CaseError) as info:
        gw.solve(pump_case(pump_h0_m=5.0))
    err = info.value
    assert (err.element, err.field, err.value) == ("[district_heating]", "pump_h0_m", 5.0)
    need = ideal["dh_pump_head_m"]
    assert f">= {need:.4g} m" in str(err), str(err)


# --- the prepared network, solved again as a time series does ------------------------------------------

def meshed_homes():
    """Two streets of degree-day homes tied into a ring, so the split around it moves with the demand."""
    pipes = [dict(id=f"{k}{i}", from_node=a, to_node=b, length_m=300.0, diameter_m=d, u_w_per_m_k=0.4)
             for k, i, a, b, d in (("s", 1, "S", "A", 0.1), ("s", 2, "A", "B", 0.08), ("s", 3, "A", "C", 0.08),
                                   ("s", 4, "B", "C", 0.05), ("r", 1, "Ar", "R", 0.1), ("r", 2, "Br", "Ar", 0.08),
                                   ("r", 3, "Cr", "Ar", 0.08), ("r", 4, "Cr", "Br", 0.05))]
    homes = [dict(id=f"h{x}", supply_node=x, return_node=f"{x}r", kind="homes_degree_days", n_homes=n)
             for x, n in (("B", 12), ("C", 5))]
    nodes = [{"id": x} for x in ("S", "A", "B", "C", "R", "Ar", "Br", "Cr")]
    return gw.make_case({"dh_node": nodes, "dh_pipe": pipes, "dh_consumer": homes},
                        district_heating={"supply_node": "S", "return_node": "R"})


@pytest.mark.parametrize("t_outdoor", [263.15, 268.15, 278.15])
def test_warm_started_solve_is_the_fresh_solve(t_outdoor):
    """A prepared network solved at the case's outdoor temperature and then at another, warm-started from
    the first, gives what a fresh solve at that temperature gives, to the fixed point's tolerance (heat
    residual 1e-10 of each demand); the demands follow the degree-day model."""
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    case = meshed_homes()
    net = prepare_district_heating(case)
    net.solve(None)
    warm = net.solve(None, outdoor_t_k=t_outdoor)
    fresh_case = gw.make_case(dict(case.tables), district_heating={**case.settings["district_heating"],
                                                                   "outdoor_t_k": t_outdoor})
    fresh = solve_district_heating(fresh_case, None)
    # degree-day homes (detached, the default): space heating 4.77 kW at -12 degC, zero at 17 degC, linear
    # between; hot water at the steady hour (07:00) of its daily profile
    p = home_heat_parameters("detached")
    per_home = p["space_design_w"] * (290.15 - t_outdoor) / (290.15 - 261.15) + p["dhw_w"] * 24 * 1.61 / 5.845
    assert warm.consumer_demand_w == pytest.approx([12 * per_home, 5 * per_home], rel=1e-12)
    assert warm.consumer_q_w == pytest.approx(warm.consumer_demand_w, rel=1e-9)
    assert warm.pipe_flow_kg_s == pytest.approx(fresh.pipe_flow_kg_s, rel=1e-8)
    assert warm.node_t_k == pytest.approx(fresh.node_t_k, abs=1e-7)
    assert warm.figures["dh_pump_dp_pa"] == pytest.approx(fresh.figures["dh_pump_dp_pa"], rel=1e-8)


def test_solve_at_an_impossible_outdoor_temperature_is_refused():
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    with pytest.raises(CaseError) as info:
        prepare_district_heating(meshed_homes()).solve(None, outdoor_t_k=400.0)
    assert (info.value.field, info.value.value) == ("outdoor_t_k", 400.0)


# --- booster pumps inside the network -------------------------------------------------------------------

def boosted(with_pump=True, **settings):
    """Plant S/R; supply S -s1- A =pump= B -s2- C to one 600 kW consumer, return Cr -r2- Br -r1- R (the
    return bypasses the pump: B's return twin is a plain node)."""
    pipes = [dict(id="s1", from_node="S", to_node="A", length_m=800.0, diameter_m=0.1, u_w_per_m_k=0.3),
             dict(id="s2", from_node="B", to_node="C", length_m=800.0, diameter_m=0.1, u_w_per_m_k=0.3),
             dict(id="r2", from_node="Cr", to_node="Br", length_m=800.0, diameter_m=0.1, u_w_per_m_k=0.3),
             dict(id="r1", from_node="Br", to_node="R", length_m=800.0, diameter_m=0.1, u_w_per_m_k=0.3)]
    if not with_pump:
        pipes.append(dict(id="ab", from_node="A", to_node="B", length_m=1e-6, diameter_m=0.1, u_w_per_m_k=0.0))
    tables = {"dh_node": [{"id": x} for x in ("S", "A", "B", "C", "Cr", "Br", "R")], "dh_pipe": pipes,
              "dh_consumer": [dict(id="c", supply_node="C", return_node="Cr", kind="fixed", demand_w=6e5)]}
    if with_pump:
        tables["dh_pump"] = [dict(id="bp", from_node="A", to_node="B", h0_m=12.0, a_s_m2=20.0, b_s2_m5=4e3,
                                  speed_ratio=0.9, efficiency=0.6)]
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R", **settings})


def test_booster_pump_lifts_by_its_curve_and_draws_its_power():
    """The lift across the pump is rho g (H0 n^2 - a n Q - b Q^2) at the flow through it; its electricity
    rho g Q H / eta; the pump is adiabatic (B at A's temperature) and all the consumer's water passes it."""
    ds = gw.solve(boosted())
    a = ds.attrs
    p, t = by_node(ds, "dh_p_pa"), by_node(ds, "dh_t_k")
    m = float(ds.dh_booster_flow_kg_s.sel(dh_pump="bp"))
    assert m == pytest.approx(float(ds.dh_consumer_flow_kg_s[0]), rel=1e-12)
    rho = a["dh_flow_kg_s"] / (a["dh_pump_w"] * 0.7 / a["dh_pump_dp_pa"])  # the plant pump's Q = P eta / dp
    q = m / rho
    head = 12.0 * 0.81 - 20.0 * 0.9 * q - 4e3 * q * q
    assert p["B"] - p["A"] == pytest.approx(rho * GRAVITY * head, rel=1e-9)
    assert float(ds.dh_booster_head_m.sel(dh_pump="bp")) == pytest.approx(head, rel=1e-9)
    power = rho * GRAVITY * q * head / 0.6
    assert float(ds.dh_booster_power_w.sel(dh_pump="bp")) == pytest.approx(power, rel=1e-9)
    assert a["dh_booster_w"] == pytest.approx(power, rel=1e-12)
    assert a["dh_plant_electric_w"] == pytest.approx(a["dh_pump_w"] + power + a["hp_electric_w"], rel=1e-12)
    assert t["B"] == t["A"]


def test_booster_pump_takes_its_lift_off_the_plant_pump():
    """Differential-pressure control at the consumer: the same flows and temperatures with and without the
    booster (a 1 um pipe in its place), and the plant's lift lower by exactly the booster's."""
    with_pump, without = gw.solve(boosted()), gw.solve(boosted(with_pump=False))
    p = by_node(with_pump, "dh_p_pa")
    assert float(with_pump.dh_consumer_flow_kg_s[0]) == pytest.approx(float(without.dh_consumer_flow_kg_s[0]),
                                                                        rel=1e-9)
    lift_ab = p["B"] - p["A"]
    pipe_ab = float(by_node(without, "dh_p_pa")["A"] - by_node(without, "dh_p_pa")["B"])  # the 1 um pipe's drop
    assert with_pump.attrs["dh_pump_dp_pa"] == pytest.approx(without.attrs["dh_pump_dp_pa"] - lift_ab - pipe_ab,
                                                             rel=1e-9)


def test_booster_pump_out_of_service_cuts_its_branch():
    doc_case = boosted()
    tables = dict(doc_case.tables)
    tables["dh_pump"] = tables["dh_pump"].assign(in_service=False)
    with pytest.raises(CaseError, match="no pipe path joins this consumer's supply_node"):
        gw.solve(gw.make_case(tables, district_heating=dict(doc_case.settings["district_heating"])))


def by_node(ds, var):
    return dict(zip(ds.dh_node.values, ds[var].values))
