"""Which elements can fail, and the case after they have: one registry entry per element kind.

An outage is a tuple of ``(kind, element)`` pairs (one for N-1, two for N-2). :func:`apply_outage` takes
the elements out of a copy of the case and lets the case's redundancy act:

- ``stations`` (``source`` rows), ``lines``, ``converters``: ``in_service = False``; a standby element of
  the same table (``spare = true``, out of service in normal operation) at the same bus (lines: between the
  same two buses; converters: feeding the same output bus) is switched in.
- ``cdus`` (one per cooling loop) and ``pumps`` (``pumps_per_cdu`` per loop), by ``[cooling] cdu_failover``:
  ``shared_header``: the next loop's CDU and pump (in rack-table order) feed both loops' racks, the pump
  curves pinned to the base case's (an auto-sized pump is not re-sized for the larger loop; the pinned
  curve is the neighbour's, applied to every loop, so exact when the loops are alike, as the campus
  builder's are; the neighbour's CDU exchanger is sized by the cooling stage's design rule for the merged
  duty, which is optimistic: a real exchanger keeps its UA);
  ``standby_pump``: a failed pump's standby takes over (no change); otherwise a pump outage with
  ``pumps_per_cdu`` > 1 leaves the others to run up to ``pump_max_speed`` (:func:`survivor_flow_fraction`),
  and the loop's racks are solved at that flow (hotter chips, more leakage); an outage with nothing to take
  over trips the loop's racks on their chip limit (they are counted over
  their limit and leave the load).
- ``heat_pumps`` (``[district_heating] hp_units`` units): the capacity falls to ``(units − 1)/units`` of
  ``hp_capacity_w`` (to none with one unit, or with an unlimited capacity).

After the elements are out, the DC network's islands without an in-service station lose their racks
(unsupplied): their buses, lines, converters and racks leave the case, so what remains is solvable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from gigawatt.cases.case import Case
from gigawatt.errors import CaseError


@dataclass
class OutageState:
    """The case being changed by one outage, and what the outage did."""

    case: Case
    base_hydraulics: object                       # LoopHydraulics of the base case (None without cooling)
    base_loop_ids: np.ndarray
    tables: dict
    settings: dict
    racks_tripped: list = field(default_factory=list)    # lost their cooling: over their chip limit
    racks_unsupplied: list = field(default_factory=list)  # islanded: no station feeds their bus
    notes: list = field(default_factory=list)
    loop_flow_fraction: float = 1.0               # lowest loop flow over its design flow
    loop_flows: dict = field(default_factory=dict)  # loop id -> flow over its design flow, where below 1
    kept: dict = field(default_factory=dict)      # table -> the base case's rows a changed table holds

    def table(self, name: str) -> pd.DataFrame:
        """The table, copied on first change."""
        if self.tables[name] is self.case.tables[name]:
            self.tables[name] = self.case.tables[name].copy()
            self.kept[name] = np.arange(len(self.tables[name]))
        return self.tables[name]

    def keep(self, name: str, mask: np.ndarray) -> None:
        """Keep only the rows ``mask`` of a table (its rows in the base case recorded)."""
        rows = self.kept.get(name, np.arange(len(self.tables[name])))
        self.tables[name] = self.tables[name][mask].reset_index(drop=True)
        self.kept[name] = rows[mask]

    def section(self, name: str) -> dict:
        if self.settings[name] is self.case.settings[name]:
            self.settings[name] = dict(self.case.settings[name])
        return self.settings[name]


def _row(state: OutageState, table: str, element: str, kind: str) -> int:
    ids = state.case.tables[table]["id"].to_numpy(object)
    hit = np.flatnonzero(ids == element)
    if not hit.size:
        raise CaseError(f"no such element among the {kind}", file=state.case.file, element=f"--elements {kind}",
                        value=element, allowed=f"an id of table '{table}'")
    return int(hit[0])


def _switch_out(state: OutageState, table: str, element: str, kind: str, same) -> None:
    """``in_service = False`` on the element; spare elements for which ``same(df, row)`` holds switched in."""
    i = _row(state, table, element, kind)
    df = state.table(table)
    col = df.columns.get_loc("in_service")
    df.iloc[i, col] = False
    spare = df["spare"].to_numpy(bool) & ~df["in_service"].to_numpy(bool) & same(df, i)
    spare[i] = False
    if spare.any():
        df.iloc[np.flatnonzero(spare), col] = True
        state.notes.append(f"spare {', '.join(df['id'].to_numpy(object)[spare])} switched in")


def _station_out(state, element):
    _switch_out(state, "source", element, "stations", lambda df, i: df["bus"].to_numpy(object) == df["bus"].iat[i])


def _line_out(state, element):
    def same(df, i):
        a, b = df["from_bus"].to_numpy(object), df["to_bus"].to_numpy(object)
        f, t = df["from_bus"].iat[i], df["to_bus"].iat[i]
        return ((a == f) & (b == t)) | ((a == t) & (b == f))
    _switch_out(state, "line", element, "lines", same)


def _converter_out(state, element):
    _switch_out(state, "converter", element, "converters",
                lambda df, i: df["to_bus"].to_numpy(object) == df["to_bus"].iat[i])


def _loops(case: Case) -> list[str]:
    if case.settings.get("cooling") is None or not len(case.tables["rack"]):
        return []
    from gigawatt.solver.cooling.loops import loop_of_racks

    return [str(x) for x in loop_of_racks(case.tables["rack"])[1]]


def _loop_racks(state: OutageState, loop: str) -> np.ndarray:
    from gigawatt.solver.cooling.loops import DEFAULT_LOOP

    names = state.case.tables["rack"]["cooling_loop"].to_numpy(object).copy()
    names[names == ""] = DEFAULT_LOOP
    return names == loop


def _trip_loop(state: OutageState, loop: str, why: str) -> None:
    mask = _loop_racks(state, loop)
    state.racks_tripped.extend(state.case.tables["rack"]["id"].to_numpy(object)[mask])
    state.notes.append(f"loop {loop}: {why}; its racks trip on their chip limit")


def _shared_header(state: OutageState, loop: str) -> None:
    """The next loop's CDU and pump feed this loop's racks too; pump curves pinned to the base's."""
    ids = list(state.base_loop_ids)
    if len(ids) < 2:
        _trip_loop(state, loop, "no neighbouring loop to share a header with")
        return
    k = ids.index(loop)
    other = ids[k + 1] if k + 1 < len(ids) else ids[k - 1]
    racks = state.table("rack")
    racks.loc[_loop_racks(state, loop), "cooling_loop"] = other
    hyd = state.base_hydraulics
    s = state.section("cooling")
    j = ids.index(other)
    s["pump_h0_m"], s["pump_b_s2_m5"] = float(hyd.h0_m[j]), float(hyd.b_s2_m5[j])
    state.notes.append(f"loop {loop}: fed from loop {other}'s CDU through the shared header")


