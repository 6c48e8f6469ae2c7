"""DC load flow, level by level: converters' output zones first, then the zones that feed them."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd

from numba import njit

from gigawatt.errors import ConvergenceError
from gigawatt.models.converter_losses import loss_by_model
from gigawatt.solver.dc.assembly import Network, line_resistance, with_line_resistance
from gigawatt.solver.dc.kernel import (PARALLEL_MIN_BUSES, STATUS_CONVERGED, STATUS_MAX_ITERATIONS, STATUS_NAMES,
                                      branch_currents, newton_zones, newton_zones_serial)
from gigawatt.solver.dc.ratings import case_line_ratings, line_temperatures
from gigawatt.solver.numerics.iteration_limit import iteration_limit_error, nose_iteration_cap
from gigawatt.solver.numerics.parallel import PARALLEL_KERNELS

# Solves from several threads take turns at parallel kernels (gigawatt.solver.numerics.parallel: one lock for
# every parallel kernel of the process).
_PARALLEL_KERNELS = PARALLEL_KERNELS


@dataclass
class DCState:
    """Solution in solver positions, plus what every feed delivers."""

    v: np.ndarray  # [V] per position
    p_load: np.ndarray  # [W] constant-power load per position (racks + converter inputs)
    line_i: np.ndarray  # [A] per line-table row, from → to (NaN out of service)
    feed_p: np.ndarray  # [W] output power of each feed
    feed_loss: np.ndarray  # [W]
    iterations: int
    max_mismatch_a: float


def _workspace(net: Network) -> tuple:
    """Scratch arrays of the kernel, allocated once per solve: (4 × n work, n-long ring scratch or empty)."""
    return np.empty((4, net.n_bus)), np.zeros(net.n_bus if net.link_a.size else 0)


def _solve_zones(net: Network, v, p_load, z0, z1, settings, i_fixed, work, threads: bool = True, out=None):
    """Run the kernel on zones z0..z1-1; returns per-zone (status, iterations, worst mismatch, worst bus,
    load [W], line loss [W]). ``threads``: the zones may be solved in parallel (large levels only). ``out``: the
    six arrays over all zones (:func:`zone_outputs`) to write them into (views of them are returned)."""
    zn = net.zones
    if out is None:
        out = zone_outputs(zn.start.size)
    parallel = threads and z1 - z0 > 1 and zn.end[z1 - 1] - zn.start[z0] >= PARALLEL_MIN_BUSES  # small: serial
    kernel = newton_zones if parallel else newton_zones_serial
    with _PARALLEL_KERNELS if parallel else nullcontext():
        kernel(z0, z1, zn.start, zn.end, zn.link_start, zn.link_end, zn.v_nominal, zn.g_max, net.parent, net.up,
               net.g_parent, net.g_couple, net.link_a, net.link_b, net.link_g, net.fixed, v, p_load, net.k_droop,
               net.kv_droop, settings["tolerance"], settings["max_iterations"], i_fixed, *work, *out)
    return tuple(a[z0:z1] for a in out)


def zone_outputs(k: int) -> tuple:
    """The kernel's per-zone outputs for ``k`` zones (:func:`_solve_zones`)."""
    return np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k), np.zeros(k, np.int64), np.zeros(k), np.zeros(k)


def feed_powers(net: Network, v: np.ndarray, i_fixed: np.ndarray, zone_draw: np.ndarray, sel: np.ndarray
                ) -> np.ndarray:
    """Output power [W] of the feeds ``sel`` (indices).

    Droop feeds follow their law. Stiff feeds together deliver what their zone draws (``zone_draw`` [W], per
    zone in solve order: its loads plus its line losses) minus what its droop feeds give. That total is
    split among them by their current balances ``i_fixed`` [A] (what each stiff bus needs beyond any droop
    feed there), with the rounding-level remainder shared by rating. Taking the total from the loads and
    losses, not from the currents into each stiff bus, keeps the ledger exact where a large conductance
    carries a tiny voltage drop, whose current is known only to eps·V/ΔV (:func:`_feed_powers`).
    """
    f = net.feeds
    bus = f.bus[sel]
    out = np.empty(bus.size)
    _feed_powers(bus, f.k_droop[sel], f.v_set[sel], f.stiff[sel], f.rated[sel], net.zone[bus], v, i_fixed, zone_draw,
                 out)
    return out


