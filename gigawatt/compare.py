"""Compare distribution architectures on the same IT load: ``gigawatt compare CASE --architectures ac,dc800,dc400``.

Each architecture is the case transformed by :mod:`gigawatt.cases.architectures` and solved by
:func:`gigawatt.solve` (electrical chain only). The result is one ``xarray.Dataset`` with a dimension
``architecture``: grid-to-chip efficiency, losses by stage, conductor sections and masses, annual energy and
its cost at a tariff, and each figure's difference against the first architecture.

Stages (dimension ``stage``), the same names for every architecture:

``station``          MV/LV transformer (ac) or the AC/DC station, rectifier or SST (dc800, dc400)
``ups``              double-conversion UPS (ac)
``pdu_transformer``  PDU transformer (ac)
``dc_dc_converter``  other converters of the case
``distribution``     conductors (I²R; ac: three phases, per-phase equivalent)
``rack_shelf``       server power supplies (ac) or rack power shelves (dc)
``rack_vrm``         everything after the shelf output: intermediate bus converters and voltage regulators

Every stage's assumption (its loss model in numbers, the rating it runs against, the wiring, whether a PDU
transformer is there, and the source of each, or "assumption") is printed with the table and stored in the
dataset's attributes ``assumption_<architecture>_<stage>``; ``stage_efficiency`` is what each stage achieved in
the solve (output over input, the chain being in series). Defaults: N+N rack supplies and shelves (each at half
load), ORv3 three-wire delta AC feeds, no PDU transformer on the 400 V-class AC chain; presets
(:data:`gigawatt.cases.architectures.PRESETS`, ``--preset``) reproduce published comparisons by name.

Sign convention: powers and energies positive from the grid towards the chips; differences are
``architecture − first architecture`` (a negative ``d_annual_energy_mwh`` is a saving).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.architectures import (ARCHITECTURES, PRESETS, ArchitectureOptions, build_architecture,
                                          conductor_mass_kg, preset_options)
from gigawatt.cases.case import require_case
from gigawatt.errors import CaseError

STAGES = ("station", "ups", "pdu_transformer", "dc_dc_converter", "distribution", "rack_shelf", "rack_vrm")
"""Loss stages of the comparison (see the module docstring)."""

DEFAULT_TARIFF_PER_MWH = 80.0
"""Default energy tariff [currency/MWh]. **Assumption**: an order of magnitude for a large industrial
consumer (energy plus network charges); state your own with ``--tariff``."""

HOURS_PER_YEAR = 8760.0
"""Default operating hours per year [h]: constant load all year."""


def parse_architectures(text: str) -> list[str]:
    """``"ac,dc800"`` → ``["ac", "dc800"]``; raises CaseError for an unknown or repeated name."""
    names = [s.strip() for s in str(text).split(",") if s.strip()]
    if not names:
        raise CaseError("no architecture given", field="architectures", value=text,
                        allowed="comma-separated names from " + ", ".join(ARCHITECTURES))
    for name in names:
        if name not in ARCHITECTURES:
            raise CaseError("unknown architecture", field="architectures", value=name,
                            allowed="one of " + ", ".join(ARCHITECTURES))
    if len(set(names)) != len(names):
        raise CaseError("architecture named twice", field="architectures", value=text)
    return names


def _stage_losses(arch, ds) -> np.ndarray:
    """Losses [W] by :data:`STAGES` from one solve's results."""
    stage = dict(zip(ds["stage"].values.tolist(), ds["stage_loss_w"].values.tolist()))
    conv = {name: 0.0 for name in ("ups", "pdu_transformer", "dc_dc_converter")}
    if "converter_loss_w" in ds and ds.sizes.get("converter", 0):
        for cid, loss in zip(ds["converter"].values.tolist(), ds["converter_loss_w"].values.tolist()):
            conv[arch.converter_stage.get(cid, "dc_dc_converter")] += loss
    return np.array([stage["ac_dc_station"], conv["ups"], conv["pdu_transformer"], conv["dc_dc_converter"],
                     stage["distribution"], stage["rack_shelf"], stage["rack_vrm"]])


