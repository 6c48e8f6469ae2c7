"""The coupled chain prepared once and solved step after step: what a time series runs at each step.

:func:`gigawatt.solve` assembles and sizes every stage from the case each time it is called. A time
series changes only the IT load and the weather between steps, so :class:`ChainStepper` does that work
once and each step re-solves the stages in the order :func:`gigawatt.solve` does, each warm-started from the
last step:

1. chips: the racks' IT power at the step's load fraction and, with leakage, the electro-thermal fixed point
   at the coolant temperatures the (constant-flow) loops deliver (:func:`chip_operating_points`);
2. the DC network at those rack powers (:class:`gigawatt.solver.dc.series.DCSeries`);
3. the heat through the loops, CDUs and facility water (:func:`solve_heat`), the dry coolers at the step's
   outdoor temperature;
4. the district-heating network over the step (:class:`gigawatt.solver.district_heating.series.DistrictHeatingSeries`:
   steady hydraulics, plug-flow temperatures with transport delay, the storage tank and the plant's dispatch)
   at the step's outdoor temperature, fed by the heat the campus offers, and the facility water again with
   the heat the network's plant actually takes.

A step's figures carry the names and meaning of the scalar attributes of :func:`gigawatt.solve`'s results
(``p_grid_w``, ``p_it_w``, ``p_loss_w``, ``pue``, ``q_recovered_w``, ``dh_q_delivered_w``, …), so that
every step closes the same ledgers (electrical, heat, facility, district heating). Its KPIs come from
:mod:`gigawatt.solver.facility_kpis` as :func:`gigawatt.solve`'s do, metered at the stations' AC intake (the
grid side is not solved along a series).

Outdoor temperature and the dry coolers: they are sized once, on the case at full IT load (all its reusable
heat at its facility flow, fans at full speed at the design ambient, facility supply − ``dry_cooler_approach_k``;
:class:`~gigawatt.solver.cooling.stage.DryCoolerDesign`). At each step their fans run at the speed that holds
the facility supply set-point at the step's outdoor temperature and heat (cold air and part load need little
air: free cooling), the fan power in the cube of the speed. A step whose heat the dry coolers cannot reject at
full speed (warm air, or more heat than designed for) is counted in ``dry_cooler_over_limit`` (1 for that
step) with the heat short in ``dry_cooler_shortfall_w``: trim cooling would be needed, which is not modelled
(the set-point is taken as held).

The district-heating network starts from its steady state at the case's ``outdoor_t_k`` (the design hour,
by default): the first steps carry that water out.
"""
from __future__ import annotations

import math
import time

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.kpis import boundary_powers
from gigawatt.models.racks import chip_powers

# The heat and facility ledgers' terms a step carries besides the results' attributes, so that the period's
# ledgers can be summed (gigawatt.time_series).
LEDGER_TERMS = ("q_into_coolant_w", "q_loop_loss_w", "q_to_outside_w")


