"""Hydraulics of single-phase liquid loops: friction factor, pipe pressure drop, pumps, internal-flow Nusselt.

Every function here is a scalar ``numba.njit(cache=True)`` function, written once: the coolant and
district-heating kernels call them inside their own compiled loops, and with ``NUMBA_DISABLE_JIT=1`` the
same source runs as plain Python (the tests run it both ways). Call them on numbers, not arrays; for an
array, loop in a kernel or use ``numpy.vectorize``.

We write these correlations by hand instead of calling the ``fluids`` and ``ht`` packages because those
are plain Python: a Numba kernel cannot call them, and wrapping them per element would cost far more than
the physics. They are the references the tests check us against (``fluids.friction.Colebrook``,
``fluids.core.dP_from_K``, ``ht.conv_internal.turbulent_Gnielinski``).

Sign convention: a mass flow ``m_kg_s`` > 0 runs from a pipe's inlet to its outlet; the pressure drop
``p_in - p_out`` has the sign of the flow (friction always opposes the flow). Elevation is not included.

References
----------
.. [1] C. F. Colebrook, "Turbulent flow in pipes, with particular reference to the transition region
   between the smooth and rough pipe laws", J. Inst. Civil Engineers 11(4), 133-156 (1939).
   doi:10.1680/ijoti.1939.13150
.. [2] P. K. Swamee and A. K. Jain, "Explicit equations for pipe-flow problems", J. Hydraulics Division
   ASCE 102(5), 657-664 (1976) (start value of the Colebrook iteration only).
.. [3] V. Gnielinski, "New equations for heat and mass transfer in turbulent pipe and channel flow",
   Int. Chem. Eng. 16(2), 359-368 (1976).
.. [4] V. Gnielinski, "On heat transfer in tubes", Int. J. Heat Mass Transfer 63, 134-140 (2013).
   doi:10.1016/j.ijheatmasstransfer.2013.04.015 (linear interpolation in Re across the transition
   region; also VDI Heat Atlas, 2nd ed., Springer 2010, chapter G1, section 4.2).
.. [5] B. S. Petukhov, "Heat transfer and friction in turbulent pipe flow with variable physical
   properties", Advances in Heat Transfer 6, 503-564 (1970). doi:10.1016/S0065-2717(08)70153-9
.. [6] T. L. Bergman, A. S. Lavine, F. P. Incropera, D. P. DeWitt, Fundamentals of Heat and Mass
   Transfer, 7th ed., Wiley 2011, section 8.5 (eqs. 8.21 and 8.62, Table 8.1).
.. [7] R. K. Shah and A. L. London, Laminar Flow Forced Convection in Ducts, Academic Press 1978
   (fully developed circular-tube Nusselt numbers 3.657 and 48/11).
.. [8] I. J. Karassik, J. P. Messina, P. Cooper, C. C. Heald (eds.), Pump Handbook, 4th ed.,
   McGraw-Hill 2008, section 2.3 (affinity laws).
.. [9] L. A. Rossman, EPANET 2 Users Manual, EPA/600/R-00/057, US EPA 2000, section 3.1 (cubic
   interpolation of f between Re 2000 and 4000; an alternative to the linear blend used here).
"""
from __future__ import annotations

import math

from numba import njit

RE_LAMINAR_MAX = 2300.0
"""Reynolds number up to which pipe flow is treated as laminar [-]."""

RE_TURBULENT_MIN = 4000.0
"""Reynolds number from which pipe flow is treated as fully turbulent (Colebrook) [-]."""

RE_NUSSELT_TURBULENT_MIN = 1.0e4
"""Upper end of the Nusselt transition interpolation of Gnielinski (2013) [4]_ [-]."""

GRAVITY_M_S2 = 9.80665
"""Standard acceleration of gravity [m/s^2] (CGPM 1901)."""

