"""The energy chain as a Sankey diagram: grid → stations → distribution → DC/DC → shelves → VRMs → chips;
all of it as heat → liquid and air → cooling plant (with its pumps and fans) → recovered and rejected;
recovered heat (with the heat pumps' electricity and the peak boiler) → district-heating consumers by kind
and network heat loss.

The flows come from the ledger a solve leaves in the results (attributes ``p_grid_w``, ``p_it_w``,
``q_liquid_w``, ``q_air_w``, ``p_pumps_w``, ``p_fans_w``, ``q_recovered_w``, ``q_rejected_w``,
``loop_pipe_loss_w`` (or the variable of that name along cooling_loop), ``hp_electric_w``, ``boiler_heat_w``,
``dh_q_loss_w``, and the variables ``stage_loss_w`` (stage) and ``dh_consumer_q_w`` (dh_consumer), with
``dh_consumer_kind`` when present). In results with a ``time`` dimension each scalar may instead be a data
variable along ``time`` alone, and ``stage_loss_w``/``dh_consumer_q_w`` may gain a ``time`` dimension: the
diagram then shows their means over the steps (mean power [W], the period's energy over its hours).

Every node is checked before anything is drawn (:func:`check_balance`): what flows in equals what flows out
to ``BALANCE_RTOL`` relative; an unbalanced ledger raises :class:`LedgerError` naming the node.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from gigawatt.errors import GigawattError
from gigawatt.report.values import has_scalar, scalar

FIG_WIDTH_IN = 10.5  # at the report's 110 dpi, 1155 px: the HTML page (at most 1168 px of content) shows it unscaled
NAME_WRAP = 14  # characters per line of a node's name

# Relative tolerance of each node's balance: the solver closes its ledgers to round-off (its own checks use
# 1e-9 for sums of a few dozen one-signed terms), so a larger gap is a broken or edited results file.
BALANCE_RTOL = 1e-9

STAGE_LABELS = {"ac_dc_station": "AC/DC stations", "distribution": "distribution", "dc_dc_converter": "DC/DC",
                "rack_shelf": "rack shelves", "rack_vrm": "VRMs"}

TERMINALS_IN, TERMINALS_OUT = "DC terminals (storage, links)", "DC terminals (drawing)"
CONDUCTANCES = "DC conductance loads"

KIND_LABELS = {"homes_degree_days": "homes", "homes_siglinde": "homes", "vertical_farm": "vertical farms",
               "fixed": "fixed demands", "process": "process heat", "mass_flow": "mass-flow consumers"}

COLORS = {"power": "#3b6ea8", "loss": "#d9822b", "heat": "#c44e52", "liquid": "#4c9bd6", "air": "#9aa5b1",
          "input": "#8172b3", "reuse": "#55a868", "reject": "#7f7f7f"}


class LedgerError(GigawattError, ValueError):
    """The results' energy ledger does not balance at a node of the chain (what flows in ≠ what flows out)."""


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    value_w: float
    kind: str  # a key of COLORS


@dataclass
class Chain:
    """Nodes (name → column) and flows of the diagram; ``note`` says what the numbers are (e.g. means)."""

    columns: dict[str, int] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    note: str = ""
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # node -> (low, high) of its inflow [W]
    # Ledger totals the results state beside the flows: (what, stated [W], sum of the flows' terms [W]).
    totals: list[tuple[str, float, float]] = field(default_factory=list)

    def add(self, source: str, target: str, value_w: float, kind: str, column: int) -> None:
        """A flow into ``target`` (placed in ``column``); zero flows are kept for the balance, not drawn."""
        self.columns.setdefault(target, column)
        self.flows.append(Flow(source, target, float(value_w), kind))


class _Missing(Exception):
    pass


def _value(ds, name: str) -> float:
    """A ledger quantity: the attribute or 0-d variable (:func:`gigawatt.report.values.scalar`), or else a
    data variable along ``time`` alone (its mean). (Some names are both a campus figure and a per-element
    variable, like ``q_air_w``: the scalar is the ledger's.)"""
    if has_scalar(ds, name):
        return scalar(ds, name)
    if name in ds.data_vars and ds[name].dims == ("time",):
        return float(ds[name].mean("time"))
    raise _Missing(name)


def _has(ds, name: str) -> bool:
    try:
        _value(ds, name)
    except _Missing:
        return False
    return True


