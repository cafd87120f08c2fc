"""The ``fne-eval`` command line (contract: DESIGN.md, "The command line").

Each subcommand is a thin wrapper: it parses arguments, calls one function of the
library and turns its result into text or JSON and an exit status.
"""
from __future__ import annotations

import argparse
import sys

from fne_eval import __version__


def _add_bundle_arg(p, positional: bool = False):
    help_ = "bundle: folder of CSV/Parquet files or an .xlsx workbook (default: the embedded bundle)"
    if positional:
        p.add_argument("bundle", nargs="?", default=None, help=help_)
    else:
        p.add_argument("--bundle", default=None, help=help_)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fne-eval",
        description="Évaluation de la feuille de route France Numérique Ensemble (Bouches-du-Rhône).",
    )
    parser.add_argument("--version", action="version", version=f"fne-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate a bundle; exit 0 valid, 1 invalid, 2 unreadable")
    _add_bundle_arg(p, positional=True)
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = sub.add_parser("quality", help="list data-quality findings")
    _add_bundle_arg(p, positional=True)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")

    p = sub.add_parser("figures", help="headline figures of a territory")
    _add_bundle_arg(p)
    p.add_argument("--territory", default=None, help="territory code (default: the département)")
    p.add_argument("--year", type=int, default=None,
                   help="année évaluée, comme la revue annuelle de cette année (défaut : l'année de la fin des données)")
    p.add_argument("--as-of", dest="as_of", default=None,
                   help="date d'arrêté AAAA-MM-JJ (défaut : 31 décembre de l'année, ou la fin des données si avant)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    p = sub.add_parser("indicators", help="exporter tous les indicateurs publiés (Parquet, CSV ou Excel + datapackage.json)")
    _add_bundle_arg(p)
    p.add_argument("out", help="dossier de sortie")
    p.add_argument("--year", type=int, default=None, help="année évaluée (défaut : l'année de la fin des données)")
    p.add_argument("--as-of", dest="as_of", default=None, help="date d'arrêté AAAA-MM-JJ")
    p.add_argument("--format", dest="fmt", choices=["parquet", "csv", "xlsx"], default=None,
                   help="format des fichiers (défaut : l'extension de OUT, sinon csv)")

    p = sub.add_parser("template", help="write an empty Excel workbook to fill in")
    p.add_argument("out", help="output .xlsx path")

    p = sub.add_parser("export", help="write a bundle as a folder of CSV, or a workbook if OUT ends in .xlsx")
    _add_bundle_arg(p)
    p.add_argument("out", help="output folder or .xlsx path")

    from fne_eval.ingest.commands import REAL_KINDS, add_bundle_parser, add_import_arguments

    p = sub.add_parser("import", help="import a real file (open data, La Coop, Mon Inclusion Numérique)")
    p.add_argument("kind", choices=["lieux-standard", "lieux-hubdusud-2023", "lieux-aix-2024",
                                    "france-services", "conseillers-numeriques", *REAL_KINDS],
                   help="format of the file")
    p.add_argument("path", nargs="*", help="file(s) to import")
    p.add_argument("--out", default=None, help="output CSV path")
    add_import_arguments(p)
    add_bundle_parser(sub)

    p = sub.add_parser("plan", help="list the entries of a run plan")
    p.add_argument("plan", help="run plan (YAML)")
    _add_bundle_arg(p)
    p.add_argument("--list", action="store_true", help="list every entry with its parameters")
    p.add_argument("--json", action="store_true", help="print the entries as JSON")

    p = sub.add_parser("run", help="execute a run plan and render its reports")
    p.add_argument("plan", help="run plan (YAML)")
    _add_bundle_arg(p)
    p.add_argument("--out", default=None, help="output folder (default: outputs/)")
    p.add_argument("--jobs", type=int, default=None, help="parallel entries (default: number of cores)")
    p.add_argument("--only", nargs="+", default=None, metavar="ID", help="run only these entry ids")
    p.add_argument("--limit", type=int, default=None, help="run at most this many entries")
    p.add_argument("--to", default="html,pdf", help="formats: html, pdf, docx, or a list such as html,pdf,docx")
    p.add_argument("--renderer", choices=["auto", "weasyprint", "chromium", "quarto"], default="auto",
                   help="PDF renderer (auto: Quarto when its binary is on PATH, else WeasyPrint; "
                        "chromium: a headless Chromium kept running by each worker)")
    p.add_argument("--executor", choices=["local", "dask"], default="local", help="where entries run")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")
    p.add_argument("--timeout", type=float, default=None, help="per-entry timeout in seconds")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from fne_eval.cli import commands  # imported late: keeps `--help` fast

    handler = getattr(commands, "cmd_" + args.command)
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("fne-eval: interrompu", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `fne-eval figures --json | head`): no traceback;
        # point stdout at devnull so the interpreter's final flush does not fail again
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
