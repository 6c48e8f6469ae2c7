"""DC grid load flow with set-power terminals, DC/DC converters in meshes and conductance loads
(gigawatt.solver.dc.meshed), against closed forms and an independent solve of the same equations
(scipy.optimize.fsolve on the full Kirchhoff system, written out by hand here)."""
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import fsolve

from gigawatt.errors import CaseError
from gigawatt.models.dc_elements import AT_V_MAX, AT_V_MIN, P_MODE
from gigawatt.solver.dc.meshed import DCGridSolver, dc_grid

INF = np.inf
LEDGER = 1e-10  # relative: the ledger closes to the solver's convergence (1e-12 of nominal on voltages)


def _closes(res, scale):
    assert abs(float(np.max(np.abs(res.ledger_residual_w)))) <= LEDGER * scale


@pytest.mark.parametrize("p_w", [50e3, 2e6, -2e6, -15e6])
def test_set_power_terminal_two_bus_quadratic(p_w):
    """A terminal injecting P at the end of a line R from a stiff 800 V source: V² − V_s V − R P = 0."""
    vs, r = 800.0, 0.01
    res = DCGridSolver(dc_grid([800, 800], lines=[(0, 1, r)], feeds=[(0, vs, 0.0)],
                               terminals=[(1, p_w, 0.0, INF)])).solve()
    v = 0.5 * (vs + np.sqrt(vs * vs + 4 * r * p_w))
    assert res.v_v[1] == pytest.approx(v, rel=1e-12)
    assert res.terminal_p_w[0] == p_w
    assert res.feed_p_w[0] == pytest.approx(-p_w + r * (p_w / v) ** 2, rel=1e-10)
    _closes(res, abs(p_w))


def test_terminal_switches_to_its_voltage_limit_and_back():
    """Injecting 5 MW through 0.01 Ω would lift the bus to 862 V; with v_max = 820 V the terminal holds 820 V
    and delivers (820 − 800)/0.01 · 820 = 1.64 MW. With 1 MW asked it stays below the limit, in set power."""
    grid = dc_grid([800, 800], lines=[(0, 1, 0.01)], feeds=[(0, 800.0, 0.0)], terminals=[(1, 5e6, 700.0, 820.0)])
    solver = DCGridSolver(grid)
    res = solver.solve()
    assert res.terminal_mode[0] == AT_V_MAX
    assert res.v_v[1] == 820.0
    assert res.terminal_p_w[0] == pytest.approx(20.0 / 0.01 * 820.0, rel=1e-12)
    _closes(res, 5e6)
    low = solver.solve(terminal_p_w=[1e6])
    assert low.terminal_mode[0] == P_MODE and low.terminal_p_w[0] == 1e6
    assert low.v_v[1] == pytest.approx(0.5 * (800 + np.sqrt(800**2 + 4 * 0.01 * 1e6)), rel=1e-12)
    # Charging at 20 MW would pull it to 4xx V; v_min = 700 V: it draws (800 − 700)/0.01 · 700 = 7 MW.
    chg = solver.solve(terminal_p_w=[-20e6])
    assert chg.terminal_mode[0] == AT_V_MIN and chg.v_v[1] == 700.0
    assert chg.terminal_p_w[0] == pytest.approx(-100.0 / 0.01 * 700.0, rel=1e-12)


def test_conductance_load_closed_form():
    """A conductance G behind a line R from a stiff V_s: a divider, V = V_s / (1 + R G), P = G V²."""
    vs, r, gs = 800.0, 0.02, 0.5
    res = DCGridSolver(dc_grid([800, 800], lines=[(0, 1, r)], feeds=[(0, vs, 0.0)], conductances=[(1, gs)])).solve()
    v = vs / (1 + r * gs)
    assert res.v_v[1] == pytest.approx(v, rel=1e-13)
    assert res.conductance_p_w[0] == pytest.approx(gs * v * v, rel=1e-12)
    _closes(res, gs * vs * vs)


def test_droop_feed_two_bus():
    """A droop feed P = k (v_set − V) alone on a conductance: k (v_set − V) = G V² (quadratic)."""
    k, vset, gs = 1e5, 800.0, 0.2
    res = DCGridSolver(dc_grid([800], feeds=[(0, vset, k)], conductances=[(0, gs)])).solve()
    v = (-k + np.sqrt(k * k + 4 * gs * k * vset)) / (2 * gs)
    assert res.v_v[0] == pytest.approx(v, rel=1e-12)
    _closes(res, gs * v * v)


