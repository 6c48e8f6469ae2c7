"""Models of the traditional AC power chain of a data hall: transformers, double-conversion UPS, server power
supplies, and the three-phase low-voltage conductors between them.

Pure, vectorised functions in SI units (W, V, A, Ω, m). The UPS and the server power supplies are efficiency
curves against load, built through the loss-model registry of :mod:`gigawatt.models.converter_losses`
(kind ``efficiency_curve``); the transformer is the registry's kind ``transformer``
(:class:`gigawatt.models.converter_losses.TransformerLoss`, which calls :func:`transformer_loss_w`).

Each constant names its source (listed below); where no published figure stands behind a number the
constant says **assumption**, and where the figure was not checked against its source it says **unverified**.

References
----------
.. [1] 80 PLUS program (Ecos Consulting and EPRI; now run by CLEAResult), efficiency levels of 230 V internal
   redundant power supplies, https://www.clearesult.com/80plus/program-details: 80 PLUS Titanium 90 / 94 /
   96 / 91 % at 10 / 20 / 50 / 100 % load.
.. [2] Riello UPS, "What Is UPS Efficiency And How Is It Calculated?" (web page, undated),
   https://www.riello-ups.com/questions/53-what-is-ups-efficiency-and-how-is-it-calculated: a
   double-conversion UPS at 20-25 % load about 85 % efficient.
.. [3] Double-conversion UPS vendor datasheets (no datasheet named): about 94-95 % at 25 % load, 96-97 %
   at 50-100 %. Assumption: commonly quoted figures, not checked against a primary source.
.. [4] US Department of Energy, energy conservation standards for distribution transformers, 10 CFR
   431.196 (levels in force from 1 January 2016), https://www.ecfr.gov/current/title-10/section-431.196:
   efficiency stated at 50 % load for medium-voltage units, at 35 % for low-voltage dry-type units. The
   99.2-99.5 % at 50 % load used here for an MV unit is unverified: not read in the standard's tables.
.. [5] IEC 60076-1, Power transformers - Part 1: General (no-load loss and load loss as the guaranteed
   quantities: the two-term loss model).
"""
from __future__ import annotations

import math

import numpy as np

SQRT3 = math.sqrt(3.0)

UPS_DOUBLE_CONVERSION_MODERN = {
    "kind": "efficiency_curve",
    "load_fraction": [0.25, 0.5, 1.0],
    "efficiency": [0.945, 0.965, 0.965],
}
"""Double-conversion UPS, modern: 94.5 % at 25 % load, 96.5 % at 50 % and 100 % (the midpoints of "about
94–95 % at 25 % load, 96–97 % at 50–100 %"). Source: double-conversion UPS vendor datasheets [3] (none named;
**unverified**: commonly quoted figures, not checked against a primary source). Below 25 % load the curve is
clamped at 94.5 % (the registry's rule)."""

UPS_DOUBLE_CONVERSION_LEGACY = {
    "kind": "efficiency_curve",
    "load_fraction": [0.2, 0.25, 1.0],
    "efficiency": [0.85, 0.85, 0.85],
}
"""Double-conversion UPS, legacy: about 85 % at 20–25 % load (Riello UPS, "What Is UPS Efficiency And How Is It
Calculated?", https://www.riello-ups.com/questions/53-what-is-ups-efficiency-and-how-is-it-calculated [2]).
Only that operating point is sourced: the flat curve is an **assumption**."""

PSU_TITANIUM = {
    "kind": "efficiency_curve",
    "load_fraction": [0.1, 0.2, 0.5, 1.0],
    "efficiency": [0.90, 0.94, 0.96, 0.91],
}
"""Server power supply, 80 PLUS Titanium 230 V internal redundant, 90 / 94 / 96 / 91 % at 10 / 20 / 50 / 100 %
load (80 PLUS program, efficiency levels, https://www.clearesult.com/80plus/program-details [1]; the same
table as :data:`gigawatt.models.converter_losses.TITANIUM_230V_REDUNDANT`). Fed at 240 V phase-to-neutral by
415/240 V distribution."""

