"""Benchmark of the electrical stage of a time series behind ``gigawatt bench --series-dc SIZES --steps N``:
:func:`gigawatt.solver.dc.series.run_dc_series` on the DC benchmark campus (:func:`gigawatt.bench.dc_loadflow.build_network`,
stiff stations, so that pandapower solves the identical network), against issue 5's target of 10⁵ buses ×
8760 hourly steps in 10 s.

Two IT-load series (a registry), both from :func:`gigawatt.cases.profiles.bundled_profile` over ``steps``
hourly steps, every rack scaled alike:

``training``
    the bundled training shape. Its hourly means are all equal (the 20 s swings and the checkpoint pauses
    average out within each hour), so after the first step every step repeats the previous loads and the
    kernel repeats its solution exactly: this measures the series machinery, not Newton.
``inference``
    the bundled diurnal inference shape: a different load every hour (35–85 % of design), so every step
    runs Newton from the previous step's voltages; made non-repeating (below), the figure to hold against the
    target.

The inference shape takes 17 distinct values, each hour of the day the same every day, so a solver could
recognise states it has seen; a coupled year's loads (chip leakage, weather) never repeat. Every record
therefore also times the same profile made *non-repeating*: each step's scale × (1 + 10⁻³·n_k), n_k a fixed
seeded standard normal series (:func:`nonrepeating`), every rack alike. The target is held against that one.

Each record holds ``wall_s`` (one call of ``run_dc_series``: assembly, every step, figures and extremes; the
Numba kernels compiled and cached beforehand; also ``whole_s``, the user's call, with ``peer_whole_s`` =
``peer_series_s`` and ``speedup_whole`` = ``speedup``), ``cpu_s`` (its CPU time, both threads: what the call
costs on a shared machine), ``per_step_s``, the mean Newton iterations a step, the largest energy-balance
residual, the same for the non-repeating profile (``wall_nonrepeating_s``, ``cpu_nonrepeating_s``,
``iterations_per_step_nonrepeating``, ``max_energy_balance_residual_nonrepeating``), the machine's 1-minute load
average before and after (the machine is shared), and the peer: ``pandapower.runpp`` on the equivalent network (:func:`gigawatt.validation.pandapower_equivalent.
to_pandapower`) with that series' loads, timed over a few steps in this process (median) and *extrapolated*
to the series length (``peer_series_s`` = median × steps; pandapower is not run for every step), and
``check``: the largest |ΔV| [pu] between the two tools at the first timed step.
"""
from __future__ import annotations

import os
import time

from gigawatt.bench.common import fmt, median_time, peer_skipped, table_lines, whole_fields
from gigawatt.models.racks import chip_powers

PROFILES = ("training", "inference")
"""IT-load series of the benchmark: :func:`gigawatt.cases.profiles.bundled_profile` shapes."""
TARGET_S = {100_000: 10.0}
"""Issue 5: the electrical network alone, 10⁵ buses × 8760 hourly steps, in at most 10 s (printed, not asserted)."""
TARGET_STEPS = 8760
NOISE_REL = 1e-3
"""Relative size of the per-step perturbation that makes a profile non-repeating (:func:`nonrepeating`)."""
NOISE_SEED = 15
PEER_STEPS = 3  # pandapower runs timed per series (after one untimed run): about 1 s each at 10⁵ buses


def run_one(n_bus: int, profile: str, *, steps: int = TARGET_STEPS, peer: bool = True, progress=None) -> dict:
    """One record (see the module docstring)."""
    import numpy as np

    from gigawatt.bench.dc_loadflow import build_network
    from gigawatt.cases.profiles import bundled_profile
    from gigawatt.solver.dc.series import run_dc_series

    say = progress or (lambda msg: None)
    case = build_network(n_bus)
    size = len(case.tables["bus"])
    scale = bundled_profile(profile, periods=steps).p_it_fraction.to_numpy()
    say(f"series_dc {profile} {size:,} buses: compiling (2 steps)")
    run_dc_series(case, scale[:2])
    say(f"series_dc {profile} {size:,} buses: {steps} steps")
    load_before = os.getloadavg()[0]
    wall, cpu, res = _timed(run_dc_series, case, scale)
    say(f"series_dc {profile} {size:,} buses: {steps} steps, non-repeating")
    wall_nr, cpu_nr, res_nr = _timed(run_dc_series, case, nonrepeating(scale))
    load_after = os.getloadavg()[0]
    fig, fig_nr = res.figures, res_nr.figures
    rec = {"benchmark": f"series_dc_{profile}", "size": size, "size_requested": int(n_bus), "steps": int(steps),
           "wall_s": wall, "cpu_s": cpu, "per_step_s": wall / steps,
           "iterations_per_step": float(np.mean(fig["iterations"])),
           "steps_with_newton": int(np.count_nonzero(fig["iterations"])),
           "max_energy_balance_residual": float(np.max(fig["energy_balance_residual"])),
           "wall_nonrepeating_s": wall_nr, "cpu_nonrepeating_s": cpu_nr,
           "iterations_per_step_nonrepeating": float(np.mean(fig_nr["iterations"])),
           "max_energy_balance_residual_nonrepeating": float(np.max(fig_nr["energy_balance_residual"])),
           "v_min_pu": float(np.min(res.bus_v_min_pu)), "load_avg_before": load_before, "load_avg_after": load_after,
           "target_s": TARGET_S.get(int(n_bus)) if steps == TARGET_STEPS else None,
           "peer": None, "peer_step_s": None, "peer_series_s": None, "speedup": None, "check": None,
           **whole_fields(wall, None)}
    rec["peer_note"] = peer_skipped(peer, None, "pandapower")
    if rec["peer_note"] is None:
        say(f"series_dc {profile} {size:,} buses: pandapower, {PEER_STEPS} steps")
        rec.update(_peer(case, scale))
        rec["peer_series_s"] = rec["peer_step_s"] * steps
        rec["speedup"] = rec["peer_series_s"] / wall
        rec.update(whole_fields(wall, rec["peer_series_s"]))
        rec["peer_note"] = (f"pandapower timed over {PEER_STEPS} steps (median), extrapolated to {steps} steps")
    return rec


