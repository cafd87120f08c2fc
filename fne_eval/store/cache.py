"""Build a store once per (bundle, date, threshold): in memory, and on disk as checked Parquet.

The disk cache holds Parquet files (a format that executes nothing) named by a key made
of the bundle's content hash, the date, the threshold and the source code of the
modules that compute figures, sealed with the user's cache key (HMAC,
:func:`fne_eval.bundle.diskcache.seal`): a file planted in a shared cache folder, or one
store copied over another, is rebuilt, never served.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Optional

import pandas as pd

from fne_eval.bundle.diskcache import cache_dir, seal, unseal
from fne_eval.core.paths import atomic_write_bytes
from fne_eval.core.periods import evaluated_as_of, to_timestamp
from fne_eval.bundle.io import Bundle
from fne_eval.bundle.load import load_bundle
from fne_eval.store.build import STORE_COLUMNS, build_store
from fne_eval.store.registry import INDICATORS

__all__ = ["load", "get_store", "store_key", "as_of_for", "write_store_file", "read_store_file", "SHIPPED_ENV"]

log = logging.getLogger(__name__)

STORE_MEMO: dict = {}
_MEMO_SIZE = 4
_CODE_PACKAGES = ("store", "evaluate", "core", "bundle")
#: Stores shipped by a run's driver to its report kernels: JSON ``{store key: [Parquet path, SHA-256]}``
#: (set by the runner; :func:`get_store` reads a shipped store first).
SHIPPED_ENV = "FNE_EVAL_STORE_FILES"


def _code_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in _CODE_PACKAGES:
        for p in sorted((root / pkg).glob("*.py")):
            h.update(f"{pkg}/{p.name}".encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def as_of_for(bundle, year: Optional[int] = None, as_of=None) -> pd.Timestamp:
    """Return the date figures are computed at: ``as_of``, else the evaluated year's end cut at the data's end."""
    if as_of is not None:
        return to_timestamp(as_of)
    meta = getattr(bundle, "meta", {}) or {}
    data_as_of = to_timestamp(meta["data_as_of"]) if meta.get("data_as_of") else None
    if year is None:
        if data_as_of is None:
            raise ValueError("ni année évaluée ni date d'arrêté : précisez year= ou as_of=")
        return data_as_of
    return evaluated_as_of(int(year), data_as_of)


def store_key(bundle, as_of, threshold: int) -> Optional[str]:
    """Return the cache key of a store, or None for a bundle without content hash (built in memory)."""
    bhash = getattr(bundle, "hash", "") or ""
    if not bhash:
        return None
    h = hashlib.sha256()
    h.update(f"{bhash}|{to_timestamp(as_of).date()}|{int(threshold)}|".encode())
    h.update(_code_hash().encode())
    return h.hexdigest()


def _read_cached(path: Path, key: str) -> Optional[pd.DataFrame]:
    try:
        payload = unseal(path.read_bytes(), key, path.parent.parent)
    except OSError:
        return None
    if payload is None:  # not sealed by this user for this key: planted or copied, never served
        log.info("store cache: %s is not an entry of this user for this key, rebuilt", path.name)
        return None
    return _frame_of(payload, key, path.name)


def _parquet_bytes(key: str, frame: pd.DataFrame) -> bytes:
    import pyarrow as pa  # lazy: pyarrow.parquet (~0.2 s), Parquet files only
    import pyarrow.parquet as pq  # lazy: pyarrow.parquet (~0.2 s), Parquet files only

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"fne_eval_store_key": key.encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _frame_of(payload: bytes, key: str, name: str) -> Optional[pd.DataFrame]:
    """Return the store held in Parquet bytes when it carries ``key`` and the store's columns, else None."""
    import pyarrow as pa  # lazy: pyarrow.parquet (~0.2 s), Parquet files only
    import pyarrow.parquet as pq  # lazy: pyarrow.parquet (~0.2 s), Parquet files only

    try:
        table = pq.read_table(pa.BufferReader(payload))
    except (OSError, ValueError, pa.ArrowException) as exc:
        log.info("store: unreadable %s (%s), rebuilt", name, exc)
        return None
    meta = table.schema.metadata or {}
    if meta.get(b"fne_eval_store_key", b"").decode() != key:
        return None
    frame = table.to_pandas()
    if list(frame.columns) != STORE_COLUMNS:
        return None
    return frame


