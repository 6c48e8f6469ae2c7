"""``gigawatt sweep``: the grid of scenarios on Dask (local worker processes or a given scheduler), resumable,
failures recorded without losing the others, bad input refused before any computing.

Expected numbers come from outside the sweep machinery: a direct ``gw.solve`` of the scenario's case built by
hand, the IT power (racks × rack power, no leakage), the ASHRAE class temperature, and the closed form of one
line feeding a constant-power load (textbook circuit theory): I = (V - sqrt(V² - 4RP)) / (2R), with no
solution beyond the nose P_max = V²/(4R). No timing is asserted.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.output_paths import atomic_write
from gigawatt.sweep import parse_grid, run_sweep

GRID = {"rack.p_it_kw": [100, 120], "cooling.facility_class": ["W32", "W40"]}
RACKS = 1 * 2 * 4


def small_campus():
    """1 hall × 2 rows × 4 racks of 130 kW with liquid cooling (all cooling defaults)."""
    return gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130, cooling={})


def kpi_table(ds):
    names = [k for k in ds.data_vars if ds[k].dtype.kind == "f"]
    return {k: ds[k].values for k in names}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same sweep on 1 and on 2 local worker processes."""
    folder = tmp_path_factory.mktemp("sweep")
    one = run_sweep(small_campus(), GRID, folder / "one.nc", workers=1)
    two = run_sweep(small_campus(), GRID, folder / "two.nc", workers=2)
    return folder, one, two


def test_grid_coordinates_and_values(runs):
    folder, one, _ = runs
    assert one.sizes["scenario"] == 4
    # First field outermost; canonical names and SI in the coordinates, the spelling given kept as an attribute.
    np.testing.assert_array_equal(one["rack.p_it_w"].values, [1e5, 1e5, 1.2e5, 1.2e5])
    assert list(one["cooling.facility_class"].values) == ["W32", "W40", "W32", "W40"]
    assert one["rack.p_it_w"].attrs["units"] == "W" and one["rack.p_it_w"].attrs["given_as"] == "rack.p_it_kw"
    assert list(one["status"].values) == ["ok"] * 4 and list(one["error"].values) == [""] * 4
    # IT power at the rack inputs (the racks' basis): every rack at the swept power (no leakage model), exactly.
    np.testing.assert_allclose(one["p_rack_input_w"].values, RACKS * one["rack.p_it_w"].values, rtol=1e-12)
    # Facility supply at the ASHRAE class temperature (W32: 32 °C, W40: 40 °C).
    np.testing.assert_allclose(one["t_facility_supply_k"].values, [305.15, 313.15, 305.15, 313.15], rtol=0, atol=1e-9)
    for k in ("p_grid_w", "pue", "q_recovered_w", "energy_balance_residual"):
        assert k in one and one[k].attrs.get("units")
    assert one.attrs["scenarios_computed"] == 4 and one.attrs["scenarios_resumed"] == 0
    # The written file is the returned dataset (dotted coordinate names survive NetCDF).
    with xr.open_dataset(folder / "one.nc") as back:
        xr.testing.assert_identical(back.drop_attrs(), one.drop_attrs())


def test_one_and_two_workers_give_identical_numbers(runs):
    _, one, two = runs
    a, b = kpi_table(one), kpi_table(two)
    assert a.keys() == b.keys() and len(a) > 20
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_scenario_equals_a_direct_solve(runs):
    """Scenario 3 (racks at 120 kW, class W40) against gw.solve of that case built by hand."""
    folder, one, _ = runs
    base = small_campus()
    rack = base.tables["rack"].copy()
    rack["p_it_w"] = 1.2e5
    cooling = dict(base.settings["cooling"], facility_class="W40", facility_supply_t_k=None, tcs_supply_t_k=None)
    direct = gw.solve(gw.make_case({**base.tables, "rack": rack}, loss_models=dict(base.loss_model_params),
                                   case=base.settings["case"], solver=base.settings["solver"], cooling=cooling))
    for k in ("p_grid_w", "p_loss_w", "pue", "q_available_w", "t_facility_return_k"):
        assert one[k].values[3] == pytest.approx(direct.attrs[k], rel=1e-12), k
    with xr.open_dataset(folder / "one.nc.parts" / str(one["part"].values[3])) as part:
        for k in ("rack_p_in_w", "rack_v_v"):
            np.testing.assert_allclose(part[k].values, direct[k].values, rtol=1e-12, err_msg=k)


