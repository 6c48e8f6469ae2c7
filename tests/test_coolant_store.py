"""The coolant tables stored with the package are exactly what CoolProp computes now."""
import CoolProp
import numpy as np
import pytest

from gigawatt.models.coolant import COOLANTS, PROPERTY_FIELDS
from gigawatt.models.coolant_store import fresh_table, stored_coolprop_version, stored_table


def test_store_was_made_with_the_installed_coolprop():
    assert stored_coolprop_version() == CoolProp.__version__, \
        "regenerate with: python -m gigawatt.models.coolant_store"


@pytest.mark.parametrize("name", list(COOLANTS))
def test_stored_table_equals_coolprop(name):
    stored, fresh = stored_table(name), fresh_table(name)
    # Bit for bit: the file is a cache of CoolProp's output, not an approximation of it.
    np.testing.assert_array_equal(stored.t_k, fresh.t_k)
    for field in PROPERTY_FIELDS:
        np.testing.assert_array_equal(getattr(stored, field), getattr(fresh, field), err_msg=field)
    from dataclasses import asdict

    np.testing.assert_equal(asdict(stored.limits), asdict(fresh.limits))  # NaN == NaN here
    np.testing.assert_equal(stored.p_sat_pa, fresh.p_sat_pa)
    assert stored.coolprop_name == fresh.coolprop_name


def test_unknown_coolant_is_a_case_error():
    from gigawatt.errors import CaseError

    with pytest.raises(CaseError, match="pg99"):
        stored_table("pg99")
