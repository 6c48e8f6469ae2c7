r"""``run_swings(case)``: a training job's power swings at a fine step, the energy stores that smooth them, and
what the grid and the plant see.

The chain of one step (quasi-static; each store is a state advanced step by step, the network is solved at
each step's powers, :mod:`gigawatt.solver.swings.dc_coupling`):

1. IT load p_it = fraction × Σ p_it_w (:mod:`gigawatt.solver.swings.load`), for the campus or per hall
   (``[swing] scope``: each hall, a zone of the DC network, its own fraction);
2. **rack** stores see the shelves' output Σ p_it/η_vrm and deliver on it; the shelves convert the rest
   (per hall, a rack store is split by p_it_w, each part on its hall's load: :func:`split_store`);
3. the DC network at the racks' input powers: the stations' DC outputs;
4. **bus** stores see the stations' total DC output and deliver on the bus, each station's bus taking its
   share (by rating) as a set-power terminal of the DC grid load flow (droop stations' voltage shifts enter
   the losses; :meth:`~gigawatt.solver.swings.dc_coupling.DCCoupling.with_bus_stores`); each station's loss
   is taken at its output;
5. **facility** stores see the stations' AC intake Σ(P_dc + loss) and deliver on the AC side;
6. the point of connection draws p_poc = intake − Σ facility stores.

Stores of one placement act in table order, each seeing the draw left by the one before. Each store's power
comes from its control law and limits (:func:`gigawatt.models.energy_storage.run_store`; a store never
delivers more than the load it sees, so nothing feeds back to the grid). The same chain without the stores
gives ``p_poc_unsmoothed_w``, the reference of every comparison.

What the grid and the plant see: p_poc, its ramp (p_poc[k] − p_poc[k−1])/Δt, its one-sided amplitude
spectrum (FFT of p_poc − mean; the RMS in each user-named band, from Parseval's theorem:
rms² = Σ_band 2|X_k|²/N²), and the findings: the steps whose ramp exceeds ``[swing] ramp_limit_w_per_s`` and
by how much, and each store's steps short of what its law asked (a store too small for its task is a
finding, not an error). Cooling and heat take their own, slower step: the electrical steps' heat averaged
over ``cooling_step_s`` (a plain average; no thermal dynamics).

Energy ledger of the series (closed to round-off, checked): E_poc = E_it + E_vrm + E_shelf + E_network +
E_stations + Σ E_store losses + Σ ΔE_stored.
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.energy_storage import CONTROL_LAWS, LAW_PEAK, LAW_RAMP, STORE_KINDS, capacitor_energy_j, \
    equivalent_full_cycles, run_store
from gigawatt.solver.swings.dc_coupling import DCCoupling
from gigawatt.solver.swings.load import it_fraction, swing_settings

PLACEMENTS = ("rack", "bus", "facility")
LEDGER_TOL = 1e-9
DEFAULT_R_SHARE = 0.005
"""Without r_internal_ohm: r = 0.005·v²/P_rated, a store losing about 0.5 % at rated power (assumption)."""


def store_parameters(case, row: dict) -> dict:
    """A store-table row as the arguments of :func:`gigawatt.models.energy_storage.run_store` (SI), with a
    :class:`CaseError` naming the store and field for what its kind or law needs and lacks."""
    where = f"store '{row['id']}'"

    def need(field):
        v = row.get(field)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise CaseError(f"a {row['kind']} store with control {row['control']} needs {field}", file=case.file,
                            element=where, field=field)
        return float(v)

    kind = STORE_KINDS[row["kind"]]
    law, fields = CONTROL_LAWS[row["control"]]
    pars = [need(f) for f in fields] + [0.0] * (2 - len(fields))
    if row["control"] == "band" and not pars[0] < pars[1]:
        raise CaseError("band_low_hz must be below band_high_hz", file=case.file, element=where, field="band_low_hz",
                        value=pars[0], allowed=f"below {pars[1]} Hz")
    p_max = float(row["power_w"])
    soc_min, soc_max = float(row["soc_min"]), float(row["soc_max"])
    if not soc_min < soc_max:
        raise CaseError("soc_min must be below soc_max", file=case.file, element=where, field="soc_min",
                        value=soc_min, allowed=f"below soc_max = {soc_max}")
    if row["kind"] == "battery":
        e_rated, v, c = need("energy_j"), float(row["v_oc_v"]), 0.0
    else:
        c, v_max, v_min = need("capacitance_f"), need("v_max_v"), float(np.nan_to_num(row.get("v_min_v"), nan=0.0))
        if not v_min < v_max:
            raise CaseError("v_min_v must be below v_max_v", file=case.file, element=where, field="v_min_v",
                            value=v_min, allowed=f"below {v_max} V")
        e_rated, v = float(capacitor_energy_j(c, v_max, 0.0)), v_max
        soc_min = max(soc_min, float(capacitor_energy_j(c, v_min, 0.0)) / e_rated)
    r = row.get("r_internal_ohm")
    r = DEFAULT_R_SHARE * v * v / p_max if r is None or np.isnan(r) else float(r)
    return dict(kind=kind, law=law, par0=pars[0], par1=pars[1], p_max_w=p_max, e_rated_j=e_rated, soc_min=soc_min,
                soc_max=soc_max, soc_set=float(row["soc_set"]), soc0=float(row["soc_initial"]),
                recovery_s=float(row["recovery_s"]), v_oc_v=v, c_f=c, r_ohm=max(r, 1e-12),
                eta=float(row["converter_efficiency"]))


def _run_one(load: np.ndarray, dt: float, par: dict):
    n = load.size
    p, e, loss, want = (np.empty(n) for _ in range(4))
    run_store(load, dt, par["kind"], par["law"], par["par0"], par["par1"], par["p_max_w"], par["e_rated_j"],
              par["soc_min"], par["soc_max"], par["soc_set"], par["soc0"], par["recovery_s"], par["v_oc_v"],
              par["c_f"], par["r_ohm"], par["eta"], True, p, e, loss, want)
    return p, e, loss, want


def _stores(case, stores):
    rows = case.tables["store"].to_dict("records") if stores is None else list(stores)
    rows = [r for r in rows if r.get("in_service", True)]
    return {pl: [(r, store_parameters(case, r)) for r in rows if r["placement"] == pl] for pl in PLACEMENTS}


def split_store(par: dict, share: float) -> dict:
    """A store's parameters for its ``share`` [1] of a group of racks: power, energy, the law's power
    limits scaled by the share, the resistance by its inverse (each part loses the same fraction, so the
    parts together behave as the whole when their loads are the shares of the whole's)."""
    out = dict(par, p_max_w=par["p_max_w"] * share, e_rated_j=par["e_rated_j"] * share, c_f=par["c_f"] * share,
               r_ohm=par["r_ohm"] / share)
    if par["law"] in (LAW_RAMP, LAW_PEAK):
        out["par0"] = par["par0"] * share
    return out


def chain(case, frac, dt, dc: DCCoupling, stores, *, method="auto"):
    """The chain of the module notes along the IT-load fractions ``frac`` [1] (steps, groups) with the stores
    ``{placement: [(row, parameters)]}``: a dict of series [W] and the stores' own series (summed over the
    groups for the rack stores, each part driven by its own group's load)."""
    out_st = []

    def act(load, placed, shares=None):
        """Each store in turn on the load it sees; ``shares``: a rack store split over the groups."""
        grouped = shares is not None
        load = load if grouped else load[:, None]
        shares = shares if grouped else np.ones(1)
        total = np.zeros(load.shape)
        for row, par in placed:
            parts = [_run_one(np.ascontiguousarray(load[:, g] - total[:, g]), dt, split_store(par, shares[g]))
                     for g in range(shares.size)]
            p = np.column_stack([x[0] for x in parts])
            total += p
            out_st.append((row, par, *(sum(x[j] for x in parts) for j in range(4))))
        return total if grouped else total[:, 0]

    p_out = dc.shelf_output_w(frac)
    p_rack = act(p_out, stores["rack"], dc.p_ref_group / dc.p_ref_group.sum())
    ans = dc.solve(frac, p_rack, method=method)
    p_dc = ans.p_station_dc_w.sum(axis=1)
    p_bus = act(p_dc, stores["bus"])  # the control law first, on the stations' output without the stores
    bus = dc.with_bus_stores(ans, p_bus)  # then the network with them as set-power terminals
    st_dc = bus.p_station_dc_w
    st_loss = dc.station_losses(st_dc, bus.v_station_v)
    intake = (st_dc + st_loss).sum(axis=1)
    p_fac = act(intake, stores["facility"])
    series = {"p_it_w": frac @ dc.p_ref_group, "p_rack_in_w": ans.p_in_w, "loss_rack_vrm_w": ans.vrm_loss_w,
              "loss_rack_shelf_w": ans.shelf_loss_w, "loss_distribution_w": bus.loss_distribution_w,
              "p_station_dc_w": st_dc.sum(axis=1), "loss_ac_dc_station_w": st_loss.sum(axis=1),
              "p_intake_w": intake, "p_poc_w": intake - p_fac, "v_min_pu": bus.v_min_pu}
    return series, out_st, (ans, bus)


def prepare(case, method="auto"):
    """The DC coupling of the case's ``[swing] scope`` and the IT-load fractions (steps, groups), step [s]
    and load source."""
    sw = swing_settings(case)
    dc = DCCoupling(case, scope=sw["scope"])
    frac, dt, source = it_fraction(case, float(dc.p_ref.sum()), dc.groups)
    return dc, frac, dt, source


def band_rms(x: np.ndarray, dt: float, bands: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    """(frequencies [Hz], one-sided amplitude spectrum [W], {band: RMS [W]}) of ``x`` − its mean; a band's
    RMS² = Σ_{f in band} 2|X_k|²/N² (Parseval; the Nyquist bin once)."""
    n = x.size
    spec = np.fft.rfft(x - x.mean())
    f = np.fft.rfftfreq(n, dt)
    w = np.full(f.size, 2.0)
    w[0] = 0.0
    if n % 2 == 0:
        w[-1] = 1.0
    power = w * np.abs(spec) ** 2 / n ** 2
    amp = w * np.abs(spec) / n  # a sine of amplitude A shows A (at the Nyquist bin, its cosine's A)
    out = {name: float(np.sqrt(power[(f >= lo) & (f <= hi)].sum())) for name, (lo, hi) in bands.items()}
    return f, amp, out


def parse_bands(items, *, file=None) -> dict:
    """``["name:lo-hi", ...]`` (or one comma-separated string) as ``{name: (lo, hi)}`` [Hz]."""
    out = {}
    for item in [s.strip() for it in items for s in str(it).split(",") if s.strip()]:
        try:
            name, rng = item.split(":")
            lo, hi = (float(v) for v in rng.split("-"))
            if not (0 <= lo < hi):
                raise ValueError
        except ValueError:
            raise CaseError("not a band name:low-high in Hz (low < high)", file=file, element="[swing]",
                            field="bands", value=item, allowed="for example torsional:15.2-16.2") from None
        out[name.strip()] = (lo, hi)
    return out


def run_swings(case, *, stores=None, method: str = "auto", spectrum: bool = True, bands=None):
    """Run the case's training swings with its stores (or ``stores``, rows of the ``store`` table) and return
    the results as an ``xarray.Dataset`` along ``time`` [s from the series' start] (see the module notes).

    ``method``: how the DC network is solved along the series, ``auto`` (the checked Chebyshev surrogate
    when every rack is alike, else the kernel), ``chebyshev`` or ``kernel``
    (:mod:`gigawatt.solver.swings.dc_coupling`). ``spectrum=False`` leaves out the ``frequency`` dimension
    (the band RMS values are kept). ``bands``: ``["name:low-high", ...]`` [Hz] instead of ``[swing] bands``.
    """
    import xarray as xr

    from gigawatt import __version__

    sw = swing_settings(case)
    bands = parse_bands(sw["bands"] or [] if bands is None else bands, file=case.file)
    dc, frac, dt, source = prepare(case, method)
    placed = _stores(case, stores)
    s, st, (ans, bus) = chain(case, frac, dt, dc, placed, method=method)
    s0, _, _ = chain(case, frac, dt, dc, {pl: [] for pl in PLACEMENTS}, method=method)
    n = frac.shape[0]
    time = np.arange(n) * dt

    def var(values, units, long_name, dims=("time",)):
        return dims, values, {"units": units, "long_name": long_name}

    data = {name: var(v, "1" if name == "v_min_pu" else "W", LONG.get(name, name)) for name, v in s.items()}
    data["p_poc_unsmoothed_w"] = var(s0["p_poc_w"], "W", "power at the point of connection without the stores")
    ramp = np.diff(s["p_poc_w"], prepend=s["p_poc_w"][0]) / dt
    ramp0 = np.diff(s0["p_poc_w"], prepend=s0["p_poc_w"][0]) / dt
    data["ramp_w_per_s"] = var(ramp, "W/s", "ramp of the power at the point of connection")
    data["ramp_unsmoothed_w_per_s"] = var(ramp0, "W/s", "ramp of the power at the point of connection without "
                                                        "the stores")
    attrs = {}
    limit = sw.get("ramp_limit_w_per_s")
    if limit:
        excess = np.maximum(np.abs(ramp) - limit, 0.0)
        data["ramp_excess_w_per_s"] = var(excess, "W/s", "ramp beyond [swing] ramp_limit_w_per_s (0 within)")
        bad = np.flatnonzero(excess > 0)
        attrs.update(ramp_limit_w_per_s=float(limit), ramp_limit_exceeded_steps=int(bad.size),
                     ramp_limit_exceeded_s=float(bad.size * dt),
                     ramp_limit_worst_excess_w_per_s=float(excess.max()),
                     ramp_limit_first_exceeded_s=float(time[bad[0]]) if bad.size else -1.0)
    # stores
    ids = [r["id"] for r, *_ in st]
    if st:
        p = np.array([x[2] for x in st])
        e = np.array([x[3] for x in st])
        loss = np.array([x[4] for x in st])
        want = np.array([x[5] for x in st])
        e_rated = np.array([x[1]["e_rated_j"] for x in st])
        e0 = np.array([x[1]["soc0"] for x in st]) * e_rated
        short = np.abs(want - p)
        short_tol = 1e-9 * np.array([x[1]["p_max_w"] for x in st])[:, None]
        soc = e / e_rated[:, None]
        dims = ("store", "time")
        data.update(store_p_w=var(p, "W", "store's terminal power, + discharging", dims),
                    store_soc=var(soc, "1", "store's state of charge (of its rated energy)", dims),
                    store_loss_w=var(loss, "W", "store's losses (internal resistance and converter)", dims),
                    store_shortfall_w=var(short, "W", "power the store's law asked and the store could not give",
                                          dims))
        efc = [equivalent_full_cycles(x) for x in soc]
        life = np.array([x[0].get("cycle_life", np.nan) for x in st], dtype=float)
        data.update(
            store_placement=("store", [x[0]["placement"] for x in st]),
            store_kind=("store", [x[0]["kind"] for x in st]),
            store_control=("store", [x[0]["control"] for x in st]),
            store_power_rated_w=var(np.array([x[1]["p_max_w"] for x in st]), "W", "store's power rating", ("store",)),
            store_energy_rated_j=var(e_rated, "J", "store's rated energy", ("store",)),
            store_full_cycles=var(np.array(efc), "1", "equivalent full cycles (rainflow on the state of charge)",
                                  ("store",)),
            store_life_used=var(np.array(efc) / life, "1", "share of the cycle life used over the series",
                                ("store",)),
            store_energy_loss_j=var(loss.sum(axis=1) * dt, "J", "store's losses over the series", ("store",)),
            store_energy_change_j=var(e[:, -1] - e0, "J", "stored energy at the end less at the start", ("store",)),
            store_short_steps=var((short > short_tol).sum(axis=1), "1", "steps the store could not give what its "
                                  "law asked", ("store",)),
            store_short_worst_w=var(short.max(axis=1), "W", "largest power short of what its law asked",
                                    ("store",)))
        d_stored, e_store_loss = float((e[:, -1] - e0).sum()), float(loss.sum() * dt)
    else:
        d_stored = e_store_loss = 0.0
    # ledger
    e_poc = float(s["p_poc_w"].sum() * dt)
    parts = sum(float(s[k].sum() * dt) for k in ("p_it_w", "loss_rack_vrm_w", "loss_rack_shelf_w",
                                                 "loss_distribution_w", "loss_ac_dc_station_w"))
    residual = abs(e_poc - parts - e_store_loss - d_stored) / max(abs(e_poc), 1e-300)
    if not residual <= LEDGER_TOL:
        raise RuntimeError(f"swing energy ledger does not close: residual {residual:.3g}")  # a bug, not an input
    # spectrum and bands
    f, amp, rms = band_rms(s["p_poc_w"], dt, bands)
    _, amp0, rms0 = band_rms(s0["p_poc_w"], dt, bands)
    coords = {"time": var(time, "s", "time from the series' start"), "store": ids}
    if spectrum:
        data["poc_amplitude_w"] = var(amp, "W", "one-sided amplitude spectrum of the power at the point of "
                                                "connection", ("frequency",))
        data["poc_unsmoothed_amplitude_w"] = var(amp0, "W", "the same without the stores", ("frequency",))
        coords["frequency"] = var(f, "Hz", "frequency", ("frequency",))
    if bands:
        coords["band"] = list(bands)
        data["band_low_hz"] = var(np.array([b[0] for b in bands.values()]), "Hz", "band's lower edge", ("band",))
        data["band_high_hz"] = var(np.array([b[1] for b in bands.values()]), "Hz", "band's upper edge", ("band",))
        data["band_rms_w"] = var(np.array(list(rms.values())), "W", "RMS of the power at the point of connection "
                                                                    "in the band", ("band",))
        data["band_rms_unsmoothed_w"] = var(np.array(list(rms0.values())), "W", "the same without the stores",
                                            ("band",))
    # cooling step: plain averages of the heat
    per = int(round(sw["cooling_step_s"] / dt))
    m = n // per
    heat_racks = s["p_it_w"] + s["loss_rack_vrm_w"] + s["loss_rack_shelf_w"]
    heat_other = s["loss_distribution_w"] + s["loss_ac_dc_station_w"] + (np.array([x[4] for x in st]).sum(axis=0)
                                                                         if st else 0.0)
    if m:
        coords["cooling_time"] = var(np.arange(m) * per * dt, "s", "start of the cooling step", ("cooling_time",))
        data["heat_racks_w"] = var(heat_racks[:m * per].reshape(m, per).mean(axis=1), "W",
                                   "heat in the racks (IT, regulators, shelves), mean over the cooling step",
                                   ("cooling_time",))
        data["heat_other_w"] = var(np.broadcast_to(heat_other, (n,))[:m * per].reshape(m, per).mean(axis=1), "W",
                                   "heat of distribution, stations and stores, mean over the cooling step",
                                   ("cooling_time",))
    peak, peak0 = float(s["p_poc_w"].max()), float(s0["p_poc_w"].max())
    attrs.update(gigawatt_version=__version__, case_name=case.name, case_hash=case.hash(), analysis="swings",
                 load_source=source, step_s=dt, steps=n, cooling_step_s=float(sw["cooling_step_s"]),
                 dc_method=ans.method, dc_surrogate_nodes=ans.nodes, dc_surrogate_max_error_w=ans.surrogate_error_w,
                 bus_store_coupling=bus.coupling, bus_store_surrogate_nodes=bus.nodes,
                 bus_store_surrogate_max_error_w=bus.surrogate_error_w,
                 energy_balance_residual=residual, p_poc_peak_w=peak, p_poc_unsmoothed_peak_w=peak0,
                 peak_reduction=1.0 - peak / peak0 if peak0 > 0 else 0.0,
                 ramp_max_w_per_s=float(np.abs(ramp).max()), ramp_unsmoothed_max_w_per_s=float(np.abs(ramp0).max()),
                 energy_poc_j=e_poc, energy_store_losses_j=e_store_loss, energy_stored_change_j=d_stored,
                 sign_convention="store power positive when discharging (delivering to its bus)",
                 cooling_note="heat averaged to the cooling step (no thermal dynamics)")
    return xr.Dataset(data, coords=coords, attrs=attrs)


LONG = {
    "p_it_w": "IT power of all racks",
    "p_rack_in_w": "racks' input power (the DC network's load)",
    "loss_rack_vrm_w": "voltage-regulator losses",
    "loss_rack_shelf_w": "power-shelf losses",
    "loss_distribution_w": "DC distribution losses (lines, busways)",
    "p_station_dc_w": "stations' DC output after the bus stores",
    "loss_ac_dc_station_w": "stations' losses",
    "p_intake_w": "stations' AC intake",
    "p_poc_w": "power at the point of connection (after the facility stores)",
    "v_min_pu": "lowest DC bus voltage",
}
