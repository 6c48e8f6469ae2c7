"""The AC grid side: the supplies, high-voltage lines, transformers and medium-voltage cables that feed the
AC/DC stations, solved as a balanced three-phase load flow by pandapower (Newton–Raphson) and coupled to the
DC solve.

Coupling
    Each station (a ``source`` row with an ``ac_bus``) is a constant-power load at its AC bus drawing

    .. math:: P_{ac} = P_{dc} + P_{loss}(P_{dc}), \\qquad
              Q_{ac} = q_{var} \\text{ if given, else } P_{ac}\\tan(\\arccos \\mathrm{pf})

    [W, var]: its DC output plus its own conversion loss (the DC results' ``p_grid_w``), and reactive power
    from its power factor (lagging: absorbed). The loss models take the DC operating point only, so the DC
    side is solved first and the AC side once after it; there is nothing to iterate.

Model (pandapower's): π-model lines (R, X, C per phase), T-model two-winding transformers (vk, vkr, iron
loss, no-load current; taps at neutral), ``ext_grid`` slacks (a transmission substation: an infinite bus),
PV generators (a plant's machine holding its terminal voltage; a ``slack`` one balances its island).
Validity: balanced three-phase steady state at system frequency; harmonics, unbalance and the stations'
own reactive-power limits are not modelled.

The pandapower network is built once per solve (:func:`prepare_ac_grid`); :func:`solve_ac_grid` only sets
the station loads and runs it, and copies every result out, so nothing of pandapower's state leaves this
module.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.solver.numerics.iteration_limit import iteration_limit_error, nose_iteration_cap

# Largest bus power mismatch pandapower iterates to: 1e-10 of the smallest station's apparent power, so that
# the coupling check (station AC power = DC power + losses, to 1e-9) measures the interface, not the
# tolerance; not below 1e-11 MVA (10 µW). Where that is below the round-off floor of a network's mismatch
# (about 1e-12 of the power flowing through its buses), the run stalls and is repeated ten times looser, up to
# pandapower's default (1e-8 MVA); the results record the tolerance used (``ac_tolerance_w``).
AC_RELATIVE_TOLERANCE = 1e-10
AC_TOLERANCE_FLOOR_MVA = 1e-11
PANDAPOWER_TOLERANCE_MVA = 1e-8
# A failed run whose last mismatch is below this [MVA] stalled at round-off rather than diverged.
ROUND_OFF_STALL_MVA = 1e-6
# Bisection steps on the stations' load when the load flow fails (2⁻¹² ≈ 0.02 % of the load).
AC_BISECTION_STEPS = 12
# Diagnostic checks of pandapower that say nothing about our networks: lines and transformers built from
# parameters have no standard type; the bus indices are continuous by construction; numba is optional.
_DIAGNOSTIC_NOISE = ("deviation_from_std_type", "test_continuous_bus_indices", "numba_comparison")

LINE_PARAMETERS = ("r_ohm_per_m", "x_ohm_per_m", "c_f_per_m", "max_i_a")
TRAFO_PARAMETERS = ("rated_power_va", "v_rated_hv_v", "v_rated_lv_v", "vk_percent", "vkr_percent", "p_fe_w",
                    "i0_percent", "shift_degree")
# pandapower's names and factors (ours SI × factor = pandapower's) of the same quantities.
_PP_LINE = {"r_ohm_per_m": ("r_ohm_per_km", 1e3), "x_ohm_per_m": ("x_ohm_per_km", 1e3),
            "c_f_per_m": ("c_nf_per_km", 1e12), "max_i_a": ("max_i_ka", 1e-3)}
_PP_TRAFO = {"rated_power_va": ("sn_mva", 1e-6), "v_rated_hv_v": ("vn_hv_kv", 1e-3),
             "v_rated_lv_v": ("vn_lv_kv", 1e-3), "vk_percent": ("vk_percent", 1.0),
             "vkr_percent": ("vkr_percent", 1.0), "p_fe_w": ("pfe_kw", 1e-3), "i0_percent": ("i0_percent", 1.0),
             "shift_degree": ("shift_degree", 1.0)}
_LINE_REQUIRED = ("r_ohm_per_m", "x_ohm_per_m")
_TRAFO_REQUIRED = ("rated_power_va", "v_rated_hv_v", "v_rated_lv_v", "vk_percent", "vkr_percent")
NO_RATING_KA = 1e9  # pandapower needs a line rating; lines without one get this and report no loading


def station_reactive_power(p_w, power_factor, q_var):
    r"""Reactive power [var] a station draws from its AC bus.

    .. math:: Q = P\,\tan(\arccos \mathrm{pf}) \quad\text{(lagging, absorbed)}, \qquad Q = q_{var} \text{ where given}

    Parameters
    ----------
    p_w : array_like
        Active power drawn [W].
    power_factor : array_like
        Displacement power factor, 0 < pf <= 1 [1].
    q_var : array_like
        Reactive power given explicitly [var]; NaN where not given.

    >>> float(station_reactive_power(1e6, 0.8, np.nan))  # 3-4-5 triangle
    750000.0000000001
    """
    p_w, pf, q_var = (np.asarray(x, dtype=float) for x in (p_w, power_factor, q_var))
    return np.where(np.isnan(q_var), p_w * np.tan(np.arccos(pf)), q_var)


@dataclass(frozen=True)
class AcGrid:
    """The pandapower network of a case and how its elements map to the case's tables (row i of each AC
    table is pandapower index i of the same element; station k is pandapower load k)."""

    net: object
    station_rows: np.ndarray  # source-table row of each coupled station
    station_bus: np.ndarray  # its ac_bus row
    line_max_i_a: np.ndarray  # [A] rating of one circuit, NaN where none
    line_parallel: np.ndarray
    ext_grid_rows: np.ndarray  # ac_supply rows that are ext_grids (pandapower ext_grid index = row)
    gen_rows: np.ndarray  # ac_supply rows that are gens (pandapower gen index = row)
    version: str


@dataclass(frozen=True)
class AcState:
    """Results of one AC load flow, SI units, in the rows of the case's AC tables (NaN where out of service
    or isolated)."""

    vm_pu: np.ndarray
    va_degree: np.ndarray
    line: dict  # p_from_w, q_from_var, p_to_w, q_to_var, loss_w, q_loss_var, i_a, loading
    trafo: dict  # p_hv_w, q_hv_var, p_lv_w, q_lv_var, loss_w, q_loss_var, loading
    supply_p_w: np.ndarray
    supply_q_var: np.ndarray
    station_p_w: np.ndarray  # what pandapower drew at each coupled station
    station_q_var: np.ndarray
    bus_balance_residual: np.ndarray  # per station bus: |injections − loads − branch flows out| / loads
    iterations: int
    max_mismatch_w: float
    tolerance_w: float  # the mismatch tolerance the load flow ran with


def _element(table, ids, i) -> str:
    return f"{table} '{ids[i]}'"


def _resolved(case, table: str, std_kind: str, names, required, defaults, pp_names, available):
    """Parameters of every row of an AC line or transformer table in SI: from its pandapower standard type
    or given explicitly (never both), with the per-row checks."""
    df = case.tables[table]
    ids = df["id"].to_numpy()
    std = df["std_type"].to_numpy(dtype=object)
    has_std = std != ""
    out = {n: df[n].to_numpy(dtype=float).copy() for n in names}
    for n in names:
        both = has_std & ~np.isnan(out[n])
        if both.any():
            i = int(np.flatnonzero(both)[0])
            raise CaseError(f"given together with std_type '{std[i]}', which sets it", file=case.file,
                            element=_element(table, ids, i), field=n, value=out[n][i],
                            allowed="empty when std_type is given")
    for i in np.flatnonzero(has_std):
        if std[i] not in available.index:
            known = ", ".join(available.index[:6])
            raise CaseError(f"not a pandapower standard {std_kind} type", file=case.file,
                            element=_element(table, ids, i), field="std_type", value=std[i],
                            allowed=f"one of pandapower's {std_kind} types ({known}, ...)")
        row = available.loc[std[i]]
        for n in names:
            pp_name, factor = pp_names[n]
            out[n][i] = float(row[pp_name]) / factor
    for n in required:
        missing = ~has_std & np.isnan(out[n])
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise CaseError("required unless std_type is given", file=case.file, element=_element(table, ids, i),
                            field=n)
    for n, value in defaults.items():
        out[n] = np.where(np.isnan(out[n]), value, out[n])
    return out


def _check_levels(case, bus_vn, ac_bus_row):
    """Lines join buses of one nominal voltage; transformers have their HV winding on the higher one."""
    lines, trafos = case.tables["ac_line"], case.tables["ac_trafo"]
    a, b = ac_bus_row(lines["from_bus"]), ac_bus_row(lines["to_bus"])
    bad = ~np.isclose(bus_vn[a], bus_vn[b], rtol=1e-9)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("joins buses of different nominal voltage (a transformer joins voltage levels)",
                        file=case.file, element=_element("ac_line", lines["id"].to_numpy(), i), field="to_bus",
                        value=lines["to_bus"].iloc[i],
                        allowed=f"a bus at {bus_vn[a[i]]:g} V like from_bus '{lines['from_bus'].iloc[i]}'")
    hv, lv = ac_bus_row(trafos["hv_bus"]), ac_bus_row(trafos["lv_bus"])
    bad = bus_vn[hv] < bus_vn[lv]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("the HV winding is on the lower-voltage bus", file=case.file,
                        element=_element("ac_trafo", trafos["id"].to_numpy(), i), field="hv_bus",
                        value=trafos["hv_bus"].iloc[i],
                        allowed=f"a bus at or above lv_bus '{trafos['lv_bus'].iloc[i]}' ({bus_vn[lv[i]]:g} V)")


def _coupled_stations(case) -> np.ndarray:
    """Rows of the stations that draw from the grid side; every station in service must be one of them."""
    src = case.tables["source"]
    coupled = src["ac_bus"].to_numpy(dtype=object) != ""
    loose = src["in_service"].to_numpy(bool) & ~coupled
    if not coupled.any():
        raise CaseError("the case has a grid side (ac_bus table) but no station draws from it", file=case.file,
                        element="table 'source'", field="ac_bus", allowed="the AC bus of each station")
    if loose.any():
        i = int(np.flatnonzero(loose)[0])
        raise CaseError("a station in service without an AC bus, in a case with a grid side", file=case.file,
                        element=_element("source", src["id"].to_numpy(), i), field="ac_bus",
                        allowed="an id of the ac_bus table")
    return np.flatnonzero(coupled)


def _check_slacks(case, n_bus, ac_bus_row, station_bus):
    """Every AC island with a station has a slack: an in-service ext_grid or slack gen."""
    lines, trafos, sup = case.tables["ac_line"], case.tables["ac_trafo"], case.tables["ac_supply"]
    on_l, on_t = lines["in_service"].to_numpy(bool), trafos["in_service"].to_numpy(bool)
    a = np.concatenate([ac_bus_row(lines["from_bus"])[on_l], ac_bus_row(trafos["hv_bus"])[on_t]])
    b = np.concatenate([ac_bus_row(lines["to_bus"])[on_l], ac_bus_row(trafos["lv_bus"])[on_t]])
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n_bus, n_bus))
    _, island = connected_components(graph, directed=False)
    kind = sup["kind"].to_numpy(dtype=object)
    slack = sup["in_service"].to_numpy(bool) & ((kind == "ext_grid") | sup["slack"].to_numpy(bool))
    fed = np.zeros(island.max() + 1 if n_bus else 0, dtype=bool)
    fed[island[ac_bus_row(sup["bus"])[slack]]] = True
    src = case.tables["source"]
    for k, row in enumerate(src.index[_coupled_stations(case)]):
        if not fed[island[station_bus[k]]]:
            bus_id = src["ac_bus"].iloc[row]
            raise CaseError("the station's AC bus is in an island with no slack (no ext_grid and no gen with "
                            "slack = true reaches it)", file=case.file,
                            element=_element("source", src["id"].to_numpy(), row), field="ac_bus", value=bus_id,
                            allowed="a bus connected to an ext_grid or a slack gen")


@cache
def _empty_network_template():
    import pandapower as pp

    return pp.create_empty_network()


def _empty_network():
    """A new empty pandapower network: a copy of one made once per process (pandapower's constructor builds
    about a hundred empty tables, ten times slower than copying them). The template is never changed."""
    import copy

    return copy.deepcopy(_empty_network_template())


def prepare_ac_grid(case) -> AcGrid:
    """Check the grid side of ``case`` and build its pandapower network (stations as loads of zero power).

    Raises
    ------
    CaseError
        A station in service without an AC bus (or no station on the grid side), a line or transformer
        given both a standard type and parameters, or neither, an unknown standard type, a line between
        voltage levels, a transformer upside down, a gen that is neither slack nor given ``p_w``, an island
        with stations but no slack.
    """
    import pandapower as pp

    t = case.tables
    buses, lines, trafos, sup, src = t["ac_bus"], t["ac_line"], t["ac_trafo"], t["ac_supply"], t["source"]
    bus_index = {b: i for i, b in enumerate(buses["id"].to_numpy())}

    def ac_bus_row(col):
        return np.fromiter((bus_index[b] for b in col), dtype=np.int64, count=len(col))

    bus_vn = buses["v_nominal_v"].to_numpy(float)
    stations = _coupled_stations(case)
    station_bus = ac_bus_row(src["ac_bus"].to_numpy()[stations])
    _check_levels(case, bus_vn, ac_bus_row)
    kind = sup["kind"].to_numpy(dtype=object)
    free_gen = (kind == "gen") & ~sup["slack"].to_numpy(bool) & np.isnan(sup["p_w"].to_numpy(float))
    if free_gen.any():
        i = int(np.flatnonzero(free_gen)[0])
        raise CaseError("required for a gen that is not the slack", file=case.file,
                        element=_element("ac_supply", sup["id"].to_numpy(), i), field="p_w",
                        allowed="a power [W], or slack = true")
    _check_slacks(case, len(buses), ac_bus_row, station_bus)
    angled_gen = (kind == "gen") & (sup["va_degree"].to_numpy(float) != 0.0)
    if angled_gen.any():
        i = int(np.flatnonzero(angled_gen)[0])
        raise CaseError("a gen holds no voltage angle (a slack gen is the angle reference, 0°)", file=case.file,
                        element=_element("ac_supply", sup["id"].to_numpy(), i), field="va_degree",
                        value=sup["va_degree"].iloc[i], allowed="0 for a gen; an ext_grid holds an angle")
    net = _empty_network()
    net.name = case.name
    line_p = _resolved(case, "ac_line", "line", LINE_PARAMETERS, _LINE_REQUIRED, {"c_f_per_m": 0.0}, _PP_LINE,
                       pp.available_std_types(net, "line"))
    trafo_p = _resolved(case, "ac_trafo", "trafo", TRAFO_PARAMETERS, _TRAFO_REQUIRED,
                        {"p_fe_w": 0.0, "i0_percent": 0.0, "shift_degree": 0.0}, _PP_TRAFO,
                        pp.available_std_types(net, "trafo"))
    no_reactance = trafo_p["vkr_percent"] >= trafo_p["vk_percent"]  # x = sqrt(vk² − vkr²) must be real, > 0
    if no_reactance.any():
        i = int(np.flatnonzero(no_reactance)[0])
        raise CaseError("the short-circuit voltage's resistive part must be below the short-circuit voltage "
                        "(the leakage reactance is their quadrature difference)", file=case.file,
                        element=_element("ac_trafo", trafos["id"].to_numpy(), i), field="vkr_percent",
                        value=float(trafo_p["vkr_percent"][i]), allowed=f"< vk_percent = {trafo_p['vk_percent'][i]:g} %")

    pp.create_buses(net, len(buses), vn_kv=bus_vn / 1e3, index=np.arange(len(buses)),
                    name=buses["id"].to_numpy())
    if len(lines):
        length_km = lines["length_m"].to_numpy(float) / 1e3
        rated = ~np.isnan(line_p["max_i_a"])
        pp.create_lines_from_parameters(
            net, ac_bus_row(lines["from_bus"]), ac_bus_row(lines["to_bus"]), length_km=length_km,
            r_ohm_per_km=line_p["r_ohm_per_m"] * 1e3, x_ohm_per_km=line_p["x_ohm_per_m"] * 1e3,
            c_nf_per_km=line_p["c_f_per_m"] * 1e12, max_i_ka=np.where(rated, line_p["max_i_a"] / 1e3, NO_RATING_KA),
            name=lines["id"].to_numpy(), index=np.arange(len(lines)), parallel=lines["n_parallel"].to_numpy(np.int64),
            in_service=lines["in_service"].to_numpy(bool))
    if len(trafos):
        pp.create_transformers_from_parameters(
            net, ac_bus_row(trafos["hv_bus"]), ac_bus_row(trafos["lv_bus"]),
            sn_mva=trafo_p["rated_power_va"] / 1e6, vn_hv_kv=trafo_p["v_rated_hv_v"] / 1e3,
            vn_lv_kv=trafo_p["v_rated_lv_v"] / 1e3, vkr_percent=trafo_p["vkr_percent"],
            vk_percent=trafo_p["vk_percent"], pfe_kw=trafo_p["p_fe_w"] / 1e3, i0_percent=trafo_p["i0_percent"],
            shift_degree=trafo_p["shift_degree"], name=trafos["id"].to_numpy(), index=np.arange(len(trafos)),
            parallel=trafos["n_parallel"].to_numpy(np.int64), in_service=trafos["in_service"].to_numpy(bool))
    sup_bus = ac_bus_row(sup["bus"])
    on = sup["in_service"].to_numpy(bool)
    ext_rows, gen_rows = np.flatnonzero(kind == "ext_grid"), np.flatnonzero(kind == "gen")
    for i in ext_rows:
        pp.create_ext_grid(net, sup_bus[i], vm_pu=float(sup["vm_pu"].iloc[i]), va_degree=float(sup["va_degree"].iloc[i]),
                           name=sup["id"].iloc[i], in_service=bool(on[i]), index=int(i))
    if gen_rows.size:  # in_service per row is not vectorised in create_gens: set after
        p_gen = sup["p_w"].to_numpy(float)[gen_rows]
        pp.create_gens(net, sup_bus[gen_rows], p_mw=np.nan_to_num(p_gen) / 1e6,
                       vm_pu=sup["vm_pu"].to_numpy(float)[gen_rows],
                       sn_mva=sup["rated_power_va"].to_numpy(float)[gen_rows] / 1e6,
                       name=sup["id"].to_numpy()[gen_rows], slack=sup["slack"].to_numpy(bool)[gen_rows],
                       index=gen_rows)
        net.gen["in_service"] = on[gen_rows]
    pp.create_loads(net, station_bus, p_mw=np.zeros(stations.size), q_mvar=np.zeros(stations.size),
                    name=src["id"].to_numpy()[stations], index=np.arange(stations.size),
                    in_service=src["in_service"].to_numpy(bool)[stations])
    return AcGrid(net=net, station_rows=stations, station_bus=station_bus, line_max_i_a=line_p["max_i_a"],
                  line_parallel=lines["n_parallel"].to_numpy(float), ext_grid_rows=ext_rows, gen_rows=gen_rows,
                  version=pp.__version__)


def ac_tolerance_mva(p_w, q_var) -> float:
    """Mismatch tolerance [MVA] of the load flow for stations drawing ``p_w`` [W] and ``q_var`` [var] (see
    :data:`AC_RELATIVE_TOLERANCE`)."""
    s = np.hypot(np.asarray(p_w, dtype=float), np.asarray(q_var, dtype=float))
    s = s[s > 0]
    return max(AC_RELATIVE_TOLERANCE * float(s.min()) / 1e6 if s.size else 0.0, AC_TOLERANCE_FLOOR_MVA)


def _run(net, max_iterations: int, tolerance_mva: float, warm: bool = False) -> None:
    """pandapower's Newton–Raphson. ``numba=False``: pandapower's numba kernels are not cached on disk, so
    every process would compile them first (about 7 s here), for about 25 ms saved per run on a grid of a
    few hundred buses. ``warm``: start from the network's last converged results (``init="results"``), else
    from pandapower's ``"auto"`` (a DC load flow for the angles)."""
    import pandapower as pp

    init = "results" if warm and getattr(net, "converged", False) else "auto"
    try:
        pp.runpp(net, algorithm="nr", calculate_voltage_angles=True, init=init, max_iteration=max_iterations,
                 tolerance_mva=tolerance_mva, trafo_model="t", enforce_q_lims=False, numba=False)
    except (FloatingPointError, RuntimeError) as err:
        # pandapower builds its admittances under np.errstate(all="raise"); SuperLU raises RuntimeError on a
        # matrix it cannot factorize. Both come from per-unit impedances far outside any physical range.
        raise CaseError(f"its admittance matrix cannot be formed or factorized ({str(err).strip()}): an "
                        "impedance, length, rating or rated voltage is far outside any physical range (a rating "
                        "of 1e-269 VA, say)", element="AC grid side") from None


