"""``fne-eval plan``: check a run plan and list its entries (arguments in, text and exit status out).

Apart from :mod:`fne_eval.cli.run` so that checking a plan does not import the runner's
executor (kernels, rendering, Dask) it never uses.
"""
from __future__ import annotations

import json
import sys

from fne_eval.bundle import load_bundle
from fne_eval.cli.french import translate_os_text
from fne_eval.runner.plan import PlanError, expand_plan, load_plan


def _err(msg: str) -> None:
    print(translate_os_text(msg), file=sys.stderr)


def cmd_plan(args) -> int:
    """List the entries of a run plan; exit 0, or 1 when the plan (or bundle) is invalid."""
    try:
        plan = load_plan(args.plan)
        bundle = load_bundle(args.bundle, validate=False)
        entries = expand_plan(plan, bundle)
    except PlanError as exc:
        _err("Plan invalide :")
        for e in exc.errors:
            _err(f"  - {e}")
        return 1
    except Exception as exc:  # noqa: BLE001 - unreadable bundle: a clear message, not a traceback
        _err(f"fne-eval plan : bundle ou plan illisible : {exc}")
        return 1
    if getattr(args, "json", False):
        print(json.dumps({"name": plan.name, "title": plan.title, "count": len(entries),
                          "entries": [{"id": e.id, "notebook": e.notebook, "parameters": e.parameters}
                                      for e in entries]}, ensure_ascii=False, indent=2))
        return 0
    print(f"{plan.title} ({plan.name}) : {len(entries)} entrée(s)")
    if getattr(args, "list", False):
        width = max((len(e.id) for e in entries), default=0)
        for e in entries:
            params = " ".join(f"{k}={v!r}" for k, v in e.parameters.items())
            print(f"  {e.id:<{width}}  {e.notebook:<15} {params}")
        return 0
    for line in plan_summary_lines(entries):
        print(line)
    print("Le détail de chaque entrée : fne-eval plan " + str(args.plan) + " --list")
    return 0


def plan_summary_lines(entries) -> list:
    """Count the entries per notebook, with the territories, axes and years they cover."""
    by_nb: dict = {}
    for e in entries:
        by_nb.setdefault(e.notebook, []).append(e)
    lines = []
    for nb, es in by_nb.items():
        parts = [f"  {nb} : {len(es)} entrée(s)"]
        for key, label in (("territory", "territoires"), ("axis", "axes"), ("year", "années")):
            values = sorted({str(e.parameters[key]) for e in es if e.parameters.get(key) not in (None, "")})
            if values:
                parts.append(f"{label} {', '.join(values)}")
        lines.append(" ; ".join(parts))
    return lines
