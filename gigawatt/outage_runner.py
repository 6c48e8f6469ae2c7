"""Contingency outages on the sweeps' Dask machinery (:func:`gigawatt.sweep.connect`: a local cluster by
default, ``--scheduler`` for an existing one). The outages are split into chunks, each solved on a worker
by :func:`gigawatt.solver.contingency.analysis.solve_outages`. A worker builds the case from its picklable
:class:`~gigawatt.sweep.CaseSource` and prepares what the outages share
(:func:`~gigawatt.solver.contingency.analysis.prepare_base`) once per run, on its first chunk, and keeps them
for the run's other chunks (keyed by the run: a new run, or another case, builds again)."""
from __future__ import annotations

import threading
import uuid

from gigawatt.sweep import CaseSource, connect

CHUNKS_PER_WORKER = 4
"""Chunks of outages per worker: the case is built once per worker whatever the count, so enough chunks to
balance the workers (outages differ in cost: a station's is slower than a line's), few enough that the
scheduler's round trips stay negligible."""

_RUN: dict = {}
"""This worker process's ``{run id: (case, prepared)}``: one run at a time (an earlier run's is dropped)."""
_LOCK = threading.Lock()


def _prepared(run: str, source: CaseSource, base):
    from gigawatt.solver.contingency.analysis import prepare_base

    with _LOCK:
        if run not in _RUN:
            _RUN.clear()
            case = source.build()
            _RUN[run] = (case, prepare_base(case, base))
        return _RUN[run]


def _solve_chunk(run: str, source: CaseSource, outages: list, base) -> list[dict]:
    from gigawatt.solver.contingency.analysis import solve_outages

    case, prepared = _prepared(run, source, base)
    return solve_outages(case, outages, base, prepared)


def dask_map(workers: int | None = None, scheduler: str | None = None):
    """A ``map_outages`` for :func:`gigawatt.solver.contingency.run_contingency` that runs on Dask."""
    def run(case, outages, base):
        client, cluster = connect(workers, scheduler)
        try:
            n = max(1, len(client.scheduler_info()["workers"]))
            size = max(1, -(-len(outages) // (n * CHUNKS_PER_WORKER)))
            chunks = [outages[i:i + size] for i in range(0, len(outages), size)]
            src = client.scatter(CaseSource.of(case), broadcast=True)
            base_f = client.scatter(base, broadcast=True)
            key = uuid.uuid4().hex
            futures = [client.submit(_solve_chunk, key, src, c, base_f, pure=False) for c in chunks]
            return [r for f in futures for r in f.result()]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return run
