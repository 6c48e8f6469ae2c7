"""Twin pipes and the ground in the district-heating network (issue 20): the steady stage and the time series,
checked against what the solver does not compute:

- a supply pipe and its return in one casing feeding one substation: both inlet temperatures are known (the
  plant's supply and the substation's return set-point), so the pair is a two-point boundary-value problem,
  solved here by the matrix exponential of its linear system (``scipy.linalg.expm``, Van Loan's block form for
  the heat flows) with Wallentén's conductances from the published factors
  (:func:`gigawatt.models.pipe_heat.twin_pipe_conductances`): the substation's supply temperature, the
  return at the plant, each pipe's loss to the ground and the heat passed between them;
- the same pair declared the other way round (on the return pipe, or with the return pipe drawn from the
  plant's end and ``twin_aligned``): the same physics;
- a branched network with several pairs and a pipe beside a pipe out of service: every pair against the
  matrix exponential at the network's own flows and inlet temperatures, and the heat ledger;
- the ground: a single buried pipe's ambient is the ground at its depth, ``ground_t_k``, or Kusuda &
  Achenbach's profile (ASHRAE Trans. 71(1), 1965) on ``day_of_year``, written out here;
- the time series: with nothing moving it equals the steady solve (twin pipes); with the seasonal ground each
  step's ambient is the profile at the step's time, and the ledger closes to round-off.

Tolerances: the steady substation flows stop at a heat residual of 1e-10 of the demand and the twin coupling at
1e-10 K, which leaves the temperatures within ~1e-9 K (1e-8 K held, as tests/test_district_heating.py); the
heat flows within 1e-7 relative; ledgers to 1e-9 relative (the brief's figure; measured ~1e-15).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.pipe_heat import buried_single_pipe_u, twin_pipe_conductances
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import prepare_district_heating

T_SUPPLY, T_RETURN, T_GROUND = 348.15, 313.15, 283.15   # the schema's defaults [K]
T_ABS = 1e-8
Q_REL = 1e-7
LEDGER = 1e-9
OD, DI = 0.1143, 0.1071                                   # DN100 steel [m]
CASING = 3.5 * OD + 0.075                                  # the schema's twin default [m]
SPACING = (CASING + OD) / 3.0                              # the schema's twin default [m]


def conductances(od=OD, casing=CASING, spacing=SPACING, depth=1.0):
    """(U'_g, U'_x) [W/(m K)] from Wallentén's published factors, PUR 0.027 in soil 1.5 (the schema's defaults)."""
    u_g, u_x = twin_pipe_conductances(od, casing, spacing, 0.027, 1.5, depth)
    return float(u_g), float(u_x)


def pipe(pid, frm, to, length_m=1500.0, **more):
    return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=DI, outer_diameter_m=OD, **more)


def dh_case(pipes, consumers, **settings_):
    names = {"S", "R"}
    for p in pipes:
        names |= {p["from_node"], p["to_node"]}
    for c in consumers:
        names |= {c["supply_node"], c["return_node"]}
    tables = {"dh_node": [{"id": x} for x in sorted(names)], "dh_pipe": pipes, "dh_consumer": consumers}
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R", **settings_})


def consumer(cid, supply, ret, demand_w):
    return dict(id=cid, supply_node=supply, return_node=ret, kind="fixed", demand_w=demand_w)


def one_pair(layout="supply", **settings_):
    """S -s1-> A, substation A -> Ar, Ar -r1-> R; the pair declared on the supply pipe (``supply``), on the return
    pipe (``return``), or with the return pipe drawn from the plant's end R -> Ar and aligned (``aligned``)."""
    s1, r1 = pipe("s1", "S", "A"), pipe("r1", "Ar", "R")
    if layout == "supply":
        s1["twin_pipe"] = "r1"
    elif layout == "return":
        r1["twin_pipe"] = "s1"
    else:
        r1 = pipe("r1", "R", "Ar")
        s1.update(twin_pipe="r1", twin_aligned=True)
    return dh_case([s1, r1], [consumer("c", "A", "Ar", 4e5)], **settings_)


def by_id(ds, var, dim):
    return dict(zip(ds[dim].values, ds[var].values))