def test_resume_skips_finished_scenarios(runs):
    folder, _, two = runs
    parts = folder / "two.nc.parts"
    files = sorted(parts.glob("*.nc"))
    assert len(files) == 4 and not list(parts.glob("*.tmp"))
    removed = parts / str(two["part"].values[1])
    removed.unlink()
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.nc")}
    again = run_sweep(small_campus(), GRID, folder / "two.nc", workers=1)
    assert again.attrs["scenarios_computed"] == 1 and again.attrs["scenarios_resumed"] == 3
    assert removed.exists()
    assert {p: parts.joinpath(p).stat().st_mtime_ns for p in before} == before  # untouched
    for k, v in kpi_table(two).items():
        np.testing.assert_array_equal(again[k].values, v, err_msg=k)
    # Nothing left to do: no cluster is started, the dataset is rebuilt from the parts.
    third = run_sweep(small_campus(), GRID, folder / "two.nc", workers=1)
    assert third.attrs["scenarios_computed"] == 0 and third.attrs["scenarios_resumed"] == 4


def test_a_failing_scenario_loses_none_of_the_others(tmp_path, kit, cli):
    """One line of 1 Ω at 800 V: the nose is at 800²/4 = 160 kW, so the 200 kW scenario cannot converge."""
    r_ohm, v = 1.0, 800.0
    path = kit.write_case(tmp_path, kit.one_line_doc(r_ohm=r_ohm, p_it_w=1e4))
    out = tmp_path / "nose.nc"
    res = cli("sweep", path, "--set", "rack.p_it_kw=50,100,200", "-o", out, "--workers", "1")
    assert res.exit_code == 0, res.output
    with xr.open_dataset(out) as ds:
        assert list(ds["status"].values) == ["ok", "ok", "failed"]
        assert "ConvergenceError" in ds["error"].values[2]
        for i, p in enumerate((5e4, 1e5)):
            current = (v - math.sqrt(v * v - 4 * r_ohm * p)) / (2 * r_ohm)
            assert ds["p_grid_w"].values[i] == pytest.approx(v * current, rel=1e-9)
        assert math.isnan(ds["p_grid_w"].values[2])
        record = json.loads((tmp_path / "nose.nc.parts" / str(ds["part"].values[2])).read_text())
    assert record["status"] == "failed" and record["values"] == {"rack.p_it_w": 2e5}
    assert "scenario 2 failed: ConvergenceError" in res.stdout
    # A rerun solves nothing: the failure would repeat (a gigawatt error), so it counts as finished.
    res = cli("sweep", path, "--set", "rack.p_it_kw=50,100,200", "-o", out)
    assert res.exit_code == 0 and "3 scenarios, 3 finished before, 0 to solve" in res.stderr


def test_scheduler_path_on_a_cluster_started_here(tmp_path, runs):
    from dask.distributed import LocalCluster

    _, one, _ = runs
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        ds = run_sweep(small_campus(), GRID, tmp_path / "remote.nc", scheduler=cluster.scheduler_address)
        assert len(cluster.workers) == 1  # the sweep used this cluster and left it running
    for k, v in kpi_table(one).items():
        np.testing.assert_array_equal(ds[k].values, v, err_msg=k)


