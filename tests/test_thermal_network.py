"""The steady thermal-network kernel (solver/numerics/thermal_kernel.py) against closed forms, mixing, the heat
ledger on random networks, and the OpenModelica heat-transfer cases shipped with pandapipes.

Every test runs twice: jitted here, and as plain Python (``NUMBA_DISABLE_JIT=1``) in a subprocess running
this same file (``test_same_tests_pass_without_jit``), as STYLE.md asks.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import given, seed, settings, strategies as st

from gigawatt.errors import CaseError
from gigawatt.solver.numerics import thermal_kernel as tk
from gigawatt.solver.numerics.thermal_kernel import solve_thermal_network

JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"
CP = 4184.777801948556  # the OpenModelica-case fluid's cp in pandapipes [J/(kg K)]
# Temperatures of a few hundred K computed by one exp and a few sums: a few ulp of 350 K.
T_RTOL = 1e-13


def exact(t_in, t_amb, m, cp, u, length):
    """Closed form (Incropera et al., Fundamentals of Heat and Mass Transfer, 7th ed., eq. 8.46a):
    T_out = T_amb + (T_in - T_amb) exp(-U'L / (|m| cp)), numpy."""
    return t_amb + (t_in - t_amb) * np.exp(-u * length / (abs(m) * cp))


# --- the JIT switch --------------------------------------------------------------------------------

def test_kernel_is_compiled_or_plain_python_as_the_environment_says():
    assert hasattr(tk.thermal_sweep, "py_func") is (not JIT_OFF)


# --- analytic cases ----------------------------------------------------------------------------------

@pytest.mark.parametrize("m", [3.0, -3.0])
def test_one_pipe_closed_form(m):
    # pandapipes' OpenModelica case one_pipe (Lohmeier et al., Sustainability 12(23), 9899, 2020,
    # doi:10.3390/su12239899): 100 m, D 75 mm, alpha 100 W/(m2 K) -> U' = alpha pi D; 90 degC in, 20 degC
    # ambient, 3 kg/s: 351.17 K from the exponential solution. Reversed flow (m < 0) with the supply at
    # the 'to' end must give the same outlet at the 'from' end.
    u = 100.0 * math.pi * 0.075
    kinds = ["supply", "junction"] if m > 0 else ["junction", "supply"]
    vals = [363.15, 0.0] if m > 0 else [0.0, 363.15]
    sink = [0.0, -3.0] if m > 0 else [-3.0, 0.0]
    r = solve_thermal_network(kinds, vals, [0], [1], [m], u, 100.0, 293.15, CP, sink)
    t_exp = exact(363.15, 293.15, 3.0, CP, u, 100.0)
    assert round(t_exp, 2) == 351.17
    out_node = 1 if m > 0 else 0
    assert r.t_branch_out_k[0] == pytest.approx(t_exp, rel=T_RTOL)
    assert r.t_node_k[out_node] == pytest.approx(t_exp, rel=T_RTOL)
    # Loss = m cp (T_in - T_out), the pipe's first law; rel 1e-12: expm1 vs exp differ by rounding of a
    # 12 K difference taken from ~350 K numbers.
    assert r.q_loss_w[0] == pytest.approx(3.0 * CP * (363.15 - t_exp), rel=1e-12)
    assert abs(r.ledger.residual) <= 1e-12


def test_mixing_at_a_tee_is_the_mass_weighted_mean():
    # Two supplies (80 and 40 degC) feed a tee through adiabatic branches (U' = 0): the tee holds the
    # mass-weighted mean, (2*353.15 + 1*313.15)/3 with one cp.
    r = solve_thermal_network(["supply", "supply", "junction"], [353.15, 313.15, 0.0], [0, 1], [2, 2],
                              [2.0, 1.0], 0.0, 10.0, 283.15, CP, [0.0, 0.0, -3.0])
    assert r.t_node_k[2] == pytest.approx((2 * 353.15 + 313.15) / 3, rel=T_RTOL)
    # With cp per branch, the capacity-weighted mean (energy balance of the mixing).
    cps = np.array([4200.0, 3600.0])
    r = solve_thermal_network(["supply", "supply", "junction"], [353.15, 313.15, 0.0], [0, 1], [2, 2],
                              [2.0, 1.0], 0.0, 10.0, 283.15, cps, [0.0, 0.0, -3.0], cp_node_j_per_kg_k=4000.0)
    c = np.array([2.0, 1.0]) * cps
    assert r.t_node_k[2] == pytest.approx((c @ [353.15, 313.15]) / c.sum(), rel=T_RTOL)
    assert abs(r.ledger.residual) <= 1e-12


def test_chain_and_split_merge_and_reversed_branch():
    # Supply 0 -> 1 -> 2 (chain), 2 splits to 3 by two parallel branches (one declared 3->2 with negative
    # flow), 3 withdraws all. Expected by hand from the closed form, node by node.
    u, L, ta, ts = 0.3, np.array([200.0, 150.0, 80.0, 120.0]), 278.15, 358.15
    frm, to = [0, 1, 2, 3], [1, 2, 3, 2]
    m = [4.0, 4.0, 1.5, -2.5]
    r = solve_thermal_network(["supply", "junction", "junction", "junction"], [ts, 0, 0, 0], frm, to, m,
                              u, L, ta, CP, [0.0, 0.0, 0.0, -4.0])
    t1 = exact(ts, ta, 4.0, CP, u, L[0])
    t2 = exact(t1, ta, 4.0, CP, u, L[1])
    ta_ = exact(t2, ta, 1.5, CP, u, L[2])
    tb_ = exact(t2, ta, 2.5, CP, u, L[3])
    np.testing.assert_allclose(r.t_node_k, [ts, t1, t2, (1.5 * ta_ + 2.5 * tb_) / 4.0], rtol=T_RTOL)
    np.testing.assert_allclose(r.t_branch_out_k, [t1, t2, ta_, tb_], rtol=T_RTOL)
    assert abs(r.ledger.residual) <= 1e-12


def test_zero_flow_dead_end_takes_the_ambient_temperature():
    # Branch 1 (to the dead end 2) carries no flow: its outlet and node 2 are reported at its ambient
    # temperature (documented choice), its loss is 0, and the rest is unaffected.
    r = solve_thermal_network(["supply", "junction", "junction"], [350.0, 0, 0], [0, 1], [1, 2], [1.0, 0.0],
                              0.5, 100.0, [280.0, 285.0], CP, [0.0, -1.0, 0.0])
    assert r.t_node_k[1] == pytest.approx(exact(350.0, 280.0, 1.0, CP, 0.5, 100.0), rel=T_RTOL)
    assert r.t_node_k[2] == 285.0 and r.t_branch_out_k[1] == 285.0 and r.q_loss_w[1] == 0.0
    assert abs(r.ledger.residual) <= 1e-12


def test_consumer_heat_and_outlet_temperature_nodes():
    # Node 1 takes 50 kW out of 2 kg/s: drop Q/(m cp). Node 2 is brought to 313.15 K: heat m cp ΔT out.
    r = solve_thermal_network(["supply", "heat", "outlet_t"], [353.15, 5e4, 313.15], [0, 1], [1, 2],
                              [2.0, 2.0], 0.0, 1.0, 280.0, CP, [0.0, 0.0, -2.0])
    t1 = 353.15 - 5e4 / (2.0 * CP)
    assert r.t_node_k[1] == pytest.approx(t1, rel=T_RTOL)
    assert r.q_extracted_w[2] == pytest.approx(2.0 * CP * (t1 - 313.15), rel=1e-12)
    assert abs(r.ledger.residual) <= 1e-12


def test_a_cycle_of_flow_is_an_error_naming_a_node_on_it():
    # 0 feeds 1; 1 -> 2 -> 3 -> 1 circulate with no way out of the loop to a node downstream.
    with pytest.raises(CaseError) as info:
        solve_thermal_network(["supply", "junction", "junction", "junction"], [350.0, 0, 0, 0],
                              [0, 1, 2, 3], [1, 2, 3, 1], [1.0, 2.0, 2.0, 2.0], 0.1, 10.0, 280.0,
                              node_names=["plant", "a", "b", "c"])
    msg = str(info.value)
    assert "loop" in msg and any(f"node '{n}'" in msg for n in ("a", "b", "c"))


def test_mass_imbalance_is_an_error_naming_the_node():
    with pytest.raises(CaseError, match="node 'j'"):
        solve_thermal_network(["supply", "junction"], [350.0, 0.0], [0], [1], [1.0], 0.1, 10.0, 280.0,
                              m_node_kg_s=[0.0, -0.5], node_names=["s", "j"])


# --- the heat ledger on random acyclic flow networks -------------------------------------------------

@st.composite
def acyclic_networks(draw):
    """Nodes 0..n-1; node 0 a supply; every branch joins a lower to a higher index (acyclic by
    construction), declared in a random direction with the matching sign; mass leaves at the last nodes
    so that every node balances (flows built downstream from random splits)."""
    n = draw(st.integers(3, 12))
    frm, to, flow = [], [], []
    inflow = np.zeros(n)
    inflow[0] = draw(st.floats(0.5, 20.0))
    sink = np.zeros(n)
    for i in range(n - 1):
        targets = sorted(set(draw(st.lists(st.integers(i + 1, n - 1), min_size=1, max_size=3))))
        shares = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=len(targets) + 1,
                                        max_size=len(targets) + 1)))
        shares /= shares.sum()
        sink[i] = -inflow[i] * shares[-1] if i > 0 else 0.0
        out = inflow[i] * (shares[:-1] / shares[:-1].sum() if i == 0 else shares[:-1])
        for j, mj in zip(targets, out):
            if draw(st.booleans()):
                frm.append(i), to.append(j), flow.append(mj)
            else:
                frm.append(j), to.append(i), flow.append(-mj)
            inflow[j] += mj
    sink[n - 1] = -inflow[n - 1]
    kinds = ["supply"] + [draw(st.sampled_from(["junction", "junction", "heat", "outlet_t"]))
                          for _ in range(n - 1)]
    vals = [draw(st.floats(330.0, 370.0))]
    for k in kinds[1:]:
        vals.append(draw(st.floats(-2e4, 2e4)) if k == "heat" else draw(st.floats(300.0, 340.0)) if k == "outlet_t"
                    else 0.0)
    nb = len(frm)
    u = np.array(draw(st.lists(st.floats(0.0, 2.0), min_size=nb, max_size=nb)))
    length = np.array(draw(st.lists(st.floats(1.0, 2000.0), min_size=nb, max_size=nb)))
    amb = np.array(draw(st.lists(st.floats(270.0, 300.0), min_size=nb, max_size=nb)))
    cp = np.array(draw(st.lists(st.floats(3500.0, 4300.0), min_size=nb, max_size=nb)))
    return kinds, vals, frm, to, flow, u, length, amb, cp, sink


