"""The results schema (``gigawatt.solver.results_schema``) on every kind of output gigawatt writes: a steady
solve (monopolar with cooling, bipolar, the 5 GW campus with its grid side), a time series, a sweep, an
architecture comparison, a contingency and a fault study. Each file is opened with xarray, cf_xarray and
pint-xarray, and its unit strings parsed by pint and by UDUNITS-2 (cf-units); the figures are 0-d variables with units equal to their attribute copies; no variable name
means two things; the added element variables (rack bus, bus distance) are checked against the case."""
from __future__ import annotations

import cf_units  # UDUNITS-2, the units library of the CF conventions
import cf_xarray  # noqa: F401  (registers the .cf accessor)
import numpy as np
import pint
import pint_xarray  # noqa: F401  (registers the .pint accessor)
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.solver.results_schema import CONVENTIONS, figure_row, markdown, results_schema

UREG = pint.UnitRegistry()


def small_campus(**kw):
    return gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=3, rack_it_power_kw=100.0, cooling={}, **kw)


def _steady(path):
    gw.solve(small_campus()).to_netcdf(path)


def _bundled(name):
    from gigawatt.cases.loader import bundled_cases

    return gw.load_case(next(p for p in bundled_cases() if p.stem == name))


def _bipolar(path):
    gw.solve(_bundled("hall_pm400vdc")).to_netcdf(path)


def _campus_5gw(path):
    gw.solve(_bundled("campus_5gw")).to_netcdf(path)


def _year(path):
    from gigawatt.time_series import run_time_series

    case = small_campus()
    time = {"start": "2025-01-01T00:00", "periods": 6, "step": "1h", "it_load": "steady", "weather": "bundled",
            "chunk_steps": 168}
    case = case.with_tables({}, {**case.settings, "time": time})
    run_time_series(case, output=path).close()


def _sweep(path):
    gw.run_sweep(small_campus(), ["cooling.facility_supply_t_c=30,32"], path, workers=1).close()


def _compare(path):
    from gigawatt.compare import compare

    compare(small_campus(), ["ac", "dc800"]).to_netcdf(path)


def _contingency(path):
    from gigawatt.solver.contingency import run_contingency

    run_contingency(small_campus(), "stations", 1).to_netcdf(path)


def _faults(path):
    gw.fault_currents(small_campus()).to_netcdf(path)


KINDS = {"steady": _steady, "bipolar": _bipolar, "5 GW": _campus_5gw, "year": _year, "sweep": _sweep,
         "compare": _compare, "contingency": _contingency, "faults": _faults}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    paths = {}
    for kind, write in KINDS.items():
        paths[kind] = folder / f"{kind.replace(' ', '')}.nc"
        write(paths[kind])
    return paths


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_output_opens_with_xarray_cf_xarray_and_pint(outputs, kind):
    ds = xr.load_dataset(outputs[kind])
    assert ds.attrs["Conventions"] == CONVENTIONS
    for name, var in ds.variables.items():  # every unit string parses, by pint and by UDUNITS
        if "units" in var.attrs and name != "time":
            UREG.parse_units(var.attrs["units"])
            cf_units.Unit(var.attrs["units"])
    quantified = ds.pint.quantify()
    assert quantified.sizes == ds.sizes
    repr(ds.cf)  # cf_xarray's summary of what it finds
    assert isinstance(ds.cf.standard_names, dict)
    for name, var in ds.data_vars.items():  # numeric or string, never object, so every variable plots
        assert var.dtype.kind in "biufcUSMm" or var.dtype == object and all(isinstance(x, str) for x in
                                                                           var.values.ravel()), name
    for name in ds.coords:
        assert ds[name].dtype.kind in "iufUSM" or ds[name].size == 0 or all(isinstance(x, str) for x in
                                                                            ds[name].values), name


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_variable_along_every_dimension_plots(outputs, kind):
    """``ds.v_pu.plot()`` and the like: one numeric variable along each non-empty dimension draws (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = xr.load_dataset(outputs[kind])
    for dim, size in ds.sizes.items():
        names = [k for k, v in ds.data_vars.items() if v.dims == (dim,) and v.dtype.kind in "fi"]
        if size and names:
            fig = plt.figure()
            ds[names[0]].plot()
            plt.close(fig)


@pytest.mark.parametrize("kind", list(KINDS))
def test_figures_are_0d_variables_with_the_units_of_the_table(outputs, kind):
    ds = xr.load_dataset(outputs[kind])
    figures = [k for k, v in ds.attrs.items() if (figure_row(k) or {}).get("role") == "figure"
               and isinstance(v, (int, float, np.number))]
    for k in figures:
        name = k if ds[k].ndim == 0 else f"{k}_over_period"
        assert ds[name].ndim == 0 and float(ds[name]) == pytest.approx(float(ds.attrs[k]), rel=0, nan_ok=True)
        assert ds[name].attrs["units"] == figure_row(k)["units"]
    q = ds[[k if ds[k].ndim == 0 else f"{k}_over_period" for k in figures]].pint.quantify()
    if "p_grid_w" in figures and ds["p_grid_w"].ndim == 0:
        assert q["p_grid_w"].pint.to("MW").pint.magnitude == pytest.approx(ds.attrs["p_grid_w"] / 1e6, rel=1e-15)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_scalar_attribute_is_in_the_table(outputs, kind):
    """A new figure cannot appear without its units and meaning in ``solver/results_schema.csv``."""
    ds = xr.load_dataset(outputs[kind])
    unknown = [k for k, v in ds.attrs.items() if isinstance(v, (int, float, np.number)) and figure_row(k) is None]
    assert not unknown


def test_no_name_means_two_things(outputs):
    """The totals are ``p_grid_w``, ``p_it_w``, ``p_loss_w`` (0-d); per element they carry the element's name."""
    ds = xr.load_dataset(outputs["steady"])
    for total, per_element, dim in (("p_grid_w", "source_p_grid_w", "source"), ("p_it_w", "rack_p_it_w", "rack"),
                                    ("p_loss_w", "line_p_loss_w", "line"), ("q_liquid_w", "rack_q_liquid_w", "rack")):
        assert ds[total].ndim == 0 and ds[per_element].dims == (dim,)
    assert float(ds.source_p_grid_w.sum()) == pytest.approx(float(ds.p_grid_w), rel=1e-12)
    assert float(ds.line_p_loss_w.sum()) == pytest.approx(float(ds.stage_loss_w.sel(stage="distribution")), rel=1e-12)


