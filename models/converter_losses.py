"""Loss models of power converters (rectifiers, DC/DC stages, server power supplies).

Each model is a frozen dataclass built from a parameter dict by ``from_params`` (which validates every
parameter and raises :class:`~gigawatt.errors.CaseError` naming the model, field, value and allowed
range) and evaluated by ``loss_w(p_out_w, v_out_v, rated_power_w)``, vectorised over numpy arrays
broadcast together. A model is chosen by its kind through the registry :data:`LOSS_MODELS`.

Sign convention: ``p_out_w`` is the power delivered at the converter output [W]; the input draws
``p_out_w + loss_w``. Losses are >= 0. Errors raised by ``loss_w`` (bad operating point) name the field
and value but no element, since a model does not know where it is used: add it with
``CaseError.located(element=...)``.

References
----------
.. [1] 80 PLUS program (Ecos Consulting and EPRI; now run by CLEAResult), efficiency levels of 230 V internal
   redundant power supplies, https://www.clearesult.com/80plus/program-details: 80 PLUS Titanium 90 / 94 /
   96 / 91 % at 10 / 20 / 50 / 100 % load (:data:`TITANIUM_230V_REDUNDANT`).
.. [2] Renesas Electronics, conference talk on an 800 V to 48 V GaN LLC DC/DC converter: 98 % efficiency
   (speaker, venue, year and title not recorded, so the talk is not pinned down further).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError

TITANIUM_230V_REDUNDANT = {
    "kind": "efficiency_curve",
    "load_fraction": [0.1, 0.2, 0.5, 1.0],
    "efficiency": [0.90, 0.94, 0.96, 0.91],
}
"""Server PSU, 80 PLUS Titanium, 230 V internal redundant: 90 / 94 / 96 / 91 % at 10 / 20 / 50 / 100 %
load. Source: 80 PLUS program, efficiency levels of 230 V internal redundant supplies,
https://www.clearesult.com/80plus/program-details [1]."""

SST_98 = {"kind": "constant_efficiency", "efficiency": 0.98}
"""Solid-state-transformer station at a constant 98 %: J. W. Kolar, J. E. Huber, solid-state transformer
tutorial, IEEE APEC 2023 (SST efficiency about 97.5-98.5 %)."""

SHELF_800_50 = {"kind": "efficiency_curve", "load_fraction": [0.1, 0.2, 0.5, 1.0],
                "efficiency": [0.95, 0.97, 0.98, 0.975]}
"""800 V -> 50 V rack power shelf: 98 % at half load (GaN LLC DC/DC converters, Renesas conference talk on
800 VDC power delivery); the part-load shape around that peak (95 / 97 / 98 / 97.5 % at 10 / 20 / 50 /
100 % load) is an assumption, chosen so that the loss rises with load."""

BUILT_IN_MODELS = {"sst_98": SST_98, "shelf_800_50": SHELF_800_50}
"""Loss models a case may name without defining them (the campus builder's defaults, the bundled case's
models); a case's own ``[loss_models]`` entry of the same name wins."""


# --- validation helpers ----------------------------------------------------------------------------

def _element(name):
    return f"loss model '{name}'"


def _check_keys(cls, params, name):
    """Every field of ``cls.FIELDS`` present, nothing else."""
    known = [f[0] for f in cls.FIELDS]
    for key, value in params.items():
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise CaseError(f"unknown parameter for kind '{cls.KIND}'{hint}", element=_element(name), field=key,
                            value=value, allowed="one of " + ", ".join(known))
    for key in known:
        if key not in params:
            raise CaseError(f"missing parameter for kind '{cls.KIND}'", element=_element(name), field=key,
                            allowed="required")