def survivor_flow_fraction(h0_m: float, b_s2_m5: float, q_design_m3_s: float, head_design_m: float,
                           n_pumps: int, n_running: int, max_speed: float) -> tuple[float, float]:
    """Flow of a loop over its design flow, and the pumps' speed ratio, when only ``n_running`` of its
    ``n_pumps`` identical parallel pumps run, up to ``max_speed``.

    The ``N = n_pumps`` together follow ``H = H0·n² − b·Q²``, so one alone has ``N²·b`` and ``M = n_running``
    of them ``b' = b·N²/M²`` (affinity and parallel-pump laws: M pumps share the flow equally). The loop's system curve is taken as
    quadratic through its design point, ``H = K·Q²`` with ``K = H_d/Q_d²`` (exact for fully rough flow and
    fixed valves). The survivors hold the design flow when ``n = √((H_d + b'·Q_d²)/H0) ≤ n_max``; otherwise
    they run at ``n_max`` where the curves cross: ``H0·n_max² − b'·Q² = K·Q²``, ``Q = n_max·√(H0/(b' + K))``.

    Parameters
    ----------
    h0_m, b_s2_m5 : float
        Combined shut-off head [m] and quadratic coefficient [s²/m⁵] of all ``n_pumps`` at rated speed.
    q_design_m3_s, head_design_m : float
        The loop's design flow [m³/s] and the head it needs there [m].
    n_pumps, n_running : int
        Pumps installed in parallel, and those still running (≥ 1).
    max_speed : float
        Highest speed ratio of the drives [-].

    References
    ----------
    .. [1] I. J. Karassik, J. P. Messina, P. Cooper, C. C. Heald, "Pump Handbook", 4th ed., McGraw-Hill,
       2008, ch. 2 (affinity laws) and the section on pumps operating in parallel.
    """
    b_left = b_s2_m5 * n_pumps ** 2 / n_running ** 2
    k_sys = head_design_m / q_design_m3_s ** 2
    need = math.sqrt((head_design_m + b_left * q_design_m3_s ** 2) / h0_m)
    if need <= max_speed:
        return 1.0, need
    return max_speed * math.sqrt(h0_m / (b_left + k_sys)) / q_design_m3_s, max_speed


