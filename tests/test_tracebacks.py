"""Never a traceback (issue 14): each input that used to end in a Python traceback, or in a message that
said the wrong thing, now ends in one line naming what is wrong (exit status 2, no results file), or, where
the input is meaningful, in a result. One test per class the issue lists; the examples are the issue's.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError


def error_line(res, out=None) -> str:
    """The one ``error:`` line of a refused command: exit 2, no traceback, no results file at ``out``."""
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    if out is not None:
        assert not out.exists()
    return lines[0]


def run_doc(kit, cli, tmp_path, doc, *extra):
    out = tmp_path / "out.nc"
    return cli("run", kit.write_case(tmp_path, doc), "-o", out, *extra), out


# --- cases without load -------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["no racks", "zero load"])
def test_case_without_load_solves_and_reports(what, tmp_path, kit, cli):
    doc = kit.one_line_doc(r_ohm=0.01, p_it_w=0.0)
    if what == "no racks":
        del doc["rack"]
    res, out = run_doc(kit, cli, tmp_path, doc)
    assert res.exit_code == 0, res.output
    assert "grid-to-chip efficiency        – (no power drawn)" in res.stdout
    assert "– % of grid power" in res.stdout
    with xr.open_dataset(out) as ds:
        assert ds.attrs["p_grid_w"] == 0.0 and ds.attrs["energy_balance_residual"] == 0.0
    rep = cli("report", out, "-o", tmp_path / "rep")
    assert rep.exit_code == 0, rep.output
    assert "not drawn: sankey" in rep.stdout and (tmp_path / "rep" / "report.html").exists()
    assert "no power drawn from the grid" in (tmp_path / "rep" / "report.html").read_text()



def test_kpis_without_it_power_print_a_dash(tmp_path, cli):
    """The bundled case (cooling and district heating) at zero IT power: the KPIs have no denominator; the
    summary says so in words, never prints ``nan``, and the file keeps them as NaN (undefined)."""
    from gigawatt.cases.loader import read_case_document

    text = Path(read_case_document(None)[1]).read_text()
    assert "\nrack_it_power_kw = 130 " in text  # the line the test edits
    path = tmp_path / "case.toml"
    path.write_text(text.replace("\nrack_it_power_kw = 130 ", "\nrack_it_power_kw = 0 "))
    res = cli("run", path, "-o", tmp_path / "out.nc")
    assert res.exit_code == 0, res.output
    assert "nan" not in res.stdout.lower().split()
    assert "  PUE                          –   total facility / IT equipment" in res.stdout
    assert "  –: not defined (no IT power, or no energy, to divide by)" in res.stdout
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        assert np.isnan(ds.attrs["pue"]) and ds.attrs["p_it_w"] == 0.0

def test_cooling_without_racks(tmp_path, kit, cli):
    doc = kit.base_doc()
    del doc["rack"]
    doc["cooling"] = {}
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "[cooling]" in line and "has none" in line


@pytest.mark.parametrize("where", ["case name", "rack id", "references"])
def test_nul_in_a_text_field(where, tmp_path, kit, cli):
    doc = kit.base_doc()
    if where == "case name":
        doc["case"]["name"] = "a\x00b"
    elif where == "rack id":
        doc["rack"][1]["id"] = "r\x002"
    else:
        doc["case"]["references"] = ["ok", "cut\x00here"]
    path = tmp_path / "case.toml"
    path.write_text(kit.to_toml(doc).replace("\x00", "\\u0000"))
    out = tmp_path / "out.nc"
    line = error_line(cli("run", path, "-o", out), out)
    assert "contains a NUL character" in line
    assert {"case name": "field 'name'", "rack id": "field 'id'", "references": "field 'references'"}[where] in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


@pytest.mark.parametrize("time, field, needle", [
    ({"start": ""}, "start", "not an ISO 8601 time stamp"),
    ({"start": "NaT"}, "start", "not an ISO 8601 time stamp"),
    ({"start": "9999-01-01"}, "start", "between 1677 and 2262"),
    ({"start": "2025-01-01", "periods": 1000000, "step": "1000d"}, "periods", "at most 87 steps"),
    ({"start": "2262-04-11", "periods": 100, "step": "1h"}, "periods", "the last date pandas"),
])
def test_time_axis_beyond_datetimes(time, field, needle, tmp_path, kit, cli):
    doc = kit.base_doc()
    doc["time"] = {"weather": "constant", **time}
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "[time]" in line and f"field '{field}'" in line and needle in line, line


# --- memory asked for beyond the machine, said before it is allocated ----------------------------------------

@pytest.mark.parametrize("section, table", [
    ("campus", {"halls": 10000, "rows_per_hall": 10000, "racks_per_row": 10000}),
    ("town", {"homes": 100000000}),
    ("cooling", {"plate_resolution": True, "chips_per_rack": 100000}),
    ("time", {"periods": 100000000, "step": "1s", "weather": "constant"}),
])
def test_memory_beyond_the_machine_is_said_before_allocating(section, table, tmp_path, kit, cli, monkeypatch):
    import gigawatt.cases.memory as memory

    doc = kit.base_doc()
    doc[section] = table
    if section == "cooling":  # 2 racks × 1e5 plates is 200 MB: on a machine of 100 MB it is too much
        monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 100 * 2**20)
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "needs about" in line and "this machine has" in line and f"[{section}]" in line, line


def test_memory_message_figures():
    from gigawatt.cases.memory import check_memory, format_bytes, physical_memory_bytes

    total = physical_memory_bytes()
    assert total is None or total > 2**20
    with pytest.raises(CaseError) as err:
        check_memory(1e12, 4096, "a campus", element="[campus]")
    assert f"needs about {format_bytes(4096e12)}" in str(err.value) and format_bytes(4096e12) == "3.6 PiB"
    check_memory(10, 4096, "a campus")  # 40 kB: fine anywhere


# --- report on files it did not write -----------------------------------------------------------------------

@pytest.fixture
def results_file(tmp_path, kit, cli):
    res, out = run_doc(kit, cli, tmp_path, kit.base_doc())
    assert res.exit_code == 0, res.output
    return out


def _edited(path, attrs=None, variables=None):
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ds.attrs.update(attrs or {})
    for name, values in (variables or {}).items():
        ds[name] = (ds[name].dims, values)
    edited = path.with_name("edited.nc")
    ds.to_netcdf(edited)
    return edited


@pytest.mark.parametrize("attrs, variables, field", [
    ({"p_grid_w": "abc"}, None, "p_grid_w"),
    ({"efficiency_grid_to_chip": "high"}, None, "efficiency_grid_to_chip"),
    (None, {"v_pu": np.array(["x"] * 4, dtype=object)}, "v_pu"),
])
def test_report_on_non_numeric_fields(attrs, variables, field, results_file, cli, tmp_path):
    edited = _edited(results_file, attrs, variables)
    line = error_line(cli("report", edited, "-o", tmp_path / "rep"))
    assert "not a number" in line or "not numeric" in line
    assert f"field '{field}'" in line and not (tmp_path / "rep").exists()


@pytest.mark.parametrize("attrs, variables, skipped", [
    ({"p_grid_w": math.nan}, None, "sankey"),
    (None, {"v_v": np.full(4, np.nan), "v_pu": np.full(4, np.nan)}, "voltage"),
])
def test_report_on_nan_fields_draws_the_rest(attrs, variables, skipped, results_file, cli, tmp_path):
    edited = _edited(results_file, attrs, variables)
    res = cli("report", edited, "-o", tmp_path / "rep")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    assert skipped in res.stdout.split("not drawn:")[1]
    assert (tmp_path / "rep" / "report.html").exists()


# --- sweep and bench options --------------------------------------------------------------------------------

def test_empty_scheduler_is_an_error_not_a_local_run(tmp_path, kit, cli):
    out = tmp_path / "s.nc"
    line = error_line(cli("sweep", kit.write_case(tmp_path, kit.base_doc()), "--set", "rack.p_it_kw=10,20",
                          "-o", out, "--scheduler", ""), out)
    assert "--scheduler" in line and "empty scheduler address" in line
    assert not (tmp_path / "s.nc.parts").exists()


@pytest.mark.parametrize("address", ["nothing", ":::", "tls://127.0.0.1:1"])
def test_scheduler_to_nothing_is_one_line(address, tmp_path, kit):
    """In a process of its own: the half-made dask client's finaliser used to print a traceback at exit."""
    import subprocess
    import sys
    from pathlib import Path

    case = kit.write_case(tmp_path, kit.base_doc())
    proc = subprocess.run([str(Path(sys.executable).with_name("gigawatt")), "sweep", str(case), "--set",
                           "rack.p_it_kw=10,20", "-o", str(tmp_path / "s.nc"), "--scheduler", address],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --scheduler") and repr(address) in lines[0], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


@pytest.mark.parametrize("sizes", ["0", "-5", "nan", "1e4,0", "2.5"])
def test_bench_sizes_must_be_counts(sizes, cli):
    line = error_line(cli("bench", "--sizes", sizes, "--no-peer", "--racks", "", "--plates", "", "--consumers", ""))
    assert "--sizes" in line and "at least 1" in line and repr(sizes) in line


# --- the library ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "case.toml", {"bus": []}])
def test_solve_needs_a_case(value):
    with pytest.raises(TypeError, match=r"solve\(\) takes a gigawatt Case .*, not " + type(value).__name__):
        gw.solve(value)


def test_library_entry_points_say_what_they_take():
    from gigawatt.compare import compare
    from gigawatt.time_series import run_time_series

    for func in (compare, run_time_series):
        with pytest.raises(TypeError, match="takes a gigawatt Case"):
            func(None)


# --- messages that said the wrong thing ----------------------------------------------------------------------

@pytest.mark.parametrize("table, row, field, required", [
    ("rack", 1, "p_it_w", True), ("line", 0, "length_m", True), ("rack", 1, "vrm_efficiency", False),
    ("rack", 1, "p_it_kw", True),
])
def test_nan_says_nan_not_missing(table, row, field, required, tmp_path, kit, cli):
    doc = kit.base_doc()
    if field == "p_it_kw":
        del doc[table][row]["p_it_w"]
    doc[table][row][field] = math.nan
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    rid = doc[table][row]["id"]
    assert f"{table} '{rid}'" in line and f"field '{field}'" in line and "is NaN" in line
    assert "required field is missing" not in line
    assert ("a number is required" if required else "leave the field out for its default") in line


def test_nan_setting_says_nan(tmp_path, kit, cli):
    doc = kit.base_doc()
    doc["solver"] = {"tolerance": math.nan}
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "[solver]" in line and "field 'tolerance'" in line and "is NaN" in line


@pytest.mark.parametrize("rows, line_no, rid", [
    (["r1,b,1e5,1", "r2,b,2e4,99", "r3,b,1e4,5"], 2, "r1"),   # every row long: pandas took column 1 as the index
    (["r1,b,1e5", "r2,b,2e4,99", "r3,b,1e4"], 3, "r2"),
    (["r1,b,1e5", "# a comment", "r2,b,2e4", "r3,b,1e4,5"], 5, "r3"),
])
def test_extra_csv_fields_blame_the_right_row(rows, line_no, rid, tmp_path, kit, cli):
    doc = kit.base_doc()
    del doc["rack"]
    (tmp_path / "racks.csv").write_text("id,bus,p_it_w\n" + "\n".join(rows) + "\n")
    (tmp_path / "case.toml").write_text('rack = "racks.csv"\n' + kit.to_toml(doc))
    out = tmp_path / "out.nc"
    line = error_line(cli("run", tmp_path / "case.toml", "-o", out), out)
    assert f"racks.csv, line {line_no}, rack '{rid}'" in line and "header names 3" in line, line


def dh_doc(t_return_k):
    return {"case": {"name": "dh"},
            "dh_node": [{"id": n} for n in ("S", "R", "A", "Ar")],
            "dh_pipe": [{"id": "s1", "from_node": "S", "to_node": "A", "length_m": 500.0, "diameter_m": 0.1},
                        {"id": "r1", "from_node": "Ar", "to_node": "R", "length_m": 500.0, "diameter_m": 0.1}],
            "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 5e5,
                             "t_return_k": t_return_k, "t_supply_min_k": 330.0}],
            "district_heating": {"supply_node": "S", "return_node": "R", "t_supply_k": 348.15}}


