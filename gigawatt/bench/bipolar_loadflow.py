"""Benchmark of the bipolar (±400 VDC) load flow behind ``gigawatt bench --bipolar SIZES``, measured against
gigawatt's monopolar solver on the same campus.

The network of each size is the DC benchmark campus of :func:`gigawatt.bench.dc_loadflow.campus_params` (stiff stations,
rows of 32 racks of 130 kW, conductors sized for the row and hall currents) built at 400 V pole to neutral
as a bipolar case. With every rack pole to pole its currents are those of the 800 V monopolar campus, so the
same conductors serve and the two solutions must agree (``check``: the largest difference [pu] between the
pole-to-pole voltage and the monopolar voltage, both on 800 V). Two benchmarks (a registry):

``dc_bipolar_balanced``
    every rack pole to pole: no neutral current;
``dc_bipolar_alternating``
    racks on the positive and negative poles in turn along each row: the neutral carries the imbalance.

Each record holds the whole call first, ``whole_s`` (median :func:`gigawatt.solve` of a bipolar case not solved
before, each built afresh outside the timing; numba warm), with ``peer_whole_s`` and ``speedup_whole`` None
(:data:`NO_PEER`), then ``warm_s`` (median :func:`gigawatt.solver.dc.bipolar.solve_bipolar` on an assembled
network), ``warm_total_s`` (median :func:`gigawatt.solve`), ``mono_warm_s`` (median
:func:`gigawatt.solver.dc.loadflow.solve_dc` on the 800 V monopolar campus) and their ratio, the Newton
iterations, the energy-balance residual, the lowest pole voltage and the largest neutral current. The
monopolar kernel is one O(N) Numba sweep per iteration; the bipolar solver assembles and factors a sparse
system of 3N nodes (and lays it out once per solve), about 10–20 times slower here (measured at 10⁵ buses:
0.4–0.5 s against 20–30 ms).
"""
from __future__ import annotations

from gigawatt.bench.common import WHOLE_NOTE, median_fresh_time, median_time, table_lines, whole_fields, wrapped

BENCHMARKS = {"dc_bipolar_balanced": "bipolar", "dc_bipolar_alternating": "alternating"}
"""Benchmark name → the campus builder's ``rack_pole``."""
NO_PEER = ("no peer: pandapower's load flows are AC (balanced, or three-phase unbalanced), with no equivalent we "
           "have validated of a ±V bipole's three conductors and earthed neutral; the bipolar kernel is timed "
           "against gigawatt's monopolar one on the same campus instead")


def build_networks(n_bus: int, rack_pole: str):
    """(bipolar case at ±400 V, monopolar case at 800 V) of the benchmark campus of about ``n_bus`` buses."""
    import gigawatt as gw
    from gigawatt.bench.dc_loadflow import SHELF_EFFICIENCY, campus_params

    params = campus_params(n_bus)
    models = {"shelf": {"kind": "constant_efficiency", "efficiency": SHELF_EFFICIENCY}}
    bipolar = gw.build_campus(**{**params, "v_dc_v": params["v_dc_v"] / 2}, rack_pole=rack_pole, loss_models=models,
                              dc={"system": "bipolar"}, case={"name": f"bench-bipolar-{rack_pole}-{n_bus}"})
    mono = gw.build_campus(**params, loss_models=models, case={"name": f"bench-{n_bus}"})
    return bipolar, mono


