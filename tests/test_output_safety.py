"""Never a lost file (issue 14): every command refuses to write over one of its own inputs, a folder or a
device, before anything is computed; a case name is never a path; results are written whole through a
temporary file of the run alone, so concurrent runs to one output never delete each other's file; a killed
run's temporary file is recognised on the next run; SIGTERM cleans up like Ctrl-C; a sweep's unreadable
part is solved again; a read-only or missing folder is said as such, before computing.

Each refusal is checked the way a user meets it: exit status 2, one line on stderr, and every file of the
folder byte for byte as it was.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.output_paths import (atomic_write, check_output, default_output, remove_stale, safe_name,
                                   temporary_beside)
from gigawatt.sweep import _finished, run_sweep

GIGAWATT = Path(sys.executable).with_name("gigawatt")


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes (links as what they point to)."""
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}


def one_error_line(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


# --- a folder with every kind of input ---------------------------------------------------------------------

def inputs_folder(kit, folder: Path) -> Path:
    """``case.toml`` with its racks in ``racks.csv`` and a [time] axis whose IT load and weather are CSV
    files; ``untimed.toml``, the same without [time]; ``series.csv`` for ``--series``. Returns the path of
    ``case.toml``."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = kit.base_doc()
    racks = doc.pop("rack")
    cols = ["id", "bus", "p_it_w", "shelf_loss_model", "shelf_rated_power_w"]
    (folder / "racks.csv").write_text(",".join(cols) + "\n" + "".join(
        ",".join(str(r.get(c, "")) for c in cols) + "\n" for r in racks))
    times = [f"2025-01-01T0{k}:00" for k in range(3)]
    (folder / "load.csv").write_text("time,p_it_fraction\n"
                                     + "".join(f"{t},{0.5 + 0.1 * k}\n" for k, t in enumerate(times)))
    (folder / "weather.csv").write_text("time,outdoor_t_c\n" + "".join(f"{t},{5 + k}\n" for k, t in enumerate(times)))
    (folder / "series.csv").write_text((folder / "load.csv").read_text())
    (folder / "untimed.toml").write_text('rack = "racks.csv"\n' + kit.to_toml(doc))
    doc["time"] = {"periods": 3, "it_load": "load.csv", "weather": "weather.csv"}
    (folder / "case.toml").write_text('rack = "racks.csv"\n' + kit.to_toml(doc))
    return folder / "case.toml"


def _link(folder, kind):
    target = folder / "case.toml"
    link = folder / f"{kind}.nc"
    (os.symlink if kind == "symlink" else os.link)(target.name if kind == "symlink" else target, link)
    return link.name


# (command before the output, output name or a callable making it, the input it would overwrite)
OVERWRITES = {
    "run: the case file": (["run", "untimed.toml"], "untimed.toml"),
    "run: a CSV table of the case": (["run", "untimed.toml"], "racks.csv"),
    "run: a symbolic link to the case": (["run", "case.toml"], lambda f: _link(f, "symlink")),
    "run: a hard link to the case": (["run", "case.toml"], lambda f: _link(f, "hardlink")),
    "run --year: the case file": (["run", "--year", "case.toml"], "case.toml"),
    "run --year: its IT-load file": (["run", "--year", "case.toml"], "load.csv"),
    "run --year: its weather file": (["run", "--year", "case.toml"], "weather.csv"),
    "run --series: the series file": (["run", "untimed.toml", "--series", "series.csv"], "series.csv"),
    "sweep: the case file": (["sweep", "untimed.toml", "--set", "rack.p_it_kw=10,20"], "untimed.toml"),
    "sweep: a CSV table": (["sweep", "untimed.toml", "--set", "rack.p_it_kw=10,20"], "racks.csv"),
    "compare: the case file": (["compare", "untimed.toml", "--architectures", "dc800"], "untimed.toml"),
    "compare: a CSV table": (["compare", "untimed.toml", "--architectures", "dc800"], "racks.csv"),
}


@pytest.mark.parametrize("name", list(OVERWRITES))
def test_no_command_overwrites_its_own_inputs(name, tmp_path, kit, cli, monkeypatch):
    inputs_folder(kit, tmp_path)
    monkeypatch.chdir(tmp_path)
    args, out = OVERWRITES[name]
    out = out(tmp_path) if callable(out) else out
    before = snapshot(tmp_path)
    line = one_error_line(cli(*args, "-o", out))
    assert "is an input of this run" in line and out in line, line
    assert snapshot(tmp_path) == before  # nothing written, nothing left


def test_sweep_refuses_a_parts_folder_that_holds_an_input(tmp_path, kit, cli):
    # The sweep writes (and removes broken) files in OUT.parts: a case kept there is an input in harm's way.
    parts = tmp_path / "out.nc.parts"
    case = inputs_folder(kit, parts).with_name("untimed.toml")
    before = snapshot(tmp_path)
    line = one_error_line(cli("sweep", case, "--set", "rack.p_it_kw=10,20", "-o", tmp_path / "out.nc"))
    assert "holds an input of this run" in line and "out.nc.parts" in line
    assert snapshot(tmp_path) == before


def test_report_refuses_to_draw_over_its_results(tmp_path, kit, cli):
    # A results file named like one of the report's files, drawn into its own folder.
    res = cli("run", kit.write_case(tmp_path, kit.base_doc()), "-o", tmp_path / "report.html")
    assert res.exit_code == 0, res.output
    before = snapshot(tmp_path)
    line = one_error_line(cli("report", tmp_path / "report.html", "-o", tmp_path))
    assert "is an input of this run" in line
    assert snapshot(tmp_path) == before


def test_library_writers_refuse_their_inputs(tmp_path, kit):
    from gigawatt.cases.series_file import read_timeseries, write_timeseries
    from gigawatt.time_series import run_time_series

    case_path = inputs_folder(kit, tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(CaseError, match="is an input of this run"):
        write_timeseries(read_timeseries(tmp_path / "series.csv"), tmp_path / "series.csv")
    with pytest.raises(CaseError, match="is an input of this run"):
        run_time_series(gw.load_case(case_path), output=tmp_path / "weather.csv")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [["run"], ["compare", "--architectures", "dc800"],
                                     ["sweep", "--set", "rack.p_it_kw=10,20"]])
def test_folder_and_device_outputs_are_refused(command, tmp_path, kit, cli):
    case = kit.write_case(tmp_path, kit.base_doc())
    before = snapshot(tmp_path)
    args = [command[0], case, *command[1:]]
    assert "is a folder" in one_error_line(cli(*args, "-o", tmp_path))
    assert "device or other special file" in one_error_line(cli(*args, "-o", os.devnull))
    assert snapshot(tmp_path) == before


def test_missing_folder_says_it_does_not_exist(tmp_path, cli, kit):
    case = kit.write_case(tmp_path, kit.base_doc())
    for args in (["run", case], ["sweep", case, "--set", "rack.p_it_kw=10,20"]):
        line = one_error_line(cli(*args, "-o", tmp_path / "nowhere" / "x.nc"))
        assert "does not exist" in line and "Permission denied" not in line and "x.nc" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


# --- a case name is never a path ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, file", [("../x", "x.nc"), ("/etc/passwd", "etc_passwd.nc"),
                                        ("hall 1/row 2", "hall_1_row_2.nc"), ("..", "results.nc"),
                                        ("-rf", "rf.nc")])
def test_case_name_is_never_a_path(name, file, tmp_path, kit, cli, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    doc = kit.base_doc()
    doc["case"]["name"] = name
    case = kit.write_case(tmp_path, doc)
    monkeypatch.chdir(here)
    res = cli("run", case)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in here.iterdir()) == [file]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml", "here"]
    with xr.open_dataset(here / file) as ds:
        assert ds.attrs["case_name"] == name  # the name itself is kept, as data
    assert default_output(name, "-sweep.nc") == Path(file.replace(".nc", "-sweep.nc"))


def test_safe_name_doctest(kit):
    import gigawatt.output_paths

    assert "safe_name" in kit.run_docstring_examples(gigawatt.output_paths)
    assert safe_name("\x00") == "results" and len(safe_name("a" * 1000)) == 200


# --- whole files, and concurrent writers --------------------------------------------------------------------

def test_a_failing_writer_removes_only_its_own_temporary_file(tmp_path):
    target = tmp_path / "r.nc"
    other = temporary_beside(target)  # another run's, mid-write
    other.write_bytes(b"theirs")

    def fail(tmp):
        Path(tmp).write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, fail)
    assert sorted(tmp_path.iterdir()) == [other] and other.read_bytes() == b"theirs"


def test_interleaved_writers_last_complete_one_wins(tmp_path):
    """Writer A starts, B starts and finishes, then A finishes: A's file is the result (the last complete),
    whole, and no temporary file is left."""
    target = tmp_path / "r.nc"
    a_started, b_done = threading.Event(), threading.Event()

    def write_a(tmp):
        Path(tmp).write_bytes(b"A" * 1000)
        a_started.set()
        assert b_done.wait(30)

    thread = threading.Thread(target=atomic_write, args=(target, write_a))
    thread.start()
    assert a_started.wait(30)
    assert len(list(tmp_path.glob("r.nc.gw*.part"))) == 1
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(b"B" * 10))
    assert target.read_bytes() == b"B" * 10
    b_done.set()
    thread.join(30)
    assert target.read_bytes() == b"A" * 1000 and sorted(tmp_path.iterdir()) == [target]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # a results file, not a private temporary


def test_two_runs_to_the_same_output_at_once(tmp_path, kit):
    """Two processes write the same -o at the same time: both succeed, the file is one whole result."""
    case = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "same.nc"
    procs = [subprocess.Popen([str(GIGAWATT), "run", str(case), "-o", str(out)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr
    with xr.open_dataset(out) as ds:
        ref = gw.solve(gw.load_case(case))
        np.testing.assert_array_equal(ds.v_v.values, ref.v_v.values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml", "same.nc"]


# --- temporary files left by killed runs --------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_killed_runs_temporary_files_recognised_next_run(tmp_path, kit, cli):
    case = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "r.nc"
    host = socket.gethostname()
    host = "".join(c if c.isalnum() or c in "_-" else "_" for c in host)[:64]
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        dead = tmp_path / f"r.nc.gw{_dead_pid()}@{host}.abcd1234.part"
        live = tmp_path / f"r.nc.gw{sleeper.pid}@{host}.efgh5678.part"
        foreign = tmp_path / f"r.nc.gw12345@some-other-host.ijkl9012.part"
        unrelated = tmp_path / "r.nc.part"  # not ours: never touched
        for p in (dead, live, foreign, unrelated):
            p.write_bytes(b"partial")
        res = cli("run", case, "-o", out)
        assert res.exit_code == 0, res.output
        assert not dead.exists() and live.exists() and foreign.exists() and unrelated.exists()
        notes = res.stderr.strip().splitlines()
        assert any(str(dead) in n and "removed" in n and "interrupted" in n for n in notes), notes
        assert any(str(live) in n and "live process" in n for n in notes), notes
        assert any(str(foreign) in n and "some-other-host" in n for n in notes), notes
        assert len(notes) == 3
    finally:
        sleeper.kill()
        sleeper.wait()
    # Once the writer is gone its file is stale too.
    assert sorted(remove_stale(out)) == sorted([
        f"note: removed {live}, left by an interrupted run (pid {sleeper.pid})",
        f"note: {foreign} was left by a run on host 'some-other-host' (pid 12345); remove it if that run is over"])


def _start_year(tmp_path, kit, out):
    doc = kit.base_doc()
    doc["time"] = {"periods": 500000, "step": "1min", "weather": "constant", "chunk_steps": 1000}
    case = kit.write_case(tmp_path, doc)
    proc = subprocess.Popen([str(GIGAWATT), "run", str(case), "-o", str(out)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob("year.nc.gw*.part")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert list(tmp_path.glob("year.nc.gw*.part"))
    return proc, case


def test_sigterm_of_a_year_run_removes_its_temporary_file(tmp_path, kit):
    out = tmp_path / "year.nc"
    proc, _ = _start_year(tmp_path, kit, out)
    try:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and "interrupted: no results written" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


def test_sigterm_inside_a_finalizer_is_raised_at_the_next_checkpoint():
    # Python only prints an exception raised in __del__; numba's compiler runs llvmlite finalizers often
    # enough that a SIGTERM during compilation lands in one. It must not be lost.
    from gigawatt.output_paths import Terminated, raise_if_terminated, terminate_as_interrupt

    class SignalledWhileFreed:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes, still inside __del__
                pass

    with terminate_as_interrupt():
        obj = SignalledWhileFreed()
        del obj
        with pytest.raises(Terminated):
            raise_if_terminated()
        raise_if_terminated()  # raised once


def test_sigkill_leftover_is_removed_by_the_next_run(tmp_path, kit, cli):
    out = tmp_path / "year.nc"
    proc, _ = _start_year(tmp_path, kit, out)
    proc.kill()
    proc.communicate(timeout=60)
    left = list(tmp_path.glob("year.nc.gw*.part"))
    assert len(left) == 1 and not out.exists()
    doc = kit.base_doc()
    doc["time"] = {"periods": 2, "weather": "constant"}
    res = cli("run", kit.write_case(tmp_path, doc, "short.toml"), "-o", out)
    assert res.exit_code == 0, res.output
    assert f"note: removed {left[0]}, left by an interrupted run (pid {proc.pid})" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml", "short.toml", "year.nc"]


# --- folders that cannot be written, checked before computing -----------------------------------------------

@contextlib.contextmanager
def unprivileged():
    """Within the block this process acts as user 'nobody' when it is root (root may write into a
    read-only folder); it is itself otherwise."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_read_only_folder_refused_before_computing(kit, cli):
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="gw-ro-"))  # where 'nobody' may read (pytest's tmp_path is private)
    try:
        shared.chmod(0o755)
        case = kit.write_case(shared, kit.base_doc())
        case.chmod(0o644)
        ro = shared / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        for args in (["sweep", case, "--set", "rack.p_it_kw=10,20,30", "--workers", "1"], ["run", case]):
            # The same command into a missing folder first: every module it needs is loaded as this user.
            assert "does not exist" in one_error_line(cli(*args, "-o", shared / "missing" / "out.nc"))
            with unprivileged():
                res = cli(*args, "-o", ro / "out.nc")
            line = one_error_line(res)
            assert "not writable" in line and "out.nc" in line, line
            assert res.stdout == ""  # no scenario solved, no summary printed
            assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)
        shutil.rmtree(shared)


