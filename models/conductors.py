"""Resistance of DC conductors (cables, busways, busbars) from material, geometry and temperature.

Pure, vectorised functions in SI units: inputs broadcast together with numpy rules.

References
----------
.. [1] IEC 60287-1-1:2006+A1:2014, Electric cables - Calculation of the current rating - Part 1-1:
   Current rating equations (100 % load factor) and calculation of losses - General, clause 2.1.1
   and Table 1 (electrical resistivity at 20 degC and temperature coefficient of conductors).
.. [2] IEC 60028:1925, International standard of resistance for copper (the International Annealed
   Copper Standard, rho20 = 1/58 Ohm mm^2/m = 1.7241e-8 Ohm m), the value IEC 60228 conductors and
   IEC 60287-1-1 Table 1 use for annealed copper.
"""
from __future__ import annotations

import numpy as np

T20_K = 293.15
"""Reference temperature of the tabulated resistivities, 20 degC [K]."""

MATERIALS: dict[str, dict] = {
    "copper": {"rho20_ohm_m": 1.7241e-8, "alpha_per_k": 3.93e-3},
    "aluminium": {"rho20_ohm_m": 2.8264e-8, "alpha_per_k": 4.03e-3},
}
"""Conductor materials: resistivity at 20 degC ``rho20_ohm_m`` [Ohm m] and its temperature coefficient
at 20 degC ``alpha_per_k`` [1/K]. Source: IEC 60287-1-1, Table 1 [1]_ (annealed copper per IEC 60028 [2]_)."""


def resistivity_at_temperature(rho20_ohm_m, alpha_per_k, temperature_k):
    r"""Electrical resistivity of a metal conductor at a temperature, linear in temperature.

    .. math:: \rho(T) = \rho_{20} \, [1 + \alpha_{20} (T - 293.15\,\mathrm{K})]

    Parameters
    ----------
    rho20_ohm_m : array_like
        Resistivity at 20 degC [Ohm m]. See :data:`MATERIALS`.
    alpha_per_k : array_like
        Temperature coefficient of resistivity at 20 degC [1/K].
    temperature_k : array_like
        Conductor temperature [K].

    Returns
    -------
    numpy.ndarray
        Resistivity at ``temperature_k`` [Ohm m].

    Notes
    -----
    Validity: the first-order law of IEC 60287-1-1 clause 2.1.1 [1]_, used there for conductors at
    their continuous operating temperature (up to 90 degC for XLPE insulation). It is not meant for
    short-circuit temperatures (up to 250 degC) or cryogenic use.

    Examples
    --------
    >>> float(resistivity_at_temperature(1.7241e-8, 3.93e-3, 343.15))  # copper at 70 degC
    2.06288...e-08
    """
    rho20 = np.asarray(rho20_ohm_m, dtype=float)
    return rho20 * (1.0 + np.asarray(alpha_per_k, dtype=float) * (np.asarray(temperature_k, dtype=float) - T20_K))


def conductor_resistance(length_m, cross_section_m2, rho20_ohm_m, alpha_per_k, temperature_k,
                         loop_factor=2.0, n_parallel=1.0):
    r"""DC resistance of a run of conductor at a temperature.

    .. math:: R = k_\mathrm{loop} \, \frac{\rho(T) \, L}{A \, n_\mathrm{par}}

    with :math:`\rho(T)` from :func:`resistivity_at_temperature`.

    Parameters
    ----------
    length_m : array_like
        Route length of the run [m] (one way).
    cross_section_m2 : array_like
        Cross-section of one conductor [m^2] (300 mm^2 = 300e-6 m^2).
    rho20_ohm_m : array_like
        Resistivity at 20 degC [Ohm m].
    alpha_per_k : array_like
        Temperature coefficient of resistivity at 20 degC [1/K].
    temperature_k : array_like
        Conductor temperature [K].
    loop_factor : array_like, default 2.0
        Conductors in the current loop [-]: 2 is the go and return conductor of a two-wire DC circuit;
        1 is a single conductor.
    n_parallel : array_like, default 1.0
        Identical conductors in parallel per pole [-].

    Returns
    -------
    numpy.ndarray
        Loop resistance [Ohm].

    Notes
    -----
    Validity: DC, uniform current density (no skin or proximity effect), and the temperature range of
    :func:`resistivity_at_temperature`. Joints and terminations are not included. Source: Ohm's law
    for a uniform conductor with the resistivity of IEC 60287-1-1 [1]_.

    Examples
    --------
    1 m of 300 mm^2 copper busway, go and return, at 70 degC:

    >>> float(conductor_resistance(1.0, 300e-6, 1.724e-8, 0.00393, 343.15))
    0.0001375177...
    """
    rho = resistivity_at_temperature(rho20_ohm_m, alpha_per_k, temperature_k)
    return (np.asarray(loop_factor, dtype=float) * rho * np.asarray(length_m, dtype=float)
            / (np.asarray(cross_section_m2, dtype=float) * np.asarray(n_parallel, dtype=float)))