def _mesh(control, setpoint, a=0.0, b=0.0, c=0.0):
    """Triangle 0–1–2 plus bus 3: stiff 800 V at bus 0; the DC/DC converter from bus 1 to bus 3, and bus 3
    tied back into the triangle at bus 2 by a line (so the converter sits inside a mesh); loads at 1, 2, 3."""
    return dc_grid([800, 800, 800, 800], lines=[(0, 1, 0.02), (0, 2, 0.03), (1, 2, 0.05), (3, 2, 0.04)],
                   feeds=[(0, 800.0, 0.0)], loads=[(1, 1e6), (2, 2e6), (3, 3e6)],
                   dcdc=[(1, 3, control, setpoint, a, b, c)])


def _reference(control, setpoint, a, b, c):
    """The same mesh solved as one nonlinear system by fsolve: unknowns V1, V2, V3 (and the converter's output
    power under voltage or ratio control)."""
    g01, g02, g12, g32 = 1 / 0.02, 1 / 0.03, 1 / 0.05, 1 / 0.04
    p1, p2, p3 = 1e6, 2e6, 3e6

    def eq(x):
        v1, v2, v3, po = x
        i = po / v3
        loss = a + b * abs(i) + c * i * i
        f1 = g01 * (v1 - 800) + g12 * (v1 - v2) + (p1 + po + loss) / v1
        f2 = g02 * (v2 - 800) + g12 * (v2 - v1) + g32 * (v2 - v3) + p2 / v2
        f3 = g32 * (v3 - v2) + p3 / v3 - po / v3
        f4 = {"voltage": v3 - setpoint, "ratio": v3 - setpoint * v1, "power": po - setpoint}[control]
        return [f1, f2, f3, f4 * 1e3]

    return fsolve(eq, [790.0, 790.0, 790.0, 1e6], xtol=1e-14)


@pytest.mark.parametrize("control,setpoint", [("voltage", 805.0), ("ratio", 1.02), ("power", 1.5e6)])
def test_dcdc_in_a_mesh_against_full_system(control, setpoint):
    a, b, c = 5e3, 2.0, 1e-3
    res = DCGridSolver(_mesh(control, setpoint, a, b, c)).solve()
    v1, v2, v3, po = _reference(control, setpoint, a, b, c)
    np.testing.assert_allclose(res.v_v[1:], [v1, v2, v3], rtol=1e-10)
    assert res.dcdc_p_out_w[0] == pytest.approx(po, rel=1e-8)
    i = po / v3
    assert res.dcdc_loss_w[0] == pytest.approx(a + b * abs(i) + c * i * i, rel=1e-8)
    assert res.dcdc_p_in_w[0] == pytest.approx(res.dcdc_p_out_w[0] + res.dcdc_loss_w[0], rel=1e-15)
    _closes(res, 6e6)


def test_ratio_chain_reflects_resistance():
    """Two ratio converters in series (n1 = 0.5, n2 = 0.1) feed a conductance G from a stiff 800 V bus:
    V_out = n1 n2 · 800 exactly (no line between), P = G V_out², input power = output (lossless)."""
    gs = 2.0
    res = DCGridSolver(dc_grid([800, 400, 40], feeds=[(0, 800.0, 0.0)], conductances=[(2, gs)],
                               dcdc=[(0, 1, "ratio", 0.5, 0, 0, 0), (1, 2, "ratio", 0.1, 0, 0, 0)])).solve()
    assert res.v_v[2] == pytest.approx(40.0, rel=1e-15)
    assert res.feed_p_w[0] == pytest.approx(gs * 40.0**2, rel=1e-12)
    np.testing.assert_allclose(res.dcdc_p_out_w, gs * 40.0**2, rtol=1e-12)
    _closes(res, gs * 1600)


