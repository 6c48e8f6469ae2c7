"""The fault network (gigawatt.solver.faults.network) against direct solutions of the same circuits written
here: Kirchhoff's laws on the network with the fault in place (the fault current equals E/R of the driving
point, and the inductance is the current-weighted Σ l·i² of its branches), dense inverses of the nodal
matrices for bipolar networks, the tree recursion of the devices against selected inversion, and the selected
inversion itself against numpy's inverse. Also runs with NUMBA_DISABLE_JIT=1 (tests/test_without_jit.py)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import gigawatt as gw
from gigawatt.solver.dc.assembly import assemble
from gigawatt.solver.faults import devices as dv
from gigawatt.solver.faults.network import (KINDS, NEUTRAL, POS, REFERENCE, build_fault_system, kind_network)
from gigawatt.solver.numerics import selected_inversion as si

V = 800.0


# --- selected inversion ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", ["tree", "minimum_degree"])
def test_selected_inverse_equals_the_dense_inverse_on_its_pattern(seed, order):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    rows = np.r_[np.arange(1, n), rng.integers(0, n, n // 4)]
    cols = np.r_[[rng.integers(0, i) for i in range(1, n)], rng.integers(0, n, n // 4)]
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    g = rng.uniform(0.1, 10.0, rows.size)
    shunt = np.zeros(n)
    shunt[rng.integers(0, n, 3)] = rng.uniform(0.5, 2.0, 3)
    diag = shunt + np.bincount(rows, g, minlength=n) + np.bincount(cols, g, minlength=n)
    dense = sp.coo_matrix((np.r_[-g, -g, diag], (np.r_[rows, cols, np.arange(n)], np.r_[cols, rows, np.arange(n)])),
                          shape=(n, n)).toarray()
    # structural pairs beyond the matrix's pattern, as the fault study adds them
    extra_i, extra_j = rng.integers(0, n, 5), rng.integers(0, n, 5)
    pos = np.arange(n)[::-1].copy() if order == "tree" else None
    layout = si.inverse_layout(n, np.r_[rows, extra_i], np.r_[cols, extra_j], pos)
    factor = si.factor(layout, si.assemble(layout, np.r_[-g, np.zeros(5)], diag))
    inverse = si.selected_inverse(layout, *factor)
    z = np.linalg.inv(dense)
    scale = np.abs(z).max()
    np.testing.assert_allclose(inverse.diagonal(), np.diag(z), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(inverse.entries(np.r_[rows, extra_i], np.r_[cols, extra_j]),
                               z[np.r_[rows, extra_i], np.r_[cols, extra_j]], rtol=0, atol=1e-12 * scale)
    b = rng.normal(size=n)
    np.testing.assert_allclose(dense @ si.solve(layout, *factor, b), b, atol=1e-10 * np.abs(b).max())


def test_not_positive_definite_is_refused():
    layout = si.inverse_layout(2, [0], [1])
    assert si.factor(layout, si.assemble(layout, [-2.0], [1.0, 1.0])) is None


# --- random monopolar networks and their direct solution --------------------------------------------------

def random_case(seed: int, n: int, rings: int, *, stiff: bool = False, system: str = "monopolar",
                earthing: str = "every_station"):
    """A connected random network: a tree plus ``rings`` extra lines, stations on three buses (one stiff if
    ``stiff``), shelf capacitors on a third of the buses, two batteries."""
    rng = np.random.default_rng(seed)
    ids = [f"b{i}" for i in range(n)]
    parent = [int(rng.integers(0, i)) for i in range(1, n)]
    pairs = list(zip(range(1, n), parent))
    while len(pairs) < n - 1 + rings:
        a, b = (int(x) for x in rng.integers(0, n, 2))
        if a != b:
            pairs.append((a, b))
    lines = [{"id": f"l{k}", "from_bus": ids[b], "to_bus": ids[a], "length_m": 10.0,
              "r_ohm": float(rng.uniform(1e-4, 5e-3)), "l_h_per_m": float(rng.uniform(5e-8, 5e-7)),
              **({"neutral_r_ohm": float(rng.uniform(1e-4, 3e-3))} if system == "bipolar" else {})}
             for k, (a, b) in enumerate(pairs)]
    st = rng.choice(n, 3, replace=False)
    sources = [{"id": f"s{k}", "bus": ids[b], "v_set_v": V, "droop": 0.0 if (stiff and k == 0) else 0.02,
                "rated_power_w": float(rng.uniform(1e6, 5e6))} for k, b in enumerate(st)]
    capb = rng.choice(n, max(1, n // 3), replace=False)
    racks = [{"id": f"r{k}", "bus": ids[b], "p_it_w": 1e4, "shelf_capacitance_f": float(rng.uniform(1e-4, 3e-3)),
              "shelf_esr_ohm": float(rng.uniform(5e-3, 5e-2))} for k, b in enumerate(capb)]
    batb = rng.choice(n, 2, replace=False)
    bats = [{"id": f"bat{k}", "bus": ids[b], "emf_v": V, "r_internal_ohm": float(rng.uniform(0.02, 0.1)),
             "l_internal_h": float(rng.uniform(0, 5e-6))} for k, b in enumerate(batb)]
    dc = {"system": system, "earthing": earthing}
    return gw.make_case({"bus": [{"id": i, "v_nominal_v": V} for i in ids], "line": lines, "source": sources,
                         "rack": racks, "battery": bats}, dc=dc)


def direct_fault(fs, kind: str, fault_node: int, *, drop_edge: int | None = None):
    """Solve the kind's monopolar network with every source at its EMF behind its impedance and the fault's
    node at 0 V, by Kirchhoff's laws directly (a dense solve). Returns (fault current, current-weighted
    inductance Σ l·i²/I², the nodal current residual)."""
    n = fs.n_bus
    src = fs.sources[kind]
    ea, eb, er, el = fs.edge_a.copy(), fs.edge_b.copy(), fs.edge_r.copy(), fs.edge_l.copy()
    if drop_edge is not None:
        ea, eb, er, el = (np.delete(x, drop_edge) for x in (ea, eb, er, el))
    # unknown potentials of the buses; a source: a branch from a node held at E (node n + j) to its bus
    fixed = {fault_node: 0.0}
    a = list(ea) + list(src.a)
    b = list(eb) + [n + j for j in range(src.a.size)]
    r = list(er) + list(src.r)
    l = list(el) + list(src.l)
    for j in range(src.a.size):
        fixed[n + j] = src.e[j]
    short = [k for k in range(len(r)) if r[k] == 0]
    for k in short:  # a stiff source holds its bus
        fixed[a[k]] = fixed[b[k]]
    total = n + src.a.size
    g = np.zeros((total, total))
    for k in range(len(r)):
        if r[k] > 0:
            g[a[k], a[k]] += 1 / r[k]
            g[b[k], b[k]] += 1 / r[k]
            g[a[k], b[k]] -= 1 / r[k]
            g[b[k], a[k]] -= 1 / r[k]
    known = np.array(sorted(fixed))
    # only the fault's component (nodes joined to it) takes part
    adj = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(total, total))
    _, comp = connected_components(adj, directed=False)
    unknown = np.array([i for i in range(total) if i not in fixed and comp[i] == comp[fault_node]])
    v = np.zeros(total)
    v[known] = [fixed[i] for i in known]
    if unknown.size:
        v[unknown] = np.linalg.solve(g[np.ix_(unknown, unknown)], -g[np.ix_(unknown, known)] @ v[known])
    i_branch = np.array([(v[a[k]] - v[b[k]]) / r[k] if r[k] > 0 else np.nan for k in range(len(r))])
    # a shorted source's current is what its bus passes on
    into = np.zeros(total)
    np.add.at(into, a, np.nan_to_num(-i_branch))
    np.add.at(into, b, np.nan_to_num(i_branch))
    for k in short:
        i_branch[k] = into[a[k]]
    into = np.zeros(total)
    np.add.at(into, a, -i_branch)
    np.add.at(into, b, i_branch)
    i_fault = into[fault_node]
    residual = np.abs(into[unknown]).max(initial=0.0)
    l_eff = float(np.sum(np.asarray(l) * i_branch ** 2) / i_fault ** 2) if i_fault else np.nan
    return i_fault, l_eff, residual


@pytest.mark.parametrize("seed, rings, stiff", [(0, 0, False), (1, 3, False), (2, 0, True), (3, 5, True)])
def test_driving_point_is_kirchhoffs_fault_current(seed, rings, stiff):
    case = random_case(seed, 25, rings, stiff=stiff)
    net = assemble(case)
    fs = build_fault_system(case, net)
    buses = np.arange(net.n_bus)
    pairs = (buses, np.full(buses.size, REFERENCE))
    rank = net.n_bus - 1 - np.arange(net.n_bus)
    for kind in KINDS:
        r, l = kind_network(fs, kind, pairs, rank).driving_point(*pairs)
        src = fs.sources[kind]
        stiff_bus = set(src.a[src.r == 0])
        assert {int(k) for k in np.flatnonzero(r == 0)} == stiff_bus  # a stiff source's own bus: no resistance
        for k in sorted({0, 7, 13, 24} - stiff_bus):
            i_f, l_eff, residual = direct_fault(fs, kind, k)
            assert residual <= 1e-9 * abs(i_f)  # Kirchhoff's current law at every node of the direct solution
            assert V / r[k] == pytest.approx(i_f, rel=1e-9), (kind, k)
            assert l[k] == pytest.approx(l_eff, rel=1e-6, abs=1e-15), (kind, k)


def test_tree_recursion_equals_selected_inversion_on_a_radial_network():
    case = random_case(5, 40, 0, stiff=True)
    net = assemble(case)
    fs = build_fault_system(case, net)
    buses = np.arange(net.n_bus)
    pairs = (buses, np.full(buses.size, REFERENCE))
    rank = net.n_bus - 1 - buses
    for kind in KINDS:
        r, l = kind_network(fs, kind, pairs, rank).driving_point(*pairs)
        y0, y1, _, _ = dv._tree(fs, net, kind)
        r_tree, l_tree = dv._impedance(y0[3], y1[3])
        np.testing.assert_allclose(r_tree, r, rtol=1e-9)
        np.testing.assert_allclose(l_tree, l, rtol=1e-6, atol=1e-15)


def test_device_sides_against_the_network_without_the_line():
    # Forward: the fault at the device's bus with its line removed; reverse: the rest (a bridge line: the two
    # sides are in parallel at the bus, so their admittances add up to the whole network's).
    case = random_case(6, 30, 0)
    net = assemble(case)
    fs = build_fault_system(case, net)
    lines = np.flatnonzero(net.parent[fs.edge_b] == fs.edge_a)[:6]  # edges whose 'to' end is the child
    f, other = fs.edge_a[lines], fs.edge_b[lines]
    buses = np.arange(net.n_bus)
    pairs = (buses, np.full(buses.size, REFERENCE))
    from gigawatt.solver.faults.currents import bus_faults

    bf = bus_faults(fs, buses)
    fwd, rev = dv._split_points(fs, net, f, other, bf.points[0], f)
    for j, edge in enumerate(lines):
        i_f, _, _ = direct_fault(fs, "converter", int(f[j]), drop_edge=int(edge))
        assert V / fwd.r[j, 0] == pytest.approx(i_f, rel=1e-9, abs=1e-9)
        r_full, _ = kind_network(fs, "converter", pairs, net.n_bus - 1 - buses).driving_point(*pairs)
        assert 1 / fwd.r[j, 0] + 1 / rev.r[j, 0] == pytest.approx(1 / r_full[f[j]], rel=1e-9)


# --- bipolar: dense nodal matrices ------------------------------------------------------------------------

def dense_bipolar(fs, kind: str):
    """Z = G^+ (the pseudo-inverse: a part of the network joined to earth by nothing is singular, and its
    differences are what matter there) of the kind's three-layer network with the earthed neutrals and the
    stiff sources' terminals joined, written here from the fault system's branches (nodes 3·bus + layer).
    Returns Z, the node map, the earth's index, and which free nodes reach earth."""
    n = fs.n_bus * 3
    src = fs.sources[kind]
    parent = list(range(n + 1))  # n: earth

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    def join(x, y):
        x, y = find(x), find(y)
        if x != y:
            parent[min(x, y) if max(x, y) != n else x] = n if n in (x, y) else max(x, y)

    for e in fs.earthed:
        join(int(e), n)
    for a, b, r in zip(src.a, src.b, src.r):
        if r == 0:
            join(int(a) if a >= 0 else n, int(b) if b >= 0 else n)
    rep = np.array([find(i) for i in range(n + 1)])
    free = sorted({int(x) for x in rep if x != n})
    col = {x: k for k, x in enumerate(free)}
    g = np.zeros((len(free), len(free)))
    earth_link = np.zeros(len(free), bool)
    adj = np.eye(len(free), dtype=bool)
    branches = list(zip(fs.edge_a, fs.edge_b, fs.edge_r)) + [(a, b, r) for a, b, r in zip(src.a, src.b, src.r) if r > 0]
    for a, b, r in branches:
        ra, rb = rep[a if a >= 0 else n], rep[b if b >= 0 else n]
        if ra == rb:
            continue
        for x, y in ((ra, rb), (rb, ra)):
            if x != n:
                g[col[x], col[x]] += 1 / r
                if y != n:
                    g[col[x], col[y]] -= 1 / r
                    adj[col[x], col[y]] = True
                else:
                    earth_link[col[x]] = True
    _, comp = connected_components(sp.csr_matrix(adj), directed=False)
    reaches = np.isin(comp, comp[earth_link])
    return np.linalg.pinv(g, rcond=1e-13), rep, col, n, reaches, comp