def _cooling(case: Case, element: str, kind: str) -> dict:
    if case.settings.get("cooling") is None:
        raise CaseError(f"the case has no cooling, so no {kind}", file=case.file, element=f"--elements {kind}",
                        value=element)
    return case.settings["cooling"]


def _cdu_out(state, element):
    s = _cooling(state.case, element, "cdus")
    if element not in list(state.base_loop_ids):
        raise CaseError("no such CDU (cooling loop)", file=state.case.file, element="--elements cdus", value=element,
                        allowed="a cooling_loop of the rack table")
    if s["cdu_failover"] == "shared_header":
        _shared_header(state, element)
    else:
        _trip_loop(state, element, "its CDU is out and nothing takes over")


def _pump_names(case: Case) -> list[str]:
    if case.settings.get("cooling") is None:
        return []
    n = case.settings["cooling"]["pumps_per_cdu"]
    return [f"{loop}-pump" if n == 1 else f"{loop}-pump{k}" for loop in _loops(case) for k in range(1, n + 1)]


def _pump_out(state, element):
    s = _cooling(state.case, element, "pumps")
    if element not in _pump_names(state.case):
        raise CaseError("no such pump", file=state.case.file, element="--elements pumps", value=element,
                        allowed="<cooling loop>-pump, or <cooling loop>-pumpK with pumps_per_cdu > 1")
    loop = element.rsplit("-pump", 1)[0]
    n = s["pumps_per_cdu"]
    if s["cdu_failover"] == "standby_pump":
        state.notes.append(f"{element}: the standby pump took over")
    elif s["cdu_failover"] == "shared_header":
        _shared_header(state, loop)
    elif n > 1:
        hyd, j = state.base_hydraulics, list(state.base_loop_ids).index(loop)
        running = n - 1 - sum(1 for x in state.notes if x.startswith(f"pump out: {loop}-"))
        if running < 1:
            _trip_loop(state, loop, "all its pumps are out")
            return
        frac, speed = survivor_flow_fraction(float(hyd.h0_m[j]), float(hyd.b_s2_m5[j]), float(hyd.q_m3_s[j]),
                                             float(hyd.head_m[j]), n, running, s["pump_max_speed"])
        state.notes.append(f"pump out: {element}: the other pumps run at speed {speed:.4f}, loop flow "
                           f"{frac:.4f} of design ({frac * hyd.q_m3_s[j] * 1e3:.4f} L/s)")
        state.loop_flow_fraction = min(state.loop_flow_fraction, frac)
        if frac < 1.0:
            state.loop_flows[loop] = frac
    else:
        _trip_loop(state, loop, "its only pump is out and nothing takes over")


def _heat_pump_names(case: Case) -> list[str]:
    dh = case.settings.get("district_heating")
    if dh is None or dh["interface"] != "heat_pump" or case.settings.get("cooling") is None:
        return []
    return [f"heat_pump{k}" for k in range(1, dh["hp_units"] + 1)]


