"""The library entry point: ``solve(case) -> xarray.Dataset``."""
from __future__ import annotations

import xarray as xr

from gigawatt.cases.case import Case
from gigawatt.solver.assembly import assemble
from gigawatt.solver.dcflow import solve_dc
from gigawatt.solver.results import build_dataset


def solve(case: Case) -> xr.Dataset:
    """Solve a case and return its results as a new ``xarray.Dataset``; the case is not changed.

    Raises
    ------
    gigawatt.errors.CaseError
        For input the solver cannot use (an island without a source, conflicting set-points, …).
    gigawatt.errors.ConvergenceError
        When a load is beyond what the network can carry; the message names the weakest bus and feeder
        and the maximum power the network could carry, and ``.details`` holds them as data.
    """
    from gigawatt import __version__

    net = assemble(case)
    state = solve_dc(net, case, settings=case.settings["solver"])
    return build_dataset(case, net, state, version=__version__)
