"""The case schema: one data table (``schema.csv``) of every case field.

The table drives the loader (types, defaults, bounds, unit conversion), the error messages, the generated
field reference (``python -m gigawatt.cases.docs``) and the ``units`` attributes of the results, so names
and units cannot drift between them.

Why hand-written rather than a schema library (pydantic, pandera): the schema is a data table users and the
docs read, checked on whole element tables at once (pandas columns of 10⁶ rows), with errors that name the
file, element, field, value and allowed range; those libraries validate objects or frames but neither read
such a table nor word the errors so. The unit spellings stay a small table too (:data:`UNIT_ALIASES`): a case
states its unit in the field's name (``p_it_kw``), a closed set per field whose conversion is a factor and an
offset; pint formats the values shown to people (:mod:`gigawatt.quantities`).
"""
from __future__ import annotations

import csv
import difflib
import math
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from gigawatt.errors import CaseError

SCHEMA_FILE = Path(__file__).with_name("schema.csv")

# Element tables (one row per element, loaded from TOML arrays or CSV) and settings tables (one value each).
ELEMENT_TABLES = ("bus", "line", "source", "converter", "rack", "dh_node", "dh_pipe", "dh_consumer",
                  "dh_heat_pump_map", "dh_pump", "ac_bus", "ac_line", "ac_trafo", "ac_supply", "battery", "protection",
                  "protection_curve", "store", "dc_terminal", "dc_conductance")
SETTINGS_TABLES = ("case", "solver", "campus", "cooling", "district_heating", "town", "dc", "time", "kpi", "swing")

# Other spellings the loader accepts for a canonical unit suffix. Keyed by (suffix, SI unit of the field):
# alias suffix -> (factor, offset), so that canonical = value * factor + offset. Only the loader converts;
# everything inside is SI.
UNIT_ALIASES: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("_w", "W"): {"_kw": (1e3, 0.0), "_mw": (1e6, 0.0), "_gw": (1e9, 0.0)},
    ("_v", "V"): {"_kv": (1e3, 0.0)},
    ("_m", "m"): {"_km": (1e3, 0.0), "_mm": (1e-3, 0.0)},
    ("_m2", "m2"): {"_mm2": (1e-6, 0.0)},
    ("_k", "K"): {"_c": (1.0, 273.15), "_degc": (1.0, 273.15)},
    ("_ohm_m", "ohm*m"): {"_ohm_mm2_per_m": (1e-6, 0.0)},
    ("_ohm", "ohm"): {"_mohm": (1e-3, 0.0)},
    ("_pa", "Pa"): {"_kpa": (1e3, 0.0), "_bar": (1e5, 0.0)},
    ("_va", "VA"): {"_kva": (1e3, 0.0), "_mva": (1e6, 0.0)},
    ("_var", "var"): {"_kvar": (1e3, 0.0), "_mvar": (1e6, 0.0)},
    ("_a", "A"): {"_ka": (1e3, 0.0)},
    ("_ohm_per_m", "ohm/m"): {"_ohm_per_km": (1e-3, 0.0)},
    ("_f_per_m", "F/m"): {"_nf_per_km": (1e-12, 0.0)},
    ("_kg_per_j", "kg/J"): {"_kg_per_kwh": (1.0 / 3.6e6, 0.0), "_g_per_kwh": (1e-3 / 3.6e6, 0.0)},
    ("_h_per_m", "H/m"): {"_uh_per_m": (1e-6, 0.0), "_nh_per_m": (1e-9, 0.0)},
    ("_f", "F"): {"_uf": (1e-6, 0.0), "_mf": (1e-3, 0.0)},
    ("_h", "H"): {"_uh": (1e-6, 0.0), "_mh": (1e-3, 0.0)},
    ("_s", "s"): {"_ms": (1e-3, 0.0)},
    ("_j", "J"): {"_kwh": (3.6e6, 0.0), "_mwh": (3.6e9, 0.0)},
    ("_w_per_s", "W/s"): {"_kw_per_s": (1e3, 0.0), "_mw_per_s": (1e6, 0.0)},
}

_BOUNDS = re.compile(r"^([\[(])\s*([^,]+),\s*([^\])]+)([\])])$")


