"""Tests of the validation harness (gigawatt.validation.harness) and its bundled cases.

The physics lives in the case files (validation/cases/*.toml): each states its expected values, where they
come from (closed forms, hand calculations, a published figure, pandapower), and why its tolerance is what
it is. ``test_every_validation_row_passes`` runs them all; the other tests check that the harness really
compares, and that it reports a broken case instead of crashing or passing it.
"""
import math
import tomllib

import pytest

from gigawatt.validation.dc_checks import Measured
from gigawatt.validation.harness import (
    runners,
    REQUIRED_KEYS,
    TIERS,
    TOLERANCE_KINDS,
    case_file_problems,
    case_files,
    format_rows,
    load_case_file,
    run_all,
)


@pytest.fixture(scope="module")
def all_rows():
    return run_all()


def test_every_validation_row_passes(all_rows):
    # The expected values and tolerances are those of the case files; a failure prints the whole table.
    failed = [r for r in all_rows if not r.passed]
    assert not failed, "\n" + format_rows(all_rows)


def test_every_case_and_tier_is_run(all_rows):
    names = {p.stem for p in case_files()}
    assert {r.case for r in all_rows} == names
    # All three tiers are present (the published one since the cooling stage: coolant flow per kW).
    assert {r.tier for r in all_rows} == set(TIERS)
    # The cross-code rows name their peer tool with its installed version.
    from importlib import metadata

    import pandapipes
    import pandapower

    # A peer that is no Python package (MatACDC, whose recorded outputs a case compares against) is named with
    # its version in the case's source.
    peers = (f"pandapower {pandapower.__version__}", f"pandapipes {pandapipes.__version__}", "MatACDC 1.0",
             f"pygfunction {metadata.version('pygfunction')}")
    assert all(any(p in r.source for p in peers) for r in all_rows if r.tier == "cross-code")


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_case_file_is_complete(path):
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    for key in REQUIRED_KEYS:
        assert key in raw, f"{path.name}: missing '{key}'"
    assert raw["tier"] in TIERS
    assert raw["runner"] in runners()
    assert raw["tolerance_kind"] in TOLERANCE_KINDS
    assert isinstance(raw["tolerance"], (int, float)) and raw["tolerance"] >= 0
    for key in ("source", "tolerance_reason", "sign_convention"):
        assert isinstance(raw[key], str) and len(raw[key].strip()) > 10, f"{path.name}: '{key}' is empty"
    assert raw["expected"], f"{path.name}: no [[expected]] entries"
    for entry in raw["expected"]:
        assert "quantity" in entry and "unit" in entry
        assert any(k in entry for k in ("value", "closed_form", "peer"))
        if "tolerance" in entry or "tolerance_kind" in entry:
            assert len(entry.get("tolerance_reason", "").strip()) > 10, f"{path.name}: {entry['quantity']}"
    assert case_file_problems(load_case_file(path)) == []


# --- the harness itself, on small case files written here ------------------------------------------

CASE_TEMPLATE = """
title = "harness test"
tier = "{tier}"
runner = "{runner}"
source = "written by the test"
sign_convention = "none"
tolerance = 1e-6
tolerance_kind = "relative"
tolerance_reason = "test"

[inputs]
x = 1.0

[[expected]]
quantity = "q"
unit = "W"
value = 100.0
"""


def _write(folder, name, tier="analytic", runner="fake", extra=""):
    (folder / f"{name}.toml").write_text(CASE_TEMPLATE.format(tier=tier, runner=runner) + extra, encoding="utf-8")


def test_raising_runner_becomes_a_failed_row(tmp_path):
    def boom(spec):
        raise ZeroDivisionError("the runner broke")

    _write(tmp_path, "a_boom", runner="boom")
    _write(tmp_path, "b_ok", runner="ok")
    rows = run_all(folder=tmp_path, runners={"boom": boom, "ok": lambda spec: [Measured("q", 100.0)]})
    assert [(r.case, r.passed) for r in rows] == [("a_boom", False), ("b_ok", True)]
    assert "ZeroDivisionError: the runner broke" in rows[0].error
    text = format_rows(rows)
    assert "FAIL" in text and "the runner broke" in text


