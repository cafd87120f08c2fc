"""The ``validate``, ``export`` and ``template`` subcommands.

Exit statuses (DESIGN.md): ``validate`` 0 valid, 1 invalid, 2 unreadable; ``export``
0 written, 1 invalid bundle, 2 unreadable bundle or unwritable output; ``template`` 0
written, 2 bad output path.
"""
from __future__ import annotations

import json
import sys

from fne_eval.bundle.io import BundleError, BundleValidationError


def _unreadable(message: str) -> dict:
    return {"valid": False, "errors": [{"table": None, "row": None, "column": None, "value": None,
                                        "message": message}], "warnings": []}


def cmd_validate(args) -> int:
    """Validate a bundle; print every error as text lines or as JSON."""
    from fne_eval.bundle.validate import format_error, validate_bundle
    from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

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
            print("avertissement : " + format_error(w))
        for e in result.errors:
            print(format_error(e))
        if result.valid:
            n_rows = sum(len(t) for t in result.tables.values())
            rows_fr = f"{n_rows:,}".replace(",", "\u00a0")
            print(f"bundle valide : {source} ({len(result.tables)} tables, {rows_fr} lignes)")
        else:
            print(f"bundle invalide : {source} : {len(result.errors)} erreur(s)", file=sys.stderr)
    return 0 if result.valid else 1


def cmd_export(args) -> int:
    """Write a bundle as a folder of CSV files, or as a workbook when OUT ends in .xlsx."""
    from fne_eval.bundle.io import write_bundle
    from fne_eval.bundle.load import load_bundle

    try:
        bundle = load_bundle(args.bundle)
    except BundleValidationError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except BundleError as exc:
        print(f"bundle illisible : {exc}", file=sys.stderr)
        return 2
    try:
        out = write_bundle(bundle.tables, args.out, bundle.meta)
    except (OSError, ValueError, BundleError) as exc:
        print(f"export impossible vers {args.out} : {exc}", file=sys.stderr)
        return 2
    print(f"bundle exporté : {out}")
    return 0


def cmd_template(args) -> int:
    """Write the empty Excel workbook to fill in."""
    from fne_eval.bundle.template import write_template

    try:
        out = write_template(args.out)
    except (OSError, ValueError) as exc:
        print(f"modèle impossible à écrire vers {args.out} : {exc}", file=sys.stderr)
        return 2
    print(f"modèle écrit : {out}")
    return 0
