r"""``size_storage(case, ramp_limit)``: the smallest store, per placement, whose ramp-limit control keeps the
power at the point of connection within a ramp limit for the case's training swings.

Method, for each placement (rack, bus, facility) in turn, one store there and no other:

1. the ramp-limit law (:data:`gigawatt.models.energy_storage.CONTROL_LAWS`) is run with an unconstrained
   store (power and energy a thousand times the peak it sees and an hour of it). Its recharge term is
   (soc_set − soc)·E_window/τ, which depends only on the energy moved, not on the store's size, so this run's
   power p(t) and energy E(t) are what any store that never reaches its limits would do;
2. the store's rating follows in closed form from that trajectory: P = max|p|, and the smallest rated energy
   that keeps E(t) within [soc_min, soc_max] from soc_initial: E_r = max(−ΔE_min/(soc0 − soc_min),
   ΔE_max/(soc_max − soc0)), ΔE the excursion from the start;
3. the law's own limit is the target divided by the largest incremental gain of the chain above the store
   (the losses of shelves, network and stations make the grid's ramp a little larger than the store's
   draw's), found from the series without the store; then the sized store is run through the whole chain
   and, if the grid's ramp still exceeds the target anywhere (a store that does reach a limit), the law's
   limit is lowered by bisection until it holds (at most :data:`BISECTIONS` halvings).

The result is the smallest store *for this control law* (a law that anticipated the swings could need less).
The parameters other than power and energy (kind, efficiency, resistance, window, recovery) are the
placement's first store in the case if it has one, else a battery with the schema's defaults; without a
given resistance, that of a store rated at the peak power it sees (so the sizing run and the sized store lose
alike; a capacitor's EMF does depend on its size, so its sizing rests on the check of step 3).
"""
from __future__ import annotations

import numpy as np

from gigawatt.cases.schema import schema
from gigawatt.solver.swings.run import DEFAULT_R_SHARE, PLACEMENTS, chain, prepare, store_parameters

BISECTIONS = 12
HUGE = 1e3
MARGIN = 1e-6
"""Relative margin on the sized power and energy over the unconstrained run's (its round-off)."""


def _template(case, placement: str) -> dict:
    rows = [r for r in case.tables["store"].to_dict("records") if r["placement"] == placement]
    if rows:
        return dict(rows[0])
    fields = schema()["store"]
    return {name: f.default_value() for name, f in fields.items()} | {"id": f"{placement}_store",
                                                                      "placement": placement}


def size_storage(case, ramp_limit_w_per_s: float, *, placements=PLACEMENTS, method: str = "auto") -> list[dict]:
    """The smallest store per placement (see the module notes): one dict per placement with ``placement``,
    ``power_w`` [W], ``energy_j`` [J], ``law_ramp_limit_w_per_s`` [W/s], ``ramp_max_w_per_s`` [W/s] reached
    at the point of connection with the sized store, ``held`` (whether it holds the limit) and ``store`` (the
    store-table row, to run with :func:`gigawatt.solver.swings.run.run_swings`)."""
    dc, frac, dt, none, poc, level = _base(case, method)
    out = []
    for pl in placements:
        d_load, d_poc = np.diff(level[pl]), np.diff(poc)
        big = np.abs(d_load) > 1e-6 * np.abs(level[pl]).max()
        gain = float(np.max(np.abs(d_poc[big] / d_load[big]))) if big.any() else 1.0
        row, peak, r_ohm = _store_row(case, pl, "ramp_limit", level[pl])

        def sized(law_limit):
            """(power, energy) from the unconstrained run, then the grid's largest ramp with that store."""
            power, energy, s, r = _closed_form_store(case, frac, dt, dc, none, pl, row, peak, r_ohm,
                                                     {"ramp_limit_w_per_s": law_limit}, method)
            if s is None:  # the law never needs the store: none at all
                return 0.0, 0.0, float(np.abs(np.diff(poc)).max() / dt), r
            return power, energy, float(np.abs(np.diff(s["p_poc_w"])).max() / dt), r

        law = ramp_limit_w_per_s / gain
        power, energy, reached, r = sized(law)
        if reached > ramp_limit_w_per_s * (1 + MARGIN):  # a limit binds: lower the law's own limit by bisection
            law, (power, energy, reached, r) = _bisect(sized, 0.0, law, ramp_limit_w_per_s,
                                                       (law, (power, energy, reached, r)), lambda a, b: 0.5 * (a + b))
        out.append({"placement": pl, "power_w": power, "energy_j": energy, "law_ramp_limit_w_per_s": law,
                    "ramp_max_w_per_s": reached, "held": reached <= ramp_limit_w_per_s * (1 + MARGIN), "store": r})
    return out