NU_LAMINAR_CONSTANT_WALL_TEMPERATURE = 3.657
"""Nusselt number of fully developed laminar flow in a circular tube at uniform wall temperature [-].
Shah & London (1978) [7]_; often rounded to 3.66."""

NU_LAMINAR_CONSTANT_HEAT_FLUX = 48.0 / 11.0
"""Nusselt number of fully developed laminar flow in a circular tube at uniform wall heat flux [-]:
48/11 = 4.3636 exactly. Shah & London (1978) [7]_."""

LAMINAR_NUSSELT: dict[str, float] = {
    "constant_wall_temperature": NU_LAMINAR_CONSTANT_WALL_TEMPERATURE,
    "constant_heat_flux": NU_LAMINAR_CONSTANT_HEAT_FLUX,
}
"""Registry of fully developed laminar Nusselt numbers by thermal boundary condition; pass the value as
``nu_laminar`` to :func:`nusselt_internal_flow`."""

_TWO_OVER_LN10 = 2.0 / math.log(10.0)
_EPS = 2.220446049250313e-16


# --- friction factor -------------------------------------------------------------------------------

@njit(cache=True)
def colebrook_darcy(re, rel_roughness):
    r"""Darcy friction factor of turbulent pipe flow from the Colebrook-White equation, solved exactly.

    .. math:: \frac{1}{\sqrt{f}} = -2 \log_{10}\left(\frac{\varepsilon/D}{3.7}
              + \frac{2.51}{Re \sqrt{f}}\right)

    Solved for :math:`x = 1/\sqrt{f}` by Newton's method from the Swamee-Jain estimate [2]_, until the
    step is at the rounding level of x (three or four steps), so the result is the root to machine
    precision, not an approximation of it.

    Parameters
    ----------
    re : float
        Reynolds number :math:`\rho v D / \mu` [-], > 0.
    rel_roughness : float
        Relative roughness :math:`\varepsilon / D` [-], >= 0 (commercial steel 0.05 mm in DN100: 4.6e-4).

    Returns
    -------
    float
        Darcy friction factor :math:`f` [-].

    Notes
    -----
    Validity: fully turbulent flow, Re >= 4000 (the equation is defined, and solved, for any Re > 0, but
    below 4000 it has no physical meaning; use :func:`darcy_friction_factor`), and 0 <= eps/D <= 0.05,
    the range of the Moody chart. Source: Colebrook (1939) [1]_.

    Examples
    --------
    >>> round(colebrook_darcy(1e5, 1e-4), 10)
    0.0185138661
    """
    a = rel_roughness / 3.7
    b = 2.51 / re
    # 1/sqrt(f) of Swamee & Jain: within about 1 % of the root over the Moody chart.
    x = -2.0 * math.log10(a + 5.74 / re**0.9)
    # g(x) = x + 2 log10(a + b x) is increasing and concave, so Newton converges quadratically and,
    # after the first step, from below; 20 steps is a safety cap never reached in practice.
    for _ in range(20):
        arg = a + b * x
        step = (x + 2.0 * math.log10(arg)) / (1.0 + _TWO_OVER_LN10 * b / arg)
        x -= step
        if abs(step) <= 4.0 * _EPS * x:
            break
    return 1.0 / (x * x)


@njit(cache=True)
def _colebrook_f_and_slope(re, rel_roughness):
    """Colebrook friction factor and its derivative df/dRe by implicit differentiation of g(x, Re) = 0."""
    f = colebrook_darcy(re, rel_roughness)
    x = 1.0 / math.sqrt(f)
    b = 2.51 / re
    arg = rel_roughness / 3.7 + b * x
    # g = x + (2/ln 10) ln(a + 2.51 x / Re): dg/dx = 1 + c b / arg, dg/dRe = -c b x / (Re arg).
    dx_dre = (_TWO_OVER_LN10 * b * x / (re * arg)) / (1.0 + _TWO_OVER_LN10 * b / arg)
    return f, -2.0 * dx_dre / (x * x * x)


