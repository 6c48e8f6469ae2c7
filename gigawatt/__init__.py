"""gigawatt: the energy chain of gigawatt-scale AI data-center campuses, from the grid to the chips.

>>> import gigawatt as gw
>>> result = gw.solve(gw.load_case())          # the bundled default case
>>> float(result.attrs["efficiency_grid_to_chip"]) > 0
True

The public names are imported on first use (PEP 562), so ``gigawatt --help`` and ``import gigawatt.errors``
stay instant.
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("gigawatt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

_PUBLIC = {
    "GigawattError": "gigawatt.errors", "CaseError": "gigawatt.errors", "ConvergenceError": "gigawatt.errors",
    "Case": "gigawatt.cases.case", "make_case": "gigawatt.cases.case",
    "load_case": "gigawatt.cases.loader", "default_case_path": "gigawatt.cases.loader",
    "bundled_cases": "gigawatt.cases.loader", "build_campus": "gigawatt.cases.campus",
    "build_town": "gigawatt.cases.town", "with_architecture": "gigawatt.cases.architectures",
    "compare": "gigawatt.compare",
    "solve": "gigawatt.solver.solve", "solve_design_points": "gigawatt.solver.solve",
    "from_pandapipes": "gigawatt.interchange",
    "run_sweep": "gigawatt.sweep", "read_timeseries": "gigawatt.cases.series_file", "read_heat_demand": "gigawatt.cases.series_file",
    "write_timeseries": "gigawatt.cases.series_file", "bundled_profile": "gigawatt.cases.profiles",
    "bundled_weather": "gigawatt.cases.weather", "write_bundled_weather": "gigawatt.cases.weather",
    "run_time_series": "gigawatt.time_series", "run_contingency": "gigawatt.solver.contingency",
    "format_contingency": "gigawatt.solver.contingency",
    "fault_currents": "gigawatt.solver.faults.analysis",
    "run_swings": "gigawatt.solver.swings.run",
    "size_storage": "gigawatt.solver.swings.sizing", "size_storage_band": "gigawatt.solver.swings.sizing",
    "solve_dc_grid": "gigawatt.solver.dc.meshed_case", "grid_from_case": "gigawatt.solver.dc.meshed_case",
    "DCGridSolver": "gigawatt.solver.dc.meshed", "dc_grid": "gigawatt.solver.dc.meshed",
    "to_pandapower": "gigawatt.export", "to_pandapipes": "gigawatt.export",
}
__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gigawatt' has no attribute {name!r}")


def __dir__():
    return __all__
