"""KPIs by their standards, formed in one module (gigawatt.models.kpis), and the rack power basis.

The worked arithmetic of the definitions is the validation case kpi_analytic_pue_itue_tue; here: the
identities between the KPIs, the boundaries read off a solved case's own ledger, the carbon figures against
a hand-weighted mix, and that the summary, the time series, the sweep and the report show the same KPIs (one
module forms them all)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.kpis import IT_BOUNDARIES, J_PER_KWH, boundary_powers, facility_kpis, supply_mix
from gigawatt.models.racks import chip_powers, rack_powers

COOLING = {"ambient_t_c": 10.0, "recovery_demand_w": 2e5}


def campus(**kw):
    """One hall of 2 rows × 3 racks with liquid cooling (the builder's defaults otherwise)."""
    kw = {"halls": 1, "rows_per_hall": 2, "racks_per_row": 3, "cooling": COOLING, **kw}
    return gw.build_campus(**kw)


@pytest.fixture(scope="module")
def solved():
    case = campus()
    return case, gw.solve(case)


# --- the functions' identities ------------------------------------------------------------------------

@pytest.mark.parametrize("boundary", list(IT_BOUNDARIES))
def test_tue_is_pue_times_itue_and_partial_pues_add_up(boundary):
    fig = {**boundary_powers(8.0e5, 8.0e4, 2.0e4), "p_total_facility": 1.1e6, "p_cooling": 1.5e5,
           "q_recovered": 3.3e5}
    k = facility_kpis(fig, it_boundary=boundary)
    assert k["tue"] == pytest.approx(k["pue"] * k["itue"], rel=1e-15)
    assert k["pue"] - 1 == pytest.approx((k["ppue_cooling"] - 1) + (k["ppue_power"] - 1), rel=1e-14)
    assert k["it_equipment"] == fig[IT_BOUNDARIES[boundary][0]]
    assert k["erf"] == 0.3


def test_chips_boundary_makes_pue_the_tue():
    fig = {**boundary_powers(8.0e5, 8.0e4, 2.0e4), "p_total_facility": 1.1e6, "p_cooling": 1.5e5}
    k = facility_kpis(fig, it_boundary="chips")
    assert k["pue"] == k["tue"] and k["itue"] == 1.0


def test_supply_mix_weights_by_delivered_power_and_needs_every_factor():
    m = supply_mix([3e6, 1e6, -1e5], [0.012 / J_PER_KWH, 0.3 / J_PER_KWH, math.nan],
                   ["nuclear", "grid_mix", "unspecified"])
    # The supply taking power counts zero, so its missing factor and kind do not matter.
    assert m["cef_kg_per_j"] * J_PER_KWH == pytest.approx(0.75 * 0.012 + 0.25 * 0.3, rel=1e-15)
    assert m["nuclear_share"] == 0.75 and m["renewable_share"] == 0.0
    m = supply_mix([1.0, 1.0], [1e-8, math.nan], ["renewable", "unspecified"])
    assert math.isnan(m["cef_kg_per_j"]) and math.isnan(m["renewable_share"])


def test_unknown_boundary_is_refused():
    with pytest.raises(CaseError, match="it_boundary"):
        campus(kpi={"it_boundary": "pdu"})


# --- a solved case: the boundary read off its own ledger ------------------------------------------------

def test_solved_kpis_by_hand_from_the_ledger(solved):
    case, ds = solved
    a = ds.attrs
    total = a["p_grid_w"] + a["p_pumps_w"] + a["p_fans_w"]  # no grid side: metered at the stations' intake
    rack_input = float(ds.rack_p_in_w.sum())
    chips = float(ds.rack_p_it_w.sum())
    assert a["p_total_facility_w"] == pytest.approx(total, rel=1e-15)
    assert a["p_rack_input_w"] == pytest.approx(rack_input, rel=1e-13)
    assert a["p_shelf_output_w"] == pytest.approx(chips + float(ds.vrm_loss_w.sum()), rel=1e-13)
    assert a["pue"] == pytest.approx(total / rack_input, rel=1e-13)
    assert a["itue"] == pytest.approx(rack_input / chips, rel=1e-13)
    assert a["tue"] == pytest.approx(total / chips, rel=1e-13)
    assert a["erf"] == pytest.approx(a["q_recovered_w"] / total, rel=1e-15)
    assert a["kpi_period"] == "design hour" and "rack input" in a["kpi_basis"]
    assert "cue_kg_per_kwh" not in a and "no carbon intensity" in a["kpi_basis"]


@pytest.mark.parametrize("boundary, figure", [("shelf_output", "p_shelf_output_w"), ("chips", "p_it_w")])
def test_stated_boundary_moves_the_denominator(boundary, figure, solved):
    _, ds = solved
    other = gw.solve(campus(kpi={"it_boundary": boundary}))
    a = other.attrs
    assert a["p_total_facility_w"] == pytest.approx(ds.attrs["p_total_facility_w"], rel=1e-15)
    assert a["pue"] == pytest.approx(a["p_total_facility_w"] / a[figure], rel=1e-15)
    assert a["pue"] > ds.attrs["pue"] and a["tue"] == pytest.approx(ds.attrs["tue"], rel=1e-15)


def test_grid_side_losses_are_inside_the_meter():
    ds = gw.solve(campus(grid="ext_grid", grid_transformers_per_site=2))
    a = ds.attrs
    assert a["p_total_facility_w"] == pytest.approx(a["p_facility_w"] + a["p_ac_loss_w"], rel=1e-15)
    # = what the supplies deliver + pumps and fans, up to the load flow's own plant-ledger residual
    assert abs(a["p_total_facility_w"] - a["p_plant_w"] - a["p_cooling_w"]) \
        <= 1.01 * a["plant_energy_balance_residual"] * a["p_plant_w"]
    assert a["pue"] == pytest.approx(a["p_total_facility_w"] / a["p_rack_input_w"], rel=1e-15)
    assert "AC supplies" in a["kpi_basis"]


def test_cue_of_one_supply_is_its_factor_times_pue():
    ds = gw.solve(campus(supply_carbon_intensity_kg_per_kwh=0.3, supply_energy_source="grid_mix"))
    a = ds.attrs
    assert a["cue_kg_per_kwh"] == pytest.approx(0.3 * a["pue"], rel=1e-14)
    assert a["ref"] == 0.0 and a["nuclear_share"] == 0.0


def test_cue_of_two_stations_weighted_by_what_each_delivers():
    case = campus(station_droop=0.05)
    src = case.tables["source"].copy()
    src["carbon_intensity_kg_per_j"] = [0.012 / J_PER_KWH, 0.3 / J_PER_KWH]
    src["energy_source"] = ["nuclear", "renewable"]
    src["rated_power_w"] = src["rated_power_w"].to_numpy() * [1.0, 2.0]  # unequal shares by droop
    case = gw.make_case({**case.tables, "source": src}, loss_models=dict(case.loss_model_params),
                        cooling=dict(case.settings["cooling"]))
    ds = gw.solve(case)
    a, p = ds.attrs, ds.source_p_grid_w.values
    assert p[1] > 1.5 * p[0]
    cef = (p[0] * 0.012 + p[1] * 0.3) / p.sum()  # [kg/kWh]
    assert a["cue_kg_per_kwh"] == pytest.approx(cef * a["p_total_facility_w"] / a["p_rack_input_w"], rel=1e-13)
    assert a["nuclear_share"] == pytest.approx(p[0] / p.sum(), rel=1e-13)
    assert a["ref"] == pytest.approx(p[1] / p.sum(), rel=1e-13)


# --- one module: the summary, the series, the sweep and the report agree -------------------------------

def test_summary_series_sweep_and_report_agree(tmp_path):
    from gigawatt.report import kpi_rows
    from gigawatt.summary import format_summary, time_series_lines
    from gigawatt.sweep import CaseSource, solve_scenario
    from gigawatt.time_series import run_time_series

    steady_case = campus()
    ds = gw.solve(steady_case)
    a = ds.attrs
    summary = format_summary(ds)
    for name in ("pue", "ppue_cooling", "ppue_power", "itue", "tue", "erf"):
        assert f"{a[name]:.4f}" in summary, name
    rows = dict(kpi_rows(ds))
    assert rows["PUE (ISO/IEC 30134-2) at the design hour"] == f"{a['pue']:.3f}"
    assert rows["TUE, total / chips (Patterson et al. 2013) at the design hour"] == f"{a['tue']:.3f}"
    sweep = solve_scenario(CaseSource.of(steady_case), {}, {})
    assert sweep["status"] == "ok"
    for name in ("pue", "itue", "tue", "erf", "ppue_cooling"):
        assert sweep["kpis"][name] == a[name], name

    # Three steady hours at the design hour's outdoor air: the period's KPIs are the design hour's to the
    # series' solver tolerance (each step warm-started), and the series, its summary and its sweep agree.
    series_case = campus(time={"periods": 3, "it_load": "steady", "weather": "constant"})
    sr = run_time_series(series_case)
    b = sr.attrs
    for name in ("pue", "ppue_cooling", "ppue_power", "itue", "tue", "erf"):
        assert b[name] == pytest.approx(a[name], rel=1e-9), name
        np.testing.assert_allclose(sr[name].values, a[name], rtol=1e-9, err_msg=name)
    text = "\n".join(time_series_lines(sr))
    assert f"PUE                          {b['pue']:.4f}" in text and "over the period of 3 h" in text
    year = solve_scenario(CaseSource.of(series_case), {}, {})
    assert year["kpis"]["pue"] == pytest.approx(b["pue"], rel=1e-15)
    # The report of the series as written, and of its step variables alone (no KPI attributes: it forms
    # the period's KPIs from the energies through the same module).
    assert dict(kpi_rows(sr))["PUE (ISO/IEC 30134-2) over the period"] == f"{b['pue']:.3f}"
    bare = sr.copy()
    bare.attrs = {k: v for k, v in sr.attrs.items() if k not in ("pue", "erf", "tue", "itue", "it_boundary")}
    from gigawatt.report.figures import period_kpis

    k = period_kpis(bare)
    for name in ("pue", "ppue_cooling", "ppue_power", "itue", "tue", "erf"):
        assert k[name] == pytest.approx(b[name], rel=1e-13), name


# --- rack power basis -----------------------------------------------------------------------------------

def test_input_basis_rack_draws_its_given_power():
    case = campus()
    racks = case.tables["rack"]
    assert (racks["p_it_basis"] == "input").all()
    p_in = rack_powers(case)[0]
    np.testing.assert_allclose(p_in, racks["p_it_w"].to_numpy(float), rtol=1e-13)
    chips = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=3, rack_power_basis="chips")
    np.testing.assert_allclose(chip_powers(chips), 130e3, rtol=0)
    assert chip_powers(case)[0] < 0.9 * 130e3  # below the regulators' 90 %, the shelves' loss on top


