"""Smoke tests of the 5 GW campus benchmark (gigawatt.bench.campus_5gw) on a small campus of the same make-up.

No timing is asserted (a shared machine makes timings meaningless in a test): what is checked is the record
layout, that the variants are the bundled campus with its rows split as described, and that the runs close
their ledgers and couple their sides."""
import json

import pytest

from gigawatt.bench import campus_5gw as bench_grid

# A few hundred kW per site: at 400 kV the 5 km line's charging (about 3 Mvar) would swamp transformers rated
# for that load (the load flow fails, rightly), so the small campus connects at 110 kV over 100 m.
SMALL = dict(sites=2, halls=1, rows_per_hall=2, racks_per_row=2, grid_transformers_per_site=1, grid_hv_v=110e3,
             grid_hv_line_length_km=0.1)


@pytest.fixture(scope="module")
def record():
    return bench_grid.run_one("campus_5gw_fine2", repeat=1, cold=False, **SMALL)


def test_split_variants():
    assert [bench_grid.split_of(v) for v in ("campus_5gw", "campus_5gw_fine8")] == [1, 8]
    base = bench_grid.build_case("campus_5gw", **SMALL)
    fine = bench_grid.build_case("campus_5gw_fine2", **SMALL)
    # Racks at half the power, the same grid side (SMALL gives rows_per_hall itself, which overrides the split
    # rows, so only the rack power shows the split here).
    assert fine.tables["rack"]["p_it_w"].iloc[0] == pytest.approx(base.tables["rack"]["p_it_w"].iloc[0] / 2, rel=1e-15)
    assert len(fine.tables["ac_bus"]) == len(base.tables["ac_bus"])
    assert fine.name == base.name + "-fine2"


def test_record(record):
    for key in ("whole_s", "warm_s", "ac_s", "peer_runpp_s", "ac_overhead_ratio", "build_s"):
        assert isinstance(record[key], float) and record[key] > 0
    assert record["dc_buses"] == 2 * (2 + 1 + 2 * 3) and record["racks"] == 2 * 2 * 2
    assert record["peer"].startswith("pandapower ")
    assert record["ac_coupling_residual"] <= 1e-9 and record["plant_energy_balance_residual"] <= 1e-9
    assert record["p_plant_w"] > record["p_it_w"] > 0
    assert record["peak_rss_bytes"] is None and record["cold_note"]  # cold run skipped for overridden cases
    assert record["peer_whole_s"] is None and record["speedup_whole"] is None  # no peer of the whole chain
    json.dumps(record)


def test_table(record):
    text = bench_grid.format_table([record])
    for words in ("campus_5gw_fine2", "target warm <= 2 s", "runpp", "AC/runpp", "GW from the plants"):
        assert words in text, text