def _stage_losses_along_time(ds) -> xr.DataArray:
    """A time series' ``loss_<stage>_w`` figures as one ``stage_loss_w`` (time, stage)."""
    from gigawatt.solver.dc.results import STAGES

    names = [f"loss_{stage}_w" for stage in STAGES]
    if not all(n in ds.data_vars for n in names):
        raise KeyError("stage_loss_w")
    return xr.concat([ds[n] for n in names], dim=xr.DataArray(list(STAGES), dims="stage", name="stage"))


def energy_chain(ds) -> Chain:
    """The flows of the chain from a results dataset (see the module docstring); raises ``KeyError`` naming
    the first missing electrical ledger quantity. The cooling and district-heating parts are added when the
    results have them."""
    try:
        p_grid, p_it = _value(ds, "p_grid_w"), _value(ds, "p_it_w")
        stage_loss = ds["stage_loss_w"] if "stage_loss_w" in ds else _stage_losses_along_time(ds)
    except (_Missing, KeyError) as err:
        raise KeyError(f"no energy ledger in the results ({err.args[0]!r} missing)") from None
    if "time" in stage_loss.dims:
        stage_loss = stage_loss.mean("time")
    chain = Chain(columns={"grid": 0}, note="mean power over the time steps" if "time" in ds.dims else "")
    chain = _ac_grid(ds, chain, p_grid)
    c0, ac_nodes = chain.columns["grid"], list(chain.columns)  # the AC side's nodes, "grid" among them
    losses = [(str(s), float(stage_loss.sel(stage=s))) for s in stage_loss["stage"].values]
    stages = [(s, loss) for s, loss in losses if loss != 0.0]
    last_col = c0 + len(stages) + 1
    prev, carried = "grid", p_grid
    to_heat = {"IT (chips)": p_it}
    # DC grid elements: set-power terminals feed the DC network behind the stations (or draw from it),
    # conductance loads draw from it and turn their power into heat.
    p_term, p_cond = _optional(ds, "p_dc_terminals_w"), _optional(ds, "p_dc_conductances_w")
    dc_nodes, pending = [], bool(p_term or p_cond)
    for col, (stage, loss) in enumerate(stages, start=c0 + 1):
        name = STAGE_LABELS.get(stage, stage)
        chain.add(prev, name, carried, "power", col)
        if pending and stage != "ac_dc_station":
            pending = False
            if p_term >= 0.0:
                chain.columns[TERMINALS_IN] = col - 1
                chain.add(TERMINALS_IN, name, p_term, "input", col)
                dc_nodes.append(TERMINALS_IN)
            else:
                chain.add(name, TERMINALS_OUT, -p_term, "power", last_col)
                dc_nodes.append(TERMINALS_OUT)
            chain.add(name, CONDUCTANCES, p_cond, "loss", last_col)
            to_heat[CONDUCTANCES] = p_cond
            carried += p_term - p_cond
        chain.add(name, f"{name} loss", loss, "loss", last_col)
        carried -= loss
        prev = name
        to_heat[f"{name} loss"] = loss
    chain.add(prev, "IT (chips)", p_it, "power", last_col)
    # Loss nodes below the chips, the last stage's first: their bands then do not cross.
    order = ["IT (chips)"] + list(reversed(list(to_heat)[1:]))
    chain.columns = {k: chain.columns[k] for k in ac_nodes + dc_nodes + [STAGE_LABELS.get(s, s) for s, _ in stages]
                     + order}

    try:
        q_liq, q_air = _value(ds, "q_liquid_w"), _value(ds, "q_air_w")
    except _Missing:
        return _district_heating(ds, chain, last_col + 1, recovered=None)
    try:
        _cooling(ds, chain, last_col, order, to_heat, q_liq, q_air)
    except _Missing as err:
        raise KeyError(f"the cooling ledger in the results is incomplete ({err.args[0]!r} missing)") from None
    return _district_heating(ds, chain, last_col + 5, recovered="recovered")


AC_LOSSES = (("ac_line_overhead_loss_w", "AC overhead lines loss"), ("ac_line_cable_loss_w", "AC cables loss"),
             ("ac_trafo_loss_w", "AC transformers loss"))
"""The AC grid's losses by element kind, as the AC results state them (their sum is ``p_ac_loss_w``)."""


