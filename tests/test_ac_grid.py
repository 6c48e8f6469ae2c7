"""The grid side (gigawatt.solver.ac.grid): coupling to the DC solve, reactive power, the plant-to-chip
ledger, standard types and supplies, the campus builder's sites and grid, the bundled 5 GW campus.

The closed-form check of the AC/DC chain is the validation case ``ac_analytic_two_bus`` (run by
test_validation.py); here each test names the invariant or the reference it checks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.solver.ac.grid import station_reactive_power


def grid_doc(kit) -> dict:
    """The base case of conftest with a grid side: an ext_grid at 110 kV, one 110/33 kV transformer, a 2 km
    33 kV cable to the station's AC bus; the station draws at power factor 0.95."""
    doc = kit.base_doc()
    doc["source"][0].update(ac_bus="st", power_factor=0.95)
    doc["ac_bus"] = [{"id": "grid", "v_nominal_kv": 110.0}, {"id": "mv", "v_nominal_kv": 33.0},
                     {"id": "st", "v_nominal_kv": 33.0}]
    doc["ac_trafo"] = [{"id": "t1", "hv_bus": "grid", "lv_bus": "mv", "rated_power_mva": 10.0,
                        "v_rated_hv_kv": 110.0, "v_rated_lv_kv": 33.0, "vk_percent": 10.0, "vkr_percent": 0.5,
                        "p_fe_kw": 5.0, "i0_percent": 0.1}]
    doc["ac_line"] = [{"id": "cable", "from_bus": "mv", "to_bus": "st", "length_km": 2.0, "r_ohm_per_km": 0.1,
                       "x_ohm_per_km": 0.1, "c_nf_per_km": 300.0, "max_i_ka": 0.4}]
    doc["ac_supply"] = [{"id": "sub", "bus": "grid", "kind": "ext_grid", "vm_pu": 1.0}]
    return doc


def solve_doc(kit, tmp_path, doc, name="case.toml"):
    case = gw.load_case(kit.write_case(tmp_path, doc, name))
    return case, gw.solve(case)


@pytest.fixture
def solved(kit, tmp_path):
    return solve_doc(kit, tmp_path, grid_doc(kit))


def test_case_without_grid_side_is_unchanged(kit, tmp_path, solved):
    # No AC tables: no AC variables or ledger; and the DC solution is the same with or without a grid side
    # (the coupling is one way: station losses depend on the DC operating point only).
    _, plain = solve_doc(kit, tmp_path, kit.base_doc(), "plain.toml")
    assert "ac_bus" not in plain.dims and "p_plant_w" not in plain.attrs
    _, ds = solved
    np.testing.assert_array_equal(ds["v_v"].values, plain["v_v"].values)
    np.testing.assert_array_equal(ds["source_p_grid_w"].values, plain["source_p_grid_w"].values)


def test_station_draws_dc_power_plus_losses_at_its_power_factor(solved):
    case, ds = solved
    p_in = float(ds["p_dc_w"].sel(source="s1") + ds["source_loss_w"].sel(source="s1"))
    # The AC load flow's load is the DC output plus the station loss (the interface: exact up to the W→MW
    # conversion, 1e-15) ...
    assert float(ds["source_p_ac_w"].sel(source="s1")) == pytest.approx(p_in, rel=1e-14)
    # ... at Q = P tan(arccos 0.95) ...
    assert float(ds["source_q_ac_var"].sel(source="s1")) == pytest.approx(p_in * math.tan(math.acos(0.95)), rel=1e-14)
    # ... and the cable delivers it: minus the power entering the cable at the station's end (pandapower's
    # branch flow from the bus voltages), to the load flow's tolerance of 1e-10 of the station's power.
    delivered = -float(ds["ac_line_p_to_w"].sel(ac_line="cable"))
    assert delivered == pytest.approx(p_in, rel=1e-9)
    assert ds.attrs["ac_coupling_residual"] <= 1e-9


def test_station_out_of_service_draws_nothing(kit, tmp_path):
    # A second station on the same AC bus, out of service: no AC intake, no reactive power; the coupling
    # check covers the one that draws.
    doc = grid_doc(kit)
    doc["source"].append({"id": "s2", "bus": "b", "v_set_v": 800.0, "rated_power_w": 1e6, "ac_bus": "st",
                          "power_factor": 0.9, "in_service": False})
    _, ds = solve_doc(kit, tmp_path, doc)
    assert float(ds["source_p_ac_w"].sel(source="s2")) == 0.0 and float(ds["source_q_ac_var"].sel(source="s2")) == 0.0
    assert ds.attrs["ac_coupling_residual"] <= 1e-9 and ds.attrs["plant_energy_balance_residual"] <= 1e-9


