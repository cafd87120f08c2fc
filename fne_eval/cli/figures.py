"""``fne-eval figures``: a territory's headline figures, as French text or JSON.

The figures are :func:`fne_eval.store.figures.headline_figures` (read from the indicator
store); this module only words them.
"""
from __future__ import annotations

import sys

from fne_eval.bundle.io import BundleError
from fne_eval.bundle.load import load_bundle
from fne_eval.cli.bundle import load_for_command
from fne_eval.core.fmt import fmt_date, fmt_decimal, fmt_eur, fmt_int, fmt_pct
from fne_eval.store.figures import figures_to_json, headline_figures

__all__ = ["figures_to_text", "cmd_figures", "figures_to_json", "headline_figures"]

LEVEL_FR = {"departement": "département", "epci": "EPCI", "commune": "commune", "arrondissement": "arrondissement"}
STATUS_FR = {"green": "vert", "amber": "orange", "red": "rouge", "grey": "gris (pas de données)"}
STATE_FR = {"not_started": "non commencées", "in_progress": "en cours", "done": "terminées", "late": "en retard",
            "cancelled": "annulées", "unreported": "sans statut (aucun suivi)"}



def figures_to_text(figures: dict) -> str:
    """Return the figures as French text with French number formats."""
    f = figures
    terr = f["territory"]
    lines = [f"{terr['name']} ({LEVEL_FR.get(terr['level'], terr['level'])}, code {terr['code']})", ""]
    lines.append(f"Population municipale (INSEE, millésime {f['population']['year']}) : "
                 f"{fmt_int(f['population']['value'])} habitants")
    if "population_members_total" in f:
        pm = f["population_members_total"]
        lines.append(f"Population des {len(pm['epci'])} EPCI du département : {fmt_int(pm['value'])} habitants "
                     "(communes membres hors département comprises)")
    ifn = f["ifn"]
    if ifn["value"] is not None:
        lines.append(f"Indice de fragilité numérique (millésime {ifn['vintage']}) : {fmt_decimal(ifn['value'], 2)} — {ifn['method']}")
    else:
        lines.append(f"Indice de fragilité numérique : pas de données ({ifn['method']})")
    date = f" (mise à jour la plus récente : {fmt_date(f['lieux_date'])})" if f.get("lieux_date") else ""
    lines.append(f"Lieux de médiation numérique : {fmt_int(f['lieux'])}{date}, "
                 f"soit {fmt_decimal(f['lieux_per_10k'], 2)} pour 10 000 habitants")
    b = f["budget"]
    lines.append(f"Budget FNE au {fmt_date(b['as_of'])} : prévu {fmt_eur(b['planned_eur'])}, "
                 f"engagé {fmt_eur(b['committed_eur'])} ({fmt_pct(b['commitment_rate_pct'])}), "
                 f"payé {fmt_eur(b['paid_eur'])} ({fmt_pct(b['payment_rate_pct'])}) — {b['scope']}")
    if b.get("note"):
        lines.append(f"  Remarque : {b['note']}")
    st = ", ".join(f"{STATUS_FR[s]} {n}" for s, n in f["actions_by_status"].items())
    lines.append(f"Actions par météo : {st} — {f['actions_by_status_source']}")
    tk = ", ".join(f"{STATE_FR[s]} {n}" for s, n in f["tasks_by_state"].items()
                   if n or s != "unreported")
    lines.append(f"Tâches du chronogramme : {tk}")
    a, p = f["accompaniments"], f["participations"]
    partial = "" if p.get("complete_year") else f" (année incomplète, jusqu'au {fmt_date(f['as_of'])})"
    hidden = "moins de 5 ou masqué (secret statistique)"
    lines.append(f"Accompagnements {a['year']}{partial} : "
                 + (hidden if a.get("is_suppressed") else fmt_int(a["value"] or 0)))
    if p.get("is_suppressed"):
        lines.append(f"Participations {p['year']} (personnes × séances) : {hidden}")
    else:
        rate = (f", soit {fmt_decimal(p['per_1000'], 1)} pour 1 000 habitants (IC 95 % "
                f"{fmt_decimal(p['ci_lower'], 1)} – {fmt_decimal(p['ci_upper'], 1)} ; population millésime "
                f"{p['population_year']})") if p.get("per_1000") is not None else ""
        lines.append(f"Participations {p['year']} (personnes × séances) : {fmt_int(p['value'] or 0)}{rate}")
    if f.get("is_synthetic"):
        tables = ", ".join(f.get("synthetic_tables") or [])
        lines += ["", f"Attention : données de suivi synthétiques (fictives){' : ' + tables if tables else ''}."]
    return "\n".join(lines)


def cmd_figures(args) -> int:
    """``fne-eval figures``; after « territoire inconnu », says when the bundle has no territories at all."""
    code = _figures(args)
    if code == 1 and args.bundle:
        _hint_empty_reference(args.bundle)
    return code


def _hint_empty_reference(bundle_path) -> None:
    """After « territoire inconnu », say so when the bundle has no territories at all (an empty template)."""
    try:
        territories = load_bundle(bundle_path, validate=False)["territories"]
    except (BundleError, OSError, ValueError, KeyError):
        return
    if len(territories) == 0:
        print(f"Le bundle {bundle_path} n'a aucun territoire (table territories vide) : un bundle ne reprend "
              "pas le référentiel du bundle embarqué. Pour partir de lui : fne-eval bundle init DOSSIER "
              "(voir fne-eval validate " + str(bundle_path) + ").", file=sys.stderr)


def _figures(args) -> int:
    """Run ``fne-eval figures``: print the headline figures; exit 1 on an unknown territory."""
    bundle = load_for_command(args, "figures")
    if bundle is None:
        return 2
    try:
        figures = headline_figures(bundle, getattr(args, "territory", None), getattr(args, "year", None),
                                   as_of=getattr(args, "as_of", None))
    except ValueError as exc:
        print(f"fne-eval figures : {exc}", file=sys.stderr)
        return 1
    print(figures_to_json(figures) if getattr(args, "json", False) else figures_to_text(figures))
    return 0