# --- a sweep's unreadable part ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def in_process_client():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_truncated_part_is_removed_and_solved_again(tmp_path, kit, in_process_client):
    case = kit.write_case(tmp_path, kit.base_doc())
    out = tmp_path / "s.nc"
    first = run_sweep(case, {"rack.p_it_kw": [10, 20, 30]}, out, client=in_process_client)
    part = tmp_path / "s.nc.parts" / str(first["part"].values[1])
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 3])  # cut short, as by a full disk
    notes = []
    again = run_sweep(case, {"rack.p_it_kw": [10, 20, 30]}, out, client=in_process_client, progress=notes.append)
    assert again.attrs["scenarios_computed"] == 1 and again.attrs["scenarios_resumed"] == 2
    assert any(str(part) in n and "could not be read" in n and "solved again" in n for n in notes), notes
    assert part.read_bytes() == data  # the same scenario, solved again to the same bytes' numbers
    for k in ("p_grid_w", "p_it_w", "energy_balance_residual"):
        np.testing.assert_array_equal(again[k].values, first[k].values)
    # An unreadable error record is treated the same way.
    record = tmp_path / "s.nc.parts" / "0123456789abcdef0123.error.json"
    record.write_text("{not json")
    assert _finished(tmp_path / "s.nc.parts", "0123456789abcdef0123") is None and not record.exists()


def test_check_output_unit_rules(tmp_path):
    # The rule itself, without a command: inputs by path, link or inode; folders; devices; NUL.
    a = tmp_path / "a.toml"
    a.write_text("x")
    os.link(a, tmp_path / "hard")
    os.symlink(a, tmp_path / "soft")
    for out in (a, tmp_path / "hard", tmp_path / "soft", tmp_path / "sub" / ".." / "a.toml"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(CaseError, match="is an input of this run"):
            check_output(out, [a])
    with pytest.raises(CaseError, match="NUL"):
        check_output(str(tmp_path / "x\x00.nc"))
    assert check_output(tmp_path / "new.nc", [a]) == tmp_path / "new.nc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "hard", "soft", "sub"]