@njit(cache=True)
def _darcy_f_and_slope(re, rel_roughness):
    """Darcy friction factor over all regimes and its derivative df/dRe [-]; see darcy_friction_factor."""
    if re <= RE_LAMINAR_MAX:
        return 64.0 / re, -64.0 / (re * re)
    if re >= RE_TURBULENT_MIN:
        return _colebrook_f_and_slope(re, rel_roughness)
    f_lam = 64.0 / RE_LAMINAR_MAX
    f_turb = colebrook_darcy(RE_TURBULENT_MIN, rel_roughness)
    slope = (f_turb - f_lam) / (RE_TURBULENT_MIN - RE_LAMINAR_MAX)
    return f_lam + slope * (re - RE_LAMINAR_MAX), slope


@njit(cache=True)
def darcy_friction_factor(re, rel_roughness):
    r"""Darcy friction factor of pipe flow over all regimes: laminar, transition, turbulent.

    .. math::
        f = \begin{cases}
            64 / Re & Re \le 2300 \\
            (1 - w)\, \dfrac{64}{2300} + w\, f_\mathrm{CW}(4000, \varepsilon/D),
                \quad w = \dfrac{Re - 2300}{4000 - 2300} & 2300 < Re < 4000 \\
            f_\mathrm{CW}(Re, \varepsilon/D) & Re \ge 4000
        \end{cases}

    with :math:`f_\mathrm{CW}` the exact Colebrook-White root (:func:`colebrook_darcy`).

    Parameters
    ----------
    re : float
        Reynolds number [-], > 0.
    rel_roughness : float
        Relative roughness :math:`\varepsilon / D` [-], in [0, 0.05].

    Returns
    -------
    float
        Darcy friction factor [-].

    Notes
    -----
    Laminar: Hagen-Poiseuille, exact for fully developed flow. Turbulent: Colebrook (1939) [1]_.

    Transition (2300 < Re < 4000): a modelling choice. No correlation describes this intermittent
    region (Moody's "critical zone"); we interpolate linearly in Re between the laminar value at 2300
    and the Colebrook value at 4000, the same form Gnielinski (2013) [4]_ uses to bridge the Nusselt
    number across the transition. It makes f continuous and, since f rises across the interval, the
    pressure drop strictly increasing in flow, which a Newton hydraulic solver needs. EPANET [9]_ uses
    a cubic instead. The ``fluids`` package switches from 64/Re to a turbulent correlation at Re = 2040
    without a blend, so it agrees with this function only for Re < 2040 and Re >= 4000.

    Examples
    --------
    >>> darcy_friction_factor(1000.0, 0.0)
    0.064
    """
    return _darcy_f_and_slope(re, rel_roughness)[0]


@njit(cache=True)
def darcy_friction_factor_derivative(re, rel_roughness):
    r"""Derivative :math:`\mathrm{d}f/\mathrm{d}Re` of :func:`darcy_friction_factor` [-].

    Laminar :math:`-64/Re^2`; transition the constant slope of the linear blend; turbulent by implicit
    differentiation of the Colebrook equation in :math:`x = 1/\sqrt{f}`:
    :math:`\mathrm{d}f/\mathrm{d}Re = -2 x^{-3}\, \mathrm{d}x/\mathrm{d}Re`,
    :math:`\mathrm{d}x/\mathrm{d}Re = -(\partial g/\partial Re)/(\partial g/\partial x)`.
    The derivative jumps at Re = 2300 and 4000 (f itself is continuous).

    Parameters
    ----------
    re : float
        Reynolds number [-], > 0.
    rel_roughness : float
        Relative roughness [-].

    Returns
    -------
    float
        df/dRe [-].
    """
    return _darcy_f_and_slope(re, rel_roughness)[1]


# --- pressure drop ---------------------------------------------------------------------------------

