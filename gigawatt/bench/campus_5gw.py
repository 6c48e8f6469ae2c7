"""The 5 GW campus benchmark of ``gigawatt bench --campus-5gw``: the steady whole-chain solve (DC load flow
rack by rack, then the grid side by pandapower) of the bundled multi-site campus.

Two variants, kept in a registry (:data:`VARIANTS`):

``campus_5gw``
    the bundled ``cases/bundled/campus_5gw.toml`` as it is: 5 sites × 40 halls × 12 rows × 16 racks of
    130 kW (38,400 racks, about 4.1·10⁴ DC buses) and 445 AC buses.
``campus_5gw_fineK``
    the same campus and grid side with every row split into K rows of racks of 1/K the power (K = 8: 16.25 kW
    racks, about 3.3·10⁵ DC buses): the same 5 GW at the issue's "several 10⁵ buses".

For each the record holds, the whole call first:

* ``whole_s`` [s]: median of :func:`gigawatt.solve` of the case not solved before (a fresh case built outside
  the timing each run; numba warm, pandapower imported), the user's call; no peer solves the whole chain (its
  stations droop, which pandapower cannot model), so ``peer_whole_s`` and ``speedup_whole`` are None;
* ``warm_s`` [s]: median of ``repeat`` warm :func:`gigawatt.solve` calls (assembly, DC solve, results, the
  grid side's network built and solved, its results and ledger), after one untimed call; the target of the
  issue is 2 s;
* ``ac_s`` [s]: median of the grid side alone (:func:`gigawatt.solver.ac.results.add_ac_grid`: checks,
  pandapower network built, load flow, results), and ``peer_runpp_s``: pandapower's ``runpp`` alone on the
  same network; ``ac_overhead_ratio`` = ``ac_s / peer_runpp_s`` says what gigawatt adds around pandapower
  (the DC side's own comparison with pandapower is the ``dc_loadflow_*`` table: here the stations droop,
  which pandapower cannot model);
* ``cold_s`` [s] and ``peak_rss_bytes`` [B]: wall time and peak resident memory (VmHWM) of a fresh
  ``python -m gigawatt.bench.campus_5gw --cold VARIANT`` process that imports gigawatt, builds the case and solves it
  once, as ``gigawatt run`` does (numba's on-disk cache warm); the target is 4 GiB.

Run ``python -m gigawatt.bench.campus_5gw --cold campus_5gw`` for one cold measurement as JSON on stdout.
"""
from __future__ import annotations

import json
import sys
import time

from gigawatt.bench.common import (WHOLE_NOTE, fmt, median_fresh_time, median_time, numba_cache_counts, peak_rss_bytes,
                                    run_cold_process, table_lines, whole_fields, wrapped)

CASE_FILE = "campus_5gw.toml"
DEFAULT_SPLIT = 8
TARGET_WARM_S = 2.0
TARGET_PEAK_RSS_BYTES = 4 * 2 ** 30
WHOLE_TIME_BUDGET_S = 60.0
"""Stop repeating the whole call after at least 3 runs once this much time (building included) is spent."""
VARIANTS = ("campus_5gw", f"campus_5gw_fine{DEFAULT_SPLIT}")
"""Benchmarks run by ``gigawatt bench --campus-5gw`` (the fine one with the default split)."""


def split_of(variant: str) -> int:
    """Rows per row of the bundled case in a variant's name ('campus_5gw' → 1, 'campus_5gw_fine8' → 8)."""
    return int(variant.removeprefix("campus_5gw").removeprefix("_fine") or 1)


def build_case(variant: str = "campus_5gw", **overrides):
    """The case of a variant: the bundled 5 GW campus, its rows split (see the module docstring);
    ``overrides`` replace ``[campus]`` settings (the tests use them for a small campus)."""
    import tomllib

    import gigawatt as gw
    from gigawatt.cases.loader import bundled_cases

    path = next(p for p in bundled_cases() if p.name == CASE_FILE)
    k = split_of(variant)
    if k == 1 and not overrides:
        return gw.load_case(path)
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    campus = dict(doc["campus"])
    campus["rows_per_hall"] *= k
    campus["rack_it_power_kw"] /= k
    campus.update(overrides)
    name = doc["case"]["name"] + (f"-fine{k}" if k > 1 else "")
    return gw.build_campus(loss_models=doc["loss_models"], case={**doc["case"], "name": name}, **campus)


