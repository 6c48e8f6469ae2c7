"""Issue 14: inputs read as they were written, or refused.

- A NUL byte or another control character in a CSV file (element tables, time series) is refused naming
  the file, line and column: CSV readers end a field at a NUL, so ``1\\x0000`` read as 1. TOML refuses
  them itself (its grammar has no place for them outside escapes).
- One quantity given two ways is refused: a series with both ``p_it_fraction`` and ``p_it_kw`` (one was
  ignored), two spellings of one field in a row or a settings table.
- A sweep's resume key covers the content of the time-series files a scenario reads, so a changed CSV is
  solved again on resume (the key hashed the file's name).
- The case hash follows the state solved: settings changed after loading change it.
"""
from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.cases.series_file import read_timeseries
from gigawatt.errors import CaseError
from gigawatt.sweep import input_digests, parse_grid, scenarios

CONTROL = ["\x00", "\x01", "\x1b", "\x7f", "\x85"]


def times(n):
    return pd.date_range("2025-01-01", periods=n, freq="1h").strftime("%Y-%m-%dT%H:%M")


def write_series(path, header, rows):
    path.write_text(header + "\n" + "".join(f"{t},{r}\n" for t, r in zip(times(len(rows)), rows)), encoding="utf-8")
    return path


@pytest.mark.parametrize("ch", CONTROL)
def test_control_character_in_a_series_is_refused(tmp_path, ch):
    path = write_series(tmp_path / "s.csv", "time,p_it_fraction", ["0.5", f"1{ch}00", "0.7"])
    with pytest.raises(CaseError) as info:
        read_timeseries(path)
    err = info.value
    assert err.file == str(path) and err.element == "line 3"
    assert f"U+{ord(ch):04X}" in str(err) and "column 19" in str(err)


