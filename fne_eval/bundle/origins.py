"""Where each table of a bundle comes from: reference, roadmap, imported, synthetic or empty.

``bundle.json`` (or the ``_meta`` sheet) records, under :data:`META_KEY`, one entry per
table::

    "table_origins": {
      "territories": {"origin": "reference", "source": "..."},
      "activities": {"origin": "imported", "imports": [
          {"kind": "coop-activites", "imported_at": "2026-01-05T10:12:00Z", "mode": "replace",
           "rows": 1234, "sources": [{"name": "coop-numerique_accompagnements_2026-01-05.xlsx",
           "sha256": "...", "export_date": "2026-01-05", "filters": {...}, ...}]}]},
      "trainings": {"origin": "empty"}
    }

Bundles written before this key existed only carry ``is_synthetic`` and
``synthetic_tables``; :func:`table_origins` reads them too. Reports use
:func:`synthetic_tables` to say which of their figures rest on synthetic data.
"""
from __future__ import annotations

import copy
from typing import Optional

from fne_eval.bundle.spec import TABLES

META_KEY = "table_origins"
ORIGINS = ("reference", "roadmap", "imported", "synthetic", "empty")

#: French labels of the origins (for reports and messages).
ORIGIN_LABELS = {
    "reference": "référentiel",
    "roadmap": "feuille de route",
    "imported": "données réelles importées",
    "synthetic": "données synthétiques (fictives)",
    "empty": "vide",
}


def _meta_and_tables(bundle) -> tuple:
    meta = getattr(bundle, "meta", None)
    tables = getattr(bundle, "tables", None)
    if meta is None and isinstance(bundle, dict):
        meta, tables = bundle, None
    return dict(meta or {}), tables


def _legacy_origin(name: str, meta: dict) -> str:
    """Return a table's origin from the metadata of bundles without ``table_origins``."""
    listed = meta.get("synthetic_tables")
    if listed is not None and name in set(listed):
        return "synthetic"
    group = TABLES[name].group if name in TABLES else "monitoring"
    if group in ("reference", "roadmap"):
        return group
    if meta.get("is_synthetic") and listed is None:
        return "synthetic"  # an old bundle flagged synthetic as a whole
    return "imported"


def table_origins(bundle) -> dict:
    """Return the origin of every table of a bundle.

    Parameters
    ----------
    bundle : Bundle or dict
        A loaded :class:`fne_eval.bundle.io.Bundle` (its tables tell which are empty),
        or a metadata dict alone.

    Returns
    -------
    dict of str to str
        Table name → one of :data:`ORIGINS`. A table with no row is ``empty`` whatever
        the metadata says. Without a ``table_origins`` entry, the origin comes from the
        older keys: a table listed in ``synthetic_tables`` is ``synthetic``; reference
        and roadmap tables are ``reference`` and ``roadmap``; other tables are
        ``synthetic`` when the bundle says ``is_synthetic`` without listing its tables,
        else ``imported``.

    Examples
    --------
    >>> table_origins({"is_synthetic": True, "synthetic_tables": ["activities"]})["activities"]
    'synthetic'
    """
    meta, tables = _meta_and_tables(bundle)
    recorded = meta.get(META_KEY) or {}
    out = {}
    for name in TABLES:
        entry = recorded.get(name)
        origin = entry.get("origin") if isinstance(entry, dict) else entry
        if origin not in ORIGINS:
            origin = _legacy_origin(name, meta)
        if tables is not None:
            df = tables.get(name)
            if df is None or len(df) == 0:
                origin = "empty"
        out[name] = origin
    return out


def synthetic_tables(bundle) -> list:
    """Return the sorted names of the tables of a bundle that hold synthetic data.

    See :func:`table_origins`; an empty table is never listed.
    """
    return sorted(n for n, o in table_origins(bundle).items() if o == "synthetic")


def initial_origins(default_sources: Optional[dict] = None) -> dict:
    """Return the ``table_origins`` entry of a new bundle: reference, roadmap, empty monitoring.

    Parameters
    ----------
    default_sources : dict of str to str, optional
        Group (``reference``, ``roadmap``) → text recorded as each table's ``source``.
    """
    default_sources = default_sources or {}
    out = {}
    for name, table in TABLES.items():
        if table.group in ("reference", "roadmap"):
            out[name] = {"origin": table.group}
            if default_sources.get(table.group):
                out[name]["source"] = default_sources[table.group]
        else:
            out[name] = {"origin": "empty"}
    return out


def sync_flags(meta: dict) -> dict:
    """Return ``meta`` with ``is_synthetic`` and ``synthetic_tables`` recomputed from its origins.

    The older keys are kept for the code and the bundles that read only them.
    """
    meta = dict(meta)
    recorded = meta.get(META_KEY) or {}
    synthetic = sorted(n for n, e in recorded.items() if isinstance(e, dict) and e.get("origin") == "synthetic")
    meta["synthetic_tables"] = synthetic
    meta["is_synthetic"] = bool(synthetic)
    return meta


def record_import(meta: dict, tables: list, record: dict, mode: str) -> dict:
    """Return new metadata saying that ``tables`` received an import.

    Parameters
    ----------
    meta : dict
        The bundle's metadata before the import (not modified).
    tables : list of str
        Tables written by the import.
    record : dict
        What was imported: ``kind``, ``imported_at``, ``rows`` (per table or total),
        ``sources`` (file names, SHA-256, export date and filters, or the API queried).
    mode : {'replace', 'append'}
        ``replace``: the table is now this import only. ``append``: the import is added
        to what the table held; a table that held synthetic rows stays ``synthetic``
        (part of it is still fictitious), an empty or imported one becomes ``imported``.

    Returns
    -------
    dict
        Metadata with ``table_origins``, ``is_synthetic`` and ``synthetic_tables`` updated.
    """
    if mode not in ("replace", "append"):
        raise ValueError(f"unknown mode {mode!r}, expected 'replace' or 'append'")
    meta = copy.deepcopy(meta)
    origins = meta.get(META_KEY)
    if not isinstance(origins, dict):
        origins = {n: {"origin": o} for n, o in table_origins(meta).items()}
    for name in tables:
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}")
        before = origins.get(name) if isinstance(origins.get(name), dict) else {"origin": _legacy_origin(name, meta)}
        if mode == "replace" or before.get("origin") in (None, "empty", "reference", "roadmap"):
            entry = {"origin": "imported", "imports": [record]}
        else:
            entry = dict(before)
            entry["imports"] = list(before.get("imports") or []) + [record]
            if entry.get("origin") != "synthetic":
                entry["origin"] = "imported"
        origins[name] = entry
    meta[META_KEY] = origins
    return sync_flags(meta)