@pytest.mark.parametrize("kind, expected, tol, got, passed", [
    ("relative", 100.0, 1e-6, 100.0 * (1 + 0.9e-6), True),
    ("relative", 100.0, 1e-6, 100.0 * (1 + 1.1e-6), False),
    ("relative", 100.0, 1e-6, 100.0 * (1 - 1.1e-6), False),
    ("absolute", 0.0, 1e-8, 0.9e-8, True),
    ("absolute", 0.0, 1e-8, -1.1e-8, False),
    ("at_most", 0.0, 1e-10, -0.5, True),
    ("at_most", 0.0, 1e-10, 2e-10, False),
    ("relative", 100.0, 1e-6, math.nan, False),
    ("relative", 100.0, 1e-6, "100", False),
])
def test_tolerance_kinds_compare(tmp_path, kind, expected, tol, got, passed):
    extra = f'tolerance = {tol}\ntolerance_kind = "{kind}"\ntolerance_reason = "test"\n'
    _write(tmp_path, "c", extra=extra)
    text = (tmp_path / "c.toml").read_text().replace("value = 100.0", f"value = {expected}")
    (tmp_path / "c.toml").write_text(text)
    (row,) = run_all(folder=tmp_path, runners={"fake": lambda spec: [Measured("q", got)]})
    assert row.passed is passed


def test_exact_kind_compares_names(tmp_path):
    extra = ('\n[[expected]]\nquantity = "feeder"\nunit = ""\nvalue = "f1"\ntolerance = 0.0\n'
             'tolerance_kind = "exact"\ntolerance_reason = "a name"\n')
    _write(tmp_path, "c", extra=extra)
    for name, passed in (("f1", True), ("f2", False)):
        rows = run_all(folder=tmp_path, runners={"fake": lambda spec: [Measured("q", 100.0), Measured("feeder", name)]})
        assert [r.passed for r in rows] == [True, passed]


def test_missing_and_undeclared_quantities_fail(tmp_path):
    _write(tmp_path, "c")
    rows = run_all(folder=tmp_path, runners={"fake": lambda spec: [Measured("other", 1.0)]})
    errors = sorted(r.error for r in rows)
    assert [r.passed for r in rows] == [False, False]
    assert errors == ["not reported by the runner", "reported by the runner but not declared in the case file"]


def test_runner_expected_values_and_points(tmp_path):
    # An entry without a literal value takes the runner's expected value, one row per reported point.
    _write(tmp_path, "c")
    text = (tmp_path / "c.toml").read_text().replace("value = 100.0", 'closed_form = "q = 2x"')
    (tmp_path / "c.toml").write_text(text)
    rows = run_all(folder=tmp_path, runners={"fake": lambda spec: [Measured("q", 2.0, 2.0, "x = 1"),
                                                                   Measured("q", 4.0, 4.5, "x = 2")]})
    assert [(r.quantity, r.passed) for r in rows] == [("q (x = 1)", True), ("q (x = 2)", False)]


def test_malformed_case_file_is_a_failed_row(tmp_path):
    (tmp_path / "bad.toml").write_text('tier = "analytic"\nrunner = "fake"\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text("tier = [", encoding="utf-8")
    _write(tmp_path, "unknown_runner", runner="nope")
    rows = run_all(folder=tmp_path, runners={"fake": lambda spec: []})
    assert [r.passed for r in rows] == [False, False, False]
    assert "missing key 'tolerance_reason'" in rows[0].error
    assert "cannot read" in rows[1].error
    assert "runner 'nope'" in rows[2].error


def test_tier_filter(tmp_path):
    _write(tmp_path, "a", tier="analytic")
    _write(tmp_path, "p", tier="published")
    runners = {"fake": lambda spec: [Measured("q", 100.0)]}
    assert [r.case for r in run_all(["published"], folder=tmp_path, runners=runners)] == ["p"]
    assert [r.case for r in run_all(folder=tmp_path, runners=runners)] == ["a", "p"]
    with pytest.raises(ValueError, match="unknown tier"):
        run_all(["analytical"], folder=tmp_path, runners=runners)


def test_cli_validate_runs_a_tier():
    # The analytic tier is small networks only: cheap to run again through the command line.
    from click.testing import CliRunner

    from gigawatt.cli import main

    result = CliRunner().invoke(main, ["validate", "--tier", "analytic"])
    assert result.exit_code == 0, result.output
    assert "analytic_busway_800v_300mm2" in result.output and "FAIL" not in result.output
    assert "crosscode" not in result.output