@seed(20240611)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(acyclic_networks())
def test_heat_ledger_closes_on_random_acyclic_networks(net):
    kinds, vals, frm, to, flow, u, length, amb, cp, sink = net
    r = solve_thermal_network(kinds, vals, frm, to, flow, u, length, amb, cp, sink, cp_node_j_per_kg_k=4000.0)
    # The ledger adds O(n) terms of size up to ~1e7 W; each node balance is exact up to rounding, so the
    # closure is a few ulp of the largest term: 1e-12 relative as asked.
    assert abs(r.ledger.residual) <= 1e-12, r.ledger
    # Each pipe's first law: loss = |m| cp (T_in - T_out) (rel 1e-9 of the enthalpy scale |m| cp T, since
    # the difference of two ~300 K numbers carries their rounding).
    for b in range(len(frm)):
        up = frm[b] if flow[b] > 0 else to[b]
        cap = abs(flow[b]) * cp[b]
        assert r.q_loss_w[b] == pytest.approx(cap * (r.t_node_k[up] - r.t_branch_out_k[b]),
                                              abs=1e-12 * cap * 400.0)
    assert np.all(np.isfinite(r.t_node_k))


@seed(20261208)
@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1), st.integers(-12, 12))
def test_array_sum_is_numpys_sum_to_the_last_bit(n, value_seed, spread):
    # The kernels' totals (array_sum) must be np.sum's, bit for bit: of a run and of a slice of it (values over
    # 10^spread decades of both signs, where the order of the additions shows in the last bits).
    rng = np.random.default_rng(value_seed)
    a = rng.standard_normal(n) * 10.0 ** rng.uniform(-abs(spread), abs(spread), n)
    assert tk.array_sum(a) == np.sum(a)
    lo = int(rng.integers(0, n + 1))
    assert tk.array_sum(a[lo:]) == np.sum(a[lo:])


