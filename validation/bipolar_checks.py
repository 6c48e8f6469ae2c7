"""Runners of the bipolar (±V, three-wire) DC validation cases; see :mod:`gigawatt.validation.dc_checks` for
what a runner is. Case data live in ``validation/cases/bipolar_*.toml``.

Sign convention of the reported quantities: potentials against earth [V]; conductor currents positive from
``from_bus`` to ``to_bus`` [A], so on a radial feeder the neutral carries −(i_pos + i_neg).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq


# --- the hand-solved three-wire feeder ---------------------------------------------------------------


def three_wire_feeder(v0_v, r_pos_ohm, r_neutral_ohm, r_neg_ohm, p_pos_w, p_neg_w):
    r"""Potentials [V] of the far bus of one three-wire line fed by a stiff bipolar station (+V0, 0, −V0),
    with a constant-power load ``p_pos_w`` between the positive pole and the neutral and ``p_neg_w``
    between the neutral and the negative pole.

    With a = V+ − Vn and b = Vn − V− the two load voltages, the conductor currents towards the far bus are
    I+ = P+/a, I− = −P−/b and In = −(I+ + I−), and the potentials V+ = V0 − R+·P+/a, Vn = Rn·(P+/a − P−/b),
    V− = −V0 + R−·P−/b. Substituting: b solves b² − (V0 + Rn·P+/a)·b + (Rn + R−)·P− = 0 (upper root), and
    a the scalar equation a − V0 + (R+ + Rn)·P+/a − Rn·P−/b(a) = 0, solved here by Brent's method on
    [V0/2, 3V0/2] (the stable branch; a exceeds V0 when the neutral is pulled below earth by a heavier negative pole). Derived here from Kirchhoff's laws; independent of the solver's code.

    Returns
    -------
    dict
        ``v_pos_v``, ``v_neutral_v``, ``v_neg_v`` [V], ``i_pos_a``, ``i_neutral_a``, ``i_neg_a`` [A].
    """
    def b_of(a):
        c = v0_v + r_neutral_ohm * p_pos_w / a
        return 0.5 * (c + math.sqrt(c * c - 4.0 * (r_neutral_ohm + r_neg_ohm) * p_neg_w))

    def g(a):
        return a - v0_v + (r_pos_ohm + r_neutral_ohm) * p_pos_w / a - r_neutral_ohm * p_neg_w / b_of(a)

    a = v0_v if p_pos_w == 0 and p_neg_w == 0 else brentq(g, 0.5 * v0_v, 1.5 * v0_v, xtol=1e-14, rtol=1e-15,
                                                            maxiter=500)
    b = b_of(a)
    i_pos, i_neg = p_pos_w / a, -p_neg_w / b
    return {"v_pos_v": v0_v - r_pos_ohm * i_pos, "v_neutral_v": r_neutral_ohm * (p_pos_w / a - p_neg_w / b),
            "v_neg_v": -v0_v - r_neg_ohm * i_neg, "i_pos_a": i_pos, "i_neutral_a": -(i_pos + i_neg), "i_neg_a": i_neg}


def bipolar_three_wire(spec):
    """Unbalanced pole loads at the end of one line: potentials and conductor currents against the hand
    solution :func:`three_wire_feeder`, at several imbalances."""
    import gigawatt as gw
    from gigawatt.validation.dc_checks import Measured

    inp = spec["inputs"]
    v0, r_loop, r_n = inp["v0_v"], inp["r_ohm"], inp["neutral_r_ohm"]
    out = []
    for p_pos, p_neg in inp["pole_loads_w"]:
        racks = [{"id": "rack+", "bus": "far", "p_it_w": p_pos, "vrm_efficiency": 1.0, "pole": "positive"},
                 {"id": "rack-", "bus": "far", "p_it_w": p_neg, "vrm_efficiency": 1.0, "pole": "negative"}]
        case = gw.make_case(
            {"bus": [{"id": "station", "v_nominal_v": v0}, {"id": "far", "v_nominal_v": v0}],
             "line": [{"id": "feeder", "from_bus": "station", "to_bus": "far", "length_m": inp["length_m"],
                       "r_ohm": r_loop, "neutral_r_ohm": r_n}],
             "source": [{"id": "st", "bus": "station", "v_set_v": v0, "rated_power_w": inp["rated_power_w"]}],
             "rack": racks},
            case={"name": spec["name"]}, dc={"system": "bipolar"})
        ds = gw.solve(case)
        ref = three_wire_feeder(v0, 0.5 * r_loop, r_n, 0.5 * r_loop, p_pos, p_neg)
        point = f"P+ = {p_pos / 1e6:g} MW, P- = {p_neg / 1e6:g} MW"
        far = ds.sel(bus="far")
        line = ds.sel(line="feeder")
        out += [Measured(q, float(far[q]), ref[q], point) for q in ("v_pos_v", "v_neutral_v", "v_neg_v")]
        out += [Measured(q, float(line[q]), ref[q], point) for q in ("i_pos_a", "i_neutral_a", "i_neg_a")]
        loss = sum(r * ref[q] ** 2 for q, r in (("i_pos_a", 0.5 * r_loop), ("i_neutral_a", r_n),
                                                   ("i_neg_a", 0.5 * r_loop)))
        out += [Measured("p_loss_w", float(line["line_p_loss_w"]), loss, point),
                Measured("p_dc_pos_w", float(ds["p_dc_pos_w"].sel(source="st")), v0 * ref["i_pos_a"], point),
                Measured("p_dc_neg_w", float(ds["p_dc_neg_w"].sel(source="st")), -v0 * ref["i_neg_a"], point),
                Measured("energy_balance_residual", float(ds.attrs["energy_balance_residual"]), point=point)]
    return out


# --- balanced bipole = two monopoles ---------------------------------------------------------------


def _with_droop(case_tables: dict, droop: float) -> dict:
    """Tables with every source but the first on ``droop``."""
    src = case_tables["source"].copy()
    src.loc[src.index[1:], "droop"] = droop
    return {**case_tables, "source": src}


def balanced_pair(seed: int, n_bus: int, extra_lines: int, n_sources: int, gen: dict, droop: float):
    """The same random network (:func:`gigawatt.validation.dc_checks.random_network`, bus voltage
    ``gen["v_nominal_v"]``, every source but the first on ``droop``) three ways:

    * ``bipolar``: a ±V bipolar case, every rack pole to pole;
    * ``half``: one pole as a monopolar case: each line a single conductor (``loop_factor`` 1; the neutral
      return carries nothing), racks at half their IT power and shelf rating (same load fraction, so half
      the shelf loss), sources at half their rating (the pole converter's);
    * ``full``: the monopolar case at 2V (bus voltages and set-points doubled) with the same conductors,
      go and return (``loop_factor`` 2): the pole-to-pole circuit.
    """
    import gigawatt as gw
    from gigawatt.validation.dc_checks import random_network

    base = random_network(seed, n_bus, extra_lines, n_sources, gen)
    t = _with_droop({k: v for k, v in base.tables.items() if len(v)}, droop)
    models = dict(base.loss_model_params)
    bipolar = gw.make_case(t, loss_models=models, case={"name": f"{base.name}, bipolar"}, dc={"system": "bipolar"})
    half_racks = t["rack"].assign(p_it_w=0.5 * t["rack"]["p_it_w"],
                                  shelf_rated_power_w=0.5 * t["rack"]["shelf_rated_power_w"])
    half = gw.make_case({**t, "line": t["line"].assign(loop_factor=1.0), "rack": half_racks,
                         "source": t["source"].assign(rated_power_w=0.5 * t["source"]["rated_power_w"])},
                        loss_models=models, case={"name": f"{base.name}, one pole"})
    full = gw.make_case({**t, "bus": t["bus"].assign(v_nominal_v=2.0 * t["bus"]["v_nominal_v"]),
                         "source": t["source"].assign(v_set_v=2.0 * t["source"]["v_set_v"])},
                        loss_models=models, case={"name": f"{base.name}, pole to pole"})
    return bipolar, half, full


def _generator(inp: dict, nw: dict) -> dict:
    """The generator settings of one network: the case's, with the network's own overrides."""
    return {**inp["generator"], **{k: v for k, v in nw.items() if k in inp["generator"]}}


def bipolar_balanced(spec):
    """A balanced bipole equals two monopoles: pole potentials against the one-pole monopolar solution,
    pole-to-pole voltage against the 2V monopolar solution, neutral potential and current zero."""
    import gigawatt as gw
    from gigawatt.validation.dc_checks import Measured

    inp = spec["inputs"]
    out = []
    for nw in inp["networks"]:
        bipolar, half, full = balanced_pair(nw["seed"], nw["n_bus"], nw.get("extra_lines", 0),
                                            nw.get("n_sources", 1), _generator(inp, nw), inp["droop"])
        b, h, f = gw.solve(bipolar), gw.solve(half), gw.solve(full)
        point = f"seed {nw['seed']}, {nw['n_bus']} buses, {len(bipolar.tables['line'])} lines"
        scale = float(np.max(np.abs(b["i_pos_a"])))
        out += [
            Measured("max_abs_dev_v_pos_v", float(np.max(np.abs(b["v_pos_v"] - h["v_v"]))), 0.0, point),
            Measured("max_abs_dev_v_neg_v", float(np.max(np.abs(b["v_neg_v"] + h["v_v"]))), 0.0, point),
            Measured("max_abs_dev_v_pole_to_pole_v", float(np.max(np.abs(b["v_pole_to_pole_v"] - f["v_v"]))),
                     0.0, point),
            Measured("max_abs_v_neutral_v", float(np.max(np.abs(b["v_neutral_v"]))), 0.0, point),
            Measured("max_abs_i_neutral_over_max_i_pole", float(np.max(np.abs(b["i_neutral_a"]))) / scale, 0.0,
                     point),
            Measured("max_rel_dev_i_pos", float(np.max(np.abs(b["i_pos_a"] - h["i_a"]))) / scale, 0.0, point),
            Measured("p_dc_pos_w", float(b["p_dc_pos_w"].sum()), float(h["p_dc_w"].sum()), point),
            Measured("p_dc_neg_w", float(b["p_dc_neg_w"].sum()), float(h["p_dc_w"].sum()), point),
            Measured("line_loss_w", float(b["line_p_loss_w"].sum()), 2.0 * float(h["line_p_loss_w"].sum()), point),
            Measured("p_grid_w", float(b.attrs["p_grid_w"]), float(f.attrs["p_grid_w"]), point),
            Measured("energy_balance_residual", float(b.attrs["energy_balance_residual"]), point=point)]
    return out


# --- cross-code: the balanced bipole against pandapower --------------------------------------------------


def bipolar_pandapower(spec):
    """Balanced bipolar random networks against pandapower on the AC equivalent of their pole-to-pole
    circuit (:mod:`gigawatt.validation.pandapower_equivalent`, built from the 2V monopolar case)."""
    import gigawatt as gw
    import pandapower as pp

    from gigawatt.validation.dc_checks import Measured
    from gigawatt.validation.pandapower_equivalent import to_pandapower

    inp = spec["inputs"]
    out = []
    for nw in inp["networks"]:
        bipolar, _, full = balanced_pair(nw["seed"], nw["n_bus"], nw.get("extra_lines", 0), nw.get("n_sources", 1),
                                         _generator(inp, nw), 0.0)
        b = gw.solve(bipolar)
        net, bus_index = to_pandapower(full)
        pp.runpp(net, **inp["runpp"])
        point = f"seed {nw['seed']}, {nw['n_bus']} buses, {len(bipolar.tables['line'])} lines"
        v_pp = net.res_bus["vm_pu"].to_numpy()[bus_index]
        v_b = b["v_pole_to_pole_v"].to_numpy() / (2.0 * b["v_nominal_v"].to_numpy())
        i_pp = (math.sqrt(3.0) * 1e3 * net.res_line["i_ka"].to_numpy() * np.sign(net.res_line["p_from_mw"].to_numpy()))
        i_b = b["i_pos_a"].to_numpy()
        out += [Measured("max_abs_dev_v_pole_to_pole_pu", float(np.max(np.abs(v_b - v_pp))), 0.0, point),
                Measured("total_line_loss_w", float(b["line_p_loss_w"].sum()), float(net.res_line["pl_mw"].sum()) * 1e6,
                         point),
                Measured("max_rel_dev_pole_current",
                         float(np.max(np.abs(i_b - i_pp) / np.maximum(np.abs(i_b), inp["current_floor_a"]))), 0.0,
                         point)]
    return out


BIPOLAR_RUNNERS = {
    "bipolar_three_wire": bipolar_three_wire,
    "bipolar_balanced": bipolar_balanced,
    "bipolar_pandapower": bipolar_pandapower,
}
"""Runners of the bipolar validation cases, by name."""
