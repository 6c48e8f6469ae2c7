"""Runners of the architecture cases (AC chain, 800 VDC, published AC-versus-DC figures).

Each builds a small monopolar DC case, turns it into its architectures with
:func:`gigawatt.cases.architectures.build_architecture`, solves them with :func:`gigawatt.solve` and reports
what it measured. Case data (inputs with their sources, expected values, tolerances) live in
``validation/cases/arch_*.toml``. Units SI; savings and gains are fractions (0.05 = 5 %).
"""
from __future__ import annotations

import math

import numpy as np


def _measured(*args, **kwargs):
    # Imported here, not at module level: checks.py imports this module to register its runners.
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def _feeder_dc_case(inp: dict, name: str):
    """Reference DC case: station → feeder → row bus with ``n_racks`` racks (shelf + VRM)."""
    import gigawatt as gw

    v = inp["v_ref_v"]
    racks = [{"id": f"rack{k}", "bus": "row", "p_it_w": inp["rack_it_power_w"], "p_it_basis": "chips",
              "vrm_efficiency": inp["vrm_efficiency"],
              "shelf_rated_power_w": inp["shelf_rated_power_w"]}
             for k in range(inp["n_racks"])]
    line = []
    if inp.get("feeder_length_m"):
        line = [{"id": "feeder", "from_bus": "station", "to_bus": "row", "length_m": inp["feeder_length_m"],
                 "cross_section_m2": inp["feeder_cross_section_m2"]}]
    bus_row = [{"id": "row", "v_nominal_v": v}] if line else []
    if not line:
        for r in racks:
            r["bus"] = "station"
    return gw.make_case(
        {"bus": [{"id": "station", "v_nominal_v": v}] + bus_row, "line": line,
         "source": [{"id": "ST", "bus": "station", "v_set_v": v, "rated_power_w": inp["station_rated_power_w"]}],
         "rack": racks},
        case={"name": name})


def _solve(case, name, **options):
    import gigawatt as gw
    from gigawatt.cases.architectures import build_architecture

    arch = build_architecture(case, name, **options)
    return arch, gw.solve(arch.case)


# --- published --------------------------------------------------------------------------------------

def _preset_comparison(case, inp: dict):
    """The case compared through the preset the case file names, with the file's option changes."""
    from gigawatt.cases.architectures import preset_options
    from gigawatt.compare import compare

    return compare(case, options=preset_options(inp["preset"], **inp.get("options", {})), preset=inp["preset"])


def _residuals(ds) -> list:
    return [_measured("energy_balance_residual", float(r), point=str(a))
            for a, r in zip(ds["architecture"].values, ds["energy_balance_residual"].values)]


def lbnl_dc_vs_best_practice_ac(spec):
    """LBNL/EPRI 2008: 380 VDC against best-practice AC through the ``lbnl2008`` preset (its per-stage
    efficiencies, each with its source, in :data:`gigawatt.cases.architectures.PRESETS`)."""
    inp = spec["inputs"]
    ds = _preset_comparison(_feeder_dc_case(inp, spec["name"]), inp)
    p_grid = dict(zip(ds["architecture"].values.tolist(), ds["p_grid_w"].values.tolist()))
    return [_measured("dc_saving_vs_best_practice_ac", 1.0 - p_grid["dc800"] / p_grid["ac"])] + _residuals(ds)


def nvidia_800vdc_gain(spec):
    """800 VDC against 415 VAC on a small campus through the ``nvidia800vdc`` preset: N+N supplies and
    shelves, PDU transformers, three-wire (delta) AC feeds."""
    import gigawatt as gw

    inp = spec["inputs"]
    ds = _preset_comparison(gw.build_campus(**inp["campus"]), inp)
    d = ds.sel(architecture="dc800")
    return [_measured("efficiency_gain_dc800_vs_ac", float(d["d_efficiency_grid_to_chip"])),
            _measured("copper_reduction_dc800_vs_ac", -float(d["d_copper_mass_kg"])
                      / float(ds["copper_mass_kg"].sel(architecture="ac")))] + _residuals(ds)


# --- analytic ---------------------------------------------------------------------------------------

