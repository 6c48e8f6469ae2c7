"""Runners of the grid-side validation cases (``validation/cases/ac_*.toml``).

- ``ac_two_bus``: a small AC/DC case solved by hand. A stiff DC station feeds a rack through a resistive line
  (DC closed form), draws its DC output over its efficiency from its AC bus at a power factor, and that bus hangs
  from an infinite bus through an R + jX line: the receiving-end voltage is the root of a quadratic in V²
  (:func:`two_bus_receiving_voltage`), the line's loss and reactive consumption follow from the current.
- ``ac_dc_coupling``: on campuses with a grid side of both supply kinds, each station's AC power as the AC
  network delivers it (minus the power entering its own MV cable at the station end, which pandapower computes
  from the bus voltages and the cable's admittance) against its DC output plus the loss its loss model gives at
  its DC operating point; and the plant-to-chip ledger.

Units: SI (V line-to-line, W and var three-phase totals, Ω per phase).
"""
from __future__ import annotations

import math

import numpy as np



def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured  # here: checks imports this module's runners

    return Measured(*args, **kwargs)


def two_bus_receiving_voltage(v1_v, r_ohm, x_ohm, p_w, q_var):
    r"""Receiving-end line-to-line voltage [V] of a line of series impedance R + jX [Ω per phase] fed from a
    stiff bus at ``v1_v`` [V] and loaded at its far end with P + jQ [W, var, three-phase, lagging Q > 0].

    From :math:`V_1 = V_2 + (R + jX)\,S^*/V_2^*` (V2 the reference angle), the magnitude satisfies

    .. math:: V_2^4 + \left(2(PR + QX) - V_1^2\right)V_2^2 + (P^2 + Q^2)(R^2 + X^2) = 0,

    whose larger root is the stable operating point:
    :math:`V_2^2 = \tfrac12\left(b + \sqrt{b^2 - 4(P^2+Q^2)(R^2+X^2)}\right)`, :math:`b = V_1^2 - 2(PR+QX)`.
    Valid while the discriminant is non-negative (below the nose of the P–V curve); no shunt admittance.
    """
    b = v1_v * v1_v - 2.0 * (p_w * r_ohm + q_var * x_ohm)
    disc = b * b - 4.0 * (p_w * p_w + q_var * q_var) * (r_ohm * r_ohm + x_ohm * x_ohm)
    if disc < 0:
        raise ValueError("the load is beyond the line's maximum transferable power")
    return math.sqrt(0.5 * (b + math.sqrt(disc)))


def _two_bus_case(inp, point, name):
    import gigawatt as gw

    v0 = inp["v_dc_v"]
    station = {"id": "station", "bus": "dc_station", "v_set_v": v0, "rated_power_w": inp["station_rated_power_w"],
               "loss_model": "eta", "ac_bus": "mv_station"}
    station.update({k: point[k] for k in ("power_factor", "q_var") if k in point})
    return gw.make_case(
        {"bus": [{"id": "dc_station", "v_nominal_v": v0}, {"id": "dc_load", "v_nominal_v": v0}],
         "line": [{"id": "dc_line", "from_bus": "dc_station", "to_bus": "dc_load", "length_m": 10.0,
                   "r_ohm": inp["dc_r_ohm"]}],
         "source": [station],
         "rack": [{"id": "rack", "bus": "dc_load", "p_it_w": inp["rack_p_w"], "vrm_efficiency": 1.0}],
         "ac_bus": [{"id": "grid", "v_nominal_v": inp["v_ac_v"]}, {"id": "mv_station", "v_nominal_v": inp["v_ac_v"]}],
         "ac_line": [{"id": "ac_line", "from_bus": "grid", "to_bus": "mv_station", "length_m": inp["ac_length_m"],
                      "r_ohm_per_m": inp["ac_r_ohm"] / inp["ac_length_m"],
                      "x_ohm_per_m": inp["ac_x_ohm"] / inp["ac_length_m"], "c_f_per_m": 0.0}],
         "ac_supply": [{"id": "substation", "bus": "grid", "kind": "ext_grid", "vm_pu": 1.0}]},
        loss_models={"eta": {"kind": "constant_efficiency", "efficiency": inp["station_efficiency"]}},
        case={"name": name})


