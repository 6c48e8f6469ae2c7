"""A rack's power chain as the DC network sees it: IT power at the chips through voltage regulators and the
rack's power shelves, drawn from its bus as a constant-power load.

Sign convention: powers [W] positive from the bus towards the chips; the shelf and regulator losses are >= 0
and end as heat in the rack.
"""
from __future__ import annotations

import numpy as np

from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import loss_by_model


def rack_powers(case, p_it: np.ndarray | None = None):
    """Each rack's input, shelf loss and regulator loss [W] at IT power ``p_it`` (default: the case's
    ``p_it_w``): IT power through voltage regulators and shelves, a constant-power load."""
    racks = case.tables["rack"]
    p_it = racks["p_it_w"].to_numpy(float) if p_it is None else p_it
    eta = racks["vrm_efficiency"].to_numpy(float)
    p_shelf_out = p_it / eta
    rated = racks["shelf_rated_power_w"].to_numpy(float)
    code, names = case.codes("rack", "shelf_loss_model")
    needs_rating = np.isnan(rated)
    if needs_rating.any():  # only where no rating is given: a string comparison per rack costs more
        needs_rating[needs_rating] = code[needs_rating] != names.index("")
    if needs_rating.any():
        i = int(np.flatnonzero(needs_rating)[0])
        raise CaseError("a rack with a shelf loss model needs shelf_rated_power_w", file=case.file,
                        element=f"rack '{racks['id'].iloc[i]}'", field="shelf_rated_power_w")
    shelf_loss = loss_by_model(case.loss_models, names, p_shelf_out, racks["shelf_v_out_v"].to_numpy(float),
                               np.nan_to_num(rated, nan=1.0), "rack", racks["id"].to_numpy(), code)
    return p_shelf_out + shelf_loss, shelf_loss, p_shelf_out - p_it