def _ac_grid(ds, chain: Chain, p_grid: float) -> Chain:
    """The AC grid side, when the case has one (``p_plant_w``, the power the plants feed in, and
    ``p_ac_loss_w``): power plants → AC grid → its losses by kind and the stations' AC intake (``grid``, which
    is ``p_grid_w``). The AC losses leave the campus as heat outdoors, not into its cooling."""
    if not (_has(ds, "p_plant_w") and _has(ds, "p_ac_loss_w")):
        return chain
    p_plant, p_ac_loss = _value(ds, "p_plant_w"), _value(ds, "p_ac_loss_w")
    chain.columns = {"power plants": 0, "AC grid": 1}
    chain.add("power plants", "AC grid", p_plant, "power", 1)
    parts = [(label, _value(ds, name)) for name, label in AC_LOSSES if _has(ds, name)]
    if not parts:
        parts = [("AC grid loss", p_ac_loss)]
    chain.columns["grid"] = 2
    chain.add("AC grid", "grid", p_grid, "power", 2)
    for label, value in parts:
        chain.add("AC grid", label, value, "loss", 2)
    chain.totals.append(("AC grid loss (sum of its kinds)", p_ac_loss, sum(v for _, v in parts)))
    if _has(ds, "p_ac_intake_w"):
        chain.totals.append(("AC intake of the stations (the DC side's grid power)", _value(ds, "p_ac_intake_w"),
                             p_grid))
    return chain


def _cooling(ds, chain: Chain, last_col: int, order, to_heat, q_liq: float, q_air: float) -> None:
    """All electricity as heat → to liquid and air → the cooling plant with its pumps and fans → recovered,
    rejected, and motor, fan and pipe heat to the rooms and outdoors."""
    heat = "heat"
    for name in order:
        chain.add(name, heat, to_heat[name], "heat", last_col + 1)
    chain.add(heat, "to liquid", q_liq, "liquid", last_col + 2)
    chain.add(heat, "to air", q_air, "air", last_col + 2)
    p_aux = _value(ds, "p_pumps_w") + _value(ds, "p_fans_w")
    chain.columns["pumps & fans"] = last_col + 2
    plant = "cooling plant"
    chain.add("to liquid", plant, q_liq, "liquid", last_col + 3)
    chain.add("to air", plant, q_air, "air", last_col + 3)
    chain.add("pumps & fans", plant, p_aux, "input", last_col + 3)
    q_rec, q_rej = _value(ds, "q_recovered_w"), _value(ds, "q_rejected_w")
    # Pump-motor losses, dry-cooler fans and loop pipe losses leave to the rooms and outdoors: what the plant
    # takes in less what it recovers and rejects (bounded below in check_balance).
    other = q_liq + q_air + p_aux - q_rec - q_rej
    chain.add(plant, "recovered", q_rec, "reuse", last_col + 4)
    chain.add(plant, "rejected (dry coolers)", q_rej, "reject", last_col + 4)
    chain.add(plant, "motors, fans, pipes", other, "reject", last_col + 4)
    pipes = ds["loop_pipe_loss_w"] if "loop_pipe_loss_w" in ds.data_vars else None
    pipe_loss = float(pipes.mean("time").sum() if "time" in pipes.dims else pipes.sum()) if pipes is not None \
        else _optional(ds, "loop_pipe_loss_w")
    chain.bounds["motors, fans, pipes"] = (0.0, p_aux + pipe_loss)
    if _has(ds, "p_facility_w"):
        chain.totals.append(("facility power (grid + DC terminals + pumps + fans)", _value(ds, "p_facility_w"),
                             _value(ds, "p_grid_w") + _optional(ds, "p_dc_terminals_w") + p_aux))
    if _has(ds, "q_available_w"):
        chain.totals.append(("heat available for reuse (recovered + rejected)", _value(ds, "q_available_w"),
                             q_rec + q_rej))


def _optional(ds, name: str) -> float:
    try:
        return _value(ds, name)
    except _Missing:
        return 0.0


