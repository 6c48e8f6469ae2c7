"""Chips on cold plates: case temperature from the coolant, cold-plate thermal resistance, coolant
temperature rise, leakage power that rises with temperature, and the electro-thermal fixed point.

The per-chip functions are scalar ``numba.njit(cache=True)`` functions, written once, as in
:mod:`gigawatt.models.flow_correlations`: a later coolant kernel calls them per cold plate inside its own
compiled loop, and with ``NUMBA_DISABLE_JIT=1`` the same source runs as plain Python (the tests run both
ways). Call them on numbers; for arrays, loop in a kernel. Like every kernel-side function they do not
validate their inputs (a kernel cannot raise an input error): validate a case's parameters once with
:func:`check_leakage_params` and :func:`check_cold_plate_geometry`, which raise
:class:`~gigawatt.errors.CaseError` naming field, value and allowed range. The fixed-point kernel
:func:`chip_fixed_point` reports thermal runaway by a status code; :func:`solve_chip_temperature` is the
Python-level wrapper that turns it into :class:`~gigawatt.errors.ConvergenceError`.

Leakage models are chosen by name through the registry :data:`LEAKAGE_MODELS` (name -> integer code the
kernels take), never by string comparison.

Leakage parameters have **no defaults**. We looked for a published temperature coefficient of leakage
power for data-center GPUs or CPUs and found none we could cite with a number: the sources found say
that leakage rises (very nearly) exponentially with temperature (De Vogeleer et al. 2014 [3]_, measured
on application processors over 20-85 degC; Liao, Li & He 2003 [4]_; Texas Instruments SPRUJB1 [5]_) but
their coefficients were not read here, and the "doubles every 10 degC" rule found on textbook pages is
about the reverse saturation current of a p-n diode, not a chip's leakage power. So ``p_leak_ref_w``,
``k_per_k`` and ``t_ref_k`` are required inputs; :func:`k_from_doubling_interval` converts a doubling
interval (for example a vendor's "leakage doubles every 20 K") to ``k_per_k``.

Sign convention: heat ``q_w`` > 0 flows from the chip into the coolant; temperatures are in kelvin.

References
----------
.. [1] D. B. Tuckerman, R. F. W. Pease, "High-performance heat sinking for VLSI", IEEE Electron Device
   Letters 2(5), 126-129 (1981). doi:10.1109/EDL.1981.25367 (microchannel heat sink; the channel
   geometry used in the plausibility test).
.. [2] P. Kasten, S. Zimmermann, M. K. Tiwari, B. Michel, D. Poulikakos, "Hot water cooled heat sinks
   for efficient data center cooling: towards electronic cooling with high exergetic utility", Frontiers
   in Heat and Mass Transfer 1, 023006 (2010). doi:10.5098/hmt.v1.2.3006 (0.5 L/min per chip, 60 degC
   inlet, about 8 K solid-liquid).
.. [3] K. De Vogeleer, G. Memmi, P. Jouvelot, F. Coelho, "Modeling the temperature bias of power
   consumption for nanometer-scale CPUs in application processors", SAMOS 2014; arXiv:1404.3381.
.. [4] W. Liao, F. Li, L. He, "Microarchitecture level power and thermal simulation considering
   temperature dependent leakage model", ISLPED 2003, 211-216. doi:10.1145/871506.871559
.. [5] Texas Instruments, power estimation tool user's guide SPRUJB1 ("the leakage power is very nearly
   exponential"; P_leak interpolated as 10^(m T_j + b)).
.. [6] R. M. Corless, G. H. Gonnet, D. E. G. Hare, D. J. Jeffrey, D. E. Knuth, "On the Lambert W
   function", Adv. Comput. Math. 5, 329-359 (1996). doi:10.1007/BF02124750
.. [7] T. L. Bergman, A. S. Lavine, F. P. Incropera, D. P. DeWitt, Fundamentals of Heat and Mass
   Transfer, 7th ed., Wiley 2011, sections 3.1 (thermal resistance) and 8.3 (Q = m cp dT).
"""
from __future__ import annotations

import math

from numba import njit

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.flow_correlations import nusselt_internal_flow

LEAKAGE_EXPONENTIAL = 0
"""Leakage model code: :math:`P_\\mathrm{leak} = P_\\mathrm{ref}\\, e^{k (T - T_\\mathrm{ref})}`."""
LEAKAGE_LINEAR = 1
"""Leakage model code: :math:`P_\\mathrm{leak} = P_\\mathrm{ref}\\, (1 + k (T - T_\\mathrm{ref}))`."""

