"""Runners of the DC grid elements' validation cases (:mod:`gigawatt.solver.dc.meshed`,
:mod:`gigawatt.models.dc_elements`): closed forms for each element, MatACDC's case5 (DC load flow and the
stations' losses on their AC-side current) and the CIGRE B4 DC grid test system against pandapower.

Units SI inside; the case files give MatACDC's data in its own units (MW, kV, per unit), converted here with
the bases they state.
"""
from __future__ import annotations

import math

import numpy as np

INF = math.inf


def _measured():
    from gigawatt.validation.dc_checks import Measured
    return Measured


# --- closed forms ----------------------------------------------------------------------------------

def dc_grid_closed_forms(spec):
    """Each new element against its closed form (see the case file's notes for the equations)."""
    from gigawatt.models.dc_elements import station_ac_power_w
    from gigawatt.solver.dc.meshed import DCGridSolver, dc_grid

    Measured = _measured()
    inp = spec["inputs"]
    out = []
    vs, r = inp["v_slack_v"], inp["line_r_ohm"]
    # 1. A set-power terminal at the end of a line: V² − V_s V − R P = 0.
    for p in inp["terminal_p_w"]:
        res = DCGridSolver(dc_grid([vs, vs], lines=[(0, 1, r)], feeds=[(0, vs, 0.0)],
                                   terminals=[(1, p, 0.0, INF)])).solve()
        v = 0.5 * (vs + math.sqrt(vs * vs + 4 * r * p))
        point = f"P = {p / 1e6:g} MW"
        out.append(Measured("terminal_bus_v", float(res.v_v[1]), v, point))
        out.append(Measured("ledger_residual_rel", float(abs(res.ledger_residual_w)) / abs(p), 0.0, point))
    # 2. Its voltage limits: held at the limit, it delivers (V_lim − V_s)/R · V_lim.
    lo, hi = inp["v_min_v"], inp["v_max_v"]
    solver = DCGridSolver(dc_grid([vs, vs], lines=[(0, 1, r)], feeds=[(0, vs, 0.0)], terminals=[(1, 0.0, lo, hi)]))
    for p, v_lim in ((inp["p_above_v_max_w"], hi), (inp["p_below_v_min_w"], lo)):
        res = solver.solve(terminal_p_w=[p])
        point = f"P_set = {p / 1e6:g} MW, held at {v_lim:g} V"
        out.append(Measured("terminal_p_at_limit_w", float(res.terminal_p_w[0]), (v_lim - vs) / r * v_lim, point))
        out.append(Measured("terminal_bus_v", float(res.v_v[1]), v_lim, point))
    # 3. A conductance behind a line: a divider, V = V_s/(1 + R G), P = G V².
    gs = inp["conductance_s"]
    res = DCGridSolver(dc_grid([vs, vs], lines=[(0, 1, r)], feeds=[(0, vs, 0.0)], conductances=[(1, gs)])).solve()
    v = vs / (1 + r * gs)
    out.append(Measured("conductance_p_w", float(res.conductance_p_w[0]), gs * v * v, f"G = {gs:g} S"))
    # 4. Two ratio converters in series onto a conductance: V = n1 n2 V_s, every converter carries G V².
    n1, n2 = inp["ratios"]
    res = DCGridSolver(dc_grid([vs, vs * n1, vs * n1 * n2], feeds=[(0, vs, 0.0)], conductances=[(2, gs)],
                               dcdc=[(0, 1, "ratio", n1, 0, 0, 0), (1, 2, "ratio", n2, 0, 0, 0)])).solve()
    out.append(Measured("ratio_output_v", float(res.v_v[2]), n1 * n2 * vs, f"n = {n1:g} × {n2:g}"))
    out.append(Measured("ratio_feed_p_w", float(res.feed_p_w[0]), gs * (n1 * n2 * vs) ** 2, f"n = {n1:g} × {n2:g}"))
    # 5. A voltage-controlled converter with a quadratic loss feeding a conductance: P_out = G V_set²,
    #    I = P_out/V_set, P_in = P_out + a + b I + c I².
    a, b, c = inp["dcdc_loss"]
    vset = inp["dcdc_v_set_v"]
    res = DCGridSolver(dc_grid([vs, vset], feeds=[(0, vs, 0.0)], conductances=[(1, gs)],
                               dcdc=[(0, 1, "voltage", vset, a, b, c)])).solve()
    p_out = gs * vset * vset
    i = p_out / vset
    out.append(Measured("dcdc_p_in_w", float(res.dcdc_p_in_w[0]), p_out + a + b * i + c * i * i,
                        f"V_set = {vset:g} V"))
    # 6. A station's AC-side power with Q = 0: the quadratic in the current (rectifying and inverting).
    st = inp["station"]
    k = math.sqrt(3) * st["v_ac_v"]
    for p_dc in st["p_dc_w"]:
        if p_dc >= 0:  # rectifier: c x² − (k − b) x + (P_dc + a) = 0, P_ac = k x
            cc = st["c_rect_ohm"]
            x = ((k - st["b_v"]) - math.sqrt((k - st["b_v"]) ** 2 - 4 * cc * (p_dc + st["a_w"]))) / (2 * cc)
            p_ac = k * x
        else:  # inverter: c x² + (k + b) x + (a + P_dc) = 0, P_ac = −k x
            cc = st["c_inv_ohm"]
            x = (-(k + st["b_v"]) + math.sqrt((k + st["b_v"]) ** 2 - 4 * cc * (st["a_w"] + p_dc))) / (2 * cc)
            p_ac = -k * x
        got, _ = station_ac_power_w(p_dc, 0.0, st["v_ac_v"], st["a_w"], st["b_v"], st["c_rect_ohm"],
                                    st["c_inv_ohm"])
        out.append(Measured("station_p_ac_w", float(got), p_ac, f"P_dc = {p_dc / 1e6:g} MW"))
    return out


