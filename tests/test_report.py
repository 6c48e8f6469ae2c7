"""``gigawatt report``: figures and one HTML page from a results file.

Checked on solved campuses (with and without a district-heating network) and on synthetic year and sweep
datasets built here with xarray: the files exist and are PNG, the page embeds and names every figure and
says which were not drawn and why, the Sankey diagram's flows are the solver's ledger and its balance check
refuses a ledger that does not close, and bad input gives one error line. No pixel comparisons.
"""
from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.report import FIGURES, build_report
from gigawatt.report import figures as F
from gigawatt.report.sankey import BALANCE_RTOL, LedgerError, check_balance, energy_chain

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- builders ------------------------------------------------------------------------------------------

def small_campus(district_heating: bool):
    """1 hall, 2 rows of 4 racks of 130 kW with default [cooling]; with ``district_heating``, the small
    network of tests/test_district_heating.py ``campus_with_network``: plant S/R, a fixed 300 kW consumer A
    and a 2,000 m2 vertical farm B (at 45 degC) on a line."""
    # Lossless stations and no shelves (asked for: the Sankey's ledger is read off below), racks of 130 kW at
    # the chips.
    built = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130.0, cooling={},
                            station_loss_model="none", shelf_loss_model="none", rack_power_basis="chips")
    tables, settings = dict(built.tables), {}
    if district_heating:
        def pipe(pid, frm, to, length_m, diameter_m):
            return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=diameter_m,
                        u_w_per_m_k=0.5)
        tables.update(
            dh_node=[{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]],
            dh_pipe=[pipe("s1", "S", "A", 500.0, 0.1), pipe("s2", "A", "B", 300.0, 0.08),
                     pipe("r1", "Ar", "R", 500.0, 0.1), pipe("r2", "Br", "Ar", 300.0, 0.08)],
            dh_consumer=[dict(id="cA", supply_node="A", return_node="Ar", kind="fixed", demand_w=300e3),
                         dict(id="cB", supply_node="B", return_node="Br", kind="vertical_farm",
                              floor_area_m2=2000.0, t_supply_min_k=318.15)])
        settings["district_heating"] = {"supply_node": "S", "return_node": "R"}
    case = gw.make_case(tables, loss_models=dict(built.loss_model_params), cooling={}, **settings)
    return case, gw.solve(case)


@pytest.fixture(scope="module")
def campus():
    return small_campus(district_heating=False)


@pytest.fixture(scope="module")
def campus_dh():
    return small_campus(district_heating=True)


def year_dataset(year=2025):
    """A synthetic hourly year as the time-series runs write it (names in gigawatt.report.figures): campus
    heat offered flat at 100 MW, network demand a cosine peaking in January between 20 and 120 MW, delivered
    = demand, recovered = min(offer, demand)."""
    time = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")
    day = np.arange(time.size) / 24.0
    demand = 70e6 + 50e6 * np.cos(2 * np.pi * day / 365.0)
    offer = np.full(time.size, 100e6)
    return xr.Dataset({"q_available_w": ("time", offer), "dh_q_demand_w": ("time", demand),
                       "dh_q_delivered_w": ("time", demand), "q_recovered_w": ("time", np.minimum(offer, demand))},
                      coords={"time": time}, attrs={"gigawatt_version": gw.__version__, "case_name": "year"})


def sweep_dataset():
    """A synthetic 2 x 3 sweep (scenario dimension, the swept fields as coordinates along it)."""
    power = np.repeat([100.0, 130.0], 3)
    t_sup = np.tile([305.15, 310.15, 315.15], 2)
    eff = 0.85 + 1e-4 * power - 1e-3 * (t_sup - 305.15)
    return xr.Dataset({"efficiency_grid_to_chip": ("scenario", eff),
                       "pue": ("scenario", 1.1 + 0.001 * (t_sup - 300)),
                       "erf": ("scenario", 0.5 - 0.01 * (t_sup - 305.15)),
                       "p_grid_w": ("scenario", power * 768e3 / eff)},
                      coords={"scenario": np.arange(6), "campus.rack_it_power_kw": ("scenario", power),
                              "cooling.facility_supply_t_k": ("scenario", t_sup)},
                      attrs={"gigawatt_version": gw.__version__, "case_name": "sweep"})


