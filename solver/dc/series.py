"""The electrical stage of a time series: the DC network solved step after step, prepared once.

:class:`DCSeries` assembles a case once and solves its DC network at any rack IT powers, warm-started from
the previous step's voltages (:meth:`DCSeries.step` → :class:`DCStep`); :func:`run_dc_series` solves a
whole series of rack scale factors (one Numba kernel over all steps of a chunk,
:mod:`gigawatt.solver.dc.series_kernel`) and keeps only per-step figures and per-element extremes.

Model: exactly :func:`gigawatt.solve`'s electrical stage. Each rack draws its IT power p_it [W] through its
voltage regulators (efficiency η_vrm) and its shelves (loss model L): p_in = p_it/η_vrm + L(p_it/η_vrm),
a constant-power load on its bus (:func:`gigawatt.solver.dc.assembly.rack_powers`); Newton on Kirchhoff's law
as in :mod:`gigawatt.solver.dc.kernel`, started from the previous steps' voltages extrapolated in each zone's
total load (:func:`gigawatt.solver.dc.series_kernel.predict_start`). Newton checks the mismatch before its
first update, so a start already within tolerance costs one pass and zero iterations. Only the starting
voltages differ from a cold solve, so the results agree with :func:`gigawatt.solve` to the solver tolerance
(``[solver] tolerance``, relative to the load current; tested at 1e-9 relative on the figures and 1e-9 pu on
voltages, beyond what the accepted current mismatch allows at droop stations).

Figures of a step (:data:`FIGURES`; names and meaning as the attributes of :func:`gigawatt.solve`):

* ``p_grid_w`` = Σ_sources (P_dc + loss) [W]; ``p_it_w`` = Σ_racks p_it [W];
* ``loss_<stage>_w`` for every stage of :data:`gigawatt.solver.dc.results.STAGES` [W] (``distribution`` =
  Σ g·ΔV² over the lines), ``p_loss_w`` their sum, ``other_loss_w`` = stations + distribution + DC/DC
  converters (the heat the cooling stage takes outside the racks, as :func:`gigawatt.solve` hands to
  :func:`gigawatt.solver.cooling.stage.solve_heat`);
* ``efficiency_grid_to_chip`` = p_it/p_grid; ``energy_balance_residual`` = |p_grid − p_it − p_loss|/p_grid;
* ``v_min_pu`` and ``v_min_bus`` (bus-table row; :class:`DCStep` gives its id): the lowest bus voltage;
* ``iterations`` (Newton iterations, summed over voltage levels, largest over zones), ``max_mismatch_a`` [A].

Bipolar cases (``[dc] system = "bipolar"``): :meth:`DCSeries.step` falls back to the full bipolar solve
(:func:`gigawatt.solver.dc.bipolar.solve_bipolar` and its results dataset) at every step, cold-started: the
same figures, at the cost of a whole solve a step; :func:`run_dc_series` then steps it one step at a time.
Cases with DC/DC converters (several voltage levels) take the same per-step path (monopolar, warm-started);
the kernel serves single-level monopolar networks, the common campus.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.solver.dc.assembly import assemble, with_rack_power
from gigawatt.solver.dc.kernel import STATUS_CONVERGED
from gigawatt.solver.dc.series_kernel import predict_zones
from gigawatt.solver.dc.loadflow import (_feed_powers, _solve_zones, _workspace, deliver_level, level_feeds,
                                         line_currents, nose_error, solve_dc, zone_outputs)
from gigawatt.solver.dc.results import STAGES

STAGE_FIGURES = tuple(f"loss_{s}_w" for s in STAGES)
FIGURES = ("p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip", "energy_balance_residual",
           *STAGE_FIGURES, "other_loss_w", "v_min_pu", "v_min_bus", "iterations", "max_mismatch_a")
"""Per-step scalar figures, in the order of :class:`DCStep` (``v_min_bus``: a bus id there, a bus-table row
in :func:`run_dc_series`)."""
GRID_FIGURES = ("p_dc_terminals_w", "p_dc_conductances_w", "terminals_at_limit")
"""Further per-step figures of a case with DC grid elements (:mod:`gigawatt.solver.dc.series_grid`)."""


@dataclass(frozen=True)
class DCStep:
    """One solved step (see the module notes for the figures). Arrays are fresh, in table order."""

    p_grid_w: float
    p_it_w: float
    p_loss_w: float
    efficiency_grid_to_chip: float
    energy_balance_residual: float
    loss_ac_dc_station_w: float
    loss_distribution_w: float
    loss_dc_dc_converter_w: float
    loss_rack_shelf_w: float
    loss_rack_vrm_w: float
    other_loss_w: float
    v_min_pu: float
    v_min_bus: str
    iterations: int
    max_mismatch_a: float
    rack_vrm_loss_w: np.ndarray  # [W] per rack
    rack_shelf_loss_w: np.ndarray  # [W] per rack
    rack_p_in_w: np.ndarray  # [W] per rack
    v_pu: np.ndarray  # [1] per bus (bipolar: the lower pole, as gw.solve's v_pu)
    line_currents: Callable[[], np.ndarray] = field(repr=False)  # computes line_i_a on demand
    source_p_grid_w: np.ndarray | None = None  # [W] per source-table row: DC output + loss (0 out of service)
    # DC grid elements (gigawatt.solver.dc.series_grid); None in a case without them
    p_dc_terminals_w: float | None = None  # [W] delivered by set-power terminals (negative: drawn)
    p_dc_conductances_w: float | None = None  # [W] drawn by conductance loads
    terminals_at_limit: int | None = None  # terminals holding a voltage limit

    @property
    def p_in_w(self) -> float:
        """[W] what the DC network takes in: the grid's draw plus what set-power terminals deliver."""
        return self.p_grid_w + (self.p_dc_terminals_w or 0.0)

    @property
    def heat_other_w(self) -> float:
        """[W] heat outside the racks: station, distribution and DC/DC losses, and what conductance loads
        turn into heat (as :func:`gigawatt.solve` hands it to the cooling stage)."""
        return self.other_loss_w + (self.p_dc_conductances_w or 0.0)

    @property
    def line_i_a(self) -> np.ndarray:
        """[A] per line, from → to (NaN out of service; bipolar: the mean pole current), computed when asked
        (a pass over the lines that a year of steps need not pay)."""
        return self.line_currents()

    def figures(self) -> dict:
        """The scalar figures as a dict (names of :data:`FIGURES`, and :data:`GRID_FIGURES` in a case with DC
        grid elements)."""
        return {name: getattr(self, name) for name in FIGURES + GRID_FIGURES if getattr(self, name) is not None}


