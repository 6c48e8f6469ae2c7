"""Heat exchange of a pipe with its surroundings: exact outlet temperature, heat lost, buried-pipe U-value, the
wall's heat capacity.

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
.. [4] B. van der Heijde, M. Fuchs, C. Ribas Tugores, G. Schweiger, K. Sartor, D. Basciotti, D. Müller,
   C. Nytsch-Geusen, M. Wetter, L. Helsen, "Dynamic equation-based thermo-hydraulic pipe model for district
   heating and cooling systems", Energy Conversion and Management 151, 158-169 (2017),
   doi:10.1016/j.enconman.2017.08.072 (the pipe wall's heat capacity as a mixing volume at the outlet).
.. [5] A. Benonysson, "Dynamic modelling and operational optimization of district heating systems", PhD
   thesis, Laboratory of Heating and Air Conditioning, Technical University of Denmark (1991) (the node
   method and its correction for the heat capacity of the pipe).
.. [6] J. Claesson, G. Hellström, "Multipole method to calculate borehole thermal resistances in a borehole
   heat exchanger", HVAC&R Research 17(6), 895-911 (2011), doi:10.1080/10789669.2011.609927 (after L. Bennet,
   J. Claesson, G. Hellström, "Multipole method to compute the conductive heat flows to and between pipes in
   a composite cylinder", Lund University, 1987).
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


STEEL_DENSITY_KG_M3 = 7854.0
"""Density of plain carbon steel [kg/m³] (Incropera et al. [1]_, Table A.1, at 300 K)."""
STEEL_SPECIFIC_HEAT_J_PER_KG_K = 434.0
"""Specific heat of plain carbon steel [J/(kg K)] (Incropera et al. [1]_, Table A.1, at 300 K)."""


OUTER_TO_INNER_DIAMETER = 1.1
"""Steel outer diameter per inner diameter where a pipe does not give its own (the case schema's default of
``dh_pipe.outer_diameter_m``; an assumption, stated in the schema)."""


def steel_outer_diameter_m(d_inner_m, d_outer_m):
    """Outer diameter of each steel service pipe [m]: ``d_outer_m`` where given, else
    :data:`OUTER_TO_INNER_DIAMETER` × ``d_inner_m`` (NaN marks not given)."""
    d_inner_m = np.asarray(d_inner_m, dtype=float)
    d_outer_m = np.asarray(d_outer_m, dtype=float)
    return np.where(np.isnan(d_outer_m), OUTER_TO_INNER_DIAMETER * d_inner_m, d_outer_m)


def pipe_wall_heat_capacity_j_per_m_k(d_inner_m, d_outer_m, rho_wall_kg_m3=STEEL_DENSITY_KG_M3,
                                      c_wall_j_per_kg_k=STEEL_SPECIFIC_HEAT_J_PER_KG_K):
    r"""Heat capacity per metre of a pipe's wall [J/(m K)].

    .. math:: C' = \rho_w\, c_w\, \frac{\pi}{4} (d_o^2 - d_i^2)

    the capacity van der Heijde et al. [4]_ lump at a pipe's outlet (the steel service pipe; the insulation,
    whose temperature varies across it, is left out as in their model).

    Parameters
    ----------
    d_inner_m, d_outer_m : array_like
        Inner and outer diameter of the wall [m], 0 < d_inner <= d_outer.
    rho_wall_kg_m3 : array_like
        Density of the wall [kg/m³]; default plain carbon steel, 7854 (Incropera [1]_ Table A.1).
    c_wall_j_per_kg_k : array_like
        Specific heat of the wall [J/(kg K)]; default plain carbon steel at 300 K, 434 (same table; 480 at
        400 K).

    Returns
    -------
    numpy.ndarray
        C' [J/(m K)].

    Examples
    --------
    DN100 (114.3 mm outer, 3.6 mm wall, 107.1 mm inner): 9.83 kg/m of steel, 4.27 kJ/(m K), against the
    37.0 kJ/(m K) of its water (8.86 kg/m at 983 kg/m³ and 4180 J/(kg K)):

    >>> round(float(pipe_wall_heat_capacity_j_per_m_k(0.1071, 0.1143)))
    4268
    """
    d_i = np.asarray(d_inner_m, dtype=float)
    d_o = np.asarray(d_outer_m, dtype=float)
    return np.asarray(rho_wall_kg_m3, dtype=float) * np.asarray(c_wall_j_per_kg_k, dtype=float) * (
        0.25 * np.pi * (d_o * d_o - d_i * d_i))


@njit(cache=True)
def lumped_capacity_outlet(t_start_k, t_in_k, m_kg_s, cp_j_per_kg_k, c_j_per_k, dt_s):
    r"""Water passing through a lumped heat capacity (a pipe's wall at its outlet) for one time step, exactly.

    The capacity C and the water leaving it share one temperature T (perfect mixing, no heat to the
    surroundings), and water enters at a constant :math:`T_\mathrm{in}` over the step:

    .. math:: C\, \frac{dT}{dt} = |\dot m|\, c_p\, (T_\mathrm{in} - T),\qquad
              T(t) = T_\mathrm{in} + (T_0 - T_\mathrm{in})\, e^{-t/\theta},\quad \theta = \frac{C}{|\dot m| c_p}

    The step mean of the outlet temperature is :math:`T_\mathrm{in} + (T_0 - T_\mathrm{in})(1 - e^{-a})/a`,
    :math:`a = \Delta t/\theta`; with it the enthalpy the water leaves behind, :math:`|\dot m| c_p \Delta t
    (T_\mathrm{in} - \bar T)`, is :math:`C (T(\Delta t) - T_0)` to round-off. This is the correction the node
    method makes for the heat capacity of the pipe wall (Benonysson [5]_; van der Heijde et al. [4]_ lump it
    as a mixing volume at the pipe's outlet).

    Parameters
    ----------
    t_start_k : float
        Temperature of the capacity at the start of the step [K].
    t_in_k : float
        Temperature of the water entering it over the step [K].
    m_kg_s : float
        Mass flow [kg/s] (its magnitude is used).
    cp_j_per_kg_k : float
        Specific heat of the water [J/(kg K)], > 0.
    c_j_per_k : float
        Heat capacity [J/K], >= 0 (0: the water passes unchanged).
    dt_s : float
        Time step [s], > 0.

    Returns
    -------
    tuple of float
        ``(step-mean outlet temperature [K], temperature at the end of the step [K])``.

    Notes
    -----
    Validity: the capacity at one temperature (a thin steel wall against the water's film: the Biot number
    of the wall is small), no loss from it (the pipe's loss is that of the water, :func:`pipe_outlet_temperature`),
    constant flow and inlet temperature within the step. Without flow the capacity keeps its temperature.
    """
    if c_j_per_k <= 0.0:
        return t_in_k, t_in_k
    capacity_rate = abs(m_kg_s) * cp_j_per_kg_k
    if capacity_rate == 0.0:
        return t_start_k, t_start_k
    a = capacity_rate * dt_s / c_j_per_k
    em = math.expm1(-a)
    return t_in_k + (t_start_k - t_in_k) * (-em / a), t_in_k + (t_start_k - t_in_k) * (1.0 + em)


def twin_pipe_heat_loss_factors(d_pipe_m, d_casing_m, spacing_m, lambda_insulation_w_per_m_k, lambda_soil_w_per_m_k,
                                depth_m):
    r"""Wallentén's dimensionless heat-loss factors of a buried twin pipe: symmetric :math:`h_s` and
    antisymmetric :math:`h_a` (supply and return in one casing).

    With :math:`r_p` the service pipes' outer radius, :math:`r_c` the casing's, D half the distance between the
    pipes' centres (each at D from the casing's centre, side by side), H the depth of the casing's centre,
    :math:`\sigma = (\lambda_i - \lambda_g)/(\lambda_i + \lambda_g)` and
    :math:`\gamma = 2 (1 - \sigma^2) / (1 - \sigma (r_c / 2H)^2)`:

    .. math::
        \frac{1}{h_s} = \frac{2\lambda_i}{\lambda_g}\ln\frac{2H}{r_c} + \ln\frac{r_c^2}{2 D r_p}
            + \sigma \ln\frac{r_c^4}{r_c^4 - D^4}
            - \frac{\left(\frac{r_p}{2D} - \sigma\frac{2 r_p D^3}{r_c^4 - D^4}\right)^2}
                   {1 + \left(\frac{r_p}{2D}\right)^2 + \sigma\left(\frac{2 r_p r_c^2 D}{r_c^4 - D^4}\right)^2}

        \frac{1}{h_a} = \ln\frac{2D}{r_p} + \sigma\ln\frac{r_c^2 + D^2}{r_c^2 - D^2}
            - \frac{\left(\frac{r_p}{2D} - \gamma\frac{D r_p}{4H^2} + 2\sigma\frac{r_p r_c^2 D}{r_c^4 - D^4}\right)^2}
                   {1 - \left(\frac{r_p}{2D}\right)^2 + 2\sigma\frac{r_p^2 r_c^2 (r_c^4 + D^4)}{(r_c^4 - D^4)^2}}
            - \gamma\left(\frac{D}{2H}\right)^2

    The heat each pipe gives per metre, with the supply at :math:`T_1`, the return at :math:`T_2` and the
    undisturbed ground (its surface) at :math:`T_g`:

    .. math:: q_{1,2} = 2\pi\lambda_i\left[h_s\left(\tfrac{T_1 + T_2}{2} - T_g\right)
              \pm h_a\,\tfrac{T_1 - T_2}{2}\right]

    i.e. each pipe loses :math:`2\pi\lambda_i h_s (T - T_g)` to the ground and the supply gives the return
    :math:`\pi\lambda_i (h_a - h_s)(T_1 - T_2)` (:func:`twin_pipe_conductances`).

    Parameters
    ----------
    d_pipe_m : array_like
        Outer diameter of each (steel) service pipe [m].
    d_casing_m : array_like
        Outer diameter of the casing [m].
    spacing_m : array_like
        Distance between the two service pipes' centres, 2D [m]; 2D + d_pipe < d_casing.
    lambda_insulation_w_per_m_k, lambda_soil_w_per_m_k : array_like
        Conductivity of the insulation (PUR 0.022-0.029, EN 253) and of the soil (1.0-2.0) [W/(m K)].
    depth_m : array_like
        Depth of the casing's centre below the ground surface, H [m], > r_c.

    Returns
    -------
    tuple of numpy.ndarray
        ``(h_s, h_a)`` [-].

    Notes
    -----
    Validity: steady state, homogeneous insulation and soil, an isothermal ground surface, the pipes side by
    side at one depth; first-order multipole accuracy (the neglected terms are of order
    :math:`(r_p/2D)^4`). The steel walls, the fluid film and the casing's thin PE wall are neglected, as in
    :func:`buried_single_pipe_u`. Source: Wallentén [2]_. Against the multipole method [6]_ with PUR in soil: within 0.11 % (:math:`h_s`) and 1.3 %
    (:math:`h_a`) for DN25-DN50 pairs with :math:`r_p/2D \le 0.34` (the exchange, :math:`h_a - h_s`, within
    about twice that); for large pipes close together or close to the casing it degrades: 3-5 % in
    :math:`h_a` at :math:`r_p/2D` = 0.35-0.41 (DN100 pairs 25 mm apart or 18 mm inside the casing). The
    first law of the pair holds by construction: the exchange leaves one pipe and enters the other.

    Transcription: the form above is the one circulated from Wallentén's report (for example in the
    Annex 60 Modelica library's twin-pipe record) with two corrections, both forced by its own first-order
    multipole derivation: the numerator of the last term of :math:`1/h_s` is squared (it is the square of
    the induced dipole, of order :math:`(r_p/2D)^2`; unsquared it is of first order), and the denominator
    of the antisymmetric correction carries no ground-image term :math:`\gamma r_p/(2D)` (with it
    :math:`h_a` misses the exact :math:`\sigma = 0`, deep-pipe limit, two cylinders at opposite
    temperatures, Incropera [1]_ Table 4.1, by 21 %; the ground image enters there only at order
    :math:`(r_p/2H)^2`). Checked against that exact limit, against a multipole solution with the ground
    surface (:math:`\sigma = 0`) and against the multipole method of Claesson & Hellström [6]_ as
    ``pygfunction`` implements it (PUR in soil): ``tests/test_twin_pipe.py``. The report itself was not
    at hand to check the transcription against.
    """
    r_p = 0.5 * np.asarray(d_pipe_m, dtype=float)
    r_c = 0.5 * np.asarray(d_casing_m, dtype=float)
    d = 0.5 * np.asarray(spacing_m, dtype=float)
    lam_i = np.asarray(lambda_insulation_w_per_m_k, dtype=float)
    lam_g = np.asarray(lambda_soil_w_per_m_k, dtype=float)
    h = np.asarray(depth_m, dtype=float)
    sigma = (lam_i - lam_g) / (lam_i + lam_g)
    gamma = 2.0 * (1.0 - sigma * sigma) / (1.0 - sigma * (r_c / (2.0 * h)) ** 2)
    c4, d4, p = r_c ** 4, d ** 4, r_p / (2.0 * d)
    inv_s = (2.0 * lam_i / lam_g * np.log(2.0 * h / r_c) + np.log(r_c * r_c / (2.0 * d * r_p))
             + sigma * np.log(c4 / (c4 - d4))
             - (p - sigma * 2.0 * r_p * d ** 3 / (c4 - d4)) ** 2
             / (1.0 + p * p + sigma * (2.0 * r_p * r_c * r_c * d / (c4 - d4)) ** 2))
    inv_a = (np.log(2.0 * d / r_p) + sigma * np.log((r_c * r_c + d * d) / (r_c * r_c - d * d))
             - (p - gamma * d * r_p / (4.0 * h * h) + 2.0 * sigma * r_p * r_c * r_c * d / (c4 - d4)) ** 2
             / (1.0 - p * p + 2.0 * sigma * r_p * r_p * r_c * r_c * (c4 + d4) / (c4 - d4) ** 2)
             - gamma * (d / (2.0 * h)) ** 2)
    return 1.0 / inv_s, 1.0 / inv_a


def twin_pipe_conductances(d_pipe_m, d_casing_m, spacing_m, lambda_insulation_w_per_m_k, lambda_soil_w_per_m_k,
                           depth_m):
    r"""Conductances per metre of a buried twin pipe [W/(m K)]: each service pipe to the ground surface,
    :math:`U'_g = 2\pi\lambda_i h_s`, and between supply and return, :math:`U'_{sr} = \pi\lambda_i (h_a - h_s)`,
    from Wallentén's factors (:func:`twin_pipe_heat_loss_factors`, same parameters and validity; source
    Wallentén [2]_). The supply then loses :math:`U'_g (T_1 - T_g) + U'_{sr} (T_1 - T_2)` per metre and the
    return :math:`U'_g (T_2 - T_g) - U'_{sr} (T_1 - T_2)`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(u_ground_w_per_m_k, u_exchange_w_per_m_k)``.
    """
    h_s, h_a = twin_pipe_heat_loss_factors(d_pipe_m, d_casing_m, spacing_m, lambda_insulation_w_per_m_k,
                                           lambda_soil_w_per_m_k, depth_m)
    lam_i = np.asarray(lambda_insulation_w_per_m_k, dtype=float)
    return 2.0 * np.pi * lam_i * h_s, np.pi * lam_i * (h_a - h_s)


@njit(cache=True)
def frictional_heat_outlet_share(u_w_per_m_k, length_m, m_kg_s, cp_j_per_kg_k):
    r"""Share of a pipe's frictional heat that leaves with the water at its outlet, in steady state [-].

    The pressure drop's work :math:`P_f = |\dot m\, \Delta p| / \rho` is dissipated evenly along the pipe.
    With the loss to the surroundings, :math:`|\dot m| c_p\, dT/dx = -U'(T - T_\mathrm{amb}) + P_f/L`, whose
    exact solution is :func:`pipe_outlet_temperature` plus

    .. math:: \Delta T_\mathrm{out} = \frac{P_f}{|\dot m| c_p}\,\frac{1 - e^{-N}}{N},\qquad
              N = \frac{U' L}{|\dot m| c_p}

    so the water carries off the share :math:`(1 - e^{-N})/N` of :math:`P_f` and the surroundings take the
    rest. Without loss (N = 0) all of it: :math:`\Delta T = \Delta p / (\rho c_p)`, the adiabatic throttling
    of an incompressible liquid.

    Parameters
    ----------
    u_w_per_m_k, length_m, m_kg_s, cp_j_per_kg_k
        As in :func:`pipe_outlet_temperature`; the flow must not be zero.

    Returns
    -------
    float
        :math:`(1 - e^{-N})/N`, in (0, 1].

    Notes
    -----
    Validity: as :func:`pipe_outlet_temperature`, with the friction evenly spread (a uniform pipe), an
    incompressible liquid whose enthalpy rise at constant temperature, :math:`(1 - \beta T)\Delta p/\rho`, is
    neglected against the dissipation (the common district-heating form, :math:`\Delta T = \Delta p/(\rho
    c_p)`). Source: the first law of the pipe with a uniform source; Incropera [1]_ eq. 8.46a for the
    homogeneous part.
    """
    ntu = u_w_per_m_k * length_m / (abs(m_kg_s) * cp_j_per_kg_k)
    if ntu < 1e-8:
        return 1.0 - 0.5 * ntu
    return -math.expm1(-ntu) / ntu
