"""Contingency outages on the sweeps' Dask machinery (:func:`gigawatt.sweep.connect`: a local cluster by
default, ``--scheduler`` for an existing one). The outages are split into chunks, each solved on a worker
by :func:`gigawatt.solver.contingency.analysis.solve_outages` with the case rebuilt there once per chunk
from its picklable :class:`~gigawatt.sweep.CaseSource`."""
from __future__ import annotations

from gigawatt.sweep import CaseSource, connect

CHUNKS_PER_WORKER = 2
"""Chunks of outages per worker: few enough that each rebuilds the case rarely, enough to balance."""


def _solve_chunk(source: CaseSource, outages: list, base) -> list[dict]:
    from gigawatt.solver.contingency.analysis import solve_outages

    return solve_outages(source.build(), outages, base)


def dask_map(workers: int | None = None, scheduler: str | None = None):
    """A ``map_outages`` for :func:`gigawatt.solver.contingency.run_contingency` that runs on Dask."""
    def run(case, outages, base):
        client, cluster = connect(workers, scheduler)
        try:
            n = max(1, len(client.scheduler_info()["workers"]))
            size = max(1, -(-len(outages) // (n * CHUNKS_PER_WORKER)))
            chunks = [outages[i:i + size] for i in range(0, len(outages), size)]
            src = client.scatter(CaseSource.of(case), broadcast=True)
            futures = [client.submit(_solve_chunk, src, c, base, pure=False) for c in chunks]
            return [r for f in futures for r in f.result()]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return run
