"""A rack's power chain as the DC network sees it: IT power at the chips through voltage regulators and the
rack's power shelves, drawn from its bus as a constant-power load.

A rack's ``p_it_w`` is given on one of two bases (``p_it_basis``): ``input``, the rack's input power, the
figure vendors quote for a rack (a GB200 NVL72 rack's 120–132 kW is its input budget), or ``chips``, the
power at the chips. :func:`chip_powers` turns either into the chips' power, inverting the rack's own chain
for an input basis; everything downstream works from the chips.

Sign convention: powers [W] positive from the bus towards the chips; the shelf and regulator losses are >= 0
and end as heat in the rack.
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError

_MAX_ITERATIONS = 200
_RTOL = 1e-14


class ShelfLosses:
    """The shelf loss [W] of the racks ``rows`` (default all) of a case as a function of their shelf output
    powers [W], with the look-ups done once: the racks grouped by loss model, their ratings and output voltages
    as arrays (a solve evaluates the losses a dozen times: the fixed point of :func:`chip_powers`, then the
    racks' draw). Same arithmetic, element by element, as
    :func:`gigawatt.models.converter_losses.loss_by_model`, so the same numbers.

    Raises
    ------
    CaseError
        A rack whose shelf loss model depends on the load fraction but that has no ``shelf_rated_power_w``.
    """

    def __init__(self, case, rows=None):
        racks = case.tables["rack"]
        sel = slice(None) if rows is None else rows
        rated = racks["shelf_rated_power_w"].to_numpy(float)[sel]
        code, names = case.codes("rack", "shelf_loss_model")
        code = code[sel]
        # Only a load-fraction model reads the rating; per label, not per rack (a string per rack costs more).
        uses_rating = np.array([n != "" and getattr(case.loss_models[n], "USES_RATING", True) for n in names])
        no_rating = np.isnan(rated)
        some_missing = bool(no_rating.any())  # (one pass: the usual table gives every rating, or none)
        needs_rating = no_rating & uses_rating[code] if some_missing and uses_rating.any() else None
        self._ids = lambda: racks["id"].to_numpy()[sel]  # only for messages
        if needs_rating is not None and needs_rating.any():
            i = int(np.flatnonzero(needs_rating)[0])
            name = names[code[i]]
            raise CaseError(f"a rack whose shelf loss model depends on the load fraction ('{name}', kind "
                            f"{case.loss_models[name].KIND}) needs shelf_rated_power_w", file=case.file,
                            element=f"rack '{self._ids()[i]}'", field="shelf_rated_power_w", allowed="(0, 1e8] W")
        finite = bool(np.isfinite(rated[~no_rating] if some_missing else rated).all())
        rated = np.where(no_rating, 1.0, rated) if finite else np.nan_to_num(rated, nan=1.0)
        v_out = racks["shelf_v_out_v"].to_numpy(float)[sel]
        self.groups = []  # (model name, model, racks: index array or slice(None) for all, v_out, rated)
        valid = code if code.size and code.min() >= 0 else code[code >= 0]
        counts = np.bincount(valid, minlength=len(names))
        for k in np.flatnonzero(counts):  # the models in use
            name = names[k]
            if name == "":
                continue
            # one model for all: no gathered copies
            idx = slice(None) if counts[k] == code.size else np.flatnonzero(code == k)
            self.groups.append((name, case.loss_models[name], idx, v_out[idx], rated[idx]))

    def __call__(self, p_shelf_out: np.ndarray) -> np.ndarray:
        """Shelf loss [W] of each rack at shelf output power ``p_shelf_out`` [W]."""
        loss = np.zeros(np.shape(p_shelf_out))
        for name, model, idx, v_out, rated in self.groups:
            p = p_shelf_out[idx]
            try:
                loss[idx] = model.loss_w(p if getattr(model, "SIGNED", False) else np.abs(p), v_out, rated)
            except CaseError as err:
                first = 0 if isinstance(idx, slice) else int(idx[0])
                raise err.located(element=f"rack '{self._ids()[first]}' (loss model '{name}')") from None
        return loss


def shelf_losses(case) -> ShelfLosses:
    """:class:`ShelfLosses` of all the case's racks, kept with the case for its rack table (``case.derived``;
    :func:`chip_powers` and :func:`rack_powers` both use it)."""
    return case.derived(("shelf_losses",), ("rack",), lambda: ShelfLosses(case))


def chip_powers(case) -> np.ndarray:
    r"""Each rack's power at the chips [W] from its ``p_it_w`` and ``p_it_basis``.

    For an input basis the chips' power p solves the rack's chain backwards,

    .. math:: P_\mathrm{in} = \frac{p}{\eta_\mathrm{vrm}} + L\!\left(\frac{p}{\eta_\mathrm{vrm}}\right),

    L the shelves' loss model at their output power. The input power rises with the output for every loss
    model the loader accepts (their loss does not fall with load), so the root is unique; it is found by
    the fixed point :math:`x_{k+1} = P_\mathrm{in} - L(x_k)` on the shelf output x (a contraction where
    L' < 1, the case for any converter of efficiency above 50 %), with bisection on [0, P_in] for any rack
    where that does not converge. Relative accuracy 1e-14 of the rack's input.

    Kept with the case for its rack table (``case.derived``: a solve asks for it several times, and the
    variants of one case in a contingency analysis share the table); a new array is returned each time.

    Raises
    ------
    CaseError
        A rack whose input power does not cover its shelves' loss at no load.
    """
    return case.derived(("chip_powers",), ("rack",), lambda: _chip_powers(case)).copy()


def _chip_powers(case) -> np.ndarray:
    racks = case.tables["rack"]
    p = racks["p_it_w"].to_numpy(float).copy()
    basis, labels = case.codes("rack", "p_it_basis")  # no string compared per rack
    given_input = np.flatnonzero(basis == labels.index("input"))
    if not given_input.size:
        return p
    every = given_input.size == len(racks)  # the usual case: no gathered copies of the columns
    rows = slice(None) if every else given_input
    p_in = p[given_input] if not every else p.copy()
    eta = racks["vrm_efficiency"].to_numpy(float)[rows]
    tol = _RTOL * np.maximum(p_in, 1.0)
    alike = _alike_racks(case, rows, p_in)
    if alike is None:
        # All racks on an input basis: the losses of every rack, shared with rack_powers.
        shelf_loss = shelf_losses(case) if every else ShelfLosses(case, given_input)
        x = _shelf_outputs(shelf_loss, p_in, tol)
        short = np.flatnonzero(x + shelf_loss(x) - p_in > tol)
    else:  # racks of one shelf type and few distinct powers: each distinct power solved once, the same numbers
        # (each rack's fixed point, and its check below, depend only on its power, element by element)
        first, inverse = alike
        shelf_loss = ShelfLosses(case, given_input[first])
        x_first = _shelf_outputs(shelf_loss, p_in[first], tol[first])
        short = first[np.flatnonzero(x_first + shelf_loss(x_first) - p_in[first] > tol[first])]
        x = x_first[inverse]
    if short.size:
        i = int(short[0])
        raise CaseError("the rack's input power does not cover its power shelves' loss at no load", file=case.file,
                        element=f"rack '{racks['id'].iloc[int(given_input[i])]}'", field="p_it_w",
                        value=float(p_in[i]), allowed="more than the shelves' no-load loss, or p_it_basis = chips")
    p[rows] = x * eta
    return p


def _alike_racks(case, rows, p_in):
    """For racks ``rows`` (indices, or ``slice(None)`` for all) that share one shelf loss model, output voltage
    and rating: the first of each distinct input power ``p_in`` [W] and, per rack, which of them it is
    (``(first, inverse)``, positions among ``rows``); else None. Each rack's fixed point in
    :func:`_shelf_outputs` depends only on these, element by element, so solving the distinct ones gives every
    rack's number exactly."""
    import pandas as pd

    racks = case.tables["rack"]
    code = case.codes("rack", "shelf_loss_model")[0][rows]
    v_out = racks["shelf_v_out_v"].to_numpy(float)[rows]
    rated = racks["shelf_rated_power_w"].to_numpy(float)[rows]
    same_rating = bool(np.all(rated == rated[0])) or bool(np.isnan(rated).all())
    if not (same_rating and np.all(code == code[0]) and np.all(v_out == v_out[0])) or np.signbit(p_in).any():
        return None
    if np.all(p_in == p_in[0]):  # one power for all (cheaper than factorize)
        return np.zeros(1, dtype=np.int64), np.zeros(p_in.size, dtype=np.int64)
    inverse, distinct = pd.factorize(p_in)
    if distinct.size > p_in.size // 4:
        return None
    # factorize numbers the powers in order of first appearance: a rack is the first of its power where its
    # number exceeds every number before it.
    seen = np.maximum.accumulate(inverse)
    first = np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]])
    return first, inverse


