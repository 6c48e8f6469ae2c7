"""The validated case: element tables in canonical names and SI units, loss models, solver settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from gigawatt.cases.memory import BYTES_PER_PLATE, check_memory
from gigawatt.cases.schema import ELEMENT_TABLES, rows_frame, schema, validate_settings, validate_table
from gigawatt.errors import CaseError
from gigawatt.models.converter_losses import BUILT_IN_MODELS, LOSS_MODELS, make_loss_model


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

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={len(df)}" for t, df in self.tables.items() if len(df))
        sections = ", ".join(k for k in ("cooling", "district_heating", "time") if self.settings.get(k) is not None)
        extra = f", with {sections}" if sections else ""
        return f"<Case '{self.name}': {counts or 'no elements'}{extra}; file={self.file!r}>"

    def to_toml(self, path, *, csv_rows: int = 200):
        """Write this case to a TOML file (tables longer than ``csv_rows`` to CSV files beside it) that
        :func:`gigawatt.load_case` reads back to the same case (same :meth:`hash`). Returns the path."""
        from gigawatt.cases.writer import write_case

        return write_case(self, path, csv_rows=csv_rows)

    def hash(self) -> str:
        """SHA-256 of the validated content (tables, loss models, settings), independent of the file: of the
        state the case is in now, which a solve reads.

        Kept with the case (:meth:`derived`): each table's digest is keyed by its arrays (read-only, so an edit
        replaces a column and changes the key), and the settings and loss-model parameters, plain dicts a user
        can still change, by their (small) JSON text, so a case whose settings were changed after loading
        carries the hash of what was solved. A case made by :meth:`with_tables` keeps the digests of the
        tables it shares.
        """
        text = self._settings_text()
        return self.derived(("hash", text), ELEMENT_TABLES, lambda: self._compute_hash(text))

    def _settings_text(self) -> str:
        """The loss models' parameters and the settings, as canonical JSON."""
        return json.dumps({"loss_models": {k: dict(v) for k, v in self.loss_model_params.items()},
                           "settings": {k: None if v is None else dict(v) for k, v in self.settings.items()}},
                          sort_keys=True, default=str)

    def _compute_hash(self, settings_text: str) -> str:
        h = hashlib.sha256()
        for name in ELEMENT_TABLES:
            h.update(self._table_digest(name))
        h.update(settings_text.encode())
        return h.hexdigest()

    def _table_digest(self, name: str) -> bytes:
        """SHA-256 of one table: each column as one byte string (numbers as their bytes, text joined by NUL, a
        reference to an element as the row it names; the referenced ids are hashed with their own table).
        About 20 ms at 10⁵ rows, against 200 ms for a hash of every string."""
        df = self.tables[name]
        fields = schema()[name]
        targets = tuple(dict.fromkeys(fields[c].type[4:] for c in df.columns if _is_element_ref(fields.get(c))))

        def compute():
            h = hashlib.sha256()
            h.update(f"{name}:{len(df)}:{','.join(df.columns)}".encode())
            for col in df.columns:
                h.update(col.encode())
                values = self.ref_rows(name, col) if _is_element_ref(fields.get(col)) else df[col].to_numpy()
                h.update(values.dtype.str.encode())
                h.update(_column_bytes(values))
            return h.digest()

        return self.derived(("digest", name), (name, *targets), compute)

    def with_tables(self, tables: dict, settings: dict | None = None, *, kept_rows: dict | None = None) -> "Case":
        """This case with some tables (already validated: canonical names, SI) and settings sections
        replaced; no checks are made. For many variants of one case (the contingency analysis): what was
        derived from the tables it shares (their digests, reference rows, codes) is kept.

        ``kept_rows``: for replaced tables that are this case's rows ``rows`` (int positions, in order) with
        the same reference and choice columns (only other columns, such as ``in_service``, may differ), table
        name → ``rows``. Their reference rows (:meth:`ref_rows`) and choice codes (:meth:`codes`), and those of
        the tables referring to them, are then taken from this case's by index instead of looked up by id;
        the caller vouches for the rows. A reference to a row that was dropped is looked up (and raises).
        """
        for df in tables.values():
            _freeze(df)
        new = Case(MappingProxyType({**self.tables, **tables}), self.loss_models, self.loss_model_params,
                   MappingProxyType({**self.settings, **(settings or {})}), self.file, dict(self._derived))
        if kept_rows:
            self._carry_rows(new, kept_rows)
        return new

    def _carry_rows(self, new: "Case", kept_rows: dict) -> None:
        """Reference rows and codes of ``new`` (see :meth:`with_tables`) from this case's, by index."""
        kept = {t: np.asarray(r, dtype=np.int64) for t, r in kept_rows.items() if new.tables[t] is not self.tables[t]}
        for table, rows in kept.items():
            for name, f in schema()[table].items():
                if name in new.tables[table].columns and (f.type == "ref:loss_model" or f.choices is not None):
                    new.derived(("codes", table, name), (table,), lambda t=table, n=name, r=rows: self.codes(t, n)[0][r])
        for table in new.tables:
            for name, f in schema()[table].items():
                target = f.type[4:] if _is_element_ref(f) else None
                if target is None or name not in new.tables[table].columns or not {table, target} & kept.keys():
                    continue
                if new.tables[table] is not self.tables[table] and table not in kept:
                    continue  # replaced without rows: looked up
                old = self.ref_rows(table, name)
                rows = old = old[kept[table]] if table in kept else old
                if target in kept:
                    remap = np.full(len(self.tables[target]), -1, dtype=np.int64)
                    remap[kept[target]] = np.arange(kept[target].size)
                    rows = np.where(old >= 0, remap[old], -1)
                    if (rows[old >= 0] < 0).any():
                        continue  # names a dropped element: the look-up says which
                new.derived(("ref_rows", table, name), (table, target), lambda r=rows: r)

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


