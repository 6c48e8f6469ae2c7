r"""Twin pipes in the district-heating network: a supply pipe and its return in one casing.

A ``dh_pipe`` that names a ``twin_pipe`` shares its casing with it. The pair loses heat to the ground through
:math:`U'_g` each and passes heat from the warmer pipe to the colder through :math:`U'_x`, Wallentén's
conductances (:func:`gigawatt.models.pipe_heat.twin_pipe_conductances`), and its steady temperatures follow
exactly from the coupled pair of linear equations along the casing
(:func:`gigawatt.models.twin_pipe_pair.twin_pipe_pair`).

In the network (steady thermal sweep, :mod:`gigawatt.solver.numerics.thermal_kernel`, and the transport-delay
series, :mod:`gigawatt.solver.district_heating.dynamics`) a pair couples the two sides: the return's inlet
follows from the supply's outlet through the consumers, so no single upwind sweep can solve it. The pair's map
is affine, :math:`\theta_{1,out} = a_{11}\theta_{1,in} + a_{12}\theta_{2,in}` (likewise for pipe 2), and a pipe's
own term is a single pipe's, :math:`a_{11} = e^{-N}`: each twin pipe enters the sweep as a single pipe with
:math:`N = -\ln a_{11}` and an ambient :math:`T_g + a_{12}\theta_{2,in}/(1 - a_{11})` (the partner's inlet of
the last sweep). The sweeps repeat until no twin pipe's inlet moves by more than :data:`TWIN_TOL_K` (a
contraction: the cross terms :math:`a_{12} a_{21}` are the square of the exchange's small share), which gives
the exact pair solution in the network. The heat the pair passes between its pipes is then taken from the
exact solution at the final inlets and moved out of the pipes' losses, :math:`+Q_x` from the first's and
:math:`-Q_x` from the second's, so the losses are those to the ground and the exchange cancels in the ledger by
construction (what one pipe gives, the other gets, to round-off).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.pipe_heat import steel_outer_diameter_m, twin_pipe_conductances
from gigawatt.models.twin_pipe_pair import twin_pipe_pair

TWIN_TOL_K = 1e-10
"""Largest change of a twin pipe's inlet temperature between two sweeps at which the coupling is solved [K]."""
MAX_TWIN_SWEEPS = 200
_U, _LENGTH, _T_AMB = 1, 2, 3  # columns of the thermal kernel's branch data (thermal_kernel.branch_data)


@dataclass(frozen=True)
class TwinPairs:
    """The twin pairs of a network, by index among the pipes in service: ``first`` names its twin ``second``;
    ``aligned``: both pipes' from_nodes at the same end; conductances per metre [W/(m K)] and length [m]."""

    first: np.ndarray
    second: np.ndarray
    aligned: np.ndarray
    u_ground_w_per_m_k: np.ndarray
    u_exchange_w_per_m_k: np.ndarray
    length_m: np.ndarray


