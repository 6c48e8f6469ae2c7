r"""The one place where the energy stores meet the DC network: the network's answer at every step of a swing
series, with the rack stores already in the racks' draw and the bus stores at the stations.

Coupling (quasi-static, each step independent of the last; the network's own dynamics, milliseconds and
faster, are not modelled):

* a **rack** store sits on the DC output of the rack's power shelves (where rack battery units and
  power-supply storage sit): the shelves convert p_out − p_store, p_out = p_it/η_vrm; the regulators still
  lose p_out − p_it. The racks' input powers are then the network's constant-power loads.
* a **bus** store sits on the 800 VDC bus at the stations: its control law runs first, on the stations'
  total DC output without it; then its power, shared among the stations by rating, is a set-power terminal
  at each station's bus (:class:`gigawatt.solver.dc.meshed.DCGridSolver`), and the network is solved again
  with those terminals (:meth:`DCCoupling.with_bus_stores`): each station's DC output, its bus voltage and
  the line losses come from that load flow, so the shift of a droop station's voltage by the store's power
  enters the losses; each station's loss is evaluated at its output with its own loss model. With every
  rack alike the load flows are run at the nodes of a Chebyshev grid in (rack input x, bus-store power s),
  all nodes in one batch of the DC grid solver, and interpolated (tensor barycentric), checked against one
  batch of load flows at the midpoints of the grid as the one-dimensional surrogate is. The series kernel
  (racks of several types, or ``method="kernel"``) keeps the quasi-static sharing: each station's output falls by its share and its
  voltage is the one without the store (exact for stations that hold their set-point; with droop, the shift,
  droop·ΔP/P_rated per unit, is not fed back into the losses), stated in the results' ``bus_store_coupling``.

Two ways to solve the network along the series, chosen by :func:`dc_stage`:

``chebyshev`` (every rack alike: one rack type, so the bus loads are a single power x per rack times fixed
counts, and the network's state is an analytic function of x below the nose of the P–V curve)
    full Newton load flows (:func:`gigawatt.solver.dc.loadflow.solve_dc`) at the Chebyshev points of the
    second kind on the series' range of x, each station's DC output and voltage and the lowest bus voltage
    interpolated in x (barycentric, Berrut & Trefethen, "Barycentric Lagrange Interpolation", SIAM Review
    46(3), 2004, doi:10.1137/S0036144502417715). The interpolant is checked against direct load flows at
    the midpoints between the nodes; the node count doubles until the largest difference in any station's
    output is within :data:`SURROGATE_TOL` of the total draw and in any station's voltage and the lowest
    per-unit voltage within :data:`SURROGATE_TOL` relative (the load flow's own tolerance is 1e-11 of the
    load current), else the kernel below is used. The largest power difference found is kept in the results.
    The network's state is analytic in x below the nose, so the interpolant converges geometrically; the
    shelves' loss curves, which may have kinks, are not interpolated (each step's rack input is computed
    exactly), nor are the stations' losses (computed at each step from the interpolated outputs).
``kernel`` (any monopolar case)
    :func:`gigawatt.solver.dc.series.run_dc_series` at every step (the Numba kernel, zones in parallel,
    warm-started Newton); each station's output is the total split by rating and its voltage taken at its
    set-point (the kernel keeps neither per station).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import loss_by_model
from gigawatt.models.racks import chip_powers
from gigawatt.solver.dc.series import DCSeries, RackPowers
from gigawatt.solver.dc.series_batch import RACK_TYPE_FIELDS

SURROGATE_TOL = 1e-10
"""Largest interpolation difference accepted in any station's output, relative to the total draw [1]."""
MAX_NODES = 257


