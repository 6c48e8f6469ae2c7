"""The district-heating benchmark of ``gigawatt bench``: meshed town networks, against pandapipes.

The networks come from the town builder (:func:`gigawatt.cases.town.build_town`): homes one per substation
in streets of 20, ten streets a district with neighbouring streets' ends tied into rings (a meshed
network), districts on spine mains from the town's hub, a cluster of four vertical farms, a 2 km trunk
from the plant; pipes sized from the design flow. Size = consumers: the requested number of homes' substations
plus the 4 farms. The
plant runs with the ``[district_heating]`` defaults (75 °C supply, -5 °C outdoors, the pump holding 0.5 bar
at the worst-placed substation) and no campus (the peak boiler covers it: the network is the same).

The whole call comes first: ``whole_s`` [s], the median of :func:`gigawatt.solve` of the town case not solved
before (a fresh case built outside the timing each run; numba warm), the user's call; ``peer_whole_s``,
pandapipes' ``sequential`` pipeflow on a net it has not run (built outside the timing each run), and
``speedup_whole`` their ratio; ``whole_cpu_s`` [s] the median CPU time of the same calls (this process, all its
threads: on a shared, loaded machine it says what the call costs, the wall time what it waited besides).

What is timed then is :func:`gigawatt.solver.district_heating.stage.solve_district_heating`, the stage as
:func:`gigawatt.solve` runs it, warm (numba compiled, the case in memory; garbage collected before each run,
as the DC benchmarks do; the run with the median total is reported, so its parts add up), and inside it,
recorded while it runs (:func:`recording_stage`):

* ``fixed_point_s`` [s]: the flow–temperature fixed point, from the first hydraulic solve to the end of
  the last thermal solve (every iteration: the substation flows from their heat residuals, the Global
  Gradient solve of the prepared hydraulic network warm-started from the last flows, the upwind sweep of
  the prepared thermal network); ``hydraulic_s`` and ``thermal_s`` the time in those two solves,
  ``network_solves`` how many pairs there were and ``iterations`` the stage's own count;
* ``setup_s`` [s]: everything before it (consumer demands, reachability, preparing both networks) and
  ``finish_s`` after it (pump lift, plant, figures, result arrays); ``total_s`` = the three;
* ``step_s`` [s], ``step_iterations``: the network prepared once
  (:func:`gigawatt.solver.district_heating.stage.prepare_district_heating`) and re-solved as a time series does,
  each step 1 K of outdoor temperature from the last, warm-started from its solution (median step);
  ``step_cpu_s`` [s] the median CPU time of those steps;
* ``cold_s`` [s]: wall time of a fresh ``python -m gigawatt.bench.heating_networks --cold N`` process that imports
  gigawatt, builds the town and solves it once (numba's on-disk cache warm);
* the peer: pandapipes on the same network (:func:`pandapipes_equivalent`): every dh node a junction,
  every dh pipe a pipe (same length, inner diameter, roughness scaled for pandapipes' Colebrook constant,
  heat-transfer coefficient U'/(pi d) on the inner diameter, so pandapipes' exponential pipe law uses the
  same U' per metre), every substation a ``heat_consumer`` between its supply and return junctions drawing
  our converged flow and returning at our outlet temperature (mode MF_TR), a ``pt`` ext_grid at the plant's
  supply node (our supply pressure, 75 °C) and a ``p`` ext_grid at its return node; same constant fluid
  properties. Timed warm in ``sequential`` mode (hydraulics, then heat). Its answer checks ours: node
  pressures above each network's plant node [Pa], pipe flows [kg/s], node temperatures [K] (target:
  0.01 K), substation heat [W]. With the substation flows given, pandapipes solves the same equations
  (Colebrook, Darcy–Weisbach, exponential heat loss, mixing): the differences measure the solvers.

Run ``python -m gigawatt.bench.heating_networks --cold N`` for one cold measurement as JSON on stdout.
"""
from __future__ import annotations

import json
import math
import statistics
import sys
import time
from contextlib import contextmanager

from gigawatt.bench.common import (WHOLE_NOTE, fmt, median_fresh_time, median_fresh_wall_cpu, median_time,
                                   numba_cache_counts, peak_rss_bytes, peer_skipped, run_cold_process, table_lines,
                                   whole_fields, wrapped)
