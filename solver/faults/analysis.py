"""``fault_currents(case, buses=None)``: the fault study of a case, from its DC assembly to the dataset."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from gigawatt.cases.case import Case
from gigawatt.errors import CaseError
from gigawatt.solver.dc.assembly import assemble
from gigawatt.solver.faults.currents import bus_faults
from gigawatt.solver.faults.devices import device_duty
from gigawatt.solver.faults.network import build_fault_system
from gigawatt.solver.faults.results import build_fault_dataset


def fault_currents(case: Case, buses=None) -> xr.Dataset:
    """DC short-circuit currents at every bus of ``case`` (or at the bus ids ``buses``), per fault type, with
    the breaking duty and selectivity of its protective devices; a new ``xarray.Dataset`` (see
    :mod:`gigawatt.solver.faults.results`). The case is not changed.

    Raises
    ------
    gigawatt.errors.CaseError
        For a bus id that does not exist, a source without the data its contribution needs (named with the
        field), a transformer station (no DC fault model), and whatever the DC assembly refuses.
    """
    from gigawatt import __version__

    net = assemble(case)
    fs = build_fault_system(case, net)
    bus_ids = pd.Index(case.tables["bus"]["id"])
    if buses is None:
        asked = np.arange(net.n_bus)
    else:
        names = list(buses)
        rows = bus_ids.get_indexer(names)
        if (rows < 0).any():
            bad = names[int(np.flatnonzero(rows < 0)[0])]
            raise CaseError("no such bus to fault", file=case.file, element=f"bus '{bad}'", field="buses", value=bad,
                            allowed="ids of the bus table")
        asked = np.unique(net.pos[rows])
    # the devices' buses are faulted too (their duty), reported only if asked for
    dev = case.tables["protection"]
    dev = dev[dev["in_service"].to_numpy(bool)]
    lines = case.tables["line"]
    line_rows = pd.Index(lines["id"]).get_indexer(dev["line"].to_numpy())
    end = np.where(dev["line_end"].to_numpy() == "to", lines["to_bus"].to_numpy()[np.maximum(line_rows, 0)],
                   lines["from_bus"].to_numpy()[np.maximum(line_rows, 0)]) if len(dev) else np.zeros(0, object)
    dev_bus = np.where(line_rows >= 0, end, dev["bus"].to_numpy())
    dev_pos = net.pos[bus_ids.get_indexer(dev_bus)] if len(dev) else np.zeros(0, np.int64)
    computed = np.union1d(asked, dev_pos).astype(np.int64)
    bf = bus_faults(fs, computed)
    duty = device_duty(case, net, fs, bf.points, bf.total, computed)
    return build_fault_dataset(case, net, fs, bf, duty, np.isin(computed, asked), __version__)
