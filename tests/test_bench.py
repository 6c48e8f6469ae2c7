"""Smoke tests of the benchmark suite (``gigawatt bench``) on tiny campuses, with the peer on and off: the DC
load flow against pandapower, the coolant networks against pandapipes.

No timing is asserted anywhere (a shared 2-core machine makes timings meaningless in a test); what is
checked is the record layout, that the benchmark networks are the ones described (bus counts, shapes,
voltages a real campus would accept) and that gigawatt and the peer solve them to the same answer.
"""
import json
import math

import pytest

import gigawatt as gw
from gigawatt.bench import coolant_networks as bench_cooling
from gigawatt.bench.dc_loadflow import BENCHMARKS, build_network, campus_bus_count, campus_params, campus_shape, run_one
from gigawatt.bench.suite import format_table, run_benchmarks

# 1 hall x 9 rows x 32 racks: 2 stations + 1 switchboard + 9 x (1 head + 32 taps) = 300 buses.
TINY = 300

FLOAT_KEYS = ("whole_s", "warm_s", "warm_total_s", "cold_s", "energy_balance_residual", "v_min_pu")
PEER_KEYS = ("peer_whole_s", "speedup_whole", "peer_warm_s", "speedup", "check")


@pytest.fixture(scope="module")
def with_peer():
    return run_benchmarks([TINY], peer=True, repeat=2, cooling_sizes={}, dh_sizes=())


@pytest.fixture(scope="module")
def without_peer():
    return run_benchmarks([TINY], peer=False, repeat=1, cooling_sizes={}, dh_sizes=())


def _check_common(records):
    assert [r["benchmark"] for r in records] == list(BENCHMARKS)
    built = len(build_network(TINY).tables["bus"])
    for r in records:
        assert isinstance(r["size"], int) and r["size"] == built == TINY
        for key in FLOAT_KEYS:
            assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] >= 0, key
        assert r["whole_s"] > 0 and r["warm_s"] > 0 and r["warm_total_s"] > 0 and r["cold_s"] > 0
        assert isinstance(r["whole_runs"], int) and r["whole_runs"] >= 1
        # the CPU time of the whole call beside its wall time, and the load it was measured at
        assert isinstance(r["whole_cpu_s"], float) and r["whole_cpu_s"] > 0
        assert r["load_average"] is None or (isinstance(r["load_average"], float) and r["load_average"] >= 0)
        assert isinstance(r["iterations"], int) and r["iterations"] >= 1
        assert isinstance(r["peak_rss_bytes"], int) and r["peak_rss_bytes"] > 0
        # Energy balance: grid power = IT power + every loss, relative residual. The solver converges to
        # 1e-11 of the load current, so anything above 1e-9 would be a bookkeeping error, not round-off.
        assert r["energy_balance_residual"] < 1e-9
        # Conductors are sized at about 2 A/mm² (bundled case), which keeps the drop to a few volts of 800;
        # 0.95 pu is the design floor the benchmark networks must respect.
        assert 0.95 < r["v_min_pu"] < 1.0
        assert isinstance(r["peer_note"], (str, type(None)))
    # Rings: the first 50 rows are closed, capped by the 9 rows this tiny campus has.
    assert [r["ring_rows"] for r in records] == [0, 9]
    json.dumps(records)  # the CLI's --json needs plain Python values


def test_records_with_peer(with_peer):
    _check_common(with_peer)
    for r in with_peer:
        assert r["peer"].startswith("pandapower ")
        assert r["peer_note"] is None
        assert all(isinstance(r[k], float) for k in PEER_KEYS)
        assert r["speedup"] == pytest.approx(r["peer_warm_s"] / r["warm_s"], rel=1e-12)
        assert r["peer_whole_s"] > 0 and r["speedup_whole"] == pytest.approx(r["peer_whole_s"] / r["whole_s"], rel=1e-12)
        # Same network, same answer. pandapower stops at a power mismatch of 1e-8 MVA (its default
        # tolerance_mva), i.e. 10 mW; through path resistances below 1 mΩ at 800 V that moves a voltage by
        # about 1e-8 V ~ 1e-11 pu, and gigawatt solves to 1e-11 of the load current. 1e-9 pu leaves 100x margin
        # while still catching any modelling difference (a single wrong line shifts voltages by ~1e-4 pu).
        assert r["check"] < 1e-9