LEAKAGE_MODELS: dict[str, int] = {"exponential": LEAKAGE_EXPONENTIAL, "linear": LEAKAGE_LINEAR}
"""Registry of leakage models by name to the integer codes the kernels take."""

STATUS_CONVERGED = 0
""":func:`chip_fixed_point` found the stable fixed point."""
STATUS_RUNAWAY = 1
""":func:`chip_fixed_point` proved that no fixed point exists (thermal runaway)."""
STATUS_MAX_ITERATIONS = 2
""":func:`chip_fixed_point` ran out of iterations (should not happen; see its Notes)."""

_EPS = 2.220446049250313e-16
_MAX_ITERATIONS = 200


# --- cold plate ------------------------------------------------------------------------------------

@njit(cache=True)
def coolant_temperature_rise(q_w, m_kg_s, cp_j_per_kg_k):
    r"""Temperature rise of the coolant taking up a heat flow (first law, steady, no phase change).

    .. math:: \Delta T = \frac{Q}{\dot m\, c_p}

    Parameters
    ----------
    q_w : float
        Heat into the coolant [W].
    m_kg_s : float
        Coolant mass flow [kg/s], > 0.
    cp_j_per_kg_k : float
        Specific heat capacity of the coolant [J/(kg K)], > 0.

    Returns
    -------
    float
        Outlet minus inlet temperature [K].

    Notes
    -----
    Validity: single-phase liquid, cp constant over the rise (take it at the mean temperature).
    Source: energy balance, Incropera [7]_ section 8.3.

    Examples
    --------
    1 kW into 1 kg/s of water (4186 J/(kg K)):

    >>> round(coolant_temperature_rise(1000.0, 1.0, 4186.0), 6)
    0.238892
    """
    return q_w / (m_kg_s * cp_j_per_kg_k)


@njit(cache=True)
def case_temperature(t_inlet_k, q_w, r_th_k_per_w):
    r"""Case (or junction) temperature of a chip from the coolant inlet temperature and a thermal resistance.

    .. math:: T_\mathrm{case} = T_\mathrm{in} + R_\mathrm{th}\, Q

    Parameters
    ----------
    t_inlet_k : float
        Coolant inlet temperature of the cold plate [K].
    q_w : float
        Heat flowing from the chip into the coolant [W].
    r_th_k_per_w : float
        Thermal resistance, case (or junction) to coolant inlet [K/W], >= 0. Typical cold plates of
        700-1000 W GPUs: about 0.01-0.03 K/W (assumption: a range commonly quoted in the literature, not
        checked against a primary source);
        or from :func:`cold_plate_resistance` (referred to the local coolant temperature, so add
        :math:`\Delta T/(2Q)` or :math:`\Delta T/Q` for the inlet-referred value, see there).

    Returns
    -------
    float
        Case (junction) temperature [K].

    Notes
    -----
    Validity: steady state, one lumped resistance (spreading and hot spots folded into it).
    Source: definition of thermal resistance, Incropera [7]_ section 3.1.
    """
    return t_inlet_k + r_th_k_per_w * q_w