def test_grid_side_with_cooling():
    # The grid side and the cooling stage together: both ledgers, one dataset.
    case = campus(grid="ext_grid", cooling={})
    ds = gw.solve(case)
    assert "pue" in ds.attrs and "p_plant_w" in ds.attrs
    assert ds.attrs["plant_energy_balance_residual"] <= 1e-9 and ds.attrs["heat_balance_residual"] <= 1e-9


def test_reactive_power_model():
    # 3-4-5 triangle: pf 0.8 → Q = 0.75 P; unity → 0; a given q_var wins, whatever the power factor.
    np.testing.assert_allclose(station_reactive_power([4e6, 4e6, 4e6], [0.8, 1.0, 0.8], [np.nan, np.nan, -1e6]),
                               [3e6, 0.0, -1e6], rtol=1e-15, atol=1e-9)


def test_q_var_overrides_power_factor(kit, tmp_path):
    doc = grid_doc(kit)
    doc["source"][0]["q_var"] = -0.2e6  # the station supplies 200 kvar
    _, ds = solve_doc(kit, tmp_path, doc)
    assert float(ds["source_q_ac_var"].sel(source="s1")) == pytest.approx(-0.2e6, rel=1e-14)


def test_ledger_from_the_plant_to_the_chips(solved):
    _, ds = solved
    a = ds.attrs
    # Plant = stations' intake + AC losses (pandapower's balance, to its tolerance); AC losses by kind sum up;
    # plant = IT power + every loss; the plant-to-chip efficiency is below the station-to-chip one.
    assert a["p_plant_w"] == pytest.approx(float(ds["ac_supply_p_w"].sum()), rel=1e-15)
    assert a["p_ac_intake_w"] == pytest.approx(a["p_grid_w"], rel=1e-15)
    assert a["p_ac_loss_w"] == pytest.approx(float(ds["ac_kind_loss_w"].sum()), rel=1e-15)
    assert a["p_ac_loss_w"] == pytest.approx(float(ds["ac_line_loss_w"].sum() + ds["ac_trafo_loss_w"].sum()), rel=1e-12)
    assert a["ac_energy_balance_residual"] <= 1e-9 and a["plant_energy_balance_residual"] <= 1e-9
    assert a["efficiency_plant_to_chip"] == pytest.approx(a["p_it_w"] / a["p_plant_w"], rel=1e-15)
    assert 0 < a["p_ac_loss_w"] and a["efficiency_plant_to_chip"] < a["efficiency_grid_to_chip"]
    # The transformer's loss includes its iron loss: at least the 5 kW at rated voltage, scaled by V².
    vm = float(ds["ac_vm_pu"].sel(ac_bus="grid"))
    assert float(ds["ac_trafo_loss_w"].sel(ac_trafo="t1")) > 5e3 * vm ** 2 * 0.99


def test_every_ac_variable_has_units_and_long_name(solved):
    _, ds = solved
    ac = [v for v in ds.data_vars if set(ds[v].dims) & {"ac_bus", "ac_line", "ac_trafo", "ac_supply", "ac_kind"}
          or v.startswith("source_") and "ac" in v]
    assert len(ac) > 25
    for v in ac:
        assert ds[v].attrs.get("units") and ds[v].attrs.get("long_name"), v


def test_summary_and_netcdf(solved, tmp_path):
    from gigawatt.summary import format_summary

    _, ds = solved
    text = format_summary(ds)
    for words in ("grid side", "power from the plants", "stations AC intake", "plant-to-chip efficiency",
                  "ac_trafo loss", "sub "):
        assert words in text, text
    ds.to_netcdf(tmp_path / "r.nc")
    back = xr.load_dataset(tmp_path / "r.nc")
    assert back.attrs["p_plant_w"] == ds.attrs["p_plant_w"]