# --- MatACDC case5 ---------------------------------------------------------------------------------

def _matacdc_dc_grid(inp, terminals=(), feeds=()):
    """MatACDC's three-bus DC grid of case5 as a monopolar equivalent: voltages pole to pole
    (``poles`` × the pole base), loop resistances ``2·r·(base_kv²/base_mva)`` for a bipole."""
    from gigawatt.solver.dc.meshed import dc_grid

    v_base = inp["poles"] * inp["base_kv_dc"] * 1e3
    z_base = (inp["base_kv_dc"] * 1e3) ** 2 / (inp["base_mva"] * 1e6)
    lines = [(f - 1, t - 1, inp["poles"] * r * z_base) for f, t, r in inp["branches_pu"]]
    return dc_grid([v_base] * 3, lines=lines, terminals=terminals, feeds=feeds), v_base


def matacdc_case5(spec):
    """MatACDC 1.0's case5_stagg with case5_stagg_MTDCslack and with case5_stagg_MTDCdroop: the DC load flow
    with its constant-power, slack and droop converters, and each station's loss on its AC-side current."""
    from gigawatt.models.dc_elements import station_ac_power_w, station_loss_ac_current_w
    from gigawatt.solver.dc.meshed import DCGridSolver

    Measured = _measured()
    inp = spec["inputs"]
    out = []
    # Slack case: buses 1 and 3 withdraw MatACDC's solved P_dc (negative: inject); bus 2 held at 1 pu.
    sl = inp["slack"]
    v_base = inp["poles"] * inp["base_kv_dc"] * 1e3  # pole to pole
    grid, _ = _matacdc_dc_grid(
        inp, terminals=[(b - 1, -p * 1e6, 0.0, INF) for b, p in zip(sl["p_buses"], sl["p_withdrawn_mw"])],
        feeds=[(sl["slack_bus"] - 1, sl["v_slack_pu"] * v_base, 0.0)])
    res = DCGridSolver(grid).solve()
    for b in range(3):
        out.append(Measured("v_dc_pu", float(res.v_v[b] / v_base), None, f"slack case, DC bus {b + 1}"))
    out.append(Measured("p_dc_withdrawn_mw", float(-res.feed_p_w[0] / 1e6), None,
                        f"slack case, DC bus {sl['slack_bus']}"))
    out.append(Measured("ledger_residual_rel", float(abs(res.ledger_residual_w)) / 58e6, 0.0, "slack case"))
    # Droop case: all three converters on MatACDC's droop P_inj = −P_set − (V − V_set)/droop [MW, pu].
    dr = inp["droop"]
    k = [1e6 / (d * v_base) for d in dr["droop_pu_per_mw"]]  # [W/V]
    feeds = [(b, vs * v_base + (-ps * 1e6) / kk, kk)
             for b, (ps, vs, kk) in enumerate(zip(dr["p_set_mw"], dr["v_set_pu"], k))]
    grid, _ = _matacdc_dc_grid(inp, feeds=feeds)
    res = DCGridSolver(grid).solve()
    for b in range(3):
        out.append(Measured("v_dc_pu", float(res.v_v[b] / v_base), None, f"droop case, DC bus {b + 1}"))
        out.append(Measured("p_dc_withdrawn_mw", float(-res.feed_p_w[b] / 1e6), None, f"droop case, DC bus {b + 1}"))
    out.append(Measured("ledger_residual_rel", float(abs(res.ledger_residual_w)) / 58e6, 0.0, "droop case"))
    # Stations of the slack case: loss on the AC-side current at MatACDC's converter operating point, and the
    # AC-side power our inverse gives for MatACDC's DC power.
    st = inp["stations"]
    v_ac = np.array(st["v_c_pu"]) * inp["base_kv_ac"] * 1e3
    p_ac = -np.array(st["p_c_generated_mw"]) * 1e6  # drawn from AC
    q = np.array(st["q_c_generated_mvar"]) * 1e6
    coeff = (st["a_mw"] * 1e6, st["b_kv"] * 1e3, st["c_when_drawing_ohm"], st["c_when_feeding_ohm"])
    loss = station_loss_ac_current_w(p_ac, q, v_ac, *coeff)
    p_dc = -np.array(st["p_dc_withdrawn_mw"]) * 1e6
    p_ac_from_dc, _ = station_ac_power_w(p_dc, q, v_ac, *coeff)
    for j in range(3):
        out.append(Measured("station_loss_mw", float(loss[j] / 1e6), None, f"converter {j + 1}"))
        out.append(Measured("station_p_c_generated_mw", float(-p_ac_from_dc[j] / 1e6), None,
                            f"converter {j + 1}, from its DC power"))
    return out


