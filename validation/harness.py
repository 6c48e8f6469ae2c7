"""Validation harness: run every case of ``validation/cases/*.toml`` and compare with its expected values.

A validation case is data (STYLE.md §9). Each TOML file holds:

``title``, ``tier``
    What the case checks; its tier, one of :data:`TIERS`.
``source``, ``peer``
    The citation (or, for a cross-code case, the peer tool; its installed version is added to every row
    at run time).
``sign_convention``
    How the compared quantities are signed.
``runner``
    Name of the function in the registry :func:`runners` that builds, solves and measures.
``tolerance``, ``tolerance_kind``, ``tolerance_reason``
    The default tolerance of the case, its kind (a key of :data:`TOLERANCE_KINDS`) and why it is what it
    is. An ``[[expected]]`` entry may override all three (and must then give its own reason).
``[inputs]``
    The numbers the runner builds its network from.
``[[expected]]``
    ``quantity``, ``unit``, and either ``value`` (a literal reference, e.g. computed by hand in the
    case's notes or read in a publication) or ``closed_form`` / ``peer`` (the runner computes the
    reference at run time, and the file names how). An optional ``point`` restricts the entry to one
    operating point the runner reports; without it the entry covers every point of its quantity.

The harness dispatches each case to its runner through the registry, never by comparing names in code.
A runner that raises becomes a failed row carrying the error text; so do an unknown runner, a malformed
case file, a quantity the runner did not report and one it reported that the file does not declare.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "cases"
"""Folder of the bundled validation cases."""

TIERS = ("analytic", "published", "cross-code")
"""Validation tiers: closed-form solutions, published reference figures, agreement with a peer tool."""


def _relative(expected, got, tol):
    return abs(got - expected) <= tol * abs(expected)


def _absolute(expected, got, tol):
    return abs(got - expected) <= tol


def _at_most(expected, got, tol):
    return got <= expected + tol


def _exact(expected, got, tol):
    return got == expected


TOLERANCE_KINDS = {
    "relative": _relative,  # |got − expected| <= tolerance·|expected|
    "absolute": _absolute,  # |got − expected| <= tolerance (in the entry's unit)
    "at_most": _at_most,  # got <= expected + tolerance (a one-sided bound)
    "exact": _exact,  # got == expected (names, labels)
}
"""How a row's ``got`` is compared with its ``expected`` value, by the case file's ``tolerance_kind``."""

REQUIRED_KEYS = ("title", "tier", "source", "sign_convention", "runner", "tolerance", "tolerance_kind",
                 "tolerance_reason", "inputs", "expected")
"""Keys every case file must have."""


@dataclass(frozen=True)
class Row:
    """One compared quantity of one validation case (at one operating point)."""

    case: str
    tier: str
    quantity: str  # with the operating point in brackets when the runner reports several
    unit: str
    expected: object  # float or str; None when the row records an error
    got: object
    tolerance: float
    tolerance_kind: str
    passed: bool
    source: str
    tolerance_reason: str = ""
    error: str = ""  # why the row failed without a comparison (runner error, malformed case, ...)


# --- reading case files ----------------------------------------------------------------------------


def case_files(folder=None) -> list[Path]:
    """The validation case files in ``folder`` (default: the bundled ones), sorted by name."""
    return sorted(Path(folder or CASES_DIR).glob("*.toml"))


def load_case_file(path) -> dict:
    """Parse one case file; adds ``name`` (the file's stem) and ``file``."""
    path = Path(path)
    with path.open("rb") as fh:
        spec = tomllib.load(fh)
    spec["name"], spec["file"] = path.stem, str(path)
    return spec


def case_file_problems(spec: dict, runners: dict | None = None) -> list[str]:
    """What is missing or wrong in a parsed case file (empty when it is well formed)."""
    runners = _default_runners() if runners is None else runners
    problems = [f"missing key '{k}'" for k in REQUIRED_KEYS if k not in spec]
    if spec.get("tier", TIERS[0]) not in TIERS:
        problems.append(f"tier {spec['tier']!r} is not one of {', '.join(TIERS)}")
    if "runner" in spec and spec["runner"] not in runners:
        problems.append(f"runner {spec['runner']!r} is not one of {', '.join(runners)}")
    expected = spec.get("expected", [])
    if not isinstance(expected, list) or not all(isinstance(e, dict) for e in expected):
        problems.append("'expected' must be an array of tables ([[expected]])")
        expected = []
    if not isinstance(spec.get("inputs", {}), dict):
        problems.append("'inputs' must be a table ([inputs])")
    for i, entry in enumerate([spec] + expected):
        where = "case" if i == 0 else f"expected[{i - 1}] ({entry.get('quantity', '?')})"
        if i > 0:
            for key in ("quantity", "unit"):
                if key not in entry:
                    problems.append(f"{where}: missing key '{key}'")
            if not any(k in entry for k in ("value", "closed_form", "peer")):
                problems.append(f"{where}: needs 'value', 'closed_form' or 'peer'")
            if any(k in entry for k in ("tolerance", "tolerance_kind")) and "tolerance_reason" not in entry:
                problems.append(f"{where}: overrides the tolerance without its own 'tolerance_reason'")
        if "tolerance_kind" in entry and entry["tolerance_kind"] not in TOLERANCE_KINDS:
            problems.append(f"{where}: tolerance_kind {entry['tolerance_kind']!r} is not one of "
                            f"{', '.join(TOLERANCE_KINDS)}")
        tol = entry.get("tolerance", 0.0)
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            problems.append(f"{where}: tolerance must be a number >= 0 (got {tol!r})")
    if not problems and not spec["expected"]:
        problems.append("no [[expected]] entries")
    return problems


# --- running ---------------------------------------------------------------------------------------


def runners() -> dict:
    """Every runner by name: :data:`gigawatt.validation.dc_checks.RUNNERS` (the DC, bipolar, cooling, district
    heating, architecture, grid and weather cases) and :data:`gigawatt.validation.fault_checks.FAULT_RUNNERS`."""
    from gigawatt.validation.dc_checks import RUNNERS
    from gigawatt.validation.fault_checks import FAULT_RUNNERS
    from gigawatt.validation.storage_checks import STORAGE_RUNNERS

    return {**RUNNERS, **FAULT_RUNNERS, **STORAGE_RUNNERS}


def _default_runners() -> dict:
    return runners()


def _source(spec: dict) -> str:
    """The case's citation; for a cross-code case, with the peer tool's installed version."""
    source = str(spec.get("source", ""))
    peer = spec.get("peer")
    if peer:
        try:
            source = f"{source} [{peer} {metadata.version(peer)}]"
        except metadata.PackageNotFoundError:
            source = f"{source} [{peer} not installed]"
    return source


def _error_row(spec: dict, quantity: str, message: str, *, unit="", tolerance=math.nan, kind="") -> Row:
    return Row(case=spec.get("name", "?"), tier=str(spec.get("tier", "?")), quantity=quantity, unit=unit,
               expected=None, got=None, tolerance=tolerance, tolerance_kind=kind, passed=False,
               source=_source(spec), error=message)


def _matches(entry: dict, m) -> bool:
    return m.quantity == entry["quantity"] and entry.get("point", m.point) == m.point


def _compare(kind: str, expected, got, tol: float) -> bool:
    if kind != "exact" and not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                   for x in (expected, got)):
        return False
    try:
        return bool(TOLERANCE_KINDS[kind](expected, got, tol))
    except (TypeError, ValueError):
        return False