@njit(cache=True)
def cold_plate_resistance(m_kg_s, n_channels, d_h_m, channel_area_m2, wetted_area_m2, viscosity_pa_s,
                          cp_j_per_kg_k, conductivity_w_per_m_k, rel_roughness, nu_laminar,
                          r_conduction_k_per_w):
    r"""Thermal resistance of a channel cold plate, chip to local coolant, from a convective correlation.

    .. math::
        R = \frac{1}{h\, A_\mathrm{wet}} + R_\mathrm{cond}, \qquad h = \frac{Nu\, k}{D_h}, \qquad
        Re = \frac{(\dot m / N)\, D_h}{A_\mathrm{ch}\, \mu}, \qquad Pr = \frac{\mu\, c_p}{k}

    with :math:`Nu(Re, Pr)` from :func:`gigawatt.models.flow_correlations.nusselt_internal_flow` (fully developed
    laminar value ``nu_laminar``, Gnielinski in turbulent flow, Gnielinski's linear blend between).

    Parameters
    ----------
    m_kg_s : float
        Coolant mass flow through the whole plate [kg/s], > 0, shared equally by the channels.
    n_channels : float
        Number of parallel channels N [-], >= 1.
    d_h_m : float
        Hydraulic diameter of one channel :math:`4 A_\mathrm{ch}/\mathrm{perimeter}` [m], > 0
        (rectangle w x d: 2 w d / (w + d)).
    channel_area_m2 : float
        Flow cross-section of one channel [m^2], > 0.
    wetted_area_m2 : float
        Heated wetted area of all channels together [m^2], > 0 (fins counted at full area: fin efficiency
        1, see Notes).
    viscosity_pa_s : float
        Dynamic viscosity of the coolant [Pa s], > 0.
    cp_j_per_kg_k : float
        Specific heat capacity of the coolant [J/(kg K)], > 0.
    conductivity_w_per_m_k : float
        Thermal conductivity of the coolant [W/(m K)], > 0.
    rel_roughness : float
        Relative roughness of the channel walls [-], >= 0 (0 for etched or drawn channels).
    nu_laminar : float
        Fully developed laminar Nusselt number [-], e.g. a value of
        :data:`gigawatt.models.flow_correlations.LAMINAR_NUSSELT` (circular tube) or a rectangular-duct value of
        Shah & London for the channel's aspect ratio.
    r_conduction_k_per_w : float
        Conduction resistance from the case (junction) through interface and base to the channel walls
        [K/W], >= 0.

    Returns
    -------
    float
        Thermal resistance, case (junction) to the local bulk coolant temperature [K/W].

    Notes
    -----
    Validity: that of the Nusselt correlation (fully developed flow, Pr 0.5-2000, no entrance effect,
    which makes short channels conservative), uniform flow distribution among channels, and fin efficiency
    1 (fins much more conductive than :math:`h t / 2` requires: for silicon or copper microchannels with
    fin parameter :math:`m L < 0.5` the efficiency exceeds 0.92). The resistance is to the *local* bulk
    coolant; referred to the coolant *inlet* with a uniform heat flux the mean coolant temperature adds
    :math:`1/(2 \dot m c_p)` (mean surface) or :math:`1/(\dot m c_p)` (outlet end, the hottest).
    Source: Incropera [7]_ sections 3.1 and 8.5; correlation as in :mod:`gigawatt.models.flow_correlations`.
    """
    m_channel = m_kg_s / n_channels
    re = m_channel * d_h_m / (channel_area_m2 * viscosity_pa_s)
    pr = viscosity_pa_s * cp_j_per_kg_k / conductivity_w_per_m_k
    nu = nusselt_internal_flow(re, pr, rel_roughness, nu_laminar)
    h = nu * conductivity_w_per_m_k / d_h_m
    return 1.0 / (h * wetted_area_m2) + r_conduction_k_per_w


# --- leakage ---------------------------------------------------------------------------------------