def _heat_pump_out(state, element):
    if element not in _heat_pump_names(state.case):
        raise CaseError("no such heat-pump unit", file=state.case.file, element="--elements heat_pumps", value=element,
                        allowed="heat_pump1 … heat_pumpN of [district_heating] hp_units (heat-pump interface)")
    s = state.section("district_heating")
    cap, units = s["hp_capacity_w"], s["hp_units"]
    s["hp_capacity_w"] = 0.0 if cap is None or units == 1 else cap * (units - 1) / units
    s["hp_units"] = max(units - 1, 1)
    state.notes.append(f"{element} out: heat-pump capacity {s['hp_capacity_w']:.6g} W")


def _ids(table: str):
    def ids(case: Case) -> list[str]:
        df = case.tables[table]
        return [str(x) for x in df["id"].to_numpy(object)[df["in_service"].to_numpy(bool)]]
    return ids


@dataclass(frozen=True)
class ElementKind:
    """One kind of element that can fail: its table (for messages), the ids that can fail, the outage."""

    table: str
    ids: object
    take_out: object


ELEMENT_KINDS = {
    "stations": ElementKind("source", _ids("source"), _station_out),
    "lines": ElementKind("line", _ids("line"), _line_out),
    "converters": ElementKind("converter", _ids("converter"), _converter_out),
    "cdus": ElementKind("rack.cooling_loop", _loops, _cdu_out),
    "pumps": ElementKind("rack.cooling_loop", _pump_names, _pump_out),
    "heat_pumps": ElementKind("district_heating", _heat_pump_names, _heat_pump_out),
}
"""Element kinds an outage may take out: ``--elements`` names → :class:`ElementKind`."""


LINE_KINDS = ("cable", "busway", "busbar")


def parse_elements(text: str | None) -> list[tuple[str, str | None]]:
    """``"stations,lines:cable,cdus:H1-R1"`` → ``[(kind, selector)]``: after ``:``, one element's id, or for
    lines a line kind (cable, busway, busbar). None or empty: every kind."""
    if not text:
        return [(k, None) for k in ELEMENT_KINDS]
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, _, sub = part.partition(":")
        if kind not in ELEMENT_KINDS:
            raise CaseError("unknown element kind", element="--elements", value=kind,
                            allowed=", ".join(ELEMENT_KINDS))
        out.append((kind, sub or None))
    return out


def list_outages(case: Case, elements: str | None = None, n: int = 1) -> list[tuple]:
    """Every outage of ``n`` elements (1 or 2) of the chosen kinds: tuples of ``(kind, element)``."""
    if n not in (1, 2):
        raise CaseError("contingency order must be 1 or 2", element="--n", value=n, allowed="1, 2")
    single = []
    for kind, sub in parse_elements(elements):
        ids = ELEMENT_KINDS[kind].ids(case)
        if kind == "lines" and sub in LINE_KINDS:
            lines = case.tables["line"]
            ok = set(lines["id"].to_numpy(object)[lines["kind"].to_numpy(object) == sub])
            ids = [x for x in ids if x in ok]
        elif sub is not None:
            if sub not in ids:
                raise CaseError(f"no such element among the {kind} in service", file=case.file,
                                element=f"--elements {kind}", value=sub,
                                allowed=f"an id of table '{ELEMENT_KINDS[kind].table}'"
                                + (f", or a line kind ({', '.join(LINE_KINDS)})" if kind == "lines" else ""))
            ids = [sub]
        seen = set(single)
        single.extend((kind, x) for x in ids if (kind, x) not in seen)
    return [(o,) for o in single] if n == 1 else list(combinations(single, 2))


def outage_name(outage: tuple) -> str:
    """``kind:element`` joined by ``+``."""
    return "+".join(f"{k}:{e}" for k, e in outage)


