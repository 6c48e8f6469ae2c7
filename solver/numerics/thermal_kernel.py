"""Steady thermal network with known branch mass flows: temperatures everywhere, heat lost, heat ledger.

Given the mass flow of every branch (from a hydraulic solve), the steady temperatures follow in one sweep
along the flow: nodes are visited in upwind (topological) order of the directed graph the flows define,
each node mixes what flows into it, and each branch leaving it carries that temperature to its far end
with the exact exponential heat exchange of :func:`gigawatt.models.pipe_heat.pipe_outlet_temperature`.
No iteration and no linear system: one pass, O(nodes + branches).

The kernels (:func:`upwind_order`, :func:`sweep`, :func:`thermal_sweep`, :func:`incidence`) are
``numba.njit(cache=True)`` functions written once; with ``NUMBA_DISABLE_JIT=1`` the same source runs as plain
Python. They take plain typed arrays. :func:`sweep` finds the upwind order and the temperatures in the same
pass (Kahn's algorithm, solving each node as it becomes ready) over a node-branch incidence built once.
:func:`solve_thermal_network` is the small Python layer that broadcasts scalars, calls them, turns kernel
status codes into errors for people and returns a named result; :func:`prepare_thermal_network` does the
set-up once for repeated solves (10,240 racks: about 1.5 ms a solve against 12 ms before, see
``gigawatt bench``). Where the flows stay too and only the node values change (a coolant loop's heat from step
to step), :meth:`ThermalNetwork.with_flows` records the sweep once (:func:`sweep_plan`: its order, capacity
rates and exponentials) and each solve replays the rest (:func:`sweep_replay`), to the same bits.

Conventions (SI throughout)
---------------------------
* Branch ``b`` joins ``branch_from[b]`` to ``branch_to[b]``; ``m_branch_kg_s[b] > 0`` flows from → to,
  ``< 0`` flows to → from. The sign alone sets the direction; any branch may carry either.
* Node kinds (``node_kind``): ``NODE_JUNCTION`` (perfect mixing), ``NODE_SUPPLY`` (fixed temperature
  ``node_value[n]`` [K]: a plant or an external grid; it takes whatever heat keeps its temperature and
  balances the mass of the network, like pandapipes' ``ext_grid``), ``NODE_HEAT`` (perfect mixing, then
  heat ``node_value[n]`` [W] taken out: > 0 a consumer, < 0 a source), ``NODE_OUTLET_T`` (perfect mixing,
  then brought to the temperature ``node_value[n]`` [K]; the heat that takes is reported as extracted).
* ``m_node_kg_s[n]``: mass leaving (< 0) or entering (> 0) the network at node ``n`` from outside (a sink
  or a source of fluid). Fluid may enter only at supply nodes (elsewhere its temperature is unknown);
  fluid leaving takes the node temperature with it.
* Mixing: ``sum_in |m_i| cp_i (T_i - T_node) = Q_node`` with a constant ``cp`` per branch (and per node
  for fluid leaving at nodes), so no reference temperature enters the temperatures, and a series joint
  of two branches with different cp keeps the temperature continuous. The ledger counts enthalpy flows
  ``|m| cp (T - t_ref_k)``; where cp changes across a node it carries the term ``cp_step_w`` that makes
  those flows add up (zero with one cp, whose ledger is independent of ``t_ref_k``).
* Zero flow: a branch with ``m = 0`` has no upstream end; its "outlet" temperature is reported as its
  ambient temperature (the steady state of stagnant fluid exchanging heat with its surroundings, the
  limit ``pipe_outlet_temperature`` takes) and it loses no heat. A node that no flow reaches (a dead end
  behind zero-flow branches) takes the mean ambient temperature of its zero-flow branches; an isolated
  node with no branch at all gets NaN.
* Heat loss > 0 when the fluid is warmer than its surroundings.

References
----------
.. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer, 7th ed., Wiley 2011, eq. 8.46a
   (via :mod:`gigawatt.models.pipe_heat`).
.. [2] A. B. Kahn, "Topological sorting of large networks", Communications of the ACM 5(11), 558-562
   (1962), doi:10.1145/368996.369025.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from gigawatt.errors import CaseError
from gigawatt.models.pipe_heat import frictional_heat_outlet_share, pipe_outlet_and_loss
from gigawatt.solver.numerics.work_arrays import ScratchPool

NODE_JUNCTION = 0
NODE_SUPPLY = 1
NODE_HEAT = 2
NODE_OUTLET_T = 3
NODE_KINDS = {"junction": NODE_JUNCTION, "supply": NODE_SUPPLY, "heat": NODE_HEAT, "outlet_t": NODE_OUTLET_T}

# Kernel status codes (second return value of thermal_sweep); the node index is the third.
STATUS_OK = 0
STATUS_CYCLE = 1            # flow circulates around a loop with no inflow; node: one on the loop
STATUS_MASS_IMBALANCE = 2   # inflow != outflow at a node that is not a supply; node: that node
STATUS_INFLOW_NO_T = 3      # fluid enters from outside at a node with no supply temperature

# Relative tolerance of the mass balance at non-supply nodes, against the largest flow through the node:
# flows from a hydraulic solve balance to its own tolerance (1e-9 and tighter), far inside this.
MASS_BALANCE_RTOL = 1e-6


_PW_BLOCK = 128
"""NumPy's block of its pairwise summation (``PW_BLOCKSIZE`` in its ``loops_utils.h``)."""


@njit(cache=True)
def array_sum(a):
    """The sum ``np.sum`` gives of a contiguous float64 array, to the bit: NumPy's pairwise summation (runs of up
    to 128 summed in eight interleaved partial sums, a longer run split at half its length rounded down to a
    multiple of 8 and its halves summed apart, the result added to 0.0; 0.0 for none). Written here because a
    kernel's own ``np.sum`` adds in plain order, and a kernel that reports the totals of the arrays it fills
    should report NumPy's. (The halving is walked with a stack: numba's cache cannot keep a recursive kernel
    that other modules' kernels call.)"""
    n = a.shape[0]
    if n <= _PW_BLOCK:
        return 0.0 + _pairwise_block(a, 0, n)
    run_lo, run_n, expanded = np.empty(64, np.int64), np.empty(64, np.int64), np.zeros(64, np.bool_)
    value = np.empty(64)
    top, nv = 0, 0
    run_lo[0], run_n[0] = 0, n
    while top >= 0:
        m = run_n[top]
        if m <= _PW_BLOCK:
            value[nv] = _pairwise_block(a, run_lo[top], m)
            nv += 1
            top -= 1
        elif expanded[top]:  # both halves summed: their sum replaces them
            value[nv - 2] = value[nv - 2] + value[nv - 1]
            nv -= 1
            expanded[top] = False
            top -= 1
        else:
            expanded[top] = True
            m2 = m // 2
            m2 -= m2 % 8
            l0 = run_lo[top]
            run_lo[top + 1], run_n[top + 1], expanded[top + 1] = l0 + m2, m - m2, False  # the second half, summed last
            run_lo[top + 2], run_n[top + 2], expanded[top + 2] = l0, m2, False
            top += 2
    return 0.0 + value[0]


