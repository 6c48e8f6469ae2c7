"""Bad input to the district-heating stage (issue 4, "Bad input"): every case below is a small network
written as a TOML file and loaded with ``gw.load_case``, so the error must name the file, the element, the
field and the value; a few go through ``gigawatt run`` too (exit status 2, one ``error:`` line, no
traceback).

A supply temperature that cannot meet a consumer's ``t_supply_min_k`` is not an error: the consumer is
flagged in ``dh_consumer_undersupplied`` and named in the warnings (and the summary).

Each case starts from the valid network of :func:`dh_doc` (the example network of the stage's author: a
line S - A - B with a fixed consumer at A and a vertical farm at B) and breaks one thing. Cases that were
bugs when these tests were written say so in their docstring (they pass now).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError


def pipe(pid, frm, to, length_m=500.0, diameter_m=0.1, **more):
    return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=diameter_m, **more)


def dh_doc() -> dict:
    """A valid district-heating-only case as the dict a TOML file parses to (no buses: the network alone,
    its plant a boiler). Pipes s2/r2 derive their U-value from the default pre-insulated geometry."""
    return {
        "case": {"name": "dh-bad-input"},
        "district_heating": {"supply_node": "S", "return_node": "R"},
        "dh_node": [{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]],
        "dh_pipe": [pipe("s1", "S", "A", u_w_per_m_k=0.4), pipe("s2", "A", "B", 300.0, 0.08),
                    pipe("r1", "Ar", "R", u_w_per_m_k=0.4), pipe("r2", "Br", "Ar", 300.0, 0.08)],
        "dh_consumer": [
            {"id": "cA", "supply_node": "A", "return_node": "Ar", "kind": "fixed", "demand_w": 3e5},
            {"id": "cB", "supply_node": "B", "return_node": "Br", "kind": "vertical_farm", "floor_area_m2": 2000.0,
             "t_supply_min_k": 318.15},
        ],
    }


def assert_names(message: str, *words: str) -> None:
    for w in words:
        assert w in message, f"{w!r} missing from: {message}"
    assert not re.search(r"\bnan\b", message, re.IGNORECASE), message


def error_of(tmp_path, kit, doc, *, on_load=False) -> tuple[str, str]:
    """(message, path) of the CaseError that loading (and, unless ``on_load``, solving) ``doc`` raises."""
    path = kit.write_case(tmp_path, doc)
    with pytest.raises(CaseError) as info:
        case = gw.load_case(path)
        if on_load:
            pytest.fail("loaded without error")
        gw.solve(case)
    return str(info.value), str(path)


def test_base_network_solves(tmp_path, kit):
    """The base case is valid: it loads and solves, nobody is flagged (so every case below breaks exactly
    what it says)."""
    ds = gw.solve(gw.load_case(kit.write_case(tmp_path, dh_doc())))
    assert not ds.dh_consumer_undersupplied.values.any() and ds.attrs["warnings"] == ""
    assert ds.attrs["dh_heat_balance_residual"] <= 1e-9


# --- a consumer no path reaches ---------------------------------------------------------------------

@pytest.mark.parametrize("field, node", [("supply_node", "X"), ("return_node", "Xr")])
def test_consumer_no_path_reaches_is_named(tmp_path, kit, field, node):
    """The farm's node exists but no pipe joins it to the plant's side."""
    doc = dh_doc()
    doc["dh_node"].append({"id": node})
    doc["dh_consumer"][1][field] = node
    message, path = error_of(tmp_path, kit, doc)
    plant = "S" if field == "supply_node" else "R"
    assert_names(message, path, "dh_consumer 'cB'", f"field '{field}'", f"got '{node}'", f"connected to '{plant}'")


def test_consumer_cut_off_by_a_pipe_out_of_service_is_named(tmp_path, kit):
    doc = dh_doc()
    doc["dh_pipe"][0]["in_service"] = False  # s1: S - A, the only way to A and B
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_consumer 'cA'", "field 'supply_node'", "got 'A'")


def test_consumer_taking_water_from_the_return_network_is_named(tmp_path, kit):
    doc = dh_doc()
    doc["dh_consumer"][1]["supply_node"] = "Br"
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_consumer 'cB'", "field 'supply_node'", "got 'Br'", "connected to 'S'")


# --- the plant ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["supply_node", "return_node"])
def test_plant_node_that_does_not_exist_is_refused_on_load(tmp_path, kit, field):
    doc = dh_doc()
    doc["district_heating"][field] = "Q"
    message, path = error_of(tmp_path, kit, doc, on_load=True)
    assert_names(message, path, "[district_heating]", f"field '{field}'", "got 'Q'", "dh_node")


def test_network_without_a_supply_node_is_refused_on_load(tmp_path, kit):
    doc = dh_doc()
    del doc["district_heating"]["supply_node"]
    message, path = error_of(tmp_path, kit, doc, on_load=True)
    assert_names(message, path, "[district_heating]", "field 'supply_node'", "missing")


def test_supply_and_return_joined_without_supply_pressure_is_refused(tmp_path, kit):
    """A bypass pipe B - Br joins the two networks: the pump's lift is then no single pressure, so the plant's
    supply pressure must be given. With it given, the same network solves (the bypass carries supply water
    into the return)."""
    doc = dh_doc()
    doc["dh_pipe"].append(pipe("bypass", "B", "Br", 20.0, 0.05, u_w_per_m_k=0.4))
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "[district_heating]", "field 'p_supply_pa'")

    doc["district_heating"]["p_supply_pa"] = 6e5
    ds = gw.solve(gw.load_case(kit.write_case(tmp_path, doc, "with_pressure.toml")))
    assert float(ds.dh_pipe_flow_kg_s.sel(dh_pipe="bypass")) > 0  # from supply B to return Br
    assert float(ds.dh_p_pa.sel(dh_node="S")) == 6e5


# --- pipe geometry -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, allowed", [
    ("length_m", 0.0, "(0, 1e6] m"),
    ("length_m", -300.0, "(0, 1e6] m"),
    ("diameter_m", 0.0, "(0, 5] m"),
    ("diameter_m", -0.08, "(0, 5] m"),
    ("u_w_per_m_k", -0.4, "[0, 1000]"),
    ("roughness_m", -1e-4, "[0, 0.01] m"),
    ("outer_diameter_m", 0.0, "(0, 5] m"),
    ("casing_diameter_m", -0.2, "(0, 6] m"),
    ("depth_m", 0.0, "(0, 50] m"),
    ("insulation_conductivity_w_per_m_k", 0.0, "(0, 1]"),
])
def test_non_physical_pipe_geometry_refused_on_load(tmp_path, kit, field, value, allowed):
    doc = dh_doc()
    doc["dh_pipe"][1][field] = value
    message, path = error_of(tmp_path, kit, doc, on_load=True)
    assert_names(message, path, "dh_pipe 's2'", f"field '{field}'", f"got {value!r}", allowed)


def test_casing_inside_the_service_pipe_is_refused(tmp_path, kit):
    """casing_diameter_m = 0.05 m inside the 0.088 m steel pipe (default outer = 1.1 x 0.08) makes
    ln(D_c/D_s) < 0: it gave U' = -0.349 W/(m K), pipe s2 gained 7.3 kW from 10 degC ground and delivered
    86.1 degC from a 75 degC plant, without a word (buried_single_pipe_u's validity 2H > D_c > D_s > 0 was
    unchecked). Refused, naming the pipe and field."""
    doc = dh_doc()
    doc["dh_pipe"][1]["casing_diameter_m"] = 0.05
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_pipe 's2'", "field 'casing_diameter_m'", "got 0.05", "0.088 m")


def test_pipe_shallower_than_its_casing_is_named(tmp_path, kit):
    """A pipe buried shallower than its casing's radius (depth 0.1 m, default casing 2 x 0.088 + 0.05 =
    0.226 m) made arccosh(2H/D_c) NaN and the solve failed far downstream ("node 'B', field
    'node_injection_kg_s': got nan": no file, not the pipe, not depth_m). Refused, naming them."""
    doc = dh_doc()
    doc["dh_pipe"][1]["depth_m"] = 0.1
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_pipe 's2'", "field 'depth_m'", "got 0.1", "0.113 m")


def test_outer_diameter_inside_the_bore_is_refused(tmp_path, kit):
    """outer_diameter_m below the inner diameter_m (0.05 < 0.08 m: a steel wall of negative thickness) was
    accepted without a word."""
    doc = dh_doc()
    doc["dh_pipe"][1]["outer_diameter_m"] = 0.05
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_pipe 's2'", "field 'outer_diameter_m'", "got 0.05", "0.08 m")


def test_roughness_beyond_the_solver_range_names_file_and_value(tmp_path, kit):
    """roughness_m = 8 mm passes the schema ([0, 0.01] m) on a 0.1 m pipe, beyond the friction factor's
    range (eps/D <= 0.05). The hydraulic solver's refusal named no file, called the element "pipe 's2'" and
    reported the relative roughness 0.08 under the absolute field's name; now the stage refuses it first
    with what the user wrote."""
    doc = dh_doc()
    doc["dh_pipe"][1].update(roughness_m=0.008, diameter_m=0.1)
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, "dh_pipe 's2'", "field 'roughness_m'", "got 0.008", "0.005 m")


