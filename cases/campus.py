"""Parametric campus builder: halls, stations, row feeders, busways and racks from a few numbers.

Topology of each hall (all at the distribution voltage ``v_dc_v``)::

    station ST1 ─busbar─┐
    station ST2 ─busbar─┤ switchboard SWB ─feeder─ row head ─busway─ tap 1 ─busway─ tap 2 … tap n
                        │                     (rack 1 at tap 1, rack 2 at tap 2, …)
                        └─ (optional return feeder from tap n back to SWB: one ring per row)

Stations are rectifiers or SSTs with V–P droop sharing the hall load; racks are constant-power loads whose
IT power is reached through their shelves (loss model) and voltage regulators.

With ``sites`` > 1 the campus is that many copies of these halls (ids prefixed 'S1-', 'S2-', …), and with
``grid`` set each site gets its own grid side (:func:`grid_tables`): a supply, an HV line, HV/MV
transformers and one MV cable per station, each station drawing from its own AC bus.

Arrays are built with numpy; 10⁶ buses take a few seconds, most of it validating the tables.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gigawatt.cases.memory import BYTES_PER_RACK, check_memory
from gigawatt.cases.schema import schema_keywords, validate_settings
from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import BUILT_IN_MODELS

if TYPE_CHECKING:
    from gigawatt.cases.case import Case

# Rack shelf rating when not given: 10 % above the rack's shelf output at full IT power.
SHELF_RATING_MARGIN = 1.1

LOSSLESS = "none"
"""The value of ``station_loss_model`` or ``shelf_loss_model`` that asks for lossless stations or racks
without shelves: an idealisation the summary states (see :func:`idealised_elements`)."""

def campus_loss_models(params: dict, loss_models: dict | None, *, file=None) -> dict:
    """``loss_models`` with the built-in models (:data:`gigawatt.models.converter_losses.BUILT_IN_MODELS`:
    the default station and shelf models) the ``[campus]`` settings name and the case does not define; a
    name that is neither refused, naming the field."""
    p = validate_settings("campus", params, file=file)
    out = dict(loss_models or {})
    for field in ("station_loss_model", "shelf_loss_model"):
        name = p[field]
        if name in ("", LOSSLESS) or name in out:
            continue
        if name not in BUILT_IN_MODELS:
            raise CaseError("refers to a loss model that does not exist", file=file, element="[campus]", field=field,
                            value=name, allowed=", ".join([*out, *BUILT_IN_MODELS, LOSSLESS]))
        out[name] = dict(BUILT_IN_MODELS[name])
    return out


def _ids(pattern: str, *parts: np.ndarray) -> np.ndarray:
    """Element ids like 'H1-R3-T12' from a pattern with one '{}' per integer array (1-based in the names).

    Built by concatenating object arrays (a C loop) rather than formatting each id in Python: 10⁶ ids in
    a tenth of a second instead of seconds.
    """
    pieces = [p.encode() for p in pattern.split("{}")]
    out = np.asarray(pieces[0])
    for piece, part in zip(pieces[1:], parts):
        numbers = np.arange(int(part.max()) + 2 if part.size else 1).astype("S")
        out = np.strings.add(np.strings.add(out, numbers[part.astype(np.int64) + 1]), piece)
    # Fixed-width byte strings until here (a quarter of the memory of str arrays, no Python object per
    # intermediate piece); one conversion to str objects at the end.
    return out.astype(str).astype(object)


def build_campus_tables(params: dict, loss_models: dict, *, file=None) -> dict[str, pd.DataFrame]:
    """Element tables of a campus described by the ``[campus]`` settings (see the schema table).

    Parameters
    ----------
    params : dict
        ``[campus]`` settings; validated here against the schema (units converted, defaults filled).
    loss_models : dict
        Built loss models by name, used to size the stations from the racks' shelf input power.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``bus``, ``line``, ``source`` and ``rack`` tables in canonical names and SI units; with ``grid`` set
        also ``ac_bus``, ``ac_line``, ``ac_trafo`` and ``ac_supply`` (:func:`grid_tables`).
    """
    p = validate_settings("campus", params, file=file)
    n_site = p["sites"]
    check_memory(n_site * p["halls"] * p["rows_per_hall"] * p["racks_per_row"], BYTES_PER_RACK,
                 "a campus of sites × halls × rows_per_hall × racks_per_row racks", file=file, element="[campus]")
    nh, nr, nk, ns = n_site * p["halls"], p["rows_per_hall"], p["racks_per_row"], p["stations_per_hall"]
    v = p["v_dc_v"]

    # Hall h (0-based over the whole campus) is hall h % halls of site h // halls; with one site the ids
    # keep their site-free form ('H1-R3-T12').
    if n_site > 1:
        def hid(pattern, h, *rest):
            return _ids("S{}-" + pattern, h // p["halls"], h % p["halls"], *rest)
    else:
        hid = _ids

    h_st, s_st = np.divmod(np.arange(nh * ns), ns)
    h_row, r_row = np.divmod(np.arange(nh * nr), nr)
    rack = np.arange(nh * nr * nk)
    h_rack, rem = np.divmod(rack, nr * nk)
    r_rack, k_rack = np.divmod(rem, nk)

    st_bus = hid("H{}-ST{}", h_st, s_st)
    swb_bus = hid("H{}-SWB", np.arange(nh))
    head_bus = hid("H{}-R{}-head", h_row, r_row)
    tap_bus = hid("H{}-R{}-T{}", h_rack, r_rack, k_rack)
    buses = np.concatenate([st_bus, swb_bus, head_bus, tap_bus])

    # Lines: station busbars, row feeders, busway segments (head→T1, T1→T2, …), optional ring closers.
    prev_of_tap = np.where(k_rack == 0, head_bus[h_rack * nr + r_rack], np.roll(tap_bus, 1))
    n_ring = min(int(p["ring_rows"]), nh * nr)
    ring_rows = np.arange(n_ring)
    ring_end = tap_bus[ring_rows * nk + nk - 1]
    row_length = nk * p["rack_pitch_m"]
    line = pd.DataFrame({
        "id": np.concatenate([hid("H{}-ST{}-link", h_st, s_st), hid("H{}-R{}-feeder", h_row, r_row),
                              hid("H{}-R{}-seg{}", h_rack, r_rack, k_rack),
                              hid("H{}-R{}-return", *np.divmod(ring_rows, nr))]),
        "from_bus": np.concatenate([st_bus, swb_bus[h_row], prev_of_tap, ring_end]),
        "to_bus": np.concatenate([swb_bus[h_st], head_bus, tap_bus, swb_bus[ring_rows // nr]]),
        "kind": np.repeat(np.array(["busbar", "cable", "busway", "cable"], dtype=object),  # shared objects
                          [nh * ns, nh * nr, rack.size, n_ring]),
        "length_m": np.repeat([p["station_link_length_m"], p["feeder_length_m"], p["rack_pitch_m"],
                               p["feeder_length_m"] + row_length], [nh * ns, nh * nr, rack.size, n_ring]),
        "cross_section_m2": np.repeat([p["station_link_cross_section_m2"], p["feeder_cross_section_m2"],
                                       p["busway_cross_section_m2"], p["feeder_cross_section_m2"]],
                                      [nh * ns, nh * nr, rack.size, n_ring]),
    })

    p_it = p["rack_it_power_w"]
    vrm = p["vrm_efficiency"]
    station_model = "" if p["station_loss_model"] == LOSSLESS else p["station_loss_model"]
    shelf_model = "" if p["shelf_loss_model"] == LOSSLESS else p["shelf_loss_model"]
    input_basis = p["rack_power_basis"] == "input"
    # Shelf rating and rack input from the rack's power: an input basis rates the shelves on the input.
    shelf_rated = p["shelf_rated_power_w"] or SHELF_RATING_MARGIN * max(p_it, 1.0) / (1.0 if input_basis else vrm)
    shelf_in = p_it if input_basis else p_it / vrm
    if shelf_model and not input_basis:
        shelf_in += float(loss_models[shelf_model].loss_w(p_it / vrm, 50.0, shelf_rated))
    station_rating = p["station_margin"] * max(shelf_in * nr * nk / ns, 1.0)

    racks = pd.DataFrame({
        "id": hid("H{}-R{}-rack{}", h_rack, r_rack, k_rack), "bus": tap_bus, "p_it_w": p_it,
        "p_it_basis": p["rack_power_basis"], "shelf_loss_model": shelf_model, "shelf_rated_power_w": shelf_rated,
        "vrm_efficiency": vrm, "cooling_loop": hid("H{}-R{}", h_rack, r_rack),  # one CDU loop per row
    })
    if p["rack_pole"] == "alternating":
        racks["pole"] = np.where(k_rack % 2 == 0, "positive", "negative").astype(object)
    elif p["rack_pole"] != "bipolar":
        racks["pole"] = p["rack_pole"]
    sources = pd.DataFrame({
        "id": st_bus, "bus": st_bus, "kind": p["station_kind"], "v_set_v": v,
        "droop": p["station_droop"], "rated_power_w": station_rating,
        "loss_model": station_model, "power_factor": p["station_power_factor"],
    })
    bus = pd.DataFrame({"id": buses, "v_nominal_v": v})
    tables = {"bus": bus, "line": line, "source": sources, "rack": racks}
    if p["grid"] != "none":
        sources["ac_bus"] = st_bus + "-ac"
        tables.update(grid_tables(p, st_bus, h_st // p["halls"], station_rating))
    supplies = tables["ac_supply"] if p["grid"] != "none" else sources  # what the carbon figures apply to
    if p["supply_carbon_intensity_kg_per_j"] is not None:
        supplies["carbon_intensity_kg_per_j"] = p["supply_carbon_intensity_kg_per_j"]
    supplies["energy_source"] = p["supply_energy_source"]
    return tables


def grid_tables(p: dict, station: np.ndarray, station_site: np.ndarray, station_rating_w: float
                ) -> dict[str, pd.DataFrame]:
    """The grid side of every site (``[campus]`` settings ``grid*``; ``p`` validated), in the AC tables.

    Per site s (ids 'S<s>-…')::

        supply ─(GSU, gen only)─ POC ══ HV line (n circuits) ══ HV ─┬─ T1 ─ MV1 ─ cables ─ stations' AC buses
                                                                 ├─ T2 ─ MV2 ─ …
                                                                 └─ …

    ``ext_grid``: a transmission substation at the point of connection (POC, ``grid_hv_v``); ``gen``: the
    plant's generator at its terminals (GEN, ``grid_gen_v``), the island's slack, behind a step-up
    transformer rated at the site's total. The stations of a site are dealt to its HV/MV transformers in
    contiguous blocks (hall order). Ratings follow the stations' (rated DC power / station_power_factor):
    each transformer that of its block, each line or cable the fewest circuits that carry it.
    """
    n_site, n_tr = p["sites"], p["grid_transformers_per_site"]
    station_ac_bus = station + "-ac"
    pf = p["station_power_factor"]
    s_station = station_rating_w / pf  # [VA] apparent power of one station at its rating
    site_ids = np.arange(n_site)
    st_per_site = station_ac_bus.size // n_site
    if n_tr > st_per_site:
        raise CaseError("more transformers per site than stations to feed", element="[campus]",
                        field="grid_transformers_per_site", value=n_tr,
                        allowed=f"at most halls × stations_per_hall = {st_per_site}")
    # Transformer of each station within its site: contiguous blocks, as equal as the counts allow.
    local = np.arange(station_ac_bus.size) % st_per_site
    tr_of_station = station_site * n_tr + (local * n_tr) // st_per_site
    n_on_tr = np.bincount(tr_of_station, minlength=n_site * n_tr)
    s_site = st_per_site * s_station
    hv, mv, gen_v = p["grid_hv_v"], p["grid_mv_v"], p["grid_gen_v"]

    import pandapower as pp  # the line's standard type sets its rating, which sets the circuit count

    hv_type = p["grid_hv_line_std_type"]
    types = pp.available_std_types(pp.create_empty_network(), "line")
    if hv_type not in types.index:
        raise CaseError("not a pandapower standard line type", element="[campus]", field="grid_hv_line_std_type",
                        value=hv_type, allowed=f"one of pandapower's line types ({', '.join(types.index[:6])}, ...)")
    hv_circuits = int(np.ceil(s_site / (np.sqrt(3) * hv * float(types.loc[hv_type, "max_i_ka"]) * 1e3)))
    mv_circuits = int(np.ceil(s_station / (np.sqrt(3) * mv * p["grid_mv_cable_max_i_a"])))

    site = _ids("S{}", site_ids)
    tr_site, tr_k = np.divmod(np.arange(n_site * n_tr), n_tr)
    mv_bus = _ids("S{}-MV{}", tr_site, tr_k)
    ac_bus = [pd.DataFrame({"id": np.concatenate([site + "-POC", site + "-HV"]),
                            "v_nominal_v": hv}),
              pd.DataFrame({"id": mv_bus, "v_nominal_v": mv}),
              pd.DataFrame({"id": station_ac_bus, "v_nominal_v": mv})]
    ac_line = pd.DataFrame({
        "id": np.concatenate([site + "-hv-line", station + "-cable"]),
        "from_bus": np.concatenate([site + "-POC", mv_bus[tr_of_station]]),
        "to_bus": np.concatenate([site + "-HV", station_ac_bus]),
        "kind": np.repeat(np.array(["overhead", "cable"], dtype=object), [n_site, station_ac_bus.size]),
        "length_m": np.repeat([p["grid_hv_line_length_m"], p["grid_mv_cable_length_m"]], [n_site, station_ac_bus.size]),
        "std_type": np.repeat(np.array([hv_type, ""], dtype=object), [n_site, station_ac_bus.size]),
        "n_parallel": np.repeat([hv_circuits, mv_circuits], [n_site, station_ac_bus.size]),
    })
    for name in ("r_ohm_per_m", "x_ohm_per_m", "c_f_per_m", "max_i_a"):
        ac_line[name] = np.concatenate([np.full(n_site, np.nan),
                                        np.full(station_ac_bus.size, p[f"grid_mv_cable_{name}"])])
    ac_trafo = [pd.DataFrame({"id": _ids("S{}-T{}", tr_site, tr_k), "hv_bus": site[tr_site] + "-HV", "lv_bus": mv_bus,
                              "rated_power_va": n_on_tr * s_station, "v_rated_hv_v": hv, "v_rated_lv_v": mv})]
    supply = {"id": site + "-supply", "kind": p["grid"], "vm_pu": p["grid_vm_pu"]}
    if p["grid"] == "gen":
        ac_bus.append(pd.DataFrame({"id": site + "-GEN", "v_nominal_v": gen_v}))
        ac_trafo.append(pd.DataFrame({"id": site + "-GSU", "hv_bus": site + "-POC", "lv_bus": site + "-GEN",
                                      "rated_power_va": s_site, "v_rated_hv_v": hv, "v_rated_lv_v": gen_v}))
        supply.update(bus=site + "-GEN", slack=True, rated_power_va=s_site)
    else:
        supply.update(bus=site + "-POC")
    ac_trafo = pd.concat(ac_trafo, ignore_index=True)
    s_unit = ac_trafo["rated_power_va"].to_numpy(float)
    ac_trafo["vk_percent"] = p["grid_trafo_vk_percent"]
    ac_trafo["vkr_percent"] = p["grid_trafo_vkr_percent"]
    ac_trafo["p_fe_w"] = s_unit * p["grid_trafo_p_fe_percent"] / 100.0
    ac_trafo["i0_percent"] = p["grid_trafo_i0_percent"]
    return {"ac_bus": pd.concat(ac_bus, ignore_index=True), "ac_line": ac_line, "ac_trafo": ac_trafo,
            "ac_supply": pd.DataFrame(supply)}


@schema_keywords("campus", "Every ``[campus]`` field is a keyword (any unit spelling the loader accepts: "
                            "``rack_it_power_kw=130``), from the schema table ``cases/schema.csv``:")
def build_campus(*, loss_models: dict | None = None, case: dict | None = None, solver: dict | None = None,
                 cooling: dict | None = None, dc: dict | None = None, kpi: dict | None = None,
                 time: dict | None = None, swing: dict | None = None, store: list | None = None,
                 **campus) -> "Case":
    """Build a validated campus case in code, with the same parameters as a case file's ``[campus]`` table.

    ``cooling`` holds the ``[cooling]`` settings (``{}`` for all defaults); each row gets its own
    technology cooling loop and CDU. ``dc`` holds the ``[dc]`` settings (``{"system": "bipolar"}`` with
    ``v_dc_v`` the pole-to-neutral voltage, e.g. 400 for ±400 VDC); ``kpi`` the ``[kpi]`` settings and
    ``time`` the ``[time]`` settings (a time axis for :func:`gigawatt.run_time_series`); ``swing`` the
    ``[swing]`` settings and ``store`` the energy stores (rows of the ``store`` table) for
    :func:`gigawatt.run_swings`.

    The defaults are the bundled case's: SST stations at 98 % (``sst_98``), 800 V → 50 V shelves
    (``shelf_800_50``), each rack's ``rack_it_power_kw`` its input power (``rack_power_basis = "input"``);
    those loss models are defined here unless ``loss_models`` defines them. ``station_loss_model="none"``
    or ``shelf_loss_model="none"`` asks for lossless stations or racks without shelves, which the summary
    then states.

    >>> import gigawatt as gw
    >>> case = gw.build_campus(halls=1, rows_per_hall=2, racks_per_row=4, rack_it_power_kw=130)
    >>> len(case.tables["rack"])
    8
    """
    from gigawatt.cases.case import make_case

    loss_models = campus_loss_models(campus, loss_models)
    models = make_case(loss_models=loss_models).loss_models
    tables = build_campus_tables(campus, dict(models))
    if store:
        tables["store"] = list(store)
    return make_case(tables, loss_models=loss_models, case=case, solver=solver, cooling=cooling, dc=dc, kpi=kpi,
                     time=time, swing=swing)
