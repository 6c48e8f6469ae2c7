"""Time-series CSV inputs (gigawatt.cases.series_file) and the bundled IT-load shapes (gigawatt.cases.profiles):
round trips, unit spellings, and one test per bad input, each naming the file, the row and line, the column.

Expected values of the shapes are their closed forms (cycle means, cosine integrals), worked by hand in the
comments, not read back from the code.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gigawatt.cases.profiles import PROFILES, bundled_profile, inference, steady, training
from gigawatt.cases.series_file import read_timeseries, write_timeseries
from gigawatt.errors import CaseError

GOOD = """# IT load and weather, a comment line
time,p_it_kw,outdoor_t_c
2025-01-01T00:00,98000,-3.5
2025-01-01T01:00,97500,-3.9

2025-01-01T02:00,97000.5,-4.25
"""


def write(tmp_path, text, name="ts.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_converts_units_and_keeps_time(tmp_path):
    ds = read_timeseries(write(tmp_path, GOOD))
    assert list(ds.data_vars) == ["p_it_w", "outdoor_t_k"]
    np.testing.assert_array_equal(ds.p_it_w.values, [98e6, 97.5e6, 97000.5e3])
    np.testing.assert_allclose(ds.outdoor_t_k.values, [269.65, 269.25, 268.9], rtol=0, atol=1e-12)
    assert ds.p_it_w.attrs["units"] == "W" and ds.p_it_w.attrs["given_as"] == "p_it_kw"
    assert ds.outdoor_t_k.attrs["units"] == "K"
    assert ds.time.values[0] == np.datetime64("2025-01-01T00:00") and ds.attrs["step_s"] == 3600.0


def test_utc_offsets_are_converted(tmp_path):
    ds = read_timeseries(write(tmp_path, "time,p_it_fraction\n2025-06-01T02:00+02:00,0.5\n2025-06-01T02:00:01+02:00,0.6\n"))
    assert ds.time.values[0] == np.datetime64("2025-06-01T00:00:00") and ds.attrs["step_s"] == 1.0


def test_hourly_year_round_trip(tmp_path):
    ds = bundled_profile("inference", start="2025-01-01", periods=8760, step="1h")
    path = write_timeseries(ds, tmp_path / "year.csv")
    back = read_timeseries(path, start="2025-01-01", periods=8760, step="1h", columns=["p_it_fraction"])
    assert back.sizes["time"] == 8760
    np.testing.assert_array_equal(back.time.values, ds.time.values)
    np.testing.assert_array_equal(back.p_it_fraction.values, ds.p_it_fraction.values)  # %.17g: exact


def test_round_trip_in_other_spellings(tmp_path):
    ds = read_timeseries(write(tmp_path, GOOD))
    path = write_timeseries(ds, tmp_path / "again.csv", spellings={"p_it_w": "p_it_mw", "outdoor_t_k": "outdoor_t_c"})
    assert pd.read_csv(path).columns.tolist() == ["time", "p_it_mw", "outdoor_t_c"]
    back = read_timeseries(path)
    np.testing.assert_allclose(back.p_it_w.values, ds.p_it_w.values, rtol=1e-15)
    np.testing.assert_allclose(back.outdoor_t_k.values, ds.outdoor_t_k.values, rtol=1e-15)


def test_one_second_steps(tmp_path):
    ds = training(start="2025-01-01", periods=120, step="1s")
    back = read_timeseries(write_timeseries(ds, tmp_path / "s.csv"), step="1s")
    assert back.attrs["step_s"] == 1.0
    np.testing.assert_array_equal(back.p_it_fraction.values, ds.p_it_fraction.values)


# --- bad input: (csv text, read_timeseries kwargs, fragments the one-line message must contain) -------------

H = "time,p_it_kw\n"
BAD = {
    "gap": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n2025-01-01T03:00,1\n", {},
            ["row 3, line 4", "field 'time'", "gap: 1 missing step(s) of 1h", "'2025-01-01T03:00'"]),
    "duplicate": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n2025-01-01T01:00,1\n", {},
                  ["row 3, line 4", "repeats the time stamp"]),
    "backwards": (H + "2025-01-01T00:00,1\n2025-01-01T02:00,1\n2025-01-01T01:00,1\n", {},
                  ["row 3, line 4", "earlier than the row before"]),
    "irregular": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n2025-01-01T02:30,1\n", {},
                  ["row 3", "irregular step of 1h 30min".split(" of")[0]]),
    "not the asked step": (H + "2025-01-01T00:00,1\n2025-01-01T00:30,1\n", {"step": "1h"},
                           ["row 2", "irregular step of 30min", "the step is 1h"]),
    "too short": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n", {"periods": 8760},
                  ["has 2 rows, not the 8760 of the requested period"]),
    "too long": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n2025-01-01T02:00,1\n", {"periods": 2},
                 ["has 3 rows", "row 3, line 4 (the first row beyond)"]),
    "wrong start": (H + "2025-01-02T00:00,1\n2025-01-02T01:00,1\n", {"start": "2025-01-01"},
                    ["row 1, line 2", "does not start at the requested period", "2025-01-01T00:00:00"]),
    "sub-second": (H + "2025-01-01T00:00:00.0,1\n2025-01-01T00:00:00.5,1\n", {},
                   ["whole number of seconds of at least 1 s"]),
    "unknown unit": ("time,p_it_kva\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n", {},
                     ["header", "field 'p_it_kva'", "unknown column", "did you mean"]),
    "unknown column": ("time,wind_speed\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n", {},
                       ["field 'wind_speed'", "unknown column"]),
    "one quantity twice": ("time,p_it_kw,p_it_w\n2025-01-01T00:00,1,1\n2025-01-01T01:00,1,1\n", {},
                           ["given twice"]),
    "no time column": ("when,p_it_kw\n2025-01-01T00:00,1\n", {}, ["no 'time' column"]),
    "no value column": ("time\n2025-01-01T00:00\n2025-01-01T01:00\n", {}, ["no value columns"]),
    "required column": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,1\n", {"columns": ["outdoor_t_k"]},
                        ["required column is missing", "field 'outdoor_t_k'"]),
    "no rows": (H, {}, ["no data rows"]),
    "empty file": ("", {}, ["not a CSV table"]),
    "bad time stamp": (H + "2025-01-01T00:00,1\n2025-13-01T01:00,1\n", {},
                       ["row 2, line 3", "not an ISO 8601 time stamp", "'2025-13-01T01:00'"]),
    "mixed offsets": (H + "2025-01-01T00:00Z,1\n2025-01-01T01:00,1\n", {}, ["row 2", "mix with and without"]),
    "non-numeric": (H + "2025-01-01T00:00,1\n2025-01-01T01:00,lots\n", {},
                    ["row 2, line 3", "field 'p_it_kw'", "expected a finite number", "'lots'"]),
    "missing value": ("time,p_it_kw,outdoor_t_c\n2025-01-01T00:00,1,2\n2025-01-01T01:00,,2\n", {},
                      ["row 2, line 3", "field 'p_it_kw'", "missing value"]),
    "infinite": (H + "2025-01-01T00:00,inf\n2025-01-01T01:00,1\n", {}, ["row 1", "expected a finite number"]),
    "out of range": ("time,outdoor_t_c\n2025-01-01T00:00,-80\n2025-01-01T01:00,1\n", {},
                     ["row 1, line 2", "field 'outdoor_t_c'", "out of range", "'-80'", "outdoor_t_k = outdoor_t_c"]),
    "single row without step": (H + "2025-01-01T00:00,1\n", {}, ["a single row has no step"]),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input(name, tmp_path):
    text, kwargs, needles = BAD[name]
    path = write(tmp_path, text)
    with pytest.raises(CaseError) as info:
        read_timeseries(path, **kwargs)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    for n in needles:
        assert n in message, (n, message)


def test_missing_file(tmp_path):
    with pytest.raises(CaseError, match="time-series file not found"):
        read_timeseries(tmp_path / "nope.csv")


# --- the bundled shapes ---------------------------------------------------------------------------------------

def test_every_shape_has_a_time_axis_and_states_its_assumption():
    for name in PROFILES:
        ds = bundled_profile(name, periods=48, step="30min")
        assert ds.sizes["time"] == 48 and ds.attrs["step_s"] == 1800.0
        assert "illustrative" in ds.p_it_fraction.attrs["assumption"]
        assert ((ds.p_it_fraction >= 0) & (ds.p_it_fraction <= 1.5)).all()
    with pytest.raises(CaseError, match="unknown IT-load profile"):
        bundled_profile("bitcoin")


def test_steady():
    np.testing.assert_array_equal(steady(periods=5, level=0.8).p_it_fraction.values, 0.8)


def test_training_swings_and_checkpoints():
    # Step means are differences of the integral over a 30 min cycle: round-off about 1800 s × 1e-16 / 1 s.
    tol = dict(rtol=1e-12, atol=0)
    # At 1 s: 14 s at 100 % then 6 s at 30 % (20 s iterations, 70 % computing), from midnight.
    fine = training(periods=40, step="1s").p_it_fraction.values
    np.testing.assert_allclose(fine, ([1.0] * 14 + [0.3] * 6) * 2, **tol)
    # The checkpoint: the last 60 s of every 30 min cycle (counted from midnight of the start day) at 20 %.
    pause = training(start="2025-12-31T23:29:00", periods=60, step="1s").p_it_fraction.values
    np.testing.assert_allclose(pause, 0.2, **tol)
    # Hourly means: two cycles of (1740 s × (0.7·1 + 0.3·0.3) + 60 s × 0.2) / 1800 s = 0.770333...
    hourly = training(periods=24).p_it_fraction.values
    np.testing.assert_allclose(hourly, (1740 * 0.79 + 60 * 0.2) / 1800, rtol=1e-14)
    # A step that is not a multiple of the iteration: the mean still integrates exactly (33 s from midnight:
    # 14 s at 1.0, 6 s at 0.3, 13 s at 1.0).
    odd = training(periods=1, step="33s").p_it_fraction.values[0]
    assert odd == pytest.approx((27 * 1.0 + 6 * 0.3) / 33, rel=1e-14)


def test_inference_diurnal():
    # Step means of mean + a cos(2π(h - 15)/24): at 1 s steps the curve itself; daily mean = mean.
    fine = inference(periods=86400, step="1s").p_it_fraction.values
    assert fine.mean() == pytest.approx(0.6, rel=1e-12)
    assert fine[15 * 3600] == pytest.approx(0.85, abs=1e-8) and fine[3 * 3600] == pytest.approx(0.35, abs=1e-8)
    # Hour 15:00–16:00: 0.6 + 0.25·(24/2π)·sin(2π/24) = 0.6 + 0.25 × 0.98862...
    hourly = inference(periods=24).p_it_fraction.values
    assert hourly[15] == pytest.approx(0.6 + 0.25 * 24 / (2 * math.pi) * math.sin(2 * math.pi / 24), rel=1e-12)


def test_profile_steps_below_one_second_are_refused():
    with pytest.raises(ValueError, match="at least 1 s"):
        steady(periods=3, step="500ms")


def test_docstring_examples(kit):
    import gigawatt.cases.profiles as profiles
    import doctest

    assert doctest.testmod(profiles).failed == 0
