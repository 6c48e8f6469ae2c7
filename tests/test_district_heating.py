"""Physics of the district-heating stage (issue 4, "The physics" and "Validation"), each result checked
against something the solver did not compute:

- analytic: a single supply pipe and one consumer against the exponential outlet temperature
  T_out = T_g + (T_in - T_g) exp(-U L / (m cp)) with the substation flow found here by bracketing (the
  flow-temperature fixed point solved independently), and its pressure drop against ``fluids``
  (Darcy-Weisbach with the exact Colebrook friction factor); CoolProp water properties throughout;
- mixing at a tee (the mass-weighted mean of the branch outlet temperatures, cp being constant);
- loops with a known split: identical parallel pipes (50/50), laminar parallel pipes (Hagen-Poiseuille:
  m1/m2 = L2/L1) and fully rough turbulent parallel pipes (f constant: m1/m2 = sqrt(L2/L1));
- flow reversal: a meshed network whose link pipe runs to -> from, and the same network with the load moved
  so that the link reverses between solves;
- zero flow: a network with no demand, and a pipe with no flow in a mesh;
- invariants on random meshed networks (hypothesis): mass balance at every junction, mixing at every
  junction, every pipe's outlet temperature and heat loss, the heat ledger, the pump's differential-pressure
  control, delivered heat = demand unless flagged, temperatures falling along the supply flow;
- the coupled chain campus -> heat pumps -> network: recovered heat = the heat pumps' source heat = the
  cooling stage's q_recovered_w, rejected = available - recovered, ERF, the cooling ledgers, the COP by hand.

Known bugs are strict xfails with the evidence in their reason.

Tolerances: the solver interpolates CoolProp's IAPWS-95 table of water linearly (0.25 K spacing; between
stored pressures also linearly in pressure, within 4e-7 up to 21 bar). Measured
against CoolProp over 300-360 K at the former 0.5 K spacing, density and cp were within 5e-8 relative and
the viscosity within 6e-6 (h^2/8 |mu''|; the viscosity curves most; a quarter of that now), so quantities set by density or cp are held to 1e-6 and pressure
drops (laminar: proportional to the viscosity) to 1e-5. Temperatures depend on a substation's flow only
through m cp, which it sets to Q / (T_in - T_return) whatever cp is; the flows stop at a heat residual of
1e-10 of the demand, which leaves the temperatures within ~1e-9 K, held to 1e-8 K here.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from CoolProp.CoolProp import PropsSI
from fluids.core import K_from_f, dP_from_K
from fluids.friction import friction_factor
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import gigawatt as gw

T_SUPPLY = 348.15   # the schema's default plant supply temperature [K]
T_GROUND = 283.15   # the schema's default ground temperature [K]
T_RETURN = 313.15   # the schema's default substation return temperature [K]
DP_MIN = 50000.0    # the schema's default differential pressure at the worst consumer [Pa]
P_RETURN = 200000.0  # the schema's default plant return pressure [Pa]

T_ABS = 1e-8        # temperatures [K]: see the module notes
PROP_RTOL = 1e-6    # density or cp through the solver's table (see the module notes)
DP_RTOL = 1e-5      # pressure drops: the viscosity through the solver's table (see the module notes)


def pipe(pid, frm, to, length_m=500.0, diameter_m=0.1, u_w_per_m_k=0.4, **more):
    """A dh_pipe row with its heat-loss coefficient given (the geometry-derived one has its own tests)."""
    return dict(id=pid, from_node=frm, to_node=to, length_m=length_m, diameter_m=diameter_m,
                u_w_per_m_k=u_w_per_m_k, **more)


def consumer(cid, supply, ret, demand_w, **more):
    """A fixed-demand dh_consumer row."""
    return dict(id=cid, supply_node=supply, return_node=ret, kind="fixed", demand_w=demand_w, **more)


def dh_case(pipes, consumers, **settings_):
    """A district-heating-only case: nodes are every node the pipes and consumers name, plus the plant's
    S (supply) and R (return)."""
    names = {"S", "R"}
    for p in pipes:
        names |= {p["from_node"], p["to_node"]}
    for c in consumers:
        names |= {c["supply_node"], c["return_node"]}
    tables = {"dh_node": [{"id": x} for x in sorted(names)], "dh_pipe": pipes, "dh_consumer": consumers}
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R", **settings_})


PLANT_P_PA = 2e5 + 101325.0
"""The network's pressure with the schema's defaults [Pa]: its lowest plant pressure, the return's 2 bar gauge,
plus 1 atm; the solver takes water's properties at it."""


def plant_p_pa(s):
    """The lowest pressure the plant holds [Pa, absolute] (return or supply, gauge, plus 1 atm)."""
    return min(p for p in (s["p_return_pa"], s["p_supply_pa"]) if p is not None) + 101325.0


def water(t_k, p_pa=PLANT_P_PA):
    """(density [kg/m^3], cp [J/(kg K)], viscosity [Pa s]) of water at ``t_k`` [K] and ``p_pa`` [Pa] from
    CoolProp's IAPWS-95 water, the fluid the solver tabulates."""
    return tuple(PropsSI(k, "T", t_k, "P", p_pa, "HEOS::Water") for k in ("D", "C", "V"))


def design_mean_t(t_supply_k, t_returns_k):
    """The temperature the solver takes the network's properties at (schema: 'fluid' row): the mean of the
    plant supply and the consumers' mean return temperature [K]."""
    return 0.5 * (t_supply_k + float(np.mean(t_returns_k)))


def exp_outlet(t_in_k, t_ground_k, u_w_per_m_k, length_m, m_cp_w_per_k):
    """Outlet temperature of a pipe losing heat to the ground, exact (Incropera eq. 8.46a) [K]."""
    return t_ground_k + (t_in_k - t_ground_k) * math.exp(-u_w_per_m_k * length_m / m_cp_w_per_k)


def darcy_weisbach_dp(m_kg_s, length_m, diameter_m, roughness_m, k_minor, rho, mu):
    """Pressure drop of a pipe [Pa] from ``fluids``: exact Colebrook (laminar 64/Re below Re 2040)."""
    # Python floats: fluids catches their OverflowError in its Lambert W branch (numpy floats only warn)
    m_kg_s, length_m, diameter_m, roughness_m, k_minor = map(float, (m_kg_s, length_m, diameter_m, roughness_m,
                                                                     k_minor))
    if m_kg_s == 0.0:
        return 0.0
    area = 0.25 * math.pi * diameter_m ** 2
    v = abs(m_kg_s) / (rho * area)
    re = rho * v * diameter_m / mu
    fd = friction_factor(Re=re, eD=roughness_m / diameter_m, Method="Colebrook")
    return math.copysign(dP_from_K(K_from_f(fd, length_m, diameter_m) + k_minor, rho, v), m_kg_s)


def by_id(ds, var, dim):
    return dict(zip(ds[dim].values, ds[var].values))


def fixed_point_flow(q_w, ul_w_per_k, cp, t_return_k=T_RETURN):
    """The substation flow [kg/s] of one consumer at the end of one supply pipe from the plant: the root of
    F(m) = m cp (T_A(m) - T_ret) - Q, T_A the exponential solution, by brentq. F < 0 at the no-loss flow
    Q / (cp (T_S - T_ret)) (T_A < T_S there) and > 0 a thousand times above it; F can only vanish where
    T_A > T_ret, and there it increases with m, so the root is unique."""
    def imbalance(m):
        return m * cp * (exp_outlet(T_SUPPLY, T_GROUND, ul_w_per_k, 1.0, m * cp) - t_return_k) - q_w

    m_lo = q_w / (cp * (T_SUPPLY - t_return_k))
    return brentq(imbalance, m_lo, 1e3 * m_lo, xtol=1e-14 * m_lo, rtol=1e-15)


