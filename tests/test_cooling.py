"""Physics of the liquid-cooling stage, each behaviour checked against something the solver did not compute:
a closed form worked out here, CoolProp, or the electrical solve without cooling.

- a case without [cooling] solves its electrical part exactly as before and has no cooling results;
- rack flows are the design heat over cp dT with cp from CoolProp (1.44 L/min/kW for water at 10 K);
- chips on single-rack loops sit at T_supply + dT/2 + R q_plate (closed form), whatever the class;
- a warmer facility class gives hotter chips and, with leakage, more IT power and warmer reuse heat;
- reverse return spreads the flow more evenly along a long row than direct return;
- the leakage fixed point is self-consistent (chip temperature and chip power recomputed by hand);
- heat recovery is capped at the heat available, and every watt from the grid becomes heat somewhere.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.models.cooling_plant import FACILITY_WATER_CLASSES

# The bundled case's leakage: an illustrative assumption (its [cooling] comments), 10 % of IT power at
# 60 degC, doubling every 50 K.
LEAKAGE = {"leakage_model": "exponential", "leakage_fraction": 0.10, "leakage_t_ref_k": 333.15,
           "leakage_k_per_k": math.log(2) / 50}
COLD_AMBIENT = {"ambient_t_k": 278.15}  # 5 degC: dry coolers reach every class down to W17 (+ 5 K approach)


def campus(rows=2, racks=4, kw=130.0, **cooling):
    """A campus of ``rows`` rows of ``racks`` racks of ``kw`` at the chips (one CDU per row) with ``cooling``
    settings."""
    return gw.build_campus(halls=1, rows_per_hall=rows, racks_per_row=racks, rack_it_power_kw=kw,
                           rack_power_basis="chips", cooling=cooling)


def plant_of(case):
    """The solver's loop topology and coolant properties for ``case`` (not in the results dataset)."""
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.cooling.stage import prepare_cooling

    return prepare_cooling(case, assemble(case).rack_shelf_loss)


# --- no [cooling]: the electrical solve alone, unchanged ---------------------------------------------

def test_case_without_cooling_is_the_electrical_solve_alone(tmp_path, kit):
    """The small conftest case (explicit tables, a DC/DC level) with and without a [cooling] section: the
    electrical results are bit for bit the same (no leakage, so the racks draw their p_it_w either way), and
    without it there is no cooling variable, dimension or attribute, nor a cooling part of the summary."""
    from gigawatt.solver.cooling.results import COOLING_VARIABLES, FACILITY_ATTRS
    from gigawatt.summary import format_summary

    doc = kit.base_doc()
    plain = gw.solve(gw.load_case(kit.write_case(tmp_path, doc, "plain.toml")))
    doc["cooling"] = {"facility_class": "W27", **COLD_AMBIENT}
    cooled = gw.solve(gw.load_case(kit.write_case(tmp_path, doc, "cooled.toml")))

    for name, var in plain.data_vars.items():
        np.testing.assert_array_equal(cooled[name].values, var.values, err_msg=name)
    for key in ("p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip", "energy_balance_residual",
                "iterations", "max_mismatch_a"):
        assert cooled.attrs[key] == plain.attrs[key], key

    assert not set(COOLING_VARIABLES) & set(plain.variables)
    assert not {"cooling_loop", "coolant_pipe", "plate"} & set(plain.dims)
    assert not set(FACILITY_ATTRS) & set(plain.attrs)
    assert "liquid cooling" not in format_summary(plain) and "liquid cooling" in format_summary(cooled)
    assert set(COOLING_VARIABLES) - {n for n, (dim, *_) in COOLING_VARIABLES.items() if dim == "plate"} \
        <= set(cooled.variables)


# --- flows from first principles: CoolProp --------------------------------------------------------