@dataclass(frozen=True)
class DCAnswer:
    """The DC stage along the series (arrays along steps; ``station_*`` (steps, stations)).

    ``p_in_w``: the racks' input power (the network's load) [W]; ``shelf_loss_w``, ``vrm_loss_w`` [W];
    ``p_station_dc_w`` each station's DC output before the bus stores [W]; ``v_station_v`` its bus voltage
    [V]; ``v_min_pu`` the lowest bus voltage [1]; ``method`` and ``surrogate_error_w`` (largest interpolation
    difference found at the check points [W], 0 for the kernel)."""

    p_in_w: np.ndarray
    shelf_loss_w: np.ndarray
    vrm_loss_w: np.ndarray
    p_station_dc_w: np.ndarray
    v_station_v: np.ndarray
    v_min_pu: np.ndarray
    method: str
    surrogate_error_w: float
    nodes: int
    x_w: np.ndarray | None = None  # (steps, groups) each rack's input power [W] (every rack alike), else None


class DCCoupling:
    """A case's DC network prepared once for swing series (see the module notes).

    ``scope``: ``campus`` (one training job over every rack: one group) or ``hall`` (a job per zone of the
    DC network, each zone's racks one group; a zone is a set of buses joined by lines and fed by its own
    stations, a hall of the campus builder). Loads and rack stores are given per group (steps, groups)."""

    def __init__(self, case, scope: str = "campus"):
        self.case = case
        self.series = DCSeries(case)  # assembly and its checks (monopolar, fixed conductor temperatures)
        if self.series.bipolar:
            raise CaseError("swing series are solved for monopolar DC networks", file=case.file, element="[dc]",
                            field="system", value="bipolar", allowed="monopolar")
        racks = case.tables["rack"]
        if not len(racks):
            raise CaseError("a swing series needs racks", file=case.file, element="table 'rack'")
        self.p_ref = chip_powers(case)  # [W] chips' power at full load, per rack
        self.eta = racks["vrm_efficiency"].to_numpy(float)
        self.one_type = racks.groupby(list(RACK_TYPE_FIELDS), dropna=False, sort=False).ngroups == 1
        net = self.series.net
        f = net.feeds
        self.src = np.flatnonzero(f.table == "source")
        self.station_ids = f.ids[self.src]
        self.station_rated = f.rated[self.src]
        self.share = self.station_rated / self.station_rated.sum()
        n_zone = net.zones.start.size
        if scope == "hall":
            if len(net.zones.levels) != 1 or not self.one_type:
                raise CaseError("a training job per hall needs a single-level DC network (no DC/DC converters) "
                                "and every rack alike", file=case.file, element="[swing]", field="scope",
                                value=scope, allowed="campus")
            self.zone_group = np.arange(n_zone)
        else:
            self.zone_group = np.zeros(n_zone, dtype=np.int64)
        self.rack_group = self.zone_group[net.zone[net.rack_bus]]
        self.station_group = self.zone_group[net.zone[f.bus[self.src]]]
        self.groups = int(self.zone_group.max()) + 1
        self.p_ref_group = np.bincount(self.rack_group, weights=self.p_ref, minlength=self.groups)
        self.racks_group = np.bincount(self.rack_group, minlength=self.groups).astype(float)
        self._memo = {}  # the last answer, keyed by the loads it was solved for
        self._grid_memo = None  # the DC grid with the bus stores' terminals and its solver, made on first use

    def shelf_output_w(self, scale: np.ndarray) -> np.ndarray:
        """Σ over each group's racks of the shelves' output p_it/η_vrm [W] at IT-load fractions ``scale``
        (steps, groups)."""
        return scale * np.bincount(self.rack_group, weights=self.p_ref / self.eta, minlength=self.groups)

    def solve(self, scale: np.ndarray, p_rack_store_w: np.ndarray, *, method: str = "auto") -> DCAnswer:
        """The network at IT-load fractions ``scale`` [1] (steps, groups) with the rack stores delivering
        ``p_rack_store_w`` [W] (steps, groups; each group's total, shared by p_it_w) at each step."""
        vrm = scale @ np.bincount(self.rack_group, weights=self.p_ref / self.eta - self.p_ref,
                                  minlength=self.groups)
        if np.ptp(self.eta) > 0 and np.any(p_rack_store_w != 0):
            raise CaseError("rack stores need every rack at one VRM efficiency (the store's power is shared by "
                            "p_it_w)", file=self.case.file, element="table 'rack'", field="vrm_efficiency")
        eta = float(self.eta[0])
        # effective IT fraction: the shelves convert (p_out − p_store)·η_vrm of IT-equivalent power
        s_eff = np.ascontiguousarray(scale - p_rack_store_w * eta / self.p_ref_group[None, :])
        use = method if method != "auto" else ("chebyshev" if self.one_type else "kernel")
        key = (use, hashlib.sha1(s_eff.tobytes()).hexdigest())  # the same loads again (another store above)
        if key not in self._memo:
            self._memo.clear()
            self._memo[key] = self._solve(use, s_eff, vrm)
        return self._memo[key]

    def _solve(self, use: str, s_eff: np.ndarray, vrm: np.ndarray) -> DCAnswer:
        if use == "chebyshev":
            if not self.one_type:
                raise CaseError("the Chebyshev surrogate needs every rack alike", file=self.case.file,
                                element="table 'rack'", allowed="method kernel")
            out = self._chebyshev(s_eff, vrm)
            if out is not None:
                return out
        if self.groups > 1:
            why = ("the method kernel was asked for" if use == "kernel" else
                   f"the surrogate did not meet its check with {MAX_NODES} nodes")
            raise CaseError(f"a training job per hall is solved by the Chebyshev surrogate only ({why})",
                            file=self.case.file, element="[swing]", field="scope", value="hall",
                            allowed="campus, or method auto/chebyshev")
        return self._kernel(s_eff[:, 0], vrm)

    # -- the network as a function of one rack's input power -----------------------------------------------
    def _flow(self, x: float):
        """Direct load flow with every rack drawing ``x`` [W] (one rack type): (station outputs, their bus
        voltages, lowest per-unit voltage of each zone)."""
        from gigawatt.solver.dc.loadflow import solve_dc

        net, case = self.series.net, self.case
        p_in = np.full(len(case.tables["rack"]), x)
        net_x = replace(net, rack_p_in=p_in, rack_load=np.bincount(net.rack_bus, weights=p_in, minlength=net.n_bus))
        st = solve_dc(net_x, case, settings=self.series.settings)
        f = net.feeds
        v_pu = st.v[net.pos] / case.tables["bus"]["v_nominal_v"].to_numpy(float)
        v_min_zone = np.full(net.zones.start.size, np.inf)
        np.minimum.at(v_min_zone, net.zone[net.pos], v_pu)
        return st.feed_p[self.src], st.v[f.bus[self.src]], v_min_zone

    def _chebyshev(self, s_eff: np.ndarray, vrm: np.ndarray) -> DCAnswer | None:
        """Zones are independent at one level, so one load flow with every rack at x gives each zone's state at
        its own racks' x: the interpolants in x serve every group at its own load."""
        from scipy.interpolate import BarycentricInterpolator

        steps, groups = s_eff.shape
        p_in, shelf, _ = RackPowers(self.case, [0])(s_eff.reshape(-1, 1) * self.p_ref[0])  # rack 0 for all
        x, shelf = p_in[:, 0].reshape(steps, groups), shelf[:, 0].reshape(steps, groups)
        n_racks = len(self.case.tables["rack"])
        lo, hi = float(x.min()), float(x.max())
        pad = max(1e-6 * hi, 1.0)
        lo, hi = max(lo - pad, 0.0), hi + pad
        n = 17
        while n <= MAX_NODES:
            theta = np.pi * np.arange(n) / (n - 1)
            nodes = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(theta)
            mids = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(0.5 * (theta[1:] + theta[:-1]))
            at_nodes = [self._flow(float(v)) for v in nodes]
            fit = [BarycentricInterpolator(nodes, np.array([a[j] for a in at_nodes]), axis=0) for j in range(3)]
            err, err_v = 0.0, 0.0
            for m in mids:
                p_m, v_m, vmin_m = self._flow(float(m))
                err = max(err, float(np.max(np.abs(fit[0](m) - p_m))))
                err_v = max(err_v, float(np.max(np.abs(fit[1](m) - v_m) / v_m)),
                            float(np.max(np.abs(fit[2](m) - vmin_m))))
            if err <= SURROGATE_TOL * hi * n_racks and err_v <= SURROGATE_TOL:
                p_st = np.empty((steps, self.src.size))
                v_st = np.empty((steps, self.src.size))
                v_min = np.full(steps, np.inf)
                for g in range(groups):
                    cols = self.station_group == g
                    p_st[:, cols] = fit[0](x[:, g])[:, cols]
                    v_st[:, cols] = fit[1](x[:, g])[:, cols]
                    zones = self.zone_group == g
                    v_min = np.minimum(v_min, fit[2](x[:, g])[:, zones].min(axis=1))
                return DCAnswer(x @ self.racks_group, shelf @ self.racks_group, vrm, p_st, v_st, v_min,
                                "chebyshev", err, n, x)
            n = 2 * n - 1
        return None

    def _kernel(self, s_eff: np.ndarray, vrm: np.ndarray) -> DCAnswer:
        from gigawatt.solver.dc.series import run_dc_series

        res = run_dc_series(self.case, np.maximum(s_eff, 0.0))
        fig = res.figures
        p_dc = fig["p_grid_w"] - fig["loss_ac_dc_station_w"]
        p_in_total = fig["p_it_w"] + fig["loss_rack_shelf_w"] + fig["loss_rack_vrm_w"]
        f = self.series.net.feeds
        v = np.broadcast_to(f.v_set[self.src], (p_dc.size, self.src.size))
        return DCAnswer(p_in_total, fig["loss_rack_shelf_w"], vrm, p_dc[:, None] * self.share[None, :], v,
                        fig["v_min_pu"], "kernel", 0.0, 0)

    def station_losses(self, p_dc_w: np.ndarray, v_v: np.ndarray) -> np.ndarray:
        """Each station's loss [W] at DC outputs ``p_dc_w`` (steps, stations) and bus voltages ``v_v``, by its
        loss model (:func:`gigawatt.models.converter_losses.loss_by_model`)."""
        f = self.series.net.feeds
        m, n = p_dc_w.shape
        loss = loss_by_model(self.case.loss_models, np.tile(f.loss_model[self.src], m), p_dc_w.ravel(),
                             np.ascontiguousarray(v_v).ravel(), np.tile(self.station_rated, m), "source",
                             np.tile(self.station_ids, m))
        return loss.reshape(m, n)

    # -- bus stores as set-power terminals at the stations' buses ---------------------------------------------
    def with_bus_stores(self, ans: DCAnswer, p_bus_w: np.ndarray) -> BusAnswer:
        """The network at the racks' draw of ``ans`` with the bus stores delivering ``p_bus_w`` [W] (steps) at
        the stations' buses, shared by rating: each station's DC output and bus voltage, the lowest per-unit
        voltage and the distribution loss, from the DC grid load flow with the stores as set-power terminals
        (see the module notes). Needs every rack alike (``ans.x_w``); without it, the quasi-static sharing."""
        if ans.x_w is None or not np.any(p_bus_w):
            p_dc = ans.p_station_dc_w.sum(axis=1)
            return BusAnswer(ans.p_station_dc_w - p_bus_w[:, None] * self.share[None, :], ans.v_station_v,
                             ans.v_min_pu, p_dc - ans.p_in_w, "quasi-static" if np.any(p_bus_w) else "none", 0.0, 0)
        grid, solver, zone_of_bus = self._grid()
        x, s = ans.x_w, p_bus_w
        lo_x, hi_x = _padded(float(x.min()), float(x.max()))
        lo_s, hi_s = _padded(float(s.min()), float(s.max()), floor=None)
        n_racks = len(self.case.tables["rack"])
        scale = hi_x * n_racks + max(abs(lo_s), abs(hi_s))
        n = 9
        while n <= MAX_NODES:
            nx_, ns_ = _cheb(lo_x, hi_x, n), _cheb(lo_s, hi_s, n)
            at = self._grid_flows(solver, grid, zone_of_bus, nx_, ns_)
            mx, ms = _mid(nx_), _mid(ns_)
            check = self._grid_flows(solver, grid, zone_of_bus, mx, ms)
            fit = [_tensor_eval(nx_, ns_, f, mx, ms, pairs=False) for f in at]
            check = [c.reshape(fit[0].shape[0], -1) for c in check]
            err = float(np.max(np.abs(fit[0] - check[0])))
            err_v = max(float(np.max(np.abs(fit[1] - check[1]) / check[1])), float(np.max(np.abs(fit[2] - check[2]))))
            if err <= SURROGATE_TOL * scale and err_v <= SURROGATE_TOL:
                steps = x.shape[0]
                p_st, v_st = np.empty((steps, self.src.size)), np.empty((steps, self.src.size))
                v_min = np.full(steps, np.inf)
                for g in range(self.groups):  # the three quantities of a group in one evaluation of the basis
                    cols, zones = self.station_group == g, self.zone_group == g
                    k = int(cols.sum())
                    both = _tensor_eval(nx_, ns_, np.concatenate([at[0][:, :, cols], at[1][:, :, cols],
                                                                   at[2][:, :, zones]], axis=2), x[:, g], s)
                    p_st[:, cols], v_st[:, cols] = both[:, :k], both[:, k:2 * k]
                    v_min = np.minimum(v_min, both[:, 2 * k:].min(axis=1))
                loss_dist = p_st.sum(axis=1) + s - ans.p_in_w
                return BusAnswer(p_st, v_st, v_min, loss_dist, "dc_grid_terminals", err, n)
            n = 2 * n - 1
        raise CaseError(f"the bus stores' network surrogate did not meet its check with {MAX_NODES}² nodes (the "
                        "racks' draw or the stores' power near the nose of the P–V curve)", file=self.case.file,
                        element="table 'store'", field="power_w")

    def _grid(self):
        """The case's DC network as a DC grid with a set-power terminal at each station's bus, its solver (kept:
        its factorisations serve every batch) and each bus row's zone."""
        if self._grid_memo is None:
            from gigawatt.solver.dc.meshed import DCGridSolver
            from gigawatt.solver.dc.meshed_case import grid_from_case

            base = grid_from_case(self.case)
            net = self.series.net
            bus = net.bus_row[net.feeds.bus[self.src]].astype(np.int64)
            names = dict(base.names, terminal=self.station_ids, labels={**base.names.get("labels", {}),
                                                                      "terminal": "bus store at station"})
            grid = replace(base, terminal_bus=bus, terminal_p_w=np.zeros(bus.size),
                           terminal_v_min_v=np.zeros(bus.size), terminal_v_max_v=np.full(bus.size, np.inf),
                           names=names)
            self._grid_memo = (grid, DCGridSolver(grid), net.zone[net.pos])
        return self._grid_memo

    def _grid_flows(self, solver, grid, zone_of_bus, xs, ss):
        """Load flows (one batch) at every pair of rack input ``xs`` [W] × bus-store power ``ss`` [W]: station
        outputs, their bus voltages (each (len xs, len ss, stations)) and each zone's lowest per-unit voltage."""
        n, m = xs.size, ss.size
        loads = np.repeat(xs, m)[:, None] * np.ones(grid.load_bus.size)
        terms = np.tile(ss, n)[:, None] * self.share[None, :]
        res = solver.solve(terminal_p_w=terms, load_p_w=loads)
        p_st = res.feed_p_w  # the in-service sources in table order, as self.src
        v_st = res.v_v[:, grid.terminal_bus]
        v_pu = res.v_v / grid.v_nominal_v[None, :]
        v_min = np.full((n * m, self.zone_group.size), np.inf)
        for z in range(self.zone_group.size):
            v_min[:, z] = v_pu[:, zone_of_bus == z].min(axis=1)
        shape = (n, m, -1)
        return p_st.reshape(shape), v_st.reshape(shape), v_min.reshape(shape)


