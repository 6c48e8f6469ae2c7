"""The shortcuts a time-series step takes give exactly what the general paths give: the DC ledger of one step
on floats against the same ledger on arrays, the KPI ratio of two scalars against numpy's, the chip operating
points prepared once against a fresh call, the facility return checked without its properties against
``coolant_properties``' own check, and the per-element extremes written through netCDF4 against xarray's
writer. Exact equality throughout: each shortcut does the same IEEE operations in the same order."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.coolant import check_coolant_temperatures, coolant_properties
from gigawatt.models.coolant_store import stored_table
from gigawatt.models.kpis import _ratio
from gigawatt.series_writer import SeriesWriter
from gigawatt.solver.dc.series import STAGE_FIGURES, ledger

finite = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)
anything = st.floats(allow_nan=True, allow_infinity=True)


def same(a, b) -> bool:
    """Equal to the last bit, NaN equal to NaN."""
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


@settings(max_examples=200, deadline=None)
@given(p_grid=st.one_of(finite, st.just(0.0)), p_it=finite, stages=st.lists(finite, min_size=5, max_size=5))
def test_ledger_of_one_step_matches_the_array_ledger(p_grid, p_it, stages):
    one = ledger(p_grid, p_it, stages)
    many = ledger(np.array([p_grid]), np.array([p_it]), np.array(stages)[:, None])
    assert set(one) == set(many) == {"p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip",
                                     "energy_balance_residual", "other_loss_w", *STAGE_FIGURES}
    for name in one:
        assert same(one[name], np.asarray(many[name]).ravel()[0]), name


@settings(max_examples=300, deadline=None)
@given(num=anything, den=anything)
def test_ratio_of_two_scalars_matches_numpy(num, den):
    with np.errstate(all="ignore"):  # (overflow and inf / inf, as numpy warns of them)
        expected = np.divide(np.float64(num), np.float64(den), out=np.full((), np.nan), where=np.float64(den) > 0)
        for a, b in ((num, den), (np.float64(num), np.float64(den))):
            got = _ratio(a, b)
            assert isinstance(got, float) and same(got, expected)
        assert same(_ratio(np.array([num]), np.array([den]))[0], expected)  # arrays keep numpy's path


@pytest.mark.parametrize("t_k", [300.0, 250.0, 500.0, float("nan"), np.array([300.0, 310.0])])
def test_the_facility_return_check_is_coolant_properties_check(t_k):
    table = stored_table("water")
    try:
        coolant_properties(table, t_k, field="t_facility_return_k")
    except CaseError as err:
        with pytest.raises(CaseError) as again:
            check_coolant_temperatures(table, t_k, field="t_facility_return_k")
        assert str(again.value) == str(err)
    else:
        np.testing.assert_array_equal(check_coolant_temperatures(table, t_k), np.ravel(t_k))


def test_chip_points_prepared_once_match_fresh_calls():
    from gigawatt.solver.cooling.stage import ChipPoints, chip_operating_points, prepare_cooling
    from gigawatt.models.racks import chip_powers, rack_powers

    for shelves in (0.0, 0.6):  # air-cooled shelves, and liquid-cooled ones (the fixed point iterates)
        case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=3, rack_it_power_kw=120.0,
                               cooling={"leakage_model": "exponential", "leakage_fraction": 0.1,
                                        "leakage_k_per_k": 0.0139, "shelf_liquid_fraction": shelves})
        plant = prepare_cooling(case, rack_powers(case)[1])
        prepared = ChipPoints(case, plant)
        rng = np.random.default_rng(7)
        for _ in range(4):
            p = chip_powers(case) * rng.uniform(0.0, 1.1, chip_powers(case).size)
            for got, want in zip(prepared(p), chip_operating_points(case, plant, p_ref_w=p)):
                np.testing.assert_array_equal(got, want)


def test_extremes_are_written_as_xarray_writes_them(tmp_path):
    extra = xr.Dataset(
        {"v_min_pu_over_period": ("bus", np.array([0.98, np.nan, 1.0]), {"units": "1", "long_name": "lowest"}),
         "t_chip_max_k_over_period": ("rack", np.array([330.0, 331.5]), {"units": "K", "long_name": "hottest"})},
        coords={"bus": np.array(["b1", "bus-two", "b3"]), "rack": np.array(["r1", "r2"])})
    times = np.array(["2025-01-01T00", "2025-01-01T01"], dtype="datetime64[s]")
    paths = []
    for through_netcdf4 in (True, False):
        path = tmp_path / f"{through_netcdf4}.nc"
        writer = SeriesWriter(path, times[0])
        writer.append(times, {"p_grid_w": np.array([1.0, 2.0])})
        writer.finish({"steps": 2}, extra if through_netcdf4 else None)
        if not through_netcdf4:
            extra.to_netcdf(path, mode="a")  # what finish did before
        paths.append(path)
    with xr.open_dataset(paths[0]) as a, xr.open_dataset(paths[1]) as b:
        xr.testing.assert_identical(a, b)