def test_one_pair_against_the_two_point_solution(twin_pair_reference):
    case = one_pair()
    ds = gw.solve(case)
    cp = prepare_district_heating(case).cp
    m = float(ds.dh_consumer_flow_kg_s.values[0])
    u_g, u_x = conductances()
    ref = twin_pair_reference(T_SUPPLY - T_GROUND, T_RETURN - T_GROUND, m * cp, m * cp, True, u_g, u_x, 1500.0)
    t = by_id(ds, "dh_t_k", "dh_node")
    assert t["A"] == pytest.approx(T_GROUND + ref[0], abs=T_ABS)
    assert t["R"] == pytest.approx(T_GROUND + ref[1], abs=T_ABS)
    loss = by_id(ds, "dh_pipe_loss_w", "dh_pipe")
    assert loss["s1"] == pytest.approx(ref[2], rel=Q_REL)
    assert loss["r1"] == pytest.approx(ref[3], rel=Q_REL)
    assert ds.attrs["dh_q_twin_exchange_w"] == pytest.approx(ref[4], rel=Q_REL)
    assert ref[4] > 0.02 * (ref[2] + ref[3])  # the exchange is not negligible here
    # the substation's law at its inlet, and the ledger with the exchange cancelled: plant = delivered + ground
    assert m * cp * (t["A"] - T_RETURN) == pytest.approx(4e5, rel=1e-9)
    assert ds.attrs["dh_q_plant_w"] == pytest.approx(ds.attrs["dh_q_delivered_w"] + loss["s1"] + loss["r1"],
                                                     rel=LEDGER)
    assert ds.attrs["dh_heat_balance_residual"] < LEDGER


def test_a_twin_loses_less_than_two_single_pipes():
    # the same pipes as two single buried pipes (each alone in its casing, 2 x OD + 0.05 m): the twin casing's
    # shared insulation and the exchange cut the loss (Wallentén 1991's reason for twin pipes)
    single = dh_case([pipe("s1", "S", "A"), pipe("r1", "Ar", "R")], [consumer("c", "A", "Ar", 4e5)])
    a, b = gw.solve(single), gw.solve(one_pair())
    assert b.attrs["dh_q_loss_w"] < a.attrs["dh_q_loss_w"]
    assert a.attrs["dh_q_twin_exchange_w"] == 0.0


@pytest.mark.parametrize("layout", ["return", "aligned"])
def test_the_pair_declared_otherwise_is_the_same_pair(layout):
    a, b = gw.solve(one_pair()), gw.solve(one_pair(layout))
    np.testing.assert_allclose(b.dh_t_k.values, a.dh_t_k.values, atol=T_ABS, rtol=0)
    np.testing.assert_allclose(b.dh_pipe_loss_w.values, a.dh_pipe_loss_w.values, rtol=Q_REL)
    sign = -1.0 if layout == "return" else 1.0  # the exchange is from the pipe that names its twin
    assert b.attrs["dh_q_twin_exchange_w"] == pytest.approx(sign * a.attrs["dh_q_twin_exchange_w"], rel=Q_REL)


def branched():
    """S -> J -> {A, B} supply, mirrored returns, every supply pipe in one casing with its return; a spare pipe
    beside the J -> B supply pipe's second casing is out of service."""
    pipes = [pipe("s0", "S", "J", 900.0, twin_pipe="r0"), pipe("r0", "Jr", "R", 900.0),
             pipe("s1", "J", "A", 600.0, twin_pipe="r1"), pipe("r1", "Ar", "Jr", 600.0),
             pipe("s2", "J", "B", 1100.0, twin_pipe="r2"), pipe("r2", "Br", "Jr", 1100.0),
             pipe("s3", "B", "C", 400.0, twin_pipe="x3"), pipe("x3", "C", "B", 400.0, in_service=False),
             pipe("r3", "Cr", "Br", 400.0)]
    return dh_case(pipes, [consumer("a", "A", "Ar", 3e5), consumer("b", "B", "Br", 1.5e5),
                           consumer("c", "C", "Cr", 5e4)])