@dataclass(frozen=True)
class BusAnswer:
    """The stations with the bus stores (arrays along steps; ``station_*`` (steps, stations)): each station's DC
    output after the stores [W], its bus voltage [V], the lowest bus voltage [1], the distribution loss [W];
    ``coupling`` (``dc_grid_terminals``, ``quasi-static`` or ``none``), the surrogate's largest difference from
    a load flow at its check points [W] and its nodes per dimension."""

    p_station_dc_w: np.ndarray
    v_station_v: np.ndarray
    v_min_pu: np.ndarray
    loss_distribution_w: np.ndarray
    coupling: str
    surrogate_error_w: float
    nodes: int


def _padded(lo: float, hi: float, floor: float | None = 0.0) -> tuple[float, float]:
    """An interval a little wider than [lo, hi] (never empty), clipped below at ``floor``."""
    pad = max(1e-6 * max(abs(lo), abs(hi)), 1.0)
    lo, hi = lo - pad, hi + pad
    return (lo if floor is None else max(lo, floor)), hi


def _cheb(lo: float, hi: float, n: int) -> np.ndarray:
    """The n Chebyshev points of the second kind on [lo, hi]."""
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * np.arange(n) / (n - 1))


def _mid(nodes: np.ndarray) -> np.ndarray:
    """The points halfway (in angle) between consecutive Chebyshev points of ``nodes``' interval."""
    n = nodes.size
    lo, hi = nodes[-1], nodes[0]
    theta = np.pi * np.arange(n) / (n - 1)
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(0.5 * (theta[1:] + theta[:-1]))


