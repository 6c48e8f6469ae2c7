"""gw.solve from several Python threads at once: Numba's default threading layer aborts the process when two
threads enter parallel kernels together, so the solver serialises them. Each thread must get the same answer
as a solve alone (no shared state between solves)."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import gigawatt as gw


def test_concurrent_solves_from_threads_agree_with_a_single_solve():
    case = gw.build_campus(halls=3, rows_per_hall=4, racks_per_row=8, ring_rows=2)
    alone = gw.solve(case)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: gw.solve(case), range(8)))
    for ds in results:
        # Same network, same algorithm, same order of operations: identical to the last bit.
        np.testing.assert_array_equal(ds.v_v.values, alone.v_v.values)
        assert ds.attrs["energy_balance_residual"] < 1e-12
