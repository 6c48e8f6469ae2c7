r"""Electrical energy stores for smoothing AI-training power swings: batteries and capacitor banks, their losses,
their state of charge, the control laws that set their power, and the cycling they accumulate.

Sign convention: a store's **terminal power** ``p_w`` [W] is positive when it discharges (delivers power to the
bus it sits on, so the level above it draws less) and negative when it charges. Its **internal power**
``p_int_w`` = −dE/dt [W] is what leaves (positive) or enters (negative) the stored energy E [J]. The loss
``p_int − p`` ≥ 0 in both directions, so over any interval

    charge in − discharge out = ΔE + losses        (to round-off: :func:`store_step` keeps this exactly)

**Battery** (a pack of open-circuit voltage ``v_oc`` [V] behind its internal resistance ``r`` [Ω], through a
DC/DC converter of efficiency ``eta`` [1] each way; the Thevenin equivalent-circuit model without RC branches,
Plett, *Battery Management Systems, Vol. I: Battery Modeling*, Artech House, 2015, ch. 2): the pack delivers
``p_cell = v_oc·I − r·I²`` at current I; the converter delivers ``p = eta·p_cell`` discharging and draws
``p = p_cell/eta`` charging; E falls at ``v_oc·I``. Valid for |p_cell| < v_oc²/(4r) (the maximum power
transfer limit), a constant v_oc (no dependence on state of charge) and a constant r (no temperature).

**Capacitor / supercapacitor bank** of capacitance ``c`` [F] and equivalent series resistance ``esr`` [Ω]:
the same circuit with the voltage of the charge, v_c = √(2E/c), in place of v_oc; its usable energy between
``v_max`` and ``v_min`` is E = ½·c·(v_max² − v_min²) (:func:`capacitor_energy_j`; e.g. Conway,
*Electrochemical Supercapacitors*, Kluwer Academic/Plenum, 1999, ch. 1).

**Cycling**: equivalent full cycles, counted by rainflow (ASTM E1049-85 (2017), *Standard Practices for
Cycle Counting in Fatigue Analysis*, §5.4.4) on the state-of-charge series: EFC = Σ count·range with the range
in units of the rated energy (a full cycle 0 → 1 → 0 counts 1), through the ``rainflow`` package (a small,
maintained implementation of that standard; not rewritten here). The share of life used is EFC / cycle life,
the linear (Palmgren–Miner) accumulation of Xu et al., "Modeling of Lithium-Ion Battery Degradation for Cell
Life Assessment", IEEE Trans. Smart Grid 9(2), 2018, doi:10.1109/TSG.2016.2578950, at one depth of cycle.

**Control laws** (:data:`CONTROL_LAWS`): each sets the draw d_k the level above the store should see from the
load L_k [W] the store sees; the store's wanted power is L_k − d_k, then limited by its power rating and its
state-of-charge window (:func:`store_step`). The patterns (ramp-rate limits on the draw, peak shaving,
filtering the swing away from the grid) are those of Choukse et al., "Power Stabilization for AI Training
Datacenters", arXiv:2508.14318 (2025), and NVIDIA, "How New GB300 NVL72 Features Provide Steady Power for
AI", NVIDIA Technical Blog (2025), https://developer.nvidia.com/blog/how-new-gb300-nvl72-features-provide-steady-power-for-ai/.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

KIND_BATTERY, KIND_CAPACITOR = 0, 1
STORE_KINDS = {"battery": KIND_BATTERY, "capacitor": KIND_CAPACITOR}
"""Store kinds: name → code of :func:`store_step`."""

LAW_RAMP, LAW_PEAK, LAW_LOW_PASS, LAW_BAND = 0, 1, 2, 3
CONTROL_LAWS = {
    "ramp_limit": (LAW_RAMP, ("ramp_limit_w_per_s",)),
    "peak_shave": (LAW_PEAK, ("peak_limit_w",)),
    "low_pass": (LAW_LOW_PASS, ("corner_hz",)),
    "band": (LAW_BAND, ("band_low_hz", "band_high_hz")),
}
"""Control laws: name → (code of :func:`control_draw`, the store fields it needs).