# --- a single supply pipe and one consumer -------------------------------------------------------

SINGLE = dict(length_m=2000.0, diameter_m=0.1, u_supply=0.4, u_return=0.3, demand_w=5e5, roughness_m=1e-4,
              k_minor=2.5)


def single_pipe_case(**over):
    g = {**SINGLE, **over}
    pipes = [pipe("s1", "S", "A", g["length_m"], g["diameter_m"], g["u_supply"], roughness_m=g["roughness_m"],
                  k_minor=g["k_minor"]),
             pipe("r1", "Ar", "R", g["length_m"], g["diameter_m"], g["u_return"], roughness_m=g["roughness_m"])]
    return dh_case(pipes, [consumer("c", "A", "Ar", g["demand_w"])]), g


def test_single_pipe_temperatures_and_flow_against_the_exponential_solution():
    """Plant at 75 degC, 2 km DN100 with U' = 0.4 W/(m K) to a 500 kW substation returning at 40 degC, 2 km
    of return pipe with U' = 0.3. The substation draws m = Q / (cp (T_A - T_ret)) and T_A depends on m through
    the exponential loss; here the flow is the root of m cp (T_A(m) - T_ret) = Q found by brentq (to 1e-14
    relative, :func:`fixed_point_flow`) with cp from CoolProp, and everything else follows in closed form."""
    case, g = single_pipe_case()
    ds = gw.solve(case)
    rho, cp, mu = water(design_mean_t(T_SUPPLY, [T_RETURN]))
    ul_s, ul_r, q = g["u_supply"] * g["length_m"], g["u_return"] * g["length_m"], g["demand_w"]

    m = fixed_point_flow(q, ul_s, cp)
    t_a = T_GROUND + (T_SUPPLY - T_GROUND) * math.exp(-ul_s / (m * cp))
    t_r = T_GROUND + (T_RETURN - T_GROUND) * math.exp(-ul_r / (m * cp))
    assert t_a - T_SUPPLY < -3.0  # the loss is not negligible: the check has teeth

    t = by_id(ds, "dh_t_k", "dh_node")
    assert t["S"] == T_SUPPLY
    assert t["A"] == pytest.approx(t_a, abs=T_ABS)
    assert t["Ar"] == pytest.approx(T_RETURN, abs=T_ABS)
    assert t["R"] == pytest.approx(t_r, abs=T_ABS)
    t_out = by_id(ds, "dh_pipe_t_out_k", "dh_pipe")
    assert t_out["s1"] == pytest.approx(t_a, abs=T_ABS) and t_out["r1"] == pytest.approx(t_r, abs=T_ABS)
    # flows: m cp is fixed by the temperatures, m itself by cp (table vs CoolProp)
    np.testing.assert_allclose(ds.dh_pipe_flow_kg_s.values, [m, m], rtol=PROP_RTOL)
    assert float(ds.dh_consumer_flow_kg_s[0]) == pytest.approx(m, rel=PROP_RTOL)
    assert ds.attrs["dh_flow_kg_s"] == pytest.approx(m, rel=PROP_RTOL)
    # heat: each a (m cp) x (temperature difference of several K known to 1e-8 K)
    loss = by_id(ds, "dh_pipe_loss_w", "dh_pipe")
    assert loss["s1"] == pytest.approx(m * cp * (T_SUPPLY - t_a), rel=1e-7)
    assert loss["r1"] == pytest.approx(m * cp * (T_RETURN - t_r), rel=1e-7)
    assert float(ds.dh_consumer_q_w[0]) == pytest.approx(q, rel=1e-9)
    assert ds.attrs["dh_q_plant_w"] == pytest.approx(m * cp * (T_SUPPLY - t_r), rel=1e-7)
    assert ds.attrs["dh_t_return_k"] == pytest.approx(t_r, abs=T_ABS)
    assert not bool(ds.dh_consumer_undersupplied[0])
    # no campus: the boiler covers it all
    assert ds.attrs["boiler_heat_w"] == ds.attrs["dh_q_plant_w"]
    assert ds.attrs["boiler_fuel_w"] == pytest.approx(ds.attrs["dh_q_plant_w"] / 0.95, rel=1e-15)


def test_single_pipe_pressure_drop_and_pump_against_fluids():
    """The same network: each pipe's pressure drop is Darcy-Weisbach with the exact Colebrook friction
    factor and the supply pipe's minor losses (fluids.friction.friction_factor 'Colebrook', fluids.core
    K_from_f, dP_from_K) at the solved flow, with CoolProp density and viscosity at the design mean
    temperature. Tolerance 1e-5 relative: the viscosity through the solver's table (module notes; it enters
    f through Re, more weakly in turbulent flow); the hydraulic solve itself closes to 1e-8 Pa.
    The pump holds dp_min_pa across the (only) consumer and lifts the rest; its power is dp m / (rho eta)."""
    case, g = single_pipe_case()
    ds = gw.solve(case)
    rho, _, mu = water(design_mean_t(T_SUPPLY, [T_RETURN]))
    p = by_id(ds, "dh_p_pa", "dh_node")
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    re = 4 * m["s1"] / (math.pi * g["diameter_m"] * mu)
    assert re > 4000  # turbulent: Colebrook applies (not the solver's transition blend)
    dp_s1 = darcy_weisbach_dp(m["s1"], g["length_m"], g["diameter_m"], g["roughness_m"], g["k_minor"], rho, mu)
    dp_r1 = darcy_weisbach_dp(m["r1"], g["length_m"], g["diameter_m"], g["roughness_m"], 0.0, rho, mu)
    assert p["S"] - p["A"] == pytest.approx(dp_s1, rel=DP_RTOL)
    assert p["Ar"] - p["R"] == pytest.approx(dp_r1, rel=DP_RTOL)
    assert p["R"] == P_RETURN
    assert p["A"] - p["Ar"] == pytest.approx(DP_MIN, abs=1e-6)
    assert ds.attrs["dh_pump_dp_pa"] == pytest.approx(dp_s1 + DP_MIN + dp_r1, rel=DP_RTOL)
    v = by_id(ds, "dh_pipe_velocity_m_s", "dh_pipe")["s1"]
    assert v == pytest.approx(m["s1"] / (rho * 0.25 * math.pi * g["diameter_m"] ** 2), rel=PROP_RTOL)
    assert ds.attrs["dh_pump_w"] == pytest.approx(ds.attrs["dh_pump_dp_pa"] * m["s1"] / rho / 0.7, rel=PROP_RTOL)