def test_array_sum_of_long_runs_and_signed_zeros():
    # beyond the 128-value blocks several levels of halving (the kernel's stack), and np.sum's 0.0 start
    a = np.random.default_rng(3).standard_normal(1_000_003) * 1e6
    assert tk.array_sum(a) == np.sum(a) and tk.array_sum(a[:65_536]) == np.sum(a[:65_536])
    assert str(tk.array_sum(np.array([-0.0]))) == str(np.sum(np.array([-0.0])))
    assert tk.array_sum(np.zeros(0)) == 0.0


def assert_same_bits(a, b):
    """Two ThermalResults equal to the last bit (NaN where the other has NaN)."""
    for name in tk.ThermalResult._fields[:-1]:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.ledger == b.ledger


@seed(20261207)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(acyclic_networks(), st.integers(0, 2**32 - 1))
def test_fixed_flows_replay_the_sweep_to_the_last_bit(net, value_seed):
    # with_flows keeps the sweep's order, capacities and exponentials; its solves must give exactly what a
    # full sweep gives, for the node values it was set up with and for others (heat, outlet temperatures).
    kinds, vals, frm, to, flow, u, length, amb, cp, sink = net
    tnet = tk.prepare_thermal_network(kinds, frm, to, u, length, amb, cp, 4000.0)
    fixed = tnet.with_flows(flow, sink)
    rng = np.random.default_rng(value_seed)
    codes = tk.node_kind_codes(kinds)
    other = np.where(codes == tk.NODE_HEAT, rng.uniform(-3e4, 3e4, codes.size),
                     np.where(codes == tk.NODE_JUNCTION, 0.0, rng.uniform(300.0, 370.0, codes.size)))
    for value in (np.asarray(vals, float), other, other):  # the last twice: the kept work array is rewritten
        assert_same_bits(fixed.solve(value), tnet.solve(value, flow, sink))