def _set_loads(net, p_w, q_var, scale: float = 1.0) -> None:
    net.load["p_mw"] = np.asarray(p_w, dtype=float) * (scale / 1e6)
    net.load["q_mvar"] = np.asarray(q_var, dtype=float) * (scale / 1e6)


def solve_ac_grid(grid: AcGrid, p_w, q_var, *, max_iterations: int = 30, case=None, warm: bool = False) -> AcState:
    """Run the AC load flow with the stations drawing ``p_w`` [W] and ``q_var`` [var] (one value per coupled
    station, in the order of ``grid.station_rows``) and copy the results out. ``warm``: start from the grid's
    last converged load flow (many solves of variants of one campus on one prepared grid); the result is the
    same to the tolerance.

    Raises
    ------
    ConvergenceError
        When pandapower's Newton–Raphson does not converge: names the weakest bus (the lowest voltage at the
        largest share of the load that does converge, found by bisection) and pandapower's own diagnosis
        (:func:`pandapower.diagnostic`); ``details`` holds them.
    """
    from pandapower.powerflow import LoadflowNotConverged

    net = grid.net
    _set_loads(net, p_w, q_var)
    tolerance = ac_tolerance_mva(p_w, q_var)
    while True:
        try:
            _run(net, max_iterations, tolerance, warm)
            break
        except LoadflowNotConverged:
            # Stalled at the round-off floor of this network's mismatch (close to a solution)? Ten times
            # looser, up to pandapower's default; else (or then) it does not converge.
            if tolerance >= PANDAPOWER_TOLERANCE_MVA or _last_mismatch_mva(net) > ROUND_OFF_STALL_MVA:
                raise ac_convergence_error(grid, p_w, q_var, max_iterations, case, tolerance_mva=tolerance,
                                           mismatch_mva=_last_mismatch_mva(net)) from None
            tolerance = min(10.0 * tolerance, PANDAPOWER_TOLERANCE_MVA)
    return _read(grid, tolerance)


