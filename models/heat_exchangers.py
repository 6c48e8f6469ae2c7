"""Heat exchangers by the effectiveness-NTU method: counter-flow and parallel-flow, exact closed forms.

Scalar functions compiled with ``numba.njit(cache=True)``, to be called inside later kernels (per
exchanger, in a loop) and from Python alike; with ``NUMBA_DISABLE_JIT=1`` the same code runs as plain
Python. Invalid inputs give NaN (a kernel cannot raise an input error): validate before, or test after.

Definitions (SI): capacity rates C = m_dot c_p [W/K], C_min and C_max the smaller and larger of the two,
capacity ratio C_r = C_min/C_max [-] in [0, 1], number of transfer units NTU = UA/C_min [-], effectiveness
epsilon = q / q_max with q_max = C_min (T_hot,in - T_cold,in) [-].

Sign convention: the duty ``q_w`` is the heat flow from the stream called *hot* to the stream called
*cold*; if the "hot" inlet is the colder one, q is negative and every relation still holds.

References
----------
.. [1] Incropera, F. P., DeWitt, D. P., Bergman, T. L., Lavine, A. S. (2007). Fundamentals of Heat and
   Mass Transfer, 6th ed. Wiley. Section 11.4 (the effectiveness-NTU method) and Table 11.3
   (effectiveness relations: parallel flow; counter-flow for C_r < 1 and C_r = 1).
"""
from __future__ import annotations

import math

import numba

COUNTER_FLOW = 0
"""Flow arrangement code of a counter-flow exchanger (plate exchangers of coolant distribution units)."""
PARALLEL_FLOW = 1
"""Flow arrangement code of a parallel-flow (co-current) exchanger."""

ARRANGEMENTS: dict[str, int] = {"counterflow": COUNTER_FLOW, "parallel": PARALLEL_FLOW}
"""Registry of flow arrangements by name (the names the ``ht`` package uses as ``subtype``) to the integer
codes the kernels take."""


@numba.njit(cache=True)
def effectiveness_counterflow(ntu, c_r):
    r"""Effectiveness of a counter-flow heat exchanger, exact.

    .. math:: \varepsilon = \frac{1 - e^{-\mathrm{NTU}(1 - C_r)}}{1 - C_r e^{-\mathrm{NTU}(1 - C_r)}}
              \quad (C_r < 1), \qquad \varepsilon = \frac{\mathrm{NTU}}{1 + \mathrm{NTU}} \quad (C_r = 1)

    Evaluated without the 0/0 at C_r = 1 as the equivalent form
    :math:`\varepsilon = a / (1 + C_r a)` with :math:`a = \mathrm{NTU}\,\varphi(x)`,
    :math:`x = \mathrm{NTU}(1 - C_r)` and :math:`\varphi(x) = (1 - e^{-x})/x` (``-expm1(-x)/x``,
    :math:`\varphi(0) = 1`): one expression, continuous through C_r = 1 and accurate to a few units of
    rounding everywhere (no cancellation near C_r = 1 or at small NTU); clipped at 1, which rounding
    could otherwise exceed by one ulp at large NTU.

    Parameters
    ----------
    ntu : float
        Number of transfer units UA/C_min [-], >= 0; ``inf`` gives the limit 1.
    c_r : float
        Capacity ratio C_min/C_max [-], in [0, 1].

    Returns
    -------
    float
        Effectiveness [-], in [0, 1]; NaN for inputs outside their ranges.

    Notes
    -----
    Validity: steady state, constant capacity rates and U along the exchanger, no heat loss to the
    surroundings, no axial conduction. Source: Incropera et al. [1]_, Table 11.3. Limits: NTU -> inf
    gives 1 for every C_r; C_r = 0 gives 1 - exp(-NTU) (one stream at constant temperature).

    Examples
    --------
    >>> round(effectiveness_counterflow(2.0, 1.0), 12)  # 2/3
    0.666666666667
    """
    if not (ntu >= 0.0) or not (c_r >= 0.0 and c_r <= 1.0):
        return math.nan
    if ntu == math.inf:
        return 1.0
    x = ntu * (1.0 - c_r)
    phi = 1.0 if x == 0.0 else -math.expm1(-x) / x
    a = ntu * phi
    # The exact value is <= 1; at large NTU and small C_r rounding can exceed it by one ulp: clip.
    return min(a / (1.0 + c_r * a), 1.0)


@numba.njit(cache=True)
def effectiveness_parallel(ntu, c_r):
    r"""Effectiveness of a parallel-flow (co-current) heat exchanger, exact.

    .. math:: \varepsilon = \frac{1 - e^{-\mathrm{NTU}(1 + C_r)}}{1 + C_r}

    evaluated with ``-expm1`` (no cancellation at small NTU).

    Parameters
    ----------
    ntu : float
        Number of transfer units UA/C_min [-], >= 0; ``inf`` gives the limit 1/(1 + C_r).
    c_r : float
        Capacity ratio C_min/C_max [-], in [0, 1].

    Returns
    -------
    float
        Effectiveness [-], in [0, 1/(1 + C_r)]; NaN for inputs outside their ranges.

    Notes
    -----
    Validity as :func:`effectiveness_counterflow`. Source: Incropera et al. [1]_, Table 11.3.

    Examples
    --------
    >>> round(effectiveness_parallel(1e3, 1.0), 12)  # the limit 1/(1 + C_r)
    0.5
    """
    if not (ntu >= 0.0) or not (c_r >= 0.0 and c_r <= 1.0):
        return math.nan
    s = 1.0 + c_r
    return -math.expm1(-ntu * s) / s