def write_store_file(path, key: str, frame: pd.DataFrame) -> str:
    """Write a store as a plain Parquet file carrying its key; return the file's SHA-256.

    For a run's driver shipping the store it built to the report kernels (run folder, shared
    file system): the kernels find it through :data:`SHIPPED_ENV` and :func:`read_store_file`.
    """
    data = _parquet_bytes(key, frame)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def read_store_file(path, key: str, sha256: str) -> Optional[pd.DataFrame]:
    """Return the store of a :func:`write_store_file` file, or None (missing, changed since written, other key).

    The file is served only when its bytes have the SHA-256 the driver recorded when writing it
    and it carries ``key`` (bundle content hash, date, threshold, code of the figures).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.info("store: shipped file %s unreadable (%s), rebuilt", path, exc)
        return None
    if not sha256 or hashlib.sha256(data).hexdigest() != sha256:
        log.warning("store: shipped file %s changed since the run wrote it, not served", path)
        return None
    return _frame_of(data, key, path.name)


def _shipped_store(key: str) -> Optional[pd.DataFrame]:
    """Return the store shipped for ``key`` by the run's driver (:data:`SHIPPED_ENV`), or None."""
    raw = os.environ.get(SHIPPED_ENV, "").strip()
    if not raw:
        return None
    try:
        got = json.loads(raw).get(key)
        path, sha = (str(got[0]), str(got[1])) if got else (None, None)
    except (ValueError, AttributeError, TypeError, IndexError):
        log.info("store: %s is not a JSON object of [path, sha256], ignored", SHIPPED_ENV)
        return None
    return read_store_file(path, key, sha) if path else None


def _write_cached(path: Path, key: str, frame: pd.DataFrame) -> None:
    blob = seal(_parquet_bytes(key, frame), key, path.parent.parent)
    if blob is None:  # no per-user key available: no disk cache
        return
    atomic_write_bytes(path, blob)


def get_store(bundle, as_of, threshold: int = 5) -> pd.DataFrame:
    """Return the store of ``bundle`` at ``as_of`` (built once, then from memory or disk).

    The returned frame is shared: copy it before changing it.
    """
    as_of = to_timestamp(as_of)
    key = store_key(bundle, as_of, threshold)
    memo_key = key or (id(bundle), str(as_of.date()), int(threshold))
    if memo_key in STORE_MEMO:
        return STORE_MEMO[memo_key]
    frame = _shipped_store(key) if key else None  # built once by the run's driver
    folder = cache_dir()
    path = folder / "stores" / f"{key}.parquet" if (folder is not None and key) else None
    if frame is None and path is not None and path.exists():
        frame = _read_cached(path, key)
    if frame is None:
        frame = build_store(bundle, as_of, threshold)
        if path is not None:
            try:
                _write_cached(path, key, frame)
            except OSError as exc:  # a read-only cache folder only costs time
                log.info("store cache: not written (%s)", exc)
    if len(STORE_MEMO) >= _MEMO_SIZE:
        STORE_MEMO.pop(next(iter(STORE_MEMO)))
    STORE_MEMO[memo_key] = frame
    return frame


def load(bundle=None, year: Optional[int] = 2025, as_of=None, threshold: int = 5) -> pd.DataFrame:
    """Return the indicator store for analysts: every figure of a bundle for an evaluated year.

    Parameters
    ----------
    bundle : str, Path or Bundle, optional
        Path of a bundle, a loaded bundle, or None for the embedded bundle.
    year : int, default 2025
        Evaluated year: figures are as of its 31 December, or the bundle's ``data_as_of`` if earlier.
    as_of : date-like, optional
        Overrides the date.
    threshold : int, default 5
        Disclosure threshold.

    Returns
    -------
    pandas.DataFrame
        One row per indicator × territory × period × breakdown (columns :data:`STORE_COLUMNS`, and
        ``label``, the indicator's French label, after ``indicator``),
        with plain ``float64`` values (euros included) and a ``status`` column; hidden cells
        keep their value here (analyst use) and are never printed by the reports.
    """
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    out = get_store(bundle, as_of_for(bundle, year, as_of), threshold).copy()
    labels = {k: v.label for k, v in INDICATORS.items()}
    cat = bundle["indicators"]
    if len(cat) and "label" in cat:
        labels.update(zip("roadmap." + cat["indicator_code"].astype(str), cat["label"].astype(str)))
    out.insert(1, "label", out["indicator"].map(labels))
    return out
