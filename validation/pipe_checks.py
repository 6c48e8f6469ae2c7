"""Validation runners for buried district-heating pipes: twin pipes' heat-loss factors and conductances
(:mod:`gigawatt.models.pipe_heat`). Each computes its reference independently: a closed form written out here
with ``math``, or a peer tool (pygfunction's multipole method).
"""
from __future__ import annotations

import math


def _measured(*args, **kwargs):
    from gigawatt.validation.dc_checks import Measured

    return Measured(*args, **kwargs)


def twin_pipe_two_cylinders(spec):
    """Insulation as conductive as the soil and the pair deep in it: the antisymmetric factor h_a of a twin pipe
    (supply and return at +T_d and -T_d about the ground) is that of two cylinders at opposite temperatures in an
    infinite medium, whose conduction shape factor per metre is S = 2 pi / arccosh((4 w^2 - d1^2 - d2^2) / (2 d1
    d2)) (Incropera Table 4.1, w the centre distance): 1/h_a = arccosh(2 D^2 / r_p^2 - 1) / 2."""
    from gigawatt.models.pipe_heat import twin_pipe_heat_loss_factors

    p = spec["inputs"]
    out = []
    for v in p["variants"]:
        r_p, d = v["d_pipe_m"] / 2, v["spacing_m"] / 2
        _, h_a = twin_pipe_heat_loss_factors(v["d_pipe_m"], v["d_casing_m"], v["spacing_m"], p["lambda_w_per_m_k"],
                                             p["lambda_w_per_m_k"], p["depth_m"])
        w, dd = 2 * d, 2 * r_p
        exact = math.acosh((4 * w * w - 2 * dd * dd) / (2 * dd * dd)) / 2
        out.append(_measured("inverse_h_a", 1.0 / float(h_a), exact, v["name"]))
    return out


def twin_pipe_multipole(spec):
    """PUR insulation in soil: the twin pipe's conductances per metre, each pipe to the ground surface U'_g =
    2 pi lambda_i h_s and supply to return U'_sr = pi lambda_i (h_a - h_s), against the multipole method
    (Claesson & Hellström 2011) as pygfunction implements it for two pipes in a borehole (here the casing): R from
    T_f - T_b = R q (J multipoles, no fluid resistance), the casing's mean temperature T_b taken to the surface by
    the mirror-image resistance arccosh(H / r_c) / (2 pi lambda_g) for the pair's total heat. Then
    U'_g = 1 / (R11 + R12 + 2 R_ground) and, from the antisymmetric problem, U'_sr = (1/(R11 - R12) - U'_g) / 2."""
    import pygfunction as gt

    from gigawatt.models.pipe_heat import twin_pipe_conductances

    p = spec["inputs"]
    out = []
    for v in p["variants"]:
        lam_i, lam_g, h = p["lambda_insulation_w_per_m_k"], v["lambda_soil_w_per_m_k"], p["depth_m"]
        r_p, r_c, d = p["d_pipe_m"] / 2, p["d_casing_m"] / 2, p["spacing_m"] / 2
        u_g, u_x = twin_pipe_conductances(p["d_pipe_m"], p["d_casing_m"], p["spacing_m"], lam_i, lam_g, h)
        r, _ = gt.pipes.thermal_resistances([(-d, 0.0), (d, 0.0)], r_p, r_c, lam_g, lam_i, 0.0, J=p["multipoles"])
        ref_g = 1.0 / (r[0, 0] + r[0, 1] + 2.0 * math.acosh(h / r_c) / (2.0 * math.pi * lam_g))
        ref_x = (1.0 / (r[0, 0] - r[0, 1]) - ref_g) / 2.0
        out += [_measured("u_ground_w_per_m_k", float(u_g), ref_g, v["name"]),
                _measured("u_exchange_w_per_m_k", float(u_x), ref_x, v["name"])]
    return out


PIPE_RUNNERS = {
    "twin_pipe_two_cylinders": twin_pipe_two_cylinders,
    "twin_pipe_multipole": twin_pipe_multipole,
}
"""Runners of the buried-pipe cases, by the name their case files give under ``runner`` (registered in
:data:`gigawatt.validation.dc_checks.RUNNERS`)."""


