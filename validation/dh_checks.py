"""Runners of the district-heating cross-code cases (``validation/cases/dh_*.toml``).

Two kinds of reference, neither written here:

- **The test networks that ship inside pandapipes** [1]_, with the results of the tool that made them:
  OpenModelica (Modelica Standard Library fluid models) [2]_ and STANET. Each network is read from
  pandapipes' package data, converted by :func:`gigawatt.from_pandapipes`, solved by :func:`gigawatt.solve`
  and compared with the reference values stored in its tables (junction ``p_om``/``p_stanet`` [bar],
  pipe ``v_om``/``v_stanet`` [m/s], pipe ``T_om`` [K] per section).
- **pandapipes itself** on random meshed district-heating networks (supply and return networks, heat
  consumers, a circulation pump) built in pandapipes, converted, and solved by both.

SI units throughout (Pa, kg/s, K, W, m); pandapipes' bar, km and mm are converted at its boundary.

References
----------
.. [1] D. Lohmeier, D. Cronbach, S. R. Drauz, M. Braun, T. M. Kneiske, "Pandapipes: An Open-Source
   Piping Grid Calculation Package for Multi-Energy Grid Simulations", Sustainability 12(23), 9899
   (2020). doi:10.3390/su12239899 (its section 4 describes the OpenModelica and STANET comparisons)
.. [2] F. Casella, M. Otter, K. Proelss, C. Richter, H. Tummescheit, "The Modelica Fluid and Media library
   for modeling of incompressible and compressible thermo-fluid pipe networks", Proc. 5th International
   Modelica Conference (2006).
"""
from __future__ import annotations

import warnings

import math
from pathlib import Path

import numpy as np

from gigawatt.interchange import pandapipes_ids

RE_TURBULENT_MIN = 4000.0
"""Reynolds number from which gigawatt's friction factor is Colebrook's (laminar below 2300, a blend
between); where the peer tool uses another law there, a pipe below it is not a like-for-like comparison."""

REFERENCE_COLUMNS = {
    "openmodelica": {"p": "p_om", "v": "v_om", "t": "T_om"},
    "stanet": {"p": "p_stanet", "v": "v_stanet", "t": None},
}
"""Columns of the pandapipes tables that hold each reference tool's results: junction pressure [bar],
pipe mean velocity [m/s], pipe temperatures per section in from→to order [K] (None: not given)."""


def _measured(*args, **kwargs):
    # Imported here, not at module level: checks.py imports this module to register its runners.
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def pandapipes_network(relative_path: str):
    """A network file shipped in pandapipes' ``networks/network_files`` folder, read by pandapipes."""
    import pandapipes as pps
    from pandapipes.io.file_io import from_json

    path = Path(pps.pp_dir) / "networks" / "network_files" / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"{relative_path} is not among pandapipes' network files ({path})")
    return from_json(str(path))


def reynolds_numbers(ds, case) -> np.ndarray:
    """Reynolds number of every in-service pipe of a solved case, from gigawatt's own flow, velocity and
    density (recovered as m / (v A)) and the viscosity of its fluid at the same state (density matched)."""
    pipes = case.tables["dh_pipe"]
    live = pipes["in_service"].to_numpy(bool)
    d = pipes["diameter_m"].to_numpy(float)[live]
    m = np.abs(ds["dh_pipe_flow_kg_s"].to_numpy()[live])
    mu = fluid_properties(ds, case)["viscosity_pa_s"]
    return 4.0 * m / (math.pi * d * mu)


def fluid_properties(ds, case) -> dict:
    """The constant properties gigawatt solved the network with: its ``water`` table at the mean of the
    plant's supply temperature and the consumers' return temperatures (``[district_heating] fluid``, schema),
    checked against the density the results imply (m / (v A) of the pipe with the largest flow) to 1e-12,
    so that a change in how the solver picks its property temperature fails here instead of skewing the
    comparisons."""
    from gigawatt.models.coolant import coolant_properties
    from gigawatt.models.coolant_store import stored_table
    from gigawatt.solver.district_heating.stage import plant_pressure_pa

    s = case.settings["district_heating"]
    t_ret = case.tables["dh_consumer"]["t_return_k"].to_numpy(float)
    t_mean = 0.5 * (s["t_supply_k"] + (float(np.mean(t_ret)) if t_ret.size else s["t_supply_k"]))
    props = {k: float(v) for k, v in coolant_properties(stored_table(s["fluid"], plant_pressure_pa(s)), t_mean).items()}
    m = ds["dh_pipe_flow_kg_s"].to_numpy()
    v = ds["dh_pipe_velocity_m_s"].to_numpy()
    k = int(np.nanargmax(np.abs(m)))
    d = float(case.tables["dh_pipe"]["diameter_m"].iloc[k])
    rho = m[k] / (v[k] * 0.25 * math.pi * d * d)
    if abs(rho / props["density_kg_per_m3"] - 1.0) > 1e-12:
        raise ValueError(f"gigawatt solved with density {rho!r} kg/m^3, not the {props['density_kg_per_m3']!r} of "
                         f"water at {t_mean} K: the runner's property temperature is not the solver's")
    return {"t_k": t_mean, "density_kg_m3": props["density_kg_per_m3"], "cp_j_per_kg_k": props["cp_j_per_kg_k"],
            "viscosity_pa_s": props["viscosity_pa_s"]}


