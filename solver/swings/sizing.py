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
    dc, frac, dt, _ = prepare(case, method)
    none = {pl: [] for pl in PLACEMENTS}
    base, _, _ = chain(case, frac, dt, dc, none, method=method)
    level = {"rack": dc.shelf_output_w(frac).sum(axis=1), "bus": base["p_station_dc_w"], "facility": base["p_intake_w"]}
    poc = base["p_poc_w"]
    out = []
    for pl in placements:
        d_load, d_poc = np.diff(level[pl]), np.diff(poc)
        big = np.abs(d_load) > 1e-6 * np.abs(level[pl]).max()
        gain = float(np.max(np.abs(d_poc[big] / d_load[big]))) if big.any() else 1.0
        row = _template(case, pl) | {"control": "ramp_limit", "in_service": True}
        peak = float(np.abs(level[pl]).max())
        r_ohm = row.get("r_internal_ohm")
        if r_ohm is None or np.isnan(r_ohm):  # the default resistance of a store rated at the peak it sees
            v = float(row["v_oc_v"] if row["kind"] == "battery" else row["v_max_v"])
            r_ohm = DEFAULT_R_SHARE * v * v / peak

        def run(law_limit, power, energy, r_ohm):
            r = row | {"ramp_limit_w_per_s": law_limit, "power_w": power, "r_internal_ohm": r_ohm}
            if row["kind"] == "battery":
                r["energy_j"] = energy
            else:  # a capacitor bank of that energy between its voltages: scale its capacitance
                v_max = float(row["v_max_v"])
                r["capacitance_f"] = 2 * energy / v_max ** 2
            s, st, _ = chain(case, frac, dt, dc, none | {pl: [(r, store_parameters(case, r))]}, method=method)
            return s, st[0], r

        def sized(law_limit):
            """(power, energy) from the unconstrained run, then the grid's largest ramp with that store."""
            _, (_, par, p, e, _, _), _ = run(law_limit, HUGE * peak, HUGE * peak * 3600, r_ohm)
            de = e - par["soc0"] * par["e_rated_j"]
            p0 = store_parameters(case, row | {"ramp_limit_w_per_s": law_limit, "energy_j": 1.0, "power_w": 1.0,
                                               "capacitance_f": 1.0, "v_max_v": row.get("v_max_v") or 1.0})
            soc0, lo, hi = float(row["soc_initial"]), p0["soc_min"], p0["soc_max"]
            energy = max(-de.min() / (soc0 - lo) if soc0 > lo else 0.0, de.max() / (hi - soc0) if hi > soc0 else 0.0)
            power, energy = float(np.abs(p).max()) * (1 + MARGIN), energy * (1 + MARGIN)
            if power == 0 or energy == 0:  # the law never needs the store: none at all
                return 0.0, 0.0, float(np.abs(np.diff(poc)).max() / dt), row | {"power_w": 0.0, "energy_j": 0.0}
            s, _, r = run(law_limit, power, energy, r_ohm)
            return power, energy, float(np.abs(np.diff(s["p_poc_w"])).max() / dt), r

        law = ramp_limit_w_per_s / gain
        power, energy, reached, r = sized(law)
        if reached > ramp_limit_w_per_s * (1 + MARGIN):  # a limit binds: lower the law's own limit by bisection
            lo_l, hi_l = 0.0, law
            for _ in range(BISECTIONS):
                mid = 0.5 * (lo_l + hi_l)
                got = sized(mid)
                if got[2] <= ramp_limit_w_per_s * (1 + MARGIN):
                    lo_l, law = mid, mid
                    power, energy, reached, r = got
                else:
                    hi_l = mid
        out.append({"placement": pl, "power_w": power, "energy_j": energy, "law_ramp_limit_w_per_s": law,
                    "ramp_max_w_per_s": reached, "held": reached <= ramp_limit_w_per_s * (1 + MARGIN), "store": r})
    return out