@dataclass(frozen=True)
class Field:
    """One row of the schema table."""

    table: str
    name: str
    type: str  # str, float, int, bool, list, ref:<table>
    unit: str
    default: str  # "required", "" (none) or a literal
    bounds: str  # "(lo, hi]" interval, "{a, b}" choice, or ""
    description: str

    @property
    def required(self) -> bool:
        return self.default == "required"

    @cached_property
    def choices(self) -> tuple[str, ...] | None:
        if self.bounds.startswith("{"):
            return tuple(s.strip() for s in self.bounds.strip("{}").split(","))
        return None

    @cached_property
    def interval(self) -> tuple[float, float, bool, bool] | None:
        """(low, high, low_inclusive, high_inclusive) or None."""
        m = _BOUNDS.match(self.bounds)
        if not m:
            return None
        return float(m.group(2)), float(m.group(3)), m.group(1) == "[", m.group(4) == "]"

    @property
    def type_word(self) -> str:
        return {"float": "number", "int": "whole number", "bool": "true or false", "list": "list"}.get(
            self.type, "text")

    def default_value(self):
        """The default converted to the field's type, or None where there is none."""
        if self.default in ("", "required"):
            return None
        return parse_scalar(self, self.default)


@cache
def schema() -> dict[str, dict[str, Field]]:
    """The schema table as ``{table: {field: Field}}``, in file order."""
    out: dict[str, dict[str, Field]] = {}
    with SCHEMA_FILE.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            f = Field(row["table"], row["field"], row["type"], row["unit"], row["default"], row["bounds"],
                      row["description"])
            out.setdefault(f.table, {})[f.name] = f
    return out


def unit_of(table: str, field: str) -> str:
    """The unit of a schema field ('' for dimensionless)."""
    return schema()[table][field].unit


@cache
def aliases(table: str) -> dict[str, tuple[str, float, float]]:
    """Other spellings accepted for the fields of ``table``: alias -> (canonical field, factor, offset) (made once
    per table, as :func:`schema`; read it, do not change it)."""
    out = {}
    for name, f in schema()[table].items():
        for (suffix, unit), alts in UNIT_ALIASES.items():
            if name.endswith(suffix) and f.unit == unit:
                base = name[: -len(suffix)]
                for alt, (factor, offset) in alts.items():
                    out[base + alt] = (name, factor, offset)
    return out


def canonical_names(table: str, names, *, file=None, element=None, allow_twice=False
                    ) -> dict[str, tuple[str, float, float]]:
    """Map every given field name to (canonical name, factor, offset); unknown names are errors, and so is
    a field given under two spellings unless ``allow_twice`` (element tables check that row by row)."""
    fields = schema()[table]
    alias = aliases(table)
    out = {}
    for name in names:
        key = str(name).strip()
        if key in fields:
            out[name] = (key, 1.0, 0.0)
        elif key in alias:
            out[name] = alias[key]
        else:
            near = difflib.get_close_matches(key, list(fields) + list(alias), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise CaseError(f"unknown field in table '{table}'{hint}", file=file, element=element, field=key,
                            allowed=", ".join(fields))
    seen: dict[str, str] = {}
    for given, (canon, _, _) in out.items():
        if allow_twice:
            break
        if canon in seen:
            raise CaseError(f"field given twice, as '{seen[canon]}' and as '{given}'", file=file,
                            element=element, field=canon)
        seen[canon] = given
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def refuse_control_characters(text: str, *, file=None) -> None:
    """A table file holds printable text, tabs and line ends only. A NUL byte or another control character
    (C0, DEL or C1) is refused, naming its line and column: CSV readers end a field at a NUL, so
    ``1\\x0000`` would read as 1 without a word."""
    m = _CONTROL.search(text)
    if m is None:
        return
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.start())
    line_text = text[start:end if end >= 0 else len(text)].rstrip("\r")
    line = text.count("\n", 0, start) + 1
    raise CaseError(f"control character U+{ord(m.group()):04X} at column {m.start() - start + 1}",
                    file=file, element=f"line {line}", value=line_text[:80],
                    allowed="printable text, tabs and line ends")


def parse_scalar(f: Field, value, *, file=None, element=None):
    """Convert one value to the field's type (no unit conversion, no bounds)."""
    try:
        if f.type == "float":
            if isinstance(value, bool):
                raise TypeError
            out = float(value)
            if math.isnan(out):
                raise CaseError("is NaN (not a number)" + ("; a number is required" if f.required else
                                "; leave the field out for its default"), file=file, element=element, field=f.name)
            return out
        if f.type == "int":
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise TypeError
            return int(float(value))
        if f.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise ValueError
        if f.type == "list":
            items = [value] if isinstance(value, str) else list(value)
            for item in items:
                if isinstance(item, str):
                    _no_nul(item, f, file=file, element=element)
            return items
        if isinstance(value, (dict, list)):
            raise TypeError
        return _no_nul(str(value), f, file=file, element=element)
    except CaseError:
        raise
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite whole number
        raise CaseError(f"expected a {f.type_word}", file=file, element=element, field=f.name,
                        value=value) from None