# --- reference results shipped with pandapipes ----------------------------------------------------


def compare_with_reference(net, reference: str, *, require_turbulent: bool = True) -> dict:
    """Convert ``net``, solve it with gigawatt and compare with the reference results in its tables.

    Returns
    -------
    dict
        ``max_rel_dev_pressure_drop``: max over junctions of |Δp_gw − Δp_ref| / max Δp_ref, Δp the drop
        from the plant's supply junction [-]; ``max_pressure_drop_pa``: the largest reference drop [Pa];
        ``max_abs_dev_velocity_m_s``: max over pipes of |v_gw − v_ref| [m/s]; ``max_rel_dev_velocity``: the
        same over |v_ref| [-]; ``min_reynolds``; and where the reference gives temperatures (OpenModelica's
        pipes in ``sections`` finite volumes):

        ``max_abs_dev_pipe_outlet_t_k``
            max over pipes of |T_out − T_ref,out| [K], T_ref,out the reference's downstream section, and
            T_out gigawatt's outlet with each pipe discretised as the reference discretises it
            (:func:`finite_volume_case`);
        ``max_exact_above_reference_t_k``
            max over pipes of T_out,exact − T_ref,out [K], gigawatt's own (exact) outlet temperature: the
            exponential decays faster than its upwind finite-volume discretisation, so it should stay below;
        ``max_discretisation_gap_k``
            max over pipes of T_out − T_out,exact [K], what the discretisation alone changes;
        ``max_pipe_drop_k``
            the largest inlet-to-outlet drop of a pipe in gigawatt's solution [K].
    """
    import gigawatt as gw

    cols = REFERENCE_COLUMNS[reference]
    case = gw.from_pandapipes(net)
    ds = gw.solve(case)
    ids = pandapipes_ids(net)
    re = reynolds_numbers(ds, case)
    if require_turbulent and re.min() < RE_TURBULENT_MIN:
        raise ValueError(f"a pipe runs at Re = {re.min():.0f} < {RE_TURBULENT_MIN:.0f}, where gigawatt's friction "
                         "law is not Colebrook's: not a like-for-like case")
    out = {"min_reynolds": float(re.min())}

    junction = net.junction
    nodes = ids["junction"].loc[junction.index].to_numpy()
    s = int(np.flatnonzero(nodes == case.settings["district_heating"]["supply_node"])[0])
    p_gw = ds["dh_p_pa"].sel(dh_node=nodes).to_numpy()
    p_ref = junction[cols["p"]].to_numpy(float) * 1e5
    known = np.isfinite(p_ref)
    drop_gw, drop_ref = p_gw[s] - p_gw[known], p_ref[s] - p_ref[known]
    out["max_pressure_drop_pa"] = float(np.max(np.abs(drop_ref)))
    out["max_rel_dev_pressure_drop"] = float(np.max(np.abs(drop_gw - drop_ref)) / out["max_pressure_drop_pa"])

    pipes = net.pipe
    pipe_ids = ids["pipe"].loc[pipes.index].to_numpy()
    v_gw = ds["dh_pipe_velocity_m_s"].sel(dh_pipe=pipe_ids).to_numpy()
    v_ref = pipes[cols["v"]].to_numpy(float)
    ok = np.isfinite(v_ref)
    out["max_abs_dev_velocity_m_s"] = float(np.max(np.abs(v_gw[ok] - v_ref[ok])))
    out["max_rel_dev_velocity"] = float(np.max(np.abs(v_gw[ok] - v_ref[ok]) / np.abs(v_ref[ok])))

    if cols["t"] is not None and cols["t"] in pipes:
        # Sections run from the pipe's from-end to its to-end; the outlet is the last one downstream.
        t_ref = np.array([np.asarray(t, float)[-1] if v > 0 else np.asarray(t, float)[0]
                          for t, v in zip(pipes[cols["t"]], v_ref)])
        t_exact = ds["dh_pipe_t_out_k"].sel(dh_pipe=pipe_ids).to_numpy()
        fv_case = finite_volume_case(case, ds, dict(zip(pipe_ids, pipes["sections"].to_numpy(int))))
        fv = gw.solve(fv_case)
        if not np.array_equal(fv["dh_pipe_flow_kg_s"].to_numpy(), ds["dh_pipe_flow_kg_s"].to_numpy()):
            raise ValueError("the flows changed with the pipes' heat loss: the discretised case is not the same "
                             "hydraulic network")
        t_fv = fv["dh_pipe_t_out_k"].sel(dh_pipe=pipe_ids).to_numpy()
        upstream = np.where(v_ref > 0, pipes["from_junction"], pipes["to_junction"])
        t_in = ds["dh_t_k"].sel(dh_node=ids["junction"].loc[upstream].to_numpy()).to_numpy()
        out["max_abs_dev_pipe_outlet_t_k"] = float(np.max(np.abs(t_fv - t_ref)))
        out["max_exact_above_reference_t_k"] = float(np.max(t_exact - t_ref))
        out["max_discretisation_gap_k"] = float(np.max(t_fv - t_exact))
        out["max_pipe_drop_k"] = float(np.max(t_in - t_exact))
    return out


