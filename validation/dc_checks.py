"""Runners of the validation cases: each builds its network with :func:`gigawatt.make_case`, solves it with
:func:`gigawatt.solve` and reports what it measured, with the expected value where that is computed at run
time (a closed form or the peer tool). The case data (inputs, expected values, tolerances and their
reasons, sources, sign conventions) live in ``validation/cases/*.toml``; the harness
(:mod:`gigawatt.validation.harness`) reads them, dispatches each to its runner through :data:`RUNNERS` and
compares.

A runner takes the parsed case file (a dict; its ``inputs`` table holds the numbers) and returns a list of
:class:`Measured`. Units are SI throughout (V, A, W, Ω); per-unit voltages are relative to the bus's
nominal voltage.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gigawatt.validation.arch_checks import ARCH_RUNNERS
from gigawatt.validation.bipolar_checks import BIPOLAR_RUNNERS
from gigawatt.validation.contingency_checks import CONTINGENCY_RUNNERS
from gigawatt.validation.ac_checks import AC_RUNNERS
from gigawatt.validation.cooling_checks import COOLING_RUNNERS
from gigawatt.validation.demand_checks import DEMAND_RUNNERS
from gigawatt.validation.dcgrid_checks import DCGRID_RUNNERS
from gigawatt.validation.dh_checks import DH_RUNNERS
from gigawatt.validation.dyn_checks import DYN_RUNNERS
from gigawatt.validation.pipe_checks import PIPE_RUNNERS
from gigawatt.validation.kpi_checks import KPI_RUNNERS
from gigawatt.validation.weather_checks import WEATHER_RUNNERS

# --- what a runner reports -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One measured quantity.

    Attributes
    ----------
    quantity : str
        Name matching a ``[[expected]]`` entry of the case file.
    got : float or str
        What gigawatt gave (in the entry's unit).
    expected : float or str, optional
        The reference value computed at run time (closed form, peer tool); ``None`` when the case file
        gives it as a literal ``value``.
    point : str
        Which operating point or network this is (``"P = 0.5 P_max"``, ``"seed 3, 120 buses"``); an
        ``[[expected]]`` entry without ``point`` matches every point of its quantity.
    """

    quantity: str
    got: object
    expected: object = None
    point: str = ""


# --- closed forms ----------------------------------------------------------------------------------


def constant_power_voltage(v0_v, r_ohm, p_w):
    r"""Voltage [V] of a constant-power load ``p_w`` [W] fed from a stiff source ``v0_v`` [V] through a loop
    resistance ``r_ohm`` [Ω], on the upper (stable) branch of the P–V curve.

    .. math:: V = \tfrac{1}{2}\left(V_0 + \sqrt{V_0^2 - 4PR}\right)

    From P = V·I and I = (V0 − V)/R: V² − V0·V + PR = 0. Valid for 0 <= P <= P_max = V0²/(4R)
    (derived: elementary circuit analysis).
    """
    return 0.5 * (v0_v + math.sqrt(v0_v * v0_v - 4.0 * p_w * r_ohm))


def max_transferable_power(v0_v, r_ohm):
    r"""Nose of the P–V curve [W]: the largest constant power a resistance ``r_ohm`` [Ω] can deliver from a
    stiff source ``v0_v`` [V], :math:`P_\max = V_0^2/(4R)`, reached at V = V0/2 (derived: where the
    discriminant of V² − V0·V + PR = 0 vanishes)."""
    return v0_v * v0_v / (4.0 * r_ohm)


# --- small network builders ------------------------------------------------------------------------


def _bus(bus_id, v_nominal_v):
    return {"id": bus_id, "v_nominal_v": float(v_nominal_v)}


def _constant_power_rack(rack_id, bus, p_w):
    """A rack that is a pure constant-power load ``p_w`` [W]: no shelf, voltage regulators at efficiency 1."""
    return {"id": rack_id, "bus": bus, "p_it_w": float(p_w), "vrm_efficiency": 1.0}