def test_records_without_peer(without_peer):
    _check_common(without_peer)
    for r in without_peer:
        assert r["peer"] is None and all(r[k] is None for k in PEER_KEYS)
        assert "skipped" in r["peer_note"]


def test_peer_skipped_above_size_limit():
    r = run_one("dc_loadflow_radial", TINY, peer=True, repeat=1, peer_max_buses=TINY - 1)
    assert r["peer"] is None and r["speedup"] is None and r["check"] is None
    assert "skipped above" in r["peer_note"]


@pytest.mark.parametrize("n_bus", [10_000, 100_000, 1_000_000])
def test_campus_shape_hits_the_requested_size(n_bus):
    # The shape search accepts the first rack count within 1 % of the request (SHAPE_TOLERANCE); the brief
    # asks for "within a few percent", with 16–40 racks per row and at most about 200 rows per hall.
    s = campus_shape(n_bus)
    built = campus_bus_count(s["halls"], s["rows_per_hall"], s["racks_per_row"])
    assert abs(built - n_bus) <= 0.01 * n_bus
    assert 16 <= s["racks_per_row"] <= 40 and 1 <= s["rows_per_hall"] <= 200


def test_bus_count_formula_matches_builder():
    # The formula halls·(stations + 1 + rows·(racks + 1)) against the builder itself on an odd shape.
    case = gw.build_campus(halls=3, rows_per_hall=5, racks_per_row=17, stations_per_hall=2)
    assert len(case.tables["bus"]) == campus_bus_count(3, 5, 17) == 3 * (2 + 1 + 5 * 18)


def test_ten_thousand_bus_network_stays_above_design_voltage():
    # The 1e4-bus benchmark network (2 halls x 151 rows x 32 racks): stiff stations, so the peer can run it,
    # and conductors scaled with the row and hall currents, so no bus sags below the 0.95 pu design floor.
    params = campus_params(10_000)
    assert params["station_droop"] == 0.0
    ds = gw.solve(build_network(10_000))
    assert float(ds["v_pu"].min()) > 0.95
    assert ds.attrs["converged"] == 1


def test_format_table(with_peer, without_peer):
    text = format_table(with_peer + without_peer)
    for name in BENCHMARKS:
        assert name in text
    assert "numba" in text and "cache" in text  # the footer says the cold run sees a warm numba cache
    assert "skipped" in text  # the no-peer records explain why
    assert "target" in text
    assert "whole cpu ms" in text and "load:" in text  # the CPU time beside the wall time, and the load
    assert "whole ms" in text and "peer whole ms" in text and "lightsim2grid" in text  # whole call first, the peer


# --- coolant networks ---------------------------------------------------------------------------------

# 4 rows of 16 racks (4 loops, 192 pipes); 1 row of 16 racks of 72 plates (1,152 plates, 3,488 pipes).
COOLING_TINY = {"coolant_per_rack": (64,), "coolant_per_plate": (1_152,)}
COOLING_FLOAT_KEYS = ("whole_s", "warm_s", "warm_hydraulic_s", "warm_thermal_s", "hot_s", "prepare_s", "one_shot_s", "cold_s",
                      "max_pressure_residual_pa")
COOLING_PEER_KEYS = ("peer_whole_s", "speedup_whole", "peer_hydraulic_s", "peer_s", "speedup_hydraulic", "speedup", "check_p_pa", "check_m_kg_s",
                     "check_m_rel", "check_t_k")


@pytest.fixture(scope="module")
def cooling_with_peer():
    return bench_cooling.run_benchmarks(COOLING_TINY, peer=True, repeat=2)


@pytest.fixture(scope="module")
def cooling_without_peer():
    return bench_cooling.run_benchmarks({"coolant_per_rack": (64,)}, peer=False, repeat=1, cold=False)