@pytest.mark.parametrize("ch", CONTROL)
def test_control_character_in_a_table_csv_is_refused(tmp_path, kit, cli, ch):
    """The issue's case: ``length_m = 1\\x0000`` in lines.csv read as 1 m; now the file, line and column."""
    doc = kit.base_doc()
    lines = doc.pop("line")
    doc["line"] = "lines.csv"
    rows = ["id,from_bus,to_bus,length_m,r_ohm"] + [f"{r['id']},{r['from_bus']},{r['to_bus']},{r['length_m']},"
                                                     f"{r.get('r_ohm', 0.001)}" for r in lines]
    rows[1] = rows[1].replace(",20.0,", f",2{ch}00,")
    (tmp_path / "lines.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    assert info.value.file == str(tmp_path / "lines.csv") and info.value.element == "line 2"
    out = tmp_path / "r.nc"
    assert f"U+{ord(ch):04X}" in kit.cli_error_line(cli("run", path, "-o", out), out)


def test_the_same_table_without_the_control_character_loads(tmp_path, kit):
    doc = kit.base_doc()
    lines = doc.pop("line")
    doc["line"] = "lines.csv"
    (tmp_path / "lines.csv").write_text("id,from_bus,to_bus,length_m,r_ohm\n" + "".join(
        f"{r['id']},{r['from_bus']},{r['to_bus']},{r['length_m']},{r.get('r_ohm', 0.001)}\n" for r in lines))
    case = gw.load_case(kit.write_case(tmp_path, doc))
    assert list(case.tables["line"]["length_m"]) == [20.0, 10.0]


def test_nul_in_a_toml_number_is_refused(tmp_path, kit):
    doc = kit.base_doc()
    path = kit.write_case(tmp_path, doc)
    text = path.read_text().replace("length_m = 20.0", "length_m = 2\x000.0")
    assert "\x00" in text
    path.write_text(text)
    with pytest.raises(CaseError, match="not valid TOML"):
        gw.load_case(path)


@pytest.mark.parametrize("header", ["time,p_it_fraction,p_it_kw", "time,p_it_w,p_it_fraction"])
def test_it_load_given_two_ways_is_refused(tmp_path, kit, cli, header):
    path = tmp_path / "s.csv"
    path.write_text(header + "\n" + "".join(f"{t},0.5,100\n" for t in times(3)))
    with pytest.raises(CaseError) as info:
        read_timeseries(path)
    assert info.value.element == "header" and "one quantity two ways" in str(info.value)
    case_path = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "r.nc"
    assert "one quantity two ways" in kit.cli_error_line(cli("run", case_path, "--series", path, "-o", out), out)


def test_two_spellings_of_one_field_are_refused(kit):
    doc = kit.base_doc()
    doc["bus"][0]["v_nominal_kv"] = 0.8
    with pytest.raises(CaseError, match="given twice"):
        gw.make_case({k: doc[k] for k in ("bus", "line", "source", "converter", "rack")},
                     loss_models=doc["loss_models"])
    with pytest.raises(CaseError, match="given twice"):
        gw.make_case(solver={"tolerance": 1e-9}, cooling={"ambient_t_k": 300.0, "ambient_t_c": 27.0})


def test_case_hash_is_of_the_settings_solved(kit):
    """Results of a case whose settings were changed after loading carried the old hash: now the hash of a
    case made with those settings from the start."""
    doc = kit.base_doc()
    tables = {k: doc[k] for k in ("bus", "line", "source", "converter", "rack")}
    case = gw.make_case(tables, loss_models=doc["loss_models"])
    before = case.hash()
    case.settings["solver"]["tolerance"] = 1e-9
    ds = gw.solve(case)
    fresh = gw.make_case(tables, loss_models=doc["loss_models"], solver={"tolerance": 1e-9})
    assert ds.attrs["case_hash"] == fresh.hash() != before
    case.settings["solver"]["tolerance"] = 1e-11
    assert case.hash() == before


def test_sweep_keys_follow_the_time_series_content(tmp_path, kit):
    """Same names, other numbers: other keys; same numbers written again: the same keys."""
    doc = {"case": {"name": "timed"}, "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2,
                                                 "rack_it_power_kw": 100},
           "time": {"periods": 3, "weather": "constant", "it_load": "load.csv"}}
    load = write_series(tmp_path / "load.csv", "time,p_it_fraction", ["0.5", "0.6", "0.7"])
    case = gw.load_case(kit.write_case(tmp_path, doc))
    grid = parse_grid({"solver.tolerance": [1e-9, 1e-11]})

    def keys():
        return [s.key for s in scenarios(grid, case.hash(), input_digests(case))]
    first = keys()
    write_series(load, "time,p_it_fraction", ["0.5", "0.6", "0.7"])
    assert keys() == first
    write_series(load, "time,p_it_fraction", ["0.5", "0.6", "0.8"])
    assert set(keys()).isdisjoint(first)


def test_sweep_resumed_after_the_series_changed_solves_again(tmp_path, kit, cli):
    """End to end: a sweep of a timed case, its load CSV changed, the same command again: every scenario solved
    again, with the new IT energy (Σ fraction × 2 racks × 100 kW at the chips × 1 h); the file unchanged,
    none."""
    doc = {"case": {"name": "timed"}, "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2,
                                                 "rack_it_power_kw": 100, "rack_power_basis": "chips"},
           "time": {"periods": 3, "weather": "constant", "it_load": "load.csv"}}
    load = write_series(tmp_path / "load.csv", "time,p_it_fraction", ["0.5", "0.6", "0.7"])
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "sweep.nc"
    args = ("sweep", path, "--set", "solver.tolerance=1e-9,1e-11", "-o", out, "--workers", "1")
    for fractions, solved in ((["0.5", "0.6", "0.7"], 2), (["0.5", "0.6", "0.7"], 0), (["0.9", "0.6", "0.7"], 2)):
        write_series(load, "time,p_it_fraction", fractions)
        res = cli(*args)
        assert res.exit_code == 0, res.output
        assert f"{2 - solved} finished before, {solved} to solve" in res.stderr
        with xr.open_dataset(out) as ds:
            expected = sum(map(float, fractions)) * 2 * 100e3 * 3600.0
            assert ds.energy_p_it_j.values == pytest.approx([expected] * 2, rel=1e-12)
