"""The report's figures other than the Sankey diagram: each function takes a results dataset and returns a
matplotlib ``Figure``, or raises :class:`Skip` saying which data it lacks.

Variables each figure reads (the names a results builder must produce for the figure to appear):

- fault currents along the feeders (a fault study, ``gigawatt faults``): ``i_p_a``, ``i_k_a`` (bus,
  fault_type), ``line_from_bus``, ``line_to_bus``, ``line_length_m`` (line), ``source_bus`` (source), every bus
  the lines join faulted;
- voltage profiles: ``v_pu`` (bus), ``v_v`` (bus), ``line_from_bus``, ``line_to_bus``, ``line_length_m``
  (line), and the sources' buses from ``source_bus`` (source) or, when absent, the buses whose voltage is a
  source's ``source_v_v``; with a ``time`` dimension, the step of the lowest voltage is drawn;
- temperatures: ``t_chip_k`` (rack), ``cdu_t_hot_in_k`` and ``cdu_t_facility_out_k`` (cooling_loop),
  attributes ``t_tcs_supply_k`` and ``chip_t_max_k`` when present; with ``time``, the hottest step;
- district heating: ``dh_consumer_t_supply_k``, ``dh_consumer_q_w``, ``dh_consumer_demand_w``
  (dh_consumer), ``dh_consumer_kind`` when present (else one bar per consumer up to ``MAX_BARS``, beyond
  that each consumer's heat sorted by demand);
- time series (coordinate ``time``, datetime64, a regular or irregular step): ``q_available_w`` (heat the
  campus offers), ``dh_q_demand_w`` (network demand), ``dh_q_delivered_w`` and ``q_recovered_w``; each a
  data variable of dimension ``time`` only [W];
- sweeps (dimension ``scenario``; each swept field a coordinate along it, e.g. ``campus.rack_it_power_kw``):
  ``efficiency_grid_to_chip``, ``pue``, ``erf``, ``p_grid_w`` as data variables along ``scenario``
  (a ``time`` dimension too is reduced: powers to their means, ratios to ratios of sums when
  ``p_it_w``/``p_grid_w``/``p_facility_w``/``q_recovered_w`` are there, else to means);
- contingency analyses (dimension ``outage``, written by ``gigawatt contingency``): ``rank``,
  ``racks_unsupplied``, ``racks_over_limit``, ``v_min_pu``, ``single_point_of_failure`` along ``outage``.
"""
from __future__ import annotations

import numpy as np

C0 = 273.15  # K at 0 °C
MAX_PROFILES = 300  # feeder lines drawn at most (the lowest voltages first, then evenly spread)
MAX_BARS = 30


class Skip(Exception):
    """A figure the dataset has no data for; the message says what is missing."""


def _need(ds, *names):
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise Skip(f"no {', '.join(missing)} in the results")