def test_every_pair_of_a_branched_network_is_exact_at_its_flows(twin_pair_reference):
    case = branched()
    ds = gw.solve(case)
    cp = prepare_district_heating(case).cp
    u_g, u_x = conductances()
    t = by_id(ds, "dh_t_k", "dh_node")
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    loss = by_id(ds, "dh_pipe_loss_w", "dh_pipe")
    ends = {"s0": ("S", "J"), "r0": ("Jr", "R"), "s1": ("J", "A"), "r1": ("Ar", "Jr"), "s2": ("J", "B"),
            "r2": ("Br", "Jr")}
    exchange = 0.0
    for s, r, length in (("s0", "r0", 900.0), ("s1", "r1", 600.0), ("s2", "r2", 1100.0)):
        assert m[s] > 0 and m[r] > 0  # supply out, return back: counter-flow in the casing
        ref = twin_pair_reference(t[ends[s][0]] - T_GROUND, t[ends[r][0]] - T_GROUND, m[s] * cp, m[r] * cp, True,
                             u_g, u_x, length)
        assert t[ends[s][1]] == pytest.approx(T_GROUND + ref[0], abs=T_ABS)  # each outlet node has one inflow
        assert loss[s] == pytest.approx(ref[2], rel=Q_REL)
        assert loss[r] == pytest.approx(ref[3], rel=Q_REL)
        exchange += ref[4]
    assert ds.attrs["dh_q_twin_exchange_w"] == pytest.approx(exchange, rel=Q_REL)
    # s3's twin is out of service: its standing water beside it, U'_g + U'_g U'_x / (U'_g + U'_x), to the ground
    u3 = u_g + u_g * u_x / (u_g + u_x)
    assert t["C"] == pytest.approx(T_GROUND + (t["B"] - T_GROUND) * math.exp(-u3 * 400.0 / (m["s3"] * cp)), abs=T_ABS)
    assert ds.attrs["dh_heat_balance_residual"] < LEDGER


@pytest.mark.parametrize("change, field, words", [
    ({"twin_pipe": "nope"}, "twin_pipe", "no dh_pipe has this id"),
    ({"twin_pipe": "s1"}, "twin_pipe", "its own twin"),
    ({"u_w_per_m_k": 0.3}, "u_w_per_m_k", "follows its geometry"),
    ({"length_m": 1400.0}, "length_m", "differ in length_m"),
    ({"twin_spacing_m": 0.1}, "twin_spacing_m", "impossible"),
    ({"twin_spacing_m": 0.9}, "twin_spacing_m", "impossible"),
])
def test_a_bad_twin_is_one_clear_error(change, field, words):
    s1, r1 = pipe("s1", "S", "A", twin_pipe="r1"), pipe("r1", "Ar", "R")
    (s1 if field in ("twin_pipe", "twin_spacing_m") else r1).update(change)
    with pytest.raises(CaseError) as err:
        gw.solve(dh_case([s1, r1], [consumer("c", "A", "Ar", 4e5)]))
    assert err.value.field == field and words in str(err.value)
    assert "dh_pipe '" in str(err.value)


def test_a_pair_named_on_both_pipes_must_agree_on_its_ends():
    s1, r1 = pipe("s1", "S", "A", twin_pipe="r1"), pipe("r1", "Ar", "R", twin_pipe="s1", twin_aligned=True)
    with pytest.raises(CaseError, match="disagree on how their ends lie") as err:
        gw.solve(dh_case([s1, r1], [consumer("c", "A", "Ar", 4e5)]))
    assert err.value.field == "twin_aligned"
    r1["twin_aligned"] = False  # named on both, alike: the same pair as named on one
    ds = gw.solve(dh_case([s1, r1], [consumer("c", "A", "Ar", 4e5)]))
    np.testing.assert_allclose(ds.dh_t_k.values, gw.solve(one_pair()).dh_t_k.values, atol=T_ABS, rtol=0)


def test_a_pipe_in_two_pairs_is_refused():
    pipes = [pipe("s1", "S", "A", twin_pipe="r1"), pipe("r1", "Ar", "R"), pipe("s2", "A", "B", twin_pipe="r1"),
             pipe("r2", "Br", "Ar")]
    with pytest.raises(CaseError, match="already in another twin pair"):
        gw.solve(dh_case(pipes, [consumer("c", "B", "Br", 1e5)]))


