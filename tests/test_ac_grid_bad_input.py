"""Malformed grid sides: one CaseError naming the file, element, field and value (library), one ``error:``
line, exit status 2 and no results file (command line); a load flow that does not converge: a
ConvergenceError naming the weakest bus and pandapower's own diagnosis.

Every case starts from the valid grid side of test_ac_grid.grid_doc and breaks one thing."""
from __future__ import annotations

import pytest

import gigawatt as gw
from gigawatt.errors import CaseError, ConvergenceError


def grid_doc(kit) -> dict:
    doc = kit.base_doc()
    doc["source"][0].update(ac_bus="st", power_factor=0.95)
    doc["ac_bus"] = [{"id": "grid", "v_nominal_kv": 110.0}, {"id": "mv", "v_nominal_kv": 33.0},
                     {"id": "st", "v_nominal_kv": 33.0}]
    doc["ac_trafo"] = [{"id": "t1", "hv_bus": "grid", "lv_bus": "mv", "rated_power_mva": 10.0,
                        "v_rated_hv_kv": 110.0, "v_rated_lv_kv": 33.0, "vk_percent": 10.0, "vkr_percent": 0.5}]
    doc["ac_line"] = [{"id": "cable", "from_bus": "mv", "to_bus": "st", "length_km": 2.0, "r_ohm_per_km": 0.1,
                       "x_ohm_per_km": 0.1, "max_i_ka": 0.4}]
    doc["ac_supply"] = [{"id": "sub", "bus": "grid", "kind": "ext_grid"}]
    return doc


def second_station(doc):
    doc["bus"].append({"id": "d", "v_nominal_v": 800.0})
    doc["line"].append({"id": "l3", "from_bus": "c", "to_bus": "d", "length_m": 5.0, "r_ohm": 0.01})
    doc["source"].append({"id": "s2", "bus": "d", "v_set_v": 800.0, "rated_power_w": 1e6})


def island(doc):
    doc["ac_bus"].append({"id": "far", "v_nominal_kv": 33.0})
    doc["source"][0]["ac_bus"] = "far"


def E(element=None, field=None, value=None, allowed=None, words=()):
    return dict(element=element, field=field, value=value, allowed=allowed, words=tuple(words))


def put(table, row, **fields):
    def mutate(doc):
        doc[table][row].update(fields)
    return mutate


def drop(table, row, field):
    def mutate(doc):
        del doc[table][row][field]
    return mutate


BAD = [
    pytest.param(put("source", 0, ac_bus="nowhere"),
                 E("source 's1'", "ac_bus", "'nowhere'", "ac_bus table"), id="station-on-missing-ac-bus"),
    pytest.param(second_station, E("source 's2'", "ac_bus", words=["without an AC bus"]),
                 id="station-without-ac-bus"),
    pytest.param(put("source", 0, ac_bus=""), E("table 'source'", "ac_bus", words=["no station"]),
                 id="grid-side-feeds-no-station"),
    pytest.param(put("source", 0, power_factor=1.2), E("source 's1'", "power_factor", "1.2", "(0, 1]"),
                 id="power-factor-above-1"),
    pytest.param(put("ac_line", 0, to_bus="grid"), E("ac_line 'cable'", "to_bus", "'grid'", words=["nominal voltage"]),
                 id="line-between-voltage-levels"),
    pytest.param(put("ac_trafo", 0, hv_bus="mv", lv_bus="grid"),
                 E("ac_trafo 't1'", "hv_bus", "'mv'", words=["lower-voltage"]), id="trafo-upside-down"),
    pytest.param(put("ac_line", 0, std_type="no such cable"),
                 E("ac_line 'cable'", "r_ohm_per_m", words=["std_type"]), id="std-type-and-parameters"),
    pytest.param(lambda d: d["ac_line"].__setitem__(0, {"id": "cable", "from_bus": "mv", "to_bus": "st",
                                                        "length_km": 2.0, "std_type": "no such cable"}),
                 E("ac_line 'cable'", "std_type", "'no such cable'", "pandapower"), id="unknown-std-type"),
    pytest.param(drop("ac_line", 0, "x_ohm_per_km"), E("ac_line 'cable'", "x_ohm_per_m", words=["std_type"]),
                 id="line-without-reactance"),
    pytest.param(drop("ac_trafo", 0, "vk_percent"), E("ac_trafo 't1'", "vk_percent", words=["std_type"]),
                 id="trafo-without-vk"),
    pytest.param(put("ac_trafo", 0, vk_percent=0.0), E("ac_trafo 't1'", "vk_percent", "0.0", "(0, 100)"),
                 id="trafo-zero-vk"),
    pytest.param(put("ac_supply", 0, kind="gen"), E("ac_supply 'sub'", "p_w", words=["slack"]),
                 id="gen-neither-slack-nor-dispatched"),
    pytest.param(put("ac_supply", 0, kind="gen", slack=True, va_degree=5.0),
                 E("ac_supply 'sub'", "va_degree", "5.0"), id="gen-with-an-angle"),
    pytest.param(put("ac_supply", 0, kind="battery"), E("ac_supply 'sub'", "kind", "'battery'", "ext_grid"),
                 id="unknown-supply-kind"),
    pytest.param(put("ac_supply", 0, in_service=False), E("source 's1'", "ac_bus", "'st'", words=["no slack"]),
                 id="island-without-slack"),
    pytest.param(island, E("source 's1'", "ac_bus", "'far'", words=["no slack"]), id="station-on-an-island"),
    pytest.param(put("ac_line", 0, from_bus="mvv"), E("ac_line 'cable'", "from_bus", "'mvv'", "ac_bus"),
                 id="line-to-missing-ac-bus"),
]


