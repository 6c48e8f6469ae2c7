"""Time series of a campus with DC grid elements (a battery's set-power terminal, a conductance load): every
step is the steady gw.solve of the corresponding case, the ledgers close at every step and over the period,
and a bad terminal schedule is one CaseError line."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.time_series import run_time_series

TIMES = pd.date_range("2025-01-01", periods=4, freq="1h")
COMPARED = ("p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip", "p_dc_terminals_w",
            "p_dc_conductances_w", "v_min_pu", "loss_ac_dc_station_w", "loss_distribution_w")
CHAIN = ("p_facility_w", "pue", "q_available_w", "p_pumps_w", "p_fans_w")
# A series sizes its loops and dry coolers once, on the case (gigawatt.solver.chain_stepper): at another
# terminal set power the heat the facility water carries is that of a steady case solved on its own, but the
# dry coolers' fans (sized on that other case by gw.solve) are not.
CHAIN_AT_OTHER_SET_POWERS = ("q_available_w", "p_pumps_w")
# The DC grid load flow stops when its voltage update is below 1e-12 of nominal; a step started from the
# previous one (or solved in a batch) and gw.solve's cold start stop a few iterations apart, so powers agree to
# about 1e-12 of the ~1.2 MW campus and losses, which follow from voltage differences of a few volts, to
# 1e-3 W absolute (measured differences below 1e-9 W); ratios and voltages to 1e-12 relative.
P_ABS_W = 1e-3


def steady(ds):
    """gw.solve's results as a step's figures (names of gigawatt.solver.dc.series.FIGURES)."""
    out = dict(ds.attrs)
    out["v_min_pu"] = float(ds.v_pu.min())
    out.update({f"loss_{s}_w": float(ds.stage_loss_w.sel(stage=s)) for s in ds.stage.values})
    out.setdefault("p_dc_terminals_w", 0.0)
    return out


def ledger_bound_w(case) -> float:
    """What the DC ledger may miss by [W]: the droop stations deliver k (v_set − V) at V converged to 1e-12 of
    nominal, so Σ k · 1e-12 · v_set (about 7e-5 W for this campus's two stations)."""
    src = case.tables["source"]
    k = src["rated_power_w"] / src["droop"] / src["v_set_v"]
    return float((k * 1e-12 * src["v_set_v"]).sum())


def check_ledgers(ds, case):
    """The DC ledger closes at every step and over the period within :func:`ledger_bound_w`."""
    bound = ledger_bound_w(case)
    miss = ds.p_grid_w + ds.p_dc_terminals_w - ds.p_it_w - ds.p_loss_w - ds.p_dc_conductances_w
    assert float(abs(miss).max()) <= bound
    assert np.allclose(ds.energy_balance_residual, abs(miss) / (ds.p_grid_w + abs(ds.p_dc_terminals_w)),
                       rtol=1e-6, atol=0)
    a = ds.attrs
    e_in = a["energy_p_grid_j"] + abs(a["energy_p_dc_terminals_j"])
    assert a["energy_balance_residual"] * e_in <= ds.sizes["time"] * bound * a["step_s"]
    if "heat_balance_residual" in a:
        assert a["heat_balance_residual"] <= 1e-12 and a["facility_energy_residual"] <= 1e-11


def close(value, ref, name):
    return value == pytest.approx(ref, rel=1e-12, abs=P_ABS_W if name.endswith("_w") else 0.0)


def campus(p_set_w=2e5, v_min_v=700.0, cooling=None):
    """The small test campus (one hall, 2 rows of 4 racks of 130 kW at the chips, so that a load fraction scales
    the case's p_it_w, two droop stations) with a battery terminal on the hall switchboard and a heater (a
    conductance load) at a row end."""
    base = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130, rack_power_basis="chips")
    tables = {k: v for k, v in base.tables.items() if len(v)}
    tables["dc_terminal"] = [{"id": "bess", "bus": "H1-SWB", "p_set_w": p_set_w, "v_min_v": v_min_v,
                              "v_max_v": 900, "rated_power_w": 5e5}]
    tables["dc_conductance"] = [{"id": "heater", "bus": "H1-R2-T4", "g_s": 0.05}]
    return gw.make_case(tables, loss_models=base.loss_model_params, cooling=cooling)


