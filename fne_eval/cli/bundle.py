"""The ``validate``, ``export`` and ``template`` subcommands.

Exit statuses (DESIGN.md): ``validate`` 0 valid, 1 invalid, 2 unreadable; ``export``
0 written, 1 invalid bundle, 2 unreadable bundle or unwritable output; ``template`` 0
written, 2 bad output path.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from fne_eval.bundle.datapackage import DATAPACKAGE_FILE, workbook_descriptor_path, write_workbook_descriptor
from fne_eval.bundle.io import BundleError, BundleValidationError, write_bundle
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.template import write_template
from fne_eval.bundle.validate import format_error, validate_bundle
from fne_eval.cli.french import os_error_fr
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR


def load_for_command(args, command: str):
    """Return the bundle of ``--bundle`` (the embedded one when absent), or None after saying in French why not."""
    try:
        return load_bundle(getattr(args, "bundle", None) or None)
    except (BundleError, OSError, ValueError) as exc:
        print(f"fne-eval {command} : bundle illisible : {exc}", file=sys.stderr)
        return None


def _french(error: dict, fallback) -> str:
    """The French line of a validation error (« fichier, ligne N, colonne « C », valeur « V » : attendu »)."""
    return error.get("message") or fallback(error)


def _unreadable(message: str) -> dict:
    return {"valid": False, "errors": [{"table": None, "row": None, "column": None, "value": None,
                                        "message": message}], "warnings": []}


#: Tables a report cannot do without, and what they give it (in the order a bundle is filled).
REPORT_NEEDS = {
    "territories": "le référentiel territorial : tout rapport (département, EPCI, communes)",
    "populations": "les populations INSEE : taux par habitant, rapports d'impact",
    "ifn": "l'indice de fragilité numérique : contexte des rapports d'impact",
    "axes": "les axes de la feuille de route : rapports par axe, revue annuelle",
    "actions": "les actions : budget, météo, revue annuelle",
    "budget_lines": "les lignes budgétaires : suivi budgétaire",
    "lieux": "les lieux de médiation : offre (rapports d'impact)",
    "activities": "les accompagnements (La Coop) : activité et impact",
}


def missing_for_reports(tables: dict) -> list:
    """Return the tables of :data:`REPORT_NEEDS` that are absent or empty in ``tables``."""
    return [name for name in REPORT_NEEDS if name not in tables or len(tables[name]) == 0]


def needs_lines(missing: list, source: str) -> list:
    """French lines saying which empty tables the reports need and how to fill them."""
    if not missing:
        return []
    lines = ["Tables vides dont les rapports ont besoin :"]
    lines += [f"  - {name} : {REPORT_NEEDS[name]}" for name in missing]
    reference = [m for m in missing if m in ("territories", "populations", "ifn", "axes", "actions", "budget_lines")]
    if reference:
        lines.append("Le référentiel (territoires, populations, IFN) et la feuille de route ne sont pas repris "
                     "du bundle embarqué : un bundle se suffit à lui-même. Pour partir d'eux, créer le bundle "
                     "avec « fne-eval bundle init DOSSIER » (tables de suivi vides), puis y importer les données "
                     "(« fne-eval import … --into DOSSIER »), ou l'exporter en classeur à remplir à la main "
                     "(« fne-eval export --bundle DOSSIER remplir.xlsx », puis « fne-eval validate remplir.xlsx »).")
    else:
        lines.append("Les importer : fne-eval import coop-activites EXPORT.xlsx --into " + str(source)
                     + " ; fne-eval import min-lieux LIEUX.csv --into " + str(source) + ".")
    return lines


def cmd_validate(args) -> int:
    """Validate a bundle; print every error as text lines or as JSON."""
    as_json = getattr(args, "json", False)
    source = args.bundle if args.bundle is not None else str(DEFAULT_BUNDLE_DIR)
    try:
        result = validate_bundle(args.bundle)
    except BundleError as exc:
        if as_json:
            print(json.dumps(_unreadable(str(exc)), ensure_ascii=False, indent=2))
        else:
            print(f"bundle illisible : {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        for w in result.warnings:
            print("avertissement : " + _french(w, format_error))
        for e in result.errors:
            print(_french(e, format_error))
        if result.valid:
            n_rows = sum(len(t) for t in result.tables.values())
            rows_fr = f"{n_rows:,}".replace(",", "\u00a0")
            missing = missing_for_reports(result.tables)
            if n_rows == 0:
                print(f"bundle valide mais vide : {source} ({len(result.tables)} tables, 0 ligne)")
            else:
                print(f"bundle valide : {source} ({len(result.tables)} tables, {rows_fr} lignes)")
            for line in needs_lines(missing, source):
                print(line)
        else:
            print(f"bundle invalide : {source} : {len(result.errors)} erreur(s)", file=sys.stderr)
    return 0 if result.valid else 1


def cmd_export(args) -> int:
    """Write a bundle as a folder of CSV files, or as a workbook when OUT ends in .xlsx."""
    try:
        bundle = load_bundle(args.bundle)
    except BundleValidationError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except BundleError as exc:
        print(f"bundle illisible : {exc}", file=sys.stderr)
        return 2
    try:
        out = write_bundle(bundle.tables, args.out, bundle.meta, datapackage=True)
    except (OSError, ValueError, BundleError) as exc:
        print(f"export impossible vers {args.out} : {os_error_fr(exc)}", file=sys.stderr)
        return 2

    descriptor = workbook_descriptor_path(out) if Path(out).suffix.lower() == ".xlsx" else Path(out) / DATAPACKAGE_FILE
    print(f"bundle exporté : {out} (schéma des tables : {descriptor.name})")
    return 0


def cmd_template(args) -> int:
    """Write the empty Excel workbook to fill in."""
    try:
        out = write_template(args.out)
        descriptor = write_workbook_descriptor(out, {"name": "bundle saisi à partir du modèle fne-eval"})
    except (OSError, ValueError) as exc:
        print(f"modèle impossible à écrire vers {args.out} : {os_error_fr(exc)}", file=sys.stderr)
        return 2
    print(f"modèle écrit : {out} (schéma des tables : {descriptor.name})")
    return 0