def compare(case, architectures=None, *, tariff_per_mwh: float = DEFAULT_TARIFF_PER_MWH,
            hours: float = HOURS_PER_YEAR, options: ArchitectureOptions | None = None,
            preset: str | None = None) -> xr.Dataset:
    """Solve ``case`` in each architecture and compare them.

    Parameters
    ----------
    case : gigawatt.cases.case.Case
        A monopolar DC case (see :mod:`gigawatt.cases.architectures`).
    architectures : sequence of str or str, optional
        Names from :data:`gigawatt.cases.architectures.ARCHITECTURES` (or ``"ac,dc800"``); the first is the
        baseline of the differences. Default: the preset's, else ``ac, dc800, dc400``.
    tariff_per_mwh : float
        Energy price [currency/MWh], >= 0 (default :data:`DEFAULT_TARIFF_PER_MWH`, an assumption).
    hours : float
        Operating hours per year at this load [h], in (0, 8784].
    options : ArchitectureOptions, optional
        Transform parameters (conductor sizing rule, AC voltage and power factor, provisioning, ...); default:
        the preset's, else :class:`~gigawatt.cases.architectures.ArchitectureOptions` ().
    preset : str, optional
        A key of :data:`gigawatt.cases.architectures.PRESETS` (``lbnl2008``, ``nvidia800vdc``).

    Returns
    -------
    xarray.Dataset
        Dimensions ``architecture``, ``stage``, ``line``; the ledger of each solve closes
        (``energy_balance_residual``); attrs hold the tariff, hours, sizing rule, the preset and every stage's
        assumption with its source (``assumption_<architecture>_<stage>``).
    """
    require_case(case, "compare")
    if options is None:
        options = preset_options(preset)
    elif preset is not None:
        preset_options(preset)  # a bad name is still an error
    if architectures is None:
        architectures = PRESETS[preset].architectures if preset else ("ac", "dc800", "dc400")
    names = parse_architectures(architectures) if isinstance(architectures, str) else list(architectures)
    parse_architectures(",".join(names))
    if not (np.isfinite(tariff_per_mwh) and tariff_per_mwh >= 0):
        raise CaseError("tariff out of range", field="tariff", value=tariff_per_mwh, allowed=">= 0 per MWh")
    if not (0 < hours <= 8784):
        raise CaseError("hours out of range", field="hours", value=hours, allowed="(0, 8784] h per year")
    import gigawatt as gw

    rows = []
    for name in names:
        arch = build_architecture(case, name, options)
        ds = gw.solve(arch.case)
        line = arch.case.tables["line"]
        mass = conductor_mass_kg(arch)
        copper = np.where(line["material"].to_numpy() == "copper", mass, 0.0)
        losses = _stage_losses(arch, ds)
        rows.append({
            "efficiency_grid_to_chip": ds.attrs["efficiency_grid_to_chip"], "p_grid_w": ds.attrs["p_grid_w"],
            "p_it_w": ds.attrs["p_it_w"], "p_rack_input_w": ds.attrs["p_rack_input_w"], "p_loss_w": ds.attrs["p_loss_w"],
            "energy_balance_residual": ds.attrs["energy_balance_residual"],
            "stage_loss_w": losses, "stage_efficiency": stage_efficiency(ds.attrs["p_grid_w"], losses),
            "cross_section_m2": line["cross_section_m2"].to_numpy(float),
            "conductors_per_circuit": arch.conductors, "conductor_mass_kg": mass,
            "copper_mass_kg": float(np.nansum(copper)), "line_ids": line["id"].to_numpy(),
            "assumptions": arch.assumptions,
        })
    return _dataset(case, names, rows, tariff_per_mwh, hours, options, preset)