def test_given_supply_pressure_is_held():
    """With p_supply_pa given there is no differential-pressure control: S and R hold their pressures and
    the consumer sees what is left, p_S - p_R - dp(s1) - dp(r1)."""
    case, g = single_pipe_case()
    free = gw.solve(case)
    held = gw.solve(dh_case(
        [pipe("s1", "S", "A", g["length_m"], g["diameter_m"], g["u_supply"], roughness_m=g["roughness_m"],
              k_minor=g["k_minor"]),
         pipe("r1", "Ar", "R", g["length_m"], g["diameter_m"], g["u_return"], roughness_m=g["roughness_m"])],
        [consumer("c", "A", "Ar", g["demand_w"])], p_supply_pa=6e5))
    p, pf = by_id(held, "dh_p_pa", "dh_node"), by_id(free, "dh_p_pa", "dh_node")
    assert p["S"] == 6e5 and p["R"] == P_RETURN
    # same flows, so the same pipe pressure drops (to the hydraulic solve's 1e-8 Pa)
    assert p["S"] - p["A"] == pytest.approx(pf["S"] - pf["A"], abs=1e-6)
    assert p["A"] - p["Ar"] == pytest.approx(6e5 - P_RETURN - (pf["S"] - pf["A"]) - (pf["Ar"] - pf["R"]), abs=1e-6)


# --- mixing at a tee ------------------------------------------------------------------------------

def test_mixing_at_a_tee_is_the_flow_weighted_mean():
    """Two supply branches from the plant meet at M: a short well-insulated one and a long poorly insulated
    one, so they arrive at different temperatures; M is their mixture, sum(m_i T_i) / sum(m_i) (energy
    balance with one constant cp), and each branch outlet is the exponential solution at its own flow."""
    pipes = [pipe("short", "S", "M", 300.0, 0.1, 0.2), pipe("long", "M", "S", 3000.0, 0.1, 1.5),
             pipe("m1", "M", "C", 100.0, 0.15, 0.3), pipe("r1", "Cr", "R", 400.0, 0.15, 0.3)]
    case = dh_case(pipes, [consumer("c", "C", "Cr", 1.5e6)])
    ds = gw.solve(case)
    cp = assert_ledgers(ds, case)  # the solver's cp, which is CoolProp's to 1e-6 (the branch flows are set
    # by the hydraulics, so cp enters U L / (m cp) directly: a 1e-7 difference would move T_out by ~1e-6 K)
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    t_out = by_id(ds, "dh_pipe_t_out_k", "dh_pipe")
    t = by_id(ds, "dh_t_k", "dh_node")
    assert m["short"] > 0 and m["long"] < 0  # 'long' is written M -> S, its flow runs S -> M
    for pid, length, u in (("short", 300.0, 0.2), ("long", 3000.0, 1.5)):
        assert t_out[pid] == pytest.approx(exp_outlet(T_SUPPLY, T_GROUND, u, length, abs(m[pid]) * cp), abs=T_ABS)
    assert t_out["short"] - t_out["long"] > 2.0  # two distinct temperatures meet
    mix = (m["short"] * t_out["short"] + abs(m["long"]) * t_out["long"]) / (m["short"] + abs(m["long"]))
    assert t["M"] == pytest.approx(mix, abs=1e-9)  # one rounding of a weighted mean of ~350 K values
    assert m["short"] + abs(m["long"]) == pytest.approx(m["m1"], rel=1e-12)  # solver's mass tolerance 1e-13


# --- loops with a known split ---------------------------------------------------------------------

def parallel_case(l1, l2, d, demand_w, roughness_m=1e-4):
    """Two parallel supply pipes S -> A (lengths l1, l2, diameter d) to one consumer; return by one pipe."""
    pipes = [pipe("p1", "S", "A", l1, d, 0.0, roughness_m=roughness_m),
             pipe("p2", "S", "A", l2, d, 0.0, roughness_m=roughness_m),
             pipe("r", "Ar", "R", 100.0, 0.3, 0.0)]
    return dh_case(pipes, [consumer("c", "A", "Ar", demand_w)])


def test_identical_parallel_pipes_split_evenly():
    """Two identical pipes in parallel carry half the flow each (to the hydraulic solver's mass tolerance,
    1e-13 of the largest flow)."""
    case = parallel_case(800.0, 800.0, 0.1, 8e5)
    ds = gw.solve(case)
    assert_ledgers(ds, case)
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    assert m["p1"] == pytest.approx(0.5 * m["r"], rel=1e-12) and m["p2"] == pytest.approx(0.5 * m["r"], rel=1e-12)


def test_laminar_parallel_pipes_split_inversely_to_length():
    """Laminar flow (Hagen-Poiseuille, dp = 128 mu L m / (pi rho D^4)): pipes of 300 m and 900 m between the
    same nodes carry m1/m2 = L2/L1 = 3, exactly, and the pressure drop is the closed form with CoolProp's
    viscosity and density (1e-5, the viscosity table). A 12 kW consumer and U' = 0 keep both pipes below Re 2040,
    where fluids and the solver both use 64/Re."""
    case = parallel_case(300.0, 900.0, 0.1, 1.2e4)
    ds = gw.solve(case)
    assert_ledgers(ds, case)
    rho, _, mu = water(design_mean_t(T_SUPPLY, [T_RETURN]))
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    assert 4 * m["p1"] / (math.pi * 0.1 * mu) < 2040  # the larger flow is laminar
    assert m["p1"] / m["p2"] == pytest.approx(3.0, rel=1e-10)  # both ends shared: only the solver's tolerance
    p = by_id(ds, "dh_p_pa", "dh_node")
    assert p["S"] - p["A"] == pytest.approx(128 * mu * 300.0 * m["p1"] / (math.pi * rho * 0.1 ** 4), rel=DP_RTOL)


def test_fully_rough_parallel_pipes_split_as_root_of_length_ratio():
    """Fully rough turbulent flow (f independent of Re): dp = f L m^2 / (2 rho A^2 D), so pipes of 400 m and
    1600 m in parallel split m1/m2 = sqrt(L2/L1) = 2. Colebrook is only asymptotically rough: the premise is
    checked with fluids (at both pipes' Re the friction factors differ by less than 2e-3 relative), and the
    split then lies within half that of 2 (m1/m2 = 2 sqrt(f2/f1), sqrt(1 + x) - 1 <= x/2), plus the table's
    1e-5. The exact split, with fluids' friction factors at the solved flows, holds to 1e-9 (the viscosity's
    table error moves both Re alike, so f2/f1 barely). A 5 MW consumer: about 3 m/s in the shorter pipe."""
    eps_d = 0.04  # 4 mm in DN100: a heavily corroded pipe (the solver accepts eps/D up to 0.05)
    case = parallel_case(400.0, 1600.0, 0.1, 5e6, roughness_m=eps_d * 0.1)
    ds = gw.solve(case)
    assert_ledgers(ds, case)
    rho, _, mu = water(design_mean_t(T_SUPPLY, [T_RETURN]))
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    # fluids' closed-form Colebrook (Lambert W) overflows at eps/D Re ~ 1e4 and falls back to its Newton
    # solution (tol 1e-12): it catches the OverflowError of Python floats (numpy floats only warn)
    f1, f2 = (friction_factor(Re=float(4 * m[k] / (math.pi * 0.1 * mu)), eD=eps_d, Method="Colebrook")
              for k in ("p1", "p2"))
    spread = abs(f2 / f1 - 1.0)
    assert spread < 2e-3  # the fully rough premise
    assert m["p1"] / m["p2"] == pytest.approx(2.0, rel=0.5 * spread + DP_RTOL)
    assert m["p1"] / m["p2"] == pytest.approx(2.0 * math.sqrt(f2 / f1), rel=1e-9)  # the exact split


# --- flow reversal and zero flow --------------------------------------------------------------------

