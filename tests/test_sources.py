"""The page of sources is generated from the citations themselves; the committed copy must match it. And no
file of the project points at the team's internal finding aid instead of citing the primary source."""
import shutil
import subprocess
from pathlib import Path

import pytest

from gigawatt.sources import reference_entries, render, toml_comments

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "sources.md"
# Written in two parts so that this file does not contain them itself.
FORBIDDEN = ("REFERENCES" + ".md", ".." + "/shared")


def test_committed_sources_page_matches_the_citations():
    assert PAGE.read_text(encoding="utf-8") == render(), "run `make docs` to regenerate docs/sources.md"


def test_page_lists_the_primary_sources_where_they_are_used():
    text = render()
    # A module's numpydoc references, a validation case's source, a bundled case's references and comments,
    # and a schema description: one known citation of each.
    assert "### `gigawatt.models.ac_chain`" in text and "https://www.clearesult.com/80plus/program-details" in text
    assert "### `dh_published_heat_pump_cop`" in text and "https://ecp.ep.liu.se/index.php/sims/article/view/747" in text
    assert "### `hall_800vdc.toml`" in text and "`[cooling] liquid_fraction`: " in text
    assert "| cooling | `liquid_fraction` |" in text


def test_reference_entries_are_read_from_the_numpydoc_section_only():
    doc = """Summary.

References
----------
.. [1] A. Author, "Title", Journal 1(2), 3-4 (2001).
   doi:10.1/x
.. [K2] B. Author, Book.

Examples
--------
.. [9] not a reference
"""
    assert reference_entries(doc) == [("1", 'A. Author, "Title", Journal 1(2), 3-4 (2001). doi:10.1/x'),
                                      ("K2", "B. Author, Book.")]
    assert reference_entries("No section here.") == []


def test_toml_comments_are_placed_at_their_key_and_skip_strings():
    text = '''# head
[t]
a = 1   # first part
        # and its continuation
b = """x # not a comment
y"""
c = "# not one either"  # but this is
'''
    assert toml_comments(text) == [("(top)", "head"), ("[t] a", "first part and its continuation"),
                                   ("[t] c", "but this is")]


def test_no_tracked_file_points_at_the_internal_finding_aid():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    offenders = []
    for name in filter(None, files.decode("utf-8").split("\0")):
        path = REPO / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        offenders += [f"{name}: {s}" for s in FORBIDDEN if s.encode("utf-8") in data]
    assert not offenders, "cite the primary source instead:\n" + "\n".join(offenders)