from gigawatt.export import PIPEFLOW_OPTIONS, district_heating_net, heating_fluid

BENCHMARK = "district_heating_meshed"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
"""Consumer counts run by ``gigawatt bench`` (the issue's 10^3, 10^4, 10^5)."""
SUBSTATIONS_PER_STREET = 20
STREETS_PER_DISTRICT = 10
VERTICAL_FARMS = 4
PEER_MAX_CONSUMERS = 10_000
"""pandapipes is skipped above this many consumers (about 21 s a pipeflow at 10^5 here, measured in the
issue); raise ``peer_max_consumers`` to run it."""
PEER_REPEAT_MAX = 3
TOTAL_TIME_BUDGET_S = 30.0
"""Stop repeating the warm stage solve after at least 3 runs once this much time is spent (at 10^5
consumers one stage solve takes seconds, most of it set-up)."""
PEER_OPTIONS = PIPEFLOW_OPTIONS  # see gigawatt.export
TARGET_FIXED_POINT_S = {10_000: 10e-3, 100_000: 100e-3}
"""The issue's targets for a warm solve: printed against the measured values, never asserted."""
TARGET_DT_K = 0.01
PEER_REFERENCE_NOTE = ("pandapipes, measured separately: about 1.45 s at 10⁴ consumers, 21 s at 10⁵ "
                       "(sequential)")


BENCH_DEMAND = {"design_load_w": 19350.0, "farm_led_power_w_per_m2": 0.0}
"""The benchmark's demand: the DESTEST test network's 19.35 kW of space heating a house (IBPSA Project 1) and
farms without lights, so that every pipe, the farms' branch and the ring ties included, runs turbulent, where
pandapipes and gigawatt solve the same equations (the default detached house, 4.77 kW, leaves the far street
pipes laminar, and lit farms draw no water). A solver benchmark, not a realistic town."""