def _freeze(df: pd.DataFrame) -> pd.DataFrame:
    """Make a validated table's arrays read-only: a case does not change under the results made from it."""
    for values in _blocks(df):
        if isinstance(values, np.ndarray):
            values.flags.writeable = False
    return df


def make_case(tables: dict | None = None, *, loss_models: dict | None = None, case: dict | None = None,
              solver: dict | None = None, cooling: dict | None = None, district_heating: dict | None = None,
              dc: dict | None = None, time: dict | None = None, kpi: dict | None = None, file: str | None = None,
              table_files: dict | None = None, swing: dict | None = None) -> Case:
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
    kpi : dict, optional
        The ``[kpi]`` settings: where the IT equipment begins for PUE (``it_boundary``, see
        :mod:`gigawatt.models.kpis`). ``settings["kpi"]`` is always a dict.
    swing : dict, optional
        The ``[swing]`` settings: a training job's power swings at a fine step for ``gigawatt swings``
        (:mod:`gigawatt.solver.swings`). ``settings["swing"]`` is None without it.
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
            raw = rows_frame(name, raw, file=file)
            if raw.empty:
                raw = pd.DataFrame({"id": pd.Series([], dtype=object)})
        codes[name] = {}
        validated[name] = _freeze(validate_table(name, raw, file=table_files.get(name, file), codes=codes[name]))

    models, params = make_loss_models({**_built_in_models_named(validated, loss_models or {}), **(loss_models or {})},
                                      file=file)

    settings = {"case": validate_settings("case", case or {}, file=file),
                "solver": validate_settings("solver", solver or {}, file=file),
                "cooling": None if cooling is None else validate_settings("cooling", cooling, file=file)}
    settings["dc"] = validate_settings("dc", dc or {}, file=file)
    settings["time"] = None if time is None else validate_settings("time", time, file=file)
    settings["kpi"] = validate_settings("kpi", kpi or {}, file=file)
    settings["swing"] = None if swing is None else validate_settings("swing", swing, file=file)
    ref_rows = _check_references(validated, models, file, table_files, codes)
    _check_line_levels(validated, file, table_files)
    _check_dc_system(validated, settings["dc"]["system"], file, table_files)
    _check_protection(validated, file, table_files)
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
    _check_unused_tables(validated, settings, file, table_files)
    case = Case(MappingProxyType(validated), MappingProxyType(models), MappingProxyType(params),
                MappingProxyType(settings), file)
    for (tname, fname), rows in ref_rows.items():  # kept: the solvers need them, validation found them
        case.derived(("ref_rows", tname, fname), (tname, schema()[tname][fname].type[4:]), lambda rows=rows: rows)
    for tname, found in codes.items():
        for fname, code in found.items():
            case.derived(("codes", tname, fname), (tname,), lambda code=code: code)
    case.hash()  # part of what a case is: every result carries it
    return case


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


def make_loss_models(loss_models: dict, *, file: str | None = None) -> tuple[dict, dict]:
    """The loss models ``{name: {"kind": ..., parameters...}}`` built and checked, as :func:`make_case` builds
    them: ``(models, params)``, name → model object and name → its parameters as given. Raises
    :class:`CaseError` naming the model and ``file``."""
    params = {}
    models = {}
    for name, spec in loss_models.items():
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
    return models, params