def check(err, path, expect):
    msg = str(err)
    assert "\n" not in msg and str(path) in msg, msg
    if expect["element"]:
        assert expect["element"] in msg, msg
    if expect["field"]:
        assert f"'{expect['field']}'" in msg, msg
    if expect["value"]:
        assert f"got {expect['value']}" in msg, msg
    if expect["allowed"]:
        assert expect["allowed"] in msg, msg
    for w in expect["words"]:
        assert w in msg, msg


@pytest.mark.parametrize("mutate, expect", BAD)
def test_bad_grid_side(tmp_path, kit, cli, mutate, expect):
    doc = grid_doc(kit)
    mutate(doc)
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        gw.solve(gw.load_case(path))
    check(info.value, path, expect)
    out = tmp_path / "r.nc"
    assert kit.cli_error_line(cli("run", path, "-o", out), out) == f"error: {info.value}"


@pytest.mark.parametrize("params, field", [
    (dict(grid_transformers_per_site=9), "grid_transformers_per_site"),
    (dict(grid_hv_line_std_type="no such line"), "grid_hv_line_std_type"),
    (dict(grid="hvdc"), "grid"),
])
def test_bad_campus_grid_settings(params, field):
    with pytest.raises(CaseError) as info:
        gw.build_campus(**{"halls": 2, "rows_per_hall": 1, "racks_per_row": 2, "grid": "ext_grid", **params})
    assert "[campus]" in str(info.value) and f"'{field}'" in str(info.value)


def test_load_flow_that_does_not_converge_names_the_bus_and_the_diagnosis(tmp_path, kit, cli):
    # The 0.14 MW station behind 50 km of cable of 1000 ohm/km in R and X: it carries a few kW at most.
    doc = grid_doc(kit)
    doc["ac_line"][0].update(length_km=50.0, r_ohm_per_km=1000.0, x_ohm_per_km=1000.0)
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(ConvergenceError) as info:
        gw.solve(gw.load_case(path))
    err = info.value
    assert err.details["bus"] == "st"  # the station's bus, at the end of the cable, is the weakest
    assert 0 < err.details["load_scale"] < 0.5
    assert "overload" in err.details["diagnostic"]  # pandapower's own diagnosis: it converges with less load
    msg = str(err)
    for words in ("does not converge", "'st'", "pandapower's diagnosis:", "overload (load)", str(path)):
        assert words in msg, msg
    out = tmp_path / "r.nc"
    assert kit.cli_error_line(cli("run", path, "-o", out), out) == f"error: {msg}"