def _series(fraction, schedule=None):
    data = {"p_it_fraction": ("time", np.asarray(fraction, float))}
    coords = {"time": TIMES[:len(fraction)]}
    if schedule is not None:
        data["terminal_p_set_w"] = (("time", "terminal_column"), np.asarray(schedule, float)[:, None])
        coords["terminal_column"] = ["bess"]
    return xr.Dataset(data, coords=coords)


@pytest.mark.parametrize("cooling", [None, {}])
def test_constant_inputs_give_the_steady_solve_at_every_step(cooling):
    case = campus(cooling=cooling)
    ds = run_time_series(case, _series([1.0] * 4))
    assert ds.attrs["dc_steps_from_batch"] == 4  # no chip leakage: the DC stage solved in one batch
    ref = steady(gw.solve(case))
    names = COMPARED + (CHAIN if cooling is not None else ())
    for k in range(4):
        for name in names:
            assert close(float(ds[name][k]), ref[name], name), (name, k)
    assert ds.attrs["energy_p_dc_terminals_j"] == pytest.approx(4 * 3600 * 2e5, rel=1e-14)
    check_ledgers(ds, case)


def _steady(p_set_w, fraction, cooling=None):
    """gw.solve of the campus with the battery at p_set_w and the racks at fraction × their power."""
    case = campus(p_set_w=p_set_w, cooling=cooling)
    tables = dict(case.tables)
    tables["rack"] = tables["rack"].assign(p_it_w=tables["rack"]["p_it_w"] * fraction)
    return steady(gw.solve(gw.make_case(tables, loss_models=dict(case.loss_model_params), cooling=cooling)))


@pytest.mark.parametrize("cooling, fraction", [(None, [1.0, 0.5, 0.8, 0.3]), ({}, [1.0] * 4)])
def test_a_battery_schedule_gives_the_steady_solve_of_each_step(cooling, fraction):
    """Discharging, idle, charging (the battery drawing 300 kW), discharging; the racks at changing load
    (without cooling: with it, the loops keep the case's design flows at part load, as in any series). Each
    step equals gw.solve of the case at that step's set power and load."""
    schedule = [4e5, 0.0, -3e5, 2e5]
    case = campus(cooling=cooling)
    ds = run_time_series(case, _series(fraction, schedule))
    names = COMPARED + (CHAIN_AT_OTHER_SET_POWERS if cooling is not None else ())
    for k in range(4):
        ref = _steady(schedule[k], fraction[k], cooling)
        for name in names:
            assert close(float(ds[name][k]), ref[name], name), (name, k)
        assert float(ds.p_dc_terminals_w[k]) == schedule[k]  # every step at its set power (within its limits)
    assert ds.attrs["energy_p_dc_terminals_j"] == pytest.approx(3600 * sum(schedule), rel=1e-14)
    check_ledgers(ds, case)


def test_a_terminal_at_its_voltage_limit_along_the_series():
    """A battery asked to charge 2 MW with its lower limit at 795 V: it holds 795 V and delivers what the
    network then asks, at least its set power (the active set of gigawatt.solver.dc.meshed), as gw.solve of
    the same case does."""
    case = campus(p_set_w=-2e6, v_min_v=795.0)
    ds = run_time_series(case, _series([1.0, 0.6]))
    for k, f in enumerate([1.0, 0.6]):
        tables = dict(case.tables)
        tables["rack"] = tables["rack"].assign(p_it_w=tables["rack"]["p_it_w"] * f)
        ref = gw.solve(gw.make_case(tables, loss_models=dict(case.loss_model_params)))
        assert int(ds.terminals_at_limit[k]) == 1 and ref.terminal_mode.item() == "at_v_min"
        assert float(ds.p_dc_terminals_w[k]) > -2e6
        ref = steady(ref)
        for name in COMPARED:
            assert close(float(ds[name][k]), ref[name], name), (name, k)
    check_ledgers(ds, case)


