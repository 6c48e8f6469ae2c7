"""The library entry point: ``solve(case) -> xarray.Dataset``."""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.case import Case, require_case
from gigawatt.errors import CaseError
from gigawatt.solver.dc.assembly import assemble, with_rack_power
from gigawatt.models.racks import rack_powers
from gigawatt.solver.dc.loadflow import solve_dc, solve_dc_thermal, warm_start_voltages
from gigawatt.solver.dc.meshed_case import chain_dc_dataset, uses_grid_elements
from gigawatt.solver.dc.case_figures import CaseFigures
from gigawatt.solver.dc.results import build_dataset
from gigawatt.solver.plausibility import check_plausibility
from gigawatt.solver.results_schema import conform


def solve(case: Case, *, district_heating_network=None, v_start_v=None, loop_flow_fraction: dict | None = None,
          ac_grid=None) -> xr.Dataset:
    """Solve a case and return its results as a new ``xarray.Dataset``; the case is not changed.

    ``district_heating_network``: the case's district-heating network already prepared
    (:func:`gigawatt.solver.district_heating.stage.prepare_district_heating` of a case with the same
    ``dh_*`` tables and ``[district_heating]`` settings), so that many solves of variants of one campus
    (the contingency analysis) prepare it once; the caller vouches that it matches.

    ``v_start_v``: starting bus voltages [V] of the DC load flow, a ``pandas.Series`` indexed by bus id (a
    warm start: the contingency analysis passes the base case's ``v_v``); buses it does not name, and buses
    held by a stiff source, start at their set-points. Monopolar networks at fixed conductor temperatures use
    it; the result is the same as from a cold start (to the solver's tolerance), only found in fewer
    iterations.

    ``loop_flow_fraction``: cooling loops running below their design flow (loop id → flow over design flow,
    a lost pump), solved at that flow (:func:`gigawatt.solver.cooling.stage.prepare_cooling`).

    ``ac_grid``: the grid side already built (:func:`gigawatt.solver.ac.grid.prepare_ac_grid`; see
    :func:`gigawatt.solver.ac.results.add_ac_grid` for what it must match); the caller vouches that it does.

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
        the maximum power the network could carry; ``.details`` holds them as data), chips in thermal
        runaway, or a result without physical meaning (:mod:`gigawatt.solver.plausibility`: water at more
        than 10 m/s, a bus at or beyond twice its nominal voltage, …; results outside the design ranges
        are kept, with a warning).
    """
    require_case(case, "solve")
    ds = _solve(case, district_heating_network, v_start_v, loop_flow_fraction, ac_grid)
    check_ledgers_finite(ds.attrs, case.file)
    return conform(check_plausibility(ds))


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


def _solve(case: Case, district_heating_network=None, v_start_v=None, loop_flow_fraction=None, ac_grid=None
           ) -> xr.Dataset:
    from gigawatt import __version__

    if not len(case.tables["bus"]) and case.settings.get("district_heating") is not None:
        # A district-heating network alone (for example one converted from pandapipes).
        ds = xr.Dataset(attrs={"title": f"gigawatt district heating of case '{case.name}'", "case_name": case.name,
                               "case_hash": case.hash(), "case_file": case.file or "",
                               "gigawatt_version": __version__, "converged": 1, "warnings": ""})
        return _district_heating(ds, case, None, district_heating_network)
    # A case with DC grid elements (set-power terminals, conductance loads, ratio- or power-controlled or meshed
    # DC/DC converters) has its DC stage solved by the DC grid load flow; net is then None.
    grid = uses_grid_elements(case)
    # What the solve needs of the tables alone (chip powers, bus distances, line ratings): on the second core
    # while this one assembles.
    figures = None if grid or _bipolar(case) else CaseFigures(case)
    net = None if grid else assemble(case, figures=figures)
    if case.settings.get("cooling") is None:
        return _district_heating(_ac_grid(_electrical(case, net, __version__, v_start_v=v_start_v, figures=figures),
                                          case, ac_grid), case, None, district_heating_network)

    from gigawatt.solver.cooling.stage import chip_operating_points, prepare_cooling, solve_heat, with_recovery
    from gigawatt.solver.cooling.results import add_cooling

    plant = prepare_cooling(case, rack_powers(case)[1] if net is None else net.rack_shelf_loss, loop_flow_fraction)
    p_it, t_chip, iterations, t_junction = chip_operating_points(case, plant)
    leaky = case.settings["cooling"]["leakage_model"] != "none"
    if leaky and net is not None:
        net = with_rack_power(net, case, p_it)
    ds = _ac_grid(_electrical(case, net, __version__, p_it=p_it if leaky else None, v_start_v=v_start_v,
                              figures=figures), case, ac_grid)
    # What the facility takes in: the stations' intake and what set-power terminals (storage, links) deliver
    # into the DC network; conductance loads turn their power into heat in the hall air, as the losses do.
    p_in = ds.attrs["p_grid_w"] + ds.attrs.get("p_dc_terminals_w", 0.0)
    other_loss = (float(ds.stage_loss_w.sel(stage=["ac_dc_station", "distribution", "dc_dc_converter"]).sum())
                  + ds.attrs.get("p_dc_conductances_w", 0.0))
    heat = solve_heat(case, plant, p_it, ds["vrm_loss_w"].values, ds["shelf_loss_w"].values, other_loss, p_in)
    dh = None
    if case.settings.get("district_heating") is not None:
        from gigawatt.solver.district_heating.stage import HeatOffer, prepare_district_heating

        offer = HeatOffer(heat.facility["q_available_w"], heat.facility["t_reuse_k"],
                          heat.facility["t_facility_supply_k"])
        dh = (district_heating_network or prepare_district_heating(case)).solve(offer)
        heat = with_recovery(case, plant, heat, p_in, dh.figures["q_recovered_w"])
    ds = add_cooling(ds, plant, heat, t_chip, iterations, t_junction)
    ds.attrs["electrical_solves"] = 1  # the chip fixed point needs no other (see gigawatt.solver.cooling.stage)
    return _kpis(_district_heating(ds, case, dh), case)