class ChainStepper:
    """The case's stages prepared once; :meth:`step` solves one time step.

    Parameters
    ----------
    case : gigawatt.cases.case.Case
        A monopolar or bipolar DC case, with or without ``[cooling]`` and ``[district_heating]``, or a
        district-heating network alone (its plant's boiler then covers it, as in :func:`gigawatt.solve`). The grid
        side (``ac_*`` tables) is not solved along a series (a pandapower load flow per step would cost
        about 50 ms); the DC results carry each station's intake from the grid.
    """

    def __init__(self, case):
        from gigawatt.solver.dc.series_grid import dc_series

        self.case = case
        self.seconds: dict[str, float] = {}  # wall time spent in each stage over the steps [s]
        self.p_ref_w = chip_powers(case)
        # With a grid side the carbon figures use the AC supplies, whose shares a step does not solve.
        self.ac_supplies = bool(len(case.tables["ac_supply"]))
        self.dc = dc_series(case) if len(case.tables["bus"]) else None  # None: a heating network alone
        self.plant = None
        self.dh = None
        if case.settings.get("cooling") is not None:
            from gigawatt.solver.cooling.stage import prepare_cooling

            self.plant = prepare_cooling(case, self.dc.rack_shelf_loss if self.dc.net is None
                                         else self.dc.net.rack_shelf_loss)
            self.dry_cooler_design = _dry_cooler_design(case, self.plant, self.dc)
            from gigawatt.solver.cooling.steps import HeatSteps

            self.heat_steps = HeatSteps(case, self.plant, self.dry_cooler_design)
            from gigawatt.solver.cooling.stage import ChipPoints

            self.chip_points = ChipPoints(case, self.plant)  # the step's plant differs in its ambient only
            unit_rack = self.plant.loops.unit_rack
            self.unit_is_rack = bool(np.array_equal(unit_rack, np.arange(unit_rack.size)))
            from gigawatt.solver.facility_kpis import mix, supplies

            # the supplies of the carbon figures, read once; with a grid side their mix is the series' own
            self.supplies = supplies(case)
            self.fixed_mix = mix(case, supplies_=self.supplies) if self.ac_supplies else None
            _, cef, kind, _ = self.supplies
            if self.fixed_mix is None and np.isnan(cef).all() and (kind == "unspecified").all():
                # no supply states a carbon intensity or a kind: the mix is NaN whatever each delivers
                self.fixed_mix = mix(case, np.zeros(len(case.tables["source"])), supplies_=self.supplies)
        if case.settings.get("district_heating") is not None:
            from gigawatt.solver.district_heating.series import DistrictHeatingSeries

            self.dh = DistrictHeatingSeries(case)
        # per element over the steps: each bus's lowest voltage and each rack's hottest chip (bounded memory)
        self.v_min_pu = np.full(len(case.tables["bus"]), np.inf)
        self.t_chip_max_k = np.full(self.p_ref_w.size, -np.inf)
        self.t_junction_max_k = np.full(self.p_ref_w.size, -np.inf)

    @property
    def open_loop_dc(self) -> bool:
        """Whether each step's DC stage is known before the chain reaches it (a case with DC grid elements and
        no chip leakage: the racks' IT power is the step's fraction of the case's), so that
        :meth:`solve_dc_ahead` can solve the steps together."""
        leaky = self.plant is not None and self.case.settings["cooling"]["leakage_model"] != "none"
        return self.dc is not None and self.dc.net is None and not leaky

    def solve_dc_ahead(self, p_it_fraction: np.ndarray, terminal_p_w: np.ndarray) -> None:
        """Solve the DC stage of the next steps (their load fractions [1] and terminal set powers [W], steps ×
        terminals) in one batch (only when :attr:`open_loop_dc`); :meth:`step` takes each step from it."""
        if self.open_loop_dc:
            self.dc.solve_ahead(np.asarray(p_it_fraction, float)[:, None] * self.p_ref_w, terminal_p_w)

    def step(self, p_it_fraction: float, outdoor_t_k: float | None, dt_s: float,
             hour_of_day: float | None = None, heat_demand_w=None, terminal_p_w=None, demand_w=None) -> dict:
        """Solve one step: every rack at ``p_it_fraction`` × its ``p_it_w`` [1], the dry coolers and the
        heat demand at ``outdoor_t_k`` [K] (None: the case's own), over ``dt_s`` [s], the heat demand in the
        local hour of the day ``hour_of_day`` [h] (None: the case's ``[district_heating]`` one), the series
        consumers' demands from ``heat_demand_w`` [W] (a row of the heat-demand file,
        :meth:`gigawatt.solver.district_heating.series.DistrictHeatingSeries.use_heat_demand`), the set-power
        terminals at ``terminal_p_w`` [W] (one per in-service terminal; None: the case's ``p_set_w``), the
        consumers' demands from ``demand_w`` [W] where given (the step's row of
        :meth:`gigawatt.solver.district_heating.series.DistrictHeatingSeries.demands`). Returns the step's figures
        (see the module notes)."""
        dc_args = () if terminal_p_w is None else (terminal_p_w,)
        clock = _Clock(self.seconds)
        p_ref = self.p_ref_w * p_it_fraction
        if self.plant is None:  # no campus heat: the network's plant has its boiler (as gw.solve)
            out = {}
            if self.dc is not None:
                dc = self.dc.step(p_ref, *dc_args)
                np.minimum(self.v_min_pu, dc.v_pu, out=self.v_min_pu)
                out = dc.figures()
                out.update({f"{k}_w": v for k, v in boundary_powers(dc.p_it_w, dc.loss_rack_vrm_w,
                                                                    dc.loss_rack_shelf_w).items() if k != "p_it"})
            clock.lap("dc")
            if self.dh is not None:
                t_out = self.dh.s["outdoor_t_k"] if outdoor_t_k is None else outdoor_t_k
                out.update({k: float(v) for k, v in self.dh.step(None, t_out, dt_s, hour_of_day=hour_of_day,
                                                                          heat_demand_w=heat_demand_w,
                                                                          demand_w=demand_w).items()})
                clock.lap("district_heating")
            return out
        from gigawatt.solver.cooling.results import FACILITY_ATTRS
        from gigawatt.solver.facility_kpis import kpi_figures, mix

        plant, heat_steps = self.plant, self.heat_steps  # the step's ambient goes to the dry coolers alone
        p_it, t_chip, chip_iterations, t_junction = self.chip_points(p_ref)
        rack = plant.loops.unit_rack
        for kept, t in ((self.t_chip_max_k, t_chip), (self.t_junction_max_k, t_junction)):
            if self.unit_is_rack:  # unit u is rack u: in place
                np.maximum(kept, t, out=kept)
            elif plant.loops.units_per_rack == 1:  # one unit a rack: a plain gather and scatter
                kept[rack] = np.maximum(kept[rack], t)
            else:
                np.maximum.at(kept, rack, t)
        clock.lap("chips")
        dc = self.dc.step(p_it, *dc_args)
        np.minimum(self.v_min_pu, dc.v_pu, out=self.v_min_pu)
        clock.lap("dc")
        water, q_liquid, loop_loss = heat_steps.loops(p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w,
                                                      dc.heat_other_w)
        if self.dh is None:
            fac = heat_steps.facility(water, q_liquid, loop_loss, dc.p_in_w, ambient_t_k=outdoor_t_k)
        clock.lap("cooling")
        out = dc.figures()
        dh = None
        if self.dh is not None:
            from gigawatt.solver.district_heating.stage import HeatOffer

            t_out = self.dh.s["outdoor_t_k"] if outdoor_t_k is None else outdoor_t_k
            dh = self.dh.step(HeatOffer(*heat_steps.offered(water)), t_out, dt_s, hour_of_day=hour_of_day,
                              heat_demand_w=heat_demand_w, demand_w=demand_w)
            clock.lap("district_heating")
            fac = heat_steps.facility(water, q_liquid, loop_loss, dc.p_in_w, dh["q_recovered_w"],
                                      ambient_t_k=outdoor_t_k)
            clock.lap("cooling")
        out.update({k: float(fac[k]) for k in (*FACILITY_ATTRS, *LEDGER_TERMS) if k in fac})
        out.update(t_tcs_supply_k=plant.settings["tcs_supply_t_k"], q_liquid_w=float(q_liquid),
                   t_chip_max_k=float(np.max(t_chip, initial=-math.inf)), chip_fixed_point_iterations=chip_iterations,
                   t_junction_max_k=float(np.max(t_junction, initial=-math.inf)))
        if dh is not None:
            out.update({k: float(v) for k, v in dh.items() if k != "q_recovered_w"})
            out["reuse_share"] = out["q_recovered_w"] / out["q_available_w"] if out["q_available_w"] else 0.0
        out.update(kpi_figures(self.case, p_facility_w=out["p_facility_w"], p_cooling_w=out["p_cooling_w"],
                               p_it_w=out["p_it_w"], vrm_loss_w=out["loss_rack_vrm_w"],
                               shelf_loss_w=out["loss_rack_shelf_w"], q_recovered_w=out["q_recovered_w"],
                               supply_mix_=self.fixed_mix if self.fixed_mix is not None
                               else mix(self.case, dc.source_p_grid_w, supplies_=self.supplies)))
        return out

    def extremes(self):
        """Per element over the steps so far: each bus's lowest voltage [pu] and, with cooling, each rack's
        hottest chip case and junction [K], as an ``xarray.Dataset`` along ``bus`` and ``rack``."""
        import xarray as xr

        data = {}
        if self.dc is not None:
            data["v_min_pu_over_period"] = ("bus", self.v_min_pu, {"units": "1",
                                            "long_name": "lowest voltage of the bus over the period"})
        if self.plant is not None:
            data["t_chip_max_k_over_period"] = ("rack", self.t_chip_max_k, {"units": "K",
                                                "long_name": "hottest chip case of the rack over the period"})
            data["t_junction_max_k_over_period"] = ("rack", self.t_junction_max_k, {
                "units": "K", "long_name": "hottest chip junction of the rack over the period (case + "
                                           "chip_r_jc_k_per_w x plate heat; R_jc an assumption of the case)"})
        coords = {"bus": self.case.tables["bus"]["id"].to_numpy().astype(str),
                  "rack": self.case.tables["rack"]["id"].to_numpy().astype(str)}
        return xr.Dataset(data, coords={k: v for k, v in coords.items() if any(d[0] == k for d in data.values())})

    def ledger_attrs(self) -> dict:
        """The district-heating stage's ledger over the steps so far [J] and its relative residual (the
        pipes' stored heat and the tank included), as attributes of a series' results."""
        if self.dh is None:
            return {}
        out = {f"dh_ledger_{k}": float(v) for k, v in self.dh.ledger.items()}
        out["dh_energy_balance_residual"] = self.dh.energy_balance_residual()
        out["annual_heat_per_home_j"] = self.dh.dh.annual_heat_per_home_j
        return out