def test_many_steps_match_single_solves_and_reuse_the_factorisation():
    grid = dc_grid([800, 800, 800], lines=[(0, 1, 0.01), (1, 2, 0.02), (0, 2, 0.03)], feeds=[(0, 800.0, 0.0)],
                   terminals=[(2, 0.0, 760.0, 815.0)], loads=[(1, 3e6)])
    solver = DCGridSolver(grid)
    p = np.array([[-1e6], [2e6], [9e6], [-9e6], [1e6]])
    many = solver.solve(terminal_p_w=p)
    assert many.v_v.shape == (5, 3)
    assert set(many.terminal_mode.ravel()) == {P_MODE, AT_V_MAX, AT_V_MIN}
    assert solver.factorisations == 3  # one per pattern of held buses, whatever the number of steps
    for s in range(5):
        one = DCGridSolver(grid).solve(terminal_p_w=p[s])
        np.testing.assert_allclose(many.v_v[s], one.v_v, rtol=1e-13)
        assert many.terminal_mode[s, 0] == one.terminal_mode[0]
    solver.solve(terminal_p_w=p * 0.5)
    assert solver.factorisations <= 3


@pytest.mark.parametrize("kw,message", [
    (dict(dcdc=[(0, 1, "current", 1.0, 0, 0, 0)]), "control"),
    (dict(lines=[(0, 1, -1.0)]), "r_ohm"),
    (dict(terminals=[(1, 1e6, 900.0, 800.0)]), "v_max_v"),
    (dict(terminals=[(1, np.nan, 0.0, INF)]), "p_set_w"),
    (dict(lines=[(0, 5, 1.0)]), "to_bus"),
])
def test_bad_input_is_one_case_error(kw, message):
    base = dict(lines=[(0, 1, 0.01)], feeds=[(0, 800.0, 0.0)])
    with pytest.raises(CaseError) as err:
        DCGridSolver(dc_grid([800, 800], **{**base, **kw}))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unfed_part_and_converter_loop_are_case_errors():
    with pytest.raises(CaseError, match="nothing that sets its voltage"):
        DCGridSolver(dc_grid([800, 800, 800], lines=[(0, 1, 0.01)], feeds=[(0, 800.0, 0.0)],
                             terminals=[(2, 1e3, 0.0, INF)]))
    with pytest.raises(CaseError, match="loop"):
        DCGridSolver(dc_grid([800, 800, 800], feeds=[(0, 800.0, 0.0)], lines=[(0, 1, 0.01)],
                             dcdc=[(1, 2, "voltage", 790.0, 0, 0, 0), (2, 1, "voltage", 780.0, 0, 0, 0)]))


# --- the case layer: schema rows, gigawatt.solve_dc_grid, two-way stations in the chain ----------------------

def _case(**extra):
    import gigawatt as gw
    tables = {
        "bus": [{"id": "a", "v_nominal_v": 800}, {"id": "b", "v_nominal_v": 800}, {"id": "c", "v_nominal_v": 800}],
        "line": [{"id": "ab", "from_bus": "a", "to_bus": "b", "r_ohm": 0.01, "length_m": 50},
                 {"id": "bc", "from_bus": "b", "to_bus": "c", "r_ohm": 0.02, "length_m": 50},
                 {"id": "ac", "from_bus": "a", "to_bus": "c", "r_ohm": 0.03, "length_m": 50}],
        "source": [{"id": "rect", "bus": "a", "v_set_v": 800, "rated_power_w": 5e6}],
        "rack": [{"id": "r1", "bus": "b", "p_it_w": 1e6, "vrm_efficiency": 1.0}],
    }
    loss_models = extra.pop("loss_models", None)
    tables.update(extra)
    return gw.make_case(tables, loss_models=loss_models)


def test_solve_dc_grid_from_a_case_matches_the_grid_and_closes_its_ledger():
    import gigawatt as gw
    case = _case(dc_terminal=[{"id": "bess", "bus": "c", "p_set_w": 2e6, "v_max_v": 810}],
                 dc_conductance=[{"id": "heater", "bus": "b", "g_s": 0.1}])
    ds = gw.solve_dc_grid(case)
    assert ds["terminal_mode"].item() == "at_v_max" and ds["v_v"].sel(bus="c").item() == 810.0
    assert ds["conductance_p_w"].item() == pytest.approx(0.1 * ds["v_v"].sel(bus="b").item() ** 2, rel=1e-14)
    a = ds.attrs
    balance = (a["p_sources_dc_w"] + a["p_terminals_w"]
               - (a["p_racks_w"] + a["p_conductances_w"] + a["p_line_loss_w"] + a["p_converter_loss_w"]))
    assert abs(balance) <= 1e-10 * 1e6 and a["energy_balance_residual"] <= 1e-12
    assert ds["v_v"].attrs["units"] == "V" and ds["terminal_p_w"].attrs["units"] == "W"