def finite_volume_case(case, ds, sections: dict):
    r"""``case`` with every pipe's heat loss as a chain of ``N`` upwind finite volumes gives it, N the pipe's
    number of sections (``sections``: pipe id → N), at the flows of the solution ``ds``.

    A finite volume of a pipe carrying ``m`` [kg/s] with heat-loss coefficient ``U'`` [W/(m K)] over ``L/N``
    is a mixed volume at its outflow temperature, :math:`T_k = (T_{k-1} + a\,T_g)/(1 + a)` with
    :math:`a = U' L / (N |m| c_p)`; N of them give :math:`T_N - T_g = (T_0 - T_g)(1 + a)^{-N}`, the exact
    exponential :math:`e^{-N \ln(1 + a)}` of a coefficient :math:`U'' = U' \ln(1 + a)/a`. So the case with each
    pipe's ``u_w_per_m_k`` scaled by :math:`\ln(1 + a)/a` is, in temperatures, the discretised network
    (the flows do not depend on the heat loss: gigawatt's fluid properties are constant), with gigawatt's
    constant cp. This is how OpenModelica's Modelica.Fluid pipes discretise (its ``nNodes`` volumes,
    upwind), which is how its temperatures in pandapipes' test networks were computed.
    """
    import gigawatt as gw

    cp = fluid_properties(ds, case)["cp_j_per_kg_k"]
    tables = {t: case.tables[t].copy() for t in ("dh_node", "dh_pipe", "dh_consumer")}
    pipes = tables["dh_pipe"]
    n = pipes["id"].map(sections).fillna(1).to_numpy(float)
    u = pipes["u_w_per_m_k"].to_numpy(float)
    m = np.abs(ds["dh_pipe_flow_kg_s"].sel(dh_pipe=pipes["id"].to_numpy()).to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        a = u * pipes["length_m"].to_numpy(float) / (n * m * cp)
        scale = np.where(a > 0, np.log1p(a) / a, 1.0)
    pipes["u_w_per_m_k"] = u * scale
    settings = {k: v for k, v in case.settings["district_heating"].items() if v is not None}  # None: a default
    return gw.make_case(tables, case={"name": f"{case.name}, pipes as finite volumes"}, district_heating=settings)


def pandapipes_reference(spec):
    """Every network the case file lists, converted from pandapipes, against the reference tool's results
    stored in it."""
    inp = spec["inputs"]
    out = []
    for rel in inp["networks"]:
        got = compare_with_reference(pandapipes_network(rel), inp["reference"])
        point = rel.rsplit("/", 1)[-1].removesuffix(".json")
        for quantity in inp["quantities"]:
            out.append(_measured(quantity, got[quantity], point=point))
    return out


# --- pandapipes itself on random meshed networks ---------------------------------------------------


def random_heat_network(seed: int, n_junction: int, extra_pipes: int, gen: dict, props: dict):
    """A random meshed district-heating network as a pandapipes net.

    Supply network: a random recursive tree (junction i hangs from one drawn uniformly among 0..i−1) plus
    ``extra_pipes`` pipes between random junction pairs (loops); the return network is its mirror (same
    routes, lengths and diameters, as for twin pipes). A heat consumer (``qext_w`` and ``treturn_k``) joins
    supply junction i to return junction i at every leaf of the tree (no dead ends: every pipe carries
    flow, as in a district-heating network) and at a random share of the other junctions; a circulation pump with a
    pressure lift feeds supply junction 0 from return junction 0. Pipes lose heat to one ground temperature.
    The fluid is a constant-property liquid with ``props`` (density, viscosity, heat capacity), as gigawatt
    holds its properties constant. Everything random comes from ``numpy.random.default_rng(seed)``, so a
    seed names one network.
    """
    import pandapipes as pps

    rng = np.random.default_rng(seed)
    fluid = pps.create_constant_fluid(name="gigawatt water", fluid_type="liquid", density=props["density_kg_m3"],
                                      viscosity=props["viscosity_pa_s"], heat_capacity=props["cp_j_per_kg_k"])
    net = pps.create_empty_network(name=f"random seed {seed}", fluid=fluid)
    t_sup, n = gen["t_supply_k"], n_junction
    sup = pps.create_junctions(net, n, pn_bar=gen["p_flow_bar"], tfluid_k=t_sup, name=[f"s{i}" for i in range(n)])
    ret = pps.create_junctions(net, n, pn_bar=gen["p_flow_bar"] - gen["plift_bar"], tfluid_k=t_sup,
                               name=[f"r{i}" for i in range(n)])
    pairs = [(int(rng.integers(0, i)), i) for i in range(1, n)]
    for _ in range(extra_pipes):
        a, b = rng.choice(n, size=2, replace=False)
        pairs.append((int(a), int(b)))
    diameters = np.asarray(gen["diameters_mm"], dtype=float)
    length_km, d_mm = np.empty(len(pairs)), np.empty(len(pairs))
    for k in range(len(pairs)):  # one draw after the other, as a seed's network is defined
        length_km[k] = float(rng.uniform(*gen["length_m"])) / 1e3
        d_mm[k] = float(rng.choice(diameters))
    a, b = np.array(pairs).T
    common = dict(length_km=length_km, inner_diameter_mm=d_mm, k_mm=gen["k_mm"], u_w_per_m2k=gen["u_w_per_m2k"],
                  text_k=gen["ground_t_k"])
    pps.create_pipes_from_parameters(net, sup[a], sup[b], name=[f"sp{k}" for k in range(len(pairs))], **common)
    pps.create_pipes_from_parameters(net, ret[b], ret[a], name=[f"rp{k}" for k in range(len(pairs))], **common)
    leaves = set(range(1, n)) - {a for a, _ in pairs[:n - 1]}  # of the tree
    at, q, t_ret = [], [], []
    for i in range(1, n):
        if rng.random() < gen["consumer_share"] or i in leaves:
            at.append(i)
            q.append(float(rng.uniform(*gen["qext_w"])))
            t_ret.append(float(rng.uniform(*gen["treturn_k"])))
    pps.create_heat_consumers(net, sup[at], ret[at], qext_w=q, treturn_k=t_ret, name=[f"c{i}" for i in at])
    pps.create_circ_pump_const_pressure(net, ret[0], sup[0], p_flow_bar=gen["p_flow_bar"], plift_bar=gen["plift_bar"],
                                        t_flow_k=t_sup, type="pt", name="plant")
    return net


PLACEHOLDER_WATER = {"density_kg_m3": 1000.0, "viscosity_pa_s": 1e-3, "cp_j_per_kg_k": 4180.0}
"""A water-like constant fluid to build the net with before gigawatt's properties are known (the conversion
only checks that the fluid is water; gigawatt then uses its own water)."""


def pandapipes_random(spec):
    """Random meshed networks solved by pandapipes and by gigawatt (converted with from_pandapipes): junction
    pressures, pipe flows, junction temperatures and consumer flows."""
    import pandapipes as pps

    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for nw in inp["networks"]:
        gen = {**inp["generator"], **{k: v for k, v in nw.items() if k in inp["generator"]}}
        args = (nw["seed"], nw["n_junction"], nw["extra_pipes"], gen)
        case = gw.from_pandapipes(random_heat_network(*args, PLACEHOLDER_WATER))
        ds = gw.solve(case)
        props = fluid_properties(ds, case)
        re = reynolds_numbers(ds, case)
        if re.min() < RE_TURBULENT_MIN:
            raise ValueError(f"seed {nw['seed']}: a pipe runs at Re = {re.min():.0f} < {RE_TURBULENT_MIN:.0f}, where "
                             "gigawatt's friction law is not Colebrook's and pandapipes' is; pick another seed")
        net = random_heat_network(*args, props)  # the same network, now with gigawatt's fluid
        if gw.from_pandapipes(net).hash() != case.hash():
            raise ValueError("the fluid changed the conversion")  # it must not: gigawatt uses its own water
        with warnings.catch_warnings():
            # pandapipes calls the result "physically incorrect" where a junction of these random test networks
            # falls below zero pressure: both codes solve the same equations there and this check compares
            # them, so it is no finding of the check (nor of the user's case).
            warnings.filterwarnings("ignore", message="Pipeflow converged, however, the results are physically "
                                    "incorrect", category=UserWarning)
            pps.pipeflow(net, **inp["pipeflow"])  # raises PipeflowNotConverged: a failed row

        ids = pandapipes_ids(net)
        point = f"seed {nw['seed']}, {2 * nw['n_junction']} junctions, {len(net.pipe)} pipes, " \
                f"{len(net.heat_consumer)} consumers"
        nodes = ids["junction"].loc[net.junction.index].to_numpy()
        p_gw = ds["dh_p_pa"].sel(dh_node=nodes).to_numpy()
        p_pp = net.res_junction["p_bar"].to_numpy() * 1e5
        out.append(_measured("max_abs_dev_pressure_pa", float(np.max(np.abs(p_gw - p_pp))), 0.0, point))
        m_gw = ds["dh_pipe_flow_kg_s"].sel(dh_pipe=ids["pipe"].loc[net.pipe.index].to_numpy()).to_numpy()
        m_pp = net.res_pipe["mdot_from_kg_per_s"].to_numpy()
        scale = np.max(np.abs(m_pp))
        out.append(_measured("max_dev_pipe_flow_rel_to_largest", float(np.max(np.abs(m_gw - m_pp)) / scale), 0.0,
                             point))
        t_gw = ds["dh_t_k"].sel(dh_node=nodes).to_numpy()
        t_pp = net.res_junction["t_k"].to_numpy()
        out.append(_measured("max_abs_dev_junction_t_k", float(np.max(np.abs(t_gw - t_pp))), 0.0, point))
        c_gw = ds["dh_consumer_flow_kg_s"].sel(
            dh_consumer=ids["heat_consumer"].loc[net.heat_consumer.index].to_numpy()).to_numpy()
        c_pp = net.res_heat_consumer["mdot_from_kg_per_s"].to_numpy()
        out.append(_measured("max_rel_dev_consumer_flow", float(np.max(np.abs(c_gw - c_pp) / np.abs(c_pp))), 0.0,
                             point))
        out.append(_measured("total_pipe_loss_w", float(ds["dh_pipe_loss_w"].sum()),
                             float(_pandapipes_pipe_loss_w(net, props)), point))
    return out


def _pandapipes_pipe_loss_w(net, props) -> float:
    """Heat the pipes lose in pandapipes' solution [W]: |m| cp (T_in − T_outlet) over its pipes, T_in the
    upstream junction's temperature (``t_from_k`` or ``t_to_k`` by the flow's sign: junction temperatures),
    T_outlet the water leaving the pipe (``t_outlet_k``), with the constant cp it solved with."""
    r = net.res_pipe
    m = r["mdot_from_kg_per_s"].to_numpy()
    t_in = np.where(m >= 0, r["t_from_k"].to_numpy(), r["t_to_k"].to_numpy())
    return float(np.sum(np.abs(m) * props["cp_j_per_kg_k"] * (t_in - r["t_outlet_k"].to_numpy())))


def campus_heating_a_consumer(campus: dict, cooling: dict, district_heating: dict, demand_w: float,
                              name: str):
    """A campus (:func:`gigawatt.build_campus` with ``campus`` and ``cooling``) whose reusable heat feeds a
    plant ``S``/``R`` and one fixed consumer ``c`` of ``demand_w`` [W] at the end of 200 m of DN150 supply
    and return pipe (U' = 0.3 W/(m K))."""
    import gigawatt as gw

    from gigawatt.validation.cooling_checks import IDEALISED_CAMPUS

    built = gw.build_campus(**{**IDEALISED_CAMPUS, **campus}, cooling=cooling)
    pipes = [dict(id=i, from_node=a, to_node=b, length_m=200.0, diameter_m=0.15, u_w_per_m_k=0.3)
             for i, a, b in (("s1", "S", "A"), ("r1", "Ar", "R"))]
    tables = dict(built.tables, dh_node=[{"id": x} for x in ("S", "A", "Ar", "R")], dh_pipe=pipes,
                  dh_consumer=[dict(id="c", supply_node="A", return_node="Ar", kind="fixed", demand_w=demand_w)])
    return gw.make_case(tables, loss_models=dict(built.loss_model_params), cooling=cooling, case={"name": name},
                        district_heating={"supply_node": "S", "return_node": "R", **district_heating})


def heat_pump_cop_published(spec):
    """The coupled chain with its heat pumps lifting campus heat to each network supply temperature: the
    heat pumps' COP (and the campus's reuse temperature, the source the paper states)."""
    import gigawatt as gw

    inp = spec["inputs"]
    out = []
    for variant in inp["variants"]:
        case = campus_heating_a_consumer(inp["campus"], inp["cooling"],
                                         {**inp["district_heating"], "t_supply_k": variant["t_supply_k"]},
                                         inp["demand_w"], spec["name"])
        ds = gw.solve(case)
        a = ds.attrs
        if not a["hp_heat_w"] > 0:
            raise ValueError(f"{variant['name']}: the heat pumps deliver nothing")
        out += [_measured("hp_cop", float(a["hp_cop"]), point=variant["name"]),
                _measured("t_reuse_k", float(a["t_reuse_k"]), point=variant["name"])]
    return out


def substation_controls(spec):
    """Each substation control of the case file on one supply pipe (plant - pipe - substation - pipe - plant),
    solved steady, against its closed form evaluated here with the solver's own water properties: the flow
    (m = Q / (cp dT); max(demand flow, minimum); the flow limit), the inlet temperature on the pipe's exponential
    solution at that flow (Incropera et al. 2011, eq. 8.46a), the return T_in - Q / (m cp) (or the set-point
    at the limit) and the heat delivered."""
    import gigawatt as gw
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    inp = spec["inputs"]
    out = []
    for v in inp["variants"]:
        pipe = dict(length_m=inp["length_m"], diameter_m=inp["diameter_m"], u_w_per_m_k=inp["u_w_per_m_k"])
        tables = {"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
                  "dh_pipe": [dict(id="s", from_node="S", to_node="A", **pipe),
                              dict(id="r", from_node="Ar", to_node="R", **pipe)],
                  "dh_consumer": [dict(id="c", supply_node="A", return_node="Ar", kind="fixed", **v["consumer"])]}
        dh = prepare_district_heating(gw.make_case(tables, district_heating={
            "supply_node": "S", "return_node": "R", "t_supply_k": inp["t_supply_k"],
            "ground_t_k": inp["ground_t_k"]}, case={"name": spec["name"]}))
        st, cp, c = dh.solve(None), dh.cp, v["consumer"]
        q, t_ret = c["demand_w"], c.get("t_return_k", 313.15)

        def t_in_at(m):
            return inp["ground_t_k"] + (inp["t_supply_k"] - inp["ground_t_k"]) * math.exp(
                -inp["u_w_per_m_k"] * inp["length_m"] / (m * cp))

        if c.get("control") == "fixed_delta_t":
            m = q / (cp * c["delta_t_k"])
        elif c.get("control") == "flow_limited":
            m = c["flow_max_kg_s"]
        else:  # fixed_return with a minimum flow that holds
            m = c["flow_min_kg_s"]
        t_in = t_in_at(m)
        q_got = q if c.get("control") != "flow_limited" else m * cp * (t_in - t_ret)
        t_out = t_in - q_got / (m * cp)
        got = (float(st.consumer_flow_kg_s[0]), float(st.consumer_t_supply_k[0]), float(st.consumer_t_return_k[0]),
               float(st.consumer_q_w[0]))
        for name, g, e in zip(("flow_kg_s", "t_inlet_k", "t_return_k", "heat_w"), got, (m, t_in, t_out, q_got)):
            out.append(_measured(name, g, expected=e, point=v["name"]))
    return out


DH_RUNNERS = {
    "pandapipes_reference": pandapipes_reference,
    "pandapipes_random": pandapipes_random,
    "heat_pump_cop_published": heat_pump_cop_published,
    "substation_controls": substation_controls,
}
"""Runners of the district-heating cases, by the name their case files give under ``runner`` (registered
in :data:`gigawatt.validation.dc_checks.RUNNERS`)."""
