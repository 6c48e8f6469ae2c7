"""What the user reads: powers in the prefix their magnitude calls for, swept values in the units typed, the
builders' keyword signatures generated from the schema table, ``--year``'s own default file name, bench
output without internal references."""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.cases.schema import schema
from gigawatt.quantities import engineering


@pytest.mark.parametrize("value, text", [(2e-4 * 1e6, "200 W"), (1.27407e7, "12.741 MW"), (5.86e9, "5.86 GW"),
                                         (88372.4, "88.372 kW"), (0.0, "0 W"), (0.5, "500 mW")])
def test_engineering_prefix_by_magnitude(value, text):
    assert engineering(value, "W") == text


def test_summary_prints_no_tiny_megawatts():
    """A lossless station prints 0 W, a 554 W busway loss as W, not '0.0006 MW'."""
    from gigawatt.summary import format_summary

    ds = gw.solve(gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, rack_it_power_kw=10,
                                  station_loss_model="none"))
    text = format_summary(ds)
    assert not re.search(r"\b0\.000\d+ MW", text)
    station = next(line for line in text.splitlines() if line.strip().startswith("ac_dc_station"))
    assert " 0 W " in station


def test_sweep_table_echoes_values_as_typed():
    """A sweep over cooling.facility_supply_t_c shows 30 and 35 (°C), not 303.15 K, under the typed name."""
    from gigawatt.sweep import format_sweep

    t = np.array([303.15, 308.15])
    ds = xr.Dataset({"pue": ("scenario", [1.05, 1.04]), "status": ("scenario", ["ok", "ok"]),
                     "error": ("scenario", ["", ""])},
                    coords={"scenario": [0, 1], "cooling.facility_supply_t_k": (
                        "scenario", t, {"given_as": "cooling.facility_supply_t_c", "units": "K"})})
    head, first, second = format_sweep(ds).splitlines()[:3]
    assert "cooling.facility_supply_t_c" in head and "303.15" not in first
    assert first.split()[1] == "30" and second.split()[1] == "35"


@pytest.mark.parametrize("builder, table", [(gw.build_campus, "campus"), (gw.build_town, "town")])
def test_builder_signature_is_the_schema_table(builder, table):
    """Every field of the table is a keyword of the builder, in the table's order after the builder's own
    keywords, with the schema's default; help() lists each."""
    params = list(inspect.signature(builder).parameters.values())
    fields = schema()[table]
    first = next(i for i, p in enumerate(params) if p.name in fields)
    assert [p.name for p in params[first:-1]] == list(fields)
    assert not any(p.name in fields for p in params[:first])
    assert params[-1].kind is inspect.Parameter.VAR_KEYWORD  # other unit spellings (rack_it_power_kw)
    for p in params[first:-1]:
        f = fields[p.name]
        assert (p.default is inspect.Parameter.empty) if f.required else p.default == f.default_value()
        assert f"    {p.name} : " in builder.__doc__


def test_year_writes_its_own_file(tmp_path, cli, monkeypatch):
    """`run --year` of a case with a steady results file leaves that file alone: <name>-year.nc."""
    from gigawatt.cases.loader import write_starter_case

    write_starter_case(tmp_path)
    case = tmp_path / "campus.toml"
    text = case.read_text().replace("[cooling]", "[time]\nperiods = 2\n\n[cooling]", 1)
    case.write_text(text)
    monkeypatch.chdir(tmp_path)
    res = cli("run", str(case), "--year")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "my-campus-year.nc").exists() and not (tmp_path / "my-campus.nc").exists()


def test_bench_output_names_no_issue():
    from gigawatt.bench import coolant_networks, heating_networks, heating_series

    for text in (coolant_networks.PEER_REFERENCE_NOTE, heating_networks.PEER_REFERENCE_NOTE, heating_series.PEER_NOTE):
        assert not re.search(r"issue \d", text)
    for module in (coolant_networks, heating_networks):
        assert not any("not measured" in line for line in module.target_lines([]))


def test_tables_plain_off_a_terminal_and_drawn_on_one():
    """Off a terminal a table is plain aligned columns under a rule (what grep and the tests read); on one,
    rich draws the same cells (colour codes, no rule of dashes), brackets read as text, not markup."""
    from gigawatt.tables import table_lines

    head, rows = ["case", "got [W]", "result"], [["a", "1.5", "pass"], ["bb", "22 [2]", "FAIL"]]
    assert table_lines(head, rows, terminal=False) == ["case  got [W]  result", "----  -------  ------",
                                                       "a         1.5    pass", "bb     22 [2]    FAIL"]
    assert table_lines(head, rows, align="r", rule=False, terminal=False)[1] == "   a      1.5    pass"
    drawn = "\n".join(table_lines(head, rows, terminal=True))
    assert "\x1b[" in drawn and "----" not in drawn
    plain = re.sub(r"\x1b\[[0-9;]*m", "", drawn)
    assert all(cell in plain for cell in head + rows[0] + rows[1])


def test_axis_and_value_prefixes_are_chosen_in_one_place():
    """The report's axis prefix and the summary's value prefix agree from 1 W to 999 GW; an axis takes no
    milli and no tera."""
    from gigawatt.quantities import prefix_scale
    from gigawatt.report.values import engineering as axis

    for top in (1.0, 950.0, 1.2e3, 4.4e6, 5.86e9):
        assert axis([top / 2, top], "W") == prefix_scale(top, "W")
    assert axis([0.5], "W") == (1.0, "W") and axis([2e12], "W") == (1e9, "GW")
    assert axis([2.5e6], "var") == (1e6, "Mvar") and axis([300.0], "K") == (1.0, "K")


def test_summary_through_rich_keeps_its_text(capsys):
    """The summary printed through rich keeps every character: no re-wrapping of long lines, brackets
    ('[1]', '[W]') not read as markup (rich writes no colour codes when the capture is not a terminal)."""
    from gigawatt.tables import echo_text

    text = "\n".join(["losses by stage", "  rack_vrm " + "x" * 150 + " [W] [bold]", "", "warnings", "  [1] a"])
    echo_text(text, terminal=True)
    assert capsys.readouterr().out == text + "\n"