def _last_mismatch_mva(net) -> float:
    """Largest P or Q mismatch [MVA] of pandapower's last iterate (inf when it has none)."""
    try:
        internal = net._ppc["internal"]
        v = internal["V"]
        mis = v * np.conj(internal["Ybus"] @ v) - internal["Sbus"]
        pq, pv = internal["pq"], internal["pv"]
        worst = max(np.abs(mis[pq].real).max(initial=0.0), np.abs(mis[pq].imag).max(initial=0.0),
                    np.abs(mis[pv].real).max(initial=0.0))
        return float(worst * internal["baseMVA"]) if np.isfinite(worst) else np.inf
    except (KeyError, TypeError, AttributeError):
        return np.inf


def _col(df, name, n, factor=1.0):
    """Column of a pandapower result table in our row order (index 0..n−1), times ``factor``."""
    return df[name].reindex(np.arange(n)).to_numpy(dtype=float) * factor


def _read(grid: AcGrid, tolerance_mva: float) -> AcState:
    net = grid.net
    nb, nl, nt, ns = len(net.bus), len(net.line), len(net.trafo), len(net.load)
    rl, rt = net.res_line, net.res_trafo
    line = {"p_from_w": _col(rl, "p_from_mw", nl, 1e6), "q_from_var": _col(rl, "q_from_mvar", nl, 1e6),
            "p_to_w": _col(rl, "p_to_mw", nl, 1e6), "q_to_var": _col(rl, "q_to_mvar", nl, 1e6),
            "loss_w": _col(rl, "pl_mw", nl, 1e6), "q_loss_var": _col(rl, "ql_mvar", nl, 1e6),
            "i_a": _col(rl, "i_ka", nl, 1e3)}
    # Loading of all circuits together against their combined rating (pandapower's i_ka is the total).
    line["loading"] = line["i_a"] / (grid.line_max_i_a * grid.line_parallel)
    trafo = {"p_hv_w": _col(rt, "p_hv_mw", nt, 1e6), "q_hv_var": _col(rt, "q_hv_mvar", nt, 1e6),
             "p_lv_w": _col(rt, "p_lv_mw", nt, 1e6), "q_lv_var": _col(rt, "q_lv_mvar", nt, 1e6),
             "loss_w": _col(rt, "pl_mw", nt, 1e6), "q_loss_var": _col(rt, "ql_mvar", nt, 1e6),
             "loading": _col(rt, "loading_percent", nt, 1e-2)}
    n_sup = int(max(grid.ext_grid_rows.max(initial=-1), grid.gen_rows.max(initial=-1))) + 1
    supply_p, supply_q = np.full(n_sup, np.nan), np.full(n_sup, np.nan)
    for rows, res in ((grid.ext_grid_rows, net.res_ext_grid), (grid.gen_rows, net.res_gen)):
        supply_p[rows] = res["p_mw"].reindex(rows).to_numpy(float) * 1e6
        supply_q[rows] = res["q_mvar"].reindex(rows).to_numpy(float) * 1e6
    station_p = _col(net.res_load, "p_mw", ns, 1e6)
    station_q = _col(net.res_load, "q_mvar", ns, 1e6)
    return AcState(vm_pu=_col(net.res_bus, "vm_pu", nb), va_degree=_col(net.res_bus, "va_degree", nb), line=line,
                   trafo=trafo, supply_p_w=supply_p, supply_q_var=supply_q, station_p_w=station_p,
                   station_q_var=station_q, bus_balance_residual=_station_bus_balance(grid, line, trafo, supply_p,
                                                                                      station_p),
                   iterations=int(net._ppc.get("iterations", -1)), max_mismatch_w=_max_mismatch_w(net),
                   tolerance_w=tolerance_mva * 1e6)