def base_hydraulics(case: Case):
    """The base case's loop hydraulics (pump curves and design points) and loop ids; ``(None, [])`` without
    cooling. Each loop's volume flow is added as ``q_m3_s``."""
    if case.settings.get("cooling") is None or not len(case.tables["rack"]):
        return None, np.array([], dtype=object)
    from gigawatt.solver.cooling.stage import prepare_cooling
    from gigawatt.solver.dc.assembly import assemble

    plant = prepare_cooling(case, assemble(case).rack_shelf_loss)
    hyd = plant.hydraulics
    return _Hydraulics(hyd.h0_m, hyd.b_s2_m5, hyd.head_m, hyd.flow_kg_s,
                       hyd.flow_kg_s / plant.tcs.density_kg_m3), plant.loops.loop_ids


@dataclass(frozen=True)
class _Hydraulics:
    h0_m: np.ndarray
    b_s2_m5: np.ndarray
    head_m: np.ndarray
    flow_kg_s: np.ndarray
    q_m3_s: np.ndarray


def apply_outage(case: Case, outage: tuple, hydraulics=None, loop_ids=None) -> OutageState:
    """The case with the outage's elements out and the redundancy acted; see the module notes. The
    returned state's ``case`` is the case to solve (``None`` when every rack is lost)."""
    if hydraulics is None and loop_ids is None:
        hydraulics, loop_ids = base_hydraulics(case)
    state = OutageState(case, hydraulics, np.asarray(loop_ids, dtype=object), dict(case.tables),
                        {k: v for k, v in case.settings.items()})
    for kind, element in outage:
        if kind not in ELEMENT_KINDS:
            raise CaseError("unknown element kind", element="--elements", value=kind, allowed=", ".join(ELEMENT_KINDS))
        ELEMENT_KINDS[kind].take_out(state, element)
    _drop_islands(state)
    if state.racks_tripped:
        racks = state.tables["rack"]
        state.keep("rack", ~racks["id"].isin(state.racks_tripped).to_numpy())
    solved = None
    if len(state.tables["rack"]):
        # Only rows left and the in-service flags (and a rack's cooling loop) changed: the base case's reference
        # rows carry over by index (no look-up of ids per outage).
        changed = {k: v for k, v in state.tables.items() if v is not case.tables[k]}
        solved = case.with_tables(changed, {k: v for k, v in state.settings.items() if v is not case.settings[k]},
                                  kept_rows={k: state.kept[k] for k in changed})
    state.case = solved
    return state


def _drop_islands(state: OutageState) -> None:
    """Buses no in-service station reaches (through in-service lines and converters) leave the case with
    their lines, converters and racks; the racks are recorded as unsupplied."""
    buses = state.tables["bus"]
    if not len(buses):
        return
    # The outage has changed only whether elements are in service, not the rows: the case's reference rows
    # (kept with it, no string look-ups) still hold.
    base = state.case
    lines, conv, src = state.tables["line"], state.tables["converter"], state.tables["source"]
    lon, con = lines["in_service"].to_numpy(bool), conv["in_service"].to_numpy(bool)
    a = np.concatenate([base.ref_rows("line", "from_bus")[lon], base.ref_rows("converter", "from_bus")[con]])
    b = np.concatenate([base.ref_rows("line", "to_bus")[lon], base.ref_rows("converter", "to_bus")[con]])
    n = len(buses)
    graph = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    fed_bus = base.ref_rows("source", "bus")[src["in_service"].to_numpy(bool)]
    fed = np.isin(label, label[fed_bus])
    if fed.all():
        return
    racks = state.tables["rack"]
    lost = ~fed[base.ref_rows("rack", "bus")]
    state.racks_unsupplied.extend(racks["id"].to_numpy(object)[lost])
    state.notes.append(f"{int((~fed).sum())} buses islanded without a station")
    state.keep("bus", fed)
    state.keep("rack", ~lost)
    state.keep("line", fed[base.ref_rows("line", "from_bus")] & fed[base.ref_rows("line", "to_bus")])
    state.keep("converter", fed[base.ref_rows("converter", "from_bus")] & fed[base.ref_rows("converter", "to_bus")])
    state.keep("source", fed[base.ref_rows("source", "bus")])
