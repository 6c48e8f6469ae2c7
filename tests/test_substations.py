"""Substation control modes and per-consumer demand series (issue 20, the consumer half), each result checked
against something the solver did not compute:

- the models (:mod:`gigawatt.models.substations`) against their closed forms written out here, every registry
  entry against its own value;
- the steady stage on one supply pipe and one consumer: a fixed-drop substation's flow m = Q / (cp dT), its
  inlet on the exponential solution T_g + (T_in - T_g) exp(-U L / (m cp)) at that flow and its return
  T_in - dT; the minimum-flow form max(demand flow, minimum), its return T_in - Q / (m cp); a flow-limited
  substation at its limit delivering m_max cp (T_in - T_ret);
- the time series with nothing moving equals the steady solve (the one set of physics) for every mode;
- a substation whose water cooled while it stood idle passes it through at its bypass flow instead of opening
  to its 1 K cap, and the series counts it;
- a demand CSV per consumer and per group reaches the consumers step by step; bad files and fields are one
  CaseError line naming file, column, row and value.

Tolerances: as tests/test_district_heating.py (its module notes): water properties through the solver's
table within 1e-6 of CoolProp where the density or cp enter; temperatures 1e-8 K; the series against the
steady solve 1e-9 relative (its heat tolerance 1e-10 of each demand).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError
from gigawatt.models.substations import (SUBSTATION_CONTROLS, cold_bypass_flow, flow_fixed_delta_t, flow_fixed_return,
                                         flow_limited, outlet_temperature, with_minimum_flow)
from gigawatt.solver.district_heating.series import DistrictHeatingSeries
from gigawatt.solver.district_heating.stage import prepare_district_heating

T_SUPPLY, T_GROUND, T_RETURN = 348.15, 283.15, 313.15  # the schema's defaults [K]
CP = 4180.0


def test_model_closed_forms():
    """Each flow law against its equation with numbers worked by hand: 19.347 kW (a DESTEST house at its peak)
    at 30 K drop: 19347 / (4180 * 30) = 0.1542823 kg/s."""
    assert flow_fixed_delta_t(19347.0, 30.0, CP) == pytest.approx(19347.0 / (4180.0 * 30.0), rel=1e-15)
    assert float(flow_fixed_delta_t(19347.0, 30.0, CP)) == pytest.approx(0.1542823, rel=1e-6)
    assert flow_fixed_return(1e4, 343.15, 313.15, CP) == pytest.approx(1e4 / (CP * 30.0), rel=1e-15)
    assert flow_fixed_return(1e4, 313.65, 313.15, CP) == pytest.approx(1e4 / (CP * 1.0), rel=1e-15)  # the 1 K cap
    assert flow_limited(1e4, 323.15, 313.15, 0.1, CP) == pytest.approx(0.1, rel=1e-15)  # 0.239 > 0.1: limited
    assert flow_limited(1e4, 343.15, 313.15, 0.1, CP) == pytest.approx(1e4 / (CP * 30.0), rel=1e-15)
    assert with_minimum_flow(0.02, 0.05) == 0.05 and with_minimum_flow(0.08, 0.05) == 0.08
    # passed through: the demand's flow at the design difference 75 - 40 degC, or the minimum if larger
    assert cold_bypass_flow(1e4, T_SUPPLY, T_RETURN, 0.0, CP) == pytest.approx(1e4 / (CP * 35.0), rel=1e-15)
    assert cold_bypass_flow(1e4, T_SUPPLY, T_RETURN, 0.5, CP) == 0.5
    assert outlet_temperature(1e4, 343.15, 0.5, CP) == pytest.approx(343.15 - 1e4 / (0.5 * CP), rel=1e-15)
    assert outlet_temperature(1e4, 343.15, 0.0, CP) == 343.15


@pytest.mark.parametrize("mode, expected", [
    ("fixed_return", 1e4 / (CP * (333.15 - 313.15))), ("fixed_delta_t", 1e4 / (CP * 25.0)),
    ("flow_limited", 0.1)])
def test_every_registry_entry(mode, expected):
    """Every control of the registry at 10 kW, 60 degC in, 40 degC set-point, 25 K drop, 0.1 kg/s limit."""
    got = SUBSTATION_CONTROLS[mode].flow(np.array([1e4]), np.array([333.15]), np.array([313.15]), np.array([25.0]),
                                         np.array([0.1]), CP)
    assert float(got[0]) == pytest.approx(expected, rel=1e-15)


def exp_outlet(t_in_k, u_w_per_m_k, length_m, m_cp_w_per_k):
    """Outlet of a pipe losing heat to the ground, exact (Incropera eq. 8.46a) [K]."""
    return T_GROUND + (t_in_k - T_GROUND) * math.exp(-u_w_per_m_k * length_m / m_cp_w_per_k)


def line_case(demand_w=2e5, length_m=1000.0, u=0.3, **consumer):
    """Plant - supply pipe - one fixed-demand consumer - return pipe - plant."""
    tables = {"dh_node": [{"id": x} for x in ("S", "A", "Ar", "R")],
              "dh_pipe": [dict(id="s1", from_node="S", to_node="A", length_m=length_m, diameter_m=0.1, u_w_per_m_k=u),
                          dict(id="r1", from_node="Ar", to_node="R", length_m=length_m, diameter_m=0.1,
                               u_w_per_m_k=u)],
              "dh_consumer": [dict(id="c", supply_node="A", return_node="Ar", kind="fixed", demand_w=demand_w,
                                   **consumer)]}
    return gw.make_case(tables, district_heating={"supply_node": "S", "return_node": "R"})


def solved(case):
    """(results, cp the solver used [J/(kg K)], its supply pipe's U L [W/K])."""
    dh = prepare_district_heating(case)
    return dh.solve(None), dh.cp


def test_fixed_delta_t_flow_and_temperatures_in_closed_form():
    """200 kW at a 30 K drop: m = Q / (cp 30 K) whatever arrives; the water reaches the substation on the
    exponential solution at that flow and leaves it 30 K colder."""
    st, cp = solved(line_case(control="fixed_delta_t", delta_t_k=30.0))
    m = 2e5 / (cp * 30.0)
    t_a = exp_outlet(T_SUPPLY, 0.3, 1000.0, m * cp)
    assert float(st.consumer_flow_kg_s[0]) == pytest.approx(m, rel=1e-12)
    assert float(st.consumer_t_supply_k[0]) == pytest.approx(t_a, abs=1e-8)
    assert float(st.consumer_t_return_k[0]) == pytest.approx(t_a - 30.0, abs=1e-8)
    assert float(st.consumer_q_w[0]) == pytest.approx(2e5, rel=1e-9)
    assert st.figures["dh_heat_balance_residual"] <= 1e-9


def test_minimum_flow_holds_and_the_return_rises():
    """20 kW with a 0.5 kg/s minimum flow (the demand's own flow is about 0.14 kg/s): m = 0.5 kg/s, the inlet
    on the exponential at that flow and the return T_in - Q / (m cp), above the 40 degC set-point."""
    st, cp = solved(line_case(demand_w=2e4, flow_min_kg_s=0.5))
    t_a = exp_outlet(T_SUPPLY, 0.3, 1000.0, 0.5 * cp)
    assert 2e4 / (cp * (t_a - T_RETURN)) < 0.5  # the premise: the minimum binds
    assert float(st.consumer_flow_kg_s[0]) == pytest.approx(0.5, rel=1e-12)
    assert float(st.consumer_t_supply_k[0]) == pytest.approx(t_a, abs=1e-8)
    assert float(st.consumer_t_return_k[0]) == pytest.approx(t_a - 2e4 / (0.5 * cp), abs=1e-8)
    assert float(st.consumer_t_return_k[0]) > T_RETURN + 10.0
    assert float(st.consumer_q_w[0]) == pytest.approx(2e4, rel=1e-9)


def test_minimum_flow_below_the_demand_flow_changes_nothing():
    """A minimum below the demand's flow leaves the fixed-return solve as it was: max(demand flow, minimum)."""
    plain, _ = solved(line_case())
    with_min, _ = solved(line_case(flow_min_kg_s=0.1))  # the demand's flow is about 1.5 kg/s
    assert float(with_min.consumer_flow_kg_s[0]) == pytest.approx(float(plain.consumer_flow_kg_s[0]), rel=1e-12)


def test_flow_limited_substation_at_its_limit():
    """200 kW behind a 1 kg/s limit (the demand needs about 1.5 kg/s): it draws 1 kg/s, cools the water to its
    40 degC set-point and delivers 1 kg/s cp (T_A - 40 degC) < Q, flagged."""
    st, cp = solved(line_case(control="flow_limited", flow_max_kg_s=1.0))
    t_a = exp_outlet(T_SUPPLY, 0.3, 1000.0, 1.0 * cp)
    assert float(st.consumer_flow_kg_s[0]) == pytest.approx(1.0, rel=1e-12)
    assert float(st.consumer_q_w[0]) == pytest.approx(1.0 * cp * (t_a - T_RETURN), rel=1e-9)
    assert float(st.consumer_q_w[0]) < 2e5 and bool(st.consumer_undersupplied[0])


@pytest.mark.parametrize("consumer", [
    pytest.param(dict(control="fixed_delta_t", delta_t_k=30.0), id="fixed_delta_t"),
    pytest.param(dict(control="flow_limited", flow_max_kg_s=1.0), id="flow_limited"),
    pytest.param(dict(flow_min_kg_s=0.5, demand_w=2e4), id="minimum-flow")])
def test_series_with_nothing_moving_equals_the_steady_solve(consumer):
    """The series started from the steady state and held: every step is the steady solve, to round-off."""
    case = line_case(**consumer)
    st, _ = solved(case)
    ser = DistrictHeatingSeries(case)
    for _ in range(5):
        f = ser.step(None, case.settings["district_heating"]["outdoor_t_k"], 900.0)
    np.testing.assert_allclose(ser.consumer_flow_kg_s, st.consumer_flow_kg_s, rtol=1e-9)
    np.testing.assert_allclose(ser.node_t_k(), st.node_t_k, rtol=0, atol=1e-8)
    for key in ("dh_q_plant_w", "dh_q_delivered_w", "dh_q_loss_w", "dh_flow_kg_s"):
        assert f[key] == pytest.approx(st.figures[key], rel=1e-9), key
    assert f["dh_bypassed"] == 0 and ser.energy_balance_residual() <= 1e-9


def test_water_cooled_while_idle_is_passed_through_not_drawn_at_the_cap():
    """A 20 kW substation at the end of 300 m of DN100 (U' = 0.5 W/(m K)) stands idle for a day: the standing
    water cools with the time constant rho A cp / U' = 18 h to below 40 degC. The old behaviour opened to its
    1 K flow, Q / (cp 1 K) = 4.8 kg/s; now it passes that water through at the flow of its demand at the design
    difference, Q / (cp 35 K) = 0.137 kg/s, and is counted. The warm water it draws reaches it after the
    residence time (rho A L / m = 4.8 h), arriving at 60 degC by the exponential at that flow, after which it
    takes its heat again."""
    doc_case = line_case(demand_w=2e4, u=0.5, length_m=300.0)
    ser = DistrictHeatingSeries(doc_case)
    cp = ser.dh.cp
    t_out = doc_case.settings["district_heating"]["outdoor_t_k"]
    ser.dh.demand_model.fixed_w[:] = 0.0  # idle: no demand (the fixed demand array of the prepared model)
    for _ in range(24):
        ser.step(None, t_out, 3600.0)
    assert float(ser.t_in[0]) < T_RETURN  # the premise: the water has cooled below the set-point
    ser.dh.demand_model.fixed_w[:] = 2e4
    f = ser.step(None, t_out + 1e-9, 900.0)  # a new outdoor temperature: the demand is evaluated again
    assert f["dh_bypassed"] == 1 and f["dh_undersupplied"] == 1
    assert float(ser.consumer_flow_kg_s[0]) == pytest.approx(2e4 / (cp * (T_SUPPLY - T_RETURN)), rel=1e-12)
    assert f["dh_flow_kg_s"] < 0.2  # not the 4.8 kg/s cap
    for _ in range(200):
        f = ser.step(None, t_out, 900.0)
    assert f["dh_bypassed"] == 0 and f["dh_q_delivered_w"] == pytest.approx(2e4, rel=1e-6)


# --- demand series ---------------------------------------------------------------------------------------

def series_case(tmp_path, rows, *, header="time,H1,grp", step="15min", periods=4, consumers=None):
    """A DH-only case with a [time] axis of ``periods`` steps and a heat-demand file of ``rows``."""
    start = pd.Timestamp("2018-01-01T00:00")
    lines = [header] + [f"{(start + k * pd.Timedelta(step)).isoformat()},{r}" for k, r in enumerate(rows)]
    (tmp_path / "demand.csv").write_text("\n".join(lines) + "\n")
    cons = consumers or [
        dict(id="H1", supply_node="A", return_node="Ar", kind="series", demand_w=2e4),
        dict(id="H2", supply_node="A", return_node="Ar", kind="series", demand_w=2e4, demand_group="grp"),
        dict(id="H3", supply_node="A", return_node="Ar", kind="series", demand_w=2e4, demand_group="grp")]
    toml = ['[case]\nname = "demand-series"', '[district_heating]\nsupply_node = "S"\nreturn_node = "R"',
            f'[time]\nstart = "2018-01-01T00:00"\nstep = "{step}"\nperiods = {periods}\nweather = "constant"\n'
            'heat_demand = "demand.csv"']
    for x in ("S", "A", "Ar", "R"):
        toml.append(f'[[dh_node]]\nid = "{x}"')
    for pid, a, b in (("s1", "S", "A"), ("r1", "Ar", "R")):
        toml.append(f'[[dh_pipe]]\nid = "{pid}"\nfrom_node = "{a}"\nto_node = "{b}"\nlength_m = 200.0\n'
                    'diameter_m = 0.08\nu_w_per_m_k = 0.2')
    for c in cons:
        toml.append("[[dh_consumer]]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in c.items()))
    (tmp_path / "case.toml").write_text("\n\n".join(toml) + "\n")
    return gw.load_case(tmp_path / "case.toml")


def test_demand_series_per_consumer_and_per_group(tmp_path):
    """H1 reads its own column, H2 and H3 the group's: the step's demand is the file's, each group member
    drawing the column's value; the ledger closes."""
    rows = ["10000,5000", "12000,6000", "8000,0", "9000,7000"]
    ds = gw.run_time_series(series_case(tmp_path, rows))
    expected = [10000 + 2 * 5000, 12000 + 2 * 6000, 8000, 9000 + 2 * 7000]
    np.testing.assert_allclose(ds["dh_q_demand_w"].values, expected, rtol=1e-15)
    assert ds.attrs["dh_energy_balance_residual"] <= 1e-9
    assert ds["dh_bypassed"].values.tolist() == [0, 0, 0, 0]  # the per-step count is a result variable


@pytest.mark.parametrize("rows, header, step, periods, message", [
    pytest.param(["1,1", "1,1", "1,1"], None, "15min", 4, "rows", id="too-few-rows"),
    pytest.param(["1,1", "1,1", "-5,1", "1,1"], None, "15min", 4, "out of range", id="negative-demand"),
    pytest.param(["1,1", "1,1", "1,1", "1,1"], "time,H1,grp,H9", "15min", 4, "names no series consumer",
                 id="unknown-consumer"),
    pytest.param(["1,1", "1,", "1,1", "1,1"], None, "15min", 4, "missing value", id="missing-value"),
])
def test_bad_demand_file_is_one_clear_line(tmp_path, rows, header, step, periods, message):
    if header == "time,H1,grp,H9":
        rows = [r + ",1" for r in rows]
    case = series_case(tmp_path, rows, header=header or "time,H1,grp", step=step, periods=periods)
    with pytest.raises(CaseError) as err:
        gw.run_time_series(case)
    text = str(err.value)
    assert message in text and "demand.csv" in text and "\n" not in text


def test_demand_file_with_a_gap_or_the_wrong_step(tmp_path):
    """A gap (a missing 15-min row) and an hourly file on a 15-min axis: each named with its row."""
    case = series_case(tmp_path, ["1,1"] * 4)
    text = (tmp_path / "demand.csv").read_text().splitlines()
    (tmp_path / "demand.csv").write_text("\n".join(text[:2] + text[3:]) + "\n")  # drop the second step
    with pytest.raises(CaseError, match="gap: 1 missing step"):
        gw.run_time_series(case)
    with pytest.raises(CaseError, match="irregular step|step") as err:
        gw.run_time_series(_axis_15min_file_1h(tmp_path))
    assert "demand.csv" in str(err.value)


def _axis_15min_file_1h(tmp_path):
    """The case of :func:`series_case` on a 15-min axis whose heat-demand file is hourly."""
    case = series_case(tmp_path, ["1,1"] * 4)
    start = pd.Timestamp("2018-01-01T00:00")
    rows = [f"{(start + k * pd.Timedelta('1h')).isoformat()},1,1" for k in range(4)]
    (tmp_path / "demand.csv").write_text("time,H1,grp\n" + "\n".join(rows) + "\n")
    return case


def test_series_consumer_without_a_column_and_an_unknown_control(tmp_path):
    cons = [dict(id="H1", supply_node="A", return_node="Ar", kind="series", demand_w=2e4),
            dict(id="H2", supply_node="A", return_node="Ar", kind="series", demand_w=2e4)]
    with pytest.raises(CaseError, match="no column in the heat-demand file") as err:
        gw.run_time_series(series_case(tmp_path, ["1"] * 4, header="time,H1", consumers=cons))
    assert "H2" in str(err.value)
    with pytest.raises(CaseError, match="control") as err:
        line_case(control="fixed_temperature")
    assert "fixed_return" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CaseError, match="needs delta_t_k"):
        prepare_district_heating(line_case(control="fixed_delta_t"))


def test_series_consumer_needs_a_demand_file(tmp_path):
    case = series_case(tmp_path, ["1,1"] * 4)
    text = (tmp_path / "case.toml").read_text().replace('heat_demand = "demand.csv"', "")
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match="no heat-demand file"):
        gw.run_time_series(gw.load_case(tmp_path / "case.toml"))


def test_demand_reader_returns_si_columns(tmp_path):
    from gigawatt.cases.series_file import read_heat_demand

    series_case(tmp_path, ["1000,2.5", "0,3"], periods=2)
    ds = read_heat_demand(Path(tmp_path / "demand.csv"), periods=2, step="15min")
    assert list(ds["demand_column"].values) == ["H1", "grp"]
    np.testing.assert_array_equal(ds["heat_demand_w"].values, [[1000.0, 2.5], [0.0, 3.0]])
    assert ds.attrs["step_s"] == 900.0
