"""Create a bundle for real data and write imported tables into it, atomically.

- :func:`init_bundle` writes a bundle folder holding the embedded reference data and
  roadmap, and empty monitoring tables (``fne-eval bundle init OUT``);
- :func:`write_into` replaces or appends imported tables (``fne-eval import ... --into
  BUNDLE --mode replace|append``), validates the result and only then puts it in place:
  a bundle that would be invalid is left untouched, and a crash never leaves it
  half-written (the new folder is built beside it, then swapped in by two renames).

Both record each table's origin in the bundle's metadata
(:mod:`fne_eval.bundle.origins`).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval import __version__
from fne_eval.bundle.io import (META_FILE, TABLE_SUFFIXES, BundleError, RawBundle, coerce_table, empty_table,
                                parse_column, read_bundle_raw, write_bundle)
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.origins import initial_origins, record_import, sync_flags
from fne_eval.bundle.spec import TABLES
from fne_eval.bundle.validate import validate_bundle
from fne_eval.core.paths import chmod_as_umask
from fne_eval.ingest.common import IngestError, key_path, utc_now

MODES = ("replace", "append")
#: Child tables whose rows belong to a row of a parent table: appending a parent row
#: replaces all its children (an activity re-imported with fewer participants).
CHILDREN = {"activities": (("participants", "activity_id", "activity_id"),)}


def typed_tables(raw: RawBundle) -> dict:
    """Return the typed tables of a bundle read as text, as validation types them, without its checks.

    An import reads the bundle it writes into (its territories, the tables it merges with) but
    judges only the result: :func:`write_into` validates the bundle it is about to put in
    place, once. Validating the current bundle as well (twice, by the command and by
    :func:`write_into`) took two thirds of an import. A cell that does not parse is missing,
    as in :func:`fne_eval.bundle.validate.validate_raw`'s tables.
    """
    out = {}
    for name, table in TABLES.items():
        df = raw.frames.get(name)
        if df is None:  # optional table absent: empty
            df = pd.DataFrame({c: pd.Series([], dtype="string") for c in table.column_names})
        cols = {}
        for col in table.columns:
            src = df[col.name] if col.name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
            cols[col.name], _ = parse_column(src, col)
        out[name] = pd.DataFrame(cols, index=df.index, columns=table.column_names).reset_index(drop=True)
    return out


@dataclass
class IntoResult:
    """What :func:`write_into` did."""

    path: Path
    written: bool
    rows: dict = field(default_factory=dict)  # table -> rows after the import
    errors: list = field(default_factory=list)  # validation errors (dicts) when not written
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- init
def init_bundle(out: Union[str, Path], force: bool = False) -> Path:
    """Write a new bundle folder for real data: reference and roadmap, empty monitoring tables.

    The reference tables (territories, populations, IFN, figures of the état des lieux,
    annexe 3) and the roadmap (axes, actions, budget, chronogramme, indicators) are those
    of the embedded bundle; every monitoring table (lieux, activities, participants,
    budget_transactions...) is empty, to be filled by ``fne-eval import ... --into``.

    Parameters
    ----------
    out : str or Path
        Folder to create. It must not exist, or be empty.
    force : bool, default False
        Replace an existing bundle folder (its tables and metadata are overwritten;
        other files are kept).

    Raises
    ------
    fne_eval.ingest.common.IngestError
        ``out`` exists and is not empty (without ``force``), or is a file.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise IngestError(f"{out} existe et n'est pas un dossier")
        if any(out.iterdir()) and not force:
            raise IngestError(f"{out} existe et n'est pas vide : choisir un autre dossier (ou --force pour "
                              "remplacer le bundle qu'il contient)")
    default = load_bundle()
    # the reference and roadmap provenance, as the embedded bundle's metadata records it (not its
    # lieux list nor its synthetic monitoring data, which a real bundle does not carry)
    dmeta = default.meta or {}
    roadmap_name = str(dmeta.get("roadmap", ""))
    sources = [s for s in dmeta.get("sources", [])
               if not s.startswith(("Lieux de médiation", "Données de suivi synthétiques"))]
    tables = {}
    for name, table in TABLES.items():
        if table.group in ("reference", "roadmap"):
            tables[name] = default[name]
        else:
            tables[name] = empty_table(name)
    origin_source = f"bundle embarqué de fne-eval {__version__}"
    meta = {
        "name": "Bundle de données réelles — Bouches-du-Rhône",
        "description": ("Bundle créé par « fne-eval bundle init » : référentiel territorial, populations, indice "
                        "de fragilité numérique et feuille de route du bundle embarqué ; tables de suivi vides "
                        "à remplir par « fne-eval import … --into ». L'origine de chaque table est dans "
                        "table_origins."),
        "roadmap": roadmap_name,
        "sources": sources,
        "created_at": utc_now(),
        "created_with": f"fne-eval {__version__}",
        "table_origins": initial_origins({"reference": origin_source, "roadmap": origin_source}),
    }
    meta = sync_flags(meta)
    _check_key_outside(out)
    return _swap_in(out, lambda tmp: write_bundle(tables, tmp, meta))