# --- the ground -----------------------------------------------------------------------------------

def kusuda(depth_m, day, t_mean_k, amplitude_k, coldest_day, diffusivity_m2_s):
    """Kusuda & Achenbach (1965), written out: T_m - A exp(-z/d) cos(2 pi/365 (day - day_0) - z/d),
    d = sqrt(365 days x alpha / pi)."""
    d = math.sqrt(365 * 86400 * diffusivity_m2_s / math.pi)
    return t_mean_k - amplitude_k * math.exp(-depth_m / d) * math.cos(2 * math.pi / 365 * (day - coldest_day)
                                                                       - depth_m / d)


@pytest.mark.parametrize("settings_, depth, expected_ground", [
    ({"ground_t_k": 278.15}, 1.2, lambda: 278.15),
    ({"ground": "kusuda", "day_of_year": 40.0}, 1.2, lambda: kusuda(1.2, 40.0, T_GROUND, 10.0, 35.0, 6e-7)),
    ({"ground": "kusuda", "day_of_year": 220.0, "ground_mean_t_k": 281.0, "ground_amplitude_k": 12.0,
      "ground_coldest_day": 20.0, "ground_diffusivity_m2_s": 9e-7}, 0.8,
     lambda: kusuda(0.8, 220.0, 281.0, 12.0, 20.0, 9e-7)),
])
def test_a_buried_single_pipe_loses_heat_to_the_ground_at_its_depth(settings_, depth, expected_ground):
    case = dh_case([pipe("s1", "S", "A", depth_m=depth), pipe("r1", "Ar", "R", depth_m=depth)],
                   [consumer("c", "A", "Ar", 4e5)], **settings_)
    ds = gw.solve(case)
    cp = prepare_district_heating(case).cp
    t_g = expected_ground()
    u = float(buried_single_pipe_u(OD, 2 * OD + 0.05, 0.027, 1.5, depth))
    m = float(ds.dh_consumer_flow_kg_s.values[0])
    t = by_id(ds, "dh_t_k", "dh_node")
    assert t["A"] == pytest.approx(t_g + (T_SUPPLY - t_g) * math.exp(-u * 1500 / (m * cp)), abs=T_ABS)
    assert t["R"] == pytest.approx(t_g + (T_RETURN - t_g) * math.exp(-u * 1500 / (m * cp)), abs=T_ABS)


def test_a_series_with_twin_pipes_and_nothing_moving_is_the_steady_solve():
    ser = DistrictHeatingSeries(branched())
    steady = ser.steady_start
    for _ in range(6):
        f = ser.step(None, ser.s["outdoor_t_k"], 3600.0)
        np.testing.assert_allclose(ser.node_t_k(), steady.node_t_k, atol=1e-9, rtol=0)
    assert f["dh_q_twin_exchange_w"] == pytest.approx(steady.figures["dh_q_twin_exchange_w"], rel=1e-9)
    assert f["dh_q_loss_w"] == pytest.approx(steady.figures["dh_q_loss_w"], rel=1e-9)
    assert ser.energy_balance_residual() < LEDGER


def test_a_series_follows_the_seasonal_ground_with_its_ledger_closed():
    settings_ = {"ground": "kusuda", "day_of_year": 300.0, "ground_amplitude_k": 14.0}
    case = dh_case([pipe("s1", "S", "A", depth_m=0.9, twin_pipe="r1"), pipe("r1", "Ar", "R", depth_m=0.9),
                    pipe("s2", "A", "B", 500.0, depth_m=1.6), pipe("r2", "Br", "Ar", 500.0, depth_m=1.6)],
                   [consumer("a", "A", "Ar", 2e5), consumer("b", "B", "Br", 1e5)], **settings_)
    ser = DistrictHeatingSeries(case)
    dt = 6 * 3600.0
    ids = list(case.tables["dh_pipe"]["id"])
    pos = ser._surround.pos  # dynamic position of each pipe
    for k in range(40):  # ten days of late autumn
        ser.step(None, ser.s["outdoor_t_k"], dt)
        day = 300.0 + k * dt / 86400.0
        for i, depth in ((ids.index("s2"), 1.6), (ids.index("r2"), 1.6)):
            assert ser.dyn.t_amb[pos[i]] == pytest.approx(kusuda(depth, day, T_GROUND, 14.0, 35.0, 6e-7), abs=1e-9)
    assert ser.energy_balance_residual() < 1e-12
    # the ground cooled over the ten days: the return comes back colder than it started
    assert ser.node_t_k()[list(case.tables["dh_node"]["id"]).index("R")] < ser.steady_start.figures["dh_t_return_k"]