def run_one(benchmark: str, n_bus: int, *, repeat: int = 5, progress=None) -> dict:
    """One record (see the module docstring)."""
    import numpy as np

    import gigawatt as gw
    from gigawatt.bench.dc_loadflow import TOTAL_TIME_BUDGET_S
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.dc.bipolar import solve_bipolar
    from gigawatt.solver.dc.loadflow import solve_dc

    say = progress or (lambda msg: None)
    say(f"{benchmark} ~{n_bus:,} buses: building")
    bipolar, mono = build_networks(n_bus, BENCHMARKS[benchmark])
    say(f"{benchmark} ~{n_bus:,} buses: timing gw.solve of cases not solved before (each built afresh, untimed)")
    whole_s, whole_runs = median_fresh_time(lambda: build_networks(n_bus, BENCHMARKS[benchmark])[0], gw.solve, repeat,
                                            TOTAL_TIME_BUDGET_S)
    net_b, net_m = assemble(bipolar), assemble(mono)
    settings = bipolar.settings["solver"]
    state = solve_bipolar(net_b, bipolar, settings=settings)
    say(f"{benchmark} ~{n_bus:,} buses: timing ({repeat} warm runs each)")
    warm_s, _ = median_time(lambda: solve_bipolar(net_b, bipolar, settings=settings), repeat, TOTAL_TIME_BUDGET_S)
    solve_dc(net_m, mono, settings=settings)
    mono_s, _ = median_time(lambda: solve_dc(net_m, mono, settings=settings), repeat)
    ds = gw.solve(bipolar)
    warm_total_s, _ = median_time(lambda: gw.solve(bipolar), repeat, TOTAL_TIME_BUDGET_S)
    rec = {"benchmark": benchmark, "size": len(bipolar.tables["bus"]), "size_requested": int(n_bus),
           **whole_fields(whole_s, None), "whole_runs": whole_runs, "peer": None, "peer_note": NO_PEER,
           "warm_s": warm_s, "warm_total_s": warm_total_s, "mono_warm_s": mono_s, "ratio": warm_s / mono_s,
           "iterations": int(state.iterations), "energy_balance_residual": float(ds.attrs["energy_balance_residual"]),
           "v_min_pu": float(np.min(ds["v_pu"].to_numpy())),
           "i_neutral_max_a": float(np.nanmax(np.abs(ds["i_neutral_a"].to_numpy()))), "check": None}
    if BENCHMARKS[benchmark] == "bipolar":
        dm = gw.solve(mono)
        rec["check"] = float(np.max(np.abs(ds["v_pole_to_pole_v"].to_numpy() - dm["v_v"].to_numpy()))
                             / float(mono.tables["bus"]["v_nominal_v"].iloc[0]))
    return rec


def run_benchmarks(sizes, *, repeat: int = 5, progress=None) -> list[dict]:
    """Every benchmark of :data:`BENCHMARKS` at every size in ``sizes`` (bus counts); ``()`` for none."""
    return [run_one(name, int(n), repeat=repeat, progress=progress) for n in sizes or () for name in BENCHMARKS]


def format_table(records: list[dict]) -> str:
    """Plain-text table of the records with a footer on the conditions."""
    head = ["benchmark", "buses", "whole ms", "peer whole ms", "warm ms", "total ms", "mono ms", "ratio", "iter",
            "balance", "v min", "I_n max A", "check pu"]

    def fmt(x, spec):
        return "–" if x is None else format(x, spec)

    rows = [[r["benchmark"], f"{r['size']:,}", fmt(r["whole_s"] * 1e3, ".4g"), "–", fmt(r["warm_s"] * 1e3, ".4g"), fmt(r["warm_total_s"] * 1e3, ".4g"),
             fmt(r["mono_warm_s"] * 1e3, ".3g"), fmt(r["ratio"], ".0f"), str(r["iterations"]),
             fmt(r["energy_balance_residual"], ".1e"), fmt(r["v_min_pu"], ".4f"), fmt(r["i_neutral_max_a"], ".1f"),
             fmt(r["check"], ".1e")] for r in records]

    return "\n".join(table_lines(head, rows) + [
        "",
        *wrapped(WHOLE_NOTE),
        *wrapped(NO_PEER + "."),
        "warm: median solve_bipolar (3N-node Newton, sparse L·D·Lᵀ each iteration); total: median gw.solve;",
        "mono: median solve_dc (O(N) Numba kernel) on the same campus as an 800 V monopolar case; ratio = warm/mono.",
        "v min: lowest pole-to-neutral voltage [pu]; I_n max: largest neutral current; check (balanced only):",
        "  max |pole-to-pole voltage - monopolar voltage| / 800 V.",
    ])
