"""The validated case: element tables in canonical names and SI units, loss models, solver settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from gigawatt.cases.memory import BYTES_PER_PLATE, check_memory
from gigawatt.cases.schema import ELEMENT_TABLES, rows_frame, validate_settings, validate_table
from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import LOSS_MODELS, make_loss_model


@dataclass(frozen=True)
class Case:
    """A validated case. Build it with :func:`make_case`, :func:`gigawatt.load_case` or the campus builder.

    Attributes
    ----------
    tables : mapping of str to pandas.DataFrame
        One table per element type (``bus``, ``line``, ``source``, ``converter``, ``rack``), canonical
        field names, SI units, defaults filled. Treat as read-only.
    loss_models : mapping of str to loss model
        Named converter loss models referenced by the tables.
    loss_model_params : mapping of str to dict
        The parameters those models were built from (for hashing and provenance).
    settings : mapping of str to dict
        The ``case`` and ``solver`` settings tables.
    file : str or None
        The file the case was read from, for error messages.
    """

    tables: MappingProxyType
    loss_models: MappingProxyType
    loss_model_params: MappingProxyType
    settings: MappingProxyType
    file: str | None = None
    _hash: list = field(default_factory=list, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.settings["case"]["name"]

    def summary(self) -> str:
        counts = ", ".join(f"{len(df)} {t}" for t, df in self.tables.items())
        return f"case '{self.name}': {counts}"

    def hash(self) -> str:
        """SHA-256 of the validated content (tables, loss models, settings), independent of the file.

        Cached: the tables' arrays are read-only (an in-place edit raises), and replacing a column changes
        the arrays' identities, which the cache key follows.
        """
        key = _identity(self.tables)
        if not self._hash or self._hash[0] != key:
            self._hash[:] = [key, self._compute_hash()]
        return self._hash[1]

    def _compute_hash(self) -> str:
        h = hashlib.sha256()
        for name in ELEMENT_TABLES:
            df = self.tables[name]
            h.update(name.encode())
            h.update(",".join(df.columns).encode())
            for col in df.columns:  # one column at a time: at 10⁶ rows a whole-table hash costs 100+ MB
                values = df[col].to_numpy()
                h.update(col.encode())
                h.update(np.ascontiguousarray(values) if values.dtype != object else pd.util.hash_array(values))
        h.update(json.dumps(dict(self.loss_model_params), sort_keys=True, default=str).encode())
        h.update(json.dumps({k: None if v is None else dict(v) for k, v in self.settings.items()}, sort_keys=True, default=str).encode())
        return h.hexdigest()


def require_case(case, func: str) -> Case:
    """``case`` if it is a :class:`Case`; else a ``TypeError`` that says what ``func`` takes and how to get it
    (instead of an ``AttributeError`` deep inside)."""
    if not isinstance(case, Case):
        raise TypeError(f"{func}() takes a gigawatt Case (from gw.load_case, gw.make_case, gw.build_campus or "
                        f"gw.build_town), not {type(case).__name__}"
                        + (": load a case file with gw.load_case(path) first" if isinstance(case, (str, bytes)) or
                           hasattr(case, "__fspath__") else ""))
    return case


def _blocks(df: pd.DataFrame) -> list:
    """The arrays behind a DataFrame's columns (pandas' block manager: internal API, so used defensively)."""
    return [b.values for b in getattr(getattr(df, "_mgr", None), "blocks", ())]


def _identity(tables) -> tuple:
    return tuple((id(df), tuple(id(a) for a in _blocks(df))) for df in tables.values())


def _freeze(df: pd.DataFrame) -> pd.DataFrame:
    """Make a validated table's arrays read-only: a case does not change under the results made from it."""
    for values in _blocks(df):
        if isinstance(values, np.ndarray):
            values.flags.writeable = False
    return df