def _no_nul(text: str, f: Field, *, file=None, element=None) -> str:
    """``text``, unless it holds a NUL character (C libraries, file names and NetCDF would cut it there)."""
    if "\x00" in text:
        raise CaseError("contains a NUL character", file=file, element=element, field=f.name, value=text)
    return text


def rows_frame(table: str, rows: list, *, file=None) -> pd.DataFrame:
    """An element table given as rows (TOML ``[[table]]``, a list of dicts) as a DataFrame. A value given
    as NaN is refused here, naming its row (in the frame it would read as a field left out), and so is a
    list or a table where one value belongs."""
    for k, row in enumerate(rows):
        for name, value in row.items():
            nan = isinstance(value, float) and math.isnan(value)
            if not nan and not isinstance(value, (list, dict)):
                continue
            f = schema()[table].get(aliases(table).get(name, (name,))[0]) if table in schema() else None
            rid = row.get("id")
            element = f"{table} '{rid}'" if isinstance(rid, str) else f"table '{table}', row {k + 1}"
            if not nan:
                raise CaseError(f"expected a {f.type_word if f else 'single value'}, not a "
                                f"{'list' if isinstance(value, list) else 'table'}", file=file, element=element,
                                field=name, value=value)
            raise CaseError("is NaN (not a number)" + ("; a number is required" if f is not None and f.required
                                                       else "; leave the field out for its default"),
                            file=file, element=element, field=name)
    return pd.DataFrame(rows)


def check_scalar(f: Field, value, *, file=None, element=None):
    """Raise a CaseError if ``value`` (already converted, SI) is outside the field's bounds."""
    if value is None:
        return
    if f.choices is not None and value not in f.choices:
        raise CaseError("not an allowed value", file=file, element=element, field=f.name, value=value,
                        allowed=f.bounds)
    iv = f.interval
    if iv is not None:
        lo, hi, lo_in, hi_in = iv
        ok = (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi)
        if not ok:
            raise CaseError("out of range", file=file, element=element, field=f.name, value=value,
                            allowed=f"{f.bounds} {f.unit}".strip())


def validate_settings(table: str, raw: dict, *, file=None) -> dict:
    """Validate a settings table (``case``, ``solver``, ``campus``): types, units, bounds, defaults."""
    if not isinstance(raw, dict):
        raise CaseError(f"[{table}] must be a table of settings", file=file, value=raw)
    fields = schema()[table]
    names = canonical_names(table, raw.keys(), file=file, element=f"[{table}]")
    out = {}
    for given, value in raw.items():
        if value is None:  # not given (a validated settings table passed back in)
            continue
        canon, factor, offset = names[given]
        f = fields[canon]
        v = parse_scalar(f, value, file=file, element=f"[{table}]")
        if f.type in ("float", "int") and (factor != 1.0 or offset != 0.0):
            try:
                check_scalar(f, v * factor + offset, file=file, element=f"[{table}]")
            except CaseError as err:  # report the value as the user wrote it, as element tables do
                raise CaseError(err.reason, file=file, element=f"[{table}]", field=given, value=value,
                                allowed=f"{err.allowed} as {canon} = {given} × {factor:g}"
                                + (f" + {offset:g}" if offset else "")) from None
            v = v * factor + offset
        check_scalar(f, v, file=file, element=f"[{table}]")
        out[canon] = v
    for name, f in fields.items():
        if name not in out:
            if f.required:
                raise CaseError("required field is missing", file=file, element=f"[{table}]", field=name)
            out[name] = f.default_value()
    return out