``ramp_limit``: d_k = d_{k−1} + clip(L_k + r_k − d_{k−1}, ±R·Δt), the draw moves by at most R [W/s];
``peak_shave``: d_k = min(L_k + r_k, P_cap), the draw never above P_cap [W];
``low_pass``: d = first-order low-pass of L + r with corner f_c [Hz], exact for a load held over each step:
d_k = d_{k−1} + (1 − e^{−Δt/τ})·(L_k + r_k − d_{k−1}), τ = 1/(2π f_c);
``band``: the store takes the band [f_lo, f_hi] of the swing, d = L + r − (LP_{f_hi}(L) − LP_{f_lo}(L)),
two first-order low-passes as above (a first-order band-pass);
r_k = (soc_set − soc_k)·E_window/τ_rec, the recharge towards the set state of charge (0 when τ_rec is 0)."""


def capacitor_energy_j(c_f, v_max_v, v_min_v):
    """Usable energy of a capacitor bank between two voltages, E = ½·C·(V_max² − V_min²) [J].

    Parameters
    ----------
    c_f : float or array
        Capacitance of the bank [F].
    v_max_v, v_min_v : float or array
        Highest and lowest voltage of its window [V], 0 ≤ v_min ≤ v_max.

    References
    ----------
    .. [1] B. E. Conway, *Electrochemical Supercapacitors*, Kluwer Academic/Plenum, 1999, ch. 1.
    """
    return 0.5 * np.asarray(c_f) * (np.asarray(v_max_v) ** 2 - np.asarray(v_min_v) ** 2)


@njit(cache=True)
def cell_current_a(p_cell_w, v_w, r_ohm):
    """Current I [A] at which a source of EMF ``v_w`` [V] behind ``r_ohm`` [Ω] delivers ``p_cell_w`` [W]
    (negative: charging): the smaller root of r·I² − v·I + p = 0, I = 2p/(v + √(v² − 4rp)) (the form without
    cancellation). Valid for p ≤ v²/(4r); beyond it the maximum-power current v/(2r) is returned."""
    disc = v_w * v_w - 4.0 * r_ohm * p_cell_w
    if disc <= 0.0:
        return v_w / (2.0 * r_ohm)
    return 2.0 * p_cell_w / (v_w + math.sqrt(disc))


@njit(cache=True)
def internal_power_w(p_w, v_w, r_ohm, eta):
    """Internal power −dE/dt [W] of a store delivering terminal power ``p_w`` [W] (negative: charging) through
    a converter of efficiency ``eta`` [1], from an EMF ``v_w`` [V] behind ``r_ohm`` [Ω] (see the module notes)."""
    p_cell = p_w / eta if p_w > 0.0 else p_w * eta
    return v_w * cell_current_a(p_cell, v_w, r_ohm)


@njit(cache=True)
def terminal_power_w(p_int_w, v_w, r_ohm, eta):
    """Inverse of :func:`internal_power_w`: the terminal power [W] at internal power ``p_int_w`` [W]."""
    i = p_int_w / v_w
    p_cell = v_w * i - r_ohm * i * i
    return p_cell * eta if p_cell > 0.0 else p_cell / eta


@njit(cache=True)
def store_emf_v(kind, energy_j, v_oc_v, c_f):
    """EMF [V] of a store: the battery's constant v_oc, or a capacitor's √(2E/C)."""
    if kind == KIND_CAPACITOR:
        return math.sqrt(2.0 * max(energy_j, 0.0) / c_f)
    return v_oc_v


@njit(cache=True)
def store_step(kind, energy_j, p_want_w, dt_s, p_max_w, e_low_j, e_high_j, v_oc_v, c_f, r_ohm, eta):
    """Advance a store one step of ``dt_s`` [s] at the terminal power it is asked for, ``p_want_w`` [W].

    The power is first limited to ±``p_max_w`` [W] and to what the pack can give (v²/(4r)), then so that the
    stored energy stays within [``e_low_j``, ``e_high_j``] [J] at the end of the step (the step that reaches
    a limit lands on it). A capacitor's EMF is taken at the start of the step (explicit in E; the energy
    ledger below is exact whatever the step).

    Returns
    -------
    (p_w, energy_j, loss_w)
        Terminal power held [W], energy at the end of the step [J] = E − p_int·Δt exactly, and the loss
        p_int − p ≥ 0 [W].
    """
    v = store_emf_v(kind, energy_j, v_oc_v, c_f)
    p = min(max(p_want_w, -p_max_w), p_max_w)
    if v <= 0.0:  # an empty capacitor can only charge; take its charging EMF as its lowest window voltage
        v = store_emf_v(kind, e_low_j, v_oc_v, c_f)
        if v <= 0.0 or p > 0.0:
            return 0.0, energy_j, 0.0
    p_int = internal_power_w(p, v, r_ohm, eta)
    if energy_j - p_int * dt_s < e_low_j:  # would go below the window: give only what is above it
        p_int = max(energy_j - e_low_j, 0.0) / dt_s
        p = terminal_power_w(p_int, v, r_ohm, eta)
    elif energy_j - p_int * dt_s > e_high_j:  # would overfill
        p_int = min(energy_j - e_high_j, 0.0) / dt_s
        p = terminal_power_w(p_int, v, r_ohm, eta)
    return p, energy_j - p_int * dt_s, p_int - p


@njit(cache=True)
def control_draw(law, load_w, state, prev_draw_w, recharge_w, dt_s, par0, par1):
    """The draw [W] a control law wants the level above to see at this step (see :data:`CONTROL_LAWS`);
    ``state`` (two floats) holds the filters' memory and is updated in place; ``par0``, ``par1`` the law's
    parameters in the order of :data:`CONTROL_LAWS`."""
    target = load_w + recharge_w
    if law == LAW_RAMP:
        step = par0 * dt_s
        return prev_draw_w + min(max(target - prev_draw_w, -step), step)
    if law == LAW_PEAK:
        return min(target, par0)
    if law == LAW_LOW_PASS:
        a = -math.expm1(-dt_s * 2.0 * math.pi * par0)
        state[0] += a * (target - state[0])
        return state[0]
    # LAW_BAND: state[0] low-passes at the low corner, state[1] at the high corner
    a_lo = -math.expm1(-dt_s * 2.0 * math.pi * par0)
    a_hi = -math.expm1(-dt_s * 2.0 * math.pi * par1)
    state[0] += a_lo * (load_w - state[0])
    state[1] += a_hi * (load_w - state[1])
    return target - (state[1] - state[0])


@njit(cache=True)
def run_store(load_w, dt_s, kind, law, par0, par1, p_max_w, e_rated_j, soc_min, soc_max, soc_set, soc0,
              recovery_s, v_oc_v, c_f, r_ohm, eta, no_export, p_store, energy, loss, wanted):
    """Run one store along a load series ``load_w`` [W] (what it sees), step ``dt_s`` [s]: at each step the
    control law's draw (:func:`control_draw`), the wanted terminal power L − d, the store's step
    (:func:`store_step`). With ``no_export`` the store never delivers more than the load (the bus never feeds
    back). Fills ``p_store`` [W], ``energy`` [J] (at the end of each step), ``loss`` [W] and ``wanted`` [W]
    (what the law asked, before the store's limits)."""
    e_low, e_high = soc_min * e_rated_j, soc_max * e_rated_j
    e = soc0 * e_rated_j
    state = np.empty(2)
    state[0] = load_w[0]
    state[1] = load_w[0]
    draw = load_w[0]
    for k in range(load_w.size):
        rec = 0.0
        if recovery_s > 0.0:
            rec = (soc_set - e / e_rated_j) * (e_high - e_low) / recovery_s
        d = control_draw(law, load_w[k], state, draw, rec, dt_s, par0, par1)
        want = load_w[k] - d
        if no_export and want > load_w[k]:
            want = load_w[k]
        p, e, lo = store_step(kind, e, want, dt_s, p_max_w, e_low, e_high, v_oc_v, c_f, r_ohm, eta)
        p_store[k], energy[k], loss[k], wanted[k] = p, e, lo, want
        draw = load_w[k] - p


def battery_round_trip_efficiency(p_w, v_oc_v, r_ohm, eta):
    """Round-trip efficiency [1] of a battery charged and then discharged at the same terminal power
    ``p_w`` [W] > 0 (the energy out over the energy in, E restored): η_rt = η_c²·(v·I_d − r·I_d²)/(v·I_d) ·
    (v·|I_c|)/(v·|I_c| + r·I_c²), with I_d the discharge current at p_cell = p/η_c and I_c the charge current at
    p_cell = −p·η_c (:func:`cell_current_a`; closed form of the module's circuit).

    References
    ----------
    .. [1] G. L. Plett, *Battery Management Systems, Vol. I: Battery Modeling*, Artech House, 2015, ch. 2.
    """
    p, v, r, eta = (np.asarray(x, dtype=float) for x in (p_w, v_oc_v, r_ohm, eta))
    p_d, p_c = p / eta, -p * eta
    i_d = 2 * p_d / (v + np.sqrt(v * v - 4 * r * p_d))
    i_c = 2 * p_c / (v + np.sqrt(v * v - 4 * r * p_c))
    return eta * eta * (v * i_d - r * i_d ** 2) / (v * i_d) * (v * -i_c) / (v * -i_c + r * i_c ** 2)


def first_order_square_response(t_s, tau_s, high, low, period_s, duty, y0):
    """Exact response of the first-order lag τ·dy/dt = u − y to a square wave u (``high`` for the first
    ``duty``·``period_s`` [s] of each period, ``low`` for the rest) from y(0) = ``y0``, at times ``t_s`` [s].

    Over one phase of length T at level u: y(t) = u + (y_start − u)·e^{−t/τ}; the values at the period
    starts obey y_{n+1} = c + a·b·y_n with a = e^{−t_h/τ}, b = e^{−t_l/τ}, c = low·(1 − b) + b·high·(1 − a), so
    y_n = y* + (ab)ⁿ(y0 − y*) with the periodic value y* = c/(1 − ab). Units follow ``high``/``low``.

    References
    ----------
    .. [1] K. Ogata, *Modern Control Engineering*, 5th ed., Prentice Hall, 2010, §5-2 (first-order systems).
    """
    t = np.asarray(t_s, dtype=float)
    t_h, t_l = duty * period_s, (1 - duty) * period_s
    a, b = np.exp(-t_h / tau_s), np.exp(-t_l / tau_s)
    c = low * (1 - b) + b * high * (1 - a)
    y_star = c / (1 - a * b)
    n = np.floor(t / period_s)
    y_n = y_star + (a * b) ** n * (y0 - y_star)
    r = t - n * period_s
    y_h = high + (y_n - high) * np.exp(-np.minimum(r, t_h) / tau_s)
    y_end_high = high + (y_n - high) * a
    y_l = low + (y_end_high - low) * np.exp(-(r - t_h) / tau_s)
    return np.where(r < t_h, y_h, y_l)


def equivalent_full_cycles(soc) -> float:
    """Equivalent full cycles [1] of a state-of-charge series ``soc`` [1] (of the rated energy) by rainflow
    counting: Σ count·range, half cycles counting ½ (ASTM E1049-85, §5.4.4, through the ``rainflow`` package).

    References
    ----------
    .. [1] ASTM E1049-85 (2017), *Standard Practices for Cycle Counting in Fatigue Analysis*.
    """
    import rainflow

    s = np.asarray(soc, dtype=float)
    if s.size < 3 or np.ptp(s) == 0:
        return 0.0
    return float(sum(rng * count for rng, count in rainflow.count_cycles(s)))