# --- consumers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("index, kind, missing", [
    (1, "vertical_farm", "floor_area_m2"),
    (0, "fixed", "demand_w"),
    (0, "process", "demand_w"),
    (0, "mass_flow", "mass_flow_kg_s"),
    (0, "homes_siglinde", "customer_value_w"),
])
def test_kind_missing_its_parameter_is_named(tmp_path, kit, index, kind, missing):
    doc = dh_doc()
    row = doc["dh_consumer"][index]
    for f in ("demand_w", "floor_area_m2"):
        row.pop(f, None)
    row["kind"] = kind
    message, path = error_of(tmp_path, kit, doc)
    assert_names(message, path, f"dh_consumer '{row['id']}'", f"field '{missing}'", kind)


def test_unknown_consumer_kind_refused_with_the_choices(tmp_path, kit):
    doc = dh_doc()
    doc["dh_consumer"][0]["kind"] = "sauna"
    message, path = error_of(tmp_path, kit, doc, on_load=True)
    assert_names(message, path, "dh_consumer 'cA'", "field 'kind'", "'sauna'", "vertical_farm", "homes_degree_days")


def test_pipe_to_a_node_that_does_not_exist_refused_on_load(tmp_path, kit):
    doc = dh_doc()
    doc["dh_pipe"][1]["to_node"] = "Z"
    message, path = error_of(tmp_path, kit, doc, on_load=True)
    assert_names(message, path, "dh_pipe 's2'", "field 'to_node'", "got 'Z'")


