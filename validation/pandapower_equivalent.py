"""The same DC network as a pandapower AC network with purely resistive lines and active power only.

Why this is the same network: for a three-phase line of per-phase resistance R and no reactance carrying
P at line-to-line voltage U, I = P/(√3·U), the loss 3·I²·R = P²R/U² and the line-to-line drop √3·I·R = P·R/U
equal the DC two-wire loop's loss and drop with loop resistance R at DC voltage U. With zero reactance and
no reactive power every voltage angle is zero, so per-unit voltages and losses coincide and the AC line
current is the DC current divided by √3.

Restrictions: stiff sources only (pandapower has no V–P droop), no DC/DC converters; racks become loads of
their input power (IT power through shelves and regulators).
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError


def to_pandapower(case, net=None):
    """pandapower network equivalent to ``case``; returns ``(net, bus_index)`` where ``bus_index[i]`` is the
    pandapower bus of row i of the case's bus table."""
    import pandapower as pp

    from gigawatt.solver.dc.assembly import assemble, line_resistance

    t = case.tables
    live_src = t["source"]["in_service"].to_numpy(bool)
    if t["converter"]["in_service"].to_numpy(bool).any() or (t["source"]["droop"].to_numpy()[live_src] > 0).any():
        raise CaseError("the pandapower equivalent takes stiff sources only and no DC/DC converters",
                        file=case.file, field="source.droop")
    assembled = assemble(case)
    net = pp.create_empty_network()
    buses = pp.create_buses(net, len(t["bus"]), vn_kv=t["bus"]["v_nominal_v"].to_numpy(float) / 1e3)
    bus_index = np.asarray(buses)
    lines = t["line"][t["line"]["in_service"].to_numpy(bool)]
    row = {b: i for i, b in enumerate(t["bus"]["id"].to_numpy())}
    frm = bus_index[[row[b] for b in lines["from_bus"]]]
    to = bus_index[[row[b] for b in lines["to_bus"]]]
    length_km = lines["length_m"].to_numpy(float) / 1e3
    r = line_resistance(lines)
    pp.create_lines_from_parameters(net, frm, to, length_km=length_km, r_ohm_per_km=r / length_km,
                                    x_ohm_per_km=np.zeros(len(lines)), c_nf_per_km=np.zeros(len(lines)),
                                    max_i_ka=np.full(len(lines), 1e6))
    for _, s in t["source"][t["source"]["in_service"].to_numpy(bool)].iterrows():
        b = row[s["bus"]]
        pp.create_ext_grid(net, bus_index[b], vm_pu=s["v_set_v"] / t["bus"]["v_nominal_v"].iloc[b])
    load_rows = assembled.bus_row
    p = assembled.rack_load
    has = p != 0
    pp.create_loads(net, bus_index[load_rows[has]], p_mw=p[has] / 1e6, q_mvar=np.zeros(int(has.sum())))
    return net, bus_index
