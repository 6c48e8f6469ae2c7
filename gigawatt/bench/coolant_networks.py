"""The coolant-network benchmarks of ``gigawatt bench``: the technology loops of a campus, against pandapipes.

The network is the one the cooling stage solves (:mod:`gigawatt.solver.cooling.stage`) for a campus from
:func:`gigawatt.build_campus` with a ``[cooling]`` section: one ladder loop per row of 16 racks of 130 kW.
Its hydraulic and thermal networks are taken from the stage itself: the arguments it passes to
:func:`~gigawatt.solver.numerics.hydraulic_network.solve_hydraulic_network` are recorded while it runs, and the thermal
network it prepares is on its plant (``plant.thermal``), so the benchmark times exactly what a solve of
the case does. Two benchmarks, kept in a registry:

``coolant_per_rack``
    a rack is one branch (hoses, manifolds and cold plates lumped); size = racks.
``coolant_per_plate``
    ``plate_resolution``: each rack a ladder of its 72 cold plates between its manifolds; size = plates.

For each one and each size the record holds, the whole call first:

* ``whole_s`` [s]: median of :func:`gigawatt.solve` of the campus case not solved before (a fresh case built
  outside the timing each run; numba warm): the user's call, which solves the electrical network, the chips
  and the facility water too; ``peer_whole_s``: pandapipes' ``sequential`` pipeflow on a net of the loops it
  has not run (built outside the timing each run), and ``speedup_whole`` their ratio;
* ``warm_hydraulic_s``, ``warm_thermal_s`` [s]: medians of :meth:`HydraulicNetwork.solve
  <gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.solve>` and :meth:`ThermalNetwork.solve
  <gigawatt.solver.numerics.thermal_kernel.ThermalNetwork.solve>` on networks prepared once (numba compiled,
  arrays in memory), garbage collected before each call as the DC benchmarks do; ``warm_s`` their sum, the
  warm coolant-network solve; ``hot_*`` the same back to back, caches warm (a loop of solves);
  ``prepare_s`` the one-off set-up of both; ``one_shot_s`` the two one-call functions as the cooling stage
  calls them today;
* ``step_hydraulic_s``, ``step_thermal_s``, ``step_s`` [s] (and ``step_*_cpu_s``): medians of a *time step* of the
  prepared networks, a series' step with new rack heat: the hydraulic solve resumed in a
  :meth:`~gigawatt.solver.numerics.hydraulic_network.HydraulicNetwork.session` from the last step's answer with
  ``min_iterations=0`` (its residuals tested at the step's injections: the constant-flow pumps leave them
  unchanged, so it holds and no Newton step is taken, ``step_iterations``), and the thermal replay at those
  flows (:meth:`ThermalNetwork.with_flows <gigawatt.solver.numerics.thermal_kernel.ThermalNetwork.with_flows>`,
  what :class:`~gigawatt.solver.cooling.stage.LoopThermal` solves from its third solve on); ``step_prepare_s``
  the replay's one-off plan. ``step_same``: the step's flows, pressures and temperatures are the prepared
  solve's to the last bit. The pandapipes ratios stay against ``warm_s``, a solve from scratch as the peer's;
* ``whole_cpu_s``, ``warm_hydraulic_cpu_s``, ``warm_thermal_cpu_s``, ``warm_cpu_s`` [s]: medians of the CPU time
  (``time.process_time``) of the same calls, and ``load_average``, the 1, 5 and 15 minute load averages when
  the record was made: on a shared machine the wall time includes waiting for a core;
* ``cold_s`` [s]: wall time of a fresh ``python -m gigawatt.bench.coolant_networks --cold`` process that imports
  gigawatt, builds the case and solves it once (electrical and cooling), with numba's on-disk cache warm,
  and ``cold_network_s``, the time spent in the hydraulic network solver in that process;
* the peer: pandapipes on the same loops (:func:`pandapipes_equivalent`) with the same fluid, pipes and
  heat, timed warm in ``hydraulics`` and in ``sequential`` (hydraulics, then heat) mode, the ratios to
  ours, and the largest differences between the two answers: node pressures above the loop's return node
  [Pa], pipe mass flows [kg/s], node temperatures [K]. The timing comparison only means something if both
  solved the same network to the same answer; where pipes run below Re 4000 (``pipes_below_re_4000``: the
  plate hoses and manifold ends of ``coolant_per_plate``) the two tools' friction laws differ by design
  (ours laminar or blended, pandapipes' Colebrook), and so do their answers.

Run ``python -m gigawatt.bench.coolant_networks --cold NAME N`` for one cold measurement as JSON on stdout.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import contextmanager

from gigawatt.bench.common import (WHOLE_NOTE, fmt, median_fresh_time, median_time, numba_cache_counts,
                                    peak_rss_bytes, peer_skipped, run_cold_process, table_lines, whole_fields,
                                    wrapped)

COOLING_BENCHMARKS = {"coolant_per_rack": {}, "coolant_per_plate": {"plate_resolution": True}}
"""Benchmark name → ``[cooling]`` settings (the registry of coolant benchmarks)."""
UNIT = {"coolant_per_rack": "racks", "coolant_per_plate": "plates"}
DEFAULT_SIZES = {"coolant_per_rack": (1_000, 10_000), "coolant_per_plate": (100_000,)}
"""Sizes run by ``gigawatt bench`` (racks, plates): the issue's 10^4 racks and 10^5 plates of a 1 GW campus,
and 10^3 racks."""

RACKS_PER_ROW = 16
MAX_ROWS_PER_HALL = 80
RACK_IT_POWER_KW = 130.0  # GB200 NVL72 class (about 120-132 kW: trade press, NVIDIA reference designs; secondary)
PLATES_PER_RACK = 72      # the schema default of chips_per_rack (GB200 NVL72: 72 GPUs)
# The example of a 1 GW campus per rack: 8 halls x 80 rows x 16 racks of 130 kW (10,240 racks).
SHAPES = {("coolant_per_rack", 10_000): (8, 80, 16)}

PEER_MAX_PIPES = 100_000
"""pandapipes is skipped above this many pipes (its pipeflow on 10^5 cold plates, 4x10^5 pipes, takes
minutes here); raise ``peer_max_pipes`` to run it."""
PEER_REPEAT_MAX = 3
WHOLE_TIME_BUDGET_S = 30.0
"""Stop repeating the whole call after at least 3 runs once this much time (building the fresh cases
included) is spent."""
PEER_OPTIONS = {"friction_model": "colebrook", "tol_p": 1e-12, "tol_m": 1e-12, "tol_T": 1e-9, "tol_res": 1e-6,
                "max_iter_hyd": 100, "max_iter_therm": 100, "tolerance_colebrook": 1e-14, "max_iter_colebrook": 100}
"""pipeflow options of the peer, for its timing and its answer alike: those of the cooling validation case
(``validation/cases/cooling_crosscode_pandapipes_loops.toml``; Colebrook friction, as ours, and tolerances
tight enough that what remains of the differences is not pandapipes stopping early), with pandapipes'
default ``use_numba=True``, its fast path."""
P_RETURN_BAR = 2.0
"""Pressure the peer holds at each return node [bar] (ours: 0 Pa gauge; only differences are compared)."""

TARGET_WARM_S = {("coolant_per_rack", 10_000): 5e-3, ("coolant_per_plate", 100_000): 50e-3}
"""The issue's targets: printed against the measured values, never asserted."""
PEER_REFERENCE_NOTE = "pandapipes, measured separately on a 10⁴-consumer network: 1.45 s"