@pytest.mark.parametrize("coolant, coolprop, sourced", [
    ("water", "HEOS::Water", True), ("pg25", "INCOMP::MPG[0.25]", True), ("eg40", "INCOMP::MEG[0.4]", False),
])
def test_rack_flow_is_design_heat_over_cp_dt(coolant, coolprop, sourced):
    """Constant-flow loops: each loop's flow is its racks' liquid heat over cp dT, cp of the coolant at the
    design mean temperature (supply + dT/2) taken straight from CoolProp here. The solver interpolates a
    401-point CoolProp table linearly (error h^2/8 max|cp''|, below 1e-7 relative over these coolants), so
    1e-6. A rack alone on its loop gets exactly that flow, so its L/min per kW is 6e7 / (rho cp dT)
    (1e3 L/m^3, 60 s/min, 1e3 W/kW)."""
    from CoolProp.CoolProp import PropsSI

    dt = 10.0
    ds = gw.solve(campus(rows=3, racks=1, coolant=coolant, design_delta_t_k=dt))
    t_mean = ds.attrs["t_tcs_supply_k"] + dt / 2
    cp = PropsSI("C", "T", t_mean, "P", 101325.0, coolprop)
    rho = PropsSI("D", "T", t_mean, "P", 101325.0, coolprop)
    np.testing.assert_allclose(ds.loop_flow_kg_s.values, ds.rack_q_liquid_w.values / (cp * dt), rtol=1e-6)
    np.testing.assert_allclose(ds.coolant_flow_l_min_per_kw.values, 6e7 / (rho * cp * dt), rtol=2e-6)
    np.testing.assert_allclose(ds.t_coolant_out_k - ds.t_coolant_in_k, dt, rtol=1e-12)
    if sourced:
        # Issue 3 'Physics check (tier: published)': a direct-to-chip rack at a 10 K rise needs about 1.4-1.5
        # L/min per kW (about 1.5: Open Compute Project liquid-cooling guidelines, secondary; 1.44 for water
        # and 1.50 for PG25 derived from Q = m cp dT).
        assert 1.4 <= float(ds.coolant_flow_l_min_per_kw[0]) <= 1.5


# --- chip temperature: closed form, and the facility class -----------------------------------------

@pytest.mark.parametrize("cls", sorted(FACILITY_WATER_CLASSES))
def test_chip_temperature_closed_form_on_single_rack_loops(cls):
    """A rack alone on its loop (insulated pipes) gets its design flow exactly, so its coolant warms by
    design_delta_t_k and the chip (case at the plate's mid-stream coolant) sits at

        T_chip = T_class + approach + dT / 2 + R * liquid_fraction * P_it / chips_per_rack

    (the VRM heat to liquid rides in the coolant's rise, not through the plates). Rounding only: 1e-12."""
    approach, dt, r, lf, n, p = 4.0, 10.0, 0.01, 0.83, 72, 130e3
    ds = gw.solve(campus(rows=2, racks=1, facility_class=cls, cdu_approach_k=approach, design_delta_t_k=dt,
                         chip_r_th_k_per_w=r, liquid_fraction=lf, chips_per_rack=n, **COLD_AMBIENT))
    expected = FACILITY_WATER_CLASSES[cls] + approach + dt / 2 + r * lf * p / n
    np.testing.assert_allclose(ds.t_chip_k.values, expected, rtol=1e-12)
    np.testing.assert_allclose(ds.t_coolant_in_k.values, FACILITY_WATER_CLASSES[cls] + approach, rtol=1e-15)


