"""gigawatt.solver.dc.loadflow.feed_powers (one compiled kernel) against its previous NumPy implementation, kept
here as the reference: the same output powers bit for bit on random feeds (droop and stiff, several per bus and
per zone, zones fed by droop feeds alone), and the ledger it exists for: each zone's feeds deliver its draw."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.solver.dc.loadflow import feed_powers


def feed_powers_numpy(net, v, i_fixed, zone_draw, sel):
    """The NumPy feed_powers of gigawatt 55f9e15, verbatim."""
    f = net.feeds
    bus = f.bus[sel]
    droop_p = f.k_droop[sel] * (f.v_set[sel] - v[bus])
    stiff = f.stiff[sel]
    n_zone = zone_draw.size
    zone = net.zone[bus]
    droop_zone = np.bincount(zone[~stiff], weights=droop_p[~stiff], minlength=n_zone)
    k = f.k_droop[sel]
    k_zone = np.bincount(zone[~stiff], weights=k[~stiff], minlength=n_zone)
    has_stiff = np.bincount(zone[stiff], minlength=n_zone) > 0
    dv = np.where(~has_stiff & (k_zone > 0), (zone_draw - droop_zone) / np.where(k_zone > 0, k_zone, 1.0), 0.0)
    droop_p = np.where(stiff, 0.0, droop_p + k * dv[zone])
    if not stiff.any():
        return droop_p
    total = zone_draw - droop_zone
    rated = f.rated[sel]
    rated_bus = np.bincount(bus[stiff], weights=rated[stiff], minlength=net.n_bus)[bus]
    estimate = np.where(stiff, v[bus] * i_fixed[bus] * rated / np.where(rated_bus > 0, rated_bus, 1.0), 0.0)
    remainder = total - np.bincount(zone[stiff], weights=estimate[stiff], minlength=n_zone)
    rated_zone = np.bincount(zone[stiff], weights=rated[stiff], minlength=n_zone)
    corrected = estimate + remainder[zone] * rated / np.where(rated_zone[zone] > 0, rated_zone[zone], 1.0)
    return np.where(stiff, corrected, droop_p)


@st.composite
def feeds(draw):
    n_bus = draw(st.integers(1, 12))
    n_zone = draw(st.integers(1, min(n_bus, 4)))
    zone = np.sort(np.array(draw(st.lists(st.integers(0, n_zone - 1), min_size=n_bus, max_size=n_bus))))
    n_feed = draw(st.integers(0, 10))
    bus = np.array(draw(st.lists(st.integers(0, n_bus - 1), min_size=n_feed, max_size=n_feed)), dtype=np.int64)
    stiff = np.array(draw(st.lists(st.booleans(), min_size=n_feed, max_size=n_feed)), dtype=bool)
    k = np.array(draw(st.lists(st.sampled_from([0.0, 1e3, 2.5e4, 7.7e5]), min_size=n_feed, max_size=n_feed)))
    rated = np.array(draw(st.lists(st.sampled_from([0.0, 1e6, 3e6, 2.2e6]), min_size=n_feed, max_size=n_feed)))
    reals = st.floats(-1e7, 1e7, allow_nan=False)
    v = 800.0 + np.array(draw(st.lists(st.floats(-40.0, 40.0), min_size=n_bus, max_size=n_bus)))
    v_set = 800.0 + np.array(draw(st.lists(st.floats(-5.0, 5.0), min_size=n_feed, max_size=n_feed)))
    i_fixed = np.array(draw(st.lists(st.floats(-1e4, 1e4), min_size=n_bus, max_size=n_bus)))
    zone_draw = np.array(draw(st.lists(reals, min_size=n_zone, max_size=n_zone)))
    sel = np.flatnonzero(np.array(draw(st.lists(st.booleans(), min_size=n_feed, max_size=n_feed)), dtype=bool)) \
        if draw(st.booleans()) else np.arange(n_feed)
    net = SimpleNamespace(n_bus=n_bus, zone=zone, feeds=SimpleNamespace(bus=bus, k_droop=k, v_set=v_set, stiff=stiff,
                                                                         rated=rated))
    return net, v, i_fixed, zone_draw, sel


@settings(max_examples=400, deadline=None)
@given(feeds())
def test_feed_powers_equal_the_numpy_implementation(case):
    net, v, i_fixed, zone_draw, sel = case
    got, expected = feed_powers(net, v, i_fixed, zone_draw, sel), feed_powers_numpy(net, v, i_fixed, zone_draw, sel)
    assert got.shape == expected.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)  # bit for bit (NaN where both give NaN)


@settings(max_examples=200, deadline=None)
@given(feeds())
def test_feeds_deliver_each_zones_draw(case):
    # Every zone with rated stiff feeds, or droop feeds of positive gain, delivers its draw (to rounding).
    net, v, i_fixed, zone_draw, sel = case
    p = feed_powers(net, v, i_fixed, zone_draw, sel)
    f = net.feeds
    zone = net.zone[f.bus[sel]]
    for z in np.unique(zone):
        mine = zone == z
        if f.stiff[sel][mine].any():  # stiff feeds share the remainder by rating: each needs one
            delivering = bool((f.rated[sel][mine & f.stiff[sel]] > 0).all())
        else:  # droop feeds alone share the offset by gain
            delivering = bool((f.k_droop[sel][mine] > 0).any())
        if delivering:
            # rounding relative to the largest terms that cancel: the droop laws and the stiff estimates
            bus = f.bus[sel][mine]
            terms = (np.abs(f.k_droop[sel][mine] * (f.v_set[sel][mine] - v[bus])).sum()
                     + np.abs(v[bus] * i_fixed[bus]).sum())
            scale = max(abs(zone_draw[z]), np.abs(p[mine]).sum(), terms, 1.0)
            assert abs(p[mine].sum() - zone_draw[z]) <= 1e-9 * scale
