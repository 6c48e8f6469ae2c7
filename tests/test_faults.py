"""The fault study end to end: ``gw.fault_currents`` and ``gigawatt faults`` (dataset, table, NetCDF), bad input
(a source without the data its contribution needs: CaseError naming element and field, exit 2, no file), a
breaker below its duty and a non-selective pair as findings, the report's figure; and the conductor ratings
of the load flow: ratings by method, loading and its warnings, conductor temperature from the load."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError


def small_tables(*, devices: bool = True) -> dict:
    """A station with its DC link → switchboard (with a battery) → feeder cable → two busway taps with racks'
    shelf capacitors; breakers on the link and the feeder, a fuse on the last segment."""
    t = {
        "bus": [{"id": b, "v_nominal_v": 800.0} for b in ("st", "swb", "head", "t1", "t2")],
        "line": [
            {"id": "link", "from_bus": "st", "to_bus": "swb", "kind": "busbar", "length_m": 10,
             "cross_section_mm2": 8000},
            {"id": "feeder", "from_bus": "swb", "to_bus": "head", "kind": "cable", "length_m": 30,
             "cross_section_mm2": 1500},
            {"id": "s1", "from_bus": "head", "to_bus": "t1", "kind": "busway", "length_m": 0.6,
             "cross_section_mm2": 1000},
            {"id": "s2", "from_bus": "t1", "to_bus": "t2", "kind": "busway", "length_m": 0.6,
             "cross_section_mm2": 1000}],
        "source": [{"id": "sst", "bus": "st", "v_set_v": 800.0, "droop": 0.02, "rated_power_w": 5e6,
                    "dc_link_capacitance_f": 0.02, "dc_link_esr_ohm": 2e-3}],
        "rack": [{"id": f"r{i}", "bus": f"t{i}", "p_it_w": 130e3, "shelf_capacitance_f": 2e-3,
                  "shelf_esr_ohm": 20e-3} for i in (1, 2)],
        "battery": [{"id": "bbu", "bus": "swb", "emf_v": 810.0, "r_internal_ohm": 0.05, "l_internal_h": 1e-6}],
    }
    if devices:
        t["protection"] = [
            {"id": "cb-link", "kind": "breaker", "line": "link", "line_end": "from", "rated_current_a": 8000,
             "breaking_capacity_a": 500e3, "curve": "cb"},
            {"id": "cb-feeder", "kind": "breaker", "line": "feeder", "line_end": "from", "rated_current_a": 3200,
             "breaking_capacity_a": 50e3, "curve": "cb2"},
            {"id": "fuse-tap", "kind": "fuse", "line": "s2", "line_end": "from", "rated_current_a": 250,
             "breaking_capacity_a": 100e3, "curve": "fuse"}]
        t["protection_curve"] = [
            {"id": "a1", "curve": "cb", "current_a": 10e3, "time_s": 10},
            {"id": "a2", "curve": "cb", "current_a": 40e3, "time_s": 0.05},
            {"id": "b1", "curve": "cb2", "current_a": 4e3, "time_s": 20},
            {"id": "b2", "curve": "cb2", "current_a": 20e3, "time_s": 0.02},
            {"id": "f1", "curve": "fuse", "current_a": 500, "time_s": 100},
            {"id": "f2", "curve": "fuse", "current_a": 5000, "time_s": 0.01}]
    return t


@pytest.fixture(scope="module")
def small():
    return gw.fault_currents(gw.make_case(small_tables(), case={"name": "small-faults"}))


def test_dataset_shape_units_and_contributions(small):
    assert {k: small.sizes[k] for k in ("bus", "fault_type", "contribution", "protection")} == \
        {"bus": 5, "fault_type": 1, "contribution": 4, "protection": 3}
    assert list(small.fault_type.values) == ["pole_to_pole"]
    for name, var in small.data_vars.items():
        assert "units" in var.attrs and "long_name" in var.attrs, name
    assert small.attrs["gigawatt_version"] and small.attrs["case_hash"]
    # every bus reaches the station, the DC link, the shelves and the battery
    ip = small.contribution_i_p_a.sel(fault_type="pole_to_pole")
    assert (ip.sel(contribution="converter") > 0).all() and (ip.sel(contribution="battery") > 0).all()
    # the capacitors at the faulted bus: the DC link at the station, the shelves at the taps, none elsewhere
    local = ip.sel(contribution="local_capacitor")
    assert float(local.sel(bus="st")) == pytest.approx(800 / 2e-3)  # E/ESR of the DC link
    assert float(local.sel(bus="t1")) == pytest.approx(800 / 20e-3) and float(local.sel(bus="swb")) == 0.0
    # I_k: the station at its limit (2 pu of 6250 A) and the battery; capacitors give none
    ik = small.i_k_a.sel(fault_type="pole_to_pole")
    assert float(ik.sel(bus="swb")) == pytest.approx(12500 + 810 / 0.05)
    # the total is at least its largest contribution's peak
    assert (small.i_p_a >= small.contribution_i_p_a.max("contribution") * (1 - 1e-12)).all()


def test_breaker_below_its_duty_is_a_finding_not_an_error(small):
    d = small.sel(protection="cb-feeder")
    assert int(d.breaking_ok) == 0 and float(d.duty_i_a) > 50e3 and float(d.duty_ratio) > 1
    assert str(d.duty_direction.item()) == "forward"
    assert "breaker 'cb-feeder' on line 'feeder' (from end) must interrupt" in small.attrs["findings"]
    assert int(small.sel(protection="cb-link").breaking_ok) == 1
    # the forward fault past the feeder breaker is the switchboard's fault without the feeder: fed by the
    # station, its DC link and the battery, not by the shelves beyond it
    assert float(d.forward_i_p_a) > float(d.reverse_i_p_a) > 0


def test_upstream_devices_and_selectivity(small):
    assert small.upstream.sel(protection="fuse-tap").item() == "cb-feeder"
    assert small.upstream.sel(protection="cb-feeder").item() == "cb-link"
    assert small.upstream.sel(protection="cb-link").item() == ""
    assert float(small.selective.sel(protection="fuse-tap")) == 1.0
    assert math.isnan(float(small.selective.sel(protection="cb-link")))
    # an upstream breaker faster than the fuse below it at high currents: not selective, and where from
    t = small_tables()
    t["protection_curve"][3]["time_s"] = 0.002  # cb2 at 20 kA and above: 2 ms, faster than the fuse's 10 ms
    ds = gw.fault_currents(gw.make_case(t))
    assert float(ds.selective.sel(protection="fuse-tap")) == 0.0
    crossing = float(ds.selectivity_crossing_a.sel(protection="fuse-tap"))
    assert 5e3 < crossing < 20e3
    assert "'fuse-tap'" in ds.attrs["findings"] and "not selective" in ds.attrs["findings"]


def test_buses_subset_and_unknown_bus(small):
    case = gw.make_case(small_tables())
    ds = gw.fault_currents(case, buses=["t2", "swb"])
    assert list(ds.bus.values) == ["swb", "t2"]  # bus-table order
    xr.testing.assert_allclose(ds.i_p_a, small.i_p_a.sel(bus=["swb", "t2"]))
    with pytest.raises(CaseError, match="bus 'nowhere'"):
        gw.fault_currents(case, buses=["nowhere"])


def test_bipolar_fault_types_and_bus_duty():
    ds = gw.fault_currents(gw.make_case(small_tables(), dc={"system": "bipolar"}))
    assert list(ds.fault_type.values) == ["pole_to_pole", "pole_to_neutral", "pole_to_earth"]
    # racks across both poles: their shelves discharge pole to pole at twice the pole voltage
    local = ds.contribution_i_p_a.sel(bus="t1", fault_type="pole_to_pole", contribution="local_capacitor")
    assert float(local) == pytest.approx(2 * 800 / 20e-3)
    # at the station the neutral is earthed: pole to earth there is pole to neutral
    st = ds.sel(bus="st")
    to_earth, to_neutral = (float(st.i_p_a.sel(fault_type=t)) for t in ("pole_to_earth", "pole_to_neutral"))
    assert to_earth == pytest.approx(to_neutral)
    assert set(ds.duty_direction.values) == {"bus"}  # bipolar devices: the fault at their bus


def test_the_bundled_case(kit):
    ds = gw.fault_currents(gw.load_case())
    assert ds.sizes["bus"] == len(gw.load_case().tables["bus"])
    # no capacitors or batteries given: the stations alone, each hall at its two stations' limits
    assert (ds.contribution_i_p_a.sel(contribution=["capacitor", "local_capacitor", "battery"]) == 0).all()
    case = gw.load_case()
    src = case.tables["source"]
    limit = 2.0 * src["rated_power_w"].to_numpy()[:2].sum() / 800.0
    assert float(ds.i_k_a.max()) == pytest.approx(limit)


# --- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("edit, element, field", [
    (lambda t: t["battery"][0].pop("r_internal_ohm"), "battery 'bbu'", "r_internal_ohm"),
    (lambda t: t["battery"][0].pop("emf_v"), "battery 'bbu'", "emf_v"),
    (lambda t: t["rack"][1].pop("shelf_esr_ohm"), "rack 'r2'", "shelf_esr_ohm"),
    (lambda t: t["source"][0].pop("dc_link_esr_ohm"), "source 'sst'", "dc_link_esr_ohm"),
    (lambda t: t["source"][0].update(kind="transformer"), "source 'sst'", "kind"),
])
def test_a_source_without_its_data_names_element_and_field(edit, element, field):
    t = small_tables()
    edit(t)
    with pytest.raises(CaseError) as info:
        gw.fault_currents(gw.make_case(t))
    assert info.value.element == element and info.value.field == field
    assert element in str(info.value) and field in str(info.value)


def test_protection_table_checks():
    t = small_tables()
    t["protection"][0]["bus"] = "st"  # both a line and a bus
    with pytest.raises(CaseError, match="protection 'cb-link'"):
        gw.make_case(t)
    t = small_tables()
    t["protection"][1]["curve"] = "nope"
    with pytest.raises(CaseError, match="curve"):
        gw.make_case(t)
    t = small_tables()
    t["protection_curve"][1]["time_s"] = 20.0  # time rising with current
    with pytest.raises(CaseError, match="curve 'cb'"):
        gw.make_case(t)


# --- the command line and the report ------------------------------------------------------------------------

def _doc():
    t = small_tables()
    return {"case": {"name": "small-faults"}, **t}


def test_cli_faults_table_and_netcdf(kit, cli, tmp_path):
    path = kit.write_case(tmp_path, _doc())
    out = tmp_path / "f.nc"
    res = cli("faults", path, "--buses", "swb,t2", "-o", out)
    assert res.exit_code == 0, res.output
    assert "DC fault currents at 2 buses" in res.stdout and "pole_to_pole" in res.stdout
    assert "cb-feeder" in res.stdout and "must interrupt" in res.stdout  # the finding
    with xr.open_dataset(out) as ds:
        assert {"bus", "fault_type", "protection"} <= set(ds.sizes) and ds.sizes["bus"] == 2
        assert ds.i_p_a.attrs["units"] == "A"


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["battery"][0].pop("r_internal_ohm"), ("battery 'bbu'", "r_internal_ohm")),
    (lambda d: d["rack"][0].pop("shelf_esr_ohm"), ("rack 'r1'", "shelf_esr_ohm")),
])
def test_cli_bad_input_exit_2_no_file(kit, cli, tmp_path, edit, words):
    doc = _doc()
    edit(doc)
    out = tmp_path / "f.nc"
    res = cli("faults", kit.write_case(tmp_path, doc), "-o", out)
    line = kit.cli_error_line(res, out)
    assert all(w in line for w in words), line


def test_cli_unknown_bus(kit, cli, tmp_path):
    out = tmp_path / "f.nc"
    res = cli("faults", kit.write_case(tmp_path, _doc()), "--buses", "swb,nowhere", "-o", out)
    assert "bus 'nowhere'" in kit.cli_error_line(res, out)


def test_report_figure_of_fault_currents(small, tmp_path):
    from gigawatt.report import build_report

    rep = build_report(small, tmp_path / "rep")
    assert "fault_currents" in rep.figures and rep.figures["fault_currents"].stat().st_size > 1000
    # a load-flow results file has no fault currents: the figure is skipped with the reason
    solved = gw.solve(gw.make_case(small_tables()))
    rep = build_report(solved, tmp_path / "rep2")
    assert "fault_currents" in rep.skipped and "i_p_a" in rep.skipped["fault_currents"]
    # a fault study of some buses only cannot draw the feeders
    part = gw.fault_currents(gw.make_case(small_tables()), buses=["t1"])
    rep = build_report(part, tmp_path / "rep3")
    assert "covers 1 of the 5 buses" in rep.skipped["fault_currents"]


# --- conductor ratings in the load flow ----------------------------------------------------------------------

def rated_tables(**line_extra) -> dict:
    t = small_tables(devices=False)
    t["rack"] = [{"id": f"r{i}", "bus": "t2", "p_it_w": 1.2e6} for i in range(2)]  # 3 kA at the end
    for line in t["line"]:
        line.update(line_extra.get(line["id"], {}))
    return t


def test_ratings_by_method_and_loading():
    ds = gw.solve(gw.make_case(rated_tables(feeder={"thermal_resistance_k_m_per_w": 0.5},
                                            link={"ampacity_a": 10e3})))
    method = dict(zip(ds.line.values, ds.line_rating_method.values))
    assert method == {"link": "given", "feeder": "iec60287", "s1": "canalis_ktc", "s2": "canalis_ktc"}
    rating = ds.line_ampacity_a.to_series()
    # IEC 60287: sqrt(Δθ / (R'(90 °C) T)) for 1500 mm² copper, Δθ = 60 K
    r90 = 1.7241e-8 * (1 + 3.93e-3 * 70) / 1.5e-3
    assert rating["feeder"] == pytest.approx(math.sqrt(60 / (r90 * 0.5)), rel=1e-12)
    assert rating["link"] == 10e3
    np.testing.assert_allclose(ds.line_loading, np.abs(ds.i_a) / ds.line_ampacity_a, rtol=1e-14)
    assert ds.line_loading.attrs["units"] == "1"
    # the 1000 mm² busway (about 2.08 kA by the vendor table) carries 3 kA: a warning, and in the summary
    assert float(ds.line_loading.sel(line="s1")) > 1.0
    assert "line 's1' is loaded to" in ds.attrs["warnings"]
    from gigawatt.summary import format_summary

    assert "line 's2' is loaded to" in format_summary(ds)


def test_conductor_temperature_from_the_load_is_a_fixed_point():
    t = rated_tables(feeder={"thermal_resistance_k_m_per_w": 0.5})
    fixed = gw.solve(gw.make_case(t))
    hot = gw.solve(gw.make_case(t, solver={"conductor_temperature": "from_load"}))
    theta = hot.line_temp_k.to_series()
    # θ = θ_amb + (θ_max − θ_amb)(I/I_z)² with the final currents, to the iteration's tolerance
    expect = 303.15 + 60.0 * (np.abs(hot.i_a) / hot.line_ampacity_a) ** 2
    rated = np.isfinite(hot.line_ampacity_a.values)
    assert list(hot.line.values[~rated]) == ["link"]  # a busbar: no method rates it; it keeps its 70 °C
    np.testing.assert_allclose(theta[rated], expect[rated], atol=2e-3)
    assert theta["link"] == 343.15
    # each resistance at its temperature: R(θ)/R(70 °C) = (1 + α(θ − 20))/(1 + α·50)
    ratio = (1 + 3.93e-3 * (theta - 293.15)) / (1 + 3.93e-3 * 50)
    np.testing.assert_allclose(hot.r_ohm, fixed.r_ohm * ratio, rtol=1e-12)
    # overloaded busways run hotter than 70 °C: more loss than at the fixed temperature; the ledger closes
    assert hot.attrs["p_loss_w"] > fixed.attrs["p_loss_w"]
    assert hot.attrs["energy_balance_residual"] < 1e-12


def test_conductor_temperature_from_load_refused_where_not_solved():
    t = rated_tables()
    with pytest.raises(CaseError, match="conductor_temperature"):
        gw.solve(gw.make_case(t, solver={"conductor_temperature": "from_load"}, dc={"system": "bipolar"}))
    from gigawatt.solver.dc.series import DCSeries

    with pytest.raises(CaseError, match="conductor_temperature"):
        DCSeries(gw.make_case(t, solver={"conductor_temperature": "from_load"}))