def _campus_with_grid_elements(cooling=None, **extra):
    """A small campus (two droop stations) with a battery terminal discharging 200 kW at its set power and a
    heater (a conductance load) at the row end."""
    import gigawatt as gw
    base = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130)
    tables = {k: v for k, v in base.tables.items() if len(v)}
    tables["dc_terminal"] = [{"id": "bess", "bus": "H1-SWB", "p_set_w": 2e5, "v_min_v": 700, "v_max_v": 900,
                              "rated_power_w": 5e5}]
    tables["dc_conductance"] = [{"id": "heater", "bus": "H1-R2-T4", "g_s": 0.05}]
    tables.update(extra)
    return gw.make_case(tables, loss_models=base.loss_model_params, cooling=cooling)


def test_solve_takes_grid_elements_as_solve_dc_grid_does_and_closes_its_ledgers():
    """gw.solve's DC stage of a case with a terminal and a conductance load is the DC grid load flow's (the same
    solver: equal to round-off); its ledger, the heat ledger and the facility energy close with the terminal as
    a supply and the heater's power as heat to air."""
    import gigawatt as gw
    case = _campus_with_grid_elements(cooling={})
    ds, ref = gw.solve(case), gw.solve_dc_grid(case)
    assert np.allclose(ds.v_v, ref.v_v, rtol=1e-14, atol=0)
    assert np.allclose(ds.source_p_grid_w, ref.source_p_grid_w, rtol=1e-12, atol=0)
    assert ds.terminal_p_w.item() == 2e5 and ds.terminal_mode.item() == "set_power"
    assert ds.conductance_p_w.item() == pytest.approx(0.05 * ds.v_v.sel(bus="H1-R2-T4").item() ** 2, rel=1e-14)
    a = ds.attrs
    assert a["p_dc_terminals_w"] == 2e5 and a["p_dc_conductances_w"] == ds.conductance_p_w.item()
    # the ledger from the variables themselves: grid + terminal = chips + every stage's loss + heater
    balance = (float(ds.source_p_grid_w.sum()) + 2e5 - float(ds.rack_p_it_w.sum()) - float(ds.stage_loss_w.sum())
               - float(ds.conductance_p_w.sum()))
    # the droop stations deliver k (v_set − V) at V converged to 1e-12 of nominal: k·1e-12·800 V ≈ 1e-6 W
    assert abs(balance) <= 1e-11 * a["p_grid_w"] and a["energy_balance_residual"] <= 1e-11
    assert a["max_mismatch_a"] <= 1e-9 * a["p_grid_w"] / 800  # Kirchhoff at every bus, on the results
    assert a["heat_balance_residual"] <= 1e-12 and a["facility_energy_residual"] <= 1e-11
    assert a["p_facility_w"] == pytest.approx(a["p_grid_w"] + 2e5 + a["p_pumps_w"] + a["p_fans_w"], rel=1e-14)
    assert 1.0 < a["pue"] < 1.2 and "DC set-power terminals" in a["kpi_basis"]
    assert ds.terminal_p_w.attrs["units"] == "W" and ds.v_v.attrs["units"] == "V"