def make_case(tables: dict | None = None, *, loss_models: dict | None = None, case: dict | None = None,
              solver: dict | None = None, cooling: dict | None = None, district_heating: dict | None = None,
              dc: dict | None = None, time: dict | None = None, file: str | None = None, table_files: dict | None = None) -> Case:
    """Validate element tables, loss models and settings into a :class:`Case`.

    Parameters
    ----------
    tables : dict
        ``{table name: DataFrame or list of dicts}``; missing tables are empty. Units may use the loader's
        other spellings (``length_km``, ``p_it_kw``, ``conductor_temp_c``, …).
    loss_models : dict
        ``{name: {"kind": ..., parameters...}}`` (kinds: see ``gigawatt.models.converter_losses``).
    case, solver : dict
        Settings tables.
    cooling : dict, optional
        The ``[cooling]`` settings; when given (even empty, for all defaults) the case has a liquid-cooling
        system and :func:`gigawatt.solve` solves it with the electrical network.
    district_heating : dict, optional
        The ``[district_heating]`` settings: the network in the ``dh_*`` tables is solved, fed by the
        campus's reusable heat (needs ``cooling``).
    dc : dict, optional
        The ``[dc]`` settings: ``{"system": "bipolar"}`` makes the DC network a ±V three-wire network with a
        neutral (see :mod:`gigawatt.solver.dc.bipolar`); default monopolar. ``settings["dc"]`` is always a dict.
    time : dict, optional
        The ``[time]`` settings: the case's time axis (start, periods, step) and what varies along it (IT
        load, weather); ``gigawatt run`` then solves every step (see :mod:`gigawatt.time_series`).
        ``settings["time"]`` is None without it.
    file : str
        The case file, named in error messages.
    table_files : dict
        ``{table name: CSV path}`` for tables read from CSV, named in their error messages instead.
    """
    tables = dict(tables or {})
    table_files = table_files or {}
    unknown = set(tables) - set(ELEMENT_TABLES)
    if unknown:
        raise CaseError("unknown table", file=file, field=sorted(unknown)[0],
                        allowed=", ".join(ELEMENT_TABLES))
    validated = {}
    for name in ELEMENT_TABLES:
        raw = tables.get(name)
        if raw is None:
            raw = pd.DataFrame({"id": pd.Series([], dtype=object)})
        elif not isinstance(raw, pd.DataFrame):
            if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
                raise CaseError(f"table '{name}' must be a list of rows (TOML [[{name}]]) or a CSV file name",
                                file=file, field=name, value=type(raw).__name__)
            raw = rows_frame(name, raw, file=file)
            if raw.empty:
                raw = pd.DataFrame({"id": pd.Series([], dtype=object)})
        validated[name] = _freeze(validate_table(name, raw, file=table_files.get(name, file)))

    params = {}
    models = {}
    for name, spec in (loss_models or {}).items():
        where = f"loss model '{name}'"
        if not isinstance(spec, dict) or "kind" not in spec:
            raise CaseError("a loss model needs a 'kind'", file=file, element=where, field="kind",
                            allowed=", ".join(LOSS_MODELS))
        p = {k: v for k, v in spec.items() if k != "kind"}
        try:
            models[name] = make_loss_model(spec["kind"], p, name=name)
        except CaseError as err:
            raise err.located(file=file) from None
        params[name] = dict(spec)

    settings = {"case": validate_settings("case", case or {}, file=file),
                "solver": validate_settings("solver", solver or {}, file=file),
                "cooling": None if cooling is None else validate_settings("cooling", cooling, file=file)}
    settings["dc"] = validate_settings("dc", dc or {}, file=file)
    settings["time"] = None if time is None else validate_settings("time", time, file=file)
    _check_references(validated, models, file, table_files)
    _check_dc_system(validated, settings["dc"]["system"], file, table_files)
    if settings["cooling"] is not None and not len(validated["rack"]):
        raise CaseError("[cooling] cools racks, and the case has none: add racks (a [campus] or rack table) or "
                        "remove [cooling]", file=file, element="[cooling]")
    if settings["cooling"] is not None and settings["cooling"]["plate_resolution"]:
        check_memory(len(validated["rack"]) * settings["cooling"]["chips_per_rack"], BYTES_PER_PLATE,
                     "cold plates modelled one by one (racks × chips_per_rack)", file=file, element="[cooling]",
                     field="chips_per_rack", value=settings["cooling"]["chips_per_rack"])
    if district_heating is not None:
        settings["district_heating"] = validate_settings("district_heating", district_heating, file=file)
        nodes = pd.Index(validated["dh_node"]["id"])
        for fname in ("supply_node", "return_node"):
            value = settings["district_heating"][fname]
            if nodes.get_indexer([value])[0] < 0:
                raise CaseError("refers to a dh node that does not exist", file=file, element="[district_heating]",
                                field=fname, value=value, allowed="an id of the dh_node table")
        _check_return_below_supply(validated["dh_consumer"], settings["district_heating"]["t_supply_k"],
                                   table_files.get("dh_consumer", file))
    else:
        settings["district_heating"] = None
    return Case(MappingProxyType(validated), MappingProxyType(models), MappingProxyType(params),
                MappingProxyType(settings), file)