def _kpis(ds, case):
    """The facility's KPIs at this instant (the design hour) and the statement of their boundary and basis
    (:mod:`gigawatt.solver.facility_kpis`)."""
    from gigawatt.solver.facility_kpis import kpi_basis, kpi_figures, kpi_units, mix

    a = ds.attrs
    ac_solved = "p_plant_w" in a
    supply_p = ds["ac_supply_p_w"].values if ac_solved else ds["source_p_grid_w"].values
    stage = dict(zip(ds["stage"].values.tolist(), ds["stage_loss_w"].values.tolist()))
    a.update(kpi_figures(case, p_facility_w=a["p_facility_w"], p_cooling_w=a["p_cooling_w"], p_it_w=a["p_it_w"],
                         vrm_loss_w=stage["rack_vrm"], shelf_loss_w=stage["rack_shelf"],
                         q_recovered_w=a["q_recovered_w"], p_ac_loss_w=a.get("p_ac_loss_w", 0.0),
                         supply_mix_=mix(case, supply_p)))
    a["it_boundary"] = case.settings["kpi"]["it_boundary"]
    a["kpi_period"] = "design hour"
    a["kpi_basis"] = kpi_basis(case, ac_solved=ac_solved, ac_in_case=ac_solved, period=(
        "the design hour: every KPI is a ratio of instantaneous powers (the standards define them on annual "
        "energy; run the case along a year ([time]) for the annual figures)"))
    a["kpi_attrs_units"] = kpi_units()
    return ds


def solve_design_points(case: Case) -> dict:
    """The case at its design points, each solved by :func:`solve` and labelled (attribute ``design_point``).

    A case with ``[cooling] summer_design_t_k`` and ``[district_heating]`` has two: ``winter``, the case as
    given (its heating design hour: the network at ``outdoor_t_k``, the dry coolers at ``ambient_t_k``), and
    ``summer``, the cooling design point, with the dry coolers and the network both at ``summer_design_t_k``
    (the heat demand then at its summer level; the dry coolers take what the network does not). Any other case
    has one, ``design``: the case as given.

    Returns
    -------
    dict of str to xarray.Dataset
        ``{"winter": ..., "summer": ...}`` or ``{"design": ...}``, in that order.
    """
    cooling, dh = case.settings.get("cooling"), case.settings.get("district_heating")
    summer = None if cooling is None or dh is None else cooling["summer_design_t_k"]
    first = solve(case)
    if summer is None:
        first.attrs["design_point"] = "the case's design hour"
        return {"design": first}
    t_net, t_air = dh["outdoor_t_k"], cooling["ambient_t_k"]
    first.attrs["design_point"] = ("winter (heating design): " + (f"network and dry coolers at {_c(t_net)}"
                                   if t_net == t_air else f"network at {_c(t_net)}, dry coolers at {_c(t_air)}"))
    settings = {**case.settings, "cooling": {**cooling, "ambient_t_k": summer},
                "district_heating": {**dh, "outdoor_t_k": summer}}
    ds = solve(case.with_tables({}, settings))
    ds.attrs["design_point"] = f"summer (cooling design): network and dry coolers at {_c(summer)}"
    return {"winter": first, "summer": ds}


def _c(t_k: float) -> str:
    return f"{t_k - 273.15:.1f} °C"