def assert_report(report, expected: set[str]):
    """Exactly ``expected`` figures written as PNG files; the page embeds each (a PNG inside), links its
    file, and names every other figure under 'Not drawn' with its reason."""
    assert set(report.figures) == expected
    assert set(report.skipped) == set(FIGURES) - expected
    page = report.html.read_text(encoding="utf-8")
    for name, path in report.figures.items():
        assert path.read_bytes().startswith(PNG_MAGIC), name
        assert path.parent == report.html.parent and path.name == FIGURES[name][0]
        block = re.search(rf'<figure id="{name}"><img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*'
                          rf'data-file="{path.name}"', page)
        assert block, name
        assert base64.b64decode(block.group(1)).startswith(PNG_MAGIC)
        assert f'href="{path.name}"' in page
    for name, why in report.skipped.items():
        assert f"{FIGURES[name][1]}: " in page and why
    return page


# --- solved campuses -----------------------------------------------------------------------------------

def test_report_of_a_cooled_campus(campus, tmp_path):
    _, ds = campus
    report = build_report(ds, tmp_path / "out")
    page = assert_report(report, {"sankey", "voltage", "temperatures"})
    assert "no dh_consumer_t_supply_k in the results" in page
    assert "no time dimension" in page and "no scenario dimension" in page
    assert "drawn from the grid" in page and "PUE" in page


def test_report_of_a_campus_with_district_heating(campus_dh, tmp_path):
    _, ds = campus_dh
    report = build_report(ds, tmp_path)
    page = assert_report(report, {"sankey", "voltage", "temperatures", "dh_supply", "dh_by_kind"})
    assert "district heat delivered" in page and "energy reuse factor" in page


def test_report_from_the_command_line(campus_dh, tmp_path, cli):
    _, ds = campus_dh
    path = tmp_path / "campus.nc"
    ds.to_netcdf(path)
    out = tmp_path / "figs"
    res = cli("report", path, "-o", out)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"report written to {out / 'report.html'} (5 figures")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.html"] + [FIGURES[n][0] for n in ("sankey", "voltage", "temperatures", "dh_supply", "dh_by_kind")])


# --- the Sankey diagram's ledger -----------------------------------------------------------------------

def flows_of(chain):
    return {(f.source, f.target): f.value_w for f in chain.flows}


def test_sankey_flows_are_the_ledger(campus_dh):
    """Grid power in, IT power and each stage's loss out of the electrical chain; the heat to liquid and air,
    the recovered and rejected heat and the consumers' heat by kind are the solver's own figures."""
    _, ds = campus_dh
    a = ds.attrs
    chain = energy_chain(ds)
    check_balance(chain)
    fl = flows_of(chain)
    stages = {str(s): float(v) for s, v in zip(ds.stage.values, ds.stage_loss_w.values)}
    assert fl[("grid", "distribution")] == a["p_grid_w"]  # the campus's stations and shelves are lossless
    assert fl[("distribution", "distribution loss")] == stages["distribution"]
    assert fl[("VRMs", "VRMs loss")] == stages["rack_vrm"]
    assert fl[("VRMs", "IT (chips)")] == a["p_it_w"]
    assert fl[("heat", "to liquid")] == a["q_liquid_w"] and fl[("heat", "to air")] == a["q_air_w"]
    assert fl[("cooling plant", "recovered")] == a["q_recovered_w"]
    assert fl[("cooling plant", "rejected (dry coolers)")] == a["q_rejected_w"]
    assert fl[("district-heating plant", "fixed demands")] == float(ds.dh_consumer_q_w.sel(dh_consumer="cA"))
    assert fl[("district-heating plant", "vertical farms")] == float(ds.dh_consumer_q_w.sel(dh_consumer="cB"))
    assert fl[("district-heating plant", "network heat loss")] == a["dh_q_loss_w"]
    assert fl[("heat-pump electricity", "district-heating plant")] == a["hp_electric_w"] > 0


