"""Bad input to the liquid-cooling stage (issue 3, "Bad input"): every case below is a small campus written
as a TOML file and loaded with ``gw.load_case``, so the error must name the file, the element, the field
and the value; a few go through ``gigawatt run`` too (exit status 2, one ``error:`` line, no traceback).

Where the system still runs but outside its envelope (a chip above its temperature limit) it is not an
error: the rack is flagged in ``chip_over_limit`` and named in the summary's warnings.

Each case starts from the valid campus of :func:`cooling_doc` and breaks one thing.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError, ConvergenceError

# Cooling settings of the base campus: the bundled case's figures (sources cited in its comments), no
# leakage so that each case below switches on only what it tests.
BASE_COOLING = {"coolant": "pg25", "facility_class": "W32", "cdu_approach_k": 4.0, "design_delta_t_k": 10.0,
                "ambient_t_k": 298.15}


def cooling_doc(cooling: dict | None = None, *, rows: int = 2, racks: int = 4, extra_racks=None) -> dict:
    """A campus of ``rows`` rows of ``racks`` racks of 130 kW at the chips (one CDU per row) with BASE_COOLING
    updated by ``cooling``, as the dict a TOML case file parses to."""
    doc = {"case": {"name": "cooling-bad-input"},
           "campus": {"halls": 1, "rows_per_hall": rows, "racks_per_row": racks, "rack_it_power_kw": 130.0,
                      "rack_power_basis": "chips"},
           "cooling": {**BASE_COOLING, **(cooling or {})}}
    if extra_racks:
        doc["rack"] = extra_racks
    return doc


def load(tmp_path, kit, cooling: dict | None = None, **kw):
    return gw.load_case(kit.write_case(tmp_path, cooling_doc(cooling, **kw)))


def solve_error(tmp_path, kit, cooling, error=CaseError) -> str:
    """The message of the error that loading and solving the base campus with ``cooling`` raises."""
    path = kit.write_case(tmp_path, cooling_doc(cooling))
    with pytest.raises(error) as info:
        gw.solve(gw.load_case(path))
    message = str(info.value)
    assert not re.search(r"\bnan\b", message, re.IGNORECASE), message  # no NaN in the message
    return message


def assert_names(message: str, *words: str) -> None:
    for w in words:
        assert w in message, f"{w!r} missing from: {message}"


# --- non-physical geometry, unknown names: caught by the schema bounds when the case is loaded ------

@pytest.mark.parametrize("field, value, allowed", [
    ("header_diameter_m", 0.0, "(0, 5] m"),
    ("header_diameter_m", -0.15, "(0, 5] m"),
    ("header_segment_length_m", 0.0, "(0, 1000] m"),
    ("header_feed_length_m", -20.0, "(0, 10000] m"),
    ("rack_hose_diameter_m", 0.0, "(0, 1] m"),
    ("rack_hose_length_m", -6.0, "(0, 1000] m"),
    ("rack_dp_design_pa", -1.0, "[0, 1e7] Pa"),
    ("design_delta_t_k", 0.0, "(0, 40] K"),
])
def test_non_physical_geometry_refused_on_load(tmp_path, kit, field, value, allowed):
    path = kit.write_case(tmp_path, cooling_doc({field: value}))
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    assert_names(str(info.value), str(path), "[cooling]", f"field '{field}'", f"got {value!r}", allowed)


def test_non_physical_geometry_in_other_units_named_as_written(tmp_path, kit):
    """A diameter given in mm is named in mm (the user's spelling), with its value as written, as element
    tables do."""
    path = kit.write_case(tmp_path, cooling_doc({"header_diameter_mm": -150.0}))
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    assert_names(str(info.value), str(path), "[cooling]", "header_diameter_mm", "-150")


@pytest.mark.parametrize("field, value", [("coolant", "glycol"), ("facility_coolant", "brine"),
                                          ("facility_class", "W50"), ("leakage_model", "quadratic")])
def test_unknown_names_refused_with_the_choices(tmp_path, kit, field, value):
    path = kit.write_case(tmp_path, cooling_doc({field: value}))
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    message = str(info.value)
    assert_names(message, str(path), "[cooling]", f"field '{field}'", repr(value))
    choices = {"coolant": "pg25", "facility_coolant": "eg40", "facility_class": "W45", "leakage_model": "linear"}
    assert choices[field] in message  # the allowed set is listed


# --- a coolant driven out of its property range --------------------------------------------------

def test_rack_outlet_above_boiling_refused(tmp_path, kit):
    """Water supplied at 90 degC (facility 82 degC, ambient 27 degC) with a 15 K design rise leaves the racks
    at about 105 degC, above its boiling point at 1 atm (373.17 K, CoolProp): the solver checks the
    hottest coolant temperature of the loops against the table's limits."""
    message = solve_error(tmp_path, kit, {"coolant": "water", "facility_supply_t_k": 355.15,
                                          "tcs_supply_t_k": 363.15, "design_delta_t_k": 15.0, "ambient_t_k": 300.0})
    assert_names(message, str(tmp_path / "case.toml"), "coolant 'water'", "t_coolant_k", "boiling", "at rack '")
    got = float(re.search(r"got ([\d.]+)", message).group(1))
    # 90 degC + 15 K design rise = 378.15 K at the design flow; the headers redistribute the flow a little
    # (reverse return, 8 racks), so within 0.1 K of it.
    assert got == pytest.approx(378.15, abs=0.1)


def test_glycol_beyond_coolprop_fit_refused(tmp_path, kit):
    """PG40 supplied at 90 degC with a 25 K rise: its design mean temperature, 102.5 degC, is above the upper
    end of CoolProp's fit for MPG (373.15 K)."""
    message = solve_error(tmp_path, kit, {"coolant": "pg40", "facility_supply_t_k": 358.15,
                                          "tcs_supply_t_k": 363.15, "design_delta_t_k": 25.0, "ambient_t_k": 300.0})
    assert_names(message, str(tmp_path / "case.toml"), "coolant 'pg40'", "tcs_supply_t_k", "373.15")


def test_glycol_beyond_coolprop_fit_names_what_is_out_of_range(tmp_path, kit):
    """The set-point itself (363.15 K) is valid; the design mean temperature the properties are taken at,
    363.15 + 25 / 2 = 375.65 K, is not: the message names that expression and its value."""
    message = solve_error(tmp_path, kit, {"coolant": "pg40", "facility_supply_t_k": 358.15,
                                          "tcs_supply_t_k": 363.15, "design_delta_t_k": 25.0, "ambient_t_k": 300.0})
    assert "field 'tcs_supply_t_k + design_delta_t_k / 2'" in message, message
    assert "got 375.65" in message, message


def test_water_below_freezing_set_point_refused_on_load(tmp_path, kit):
    """Water cannot be supplied at 0 degC: the set-point bounds start at 1 degC (274.15 K)."""
    path = kit.write_case(tmp_path, cooling_doc({"coolant": "water", "facility_supply_t_k": 273.15,
                                                 "tcs_supply_t_k": 273.65}))
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    assert_names(str(info.value), str(path), "[cooling]", "field 'facility_supply_t_k'", "got 273.15",
                 "[274.15, 363.15] K")


# Winter: water supplied at 3 degC through 200 m of bare feed pipe (26 W/(m K), a 150 mm steel pipe in
# wind) in a -30 degC space. The supply feed loses a tenth of its temperature difference to the space,
# exp(-26 * 200 / (m cp)) with m cp = 0.52 MW / 10 K, about 3.5 K: the water reaches the racks below 0 degC.
# The racks' heat still brings the loop back above its set-point, so the CDUs have a duty to take.
FREEZING = {"coolant": "water", "facility_coolant": "pg25", "facility_supply_t_k": 274.15,
            "tcs_supply_t_k": 276.15, "ambient_t_k": 263.15, "room_t_k": 243.15, "pipe_u_w_per_m_k": 26.0,
            "header_feed_length_m": 200.0, "cdu_max_flow_ratio": 10.0}


def test_water_freezing_in_cold_pipes_refused(tmp_path, kit):
    path = kit.write_case(tmp_path, cooling_doc(FREEZING))
    try:
        ds = gw.solve(gw.load_case(path))
    except CaseError as err:
        assert_names(str(err), str(path), "coolant 'water'", "273.16", "triple point")
        return
    t_min = float(ds.t_coolant_in_k.min())
    assert t_min >= 273.16, f"solved with water at {t_min:.2f} K at a rack inlet"


# The same cold space with part-loaded racks (80 kW) and PG25, which does not freeze there: the pipes
# lose more heat than the racks give, so each loop comes back to its CDU colder than its set-point. A CDU
# can only cool (its facility water is colder still), so it cannot hold the set-point.
COLD_PIPES = {"coolant": "pg25", "facility_coolant": "pg25", "facility_supply_t_k": 275.15,
              "tcs_supply_t_k": 278.15, "ambient_t_k": 263.15, "room_t_k": 243.15, "pipe_u_w_per_m_k": 26.0,
              "header_feed_length_m": 200.0}


def test_loop_colder_than_its_set_point_refused(tmp_path, kit):
    doc = cooling_doc(COLD_PIPES)
    doc["campus"]["rack_it_power_kw"] = 80.0
    path = kit.write_case(tmp_path, doc)
    try:
        ds = gw.solve(gw.load_case(path))
    except CaseError as err:
        assert_names(str(err), str(path), "CDU of cooling loop 'H1-R", "tcs_supply_t_k")
        return
    assert (ds.cdu_duty_w >= 0).all(), f"CDU duties {ds.cdu_duty_w.values} W"
    assert ds.attrs["t_facility_return_k"] >= ds.attrs["t_facility_supply_k"]


# --- pumps, CDUs, the second law, dry coolers ----------------------------------------------------

def test_pump_too_weak_says_by_how_much(tmp_path, kit):
    """A flat pump curve (b = 0) with a 5 m shut-off head at rated speed cannot give the loop its design
    flow: it falls short by the loop's head minus 5 m. The loop's head does not depend on the pump (the
    flow is the design flow), so it is read from a solve of the same campus with auto-sized pumps."""
    need = float(gw.solve(load(tmp_path, kit)).pump_head_m.max())
    message = solve_error(tmp_path, kit, {"pump_h0_m": 5.0, "pump_b_s2_m5": 0.0})
    assert_names(message, str(tmp_path / "case.toml"), "pump of cooling loop 'H1-R", "field 'pump_h0_m'",
                 "got 5.0")
    short = float(re.search(r"short by ([\d.]+) m", message).group(1))
    assert short == pytest.approx(need - 5.0, abs=0.005 + 1e-9)  # printed to 2 decimals
    allowed = float(re.search(r">= ([\d.]+) m", message).group(1))
    assert allowed == pytest.approx(need, abs=0.005 + 1e-9)       # with b = 0, H0 must reach the head itself


def test_pump_speed_limit_says_by_how_much(tmp_path, kit):
    """An auto-sized pump (shut-off head H0 = 1.4 H and b Q^2 = 0.2 H at the loop's design head H, the
    sizing rule of solver/cooling/stage.py) runs its design point at sqrt(1.2 / 1.4) = 0.926 of rated speed;
    drives capped at 0.9 leave it short of head, and the message says by how much, in metres."""
    need = float(gw.solve(load(tmp_path, kit)).pump_head_m.max())
    message = solve_error(tmp_path, kit, {"pump_max_speed": 0.9})
    assert_names(message, "pump of cooling loop 'H1-R", "0.9 of rated")
    short = float(re.search(r"short by ([\d.]+) m", message).group(1))
    # H0 = 1.4 H, b Q^2 = 0.2 H: at n = 0.9 the pump gives (1.4 * 0.81 - 0.2) H = 0.934 H, short by 0.066 H.
    assert short == pytest.approx((1.2 - 1.4 * 0.81) * need, abs=0.005 + 1e-9)


@pytest.mark.parametrize("cooling, why", [
    # Valve at design flow only: the loop's duty is its design heat plus the pump's shaft heat, a little
    # more than the exchanger sized for the design point passes at that facility flow.
    ({"cdu_max_flow_ratio": 1.0}, "1 × design flow"),
    # A 0.5 K approach with the valve at design flow: a needs an NTU of 20 at C_r = 1.
    ({"cdu_max_flow_ratio": 1.0, "cdu_approach_k": 0.5}, "exceeds"),
])
def test_cdu_cannot_hold_its_set_point(tmp_path, kit, cooling, why):
    message = solve_error(tmp_path, kit, cooling)
    t_set = 305.15 + cooling.get("cdu_approach_k", 4.0)
    assert_names(message, str(tmp_path / "case.toml"), "CDU of cooling loop 'H1-R", "field 'tcs_supply_t_k'",
                 f"got {t_set!r}", "cdu_max_flow_ratio", why)


@pytest.mark.parametrize("tcs_supply_t_k", [305.15, 300.0])
def test_second_law_set_point_not_above_facility_supply(tmp_path, kit, tcs_supply_t_k):
    """W32 facility water is at 305.15 K: a technology loop at or below it would need heat to flow from cold
    to hot through the CDU."""
    message = solve_error(tmp_path, kit, {"tcs_supply_t_k": tcs_supply_t_k})
    assert_names(message, str(tmp_path / "case.toml"), "[cooling]", "field 'tcs_supply_t_k'",
                 f"got {tcs_supply_t_k!r}", "> 305.15 K")


def test_dry_coolers_below_ambient_plus_approach(tmp_path, kit):
    """W17 facility water (17 degC) cannot come from dry coolers at 25 degC ambient with a 5 K approach."""
    message = solve_error(tmp_path, kit, {"facility_class": "W17", "ambient_t_k": 298.15})
    assert_names(message, str(tmp_path / "case.toml"), "[cooling] dry coolers", "field 'facility_supply_t_k'",
                 "got 290.15", ">= 303.15 K")


def test_dry_coolers_not_needed_when_all_heat_is_recovered(tmp_path, kit):
    """The same W17 plant at 25 degC ambient is fine when the heat-recovery exchanger takes every watt: the
    dry coolers then reject nothing and need no approach."""
    ds = gw.solve(load(tmp_path, kit, {"facility_class": "W17", "ambient_t_k": 298.15,
                                        "recovery_demand_w": 1e9}))
    assert ds.attrs["q_rejected_w"] == 0.0
    assert ds.attrs["q_recovered_w"] == ds.attrs["q_available_w"] > 0


@pytest.mark.parametrize("model", ["exponential", "linear"])
def test_leakage_model_without_coefficient(tmp_path, kit, model):
    message = solve_error(tmp_path, kit, {"leakage_model": model, "leakage_fraction": 0.1})
    assert_names(message, str(tmp_path / "case.toml"), "[cooling]", "field 'leakage_k_per_k'", "got 0.0", "> 0")


# --- thermal runaway ------------------------------------------------------------------------------

def runaway_theta(r_th_k_per_w: float, *, p_ref_w=130e3, f=0.3, k=0.05, t_ref_k=333.15, t_sup_k=309.15,
                  dt_k=10.0, lf=0.83, chips=72) -> float:
    r"""Runaway parameter :math:`\theta = k b P_l e^{k (a + b P_d - T_{ref})}` of a rack alone on its loop.

    Its chips sit at :math:`T = a + b P(T)` with :math:`a` the supply temperature (insulated pipes) and
    :math:`b = \Delta T / (2 P_{ref}) + R\, l_f / N` (half the coolant rise at the design flow, which a
    rack alone on its loop gets exactly, plus the cold plate); :math:`P = P_d + P_l e^{k (T - T_{ref})}`. A
    fixed point exists iff :math:`\theta \le 1/e` (the tangency of the exponential; Lambert W).
    """
    b = dt_k / (2 * p_ref_w) + r_th_k_per_w * lf / chips
    return k * b * f * p_ref_w * math.exp(k * (t_sup_k + b * (1 - f) * p_ref_w - t_ref_k))


def r_for_theta(target: float) -> float:
    """Cold-plate resistance [K/W] at which :func:`runaway_theta` equals ``target`` (bisection; it rises
    monotonically with R)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if runaway_theta(mid) < target else (lo, mid)
    return hi


LEAKY = {"leakage_model": "exponential", "leakage_fraction": 0.3, "leakage_k_per_k": 0.05,
         "leakage_t_ref_k": 333.15, "vrm_liquid_fraction": 0.0}  # VRM heat to air: b as in runaway_theta


def test_thermal_runaway_names_the_rack(tmp_path, kit):
    """A degraded thermal interface (R 10 % past the runaway bound, about 0.05 K/W per plate) under 30 %
    leakage doubling every 14 K: no steady chip temperature exists; the error names the first rack."""
    r = 1.1 * r_for_theta(1 / math.e)
    path = kit.write_case(tmp_path, cooling_doc({**LEAKY, "chip_r_th_k_per_w": r}, rows=3, racks=1))
    with pytest.raises(ConvergenceError) as info:
        gw.solve(gw.load_case(path))
    assert_names(str(info.value), "rack 'H1-R1-rack1'", "thermal runaway")
    assert info.value.details["rack"] == "H1-R1-rack1"


def test_thermal_runaway_bound_is_where_the_closed_form_puts_it(tmp_path, kit):
    """Just inside the bound (theta = 0.95 / e) the same racks solve, with chips hotter than they would be
    without leakage feedback; just outside (1.05 / e) they run away."""
    inside = gw.solve(load(tmp_path, kit, {**LEAKY, "chip_r_th_k_per_w": r_for_theta(0.95 / math.e)},
                           rows=3, racks=1))
    assert np.isfinite(inside.t_chip_k).all() and (inside.rack_p_it_w > inside.rack_p_it_ref_w).all()
    with pytest.raises(ConvergenceError):
        gw.solve(load(tmp_path, kit, {**LEAKY, "chip_r_th_k_per_w": r_for_theta(1.05 / math.e)}, rows=3, racks=1))


def test_linear_leakage_below_its_validity_refused(tmp_path, kit):
    cooling = {"leakage_model": "linear", "leakage_fraction": 0.5, "leakage_k_per_k": 0.05,
               "leakage_t_ref_k": 373.15}
    path = kit.write_case(tmp_path, cooling_doc(cooling))
    try:
        ds = gw.solve(gw.load_case(path))
    except (CaseError, ConvergenceError) as err:
        assert_names(str(err), "leakage")
        return
    raise AssertionError(f"solved: rack IT power {float(ds.p_it_w.min()):.0f} W, PUE {ds.attrs['pue']}")


# --- racks without liquid heat -------------------------------------------------------------------

@pytest.mark.parametrize("what", ["idle-row", "all-air"])
def test_loop_without_liquid_heat(tmp_path, kit, what):
    """An unpopulated row, or all-air cooling (liquid_fraction = vrm_liquid_fraction = 0): both allowed by
    the schema, so they solve. (Until a8463c8 the zero design flow failed the hydraulic solve with
    'largest pressure residual 1.73e-322 Pa', or the thermal sweep with 'node 17: ... no inflow'.)"""
    if what == "all-air":
        case = load(tmp_path, kit, {"liquid_fraction": 0.0, "vrm_liquid_fraction": 0.0})
    else:
        built = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130, cooling={})
        racks = built.tables["rack"].copy()
        racks["p_it_w"] = np.where(racks["cooling_loop"] == "H1-R2", 0.0, 130e3)
        case = gw.make_case({**built.tables, "rack": racks}, cooling=dict(BASE_COOLING))
    ds = gw.solve(case)
    # The loops without liquid heat idle (no flow, no pump power, no CDU duty); the rest of the plant closes
    # its ledgers as usual.
    loop_of_rack = case.tables["rack"]["cooling_loop"].to_numpy(object)
    q_loop = {name: ds.rack_q_liquid_w.values[loop_of_rack == name].sum() for name in ds.cooling_loop.values}
    idle = np.array([q_loop[name] == 0 for name in ds.cooling_loop.values])
    assert idle.any()
    assert (ds.loop_flow_kg_s.values[idle] == 0).all() and (ds.pump_power_w.values[idle] == 0).all()
    assert (ds.cdu_duty_w.values[idle] == 0).all()
    assert np.isfinite(ds.attrs["pue"]) and ds.attrs["heat_balance_residual"] <= 1e-9


# --- out of the envelope but running: a flag and a warning, not an error ----------------------------

HOT_RACK = [{"id": "hot", "bus": "H1-R1-T4", "p_it_kw": 200.0, "p_it_basis": "chips", "vrm_efficiency": 0.9,
             "cooling_loop": "H1-R1"}]


def test_chip_above_limit_is_a_flag_and_a_warning(tmp_path, kit):
    """A 200 kW rack beside 130 kW ones: its plates carry 200/130 of the heat, so its chips run about 8 K
    hotter (0.01 K/W * 0.83 * 70 kW / 72 plates), above a 60 degC limit the others stay under."""
    from gigawatt.summary import format_summary

    ds = gw.solve(load(tmp_path, kit, {"chip_t_max_k": 333.15}, extra_racks=HOT_RACK))
    over = ds.rack.values[ds.chip_over_limit.values.astype(bool)]
    assert list(over) == ["hot"]
    assert float(ds.t_chip_k.sel(rack="hot")) > 333.15 > float(ds.t_chip_k.drop_sel(rack="hot").max())
    warnings = format_summary(ds).split("\nwarnings\n")[1]
    assert "rack 'hot'" in warnings and "60.0 °C limit" in warnings
    assert "H1-R1-rack1" not in warnings


# --- through the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("cooling, words", [
    ({"header_diameter_m": 0.0}, ["[cooling]", "header_diameter_m", "got 0.0"]),
    ({"pump_h0_m": 5.0, "pump_b_s2_m5": 0.0}, ["pump of cooling loop", "pump_h0_m", "got 5.0", "short by"]),
    ({"facility_class": "W17"}, ["dry coolers", "facility_supply_t_k", "got 290.15"]),
])
def test_cli_refuses_with_one_error_line(tmp_path, kit, cli, cooling, words):
    path = kit.write_case(tmp_path, cooling_doc(cooling))
    res = cli("run", path, "-o", tmp_path / "out.nc")
    assert_names(kit.cli_error_line(res, tmp_path / "out.nc"), str(path), *words)


def test_cli_runaway_is_an_error_naming_the_rack(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, cooling_doc({**LEAKY, "chip_r_th_k_per_w": 1.1 * r_for_theta(1 / math.e)},
                                                rows=3, racks=1))
    res = cli("run", path, "--no-output")
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and "Traceback" not in res.output
    assert "rack 'H1-R1-rack1'" in res.stderr and "thermal runaway" in res.stderr


def test_cli_chip_above_limit_runs_and_warns(tmp_path, kit, cli):
    path = kit.write_case(tmp_path, cooling_doc({"chip_t_max_c": 60.0}, extra_racks=HOT_RACK))
    res = cli("run", path, "--no-output")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "limit exceeded in 1 racks" in text
    assert "\nwarnings\n" in text and "rack 'hot' chips at" in text.split("\nwarnings\n")[1]
