"""Smoke test of the bipolar benchmark (``gigawatt bench --bipolar``) on a tiny campus: record layout, and
that the balanced bipole agrees with the 800 V monopolar campus it is timed against. No timing is asserted."""
import json
import math

from gigawatt.bench import bipolar_loadflow as bench_bipolar
from gigawatt.bench.suite import format_table, run_benchmarks

TINY = 300  # 1 hall x 9 rows x 32 racks (see tests/test_bench.py)


def test_bipolar_records_and_table():
    records = run_benchmarks([], repeat=1, cooling_sizes={}, dh_sizes=(), bipolar_sizes=[TINY])
    assert [r["benchmark"] for r in records] == list(bench_bipolar.BENCHMARKS)
    for r in records:
        assert r["size"] == TINY
        for key in ("whole_s", "warm_s", "warm_total_s", "mono_warm_s", "ratio"):
            assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] > 0, key
        assert r["peer"] is None and r["peer_whole_s"] is None and r["speedup_whole"] is None
        assert "no peer" in r["peer_note"]
        assert r["energy_balance_residual"] < 1e-9
        assert 0.95 < r["v_min_pu"] < 1.0
    balanced, alternating = records
    # Pole to pole, the balanced bipole is the 800 V monopolar campus: the same voltages to round-off.
    assert balanced["check"] < 1e-12 and balanced["i_neutral_max_a"] == 0.0
    assert alternating["check"] is None and alternating["i_neutral_max_a"] > 0.0
    text = format_table(records)
    assert "dc_bipolar_balanced" in text and "mono ms" in text and "whole ms" in text and "dc_loadflow" not in text
    json.dumps(records)