def ac_two_bus(spec):
    """DC closed form → station intake P_dc/η and Q → AC two-bus closed form, at each operating point."""
    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for point in inp["points"]:
        ds = gw.solve(_two_bus_case(inp, point, spec["name"]))
        # By hand: the DC side (stiff station, resistive line, constant-power rack) ...
        v0, r_dc, p_rack = inp["v_dc_v"], inp["dc_r_ohm"], inp["rack_p_w"]
        from gigawatt.validation.dc_checks import constant_power_voltage

        v_load = constant_power_voltage(v0, r_dc, p_rack)
        p_dc = v0 * (v0 - v_load) / r_dc
        p_ac = p_dc / inp["station_efficiency"]
        q_ac = point["q_var"] if "q_var" in point else p_ac * math.tan(math.acos(point["power_factor"]))
        # ... then the AC side.
        r, x, v1 = inp["ac_r_ohm"], inp["ac_x_ohm"], inp["v_ac_v"]
        v2 = two_bus_receiving_voltage(v1, r, x, p_ac, q_ac)
        s2 = (p_ac * p_ac + q_ac * q_ac) / (v2 * v2)  # |I|² · 3 per ohm: 3|I|² = S²/V² (line-to-line V)
        tag = point["label"]
        out += [_measured("p_station_ac_w", float(ds["source_p_ac_w"].sel(source="station")), p_ac, tag),
                _measured("q_station_ac_var", float(ds["source_q_ac_var"].sel(source="station")), q_ac, tag),
                _measured("v_station_ac_v", float(ds["ac_v_v"].sel(ac_bus="mv_station")), v2, tag),
                _measured("p_ac_line_loss_w", float(ds["ac_line_loss_w"].sel(ac_line="ac_line")), s2 * r, tag),
                _measured("p_plant_w", float(ds.attrs["p_plant_w"]), p_ac + s2 * r, tag),
                _measured("q_plant_var", float(ds.attrs["q_plant_var"]), q_ac + s2 * x, tag),
                _measured("plant_energy_balance_residual", float(ds.attrs["plant_energy_balance_residual"]), 0.0, tag)]
    return out


def ac_dc_coupling(spec):
    """Station AC power delivered by the network = DC output + station loss, on built campuses."""
    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for grid in inp["grid_kinds"]:
        case = gw.build_campus(**inp["campus"], grid=grid, loss_models=inp["loss_models"],
                               case={"name": f"{spec['name']} ({grid})"})
        ds = gw.solve(case)
        src = case.tables["source"]
        model = case.loss_models[inp["campus"]["station_loss_model"]]
        p_dc = ds["p_dc_w"].to_numpy()
        loss = model.loss_w(p_dc, ds["source_v_v"].to_numpy(), src["rated_power_w"].to_numpy(float))
        # Each station has its own MV cable ending at its AC bus; the power entering that cable at the station
        # end is minus what the network delivers to the station.
        cable = ds["ac_line_to_bus"].to_series().reset_index().set_index("ac_line_to_bus")["ac_line"]
        delivered = -ds["ac_line_p_to_w"].sel(ac_line=cable.loc[src["ac_bus"].to_numpy()].to_numpy()).to_numpy()
        dev = np.abs(delivered - (p_dc + loss)) / (p_dc + loss)
        tag = f"{grid}, {len(src)} stations"
        out += [_measured("max_rel_dev_station_ac_power", float(dev.max()), 0.0, tag),
                _measured("ac_coupling_residual", float(ds.attrs["ac_coupling_residual"]), 0.0, tag),
                _measured("plant_energy_balance_residual", float(ds.attrs["plant_energy_balance_residual"]), 0.0, tag)]
    return out


AC_RUNNERS = {"ac_two_bus": ac_two_bus, "ac_dc_coupling": ac_dc_coupling}
"""Runner of each grid-side case, by the name its case file gives under ``runner``."""