def _station_bus_balance(grid: AcGrid, line, trafo, supply_p, station_p) -> np.ndarray:
    """At each bus with stations, from the network side: (supplies − stations − power leaving through lines
    and transformers) / stations, with the branch flows pandapower computes from the bus voltages and the
    branch admittances. Zero means the network delivers exactly the stations' intake. Buses whose stations
    draw nothing are left out."""
    net = grid.net
    nb = len(net.bus)
    out = np.zeros(nb)
    for buses, flow in ((net.line["from_bus"], line["p_from_w"]), (net.line["to_bus"], line["p_to_w"]),
                        (net.trafo["hv_bus"], trafo["p_hv_w"]), (net.trafo["lv_bus"], trafo["p_lv_w"])):
        np.add.at(out, buses.to_numpy(np.int64), np.nan_to_num(flow))
    inject = np.zeros(nb)
    rows = np.concatenate([grid.ext_grid_rows, grid.gen_rows])
    sup_bus = np.concatenate([net.ext_grid["bus"].reindex(grid.ext_grid_rows).to_numpy(np.int64),
                              net.gen["bus"].reindex(grid.gen_rows).to_numpy(np.int64)])
    np.add.at(inject, sup_bus, np.nan_to_num(supply_p[rows]))
    load = np.zeros(nb)
    np.add.at(load, grid.station_bus, station_p)
    at = np.flatnonzero(load > 0)  # buses whose stations draw (out of service ones draw nothing)
    return np.abs(inject[at] - load[at] - out[at]) / load[at]


