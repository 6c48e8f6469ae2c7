"""The warm start of a prepared district-heating network (DistrictHeatingNetwork._predicted_t_in) against the
exponential solution of one supply pipe.

One consumer at the end of one supply pipe from the plant: its inlet temperature is
T_g + (T_S - T_g) exp(-U' L / (m c_p)) (Incropera eq. 8.46a), exactly the form the warm start predicts with, so
after a change of demand (another outdoor temperature) the first iterate already delivers the demand and the
solve takes one iterate; its flow is the root of m c_p (T_in(m) - T_ret) = Q found by brentq (rel 1e-9: the
solve stops at a heat residual of 1e-10 of the demand). A meshed town moves by the same fixed point from a
start that is only close: its answer must equal that of a fresh solve at the same outdoor temperature to the
fixed point's tolerance.
"""
import math

import numpy as np
from scipy.optimize import brentq

import gigawatt as gw
from gigawatt.solver.district_heating.stage import HEAT_RTOL, prepare_district_heating

T_SUPPLY, T_GROUND, T_RETURN = 348.15, 283.15, 313.15  # the schema's defaults [K]
LENGTH_M, U_W_PER_M_K = 3000.0, 0.5


def one_pipe_case():
    tables = {"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
              "dh_pipe": [dict(id="s1", from_node="S", to_node="A", length_m=LENGTH_M, diameter_m=0.05,
                               u_w_per_m_k=U_W_PER_M_K),
                          dict(id="r1", from_node="Ar", to_node="R", length_m=LENGTH_M, diameter_m=0.05,
                               u_w_per_m_k=0.3)],
              "dh_consumer": [dict(id="c", supply_node="A", return_node="Ar", kind="homes_degree_days",
                                   n_homes=40)]}
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R"})


def exponential_flow(q_w, cp):
    """Root of m cp (T_in(m) - T_ret) = Q with the exponential pipe [kg/s] (unique: the left side rises with m
    wherever T_in > T_ret)."""
    def imbalance(m):
        t_in = T_GROUND + (T_SUPPLY - T_GROUND) * math.exp(-U_W_PER_M_K * LENGTH_M / (m * cp))
        return m * cp * (t_in - T_RETURN) - q_w
    lo = q_w / (cp * (T_SUPPLY - T_RETURN))
    return brentq(imbalance, lo, 1e3 * lo, xtol=1e-15 * lo, rtol=1e-15)


def test_the_warm_start_is_exact_on_one_pipe():
    dh = prepare_district_heating(one_pipe_case())
    dh.solve(None)
    for outdoor_t_k in (263.15, 270.15, 278.15):
        st = dh.solve(None, outdoor_t_k=outdoor_t_k)
        q = float(st.consumer_demand_w[0])
        assert q > 0
        np.testing.assert_allclose(st.consumer_flow_kg_s[0], exponential_flow(q, dh.cp), rtol=1e-9)
        assert st.figures["dh_iterations"] == 1


def test_a_warm_started_town_equals_a_fresh_solve():
    from gigawatt.bench.heating_networks import build_case

    case = build_case(200)
    warm = prepare_district_heating(case)
    warm.solve(None)
    a = warm.solve(None, outdoor_t_k=266.15)
    b = prepare_district_heating(case).solve(None, outdoor_t_k=266.15)
    # both within HEAT_RTOL of the demand: the flows agree to a few times that
    np.testing.assert_allclose(a.consumer_flow_kg_s, b.consumer_flow_kg_s, rtol=4 * HEAT_RTOL)
    np.testing.assert_allclose(a.consumer_q_w, a.consumer_demand_w, rtol=HEAT_RTOL)
    assert a.figures["dh_heat_balance_residual"] <= 1e-9