def _feeder_case(v0_v, r_ohm, p_w, length_m, *, name, solver=None):
    """Stiff source at ``src`` → line ``feeder`` (loop resistance ``r_ohm``) → constant-power load at ``load``."""
    import gigawatt as gw

    return gw.make_case(
        {"bus": [_bus("src", v0_v), _bus("load", v0_v)],
         "line": [{"id": "feeder", "from_bus": "src", "to_bus": "load", "length_m": length_m, "r_ohm": r_ohm}],
         "source": [{"id": "station", "bus": "src", "v_set_v": v0_v, "rated_power_w": 10.0 * p_w}],
         "rack": [_constant_power_rack("load", "load", p_w)]},
        case={"name": name}, solver=solver or {})


def _ledger(ds, point=""):
    return Measured("energy_balance_residual", float(ds.attrs["energy_balance_residual"]), point=point)


# --- runners ---------------------------------------------------------------------------------------


def constant_power_feeder(spec):
    """Case 1: load-bus voltage, line current and line loss against the closed form, at several loads."""
    import gigawatt as gw

    inp = spec["inputs"]
    v0, r = inp["v0_v"], inp["r_ohm"]
    p_max = max_transferable_power(v0, r)
    out = []
    for frac in inp["load_fractions_of_p_max"]:
        p = frac * p_max
        ds = gw.solve(_feeder_case(v0, r, p, inp["line_length_m"], name=spec["name"]))
        v = constant_power_voltage(v0, r, p)
        i = (v0 - v) / r
        point = f"P = {frac:g} P_max"
        out += [Measured("v_load_v", float(ds["v_v"].sel(bus="load")), v, point),
                Measured("i_line_a", float(ds["i_a"].sel(line="feeder")), i, point),
                Measured("p_loss_line_w", float(ds["line_p_loss_w"].sel(line="feeder")), i * i * r, point),
                _ledger(ds, point)]
    return out


def nose(spec):
    """Case 2: a load beyond the nose must raise ConvergenceError reporting P_max and the feeder."""
    import gigawatt as gw

    inp = spec["inputs"]
    v0, r = inp["v0_v"], inp["r_ohm"]
    p_max = max_transferable_power(v0, r)
    p = inp["load_factor_of_p_max"] * p_max
    case = _feeder_case(v0, r, p, inp["line_length_m"], name=spec["name"],
                        solver={"nose_tolerance": inp["nose_tolerance"]})
    try:
        gw.solve(case)
    except gw.ConvergenceError as err:
        d = err.details
        excess = (d["max_power_w"] - p_max) / p_max
        return [Measured("raises", "ConvergenceError", "ConvergenceError"),
                Measured("max_power_w", float(d["max_power_w"]), p_max),
                Measured("max_power_excess_over_p_max", excess, 0.0),
                Measured("asked_power_w", float(d["asked_power_w"]), p),
                Measured("feeder", d["feeder"]),
                Measured("bus", d["bus"])]
    return [Measured("raises", "solved without error", "ConvergenceError")]


def station_quadratic_loss(spec):
    """Case 3a: rectifier with the MatACDC quadratic loss feeding a load through a short line."""
    import gigawatt as gw

    inp = spec["inputs"]
    v0 = inp["v_set_v"]
    n = inp["n_racks"]
    case = gw.make_case(
        {"bus": [_bus("station", v0), _bus("load", v0)],
         "line": [{"id": "link", "from_bus": "station", "to_bus": "load", "length_m": inp["line_length_m"],
                   "r_ohm": inp["line_r_ohm"]}],
         "source": [{"id": "vsc", "bus": "station", "v_set_v": v0, "rated_power_w": inp["rated_power_w"],
                     "loss_model": "matacdc"}],
         "rack": [_constant_power_rack(f"load{k}", "load", inp["rack_p_w"]) for k in range(n)]},
        loss_models={"matacdc": {"kind": "quadratic", **inp["loss_model"]}}, case={"name": spec["name"]})
    ds = gw.solve(case)
    return [Measured("v_load_v", float(ds["v_v"].sel(bus="load"))),
            Measured("p_loss_line_w", float(ds["line_p_loss_w"].sel(line="link"))),
            Measured("p_dc_w", float(ds["p_dc_w"].sel(source="vsc"))),
            Measured("source_loss_w", float(ds["source_loss_w"].sel(source="vsc"))),
            Measured("p_grid_w", float(ds["source_p_grid_w"].sel(source="vsc"))),
            _ledger(ds)]


