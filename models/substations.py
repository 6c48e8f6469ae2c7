r"""District-heating substations: the flow a substation's control draws for its heat demand.

A substation (an indirect heat exchanger, or a direct connection) takes water from the supply network at
its inlet temperature :math:`T_\mathrm{in}` and gives it back to the return network cooled by the heat
:math:`Q` it passes to the building. Its control sets the flow; the heat balance of the substation is

.. math:: Q = \dot m\, c_p\, (T_\mathrm{in} - T_\mathrm{out})

Three control modes are common in the literature and in the simulation tools of the field
(Frederiksen & Werner 2013 [1]_, on customer substations; the substation of the IBPSA Project 1 DESTEST
network exercise [2]_):

* ``fixed_return`` (:func:`flow_fixed_return`): the control valve holds the return temperature at its
  set-point :math:`T_\mathrm{ret}` and the flow follows the inlet temperature,
  :math:`\dot m = Q / (c_p (T_\mathrm{in} - T_\mathrm{ret}))`;
* ``fixed_delta_t`` (:func:`flow_fixed_delta_t`): a fixed temperature drop :math:`\Delta T`, variable flow,
  :math:`\dot m = Q / (c_p \Delta T)`, whatever the inlet temperature (the return follows it);
* ``flow_limited`` (:func:`flow_limited`): ``fixed_return`` with the valve's largest flow
  :math:`\dot m_\mathrm{max}` (its k_vs at the available differential pressure, or a flow limiter):
  :math:`\dot m = \min(Q / (c_p (T_\mathrm{in} - T_\mathrm{ret})),\ \dot m_\mathrm{max})`.

Each may keep a **minimum (bypass) flow** (:func:`with_minimum_flow`),
:math:`\dot m = \max(\dot m_\mathrm{demand},\ \dot m_\mathrm{min})`, the bypass that keeps the service
pipe warm at low load [1]_ [2]_; the heat taken out stays :math:`Q`, so the return is warmer than the
set-point, :math:`T_\mathrm{out} = T_\mathrm{in} - Q / (\dot m c_p)` (:func:`outlet_temperature`).

A substation whose water arrives at or below its return set-point (``fixed_return`` and ``flow_limited``)
cannot use it: it **passes it through** (:func:`cold_bypass_flow`) at the flow its demand needs at the
design difference between the plant's supply temperature and its set-point, or its minimum flow if that is
larger, instead of opening to its largest flow. The design flow (not zero) is kept because a zero flow
would leave the service pipe cold for good: the controller cannot tell cold water from too little flow, and
a real valve opened for its demand stays near that opening.

Symbols and units: Q heat demand [W], :math:`\dot m` mass flow [kg/s], :math:`c_p` specific heat of the
water [J/(kg K)], temperatures [K], :math:`\Delta T` temperature drop [K]. All functions are vectorised over
numpy arrays (one entry per substation); a demand of 0 gives a flow of 0 (or the minimum flow).

Validity: a substation in steady operation (its controller settled within the time step); no valve
authority or pressure dependence beyond the flow limit; the temperature difference at least
``min_dt_k`` (1 K by default: the flow at a smaller difference is capped there, the largest flow a
``fixed_return`` substation draws).

References
----------
.. [1] H. Frederiksen, S. Werner, District Heating and Cooling, Studentlitteratur, Lund 2013,
   ISBN 978-91-44-08530-2 (customer substations: temperature difference and flow control; bypass flows that
   keep service pipes warm at low load).
.. [2] IBPSA Project 1, DESTEST network common exercise 1: the specification
   ``wp_3_1_destest/Specifications/NetworkCommonExercise1.md`` ("fixed temperature drop ... over
   substation; mass flow rate determined by heat load and fixed temperature drop; minimal mass flow rate
   ... (bypass flow)") and its Modelica substation ``wp_3_1_destest/Modelica/IBPSAdestest/Consumer/
   IdealConsumerTwin.mo`` (the flow :math:`\max(Q / (c_p \Delta T),\ \dot m_\mathrm{bypass})`, smoothed;
   bypass 0.0001 kg/s by default), https://github.com/ibpsa/project1, commit
   b39c22a55155267d4536d0cff92e52e5e38343a1 (2022-09-14).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_DT_K = 1.0
"""Smallest temperature difference a ``fixed_return`` substation's flow is computed for [K]: its flow cap
:math:`Q / (c_p \\cdot 1\\,\\mathrm K)`."""


def flow_fixed_return(q_w, t_in_k, t_return_k, cp_j_per_kg_k, min_dt_k=MIN_DT_K):
    r"""Flow of a substation holding its return temperature [kg/s].

    .. math:: \dot m = \frac{Q}{c_p \max(T_\mathrm{in} - T_\mathrm{ret},\ \Delta T_\mathrm{min})}

    Parameters
    ----------
    q_w : array_like
        Heat demand [W], >= 0.
    t_in_k, t_return_k : array_like
        Inlet temperature and return set-point [K].
    cp_j_per_kg_k : float
        Specific heat of the water [J/(kg K)].
    min_dt_k : float
        Smallest difference the flow is computed for [K] (the cap).

    Returns
    -------
    numpy.ndarray
        Mass flow [kg/s].

    References: [1]_ of the module.
    """
    return np.asarray(q_w, float) / (cp_j_per_kg_k * np.maximum(np.asarray(t_in_k, float) - t_return_k, min_dt_k))


def flow_fixed_delta_t(q_w, delta_t_k, cp_j_per_kg_k):
    r"""Flow of a substation with a fixed temperature drop [kg/s].

    .. math:: \dot m = \frac{Q}{c_p\, \Delta T}

    Parameters
    ----------
    q_w : array_like
        Heat demand [W], >= 0.
    delta_t_k : array_like
        Temperature drop across the substation [K], > 0.
    cp_j_per_kg_k : float
        Specific heat of the water [J/(kg K)].

    Returns
    -------
    numpy.ndarray
        Mass flow [kg/s]. Example: 19.347 kW at 30 K with c_p = 4180 J/(kg K) gives 0.1543 kg/s (the peak load of a
        house of the DESTEST network, https://github.com/ibpsa/project1-destest, ``Networks/CE_1/input_data``).
    """
    return np.asarray(q_w, float) / (cp_j_per_kg_k * np.asarray(delta_t_k, float))


def flow_limited(q_w, t_in_k, t_return_k, flow_max_kg_s, cp_j_per_kg_k, min_dt_k=MIN_DT_K):
    r"""Flow of a substation holding its return temperature with a largest flow [kg/s].

    .. math:: \dot m = \min\!\left(\frac{Q}{c_p \max(T_\mathrm{in} - T_\mathrm{ret},\ \Delta T_\mathrm{min})},\
              \dot m_\mathrm{max}\right)

    At the limit the substation delivers :math:`\dot m_\mathrm{max} c_p (T_\mathrm{in} - T_\mathrm{ret}) < Q`.
    Parameters as :func:`flow_fixed_return`, and ``flow_max_kg_s`` [kg/s], > 0.
    """
    return np.minimum(flow_fixed_return(q_w, t_in_k, t_return_k, cp_j_per_kg_k, min_dt_k), flow_max_kg_s)


def with_minimum_flow(m_demand_kg_s, flow_min_kg_s):
    r"""The bypass form: :math:`\dot m = \max(\dot m_\mathrm{demand},\ \dot m_\mathrm{min})` [kg/s] ([1]_ of the
    module; the DESTEST substation, [2]_)."""
    return np.maximum(m_demand_kg_s, flow_min_kg_s)


def cold_bypass_flow(q_w, t_design_supply_k, t_return_k, flow_min_kg_s, cp_j_per_kg_k, flow_max_kg_s=np.inf,
                     min_dt_k=MIN_DT_K):
    r"""Flow of a substation passing through water that arrives at or below its return set-point [kg/s]:
    the flow its demand needs at the design difference (within its largest flow), or its minimum flow if
    larger,

    .. math:: \dot m = \max\!\left(\min\!\left(\frac{Q}{c_p \max(T_\mathrm{sup,design} - T_\mathrm{ret},\
              \Delta T_\mathrm{min})},\ \dot m_\mathrm{max}\right),\ \dot m_\mathrm{min}\right)

    (module notes: why not zero). ``t_design_supply_k``: the plant's supply temperature [K].
    """
    return with_minimum_flow(np.minimum(flow_fixed_return(q_w, t_design_supply_k, t_return_k, cp_j_per_kg_k, min_dt_k),
                                        flow_max_kg_s), flow_min_kg_s)


def outlet_temperature(q_w, t_in_k, m_kg_s, cp_j_per_kg_k):
    r"""Outlet (return) temperature of a substation taking heat Q out of a flow :math:`\dot m` [K]:
    :math:`T_\mathrm{out} = T_\mathrm{in} - Q / (\dot m c_p)`; the inlet temperature where there is no flow."""
    m = np.asarray(m_kg_s, float)
    return np.asarray(t_in_k, float) - np.asarray(q_w, float) / (np.where(m > 0, m, 1.0) * cp_j_per_kg_k) * (m > 0)


@dataclass(frozen=True)
class SubstationControl:
    """A control mode of the registry: its flow law ``flow(q_w, t_in_k, t_return_k, delta_t_k, flow_max_kg_s,
    cp_j_per_kg_k)`` [kg/s], and whether it holds a return set-point (then water at or below that set-point is
    passed through, :func:`cold_bypass_flow`)."""

    flow: object
    holds_return: bool


SUBSTATION_CONTROLS = {
    "fixed_return": SubstationControl(
        lambda q, t_in, t_ret, dt, m_max, cp: flow_fixed_return(q, t_in, t_ret, cp), True),
    "fixed_delta_t": SubstationControl(
        lambda q, t_in, t_ret, dt, m_max, cp: flow_fixed_delta_t(q, dt, cp), False),
    "flow_limited": SubstationControl(
        lambda q, t_in, t_ret, dt, m_max, cp: flow_limited(q, t_in, t_ret, m_max, cp), True),
}
"""Registry of substation control modes by name (the ``dh_consumer`` field ``control``)."""
