"""Smoke test of the year benchmark (``gigawatt bench --year``) on a few hours of the bundled default case:
record layout, the fresh process's ledgers, the table. No timing is asserted."""
import json
import math

from gigawatt.bench import coupled_year as bench_year


def test_year_record_and_table():
    rec = bench_year.run_one("default", steps=3, peer=False)
    # the fresh process ran (on a fresh machine it may first compile numba kernels: then it says so)
    assert rec["cold_note"] is None or "compiled" in rec["cold_note"], rec["cold_note"]
    assert rec["steps"] == 3 and rec["dc_buses"] == 828 and rec["dh_consumers"] == 1004
    for key in ("year_s", "year_cpu_s", "whole_s", "build_s", "year_estimate_s"):
        assert isinstance(rec[key], float) and math.isfinite(rec[key]) and rec[key] > 0, key
    assert rec["whole_s"] == rec["year_s"] and rec["peer_whole_s"] is None and rec["speedup_whole"] is None
    assert rec["year_estimate_s"] == rec["year_s"] * 8760 / 3
    assert set(rec["stage_s"]) == {"chips", "dc", "cooling", "district_heating"}
    assert rec["energy_balance_residual"] < 1e-9 and rec["heat_balance_residual"] < 1e-9
    assert rec["peak_rss_bytes"] > 0
    text = bench_year.format_table([rec])
    assert "year_default" in text and "extrapolated" in text and "per step by stage" in text and "CPU time" in text
    json.dumps(rec)


def test_large_variant_is_the_issues_size():
    """10⁴–10⁵ DC buses and 10⁴ consumers (built, not solved)."""
    case = bench_year.build_case("large", 2)
    assert 1e4 <= len(case.tables["bus"]) <= 1e5
    assert len(case.tables["dh_consumer"]) >= 1e4
    assert case.settings["time"]["periods"] == 2
