"""The year benchmark of ``gigawatt bench --year``: the coupled chain along an hourly year.

Two variants (:data:`VARIANTS`), both along an hourly year from 2025-01-01 (8760 steps) with the training-job
load shape and the bundled weather year, the results streamed to a NetCDF file:

``default``
    the bundled default case (``hall_800vdc.toml``: 828 DC buses, 768 racks, a town of 1,004 substations);
``large``
    the same campus with every row split into 16 rows of racks of 1/16 the power (about 1.3·10⁴ DC buses,
    12,288 racks) heating a town of 10,000 homes with a substation each (10⁴ consumers): issue 5's "coupled
    chain with a 10⁴–10⁵-node electrical network and a 10⁴-consumer heating network".

A record holds

* ``year_s`` [s] (also ``whole_s``, the user's call): wall time of :func:`gigawatt.time_series.run_time_series` (stages prepared, every step
  solved, streamed to disk) in a fresh process (``python -m gigawatt.bench.coupled_year --cold VARIANT``) after its
  imports (xarray's own of dask and pint included) and the case build; target 60 s for 8760 steps (with ``steps`` < 8760 the record says so and
  ``year_estimate_s`` scales it to 8760); ``year_cpu_s`` [s]: that process's CPU time over the same span (all its
  threads; on a shared, loaded machine the steadier figure); ``stage_s``: where the wall time went, by stage;
* ``peak_rss_bytes``: that process's peak resident memory (the steps stream to disk);
* ``peer_step_s`` [s]: the peers on the same networks in this process, warm: pandapower's ``runpp`` on the
  DC network's equivalent plus pandapipes' ``pipeflow`` on the heating network given our substation flows, at
  the design hour (pandapower's network with stiff stations: it has no droop). ``peer_year_s`` = 8760 × that: what a year of the electrical and heating networks alone
  would cost by stitching the two peers step by step (no cooling, no coupling, no warm start); ``ratio`` =
  ``peer_year_s / year_estimate_s``; ``peer_whole_s`` the same for the steps run and ``speedup_whole`` =
  ``peer_whole_s / whole_s`` (= ``ratio``).
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from gigawatt.bench.common import numba_cache_counts, peak_rss_bytes, run_cold_process, table_lines, whole_fields
from gigawatt.models.racks import chip_powers

TARGET_YEAR_S = 60.0
YEAR_STEPS = 8760
VARIANTS = ("default", "large")
LARGE_SPLIT = 16
LARGE_HOMES = 10_000
TIME_AXIS = {"start": "2025-01-01T00:00", "step": "1h", "it_load": "training", "weather": "bundled"}


def build_case(variant: str, steps: int = YEAR_STEPS):
    """The case of a variant (see the module notes) with its time axis of ``steps`` hours."""
    from gigawatt.cases.loader import case_from_document, read_case_document

    doc, file, table_files = read_case_document(None)
    doc = {**doc, "time": {**TIME_AXIS, "periods": int(steps)}}
    if variant == "large":
        campus = dict(doc["campus"])
        campus["rows_per_hall"] *= LARGE_SPLIT
        campus["rack_it_power_kw"] /= LARGE_SPLIT
        doc["campus"] = campus
        doc["town"] = {**doc["town"], "homes": LARGE_HOMES, "homes_per_substation": 1}
        doc["case"] = {**doc["case"], "name": doc["case"]["name"] + "-large"}
    elif variant != "default":
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    return case_from_document(doc, file, table_files)


def _peers(case, repeat: int) -> dict:
    """pandapower and pandapipes, warm, on the case's DC and heating networks at the design hour."""
    import gigawatt as gw
    from gigawatt.bench.dc_loadflow import _peer as dc_peer
    from gigawatt.bench.heating_networks import _peer as dh_peer
    from gigawatt.solver.district_heating.stage import HeatOffer, solve_district_heating

    import xarray as xr

    from gigawatt.solver.dc.series import DCSeries
    from gigawatt.sweep import CaseSource

    ds = gw.solve(case)
    # pandapower has no droop: its network is this one with stiff stations, and so is the one it is checked on
    # (the DC network alone, at the racks' case power: without the chips' leakage that the coupled solve adds)
    stiff = CaseSource.of(case).build({}, {("source", "droop"): 0.0})
    v_pu = DCSeries(stiff).step(chip_powers(stiff)).v_pu
    dc = dc_peer(stiff, xr.Dataset({"v_pu": ("bus", v_pu)}), repeat)
    a = ds.attrs
    state = solve_district_heating(case, HeatOffer(a["q_available_w"], a["t_reuse_k"], a["t_facility_supply_k"]))
    dh = dh_peer(case, state, repeat)
    return {"peer": f"{dc['peer']} + {dh['peer']}", "peer_step_s": dc["peer_warm_s"] + dh["peer_s"],
            "peer_dc_step_s": dc["peer_warm_s"], "peer_dh_step_s": dh["peer_s"],
            "peer_check_v_pu": dc["check"], "peer_check_t_k": dh["check_t_k"]}


