"""Generate the page of every source the project cites, grouped by where it is used.

``python -m gigawatt.sources > docs/sources.md``; a test checks that the committed page matches, so the list
cannot drift from the citations themselves. Four places are read, none of them imported:

* the numpydoc ``References`` sections (``.. [n]`` entries) of the module, class and function docstrings of
  every ``gigawatt.*`` source file, parsed with :mod:`ast`;
* the ``source`` field (and the ``peer`` tool) of every validation case, ``validation/cases/*.toml``;
* the ``[case] references`` list and the comments that name a source in the bundled cases,
  ``cases/bundled/*.toml``;
* the descriptions in the case schema, ``cases/schema.csv``, that name a source.

Imports: the standard library only (the packages are located with :func:`importlib.util.find_spec`, which
loads nothing but the light ``gigawatt/__init__.py``).
"""
from __future__ import annotations

import ast
import csv
import importlib.util
import re
import tomllib
from pathlib import Path

PACKAGES = ("gigawatt", "gigawatt.solver", "gigawatt.models", "gigawatt.cases", "gigawatt.validation")
"""The installed packages whose source folders are read (each may live in its own folder: see pyproject)."""

CITES = re.compile(
    r"doi:|https?://|\bet al\b|\b(?:IEC|EN|CFR|ASHRAE|BDEW|IBPSA|DESTEST|OCP|NVIDIA)\b|\bISO\b(?! 8601)"
    r"|Open Compute|vendor data|trade press|\bsecondary\b|\b(?:1[89]|20)\d\d\b(?!-\d)")
"""What marks a comment or a schema description as naming a source: a DOI or URL, "et al", a standard or a
named programme, a vague source named as such (vendor data, trade press, a secondary source), or a year (not
the year of an ISO 8601 date)."""

_ENTRY = re.compile(r"^\.\.\s+\[([^\]]+)\]\s*(.*)$")
_RULE = re.compile(r"^-{3,}$")


def package_dirs() -> dict[str, Path]:
    """Folder of each package of :data:`PACKAGES` that is installed, by package name."""
    dirs = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs[name] = Path(next(iter(spec.submodule_search_locations))).resolve()
    return dirs