@pytest.mark.parametrize("model", [{"kind": "constant_efficiency", "efficiency": 0.97},
                                   {"kind": "quadratic", "a_w": 300.0, "b_v": 0.5, "c_ohm": 2e-3},
                                   {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
                                    "efficiency": [0.90, 0.94, 0.96, 0.91]}])
def test_chip_power_inverts_every_loss_model(model):
    racks = [{"id": f"r{i}", "bus": "b", "p_it_w": p, "shelf_loss_model": "m", "shelf_rated_power_w": 1.5e5,
              "vrm_efficiency": 0.92} for i, p in enumerate((2e3, 4e4, 1.3e5, 2.0e5))]
    case = gw.make_case({"bus": [{"id": "b", "v_nominal_v": 800.0}],
                         "source": [{"id": "s", "bus": "b", "v_set_v": 800.0, "rated_power_w": 1e6}],
                         "rack": racks}, loss_models={"m": model})
    np.testing.assert_allclose(rack_powers(case)[0], [r["p_it_w"] for r in racks], rtol=1e-13)


def test_input_below_the_shelves_no_load_loss_is_refused():
    case = gw.make_case({"bus": [{"id": "b", "v_nominal_v": 800.0}],
                         "source": [{"id": "s", "bus": "b", "v_set_v": 800.0, "rated_power_w": 1e6}],
                         "rack": [{"id": "r", "bus": "b", "p_it_w": 100.0, "shelf_loss_model": "m",
                                   "shelf_rated_power_w": 1e5}]},
                        loss_models={"m": {"kind": "quadratic", "a_w": 500.0, "b_v": 0.0, "c_ohm": 0.0}})
    with pytest.raises(CaseError, match="no-load loss"):
        chip_powers(case)


