"""What a district-heating time series' buried pipes lose heat to at each step: the ground at their depth on the
day (``[district_heating] ground = "kusuda"``) and, for twin pipes, their partner
(:mod:`gigawatt.solver.district_heating.twin`).

Each step holds them constant (:meth:`gigawatt.solver.district_heating.dynamics.DynamicThermalNetwork.set_surroundings`,
which keeps the water's heat content, so the ledger closes to round-off). A twin pipe is the single pipe of the
exact pair map at the step's flows with its partner's inlet at the last step's mean temperature, the steady
sweep's form (:func:`gigawatt.solver.district_heating.twin.twin_surroundings`): with nothing moving the series
equals the steady solve; while fronts travel, the exchange lags its partner by one step and is quasi-steady
along the pipe (the pair's exact transient, water parcels of two pipes passing each other, is not modelled).
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError

from gigawatt.solver.district_heating.stage import pipe_ground_at
from gigawatt.solver.district_heating.twin import twin_exchange_w, twin_surroundings

DAY_S = 86400.0


def series_start_s(case) -> float:
    """Time of year a district-heating series starts at [s from 1 January 00:00]: its ``[time] start`` (in UTC),
    or without a ``[time]`` table the ``[district_heating] day_of_year``."""
    t = case.settings.get("time")
    if t is None or not t.get("start"):
        return case.settings["district_heating"]["day_of_year"] * DAY_S
    try:
        ts = pd.Timestamp(t["start"])
    except ValueError:
        raise CaseError("not an ISO 8601 time stamp", file=case.file, element="[time]", field="start",
                        value=t["start"], allowed="e.g. 2025-01-01T00:00") from None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return (ts - pd.Timestamp(year=ts.year, month=1, day=1)).total_seconds()


def ground_at_series_start(dh) -> None:
    """Put a prepared network's pipes (its thermal networks' ambient) in the ground of the series' start
    (:func:`series_start_s`) when that differs from the steady solve's ``day_of_year`` (``ground = "kusuda"``), so
    that the series starts from the steady state of its first day."""
    s = dh.s
    time_s = series_start_s(dh.case)
    if s["ground"] != "kusuda" or time_s == s["day_of_year"] * DAY_S:
        return
    t = pipe_ground_at(s, dh.case.tables["dh_pipe"]["depth_m"].to_numpy(float)[dh.live], time_s)
    for name in ("tnet", "tnet_network"):
        net = copy.copy(getattr(dh, name))
        net.branches = net.branches.copy()
        net.branches[:t.size, 3] = t
        net.t_ambient_k = net.branches[:, 3].copy()
        setattr(dh, name, net)


class PipeSurroundings:
    """The surroundings of a prepared network's pipes in a series (module notes); ``branch_order``: the
    thermal network's branch at each position of the dynamic network (None: the same numbering)."""

    def __init__(self, dh, dyn, branch_order=None):
        self.dh, self.s = dh, dh.s
        n_pipe = dh.pf.size
        nb = dh.tnet.n_branch
        order = np.arange(nb) if branch_order is None else np.asarray(branch_order)
        self.pos = np.argsort(order)[:n_pipe]  # dynamic position of each pipe
        self.depth = dh.case.tables["dh_pipe"]["depth_m"].to_numpy(float)[dh.live]
        self.length = np.asarray(dh.tnet.length_m, dtype=float)[:n_pipe]
        self.u = np.asarray(dh.tnet.u_w_per_m_k, dtype=float)[:n_pipe].copy()
        self.active = self.s["ground"] == "kusuda" or dh.twins is not None
        self.time_s = series_start_s(dh.case)  # the series' clock: the time of year of the next step

    def apply(self, dyn, m_branch, t_node_k) -> None:
        """Hold the pipes' surroundings for the step about to be taken at the series' clock, with these branch
        flows [kg/s] and the partners' inlets at these node temperatures [K] (both in the thermal network's
        numbering)."""
        if not self.active:
            return
        t_g = pipe_ground_at(self.s, self.depth, self.time_s)
        u, amb = self.u.copy(), t_g.copy()
        if self.dh.twins is not None:
            rows, u_twin, amb_twin = twin_surroundings(self.dh.twins, self.dh.tnet, m_branch, t_node_k,
                                                       self._ground_branches(t_g))
            u[rows], amb[rows] = u_twin, amb_twin
        w_cp = dyn.w_kg[self.pos] * dyn.cp_branch[self.pos]  # the step's (per-pipe properties change it)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(w_cp > 0, u * self.length / w_cp, 0.0)
        dyn.set_surroundings(self.pos, k, amb)

    def advance(self, dt_s: float) -> None:
        """Move the clock on by a step [s]."""
        self.time_s += dt_s

    def exchange_w(self, m_branch, t_node_k) -> float:
        """Heat the pipes that name a twin give it at these flows and node temperatures [W] (0 without)."""
        if self.dh.twins is None:
            return 0.0
        t_g = pipe_ground_at(self.s, self.depth, self.time_s)
        return float(np.sum(twin_exchange_w(self.dh.twins, _GroundView(self.dh.tnet, self._ground_branches(t_g)),
                                            m_branch, t_node_k)))

    def _ground_branches(self, t_g):
        out = np.full(self.dh.tnet.n_branch, float(self.s["ground_t_k"]))
        out[:t_g.size] = t_g
        return out


class _GroundView:
    """A thermal network seen with other ambient temperatures (for :func:`twin_exchange_w`)."""

    def __init__(self, tnet, t_ground):
        self.cp_branch, self.n_branch = tnet.cp_branch, tnet.n_branch
        self.branch_from, self.branch_to = tnet.branch_from, tnet.branch_to
        self.branches = tnet.branches.copy()
        self.branches[:, 3] = t_ground
