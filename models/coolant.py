"""Coolant properties (water, propylene- and ethylene-glycol mixtures) tabulated for Numba kernels.

CoolProp [1]_ is evaluated once per coolant on a uniform temperature grid; kernels then interpolate the
table with :func:`interp_uniform`, which is plain arithmetic on arrays (no CoolProp calls inside a solve). A
coolant is chosen by name through the registry :data:`COOLANTS`.

Fluids (CoolProp names; the glycol fraction is a *mass* fraction, ``INCOMP::MPG[0.25]`` is 25 % by mass):

================ ================ ============================== =========================================
CoolProp         what             validity here                  data
================ ================ ============================== =========================================
``HEOS::Water``  pure water       273.16 K (triple point) to the IAPWS-95 equation of state [3]_;
                                  boiling temperature at the     viscosity IAPWS 2008 [4]_; thermal
                                  pressure (liquid only)         conductivity IAPWS 2011 [5]_
``INCOMP::MPG``  propylene glycol 173.15 K to 373.15 K, mass     Melinder (2010) [2]_
                 in water         fraction 0 to 0.6, and T above
                                  the freezing temperature
``INCOMP::MEG``  ethylene glycol  as MPG                         Melinder (2010) [2]_
                 in water
================ ================ ============================== =========================================

Water is the reference equation of state itself (CoolProp's Helmholtz-energy backend, HEOS), no longer
CoolProp's incompressible fit of it (``INCOMP::Water``), which is 0.28 % low in c_p at 55 °C (4171.4 against
4183.0 J/(kg K)) and up to 0.33 % high in density. Its properties depend on pressure (c_p by 0.1 % and the
viscosity by 0.11 % between 1 atm and 10 bar near 0 °C); :mod:`gigawatt.models.coolant_store` therefore
stores water on a temperature grid at several pressures and interpolates to the network's pressure. The
glycols stay Melinder's fits through CoolProp's incompressible backend: their properties do not depend on
pressure, and CoolProp gives them a freezing temperature (a function of the fraction only) but no
saturation pressure (the fits stop at 373.15 K).

References
----------
.. [1] Bell, I. H., Wronski, J., Quoilin, S., Lemort, V. (2014). Pure and Pseudo-pure Fluid
   Thermophysical Property Evaluation and the Open-Source Thermophysical Property Library CoolProp.
   Industrial & Engineering Chemistry Research 53(6), 2498-2508. doi:10.1021/ie4033999. The
   incompressible backend is documented at http://www.coolprop.org/fluid_properties/Incompressibles.html.
.. [2] Melinder, A. (2010). Properties of Secondary Working Fluids for Indirect Systems. IIF-IIR,
   Paris (CoolProp reference key ``Melinder2010``): the polynomial fits of density, heat capacity,
   thermal conductivity, viscosity and freezing temperature of aqueous propylene and ethylene glycol.
.. [3] Wagner, W., Pruss, A. (2002). The IAPWS Formulation 1995 for the Thermodynamic Properties of
   Ordinary Water Substance for General and Scientific Use. Journal of Physical and Chemical Reference
   Data 31(2), 387-535. doi:10.1063/1.1461829 (CoolProp reference key ``Wagner-JPCRD-2002``).
.. [4] Huber, M. L., Perkins, R. A., Laesecke, A., Friend, D. G., Sengers, J. V., Assael, M. J., Metaxa,
   I. N., Vogel, E., Mares, R., Miyagawa, K. (2009). New International Formulation for the Viscosity of
   H2O. Journal of Physical and Chemical Reference Data 38(2), 101-125. doi:10.1063/1.3088050 (IAPWS
   2008; CoolProp key ``Huber-JPCRD-2009``).
.. [5] Huber, M. L., Perkins, R. A., Friend, D. G., Sengers, J. V., Assael, M. J., Metaxa, I. N., Miyagawa,
   K., Hellmann, R., Vogel, E. (2012). New International Formulation for the Thermal Conductivity of H2O.
   Journal of Physical and Chemical Reference Data 41(3), 033102. doi:10.1063/1.4738955 (IAPWS 2011;
   CoolProp key ``Huber-JPCRD-2012``).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numba
import numpy as np

from gigawatt.errors import CaseError

P_REFERENCE_PA = 101325.0
"""Default pressure of a coolant table, 1 atm [Pa]: the reference pressure of CoolProp's incompressible
fluids (the glycols, whose properties do not depend on it) and the pressure of the cooling loops' water."""