def _bipolar(case) -> bool:
    return (case.settings.get("dc") or {}).get("system") == "bipolar"


def _electrical(case, net, version, p_it=None, v_start_v=None, figures=None) -> xr.Dataset:
    """Solve the DC network, monopolar or bipolar (``[dc] system``), and build its results; with ``[solver]
    conductor_temperature = "from_load"`` each line's resistance at its temperature from the load. ``net``
    None: the case has DC grid elements, solved by the DC grid load flow
    (:func:`gigawatt.solver.dc.meshed_case.chain_dc_dataset`). ``figures``: the case's
    :class:`~gigawatt.solver.dc.case_figures.CaseFigures`, when started."""
    from_load = case.settings["solver"]["conductor_temperature"] == "from_load"
    if net is None:
        _grid_settings_supported(case, from_load)
        ds = chain_dc_dataset(case, version=version, p_it=p_it)
    elif _bipolar(case):
        if from_load:
            raise CaseError("conductor temperatures from the load are solved for monopolar DC networks only",
                            file=case.file, element="[solver]", field="conductor_temperature", value="from_load",
                            allowed="fixed in a bipolar case")
        from gigawatt.solver.dc.bipolar import solve_bipolar
        from gigawatt.solver.dc.bipolar_results import build_bipolar_dataset

        state = solve_bipolar(net, case, settings=case.settings["solver"])
        ds = build_bipolar_dataset(case, net, state, version=version, p_it=p_it)
    elif from_load:
        net, state, temp = solve_dc_thermal(net, case, settings=case.settings["solver"])
        ds = build_dataset(case, net, state, version=version, p_it=p_it, line_temp=temp, figures=figures)
    else:
        state = solve_dc(net, case, settings=case.settings["solver"],
                         v_start=None if v_start_v is None else warm_start_voltages(net, case, v_start_v),
                         threads=figures is None or not figures.busy())  # its worker has the other core
        ds = build_dataset(case, net, state, version=version, p_it=p_it, figures=figures)
    ds.attrs.update(idealised_elements(case))
    ds.attrs["rack_power_basis"] = rack_power_basis(case)
    return ds


def rack_power_basis(case) -> str:
    """The racks' ``p_it_basis`` values, sorted and joined ("input" for a case without racks); from the field's
    codes, not a string per rack."""
    code, labels = case.codes("rack", "p_it_basis")
    if code.size and code.min() < 0:  # a value outside the choices (not from a validated case)
        return ", ".join(sorted(set(case.tables["rack"]["p_it_basis"].tolist()))) or "input"
    present = np.flatnonzero(np.bincount(code, minlength=len(labels)))
    return ", ".join(sorted({labels[k] for k in present.tolist()})) or "input"


def _grid_settings_supported(case, from_load: bool) -> None:
    """The DC grid load flow solves a monopolar network at the case's conductor temperatures."""
    bipolar = (case.settings.get("dc") or {}).get("system") == "bipolar"
    if bipolar or from_load:
        element, field, value = (("[dc]", "system", "bipolar") if bipolar else
                                 ("[solver]", "conductor_temperature", "from_load"))
        raise CaseError("a case with DC grid elements (set-power terminals, conductance loads, ratio- or power-"
                        "controlled or meshed DC/DC converters) is solved monopolar at fixed conductor temperatures",
                        file=case.file, element=element, field=field, value=value,
                        allowed="monopolar, fixed" if bipolar else "fixed")


def idealised_elements(case) -> dict:
    """Counts of the elements the case makes lossless (in service): stations without a loss model, racks
    without shelves; the summary states them."""
    src = case.tables["source"]
    shelf_code, labels = case.codes("rack", "shelf_loss_model")  # no string compared per rack
    return {"lossless_stations": int(((src["loss_model"].to_numpy() == "") & src["in_service"].to_numpy(bool)).sum()),
            "racks_without_shelf": int(np.count_nonzero(shelf_code == labels.index("")))}


def _ac_grid(ds, case, grid=None):
    """Add the grid side (:mod:`gigawatt.solver.ac.grid`) when the case has one: the stations draw the DC
    results' intake from their AC buses."""
    if not len(case.tables["ac_bus"]):
        return ds
    from gigawatt.solver.ac.results import add_ac_grid

    return add_ac_grid(ds, case, grid)


def _district_heating(ds, case, dh, network=None):
    """Add the district-heating results (solving the network first when the campus has no cooling, so it
    offers no heat and the boiler covers the demand)."""
    if case.settings.get("district_heating") is None:
        return ds
    from gigawatt.solver.district_heating.stage import prepare_district_heating
    from gigawatt.solver.district_heating.results import add_district_heating

    return add_district_heating(ds, case, dh if dh is not None else
                                (network or prepare_district_heating(case)).solve(None))
