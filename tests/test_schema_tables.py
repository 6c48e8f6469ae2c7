"""Validation of element tables (``gigawatt.cases.schema.validate_table``): a table without rows takes a short
path (its column names checked, its columns' dtypes from the schema); it must give what the general path gives
for the same table with rows, column for column and dtype for dtype, and the same empty choice codes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gigawatt as gw
from gigawatt.cases.schema import aliases, schema, validate_table
from gigawatt.errors import CaseError

TABLES = ("bus", "line", "source", "rack", "dh_node", "dh_pipe", "dh_consumer")
"""The default case's tables that have rows."""


@pytest.fixture(scope="module")
def given_tables():
    """Each table of the default case as the loader validates it (its given columns)."""
    from gigawatt.cases import case as case_module

    seen = {}
    validate = case_module.validate_table
    case_module.validate_table = lambda table, df, **kw: (seen.setdefault(table, df), validate(table, df, **kw))[1]
    try:
        gw.load_case(None)
    finally:
        case_module.validate_table = validate
    return seen


@pytest.mark.parametrize("table", TABLES)
def test_a_table_without_rows_has_the_columns_and_dtypes_of_one_with_rows(given_tables, table):
    df = given_tables[table]
    assert len(df)
    codes_full, codes_empty = {}, {}
    full = validate_table(table, df, codes=codes_full)
    empty = validate_table(table, df.iloc[:0], codes=codes_empty)
    assert list(empty.columns) == list(full.columns) == list(schema()[table])
    assert list(empty.dtypes) == list(full.dtypes)
    assert len(empty) == 0 and isinstance(empty.index, pd.RangeIndex)
    assert codes_empty.keys() == codes_full.keys()
    assert all(c.dtype == np.int64 and c.size == 0 for c in codes_empty.values())


def test_a_table_without_rows_still_has_its_names_checked():
    with pytest.raises(CaseError, match="unknown field"):
        validate_table("line", pd.DataFrame({"id": [], "lenght_m": []}))
    spelled = next(iter(aliases("line")))  # another unit's spelling is accepted, as with rows
    assert list(validate_table("line", pd.DataFrame({"id": [], spelled: []})).columns) == list(schema()["line"])
