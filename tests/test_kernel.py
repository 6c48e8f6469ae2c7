"""The Numba DC load-flow kernel against references written here: closed forms of radial feeders, and a
dense Newton solve (numpy, full Jacobian assembled from the equations) of meshed networks.

Every test runs twice: jitted in this process, and as plain Python (``NUMBA_DISABLE_JIT=1``) in a
subprocess that runs this same file (``test_same_tests_pass_without_jit``), as STYLE.md asks: the
pure-Python fallback is the same code with the JIT off, and both must give the same answers.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.solver.dc import kernel as dc_kernel

EPS = np.finfo(float).eps
JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"


# --- helpers ---------------------------------------------------------------------------------------

def case_of(buses, lines, sources, racks, solver=None):
    """A case from compact tuples. buses: {id: v_nominal}; lines: (id, from, to, r_ohm); sources:
    (id, bus, v_set, droop, rated); racks: (id, bus, p_w), drawn at the bus as given (no shelf, VRM 1)."""
    return gw.make_case({
        "bus": [{"id": b, "v_nominal_v": v} for b, v in buses.items()],
        "line": [{"id": i, "from_bus": a, "to_bus": b, "length_m": 1.0, "r_ohm": r} for i, a, b, r in lines],
        "source": [{"id": i, "bus": b, "v_set_v": v, "droop": d, "rated_power_w": p} for i, b, v, d, p in sources],
        "rack": [{"id": i, "bus": b, "p_it_w": p, "vrm_efficiency": 1.0} for i, b, p in racks],
    }, solver=solver)


def dense_newton(case):
    """Reference solution by Newton's method on the full, dense Jacobian (numpy only).

    Unknowns: the voltages of buses no stiff source holds. For each such bus i (SI units)

        F_i = Σ_j g_ij (V_i − V_j) + P_i / V_i − Σ_s k_s (v_set,s − V_i) / V_i = 0,

    the constant-power load P_i drawing P_i/V_i and each droop source s injecting its power
    k_s (v_set,s − V_i), k_s = rated_s / (droop_s v_set,s), as current at V_i. Derivatives:
    ∂F_i/∂V_i = Σ_j g_ij − (P_i − Σ_s k_s v_set,s) / V_i², ∂F_i/∂V_j = −g_ij. Iterates until the step
    is at the rounding level of V. Returns (V by bus id, Jacobian at the solution).
    """
    t = case.tables
    ids = list(t["bus"]["id"])
    n = len(ids)
    pos = {b: i for i, b in enumerate(ids)}
    lap = np.zeros((n, n))
    for row in t["line"].itertuples():
        if row.in_service:
            a, b, g = pos[row.from_bus], pos[row.to_bus], 1.0 / row.r_ohm
            lap[a, a] += g
            lap[b, b] += g
            lap[a, b] -= g
            lap[b, a] -= g
    p = np.zeros(n)
    for row in t["rack"].itertuples():
        p[pos[row.bus]] += row.p_it_w / row.vrm_efficiency
    k, kv = np.zeros(n), np.zeros(n)
    v = np.full(n, t["source"]["v_set_v"].max())
    stiff = np.zeros(n, dtype=bool)
    for row in t["source"].itertuples():
        b = pos[row.bus]
        if row.droop == 0:
            stiff[b], v[b] = True, row.v_set_v
        else:
            k[b] += row.rated_power_w / (row.droop * row.v_set_v)
            kv[b] += row.rated_power_w / row.droop
    free = ~stiff
    for _ in range(50):
        f = lap @ v + (p - kv) / v + k
        jac = lap + np.diag(-(p - kv) / v**2)
        step = np.linalg.solve(jac[np.ix_(free, free)], -f[free])
        v[free] += step
        if np.max(np.abs(step)) <= 4 * EPS * np.max(v):
            break
    else:
        raise AssertionError("reference Newton did not converge")
    return dict(zip(ids, v)), jac[np.ix_(free, free)]


def source_powers(case, v):
    """Each source's output [W] from a voltage solution: droop law, and the current balance of each
    stiff bus shared by rating (what the solver documents)."""
    t = case.tables
    out = {}
    bus_current = {}
    for row in t["line"].itertuples():
        i = (v[row.from_bus] - v[row.to_bus]) / row.r_ohm
        bus_current[row.from_bus] = bus_current.get(row.from_bus, 0.0) + i
        bus_current[row.to_bus] = bus_current.get(row.to_bus, 0.0) - i
    for row in t["rack"].itertuples():
        bus_current[row.bus] = bus_current.get(row.bus, 0.0) + row.p_it_w / row.vrm_efficiency / v[row.bus]
    src = t["source"]
    for row in src.itertuples():
        if row.droop > 0:
            out[row.id] = row.rated_power_w / (row.droop * row.v_set_v) * (row.v_set_v - v[row.bus])
    for b, group in src[src["droop"] == 0].groupby("bus"):
        need = v[b] * bus_current.get(b, 0.0) - sum(out.get(i, 0.0) for i in src[src["bus"] == b]["id"])
        for row in group.itertuples():
            out[row.id] = need * row.rated_power_w / group["rated_power_w"].sum()
    return out


def closed_form_v(v0, p_w, r_ohm):
    """Voltage at a constant-power load P fed from a stiff V0 through R: V = (V0 + √(V0² − 4PR))/2
    (textbook closed form, from P = V·(V0 − V)/R); the drop V0 − V = 2PR / (V0 + √(V0² − 4PR)), free of
    cancellation."""
    root = np.sqrt(v0 * v0 - 4 * p_w * r_ohm)
    return (v0 + root) / 2, 2 * p_w * r_ohm / (v0 + root)


# --- the JIT switch --------------------------------------------------------------------------------

def test_kernel_is_compiled_or_plain_python_as_the_environment_says():
    # With NUMBA_DISABLE_JIT=1 numba's decorator returns the Python function itself; otherwise a
    # dispatcher that holds the Python function as .py_func. The subprocess run relies on this.
    assert hasattr(dc_kernel.newton_dc, "py_func") is (not JIT_OFF)


# --- radial feeders against closed forms -----------------------------------------------------------

@pytest.mark.parametrize("r_ohm, p_w", [
    # Fractions of the nose power V0²/4R from 0.3 down to 1e-9: heavy, moderate and light loads on
    # cables (10 mΩ) and short stiff busbars (10 µΩ) alike.
    (0.01, 4.8e6), (0.01, 1e5), (1e-3, 1e3), (1e-4, 1e4), (1e-5, 1e5), (1e-5, 1e2),
])
def test_one_line_closed_form(kit, r_ohm, p_w):
    v0 = 800.0
    d = kit.one_line_doc(r_ohm=r_ohm, p_it_w=p_w, v_set_v=v0)
    case = gw.make_case({k: d[k] for k in ("bus", "line", "source", "rack")})
    ds = gw.solve(case)
    v_exact, drop_exact = closed_form_v(v0, p_w, r_ohm)
    v_b = float(ds.v_v.sel(bus="b"))
    # Converged to a current mismatch ≤ 1e-11 × P/V, which moves V by ≤ 1e-11 × the drop; V itself is
    # known to one rounding (eps·V0). Both bounds, with a factor 4 for the arithmetic.
    assert abs((v0 - v_b) - drop_exact) <= 4e-11 * drop_exact + 4 * EPS * v0
    assert v_b == pytest.approx(v_exact, rel=1e-12)
    # The source delivers the load plus the line loss: P + I²R with I = P/V.
    i = p_w / v_exact
    assert float(ds.p_dc_w.sel(source="s")) == pytest.approx(p_w + i * i * r_ohm, rel=1e-10)


def test_chain_and_star_closed_form():
    # A source at 'a'; a chain a-b-c-d with its only load at 'd', and a star branch a-e with a load at
    # 'e'. With no load in between, the chain current is I = P/V_d throughout, so V_d follows the one-line
    # closed form with R = Σ R_k, and each intermediate voltage is V0 − I·(R up to it).
    v0 = 800.0
    r = {"l1": 0.004, "l2": 0.006, "l3": 0.01, "l4": 0.02}
    p_d, p_e = 2e6, 1.5e6
    case = case_of({b: v0 for b in "abcde"},
                   [("l1", "a", "b", r["l1"]), ("l2", "b", "c", r["l2"]), ("l3", "c", "d", r["l3"]),
                    ("l4", "a", "e", r["l4"])],
                   [("s", "a", v0, 0.0, 1e8)], [("rd", "d", p_d), ("re", "e", p_e)])
    ds = gw.solve(case)
    v_d, _ = closed_form_v(v0, p_d, r["l1"] + r["l2"] + r["l3"])
    v_e, _ = closed_form_v(v0, p_e, r["l4"])
    i_d = p_d / v_d
    expected = {"a": v0, "b": v0 - i_d * r["l1"], "c": v0 - i_d * (r["l1"] + r["l2"]), "d": v_d, "e": v_e}
    for bus, v in expected.items():
        # rel 1e-12: as in test_one_line_closed_form (mismatch 1e-11 of the load current x a drop ≤ 5 %).
        assert float(ds.v_v.sel(bus=bus)) == pytest.approx(v, rel=1e-12), bus
    np.testing.assert_allclose(ds.i_a.sel(line=["l1", "l2", "l3", "l4"]).values, [i_d, i_d, i_d, p_e / v_e],
                               rtol=1e-10)


@pytest.mark.parametrize("chain", [False, True])
def test_beyond_the_nose_reports_the_closed_form_maximum(chain):
    # P_max = V0² / (4 R) (textbook closed form); at it V = V0/2. Asked 1.5 P_max, the solver must
    # refuse and report a maximum in [P_max (1 − nose_tolerance), P_max]: the bisection converges from
    # below to its relative tolerance.
    v0 = 800.0
    lines = [("l1", "a", "b", 0.01)] + ([("l2", "b", "c", 0.02), ("l3", "c", "d", 0.01)] if chain else [])
    end = "d" if chain else "b"
    r_total = sum(x[3] for x in lines)
    p_max = v0**2 / (4 * r_total)
    case = case_of({b: v0 for b in ("abcd" if chain else "ab")}, lines, [("s", "a", v0, 0.0, 1e9)],
                   [("r", end, 1.5 * p_max)])
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(case)
    det = info.value.details
    tol = case.settings["solver"]["nose_tolerance"]
    assert p_max * (1 - tol) <= det["max_power_w"] <= p_max
    assert det["asked_power_w"] == pytest.approx(1.5 * p_max, rel=1e-15)
    # The line named is the one with the largest voltage drop on the path: the same current flows through
    # the whole chain, so that is the largest resistance, l2 (20 mΩ), or l1 alone.
    weakest = "l2" if chain else "l1"
    assert det["bus"] == end and det["feeder"] == weakest
    msg = str(info.value)
    assert f"'{end}'" in msg and f"'{weakest}'" in msg and f"{p_max / 1e6:.6g} MW" in msg


# --- meshed networks against the dense Newton reference --------------------------------------------

RING = dict(
    buses={f"n{i}": 800.0 for i in range(6)},
    lines=[(f"l{i}", f"n{i}", f"n{(i + 1) % 6}", 1e-3 * (1 + 0.4 * i)) for i in range(6)],
    racks=[(f"r{i}", f"n{i}", 2e5 + 5e4 * i) for i in (1, 2, 4, 5)],
)
THREE_RINGS = dict(
    # A tree 0-1-2-3-4 and 0-5-6-7-8-9 closed into three rings by 4-9, 2-7 and 1-6, plus a line parallel
    # to 0-1 (two circuits of one tree edge).
    buses={f"m{i}": 800.0 for i in range(10)},
    lines=[(f"t{a}{b}", f"m{a}", f"m{b}", 1e-3 * (1 + ((3 * a + b) % 5)))
           for a, b in ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (8, 9))]
          + [("k49", "m4", "m9", 2.5e-3), ("k27", "m2", "m7", 4e-3), ("k16", "m1", "m6", 3e-3),
             ("p01", "m0", "m1", 1.7e-3)],
    racks=[(f"r{i}", f"m{i}", 1e5 * (1 + i % 4)) for i in range(1, 10)],
)


@pytest.mark.parametrize("net, sources", [
    pytest.param(RING, [("s0", "n0", 800.0, 0.0, 2e6), ("s3", "n3", 800.0, 0.02, 2e6)], id="ring-stiff-droop"),
    pytest.param(RING, [("s0", "n0", 800.0, 0.03, 1e6), ("s3", "n3", 805.0, 0.02, 2e6)], id="ring-droop-only"),
    pytest.param(THREE_RINGS, [("sa", "m0", 800.0, 0.0, 3e6), ("sb", "m9", 801.0, 0.0, 3e6)],
                 id="three-rings-two-stiff"),
    pytest.param(THREE_RINGS, [("sa", "m0", 800.0, 0.0, 3e6), ("sb", "m9", 800.0, 0.0, 3e6),
                               ("sc", "m4", 800.0, 0.05, 1e6)], id="three-rings-two-stiff-one-droop"),
])
def test_meshed_against_dense_newton(net, sources):
    case = case_of(net["buses"], net["lines"], sources, net["racks"])
    ds = gw.solve(case)
    v_ref, jac = dense_newton(case)
    got = {b: float(ds.v_v.sel(bus=b)) for b in v_ref}
    # Both solve the same equations to convergence; the kernel stops at a mismatch of 1e-11 of the load
    # current, which moves V by far less than 1e-10 (|ΔV| ≤ |J⁻¹|·|F|, J of order the line conductances).
    # rel 1e-10 is the agreement asked of the kernel.
    for b in v_ref:
        assert got[b] == pytest.approx(v_ref[b], rel=1e-10), b
    # The Jacobian at the solution is positive definite (symmetric, diagonally dominant here): the
    # solution is the operating point on the stable side of the nose, the one the kernel must find.
    assert np.all(np.linalg.eigvalsh(jac) > 0)
    expected_p = source_powers(case, v_ref)
    for sid, p in expected_p.items():
        # rel 1e-8 of the largest source power: stiff outputs are current balances of a few-volt drops.
        assert float(ds.p_dc_w.sel(source=sid)) == pytest.approx(p, abs=1e-8 * max(expected_p.values())), sid


def test_two_stiff_sources_at_the_same_bus_and_set_point():
    # 'a' is held at 800 V by s1 (1 MW rated) and s2 (3 MW rated); a droop source s3 at the same bus with
    # a 805 V set-point delivers k (805 − 800), k = rated / (droop · v_set), whatever the load. The stiff
    # pair supplies the rest, shared 1 : 3 by rating. The load at 'c' sees the one-line closed form.
    v0, r1, r2, p = 800.0, 0.002, 0.003, 1.2e6
    case = case_of({"a": v0, "b": v0, "c": v0}, [("l1", "a", "b", r1), ("l2", "b", "c", r2)],
                   [("s1", "a", v0, 0.0, 1e6), ("s2", "a", v0, 0.0, 3e6), ("s3", "a", 805.0, 0.02, 1e6)],
                   [("rc", "c", p)])
    ds = gw.solve(case)
    v_c, _ = closed_form_v(v0, p, r1 + r2)
    assert float(ds.v_v.sel(bus="a")) == v0
    assert float(ds.v_v.sel(bus="c")) == pytest.approx(v_c, rel=1e-12)
    total = v0 * p / v_c  # V0 · I: the load plus the loss in both lines
    p3 = 1e6 / (0.02 * 805.0) * (805.0 - v0)
    p_dc = ds.p_dc_w.sel(source=["s1", "s2", "s3"]).values
    # rel 1e-10: the stiff share is the current balance V0·I, I known to 1e-11 of itself.
    np.testing.assert_allclose(p_dc, [(total - p3) / 4, 3 * (total - p3) / 4, p3], rtol=1e-10)


def test_two_stiff_sources_at_one_bus_with_different_set_points_is_an_input_error():
    # Two ideal voltage sources in parallel at different voltages have no solution: an input error naming
    # the second source, its set-point and what would be allowed.
    case = case_of({"a": 800.0, "b": 800.0}, [("l1", "a", "b", 0.01)],
                   [("s1", "a", 800.0, 0.0, 1e6), ("s2", "a", 790.0, 0.0, 1e6)], [("r", "b", 1e5)])
    with pytest.raises(gw.CaseError) as info:
        gw.solve(case)
    msg = str(info.value)
    assert "source 's2'" in msg and "v_set_v" in msg and "790" in msg and "800" in msg


def test_zones_one_after_another_equal_the_parallel_solve_bit_for_bit(monkeypatch):
    """Small levels run their zones serially (``newton_zones_serial``, a loaded machine makes waking threads
    cost more than the solve): each zone's arithmetic is the same, so every result is identical to the
    parallel solve's, to the last bit. The bundled
    case: 4 zones of 207 buses."""
    import xarray as xr

    from gigawatt.solver.dc import loadflow
    from gigawatt.solver.dc.assembly import assemble

    case = gw.load_case()
    assert assemble(case).zones.start.size == 4  # several zones: with no bus floor the parallel path is taken
    monkeypatch.setattr(loadflow, "PARALLEL_MIN_BUSES", 0)
    parallel = gw.solve(case)
    monkeypatch.setattr(loadflow, "PARALLEL_MIN_BUSES", 10**12)
    serial = gw.solve(case)
    xr.testing.assert_identical(parallel.drop_attrs(), serial.drop_attrs())
    for name, value in parallel.attrs.items():
        if isinstance(value, float) and not name.startswith("seconds"):
            assert serial.attrs[name] == value or (np.isnan(value) and np.isnan(serial.attrs[name])), name


def test_zones_without_threads_equal_the_parallel_solve_and_take_the_serial_kernel(monkeypatch):
    """``solve_dc(threads=False)`` (``gw.solve`` while its case-figures worker is busy) solves a large level's
    zones one after another: the serial kernel, and the same state to the last bit."""
    from gigawatt.solver.dc import loadflow
    from gigawatt.solver.dc.assembly import assemble
    from gigawatt.solver.dc.case_figures import CaseFigures

    case = gw.load_case()
    net, settings = assemble(case), case.settings["solver"]
    monkeypatch.setattr(loadflow, "PARALLEL_MIN_BUSES", 0)  # every level of several zones is "large"
    taken = []
    for name in ("newton_zones", "newton_zones_serial"):
        kernel = getattr(loadflow, name)
        monkeypatch.setattr(loadflow, name, lambda *a, _k=kernel, _n=name: (taken.append(_n), _k(*a))[1])
    parallel = loadflow.solve_dc(net, case, settings=settings)
    assert taken == ["newton_zones"]
    serial = loadflow.solve_dc(net, case, settings=settings, threads=False)
    assert taken == ["newton_zones", "newton_zones_serial"]
    for field in ("v", "p_load", "line_i", "feed_p", "feed_loss"):
        np.testing.assert_array_equal(getattr(serial, field), getattr(parallel, field), err_msg=field)
    assert (serial.iterations, serial.max_mismatch_a) == (parallel.iterations, parallel.max_mismatch_a)
    figures = CaseFigures(case, background=True)
    figures.get("result_inputs")  # the last item: the worker has ended (or skips what the caller took)
    figures._thread.join()
    assert not figures.busy() and not CaseFigures(case, background=False).busy()
