"""The HTML indexes: one page per run (``<run>/index.html``) and the list of runs
(``outputs/index.html``).

Both are French pages built from manifests only. The list of runs shows finished run
folders (those renamed from ``.<run-id>.partial`` and holding a manifest); a ``.partial``
folder left by an interrupted run is never listed.
"""
from __future__ import annotations

import fcntl
import re
from datetime import datetime
from pathlib import Path
from typing import Optional, Union

from jinja2 import Environment, FileSystemLoader, select_autoescape

from fne_eval.runner.manifest import MANIFEST_FILE, read_manifest, write_text_atomic

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
INDEX_FILE = "index.html"
STATUS_LABELS = {"ok": "réussi", "failed": "échec"}


def format_seconds(value) -> str:
    """Return a duration in French: ``12,3 s``, ``2 min 05 s``."""
    if value is None:
        return "–"
    v = float(value)
    if v < 60:
        return f"{v:.1f}".replace(".", ",") + "\u00a0s"
    m, s = divmod(int(round(v)), 60)
    return f"{m}\u00a0min\u00a0{s:02d}\u00a0s"


def format_datetime(iso: str) -> str:
    """Return ``2026-11-29T09:15:02+00:00`` as ``29/11/2026 09:15 UTC``."""
    try:
        d = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso or "–")
    return d.strftime("%d/%m/%Y %H:%M") + (" UTC" if d.utcoffset() is not None and not d.utcoffset() else "")


def describe_parameters(params: dict) -> str:
    """Return the parameters of an entry as French text (the bundle path left out)."""
    labels = {"territory": "territoire", "axis": "axe", "year": "année", "threshold": "seuil"}
    parts = []
    for k, v in params.items():
        if k == "bundle":
            continue
        if k == "axis" and v == "all":
            v = "tous"
        parts.append(f"{labels.get(k, k)} {v}")
    return ", ".join(parts)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]))
    env.filters["seconds"] = format_seconds
    env.filters["datetime"] = format_datetime
    env.filters["params"] = describe_parameters
    env.filters["status"] = lambda s: STATUS_LABELS.get(s, s)
    return env


def render_run_index(manifest: dict) -> str:
    """Return the French index page of one run."""
    return _env().get_template("run_index.html.j2").render(m=manifest)


def write_run_index(run_dir: Union[str, Path], manifest: dict) -> Path:
    """Write ``index.html`` of a run folder (atomically)."""
    return write_text_atomic(Path(run_dir) / INDEX_FILE, render_run_index(manifest))


#: A run folder name that may become a link: no scheme (``javascript:``), no path, no markup.
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def _text(v, default: str = "") -> str:
    return v if isinstance(v, str) else default


def _number(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None


def _clean_manifest(m) -> Optional[dict]:
    """Return the fields the list of runs shows, typed; None for a manifest that is not one.

    A manifest in the output folder may have been edited or truncated by hand: a list, a
    number where a date is, a missing ``counts``. It is skipped or shown with blanks, never
    allowed to break the page (and with it the end of every later run).
    """
    if not isinstance(m, dict) or not isinstance(m.get("run_id"), str):
        return None
    counts = m.get("counts") if isinstance(m.get("counts"), dict) else {}
    plan = m.get("plan") if isinstance(m.get("plan"), dict) else {}
    bundle = m.get("bundle") if isinstance(m.get("bundle"), dict) else {}
    return {
        "run_id": m["run_id"],
        "plan": {"title": _text(plan.get("title"))},
        "started_at": _text(m.get("started_at")),
        "duration_s": _number(m.get("duration_s")),
        "counts": {"ok": _number(counts.get("ok")), "failed": _number(counts.get("failed"))},
        "bundle": {"hash": _text(bundle.get("hash")), "is_synthetic": bundle.get("is_synthetic") is True},
        "package_version": _text(m.get("package_version")),
    }


def list_runs(out_dir: Union[str, Path]) -> list:
    """Return the manifests of the finished runs of ``out_dir``, newest first.

    Hidden folders (``.<run-id>.partial``), folders whose name is not a plain run-folder name
    (:data:`SAFE_FOLDER`: a folder ``javascript:alert(1)`` never becomes a link) and folders
    without a readable, well-formed manifest are skipped. Each manifest is reduced to the
    fields the page shows, typed (:func:`_clean_manifest`).
    """
    runs = []
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return runs
    for d in out_dir.iterdir():
        if d.name.startswith(".") or not SAFE_FOLDER.match(d.name) or not d.is_dir() \
                or not (d / MANIFEST_FILE).is_file():
            continue
        try:
            m = _clean_manifest(read_manifest(d))
        except (OSError, ValueError, RecursionError):
            continue
        if m is None:
            continue
        m["_folder"] = d.name
        runs.append(m)
    runs.sort(key=lambda m: (m["started_at"], m["run_id"]), reverse=True)
    return runs


def write_outputs_index(out_dir: Union[str, Path]) -> Path:
    """Rewrite ``out_dir/index.html``, the list of finished runs (atomically).

    Runs finishing at the same time take a lock on ``out_dir/.index.lock`` so that the
    last page written lists both.
    """
    out_dir = Path(out_dir)
    with open(out_dir / ".index.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            runs = list_runs(out_dir)
            text = _env().get_template("runs_index.html.j2").render(runs=runs)
            return write_text_atomic(out_dir / INDEX_FILE, text)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