def meshed_ring(load_a, load_b):
    """S feeds A and B through equal pipes; a link joins A and B, written B -> A. Mirror return."""
    pipes = [pipe("sa", "S", "A", 800.0, 0.1), pipe("sb", "S", "B", 800.0, 0.1),
             pipe("link", "B", "A", 300.0, 0.15), pipe("ra", "Ar", "R", 800.0, 0.1),
             pipe("rb", "Br", "R", 800.0, 0.1), pipe("rlink", "Ar", "Br", 300.0, 0.15)]
    return dh_case(pipes, [consumer("ca", "A", "Ar", load_a), consumer("cb", "B", "Br", load_b)])


def assert_ledgers(ds, case):
    """The invariants every solve must satisfy, recomputed from the results and the case's topology:

    - mass balance at every node: pipe flows, consumer draws at supply nodes and returns at return nodes,
      the plant's flow in at S and out at R (to 1e-12 of the largest flow: the hydraulic solver's 1e-13);
    - one cp everywhere: the plant's heat over m (T_S - T_R), each pipe's loss over |m| (T_in - T_out) and
      each consumer's heat over m (T_in - T_ret) are the same number (1e-9: heat over a temperature
      difference of at least 0.1 K, each formed once), and it is CoolProp's cp at the design mean
      temperature (1e-6, the table);
    - every pipe's outlet temperature is the exponential solution from its upstream node at its own flow;
    - mixing: every node but the plant's supply node is the flow-weighted mean of what flows into it (pipes'
      outlets, substations' returns), to 1e-9 K (rounding of a weighted mean of ~350 K values);
    - the heat ledger: plant heat = delivered + pipe losses to 1e-9 relative (the issue's target);
    - every pipe's pressure drop is Darcy-Weisbach with Colebrook (fluids) at its flow, CoolProp properties;
    - substations return their water at their t_return_k, or at its arrival temperature if that is colder;
      they never get more than their demand, and their demand unless flagged under-supplied (1e-9);
    - pump control: the worst consumer's differential pressure is dp_min_pa (lift mode);
    - supply-network temperatures between the ground and the plant's supply, falling along every pipe.
    """
    s = case.settings["district_heating"]
    nodes = list(ds.dh_node.values)
    idx = {n: i for i, n in enumerate(nodes)}
    pipes, cons = case.tables["dh_pipe"], case.tables["dh_consumer"]
    live = pipes["in_service"].to_numpy(bool)
    pf = np.array([idx[x] for x in pipes["from_node"]])[live]
    pt = np.array([idx[x] for x in pipes["to_node"]])[live]
    cs = np.array([idx[x] for x in cons["supply_node"]], dtype=int)
    cr = np.array([idx[x] for x in cons["return_node"]], dtype=int)
    sup, ret = idx[s["supply_node"]], idx[s["return_node"]]
    m = ds.dh_pipe_flow_kg_s.values[live]
    mc = ds.dh_consumer_flow_kg_s.values
    t = ds.dh_t_k.values
    t_out = ds.dh_pipe_t_out_k.values[live]
    loss = ds.dh_pipe_loss_w.values[live]
    q_c = ds.dh_consumer_q_w.values
    t_in_c, t_ret_c = ds.dh_consumer_t_supply_k.values, ds.dh_consumer_t_return_k.values
    m_plant, q_plant = ds.attrs["dh_flow_kg_s"], ds.attrs["dh_q_plant_w"]
    for name in ("dh_p_pa", "dh_t_k", "dh_consumer_q_w", "dh_consumer_flow_kg_s", "dh_consumer_t_supply_k"):
        assert np.isfinite(ds[name].values).all(), name
    assert np.isfinite(m).all() and np.isfinite(t_out).all() and np.isfinite(loss).all()

    # mass balance at every node
    net = np.zeros(len(nodes))
    np.add.at(net, pf, -m)
    np.add.at(net, pt, m)
    np.add.at(net, cs, -mc)
    np.add.at(net, cr, mc)
    net[sup] += m_plant
    net[ret] -= m_plant
    scale = max(np.abs(m).max(initial=0.0), m_plant, 1e-300)
    assert np.abs(net).max() <= 1e-12 * scale, f"node imbalance {np.abs(net).max():.3e} kg/s"

    # one cp, CoolProp's
    cp = q_plant / (m_plant * (t[sup] - t[ret])) if m_plant > 0 else math.nan
    t_up = np.where(m >= 0, t[pf], t[pt])
    if m_plant > 0:
        assert cp == pytest.approx(water(design_mean_t(s["t_supply_k"], cons["t_return_k"]), plant_p_pa(s))[1], rel=PROP_RTOL)
        dt = t_up - t_out
        use = (np.abs(m) > 1e-9 * scale) & (np.abs(dt) > 0.1)
        np.testing.assert_allclose(loss[use] / (np.abs(m[use]) * dt[use]), cp, rtol=1e-9)
        dt = t_in_c - t_ret_c
        use = (mc > 0) & (dt > 0.1)
        np.testing.assert_allclose(q_c[use] / (mc[use] * dt[use]), cp, rtol=1e-9)
        # pipe outlets: the exponential solution from the upstream node
        u = pipes["u_w_per_m_k"].to_numpy(float)[live]
        length = pipes["length_m"].to_numpy(float)[live]
        flowing = np.abs(m) > 1e-9 * scale
        expected = [exp_outlet(a, s["ground_t_k"], ui, li, abs(mi) * cp)
                    for a, ui, li, mi in zip(t_up[flowing], u[flowing], length[flowing], m[flowing])]
        np.testing.assert_allclose(t_out[flowing], expected, rtol=0, atol=1e-9)
        # mixing at every node the plant does not hold
        m_in = np.zeros(len(nodes))
        mt_in = np.zeros(len(nodes))
        into = np.where(m >= 0, pt, pf)
        np.add.at(m_in, into, np.abs(m))
        np.add.at(mt_in, into, np.abs(m) * t_out)
        np.add.at(m_in, cr, mc)
        np.add.at(mt_in, cr, mc * t_ret_c)
        fed = (m_in > 1e-9 * scale)
        fed[sup] = False
        np.testing.assert_allclose(t[fed], mt_in[fed] / m_in[fed], rtol=0, atol=1e-9)

    # the heat ledger
    delivered, lost = float(q_c.sum()), float(loss.sum())
    assert abs(q_plant - delivered - lost) <= 1e-9 * max(abs(q_plant), 1e-300)
    assert ds.attrs["dh_q_delivered_w"] == pytest.approx(delivered, rel=1e-12)
    assert ds.attrs["dh_q_loss_w"] == pytest.approx(lost, rel=1e-12, abs=1e-9)
    assert ds.attrs["dh_heat_balance_residual"] <= 1e-9

    # substations: cool the water to their return temperature, or pass through water that arrives colder
    # (mass_flow consumers exchange no heat); never more heat than the demand; the demand unless flagged
    flagged = ds.dh_consumer_undersupplied.values
    heat = cons["kind"].to_numpy() != "mass_flow"
    demand = ds.dh_consumer_demand_w.values
    np.testing.assert_allclose(t_ret_c, np.where(heat, np.minimum(cons["t_return_k"].to_numpy(float), t_in_c),
                                                 t_in_c), rtol=0, atol=1e-9)
    assert (q_c <= demand * (1 + 1e-9)).all() and (q_c[~heat] == 0).all()
    np.testing.assert_allclose(q_c[heat & ~flagged], demand[heat & ~flagged], rtol=1e-9)
    assert ds.attrs["dh_undersupplied"] == flagged.sum()

    # every pipe's pressure drop: Darcy-Weisbach from fluids at its flow (outside the transition band
    # 2040 < Re < 4000, where fluids and the solver use different blends), CoolProp properties (1e-5)
    p = ds.dh_p_pa.values
    rho, _, mu = water(design_mean_t(s["t_supply_k"], cons["t_return_k"]), plant_p_pa(s))
    d = pipes["diameter_m"].to_numpy(float)[live]
    re = 4 * np.abs(m) / (math.pi * d * mu)
    for i in np.flatnonzero((re < 2040) | (re > 4000)):
        expected = darcy_weisbach_dp(m[i], pipes["length_m"].to_numpy(float)[live][i], d[i],
                                     pipes["roughness_m"].to_numpy(float)[live][i],
                                     pipes["k_minor"].to_numpy(float)[live][i], rho, mu)
        assert p[pf[i]] - p[pt[i]] == pytest.approx(expected, rel=DP_RTOL, abs=1e-6)

    # pump control
    if s["p_supply_pa"] is None and len(cons):
        assert float(np.min(p[cs] - p[cr])) == pytest.approx(s["dp_min_pa"], abs=1e-6 * max(1.0, np.abs(p).max()))
    else:
        assert p[sup] == s["p_supply_pa"] or s["p_supply_pa"] is None
    assert p[ret] == s["p_return_pa"]

    # the supply network: temperatures between ground and supply, falling along the flow
    graph = sp.coo_matrix((np.ones(pf.size), (pf, pt)), shape=(len(nodes), len(nodes)))
    label = csgraph.connected_components(graph, directed=False)[1]
    on_supply = label[pf] == label[sup]
    flowing = np.abs(m) > 1e-9 * scale
    assert (t_out[on_supply & flowing] <= t_up[on_supply & flowing] + 1e-12).all()
    if s["ground_t_k"] <= s["t_supply_k"]:
        assert (t_out[on_supply & flowing] >= s["ground_t_k"] - 1e-12).all()
    return cp


