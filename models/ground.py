"""The undisturbed ground's temperature by depth and season, around buried district-heating pipes.

A plain vectorised numpy function (evaluated once per time step and pipe depth, not in a kernel).

References
----------
.. [1] T. Kusuda, P. R. Achenbach, "Earth temperature and thermal diffusivity at selected stations in the
   United States", ASHRAE Transactions 71(1), 61-75 (1965).
.. [2] H. S. Carslaw, J. C. Jaeger, Conduction of Heat in Solids, 2nd ed., Oxford 1959, section 2.6 (the
   semi-infinite solid under a periodic surface temperature).
"""
from __future__ import annotations

import numpy as np

YEAR_PERIOD_S = 365.0 * 86400.0
"""Period of the seasonal swing [s] (365 days, as Kusuda & Achenbach [1]_)."""


def ground_temperature_kusuda(depth_m, time_s, t_mean_k, amplitude_k, t_coldest_s, diffusivity_m2_s,
                              period_s=YEAR_PERIOD_S):
    r"""Undisturbed ground temperature at a depth and time of year (Kusuda & Achenbach [1]_).

    .. math:: T(z, t) = T_m - A\, e^{-z/\delta}\cos\!\left(\omega (t - t_0) - z/\delta\right),\quad
              \omega = \frac{2\pi}{P},\quad \delta = \sqrt{\frac{2\alpha}{\omega}} = \sqrt{\frac{\alpha P}{\pi}}

    the periodic solution of :math:`\partial T/\partial t = \alpha\, \partial^2 T/\partial z^2` in a
    semi-infinite soil whose surface follows :math:`T_m - A \cos(\omega (t - t_0))` (Carslaw & Jaeger [2]_
    2.6): the swing shrinks by :math:`e^{-z/\delta}` and lags by :math:`z/(\omega\delta)` with depth.

    Parameters
    ----------
    depth_m : array_like
        Depth below the surface, z [m], >= 0.
    time_s : array_like
        Time of year from 1 January 00:00 [s].
    t_mean_k : array_like
        Annual mean surface (and deep ground) temperature, :math:`T_m` [K] (about the annual mean air
        temperature).
    amplitude_k : array_like
        Amplitude of the surface's annual swing, A [K], >= 0 (half the difference between the warmest and
        coldest monthly mean surface temperatures).
    t_coldest_s : array_like
        Time of year of the coldest surface temperature, :math:`t_0` [s] (Kusuda & Achenbach's phase
        constant; mid-January to early February in the northern mid-latitudes).
    diffusivity_m2_s : array_like
        Thermal diffusivity of the soil, :math:`\alpha` [m²/s], > 0 (moist soils 0.4-1.0e-6; Kusuda &
        Achenbach's stations 0.2-1.4e-6).
    period_s : float
        Period of the swing [s]; default a year of 365 days.

    Returns
    -------
    numpy.ndarray
        Temperature [K].

    Notes
    -----
    Validity: homogeneous soil of constant properties, a sinusoidal surface temperature (the annual
    harmonic; the daily swing is damped to under 2 % below about 0.6 m), no snow cover, freezing or
    groundwater flow, and no heat from the pipes themselves (the undisturbed ground; the pipes' own
    influence is in their soil resistance, :func:`gigawatt.models.pipe_heat.buried_single_pipe_u`).

    Examples
    --------
    1 m deep in soil of 0.6e-6 m²/s, mean 10 degC, swing 10 K, coldest on 1 February (day 31): the
    damping depth is 2.454 m, so the swing there is 6.65 K, coldest on day 31 + 365/(2 pi) x 1/2.454 =
    day 54.67, at 3.35 degC.

    >>> round(float(ground_temperature_kusuda(1.0, 54.67 * 86400, 283.15, 10.0, 31 * 86400, 0.6e-6)) - 273.15, 2)
    3.35
    """
    z = np.asarray(depth_m, dtype=float)
    omega = 2.0 * np.pi / period_s
    delta = np.sqrt(2.0 * np.asarray(diffusivity_m2_s, dtype=float) / omega)
    phase = omega * (np.asarray(time_s, dtype=float) - np.asarray(t_coldest_s, dtype=float)) - z / delta
    return np.asarray(t_mean_k, dtype=float) - np.asarray(amplitude_k, dtype=float) * np.exp(-z / delta) * np.cos(phase)