def _number(value, *, name, field, low, high=math.inf, low_open=False, allowed):
    """A finite real number in [low, high] (or (low, high] if ``low_open``), as float."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        raise CaseError("out of range or not a number", element=_element(name), field=field,
                        value=value, allowed=allowed)
    return value


def _as_arrays(p_out_w, v_out_v, rated_power_w):
    p, v, rated = (np.asarray(x, dtype=float) for x in (p_out_w, v_out_v, rated_power_w))
    if p.shape == v.shape == rated.shape:  # (a series' arrays, one per element: nothing to broadcast)
        return p, v, rated
    return np.broadcast_arrays(p, v, rated)


def _check_p_out(p):
    if np.any(p < 0):
        raise CaseError("output power must be >= 0 for a unidirectional converter", field="p_out_w",
                        value=float(p[p < 0].flat[0]), allowed=">= 0")


# --- models ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuadraticLoss:
    r"""Converter loss as a quadratic function of its current (VSC station model).

    .. math:: P_\mathrm{loss} = a + b\,|I| + c\,I^2, \qquad I = P_\mathrm{out} / V_\mathrm{out}

    Parameters
    ----------
    a_w : float
        No-load loss [W], >= 0.
    b_v : float
        Loss proportional to current (switching and diode forward drop) [V], >= 0.
    c_ohm : float
        Loss proportional to current squared (conduction) [Ohm], >= 0.

    Notes
    -----
    Validity: any operating point with ``v_out_v > 0``; power may flow either way (|I|). The current
    here is the output current ``p_out/v_out``; MatACDC applies the same form to the AC-side current of
    a VSC, so coefficients taken from MatACDC are exact only when that is the current meant.

    MatACDC's case data, ``a = 1.103 MW, b = 0.887 kV, c = 2.885 Ohm`` with I in kA, convert to SI
    unchanged in the digits: ``a_w = 1.103e6``, ``b_v = 887``, ``c_ohm = 2.885`` with I in A, because
    kV x kA = MW = 1e6 W and Ohm x kA^2 = MW as well (the test suite checks this).

    References
    ----------
    .. [1] J. Beerten, S. Cole, R. Belmans, "Generalized Steady-State VSC MTDC Model for Sequential
       AC/DC Power Flow Algorithms", IEEE Trans. Power Systems 27(2), 821-829, 2012,
       doi:10.1109/TPWRS.2011.2177867 (MatACDC).
    .. [2] G. Daelemans, "VSC HVDC in meshed networks", MSc thesis, KU Leuven, 2008.
    """

    KIND: ClassVar[str] = "quadratic"
    USES_RATING: ClassVar[bool] = False  # loss_w reads rated_power_w (the load fraction)
    FIELDS: ClassVar[tuple] = (
        ("a_w", "W", "no-load loss"),
        ("b_v", "V", "loss per ampere of output current"),
        ("c_ohm", "Ohm", "loss per ampere squared of output current"),
    )
    a_w: float
    b_v: float
    c_ohm: float

    @classmethod
    def from_params(cls, params: dict, *, name: str) -> "QuadraticLoss":
        """Build from a parameter dict; raises CaseError naming ``name``, field, value and range."""
        _check_keys(cls, params, name)
        return cls(**{f: _number(params[f], name=name, field=f, low=0.0, allowed=">= 0")
                      for f, _, _ in cls.FIELDS})

    def loss_w(self, p_out_w, v_out_v, rated_power_w, *, ratings_checked: bool = False):
        """Loss [W] at output power ``p_out_w`` [W] and output voltage ``v_out_v`` [V] (> 0).

        ``rated_power_w`` [W] is accepted for a common signature and not used. ``ratings_checked``: the caller
        has had these voltages checked by an earlier call (a time series' constant ones): not checked again.
        """
        p, v, _ = _as_arrays(p_out_w, v_out_v, rated_power_w)
        if not ratings_checked and np.any(v <= 0):
            raise CaseError(f"output voltage must be > 0 for loss model kind '{self.KIND}'",
                            field="v_out_v", value=float(v[v <= 0].flat[0]), allowed="> 0")
        i = np.abs(p / v)
        return self.a_w + self.b_v * i + self.c_ohm * i * i


@dataclass(frozen=True)
class EfficiencyCurveLoss:
    r"""Converter loss from a tabulated efficiency curve against load fraction.

    .. math:: x = P_\mathrm{out}/P_\mathrm{rated}, \quad
              \eta(x) = \text{linear interpolation of the table, clamped at its end points}, \quad
              P_\mathrm{loss} = P_\mathrm{out}\,(1/\eta(x) - 1)

    Parameters
    ----------
    load_fraction : list of float
        Load points x [-], strictly increasing, > 0, at least 2.
    efficiency : list of float
        Efficiency at each load point [-], in (0, 1].

    Notes
    -----
    Validity: 0 <= p_out; the table's range of load; outside it the efficiency of the nearest end point
    is used, so the loss goes to 0 at no load (a real supply has a no-load loss this model omits).

    The tabulated loss x (1/eta - 1) must not fall as load rises; ``from_params`` refuses such a table
    and names the point. This is stricter than the physical need, input power x/eta rising with output,
    and implies it. Between table points the input power x/eta(x) is then monotone as well (on each
    segment its derivative has the sign of eta_i - s x_i, s the slope, so it cannot turn), although
    the loss itself may dip slightly inside a segment where efficiency rises (Titanium 230 V:
    loss/rating 1.32 % at x = 0.17, 1.28 % at x = 0.2).

    References
    ----------
    .. [1] 80 PLUS program (Ecos Consulting and EPRI; now run by CLEAResult), efficiency levels, 80 PLUS
       Titanium 230 V internal redundant: 90 / 94 / 96 / 91 % at 10 / 20 / 50 / 100 % load,
       https://www.clearesult.com/80plus/program-details (see :data:`TITANIUM_230V_REDUNDANT`).
    """

    KIND: ClassVar[str] = "efficiency_curve"
    USES_RATING: ClassVar[bool] = True  # loss_w reads rated_power_w (the load fraction)
    FIELDS: ClassVar[tuple] = (
        ("load_fraction", "1", "load points as output power over rated power, strictly increasing, > 0"),
        ("efficiency", "1", "efficiency at each load point, in (0, 1]"),
    )
    load_fraction: tuple
    efficiency: tuple

    @classmethod
    def from_params(cls, params: dict, *, name: str) -> "EfficiencyCurveLoss":
        """Build from a parameter dict; raises CaseError naming ``name``, field, value and range."""
        _check_keys(cls, params, name)
        lists = {}
        for field in ("load_fraction", "efficiency"):
            value = params[field]
            if not isinstance(value, (list, tuple, np.ndarray)) or len(value) < 2:
                raise CaseError("must be a list of at least 2 numbers", element=_element(name), field=field,
                                value=value, allowed="list of >= 2 numbers")
            lists[field] = value
        x, eta = lists["load_fraction"], lists["efficiency"]
        if len(x) != len(eta):
            raise CaseError(f"must have as many entries as load_fraction ({len(x)})", element=_element(name),
                            field="efficiency", value=list(eta), allowed=f"{len(x)} entries")
        x = tuple(_number(v, name=name, field=f"load_fraction[{k}]", low=0.0, low_open=True, allowed="> 0")
                  for k, v in enumerate(x))
        eta = tuple(_number(v, name=name, field=f"efficiency[{k}]", low=0.0, high=1.0, low_open=True,
                            allowed="(0, 1]") for k, v in enumerate(eta))
        for k in range(1, len(x)):
            if x[k] <= x[k - 1]:
                raise CaseError(f"must be strictly increasing; point {k} is not above point {k - 1} "
                                f"({x[k - 1]!r})", element=_element(name), field=f"load_fraction[{k}]",
                                value=x[k], allowed=f"> {x[k - 1]!r}")
        loss = [xk * (1.0 / ek - 1.0) for xk, ek in zip(x, eta)]
        for k in range(1, len(x)):
            if loss[k] < loss[k - 1]:
                raise CaseError(
                    f"tabulated loss falls with load: point {k} (load_fraction {x[k]!r}) loses "
                    f"{loss[k]:.4g} of rated power, point {k - 1} (load_fraction {x[k - 1]!r}) loses "
                    f"{loss[k - 1]:.4g}",
                    element=_element(name), field=f"efficiency[{k}]", value=eta[k],
                    allowed=f"<= {x[k] / (x[k] + loss[k - 1]):.6g} at this load (loss non-decreasing)")
        return cls(load_fraction=x, efficiency=eta)

    def loss_w(self, p_out_w, v_out_v, rated_power_w, *, ratings_checked: bool = False):
        """Loss [W] at output power ``p_out_w`` [W] (>= 0) of a converter rated ``rated_power_w`` [W] (> 0).

        ``v_out_v`` [V] is accepted for a common signature and not used. ``ratings_checked``: the caller has had
        these ratings checked by an earlier call (a time series' constant ones): not checked again.
        """
        p, _, rated = _as_arrays(p_out_w, v_out_v, rated_power_w)
        if not ratings_checked and np.any(rated <= 0):
            raise CaseError(f"rated power must be > 0 for loss model kind '{self.KIND}'",
                            field="rated_power_w", value=float(rated[rated <= 0].flat[0]), allowed="> 0")
        _check_p_out(p)
        eta = np.interp(p / rated, self.load_fraction, self.efficiency)  # clamps outside the table
        return p * (1.0 / eta - 1.0)


@dataclass(frozen=True)
class ConstantEfficiencyLoss:
    r"""Converter loss at a constant efficiency.

    .. math:: P_\mathrm{loss} = P_\mathrm{out}\,(1/\eta - 1)

    Parameters
    ----------
    efficiency : float
        Efficiency [-], in (0, 1].

    Notes
    -----
    Validity: p_out >= 0; a first estimate where only a nominal efficiency is known (for example the
    98 % of an 800 V to 48 V GaN LLC converter, Renesas Electronics conference talk: see the module's
    References). Source: definition of efficiency, eta = P_out / P_in.
    """

    KIND: ClassVar[str] = "constant_efficiency"
    USES_RATING: ClassVar[bool] = False  # loss_w reads rated_power_w (the load fraction)
    FIELDS: ClassVar[tuple] = (("efficiency", "1", "efficiency, in (0, 1]"),)
    efficiency: float

    @classmethod
    def from_params(cls, params: dict, *, name: str) -> "ConstantEfficiencyLoss":
        """Build from a parameter dict; raises CaseError naming ``name``, field, value and range."""
        _check_keys(cls, params, name)
        return cls(efficiency=_number(params["efficiency"], name=name, field="efficiency", low=0.0, high=1.0,
                                      low_open=True, allowed="(0, 1]"))

    def loss_w(self, p_out_w, v_out_v, rated_power_w, *, ratings_checked: bool = False):
        """Loss [W] at output power ``p_out_w`` [W] (>= 0); ``v_out_v``, ``rated_power_w`` and
        ``ratings_checked`` unused."""
        p, _, _ = _as_arrays(p_out_w, v_out_v, rated_power_w)
        _check_p_out(p)
        return p * (1.0 / self.efficiency - 1.0)


@dataclass(frozen=True)
class TransformerLoss:
    r"""Transformer loss: constant no-load loss plus load loss in the square of loading.

    .. math:: x = \frac{P_\mathrm{out}}{S_r \cos\varphi}, \qquad P_\mathrm{loss} = S_r\,(p_0 + p_k x^2)

    with :math:`S_r` the element's ``rated_power_w`` read as its rated apparent power [VA].

    Parameters
    ----------
    no_load_loss_fraction : float
        p_0, no-load (core) loss over rated apparent power [-], in [0, 0.2].
    load_loss_fraction : float
        p_k, load (copper) loss at rated current over rated apparent power [-], in [0, 0.2].
    power_factor : float
        cos φ of the load [-], in (0, 1].

    Notes
    -----
    Validity and source: :func:`gigawatt.models.ac_chain.transformer_loss_w` (IEC 60076-1 two-term model;
    US DOE 10 CFR 431.196). The loss is > 0 at no load, as a real transformer's.
    """

    KIND: ClassVar[str] = "transformer"
    USES_RATING: ClassVar[bool] = True  # loss_w reads rated_power_w (the load fraction)
    FIELDS: ClassVar[tuple] = (
        ("no_load_loss_fraction", "1", "no-load loss over rated apparent power"),
        ("load_loss_fraction", "1", "load loss at rated current over rated apparent power"),
        ("power_factor", "1", "power factor of the load, in (0, 1]"),
    )
    no_load_loss_fraction: float
    load_loss_fraction: float
    power_factor: float

    @classmethod
    def from_params(cls, params: dict, *, name: str) -> "TransformerLoss":
        """Build from a parameter dict; raises CaseError naming ``name``, field, value and range."""
        _check_keys(cls, params, name)
        p0, pk = (_number(params[f], name=name, field=f, low=0.0, high=0.2, allowed="[0, 0.2]")
                  for f in ("no_load_loss_fraction", "load_loss_fraction"))
        pf = _number(params["power_factor"], name=name, field="power_factor", low=0.0, high=1.0, low_open=True,
                     allowed="(0, 1]")
        return cls(no_load_loss_fraction=p0, load_loss_fraction=pk, power_factor=pf)

    def loss_w(self, p_out_w, v_out_v, rated_power_w, *, ratings_checked: bool = False):
        """Loss [W] at output power ``p_out_w`` [W] (>= 0) of a transformer rated ``rated_power_w`` [VA] (> 0);
        ``v_out_v`` unused; ``ratings_checked``: as :meth:`EfficiencyCurveLoss.loss_w`."""
        from gigawatt.models.ac_chain import transformer_loss_w

        p, _, rated = _as_arrays(p_out_w, v_out_v, rated_power_w)
        if not ratings_checked and np.any(rated <= 0):
            raise CaseError(f"rated power must be > 0 for loss model kind '{self.KIND}'",
                            field="rated_power_w", value=float(rated[rated <= 0].flat[0]), allowed="> 0")
        _check_p_out(p)
        return transformer_loss_w(p, rated, self.no_load_loss_fraction, self.load_loss_fraction, self.power_factor)


@dataclass(frozen=True)
class AcCurrentQuadraticLoss:
    r"""Two-way VSC station loss on its AC-side current, with its own quadratic coefficient each way (MatACDC).

    .. math:: P_\mathrm{loss} = a + b\,I_c + c\,I_c^2, \qquad I_c = \frac{\sqrt{P_c^2 + Q^2}}{\sqrt{3}\,U_c},
              \qquad P_c = P_\mathrm{out} + P_\mathrm{loss}

    with :math:`c = c_\mathrm{rect}` while the station draws from its AC side (:math:`P_c > 0`) and
    :math:`c_\mathrm{inv}` while it feeds it. ``p_out_w`` here is signed: the DC output, negative when the
    station absorbs DC power and inverts. Evaluated by
    :func:`gigawatt.models.dc_elements.station_ac_power_w` (Newton on :math:`P_c`).

    Parameters
    ----------
    a_w, b_v, c_rect_ohm, c_inv_ohm : float
        No-load loss [W], loss per ampere [V], loss per ampere squared rectifying and inverting [Ω], >= 0.
    v_ac_v : float
        Line-to-line rms voltage on the converter's AC side [V], > 0.
    q_ac_var : float
        Reactive power on the AC side [var] (only its magnitude enters).

    Notes
    -----
    MatACDC's coefficients [MW, kV, Ω with I in kA] keep their digits in SI with I in A (see
    :func:`gigawatt.models.dc_elements.station_loss_ac_current_w`, which also notes which coefficient MatACDC's
    code applies in which direction). Validity: any operating point below the current at which the loss would
    equal the power carried.

    References
    ----------
    .. [1] J. Beerten, R. Belmans, MATACDC, IET GTD 9(10), 966–974, 2015, doi:10.1049/iet-gtd.2015.0040.
    """

    KIND: ClassVar[str] = "ac_current_quadratic"
    USES_RATING: ClassVar[bool] = False
    SIGNED: ClassVar[bool] = True  # loss_w takes the signed output power (two-way)
    FIELDS: ClassVar[tuple] = (
        ("a_w", "W", "no-load loss"),
        ("b_v", "V", "loss per ampere of AC-side current"),
        ("c_rect_ohm", "Ohm", "loss per ampere squared of AC-side current, rectifying"),
        ("c_inv_ohm", "Ohm", "loss per ampere squared of AC-side current, inverting"),
        ("v_ac_v", "V", "line-to-line AC voltage at the converter"),
        ("q_ac_var", "var", "reactive power on the AC side"),
    )
    a_w: float
    b_v: float
    c_rect_ohm: float
    c_inv_ohm: float
    v_ac_v: float
    q_ac_var: float

    @classmethod
    def from_params(cls, params: dict, *, name: str) -> "AcCurrentQuadraticLoss":
        """Build from a parameter dict; raises CaseError naming ``name``, field, value and range."""
        _check_keys(cls, params, name)
        values = {f: _number(params[f], name=name, field=f, low=0.0, allowed=">= 0") for f, _, _ in cls.FIELDS
                  if f not in ("v_ac_v", "q_ac_var")}
        values["v_ac_v"] = _number(params["v_ac_v"], name=name, field="v_ac_v", low=0.0, low_open=True,
                                   allowed="> 0")
        values["q_ac_var"] = _number(params["q_ac_var"], name=name, field="q_ac_var", low=-math.inf,
                                     allowed="a finite reactive power")
        return cls(**values)

    def loss_w(self, p_out_w, v_out_v, rated_power_w, *, ratings_checked: bool = False):
        """Loss [W] at the signed DC output ``p_out_w`` [W]; ``v_out_v``, ``rated_power_w`` and ``ratings_checked``
        unused."""
        from gigawatt.models.dc_elements import station_ac_power_w

        p, _, _ = _as_arrays(p_out_w, v_out_v, rated_power_w)
        try:
            _, loss = station_ac_power_w(p, self.q_ac_var, self.v_ac_v, self.a_w, self.b_v, self.c_rect_ohm,
                                         self.c_inv_ohm)
        except ValueError as err:
            raise CaseError(str(err), field="p_out_w", value=float(np.max(np.abs(p))),
                            allowed="an output the station can carry") from None
        return loss


LOSS_MODELS: dict[str, type] = {cls.KIND: cls for cls in (QuadraticLoss, EfficiencyCurveLoss,
                                                          ConstantEfficiencyLoss, TransformerLoss,
                                                          AcCurrentQuadraticLoss)}
"""Registry of converter loss models by kind."""


def make_loss_model(kind: str, params: dict, *, name: str):
    """The loss model of ``kind`` built from ``params``.

    Parameters
    ----------
    kind : str
        A key of :data:`LOSS_MODELS`.
    params : dict
        The model's parameters (see its ``FIELDS``). A ``"kind"`` entry is allowed if it equals
        ``kind``, so ``make_loss_model(d["kind"], d, name=...)`` works on a dict like
        :data:`TITANIUM_230V_REDUNDANT`.
    name : str
        The loss model's name, used in error messages.

    Raises
    ------
    CaseError
        Unknown kind (listing the known ones) or bad parameters.
    """
    cls = LOSS_MODELS.get(kind)
    if cls is None:
        raise CaseError("unknown loss model kind", element=_element(name), field="kind", value=kind,
                        allowed="one of " + ", ".join(LOSS_MODELS))
    params = dict(params)
    given = params.pop("kind", kind)
    if given != kind:
        raise CaseError("parameter 'kind' disagrees with the kind asked for", element=_element(name),
                        field="kind", value=given, allowed=kind)
    return cls.from_params(params, name=name)


def loss_by_model(models: dict, names: np.ndarray, p_out: np.ndarray, v_out: np.ndarray, rated: np.ndarray,
                  where: str, ids: np.ndarray, code: np.ndarray | None = None) -> np.ndarray:
    """Losses [W] of elements whose loss model is named in ``names`` ('' = lossless), grouped by model.

    With ``code`` (each element's index into ``names``, then the distinct names, −1 for lossless), no string
    is compared: see :meth:`gigawatt.cases.case.Case.codes`.

    The loss is evaluated at the magnitude of the output power: a converter loses the same whichever way
    the power flows (stations that absorb power are flagged in the results, not here), except for two-way
    models (``SIGNED``, e.g. ``ac_current_quadratic``), which take the signed output and lose differently
    each way."""
    loss = np.zeros(p_out.shape)
    if code is None:
        code, names = pd.factorize(names)  # the distinct names, in order of appearance
    for k, name in enumerate(names):
        if name == "":
            continue
        m = code == k
        if not m.any():
            continue
        if m.all():
            m = slice(None)  # one model for all: no masked copies
        try:
            model = models[name]
            p = p_out[m] if getattr(model, "SIGNED", False) else np.abs(p_out[m])  # two-way models take the sign
            loss[m] = model.loss_w(p, v_out[m], rated[m])
        except CaseError as err:
            i = int(np.flatnonzero(code == k)[0])
            raise err.located(element=f"{where} '{ids[i]}' (loss model '{name}')") from None
    return loss
