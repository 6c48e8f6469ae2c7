"""The exact steady solution of a twin pipe carrying water (:func:`gigawatt.models.twin_pipe_pair.twin_pipe_pair`)
and the transport-delay parcels under changing surroundings
(:meth:`gigawatt.solver.district_heating.dynamics.DynamicThermalNetwork.set_surroundings`), each checked against
something they do not compute:

- no ground loss: the effectiveness of a counter-flow and of a parallel-flow heat exchanger (Incropera et al.,
  Fundamentals of Heat and Mass Transfer, 7th ed., 2011, Table 11.3, eqs. 11.29a and 11.28a; and the balanced
  counter-flow limit NTU / (1 + NTU), eq. 11.29b), written out here;
- with ground loss: the boundary-value problem solved here another way, by the matrix exponential of the
  linear system (``scipy.linalg.expm``; the heat flows from the integral of the exponential, Van Loan's block
  form), counter-flow (the two-point problem: pipe 2's inlet at x = L) and parallel flow;
- no exchange: two single pipes, Incropera eq. 8.46a; a partner whose water stands: the limit of a vanishing
  flow;
- the first law of each pipe (capacity rate times the temperature drop = its ground loss ± the exchange) to
  round-off, and no overflow for a pipe a thousand decay lengths long;
- a water parcel in standing water under a ground temperature that changes every step: the first-order lag
  with a piecewise-constant ambient, T_{k+1} = T_a,k + (T_k - T_a,k) exp(-k dt), written out here; and a
  non-uniform pipe keeps its heat content exactly when its ambient changes.

Every test runs with numba and, through ``tests/test_without_jit.py``, as plain Python. Tolerances: the
closed forms are evaluated in double precision; the solution's round-off, amplified by the 2 x 2 solve (its
condition below 10 here), is below 1e-12 of the inlet excess; the matrix exponential is good to about 1e-14
relative at these norms: 1e-9 K is held throughout (the brief's figure), with margin.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from gigawatt.models.twin_pipe_pair import twin_pipe_pair
from gigawatt.solver.district_heating.dynamics import DynamicThermalNetwork

T_K = 1e-9  # temperatures [K]


@pytest.mark.parametrize("ntu, cr", [(0.3, 0.2), (1.0, 0.5), (2.5, 0.8), (4.0, 0.99)])
def test_counter_flow_without_ground_is_the_heat_exchanger_effectiveness(ntu, cr):
    # Incropera eq. 11.29a: eps = (1 - exp(-NTU (1 - Cr))) / (1 - Cr exp(-NTU (1 - Cr))); the colder water (C_min,
    # pipe 2) warms by eps (T1_in - T2_in), the warmer cools by Cr eps (T1_in - T2_in).
    c_min, dt = 1000.0, 55.0
    c1 = c_min / cr
    u_x, length = ntu * c_min / 200.0, 200.0
    out1, out2, qg1, qg2, qx = twin_pipe_pair(dt, 0.0, c1, c_min, True, 0.0, u_x, length)
    z = math.exp(-ntu * (1 - cr))
    eps = (1 - z) / (1 - cr * z)
    assert out2 == pytest.approx(eps * dt, abs=T_K)
    assert out1 == pytest.approx(dt - cr * eps * dt, abs=T_K)
    assert qx == pytest.approx(eps * c_min * dt, rel=1e-12)
    assert qg1 == 0.0 and qg2 == 0.0


@pytest.mark.parametrize("ntu", [0.5, 1.0, 3.0])
def test_balanced_counter_flow_without_ground_is_its_linear_limit(ntu):
    # Incropera eq. 11.29b (Cr = 1): eps = NTU / (1 + NTU); the double eigenvalue 0 of the system
    out1, out2, _, _, qx = twin_pipe_pair(40.0, 0.0, 2000.0, 2000.0, True, 0.0, ntu * 2000.0 / 50.0, 50.0)
    assert out2 == pytest.approx(40.0 * ntu / (1 + ntu), abs=T_K)
    assert qx == pytest.approx(2000.0 * out2, rel=1e-12)


@pytest.mark.parametrize("ntu, cr", [(0.4, 0.3), (1.5, 1.0), (3.0, 0.7)])
def test_parallel_flow_without_ground_is_the_heat_exchanger_effectiveness(ntu, cr):
    # Incropera eq. 11.28a: eps = (1 - exp(-NTU (1 + Cr))) / (1 + Cr)
    c_min, dt = 800.0, 30.0
    out1, out2, _, _, qx = twin_pipe_pair(dt, 0.0, c_min / cr, c_min, False, 0.0, ntu * c_min / 100.0, 100.0)
    eps = -math.expm1(-ntu * (1 + cr)) / (1 + cr)
    assert out2 == pytest.approx(eps * dt, abs=T_K)
    assert out1 == pytest.approx(dt - cr * eps * dt, abs=T_K)


PAIRS = [  # theta1_in, theta2_in [K], c1, c2 [W/K], u_g, u_x [W/(m K)], length [m]: DN100-DN25 pairs at design
    # and part load (U'_g, U'_x from twin_pipe_conductances for PUR 0.027 in soil 1.5: 0.17-0.26, 0.02-0.06)
    (65.0, 30.0, 15000.0, 15000.0, 0.26, 0.055, 800.0),
    (65.0, 30.0, 1500.0, 1400.0, 0.26, 0.055, 800.0),
    (60.0, 25.0, 300.0, 600.0, 0.17, 0.021, 2500.0),
    (-5.0, 12.0, 4000.0, 900.0, 0.2, 0.04, 1200.0),   # a pipe colder than the ground
]


@pytest.mark.parametrize("counter", [True, False])
@pytest.mark.parametrize("pair", PAIRS)
def test_with_ground_against_the_matrix_exponential(pair, counter, twin_pair_reference):
    got = twin_pipe_pair(*pair[:4], counter, *pair[4:])
    ref = twin_pair_reference(*pair[:4], counter, *pair[4:])
    assert got[0] == pytest.approx(ref[0], abs=T_K)
    assert got[1] == pytest.approx(ref[1], abs=T_K)
    scale = pair[2] * abs(pair[0]) + pair[3] * abs(pair[1])
    for g, r in zip(got[2:], ref[2:]):
        assert g == pytest.approx(r, abs=1e-12 * scale)
    # the first law of each pipe, to round-off
    t1, t2, c1, c2 = pair[:4]
    assert c1 * (t1 - got[0]) == pytest.approx(got[2] + got[4], abs=1e-12 * scale)
    assert c2 * (t2 - got[1]) == pytest.approx(got[3] - got[4], abs=1e-12 * scale)


def test_swapping_the_pipes_swaps_the_answer():
    a = twin_pipe_pair(65.0, 30.0, 1500.0, 1400.0, True, 0.26, 0.055, 800.0)
    b = twin_pipe_pair(30.0, 65.0, 1400.0, 1500.0, True, 0.26, 0.055, 800.0)
    assert (a[0], a[1], a[2], a[3], a[4]) == pytest.approx((b[1], b[0], b[3], b[2], -b[4]), rel=1e-13, abs=1e-13)


def test_without_exchange_two_single_pipes():
    # Incropera eq. 8.46a for each pipe
    out1, out2, qg1, qg2, qx = twin_pipe_pair(50.0, 20.0, 2000.0, 1000.0, True, 0.3, 0.0, 700.0)
    assert out1 == pytest.approx(50.0 * math.exp(-0.3 * 700 / 2000), abs=T_K)
    assert out2 == pytest.approx(20.0 * math.exp(-0.3 * 700 / 1000), abs=T_K)
    assert qg1 == pytest.approx(2000 * (50 - out1), rel=1e-13) and qx == 0.0


def test_standing_partner_is_the_limit_of_a_vanishing_flow():
    still = twin_pipe_pair(60.0, 10.0, 3000.0, 0.0, True, 0.25, 0.05, 900.0)
    slow = twin_pipe_pair(60.0, 10.0, 3000.0, 1e-7, True, 0.25, 0.05, 900.0)
    assert still[0] == pytest.approx(slow[0], abs=1e-6)
    assert still[4] == pytest.approx(slow[4], rel=1e-6)
    assert still[3] == pytest.approx(still[4], rel=1e-14)  # what it takes in, it gives the ground
    # its steady local temperature U'_x theta_1 / (U'_g + U'_x): the flowing pipe loses through
    # U'_g + U'_g U'_x / (U'_g + U'_x)
    u_eff = 0.25 + 0.25 * 0.05 / 0.3
    assert still[0] == pytest.approx(60.0 * math.exp(-u_eff * 900 / 3000), abs=T_K)


def test_a_very_long_pair_does_not_overflow():
    for counter in (True, False):
        out = twin_pipe_pair(60.0, 20.0, 200.0, 150.0, counter, 0.3, 0.05, 1e6)
        assert all(math.isfinite(x) for x in out)
        # all the heat the water brings in and does not carry out goes to the ground
        assert out[2] + out[3] == pytest.approx(200 * (60 - out[0]) + 150 * (20 - out[1]), rel=1e-12)
        if not counter:  # both at the ground temperature at the far end
            assert abs(out[0]) < 1e-12 and abs(out[1]) < 1e-12


# --- parcels under changing surroundings ------------------------------------------------------------

def one_pipe(u=0.3, length=500.0, area=0.009):
    """A supply node, a pipe and an outlet node whose water is held at its temperature (junction)."""
    return DynamicThermalNetwork(["supply", "junction"], [0], [1], u, length, area, 283.15, 980.0, 4180.0)


def test_standing_water_follows_a_changing_ground_exactly():
    net = one_pipe()
    net.fill_uniform(340.0)
    k = net.k_per_s[0]
    dt = 3600.0
    t_water = 340.0
    grounds = 283.15 + 6.0 * np.sin(np.arange(24) / 4.0)
    for t_g in grounds:
        net.set_surroundings([0], [k], [t_g])
        r = net.step([350.0, 0.0], [0.0], [0.0, 0.0], dt)
        t_water = t_g + (t_water - t_g) * math.exp(-k * dt)
        stored = net.stored_j()[0]
        mean_t = net.t_ref_k + stored / (net.cp * net.w_kg[0])
        assert mean_t == pytest.approx(t_water, abs=T_K)
        assert r.ledger["residual_j"] == pytest.approx(0.0, abs=1e-9 * abs(r.ledger["loss_j"]) + 1e-6)
    assert net.energy_balance_residual() < 1e-12


def test_new_surroundings_keep_the_water_s_heat():
    net = one_pipe()
    net.fill_steady([360.0, np.nan], [2.0])
    for _ in range(3):  # parcels of different ages and gradients
        net.step([360.0 - 7 * _, 0.0], [2.0], [2.0, -2.0], 1800.0)
    before = net.stored_j().copy()
    net.set_surroundings([0], [2 * net.k_per_s[0]], [291.0])
    assert net.stored_j()[0] == pytest.approx(before[0], rel=1e-15)
    net.step([350.0, 0.0], [2.0], [2.0, -2.0], 1800.0)
    assert net.energy_balance_residual() < 1e-13