def _shelf_outputs(shelf_loss, p_in, tol):
    """The shelves' output powers x [W] with x + L(x) = ``p_in`` [W] (see :func:`chip_powers`) to within
    ``tol`` [W]: the fixed point, then bisection for any rack where it did not settle."""
    def residual(x):
        return x + shelf_loss(x) - p_in

    x = p_in.copy()
    done = np.zeros(x.size, dtype=bool)
    for _ in range(_MAX_ITERATIONS):
        x_new = np.maximum(p_in - shelf_loss(x), 0.0)
        done = np.abs(x_new - x) <= tol
        x = x_new
        if done.all():
            break
    if not done.all():  # bisection where the fixed point did not settle
        lo, hi = np.zeros(x.size), p_in.copy()
        for _ in range(120):
            mid = 0.5 * (lo + hi)
            low = residual(mid) < 0
            lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
        x = np.where(done, x, 0.5 * (lo + hi))
    return x


def rack_powers(case, p_it: np.ndarray | None = None):
    """Each rack's input, shelf loss and regulator loss [W] at chip power ``p_it`` (default: the case's, from
    :func:`chip_powers`): IT power through voltage regulators and shelves, a constant-power load."""
    racks = case.tables["rack"]
    p_it = chip_powers(case) if p_it is None else p_it
    eta = racks["vrm_efficiency"].to_numpy(float)
    p_shelf_out = p_it / eta
    shelf_loss = shelf_losses(case)(p_shelf_out)
    return p_shelf_out + shelf_loss, shelf_loss, p_shelf_out - p_it