def ledger(p_grid: float, p_it: float, stage_losses) -> dict:
    """The figures that follow from the grid power, the IT power and the stage losses [W] (in
    :data:`~gigawatt.solver.dc.results.STAGES` order), as :mod:`gigawatt.solver.dc.results` forms them."""
    stages = np.asarray(stage_losses, dtype=float)
    p_loss = stages.sum(axis=0)
    other = stages[:3].sum(axis=0)
    if stages.ndim == 1:  # one step: the same IEEE operations on floats, without numpy's per-scalar overhead
        p_grid, p_it, p_loss = float(p_grid), float(p_it), float(p_loss)
        out = {"p_grid_w": p_grid, "p_it_w": p_it, "p_loss_w": p_loss,
               "efficiency_grid_to_chip": p_it / p_grid if p_grid > 0 else math.nan,
               "energy_balance_residual": abs(p_grid - p_it - p_loss) / max(abs(p_grid), 1e-300),
               "other_loss_w": float(other)}
        out.update(zip(STAGE_FIGURES, stages.tolist()))
        return out
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # an overflow is inf, as on floats above
        residual = np.abs(p_grid - p_it - p_loss) / np.maximum(np.abs(p_grid), 1e-300)
        eff = np.where(p_grid > 0, p_it / np.where(p_grid > 0, p_grid, 1.0), np.nan)
    out = {"p_grid_w": p_grid, "p_it_w": p_it, "p_loss_w": p_loss, "efficiency_grid_to_chip": eff,
           "energy_balance_residual": residual, "other_loss_w": other}
    out.update(dict(zip(STAGE_FIGURES, stages)))
    return out