def test_an_equivalent_case_without_grid_elements_gives_the_same_network():
    """The heater as a rack drawing G·V² at the solved voltage, the battery as a lossless droop source whose
    law gives 200 kW at the solved voltage: the level-by-level load flow then finds the same voltages, line
    currents and station powers (both solvers to their tolerances, 1e-12 and 1e-11 of nominal)."""
    import gigawatt as gw
    case = _campus_with_grid_elements()
    ds = gw.solve(case)
    v_heater, v_bess = ds.v_v.sel(bus="H1-R2-T4").item(), ds.v_v.sel(bus="H1-SWB").item()
    droop, rated = 0.02, 1e6  # P = rated / (droop v_set) · (v_set − V) = 200 kW at V:
    v_set = v_bess / (1.0 - 2e5 * droop / rated)
    src = pd.concat([case.tables["source"], pd.DataFrame([{
        **case.tables["source"].iloc[0].to_dict(), "id": "bess", "bus": "H1-SWB", "v_set_v": v_set, "droop": droop,
        "rated_power_w": rated, "loss_model": ""}])], ignore_index=True)
    rack = pd.concat([case.tables["rack"], pd.DataFrame([{
        **case.tables["rack"].iloc[0].to_dict(), "id": "heater", "bus": "H1-R2-T4",
        "p_it_w": ds.conductance_p_w.item(), "vrm_efficiency": 1.0, "shelf_loss_model": "", "p_it_basis": "input"}])],
        ignore_index=True)
    tables = {k: v for k, v in case.tables.items() if len(v) and k not in ("dc_terminal", "dc_conductance")}
    eq = gw.solve(gw.make_case({**tables, "source": src, "rack": rack}, loss_models=case.loss_model_params))
    assert "dc_terminal" not in eq.dims and eq.attrs["energy_balance_residual"] <= 1e-12
    assert np.allclose(eq.v_v, ds.v_v, rtol=1e-10, atol=0)
    assert np.allclose(eq.i_a, ds.i_a, rtol=0, atol=1e-9 * float(np.abs(ds.i_a).max()))
    stations = ["H1-ST1", "H1-ST2"]
    assert np.allclose(eq.source_p_grid_w.sel(source=stations), ds.source_p_grid_w.sel(source=stations), rtol=1e-9,
                       atol=0)
    assert eq.p_dc_w.sel(source="bess").item() == pytest.approx(2e5, rel=1e-9)
    assert eq.attrs["p_loss_w"] == pytest.approx(ds.attrs["p_loss_w"], rel=1e-9)


def test_the_chain_refuses_bad_grid_input_with_one_line():
    import gigawatt as gw
    conv = [{"id": "dcdc", "from_bus": "b", "to_bus": "c", "v_set_v": 790, "rated_power_w": 1e6, "control": "power"}]
    with pytest.raises(CaseError, match="converter 'dcdc'.*p_set_w") as err:
        gw.solve(_case(converter=conv))
    assert "\n" not in str(err.value)
    with pytest.raises(CaseError, match="monopolar") as err:
        gw.solve(gw.make_case(dict(_case(dc_terminal=[{"id": "bess", "bus": "c", "p_set_w": 2e6}]).tables),
                              dc={"system": "bipolar"}))
    assert "\n" not in str(err.value)
    # the level-by-level load flow (contingencies, swings) still refuses them, in one line
    from gigawatt.solver.dc.assembly import assemble
    with pytest.raises(CaseError, match="level-by-level") as err:
        assemble(_case(dc_terminal=[{"id": "bess", "bus": "c", "p_set_w": 2e6}]))
    assert "\n" not in str(err.value)


def test_case_converter_controls_and_their_bad_input():
    import gigawatt as gw
    lines = [{"id": "ab", "from_bus": "a", "to_bus": "b", "r_ohm": 0.01, "length_m": 50},
             {"id": "bc", "from_bus": "b", "to_bus": "c", "r_ohm": 0.02, "length_m": 50}]
    conv = {"id": "dcdc", "from_bus": "a", "to_bus": "c", "v_set_v": 790, "rated_power_w": 1e6, "control": "power",
            "p_set_w": 2e5, "loss_model": "q"}
    ds = gw.solve_dc_grid(_case(line=lines, converter=[conv],
                                loss_models={"q": {"kind": "quadratic", "a_w": 100.0, "b_v": 1.0, "c_ohm": 0.01}}))
    i = 2e5 / ds["v_v"].sel(bus="c").item()
    assert ds["p_out_w"].item() == 2e5
    assert ds["converter_loss_w"].item() == pytest.approx(100 + i + 0.01 * i * i, rel=1e-14)
    with pytest.raises(CaseError, match="p_set_w"):
        gw.solve_dc_grid(_case(line=lines, converter=[{**conv, "p_set_w": None, "loss_model": ""}]))
    with pytest.raises(CaseError, match="dc_terminal 'bess'.*v_max_v"):
        gw.solve_dc_grid(_case(line=lines, dc_terminal=[{"id": "bess", "bus": "c", "p_set_w": 1e5, "v_min_v": 790,
                                                         "v_max_v": 780}]))
    with pytest.raises(CaseError, match="quadratic"):
        gw.solve_dc_grid(_case(line=lines, converter=[{**conv, "loss_model": "eff"}],
                               loss_models={"eff": {"kind": "constant_efficiency", "efficiency": 0.98}}))