def test_flow_reversal_in_a_meshed_network():
    """A big load at B draws water S -> A -> link -> B: the link, written B -> A, carries a negative flow
    (to -> from). Its outlet is then its from-node end, at the exponential solution from A's temperature;
    B mixes the link and the direct pipe. Moving the load to A reverses the link between two solves of the
    same topology; both solve, balance and keep the ledger."""
    case = meshed_ring(1e5, 2e6)
    ds = gw.solve(case)
    cp = assert_ledgers(ds, case)  # the solver's cp (CoolProp's to 1e-6), as in the tee test
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    t = by_id(ds, "dh_t_k", "dh_node")
    assert m["link"] < 0  # runs to -> from
    assert by_id(ds, "dh_pipe_t_out_k", "dh_pipe")["link"] == pytest.approx(
        exp_outlet(t["A"], T_GROUND, 0.4, 300.0, abs(m["link"]) * cp), abs=T_ABS)
    assert by_id(ds, "dh_p_pa", "dh_node")["A"] > by_id(ds, "dh_p_pa", "dh_node")["B"]  # flow runs downhill

    case_swapped = meshed_ring(2e6, 1e5)
    swapped = gw.solve(case_swapped)
    ms = by_id(swapped, "dh_pipe_flow_kg_s", "dh_pipe")
    assert ms["link"] > 0 and ms["rlink"] * m["rlink"] < 0  # both links reversed
    assert_ledgers(swapped, case_swapped)


def test_network_without_demand_solves():
    """Summer night, no demand at all: every flow is zero, the plant puts in no heat, the pump holds dp_min_pa
    across the consumer with no flow, and stagnant pipes sit at the ground temperature (the limit of the
    exponential solution as m -> 0); nothing is NaN."""
    case, _ = single_pipe_case(demand_w=0.0)
    ds = gw.solve(case)
    for name in ("dh_pipe_flow_kg_s", "dh_pipe_loss_w", "dh_consumer_flow_kg_s", "dh_consumer_q_w"):
        np.testing.assert_array_equal(ds[name].values, 0.0, err_msg=name)
    t = by_id(ds, "dh_t_k", "dh_node")
    assert t["S"] == T_SUPPLY and t["A"] == T_GROUND and t["R"] == T_GROUND
    assert ds.attrs["dh_q_plant_w"] == 0.0 and ds.attrs["dh_pump_w"] == 0.0
    p = by_id(ds, "dh_p_pa", "dh_node")
    assert p["A"] - p["Ar"] == pytest.approx(DP_MIN, abs=1e-6)
    # Every element variable is finite; of the plant's 0-d figures, the COP and the pump speed of a plant that
    # moves no heat and no water have no value (NaN, as their attributes always had).
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars if ds[v].dtype.kind in "fc" and ds[v].ndim)
    assert {v for v in ds.data_vars if ds[v].dtype.kind in "fc" and not np.isfinite(ds[v].values).all()} \
        <= {"hp_cop", "dh_pump_speed"}


def test_pipe_without_flow_in_a_mesh_solves():
    """Two identical branches to two identical consumers, bridged by a pipe between their ends: by symmetry
    the bridge carries no flow, up to the difference of the two substations' flows, which the flow fixed
    point settles to its heat tolerance (1e-10 of each demand; its accelerated steps mix the substations, so
    the two need not come out bit-identical): 1e-9 of the flows, ten times that. The solve goes through and
    the balances hold."""
    pipes = [pipe("sa", "S", "A", 600.0, 0.1), pipe("sb", "S", "B", 600.0, 0.1), pipe("bridge", "A", "B", 200.0, 0.1),
             pipe("ra", "Ar", "R", 600.0, 0.1), pipe("rb", "Br", "R", 600.0, 0.1)]
    case = dh_case(pipes, [consumer("ca", "A", "Ar", 4e5), consumer("cb", "B", "Br", 4e5)])
    ds = gw.solve(case)
    m = by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")
    assert abs(m["bridge"]) <= 1e-9 * m["sa"]
    assert m["sa"] == pytest.approx(m["sb"], rel=1e-9)
    assert_ledgers(ds, case)


@pytest.mark.parametrize("dead", [
    pytest.param([pipe("spur", "A", "D", 300.0, 0.1)], id="spur"),
    pytest.param([pipe("x", "A", "D", 500.0, 0.1), pipe("y", "D", "A", 300.0, 0.1)], id="loop"),
])
def test_part_of_the_network_without_flow_solves(dead):
    """A dead-end spur (a planned extension) or a loop hanging off one node, with no consumer behind it,
    carries no flow; the hydraulic solve leaves rounding flows (~1e-15 kg/s) there, which once made the
    thermal sweep refuse the dead node ("mass flows in and out of this node do not balance", node by
    index; or "circulate around a loop with no inflow"). Now the flows are zero and the stagnant water sits
    at the ground temperature (the m -> 0 limit of the exponential solution)."""
    g = SINGLE
    pipes = [pipe("s1", "S", "A", g["length_m"], g["diameter_m"], g["u_supply"]), *dead,
             pipe("r1", "Ar", "R", g["length_m"], g["diameter_m"], g["u_return"])]
    case = dh_case(pipes, [consumer("c", "A", "Ar", g["demand_w"])])
    ds = gw.solve(case)
    for p in dead:
        assert by_id(ds, "dh_pipe_flow_kg_s", "dh_pipe")[p["id"]] == pytest.approx(0.0, abs=1e-12)
    assert by_id(ds, "dh_t_k", "dh_node")["D"] == pytest.approx(T_GROUND)  # stagnant, steady state
    assert_ledgers(ds, case)