def run_one(variant: str, *, steps: int = YEAR_STEPS, peer: bool = True, repeat: int = 3, progress=None) -> dict:
    """One record (see the module notes)."""

    say = progress or (lambda msg: None)
    say(f"year {variant}: {steps} hourly steps in a fresh process")
    rec = {"benchmark": f"year_{variant}", "steps": int(steps)}
    rec.update(run_cold_process("gigawatt.bench.coupled_year", ["--cold", variant, "--steps", str(steps)],
                                {"year_s": "year_s", "year_cpu_s": "year_cpu_s", "build_s": "build_s",
                                 "stage_s": "stage_s",
                                 "peak_rss_bytes": "peak_rss_bytes", "dc_buses": "dc_buses",
                                 "dh_consumers": "dh_consumers", "energy_balance_residual": "energy_balance_residual",
                                 "heat_balance_residual": "heat_balance_residual"}))
    rec["year_estimate_s"] = rec["year_s"] * YEAR_STEPS / steps if rec.get("year_s") is not None else None
    rec.update(whole_fields(rec.get("year_s"), None))
    if peer:
        say(f"year {variant}: pandapower and pandapipes on the same networks")
        rec.update(_peers(build_case(variant, 1), repeat))
        rec["peer_year_s"] = rec["peer_step_s"] * YEAR_STEPS
        rec.update(whole_fields(rec.get("year_s"), rec["peer_step_s"] * steps))
        if rec["year_estimate_s"]:
            rec["ratio"] = rec["peer_year_s"] / rec["year_estimate_s"]
    return rec


def run_benchmarks(variants=VARIANTS, *, steps: int = YEAR_STEPS, peer: bool = True, progress=None) -> list[dict]:
    return [run_one(v, steps=steps, peer=peer, progress=progress) for v in variants]


def format_table(records: list[dict]) -> str:

    def f(x, spec=".3g", scale=1.0):
        return "–" if x is None else format(x * scale, spec)

    head = ["benchmark", "DC buses", "consumers", "steps", "year [s]", "per step [ms]", "8760 steps [s]",
            "peak RSS [GiB]", "peers per step [ms]", "peers' year [s]", "×"]
    rows = [[r["benchmark"], f(r.get("dc_buses"), ","), f(r.get("dh_consumers"), ","), f(r["steps"], ","),
             f(r.get("year_s")), f(r["year_s"] / r["steps"] if r.get("year_s") else None, ".3g", 1e3),
             f(r.get("year_estimate_s")), f(r.get("peak_rss_bytes"), ".3g", 2 ** -30), f(r.get("peer_step_s"), ".3g", 1e3),
             f(r.get("peer_year_s")), f(r.get("ratio"), ".2f")] for r in records]
    lines = table_lines(head, rows)
    for r in records:
        if r.get("year_cpu_s") is not None:
            lines.append(f"{r['benchmark']}: CPU time {r['year_cpu_s']:.3g} s over the {r['steps']:,} steps "
                         f"({r['year_cpu_s'] / r['steps'] * 1e3:.3g} ms a step)")
        if r.get("stage_s"):
            share = ", ".join(f"{k} {v / r['steps'] * 1e3:.2f} ms" for k, v in r["stage_s"].items())
            lines.append(f"{r['benchmark']}: per step by stage: {share}")
        if r.get("cold_note"):
            lines.append(f"{r['benchmark']}: {r['cold_note']}")
        met = r.get("year_estimate_s") is not None and r["year_estimate_s"] <= TARGET_YEAR_S
        lines.append(f"{r['benchmark']}: target a year (8760 steps) <= {TARGET_YEAR_S:g} s: "
                     + ("met" if met else "NOT met") + (f" ({r['year_estimate_s']:.1f} s"
                                                        + (" extrapolated" if r['steps'] != YEAR_STEPS else "") + ")"
                                                        if r.get("year_estimate_s") is not None else ""))
    lines.append("peers: pandapower runpp (DC network, stations stiff) + pandapipes pipeflow (heating network, our "
                 "substation flows) per step, warm, at the design hour, times 8760: the two networks alone, without "
                 "cooling or coupling")
    return "\n".join(lines)


def _import_duck_arrays() -> None:
    """The imports xarray makes at its first Dataset (dask and pint where installed, to ask whether an array is
    theirs: 0.4–1 s), made before the year is timed: ``year_s`` leaves imports out, and a library user's
    process has made them at its first Dataset. (``gigawatt run`` hides both from xarray instead, see
    :func:`gigawatt.cli._dask_absent`.)"""
    import numpy as np
    import xarray as xr

    xr.Dataset({"x": ("t", np.zeros(1))})


def _cold_main(argv: list[str]) -> None:
    """The fresh process: build the case, run its year streamed to a temporary file, print JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gigawatt.bench.coupled_year")
    parser.add_argument("--cold", required=True, choices=VARIANTS)
    parser.add_argument("--steps", type=int, default=YEAR_STEPS)
    args = parser.parse_args(argv)
    from gigawatt.time_series import run_time_series

    t0 = time.perf_counter()
    case = build_case(args.cold, args.steps)
    _import_duck_arrays()
    t1, c1 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        ds = run_time_series(case, output=Path(folder) / "year.nc")
        t2, c2 = time.perf_counter(), time.process_time()
        attrs = dict(ds.attrs)
        ds.close()
    _, misses = numba_cache_counts()
    print(json.dumps({"build_s": t1 - t0, "year_s": t2 - t1, "year_cpu_s": c2 - c1,
                      "peak_rss_bytes": int(peak_rss_bytes()),
                      "stage_s": {k[len("seconds_"):]: float(v) for k, v in attrs.items() if k.startswith("seconds_")},
                      "dc_buses": len(case.tables["bus"]), "dh_consumers": len(case.tables["dh_consumer"]),
                      "energy_balance_residual": float(attrs.get("energy_balance_residual", float("nan"))),
                      "heat_balance_residual": float(attrs.get("heat_balance_residual", float("nan"))),
                      "numba_cache_misses": misses}))


if __name__ == "__main__":
    _cold_main(sys.argv[1:])