@pytest.mark.parametrize("t_return_k", [348.15, 360.0])
def test_return_temperature_at_or_above_the_supply_is_refused(t_return_k, tmp_path, kit, cli):
    line = error_line(*run_doc(kit, cli, tmp_path, dh_doc(t_return_k)))
    assert "dh_consumer 'c'" in line and "field 't_return_k'" in line
    assert "a consumer must return its water colder than the plant supplies it" in line
    assert "< 348.15 K (t_supply_k of [district_heating])" in line
    # The town builder says the same, in the same words.
    town = {"case": {"name": "t"}, "town": {"homes": 3, "t_return_k": t_return_k},
            "district_heating": {"t_supply_k": 348.15}}
    line = error_line(*run_doc(kit, cli, tmp_path, town))
    assert "a consumer must return its water colder than the plant supplies it" in line


# --- documentation: shelf_rated_power_w only for load-fraction models ----------------------------------------

def test_constant_efficiency_shelf_needs_no_rating(tmp_path, kit, cli):
    doc = kit.base_doc()
    doc["loss_models"]["shelf"] = {"kind": "constant_efficiency", "efficiency": 0.97}
    del doc["rack"][0]["shelf_rated_power_w"]
    res, out = run_doc(kit, cli, tmp_path, doc)
    assert res.exit_code == 0, res.output
    with xr.open_dataset(out) as ds:
        r1 = ds.sel(rack="r1")
        # Closed form: shelf output = IT / η_vrm (0.9 default), shelf loss = output × (1/0.97 − 1).
        p_out = 1e5 / 0.9
        assert float(r1.shelf_loss_w) == pytest.approx(p_out * (1 / 0.97 - 1), rel=1e-12)
        assert ds.attrs["energy_balance_residual"] <= 1e-12