def test_rack_bus_and_bus_distance_follow_the_case(outputs):
    """Each rack's bus is the case's; a bus's distance is the sum of the line lengths on its way from the
    nearest station: along a row, each next tap is one busway segment further than the one before."""
    case = small_campus()
    ds = gw.solve(case)
    np.testing.assert_array_equal(ds.rack_bus.values, case.tables["rack"]["bus"].to_numpy())
    lines = case.tables["line"]
    for src in case.tables["source"]["bus"]:
        assert float(ds.bus_distance_m.sel(bus=src)) == 0.0
    for _, row in lines.iterrows():  # a tree: |d(to) - d(from)| is at most the line's length
        d = abs(float(ds.bus_distance_m.sel(bus=row["to_bus"])) - float(ds.bus_distance_m.sel(bus=row["from_bus"])))
        assert d <= row["length_m"] * (1 + 1e-12)
    segs = lines[lines["kind"] == "busway"]
    for _, row in segs.iterrows():
        d = float(ds.bus_distance_m.sel(bus=row["to_bus"])) - float(ds.bus_distance_m.sel(bus=row["from_bus"]))
        assert d == pytest.approx(row["length_m"], rel=1e-12)
    rated = np.isfinite(ds.line_ampacity_a.values)
    np.testing.assert_allclose(ds.line_loading.values[rated], np.abs(ds.i_a.values[rated])
                               / ds.line_ampacity_a.values[rated], rtol=1e-15)


def test_results_format_doc_is_current():
    """docs/results-format.md is generated from solver/results_schema.csv (``make docs``)."""
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "results-format.md"
    assert doc.read_text(encoding="utf-8") == markdown()
    for row in results_schema().values():
        if row["units"]:
            UREG.parse_units(row["units"])
            cf_units.Unit(row["units"])


def test_every_registered_figure_is_in_the_table():
    """The figures the results modules register (facility, dry coolers, district heating, KPIs) all have a
    row: a new one cannot reach a results file without its unit and meaning."""
    from gigawatt.models.kpis import KPI_ATTRS
    from gigawatt.solver.cooling.results import DRY_COOLER_DESIGN_ATTRS, FACILITY_ATTRS
    from gigawatt.solver.district_heating.results import DH_ATTRS

    missing = [k for k in (*FACILITY_ATTRS, *DRY_COOLER_DESIGN_ATTRS, *DH_ATTRS, *KPI_ATTRS) if figure_row(k) is None]
    assert not missing
    for k, (unit, _) in {**FACILITY_ATTRS, **DRY_COOLER_DESIGN_ATTRS}.items():  # one unit per name
        assert figure_row(k)["units"] == unit, k