@njit(cache=True)
def pressure_drop_darcy_weisbach(m_kg_s, d_m, length_m, roughness_m, density_kg_m3, viscosity_pa_s,
                                 k_minor):
    r"""Pressure drop of a straight pipe with minor losses, Darcy-Weisbach, signed with the flow.

    .. math:: \Delta p = \left(f \frac{L}{D} + \sum K\right) \frac{\rho\, v |v|}{2},
              \quad v = \frac{\dot m}{\rho A},\ A = \frac{\pi D^2}{4},
              \ Re = \frac{|\dot m| D}{A \mu}

    with :math:`f` from :func:`darcy_friction_factor`. In laminar flow the friction term is written as
    Hagen-Poiseuille, :math:`32 \mu L v / D^2`, which is the same value but has no 0/0 at zero flow:
    the pressure drop is linear through :math:`\dot m = 0` with a finite slope.

    Parameters
    ----------
    m_kg_s : float
        Mass flow [kg/s], > 0 from inlet to outlet, may be 0 or negative.
    d_m : float
        Inner diameter [m], > 0.
    length_m : float
        Length [m], >= 0.
    roughness_m : float
        Absolute wall roughness [m], >= 0 (commercial steel 5e-5 m: a district-heating design rule of
        thumb, not checked against a primary source).
    density_kg_m3 : float
        Density [kg/m^3], > 0.
    viscosity_pa_s : float
        Dynamic viscosity [Pa s], > 0.
    k_minor : float
        Sum of minor-loss coefficients (bends, tees, valves) [-], >= 0, on the pipe's dynamic pressure.

    Returns
    -------
    float
        :math:`p_\mathrm{in} - p_\mathrm{out}` [Pa], same sign as ``m_kg_s``.

    Notes
    -----
    Validity: incompressible, isothermal (properties constant along the pipe), fully developed,
    horizontal (add :math:`\rho g \Delta z` separately), circular cross-section, relative roughness
    <= 0.05. Source: Darcy-Weisbach equation; friction factor as in :func:`darcy_friction_factor`.

    Examples
    --------
    100 m of DN100 steel (109.1 mm bore, 0.05 mm roughness), water at 20 degC, 10 kg/s:

    >>> round(pressure_drop_darcy_weisbach(10.0, 0.1091, 100.0, 5e-5, 998.2, 1.002e-3, 0.0), 1)
    10379.2
    """
    area = 0.25 * math.pi * d_m * d_m
    m_abs = abs(m_kg_s)
    re = m_abs * d_m / (area * viscosity_pa_s)
    dynamic = m_kg_s * m_abs / (2.0 * density_kg_m3 * area * area)  # rho v|v|/2 [Pa]
    if re <= RE_LAMINAR_MAX:
        friction = 32.0 * viscosity_pa_s * length_m * m_kg_s / (density_kg_m3 * area * d_m * d_m)
    else:
        friction = darcy_friction_factor(re, roughness_m / d_m) * length_m / d_m * dynamic
    return friction + k_minor * dynamic