def _figure(*, ncols=1, size=(9.0, 5.0)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def histogram_edges(values) -> np.ndarray:
    """Bin edges of a histogram of ``values`` (finite): numpy's ``'auto'`` rule (the larger count of the
    Freedman–Diaconis and Sturges rules), so a spread of 0.15 K over 768 racks gets bins of a few hundredths
    of a kelvin, not two bars. Values all equal (to round-off) get one bin 0.1 wide around them."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1.0):
        return np.array([lo - 0.05, hi + 0.05])
    return np.histogram_bin_edges(values, bins="auto")


def _histogram(ax, values, color):
    """A histogram (:func:`histogram_edges`) with plain tick labels (no offset)."""
    v = values[np.isfinite(values)]
    if not v.size:
        raise Skip("no finite values to draw")
    ax.hist(v, bins=histogram_edges(v), color=color, alpha=0.8)
    ax.ticklabel_format(axis="x", useOffset=False)


def _limit_line(ax, limit: float, label: str) -> None:
    """A vertical limit line at ``limit``: drawn in the axes when it is near the data (the axis widened to
    show it), else an arrow at the right edge saying how far beyond the data it lies."""
    lo, hi = ax.get_xlim()
    if limit <= hi + 2.0 * (hi - lo):
        ax.axvline(limit, color="k", ls="--", lw=1.2, label=label)
        ax.set_xlim(min(lo, limit - 0.05 * (hi - lo)), max(hi, limit + 0.05 * (hi - lo)))
        ax.legend(fontsize=8, loc="upper left")
    else:
        ax.annotate(f"{label} →\n{limit - hi:.1f} K beyond the axis", xy=(1.0, 0.92), xycoords="axes fraction",
                    ha="right", va="top", fontsize=8, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="k"))


def chip_limit_k(ds) -> tuple[float, str] | None:
    """The chips' temperature limit [K] and where it comes from: the results' ``chip_t_max_k`` (attribute or
    0-d variable), else the ``[cooling]`` section of the case file the results name (``case_file``), read
    through the schema (its spellings and default); None when neither is at hand."""
    from gigawatt.report.values import scalar

    t = scalar(ds, "chip_t_max_k", None)
    if t is not None:
        return t, "chip limit"
    path = ds.attrs.get("case_file")
    if not path:
        return None
    import tomllib
    from pathlib import Path

    from gigawatt.cases.schema import validate_settings
    from gigawatt.errors import GigawattError

    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        cooling = validate_settings("cooling", doc.get("cooling", {}) or {}, file=str(path))
    except (OSError, ValueError, GigawattError):  # moved, edited or unreadable: no line rather than a guess
        return None
    t = cooling.get("chip_t_max_k")
    return (float(t), "chip limit (case file)") if t is not None else None


def _at_extreme(ds, name: str, pick) -> tuple:
    """``ds`` at the time step where ``pick`` (np.nanargmin/np.nanargmax) of variable ``name`` occurs, and a
    note saying which step; ``ds`` itself when ``name`` has no ``time`` dimension."""
    if "time" not in ds[name].dims:
        return ds, ""
    other = [d for d in ds[name].dims if d != "time"]
    series = getattr(ds[name], "min" if pick is np.nanargmin else "max")(other).values
    i = int(pick(series))
    t = ds.time.values[i]
    return ds.isel(time=i), f" at {np.datetime_as_string(t, unit='m') if np.issubdtype(t.dtype, np.datetime64) else t}"


# --- electrical ----------------------------------------------------------------------------------------

def feeder_paths(ds, max_paths: int | None = None, key=None):
    """Distance from the nearest source along the lines [m] of every bus fed from the grid, and the bus
    paths from a source to each end of the shortest-path tree (one per row feeder and busway).

    Returns ``(distance_m, paths, n_ends, n_unreached)``: with ``max_paths``, the paths to the ends of the
    lowest ``key`` (per bus; default the voltage ``v_pu``) first and then ends spread evenly over the rest (the
    lowest path first in any case); buses behind DC/DC converters (no line joins them to a source) are not
    reached."""
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    index = pd.Index(ds.bus.values)
    n = index.size
    f = index.get_indexer(ds.line_from_bus.values)
    t = index.get_indexer(ds.line_to_bus.values)
    length = np.asarray(ds.line_length_m.values, float)
    if "source_bus" in ds:
        roots = np.unique(index.get_indexer(ds.source_bus.values))
    else:  # a source's bus carries exactly the source's voltage (the same float: st.v at that bus)
        roots = np.flatnonzero(np.isin(ds.v_v.values, ds.source_v_v.values))
    if not roots.size:
        raise Skip("no source bus found in the results")
    # Zero-length lines still join buses: a tiny length keeps them as edges of the sparse graph.
    graph = coo_matrix((np.maximum(length, 1e-9), (f, t)), shape=(n, n)).tocsr()
    dist, pred, _ = dijkstra(graph, directed=False, indices=roots, min_only=True, return_predecessors=True)
    reached = np.isfinite(dist)
    has_child = np.zeros(n, bool)
    has_child[pred[pred >= 0]] = True
    # Ends of the tree; a source whose neighbours another source reaches first ends no feeder.
    ends = np.flatnonzero(reached & ~has_child & (pred >= 0))
    key = ds.v_pu.values if key is None else np.asarray(key)
    ends = ends[np.argsort(key[ends], kind="stable")]
    if max_paths is not None and ends.size > max_paths:
        k = max_paths // 2
        rest = ends[k:]
        ends = np.concatenate([ends[:k], rest[np.linspace(0, rest.size - 1, max_paths - k).round().astype(int)]])
    n_ends = int((reached & ~has_child & (pred >= 0)).sum())
    paths = []
    for e in ends:
        path = [e]
        while pred[path[-1]] >= 0:
            path.append(pred[path[-1]])
        paths.append(np.array(path[::-1]))
    return dist, paths, n_ends, int((~reached).sum())


def distinct_profiles(dist, values, paths) -> list[tuple[np.ndarray, int]]:
    """Feeder paths grouped by their profile (distances to 1 µm, values to 1e-9 relative): ``[(path,
    count)]`` in the order of ``paths``, one entry per distinct profile with the number of feeders that share
    it (identical rows of a hall draw as one line, and the legend says how many it stands for)."""
    groups: dict[bytes, list] = {}
    scale = float(np.nanmax(np.abs(values))) or 1.0
    for p in paths:
        key = np.round(dist[p], 6).tobytes() + np.round(values[p] / scale, 9).tobytes()
        if key in groups:
            groups[key][1] += 1
        else:
            groups[key] = [p, 1]
    return [(p, n) for p, n in groups.values()]


MAX_LEGEND_PROFILES = 6  # distinct feeder profiles named one by one in the legend; more share one entry


def _draw_profiles(ax, dist, values, groups, unit_fmt, label_end, lead="lowest") -> None:
    """One line per distinct feeder profile: each named in the legend with its count when there are few,
    else the first group (the ``lead``: lowest, largest) in red with its count and the others in blue as one
    legend entry."""
    from matplotlib.collections import LineCollection

    total = sum(n for _, n in groups)
    if len(groups) <= MAX_LEGEND_PROFILES:
        colors = ["#c44e52", "#3b6ea8", "#55a868", "#8172b3", "#d9822b", "#7f7f7f"]
        for (p, n), c in zip(groups, colors):
            ax.plot(dist[p], values[p], color=c, lw=1.6 if c == colors[0] else 1.1,
                    label=f"{_count(n, 'feeder')}: {unit_fmt(values[p[-1]])} at the end ({label_end(p)})")
        return
    half = MAX_PROFILES // 2  # beyond MAX_PROFILES: the first (lowest) half, then the rest evenly spread
    spread = np.linspace(half, len(groups) - 1, MAX_PROFILES - half).round().astype(int)
    drawn = groups if len(groups) <= MAX_PROFILES else groups[:half] + [groups[i] for i in spread]
    ax.add_collection(LineCollection([np.column_stack([dist[p], values[p]]) for p, _ in drawn[1:]],
                                     colors="#3b6ea8", linewidths=0.8, alpha=0.5,
                                     label=f"the other {_count(total - groups[0][1], 'feeder')} "
                                           f"({len(groups) - 1} distinct profiles"
                                           + (f", {len(drawn) - 1} drawn" if len(drawn) < len(groups) else "") + ")"))
    p, n = groups[0]
    ax.plot(dist[p], values[p], color="#c44e52", lw=1.8,
            label=f"{lead} ({_count(n, 'feeder')}): {unit_fmt(values[p[-1]])} at {label_end(p)}")


def voltage_profiles(ds):
    """Per-unit voltage against distance from the source [m], one line per distinct feeder profile (source to
    a feeder's far end; identical feeders drawn once, the legend counting them); the lowest in red."""
    _need(ds, "v_pu", "v_v", "line_from_bus", "line_to_bus", "line_length_m")
    if "source_bus" not in ds:
        _need(ds, "source_v_v")
    ds, when = _at_extreme(ds, "v_pu", np.nanargmin)
    if not ds.sizes.get("line"):
        raise Skip("no lines in the results")
    dist, paths, n_ends, unreached = feeder_paths(ds)
    if not paths:
        raise Skip("no line leaves a source")
    v = ds.v_pu.values
    bus = ds.bus.values
    groups = distinct_profiles(dist, v, paths)
    fig, ax = _figure(size=(9.0, 5.0))
    _draw_profiles(ax, dist, v, groups, lambda x: f"{x:.4f} pu", lambda p: f"bus '{bus[p[-1]]}'")
    ax.set_ylim(*_padded(v[np.isfinite(dist)]))
    return _feeder_axes(fig, ax, dist, n_ends, n_ends, unreached, "voltage [pu of nominal]",
                        f"voltage along the feeders{when}", "lower left")


def pole_voltages(ds):
    """A bipolar (±V with a neutral) network: each pole's voltage to the neutral [pu of the bus's nominal
    pole-to-neutral voltage ``v_nominal_v``, as ``v_pu``] and the neutral's voltage [V] against distance from
    the source, one line per distinct feeder profile; the lowest pole voltage and the neutral's largest
    excursion in red."""
    _need(ds, "v_pos_v", "v_neutral_v", "v_neg_v", "v_nominal_v", "line_from_bus", "line_to_bus", "line_length_m")
    ds, when = _at_extreme(ds, "v_pu", np.nanargmin) if "v_pu" in ds else (ds, "")
    if not ds.sizes.get("line"):
        raise Skip("no lines in the results")
    v_nom = ds.v_nominal_v.values
    pos = (ds.v_pos_v.values - ds.v_neutral_v.values) / v_nom
    neg = (ds.v_neutral_v.values - ds.v_neg_v.values) / v_nom
    neutral = ds.v_neutral_v.values
    dist, paths, n_ends, unreached = feeder_paths(ds, key=np.minimum(pos, neg))
    if not paths:
        raise Skip("no line leaves a source")
    bus = ds.bus.values
    fig, (a1, a2, a3) = _figure(ncols=3, size=(10.4, 4.6))
    end = lambda p: f"'{bus[p[-1]]}'"  # noqa: E731
    for ax, values, what in ((a1, pos, "+ pole to neutral"), (a2, neg, "neutral to − pole")):
        _draw_profiles(ax, dist, values, distinct_profiles(dist, values, paths), lambda x: f"{x:.4f} pu", end)
        ax.set_ylabel(f"{what} [pu of {v_nom.max():.0f} V]", fontsize=8)
    by_excursion = sorted(paths, key=lambda p: -abs(neutral[p[-1]]))
    _draw_profiles(a3, dist, neutral, distinct_profiles(dist, neutral, by_excursion), lambda x: f"{x:+.2f} V", end,
                   lead="largest")
    a3.set_ylabel("neutral voltage [V]", fontsize=8)
    reached = np.isfinite(dist)
    for ax in (a1, a2):
        ax.set_ylim(*_padded(np.concatenate([pos[reached], neg[reached]])))
    a3.set_ylim(*_padded(neutral[reached]))
    for ax, title in ((a1, "+ pole"), (a2, "− pole"), (a3, "neutral")):
        ax.set_xlim(0, np.max(dist[reached]) * 1.02 if np.max(dist[reached]) > 0 else 1)
        ax.set_xlabel("distance from the source [m]", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower left")
    extra = f"; {_count(unreached, 'bus', 'buses')} behind DC/DC converters not shown" if unreached else ""
    fig.suptitle(f"bipolar network: pole and neutral voltages along {_count(n_ends, 'feeder')}{when}{extra}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def _padded(values, rel=0.08, floor=1e-4):
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max(hi - lo, floor) * rel
    return lo - pad, hi + pad


def _feeder_axes(fig, ax, dist, n_paths: int, n_ends: int, unreached: int, ylabel: str, title: str, legend: str):
    """The distance axis, labels, title (with how many feeders are drawn) and legend of a feeder figure."""
    reached = np.isfinite(dist)
    ax.set_xlim(0, np.max(dist[reached]) * 1.02 if np.max(dist[reached]) > 0 else 1)
    ax.set_xlabel("distance from the source along the lines [m]")
    ax.set_ylabel(ylabel)
    n_text = _count(n_ends, "feeder") if n_paths == n_ends else f"{n_paths} of {n_ends} feeders"
    extra = f"; {_count(unreached, 'bus', 'buses')} behind DC/DC converters not shown" if unreached else ""
    ax.set_title(f"{title} ({n_text}{extra})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc=legend, fontsize=8)
    fig.tight_layout()
    return fig


def fault_currents_along_feeders(ds):
    """Peak and quasi steady-state fault current [kA] against distance from the source [m], one line per feeder
    path (source to a feeder's far end), for the fault type of the largest peaks; the path ending in the
    smallest peak drawn in red (the fault the protection must still see). From a fault study
    (``gigawatt faults``): ``i_p_a``, ``i_k_a`` (bus, fault_type) and the line and source echoes."""
    _need(ds, "i_p_a", "i_k_a", "line_from_bus", "line_to_bus", "line_length_m", "source_bus")
    if not ds.sizes.get("line"):
        raise Skip("no lines in the results")
    i_p = ds.i_p_a
    ft = str(ds.fault_type.values[int(np.argmax(np.nanmax(i_p.values, axis=0)))])
    ip, ik = i_p.sel(fault_type=ft), ds.i_k_a.sel(fault_type=ft)
    lines_ds = ds[["line_from_bus", "line_to_bus", "line_length_m", "source_bus"]]
    buses = np.unique(np.concatenate([ds.line_from_bus.values, ds.line_to_bus.values]).astype(str))
    if ds.sizes["bus"] < buses.size:
        raise Skip(f"the fault study covers {ds.sizes['bus']} of the {buses.size} buses the lines join (run "
                   "gigawatt faults without --buses for this figure)")
    import xarray as xr

    net = xr.Dataset({k: lines_ds[k] for k in lines_ds.data_vars}, coords={"bus": ds.bus.values})
    dist, paths, n_ends, unreached = feeder_paths(net, MAX_PROFILES, key=ip.values)
    if not paths:
        raise Skip("no line leaves a source")
    from matplotlib.collections import LineCollection

    fig, ax = _figure(size=(9.0, 5.0))
    kp, kk = ip.values / 1e3, ik.values / 1e3
    ax.add_collection(LineCollection([np.column_stack([dist[p], kp[p]]) for p in paths], colors="#3b6ea8",
                                     linewidths=0.8, alpha=0.5, label="peak i_p"))
    ax.add_collection(LineCollection([np.column_stack([dist[p], kk[p]]) for p in paths], colors="#55a868",
                                     linewidths=0.8, alpha=0.5, linestyles="--", label="quasi steady-state I_k"))
    worst = paths[0]
    bus = ds.bus.values
    ax.plot(dist[worst], kp[worst], color="#c44e52", lw=1.8,
            label=f"smallest peak: {kp[worst[-1]]:.1f} kA at bus '{bus[worst[-1]]}'")
    reached = np.isfinite(dist)
    top = np.nanmax(np.concatenate([kp[reached], kk[reached]]))
    ax.set_ylim(0, top * 1.08 if top > 0 else 1)
    return _feeder_axes(fig, ax, dist, len(paths), n_ends, unreached, "fault current [kA]",
                        f"{ft.replace('_', '-')} fault current along the feeders", "upper right")


# --- cooling -------------------------------------------------------------------------------------------

def temperatures(ds):
    """Histogram of the racks' chip temperatures [°C], and the coolant temperatures by loop: each loop from
    its supply set-point to its return at the CDU, and the facility water leaving the CDU."""
    _need(ds, "t_chip_k", "cdu_t_hot_in_k")
    ds, when = _at_extreme(ds, "t_chip_k", np.nanargmax)
    fig, (a1, a2) = _figure(ncols=2, size=(11.0, 4.6))
    t_chip = ds.t_chip_k.values - C0
    _histogram(a1, t_chip, "#c44e52")
    limit = chip_limit_k(ds)
    if limit is not None:
        _limit_line(a1, limit[0] - C0, f"{limit[1]} {limit[0] - C0:.1f} °C")
    a1.set_xlabel("chip (cold-plate case) temperature [°C]")
    a1.set_ylabel("racks")
    a1.set_title(f"chip temperatures of {_count(t_chip.size, 'rack')}{when}", fontsize=10)
    loops = ds.cooling_loop.values
    x = np.arange(loops.size)
    ret = ds.cdu_t_hot_in_k.values - C0
    sup = np.full(x.size, ds.attrs["t_tcs_supply_k"] - C0) if "t_tcs_supply_k" in ds.attrs else None
    if sup is not None:  # each loop as a bar from its supply to its return temperature
        a2.bar(x, ret - sup, bottom=sup, width=0.7, color="#4c9bd6", alpha=0.35, label="loop: supply → return")
        a2.plot(x, sup, "_", ms=8, color="#3b6ea8", label="supply set-point")
    a2.plot(x, ret, "_", ms=8, color="#c44e52", mew=2, label="return at the CDU")
    if "cdu_t_facility_out_k" in ds:
        a2.plot(x, ds.cdu_t_facility_out_k.values - C0, ".", ms=5, color="#55a868", label="facility water out")
    low = min(np.nanmin(ret), np.nanmin(sup) if sup is not None else np.inf,
              np.nanmin(ds.cdu_t_facility_out_k.values - C0) if "cdu_t_facility_out_k" in ds else np.inf)
    a2.set_ylim(low - 2.0, np.nanmax(ret) + 2.0)
    a2.set_xlabel("cooling loop")
    a2.set_ylabel("temperature [°C]")
    if loops.size <= 24:
        a2.set_xticks(x, [str(s) for s in loops], rotation=60, fontsize=7)
    a2.set_title(f"coolant by loop ({_count(loops.size, 'loop')})", fontsize=10)
    a2.grid(alpha=0.3)
    a2.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- district heating ----------------------------------------------------------------------------------

def dh_supply_temperatures(ds):
    """Histogram of the supply temperature arriving at each consumer's substation."""
    _need(ds, "dh_consumer_t_supply_k")
    ds, when = _at_extreme(ds, "dh_consumer_t_supply_k", np.nanargmin)
    t = ds.dh_consumer_t_supply_k.values - C0
    t = t[np.isfinite(t)]
    if not t.size:
        raise Skip("no district-heating consumers in the results")
    fig, ax = _figure(size=(8.0, 4.5))
    _histogram(ax, t, "#c44e52")
    if "dh_consumer_undersupplied" in ds:
        n_under = int(np.asarray(ds.dh_consumer_undersupplied.values, bool).sum())
        ax.text(0.02, 0.95, f"{n_under} of {t.size} consumers under-supplied", transform=ax.transAxes, va="top",
                fontsize=9)
    ax.set_xlabel("supply temperature at the substation [°C]")
    ax.set_ylabel("consumers")
    ax.set_title(f"district heating: supply temperature at {_count(t.size, 'consumer')}{when}", fontsize=10)
    fig.tight_layout()
    return fig


def dh_heat_by_kind(ds):
    """Heat delivered and demanded by consumer kind (by consumer when the results carry no kinds)."""
    _need(ds, "dh_consumer_q_w", "dh_consumer_demand_w")
    q, demand = ds.dh_consumer_q_w, ds.dh_consumer_demand_w
    note = ""
    if "time" in q.dims:
        q, demand, note = q.mean("time"), demand.mean("time"), " (mean over the time steps)"
    q, demand = q.values, demand.values
    if not q.size:
        raise Skip("no district-heating consumers in the results")
    if "dh_consumer_kind" in ds:
        labels = ds.dh_consumer_kind.values.astype(str)
    elif q.size <= MAX_BARS:
        labels = ds.dh_consumer.values.astype(str)
    else:
        return _dh_heat_sorted(q, demand, note)
    groups = list(dict.fromkeys(labels))
    got = np.array([q[labels == g].sum() for g in groups])
    want = np.array([demand[labels == g].sum() for g in groups])
    from gigawatt.report.sankey import format_w

    fig, ax = _figure(size=(8.0, 4.5))
    y = np.arange(len(groups))
    scale, unit = (1e6, "MW") if want.max(initial=0) >= 1e6 else (1e3, "kW")
    ax.barh(y + 0.2, want / scale, height=0.4, color="#9aa5b1", label="demand")
    ax.barh(y - 0.2, got / scale, height=0.4, color="#55a868", label="delivered")
    for yi, g in zip(y, got):
        ax.text(g / scale, yi - 0.2, " " + format_w(g), va="center", fontsize=8)
    ax.set_yticks(y, [g.replace("_", " ") for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel(f"heat [{unit}]")
    ax.set_title("district heating: heat by consumer " + ("kind" if "dh_consumer_kind" in ds else "") + note,
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def _dh_heat_sorted(q, demand, note):
    """Results that name no consumer kinds: each consumer's heat delivered and demanded, consumers sorted
    by demand, largest first."""
    order = np.argsort(-demand, kind="stable")
    scale, unit = (1e6, "MW") if demand.max(initial=0) >= 1e6 else (1e3, "kW")
    fig, ax = _figure(size=(8.0, 4.5))
    x = np.arange(1, q.size + 1)
    ax.fill_between(x, demand[order] / scale, step="mid", color="#9aa5b1", alpha=0.6, label="demand")
    ax.step(x, q[order] / scale, where="mid", color="#55a868", lw=1, label="delivered")
    ax.set_xlabel("consumers, by demand")
    ax.set_ylabel(f"heat per consumer [{unit}]")
    ax.set_title(f"district heating: heat at {q.size} consumers{note} (the results name no consumer kinds)",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- time series ---------------------------------------------------------------------------------------

def _step_hours(ds) -> np.ndarray:
    """Duration of each time step [h]: the gap to the next timestamp, the last step as long as the one
    before it."""
    t = ds.time.values
    if t.size < 2:
        raise Skip("a single time step")
    if np.issubdtype(t.dtype, np.datetime64):
        gaps = np.diff(t).astype("timedelta64[s]").astype(float) / 3600.0
    else:
        raise Skip("the time coordinate is not a date and time")
    return np.append(gaps, gaps[-1])


def _series(ds, name):
    v = ds[name]
    if v.dims != ("time",):
        raise Skip(f"{name} is not a series along time only (dims {v.dims})")
    return np.asarray(v.values, float)


def duration_curve(q, hours):
    """A duration curve: ``q`` sorted from largest to smallest as a step function of the cumulative hours
    [h] its steps last. Returns ``(x, y)`` for ``step(where="post")``, with ``x[-1]`` the period's hours."""
    order = np.argsort(-q, kind="stable")
    return np.concatenate([[0.0], np.cumsum(hours[order])]), np.concatenate([q[order], q[order][-1:]])


def monthly_energy_wh(ds, name: str):
    """The energy of power series ``name`` [W] in each calendar month [Wh]: each step's power times its
    duration (see ``_step_hours``), summed by the month its timestamp falls in. Returns ``(months, wh)``."""
    hours = _step_hours(ds)
    months = ds.time.values.astype("datetime64[M]")
    labels = np.unique(months)
    energy = _series(ds, name) * hours
    return labels, np.array([energy[months == m].sum() for m in labels])


def heat_duration(ds):
    """Heat duration curves: campus heat available and network demand (and heat recovered), each sorted
    from its largest hour to its smallest, against the hours of the year they last."""
    if "time" not in ds.dims:
        raise Skip("no time dimension (a single operating point)")
    _need(ds, "q_available_w", "dh_q_demand_w")
    hours = _step_hours(ds)
    fig, ax = _figure(size=(9.0, 5.0))
    styles = {"q_available_w": ("campus heat available", "#c44e52", "-"),
              "dh_q_demand_w": ("network demand", "#3b6ea8", "-"),
              "q_recovered_w": ("recovered from the campus", "#55a868", "--")}
    peak = 0.0
    for name, (label, color, ls) in styles.items():
        if name not in ds:
            continue
        q = _series(ds, name)
        x, y = duration_curve(q, hours)
        ax.step(x, y / 1e6, where="post", color=color, ls=ls, label=label)
        peak = max(peak, float(np.nanmax(q)))
    ax.set_xlabel("hours in the period at or above the value [h]")
    ax.set_ylabel("heat [MW]")
    ax.set_xlim(0, hours.sum())
    ax.set_ylim(0, peak / 1e6 * 1.05 if peak > 0 else 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"heat duration curves ({hours.sum():,.0f} h)", fontsize=10)
    fig.tight_layout()
    return fig


def monthly_heat(ds):
    """Heat delivered to the network each month [GWh], beside the heat recovered from the campus and the
    demand, when the results have them."""
    if "time" not in ds.dims:
        raise Skip("no time dimension (a single operating point)")
    names = [n for n in ("dh_q_demand_w", "dh_q_delivered_w", "q_recovered_w") if n in ds]
    if "dh_q_delivered_w" not in names and "q_recovered_w" not in names:
        raise Skip("no dh_q_delivered_w or q_recovered_w in the results")
    fig, ax = _figure(size=(10.0, 4.8))
    styles = {"dh_q_demand_w": ("demand", "#9aa5b1"), "dh_q_delivered_w": ("delivered", "#3b6ea8"),
              "q_recovered_w": ("recovered from the campus", "#55a868")}
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        labels, per_month = monthly_energy_wh(ds, name)
        per_month = per_month / 1e9  # GWh
        x = np.arange(labels.size)
        label, color = styles[name]
        ax.bar(x + (k - (len(names) - 1) / 2) * width, per_month, width=width, color=color, label=label)
    ax.set_xticks(x, [np.datetime_as_string(m, unit="M") for m in labels], rotation=45, fontsize=8)
    ax.set_ylabel("heat [GWh]")
    ax.set_title("district heating by month", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- sweeps --------------------------------------------------------------------------------------------

KPIS = {"efficiency_grid_to_chip": ("grid-to-chip efficiency", "1", ("p_it_w", "p_grid_w")),
        "pue": ("PUE", "1", None),
        "erf": ("energy reuse factor", "1", None),
        "p_grid_w": ("grid power", "W", None)}
"""The KPIs of the sweep figure: name -> (label, unit, (numerator, denominator) of a ratio reduced over time
as the ratio of sums; None: a power, or a facility KPI that :func:`period_kpis` forms)."""


def period_kpis(ds, weights=None, dim: str = "time") -> dict:
    """The facility KPIs over ``dim`` from the power series of ``ds`` (each weighed by ``weights``, the steps'
    durations, if given): the figures' sums handed to :func:`gigawatt.models.kpis.facility_kpis`, as the time
    series forms its period's KPIs. Figures a results file lacks are built from its others where the ledger
    allows: the total facility power from ``p_facility_w`` (no grid side), the pumps and fans from
    ``p_pumps_w`` + ``p_fans_w``, the rack input and shelf output from ``p_it_w`` and ``stage_loss_w``.
    Returns {} when the series lack what PUE needs; values are arrays over the other dimensions."""
    import xarray as xr

    from gigawatt.models.kpis import boundary_powers, facility_kpis

    def total(name):
        if name not in ds or dim not in ds[name].dims:
            return None
        v = ds[name] if weights is None else ds[name] * xr.DataArray(weights, dims=dim)
        return v.sum(dim).values

    fig = {n: total(f"{n}_w") for n in ("p_total_facility", "p_facility", "p_cooling", "p_pumps", "p_fans", "p_it",
                                         "p_rack_input", "p_shelf_output", "q_recovered", "p_renewable", "p_nuclear")}
    if fig["p_total_facility"] is None:
        fig["p_total_facility"] = fig["p_facility"]
    if fig["p_cooling"] is None and fig["p_pumps"] is not None and fig["p_fans"] is not None:
        fig["p_cooling"] = fig["p_pumps"] + fig["p_fans"]
    if fig["p_rack_input"] is None and fig["p_it"] is not None and "stage_loss_w" in ds and dim in ds.stage_loss_w.dims:
        loss = ds.stage_loss_w if weights is None else ds.stage_loss_w * xr.DataArray(weights, dims=dim)
        loss = loss.sum(dim)
        fig.update(boundary_powers(fig["p_it"], loss.sel(stage="rack_vrm").values, loss.sel(stage="rack_shelf").values))
    if any(fig[n] is None for n in ("p_total_facility", "p_cooling", "p_it", "p_rack_input", "p_shelf_output")):
        return {}
    out = facility_kpis(fig, it_boundary=str(ds.attrs.get("it_boundary", "rack_input")),
                        co2e_kg=total("co2e_kg_per_s"))
    out.pop("it_equipment")
    return out


def sweep_kpi(ds, name: str) -> np.ndarray:
    """A KPI per scenario: its variable, reduced over ``time`` when there is one (powers to their means,
    ratios to the ratio of the sums of their terms, the facility KPIs by :func:`period_kpis`, else means)."""
    num_den = KPIS[name][2]
    if "time" in ds[name].dims:
        if num_den and all(n in ds and ds[n].dims == ("scenario", "time") for n in num_den):
            return (ds[num_den[0]].sum("time") / ds[num_den[1]].sum("time")).values
        kpis = period_kpis(ds) if KPIS[name][1] == "1" else {}
        if name in kpis:
            return np.asarray(kpis[name])
        return ds[name].mean("time").values
    return ds[name].values


def swept_parameters(ds) -> list[str]:
    """The coordinates along ``scenario`` (other than ``scenario`` itself) that take more than one value."""
    return [c for c in ds.coords if c != "scenario" and ds[c].dims == ("scenario",)
            and np.unique(ds[c].values.astype(str)).size > 1]


def sweep_kpis(ds):
    """Each KPI against each swept parameter (one row per parameter); with several swept parameters the
    scenarios sharing the other parameters' values are joined by a line."""
    if "scenario" not in ds.dims:
        raise Skip("no scenario dimension (not a sweep)")
    kpis = [k for k in KPIS if k in ds and ds[k].dims[:1] == ("scenario",)]
    if not kpis:
        raise Skip(f"no KPI variables ({', '.join(KPIS)}) along scenario")
    params = swept_parameters(ds) or ["scenario"]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.5, 2.9 * len(params) + 0.4))  # at 110 dpi the page shows it unscaled
    axes = np.atleast_2d(fig.subplots(len(params), len(kpis), squeeze=False))
    from matplotlib.ticker import ScalarFormatter

    from gigawatt.report.values import engineering, typed_axis

    values = {k: sweep_kpi(ds, k) for k in kpis}
    p_scale, p_unit = engineering(values["p_grid_w"], "W") if "p_grid_w" in values else (1.0, "W")
    shown = {}  # each parameter's values as the legend shows them (the user's unit)
    for q in params:
        if np.issubdtype(ds[q].dtype, np.number):
            xq, _, lab = typed_axis(ds[q])
            shown[q] = [f"{v:g} {lab}".strip() for v in xq]
        else:
            shown[q] = [str(v) for v in ds[q].values]
    for r, p in enumerate(params):
        x_raw = ds[p].values
        numeric = np.issubdtype(np.asarray(x_raw).dtype, np.number)
        cats = None if numeric else list(dict.fromkeys(x_raw.astype(str)))
        if numeric:  # in the unit the user typed (kW, °C), not SI
            x, p_name, p_label = typed_axis(ds[p])
        else:
            x, p_name, p_label = np.array([cats.index(s) for s in x_raw.astype(str)], float), \
                str(ds[p].attrs.get("given_as", p)), ""
        others = [q for q in params if q != p]
        keys = [tuple(shown[q][i] for q in others) for i in range(x.size)] if others else [()] * x.size
        groups = list(dict.fromkeys(keys))
        for c, k in enumerate(kpis):
            ax = axes[r, c]
            y = values[k] / (p_scale if k == "p_grid_w" else 1.0)
            for g in groups:
                idx = np.array([i for i, kk in enumerate(keys) if kk == g])
                idx = idx[np.argsort(x[idx], kind="stable")]
                label = ", ".join(f"{ds[q].attrs.get('given_as', q)} = {v}" for q, v in zip(others, g)) \
                    if others and len(groups) <= 8 else None
                ax.plot(x[idx], y[idx], "o-", ms=4, lw=1, label=label)
            if cats is not None:
                ax.set_xticks(range(len(cats)), cats, rotation=30, fontsize=7)
            else:
                ax.xaxis.set_major_formatter(ScalarFormatter(useOffset=False))
                ax.xaxis.get_major_formatter().set_scientific(False)
                ax.locator_params(axis="x", nbins=5)
            ax.set_xlabel(p_name + (f" [{p_label}]" if p_label else ""), fontsize=8)
            name, unit, _ = KPIS[k]
            ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
            ax.set_ylabel(name + (f" [{p_unit}]" if k == "p_grid_w" else ""), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if c == 0 and others and len(groups) <= 8:
                ax.legend(fontsize=6)
    fig.suptitle(f"KPIs of {ds.sizes['scenario']} scenarios against the swept parameters", fontsize=10)
    fig.tight_layout()
    return fig


STAGE_COLORS = ("#3b6ea8", "#8172b3", "#937860", "#64b5cd", "#d9822b", "#c44e52", "#55a868", "#7f7f7f")


def compare_architectures(ds):
    """A comparison of distribution architectures (``gigawatt compare``, dimension ``architecture``): the
    losses of each stage, stacked per architecture, and the grid-to-chip efficiency of each."""
    if "architecture" not in ds.dims:
        raise Skip("no architecture dimension (not a comparison)")
    _need(ds, "stage_loss_w", "efficiency_grid_to_chip")
    from gigawatt.report.values import engineering

    archs = [str(a) for a in ds.architecture.values]
    loss = ds.stage_loss_w.transpose("architecture", "stage").values
    stages = [str(x) for x in ds.stage.values]
    keep = [i for i in range(len(stages)) if np.any(loss[:, i] != 0)]
    scale, unit = engineering(loss.sum(axis=1), "W")
    fig, (ax, ae) = _figure(ncols=2, size=(10.4, 0.45 * len(archs) + 2.6))
    y = np.arange(len(archs))
    left = np.zeros(len(archs))
    for k, i in enumerate(keep):
        ax.barh(y, loss[:, i] / scale, left=left, color=STAGE_COLORS[k % len(STAGE_COLORS)],
                label=stages[i].replace("_", " "))
        left += loss[:, i] / scale
    for yi, total in zip(y, left):
        ax.text(total, yi, f" {total:.3g} {unit}", va="center", fontsize=8)
    ax.set_xlim(0, left.max() * 1.6 if left.max() > 0 else 1)
    ax.set_yticks(y, archs)
    ax.invert_yaxis()
    ax.set_xlabel(f"losses grid to chips [{unit}]")
    ax.legend(fontsize=7, loc="center right")
    ax.set_title("losses by stage", fontsize=10)
    eff = ds.efficiency_grid_to_chip.values * 100.0
    ae.barh(y, eff, color="#55a868")
    for yi, e in zip(y, eff):
        ae.text(e, yi, f" {e:.2f} %", va="center", fontsize=8)
    ae.set_xlim(max(0.0, eff.min() - 5.0), min(100.0, eff.max() + 2.0))
    ae.set_yticks(y, [])
    ae.invert_yaxis()
    ae.set_xlabel("grid-to-chip efficiency [%]")
    ae.set_title("efficiency", fontsize=10)
    fig.suptitle(f"{ds.attrs.get('title', 'architecture comparison')} (baseline: {archs[0]})", fontsize=10)
    fig.tight_layout()
    return fig


CONTINGENCY_BARS = 25  # worst outages drawn


def contingency(ds):
    """The worst outages of a contingency analysis: racks lost (unsupplied, over their chip limit) and the
    lowest voltage after each, single points of failure in red."""
    if "outage" not in ds.dims:
        raise Skip("no outage dimension (not a contingency analysis)")
    _need(ds, "rank", "racks_unsupplied", "racks_over_limit", "v_min_pu", "single_point_of_failure")
    if not ds.sizes["outage"]:
        raise Skip("no outages in the analysis")
    order = np.argsort(ds["rank"].to_numpy())[:CONTINGENCY_BARS][::-1]
    names = [str(x) for x in ds["outage"].values[order]]
    unsupplied = ds["racks_unsupplied"].to_numpy()[order]
    over = ds["racks_over_limit"].to_numpy()[order]
    spof = ds["single_point_of_failure"].to_numpy()[order]
    fig, (ax, av) = _figure(ncols=2, size=(12.0, 0.3 * len(order) + 2.0))
    y = np.arange(len(order))
    ax.barh(y, unsupplied, color="#c0392b", label="racks unsupplied (islanded)")
    ax.barh(y, over, left=unsupplied, color="#e67e22", label="racks over their chip limit")
    ax.set_yticks(y, names, fontsize=7)
    for tick, bad in zip(ax.get_yticklabels(), spof):
        tick.set_color("#c0392b" if bad else "black")
    ax.set_xlabel("racks lost")
    ax.legend(loc="lower right", fontsize=8)
    av.barh(y, ds["v_min_pu"].to_numpy()[order], color=np.where(spof, "#c0392b", "#7f8c8d"))
    av.set_yticks(y, [])
    v = ds["v_min_pu"].to_numpy()[order]
    if np.isfinite(v).any():
        av.set_xlim(max(0.0, float(np.nanmin(v)) - 0.01), 1.0)
    av.set_xlabel("lowest bus voltage [pu]")
    a = ds.attrs
    fig.suptitle(f"{a.get('title', 'contingency analysis')}: worst {_count(len(order), 'outage')} of "
                 f"{ds.sizes['outage']}, {int(np.sum(ds['single_point_of_failure'].to_numpy()))} single points "
                 f"of failure (red)", fontsize=9)
    fig.tight_layout()
    return fig
