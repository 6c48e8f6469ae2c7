"""Energy stores, their control laws and the fine-step training load (gigawatt.models.energy_storage,
gigawatt.models.training_load): each against an independent closed form or numerical solution."""
import math

import numpy as np
import pytest

from gigawatt.models.energy_storage import (KIND_BATTERY, KIND_CAPACITOR, LAW_BAND, LAW_LOW_PASS, LAW_PEAK,
                                            LAW_RAMP, battery_round_trip_efficiency, capacitor_energy_j,
                                            cell_current_a, equivalent_full_cycles, first_order_square_response,
                                            internal_power_w, run_store, store_step, terminal_power_w)
from gigawatt.models.training_load import training_swing


def _run(load, dt, kind=KIND_BATTERY, law=LAW_LOW_PASS, par0=0.1, par1=0.0, p_max=1e12, e_rated=1e15, window=(0, 1),
         soc0=0.5, recovery=0.0, v=800.0, c=0.0, r=1e-6, eta=1.0, no_export=False):
    out = [np.empty(load.size) for _ in range(4)]
    run_store(np.asarray(load, float), dt, kind, law, par0, par1, p_max, e_rated, window[0], window[1], 0.5, soc0,
              recovery, v, c, r, eta, no_export, *out)
    return out


def test_capacitor_energy_is_half_c_v_squared_between_its_voltages():
    # 1 F from 60 V to 30 V: ½·1·(3600 − 900) = 1350 J
    assert capacitor_energy_j(1.0, 60.0, 30.0) == 1350.0


def test_cell_current_solves_the_circuit_both_ways():
    for p in (5e5, -5e5):
        i = cell_current_a(p, 800.0, 0.05)
        assert abs(800.0 * i - 0.05 * i * i - p) <= 1e-9 * abs(p)
        roots = np.roots([0.05, -800.0, p])
        assert i == pytest.approx(roots[np.argmin(np.abs(roots))].real, rel=1e-12)


def test_terminal_and_internal_power_invert_each_other():
    for p in (1e6, -1e6, 0.0):
        assert terminal_power_w(internal_power_w(p, 800.0, 0.02, 0.97), 800.0, 0.02, 0.97) == pytest.approx(p,
                                                                                                          abs=1e-6)


def test_battery_round_trip_efficiency_matches_one_charge_and_one_discharge_step():
    # energy out / energy in for the same energy moved = |p_int(charge)| / p_int(discharge)
    p, v, r, eta = 2e6, 800.0, 0.01, 0.97
    expected = -internal_power_w(-p, v, r, eta) / internal_power_w(p, v, r, eta)
    assert battery_round_trip_efficiency(p, v, r, eta) == pytest.approx(expected, rel=1e-14)
    # lossless limit: r → 0 leaves the converter's η² alone
    assert battery_round_trip_efficiency(p, v, 1e-12, eta) == pytest.approx(eta ** 2, rel=1e-9)


@pytest.mark.parametrize("kind", [KIND_BATTERY, KIND_CAPACITOR])
def test_store_ledger_closes_over_a_random_cycle(kind):
    rng = np.random.default_rng(3)
    c = 50.0 if kind == KIND_CAPACITOR else 0.0
    e_rated = 0.5 * c * 800.0 ** 2 if kind == KIND_CAPACITOR else 3.6e8
    e = 0.5 * e_rated
    charged = returned = losses = 0.0
    e0 = e
    for want in rng.uniform(-2e6, 2e6, 2000):
        p, e_new, loss = store_step(kind, e, want, 0.1, 1.5e6, 0.1 * e_rated, 0.9 * e_rated, 800.0, c, 0.01, 0.97)
        assert loss >= 0 and 0.1 * e_rated * (1 - 1e-12) <= e_new <= 0.9 * e_rated * (1 + 1e-12)
        assert abs(p) <= 1.5e6
        charged += max(-p, 0.0) * 0.1
        returned += max(p, 0.0) * 0.1
        losses += loss * 0.1
        e = e_new
    # charge in = discharge out + losses + ΔE, to round-off
    assert abs(charged - returned - losses - (e - e0)) <= 1e-12 * (charged + returned)


def test_first_order_square_response_against_the_ode_solved_numerically():
    from scipy.integrate import solve_ivp

    tau, high, low, period, duty = 0.7, 100.0, 40.0, 2.0, 0.7
    u = lambda t: high if (t % period) < duty * period else low  # noqa: E731
    t_eval = np.linspace(0, 9.9, 200)
    sol = solve_ivp(lambda t, y: (u(t) - y) / tau, (0, 10), [55.0], t_eval=t_eval, rtol=1e-11, atol=1e-11,
                    max_step=0.01)
    assert np.allclose(first_order_square_response(t_eval, tau, high, low, period, duty, 55.0), sol.y[0],
                       rtol=0, atol=1e-6)


