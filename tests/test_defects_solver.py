"""Solver defects found by independent references (issue 14), each checked against an independent answer.

- ±V with a floating neutral (``earthing = "one_per_zone"``): a station away from the earthed bus holds its
  poles against its own neutral, so its loss model is evaluated at the pole-to-neutral voltage, not the
  pole-to-earth one (hand solution of a three-bus case below).
- ``solver.max_iterations`` reached is not a voltage collapse: the error says the iteration limit was
  reached, with the mismatch, and suggests raising it; the nose bisection, when the load really is beyond
  the nose, runs under its own cap and finds the closed-form nose P_max = V0²/(4R).
"""
from __future__ import annotations

import math

import pytest

import gigawatt as gw
from gigawatt.validation.dc_checks import _feeder_case, max_transferable_power

V0 = 400.0
QUADRATIC = {"kind": "quadratic", "a_w": 1e3, "b_v": 2.0, "c_ohm": 1e-3}


def floating_neutral_case(r1, n1, r2, n2, p_m, p_b):
    """Bus A (stiff station sA, earthed: the zone's root) — line AM — bus M (a rack of ``p_m`` [W] between the
    positive pole and the neutral) — line MB — bus B (stiff station sB, neutral floating; a rack of ``p_b`` [W]
    pole to pole). Lines given by their pole loop resistance ``r`` and neutral resistance ``n`` [Ω]."""
    return gw.make_case({
        "bus": [{"id": b, "v_nominal_v": V0} for b in ("A", "M", "B")],
        "line": [{"id": "AM", "from_bus": "A", "to_bus": "M", "length_m": 10.0, "r_ohm": r1, "neutral_r_ohm": n1},
                 {"id": "MB", "from_bus": "M", "to_bus": "B", "length_m": 10.0, "r_ohm": r2, "neutral_r_ohm": n2}],
        "source": [{"id": "sA", "bus": "A", "v_set_v": V0, "rated_power_w": 20e6, "loss_model": "q"},
                   {"id": "sB", "bus": "B", "v_set_v": V0, "rated_power_w": 20e6, "loss_model": "q"}],
        "rack": [{"id": "rM", "bus": "M", "p_it_w": p_m, "vrm_efficiency": 1.0, "pole": "positive"},
                 {"id": "rB", "bus": "B", "p_it_w": p_b, "vrm_efficiency": 1.0, "pole": "bipolar"}]},
        loss_models={"q": QUADRATIC}, dc={"system": "bipolar", "earthing": "one_per_zone"}, case={"name": "float"})


def floating_neutral_hand_solution(r1, n1, r2, n2, p_m, p_b):
    r"""Closed form of :func:`floating_neutral_case`, from Kirchhoff's laws alone.

    With g = 2/r (one pole conductor is r/2) and h = 1/n per line, a = V+ and m = Vn at M, c = V− at M and x the
    floating neutral at B (its poles at x ± V0), the rack current I = P/(a − m) and k = g1·g2/(g1 + g2):
    no rack draws from M's negative node, so KCL there gives c = g2·x/(g1 + g2) − V0; KCL at M's positive and
    neutral nodes and at B's supernode (the three conductors, no earth) are linear in (a, m, x) for a given I:
    a = V0 + αI, m = βI, x = γI with

        γ = (g1/(g1+g2) − h1/(h1+h2)) / (2k + h1·h2/(h1+h2)),
        α = (g2·γ − 1)/(g1+g2),  β = (1 + h2·γ)/(h1+h2),

    so the rack's voltage is u = V0 − ρI (ρ = β − α > 0) and I·u = P gives I = (V0 − √(V0² − 4ρP))/(2ρ)
    (the upper branch). Pole powers: sA's positive V0·g1·(V0 − a), negative V0·k·x; sB's positive
    V0·g2·(x + V0 − a) + P_B/2, negative −V0·k·x + P_B/2. Every stiff pole is held at V0 against its own
    neutral, so each pole's loss is a + b|P/V0| + c(P/V0)²."""
    g1, g2, h1, h2 = 2.0 / r1, 2.0 / r2, 1.0 / n1, 1.0 / n2
    k = g1 * g2 / (g1 + g2)
    gamma = (g1 / (g1 + g2) - h1 / (h1 + h2)) / (2.0 * k + h1 * h2 / (h1 + h2))
    alpha = (g2 * gamma - 1.0) / (g1 + g2)
    beta = (1.0 + h2 * gamma) / (h1 + h2)
    rho = beta - alpha
    i = (V0 - math.sqrt(V0 * V0 - 4.0 * rho * p_m)) / (2.0 * rho)
    a, m, x = V0 + alpha * i, beta * i, gamma * i
    p = {("sA", "pos"): V0 * g1 * (V0 - a), ("sA", "neg"): V0 * k * x,
         ("sB", "pos"): V0 * g2 * (x + V0 - a) + 0.5 * p_b, ("sB", "neg"): -V0 * k * x + 0.5 * p_b}

    def loss(pw):
        cur = abs(pw) / V0
        return QUADRATIC["a_w"] + QUADRATIC["b_v"] * cur + QUADRATIC["c_ohm"] * cur * cur
    return {"v_neutral_b_v": x, "v_pos_m_v": a, "v_neutral_m_v": m, "p": p,
            "loss": {key: loss(v) for key, v in p.items()}}