def _dry_cooler_design(case, plant, series):
    """What the dry coolers are sized for: the case at full IT load (its ``p_it_w``), solved once by a DC series
    of its own (``series``'s network, not assembled again; the series' warm start and step count stay
    untouched)."""
    from gigawatt.solver.cooling.stage import chip_operating_points, dry_cooler_design_of, solve_heat
    from gigawatt.solver.dc.series_grid import dc_series

    p_it = chip_operating_points(case, plant)[0]
    dc = (dc_series(case) if series.net is None else series.fresh()).step(p_it)
    heat = solve_heat(case, plant, p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.heat_other_w, dc.p_in_w,
                      strict=False)
    return dry_cooler_design_of(heat, plant)


class _Clock:
    """Adds the wall time since the last lap to ``totals[stage]``."""

    def __init__(self, totals: dict):
        self.totals, self.t = totals, time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.totals[stage] = self.totals.get(stage, 0.0) + now - self.t
        self.t = now


def check_fraction(p_it_fraction: np.ndarray, where: str) -> None:
    """Refuse a load fraction that is not finite and non-negative, naming the step."""
    bad = np.flatnonzero(~np.isfinite(p_it_fraction) | (p_it_fraction < 0))
    if bad.size:
        raise CaseError("IT load fraction must be finite and non-negative", element=f"{where} step {int(bad[0])}",
                        field="p_it_fraction", value=float(p_it_fraction[bad[0]]))

