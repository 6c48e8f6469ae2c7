"""Malformed bipolar input: each new field ([dc] system and earthing, line neutral_cross_section_m2 and
neutral_r_ohm, rack pole, campus rack_pole) and a bipolar case missing its neutral give one CaseError naming the file, element,
field and value; through the command line, exit status 2, one ``error:`` line and no results file.

Each case starts from a valid bipolar version of ``conftest.base_doc`` and breaks exactly one thing.
"""
from __future__ import annotations

import pytest

import gigawatt as gw
from gigawatt.errors import CaseError




def bipolar_doc(kit) -> dict:
    """``base_doc`` as a ±400 V bipolar case (the 50 V level becomes ±25 V), one rack on the positive pole."""
    doc = kit.base_doc()
    doc["dc"] = {"system": "bipolar"}
    for bus in doc["bus"]:
        bus["v_nominal_v"] /= 2
    doc["source"][0]["v_set_v"] = 400.0
    doc["converter"][0]["v_set_v"] = 25.0
    doc["rack"][0]["pole"] = "positive"
    return doc


def set_(*path_value):
    *path, value = path_value

    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


BAD = [
    pytest.param(set_("dc", "system", "tripolar"),
                 dict(element="[dc]", field="system", value="'tripolar'", allowed="{monopolar, bipolar}"),
                 id="unknown-dc-system"),
    pytest.param(set_("dc", "earthing", "ground"),
                 dict(element="[dc]", field="earthing", value="'ground'", allowed="{every_station, one_per_zone}"),
                 id="unknown-earthing"),
    pytest.param(lambda d: d["dc"].update(sytem="bipolar"),
                 dict(element="[dc]", field="sytem", words=("did you mean 'system'",)), id="unknown-dc-field"),
    pytest.param(set_("line", 0, "neutral_cross_section_m2", 0.0),
                 dict(element="line 'l1'", field="neutral_cross_section_m2", value="0.0",
                      words=("needs its neutral conductor",)), id="bipolar-line-without-neutral"),
    pytest.param(set_("line", 1, "neutral_cross_section_mm2", 0.0),
                 dict(element="line 'l2'", field="neutral_cross_section_m2", value="0.0",
                      words=("needs its neutral conductor",)), id="bipolar-line-without-neutral-mm2"),
    pytest.param(set_("line", 0, "neutral_cross_section_m2", -1e-4),
                 dict(element="line 'l1'", field="neutral_cross_section_m2", value="-0.0001", allowed="[0, 1] m2"),
                 id="negative-neutral-cross-section"),
    pytest.param(set_("line", 0, "neutral_cross_section_m2", "full"),
                 dict(element="line 'l1'", field="neutral_cross_section_m2", value="'full'", words=("number",)),
                 id="text-neutral-cross-section"),
    pytest.param(set_("line", 1, "neutral_r_ohm", 0.0),
                 dict(element="line 'l2'", field="neutral_r_ohm", value="0.0", allowed="(0, 1e6] ohm"),
                 id="zero-neutral-r"),
    pytest.param(set_("line", 1, "neutral_r_ohm", -0.001),
                 dict(element="line 'l2'", field="neutral_r_ohm", value="-0.001", allowed="(0, 1e6] ohm"),
                 id="negative-neutral-r"),
    pytest.param(set_("rack", 1, "pole", "middle"),
                 dict(element="rack 'r2'", field="pole", value="'middle'", allowed="{bipolar, positive, negative}"),
                 id="unknown-rack-pole"),
    pytest.param(lambda d: (d.pop("dc"), [b.update(v_nominal_v=2 * b["v_nominal_v"]) for b in d["bus"]]),
                 dict(element="rack 'r1'", field="pole", value="'positive'", words=("bipolar DC system",)),
                 id="single-pole-rack-in-monopolar-case"),
]


def check(msg: str, path, expect: dict):
    assert "\n" not in msg
    assert str(path) in msg, msg
    assert expect["element"] in msg, msg
    assert f"field '{expect['field']}'" in msg, msg
    if "value" in expect:
        assert f"got {expect['value']}" in msg, msg
    if "allowed" in expect:
        assert expect["allowed"] in msg, msg
    for w in expect.get("words", ()):
        assert w in msg, msg
    assert "np." not in msg, msg


@pytest.mark.parametrize("mutate, expect", BAD)
def test_library_error(tmp_path, kit, mutate, expect):
    doc = bipolar_doc(kit)
    gw.solve(gw.load_case(kit.write_case(tmp_path, doc, "good.toml")))  # the unbroken case solves
    mutate(doc)
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.solve(gw.load_case(path))
    check(str(info.value), path, expect)
    assert info.value.field == expect["field"]


@pytest.mark.parametrize("mutate, expect", BAD)
def test_cli_error_line(tmp_path, kit, cli, mutate, expect):
    doc = bipolar_doc(kit)
    mutate(doc)
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "result.nc"
    line = kit.cli_error_line(cli("run", path, "-o", out), out)
    check(line, path, expect)


def test_campus_rack_pole(tmp_path, kit, cli):
    doc = {"case": {"name": "c"}, "campus": {"halls": 1, "rows_per_hall": 1, "racks_per_row": 2, "v_dc_v": 400,
                                             "rack_pole": "both"}, "dc": {"system": "bipolar"}}
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.load_case(path)
    check(str(info.value), path, dict(element="[campus]", field="rack_pole", value="'both'", allowed="alternating"))
    # A campus of single-pole racks needs the bipolar system.
    doc["campus"]["rack_pole"] = "alternating"
    del doc["dc"]
    path = kit.write_case(tmp_path, doc)
    out = tmp_path / "c.nc"
    line = kit.cli_error_line(cli("run", path, "-o", out), out)
    check(line, path, dict(element="rack 'H1-R1-rack1'", field="pole", value="'positive'"))
