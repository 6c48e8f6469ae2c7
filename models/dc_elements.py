"""DC network elements beyond sources and racks: the AC/DC station's loss on its AC-side current (two-way, as
MatACDC gives it), the power of a constant-conductance load, and the P–V characteristic of a terminal that
holds a set power between voltage limits.

Sign conventions (SI, one per quantity):

- ``p_dc_w``: power a station or terminal injects into the DC bus [W]; positive when it feeds the DC network
  (a rectifier, a discharging battery), negative when it draws from it (an inverter, a charging battery).
- ``p_ac_w``: power a station draws from its AC grid [W]; positive when rectifying, negative when inverting
  (it then feeds the AC grid). ``p_ac_w = p_dc_w + loss_w`` either way: the loss is always drawn.
- ``q_ac_var``: reactive power the station exchanges on its AC side [var]; only its magnitude enters the
  current, so its sign convention does not matter here.
- ``v_ac_v``: line-to-line rms voltage on the converter's AC side [V].

References
----------
.. [1] J. Beerten, R. Belmans, "Development of an open source power flow software for high voltage direct
   current grids and hybrid AC/DC systems: MATACDC", IET Generation, Transmission & Distribution 9(10),
   966–974, 2015, doi:10.1049/iet-gtd.2015.0040.
.. [2] J. Beerten, S. Cole, R. Belmans, "Generalized Steady-State VSC MTDC Model for Sequential AC/DC Power
   Flow Algorithms", IEEE Trans. Power Systems 27(2), 821–829, 2012, doi:10.1109/TPWRS.2011.2177867.
.. [3] G. Daelemans, "VSC HVDC in meshed networks", MSc thesis, KU Leuven, 2008 (the loss coefficients
   MatACDC's case files carry).
"""
from __future__ import annotations

import numpy as np

SQRT3 = float(np.sqrt(3.0))

P_MODE, AT_V_MIN, AT_V_MAX = 0, 1, 2
"""Operating modes of a set-power terminal: holding its set power, or holding its lower or upper voltage limit."""
TERMINAL_MODES = ("set_power", "at_v_min", "at_v_max")


def station_ac_current_a(p_ac_w, q_ac_var, v_ac_v):
    r"""Phase current [A] on the AC side of a three-phase converter.

    .. math:: I_c = \frac{\sqrt{P_c^2 + Q_c^2}}{\sqrt{3}\,U_c}

    ``p_ac_w`` [W], ``q_ac_var`` [var], ``v_ac_v`` line-to-line rms voltage [V] (> 0). MatACDC writes the same
    current in per unit, :math:`I_c = |S_c|/U_c`, whose base current is :math:`S_b/(\sqrt{3} U_b)` [1]_.

    References
    ----------
    .. [1] J. Beerten, R. Belmans, MATACDC, IET GTD 9(10), 2015, doi:10.1049/iet-gtd.2015.0040.
    """
    return np.hypot(p_ac_w, q_ac_var) / (SQRT3 * np.asarray(v_ac_v, dtype=float))