def test_efficiency_curve_shelf_still_needs_its_rating(tmp_path, kit, cli):
    doc = kit.base_doc()
    del doc["rack"][0]["shelf_rated_power_w"]
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "rack 'r1'" in line and "field 'shelf_rated_power_w'" in line and "efficiency_curve" in line


def test_schema_says_which_models_need_the_rating():
    from gigawatt.cases.schema import schema
    from gigawatt.models.converter_losses import LOSS_MODELS

    text = schema()["rack"]["shelf_rated_power_w"].description
    for kind, cls in LOSS_MODELS.items():
        assert kind in text, kind
        assert cls.USES_RATING == (kind in ("efficiency_curve", "transformer")), kind


# --- found by the fuzz test (tests/test_fuzz_cli.py), each kept as an example ---------------------------------

def fuzz_ac_doc(kit):
    """The fuzz test's small case with an AC grid side: a 110/33 kV transformer and a 33 kV cable."""
    doc = kit.base_doc()
    doc["source"][0]["ac_bus"] = "mv"
    doc.update({"ac_bus": [{"id": "hv", "v_nominal_v": 110e3}, {"id": "mv", "v_nominal_v": 33e3},
                           {"id": "mv2", "v_nominal_v": 33e3}],
                "ac_trafo": [{"id": "t1", "hv_bus": "hv", "lv_bus": "mv2", "rated_power_va": 10e6,
                              "v_rated_hv_v": 110e3, "v_rated_lv_v": 33e3, "vk_percent": 10.0, "vkr_percent": 0.5}],
                "ac_line": [{"id": "c1", "from_bus": "mv2", "to_bus": "mv", "length_m": 1000.0,
                             "r_ohm_per_m": 1e-4, "x_ohm_per_m": 1e-4}],
                "ac_supply": [{"id": "g", "bus": "hv"}]})
    return doc


