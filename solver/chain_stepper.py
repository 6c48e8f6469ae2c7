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
every step closes the same ledgers (electrical, heat, facility, district heating).

Outdoor temperature and the dry coolers: the cooling model's fan power is a fixed fraction of the heat
rejected, independent of the ambient; the ambient only bounds the facility supply temperature the dry
coolers can hold (ambient + ``dry_cooler_approach_k``). A step whose outdoor air is warmer than that is
solved at the limiting ambient and counted in ``dry_cooler_over_limit`` (1 for that step): trim cooling
would be needed, which is not modelled.

The district-heating network starts from its steady state at the case's ``outdoor_t_k`` (the design hour,
by default): the first steps carry that water out.
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from gigawatt.errors import CaseError

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
        from gigawatt.solver.dc.series import DCSeries

        self.case = case
        self.seconds: dict[str, float] = {}  # wall time spent in each stage over the steps [s]
        self.p_ref_w = case.tables["rack"]["p_it_w"].to_numpy(float)
        self.dc = DCSeries(case) if len(case.tables["bus"]) else None  # None: a heating network alone
        self.plant = None
        self.dh = None
        if case.settings.get("cooling") is not None:
            from gigawatt.solver.cooling.stage import prepare_cooling

            self.plant = prepare_cooling(case, self.dc.net.rack_shelf_loss)
            s = self.plant.settings
            self.t_ambient_max_k = s["facility_supply_t_k"] - s["dry_cooler_approach_k"]
        if case.settings.get("district_heating") is not None:
            from gigawatt.solver.district_heating.series import DistrictHeatingSeries

            self.dh = DistrictHeatingSeries(case)
        # per element over the steps: each bus's lowest voltage and each rack's hottest chip (bounded memory)
        self.v_min_pu = np.full(len(case.tables["bus"]), np.inf)
        self.t_chip_max_k = np.full(self.p_ref_w.size, -np.inf)

    def step(self, p_it_fraction: float, outdoor_t_k: float | None, dt_s: float,
             hour_of_day: float | None = None) -> dict:
        """Solve one step: every rack at ``p_it_fraction`` × its ``p_it_w`` [1], the dry coolers and the
        heat demand at ``outdoor_t_k`` [K] (None: the case's own), over ``dt_s`` [s], the heat demand in the
        local hour of the day ``hour_of_day`` [h] (None: the case's ``[district_heating]`` one). Returns the
        step's figures (see the module notes)."""
        clock = _Clock(self.seconds)
        p_ref = self.p_ref_w * p_it_fraction
        if self.plant is None:  # no campus heat: the network's plant has its boiler (as gw.solve)
            out = {}
            if self.dc is not None:
                dc = self.dc.step(p_ref)
                np.minimum(self.v_min_pu, dc.v_pu, out=self.v_min_pu)
                out = dc.figures()
            clock.lap("dc")
            if self.dh is not None:
                t_out = self.dh.s["outdoor_t_k"] if outdoor_t_k is None else outdoor_t_k
                out.update({k: float(v) for k, v in self.dh.step(None, t_out, dt_s, hour_of_day=hour_of_day).items()})
                clock.lap("district_heating")
            return out
        from gigawatt.solver.cooling.stage import chip_operating_points, solve_heat, with_recovery
        from gigawatt.solver.cooling.results import FACILITY_ATTRS

        plant, over = self.plant, 0
        if outdoor_t_k is not None:
            over = int(outdoor_t_k > self.t_ambient_max_k)
            ambient = min(outdoor_t_k, self.t_ambient_max_k)
            plant = dataclasses.replace(plant, settings={**plant.settings, "ambient_t_k": ambient})
        p_it, t_chip, chip_iterations = chip_operating_points(self.case, plant, p_ref_w=p_ref)
        rack = plant.loops.unit_rack
        if plant.loops.units_per_rack == 1:  # one unit a rack: a plain gather and scatter
            self.t_chip_max_k[rack] = np.maximum(self.t_chip_max_k[rack], t_chip)
        else:
            np.maximum.at(self.t_chip_max_k, rack, t_chip)
        clock.lap("chips")
        dc = self.dc.step(p_it)
        np.minimum(self.v_min_pu, dc.v_pu, out=self.v_min_pu)
        clock.lap("dc")
        heat = solve_heat(self.case, plant, p_it, dc.rack_vrm_loss_w, dc.rack_shelf_loss_w, dc.other_loss_w,
                          dc.p_grid_w)
        clock.lap("cooling")
        out = dc.figures()
        dh = None
        if self.dh is not None:
            from gigawatt.solver.district_heating.stage import HeatOffer

            f = heat.facility
            t_out = self.dh.s["outdoor_t_k"] if outdoor_t_k is None else outdoor_t_k
            dh = self.dh.step(HeatOffer(f["q_available_w"], f["t_reuse_k"], f["t_facility_supply_k"]), t_out, dt_s,
                              hour_of_day=hour_of_day)
            clock.lap("district_heating")
            heat = with_recovery(self.case, plant, heat, float(p_it.sum()), dc.p_grid_w, dh["q_recovered_w"])
            clock.lap("cooling")
        fac = heat.facility
        out.update({k: float(fac[k]) for k in (*FACILITY_ATTRS, *LEDGER_TERMS) if k in fac})
        out.update(t_tcs_supply_k=plant.settings["tcs_supply_t_k"], q_liquid_w=float(heat.rack_q_liquid_w.sum()),
                   t_chip_max_k=float(np.max(t_chip, initial=-math.inf)), chip_fixed_point_iterations=chip_iterations,
                   dry_cooler_over_limit=over)
        if dh is not None:
            out.update({k: float(v) for k, v in dh.items() if k != "q_recovered_w"})
            out["erf"] = out["q_recovered_w"] / out["p_facility_w"] if out["p_facility_w"] else 0.0
            out["reuse_share"] = out["q_recovered_w"] / out["q_available_w"] if out["q_available_w"] else 0.0
        return out

    def extremes(self):
        """Per element over the steps so far: each bus's lowest voltage [pu] and, with cooling, each rack's
        hottest chip [K], as an ``xarray.Dataset`` along ``bus`` and ``rack``."""
        import xarray as xr

        data = {}
        if self.dc is not None:
            data["v_min_pu_over_period"] = ("bus", self.v_min_pu, {"units": "1",
                                            "long_name": "lowest voltage of the bus over the period"})
        if self.plant is not None:
            data["t_chip_max_k_over_period"] = ("rack", self.t_chip_max_k, {"units": "K",
                                                "long_name": "hottest chip of the rack over the period"})
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

