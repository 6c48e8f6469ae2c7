"""District-heating results: per node, pipe and consumer variables and the plant's figures, added to the
results dataset (dimensions ``dh_node``, ``dh_pipe``, ``dh_consumer``; figures as attributes)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from gigawatt.models.consumers import FARM_MODEL_BASIS
from gigawatt.solver.district_heating.stage import DHState, annual_heat_per_home_j

DH_VARIABLES = {
    "dh_p_pa": ("dh_node", "Pa", "pressure (gauge)"),
    "dh_t_k": ("dh_node", "K", "water temperature"),
    "dh_pipe_flow_kg_s": ("dh_pipe", "kg/s", "mass flow, positive from from_node to to_node"),
    "dh_pipe_velocity_m_s": ("dh_pipe", "m/s", "mean velocity, signed as the flow"),
    "dh_pipe_t_out_k": ("dh_pipe", "K", "temperature at the pipe's downstream end"),
    "dh_pipe_loss_w": ("dh_pipe", "W", "heat lost to the ground"),
    "dh_consumer_q_w": ("dh_consumer", "W", "heat delivered"),
    "dh_consumer_demand_w": ("dh_consumer", "W", "heat demand at the outdoor temperature"),
    "dh_consumer_flow_kg_s": ("dh_consumer", "kg/s", "flow through the substation"),
    "dh_consumer_t_supply_k": ("dh_consumer", "K", "supply temperature arriving at the substation"),
    "dh_consumer_t_return_k": ("dh_consumer", "K", "temperature the substation returns its water at"),
    "dh_consumer_undersupplied": ("dh_consumer", "1", "supply temperature below the consumer's t_supply_min_k"),
    "dh_booster_flow_kg_s": ("dh_pump", "kg/s", "mass flow through the booster pump, positive from from_node to to_node"),
    "dh_booster_head_m": ("dh_pump", "m", "head the booster pump gives (its curve at its flow)"),
    "dh_booster_power_w": ("dh_pump", "W", "electricity the booster pump draws"),
}

DH_ATTRS = ("dh_q_plant_w", "dh_t_return_k", "dh_flow_kg_s", "dh_q_delivered_w", "dh_q_demand_w", "dh_q_loss_w",
            "dh_q_friction_w", "dh_q_cp_step_w", "dh_q_twin_exchange_w",
            "dh_pump_w", "dh_booster_w", "dh_pump_dp_pa", "dh_pump_head_m", "dh_pump_speed", "dh_pump_efficiency", "dh_plant_electric_w", "dh_heat_balance_residual", "dh_iterations", "dh_property_iterations", "dh_undersupplied", "dh_bypassed",
            "hp_cop", "hp_heat_w", "hp_electric_w", "q_from_campus_w", "boiler_heat_w", "boiler_fuel_w",
            "homes_equivalent", "annual_heat_per_home_j", "vertical_farm_area_m2", "vertical_farm_area_served_m2",
            "reuse_share")


def add_district_heating(ds: xr.Dataset, case, st: DHState) -> xr.Dataset:
    """Add the district-heating variables and figures to ``ds`` (in place) and name under-supplied
    consumers in the warnings."""
    new, coords = {}, {}  # added in one merge: each ds[name] = ... realigns every index
    coords["dh_node"] = case.tables["dh_node"]["id"].to_numpy()
    coords["dh_pipe"] = case.tables["dh_pipe"]["id"].to_numpy()
    coords["dh_consumer"] = case.tables["dh_consumer"]["id"].to_numpy()
    coords["dh_pump"] = case.tables["dh_pump"]["id"].to_numpy()
    values = {"dh_p_pa": st.node_p_pa, "dh_t_k": st.node_t_k, "dh_pipe_flow_kg_s": st.pipe_flow_kg_s,
              "dh_pipe_velocity_m_s": st.pipe_velocity_m_s, "dh_pipe_t_out_k": st.pipe_t_out_k,
              "dh_pipe_loss_w": st.pipe_loss_w, "dh_consumer_q_w": st.consumer_q_w,
              "dh_consumer_demand_w": st.consumer_demand_w, "dh_consumer_flow_kg_s": st.consumer_flow_kg_s,
              "dh_consumer_t_supply_k": st.consumer_t_supply_k, "dh_consumer_t_return_k": st.consumer_t_return_k,
              "dh_consumer_undersupplied": st.consumer_undersupplied, "dh_booster_flow_kg_s": st.booster_flow_kg_s,
              "dh_booster_head_m": st.booster_head_m, "dh_booster_power_w": st.booster_power_w}
    for name, v in values.items():
        dim, unit, long_name = DH_VARIABLES[name]
        new[name] = xr.Variable(dim, np.asarray(v), attrs={"units": unit, "long_name": long_name})
    new["dh_consumer_kind"] = xr.Variable("dh_consumer", case.tables["dh_consumer"]["kind"].to_numpy(),
                                          attrs={"units": "1", "long_name": "demand model of the consumer"})
    ds.update(xr.Dataset(new, coords=coords))
    f = dict(st.figures)
    f["reuse_share"] = f["q_recovered_w"] / ds.attrs["q_available_w"] if ds.attrs.get("q_available_w") else 0.0
    ds.attrs.update({k: float(f[k]) for k in DH_ATTRS})
    ds.attrs.update(demand_basis_attrs(case, "campus heat at this hour's rate held for a year"))
    ds.attrs.update(pipe_geometry_attrs(case))
    under = np.flatnonzero(st.consumer_undersupplied)
    if under.size:
        ids = ds.dh_consumer.values
        t_min = case.tables["dh_consumer"]["t_supply_min_k"].to_numpy(float)
        t_in = st.consumer_t_supply_k
        # The reason each is flagged: water below what it needs, or too little heat (its flow at its cap).
        lines = [f"consumer '{ids[i]}' gets {t_in[i] - 273.15:.1f} °C, below the {t_min[i] - 273.15:.1f} °C it needs"
                 if t_in[i] < t_min[i] else
                 f"consumer '{ids[i]}' gets {st.consumer_q_w[i] / 1e3:.1f} kW of the "
                 f"{st.consumer_demand_w[i] / 1e3:.1f} kW it demands (water at {t_in[i] - 273.15:.1f} °C; its flow "
                 "is at its cap)" for i in under[:5]]
        if under.size > 5:
            lines.append(f"... {under.size} consumers under-supplied in all")
        ds.attrs["warnings"] = "\n".join(filter(None, [ds.attrs.get("warnings", "")] + lines))
    return ds


def pipe_geometry_attrs(case) -> dict[str, str]:
    """``dh_pipe_geometry_assumption``: the pipes whose heat loss rests on an assumed casing or twin spacing (no
    ``u_w_per_m_k``, ``casing_diameter_m`` or ``twin_spacing_m`` given), so that the assumption travels with the
    results; empty when every such figure was given."""
    pipes = case.tables["dh_pipe"]
    derived = pipes["u_w_per_m_k"].isna()
    casing = (derived & pipes["casing_diameter_m"].isna()).to_numpy()
    if "twin_pipe" in pipes:  # a pipe is a twin when it names a partner or a partner names it
        named = [x.strip() for x in pipes["twin_pipe"] if isinstance(x, str) and x.strip()]
        twin = (pipes["id"].isin(named) | pipes["twin_pipe"].isin(set(pipes["id"]))).to_numpy()
    else:
        twin = np.zeros(len(pipes), bool)
    spacing = derived.to_numpy() & twin & (pipes["twin_spacing_m"].isna().to_numpy() if "twin_spacing_m" in pipes
                                           else True)
    parts = []
    if (casing & ~twin).any():
        parts.append(f"{int((casing & ~twin).sum())} single pipe(s) with the assumed casing 2 x outer diameter "
                     "+ 0.05 m")
    if (casing & twin).any():
        parts.append(f"{int((casing & twin).sum())} twin pipe(s) with the assumed casing 3.5 x outer diameter "
                     "+ 0.075 m")
    if np.any(spacing):
        parts.append(f"{int(np.sum(spacing))} twin pipe(s) with the assumed spacing (casing + outer diameter) / 3")
    if not parts:
        return {}
    return {"dh_pipe_geometry_assumption": "assumption (no published dimension table cited): " + "; ".join(parts)
            + "; give casing_diameter_m / twin_spacing_m or u_w_per_m_k to replace it"}


def demand_basis_attrs(case, reused: str) -> dict[str, str]:
    """String attributes that say what the homes and farms figures rest on: ``homes_equivalent_basis`` (the
    annual-energy basis of the homes heated, ``reused`` naming the heat counted) and, with vertical farms,
    ``vertical_farm_model`` (an illustrative assumption)."""
    e, basis = annual_heat_per_home_j(case)
    out = {"homes_equivalent_basis": f"annual energy: {reused} / {e / 3.6e9:.1f} MWh a year per home ({basis})"}
    if (case.tables["dh_consumer"]["kind"] == "vertical_farm").any():
        out["vertical_farm_model"] = FARM_MODEL_BASIS
    return out
