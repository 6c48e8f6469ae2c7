"""Physical invariants after every solve, on random networks (hypothesis).

Random trees plus a few ring-closing lines, one to three sources (stiff and droop), racks with every kind of
shelf loss model, optional DC/DC converter levels. Loads are kept well inside what each network can carry
(see ``_budget``), so a solution exists and the solver must find it. Every check recomputes its quantity
from the result variables and the case inputs, not from the solver's internals.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.models.conductors import MATERIALS

EPS = np.finfo(float).eps

# 40 random networks, the same ones on every run (derandomize) so CI is reproducible. No shrinking: a
# failed solve runs the nose bisection (about 20 more solves), which makes shrinking take minutes; the
# falsifying example is printed as drawn.
INVARIANT_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate],
                              suppress_health_check=[HealthCheck.too_slow])

LEVEL_VOLTS = (800.0, 400.0, 50.0)  # distribution, intermediate bus, rack-level bus behind converters
MAX_DROP = 0.05  # each zone's load is sized so that I_total · R_tree_sum <= 5 % of its voltage

SHELF_CURVE = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
               "efficiency": [0.95, 0.97, 0.98, 0.975]}  # the bundled case's shelf curve (loss rises)


def _tree(draw, n):
    """Parent of each bus 1..n-1 (bus 0 is the root)."""
    return [draw(st.integers(0, i - 1)) for i in range(1, n)]


@st.composite
def random_cases(draw):
    """A random valid case, as make_case arguments; loads sized by ``_budget``."""
    n_levels = draw(st.integers(1, 3))
    zones = []  # one zone per level (level 0 first), each a tree plus extra lines
    for lev in range(n_levels):
        v = LEVEL_VOLTS[lev]
        n = draw(st.integers(2, 16) if lev == 0 else st.integers(1, 6))
        r_scale = (v / 800.0) ** 2  # same per-unit impedance at every level
        parent = _tree(draw, n)
        r_tree = [r_scale * draw(st.floats(2e-4, 2e-2)) for _ in parent]
        extra = []
        if n >= 3:
            for _ in range(draw(st.integers(0, 3))):
                a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
                if a != b:
                    extra.append((a, b, r_scale * draw(st.floats(2e-4, 2e-2)), draw(st.booleans()) or
                                  draw(st.booleans())))  # 3 in 4 extra lines in service
        zones.append(dict(v=v, n=n, parent=parent, r_tree=r_tree, extra=extra))

    buses, lines, sources, converters, racks, loss_models = [], [], [], [], [], {
        "ce97": {"kind": "constant_efficiency", "efficiency": 0.97},
        "curve": SHELF_CURVE,
    }
    name = lambda lev, i: f"z{lev}b{i}"  # noqa: E731
    for lev, z in enumerate(zones):
        for i in range(z["n"]):
            buses.append({"id": name(lev, i), "v_nominal_v": z["v"]})
        for i, (p, r) in enumerate(zip(z["parent"], z["r_tree"]), start=1):
            lines.append({"id": f"z{lev}t{i}", "from_bus": name(lev, p), "to_bus": name(lev, i), "length_m": 10.0,
                          "r_ohm": r, "kind": draw(st.sampled_from(["cable", "busway", "busbar"]))})
        for k, (a, b, r, live) in enumerate(z["extra"]):
            lines.append({"id": f"z{lev}x{k}", "from_bus": name(lev, a), "to_bus": name(lev, b), "length_m": 10.0,
                          "r_ohm": r, "in_service": live})

    # Racks: relative IT power weights now, scaled to the budget below.
    weights = []
    for lev, z in enumerate(zones):
        for k in range(draw(st.integers(1, z["n"] + 2))):
            rid = f"z{lev}r{k}"
            w = draw(st.floats(0.1, 1.0))
            shelf = draw(st.sampled_from(["", "ce97", "curve", "quad"]))
            rack = {"id": rid, "bus": name(lev, draw(st.integers(0, z["n"] - 1))),
                    "vrm_efficiency": draw(st.floats(0.85, 0.95))}
            if shelf:
                rack["shelf_loss_model"] = shelf if shelf != "quad" else f"q_{rid}"
                rack["shelf_margin"] = draw(st.floats(1.1, 2.0))  # replaced by shelf_rated_power_w below
            racks.append(rack)
            weights.append((lev, w))

    # Feeds: 1-3 sources at level 0; 1-2 converters into each lower level, from the level above.
    feed_specs = []
    for lev in range(n_levels):
        count = draw(st.integers(1, 3)) if lev == 0 else draw(st.integers(1, 2))
        for k in range(count):
            feed_specs.append(dict(
                lev=lev, k=k, bus=draw(st.integers(0, zones[lev]["n"] - 1)),
                from_bus=draw(st.integers(0, zones[lev - 1]["n"] - 1)) if lev else None,
                droop=draw(st.sampled_from([0.0, 0.0, 0.01, 0.03, 0.05])),
                margin=draw(st.floats(1.5, 3.0)),
                # A droop feed's set-point sits up to 0.2 x its droop above nominal, so that at a bus a stiff
                # feed holds it still delivers (up to 0.2 x rated; the stiff feeds never absorb power).
                lift=draw(st.floats(0.0, 0.2)),
                loss=draw(st.sampled_from(["", "ce97", "curve", "quad"]))))
    load_frac = draw(st.floats(0.05, 1.0))
    return _assemble_case(zones, buses, lines, racks, weights, feed_specs, loss_models, load_frac)


def _budget(zones, weights, feed_specs):
    """Largest uniform IT-power scale that keeps every zone inside MAX_DROP.

    A zone's whole load current flowing through the sum of its tree resistances bounds its voltage drop
    from any feed (every bus reaches a feed along the tree; ring lines only lower resistance). Rack input
    is at most IT/0.85 x 1.06 (VRM >= 85 %, shelf loss <= 6 % here) and converter input at most 1.15 x
    output, so a factor 1.5 per level covers both.
    """
    n_lev = len(zones)
    own = np.zeros(n_lev)
    for lev, w in weights:
        own[lev] += w
    total = own * 1.5
    for lev in range(n_lev - 1, 0, -1):
        total[lev - 1] += 1.5 * total[lev]
    cap = np.array([MAX_DROP * z["v"] ** 2 / max(sum(z["r_tree"]), 1e-12) for z in zones])
    return float(np.min(cap / total)), total


def _assemble_case(zones, buses, lines, racks, weights, feed_specs, loss_models, load_frac):
    scale, total = _budget(zones, weights, feed_specs)
    scale *= load_frac
    for rack, (lev, w) in zip(racks, weights):
        rack["p_it_w"], rack["p_it_basis"] = w * scale, "chips"  # the invariants recompute the chain from the chips
        margin = rack.pop("shelf_margin", None)
        if margin is not None:
            shelf_rated = margin * rack["p_it_w"] / rack["vrm_efficiency"]
            rack["shelf_rated_power_w"] = shelf_rated
            if rack["shelf_loss_model"].startswith("q_"):
                # about 0.5 % + 1 % + 0.5 % of rated at full load, at the 50 V shelf output
                loss_models[rack["shelf_loss_model"]] = {"kind": "quadratic", "a_w": 0.005 * shelf_rated,
                                                         "b_v": 0.01 * 50.0, "c_ohm": 0.005 * 50.0 ** 2 / shelf_rated}
    n_per_level = {}
    for f in feed_specs:
        n_per_level[f["lev"]] = n_per_level.get(f["lev"], 0) + 1
    sources, converters = [], []
    for f in feed_specs:
        lev, v = f["lev"], zones[f["lev"]]["v"]
        fid = f"s{f['k']}" if lev == 0 else f"c{lev}_{f['k']}"
        rated = f["margin"] * total[lev] * scale / n_per_level[lev]
        row = {"id": fid, "v_set_v": v * (1 + f["lift"] * f["droop"]), "droop": f["droop"], "rated_power_w": rated}
        if f["loss"] == "quad":
            loss_models[f"q_{fid}"] = {"kind": "quadratic", "a_w": 0.002 * rated, "b_v": 0.005 * v,
                                       "c_ohm": 0.005 * v ** 2 / rated}
            row["loss_model"] = f"q_{fid}"
        elif f["loss"]:
            row["loss_model"] = f["loss"]
        if lev == 0:
            row["bus"] = f"z0b{f['bus']}"
            sources.append(row)
        else:
            row["from_bus"], row["to_bus"] = f"z{lev - 1}b{f['from_bus']}", f"z{lev}b{f['bus']}"
            converters.append(row)
    return dict(tables={"bus": buses, "line": lines, "source": sources, "converter": converters, "rack": racks},
                loss_models=loss_models, case={"name": "random"})


# --- the checks ------------------------------------------------------------------------------------

def _loss(case, model_name, p_out, v_out, rated):
    """A loss model evaluated through the case's registry ('' = lossless); the models themselves are
    checked against their references in test_models.py."""
    if not model_name:
        return 0.0
    return float(case.loss_models[model_name].loss_w(p_out, v_out, rated))


def check_invariants(case: gw.Case, ds: xr.Dataset):
    t = case.tables
    bus_ids = list(ds.bus.values)
    assert bus_ids == list(t["bus"]["id"])
    pos = {b: i for i, b in enumerate(bus_ids)}
    n = len(bus_ids)
    v = ds.v_v.values
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    assert ds.attrs["converged"] == 1

    # Lines: the results echo the input resistance; current = ΔV / R; loss = I²R, >= 0; out of service: no
    # current, no loss. rel 1e-13: one subtraction and one division of numbers the results already hold.
    lines = t["line"]
    live = lines["in_service"].to_numpy(bool)
    frm = np.array([pos[b] for b in lines["from_bus"]], dtype=int)
    to = np.array([pos[b] for b in lines["to_bus"]], dtype=int)
    r = lines["r_ohm"].to_numpy(float).copy()
    # Lines given by geometry: R = loop · ρ20 (1 + α (T − 293.15 K)) · L / (A · n_parallel), with the
    # material's IEC 60287-1-1 values (the conductor model itself is checked in test_models.py).
    geom = np.isnan(r)
    for j in np.flatnonzero(geom):
        row = lines.iloc[j]
        mat = MATERIALS[row["material"]]
        rho = row["rho20_ohm_m"] if np.isfinite(row["rho20_ohm_m"]) else mat["rho20_ohm_m"]
        alpha = row["alpha_per_k"] if np.isfinite(row["alpha_per_k"]) else mat["alpha_per_k"]
        r[j] = (row["loop_factor"] * rho * (1 + alpha * (row["conductor_temp_k"] - 293.15)) * row["length_m"]
                / (row["cross_section_m2"] * row["n_parallel"]))
    i_line = ds.i_a.values
    # rel 1e-15 for given resistances (echoed); 1e-14 for computed ones (a few roundings in the product).
    given_r, geom_r = live & ~geom, live & geom
    np.testing.assert_allclose(ds.r_ohm.values[given_r], r[given_r], rtol=1e-15)
    np.testing.assert_allclose(ds.r_ohm.values[geom_r], r[geom_r], rtol=1e-14)
    np.testing.assert_allclose(i_line[live], (v[frm] - v[to])[live] / r[live], rtol=1e-13, atol=0)
    np.testing.assert_allclose(ds.line_p_loss_w.values[live], i_line[live] ** 2 * r[live], rtol=1e-13, atol=0)
    assert np.all(ds.line_p_loss_w.values >= 0)
    assert np.all(np.isnan(i_line[~live])) and np.all(ds.line_p_loss_w.values[~live] == 0)

    # Racks: input = IT / VRM + shelf loss at the shelf output (constant power), recomputed here.
    racks = t["rack"]
    rack_in = np.zeros(len(racks))
    for j, row in enumerate(racks.itertuples()):
        shelf_out = row.p_it_w / row.vrm_efficiency
        rack_in[j] = shelf_out + _loss(case, row.shelf_loss_model, shelf_out, row.shelf_v_out_v,
                                       row.shelf_rated_power_w)
    np.testing.assert_allclose(ds.rack_p_in_w.values, rack_in, rtol=1e-13)
    np.testing.assert_allclose(ds.vrm_loss_w.values, racks["p_it_w"] / racks["vrm_efficiency"] - racks["p_it_w"],
                               rtol=1e-12, atol=1e-9 * racks["p_it_w"].max())
    np.testing.assert_allclose(ds.rack_v_v.values, v[[pos[b] for b in racks["bus"]]], rtol=0)

    # Feeds: a stiff feed holds its bus at the set-point exactly; a droop feed delivers k(v_set − V) with
    # k = rated / (droop · v_set); losses follow their model at the output operating point.
    src, conv = t["source"], t["converter"]
    for table, df, p_var, loss_var, bus_col in (("source", src, "p_dc_w", "source_loss_w", "bus"),
                                                 ("converter", conv, "p_out_w", "converter_loss_w", "to_bus")):
        for j, row in enumerate(df.itertuples()):
            vb = v[pos[getattr(row, bus_col)]]
            p = float(ds[p_var].values[j])
            if row.droop == 0:
                assert vb == row.v_set_v
            else:
                k = row.rated_power_w / (row.droop * row.v_set_v)
                # rel 1e-9 of the rating: v_set − V loses ~ eps·v_set / (v_set − V) to cancellation.
                assert p == pytest.approx(k * (row.v_set_v - vb), rel=1e-12, abs=1e-9 * row.rated_power_w)
            expected_loss = _loss(case, row.loss_model, max(p, 0.0), vb, row.rated_power_w)
            assert float(ds[loss_var].values[j]) == pytest.approx(expected_loss, rel=1e-12, abs=1e-9)
            assert float(ds[loss_var].values[j]) >= 0
    np.testing.assert_allclose(ds.source_p_grid_w.values, ds.p_dc_w.values + ds.source_loss_w.values, rtol=1e-15)
    np.testing.assert_allclose(ds.converter_p_in_w.values, ds.p_out_w.values + ds.converter_loss_w.values,
                               rtol=1e-15)

    # Kirchhoff's current law at every bus, from the variables: Σ line currents out + load current P/V
    # − feed current P/V = 0.
    out_a = np.zeros(n)
    absolute = np.zeros(n)  # Σ |currents| at the bus, the scale of its balance
    np.add.at(out_a, frm[live], i_line[live])
    np.add.at(out_a, to[live], -i_line[live])
    np.add.at(absolute, frm[live], np.abs(i_line[live]))
    np.add.at(absolute, to[live], np.abs(i_line[live]))
    load_w = np.zeros(n)
    np.add.at(load_w, [pos[b] for b in racks["bus"]], rack_in)
    np.add.at(load_w, [pos[b] for b in conv["from_bus"]], ds.converter_p_in_w.values)
    feed_w = np.zeros(n)
    np.add.at(feed_w, [pos[b] for b in src["bus"]], ds.p_dc_w.values)
    np.add.at(feed_w, [pos[b] for b in conv["to_bus"]], ds.p_out_w.values)
    np.testing.assert_allclose(ds.p_load_w.values, load_w, rtol=1e-12, atol=0)
    residual = out_a + load_w / v - feed_w / v
    absolute += np.abs(load_w / v) + np.abs(feed_w / v)
    # The solver stops when its largest mismatch is below solver.tolerance x the level's load current
    # (Σ load / lowest nominal voltage of the level): that absolute current is the residual it may leave
    # by design. On top, 1e-8 of the bus's own current covers rounding in these sums.
    level = ds.level.values
    vnom = ds.v_nominal_v.values
    tol_level = {lev: case.settings["solver"]["tolerance"] * max(load_w[level == lev].sum() / vnom[level == lev].min(),
                                                                   1e-6) for lev in np.unique(level)}
    # And a line current cannot be known better than the rounding of its two end voltages, 2·eps·|V|/R
    # each: with light loads on stiff lines this floor is above the solver's tolerance.
    floor = np.zeros(n)
    ulp_i = 2 * EPS * (np.abs(v[frm]) + np.abs(v[to]))[live] / r[live]
    np.add.at(floor, frm[live], ulp_i)
    np.add.at(floor, to[live], ulp_i)
    allowed = 1e-8 * absolute + np.array([tol_level[lev] for lev in level]) + floor
    bad = np.abs(residual) > allowed
    assert not bad.any(), (f"KCL violated at {[bus_ids[i] for i in np.flatnonzero(bad)]}: residual "
                           f"{residual[bad]} A, bus current {absolute[bad]} A")

    # Energy ledger, recomputed: grid = IT + every stage loss.
    stages = dict(zip(ds.stage.values, ds.stage_loss_w.values))
    mine = {"ac_dc_station": ds.source_loss_w.values.sum(), "distribution": ds.line_p_loss_w.values.sum(),
            "dc_dc_converter": ds.converter_loss_w.values.sum(), "rack_shelf": ds.shelf_loss_w.values.sum(),
            "rack_vrm": ds.vrm_loss_w.values.sum()}
    assert set(stages) == set(mine)
    for k in mine:
        assert stages[k] == pytest.approx(mine[k], rel=1e-12, abs=1e-12 * ds.attrs["p_grid_w"]), k
        assert stages[k] >= 0
    assert np.all(ds.kind_loss_w.values >= 0)
    p_grid, p_it = ds.source_p_grid_w.values.sum(), racks["p_it_w"].sum()
    assert ds.attrs["p_grid_w"] == pytest.approx(p_grid, rel=1e-13)
    assert ds.attrs["p_it_w"] == pytest.approx(p_it, rel=1e-13)
    assert ds.kind_loss_w.values.sum() == pytest.approx(sum(mine.values()), rel=1e-12)
    # Tellegen: summing V_b x (KCL residual at b) over all buses gives exactly (feed power − conductor
    # losses − load power), so the DC network's power balance must equal the KCL residuals checked above,
    # up to rounding of these sums (1e-13 of the power handled).
    delivered = ds.p_dc_w.values.sum() + ds.p_out_w.values.sum()
    drawn = ds.line_p_loss_w.values.sum() + rack_in.sum() + ds.converter_p_in_w.values.sum()
    assert abs(delivered - drawn + np.sum(v * residual)) <= 1e-13 * (delivered + drawn)
    # The ledger: with the default solver tolerance (1e-11 of the load current) the KCL residuals are far
    # below 1e-9 of the power, so grid = IT + losses to 1e-9, recomputed here and as reported.
    assert case.settings["solver"]["tolerance"] <= 1e-11
    assert abs(p_grid - p_it - sum(mine.values())) <= 1e-9 * p_grid  # ledger-check
    assert ds.attrs["energy_balance_residual"] <= 1e-9  # ledger-check
    assert ds.attrs["efficiency_grid_to_chip"] == pytest.approx(p_it / p_grid, rel=1e-13)


def _snapshot(case):
    return ({k: df.copy(deep=True) for k, df in case.tables.items()}, copy.deepcopy(dict(case.loss_model_params)),
            copy.deepcopy({k: v and dict(v) for k, v in case.settings.items()}))


def _assert_same_case(case, snap):
    tables, params, sets = snap
    for k, df in case.tables.items():
        pd.testing.assert_frame_equal(df, tables[k], check_exact=True)
    assert dict(case.loss_model_params) == params
    assert {k: v and dict(v) for k, v in case.settings.items()} == sets


@INVARIANT_SETTINGS
@given(random_cases())
def test_invariants_on_random_networks(spec):
    case = gw.make_case(**spec)
    snap = _snapshot(case)
    ds = gw.solve(case)
    check_invariants(case, ds)
    _assert_same_case(case, snap)  # solve() did not change its input
    # No hidden state: a second solve gives the same dataset, bit for bit.
    xr.testing.assert_identical(gw.solve(case), ds)


# --- no hidden state, deterministic cases ----------------------------------------------------------

def _small_case(kit):
    doc = kit.base_doc()
    return gw.make_case({k: doc[k] for k in ("bus", "line", "source", "converter", "rack")},
                        loss_models=doc["loss_models"], case=doc["case"])


def test_invariants_on_the_small_case(kit):
    case = _small_case(kit)
    check_invariants(case, gw.solve(case))


def test_results_do_not_share_memory_with_the_case(kit):
    # solve() returns a new Dataset: writing into it must not reach back into the case's tables.
    case = _small_case(kit)
    snap = _snapshot(case)
    ds = gw.solve(case)
    for name in ds.data_vars:
        values = ds[name].values
        if values.dtype.kind == "f" and values.size:
            values[...] = -1.0
    _assert_same_case(case, snap)


def test_case_hash_follows_the_tables(kit):
    # The results carry the hash of what was solved. If a table is changed in place after a first solve,
    # a second solve must not report the first one's hash (pandapower's stale-cache trap, STYLE.md 7).
    # gigawatt's answer: a case's tables are read-only, so an in-place edit raises; replacing a column is
    # seen by the hash.
    case = _small_case(kit)
    first = gw.solve(case)
    with pytest.raises(ValueError, match="read-only"):
        case.tables["rack"].loc[0, "p_it_w"] = 2 * case.tables["rack"]["p_it_w"].iloc[0]
    assert gw.solve(case).attrs["case_hash"] == first.attrs["case_hash"]
    case.tables["rack"]["p_it_w"] = 2 * case.tables["rack"]["p_it_w"]
    second = gw.solve(case)
    assert second.attrs["p_it_w"] != first.attrs["p_it_w"]
    assert second.attrs["case_hash"] != first.attrs["case_hash"]


def test_same_content_same_hash(kit, tmp_path):
    # The hash is of the validated content, not of the file or object: the same case from TOML and from
    # make_case hashes alike, and any change of a value changes it.
    doc = kit.base_doc()
    from_file = gw.load_case(kit.write_case(tmp_path, doc))
    in_code = _small_case(kit)
    assert from_file.hash() == in_code.hash()
    doc["line"][1]["r_ohm"] = 0.0021
    assert gw.load_case(kit.write_case(tmp_path, doc, "other.toml")).hash() != in_code.hash()