def stage_efficiency(p_grid_w: float, stage_loss_w) -> np.ndarray:
    r"""What each stage of a series chain achieved: :math:`\eta_k = 1 - L_k / P_{in,k}`, with
    :math:`P_{in,k} = P_{grid} - \sum_{j<k} L_j` the power entering stage k (stages in :data:`STAGES` order,
    grid to chip) [-]; 1 for a stage without loss. The product of the stage efficiencies is the grid-to-chip
    efficiency (each stage passes on what it receives less its loss)."""
    loss = np.asarray(stage_loss_w, dtype=float)
    p_in = p_grid_w - np.concatenate([[0.0], np.cumsum(loss)[:-1]])
    return 1.0 - np.divide(loss, p_in, out=np.zeros_like(loss), where=p_in > 0)


def _dataset(case, names, rows, tariff, hours, options, preset) -> xr.Dataset:
    line_ids = rows[0]["line_ids"]
    for r in rows[1:]:  # the transform keeps line ids: one line dimension for all
        assert (r["line_ids"] == line_ids).all()

    def var(dims, key, unit, long_name, values=None):
        data = np.array([r[key] for r in rows]) if values is None else values
        return xr.Variable(dims, data, attrs={"units": unit, "long_name": long_name})

    a = ("architecture",)
    ds = xr.Dataset(coords={"architecture": names, "stage": list(STAGES), "line": line_ids})
    ds["efficiency_grid_to_chip"] = var(a, "efficiency_grid_to_chip", "1", "IT power over grid power")
    ds["p_grid_w"] = var(a, "p_grid_w", "W", "power drawn from the grid")
    ds["p_it_w"] = var(a, "p_it_w", "W", "power at the chips: the compute load every architecture carries")
    ds["p_rack_input_w"] = var(a, "p_rack_input_w", "W", "IT power at the rack inputs (the IT equipment of ISO/IEC "
                               "30134-2): chips + the architecture's rack chain")
    ds["p_loss_w"] = var(a, "p_loss_w", "W", "all losses, grid to chip")
    ds["energy_balance_residual"] = var(a, "energy_balance_residual", "1", "relative residual of the energy ledger")
    ds["stage_loss_w"] = var(a + ("stage",), "stage_loss_w", "W", "losses by stage")
    ds["stage_efficiency"] = var(a + ("stage",), "stage_efficiency", "1",
                                 "output over input of each stage in the solve (1 where the architecture has none)")
    ds["cross_section_m2"] = var(a + ("line",), "cross_section_m2", "m^2", "section of one phase or pole conductor")
    ds["conductors_per_circuit"] = var(a + ("line",), "conductors_per_circuit", "1",
                                       "conductors per circuit, weighted by section (ac: 3 phases, + neutral "
                                       "where the rack standard's feed has one; dc800: 2; dc400: 2 poles + neutral)")
    ds["conductor_mass_kg"] = var(a + ("line",), "conductor_mass_kg", "kg", "conductor mass of the line")
    ds["copper_mass_kg"] = var(a, "copper_mass_kg", "kg", "copper mass of all copper lines (density 8960 kg/m3)")
    energy = ds["p_grid_w"].values * hours / 1e6  # W·h → MWh
    ds["annual_energy_mwh"] = var(a, None, "MW h", "grid energy per year", energy)
    # A cost has no physical unit pint or UDUNITS could parse: no units attribute, the currency in its name.
    ds["annual_cost"] = xr.Variable(a, energy * tariff, attrs={
        "long_name": "cost of the grid energy per year at the tariff (in the tariff's currency)"})
    for key in ("efficiency_grid_to_chip", "p_grid_w", "p_loss_w", "annual_energy_mwh", "annual_cost",
                "copper_mass_kg"):
        ds[f"d_{key}"] = ds[key] - ds[key].isel(architecture=0)
        ds[f"d_{key}"].attrs = {**{k: v for k, v in ds[key].attrs.items() if k == "units"},
                                "long_name": f"{ds[key].attrs['long_name']}, minus the first architecture's"}
    ds["d_stage_loss_w"] = ds["stage_loss_w"] - ds["stage_loss_w"].isel(architecture=0)
    ds["d_stage_loss_w"].attrs = {"units": "W", "long_name": "losses by stage, minus the first architecture's"}
    ds.attrs.update({
        "title": f"gigawatt architecture comparison of case '{case.name}'", "case_name": case.name,
        "case_hash": case.hash(), "tariff_per_mwh": float(tariff), "hours_per_year": float(hours),
        "sizing_rule": options.sizing, "ac_v_ll_v": options.ac_v_ll_v, "power_factor": options.power_factor,
        "rack_standard": options.rack_standard, "pdu_transformer": int(options.pdu_transformer),
        "ups_rating_factor": options.ups_rating_factor,
        "shelf_provisioning": "case ratings" if options.shelf_provisioning is None else options.shelf_provisioning,
        "preset": preset or "none (defaults)", "baseline": names[0],
        "sign_convention": "powers positive from grid towards chips; d_* = architecture minus the first",
    })
    if preset:
        ds.attrs.update(preset_source=PRESETS[preset].source, preset_published=PRESETS[preset].published)
    for name, r in zip(names, rows):
        for stage, text in r["assumptions"].items():
            ds.attrs[f"assumption_{name}_{stage}"] = text
    from gigawatt.solver.results_schema import conform

    return conform(ds)