def _built_in_models_named(tables: dict, loss_models: dict) -> dict:
    """The built-in loss models (:data:`gigawatt.models.converter_losses.BUILT_IN_MODELS`) the tables name
    and ``loss_models`` does not define."""
    from gigawatt.cases.schema import schema

    named = set()
    for tname, df in tables.items():
        for fname, f in schema()[tname].items():
            if f.type == "ref:loss_model" and len(df):
                named.update(df[fname].tolist())
    return {n: dict(BUILT_IN_MODELS[n]) for n in named if n in BUILT_IN_MODELS and n not in loss_models}


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
    if system != "bipolar":
        for name in ("rack", "battery"):
            df = tables[name]
            single = df["pole"].to_numpy() != "bipolar"
            if single.any():
                i = int(np.flatnonzero(single)[0])
                raise CaseError(f"a {name} on one pole needs a bipolar DC system ([dc] system = \"bipolar\")",
                                file=table_files.get(name, file), element=f"{name} '{df['id'].iloc[i]}'",
                                field="pole", value=df["pole"].iloc[i], allowed="bipolar in a monopolar case")
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


def _check_line_levels(tables: dict, file, table_files):
    """A DC line joins two buses of one nominal voltage (a converter joins voltage levels): a line between an
    800 V and a 50 V bus would hold both at one voltage, the 50 V one some 16 times its nominal."""
    buses, lines = tables["bus"], tables["line"]
    if not len(lines):
        return
    ids = pd.Index(buses["id"])
    v_nom = buses["v_nominal_v"].to_numpy(float)
    a, b = v_nom[ids.get_indexer(lines["from_bus"])], v_nom[ids.get_indexer(lines["to_bus"])]
    bad = ~np.isclose(a, b, rtol=1e-9, atol=0.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CaseError(f"joins buses of different nominal voltage: from_bus '{lines['from_bus'].iloc[i]}' at "
                        f"{a[i]:g} V, to_bus '{lines['to_bus'].iloc[i]}' at {b[i]:g} V (a DC/DC converter joins "
                        f"voltage levels)", file=table_files.get("line", file), element=f"line '{lines['id'].iloc[i]}'",
                        field="to_bus", value=lines["to_bus"].iloc[i], allowed=f"a bus at {a[i]:g} V")


_WITH_DH = (lambda s: s["district_heating"] is not None, "a [district_heating] section")
UNUSED_TABLES = {**dict.fromkeys(("dh_node", "dh_pipe", "dh_consumer", "dh_pump"), _WITH_DH),
                 "dh_heat_pump_map": (lambda s: _WITH_DH[0](s) and s["district_heating"]["hp_model"] == "map",
                                      'a [district_heating] section with hp_model = "map"'),
                 "store": (lambda s: s.get("swing") is not None, "a [swing] section (gigawatt swings)")}
"""Tables used only under a setting: ``{table: (is it used, given the settings?, what uses it)}``."""


def _check_unused_tables(tables: dict, settings: dict, file, table_files):
    """A table the case gives but nothing reads is an error, not silently dropped (:data:`UNUSED_TABLES`)."""
    for name, (used, needs) in UNUSED_TABLES.items():
        if len(tables[name]) and not used(settings):
            raise CaseError(f"table '{name}' has {len(tables[name])} rows, but nothing uses it without {needs}",
                            file=table_files.get(name, file), element=f"table '{name}'",
                            allowed=f"{needs}, or no {name} table")


def _check_protection(tables: dict, file, table_files):
    """Each protective device sits on a line or at a bus (not both), and names a curve that exists; each curve's
    points rise in current and do not rise in time."""
    dev = tables["protection"]
    where = table_files.get("protection", file)
    has_line, has_bus = dev["line"].to_numpy() != "", dev["bus"].to_numpy() != ""
    for bad, what in ((has_line & has_bus, "gives both line and bus"),
                      (~has_line & ~has_bus, "gives neither line nor bus")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CaseError(f"a protective device sits on a line or at a bus: this one {what}", file=where,
                            element=f"protection '{dev['id'].iloc[i]}'", field="line",
                            allowed="a line id (with line_end) or a bus id")
    pts = tables["protection_curve"]
    names = pts["curve"].to_numpy()
    unknown = (dev["curve"].to_numpy() != "") & ~np.isin(dev["curve"].to_numpy(), names)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise CaseError("refers to a curve that the protection_curve table does not have", file=where,
                        element=f"protection '{dev['id'].iloc[i]}'", field="curve", value=dev["curve"].iloc[i],
                        allowed=("one of " + ", ".join(sorted(set(names)))) if len(names) else "a protection_curve")
    current, time = pts["current_a"].to_numpy(float), pts["time_s"].to_numpy(float)
    for name in dict.fromkeys(names):
        rows = np.flatnonzero(names == name)
        bad = np.flatnonzero((np.diff(current[rows]) <= 0) | (np.diff(time[rows]) > 0))
        if bad.size:
            i = int(rows[bad[0] + 1])
            raise CaseError(f"the points of curve '{name}' must rise in current and not rise in time, in table order",
                            file=table_files.get("protection_curve", file),
                            element=f"protection_curve '{pts['id'].iloc[i]}'", field="current_a",
                            value=current[i], allowed=f"above {current[rows[bad[0]]]} A at most "
                                                      f"{time[rows[bad[0]]]} s")