def station_loss_ac_current_w(p_ac_w, q_ac_var, v_ac_v, a_w, b_v, c_rect_ohm, c_inv_ohm):
    r"""Loss [W] of a VSC station from its AC-side current, with its own quadratic coefficient each way.

    .. math:: P_\mathrm{loss} = a + b\,I_c + c\,I_c^2, \qquad
              c = c_\mathrm{rect}\ \text{if}\ P_c \ge 0\ \text{(rectifier)}, \quad
              c_\mathrm{inv}\ \text{if}\ P_c < 0\ \text{(inverter)}

    with :math:`I_c` from :func:`station_ac_current_a`.

    Parameters
    ----------
    p_ac_w : array_like
        Power drawn from the AC side [W] (positive rectifying, negative inverting).
    q_ac_var : array_like
        Reactive power on the AC side [var].
    v_ac_v : array_like
        Line-to-line rms voltage on the converter's AC side [V], > 0.
    a_w, b_v, c_rect_ohm, c_inv_ohm : array_like
        No-load loss [W], loss per ampere [V], loss per ampere squared rectifying and inverting [Ω], all >= 0.

    Notes
    -----
    MatACDC's case files give a [MW], b [kV] and c [Ω] for the current in kA; since kV·kA = MW and Ω·kA² = MW,
    the same digits hold in SI with the current in A: ``a_w = 1e6·a``, ``b_v = 1e3·b``, ``c_ohm = c`` (its
    ``runacdcpf`` turns them into per unit with the base current :math:`S_b/(\sqrt{3} U_b)`). Validity: any
    operating point with ``v_ac_v > 0``; the coefficients of case5_stagg_MTDCslack (a = 1.103 MW,
    b = 0.887 kV, LossCrec = 2.885 Ω, LossCinv = 4.371 Ω) describe a few-hundred-MW station at 345 kV.
    Direction: here ``c_rect_ohm`` applies while the station draws from its AC side. MatACDC's ``calclossac``
    applies LossCrec while its P_c, the power the converter *generates into* the AC grid, is positive, i.e.
    while it inverts (MatACDC 1.0's own case5 output confirms it: the rectifying converter 1 loses 1.288762 MW
    only with 4.371 Ω); to reproduce MatACDC's numbers give ``c_rect_ohm`` = LossCinv and
    ``c_inv_ohm`` = LossCrec (validation case ``crosscode_matacdc_case5``).

    References
    ----------
    .. [1] J. Beerten, R. Belmans, MATACDC, IET GTD 9(10), 2015, doi:10.1049/iet-gtd.2015.0040 (the loss
       model and its per-unit form; ``calclossac`` chooses the coefficient by the sign of P_c).
    .. [2] G. Daelemans, "VSC HVDC in meshed networks", MSc thesis, KU Leuven, 2008.
    """
    i = station_ac_current_a(p_ac_w, q_ac_var, v_ac_v)
    c = np.where(np.asarray(p_ac_w) >= 0.0, c_rect_ohm, c_inv_ohm)
    return a_w + b_v * i + c * i * i


def station_ac_power_w(p_dc_w, q_ac_var, v_ac_v, a_w, b_v, c_rect_ohm, c_inv_ohm, *, tolerance_w=1e-9,
                       max_iterations=50):
    r"""AC-side power [W] and loss [W] of a station that delivers ``p_dc_w`` into the DC bus (signed).

    Solves :math:`P_c = P_\mathrm{dc} + P_\mathrm{loss}(P_c)` (:func:`station_loss_ac_current_w`) by Newton's
    method, vectorised; the loss is convex in :math:`P_c` and its slope :math:`|dP_\mathrm{loss}/dP_c| < 1`
    wherever the station is below the current at which its loss would equal the power it carries, so the
    iteration converges from :math:`P_c = P_\mathrm{dc}` in a few steps. With :math:`Q_c = 0` the answer is
    the root of a quadratic in the current (see the validation case ``analytic_station_ac_current``).

    ``tolerance_w`` [W]: the iteration stops when no station's :math:`P_c` moves by more than it (relative to
    1 + |P_dc|). Raises ``ValueError`` if a station has no solution (its loss exceeds any power it could
    carry): the caller names the element.

    References
    ----------
    .. [1] J. Beerten, R. Belmans, MATACDC, IET GTD 9(10), 2015, doi:10.1049/iet-gtd.2015.0040 (MATACDC
       iterates the slack and droop converters' AC-side power against the same loss model).
    """
    p_dc = np.asarray(p_dc_w, dtype=float)
    p = p_dc + np.asarray(a_w, dtype=float)  # the no-load loss first
    k = SQRT3 * np.asarray(v_ac_v, dtype=float)
    q = np.asarray(q_ac_var, dtype=float)
    for _ in range(max_iterations):
        s = np.hypot(p, q)
        i = s / k
        c = np.where(p >= 0.0, c_rect_ohm, c_inv_ohm)
        loss = a_w + b_v * i + c * i * i
        di_dp = np.divide(p, s * k, out=np.zeros_like(s), where=s > 0)
        f = p - p_dc - loss
        df = 1.0 - (b_v + 2.0 * c * i) * di_dp
        if np.any(df <= 0.0):
            raise ValueError("the station's loss grows faster than the power it carries: no operating point")
        step = f / df
        p = p - step
        if np.all(np.abs(step) <= tolerance_w * (1.0 + np.abs(p_dc))):
            return p, p - p_dc
    raise ValueError(f"the station's AC-side power did not settle in {max_iterations} Newton steps")


def conductance_load_w(g_s, v_v):
    r"""Power [W] drawn by a constant-conductance load: :math:`P = G V^2` (``g_s`` [S] >= 0, ``v_v`` [V]).

    A resistive load (heaters, a braking resistor, a leakage path) whose power falls with the square of its
    voltage, unlike the constant-power racks. Source: Ohm's and Joule's laws.
    """
    return g_s * np.square(v_v)