def test_a_year_s_series_starts_its_ground_at_the_time_axis_start():
    from gigawatt.solver.district_heating.surroundings import series_start_s

    pipes = [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")]
    tables = {"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")], "dh_pipe": pipes,
              "dh_consumer": [consumer("c", "A", "Ar", 4e5)]}
    dh_settings = {"supply_node": "S", "return_node": "R", "ground": "kusuda", "day_of_year": 10.0}
    july = gw.make_case(tables, district_heating=dh_settings, time={"start": "2025-07-01T06:00+02:00"})
    assert series_start_s(july) == pytest.approx((181 + 4 / 24) * 86400.0)  # 04:00 UTC on day 181
    assert series_start_s(gw.make_case(tables, district_heating=dh_settings)) == 10.0 * 86400.0
    ser = DistrictHeatingSeries(july)
    # the steady start stands on the series' first day, not on day_of_year
    on_the_day = gw.make_case(tables, district_heating={**dh_settings, "day_of_year": 181 + 4 / 24})
    np.testing.assert_allclose(ser.steady_start.node_t_k, gw.solve(on_the_day).dh_t_k.values, atol=T_ABS, rtol=0)
    ser.step(None, ser.s["outdoor_t_k"], 3600.0)
    assert ser.dyn.t_amb[ser._surround.pos[0]] == pytest.approx(kusuda(1.0, 181 + 4 / 24, T_GROUND, 10.0, 35.0, 6e-7),
                                                                abs=1e-9)


def test_the_seasonal_ground_exports_to_pandapipes_pipe_by_pipe():
    # cross-code: pandapipes 0.x with each pipe's text_k the Kusuda ground at its depth reproduces the solve
    import pandapipes as pps

    from gigawatt.export import PIPEFLOW_OPTIONS

    pipes = [pipe("s1", "S", "A", 900.0, depth_m=0.7), pipe("s2", "A", "B", 700.0, depth_m=2.5),
             pipe("r2", "Br", "Ar", 700.0, depth_m=2.5), pipe("r1", "Ar", "R", 900.0, depth_m=0.7)]
    case = dh_case(pipes, [consumer("a", "A", "Ar", 2e5), consumer("b", "B", "Br", 1e5)], ground="kusuda",
                   day_of_year=60.0, ground_amplitude_k=12.0)
    ours = gw.solve(case)
    net = gw.to_pandapipes(case, ours)
    np.testing.assert_allclose(net.pipe.text_k.to_numpy(), [kusuda(z, 60.0, T_GROUND, 12.0, 35.0, 6e-7)
                                                            for z in (0.7, 2.5, 2.5, 0.7)], atol=1e-9)
    pps.pipeflow(net, mode="sequential", **PIPEFLOW_OPTIONS)
    np.testing.assert_allclose(net.res_junction.t_k.to_numpy(), ours.dh_t_k.to_numpy(), rtol=0, atol=1e-8)


def test_twin_pipes_are_not_exported_to_pandapipes():
    case = one_pair()
    with pytest.raises(CaseError, match="pandapipes has no twin pipes") as err:
        gw.to_pandapipes(case, gw.solve(case))
    assert err.value.field == "twin_pipe"


