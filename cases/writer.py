"""Write a case back to a TOML file (and CSV tables beside it) that :func:`gigawatt.load_case` reads to the
same case: the same tables, loss models and settings, so the same :meth:`Case.hash`.

Everything is written in canonical names and SI units, with every field the validated case holds (defaults
included), so the file says exactly what was solved. Tables longer than ``csv_rows`` go to CSV files next
to the TOML file (``<stem>.<table>.csv``), which read far faster than TOML arrays at campus sizes.

The TOML is written by ``tomli_w`` (the standard library reads TOML but does not write it).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gigawatt.cases.schema import ELEMENT_TABLES
from gigawatt.errors import CaseError

CSV_ROWS = 200


def _plain(value):
    """A TOML-ready Python value: numpy scalars unwrapped, NaN dropped (None: the field takes its default)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: p for k, v in value.items() if (p := _plain(v)) is not None}
    return value


def case_document(case, csv_tables: dict | None = None) -> dict:
    """The case as a TOML document (dict); tables named in ``csv_tables`` ({table: file name}) are referred
    to by that file name instead of written inline."""
    csv_tables = csv_tables or {}
    doc = {}
    for section, values in case.settings.items():
        if values is not None:
            doc[section] = _plain(dict(values))
    if case.loss_model_params:
        doc["loss_models"] = {name: _plain(dict(p)) for name, p in case.loss_model_params.items()}
    for name in ELEMENT_TABLES:
        df = case.tables[name]
        if not len(df):
            continue
        if name in csv_tables:
            doc[name] = csv_tables[name]
        else:
            doc[name] = [_plain(row) for row in df.to_dict("records")]
    return doc


def write_case(case, path, *, csv_rows: int = CSV_ROWS) -> Path:
    """Write ``case`` to the TOML file ``path`` (tables of more than ``csv_rows`` rows to CSV files beside
    it); returns the path. Refuses to overwrite the case's own file or any of its CSV tables."""
    import tomli_w

    path = Path(path)
    if path.suffix != ".toml":
        raise CaseError("a case is written to a .toml file", file=str(path))
    csv_tables = {name: f"{path.stem}.{name}.csv" for name in ELEMENT_TABLES if len(case.tables[name]) > csv_rows}
    targets = [path, *(path.parent / f for f in csv_tables.values())]
    own = {Path(case.file).resolve()} if case.file else set()
    for target in targets:
        if target.resolve() in own:
            raise CaseError("refusing to overwrite the case's own file", file=str(target))
    doc = case_document(case, csv_tables)
    for name, file in csv_tables.items():
        case.tables[name].to_csv(path.parent / file, index=False)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path
