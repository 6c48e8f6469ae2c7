"""Tests of the repeated-inputs shortcut of the cooling stage's per-element kernels
(:mod:`gigawatt.solver.cooling.repeats`): each element's first twin against a plain dictionary of the rows'
bytes (hypothesis, rows drawn from a small pool so that they repeat, with NaN, both zeros and infinities), and
the chip and CDU kernels with the shortcut against the same kernels solving every element (``first`` the
rows of distinct bits): equal to the last bit, since a repeat takes the answer of the same function of the same inputs.
Runs jitted here and as plain Python (``NUMBA_DISABLE_JIT=1``, listed in ``tests/test_without_jit.py``).
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from gigawatt.models.chips import LEAKAGE_MODELS
from gigawatt.solver.cooling import stage
from gigawatt.solver.cooling.repeats import first_same_row, input_bits

def EVERY_ONE(n):
    """Bits that differ from row to row: the kernels then solve every element."""
    return np.arange(n, dtype=np.int64)[:, None]


POOL = [0.0, -0.0, 1.0, 1.0 + 2.0 ** -52, -3.5, np.nan, np.inf, -np.inf, 1e300, 5e-324]


def reference_first(bits: np.ndarray) -> np.ndarray:
    seen, out = {}, np.empty(len(bits), dtype=np.int64)
    for i, row in enumerate(bits):
        out[i] = seen.setdefault(row.tobytes(), i)
    return out


@settings(max_examples=60, deadline=None)
@given(hs.integers(1, 4).flatmap(lambda k: hs.lists(hs.lists(hs.sampled_from(POOL), min_size=k, max_size=k),
                                                     min_size=0, max_size=60)))
def test_first_same_row_matches_a_dictionary_of_row_bytes(rows):
    k = len(rows[0]) if rows else 2
    bits = input_bits(*np.array(rows, dtype=float).reshape(len(rows), k).T) if rows else np.empty((0, k), np.int64)
    first = first_same_row(bits)
    assert np.array_equal(first, reference_first(bits))
    assert np.all(first <= np.arange(len(rows)))


def test_first_same_row_tells_the_two_zeros_and_nan_payloads_apart():
    rows = np.array([0.0, -0.0, 0.0, np.nan, -np.nan, np.nan])
    assert first_same_row(input_bits(rows)).tolist() == [0, 1, 0, 3, 4, 3]


def _chip_inputs(rng, n):
    units = rng.integers(0, 5, n)  # five distinct units, repeated
    a = (300.0 + rng.uniform(0, 20, 5))[units]
    b = rng.uniform(1e-5, 5e-5, 5)[units]
    p = rng.uniform(500.0, 1500.0, 5)[units]
    return a, b, 0.8 * p, 0.2 * p


def test_chip_kernel_with_repeats_equals_solving_every_unit():
    rng = np.random.default_rng(7)
    a, b, p_dyn, p_leak = _chip_inputs(rng, 200)
    p_dyn[17] = np.nextafter(p_dyn[17], np.inf)  # one ulp off its twins: solved on its own
    bits = input_bits(a, b, p_dyn, p_leak)
    twins = first_same_row(bits)
    assert twins[17] == 17 and np.unique(twins).size == 6
    out = []
    for rows in (bits, EVERY_ONE(a.size)):
        t, p, status = np.empty(a.size), np.empty(a.size), np.empty(a.size, dtype=np.int64)
        stage._chip_points(a, b, p_dyn, p_leak, LEAKAGE_MODELS["exponential"], 0.02, 333.15, t, p, status, rows)
        out.append((t, p, status))
    for got, want in zip(*out):
        assert np.array_equal(got, want)


def test_cdu_kernel_with_repeats_equals_solving_every_cdu():
    rng = np.random.default_rng(11)
    kind = rng.integers(0, 4, 100)
    t_ret = (318.0 + rng.uniform(0, 6, 4))[kind]
    c_hot = rng.uniform(5e4, 1e5, 4)[kind]
    ua = rng.uniform(2e5, 4e5, 4)[kind]
    c_max = 2.0 * c_hot
    t_ret[3] = 300.0  # below the set-point: no duty
    bits = input_bits(t_ret, c_hot, ua, c_max)
    assert np.unique(first_same_row(bits)).size == 5  # four kinds and the one below its set-point
    out = []
    for rows in (bits, EVERY_ONE(kind.size)):
        c, status, q_max = np.empty(kind.size), np.empty(kind.size, dtype=np.int64), np.empty(kind.size)
        stage._cdu_capacities(t_ret, 313.15, c_hot, 305.15, ua, c_max, c, status, q_max, rows)
        out.append((c, status, q_max))
    for got, want in zip(*out):
        assert np.array_equal(got, want, equal_nan=True)