@pytest.mark.parametrize("lines", [(0.004, 0.010, 0.004, 0.002), (0.004, 0.002, 0.006, 0.012)])
def test_floating_neutral_station_losses_at_pole_to_neutral_voltage(lines):
    """A station whose neutral floats (not the earthed one) loses what its loss model gives at its own
    pole-to-neutral voltage, V0: against the hand solution to 1e-9 relative (a Newton solve converged to
    1e-11 of the load current; the loss is smooth in it). Before the fix, sB's losses were evaluated at
    x + V0 and V0 − x (x: its neutral against earth, a few volts here): about 1 % off."""
    p_m, p_b = 2e6, 1e6
    ref = floating_neutral_hand_solution(*lines, p_m, p_b)
    assert abs(ref["v_neutral_b_v"]) > 1.0  # the neutral of sB does float away from earth
    ds = gw.solve(floating_neutral_case(*lines, p_m, p_b))
    assert float(ds["v_neutral_v"].sel(bus="B")) == pytest.approx(ref["v_neutral_b_v"], rel=1e-9)
    assert float(ds["v_pos_v"].sel(bus="M")) == pytest.approx(ref["v_pos_m_v"], rel=1e-12)
    for (src, pole), p in ref["p"].items():
        assert float(ds[f"p_dc_{pole}_w"].sel(source=src)) == pytest.approx(p, rel=1e-9, abs=1e-3)
        assert float(ds[f"source_loss_{pole}_w"].sel(source=src)) == pytest.approx(ref["loss"][src, pole], rel=1e-9)
    assert ds.attrs["energy_balance_residual"] <= 1e-12


# --- the iteration limit is not the nose --------------------------------------------------------------------

FEEDER_V0, FEEDER_R = 800.0, 0.05  # P_max = V0²/(4R) = 3.2 MW


def feeder(load_of_p_max, max_iterations, system="monopolar"):
    p_max = max_transferable_power(FEEDER_V0, FEEDER_R)
    case = _feeder_case(FEEDER_V0, FEEDER_R, load_of_p_max * p_max, 100.0, name="feeder",
                        solver={"max_iterations": max_iterations})
    if system == "bipolar":  # the same line as a bipolar feeder: the rack pole to pole, at ±V0/2
        t = case.tables
        racks = t["rack"].assign(pole="bipolar")
        buses = t["bus"].assign(v_nominal_v=0.5 * FEEDER_V0)
        src = t["source"].assign(v_set_v=0.5 * FEEDER_V0)
        case = gw.make_case({**{k: v for k, v in t.items() if len(v)}, "rack": racks, "bus": buses, "source": src},
                            dc={"system": "bipolar"}, solver={"max_iterations": max_iterations},
                            case={"name": "feeder"})
    return case, p_max