def _district_heating(ds, chain: Chain, col: int, recovered: str | None) -> Chain:
    """The district-heating plant and its consumers by kind, when the results have them; a time series that
    keeps the network's figures only as totals along ``time`` (``dh_q_delivered_w``, no per-consumer heat)
    gets one node for all its consumers and its heat stored in or released from the pipes and the tank."""
    per_consumer = "dh_consumer_q_w" in ds.data_vars
    if not per_consumer and not ("time" in ds.dims and _has(ds, "dh_q_delivered_w")):
        return chain
    try:
        boiler, hp_el, loss = _value(ds, "boiler_heat_w"), _value(ds, "hp_electric_w"), _value(ds, "dh_q_loss_w")
    except _Missing as err:
        raise KeyError(f"the district-heating ledger in the results is incomplete ({err.args[0]!r} missing)") \
            from None
    plant = "district-heating plant"
    if recovered is not None:
        chain.add(recovered, plant, _value(ds, "q_recovered_w"), "reuse", col)
    stored = _stored_heat_w(ds) if "time" in ds.dims else 0.0
    inputs = [("heat-pump electricity", hp_el), ("peak boiler", boiler)]
    if stored < 0.0:
        inputs.append(("released from pipes and tank", -stored))
    friction = _optional(ds, "dh_q_friction_w")  # the pipes' frictional heat ([district_heating] frictional_heating)
    if friction > 0.0:
        inputs.append(("pump work dissipated in the pipes", friction))
    for name, value in inputs:
        chain.columns[name] = col - 1
        chain.add(name, plant, value, "input", col)
    if per_consumer:
        q = ds["dh_consumer_q_w"]
        if "time" in q.dims:
            q = q.mean("time")
        kinds = ds["dh_consumer_kind"].values.astype(str) if "dh_consumer_kind" in ds else np.full(q.size, "consumers")
        labels = np.array([KIND_LABELS.get(k, k.replace("_", " ")) for k in kinds])
        for label in dict.fromkeys(labels):
            chain.add(plant, label, float(q.values[labels == label].sum()), "reuse", col + 1)
        delivered = float(q.sum())
    else:
        delivered = _value(ds, "dh_q_delivered_w")
        chain.add(plant, "consumers", delivered, "reuse", col + 1)
    chain.add(plant, "network heat loss", loss, "reject", col + 1)
    if _has(ds, "dh_storage_loss_w"):
        chain.add(plant, "tank heat loss", _value(ds, "dh_storage_loss_w"), "reject", col + 1)
    if stored > 0.0:
        chain.add(plant, "stored in pipes and tank", stored, "reuse", col + 1)
    if per_consumer and _has(ds, "dh_q_delivered_w"):
        chain.totals.append(("district heat delivered (sum over the consumers)", _value(ds, "dh_q_delivered_w"),
                             delivered))
    return chain


def _stored_heat_w(ds) -> float:
    """Mean power into the network's storage over a time series [W] (negative: released): the pipes' water
    (``dh_pipe_stored_change_j`` per step over the step's duration) and the tank (the period's
    ``dh_ledger_tank_stored_change_j`` over its duration); 0 without those figures."""
    from gigawatt.report.figures import Skip, _step_hours

    try:
        seconds = _step_hours(ds) * 3600.0
    except Skip:
        return 0.0
    pipes = float(np.mean(ds["dh_pipe_stored_change_j"].values / seconds)) \
        if "dh_pipe_stored_change_j" in ds.data_vars else 0.0
    return pipes + scalar(ds, "dh_ledger_tank_stored_change_j", 0.0) / float(seconds.sum())


