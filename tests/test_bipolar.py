"""Bipolar (±V three-wire) DC distribution: behaviour and physical invariants.

The validation cases (validation/cases/bipolar_*.toml) compare against a hand solution, the monopolar solver
and pandapower; here: Kirchhoff's current law at every conductor node recomputed from the results alone,
the neutral as the return of the pole imbalance, the ledger, the conductor-resistance rules, the per-pole
split of ratings, droop and loss models, DC/DC converters, the nose of the P–V curve, and that a monopolar
case is unchanged.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.models.conductors import conductor_resistance
from gigawatt.solver.dc.bipolar import RACK_TERMINALS, circuit_cross_section_m2, rack_terminals
from gigawatt.validation.dc_checks import random_network

GEN = dict(v_nominal_v=400.0, length_m=[5.0, 40.0], cross_sections_mm2=[240.0, 500.0, 1000.0], source_rated_w=20e6,
           v_set_spread=0.01, rack_share=0.6, rack_p_it_w=[20e3, 120e3], vrm_efficiency=0.9, titanium_share=0.5,
           shelf_load_fraction=[0.15, 1.0])


def mixed_network(seed, n_bus=80, extra_lines=5, n_sources=2, droop=0.02, poles=("bipolar", "positive", "negative"),
                  neutral_share=1.0, gen=GEN, earthing="every_station"):
    """A random meshed bipolar network: racks on random poles, every station but the first on droop, the
    neutral of every line at ``neutral_share`` of the pole cross-section (``None``: a random share in
    [0.25, 1] per line)."""
    base = random_network(seed, n_bus, extra_lines, n_sources, gen)
    t = {k: v for k, v in base.tables.items() if len(v) or k == "rack"}
    rng = np.random.default_rng(seed + 1000)
    src = t["source"].copy()
    src.loc[src.index[1:], "droop"] = droop
    racks = t["rack"].assign(pole=rng.choice(np.array(poles, dtype=object), len(t["rack"])))
    share = rng.uniform(0.25, 1.0, len(t["line"])) if neutral_share is None else neutral_share
    lines = t["line"].assign(neutral_cross_section_m2=share * t["line"]["cross_section_m2"])
    return gw.make_case({**t, "source": src, "rack": racks, "line": lines},
                        loss_models=dict(base.loss_model_params), dc={"system": "bipolar", "earthing": earthing},
                        case={"name": f"mixed {seed}"})


def node_mismatch(ds, case) -> float:
    """Largest current mismatch [A] at any conductor node, recomputed from the results, beyond what the
    solver's own convergence allows: relative to the largest conductor current, after subtracting 4 × the
    reported largest mismatch (the solver stops at 1e-11 of the load current, or at the rounding floor of
    its stiffest lines, which on a tiny network of short busbars can be larger; each recomputed balance
    carries that node's residual and a share of the ledger's remainder)."""
    mismatch, scale = _node_mismatch(ds, case)
    return max(mismatch - 4.0 * ds.attrs["max_mismatch_a"], 0.0) / scale


def _node_mismatch(ds, case):
    """Largest current mismatch over every bus and conductor, recomputed from the results alone (line
    currents; rack and converter-input currents as power / terminal voltage; pole-converter injections as
    pole power / pole-to-neutral voltage; earth currents): (largest |mismatch| [A], largest conductor current
    [A], at least 1 A)."""
    bus = {b: i for i, b in enumerate(ds.bus.values)}
    n = len(bus)
    v = np.column_stack([ds.v_pos_v.values, ds.v_neutral_v.values, ds.v_neg_v.values])
    leave = np.zeros((n, 3))
    frm = np.array([bus[b] for b in ds.line_from_bus.values], dtype=int)
    to = np.array([bus[b] for b in ds.line_to_bus.values], dtype=int)
    cur = np.column_stack([ds.i_pos_a.values, ds.i_neutral_a.values, ds.i_neg_a.values])
    for c in range(3):
        np.add.at(leave[:, c], frm, cur[:, c])
        np.add.at(leave[:, c], to, -cur[:, c])
    racks = case.tables["rack"]
    for b, p_in, pole in zip(racks["bus"], ds.rack_p_in_w.values, racks["pole"]):
        p, q = RACK_TERMINALS[pole]
        i = bus[b]
        current = p_in / (v[i, p] - v[i, q])
        leave[i, p] += current
        leave[i, q] -= current
    conv = case.tables["converter"]
    for b, p_in in zip(conv["from_bus"], ds.converter_p_in_w.values):  # drawn pole to pole
        i = bus[b]
        current = p_in / (v[i, 0] - v[i, 2])
        leave[i, 0] += current
        leave[i, 2] -= current
    feeds = [(b, ds.p_dc_pos_w.sel(source=s).item(), ds.p_dc_neg_w.sel(source=s).item())
             for s, b in zip(case.tables["source"]["id"], case.tables["source"]["bus"])]
    feeds += [(b, ds.converter_p_out_pos_w.sel(converter=c).item(), ds.converter_p_out_neg_w.sel(converter=c).item())
              for c, b in zip(conv["id"], conv["to_bus"])]
    for b, p_pos, p_neg in feeds:  # each pole converter gives its pole current and takes it from the other terminal
        i = bus[b]
        i_pos, i_neg = p_pos / (v[i, 0] - v[i, 1]), p_neg / (v[i, 1] - v[i, 2])
        leave[i, 0] -= i_pos
        leave[i, 1] += i_pos - i_neg
        leave[i, 2] += i_neg
    leave[:, 1] -= ds.i_earth_a.values
    return float(np.max(np.abs(leave))), max(float(np.max(np.abs(cur))), 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kirchhoff_at_every_conductor_node(seed):
    case = mixed_network(seed, n_sources=1 + seed % 3, neutral_share=[1.0, 0.5, 0.25][seed - 1])
    ds = gw.solve(case)
    # The solver stops at a mismatch of 1e-11 of the load current; the recomputation adds round-off.
    assert node_mismatch(ds, case) < 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000), n_bus=st.integers(3, 40), extra=st.integers(0, 4), n_sources=st.integers(1, 3),
       droop=st.sampled_from([0.0, 0.02, 0.05]), neutral_share=st.floats(0.2, 1.0),
       poles=st.sampled_from([("bipolar",), ("positive",), ("negative", "bipolar"), ("bipolar", "positive", "negative")]),
       earthing=st.sampled_from(["every_station", "one_per_zone"]))
@example(seed=638, n_bus=3, extra=4, n_sources=1, droop=0.0, neutral_share=0.5, poles=("positive",),
         earthing="every_station")  # short parallel busbars: the solver stops at the rounding floor
def test_invariants_on_random_networks(seed, n_bus, extra, n_sources, droop, neutral_share, poles, earthing):
    # Small racks (2–20 kW) keep every bus within a few per cent of nominal on these random trees and rings.
    gen = {**GEN, "rack_p_it_w": [2e3, 20e3]}
    case = mixed_network(seed, n_bus, extra, n_sources, droop, poles, neutral_share, gen, earthing)
    ds = gw.solve(case)
    assert node_mismatch(ds, case) < 1e-9
    assert ds.attrs["energy_balance_residual"] < 1e-12
    assert np.all(ds.v_pu.values > 0.9)
    v = np.column_stack([ds.v_pos_v.values, ds.v_neutral_v.values, ds.v_neg_v.values])
    assert np.all(v[:, 0] > v[:, 1]) and np.all(v[:, 1] > v[:, 2])
    loss = np.column_stack([ds.p_loss_pos_w.values, ds.p_loss_neutral_w.values, ds.p_loss_neg_w.values])
    assert np.all(loss >= 0) and np.allclose(loss.sum(axis=1), ds.line_p_loss_w.values, rtol=1e-14, atol=0)
    if poles == ("bipolar",):
        assert np.max(np.abs(ds.i_neutral_a.values)) <= 1e-12 * max(np.max(np.abs(ds.i_pos_a.values)), 1.0)


@pytest.mark.parametrize("seed", [4, 5])
def test_ledger_closes_and_pole_powers_add_up(seed):
    ds = gw.solve(mixed_network(seed, n_sources=3))
    a = ds.attrs
    assert a["energy_balance_residual"] < 1e-12
    assert a["p_grid_w"] == pytest.approx(a["p_it_w"] + a["p_loss_w"], rel=1e-12)
    assert float(ds.p_dc_w.sum()) == pytest.approx(a["p_pos_w"] + a["p_neg_w"], rel=1e-14)
    # The distribution loss is every conductor's I²R, the neutral's included.
    assert float(ds.stage_loss_w.sel(stage="distribution")) == pytest.approx(
        float((ds.p_loss_pos_w + ds.p_loss_neutral_w + ds.p_loss_neg_w).sum()), rel=1e-12)
    assert a["neutral_loss_w"] > 0
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") is not None and var.attrs.get("long_name"), name


@pytest.mark.parametrize("seed, droop", [(11, 0.0), (12, 0.02), (13, 0.05)])
def test_one_earthing_point_per_zone(seed, droop):
    # Several stations, neutral earthed at one of them only: no earth current anywhere, the other stations'
    # neutrals float (their poles held against their own neutral), Kirchhoff and the ledger hold. Neutrals of
    # random size make the lines' conductors unequal, so the neutrals do float away from earth (see
    # test_earth_current_needs_unequal_conductors).
    case = mixed_network(seed, n_sources=3, droop=droop, earthing="one_per_zone", neutral_share=None)
    ds = gw.solve(case)
    scale = np.max(np.abs(ds.i_pos_a.values))
    assert np.max(np.abs(ds.i_earth_a.values)) <= 1e-9 * scale
    assert node_mismatch(ds, case) < 1e-9
    assert ds.attrs["energy_balance_residual"] < 1e-12
    src_bus = case.tables["source"]["bus"]
    v_n = ds.v_neutral_v.sel(bus=list(src_bus)).values
    assert np.sum(v_n == 0.0) == 1 and np.max(np.abs(v_n)) > 1e-3  # one earthed, the others float
    u_pos = (ds.v_pos_v - ds.v_neutral_v).sel(bus=list(src_bus)).values
    u_neg = (ds.v_neutral_v - ds.v_neg_v).sel(bus=list(src_bus)).values
    v_set = case.tables["source"]["v_set_v"].to_numpy()
    if droop == 0.0:  # stiff stations hold ±v_set against their own neutral, earthed or not
        np.testing.assert_allclose(u_pos, v_set, rtol=1e-14)
        np.testing.assert_allclose(u_neg, v_set, rtol=1e-14)
    else:  # the first station is stiff (and earthed); the others follow their droop per pole
        rated = case.tables["source"]["rated_power_w"].to_numpy()
        p_pos = ds.p_dc_pos_w.values
        np.testing.assert_allclose(u_pos[1:], (v_set * (1 - droop * p_pos / (rated / 2)))[1:], rtol=1e-12)
    # With every rack pole to pole the earthing does not matter: no neutral current either way.
    balanced = [mixed_network(seed, n_sources=3, droop=droop, poles=("bipolar",), earthing=e)
                for e in ("every_station", "one_per_zone")]
    a, b = (gw.solve(c) for c in balanced)
    np.testing.assert_allclose(a.v_pos_v.values, b.v_pos_v.values, rtol=1e-12)
    assert np.max(np.abs(b.v_neutral_v.values)) < 1e-9


def test_earth_current_needs_unequal_conductors():
    # With every station stiff and earthed, and all three conductors of each line equal, the common-mode
    # potential V+ + Vn + V− obeys Kirchhoff's law on its own (each load takes out of one conductor what it
    # puts into another), with V+ + Vn + V− = v − 0 − v = 0 at every station: it is zero everywhere, and no
    # current leaves the conductors for the earth, whatever the pole imbalance. The same holds when every
    # neutral is the same fraction of its poles (the common mode then weights the neutral by that fraction);
    # neutrals of different relative size break it.
    full = gw.solve(mixed_network(21, n_sources=3, droop=0.0, neutral_share=1.0))
    half = gw.solve(mixed_network(21, n_sources=3, droop=0.0, neutral_share=None))
    scale = float(np.max(np.abs(full.i_pos_a.values)))
    assert float(np.max(np.abs(full.i_neutral_a.values))) > 1e-2 * scale  # unbalanced
    assert float(np.max(np.abs(full.i_earth_a.values))) < 1e-9 * scale
    common = full.v_pos_v.values + full.v_neutral_v.values + full.v_neg_v.values
    assert np.max(np.abs(common)) < 1e-9
    assert float(np.max(np.abs(half.i_earth_a.values))) > 1e-3 * scale
    assert abs(float(half.i_earth_a.sum())) < 1e-9 * scale  # what enters the earth at one station leaves at others


def test_neutral_carries_the_pole_imbalance_on_a_radial_network():
    # A tree with one station: no earth current, and each line's neutral returns the imbalance of what
    # lies beyond it, i_neutral = −(i_pos + i_neg) ("I+ − I−" with I− the negative pole's return current).
    ds = gw.solve(mixed_network(7, extra_lines=0, n_sources=1))
    i_pos, i_neg, i_n = ds.i_pos_a.values, ds.i_neg_a.values, ds.i_neutral_a.values
    scale = np.max(np.abs(i_pos))
    np.testing.assert_allclose(i_n, -(i_pos + i_neg), rtol=0, atol=1e-9 * scale)
    assert np.max(np.abs(i_n)) > 1e-3 * scale, "the random poles leave an imbalance"
    assert np.max(np.abs(ds.i_earth_a.values)) < 1e-9 * scale


def test_bipolar_racks_cause_no_neutral_current():
    ds = gw.solve(mixed_network(8, n_sources=3, poles=("bipolar",), neutral_share=0.3))
    scale = np.max(np.abs(ds.i_pos_a.values))
    assert np.max(np.abs(ds.i_neutral_a.values)) <= 1e-12 * scale
    assert np.max(np.abs(ds.v_neutral_v.values)) <= 1e-9
    assert np.max(np.abs(ds.i_earth_a.values)) <= 1e-12 * scale
    assert ds.attrs["pole_imbalance"] == pytest.approx(0.0, abs=1e-12)
    assert float(ds.p_loss_neutral_w.sum()) <= 1e-18 * float(ds.line_p_loss_w.sum())


def test_single_pole_load_at_the_station_bus_returns_by_the_neutral():
    # A positive-pole rack at the station's own bus, another at the far bus: the far one's current comes
    # back on the neutral; the negative pole carries nothing.
    case = gw.make_case({
        "bus": [{"id": "s", "v_nominal_v": 400.0}, {"id": "f", "v_nominal_v": 400.0}],
        "line": [{"id": "l", "from_bus": "s", "to_bus": "f", "length_m": 20.0, "cross_section_m2": 300e-6}],
        "source": [{"id": "st", "bus": "s", "v_set_v": 400.0, "rated_power_w": 4e6}],
        "rack": [{"id": "near", "bus": "s", "p_it_w": 2e5, "vrm_efficiency": 1.0, "pole": "positive"},
                 {"id": "far", "bus": "f", "p_it_w": 1e5, "vrm_efficiency": 1.0, "pole": "positive"}]},
        dc={"system": "bipolar"})
    ds = gw.solve(case)
    line = ds.sel(line="l")
    assert float(line.i_neg_a) == 0.0
    # Each current is a drop of about 0.5 V over a potential of 400 V divided by R: round-off about 1e-13.
    assert float(line.i_neutral_a) == pytest.approx(-float(line.i_pos_a), rel=1e-12)
    assert float(ds.p_dc_neg_w.item()) == pytest.approx(0.0, abs=1e-6)
    # The far rack sees the pole voltage minus the drops of both the pole and the neutral conductor.
    r = float(line.r_ohm)
    i = float(line.i_pos_a)
    assert float(ds.rack_v_v.sel(rack="far")) == pytest.approx(400.0 - 2 * r * i, rel=1e-13)
    assert float(ds.rack_v_v.sel(rack="far")) * i == pytest.approx(1e5, rel=1e-12)


def test_rack_terminals_follow_the_table():
    poles = np.array(["bipolar", "positive", "negative", "positive"], dtype=object)
    assert rack_terminals(poles).tolist() == [list(RACK_TERMINALS[p]) for p in poles]
    assert rack_terminals(np.array([], dtype=object)).shape == (0, 2)


def test_conductor_resistance_rules():
    length, area = 30.0, 500e-6
    lines = [
        {"id": "geom", "from_bus": "a", "to_bus": "b", "length_m": length, "cross_section_m2": area},
        {"id": "half_neutral", "from_bus": "a", "to_bus": "c", "length_m": length, "cross_section_m2": area,
         "neutral_cross_section_m2": area / 2, "n_parallel": 2.0, "loop_factor": 2.0},
        {"id": "loop", "from_bus": "a", "to_bus": "d", "length_m": length, "r_ohm": 0.004},
        {"id": "loop_neutral", "from_bus": "a", "to_bus": "e", "length_m": length, "r_ohm": 0.004,
         "neutral_r_ohm": 0.003},
        {"id": "loop_neutral_area", "from_bus": "a", "to_bus": "g", "length_m": length, "r_ohm": 0.004,
         "neutral_cross_section_m2": area},
    ]
    buses = [{"id": b, "v_nominal_v": 400.0} for b in "abcdeg"]
    case = gw.make_case({"bus": buses, "line": lines,
                         "source": [{"id": "s", "bus": "a", "v_set_v": 400.0, "rated_power_w": 1e6}]},
                        dc={"system": "bipolar"})
    ds = gw.solve(case)
    rho, alpha, t = 1.7241e-8, 3.93e-3, 343.15  # copper at the default 70 °C (IEC 60287-1-1 Table 1)
    one = float(conductor_resistance(length, area, rho, alpha, t, 1.0, 1.0))  # one conductor, no loop factor
    expected = {"geom": (one, one), "half_neutral": (one / 2, one), "loop": (0.002, 0.002),
                "loop_neutral": (0.002, 0.003), "loop_neutral_area": (0.002, one)}
    for line, (r_pole, r_n) in expected.items():
        assert float(ds.r_ohm.sel(line=line)) == pytest.approx(r_pole, rel=1e-14), line
        assert float(ds.r_neutral_ohm.sel(line=line)) == pytest.approx(r_n, rel=1e-14), line


def test_circuit_cross_section():
    case = gw.make_case({"bus": [{"id": "a", "v_nominal_v": 400.0}, {"id": "b", "v_nominal_v": 400.0}],
                         "line": [{"id": "full", "from_bus": "a", "to_bus": "b", "length_m": 1.0,
                                   "cross_section_m2": 1e-3, "n_parallel": 2.0},
                                  {"id": "half", "from_bus": "a", "to_bus": "b", "length_m": 1.0,
                                   "cross_section_m2": 1e-3, "neutral_cross_section_m2": 5e-4},
                                  {"id": "given", "from_bus": "a", "to_bus": "b", "length_m": 1.0, "r_ohm": 0.01}]})
    lines = case.tables["line"]
    np.testing.assert_allclose(circuit_cross_section_m2(lines, "bipolar"), [6e-3, 2.5e-3, np.nan])
    np.testing.assert_allclose(circuit_cross_section_m2(lines, "monopolar"), [4e-3, 2e-3, np.nan])


def test_station_rating_droop_and_losses_apply_per_pole():
    # One droop station, unequal pole loads at its bus: each pole follows v = v_set(1 − droop·P/(rated/2)),
    # and the quadratic loss a + b·I + c·I² (I = P/V) is counted once per pole.
    v_set, droop, rated, a, b, c = 400.0, 0.05, 2e6, 500.0, 0.8, 2e-4
    p_pos, p_neg = 6e5, 2e5
    case = gw.make_case({
        "bus": [{"id": "s", "v_nominal_v": 400.0}],
        "source": [{"id": "st", "bus": "s", "v_set_v": v_set, "droop": droop, "rated_power_w": rated,
                    "loss_model": "q"}],
        "rack": [{"id": "rp", "bus": "s", "p_it_w": p_pos, "vrm_efficiency": 1.0, "pole": "positive"},
                 {"id": "rn", "bus": "s", "p_it_w": p_neg, "vrm_efficiency": 1.0, "pole": "negative"}]},
        loss_models={"q": {"kind": "quadratic", "a_w": a, "b_v": b, "c_ohm": c}}, dc={"system": "bipolar"})
    ds = gw.solve(case)
    # No conductor between station and racks: each pole delivers its rack's power.
    v_pos, v_neg = v_set * (1 - droop * p_pos / (rated / 2)), v_set * (1 - droop * p_neg / (rated / 2))
    assert float(ds.v_pos_v.item()) == pytest.approx(v_pos, rel=1e-12)
    assert float(ds.v_neg_v.item()) == pytest.approx(-v_neg, rel=1e-12)
    assert float(ds.p_dc_pos_w.item()) == pytest.approx(p_pos, rel=1e-12)
    assert float(ds.p_dc_neg_w.item()) == pytest.approx(p_neg, rel=1e-12)
    loss = sum(a + b * p / v + c * (p / v) ** 2 for p, v in ((p_pos, v_pos), (p_neg, v_neg)))
    assert float(ds.source_loss_w.item()) == pytest.approx(loss, rel=1e-12)
    assert float(ds.source_loading.item()) == pytest.approx(p_pos / (rated / 2), rel=1e-12)


def test_dc_dc_converter_draws_pole_to_pole_and_feeds_a_bipolar_level():
    eta = 0.97
    case = gw.make_case({
        "bus": [{"id": "hv", "v_nominal_v": 400.0}, {"id": "in", "v_nominal_v": 400.0},
                {"id": "lv", "v_nominal_v": 190.0}, {"id": "rk", "v_nominal_v": 190.0}],
        "line": [{"id": "l_hv", "from_bus": "hv", "to_bus": "in", "length_m": 30.0, "cross_section_m2": 240e-6},
                 {"id": "l_lv", "from_bus": "lv", "to_bus": "rk", "length_m": 5.0, "cross_section_m2": 240e-6}],
        "source": [{"id": "st", "bus": "hv", "v_set_v": 400.0, "rated_power_w": 2e6}],
        "converter": [{"id": "dc", "from_bus": "in", "to_bus": "lv", "v_set_v": 190.0, "rated_power_w": 1e6,
                       "loss_model": "eta"}],
        "rack": [{"id": "rp", "bus": "rk", "p_it_w": 2e5, "vrm_efficiency": 1.0, "pole": "positive"},
                 {"id": "rb", "bus": "rk", "p_it_w": 1e5, "vrm_efficiency": 1.0}]},
        loss_models={"eta": {"kind": "constant_efficiency", "efficiency": eta}}, dc={"system": "bipolar"})
    ds = gw.solve(case)
    conv = ds.sel(converter="dc")
    # The converter's poles deliver the low-voltage level's loads and losses; its input adds its loss.
    lv_loss = float(ds.line_p_loss_w.sel(line="l_lv"))
    assert float(conv.p_out_w) == pytest.approx(3e5 + lv_loss, rel=1e-12)
    assert float(conv.converter_p_in_w) == pytest.approx(float(conv.p_out_w) / eta, rel=1e-12)
    assert float(conv.converter_p_out_pos_w) > float(conv.converter_p_out_neg_w)  # the positive rack
    # Drawn pole to pole: the high-voltage line's neutral carries nothing, its poles the same current.
    hv = ds.sel(line="l_hv")
    assert abs(float(hv.i_neutral_a)) <= 1e-12 * float(hv.i_pos_a)
    assert float(hv.i_pos_a) == pytest.approx(-float(hv.i_neg_a), rel=1e-13)
    assert float(ds.v_pos_v.sel(bus="lv")) == 190.0 and float(ds.v_neg_v.sel(bus="lv")) == -190.0
    assert float(ds.p_load_w.sel(bus="in")) == pytest.approx(float(conv.converter_p_in_w), rel=1e-14)
    assert ds.attrs["energy_balance_residual"] < 1e-12


@pytest.mark.parametrize("pole, r_loop_of", [("bipolar", lambda rp, rn: 2 * rp), ("positive", lambda rp, rn: rp + rn)])
def test_nose_names_the_weakest_bus_and_pole(pole, r_loop_of):
    # One line: the largest power a load between two conductors can draw is V²/(4R) over the loop it sees,
    # V = 800 V and R = 2·R_pole pole to pole; V = 400 V and R = R_pole + R_neutral from one pole.
    r_loop, r_n = 0.02, 0.015
    v = 800.0 if pole == "bipolar" else 400.0
    p_max = v * v / (4 * r_loop_of(r_loop / 2, r_n))
    case = gw.make_case({
        "bus": [{"id": "s", "v_nominal_v": 400.0}, {"id": "far", "v_nominal_v": 400.0}],
        "line": [{"id": "l", "from_bus": "s", "to_bus": "far", "length_m": 10.0, "r_ohm": r_loop,
                  "neutral_r_ohm": r_n}],
        "source": [{"id": "st", "bus": "s", "v_set_v": 400.0, "rated_power_w": 1e8}],
        "rack": [{"id": "r", "bus": "far", "p_it_w": 1.2 * p_max, "vrm_efficiency": 1.0, "pole": pole}]},
        dc={"system": "bipolar"}, solver={"nose_tolerance": 1e-7})
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(case)
    d = info.value.details
    assert d["bus"] == "far" and d["pole"] == "positive" and d["feeder"] == "l"
    assert d["max_power_w"] == pytest.approx(p_max, rel=1e-6)
    assert "'far'" in str(info.value) and "positive pole" in str(info.value)


def test_monopolar_case_unchanged_by_the_dc_section(kit):
    doc = kit.base_doc()
    tables = {k: doc[k] for k in ("bus", "line", "source", "converter", "rack")}
    plain = gw.make_case(tables, loss_models=doc["loss_models"])
    explicit = gw.make_case(tables, loss_models=doc["loss_models"], dc={"system": "monopolar"})
    assert plain.settings["dc"]["system"] == "monopolar"
    a, b = gw.solve(plain), gw.solve(explicit)
    assert "v_pos_v" not in a and "dc_system" not in a.attrs
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_bipolar_results_have_every_monopolar_variable(kit):
    doc = kit.base_doc()
    tables = {k: doc[k] for k in ("bus", "line", "source", "converter", "rack")}
    mono = gw.solve(gw.make_case(tables, loss_models=doc["loss_models"]))
    bi = gw.solve(gw.make_case(tables, loss_models=doc["loss_models"], dc={"system": "bipolar"}))
    assert set(mono.data_vars) <= set(bi.data_vars)
    assert dict(mono.sizes) == dict(bi.sizes)
    for key in ("p_grid_w", "p_it_w", "p_loss_w", "energy_balance_residual", "efficiency_grid_to_chip"):
        assert key in bi.attrs
    for name in ("v_pos_v", "v_neg_v", "v_neutral_v", "i_pos_a", "i_neg_a", "i_neutral_a", "p_loss_neutral_w",
                 "p_dc_pos_w", "p_dc_neg_w"):
        assert bi[name].attrs["units"] and bi[name].attrs["long_name"], name


def test_campus_alternating_poles_and_cooling():
    case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=5, v_dc_v=400, rack_pole="alternating",
                           dc={"system": "bipolar"}, cooling={})
    assert list(case.tables["rack"]["pole"][:5]) == ["positive", "negative", "positive", "negative", "positive"]
    ds = gw.solve(case)
    assert ds.attrs["pue"] > 1 and ds.attrs["energy_balance_residual"] < 1e-12
    assert ds.attrs["p_pos_w"] > ds.attrs["p_neg_w"]  # three positive racks per row, two negative
    from gigawatt.summary import format_summary

    text = format_summary(ds)
    assert "largest neutral current" in text and "imbalance" in text


def test_bundled_bipolar_campus(cli, tmp_path):
    from gigawatt.cases.loader import bundled_cases

    path = [p for p in bundled_cases() if p.name == "hall_pm400vdc.toml"][0]
    case = gw.load_case(path)
    assert case.settings["dc"]["system"] == "bipolar"
    res = cli("run", path, "-o", tmp_path / "pm400.nc")
    assert res.exit_code == 0, res.output
    assert "bipolar DC (±400 V with a neutral)" in res.stdout and "largest neutral current" in res.stdout
    import xarray as xr

    with xr.open_dataset(tmp_path / "pm400.nc") as ds:
        # 16 racks a row on alternating poles: equal counts, so the stations' poles nearly balance, yet the
        # busway neutrals carry the imbalance between neighbouring taps.
        assert abs(ds.attrs["pole_imbalance"]) < 1e-3
        assert float(abs(ds.i_neutral_a).max()) > 100.0
        assert ds.attrs["energy_balance_residual"] < 1e-9
