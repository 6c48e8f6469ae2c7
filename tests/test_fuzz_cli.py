"""Property-based fuzzing of the command line and the loader over the schema (issue 14, "Must show").

Each example takes one small case (DC network; with cooling; along a time axis; a campus; a town; a
district-heating network; an AC grid side), one field of the schema table (``cases/schema.csv``) that the
case uses, and one value for it: in range, out of range, of the wrong type, NaN, infinite, empty, with a
NUL character, or huge. It writes the case as TOML, runs ``gigawatt run CASE -o OUT`` in this process
(click's CliRunner) and asserts the promise of the README: either

* exit status 0, the results file written whole, and its ledgers closed (every ``*_residual`` attribute,
  ``energy_balance_residual`` first, at most 1e-9; those over the AC grid side, which closes to its load
  flow's mismatch tolerance rather than to round-off, at most 1e-9 plus that tolerance summed over the AC
  buses), or
* exit status 2, exactly one line on stderr (``error: ...``), and no results file (nor a temporary one);

never a traceback, never exit status 1. ``gw.load_case`` on the same file returns a case or raises
:class:`~gigawatt.errors.CaseError`, nothing else.

Sizes: the physical memory the size check sees is set to 32 MiB here, so a drawn size that would take a
minute to solve (10⁴ halls) is refused as one line instead, on any machine; the time axis is drawn up to 5
steps (its huge value, 10⁸ steps, is refused by the same check).

The suite runs 60 examples, the same each time (about 25 s). ``GIGAWATT_FUZZ_EXAMPLES=4000 pytest
tests/test_fuzz_cli.py`` hunts with fresh random examples; what such hunts found is kept as examples in
``tests/test_tracebacks.py``.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.cases.schema import ELEMENT_TABLES, aliases, schema
from gigawatt.errors import CaseError

LEDGER_TOL = 1e-9
# The suite runs the same 60 examples every time (derandomized); GIGAWATT_FUZZ_EXAMPLES=2000 hunts further,
# with fresh random examples each run.
EXAMPLES = int(os.environ.get("GIGAWATT_FUZZ_EXAMPLES", "60"))
HUNT = "GIGAWATT_FUZZ_EXAMPLES" in os.environ
FAKE_MEMORY_BYTES = 32 * 2**20
SMALL_COUNT = 5  # in-range draws of the fields that size a case
SIZE_FIELDS = {("campus", "halls"), ("campus", "rows_per_hall"), ("campus", "racks_per_row"), ("campus", "sites"),
               ("campus", "stations_per_hall"), ("campus", "ring_rows"), ("campus", "grid_transformers_per_site"),
               ("town", "homes"), ("town", "vertical_farms"), ("town", "spines"), ("time", "periods"),
               ("time", "chunk_steps"), ("cooling", "chips_per_rack"), ("district_heating", "storage_layers"),
               ("solver", "max_iterations")}


def _bases(kit) -> dict:
    """The small cases, each with the sections and tables whose fields it exercises."""
    dc = kit.base_doc()
    cooling = {**kit.base_doc(), "cooling": {}}
    timed = {**kit.base_doc(), "cooling": {}, "time": {"periods": 3, "weather": "constant"}}
    campus = {"case": {"name": "campus"}, "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2}}
    town = {**kit.base_doc(), "cooling": {"recovery_demand_w": 5e4}, "town": {"homes": 3}, "district_heating": {}}
    dh = {"case": {"name": "dh"},
          "dh_node": [{"id": n} for n in ("S", "R", "A", "Ar")],
          "dh_pipe": [{"id": "s1", "from_node": "S", "to_node": "A", "length_m": 300.0, "diameter_m": 0.08},
                      {"id": "r1", "from_node": "Ar", "to_node": "R", "length_m": 300.0, "diameter_m": 0.08}],
          "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 2e5}],
          "district_heating": {"supply_node": "S", "return_node": "R"}}
    ac = kit.base_doc()
    ac["source"][0]["ac_bus"] = "mv"
    ac.update({"ac_bus": [{"id": "hv", "v_nominal_v": 110e3}, {"id": "mv", "v_nominal_v": 33e3},
                          {"id": "mv2", "v_nominal_v": 33e3}],
               "ac_trafo": [{"id": "t1", "hv_bus": "hv", "lv_bus": "mv2", "rated_power_va": 10e6,
                             "v_rated_hv_v": 110e3, "v_rated_lv_v": 33e3, "vk_percent": 10.0, "vkr_percent": 0.5}],
               "ac_line": [{"id": "c1", "from_bus": "mv2", "to_bus": "mv", "length_m": 1000.0,
                            "r_ohm_per_m": 1e-4, "x_ohm_per_m": 1e-4}],
               "ac_supply": [{"id": "g", "bus": "hv"}]})
    return {
        "dc": (dc, ("case", "solver", "dc", "bus", "line", "source", "converter", "rack")),
        "cooling": (cooling, ("cooling", "rack")),
        "time": (timed, ("time",)),
        "campus": (campus, ("campus",)),
        "town": (town, ("town", "district_heating")),
        "dh": (dh, ("district_heating", "dh_node", "dh_pipe", "dh_consumer")),
        "ac": (ac, ("ac_bus", "ac_line", "ac_trafo", "ac_supply", "source")),
    }


def _targets(bases) -> list[tuple[str, str, str]]:
    """Every (base, table, field) the fuzz draws from: each schema field of each table a base exercises."""
    out = []
    for base, (_, tables) in bases.items():
        for table in tables:
            out += [(base, table, name) for name in schema()[table]]
    return out


def _ids(doc, table):
    """Ids a reference field of ``table`` rows may name in ``doc`` (loss models for ``ref:loss_model``)."""
    if table == "loss_model":
        return list(doc.get("loss_models", {}))
    rows = doc.get(table)
    return [r["id"] for r in rows] if isinstance(rows, list) else []


@st.composite
def values(draw, f, doc, table):
    """One value for field ``f`` (a schema row) in one of the categories of the module notes."""
    kind = draw(st.sampled_from(["in_range", "in_range", "in_range", "out_of_range", "wrong_type", "nan", "inf",
                                 "empty", "nul", "huge"]))
    iv = f.interval
    size = (table, f.name) in SIZE_FIELDS
    if kind == "nan":
        return math.nan
    if kind == "inf":
        return draw(st.sampled_from([math.inf, -math.inf]))
    if kind == "empty":
        return ""
    if kind == "nul":
        return draw(st.sampled_from(["a\x00b", "\x00", "1\x0000"]))
    if kind == "huge":
        if (table, f.name) == ("time", "periods"):
            return 10**8
        if f.type == "int" and iv is not None and math.isfinite(iv[1]):
            return int(iv[1])
        return draw(st.sampled_from([1e300, 10**18, -1e300, "x" * 10000]))
    if kind == "wrong_type":
        if f.type in ("float", "int"):
            return draw(st.sampled_from(["abc", True, [1, 2], "1e3x"]))
        if f.type == "bool":
            return draw(st.sampled_from(["maybe", 2, 0.5]))
        return draw(st.sampled_from([1.5, [1, 2], True]))
    if kind == "out_of_range":
        if f.choices is not None:
            return "nonsense"
        if iv is not None:
            lo, hi, lo_in, hi_in = iv
            step = (lambda b: 1) if f.type == "int" else (lambda b: max(1.0, abs(b)) * 0.5)
            options = ([lo - step(lo) if lo_in else lo] if math.isfinite(lo) else []) + \
                      ([hi + step(hi) if hi_in else hi] if math.isfinite(hi) else [])
            if options:
                v = draw(st.sampled_from(options))
                return int(v) if f.type == "int" else float(v)
        if f.type.startswith("ref:"):
            return "no-such-id"
        return draw(st.sampled_from(["abc", -1]))
    # in range
    if f.choices is not None:
        return draw(st.sampled_from(f.choices))
    if f.type.startswith("ref:"):
        ids = _ids(doc, f.type[4:])
        return draw(st.sampled_from(ids)) if ids else ""
    if f.type == "bool":
        return draw(st.booleans())
    if f.type == "list":
        return draw(st.lists(st.text("abc xyz", max_size=8), max_size=3))
    if f.type == "str":
        special = {("time", "start"): ["2025-01-01T00:00", "2030-06-30T12:00+02:00"],
                   ("time", "step"): ["1h", "15min", "10s", "1d"],
                   ("time", "it_load"): ["steady", "training", "inference"],
                   ("time", "weather"): ["constant", "bundled"]}
        return draw(st.sampled_from(special.get((table, f.name), ["x", "a-b", "Zone 1"])))
    if f.type == "int":
        lo, hi = (int(iv[0]) + (not iv[2]), int(iv[1]) - (not iv[3])) if iv else (0, 1000)
        return draw(st.integers(lo, min(hi, lo + SMALL_COUNT if size else hi)))
    lo, hi = (iv[0], iv[1]) if iv else (-1e6, 1e6)
    lo, hi = max(lo, -1e12), min(hi, 1e12)
    if lo > 0 and hi / lo > 1e3:  # wide positive ranges: every decade as likely
        return 10 ** draw(st.floats(math.log10(lo), math.log10(hi)))
    x = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    ok = (x > iv[0] or iv[2]) and (x < iv[1] or iv[3]) if iv else True
    return x if ok else (lo + hi) / 2


@st.composite
def cases(draw, bases, targets):
    base, table, name = draw(st.sampled_from(targets))
    doc, _ = bases[base]
    doc = _deep_copy(doc)
    f = schema()[table][name]
    spelled = name
    if f.type in ("float", "int"):  # sometimes another unit spelling, as a user writes it
        alts = [a for a, (canon, _, _) in aliases(table).items() if canon == name]
        if alts and draw(st.booleans()):
            spelled = draw(st.sampled_from(alts))
    value = draw(values(f, doc, table))
    if table in ELEMENT_TABLES:
        rows = doc[table]
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row.pop(name, None)
        row[spelled] = value
    else:
        section = doc.setdefault(table, {})
        section.pop(name, None)
        section[spelled] = value
    return base, table, spelled, value, doc


def _deep_copy(doc):
    import copy

    return copy.deepcopy(doc)


def _ac_allowance(ds, name: str) -> float:
    """The AC ledgers close to the load flow's mismatch tolerance, not to round-off: pandapower stops when
    no bus is off by more than ``ac_tolerance_w`` (recorded in the results), so a ledger over the AC network
    may be off by the sum over its buses, relative to the plant's power."""
    if not name.startswith(("ac_", "plant_")) or "ac_tolerance_w" not in ds.attrs:
        return 0.0
    p = float(ds.attrs["p_ac_intake_w"] if name == "ac_coupling_residual" else ds.attrs["p_plant_w"])
    return ds.sizes["ac_bus"] * float(ds.attrs["ac_tolerance_w"]) / p if p > 0 else 0.0