def test_two_way_station_absorbs_without_a_warning_and_loses_on_its_ac_current():
    """Two stiff stations 30 V apart circulate power: the lower one absorbs. Declared two-way it is not
    flagged; its loss is MatACDC's, with c_inv while it inverts."""
    import gigawatt as gw
    from gigawatt.models.dc_elements import station_ac_power_w
    vsc = {"kind": "ac_current_quadratic", "a_w": 1e3, "b_v": 2.0, "c_rect_ohm": 1e-3, "c_inv_ohm": 3e-3,
           "v_ac_v": 690.0, "q_ac_var": 5e4}
    sources = [{"id": "hi", "bus": "a", "v_set_v": 830, "rated_power_w": 5e6},
               {"id": "lo", "bus": "c", "v_set_v": 800, "rated_power_w": 5e6, "loss_model": "vsc"}]
    one_way = gw.solve(_case(source=sources, loss_models={"vsc": vsc}))
    assert "'lo' absorbs" in one_way.attrs["warnings"]
    two_way = gw.solve(_case(source=[sources[0], {**sources[1], "two_way": True}], loss_models={"vsc": vsc}))
    assert "absorbs" not in two_way.attrs["warnings"]
    p = two_way["p_dc_w"].sel(source="lo").item()
    assert p < 0
    _, loss = station_ac_power_w(p, 5e4, 690.0, 1e3, 2.0, 1e-3, 3e-3)
    assert two_way["source_loss_w"].sel(source="lo").item() == pytest.approx(float(loss), rel=1e-12)
    # Inverting, the loss uses c_inv: with c_inv = c_rect it would be smaller.
    _, loss_sym = station_ac_power_w(p, 5e4, 690.0, 1e3, 2.0, 1e-3, 1e-3)
    assert float(loss) > float(loss_sym)


