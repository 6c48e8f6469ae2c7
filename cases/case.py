"""The validated case: element tables in canonical names and SI units, loss models, solver settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from gigawatt.cases.schema import ELEMENT_TABLES, schema, validate_settings, validate_table
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
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.settings["case"]["name"]

    def summary(self) -> str:
        counts = ", ".join(f"{len(df)} {t}" for t, df in self.tables.items())
        return f"case '{self.name}': {counts}"

    def hash(self) -> str:
        """SHA-256 of the validated content (tables, loss models, settings), independent of the file.

        Computed when the case is made and kept with it: the tables' arrays are read-only (an in-place edit
        raises), and replacing a column changes the arrays' identities, which the kept value is keyed by.
        """
        return self.derived("hash", ELEMENT_TABLES, self._compute_hash)

    def _compute_hash(self) -> str:
        # Each column as one byte string: numbers as their bytes, text joined by NUL, and a reference to an
        # element as the row it names (the referenced ids are hashed with their own table). About 20 ms at
        # 10⁵ rows per table, against 200 ms for a hash of every string.
        h = hashlib.sha256()
        fields = schema()
        for name in ELEMENT_TABLES:
            df = self.tables[name]
            h.update(f"{name}:{len(df)}:{','.join(df.columns)}".encode())
            for col in df.columns:
                h.update(col.encode())
                if _is_element_ref(fields[name].get(col)):
                    values = self.ref_rows(name, col)
                else:
                    values = df[col].to_numpy()
                h.update(values.dtype.str.encode())
                h.update(_column_bytes(values))
        h.update(json.dumps(dict(self.loss_model_params), sort_keys=True, default=str).encode())
        h.update(json.dumps({k: None if v is None else dict(v) for k, v in self.settings.items()}, sort_keys=True, default=str).encode())
        return h.hexdigest()

    def ref_rows(self, table: str, field: str) -> np.ndarray:
        """Row (int64) in the referenced table of each element's reference ``field`` (``bus``, ``from_bus``, …),
        −1 where an optional reference is empty: how the solvers turn ids into indices.

        Found once when the case is made (validation looks every reference up anyway) and kept with the case,
        keyed by both tables' arrays; a replaced column is looked up again, and must name existing elements.
        """
        target = schema()[table][field].type[4:]

        def lookup():
            rows, bad = _lookup(pd.Index(self.tables[target]["id"]), self.tables[table][field].to_numpy(),
                                schema()[table][field].required)
            if bad.any():
                raise _dangling(self.tables[table], table, field, target, bad, self.file)
            return rows

        return self.derived(("ref_rows", table, field), (table, target), lookup)

    def codes(self, table: str, field: str) -> tuple[np.ndarray, tuple]:
        """Each element's index (int64) into the ``labels`` of a field with a choice of values (its choices)
        or of a loss-model reference (the case's loss models), followed by the empty string; and the labels.

        Found by validation and kept with the case as :meth:`ref_rows` is: a comparison of every element's
        string costs more than the rest of a solve at 10⁵ elements.
        """
        f = schema()[table][field]
        labels = (*self.loss_models, "") if f.type == "ref:loss_model" else (*f.choices, "")

        def lookup():
            return pd.Index(labels).get_indexer(self.tables[table][field].to_numpy()).astype(np.int64, copy=False)

        return self.derived(("codes", table, field), (table,), lookup), labels

    def derived(self, name, tables: tuple, compute):
        """``compute()``, kept with the case for the current content of ``tables`` (table names): a structure
        derived from them (the hash, reference rows, choice codes) is made once and made again only if a
        column of one of those tables has been replaced since (STYLE.md 7: keyed by what it derives from).
        Thread-safe in the sense that two threads may both compute it, never see a stale one."""
        key = tuple(x for t in tables for x in (self.tables[t], *_blocks(self.tables[t])))
        kept = self._derived.get(name)
        if kept is not None and len(kept[0]) == len(key) and all(a is b for a, b in zip(kept[0], key)):
            return kept[1]
        value = compute()
        self._derived[name] = (key, value)  # holds the keyed arrays: their ids cannot be reused meanwhile
        return value


def _is_element_ref(f) -> bool:
    return f is not None and f.type.startswith("ref:") and f.type[4:] in ELEMENT_TABLES


def _column_bytes(values: np.ndarray):
    """One column's content as bytes for the hash: numbers as their buffer, strings joined by NUL (any other
    object column, or strings that hold a NUL themselves, by pandas' per-value hash)."""
    if values.dtype != object:
        return np.ascontiguousarray(values)
    try:
        text = "\x00".join(values)
    except TypeError:
        text = None
    if text is None or text.count("\x00") != max(len(values) - 1, 0):
        return pd.util.hash_array(values)
    return text.encode("utf-8", "surrogatepass")


def _lookup(ids: pd.Index, values: np.ndarray, required: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``values`` in ``ids`` (−1 for an empty optional value) and which values name no element."""
    rows = ids.get_indexer(values).astype(np.int64, copy=False)
    bad = rows < 0
    if not required:  # an optional reference may be left empty
        bad &= values != ""
    return rows, bad


def _dangling(df: pd.DataFrame, table: str, field: str, target: str, bad: np.ndarray, file) -> CaseError:
    i = int(np.flatnonzero(bad)[0])
    what = target.replace("_", " ").replace("ac ", "AC ")
    return CaseError(f"refers to {'an' if what[0] in 'aeiouA' else 'a'} {what} that does not exist", file=file,
                     element=f"{table} '{df['id'].iloc[i]}'", field=field, value=df[field].iloc[i],
                     allowed=f"an id of the {target} table")


def _blocks(df: pd.DataFrame) -> list:
    """The arrays behind a DataFrame's columns (pandas' block manager: internal API, so used defensively)."""
    return [b.values for b in getattr(getattr(df, "_mgr", None), "blocks", ())]


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
    codes = {}  # what validation finds, kept with the case (see Case.codes)
    for name in ELEMENT_TABLES:
        raw = tables.get(name)
        if raw is None:
            raw = pd.DataFrame({"id": pd.Series([], dtype=object)})
        elif not isinstance(raw, pd.DataFrame):
            if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
                raise CaseError(f"table '{name}' must be a list of rows (TOML [[{name}]]) or a CSV file name",
                                file=file, field=name, value=type(raw).__name__)
            raw = pd.DataFrame(raw)
            if raw.empty:
                raw = pd.DataFrame({"id": pd.Series([], dtype=object)})
        codes[name] = {}
        validated[name] = _freeze(validate_table(name, raw, file=table_files.get(name, file), codes=codes[name]))

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
    ref_rows = _check_references(validated, models, file, table_files, codes)
    _check_dc_system(validated, settings["dc"]["system"], file, table_files)
    if district_heating is not None:
        settings["district_heating"] = validate_settings("district_heating", district_heating, file=file)
        nodes = pd.Index(validated["dh_node"]["id"])
        for fname in ("supply_node", "return_node"):
            value = settings["district_heating"][fname]
            if nodes.get_indexer([value])[0] < 0:
                raise CaseError("refers to a dh node that does not exist", file=file, element="[district_heating]",
                                field=fname, value=value, allowed="an id of the dh_node table")
    else:
        settings["district_heating"] = None
    case = Case(MappingProxyType(validated), MappingProxyType(models), MappingProxyType(params),
                MappingProxyType(settings), file)
    for (tname, fname), rows in ref_rows.items():  # kept: the solvers need them, validation found them
        case.derived(("ref_rows", tname, fname), (tname, schema()[tname][fname].type[4:]), lambda rows=rows: rows)
    for tname, found in codes.items():
        for fname, code in found.items():
            case.derived(("codes", tname, fname), (tname,), lambda code=code: code)
    case.hash()  # part of what a case is: every result carries it
    return case


def _check_references(tables: dict, models: dict, file, table_files, codes: dict) -> dict:
    """Every bus and loss-model reference names something that exists; returns the rows the element
    references name (``{(table, field): rows}``, see :meth:`Case.ref_rows`) and puts each loss-model
    reference's codes in ``codes[table][field]`` (see :meth:`Case.codes`)."""
    from gigawatt.cases.schema import schema

    rows_of = {}
    ids = {t: pd.Index(tables[t]["id"]) for t in ELEMENT_TABLES}  # one hash table a referenced table
    for tname in ELEMENT_TABLES:
        df = tables[tname]
        for fname, f in schema()[tname].items():
            if not f.type.startswith("ref:"):
                continue
            values = df[fname].to_numpy()
            if _is_element_ref(f):
                rows, bad = _lookup(ids[f.type[4:]], values, f.required)
                if bad.any():
                    raise _dangling(df, tname, fname, f.type[4:], bad, table_files.get(tname, file))
                rows_of[(tname, fname)] = rows
                continue
            codes[tname][fname] = pd.Index([*models, ""]).get_indexer(values).astype(np.int64, copy=False)
            bad = codes[tname][fname] < 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise CaseError("refers to a loss model that does not exist", file=table_files.get(tname, file),
                                element=f"{tname} '{df['id'].iloc[i]}'", field=fname, value=values[i],
                                allowed=("one of " + ", ".join(models)) if models else "a name under [loss_models]")
    return rows_of


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