# --- the campus builder's defaults are the bundled case's ------------------------------------------------

def test_build_campus_with_the_bundled_numbers_is_the_bundled_network():
    from gigawatt.cases.loader import read_case_document

    doc = read_case_document(None)[0]
    params = {k: v for k, v in doc["campus"].items() if k not in ("station_loss_model", "shelf_loss_model")}
    built = gw.solve(gw.build_campus(**params))
    electrical = {k: v for k, v in gw.load_case().tables.items() if not k.startswith("dh_")}  # no town here
    bundled = gw.solve(gw.make_case(electrical, loss_models=doc["loss_models"]))
    assert built.attrs["efficiency_grid_to_chip"] == pytest.approx(bundled.attrs["efficiency_grid_to_chip"],
                                                                   rel=1e-12)
    assert built.attrs["lossless_stations"] == 0 and built.attrs["racks_without_shelf"] == 0


def test_lossless_elements_only_when_asked_and_then_stated():
    from gigawatt.summary import format_summary

    ds = gw.solve(gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, station_loss_model="none",
                                  shelf_loss_model="none"))
    assert ds.attrs["lossless_stations"] == 2
    assert float(ds.stage_loss_w.sel(stage="ac_dc_station")) == 0.0
    assert "2 stations without a loss model; 2 racks without power shelves (lossless)" in format_summary(ds)


