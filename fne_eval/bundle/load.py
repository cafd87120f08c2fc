"""Load a bundle: read it, validate it, type its tables, keep it in the caches.

Kept apart from :mod:`fne_eval.bundle.io` (reading and writing files) and
:mod:`fne_eval.bundle.validate` (the rules), which it puts together, so that neither of
them imports the other's caller.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval.bundle.diskcache import load_or_build
from fne_eval.bundle.io import (Bundle, BundleError, BundleValidationError, hash_bundle_files, bundle_content_hash,
                                coerce_table, read_bundle_raw)
from fne_eval.bundle.spec import TABLES
from fne_eval.bundle.validate import validate_raw
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

__all__ = ["load_bundle"]


class _ChangedWhileReading(Exception):
    """The bundle's files changed between hashing and reading them."""


@functools.lru_cache(maxsize=8)
def _load_cached(path_str: str, content_hash: str, validate: bool) -> Bundle:
    # parsed bundles are also kept on disk, keyed on content (each report's kernel reuses them)
    bundle = load_or_build(path_str, validate, lambda: _load_uncached(path_str, validate), content_hash=content_hash)
    if bundle.hash != content_hash:
        raise _ChangedWhileReading  # not cached: the next call hashes again
    return bundle


def _load_uncached(path_str: str, validate: bool) -> Bundle:
    raw = read_bundle_raw(path_str)
    if validate:
        result = validate_raw(raw)
        if result.errors:
            raise BundleValidationError(result.errors, source=path_str)
        tables = result.tables
    else:
        tables = {}
        for name, table in TABLES.items():
            df = raw.frames.get(name, pd.DataFrame(columns=table.column_names))
            tables[name] = coerce_table(df, table)
    return Bundle(tables=tables, meta=raw.meta, source=path_str, hash=hash_bundle_files(raw.files))


def load_bundle(path: Optional[Union[str, Path]] = None, validate: bool = True) -> Bundle:
    """Load a bundle and return its typed tables.

    The parsed bundle is cached per process (keyed on the path and on the SHA-256 of its
    files' names and bytes, so any change of content is seen); every call returns a new :class:`Bundle` whose
    frames are copies, so a caller that modifies a table cannot affect another.

    Parameters
    ----------
    path : str or Path, optional
        Folder or ``.xlsx`` workbook; the embedded default bundle when omitted.
    validate : bool, default True
        Validate first (see :func:`fne_eval.bundle.validate.validate_bundle`).

    Raises
    ------
    BundleError
        The bundle cannot be read.
    BundleValidationError
        The bundle is invalid; ``.errors`` lists every error.
    """
    path = Path(path).expanduser() if path is not None else DEFAULT_BUNDLE_DIR
    if not path.exists():
        raise BundleError(f"{path} : chemin inexistant")
    path = path.resolve()
    # the per-process cache is keyed on the files' CONTENT, never on sizes and modification
    # times: a same-size change that kept the mtime (a copy with `cp -p`, `touch -r`) is seen
    for _ in range(3):
        try:
            return _load_cached(str(path), bundle_content_hash(path), bool(validate)).copy()
        except _ChangedWhileReading:
            continue
        except OSError as exc:
            raise BundleError(f"{path} : lecture impossible ({exc})") from exc
    raise BundleError(f"{path} : le bundle change pendant sa lecture ; réessayez quand il ne bouge plus")