def test_warmer_facility_class_hotter_chips_more_power_warmer_reuse():
    """Up the ASHRAE classes W17 -> W45 (28 K warmer facility water): chips run hotter by the class step.
    The loops carry their design flows whatever the class, so the chips' rise above the facility water is
    the same up to how the headers share the flow among the racks: that sharing moves the hottest chip by
    1.4 mK on these 4-rack rows, and the change of density and viscosity over the classes changes it by a
    fraction of that, hence 1e-3 K. With leakage the chips draw more power the hotter they run, and the
    heat for reuse comes warmer."""
    classes = sorted(FACILITY_WATER_CLASSES, key=FACILITY_WATER_CLASSES.get)
    plain = [gw.solve(campus(facility_class=c, **COLD_AMBIENT)) for c in classes]
    leaky = [gw.solve(campus(facility_class=c, **COLD_AMBIENT, **LEAKAGE)) for c in classes]

    t_chip = np.array([float(ds.t_chip_k.max()) for ds in plain])
    t_class = np.array([FACILITY_WATER_CLASSES[c] for c in classes])
    assert np.all(np.diff(t_chip) > 0)
    np.testing.assert_allclose(t_chip - t_class, t_chip[0] - t_class[0], rtol=0, atol=1e-3)

    p_it = np.array([float(ds.rack_p_it_w.sum()) for ds in leaky])
    t_chip_leaky = np.array([float(ds.t_chip_k.max()) for ds in leaky])
    t_reuse = np.array([ds.attrs["t_reuse_k"] for ds in leaky])
    assert np.all(np.diff(p_it) > 0) and np.all(np.diff(t_chip_leaky) > 0) and np.all(np.diff(t_reuse) > 0)
    # Leakage feedback makes the chips hotter than without it once they run above the reference 60 degC,
    # cooler below it (they draw less than p_it_w there).
    for ds_p, ds_l in zip(plain, leaky):
        above = ds_p.t_chip_k.values > LEAKAGE["leakage_t_ref_k"]
        assert np.all((ds_l.t_chip_k.values > ds_p.t_chip_k.values) == above)
    # Facility power follows: more IT power, more heat, more pumping and fan power.
    assert np.all(np.diff([ds.attrs["p_facility_w"] for ds in leaky]) > 0)


# --- hydraulics: reverse against direct return -----------------------------------------------------

def test_reverse_return_evens_the_flow_along_a_long_row():
    """A 40-rack row of 130 kW (5.2 MW, 23.4 m of header at 0.6 m pitch) on a 250 mm header (2.4 m/s at the
    CDU, a usual design velocity). With direct return the racks near the CDU see the largest pressure
    difference between the headers and the far ones the least, so the flow falls along the row; reverse
    return gives every rack a path of the same length: the row becomes mirror-symmetric (rack i and rack
    41 - i see the same pressures with supply and return swapped) and the spread shrinks."""
    kw = dict(rows=1, racks=40, header_diameter_m=0.25)
    direct = gw.solve(campus(reverse_return=False, **kw))
    reverse = gw.solve(campus(reverse_return=True, **kw))
    m_d, m_r = direct.coolant_flow_kg_s.values, reverse.coolant_flow_kg_s.values

    def spread(m):
        return (m.max() - m.min()) / m.mean()

    assert m_d.sum() == pytest.approx(m_r.sum(), rel=1e-12)  # the same design flow either way
    assert np.all(np.diff(m_d) < 0)  # the first tap (nearest the CDU) gets the most
    np.testing.assert_allclose(m_r, m_r[::-1], rtol=1e-9)  # solver tolerance 1e-13 of the flow, and rounding
    assert spread(m_d) > 0.05                                    # the header matters on this row ...
    assert spread(m_r) < 0.5 * spread(m_d)                       # ... and reverse return halves the spread
    # So do the chip temperatures (the starved racks run hottest).
    assert np.ptp(reverse.t_chip_k.values) < 0.5 * np.ptp(direct.t_chip_k.values)


# --- the leakage fixed point, recomputed by hand ---------------------------------------------------