@seed(20261207)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(acyclic_networks())
def test_node_temperatures_are_the_sweeps_to_the_last_bit(net):
    # node_temperatures runs the sweep without its ledger (the district-heating fixed point reads nothing else):
    # the temperatures must be those of solve, bit for bit, and a refused flow must raise the same error.
    kinds, vals, frm, to, flow, u, length, amb, cp, sink = net
    tnet = tk.prepare_thermal_network(kinds, frm, to, u, length, amb, cp, 4000.0)
    np.testing.assert_array_equal(tnet.node_temperatures(vals, flow, sink), tnet.solve(vals, flow, sink).t_node_k)
    backwards = -np.asarray(flow)  # every flow reversed: fluid enters where no supply temperature is given
    with pytest.raises(CaseError) as a:
        tnet.solve(vals, backwards, sink)
    with pytest.raises(CaseError) as b:
        tnet.node_temperatures(vals, backwards, sink)
    assert str(a.value) == str(b.value)


def test_fixed_flows_with_a_dead_end_an_adiabatic_branch_and_a_cp_step():
    # Node 3 is a dead end behind a zero-flow branch (its ambient temperature), branch 1 is adiabatic (u = 0)
    # and the cp changes from branch to branch (a cp_step term): each exactly as the full sweep has it.
    kinds, frm, to = ["supply", "heat", "junction", "junction"], [0, 1, 1], [1, 2, 3]
    m, m_node = [2.0, 2.0, 0.0], [2.0, 0.0, -2.0, 0.0]
    tnet = tk.prepare_thermal_network(kinds, frm, to, [0.5, 0.0, 0.5], 100.0, [280.0, 281.0, 285.0],
                                      [4184.0, 3900.0, 4000.0], 4100.0)
    fixed = tnet.with_flows(m, m_node)
    for q in (5e4, -2e4):
        r = fixed.solve([353.15, q, 0.0, 0.0])
        assert_same_bits(r, tnet.solve([353.15, q, 0.0, 0.0], m, m_node))
        assert r.t_node_k[3] == 285.0 and r.t_branch_out_k[2] == 285.0
        assert r.t_node_k[2] == r.t_node_k[1]  # adiabatic: passed unchanged
        assert r.ledger.cp_step_w != 0.0 and abs(r.ledger.residual) <= 1e-12