MV_TRANSFORMER = {"kind": "transformer", "no_load_loss_fraction": 0.001, "load_loss_fraction": 0.008,
                  "power_factor": 0.95}
"""Medium-voltage distribution transformer (MV → 415 V): no-load loss 0.1 % and load loss 0.8 % of rating,
which gives 99.4 % at 50 % load, inside the 99.2–99.5 % at 50 % load attributed to the US DOE standard for
distribution transformers, 10 CFR 431.196 (2016 levels) [4] (**unverified**: not read in the standard's
tables). The split between no-load and load loss is an **assumption** (a typical 1:8 ratio for a
liquid-filled unit of a few MVA)."""

PDU_TRANSFORMER = {"kind": "transformer", "no_load_loss_fraction": 0.0025, "load_loss_fraction": 0.012,
                   "power_factor": 0.95}
"""PDU transformer (low-voltage dry type): no-load 0.25 %, load loss 1.2 % of rating: 98.87 % at 35 % load.
**Assumption**: no published figure was checked; chosen near the US DOE 2016 minimum for low-voltage dry-type
units of 150–225 kVA (about 98.8–98.9 % at 35 % load, 10 CFR 431.196, from memory, unverified)."""

POWER_FACTOR = 0.95
"""Power factor of the server power supplies seen by the 415 V distribution. **Assumption**: active PFC
front ends run above 0.95 at half load and more (no published figure checked)."""


def three_phase_current(p_w, v_ll_v, power_factor=1.0):
    r"""Line current of a balanced three-phase load.

    .. math:: I = \frac{P}{\sqrt{3}\, V_\mathrm{LL}\, \cos\varphi}

    Parameters
    ----------
    p_w : array_like
        Active power [W].
    v_ll_v : array_like
        Line-to-line voltage [V] (415 V for 415/240 V distribution).
    power_factor : array_like, default 1
        cos φ [-], in (0, 1].

    Returns
    -------
    numpy.ndarray
        Current in each phase conductor [A].

    Notes
    -----
    Validity: balanced, sinusoidal (harmonic currents not included). Source: definition of three-phase
    power, P = √3 V_LL I cos φ (any power-systems text, e.g. Grainger & Stevenson, Power System Analysis, ch. 2).

    Examples
    --------
    >>> round(float(three_phase_current(1e6, 415.0)), 3)
    1391.205
    """
    return np.asarray(p_w, dtype=float) / (SQRT3 * np.asarray(v_ll_v, dtype=float) * np.asarray(power_factor, dtype=float))


def three_phase_conductor_loss_w(p_w, v_ll_v, r_phase_ohm, power_factor=1.0):
    r"""Joule loss in the three phase conductors of a balanced three-phase circuit.

    .. math:: P_\mathrm{loss} = 3\, I^2 R_\mathrm{phase}, \qquad I = \frac{P}{\sqrt{3}\, V_\mathrm{LL} \cos\varphi}
              \;\Rightarrow\; P_\mathrm{loss} = \frac{P^2 R_\mathrm{phase}}{V_\mathrm{LL}^2 \cos^2\varphi}

    Parameters
    ----------
    p_w : array_like
        Active power carried [W].
    v_ll_v : array_like
        Line-to-line voltage [V].
    r_phase_ohm : array_like
        Resistance of one phase conductor [Ω] (ρ L / A).
    power_factor : array_like, default 1
        cos φ [-].

    Returns
    -------
    numpy.ndarray
        Loss [W]; the neutral carries no current in a balanced circuit and adds none.

    Notes
    -----
    Validity: balanced, sinusoidal, resistance at the operating temperature (skin effect neglected: below
    1 % for copper up to about 240 mm² at 50 Hz). Source: Joule's law per conductor.

    Examples
    --------
    1 MW at 415 V, unity power factor, 1 mΩ per phase:

    >>> round(float(three_phase_conductor_loss_w(1e6, 415.0, 1e-3)), 3)
    5806.358
    """
    i = three_phase_current(p_w, v_ll_v, power_factor)
    return 3.0 * i * i * np.asarray(r_phase_ohm, dtype=float)