@pytest.mark.parametrize("leakage, shelf_fraction", [
    (LEAKAGE, 0.0),
    (LEAKAGE, 0.5),  # shelf losses half to liquid: the fixed point iterates with the shelves' losses
    ({"leakage_model": "linear", "leakage_fraction": 0.15, "leakage_t_ref_k": 333.15, "leakage_k_per_k": 0.01},
     0.0),
])
def test_leakage_fixed_point_is_self_consistent(leakage, shelf_fraction):
    """From the results alone (plus the coolant's cp, which the results do not carry): each rack's chip
    temperature is T_in + q_liquid / (2 m cp) + R lf P / N with its own IT power P, and P is the leakage law
    at that temperature, P_ref ((1 - f) + f g(T)) with g = exp(k (T - T_ref)) or 1 + k (T - T_ref).
    Newton stops at a step of 4 ulp of T; 1e-9 leaves room for the sums here."""
    shelf = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
             "efficiency": [0.95, 0.97, 0.98, 0.975]}  # the bundled case's shelf curve
    r, lf, n = 0.015, 0.83, 72
    case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130,
                           shelf_loss_model="shelf", loss_models={"shelf": shelf},
                           cooling={"facility_class": "W40", "chip_r_th_k_per_w": r, "liquid_fraction": lf,
                                    "chips_per_rack": n, "shelf_liquid_fraction": shelf_fraction, **leakage})
    ds = gw.solve(case)
    cp = plant_of(case).tcs.cp_j_per_kg_k
    p, p_ref = ds.rack_p_it_w.values, ds.rack_p_it_ref_w.values
    t = ds.t_coolant_in_k.values + ds.rack_q_liquid_w.values / (2 * ds.coolant_flow_kg_s.values * cp) + r * lf * p / n
    np.testing.assert_allclose(ds.t_chip_k.values, t, rtol=1e-9)
    f, k, t_ref = leakage["leakage_fraction"], leakage["leakage_k_per_k"], leakage["leakage_t_ref_k"]
    g = np.exp(k * (t - t_ref)) if leakage["leakage_model"] == "exponential" else 1 + k * (t - t_ref)
    np.testing.assert_allclose(p, p_ref * ((1 - f) + f * g), rtol=1e-9)
    # The chips of this W40 plant run above 60 degC: leakage adds power (the feedback is on).
    assert np.all(p > p_ref)
    # q_liquid is built from the fixed-point power and the electrical losses at that power.
    vlf = lf  # default: VRM share = IT share
    np.testing.assert_allclose(ds.rack_q_liquid_w, lf * p + vlf * ds.vrm_loss_w + shelf_fraction * ds.shelf_loss_w,
                               rtol=1e-13)


# --- heat recovery and where the heat comes from ----------------------------------------------------

def test_recovery_demand_is_capped_by_the_heat_available():
    base = gw.solve(campus())
    available = base.attrs["q_available_w"]
    some = gw.solve(campus(recovery_demand_w=0.25 * available))
    all_of_it = gw.solve(campus(recovery_demand_w=10 * available))

    assert base.attrs["q_recovered_w"] == 0 and base.attrs["q_rejected_w"] == pytest.approx(available, rel=1e-15)
    # Recovery changes nothing upstream of the facility return: same heat available.
    for ds in (some, all_of_it):
        assert ds.attrs["q_available_w"] == pytest.approx(available, rel=1e-15)
    assert some.attrs["q_recovered_w"] == pytest.approx(0.25 * available, rel=1e-15)
    assert some.attrs["q_rejected_w"] == pytest.approx(0.75 * available, rel=1e-12)
    assert all_of_it.attrs["q_recovered_w"] == available and all_of_it.attrs["q_rejected_w"] == 0
    # Dry-cooler fans on the fan laws: sized on all the heat (0.02 W/W at full speed, the speed they would need
    # at 27 degC, the W32 supply less the 5 K approach); at the default 25 degC they hold the set-point at part
    # speed, the power in its cube; less heat rejected, lower speed; none when all heat is recovered. (That the
    # speed rejects exactly the heat: tests/test_cooling_year.py, against the effectiveness closed form.)
    for ds in (base, some, all_of_it):
        a = ds.attrs
        assert a["dry_cooler_design_fan_w"] == pytest.approx(0.02 * available, rel=1e-15)
        assert a["dry_cooler_fan_w"] == pytest.approx(a["dry_cooler_design_fan_w"] * a["dry_cooler_speed"] ** 3,
                                                      rel=1e-14)
    assert all_of_it.attrs["dry_cooler_speed"] == 0 < some.attrs["dry_cooler_speed"] < base.attrs["dry_cooler_speed"] < 1
    fans = [ds.attrs["p_fans_w"] for ds in (base, some, all_of_it)]
    assert fans[0] - fans[2] == pytest.approx(base.attrs["dry_cooler_fan_w"], rel=1e-12)  # the air fans the same
    assert all_of_it.attrs["pue"] < some.attrs["pue"] < base.attrs["pue"]


