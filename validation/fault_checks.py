"""Runners of the DC fault-current validation cases (``validation/cases/fault_*.toml``), registered in
:mod:`gigawatt.validation.harness`.

Each builds a small network with :func:`gigawatt.make_case`, runs :func:`gigawatt.fault_currents` and compares
with a reference that shares no code with the fault study:

* ``fault_rl``: the closed form of an RL circuit switched onto a voltage, i(t) = (V/R)(1 − e^(−tR/L)), against
  a current-limited converter feeding a fault through a line (its rise, its time to reach the limit) and a
  battery (its quasi steady-state current V/R);
* ``fault_rc``: the closed form of a capacitor discharging through a resistance, i(t) = (E/R) e^(−t/RC),
  against a rack's shelf capacitor at the faulted bus; and the series RLC discharge of a capacitor behind a
  line, integrated numerically (``scipy.integrate.solve_ivp``), against its peak and time to peak;
* ``fault_time_domain``: a small network with a current-limited converter, a capacitor and a battery, its
  circuit equations integrated in time with ``solve_ivp`` (written here, independently of the fault study),
  against the characteristic quantities i_p, t_p and I_k of the sum; once with each source on its own line to
  the fault (where summing the contributions is exact), once with a line all of them share (where the sum is
  on the safe side: the joint circuit's peak is lower).

A published worked example (IEC TR 61660-2, or a published DC data-centre fault study with its complete
data) could not be obtained: none is reproduced here.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

RTOL = 1e-10
"""Relative tolerance of the numerical integrations (absolute: RTOL times the largest current)."""


def _measured():
    from gigawatt.validation.dc_checks import Measured

    return Measured


def _bus(name, v):
    return {"id": name, "v_nominal_v": float(v)}


def _line(name, a, b, r, l_total, length=10.0):
    return {"id": name, "from_bus": a, "to_bus": b, "length_m": length, "r_ohm": r, "l_h_per_m": l_total / length}


def _station(bus, v, rated, droop, limit_pu):
    return {"id": "station", "bus": bus, "v_set_v": v, "rated_power_w": rated, "droop": droop,
            "fault_current_limit_pu": limit_pu}


def fault_rl(spec):
    """A converter behind a line into a fault at the line's end: its rise against the RL closed form, its time
    to reach the limit t_p = −(L/R) ln(1 − I_lim R/V) and its quasi steady-state current (the limit); a battery
    in its place: I_k = V/R and tau1 = L/R."""
    import gigawatt as gw
    from gigawatt.models.fault_currents import standard_function

    Measured = _measured()
    inp = spec["inputs"]
    v, rated, droop, pu = inp["v_set_v"], inp["rated_power_w"], inp["droop"], inp["limit_pu"]
    r_line, l_line = inp["line_r_ohm"], inp["line_l_h"]
    tables = {"bus": [_bus("st", v), _bus("f", v)], "line": [_line("feeder", "st", "f", r_line, l_line)],
              "source": [_station("st", v, rated, droop, pu)]}
    ds = gw.fault_currents(gw.make_case(tables, case={"name": spec["name"]}), buses=["f"])
    f = ds.sel(bus="f", fault_type="pole_to_pole", contribution="converter")
    r = droop * v * v / rated + r_line  # the droop's output resistance and the line
    i_lim = pu * rated / v
    t_p = -l_line / r * math.log1p(-i_lim * r / v)
    q = [float(f[x]) for x in ("contribution_i_p_a", "contribution_t_p_s", "contribution_i_k_a",
                               "contribution_tau1_s", "contribution_tau2_s")]
    out = [Measured("t_p", q[1], t_p, "converter at its limit"),
           Measured("i_k", q[2], i_lim, "converter at its limit")]
    for frac in (0.1, 0.5, 0.9):
        t = frac * t_p
        out.append(Measured("i_rise", standard_function(t, *q), v / r * -math.expm1(-t * r / l_line),
                            f"t = {frac:g} t_p"))
    # a battery alone: its quasi steady-state current E/R
    e_b, r_b, l_b = inp["battery_emf_v"], inp["battery_r_ohm"], inp["battery_l_h"]
    tables["source"][0]["fault_current_limit_pu"] = 1e-9  # the station contributes (almost) nothing
    tables["battery"] = [{"id": "b", "bus": "st", "emf_v": e_b, "r_internal_ohm": r_b, "l_internal_h": l_b}]
    ds = gw.fault_currents(gw.make_case(tables, case={"name": spec["name"]}), buses=["f"])
    b = ds.sel(bus="f", fault_type="pole_to_pole", contribution="battery")
    out.append(Measured("i_k", float(b.contribution_i_k_a), e_b / (r_b + r_line), "battery"))
    out.append(Measured("tau1", float(b.contribution_tau1_s), (l_b + l_line) / (r_b + r_line), "battery"))
    return out


def _ode_peak(rhs, y0, t_end, output):
    """(peak, time of peak, final value) of ``output(y)`` along the solution of dy/dt = rhs(t, y)."""
    sol = solve_ivp(rhs, (0.0, t_end), y0, method="Radau", rtol=RTOL, atol=1e-9, dense_output=True,
                    max_step=t_end / 2000)
    t = np.linspace(0.0, t_end, 200001)
    y = sol.sol(t)
    i = output(y)
    k = int(np.argmax(i))
    # refine around the grid maximum on the dense output
    lo, hi = t[max(k - 1, 0)], t[min(k + 1, t.size - 1)]
    for _ in range(100):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if output(sol.sol(a)[:, None])[0] >= output(sol.sol(b)[:, None])[0]:
            hi = b
        else:
            lo = a
    tp = 0.5 * (lo + hi)
    return float(output(sol.sol(tp)[:, None])[0]), tp, float(i[-1])


def fault_rc(spec):
    """A shelf capacitor at the faulted bus: i_p = E/ESR at t = 0 and tau2 = ESR·C (the RC closed form), and the
    current at t = RC against (E/ESR)/e; a capacitor behind a line: i_p and t_p of the series RLC discharge
    integrated numerically."""
    import gigawatt as gw
    from gigawatt.models.fault_currents import standard_function

    Measured = _measured()
    inp = spec["inputs"]
    v, c, esr = inp["v_set_v"], inp["capacitance_f"], inp["esr_ohm"]
    station = _station("st", v, 1e3, 0.0, 1e-9)  # a tiny converter: the zone needs a source
    tables = {"bus": [_bus("st", v), _bus("f", v), _bus("far", v)],
              "line": [_line("feeder", "st", "f", 1.0, 1e-3), _line("spur", "f", "far", inp["line_r_ohm"],
                                                                     inp["line_l_h"])],
              "source": [station],
              "rack": [{"id": "r", "bus": "f", "p_it_w": 1e3, "shelf_capacitance_f": c, "shelf_esr_ohm": esr}]}
    ds = gw.fault_currents(gw.make_case(tables, case={"name": spec["name"]}), buses=["f", "far"])
    loc = ds.sel(bus="f", fault_type="pole_to_pole", contribution="local_capacitor")
    q = [float(loc[x]) for x in ("contribution_i_p_a", "contribution_t_p_s", "contribution_i_k_a",
                                 "contribution_tau1_s", "contribution_tau2_s")]
    rc = esr * c
    out = [Measured("i_p", q[0], v / esr, "capacitor at the faulted bus"),
           Measured("tau2", q[4], rc, "capacitor at the faulted bus"),
           Measured("i_at_rc", standard_function(rc, *q), v / esr / math.e, "capacitor at the faulted bus")]
    # the same capacitor seen from the far end of the spur: a series RLC discharge
    far = ds.sel(bus="far", fault_type="pole_to_pole", contribution="capacitor")
    r, l = esr + inp["line_r_ohm"], inp["line_l_h"]

    def rhs(t, y):  # y = (i, v_c): L di/dt = v_c − R i, C dv_c/dt = −i
        return [(y[1] - r * y[0]) / l, -y[0] / c]

    ip, tp, _ = _ode_peak(rhs, [0.0, v], 6.0 * math.sqrt(l * c) + 3.0 * r * c, lambda y: y[0])
    out += [Measured("i_p", float(far.contribution_i_p_a), ip, "capacitor behind the spur (RLC)"),
            Measured("t_p", float(far.contribution_t_p_s), tp, "capacitor behind the spur (RLC)")]
    return out


def _network_ode(inp, shared: bool):
    """The circuit of the ``fault_time_domain`` case as ODEs: three branches (converter behind its line,
    capacitor behind its ESR and line, battery behind its R, L and line) meeting at a node c, which is the
    fault (shared = False) or joined to it by a shared line (shared = True). Returns (rhs, y0, output)."""
    v, e_b = inp["v_set_v"], inp["battery_emf_v"]
    r_s = inp["droop"] * v * v / inp["rated_power_w"]
    i_lim = inp["limit_pu"] * inp["rated_power_w"] / v
    rk = np.array([r_s + inp["r1_ohm"], inp["esr_ohm"] + inp["r2_ohm"], inp["battery_r_ohm"] + inp["r3_ohm"]])
    lk = np.array([inp["l1_h"], inp["l2_h"], inp["battery_l_h"] + inp["l3_h"]])
    c = inp["capacitance_f"]
    r0, l0 = (inp["r0_ohm"], inp["l0_h"]) if shared else (0.0, 0.0)

    def rhs(t, y):  # y = (i1, i2, i3, v_cap)
        src = np.array([v, y[3], e_b])
        clamped = y[0] >= i_lim
        for _ in range(2):
            free = np.array([not clamped, True, True])
            # v_node from L0 d(Σi)/dt = v_node − R0 Σi, with di_k/dt = (src_k − R_k i_k − v_node)/L_k (free k)
            if l0 > 0:
                g = float(np.sum(1.0 / lk[free]))
                num = l0 * float(np.sum(((src - rk * y[:3]) / lk)[free])) + r0 * float(np.sum(y[:3]))
                v_node = num / (1.0 + l0 * g)
            else:
                v_node = 0.0
            d = (src - rk * y[:3] - v_node) / lk
            if clamped and d[0] < 0:  # the converter leaves its limit
                clamped = False
                continue
            break
        if clamped:
            d[0] = 0.0
        return [d[0], d[1], d[2], -y[1] / c]

    return rhs, [0.0, 0.0, 0.0, v], (lambda y: y[0] + y[1] + y[2])


def fault_time_domain(spec):
    """The characteristic quantities of the sum at the fault against the network's circuit equations integrated
    in time (module notes): at a fault where each source has its own line (``own lines``), and beyond a line
    they share (``shared line``, reported as the ratio of the integrated peak to ours: at most 1)."""
    import gigawatt as gw

    Measured = _measured()
    inp = spec["inputs"]
    v = inp["v_set_v"]
    bus = [_bus(n, v) for n in ("st", "cap", "bat", "c", "f")]
    lines = [_line("l1", "st", "c", inp["r1_ohm"], inp["l1_h"]), _line("l2", "cap", "c", inp["r2_ohm"], inp["l2_h"]),
             _line("l3", "bat", "c", inp["r3_ohm"], inp["l3_h"]), _line("l0", "c", "f", inp["r0_ohm"], inp["l0_h"])]
    tables = {"bus": bus, "line": lines,
              "source": [_station("st", v, inp["rated_power_w"], inp["droop"], inp["limit_pu"])],
              "rack": [{"id": "r", "bus": "cap", "p_it_w": 1e3, "shelf_capacitance_f": inp["capacitance_f"],
                        "shelf_esr_ohm": inp["esr_ohm"]}],
              "battery": [{"id": "b", "bus": "bat", "emf_v": inp["battery_emf_v"],
                           "r_internal_ohm": inp["battery_r_ohm"], "l_internal_h": inp["battery_l_h"]}]}
    ds = gw.fault_currents(gw.make_case(tables, case={"name": spec["name"]}), buses=["c", "f"])
    out = []
    t_end = inp["t_end_s"]
    for shared, bus_id, point in ((False, "c", "own lines"), (True, "f", "shared line")):
        ip, tp, ik = _ode_peak(*_network_ode(inp, shared)[:2], t_end, _network_ode(inp, shared)[2])
        f = ds.sel(bus=bus_id, fault_type="pole_to_pole")
        if not shared:
            out += [Measured("i_p", float(f.i_p_a), ip, point), Measured("t_p", float(f.t_p_s), tp, point),
                    Measured("i_k", float(f.i_k_a), ik, point)]
        else:
            out += [Measured("integrated_over_ours_i_p", ip / float(f.i_p_a), None, point),
                    Measured("integrated_over_ours_i_k", ik / float(f.i_k_a), None, point)]
    return out


FAULT_RUNNERS = {"fault_rl": fault_rl, "fault_rc": fault_rc, "fault_time_domain": fault_time_domain}
"""Runners of the fault cases, by the name their case files give under ``runner``."""
