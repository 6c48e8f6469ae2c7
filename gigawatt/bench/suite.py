"""The default run of ``gigawatt bench``: the DC load flow (:mod:`gigawatt.bench.dc_loadflow`), then the
coolant networks (:mod:`gigawatt.bench.coolant_networks`), the district-heating networks
(:mod:`gigawatt.bench.heating_networks`) and the bipolar load flow (:mod:`gigawatt.bench.bipolar_loadflow`),
and their tables one after another."""
from __future__ import annotations

from gigawatt.bench import bipolar_loadflow as bench_bipolar
from gigawatt.bench import coolant_networks as bench_cooling
from gigawatt.bench import dc_loadflow as bench_dc
from gigawatt.bench import heating_networks as bench_dh


def run_benchmarks(sizes: list[int], *, peer: bool = True, repeat: int = 7, progress=None,
                   peer_max_buses: int = bench_dc.PEER_MAX_BUSES, cooling_sizes: dict | None = None,
                   dh_sizes=None, bipolar_sizes=()) -> list[dict]:
    """Every benchmark of :data:`BENCHMARKS` at every size, then the coolant-network benchmarks of
    :mod:`gigawatt.bench.coolant_networks` (``cooling_sizes``: benchmark name → racks or plates; default
    :data:`gigawatt.bench.coolant_networks.DEFAULT_SIZES`; ``{}`` for none), then the district-heating benchmark of
    :mod:`gigawatt.bench.heating_networks` (``dh_sizes``: consumer counts; default :data:`gigawatt.bench.heating_networks.DEFAULT_SIZES`;
    ``()`` for none), then the bipolar load flow of :mod:`gigawatt.bench.bipolar_loadflow` (``bipolar_sizes``: bus
    counts; none by default); one JSON-ready record each (see the module docstrings)."""

    records = []
    for n in sizes:
        for name in bench_dc.BENCHMARKS:
            records.append(bench_dc.run_one(name, int(n), peer=peer, repeat=repeat, peer_max_buses=peer_max_buses,
                                   progress=progress))
    records += bench_cooling.run_benchmarks(cooling_sizes, peer=peer, repeat=repeat, progress=progress)
    records += bench_dh.run_benchmarks(dh_sizes, peer=peer, repeat=repeat, progress=progress)
    return records + bench_bipolar.run_benchmarks(bipolar_sizes, repeat=repeat, progress=progress)


def format_table(records: list[dict]) -> str:
    """Plain-text tables of the records (DC load flow, coolant networks, district heating), each with the
    conditions and the targets in a footer."""

    cooling = [r for r in records if r["benchmark"] in bench_cooling.COOLING_BENCHMARKS]
    dh = [r for r in records if r["benchmark"] == bench_dh.BENCHMARK]
    bipolar = [r for r in records if r["benchmark"] in bench_bipolar.BENCHMARKS]
    records = [r for r in records if r["benchmark"] in bench_dc.BENCHMARKS]
    parts = [bench_dc.format_table(records)] if records or not (cooling or dh or bipolar) else []
    if cooling:
        parts.append(bench_cooling.format_table(cooling))
    if dh:
        parts.append(bench_dh.format_table(dh))
    if bipolar:
        parts.append(bench_bipolar.format_table(bipolar))
    return "\n\n".join(parts)