@njit(cache=True)
def _feed_powers(bus, k, v_set, stiff, rated, zone, v, i_fixed, zone_draw, out):
    """:func:`feed_powers` of feeds on buses ``bus`` (positions) in zones ``zone``, with droop gains ``k`` [W/V],
    set-points ``v_set`` [V], ``stiff`` flags and ratings ``rated`` [W], into ``out`` [W].

    A zone fed by droop feeds alone: what they deliver by their law misses the zone's draw by the load flow's
    residual (at light load, relative to the draw, up to the tolerance times rated over load). That residual
    is a common voltage offset dv of the zone, which moves each feed by k dv: it is shared by k so the feeds
    deliver exactly the draw (the correction is within the solver's tolerance). Stiff feeds on one bus share
    its balance by rating; the estimate of each is then v·i_fixed·share, and the zone's remainder is shared by
    rating. Every sum runs in feed order (as ``numpy.bincount``)."""
    n, n_zone = bus.size, zone_draw.size
    droop_zone, k_zone = np.zeros(n_zone), np.zeros(n_zone)
    stiff_zone = np.zeros(n_zone, np.bool_)
    any_stiff = False
    for i in range(n):
        out[i] = k[i] * (v_set[i] - v[bus[i]])
    for i in range(n):
        if stiff[i]:
            stiff_zone[zone[i]] = True
            any_stiff = True
        else:
            droop_zone[zone[i]] += out[i]
            k_zone[zone[i]] += k[i]
    for i in range(n):
        z = zone[i]
        if stiff[i]:
            out[i] = 0.0
        else:
            dv = (zone_draw[z] - droop_zone[z]) / k_zone[z] if not stiff_zone[z] and k_zone[z] > 0 else 0.0
            out[i] = out[i] + k[i] * dv
    if not any_stiff:
        return
    rated_bus = np.zeros(v.size)
    estimate_zone, rated_zone = np.zeros(n_zone), np.zeros(n_zone)
    for i in range(n):
        if stiff[i]:
            rated_bus[bus[i]] += rated[i]
    for i in range(n):
        if stiff[i]:
            b = bus[i]
            e = v[b] * i_fixed[b] * rated[i] / (rated_bus[b] if rated_bus[b] > 0 else 1.0)
            out[i] = e
            estimate_zone[zone[i]] += e
            rated_zone[zone[i]] += rated[i]
    for i in range(n):
        if stiff[i]:
            z = zone[i]
            remainder = (zone_draw[z] - droop_zone[z]) - estimate_zone[z]
            out[i] = out[i] + remainder * rated[i] / (rated_zone[z] if rated_zone[z] > 0 else 1.0)


def line_currents(net: Network, v: np.ndarray) -> np.ndarray:
    """Current [A] of every in-service line, positive from ``from_bus`` to ``to_bus`` (NaN out of service)."""
    return branch_currents(net.line_from, net.line_to, net.line_r, v)


def warm_start_voltages(net: Network, case, v_by_bus) -> np.ndarray:
    """Starting voltages [V] in solver positions from ``v_by_bus`` (a ``pandas.Series`` of volts indexed by
    bus id, e.g. an earlier solve's ``v_v``): buses it does not name (or names with NaN), and buses held by a
    stiff source, start at ``net.v_start`` (their set-points)."""
    rows = pd.Index(v_by_bus.index).get_indexer(case.tables["bus"]["id"].to_numpy(object))
    v_row = np.where(rows >= 0, np.asarray(v_by_bus, float)[np.maximum(rows, 0)], np.nan)
    v = net.v_start.copy()
    v[net.pos] = np.where(np.isfinite(v_row) & (v_row > 0), v_row, v[net.pos])
    return np.where(net.fixed, net.v_start, v)


def solve_dc(net: Network, case, *, settings: dict, v_start: np.ndarray | None = None, threads: bool = True
             ) -> DCState:
    """Solve every level; raise :class:`ConvergenceError` with the maximum transferable power if a level
    is beyond the nose of its P–V curve. ``v_start`` [V]: starting voltages in solver positions (default
    ``net.v_start``, the set-points; :func:`warm_start_voltages` makes them from an earlier solve).
    ``threads``: large levels' zones may be solved in parallel; False while another thread of the solve is busy
    (a :class:`~gigawatt.solver.dc.case_figures.CaseFigures` worker): the zones are then solved one after
    another, with the GIL released, so the two threads share the two cores instead of three threads (same
    numbers: the same arithmetic per zone)."""
    v = (net.v_start if v_start is None else v_start).copy()
    p_load = net.rack_load.copy()
    f = net.feeds
    feed_p = np.zeros(f.bus.size)
    feed_loss = np.zeros(f.bus.size)
    iterations, worst = 0, 0.0
    i_fixed = np.zeros(net.n_bus)
    work = _workspace(net)
    zone_draw = np.zeros(net.zones.start.size)
    for _, z0, z1 in net.zones.levels:
        b0, b1 = net.zones.start[z0], net.zones.end[z1 - 1]
        status, its, mis, worst_bus, load, loss = _solve_zones(net, v, p_load, z0, z1, settings, i_fixed, work,
                                                               threads)
        zone_draw[z0:z1] = load + loss
        failed = np.flatnonzero(status != STATUS_CONVERGED)
        if failed.size:
            z = z0 + int(failed[0])
            raise nose_error(net, case, v, p_load, z, settings, int(status[failed[0]]), int(worst_bus[failed[0]]),
                             work, mismatch_a=float(mis[failed[0]]))
        iterations, worst = iterations + int(its.max()), max(worst, float(mis.max()))
        deliver_level(net, case, v, i_fixed, zone_draw, b0, b1, feed_p, feed_loss, p_load)
    return DCState(v, p_load, line_currents(net, v), feed_p, feed_loss, iterations, worst)