def test_campus_setting_swept_in_a_case_file(tmp_path, kit, cli):
    """A [campus] builder setting in another unit spelling (kW) rebuilds the campus per scenario."""
    doc = {"case": {"name": "tiny"}, "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2,
                                                "rack_it_power_kw": 100}}
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "tiny.nc"
    res = cli("sweep", path, "--set", "campus.rack_it_power_kw=50,80", "--set", "solver.tolerance=1e-9,1e-11",
              "-o", out, "--workers", "1")
    assert res.exit_code == 0, res.output
    with xr.open_dataset(out) as ds:
        p = np.unique(ds["campus.rack_it_power_w"].values)
        np.testing.assert_array_equal(p, [5e4, 8e4])
        np.testing.assert_array_equal(ds["solver.tolerance"].values, [1e-9, 1e-11, 1e-9, 1e-11])
        # the racks' input power (the campus's rack_power_basis), as swept
        np.testing.assert_allclose(ds["p_rack_input_w"].values, 2 * ds["campus.rack_it_power_w"].values, rtol=1e-12)


# --- bad input: refused before any computing, one line, exit 2, no files ------------------------------------

BAD = [
    (["rack.p_it_kww=1,2"], "field 'rack.p_it_kww'", "did you mean 'p_it_kw'"),
    (["nosuch.x=1"], "field 'nosuch.x'", "known section or table"),
    (["p_it_kw=1"], "field 'p_it_kw'", "section.field"),
    (["rack.p_it_kw=100,abc"], "field 'rack.p_it_kw'", "'abc'"),
    (["rack.p_it_kw=-5"], "out of range", "'-5'"),
    (["cooling.facility_class=W32,W99"], "not an allowed value", "'W99'"),
    (["rack.p_it_kw=100,100.0"], "value given twice", "'100.0'"),
    (["rack.p_it_kw=100,"], "none empty", "field 'rack.p_it_kw'"),
    (["rack.id=a"], "cannot be swept", "field 'rack.id'"),
    (["rack.p_it_kw"], "FIELD=v1,v2", "--set"),
    (["rack.p_it_kw=1", "rack.p_it_w=2000"], "swept twice", "rack.p_it_w"),
    ([], "nothing to sweep", "--set"),
]


@pytest.mark.parametrize("sets, needle1, needle2", BAD, ids=[" ".join(b[0]) or "none" for b in BAD])
def test_bad_grid(sets, needle1, needle2, tmp_path, kit, cli):
    with pytest.raises(CaseError):
        parse_grid(sets)
    path = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "out.nc"
    args = [a for s in sets for a in ("--set", s)]
    line = kit.cli_error_line(cli("sweep", path, *args, "-o", out), out)
    assert needle1 in line and needle2 in line, line
    assert not (tmp_path / "out.nc.parts").exists()


def test_section_the_case_lacks(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, kit.base_doc())  # no [cooling], no [campus]
    out = tmp_path / "out.nc"
    for field in ("cooling.facility_class=W32", "campus.halls=1,2", "dh_pipe.length_m=10"):
        line = kit.cli_error_line(cli("sweep", path, "--set", field, "-o", out), out)
        assert field.split("=")[0] in line and ("no [" in line or "no rows" in line), line
    with pytest.raises(CaseError, match="built in code"):
        run_sweep(small_campus(), {"campus.halls": [1, 2]}, tmp_path / "x.nc")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "no-such-protocol://x"])
def test_unreachable_scheduler(address, tmp_path, kit, cli):
    path = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "out.nc"
    line = kit.cli_error_line(cli("sweep", path, "--set", "rack.p_it_kw=10,20", "-o", out,
                                  "--scheduler", address), out)
    assert "--scheduler" in line and "cannot reach the dask scheduler" in line and repr(address) in line
    assert not (tmp_path / "out.nc.parts").exists()


def test_interrupt_leaves_no_half_written_file(tmp_path, kit, cli, monkeypatch):
    target = tmp_path / "r.nc"

    def write(tmp):
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, write)
    assert list(tmp_path.iterdir()) == []
    # The command line: exit 130 with a note, and no results file.
    import gigawatt.sweep

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gigawatt.sweep, "run_sweep", interrupted)
    path = kit.write_case(tmp_path, kit.base_doc())
    res = cli("sweep", path, "--set", "rack.p_it_kw=10,20", "-o", target)
    assert res.exit_code == 130 and "rerun the same command to resume" in res.stderr and not target.exists()


