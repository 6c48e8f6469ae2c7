"""Benchmark of training swings with energy stores behind ``gigawatt bench --swings``: the whole call of
:func:`gigawatt.run_swings` on the bundled example ``training_swings.toml`` (the 100 MW campus, an hour at
10 ms steps = 360,000 steps, capacitors in the racks and a battery on the DC bus), against issue 19's target of
30 s, once per way of solving the DC network at every step (:mod:`gigawatt.solver.swings.dc_coupling`):

``chebyshev``
    load flows at the Chebyshev nodes, the network interpolated and checked against load flows between them;
``kernel``
    the series kernel (:func:`gigawatt.solver.dc.series.run_dc_series`), a warm-started Newton at every step.

Each record holds ``whole_s`` (the call: the series, the stores, the network, the spectrum, the results
dataset; the Numba kernels compiled and cached beforehand by a short run), the machine's 1-minute load average
before and after (the machine is shared), the energy-ledger residual and the surrogate's largest difference
from a load flow. No peer tool runs this chain: no peer column.
"""
from __future__ import annotations

import os
import time

from gigawatt.bench.common import fmt, table_lines, whole_fields

TARGET_S = 30.0
METHODS = ("chebyshev", "kernel")


def run_one(method: str, *, progress=None) -> dict:
    """One record (see the module docstring)."""
    from gigawatt.cases.loader import read_case_document, case_from_document
    from gigawatt.solver.swings.run import run_swings
    from importlib.resources import files

    say = progress or (lambda msg: None)
    path = files("gigawatt.cases") / "bundled" / "training_swings.toml"
    doc, file, tables = read_case_document(str(path))
    case = case_from_document(doc, file, tables)
    short = case_from_document({**doc, "swing": {**doc["swing"], "duration_s": 2}}, file, tables)
    say(f"swings {method}: compiling (2 s of steps)")
    run_swings(short, method=method)
    say(f"swings {method}: {case.settings['swing']['duration_s']:g} s at {case.settings['swing']['step_s'] * 1e3:g} ms")
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    ds = run_swings(case, method=method)
    whole = time.perf_counter() - t0
    a = ds.attrs
    return {"benchmark": f"swings_{method}", "steps": int(a["steps"]), "stores": int(ds.sizes["store"]),
            "racks": len(case.tables["rack"]), "buses": len(case.tables["bus"]), "wall_s": whole,
            "per_step_s": whole / a["steps"], "dc_method": a["dc_method"],
            "surrogate_error_w": a["dc_surrogate_max_error_w"], "energy_balance_residual": a["energy_balance_residual"],
            "load_avg_before": load_before, "load_avg_after": os.getloadavg()[0], "target_s": TARGET_S,
            **whole_fields(whole, None)}


def run_benchmarks(methods=METHODS, *, progress=None) -> list[dict]:
    """A record per method of :data:`METHODS`."""
    return [run_one(m, progress=progress) for m in methods]


def format_table(records: list[dict]) -> str:
    """The records as a plain-text table, then the target lines (met or missed; nothing is asserted)."""
    head = ["benchmark", "steps", "racks", "stores", "whole s", "per step us", "DC surrogate err W", "ledger",
            "load avg"]
    rows = [[r["benchmark"], f"{r['steps']:,}", f"{r['racks']:,}", str(r["stores"]), fmt(r["whole_s"]),
             fmt(r["per_step_s"], 1e6), fmt(r["surrogate_error_w"], spec=".1e") if r["dc_method"] == "chebyshev"
             else "–", fmt(r["energy_balance_residual"], spec=".1e"),
             f"{r['load_avg_before']:.1f}–{r['load_avg_after']:.1f}"] for r in records]
    out = table_lines(head, rows)
    for r in records:
        verdict = "met" if r["whole_s"] <= r["target_s"] else "MISSED"
        out.append(f"target: an hour at 10 ms of a 100 MW campus with rack and bus stores <= {r['target_s']:g} s: "
                   f"{r['benchmark']} {r['whole_s']:.3g} s -> {verdict}")
    out.append("no peer tool runs this chain (no peer column)")
    return "\n".join(out)