DEFAULT_POINTS = 401
"""Default number of grid points of :func:`coolant_table`. Over a glycol's whole range (about 110-120 K)
this is a 0.3 K spacing, where linear interpolation is within 1e-4 relative of CoolProp for the viscosity
(the most curved property, worst near freezing) and within 1e-7 for the others (see the tests)."""

PROPERTY_FIELDS = ("density_kg_per_m3", "cp_j_per_kg_k", "viscosity_pa_s", "conductivity_w_per_m_k")
"""Names of the tabulated property arrays of :class:`CoolantTable`, in this order."""


@dataclass(frozen=True)
class CoolantSpec:
    """A named coolant: which CoolProp fluid, at which mass fraction.

    Attributes
    ----------
    fluid : str
        CoolProp fluid, with backend (``"INCOMP::MPG"``, ``"HEOS::Water"``).
    mass_fraction : float or None
        Mass fraction of the additive in water [-]; None for a pure fluid.
    description : str
        What the coolant is, in words.
    source : str
        Where CoolProp's data for it come from.
    """

    fluid: str
    mass_fraction: float | None
    description: str
    source: str

    @property
    def coolprop_name(self) -> str:
        """The CoolProp fluid string (``"INCOMP::MPG[0.25]"``)."""
        return self.fluid if self.mass_fraction is None else f"{self.fluid}[{self.mass_fraction:g}]"


_MELINDER = "Melinder (2010), Properties of Secondary Working Fluids for Indirect Systems, via CoolProp"


def _pg(fraction):
    return CoolantSpec("INCOMP::MPG", fraction, f"propylene glycol {fraction:.0%} by mass in water", _MELINDER)


def _eg(fraction):
    return CoolantSpec("INCOMP::MEG", fraction, f"ethylene glycol {fraction:.0%} by mass in water", _MELINDER)


COOLANTS: dict[str, CoolantSpec] = {
    "water": CoolantSpec("HEOS::Water", None, "pure water",
                         "IAPWS-95 (Wagner & Pruss 2002), viscosity IAPWS 2008, conductivity IAPWS 2011, via "
                         "CoolProp"),
    "pg20": _pg(0.20), "pg25": _pg(0.25), "pg30": _pg(0.30), "pg40": _pg(0.40),
    "eg20": _eg(0.20), "eg25": _eg(0.25), "eg30": _eg(0.30), "eg40": _eg(0.40),
}
"""Registry of coolants by name: ``pgNN`` / ``egNN`` are NN % propylene / ethylene glycol by mass (a
fraction quoted by volume differs slightly). CoolProp accepts MPG and MEG mass fractions from 0 to 0.6."""


@dataclass(frozen=True)
class CoolantLimits:
    """Temperature range in which a coolant's properties are valid, and why.

    Attributes
    ----------
    t_low_k, t_high_k : float
        Lowest and highest valid temperature [K].
    t_freeze_k : float
        Freezing temperature from CoolProp [K] (water: its melting temperature at ``p_pa``, IAPWS 2011
        melting curve, 273.153 K at 1 atm, below the triple point where the equation of state starts);
        NaN where CoolProp gives none.
    t_boil_k : float
        Boiling temperature at ``p_pa`` from CoolProp's saturation pressure [K]; NaN where CoolProp gives
        none (MPG, MEG; water above its critical pressure).
    p_pa : float
        Pressure the limits hold at [Pa].
    low_reason, high_reason : str
        What sets each limit, in words (for error messages).
    """

    t_low_k: float
    t_high_k: float
    t_freeze_k: float
    t_boil_k: float
    p_pa: float
    low_reason: str
    high_reason: str

    @property
    def allowed(self) -> str:
        """The valid range in words, for :class:`~gigawatt.errors.CaseError`."""
        return (f"[{self.t_low_k:.2f}, {self.t_high_k:.2f}] K ({self.low_reason} to "
                f"{self.high_reason})")