def twin_geometry(pipes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pipe's (steel outer diameter, casing diameter, spacing of the pair's centres) [m] with the twin
    defaults of the schema (``twin_spacing_m``): a casing of 3.5 × the outer diameter + 0.075 m and the spacing
    (casing + outer diameter) / 3, which leaves equal insulation between the pipes and to the casing."""
    d = pipes["diameter_m"].to_numpy(float)
    od = steel_outer_diameter_m(d, pipes["outer_diameter_m"].to_numpy(float))
    casing = pipes["casing_diameter_m"].to_numpy(float)
    casing = np.where(np.isnan(casing), 3.5 * od + 0.075, casing)
    spacing = pipes["twin_spacing_m"].to_numpy(float)
    spacing = np.where(np.isnan(spacing), (casing + od) / 3.0, spacing)
    return od, casing, spacing


def prepare_twin_pipes(pipes_all: pd.DataFrame, live: np.ndarray, u_live: np.ndarray, case=None):
    """The network's twin pairs from the ``dh_pipe`` fields ``twin_pipe``, ``twin_aligned``, ``twin_spacing_m``,
    checked, and the heat-loss coefficient of each pipe in service [W/(m K)] with the twin pipes' set: U'_g for
    a pipe of a pair, and for one whose twin is out of service (its water standing beside it, at its steady
    temperature) U'_g + U'_g U'_x / (U'_g + U'_x). Returns ``(TwinPairs or None, u)``; input errors are
    :class:`CaseError` naming the pipe and field."""
    if "twin_pipe" not in pipes_all:
        return None, u_live
    names = pipes_all["twin_pipe"].to_numpy(object)
    named = np.zeros(names.size, dtype=bool)
    maybe = np.flatnonzero(names != "")  # most pipes name no twin: "" compared in one pass, the rest one by one
    named[maybe] = [isinstance(x, str) and x.strip() != "" for x in names[maybe]]
    if not named.any():
        return None, u_live
    file = case.file if case is not None else None
    ids = pipes_all["id"].to_numpy(object)
    index = pd.Index(ids)

    def bad(i, field, value, why, allowed):
        return CaseError(why, file=file, element=f"dh_pipe '{ids[i]}'", field=field, value=value, allowed=allowed)

    partner = np.full(ids.size, -1)
    for i in np.flatnonzero(named):
        j = int(index.get_indexer([names[i].strip()])[0])
        if j < 0:
            raise bad(i, "twin_pipe", names[i], "no dh_pipe has this id", "the id of another dh_pipe")
        if j == i:
            raise bad(i, "twin_pipe", names[i], "a pipe cannot be its own twin", "the id of another dh_pipe")
        for a, b in ((i, j), (j, i)):
            if partner[a] not in (-1, b):
                raise bad(a, "twin_pipe", names[i], "this pipe is already in another twin pair",
                          f"one twin per pipe (it pairs with '{ids[partner[a]]}')")
            partner[a] = b
    first = np.array([i for i in range(ids.size) if partner[i] >= 0 and (named[i] and (i < partner[i]
                                                                                       or not named[partner[i]]))],
                     dtype=np.int64)
    second = partner[first]
    # the casing and the spacing belong to the pair: given on either pipe (on both: alike), they hold for both
    shared = pipes_all[["casing_diameter_m", "twin_spacing_m"]].copy()
    for col in shared:
        v = shared[col].to_numpy(float).copy()
        for i, j in zip(first, second):
            if np.isnan(v[i]) or np.isnan(v[j]):
                v[i] = v[j] = v[i] if not np.isnan(v[i]) else v[j]
        shared[col] = v
    od, casing, spacing = twin_geometry(pipes_all.assign(**{c: shared[c] for c in shared}))
    u_given = pipes_all["u_w_per_m_k"].to_numpy(float)
    columns = {"length_m": pipes_all["length_m"].to_numpy(float), "outer_diameter_m": od,
               "casing_diameter_m": casing, "twin_spacing_m": spacing,
               "insulation_conductivity_w_per_m_k": pipes_all["insulation_conductivity_w_per_m_k"].to_numpy(float),
               "soil_conductivity_w_per_m_k": pipes_all["soil_conductivity_w_per_m_k"].to_numpy(float),
               "depth_m": pipes_all["depth_m"].to_numpy(float)}
    for i, j in zip(first, second):
        for k in (i, j):
            if not np.isnan(u_given[k]):
                raise bad(k, "u_w_per_m_k", float(u_given[k]), "a twin pipe's heat loss follows its geometry",
                          "empty for a pipe of a twin pair")
        for field, v in columns.items():
            if not np.isclose(v[i], v[j], rtol=1e-9, atol=0.0):
                raise bad(j, field, float(v[j]), f"the two pipes of a twin pair differ in {field}",
                          f"{v[i]:g}, as its twin '{ids[i]}'")
        r_p, r_c, half = od[i] / 2, casing[i] / 2, spacing[i] / 2
        for field, value, ok, allowed in (
                ("twin_spacing_m", spacing[i], spacing[i] > od[i], f"> the outer diameter {od[i]:g} m"),
                ("twin_spacing_m", spacing[i], half + r_p < r_c, f"< casing - outer diameter = {2 * (r_c - r_p):g} m"),
                ("depth_m", columns["depth_m"][i], columns["depth_m"][i] > r_c, f"> half the casing, {r_c:g} m")):
            if not ok:
                raise bad(i, field, float(value), "the twin pipe's geometry is impossible", allowed)
    u_g, u_x = twin_pipe_conductances(od[first], casing[first], spacing[first],
                                      columns["insulation_conductivity_w_per_m_k"][first],
                                      columns["soil_conductivity_w_per_m_k"][first], columns["depth_m"][first])
    live_pos = np.cumsum(live) - 1
    u = u_live.copy()
    both = live[first] & live[second]
    for k, (i, j) in enumerate(zip(first, second)):
        for a, b in ((i, j), (j, i)):
            if live[a]:
                stagnant = u_g[k] * u_x[k] / (u_g[k] + u_x[k]) if not live[b] else 0.0
                u[live_pos[a]] = u_g[k] + stagnant
    if not both.any():
        return None, u
    aligned_all = pipes_all["twin_aligned"].to_numpy(bool)
    for i, j in zip(first, second):
        if named[j] and aligned_all[i] != aligned_all[j]:
            raise bad(j, "twin_aligned", bool(aligned_all[j]),
                      "the two pipes of a twin pair disagree on how their ends lie",
                      f"{bool(aligned_all[i])}, as its twin '{ids[i]}'")
    aligned = aligned_all[first]
    pairs = TwinPairs(live_pos[first[both]], live_pos[second[both]], aligned[both], u_g[both], u_x[both],
                      columns["length_m"][first[both]])
    return pairs, u


@njit(cache=True)
def twin_maps(theta1_in, theta2_in, c1, c2, counter, u_g, u_x, length, out):
    """Per pair, the affine map of its outlets on its inlets and the heat passed at these inlets:
    ``out[k] = (a11, a12, a21, a22, q_exchange)`` (:func:`gigawatt.models.twin_pipe_pair.twin_pipe_pair`)."""
    for k in range(c1.size):
        r1 = twin_pipe_pair(1.0, 0.0, c1[k], c2[k], counter[k], u_g[k], u_x[k], length[k])
        r2 = twin_pipe_pair(0.0, 1.0, c1[k], c2[k], counter[k], u_g[k], u_x[k], length[k])
        rq = twin_pipe_pair(theta1_in[k], theta2_in[k], c1[k], c2[k], counter[k], u_g[k], u_x[k], length[k])
        out[k, 0], out[k, 1], out[k, 2], out[k, 3], out[k, 4] = r1[0], r2[0], r1[1], r2[1], rq[4]


def _flows(pairs, tnet, m_branch):
    """Capacity rates [W/K], upstream nodes and whether the pair runs in counter-flow, at these branch flows."""
    i, j = pairs.first, pairs.second
    m1, m2 = m_branch[i], m_branch[j]
    cp = np.broadcast_to(np.asarray(tnet.cp_branch, dtype=float), (tnet.n_branch,))
    d2 = np.sign(m2) * np.where(pairs.aligned, 1.0, -1.0)
    counter = np.sign(m1) * d2 < 0
    up1 = np.where(m1 >= 0, tnet.branch_from[i], tnet.branch_to[i])
    up2 = np.where(m2 >= 0, tnet.branch_from[j], tnet.branch_to[j])
    return np.abs(m1) * cp[i], np.abs(m2) * cp[j], counter, up1, up2


def _effective(c, a_self, a_cross, theta_partner, t_ground, pairs):
    """A twin pipe as a single pipe of the sweep: (U [W/(m K)], ambient [K]) that give its outlet
    a_self θ_in + a_cross θ_partner; a pipe whose water stands tends to the ground and its partner's inlet,
    U'_g + U'_x and T_g + U'_x θ_partner / (U'_g + U'_x)."""
    u_g, u_x, length = pairs.u_ground_w_per_m_k, pairs.u_exchange_w_per_m_k, pairs.length_m
    with np.errstate(divide="ignore", invalid="ignore"):
        loses = (c > 0) & (a_self < 1.0)
        ntu = -np.log(np.maximum(a_self, 1e-300))
        stands = c <= 0
        u = np.where(loses, ntu * c / length, np.where(stands, u_g + u_x, 0.0))
        amb = t_ground + np.where(loses, a_cross * theta_partner / (1.0 - a_self),
                                  np.where(stands & (u_g + u_x > 0), u_x * theta_partner / (u_g + u_x), 0.0))
    return u, amb


