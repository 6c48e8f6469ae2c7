"""The report's HTML page in a real browser: Debian's Chromium driven by Playwright (headless).

For a steady campus (with cooling and district heating), a year (synthetic series), a sweep and a
comparison of architectures (datasets as those commands write them), at a desktop width (1280 px) and a
phone's (390 px): no console errors or page errors, every embedded image decodes (``naturalWidth`` > 0),
and the page never scrolls sideways (the document is no wider than the viewport).

`make test` installs Debian's ``chromium`` when it is missing and it runs as root (the Makefile's ``browser``
target); Playwright's own browser download is not used. Without a browser this module skips and says why.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gigawatt as gw
from gigawatt.report import build_report

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                               "(a test dependency: pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no Chromium on this machine (`make test` installs Debian's chromium when run as root; here it "
                "could not)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as err:  # a broken install: say so rather than fail the suite
            pytest.skip(f"Chromium at {CHROMIUM} does not start ({type(err).__name__}: {str(err)[:120]})")
        yield b
        b.close()


def steady():
    """A small cooled campus with a district-heating network, solved."""
    built = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130.0, cooling={})
    tables = dict(built.tables)
    pipe = lambda pid, a, b: dict(id=pid, from_node=a, to_node=b, length_m=300.0, diameter_m=0.1,  # noqa: E731
                                  u_w_per_m_k=0.5)
    tables.update(dh_node=[{"id": x} for x in ("S", "A", "Ar", "R")], dh_pipe=[pipe("s1", "S", "A"),
                                                                               pipe("r1", "Ar", "R")],
                  dh_consumer=[dict(id="cA", supply_node="A", return_node="Ar", kind="fixed", demand_w=300e3)])
    case = gw.make_case(tables, loss_models=dict(built.loss_model_params), cooling={},
                        district_heating={"supply_node": "S", "return_node": "R"})
    return gw.solve(case)


def year():
    time = pd.date_range("2025-01-01", "2026-01-01", freq="h", inclusive="left")
    demand = 70e6 + 50e6 * np.cos(2 * np.pi * np.arange(time.size) / 24.0 / 365.0)
    offer = np.full(time.size, 100e6)
    return xr.Dataset({"q_available_w": ("time", offer), "dh_q_demand_w": ("time", demand),
                       "dh_q_delivered_w": ("time", demand), "q_recovered_w": ("time", np.minimum(offer, demand))},
                      coords={"time": time}, attrs={"gigawatt_version": gw.__version__, "case_name": "year"})


def sweep():
    power = np.array([100e3, 110e3, 120e3])
    return xr.Dataset({"efficiency_grid_to_chip": ("scenario", [0.86, 0.859, 0.858]),
                       "pue": ("scenario", [1.05, 1.051, 1.052]), "erf": ("scenario", [0.2, 0.21, 0.22]),
                       "p_grid_w": ("scenario", power * 32 / 0.86)},
                      coords={"scenario": np.arange(3), "campus.rack_it_power_w": (
                          "scenario", power, {"units": "W", "given_as": "campus.rack_it_power_kw"})},
                      attrs={"gigawatt_version": gw.__version__, "case_name": "sweep"})


def comparison():
    stages = ["station", "ups", "distribution", "rack_shelf", "rack_vrm"]
    loss = np.array([[40e3, 160e3, 19e3, 176e3, 422e3], [88e3, 0.0, 10e3, 86e3, 422e3]])
    p_it = 3.8e6
    return xr.Dataset({"stage_loss_w": (("architecture", "stage"), loss),
                       "p_grid_w": ("architecture", p_it + loss.sum(1)), "p_it_w": ("architecture", [p_it] * 2),
                       "efficiency_grid_to_chip": ("architecture", p_it / (p_it + loss.sum(1)))},
                      coords={"architecture": ["ac", "dc800"], "stage": stages},
                      attrs={"title": "gigawatt architecture comparison of case 'x'", "case_name": "x"})


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = {}
    for name, build in (("steady", steady), ("year", year), ("sweep", sweep), ("compare", comparison)):
        ds = build()
        path = tmp_path_factory.mktemp(name) / f"{name}.nc"
        ds.to_netcdf(path)
        report = build_report(path, path.parent / "report")
        out[name] = (report.html, len(report.figures))
    return out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["steady", "year", "sweep", "compare"])
def test_report_page_in_a_browser(browser, pages, kind, width):
    html, n_figures = pages[kind]
    assert n_figures >= 1
    # A phone's width as a phone shows it (is_mobile: the page's viewport tag decides its layout width).
    page = browser.new_page(viewport={"width": width, "height": 900}, is_mobile=width < 600)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(html.as_uri(), wait_until="load")
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    doc_width, view_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.close()
    assert errors == []
    assert len(images) == n_figures
    assert all(done and w > 0 for done, w, _ in images), images
    assert view_width == width  # laid out at the device's width (a page without a viewport tag gets 980 px)
    assert doc_width <= view_width, f"{kind} at {width} px: the page is {doc_width} px wide"