@dataclass(frozen=True)
class CoolantTable:
    """A coolant's properties on a uniform temperature grid, for :func:`interp_uniform`.

    All arrays have the length of ``t_k`` and are read-only. Build with :func:`coolant_table`.

    Attributes
    ----------
    name : str
        Registry name (``"pg25"``).
    coolprop_name : str
        CoolProp fluid string the table was made from (``"INCOMP::MPG[0.25]"``).
    t_k : numpy.ndarray
        Temperature grid, uniform, increasing [K].
    density_kg_per_m3 : numpy.ndarray
        Density [kg/m^3].
    cp_j_per_kg_k : numpy.ndarray
        Specific heat capacity at constant pressure [J/(kg K)].
    viscosity_pa_s : numpy.ndarray
        Dynamic viscosity [Pa s].
    conductivity_w_per_m_k : numpy.ndarray
        Thermal conductivity [W/(m K)].
    limits : CoolantLimits
        The fluid's valid temperature range at the table's pressure (wider than or equal to the grid; the
        stored water table's grid reaches beyond it, for callers at higher pressures:
        :func:`gigawatt.models.coolant_store.stored_table`).
    p_sat_pa : numpy.ndarray or None
        Saturation pressure of the liquid at each grid temperature [Pa] (water; NaN where CoolProp gives
        none), from which the boiling limit at another pressure follows; None where not tabulated.
    """

    name: str
    coolprop_name: str
    t_k: np.ndarray
    density_kg_per_m3: np.ndarray
    cp_j_per_kg_k: np.ndarray
    viscosity_pa_s: np.ndarray
    conductivity_w_per_m_k: np.ndarray
    limits: CoolantLimits
    p_sat_pa: np.ndarray | None = None

    @property
    def p_pa(self) -> float:
        """Pressure of the table [Pa] (sets only the boiling limit of water)."""
        return self.limits.p_pa


# --- CoolProp access (only here) -------------------------------------------------------------------

def _state(spec: CoolantSpec):
    """A CoolProp AbstractState for the coolant, fractions set."""
    from CoolProp import CoolProp as CP

    backend, fluid = spec.fluid.split("::")
    state = CP.AbstractState(backend, fluid)
    if spec.mass_fraction is not None:
        state.set_mass_fractions([spec.mass_fraction])
    return state


def _spec(name) -> CoolantSpec:
    if name not in COOLANTS:
        near = difflib.get_close_matches(str(name), list(COOLANTS), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise CaseError(f"unknown coolant{hint}", field="coolant", value=name,
                        allowed="one of " + ", ".join(COOLANTS))
    return COOLANTS[name]


def _finite(value, *, name, field, low=-math.inf, low_open=False, allowed):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low)
    if not ok:
        raise CaseError("not a valid number", element=f"coolant '{name}'", field=field, value=value,
                        allowed=allowed)
    return value


def coolant_limits(name: str, p_pa: float = P_REFERENCE_PA) -> CoolantLimits:
    """Valid temperature range of a registered coolant at a pressure, from CoolProp.

    The range is [max(T_min, T_freeze), min(T_max, T_boil(p))]. For the glycols T_min and T_max are the
    limits of CoolProp's fit and T_freeze its freezing temperature; they have no boiling limit. For water
    (IAPWS-95), T_min is the triple point (273.16 K), T_freeze the melting temperature at ``p_pa``, T_boil
    the saturation temperature at ``p_pa`` (none above the critical pressure) and T_max the critical
    temperature (647.096 K), the end of the liquid.

    Parameters
    ----------
    name : str
        Registry name, a key of :data:`COOLANTS`.
    p_pa : float, default :data:`P_REFERENCE_PA`
        Absolute pressure [Pa], > 0.

    Returns
    -------
    CoolantLimits

    Raises
    ------
    gigawatt.errors.CaseError
        Unknown coolant or non-positive pressure.

    Examples
    --------
    >>> lim = coolant_limits("pg25")
    >>> round(lim.t_low_k, 2), lim.low_reason, lim.t_high_k
    (263.36, 'freezing temperature', 373.15)
    >>> round(coolant_limits("water").t_high_k, 3)  # IAPWS-95 normal boiling point
    373.124
    """
    spec = _spec(name)
    p_pa = _finite(p_pa, name=name, field="p_pa", low=0.0, low_open=True, allowed="> 0 Pa")
    state = _state(spec)
    if spec.fluid.startswith("HEOS::"):
        return _equation_of_state_limits(state, p_pa)
    from CoolProp import CoolProp as CP

    t_min, t_max = float(state.Tmin()), float(state.Tmax())
    try:
        t_freeze = float(state.keyed_output(CP.iT_freeze))
    except ValueError:  # CoolProp has no freezing curve for this fluid
        t_freeze = math.nan

    def p_sat(t):
        return _p_sat(state, t)

    t_boil = math.nan
    if p_sat(t_max) > p_pa:  # False for NaN: no boiling limit where CoolProp has no saturation data
        lo, hi = t_min, t_max  # invariant: liquid at lo (p_sat <= p_pa, or none given), boiling at hi
        while hi - lo > 1e-9:
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if p_sat(mid) > p_pa else (mid, hi)
        t_boil = lo

    if math.isnan(t_freeze) or t_freeze <= t_min:
        t_low, low_reason = t_min, "lower limit of the CoolProp fit"
    else:
        t_low, low_reason = t_freeze, "freezing temperature"
    if math.isnan(t_boil):
        t_high, high_reason = t_max, "upper limit of the CoolProp fit"
    else:
        t_high, high_reason = t_boil, f"boiling temperature at {p_pa:.6g} Pa"
    return CoolantLimits(t_low, t_high, t_freeze, t_boil, p_pa, low_reason, high_reason)