@pytest.mark.parametrize("supply", ["A", "S"])
def test_consumer_returning_straight_to_the_plant_solves(supply):
    case = dh_case([pipe("s1", "S", "A"), pipe("r1", "Ar", "R")],
                   [consumer("c", supply, "R", 3e5), consumer("d", "A", "Ar", 2e5)])
    ds = gw.solve(case)
    assert_ledgers(ds, case)
    assert ds.attrs["dh_t_return_k"] < T_RETURN  # r1 brings d's water back cooled by the ground; c's is at 40 degC


# --- the flow-temperature fixed point --------------------------------------------------------------

@pytest.mark.parametrize("u_w_per_m_k, demand_w, flagged", [
    pytest.param(0.3, 1e4, True, id="oscillates"), pytest.param(0.5, 3e4, True, id="slow")])
def test_small_load_at_the_end_of_a_lossy_pipe_reaches_its_steady_state(u_w_per_m_k, demand_w, flagged):
    """Where the pipe loses much heat against the flow, the substation's flow and its supply temperature
    depend strongly on each other. 1 km DN100 with U' = 0.3 W/(m K) to a 10 kW consumer made the plain
    iteration m <- Q / (cp (T_A(m) - T_ret)) swing between the 1 K flow cap and a small flow for ever
    ('oscillates'; ConvergenceError at 60 and at 1000 iterations), and U' = 0.5 with 30 kW contract so
    slowly that it needed 110 iterations ('slow'); a sweep of L in {1, 3, 10} km, U' in {0.2, 0.3, 0.5},
    Q in {1, 3, 10, 30} kW failed in 27 of 36 cases. The steady state exists and is unique
    (:func:`fixed_point_flow`, brentq): 0.178 kg/s arriving at 53.4 degC, and 0.398 kg/s at 58.1 degC; both
    get their heat below their 60 degC, so both are flagged and named."""
    case, g = single_pipe_case(length_m=1000.0, u_supply=u_w_per_m_k, u_return=u_w_per_m_k, demand_w=demand_w,
                               k_minor=0.0)
    _, cp, _ = water(design_mean_t(T_SUPPLY, [T_RETURN]))
    m = fixed_point_flow(g["demand_w"], g["u_supply"] * g["length_m"], cp)
    ds = gw.solve(case)
    assert float(ds.dh_consumer_flow_kg_s[0]) == pytest.approx(m, rel=PROP_RTOL)
    assert float(ds.dh_consumer_q_w[0]) == pytest.approx(g["demand_w"], rel=1e-9)
    assert bool(ds.dh_consumer_undersupplied[0]) == flagged  # it gets its heat, but below its 60 degC
    assert ("consumer 'c'" in ds.attrs["warnings"]) == flagged
    assert_ledgers(ds, case)


@pytest.mark.parametrize("length_m, u_w_per_m_k", [(3000.0, 0.3), (10000.0, 0.5)])
def test_water_colder_than_the_return_even_at_the_flow_cap_is_flagged(length_m, u_w_per_m_k):
    """A 1 kW consumer (a summer load) at the end of 3 km with U' = 0.3 W/(m K) (or 10 km, 0.5): even at its
    flow cap, the flow that delivers the demand with a 1 K difference (Q / (cp 1 K) = 0.24 kg/s), the water
    arrives below its 40 degC return temperature (exponential solution: 36.4 degC, 10.4 degC). No flow warms
    it, so it does not open to that cap: it passes the water through at the flow of its demand at the design
    difference, Q / (cp (T_supply - T_return)) (gigawatt.models.substations.cold_bypass_flow), where it
    arrives colder still, gets nothing, and is flagged, named and counted as bypassed."""
    case, g = single_pipe_case(length_m=length_m, u_supply=u_w_per_m_k, u_return=u_w_per_m_k, demand_w=1e3,
                               k_minor=0.0)
    ds = gw.solve(case)
    cp = assert_ledgers(ds, case)
    m_cap = g["demand_w"] / (cp * 1.0)
    assert exp_outlet(T_SUPPLY, T_GROUND, u_w_per_m_k, length_m, m_cap * cp) < T_RETURN  # the premise
    m_pass = g["demand_w"] / (cp * (T_SUPPLY - T_RETURN))
    t_a = exp_outlet(T_SUPPLY, T_GROUND, u_w_per_m_k, length_m, m_pass * cp)
    assert float(ds.dh_consumer_flow_kg_s[0]) == pytest.approx(m_pass, rel=1e-9)
    assert float(ds.dh_consumer_t_supply_k[0]) == pytest.approx(t_a, abs=T_ABS)
    assert float(ds.dh_consumer_q_w[0]) == 0.0
    assert bool(ds.dh_consumer_undersupplied[0]) and "consumer 'c'" in ds.attrs["warnings"]
    assert ds.attrs["dh_bypassed"] == 1


def test_consumer_short_of_its_demand_is_flagged():
    """A consumer returning at 80 degC behind a 75 degC plant cannot use the water at all: it was given 0 W
    with a warning that it got water 'below' a temperature the water was above. Such a consumer is now
    refused as input (tests/test_tracebacks.py). One returning at 347.5 K from 348.15 K supplied through 5 km
    of pipe can use the water, but its flow reaches the cap of a 1 K difference: it is short of its demand,
    flagged, and the warning gives that reason, not a temperature it is above."""
    with pytest.raises(gw.CaseError, match="must return its water colder than the plant supplies it"):
        dh_case([pipe("s1", "S", "A", 500.0, 0.1), pipe("r1", "Ar", "R", 500.0, 0.1)],
                [consumer("hot", "A", "Ar", 3e5, t_return_k=353.15, t_supply_min_k=333.15)])
    # DN300: the capped flow (a 1 K difference, about 120 kg/s) runs at 1.7 m/s, not the 15.6 m/s a DN100
    # would need, which the plausibility checks refuse (gigawatt.solver.plausibility).
    pipes = [pipe("s1", "S", "A", 5000.0, 0.3), pipe("r1", "Ar", "R", 5000.0, 0.3)]
    ds = gw.solve(dh_case(pipes, [consumer("c", "A", "Ar", 5e5, t_return_k=347.5, t_supply_min_k=300.0)]))
    t_in, q = float(ds.dh_consumer_t_supply_k[0]), float(ds.dh_consumer_q_w[0])
    assert bool(ds.dh_consumer_undersupplied[0]) and 300.0 < t_in < T_SUPPLY and q < 5e5
    assert ds.attrs["warnings"] == (f"consumer 'c' gets {q / 1e3:.1f} kW of the 500.0 kW it demands (water at "
                                    f"{t_in - 273.15:.1f} °C; its flow is at its cap)")


# --- invariants on random meshed networks (hypothesis) ---------------------------------------------

# 60 random networks, the same on every run; no shrinking (a falsifying example is printed as drawn).
DH_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                       phases=[Phase.explicit, Phase.reuse, Phase.generate],
                       suppress_health_check=[HealthCheck.too_slow])


