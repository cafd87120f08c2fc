"""A disk cache of parsed bundles, shared by every process (kernels of a batch run included).

Reading and validating the embedded bundle costs seconds; a batch run used to pay it once
per report, in each report's fresh kernel. :func:`load_or_build` keys the parsed
:class:`~fne_eval.bundle.io.Bundle` on the **content** of the bundle's files (SHA-256 of
every file's name and bytes, :func:`fne_eval.bundle.io.bundle_content_hash`), on
``validate``, on the versions of fne-eval, pandas and Python and on the reader's code. A
changed file changes the key, so a stale entry is never read; only bundles that loaded
without error are stored.

The cache lives in ``$FNE_EVAL_CACHE_DIR`` or ``~/.cache/fne-eval/bundles``; set
``FNE_EVAL_CACHE_DIR=off`` to disable it. At most :data:`MAX_ENTRIES` bundles are kept
(the least recently used are removed).

**Entries are authenticated.** The folder may be shared (a team's ``FNE_EVAL_CACHE_DIR``),
so a file found there is never trusted: each entry is a pickle preceded by an HMAC-SHA256
of the entry's key and bytes, computed with a per-user secret key kept **outside** the
cache folder (:func:`key_file`: ``$FNE_EVAL_CACHE_KEY_FILE``, else
``$XDG_CONFIG_HOME/fne-eval/cache-key`` or ``~/.config/fne-eval/cache-key``, created
0600, refused when another user could read or change it). An entry whose HMAC does not
match is deleted **before** anything is unpickled, so a planted pickle never runs; an entry
copied from another bundle fails too (its key is part of the HMAC), and the bundle read
back must carry the content hash it was looked up with. Without a usable key the cache is
simply not used.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

import pandas

from fne_eval import __version__
from fne_eval.bundle.io import bundle_content_hash, bundle_files

#: Bundles kept in the cache folder.
MAX_ENTRIES = 8
#: Folder or workbook larger than this (bytes) is not cached (a national bundle of 10 M rows is ~1 GB).
MAX_SOURCE_BYTES = 4 * 1024 ** 3
ENV = "FNE_EVAL_CACHE_DIR"
KEY_ENV = "FNE_EVAL_CACHE_KEY_FILE"
#: First bytes of an entry: format name and version.
MAGIC = b"FNEC1\n"
SUFFIX = ".entry"
_MAC_SIZE = hashlib.sha256().digest_size


def cache_dir() -> Optional[Path]:
    """Return the cache folder, or None when caching is disabled (``FNE_EVAL_CACHE_DIR=off``)."""
    value = os.environ.get(ENV, "")
    if value.strip().lower() in ("off", "0", "no", "none", "false"):
        return None
    if value.strip():
        return Path(value)
    return Path.home() / ".cache" / "fne-eval" / "bundles"


def key_file() -> Path:
    """Return where the per-user secret key of the cache is kept (outside the cache folder)."""
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        return Path(value)
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config else Path.home() / ".config"
    return base / "fne-eval" / "cache-key"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def secret_key(folder: Path) -> Optional[bytes]:
    """Return the user's secret key, creating it (0600) on first use; None when unusable.

    Unusable: kept inside the (possibly shared) cache folder, not a regular file, not owned
    by this user, readable or writable by others, shorter than 32 bytes.
    """
    path = key_file()
    if _inside(path, folder):
        return None
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(os.urandom(32))
        st = os.stat(path, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077:
            return None
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return None
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) >= 32 else None


def content_key(path: Path, validate: bool, content_hash: Optional[str] = None) -> Optional[str]:
    """Return the cache key of a bundle: its content hash, ``validate``, the versions and the reader's code."""
    files = bundle_files(path)
    if sum(p.stat().st_size for p in files) > MAX_SOURCE_BYTES:
        return None
    if content_hash is None:
        content_hash = bundle_content_hash(path)
    h = hashlib.sha256()
    h.update(f"fne-eval {__version__} pandas {pandas.__version__} python {sys.version_info[:2]} "
             f"validate {bool(validate)}\n".encode())
    # the code that parses and validates is part of the key: an edited reader or spec in a
    # development checkout (same version number) never serves a stale parsed bundle
    h.update(_reader_code_hash().encode())
    h.update(content_hash.encode())
    return h.hexdigest()


