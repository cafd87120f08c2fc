"""Dispatch of the ``fne-eval`` subcommands to the module that owns each.

An explicit registry, one short function per command (papermill's ``engines.py`` style): each
imports its command module when that command runs, so that parsing the command line and
``--help`` do not load the bundle reader, the store or the runner. These are the package's
only imports of its own modules inside functions, each marked ``# lazy:``.
"""
from __future__ import annotations


def cmd_validate(args) -> int:
    from fne_eval.cli.bundle import cmd_validate as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_export(args) -> int:
    from fne_eval.cli.bundle import cmd_export as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_template(args) -> int:
    from fne_eval.cli.bundle import cmd_template as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_quality(args) -> int:
    from fne_eval.cli.quality import cmd_quality as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_import(args) -> int:
    from fne_eval.ingest.commands import REAL_KINDS, cmd_import_real  # lazy: command registry, loaded when it runs
    from fne_eval.ingest.opendata import cmd_import as run  # lazy: command registry, loaded when it runs

    if args.kind in REAL_KINDS:
        return cmd_import_real(args)
    return run(args)


def cmd_bundle(args) -> int:
    from fne_eval.ingest.commands import cmd_bundle as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_figures(args) -> int:
    from fne_eval.cli.figures import cmd_figures as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_plan(args) -> int:
    from fne_eval.cli.plan import cmd_plan as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_run(args) -> int:
    from fne_eval.cli.run import cmd_run as run  # lazy: command registry, loaded when it runs
    return run(args)


def cmd_indicators(args) -> int:
    from fne_eval.cli.indicators import cmd_indicators as run  # lazy: command registry, loaded when it runs
    return run(args)