def ac_chain_product(spec):
    """Lossless conductors: the AC chain's grid-to-chip efficiency is the product of its stage efficiencies,
    each evaluated by hand at its own operating point, walking from the chips up to the grid."""
    from gigawatt.cases.architectures import DEFAULT_AC_LOSS_MODELS
    from gigawatt.models.ac_chain import chain_efficiency, transformer_loss_w

    inp = spec["inputs"]
    pf = inp["power_factor"]
    case = _feeder_dc_case({**inp, "feeder_length_m": 0}, spec["name"])
    out = []
    for ups_factor in inp["ups_rating_factors"]:
        _, ds = _solve(case, "ac", power_factor=pf, ups_rating_factor=ups_factor, pdu_transformer=True,
                       shelf_provisioning=None)
        # By hand: the rack's PSU curve (linear interpolation), then PDU, UPS and MV transformer.
        p_it = inp["rack_it_power_w"] * inp["n_racks"]
        p_shelf_out = p_it / inp["vrm_efficiency"]
        psu = DEFAULT_AC_LOSS_MODELS["ac_psu"]
        eta_psu = float(np.interp(p_shelf_out / inp["n_racks"] / inp["shelf_rated_power_w"], psu["load_fraction"],
                                  psu["efficiency"]))
        p_pdu_out = p_shelf_out / eta_psu
        rated = inp["station_rated_power_w"]
        pdu = DEFAULT_AC_LOSS_MODELS["ac_pdu_transformer"]
        p_ups_out = p_pdu_out + float(transformer_loss_w(p_pdu_out, rated / pf, pdu["no_load_loss_fraction"],
                                                         pdu["load_loss_fraction"], pf))
        ups = DEFAULT_AC_LOSS_MODELS["ac_ups"]
        eta_ups = float(np.interp(p_ups_out / (rated * ups_factor), ups["load_fraction"], ups["efficiency"]))
        p_tx_out = p_ups_out / eta_ups
        mv = DEFAULT_AC_LOSS_MODELS["ac_mv_transformer"]
        p_grid = p_tx_out + float(transformer_loss_w(p_tx_out, rated / pf, mv["no_load_loss_fraction"],
                                                     mv["load_loss_fraction"], pf))
        stages = [inp["vrm_efficiency"], eta_psu, p_pdu_out / p_ups_out, eta_ups, p_tx_out / p_grid]
        point = f"UPS rated {ups_factor:g} x station"
        out += [_measured("efficiency_grid_to_chip", float(ds.attrs["efficiency_grid_to_chip"]),
                          chain_efficiency(stages), point=point),
                _measured("energy_balance_residual", float(ds.attrs["energy_balance_residual"]), point=point)]
    return out


def three_phase_feeder_loss(spec):
    """The per-phase equivalent line of the AC architecture loses 3 I² R_phase, I = P / (√3 V cos φ)."""
    from gigawatt.models.ac_chain import three_phase_conductor_loss_w
    from gigawatt.models.conductors import MATERIALS, conductor_resistance

    inp = spec["inputs"]
    case = _feeder_dc_case(inp, spec["name"])
    out = []
    for pf in inp["power_factors"]:
        arch, ds = _solve(case, "ac", power_factor=pf, ac_v_ll_v=inp["ac_v_ll_v"])
        a = float(arch.case.tables["line"]["cross_section_m2"].iloc[0])
        cu = MATERIALS["copper"]
        r_phase = float(conductor_resistance(inp["feeder_length_m"], a, cu["rho20_ohm_m"], cu["alpha_per_k"],
                                             inp["conductor_temp_k"], loop_factor=1.0))
        p_row = float(ds["rack_p_in_w"].sum())  # delivered at the row bus
        v_row = float(ds["v_v"].sel(bus="row"))
        point = f"power factor {pf:g}"
        out += [_measured("p_loss_feeder_w", float(ds["line_p_loss_w"].sel(line="feeder")),
                          float(three_phase_conductor_loss_w(p_row, v_row, r_phase, pf)), point=point)]
    return out


# --- cross-code -------------------------------------------------------------------------------------