@njit(cache=True, inline="always")
def _pairwise_block(a, lo, n):
    """NumPy's sum of the run ``a[lo:lo + n]`` of at most 128 values (:func:`array_sum`)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    n8 = (n - n % 8) // 8
    for k in range(1, n8):  # unsigned indices: no negative-index wrap, so the eight sums run as NumPy's, in lanes
        i = np.uint64(lo + 8 * k)
        r0 += a[i]
        r1 += a[i + np.uint64(1)]
        r2 += a[i + np.uint64(2)]
        r3 += a[i + np.uint64(3)]
        r4 += a[i + np.uint64(4)]
        r5 += a[i + np.uint64(5)]
        r6 += a[i + np.uint64(6)]
        r7 += a[i + np.uint64(7)]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(lo + 8 * n8, lo + n):
        res += a[i]
    return res


@njit(cache=True)
def upwind_order(n_nodes, branch_from, branch_to, m_branch_kg_s):
    """Nodes in upwind (topological) order of the flow, by Kahn's algorithm [2]_.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    branch_from, branch_to : numpy.ndarray of int64
        End nodes of each branch.
    m_branch_kg_s : numpy.ndarray of float64
        Mass flow of each branch [kg/s], > 0 from → to; zero-flow branches are no edges.

    Returns
    -------
    order : numpy.ndarray of int64
        Every node once, each after all nodes upstream of it (valid only if ``cycle_node < 0``).
    cycle_node : int
        -1, or a node on a directed cycle of flow (then no upwind order exists).
    """
    n_br = branch_from.shape[0]
    indeg = np.zeros(n_nodes, np.int64)
    outdeg = np.zeros(n_nodes + 1, np.int64)
    for b in range(n_br):
        m = m_branch_kg_s[b]
        if m > 0.0:
            indeg[branch_to[b]] += 1
            outdeg[branch_from[b] + 1] += 1
        elif m < 0.0:
            indeg[branch_from[b]] += 1
            outdeg[branch_to[b] + 1] += 1
    start = np.cumsum(outdeg)  # CSR of downstream neighbours
    fill = start[:-1].copy()
    down = np.empty(start[-1], np.int64)
    for b in range(n_br):
        m = m_branch_kg_s[b]
        if m > 0.0:
            down[fill[branch_from[b]]] = branch_to[b]
            fill[branch_from[b]] += 1
        elif m < 0.0:
            down[fill[branch_to[b]]] = branch_from[b]
            fill[branch_to[b]] += 1
    order = np.empty(n_nodes, np.int64)
    head = 0
    tail = 0
    for n in range(n_nodes):
        if indeg[n] == 0:
            order[tail] = n
            tail += 1
    while head < tail:
        n = order[head]
        head += 1
        for k in range(start[n], start[n + 1]):
            d = down[k]
            indeg[d] -= 1
            if indeg[d] == 0:
                order[tail] = d
                tail += 1
    if tail == n_nodes:
        return order, -1
    # Nodes left have an upstream neighbour left too; walking upstream from one of them must revisit a
    # node, and the first node revisited lies on a cycle.
    up = np.full(n_nodes, -1, np.int64)
    for b in range(n_br):
        m = m_branch_kg_s[b]
        if m > 0.0 and indeg[branch_to[b]] > 0 and indeg[branch_from[b]] > 0:
            up[branch_to[b]] = branch_from[b]
        elif m < 0.0 and indeg[branch_from[b]] > 0 and indeg[branch_to[b]] > 0:
            up[branch_from[b]] = branch_to[b]
    n = -1
    for k in range(n_nodes):
        if indeg[k] > 0:
            n = k
            break
    seen = np.zeros(n_nodes, np.bool_)
    while not seen[n]:
        seen[n] = True
        n = up[n]
    return order, n


@njit(cache=True)
def incidence(n_nodes, branch_from, branch_to):
    """Branches at each node, in branch order (a counting sort; a branch is listed at both its ends).

    Returns
    -------
    start : numpy.ndarray of int64
        ``[n_nodes + 1]``: node n's entries are ``start[n]:start[n + 1]`` of the arrays below.
    branch : numpy.ndarray of int64
        ``[2 n_branches]`` branch of each entry.
    other : numpy.ndarray of int64
        The node at the branch's other end.
    outward : numpy.ndarray of float64
        +1 where the node is the branch's ``from`` end (a positive flow leaves it), -1 at its ``to`` end.
    """
    start = np.zeros(n_nodes + 1, np.int64)
    for b in range(branch_from.shape[0]):
        start[branch_from[b] + 1] += 1
        start[branch_to[b] + 1] += 1
    for n in range(n_nodes):
        start[n + 1] += start[n]
    fill = start[:-1].copy()
    branch = np.empty(start[-1], np.int64)
    other = np.empty(start[-1], np.int64)
    outward = np.empty(start[-1])
    for b in range(branch_from.shape[0]):
        i, j = branch_from[b], branch_to[b]
        branch[fill[i]], other[fill[i]], outward[fill[i]] = b, j, 1.0
        fill[i] += 1
        branch[fill[j]], other[fill[j]], outward[fill[j]] = b, i, -1.0
        fill[j] += 1
    return start, branch, other, outward


# Columns of branch_data: per-branch data the sweep reads together, side by side (see SweepWork).
_CP = 0         # specific heat [J/(kg K)]
_U = 1          # heat-loss coefficient per metre [W/(m K)]
_LENGTH = 2     # length [m]
_T_AMB = 3      # surrounding temperature [K]
_BRANCH_COLUMNS = 4


def branch_data(cp_j_per_kg_k, u_w_per_m_k, length_m, t_ambient_k) -> np.ndarray:
    """The ``[n_branches, 4]`` array of :func:`sweep` (columns ``_CP``, ``_U``, ``_LENGTH``, ``_T_AMB``)."""
    return np.ascontiguousarray(np.stack([cp_j_per_kg_k, u_w_per_m_k, length_m, t_ambient_k], axis=1),
                                dtype=np.float64)


# Columns of SweepWork.node: what the sweep accumulates per node, side by side so that one node's data share a
# cache line (a node's neighbours in the sweep are seldom its neighbours in memory).
_M_IN = 0       # mass flowing in [kg/s]
_M_OUT = 1      # mass flowing out [kg/s]
_C_OUT = 2      # capacity rate flowing out [W/K]
_H_IN = 3       # enthalpy flowing in by branches, relative to t_ref_k [W]
_C_IN = 4       # capacity rate flowing in by branches [W/K]
_AMB_SUM = 5    # sum of the ambient temperatures of the zero-flow branches at the node [K]
_AMB_CNT = 6    # their number (a float holding a small integer)
_INDEG = 7      # flowing branches into the node not yet swept (likewise)
_NODE_COLUMNS = 8


class SweepWork(NamedTuple):
    """Scratch arrays of :func:`sweep`."""

    node: np.ndarray       # float64[n_nodes, 8]: the accumulators named by the _M_IN ... _INDEG columns
    stack: np.ndarray      # int64[n_nodes]: the nodes ready to be solved


def sweep_work(n_nodes: int) -> SweepWork:
    """Fresh :class:`SweepWork` arrays."""
    return SweepWork(np.empty((n_nodes, _NODE_COLUMNS)), np.empty(n_nodes, np.int64))


@njit(cache=True)
def _accumulate_flows(m_branch_kg_s, m_node_kg_s, branch_from, branch_to, branches, cp_node_j_per_kg_k, acc, t_out):
    """Per node, into the zeroed accumulators ``acc``: mass and capacity flowing in and out, the flowing branches
    in, and the zero-flow branches touching it with their ambient temperatures (for a node no flow reaches);
    each zero-flow branch's outlet temperature (its ambient) into ``t_out``. The first pass of :func:`sweep` and
    :func:`sweep_plan` alike (same operations, same order). Returns the number of flowing branches."""
    n_edges = 0
    for b in range(branch_from.shape[0]):
        m = m_branch_kg_s[b]
        if m > 0.0:
            up, dn = branch_from[b], branch_to[b]
        elif m < 0.0:
            up, dn = branch_to[b], branch_from[b]
        else:
            t_out[b] = branches[b, _T_AMB]
            for n in (branch_from[b], branch_to[b]):
                acc[n, _AMB_SUM] += branches[b, _T_AMB]
                acc[n, _AMB_CNT] += 1.0
            continue
        am = abs(m)
        acc[up, _M_OUT] += am
        acc[up, _C_OUT] += am * branches[b, _CP]
        acc[dn, _M_IN] += am
        acc[dn, _INDEG] += 1.0
        n_edges += 1
    for n in range(m_node_kg_s.shape[0]):
        mx = m_node_kg_s[n]
        if mx > 0.0:
            acc[n, _M_IN] += mx
        elif mx < 0.0:
            acc[n, _M_OUT] -= mx
            acc[n, _C_OUT] -= mx * cp_node_j_per_kg_k[n]
    return n_edges


@njit(cache=True)
def sweep(node_kind, node_value, m_node_kg_s, cp_node_j_per_kg_k, branch_from, branch_to, m_branch_kg_s, branches,
          t_ref_k, inc_start, inc_branch, inc_other, inc_outward, work, t_node, t_out, q_loss, q_supply, q_extracted,
          q_sink, q_cp_step, q_gain):
    """:func:`thermal_sweep` into given arrays, from the node-branch incidence (:func:`incidence`) and the
    per-branch data packed by :func:`branch_data` (``branches``). ``q_gain`` [W] is heat dissipated evenly in each
    branch (frictional heating): the water carries its steady share to the outlet and the surroundings take
    the rest, which ``q_loss`` includes (:func:`gigawatt.models.pipe_heat.frictional_heat_outlet_share`); an empty
    ``q_gain`` means none anywhere.

    One pass: Kahn's algorithm [2]_ finds an upwind order, and each node is solved the moment it is taken
    from the set of ready nodes (everything upstream of it is done by then), then passes its temperature
    down its outflowing branches. ``t_node`` must hold NaN and the ``q_*`` arrays zeros on entry; ``work`` holds any
    values. Returns ``(status, bad_node)`` as :func:`thermal_sweep`.
    """
    n_nodes = node_kind.shape[0]
    acc, stack = work.node, work.stack
    acc[:, :] = 0.0
    _accumulate_flows(m_branch_kg_s, m_node_kg_s, branch_from, branch_to, branches, cp_node_j_per_kg_k, acc, t_out)

    # Ready nodes wait on a stack, taken last in, first out: a node's downstream neighbours are solved right
    # after it while its data are still in cache (a first-in, first-out queue would step through the whole
    # network level by level). The nodes ready from the start are pushed in reverse, so come out in order.
    top = 0
    for n in range(n_nodes - 1, -1, -1):
        if acc[n, _INDEG] == 0.0:
            stack[top] = n
            top += 1
    done = 0
    while top > 0:
        top -= 1
        n = stack[top]
        done += 1
        kind = node_kind[n]
        c_in = acc[n, _C_IN]
        if kind == NODE_SUPPLY:
            t = node_value[n]
            # Everything leaving the node does so at t; fluid entering here from outside arrives at t too,
            # so its enthalpy, and any heating the supply does, count as heat in at the supply.
            q_supply[n] = acc[n, _C_OUT] * (t - t_ref_k) - acc[n, _H_IN]
        else:
            if m_node_kg_s[n] > 0.0:
                return _first_error(n_nodes, branch_from, branch_to, m_branch_kg_s, STATUS_INFLOW_NO_T, n)
            m_in, m_out = acc[n, _M_IN], acc[n, _M_OUT]
            if abs(m_in - m_out) > MASS_BALANCE_RTOL * max(m_in, m_out):
                return _first_error(n_nodes, branch_from, branch_to, m_branch_kg_s, STATUS_MASS_IMBALANCE, n)
            if c_in == 0.0:
                # No flow reaches this node: stagnant fluid at the ambient temperature of its branches.
                t = acc[n, _AMB_SUM] / acc[n, _AMB_CNT] if acc[n, _AMB_CNT] > 0.0 else np.nan
            else:
                # Mixing: sum_in C_i (T_i - T) = Q, each inflow with its own capacity C_i = |m_i| cp_i (no
                # reference temperature enters; a series junction keeps T continuous when cp changes).
                t_mix = t_ref_k + acc[n, _H_IN] / c_in
                if kind == NODE_HEAT:
                    q_extracted[n] = node_value[n]
                    t = t_mix - node_value[n] / c_in
                elif kind == NODE_OUTLET_T:
                    t = node_value[n]
                    q_extracted[n] = c_in * (t_mix - t)
                else:
                    t = t_mix
                if m_node_kg_s[n] < 0.0:
                    q_sink[n] = -m_node_kg_s[n] * cp_node_j_per_kg_k[n] * (t - t_ref_k)
                # Enthalpy in minus out at the node besides Q: zero with one cp, else the bookkeeping term
                # of the cp step (the fluid leaves with other cp values than it came with).
                c_step = c_in - acc[n, _C_OUT]
                if c_step != 0.0 or not math.isfinite(t):  # (else it is the 0 it holds: no write, no cache miss)
                    q_cp_step[n] = c_step * (t - t_ref_k)
        t_node[n] = t
        for k in range(inc_start[n], inc_start[n + 1]):
            b = inc_branch[k]
            m = m_branch_kg_s[b]
            if m * inc_outward[k] <= 0.0:
                continue  # flows in here, or not at all
            dn = inc_other[k]
            cp, u, length, t_amb = branches[b, _CP], branches[b, _U], branches[b, _LENGTH], branches[b, _T_AMB]
            t_out[b], q_loss[b] = pipe_outlet_and_loss(t, t_amb, m, cp, u, length)
            if q_gain.shape[0] > 0 and q_gain[b] != 0.0:  # (empty: no frictional heat, nothing read)
                share = frictional_heat_outlet_share(u, length, m, cp)
                t_out[b] += q_gain[b] * share / (abs(m) * cp)
                q_loss[b] += q_gain[b] * (1.0 - share)
            acc[dn, _H_IN] += abs(m) * cp * (t_out[b] - t_ref_k)
            acc[dn, _C_IN] += abs(m) * cp
            acc[dn, _INDEG] -= 1.0
            if acc[dn, _INDEG] == 0.0:
                stack[top] = dn
                top += 1
    if done < n_nodes:
        return _first_error(n_nodes, branch_from, branch_to, m_branch_kg_s, STATUS_CYCLE, -1)
    return STATUS_OK, -1


# Columns of the fixed-flow plan (FixedFlowSweep): per popped node, and per flowing branch in the order the sweep
# passes temperatures down them.
_P_C_IN = 0     # capacity rate flowing in by branches [W/K], summed in the sweep's order
_P_C_OUT = 1    # capacity rate flowing out [W/K]
_P_AMB = 2      # mean ambient temperature of the node's zero-flow branches [K] (NaN: none), for nodes no flow reaches
_P_KIND = 3     # node kind (a NODE_* code held as a float)
_P_M_NODE = 4   # mass entering (> 0) or leaving (< 0) at the node [kg/s]
_P_CP_NODE = 5  # specific heat of the fluid leaving at the node [J/(kg K)]
_PLAN_NODE_COLUMNS = 6
_E_CAP = 0      # |m| cp [W/K]
_E_UA = 1       # U' L [W/K]
_E_EM = 2       # expm1(-U' L / (|m| cp)) [-] (0 for an adiabatic branch)
_E_T_AMB = 3    # surrounding temperature [K]
_PLAN_EDGE_COLUMNS = 4


@njit(cache=True)
def sweep_plan(node_kind, m_node_kg_s, cp_node_j_per_kg_k, branch_from, branch_to, m_branch_kg_s, branches,
               inc_start, inc_branch, inc_other, inc_outward, work):
    """What a :func:`sweep` with these flows does that does not depend on the node values: its visiting order,
    the capacity rates in and out of each node, and each flowing branch's exponential, recorded in that order
    for :func:`sweep_replay` (flows that :func:`sweep` accepts, i.e. status ``STATUS_OK``, only).

    Kahn's algorithm [2]_ with the same last-in, first-out stack as :func:`sweep`, so nodes are visited and
    inflows summed in the same order as there, and the replay repeats the sweep's arithmetic operation for
    operation (the same result to the last bit).

    Returns
    -------
    order : numpy.ndarray of int64
        ``[n_nodes]`` nodes in the order the sweep solves them.
    node_data : numpy.ndarray of float64
        ``[n_nodes, 6]`` per position in ``order``: columns ``_P_C_IN`` ... ``_P_CP_NODE`` (what the replay reads
        of a node, side by side: the order visits the nodes far from their index order).
    edge_start : numpy.ndarray of int64
        ``[n_nodes + 1]``: the flowing branches leaving ``order[i]`` are edges ``edge_start[i]:edge_start[i + 1]``.
    edge_nodes : numpy.ndarray of int64
        ``[n_edges, 2]`` per edge: branch, position of its downstream node in ``order``.
    edge_data : numpy.ndarray of float64
        ``[n_edges, 4]`` per edge: columns ``_E_CAP``, ``_E_UA``, ``_E_EM``, ``_E_T_AMB``.
    t_out_zero_flow : numpy.ndarray of float64
        ``[n_branches]``: the ambient temperature at zero-flow branches (their outlet temperature), 0 elsewhere.
    """
    n_nodes = node_kind.shape[0]
    n_br = branch_from.shape[0]
    acc, stack = work.node, work.stack
    acc[:, :] = 0.0
    t_out_zero_flow = np.zeros(n_br)
    n_edges = _accumulate_flows(m_branch_kg_s, m_node_kg_s, branch_from, branch_to, branches, cp_node_j_per_kg_k,
                                acc, t_out_zero_flow)
    order = np.empty(n_nodes, np.int64)
    node_data = np.empty((n_nodes, _PLAN_NODE_COLUMNS))
    edge_start = np.empty(n_nodes + 1, np.int64)
    edge_nodes = np.empty((n_edges, 2), np.int64)
    edge_data = np.empty((n_edges, _PLAN_EDGE_COLUMNS))
    top = 0
    for n in range(n_nodes - 1, -1, -1):
        if acc[n, _INDEG] == 0.0:
            stack[top] = n
            top += 1
    i = 0
    e = 0
    while top > 0:
        top -= 1
        n = stack[top]
        order[i] = n
        node_data[i, _P_C_IN] = acc[n, _C_IN]
        node_data[i, _P_C_OUT] = acc[n, _C_OUT]
        node_data[i, _P_AMB] = acc[n, _AMB_SUM] / acc[n, _AMB_CNT] if acc[n, _AMB_CNT] > 0.0 else np.nan
        node_data[i, _P_KIND] = node_kind[n]
        node_data[i, _P_M_NODE] = m_node_kg_s[n]
        node_data[i, _P_CP_NODE] = cp_node_j_per_kg_k[n]
        edge_start[i] = e
        i += 1
        for k in range(inc_start[n], inc_start[n + 1]):
            b = inc_branch[k]
            m = m_branch_kg_s[b]
            if m * inc_outward[k] <= 0.0:
                continue
            dn = inc_other[k]
            cp, u, length = branches[b, _CP], branches[b, _U], branches[b, _LENGTH]
            cap = abs(m) * cp
            ua = u * length
            edge_nodes[e, 0] = b
            edge_nodes[e, 1] = dn
            edge_data[e, _E_CAP] = cap
            edge_data[e, _E_UA] = ua
            edge_data[e, _E_EM] = math.expm1(-ua / cap) if ua != 0.0 else 0.0
            edge_data[e, _E_T_AMB] = branches[b, _T_AMB]
            e += 1
            acc[dn, _C_IN] += abs(m) * cp
            acc[dn, _INDEG] -= 1.0
            if acc[dn, _INDEG] == 0.0:
                stack[top] = dn
                top += 1
    edge_start[i] = e
    # Downstream ends by their position in the order: the replay then keeps the enthalpy flowing in by position,
    # where a node's entry lies near its upstream neighbour's (the stack takes it soon after).
    position = stack  # no longer needed as a stack
    for i in range(n_nodes):
        position[order[i]] = i
    for e in range(n_edges):
        edge_nodes[e, 1] = position[edge_nodes[e, 1]]
    return order, node_data, edge_start, edge_nodes, edge_data, t_out_zero_flow


@njit(cache=True)
def sweep_replay(node_value, t_ref_k, order, node_data, edge_start, edge_nodes, edge_data, t_out_zero_flow, h_in,
                 t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step):
    """:func:`sweep` without frictional heat for the flows a :func:`sweep_plan` recorded (``order`` ...
    ``t_out_zero_flow``, its results; node kinds, flows in and out at nodes and their cp are in ``node_data``): the
    same operations in the same order, so the same temperatures and heats to the last bit, without finding the
    order, summing the capacities or evaluating an exponential again. ``node_value`` as in :func:`sweep`; ``h_in``
    (``[n_nodes]``, the enthalpy flowing into each node by its position in ``order``) holds any values on entry;
    the outputs are as in :func:`sweep` (``t_node`` NaN and the ``q_*`` arrays zeros on entry)."""
    h_in[:] = 0.0
    t_out[:] = t_out_zero_flow
    for i in range(order.shape[0]):
        n = order[i]
        c_in, c_out = node_data[i, _P_C_IN], node_data[i, _P_C_OUT]
        t = _solve_node(n, int(node_data[i, _P_KIND]), node_value[n], c_in, c_out, h_in[i], node_data[i, _P_AMB],
                        1.0, node_data[i, _P_M_NODE], node_data[i, _P_CP_NODE], t_ref_k, q_supply, q_extracted, q_sink,
                        q_cp_step)
        t_node[n] = t
        for e in range(edge_start[i], edge_start[i + 1]):
            b, down = edge_nodes[e, 0], edge_nodes[e, 1]
            cap, t_amb = edge_data[e, _E_CAP], edge_data[e, _E_T_AMB]
            if edge_data[e, _E_UA] == 0.0:  # as pipe_outlet_and_loss: an adiabatic branch passes t unchanged
                t_b = t
                q_b = 0.0
            else:
                em = edge_data[e, _E_EM]
                t_b = t_amb + (t - t_amb) * (1.0 + em)
                q_b = -cap * (t - t_amb) * em
            t_out[b] = t_b
            q_loss[b] = q_b
            h_in[down] += cap * (t_b - t_ref_k)


@njit(cache=True, inline="always")  # into the replay loop
def _solve_node(n, kind, value, c_in, c_out, h_in, amb_sum, amb_cnt, m_node, cp_node, t_ref_k, q_supply, q_extracted,
                q_sink, q_cp_step):
    """Temperature of node ``n`` [K] once everything upstream is known (its heats written to the ``q_*`` arrays):
    a supply at its temperature, else mixing of what flows in (``c_in`` [W/K], enthalpy ``h_in`` [W] relative to
    ``t_ref_k``), then the node's heat or outlet temperature; where no flow comes in, stagnant fluid at the mean
    ``amb_sum / amb_cnt`` of the ambient temperatures of its zero-flow branches (NaN if ``amb_cnt`` is 0).
    :func:`sweep_replay`'s node equation: that of :func:`sweep` operation for operation (kept inline there, where
    a call measured slower; the tests hold the two to the same bits)."""
    if kind == NODE_SUPPLY:
        t = value
        # Everything leaving the node does so at t; fluid entering here from outside arrives at t too,
        # so its enthalpy, and any heating the supply does, count as heat in at the supply.
        q_supply[n] = c_out * (t - t_ref_k) - h_in
        return t
    if c_in == 0.0:
        # No flow reaches this node: stagnant fluid at the ambient temperature of its branches.
        t = amb_sum / amb_cnt if amb_cnt > 0.0 else np.nan
    else:
        # Mixing: sum_in C_i (T_i - T) = Q, each inflow with its own capacity C_i = |m_i| cp_i (no
        # reference temperature enters; a series junction keeps T continuous when cp changes).
        t_mix = t_ref_k + h_in / c_in
        if kind == NODE_HEAT:
            q_extracted[n] = value
            t = t_mix - value / c_in
        elif kind == NODE_OUTLET_T:
            t = value
            q_extracted[n] = c_in * (t_mix - t)
        else:
            t = t_mix
        if m_node < 0.0:
            q_sink[n] = -m_node * cp_node * (t - t_ref_k)
        # Enthalpy in minus out at the node besides Q: zero with one cp, else the bookkeeping term
        # of the cp step (the fluid leaves with other cp values than it came with).
        c_step = c_in - c_out
        if c_step != 0.0 or not math.isfinite(t):  # (else it is the 0 it holds: no write)
            q_cp_step[n] = c_step * (t - t_ref_k)
    return t


@njit(cache=True)
def _first_error(n_nodes, branch_from, branch_to, m_branch_kg_s, status, node):
    """The error to report: a cycle of flow first (found by :func:`upwind_order`), as a sweep in upwind
    order would meet it before any node, else ``(status, node)``."""
    _, cyc = upwind_order(n_nodes, branch_from, branch_to, m_branch_kg_s)
    if cyc >= 0:
        return STATUS_CYCLE, cyc
    return status, node


@njit(cache=True)
def thermal_sweep(node_kind, node_value, m_node_kg_s, cp_node_j_per_kg_k,
                  branch_from, branch_to, m_branch_kg_s, cp_branch_j_per_kg_k,
                  u_w_per_m_k, length_m, t_ambient_k, t_ref_k):
    """Steady temperatures of a network with known mass flows, in one upwind sweep.

    Parameters
    ----------
    node_kind : numpy.ndarray of int64
        ``NODE_JUNCTION``, ``NODE_SUPPLY``, ``NODE_HEAT`` or ``NODE_OUTLET_T`` per node.
    node_value : numpy.ndarray of float64
        Per node: supply temperature [K] (``NODE_SUPPLY``), heat taken out [W] (``NODE_HEAT``, < 0 puts heat
        in), outlet temperature [K] (``NODE_OUTLET_T``); ignored for junctions.
    m_node_kg_s : numpy.ndarray of float64
        Mass entering (> 0) or leaving (< 0) the network at each node from outside [kg/s].
    cp_node_j_per_kg_k : numpy.ndarray of float64
        Specific heat of the fluid entering or leaving at each node [J/(kg K)].
    branch_from, branch_to : numpy.ndarray of int64
        End nodes of each branch.
    m_branch_kg_s : numpy.ndarray of float64
        Branch mass flows [kg/s], > 0 from → to.
    cp_branch_j_per_kg_k : numpy.ndarray of float64
        Specific heat of the fluid in each branch [J/(kg K)], > 0.
    u_w_per_m_k : numpy.ndarray of float64
        Heat-loss coefficient per metre of each branch [W/(m K)], >= 0 (0: an adiabatic branch).
    length_m : numpy.ndarray of float64
        Branch lengths [m], >= 0.
    t_ambient_k : numpy.ndarray of float64
        Surrounding (ground, air) temperature of each branch [K].
    t_ref_k : float
        Reference temperature of the enthalpy, ``h = cp (T - t_ref_k)`` [K].

    Returns
    -------
    t_node_k : numpy.ndarray
        Node temperatures [K] (after mixing and any heat taken out at the node).
    t_branch_out_k : numpy.ndarray
        Temperature at each branch's downstream end [K] (the ``to`` end for m > 0, the ``from`` end for
        m < 0; the ambient temperature for m = 0).
    q_loss_w : numpy.ndarray
        Heat each branch gives to its surroundings [W].
    q_supply_w : numpy.ndarray
        Heat put in at each supply node [W]: enthalpy flow leaving the node minus entering it by branches.
    q_extracted_w : numpy.ndarray
        Heat taken out at each heat or outlet-temperature node [W] (< 0: put in).
    q_sink_w : numpy.ndarray
        Enthalpy carried out of the network by fluid leaving at non-supply nodes [W].
    q_cp_step_w : numpy.ndarray
        Per non-supply node, ``(C_in - C_out) (T - t_ref_k)`` [W]: the enthalpy bookkeeping of a change of
        cp across the node (C = |m| cp summed over the flows in and out); zero when cp is the same.
    status : int
        ``STATUS_OK`` or an error code (``STATUS_CYCLE``, ``STATUS_MASS_IMBALANCE``, ``STATUS_INFLOW_NO_T``).
    bad_node : int
        The node the error code refers to, else -1.
    """
    n_nodes = node_kind.shape[0]
    n_br = branch_from.shape[0]
    t_node = np.full(n_nodes, np.nan)
    t_out = np.empty(n_br)
    q_loss = np.zeros(n_br)
    q_supply = np.zeros(n_nodes)
    q_extracted = np.zeros(n_nodes)
    q_sink = np.zeros(n_nodes)
    q_cp_step = np.zeros(n_nodes)
    inc_start, inc_branch, inc_other, inc_outward = incidence(n_nodes, branch_from, branch_to)
    work = SweepWork(np.empty((n_nodes, _NODE_COLUMNS)), np.empty(n_nodes, np.int64))
    branches = np.empty((n_br, _BRANCH_COLUMNS))
    branches[:, _CP] = cp_branch_j_per_kg_k
    branches[:, _U] = u_w_per_m_k
    branches[:, _LENGTH] = length_m
    branches[:, _T_AMB] = t_ambient_k
    status, bad = sweep(node_kind, node_value, m_node_kg_s, cp_node_j_per_kg_k, branch_from, branch_to, m_branch_kg_s,
                        branches, t_ref_k, inc_start, inc_branch, inc_other, inc_outward, work, t_node, t_out, q_loss,
                        q_supply, q_extracted, q_sink, q_cp_step, np.zeros(n_br))
    return t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, status, bad


class HeatLedger(NamedTuple):
    """Heat balance of the network [W]; enthalpy flows relative to ``t_ref_k``.

    ``supply_w + injected_w + friction_w = sink_w + pipe_loss_w + extracted_w + cp_step_w`` up to ``residual``
    (relative to the larger side).
    """

    supply_w: float      # heat put in at supply nodes (including the enthalpy of fluid entering there)
    injected_w: float    # heat put in at heat nodes (negative extraction) and outlet-temperature nodes
    sink_w: float        # enthalpy carried out by fluid leaving at non-supply nodes
    pipe_loss_w: float   # heat given by the branches to their surroundings (may be < 0: heat gained)
    extracted_w: float   # heat taken out at heat and outlet-temperature nodes
    cp_step_w: float     # enthalpy bookkeeping of cp changes at nodes (0 with one cp)
    residual: float      # (in - out) / max(|in|, |out|)
    friction_w: float = 0.0  # heat dissipated in the branches (frictional heating), counted as heat in


class ThermalResult(NamedTuple):
    """Result of :func:`solve_thermal_network`; arrays follow the input node and branch order."""

    t_node_k: np.ndarray          # node temperatures [K]
    t_branch_out_k: np.ndarray    # temperature at each branch's downstream end [K]; ambient at zero flow
    q_loss_w: np.ndarray          # heat lost per branch [W]
    q_supply_w: np.ndarray        # heat put in per supply node [W]
    q_extracted_w: np.ndarray     # heat taken out per node [W] (< 0: put in)
    q_sink_w: np.ndarray          # enthalpy leaving with fluid per node [W]
    q_cp_step_w: np.ndarray       # cp-change bookkeeping per node [W] (0 with one cp)
    ledger: HeatLedger


def _per(value, n, name):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise CaseError("wrong number of values", field=name, value=arr.shape, allowed=f"a scalar or ({n},)")
    return np.ascontiguousarray(arr)


def node_kind_codes(node_kind) -> np.ndarray:
    """``NODE_*`` codes of node kinds given as codes or as names (``"junction"``, ``"supply"``, ...).

    Raises
    ------
    CaseError
        An unknown name or code, naming the first node that has it.
    """
    arr = np.atleast_1d(np.asarray(node_kind))
    if arr.dtype.kind in "iu":
        codes = arr.astype(np.int64)
    elif arr.dtype.kind in "US" and (isinstance(node_kind, np.ndarray) or all(isinstance(k, str) for k in node_kind)):
        names, inverse = np.unique(arr.astype(str), return_inverse=True)  # one look-up per distinct name
        codes = np.array([NODE_KINDS.get(x, -1) for x in names], dtype=np.int64)[inverse.ravel()]
    else:  # names and codes mixed (which NumPy would have turned into strings)
        arr = np.atleast_1d(np.asarray(node_kind, dtype=object))
        codes = np.array([NODE_KINDS.get(k, -1) if isinstance(k, str) else int(k) for k in arr], dtype=np.int64)
    bad = np.flatnonzero((codes < 0) | (codes > max(NODE_KINDS.values())))
    if bad.size:
        raise CaseError("unknown node kind", element=f"node {int(bad[0])}", field="node_kind",
                        value=str(arr[bad[0]]), allowed=", ".join(NODE_KINDS))
    return codes


class ThermalNetwork:
    """A thermal network set up for repeated solves (made by :func:`prepare_thermal_network`): node kinds,
    branch ends and the per-branch data that do not change between solves, with the node-branch incidence
    built once and work arrays kept between solves (:mod:`gigawatt.solver.numerics.work_arrays`). Read-only otherwise;
    one network may be solved from several threads at once."""

    def __init__(self, node_kind, branch_from, branch_to, u_w_per_m_k, length_m, t_ambient_k, cp_branch,
                 cp_node, t_ref_k, node_names, shared_incidence=None):
        self.node_kind = node_kind
        self.branch_from = branch_from
        self.branch_to = branch_to
        self.u_w_per_m_k = u_w_per_m_k
        self.length_m = length_m
        self.t_ambient_k = t_ambient_k
        self.cp_branch = cp_branch
        self.cp_node = cp_node
        self.t_ref_k = t_ref_k
        self.node_names = node_names
        self.n_node = node_kind.shape[0]
        self.n_branch = branch_from.shape[0]
        self.branches = branch_data(cp_branch, u_w_per_m_k, length_m, t_ambient_k)
        self.incidence = (incidence(self.n_node, branch_from, branch_to) if shared_incidence is None
                          else shared_incidence)
        self.scratch = ScratchPool(lambda: sweep_work(self.n_node))
        self.no_gain = np.zeros(0)  # no frictional heating: empty, so the sweep reads no gain per branch

    def with_cp(self, cp_branch_j_per_kg_k) -> "ThermalNetwork":
        """The same network with other branch heat capacities [J/(kg K)] (the nodes keep theirs); the
        incidence is shared, the work arrays are its own."""
        cp = _per(cp_branch_j_per_kg_k, self.n_branch, "cp_j_per_kg_k")
        return ThermalNetwork(self.node_kind, self.branch_from, self.branch_to, self.u_w_per_m_k, self.length_m,
                              self.t_ambient_k, cp, self.cp_node, self.t_ref_k, self.node_names,
                              shared_incidence=self.incidence)

    def solve(self, node_value, m_branch_kg_s, m_node_kg_s=0.0, q_gain_w=None) -> ThermalResult:
        """Steady temperatures for given node values and flows; see :func:`solve_thermal_network`.

        Parameters
        ----------
        node_value : array_like of float
            Per node: supply temperature [K], heat taken out [W], or outlet temperature [K], by kind.
        m_branch_kg_s : array_like of float
            Branch mass flows [kg/s], > 0 from → to.
        m_node_kg_s : float or array_like
            Mass entering (> 0, supply nodes only) or leaving (< 0) at each node [kg/s].
        q_gain_w : array_like of float, optional
            Heat dissipated evenly in each branch [W], >= 0 (frictional heating; ledger ``friction_w``), where
            it flows; none by default.

        Returns
        -------
        ThermalResult
        """
        nn, nb = self.n_node, self.n_branch
        m = _per(m_branch_kg_s, nb, "m_branch_kg_s")
        gain = self.no_gain if q_gain_w is None else np.where(m != 0.0, _per(q_gain_w, nb, "q_gain_w"), 0.0)
        m_node = _per(m_node_kg_s, nn, "m_node_kg_s")
        t_node = np.full(nn, np.nan)
        t_out, q_loss = np.empty(nb), np.zeros(nb)
        q_supply, q_extracted, q_sink, q_cp_step = (np.zeros(nn) for _ in range(4))
        with self.scratch.take() as work:
            status, bad = sweep(self.node_kind, _per(node_value, nn, "node_value"), m_node, self.cp_node,
                                self.branch_from, self.branch_to, m, self.branches, self.t_ref_k, *self.incidence, work,
                                t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, gain)
        if status != STATUS_OK:
            self._raise(status, bad, m_node)
        friction = float(gain.sum()) if q_gain_w is not None else 0.0
        return _result(t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, friction)

    def node_temperatures(self, node_value, m_branch_kg_s, m_node_kg_s) -> np.ndarray:
        """The node temperatures [K] of :meth:`solve` alone (no frictional heating), for an iteration that reads
        nothing else of a sweep: the same kernel and arrays, without the heats' ledger. ``m_node_kg_s`` is an
        array [n_node]; errors as :meth:`solve`."""
        nn, nb = self.n_node, self.n_branch
        m = _per(m_branch_kg_s, nb, "m_branch_kg_s")
        m_node = _per(m_node_kg_s, nn, "m_node_kg_s")
        t_node = np.full(nn, np.nan)
        with self.scratch.take() as work:
            status, bad = sweep(self.node_kind, _per(node_value, nn, "node_value"), m_node, self.cp_node,
                                self.branch_from, self.branch_to, m, self.branches, self.t_ref_k, *self.incidence, work,
                                t_node, np.empty(nb), np.zeros(nb), *(np.zeros(nn) for _ in range(4)), self.no_gain)
        if status != STATUS_OK:
            self._raise(status, bad, m_node)
        return t_node

    def with_flows(self, m_branch_kg_s, m_node_kg_s=0.0) -> "FixedFlowSweep":
        """This network with its flows fixed, for repeated solves in which only the node values change
        (:class:`FixedFlowSweep`; the order of the sweep and each branch's exponential found once).

        Raises
        ------
        CaseError
            As :meth:`solve`, for flows with no steady temperatures.
        """
        m = _per(m_branch_kg_s, self.n_branch, "m_branch_kg_s")
        m_node = _per(m_node_kg_s, self.n_node, "m_node_kg_s")
        with self.scratch.take() as work:
            nn, nb = self.n_node, self.n_branch
            status, bad = sweep(self.node_kind, np.zeros(nn), m_node, self.cp_node, self.branch_from, self.branch_to,
                                m, self.branches, self.t_ref_k, *self.incidence, work, np.full(nn, np.nan),
                                np.empty(nb), np.zeros(nb), *(np.zeros(nn) for _ in range(4)), self.no_gain)
            if status != STATUS_OK:
                self._raise(status, bad, m_node)
            plan = sweep_plan(self.node_kind, m_node, self.cp_node, self.branch_from, self.branch_to, m,
                              self.branches, *self.incidence, work)
        return FixedFlowSweep(self, m, m_node, plan)

    def _raise(self, status, bad, m_node):
        name = self.node_names[bad] if self.node_names is not None else bad
        element = f"node {name!r}"
        if status == STATUS_CYCLE:
            raise CaseError("the mass flows circulate around a loop with no inflow through this node; "
                            "no steady temperature is defined there", element=element)
        if status == STATUS_MASS_IMBALANCE:
            raise CaseError("mass flows in and out of this node do not balance (only supply nodes may take "
                            "up the difference)", element=element, field="m_branch_kg_s",
                            allowed=f"inflow = outflow to {MASS_BALANCE_RTOL:g} relative")
        raise CaseError("fluid enters the network at a node without a supply temperature", element=element,
                        field="m_node_kg_s", value=float(m_node[bad]), allowed="<= 0 unless the node is a supply")


def _result(t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, friction: float) -> ThermalResult:
    """The :class:`ThermalResult` of a sweep's arrays, with its :class:`HeatLedger`."""
    injected = float(-q_extracted[q_extracted < 0].sum())
    extracted = float(q_extracted[q_extracted > 0].sum())
    supply, sink, loss, cp_step = (float(q.sum()) for q in (q_supply, q_sink, q_loss, q_cp_step))  # each summed once
    heat_in = supply + injected + friction
    heat_out = sink + loss + extracted + cp_step
    scale = max(abs(heat_in), abs(heat_out))
    ledger = HeatLedger(supply, injected, sink, loss, extracted, cp_step,
                        (heat_in - heat_out) / scale if scale > 0 else 0.0, friction)
    return ThermalResult(t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, ledger)


class FixedFlowSweep:
    """A :class:`ThermalNetwork` with fixed flows (made by :meth:`ThermalNetwork.with_flows`): the sweep's
    visiting order, the capacity rates and each flowing branch's ``expm1`` are found once (:func:`sweep_plan`),
    and each solve only replays the arithmetic that depends on the node values (:func:`sweep_replay`), in
    the same order as :meth:`ThermalNetwork.solve`: the same result to the last bit. For a coolant loop whose
    pumps set the flows while the heat changes from step to step. No frictional heat."""

    def __init__(self, network: ThermalNetwork, m_branch_kg_s, m_node_kg_s, plan):
        self.network = network
        self.m_branch_kg_s = m_branch_kg_s
        self.m_node_kg_s = m_node_kg_s
        self.plan = plan
        self.scratch = ScratchPool(lambda: np.empty(network.n_node))

    def solve(self, node_value) -> ThermalResult:
        """Steady temperatures for these node values (per node: supply temperature [K], heat taken out [W], or
        outlet temperature [K], by kind); see :meth:`ThermalNetwork.solve`."""
        net = self.network
        nn, nb = net.n_node, net.n_branch
        t_node = np.full(nn, np.nan)
        t_out, q_loss = np.empty(nb), np.zeros(nb)
        q_supply, q_extracted, q_sink, q_cp_step = (np.zeros(nn) for _ in range(4))
        with self.scratch.take() as h_in:
            sweep_replay(_per(node_value, nn, "node_value"), net.t_ref_k, *self.plan, h_in, t_node, t_out, q_loss,
                         q_supply, q_extracted, q_sink, q_cp_step)
        return _result(t_node, t_out, q_loss, q_supply, q_extracted, q_sink, q_cp_step, 0.0)


def prepare_thermal_network(node_kind, branch_from, branch_to, u_w_per_m_k, length_m, t_ambient_k,
                            cp_j_per_kg_k=4184.0, cp_node_j_per_kg_k=None, t_ref_k=273.15,
                            node_names=None) -> ThermalNetwork:
    """Set a thermal network up for repeated solves with other flows and node values.

    Parameters are those of :func:`solve_thermal_network` that describe the network (same meaning, units
    and defaults); :meth:`ThermalNetwork.solve` takes the rest.

    Returns
    -------
    ThermalNetwork

    Raises
    ------
    CaseError
        An unknown node kind, or per-branch data of the wrong length.
    """
    kinds = node_kind_codes(node_kind)
    f = np.ascontiguousarray(branch_from, dtype=np.int64)
    t = np.ascontiguousarray(branch_to, dtype=np.int64)
    n_br = f.shape[0]
    cp_b = _per(cp_j_per_kg_k, n_br, "cp_j_per_kg_k")
    if cp_node_j_per_kg_k is None:
        cp_node_j_per_kg_k = float(np.mean(cp_b)) if n_br else 4184.0
    return ThermalNetwork(kinds, f, t, _per(u_w_per_m_k, n_br, "u_w_per_m_k"), _per(length_m, n_br, "length_m"),
                          _per(t_ambient_k, n_br, "t_ambient_k"), cp_b,
                          _per(cp_node_j_per_kg_k, kinds.shape[0], "cp_node_j_per_kg_k"), float(t_ref_k), node_names)


def solve_thermal_network(node_kind, node_value, branch_from, branch_to, m_branch_kg_s, u_w_per_m_k,
                          length_m, t_ambient_k, cp_j_per_kg_k=4184.0, m_node_kg_s=0.0,
                          cp_node_j_per_kg_k=None, t_ref_k=273.15, node_names=None):
    """Steady temperatures, heat losses and heat ledger of a network with known branch mass flows.

    Parameters
    ----------
    node_kind : array_like of int or str
        Per node: ``"junction"``, ``"supply"``, ``"heat"``, ``"outlet_t"`` (or the ``NODE_*`` codes).
    node_value : array_like of float
        Per node: supply temperature [K], heat taken out [W], or outlet temperature [K], by kind.
    branch_from, branch_to : array_like of int
        End nodes of each branch (indices into the node arrays).
    m_branch_kg_s : array_like of float
        Branch mass flows [kg/s], > 0 from → to, < 0 to → from, 0 none.
    u_w_per_m_k, length_m, t_ambient_k : float or array_like
        Per branch: heat-loss coefficient per metre [W/(m K)], length [m], surrounding temperature [K].
    cp_j_per_kg_k : float or array_like
        Specific heat per branch [J/(kg K)].
    m_node_kg_s : float or array_like
        Mass entering (> 0, supply nodes only) or leaving (< 0) at each node [kg/s].
    cp_node_j_per_kg_k : float or array_like, optional
        Specific heat of the fluid entering or leaving at nodes [J/(kg K)]; default: ``cp_j_per_kg_k``
        if that is a scalar, else the mean of the branch values.
    t_ref_k : float
        Enthalpy reference temperature [K] (see the module notes).
    node_names : sequence of str, optional
        Names used in error messages (default: the node index).

    Returns
    -------
    ThermalResult

    Raises
    ------
    CaseError
        A cycle of flow with no inflow (names a node on it), mass not balanced at a non-supply node,
        fluid entering at a node without a supply temperature, or an unknown node kind.

    Notes
    -----
    For repeated solves of one network, :func:`prepare_thermal_network` once and
    :meth:`ThermalNetwork.solve` each time skip the set-up.
    """
    net = prepare_thermal_network(node_kind, branch_from, branch_to, u_w_per_m_k, length_m, t_ambient_k,
                                  cp_j_per_kg_k, cp_node_j_per_kg_k, t_ref_k, node_names)
    return net.solve(node_value, m_branch_kg_s, m_node_kg_s)