@njit(cache=True)
def pressure_drop_darcy_weisbach_dm(m_kg_s, d_m, length_m, roughness_m, density_kg_m3, viscosity_pa_s,
                                    k_minor):
    r"""Derivative :math:`\mathrm{d}(\Delta p)/\mathrm{d}\dot m` of :func:`pressure_drop_darcy_weisbach`.

    .. math:: \frac{\mathrm{d}\Delta p}{\mathrm{d}\dot m}
              = \left(f \frac{L}{D} + \sum K\right) \frac{|\dot m|}{\rho A^2}
              + \frac{L}{D}\, \frac{\mathrm{d}f}{\mathrm{d}Re}\, \frac{D}{A \mu}\,
                \frac{\dot m^2}{2 \rho A^2}

    In laminar flow: :math:`32 \mu L / (\rho A D^2) + \sum K\, |\dot m| / (\rho A^2)`, finite and
    positive at zero flow, so a Newton hydraulic solver's Jacobian stays regular for a branch without
    flow. Same parameters as :func:`pressure_drop_darcy_weisbach`.

    Returns
    -------
    float
        d(p_in - p_out)/d(m) [Pa/(kg/s)], > 0.
    """
    area = 0.25 * math.pi * d_m * d_m
    m_abs = abs(m_kg_s)
    re = m_abs * d_m / (area * viscosity_pa_s)
    k_dyn = 1.0 / (2.0 * density_kg_m3 * area * area)  # dynamic pressure per (kg/s)^2 [Pa s^2/kg^2]
    if re <= RE_LAMINAR_MAX:
        return (32.0 * viscosity_pa_s * length_m / (density_kg_m3 * area * d_m * d_m)
                + k_minor * 2.0 * k_dyn * m_abs)
    f, df_dre = _darcy_f_and_slope(re, roughness_m / d_m)
    return ((f * length_m / d_m + k_minor) * 2.0 * k_dyn * m_abs
            + length_m / d_m * df_dre * d_m / (area * viscosity_pa_s) * k_dyn * m_kg_s * m_kg_s)


# --- pumps -----------------------------------------------------------------------------------------

@njit(cache=True)
def pump_head(q_m3_s, speed_ratio, h0_m, a_s_m2, b_s2_m5):
    r"""Head of a centrifugal pump from its quadratic curve, at any speed by the affinity laws.

    At rated speed :math:`H_1(Q) = H_0 - a Q - b Q^2`. The affinity laws (flow scales with speed ratio
    :math:`n`, head with :math:`n^2`: :math:`H_n(nQ) = n^2 H_1(Q)`) give at speed ratio :math:`n`

    .. math:: H(Q, n) = H_0 n^2 - a\, n\, Q - b\, Q^2

    Parameters
    ----------
    q_m3_s : float
        Volume flow through the pump [m^3/s].
    speed_ratio : float
        Speed over rated speed :math:`n` [-], > 0.
    h0_m : float
        Shut-off head at rated speed [m].
    a_s_m2 : float
        Linear coefficient [m per m^3/s = s/m^2].
    b_s2_m5 : float
        Quadratic coefficient [m per (m^3/s)^2 = s^2/m^5].

    Returns
    -------
    float
        Head [m] (pressure rise / (rho g)).

    Notes
    -----
    Validity: the flow range of the fitted curve, 0 <= Q up to run-out, and speed ratios of about
    0.3-1.2; the affinity laws neglect Reynolds-number and scale effects, which grow at low speed.
    Source: Pump Handbook [8]_.
    """
    return h0_m * speed_ratio * speed_ratio - a_s_m2 * speed_ratio * q_m3_s - b_s2_m5 * q_m3_s * q_m3_s


@njit(cache=True)
def pump_head_dq(q_m3_s, speed_ratio, h0_m, a_s_m2, b_s2_m5):
    r"""Slope :math:`\mathrm{d}H/\mathrm{d}Q = -a n - 2 b Q` of :func:`pump_head` [m/(m^3/s) = s/m^2]."""
    return -a_s_m2 * speed_ratio - 2.0 * b_s2_m5 * q_m3_s