def _bisect(sized, lo: float, hi: float, limit: float, best: tuple, split) -> tuple:
    """Bisection on a law's parameter between ``lo`` (assumed to hold) and ``hi`` (fails), ``split`` giving the
    point between: ``sized(x)`` returns (power, energy, reached, row); the best (parameter, that tuple) found
    with ``reached`` within ``limit`` (``best`` if none)."""
    for _ in range(BISECTIONS):
        mid = split(lo, hi)
        got = sized(mid)
        if got[2] <= limit * (1 + MARGIN):
            lo, best = mid, (mid, got)
        else:
            hi = mid
    return best


def _base(case, method):
    """The swing series without stores: coupling, fractions, step, the empty placement, the point of connection's
    power and each placement's level (the load a store there sees) [W]."""
    dc, frac, dt, _ = prepare(case, method)
    none = {pl: [] for pl in PLACEMENTS}
    base, _, _ = chain(case, frac, dt, dc, none, method=method)
    level = {"rack": dc.shelf_output_w(frac).sum(axis=1), "bus": base["p_station_dc_w"], "facility": base["p_intake_w"]}
    return dc, frac, dt, none, base["p_poc_w"], level


def _store_row(case, pl, control, level):
    """The placement's store row under ``control``, the peak of the load it sees [W] and its resistance [Ω]:
    given, or that of a store rated at that peak (so the sizing run and the sized store lose alike)."""
    row = _template(case, pl) | {"control": control, "in_service": True}
    peak = float(np.abs(level).max())
    r_ohm = row.get("r_internal_ohm")
    if r_ohm is None or np.isnan(r_ohm):
        v = float(row["v_oc_v"] if row["kind"] == "battery" else row["v_max_v"])
        r_ohm = DEFAULT_R_SHARE * v * v / peak
    return row, peak, r_ohm


def _run_store(case, frac, dt, dc, none, pl, row, law: dict, power, energy, r_ohm, method):
    """The chain with one store at ``pl`` of that power [W] and energy [J] under its law's parameters ``law``."""
    r = row | law | {"power_w": power, "r_internal_ohm": r_ohm}
    if row["kind"] == "battery":
        r["energy_j"] = energy
    else:  # a capacitor bank of that energy between its voltages: scale its capacitance
        r["capacitance_f"] = 2 * energy / float(row["v_max_v"]) ** 2
    s, st, _ = chain(case, frac, dt, dc, none | {pl: [(r, store_parameters(case, r))]}, method=method)
    return s, st[0], r


def _closed_form_store(case, frac, dt, dc, none, pl, row, peak, r_ohm, law: dict, method):
    """Steps 1–2 of the module notes for the law's parameters ``law``: the unconstrained run, the rating in
    closed form from its trajectory, and the chain run with that store: (power [W], energy [J], its series or
    None when the law never needs a store, the store row)."""
    _, (_, par, p, e, _, _), _ = _run_store(case, frac, dt, dc, none, pl, row, law, HUGE * peak,
                                            HUGE * peak * 3600, r_ohm, method)
    de = e - par["soc0"] * par["e_rated_j"]
    p0 = store_parameters(case, row | law | {"energy_j": 1.0, "power_w": 1.0, "capacitance_f": 1.0,
                                             "v_max_v": row.get("v_max_v") or 1.0})
    soc0, lo, hi = float(row["soc_initial"]), p0["soc_min"], p0["soc_max"]
    energy = max(-de.min() / (soc0 - lo) if soc0 > lo else 0.0, de.max() / (hi - soc0) if hi > soc0 else 0.0)
    power, energy = float(np.abs(p).max()) * (1 + MARGIN), energy * (1 + MARGIN)
    if power == 0 or energy == 0:
        return 0.0, 0.0, None, row | {"power_w": 0.0, "energy_j": 0.0}
    s, _, r = _run_store(case, frac, dt, dc, none, pl, row, law, power, energy, r_ohm, method)
    return power, energy, s, r


def low_pass_gain(f_hz: np.ndarray, corner_hz: float, dt_s: float) -> np.ndarray:
    """|H| of the low-pass law's discrete first-order filter d_k = d_{k−1} + a (L_k − d_{k−1}),
    a = 1 − e^{−Δt/τ}, τ = 1/(2π f_c), at frequencies ``f_hz`` [Hz]: |a / (1 − (1 − a) e^{−jωΔt})| [1]."""
    a = 1.0 - np.exp(-2.0 * np.pi * corner_hz * dt_s)
    return np.abs(a / (1.0 - (1.0 - a) * np.exp(-2j * np.pi * f_hz * dt_s)))