def campus_shape(benchmark: str, n: int) -> tuple[int, int, int]:
    """(halls, rows per hall, racks per row) of about ``n`` racks or plates: rows of 16 racks, at most 80
    rows a hall (the issue's example for 10^4 racks exactly)."""
    if (benchmark, n) in SHAPES:
        return SHAPES[(benchmark, n)]
    racks = n / PLATES_PER_RACK if benchmark == "coolant_per_plate" else n
    rows = max(1, round(racks / RACKS_PER_ROW))
    halls = -(-rows // MAX_ROWS_PER_HALL)
    return halls, -(-rows // halls), RACKS_PER_ROW


def build_case(benchmark: str, n: int):
    """The benchmark campus of about ``n`` racks or plates with its cooling section."""
    import gigawatt as gw

    halls, rows, racks = campus_shape(benchmark, n)
    return gw.build_campus(halls=halls, rows_per_hall=rows, racks_per_row=racks, rack_it_power_kw=RACK_IT_POWER_KW,
                           cooling=dict(COOLING_BENCHMARKS[benchmark]), case={"name": f"bench-{benchmark}-{n}"})


@contextmanager
def recording_network_calls():
    """Record (and time) what the cooling stage passes to its hydraulic network solver while the block runs.

    Yields a dict that collects ``hydraulic`` (positional, keyword arguments) of the last call and
    ``seconds``, the time spent in all calls. The stage's module name is restored afterwards. (The thermal
    network the stage prepares is on its plant, ``plant.thermal``.)
    """
    import gigawatt.solver.cooling.stage as stage

    seen = {"seconds": 0.0}
    hydraulic = stage.solve_hydraulic_network

    def call(*args, **kwargs):
        seen["hydraulic"] = (args, kwargs)
        t0 = time.perf_counter()
        try:
            return hydraulic(*args, **kwargs)
        finally:
            seen["seconds"] += time.perf_counter() - t0

    stage.solve_hydraulic_network = call
    try:
        yield seen
    finally:
        stage.solve_hydraulic_network = hydraulic


def _median_s(fn, repeat: int) -> float:
    """Median wall time [s] of ``fn()`` as the DC benchmarks take it (garbage collected before each call)."""
    return median_time(fn, repeat)[0]


def _with_cpu(fn, cpu: list):
    """``fn`` that also appends the CPU time [s] of each call (``time.process_time``, both cores counted) to
    ``cpu``: on a shared, loaded machine the wall time waits for a core, the CPU time does not."""
    def timed(*args):
        c0 = time.process_time()
        out = fn(*args)
        cpu.append(time.process_time() - c0)
        return out
    return timed


def _median(values: list) -> float:
    import statistics

    return statistics.median(values)


def _hot_time(fn, repeat: int) -> float:
    """Median wall time [s] of ``repeat`` back-to-back calls of ``fn()`` (garbage collector off, no collection in
    between): the caches hold the network's arrays, as in a loop of solves. A collection before each call, as
    :func:`_median_time` does, walks every Python object and evicts them: slower by a third here."""
    import gc
    import statistics

    fn()
    gc.disable()
    try:
        times = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times)


def pandapipes_equivalent(loops, fluid, settings: dict, unit_q_w, loop_flow_kg_s, p_return_bar: float = P_RETURN_BAR):
    """The technology loops as a pandapipes net, built with pandapipes' vectorised ``create_*s`` functions.

    The same equivalence as :func:`gigawatt.validation.cooling_checks.to_pandapipes` (see there: every node a
    junction, every pipe a pipe with the same length, diameter, roughness scaled by 3.71/3.7 for pandapipes'
    Colebrook and minor loss; each heat unit's pipe split in halves around a loss-free ``heat_exchanger``
    that puts the unit's heat in, its minor loss on the first half; a mass ``source`` and a ``t`` ext_grid at
    each supply node, a ``p`` ext_grid at each return node), which creates the elements one at a time and so
    takes minutes at 10^4 racks.

    Returns
    -------
    (net, node_junction, unit_out_junction, pipe_row)
        As ``to_pandapipes``.
    """
    import numpy as np
    import pandapipes as pps

    from gigawatt.validation.cooling_checks import COLEBROOK_GIGAWATT, COLEBROOK_PANDAPIPES

    pp_fluid = pps.create_constant_fluid(name=f"gigawatt {fluid.name}", fluid_type="liquid",
                                         density=fluid.density_kg_m3, viscosity=fluid.viscosity_pa_s,
                                         heat_capacity=fluid.cp_j_per_kg_k)
    net = pps.create_empty_network(fluid=pp_fluid)
    t_sup, t_room = settings["tcs_supply_t_k"], settings["room_t_k"]
    n_unit = loops.unit_pipe.size
    junction = np.asarray(pps.create_junctions(net, loops.n_node, pn_bar=p_return_bar, tfluid_k=t_sup))
    heat_in = np.asarray(pps.create_junctions(net, n_unit, pn_bar=p_return_bar, tfluid_k=t_sup))
    unit_out = np.asarray(pps.create_junctions(net, n_unit, pn_bar=p_return_bar, tfluid_k=t_sup))
    k_mm = settings["header_roughness_m"] * 1e3 * COLEBROOK_PANDAPIPES / COLEBROOK_GIGAWATT

    def pipes(a, b, length_m, d_m, k_minor):
        return np.asarray(pps.create_pipes_from_parameters(
            net, a, b, length_km=length_m / 1e3, inner_diameter_mm=d_m * 1e3, k_mm=k_mm, loss_coefficient=k_minor,
            u_w_per_m2k=settings["pipe_u_w_per_m_k"] / (math.pi * d_m), text_k=t_room))

    other = np.ones(loops.pipe_from.size, dtype=bool)
    other[loops.unit_pipe] = False
    up = loops.unit_pipe
    pipe_row = np.empty(loops.pipe_from.size, dtype=np.int64)
    pipe_row[other] = pipes(junction[loops.pipe_from[other]], junction[loops.pipe_to[other]],
                            loops.pipe_length_m[other], loops.pipe_diameter_m[other], loops.pipe_k_minor[other])
    pipe_row[up] = pipes(junction[loops.pipe_from[up]], heat_in, 0.5 * loops.pipe_length_m[up],
                         loops.pipe_diameter_m[up], loops.pipe_k_minor[up])
    pipes(unit_out, junction[loops.pipe_to[up]], 0.5 * loops.pipe_length_m[up], loops.pipe_diameter_m[up],
          np.zeros(n_unit))
    pps.create_heat_exchangers(net, heat_in, unit_out, qext_w=-np.asarray(unit_q_w, dtype=float),
                               inner_diameter_mm=loops.pipe_diameter_m[up] * 1e3, loss_coefficient=0.0)
    live = np.asarray(loop_flow_kg_s) > 0
    pps.create_sources(net, junction[loops.supply_node[live]], mdot_kg_per_s=np.asarray(loop_flow_kg_s)[live])
    pps.create_ext_grids(net, junction[loops.supply_node], p_bar=np.nan, t_k=t_sup, type="t")
    pps.create_ext_grids(net, junction[loops.return_node], p_bar=p_return_bar, t_k=np.nan, type="p")
    return net, junction, unit_out, pipe_row


def _peer(plant, heat, hyd, th, repeat: int) -> dict:
    """pandapipes on the same loops: warm times in both modes and the largest differences to our answer."""
    import numpy as np
    import pandapipes as pps

    loops = plant.loops
    q_unit = heat.rack_q_liquid_w[loops.unit_rack] / loops.units_per_rack

    def equivalent():
        return pandapipes_equivalent(loops, plant.tcs, plant.settings, q_unit, plant.hydraulics.flow_kg_s)

    net, junction, unit_out, pipe_row = equivalent()
    out = {"peer": f"pandapipes {pps.__version__}"}
    for mode, key in (("hydraulics", "peer_hydraulic_s"), ("sequential", "peer_s")):
        run = lambda: pps.pipeflow(net, mode=mode, **PEER_OPTIONS)  # noqa: E731
        run()  # first run: pandapipes' own numba compilation and lookups
        out[key] = _median_s(run, min(repeat, PEER_REPEAT_MAX))
    out["peer_whole_s"] = median_fresh_time(lambda: equivalent()[0],
                                            lambda fresh: pps.pipeflow(fresh, mode="sequential", **PEER_OPTIONS),
                                            min(repeat, PEER_REPEAT_MAX))[0]
    ref = np.empty(loops.n_node, dtype=np.int64)  # each node's return node, its loop's pressure reference
    ref[loops.pipe_from] = loops.return_node[loops.pipe_loop]
    ref[loops.pipe_to] = loops.return_node[loops.pipe_loop]
    p_pp = net.res_junction["p_bar"].to_numpy()[junction] * 1e5
    out["check_p_pa"] = float(np.max(np.abs((hyd.p_pa - hyd.p_pa[ref]) - (p_pp - p_pp[ref]))))
    m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()[pipe_row]
    m_gw = hyd.pipe_m_kg_s
    out["check_m_kg_s"] = float(np.max(np.abs(m_gw - m_pp)))
    out["check_m_rel"] = float(np.max(np.abs(m_gw - m_pp) / np.maximum(np.abs(m_gw), 1e-300)))
    t_pp = net.res_junction["t_k"].to_numpy()
    t_gw = th.t_node_k
    out["check_t_k"] = float(max(np.max(np.abs(t_gw[:loops.n_node] - t_pp[junction])),
                                 np.max(np.abs(t_gw[loops.n_node:] - t_pp[unit_out]), initial=0.0)))
    return out


def _run_cold(benchmark: str, n: int) -> dict:
    """``python -m gigawatt.bench.coolant_networks --cold`` in a fresh process: its wall time and what it reports."""

    return run_cold_process("gigawatt.bench.coolant_networks", ["--cold", benchmark, str(n)],
                            {"cold_solve_s": "solve_s", "cold_network_s": "network_s"})


def run_one(benchmark: str, n: int, *, peer: bool = True, repeat: int = 7, peer_max_pipes: int = PEER_MAX_PIPES,
            cold: bool = True, progress=None) -> dict:
    """One coolant benchmark record (see the module docstring) for about ``n`` racks or plates."""
    import numpy as np

    from gigawatt.models.flow_correlations import RE_TURBULENT_MIN
    from gigawatt.solver.numerics.hydraulic_network import prepare_hydraulic_network, solve_hydraulic_network
    from gigawatt.validation.cooling_checks import solve_with_plant

    say = progress or (lambda msg: None)
    halls, rows, racks = campus_shape(benchmark, n)
    label = f"{benchmark} ~{n:,} {UNIT[benchmark]}"
    say(f"{label}: building {halls} halls x {rows} rows x {racks} racks and solving the case")
    case = build_case(benchmark, n)
    with recording_network_calls() as seen:
        ds, plant, heat = solve_with_plant(case)
    h_args, h_kwargs = seen["hydraulic"]
    solve_keys = ("tol_pa", "tol_mass_rel", "max_iterations", "m_start_kg_s", "m_start_is_guess")
    h_net_kwargs = {k: v for k, v in h_kwargs.items() if k not in solve_keys}
    h_solve_kwargs = {k: v for k, v in h_kwargs.items() if k in solve_keys}
    loop_thermal = plant.thermal
    q_unit = heat.rack_q_liquid_w[plant.loops.unit_rack] / plant.loops.units_per_rack
    value = loop_thermal.node_value.copy()
    value[loop_thermal.heat_node] = -q_unit
    t_solve = {"node_value": value, "m_branch_kg_s": loop_thermal.m_branch_kg_s,
               "m_node_kg_s": loop_thermal.m_node_kg_s}

    say(f"{label}: timing the prepared network solves ({repeat} warm runs)")
    from gigawatt.solver.cooling.stage import _loop_thermal

    t0 = time.perf_counter()
    hnet = prepare_hydraulic_network(**h_net_kwargs)
    prepare_s = time.perf_counter() - t0
    hyd = hnet.solve(**h_solve_kwargs)
    t0 = time.perf_counter()
    tnet = _loop_thermal(plant.settings, plant.tcs, plant.loops, hyd).network
    prepare_s += time.perf_counter() - t0
    th = tnet.solve(**t_solve)
    cpu_h, cpu_t, cpu_whole = [], [], []
    warm_h = _median_s(_with_cpu(lambda: hnet.solve(**h_solve_kwargs), cpu_h), repeat)
    warm_t = _median_s(_with_cpu(lambda: tnet.solve(**t_solve), cpu_t), repeat)
    hot_h = _hot_time(lambda: hnet.solve(**h_solve_kwargs), repeat)
    hot_t = _hot_time(lambda: tnet.solve(**t_solve), repeat)
    # A time step (module notes): the hydraulics resumed from the last answer, the thermal replay at its flows.
    t0 = time.perf_counter()
    fixed = tnet.with_flows(t_solve["m_branch_kg_s"], t_solve["m_node_kg_s"])
    step_prepare = time.perf_counter() - t0
    tol_keys = ("tol_pa", "tol_mass_rel", "max_iterations")
    h_step_kwargs = {k: v for k, v in h_solve_kwargs.items() if k in tol_keys}
    cpu_sh, cpu_st = [], []
    with hnet.session() as hs:
        last = [hnet.solve(session=hs, **h_solve_kwargs)]

        def step_hydraulic():
            last[0] = hnet.solve(session=hs, m_start_kg_s=last[0].m_kg_s, min_iterations=0, **h_step_kwargs)

        step_h = _median_s(_with_cpu(step_hydraulic, cpu_sh), repeat)
        step_t = _median_s(_with_cpu(lambda: fixed.solve(value), cpu_st), repeat)
        hot_step = _hot_time(lambda: (step_hydraulic(), fixed.solve(value)), repeat)
    step_th = fixed.solve(value)
    step_same = bool(np.array_equal(last[0].m_kg_s, hyd.m_kg_s) and np.array_equal(last[0].p_pa, hyd.p_pa)
                     and np.array_equal(step_th.t_node_k, th.t_node_k, equal_nan=True))
    one_shot = _median_s(lambda: _loop_thermal(plant.settings, plant.tcs, plant.loops,
                                                  solve_hydraulic_network(*h_args, **h_kwargs)).solve(q_unit),
                            max(1, min(repeat, 3)))
    say(f"{label}: timing gw.solve of cases not solved before (each built afresh, untimed)")
    import gigawatt as gw

    whole_s, whole_runs = median_fresh_time(lambda: build_case(benchmark, n), _with_cpu(gw.solve, cpu_whole), repeat,
                                            WHOLE_TIME_BUDGET_S)
    # The stage's own answer is the reference for ours here (the same arrays): identical to the last bit.
    same = bool(np.array_equal(hyd.m_kg_s, plant.hydraulics.result.m_kg_s)
                and np.array_equal(th.t_node_k, heat.thermal.t_node_k, equal_nan=True))

    rec = {
        "benchmark": benchmark, "unit": UNIT[benchmark], "size": int(plant.loops.unit_pipe.size),
        "size_requested": int(n), "racks": int(plant.loops.rack_loop.size), "halls": halls, "rows_per_hall": rows,
        "racks_per_row": racks, "loops": int(plant.loops.n_loop), "nodes": int(hnet.n_node),
        "pipes": int(hnet.n_pipe), "thermal_nodes": int(tnet.n_node), "thermal_branches": int(tnet.n_branch),
        "linear_solver": hnet.linear_solver, "factor_work": float(hnet.factor_work),
        **whole_fields(whole_s, None), "whole_runs": whole_runs, "prepare_s": prepare_s, "warm_hydraulic_s": warm_h, "warm_thermal_s": warm_t, "warm_s": warm_h + warm_t,
        "hot_hydraulic_s": hot_h, "hot_thermal_s": hot_t, "hot_s": hot_h + hot_t,
        "step_hydraulic_s": step_h, "step_thermal_s": step_t, "step_s": step_h + step_t, "hot_step_s": hot_step,
        "step_hydraulic_cpu_s": _median(cpu_sh), "step_thermal_cpu_s": _median(cpu_st),
        "step_cpu_s": _median(cpu_sh) + _median(cpu_st), "step_prepare_s": step_prepare,
        "step_iterations": int(last[0].iterations), "step_same": step_same,
        "whole_cpu_s": _median(cpu_whole), "warm_hydraulic_cpu_s": _median(cpu_h), "warm_thermal_cpu_s": _median(cpu_t),
        "warm_cpu_s": _median(cpu_h) + _median(cpu_t), "load_average": list(os.getloadavg()),
        "one_shot_s": one_shot, "repeat": int(repeat), "iterations": int(hyd.iterations),
        "max_pressure_residual_pa": float(hyd.max_pressure_residual_pa),
        "pipes_below_re_4000": int(np.sum(np.abs(hyd.pipe_m_kg_s) * hnet.pipes.re_per_kg_s < RE_TURBULENT_MIN)),
        "heat_ledger_residual": float(th.ledger.residual), "same_as_stage": same,
        "pue": float(ds.attrs["pue"]),
    }
    if cold:
        say(f"{label}: cold run in a fresh process")
        rec.update(_run_cold(benchmark, n))
    else:
        rec.update({"cold_s": None, "cold_solve_s": None, "cold_network_s": None, "cold_numba_cache_misses": None,
                    "cold_note": "cold run skipped"})

    rec.update({"peer": None, "peer_hydraulic_s": None, "peer_s": None, "speedup_hydraulic": None, "speedup": None,
                "check_p_pa": None, "check_m_kg_s": None, "check_m_rel": None, "check_t_k": None})

    too_big = (f"pandapipes skipped above {peer_max_pipes:,} pipes (minutes per pipeflow at this size here); raise "
               f"peer_max_pipes to run it") if rec["pipes"] > peer_max_pipes else None
    rec["peer_note"] = peer_skipped(peer, too_big, "pandapipes")
    if rec["peer_note"] is None:
        say(f"{label}: pandapipes")
        rec.update(_peer(plant, heat, hyd, th, repeat))
        rec.update(whole_fields(whole_s, rec["peer_whole_s"]))
        rec["speedup_hydraulic"] = rec["peer_hydraulic_s"] / warm_h
        rec["speedup"] = rec["peer_s"] / rec["warm_s"]
    return rec


def run_benchmarks(sizes: dict | None = None, *, peer: bool = True, repeat: int = 7, progress=None,
                   peer_max_pipes: int = PEER_MAX_PIPES, cold: bool = True) -> list[dict]:
    """Every benchmark of :data:`COOLING_BENCHMARKS` at its sizes (``sizes``: name → sizes, default
    :data:`DEFAULT_SIZES`); one JSON-ready record each."""
    sizes = DEFAULT_SIZES if sizes is None else sizes
    return [run_one(name, int(n), peer=peer, repeat=repeat, peer_max_pipes=peer_max_pipes, cold=cold,
                    progress=progress)
            for name in COOLING_BENCHMARKS for n in sizes.get(name, ())]


def target_lines(records: list[dict]) -> list[str]:
    """The issue's targets next to the measured values (met or missed); nothing is asserted."""
    out = []
    verdict = {True: "met", False: "MISSED"}
    for (name, n), limit in TARGET_WARM_S.items():
        hits = [r for r in records if r["benchmark"] == name and abs(r["size_requested"] - n) <= 0.05 * n]
        unit = UNIT[name]
        for r in hits:
            out.append(f"target {n:.0e} {unit} warm <= {limit * 1e3:g} ms: {r['warm_s'] * 1e3:.3g} ms "
                       f"({r['size']:,} {unit}) -> {verdict[r['warm_s'] <= limit]}; hot {r['hot_s'] * 1e3:.3g} ms "
                       f"-> {verdict[r['hot_s'] <= limit]}; time step {r['step_s'] * 1e3:.3g} ms "
                       f"-> {verdict[r['step_s'] <= limit]}")
    return out


def format_table(records: list[dict]) -> str:
    """A plain-text table of the coolant records, with the conditions and the targets in a footer."""
    head = ["benchmark", "size", "pipes", "whole ms", "cpu ms", "peer whole ms", "x whole", "warm ms", "cpu ms",
            "hyd ms", "heat ms", "step ms", "cpu ms",
            "hot ms", "prep ms", "1-shot ms", "cold s", "iter",
            "peer hyd ms", "peer ms", "x hyd", "x", "dp Pa", "dm kg/s", "dT K"]
    rows = [[r["benchmark"], f"{r['size']:,} {r['unit']}", f"{r['pipes']:,}", fmt(r["whole_s"], 1e3, ".4g"),
             fmt(r.get("whole_cpu_s"), 1e3, ".4g"), fmt(r["peer_whole_s"], 1e3, ".4g"), fmt(r["speedup_whole"], 1, ".2g"),
             fmt(r["warm_s"], 1e3), fmt(r.get("warm_cpu_s"), 1e3),
             fmt(r["warm_hydraulic_s"], 1e3), fmt(r["warm_thermal_s"], 1e3), fmt(r["step_s"], 1e3),
             fmt(r.get("step_cpu_s"), 1e3), fmt(r["hot_s"], 1e3),
             fmt(r["prepare_s"], 1e3),
             fmt(r["one_shot_s"], 1e3), fmt(r.get("cold_s"), 1, ".3g", "–"), str(r["iterations"]),
             fmt(r["peer_hydraulic_s"], 1e3, ".4g"), fmt(r["peer_s"], 1e3, ".4g"),
             fmt(r["speedup_hydraulic"], 1, ".0f"), fmt(r["speedup"], 1, ".0f"), fmt(r["check_p_pa"], 1, ".1e"),
             fmt(r["check_m_kg_s"], 1, ".1e"), fmt(r["check_t_k"], 1, ".1e")] for r in records]

    out = table_lines(head, rows)
    out += [
        "",
        *wrapped(WHOLE_NOTE + " Here gw.solve solves the campus (electrical network, chips, loops, facility "
                 "water); the peer only the loops."),
        "coolant networks of the cooling stage (technology loops, one per row of 16 racks of 130 kW), as it solves",
        "  them; warm = hyd + heat: medians of the prepared hydraulic (Global Gradient, Colebrook) and thermal",
        "  (upwind sweep) solves, garbage collected before each (as the DC table); hot: the same back to back;",
        "  prep: their one-off set-up; 1-shot: solve_hydraulic_network + the thermal set-up and solve as the stage",
        "  calls them now; step: a time step of the prepared networks (new rack heat): the hydraulic solve resumed",
        "  from the last answer, no Newton step while its residuals still meet the tolerances (constant-flow pumps),",
        "  and the thermal replay at unchanged flows (all a series step of the stage runs); same bits as warm;",
        "  cold: fresh process (import, build, gw.solve). cpu: median CPU time of the same calls",
        "  (process_time, both cores counted); wall times on a loaded machine include waiting for a core.",
        "peer: pandapipes pipeflow on the same loops, warm, 'hydraulics' and 'sequential' (hydraulics + heat)",
        "  modes, tolerances of the cooling validation case; x = peer / ours. dp: max |difference| of node",
        "  pressures above the loop's return node; dm: of pipe mass flows; dT: of node temperatures.",
    ]
    for r in records:
        out.append(f"{r['benchmark']} {r['size']:,} {r['unit']}: {r['halls']} halls x {r['rows_per_hall']} rows x "
                   f"{r['racks_per_row']} racks ({r['racks']:,} racks, {r['loops']} loops), {r['nodes']:,} nodes, "
                   f"{r['pipes']:,} pipes; linear solver {r['linear_solver']}"
                   + (f"; load average {' '.join(f'{x:.2f}' for x in r['load_average'])}" if r.get("load_average")
                      else ""))
        out += record_notes(r, "pipes run below Re 4000, where gigawatt's friction factor is laminar or the "
                               "laminar-turbulent blend and pandapipes' is Colebrook's: there dp/dm/dT compare two "
                               "models, not two solvers")
    out += target_lines(records)
    out.append(PEER_REFERENCE_NOTE)
    return "\n".join(out)


def record_notes(r: dict, laminar_note: str) -> list[str]:
    """A record's peer and cold-run notes, and ``laminar_note`` on its pipes below Re 4000 when the peer ran."""
    out = [f"{r['benchmark']} {r['size']:,}: {r[key]}" for key in ("peer_note", "cold_note") if r.get(key)]
    if r["pipes_below_re_4000"] and r["peer"]:
        out.append(f"{r['benchmark']} {r['size']:,}: {r['pipes_below_re_4000']:,} {laminar_note}")
    return out


def _cold_main(argv: list[str]) -> None:
    """Entry point of the cold subprocess: import, build, solve once; timings as JSON on stdout."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gigawatt.bench.coolant_networks")
    parser.add_argument("--cold", nargs=2, metavar=("BENCHMARK", "N"), required=True)
    args = parser.parse_args(argv)
    name, n = args.cold[0], int(args.cold[1])
    import gigawatt as gw
    import gigawatt.cases.campus  # noqa: F401
    import gigawatt.solver.solve  # noqa: F401

    t1 = time.perf_counter()
    case = build_case(name, n)
    t2 = time.perf_counter()
    with recording_network_calls() as seen:
        gw.solve(case)
    t3 = time.perf_counter()
    hits, misses = numba_cache_counts()
    print(json.dumps({"build_s": t2 - t1, "solve_s": t3 - t2, "network_s": seen["seconds"],
                      "peak_rss_bytes": int(peak_rss_bytes()), "numba_cache_hits": hits, "numba_cache_misses": misses}))


if __name__ == "__main__":
    _cold_main(sys.argv[1:])
