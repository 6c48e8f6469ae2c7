"""``gigawatt run``: the summary a power engineer reads, the NetCDF results file, and the refusals (beyond
the nose of the P–V curve: non-zero exit, the weakest bus and feeder and the maximum power named, no file).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw

STAGES = ("ac_dc_station", "distribution", "dc_dc_converter", "rack_shelf", "rack_vrm")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One CLI run of the bundled default case, written to an explicit -o path."""
    from click.testing import CliRunner

    from gigawatt.cli import main

    out = tmp_path_factory.mktemp("run") / "sub" / "hall.nc"
    out.parent.mkdir()
    res = CliRunner().invoke(main, ["run", "-o", str(out)])
    return res, out


def test_default_case_summary(default_run):
    res, out = default_run
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    text = res.stdout
    with xr.open_dataset(out) as ds:
        ds = ds.load()
    # Every source by name, the IT power, every stage, the efficiency, the lowest voltage, convergence.
    for sid in ds.source.values:
        assert str(sid) in text
    assert "IT power" in text
    for stage in STAGES:
        assert stage in text
    assert "grid-to-chip efficiency" in text and "lowest voltage" in text and "converged" in text
    # The printed numbers are the file's: efficiency to the 3 decimals printed, the lowest voltage and its
    # bus, the iteration count.
    eff = float(re.search(r"grid-to-chip efficiency\s+([\d.]+) %", text).group(1))
    assert eff == pytest.approx(100 * ds.attrs["efficiency_grid_to_chip"], abs=5e-4)
    low = re.search(r"lowest voltage\s+([\d.]+) V = ([\d.]+) pu at bus '([^']+)'", text)
    i = int(np.argmin(ds.v_pu.values))
    assert low.group(3) == str(ds.bus.values[i])
    assert float(low.group(1)) == pytest.approx(float(ds.v_v[i]), abs=5e-4)
    assert f"converged in {ds.attrs['iterations']} " in text
    # IT power at the rack inputs: 4 halls x 12 rows x 16 racks x 130 kW = 99.84 MW at the leakage reference
    # junction temperature of 70 degC ([cooling] leakage_t_ref_c; the bundled case file's [campus] table gives the
    # racks' input power); each rack draws more than that exactly where its junctions run warmer. Both printed in
    # MW to 4 decimals, beside the chips' power.
    from gigawatt.models.racks import chip_powers, rack_powers

    it = float(re.search(r"IT power at the rack inputs\s+([\d.]+) MW", text).group(1))
    assert it == pytest.approx(ds.attrs["p_rack_input_w"] / 1e6, abs=5e-5)
    chips = float(re.search(r"power at the chips\s+([\d.]+) MW", text).group(1))
    assert chips == pytest.approx(ds.attrs["p_it_w"] / 1e6, abs=5e-5)
    case = gw.load_case()
    assert float(rack_powers(case)[0].sum()) == pytest.approx(4 * 12 * 16 * 130e3, rel=1e-12)
    assert float(ds.rack_p_it_ref_w.sum()) == pytest.approx(float(chip_powers(case).sum()), rel=1e-15)
    np.testing.assert_array_equal(ds.rack_p_it_w > ds.rack_p_it_ref_w, ds.t_junction_k > 343.15)
    assert "design point: winter (heating design)" in text and "design point: summer (cooling design)" in text
    assert (ds.t_chip_k < ds.attrs["t_tcs_supply_k"] + 30).all() and (ds.t_chip_k < 333.15).all()
    assert f"results written to {out}" in text


def test_default_case_netcdf(default_run):
    res, out = default_run
    assert out.exists() and not list(out.parent.glob("*.part"))
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    with xr.open_dataset(out) as ds:
        ds = ds.load()
    missing = [name for name in ds.data_vars if not ds[name].attrs.get("units")]
    assert not missing, f"data variables without units: {missing}"
    for name in ("v_v", "i_a", "p_loss_w", "p_dc_w", "p_grid_w", "stage_loss_w", "rack_p_in_w"):
        assert name in ds.data_vars
    assert ds.v_v.attrs["units"] == "V" and ds.i_a.attrs["units"] == "A" and ds.p_grid_w.attrs["units"] == "W"
    for key in ("p_grid_w", "p_it_w", "efficiency_grid_to_chip", "energy_balance_residual", "converged",
                "iterations", "max_mismatch_a", "case_hash", "gigawatt_version", "case_name"):
        assert key in ds.attrs, key
    # The file holds what the library computes: same case, same solution (NetCDF stores float64 exactly).
    ref = gw.solve(gw.load_case())
    np.testing.assert_array_equal(ds.v_v.values, ref.v_v.values)
    np.testing.assert_array_equal(ds.p_dc_w.values, ref.p_dc_w.values)
    assert ds.attrs["case_hash"] == ref.attrs["case_hash"]