def test_std_type_equals_its_parameters(kit, tmp_path):
    # A line given by a pandapower standard type solves exactly as the same line given by that type's
    # parameters (read from pandapower's own table and converted to SI).
    import pandapower as pp

    name = "NA2XS2Y 1x240 RM/25 12/20 kV"
    row = pp.available_std_types(pp.create_empty_network(), "line").loc[name]
    by_type, by_value = grid_doc(kit), grid_doc(kit)
    for doc in (by_type, by_value):
        for b in doc["ac_bus"][1:]:
            b["v_nominal_kv"] = 20.0
        doc["ac_trafo"][0]["v_rated_lv_kv"] = 20.0
    by_type["ac_line"][0] = {"id": "cable", "from_bus": "mv", "to_bus": "st", "length_km": 2.0, "std_type": name}
    by_value["ac_line"][0] = {"id": "cable", "from_bus": "mv", "to_bus": "st", "length_km": 2.0,
                              **{k: float(row[k]) for k in ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka")}}
    _, a = solve_doc(kit, tmp_path, by_type, "a.toml")
    _, b = solve_doc(kit, tmp_path, by_value, "b.toml")
    for v in ("ac_vm_pu", "ac_line_loss_w", "ac_line_loading"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-12)


def test_slack_gen_and_dispatched_gen(kit, tmp_path):
    # A plant's slack generator behind its own bus, and a second generator dispatched at 1 MW on the MV bus:
    # the dispatched one delivers exactly its p_w, the slack the rest of the plant's power.
    doc = grid_doc(kit)
    doc["ac_supply"] = [{"id": "unit", "bus": "grid", "kind": "gen", "slack": True, "vm_pu": 1.02,
                         "rated_power_mva": 20.0},
                        {"id": "peaker", "bus": "mv", "kind": "gen", "p_w": 1e6, "vm_pu": 1.0}]
    _, ds = solve_doc(kit, tmp_path, doc)
    assert float(ds["ac_supply_p_w"].sel(ac_supply="peaker")) == pytest.approx(1e6, rel=1e-12)
    assert float(ds["ac_vm_pu"].sel(ac_bus="grid")) == pytest.approx(1.02, rel=1e-12)
    assert float(ds["ac_vm_pu"].sel(ac_bus="mv")) == pytest.approx(1.0, rel=1e-12)
    assert ds.attrs["plant_energy_balance_residual"] <= 1e-9
    assert np.isnan(float(ds["ac_supply_loading"].sel(ac_supply="peaker")))  # no rating given


def test_overloaded_branch_is_warned(kit, tmp_path):
    doc = grid_doc(kit)
    doc["ac_line"][0]["max_i_ka"] = 0.001  # 1 A; the 0.14 MW station draws about 2.6 A at 33 kV
    _, ds = solve_doc(kit, tmp_path, doc)
    assert "ac_line 'cable' is loaded to" in ds.attrs["warnings"]


# --- the campus builder: sites and the grid side --------------------------------------------------------------

def campus(**kw):
    params = dict(halls=2, rows_per_hall=2, racks_per_row=3, stations_per_hall=2, station_loss_model="eta",
                  loss_models={"eta": {"kind": "constant_efficiency", "efficiency": 0.98}})
    params.update(kw)
    return gw.build_campus(**params)


def test_campus_without_grid_keeps_its_ids_and_has_no_ac_tables():
    case = campus()
    assert case.tables["source"]["id"].tolist() == ["H1-ST1", "H1-ST2", "H2-ST1", "H2-ST2"]
    assert (case.tables["source"]["ac_bus"] == "").all()
    assert all(len(case.tables[t]) == 0 for t in ("ac_bus", "ac_line", "ac_trafo", "ac_supply"))


@pytest.mark.parametrize("grid", ["ext_grid", "gen"])
def test_campus_sites_and_grid_side(grid):
    n_site, n_tr, pf = 3, 2, 0.97
    case = campus(sites=n_site, grid=grid, grid_transformers_per_site=n_tr, station_power_factor=pf)
    t = case.tables
    n_st = n_site * 2 * 2
    assert t["source"]["id"].iloc[-1] == "S3-H2-ST2" and t["rack"]["id"].iloc[0] == "S1-H1-R1-rack1"
    assert len(t["rack"]) == n_site * 2 * 2 * 3
    # Per site: POC, HV, one MV switchboard per transformer (and the generator bus); a bus per station.
    assert len(t["ac_bus"]) == n_site * (2 + n_tr + (grid == "gen")) + n_st
    assert len(t["ac_line"]) == n_site + n_st and len(t["ac_supply"]) == n_site
    # The HV/MV transformers of a site carry its stations' rating at their power factor.
    hv_mv = t["ac_trafo"][t["ac_trafo"]["lv_bus"].str.contains("-MV")]
    rating = t["source"]["rated_power_w"].to_numpy()
    assert hv_mv["rated_power_va"].sum() == pytest.approx(rating.sum() / pf, rel=1e-12)
    assert set(t["source"]["power_factor"]) == {pf}
    ds = gw.solve(case)
    # Identical sites draw identical power from identical supplies (to the load flow's tolerance).
    p = ds["ac_supply_p_w"].values
    np.testing.assert_allclose(p, p[0], rtol=1e-9)
    assert ds.attrs["ac_coupling_residual"] <= 1e-9 and ds.attrs["plant_energy_balance_residual"] <= 1e-9


# --- the bundled 5 GW campus ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def campus_5gw(tmp_path_factory):
    """`gigawatt run` on the bundled 5 GW case (in-process), and its results file."""
    from click.testing import CliRunner

    from gigawatt.cases.loader import bundled_cases
    from gigawatt.cli import main

    path = next(p for p in bundled_cases() if p.name == "campus_5gw.toml")
    out = tmp_path_factory.mktemp("c5") / "c5.nc"
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(out)])
    return path, res, xr.load_dataset(out) if out.exists() else None


