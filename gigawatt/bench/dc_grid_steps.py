"""Benchmark of the DC grid load flow over many short steps, behind ``gigawatt bench --grid-steps STEPS``: the
electrical stage of a training-load swing study (issue 19: an hour at 10 ms steps is 360,000 steps).

The network: an 800 V ring of 40 hall buses and 8 stiff stations (every fifth bus), busway segments of
0.1 mΩ, a 2.5 MW rack load per hall swinging between 60 % and 100 % with a 2 s compute/communication period,
and a bus-storage terminal at each of the 32 other halls that discharges 80 % of the swing's half-depth while
the load is high and charges as much while it is low, between 799.3 V and 800.5 V (a tight floor: while the load is high
some terminals hold 799.3 V and discharge more than asked, so steps fall into several patterns). All steps
are handed to :meth:`gigawatt.solver.dc.meshed.DCGridSolver.solve` at once; the solver
keeps one factorisation per pattern of terminals at their limits.

The record holds ``first_s`` (one step on a fresh solver, with its factorisation), ``step_s`` (one step,
factorisation reused, median), ``step_warm_s`` (the same step started from the previous step's result),
``all_s`` and ``all_cpu_s`` (wall and CPU time of all steps at once; the
machine's load shows in their difference), the substitution iterations, the factorisations, the worst ledger
residual [W] and the share of steps with a terminal at a limit. No peer: pandapower has no set-power terminal
with voltage limits, and one of its load flows per step (tens of ms) would take hours for 360,000 steps.
"""
from __future__ import annotations

import time

from gigawatt.bench.common import fmt, median_time, table_lines

N_HALLS = 40


def build(steps: int):
    """(solver, terminal powers [W] steps × 32, rack loads [W] steps × 40)."""
    import numpy as np

    from gigawatt.solver.dc.meshed import DCGridSolver, dc_grid

    n = N_HALLS + 1
    lines = [(0, 1, 0.0002)] + [(i, i + 1, 0.0001) for i in range(1, n - 1)] + [(n - 1, 0, 0.0002)]
    storage = [i for i in range(1, n) if i % 5]
    grid = dc_grid([800.0] * n, lines=lines, feeds=[(i, 800.0, 0.0) for i in range(0, n, 5)],
                   terminals=[(i, 0.0, 799.3, 800.5) for i in storage], loads=[(i, 2.5e6) for i in range(1, n)])
    t = np.arange(steps) * 0.01
    high = (np.sin(2 * np.pi * t / 2.0) > 0).astype(float)
    p_load = 2.5e6 * (0.6 + 0.4 * high)[:, None] * np.ones(n - 1)
    p_term = (0.8 * 2.5e6 * 0.4 * (high - 0.5))[:, None] * np.ones(len(storage))
    return DCGridSolver(grid), p_term, p_load


def run_benchmark(steps: int = 360_000, *, repeat: int = 5, progress=None) -> dict:
    """One record (see the module docstring)."""
    import numpy as np

    say = progress or (lambda msg: None)
    say(f"dc_grid_steps: building {steps:,} steps")
    solver, p_term, p_load = build(steps)
    t0 = time.perf_counter()
    solver.solve(terminal_p_w=p_term[0], load_p_w=p_load[0])
    first = time.perf_counter() - t0
    step_s, _ = median_time(lambda: solver.solve(terminal_p_w=p_term[1], load_p_w=p_load[1]), repeat)
    prev = solver.solve(terminal_p_w=p_term[0], load_p_w=p_load[0])
    warm_s, _ = median_time(lambda: solver.solve(terminal_p_w=p_term[1], load_p_w=p_load[1], start=prev), repeat)
    say("dc_grid_steps: all steps at once")
    c0, t0 = time.process_time(), time.perf_counter()
    res = solver.solve(terminal_p_w=p_term, load_p_w=p_load)
    all_s, all_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"benchmark": "dc_grid_steps", "steps": steps, "buses": solver.grid.n_bus,
            "terminals": int(solver.grid.terminal_bus.size), "first_s": first, "step_s": step_s, "step_warm_s": warm_s,
            "all_s": all_s,
            "all_cpu_s": all_cpu, "iterations": int(res.iterations), "factorisations": solver.factorisations,
            "max_ledger_residual_w": float(np.abs(res.ledger_residual_w).max()),
            "share_at_limit": float((res.terminal_mode != 0).any(axis=1).mean())}


def format_table(rec: dict) -> str:
    head = ["steps", "buses", "terminals", "first [ms]", "one step [ms]", "warm step [ms]", "all [s]", "all CPU [s]",
            "iterations",
            "factorisations", "max |ledger| [W]", "steps at a limit"]
    row = [f"{rec['steps']:,}", str(rec["buses"]), str(rec["terminals"]), fmt(rec["first_s"], 1e3),
           fmt(rec["step_s"], 1e3), fmt(rec["step_warm_s"], 1e3), fmt(rec["all_s"]), fmt(rec["all_cpu_s"]),
           str(rec["iterations"]),
           str(rec["factorisations"]), fmt(rec["max_ledger_residual_w"]), f"{100 * rec['share_at_limit']:.0f} %"]
    return "\n".join(table_lines(head, [row]))