def _equation_of_state_limits(state, p_pa: float) -> CoolantLimits:
    """The liquid range of a CoolProp HEOS fluid (water) at ``p_pa`` [Pa]: triple point (or melting
    temperature, if higher) to the saturation temperature (or, above the critical pressure, the critical
    temperature)."""
    from CoolProp import CoolProp as CP

    t_triple, t_crit = float(state.Ttriple()), float(state.T_critical())
    try:
        t_freeze = float(state.melting_line(CP.iT, CP.iP, p_pa))
    except ValueError:  # outside the melting curve's range
        t_freeze = math.nan
    if t_freeze > t_triple:
        t_low, low_reason = t_freeze, "melting temperature"
    else:
        t_low, low_reason = t_triple, "triple point"
    if p_pa < float(state.p_critical()):
        state.update(CP.PQ_INPUTS, p_pa, 0.0)
        t_boil = float(state.T())
        t_high, high_reason = t_boil, f"boiling temperature at {p_pa:.6g} Pa"
    else:
        t_boil, t_high, high_reason = math.nan, t_crit, "critical temperature"
    return CoolantLimits(t_low, t_high, t_freeze, t_boil, p_pa, low_reason, high_reason)


def coolant_table(name: str, t_min_k: float, t_max_k: float, n: int = DEFAULT_POINTS, *,
                  p_pa: float = P_REFERENCE_PA) -> CoolantTable:
    """Tabulate a coolant's properties on a uniform temperature grid, from CoolProp.

    Parameters
    ----------
    name : str
        Registry name, a key of :data:`COOLANTS` (``"water"``, ``"pg25"``, ...).
    t_min_k, t_max_k : float
        First and last grid temperature [K]; ``t_min_k < t_max_k``, both inside
        :func:`coolant_limits` at ``p_pa``.
    n : int, default :data:`DEFAULT_POINTS`
        Number of grid points, >= 2. The linear-interpolation error is at most h^2/8 max|f''| with
        h = (t_max_k - t_min_k)/(n - 1) the spacing.
    p_pa : float, default :data:`P_REFERENCE_PA`
        Absolute pressure [Pa]: water's properties are those at it, and it sets water's boiling limit; the
        glycols' properties do not depend on it.

    Returns
    -------
    CoolantTable
        Density [kg/m^3], specific heat [J/(kg K)], dynamic viscosity [Pa s] and thermal conductivity
        [W/(m K)] at each grid temperature, exactly as CoolProp gives them [1]_.

    Raises
    ------
    gigawatt.errors.CaseError
        Unknown coolant; a grid bound below freezing (or the fit's lower limit) or above boiling (or
        the fit's upper limit): names the coolant, the field (``t_min_k``/``t_max_k``), the value and
        the allowed range.

    Examples
    --------
    >>> tab = coolant_table("water", 283.15, 333.15, n=11)
    >>> round(float(tab.cp_j_per_kg_k[4]), 1)  # 303.15 K, 1 atm (IAPWS-95)
    4179.8
    """
    spec = _spec(name)
    limits = coolant_limits(name, p_pa)
    element = f"coolant '{name}'"
    t_min_k = _finite(t_min_k, name=name, field="t_min_k", allowed=limits.allowed)
    t_max_k = _finite(t_max_k, name=name, field="t_max_k", allowed=limits.allowed)
    for field, value in (("t_min_k", t_min_k), ("t_max_k", t_max_k)):
        _check_in_limits(name, limits, field, value)
    if not t_min_k < t_max_k:
        raise CaseError("grid must increase", element=element, field="t_max_k", value=t_max_k,
                        allowed=f"> t_min_k = {t_min_k} K")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise CaseError("not a valid number of grid points", element=element, field="n", value=n,
                        allowed="integer >= 2")

    t_k = np.linspace(t_min_k, t_max_k, int(n))
    out = tabulate(spec, t_k, p_pa)
    for arr in (t_k, *out.values()):
        arr.flags.writeable = False
    return CoolantTable(name=name, coolprop_name=spec.coolprop_name, t_k=t_k, limits=limits, **out)


