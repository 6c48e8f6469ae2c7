"""Heat pumps at the district-heating interface: coefficient of performance, electricity and capacity.

Two COP models, chosen by name through :data:`COP_MODELS` (never a chain of string comparisons):

``"carnot_fraction"``
    A fixed fraction of the Carnot COP between the condensing and evaporating temperatures, which sit
    an approach temperature above the network supply and below the source outlet
    (:func:`cop_carnot_fraction`).
``"map"``
    A manufacturer's table of COP over source and sink temperature, interpolated bilinearly
    (:func:`cop_from_map`).

Both take the source outlet temperature (the recovered heat, leaving the evaporator) and the sink
temperature (the district-heating supply, leaving the condenser), in kelvin, as arrays. Electricity is
heat / COP (:func:`heat_pump_electricity_w`); :func:`heat_pump_operating_point` adds the capacity limit.

Pure numpy (scipy for the map); invalid parameters raise :class:`gigawatt.errors.CaseError` naming the
field, the value and the allowed range.

References
----------
.. [1] Carnot-fraction model: the Carnot COP of a heat pump, T_sink/(T_sink - T_source) (textbook
   thermodynamics), times a fraction eta: COP = eta T_sink/(T_sink - T_source), with 3 K approaches;
   70/30 degC -> 3.8 at eta = 0.5 (derived). The range eta about 0.45-0.6 is an assumption: commonly
   quoted, not checked against a primary source.
.. [2] V. Zangeneh, L. E. Oi, "Economic investigation of heat pumps for heat recovery from data center",
   Proc. SIMS 2022 (Linkoping Electronic Conference Proceedings),
   https://ecp.ep.liu.se/index.php/sims/article/view/747: heat-pump COP from a 45 degC source of
   5.5 / 4.3 / 3.5 for 60 / 70 / 80 degC supply.
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.input_checks import first_bad, from_registry, in_range, positive_temperature

DEFAULT_ETA = 0.5
"""Carnot fraction [-] of the Carnot-fraction model [1] (its worked 70/30 degC example, 3.8 at eta = 0.5)."""
DEFAULT_APPROACH_K = 3.0
"""Condenser and evaporator approach temperature [K] of the same model [1]. With 3 K on both sides its
70/30 degC point gives 0.5 * 346.15 / 46 = 3.76, which rounds to the stated 3.8; with no approach it would
be 0.5 * 343.15 / 40 = 4.29. Equal approaches reproduce "3.8" (i.e. [3.75, 3.85)) for 2.44 K < a <= 3.08 K."""


def cop_carnot_fraction(t_source_out_k, t_sink_k, eta=DEFAULT_ETA, approach_source_k=DEFAULT_APPROACH_K,
                        approach_sink_k=DEFAULT_APPROACH_K):
    r"""COP of a heat pump as a fixed fraction of the Carnot COP, with approach temperatures.

    .. math::

        T_\mathrm{cond} = T_\mathrm{sink} + \Delta T_\mathrm{sink}, \quad
        T_\mathrm{evap} = T_\mathrm{source,out} - \Delta T_\mathrm{source}, \quad
        \mathrm{COP} = \eta \, \frac{T_\mathrm{cond}}{T_\mathrm{cond} - T_\mathrm{evap}}

    The refrigerant condenses above the supply temperature it must reach and evaporates below the
    temperature at which the source leaves the evaporator; both gaps are the approach temperatures.

    Parameters
    ----------
    t_source_out_k : array_like
        Heat-source outlet temperature (leaving the evaporator) [K], > 0.
    t_sink_k : array_like
        Sink (district-heating supply) temperature leaving the condenser [K], > 0.
    eta : float
        Carnot fraction (second-law efficiency) [-], in (0, 1]. Default 0.5 [1]_.
    approach_source_k, approach_sink_k : float
        Evaporator and condenser approach temperatures [K], >= 0. Default 3 K each [1]_.

    Returns
    -------
    numpy.ndarray
        Heating COP [-] (heat delivered / electricity), broadcast over the inputs.

    Raises
    ------
    CaseError
        A parameter out of range, or a condensing temperature not above the evaporating one (no lift;
        the model is meaningless there).

    Notes
    -----
    Validity: vapour-compression heat pumps at lifts T_cond - T_evap of roughly 15-60 K, where eta is
    roughly constant; at small lifts the Carnot COP diverges and real machines do not follow it. With the
    defaults, 70 degC supply from a 30 degC source gives 3.76 (the model's worked example [1]_: 3.8 at
    eta = 0.5). Fitted to
    Zangeneh & Oi [2]_ (45 degC source, 60/70/80 degC supply), eta = 0.49 with 7.75 K approaches
    reproduces 5.5/4.3/3.5 within 0.7 %, while eta alone with 3 K approaches misses by up to 9.5 %
    (tests/test_heat_pumps.py).

    Examples
    --------
    >>> round(float(cop_carnot_fraction(303.15, 343.15)), 4)  # 0.5 * 346.15 / 46
    3.7625
    """
    t_src = positive_temperature("t_source_out_k", t_source_out_k)
    t_snk = positive_temperature("t_sink_k", t_sink_k)
    eta = in_range("eta", eta, 0.0, 1.0, "(0, 1]", lo_open=True)
    a_src = in_range("approach_source_k", approach_source_k, 0.0, np.inf, ">= 0 K, finite", hi_open=True)
    a_snk = in_range("approach_sink_k", approach_sink_k, 0.0, np.inf, ">= 0 K, finite", hi_open=True)
    t_cond = t_snk + a_snk
    t_evap = t_src - a_src
    lift = t_cond - t_evap
    if (bool(lift <= 0.0 or t_evap <= 0.0) if np.ndim(lift) == 0  # (a scalar: no array reductions)
            else np.any(lift <= 0.0) or np.any(t_evap <= 0.0)):
        bad = np.broadcast_to(t_snk, lift.shape)[(lift <= 0.0) | (t_evap <= 0.0)].flat[0]
        raise CaseError("condensing temperature must exceed evaporating temperature (> 0 K)", field="t_sink_k",
                        value=float(bad), allowed="t_sink_k + approach_sink_k > t_source_out_k - approach_source_k > 0")
    return eta * t_cond / lift


def _out_of_map_raise(points, grid):
    for axis, (name, g) in enumerate(zip(("t_source_out_k", "t_sink_k"), grid)):
        outside = (points[:, axis] < g[0]) | (points[:, axis] > g[-1])
        if np.any(outside):
            raise CaseError("outside the heat-pump map", field=name, value=float(points[outside, axis][0]),
                            allowed=f"[{g[0]}, {g[-1]}] K (the map's range)")
    return points


def _out_of_map_clip(points, grid):
    return np.column_stack([np.clip(points[:, i], g[0], g[-1]) for i, g in enumerate(grid)])


OUT_OF_MAP = {"raise": _out_of_map_raise, "clip": _out_of_map_clip}
"""Registry of out-of-map handling: ``"raise"`` a CaseError naming the temperature and the map's range
(default: a map says nothing outside itself), or ``"clip"`` each temperature to the map's edge (the COP at
the nearest edge point; a stated, conservative-at-the-hot-end choice the user makes explicitly)."""


def cop_from_map(t_source_out_k, t_sink_k, t_source_grid_k, t_sink_grid_k, cop_table, out_of_map="raise"):
    r"""COP from a manufacturer's map, interpolated bilinearly in source and sink temperature.

    .. math::

        \mathrm{COP}(x, y) = \sum_{i, j \in \{0, 1\}} w_i(x)\, w_j(y)\, \mathrm{COP}_{ij}, \quad
        w_1(x) = \frac{x - x_0}{x_1 - x_0},\; w_0 = 1 - w_1

    on the grid cell [x0, x1] x [y0, y1] holding the point (x = source outlet, y = sink temperature);
    exact at grid points, linear along grid lines. ``scipy.interpolate.RegularGridInterpolator``
    (method ``"linear"``).

    Parameters
    ----------
    t_source_out_k, t_sink_k : array_like
        Source outlet and sink temperatures [K], > 0, broadcast together.
    t_source_grid_k : array_like, shape (n,)
        Source temperatures of the map [K], strictly increasing, n >= 2.
    t_sink_grid_k : array_like, shape (m,)
        Sink temperatures of the map [K], strictly increasing, m >= 2.
    cop_table : array_like, shape (n, m)
        COP [-] at each (source, sink) grid point, > 0; ``cop_table[i, j]`` belongs to
        ``t_source_grid_k[i]``, ``t_sink_grid_k[j]``.
    out_of_map : {"raise", "clip"}
        What to do with points outside the map (:data:`OUT_OF_MAP`). Default ``"raise"``.

    Returns
    -------
    numpy.ndarray
        COP [-], the broadcast shape of the two temperatures.

    Notes
    -----
    Validity: the map's own range (the manufacturer's test conditions, typically EN 14511/EN 14825 points).
    Bilinear interpolation does not extrapolate; see ``out_of_map``.
    """
    grid = []
    for name, g in (("t_source_grid_k", t_source_grid_k), ("t_sink_grid_k", t_sink_grid_k)):
        g = np.asarray(g, dtype=float)
        if g.ndim != 1 or g.size < 2 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0) or g[0] <= 0:
            raise CaseError("map axis must be a 1-D, strictly increasing list of >= 2 temperatures > 0 K",
                            field=name, value=g.tolist(), allowed="strictly increasing, >= 2 values, > 0 K")
        grid.append(g)
    table = np.asarray(cop_table, dtype=float)
    shape = (grid[0].size, grid[1].size)
    if table.shape != shape:
        raise CaseError("map table shape does not match its axes", field="cop_table", value=table.shape,
                        allowed=f"shape {shape} (source x sink)")
    ok = np.isfinite(table) & (table > 0)
    if not np.all(ok):
        raise CaseError("map COP out of range", field="cop_table", value=first_bad(table, ok), allowed="> 0, finite")
    if out_of_map not in OUT_OF_MAP:
        raise CaseError("unknown out-of-map handling", field="out_of_map", value=out_of_map,
                        allowed="one of " + ", ".join(OUT_OF_MAP))
    t_src = positive_temperature("t_source_out_k", t_source_out_k)
    t_snk = positive_temperature("t_sink_k", t_sink_k)
    t_src, t_snk = np.broadcast_arrays(t_src, t_snk)
    points = np.column_stack([t_src.ravel(), t_snk.ravel()])
    points = OUT_OF_MAP[out_of_map](points, grid)
    from scipy.interpolate import RegularGridInterpolator  # here: a fifth of a second of imports, for maps only

    interp = RegularGridInterpolator(tuple(grid), table, method="linear", bounds_error=False, fill_value=None)
    return interp(points).reshape(t_src.shape)


COP_MODELS = {"carnot_fraction": cop_carnot_fraction, "map": cop_from_map}
"""Registry of COP models by name; each takes ``(t_source_out_k, t_sink_k, **parameters)``."""


def heat_pump_cop(kind, t_source_out_k, t_sink_k, **parameters):
    """COP [-] from the model named ``kind`` in :data:`COP_MODELS`, with its own parameters.

    Raises
    ------
    CaseError
        ``kind`` not in the registry (field ``kind``), or the model's own parameter errors.
    """
    return from_registry(COP_MODELS, kind, "heat-pump COP model")(t_source_out_k, t_sink_k, **parameters)


def heat_pump_electricity_w(heat_w, cop):
    r"""Electric power [W] a heat pump draws to deliver heat ``heat_w`` [W] at COP ``cop`` [-].

    .. math:: P_\mathrm{el} = \dot Q_\mathrm{sink} / \mathrm{COP}

    Heat taken from the source is then :math:`\dot Q_\mathrm{sink} - P_\mathrm{el}` (first law).

    Parameters
    ----------
    heat_w : array_like
        Heat delivered to the sink [W], >= 0.
    cop : array_like
        Heating COP [-], > 0.
    """
    heat = np.asarray(heat_w, dtype=float)
    cop = np.asarray(cop, dtype=float)
    ok = np.isfinite(heat) & (heat >= 0)
    if not np.all(ok):
        raise CaseError("heat out of range", field="heat_w", value=first_bad(heat, ok), allowed=">= 0 W, finite")
    ok = np.isfinite(cop) & (cop > 0)
    if not np.all(ok):
        raise CaseError("COP out of range", field="cop", value=first_bad(cop, ok), allowed="> 0, finite")
    return heat / cop


def heat_pump_operating_point(heat_demand_w, cop, capacity_w):
    r"""Heat delivered, electricity drawn and demand left unmet by a heat pump with a capacity limit.

    .. math::

        \dot Q = \min(\dot Q_\mathrm{demand}, \dot Q_\mathrm{cap}), \quad
        P_\mathrm{el} = \dot Q / \mathrm{COP}, \quad
        \dot Q_\mathrm{unmet} = \dot Q_\mathrm{demand} - \dot Q

    Parameters
    ----------
    heat_demand_w : array_like
        Heat asked of the heat pump at its sink [W], >= 0.
    cop : array_like
        Heating COP at the operating temperatures [-], > 0.
    capacity_w : float or array_like
        Rated heating capacity (sink side) [W], > 0. The unmet part is for a peak boiler or other backup.

    Returns
    -------
    heat_w, electricity_w, unmet_w : numpy.ndarray
        Delivered heat [W], electric power [W], unmet heat [W].
    """
    demand = np.asarray(heat_demand_w, dtype=float)
    cap = np.asarray(capacity_w, dtype=float)
    ok = np.isfinite(cap) & (cap > 0)
    if not np.all(ok):
        raise CaseError("capacity out of range", field="capacity_w", value=first_bad(cap, ok), allowed="> 0 W, finite")
    ok = np.isfinite(demand) & (demand >= 0)
    if not np.all(ok):
        raise CaseError("heat demand out of range", field="heat_demand_w", value=first_bad(demand, ok),
                        allowed=">= 0 W, finite")
    heat = np.minimum(demand, cap)
    return heat, heat_pump_electricity_w(heat, cop), demand - heat