@njit(cache=True)
def pump_efficiency(q_m3_s, speed_ratio, eta_best, q_best_m3_s):
    r"""Hydraulic efficiency of a centrifugal pump from a parabola through its best-efficiency point.

    .. math:: \eta(Q, n) = \eta_\mathrm{best}\, x\,(2 - x), \quad x = \frac{Q}{n\, Q_\mathrm{best}}

    zero at shut-off and at :math:`2 Q_\mathrm{best} n`, maximal :math:`\eta_\mathrm{best}` at the
    best-efficiency flow, which moves with speed as the affinity laws say (efficiency is constant along
    an affinity parabola :math:`H \propto Q^2`).

    Parameters
    ----------
    q_m3_s : float
        Volume flow [m^3/s], in [0, 2 n Q_best).
    speed_ratio : float
        Speed over rated speed [-], > 0.
    eta_best : float
        Best (peak) efficiency [-], in (0, 1].
    q_best_m3_s : float
        Flow at the best-efficiency point at rated speed [m^3/s], > 0.

    Returns
    -------
    float
        Efficiency [-] (shaft to fluid).

    Notes
    -----
    Validity: a shape assumption for pumps without a manufacturer curve, reasonable within about
    0.5-1.3 Q_best; speed ratios above about 0.5, below which real efficiency falls (the affinity laws
    neglect scale effects). Source: affinity laws, Pump Handbook [8]_.
    """
    x = q_m3_s / (speed_ratio * q_best_m3_s)
    return eta_best * x * (2.0 - x)


@njit(cache=True)
def pump_shaft_power(q_m3_s, head_m, density_kg_m3, efficiency):
    r"""Shaft power of a pump.

    .. math:: P = \frac{\rho\, g\, Q\, H}{\eta}

    Parameters
    ----------
    q_m3_s : float
        Volume flow [m^3/s].
    head_m : float
        Head [m].
    density_kg_m3 : float
        Density of the pumped liquid [kg/m^3].
    efficiency : float
        Pump efficiency, shaft to fluid [-], > 0.

    Returns
    -------
    float
        Shaft power [W]. Electrical power is this over the motor and drive efficiencies.

    Notes
    -----
    Source: definition of hydraulic power, rho g Q H, with g = 9.80665 m/s^2.
    """
    return density_kg_m3 * GRAVITY_M_S2 * q_m3_s * head_m / efficiency


@njit(cache=True)
def pump_shaft_power_on_curve(q_m3_s, speed_ratio, h0_m, a_s_m2, b_s2_m5, eta_best, q_best_m3_s,
                              density_kg_m3):
    r"""Shaft power of a pump on its head curve (:func:`pump_head`) and efficiency parabola
    (:func:`pump_efficiency`), with the flow cancelled so shut-off is not 0/0.

    .. math:: P = \frac{\rho g Q H}{\eta_\mathrm{best}\, x (2 - x)}
              = \frac{\rho\, g\, n\, Q_\mathrm{best}\, H(Q, n)}{\eta_\mathrm{best}\,(2 - x)},
              \quad x = \frac{Q}{n Q_\mathrm{best}}

    At shut-off this is :math:`\rho g n^3 Q_\mathrm{best} H_0 / (2 \eta_\mathrm{best})`, finite, as a
    real pump's is. Affinity: :math:`P(nQ, n) = n^3 P(Q, 1)`.

    Parameters
    ----------
    q_m3_s, speed_ratio, h0_m, a_s_m2, b_s2_m5
        As in :func:`pump_head`.
    eta_best, q_best_m3_s
        As in :func:`pump_efficiency`.
    density_kg_m3 : float
        Density [kg/m^3].

    Returns
    -------
    float
        Shaft power [W], for 0 <= Q < 2 n Q_best.
    """
    x = q_m3_s / (speed_ratio * q_best_m3_s)
    head = pump_head(q_m3_s, speed_ratio, h0_m, a_s_m2, b_s2_m5)
    return density_kg_m3 * GRAVITY_M_S2 * speed_ratio * q_best_m3_s * head / (eta_best * (2.0 - x))


# --- convective heat transfer in tubes -------------------------------------------------------------