@njit(cache=True)
def leakage_power_exponential(t_k, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Leakage power of a chip growing exponentially with temperature.

    .. math:: P_\mathrm{leak}(T) = P_\mathrm{leak,ref}\, \exp\left(k\, (T - T_\mathrm{ref})\right)

    Parameters
    ----------
    t_k : float
        Chip (junction) temperature [K].
    p_leak_ref_w : float
        Leakage power at the reference temperature [W], >= 0. No default: see the module docstring.
    k_per_k : float
        Temperature coefficient [1/K], >= 0; leakage doubles every :math:`\ln 2 / k` kelvin
        (:func:`k_from_doubling_interval`). No default.
    t_ref_k : float
        Reference temperature of ``p_leak_ref_w`` [K].

    Returns
    -------
    float
        Leakage power [W].

    Notes
    -----
    Validity: a fit over the temperature range it was measured on (De Vogeleer et al. [3]_ report the
    exponential form holding over 20-85 degC on application processors); subthreshold leakage is really
    :math:`\propto T^2 e^{-c/T}`, which the exponential approximates locally. Sources: [3]_, [4]_, [5]_.
    """
    return p_leak_ref_w * math.exp(k_per_k * (t_k - t_ref_k))


@njit(cache=True)
def leakage_power_linear(t_k, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Leakage power of a chip growing linearly with temperature.

    .. math:: P_\mathrm{leak}(T) = P_\mathrm{leak,ref}\, \left(1 + k\, (T - T_\mathrm{ref})\right)

    Parameters
    ----------
    t_k : float
        Chip (junction) temperature [K].
    p_leak_ref_w : float
        Leakage power at the reference temperature [W], >= 0. No default.
    k_per_k : float
        Relative slope [1/K], >= 0. No default.
    t_ref_k : float
        Reference temperature [K].

    Returns
    -------
    float
        Leakage power [W]; negative, and meaningless, below :math:`T_\mathrm{ref} - 1/k`.

    Notes
    -----
    Validity: a first-order expansion of the exponential model around :math:`T_\mathrm{ref}` (same
    :math:`k`), good while :math:`k |T - T_\mathrm{ref}| \ll 1`; use it for a narrow operating range.
    """
    return p_leak_ref_w * (1.0 + k_per_k * (t_k - t_ref_k))


@njit(cache=True)
def leakage_power(t_k, model, p_leak_ref_w, k_per_k, t_ref_k):
    """Leakage power [W] for a model code of :data:`LEAKAGE_MODELS`; NaN for an unknown code.

    Parameters as :func:`leakage_power_exponential`; ``model`` is :data:`LEAKAGE_EXPONENTIAL` or
    :data:`LEAKAGE_LINEAR`.
    """
    if model == LEAKAGE_EXPONENTIAL:
        return leakage_power_exponential(t_k, p_leak_ref_w, k_per_k, t_ref_k)
    if model == LEAKAGE_LINEAR:
        return leakage_power_linear(t_k, p_leak_ref_w, k_per_k, t_ref_k)
    return math.nan


@njit(cache=True)
def leakage_power_slope(t_k, model, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Derivative :math:`\mathrm{d}P_\mathrm{leak}/\mathrm{d}T` [W/K]: :math:`k P_\mathrm{leak}(T)`
    (exponential) or :math:`k P_\mathrm{leak,ref}` (linear); NaN for an unknown code."""
    if model == LEAKAGE_EXPONENTIAL:
        return k_per_k * leakage_power_exponential(t_k, p_leak_ref_w, k_per_k, t_ref_k)
    if model == LEAKAGE_LINEAR:
        return k_per_k * p_leak_ref_w
    return math.nan


@njit(cache=True)
def chip_power(t_k, p_dynamic_w, model, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Total chip power: dynamic (switching) power plus temperature-dependent leakage.

    .. math:: P(T) = P_\mathrm{dyn} + P_\mathrm{leak}(T)

    Parameters
    ----------
    t_k : float
        Chip (junction) temperature [K].
    p_dynamic_w : float
        Dynamic power, taken independent of temperature [W], >= 0.
    model, p_leak_ref_w, k_per_k, t_ref_k
        Leakage model code and parameters, as :func:`leakage_power`.

    Returns
    -------
    float
        Total electrical power drawn by the chip, all of it dissipated as heat [W].
    """
    return p_dynamic_w + leakage_power(t_k, model, p_leak_ref_w, k_per_k, t_ref_k)


@njit(cache=True)
def chip_fixed_point(t_coolant_k, r_th_k_per_w, p_dynamic_w, model, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Chip temperature consistent with its own temperature-dependent power (electro-thermal fixed point).

    Solves

    .. math:: T = T_\mathrm{c} + R_\mathrm{th}\, P(T), \qquad P(T) = P_\mathrm{dyn} + P_\mathrm{leak}(T)

    for the lowest (stable) root by Newton's method on :math:`g(T) = T - T_\mathrm{c} - R_\mathrm{th} P(T)`
    from :math:`T_0 = T_\mathrm{c}`.

    Parameters
    ----------
    t_coolant_k : float
        Coolant temperature the resistance is referred to [K].
    r_th_k_per_w : float
        Thermal resistance chip to coolant [K/W], >= 0.
    p_dynamic_w : float
        Dynamic power [W], >= 0.
    model, p_leak_ref_w, k_per_k, t_ref_k
        Leakage model code and parameters (:func:`leakage_power`), ``k_per_k`` >= 0, ``p_leak_ref_w`` >= 0.

    Returns
    -------
    t_chip_k : float
        Chip temperature [K] (NaN unless converged).
    status : int
        :data:`STATUS_CONVERGED`, :data:`STATUS_RUNAWAY` (no fixed point exists) or
        :data:`STATUS_MAX_ITERATIONS`.
    iterations : int
        Newton steps taken.

    Notes
    -----
    Both models make :math:`g` concave (:math:`g'' = -R P'' \le 0`) with :math:`g(T_\mathrm{c}) =
    -R P(T_\mathrm{c}) \le 0`. Newton on a concave function from the left of its lowest root never
    overshoots: the iterates rise monotonically to that root, quadratically, and that root is the stable
    one (:math:`R P' < 1` there). If an iterate reaches :math:`g' \le 0` with :math:`g < 0`, the tangent
    argument proves :math:`g < 0` for every larger T: no fixed point exists, thermal runaway (for the
    exponential model exactly when :math:`k R P_\mathrm{leak,ref} e^{k (T_\mathrm{c} + R P_\mathrm{dyn}
    - T_\mathrm{ref})} > 1/e`, see :func:`exponential_fixed_point_closed_form`; for the linear model when
    :math:`k R P_\mathrm{leak,ref} \ge 1`). Newton stops when its step is at the rounding level of T.
    At the fold itself (double root) convergence is linear, halving the error per step, still well within
    the iteration cap of 200. Validate inputs first (:func:`check_leakage_params`): this kernel does not.
    """
    t = t_coolant_k
    for it in range(1, _MAX_ITERATIONS + 1):
        g = t - t_coolant_k - r_th_k_per_w * chip_power(t, p_dynamic_w, model, p_leak_ref_w, k_per_k, t_ref_k)
        dg = 1.0 - r_th_k_per_w * leakage_power_slope(t, model, p_leak_ref_w, k_per_k, t_ref_k)
        if g == 0.0:
            return t, STATUS_CONVERGED, it - 1
        if dg <= 0.0:
            if g < 0.0:  # past the maximum of the concave g, still below zero: no root anywhere
                return math.nan, STATUS_RUNAWAY, it - 1
            return t, STATUS_CONVERGED, it - 1  # g > 0 only by rounding at the fold (double root)
        step = g / dg
        t -= step
        if abs(step) <= 4.0 * _EPS * abs(t):
            return t, STATUS_CONVERGED, it
    return math.nan, STATUS_MAX_ITERATIONS, _MAX_ITERATIONS


# --- Python level: parameters, closed form, errors -------------------------------------------------

def k_from_doubling_interval(dt_double_k: float) -> float:
    r"""Temperature coefficient of the exponential leakage model from a doubling interval.

    .. math:: k = \frac{\ln 2}{\Delta T_2}

    Parameters
    ----------
    dt_double_k : float
        Temperature rise over which leakage doubles [K], > 0.

    Returns
    -------
    float
        ``k_per_k`` [1/K].

    Raises
    ------
    CaseError
        ``dt_double_k`` not a finite number > 0.
    """
    _check_number(dt_double_k, field="dt_double_k", low=0.0, low_open=True, allowed="> 0 K")
    return math.log(2.0) / float(dt_double_k)


def _check_number(value, *, field, low=-math.inf, high=math.inf, low_open=False, allowed, element=None):
    """A finite real number in the range, as float; else CaseError naming field, value and range."""
    ok = isinstance(value, (int, float)) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0
                                             and value.dtype.kind in "iuf")
    ok = ok and not isinstance(value, bool)
    if ok:
        x = float(value)
        ok = math.isfinite(x) and (x > low if low_open else x >= low) and x <= high
    if not ok:
        raise CaseError("out of range or not a number", element=element, field=field, value=value,
                        allowed=allowed)
    return float(value)


def leakage_model_code(name: str) -> int:
    """The kernel code of a leakage model name; CaseError listing the known names if unknown."""
    try:
        return LEAKAGE_MODELS[name]
    except (KeyError, TypeError):
        raise CaseError("unknown leakage model", field="leakage_model", value=name,
                        allowed="one of " + ", ".join(LEAKAGE_MODELS)) from None


def check_leakage_params(model: str, p_leak_ref_w, k_per_k, t_ref_k, *, element=None) -> tuple:
    """Validate a leakage model and its parameters (no defaults: every one is required).

    Parameters
    ----------
    model : str
        A key of :data:`LEAKAGE_MODELS`.
    p_leak_ref_w : float
        Leakage power at the reference temperature [W], >= 0.
    k_per_k : float
        Temperature coefficient [1/K], in [0, 1].
    t_ref_k : float
        Reference temperature [K], in (0, 1000].
    element : str, optional
        Where, for the error message (``"rack 'r1'"``).

    Returns
    -------
    tuple
        ``(code, p_leak_ref_w, k_per_k, t_ref_k)`` as int and floats, ready for the kernels.

    Raises
    ------
    CaseError
        Unknown model or a parameter out of range, naming the field, the value and the allowed range.
    """
    try:
        code = leakage_model_code(model)
    except CaseError as err:
        raise err.located(element=element) from None
    p = _check_number(p_leak_ref_w, field="p_leak_ref_w", low=0.0, allowed=">= 0 W", element=element)
    # k > 1/K would mean leakage rising e-fold per kelvin: no chip; the bound catches unit mistakes (%/K).
    k = _check_number(k_per_k, field="k_per_k", low=0.0, high=1.0, allowed="[0, 1] 1/K", element=element)
    t = _check_number(t_ref_k, field="t_ref_k", low=0.0, high=1000.0, low_open=True, allowed="(0, 1000] K",
                      element=element)
    return code, p, k, t


def check_cold_plate_geometry(*, n_channels, d_h_m, channel_area_m2, wetted_area_m2,
                              r_conduction_k_per_w=0.0, element=None) -> None:
    """Validate the geometry of a channel cold plate (:func:`cold_plate_resistance`).

    Raises
    ------
    CaseError
        Zero, negative or non-finite dimensions, fewer than one channel, a negative conduction
        resistance; each naming the field, value and allowed range.
    """
    _check_number(n_channels, field="n_channels", low=1.0, allowed=">= 1", element=element)
    for field, value in (("d_h_m", d_h_m), ("channel_area_m2", channel_area_m2),
                         ("wetted_area_m2", wetted_area_m2)):
        _check_number(value, field=field, low=0.0, low_open=True, allowed="> 0", element=element)
    _check_number(r_conduction_k_per_w, field="r_conduction_k_per_w", low=0.0, allowed=">= 0 K/W",
                  element=element)


def exponential_runaway_parameter(t_coolant_k, r_th_k_per_w, p_dynamic_w, p_leak_ref_w, k_per_k, t_ref_k):
    r"""Dimensionless loop gain :math:`z` of the exponential model; a fixed point exists iff :math:`z \le 1/e`.

    .. math:: z = k\, R_\mathrm{th}\, P_\mathrm{leak,ref}\,
              \exp\left(k\, (T_\mathrm{c} + R_\mathrm{th} P_\mathrm{dyn} - T_\mathrm{ref})\right)

    :math:`z` is :math:`k R_\mathrm{th} P_\mathrm{leak}` evaluated at the temperature the chip would have
    without the leakage's own heating. Derivation in :func:`exponential_fixed_point_closed_form`.
    """
    return k_per_k * r_th_k_per_w * p_leak_ref_w * math.exp(
        k_per_k * (t_coolant_k + r_th_k_per_w * p_dynamic_w - t_ref_k))


def exponential_fixed_point_closed_form(t_coolant_k, r_th_k_per_w, p_dynamic_w, p_leak_ref_w, k_per_k,
                                        t_ref_k, *, branch: int = 0) -> float:
    r"""Exact fixed point of the exponential leakage model by the Lambert W function.

    With :math:`T_0 = T_\mathrm{c} + R P_\mathrm{dyn}`, :math:`y = k (T - T_0)` and :math:`z` from
    :func:`exponential_runaway_parameter`, :math:`T = T_0 + R P_\mathrm{ref} e^{k (T - T_\mathrm{ref})}`
    becomes :math:`y = z e^{y}`, i.e. :math:`(-y) e^{-y} = -z`, so

    .. math:: y = -W_b(-z), \qquad T = T_0 + R\, P_\mathrm{leak,ref}\, e^{k (T_0 - T_\mathrm{ref}) + y}

    (written without dividing by k, so k = 0 is included). Real solutions exist iff :math:`z \le 1/e`
    (the branch point of W): branch 0 gives the stable (lower) temperature, branch -1 the unstable upper
    one, which a perturbation leaves towards the stable point or towards runaway.

    Parameters
    ----------
    t_coolant_k, r_th_k_per_w, p_dynamic_w, p_leak_ref_w, k_per_k, t_ref_k
        As :func:`chip_fixed_point` [K, K/W, W, W, 1/K, K].
    branch : {0, -1}
        Lambert W branch.

    Returns
    -------
    float
        Chip temperature [K].

    Raises
    ------
    ConvergenceError
        :math:`z > 1/e`: no fixed point, thermal runaway; ``details`` holds ``z`` and the limit ``1/e``.

    Notes
    -----
    Source: Lambert W, Corless et al. (1996) [6]_; ``scipy.special.lambertw``. Python level (scipy is not
    callable from a Numba kernel); the reference the kernel :func:`chip_fixed_point` is tested against.
    """
    from scipy.special import lambertw

    z = exponential_runaway_parameter(t_coolant_k, r_th_k_per_w, p_dynamic_w, p_leak_ref_w, k_per_k, t_ref_k)
    if z > math.exp(-1.0):
        raise ConvergenceError(
            f"thermal runaway: no chip temperature satisfies T = T_coolant + R_th P(T) "
            f"(loop gain z = {z:.6g} > 1/e = {math.exp(-1.0):.6g})",
            details={"z": z, "z_max": math.exp(-1.0)})
    if branch == -1 and z == 0.0:
        return math.inf  # W_{-1}(0) = -inf: the unstable root goes to infinity as k or P_ref -> 0
    y = -lambertw(-z, branch).real
    t0 = t_coolant_k + r_th_k_per_w * p_dynamic_w
    return t0 + r_th_k_per_w * p_leak_ref_w * math.exp(k_per_k * (t0 - t_ref_k) + y)


def solve_chip_temperature(t_coolant_k, r_th_k_per_w, p_dynamic_w, model, p_leak_ref_w, k_per_k, t_ref_k,
                           *, element=None) -> dict:
    """Validated chip operating point (Python level): temperature, powers and iterations.

    Parameters
    ----------
    t_coolant_k : float
        Coolant temperature [K], > 0.
    r_th_k_per_w : float
        Thermal resistance chip to coolant [K/W], >= 0.
    p_dynamic_w : float
        Dynamic power [W], >= 0.
    model : str
        Leakage model, a key of :data:`LEAKAGE_MODELS`.
    p_leak_ref_w, k_per_k, t_ref_k
        Leakage parameters (:func:`check_leakage_params`), required, no defaults.
    element : str, optional
        Where, for error messages.

    Returns
    -------
    dict
        ``t_chip_k`` [K], ``p_total_w``, ``p_leak_w`` [W], ``iterations``.

    Raises
    ------
    CaseError
        A parameter out of range.
    ConvergenceError
        Thermal runaway (no fixed point); ``details`` name the element, the coolant temperature, R_th,
        the powers, and for the exponential model the loop gain z and its limit 1/e.
    """
    code, p_ref, k, t_ref = check_leakage_params(model, p_leak_ref_w, k_per_k, t_ref_k, element=element)
    t_c = _check_number(t_coolant_k, field="t_coolant_k", low=0.0, low_open=True, allowed="> 0 K",
                        element=element)
    r = _check_number(r_th_k_per_w, field="r_th_k_per_w", low=0.0, allowed=">= 0 K/W", element=element)
    p_dyn = _check_number(p_dynamic_w, field="p_dynamic_w", low=0.0, allowed=">= 0 W", element=element)
    t, status, iterations = chip_fixed_point(t_c, r, p_dyn, code, p_ref, k, t_ref)
    if status != STATUS_CONVERGED:
        details = {"element": element, "t_coolant_k": t_c, "r_th_k_per_w": r, "p_dynamic_w": p_dyn,
                   "p_leak_ref_w": p_ref, "k_per_k": k, "t_ref_k": t_ref, "model": model}
        if code == LEAKAGE_EXPONENTIAL:
            details.update(z=exponential_runaway_parameter(t_c, r, p_dyn, p_ref, k, t_ref),
                           z_max=math.exp(-1.0))
        else:
            details.update(loop_gain=k * r * p_ref, loop_gain_max=1.0)
        where = f"{element}: " if element else ""
        why = ("thermal runaway: leakage rises faster with temperature than the cold plate removes it, "
               "no chip temperature satisfies T = T_coolant + R_th P(T)") if status == STATUS_RUNAWAY \
            else "chip temperature iteration did not converge"
        raise ConvergenceError(where + why, details=details)
    p_leak = float(leakage_power(t, code, p_ref, k, t_ref))
    return {"t_chip_k": float(t), "p_total_w": p_dyn + p_leak, "p_leak_w": p_leak, "iterations": int(iterations)}