def test_low_pass_law_is_the_first_order_lag_at_every_step():
    dt, period, duty, tau = 0.01, 2.0, 0.7, 1 / (2 * math.pi * 0.1)
    k = np.arange(3000)
    load = np.where(k % 200 < 140, 1e8, 4e7)
    p, *_ = _run(load, dt, par0=0.1)
    exact = first_order_square_response((k + 1) * dt, tau, 1e8, 4e7, period, duty, 1e8)
    assert np.max(np.abs(load - p - exact)) <= 1e-14 * 1e8 * 100


def test_ramp_law_limits_the_draw_and_peak_law_caps_it():
    dt = 0.01
    load = np.where(np.arange(2000) % 400 < 200, 1e8, 2e7)
    p, *_ = _run(load, dt, law=LAW_RAMP, par0=5e6)
    draw = load - p
    assert np.max(np.abs(np.diff(draw))) <= 5e6 * dt * (1 + 1e-12)
    p, *_ = _run(load, dt, law=LAW_PEAK, par0=7e7)
    assert np.max(load - p) == pytest.approx(7e7, rel=1e-15)


def test_band_law_is_the_difference_of_two_first_order_filters_in_frequency():
    # The store takes LP_hi(L) − LP_lo(L), each LP the discrete filter y_k = y_{k−1} + a(L_k − y_{k−1}),
    # H(z) = a / (1 − (1 − a) z⁻¹). For sines at 0.01 Hz (below the band 0.2–5 Hz) and 1 Hz (inside it) the
    # store's steady-state power is Re{H_band(e^{jωΔt}) · the sine's phasor}: exact once the start has decayed.
    dt, t = 0.01, np.arange(60000) * 0.01
    lo, hi = 0.2, 5.0

    def h(f, fc):
        a = -math.expm1(-dt * 2 * math.pi * fc)
        return a / (1 - (1 - a) * np.exp(-1j * 2 * math.pi * f * dt))

    expected = np.zeros(t.size)
    for f in (0.01, 1.0):
        expected += 1e7 * np.imag((h(f, hi) - h(f, lo)) * np.exp(1j * 2 * math.pi * f * t))
    load = 5e7 + 1e7 * np.sin(2 * np.pi * 0.01 * t) + 1e7 * np.sin(2 * np.pi * 1.0 * t)
    p, *_ = _run(load, dt, law=LAW_BAND, par0=lo, par1=hi)
    late = t > 300  # the slow filter's start (τ = 0.8 s) has decayed by e^(−375)
    assert np.max(np.abs(p[late] - expected[late])) <= 1e-6 * 1e7
    # inside the band the store takes 92 % of the swing; below it, 5 %
    assert abs(h(1.0, hi) - h(1.0, lo)) > 0.9 and abs(h(0.01, hi) - h(0.01, lo)) < 0.06


def test_store_that_runs_empty_is_short_not_an_error():
    load = np.full(1000, 1e6)
    p, e, loss, want = _run(load, 1.0, law=LAW_PEAK, par0=0.0, p_max=2e6, e_rated=1e8, window=(0.1, 0.9), soc0=0.5,
                            no_export=True)
    assert np.all(e >= 0.1e8 * (1 - 1e-12))
    short = np.abs(want - p) > 1.0
    assert short.any() and not short[:10].any()


def test_equivalent_full_cycles_by_rainflow_and_by_throughput_agree_on_a_sine():
    t = np.linspace(0, 10, 10001)
    soc = 0.5 + 0.4 * np.sin(2 * np.pi * t)  # ten cycles of range 0.8
    assert equivalent_full_cycles(soc) == pytest.approx(8.0, abs=0.41)  # ± one half cycle at the ends
    throughput = np.abs(np.diff(soc)).sum() / 2
    assert equivalent_full_cycles(soc) == pytest.approx(throughput, rel=0.05)


def test_training_swing_mean_over_iterations_and_checkpoints():
    dt = 0.01
    t = np.arange(0, 600, dt)
    x = training_swing(t, period_s=2.0, duty=0.7, high=1.0, depth=0.6, checkpoint_every_s=100, checkpoint_s=10,
                       checkpoint_level=0.2, start_s=0, ramp_s=0)
    # per 100 s: 90 s of swings (mean 0.7·1 + 0.3·0.4 = 0.82) and 10 s at 0.2
    assert x.mean() == pytest.approx((90 * 0.82 + 10 * 0.2) / 100, rel=1e-12)
    assert set(np.round(np.unique(x), 12)) == {0.2, 0.4, 1.0}


def test_training_swing_ramps_at_start_and_stop():
    t = np.arange(0, 100, 0.5)
    x = training_swing(t, period_s=1.0, duty=1.0, high=1.0, depth=0.0, start_s=10, stop_s=80, ramp_s=10, idle=0.1)
    assert x[t < 10].max() == 0.1 and x[(t >= 20) & (t < 80)].min() == 1.0 and x[t >= 90].max() == 0.1
    assert x[t == 15][0] == pytest.approx(0.55)