THERMAL_TOLERANCE_K = 1e-3
"""The conductor temperatures from the load are iterated until no line's moves by more than this [K]."""
THERMAL_MAX_ITERATIONS = 100


def solve_dc_thermal(net: Network, case, *, settings: dict) -> tuple[Network, DCState, np.ndarray]:
    """``solve_dc`` with each rated line's conductor temperature from its own current (``[solver]
    conductor_temperature = "from_load"``): θ = θ_amb + (θ_max − θ_amb)·(I/I_z)² (IEC 60287-1-1 at fixed
    thermal resistance; :func:`gigawatt.models.ampacity.conductor_temperature_from_load`), its resistance R(θ)
    from it, solved again until the temperatures stand still (a fixed point; a few load flows).

    Returns the network at the final resistances, its state and the temperatures [K] per line-table row.
    Unrated lines and lines with a given ``r_ohm`` keep their ``conductor_temp_k``.
    """
    lines = case.tables["line"]
    live = net.line_in_service
    rating, _ = case_line_ratings(case)
    temp = lines["conductor_temp_k"].to_numpy(float)
    st = solve_dc(net, case, settings=settings)
    for _ in range(THERMAL_MAX_ITERATIONS):
        new = line_temperatures(lines, st.line_i, rating)
        moved = float(np.max(np.abs(new - temp)[live], initial=0.0))
        temp = new
        r = np.full(len(lines), np.nan)
        r[live] = line_resistance(lines[live].assign(conductor_temp_k=temp[live]))
        net = with_line_resistance(net, r)
        st = solve_dc(net, case, settings=settings)
        if moved <= THERMAL_TOLERANCE_K:
            return net, st, temp
    worst = int(np.argmax(np.where(live, np.abs(line_temperatures(lines, st.line_i, rating) - temp), -1.0)))
    raise ConvergenceError(
        f"the conductor temperatures from the load do not settle in {THERMAL_MAX_ITERATIONS} passes; line "
        f"'{lines['id'].iloc[worst]}' carries {abs(st.line_i[worst]):.0f} A against its rating of "
        f"{rating[worst]:.0f} A (far above it, R(θ) and θ(I) run away)",
        details={"line": lines["id"].iloc[worst], "current_a": float(abs(st.line_i[worst])),
                 "rating_a": float(rating[worst])})


