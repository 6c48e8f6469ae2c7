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
    names = racks["shelf_loss_model"].to_numpy()
    rating_models = [name for name, model in case.loss_models.items() if getattr(model, "USES_RATING", True)]
    needs_rating = np.isin(names, rating_models) & np.isnan(rated)  # only a load-fraction model reads it
    if needs_rating.any():
        i = int(np.flatnonzero(needs_rating)[0])
        kind = case.loss_models[names[i]].KIND
        raise CaseError(f"a rack whose shelf loss model depends on the load fraction ('{names[i]}', kind {kind}) "
                        "needs shelf_rated_power_w", file=case.file, element=f"rack '{racks['id'].iloc[i]}'",
                        field="shelf_rated_power_w", allowed="(0, 1e8] W")
    shelf_loss = loss_by_model(case.loss_models, names, p_shelf_out, racks["shelf_v_out_v"].to_numpy(float),
                               np.nan_to_num(rated, nan=1.0), "rack", racks["id"].to_numpy())
    return p_shelf_out + shelf_loss, shelf_loss, p_shelf_out - p_it