def test_compare_and_run_agree_on_the_chips_and_say_why_they_differ():
    from gigawatt.compare import compare, format_comparison

    from gigawatt.cases.architectures import ArchitectureOptions

    case = gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2)
    cmp = compare(case, ["ac", "dc800"])
    np.testing.assert_allclose(cmp.p_it_w.values, chip_powers(case).sum(), rtol=1e-15)
    # With the case's own shelf ratings (not compare's N+N default, which moves the shelves' operating point),
    # the dc800 racks draw exactly the case's input power.
    kept = compare(case, ["ac", "dc800"], options=ArchitectureOptions(shelf_provisioning=None))
    assert kept.p_rack_input_w.values[1] == pytest.approx(case.tables["rack"]["p_it_w"].sum(), rel=1e-12)
    text = format_comparison(cmp)
    assert "IT power at the rack inputs [MW]" in text and "leakage" in text


def test_total_it_power_series_is_drawn_at_the_rack_inputs():
    """A series of the campus's total IT power on an input basis: the racks' inputs sum to it at every step
    (the chips scaled alike, the shelves' part-load efficiency taken into account)."""
    import pandas as pd
    import xarray as xr

    from gigawatt.time_series import run_time_series

    case = gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=3)
    total = np.array([3.9e5, 1.5e5, 4.2e4])
    ds = run_time_series(case, xr.Dataset({"p_it_w": ("time", total)},
                                          coords={"time": pd.date_range("2026-01-01", periods=3, freq="h")}))
    np.testing.assert_allclose(ds.p_rack_input_w.values, total, rtol=1e-12)
    assert ds.p_it_fraction.values[0] == pytest.approx(1.0, rel=1e-12)  # 3 racks of 130 kW: the case itself


def test_series_of_a_grid_side_campus_uses_its_supplies_factor():
    """Along a series the grid side is not solved: the meter is the stations' intake, and the AC supplies'
    factor (the same for all) gives CUE = factor × PUE over the period."""
    from gigawatt.time_series import run_time_series

    case = campus(grid="gen", grid_transformers_per_site=2, supply_carbon_intensity_kg_per_kwh=0.012,
                  supply_energy_source="nuclear", time={"periods": 2, "it_load": "steady", "weather": "constant"})
    a = run_time_series(case).attrs
    assert a["cue_kg_per_kwh"] == pytest.approx(0.012 * a["pue"], rel=1e-13)
    assert a["nuclear_share"] == 1.0 and "grid side is not solved along a series" in a["kpi_basis"]


def test_series_step_weights_two_stations_by_what_each_delivers():
    # A time-series step reads the stations' carbon factors once per series (ChainStepper) and weights them
    # by what its DC step delivers; checked against the weighting by hand of gw.solve's station powers at the
    # same load (the two solves agree to the solver tolerance, hence 1e-9).
    from gigawatt.solver.chain_stepper import ChainStepper

    case = campus(station_droop=0.05)
    src = case.tables["source"].copy()
    src["carbon_intensity_kg_per_j"] = [0.012 / J_PER_KWH, 0.3 / J_PER_KWH]
    src["energy_source"] = ["nuclear", "renewable"]
    src["rated_power_w"] = src["rated_power_w"].to_numpy() * [1.0, 2.0]
    case = gw.make_case({**case.tables, "source": src}, loss_models=dict(case.loss_model_params),
                        cooling=dict(case.settings["cooling"]))
    p = gw.solve(case).source_p_grid_w.values
    stepper = ChainStepper(case)
    for _ in range(2):  # the second step reuses what the first read
        step = stepper.step(1.0, None, 3600.0)
        cef = (p[0] * 0.012 + p[1] * 0.3) / p.sum() / J_PER_KWH  # [kg/J]
        assert step["co2e_kg_per_s"] == pytest.approx(cef * step["p_total_facility_w"], rel=1e-9)
        assert step["nuclear_share"] == pytest.approx(p[0] / p.sum(), rel=1e-9)