def tabulate(spec: CoolantSpec, t_k: np.ndarray, p_pa: float) -> dict[str, np.ndarray]:
    """CoolProp's properties of a liquid coolant at the temperatures ``t_k`` [K] and pressure ``p_pa`` [Pa],
    keyed by :data:`PROPERTY_FIELDS`. Where water's saturation pressure at a temperature reaches ``p_pa`` (to
    1e-6 relative) or more (it would boil), the saturated liquid's properties at that temperature are given instead, so a
    table at a low pressure continues smoothly along the boiling curve (its limits end where this starts)."""
    from CoolProp import CoolProp as CP

    state = _state(spec)
    saturation = spec.fluid.startswith("HEOS::")
    out = {f: np.empty(t_k.size) for f in PROPERTY_FIELDS}
    for i, t in enumerate(t_k):
        if saturation and _p_sat(state, float(t)) >= p_pa * (1.0 - 1e-6):  # CoolProp refuses p within 1e-6
            state.update(CP.QT_INPUTS, 0.0, float(t))
        else:
            state.update(CP.PT_INPUTS, p_pa, float(t))
        out["density_kg_per_m3"][i] = state.rhomass()
        out["cp_j_per_kg_k"][i] = state.cpmass()
        out["viscosity_pa_s"][i] = state.viscosity()
        out["conductivity_w_per_m_k"][i] = state.conductivity()
    return out


def saturation_pressure_pa(spec: CoolantSpec, t_k: np.ndarray) -> np.ndarray:
    """CoolProp's saturation pressure of the liquid at ``t_k`` [K] [Pa]; NaN where it gives none (MPG, MEG;
    water below its triple point or above its critical temperature)."""
    state = _state(spec)
    return np.array([_p_sat(state, float(t)) for t in t_k])


def _p_sat(state, t: float) -> float:
    """CoolProp's saturation pressure of the liquid [Pa] at ``t`` [K] in ``state``; NaN where it gives none."""
    from CoolProp import CoolProp as CP

    try:
        state.update(CP.QT_INPUTS, 0.0, t)
        return state.p()
    except ValueError:  # none for MPG and MEG; none for water outside triple point to critical point
        return math.nan


def _check_in_limits(name, limits: CoolantLimits, field, value):
    """CaseError if ``value`` [K] is outside the coolant's valid range, saying which side and why."""
    if value < limits.t_low_k:
        raise CaseError(f"below the {limits.low_reason} of {name} ({limits.t_low_k:.2f} K)",
                        element=f"coolant '{name}'", field=field, value=value, allowed=limits.allowed)
    if value > limits.t_high_k:
        raise CaseError(f"above the {limits.high_reason} of {name} ({limits.t_high_k:.2f} K)",
                        element=f"coolant '{name}'", field=field, value=value, allowed=limits.allowed)


# --- interpolation (the kernel) --------------------------------------------------------------------

