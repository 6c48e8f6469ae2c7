"""The contingency benchmark of ``gigawatt bench --contingency``: all single outages of stations, feeders and
CDUs (``stations,lines:cable,cdus``) of the bundled 100 MW campus, and of the 5 GW campus
(:mod:`gigawatt.bench.campus_5gw`), through the coupled chain (:func:`gigawatt.run_contingency` /
:func:`gigawatt.solver.contingency.analysis.solve_outages`).

For each case and each worker count the record holds ``wall_s`` and, in this process, ``cpu_s`` [s], the
outages solved and the largest ledger residual of any outage; the 5 GW case's outages are many (about 2,800),
so a seeded random ``subset`` of them is timed and ``extrapolated_s`` = ``wall_s``·all/subset is stated as
an extrapolation. Worker count 0 is this process (warmed by one outage outside the timing); 1 and 2 are
local Dask clusters (:func:`gigawatt.outage_runner.dask_map`) whose wall includes starting the cluster and
rebuilding the case and its prepared structures on every worker (twice per worker: two chunks each), as
``gigawatt contingency --workers N`` pays them, so on a small subset that fixed cost is part of the
extrapolation (an overestimate). The load average before and after each run is
recorded: on a shared 2-core machine it decides the wall times. Nothing here is asserted (timings never go
in tests).
"""
from __future__ import annotations

import os
import random
import time

from gigawatt.bench.common import table_lines

ELEMENTS = "stations,lines:cable,cdus"
TARGET_BUNDLED_S = 10.0
TARGET_5GW_S = 300.0


def _ledger(records) -> float:
    import math

    vals = [abs(r["energy_balance_residual"]) for r in records if not math.isnan(r["energy_balance_residual"])]
    return max(vals, default=float("nan"))


def _timed(fn, *args):
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - c0, load, os.getloadavg()[0]


def run_case(name: str, case, *, subset: int | None = None, workers=(0,), seed: int = 1, progress=None) -> list[dict]:
    """Time the single outages of ``case`` (``subset`` of them at random, None: all) on each worker count."""
    import gigawatt as gw
    from gigawatt.solver.contingency.analysis import solve_outages
    from gigawatt.solver.contingency.outages import list_outages

    say = progress or (lambda msg: None)
    outages = list_outages(case, ELEMENTS)
    chosen = outages if subset is None or subset >= len(outages) else random.Random(seed).sample(outages, subset)
    base = gw.solve(case)
    solve_outages(case, chosen[:1], base)  # warm: kernels compiled or loaded, imports done
    records = []
    for n in workers:
        say(f"{name}: {len(chosen)} of {len(outages)} outages on {n or 'this process, no'} workers")
        if n == 0:
            out, wall, cpu, l0, l1 = _timed(solve_outages, case, chosen, base)
        else:
            from gigawatt.outage_runner import dask_map

            out, wall, cpu, l0, l1 = _timed(dask_map(n), case, chosen, base)
            cpu = None  # spent in the workers
        rec = {"benchmark": "contingency", "case": name, "workers": n, "outages": len(chosen),
               "outages_all": len(outages), "wall_s": wall, "cpu_s": cpu,
               "extrapolated_s": wall * len(outages) / len(chosen) if len(chosen) < len(outages) else None,
               "ok": sum(r["status"] == "ok" for r in out), "max_energy_balance_residual": _ledger(out),
               "load_average_before": l0, "load_average_after": l1}
        records.append(rec)
    return records


def run_benchmarks(*, subset_5gw: int = 120, workers=(0, 1, 2), progress=None) -> list[dict]:
    """The bundled campus in this process (all its outages), then the 5 GW campus on ``workers``."""
    import gigawatt as gw
    from gigawatt.bench.campus_5gw import build_case

    records = run_case("bundled 100 MW campus", gw.load_case(), progress=progress)
    records += run_case("campus_5gw", build_case("campus_5gw"), subset=subset_5gw, workers=workers,
                        progress=progress)
    return records


def format_table(records: list[dict]) -> str:
    """The records as a table (:func:`gigawatt.tables.table_lines`), then the targets."""
    head = ["case", "workers", "outages", "wall s", "cpu s", "all, extrapolated s", "max ledger", "load"]
    rows = [[r["case"], str(r["workers"] or "in-proc"), f"{r['outages']}/{r['outages_all']}", f"{r['wall_s']:.2f}",
             f"{r['cpu_s']:.2f}" if r["cpu_s"] is not None else "-",
             f"{r['extrapolated_s']:.0f}" if r["extrapolated_s"] is not None else "(all solved)",
             f"{r['max_energy_balance_residual']:.1e}", f"{r['load_average_before']:.2f}-{r['load_average_after']:.2f}"]
            for r in records]
    lines = table_lines(head, rows)
    lines.append(f"targets: bundled campus <= {TARGET_BUNDLED_S:.0f} s; 5 GW campus <= {TARGET_5GW_S:.0f} s and linear "
                 "in workers (wall times on a shared machine: read them with the load average)")
    return "\n".join(lines)