@pytest.mark.parametrize("edit, needles", [
    (lambda d: d["bus"][0].update(id=[1, 2]), ("table 'bus', row 1", "field 'id'", "expected a text, not a list")),
    (lambda d: d.update(town={"homes": math.inf}), ("[town]", "field 'homes'", "expected a whole number")),
    (lambda d: d.update(campus={"halls": 1, "rows_per_hall": 1, "racks_per_row": 2, "shelf_loss_model": "nope"}),
     ("[campus]", "field 'shelf_loss_model'", "loss model that does not exist")),
])
def test_fuzz_findings_in_the_loader(edit, needles, tmp_path, kit, cli):
    doc = kit.base_doc()
    edit(doc)
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize("trafo, needles", [
    ({"vk_percent": 0.5, "vkr_percent": 0.5}, ("ac_trafo 't1'", "field 'vkr_percent'", "< vk_percent = 0.5 %")),
    ({"rated_power_va": 1e-269}, ("AC grid side", "admittance matrix cannot be formed or factorized")),
    ({"v_rated_hv_v": 9.928661695889999e-124}, ("AC grid side", "admittance matrix cannot be formed or factorized")),
])
def test_fuzz_findings_on_the_grid_side(trafo, needles, tmp_path, kit, cli):
    doc = fuzz_ac_doc(kit)
    doc["ac_trafo"][0].update(trafo)
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    for needle in needles:
        assert needle in line, line


def test_a_droop_below_round_off_is_a_stiff_source(tmp_path, kit):
    """droop = 2.2e-308 (in the schema's [0, 0.5]) made the droop slope k = rated/(droop·v_set) infinite:
    the run reported converged with a NaN ledger. Such a droop moves the voltage by nothing a float can
    hold: the source is stiff, and the results are those of droop = 0."""
    stiff = kit.base_doc()
    stiff["source"][0]["droop"] = 0.0
    tiny = kit.base_doc()
    tiny["source"][0]["droop"] = 2.2250738585072014e-308
    a = gw.solve(gw.load_case(kit.write_case(tmp_path, stiff, "stiff.toml")))
    b = gw.solve(gw.load_case(kit.write_case(tmp_path, tiny, "tiny.toml")))
    np.testing.assert_array_equal(a.v_v.values, b.v_v.values)
    assert b.attrs["energy_balance_residual"] <= 1e-12


@pytest.mark.parametrize("timed", [False, True])
def test_results_with_ledgers_that_are_not_finite_are_refused(timed, tmp_path, kit, cli):
    """motor_efficiency = 1.1e-308 (in the schema's (0, 1]) divides the pumps' power into infinity: the
    facility ledger was NaN with exit status 0. Results whose ledgers are not finite mean nothing."""
    doc = kit.base_doc()
    doc["cooling"] = {"motor_efficiency": 1.1125369292536007e-308}
    if timed:
        doc["time"] = {"periods": 2, "weather": "constant"}
    line = error_line(*run_doc(kit, cli, tmp_path, doc))
    assert "ledgers are not finite numbers" in line and "facility_energy_residual = nan" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]