def run_one(variant: str, *, repeat: int = 5, cold: bool = True, progress=None, **overrides) -> dict:
    """One record (see the module docstring)."""
    import numpy as np

    import gigawatt as gw
    from gigawatt.solver.ac import grid as ac_grid
    from gigawatt.solver.ac.results import add_ac_grid
    from gigawatt.solver.solve import solve

    say = progress or (lambda msg: None)
    say(f"{variant}: building")
    t0 = time.perf_counter()
    case = build_case(variant, **overrides)
    build_s = time.perf_counter() - t0
    say(f"{variant}: {len(case.tables['bus']):,} DC buses, {len(case.tables['ac_bus']):,} AC buses; timing gw.solve")
    ds = gw.solve(case)  # numba kernels loaded, pandapower imported and warmed
    warm_s, runs = median_time(lambda: solve(case), repeat)
    say(f"{variant}: timing gw.solve of cases not solved before (each built afresh, untimed)")
    whole_s, whole_runs = median_fresh_time(lambda: build_case(variant, **overrides), solve, repeat, WHOLE_TIME_BUDGET_S)
    ac_s, _ = median_time(lambda: add_ac_grid(ds, case), repeat)  # (it replaces the grid side's variables)
    grid = ac_grid.prepare_ac_grid(case)
    st = ds["source_p_grid_w"].to_numpy()[grid.station_rows]
    ac_grid._set_loads(grid.net, st, ds["source_q_ac_var"].to_numpy()[grid.station_rows])
    tol = ds.attrs["ac_tolerance_w"] / 1e6
    peer_s, _ = median_time(lambda: ac_grid._run(grid.net, 30, tol), repeat)
    rec = {
        "benchmark": variant, "split": split_of(variant), "dc_buses": len(case.tables["bus"]),
        "ac_buses": len(case.tables["ac_bus"]), "racks": len(case.tables["rack"]),
        "buses": len(case.tables["bus"]) + len(case.tables["ac_bus"]),
        **whole_fields(whole_s, None), "whole_runs": whole_runs,
        "build_s": build_s, "warm_s": warm_s, "repeat": runs, "ac_s": ac_s, "peer": f"pandapower {grid.version}",
        "peer_runpp_s": peer_s, "ac_overhead_ratio": ac_s / peer_s,
        "p_it_w": ds.attrs["p_it_w"], "p_plant_w": ds.attrs["p_plant_w"],
        "efficiency_plant_to_chip": ds.attrs["efficiency_plant_to_chip"],
        "ac_coupling_residual": ds.attrs["ac_coupling_residual"],
        "plant_energy_balance_residual": ds.attrs["plant_energy_balance_residual"],
        "v_min_pu": float(np.min(ds["v_pu"].to_numpy())), "ac_vm_min_pu": float(np.nanmin(ds["ac_vm_pu"].to_numpy())),
    }
    if cold and not overrides:
        say(f"{variant}: cold run in a fresh process")
        rec.update(run_cold_process("gigawatt.bench.campus_5gw", ["--cold", variant],
                                    {"peak_rss_bytes": "peak_rss_bytes", "cold_import_s": "import_s",
                                     "cold_build_s": "build_s", "cold_solve_s": "solve_s"}))
    else:
        rec.update({"cold_s": None, "peak_rss_bytes": None, "cold_note": "cold run skipped"})
    return rec


def run_benchmarks(variants=VARIANTS, *, repeat: int = 5, progress=None) -> list[dict]:
    return [run_one(v, repeat=repeat, progress=progress) for v in variants]


def format_table(records: list[dict]) -> str:
    """The records as a table, the conditions, and the issue's targets met or missed (nothing asserted)."""
    head = ["benchmark", "DC buses", "AC buses", "whole s", "warm s", "AC ms", "runpp ms", "AC/runpp", "cold s", "peak MiB",
            "plant→chip", "coupling", "balance"]
    rows = [[r["benchmark"], f"{r['dc_buses']:,}", f"{r['ac_buses']:,}", fmt(r["whole_s"]), fmt(r["warm_s"]),
             fmt(r["ac_s"], 1e3),
             fmt(r["peer_runpp_s"], 1e3), fmt(r["ac_overhead_ratio"], 1, ".2f"), fmt(r.get("cold_s")),
             fmt(r.get("peak_rss_bytes"), 2 ** -20, ".0f"), fmt(r["efficiency_plant_to_chip"], 100, ".3f") + " %",
             fmt(r["ac_coupling_residual"], 1, ".1e"), fmt(r["plant_energy_balance_residual"], 1, ".1e")]
            for r in records]

    out = table_lines(head, rows) + [
        "",
        *wrapped(WHOLE_NOTE + " No peer solves the whole chain: the stations droop, which pandapower cannot model."),
        "warm: median gw.solve of the whole chain (DC rack by rack, then the grid side by pandapower), the case in",
        "  memory; AC: the grid side alone (checks, pandapower network, load flow, results); runpp: pandapower's",
        "  runpp alone on the same network; cold: fresh `python -m gigawatt.bench.campus_5gw --cold` (import, build, one",
        "  solve); peak = its peak RSS (VmHWM); coupling: station AC power vs DC power + losses; balance: plant ledger.",
    ]
    verdict = {True: "met", False: "MISSED"}
    for r in records:
        out.append(f"{r['benchmark']}: {r['racks']:,} racks, {r['p_it_w'] / 1e9:.3f} GW IT, "
                   f"{r['p_plant_w'] / 1e9:.3f} GW from the plants")
        out.append(f"  target warm <= {TARGET_WARM_S:g} s: {r['warm_s']:.3g} s -> {verdict[r['warm_s'] <= TARGET_WARM_S]}")
        if r.get("peak_rss_bytes") is not None:
            out.append(f"  target peak memory <= {TARGET_PEAK_RSS_BYTES / 2 ** 30:g} GiB: "
                       f"{r['peak_rss_bytes'] / 2 ** 30:.3g} GiB -> {verdict[r['peak_rss_bytes'] <= TARGET_PEAK_RSS_BYTES]}")
        if r.get("cold_note"):
            out.append(f"  {r['cold_note']}")
    return "\n".join(out)


def _cold_main(argv: list[str]) -> None:
    """Entry point of the cold subprocess: import, build, solve once; timings and peak RSS as JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gigawatt.bench.campus_5gw")
    parser.add_argument("--cold", required=True, help="variant to build and solve")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    import gigawatt as gw
    import gigawatt.cases.campus  # noqa: F401
    import gigawatt.solver.solve  # noqa: F401

    t1 = time.perf_counter()
    case = build_case(args.cold)
    t2 = time.perf_counter()
    ds = gw.solve(case)
    t3 = time.perf_counter()
    hits, misses = numba_cache_counts()
    print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "solve_s": t3 - t2,
                      "peak_rss_bytes": int(peak_rss_bytes()), "buses": len(case.tables["bus"]),
                      "p_plant_w": ds.attrs["p_plant_w"], "numba_cache_hits": hits, "numba_cache_misses": misses}))


if __name__ == "__main__":
    _cold_main(sys.argv[1:])
