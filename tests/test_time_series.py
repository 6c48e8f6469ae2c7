"""A case solved along a time series (gigawatt.time_series): every step is the steady solve of the case with
that step's inputs, checked against gw.solve of the same case built by hand; the period's energies are the
sums of power × step; the period's ledger closes; the district-heating demand follows the outdoor
temperature by the degree-day model's closed form; bad input is refused before any solve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.consumers import home_heat_parameters
from gigawatt.time_series import run_time_series

TIMES = pd.date_range("2026-01-01", periods=3, freq="1h").to_numpy()


def campus(**extra):
    """Racks of 130 kW at the chips (the hand calculations below start there)."""
    return gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130.0,
                           rack_power_basis="chips", cooling={}, **extra)


def with_homes(case, n_homes=40.0):
    """The campus with a small network: plant S/R, 300 m out and back to degree-day homes."""
    pipes = [dict(id="s1", from_node="S", to_node="A", length_m=300.0, diameter_m=0.1, u_w_per_m_k=0.3),
             dict(id="r1", from_node="Ar", to_node="R", length_m=300.0, diameter_m=0.1, u_w_per_m_k=0.3)]
    tables = dict(case.tables, dh_node=[{"id": x} for x in ("S", "A", "Ar", "R")], dh_pipe=pipes,
                  dh_consumer=[dict(id="homes", supply_node="A", return_node="Ar", kind="homes_degree_days",
                                    n_homes=n_homes)])
    return gw.make_case(tables, loss_models=dict(case.loss_model_params), cooling={},
                        district_heating={"supply_node": "S", "return_node": "R"})


def scaled(case, factor, **dh):
    tables = dict(case.tables)
    tables["rack"] = tables["rack"].assign(p_it_w=tables["rack"]["p_it_w"] * factor)
    settings = {"district_heating": {**case.settings["district_heating"], **dh}} \
        if case.settings.get("district_heating") else {}
    return gw.make_case(tables, loss_models=dict(case.loss_model_params), cooling={}, **settings)


def test_every_step_is_the_steady_solve_and_the_totals_are_its_sums():
    """At full load a step is gw.solve of the case. At part load the electrical side is gw.solve of the case
    with its racks scaled; the loops keep the flows the case's design heat sets (constant-flow set-points),
    and the coolant warms by less."""
    case = campus()
    fraction = [1.0, 0.6, 0.85]
    ds = run_time_series(case, xr.Dataset({"p_it_fraction": ("time", fraction)}, coords={"time": TIMES}))
    full = gw.solve(case).attrs
    for name in ("p_grid_w", "p_it_w", "p_loss_w", "p_facility_w", "pue", "q_available_w", "p_pumps_w",
                 "t_facility_return_k"):
        assert float(ds[name][0]) == pytest.approx(full[name], rel=1e-12), name
    lf = case.settings["cooling"]["liquid_fraction"]
    for k, f in enumerate(fraction):
        direct = gw.solve(scaled(case, f)).attrs
        for name in ("p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip"):
            assert float(ds[name][k]) == pytest.approx(direct[name], rel=1e-12), name
        vrm = f * 8 * 130e3 * (1 / 0.9 - 1)  # the VRMs' liquid share defaults to liquid_fraction
        assert float(ds.q_liquid_w[k]) == pytest.approx(lf * (f * 8 * 130e3 + vrm), rel=1e-12)
        for ledger in ("heat_balance_residual", "facility_energy_residual", "energy_balance_residual"):
            assert float(ds[ledger][k]) <= 1e-12, ledger
    assert float(ds.p_it_w[1]) == pytest.approx(0.6 * 8 * 130e3, rel=1e-12)  # no leakage: IT power as scaled
    a = ds.attrs
    assert a["steps"] == 3 and a["step_s"] == 3600.0
    assert a["energy_p_grid_j"] == pytest.approx(float(ds.p_grid_w.sum()) * 3600.0, rel=1e-12)
    # PUE over the period: total facility energy over the IT equipment's (at the rack inputs, ISO/IEC 30134-2)
    assert a["pue"] == pytest.approx(a["energy_p_total_facility_j"] / a["energy_p_rack_input_j"], rel=1e-12)
    assert a["energy_p_total_facility_j"] == pytest.approx(a["energy_p_facility_j"], rel=1e-15)  # no grid side
    for ledger in ("energy_balance_residual", "heat_balance_residual", "facility_energy_residual"):
        assert a[ledger] <= 1e-12, ledger


def test_total_it_power_scales_every_rack_alike():
    case = campus()
    ds = run_time_series(case, xr.Dataset({"p_it_w": ("time", [5e5, 1.04e6, 2e5])}, coords={"time": TIMES}))
    np.testing.assert_allclose(ds.p_it_w.values, [5e5, 1.04e6, 2e5], rtol=1e-12)


def test_district_heating_demand_follows_the_outdoor_temperature():
    """Degree-day homes (detached, the default): 4.77 kW of space heating each at -12 degC, nothing at the
    17 degC heating limit, linear between; the steps at 00:00-02:00, when the hot-water profile draws nothing."""
    case = with_homes(campus())
    t_out = np.array([261.15, 270.15, 283.15])
    ds = run_time_series(case, xr.Dataset({"outdoor_t_k": ("time", t_out)}, coords={"time": TIMES}))
    assert (pd.DatetimeIndex(TIMES).hour < 3).all()
    space = home_heat_parameters("detached")["space_design_w"]
    np.testing.assert_allclose(ds.dh_q_demand_w.values, 40 * space * (290.15 - t_out) / 29.0, rtol=1e-12)
    assert ds.attrs["erf"] == pytest.approx(ds.attrs["energy_q_recovered_j"] / ds.attrs["energy_p_facility_j"])


def test_steady_weather_gives_the_steady_network():
    """At the case's own outdoor temperature and hour of the day (07:00: the hot water's profile sets the
    demand) every step is the steady district-heating solve (the series starts from it, and nothing moves)."""
    case = with_homes(campus())
    t_case = case.settings["district_heating"]["outdoor_t_k"]
    assert case.settings["district_heating"]["hour_of_day"] == 7.0
    days = pd.date_range("2026-01-01 07:00", periods=3, freq="1D").to_numpy()  # a step a day, each at 07:00
    ds = run_time_series(case, xr.Dataset({"outdoor_t_k": ("time", np.full(3, t_case))}, coords={"time": days}))
    direct = gw.solve(case).attrs
    for name in ("dh_q_delivered_w", "dh_q_loss_w", "dh_q_plant_w", "q_recovered_w", "dh_t_return_k"):
        np.testing.assert_allclose(ds[name].values, direct[name], rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(ds.dh_q_unmet_w.values, 0.0, atol=1e-9 * direct["dh_q_demand_w"])


def test_a_series_without_inputs_is_refused():
    with pytest.raises(CaseError, match="none of the inputs"):
        run_time_series(campus(), xr.Dataset({"other": ("time", [1.0, 2.0, 3.0])}, coords={"time": TIMES}))


def test_run_with_a_series_from_the_command_line(tmp_path, cli):
    path = tmp_path / "series.csv"
    path.write_text("time,p_it_fraction\n2026-01-01T00:00,1.0\n2026-01-01T01:00,0.5\n")
    case = tmp_path / "campus.toml"
    case.write_text('[campus]\nhalls = 1\nrows_per_hall = 1\nracks_per_row = 4\nrack_it_power_kw = 100\n'
                    'rack_power_basis = "chips"\n')
    out = tmp_path / "ts.nc"
    res = cli("run", str(case), "--series", str(path), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "IT energy" in res.stdout and "energy balance residual" in res.stdout
    ds = xr.open_dataset(out)
    np.testing.assert_allclose(ds.p_it_w.values, [4e5, 2e5], rtol=1e-12)
    ds.close()


def test_missing_series_file_is_one_line(tmp_path, cli, kit):
    out = tmp_path / "ts.nc"
    line = kit.cli_error_line(cli("run", "--series", str(tmp_path / "nope.csv"), "-o", str(out)), out)
    assert "nope.csv" in line


def test_homes_heated_over_a_series_is_on_an_annual_energy_basis():
    """The series' homes heated = campus heat reused over the period, scaled to a year (8760 h / 3 h), over a
    detached home's 14 MWh; the summary prints it with its basis."""
    from gigawatt.summary import time_series_lines

    case = with_homes(campus())
    t_out = np.array([261.15, 270.15, 283.15])
    ds = run_time_series(case, xr.Dataset({"outdoor_t_k": ("time", t_out)}, coords={"time": TIMES}))
    a = ds.attrs
    assert a["annual_heat_per_home_j"] == pytest.approx(14 * 3.6e9, rel=1e-14)
    expected = a["energy_q_recovered_j"] * (8760 / 3) / (14 * 3.6e9)
    assert a["energy_q_recovered_j"] > 0 and a["homes_equivalent"] == pytest.approx(expected, rel=1e-12)
    line = next(x for x in time_series_lines(ds) if "homes heated" in x)
    assert f"about {expected:,.0f} (annual energy: campus heat reused over the period" in line
    assert "14.0 MWh a year per home" in line and "vertical_farm_model" not in a