def validate_table(table: str, df: pd.DataFrame, *, file=None, codes: dict | None = None) -> pd.DataFrame:
    """Validate an element table and return a new one in canonical names, SI units, with defaults filled.

    Checks are vectorised (10⁶ rows in well under a second); the first offending row is named by its id.
    ``codes``, if given, receives for each field with a choice of values each row's index (int64) into
    its choices followed by the empty string, as the check finds them.
    """
    fields = schema()[table]
    ids = df["id"].astype(str).to_numpy() if "id" in df.columns else np.arange(len(df)).astype(str)

    def where(mask) -> tuple[int, str]:
        i = int(np.flatnonzero(mask)[0])
        return i, f"{table} '{ids[i]}'"

    try:
        names = canonical_names(table, df.columns, file=file, element=f"table '{table}'", allow_twice=True)
    except CaseError as err:  # name the first row that gives the unknown field
        given = df[err.field].notna().to_numpy() if err.field in df.columns else np.zeros(0, bool)
        raise CaseError(err.reason, file=file, element=where(given)[1] if given.any() else err.element,
                        field=err.field, allowed=err.allowed) from None
    if not len(df):  # no rows: nothing to check but the names given
        return _empty_table(fields, codes)
    given_as = {}

    out = {}
    for given, (canon, factor, offset) in names.items():
        f = fields[canon]
        col = df[given]
        missing = col.isna().to_numpy()
        given_as.setdefault(canon, []).append((given, col, factor, offset))
        if f.type in ("float", "int"):
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(num) & ~missing
            if col.dtype == bool:
                bad = ~missing
            elif col.dtype == object:  # true/false would otherwise pass as 1/0
                bad |= col.map(lambda x: isinstance(x, (bool, np.bool_))).to_numpy(dtype=bool)
            if bad.any():
                i, el = where(bad)
                raise CaseError(f"expected a {f.type_word}", file=file, element=el, field=given,
                                value=col.iloc[i])
            if f.type == "int":
                frac = ~missing & (num != np.round(num))
                if frac.any():
                    i, el = where(frac)
                    raise CaseError("expected a whole number", file=file, element=el, field=given,
                                    value=col.iloc[i])
            values = num * factor + offset if (factor, offset) != (1.0, 0.0) else num
        elif f.type == "bool":
            text = col.astype(str).str.strip().str.lower()
            truth = text.isin(["true", "1", "yes", "1.0"]).to_numpy()
            falsy = text.isin(["false", "0", "no", "0.0"]).to_numpy()
            bad = ~(truth | falsy | missing)
            if bad.any():
                i, el = where(bad)
                raise CaseError("expected true or false", file=file, element=el, field=given,
                                value=col.iloc[i])
            values = np.where(missing, np.nan, truth).astype(object)
        else:
            raw = col.to_numpy(dtype=object, copy=True)
            raw[missing] = ""
            all_str = pd.api.types.infer_dtype(raw, skipna=False) == "string"
            # A NUL would be cut off by numpy's fixed-width strings below (and by C libraries, NetCDF, file
            # names): one join finds it, a Python loop only names its row.
            if "\x00" in ("".join(raw) if all_str else "".join(map(str, raw))):
                i, el = where(np.array(["\x00" in str(v) for v in raw], dtype=bool))
                raise CaseError("contains a NUL character", file=file, element=el, field=given, value=str(raw[i]))
            text = raw.astype(str)
            stripped = np.strings.strip(text)  # numpy string ufuncs: C loops, no Python per row
            missing = missing | (stripped == "")
            # Keep the given string objects where nothing was stripped (shared with other tables: less memory).
            clean = all_str and (stripped == text).all()
            values = raw if clean else stripped.astype(object)
        if canon in out:  # the same field under two spellings: each row may give it once
            old_values, old_missing = out[canon]
            both = ~old_missing & ~missing
            if both.any():
                i, el = where(both)
                raise CaseError(f"field given twice in one row (also as '{given}')", file=file, element=el,
                                field=canon)
            values = np.where(old_missing, values, old_values)
            missing = old_missing & missing
        out[canon] = (values, missing)

    result = {}
    n = len(df)
    for name, f in fields.items():
        values, missing = out.get(name, (None, np.ones(n, dtype=bool)))
        default = f.default_value()
        if f.required and n and (values is None or missing.any()):
            el = where(missing)[1] if name != "id" else f"table '{table}', row {int(np.flatnonzero(missing)[0]) + 1}"
            raise CaseError("required field is missing", file=file, element=el, field=name)
        numeric = f.type in ("float", "int")
        if values is None:
            values = np.full(n, np.nan if default is None and numeric else default, dtype=float if numeric else object)
        elif default is not None and missing.any():
            values = np.where(missing, default, values)
        if f.type == "bool":
            values = values.astype(bool)
        elif f.type in ("float", "int"):
            values = values.astype(float, copy=False)
            iv = f.interval
            if iv is not None:
                lo, hi, lo_in, hi_in = iv
                with np.errstate(invalid="ignore"):
                    ok = (values >= lo if lo_in else values > lo) & (values <= hi if hi_in else values < hi)
                bad = ~ok & ~np.isnan(values)
                if bad.any():
                    i, el = where(bad)
                    allowed = f"{f.bounds} {f.unit}".strip()
                    spelled = [g for g in given_as.get(name, []) if pd.notna(g[1].iloc[i])]
                    given, col, factor, offset = spelled[0] if spelled else (name, None, 1.0, 0.0)
                    if given != name:  # report the value as the user wrote it
                        allowed += f" as {name} = {given} × {factor:g}" + (f" + {offset:g}" if offset else "")
                        raise CaseError("out of range", file=file, element=el, field=given, value=col.iloc[i],
                                        allowed=allowed)
                    raise CaseError("out of range", file=file, element=el, field=name, value=values[i],
                                    allowed=allowed)
            if f.type == "int":
                values = values.astype(np.int64) if not np.isnan(values).any() else values
        else:
            choices = f.choices
            if choices is not None:
                code = pd.Index(choices + ("",)).get_indexer(values).astype(np.int64, copy=False)
                bad = code < 0
                if codes is not None:
                    codes[name] = code
                if bad.any():
                    i, el = where(bad)
                    raise CaseError("not an allowed value", file=file, element=el, field=name,
                                    value=values[i], allowed=f.bounds)
            values = np.asarray(values, dtype=object)
            blank = pd.isna(values)  # None and NaN, as Series.fillna finds them
            if blank.any():
                values = values.copy()
                values[blank] = ""
        result[name] = values
    table_out = pd.DataFrame(result, index=pd.RangeIndex(n))
    if "id" in table_out:
        dup = table_out["id"].duplicated().to_numpy()
        if dup.any():
            i, el = where(dup)
            raise CaseError("duplicate id", file=file, element=el, field="id", value=table_out["id"].iloc[i],
                            allowed="ids unique within the table")
    return table_out


