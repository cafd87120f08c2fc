"""pandera schemas of the bundle's tables, built from :mod:`fne_eval.bundle.spec`.

One :class:`pandera.pandas.DataFrameSchema` per table checks the values of typed
columns: code patterns, closed sets (each ``|`` element for ``list`` columns), minimum
and maximum. Presence, missing values and kinds are checked on the text before typing
(:mod:`fne_eval.bundle.validate`), so every column here is nullable and untyped; money
columns are checked as floats.

Each check carries a short tag as its ``error`` (``pattern``, ``allowed``,
``allowed_list``, ``min``, ``max``), from which the validator writes its messages.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pandera.pandas as pa

from fne_eval.bundle.io import split_list
from fne_eval.bundle.spec import TABLES, Table

CHECK_TAGS = ("pattern", "allowed", "allowed_list", "min", "max")


def list_elements_allowed(values: pd.Series, allowed) -> pd.Series:
    """Return True where every ``|`` element of a list cell is in ``allowed``.

    Works over the distinct cells, so it stays fast on large columns.
    """
    allowed = set(allowed)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    ok = np.array([all(e in allowed for e in split_list(u)) for u in uniques] + [True], dtype=bool)
    return pd.Series(ok[codes], index=values.index)


def bad_list_elements(value, allowed) -> list:
    """Return the elements of a ``|``-joined cell that are not in ``allowed``."""
    return [e for e in split_list(value) if e not in set(allowed)]


def build_schema(table: Table) -> pa.DataFrameSchema:
    """Build the pandera schema checking the values of one table's typed frame."""
    columns = {}
    for col in table.columns:
        checks = []
        if col.pattern and col.kind in ("code", "str"):
            # [0-9], not \d: a full-width '２４１' must not pass for a code (it would never join)
            checks.append(pa.Check.str_matches(col.pattern.replace(r"\d", "[0-9]"), error="pattern"))
        if col.allowed:
            if col.kind == "list":
                checks.append(pa.Check(functools.partial(list_elements_allowed, allowed=col.allowed),
                                       error="allowed_list"))
            else:
                checks.append(pa.Check.isin(list(col.allowed), error="allowed"))
        if col.min is not None and col.kind in ("int", "float", "money"):
            checks.append(pa.Check.ge(col.min, error="min"))
        if col.max is not None and col.kind in ("int", "float", "money"):
            checks.append(pa.Check.le(col.max, error="max"))
        columns[col.name] = pa.Column(nullable=True, required=False, checks=checks, coerce=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name=table.name)


@functools.lru_cache(maxsize=None)
def get_schema(name: str) -> pa.DataFrameSchema:
    """Return the (cached) schema of the table ``name``."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}, expected one of {sorted(TABLES)}")
    return build_schema(TABLES[name])


def failure_cases(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Run a table's schema lazily and return every failing cell.

    Parameters
    ----------
    frame : pandas.DataFrame
        The typed table, indexed by file row number, money columns as floats.
    name : str
        The table's name.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``check`` (a tag of :data:`CHECK_TAGS`), ``row``; empty when
        every value passes.
    """
    try:
        get_schema(name).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["column"].notna() & fc["index"].notna()]
        return pd.DataFrame({
            "column": fc["column"].astype(str).to_numpy(),
            "check": fc["check"].astype(str).to_numpy(),
            "row": fc["index"].astype("int64").to_numpy(),
        })
    return pd.DataFrame({"column": pd.Series([], dtype=str), "check": pd.Series([], dtype=str),
                         "row": pd.Series([], dtype="int64")})
