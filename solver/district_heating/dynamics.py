r"""Temperature propagation in district-heating pipes: plug flow with the exact heat loss of each water parcel.

A steady thermal sweep (:mod:`gigawatt.solver.numerics.thermal_kernel`) gives a pipe's outlet the temperature its
inlet has *now*. Water takes time to cross a pipe: a change of supply temperature reaches a consumer when the
water does. This module follows the water: each pipe holds a queue of parcels (the water that entered during
one time step), each parcel cooling toward the ground at its own rate while it is inside. It is the
Lagrangian form of the *node method* (Benonysson 1991 [1]_; its comparison with the plug-flow pipe of the
Modelica IBPSA library in van der Heijde et al. 2017 [2]_): the outlet temperature at time t is that of the
water that entered at t − τ, where τ solves :math:`\int_{t-\tau}^{t} |\dot m|\, dt' = \rho A L`, and on its way
that water lost heat as

.. math:: T_\mathrm{out}(t) = T_g + \bigl(T_\mathrm{in}(t - \tau) - T_g\bigr)\,
          \exp\!\left(-\frac{U' \tau}{\rho A c_p}\right)

(the exact solution of :math:`\rho A c_p\, dT/dt = -U' (T - T_g)` along a water particle's path). With a
constant flow, :math:`\tau = \rho A L / |\dot m|` and this is the steady exponential
:func:`gigawatt.models.pipe_heat.pipe_outlet_temperature`, :math:`\exp(-U' L / (|\dot m| c_p))`, exactly:
steady results do not change when nothing moves.

Symbols and units: :math:`\dot m` branch mass flow [kg/s], :math:`\rho` density [kg/m³], :math:`c_p`
specific heat [J/(kg K)], A inner cross-section [m²], L length [m], U' heat-loss coefficient per metre
[W/(m K)], :math:`T_g` the pipe's surroundings (ground) [K], Δt the time step [s]. The decay rate of a pipe is
:math:`k = U' / (\rho A c_p)` [1/s].

Discretisation (what is exact and what is assumed)
--------------------------------------------------
* Flows are constant within a step (the driver gives one steady hydraulic solution per step), and each
  pipe's inlet temperature is constant within a step: the step-mean (mass-weighted) temperature of its
  upstream node (a zero-order hold). Given those, every pipe is solved exactly: each water element's
  residence time and exponential loss are integrated in closed form, also when water crosses the whole
  pipe within one step (Δt > τ: then the pipe is short against the step and its outlet is the steady
  solution). There is no Courant limit and no numerical diffusion inside a pipe; the hold at the nodes
  smears a front by at most one step per node it crosses within one step. Resolve a delay with Δt ≪ τ.
* A parcel holds the water that entered during one step; its temperature varies exponentially along its
  mass (older water is nearer the ground temperature): ``(mass, excess temperature at its downstream end,
  gradient g [1/kg])`` with :math:`T - T_g = \theta_d e^{g y}`, y the mass upstream of that end. A pipe keeps
  at most ``max_parcels`` parcels; beyond that two adjacent parcels are merged, the pair whose merging
  errs least (the temperature jump and the kink of gradient at their joint, times their mass), keeping
  their heat content exactly and their mass-averaged gradient (exact when their profiles join smoothly,
  as in steady flow): a front (a jump) or a change of flow (a kink) outlives the smooth stretches around
  it. A flow reversal reverses the queue.
* Plug flow: no axial conduction or turbulent (Taylor) dispersion, U' and :math:`T_g` constant within a step;
  :math:`\rho` and :math:`c_p` the network's or each branch's (``properties = "per_pipe"``: held within a step,
  changed between steps by :meth:`DynamicThermalNetwork.set_properties`, each pipe keeping its volume and its
  water's temperatures; nodes then mix by heat capacity, and the ledger's ``cp_step_j`` carries the c_p steps
  where branches meet, as the steady sweep's ``cp_step_w``). Valid for turbulent flow in pipes much longer than their
  diameter.
* The wall's heat capacity (optional, ``wall_heat_capacity_j_per_k``; none by default) delays and damps
  fronts: as van der Heijde et al. [2]_ it is one lumped capacity at the pipe's outlet, at the temperature
  of the water leaving it, which the water from the plug flow passes through
  (:func:`gigawatt.models.pipe_heat.lumped_capacity_outlet`, exact for the step's held inlet temperature).
  It gives no heat to the ground (the pipe's loss is the water's) and keeps its temperature while no water
  flows; after a flow reversal it sits at the new outlet with the temperature it had. With no capacity the
  results are those of the plug flow alone, bit for bit.
* Surroundings that change (a seasonal ground, ``[district_heating] ground = "kusuda"``; a twin pipe's partner,
  :mod:`gigawatt.solver.district_heating.twin`) are held within a step and change between steps
  (:meth:`DynamicThermalNetwork.set_surroundings`): each parcel is then referred to the new ambient keeping its
  mass, gradient and heat content exactly (its excess lowered by the change over the mean of its exponential
  profile, :math:`\Delta / \phi(g m)`), so the stored enthalpy and the ledger do not move; the profile within a
  parcel errs by about :math:`\Delta\, g m / 2`, a fraction of the small change :math:`\Delta`.
* Nodes mix what flows in over the step (mass-weighted). Node kinds are those of
  :mod:`gigawatt.solver.numerics.thermal_kernel` plus :data:`NODE_COOL_TO` (a substation: cooled to its value, or
  passed through when the water arrives colder).

* Frictional heating (optional, ``q_gain_w`` of :meth:`DynamicThermalNetwork.step`): the heat a pipe's pressure
  drop dissipates, spread evenly along it, reaches its outlet with the share the steady solution gives
  (:func:`gigawatt.models.pipe_heat.frictional_heat_outlet_share`: all of it without loss) within the step,
  the rest is lost to the surroundings: exact in steady state (so the steps reproduce the steady solve) and
  quasi-steady while fronts travel, an approximation of a term of hundredths of a kelvin.

Energy ledger (every step, in joules, enthalpy relative to ``t_ref_k``): heat added at supply nodes +
enthalpy entering at nodes − enthalpy leaving at nodes + frictional heat = heat extracted at consumer nodes +
heat lost by the pipes + change of the enthalpy stored in the pipes' water (and walls) + the c_p steps (0 with one
c_p). The loss of every water element is computed
from its own temperature history (not as the remainder), so the ledger closing to round-off checks the
bookkeeping; :attr:`DynamicThermalNetwork.ledger` sums it over a run.

API
---
``net = DynamicThermalNetwork(node_kind, branch_from, branch_to, u_w_per_m_k, length_m, area_m2,
t_ambient_k, rho_kg_m3, cp_j_per_kg_k)`` (or :func:`from_district_heating` of a prepared district-heating
network); ``net.fill_steady(t_node_k, m_branch_kg_s)`` or ``net.fill_uniform(t_k)`` sets the water in the
pipes; then ``net.step(node_value, m_branch_kg_s, m_node_kg_s, dt_s)`` per time step returns a
:class:`DynamicStep` (node and pipe-outlet temperatures, losses, heat at nodes, the step's ledger). For a
district-heating network, :func:`district_heating_step_inputs` turns a step's steady solve (``DHState``)
into those arrays.

References
----------
.. [1] A. Benonysson, "Dynamic modelling and operational optimization of district heating systems", PhD
   thesis, Laboratory of Heating and Air Conditioning, Technical University of Denmark (1991) (the node
   method).
.. [2] B. van der Heijde, M. Fuchs, C. Ribas Tugores, G. Schweiger, K. Sartor, D. Basciotti, D. Müller,
   C. Nytsch-Geusen, M. Wetter, L. Helsen, "Dynamic equation-based thermo-hydraulic pipe model for district
   heating and cooling systems", Energy Conversion and Management 151, 158-169 (2017),
   doi:10.1016/j.enconman.2017.08.072.
.. [3] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer, 7th ed., Wiley 2011, eq. 8.46a (the
   steady limit, :mod:`gigawatt.models.pipe_heat`).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from gigawatt.errors import CaseError
from gigawatt.models.pipe_heat import frictional_heat_outlet_share, lumped_capacity_outlet
from gigawatt.solver.numerics.thermal_kernel import (MASS_BALANCE_RTOL, NODE_HEAT, NODE_JUNCTION, NODE_OUTLET_T,
                                            NODE_SUPPLY, STATUS_CYCLE, STATUS_INFLOW_NO_T, STATUS_MASS_IMBALANCE,
                                            STATUS_OK, incidence, node_kind_codes, upwind_order)

NODE_COOL_TO = 4
"""Node kind: mixing, then cooled to ``node_value`` [K], or passed through when the water arrives colder (a
substation cooling its water to its return temperature)."""
NODE_TAKE_UP_TO = 5
"""Node kind: mixing, then ``node_value`` [W] taken out over the step, but the water cooled no further than the
node's floor temperature [K] (:meth:`DynamicThermalNetwork.take_up_to`; passed through when it arrives colder):
a substation whose controller delivers its demand within the step, its return temperature following its flow."""
DEFAULT_MAX_PARCELS = 32
"""Parcels a pipe keeps before it merges two (each step adds one to every pipe with flow)."""
_SLIVER = 1e-12
"""A parcel left with less than this fraction of its pipe's water has left it (rounding)."""