def _module_name(path: Path, dirs: dict[str, Path]) -> str:
    """Dotted module name of ``path``, from the most specific package folder that holds it."""
    best = max((d for d in dirs.values() if d in path.parents), key=lambda d: len(d.parts))
    package = next(n for n, d in dirs.items() if d == best)
    parts = list(path.relative_to(best).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _squash(text: str) -> str:
    return " ".join(text.split())


def reference_entries(docstring: str) -> list[tuple[str, str]]:
    """The ``(label, text)`` entries of the numpydoc ``References`` section of ``docstring``, in order."""
    lines = docstring.splitlines()
    entries: list[list[str]] = []
    for i, line in enumerate(lines[:-1]):
        if line.strip() == "References" and _RULE.match(lines[i + 1].strip()):
            break
    else:
        return []
    for j in range(i + 2, len(lines)):
        line = lines[j]
        if (line.strip() and not line[:1].isspace() and j + 1 < len(lines)
                and _RULE.match(lines[j + 1].strip())):
            break  # the next section
        m = _ENTRY.match(line.strip())
        if m:
            entries.append([m.group(1), m.group(2)])
        elif line.strip() and entries:
            entries[-1][1] += " " + line.strip()
    return [(label, _squash(text)) for label, text in entries]


def _docstrings(tree: ast.Module):
    """``(qualified name or "", docstring)`` of the module and of every class and function in it."""
    yield "", ast.get_docstring(tree) or ""

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                yield name, ast.get_docstring(child) or ""
                yield from walk(child, name + ".")

    yield from walk(tree, "")


def module_references(dirs: dict[str, Path] | None = None) -> dict[str, list[tuple[str, str, str]]]:
    """``{module: [(object, label, text), ...]}`` for every module whose docstrings carry references."""
    dirs = package_dirs() if dirs is None else dirs
    files = sorted({p.resolve() for d in dirs.values() for p in d.rglob("*.py") if "__pycache__" not in p.parts})
    out: dict[str, list[tuple[str, str, str]]] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = [(obj, label, text) for obj, doc in _docstrings(tree) for label, text in reference_entries(doc)]
        if found:
            out[_module_name(path, dirs)] = found
    return dict(sorted(out.items()))


def validation_sources(dirs: dict[str, Path] | None = None) -> list[dict]:
    """Name, title, tier, source and peer tool of every validation case, by file name."""
    dirs = package_dirs() if dirs is None else dirs
    folder = dirs["gigawatt.validation"] / "cases"
    cases = []
    for path in sorted(folder.glob("*.toml")):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        cases.append({"name": path.stem, "title": str(spec.get("title", "")), "tier": str(spec.get("tier", "")),
                      "source": _squash(str(spec.get("source", ""))), "peer": str(spec.get("peer", ""))})
    return cases


def _comment_at(line: str) -> int:
    """Index of the ``#`` that starts the comment of a TOML line (outside strings), or -1."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return i
        i += 1
    return -1


def toml_comments(text: str) -> list[tuple[str, str]]:
    """``(where, comment)`` of a TOML file: its comment blocks with the table and key they stand at.

    A block is a run of whole-line comments, or a comment after a value with the whole-line comments
    indented below it; multi-line strings are skipped.
    """
    blocks: list[list[str]] = []
    table, key, in_string = "", "", None
    joinable = inline = False  # may a whole-line comment extend the last block; did that start after a value
    for raw in text.splitlines():
        line = raw.rstrip()
        if in_string:
            if in_string in line:
                in_string = None
            continue
        if not line.strip():
            joinable = False
            continue
        at = _comment_at(line)
        code = (line if at < 0 else line[:at]).strip()
        comment = "" if at < 0 else line[at + 1:].strip()
        if code:
            if code.startswith("["):
                table, key = code.strip("[]"), ""
            elif "=" in code and code[0] not in "\"'":
                key, value = (part.strip() for part in code.split("=", 1))
                in_string = next((d for d in ('"""', "'''") if value.startswith(d) and value.count(d) == 1), None)
            if comment:
                blocks.append([f"[{table}] {key}" if key else f"[{table}]", comment])
            joinable = inline = bool(comment)
        elif joinable and (not inline or line[:1].isspace()):
            blocks[-1][1] += " " + comment
        else:
            blocks.append([f"[{table}]" if table else "(top)", comment])
            joinable, inline = True, False
    return [(where, _squash(comment)) for where, comment in blocks]


def bundled_sources(dirs: dict[str, Path] | None = None) -> list[dict]:
    """File name, ``[case] references`` and source-naming comments of every bundled case."""
    dirs = package_dirs() if dirs is None else dirs
    out = []
    for path in sorted((dirs["gigawatt.cases"] / "bundled").glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        refs = [_squash(str(r)) for r in tomllib.loads(text).get("case", {}).get("references", [])]
        comments = [(w, c) for w, c in toml_comments(text) if CITES.search(c)]
        out.append({"name": path.name, "references": refs, "comments": comments})
    return out


def schema_sources(dirs: dict[str, Path] | None = None) -> list[tuple[str, str, str]]:
    """``(table, field, description)`` of every schema field whose description names a source."""
    dirs = package_dirs() if dirs is None else dirs
    with open(dirs["gigawatt.cases"] / "schema.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [(r["table"], r["field"], _squash(r["description"])) for r in rows if CITES.search(r["description"])]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole page as Markdown."""
    dirs = package_dirs()
    out = ["# Sources", "",
           "Generated by `python -m gigawatt.sources` from the citations themselves; do not edit by hand (`make docs`",
           "regenerates it, and a test checks that it matches). Every source the project cites, grouped by where it",
           "is used: module docstrings (their numpydoc `References`), validation cases (their `source`), the bundled",
           "cases (their `references` and the comments that name a source) and the case schema (field descriptions",
           "that name a source). A figure marked *assumption* or *unverified* there was not checked against a",
           "primary source.", "", "## Modules", ""]
    for module, entries in module_references(dirs).items():
        out += [f"### `{module}`", ""]
        for obj, label, text in entries:
            where = f"`{obj}` " if obj else ""
            out.append(f"- {where}[{label}] {text}")
        out.append("")
    out += ["## Validation cases", "", "`validation/cases/*.toml`: each case's `source`, with its peer tool.", ""]
    for case in validation_sources(dirs):
        out += [f"### `{case['name']}`", "", f"{case['title']} (tier: {case['tier']})", "", case["source"]]
        if case["peer"]:
            out += ["", f"Peer tool: {case['peer']}."]
        out.append("")
    out += ["## Bundled cases", "", "`cases/bundled/*.toml`: the `[case] references` list, then the comments that "
            "name a source, with the table and key they stand at.", ""]
    for case in bundled_sources(dirs):
        out += [f"### `{case['name']}`", ""]
        out += [f"- {r}" for r in case["references"]]
        if case["comments"]:
            out += ["", "Comments:", ""]
            out += [f"- `{where}`: {text}" for where, text in case["comments"]]
        out.append("")
    out += ["## Case schema fields", "", "`cases/schema.csv`: descriptions that name a source (defaults and "
            "ranges are in [case-format.md](case-format.md)).", "", "| table | field | description |",
            "|---|---|---|"]
    out += [f"| {table} | `{field}` | {_cell(text)} |" for table, field, text in schema_sources(dirs)]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