def twin_surroundings(pairs: TwinPairs, tnet, m_branch, t_node_k, t_ground_k):
    """Each twin pipe as a single pipe at these branch flows, with its partner's inlet at these node temperatures
    [K] and the ground at ``t_ground_k`` (per branch) [K]: ``(rows, U [W/(m K)], ambient [K])``, rows the pipes'
    branch indices (first pipes, then second). What :func:`solve_with_twins` sweeps with, and what a time series
    holds over a step (the partner's inlet of the last step)."""
    m_branch = np.asarray(m_branch, dtype=float)
    c1, c2, counter, up1, up2 = _flows(pairs, tnet, m_branch)
    maps = np.empty((c1.size, 5))
    twin_maps(np.zeros(c1.size), np.zeros(c1.size), c1, c2, counter, pairs.u_ground_w_per_m_k,
              pairs.u_exchange_w_per_m_k, pairs.length_m, maps)
    g1, g2 = t_ground_k[pairs.first], t_ground_k[pairs.second]
    u1, amb1 = _effective(c1, maps[:, 0], maps[:, 1], t_node_k[up2] - g2, g1, pairs)
    u2, amb2 = _effective(c2, maps[:, 3], maps[:, 2], t_node_k[up1] - g1, g2, pairs)
    return (np.concatenate([pairs.first, pairs.second]), np.concatenate([u1, u2]), np.concatenate([amb1, amb2]))