def town_params(n: int) -> dict:
    """``[town]`` settings of the benchmark network of about ``n`` consumers: ``n`` homes, one a substation,
    and 4 vertical farms; spines: about half the square root of the districts, so no spine runs far.

    With ``n`` a multiple of 20 every street is full, so neighbouring streets differ only by their place on
    the main and every ring tie runs turbulent (a short last street leaves its tie almost without flow,
    laminar, where our friction law and pandapipes' differ)."""
    homes = max(1, n)
    streets = -(-homes // SUBSTATIONS_PER_STREET)
    districts = -(-streets // STREETS_PER_DISTRICT)
    return {"homes": homes, "homes_per_substation": 1, "substations_per_street": SUBSTATIONS_PER_STREET,
            "streets_per_district": STREETS_PER_DISTRICT, "spines": max(1, math.ceil(math.sqrt(districts) / 2)),
            "tie_streets": True, "vertical_farms": VERTICAL_FARMS, **BENCH_DEMAND}


def build_case(n: int):
    """The benchmark town of ``n`` consumers as a case (the district-heating network alone)."""
    from gigawatt.cases.town import build_town

    return build_town(case={"name": f"bench-{BENCHMARK}-{n}"}, **town_params(n))


class _Timed:
    """A prepared network whose ``solve`` calls are timed into ``log`` (start, end, kind)."""

    def __init__(self, net, kind: str, log: list):
        self._net, self._kind, self._log = net, kind, log

    def solve(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self._net.solve(*args, **kwargs)
        finally:
            self._log.append((t0, time.perf_counter(), self._kind))

    def node_temperatures(self, *args, **kwargs):  # the fixed point's sweeps of the supply side
        t0 = time.perf_counter()
        try:
            return self._net.node_temperatures(*args, **kwargs)
        finally:
            self._log.append((t0, time.perf_counter(), self._kind))

    def __getattr__(self, name):
        return getattr(self._net, name)


@contextmanager
def recording_stage():
    """Time the district-heating stage's network solves while the block runs.

    Yields a dict: ``log`` collects ``(start, end, kind)`` of every hydraulic and thermal solve of the
    prepared networks the stage makes, and ``networks`` the last hydraulic and thermal networks it prepared.
    The stage's module names are restored afterwards.
    """
    import gigawatt.solver.district_heating.stage as stage

    seen = {"log": [], "networks": {}}
    prepare = {"hydraulic": stage.prepare_hydraulic_network, "thermal": stage.prepare_thermal_network}

    def wrap(kind):
        def call(*args, **kwargs):
            net = prepare[kind](*args, **kwargs)
            seen["networks"][kind] = net
            return _Timed(net, kind, seen["log"])
        return call

    stage.prepare_hydraulic_network, stage.prepare_thermal_network = wrap("hydraulic"), wrap("thermal")
    try:
        yield seen
    finally:
        stage.prepare_hydraulic_network, stage.prepare_thermal_network = prepare["hydraulic"], prepare["thermal"]


def timed_stage(case) -> tuple[dict, object, dict]:
    """Solve the case's district-heating stage once: its parts' times [s], its state and the networks."""
    import gc

    from gigawatt.solver.district_heating.stage import solve_district_heating

    gc.collect()
    gc.disable()
    try:
        with recording_stage() as seen:
            t0 = time.perf_counter()
            state = solve_district_heating(case, None)
            t3 = time.perf_counter()
    finally:
        gc.enable()
    log = seen["log"]
    t1, t2 = log[0][0], log[-1][1]
    parts = {"total_s": t3 - t0, "setup_s": t1 - t0, "fixed_point_s": t2 - t1, "finish_s": t3 - t2,
             "hydraulic_s": sum(e - s for s, e, k in log if k == "hydraulic"),
             "thermal_s": sum(e - s for s, e, k in log if k == "thermal"),
             "network_solves": sum(k == "hydraulic" for _, _, k in log)}
    return parts, state, seen["networks"]


STEP_K = 1.0
"""Outdoor-temperature change between the steps of :func:`time_series_steps` [K]: an hour of weather."""


def time_series_steps(case, repeat: int) -> dict:
    """The prepared network (:func:`gigawatt.solver.district_heating.stage.prepare_district_heating`) solved as a
    time series does: each step at an outdoor temperature ``STEP_K`` away from the last (alternating
    up and down), warm-started from the last solution. Median step time [s] and its iterations."""
    import gc

    from gigawatt.solver.district_heating.stage import prepare_district_heating

    net = prepare_district_heating(case)
    t0_k = case.settings["district_heating"]["outdoor_t_k"]
    net.solve(None)
    times, cpus, iters = [], [], []
    for k in range(max(3, repeat)):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        state = net.solve(None, outdoor_t_k=t0_k + STEP_K * ((k + 1) % 2))
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        iters.append(state.figures["dh_iterations"])
    k = sorted(range(len(times)), key=times.__getitem__)[(len(times) - 1) // 2]
    return {"step_s": times[k], "step_cpu_s": statistics.median(cpus), "step_iterations": int(iters[k])}


def _peer(case, state, repeat: int) -> dict:
    """pandapipes on the same network: warm sequential time and the largest differences to our answer."""
    import numpy as np
    import pandapipes as pps
    import pandas as pd
    import scipy.sparse as sp
    import scipy.sparse.csgraph as csgraph

    s = case.settings["district_heating"]
    nodes = case.tables["dh_node"]
    index = pd.Index(nodes["id"])
    sup, ret = index.get_indexer([s["supply_node"], s["return_node"]])
    net, live = district_heating_net(case, state.consumer_flow_kg_s, state.consumer_t_return_k,
                                     float(state.node_p_pa[sup]))
    run = lambda: pps.pipeflow(net, mode="sequential", **PEER_OPTIONS)  # noqa: E731
    run()  # first run: pandapipes' own numba compilation and lookups

    out = {"peer": f"pandapipes {pps.__version__}", "peer_s": median_time(run, min(repeat, PEER_REPEAT_MAX))[0],
           "peer_whole_s": median_fresh_time(lambda: district_heating_net(case, state.consumer_flow_kg_s,
                                                                          state.consumer_t_return_k,
                                                                          float(state.node_p_pa[sup]))[0],
                                             lambda fresh: pps.pipeflow(fresh, mode="sequential", **PEER_OPTIONS),
                                             min(repeat, PEER_REPEAT_MAX))[0]}
    pipes = case.tables["dh_pipe"][live]
    pf, pt = index.get_indexer(pipes["from_node"]), index.get_indexer(pipes["to_node"])
    _, label = csgraph.connected_components(sp.coo_matrix((np.ones(pf.size), (pf, pt)), shape=(len(nodes),) * 2),
                                            directed=False)
    ref = np.where(label == label[sup], sup, ret)  # each node's plant node: the pressure reference of its network
    p_pp = net.res_junction["p_bar"].to_numpy() * 1e5
    p_gw = state.node_p_pa
    out["check_p_pa"] = float(np.max(np.abs((p_gw - p_gw[ref]) - (p_pp - p_pp[ref]))))
    m_gw = state.pipe_flow_kg_s[live]
    m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()
    out["check_m_kg_s"] = float(np.max(np.abs(m_gw - m_pp)))
    out["check_t_k"] = float(np.max(np.abs(state.node_t_k - net.res_junction["t_k"].to_numpy())))
    out["check_q_w"] = float(np.max(np.abs(state.consumer_q_w - net.res_heat_consumer["qext_w"].to_numpy())))
    return out


def _run_cold(n: int) -> dict:
    """``python -m gigawatt.bench.heating_networks --cold N`` in a fresh process: its wall time and what it reports."""

    return run_cold_process("gigawatt.bench.heating_networks", ["--cold", str(n)],
                            {"cold_build_s": "build_s", "cold_solve_s": "solve_s"})


def run_one(n: int, *, peer: bool = True, repeat: int = 7, peer_max_consumers: int = PEER_MAX_CONSUMERS,
            cold: bool = True, progress=None) -> dict:
    """One district-heating benchmark record (see the module docstring) for ``n`` consumers."""
    import numpy as np

    say = progress or (lambda msg: None)
    params = town_params(n)
    label = f"{BENCHMARK} {n:,} consumers"
    say(f"{label}: building the town ({params['homes']:,} homes, {params['spines']} spines)")
    t0 = time.perf_counter()
    case = build_case(n)
    build_s = time.perf_counter() - t0
    parts, state, networks = timed_stage(case)  # compiles or loads the numba kernels
    say(f"{label}: timing the stage (up to {repeat} warm runs)")
    runs, spent = [], 0.0
    for _ in range(max(1, repeat)):
        parts, state, networks = timed_stage(case)
        runs.append(parts)
        spent += parts["total_s"]
        if len(runs) >= 3 and spent > TOTAL_TIME_BUDGET_S:
            break
    med = sorted(runs, key=lambda r: r["total_s"])[(len(runs) - 1) // 2]  # its parts add up to its total
    say(f"{label}: timing gw.solve of cases not solved before (each built afresh, untimed)")
    import gigawatt as gw

    whole_s, whole_cpu_s, whole_runs = median_fresh_wall_cpu(lambda: build_case(n), gw.solve, repeat,
                                                             TOTAL_TIME_BUDGET_S)
    say(f"{label}: timing steps of a time series on the prepared network")
    step = time_series_steps(case, repeat)
    hnet = networks["hydraulic"]
    f = state.figures
    from gigawatt.models.flow_correlations import RE_TURBULENT_MIN

    pipes = case.tables["dh_pipe"]
    _, _, mu = heating_fluid(case)
    re = 4.0 * np.abs(state.pipe_flow_kg_s) / (math.pi * pipes["diameter_m"].to_numpy(float) * mu)
    rec = {
        "benchmark": BENCHMARK, "unit": "consumers", "size": int(len(case.tables["dh_consumer"])),
        "size_requested": int(n), "homes": int(params["homes"]), "farms": VERTICAL_FARMS,
        "spines": int(params["spines"]), "nodes": int(len(case.tables["dh_node"])),
        "pipes": int(len(case.tables["dh_pipe"])),
        "loops": int(hnet.n_pipe - hnet.n_node + 2),  # independent cycles: pipes - nodes + 2 networks
        "linear_solver": hnet.linear_solver, "build_s": build_s, "repeat": len(runs),
        **whole_fields(whole_s, None), "whole_runs": whole_runs, "whole_cpu_s": whole_cpu_s,
        **{k: float(v) for k, v in med.items() if k != "network_solves"},
        "network_solves": int(med["network_solves"]), "iterations": int(f["dh_iterations"]), **step,
        "heat_balance_residual": float(f["dh_heat_balance_residual"]), "undersupplied": int(f["dh_undersupplied"]),
        "q_plant_w": float(f["dh_q_plant_w"]), "q_loss_w": float(f["dh_q_loss_w"]),
        "t_supply_min_k": float(np.min(state.consumer_t_supply_k)),
        "pipes_below_re_4000": int(np.sum(re < RE_TURBULENT_MIN)),
    }
    if cold:
        say(f"{label}: cold run in a fresh process")
        rec.update(_run_cold(n))
    else:
        rec.update({"cold_s": None, "cold_build_s": None, "cold_solve_s": None, "cold_numba_cache_misses": None,
                    "cold_note": "cold run skipped"})
    rec.update({"peer": None, "peer_s": None, "speedup": None, "speedup_fixed_point": None, "check_p_pa": None,
                "check_m_kg_s": None, "check_t_k": None, "check_q_w": None})

    too_big = (f"pandapipes skipped above {peer_max_consumers:,} consumers (about 21 s a pipeflow at 10⁵ here); "
               f"raise peer_max_consumers to run it") if rec["size_requested"] > peer_max_consumers else None
    rec["peer_note"] = peer_skipped(peer, too_big, "pandapipes")  # size: the homes' substations (farms aside)
    if rec["peer_note"] is None:
        say(f"{label}: pandapipes")
        rec.update(_peer(case, state, repeat))
        rec.update(whole_fields(whole_s, rec["peer_whole_s"]))
        rec["speedup"] = rec["peer_s"] / rec["total_s"]
        rec["speedup_fixed_point"] = rec["peer_s"] / rec["fixed_point_s"]
    return rec


def run_benchmarks(sizes=None, *, peer: bool = True, repeat: int = 7, progress=None,
                   peer_max_consumers: int = PEER_MAX_CONSUMERS, cold: bool = True) -> list[dict]:
    """The district-heating benchmark at every size (consumers; default :data:`DEFAULT_SIZES`, ``()`` for
    none); one JSON-ready record each."""
    sizes = DEFAULT_SIZES if sizes is None else sizes
    return [run_one(int(n), peer=peer, repeat=repeat, peer_max_consumers=peer_max_consumers, cold=cold,
                    progress=progress) for n in sizes]


def target_lines(records: list[dict]) -> list[str]:
    """The issue's targets next to the measured values (met or missed); nothing is asserted."""
    verdict = {True: "met", False: "MISSED"}
    out = []
    for n, limit in TARGET_FIXED_POINT_S.items():
        hits = [r for r in records if abs(r["size_requested"] - n) <= 0.05 * n]
        for r in hits:
            out.append(f"target {n:.0e} consumers warm <= {limit * 1e3:g} ms: fixed point "
                       f"{r['fixed_point_s'] * 1e3:.3g} ms -> {verdict[r['fixed_point_s'] <= limit]}; whole stage "
                       f"{r['total_s'] * 1e3:.4g} ms -> {verdict[r['total_s'] <= limit]}; time-series step "
                       f"{r['step_s'] * 1e3:.3g} ms -> {verdict[r['step_s'] <= limit]}")
    for r in records:
        if r["check_t_k"] is not None:
            out.append(f"target |dT| vs pandapipes <= {TARGET_DT_K:g} K at {r['size']:,} consumers: "
                       f"{r['check_t_k']:.1e} K -> {verdict[r['check_t_k'] <= TARGET_DT_K]}")
    return out


def format_table(records: list[dict]) -> str:
    """A plain-text table of the district-heating records, with the conditions and the targets in a footer."""
    from gigawatt.bench import coolant_networks as bench_cooling

    head = ["benchmark", "consumers", "pipes", "loops", "whole ms", "peer whole ms", "x whole", "total ms", "setup ms", "fixpt ms", "hyd ms", "heat ms",
            "finish ms", "iter", "step ms", "step it", "cold s", "peer ms", "x total", "x fixpt", "dp Pa", "dm kg/s", "dT K", "dQ W"]
    rows = [[r["benchmark"], f"{r['size']:,}", f"{r['pipes']:,}", f"{r['loops']:,}", fmt(r["whole_s"], 1e3, ".4g"),
             fmt(r["peer_whole_s"], 1e3, ".4g"), fmt(r["speedup_whole"], 1, ".2g"), fmt(r["total_s"], 1e3, ".4g"),
             fmt(r["setup_s"], 1e3, ".4g"), fmt(r["fixed_point_s"], 1e3), fmt(r["hydraulic_s"], 1e3),
             fmt(r["thermal_s"], 1e3), fmt(r["finish_s"], 1e3), str(r["iterations"]), fmt(r.get("step_s"), 1e3),
             str(r.get("step_iterations", "–")), fmt(r.get("cold_s")),
             fmt(r["peer_s"], 1e3, ".4g"), fmt(r["speedup"], 1, ".2g"), fmt(r["speedup_fixed_point"], 1, ".0f"),
             fmt(r["check_p_pa"], 1, ".1e"), fmt(r["check_m_kg_s"], 1, ".1e"), fmt(r["check_t_k"], 1, ".1e"),
             fmt(r["check_q_w"], 1, ".1e")] for r in records]

    out = table_lines(head, rows)
    out += [
        "",
        *wrapped(WHOLE_NOTE),
        "district-heating networks from the town builder (one substation a home, streets of 20 tied into rings,",
        "  4 vertical farms), solved by the stage warm (the run of median total): total = setup (demands, checks,",
        "  the networks' set-up) + fixpt (the flow-temperature fixed point: hyd = Global Gradient solves, heat =",
        "  upwind sweeps, iter iterations) + finish (pump, plant, figures); cold: fresh process (import, build,",
        "  gw.solve). step: the prepared network re-solved as a time series does, the outdoor temperature 1 K",
        "  from the last step's, warm-started from its solution (median; step it = its iterations).",
        "peer: pandapipes pipeflow, 'sequential' mode, warm, on the same network with our substation flows and",
        "  outlet temperatures (heat_consumer MF_TR); x = peer / ours. dp: max |difference| of node pressures",
        "  above each network's plant node; dm: of pipe flows; dT: of node temperatures; dQ: of substation heat.",
    ]
    for r in records:
        out.append(f"{r['benchmark']} {r['size']:,}: {r['homes']:,} homes + {r['farms']} farms, {r['spines']} spines, "
                   f"{r['nodes']:,} nodes, {r['pipes']:,} pipes, {r['loops']:,} loops; linear solver "
                   f"{r['linear_solver']}; {r['undersupplied']} under-supplied; heat balance residual "
                   f"{r['heat_balance_residual']:.1e}")
        out += bench_cooling.record_notes(r, "pipes (ring ties, street ends) run below Re 4000, where gigawatt's friction factor "
                               "is laminar or the laminar-turbulent blend and pandapipes' is Colebrook's: the flow "
                               "split around the rings, and so dp/dm/dT/dQ, compare two friction models there, not "
                               "two solvers")
    out += target_lines(records)
    out.append(PEER_REFERENCE_NOTE)
    return "\n".join(out)


def _cold_main(argv: list[str]) -> None:
    """Entry point of the cold subprocess: import, build, solve once; timings as JSON on stdout."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gigawatt.bench.heating_networks")
    parser.add_argument("--cold", type=int, required=True, help="consumers of the town to build and solve")
    args = parser.parse_args(argv)
    import gigawatt as gw
    import gigawatt.cases.town  # noqa: F401
    import gigawatt.solver.solve  # noqa: F401

    t1 = time.perf_counter()
    case = build_case(args.cold)
    t2 = time.perf_counter()
    gw.solve(case)
    t3 = time.perf_counter()
    hits, misses = numba_cache_counts()
    print(json.dumps({"build_s": t2 - t1, "solve_s": t3 - t2, "peak_rss_bytes": int(peak_rss_bytes()),
                      "numba_cache_hits": hits, "numba_cache_misses": misses}))


if __name__ == "__main__":
    _cold_main(sys.argv[1:])
