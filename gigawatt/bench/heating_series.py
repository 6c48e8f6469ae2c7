"""The district-heating time-series benchmark (``gigawatt bench --dh-series 1e3,1e4 [--steps N]``).

What is timed: :meth:`gigawatt.solver.district_heating.series.DistrictHeatingSeries.step` on the town networks of the
district-heating benchmark (:func:`gigawatt.bench.heating_networks.build_case`: one substation a home, streets of 20 tied
into rings, 4 vertical farms), prepared once, warm (numba compiled; the first steps are run untimed), each
step an hour (``dt_s`` = 3600 s) of a winter day's weather: the outdoor temperature follows
-5 + 4 sin(2 pi h / 24) degC, so every step moves the demand (up to about 1 K an hour) and the substation
flows, with a campus heat offer of 20 % of the design demand to the heat pumps. Reported per size: the
median and mean step [ms], the hydraulic Newton iterations a step (mean, max), the year extrapolated
(8760 × mean step) against the issue's target, and the same steps solved by the steady stage
(:meth:`DistrictHeatingNetwork.solve`, warm-started, its flow-temperature fixed point a step) for the ratio.

Measured (2-core machine shared with other jobs, 96 steps, 26 Nov 2026): 1,004 consumers 1.13 ms a step (the
steady stage 4.6 ms), 10,004 consumers 8.2 ms a step, wall = CPU (the steady stage 40 ms), 2 hydraulic Newton
iterations a step, ledger 1e-15: a year at 10^4 consumers in about 72 s for this stage alone, against the
44 s it may take (target missed by 1.6x); with ``--hydraulic-tol-pa 1e-2`` (1.2 iterations) 7.9 ms CPU.

Issue 5's target: the coupled chain for 8760 hourly steps with a 10^4-consumer network in <= 60 s on the
2-core machine, so the district-heating step at 10^4 consumers about 5 ms (:data:`TARGET_STEP_S`).

No peer: pandapipes has no transport-delay pipe (its pipeflow is steady; measured in issue 4 at about 1.45 s
a pipeflow at 10^4 consumers, which would make a year of steps about 3.5 h).

The whole call comes first in the table, as in the other benchmarks: ``whole_s`` [s], the user's call on a town not
prepared before (numba warm): :class:`DistrictHeatingSeries` built from the case, then every step run (the untimed
warm-up steps and the timed ones, ``WARM_STEPS + steps``), one wall clock around it all; ``whole_cpu_s`` the
process's CPU time over the same span. ``peer_whole_s`` and ``speedup_whole`` are None (no peer, above).
"""
from __future__ import annotations

import math
import time

from gigawatt.bench.common import fmt, table_lines, whole_fields

DEFAULT_SIZES = (1_000, 10_000)
PEER_NOTE = "its steady pipeflow took about 1.45 s at 10^4 consumers (measured separately): 3.5 h for a year of steps"
DEFAULT_STEPS = 48
WARM_STEPS = 3
"""Untimed steps first (numba's compilation or cache load, the first Colebrook roots)."""
TARGET_STEP_S = {10_000: 5e-3}
"""Issue 5: the district-heating share of a year of hourly steps of the coupled chain in 60 s at 10^4."""
HOURS_PER_YEAR = 8760
DT_S = 3600.0


def outdoor_t_k(hour: int) -> float:
    """The benchmark's weather: -5 + 4 sin(2 pi h / 24) degC [K]."""
    return 268.15 + 4.0 * math.sin(2.0 * math.pi * hour / 24.0)


