"""Read and write bundles (folder of CSV/Parquet, or one .xlsx workbook).

First version: folder of UTF-8 CSV. French spreadsheet habits, Parquet and Excel are
added by the validation work (issue 2); the interface below is the contract.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval.bundle.spec import TABLES, Table

META_FILE = "bundle.json"


class BundleError(Exception):
    """A bundle that cannot be read at all (not a bundle, empty file, missing sheet...)."""


@dataclass
class Bundle:
    """A loaded bundle: typed tables and metadata.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        One typed frame per table of :data:`fne_eval.bundle.spec.TABLES`.
    meta : dict
        Metadata (``name``, ``is_synthetic``, ``synthetic_tables``, ``generator``...).
    source : str
        Where the bundle was read from.
    hash : str
        SHA-256 of the bundle's files, in a stable order.
    """

    tables: dict
    meta: dict = field(default_factory=dict)
    source: str = ""
    hash: str = ""

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def is_synthetic(self) -> bool:
        """Return True when any table of the bundle holds synthetic data."""
        return bool(self.meta.get("is_synthetic")) or bool(self.meta.get("synthetic_tables"))


def split_list(value) -> list:
    """Split a ``|``-joined list value into its stripped, non-empty elements."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return []
    return [v.strip() for v in str(value).split("|") if v.strip()]


def _to_money(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == "":
        return None
    s = str(v).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("€", "")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    try:
        return Decimal(s).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {v!r}") from exc


def coerce_table(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with each declared column converted to its typed dtype.

    Raises ``ValueError`` on a value that does not convert; validation reports such
    values precisely before this is called on user data.
    """
    out = pd.DataFrame(index=df.index)
    for col in table.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([pd.NA] * len(df), index=df.index)
        if col.kind in ("code", "str", "list"):
            s = s.astype("string").str.strip()
            s = s.mask(s == "", pd.NA)
        elif col.kind == "int":
            s = pd.to_numeric(s, errors="raise").astype("Int64")
            if col.required and not s.isna().any():
                s = s.astype("int64")
        elif col.kind == "float":
            s = pd.to_numeric(s, errors="raise").astype("float64")
        elif col.kind == "money":
            s = s.map(_to_money).astype(object)
        elif col.kind == "date":
            s = pd.to_datetime(s, errors="raise", format="mixed", dayfirst=False).astype("datetime64[ns]")
        elif col.kind == "bool":
            s = s.map(_to_bool).astype("boolean")
            if col.required and not s.isna().any():
                s = s.astype(bool)
        out[col.name] = s
    return out.reset_index(drop=True)


_TRUE = {"true", "1", "oui", "vrai", "yes", "o", "x"}
_FALSE = {"false", "0", "non", "faux", "no", "n"}


def _to_bool(v):
    if v is None or (not isinstance(v, (str, bool)) and pd.isna(v)):
        return pd.NA
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s == "":
        return pd.NA
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def read_raw(path: Union[str, Path]) -> tuple:
    """Read a bundle's files as text frames (every cell a string), without typing.

    Returns ``(frames, meta, files)``.
    """
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path}: not a bundle folder")
    frames, files = {}, []
    for name in TABLES:
        f = path / f"{name}.csv"
        if f.exists():
            frames[name] = pd.read_csv(f, dtype=str, keep_default_na=False)
            files.append(f)
    meta = {}
    m = path / META_FILE
    if m.exists():
        meta = json.loads(m.read_text(encoding="utf-8"))
        files.append(m)
    return frames, meta, files


def load_bundle(path: Optional[Union[str, Path]] = None, validate: bool = True) -> Bundle:
    """Load a bundle and return its typed tables.

    Parameters
    ----------
    path : str or Path, optional
        Folder or ``.xlsx`` workbook; the embedded default bundle when omitted.
    validate : bool, default True
        Validate first and raise :class:`BundleError` listing every error.
    """
    from fne_eval.paths import DEFAULT_BUNDLE_DIR

    path = Path(path) if path is not None else DEFAULT_BUNDLE_DIR
    frames, meta, files = read_raw(path)
    tables = {}
    for name, table in TABLES.items():
        raw = frames.get(name)
        if raw is None:
            raw = pd.DataFrame(columns=table.column_names)
        tables[name] = coerce_table(raw, table)
    return Bundle(tables=tables, meta=meta, source=str(path), hash=_hash_files(files))


def _format_cell(v):
    if v is None:
        return ""
    if isinstance(v, float) and pd.isna(v):
        return ""
    if v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (bool,)):
        return "true" if v else "false"
    return str(v)


def to_text_frame(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return the table as text cells in the bundle's canonical file format."""
    out = pd.DataFrame(index=df.index)
    for col in table.column_names:
        s = df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index)
        out[col] = [_format_cell(v) for v in s.astype(object)]
    return out


def write_bundle(tables: dict, out: Union[str, Path], meta: Optional[dict] = None) -> Path:
    """Write tables as a bundle folder of UTF-8 CSV files plus ``bundle.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        df = tables.get(name)
        if df is None:
            df = pd.DataFrame(columns=table.column_names)
        to_text_frame(df, table).to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    (out / META_FILE).write_text(json.dumps(meta or {}, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")
    return out