@njit(cache=True)
def darcy_friction_petukhov(re):
    r"""Darcy friction factor of turbulent flow in a smooth tube, Petukhov's explicit form.

    .. math:: f = (0.790 \ln Re - 1.64)^{-2}

    Parameters
    ----------
    re : float
        Reynolds number [-].

    Returns
    -------
    float
        Darcy friction factor [-].

    Notes
    -----
    Validity: smooth tubes, 3000 <= Re <= 5e6. Source: Petukhov (1970) [5]_; Incropera eq. 8.21 [6]_.
    The friction factor meant for :func:`nusselt_gnielinski` in smooth tubes.
    """
    return 1.0 / (0.790 * math.log(re) - 1.64) ** 2


@njit(cache=True)
def nusselt_gnielinski(re, pr, darcy_f):
    r"""Nusselt number of turbulent flow in a tube, Gnielinski's correlation.

    .. math:: Nu = \frac{(f/8)(Re - 1000)\, Pr}{1 + 12.7 \sqrt{f/8}\,(Pr^{2/3} - 1)}

    Parameters
    ----------
    re : float
        Reynolds number [-].
    pr : float
        Prandtl number [-].
    darcy_f : float
        Darcy friction factor [-]: :func:`darcy_friction_petukhov` for smooth tubes, or
        :func:`darcy_friction_factor` for rough ones.

    Returns
    -------
    float
        Nusselt number :math:`h D / k` [-].

    Notes
    -----
    Validity: 3000 <= Re <= 5e6, 0.5 <= Pr <= 2000 (Incropera [6]_; Gnielinski's paper [3]_ states
    2300), fully developed flow, properties at the bulk temperature (no entrance factor
    :math:`1 + (D/L)^{2/3}` and no wall-property correction). Source: Gnielinski (1976) [3]_.
    """
    f8 = darcy_f / 8.0
    return f8 * (re - 1000.0) * pr / (1.0 + 12.7 * math.sqrt(f8) * (pr ** (2.0 / 3.0) - 1.0))


@njit(cache=True)
def nusselt_internal_flow(re, pr, rel_roughness, nu_laminar):
    r"""Nusselt number of fully developed flow in a tube over all regimes.

    .. math::
        Nu = \begin{cases}
            Nu_\mathrm{lam} & Re \le 2300 \\
            (1 - \gamma)\, Nu_\mathrm{lam} + \gamma\, Nu_\mathrm{G}(10^4),
                \quad \gamma = \dfrac{Re - 2300}{10^4 - 2300} & 2300 < Re < 10^4 \\
            Nu_\mathrm{G}(Re) & Re \ge 10^4
        \end{cases}

    with :math:`Nu_\mathrm{G}` from :func:`nusselt_gnielinski` with the friction factor of
    :func:`darcy_friction_factor`.

    Parameters
    ----------
    re : float
        Reynolds number [-], >= 0.
    pr : float
        Prandtl number [-], in [0.5, 2000].
    rel_roughness : float
        Relative roughness of the tube [-] (0 for smooth).
    nu_laminar : float
        Fully developed laminar Nusselt number [-]: a value of :data:`LAMINAR_NUSSELT`.

    Returns
    -------
    float
        Nusselt number [-], continuous in Re.

    Notes
    -----
    The transition interpolation is that of Gnielinski (2013) [4]_ (VDI Heat Atlas G1), here with the
    fully developed laminar value in place of the developing-flow one (no entrance effects). Heat
    transfer in the transition region is uncertain by tens of percent whatever the model.
    """
    if re <= RE_LAMINAR_MAX:
        return nu_laminar
    if re >= RE_NUSSELT_TURBULENT_MIN:
        return nusselt_gnielinski(re, pr, darcy_friction_factor(re, rel_roughness))
    gamma = (re - RE_LAMINAR_MAX) / (RE_NUSSELT_TURBULENT_MIN - RE_LAMINAR_MAX)
    nu_turb = nusselt_gnielinski(RE_NUSSELT_TURBULENT_MIN, pr,
                                 darcy_friction_factor(RE_NUSSELT_TURBULENT_MIN, rel_roughness))
    return (1.0 - gamma) * nu_laminar + gamma * nu_turb
