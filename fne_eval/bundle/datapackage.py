"""``datapackage.json``: the bundle described as a Frictionless Data Package (Table Schema per table).

schema.data.gouv.fr and the Frictionless tools expect a data package beside published
CSV files; everything it needs is already declared in :mod:`fne_eval.bundle.spec`
(columns, kinds, required, allowed values, bounds, patterns, keys, references), so the
descriptor is derived from it, never written by hand. :func:`datapackage` describes a
folder of CSV files (``fne-eval export DOSSIER``) or the sheets of a workbook
(``fne-eval template`` / ``export`` to ``.xlsx``: ``<nom>.datapackage.json`` beside it).

The bundle's own readers ignore the descriptor: a folder holding one is read back as it
was written (``fne-eval validate``, ``import --into``).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

from fne_eval.bundle.spec import TABLES, Column, Table
from fne_eval.core.paths import chmod_as_umask

DATAPACKAGE_FILE = "datapackage.json"
#: bundle column kind → Table Schema type (``money``: the text « 1234.50 », a number)
TYPES = {"code": "string", "str": "string", "int": "integer", "float": "number", "money": "number",
         "date": "date", "bool": "boolean", "list": "string"}


def _anchorless(pattern: str) -> str:
    """Table Schema patterns match the whole value: drop the ``^…$`` anchors of spec.py's."""
    p = pattern
    if p.startswith("^"):
        p = p[1:]
    if p.endswith("$") and not p.endswith("\\$"):
        p = p[:-1]
    return p


def field_descriptor(col: Column) -> dict:
    """Table Schema field of a bundle column."""
    f = {"name": col.name, "type": TYPES[col.kind]}
    if col.description:
        f["description"] = col.description
    if col.kind == "date":
        f["format"] = "%Y-%m-%d"
    if col.kind == "bool":
        f["trueValues"] = ["true"]
        f["falseValues"] = ["false"]
    if col.kind == "list":
        f["description"] = (f.get("description", "") + " (valeurs séparées par |)").strip()
    cons = {}
    if col.required:
        cons["required"] = True
    if col.allowed and col.kind != "list":
        cons["enum"] = [_typed(v, col.kind) for v in col.allowed]
    if col.pattern and col.kind in ("code", "str"):
        cons["pattern"] = _anchorless(col.pattern)
    if col.min is not None and col.kind in ("int", "float", "money"):
        cons["minimum"] = _typed(col.min, col.kind)
    if col.max is not None and col.kind in ("int", "float", "money"):
        cons["maximum"] = _typed(col.max, col.kind)
    if cons:
        f["constraints"] = cons
    return f


def _typed(v, kind: str):
    if kind == "int":
        return int(v)
    if kind in ("float", "money"):
        return float(v)
    if kind == "bool":
        return bool(v)
    return str(v)


def table_schema(table: Table) -> dict:
    """Table Schema of a bundle table: fields, primary key, foreign keys, missing values."""
    schema = {"fields": [field_descriptor(c) for c in table.columns], "missingValues": [""]}
    if table.key:
        schema["primaryKey"] = list(table.key)
    fks = []
    for fk in table.foreign_keys:
        fks.append({"fields": [fk.column],
                    "reference": {"resource": "" if fk.ref_table == table.name else fk.ref_table,
                                  "fields": [fk.ref_column]}})
    if fks:
        schema["foreignKeys"] = fks
    return schema


def datapackage(meta: Optional[dict] = None, workbook: Optional[str] = None, tables=None,
                parquet: tuple = ()) -> dict:
    """Return the Data Package descriptor of a bundle.

    Parameters
    ----------
    meta : dict, optional
        The bundle's metadata (``bundle.json``): name, description, sources.
    workbook : str, optional
        File name of a workbook: each resource is then its sheet (Frictionless reads
        ``.xlsx`` sheets); default: ``<table>.csv`` files in the same folder.
    tables : iterable of str, optional
        Tables to describe (default: every table of :data:`TABLES`).
    parquet : tuple of str
        Tables written as ``<table>.parquet`` in the folder (text columns).
    """
    meta = meta or {}
    resources = []
    for name in (tables or TABLES):
        table = TABLES[name]
        res = {"name": name, "title": table.description.split(".")[0][:120] if table.description else name,
               "description": table.description, "profile": "tabular-data-resource",
               "schema": table_schema(table)}
        if workbook:
            res.update({"path": workbook, "format": "xlsx", "dialect": {"excel": {"sheet": name}}})
        elif name in parquet:
            res.update({"path": f"{name}.parquet", "format": "parquet"})
        else:
            res.update({"path": f"{name}.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                        "dialect": {"csv": {"delimiter": ","}}})
        resources.append(res)
    dp = {"profile": "tabular-data-package", "name": "fne-eval-bundle",
          "title": str(meta.get("name") or "Bundle fne-eval (feuille de route France Numérique Ensemble)"),
          "resources": resources}
    if meta.get("description"):
        dp["description"] = str(meta["description"])
    if meta.get("sources"):
        dp["sources"] = [{"title": str(s)} for s in meta["sources"]]
    as_of = str(meta.get("data_as_of") or "")
    if len(as_of) == 10 and as_of[4] == "-" and as_of[7] == "-":  # the date the data describe
        dp["created"] = as_of + "T00:00:00Z"
    return dp


def datapackage_text(meta: Optional[dict] = None, workbook: Optional[str] = None, tables=None,
                     parquet: tuple = ()) -> str:
    """:func:`datapackage` as the JSON text written to ``datapackage.json``."""
    return json.dumps(datapackage(meta, workbook, tables, parquet), ensure_ascii=False, indent=2) + "\n"


def write_workbook_descriptor(workbook: Path, meta: Optional[dict] = None) -> Path:
    """Write ``<nom>.datapackage.json`` beside ``workbook`` (temporary file, then a rename)."""
    out = workbook_descriptor_path(workbook)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(datapackage_text(meta, workbook=Path(workbook).name))
        chmod_as_umask(tmp)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out


def workbook_descriptor_path(workbook: Path) -> Path:
    """Where the descriptor of a workbook goes: ``<nom>.datapackage.json`` beside it."""
    workbook = Path(workbook)
    return workbook.with_name(workbook.stem + "." + DATAPACKAGE_FILE)
