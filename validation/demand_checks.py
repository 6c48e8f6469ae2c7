"""Validation runner for the heat demand of homes (:mod:`gigawatt.models.consumers`): the default town's
annual heat per home over the bundled weather year, against published annual figures per home.

The demand models alone are evaluated, vectorised over the year's hours
(:meth:`gigawatt.solver.district_heating.stage.ConsumerDemand.energy_j`): space heating by the degree-day
method at each hour's outdoor temperature, hot water by its daily profile at each hour of the day. No network
is solved (the heat delivered equals the demand in a steady state; pipe losses are the network's, not the
homes').
"""
from __future__ import annotations

import numpy as np

MWH_J = 3.6e9


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def town_annual_heat_per_home(spec):
    """Annual heat per home [MWh] of the bundled case's town (points ``default town`` and ``default town,
    Odense``: one value, two published figures) and of a town of each building type in
    ``inputs.building_types`` (``point = <type>``), over the bundled weather year."""
    import gigawatt as gw
    from gigawatt.cases.town import build_town
    from gigawatt.cases.weather import bundled_weather
    from gigawatt.solver.district_heating.stage import ConsumerDemand

    inp = spec["inputs"]
    ds = bundled_weather(start=inp["start"], periods=int(inp["periods"]), step=inp["step"], site=inp["site"])
    t = ds.outdoor_t_k.values
    times = ds.time.values
    hours = (times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")
    dt_s = float((times[1] - times[0]) / np.timedelta64(1, "s"))
    base = gw.load_case()

    def per_home_mwh(case):
        c = case.tables["dh_consumer"]
        homes = (c["kind"] == "homes_degree_days").to_numpy()
        e = ConsumerDemand(case).energy_j(t, hours, dt_s)
        return float(e[homes].sum() / c["n_homes"].to_numpy(float)[homes].sum()) / MWH_J

    town = per_home_mwh(base)
    out = [_measured("annual_heat_per_home_mwh", town, point=p) for p in ("default town", "default town, Odense")]
    for kind in inp.get("building_types", []):
        town = {"homes": int(inp["homes"]), "building_type": kind}
        out.append(_measured("annual_heat_per_home_mwh", per_home_mwh(build_town(**town)), point=kind))
    return out


DEMAND_RUNNERS = {"town_annual_heat_per_home": town_annual_heat_per_home}
"""Runners of the heat-demand cases (registered in :data:`gigawatt.validation.dc_checks.RUNNERS`)."""
