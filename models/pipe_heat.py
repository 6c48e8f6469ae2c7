"""Heat exchange of a pipe with its surroundings: exact outlet temperature, heat lost, buried-pipe U-value.

The outlet temperature and heat loss are scalar ``numba.njit(cache=True)`` functions, written once: the
thermal kernels of the coolant and district-heating networks call them in their compiled loops, and with
``NUMBA_DISABLE_JIT=1`` the same source runs as plain Python (the tests run it both ways). We write them
by hand rather than calling a library because no Numba-compiled library offers them; the closed form is
short. The buried-pipe U-value is computed once per pipe when a case is assembled, so it is a plain
vectorised numpy function.

Sign convention: heat loss > 0 when the fluid is warmer than its surroundings and gives heat to them.

References
----------
.. [1] F. P. Incropera, D. P. DeWitt, T. L. Bergman, A. S. Lavine, Fundamentals of Heat and Mass
   Transfer, 7th ed., Wiley 2011: section 8.3.1, eq. 8.46a (outlet temperature of a tube at a constant
   surrounding temperature, overall coefficient U); section 3.3.1 (radial conduction in a cylindrical
   wall); Table 4.1 case 1 (conduction shape factor of a horizontal cylinder buried in a semi-infinite
   medium, 2 pi L / arccosh(2z/D)).
.. [2] P. Wallentén, "Steady-state heat loss from insulated pipes", Lund Institute of Technology,
   Report TVBH-3017 (1991) (single and twin buried pre-insulated pipes; the single-pipe formula).
.. [3] D. Lohmeier, D. Cronbach, S. R. Drauz, M. Braun, T. M. Kneiske, "Pandapipes: An Open-Source Piping
   Grid Calculation Package for Multi-Energy Grid Simulations", Sustainability 12(23), 9899 (2020),
   doi:10.3390/su12239899: the OpenModelica heat-transfer case "one_pipe" shipped with pandapipes
   (``networks/network_files/openmodelica_test_networks/heat_transfer_cases/``; 100 m, D = 75 mm,
   alpha = 100 W/(m^2 K), 90 degC in, 20 degC ambient, 3 kg/s: 351.41 K at the outlet in OpenModelica,
   351.17 K from the exponential solution [1]_).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def pipe_outlet_temperature(t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m_k, length_m):
    r"""Outlet temperature of a pipe losing heat to a constant ambient temperature, exact solution.

    .. math:: T_\mathrm{out} = T_\mathrm{amb} + (T_\mathrm{in} - T_\mathrm{amb})
              \exp\left(-\frac{U' L}{|\dot m|\, c_p}\right)

    the solution of :math:`|\dot m| c_p\, \mathrm{d}T/\mathrm{d}x = -U' (T - T_\mathrm{amb})` along the
    pipe, with :math:`U'` the heat-loss coefficient per metre of pipe.

    Parameters
    ----------
    t_in_k : float
        Temperature where the fluid enters the pipe (its upstream end, whichever way it flows) [K].
    t_ambient_k : float
        Surrounding temperature (ground, air) [K].
    m_kg_s : float
        Mass flow [kg/s]; only its magnitude is used.
    cp_j_per_kg_k : float
        Specific heat capacity of the fluid [J/(kg K)], > 0.
    u_w_per_m_k : float
        Heat-loss coefficient per metre of pipe, fluid to surroundings [W/(m K)], >= 0 (for a buried
        pre-insulated pipe see :func:`buried_single_pipe_u`; for a coefficient per unit area use
        :func:`pipe_outlet_temperature_u_area`).
    length_m : float
        Pipe length [m], >= 0.

    Returns
    -------
    float
        Outlet temperature [K].

    Notes
    -----
    Zero flow: a pipe without flow that exchanges heat (U' L > 0) is at the ambient temperature in steady
    state, so the function returns ``t_ambient_k`` (the limit of the formula; no 0/0). A pipe that
    exchanges no heat (U' L = 0) returns ``t_in_k`` at any flow.

    Validity: steady state, constant U', c_p and ambient temperature along the pipe, no axial
    conduction, no frictional heating. Source: Incropera eq. 8.46a [1]_.

    Examples
    --------
    The pandapipes/OpenModelica "one_pipe" case [3]_: 100 m, D = 75 mm,
    alpha = 100 W/(m^2 K) on the inner surface, 90 degC in, 20 degC ambient, 3 kg/s:

    >>> round(pipe_outlet_temperature(363.15, 293.15, 3.0, 4184.7778, 100.0 * math.pi * 0.075, 100.0), 2)
    351.17
    """
    ua = u_w_per_m_k * length_m
    if ua == 0.0:
        return t_in_k
    capacity = abs(m_kg_s) * cp_j_per_kg_k
    if capacity == 0.0:
        return t_ambient_k
    return t_ambient_k + (t_in_k - t_ambient_k) * math.exp(-ua / capacity)


@njit(cache=True)
def pipe_outlet_temperature_u_area(t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m2_k, d_m, length_m):
    r"""Outlet temperature of a pipe with a heat-transfer coefficient per unit area, exact solution.

    .. math:: T_\mathrm{out} = T_\mathrm{amb} + (T_\mathrm{in} - T_\mathrm{amb})
              \exp\left(-\frac{U \pi d L}{|\dot m|\, c_p}\right)

    That is :func:`pipe_outlet_temperature` with :math:`U' = U \pi d`.

    Parameters
    ----------
    t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, length_m
        As in :func:`pipe_outlet_temperature`.
    u_w_per_m2_k : float
        Heat-transfer coefficient per unit of pipe surface [W/(m^2 K)], >= 0.
    d_m : float
        Diameter of the surface ``u_w_per_m2_k`` refers to [m] (pandapipes and the OpenModelica cases
        use the inner diameter).

    Returns
    -------
    float
        Outlet temperature [K].

    Notes
    -----
    Source: Incropera eq. 8.46a [1]_ with U' = U pi d; zero flow as in :func:`pipe_outlet_temperature`.
    """
    return pipe_outlet_temperature(t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m2_k * math.pi * d_m,
                                   length_m)


@njit(cache=True)
def pipe_heat_loss(t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m_k, length_m):
    r"""Heat a pipe gives to its surroundings, exact solution.

    .. math:: \dot Q = |\dot m|\, c_p\, (T_\mathrm{in} - T_\mathrm{out})
              = |\dot m|\, c_p\, (T_\mathrm{in} - T_\mathrm{amb})
                \left(1 - e^{-U' L / (|\dot m| c_p)}\right)

    evaluated with ``expm1`` so that short pipes keep full precision
    (:math:`\dot Q \to U' L (T_\mathrm{in} - T_\mathrm{amb})` as :math:`U' L / (|\dot m| c_p) \to 0`).

    Parameters
    ----------
    t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m_k, length_m
        As in :func:`pipe_outlet_temperature` (for a coefficient per area pass ``u * pi * d``).

    Returns
    -------
    float
        Heat loss [W], > 0 when the fluid is warmer than the surroundings. Zero at zero flow: in steady
        state a pipe without flow carries no heat to lose.

    Notes
    -----
    The first law of the pipe: the loss equals the enthalpy flow in minus out, exactly as
    :func:`pipe_outlet_temperature` gives it. Source: Incropera eq. 8.46a [1]_.
    """
    capacity = abs(m_kg_s) * cp_j_per_kg_k
    if capacity == 0.0:
        return 0.0
    ntu = u_w_per_m_k * length_m / capacity
    return -capacity * (t_in_k - t_ambient_k) * math.expm1(-ntu)


@njit(cache=True)
def pipe_outlet_and_loss(t_in_k, t_ambient_k, m_kg_s, cp_j_per_kg_k, u_w_per_m_k, length_m):
    """:func:`pipe_outlet_temperature` and :func:`pipe_heat_loss` together, from one ``expm1`` (what the
    network sweeps call per branch): ``(T_out [K], Q [W])``, with T_out = T_amb + (T_in - T_amb) (1 +
    expm1(-NTU)) and Q = -|m| cp (T_in - T_amb) expm1(-NTU), NTU = U' L / (|m| cp); the same zero-flow and
    adiabatic limits, exactly."""
    ua = u_w_per_m_k * length_m
    capacity = abs(m_kg_s) * cp_j_per_kg_k
    if ua == 0.0:
        return t_in_k, 0.0
    if capacity == 0.0:
        return t_ambient_k, 0.0
    em = math.expm1(-ua / capacity)
    return t_ambient_k + (t_in_k - t_ambient_k) * (1.0 + em), -capacity * (t_in_k - t_ambient_k) * em


def buried_single_pipe_u(d_steel_m, d_casing_m, lambda_insulation_w_per_m_k, lambda_soil_w_per_m_k, depth_m):
    r"""Heat-loss coefficient per metre of a buried pre-insulated single pipe, fluid to ground surface.

    .. math::
        U' = \frac{1}{R_\mathrm{ins} + R_\mathrm{soil}},\quad
        R_\mathrm{ins} = \frac{\ln(D_c / D_s)}{2 \pi \lambda_i},\quad
        R_\mathrm{soil} = \frac{\operatorname{arccosh}(2 H / D_c)}{2 \pi \lambda_s}

    The soil term is the exact mirror-image solution for a cylinder in a semi-infinite medium whose
    surface is isothermal (Incropera Table 4.1 case 1 [1]_); for :math:`H \gg D_c` it tends to the
    common single-pipe form :math:`\ln(4H/D_c) / (2\pi\lambda_s)` (Wallentén [2]_): less than 0.01 %
    apart in U' for a 200-250 mm casing 1 m deep.

    Parameters
    ----------
    d_steel_m : array_like
        Outer diameter of the service (steel) pipe [m] (DN100: 0.1143 m).
    d_casing_m : array_like
        Outer diameter of the casing [m], > ``d_steel_m``.
    lambda_insulation_w_per_m_k : array_like
        Thermal conductivity of the insulation [W/(m K)] (PUR foam: 0.022-0.029, EN 253).
    lambda_soil_w_per_m_k : array_like
        Thermal conductivity of the soil [W/(m K)] (typical 1.0-2.0).
    depth_m : array_like
        Depth of the pipe axis below the ground surface [m], > ``d_casing_m / 2``.

    Returns
    -------
    numpy.ndarray
        U' [W/(m K)]: the heat loss per metre is :math:`U' (T_\mathrm{fluid} - T_\mathrm{surface})`.

    Notes
    -----
    Neglected: the steel wall (about 0.01 % of the resistance), the fluid film (under 0.1 % in turbulent
    flow; add :math:`1/(h \pi d_i)` for laminar flow, where it reaches a few %), the thin casing wall
    (PE, counted as insulation here), the ground-surface heat-transfer coefficient (adds about
    :math:`\lambda_s / h` to the depth), and the neighbouring pipe of a supply/return pair (multipole
    effects). Validity: steady state, homogeneous soil, 2H > D_c > D_s > 0.
    Sources: Incropera [1]_, Wallentén [2]_.

    Examples
    --------
    DN100 steel in a 200 mm casing, PUR 0.027, soil 1.5, 1 m deep (0.277 W/(m K), derived from the
    single-pipe formula, Incropera [1]_ and Wallentén [2]_):

    >>> round(float(buried_single_pipe_u(0.1143, 0.200, 0.027, 1.5, 1.0)), 3)
    0.277
    """
    d_s = np.asarray(d_steel_m, dtype=float)
    d_c = np.asarray(d_casing_m, dtype=float)
    r_ins = np.log(d_c / d_s) / (2.0 * np.pi * np.asarray(lambda_insulation_w_per_m_k, dtype=float))
    r_soil = np.arccosh(2.0 * np.asarray(depth_m, dtype=float) / d_c) / (
        2.0 * np.pi * np.asarray(lambda_soil_w_per_m_k, dtype=float))
    return 1.0 / (r_ins + r_soil)