def shelf_efficiency_curve(spec):
    """Case 3b: racks whose shelves follow the 80 PLUS Titanium curve, at given fractions of shelf rating."""
    import gigawatt as gw
    from gigawatt.models.converter_losses import TITANIUM_230V_REDUNDANT

    inp = spec["inputs"]
    rated, vrm = inp["shelf_rated_power_w"], inp["vrm_efficiency"]
    # IT power that puts the shelf output (p_it / vrm) at the asked fraction of the shelf rating.
    racks = [{"id": f"x{round(100 * x)}", "bus": "row", "p_it_w": x * rated * vrm, "p_it_basis": "chips",
              "vrm_efficiency": vrm, "shelf_loss_model": "titanium", "shelf_rated_power_w": rated}
             for x in inp["load_fractions"]]
    case = gw.make_case(
        {"bus": [_bus("swb", inp["v_set_v"]), _bus("row", inp["v_set_v"])],
         "line": [{"id": "feeder", "from_bus": "swb", "to_bus": "row", "length_m": inp["line_length_m"],
                   "r_ohm": inp["line_r_ohm"]}],
         "source": [{"id": "station", "bus": "swb", "v_set_v": inp["v_set_v"], "rated_power_w": 10 * rated}],
         "rack": racks},
        loss_models={"titanium": TITANIUM_230V_REDUNDANT}, case={"name": spec["name"]})
    ds = gw.solve(case)
    out = []
    for x, rack in zip(inp["load_fractions"], racks):
        point = f"{100 * x:g} % load"
        out += [Measured("rack_p_in_w", float(ds["rack_p_in_w"].sel(rack=rack["id"])), point=point),
                Measured("shelf_loss_w", float(ds["shelf_loss_w"].sel(rack=rack["id"])), point=point),
                Measured("vrm_loss_w", float(ds["vrm_loss_w"].sel(rack=rack["id"])), point=point)]
    return out + [_ledger(ds)]


def droop_sharing(spec):
    """Case 4: two droop sources at one bus share its load by rating/droop; the bus voltage follows."""
    import gigawatt as gw

    inp = spec["inputs"]
    sources = inp["sources"]
    case = gw.make_case(
        {"bus": [_bus("dc", inp["v_nominal_v"])],
         "source": [{"id": s["id"], "bus": "dc", "v_set_v": s["v_set_v"], "droop": s["droop"],
                     "rated_power_w": s["rated_power_w"]} for s in sources],
         "rack": [_constant_power_rack("load", "dc", inp["load_p_w"])]},
        case={"name": spec["name"]})
    ds = gw.solve(case)
    return ([Measured("v_bus_v", float(ds["v_v"].sel(bus="dc")))]
            + [Measured("p_dc_w", float(ds["p_dc_w"].sel(source=s["id"])), point=f"source {s['id']}")
               for s in sources]
            + [_ledger(ds)])


def dc_dc_level(spec):
    """Case 5: 800 V source → line → DC/DC converter (constant efficiency) → line → rack at 50 V."""
    import gigawatt as gw

    inp = spec["inputs"]
    hv, lv = inp["hv_v"], inp["lv_v"]
    r_hv, r_lv, p, eta = inp["r_hv_ohm"], inp["r_lv_ohm"], inp["rack_p_w"], inp["converter_efficiency"]
    case = gw.make_case(
        {"bus": [_bus("hv_src", hv), _bus("hv_in", hv), _bus("lv_out", lv), _bus("rack", lv)],
         "line": [{"id": "hv_line", "from_bus": "hv_src", "to_bus": "hv_in", "length_m": inp["line_length_m"],
                   "r_ohm": r_hv},
                  {"id": "lv_line", "from_bus": "lv_out", "to_bus": "rack", "length_m": inp["line_length_m"],
                   "r_ohm": r_lv}],
         "source": [{"id": "station", "bus": "hv_src", "v_set_v": hv, "rated_power_w": inp["source_rated_w"]}],
         "converter": [{"id": "dcdc", "from_bus": "hv_in", "to_bus": "lv_out", "v_set_v": lv,
                        "rated_power_w": inp["converter_rated_w"], "loss_model": "eta"}],
         "rack": [_constant_power_rack("rack", "rack", p)]},
        loss_models={"eta": {"kind": "constant_efficiency", "efficiency": eta}}, case={"name": spec["name"]})
    ds = gw.solve(case)
    # By hand, 50 V side first, then the 800 V side sees the converter input as a constant-power load.
    v_rack = constant_power_voltage(lv, r_lv, p)
    i_lv = (lv - v_rack) / r_lv
    p_out = lv * i_lv  # rack power plus the 50 V line loss
    p_in = p_out / eta
    v_in = constant_power_voltage(hv, r_hv, p_in)
    i_hv = (hv - v_in) / r_hv
    return [Measured("v_rack_v", float(ds["v_v"].sel(bus="rack")), v_rack),
            Measured("i_lv_line_a", float(ds["i_a"].sel(line="lv_line")), i_lv),
            Measured("converter_p_out_w", float(ds["p_out_w"].sel(converter="dcdc")), p_out),
            Measured("converter_p_in_w", float(ds["converter_p_in_w"].sel(converter="dcdc")), p_in),
            Measured("v_converter_in_v", float(ds["v_v"].sel(bus="hv_in")), v_in),
            Measured("i_hv_line_a", float(ds["i_a"].sel(line="hv_line")), i_hv),
            Measured("p_grid_w", float(ds["source_p_grid_w"].sel(source="station")), hv * i_hv),
            _ledger(ds)]