# --- invariants on random grids (hypothesis) --------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def _random_grid(draw):
    n = draw(st.integers(3, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    lines = [(int(rng.integers(0, i)), i, float(rng.uniform(0.005, 0.05))) for i in range(1, n)]
    extra = rng.integers(0, n, (draw(st.integers(0, 4)), 2))
    lines += [(int(a), int(b), float(rng.uniform(0.005, 0.05))) for a, b in extra if a != b]
    feeds = [(0, 800.0, 0.0)] + ([(n - 1, 800.0, 2e5)] if draw(st.booleans()) else [])
    buses = rng.permutation(np.arange(1, n))
    terminals = [(int(b), float(rng.uniform(-2e5, 2e5)), 780.0, 805.0) for b in buses[:2]]
    loads = [(int(b), float(rng.uniform(0, 3e5))) for b in rng.integers(1, n, 3)]
    conductances = [(int(rng.integers(1, n)), float(rng.uniform(0, 0.5)))]
    dcdc = []
    if draw(st.booleans()):  # a power-controlled converter between two buses of the network (often a mesh)
        a, b = (int(x) for x in rng.choice(np.arange(1, n), 2, replace=False))
        dcdc.append((a, b, "power", float(rng.uniform(-1e5, 1e5)), 50.0, 1.0, 1e-3))
    return dc_grid([800.0] * n, lines=lines, feeds=feeds, terminals=terminals, loads=loads,
                   conductances=conductances, dcdc=dcdc)


@settings(max_examples=40, deadline=None)
@given(_random_grid())
def test_kirchhoff_and_ledger_on_random_grids(grid):
    res = DCGridSolver(grid).solve()
    v = res.v_v
    inj = np.zeros(grid.n_bus)  # power into each bus from its elements [W]
    np.add.at(inj, grid.feed_bus, res.feed_p_w)
    np.add.at(inj, grid.terminal_bus, res.terminal_p_w)
    np.add.at(inj, grid.load_bus, -res.load_p_w)
    np.add.at(inj, grid.conductance_bus, -res.conductance_p_w)
    np.add.at(inj, grid.dcdc_to, res.dcdc_p_out_w)
    np.add.at(inj, grid.dcdc_from, -res.dcdc_p_in_w)
    out = np.zeros(grid.n_bus)  # power leaving each bus into its lines
    np.add.at(out, grid.line_from, v[grid.line_from] * res.line_i_a)
    np.add.at(out, grid.line_to, -v[grid.line_to] * res.line_i_a)
    scale = np.abs(res.feed_p_w).sum() + np.abs(res.terminal_p_w).sum() + res.load_p_w.sum() + 1.0
    np.testing.assert_allclose(inj, out, atol=1e-9 * scale)
    assert abs(res.ledger_residual_w) <= 1e-9 * scale
    # Terminals: at their set power inside their limits, or held at a limit on its side of the set power.
    for j in range(grid.terminal_bus.size):
        vb, p, ps = v[grid.terminal_bus[j]], res.terminal_p_w[j], grid.terminal_p_w[j]
        if res.terminal_mode[j] == P_MODE:
            assert p == ps and 780.0 - 1e-6 <= vb <= 805.0 + 1e-6
        elif res.terminal_mode[j] == AT_V_MAX:
            assert vb == 805.0 and p <= ps + 1e-6 * abs(ps) + 1e-3
        else:
            assert vb == 780.0 and p >= ps - 1e-6 * abs(ps) - 1e-3


def test_warm_start_from_the_previous_step_gives_the_same_answer():
    grid = dc_grid([800, 800, 800], lines=[(0, 1, 0.01), (1, 2, 0.02), (0, 2, 0.03)], feeds=[(0, 800.0, 0.0)],
                   terminals=[(2, 0.0, 760.0, 815.0)], loads=[(1, 3e6)])
    solver = DCGridSolver(grid)
    prev = None
    for p in (-1e6, 9e6, 2e6, -9e6, -1e6):  # through both limits and back
        warm = solver.solve(terminal_p_w=[p], start=prev)
        cold = DCGridSolver(grid).solve(terminal_p_w=[p])
        np.testing.assert_allclose(warm.v_v, cold.v_v, rtol=1e-13)
        assert warm.terminal_mode[0] == cold.terminal_mode[0]
        prev = warm


def test_the_energy_chain_of_a_case_with_grid_elements_balances_at_every_node():
    """The report's Sankey: the terminal feeds the DC network behind the stations, the heater draws from it
    and its power joins the heat; every node balances (gigawatt.report.sankey.check_balance)."""
    import gigawatt as gw
    from gigawatt.report.sankey import CONDUCTANCES, TERMINALS_IN, check_balance, energy_chain

    ds = gw.solve(_campus_with_grid_elements(cooling={}))
    chain = energy_chain(ds)
    check_balance(chain)
    flows = {(f.source, f.target): f.value_w for f in chain.flows}
    assert flows[(TERMINALS_IN, "distribution")] == 2e5
    assert flows[(CONDUCTANCES, "heat")] == ds.attrs["p_dc_conductances_w"]


def test_grid_side_ledger_closes_with_grid_elements():
    """With the AC grid solved (pandapower) the plant-to-chips ledger counts the terminal beside the plant and
    the heater beside the racks."""
    import gigawatt as gw
    base = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130, grid="ext_grid",
                           grid_transformers_per_site=2)
    tables = {k: v for k, v in base.tables.items() if len(v)}
    tables["dc_terminal"] = [{"id": "bess", "bus": "H1-SWB", "p_set_w": 2e5}]
    tables["dc_conductance"] = [{"id": "heater", "bus": "H1-R2-T4", "g_s": 0.05}]
    ds = gw.solve(gw.make_case(tables, loss_models=base.loss_model_params, cooling={}))
    a = ds.attrs
    balance = a["p_plant_w"] + a["p_dc_terminals_w"] - a["p_it_w"] - a["p_loss_w"] - a["p_dc_conductances_w"] \
        - a["p_ac_loss_w"]
    # the AC load flow's own tolerance (pandapower, 1e-8 MVA) bounds it, as for any case with a grid side
    assert abs(balance) <= 1e-9 * a["p_plant_w"] and a["plant_energy_balance_residual"] <= 1e-9