@njit(cache=True, inline="always")
def _phi(z):
    """(e^z − 1)/z, 1 at z = 0."""
    if abs(z) < 1e-5:
        return 1.0 + z * (0.5 + z / 6.0)
    return math.expm1(z) / z


@njit(cache=True, inline="always")
def _one_minus_phi_neg(z):
    """1 − (1 − e^{−z})/z for z >= 0 (the loss fraction of water entering at a constant temperature over z
    decay times), by its series below 1e-3."""
    if z < 1e-3:
        return z * (0.5 - z * (1.0 / 6.0 - z * (1.0 / 24.0 - z / 120.0)))
    return 1.0 + math.expm1(-z) / z


@njit(cache=True, inline="always")
def _content(par, head, cnt, n_cap, b):
    """Sum of (T − T_g) dm over pipe b's water [K kg]."""
    s = 0.0
    for j in range(cnt[b]):
        i = (head[b] + j) % n_cap
        s += par[i, b, 1] * par[i, b, 0] * _phi(par[i, b, 2] * par[i, b, 0])
    return s


@njit(cache=True, inline="always")
def _reverse(par, head, cnt, n_cap, b):
    """Reverse pipe b's queue (its flow changed direction): each parcel's far end becomes its downstream end."""
    c = cnt[b]
    for j in range(c):
        i = (head[b] + j) % n_cap
        par[i, b, 1] = par[i, b, 1] * math.exp(par[i, b, 2] * par[i, b, 0])
        par[i, b, 2] = -par[i, b, 2]
    for j in range(c // 2):
        i = (head[b] + j) % n_cap
        k = (head[b] + c - 1 - j) % n_cap
        for col in range(3):
            par[i, b, col], par[k, b, col] = par[k, b, col], par[i, b, col]


@njit(cache=True, inline="always")
def _push(par, head, cnt, n_cap, b, m, theta_d, g):
    """Append a parcel at pipe b's upstream end, first merging the adjacent pair of least mass if full."""
    if cnt[b] == n_cap:
        # cost of a merge: the temperature error it makes (the jump at the joint, and the kink where the
        # gradients differ, over the merged mass) times that mass, so that a front (a jump) or a change of flow
        # (a kink) is kept and smooth stretches merge first; among equal costs the lightest pair
        best, best_m, jm = np.inf, np.inf, 0
        for j in range(n_cap - 1):
            i, k = (head[b] + j) % n_cap, (head[b] + j + 1) % n_cap
            mm = par[i, b, 0] + par[k, b, 0]
            joint = par[i, b, 1] * math.exp(par[i, b, 2] * par[i, b, 0])
            cost = (abs(joint - par[k, b, 1]) + abs(joint) * abs(par[i, b, 2] - par[k, b, 2]) * mm) * mm
            if cost < best or (cost == best and mm < best_m):
                best, best_m, jm = cost, mm, j
        i, k = (head[b] + jm) % n_cap, (head[b] + jm + 1) % n_cap
        m1, m2 = par[i, b, 0], par[k, b, 0]
        heat = par[i, b, 1] * m1 * _phi(par[i, b, 2] * m1) + par[k, b, 1] * m2 * _phi(par[k, b, 2] * m2)
        mu = m1 + m2
        gm = (m1 * par[i, b, 2] + m2 * par[k, b, 2]) / mu
        par[i, b, 0], par[i, b, 2], par[i, b, 1] = mu, gm, heat / (mu * _phi(gm * mu))
        for j in range(jm + 1, n_cap - 1):  # close the gap
            k, k2 = (head[b] + j) % n_cap, (head[b] + j + 1) % n_cap
            par[k, b, 0], par[k, b, 1], par[k, b, 2] = par[k2, b, 0], par[k2, b, 1], par[k2, b, 2]
        cnt[b] -= 1
    i = (head[b] + cnt[b]) % n_cap
    par[i, b, 0], par[i, b, 1], par[i, b, 2] = m, theta_d, g
    cnt[b] += 1


@njit(cache=True, inline="always")
def _cross_one(par, head, cnt, b, w_kg, a, big_m, theta_in):
    """:func:`advance_pipe` where pipe b holds one parcel and the water crosses the whole pipe within the step
    (a short pipe against the step: every pipe of a town's hourly series): the same operations in the same
    order as :func:`advance_queue` takes for it, without its loops, queue arithmetic and merging: the same bits."""
    i = head[b]
    mu, td, g = par[i, b, 0], par[i, b, 1], par[i, b, 2]
    before = td * mu * _phi(g * mu)
    left = td * mu * _phi((g - a) * mu)
    out = 0.0 + left
    loss = 0.0 + (before - left)
    z = a * w_kg
    em = math.expm1(-z)
    through = big_m - (0.0 + mu)
    out += through * theta_in * (1.0 + em)
    loss -= through * theta_in * em
    lost = _one_minus_phi_neg(z) if z < 1e-3 else 1.0 + em / z
    loss += theta_in * w_kg * lost
    content = 0.0 + theta_in * w_kg * (1.0 - lost)
    head[b] = 0
    par[0, b, 0], par[0, b, 1], par[0, b, 2] = w_kg, theta_in * (1.0 + em), a
    return out, loss, content


@njit(cache=True, inline="always")
def advance_pipe(par, head, cnt, n_cap, b, w_kg, k_per_s, q_kg_s, dt_s, theta_in):
    r"""Move pipe b's water on by one step of flow ``q_kg_s`` (> 0, along the queue) and ``dt_s`` [s] with
    water entering at ``theta_in`` = T_in − T_g [K]; every element's loss exact.

    An element at mass s from the outlet leaves at s/q with its excess temperature times
    :math:`e^{-k s / q}`; water still inside after the step has decayed by :math:`e^{-k \Delta t}`; water
    entering at t' stays (or, when q Δt > W, leaves after τ = W/q). Returns ``(outflow [K kg], loss [K kg], content [K kg])``:
    the sum of (T − T_g) dm of the water that left, of the drop of (T − T_g) dm over the step of every element
    (its heat lost divided by c_p), and of the water in the pipe at the end of the step (as :func:`_content`,
    found on the way; merging keeps heat exactly).
    """
    a = k_per_s / q_kg_s
    big_m = q_kg_s * dt_s
    if cnt[b] == 1 and big_m >= w_kg * (1.0 - _SLIVER):
        return _cross_one(par, head, cnt, b, w_kg, a, big_m, theta_in)
    return advance_queue(par, head, cnt, n_cap, b, w_kg, k_per_s, q_kg_s, dt_s, theta_in)


@njit(cache=True, inline="always")
def advance_queue(par, head, cnt, n_cap, b, w_kg, k_per_s, q_kg_s, dt_s, theta_in):
    """:func:`advance_pipe` for any queue (the general path: parcels leaving in turn, the rest decaying, the new
    parcel pushed, merging if the queue is full)."""
    a = k_per_s / q_kg_s
    big_m = q_kg_s * dt_s
    whole = big_m >= w_kg * (1.0 - _SLIVER)
    out = 0.0
    loss = 0.0
    content = 0.0
    s = 0.0
    while cnt[b] > 0 and (whole or s < big_m):
        i = head[b]
        mu, td, g = par[i, b, 0], par[i, b, 1], par[i, b, 2]
        take = mu if whole else min(mu, big_m - s)
        if mu - take <= _SLIVER * w_kg:
            take = mu
        before = td * take * _phi(g * take)
        left = (td * math.exp(-a * s) if s > 0.0 else td) * take * _phi((g - a) * take)
        out += left
        loss += before - left
        s += take
        if take == mu:
            cnt[b] -= 1
            # an emptied queue starts again at slot 0: a pipe that water crosses within a step keeps its one
            # parcel in the same place (slot 0, beside its neighbours' in the slot-major array: the pipes of a
            # step's sweep walk one stretch of memory, not a page each)
            head[b] = (i + 1) % n_cap if cnt[b] > 0 else 0
        else:
            par[i, b, 0] = mu - take
            par[i, b, 1] = td * math.exp(g * take)
    if cnt[b] > 0:
        decay = math.expm1(-k_per_s * dt_s)
        for j in range(cnt[b]):
            i = (head[b] + j) % n_cap
            c = par[i, b, 1] * par[i, b, 0] * _phi(par[i, b, 2] * par[i, b, 0])
            loss -= c * decay
            content += c * (1.0 + decay)
            par[i, b, 1] = par[i, b, 1] * (1.0 + decay)
    m_new = w_kg if whole else big_m
    if m_new > 0.0:
        z = a * m_new
        em = math.expm1(-z)  # one exponential for the water that crosses, the new parcel and its loss
        if whole:
            through = big_m - s  # entered this step and left within it, after tau = w / q
            out += through * theta_in * (1.0 + em)
            loss -= through * theta_in * em
        big = z >= 1e-3
        lost = _one_minus_phi_neg(z) if not big else 1.0 + em / z  # 1 - (1 - e^-z)/z
        loss += theta_in * m_new * lost
        content += theta_in * m_new * (1.0 - lost)
        _push(par, head, cnt, n_cap, b, m_new, theta_in * (1.0 + em), a)
    return out, loss, content


@njit(cache=True)
def dynamic_step(node_kind, node_value, node_floor, m_node_kg_s, m_branch_kg_s, dt_s, branch_from, branch_to, w_kg, k_per_s,
                 t_amb, cp, cp_node, t_ref_k, inc_start, inc_branch, inc_outward, par, head, cnt, orient,
                 t_node, t_out, loss_j, q_node_j, e_boundary_j, stored_j, order, sign, c_wall, t_wall, q_gain, q_step_j):
    """One time step of the network (see the module notes). Fills ``t_node`` [K], ``t_out`` (step-mean outlet
    temperature of each branch, its ambient without flow) [K], ``loss_j`` (heat each branch lost) [J],
    ``q_node_j`` (heat added at a supply node > 0, heat taken out at another node < 0) [J] and
    ``e_boundary_j`` (enthalpy entering the network at a node, < 0 leaving) [J] and ``stored_j`` (enthalpy of
    each branch's water at the end of the step, relative to ``t_ref_k``, as :func:`stored_heat_j`) [J].
    ``order`` int64[n_nodes + 1] and ``sign`` int8[n_branches] keep the upwind order between steps: it is
    found again (Kahn's algorithm) only when a flow changes direction, starts or stops (``order[n_nodes]`` = 0
    marks it unknown). ``c_wall`` [J/K] is each branch's wall capacity at its outlet and ``t_wall`` [K] its
    temperature, moved on in place (:func:`gigawatt.models.pipe_heat.lumped_capacity_outlet`; its enthalpy is
    in ``stored_j``). ``q_gain`` [W] is heat dissipated evenly in each branch with water (frictional heating):
    its steady share leaves with the water over the step, the rest is lost to the surroundings (in ``loss_j``),
    as in the steady sweep. ``cp`` [J/(kg K)] is each branch's specific heat, ``cp_node`` each node's for the
    water entering or leaving the network there; where branches of different c_p meet, a node mixes by heat
    capacity (as the steady sweep) and ``q_step_j`` [J] takes the enthalpy bookkeeping of the c_p step,
    (C_in − C_out)(T − t_ref_k) over the step (0 with one c_p). Returns ``(status, node)`` with the codes of
    :mod:`gigawatt.solver.numerics.thermal_kernel`."""
    n_nodes = node_kind.shape[0]
    n_br = branch_from.shape[0]
    n_cap = par.shape[0]
    same = order[n_nodes] == 1
    # mass balance first, so that bad flows leave the state untouched; on the way, whether any flow changed
    # direction since the upwind order was found
    m_in_all = np.zeros(n_nodes)
    m_out_all = np.zeros(n_nodes)
    touch = False  # whether a flow reversed (its queue turns before the sweep) or a branch has no flow
    for b in range(n_br):
        m = m_branch_kg_s[b]
        sg = 1 if m > 0.0 else (-1 if m < 0.0 else 0)
        if sg != sign[b]:
            sign[b] = sg
            same = False
        up, down = (branch_from[b], branch_to[b]) if m > 0.0 else (branch_to[b], branch_from[b])
        m_out_all[up] += abs(m)
        m_in_all[down] += abs(m)
        touch = touch or m * orient[b] < 0.0 or m == 0.0
    if not same:
        order[n_nodes] = 0
        found, cyc = upwind_order(n_nodes, branch_from, branch_to, m_branch_kg_s)
        if cyc >= 0:
            return STATUS_CYCLE, cyc
        order[:n_nodes] = found
        order[n_nodes] = 1
    for n in range(n_nodes):
        if node_kind[n] != NODE_SUPPLY:
            ext = m_node_kg_s[n]
            if ext > 0.0:
                return STATUS_INFLOW_NO_T, n
            if abs(m_in_all[n] + ext - m_out_all[n]) > MASS_BALANCE_RTOL * max(m_in_all[n], m_out_all[n]):
                return STATUS_MASS_IMBALANCE, n
    # the outputs of a branch start from no loss and the stored enthalpy of its water at its ambient (+ its
    # excess, added where it is moved on) and its wall at the start of the step (+ its change): here for a branch
    # without flow, in the sweep below for one with flow, as its upstream node passes water to it (each array
    # read and written in one pass: on large networks the step streams them from memory)
    for b in range(n_br if touch else 0):
        m = m_branch_kg_s[b]
        if m * orient[b] < 0.0:
            _reverse(par, head, cnt, n_cap, b)
            orient[b] = -orient[b]
        if m != 0.0:
            continue
        loss_j[b] = 0.0
        t_out[b] = t_amb[b]
        stored_j[b] = cp[b] * w_kg[b] * (t_amb[b] - t_ref_k) + c_wall[b] * (t_wall[b] - t_ref_k)
        if w_kg[b] > 0.0:  # standing water cools
            decay = math.expm1(-k_per_s[b] * dt_s)
            for j in range(cnt[b]):
                i = (head[b] + j) % n_cap
                loss_j[b] -= cp[b] * par[i, b, 1] * par[i, b, 0] * _phi(par[i, b, 2] * par[i, b, 0]) * decay
                par[i, b, 1] = par[i, b, 1] * (1.0 + decay)
            stored_j[b] += cp[b] * _content(par, head, cnt, n_cap, b)
    for o in range(n_nodes):
        n = order[o]
        m_in = 0.0
        c_in = 0.0  # sum of M c_p over inflowing branches [J/K]
        h_in = 0.0  # sum of M c_p T over inflowing branches [J]
        c_out = 0.0  # sum of M c_p over outflowing branches [J/K]
        amb, n_amb = 0.0, 0
        for e in range(inc_start[n], inc_start[n + 1]):
            b = inc_branch[e]
            f = m_branch_kg_s[b] * inc_outward[e] * dt_s  # > 0 leaves the node
            if f < 0.0:
                m_in -= f
                c_in -= f * cp[b]
                h_in -= f * cp[b] * t_out[b]
            elif f > 0.0:
                c_out += f * cp[b]
            else:
                amb += t_amb[b]
                n_amb += 1
        ext = m_node_kg_s[n] * dt_s
        kind = node_kind[n]
        q_node_j[n] = 0.0
        e_boundary_j[n] = 0.0
        q_step_j[n] = 0.0
        c_out_all = c_out + max(-ext, 0.0) * cp_node[n]
        if kind == NODE_SUPPLY:
            t = node_value[n]
            q_node_j[n] = (c_out_all * (t - t_ref_k) - (h_in - c_in * t_ref_k)
                           - max(ext, 0.0) * cp_node[n] * (t - t_ref_k))
        else:
            if m_in > 0.0:
                mix = h_in / c_in
                t = mix
                if kind == NODE_HEAT:
                    t = mix - node_value[n] * dt_s / c_in
                elif kind == NODE_OUTLET_T:
                    t = node_value[n]
                elif kind == NODE_COOL_TO:
                    t = min(mix, node_value[n])
                elif kind == NODE_TAKE_UP_TO:
                    t = max(mix - node_value[n] * dt_s / c_in, min(mix, node_floor[n]))
                q_node_j[n] = -c_in * (mix - t)
                q_step_j[n] = (c_in - c_out_all) * (t - t_ref_k)
            else:
                t = amb / n_amb if n_amb > 0 else np.nan
        t_node[n] = t
        if ext != 0.0:
            e_boundary_j[n] = cp_node[n] * ext * (t - t_ref_k)
        for e in range(inc_start[n], inc_start[n + 1]):
            b = inc_branch[e]
            q = m_branch_kg_s[b] * inc_outward[e]
            if q > 0.0:
                stored_j[b] = cp[b] * w_kg[b] * (t_amb[b] - t_ref_k) + c_wall[b] * (t_wall[b] - t_ref_k)
                loss_j[b] = 0.0
                if w_kg[b] > 0.0:
                    th_out, th_loss, th_content = advance_pipe(par, head, cnt, n_cap, b, w_kg[b], k_per_s[b],
                                                               q, dt_s, t - t_amb[b])
                    t_out[b] = t_amb[b] + th_out / (q * dt_s)
                    cp_b = cp[b]
                    loss_j[b] = cp_b * th_loss
                    stored_j[b] += cp_b * th_content
                    if q_gain[b] != 0.0:  # frictional heat, its steady share to the outlet (module notes)
                        share = frictional_heat_outlet_share(k_per_s[b] * w_kg[b] * cp_b, 1.0, q, cp_b)  # U'L = kWcp
                        t_out[b] += q_gain[b] * share / (q * cp_b)
                        loss_j[b] += q_gain[b] * (1.0 - share) * dt_s
                    if c_wall[b] > 0.0:  # the wall at the outlet (its capacity lags what leaves)
                        t_out[b], t_end = lumped_capacity_outlet(t_wall[b], t_out[b], q, cp_b, c_wall[b], dt_s)
                        stored_j[b] += c_wall[b] * (t_end - t_wall[b])
                        t_wall[b] = t_end
                else:
                    t_out[b] = t
    return STATUS_OK, -1


@njit(cache=True)
def rebase_ambient(par, head, cnt, rows, delta_k):
    """Refer the water of branches ``rows`` to an ambient ``delta_k`` [K] warmer: each parcel keeps its mass,
    gradient and heat content, its excess lowered by ``delta_k`` on average (module notes, "Surroundings that
    change")."""
    n_cap = par.shape[0]
    for r in range(rows.size):
        b = rows[r]
        if delta_k[r] == 0.0:
            continue
        for j in range(cnt[b]):
            i = (head[b] + j) % n_cap
            par[i, b, 1] -= delta_k[r] / _phi(par[i, b, 2] * par[i, b, 0])


@njit(cache=True)
def rescale_parcels(par, head, cnt, rows, ratio):
    """Scale the water of branches ``rows`` to ``ratio`` times its mass, each parcel keeping its share of the
    pipe and its temperature profile along it (its gradient per kilogram divided by the ratio)."""
    n_cap = par.shape[0]
    for r in range(rows.size):
        b = rows[r]
        if ratio[r] == 1.0:
            continue
        for j in range(cnt[b]):
            i = (head[b] + j) % n_cap
            par[i, b, 0] *= ratio[r]
            par[i, b, 2] /= ratio[r]


@njit(cache=True)
def stored_heat_j(par, head, cnt, w_kg, t_amb, cp, t_ref_k, c_wall, t_wall, out):
    """Enthalpy of the water and wall in each branch relative to ``t_ref_k`` [J] (``cp`` [J/(kg K)] each
    branch's), into ``out``."""
    n_cap = par.shape[0]
    for b in range(w_kg.shape[0]):
        out[b] = cp[b] * (_content(par, head, cnt, n_cap, b) + w_kg[b] * (t_amb[b] - t_ref_k)) + c_wall[b] * (
            t_wall[b] - t_ref_k)


class DynamicStep(NamedTuple):
    """One time step of :meth:`DynamicThermalNetwork.step` (step means; energies over the step)."""

    t_node_k: np.ndarray          # [n_nodes] node temperature (step mean of the water leaving it) [K]
    t_branch_out_k: np.ndarray    # [n_branches] step-mean temperature of the water leaving each branch [K]
    q_loss_w: np.ndarray          # [n_branches] mean heat lost to the surroundings [W]
    q_node_w: np.ndarray          # [n_nodes] mean heat added (> 0, supply) or taken out (< 0) at each node [W]
    stored_j: np.ndarray          # [n_branches] enthalpy of each branch's water and wall at the end of the step [J]
    ledger: dict                  # the step's energy ledger [J] (see DynamicThermalNetwork.ledger)


_LEDGER_KEYS = ("heat_added_j", "heat_extracted_j", "boundary_in_j", "friction_j", "loss_j", "stored_change_j",
                "cp_step_j", "residual_j")


class DynamicThermalNetwork:
    """A network of pipes carrying water with transport delay (module notes); state: the water in the pipes.

    Parameters
    ----------
    node_kind : array_like of int or str
        Per node, as :func:`gigawatt.solver.numerics.thermal_kernel.solve_thermal_network`, plus ``"cool_to"``
        (:data:`NODE_COOL_TO`).
    branch_from, branch_to : array_like of int
        End nodes of each branch.
    u_w_per_m_k : array_like
        Heat-loss coefficient per metre [W/(m K)], >= 0.
    length_m : array_like
        Length [m], >= 0 (0: a branch without water, e.g. a pump or a substation).
    area_m2 : array_like
        Inner cross-section [m²], > 0 where the length is > 0.
    t_ambient_k : float or array_like
        Surroundings of each branch [K], constant in time.
    rho_kg_m3, cp_j_per_kg_k : float or array_like
        Density [kg/m³] and specific heat [J/(kg K)] of the water, > 0: one for the network, or each branch's
        (per-pipe properties; a node then mixes by heat capacity and the ledger carries the c_p steps).
    cp_node_j_per_kg_k : float or array_like, optional
        Specific heat of the water entering or leaving the network at each node [J/(kg K)] (default: the mean
        of ``cp_j_per_kg_k``).
    t_ref_k : float
        Reference temperature of the enthalpies in the ledger [K].
    max_parcels : int
        Parcels per pipe before merging (>= 2; memory 24 bytes × parcels × branches).
    wall_heat_capacity_j_per_k : float or array_like
        Heat capacity of each branch's wall [J/K], >= 0, lumped at its outlet (van der Heijde et al. [2]_;
        :func:`gigawatt.models.pipe_heat.lumped_capacity_outlet`); 0 (the default): none, the plug flow alone.
    """

    def __init__(self, node_kind, branch_from, branch_to, u_w_per_m_k, length_m, area_m2, t_ambient_k,
                 rho_kg_m3, cp_j_per_kg_k, *, t_ref_k=273.15, max_parcels=DEFAULT_MAX_PARCELS, branch_names=None,
                 wall_heat_capacity_j_per_k=0.0, cp_node_j_per_kg_k=None):
        kinds = np.asarray(node_kind)
        if kinds.dtype.kind in "US":
            cool = kinds == "cool_to"
            kinds = node_kind_codes(np.where(cool, "junction", kinds))
            kinds[cool] = NODE_COOL_TO
        elif kinds.size and (kinds.dtype.kind not in "iu" or kinds.min() < 0 or kinds.max() > NODE_COOL_TO):
            bad = next(i for i, k in enumerate(kinds.ravel()) if not (isinstance(k, (int, np.integer))
                                                                        and 0 <= k <= NODE_COOL_TO))
            raise CaseError("unknown node kind", element=f"node {bad}", field="node_kind",
                            value=str(kinds.ravel()[bad]), allowed="junction, supply, heat, outlet_t, cool_to (0-4)")
        self.node_kind = np.ascontiguousarray(kinds, dtype=np.int64)
        self.node_floor_k = np.full(self.node_kind.size, np.nan)  # of NODE_TAKE_UP_TO nodes [K]
        self.branch_from = np.ascontiguousarray(branch_from, dtype=np.int64)
        self.branch_to = np.ascontiguousarray(branch_to, dtype=np.int64)
        nb = self.branch_from.size
        names = list(branch_names) if branch_names is not None else [str(i) for i in range(nb)]

        def per(x, field):
            arr = np.broadcast_to(np.asarray(x, dtype=float), (nb,)).copy()
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise CaseError("not a finite number", element=f"branch '{names[bad[0]]}'", field=field,
                                value=float(arr[bad[0]]), allowed="a finite number")
            return arr

        u, length, area = per(u_w_per_m_k, "u_w_per_m_k"), per(length_m, "length_m"), per(area_m2, "area_m2")
        c_wall = per(wall_heat_capacity_j_per_k, "wall_heat_capacity_j_per_k")
        for field, arr, allowed in (("u_w_per_m_k", u, ">= 0 W/(m K)"), ("length_m", length, ">= 0 m"),
                                    ("area_m2", area, ">= 0 m2"), ("wall_heat_capacity_j_per_k", c_wall, ">= 0 J/K")):
            bad = np.flatnonzero(arr < 0)
            if bad.size:
                raise CaseError("must not be negative", element=f"branch '{names[bad[0]]}'", field=field,
                                value=float(arr[bad[0]]), allowed=allowed)
        bad = np.flatnonzero((length > 0) & (area <= 0))
        if bad.size:
            raise CaseError("a pipe with a length holds water: it needs a cross-section",
                            element=f"branch '{names[bad[0]]}'", field="area_m2", value=float(area[bad[0]]),
                            allowed="> 0 m2 where length_m > 0")
        rho, cp = per(rho_kg_m3, "rho_kg_m3"), per(cp_j_per_kg_k, "cp_j_per_kg_k")
        for field, arr in (("rho_kg_m3", rho), ("cp_j_per_kg_k", cp)):
            bad = np.flatnonzero(~(arr > 0))
            if bad.size:
                raise CaseError("the water's property must be positive", element=f"branch '{names[bad[0]]}'",
                                field=field, value=float(arr[bad[0]]), allowed="> 0")
        if not (isinstance(max_parcels, (int, np.integer)) and max_parcels >= 2):
            raise CaseError("a pipe needs room for at least two parcels", element="dynamic network",
                            field="max_parcels", value=max_parcels, allowed="an integer >= 2")
        n_nodes = self.node_kind.size
        for field, ends in (("branch_from", self.branch_from), ("branch_to", self.branch_to)):
            bad = np.flatnonzero((ends < 0) | (ends >= n_nodes))
            if bad.size:
                raise CaseError("no such node", element=f"branch '{names[bad[0]]}'", field=field,
                                value=int(ends[bad[0]]), allowed=f"0 ... {n_nodes - 1}")
        self.branch_names = names
        self.t_ref_k = float(t_ref_k)
        # rho and cp: the network's (the mean of the branches'); rho_branch, cp_branch, cp_node each element's
        self.rho, self.cp = _one_value(rho, 1000.0), _one_value(cp, 4184.0)
        self.rho_branch, self.cp_branch = rho, cp
        self.cp_node = np.ascontiguousarray(np.broadcast_to(np.asarray(
            self.cp if cp_node_j_per_kg_k is None else cp_node_j_per_kg_k, dtype=float), (n_nodes,)))
        self.area_m2, self.u_length, self.length_m = area, u * length, length
        self.t_amb = per(t_ambient_k, "t_ambient_k")
        self.w_kg = rho * area * length
        self.c_wall = np.where(self.w_kg > 0, c_wall, 0.0)  # a branch without water (pump, substation) has no wall
        self._no_gain = np.zeros(nb)  # no frictional heating
        self.t_wall = np.zeros(nb)
        self.k_per_s = np.where(self.w_kg > 0, u * length / np.where(self.w_kg > 0, self.w_kg * cp, 1.0), 0.0)
        start, branch, _, outward = incidence(n_nodes, self.branch_from, self.branch_to)
        self.inc = (start, branch, outward)
        # per parcel slot and branch: mass [kg], theta_d [K], g [1/kg]; slot-major, so that the first slots of all
        # the branches (where a pipe that water crosses within a step keeps its one parcel) lie side by side
        self.par = np.zeros((int(max_parcels), nb, 3))
        self.head = np.zeros(nb, np.int64)
        self.cnt = np.zeros(nb, np.int64)
        self.orient = np.ones(nb)
        self._order = np.zeros(n_nodes + 1, np.int64)  # upwind order kept between steps (dynamic_step)
        self._sign = np.zeros(nb, np.int8)
        self._supply = self.node_kind == NODE_SUPPLY
        self._supply_rows, self._other_rows = _rows(np.flatnonzero(self._supply)), _rows(np.flatnonzero(~self._supply))
        self._work = (np.empty(nb), np.empty(n_nodes), np.empty(n_nodes), np.empty(n_nodes))  # the kernel's scratch
        self.time_s = 0.0
        self.ledger = dict.fromkeys(_LEDGER_KEYS, 0.0)
        self.fill_uniform(self.t_amb)

    @property
    def n_node(self):
        return self.node_kind.size

    @property
    def n_branch(self):
        return self.branch_from.size

    def residence_time_s(self, m_branch_kg_s) -> np.ndarray:
        """τ = ρ A L / |ṁ| of each branch at these flows [s] (inf without flow, 0 without water)."""
        m = np.abs(np.asarray(m_branch_kg_s, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.w_kg > 0, self.w_kg / m, 0.0)

    def fill_uniform(self, t_k) -> None:
        """Fill every pipe with water at ``t_k`` [K] (scalar or per branch); resets the ledger."""
        t = np.broadcast_to(np.asarray(t_k, dtype=float), (self.n_branch,))
        # only slot 0 is written: the kernels read a pipe's slots head ... head + cnt − 1 only, and zeroing all
        # max_parcels slots would make the whole array resident (32 MiB at 10^4 consumers) where most pipes
        # hold one parcel all year
        self.par[0] = 0.0
        has = self.w_kg > 0
        self.par[0, :, 0] = self.w_kg
        self.par[0, :, 1] = t - self.t_amb
        self.head[:] = 0
        self.cnt[:] = has.astype(np.int64)
        self.orient[:] = 1.0
        self.t_wall[:] = t
        self._reset_ledger()

    def fill_steady(self, t_node_k, m_branch_kg_s, q_gain_w=None) -> None:
        """Fill every pipe with the steady profile of these flows and node temperatures [K] (the water entering
        at the upstream node's temperature, decaying exponentially along the pipe; standing water at the
        ambient temperature; each wall at the temperature of the water leaving it, with its share of the
        frictional heat ``q_gain_w`` [W] if given): stepping on with the same flows, node values and frictional
        heat changes nothing."""
        t_node = np.asarray(t_node_k, dtype=float)
        m = np.asarray(m_branch_kg_s, dtype=float)
        self.fill_uniform(self.t_amb)
        up = np.where(m >= 0, self.branch_from, self.branch_to)
        flowing = (m != 0) & (self.w_kg > 0)
        q = np.abs(m[flowing])
        a = self.k_per_s[flowing] / q
        theta_in = t_node[up[flowing]] - self.t_amb[flowing]
        self.par[0, flowing, 1] = theta_in * np.exp(-a * self.w_kg[flowing])
        self.par[0, flowing, 2] = a
        self.t_wall[flowing] = self.t_amb[flowing] + self.par[0, flowing, 1]
        if q_gain_w is not None:
            gain = np.asarray(q_gain_w, dtype=float)[flowing]
            n = a * self.w_kg[flowing]  # U' L / (|m| cp)
            share = np.where(n < 1e-8, 1.0 - 0.5 * n, -np.expm1(-n) / np.where(n > 0, n, 1.0))
            self.t_wall[flowing] += gain * share / (q * self.cp_branch[flowing])
        self.orient[:] = np.where(m < 0, -1.0, 1.0)
        self._reset_ledger()

    def stored_j(self) -> np.ndarray:
        """Enthalpy of each branch's water and wall relative to ``t_ref_k`` [J]."""
        out = np.empty(self.n_branch)
        stored_heat_j(self.par, self.head, self.cnt, self.w_kg, self.t_amb, self.cp_branch,
                      self.t_ref_k, self.c_wall, self.t_wall, out)
        return out

    @property
    def stored_total_j(self) -> float:
        """Enthalpy of all the branches' water and walls at the end of the last step (or the fill) relative to
        ``t_ref_k`` [J]: the sum of :meth:`stored_j` (``np.sum``, taken once with it)."""
        return self._stored_total

    def _keep_stored(self):
        """Take the water's enthalpy now (:meth:`stored_j`) as the start of the next step, with its total [J]."""
        self._stored = self.stored_j()
        self._stored_total = float(self._stored.sum())

    def _reset_ledger(self):
        self.time_s = 0.0
        self.ledger = dict.fromkeys(_LEDGER_KEYS, 0.0)
        self._keep_stored()
        self.ledger["stored_start_j"] = self._stored_total

    def set_surroundings(self, rows, k_per_s, t_ambient_k) -> None:
        """Between two steps, give branches ``rows`` a new decay rate ``k_per_s`` = U' L / (W c_p) [1/s] and
        ambient ``t_ambient_k`` [K] (a seasonal ground, a twin pipe's partner: module notes, "Surroundings that
        change"); their water keeps its heat content exactly, so the ledger is untouched."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        t_new = np.asarray(t_ambient_k, dtype=float)
        rebase_ambient(self.par, self.head, self.cnt, rows, np.ascontiguousarray(t_new - self.t_amb[rows]))
        self.t_amb[rows] = t_new
        self.k_per_s[rows] = k_per_s

    def set_properties(self, rows, rho_kg_m3, cp_j_per_kg_k) -> float:
        """Between two steps, give branches ``rows`` a new water density [kg/m³] and specific heat [J/(kg K)]
        (per-pipe properties that follow the water's temperature). Each pipe keeps its volume and the
        temperature profile of its water: a parcel keeps its share of the pipe's volume (its mass scaled by
        the density ratio, as the water expands out of or contracts into the fixed pipe) and its temperatures.
        Returns the change of the stored enthalpy this re-evaluation makes [J] (relative to ``t_ref_k``), which
        is also added to the ledger's ``cp_step_j`` with the opposite sign so that ``stored_change_j`` stays the
        change of the enthalpy as stored (the ledger closes as before)."""
        rows = np.asarray(rows, dtype=np.int64)
        before = self._stored_total
        rho_new = np.asarray(rho_kg_m3, dtype=float)
        w_new = rho_new * self.area_m2[rows] * self.length_m[rows]
        ratio = np.where(self.w_kg[rows] > 0, w_new / np.where(self.w_kg[rows] > 0, self.w_kg[rows], 1.0), 1.0)
        rescale_parcels(self.par, self.head, self.cnt, rows, np.ascontiguousarray(ratio))
        self.rho_branch[rows] = rho_new
        self.w_kg[rows] = w_new
        self.cp_branch[rows] = cp_j_per_kg_k
        wc = self.w_kg[rows] * self.cp_branch[rows]
        self.k_per_s[rows] = np.where(wc > 0, self.u_length[rows] / np.where(wc > 0, wc, 1.0), 0.0)
        self._keep_stored()
        jump = self._stored_total - before
        self.ledger["stored_change_j"] += jump
        self.ledger["cp_step_j"] -= jump
        return jump

    def take_up_to(self, nodes, floor_k) -> None:
        """Make ``nodes`` substations that take out the heat their ``node_value`` gives [W] in each step,
        cooling their water no further than ``floor_k`` [K] (:data:`NODE_TAKE_UP_TO`)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        self.node_kind[nodes] = NODE_TAKE_UP_TO
        self.node_floor_k[nodes] = floor_k

    def step(self, node_value, m_branch_kg_s, m_node_kg_s=0.0, dt_s=3600.0, q_gain_w=None) -> DynamicStep:
        """Advance by one time step of ``dt_s`` [s] with these branch flows [kg/s] (> 0 from → to), node flows
        from outside [kg/s] (> 0 entering, only at supply nodes) and node values (supply temperature [K],
        heat taken out [W], outlet or cool-to temperature [K], by kind); ``q_gain_w`` [W]: heat dissipated
        evenly in each branch (frictional heating; none by default), counted in the ledger's ``friction_j``
        where water flows.

        Raises
        ------
        CaseError
            A time step that is not a positive finite number, flows that are not finite, or of the wrong
            length; flows circling a loop, not balancing at a node, or entering where no temperature is given.
        """
        if not (isinstance(dt_s, (int, float, np.floating, np.integer)) and math.isfinite(dt_s) and dt_s > 0):
            raise CaseError("the time step must be positive", element="dynamic network step", field="dt_s",
                            value=dt_s, allowed="> 0 s, finite")
        m_b = self._array(m_branch_kg_s, self.n_branch, "m_branch_kg_s")
        m_n = self._array(m_node_kg_s, self.n_node, "m_node_kg_s")
        value = self._array(node_value, self.n_node, "node_value", finite=False)
        gain = self._no_gain if q_gain_w is None else np.where((m_b != 0.0) & (self.w_kg > 0), self._array(
            q_gain_w, self.n_branch, "q_gain_w"), 0.0)
        before = self._stored_total  # the enthalpy at the end of the last step (or the fill), summed
        t_node, t_out, after = np.empty(self.n_node), np.empty(self.n_branch), np.empty(self.n_branch)
        loss, q_node, e_bnd, q_step = self._work  # (the kernel's own: none of them is returned)
        start, branch, outward = self.inc
        status, bad = dynamic_step(self.node_kind, value, self.node_floor_k, m_n, m_b, float(dt_s), self.branch_from, self.branch_to,
                                   self.w_kg, self.k_per_s, self.t_amb, self.cp_branch, self.cp_node, self.t_ref_k,
                                   start, branch, outward, self.par, self.head, self.cnt, self.orient,
                                   t_node, t_out, loss, q_node, e_bnd, after, self._order, self._sign,
                                   self.c_wall, self.t_wall, gain, q_step)
        if status != STATUS_OK:
            why = {STATUS_CYCLE: "water circles a loop of branches with no inflow",
                   STATUS_MASS_IMBALANCE: "the branch flows do not balance at this node",
                   STATUS_INFLOW_NO_T: "water enters the network at a node that is not a supply node"}[status]
            raise CaseError(why,
                            element=f"node {bad}", field="m_branch_kg_s", value=None,
                            allowed="flows from a converged hydraulic solve")
        self._stored, self._stored_total = after, float(after.sum())
        added = float(q_node[self._supply_rows].sum())  # (the same sums as by the mask, without making it)
        extracted = -float(q_node[self._other_rows].sum())
        step_ledger = {"heat_added_j": added, "heat_extracted_j": extracted, "boundary_in_j": float(e_bnd.sum()),
                       "friction_j": 0.0 if q_gain_w is None else float(gain.sum()) * float(dt_s),
                       "loss_j": float(loss.sum()), "stored_change_j": self._stored_total - before,
                       "cp_step_j": float(q_step.sum())}
        step_ledger["residual_j"] = (added + step_ledger["boundary_in_j"] + step_ledger["friction_j"] - extracted
                                     - step_ledger["loss_j"] - step_ledger["stored_change_j"] - step_ledger["cp_step_j"])
        for key in _LEDGER_KEYS:
            self.ledger[key] += step_ledger[key]
        self.time_s += float(dt_s)
        return DynamicStep(t_node, t_out, loss / dt_s, q_node / dt_s, after, step_ledger)

    def energy_balance_residual(self) -> float:
        """|heat in − heat out − losses − stored change| over the run so far, relative to the largest term."""
        g = self.ledger
        scale = max(abs(g[k]) for k in _LEDGER_KEYS if k != "residual_j")
        # the residual of the run from its totals (not the sum of the steps' residuals)
        r = (g["heat_added_j"] + g["boundary_in_j"] + g["friction_j"] - g["heat_extracted_j"] - g["loss_j"]
             - g["stored_change_j"] - g["cp_step_j"])
        return abs(r) / scale if scale > 0 else 0.0

    def _array(self, x, n, field, finite=True):
        if type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (n,) and x.flags.c_contiguous:
            arr = x  # (what the conversions below return for it, without their calls: a series' every step)
        else:
            arr = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=float), (n,)) if np.ndim(x) == 0
                                       else np.asarray(x, dtype=float))
            if arr.shape != (n,):
                raise CaseError("wrong length", element="dynamic network step", field=field, value=arr.shape[0],
                                allowed=f"{n} values")
        if finite and not np.isfinite(arr).all():
            bad = np.flatnonzero(~np.isfinite(arr))
            raise CaseError("not a finite number", element=f"entry {bad[0]}", field=field, value=float(arr[bad[0]]),
                            allowed="a finite number")
        return arr