@numba.njit(cache=True)
def interp_uniform(t_k, t_grid_k, values):
    """Linear interpolation of a tabulated property at one temperature, on a uniform grid.

    .. math:: f(T) \\approx f_i + \\frac{T - T_i}{h} (f_{i+1} - f_i), \\quad
              i = \\lfloor (T - T_0)/h \\rfloor, \\quad h = \\frac{T_{n-1} - T_0}{n - 1}

    Constant time (no search). Written for Numba kernels; runs unchanged as plain Python with
    ``NUMBA_DISABLE_JIT=1``.

    Parameters
    ----------
    t_k : float
        Temperature [K].
    t_grid_k : numpy.ndarray
        Uniform, increasing grid (``CoolantTable.t_k``) [K], at least 2 points.
    values : numpy.ndarray
        Property on the grid (``CoolantTable.density_kg_per_m3``, ...), same length [its unit].

    Returns
    -------
    float
        The interpolated property [unit of ``values``]; NaN if ``t_k`` is outside the grid or NaN (a
        kernel cannot raise an input error: check the range with :func:`coolant_properties` or the
        table's ``limits`` before, or test the result).

    Notes
    -----
    Error: for f twice differentiable, f(T) - p(T) = f''(xi)/2 (T - T_i)(T - T_{i+1}), at most
    h^2/8 max|f''| (the Lagrange remainder of linear interpolation).
    """
    n = t_grid_k.shape[0]
    t0 = t_grid_k[0]
    t_last = t_grid_k[n - 1]
    if not (t_k >= t0 and t_k <= t_last):
        return np.nan
    x = (t_k - t0) / (t_last - t0) * (n - 1)
    i = int(x)
    if i > n - 2:
        i = n - 2
    frac = x - i
    return values[i] + frac * (values[i + 1] - values[i])


@numba.njit(cache=True)
def _interp_each(t_k, t_grid_k, values):
    out = np.empty(t_k.shape[0])
    for j in range(t_k.shape[0]):
        out[j] = interp_uniform(t_k[j], t_grid_k, values)
    return out


def coolant_properties(table: CoolantTable, t_k, *, field: str = "t_k") -> dict[str, np.ndarray]:
    """Properties of a tabulated coolant at temperatures, with a range check that names the input.

    Parameters
    ----------
    table : CoolantTable
        From :func:`coolant_table`.
    t_k : array_like
        Temperatures [K].
    field : str, default ``"t_k"``
        Name of the input the temperatures come from (``"t_supply_k"``), used in the error message.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys :data:`PROPERTY_FIELDS`: ``density_kg_per_m3`` [kg/m^3], ``cp_j_per_kg_k`` [J/(kg K)],
        ``viscosity_pa_s`` [Pa s], ``conductivity_w_per_m_k`` [W/(m K)], each shaped like ``t_k``.

    Raises
    ------
    gigawatt.errors.CaseError
        A temperature below freezing or above the fluid's validity (names coolant, field, value and the
        allowed range), or inside the fluid's range but outside the table's grid.

    Examples
    --------
    >>> tab = coolant_table("pg25", 270.0, 350.0)
    >>> round(float(coolant_properties(tab, 303.15)["density_kg_per_m3"]), 1)
    1014.9
    """
    t = np.asarray(t_k, dtype=float)
    flat = check_coolant_temperatures(table, t, field=field)
    return {f: _interp_each(flat, table.t_k, getattr(table, f)).reshape(t.shape) for f in PROPERTY_FIELDS}


def check_coolant_temperatures(table: CoolantTable, t_k, *, field: str = "t_k") -> np.ndarray:
    """The range checks of :func:`coolant_properties` alone (no property evaluated): raises the same
    :class:`~gigawatt.errors.CaseError` for a temperature [K] that is not finite, outside the fluid's validity
    or outside the table's grid; returns the temperatures as a flat float array."""
    if type(t_k) is float:  # one temperature (a step's facility return): a good one returns early
        lim, grid = table.limits, table.t_k
        if lim.t_low_k <= t_k <= lim.t_high_k and grid[0] <= t_k <= grid[-1]:  # (NaN fails: the full checks)
            return np.array([t_k])
    flat = np.asarray(t_k, dtype=float).ravel()
    bad = ~np.isfinite(flat)
    if bad.any():
        raise CaseError("not a valid temperature", element=f"coolant '{table.name}'", field=field,
                        value=flat[bad][0], allowed=table.limits.allowed)
    if flat.size:
        _check_in_limits(table.name, table.limits, field, float(flat.min()))
        _check_in_limits(table.name, table.limits, field, float(flat.max()))
    lo, hi = float(table.t_k[0]), float(table.t_k[-1])
    outside = (flat < lo) | (flat > hi)
    if outside.any():
        raise CaseError(f"outside the tabulated range of {table.name}", element=f"coolant '{table.name}'",
                        field=field, value=flat[outside][0], allowed=f"[{lo:.2f}, {hi:.2f}] K (the table)")
    return flat