def test_fixed_flows_refuse_flows_the_sweep_refuses():
    tnet = tk.prepare_thermal_network(["supply", "junction"], [0], [1], 0.1, 10.0, 280.0, node_names=["s", "j"])
    with pytest.raises(CaseError, match="node 'j'"):
        tnet.with_flows([1.0], [0.0, -0.5])


# --- the OpenModelica heat-transfer cases shipped with pandapipes -----------------------------------
# The inputs and the OpenModelica results below are transcribed (so that this test does not import pandapipes)
# from pandapipes 0.16.0,
# pandapipes/networks/network_files/openmodelica_test_networks/heat_transfer_cases/{case}.json: pipe
# tables (from, to, length_km, diameter_m, alpha_w_per_m2k, text_k; 5 sections each), ext_grid t_k, sink
# mdot_kg_per_s, junction pn_bar (p_pa; 5 bar unless given), and the pipe column T_om (OpenModelica
# temperature of each section, from→to order).
# Mass flows: one_pipe, two_pipes and t_cross are trees, so the sinks fix every pipe flow; the OpenModelica
# velocities times the IAPWS water density (CoolProp) at each section's T give the same flows to 1e-5.
# delta and delta_2sinks are loops (0->1 direct, 0->2->1): the split is OpenModelica's, the flow of pipe
# 1->2 from its section velocities (v_om_sections) times the CoolProp density at T_om and the mean end
# pressure (constant along the pipe to 1e-5 kg/s), the other two from the node balances. Pipe 1->2 flows
# against its drawn direction (v_om < 0): its T_om runs from the downstream end (junction 1) upwards.
OM_CASES = {
    "one_pipe": dict(
        t_supply_k=363.15, sink={1: 3.0},
        pipes=[(0, 1, 100.0, 0.075, 100.0, 293.15)], m=[3.0],
        t_om=[[360.6271, 358.1951, 355.8495, 353.5875, 351.4064]]),
    "two_pipes": dict(
        t_supply_k=363.15, sink={1: 1.0, 2: 2.0},
        pipes=[(0, 1, 100.0, 0.075, 100.0, 293.15), (1, 2, 500.0, 0.075, 100.0, 293.15)], m=[3.0, 2.0],
        t_om=[[360.6267, 358.1944, 355.8486, 353.5864, 351.4051], [338.6193, 328.6302, 320.8316, 314.7461,
                                                                    309.9986]]),
    "t_cross": dict(
        t_supply_k=383.15, sink={1: 1.0, 2: 2.0},
        pipes=[(0, 3, 100.0, 0.075, 100.0, 293.15), (3, 2, 500.0, 0.075, 100.0, 293.15),
               (1, 3, 500.0, 0.075, 100.0, 293.15)], m=[3.0, 2.0, -1.0],
        t_om=[[379.929, 376.8158, 373.8115, 370.9127, 368.1161], [351.6967, 338.8479, 328.8085, 320.9708, 314.855],
              [301.1845, 305.7123, 312.793, 323.864, 341.1609]]),
    "delta": dict(
        t_supply_k=343.15, sink={1: 5.0}, p_pa=1e5,
        pipes=[(0, 1, 1000.0, 0.075, 50.0, 293.15), (1, 2, 100.0, 0.075, 200.0, 293.15),
               (0, 2, 2000.0, 0.1, 50.0, 293.15)], m=[2.16771, -2.83229, 2.83229],
        t_om=[[332.8452, 324.6601, 318.1606, 313.0015, 308.9074], [297.2146, 297.5375, 297.8863, 298.2628, 298.6691],
              [325.8296, 314.5032, 307.1019, 302.2667, 299.1082]]),
    "delta_2sinks": dict(
        t_supply_k=343.15, sink={1: 3.0, 2: 0.5}, p_pa=1e5,
        pipes=[(0, 1, 1000.0, 0.075, 50.0, 293.15), (1, 2, 100.0, 0.075, 200.0, 293.15),
               (0, 2, 2000.0, 0.1, 50.0, 293.15)], m=[1.48542, -1.51458, 2.01458],
        t_om=[[329.4106, 319.4406, 312.2104, 306.9688, 303.1693], [294.6927, 294.922, 295.1855, 295.4882, 295.8358],
              [321.7992, 309.5598, 302.5496, 298.5347, 296.2353]]),
}