def _empty_table(fields: dict, codes: dict | None) -> pd.DataFrame:
    """:func:`validate_table` of a table without rows: its columns with their validated dtypes (float for numbers,
    int64 for whole numbers, bool, object for text), the empty choice codes in ``codes``."""
    dtypes = {"float": float, "int": np.int64, "bool": bool}
    for name, f in fields.items():
        if codes is not None and f.type not in dtypes and f.choices is not None:
            codes[name] = np.empty(0, dtype=np.int64)
    return pd.DataFrame({name: np.empty(0, dtype=dtypes.get(f.type, object)) for name, f in fields.items()},
                        index=pd.RangeIndex(0))


def echo_variable(table: str, dim: str, df, field: str, long_name: str | None = None):
    """A case table's column as a results variable (``xarray.Variable`` along ``dim``) with the schema's unit
    and description: how every stage's results echo their inputs."""
    import xarray as xr

    f = schema()[table][field]
    # Numbers are copied, so the results can be edited; text columns are shared (case tables are read-only),
    # and passed as they are (``fastpath``): xarray would scan validated strings for dates and copy them, a
    # reference count touched per element (a few ms per column at 10⁵ rows).
    attrs = {"units": f.unit or "1", "long_name": long_name or f.description}
    if f.type in ("float", "int"):
        return xr.Variable(dim, df[field].to_numpy(copy=True), attrs=attrs)
    values = df[field].to_numpy()
    return xr.Variable(dim, values, attrs=attrs, fastpath=values.dtype == object)


def schema_keywords(table: str, intro: str):
    """Decorator: give a builder that takes ``**table_fields`` the explicit keyword signature and the parameter
    list of the schema's ``table`` (for ``help()``, editors and the docs), generated here from ``schema.csv``
    so they cannot drift from the loader. The builder still accepts every unit spelling the loader does
    (``rack_it_power_kw`` for ``rack_it_power_w``): the signature ends in ``**other_spellings``. ``intro``
    heads the generated section."""
    import inspect

    def decorate(func):
        sig = inspect.signature(func)
        params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        fields = schema()[table]
        required = inspect.Parameter.empty
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                     default=required if f.required else f.default_value())
                   for name, f in fields.items()]
        params.append(inspect.Parameter("other_spellings", inspect.Parameter.VAR_KEYWORD))
        func.__signature__ = sig.replace(parameters=params)
        lines = ["", f"    {intro}", "", f"    Parameters of ``[{table}]``", "    " + "-" * (19 + len(table))]
        for name, f in fields.items():
            unit = f" [{f.unit}]" if f.unit else ""
            default = "required" if f.required else (f"default {f.default}" if f.default else "optional")
            bounds = f", {f.bounds}" if f.bounds else ""
            lines += [f"    {name} : {f.type}{unit}, {default}{bounds}", f"        {f.description}"]
        func.__doc__ = (func.__doc__ or "").rstrip() + "\n" + "\n".join(lines) + "\n"
        return func

    return decorate