def busway_loss(spec):
    """Case 7: loss per metre of a copper busway carrying 1 MW at 800 V, solved as a network."""
    import gigawatt as gw

    inp = spec["inputs"]
    v = inp["v_set_v"]
    case = gw.make_case(
        {"bus": [_bus("swb", v), _bus("rack", v)],
         "line": [{"id": "busway", "from_bus": "swb", "to_bus": "rack", "kind": "busway",
                   "length_m": inp["length_m"], "cross_section_m2": inp["cross_section_mm2"] * 1e-6,
                   "material": inp["material"], "conductor_temp_k": inp["conductor_temp_c"] + 273.15}],
         "source": [{"id": "station", "bus": "swb", "v_set_v": v, "rated_power_w": 2 * inp["p_w"]}],
         "rack": [_constant_power_rack("rack", "rack", inp["p_w"])]},
        case={"name": spec["name"]})
    ds = gw.solve(case)
    return [Measured("busway_loss_per_m", float(ds["line_p_loss_w"].sel(line="busway")) / inp["length_m"]),
            _ledger(ds)]


# --- cross-code: pandapower -------------------------------------------------------------------------


def random_network(seed: int, n_bus: int, extra_lines: int, n_sources: int, gen: dict):
    """A random DC network as a :class:`gigawatt.Case`: a random recursive tree (bus i hangs from a bus
    drawn uniformly from 0..i−1) plus ``extra_lines`` lines between random bus pairs, ``n_sources`` stiff
    sources (the first at bus 0 at nominal voltage, the others at random buses with set-points spread by
    ``gen["v_set_spread"]``), racks at a random share of the buses, some with the Titanium shelf curve at
    a random load fraction of their shelf rating.

    Everything random comes from ``numpy.random.default_rng(seed)``, so a seed names one network.
    """
    import gigawatt as gw
    from gigawatt.models.converter_losses import TITANIUM_230V_REDUNDANT

    rng = np.random.default_rng(seed)
    vn = float(gen["v_nominal_v"])
    names = [f"b{i}" for i in range(n_bus)]
    parent = [0] + [int(rng.integers(0, i)) for i in range(1, n_bus)]
    lo_m, hi_m = gen["length_m"]
    sections = np.asarray(gen["cross_sections_mm2"], dtype=float) * 1e-6
    lines = [{"id": f"t{i}", "from_bus": names[parent[i]], "to_bus": names[i],
              "length_m": float(rng.uniform(lo_m, hi_m)), "cross_section_m2": float(rng.choice(sections))}
             for i in range(1, n_bus)]
    for k in range(extra_lines):
        a, b = rng.choice(n_bus, size=2, replace=False)
        lines.append({"id": f"x{k}", "from_bus": names[a], "to_bus": names[b],
                      "length_m": float(rng.uniform(lo_m, hi_m)), "cross_section_m2": float(rng.choice(sections))})
    src_bus = [0] + [int(b) for b in rng.choice(np.arange(1, n_bus), size=n_sources - 1, replace=False)]
    spread = gen["v_set_spread"]
    sources = [{"id": f"s{j}", "bus": names[b], "rated_power_w": gen["source_rated_w"],
                "v_set_v": vn if j == 0 else float(vn * (1.0 + rng.uniform(-spread, spread)))}
               for j, b in enumerate(src_bus)]
    lo_p, hi_p = gen["rack_p_it_w"]
    racks = []
    for i in range(n_bus):
        if rng.random() < gen["rack_share"]:
            rack = {"id": f"r{i}", "bus": names[i], "p_it_w": float(rng.uniform(lo_p, hi_p)), "p_it_basis": "chips",
                    "vrm_efficiency": gen["vrm_efficiency"]}
            if rng.random() < gen["titanium_share"]:  # shelf rated so that it runs at a random load fraction
                shelf_out = rack["p_it_w"] / rack["vrm_efficiency"]
                rack.update(shelf_loss_model="titanium",
                            shelf_rated_power_w=shelf_out / float(rng.uniform(*gen["shelf_load_fraction"])))
            racks.append(rack)
    return gw.make_case({"bus": [_bus(b, vn) for b in names], "line": lines, "source": sources, "rack": racks},
                        loss_models={"titanium": TITANIUM_230V_REDUNDANT},
                        case={"name": f"random seed {seed}, {n_bus} buses"})


