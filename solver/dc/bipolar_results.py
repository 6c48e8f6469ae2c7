"""Results of a bipolar DC solve: the monopolar ``xarray.Dataset`` (same dimensions, variables, ledger and
provenance; see :mod:`gigawatt.solver.dc.results`) plus the pole, neutral and earth quantities.

How the shared variables read in a bipolar case:

* ``v_v``/``v_pu``: the lower of the bus's two pole-to-neutral voltages (the pole nearer its limit);
  ``v_pos_v``, ``v_neutral_v``, ``v_neg_v`` are the conductors' potentials against earth.
* ``i_a``: the mean pole current (i_pos − i_neg)/2; ``p_loss_w``: the loss of all three conductors;
  ``r_ohm``: one pole conductor.
* ``p_dc_w``, ``source_loss_w``, ``source_p_grid_w``: both poles together; ``source_loading`` and
  ``converter_loading``: the more loaded pole, as a share of the pole rating (rated_power_w/2).
* ``rack_v_v``: the voltage across the rack (pole to pole for a bipolar rack, pole to neutral otherwise).

Sign convention: conductor currents positive from ``from_bus`` to ``to_bus``; on a radial feeder the
positive pole carries i_pos > 0, the negative pole i_neg < 0 and the neutral i_neutral = −(i_pos + i_neg),
the pole imbalance returning to the station. Powers positive from the grid towards the chips.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.cases.schema import echo_variable, unit_of
from gigawatt.solver.dc.bipolar import NEG, NEUTRAL, POS, rack_terminals
from gigawatt.solver.dc.results import (STAGES, _ledger, _var, _warnings, add_line_ratings, bus_distance_m, make_dataset,
                                     rack_power_variables)

BIPOLAR_VARIABLES = {
    "v_pos_v": ("V", "potential of the positive pole conductor against earth"),
    "v_neutral_v": ("V", "potential of the neutral conductor against earth"),
    "v_neg_v": ("V", "potential of the negative pole conductor against earth"),
    "v_pole_to_pole_v": ("V", "voltage between the positive and negative poles"),
    "i_earth_a": ("A", "current from earth into the neutral at a station's earthing point"),
    "i_pos_a": ("A", "current in the positive pole conductor, positive from from_bus to to_bus"),
    "i_neutral_a": ("A", "current in the neutral conductor, positive from from_bus to to_bus"),
    "i_neg_a": ("A", "current in the negative pole conductor, positive from from_bus to to_bus"),
    "p_loss_pos_w": ("W", "loss of the positive pole conductor I²R"),
    "p_loss_neutral_w": ("W", "loss of the neutral conductor I²R"),
    "p_loss_neg_w": ("W", "loss of the negative pole conductor I²R"),
    "r_neutral_ohm": ("ohm", "resistance of the neutral conductor"),
    "p_dc_pos_w": ("W", "DC output power of the positive pole converter"),
    "p_dc_neg_w": ("W", "DC output power of the negative pole converter"),
    "loss_pos_w": ("W", "conversion loss of the positive pole converter"),
    "loss_neg_w": ("W", "conversion loss of the negative pole converter"),
}


def _bvar(dim, name, values):
    unit, long_name = BIPOLAR_VARIABLES[name]
    return xr.Variable(dim, np.asarray(values), attrs={"units": unit, "long_name": long_name})


def _per_row(net, values, table, n_rows):
    """Per-feed values (n_feed, 2) to rows of the source or converter table (0 out of service)."""
    mine = net.feeds.table == table
    out = np.zeros((n_rows, 2))
    out[net.feeds.row[mine]] = values[mine]
    return out


def build_bipolar_dataset(case, net, st, *, version: str, p_it=None) -> xr.Dataset:
    """The results dataset of a converged bipolar solve ``st`` (:class:`gigawatt.solver.dc.bipolar.BipolarState`)."""
    t = case.tables
    bus, lines, src, conv, racks = t["bus"], t["line"], t["source"], t["converter"], t["rack"]
    v = st.v
    coords = {"bus": bus["id"].to_numpy(), "line": lines["id"].to_numpy(), "source": src["id"].to_numpy(),
              "converter": conv["id"].to_numpy(), "rack": racks["id"].to_numpy(), "stage": list(STAGES)}
    ds = {}  # the variables, made into a Dataset once (as gigawatt.solver.dc.results.build_dataset does)
    v_pole = np.minimum(v[:, POS] - v[:, NEUTRAL], v[:, NEUTRAL] - v[:, NEG])
    v_nom = bus["v_nominal_v"].to_numpy(float)
    ds["v_v"] = _var("bus", "v_v", v_pole, long_name="lower of the two pole-to-neutral voltages")
    ds["v_nominal_v"] = echo_variable("bus", "bus", bus, "v_nominal_v")
    ds["v_pu"] = _var("bus", "v_pu", v_pole / v_nom, long_name="lower pole-to-neutral voltage in per unit of nominal")
    for name, col in (("v_pos_v", POS), ("v_neutral_v", NEUTRAL), ("v_neg_v", NEG)):
        ds[name] = _bvar("bus", name, v[:, col])
    ds["v_pole_to_pole_v"] = _bvar("bus", "v_pole_to_pole_v", v[:, POS] - v[:, NEG])
    ds["p_load_w"] = _var("bus", "p_load_w", st.p_load)
    ds["level"] = _var("bus", "level", net.level[net.pos])
    ds["bus_distance_m"] = _var("bus", "bus_distance_m", bus_distance_m(case, net.line_in_service))
    ds["i_earth_a"] = _bvar("bus", "i_earth_a", st.i_earth)

    live = net.line_in_service
    i = st.line_i
    r = np.column_stack([st.r_pole, st.r_neutral, st.r_pole])
    loss = np.where(live[:, None], np.square(np.nan_to_num(i)) * np.nan_to_num(r), 0.0)
    ds["i_a"] = _var("line", "i_a", 0.5 * (i[:, POS] - i[:, NEG]), long_name="mean pole current (i_pos − i_neg)/2")
    for name, col in (("i_pos_a", POS), ("i_neutral_a", NEUTRAL), ("i_neg_a", NEG)):
        ds[name] = _bvar("line", name, i[:, col])
    line_loss = loss.sum(axis=1)
    ds["line_p_loss_w"] = _var("line", "p_loss_w", line_loss, long_name="conductor loss I²R of both poles and the neutral")
    for name, col in (("p_loss_pos_w", POS), ("p_loss_neutral_w", NEUTRAL), ("p_loss_neg_w", NEG)):
        ds[name] = _bvar("line", name, loss[:, col])
    ds["r_ohm"] = xr.Variable("line", st.r_pole, attrs={"units": unit_of("line", "r_ohm"),
                                                        "long_name": "resistance of one pole conductor"})
    ds["r_neutral_ohm"] = _bvar("line", "r_neutral_ohm", st.r_neutral)
    for field in ("from_bus", "to_bus", "kind", "length_m"):
        ds[f"line_{field}"] = echo_variable("line", "line", lines, field)
    add_line_ratings(ds, case, np.max(np.abs(i), axis=1))  # the most loaded of its three conductors

    p_src, l_src = _per_row(net, st.feed_p, "source", len(src)), _per_row(net, st.feed_loss, "source", len(src))
    half = 0.5 * src["rated_power_w"].to_numpy(float)
    ds["p_dc_w"] = _var("source", "p_dc_w", p_src.sum(axis=1))
    ds["source_loss_w"] = _var("source", "loss_w", l_src.sum(axis=1))
    ds["source_p_grid_w"] = _var("source", "p_grid_w", p_src.sum(axis=1) + l_src.sum(axis=1))
    ds["source_loading"] = _var("source", "loading", np.max(p_src, axis=1) / half,
                                long_name="output power of the more loaded pole / its rating (rated_power_w/2)")
    ds["p_dc_pos_w"], ds["p_dc_neg_w"] = _bvar("source", "p_dc_pos_w", p_src[:, 0]), _bvar("source", "p_dc_neg_w",
                                                                                          p_src[:, 1])
    ds["source_loss_pos_w"] = _bvar("source", "loss_pos_w", l_src[:, 0])
    ds["source_loss_neg_w"] = _bvar("source", "loss_neg_w", l_src[:, 1])
    src_bus = net.bus_row[net.element_bus["source"]]
    ds["source_v_v"] = _var("source", "v_v", v_pole[src_bus], long_name="lower pole-to-neutral voltage at the bus")
    ds["source_kind"] = echo_variable("source", "source", src, "kind")
    ds["source_two_way"] = echo_variable("source", "source", src, "two_way")

    p_cv, l_cv = _per_row(net, st.feed_p, "converter", len(conv)), _per_row(net, st.feed_loss, "converter", len(conv))
    ds["p_out_w"] = _var("converter", "p_out_w", p_cv.sum(axis=1))
    ds["converter_loss_w"] = _var("converter", "loss_w", l_cv.sum(axis=1))
    ds["converter_p_in_w"] = _var("converter", "p_in_w", p_cv.sum(axis=1) + l_cv.sum(axis=1),
                                  long_name="input power, drawn pole to pole")
    ds["converter_loading"] = _var("converter", "loading",
                                   np.max(p_cv, axis=1) / (0.5 * conv["rated_power_w"].to_numpy(float)),
                                   long_name="output power of the more loaded pole / its rating (rated_power_w/2)")
    ds["converter_two_way"] = echo_variable("converter", "converter", conv, "two_way")
    ds["converter_p_out_pos_w"] = _bvar("converter", "p_dc_pos_w", p_cv[:, 0])
    ds["converter_p_out_neg_w"] = _bvar("converter", "p_dc_neg_w", p_cv[:, 1])
    cin, cout = net.bus_row[net.element_bus["converter_from"]], net.bus_row[net.element_bus["converter_to"]]
    ds["v_in_v"] = _var("converter", "v_in_v", v[cin, POS] - v[cin, NEG], long_name="input voltage, pole to pole")
    ds["v_out_v"] = _var("converter", "v_out_v", v_pole[cout], long_name="lower pole-to-neutral output voltage")
    ds["converter_two_way"] = echo_variable("converter", "converter", conv, "two_way")

    ds.update(rack_power_variables(case, net.rack_p_in, net.rack_shelf_loss, net.rack_vrm_loss, p_it,
                                   net.rack_p_it))
    term = rack_terminals(racks["pole"].to_numpy())
    rb = net.bus_row[net.rack_bus]
    ds["rack_v_v"] = _var("rack", "v_v", v[rb, term[:, 0]] - v[rb, term[:, 1]],
                          long_name="voltage across the rack (pole to pole, or pole to neutral)")
    ds["rack_pole"] = echo_variable("rack", "rack", racks, "pole")
    ds["rack_bus"] = echo_variable("rack", "rack", racks, "bus")

    coords["kind"] = _ledger(ds, src, line_loss, l_src.sum(axis=1), l_cv.sum(axis=1), case.codes("line", "kind"))
    attrs = ds.pop("attrs")
    ds = make_dataset(ds, coords, attrs)
    # Pole balance of the stations fed from the grid (DC/DC outputs are inside that balance).
    p_pos, p_neg = float(p_src[:, 0].sum()), float(p_src[:, 1].sum())
    ds.attrs.update({"dc_system": "bipolar", "p_pos_w": p_pos, "p_neg_w": p_neg,
                     "pole_imbalance": (p_pos - p_neg) / max(p_pos + p_neg, 1e-300),
                     "neutral_loss_w": float(loss[:, NEUTRAL].sum())})
    ds.attrs["warnings"] = _warnings(ds)
    ds.attrs.update({
        "title": f"gigawatt bipolar DC load flow of case '{case.name}'",
        "case_name": case.name, "case_hash": case.hash(), "case_file": case.file or "",
        "gigawatt_version": version, "converged": 1, "iterations": st.iterations,
        "max_mismatch_a": st.max_mismatch_a,
        "sign_convention": ("powers positive from grid towards chips; conductor currents positive from from_bus to "
                            "to_bus (the neutral carries −(i_pos + i_neg))"),
    })
    return ds
