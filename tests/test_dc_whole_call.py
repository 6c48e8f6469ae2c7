"""The whole DC call keeps what it reports bit for bit while doing less: the racks' chip powers (on an input
basis the root of the rack's chain, :func:`gigawatt.models.racks.chip_powers`) are found once, by the assembly,
and the results report those same numbers."""
from __future__ import annotations

import numpy as np

import gigawatt as gw
from gigawatt.models.racks import chip_powers, rack_powers


def _cases():
    from gigawatt.bench.dc_loadflow import build_network

    return {"bundled": gw.load_case(), "benchmark": build_network(2_000)}


def test_chip_powers_found_once_equal_the_old_path_bit_for_bit():
    for name, case in _cases().items():
        assert (case.tables["rack"]["p_it_basis"].to_numpy() == "input").any(), name  # the root is exercised
        ds = gw.solve(case)
        # the old path: the results called chip_powers(case) again (with chip leakage, the bundled case's
        # cooling, that is p_it_ref_w and the racks draw for the leaky p_it_w), and the assembly rack_powers
        case_p_it = ds["rack_p_it_ref_w"] if "rack_p_it_ref_w" in ds else ds["rack_p_it_w"]
        np.testing.assert_array_equal(case_p_it.values, chip_powers(case), err_msg=name)
        p_in, shelf, vrm = rack_powers(case, ds["rack_p_it_w"].values)
        for var, ref in (("rack_p_in_w", p_in), ("shelf_loss_w", shelf), ("vrm_loss_w", vrm)):
            if var in ds:
                np.testing.assert_array_equal(ds[var].values, ref, err_msg=f"{name} {var}")
        assert ds.attrs["energy_balance_residual"] <= 1e-9, name


def test_rating_methods_by_code_equal_the_first_method_that_rates_each_line():
    """The lines' rating and its method, taken from the method names by code: for each line the first entry
    of the registry that gives a finite rating (the registry's order), '' and NaN where none does."""
    from gigawatt.models.ampacity import AMPACITY_METHODS
    from gigawatt.solver.dc.ratings import line_ratings

    for name, case in _cases().items():
        lines = case.tables["line"]
        with np.errstate(divide="ignore", invalid="ignore"):
            each = {m: np.asarray(f(lines), float) for m, f in AMPACITY_METHODS.items()}
        want_method = [next((m for m in each if np.isfinite(each[m][i])), "") for i in range(len(lines))]
        want_rating = [each[m][i] if m else np.nan for i, m in enumerate(want_method)]
        rating, method = line_ratings(lines)
        assert method.tolist() == want_method, name
        np.testing.assert_array_equal(rating, want_rating, err_msg=name)
        ds = gw.solve(case)
        assert ds["line_rating_method"].values.tolist() == want_method, name
        assert len(set(want_method)) > 1, name  # rated and unrated lines: the codes are exercised
