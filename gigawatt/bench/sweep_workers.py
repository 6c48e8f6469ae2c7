"""Benchmark of ``gigawatt sweep``: the same 8 scenarios on a local Dask cluster of 1 and of 2 worker
processes, and the ratio of their wall times (the issue's target: at least 1.8 on 2 workers).

Two times per cluster: ``sweep_s``, the sweep itself on workers that have already imported gigawatt and
loaded its compiled kernels (a warm-up solve of the base case on every worker, not timed; the median of
``repeat`` sweeps run in turn with the other cluster's), and ``total_s``, which adds starting the cluster
and that warm-up, as a one-off ``gigawatt sweep`` pays them.
The scenarios vary the district-heating supply temperature and the ASHRAE facility class of the bundled
default case (4 halls × 12 rows × 16 racks with cooling and a town's heating network). Nothing here is
asserted; a shared machine makes the ratio noisy, so the load average is recorded with it.

As in the other benchmarks the record leads with the whole call, ``whole_s`` [s]: what a one-off
``gigawatt sweep`` of these scenarios pays on its default cluster (one worker a core, :func:`gigawatt.sweep.connect`),
cluster start and warm-up plus the median sweep (``total_s`` of that worker count; of the largest count run when
the machine has more cores than were run). ``peer_whole_s`` and ``speedup_whole`` are None: no peer tool runs a
sweep of the coupled chain (pandapower and pandapipes solve one network each, per scenario, with no coupling).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from gigawatt.bench.common import whole_fields

PEER_NOTE = "no peer: no peer tool sweeps the coupled chain (pandapower and pandapipes solve one network each)"

DEFAULT_GRID = {"district_heating.t_supply_c": [65, 70, 75, 80], "cooling.facility_class": ["W32", "W40"]}


def _warm(case_path):
    """Run on every worker: import and solve the base case once (loads the Numba kernels from cache)."""
    import gigawatt as gw

    gw.solve(gw.load_case(case_path))
    return os.getpid()


def year_case_file(folder: Path, hours: int) -> Path:
    """The bundled default case with a time axis of ``hours`` hourly steps (the training load, the bundled
    weather): each scenario of a sweep over it is a scenario-year (8760 hours)."""
    from gigawatt.cases.loader import default_case_path

    path = Path(folder) / f"default-{hours}h.toml"
    text = default_case_path().read_text(encoding="utf-8")
    path.write_text(text + f'\n[time]\nperiods = {int(hours)}\nit_load = "training"\nweather = "bundled"\n',
                    encoding="utf-8")
    return path


def run_sweep_benchmark(case=None, grid: dict | None = None, workers=(1, 2), repeat: int = 3,
                        progress=None, hours: int = 0) -> dict:
    """Time the sweep of ``grid`` (default: 8 scenarios of the bundled case) on each worker count.

    One warm cluster per worker count, all started first; then the sweeps run in turn (1, 2, 1, 2, …)
    ``repeat`` times, so a change in the machine's other load falls on every count alike, and the median
    is kept. Returns a JSON-ready record: ``scenarios``, per worker count ``sweep_s`` (median), ``sweeps_s``
    (all), ``start_s`` (cluster start and warm-up) and ``total_s`` (start + median sweep) [s]; the ratios of
    the first count to each other (``speedup``, ``speedup_total``); ``identical`` (every KPI equal across
    counts) and the load average before and after. With ``hours`` > 0 (and no ``case``) each scenario is the
    bundled case along that many hourly steps (:func:`year_case_file`; 8760: scenario-years), its figures the
    period's totals.
    """
    from contextlib import ExitStack
    from statistics import median

    import numpy as np
    from dask.distributed import Client

    from gigawatt.sweep import local_cluster, run_sweep

    grid = grid or DEFAULT_GRID
    say = progress or (lambda msg: None)
    rec = {"benchmark": "sweep", "case": str(case or "bundled default"), "grid": {k: list(v) for k, v in grid.items()},
           "cpu_count": os.cpu_count(), "load_average_before": os.getloadavg()[0], "repeat": repeat, "runs": {}}
    results = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        if hours and case is None:
            case = year_case_file(Path(tmp), hours)
            rec["case"], rec["hours"] = f"bundled default, {hours} hourly steps a scenario", int(hours)
        clients = {}
        for n in workers:
            t0 = time.perf_counter()
            cluster = stack.enter_context(local_cluster(n))
            clients[n] = stack.enter_context(Client(cluster, set_as_default=False))
            clients[n].run(_warm, case)
            rec["runs"][str(n)] = {"workers": n, "start_s": time.perf_counter() - t0, "sweeps_s": []}
        for r in range(repeat):
            for n in workers:
                t1 = time.perf_counter()
                results[n] = run_sweep(case, grid, Path(tmp) / f"w{n}-{r}.nc", client=clients[n])
                rec["runs"][str(n)]["sweeps_s"].append(time.perf_counter() - t1)
                say(f"sweep of {results[n].sizes['scenario']} scenarios on {n} worker(s): "
                    f"{rec['runs'][str(n)]['sweeps_s'][-1]:.2f} s")
    for run in rec["runs"].values():
        run["sweep_s"] = median(run["sweeps_s"])
        run["total_s"] = run["start_s"] + run["sweep_s"]
    first = workers[0]
    rec["scenarios"] = int(results[first].sizes["scenario"])
    rec["failed"] = int(results[first].attrs["scenarios_failed"])
    for n in workers[1:]:
        r, base = rec["runs"][str(n)], rec["runs"][str(first)]
        r["speedup"] = base["sweep_s"] / r["sweep_s"]
        r["speedup_total"] = base["total_s"] / r["total_s"]
    kpis = [k for k in results[first].data_vars if results[first][k].dtype.kind == "f"]
    rec["identical"] = all(np.array_equal(results[first][k].values, results[n][k].values, equal_nan=True)
                           for n in workers[1:] for k in kpis)
    rec["load_average_after"] = os.getloadavg()[0]
    default = [n for n in workers if n <= (os.cpu_count() or 1)] or list(workers)
    rec["whole_workers"] = max(default)
    rec.update(whole_fields(rec["runs"][str(rec["whole_workers"])]["total_s"], None), peer_whole_note=PEER_NOTE)
    return rec


def format_sweep_benchmark(rec: dict) -> str:
    """The record as a few lines, with the issue's target (met or missed; nothing asserted)."""
    lines = [f"sweep benchmark: {rec['scenarios']} scenarios of {rec['case']} ({rec['failed']} failed), "
             f"{rec['cpu_count']} cores, load average {rec['load_average_before']:.1f} before, "
             f"{rec['load_average_after']:.1f} after",
             f"  whole (a one-off gigawatt sweep on {rec['whole_workers']} worker(s): cluster start, warm-up and sweep): "
             f"{rec['whole_s']:.2f} s; peer whole: – ({rec['peer_whole_note']})"]
    for r in rec["runs"].values():
        line = (f"  {r['workers']} worker(s): sweep {r['sweep_s']:.2f} s (median of "
                f"{', '.join(f'{x:.2f}' for x in r['sweeps_s'])}), with cluster start {r['total_s']:.2f} s")
        if "speedup" in r:
            verdict = "met" if r["speedup"] >= 1.8 else "MISSED"
            line += (f"; speed-up {r['speedup']:.2f}x (target >= 1.8x: {verdict}), "
                     f"{r['speedup_total']:.2f}x with cluster start")
        lines.append(line)
    lines.append(f"  identical KPIs across worker counts: {rec['identical']}")
    return "\n".join(lines)
