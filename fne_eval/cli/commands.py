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
    from fne_eval.evaluate.quality import cmd_quality as run
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
    return run(args)


def cmd_plan(args) -> int:
    from fne_eval.cli.run import cmd_plan as run
    return run(args)


def cmd_run(args) -> int:
    from fne_eval.cli.run import cmd_run as run
    return run(args)


def cmd_indicators(args) -> int:
    from fne_eval.cli.indicators import cmd_indicators as run
    return run(args)
