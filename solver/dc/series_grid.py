"""The electrical stage of a time series for a case with DC grid elements (set-power terminals, conductance
loads, ratio- or power-controlled or meshed DC/DC converters): the DC grid load flow
(:class:`gigawatt.solver.dc.meshed.DCGridSolver`) step after step, its factorisations kept per pattern of held
buses.

Model: exactly :func:`gigawatt.solve`'s DC stage for such a case
(:func:`gigawatt.solver.dc.meshed_case.chain_dc_dataset`): racks as constant-power loads of their input power
(:class:`gigawatt.solver.dc.series.RackPowers`), terminals at their set powers (the case's ``p_set_w``, or the
step's value from the ``[time] terminal_schedule`` file) switching to voltage control at their limits, the
stations' conversion losses at their output after the load flow. Steps whose racks' powers are known before
the chain reaches them (no chip leakage: the DC stage does not depend on the cooling's state) are solved
together, a chunk at a time, as the columns of one right-hand side (:meth:`GridSeries.solve_ahead`); any other
step is solved alone, started from the previous step's voltages and terminal modes. Both give the same answer to
the solver's tolerance (1e-12 of nominal on the voltage update).

Figures of a step: those of :class:`gigawatt.solver.dc.series.DCStep`, and ``p_dc_terminals_w`` (what the
terminals deliver into the DC network, negative: drawn, e.g. a battery charging), ``p_dc_conductances_w``
(what conductance loads draw) and ``terminals_at_limit`` (how many terminals hold a voltage limit);
``iterations`` of a step solved in a batch is the batch's largest. The ledger
is :func:`gigawatt.solve`'s: p_grid + p_dc_terminals = p_it + losses + p_dc_conductances, its residual relative
to p_grid + |p_dc_terminals|.
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.converter_losses import loss_by_model
from gigawatt.models.dc_elements import P_MODE
from gigawatt.models.racks import rack_powers
from gigawatt.solver.dc.meshed import DCGridResult, DCGridSolver
from gigawatt.solver.dc.meshed_case import _kcl_mismatch_a, _live, grid_from_case, uses_grid_elements
from gigawatt.solver.dc.series import STAGE_FIGURES, DCSeries, DCStep, RackPowers, check_p_it, ledger

SCALARS = ("p_grid_w", "p_it_w", "p_loss_w", "efficiency_grid_to_chip", "energy_balance_residual", "other_loss_w",
           *STAGE_FIGURES, "p_dc_terminals_w", "p_dc_conductances_w", "max_mismatch_a")
"""The float figures of a step (those :func:`gigawatt.solver.dc.series.ledger` forms and the grid elements')."""


def dc_series(case):
    """The electrical stage of a time series of ``case``: a :class:`GridSeries` for a case with DC grid
    elements (:func:`gigawatt.solver.dc.meshed_case.uses_grid_elements`), else a
    :class:`gigawatt.solver.dc.series.DCSeries`."""
    return GridSeries(case) if uses_grid_elements(case) else DCSeries(case)


def _as_batch(res: DCGridResult) -> DCGridResult:
    """A one-step result as a many-step result of one step."""
    return DCGridResult(*[getattr(res, f)[None] if f != "iterations" else res.iterations
                          for f in DCGridResult.__dataclass_fields__])


def _one(res: DCGridResult, i: int) -> DCGridResult:
    """Step ``i`` of a many-step result as a one-step result."""
    return DCGridResult(*[getattr(res, f)[i] if f != "iterations" else res.iterations
                          for f in DCGridResult.__dataclass_fields__])


class GridSeries:
    """A case's DC grid, prepared once, solved step after step (see the module notes). ``net`` is None (no
    level-by-level network); :meth:`step` as :meth:`gigawatt.solver.dc.series.DCSeries.step`, with the step's
    terminal set powers."""

    net = None

    def __init__(self, case):
        s = case.settings
        if s["solver"]["conductor_temperature"] != "fixed" or (s.get("dc") or {}).get("system") == "bipolar":
            bipolar = (s.get("dc") or {}).get("system") == "bipolar"
            raise CaseError("a case with DC grid elements is solved monopolar at fixed conductor temperatures",
                            file=case.file, element="[dc]" if bipolar else "[solver]",
                            field="system" if bipolar else "conductor_temperature",
                            value="bipolar" if bipolar else s["solver"]["conductor_temperature"],
                            allowed="monopolar, fixed")
        self.case = case
        self.grid = grid_from_case(case)
        self.solver = DCGridSolver(self.grid)
        self.rack_powers = RackPowers(case)
        self.n_racks = len(case.tables["rack"])
        self.rack_shelf_loss = rack_powers(case)[1]  # [W] at the case's IT powers, as gigawatt.solve sizes cooling
        src = case.tables["source"]
        self._s_live = _live(case, "source")
        self._src = src.iloc[self._s_live]
        self._n_source = len(src)
        self._v_nominal = self.grid.v_nominal_v
        self._bus_ids = case.tables["bus"]["id"].to_numpy()
        self._lines_live = case.tables["line"]["in_service"].to_numpy(bool)
        self.terminal_ids = np.asarray(self.grid.names["terminal"]).astype(str)
        self._prev = None  # the last step's one-step result (warm start)
        self._ahead = None  # (first step, rack IT powers, terminal set powers, result, figures) of solve_ahead
        self.steps_done = 0
        self.steps_from_batch = 0  # steps taken from solve_ahead's batch (tests and benchmarks read it)

    def terminal_set_powers(self) -> np.ndarray:
        """Every in-service terminal's set power [W] in the case (``p_set_w``), a new array."""
        return self.grid.terminal_p_w.astype(float)

    def schedule_columns(self, names, file=None) -> np.ndarray:
        """The in-service terminal each column of a terminal schedule names (its index); a column naming none is
        one :class:`CaseError` line."""
        pos = {tid: i for i, tid in enumerate(self.terminal_ids)}
        for name in names:
            if str(name) not in pos:
                raise CaseError("the column names no in-service dc_terminal of the case", file=file, element="header",
                                field=str(name), allowed=", ".join(self.terminal_ids) or "(the case has none)")
        return np.array([pos[str(n)] for n in names], dtype=np.int64)

    def solve_ahead(self, rack_p_it_w: np.ndarray, terminal_p_w: np.ndarray) -> None:
        """Solve the next steps (rows of ``rack_p_it_w`` [W], steps × racks, and ``terminal_p_w`` [W], steps ×
        terminals) in one batch, their figures too; :meth:`step` then takes each from it when it is asked for
        the same powers."""
        p_it = np.asarray(rack_p_it_w, float)
        for k, row in enumerate(p_it):
            check_p_it(row, self.n_racks, self.steps_done + k)
        pt = np.asarray(terminal_p_w, float)
        racks = self.rack_powers(p_it)
        try:
            res = self.solver.solve(terminal_p_w=pt, load_p_w=racks[0])
        except (CaseError, ConvergenceError):
            self._ahead = None  # the steps are solved one by one, which names the one that fails
            return
        self._ahead = (self.steps_done, p_it, pt, res, self._batch_figures(res, p_it, *racks))

    def step(self, rack_p_it_w, terminal_p_w=None) -> DCStep:
        """Solve the network with the racks at IT powers ``rack_p_it_w`` [W] and the terminals at set powers
        ``terminal_p_w`` [W] (None: the case's). Raises :class:`CaseError` for bad powers, or with the
        :class:`ConvergenceError` of the load flow, naming this step's index (from 0)."""
        k = self.steps_done
        p_it = check_p_it(rack_p_it_w, self.n_racks, k)
        pt = self.grid.terminal_p_w.astype(float) if terminal_p_w is None else np.asarray(terminal_p_w, float)
        if self._ahead is not None:
            first, p_ahead, t_ahead, batch, fig = self._ahead
            i = k - first
            if 0 <= i < p_ahead.shape[0] and np.array_equal(p_ahead[i], p_it) and np.array_equal(t_ahead[i], pt):
                self._prev = _one(batch, i)
                self.steps_from_batch += 1
                self.steps_done += 1
                return self._step_of(fig, i, self._prev)
        p_in, shelf, vrm = self.rack_powers(p_it)
        try:
            res = self.solver.solve(terminal_p_w=pt, load_p_w=p_in, start=self._prev)
        except ConvergenceError as err:
            raise ConvergenceError(f"step {k}: {err}", partial=err.partial, details={**err.details, "step": k}) \
                from None
        except CaseError as err:
            raise err.located(file=self.case.file, element=f"step {k}, {err.element}" if err.element
                              else f"step {k}") from None
        self._prev = res
        self.steps_done += 1
        return self._step_of(self._batch_figures(_as_batch(res), p_it[None], p_in[None], shelf[None], vrm[None]),
                             0, res)

    def _batch_figures(self, res: DCGridResult, p_it, p_in, shelf, vrm) -> dict:
        """The figures of the steps of a many-step result (arrays, steps first; see the module notes)."""
        g, src = self.grid, self._src
        v = res.v_v
        n, m = v.shape[0], g.feed_bus.size
        loss_src = loss_by_model(self.case.loss_models, np.tile(src["loss_model"].to_numpy(object), n),
                                 res.feed_p_w.ravel(), v[:, g.feed_bus].ravel(),
                                 np.tile(src["rated_power_w"].to_numpy(float), n), "source",
                                 np.tile(src["id"].to_numpy(), n)).reshape(n, m)
        stages = np.array([loss_src.sum(1), res.line_loss_w.sum(1), res.dcdc_loss_w.sum(1), shelf.sum(1),
                           vrm.sum(1)])
        p_grid = (res.feed_p_w + loss_src).sum(1)
        p_term, p_cond = res.terminal_p_w.sum(1), res.conductance_p_w.sum(1)
        fig = ledger(p_grid, p_it.sum(1), stages)
        # gigawatt.solve's ledger with the terminals as supplies and the conductances as loads
        fig["energy_balance_residual"] = (np.abs(p_grid + p_term - fig["p_it_w"] - fig["p_loss_w"] - p_cond)
                                          / np.maximum(np.abs(p_grid) + np.abs(p_term), 1e-300))
        p_net_in = p_grid + p_term - p_cond
        fig["efficiency_grid_to_chip"] = np.where(p_net_in > 0, fig["p_it_w"] / np.where(p_net_in > 0, p_net_in, 1.0),
                                                  np.nan)
        fig.update(p_dc_terminals_w=p_term, p_dc_conductances_w=p_cond, max_mismatch_a=_kcl_mismatch_a(g, res),
                   terminals_at_limit=np.count_nonzero(res.terminal_mode != P_MODE, axis=1),
                   v_pu=v / self._v_nominal, source_p_grid_w=res.feed_p_w + loss_src, rack_p_in_w=p_in,
                   rack_shelf_loss_w=shelf, rack_vrm_loss_w=vrm)
        return fig

    def _step_of(self, fig: dict, i: int, res: DCGridResult) -> DCStep:
        """Step ``i`` of :meth:`_batch_figures`' figures as a :class:`DCStep` (``res``: its one-step result)."""
        v_pu = fig["v_pu"][i]
        i_min = int(np.argmin(v_pu))
        per_source = np.zeros(self._n_source)
        per_source[self._s_live] = fig["source_p_grid_w"][i]
        scalars = {k: float(fig[k][i]) for k in SCALARS}
        return DCStep(**scalars, v_min_pu=float(v_pu[i_min]), v_min_bus=self._bus_ids[i_min],
                      iterations=int(res.iterations), rack_vrm_loss_w=fig["rack_vrm_loss_w"][i],
                      rack_shelf_loss_w=fig["rack_shelf_loss_w"][i], rack_p_in_w=fig["rack_p_in_w"][i], v_pu=v_pu,
                      line_currents=lambda: self._line_currents(res), source_p_grid_w=per_source,
                      terminals_at_limit=int(fig["terminals_at_limit"][i]))

    def _line_currents(self, res: DCGridResult) -> np.ndarray:
        out = np.full(self._lines_live.size, np.nan)
        out[self._lines_live] = res.line_i_a
        return out

