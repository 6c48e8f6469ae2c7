"""What every benchmark of ``gigawatt bench`` shares: timing, cold processes, peak memory and table output.

Each benchmark family has its own module in this package and imports only this one from it (no module of a
family imports another family's, except to reuse a network builder): :mod:`gigawatt.bench.suite` runs the
default families one after another.
"""
from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time

from gigawatt.tables import table_lines  # noqa: F401  (the bench modules take it from here)

COLD_TIMEOUT_S = 1800.0


def median_time(fn, repeat: int, budget_s: float | None = None) -> tuple[float, int]:
    """Median wall time [s] of ``fn()`` over ``repeat`` calls (garbage collector off while timing, as
    ``timeit`` does); with ``budget_s``, stop after at least 3 calls once that much time is spent."""
    times = []
    spent = 0.0
    for _ in range(max(1, repeat)):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
        finally:
            gc.enable()
        times.append(dt)
        spent += dt
        if budget_s is not None and len(times) >= 3 and spent > budget_s:
            break
    return statistics.median(times), len(times)


def median_fresh_wall_cpu(make, fn, repeat: int, budget_s: float | None = None) -> tuple[float, float, int]:
    """Medians of the wall time and of the CPU time (``time.process_time``: this process, all its threads) [s]
    of ``fn(make())``, each call on a fresh object built outside the timing, garbage collector off while timing
    (as ``timeit`` does); on a shared, loaded machine the CPU time says what the
    call costs, the wall time what it waited besides. With ``budget_s``, stop after at least 3 calls once that
    much time (making included) is spent. Returns (wall, CPU, runs)."""
    walls, cpus = [], []
    spent = 0.0
    for _ in range(max(1, repeat)):
        t_make = time.perf_counter()
        obj = make()
        gc.collect()
        gc.disable()
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            fn(obj)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        finally:
            gc.enable()
        del obj
        spent += time.perf_counter() - t_make
        if budget_s is not None and len(walls) >= 3 and spent > budget_s:
            break
    return statistics.median(walls), statistics.median(cpus), len(walls)


def median_fresh_time(make, fn, repeat: int, budget_s: float | None = None) -> tuple[float, int]:
    """Median wall time [s] of ``fn(make())``, each call on a fresh object that ``make()`` builds outside the
    timing (see :func:`median_fresh_wall_cpu`): the *whole call* of a user, such as :func:`gigawatt.solve` of a
    case not solved before, or a peer's run on a network it has not run. Returns (wall, runs)."""
    wall, _, runs = median_fresh_wall_cpu(make, fn, repeat, budget_s)
    return wall, runs


def whole_fields(whole_s: float | None, peer_whole_s: float | None) -> dict:
    """The whole-call keys of a record: ours, the peer's and their ratio (None where the peer did not run)."""
    return {"whole_s": whole_s, "peer_whole_s": peer_whole_s,
            "speedup_whole": None if whole_s is None or peer_whole_s is None else peer_whole_s / whole_s}


def wrapped(text: str, width: int = 110) -> list[str]:
    """A table footer's note as lines of at most ``width`` characters, continued lines indented."""
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent="  ")


WHOLE_NOTE = ("whole: the user's call, gw.solve of a case not solved before (a fresh case built outside the timing "
              "each run; numba warm), median; peer whole: the peer's run on a network it has not run (built outside "
              "the timing), median; x whole = peer whole / whole. The kernel columns follow.")


def peer_skipped(peer: bool, too_big_note: str | None, module: str) -> str | None:
    """Why a benchmark record has no peer run, or None to run it: not asked for (``--no-peer``), the network
    beyond the size the peer is run at (``too_big_note``), or the peer package not installed."""
    import importlib.util

    if not peer:
        return "peer skipped (--no-peer)"
    if too_big_note:
        return too_big_note
    if importlib.util.find_spec(module) is None:
        return f"{module} not available"
    return None


def run_cold_process(module: str, args: list[str], fields: dict[str, str]) -> dict:
    """Run ``python -m MODULE ARGS`` in a fresh process, which prints its timings as JSON on its last line.

    Returns ``cold_s`` (the process's wall time), each record key of ``fields`` taken from the child's key
    it names, ``cold_numba_cache_misses`` and a ``cold_note`` (why it failed, or that numba compiled);
    on failure every value is None.
    """
    cmd = [sys.executable, "-m", module, *args]
    # A neutral working directory: from the repository root, ``-m`` would put the source tree on sys.path.
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=COLD_TIMEOUT_S)
    wall = time.perf_counter() - t0
    keys = ["cold_s", *fields, "cold_numba_cache_misses"]
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return dict.fromkeys(keys) | {"cold_note": f"cold run failed: {tail}"}
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    misses = child["numba_cache_misses"]
    return {"cold_s": wall, **{k: child[c] for k, c in fields.items()}, "cold_numba_cache_misses": misses,
            "cold_note": (f"cold run compiled {misses} numba kernel(s): the on-disk cache was stale (solver source "
                          f"changed?), so cold_s includes compilation") if misses else None}


def fmt(x, scale=1.0, spec=".3g", missing="–") -> str:
    """``x·scale`` formatted by ``spec``, or ``missing`` for None."""
    return missing if x is None else format(x * scale, spec)


def numba_cache_counts() -> tuple[int, int]:
    """(hits, misses) of numba's on-disk cache over every jitted function of gigawatt loaded so far: a miss
    means a kernel was compiled in this process (a stale or empty cache), which a cold timing must say."""
    hits = misses = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("gigawatt.") or module is None:
            continue
        for obj in vars(module).values():
            stats = getattr(obj, "stats", None)
            if hasattr(stats, "cache_hits") and getattr(obj, "__module__", None) == name:
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
    return hits, misses


def peak_rss_bytes() -> int:
    """Peak resident memory [B] of this process.

    On Linux, from ``VmHWM`` in /proc/self/status: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` survives
    ``exec``, so a child started by a large parent (``subprocess`` forks or vforks, then execs) would report
    the parent's peak, not its own. Elsewhere, ``ru_maxrss`` (bytes on macOS, kilobytes on other systems).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