@st.composite
def meshed_networks(draw):
    """A random meshed network as ``dh_case`` arguments: a random spanning tree of 3-11 supply nodes rooted
    at the plant plus up to three extra pipes (loops), each pipe written in a random direction; the return
    network is its mirror (own directions and insulation); consumers of every kind at random nodes, with
    their return temperature 30-50 degC and their minimum supply temperature between that + 5 K and the
    plant's. Loads from 10 kW (one home) to 2 MW on pipes of 50-1500 m with U' of 0.1-0.5 W/(m K): small
    loads far out lose much of their heat on the way, the regime where the substation flows and their
    supply temperatures depend strongly on each other. A pipe closing a loop may be out of service (the
    tree's pipes stay, so every consumer stays reachable)."""
    k = draw(st.integers(2, 10))
    names = ["S"] + [f"N{i}" for i in range(1, k + 1)]
    edges = [(draw(st.integers(0, i - 1)), i) for i in range(1, k + 1)]
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.integers(0, k)), draw(st.integers(0, k))
        if a != b:
            edges.append((a, b))
    ret = {"S": "R", **{n: n + "r" for n in names[1:]}}
    pipes = []
    for j, (a, b) in enumerate(edges):
        length, d = draw(st.floats(50.0, 1500.0)), draw(st.floats(0.08, 0.3))
        for net, name in (("s", lambda x: names[x]), ("r", lambda x: ret[names[x]])):
            ends = (name(a), name(b)) if draw(st.booleans()) else (name(b), name(a))
            pipes.append(pipe(f"{net}{j}", *ends, length, d, draw(st.floats(0.1, 0.5)),
                              roughness_m=draw(st.sampled_from([1e-5, 1e-4, 1e-3])),
                              k_minor=draw(st.sampled_from([0.0, 1.0, 5.0])),
                              in_service=not (j >= k and draw(st.integers(0, 4)) == 0)))
    t_supply = draw(st.floats(338.15, 363.15))
    consumers = []
    tree_degree = np.bincount(np.ravel(edges[:k]), minlength=k + 1)
    for i, n in enumerate(names[1:], start=1):
        if tree_degree[i] > 1 and draw(st.integers(0, 3)) == 0:
            # a junction without a consumer; every leaf of the tree has one, so every node lies on a path that
            # carries flow (parts of the network without flow have their own test above)
            continue
        t_ret = draw(st.floats(303.15, 323.15))
        row = dict(id=f"c{n}", supply_node=n, return_node=ret[n], t_return_k=t_ret,
                   t_supply_min_k=draw(st.floats(t_ret + 5.0, t_supply)))
        kind = draw(st.sampled_from(["fixed", "process", "homes_degree_days", "vertical_farm", "mass_flow"]))
        row["kind"] = kind
        if kind in ("fixed", "process"):
            row["demand_w"] = draw(st.floats(1e4, 2e6))
        elif kind == "homes_degree_days":
            row["n_homes"] = float(draw(st.integers(1, 200)))
        elif kind == "vertical_farm":
            row["floor_area_m2"] = draw(st.floats(1e3, 5e4))
        else:
            row["mass_flow_kg_s"] = draw(st.floats(0.5, 3.0))
        consumers.append(row)
    dh = {"t_supply_k": t_supply, "ground_t_k": draw(st.floats(278.15, 288.15)),
          "outdoor_t_k": draw(st.floats(258.15, 283.15)), "dp_min_pa": draw(st.floats(3e4, 1e5))}
    if draw(st.integers(0, 4)) == 0:
        dh["p_supply_pa"] = 1e6
    return pipes, consumers, dh


@DH_SETTINGS
@given(meshed_networks())
def test_invariants_on_random_meshed_networks(network):
    pipes, consumers, dh = network
    case = dh_case(pipes, consumers, **dh)
    assert_ledgers(gw.solve(case), case)


@DH_SETTINGS
@given(meshed_networks())
def test_supply_side_sweeps_give_the_whole_network_sweeps_answer(network):
    # The flow fixed point's iterates sweep the supply network alone (stage.SupplySide: nothing couples it to the
    # return network here) and the whole network once at the answer: the supply side's node equations are
    # taken in the same order as in the whole network's sweep, so the answer is the one of sweeping the whole
    # network every iterate, to the bit, from a cold start and from a warm one.
    from gigawatt.solver.district_heating.stage import prepare_district_heating

    pipes, consumers, dh = network
    case = dh_case(pipes, consumers, **dh)
    fast, whole = prepare_district_heating(case), prepare_district_heating(case)
    assert fast.supply_side is not None
    whole.supply_side = None
    for outdoor_t_k in (None, dh["outdoor_t_k"] + 2.0):
        a, b = fast.solve(None, outdoor_t_k=outdoor_t_k), whole.solve(None, outdoor_t_k=outdoor_t_k)
        for name in ("node_p_pa", "node_t_k", "pipe_flow_kg_s", "pipe_t_out_k", "pipe_loss_w", "consumer_flow_kg_s",
                     "consumer_q_w", "consumer_t_return_k", "consumer_undersupplied"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert a.figures == b.figures


@DH_SETTINGS
@given(meshed_networks())
def test_a_cold_solve_and_a_warm_one_find_the_same_answer(network):
    # Two paths to one fixed point: from no warm start (the first iterate settles the hydraulics, the next ones
    # take one Newton step of them each) and warm-started from the answer at another outdoor temperature (one
    # step each from the first iterate). Both stop at a heat residual within HEAT_RTOL of each demand, so
    # they agree to a few times that in heat; flows and temperatures to 1e-8 (a substation whose inlet
    # temperature moves strongly with its own flow turns a heat residual into a larger flow difference).
    from gigawatt.solver.district_heating.stage import HEAT_RTOL, prepare_district_heating

    pipes, consumers, dh = network
    case = dh_case(pipes, consumers, **dh)
    cold = prepare_district_heating(case).solve(None)
    warm = prepare_district_heating(case)
    warm.solve(None, outdoor_t_k=dh["outdoor_t_k"] + 3.0)
    again = warm.solve(None, outdoor_t_k=dh["outdoor_t_k"])
    scale = np.maximum(cold.consumer_demand_w, 1.0)
    assert np.all(np.abs(again.consumer_q_w - cold.consumer_q_w) <= 4 * HEAT_RTOL * scale)
    np.testing.assert_allclose(again.consumer_flow_kg_s, cold.consumer_flow_kg_s, rtol=1e-8)
    np.testing.assert_allclose(again.node_t_k, cold.node_t_k, rtol=1e-8)
    np.testing.assert_array_equal(again.consumer_undersupplied, cold.consumer_undersupplied)


# --- the coupled chain: campus -> heat pumps -> network ---------------------------------------------

def campus_with_network(demand_w, *, district_heating=True, **dh):
    """The campus of /tmp-style examples: 1 hall, 2 rows of 4 racks of 130 kW with default [cooling] (W32:
    facility water 32 degC), and a small network by hand: plant S/R, a fixed consumer A and a 2,000 m2
    vertical farm B (at 45 degC) on a line."""
    pipes = [pipe("s1", "S", "A", 500.0, 0.1, 0.5), pipe("s2", "A", "B", 300.0, 0.08, 0.5),
             pipe("r1", "Ar", "R", 500.0, 0.1, 0.5), pipe("r2", "Br", "Ar", 300.0, 0.08, 0.5)]
    consumers = [consumer("cA", "A", "Ar", demand_w),
                 dict(id="cB", supply_node="B", return_node="Br", kind="vertical_farm", floor_area_m2=2000.0,
                      t_supply_min_k=318.15)]
    built = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130.0, cooling={})
    tables = dict(built.tables)
    settings_ = {}
    if district_heating:
        tables.update(dh_node=[{"id": x} for x in ["S", "A", "B", "R", "Ar", "Br"]], dh_pipe=pipes,
                      dh_consumer=consumers)
        settings_["district_heating"] = {"supply_node": "S", "return_node": "R", **dh}
    case = gw.make_case(tables, loss_models=dict(built.loss_model_params), cooling={}, **settings_)
    alone = dh_case(pipes, consumers, **dh) if district_heating else None
    return case, alone