def run_case(spec: dict, runners: dict | None = None) -> list[Row]:
    """Run one parsed case file through its runner and compare; never raises."""
    runners = _default_runners() if runners is None else runners
    problems = case_file_problems(spec, runners)
    if problems:
        return [_error_row(spec, "(case file)", "malformed case file: " + "; ".join(problems))]
    try:
        measured = list(runners[spec["runner"]](spec))
        for m in measured:
            if not (isinstance(m.quantity, str) and isinstance(m.point, str)):
                raise TypeError(f"the runner reported {m!r}; expected Measured(quantity: str, got, expected, "
                                "point: str)")
    except Exception as err:  # noqa: BLE001 - a failing runner is a failed row, not a crash
        return [_error_row(spec, "(runner)", f"{type(err).__name__}: {err}")]

    rows, used = [], set()
    source = _source(spec)
    for entry in spec["expected"]:
        tol = float(entry.get("tolerance", spec["tolerance"]))
        kind = entry.get("tolerance_kind", spec["tolerance_kind"])
        reason = entry.get("tolerance_reason", spec["tolerance_reason"])
        hits = [k for k, m in enumerate(measured) if _matches(entry, m)]
        label = entry["quantity"] + (f" ({entry['point']})" if "point" in entry else "")
        if not hits:
            rows.append(_error_row(spec, label, "not reported by the runner", unit=entry["unit"], tolerance=tol,
                                   kind=kind))
            continue
        for k in hits:
            used.add(k)
            m = measured[k]
            expected = entry["value"] if "value" in entry else m.expected
            quantity = m.quantity + (f" ({m.point})" if m.point else "")
            if expected is None:
                rows.append(_error_row(spec, quantity, "no expected value: neither the case file nor the "
                                       "runner gives one", unit=entry["unit"], tolerance=tol, kind=kind))
                continue
            rows.append(Row(case=spec["name"], tier=spec["tier"], quantity=quantity, unit=entry["unit"],
                            expected=expected, got=m.got, tolerance=tol, tolerance_kind=kind,
                            passed=_compare(kind, expected, m.got, tol), source=source,
                            tolerance_reason=reason))
    for k, m in enumerate(measured):
        if k not in used:
            quantity = m.quantity + (f" ({m.point})" if m.point else "")
            rows.append(_error_row(spec, quantity, "reported by the runner but not declared in the case file"))
    return rows


