"""The case-field reference is generated from the schema table; the committed copy must match it."""
from pathlib import Path

from gigawatt.cases.docs import render
from gigawatt.cases.schema import schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "case-format.md"


def test_committed_reference_matches_schema():
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` to regenerate docs/case-format.md"


def test_every_field_is_documented_with_a_description():
    text = render()
    for table, fields in schema().items():
        for f in fields.values():
            assert f.description, f"{table}.{f.name} has no description"
            assert f"`{f.name}`" in text