@pytest.mark.parametrize("flush_steps", [1, 4, 2048])
def test_series_writer_holds_steps_and_writes_them_all(tmp_path, monkeypatch, flush_steps):
    # Chunks of 3 steps, held up to FLUSH_STEPS before each write (1: every chunk; 4: every second chunk and
    # one left for finish; 2048: all at finish); a figure missing from the second chunk reads NaN there.
    from gigawatt import series_writer
    from gigawatt.series_writer import SeriesWriter

    monkeypatch.setattr(series_writer, "FLUSH_STEPS", flush_steps)
    times = np.datetime64("2025-01-01T00:00") + np.arange(9) * np.timedelta64(1, "h")
    a, b = np.arange(9.0) * 1e6, -np.arange(9.0)
    chunks = [(slice(0, 3), ("a_w", "b_k")), (slice(3, 6), ("a_w",)), (slice(6, 9), ("b_k", "a_w"))]
    writer = SeriesWriter(tmp_path / "s.nc", times[0])
    for rows, names in chunks:
        writer.append(times[rows], {n: {"a_w": a, "b_k": b}[n][rows] for n in names})
    with xr.open_dataset(writer.finish({"steps": 9})) as ds:
        np.testing.assert_array_equal(ds["time"].values, times)
        np.testing.assert_array_equal(ds["a_w"].values, a)
        np.testing.assert_array_equal(ds["b_k"].values, np.where((np.arange(9) >= 3) & (np.arange(9) < 6), np.nan, b))
        assert list(ds.data_vars) == ["a_w", "b_k"] and ds["a_w"].attrs["units"] == "W"
        assert ds.attrs["steps"] == 9
