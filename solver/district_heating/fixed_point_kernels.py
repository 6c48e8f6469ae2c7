"""Numba kernels of the district-heating flow fixed point (:mod:`gigawatt.solver.district_heating.stage`): the
per-iterate passes over the substations and the supply side that were a dozen NumPy expressions each, as one
loop each (the same operations, element by element, so the same bits).

Written once, ``cache=True``; with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def supply_side_flows(m_kg_s, zero_rtol, branches, flow_kg_s, consumer_node, sup_at, m_sup_kg_s, still,
                      m_side_out, m_node_out):
    """The flows a sweep of the supply side reads, from the whole network's branch flows ``m_kg_s`` [kg/s]:

    * into ``m_side_out``, the flows of its branches ``branches``, with every flow of magnitude at most
      ``zero_rtol`` times the largest of ``m_kg_s`` (rounding in dead ends and stagnant loops) set to zero, and
      all of them zero where ``still``;
    * into ``m_node_out``, each side node's outside flow [kg/s]: ``m_sup_kg_s`` entering at its node ``sup_at``
      (-1: none), less each substation's draw ``flow_kg_s`` at its supply node ``consumer_node`` (summed per node
      in consumer order, then taken off); zero where ``still``.
    """
    big = 0.0
    for b in range(m_kg_s.shape[0]):
        a = abs(m_kg_s[b])
        if a > big:
            big = a
    cut = zero_rtol * max(big, 1e-300)
    for e in range(branches.shape[0]):
        m = m_kg_s[branches[e]]
        m_side_out[e] = 0.0 if (still or abs(m) <= cut) else m
    for i in range(m_node_out.shape[0]):
        m_node_out[i] = 0.0
    if still:
        return
    if sup_at >= 0:
        m_node_out[sup_at] = m_sup_kg_s
    draw = np.zeros(m_node_out.shape[0])
    for c in range(flow_kg_s.shape[0]):
        draw[consumer_node[c]] += flow_kg_s[c]
    for i in range(m_node_out.shape[0]):
        m_node_out[i] -= draw[i]


@njit(cache=True)
def heat_residuals(flow_kg_s, t_in_k, t_ref_k, cp_j_per_kg_k, demand_w, heat, hi_kg_s, passing, t_return_k, rtol,
                   r_out):
    """Each substation's heat residual ``r = m c_p max(T_in - T_ref, 0) - Q`` [W] into ``r_out`` (0 where not
    ``heat``); returns ``(settled, worst)``: whether every residual is within ``rtol * max(Q, 1 W)`` or its
    substation is capped (at its largest flow ``hi_kg_s``, or ``passing`` with water at or below its return
    set-point ``t_return_k``, and short), and the largest ``|r| / max(Q, 1 W)`` (NaN if any is)."""
    settled = True
    worst = 0.0
    for i in range(flow_kg_s.shape[0]):
        if heat[i]:
            d = t_in_k[i] - t_ref_k[i]
            r = flow_kg_s[i] * cp_j_per_kg_k[i] * (d if d > 0.0 or d != d else 0.0) - demand_w[i]
        else:
            r = 0.0
        r_out[i] = r
        q = max(demand_w[i], 1.0)
        if settled and not abs(r) <= rtol * q:
            capped = heat[i] and (flow_kg_s[i] >= hi_kg_s[i] or (passing[i] and t_in_k[i] <= t_return_k[i])) and r < 0
            settled = capped
        rel = abs(r) / q
        if rel > worst or rel != rel:  # (a NaN stays, as in NumPy's max)
            worst = rel
    return settled, worst


@njit(cache=True)
def _clip(x, lo, hi):
    """``np.clip(x, lo, hi)`` of one value: max with ``lo``, then min with ``hi`` (a NaN stays)."""
    x = x if x > lo or x != x else lo
    return x if x < hi or x != x else hi


@njit(cache=True)
def fixed_return_flows(demand_w, t_in_k, t_return_k, cp_j_per_kg_k, min_dt_k, lo_kg_s, hi_kg_s, passing, bypass_kg_s,
                       out):
    """The plain fixed-point map of substations that all hold their return temperature, into ``out`` [kg/s]: the
    flow that delivers ``demand_w`` at inlet ``t_in_k`` (:func:`gigawatt.models.substations.flow_fixed_return`,
    the same operations), clipped to ``[lo_kg_s, hi_kg_s]``; ``bypass_kg_s`` where ``passing``."""
    for i in range(demand_w.shape[0]):
        if passing[i]:
            out[i] = bypass_kg_s[i]
            continue
        dt = t_in_k[i] - t_return_k[i]
        dt = dt if dt > min_dt_k or dt != dt else min_dt_k
        out[i] = _clip(demand_w[i] / (cp_j_per_kg_k[i] * dt), lo_kg_s[i], hi_kg_s[i])


@njit(cache=True)
def next_flows(heat, keep, plain_kg_s, step_kg_s, lo_kg_s, hi_kg_s, fixed_kg_s, out):
    """The next iterate's flows into ``out`` [kg/s]: where ``heat``, the plain map ``plain_kg_s`` where ``keep``,
    else the accelerated ``step_kg_s`` clipped to ``[lo_kg_s, hi_kg_s]``; elsewhere ``fixed_kg_s``."""
    for i in range(out.shape[0]):
        if not heat[i]:
            out[i] = fixed_kg_s[i]
        elif keep[i]:
            out[i] = plain_kg_s[i]
        else:
            out[i] = _clip(step_kg_s[i], lo_kg_s[i], hi_kg_s[i])