def run_one(n: int, steps: int = DEFAULT_STEPS, *, steady: bool = True, progress=None,
            hydraulic_tol_pa: float | None = None) -> dict:
    """One record: ``steps`` series steps on the town of ``n`` consumers (module notes)."""
    import gc

    import numpy as np

    from gigawatt.bench.heating_networks import build_case
    from gigawatt.solver.district_heating.series import DistrictHeatingSeries
    from gigawatt.solver.district_heating.stage import HeatOffer, prepare_district_heating

    say = progress or (lambda msg: None)
    say(f"district-heating series {n:,} consumers: building the town")
    case = build_case(n)
    t0, c0 = time.perf_counter(), time.process_time()
    from gigawatt.solver.district_heating.series import HYDRAULIC_TOL_PA

    tol = HYDRAULIC_TOL_PA if hydraulic_tol_pa is None else hydraulic_tol_pa
    ser = DistrictHeatingSeries(case, hydraulic_tol_pa=tol)
    prepare_s = time.perf_counter() - t0
    design = float(ser.steady_start.figures["dh_q_demand_w"])
    offer = HeatOffer(0.2 * design, 318.15, 308.15)
    for h in range(WARM_STEPS):
        ser.step(offer, outdoor_t_k(h), DT_S, hour_of_day=float(h % 24))
    say(f"district-heating series {n:,} consumers: {steps} steps")
    times, cpu, iters, residuals, unmet = [], [], [], [], []
    gc.collect()
    gc.disable()
    try:
        for h in range(WARM_STEPS, WARM_STEPS + steps):
            t, c = time.perf_counter(), time.thread_time()
            f = ser.step(offer, outdoor_t_k(h), DT_S, hour_of_day=float(h % 24))
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            iters.append(f["dh_hydraulic_iterations"])
            residuals.append(f["dh_ledger_residual"])
            unmet.append(f["dh_q_unmet_w"] / max(f["dh_q_demand_w"], 1e-300))
    finally:
        gc.enable()
    whole_s, whole_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rec = {**whole_fields(whole_s, None), "whole_cpu_s": whole_cpu_s, "whole_steps": WARM_STEPS + steps,
           "peer_whole_note": "no peer: " + PEER_NOTE,
           "benchmark": "district_heating_series", "size": int(len(case.tables["dh_consumer"])),
           "size_requested": int(n), "pipes": int(len(case.tables["dh_pipe"])), "steps": steps, "dt_s": DT_S,
           "prepare_s": prepare_s, "step_median_s": float(np.median(times)), "step_mean_s": float(np.mean(times)),
           "step_max_s": float(np.max(times)), "step_cpu_mean_s": float(np.mean(cpu)), "hydraulic_tol_pa": tol, "hydraulic_iterations_mean": float(np.mean(iters)),
           "hydraulic_iterations_max": int(np.max(iters)), "ledger_residual_max": float(np.max(residuals)),
           "run_ledger_residual": ser.energy_balance_residual(), "unmet_share_max": float(np.max(unmet)),
           "year_s": HOURS_PER_YEAR * float(np.mean(times)), "steady_step_s": None, "steady_cpu_s": None,
           "steady_iterations_mean": None}
    if steady:
        say(f"district-heating series {n:,} consumers: the same steps by the steady stage")
        net = prepare_district_heating(case)
        net.solve(offer)
        st_times, st_cpu, st_iters = [], [], []
        for h in range(WARM_STEPS, WARM_STEPS + steps):
            t, c = time.perf_counter(), time.thread_time()
            state = net.solve(offer, outdoor_t_k=outdoor_t_k(h))
            st_times.append(time.perf_counter() - t)
            st_cpu.append(time.thread_time() - c)
            st_iters.append(state.figures["dh_iterations"])
        rec["steady_step_s"] = float(np.mean(st_times))
        rec["steady_cpu_s"] = float(np.mean(st_cpu))
        rec["steady_iterations_mean"] = float(np.mean(st_iters))
    return rec


def run_benchmarks(sizes=DEFAULT_SIZES, steps: int = DEFAULT_STEPS, *, steady: bool = True, progress=None,
                   hydraulic_tol_pa: float | None = None):
    return [run_one(int(n), steps, steady=steady, progress=progress, hydraulic_tol_pa=hydraulic_tol_pa)
            for n in sizes]


def format_table(records: list[dict]) -> str:

    head = ["benchmark", "consumers", "pipes", "steps", "whole s", "peer whole s", "median ms", "mean ms", "cpu ms",
            "max ms", "hyd it", "year s", "steady ms", "steady it", "x steady", "ledger", "unmet"]
    rows = [[r["benchmark"], f"{r['size']:,}", f"{r['pipes']:,}", str(r["steps"]),
             fmt(r["whole_s"], 1, ".3g"), fmt(r["peer_whole_s"], 1, ".3g"), fmt(r["step_median_s"], 1e3),
             fmt(r["step_mean_s"], 1e3), fmt(r["step_cpu_mean_s"], 1e3), fmt(r["step_max_s"], 1e3),
             f"{r['hydraulic_iterations_mean']:.2g}/{r['hydraulic_iterations_max']}", fmt(r["year_s"], 1, ".3g"),
             fmt(r["steady_step_s"], 1e3), fmt(r["steady_iterations_mean"], 1, ".2g"),
             fmt(None if r["steady_step_s"] is None else r["steady_step_s"] / r["step_mean_s"], 1, ".2g"),
             f"{r['run_ledger_residual']:.1e}", f"{r['unmet_share_max']:.1e}"] for r in records]
    out = table_lines(head, rows)
    out += ["",
            "whole: the user's call on a town not prepared before (numba warm): the series prepared from the case and",
            f"  all its steps run ({WARM_STEPS} warm-up + the timed ones); peer whole: none (see the last line).",
            "steps of DistrictHeatingSeries (dt 1 h, outdoor -5 + 4 sin(2 pi h/24) degC, campus offer 20 % of design",
            "  demand), warm; cpu: the step's own CPU time (thread time: less sensitive to other loads on the machine",
            "  than the wall times); hyd it: hydraulic Newton iterations a step (mean/max, each converged to",
            f"  {records[0]['hydraulic_tol_pa'] if records else 1e-8:g} Pa); year s: 8760 x mean step; steady: the steady stage's",
            "  flow-temperature fixed point on the same steps (x steady = its time / ours); ledger: the run's relative",
            "  energy residual; unmet: largest step share of demand the one-step control lag left undelivered.",
            "  No peer: pandapipes has no transport-delay pipe (" + PEER_NOTE + ")."]
    for r in records:
        for n, limit in TARGET_STEP_S.items():
            if abs(r["size_requested"] - n) <= 0.05 * n:
                verdict = "met" if r["step_mean_s"] <= limit else "MISSED"
                out.append(f"target {n:.0e} consumers step <= {limit * 1e3:g} ms (a year in {HOURS_PER_YEAR * limit:.0f} s "
                           f"of the 60 s): mean {r['step_mean_s'] * 1e3:.3g} ms, year {r['year_s']:.3g} s -> {verdict}")
    return "\n".join(out)