@pytest.mark.parametrize("name, node", [
    ("p_grid_w", "VRMs"),                 # the electrical ledger
    ("q_air_w", "heat"),                  # heat to air vs the electricity that became heat
    ("boiler_heat_w", "district-heating plant"),
    ("p_facility_w", None),               # stated totals against the sums of their flows
    ("q_available_w", None),
    ("dh_q_delivered_w", None),
])
def test_sankey_refuses_an_unbalanced_ledger(campus_dh, name, node, tmp_path):
    """One ledger figure off by 1e-6 relative (1000 x the tolerance) is refused, naming the node; off by
    1e-12 (round-off) it passes."""
    _, ds = campus_dh
    bad = ds.copy()
    bad.attrs = dict(ds.attrs)
    base = bad.attrs[name] if bad.attrs[name] else 1e3  # the boiler does not fire here: 1 kW of it
    bad.attrs[name] = base * (1 + 1e-6) if ds.attrs[name] else base
    with pytest.raises(LedgerError, match=f"does not balance at '{node}'" if node else "does not balance: "):
        check_balance(energy_chain(bad))
    with pytest.raises(LedgerError):
        build_report(bad, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # nothing written
    if ds.attrs[name]:
        bad.attrs[name] = ds.attrs[name] * (1 + 1e-12)
        check_balance(energy_chain(bad))
    assert 1e-12 < BALANCE_RTOL < 1e-6


def test_sankey_refuses_recovered_and_rejected_heat_beyond_the_plant(campus):
    """Rejected heat raised so that recovered + rejected exceed what the cooling plant takes in: the closing
    flow (motors, fans, pipes) would be negative."""
    _, ds = campus
    bad = ds.copy()
    extra = 2 * (ds.attrs["p_pumps_w"] + ds.attrs["p_fans_w"])
    bad.attrs = dict(ds.attrs, q_rejected_w=ds.attrs["q_rejected_w"] + extra)
    with pytest.raises(LedgerError, match="negative"):
        check_balance(energy_chain(bad))
    # ... and rejected heat (with the heat available) lowered so that the closing flow exceeds all the pump and
    # fan power and pipe losses
    cut = 2 * (ds.attrs["p_pumps_w"] + ds.attrs["p_fans_w"] + float(ds.loop_pipe_loss_w.sum()))
    bad.attrs = dict(ds.attrs, q_rejected_w=ds.attrs["q_rejected_w"] - cut,
                     q_available_w=ds.attrs["q_available_w"] - cut)
    with pytest.raises(LedgerError, match="'motors, fans, pipes' is .* outside"):
        check_balance(energy_chain(bad))


def test_incomplete_ledger_skips_the_sankey(campus, tmp_path):
    _, ds = campus
    cut = ds.drop_vars("p_pumps_w")  # the figure is a 0-d variable and an attribute: both gone
    cut.attrs = {k: v for k, v in ds.attrs.items() if k != "p_pumps_w"}
    report = build_report(cut, tmp_path)
    assert report.skipped["sankey"] == "the cooling ledger in the results is incomplete ('p_pumps_w' missing)"


def test_unbalanced_results_file_on_the_command_line(campus, tmp_path, cli, kit):
    _, ds = campus
    bad = ds.copy()
    bad.attrs = dict(ds.attrs, p_grid_w=ds.attrs["p_grid_w"] * 1.01)
    path = tmp_path / "bad.nc"
    bad.to_netcdf(path)
    out = tmp_path / "out"
    line = kit.cli_error_line(cli("report", path, "-o", out), out)
    assert "energy chain does not balance at 'VRMs'" in line


# --- voltage profiles ----------------------------------------------------------------------------------

def test_feeder_paths_follow_the_line_lengths(campus):
    """Each feeder path starts at a station, ends at a row's last tap, and its distance grows by the length
    of the line joining consecutive buses; every bus is reached."""
    case, ds = campus
    dist, paths, n_ends, unreached = F.feeder_paths(ds)
    assert unreached == 0 and n_ends == len(paths) == 2
    assert ds.v_pu.values[paths[0][-1]] == ds.v_pu.values.min()  # the lowest first
    _, one, n_ends, _ = F.feeder_paths(ds, max_paths=1)
    assert n_ends == 2 and len(one) == 1 and np.array_equal(one[0], paths[0])
    lines = case.tables["line"]
    length = {frozenset(p): L for p, L in zip(zip(lines.from_bus, lines.to_bus), lines.length_m)}
    bus = ds.bus.values
    stations = set(case.tables["source"]["bus"])
    ends = {bus[p[-1]] for p in paths}
    assert ends == {"H1-R1-T4", "H1-R2-T4"}
    for p in paths:
        assert bus[p[0]] in stations and dist[p[0]] == 0.0
        for i, j in zip(p[:-1], p[1:]):
            assert dist[j] - dist[i] == pytest.approx(length[frozenset((bus[i], bus[j]))], rel=1e-12)


# --- years and sweeps ----------------------------------------------------------------------------------

def test_report_of_a_year(tmp_path):
    ds = year_dataset()
    path = tmp_path / "year.nc"
    ds.to_netcdf(path)
    report = build_report(path, tmp_path / "rep")
    page = assert_report(report, {"heat_duration", "monthly_heat"})
    assert "no energy ledger in the results" in page
    assert "over 8,760 h" in page  # energies over the year in the KPI table


def test_monthly_energy_and_duration_curve():
    """A flat 100 MW offer: 100 MW x 744 h in January, x 672 h in February 2025; the duration curve of the
    demand runs over the 8760 h of the year, never rising, from its peak of 120 MW (1 January)."""
    ds = year_dataset()
    months, wh = F.monthly_energy_wh(ds, "q_available_w")
    assert months.size == 12
    assert wh[0] == pytest.approx(100e6 * 744, rel=1e-15) and wh[1] == pytest.approx(100e6 * 672, rel=1e-15)
    assert wh.sum() == pytest.approx(100e6 * 8760, rel=1e-14)
    x, y = F.duration_curve(ds.dh_q_demand_w.values, F._step_hours(ds))
    assert x[-1] == 8760.0 and np.all(np.diff(y) <= 0) and y[0] == pytest.approx(120e6, rel=1e-12)


def test_report_of_a_sweep(tmp_path):
    ds = sweep_dataset()
    assert F.swept_parameters(ds) == ["campus.rack_it_power_kw", "cooling.facility_supply_t_k"]
    report = build_report(ds, tmp_path)
    page = assert_report(report, {"sweep_kpis"})
    assert "a sweep: this figure is drawn from the results of one scenario" in page
    assert "<td>scenarios</td><td>6</td>" in page


def test_sweep_kpis_over_a_year_are_ratios_of_energies():
    """PUE of a scenario-year: total facility energy over the IT equipment's (at the rack inputs), not the mean
    of the hourly PUEs."""
    p_it = np.array([[1.0, 3.0], [2.0, 2.0]])
    p_fac = np.array([[2.0, 3.0], [3.0, 2.0]])
    st = ("scenario", "time")
    ds = xr.Dataset({"pue": (st, p_fac / p_it), "p_rack_input_w": (st, p_it), "p_shelf_output_w": (st, p_it),
                     "p_it_w": (st, 0.9 * p_it), "p_total_facility_w": (st, p_fac), "p_cooling_w": (st, 0.1 * p_fac)},
                    coords={"scenario": [0, 1]})
    np.testing.assert_allclose(F.sweep_kpi(ds, "pue"), [5.0 / 4.0, 5.0 / 4.0], rtol=1e-15)


# --- bad input -----------------------------------------------------------------------------------------

def not_netcdf(tmp_path):
    path = tmp_path / "results.nc"
    path.write_text("this is not a NetCDF file\n")
    return path


def foreign_netcdf(tmp_path):
    path = tmp_path / "results.nc"
    xr.Dataset({"x": ("i", [1.0, 2.0])}).to_netcdf(path)
    return path


@pytest.mark.parametrize("build, message", [
    (lambda tmp: tmp / "missing.nc", "missing.nc: no such results file"),
    (not_netcdf, "results.nc: not a NetCDF results file"),
    (foreign_netcdf, "results.nc: not a gigawatt results file (no 'gigawatt_version' attribute)"),
])
def test_bad_results_file(build, message, tmp_path, cli, kit):
    out = tmp_path / "out"
    line = kit.cli_error_line(cli("report", build(tmp_path), "-o", out), out)
    assert message in line


def test_output_folder_that_is_a_file(tmp_path, cli, kit):
    path = tmp_path / "year.nc"
    year_dataset().to_netcdf(path)
    taken = tmp_path / "taken"
    taken.write_text("")
    res = cli("report", path, "-o", taken)
    assert res.exit_code == 2 and res.stdout == "" and "Traceback" not in res.output
    assert res.stderr.startswith(f"error: {taken}, -o: is a file, not a folder for the report")
    assert len(res.stderr.splitlines()) == 1 and taken.read_text() == ""  # refused before drawing


def test_heat_by_consumer_without_kinds(campus_dh, tmp_path):
    """Results written before consumer kinds were echoed: the heat is drawn per consumer (few) or sorted by
    demand (many); the figure is still there."""
    _, ds = campus_dh
    old = ds.drop_vars("dh_consumer_kind")
    assert "dh_by_kind" in build_report(old, tmp_path / "few").figures
    many = xr.Dataset({"dh_consumer_q_w": ("dh_consumer", np.linspace(1e3, 5e3, 100)),
                       "dh_consumer_demand_w": ("dh_consumer", np.linspace(1e3, 5e3, 100))},
                      attrs={"gigawatt_version": gw.__version__})
    assert F.dh_heat_by_kind(many) is not None


LEDGER = ("p_grid_w", "p_it_w", "q_liquid_w", "q_air_w", "p_pumps_w", "p_fans_w", "p_facility_w", "q_available_w",
          "q_recovered_w", "q_rejected_w", "hp_electric_w", "boiler_heat_w", "dh_q_loss_w", "dh_q_delivered_w",
          "dh_q_demand_w")


def test_sankey_of_a_time_series_draws_the_means(campus_dh, tmp_path):
    """Ledger figures as series along time (the solved campus scaled by 0.5, 1 and 1.5 hour by hour; a
    scaled ledger still closes): the chain shows their means, here the solved values."""
    _, ds = campus_dh
    f = xr.DataArray([0.5, 1.0, 1.5], dims="time")
    time = pd.date_range("2025-01-01", periods=3, freq="h")
    series = xr.Dataset({k: f * ds.attrs[k] for k in LEDGER}, coords={"time": time})
    for name in ("stage_loss_w", "dh_consumer_q_w", "dh_consumer_demand_w", "loop_pipe_loss_w"):
        series[name] = f * ds[name]
    series["dh_consumer_kind"] = ds.dh_consumer_kind
    series.attrs = {"gigawatt_version": gw.__version__, "case_name": "hours"}
    chain = energy_chain(series)
    check_balance(chain)
    fl = flows_of(chain)
    assert fl[("grid", "distribution")] == pytest.approx(ds.attrs["p_grid_w"], rel=1e-15)
    assert fl[("cooling plant", "recovered")] == pytest.approx(ds.attrs["q_recovered_w"], rel=1e-15)
    assert "mean" in chain.note
    report = build_report(series, tmp_path)
    assert {"sankey", "dh_by_kind", "heat_duration", "monthly_heat"} <= set(report.figures)
    page = report.html.read_text(encoding="utf-8")
    # 3 hourly steps: grid energy = (0.5 + 1 + 1.5) h x the solved grid power
    assert f"{3 * ds.attrs['p_grid_w'] / 1e6:.3g} MWh over 3 h" in page
    # the PUE of the period is the ratio of its energies: here the solved PUE, as every step is scaled alike
    assert f"<td>PUE (ISO/IEC 30134-2) over the period</td><td>{ds.attrs['pue']:.3f}</td>" in page


def test_time_series_figures_pick_the_extreme_step(campus):
    """Per-element variables along time: the voltage figure shows the step of the lowest voltage."""
    _, ds = campus
    time = pd.date_range("2025-06-01", periods=2, freq="h")
    two = ds.assign(v_pu=xr.concat([ds.v_pu, ds.v_pu - 0.01], dim=pd.Index(time, name="time")))
    at, when = F._at_extreme(two, "v_pu", np.nanargmin)
    np.testing.assert_array_equal(at.v_pu.values, ds.v_pu.values - 0.01)
    assert when == " at 2025-06-01T01:00"
    assert F.voltage_profiles(two) is not None


# --- what the figures show (issue 16) --------------------------------------------------------------------

def test_a_figure_is_read_as_attribute_or_as_a_0d_variable(campus):
    """KPIs may be global attributes or 0-d variables (with units): the report reads both alike, and never
    takes a per-element variable of the same name for the total."""
    from gigawatt.report.values import has_scalar, scalar

    _, ds = campus
    moved = ds.copy()
    moved.attrs = {k: v for k, v in ds.attrs.items() if k != "pue"}
    moved["pue"] = xr.DataArray(ds.attrs["pue"], attrs={"units": "1"})
    assert scalar(moved, "pue") == ds.attrs["pue"] and has_scalar(moved, "pue")
    assert not has_scalar(ds, "t_chip_k") and scalar(ds, "t_chip_k", None) is None  # along rack: not a figure
    assert kpi_rows_of(moved) == kpi_rows_of(ds)


def kpi_rows_of(ds):
    from gigawatt.report import kpi_rows

    return kpi_rows(ds)


def test_ac_grid_side_in_the_sankey_and_the_table(campus):
    """A case with an AC grid: plants → AC grid → its losses by kind and the stations' intake (the DC side's
    grid power). The figures here are the solved campus's, with an AC side whose losses sum to p_ac_loss_w."""
    _, ds = campus
    ac = ds.copy()
    losses = {"ac_line_overhead_loss_w": 50e3, "ac_line_cable_loss_w": 7e3, "ac_trafo_loss_w": 260e3}
    p_grid = ds.attrs["p_grid_w"]
    ac.attrs.update(losses, p_ac_loss_w=sum(losses.values()), p_plant_w=p_grid + sum(losses.values()),
                    p_ac_intake_w=p_grid)
    chain = energy_chain(ac)
    check_balance(chain)
    fl = flows_of(chain)
    assert fl[("power plants", "AC grid")] == ac.attrs["p_plant_w"]
    assert fl[("AC grid", "grid")] == p_grid and fl[("AC grid", "AC transformers loss")] == 260e3
    assert list(chain.columns)[:3] == ["power plants", "AC grid", "grid"]
    ac.attrs["p_ac_loss_w"] += 1.0  # the kinds no longer add up: refused
    with pytest.raises(LedgerError, match="AC grid loss"):
        check_balance(energy_chain(ac))
    ac.attrs["p_ac_loss_w"] -= 1.0
    labels = dict(kpi_rows_of(ac))
    assert labels["AC grid losses (lines and transformers)"] == "317 kW"


def test_district_heating_of_a_series_without_consumers_is_in_the_sankey(campus_dh):
    """A year keeps the network's heat as totals along time (no per-consumer heat): the plant's heat still
    goes to the consumers (dh_q_delivered_w) and the network loss, and the chain balances."""
    _, ds = campus_dh
    f = xr.DataArray([0.5, 1.0, 1.5], dims="time")
    series = xr.Dataset({k: f * ds.attrs[k] for k in LEDGER}, coords={"time": pd.date_range(
        "2025-01-01", periods=3, freq="h")})
    series["stage_loss_w"] = f * ds["stage_loss_w"]
    series["dh_pipe_stored_change_j"] = xr.DataArray([0.0, 0.0, 0.0], dims="time")
    chain = energy_chain(series)
    check_balance(chain)
    fl = flows_of(chain)
    assert fl[("district-heating plant", "consumers")] == pytest.approx(ds.attrs["dh_q_delivered_w"], rel=1e-15)
    assert fl[("district-heating plant", "network heat loss")] == pytest.approx(ds.attrs["dh_q_loss_w"], rel=1e-15)


def test_sankey_labels_do_not_overlap(campus_dh):
    """At the figure's size (the page shows it unscaled), no two visible labels' boxes meet."""
    from gigawatt.report import FIGURES

    _, ds = campus_dh
    fig = FIGURES["sankey"][2](ds)
    assert fig.get_size_inches()[0] * 110 <= 1168  # the page's content width at 1280 px
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible()]
    assert len(boxes) > 20
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_histogram_bins_follow_the_spread():
    """768 racks within 0.15 K: numpy's 'auto' rule (max of Freedman–Diaconis and Sturges) gives bins of a
    few hundredths of a kelvin; Sturges alone would give log2(768) + 1 = 10.6 -> 11 bins, so there are at least
    that many, and all equal values make one bin."""
    rng = np.random.default_rng(1)
    t = 54.0 + 0.15 * rng.random(768)
    edges = F.histogram_edges(t)
    assert edges.size - 1 >= 11 and edges[0] == t.min() and edges[-1] == t.max()
    assert F.histogram_edges(np.full(5, 40.0)).size == 2