@numba.njit(cache=True)
def effectiveness(ntu, c_r, arrangement):
    """Effectiveness for a flow arrangement code (:data:`COUNTER_FLOW`, :data:`PARALLEL_FLOW`) [-].

    Parameters and limits as :func:`effectiveness_counterflow`; NaN for an unknown code.
    """
    if arrangement == COUNTER_FLOW:
        return effectiveness_counterflow(ntu, c_r)
    if arrangement == PARALLEL_FLOW:
        return effectiveness_parallel(ntu, c_r)
    return math.nan


@numba.njit(cache=True)
def exchanger_outlets(t_hot_in_k, t_cold_in_k, c_hot_w_per_k, c_cold_w_per_k, ua_w_per_k, arrangement):
    r"""Outlet temperatures and duty of a two-stream heat exchanger from its inlets, capacities and UA.

    .. math::

        q = \varepsilon(\mathrm{NTU}, C_r)\, C_\mathrm{min} (T_{h,i} - T_{c,i}), \quad
        T_{h,o} = T_{h,i} - q / C_h, \quad T_{c,o} = T_{c,i} + q / C_c

    with :math:`\mathrm{NTU} = UA / C_\mathrm{min}`, :math:`C_r = C_\mathrm{min}/C_\mathrm{max}` and
    :math:`\varepsilon` from :func:`effectiveness`. The first law holds by construction:
    :math:`C_h (T_{h,i} - T_{h,o}) = C_c (T_{c,o} - T_{c,i}) = q` to rounding.

    Parameters
    ----------
    t_hot_in_k, t_cold_in_k : float
        Inlet temperatures of the hot and the cold stream [K].
    c_hot_w_per_k, c_cold_w_per_k : float
        Capacity rates m_dot c_p of the two streams [W/K], >= 0.
    ua_w_per_k : float
        Overall conductance UA [W/K], >= 0 (``inf``: an ideal exchanger).
    arrangement : int
        :data:`COUNTER_FLOW` or :data:`PARALLEL_FLOW`.

    Returns
    -------
    t_hot_out_k : float
        Hot-stream outlet temperature [K].
    t_cold_out_k : float
        Cold-stream outlet temperature [K].
    q_w : float
        Duty, heat from the hot to the cold stream [W].

    Notes
    -----
    Degenerate cases, as limits: UA = 0 exchanges nothing (outlets = inlets, q = 0). A stream with
    zero capacity (no flow) and UA > 0 leaves at the other stream's inlet temperature and q = 0 (the
    limit C -> 0, NTU -> inf); with both capacities zero the outlets are the inlets. Negative or NaN
    capacities or UA, non-finite inlet temperatures or an unknown arrangement give NaN for all three.
    Source and validity: Incropera et al. [1]_, Section 11.4 and Table 11.3.

    Examples
    --------
    The plate exchanger of a coolant distribution unit: technology-loop return at 40 degC
    (C = 100 kW/K, about 24 kg/s of water) against facility water at 27 degC (C = 120 kW/K), UA = 400 kW/K:

    >>> th, tc, q = exchanger_outlets(313.15, 300.15, 100e3, 120e3, 400e3, COUNTER_FLOW)
    >>> round(q / 1e3, 3), round(th - 273.15, 3), round(tc - 273.15, 3)  # kW, degC, degC
    (1105.576, 28.944, 36.213)
    """
    nan = math.nan
    if not (math.isfinite(t_hot_in_k) and math.isfinite(t_cold_in_k)):
        return nan, nan, nan
    if not (c_hot_w_per_k >= 0.0 and c_cold_w_per_k >= 0.0 and ua_w_per_k >= 0.0):
        return nan, nan, nan
    if arrangement != COUNTER_FLOW and arrangement != PARALLEL_FLOW:
        return nan, nan, nan
    if ua_w_per_k == 0.0 or (c_hot_w_per_k == 0.0 and c_cold_w_per_k == 0.0):
        return t_hot_in_k, t_cold_in_k, 0.0
    if c_hot_w_per_k == 0.0:
        return t_cold_in_k, t_cold_in_k, 0.0
    if c_cold_w_per_k == 0.0:
        return t_hot_in_k, t_hot_in_k, 0.0
    c_min = min(c_hot_w_per_k, c_cold_w_per_k)
    c_max = max(c_hot_w_per_k, c_cold_w_per_k)
    eps = effectiveness(ua_w_per_k / c_min, c_min / c_max, arrangement)
    q = eps * c_min * (t_hot_in_k - t_cold_in_k)
    return t_hot_in_k - q / c_hot_w_per_k, t_cold_in_k + q / c_cold_w_per_k, q