def test_batch_and_step_by_step_agree():
    """With chip leakage the DC stage waits for the chips (solved step by step, warm-started); without, it is
    solved in one batch: the same network gives the same figures either way."""
    from gigawatt.solver.chain_stepper import ChainStepper

    case = campus()
    batch = ChainStepper(case)
    assert batch.open_loop_dc
    pt = np.array([[4e5], [-1e5], [0.0]])
    batch.solve_dc_ahead(np.array([1.0, 0.7, 0.2]), pt)
    alone = ChainStepper(case)
    for k, f in enumerate([1.0, 0.7, 0.2]):
        a, b = batch.step(f, None, 3600.0, terminal_p_w=pt[k]), alone.step(f, None, 3600.0, terminal_p_w=pt[k])
        for name in COMPARED:
            assert close(a[name], b[name], name), name
    assert batch.dc.steps_from_batch == 3 and alone.dc.steps_from_batch == 0


def _write(path, text):
    path.write_text(text)
    return path


def test_a_schedule_column_naming_no_terminal_is_one_case_error_line():
    case = campus()
    series = _series([1.0, 1.0], [1e5, 2e5]).assign_coords(terminal_column=["battery"])
    with pytest.raises(CaseError) as err:
        run_time_series(case, series)
    msg = str(err.value)
    assert "\n" not in msg and "battery" in msg and "bess" in msg and "names no in-service dc_terminal" in msg
    with pytest.raises(CaseError, match="finite") as err:
        run_time_series(case, _series([1.0, 1.0], [1e5, np.nan]))
    assert "\n" not in str(err.value) and "bess" in str(err.value) and "step 1" in str(err.value)
    no_terminals = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130)
    with pytest.raises(CaseError, match="names no in-service dc_terminal"):
        run_time_series(no_terminals, _series([1.0, 1.0], [1e5, 2e5]))


def test_a_schedule_file_with_a_gap_is_one_case_error_line(tmp_path):
    from gigawatt.cases.series_file import read_terminal_schedule

    good = _write(tmp_path / "ok.csv", "time,bess\n2025-01-01T00:00,1e5\n2025-01-01T01:00,-2e5\n")
    ds = read_terminal_schedule(good, start="2025-01-01T00:00", periods=2, step="1h")
    assert ds.terminal_p_set_w.values.tolist() == [[1e5], [-2e5]] and ds.terminal_p_set_w.attrs["units"] == "W"
    gap = _write(tmp_path / "gap.csv", "time,bess\n2025-01-01T00:00,1e5\n2025-01-01T02:00,-2e5\n")
    missing = _write(tmp_path / "missing.csv", "time,bess\n2025-01-01T00:00,1e5\n2025-01-01T01:00,\n")
    for path in (gap, missing):
        with pytest.raises(CaseError) as err:
            read_terminal_schedule(path, start="2025-01-01T00:00", periods=2, step="1h")
        assert "\n" not in str(err.value) and path.name in str(err.value)


def _case_with_schedule(tmp_path, schedule_text, periods=3):
    case = campus()
    settings = {"time": {"start": "2025-01-01T00:00", "periods": periods, "step": "1h", "weather": "constant",
                         "terminal_schedule": "battery.csv"}}
    path = gw.make_case(dict(case.tables), loss_models=dict(case.loss_model_params), **settings).to_toml(
        tmp_path / "campus.toml")
    (tmp_path / "battery.csv").write_text(schedule_text)
    return path