def test_identical_feeders_draw_as_one_line_with_their_count(campus):
    """The campus's 2 rows are identical: their feeder profiles are one, counted twice."""
    _, ds = campus
    dist, paths, n_ends, _ = F.feeder_paths(ds)
    groups = F.distinct_profiles(dist, ds.v_pu.values, paths)
    assert sum(n for _, n in groups) == n_ends == len(paths)
    assert len(groups) < n_ends
    fig = F.voltage_profiles(ds)
    assert any(f"{n} feeders" in t.get_text() for t in fig.axes[0].get_legend().get_texts() for _, n in groups)


def test_pole_and_neutral_views_of_bipolar_results(campus):
    """Bipolar results (±400 V, a neutral): each pole's voltage to the neutral in per unit of v_nominal_v and the
    neutral's voltage, along the feeders (synthetic: the campus's voltages split about a neutral at -0.1 V)."""
    _, ds = campus
    bi = ds.assign(v_neutral_v=("bus", np.full(ds.sizes["bus"], -0.1)), v_pos_v=ds.v_v / 2,
                   v_neg_v=-ds.v_v / 2 - 0.2, v_nominal_v=ds.v_nominal_v / 2)
    fig = F.pole_voltages(bi)
    assert [a.get_title() for a in fig.axes] == ["+ pole", "− pole", "neutral"]
    pu = ((bi.v_pos_v - bi.v_neutral_v) / bi.v_nominal_v).values
    drawn = np.concatenate([line.get_ydata() for line in fig.axes[0].lines])
    assert np.isin(drawn, pu).all() and drawn.min() == pu.min()
    neutral = np.concatenate([line.get_ydata() for line in fig.axes[2].lines])
    assert (neutral == -0.1).all()
    with pytest.raises(F.Skip):
        F.pole_voltages(ds)


