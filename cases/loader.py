"""Read a case file (TOML, with element tables inline or in CSV files, and an optional campus builder)."""
from __future__ import annotations

import inspect
import io
import tomllib
from importlib import resources
from pathlib import Path

import pandas as pd

from gigawatt.cases.campus import build_campus_tables, campus_loss_models
from gigawatt.cases.case import Case, make_case, make_loss_models
from gigawatt.cases.schema import ELEMENT_TABLES, SETTINGS_TABLES, refuse_control_characters, rows_frame, validate_table
from gigawatt.cases.town import build_town_tables, with_plant_nodes
from gigawatt.errors import CaseError

TOP_LEVEL = ("case", "solver", "campus", "town", "cooling", "district_heating", "dc", "time", "kpi", "swing",
             "loss_models") + ELEMENT_TABLES
DEFAULT_CASE = "hall_800vdc.toml"


def default_case_path() -> Path:
    """Path of the bundled default case (an 800 VDC AI data hall of about 100 MW)."""
    return Path(str(resources.files("gigawatt.cases") / "bundled" / DEFAULT_CASE))


def write_starter_case(folder) -> list[Path]:
    """Copy the commented starter case (``campus.toml`` and its CSV tables) into ``folder`` (created if
    missing); refuses to overwrite any file already there. Returns the files written, the case first."""
    folder = Path(folder)
    source = resources.files("gigawatt.cases") / "starter"
    files = sorted((p for p in source.iterdir() if p.name.endswith((".toml", ".csv"))),
                   key=lambda p: (not p.name.endswith(".toml"), p.name))
    clash = [folder / p.name for p in files if (folder / p.name).exists()]
    if clash:
        raise CaseError("refusing to overwrite an existing file", file=str(clash[0]))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for p in files:
        (folder / p.name).write_bytes(p.read_bytes())
        written.append(folder / p.name)
    return written


def bundled_cases() -> list[Path]:
    """Paths of every bundled case."""
    folder = resources.files("gigawatt.cases") / "bundled"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def load_case(path=None) -> Case:
    """Read and validate a case file.

    Parameters
    ----------
    path : str or Path, optional
        A TOML case file; the bundled default case when omitted. Element tables (``bus``, ``line``,
        ``source``, ``converter``, ``rack``) are TOML arrays of tables (``[[line]]``) or the name of a CSV
        file relative to the case file (``line = "lines.csv"``). A ``[campus]`` table generates halls,
        rows, busways and racks; a ``[town]`` table the district-heating network of a town (its plant at
        ``plant-S``/``plant-R`` unless ``[district_heating]`` names other nodes); explicit tables are added
        to what they generate.

    Raises
    ------
    CaseError
        Naming the file, element, field and value of the first problem found.
    """
    return case_from_document(*read_case_document(path))


def read_case_document(path=None) -> tuple[dict, str, dict]:
    """Read a case file into its parsed TOML document, with tables kept in CSV files read in as DataFrames.

    Returns ``(doc, file, table_files)``: what :func:`case_from_document` builds the case from. The document
    is plain data (it pickles, so another process can build the case from it without the files), and a
    caller may change settings in it first (``gigawatt sweep`` does).
    """
    path = Path(path) if path is not None else default_case_path()
    file = str(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise CaseError("case file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as err:
        raise CaseError(f"cannot read the case file: {err}", file=file) from None
    except tomllib.TOMLDecodeError as err:
        raise CaseError(f"not valid TOML: {err}", file=file) from None

    unknown = [k for k in doc if k not in TOP_LEVEL]
    if unknown:
        raise CaseError("unknown top-level entry", file=file, field=unknown[0], allowed=", ".join(TOP_LEVEL))
    table_files = {}
    for name in ELEMENT_TABLES:
        if isinstance(doc.get(name), str):
            csv_path = path.parent / doc[name]
            table_files[name] = str(csv_path)
            doc[name] = _read_csv(csv_path, name)
    return doc, file, table_files


def case_from_document(doc: dict, file: str | None = None, table_files: dict | None = None) -> Case:
    """Build and validate the case of a document read by :func:`read_case_document` (the campus and town
    builders run here)."""
    table_files = dict(table_files or {})
    loss_models = doc.get("loss_models", {})
    if not isinstance(loss_models, dict):
        raise CaseError("[loss_models] must be a table of named models", file=file, field="loss_models")

    tables = {name: doc[name] for name in ELEMENT_TABLES if name in doc}

    if "campus" in doc:
        # Build the loss models first: the builder sizes stations from the shelves' losses.
        loss_models = campus_loss_models(doc["campus"], loss_models, file=file)
        models = make_loss_models(loss_models, file=file)[0]  # (no tables to validate yet)
        _add_built(tables, build_campus_tables(doc["campus"], dict(models), file=file), table_files, file)

    district_heating = doc.get("district_heating")
    if "town" in doc:
        # A town is a district-heating network: its plant's nodes are the generated ones unless given.
        district_heating = with_plant_nodes(district_heating)
        _add_built(tables, build_town_tables(doc["town"], district_heating, file=file), table_files, file)

    # Every settings section make_case takes, as given (the builders' own sections are not among them).
    sections = {name: doc.get(name) for name in inspect.signature(make_case).parameters if name in SETTINGS_TABLES}
    sections["district_heating"] = district_heating
    return make_case(tables, loss_models=loss_models, file=file, table_files=table_files, **sections)


def _add_built(tables: dict, built: dict, table_files: dict, file: str) -> None:
    """Put a builder's tables into ``tables``; explicit tables of the same name are added after them."""
    for name, df in built.items():
        if name in tables:
            extra = rows_frame(name, tables[name], file=file) if isinstance(tables[name], list) else tables[name]
            extra = validate_table(name, extra, file=table_files.get(name, file))
            df = pd.concat([df, extra], ignore_index=True)
        tables[name] = df


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    """An element table from a CSV file, its text checked first (:func:`refuse_control_characters`)."""
    import warnings

    try:
        text = path.read_text(encoding="utf-8")
        refuse_control_characters(text, file=str(path))
        with warnings.catch_warnings():
            # A row with more fields than the header: pandas would take the first column as the index (every
            # id shifted) or drop the extra fields; refused here, naming that row.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # round_trip: the exact double of each decimal (the default parser can be one ulp off).
            return pd.read_csv(io.StringIO(text), skipinitialspace=True, comment="#", index_col=False,
                               float_precision="round_trip")
    except FileNotFoundError:
        raise CaseError("table file not found", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        row = _long_row(path, table)
        if row is not None:
            raise row from None
        raise CaseError(f"cannot read the CSV table: {err}", file=str(path)) from None
    except (OSError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise CaseError(f"cannot read the CSV table: {err}", file=str(path)) from None


def _long_row(path: Path, table: str) -> CaseError | None:
    """The error for the first row of a CSV table with more fields than its header (its line, its id)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = (line for line in fh)
            header = None
            for number, row in enumerate(csv.reader(lines), 1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    continue
                if len(row) > len(header):
                    rid = row[header.index("id")].strip() if "id" in header else None
                    element = f"line {number}" + (f", {table} '{rid}'" if rid else "")
                    return CaseError(f"{len(row)} fields in this row, but the header names {len(header)}",
                                     file=str(path), element=element, value=",".join(row),
                                     allowed=",".join(header))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None
