"""Issue 14: a solve that converges but describes nothing buildable is flagged or refused
(:mod:`gigawatt.solver.plausibility`), and tables or lines that cannot mean what they say are refused at load.

Each figure the checks act on is compared with an independent closed form: the water velocity with
v = Q / (c_p ΔT ρ π D²/4), the voltage of a constant-power feeder with V = V0 (1 + √(1 − 4PR/V0²)) / 2.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.summary import format_summary


def dh_doc(demand_w, length_m=500.0, diameter_m=0.1) -> dict:
    """Plant S/R, one consumer at A through a supply and a return pipe."""
    pipe = dict(length_m=length_m, diameter_m=diameter_m, u_w_per_m_k=0.4)
    return {"case": {"name": "dh"}, "district_heating": {"supply_node": "S", "return_node": "R"},
            "dh_node": [{"id": x} for x in ["S", "A", "R", "Ar"]],
            "dh_pipe": [dict(id="s1", from_node="S", to_node="A", **pipe),
                        dict(id="r1", from_node="Ar", to_node="R", **pipe)],
            "dh_consumer": [{"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed",
                             "demand_w": demand_w}]}


def dh_case(demand_w, length_m=500.0, diameter_m=0.1):
    doc = dh_doc(demand_w, length_m, diameter_m)
    return gw.make_case({k: v for k, v in doc.items() if k.startswith("dh_")},
                        district_heating=doc["district_heating"], case=doc["case"])


def hand_velocity(ds, demand_w, diameter_m):
    """v = Q / (c_p (T_supply − T_return) ρ A), at the water properties of the case (ρ ≈ 975 kg/m³ at 75 °C,
    c_p ≈ 4.19 kJ/(kg K)): the heat loss of the pipes changes the flow by about their share of the heat."""
    t_sup = float(ds.dh_consumer_t_supply_k[0])
    t_ret = float(ds.dh_consumer_t_return_k[0])
    return demand_w / (4190.0 * (t_sup - t_ret) * 975.0 * math.pi * diameter_m ** 2 / 4)


def test_demand_beyond_the_pipes_is_refused(tmp_path, kit, cli):
    """The issue's case: a demand that asks thousands of metres per second of its pipes. Before, it solved with
    a pump of millions of MW and "0 consumers under-supplied"; now a ConvergenceError, and on the command line
    one error line, exit 2, no results file."""
    with pytest.raises(ConvergenceError) as info:
        gw.solve(dh_case(3e9))
    d = info.value.details
    assert d["check"] == "dh_pipe_velocity" and d["element"] in ("s1", "r1") and d["value"] > 1000.0
    assert "implausible" in str(info.value) and "enlarge the pipes or lower the demand" in str(info.value)
    assert isinstance(info.value.partial, xr.Dataset)
    doc = dh_doc(3e9)
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "out.nc"
    line = kit.cli_error_line(cli("run", path, "-o", out), out)
    assert "implausible result: district-heating pipe" in line


def test_fast_water_is_warned_in_the_summary_and_the_file(tmp_path):
    """8.9 m/s (the hand calculation agrees to 2 %: the pipes' heat loss and the properties' temperature):
    solved, but every pipe and the 77-bar pump named in the warnings, the summary no longer saying only
    "0 consumers under-supplied", and the warnings kept in the NetCDF file."""
    ds = gw.solve(dh_case(1e7))
    v = np.abs(ds.dh_pipe_velocity_m_s.values)
    assert v == pytest.approx(hand_velocity(ds, 1e7, 0.1), rel=0.02)
    assert 3.0 < v.min() and v.max() < 10.0
    lines = ds.attrs["plausibility_warnings"].splitlines()
    assert any("pipe 's1'" in x for x in lines) and any("pipe 'r1'" in x for x in lines)
    assert any("network pump" in x and "bar" in x for x in lines)
    assert all(x in ds.attrs["warnings"] for x in lines)
    text = format_summary(ds)
    assert "2 pipes carry water faster than 3 m/s" in text and "pipe 's1' carries water at" in text
    ds.to_netcdf(tmp_path / "r.nc")
    with xr.open_dataset(tmp_path / "r.nc") as back:
        assert back.attrs["plausibility_warnings"] == ds.attrs["plausibility_warnings"]


def test_pump_beyond_any_pipe_is_refused():
    """Two 20 km pipes of DN100 at about 8 m/s (below the velocity limit): the pressure rise is some 240 bar,
    beyond the 100 bar no district-heating pipe system holds, and the pump would draw more than the heat it
    moves: refused, naming the pump."""
    with pytest.raises(ConvergenceError) as info:
        gw.solve(dh_case(9e6, length_m=2e4))
    d = info.value.details
    assert d["check"] == "dh_network_pump" and d["value"][0] > 1e7 and d["value"][1] > d["value"][2]


def test_a_sound_network_and_the_bundled_cases_are_quiet():
    """1 MW through DN100 (0.9 m/s), and the bundled 800 V and ±400 V halls: no plausibility warning."""
    ds = gw.solve(dh_case(1e6))
    assert ds.attrs["plausibility_warnings"] == "" and "faster than" not in format_summary(ds)
    for path in gw.bundled_cases():
        if "5gw" not in path.name:  # the 5 GW campus: its own test runs it
            assert gw.solve(gw.load_case(path)).attrs["plausibility_warnings"] == "", path.name


def test_dc_voltage_outside_the_band_is_warned(kit):
    """A constant-power load at half the feeder's maximum: V = V0 (1 + √(1 − 4PR/V0²)) / 2 = 0.854 pu, outside
    ±10 %: warned with its value; at 0.3 of the maximum (0.92 pu) nothing."""
    v0, r = 800.0, 0.05
    p_max = v0 * v0 / (4 * r)
    for share, warned in ((0.5, True), (0.3, False)):
        ds = gw.solve(_case(kit, r, share * p_max))
        expected = 0.5 * (1 + math.sqrt(1 - 4 * share * p_max * r / v0 ** 2))
        assert float(ds.v_pu.sel(bus="b")) == pytest.approx(expected, rel=1e-12)
        lines = ds.attrs["plausibility_warnings"]
        assert (f"DC bus 'b' is at {expected:.4g} pu" in lines) is warned


def _case(kit, r, p):
    doc = kit.one_line_doc(r_ohm=r, p_it_w=p)
    return gw.make_case({k: doc[k] for k in ("bus", "line", "source", "rack")}, case=doc["case"])


def test_dc_voltage_beyond_physical_meaning_is_refused(kit):
    """A station set to 2.5 times its bus's nominal voltage: every bus at 2.5 pu, refused."""
    doc = kit.one_line_doc(r_ohm=0.05, p_it_w=1e5)
    doc["source"][0]["v_set_v"] = 2000.0
    with pytest.raises(ConvergenceError) as info:
        gw.solve(gw.make_case({k: doc[k] for k in ("bus", "line", "source", "rack")}))
    assert info.value.details["check"] == "dc_bus_voltage" and info.value.details["value"] > 2.0