def test_sweep_axis_in_the_units_the_user_typed():
    """Rack power swept as campus.rack_it_power_kw (stored in W): the axis shows 100, 130 kW; a coordinate
    without the typed spelling gets a prefix by magnitude."""
    from gigawatt.report.values import typed_axis

    ds = sweep_dataset()
    ds["campus.rack_it_power_kw"].attrs.update(units="W", given_as="campus.rack_it_power_kw")
    ds = ds.assign_coords({"campus.rack_it_power_kw": ds["campus.rack_it_power_kw"] * 1e3})
    ds["campus.rack_it_power_kw"].attrs.update(units="W", given_as="campus.rack_it_power_kw")
    x, name, unit = typed_axis(ds["campus.rack_it_power_kw"])
    np.testing.assert_allclose(x, np.repeat([100.0, 130.0], 3), rtol=1e-15)
    assert (name, unit) == ("campus.rack_it_power_kw", "kW")
    t = xr.DataArray([338.15], dims="scenario", attrs={"units": "K", "given_as": "district_heating.t_supply_c"})
    np.testing.assert_allclose(typed_axis(t)[0], [65.0], rtol=1e-12)
    assert typed_axis(t)[2] == "°C"
    w = xr.DataArray([2.5e6], dims="scenario", name="p", attrs={"units": "W"})
    assert typed_axis(w)[1:] == ("p", "MW") and typed_axis(w)[0][0] == 2.5
    fig = F.sweep_kpis(ds)
    assert fig.axes[0].get_xlabel() == "campus.rack_it_power_kw [kW]"


def comparison_dataset():
    """Two architectures as ``gigawatt compare`` writes them (no gigawatt_version attribute yet)."""
    loss = np.array([[40e3, 160e3, 19e3], [88e3, 0.0, 10e3]])
    return xr.Dataset({"stage_loss_w": (("architecture", "stage"), loss),
                       "p_grid_w": ("architecture", 3.8e6 + loss.sum(1)),
                       "efficiency_grid_to_chip": ("architecture", 3.8e6 / (3.8e6 + loss.sum(1)))},
                      coords={"architecture": ["ac", "dc800"], "stage": ["station", "ups", "distribution"]},
                      attrs={"title": "gigawatt architecture comparison of case 'x'", "case_name": "x"})


def test_report_of_a_comparison_from_the_command_line(tmp_path, cli):
    path = tmp_path / "compare.nc"
    comparison_dataset().to_netcdf(path)
    res = cli("report", path, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "compare.png").read_bytes().startswith(PNG_MAGIC)
    assert "<td>drawn from the grid</td><td>ac 4.02 MW · dc800 3.9 MW</td>" in page
    assert '<meta name="viewport"' in page