def check_balance(chain: Chain, rtol: float = BALANCE_RTOL) -> None:
    """Raise :class:`LedgerError` unless every node passing energy on takes in what it gives out, the inputs
    (nodes nothing flows into) sum to the outputs (nodes nothing flows out of), the totals the results state
    (facility power, heat available, heat delivered) equal the sums of their flows, no flow is negative, and
    the closing flow of the cooling plant lies within its bounds; all to ``rtol`` relative."""
    inflow, outflow = {}, {}
    scale = max((abs(f.value_w) for f in chain.flows), default=0.0)
    for f in chain.flows:
        if f.value_w < -rtol * scale:
            raise LedgerError(f"energy chain: the flow {f.source} → {f.target} is negative ({f.value_w:.6g} W)")
        outflow[f.source] = outflow.get(f.source, 0.0) + f.value_w
        inflow[f.target] = inflow.get(f.target, 0.0) + f.value_w
    for node in chain.columns:
        if node in inflow and node in outflow:
            a, b = inflow[node], outflow[node]
            if abs(a - b) > rtol * max(abs(a), abs(b)):
                raise LedgerError(f"energy chain does not balance at '{node}': {a:.9g} W in, {b:.9g} W out "
                                  f"(relative gap {abs(a - b) / max(abs(a), abs(b)):.1e} > {rtol:g})")
    ins = sum(v for k, v in outflow.items() if k not in inflow)
    outs = sum(v for k, v in inflow.items() if k not in outflow)
    if abs(ins - outs) > rtol * max(abs(ins), abs(outs)):
        raise LedgerError(f"energy chain does not balance: inputs {ins:.9g} W, outputs {outs:.9g} W")
    for what, stated, summed in chain.totals:
        if abs(stated - summed) > rtol * max(abs(stated), abs(summed)):
            raise LedgerError(f"energy chain does not balance: {what} is {stated:.9g} W in the results, "
                              f"the flows make {summed:.9g} W")
    for node, (lo, hi) in chain.bounds.items():
        v = inflow[node]
        if not lo - rtol * scale <= v <= hi + rtol * scale:
            raise LedgerError(f"energy chain: '{node}' is {v:.6g} W, outside [{lo:.6g}, {hi:.6g}] W: the heat "
                              "recovered and rejected does not match the power the cooling plant takes in")


def format_w(value_w: float) -> str:
    """A power with three significant digits in W, kW, MW or GW: ``format_w(1.2345e6) == '1.23 MW'``."""
    a = abs(value_w)
    for scale, unit in ((1e9, "GW"), (1e6, "MW"), (1e3, "kW")):
        if a >= scale:
            return f"{value_w / scale:.3g} {unit}"
    return f"{value_w:.3g} W"


def _layout(chain: Chain, gap: float):
    """Node boxes: column, top y, height (the larger of in- and outflow), nodes stacked from the top of each
    column in the order they were declared."""
    inflow, outflow = {}, {}
    for f in chain.flows:
        outflow[f.source] = outflow.get(f.source, 0.0) + max(f.value_w, 0.0)
        inflow[f.target] = inflow.get(f.target, 0.0) + max(f.value_w, 0.0)
    boxes, tops = {}, {}
    for node, col in chain.columns.items():
        h = max(inflow.get(node, 0.0), outflow.get(node, 0.0))
        if h <= 0.0:
            continue  # nothing flows through it (a boiler that does not fire): not drawn
        top = tops.get(col, 0.0)
        boxes[node] = (col, top, h)
        tops[col] = top - h - gap
    return boxes


def _bezier(t, p0, p1, p2, p3):
    """A point of the cubic Bézier curve with control points p0..p3 at parameter t in [0, 1]."""
    u = 1.0 - t
    return u ** 3 * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t ** 3 * p3