def test_line_between_voltage_levels_is_refused_at_load(tmp_path, kit, cli):
    """The issue's case: a line from an 800 V bus to a 50 V bus (it solved the 50 V bus at 15.9 pu)."""
    doc = kit.base_doc()
    doc["line"].append({"id": "tap", "from_bus": "c", "to_bus": "lv", "length_m": 5.0, "r_ohm": 0.01})
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    err = info.value
    assert err.element == "line 'tap'" and err.file == str(path)
    assert "'c' at 800 V" in str(err) and "'lv' at 50 V" in str(err)
    out = tmp_path / "r.nc"
    assert "line 'tap'" in kit.cli_error_line(cli("run", path, "-o", out), out)


@pytest.mark.parametrize("table, settings, needs", [
    ("dh_node", None, "[district_heating]"),
    ("dh_heat_pump_map", {"supply_node": "S", "return_node": "R"}, 'hp_model = "map"'),
])
def test_tables_the_case_does_not_use_are_refused(table, settings, needs):
    """``dh_*`` tables without ``[district_heating]`` were dropped without a word; a heat-pump map with the
    Carnot-fraction model too."""
    tables = {"dh_node": [{"id": "S"}, {"id": "R"}]}
    if table == "dh_heat_pump_map":
        tables["dh_heat_pump_map"] = [{"id": "p", "t_source_out_k": 300.0, "t_sink_k": 350.0, "cop": 3.0}]
    with pytest.raises(CaseError) as info:
        gw.make_case(tables, district_heating=settings)
    assert info.value.element == f"table '{table}'" and needs in str(info.value)


# --- along a time axis ----------------------------------------------------------------------------------------

def timed_dh_case(demand_w):
    doc = dh_doc(demand_w)
    return gw.make_case({k: v for k, v in doc.items() if k.startswith("dh_")},
                        district_heating=doc["district_heating"], case=doc["case"],
                        time={"periods": 3, "weather": "constant"})


def test_time_series_warns_of_its_peak_and_refuses_a_network_that_cannot_carry_its_demand():
    """The same networks along a time axis: 8.9 m/s is warned, at its start and with the step it peaks at
    (in the results' attributes and the series summary); thousands of m/s in the steady state the series
    starts from stop the run before its first step."""
    from gigawatt.series_writer import figure_units
    from gigawatt.summary import time_series_lines
    from gigawatt.time_series import run_time_series

    ds = run_time_series(timed_dh_case(1e7))
    steady = gw.solve(dh_case(1e7))
    peak = float(np.max(ds.dh_velocity_max_m_s.values))
    assert peak == pytest.approx(float(np.max(np.abs(steady.dh_pipe_velocity_m_s))), rel=1e-6)  # constant inputs
    assert figure_units("dh_velocity_max_m_s") == "m/s"
    at = np.datetime_as_string(ds.time.values[int(np.argmax(ds.dh_velocity_max_m_s.values))], unit="s")
    lines = ds.attrs["plausibility_warnings"].splitlines()
    assert len(lines) == 4 and all("in the steady state the series starts from" in x for x in lines[:2])
    assert lines[2].startswith(f"the fastest district-heating pipe carries water at {peak:.3g} m/s at {at}")
    assert "(warned above 3 m/s)" in lines[2]
    assert "network pump raises" in lines[3] and "(warned above 25 bar)" in lines[3]
    assert "fastest district-heating pipe" in "\n".join(time_series_lines(ds))
    with pytest.raises(ConvergenceError) as info:
        run_time_series(timed_dh_case(3e9))
    assert info.value.details["check"] == "dh_pipe_velocity" and "steady state the series starts" in str(info.value)