def test_every_watt_from_the_grid_becomes_heat(tmp_path, kit):
    """Explicit tables with a DC/DC level (conftest base case): rack heat to liquid and air plus the
    stations', conductors' and converter's losses add up to the grid power; per rack, liquid + air = IT +
    VRM + shelf power, split by the liquid shares."""
    doc = kit.base_doc()
    doc["cooling"] = {"facility_class": "W27", "liquid_fraction": 0.8, "vrm_liquid_fraction": 0.6,
                      "shelf_liquid_fraction": 0.3, **COLD_AMBIENT}
    ds = gw.solve(gw.load_case(kit.write_case(tmp_path, doc)))
    other = ds.stage_loss_w.sel(stage=["ac_dc_station", "distribution", "dc_dc_converter"])
    assert float(other.sel(stage="dc_dc_converter")) > 0 and float(other.sel(stage="ac_dc_station")) > 0
    total = float(ds.rack_q_liquid_w.sum() + ds.rack_q_air_w.sum() + other.sum())
    assert total == pytest.approx(ds.attrs["p_grid_w"], rel=1e-12)
    assert ds.attrs["q_liquid_w"] + ds.attrs["q_air_w"] == pytest.approx(ds.attrs["p_grid_w"], rel=1e-12)
    np.testing.assert_allclose(ds.rack_q_liquid_w, 0.8 * ds.rack_p_it_w + 0.6 * ds.vrm_loss_w + 0.3 * ds.shelf_loss_w,
                               rtol=1e-14)
    np.testing.assert_allclose(ds.rack_q_air_w, 0.2 * ds.rack_p_it_w + 0.4 * ds.vrm_loss_w + 0.7 * ds.shelf_loss_w,
                               rtol=1e-14)


def test_cold_plate_resistance_from_the_channel_correlation():
    """With the channels given, each plate's resistance is conduction + the convective resistance of
    ``cold_plate_resistance`` at the plate's own flow (its share of the rack's), and the chip temperature is
    the closed form T_in + q_liquid / (2 m cp) + R lf P / N (leakage off)."""
    from gigawatt.models.chips import cold_plate_resistance
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.cooling.stage import prepare_cooling

    geo = {"cold_plate_channels": 50, "cold_plate_channel_d_h_m": 0.5e-3, "cold_plate_channel_area_m2": 5e-7,
           "cold_plate_wetted_area_m2": 0.006, "chip_r_th_k_per_w": 0.004}
    case = gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=1, rack_it_power_kw=130, cooling=geo)
    ds = gw.solve(case)
    plant = prepare_cooling(case, assemble(case).rack_shelf_loss)
    s, f = plant.settings, plant.tcs
    m = float(ds.coolant_flow_kg_s[0])
    r = cold_plate_resistance(m / s["chips_per_rack"], 50.0, 0.5e-3, 5e-7, 0.006, f.viscosity_pa_s,
                              f.cp_j_per_kg_k, f.conductivity_w_per_m_k, s["header_roughness_m"] / 0.5e-3,
                              s["cold_plate_nu_laminar"], 0.004)
    assert plant.unit_r_th_k_per_w[0] == pytest.approx(r, rel=1e-14)
    p = float(ds.rack_p_it_w[0])
    expected = (float(ds.t_coolant_in_k[0]) + float(ds.rack_q_liquid_w[0]) / (2 * m * f.cp_j_per_kg_k)
                + r * s["liquid_fraction"] * p / s["chips_per_rack"])
    assert float(ds.t_chip_k[0]) == pytest.approx(expected, rel=1e-12)
    assert r > 0.004  # the convective part adds to the conduction part
