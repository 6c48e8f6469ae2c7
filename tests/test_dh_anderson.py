"""The flow fixed point's Anderson acceleration (``stage._Anderson``, normal equations by the kernels of
:mod:`gigawatt.solver.numerics.anderson`) against its previous implementation, kept here as the reference: the
history stacked anew each step and gamma from NumPy's tall least squares (``lstsq`` of dF against f). Both
only choose the next iterate; each solve stops at its own heat residual within ``HEAT_RTOL``, so on random
meshed networks (trees with loops, every consumer kind), cold and warm-started, the answers agree as two
paths to one fixed point do (the tolerances of ``test_a_cold_solve_and_a_warm_one_find_the_same_answer``)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_district_heating import DH_SETTINGS, dh_case, meshed_networks  # noqa: E402

from gigawatt.solver.district_heating import stage  # noqa: E402


class _TallAnderson:
    """The previous ``stage._Anderson``: the last depth + 1 iterates in lists, their differences stacked each
    step, gamma = lstsq(dF, f) (SVD)."""

    def __init__(self, depth, idx, scale):
        self.depth, self.idx, self.scale = depth, idx, scale[idx]
        self.x, self.f = [], []

    def step(self, m, g):
        x = m[self.idx] / self.scale
        f = g[self.idx] / self.scale - x
        self.x.append(x)
        self.f.append(f)
        if len(self.x) > self.depth + 1:
            self.x.pop(0)
            self.f.pop(0)
        out = g.copy()
        if len(self.x) >= 2:
            d_f = np.diff(np.array(self.f), axis=0).T
            d_x = np.diff(np.array(self.x), axis=0).T
            gamma = np.linalg.lstsq(d_f, f, rcond=None)[0]
            out[self.idx] = (x + f - (d_x + d_f) @ gamma) * self.scale
        return out


def _solves(case, outdoor_k):
    net = stage.prepare_district_heating(case)
    return [net.solve(None), net.solve(None, outdoor_t_k=outdoor_k + 3.0), net.solve(None, outdoor_t_k=outdoor_k)]


@DH_SETTINGS
@given(meshed_networks())
def test_normal_equations_anderson_finds_the_tall_least_squares_answer(network):
    pipes, consumers, dh = network
    case = dh_case(pipes, consumers, **dh)
    outdoor = case.settings["district_heating"]["outdoor_t_k"]
    new = _solves(case, outdoor)
    kept = stage._Anderson
    stage._Anderson = _TallAnderson
    try:
        old = _solves(case, outdoor)
    finally:
        stage._Anderson = kept
    for a, b in zip(new, old):  # cold, then two warm-started solves
        scale = np.maximum(b.consumer_demand_w, 1.0)
        assert np.all(np.abs(a.consumer_q_w - b.consumer_q_w) <= 4 * stage.HEAT_RTOL * scale)
        np.testing.assert_allclose(a.consumer_flow_kg_s, b.consumer_flow_kg_s, rtol=1e-8)
        np.testing.assert_allclose(a.node_t_k, b.node_t_k, rtol=1e-8)
        np.testing.assert_array_equal(a.consumer_undersupplied, b.consumer_undersupplied)
        assert abs(a.figures["dh_heat_balance_residual"]) <= 1e-9
