"""gigawatt: the energy chain of gigawatt-scale AI data-center campuses, from the grid to the chips.

>>> import gigawatt as gw
>>> result = gw.solve(gw.load_case())          # the bundled default case
>>> float(result.attrs["efficiency_grid_to_chip"]) > 0
True
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("gigawatt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

from gigawatt.errors import CaseError, ConvergenceError, GigawattError  # noqa: E402
from gigawatt.cases.case import Case, make_case  # noqa: E402
from gigawatt.cases.loader import bundled_cases, default_case_path, load_case  # noqa: E402
from gigawatt.cases.campus import build_campus  # noqa: E402
from gigawatt.solver.solve import solve  # noqa: E402

__all__ = ["Case", "CaseError", "ConvergenceError", "GigawattError", "build_campus", "bundled_cases",
           "default_case_path", "load_case", "make_case", "solve", "__version__"]