def format_comparison(ds: xr.Dataset) -> str:
    """Plain-text table of a comparison (one column per architecture)."""
    names = [str(n) for n in ds["architecture"].values]
    first = names[0]
    rows = [("", *names)]

    def add(label, values, fmt):
        rows.append((label, *(fmt.format(v) for v in values)))

    add("grid-to-chip efficiency [%]", ds["efficiency_grid_to_chip"].values * 100, "{:.3f}")
    add("grid power [MW]", ds["p_grid_w"].values / 1e6, "{:.4f}")
    add("IT power at the rack inputs [MW]", ds["p_rack_input_w"].values / 1e6, "{:.4f}")
    add("power at the chips [MW]", ds["p_it_w"].values / 1e6, "{:.4f}")
    for s in ds["stage"].values:
        add(f"  loss {s} [MW]", ds["stage_loss_w"].sel(stage=s).values / 1e6, "{:.4f}")
    for s in ds["stage"].values:
        add(f"  efficiency {s} [%]", ds["stage_efficiency"].sel(stage=s).values * 100, "{:.3f}")
    add("losses [MW]", ds["p_loss_w"].values / 1e6, "{:.4f}")
    add("copper [t]", ds["copper_mass_kg"].values / 1e3, "{:.2f}")
    add("largest section [mm2]", np.nanmax(ds["cross_section_m2"].values, axis=1) * 1e6, "{:.0f}")
    add("annual energy [MWh]", ds["annual_energy_mwh"].values, "{:.0f}")
    add(f"annual cost [at {ds.attrs['tariff_per_mwh']:g}/MWh]", ds["annual_cost"].values, "{:.0f}")
    add(f"efficiency vs {first} [pp]", ds["d_efficiency_grid_to_chip"].values * 100, "{:+.3f}")
    add(f"energy vs {first} [MWh/yr]", ds["d_annual_energy_mwh"].values, "{:+.0f}")
    add(f"cost vs {first} [per yr]", ds["d_annual_cost"].values, "{:+.0f}")
    add(f"copper vs {first} [t]", ds["d_copper_mass_kg"].values / 1e3, "{:+.2f}")
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))) for r in rows]
    a = ds.attrs
    lines.append(f"case '{a['case_name']}', {a['hours_per_year']:g} h/yr, conductor sizing: {a['sizing_rule']}; "
                 "every architecture carries the same power at the chips (the case's racks at their nominal power, "
                 "no chip leakage: cooling is not solved); copper counts every conductor of a circuit (ac: the phases, and the neutral where the feed "
                 "has one; dc800 2; dc400 2 poles + neutral)")
    if a["preset"] != "none (defaults)":
        lines.append(f"preset '{a['preset']}': {a['preset_source']}; published: {a['preset_published']}")
    lines.append("assumptions by stage (model, rating, source):")
    for name in names:
        lines += [f"  {name} {s}: {a[f'assumption_{name}_{s}']}" for s in ds["stage"].values
                  if f"assumption_{name}_{s}" in a]
    return "\n".join(lines)