def test_campus_5gw_runs_from_the_command_line(campus_5gw):
    _, res, ds = campus_5gw
    assert res.exit_code == 0, res.output
    assert "grid side" in res.stdout and "plant-to-chip efficiency" in res.stdout
    # 5 sites x 40 halls x 12 rows x 16 racks of 130 kW at their inputs; each site on its own generator.
    assert ds.sizes["rack"] == 38_400 and ds.sizes["ac_supply"] == 5
    assert float(ds["rack_p_in_w"].sum()) == pytest.approx(5 * 40 * 12 * 16 * 130e3, rel=1e-12)
    assert set(ds["ac_supply_kind"].values) == {"gen"}
    assert ds.attrs["ac_coupling_residual"] <= 1e-9
    assert ds.attrs["plant_energy_balance_residual"] <= 1e-9 and ds.attrs["energy_balance_residual"] <= 1e-9
    p = ds["ac_supply_p_w"].values
    np.testing.assert_allclose(p, p[0], rtol=1e-9)  # five identical sites


# --- invariants on random grids -------------------------------------------------------------------------------

def random_grid_case(seed: int):
    """A random meshed 33 kV grid fed through a 110/33 kV transformer pair from an ext_grid (and, on some seeds,
    a dispatched gen), with stations at random buses, each feeding its own rack through a DC line; some
    cables doubled, one out of service. Everything random comes from numpy.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 25))
    ac_bus = [{"id": "hv", "v_nominal_v": 110e3}] + [{"id": f"b{i}", "v_nominal_v": 33e3} for i in range(n)]
    lines = [{"id": f"c{i}", "from_bus": f"b{int(rng.integers(0, i))}", "to_bus": f"b{i}",
              "length_m": float(rng.uniform(100, 3000)), "r_ohm_per_m": 1e-4, "x_ohm_per_m": 1e-4,
              "c_f_per_m": 3e-10, "max_i_a": 500.0, "n_parallel": int(rng.integers(1, 3))} for i in range(1, n)]
    for k in range(3):  # meshes, the last one out of service
        a, b = rng.choice(n, 2, replace=False)
        lines.append({"id": f"m{k}", "from_bus": f"b{a}", "to_bus": f"b{b}", "length_m": 500.0, "r_ohm_per_m": 1e-4,
                      "x_ohm_per_m": 1e-4, "in_service": k < 2})
    trafos = [{"id": f"t{k}", "hv_bus": "hv", "lv_bus": "b0", "rated_power_va": 40e6, "v_rated_hv_v": 110e3,
               "v_rated_lv_v": 33e3, "vk_percent": 12.0, "vkr_percent": 0.4, "p_fe_w": 2e4, "i0_percent": 0.05}
              for k in range(2)]
    supply = [{"id": "sub", "bus": "hv", "kind": "ext_grid", "vm_pu": float(rng.uniform(0.98, 1.05))}]
    if seed % 2:
        supply.append({"id": "chp", "bus": f"b{n - 1}", "kind": "gen", "p_w": 2e6, "vm_pu": 1.0})
    bus, line, source, rack = [], [], [], []
    for j, b in enumerate(rng.choice(n, int(rng.integers(1, n + 1)), replace=False)):
        bus += [{"id": f"s{j}", "v_nominal_v": 800.0}, {"id": f"r{j}", "v_nominal_v": 800.0}]
        line.append({"id": f"d{j}", "from_bus": f"s{j}", "to_bus": f"r{j}", "length_m": 10.0, "r_ohm": 1e-4})
        source.append({"id": f"st{j}", "bus": f"s{j}", "v_set_v": 800.0, "rated_power_w": 5e6, "ac_bus": f"b{b}",
                       "power_factor": float(rng.uniform(0.9, 1.0)), "loss_model": "eta"})
        rack.append({"id": f"rack{j}", "bus": f"r{j}", "p_it_w": float(rng.uniform(0.2e6, 3e6)), "vrm_efficiency": 1.0})
    return gw.make_case({"bus": bus, "line": line, "source": source, "rack": rack, "ac_bus": ac_bus, "ac_line": lines,
                         "ac_trafo": trafos, "ac_supply": supply},
                        loss_models={"eta": {"kind": "constant_efficiency", "efficiency": 0.975}},
                        case={"name": f"random grid {seed}"})


@pytest.mark.parametrize("seed", range(6))
def test_kirchhoff_at_every_ac_bus_on_random_grids(seed):
    # From the result variables alone (echoed from/to buses and branch end powers): at every AC bus, supplies −
    # stations − power leaving into branches = 0, in P and Q; the ledgers close. Checks the mapping of every
    # element to its pandapower twin (indices, parallel circuits, out-of-service lines, gens).
    ds = gw.solve(random_grid_case(seed))
    buses = list(ds["ac_bus"].values)
    pos = {b: i for i, b in enumerate(buses)}
    p, q = np.zeros(len(buses)), np.zeros(len(buses))
    for frm, to, pf, qf, pt, qt in (("ac_line_from_bus", "ac_line_to_bus", "ac_line_p_from_w", "ac_line_q_from_var",
                                     "ac_line_p_to_w", "ac_line_q_to_var"),
                                    ("ac_trafo_hv_bus", "ac_trafo_lv_bus", "ac_trafo_p_hv_w", "ac_trafo_q_hv_var",
                                     "ac_trafo_p_lv_w", "ac_trafo_q_lv_var")):
        for col, pw, qv in ((frm, pf, qf), (to, pt, qt)):
            idx = [pos[b] for b in ds[col].values]
            np.add.at(p, idx, -np.nan_to_num(ds[pw].values))
            np.add.at(q, idx, -np.nan_to_num(ds[qv].values))
    src = ds["source_ac_bus"].values
    np.add.at(p, [pos[b] for b in src], -ds["source_p_ac_w"].values)
    np.add.at(q, [pos[b] for b in src], -ds["source_q_ac_var"].values)
    supplied = ds["ac_supply_p_w"].values
    case = random_grid_case(seed)
    np.add.at(p, [pos[b] for b in case.tables["ac_supply"]["bus"]], supplied)
    np.add.at(q, [pos[b] for b in case.tables["ac_supply"]["bus"]], ds["ac_supply_q_var"].values)
    # pandapower stops when every P (PQ and PV buses) and Q (PQ buses) mismatch is below its tolerance; the
    # gens' Q and the slack's P and Q are what balances their buses. 1e-6 W covers the round-off of summing
    # branch flows of 10⁷ W.
    free_q = [pos[b] for b in case.tables["ac_supply"]["bus"]]
    free_p = [pos[b] for b, k in zip(case.tables["ac_supply"]["bus"], case.tables["ac_supply"]["kind"])
              if k == "ext_grid"]
    limit = ds.attrs["ac_tolerance_w"] + 1e-6
    assert np.max(np.abs(np.delete(p, free_p))) <= limit and np.max(np.abs(np.delete(q, free_q))) <= limit
    assert float(ds["ac_line_p_from_w"].sel(ac_line="m2")) == 0.0  # out of service: carries nothing
    assert ds.attrs["ac_coupling_residual"] <= 1e-9 and ds.attrs["plant_energy_balance_residual"] <= 1e-9