def level_feeds(net: Network, b0: int, b1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feeds on buses b0..b1-1 (indices), each one's code into the distinct loss-model names, and those
    names (as :func:`~gigawatt.models.converter_losses.loss_by_model` takes them): what :func:`deliver_level`
    needs of a level, fixed for a network (a time series finds it once, not at every step)."""
    f = net.feeds
    sel = np.flatnonzero((f.bus >= b0) & (f.bus < b1))
    code, names = pd.factorize(f.loss_model[sel])
    return sel, code, names


def deliver_level(net: Network, case, v, i_fixed, zone_draw, b0: int, b1: int, feed_p, feed_loss, p_load,
                  feeds=None) -> None:
    """What the feeds of the level on buses b0..b1-1 deliver and lose [W] (into ``feed_p``, ``feed_loss``), and
    the converter inputs it asks of the level above (added to ``p_load``). ``feeds``: the level's
    :func:`level_feeds` if already known."""
    f = net.feeds
    sel, code, names = level_feeds(net, b0, b1) if feeds is None else feeds
    feed_p[sel] = feed_powers(net, v, i_fixed, zone_draw, sel)
    feed_loss[sel] = loss_by_model(case.loss_models, names, feed_p[sel], v[f.bus[sel]], f.rated[sel],
                                   "feed", f.ids[sel], code=code)
    conv = sel[f.input_bus[sel] >= 0]
    np.add.at(p_load, f.input_bus[conv], feed_p[conv] + feed_loss[conv])


def nose_error(net: Network, case, v, p_load, z, settings, status, worst_i, work, *, mismatch_a=float("nan")
               ) -> ConvergenceError:
    """Explain why zone ``z`` did not converge (``status`` from the kernel, ``mismatch_a`` [A] left at bus
    position ``worst_i``).

    Stopped at ``solver.max_iterations``: the zone is solved again from its set-points under
    :func:`~gigawatt.solver.numerics.iteration_limit.nose_iteration_cap` iterations; if that converges, the
    cap was the cause (:func:`~gigawatt.solver.numerics.iteration_limit.iteration_limit_error`). Otherwise
    bisect on a uniform scaling of the zone's loads, under that same cap, for the largest load its network
    carries, and explain which bus and feeder limit it."""
    b0, b1 = net.zones.start[z], net.zones.end[z]
    bus_ids = case.tables["bus"]["id"].to_numpy()
    f = net.feeds
    feeds = f.ids[(f.bus >= b0) & (f.bus < b1)]
    fed_by = ", ".join(f"'{x}'" for x in feeds[:4]) + (f" and {feeds.size - 4} more" if feeds.size > 4 else "")
    bisect = {**settings, "max_iterations": nose_iteration_cap(settings)}
    if status == STATUS_MAX_ITERATIONS and np.isfinite(mismatch_a):  # (not a step that overflowed)
        trial = net.v_start.copy()
        st, its = _solve_zones(net, trial, p_load, z, z + 1, bisect, np.zeros(net.n_bus), work)[:2]
        if st[0] == STATUS_CONVERGED:
            return iteration_limit_error(
                f"DC load flow of the {net.v_nominal[b0]:.0f} V network fed by {fed_by}", settings["max_iterations"],
                mismatch_a, f" at bus '{bus_ids[net.bus_row[worst_i]]}'", int(its[0]),
                details={"bus": bus_ids[net.bus_row[worst_i]]})
    total = float(p_load[b0:b1].sum())
    lo, hi = 0.0, 1.0
    v_lo = net.v_start.copy()
    while hi - lo > settings["nose_tolerance"] * hi:
        mid = 0.5 * (lo + hi)
        trial_load = p_load.copy()
        trial_load[b0:b1] *= mid
        trial = v_lo.copy()
        st = _solve_zones(net, trial, trial_load, z, z + 1, bisect, np.zeros(net.n_bus), work)[0][0]
        if st == STATUS_CONVERGED:
            lo, v_lo = mid, trial
        else:
            hi = mid
    vpu = v_lo[b0:b1] / net.v_nominal[b0:b1]
    weak = b0 + int(np.argmin(vpu)) if lo > 0 else worst_i
    # The line to strengthen: on the weak bus's path to its source, the one with the largest voltage drop.
    path = [weak]
    while net.parent[path[-1]] >= 0 and not net.fixed[path[-1]]:
        path.append(net.parent[path[-1]])
    drops = [v_lo[net.parent[b]] - v_lo[b] for b in path[:-1]]
    feeder = net.tree_line[path[int(np.argmax(drops))]] if drops else -1
    lines = case.tables["line"]["id"].to_numpy()
    weak_id = bus_ids[net.bus_row[weak]]
    feeder_txt = (f", fed from bus '{bus_ids[net.bus_row[path[-1]]]}' through line '{lines[feeder]}' (the largest "
                  f"voltage drop on that path)" if feeder >= 0 else "")
    if lo > 0:
        msg = (f"no DC load-flow solution ({STATUS_NAMES[status]}): the loads of the {net.v_nominal[b0]:.0f} V "
               f"network fed by {fed_by} ask {total / 1e6:.6g} MW, but it carries at most {lo * total / 1e6:.6g} MW "
               f"({100 * lo:.4g} % of it) before its voltage collapses (the nose of the P–V curve). Weakest bus "
               f"'{weak_id}' ({vpu.min():.3f} pu at that limit){feeder_txt}. Reduce the load there or strengthen "
               f"that feeder.")
    else:
        msg = (f"no DC load-flow solution ({STATUS_NAMES[status]}) for the network fed by {fed_by}, even at a "
               f"small fraction of its load; the worst mismatch is at bus '{weak_id}'{feeder_txt}.")
    return ConvergenceError(msg, partial={"v_v": v_lo[net.pos], "load_scale": lo},
                            details={"bus": weak_id, "feeder": lines[feeder] if feeder >= 0 else None,
                                     "max_power_w": lo * total, "asked_power_w": total, "load_scale": lo})
