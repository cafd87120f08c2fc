"""Dispatch of the ``fne-eval`` subcommands to the module that owns each.

Each ``cmd_<name>(args) -> int`` only turns the library's result into output and an
exit status; imports are late so that ``fne-eval --help`` stays fast.
"""
from __future__ import annotations


def cmd_validate(args) -> int:
    from fne_eval.cli.bundle import cmd_validate as run
    return run(args)


def cmd_export(args) -> int:
    from fne_eval.cli.bundle import cmd_export as run
    return run(args)


def cmd_template(args) -> int:
    from fne_eval.cli.bundle import cmd_template as run
    return run(args)


def cmd_quality(args) -> int:
    from fne_eval.cli.quality import cmd_quality as run
    return run(args)


def cmd_import(args) -> int:
    from fne_eval.ingest.commands import REAL_KINDS, cmd_import_real
    from fne_eval.ingest.opendata import cmd_import as run

    if args.kind in REAL_KINDS:
        return cmd_import_real(args)
    return run(args)


def cmd_bundle(args) -> int:
    from fne_eval.ingest.commands import cmd_bundle as run
    return run(args)


def cmd_figures(args) -> int:
    from fne_eval.cli.figures import cmd_figures as run

    code = run(args)
    if code == 1 and args.bundle:
        _hint_empty_reference(args.bundle)
    return code


def _hint_empty_reference(bundle_path) -> None:
    """After « territoire inconnu », say so when the bundle has no territories at all (an empty template)."""
    import sys

    from fne_eval.bundle.io import BundleError
    from fne_eval.bundle.load import load_bundle

    try:
        territories = load_bundle(bundle_path, validate=False)["territories"]
    except (BundleError, OSError, ValueError, KeyError):
        return
    if len(territories) == 0:
        print(f"Le bundle {bundle_path} n'a aucun territoire (table territories vide) : un bundle ne reprend "
              "pas le référentiel du bundle embarqué. Pour partir de lui : fne-eval bundle init DOSSIER "
              "(voir fne-eval validate " + str(bundle_path) + ").", file=sys.stderr)


def cmd_plan(args) -> int:
    from fne_eval.cli.run import cmd_plan as run
    return run(args)


def cmd_run(args) -> int:
    from fne_eval.cli.run import cmd_run as run
    return run(args)


def cmd_indicators(args) -> int:
    from fne_eval.cli.indicators import cmd_indicators as run
    return run(args)
