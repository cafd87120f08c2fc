"""``fne-eval quality``: a summary by rule by default, filters, and the full list on demand.

The embedded bundle has some 300 findings, three quarters of them one rule (stale lieux):
printed one by one they buried the rest. By default the command prints one line per rule
(severity, count, description); ``--rule``, ``--severity``, ``--table`` and ``--territory``
narrow the findings (and then list them, up to :data:`LIST_LIMIT` unless ``--all``).
Exit 0 (1 for an unknown rule, table or territory; 2 for an unreadable bundle).
"""
from __future__ import annotations

import json
import os
import sys

import pandas as pd

from fne_eval.bundle.io import BundleError
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.core.fmt import fmt_int
from fne_eval.core.territory import level_of, member_codes
from fne_eval.evaluate.quality import RULES, quality_findings

SEVERITY_FR = {"error": "erreur", "warning": "alerte", "info": "info"}
SEVERITY_EN = {v: k for k, v in SEVERITY_FR.items()}
LIST_LIMIT = 30


def _print(text: str) -> int:
    """Print ``text``; a reader that closes the pipe early (``| head``) is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _err(message: str) -> int:
    print(f"fne-eval quality : {message}", file=sys.stderr)
    return 1


def filter_findings(findings, bundle, rules=None, severities=None, tables=None, territories=None):
    """Return the findings kept by the filters, or raise ValueError (French) on an unknown value.

    ``territories``: codes of a département, EPCI, commune or arrondissement; a finding is
    kept when its ``territory_code`` is that territory or one of its communes, or when its
    key names the code.
    """
    out = findings
    if rules:
        known = [r.rule_id for r in RULES]
        unknown = [r for r in rules if r not in known]
        if unknown:
            raise ValueError(f"règle inconnue : {', '.join(unknown)} (règles : {', '.join(known)})")
        out = out[out["rule"].isin(rules)]
    if severities:
        out = out[out["severity"].isin([SEVERITY_EN[s] for s in severities])]
    if tables:
        unknown = [t for t in tables if t not in TABLES]
        if unknown:
            raise ValueError(f"table inconnue : {', '.join(unknown)} (tables : {', '.join(TABLES)})")
        out = out[out["table"].isin(tables)]
    if territories:
        terr = bundle.tables["territories"]
        codes: set = set()
        for code in territories:
            try:
                level_of(terr, code)
            except (KeyError, ValueError):
                raise ValueError(f"territoire inconnu : {code!r} (codes de la table territories du bundle)") from None
            codes.add(code)
            codes.update(member_codes(terr, code))
        tc = out["territory_code"].astype("string") if "territory_code" in out else None
        keep = tc.isin(codes).fillna(False) if tc is not None else False
        for code in territories:
            keep = keep | out["key"].astype(str).str.contains(rf"(?<![0-9]){code}(?![0-9])", regex=True)
        out = out[keep]
    return out


def summary_lines(findings) -> list:
    """One line per rule, in the order of the rules: count, rule id, count per severity, description."""
    plural = {"error": ("erreur", "erreurs"), "warning": ("alerte", "alertes"), "info": ("info", "infos")}
    rows = []
    for rule in RULES:
        sub = findings[findings["rule"] == rule.rule_id]
        if not len(sub):
            continue
        counts = sub["severity"].value_counts()
        by_sev = ", ".join(f"{fmt_int(counts[s])} {plural[s][counts[s] > 1]}" for s in plural if s in counts)
        rows.append((fmt_int(len(sub)), rule.rule_id, by_sev, rule.description))
    if not rows:
        return []
    w = [max(len(r[k]) for r in rows) for k in range(3)]
    return [f"  {n:>{w[0]}}  {rid:<{w[1]}}  {sev:<{w[2]}}  {desc}" for n, rid, sev, desc in rows]


def finding_lines(findings) -> list:
    return [f"[{SEVERITY_FR[r['severity']]}] {r['rule']} · {r['table']} · {r['key']}\n    {r['message']}"
            for _, r in findings.iterrows()]


def cmd_quality(args) -> int:
    """Run ``fne-eval quality``."""
    try:
        bundle = load_bundle(args.bundle, validate=False)
    except (BundleError, OSError, ValueError) as exc:
        print(f"fne-eval quality : jeu de données illisible : {exc}", file=sys.stderr)
        return 2
    findings = quality_findings(bundle)
    filters = {"rules": getattr(args, "rule", None), "severities": getattr(args, "severity", None),
               "tables": getattr(args, "table", None), "territories": getattr(args, "territory", None)}
    try:
        kept = filter_findings(findings, bundle, **filters)
    except ValueError as exc:
        return _err(str(exc))
    if getattr(args, "json", False):
        recs = [{k: (None if pd.isna(v) else str(v)) for k, v in r.items()} for r in kept.to_dict("records")]
        return _print(json.dumps({"bundle": bundle.source, "findings": recs}, ensure_ascii=False, indent=2))
    filtered = any(filters.values())
    counts = kept["severity"].value_counts().to_dict() if len(kept) else {}
    what = "constats retenus par les filtres" if filtered else "constats"
    lines = [f"Contrôle qualité de {bundle.source} : {fmt_int(len(kept))} {what} "
             f"({fmt_int(counts.get('error', 0))} erreurs, {fmt_int(counts.get('warning', 0))} alertes, "
             f"{fmt_int(counts.get('info', 0))} informations)"
             + (f" sur {fmt_int(len(findings))}." if filtered else ".")]
    if len(kept):
        lines += ["", "Par règle (nombre de constats, règle, gravités, description) :", *summary_lines(kept)]
    if getattr(args, "all", False) or (filtered and len(kept) <= LIST_LIMIT):
        lines += ["", *finding_lines(kept)] if len(kept) else []
    elif filtered:
        lines += ["", f"{fmt_int(len(kept))} constats : ajouter --all pour les lister un à un."]
    else:
        lines += ["", "Détail : --all pour tous les constats ; --rule, --severity, --table, --territory pour filtrer "
                      "(fne-eval quality --help)."]
    return _print("\n".join(lines))