def test_sweep_benchmark_record(tmp_path, kit):
    """The benchmark's record on a tiny grid (no timing asserted): layout, ratios present, same numbers."""
    from gigawatt.bench.sweep_workers import format_sweep_benchmark, run_sweep_benchmark

    path = kit.write_case(tmp_path, kit.one_line_doc(r_ohm=1e-3, p_it_w=1e4))
    rec = run_sweep_benchmark(path, {"rack.p_it_kw": [10, 20]}, workers=(1, 2), repeat=2)
    assert rec["scenarios"] == 2 and rec["failed"] == 0 and rec["identical"] is True
    assert set(rec["runs"]) == {"1", "2"} and "speedup" in rec["runs"]["2"] and "speedup" not in rec["runs"]["1"]
    assert all(len(r["sweeps_s"]) == 2 for r in rec["runs"].values())
    import os

    # the whole call: a one-off sweep on the default cluster (one worker a core), start included; no peer
    assert rec["whole_s"] == rec["runs"][str(rec["whole_workers"])]["total_s"]
    assert rec["whole_workers"] == min(2, max(1, os.cpu_count() or 1))
    assert rec["peer_whole_s"] is None and rec["speedup_whole"] is None
    text = format_sweep_benchmark(rec)
    assert "speed-up" in text and "target >= 1.8x" in text and "whole (a one-off gigawatt sweep" in text


def test_ctrl_c_keeps_whole_parts_and_writes_no_results(tmp_path):
    """A real Ctrl-C (SIGINT to the command's whole process group, workers included) once the first part of
    the bundled case's sweep is written: exit 130, one clean note, the finished parts whole, no results file
    and no temporary files."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "study.nc"
    parts = tmp_path / "study.nc.parts"
    exe = Path(sys.executable).with_name("gigawatt")
    # Started as a shell starts a command: SIGINT neither ignored nor blocked. A child inherits both across exec,
    # and in a full test run this process can carry them from libraries earlier tests used (fresh-clone CI:
    # the command then ignored the Ctrl-C, solved all 8 scenarios and exited 0; alone the test passed).
    launch = ("import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
              "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])")
    proc = subprocess.Popen([sys.executable, "-c", launch, str(exe), "sweep",
                             "--set", "district_heating.t_supply_c=65,70,75,80",
                             "--set", "cooling.facility_class=W32,W40", "-o", str(out), "--workers", "1"],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status = Path(f"/proc/{proc.pid}/status")
    try:
        deadline = time.monotonic() + 300
        while not list(parts.glob("*.nc")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        masks = [line for line in status.read_text().splitlines() if line.startswith(("SigBlk", "SigIgn"))]
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (masks, stderr)
    assert "Traceback" not in stderr and "rerun the same command to resume" in stderr
    assert not out.exists() and not list(tmp_path.rglob("*.tmp"))
    finished = list(parts.glob("*.nc"))
    assert 1 <= len(finished) < 8
    for part in finished:
        with xr.open_dataset(part) as ds:
            assert ds.attrs["converged"] == 1 and ds.attrs["energy_balance_residual"] < 1e-9
            assert ds.sizes["rack"] == 4 * 12 * 16


def test_run_sweep_from_a_plain_script_without_a_main_guard(tmp_path):
    """A user's script that calls gw.run_sweep on two workers at its top level, with no ``if __name__ ==
    "__main__":`` guard: the spawned workers must not run the script again (multiprocessing would refuse), and
    the sweep gives the same figures as the same sweep started from this process on one worker."""
    import subprocess
    import sys

    script = tmp_path / "study.py"
    script.write_text('import gigawatt as gw\n'
                      'ds = gw.run_sweep(gw.load_case(), {"rack.p_it_kw": [100, 120]}, "study.nc", workers=2)\n'
                      'print("scenarios", ds.sizes["scenario"])\n')
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "scenarios 2" and "Traceback" not in proc.stderr
    with xr.open_dataset(tmp_path / "study.nc") as got:
        ref = run_sweep(gw.load_case(), {"rack.p_it_kw": [100, 120]}, tmp_path / "ref.nc", workers=1)
        np.testing.assert_allclose(got["pue"].values, ref["pue"].values, rtol=1e-12)