# --- a supply temperature that cannot meet a consumer: a flag, not an error -----------------------------

def test_supply_too_cold_for_a_consumer_flags_and_names_it(tmp_path, kit):
    """The plant supplies 50 degC: the homes at A need 60 degC (the default t_supply_min_k) and are flagged;
    the farm at B needs 45 degC and gets ~47 degC, so it is not. Both still get their heat (the water is
    warmer than their 40 degC return), and the farm's area counts as served."""
    doc = dh_doc()
    doc["district_heating"]["t_supply_k"] = 323.15
    ds = gw.solve(gw.load_case(kit.write_case(tmp_path, doc)))
    flags = dict(zip(ds.dh_consumer.values, ds.dh_consumer_undersupplied.values))
    t_in = dict(zip(ds.dh_consumer.values, ds.dh_consumer_t_supply_k.values))
    assert flags == {"cA": True, "cB": False}
    assert t_in["cA"] < 333.15 and 318.15 < t_in["cB"] < 323.15
    assert ds.attrs["dh_undersupplied"] == 1
    assert "consumer 'cA' gets" in ds.attrs["warnings"] and "60.0 °C it needs" in ds.attrs["warnings"]
    assert "cB" not in ds.attrs["warnings"]
    np.testing.assert_allclose(ds.dh_consumer_q_w, ds.dh_consumer_demand_w, rtol=1e-9)
    assert ds.attrs["vertical_farm_area_served_m2"] == 2000.0


def test_cli_names_the_under_supplied_consumer(tmp_path, kit, cli):
    doc = dh_doc()
    doc["district_heating"]["t_supply_k"] = 323.15
    res = cli("run", kit.write_case(tmp_path, doc), "--no-output")
    assert res.exit_code == 0, res.output
    assert "1 consumers under-supplied" in res.stdout
    assert "\nwarnings\n" in res.stdout and "consumer 'cA' gets" in res.stdout.split("\nwarnings\n")[1]


@pytest.mark.parametrize("change, words", [
    (lambda d: (d["dh_node"].append({"id": "X"}), d["dh_consumer"][1].update(supply_node="X")),
     ("dh_consumer 'cB'", "field 'supply_node'", "got 'X'")),
    (lambda d: d["dh_pipe"][1].update(diameter_m=-0.08), ("dh_pipe 's2'", "field 'diameter_m'", "-0.08")),
    (lambda d: d["dh_consumer"][1].pop("floor_area_m2"), ("dh_consumer 'cB'", "field 'floor_area_m2'")),
], ids=["unreachable", "negative-diameter", "farm-without-area"])
def test_cli_refuses_with_one_error_line(tmp_path, kit, cli, change, words):
    doc = dh_doc()
    change(doc)
    path = kit.write_case(tmp_path, doc)
    res = cli("run", path, "-o", tmp_path / "out.nc")
    assert_names(kit.cli_error_line(res, tmp_path / "out.nc"), str(path), *words)