# --- CIGRE B4 --------------------------------------------------------------------------------------

def _cigre_b4(inp):
    """The CIGRE B4 DC grid from the case file's tables, as :func:`~gigawatt.solver.dc.meshed.dc_grid` rows."""
    from gigawatt.solver.dc.meshed import dc_grid

    nodes = inp["nodes"]
    idx = {n["id"]: i for i, n in enumerate(nodes)}
    v_nom = [2 * n["kv_pole"] * 1e3 for n in nodes]  # pole to pole
    lines = []
    for ln in inp["lines"]:
        # Two conductors (bipole, or a symmetric monopole's two poles) in series per circuit, circuits in parallel.
        r = 2 * ln["r_ohm_per_km"] * ln["length_km"] / ln["circuits"]
        lines.append((idx[ln["from"]], idx[ln["to"]], r))
    feeds, terminals, fnames, tnames = [], [], [], []
    for cv in inp["converters"]:
        b = idx[cv["node"]]
        if cv["control"] == "voltage":
            feeds.append((b, cv["v_set_pu"] * v_nom[b], 0.0))
            fnames.append(cv["id"])
        elif cv["control"] == "droop":
            k = cv["droop_gain_pu"] * cv["rated_mw"] * 1e6 / v_nom[b]  # [W/V]: ΔP/P_r = gain · ΔV/V_nom
            feeds.append((b, cv["v_set_pu"] * v_nom[b] + cv["p_mw"] * 1e6 / k, k))
            fnames.append(cv["id"])
        else:
            terminals.append((b, cv["p_mw"] * 1e6, 0.0, INF))
            tnames.append(cv["id"])
    dcdc = [(idx[d["from"]], idx[d["to"]], "power", d["p_mw"] * 1e6, 0.0, 0.0, d["r_ohm"]) for d in inp["dcdc"]]
    names = {"bus": [n["id"] for n in nodes], "feed": fnames, "terminal": tnames,
             "dcdc": [d["id"] for d in inp["dcdc"]]}
    return dc_grid(v_nom, lines=lines, feeds=feeds, terminals=terminals, dcdc=dcdc, names=names), idx