def test_default_output_path_and_no_output(cli, tmp_path, monkeypatch):
    # Without -o the results go to '<case name>.nc' in the current folder; --no-output writes nothing.
    monkeypatch.chdir(tmp_path)
    res = cli("run", "--no-output")
    assert res.exit_code == 0, res.output
    assert list(tmp_path.iterdir()) == []
    res = cli("run")
    assert res.exit_code == 0, res.output
    name = gw.load_case().name + ".nc"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    with xr.open_dataset(tmp_path / name) as ds:
        assert ds.attrs["case_name"] == gw.load_case().name


def test_unwritable_output_is_one_error_line(cli, tmp_path):
    out = tmp_path / "no-such-folder" / "x.nc"
    res = cli("run", "-o", out)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(out) in lines[0], res.stderr
    assert "Traceback" not in res.output
    assert not (tmp_path / "no-such-folder").exists()


def test_beyond_the_nose_one_line(cli, kit, tmp_path):
    # One stiff 800 V source, one 10 mΩ line, a rack asking twice P_max = V0²/(4R) = 16 MW (the textbook
    # closed form of a constant-power load through a resistance). The message names the bus, the line and the maximum, printed to 6 significant
    # digits; the solver's bisection is good to nose_tolerance = 1e-6, so it prints 16 MW.
    path = kit.write_case(tmp_path, kit.one_line_doc(r_ohm=0.01, p_it_w=32e6))
    out = tmp_path / "o.nc"
    res = cli("run", path, "-o", out)
    assert res.exit_code != 0
    assert "Traceback" not in res.output and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    msg = lines[0]
    assert "'b'" in msg and "'l1'" in msg
    assert re.search(r"at most 16 MW", msg), msg
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_beyond_the_nose_campus_names_the_weak_feeder(cli, kit, tmp_path):
    # A campus row fed through a 10 mm² cable (the default is 1500 mm²) with 16 racks of 130 kW: the row's
    # 2.3 MW of shelf input is beyond that cable's nose (about 30 m, 0.12 Ω loop: 800²/(4·0.12) ≈ 1.3 MW).
    # The weakest bus is the row's far end, and the feeder to strengthen is that row feeder, not the
    # station busbar upstream of it.
    doc = {"case": {"name": "weak-row"},
           "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 16, "rack_it_power_kw": 130,
                      "feeder_cross_section_mm2": 10}}
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "o.nc"
    res = cli("run", path, "-o", out)
    assert res.exit_code != 0 and "Traceback" not in res.output
    msg = res.stderr.strip()
    assert "\n" not in msg and msg.startswith("error: ")
    assert "'H1-R1-T16'" in msg, msg
    assert "'H1-R1-feeder'" in msg, msg
    asked, most = (float(x) for x in re.search(r"ask ([\d.e+]+) MW, but it carries at most ([\d.e+]+) MW",
                                                msg).groups())
    assert 0 < most < asked
    assert not out.exists()
    # The library says the same, as data.
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(gw.load_case(path))
    det = info.value.details
    assert det["bus"] == "H1-R1-T16" and det["feeder"] == "H1-R1-feeder"
    assert det["max_power_w"] == pytest.approx(most * 1e6, rel=1e-5)


def test_the_script_in_its_own_process_ends_whole(default_run, tmp_path):
    # The gigawatt script ends its process at once after the run (no interpreter teardown) and runs it with the
    # cyclic collector paused, then frozen: the same summary to the byte and the same results, file and group,
    # as the command invoked in this process (which does neither), exit status 0, nothing on stderr.
    import subprocess
    import sys
    from pathlib import Path

    res, out = default_run
    script = Path(sys.executable).with_name("gigawatt")
    own = tmp_path / "own.nc"
    proc = subprocess.run([str(script), "run", "-o", str(own)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == res.stdout.replace(str(out), str(own))
    for group in (None, "summer_design"):
        with xr.open_dataset(out, group=group) as a, xr.open_dataset(own, group=group) as b:
            xr.testing.assert_identical(a.load(), b.load())