def pandapower_random(spec):
    """Case 6: random radial or meshed networks, gigawatt against pandapower on the equivalent AC network."""
    import gigawatt as gw
    import pandapower as pp

    from gigawatt.validation.pandapower_equivalent import to_pandapower

    inp = spec["inputs"]
    options = dict(inp["runpp"])
    floor_a = inp["current_floor_a"]
    out = []
    for nw in inp["networks"]:
        gen = {**inp["generator"], **{k: v for k, v in nw.items() if k in inp["generator"]}}  # per-network overrides
        case = random_network(nw["seed"], nw["n_bus"], nw.get("extra_lines", 0), nw.get("n_sources", 1), gen)
        ds = gw.solve(case)
        net, bus_index = to_pandapower(case)
        pp.runpp(net, **options)  # raises LoadflowNotConverged if it does not converge: a failed row
        point = f"seed {nw['seed']}, {nw['n_bus']} buses, {len(case.tables['line'])} lines"
        v_pp = net.res_bus["vm_pu"].to_numpy()[bus_index]
        out.append(Measured("max_abs_dev_v_pu", float(np.max(np.abs(ds["v_pu"].to_numpy() - v_pp))), 0.0, point))
        out.append(Measured("total_line_loss_w", float(ds["line_p_loss_w"].sum()),
                            float(net.res_line["pl_mw"].sum()) * 1e6, point))
        # pandapower's i_ka is a magnitude; its direction is the sign of the power entering at from_bus.
        i_pp = (np.sqrt(3.0) * 1e3 * net.res_line["i_ka"].to_numpy()
                * np.sign(net.res_line["p_from_mw"].to_numpy()))
        i_gw = ds["i_a"].to_numpy()  # to_pandapower keeps the case's line order (all lines in service here)
        dev = np.abs(i_gw - i_pp) / np.maximum(np.abs(i_gw), floor_a)
        out.append(Measured("max_rel_dev_line_current", float(np.max(dev)), 0.0, point))
    return out


RUNNERS = {
    "constant_power_feeder": constant_power_feeder,
    "nose": nose,
    "station_quadratic_loss": station_quadratic_loss,
    "shelf_efficiency_curve": shelf_efficiency_curve,
    "droop_sharing": droop_sharing,
    "dc_dc_level": dc_dc_level,
    "busway_loss": busway_loss,
    "pandapower_random": pandapower_random,
    **BIPOLAR_RUNNERS,
    **COOLING_RUNNERS,
    **DH_RUNNERS,
    **DYN_RUNNERS,
    **PIPE_RUNNERS,
    **ARCH_RUNNERS,
    **AC_RUNNERS,
    **WEATHER_RUNNERS,
    **CONTINGENCY_RUNNERS,
    **DEMAND_RUNNERS,
    **KPI_RUNNERS,
    **DCGRID_RUNNERS,
}
"""Runner of each case, by the name its case file gives under ``runner``."""