def _check_key_outside(bundle: Path) -> None:
    """Refuse a bundle folder that holds the pseudonymisation key file."""
    try:
        key = key_path().resolve()
        root = bundle.resolve()
    except OSError:
        return
    if root == key.parent or root in key.parents:
        raise IngestError(f"la clé de pseudonymisation ({key}) est dans le dossier du bundle {bundle} : la placer "
                          "ailleurs (variable FNE_EVAL_KEY_FILE), elle ne doit jamais être publiée avec les données")


# --------------------------------------------------------------------------- atomic swap
def _swap_in(out: Path, write, keep_extra: bool = True) -> Path:
    """Build a bundle in a sibling temporary folder with ``write(tmp)``, then swap it in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.import-", dir=out.parent))
    try:
        new, old = work / "new", work / "old"
        write(new)
        if keep_extra and out.is_dir():  # files that are not bundle tables (notes, README) are kept
            for f in out.iterdir():
                if f.is_file() and not (new / f.name).exists() and not _is_table_file(f):
                    shutil.copy2(f, new / f.name)
        chmod_as_umask(new, directory=True)
        if out.exists():
            os.replace(out, old)
        try:
            os.replace(new, out)
        except OSError:
            if old.exists():
                os.replace(old, out)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _is_table_file(f: Path) -> bool:
    return f.suffix in TABLE_SUFFIXES and f.stem in TABLES or f.name == META_FILE


# --------------------------------------------------------------------------- import into
def _merge(old: pd.DataFrame, new: pd.DataFrame, name: str, mode: str) -> pd.DataFrame:
    table = TABLES[name]
    new = coerce_table(new.reset_index(drop=True), table)
    if mode == "replace" or old is None or old.empty:
        return new
    old = coerce_table(old.reset_index(drop=True), table)
    key = list(table.key)
    if len(new):
        incoming = pd.MultiIndex.from_frame(new[key].astype(str))
        keep = ~pd.MultiIndex.from_frame(old[key].astype(str)).isin(incoming)
        old = old[keep]
    return coerce_table(pd.concat([old, new], ignore_index=True), table)


def write_into(bundle: Union[str, Path], updates: dict, mode: str, record: dict,
               deleted: Optional[dict] = None, data_as_of: Optional[str] = None,
               sources_text: Optional[list] = None, current: Optional[tuple] = None) -> IntoResult:
    """Write imported tables into a bundle folder, replacing or appending by key.

    Parameters
    ----------
    bundle : str or Path
        An existing bundle folder (``fne-eval bundle init``, or any bundle folder).
    updates : dict of str to pandas.DataFrame
        Table → imported rows (typed or text).
    mode : {'replace', 'append'}
        ``replace``: each table of ``updates`` becomes the imported rows.
        ``append``: imported rows are added; a row whose key is already in the table
        replaces it, and appending an activity replaces all its participants.
    record : dict
        Provenance of the import (``kind``, ``sources``...), stored per table in
        ``bundle.json`` (``table_origins``) with the time and mode of the import.
    deleted : dict of str to list, optional
        Table → keys deleted at the source (La Coop API): removed in ``append`` mode,
        with their children.
    data_as_of : str, optional
        ISO date of the data; the bundle's ``data_as_of`` becomes the latest of it and
        the current one.
    sources_text : list of str, optional
        Lines added to the bundle's ``sources`` (shown in the reports' sources).
    current : tuple, optional
        ``(raw, tables)`` of ``bundle`` as the caller has just read it
        (:func:`fne_eval.bundle.io.read_bundle_raw`, :func:`typed_tables`): not read again.
        Only the result is validated, once, before it is put in place.

    Returns
    -------
    IntoResult
        ``written`` False with ``errors`` when the resulting bundle would be invalid
        (nothing is changed then).

    Raises
    ------
    fne_eval.ingest.common.IngestError
        The bundle cannot be read, or is a workbook.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}, expected one of {MODES}")
    unknown = sorted(set(updates) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown tables {unknown}")
    path = Path(bundle)
    if not path.is_dir():
        raise IngestError(f"{path} : dossier de bundle introuvable (le créer avec « fne-eval bundle init {path} »)"
                          if not path.exists() else
                          f"{path} : --into attend un dossier de bundle (un classeur .xlsx ne peut pas recevoir "
                          "d'import ; l'exporter en dossier avec « fne-eval export »)")
    _check_key_outside(path)
    if current is not None and current[0] is not None:
        raw, current = current
    else:
        try:
            raw = read_bundle_raw(path)
        except BundleError as exc:
            raise IngestError(f"bundle illisible : {exc}") from exc
        current = typed_tables(raw)
    parquet = tuple(n for n in TABLES if (path / f"{n}.parquet").exists())
    tables = dict(current)
    notes = []
    if mode == "append":  # a re-imported parent row brings all its children: drop the old ones first
        for parent, new in updates.items():
            for child, ccol, pcol in CHILDREN.get(parent, ()):
                if child not in tables or new.empty:
                    continue
                drop = tables[child][ccol].isin(set(new[pcol].dropna()))
                tables[child] = tables[child][~drop.to_numpy(dtype=bool)].reset_index(drop=True)
    for name, df in updates.items():
        tables[name] = _merge(tables.get(name), df, name, mode)
    if mode == "append":
        for name, keys in (deleted or {}).items():
            if not keys or name not in tables:
                continue
            col = TABLES[name].key[0]
            gone = tables[name][col].isin(set(keys)).to_numpy(dtype=bool)
            if gone.any():
                notes.append(f"{int(gone.sum())} ligne(s) de {name} supprimée(s) à la source, retirée(s) du bundle")
            tables[name] = tables[name][~gone].reset_index(drop=True)
            for child, ccol, _ in CHILDREN.get(name, ()):
                if child in tables:
                    tables[child] = tables[child][~tables[child][ccol].isin(set(keys)).to_numpy(dtype=bool)]
    touched = sorted(set(updates) | {c for p in updates for c, _, _ in CHILDREN.get(p, ()) if c in updates})
    rec = dict(record)
    rec.setdefault("imported_at", utc_now())
    rec["mode"] = mode
    rec["rows"] = {n: int(len(updates[n])) for n in touched}
    meta = record_import(raw.meta, touched, rec, mode)
    if data_as_of:
        meta["data_as_of"] = max(str(meta.get("data_as_of") or ""), data_as_of)
    if sources_text:
        meta["sources"] = list(meta.get("sources") or []) + [s for s in sources_text
                                                             if s not in (meta.get("sources") or [])]
    # write beside the bundle, validate the result, and only then swap it in
    path_parent = path.resolve().parent
    stage = Path(tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=path_parent))
    try:
        candidate = stage / "bundle"
        write_bundle(tables, candidate, meta, parquet=parquet)
        result = validate_bundle(candidate)
        if result.errors:
            for e in result.errors:
                e["message"] = e["message"].replace(str(candidate), str(path))
            return IntoResult(path=path, written=False, errors=result.errors, notes=notes)
        _swap_in(path, lambda tmp: os.replace(candidate, tmp))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return IntoResult(path=path, written=True, rows={n: int(len(tables[n])) for n in touched}, notes=notes)
