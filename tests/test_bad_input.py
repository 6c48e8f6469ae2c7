"""Malformed input: every case gets one CaseError (a ValueError) that names the file, the element, the
field, the value and the allowed range; through the command line, a non-zero exit with one readable
``error: ...`` line, no traceback and no results file.

Every case starts from the small valid case of ``conftest.base_doc`` and breaks exactly one thing, so the
error can only come from that one thing.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError


# --- builders: each returns the path of a case file written in tmp_path ----------------------------

def doc_with(mutate):
    """Builder: the base case with ``mutate(doc)`` applied, written as case.toml."""
    def build(tmp_path, kit):
        doc = kit.base_doc()
        mutate(doc)
        return kit.write_case(tmp_path, doc)
    return build


def text_file(text: str | bytes, name="case.toml"):
    def build(tmp_path, kit):
        path = tmp_path / name
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
        return path
    return build


def csv_lines(csv_text: str | None):
    """Builder: the base case with its line table in lines.csv (not written when ``csv_text`` is None)."""
    def build(tmp_path, kit):
        doc = kit.base_doc()
        doc["line"] = "lines.csv"
        if csv_text is not None:
            (tmp_path / "lines.csv").write_text(csv_text)
        return kit.write_case(tmp_path, doc)
    return build


GOOD_LINES_CSV = """id, from_bus, to_bus, length_m, cross_section_m2, r_ohm
l1, a, b, 20, 5e-4,
l2, b, c, 10, , 0.002
"""


def setitem(path, value):
    """Mutation: set doc[path[0]][path[1]]...[path[-1]] = value."""
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def delitem(path):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def rename(path, new):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[new] = node.pop(path[-1])
    return mutate


def both(*mutations):
    def mutate(doc):
        for m in mutations:
            m(doc)
    return mutate


def add_island(doc):
    doc["bus"] += [{"id": "x1", "v_nominal_v": 800.0}, {"id": "x2", "v_nominal_v": 800.0}]
    doc["line"].append({"id": "lx", "from_bus": "x1", "to_bus": "x2", "length_m": 5.0, "r_ohm": 0.01})
    doc["rack"].append({"id": "rx", "bus": "x2", "p_it_w": 1e4})


# --- the malformed cases ---------------------------------------------------------------------------
# expect: file (name inside tmp_path), element, field, value (as it must appear in the message), allowed
# (a substring of the allowed range/set), words (other substrings the message must contain).

def E(file="case.toml", element=None, field=None, value=None, allowed=None, words=()):
    return dict(file=file, element=element, field=field, value=value, allowed=allowed, words=tuple(words))


BAD = [
    # missing required fields
    pytest.param(doc_with(delitem(["bus", 1, "v_nominal_v"])),
                 E(element="bus 'b'", field="v_nominal_v", words=["missing"]), id="missing-bus-v_nominal_v"),
    pytest.param(doc_with(delitem(["line", 0, "length_m"])),
                 E(element="line 'l1'", field="length_m", words=["missing"]), id="missing-line-length_m"),
    pytest.param(doc_with(delitem(["source", 0, "v_set_v"])),
                 E(element="source 's1'", field="v_set_v", words=["missing"]), id="missing-source-v_set_v"),
    pytest.param(doc_with(delitem(["rack", 1, "p_it_w"])),
                 E(element="rack 'r2'", field="p_it_w", words=["missing"]), id="missing-rack-p_it_w"),
    pytest.param(doc_with(delitem(["loss_models", "dcdc", "c_ohm"])),
                 E(element="loss model 'dcdc'", field="c_ohm", words=["missing"]), id="missing-loss-param"),
    # unknown fields, with a did-you-mean
    pytest.param(doc_with(rename(["line", 0, "length_m"], "lenght_m")),
                 E(element="line", field="lenght_m", words=["did you mean 'length_m'"]), id="unknown-line-field"),
    pytest.param(doc_with(rename(["rack", 0, "p_it_w"], "p_it_kW")),
                 E(element="rack", field="p_it_kW", words=["did you mean 'p_it_kw'"]), id="unknown-rack-field"),
    pytest.param(doc_with(lambda d: d.update(solver={"max_iteration": 40})),
                 E(element="[solver]", field="max_iteration", words=["did you mean 'max_iterations'"]),
                 id="unknown-solver-setting"),
    pytest.param(doc_with(rename(["loss_models", "station", "efficiency"], "eficiency")),
                 E(element="loss model 'station'", field="eficiency", words=["did you mean 'efficiency'"]),
                 id="unknown-loss-param"),
    # wrong type: text (or a boolean) where a number is expected
    pytest.param(doc_with(setitem(["line", 0, "length_m"], "ten")),
                 E(element="line 'l1'", field="length_m", value="'ten'", words=["number"]), id="text-length"),
    pytest.param(doc_with(setitem(["bus", 2, "v_nominal_v"], "800V")),
                 E(element="bus 'c'", field="v_nominal_v", value="'800V'", words=["number"]), id="text-voltage"),
    pytest.param(doc_with(setitem(["rack", 0, "p_it_w"], True)),
                 E(element="rack 'r1'", field="p_it_w", value="True", words=["number"]), id="bool-power"),
    pytest.param(doc_with(lambda d: d.update(solver={"max_iterations": "many"})),
                 E(element="[solver]", field="max_iterations", value="'many'", words=["number"]),
                 id="text-solver-setting"),
    pytest.param(doc_with(setitem(["loss_models", "station", "efficiency"], "high")),
                 E(element="loss model 'station'", field="efficiency", value="'high'", allowed="(0, 1]"),
                 id="text-efficiency"),
    # out of range: resistance, length, voltages
    pytest.param(doc_with(setitem(["line", 1, "r_ohm"], -0.002)),
                 E(element="line 'l2'", field="r_ohm", value="-0.002", allowed="(0, 1e6] ohm"), id="negative-r"),
    pytest.param(doc_with(setitem(["line", 0, "length_m"], -1.0)),
                 E(element="line 'l1'", field="length_m", value="-1.0", allowed="(0, 1e6] m"), id="negative-length"),
    pytest.param(doc_with(setitem(["line", 1, "length_m"], 0.0)),
                 E(element="line 'l2'", field="length_m", value="0.0", allowed="(0, 1e6] m"), id="zero-length"),
    pytest.param(doc_with(setitem(["bus", 1, "v_nominal_v"], 0.0)),
                 E(element="bus 'b'", field="v_nominal_v", value="0.0", allowed="(0, 1e6] V"), id="zero-v_nominal"),
    pytest.param(doc_with(setitem(["bus", 3, "v_nominal_v"], -50.0)),
                 E(element="bus 'lv'", field="v_nominal_v", value="-50.0", allowed="(0, 1e6] V"),
                 id="negative-v_nominal"),
    pytest.param(doc_with(setitem(["source", 0, "v_set_v"], 0.0)),
                 E(element="source 's1'", field="v_set_v", value="0.0", allowed="(0, 1e6] V"), id="zero-v_set"),
    pytest.param(doc_with(setitem(["converter", 0, "v_set_v"], -50.0)),
                 E(element="converter 'dc1'", field="v_set_v", value="-50.0", allowed="(0, 1e6] V"),
                 id="negative-converter-v_set"),
    pytest.param(doc_with(setitem(["line", 0, "length_m"], math.inf)),
                 E(element="line 'l1'", field="length_m", value="inf", allowed="(0, 1e6] m"), id="infinite-length"),
    # efficiencies above 1
    pytest.param(doc_with(setitem(["loss_models", "station", "efficiency"], 1.05)),
                 E(element="loss model 'station'", field="efficiency", value="1.05", allowed="(0, 1]"),
                 id="constant-efficiency-above-1"),
    pytest.param(doc_with(setitem(["loss_models", "shelf", "efficiency"], [0.95, 1.2, 0.975])),
                 E(element="loss model 'shelf'", field="efficiency[1]", value="1.2", allowed="(0, 1]"),
                 id="curve-efficiency-above-1"),
    pytest.param(doc_with(setitem(["rack", 0, "vrm_efficiency"], 1.1)),
                 E(element="rack 'r1'", field="vrm_efficiency", value="1.1", allowed="(0, 1]"),
                 id="vrm-efficiency-above-1"),
    # loss curves: loss falling with load, load fractions not increasing
    # (loss/rated = x(1/eta - 1): 0.00526, 0.0102, then 0.001 at x = 1 with eta = 0.999: it falls)
    pytest.param(doc_with(setitem(["loss_models", "shelf", "efficiency"], [0.95, 0.98, 0.999])),
                 E(element="loss model 'shelf'", field="efficiency[2]", value="0.999", words=["falls"]),
                 id="loss-curve-not-monotone"),
    pytest.param(doc_with(setitem(["loss_models", "shelf", "load_fraction"], [0.1, 0.5, 0.4])),
                 E(element="loss model 'shelf'", field="load_fraction[2]", value="0.4", allowed="> 0.5"),
                 id="load-fraction-decreasing"),
    pytest.param(doc_with(setitem(["loss_models", "shelf", "load_fraction"], [0.1, 0.5, 0.5])),
                 E(element="loss model 'shelf'", field="load_fraction[2]", value="0.5", allowed="> 0.5"),
                 id="load-fraction-repeated"),
    # references to things that do not exist
    pytest.param(doc_with(setitem(["line", 1, "to_bus"], "cc")),
                 E(element="line 'l2'", field="to_bus", value="'cc'", allowed="bus"), id="line-to-missing-bus"),
    pytest.param(doc_with(setitem(["rack", 1, "bus"], "nowhere")),
                 E(element="rack 'r2'", field="bus", value="'nowhere'", allowed="bus"), id="rack-on-missing-bus"),
    pytest.param(doc_with(setitem(["converter", 0, "from_bus"], "d")),
                 E(element="converter 'dc1'", field="from_bus", value="'d'", allowed="bus"),
                 id="converter-from-missing-bus"),
    pytest.param(doc_with(setitem(["source", 0, "loss_model"], "sst_99")),
                 E(element="source 's1'", field="loss_model", value="'sst_99'", allowed="station"),
                 id="unknown-loss-model-name"),
    pytest.param(doc_with(setitem(["loss_models", "dcdc", "kind"], "magic")),
                 E(element="loss model 'dcdc'", field="kind", value="'magic'", allowed="quadratic"),
                 id="unknown-loss-model-kind"),
    pytest.param(doc_with(setitem(["line", 0, "kind"], "wire")),
                 E(element="line 'l1'", field="kind", value="'wire'", allowed="cable"), id="unknown-line-kind"),
    # duplicate ids
    pytest.param(doc_with(lambda d: d["bus"].append({"id": "b", "v_nominal_v": 800.0})),
                 E(element="bus 'b'", field="id", value="'b'"), id="duplicate-bus"),
    pytest.param(doc_with(setitem(["line", 1, "id"], "l1")),
                 E(element="line 'l1'", field="id", value="'l1'"), id="duplicate-line"),
    # an island with no source: found by the solver, still an input error naming the file and its buses
    pytest.param(doc_with(add_island),
                 E(element="bus 'x1'", words=["'x1'", "'x2'", "source"]), id="island-without-source"),
    # unknown top-level table
    pytest.param(doc_with(lambda d: d.update(heating={"t_supply_k": 300.0})),
                 E(field="heating", allowed="bus"), id="unknown-top-level"),
    # unit alias given together with its canonical name, in one row
    pytest.param(doc_with(setitem(["line", 0, "length_km"], 0.02)),
                 E(element="line 'l1'", field="length_m", words=["length_km"]), id="alias-and-canonical"),
    pytest.param(doc_with(setitem(["rack", 0, "p_it_kw"], 100.0)),
                 E(element="rack 'r1'", field="p_it_w", words=["p_it_kw"]), id="alias-and-canonical-rack"),
    # an alias out of range: the message names the field as the user wrote it
    pytest.param(doc_with(both(delitem(["line", 0, "length_m"]), setitem(["line", 0, "length_km"], -0.001))),
                 E(element="line 'l1'", field="length_km", allowed="(0"), id="alias-out-of-range"),
    # unreadable files
    pytest.param(lambda tmp_path, kit: tmp_path / "nothing-here.toml", E(file="nothing-here.toml", words=["not found"]),
                 id="missing-file"),
    pytest.param(text_file('[[bus]]\nid = "a"\nv_nominal_v = \n'), E(words=["TOML"]), id="invalid-toml"),
    pytest.param(text_file(b"\xff\xfe\x00[bus\x00"), E(), id="binary-file"),
    pytest.param(csv_lines(None), E(file="lines.csv", words=["not found"]), id="csv-missing"),
    pytest.param(csv_lines(GOOD_LINES_CSV.replace("l2, b, c, 10,", "l2, b, c, ten,")),
                 E(file="lines.csv", element="line 'l2'", field="length_m", value="'ten'"), id="csv-text-value"),
    pytest.param(csv_lines(GOOD_LINES_CSV.replace("l1, a, b, 20,", "l1, a, b, -20,")),
                 E(file="lines.csv", element="line 'l1'", field="length_m", value="-20.0", allowed="(0, 1e6] m"),
                 id="csv-negative-length"),
    pytest.param(csv_lines(GOOD_LINES_CSV.replace("l2, b, c,", "l2, b, q,")),
                 E(file="lines.csv", element="line 'l2'", field="to_bus", value="'q'"), id="csv-missing-bus"),
    pytest.param(csv_lines(GOOD_LINES_CSV + 'l3, a, "c\n'), E(file="lines.csv"), id="csv-unparsable"),
]


def load_and_solve(path):
    return gw.solve(gw.load_case(path))


def check_message(err: Exception, tmp_path, expect: dict):
    """The error is a CaseError whose text names everything ``expect`` lists."""
    assert isinstance(err, CaseError) and isinstance(err, ValueError)
    msg = str(err)
    assert "\n" not in msg, "one line"
    assert str(tmp_path / expect["file"]) in msg, f"file not named: {msg}"
    if expect["element"]:
        assert expect["element"] in msg, f"element {expect['element']!r} not named: {msg}"
    if expect["field"]:
        assert f"'{expect['field']}'" in msg, f"field {expect['field']!r} not named: {msg}"
    if expect["value"]:
        assert f"got {expect['value']}" in msg, f"value {expect['value']} not shown: {msg}"
    if expect["allowed"]:
        assert expect["allowed"] in msg, f"allowed {expect['allowed']!r} not shown: {msg}"
    for w in expect["words"]:
        assert w in msg, f"{w!r} missing: {msg}"
    # numbers read as a person writes them, not as numpy reprs like np.float64(-1.0)
    assert "np." not in msg and "numpy" not in msg, msg


@pytest.mark.parametrize("build, expect", BAD)
def test_library_raises_case_error(tmp_path, kit, build, expect):
    path = build(tmp_path, kit)
    with pytest.raises(CaseError) as info:
        load_and_solve(path)
    check_message(info.value, tmp_path, expect)
    err = info.value
    # The structured attributes agree with the text (callers can act on them without parsing).
    if expect["field"] and expect["field"] in {"length_m", "r_ohm", "v_nominal_v", "v_set_v", "p_it_w"}:
        assert err.field == expect["field"]


@pytest.mark.parametrize("build, expect", BAD)
def test_cli_one_error_line_and_no_results_file(tmp_path, kit, cli, build, expect):
    path = build(tmp_path, kit)
    out = tmp_path / "out" / "result.nc"
    out.parent.mkdir()
    res = cli("run", path, "-o", out)
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), "a clean exit, not an escaped exception"
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    # the same words as the library error
    with pytest.raises(CaseError) as info:
        load_and_solve(path)
    assert lines[0] == f"error: {info.value}"
    assert res.stdout == "", "no summary for a case that failed"
    assert list(out.parent.iterdir()) == [], "no results file (nor a partial one) is written"


def test_unknown_field_in_a_toml_row_names_that_row(tmp_path, kit):
    # In a TOML [[line]] array each row is its own table, so a typo in one of them can be pinned to that
    # row; "table 'line'" makes the user search every row.
    doc = kit.base_doc()
    doc["line"][1]["lenght_m"] = doc["line"][1].pop("length_m")
    with pytest.raises(CaseError) as info:
        gw.load_case(kit.write_case(tmp_path, doc))
    assert "line 'l2'" in str(info.value)


# --- unit aliases ----------------------------------------------------------------------------------

@pytest.mark.parametrize("table, row, alias, given, canonical, expected", [
    # expected = given x the SI factor of the alias (km = 1e3 m, mm2 = 1e-6 m2, degC + 273.15 = K,
    # kW = 1e3 W, kV = 1e3 V); rel 1e-15 allows the one rounding of that multiplication or addition.
    ("line", 0, "length_km", 0.02, "length_m", 20.0),
    ("line", 0, "cross_section_mm2", 500.0, "cross_section_m2", 5e-4),
    ("line", 0, "conductor_temp_c", 70.0, "conductor_temp_k", 343.15),
    ("rack", 0, "p_it_kw", 100.0, "p_it_w", 1e5),
    ("bus", 1, "v_nominal_kv", 0.8, "v_nominal_v", 800.0),
    ("source", 0, "rated_power_mw", 2.0, "rated_power_w", 2e6),
])
def test_unit_alias_converts(tmp_path, kit, table, row, alias, given, canonical, expected):
    plain = kit.base_doc()
    plain[table][row][canonical] = expected
    aliased = kit.base_doc()
    aliased[table][row].pop(canonical, None)
    aliased[table][row][alias] = given
    got = gw.load_case(kit.write_case(tmp_path, aliased, "aliased.toml"))
    ref = gw.load_case(kit.write_case(tmp_path, plain, "plain.toml"))
    assert got.tables[table][canonical].iloc[row] == pytest.approx(expected, rel=1e-15)
    assert alias not in got.tables[table].columns
    # And the solution is the one of the canonical spelling (same physics; rel 1e-12 covers the
    # last-bit difference of the converted value propagating through a converged Newton solve).
    np.testing.assert_allclose(gw.solve(got).v_v.values, gw.solve(ref).v_v.values, rtol=1e-12)


def test_alias_in_one_row_canonical_in_another(tmp_path, kit):
    # Each TOML row is its own table: one line in km and the next in m is fine, and each converts.
    doc = kit.base_doc()
    doc["line"][0]["length_km"] = doc["line"][0].pop("length_m") / 1e3
    case = gw.load_case(kit.write_case(tmp_path, doc))
    assert case.tables["line"]["length_m"].tolist() == pytest.approx([20.0, 10.0], rel=1e-15)


def test_campus_alias_and_bad_value(tmp_path, kit):
    # The [campus] builder's settings go through the same schema: an alias converts (1.5 km = 1500 m,
    # exact in binary after x 1e3) and a bad value names the table, field, value and range.
    doc = {"campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2, "feeder_length_km": 1.5}}
    case = gw.load_case(kit.write_case(tmp_path, doc))
    feeder = case.tables["line"].set_index("id").loc["H1-R1-feeder", "length_m"]
    assert feeder == 1500.0
    doc["campus"]["halls"] = 0
    with pytest.raises(CaseError) as info:
        gw.load_case(kit.write_case(tmp_path, doc))
    msg = str(info.value)
    for part in ("[campus]", "'halls'", "got 0", "[1, 10000]", str(tmp_path / "case.toml")):
        assert part in msg, msg