def assert_cooling_ledgers(ds, case):
    """The cooling stage's heat and facility energy ledgers recomputed from the results (as in
    tests/test_cooling_invariants.py): heat into the coolants (racks' liquid heat, loop pump shaft heat,
    air-coil heat with the air handlers' fans, facility pump shaft heat) = rejected + recovered + loop pipe
    losses; grid + pumps + fans = that heat out + motor losses + dry-cooler fans. 1e-9: the issue's target
    for sums of a few dozen one-signed terms."""
    s, a = case.settings["cooling"], ds.attrs
    eta_m = s["motor_efficiency"]
    p_loop_pumps = float(ds.pump_power_w.sum())
    fac_pump_shaft = (a["p_pumps_w"] - p_loop_pumps) * eta_m
    q_coil = a["q_air_w"] * (1 + s["air_fan_w_per_w"])
    q_in = float(ds.rack_q_liquid_w.sum()) + p_loop_pumps * eta_m + q_coil + fac_pump_shaft
    q_out = a["q_rejected_w"] + a["q_recovered_w"] + float(ds.loop_pipe_loss_w.sum())
    assert abs(q_in - q_out) <= 1e-9 * q_in and a["heat_balance_residual"] <= 1e-9
    dry_fan = a["dry_cooler_fan_w"]  # fan laws: the design fan power times the speed cubed
    assert dry_fan == pytest.approx(a["dry_cooler_design_fan_w"] * a["dry_cooler_speed"] ** 3, rel=1e-14, abs=1e-9)
    assert a["p_fans_w"] == pytest.approx(s["air_fan_w_per_w"] * a["q_air_w"] + dry_fan, rel=1e-13)
    p_facility = a["p_grid_w"] + a["p_pumps_w"] + a["p_fans_w"]
    assert a["p_facility_w"] == pytest.approx(p_facility, rel=1e-15)
    assert abs(p_facility - (q_out + a["p_pumps_w"] * (1 - eta_m) + dry_fan)) <= 1e-9 * p_facility
    assert a["facility_energy_residual"] <= 1e-9


@pytest.mark.parametrize("demand_w, dh, regime", [
    pytest.param(3e5, {}, "heat_pumps", id="heat-pumps-cover-the-network"),
    pytest.param(3e6, {}, "campus", id="campus-heat-limits"),
    pytest.param(3e5, {"hp_capacity_w": 1e5}, "capacity", id="heat-pump-capacity-limits"),
])
def test_coupled_chain_campus_heat_pumps_network(demand_w, dh, regime):
    """The campus's reusable heat feeds heat pumps lifting it from the facility supply temperature (their
    evaporator outlet, 32 degC) to the network's 75 degC:

    - COP by hand from Carnot with 3 K approaches: 0.5 (T_S + 3) / ((T_S + 3) - (T_fac - 3)) = 3.583;
    - first law of the heat pumps: heat to the network = source heat + electricity, electricity = heat / COP;
    - the heat recovered from the campus is the heat pumps' source heat, and the cooling stage's
      q_recovered_w is that same number; rejected = available - recovered; ERF = recovered / facility power
      (ISO/IEC 30134-6), reuse share = recovered / available;
    - the split: the heat pumps take the whole network (boiler 0), or all the campus can give
      (recovered = available, hp heat = available COP / (COP - 1), nothing rejected), or their capacity;
      the boiler the rest;
    - the cooling ledgers still close, and the network is the network solved alone (the campus only
      changes where its heat comes from);
    - against the campus without a network: the same heat available, and facility power lower by exactly
      what the dry-cooler fans save (only the rejected heat passes the dry coolers, which slow down).
    """
    case, alone_case = campus_with_network(demand_w, **dh)
    ds = gw.solve(case)
    a = ds.attrs
    s = case.settings["district_heating"]
    t_cond = s["t_supply_k"] + s["hp_approach_k"]
    t_evap = a["t_facility_supply_k"] - s["hp_approach_k"]
    assert a["t_facility_supply_k"] == 305.15  # W32
    cop = s["hp_eta"] * t_cond / (t_cond - t_evap)
    assert a["hp_cop"] == pytest.approx(cop, rel=1e-14)
    assert a["hp_electric_w"] == pytest.approx(a["hp_heat_w"] / cop, rel=1e-14)
    assert a["hp_heat_w"] == pytest.approx(a["q_from_campus_w"] + a["hp_electric_w"], rel=1e-14)
    assert a["q_recovered_w"] == pytest.approx(a["q_from_campus_w"], rel=1e-14)
    assert a["q_rejected_w"] == pytest.approx(a["q_available_w"] - a["q_recovered_w"], rel=1e-12, abs=1e-6)
    assert a["erf"] == pytest.approx(a["q_recovered_w"] / a["p_facility_w"], rel=1e-14)
    assert a["reuse_share"] == pytest.approx(a["q_recovered_w"] / a["q_available_w"], rel=1e-14)
    q_plant = a["dh_q_plant_w"]
    expected_hp = {"heat_pumps": q_plant, "campus": a["q_available_w"] * cop / (cop - 1),
                   "capacity": dh.get("hp_capacity_w")}[regime]
    assert a["hp_heat_w"] == pytest.approx(expected_hp, rel=1e-12)
    assert a["boiler_heat_w"] == pytest.approx(q_plant - expected_hp, rel=1e-12, abs=1e-6)
    assert a["boiler_fuel_w"] == pytest.approx(a["boiler_heat_w"] / s["boiler_efficiency"], rel=1e-14)
    if regime == "campus":
        assert a["q_recovered_w"] == pytest.approx(a["q_available_w"], rel=1e-12) and a["q_rejected_w"] < 1e-6
    else:
        assert a["q_recovered_w"] < a["q_available_w"]
    assert_cooling_ledgers(ds, case)

    alone = gw.solve(alone_case)
    for name in ("dh_p_pa", "dh_t_k", "dh_pipe_flow_kg_s", "dh_pipe_loss_w", "dh_consumer_q_w"):
        dim = ds[name].dims[0]
        np.testing.assert_array_equal(ds[name].values, alone[name].sel({dim: ds[dim].values}).values, err_msg=name)
    assert_ledgers(ds, case)

    plain_case, _ = campus_with_network(demand_w, district_heating=False)
    plain = gw.solve(plain_case)
    assert plain.attrs["q_recovered_w"] == 0.0
    assert a["q_available_w"] == pytest.approx(plain.attrs["q_available_w"], rel=1e-14)
    assert a["dry_cooler_design_q_w"] == plain.attrs["dry_cooler_design_q_w"]  # sized on the same heat
    assert a["dry_cooler_speed"] <= plain.attrs["dry_cooler_speed"]
    assert a["p_facility_w"] == pytest.approx(plain.attrs["p_facility_w"] - plain.attrs["dry_cooler_fan_w"]
                                              + a["dry_cooler_fan_w"], rel=1e-12)
