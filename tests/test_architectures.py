"""Tests of the distribution architectures (gigawatt.cases.architectures), the AC chain models
(gigawatt.models.ac_chain) and ``gigawatt compare`` (gigawatt.compare).

Each test says where its expected number comes from and why its tolerance is what it is.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.cases.architectures import (
    COPPER_DENSITY_KG_M3,
    SIZING_RULES,
    bipolar_available,
    build_architecture,
    conductor_mass_kg,
)
from gigawatt.compare import STAGES, compare
from gigawatt.errors import CaseError
from gigawatt.models import ac_chain

SHELF = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.5, 1.0], "efficiency": [0.95, 0.98, 0.975]}


def dc_doc(v=800.0):
    """Station → 20 m feeder (500 mm²) → row bus with two 100 kW racks; one voltage level."""
    return {
        "case": {"name": "arch"},
        "loss_models": {"station": {"kind": "constant_efficiency", "efficiency": 0.98}, "shelf": SHELF},
        "bus": [{"id": "a", "v_nominal_v": v}, {"id": "b", "v_nominal_v": v}],
        "line": [{"id": "l1", "from_bus": "a", "to_bus": "b", "length_m": 20.0, "cross_section_m2": 5e-4}],
        "source": [{"id": "s1", "bus": "a", "v_set_v": v, "droop": 0.02, "rated_power_w": 5e5,
                    "loss_model": "station"}],
        "rack": [{"id": f"r{k}", "bus": "b", "p_it_w": 1e5, "shelf_loss_model": "shelf",
                  "shelf_rated_power_w": 2e5} for k in (1, 2)],
    }


def dc_case(v=800.0):
    d = dc_doc(v)
    return gw.make_case({k: d[k] for k in ("bus", "line", "source", "rack")}, loss_models=d["loss_models"],
                        case=d["case"])


# --- models ---------------------------------------------------------------------------------------

def test_ac_chain_docstring_examples(kit):
    # The worked examples in the docstrings are hand values (I = 1e6/(√3·415) = 1391.205 A; 3 I² · 1 mΩ =
    # 5806.358 W; 2.5e6·(0.001 + 0.008·0.25) = 7500 W).
    assert {"three_phase_current", "three_phase_conductor_loss_w", "transformer_loss_w"} <= \
        kit.run_docstring_examples(ac_chain)


def test_three_phase_loss_equals_per_phase_equivalent():
    # The DC loop of resistance R/cos²φ at V_LL carrying P loses (P/V)²·R/cos²φ; by hand that is 3 I² R with
    # I = P/(√3 V cos φ). Rounding only: rel 1e-13.
    p, v, r = np.array([1e5, 1e6, 3e6]), 415.0, 2e-3
    for pf in (1.0, 0.95, 0.8):
        dc_equivalent = (p / v) ** 2 * r * ac_chain.per_phase_loop_factor(pf)
        np.testing.assert_allclose(ac_chain.three_phase_conductor_loss_w(p, v, r, pf), dc_equivalent, rtol=1e-13)


def test_transformer_efficiency_peaks_where_no_load_equals_load_loss():
    # Textbook property of the two-term model: η is highest at x = √(p0/pk) (IEC 60076-1 losses). With
    # p0 = 0.1 %, pk = 0.8 %, x* = 0.35355; a grid search to 1e-5 finds it within its step.
    x = np.linspace(0.05, 1.2, 115001)
    loss = ac_chain.transformer_loss_w(x * 1e6, 1e6, 0.001, 0.008)
    assert x[np.argmin(loss / (x * 1e6))] == pytest.approx(math.sqrt(0.001 / 0.008), abs=2e-5)


def test_default_ac_stage_figures_are_inside_their_references():
    # MV distribution transformer: 99.2-99.5 % at 50 % load (attributed to the US DOE standard, 10 CFR 431.196,
    # 2016 levels; unverified). Modern double-conversion UPS: 94-95 % at 25 %, 96-97 % at 50-100 % (vendor
    # datasheets, none named; an unverified assumption). Both as cited in gigawatt.models.ac_chain.
    mv = ac_chain.MV_TRANSFORMER
    eta_mv = 0.5 / (0.5 + mv["no_load_loss_fraction"] + mv["load_loss_fraction"] * 0.25)
    assert 0.992 <= eta_mv <= 0.995
    ups = dict(zip(ac_chain.UPS_DOUBLE_CONVERSION_MODERN["load_fraction"],
                   ac_chain.UPS_DOUBLE_CONVERSION_MODERN["efficiency"]))
    assert 0.94 <= ups[0.25] <= 0.95 and all(0.96 <= ups[x] <= 0.97 for x in (0.5, 1.0))


# --- the transform --------------------------------------------------------------------------------

def test_ac_lineup_and_per_phase_lines():
    pf = 0.95
    arch = build_architecture(dc_case(), "ac", power_factor=pf)
    t = arch.case.tables
    # Source → UPS → PDU → the station's old bus, at 415 V.
    assert t["source"]["kind"].tolist() == ["transformer"] and t["source"]["bus"].tolist() == ["s1:lv"]
    conv = t["converter"].set_index("id")
    assert conv.loc["s1:ups", ["from_bus", "to_bus"]].tolist() == ["s1:lv", "s1:ups"]
    assert conv.loc["s1:pdu", ["from_bus", "to_bus"]].tolist() == ["s1:ups", "a"]
    assert arch.converter_stage == {"s1:ups": "ups", "s1:pdu": "pdu_transformer"}
    assert (t["bus"]["v_nominal_v"] == 415.0).all()
    # Current-density rule by hand: A_ac = A_dc · (1/(√3·415·pf)) / (1/800).
    assert t["line"]["cross_section_m2"].iloc[0] == pytest.approx(5e-4 * 800 / (math.sqrt(3) * 415 * pf), rel=1e-14)
    assert t["line"]["loop_factor"].iloc[0] == pytest.approx(1 / pf**2, rel=1e-15)
    assert set(t["rack"]["shelf_loss_model"]) == {"ac_psu"}
    assert arch.case.loss_models["ac_psu"].efficiency == (0.90, 0.94, 0.96, 0.91)  # 80 PLUS Titanium 230 V redundant


def test_loss_fraction_rule_equalises_conductor_loss_per_watt():
    # By hand: A_ac / A_dc = (3 k_ac²) / (2 k_dc²) with k = current per watt; at pf 1 = 800² / (2·415²).
    assert SIZING_RULES["loss_fraction"](1 / 800, 2, 1 / (math.sqrt(3) * 415), 3) == pytest.approx(
        800**2 / (2 * 415**2), rel=1e-14)
    # And the solved feeder then has the same loss coefficient loss/P² (P delivered at the row; loss = P²R/V²
    # in both), up to twice the difference of the two rows' per-unit voltage drops (both about 6e-4 pu, 1.5e-5
    # apart since the PSUs and shelves draw different power): 1e-4 bounds it (3e-5 measured). Stiff stations
    # (no droop) so that both rows sit at nominal voltage less the drop.
    d = dc_doc()
    d["source"][0]["droop"] = 0.0
    case = gw.make_case({k: d[k] for k in ("bus", "line", "source", "rack")}, loss_models=d["loss_models"])
    coef = {}
    for a in ("ac", "dc800"):
        ds = gw.solve(build_architecture(case, a, sizing="loss_fraction", power_factor=1.0).case)
        coef[a] = float(ds.stage_loss_w.sel(stage="distribution")) / float(ds.rack_p_in_w.sum()) ** 2
    assert coef["ac"] == pytest.approx(coef["dc800"], rel=1e-4)


def test_dc800_of_an_800v_case_solves_like_the_case():
    # Same tables, same loss models: the solve must agree to solver precision (1e-11 mismatch → 1e-12 rel).
    base = gw.solve(dc_case())
    again = gw.solve(gw.with_architecture(dc_case(), "dc800"))
    assert again.attrs["p_grid_w"] == pytest.approx(base.attrs["p_grid_w"], rel=1e-12)


def test_dc_voltage_change_scales_sections_by_current():
    # 800 V reference → 380 V: same current density means A · 800/380 (by hand), and set-points in per unit.
    arch = build_architecture(dc_case(), "dc800", dc_v_v=380.0)
    t = arch.case.tables
    assert t["line"]["cross_section_m2"].iloc[0] == pytest.approx(5e-4 * 800 / 380, rel=1e-14)
    assert t["source"]["v_set_v"].iloc[0] == 380.0


@pytest.mark.parametrize("name", ["ac", "dc800"])
def test_same_it_load_and_closed_ledger(name):
    # IT power is an input the transform must not touch; the ledger closes to 1e-9 (project bound).
    ds = gw.solve(gw.with_architecture(dc_case(), name))
    assert ds.attrs["p_it_w"] == 2e5
    assert ds.attrs["energy_balance_residual"] < 1e-9


def test_copper_mass_by_hand():
    # ac: 4 conductors (3 phases + full neutral) × A × 20 m × 8960 kg/m³; dc800: 2 × 5e-4 × 20 × 8960 = 179.2 kg.
    ac = build_architecture(dc_case(), "ac")
    dc = build_architecture(dc_case(), "dc800")
    a_ac = ac.case.tables["line"]["cross_section_m2"].iloc[0]
    assert conductor_mass_kg(dc)[0] == pytest.approx(179.2, rel=1e-14)
    assert conductor_mass_kg(ac)[0] == pytest.approx(4 * a_ac * 20 * COPPER_DENSITY_KG_M3, rel=1e-14)


def test_campus_case_transforms():
    case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=3, rack_it_power_kw=100)
    ds = gw.solve(gw.with_architecture(case, "ac"))
    assert len(ds.source) == 2 and len(ds.converter) == 4 and ds.attrs["energy_balance_residual"] < 1e-9


# --- bad input ------------------------------------------------------------------------------------

def test_unknown_architecture():
    with pytest.raises(CaseError, match="unknown architecture") as info:
        gw.with_architecture(dc_case(), "dc1500")
    assert info.value.value == "dc1500" and "ac, dc800, dc400" in info.value.allowed


def test_unknown_sizing_rule_and_option():
    with pytest.raises(CaseError, match="sizing"):
        gw.with_architecture(dc_case(), "ac", sizing="by_eye")
    with pytest.raises(CaseError, match="unknown architecture option"):
        gw.with_architecture(dc_case(), "ac", voltage=400)


def test_case_with_converters_is_refused(kit):
    doc = kit.base_doc()
    case = gw.make_case({k: doc[k] for k in ("bus", "line", "source", "converter", "rack")},
                        loss_models=doc["loss_models"])
    with pytest.raises(CaseError, match="single-voltage-level") as info:
        gw.with_architecture(case, "ac")
    assert info.value.element == "converter 'dc1'"


@pytest.mark.parametrize("model, field", [
    ({"kind": "efficiency_curve", "load_fraction": [0.25, 1.0], "efficiency": [0.95, 1.2]}, "efficiency[1]"),
    ({"kind": "efficiency_curve", "load_fraction": [0.25, 1.0], "efficiency": [0.0, 0.96]}, "efficiency[0]"),
    ({"kind": "constant_efficiency", "efficiency": 1.5}, "efficiency"),
    ({"kind": "transformer", "no_load_loss_fraction": 0.001, "load_loss_fraction": 0.008, "power_factor": 1.2},
     "power_factor"),
])
def test_stage_efficiency_outside_0_1_is_a_case_error(tmp_path, kit, cli, model, field):
    # An AC stage curve given in the case file (under its override name) is checked when the case loads.
    doc = dc_doc()
    doc["loss_models"]["ac_ups"] = model
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    assert info.value.element == "loss model 'ac_ups'" and info.value.field == field
    out = tmp_path / "cmp.nc"
    line = kit.cli_error_line(cli("compare", path, "-o", out), out)
    assert "loss model 'ac_ups'" in line and field in line


def test_cli_unknown_architecture_one_line(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, dc_doc())
    out = tmp_path / "cmp.nc"
    line = kit.cli_error_line(cli("compare", path, "--architectures", "ac,hvdc", "-o", out), out)
    assert line == "error: field 'architectures': unknown architecture (got 'hvdc'; allowed: one of ac, dc800, dc400)"


@pytest.mark.parametrize("args, word", [(("--tariff", "-1"), "tariff"), (("--hours", "9000"), "hours"),
                                        (("--sizing", "none"), "sizing")])
def test_cli_bad_compare_options(tmp_path, kit, cli, args, word):
    path = kit.write_case(tmp_path, dc_doc())
    out = tmp_path / "cmp.nc"
    assert word in kit.cli_error_line(cli("compare", path, *args, "-o", out), out)


# --- compare --------------------------------------------------------------------------------------

def test_compare_dataset(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, dc_doc())
    out = tmp_path / "cmp.nc"
    res = cli("compare", path, "--architectures", "dc800,ac", "--tariff", "50", "--hours", "8000", "-o", out)
    assert res.exit_code == 0, res.output
    assert "grid-to-chip efficiency" in res.stdout and "copper" in res.stdout
    ds = xr.open_dataset(out)
    assert list(ds.architecture.values) == ["dc800", "ac"] and list(ds.stage.values) == list(STAGES)
    # Ledger per architecture: stages sum to the losses, grid = IT + losses (1e-9, the project bound).
    np.testing.assert_allclose(ds.stage_loss_w.sum("stage"), ds.p_loss_w, rtol=1e-12)
    np.testing.assert_allclose(ds.p_grid_w, ds.p_it_w + ds.p_loss_w, rtol=1e-9)
    # Energy and cost by definition: P·h/1e6 MWh, × tariff; differences against the first.
    np.testing.assert_allclose(ds.annual_energy_mwh, ds.p_grid_w * 8000 / 1e6, rtol=1e-15)
    np.testing.assert_allclose(ds.annual_cost, ds.annual_energy_mwh * 50, rtol=1e-15)
    assert float(ds.d_annual_cost.sel(architecture="dc800")) == 0.0
    assert float(ds.d_p_grid_w.sel(architecture="ac")) == pytest.approx(float(ds.p_grid_w[1] - ds.p_grid_w[0]))
    # Stages live where the architecture has them.
    sl = ds.stage_loss_w
    assert float(sl.sel(architecture="dc800", stage="ups")) == 0.0 and float(sl.sel(architecture="ac", stage="ups")) > 0
    assert ds.attrs["tariff_per_mwh"] == 50.0 and ds.attrs["sizing_rule"] == "current_density"
    ds.close()


def test_compare_library_defaults_and_bad_values():
    ds = compare(dc_case(), "ac,dc800")
    assert ds.attrs["tariff_per_mwh"] == 80.0 and ds.attrs["hours_per_year"] == 8760.0
    with pytest.raises(CaseError, match="architecture named twice"):
        compare(dc_case(), "ac,ac")
    with pytest.raises(CaseError, match="tariff"):
        compare(dc_case(), "ac", tariff_per_mwh=float("nan"))


# --- dc400 (needs the bipolar solver) ---------------------------------------------------------------

@pytest.mark.skipif(bipolar_available(), reason="the bipolar solver is present")
def test_dc400_without_bipolar_solver_says_so():
    with pytest.raises(CaseError, match="bipolar DC solver"):
        gw.with_architecture(dc_case(), "dc400")


@pytest.mark.skipif(not bipolar_available(), reason="needs the ±400 VDC bipolar solver ([dc] system)")
def test_dc400_balanced_bipole_matches_dc800():
    # Racks pole to pole draw P/800 from each pole and nothing from the neutral: with the current-density rule
    # the poles get the 800 V sections, so the losses equal dc800's (a balanced bipole = two monopoles in
    # series). Tolerance: both solved to 1e-11 mismatch.
    arch = build_architecture(dc_case(), "dc400")
    t = arch.case.tables
    assert (t["bus"]["v_nominal_v"] == 400.0).all() and set(t["rack"]["pole"]) == {"bipolar"}
    assert arch.case.settings["dc"]["system"] == "bipolar"
    ds = gw.solve(arch.case)
    dc = gw.solve(gw.with_architecture(dc_case(), "dc800"))
    assert np.abs(ds["i_neutral_a"].values).max() <= 1e-9 * np.abs(ds["i_a"].values).max()
    assert ds.attrs["efficiency_grid_to_chip"] == pytest.approx(dc.attrs["efficiency_grid_to_chip"], rel=1e-9)
    np.testing.assert_allclose(conductor_mass_kg(arch), conductor_mass_kg(build_architecture(dc_case(), "dc800"))
                               * 3 / 2, rtol=1e-14)
