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

import functools
import hashlib
import hmac
import inspect
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

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
    h.update(f"fne-eval {__version__} pandas {pd.__version__} python {sys.version_info[:2]} "
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


# --------------------------------------------------------------------------- shared results
#
# An expensive quantity computed from a bundle (the indicator values of a level, the
# département-wide difference in differences, the quality findings...) is the same for every
# report of a run that asks for it with the same parameters, and each report runs in its own
# fresh kernel. :func:`shared` keeps such a result once per (function, bundle content,
# arguments, code), in memory and in the cache folder, so that the first report of a run
# computes it and the others read it.

SHARED_ENV = "FNE_EVAL_SHARED"
SHARED_FOLDER = "shared"
SHARED_SUFFIX = ".result"
#: Results kept in a process's memory (pickled bytes, least recently used dropped first).
SHARED_MEMORY_ENTRIES = 64
#: Results kept in the cache folder (least recently used removed).
SHARED_DISK_ENTRIES = 2048
#: Packages whose source is part of a shared result's key (what evaluation code can reach).
_SHARED_CODE = ("core", "bundle", "ingest", "build", "evaluate", "store")
#: What :func:`shared` did in this process (the benchmark and the tests read it).
SHARED_STATS = {"memory_hits": 0, "disk_hits": 0, "computed": 0, "uncached": 0, "rejected": 0}
_SHARED_MEMO: "dict[str, bytes]" = {}


class UnkeyableArgument(Exception):
    """An argument that cannot be part of a key: the call is computed, not shared."""


def shared_enabled() -> bool:
    """Return True when ``$FNE_EVAL_SHARED`` switches sharing on (``on``, ``1``, ``yes``, ``true``).

    Off by default: a bundle counts by the content hash of its files, and a caller may change
    the frames of its copy of a bundle (:meth:`fne_eval.bundle.io.Bundle.copy`) without
    changing that hash. ``fne-eval run`` turns it on for the kernels of its reports, which
    read their bundle as loaded and never change it.
    """
    return os.environ.get(SHARED_ENV, "").strip().lower() in ("on", "1", "yes", "true")


def _shared_code_hash() -> str:
    """Return the hash of the evaluation code and of the packaged data files (names, sizes, dates)."""
    global _SHARED_CODE_HASH
    if _SHARED_CODE_HASH is None:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(f"fne-eval {__version__} pandas {pd.__version__} numpy {np.__version__} "
                           f"python {sys.version_info[:2]}\n".encode())
        for pkg in _SHARED_CODE:
            for p in sorted((root / pkg).glob("*.py")):
                h.update(f"{pkg}/{p.name}".encode() + b"\0" + p.read_bytes())
        for p in sorted((root / "data").rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        _SHARED_CODE_HASH = h.hexdigest()
    return _SHARED_CODE_HASH


_SHARED_CODE_HASH: Optional[str] = None


def feed_key(h, value) -> None:
    """Feed one argument into a key, with its type, or raise :class:`UnkeyableArgument`.

    A bundle counts by its content hash (the hash of its files, as for the indicator store)
    and the shape and columns of its tables; a bundle without a content hash (built in
    memory) cannot be shared. Frames count by their values, index, columns and dtypes.
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (pd.Timestamp, pd.Timedelta)) or type(value).__module__ == "datetime":
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, np.generic):
        h.update(f"{type(value).__name__}:{value.item()!r};".encode())
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        h.update(f"frame{frame.shape};cols{list(map(str, frame.columns))!r};"
                 f"dtypes{[str(d) for d in frame.dtypes]!r};index{frame.index.dtype};".encode())
        try:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        except TypeError as exc:  # a cell pandas cannot hash
            raise UnkeyableArgument(str(exc)) from exc
    elif isinstance(value, dict):
        h.update(f"dict{len(value)};".encode())
        for k in sorted(value, key=repr):
            feed_key(h, k)
            feed_key(h, value[k])
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        h.update(f"{type(value).__name__}{len(value)};".encode())
        for v in items:
            feed_key(h, v)
    elif type(value).__name__ == "Bundle" and hasattr(value, "tables"):
        content = getattr(value, "hash", "") or ""
        if not content:
            raise UnkeyableArgument("bundle sans empreinte")
        # its source too: some results depend on where it is (the embedded bundle's sources)
        h.update(f"bundle:{content};source:{getattr(value, 'source', '')!s};".encode())
        for name in sorted(value.tables):
            t = value.tables[name]
            h.update(f"{name}{getattr(t, 'shape', None)}{list(map(str, getattr(t, 'columns', [])))!r};".encode())
    else:
        raise UnkeyableArgument(type(value).__name__)


def call_key(fn: Callable, args: tuple, kwargs: dict, stamp: str) -> Optional[str]:
    """Return a SHA-256 key of the call ``fn(*args, **kwargs)`` under ``stamp``, or None when an argument is unkeyable.

    The key hashes the function's qualified name, ``stamp`` (what makes an old result stale:
    the code, the library versions) and the arguments as :func:`feed_key` reads them. The
    shared results (:func:`shared_key`) and the figure cache
    (:func:`fne_eval.report.figcache.chart_key`) key their calls with it.
    """
    h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}\n{stamp}\n".encode())
    try:
        feed_key(h, list(args))
        feed_key(h, dict(kwargs))
    except UnkeyableArgument:
        return None
    return h.hexdigest()


def shared_key(fn: Callable, args: tuple, kwargs: dict) -> Optional[str]:
    """Return the key of ``fn(*args, **kwargs)`` among shared results, or None when it cannot be shared."""
    return call_key(fn, args, kwargs, _shared_code_hash())


def _shared_disk_read(path: Path, key: str, folder: Path):
    """Return ``(True, result)`` from a sealed entry, or ``(False, None)`` (missing, planted, copied, corrupt)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return False, None
    payload = unseal(blob, key, folder)
    if payload is None:  # not sealed by this user for this key: never unpickled, removed
        SHARED_STATS["rejected"] += 1
        try:
            path.unlink()
        except OSError:
            pass
        return False, None
    try:
        stored_key, result = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an entry of an older format is recomputed
        return False, None
    if stored_key != key:
        return False, None
    _SHARED_MEMO[key] = payload
    try:
        os.utime(path)
    except OSError:
        pass
    return True, result


def _shared_disk_write(path: Path, key: str, payload: bytes, folder: Path) -> None:
    blob = seal(payload, key, folder)
    if blob is None:  # no per-user key: memory only
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SHARED_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        entries = list(path.parent.glob("*" + SHARED_SUFFIX))
        if len(entries) > SHARED_DISK_ENTRIES:
            for p in sorted(entries, key=lambda p: p.stat().st_atime)[:len(entries) - SHARED_DISK_ENTRIES]:
                p.unlink()
    except OSError:  # a read-only or full cache folder only costs time
        pass


def shared(fn: Optional[Callable] = None, *, not_when: tuple = ()) -> Callable:
    """Decorate an expensive function of a bundle so that its result is computed once and shared.

    The result of ``fn(*args, **kwargs)`` is kept under :func:`shared_key` (the function, the
    source of the evaluation code and the packaged data, the bundle's content hash and every
    argument) in this process's memory and in ``<cache folder>/shared/`` (the folder of
    :func:`cache_dir`), so every report of a run — each in its own kernel, on any worker
    sharing the folder — reads what the first one computed. Disk entries are pickles sealed
    with the user's key (:func:`seal`): an entry planted in a shared folder, or copied from
    another key, is removed unread and the result recomputed. Each call returns a new object
    (unpickled), so a caller that changes it changes nobody else's.

    Only when :func:`shared_enabled` (``$FNE_EVAL_SHARED=on``, set by ``fne-eval run`` for its
    kernels). Not shared (computed as without the decorator): a bundle without content hash,
    an argument of another type, a keyword argument of ``not_when`` given (not None: a folder
    whose files would not be part of the key). Without a cache folder (``FNE_EVAL_CACHE_DIR=off``)
    results are shared in memory only.
    """
    if fn is None:
        return functools.partial(shared, not_when=not_when)
    positions = _positions(fn, not_when)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        given = any(kwargs.get(n) is not None for n in not_when) or any(
            i < len(args) and args[i] is not None for i in positions)
        key = shared_key(fn, args, kwargs) if shared_enabled() and not given else None
        if key is None:
            SHARED_STATS["uncached"] += 1
            return fn(*args, **kwargs)
        payload = _SHARED_MEMO.pop(key, None)
        if payload is not None:
            _SHARED_MEMO[key] = payload  # most recently used last
            SHARED_STATS["memory_hits"] += 1
            return pickle.loads(payload)[1]
        folder = cache_dir()
        path = folder / SHARED_FOLDER / f"{key}{SHARED_SUFFIX}" if folder is not None else None
        if path is not None and path.exists():
            found, result = _shared_disk_read(path, key, folder)
            if found:
                SHARED_STATS["disk_hits"] += 1
                _shared_trim()
                return result
        result = fn(*args, **kwargs)
        SHARED_STATS["computed"] += 1
        try:
            payload = pickle.dumps((key, result), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a result that cannot be pickled is simply not shared
            return result
        _SHARED_MEMO[key] = payload
        _shared_trim()
        if path is not None:
            _shared_disk_write(path, key, payload, folder)
        return pickle.loads(payload)[1]  # the caller gets its own copy, as on a hit

    wrapper.__wrapped_shared__ = fn
    return wrapper


def _positions(fn: Callable, names: tuple) -> list:
    params = list(inspect.signature(fn).parameters)
    return [params.index(n) for n in names if n in params]


def _shared_trim() -> None:
    while len(_SHARED_MEMO) > SHARED_MEMORY_ENTRIES:
        _SHARED_MEMO.pop(next(iter(_SHARED_MEMO)))


def clear_shared_memory() -> None:
    """Forget the shared results kept in this process's memory (the disk entries stay)."""
    _SHARED_MEMO.clear()