def _max_mismatch_w(net) -> float:
    """Largest bus power mismatch [W] of the converged solution: |V·conj(Y·V) − S| over the PQ buses (P and Q)
    and the PV buses (P), from pandapower's internal arrays."""
    return _last_mismatch_mva(net) * 1e6


def _diagnosis(net, max_iterations: int) -> dict:
    """pandapower's own diagnosis (:func:`pandapower.diagnostic`), the checks that found something."""
    import pandapower as pp

    try:
        found = pp.diagnostic(net, report_style=None, max_iteration=max_iterations,
                              tolerance_mva=PANDAPOWER_TOLERANCE_MVA, numba=False) or {}
    except Exception as err:  # noqa: BLE001 - a failing diagnosis must not hide the non-convergence
        return {"diagnostic_failed": f"{type(err).__name__}: {err}"}

    def truthy(x):
        if isinstance(x, dict):
            return {k: v for k, v in ((k, truthy(v)) for k, v in x.items()) if v}
        if isinstance(x, (list, tuple)):
            return [v for v in x if v]
        return x

    return {k: v for k, v in ((k, truthy(v)) for k, v in found.items() if k not in _DIAGNOSTIC_NOISE) if v}


def _diagnosis_text(diag: dict, net) -> str:
    """pandapower's findings in one line; element indices (ours are the case's rows) by the element's name."""
    def fmt(key, x):
        if isinstance(x, dict):
            return ", ".join(f"{k}" if v is True else f"{k} {fmt(k, v)}" for k, v in x.items())
        if isinstance(x, (list, tuple)):
            table = net[key] if isinstance(key, str) and key in ("bus", "line", "trafo", "load", "gen", "ext_grid") \
                else None
            if table is not None and all(isinstance(i, (int, np.integer)) and i in table.index for i in x):
                return ", ".join(f"'{table.at[i, 'name']}'" for i in x)
            return ", ".join(fmt(key, v) for v in x)
        return "" if x is True else str(x)

    if not diag:
        return "no check found anything"
    return "; ".join(f"{k} ({fmt(k, v)})" if fmt(k, v) else k for k, v in diag.items())


