"""The many-step path of :mod:`gigawatt.solver.dc.series`: a whole series of rack scale factors solved with
bounded memory (per-step figures along the steps, per-element extremes over the period; never steps × buses).

Single-level monopolar networks (no DC/DC converters), the common campus, run in one Numba kernel call per
chunk of steps (:func:`gigawatt.solver.dc.series_kernel.series_zones`: zones in parallel, every step of the
chunk inside, no Python per step). Racks equal in :data:`RACK_TYPE_FIELDS` draw the same power at the same
scale, so with one scale per step their loads are computed once per type. Other cases (DC/DC converters,
bipolar) step :class:`~gigawatt.solver.dc.series.DCSeries` one step at a time (:class:`_StepRun`). Both paths
start every step from the same state and give the same figures (tested).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import loss_by_model
from gigawatt.models.racks import chip_powers
from gigawatt.solver.dc.kernel import STATUS_CONVERGED
from gigawatt.solver.dc.series import FIGURES, DCSeries, RackPowers, ledger
from gigawatt.solver.dc.series_newton import tree_blocks
from gigawatt.solver.numerics.parallel import PARALLEL_KERNELS


@dataclass(frozen=True)
class DCSeriesResult:
    """What :func:`run_dc_series` keeps of a series: per-step figures and the period's extremes.

    ``figures``: name of :data:`FIGURES` → array along steps (``v_min_bus``: bus-table row).
    ``bus_v_min_pu`` [1] and ``bus_v_min_step``: each bus's lowest voltage over the period and the first step
    where it occurs (bus-table order); ``line_i_max_a`` [A] and ``line_i_max_step``: each line's largest |I|
    and its first step (line-table order; NaN and −1 out of service). ``bus``/``line``: the ids.
    """

    figures: dict
    bus_v_min_pu: np.ndarray
    bus_v_min_step: np.ndarray
    line_i_max_a: np.ndarray
    line_i_max_step: np.ndarray
    bus: np.ndarray
    line: np.ndarray

    def to_dataset(self):
        """The result as an ``xarray.Dataset`` (dims ``step``, ``bus``, ``line``)."""
        import xarray as xr

        from gigawatt.solver.dc.results import RESULT_VARIABLES

        data = {name: ("step", values) for name, values in self.figures.items()}
        data["v_min_bus"] = ("step", self.bus[self.figures["v_min_bus"]])
        data.update({
            "bus_v_min_pu": ("bus", self.bus_v_min_pu, {"units": "1", "long_name": "lowest voltage over the period"}),
            "bus_v_min_step": ("bus", self.bus_v_min_step, {"long_name": "first step of the lowest voltage"}),
            "line_i_max_a": ("line", self.line_i_max_a, {"units": "A", "long_name": "largest |current| over the "
                                                                                    "period"}),
            "line_i_max_step": ("line", self.line_i_max_step, {"long_name": "first step of the largest |current|"}),
        })
        ds = xr.Dataset(data, coords={"step": np.arange(self.figures["p_grid_w"].size), "bus": self.bus,
                                      "line": self.line})
        for name in FIGURES:
            if name.endswith("_w"):
                ds[name].attrs["units"] = "W"
        ds["v_min_pu"].attrs.update(units="1", long_name=RESULT_VARIABLES["v_pu"][1] + ", lowest bus")
        return ds


DEFAULT_CHUNK = 1024
"""Steps per kernel call for a scale per step; a scale per rack uses chunks of about 2²² rack values (the
rack powers of a chunk, steps × racks, are held while it runs: about 130 MB at 10⁵ racks)."""


def run_dc_series(case, rack_scale, *, on_chunk=None, chunk: int | None = None) -> DCSeriesResult:
    """Solve the DC network of ``case`` at every step of ``rack_scale`` and keep figures and extremes.

    ``rack_scale`` [1]: shape (steps,), every rack's IT power scaled by that factor at that step, or
    (steps, racks), each rack its own factor (rack-table order); finite and ≥ 0. Step k solves
    :meth:`DCSeries.step` at ``p_it_w × rack_scale[k]``, started from the steps before it (a step whose loads
    equal the previous step's repeats its solution: zero iterations, the same numbers). Memory: the figures
    (steps) and extremes (buses + lines), never steps × buses. ``on_chunk(start, stop, figures)`` is called
    after each chunk of steps with that chunk's figures (views: copy what you keep).

    Single-level monopolar networks run in :func:`gigawatt.solver.dc.series_kernel.series_zones` (zones in
    parallel, all steps of a chunk in one call); other cases step :class:`DCSeries` (see the module notes).
    Raises :class:`CaseError` (field ``rack_scale``, naming the step) for bad scales, and
    :class:`ConvergenceError` naming the first step with no solution.
    """
    p_ref = chip_powers(case)
    scale = check_scale(rack_scale, p_ref.size)
    series = DCSeries(case)
    steps = scale.shape[0]
    if chunk is None:
        chunk = DEFAULT_CHUNK if scale.ndim == 1 else max(1, 2 ** 22 // max(p_ref.size, 1))
    fast = not series.bipolar and len(series.net.zones.levels) == 1 and not (series.net.feeds.input_bus >= 0).any()
    runner = _KernelRun(series, scale, p_ref) if fast else _StepRun(series, scale, p_ref)
    figures = {name: np.zeros(steps, dtype=np.int64 if name in ("v_min_bus", "iterations") else float)
               for name in FIGURES}
    for start in range(0, steps, max(1, int(chunk))):
        stop = min(steps, start + max(1, int(chunk)))
        runner.run(start, stop, {name: a[start:stop] for name, a in figures.items()})
        if on_chunk is not None:
            on_chunk(start, stop, {name: a[start:stop] for name, a in figures.items()})
    return DCSeriesResult(figures, *runner.extremes(), case.tables["bus"]["id"].to_numpy(),
                          case.tables["line"]["id"].to_numpy())


def check_scale(rack_scale, n_racks: int) -> np.ndarray:
    """``rack_scale`` as a float array (steps,) or (steps, racks) of finite values ≥ 0, else a CaseError
    naming the field and the first bad step."""
    s = np.asarray(rack_scale, dtype=float)
    if s.ndim not in (1, 2) or s.shape[0] < 1 or (s.ndim == 2 and s.shape[1] != n_racks):
        raise CaseError(f"rack scale of shape {s.shape}", field="rack_scale",
                        allowed=f"(steps,) or (steps, {n_racks}) with steps >= 1")
    bad = ~(np.isfinite(s) & (s >= 0))
    if bad.any():
        k = int(np.flatnonzero(bad.reshape(s.shape[0], -1).any(axis=1))[0])
        row = s.reshape(s.shape[0], -1)[k]
        j = int(np.flatnonzero(~(np.isfinite(row) & (row >= 0)))[0])
        raise CaseError("rack scale must be finite and not negative",
                        element=f"step {k}" + (f", rack {j}" if s.ndim == 2 else ""), field="rack_scale",
                        value=float(row[j]), allowed="[0, inf)")
    return s


def _p_it(scale: np.ndarray, p_ref: np.ndarray, k: int) -> np.ndarray:
    return p_ref * scale[k]


class _StepRun:
    """Any case, one :meth:`DCSeries.step` a step; extremes reduced in NumPy."""

    def __init__(self, series: DCSeries, scale, p_ref):
        self.series, self.scale, self.p_ref = series, scale, p_ref
        net = series.net
        self.v_min = np.full(len(series.case.tables["bus"]), np.inf)
        self.v_step = np.full(self.v_min.size, -1, dtype=np.int64)
        self.i_max = np.where(net.line_in_service, -np.inf, np.nan)
        self.i_step = np.full(self.i_max.size, -1, dtype=np.int64)
        self.bus_row = {b: i for i, b in enumerate(series._bus_ids)}

    def run(self, start, stop, out):
        for k in range(start, stop):
            st = self.series.step(_p_it(self.scale, self.p_ref, k))
            j = k - start
            for name in FIGURES:
                out[name][j] = self.bus_row[st.v_min_bus] if name == "v_min_bus" else getattr(st, name)
            lower = st.v_pu < self.v_min
            self.v_min[lower], self.v_step[lower] = st.v_pu[lower], k
            i = np.abs(st.line_i_a)
            higher = i > self.i_max
            self.i_max[higher], self.i_step[higher] = i[higher], k

    def extremes(self):
        return self.v_min, self.v_step, np.where(self.i_step >= 0, self.i_max, np.nan), self.i_step


RACK_TYPE_FIELDS = ("p_it_w", "vrm_efficiency", "shelf_loss_model", "shelf_rated_power_w", "shelf_v_out_v")
"""Racks equal in these fields draw the same power at the same scale: with one scale per step their loads are
computed once per type (a campus has a handful), not once per rack."""


MAX_PATTERN_RACKS = 16
"""Buses with more racks than this are not grouped by pattern (:func:`rack_patterns`)."""


def rack_patterns(zone, n_zone, bus_rack_ptr, rack_type):
    """The buses' patterns of racks (each bus's sequence of rack types, in its rack order), numbered zone by
    zone: ``bus_pattern`` (buses), ``pattern_ptr`` and ``pattern_type`` (CSR: each pattern's rack types) and
    ``zone_pattern_ptr`` (``n_zone`` + 1). ``zone``: each bus's zone (ascending: a zone's buses are contiguous).
    Where patterns would not be fewer than half the buses (a scale per rack, or buses with more than
    :data:`MAX_PATTERN_RACKS` racks), each bus is its own pattern."""
    n_bus, counts = bus_rack_ptr.size - 1, np.diff(bus_rack_ptr)
    widest = int(counts.max(initial=0))
    if widest <= MAX_PATTERN_RACKS:
        keys = np.full((n_bus, 1 + widest), -1, dtype=np.int64)
        keys[:, 0] = zone
        bus_of_rack = np.repeat(np.arange(n_bus), counts)
        keys[bus_of_rack, 1 + np.arange(rack_type.size) - bus_rack_ptr[bus_of_rack]] = rack_type
        unique, bus_pattern = _unique_rows(keys, n_zone, int(rack_type.max(initial=-1)) + 2)  # sorted: zone first
        if unique.shape[0] <= n_bus // 2:
            types = unique[:, 1:]
            pattern_ptr = np.r_[0, np.cumsum((types >= 0).sum(axis=1))]
            zone_pattern_ptr = np.searchsorted(unique[:, 0], np.arange(n_zone + 1))
            return bus_pattern.ravel().astype(np.int64), pattern_ptr, types[types >= 0], zone_pattern_ptr
    return np.arange(n_bus), bus_rack_ptr, rack_type, np.searchsorted(zone, np.arange(n_zone + 1))



def _unique_rows(keys, n_zone, base):
    """``numpy.unique(keys, axis=0, return_inverse=True)`` of rows (zone, then rack types >= -1, each < base - 1):
    each row as one integer in mixed radix (the zone, then each type + 1 in base ``base``), whose order is the rows'
    lexicographic order, where that fits in 63 bits (a campus: a few types, a few racks a bus); else NumPy's.
    (NumPy's unique of rows sorts each row as one opaque record: 150 ms against 1.3 ms at 10^5 buses.)"""
    width = keys.shape[1] - 1
    if n_zone * float(base) ** width < 2.0 ** 62:
        code = keys[:, 0].copy()
        for j in range(1, width + 1):
            code = code * base + (keys[:, j] + 1)
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        return keys[first], inverse
    return np.unique(keys, axis=0, return_inverse=True)

class _KernelRun:
    """Single-level monopolar networks: :func:`~gigawatt.solver.dc.series_kernel.series_zones` per chunk."""

    def __init__(self, series: DCSeries, scale, p_ref):
        net, case = series.net, series.case
        self.series, self.scale, self.net = series, scale, net
        racks = case.tables["rack"]
        if scale.ndim == 1:  # one type per distinct rack
            rack_type = racks.groupby(list(RACK_TYPE_FIELDS), dropna=False, sort=False).ngroup().to_numpy()
            rep = np.unique(rack_type, return_index=True)[1]
        else:
            rack_type, rep = np.arange(len(racks)), np.arange(len(racks))
        self.rep, self.p_ref_t = rep, p_ref[rep]
        self.count = np.bincount(rack_type, minlength=rep.size).astype(float)
        self.rack_powers = RackPowers(case, rep)
        # Racks, feeds and in-service lines grouped by zone (stable: racks keep their order on each bus).
        n_zone = net.zones.start.size
        order = np.argsort(net.rack_bus, kind="stable")  # by bus position, rack-table order on each bus
        self.bus_rack_ptr = np.searchsorted(net.rack_bus[order], np.arange(net.n_bus + 1))
        self.rack_type = rack_type[order].astype(np.int64)
        f = net.feeds
        self.feed_order = np.argsort(net.zone[f.bus], kind="stable")
        self.feed_back = np.argsort(self.feed_order)
        fo = self.feed_order
        self.feed_ptr = np.searchsorted(net.zone[f.bus][fo], np.arange(n_zone + 1))
        rated_bus = np.bincount(f.bus[f.stiff], weights=f.rated[f.stiff], minlength=net.n_bus)[f.bus]
        self.feeds = (f.bus[fo], f.stiff[fo], f.k_droop[fo], f.v_set[fo], f.rated[fo], rated_bus[fo])
        live = np.flatnonzero(net.line_in_service)
        # A line that alone joins a bus to its parent (the common case) is followed at its bus position, in the
        # kernel's pass over the buses; links and parallel lines at their own pass (line_list).
        child = np.maximum(net.line_from[live], net.line_to[live])
        per_child = np.bincount(child, minlength=net.n_bus)
        alone = (per_child[child] == 1) & (net.tree_line[child] == live)
        self.tree_line_pos = child[alone]  # positions whose parent line is followed there
        self.tree_r = np.full(net.n_bus, np.nan)
        self.tree_r[child[alone]] = net.line_r[live[alone]]
        self.tree_dv_max = np.full(net.n_bus, np.inf)  # [V] |ΔV| at each such line's largest current so far
        self.tree_dv_max[child[alone]] = -1.0
        self.tree_imax = np.full(net.n_bus, -1.0)
        self.tree_imax_step = np.full(net.n_bus, -1, dtype=np.int64)
        rest = live[~alone]
        lorder = np.lexsort((net.line_from[rest], net.zone[net.line_from[rest]]))  # by zone, then position
        self.line_list = rest[lorder]
        self.line_ptr = np.searchsorted(net.zone[net.line_from[self.line_list]], np.arange(n_zone + 1))
        self.p_load = np.zeros(net.n_bus)
        self.patterns = rack_patterns(net.zone, n_zone, self.bus_rack_ptr, self.rack_type)
        zn = net.zones  # the zones without links by blocks of series_newton.tree_blocks
        per_zone = [tree_blocks(net.up, zn.start[z], zn.end[z]) if zn.link_start[z] == zn.link_end[z]
                    else np.zeros((0, 3), np.int64) for z in range(n_zone)]
        self.blocks = np.concatenate(per_zone)
        self.block_ptr = np.cumsum([0] + [b.shape[0] for b in per_zone])
        self.bus_vmin = np.full(net.n_bus, np.inf)
        self.bus_vmin_step = np.full(net.n_bus, -1, dtype=np.int64)
        self.line_imax = np.full(net.line_r.size, -1.0)
        self.line_imax_step = np.full(net.line_r.size, -1, dtype=np.int64)

    def rack_loads(self, start, stop):
        """IT power, input power, shelf and regulator losses [W] per (step, rack type), as
        :func:`gigawatt.solver.dc.assembly.rack_powers` computes them."""
        s = self.scale[start:stop]
        p_it = s[:, None] * self.p_ref_t[None, :] if s.ndim == 1 else s * self.p_ref_t[None, :]
        return (p_it, *self.rack_powers(p_it))

    def run(self, start, stop, out):
        from gigawatt.solver.dc.series_kernel import series_zones

        net, series, zn = self.net, self.series, self.net.zones
        try:
            p_it, p_in, shelf, vrm = self.rack_loads(start, stop)
        except CaseError as err:
            raise err.located(element=f"steps {start}–{stop - 1}, {err.element}") from None
        m, n_zone, n_feed = stop - start, zn.start.size, net.feeds.bus.size
        status, iterations = np.zeros((m, n_zone), np.int64), np.zeros((m, n_zone), np.int64)
        worst, load, loss, vmin_pu = (np.zeros((m, n_zone)) for _ in range(4))
        vmin_row = np.zeros((m, n_zone), np.int64)
        feed_p, feed_v = np.zeros((m, n_feed)), np.zeros((m, n_feed))
        settings = series.settings
        with PARALLEL_KERNELS:  # a prange kernel: one Python thread in it at a time
            series_zones(zn.start, zn.end, zn.link_start, zn.link_end, zn.v_nominal, zn.g_max, net.parent, net.up,
                         net.g_parent, net.g_couple, net.link_a, net.link_b, net.link_g, net.fixed, net.v_start,
                         net.k_droop, net.kv_droop, settings["tolerance"], settings["max_iterations"],
                         self.bus_rack_ptr, self.rack_type, p_in, np.ascontiguousarray(p_in.T), self.feed_ptr,
                         *self.feeds, self.line_ptr, self.line_list, net.line_from, net.line_to, net.line_r,
                         net.v_nominal, net.bus_row, start,
                         series.v, series.v_prev, series.load_hist, self.p_load, series._i_fixed, *series._work, status,
                         iterations, worst, load, loss, vmin_pu, vmin_row, feed_p, feed_v, self.bus_vmin,
                         self.bus_vmin_step, self.line_imax, self.line_imax_step, self.tree_r, self.tree_dv_max,
                         self.tree_imax, self.tree_imax_step, self.blocks, self.block_ptr, *self.patterns)
        failed = np.flatnonzero((status != STATUS_CONVERGED).any(axis=1))
        if failed.size:
            k = int(failed[0])
            p_step = chip_powers(self.series.case) * self.scale[start + k]
            raise series.nose_error(p_step, start + k)
        f = net.feeds
        feed_p, feed_v = feed_p[:, self.feed_back], feed_v[:, self.feed_back]
        feed_loss = loss_by_model(series.case.loss_models, np.tile(f.loss_model, m), feed_p.ravel(), feed_v.ravel(),
                                  np.tile(f.rated, m), "feed", np.tile(f.ids, m)).reshape(m, n_feed)
        counts = self.count
        stages = [feed_loss.sum(axis=1), loss.sum(axis=1), np.zeros(m), shelf @ counts, vrm @ counts]
        for name, values in ledger((feed_p + feed_loss).sum(axis=1), p_it @ counts, stages).items():
            out[name][:] = values
        best = vmin_pu.min(axis=1)
        out["v_min_pu"][:] = best
        out["v_min_bus"][:] = np.where(vmin_pu == best[:, None], vmin_row, np.iinfo(np.int64).max).min(axis=1)
        out["iterations"][:] = iterations.max(axis=1)
        out["max_mismatch_a"][:] = worst.max(axis=1)
        series.steps_done = stop

    def extremes(self):
        net, at = self.net, self.tree_line_pos
        line = net.tree_line[at]
        self.line_imax[line], self.line_imax_step[line] = self.tree_imax[at], self.tree_imax_step[at]
        v_min = self.bus_vmin[net.pos] / (net.v_nominal[net.pos])
        i_max = np.where(self.line_imax_step >= 0, self.line_imax, np.nan)
        return v_min, self.bus_vmin_step[net.pos], i_max, self.line_imax_step
