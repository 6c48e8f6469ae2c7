"""Cases written back to TOML (``Case.to_toml``) and exported to the peer tools (``gw.to_pandapower``,
``gw.to_pandapipes``): a written case loads to the same case, and each peer solves its export to gigawatt's
answer."""
from __future__ import annotations

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.export import PIPEFLOW_OPTIONS


@pytest.mark.parametrize("path", gw.bundled_cases(), ids=lambda p: p.stem)
def test_to_toml_round_trips_every_bundled_case(path, tmp_path):
    case = gw.load_case(path)
    written = case.to_toml(tmp_path / "copy.toml", csv_rows=200)
    again = gw.load_case(written)
    assert again.hash() == case.hash()  # tables, loss models and settings, to the bit
    big = [t for t, df in case.tables.items() if len(df) > 200]
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == sorted(f"copy.{t}.csv" for t in big)


def test_a_built_case_can_be_saved_and_solved_the_same(tmp_path):
    case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130)
    again = gw.load_case(case.to_toml(tmp_path / "built.toml"))
    assert again.hash() == case.hash()
    a, b = gw.solve(case), gw.solve(again)
    np.testing.assert_array_equal(a.v_v.values, b.v_v.values)


def test_to_toml_refuses_its_own_file_and_other_suffixes(tmp_path):
    case = gw.load_case(gw.load_case().to_toml(tmp_path / "c.toml"))
    with pytest.raises(gw.CaseError, match="own file"):
        case.to_toml(tmp_path / "c.toml")
    with pytest.raises(gw.CaseError, match=".toml"):
        case.to_toml(tmp_path / "c.json")


def test_case_repr_is_one_short_line():
    text = repr(gw.load_case())
    assert "\n" not in text and len(text) < 300
    assert "rack=768" in text and "district_heating" in text


def test_to_pandapower_solves_to_the_same_voltages():
    import pandapower as pp

    case = gw.build_campus(halls=1, rows_per_hall=3, racks_per_row=8, rack_it_power_kw=130, station_droop=0)
    net = gw.to_pandapower(case)
    pp.runpp(net, init="flat", tolerance_mva=1e-10)
    ours = gw.solve(case)
    # Same network, both solved to 1e-10 MVA mismatch: per-unit voltages agree far below any engineering need.
    np.testing.assert_allclose(net.res_bus.vm_pu.to_numpy(), ours.v_pu.to_numpy(), rtol=0, atol=1e-9)
    assert net.bus.name.tolist() == case.tables["bus"]["id"].tolist()


def test_to_pandapower_refuses_droop():
    with pytest.raises(gw.CaseError, match="stiff"):
        gw.to_pandapower(gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, rack_it_power_kw=130))


def test_to_pandapipes_reproduces_the_district_heating_solve():
    import pandapipes as pps

    case = gw.load_case()
    ours = gw.solve(case)
    net = gw.to_pandapipes(case, ours)
    pps.pipeflow(net, mode="sequential", **PIPEFLOW_OPTIONS)
    # Both converge to 1e-10 (pandapipes' tolerances above): temperatures and heat to round-off of that, at
    # every node water flows through. (Where none flows, e.g. behind a lit farm that takes no heat, the
    # temperature is a convention: gigawatt lets the still water reach the ground's, pandapipes keeps its
    # initial value.)
    pipes = case.tables["dh_pipe"]
    moving = np.abs(ours.dh_pipe_flow_kg_s.to_numpy()) > 0
    ids = np.union1d(pipes["from_node"].to_numpy()[moving], pipes["to_node"].to_numpy()[moving])
    wet = np.isin(case.tables["dh_node"]["id"].to_numpy(), ids)
    assert wet.sum() > 0.9 * wet.size
    np.testing.assert_allclose(net.res_junction.t_k.to_numpy()[wet], ours.dh_t_k.to_numpy()[wet], rtol=0,
                               atol=1e-8)
    np.testing.assert_allclose(net.res_heat_consumer.qext_w.to_numpy(), ours.dh_consumer_q_w.to_numpy(), rtol=1e-9)
    assert net.junction.name.tolist() == case.tables["dh_node"]["id"].tolist()


def test_to_pandapipes_needs_a_heating_network():
    with pytest.raises(gw.CaseError, match="district-heating"):
        gw.to_pandapipes(gw.build_campus(halls=1, rows_per_hall=1, racks_per_row=2, rack_it_power_kw=130))