def ac_convergence_error(grid: AcGrid, p_w, q_var, max_iterations: int, case=None, *,
                         tolerance_mva: float = PANDAPOWER_TOLERANCE_MVA, mismatch_mva: float = float("nan")
                         ) -> ConvergenceError:
    """Explain a load flow that does not converge within ``max_iterations`` (``mismatch_mva`` [MVA] left).

    First the same load flow under :func:`~gigawatt.solver.numerics.iteration_limit.nose_iteration_cap`
    iterations: if it converges, the cap was the cause
    (:func:`~gigawatt.solver.numerics.iteration_limit.iteration_limit_error`). Otherwise bisect, under that same
    cap, on a uniform scaling of the stations' load for the largest share the grid carries, name the bus with
    the lowest voltage there (the weakest) and add pandapower's diagnosis."""
    from pandapower.powerflow import LoadflowNotConverged

    net = grid.net
    names = net.bus["name"].to_numpy()
    total = float(np.sum(p_w))
    cap = nose_iteration_cap({"max_iterations": max_iterations})
    prefix = f"{case.file}: " if case is not None and case.file else ""
    _set_loads(net, p_w, q_var)
    try:
        _run(net, cap, tolerance_mva)
    except LoadflowNotConverged:
        pass
    else:
        return iteration_limit_error(f"{prefix}the AC load flow (pandapower {grid.version}, Newton-Raphson)",
                                     max_iterations, mismatch_mva, f" (tolerance {tolerance_mva:.3g} MVA)",
                                     int(net._ppc["iterations"]), unit="MVA")
    lo, hi, weak = 0.0, 1.0, None
    for _ in range(AC_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        _set_loads(net, p_w, q_var, mid)
        try:
            _run(net, cap, PANDAPOWER_TOLERANCE_MVA)
        except LoadflowNotConverged:
            hi = mid
            continue
        lo = mid
        vm = net.res_bus["vm_pu"].to_numpy(float)
        weak = int(np.nanargmin(vm)), float(np.nanmin(vm))
    _set_loads(net, p_w, q_var)
    diag = _diagnosis(net, max_iterations)
    if weak is None:
        bus = None
        where = (f"it does not converge even at {100 * hi:.3g} % of the stations' load, so the network data "
                 "is at fault rather than the load")
    else:
        bus = str(names[weak[0]])
        where = (f"the grid carries at most about {100 * lo:.3g} % of the stations' load ({lo * total / 1e6:.6g} of "
                 f"{total / 1e6:.6g} MW); the weakest bus there is '{bus}' at {weak[1]:.4f} pu")
    msg = (f"{prefix}the AC load flow (pandapower {grid.version}, Newton-Raphson) does not converge: {where}; "
           f"pandapower's diagnosis: {_diagnosis_text(diag, net)}")
    return ConvergenceError(msg, details={"bus": bus, "load_scale": lo, "max_power_w": lo * total,
                                          "asked_power_w": total, "diagnostic": diag})