def _rows(rows):
    """Row indices as a slice where they are one run (as the nodes a step visits after the plant's: a view, summed
    to the same bits as the copy the indices would make), else as they are."""
    if rows.size and rows[-1] - rows[0] + 1 == rows.size:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _one_value(x, empty):
    """The value of an array whose entries are all equal, else their mean (``empty`` for none)."""
    if not x.size:
        return empty
    return float(x[0]) if np.all(x == x[0]) else float(np.mean(x))


def from_district_heating(dh, *, max_parcels=DEFAULT_MAX_PARCELS, node_order=None,
                          branch_order=None) -> DynamicThermalNetwork:
    """The dynamic network of a prepared district-heating network
    (:func:`gigawatt.solver.district_heating.stage.prepare_district_heating`): its thermal network's nodes and
    branches (pipes in service, booster pumps, then each consumer's supply → substation → return), the pipes'
    inner cross-sections and wall heat capacities, its ground temperature and water properties; substations
    cool to their return temperature (:data:`NODE_COOL_TO`), or take out a given heat (mass-flow consumers with
    a demand).

    ``node_order``, ``branch_order`` (optional): the thermal network's node and branch at each position of the
    dynamic network (a renumbering, e.g. in the order a step visits them, which keeps its memory accesses in
    order on large networks; :mod:`gigawatt.solver.district_heating.series`)."""
    tn = dh.tnet
    if node_order is not None or branch_order is not None:
        nodes = np.arange(tn.n_node) if node_order is None else np.asarray(node_order)
        br = np.arange(tn.n_branch) if branch_order is None else np.asarray(branch_order)
        net = from_district_heating(dh, max_parcels=max_parcels)
        pos = np.empty(nodes.size, np.int64)
        pos[nodes] = np.arange(nodes.size)
        t_amb = np.broadcast_to(np.asarray(tn.t_ambient_k, dtype=float), (tn.n_branch,))
        return DynamicThermalNetwork(net.node_kind[nodes], pos[tn.branch_from[br]], pos[tn.branch_to[br]],
                                     np.asarray(tn.u_w_per_m_k)[br], np.asarray(tn.length_m)[br], net.area_m2[br],
                                     t_amb[br], net.rho_branch[br], net.cp_branch[br], t_ref_k=tn.t_ref_k,
                                     max_parcels=max_parcels, branch_names=[net.branch_names[b] for b in br],
                                     wall_heat_capacity_j_per_k=net.c_wall[br], cp_node_j_per_kg_k=net.cp_node[nodes])
    kind = tn.node_kind.copy()
    kind[dh.sub[~dh.is_flow]] = NODE_COOL_TO
    n_pipe = dh.pf.size
    area = np.zeros(tn.n_branch)
    area[:n_pipe] = dh.pipe_area
    c_wall = np.zeros(tn.n_branch)
    c_wall[:n_pipe] = dh.pipe_wall_c_j_per_k
    pipe_ids = dh.case.tables["dh_pipe"]["id"].to_numpy()[dh.live]
    names = [str(x) for x in pipe_ids] + [f"pump {i}" for i in range(dh.qf.size)] + \
        [f"consumer {c} {side}" for side in ("supply", "return") for c in dh.consumer_ids]
    rho = np.full(tn.n_branch, dh.rho)
    rho[:n_pipe] = dh.rho_pipe  # per-pipe properties: each pipe's (its c_p is the thermal network's cp_branch)
    return DynamicThermalNetwork(kind, tn.branch_from, tn.branch_to, tn.u_w_per_m_k, tn.length_m, area,
                                 tn.t_ambient_k, rho, tn.cp_branch, t_ref_k=tn.t_ref_k, max_parcels=max_parcels,
                                 branch_names=names, wall_heat_capacity_j_per_k=c_wall, cp_node_j_per_kg_k=tn.cp_node)