def random_town(seed):
    """A random tree of supply pipes (each mirrored by a return pipe pointing back, in one casing with it) with a
    consumer at every node, and for odd seeds a tie closing a ring (flows may then run either way)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 12))
    parent = [None] + [int(rng.integers(0, k)) for k in range(1, n)]
    nodes = ["S"] + [f"n{k}" for k in range(1, n)]
    ret = {x: ("R" if x == "S" else x + "r") for x in nodes}
    pipes, cons = [], []
    for k in range(1, n):
        a, b = nodes[parent[k]], nodes[k]
        length = float(rng.uniform(100, 1500))
        pipes += [pipe(f"s{k}", a, b, length, twin_pipe=f"r{k}"), pipe(f"r{k}", ret[b], ret[a], length)]
        cons.append(consumer(f"c{k}", b, ret[b], float(rng.uniform(2e4, 2e5))))
    if seed % 2 and n > 3:
        a, b = nodes[n - 1], nodes[n - 2]
        pipes += [pipe("st", a, b, 300.0, twin_pipe="rt"), pipe("rt", ret[b], ret[a], 300.0)]
    return dh_case(pipes, cons)


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_every_pair_exact_and_the_ledger_closed(seed, twin_pair_reference):
    case = random_town(seed)
    ds = gw.solve(case)
    cp = prepare_district_heating(case).cp
    u_g, u_x = conductances()
    t = by_id(ds, "dh_t_k", "dh_node")
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    loss = by_id(ds, "dh_pipe_loss_w", "dh_pipe")
    table = case.tables["dh_pipe"].set_index("id")
    exchange = 0.0
    for s in [i for i in table.index if i.startswith("s")]:
        r = "r" + s[1:]
        ends = {p: (table.loc[p, "from_node"], table.loc[p, "to_node"]) for p in (s, r)}
        up = {p: ends[p][0] if m[p] >= 0 else ends[p][1] for p in (s, r)}
        if m[s] == 0 or m[r] == 0:
            continue
        counter = np.sign(m[s]) == np.sign(m[r])  # the return pipe is drawn pointing back along the casing
        ref = twin_pair_reference(t[up[s]] - T_GROUND, t[up[r]] - T_GROUND, abs(m[s]) * cp, abs(m[r]) * cp, counter, u_g,
                             u_x, float(table.loc[s, "length_m"]))
        outlet = {s: ds.dh_pipe_t_out_k.sel(dh_pipe=s).item(), r: ds.dh_pipe_t_out_k.sel(dh_pipe=r).item()}
        assert outlet[s] == pytest.approx(T_GROUND + ref[0], abs=T_ABS)
        assert outlet[r] == pytest.approx(T_GROUND + ref[1], abs=T_ABS)
        assert loss[s] == pytest.approx(ref[2], rel=1e-6, abs=1e-6)
        assert loss[r] == pytest.approx(ref[3], rel=1e-6, abs=1e-6)
        exchange += ref[4]
    assert ds.attrs["dh_q_twin_exchange_w"] == pytest.approx(exchange, rel=1e-6, abs=1e-6)
    assert ds.attrs["dh_heat_balance_residual"] < LEDGER



def test_assumed_pipe_geometry_is_labelled_in_the_results():
    """A pair left to the default casing and spacing carries the assumption in the results' attributes (both
    pipes counted, though only one names the other); giving casing and spacing removes the label."""
    text = gw.solve(one_pair()).attrs["dh_pipe_geometry_assumption"]
    assert text.startswith("assumption")
    assert "2 twin pipe(s) with the assumed casing" in text and "2 twin pipe(s) with the assumed spacing" in text
    assert "single pipe" not in text
    s1 = pipe("s1", "S", "A", twin_pipe="r1", casing_diameter_m=CASING, twin_spacing_m=SPACING)
    r1 = pipe("r1", "Ar", "R", casing_diameter_m=CASING, twin_spacing_m=SPACING)
    given = gw.solve(dh_case([s1, r1], [consumer("c", "A", "Ar", 4e5)]))
    assert "dh_pipe_geometry_assumption" not in given.attrs
    single = gw.solve(dh_case([pipe("s1", "S", "A"), pipe("r1", "Ar", "R")], [consumer("c", "A", "Ar", 4e5)]))
    assert "2 single pipe(s) with the assumed casing" in single.attrs["dh_pipe_geometry_assumption"]