def test_gigawatt_run_year_reads_the_terminal_schedule(tmp_path, cli):
    """`gigawatt run --year` of a case whose [time] names a terminal schedule: each step at its set power,
    the same figures as the library's run with the schedule given as a Dataset."""
    path = _case_with_schedule(tmp_path, "time,bess\n2025-01-01T00:00,3e5\n2025-01-01T01:00,-1e5\n"
                                         "2025-01-01T02:00,0\n")
    out = tmp_path / "ts.nc"
    res = cli("run", str(path), "--year", "-o", str(out))
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if "DC terminals, net delivered" in ln)
    assert line.split()[-2] == f"{(3e5 - 1e5) * 3600 / 3.6e9:.1f}"  # MWh over the three hours
    with xr.open_dataset(out) as ds:
        assert ds.p_dc_terminals_w.values.tolist() == [3e5, -1e5, 0.0]
        ref = run_time_series(campus(), _series([1.0] * 3, [3e5, -1e5, 0.0]))
        for name in COMPARED:
            np.testing.assert_allclose(ds[name].values, ref[name].values, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("text, words", [
    ("time,bess\n2025-01-01T00:00,1e5\n2025-01-01T02:00,0\n2025-01-01T03:00,0\n", ("battery.csv", "time")),
    ("time,battery\n2025-01-01T00:00,1e5\n2025-01-01T01:00,0\n2025-01-01T02:00,0\n",
     ("battery.csv", "battery", "names no in-service dc_terminal")),
])
def test_gigawatt_run_refuses_a_bad_schedule_in_one_line(tmp_path, cli, kit, text, words):
    path = _case_with_schedule(tmp_path, text)
    out = tmp_path / "ts.nc"
    line = kit.cli_error_line(cli("run", str(path), "--year", "-o", str(out)), out)
    assert all(w in line for w in words), line


def test_with_chip_leakage_each_step_waits_for_the_chips_and_equals_the_steady_solve():
    """With a leakage model the racks' power comes from the chips' fixed point at the step's coolant
    temperatures: the DC stage is solved step by step (warm-started), nothing from a batch, and still equals
    gw.solve at constant inputs."""
    case = campus(cooling={"leakage_model": "exponential"})
    ds = run_time_series(case, _series([1.0] * 3))
    assert ds.attrs["dc_steps_from_batch"] == 0
    ref = steady(gw.solve(case))
    for k in range(3):
        for name in COMPARED + ("q_available_w", "p_pumps_w"):
            assert close(float(ds[name][k]), ref[name], name), (name, k)
    check_ledgers(ds, case)


def test_a_bipolar_case_with_grid_elements_is_refused_in_one_line():
    case = campus()
    bipolar = gw.make_case(dict(case.tables), loss_models=dict(case.loss_model_params), dc={"system": "bipolar"})
    with pytest.raises(CaseError, match="monopolar") as err:
        run_time_series(bipolar, _series([1.0]))
    assert "\n" not in str(err.value)


def test_a_batch_mixing_steps_at_a_limit_and_at_set_power_gives_each_steps_steady_solve():
    """One batch whose steps need different held-bus patterns (at full load the hall bus would sit below the
    battery's 795 V limit, so the battery holds 795 V and delivers what that takes; at light load it holds its
    set power): each step equals gw.solve of its case."""
    schedule, fraction = [-2e6, 1e5, -2e6, 0.0], [1.0, 0.3, 1.0, 0.2]
    case = campus(p_set_w=0.0, v_min_v=795.0)
    ds = run_time_series(case, _series(fraction, schedule))
    assert ds.attrs["dc_steps_from_batch"] == 4
    assert ds.terminals_at_limit.values.tolist() == [1, 0, 1, 0]
    for k in range(4):
        tables = dict(case.tables)
        tables["rack"] = tables["rack"].assign(p_it_w=tables["rack"]["p_it_w"] * fraction[k])
        tables["dc_terminal"] = tables["dc_terminal"].assign(p_set_w=schedule[k])
        ref = steady(gw.solve(gw.make_case(tables, loss_models=dict(case.loss_model_params))))
        for name in COMPARED:
            assert close(float(ds[name][k]), ref[name], name), (name, k)
    check_ledgers(ds, case)