def solve_with_twins(tnet, pairs: TwinPairs, node_value, m_branch, m_node, q_gain_w=None, warm=None):
    """The thermal sweep of ``tnet`` (a prepared :class:`gigawatt.solver.numerics.thermal_kernel.ThermalNetwork`
    whose first branches are the pipes in service) with its twin pairs solved exactly (module notes): the
    ``ThermalResult`` with each twin pipe's ``q_loss_w`` its loss to the ground [W]. ``warm``: a dict holding the
    pipes' inlet temperatures of an earlier call (``"t1"``, ``"t2"`` [K]) to start from, updated with this call's
    (a start only: the answer is the same to :data:`TWIN_TOL_K`); None or empty: start from the pairs as single
    pipes. ``ConvergenceError`` if the coupling does not settle in :data:`MAX_TWIN_SWEEPS` sweeps."""
    m_branch = np.asarray(m_branch, dtype=float)
    c1, c2, counter, up1, up2 = _flows(pairs, tnet, m_branch)
    t_g = tnet.branches[:, _T_AMB]
    g1, g2 = t_g[pairs.first], t_g[pairs.second]
    maps = np.empty((c1.size, 5))
    twin_maps(np.zeros(c1.size), np.zeros(c1.size), c1, c2, counter, pairs.u_ground_w_per_m_k,
              pairs.u_exchange_w_per_m_k, pairs.length_m, maps)
    net = copy.copy(tnet)
    net.branches = tnet.branches.copy()
    if warm:
        t1, t2 = warm["t1"], warm["t2"]
    else:
        th = tnet.solve(node_value, m_branch, m_node, q_gain_w=q_gain_w)  # the pairs as single pipes to start
        t1, t2 = th.t_node_k[up1], th.t_node_k[up2]
    for _ in range(MAX_TWIN_SWEEPS):
        for rows, c, a_self, a_cross, theta_partner, g in (
                (pairs.first, c1, maps[:, 0], maps[:, 1], t2 - g2, g1),
                (pairs.second, c2, maps[:, 3], maps[:, 2], t1 - g1, g2)):
            u, amb = _effective(c, a_self, a_cross, theta_partner, g, pairs)
            net.branches[rows, _U] = u
            net.branches[rows, _T_AMB] = amb
        th = net.solve(node_value, m_branch, m_node, q_gain_w=q_gain_w)
        n1, n2 = th.t_node_k[up1], th.t_node_k[up2]
        change = float(np.max(np.abs(np.concatenate([n1 - t1, n2 - t2])), initial=0.0))
        t1, t2 = n1, n2
        if change <= TWIN_TOL_K:
            break
    else:
        raise ConvergenceError(f"district heating: the twin pipes' coupling did not settle in {MAX_TWIN_SWEEPS} "
                               f"sweeps (an inlet still moved by {change:.3g} K)", details={"twin_change_k": change})
    if warm is not None:
        warm.update(t1=t1, t2=t2)
    q_x = twin_exchange_w(pairs, tnet, m_branch, th.t_node_k)
    q_loss = th.q_loss_w.copy()
    q_loss[pairs.first] -= q_x
    q_loss[pairs.second] += q_x
    return th._replace(q_loss_w=q_loss)


def twin_exchange_w(pairs: TwinPairs, tnet, m_branch, t_node_k) -> np.ndarray:
    """Heat each pair's first pipe gives its twin [W] (< 0: it takes heat), exactly, at these branch flows and
    node temperatures [K]."""
    c1, c2, counter, up1, up2 = _flows(pairs, tnet, np.asarray(m_branch, dtype=float))
    t_g = tnet.branches[:, _T_AMB]
    maps = np.empty((c1.size, 5))
    twin_maps(t_node_k[up1] - t_g[pairs.first], t_node_k[up2] - t_g[pairs.second], c1, c2, counter,
              pairs.u_ground_w_per_m_k, pairs.u_exchange_w_per_m_k, pairs.length_m, maps)
    return maps[:, 4]