@pytest.mark.parametrize("earthing", ["every_station", "one_per_zone"])
def test_bipolar_driving_points_against_dense_inverse(earthing):
    case = random_case(7, 12, 2, system="bipolar", earthing=earthing)
    net = assemble(case)
    fs = build_fault_system(case, net)
    buses = np.arange(net.n_bus)
    rank = net.n_bus - 1 - buses
    for la, lb in ((POS, 2), (POS, NEUTRAL), (POS, REFERENCE), (2, NEUTRAL)):
        na = 3 * buses + la
        nb = np.full(buses.size, REFERENCE) if lb == REFERENCE else 3 * buses + lb
        for kind in ("converter", "capacitor"):
            r, _ = kind_network(fs, kind, (na, nb), rank).driving_point(na, nb)
            z, rep, col, n, reaches, comp = dense_bipolar(fs, kind)

            def zz(x, y):
                x, y = rep[x if x >= 0 else n], rep[y if y >= 0 else n]
                return 0.0 if n in (x, y) else z[col[x], col[y]]

            def ref_r(a, b):
                ra, rb = rep[a if a >= 0 else n], rep[b if b >= 0 else n]
                if ra == rb:
                    return 0.0
                if n in (ra, rb):  # to earth: only through a part that reaches it
                    other = rb if ra == n else ra
                    return zz(other, other) if reaches[col[other]] else np.inf
                if comp[col[ra]] != comp[col[rb]] and not (reaches[col[ra]] and reaches[col[rb]]):
                    return np.inf  # no path between them
                return zz(a, a) + zz(b, b) - 2 * zz(a, b)

            ref = [ref_r(a, b) for a, b in zip(na, nb)]
            np.testing.assert_allclose(r, ref, rtol=1e-9, atol=1e-15, err_msg=f"{kind} {la}-{lb}")