def _reader_code_hash() -> str:
    """Return the SHA-256 of the bundle package's source files (reader, spec, validator)."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*" + SUFFIX), key=lambda p: p.stat().st_atime, reverse=True)
    for p in entries[MAX_ENTRIES:]:
        try:
            p.unlink()
        except OSError:
            pass


def _mac(secret: bytes, key: str, payload: bytes) -> bytes:
    return hmac.new(secret, MAGIC + key.encode() + b"\0" + payload, hashlib.sha256).digest()


def seal(payload: bytes, key: str, folder: Optional[Path] = None) -> Optional[bytes]:
    """Return ``payload`` preceded by its HMAC for ``key``, ready to write in the cache; None without a key.

    For any cache entry kept in :func:`cache_dir` (parsed bundles here, other caches too):
    :func:`unseal` gives the payload back only when it was sealed by this user for this key.
    """
    folder = folder if folder is not None else cache_dir()
    secret = secret_key(folder) if folder is not None else None
    if secret is None:
        return None
    return MAGIC + _mac(secret, key, payload) + payload


def unseal(blob: bytes, key: str, folder: Optional[Path] = None) -> Optional[bytes]:
    """Return the payload of a :func:`seal`-ed blob, or None when it was not sealed by this user for ``key``."""
    folder = folder if folder is not None else cache_dir()
    secret = secret_key(folder) if folder is not None else None
    head = len(MAGIC) + _MAC_SIZE
    if secret is None or len(blob) < head or blob[:len(MAGIC)] != MAGIC:
        return None
    payload = blob[head:]
    return payload if hmac.compare_digest(blob[len(MAGIC):head], _mac(secret, key, payload)) else None


def _read_entry(target: Path, secret: bytes, key: str):
    """Return the bundle of an authenticated entry, or None (missing, foreign, corrupt: deleted)."""
    try:
        with open(target, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None
    except OSError:
        return None
    head = len(MAGIC) + _MAC_SIZE
    ok = (len(data) > head and data[:len(MAGIC)] == MAGIC
          and hmac.compare_digest(data[len(MAGIC):head], _mac(secret, key, data[head:])))
    if not ok:  # planted, copied from another bundle, truncated: never unpickled
        try:
            target.unlink()
        except OSError:
            pass
        return None
    try:
        return pickle.loads(data[head:])
    except Exception:  # noqa: BLE001 - an entry of an older format is rebuilt
        return None


def load_or_build(path_str: str, validate: bool, build: Callable[[], object], content_hash: Optional[str] = None):
    """Return the bundle at ``path_str`` from the disk cache, or ``build()`` it and store it.

    Parameters
    ----------
    path_str : str
        Resolved path of the bundle folder or workbook.
    validate : bool
        Whether ``build`` validates (part of the key).
    build : callable
        Reads (and validates) the bundle; its exceptions propagate and nothing is stored.
    content_hash : str, optional
        :func:`fne_eval.bundle.io.bundle_content_hash` of the bundle, when the caller has it.

    Returns
    -------
    fne_eval.bundle.io.Bundle
        With ``source`` set to ``path_str``. A bundle served from the cache carries the
        content hash it was looked up with; one that does not is rebuilt.
    """
    folder = cache_dir()
    key = secret = None
    if folder is not None:
        try:
            if content_hash is None:
                content_hash = bundle_content_hash(Path(path_str))
            key = content_key(Path(path_str), validate, content_hash)
            secret = secret_key(folder) if key is not None else None
        except OSError:
            key = None
    if key is not None and secret is not None:
        target = folder / f"{key}{SUFFIX}"
        bundle = _read_entry(target, secret, key)
        if bundle is not None and getattr(bundle, "hash", None) == content_hash:
            try:
                os.utime(target)
            except OSError:
                pass
            bundle.source = path_str
            return bundle
    bundle = build()
    if key is not None and secret is not None and getattr(bundle, "hash", None) == content_hash:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            payload = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(MAGIC + _mac(secret, key, payload) + payload)
                os.replace(tmp, folder / f"{key}{SUFFIX}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            _prune(folder)
        except OSError:
            pass
    return bundle