def ac_per_phase_vs_pandapower(spec):
    """A radial 415 V feeder with taps, solved as gigawatt's per-phase equivalent and by pandapower's balanced
    AC load flow (ext_grid at the PDU output, loads P + jP·tan φ); total conductor loss and the far-end voltage."""
    import pandapower as pp

    import gigawatt as gw
    from gigawatt.cases.architectures import build_architecture
    from gigawatt.models.conductors import MATERIALS, conductor_resistance

    inp = spec["inputs"]
    v = inp["ac_v_ll_v"]
    n = inp["n_taps"]

    buses = [{"id": "pdu", "v_nominal_v": v}] + [{"id": f"T{k}", "v_nominal_v": v} for k in range(n)]
    lines = [{"id": f"seg{k}", "from_bus": "pdu" if k == 0 else f"T{k - 1}", "to_bus": f"T{k}",
              "length_m": inp["segment_length_m"], "cross_section_m2": inp["cross_section_m2"]} for k in range(n)]
    racks = [{"id": f"rack{k}", "bus": f"T{k}", "p_it_w": inp["tap_power_w"], "vrm_efficiency": 1.0,
              "shelf_rated_power_w": 2 * inp["tap_power_w"]} for k in range(n)]
    lossless = {name: {"kind": "constant_efficiency", "efficiency": 1.0} for name in ("ac_mv_transformer", "ac_ups", "ac_pdu_transformer", "ac_psu")}
    case = gw.make_case({"bus": buses, "line": lines, "rack": racks,
                         "source": [{"id": "PDU", "bus": "pdu", "v_set_v": v, "rated_power_w": 10 * n * inp["tap_power_w"]}]},
                        loss_models=lossless, case={"name": spec["name"]})
    cu = MATERIALS["copper"]
    out = []
    for variant in inp["variants"]:
        pf, x_ohm_per_km = variant["power_factor"], variant["x_ohm_per_km"]
        arch = build_architecture(case, "ac", power_factor=pf, ac_v_ll_v=v)
        # The comparison is of one given conductor, not of a sizing rule: put the given section back.
        tables = dict(arch.case.tables)
        tables["line"] = tables["line"].assign(cross_section_m2=inp["cross_section_m2"], r_ohm=np.nan)
        ac_case = gw.make_case(tables, loss_models=dict(arch.case.loss_model_params), case={"name": spec["name"]})
        ds = gw.solve(ac_case)

        net = pp.create_empty_network()
        b = [pp.create_bus(net, vn_kv=v / 1e3, name="pdu")]
        b += [pp.create_bus(net, vn_kv=v / 1e3, name=f"T{k}") for k in range(n)]
        pp.create_ext_grid(net, b[0], vm_pu=1.0)
        r_per_km = float(conductor_resistance(1000.0, inp["cross_section_m2"], cu["rho20_ohm_m"], cu["alpha_per_k"],
                                              inp["conductor_temp_k"], loop_factor=1.0))
        for k in range(n):
            pp.create_line_from_parameters(net, b[k], b[k + 1], length_km=inp["segment_length_m"] / 1e3,
                                           r_ohm_per_km=r_per_km, x_ohm_per_km=x_ohm_per_km, c_nf_per_km=0.0,
                                           max_i_ka=100.0)
            p_mw = inp["tap_power_w"] / 1e6
            pp.create_load(net, b[k + 1], p_mw=p_mw, q_mvar=p_mw * math.tan(math.acos(pf)))
        pp.runpp(net, init="flat", tolerance_mva=1e-10, max_iteration=50)
        point = variant["name"]
        out += [_measured("p_loss_distribution_w", float(ds["stage_loss_w"].sel(stage="distribution")),
                          float(net.res_line.pl_mw.sum() * 1e6), point=point),
                _measured("v_far_end_pu", float(ds["v_pu"].sel(bus=f"T{n - 1}")),
                          float(net.res_bus.vm_pu.iloc[-1]), point=point)]
    return out


ARCH_RUNNERS = {
    "lbnl_dc_vs_best_practice_ac": lbnl_dc_vs_best_practice_ac,
    "nvidia_800vdc_gain": nvidia_800vdc_gain,
    "ac_chain_product": ac_chain_product,
    "three_phase_feeder_loss": three_phase_feeder_loss,
    "ac_per_phase_vs_pandapower": ac_per_phase_vs_pandapower,
}
"""Runners of the architecture cases, by the name their case files give under ``runner`` (registered in
:data:`gigawatt.validation.dc_checks.RUNNERS`)."""