@pytest.mark.parametrize("system", ["monopolar", "bipolar"])
@pytest.mark.parametrize("load, max_iterations", [(0.9, 2), (0.9, 3), (0.99, 5)])
def test_iteration_limit_is_reported_as_such(system, load, max_iterations):
    """A load below the nose (it solves with the default 30 iterations) under too small an iteration cap: a
    ConvergenceError that says the limit was reached, gives the mismatch and how many iterations it needs, and
    suggests raising solver.max_iterations, never a maximum transferable power."""
    case, _ = feeder(load, 30, system)
    gw.solve(case)  # solvable
    case, _ = feeder(load, max_iterations, system)
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(case)
    text, d = str(info.value), info.value.details
    assert "iteration limit" in text and "solver.max_iterations" in text and f"{max_iterations} iteration" in text
    assert "carries at most" not in text and "nose" not in text and "max_power_w" not in d
    assert d["reason"] == "iteration_limit" and d["max_iterations"] == max_iterations
    assert d["mismatch_a"] > 0 and f"{d['mismatch_a']:.3g} A" in text
    assert max_iterations < d["iterations_needed"] <= 30
    assert f"at least {d['iterations_needed']}" in text


@pytest.mark.parametrize("system", ["monopolar", "bipolar"])
@pytest.mark.parametrize("max_iterations", [3, 30])
def test_nose_bisection_has_its_own_iteration_cap(system, max_iterations):
    """Beyond the nose (1.2 P_max) with a small iteration cap: still the nose, and the maximum transferable power
    the closed form's P_max = V0²/(4R) to the nose tolerance (1e-6, from below; analytic_nose.toml)."""
    case, p_max = feeder(1.2, max_iterations, system)
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(case)
    d = info.value.details
    assert "carries at most" in str(info.value)
    assert d["max_power_w"] == pytest.approx(p_max, rel=1e-6) and d["max_power_w"] <= p_max * (1 + 1e-10)


def grid_case(max_iterations=30):
    """An 800 V station with its rack, on a 33 kV bus fed from a 110 kV grid through a transformer and 3 km of
    cable."""
    return gw.make_case({
        "bus": [{"id": "s", "v_nominal_v": 800.0}, {"id": "r", "v_nominal_v": 800.0}],
        "line": [{"id": "d", "from_bus": "s", "to_bus": "r", "length_m": 10.0, "r_ohm": 1e-4}],
        "source": [{"id": "st", "bus": "s", "v_set_v": 800.0, "rated_power_w": 5e6, "ac_bus": "b1",
                    "power_factor": 0.95}],
        "rack": [{"id": "rack", "bus": "r", "p_it_w": 3e6, "vrm_efficiency": 1.0}],
        "ac_bus": [{"id": "hv", "v_nominal_v": 110e3}, {"id": "b0", "v_nominal_v": 33e3},
                   {"id": "b1", "v_nominal_v": 33e3}],
        "ac_line": [{"id": "c", "from_bus": "b0", "to_bus": "b1", "length_m": 3000.0, "r_ohm_per_m": 1e-4,
                     "x_ohm_per_m": 1e-4, "c_f_per_m": 3e-10, "max_i_a": 500.0}],
        "ac_trafo": [{"id": "t", "hv_bus": "hv", "lv_bus": "b0", "rated_power_va": 40e6, "v_rated_hv_v": 110e3,
                      "v_rated_lv_v": 33e3, "vk_percent": 12.0, "vkr_percent": 0.4}],
        "ac_supply": [{"id": "sub", "bus": "hv", "kind": "ext_grid"}]},
        solver={"max_iterations": max_iterations}, case={"name": "grid"})


def test_ac_iteration_limit_is_reported_as_such():
    """The AC grid (pandapower's Newton–Raphson) under a cap of 2 iterations, where it needs more: the iteration
    limit, not "the network data is at fault" from a bisection run under the same cap."""
    gw.solve(grid_case())  # solvable with the default 30
    with pytest.raises(gw.ConvergenceError) as info:
        gw.solve(grid_case(2))
    text, d = str(info.value), info.value.details
    assert "AC load flow" in text and "iteration limit" in text and "solver.max_iterations" in text
    assert "does not converge" not in text and d["reason"] == "iteration_limit"
    assert d["mismatch_mva"] > 0 and 2 < d["iterations_needed"] <= 30