def _toml(kit, doc) -> str:
    """TOML of ``doc``; a NUL goes in as its escape (TOML forbids it raw), so the loader sees it."""
    return kit.to_toml(doc).replace("\x00", "\\u0000")


def test_fuzz_cli_and_loader_over_the_schema(kit, monkeypatch):
    import gigawatt.cases.memory as memory
    from click.testing import CliRunner

    from gigawatt.cli import main

    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: FAKE_MEMORY_BYTES)
    bases = _bases(kit)
    targets = _targets(bases)
    assert len(targets) > 250  # every field of every table a base exercises

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not HUNT, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases(bases, targets))
    def check(drawn):
        base, table, field, value, doc = drawn
        where = f"{base}: {table}.{field} = {value!r}"
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            case = folder / "case.toml"
            try:
                case.write_text(_toml(kit, doc), encoding="utf-8")
            except TypeError:  # a value TOML cannot hold (a dict inside a row): not a case file
                return
            try:
                gw.load_case(case)
            except CaseError:
                pass
            except Exception as err:  # noqa: BLE001 - the property: nothing but CaseError
                raise AssertionError(f"{where}: load_case raised {type(err).__name__}: {err}") from err
            out = folder / "out.nc"
            res = CliRunner().invoke(main, ["run", str(case), "-o", str(out)])
            assert "Traceback" not in res.output, f"{where}\n{res.output}"
            assert res.exception is None or isinstance(res.exception, SystemExit), \
                f"{where}: {type(res.exception).__name__}: {res.exception}"
            assert res.exit_code in (0, 2), f"{where}: exit {res.exit_code}\n{res.output}"
            OUTCOMES.append((base, table, field, res.exit_code))
            if res.exit_code == 2:
                lines = res.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}\n{res.stderr}"
                assert not out.exists(), where
            else:
                with xr.open_dataset(out) as ds:
                    residuals = {k: float(v) for k, v in ds.attrs.items() if k.endswith("_residual")}
                    limits = {k: LEDGER_TOL + _ac_allowance(ds, k) for k in residuals}
                if base != "dh":  # a heating network alone has no electrical ledger
                    assert "energy_balance_residual" in residuals, where
                assert residuals, where
                for name, r in residuals.items():
                    assert r <= limits[name], f"{where}: {name} = {r} > {limits[name]}"
            assert sorted(p.name for p in folder.iterdir()) in (["case.toml"], ["case.toml", "out.nc"]), \
                f"{where}: left {sorted(p.name for p in folder.iterdir())}"

    OUTCOMES.clear()
    check()
    codes = [c for *_, c in OUTCOMES]
    # Both outcomes occur: the fuzz reaches solves as well as refusals.
    assert codes.count(0) >= EXAMPLES // 10 and codes.count(2) >= EXAMPLES // 10, codes


OUTCOMES: list = []