def per_phase_loop_factor(power_factor):
    r"""Loop factor that makes a two-wire DC line of voltage V_LL lose what a balanced three-phase line does.

    A DC line at voltage :math:`V_\mathrm{LL}` carrying P has current :math:`P/V_\mathrm{LL}`; with loop
    resistance :math:`k\,\rho L/A` it loses :math:`P^2 k R_\mathrm{phase} / V_\mathrm{LL}^2`. Equal to
    :func:`three_phase_conductor_loss_w` for

    .. math:: k = 1 / \cos^2\varphi

    At unity power factor the equivalence is exact for voltages too (phase voltage drop I·R in phase with the
    current, √3 I R line to line = the DC drop). Below unity the voltage drop of the equivalent is
    √3 I R / cos φ instead of about √3 I (R cos φ + X sin φ): a second-order effect on the losses, which the
    cross-code validation against pandapower's balanced load flow bounds.

    Parameters
    ----------
    power_factor : float
        cos φ [-], in (0, 1].

    Returns
    -------
    float
        Loop factor [-] for the ``line.loop_factor`` field.
    """
    return 1.0 / (power_factor * power_factor)


def transformer_loss_w(p_out_w, rated_va, no_load_loss_fraction, load_loss_fraction, power_factor=1.0):
    r"""Loss of a transformer: a constant no-load (core) loss and a load (copper) loss in the square of loading.

    .. math:: x = \frac{P_\mathrm{out}}{S_r \cos\varphi}, \qquad
              P_\mathrm{loss} = S_r\,(p_0 + p_k\, x^2)

    Parameters
    ----------
    p_out_w : array_like
        Active output power [W], >= 0.
    rated_va : array_like
        Rated apparent power S_r [VA].
    no_load_loss_fraction : float
        No-load loss p_0 as a fraction of S_r [-].
    load_loss_fraction : float
        Load loss at rated current p_k as a fraction of S_r [-].
    power_factor : float, default 1
        cos φ of the load [-].

    Returns
    -------
    numpy.ndarray
        Loss [W].

    Notes
    -----
    Validity: 0 <= x <= about 1.2, at the rated voltage (core loss taken constant), copper at its reference
    temperature (the load loss's temperature rise is folded into p_k). Voltage regulation is not modelled.
    Efficiency is highest at x = √(p_0/p_k). Source: the standard two-term loss model of IEC 60076-1
    (no-load loss and load loss as the guaranteed quantities); DOE 10 CFR 431 states efficiency at 50 % (MV)
    or 35 % (LV) load (10 CFR 431.196, https://www.ecfr.gov/current/title-10/section-431.196).

    Examples
    --------
    A 2.5 MVA unit at 50 % loading, p_0 = 0.1 %, p_k = 0.8 %, unity power factor: loss 2.5e6 (0.001 +
    0.008·0.25) = 7.5 kW on 1.25 MW, 99.4 %:

    >>> float(transformer_loss_w(1.25e6, 2.5e6, 0.001, 0.008))
    7500.0
    """
    rated = np.asarray(rated_va, dtype=float)
    x = np.asarray(p_out_w, dtype=float) / (rated * power_factor)
    return rated * (no_load_loss_fraction + load_loss_fraction * x * x)


def chain_efficiency(efficiencies) -> float:
    r"""Efficiency of conversion stages in series, :math:`\eta = \prod_k \eta_k` [-] (each at its own operating
    point). Source: definition of efficiency, P_out/P_in, applied stage by stage."""
    return float(np.prod(np.asarray(efficiencies, dtype=float)))
