"""A disk cache of parsed bundles, shared by every process (kernels of a batch run included).

Reading and validating the embedded bundle costs seconds; a batch run used to pay it once
per report, in each report's fresh kernel. :func:`load_or_build` keys the parsed
:class:`~fne_eval.bundle.io.Bundle` on the **content** of the bundle's files (SHA-256 of
every file's name and bytes), on ``validate`` and on the versions of fne-eval, pandas and
Python, and keeps it as a pickle in :func:`cache_dir`. A changed file changes the key, so
a stale entry is never read; only bundles that loaded without error are stored.

The cache lives in ``$FNE_EVAL_CACHE_DIR`` or ``~/.cache/fne-eval/bundles``; set
``FNE_EVAL_CACHE_DIR=off`` to disable it. At most :data:`MAX_ENTRIES` bundles are kept
(the least recently used are removed). Pickles are only read from that user-owned folder.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

#: Bundles kept in the cache folder.
MAX_ENTRIES = 8
#: Folder or workbook larger than this (bytes) is not cached (a national bundle of 10 M rows is ~1 GB).
MAX_SOURCE_BYTES = 4 * 1024 ** 3
ENV = "FNE_EVAL_CACHE_DIR"


def cache_dir() -> Optional[Path]:
    """Return the cache folder, or None when caching is disabled (``FNE_EVAL_CACHE_DIR=off``)."""
    value = os.environ.get(ENV, "")
    if value.strip().lower() in ("off", "0", "no", "none", "false"):
        return None
    if value.strip():
        return Path(value)
    return Path.home() / ".cache" / "fne-eval" / "bundles"


def _files(path: Path) -> list:
    if path.is_dir():
        return sorted((p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")),
                      key=lambda p: p.name)
    return [path]


def content_key(path: Path, validate: bool) -> Optional[str]:
    """Return the cache key of a bundle: hash of its files' names and bytes and of the versions."""
    import pandas

    from fne_eval import __version__

    files = _files(path)
    if sum(p.stat().st_size for p in files) > MAX_SOURCE_BYTES:
        return None
    h = hashlib.sha256()
    h.update(f"fne-eval {__version__} pandas {pandas.__version__} python {sys.version_info[:2]} "
             f"validate {bool(validate)}\n".encode())
    # the code that parses and validates is part of the key: an edited reader or spec in a
    # development checkout (same version number) never serves a stale parsed bundle
    h.update(_reader_code_hash().encode())
    for p in files:
        h.update(p.name.encode() + b"\0")
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _reader_code_hash() -> str:
    """Return the SHA-256 of the bundle package's source files (reader, spec, validator)."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_atime, reverse=True)
    for p in entries[MAX_ENTRIES:]:
        try:
            p.unlink()
        except OSError:
            pass


def load_or_build(path_str: str, validate: bool, build: Callable[[], object]):
    """Return the bundle at ``path_str`` from the disk cache, or ``build()`` it and store it.

    Parameters
    ----------
    path_str : str
        Resolved path of the bundle folder or workbook.
    validate : bool
        Whether ``build`` validates (part of the key).
    build : callable
        Reads (and validates) the bundle; its exceptions propagate and nothing is stored.

    Returns
    -------
    fne_eval.bundle.io.Bundle
        With ``source`` set to ``path_str``.
    """
    folder = cache_dir()
    key = None
    if folder is not None:
        try:
            key = content_key(Path(path_str), validate)
        except OSError:
            key = None
    if key is not None:
        target = folder / f"{key}.pkl"
        try:
            with open(target, "rb") as fh:
                bundle = pickle.load(fh)
            os.utime(target)
            bundle.source = path_str
            return bundle
        except FileNotFoundError:
            pass
        except Exception:  # noqa: BLE001 - a corrupt or foreign entry is rebuilt
            try:
                target.unlink()
            except OSError:
                pass
    bundle = build()
    if key is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pkl", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(bundle, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, folder / f"{key}.pkl")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            _prune(folder)
        except OSError:
            pass
    return bundle
