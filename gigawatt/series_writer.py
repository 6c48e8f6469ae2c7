"""Results of a long time series streamed to one NetCDF file as they are solved: memory stays bounded.

xarray writes a dataset it holds whole; a year of steps need not be held. :class:`SeriesWriter` writes
through netCDF4 (which xarray itself uses underneath) into an unlimited ``time`` dimension, a few thousand steps
at a time, then adds the run's attributes and any variables along other dimensions (per-element extremes)
at the end. The file is written to a temporary file of this run beside it and renamed when complete
(:mod:`gigawatt.output_paths`): an error, Ctrl-C or SIGTERM leaves no half-written results file under the
real name, and no temporary file either. ``xarray.open_dataset`` reads the result like any other
(``time`` decodes to datetime64).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from gigawatt.output_paths import commit, temporary_beside
from gigawatt.solver.results_schema import CONVENTIONS, figure_variables, variable_attrs

# Units of a figure from its name's suffix (the schema's convention), longest suffix first.
_SUFFIX_UNITS = (("_kg_s", "kg/s"), ("_m3_s", "m^3/s"), ("_m_s", "m/s"), ("_m2", "m^2"), ("_pa", "Pa"), ("_w", "W"), ("_k", "K"), ("_j", "J"),
                 ("_a", "A"), ("_v", "V"), ("_m", "m"), ("_pu", "1"))


FLUSH_STEPS = 2048
"""Steps held in memory before they are written (about 1.6 MB at 100 figures). netCDF4 pays a fixed cost per
variable and write, whatever its length: a year written 168 steps at a time (52 writes of 90 figures) cost
1.5 s of CPU, 1,344 at a time 0.25 s (measured on the 2-core machine, load average 10)."""


def figure_units(name: str) -> str:
    """SI unit of a scalar figure from its name (``p_grid_w`` → W); ``1`` for ratios and counts."""
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return "1"


def _plain_extra(extra: xr.Dataset) -> bool:
    """Whether ``extra`` holds float variables along dimensions that are new to the file, each with a string
    coordinate and nothing else: what :func:`_write_extra` writes as xarray would."""
    return (len(extra.data_vars) > 0 and all(v.dtype == np.float64 and v.dims[0] not in ("time",) and v.ndim == 1
                                              for v in extra.data_vars.values())
            and set(extra.coords) == set(extra.sizes) and all(c.dtype.kind == "U" for c in extra.coords.values()))


def _write_extra(nc, extra: xr.Dataset) -> None:
    """Write ``extra`` (see :func:`_plain_extra`) into the open file ``nc`` as ``extra.to_netcdf(mode="a")``
    writes it: its dimensions, its variables (float, NaN fill value, their attributes) in order, then its
    coordinates as variable-length strings. Through netCDF4 directly: xarray would reopen the file and import
    dask's scheduler to ask whether any array is chunked (half a second of a time series run as a library)."""
    for dim, size in extra.sizes.items():
        nc.createDimension(dim, size)
    for name, da in extra.data_vars.items():
        var = nc.createVariable(name, "f8", da.dims, fill_value=np.nan)
        var.setncatts(da.attrs)
        var[:] = da.to_numpy()
    for name, coord in extra.coords.items():
        var = nc.createVariable(name, str, coord.dims)
        var[:] = coord.to_numpy().astype(object)


class SeriesWriter:
    """Append steps to ``path`` (see the module notes). Use as a context manager: on an exception the
    partial file is removed; :meth:`finish` completes and renames it.

    ``start`` (datetime64): the first time stamp; times are stored as whole seconds since it.
    """

    def __init__(self, path, start: np.datetime64):
        import netCDF4

        self.path = Path(path)
        self.partial = temporary_beside(self.path)
        self.start = np.datetime64(start, "s")
        try:
            self.nc = netCDF4.Dataset(self.partial, "w", format="NETCDF4")
        except BaseException:
            self.partial.unlink(missing_ok=True)
            raise
        self.nc.createDimension("time", None)
        t = self.nc.createVariable("time", "i8", ("time",))
        t.units = f"seconds since {np.datetime_as_string(self.start, unit='s').replace('T', ' ')}"
        t.calendar = "proleptic_gregorian"
        self.steps = 0  # steps written
        self.pending: list[tuple[np.ndarray, dict]] = []  # steps appended, not yet written: (times, columns)
        self.pending_steps = 0

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self.abort()
        return False

    def append(self, times: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Append steps at ``times`` (datetime64) with one array per figure (same length). They are written
        once :data:`FLUSH_STEPS` steps are held, and by :meth:`finish`; a figure missing from some steps is
        NaN there (the variable's fill value)."""
        self.pending.append((np.asarray(times, "datetime64[s]"),
                             {name: np.array(values, float) for name, values in columns.items()}))
        self.pending_steps += len(times)
        if self.pending_steps >= FLUSH_STEPS:
            self.flush()

    def flush(self) -> None:
        """Write the steps held, one write per figure."""
        if not self.pending:
            return
        times = np.concatenate([t for t, _ in self.pending])
        k0, k1 = self.steps, self.steps + times.size
        self.nc["time"][k0:k1] = ((times - self.start) / np.timedelta64(1, "s")).astype(np.int64)
        for name in dict.fromkeys(n for _, columns in self.pending for n in columns):  # first appearance first
            if name not in self.nc.variables:
                var = self.nc.createVariable(name, "f8", ("time",), fill_value=np.nan)
                var.setncatts(variable_attrs(name, {"units": figure_units(name)}))
            self.nc[name][k0:k1] = np.concatenate([columns[name] if name in columns else np.full(t.size, np.nan)
                                                   for t, columns in self.pending])
        self.steps, self.pending, self.pending_steps = k1, [], 0

    def finish(self, attrs: dict, extra: xr.Dataset | None = None) -> Path:
        """Write the steps still held, the run's attributes (numbers and strings) and ``extra`` variables, close
        and rename."""
        self.flush()
        self.nc.setncatts({k: v for k, v in attrs.items() if isinstance(v, (str, int, float, np.number))})
        self.nc.setncatts({"Conventions": CONVENTIONS})
        self.nc["time"].setncatts({"standard_name": "time", "long_name": "time"})
        for name, (value, var_attrs) in figure_variables(attrs, set(self.nc.variables)).items():
            self.nc.createVariable(name, "f8", ())  # the period's figures as 0-d variables (results schema)
            self.nc[name].setncatts(var_attrs)
            self.nc[name].assignValue(float(value))
        plain = extra is not None and _plain_extra(extra)
        if plain:
            _write_extra(self.nc, extra)
        self.nc.close()
        if extra is not None and len(extra.data_vars) and not plain:
            extra.to_netcdf(self.partial, mode="a")
        return commit(self.partial, self.path)

    def abort(self) -> None:
        """Close and remove the partial file."""
        try:
            if getattr(self, "nc", None) is not None and self.nc.isopen():
                self.nc.close()
        finally:
            self.partial.unlink(missing_ok=True)