def district_heating_step_inputs(dh, state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(node_value, m_branch_kg_s, m_node_kg_s)`` for :meth:`DynamicThermalNetwork.step` from one steady solve
    ``state`` (a ``DHState`` of ``dh.solve(...)``): its flows, the plant's supply temperature, the substations'
    return temperatures (or heat); the plant's nodes take what the branches bring and carry off.

    In the step's ledger the plant's heat is ``boundary_in_j`` (water leaves at the return node and comes back
    at the supply temperature; the supply node itself adds none), and the heat the substations deliver is
    ``-q_node_w[dh.sub]``: what the water reaching them *now* gives when cooled to their return temperature,
    which differs from the steady solve's delivery while a temperature change travels (the steady flows were
    set for the steady inlet temperatures)."""
    n_all = dh.n + dh.sub.size
    m_branch = np.concatenate([state.pipe_flow_kg_s[dh.live], state.booster_flow_kg_s[dh.live_pumps],
                               state.consumer_flow_kg_s, state.consumer_flow_kg_s])
    tn = dh.tnet
    net_out = np.bincount(tn.branch_from, m_branch, n_all) - np.bincount(tn.branch_to, m_branch, n_all)
    m_node = np.zeros(n_all)
    for plant in (dh.sup, dh.ret):
        m_node[plant] = net_out[plant]
    value = np.zeros(n_all)
    value[dh.sup] = dh.s["t_supply_k"]
    value[dh.sub] = np.where(dh.flow_heat, dh.demand, dh.t_ret_c)
    return value, m_branch, m_node
