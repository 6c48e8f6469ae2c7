"""A case's time axis (``[time]``): its inputs, the run streamed to NetCDF a chunk at a time, the command line,
scenario-years in a sweep, and bad input refused before any computing.

Expected values come from outside the driver: the bundled load shapes (their closed-form step means), the
case's own figures (gw.solve at full load), sums of power × step, and a run held in memory.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.cases.profiles import bundled_profile
from gigawatt.errors import CaseError
from gigawatt.time_series import run_time_series, time_inputs

CAMPUS = {"halls": 1, "rows_per_hall": 2, "racks_per_row": 3, "rack_it_power_kw": 120,
          "rack_power_basis": "chips"}  # racks of 120 kW at the chips: the hand figures below start there


def timed_doc(**time) -> dict:
    return {"case": {"name": "timed"}, "campus": dict(CAMPUS), "cooling": {},
            "time": {"periods": 6, "weather": "constant", **time}}


def load(kit, tmp_path, doc):
    return gw.load_case(kit.write_case(tmp_path, doc))


def test_inputs_from_the_time_table(tmp_path, kit):
    case = load(kit, tmp_path, timed_doc(it_load="training", start="2026-03-01T00:00", step="15min"))
    ds = time_inputs(case)
    expected = bundled_profile("training", start="2026-03-01T00:00", periods=6, step="15min")
    np.testing.assert_array_equal(ds.time.values, expected.time.values)
    np.testing.assert_array_equal(ds.p_it_fraction.values, expected.p_it_fraction.values)
    np.testing.assert_array_equal(ds.outdoor_t_k.values, np.full(6, case.settings["cooling"]["ambient_t_k"]))
    assert ds.attrs["step_s"] == 900.0


def test_inputs_from_csv_files_beside_the_case(tmp_path, kit):
    times = pd.date_range("2025-01-01", periods=6, freq="1h").strftime("%Y-%m-%dT%H:%M")
    (tmp_path / "load.csv").write_text("time,p_it_kw\n" + "".join(f"{t},{360 + 60 * k}\n" for k, t in enumerate(times)))
    (tmp_path / "weather.csv").write_text("time,outdoor_t_c\n" + "".join(f"{t},{-5 + k}\n" for k, t in enumerate(times)))
    case = load(kit, tmp_path, timed_doc(it_load="load.csv", weather="weather.csv"))
    ds = run_time_series(case)
    np.testing.assert_allclose(ds.p_it_w.values, 1e3 * (360 + 60 * np.arange(6)), rtol=1e-12)  # no leakage
    np.testing.assert_allclose(time_inputs(case).outdoor_t_k.values, 268.15 + np.arange(6), rtol=1e-15)


def test_streamed_file_equals_the_run_held_in_memory(tmp_path, kit):
    """Chunks of 4 steps appended to the file give the same numbers as the run held whole."""
    case = load(kit, tmp_path, timed_doc(it_load="training", periods=10, chunk_steps=4))
    held = run_time_series(case)
    with run_time_series(case, output=tmp_path / "year.nc") as streamed:
        np.testing.assert_array_equal(streamed.time.values, held.time.values)
        for name in held.data_vars:
            np.testing.assert_array_equal(streamed[name].values, held[name].values, err_msg=name)
        assert streamed.p_grid_w.attrs["units"] == "W"
        for key in ("energy_p_grid_j", "pue", "energy_balance_residual", "heat_balance_residual"):
            assert streamed.attrs[key] == held.attrs[key]
        for name in ("v_min_pu_over_period", "t_chip_max_k_over_period"):  # per element over the period
            np.testing.assert_array_equal(streamed[name].values, held[name].values)
    assert not list(tmp_path.glob("*.part"))  # no temporary file left either


def test_full_load_step_is_the_steady_solve(tmp_path, kit):
    case = load(kit, tmp_path, timed_doc(periods=2))
    ds = run_time_series(case)
    solved = gw.solve(case)
    direct = solved.attrs
    for name in ("p_grid_w", "p_facility_w", "q_rejected_w", "t_facility_return_k", "pue"):
        np.testing.assert_allclose(ds[name].values, direct[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(ds.v_min_pu_over_period.values, solved.v_pu.values, rtol=1e-12)
    np.testing.assert_allclose(ds.t_chip_max_k_over_period.values, solved.t_chip_k.values, rtol=1e-12)
    assert ds.attrs["energy_p_it_j"] == pytest.approx(2 * 3600 * 6 * 120e3, rel=1e-12)


@functools.cache
def campus_and_town():
    return gw.build_town(homes=24, campus=gw.build_campus(**CAMPUS, cooling={}))


@settings(max_examples=5, deadline=None)
@given(fractions=st.lists(st.floats(0.05, 1.2), min_size=8, max_size=8),
       t_c=st.lists(st.floats(-25.0, 25.0), min_size=8, max_size=8))
def test_the_period_closes_its_ledgers_on_random_loads_and_weather(fractions, t_c):
    """A random load and weather along a campus that heats a small town: every step's and the period's
    electrical, heat, facility and district-heating ledgers close to 1e-9 (issue 5's bound; measured about
    1e-12, the DC ledger being limited by the load flow's tolerance), and the period's energies are the sums
    of its steps; the district heating's (heat in = delivered + pipe losses + change of the heat in the pipes'
    water) closes every step and over the period. Warm hours (above the homes' 15 °C heating limit) leave
    the network standing still."""
    times = pd.date_range("2025-01-01", periods=8, freq="1h").to_numpy()
    series = xr.Dataset({"p_it_fraction": ("time", fractions), "outdoor_t_k": ("time", 273.15 + np.array(t_c))},
                        coords={"time": times})
    ds = run_time_series(campus_and_town(), series)
    for ledger in ("energy_balance_residual", "heat_balance_residual", "facility_energy_residual"):
        assert float(ds[ledger].max()) <= 1e-9, ledger
        assert ds.attrs[ledger] <= 1e-9, ledger
    assert float(ds.dh_ledger_residual.max()) <= 1e-9 and ds.attrs["dh_energy_balance_residual"] <= 1e-9
    for name in ("p_grid_w", "q_recovered_w", "dh_q_delivered_w"):
        assert ds.attrs[f"energy_{name[:-2]}_j"] == pytest.approx(float(ds[name].sum()) * 3600.0, rel=1e-12)
    np.testing.assert_allclose(ds.p_it_w.values, np.array(fractions) * 6 * 120e3, rtol=1e-12)


def test_interrupt_leaves_no_results_file(tmp_path, kit):
    case = load(kit, tmp_path, timed_doc(periods=6, chunk_steps=2))
    out = tmp_path / "year.nc"

    def interrupt(k, n):
        if k == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_time_series(case, output=out, progress=interrupt)
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_run_command_on_a_timed_case(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, timed_doc(it_load="inference", periods=4))
    out = tmp_path / "timed.nc"
    res = cli("run", path, "-o", out)
    assert res.exit_code == 0, res.output
    assert "IT energy" in res.stdout and "heat balance residual" in res.stdout
    with xr.open_dataset(out) as ds:
        assert ds.sizes["time"] == 4 and ds.attrs["it_load"] == "inference"


def test_year_flag_gives_a_case_its_time_axis(tmp_path, kit, cli):
    doc = timed_doc()
    del doc["time"]
    doc["time"] = {"periods": 3, "weather": "constant"}
    path = kit.write_case(tmp_path, doc)
    res = cli("run", path, "--year", "--no-output")
    assert res.exit_code == 0, res.output
    assert "3 steps of 3600 s" in res.stdout


def test_scenario_years_in_a_sweep(tmp_path, kit, cli):
    """Each scenario is a period along the time axis; its figures are the period's energies."""
    path = kit.write_case(tmp_path, timed_doc(periods=3))
    out = tmp_path / "years.nc"
    res = cli("sweep", path, "--set", "time.it_load=steady,inference", "-o", out, "--workers", "1")
    assert res.exit_code == 0, res.output
    with xr.open_dataset(out) as ds:
        steady = ds.energy_p_it_j.values[list(ds["time.it_load"].values).index("steady")]
        assert steady == pytest.approx(3 * 3600 * 6 * 120e3, rel=1e-12)


BAD = [
    ({"start": "yesterday-ish"}, "field 'start'", "ISO 8601"),
    ({"step": "0.5s"}, "field 'step'", "whole seconds"),
    ({"step": "fortnightly"}, "field 'step'", "whole seconds"),
    ({"it_load": "nosuch.csv"}, "field 'it_load'", "steady, training, inference"),
    ({"weather": "rainy"}, "field 'weather'", "bundled, constant"),
    ({"periods": 0}, "field 'periods'", "out of range"),
]


@pytest.mark.parametrize("time, needle1, needle2", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_time_table(time, needle1, needle2, tmp_path, kit, cli):
    path = kit.write_case(tmp_path, timed_doc(**time))
    out = tmp_path / "x.nc"
    line = kit.cli_error_line(cli("run", path, "-o", out), out)
    assert needle1 in line and needle2 in line and "[time]" in line


def test_load_file_with_a_gap_names_file_row_and_column(tmp_path, kit, cli):
    (tmp_path / "load.csv").write_text("time,p_it_fraction\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n"
                                       "2025-01-01T03:00,1\n")
    path = kit.write_case(tmp_path, timed_doc(it_load="load.csv", periods=3))
    out = tmp_path / "x.nc"
    line = kit.cli_error_line(cli("run", path, "-o", out), out)
    assert "load.csv" in line and "row 3" in line and "gap" in line and "field 'time'" in line


def test_a_heating_network_alone_along_its_time_axis(tmp_path, kit):
    """No campus: the network's plant is its boiler, which puts in what the returning water needs; the
    network's ledger closes over the period."""
    doc = {"case": {"name": "town"}, "town": {"homes": 12}, "district_heating": {},
           "time": {"periods": 4, "weather": "constant"}}
    ds = run_time_series(load(kit, tmp_path, doc))
    a = ds.attrs
    assert a["energy_boiler_heat_j"] == pytest.approx(a["energy_dh_q_plant_j"], rel=1e-12)
    assert a["energy_dh_q_plant_j"] > a["energy_dh_q_delivered_j"] > 0
    assert a["dh_energy_balance_residual"] <= 1e-9
