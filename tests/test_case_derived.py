"""What a case keeps with it (STYLE.md 7: keyed by what it derives from, never stale): the rows its references
name and the codes of its choices, found by validation and used by the solvers instead of strings, and its
hash. Replacing a column (the one edit a case's read-only tables allow) must be seen by all three."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gigawatt as gw
from gigawatt.errors import CaseError

TABLES = ("bus", "line", "source", "converter", "rack")


def small_case(doc):
    return gw.make_case({k: doc[k] for k in TABLES}, loss_models=doc["loss_models"], case=doc["case"])


def test_reference_rows_and_codes_say_what_the_strings_say(kit):
    case = small_case(kit.base_doc())
    t = case.tables
    for table, field, target in (("line", "from_bus", "bus"), ("line", "to_bus", "bus"), ("source", "bus", "bus"),
                                 ("converter", "from_bus", "bus"), ("converter", "to_bus", "bus"),
                                 ("rack", "bus", "bus")):
        rows = case.ref_rows(table, field)
        assert rows.dtype == np.int64
        np.testing.assert_array_equal(t[target]["id"].to_numpy()[rows], t[table][field].to_numpy())
    for table, field in (("line", "kind"), ("line", "material"), ("source", "kind"), ("rack", "pole"),
                         ("rack", "shelf_loss_model"), ("source", "loss_model"), ("converter", "loss_model")):
        code, labels = case.codes(table, field)
        assert labels[-1] == "" and (code >= 0).all()
        np.testing.assert_array_equal(np.array(labels, dtype=object)[code], t[table][field].to_numpy())
    assert case.codes("rack", "shelf_loss_model")[1] == (*case.loss_models, "")


def test_a_replaced_column_is_looked_up_again(kit):
    # Move rack r1 to another bus and make every line a busway after a first solve: the second solve must equal
    # that of a case made with those values from the start (a kept reference row or code would be stale).
    doc = kit.base_doc()
    case = small_case(doc)
    gw.solve(case)  # the first solve keeps what it derived
    moved = doc["rack"][0]["bus"]
    target = "c" if moved != "c" else "b"
    bus = case.tables["rack"]["bus"].to_numpy().copy()
    bus[0] = target
    case.tables["rack"]["bus"] = bus
    case.tables["line"]["kind"] = np.full(len(case.tables["line"]), "busway", dtype=object)
    for rack in doc["rack"][:1]:
        rack["bus"] = target
    for line in doc["line"]:
        line["kind"] = "busway"
    fresh = small_case(doc)
    assert case.hash() == fresh.hash()
    np.testing.assert_array_equal(case.ref_rows("rack", "bus"), fresh.ref_rows("rack", "bus"))
    got, want = gw.solve(case), gw.solve(fresh)
    np.testing.assert_array_equal(got.v_v.values, want.v_v.values)
    np.testing.assert_array_equal(got.kind_loss_w.values, want.kind_loss_w.values)
    assert got.kind_loss_w.sel(kind="line_busway") > 0 and got.kind_loss_w.sel(kind="line_cable") == 0


def test_a_replaced_reference_to_nothing_is_refused(kit):
    case = small_case(kit.base_doc())
    gw.solve(case)
    case.tables["line"]["to_bus"] = np.full(len(case.tables["line"]), "nowhere", dtype=object)
    with pytest.raises(CaseError, match="refers to a bus that does not exist") as err:
        gw.solve(case)
    assert err.value.field == "to_bus" and "nowhere" in str(err.value)


def test_text_with_nul_characters_hashes_apart():
    # The hash joins a text column's strings with NUL; strings that hold a NUL themselves are hashed one by
    # one, so moving a NUL across a boundary still changes the bytes hashed. (A case refuses NUL characters in
    # its text, tests/test_tracebacks.py, so the column function is checked directly.)
    from gigawatt.cases.case import _column_bytes

    one = _column_bytes(np.array(["r\x00", "x"], dtype=object))
    other = _column_bytes(np.array(["r", "\x00x"], dtype=object))
    assert bytes(one) != bytes(other)
    assert bytes(_column_bytes(np.array(["r", "x"], dtype=object))) == "r\x00x".encode()