def _lagrange(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Lagrange basis of the Chebyshev points of the second kind ``nodes`` at ``x`` (len x, len nodes), by
    the barycentric formula with weights (−1)^j, halved at the ends (Berrut & Trefethen 2004, eq. 5.4)."""
    w = (-1.0) ** np.arange(nodes.size)
    w[0] *= 0.5
    w[-1] *= 0.5
    d = x[:, None] - nodes[None, :]
    exact = d == 0.0
    d[exact] = 1.0
    t = w[None, :] / d
    out = t / t.sum(axis=1, keepdims=True)
    hit = np.flatnonzero(exact.any(axis=1))
    out[hit] = exact[hit].astype(float)
    return out


def _tensor_eval(xn, sn, values, x, s, *, pairs: bool = True, block: int = 32768) -> np.ndarray:
    """The tensor interpolant of ``values`` (len xn, len sn, k) at the points (x[i], s[i]) (``pairs``), or at
    every (x[i], s[j]) flattened x-major (not ``pairs``): (points, k)."""
    n, m, k = values.shape
    if not pairs:
        lx, ls = _lagrange(xn, x), _lagrange(sn, s)
        return np.einsum("ai,ijk,bj->abk", lx, values, ls).reshape(-1, k)
    out = np.empty((x.size, k))
    flat = values.reshape(n, m * k)
    for a in range(0, x.size, block):
        lx, ls = _lagrange(xn, x[a:a + block]), _lagrange(sn, s[a:a + block])
        out[a:a + block] = np.einsum("aj,ajk->ak", ls, (lx @ flat).reshape(-1, m, k))
    return out