def test_cooling_records(cooling_with_peer):
    assert [r["benchmark"] for r in cooling_with_peer] == list(bench_cooling.COOLING_BENCHMARKS)
    rack, plate = cooling_with_peer
    # The networks described: rows of 16 racks, one loop each; the per-plate one with 72 plates a rack.
    assert (rack["size"], rack["racks"], rack["loops"]) == (64, 64, 4)
    assert (plate["size"], plate["racks"], plate["loops"]) == (1_152, 16, 1)
    # The stage's ladder per loop: S, R and two taps a rack (2k + 2 nodes), 3k pipes.
    assert (rack["nodes"], rack["pipes"]) == (4 * 34, 4 * 48)
    for r in cooling_with_peer:
        for key in COOLING_FLOAT_KEYS:
            assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] >= 0, key
        assert r["warm_s"] == pytest.approx(r["warm_hydraulic_s"] + r["warm_thermal_s"], rel=1e-12)
        assert r["cold_numba_cache_misses"] == 0 or r["cold_note"]
        # The prepared solves repeat the stage's own solves of the same arrays: identical to the last bit.
        assert r["same_as_stage"] is True
        # A time step (new rack heat, constant-flow pumps): the hydraulics hold without a Newton step and the
        # thermal replay gives the prepared solve's bits.
        assert r["step_same"] is True and r["step_iterations"] == 0
        assert r["step_s"] == pytest.approx(r["step_hydraulic_s"] + r["step_thermal_s"], rel=1e-12)
        # Converged: the solver's tolerance is 1e-8 Pa on branch pressure residuals (tol_pa); the heat ledger of
        # the loops closes to rounding (a few ulp of the GW-scale enthalpy flows).
        assert r["max_pressure_residual_pa"] <= 1e-8 and abs(r["heat_ledger_residual"]) < 1e-12
        assert 1 <= r["iterations"] <= 10
        assert r["peer"].startswith("pandapipes ") and r["peer_note"] is None
        assert all(isinstance(r[k], float) and math.isfinite(r[k]) for k in COOLING_PEER_KEYS)
        assert r["speedup"] == pytest.approx(r["peer_s"] / r["warm_s"], rel=1e-12)
        assert r["whole_s"] > 0 and r["peer_whole_s"] > 0
        assert r["speedup_whole"] == pytest.approx(r["peer_whole_s"] / r["whole_s"], rel=1e-12)
    # The per-plate network takes the sparse solver (its envelope would be wide); the per-rack one the envelope.
    assert (rack["linear_solver"], plate["linear_solver"]) == ("envelope", "sparse")
    json.dumps(cooling_with_peer)  # the CLI's --json needs plain Python values


def test_cooling_checks_against_pandapipes(cooling_with_peer):
    rack, plate = cooling_with_peer
    # Per rack every pipe is turbulent, where both tools solve Colebrook + Darcy-Weisbach: the same equations.
    # Measured: pressures within 1e-7 Pa (of drops of ~1e5 Pa), flows within 1e-12 relative, temperatures
    # within 1e-11 K. Tolerances as tests/test_hydraulic_network.py's pandapipes test (1e-4 Pa, 1e-7 relative:
    # room for pandapipes' stopping rule) and 1e-6 K for temperatures (pandapipes stops its heat iteration at
    # tol_T = 1e-9 relative, about 3e-7 K at 320 K).
    assert rack["pipes_below_re_4000"] == 0
    assert rack["check_p_pa"] < 1e-4 and rack["check_m_rel"] < 1e-7 and rack["check_t_k"] < 1e-6
    # Per plate, the plate hoses and manifold ends run below Re 4000, where our friction factor is laminar or
    # the blend and pandapipes' Colebrook's: the answers differ by the models, so only gross agreement is
    # checked: flows within 1 % (a wrong network would move whole rack flows) and temperatures within 0.01 K
    # of a 10 K rise.
    assert plate["pipes_below_re_4000"] > 0
    assert plate["check_m_rel"] < 1e-2 and plate["check_t_k"] < 1e-2


def test_cooling_without_peer(cooling_without_peer):
    (r,) = cooling_without_peer
    assert r["peer"] is None and all(r[k] is None for k in COOLING_PEER_KEYS)
    assert "skipped" in r["peer_note"] and "skipped" in r["cold_note"]


def test_cooling_peer_skipped_above_size_limit():
    r = bench_cooling.run_one("coolant_per_rack", 64, peer=True, repeat=1, cold=False, peer_max_pipes=100)
    assert r["peer"] is None and r["speedup"] is None and "skipped above" in r["peer_note"]