def frictional_heating(spec):
    """The district-heating stage with ``frictional_heating`` on a plant - supply pipe - consumer (a given flow) -
    return pipe line: each pipe's outlet against the closed form of m cp dT/dx = -U' (T - T_g) + P_f / L with
    P_f = m (p_in - p_out) / rho from the stage's own pressures, T_out = T_g + (T_in - T_g) e^-N + P_f / (U' L)
    (1 - e^-N), N = U' L / (m cp) (T_out = T_in + dp / (rho cp) without loss), written out here; and the stage's
    ledger (plant heat + frictional heat = delivered + losses)."""
    import gigawatt as gw
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    p = spec["inputs"]
    out = []
    for v in p["variants"]:
        pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=p["length_m"],  # noqa: E731
                                      diameter_m=p["diameter_m"], u_w_per_m_k=v["u_w_per_m_k"])
        case = gw.make_case({"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
                             "dh_pipe": [pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
                             "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "mass_flow",
                                              "mass_flow_kg_s": p["m_kg_s"], "demand_w": p["demand_w"]}]},
                            district_heating={"supply_node": "S", "return_node": "R", "frictional_heating": True,
                                              "ground_t_k": p["t_ground_k"]}, case={"name": "friction"})
        dh = prepare_district_heating(case)
        st = dh.solve(None)
        pr, t = st.node_p_pa, st.node_t_k
        m, u, length, tg = p["m_kg_s"], v["u_w_per_m_k"], p["length_m"], p["t_ground_k"]
        n = u * length / (m * dh.cp)
        for side, (a, b) in (("supply", (0, 1)), ("return", (2, 3))):
            p_f = m * (pr[a] - pr[b]) / dh.rho
            ref = (t[a] + p_f / (m * dh.cp) if n == 0 else
                   tg + (t[a] - tg) * math.exp(-n) + p_f / (u * length) * -math.expm1(-n))
            out.append(_measured("t_out_k", float(t[b]), ref, f"{v['name']}, {side} pipe"))
        out.append(_measured("heat_balance_residual", st.figures["dh_heat_balance_residual"], 0.0, v["name"]))
    return out


PIPE_RUNNERS["frictional_heating"] = frictional_heating


def twin_pipe_network(spec):
    """The district-heating stage with a twin pipe: plant - supply pipe - one consumer - its return pipe back in
    the same casing. Both inlets are known (the plant's supply, the consumer's return set-point) and both pipes
    carry the consumer's flow, so the pair is a balanced counter-flow pipe, whose linear system
    theta' = M theta, M = [[-b, k], [-k, b]] / 1 (b = (U'_g + U'_x)/C, k = U'_x/C, C = m cp), has M^2 = lambda^2 I,
    lambda^2 = b^2 - k^2, hence exp(M x) = cosh(lambda x) I + sinh(lambda x) / lambda M, written out here with
    math: the return's outlet y = theta_2(0) from theta_2(L) = theta_r, the supply's outlet theta_1(L); and the
    heat passed between them, U'_x int (theta_1 - theta_2) dx = C U'_x / (U'_g + 2 U'_x) (Sigma(0) - Sigma(L)),
    Sigma = theta_1 + theta_2 (from Sigma' = -(b + k)(theta_1 - theta_2)). The conductances are Wallentén's
    (:func:`gigawatt.models.pipe_heat.twin_pipe_conductances`, validated against the multipole method in
    ``dh_crosscode_twin_pipe_multipole``)."""
    import gigawatt as gw
    from gigawatt.models.pipe_heat import twin_pipe_conductances
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    p = spec["inputs"]
    out = []
    for v in p["variants"]:
        od, length = v["outer_diameter_m"], v["length_m"]
        pipe = lambda pid, a, b, **more: dict(id=pid, from_node=a, to_node=b, length_m=length,  # noqa: E731
                                               diameter_m=v["diameter_m"], outer_diameter_m=od,
                                               casing_diameter_m=v["casing_diameter_m"], depth_m=p["depth_m"], **more)
        case = gw.make_case({"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
                             "dh_pipe": [pipe("s1", "S", "A", twin_pipe="r1", twin_spacing_m=v["spacing_m"]),
                                         pipe("r1", "Ar", "R")],
                             "dh_consumer": [{"id": "c", "supply_node": "A", "return_node": "Ar", "kind": "fixed",
                                              "demand_w": v["demand_w"], "t_return_k": p["t_return_k"]}]},
                            district_heating={"supply_node": "S", "return_node": "R", "t_supply_k": p["t_supply_k"],
                                              "ground_t_k": p["t_ground_k"]}, case={"name": "twin"})
        dh = prepare_district_heating(case)
        st = dh.solve(None)
        u_g, u_x = (float(x) for x in twin_pipe_conductances(od, v["casing_diameter_m"], v["spacing_m"], 0.027, 1.5,
                                                             p["depth_m"]))
        c = float(st.consumer_flow_kg_s[0]) * dh.cp
        b, k = (u_g + u_x) / c, u_x / c
        lam = math.sqrt(b * b - k * k)
        ch, sh = math.cosh(lam * length), math.sinh(lam * length) / lam
        a_in, r_in = p["t_supply_k"] - p["t_ground_k"], p["t_return_k"] - p["t_ground_k"]
        y = (r_in + k * a_in * sh) / (ch + b * sh)          # the return's outlet, theta_2(0)
        s_out = ch * a_in + sh * (-b * a_in + k * y)         # the supply's outlet, theta_1(L)
        exchange = c * u_x / (u_g + 2 * u_x) * ((a_in + y) - (s_out + r_in))
        t = dict(zip(("S", "A", "Ar", "R"), st.node_t_k))
        out += [_measured("t_consumer_supply_k", float(t["A"]), p["t_ground_k"] + s_out, v["name"]),
                _measured("t_plant_return_k", float(t["R"]), p["t_ground_k"] + y, v["name"]),
                _measured("twin_exchange_w", st.figures["dh_q_twin_exchange_w"], exchange, v["name"]),
                _measured("heat_balance_residual", st.figures["dh_heat_balance_residual"], 0.0, v["name"])]
    return out


PIPE_RUNNERS["twin_pipe_network"] = twin_pipe_network
