"""Remove the analyst's machine from executed notebooks before they are published.

An executed notebook in ``outputs/<run>/notebooks/`` is a published artefact, like the
HTML and PDF rendered from it. papermill writes absolute paths into it (its metadata's
``input_path`` / ``output_path``, the injected ``bundle`` parameter), and cell outputs can
hold more (a warning's file name, a traceback through ``site-packages``). They name the
analyst's account and folders (``/home/jean.dupont/Documents/…``). :func:`scrub_notebook`
rewrites every string of the notebook, replacing the known folders by neutral labels
(``<bundle>``, ``<exécution>``, ``<fne-eval>``, ``<python>``) and any remaining home
folder by ``~``.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Union

import fne_eval

#: Home folders of any user, on Linux, macOS and Windows (also with escaped backslashes, as in JSON).
HOME_RE = re.compile(r"(?:/home/|/Users/)[^/\s\"'<>]+|/root(?=[/\s\"']|$)"
                     r"|[A-Za-z]:(?:\\\\|\\)(?:Users|Documents and Settings)(?:\\\\|\\)[^\\\s\"'<>]+")


def path_labels(bundle: Optional[str] = None, run_dir: Optional[str] = None,
                extra: Iterable = ()) -> list:
    """Return ``(absolute path, label)`` pairs to replace, longest path first."""
    pairs = []
    if bundle:
        pairs.append((bundle, "<bundle>"))
    if run_dir:
        pairs.append((run_dir, "<exécution>"))
    pairs.append((str(Path(fne_eval.__file__).resolve().parent.parent), "<fne-eval>"))
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        pairs.append((p, "<python>"))
    pairs.extend(extra)
    home = os.path.expanduser("~")
    if home and home != "/":
        pairs.append((home, "~"))
    out, seen = [], set()
    for path, label in pairs:
        for variant in {str(path), os.path.realpath(str(path))}:
            if variant and variant != "/" and variant not in seen:
                seen.add(variant)
                out.append((variant, label))
    out.sort(key=lambda pl: len(pl[0]), reverse=True)
    return out


def scrub_text(text: str, labels: list) -> str:
    """Return ``text`` with the labelled folders, then any home folder, replaced."""
    for path, label in labels:
        if path in text:
            text = text.replace(path, label)
    return HOME_RE.sub("~", text)


def _scrub(obj, labels):
    if isinstance(obj, str):
        return scrub_text(obj, labels)
    if isinstance(obj, list):
        return [_scrub(v, labels) for v in obj]
    if isinstance(obj, dict):
        # base64 images (image/png...) are left alone: a path cannot hide there, a random "/home/" could
        return {k: v if _is_binary_mime(k) else _scrub(v, labels) for k, v in obj.items()}
    return obj


def _is_binary_mime(key) -> bool:
    return isinstance(key, str) and (key.startswith(("image/", "application/pdf")) and key != "image/svg+xml")


def scrub_notebook(path: Union[str, Path], labels: list) -> bool:
    """Rewrite the notebook at ``path`` without absolute paths of this machine; return True if changed.

    Every string of the JSON is rewritten (cell sources, outputs, tracebacks, metadata);
    the file is replaced atomically. An unreadable notebook is left as it is.
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    clean = _scrub(nb, labels)
    if clean == nb:
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(clean, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True
