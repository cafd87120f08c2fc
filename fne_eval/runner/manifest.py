"""The run manifest: what ran, on which data, with which code, and how it ended.

``manifest.json`` holds the run id, the plan (name, title, file and full text), the bundle
(path, SHA-256, ``is_synthetic``), the package and Python versions, start and end times
(ISO 8601, UTC), the run options, and per entry its id, notebook, parameters, status
(``ok`` / ``failed``), error message, duration in seconds and output paths relative to
the run folder. It is enough to reproduce any report: same plan text, same bundle hash,
same package version, same parameters. It is published with the reports, so paths under
the user's home folder are written ``~/...`` (:func:`home_relative`; the readers expand it).
"""
from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Optional, Union

MANIFEST_FILE = "manifest.json"
SCHEMA_VERSION = 1


def entry_label(parameters: dict, territory_names: Optional[dict] = None) -> str:
    """Return an entry's parameters as a French label for readers.

    ``{"territory": "200054807", "axis": "2", "year": 2025}`` gives
    ``"Métropole d'Aix-Marseille-Provence (200054807) · axe 2 · année 2025"``.
    """
    names = territory_names or {}
    parts = []
    if "territory" in parameters:
        code = parameters["territory"]
        parts.append(f"{names[code]} ({code})" if names.get(code) else f"territoire {code}")
    if "axis" in parameters:
        parts.append("tous les axes" if parameters["axis"] == "all" else f"axe {parameters['axis']}")
    if "year" in parameters:
        parts.append(f"année {parameters['year']}")
    return " · ".join(parts)


def home_relative(path) -> str:
    """Return ``path`` with the user's home folder written ``~`` (the manifest is published with the reports)."""
    text = str(path)
    home = os.path.expanduser("~")
    if home and home != "/" and (text == home or text.startswith(home.rstrip("/") + "/")):
        return "~" + text[len(home.rstrip("/")):]
    return text


def build_manifest(*, run_id: str, plan, bundle: dict, results: list, started: datetime,
                   finished: datetime, options: dict, package_version: str, python_version: str,
                   territory_names: Optional[dict] = None) -> dict:
    """Return the manifest of a run as a JSON-ready dict.

    Parameters
    ----------
    run_id : str
    plan : fne_eval.runner.plan.RunPlan
    bundle : dict
        ``path``, ``embedded``, ``hash``, ``is_synthetic``, ``name``.
    results : list of EntryResult
        In plan order.
    started, finished : datetime
        Timezone-aware.
    options : dict
        The run options (formats, renderer, jobs, executor, timeout...).
    package_version, python_version : str
    territory_names : dict, optional
        Territory code → name, for each entry's French ``label``.
    """
    entries = [{**r.to_dict(), "label": entry_label(r.parameters, territory_names)} for r in results]
    counts = {"ok": sum(e["status"] == "ok" for e in entries),
              "failed": sum(e["status"] != "ok" for e in entries)}
    model = getattr(plan, "model", None)
    override = getattr(model, "threshold_override", None)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "plan": {"name": plan.name, "title": plan.title, "path": home_relative(Path(plan.path).resolve()),
                 "content": plan.text},
        "bundle": {**bundle, "path": home_relative(bundle["path"])} if bundle.get("path") else bundle,
        "package_version": package_version,
        "python_version": python_version,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "options": options,
        # a disclosure threshold below 5, with who decided it, when and why (plan.threshold_override)
        "threshold_override": override.model_dump() if override is not None else None,
        "counts": counts,
        "entries": entries,
    }


def write_json_atomic(path: Union[str, Path], data) -> Path:
    """Write ``data`` as UTF-8 JSON through a temporary file renamed over ``path``."""
    return write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_text_atomic(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` atomically: readers see the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def read_manifest(run_dir: Union[str, Path]) -> dict:
    """Return the manifest of a finished run folder."""
    return json.loads((Path(run_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