def size_storage_band(case, band_hz: tuple[float, float], rms_limit_w: float, *, placements=PLACEMENTS,
                      method: str = "auto") -> list[dict]:
    """The smallest store per placement whose ``low_pass`` law keeps the RMS of the point of connection's power
    in the band ``band_hz`` = (low, high) [Hz] within ``rms_limit_w`` [W], by the method of the module notes
    with the corner frequency for the law's limit:

    1. the corner in closed form on the spectrum: the store takes what its low-pass lets through from the
       load it sees, so the point of connection keeps X_poc − g·(1 − H(f_c))·X_level, H the filter's response
       (:func:`low_pass_gain`) and g the chain's incremental gain above the store; its band RMS (Parseval, as
       :func:`gigawatt.solver.swings.run.band_rms`) falls as f_c falls, and the highest corner meeting the
       limit is found by bisection on that formula (no chain runs);
    2. the unconstrained run at that corner and the rating in closed form from its trajectory;
    3. the sized store through the chain; if the band RMS still exceeds the limit (the recharge, a limit
       that binds, the chain's nonlinearity), the corner is lowered by bisection on chain runs.

    It is the smallest store that follows this law at the highest corner meeting the limit (never short of
    what the law asks); a store rated below the law's peaks clips them, which may also meet an RMS limit (on
    the test campus 5 % less power lowered the band's RMS), and is not searched for.

    Returns one dict per placement with ``placement``, ``power_w``, ``energy_j``, ``corner_hz``,
    ``band_rms_w`` reached, ``band_rms_unsmoothed_w``, ``held`` and ``store`` (the store-table row)."""
    from gigawatt.solver.swings.run import band_rms

    lo_hz, hi_hz = band_hz
    dc, frac, dt, none, poc, level = _base(case, method)
    bands = {"band": (lo_hz, hi_hz)}
    rms0 = band_rms(poc, dt, bands)[2]["band"]
    n = poc.size
    f = np.fft.rfftfreq(n, dt)
    inband = (f >= lo_hz) & (f <= hi_hz)
    w = np.where(f[inband] * 2 * dt == 1.0, 1.0, 2.0)  # the Nyquist bin once
    x_poc = np.fft.rfft(poc - poc.mean())[inband]
    out = []
    for pl in placements:
        if rms0 <= rms_limit_w:  # the band is within the limit without a store
            out.append({"placement": pl, "power_w": 0.0, "energy_j": 0.0, "corner_hz": float("inf"),
                        "band_rms_w": rms0, "band_rms_unsmoothed_w": rms0, "held": True, "store": None})
            continue
        lv = level[pl]
        d_load, d_poc = np.diff(lv), np.diff(poc)
        big = np.abs(d_load) > 1e-6 * np.abs(lv).max()
        gain = float(np.median(d_poc[big] / d_load[big])) if big.any() else 1.0
        x_lv = np.fft.rfft(lv - lv.mean())[inband]

        def predicted(fc):
            y = x_poc - gain * (1.0 - low_pass_gain(f[inband], fc, dt)) * x_lv
            return float(np.sqrt((w * np.abs(y) ** 2).sum() / n ** 2))

        lo_c, hi_c = 1e-6, 0.5 / dt  # corners [Hz]: from a store that takes everything to one that takes nothing
        for _ in range(60):
            mid = np.sqrt(lo_c * hi_c)
            lo_c, hi_c = (mid, hi_c) if predicted(mid) <= rms_limit_w else (lo_c, mid)
        corner = lo_c
        row, peak, r_ohm = _store_row(case, pl, "low_pass", lv)

        def sized(fc):
            power, energy, s, r = _closed_form_store(case, frac, dt, dc, none, pl, row, peak, r_ohm,
                                                     {"corner_hz": fc}, method)
            got = rms0 if s is None else band_rms(s["p_poc_w"], dt, bands)[2]["band"]
            return power, energy, got, r

        power, energy, reached, r = sized(corner)
        if reached > rms_limit_w * (1 + MARGIN):  # lower the corner by bisection (in log) on chain runs
            corner, (power, energy, reached, r) = _bisect(sized, corner * 1e-3, corner, rms_limit_w,
                                                          (corner, (power, energy, reached, r)),
                                                          lambda a, b: np.sqrt(a * b))
        out.append({"placement": pl, "power_w": power, "energy_j": energy, "corner_hz": corner,
                    "band_rms_w": reached, "band_rms_unsmoothed_w": rms0,
                    "held": reached <= rms_limit_w * (1 + MARGIN), "store": r})
    return out