def _check_return_below_supply(cons: pd.DataFrame, t_supply_k: float, file) -> None:
    """A substation returns its water colder than the plant supplies it (a mass_flow consumer sets no return
    temperature): otherwise no flow could deliver its heat."""
    bad = (cons["kind"].to_numpy() != "mass_flow") & (cons["t_return_k"].to_numpy(float) >= t_supply_k)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError("a consumer must return its water colder than the plant supplies it", file=file,
                        element=f"dh_consumer '{cons['id'].iloc[i]}'", field="t_return_k",
                        value=float(cons["t_return_k"].iloc[i]),
                        allowed=f"< {t_supply_k:g} K (t_supply_k of [district_heating])")


def _check_references(tables: dict, models: dict, file, table_files):
    """Every bus and loss-model reference names something that exists."""
    from gigawatt.cases.schema import schema

    ids = {t: pd.Index(tables[t]["id"]) for t in ELEMENT_TABLES}
    for tname in ELEMENT_TABLES:
        df = tables[tname]
        for fname, f in schema()[tname].items():
            if not f.type.startswith("ref:") or not len(df):
                continue
            values = df[fname].to_numpy()
            if f.type[4:] in ids:
                bad = ids[f.type[4:]].get_indexer(values) < 0
                if not f.required:  # an optional reference may be left empty
                    bad &= values != ""
                allowed = f"an id of the {f.type[4:]} table"
            else:
                bad = np.array([v != "" and v not in models for v in values], dtype=bool)
                allowed = ("one of " + ", ".join(models)) if models else "a name under [loss_models]"
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                what = f.type[4:].replace("_", " ").replace("ac ", "AC ")
                raise CaseError(f"refers to {'an' if what[0] in 'aeiouA' else 'a'} {what} that does not exist",
                                file=table_files.get(tname, file), element=f"{tname} '{df['id'].iloc[i]}'",
                                field=fname, value=values[i], allowed=allowed)


def _check_dc_system(tables: dict, system: str, file, table_files):
    """Fields that only a bipolar case uses: a monopolar case accepts only the default rack pole, and a
    bipolar case needs a neutral conductor on every in-service line."""
    racks = tables["rack"]
    if system != "bipolar":
        single = racks["pole"].to_numpy() != "bipolar"
        if single.any():
            i = int(np.flatnonzero(single)[0])
            raise CaseError("a rack on one pole needs a bipolar DC system ([dc] system = \"bipolar\")",
                            file=table_files.get("rack", file), element=f"rack '{racks['id'].iloc[i]}'",
                            field="pole", value=racks["pole"].iloc[i], allowed="bipolar in a monopolar case")
        return
    lines = tables["line"]
    no_neutral = lines["in_service"].to_numpy(bool) & (lines["neutral_cross_section_m2"].to_numpy(float) == 0.0) \
        & np.isnan(lines["neutral_r_ohm"].to_numpy(float))
    if no_neutral.any():
        i = int(np.flatnonzero(no_neutral)[0])
        raise CaseError("a line of a bipolar DC system needs its neutral conductor (the return of unbalanced "
                        "pole loads)", file=table_files.get("line", file), element=f"line '{lines['id'].iloc[i]}'",
                        field="neutral_cross_section_m2", value=0.0,
                        allowed="(0, 1] m2, or neutral_r_ohm")