@pytest.mark.parametrize("name, n, shape", [("coolant_per_rack", 10_000, (8, 80, 16)),
                                            ("coolant_per_rack", 1_000, (1, 62, 16)),
                                            ("coolant_per_plate", 100_000, (2, 44, 16))])
def test_cooling_shapes(name, n, shape):
    # The 1 GW campus per rack (8 halls x 80 rows x 16 racks of 130 kW = 1.33 GW of IT); otherwise rows
    # of 16 racks, at most 80 a hall, within half a row of the request.
    assert bench_cooling.campus_shape(name, n) == shape
    racks = n / (72 if name == "coolant_per_plate" else 1)
    h, rows, k = shape
    assert abs(h * rows * k - racks) <= max(0.03 * racks, k)


def test_cooling_table(cooling_with_peer, cooling_without_peer):
    text = format_table(cooling_with_peer + cooling_without_peer)
    for name in bench_cooling.COOLING_BENCHMARKS:
        assert name in text
    # These small sizes meet no target size: no target line, and no "not measured" line for the sizes not run.
    assert "pandapipes" in text and "skipped" in text and "not measured" not in text
    assert "Re 4000" in text  # the per-plate record says why its differences are larger
    assert "dc_loadflow" not in text  # no DC records, no DC table


# --- district-heating networks -------------------------------------------------------------------------

from gigawatt.bench import heating_networks as bench_dh  # noqa: E402

# 200 homes in 10 full streets of 20 (one district, 9 ring ties) + 4 vertical farms: 204 consumers.
DH_TINY = 200
DH_FLOAT_KEYS = ("whole_s", "whole_cpu_s", "step_s", "step_cpu_s", "total_s", "setup_s", "fixed_point_s", "finish_s",
                 "hydraulic_s", "thermal_s", "build_s", "cold_s", "q_plant_w", "q_loss_w")
DH_PEER_KEYS = ("peer_whole_s", "speedup_whole", "peer_s", "speedup", "speedup_fixed_point", "check_p_pa", "check_m_kg_s", "check_t_k", "check_q_w")


@pytest.fixture(scope="module")
def dh_with_peer():
    return bench_dh.run_benchmarks([DH_TINY], peer=True, repeat=2)


@pytest.fixture(scope="module")
def dh_without_peer():
    return bench_dh.run_benchmarks([DH_TINY], peer=False, repeat=1, cold=False)


def test_dh_record(dh_with_peer):
    (r,) = dh_with_peer
    assert r["benchmark"] == bench_dh.BENCHMARK and r["size"] == DH_TINY + 4 and r["size_requested"] == DH_TINY
    # The network described: 200 homes' substations + 4 farms; supply nodes plant, hub, 1 district, 10 street
    # junctions, 200 taps, 4 farms (mirrored on the return side); tree pipes 1 + 1 + 10 + 200 + 4 and 9 ties per
    # side, so 9 independent loops per network.
    assert (r["homes"], r["farms"], r["spines"]) == (200, 4, 1)
    assert r["nodes"] == 2 * (2 + 1 + 10 + 200 + 4) and r["pipes"] == 2 * (216 + 9) and r["loops"] == 18
    for key in DH_FLOAT_KEYS:
        assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] >= 0, key
    # The parts of the reported run add up to its total (they are times of one run, not separate medians).
    assert r["total_s"] == pytest.approx(r["setup_s"] + r["fixed_point_s"] + r["finish_s"], rel=1e-12)
    assert r["hydraulic_s"] + r["thermal_s"] <= r["fixed_point_s"]
    assert isinstance(r["iterations"], int) and 1 <= r["iterations"] <= bench_dh_max_iterations()
    assert r["iterations"] <= r["network_solves"] <= r["iterations"] + 1  # a last solve may follow the last step
    # The stage's ledger: heat in = delivered + lost, to rounding of the MW-scale flows; nobody under-supplied
    # at the default -5 C (the pipes are sized for -12 C).
    assert r["heat_balance_residual"] < 1e-12 and r["undersupplied"] == 0
    assert r["cold_numba_cache_misses"] == 0 or r["cold_note"]
    json.dumps(dh_with_peer)  # the CLI's --json needs plain Python values


