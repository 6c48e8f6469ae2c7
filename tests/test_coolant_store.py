"""The coolant tables stored with the package are exactly what CoolProp computes now; water's tables at
other pressures (interpolated in pressure) against CoolProp directly and against an independent IAPWS-95
implementation (the ``iapws`` package)."""
import math

import CoolProp
import numpy as np
import pytest

from gigawatt.errors import CaseError
from gigawatt.models.coolant import COOLANTS, P_REFERENCE_PA, PROPERTY_FIELDS, coolant_limits, coolant_properties
from gigawatt.models.coolant_store import (WATER_PRESSURES_PA, fresh_arrays, fresh_table, stored_arrays,
                                           stored_coolprop_version, stored_table)


def test_store_was_made_with_the_installed_coolprop():
    assert stored_coolprop_version() == CoolProp.__version__, \
        "regenerate with: python -m gigawatt.models.coolant_store"


@pytest.mark.parametrize("name", list(COOLANTS))
def test_stored_arrays_equal_coolprop(name):
    # Bit for bit, every pressure of water included: the file is a cache of CoolProp's output, not an
    # approximation of it.
    stored, fresh = stored_arrays(name), fresh_arrays(name)
    assert sorted(stored) == sorted(fresh)
    for key in fresh:
        np.testing.assert_array_equal(stored[key], fresh[key], err_msg=key)  # NaN == NaN here


@pytest.mark.parametrize("name", list(COOLANTS))
def test_stored_table_at_1_atm_equals_coolprop(name):
    stored, fresh = stored_table(name), fresh_table(name)
    np.testing.assert_array_equal(stored.t_k, fresh.t_k)
    for field in PROPERTY_FIELDS:
        np.testing.assert_array_equal(getattr(stored, field), getattr(fresh, field), err_msg=field)
    from dataclasses import asdict

    np.testing.assert_equal(asdict(stored.limits), asdict(fresh.limits))
    np.testing.assert_equal(stored.p_sat_pa, fresh.p_sat_pa)
    assert stored.coolprop_name == fresh.coolprop_name


def test_water_is_iapws95_not_the_incompressible_fit():
    assert stored_table("water").coolprop_name == "HEOS::Water"
    # The figure that motivated the change: c_p at 55 degC, 1 atm, is 4183.0 J/(kg K) by IAPWS-95 (the
    # incompressible fit gave 4171.4).
    cp = float(coolant_properties(stored_table("water"), 328.15)["cp_j_per_kg_k"])
    assert cp == pytest.approx(4183.0, abs=0.05)


@pytest.mark.parametrize("p_pa", WATER_PRESSURES_PA[1:6])
def test_water_at_a_stored_pressure_is_that_table_exactly(p_pa):
    # The default district-heating plant (2 bar gauge) reads a stored table, not an interpolation.
    stored, fresh = stored_table("water", p_pa), fresh_table("water", p_pa)
    liquid = stored.t_k <= stored.limits.t_high_k
    for field in PROPERTY_FIELDS:
        np.testing.assert_array_equal(getattr(stored, field)[liquid], getattr(fresh, field)[liquid], err_msg=field)


# Interpolation in pressure (linear) against CoolProp's direct value, at the middle of each stored step
# (where the error of linear interpolation peaks, about 1.5e-6 (dp / 1 MPa)^2 relative): the bounds the
# coolant_store module states, 4e-7 up to 21 bar, 1e-5 up to 101 bar, 1e-3 up to 1000 bar.
MIDDLES = [(0.5 * (a + b), 4e-7 if b <= 21.02e5 else 1e-5 if b <= 101.02e5 else 1e-3)
           for a, b in zip(WATER_PRESSURES_PA[:-1], WATER_PRESSURES_PA[1:])]


@pytest.mark.parametrize("p_pa, rtol", MIDDLES)
def test_water_between_stored_pressures_is_within_the_stated_bound(p_pa, rtol):
    stored, fresh = stored_table("water", p_pa), fresh_table("water", p_pa)
    liquid = stored.t_k <= stored.limits.t_high_k
    assert liquid.sum() > 400
    for field in PROPERTY_FIELDS:
        got, ref = getattr(stored, field)[liquid], getattr(fresh, field)[liquid]
        worst = float(np.max(np.abs(got / ref - 1.0)))
        assert worst <= rtol, (field, worst)


def test_pressure_matters_for_water_and_not_for_glycol():
    # Why water has a pressure axis: at 11 bar its c_p is 0.1 % below the 1-atm value near 0 degC.
    low, high = stored_table("water"), stored_table("water", 11.01325e5)
    liquid = low.t_k <= low.limits.t_high_k
    change = np.abs(high.cp_j_per_kg_k[liquid] / low.cp_j_per_kg_k[liquid] - 1.0)
    assert 1e-3 < change.max() < 1.2e-3
    assert stored_table("pg25", 11.01325e5).cp_j_per_kg_k is stored_table("pg25").cp_j_per_kg_k


def test_water_boiling_limit_follows_the_pressure():
    for p_pa in (1.5e5, 301325.0, 4.5e5):
        assert stored_table("water", p_pa).limits.t_high_k == pytest.approx(coolant_limits("water", p_pa).t_boil_k,
                                                                            abs=1e-3)


# Independent IAPWS-95 implementation: the iapws package (J. Rodriguez Romero, pure Python; IAPWS-95 with the
# IAPWS 2008 viscosity and IAPWS 2011 conductivity, the formulations CoolProp uses). Points off the temperature
# grid and, but for the stored ones, between stored pressures, so both interpolations are in the comparison.
# Tolerances: the two implementations agree to 1.5e-7 in density, 3e-7 in c_p, 5e-7 in conductivity and
# 8.1e-6 in viscosity (measured at 1 atm to 16 bar, up to 9.2e-6 at 100 bar); the bounds below are those
# with about 2x margin, all far below IAPWS's own uncertainties (0.1 % c_p, 1-2 % viscosity and conductivity).
IAPWS_RTOL = {"density_kg_per_m3": 1e-6, "cp_j_per_kg_k": 3e-6, "viscosity_pa_s": 2e-5,
              "conductivity_w_per_m_k": 3e-6}


@pytest.mark.parametrize("p_pa", [P_REFERENCE_PA, 301325.0, 7e5, 1.6e6, 1e7])
def test_water_table_against_the_iapws_package(p_pa):
    import iapws  # a test dependency (pyproject's [test] extra): pip install iapws
    table = stored_table("water", p_pa)
    t_high = min(table.limits.t_high_k, 423.15) - 0.01
    for t_k in np.linspace(273.2, t_high, 7):
        ref = iapws.IAPWS95(T=float(t_k), P=p_pa / 1e6)
        expected = {"density_kg_per_m3": ref.rho, "cp_j_per_kg_k": ref.cp * 1e3, "viscosity_pa_s": ref.mu,
                    "conductivity_w_per_m_k": ref.k}
        got = coolant_properties(table, t_k)
        for field, value in expected.items():
            assert float(got[field]) == pytest.approx(value, rel=IAPWS_RTOL[field]), (field, t_k)


def test_unknown_coolant_is_a_case_error():
    with pytest.raises(CaseError, match="pg99"):
        stored_table("pg99")


def test_water_above_the_highest_stored_pressure_is_a_case_error():
    with pytest.raises(CaseError, match="above the highest pressure") as err:
        stored_table("water", 2e8)
    assert (err.value.element, err.value.field, err.value.value) == ("coolant 'water'", "p_pa", 2e8)
    assert math.isclose(WATER_PRESSURES_PA[-1], 1000e5 + P_REFERENCE_PA)