def om_network(case, cells=False):
    """Arrays for the kernel. cells=True: each pipe as OpenModelica discretises it, 5 upwind cells, each a
    mixed volume with T_k = (T_k-1 + a T_amb)/(1 + a), a = U' L/5 / (|m| cp_k); that is our exact branch
    with its NTU replaced by ln(1 + a), i.e. its length scaled by ln(1 + a)/a. cp_k: IAPWS water at the
    cell's OpenModelica temperature and the case's pressure (OpenModelica's StandardWater; CoolProp).

    Returns the result and, per cell, (pipe, cell k in from→to order, branch). A cell's temperature is
    that of the fluid leaving it, i.e. its branch's outlet ``t_branch_out_k``, not the node temperature:
    where several pipes meet, the node holds their mix, which no cell holds (each pipe's last cell keeps
    its own outflow temperature; the mixing happens in the connection, not in a volume)."""
    from CoolProp.CoolProp import PropsSI
    c = OM_CASES[case]
    n_nodes = 1 + max(max(p[0], p[1]) for p in c["pipes"])
    frm, to, m, u, length, amb, cp, cell_of = [], [], [], [], [], [], [], []
    nid = n_nodes
    for i, ((a, b, L, d, alpha, ta), mi) in enumerate(zip(c["pipes"], c["m"])):
        up = alpha * math.pi * d
        if not cells:
            frm.append(a), to.append(b), m.append(mi), u.append(up), length.append(L), amb.append(ta)
            cp.append(CP)
            continue
        chain = [a] + list(range(nid, nid + 4)) + [b]
        nid += 4
        for k in range(5):
            cpk = PropsSI("C", "T", c["t_om"][i][k], "P", c.get("p_pa", 5e5), "Water")
            ak = up * L / 5 / (abs(mi) * cpk)
            frm.append(chain[k]), to.append(chain[k + 1]), m.append(mi), u.append(up)
            length.append(L / 5 * math.log1p(ak) / ak), amb.append(ta), cp.append(cpk)
            cell_of.append((i, k, len(frm) - 1))
    kinds = ["supply"] + ["junction"] * (nid - 1)
    vals = np.zeros(nid)
    vals[0] = c["t_supply_k"]
    sink = np.zeros(nid)
    for j, mdot in c["sink"].items():
        sink[j] = -mdot
    r = solve_thermal_network(kinds, vals, frm, to, m, u, length, amb, np.array(cp), sink)
    return r, cell_of


def test_om_one_pipe_exact_model_within_the_stated_difference():
    # OpenModelica 351.41 K (one_pipe.json in pandapipes) vs 351.17 K from the exponential solution, "about 0.2 K"
    # apart (0.234 K measured); tolerance 0.25 K, and the sign: OpenModelica's cells lose less heat.
    r, _ = om_network("one_pipe")
    t_om_out = OM_CASES["one_pipe"]["t_om"][0][-1]
    assert 0.0 < t_om_out - r.t_node_k[1] <= 0.25