def bench_dh_max_iterations():
    from gigawatt.solver.district_heating.stage import MAX_FIXED_POINT

    return MAX_FIXED_POINT


def test_dh_checks_against_pandapipes(dh_with_peer):
    (r,) = dh_with_peer
    assert r["peer"].startswith("pandapipes ") and r["peer_note"] is None
    assert all(isinstance(r[k], float) and math.isfinite(r[k]) for k in DH_PEER_KEYS)
    assert r["speedup"] == pytest.approx(r["peer_s"] / r["total_s"], rel=1e-12)
    assert r["whole_s"] > 0 and r["peer_whole_s"] > 0
    assert r["speedup_whole"] == pytest.approx(r["peer_whole_s"] / r["whole_s"], rel=1e-12)
    # Full streets: every pipe, ties included, runs above Re 4000, where both tools solve Colebrook +
    # Darcy-Weisbach and the exponential pipe law with the same U' per metre: the same equations, so the answers
    # agree to the solvers' tolerances. Measured: 1e-6 Pa, 2e-11 kg/s, 3e-10 K, 1e-7 W. Bounds: 1e-4 Pa and 1e-8
    # kg/s as the coolant check above (room for pandapipes' stopping rule); 1e-6 K (pandapipes stops its heat
    # iteration at tol_T = 1e-10 relative, 3.5e-8 K at 350 K); 1e-3 W: a substation's heat m cp (T_in - T_out)
    # moves by m cp dT, 0.1 kg/s x 4.2 kJ/(kg K) x 1e-6 K = 4e-4 W.
    assert r["pipes_below_re_4000"] == 0
    assert r["check_p_pa"] < 1e-4 and r["check_m_kg_s"] < 1e-8 and r["check_t_k"] < 1e-6 and r["check_q_w"] < 1e-3
    assert r["check_t_k"] <= bench_dh.TARGET_DT_K


def test_dh_without_peer(dh_without_peer):
    (r,) = dh_without_peer
    assert r["peer"] is None and all(r[k] is None for k in DH_PEER_KEYS)
    assert "skipped" in r["peer_note"] and "skipped" in r["cold_note"]


def test_dh_peer_skipped_above_size_limit():
    r = bench_dh.run_one(DH_TINY, peer=True, repeat=1, cold=False, peer_max_consumers=100)
    assert r["peer"] is None and r["speedup"] is None and "skipped above" in r["peer_note"]


@pytest.mark.parametrize("n, districts, spines", [(1_000, 5, 2), (10_000, 50, 4), (100_000, 500, 12)])
def test_dh_town_shapes(n, districts, spines):
    # n homes, one substation each, in full streets of 20 (10 a district), plus 4 farms; about half the square
    # root of the districts as spines.
    p = bench_dh.town_params(n)
    assert p["homes"] == n and p["homes_per_substation"] == 1 and p["tie_streets"] and p["vertical_farms"] == 4
    assert n % (p["substations_per_street"] * p["streets_per_district"]) == 0
    assert n // (p["substations_per_street"] * p["streets_per_district"]) == districts and p["spines"] == spines


def test_dh_table(dh_with_peer, dh_without_peer):
    text = format_table(dh_with_peer + dh_without_peer)
    assert bench_dh.BENCHMARK in text and "pandapipes" in text and "target" in text and "skipped" in text
    assert "fixed point" in text and "whole stage" not in text  # no 1e4/1e5 record: those targets not measured
    assert "dc_loadflow" not in text and "coolant" not in text


def test_dh_selected_by_the_cli():
    # `gigawatt bench --consumers` chooses the sizes ('' for none); the other benchmarks switched off.
    from click.testing import CliRunner

    from gigawatt.cli import main

    res = CliRunner().invoke(main, ["bench", "--json", "--sizes", "", "--racks", "", "--plates", "",
                                    "--consumers", str(DH_TINY), "--no-peer", "--repeat", "1"])
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert [(r["benchmark"], r["size_requested"]) for r in records] == [(bench_dh.BENCHMARK, DH_TINY)]
    res = CliRunner().invoke(main, ["bench", "--json", "--sizes", "", "--racks", "", "--plates", "",
                                    "--consumers", "", "--no-peer"])
    assert res.exit_code == 0 and json.loads(res.stdout) == []