def run_all(tiers=None, *, folder=None, runners: dict | None = None, progress=None) -> list[Row]:
    """Run every validation case (of the given tiers) and return one :class:`Row` per compared quantity.

    Parameters
    ----------
    tiers : iterable of str, optional
        Run only cases of these tiers (see :data:`TIERS`); all when omitted.
    folder : path, optional
        Folder of case files; the bundled ``validation/cases`` when omitted.
    runners : dict, optional
        Runner registry; :func:`runners` when omitted.
    progress : callable, optional
        Called as ``progress(name, total)`` after each case file (``total``: the number of case files).
    """
    if tiers is not None:
        tiers = tuple(tiers)
        unknown = [t for t in tiers if t not in TIERS]
        if unknown:
            raise ValueError(f"unknown tier {unknown[0]!r}; expected one of {', '.join(TIERS)}")
    rows = []
    files = case_files(folder)
    for path in files:
        try:
            spec = load_case_file(path)
        except (OSError, ValueError) as err:  # unreadable, not UTF-8, or not TOML (TOMLDecodeError)
            rows.append(_error_row({"name": path.stem}, "(case file)", f"cannot read: {err}"))
            spec = None
        if spec is not None and (tiers is None or spec.get("tier") in tiers):
            rows.extend(run_case(spec, runners))
        if progress is not None:
            progress(path.stem, len(files))
    return rows


# --- reporting -------------------------------------------------------------------------------------


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.12g}"
    return str(x)


def _deviation(r: Row) -> str:
    if r.error or r.tolerance_kind == "exact":
        return ""
    try:
        dev = r.got - r.expected
        if r.tolerance_kind == "relative":
            dev = dev / abs(r.expected) if r.expected else math.inf
        return f"{dev:.2g}"
    except TypeError:
        return ""


def _tolerance(r: Row) -> str:
    short = {"relative": "rel", "absolute": "abs", "at_most": "max", "exact": "exact"}
    if r.tolerance_kind == "exact":
        return "exact"
    if not r.tolerance_kind:
        return "-"
    return f"{r.tolerance:.3g} {short.get(r.tolerance_kind, r.tolerance_kind)}"


def format_rows(rows: list[Row]) -> str:
    """A table (:func:`gigawatt.tables.table_lines`): case, tier, quantity [unit], expected, got, deviation
    (relative for a relative tolerance, got − expected otherwise), tolerance, pass/FAIL; the text of every
    error is listed below it. The caller prints the count of passed and failed rows."""
    head = ("case", "tier", "quantity [unit]", "expected", "got", "deviation", "tolerance", "result")
    table, notes = [], []
    for r in rows:
        got = _fmt(r.got)
        if r.error:
            notes.append(f"[{len(notes) + 1}] {r.case}, {r.quantity}: {r.error}")
            got = f"error [{len(notes)}]"
        table.append((r.case, r.tier, f"{r.quantity} [{r.unit or '-'}]", _fmt(r.expected), got, _deviation(r),
                      _tolerance(r), "pass" if r.passed else "FAIL"))
    from gigawatt.tables import table_lines

    return "\n".join(table_lines(head, table, align="l") + notes)