@pytest.mark.parametrize("case", sorted(OM_CASES))
def test_om_cases_node_by_node(case):
    # 1) The exact model is below OpenModelica at every pipe outlet (its 5 upwind cells discretise the
    #    exponential decay from above: 1/(1 + a)^5 > exp(-5a)), and above ambient.
    r, _ = om_network(case)
    c = OM_CASES[case]
    for i, (a, b, *_rest) in enumerate(c["pipes"]):
        t_om_out = c["t_om"][i][-1] if c["m"][i] > 0 else c["t_om"][i][0]
        assert c["pipes"][i][5] < r.t_branch_out_k[i] < t_om_out
    # 2) The same network with each pipe discretised as OpenModelica does (see om_network): every cell
    #    temperature agrees. A cell holds its own outflow (t_branch_out_k), not the mixed node: in delta
    #    and delta_2sinks junction 1 mixes pipe 0->1 (delta: last cell 308.9 K) with the reversed pipe 1->2
    #    (cell 0, 297.2 K); reading the node's mix there instead is off by 4-6.6 K. Measured max |ΔT|:
    #    one_pipe 1.5e-3 K, two_pipes 0.011 K, t_cross 0.042 K, delta 0.011 K, delta_2sinks 0.012 K; the
    #    rest is what this emulation leaves out (OpenModelica's cp and density vary within each cell and
    #    with pressure). Tolerance 0.05 K: 0.2 % of the 15-80 K temperature drops of the long pipes, under
    #    a quarter of the 0.2 K difference between the two models in one_pipe, so a wrong mixing or ordering would
    #    show (swapping the reversed pipe's cell order would be off by up to 1.5 K in delta).
    rc, cells = om_network(case, cells=True)
    worst = max(abs(rc.t_branch_out_k[b] - c["t_om"][i][k]) for i, k, b in cells)
    assert worst <= 0.05
    # 3) Where pipes meet, the kernel's mixed node temperature equals the mass-weighted mean of the
    #    OpenModelica cells flowing into it (junction 1 of the delta cases; elsewhere one inflow). Same
    #    tolerance: weighting by mass instead of capacity (cp differs by 0.06 % over these 12 K) moves the
    #    mix by < 2e-3 K, far below it.
    for node in {n for a, b, *_ in c["pipes"] for n in (a, b)}:
        inflow = [(abs(mi), c["t_om"][i][-1] if mi > 0 else c["t_om"][i][0])
                  for i, ((a, b, *_), mi) in enumerate(zip(c["pipes"], c["m"])) if (b if mi > 0 else a) == node]
        if inflow:
            t_mix_om = sum(mk * tk for mk, tk in inflow) / sum(mk for mk, _ in inflow)
            assert abs(rc.t_node_k[node] - t_mix_om) <= 0.05
    assert abs(r.ledger.residual) <= 1e-12 and abs(rc.ledger.residual) <= 1e-12


@seed(20261208)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(acyclic_networks())
def test_no_frictional_heat_is_a_zero_gain_to_the_last_bit_and_cp_steps_as_summed_here(net):
    # Without q_gain_w the sweep reads no gain at all (an empty array) and writes a node's cp-step term only
    # where it is not 0: the same bits as an explicit zero gain in every branch (the path that reads one per
    # branch), and cp-step terms equal to (C_in - C_out) (T - t_ref) summed here from the flows.
    kinds, vals, frm, to, flow, u, length, amb, cp, sink = net
    tnet = tk.prepare_thermal_network(kinds, frm, to, u, length, amb, cp, 4000.0)
    plain = tnet.solve(vals, flow, sink)
    assert_same_bits(plain, tnet.solve(vals, flow, sink, q_gain_w=np.zeros(len(frm))))
    flow, cap = np.asarray(flow), np.abs(flow) * cp
    c_in, c_out = np.zeros(len(kinds)), -np.minimum(sink, 0.0) * 4000.0
    np.add.at(c_in, np.where(flow > 0, to, frm), cap)
    np.add.at(c_out, np.where(flow > 0, frm, to), cap)
    live = tk.node_kind_codes(kinds) != tk.NODE_SUPPLY
    expected = np.where(live, (c_in - c_out) * (plain.t_node_k - tnet.t_ref_k), 0.0)
    scale = np.maximum(c_in + c_out, 1.0) * plain.t_node_k
    assert np.all(np.abs(plain.q_cp_step_w - expected) <= 1e-12 * scale)
    assert np.all((plain.q_cp_step_w == 0.0) | live)