def _pandapower_peer(grid, options, tolerance_w):
    """The same grid in pandapower: resistive lines, ext_grids at the stiff feeds, the terminals as static
    generators, the droop feeds and the power-controlled DC/DC converters as generators and loads whose powers
    an outer loop updates from pandapower's voltages (pandapower has neither droop nor DC/DC converters).
    Returns voltages [V] and the DC/DC input powers [W]."""
    import pandapower as pp

    net = pp.create_empty_network()
    vn = grid.v_nominal_v
    buses = np.asarray(pp.create_buses(net, grid.n_bus, vn_kv=vn / 1e3))
    length = np.ones(grid.line_from.size)
    pp.create_lines_from_parameters(net, buses[grid.line_from], buses[grid.line_to], length_km=length,
                                    r_ohm_per_km=grid.line_r_ohm, x_ohm_per_km=np.zeros_like(length),
                                    c_nf_per_km=np.zeros_like(length), max_i_ka=np.full(length.size, 1e6))
    stiff = grid.feed_k_w_per_v == 0
    for b, v in zip(grid.feed_bus[stiff], grid.feed_v_set_v[stiff]):
        pp.create_ext_grid(net, buses[b], vm_pu=v / vn[b])
    for b, p in zip(grid.terminal_bus, grid.terminal_p_w):
        pp.create_sgen(net, buses[b], p_mw=p / 1e6)
    droop = np.flatnonzero(~stiff)
    sg = [pp.create_sgen(net, buses[grid.feed_bus[j]], p_mw=0.0) for j in droop]
    out_sg = [pp.create_sgen(net, buses[t], p_mw=p / 1e6) for t, p in zip(grid.dcdc_to, grid.dcdc_set)]
    in_ld = [pp.create_load(net, buses[f], p_mw=p / 1e6) for f, p in zip(grid.dcdc_from, grid.dcdc_set)]
    v = vn.copy()
    for _ in range(100):
        p_droop = grid.feed_k_w_per_v[droop] * (grid.feed_v_set_v[droop] - v[grid.feed_bus[droop]])
        net.sgen.loc[sg, "p_mw"] = p_droop / 1e6
        i = grid.dcdc_set / v[grid.dcdc_to]
        p_in = grid.dcdc_set + grid.dcdc_a_w + grid.dcdc_b_v * np.abs(i) + grid.dcdc_c_ohm * i * i
        net.load.loc[in_ld, "p_mw"] = p_in / 1e6
        pp.runpp(net, **options)
        new = net.res_bus["vm_pu"].to_numpy()[buses] * vn
        moved = np.max(np.abs(new - v))
        v = new
        i = grid.dcdc_set / v[grid.dcdc_to]
        p_in_new = grid.dcdc_set + grid.dcdc_a_w + grid.dcdc_b_v * np.abs(i) + grid.dcdc_c_ohm * i * i
        p_droop_new = grid.feed_k_w_per_v[droop] * (grid.feed_v_set_v[droop] - v[grid.feed_bus[droop]])
        if max(np.max(np.abs(p_in_new - p_in), initial=0), np.max(np.abs(p_droop_new - p_droop), initial=0)) \
                <= tolerance_w and moved < 1e-9 * vn.max():
            return v, p_in_new, net
    raise RuntimeError("the outer loop around pandapower did not settle in 100 load flows")


def cigre_b4_dc(spec):
    """CIGRE B4 DC grid test system: gigawatt's DC grid load flow against pandapower (with an outer loop for
    the droops and the DC/DC converters' input powers)."""
    import pandapower as pp
    from gigawatt.solver.dc.meshed import DCGridSolver

    Measured = _measured()
    inp = spec["inputs"]
    grid, idx = _cigre_b4(inp)
    res = DCGridSolver(grid).solve()
    v_pp, p_in_pp, net = _pandapower_peer(grid, dict(inp["runpp"]), inp["outer_tolerance_w"])
    point = f"pandapower {pp.__version__}"
    vn = grid.v_nominal_v
    out = [Measured("max_abs_dev_v_pu", float(np.max(np.abs(res.v_v - v_pp) / vn)), 0.0, point),
           Measured("total_line_loss_w", float(res.line_loss_w.sum()), float(net.res_line["pl_mw"].sum()) * 1e6,
                    point),
           Measured("ledger_residual_rel", float(abs(res.ledger_residual_w)) / float(np.abs(res.feed_p_w).sum()),
                    0.0, "")]
    for j, name in enumerate(grid.names["dcdc"]):
        out.append(Measured("dcdc_p_in_w", float(res.dcdc_p_in_w[j]), float(p_in_pp[j]), f"{name}, {point}"))
        out.append(Measured("dcdc_p_out_w", float(res.dcdc_p_out_w[j]), float(grid.dcdc_set[j]), name))
    stiff = np.flatnonzero(grid.feed_k_w_per_v == 0)
    p_ext = net.res_ext_grid["p_mw"].to_numpy() * 1e6  # what each ext_grid feeds into the network [W]
    for n, j in enumerate(stiff):
        out.append(Measured("slack_p_w", float(res.feed_p_w[j]), float(p_ext[n]), f"{grid.names['feed'][j]}, {point}"))
    return out


DCGRID_RUNNERS = {
    "dc_grid_closed_forms": dc_grid_closed_forms,
    "matacdc_case5": matacdc_case5,
    "cigre_b4_dc": cigre_b4_dc,
}
"""Runners of the DC grid elements' cases, by the name their case files give under ``runner``."""
