"""The library entry point: ``solve(case) -> xarray.Dataset``."""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.case import Case, require_case
from gigawatt.errors import CaseError
from gigawatt.solver.dc.assembly import assemble, with_rack_power
from gigawatt.solver.dc.loadflow import solve_dc
from gigawatt.solver.dc.results import build_dataset


def solve(case: Case) -> xr.Dataset:
    """Solve a case and return its results as a new ``xarray.Dataset``; the case is not changed.

    A case with a ``[cooling]`` section is solved with its liquid-cooling system (see
    :mod:`gigawatt.solver.cooling.stage`): chip temperatures and leakage at their fixed point, then the
    electrical network, then the heat through the loops and the facility water; the results gain the
    cooling variables, the facility figures (PUE, heat rejected and available for reuse) and the heat ledger.

    Raises
    ------
    gigawatt.errors.CaseError
        For input the solver cannot use (an island without a source, conflicting set-points, a pump or CDU
        that cannot meet its duty, …), and for results whose ledgers are not finite numbers
        (:func:`check_ledgers_finite`).
    gigawatt.errors.ConvergenceError
        When a load is beyond what the network can carry (the message names the weakest bus and feeder and
        the maximum power the network could carry; ``.details`` holds them as data), or chips in thermal
        runaway.
    """
    require_case(case, "solve")
    ds = _solve(case)
    check_ledgers_finite(ds.attrs, case.file)
    return ds


def check_ledgers_finite(attrs, file=None) -> None:
    """Refuse results whose ledgers are not finite numbers: an input in the schema's range but far outside any
    physical one (an efficiency of 1e-308 divides a power into infinity) makes them NaN, and such results
    mean nothing. Raises :class:`~gigawatt.errors.CaseError` naming the ledgers and the powers that are not
    finite."""
    def bad(suffix):
        return [f"{k} = {float(v)}" for k, v in attrs.items() if k.endswith(suffix)
                and isinstance(v, (int, float, np.number)) and not np.isfinite(v)]

    ledgers = bad("_residual")
    if ledgers:
        powers = bad("_w")[:3]
        raise CaseError("the results' ledgers are not finite numbers (" + ", ".join(ledgers)
                        + (f"; {', '.join(powers)}" if powers else "") + "): an input is far outside any physical "
                        "range (an efficiency of 1e-308, say)", file=file)


def _solve(case: Case) -> xr.Dataset:
    from gigawatt import __version__

    if not len(case.tables["bus"]) and case.settings.get("district_heating") is not None:
        # A district-heating network alone (for example one converted from pandapipes).
        ds = xr.Dataset(attrs={"title": f"gigawatt district heating of case '{case.name}'", "case_name": case.name,
                               "case_hash": case.hash(), "case_file": case.file or "",
                               "gigawatt_version": __version__, "converged": 1, "warnings": ""})
        return _district_heating(ds, case, None)
    net = assemble(case)
    if case.settings.get("cooling") is None:
        return _district_heating(_ac_grid(_electrical(case, net, __version__), case), case, None)

    from gigawatt.solver.cooling.stage import chip_operating_points, prepare_cooling, solve_heat, with_recovery
    from gigawatt.solver.cooling.results import add_cooling

    plant = prepare_cooling(case, net.rack_shelf_loss)
    p_it, t_chip, iterations = chip_operating_points(case, plant)
    leaky = case.settings["cooling"]["leakage_model"] != "none"
    if leaky:
        net = with_rack_power(net, case, p_it)
    ds = _ac_grid(_electrical(case, net, __version__, p_it=p_it if leaky else None), case)
    other_loss = float(ds.stage_loss_w.sel(stage=["ac_dc_station", "distribution", "dc_dc_converter"]).sum())
    heat = solve_heat(case, plant, p_it, net.rack_vrm_loss, net.rack_shelf_loss, other_loss, ds.attrs["p_grid_w"])
    dh = None
    if case.settings.get("district_heating") is not None:
        from gigawatt.solver.district_heating.stage import HeatOffer, solve_district_heating

        offer = HeatOffer(heat.facility["q_available_w"], heat.facility["t_reuse_k"],
                          heat.facility["t_facility_supply_k"])
        dh = solve_district_heating(case, offer)
        heat = with_recovery(case, plant, heat, float(p_it.sum()), ds.attrs["p_grid_w"], dh.figures["q_recovered_w"])
    ds = add_cooling(ds, plant, heat, t_chip, iterations)
    ds.attrs["electrical_solves"] = 1  # the chip fixed point needs no other (see gigawatt.solver.cooling.stage)
    return _district_heating(ds, case, dh)


def _electrical(case, net, version, p_it=None) -> xr.Dataset:
    """Solve the DC network, monopolar or bipolar (``[dc] system``), and build its results."""
    if (case.settings.get("dc") or {}).get("system") == "bipolar":
        from gigawatt.solver.dc.bipolar import solve_bipolar
        from gigawatt.solver.dc.bipolar_results import build_bipolar_dataset

        state = solve_bipolar(net, case, settings=case.settings["solver"])
        return build_bipolar_dataset(case, net, state, version=version, p_it=p_it)
    state = solve_dc(net, case, settings=case.settings["solver"])
    return build_dataset(case, net, state, version=version, p_it=p_it)


def _ac_grid(ds, case):
    """Add the grid side (:mod:`gigawatt.solver.ac.grid`) when the case has one: the stations draw the DC
    results' intake from their AC buses."""
    if not len(case.tables["ac_bus"]):
        return ds
    from gigawatt.solver.ac.results import add_ac_grid

    return add_ac_grid(ds, case)


def _district_heating(ds, case, dh):
    """Add the district-heating results (solving the network first when the campus has no cooling, so it
    offers no heat and the boiler covers the demand)."""
    if case.settings.get("district_heating") is None:
        return ds
    from gigawatt.solver.district_heating.stage import solve_district_heating
    from gigawatt.solver.district_heating.results import add_district_heating

    return add_district_heating(ds, case, dh if dh is not None else solve_district_heating(case, None))