def check_p_it(p_it, n_racks: int, step: int) -> np.ndarray:
    """``p_it`` as a float array of ``n_racks`` finite values ≥ 0 [W], else a :class:`CaseError` naming the step."""
    p = np.asarray(p_it, dtype=float)
    if p.shape != (n_racks,):
        raise CaseError(f"rack IT powers of shape {p.shape}, expected one per rack", element=f"step {step}",
                        field="p_it_w", allowed=f"shape ({n_racks},)")
    bad = ~(np.isfinite(p) & (p >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("rack IT power must be finite and not negative", element=f"step {step}, rack {i}",
                        field="p_it_w", value=float(p[i]), allowed="[0, inf)")
    return p


class RackPowers:
    """:func:`gigawatt.solver.dc.assembly.rack_powers` of the racks ``rows`` of a case, with the racks grouped by
    shelf loss model once (not at every call): p_out = p_it/η_vrm, shelf loss L(p_out), p_in = p_out + L,
    regulator loss p_out − p_it [W]. Same arithmetic, element by element, so the same numbers."""

    def __init__(self, case, rows=None):
        racks = case.tables["rack"]
        rows = np.arange(len(racks)) if rows is None else np.asarray(rows)
        self.models, self.ids = case.loss_models, racks["id"].to_numpy()[rows]
        self.eta = racks["vrm_efficiency"].to_numpy(float)[rows]
        names = racks["shelf_loss_model"].to_numpy()[rows]
        rated = np.nan_to_num(racks["shelf_rated_power_w"].to_numpy(float)[rows], nan=1.0)
        v_out = racks["shelf_v_out_v"].to_numpy(float)[rows]
        # per model: its racks (a slice when it has them all: no gathered copies), their first row (for
        # messages), and their output voltages and ratings
        self.groups = [(name, slice(None) if idx.size == names.size else idx, idx[0], v_out[idx], rated[idx])
                       for name in dict.fromkeys(names.tolist()) if name != ""
                       for idx in [np.flatnonzero(names == name)]]
        # the groups whose (constant) output voltages and ratings a call has found good: not checked again
        self._ratings_ok: set = set()

    def __call__(self, p_it: np.ndarray):
        """(p_in, shelf loss, regulator loss) [W] at IT powers ``p_it`` [W] of shape (..., racks)."""
        p_out = p_it / self.eta
        shelf = np.zeros(p_out.shape)
        for name, idx, first, v_out, rated in self.groups:
            p = p_out[..., idx]
            checked = name in self._ratings_ok
            try:
                if p.ndim == 1:  # one step (a time series' chain): the group's arrays as they are
                    shelf[idx] = self.models[name].loss_w(p, v_out, rated, ratings_checked=checked)
                else:
                    shelf[..., idx] = self.models[name].loss_w(
                        p.ravel(), np.broadcast_to(v_out, p.shape).ravel(), np.broadcast_to(rated, p.shape).ravel(),
                        ratings_checked=checked).reshape(p.shape)
            except CaseError as err:
                raise err.located(element=f"rack '{self.ids[first]}' (loss model '{name}')") from None
            if p.size:  # (an empty batch checked nothing)
                self._ratings_ok.add(name)
        return p_out + shelf, shelf, p_out - p_it


class _LevelFeeds:
    """:func:`gigawatt.solver.dc.loadflow.deliver_level` of one voltage level of a series, with the level's
    feeds' arrays gathered once: the same operations on the same values, so the same numbers."""

    def __init__(self, net, case, feeds):
        f = net.feeds
        self.net, self.case, self.feeds = net, case, feeds
        sel, code, names = feeds
        self.sel, self.bus = sel, f.bus[sel]
        self.arrays = (self.bus, f.k_droop[sel], f.v_set[sel], f.stiff[sel], f.rated[sel], net.zone[self.bus])
        self.rated = f.rated[sel]
        # one loss model for all the level's feeds (the usual campus): called directly, as loss_by_model does
        model = case.loss_models[names[0]] if len(names) == 1 and names[0] != "" and sel.size else None
        self.model = model if model is not None and not getattr(model, "SIGNED", False) else None
        self.lossless = len(names) == 0 or (len(names) == 1 and names[0] == "")
        self.conv = sel[f.input_bus[sel] >= 0]

    def deliver(self, v, i_fixed, zone_draw, feed_p, feed_loss, p_load) -> None:
        """What the level's feeds deliver and lose [W] into ``feed_p``, ``feed_loss``; the converter inputs
        added to ``p_load``."""
        sel = self.sel
        p = np.empty(sel.size)
        _feed_powers(*self.arrays[:6], v, i_fixed, zone_draw, p)
        feed_p[sel] = p
        if self.model is not None:
            try:
                feed_loss[sel] = self.model.loss_w(np.abs(p), v[self.bus], self.rated)
            except CaseError:  # loss_by_model's message, naming the feed
                deliver_level(self.net, self.case, v, i_fixed, zone_draw, 0, 0, feed_p, feed_loss, p_load,
                              self.feeds)
                raise
        elif not self.lossless:
            from gigawatt.models.converter_losses import loss_by_model

            f = self.net.feeds
            sel, code, names = self.feeds
            feed_loss[sel] = loss_by_model(self.case.loss_models, names, p, v[self.bus], self.rated, "feed",
                                           f.ids[sel], code=code)
        if self.conv.size:
            f = self.net.feeds
            np.add.at(p_load, f.input_bus[self.conv], feed_p[self.conv] + feed_loss[self.conv])


class DCSeries:
    """A case's DC network, assembled once, solved step after step (see the module notes).

    ``step(p_it)`` warm-starts from the previous step's voltages; the series holds nothing else between
    steps, so stepping the same powers in any order gives the same answers to the solver tolerance. ``net``:
    the case's assembled network if already at hand (:meth:`fresh`; the solve only reads it).
    """

    def __init__(self, case, net=None):
        self.case = case
        self.settings = case.settings["solver"]
        if self.settings["conductor_temperature"] != "fixed":
            raise CaseError("conductor temperatures from the load are solved for a single operating point only; "
                            "a time series takes each line at its conductor_temp_k", file=case.file,
                            element="[solver]", field="conductor_temperature",
                            value=self.settings["conductor_temperature"], allowed="fixed along a time axis")
        self.net = assemble(case) if net is None else net
        self.bipolar = (case.settings.get("dc") or {}).get("system") == "bipolar"
        self.v = self.net.v_start.copy()  # [V] warm start, solver positions
        self.v_prev = self.v.copy()  # [V] the step before (for the predictor of the start)
        self.load_hist = np.zeros((self.net.zones.start.size, 3))  # per zone: S_{k-1}, S_{k-2}, steps solved
        self.steps_done = 0
        self._work = _workspace(self.net)
        self._i_fixed = np.zeros(self.net.n_bus)
        self._bus_ids = case.tables["bus"]["id"].to_numpy()
        self._v_nominal_row = case.tables["bus"]["v_nominal_v"].to_numpy(float)
        f = self.net.feeds
        self._is_source = f.table == "source"
        self.n_racks = len(case.tables["rack"])
        self.rack_powers = RackPowers(case)
        self.n_sources = len(case.tables["source"])
        zn = self.net.zones  # each voltage level: its zones, its buses and its feeds (fixed for the series)
        self._levels = [(z0, z1, zn.start[z0], zn.end[z1 - 1], level_feeds(self.net, zn.start[z0], zn.end[z1 - 1]))
                        for _, z0, z1 in zn.levels]
        self._level_feeds = [_LevelFeeds(self.net, case, level[4]) for level in self._levels]
        self._zone_out = zone_outputs(zn.start.size)
        self._sources = np.flatnonzero(self._is_source)  # (the feeds' rows: gathers, not masks, at each step)
        self._others = np.flatnonzero(~self._is_source)
        self._source_rows = f.row[self._sources]

    def fresh(self) -> "DCSeries":
        """A series of the same case and network from its first step (its own start and step count), without
        assembling the network again."""
        return DCSeries(self.case, net=self.net)

    def step(self, rack_p_it_w) -> DCStep:
        """Solve the network with the racks at IT powers ``rack_p_it_w`` [W] (one per rack-table row).

        Raises :class:`CaseError` for a wrong shape or a negative/NaN power, :class:`ConvergenceError`
        (naming this step's index, counted from 0) beyond the nose of the P–V curve."""
        k = self.steps_done
        p_it = check_p_it(rack_p_it_w, self.n_racks, k)
        try:
            out = self._bipolar_step(p_it) if self.bipolar else self._step(p_it)
        except ConvergenceError as err:
            raise ConvergenceError(f"step {k}: {err}", partial=err.partial, details={**err.details, "step": k}) \
                from None
        except CaseError as err:
            raise err.located(element=f"step {k}, {err.element}" if err.element else f"step {k}") from None
        self.steps_done += 1
        return out

    def _step(self, p_it: np.ndarray) -> DCStep:
        net, case, f = self.net, self.case, self.net.feeds
        p_in, shelf, vrm = self.rack_powers(p_it)
        p_load = np.bincount(net.rack_bus, weights=p_in, minlength=net.n_bus)
        v, v_prev, hist = self.v.copy(), self.v_prev.copy(), self.load_hist.copy()
        feed_p, feed_loss = np.zeros(f.bus.size), np.zeros(f.bus.size)
        zn = net.zones
        zone_draw, zone_loss = np.zeros(zn.start.size), np.zeros(zn.start.size)
        iterations, worst = 0, 0.0
        i_fixed = self._i_fixed
        for (z0, z1, _, _, _), feeds in zip(self._levels, self._level_feeds):
            predict_zones(v, v_prev, hist, zn.start, zn.end, z0, z1, p_load)
            status, its, mis, worst_bus, load, loss = _solve_zones(net, v, p_load, z0, z1, self.settings, i_fixed,
                                                                   self._work, out=self._zone_out)
            if (status != STATUS_CONVERGED).any():  # retry those zones from the set-points, as the kernel does
                its = its.copy()
                for j in np.flatnonzero(status != STATUS_CONVERGED):
                    z = z0 + int(j)
                    v[zn.start[z]:zn.end[z]] = net.v_start[zn.start[z]:zn.end[z]]
                    st2, its2, mis2, wb2, load2, loss2 = _solve_zones(net, v, p_load, z, z + 1, self.settings,
                                                                      i_fixed, self._work)
                    status[j], mis[j], worst_bus[j], load[j], loss[j] = st2[0], mis2[0], wb2[0], load2[0], loss2[0]
                    its[j] += its2[0]
                    if st2[0] != STATUS_CONVERGED:
                        raise nose_error(net, case, v, p_load, z, self.settings, int(st2[0]), int(wb2[0]),
                                         self._work, mismatch_a=float(mis2[0]))
            zone_draw[z0:z1], zone_loss[z0:z1] = load + loss, loss
            iterations, worst = iterations + int(its.max()), max(worst, float(mis.max()))
            feeds.deliver(v, i_fixed, zone_draw, feed_p, feed_loss, p_load)
        self.v, self.v_prev, self.load_hist = v, v_prev, hist
        src, other = self._sources, self._others
        stages = [feed_loss[src].sum(), zone_loss.sum(), feed_loss[other].sum(), shelf.sum(), vrm.sum()]
        v_pu = v[net.pos] / self._v_nominal_row
        i_min = int(np.argmin(v_pu))
        p_source = feed_p[src] + feed_loss[src]
        fig = ledger(float(p_source.sum()), float(p_it.sum()), stages)
        per_source = np.zeros(self.n_sources)
        per_source[self._source_rows] = p_source
        return DCStep(**fig, v_min_pu=float(v_pu[i_min]),
                      v_min_bus=self._bus_ids[i_min], iterations=iterations, max_mismatch_a=worst,
                      rack_vrm_loss_w=vrm, rack_shelf_loss_w=shelf, rack_p_in_w=p_in, v_pu=v_pu,
                      line_currents=partial(line_currents, net, v), source_p_grid_w=per_source)

    def _bipolar_step(self, p_it: np.ndarray) -> DCStep:
        """The full bipolar solve and its results (no warm start: the bipolar solver has none)."""
        from gigawatt import __version__
        from gigawatt.solver.dc.bipolar import solve_bipolar
        from gigawatt.solver.dc.bipolar_results import build_bipolar_dataset

        net = with_rack_power(self.net, self.case, p_it)
        ds = build_bipolar_dataset(self.case, net, solve_bipolar(net, self.case, settings=self.settings),
                                   version=__version__, p_it=p_it)
        stages = ds["stage_loss_w"].sel(stage=list(STAGES)).to_numpy()
        v_pu = ds["v_pu"].to_numpy()
        i_min = int(np.argmin(v_pu))
        fig = ledger(float(ds.attrs["p_grid_w"]), float(p_it.sum()), stages)
        return DCStep(**{k: float(x) for k, x in fig.items()}, v_min_pu=float(v_pu[i_min]),
                      v_min_bus=self._bus_ids[i_min], iterations=int(ds.attrs["iterations"]),
                      max_mismatch_a=float(ds.attrs["max_mismatch_a"]), rack_vrm_loss_w=net.rack_vrm_loss,
                      rack_shelf_loss_w=net.rack_shelf_loss, rack_p_in_w=net.rack_p_in, v_pu=v_pu,
                      line_currents=ds["i_a"].to_numpy, source_p_grid_w=ds["source_p_grid_w"].to_numpy())

    def nose_error(self, p_it: np.ndarray, step: int) -> ConvergenceError:
        """The error of a cold solve at IT powers ``p_it`` [W] that does not converge, naming ``step``."""
        net = with_rack_power(self.net, self.case, p_it)
        try:
            solve_dc(net, self.case, settings=self.settings)
        except ConvergenceError as err:
            return ConvergenceError(f"step {step}: {err}", partial=err.partial, details={**err.details, "step": step})
        return ConvergenceError(f"step {step}: no DC load-flow solution from the previous step's voltages nor "
                                f"from the set-points", details={"step": step})


def run_dc_series(case, rack_scale, *, on_chunk=None, chunk=None):
    """Solve the DC network of ``case`` at every step of ``rack_scale`` [1] (steps,) or (steps, racks) and
    keep per-step figures and the period's per-element extremes: see
    :func:`gigawatt.solver.dc.series_batch.run_dc_series` (returns a
    :class:`~gigawatt.solver.dc.series_batch.DCSeriesResult`)."""
    from gigawatt.solver.dc.series_batch import run_dc_series as run

    return run(case, rack_scale, on_chunk=on_chunk, chunk=chunk)