# Why the drawing stays hand-written (columns, bars and Bézier bands, about 150 lines): matplotlib.sankey joins
# each sub-diagram to exactly one earlier one (``Sankey.add(prior=<one index>, connect=<one flow pair>)``) and
# needs every flow's orientation and path length set by hand, so it cannot lay out a multi-column graph whose
# nodes merge several inflows (every stage's loss into heat, heat pumps and boiler into district heating).
# plotly's Sankey does lay such graphs out, but it is drawn by plotly.js: a static image for the report and
# for PDF needs Kaleido driving a Chromium, a browser runtime the command line should not depend on.
def draw_sankey(chain: Chain, title: str = "energy chain"):
    """A matplotlib Figure of the checked chain: nodes as bars, flows as bands of proportional width, every
    flow labelled with its value. Checks the balance first (:func:`check_balance`)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    check_balance(chain)
    drawn = [f for f in chain.flows if f.value_w > 0]
    scale = max(sum(f.value_w for f in drawn if chain.columns[f.target] == c) for c in set(chain.columns.values()))
    gap = 0.07 * scale
    boxes = _layout(chain, gap)
    n_col = max(chain.columns.values()) + 1
    width = 0.12  # node bar width, in column units
    fig = Figure(figsize=(FIG_WIDTH_IN, 7.5))
    ax = fig.add_subplot()
    out_y = {n: boxes[n][1] for n in boxes}
    in_y = dict(out_y)
    # Bands leave a node in the order of their targets' heights and arrive in the order of their sources'.
    by_source = sorted(drawn, key=lambda f: (chain.columns[f.target], -boxes[f.target][1]))
    starts = {}
    n_in = {}
    flow_labels, node_labels = [], []
    for f in drawn:
        n_in[f.target] = n_in.get(f.target, 0) + 1
    for f in by_source:
        starts[id(f)] = out_y[f.source]
        out_y[f.source] -= f.value_w
    for f in sorted(drawn, key=lambda f: (chain.columns[f.source], -boxes[f.source][1])):
        x0 = boxes[f.source][0] + width
        x1 = boxes[f.target][0]
        y0, y1 = starts[id(f)], in_y[f.target]
        in_y[f.target] -= f.value_w
        h = f.value_w
        xm = 0.5 * (x0 + x1)
        verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 - h), (xm, y1 - h), (xm, y0 - h), (x0, y0 - h),
                 (x0, y0)]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO, MPath.CURVE4, MPath.CURVE4,
                 MPath.CURVE4, MPath.CLOSEPOLY]
        color = COLORS[f.kind]
        ax.add_patch(PathPatch(MPath(verts, codes), facecolor=color, edgecolor=color, lw=0.4, alpha=0.45))
        # The label sits on the band's centre line: half-way, or near the start of a band joining a node that
        # gathers many (the losses into the heat), where the bands are still apart.
        first = 0.25 if n_in[f.target] >= 3 or f.source not in n_in else 0.5
        spots = [(_bezier(t, x0, xm, xm, x1), _bezier(t, y0, y0, y1, y1) - 0.5 * h)
                 for t in (first, 0.5, 0.35, 0.65, 0.15, 0.85, 0.05, 0.95)]
        flow_labels.append((ax.text(*spots[0], format_w(f.value_w), ha="center", va="center", fontsize=7,
                                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75)),
                            spots))
    sources = {f.source for f in drawn}
    targets = {f.target for f in drawn}
    label_box = dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8)
    for node, (col, top, h) in boxes.items():
        ax.add_patch(Rectangle((col, top - h), width, max(h, 1e-3 * scale), facecolor="#333333", edgecolor="none"))
        name = "\n".join(textwrap.wrap(node, NAME_WRAP))
        if node not in sources:  # an output: named to its right, with its value
            x, y, text, kw = col + 1.3 * width, top - 0.5 * h, f"{name}\n{format_w(h)}", dict(ha="left", va="center")
        elif (node not in targets and col > 0) or h < 0.08 * scale:  # an input joining later, or a thin node
            x, y, text, kw = col - 0.3 * width, top - 0.5 * h, f"{name}\n{format_w(h)}", dict(ha="right", va="center")
        else:
            x, y, text, kw = col + 0.5 * width, top + 0.012 * scale, name, dict(ha="center", va="bottom")
        label = ax.text(x, y, text, fontsize=7, fontweight="bold", bbox=label_box, **kw)
        node_labels.append((label, [(x, y + k * 0.025 * scale) for k in [0] + [s * i for i in range(1, 16)
                                                                                 for s in (-1, 1)]]))
    low = min(top - h for _, top, h in boxes.values())
    ax.set_xlim(-0.4, n_col - 1 + width + 1.0)
    ax.set_ylim(low - 0.05 * scale, 0.08 * scale)
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title + (f" ({chain.note})" if chain.note else ""), 120)), fontsize=10)
    fig.tight_layout()
    place_labels(fig, node_labels, flow_labels)
    return fig


def place_labels(fig, fixed, optional) -> None:
    """Move labels so that no two overlap at the figure's size: each ``(text, spots)`` takes the first of its
    candidate positions (data coordinates) whose box lies inside the figure and meets no label placed before it.
    The ``fixed`` ones (the nodes' names, tried up and down their node) go first and stay at their first spot
    when none is free; the ``optional`` ones (the flows'
    values) are hidden when none is free (the value still shows at a node of the flow or in the ledger)."""
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    if renderer is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        renderer = FigureCanvasAgg(fig).get_renderer()
    placed = []
    page = fig.bbox
    for group, must in ((fixed, True), (optional, False)):
        for text, spots in group:
            for x, y in spots:
                text.set_position((x, y))
                box = text.get_window_extent(renderer).expanded(1.04, 1.1)
                inside = page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
                if inside and not any(box.overlaps(b) for b in placed):
                    break
            else:
                if not must:
                    text.set_visible(False)
                    continue
                text.set_position(spots[0])
                box = text.get_window_extent(renderer).expanded(1.04, 1.1)
            placed.append(box)