def nonrepeating(scale):
    """``scale`` × (1 + :data:`NOISE_REL`·n_k) [1], n_k standard normal from a fixed seed: no two steps alike."""
    import numpy as np

    return scale * (1.0 + NOISE_REL * np.random.default_rng(NOISE_SEED).standard_normal(scale.shape))


def _timed(fn, *args):
    """(wall [s], CPU time of the process [s], result) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


def _peer(case, scale) -> dict:
    """pandapower ``runpp`` per step with the series' loads at its first steps: median time [s] and the
    largest |ΔV| [pu] against :class:`gigawatt.solver.dc.series.DCSeries` at the first timed step."""
    import numpy as np
    import pandapower as pp
    from gigawatt.solver.dc.series import DCSeries
    from gigawatt.validation.pandapower_equivalent import to_pandapower

    net, bus_index = to_pandapower(case)
    series = DCSeries(case)
    p_ref = chip_powers(case)
    loaded = series.net.rack_load != 0  # the buses to_pandapower made loads at, in solver positions

    def loads(k):  # the buses' rack loads [MW] at step k, in to_pandapower's order
        p_in = series.rack_powers(p_ref * scale[k])[0]
        return np.bincount(series.net.rack_bus, weights=p_in, minlength=series.net.n_bus)[loaded] / 1e6

    pp.runpp(net, init="flat")  # untimed: pandapower's own compilation and lookups
    times, vm = [], None
    for k in range(min(PEER_STEPS, scale.size)):
        net.load["p_mw"] = loads(k)
        t, _ = median_time(lambda: pp.runpp(net, init="flat"), 1)
        times.append(t)
        if vm is None:
            vm = net.res_bus["vm_pu"].reindex(bus_index).to_numpy()
    step = series.step(p_ref * scale[0])
    return {"peer": f"pandapower {pp.__version__}", "peer_step_s": float(np.median(times)),
            "check": float(np.max(np.abs(step.v_pu - vm)))}


def run_benchmarks(sizes, *, steps: int = TARGET_STEPS, peer: bool = True, progress=None) -> list[dict]:
    """A record per size and profile of :data:`PROFILES`."""
    return [run_one(int(n), profile, steps=steps, peer=peer, progress=progress) for n in sizes
            for profile in PROFILES]


def format_table(records: list[dict]) -> str:
    """The records as a plain-text table, then the target lines (met or missed; nothing is asserted)."""

    head = ["benchmark", "buses", "steps", "wall s", "CPU s", "per step ms", "Newton it/step", "max residual",
            "non-rep. wall s", "CPU s", "it/step", "load avg", "peer series s", "speedup", "check pu"]
    rows = [[r["benchmark"], f"{r['size']:,}", str(r["steps"]), fmt(r["wall_s"]), fmt(r["cpu_s"]),
             fmt(r["per_step_s"], 1e3), f"{r['iterations_per_step']:.2f}",
             fmt(max(r["max_energy_balance_residual"], r["max_energy_balance_residual_nonrepeating"]), spec=".1e"),
             fmt(r["wall_nonrepeating_s"]), fmt(r["cpu_nonrepeating_s"]), f"{r['iterations_per_step_nonrepeating']:.2f}",
             f"{r['load_avg_before']:.1f}–{r['load_avg_after']:.1f}", fmt(r["peer_series_s"]),
             fmt(r["speedup"]), fmt(r["check"], spec=".1e")] for r in records]
    out = table_lines(head, rows)
    out.append(f"non-rep.: the same profile x (1 + {NOISE_REL:g} x a seeded normal series), no step alike")
    for r in records:
        if r["target_s"] is not None:
            verdict = "met" if r["wall_nonrepeating_s"] <= r["target_s"] else "MISSED"
            out.append(f"target {r['size_requested']:.0e} buses x {r['steps']} steps <= {r['target_s']:g} s, "
                       f"non-repeating load: {r['benchmark']} {r['wall_nonrepeating_s']:.3g} s "
                       f"(as the profile repeats: {r['wall_s']:.3g} s) -> {verdict}")
        if r.get("peer_note"):
            out.append(f"{r['benchmark']} {r['size']:,} buses: {r['peer_note']}")
    return "\n".join(out)
