"""Transport delay in district-heating pipes (:mod:`gigawatt.solver.district_heating.dynamics`).

References: the steady exponential solution (:func:`gigawatt.models.pipe_heat.pipe_outlet_temperature`,
Incropera eq. 8.46a) when nothing moves; plug flow's closed forms otherwise: the water entering at t leaves
at t + tau with tau from the volume (int |m| dt = rho A L), having cooled by exp(-U' tau / (rho A cp)).
Tolerances: 1e-9 K and 1e-9 relative are round-off of the exponentials over thousands of steps; the ledger's
1e-9 is the issue's closure target.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.pipe_heat import pipe_outlet_temperature
from gigawatt.solver.district_heating.dynamics import (DynamicThermalNetwork, district_heating_step_inputs,
                                         from_district_heating)
from gigawatt.solver.district_heating.stage import prepare_district_heating

L, D, U, RHO, CP, TG = 1000.0, 0.1, 0.3, 980.0, 4190.0, 283.15
A = math.pi * D * D / 4


def one_pipe(max_parcels=32, length_m=L):
    return DynamicThermalNetwork(["supply", "junction"], [0], [1], [U], [length_m], [A], TG, RHO, CP,
                                 max_parcels=max_parcels)


def run(net, t_in, m, dt):
    return net.step([t_in, 0.0], [m], [m, -m], dt)


@pytest.mark.parametrize("dt", [1.0, 7.0, 100.0, 5000.0, 1e6])
@pytest.mark.parametrize("m", [5.0, 0.2, -3.0])
def test_steady_flow_gives_the_steady_exponential(dt, m):
    """Constant flow and inlet temperature: every step's outlet is the steady solution, for steps far shorter
    and far longer than the residence time (1539 s at 5 kg/s), either flow direction."""
    if m > 0:
        net = one_pipe()
        net.fill_steady([353.15, np.nan], [m])
        nodes = [353.15, 0.0]
    else:  # the supply at the 'to' end
        net = DynamicThermalNetwork(["junction", "supply"], [0], [1], [U], [L], [A], TG, RHO, CP)
        net.fill_steady([np.nan, 353.15], [m])
        nodes = [0.0, 353.15]
    expected = pipe_outlet_temperature(353.15, TG, m, CP, U, L)
    for _ in range(5):
        r = net.step(nodes, [m], [m, -m], dt)
        assert abs(r.t_branch_out_k[0] - expected) <= 1e-9
        assert r.q_loss_w[0] == pytest.approx(abs(m) * CP * (353.15 - expected), rel=1e-9)
        assert abs(r.ledger["stored_change_j"]) <= 1e-12 * abs(net.stored_j()[0])
    assert net.energy_balance_residual() <= 1e-9


def test_a_filled_pipe_reaches_the_steady_state_once_flushed():
    """Starting full of cold water, the outlet is the steady solution from the first step after the water has
    been replaced once (tau = 1539.4 s), also with parcels merged (4 kept)."""
    net = one_pipe(max_parcels=4)
    net.fill_uniform(300.0)
    expected = pipe_outlet_temperature(353.15, TG, 5.0, CP, U, L)
    tau = RHO * A * L / 5.0
    t = 0.0
    while t < tau + 60:
        r = run(net, 353.15, 5.0, 30.0)
        t += 30.0
    assert abs(r.t_branch_out_k[0] - expected) <= 1e-9


@pytest.mark.parametrize("dt", [1.0, 7.0, 60.0])
@pytest.mark.parametrize("max_parcels", [3, 32])
def test_step_change_arrives_after_the_residence_time(dt, max_parcels):
    """A step of the inlet from 80 to 90 degC at t = 0: the outlet is the old steady value until tau = rho A L / m,
    then the new one; the step holding tau carries the mixing fraction of its two waters. Merging parcels
    (3 kept) must not smear the front."""
    m = 5.0
    tau = RHO * A * L / m
    net = one_pipe(max_parcels)
    net.fill_steady([353.15, np.nan], [m])
    old = pipe_outlet_temperature(353.15, TG, m, CP, U, L)
    new = pipe_outlet_temperature(363.15, TG, m, CP, U, L)
    t = 0.0
    while t < tau + 3 * dt:
        r = run(net, 363.15, m, dt)
        t0, t = t, t + dt
        new_share = min(max((t - tau) / dt, 0.0), 1.0)
        assert r.t_branch_out_k[0] == pytest.approx(old + new_share * (new - old), abs=1e-8), (t0, t)
    assert net.energy_balance_residual() <= 1e-9


def test_varying_flow_delay_integrates_the_volume():
    """The flow doubles (4 -> 8 kg/s) at 600 s, before the front entering at 0 has crossed: it leaves when
    int m dt = rho A L, at tau = 600 + (rho A L - 600 m1) / m2 = 1262.1 s, not at rho A L / m of either flow.
    Water leaving at t' in [tau, tau + 300] entered at t_e with residence time t' - t_e = 2 tau - t', so the
    step means of the outlet are 80 K exp(-k (2 tau - t')) averaged over the step's share after tau."""
    m1, m2, dt = 4.0, 8.0, 1.0
    w = RHO * A * L
    tau = 600.0 + (w - 600.0 * m1) / m2
    k = U / (RHO * A * CP)
    net = one_pipe()
    net.fill_uniform(TG)
    t = 0.0
    while t < tau + 300.0 - dt:
        r = run(net, TG + 80.0, m1 if t < 600.0 else m2, dt)
        t0, t = t, t + dt
        lo = max(t0, tau)
        expected = TG + (80.0 / (k * dt) * (math.exp(-k * (2 * tau - t)) - math.exp(-k * (2 * tau - lo)))
                         if t > tau else 0.0)
        assert r.t_branch_out_k[0] == pytest.approx(expected, abs=1e-9), (t0, t)
    assert net.energy_balance_residual() <= 1e-9


def test_reversed_flow_brings_the_water_back():
    """Hot water pushed a quarter of the way in, then pulled back out: it returns through the inlet end
    with exp(-k (t_return - t_entry)), the newest water first."""
    q, dt = 5.0, 1.0
    tau = RHO * A * L / q
    k = U / (RHO * A * CP)
    net = DynamicThermalNetwork(["supply", "supply"], [0], [1], [U], [L], [A], TG, RHO, CP)
    net.fill_uniform(TG)
    n_in = int(tau / 4)
    for _ in range(n_in):  # water at 90 degC enters at node 0
        net.step([363.15, 0.0], [q], [q, -q], dt)
    t_end = n_in * dt
    for j in range(n_in):  # now it flows back out at node 0 (node 1 supplies water at the ground temperature)
        r = net.step([0.0, TG], [-q], [-q, q], dt)
        # the water leaving in [t_end + j dt, t_end + (j+1) dt] entered at t_end - (t - t_end): age 2 (t - t_end)
        expected = TG + 80.0 * (math.exp(-2 * k * j * dt) - math.exp(-2 * k * (j + 1) * dt)) / (2 * k * dt)
        assert r.t_branch_out_k[0] == pytest.approx(expected, abs=1e-9)
    r = net.step([0.0, TG], [-q], [-q, q], dt)
    assert r.t_branch_out_k[0] == pytest.approx(TG, abs=1e-12)  # then the ground-temperature water of the fill
    assert net.energy_balance_residual() <= 1e-9


def test_standing_water_cools_toward_the_ground():
    """No flow: the pipe's water cools as T_g + (T0 - T_g) exp(-k t), and its loss is the enthalpy it gives up."""
    net = one_pipe()
    net.fill_uniform(353.15)
    k = U / (RHO * A * CP)
    s0 = net.stored_j()[0]
    for _ in range(10):
        r = net.step([353.15, 0.0], [0.0], [0.0, 0.0], 3600.0)
    theta = 70.0 * math.exp(-k * 36000.0)
    assert net.stored_j()[0] == pytest.approx(s0 - RHO * A * L * CP * (70.0 - theta), rel=1e-12)
    assert r.t_branch_out_k[0] == TG  # no water leaves: reported at the ambient temperature, as the steady sweep
    assert net.energy_balance_residual() <= 1e-12


def poison_dead_slots(net):
    """NaN in every parcel slot outside each pipe's queue (slots head ... head + cnt − 1, cyclic)."""
    n_cap = net.par.shape[0]
    live = (np.arange(n_cap)[:, None] - net.head[None, :]) % n_cap < net.cnt[None, :]
    net.par[~live] = np.nan


def random_run(seed, n_steps=400, poison=False, refill=False):
    """Two supplies at the ends (S1 -> A -> S2), a sink at A: the flow in A-S2 changes sign and stops.
    ``poison``: NaN in the unused parcel slots before every step; ``refill``: fill_uniform halfway."""
    rng = np.random.default_rng(seed)
    net = DynamicThermalNetwork(["supply", "junction", "supply", "cool_to"], [0, 1, 1], [1, 2, 3],
                                [0.3, 0.5, 0.0], [800.0, 300.0, 0.0], [A, 0.5 * A, 0.0], TG, RHO, CP,
                                max_parcels=6)
    net.fill_uniform(330.0)
    for k in range(n_steps):
        if refill and k == n_steps // 2:
            net.fill_uniform(rng.uniform(300.0, 350.0))  # a refill over queues spread across the slots
        if poison:
            poison_dead_slots(net)
        m1 = rng.uniform(0.0, 6.0) * (rng.random() > 0.1)
        mx = rng.uniform(-4.0, m1) * (rng.random() > 0.2)
        sink = m1 - mx
        value = [rng.uniform(340.0, 360.0), 0.0, rng.uniform(300.0, 350.0), 318.15]
        net.step(value, [m1, mx, sink], [m1, 0.0, -mx, -sink], rng.choice([1.0, 60.0, 600.0, 3600.0]))
    return net


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ledger_closes_over_a_random_run(seed):
    """Random flows (reversals, stops), supply temperatures and step lengths, parcels merged: heat in = heat out
    + losses + change of stored enthalpy, to 1e-9 of the largest term over the run."""
    net = random_run(seed)
    g = net.ledger
    assert g["loss_j"] > 0 and g["heat_extracted_j"] > 0
    assert net.energy_balance_residual() <= 1e-9
    assert g["stored_start_j"] + g["stored_change_j"] == pytest.approx(net.stored_j().sum(), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_unused_parcel_slots_are_never_read(seed):
    """The kernels read a pipe's live slots only, so a refill need not clear the others (which would make the
    whole slot array resident): NaN in every unused slot before every step changes no figure, bit for bit."""
    clean, poisoned = random_run(seed, refill=True), random_run(seed, poison=True, refill=True)
    assert np.isfinite(poisoned.t_wall).all() and np.isfinite(poisoned.stored_j()).all()
    np.testing.assert_array_equal(poisoned.t_wall, clean.t_wall)
    np.testing.assert_array_equal(poisoned.stored_j(), clean.stored_j())
    assert poisoned.ledger == clean.ledger


def dh_case():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_district_heating_bad_input import dh_doc

    doc = dh_doc()
    return gw.make_case({k: v for k, v in doc.items() if k.startswith("dh_")},
                        district_heating=doc["district_heating"], case=doc["case"])


def test_district_heating_network_unchanged_when_nothing_moves():
    """The district-heating stage's own network (a line with a fixed consumer and a vertical farm): filled with
    its steady solution and stepped with the same flows, every pipe outlet, node temperature and pipe loss is
    the steady solve's; the plant's heat is the water's enthalpy rise at the plant."""
    dh = prepare_district_heating(dh_case())
    st = dh.solve(None)
    dyn = from_district_heating(dh)
    value, m_branch, m_node = district_heating_step_inputs(dh, st)
    dyn.fill_steady(np.concatenate([st.node_t_k, st.consumer_t_return_k]), m_branch)
    n_pipe = dh.pf.size
    for dt in (10.0, 600.0, 3600.0, 86400.0):
        r = dyn.step(value, m_branch, m_node, dt)
        np.testing.assert_allclose(r.t_branch_out_k[:n_pipe], st.pipe_t_out_k[dh.live], rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.t_node_k[:dh.n], st.node_t_k, rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.q_loss_w[:n_pipe], st.pipe_loss_w[dh.live], rtol=1e-9)
        assert r.ledger["boundary_in_j"] / dt == pytest.approx(st.figures["dh_q_plant_w"], rel=1e-9)
        assert -r.q_node_w[dh.sub].sum() == pytest.approx(st.figures["dh_q_delivered_w"], rel=1e-9)
    assert dyn.energy_balance_residual() <= 1e-9


def test_district_heating_supply_step_reaches_consumers_in_turn():
    """Raise the plant's supply temperature by 10 K: consumer A (behind 500 m) sees it after its pipe's
    residence time, consumer B (a further 300 m) later; before that each sees its old temperature."""
    dh = prepare_district_heating(dh_case())
    st = dh.solve(None)
    dyn = from_district_heating(dh)
    value, m_branch, m_node = district_heating_step_inputs(dh, st)
    dyn.fill_steady(np.concatenate([st.node_t_k, st.consumer_t_return_k]), m_branch)
    tau = dyn.residence_time_s(m_branch)
    cs = dh.cs
    value = value.copy()
    value[dh.sup] += 10.0
    dt, t, first = 10.0, 0.0, {}
    while t < tau[0] + tau[1] + 100:
        r = dyn.step(value, m_branch, m_node, dt)
        t += dt
        for i, node in enumerate(cs):
            if i not in first and r.t_node_k[node] > st.node_t_k[node] + 1e-6:
                first[i] = t
    assert first[0] == pytest.approx(tau[0], abs=dt)
    assert first[1] == pytest.approx(tau[0] + tau[1], abs=2 * dt)
    assert dyn.energy_balance_residual() <= 1e-9


def test_bad_input_names_field_and_value():
    net = one_pipe()
    for dt in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(CaseError) as err:
            net.step([353.15, 0.0], [1.0], [1.0, -1.0], dt)
        assert err.value.field == "dt_s" and "> 0" in err.value.allowed
    with pytest.raises(CaseError) as err:
        net.step([353.15, 0.0], [1.0, 2.0], [1.0, -1.0], 1.0)
    assert err.value.field == "m_branch_kg_s" and err.value.value == 2
    with pytest.raises(CaseError) as err:
        net.step([353.15, 0.0], [math.nan], [1.0, -1.0], 1.0)
    assert err.value.field == "m_branch_kg_s"
    with pytest.raises(CaseError, match="do not balance") as err:
        net.step([353.15, 0.0], [1.0], [1.0, -2.0], 1.0)
    assert err.value.element == "node 1"
    with pytest.raises(CaseError, match="not a supply node"):
        DynamicThermalNetwork(["supply", "junction"], [0], [1], [U], [L], [A], TG, RHO, CP).step(
            [353.15, 0.0], [-1.0], [-1.0, 1.0], 1.0)
    with pytest.raises(CaseError, match="circles a loop"):
        DynamicThermalNetwork(["junction"] * 3, [0, 1, 2], [1, 2, 0], U, L, A, TG, RHO, CP).step(
            [0.0] * 3, [1.0, 1.0, 1.0], 0.0, 1.0)
    for kw, field, value in ((dict(length_m=-1.0), "length_m", -1.0), (dict(area_m2=-A), "area_m2", -A),
                             (dict(area_m2=0.0), "area_m2", 0.0), (dict(u_w_per_m_k=-0.1), "u_w_per_m_k", -0.1),
                             (dict(rho_kg_m3=0.0), "rho_kg_m3", 0.0), (dict(cp_j_per_kg_k=-1.0), "cp_j_per_kg_k", -1.0),
                             (dict(max_parcels=1), "max_parcels", 1), (dict(node_kind=["supply", 7]), "node_kind", "7"),
                             (dict(branch_to=[5]), "branch_to", 5)):
        args = dict(node_kind=["supply", "junction"], branch_from=[0], branch_to=[1], u_w_per_m_k=U, length_m=L,
                    area_m2=A, t_ambient_k=TG, rho_kg_m3=RHO, cp_j_per_kg_k=CP)
        args.update(kw)
        parcels = args.pop("max_parcels", 32)
        with pytest.raises(CaseError) as err:
            DynamicThermalNetwork(**args, max_parcels=parcels)
        assert (err.value.field, err.value.value) == (field, value), err.value


def test_every_node_kind_matches_the_steady_sweep():
    """A meshed network with two supplies, a heat-taking node, an outlet-temperature node, a junction mixing
    two streams, a sink and a stagnant branch: filled with the steady sweep's solution
    (:func:`gigawatt.solver.numerics.thermal_kernel.solve_thermal_network`, written separately) and stepped with the
    same flows, the dynamic network reproduces its temperatures, losses and node heats."""
    from gigawatt.solver.numerics.thermal_kernel import solve_thermal_network

    kind = ["supply", "junction", "heat", "outlet_t", "junction", "supply", "junction"]
    value = [358.15, 0.0, 2e5, 318.15, 0.0, 348.15, 0.0]
    frm = [0, 1, 1, 2, 3, 5, 4, 6]
    to = [1, 2, 3, 4, 4, 4, 6, 2]
    m = np.array([6.0, 2.5, 3.5, 2.5, 3.5, 1.0, 7.0, 0.0])
    m_node = np.array([6.0, 0, 0, 0, 0, 1.0, -7.0])
    length = np.array([400.0, 250.0, 300.0, 120.0, 80.0, 600.0, 50.0, 200.0])
    area = math.pi * np.array([0.1, 0.08, 0.08, 0.065, 0.065, 0.05, 0.1, 0.05]) ** 2 / 4
    u = np.array([0.3, 0.25, 0.25, 0.2, 0.2, 0.2, 0.3, 0.2])
    st = solve_thermal_network(kind, value, frm, to, m, u, length, TG, CP, m_node)
    net = DynamicThermalNetwork(kind, frm, to, u, length, area, TG, RHO, CP)
    net.fill_steady(st.t_node_k, m)
    for dt in (30.0, 3600.0):
        r = net.step(value, m, m_node, dt)
        np.testing.assert_allclose(r.t_node_k, st.t_node_k, rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.t_branch_out_k, st.t_branch_out_k, rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.q_loss_w, st.q_loss_w, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(-r.q_node_w[[2, 3]], st.q_extracted_w[[2, 3]], rtol=1e-9)
    assert net.energy_balance_residual() <= 1e-9


from hypothesis import given, settings
from hypothesis import strategies as st

from gigawatt.solver.district_heating.dynamics import advance_pipe, advance_queue


@settings(max_examples=300, deadline=None)
@given(w=st.floats(1e-3, 1e6), mass_ratio=st.floats(0.999, 1.001), td=st.floats(-200.0, 200.0),
       gm=st.one_of(st.just(0.0), st.floats(-30.0, 30.0)), kw=st.one_of(st.just(0.0), st.floats(1e-9, 30.0)),
       q=st.floats(1e-6, 1e4), crossings=st.floats(1.0 - 1e-13, 1e3), theta_in=st.floats(-200.0, 200.0),
       head=st.integers(0, 3))
def test_one_parcel_path_is_the_queue_path_to_the_bit(w, mass_ratio, td, gm, kw, q, crossings, theta_in, head):
    """A pipe holding one parcel that the water crosses within the step (advance_pipe's straight path) gives the
    general queue path's outflow, loss, content and new parcel, bit for bit (``gm``: the parcel's decay along
    its mass, ``kw``: the pipe's decay over a residence time, k W / q, both as a series meets them)."""
    dt = crossings * w / q
    g, k = gm / (w * mass_ratio), kw * q / w
    results = []
    for fn in (advance_pipe, advance_queue):
        par = np.zeros((4, 2, 3))
        par[head, 1] = w * mass_ratio, td, g
        heads, cnt = np.array([0, head]), np.array([0, 1])
        results.append((fn(par, heads, cnt, 4, 1, w, k, q, dt, theta_in), par, heads, cnt))
    (r1, p1, h1, c1), (r2, p2, h2, c2) = results
    assert np.array_equal(r1, r2)
    assert np.array_equal(p1[:, 1][np.arange(4) == h1[1]], p2[:, 1][np.arange(4) == h2[1]])
    assert np.array_equal(h1, h2) and np.array_equal(c1, c2)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), supply_first=st.booleans())
def test_step_totals_are_numpys_sums_of_the_kernels_arrays(seed, supply_first):
    """The step's ledger totals, per-second arrays and kept stored total (the kernel's scratch arrays reused from step
    to step) against NumPy's sums of the kernel's arrays (over the supply nodes, the others, each array; the arrays
    over dt), bit for bit, on random runs with reversals and stops; the supply nodes either one run or scattered. A
    flow that is not finite is refused by name and leaves the state as it was."""
    import copy

    rng = np.random.default_rng(seed)
    kinds = ["supply", "supply", "junction", "cool_to"] if supply_first else ["supply", "junction", "supply", "cool_to"]
    s1, a, s2, k = (0, 2, 1, 3) if supply_first else (0, 1, 2, 3)
    net = DynamicThermalNetwork(kinds, [s1, a, a], [a, s2, k], [0.3, 0.5, 0.0], [800.0, 300.0, 0.0],
                                [A, 0.5 * A, 0.0], TG, RHO, CP, max_parcels=4)
    net.fill_uniform(330.0)
    supply = np.asarray(kinds) == "supply"
    for _ in range(30):
        m1 = rng.uniform(0.0, 6.0) * (rng.random() > 0.1)
        mx = rng.uniform(-4.0, m1) * (rng.random() > 0.2)
        value = np.zeros(4)
        value[[s1, s2, k]] = rng.uniform(340.0, 360.0), rng.uniform(300.0, 350.0), 318.15
        m_node = np.zeros(4)
        m_node[[s1, s2, k]] = m1, -mx, -(m1 - mx)
        dt = float(rng.choice([1.0, 60.0, 3600.0]))
        before, ref = net._stored.copy(), None  # (the enthalpy the last step left, as the ledger takes it)
        if rng.random() < 0.1:  # a NaN flow: refused, the state untouched
            kept = copy.deepcopy(net)
            with pytest.raises(CaseError) as err:
                net.step(value, [m1, math.nan, m1 - mx], m_node, dt)
            assert (err.value.field, err.value.element) == ("m_branch_kg_s", "entry 1")
            ref = kept.step(value, [m1, mx, m1 - mx], m_node, dt)
        r = net.step(value, [m1, mx, m1 - mx], m_node, dt)
        loss_j, q_node_j, e_bnd, q_step = net._work
        assert r.ledger["heat_added_j"] == float(q_node_j[supply].sum())
        assert r.ledger["heat_extracted_j"] == -float(q_node_j[~supply].sum())
        assert r.ledger["boundary_in_j"] == float(e_bnd.sum()) and r.ledger["cp_step_j"] == float(q_step.sum())
        assert r.ledger["loss_j"] == float(loss_j.sum())
        assert r.ledger["stored_change_j"] == float(r.stored_j.sum() - before.sum())
        assert net.stored_total_j == float(r.stored_j.sum())
        np.testing.assert_array_equal(r.q_loss_w, loss_j / dt)
        np.testing.assert_array_equal(r.q_node_w, q_node_j / dt)
        if ref is not None:
            for x, y in zip(r[:5], ref[:5]):
                np.testing.assert_array_equal(x, y)
            assert r.ledger == ref.ledger
