"""The ``fne-eval`` command line (contract: DESIGN.md, "The command line").

Each subcommand is a thin wrapper: it parses arguments, calls one function of the
library and turns its result into text or JSON and an exit status.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

import fne_eval
from fne_eval.cli import commands
from fne_eval.cli.french import FrenchArgumentParser, FrenchStderr
from fne_eval.ingest.arguments import REAL_KINDS, add_bundle_parser, add_import_arguments


def _add_bundle_arg(p, positional: bool = False):
    help_ = "bundle : dossier de fichiers CSV/Parquet ou classeur .xlsx (défaut : le bundle embarqué)"
    if positional:
        p.add_argument("bundle", nargs="?", default=None, help=help_)
    else:
        p.add_argument("--bundle", default=None, help=help_)


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up when asked for, not each time the parser is built (~0,3 s)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"fne-eval {fne_eval.__version__}")  # on stdout, as argparse's own version action
        parser.exit()


def build_parser() -> FrenchArgumentParser:
    parser = FrenchArgumentParser(
        prog="fne-eval",
        description="Évaluation de la feuille de route France Numérique Ensemble (Bouches-du-Rhône).",
        epilog="Aide d'une commande : fne-eval COMMANDE --help.",
    )
    parser.add_argument("--version", action=_VersionAction, help="afficher la version et quitter")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE", title="commandes")

    p = _sub(sub, "validate", "valider un bundle ; sortie 0 valide, 1 invalide, 2 illisible")
    _add_bundle_arg(p, positional=True)
    p.add_argument("--json", action="store_true", help="écrire le résultat en JSON")

    p = _sub(sub, "quality", "contrôle qualité des données : résumé par règle, ou la liste des constats",
             epilog="Sans option : une ligne par règle avec le nombre de constats. Les filtres se combinent ; "
                    "--all (ou un filtre) affiche les constats un à un.")
    _add_bundle_arg(p, positional=True)
    p.add_argument("--rule", action="append", default=None, metavar="RÈGLE",
                   help="seulement cette règle (répétable ; voir le résumé pour les noms)")
    p.add_argument("--severity", action="append", default=None, choices=["erreur", "alerte", "info"],
                   help="seulement cette gravité (répétable)")
    p.add_argument("--table", action="append", default=None, metavar="TABLE", help="seulement cette table (répétable)")
    p.add_argument("--territory", action="append", default=None, metavar="CODE",
                   help="seulement les constats dont la clé ou le message citent ce code de territoire (répétable)")
    p.add_argument("--all", action="store_true", help="lister tous les constats retenus, un par ligne")
    p.add_argument("--json", action="store_true", help="écrire les constats retenus en JSON")

    p = _sub(sub, "figures", "chiffres clés d'un territoire")
    _add_bundle_arg(p)
    p.add_argument("--territory", default=None, metavar="CODE", help="code du territoire (défaut : le département)")
    p.add_argument("--year", type=int, default=None, metavar="ANNÉE",
                   help="année évaluée, comme la revue annuelle de cette année (défaut : l'année de la fin des données)")
    p.add_argument("--as-of", dest="as_of", default=None, metavar="DATE",
                   help="date d'arrêté AAAA-MM-JJ (défaut : 31 décembre de l'année, ou la fin des données si avant)")
    p.add_argument("--json", action="store_true", help="écrire les chiffres en JSON")

    p = _sub(sub, "indicators", "exporter tous les indicateurs publiés (Parquet, CSV ou Excel + datapackage.json)")
    _add_bundle_arg(p)
    p.add_argument("out", metavar="SORTIE", help="dossier de sortie")
    p.add_argument("--year", type=int, default=None, metavar="ANNÉE",
                   help="année évaluée (défaut : l'année de la fin des données)")
    p.add_argument("--as-of", dest="as_of", default=None, metavar="DATE", help="date d'arrêté AAAA-MM-JJ")
    p.add_argument("--format", dest="fmt", choices=["parquet", "csv", "xlsx"], default=None,
                   help="format des fichiers (défaut : l'extension de SORTIE, sinon csv)")

    p = _sub(sub, "template", "écrire un classeur Excel vide à remplir (et son datapackage.json)")
    p.add_argument("out", metavar="SORTIE.xlsx", help="chemin du classeur .xlsx à écrire")

    p = _sub(sub, "export", "écrire un bundle en dossier de CSV (avec datapackage.json), ou en classeur si "
                            "SORTIE finit par .xlsx")
    _add_bundle_arg(p)
    p.add_argument("out", metavar="SORTIE", help="dossier ou classeur .xlsx à écrire")

    p = _sub(sub, "import", "importer un fichier réel (données ouvertes, La Coop, Mon Inclusion Numérique)")
    kinds = ["lieux-standard", "lieux-hubdusud-2023", "lieux-aix-2024", "france-services",
             "conseillers-numeriques", *REAL_KINDS]
    p.add_argument("kind", choices=kinds, metavar="TYPE", help="format du fichier : " + ", ".join(kinds))
    p.add_argument("path", nargs="*", metavar="FICHIER", help="fichier(s) à importer")
    p.add_argument("--out", default=None, metavar="SORTIE.csv", help="fichier CSV à écrire")
    add_import_arguments(p)
    add_bundle_parser(sub)

    p = _sub(sub, "plan", "vérifier un plan d'exécution : résumé, ou toutes ses entrées avec --list")
    p.add_argument("plan", metavar="PLAN.yaml", help="plan d'exécution (YAML)")
    _add_bundle_arg(p)
    p.add_argument("--list", action="store_true", help="lister chaque entrée avec ses paramètres")
    p.add_argument("--json", action="store_true", help="écrire les entrées en JSON")

    p = _sub(sub, "run", "exécuter un plan et produire ses rapports")
    p.add_argument("plan", metavar="PLAN.yaml", help="plan d'exécution (YAML)")
    _add_bundle_arg(p)
    p.add_argument("--out", default=None, metavar="DOSSIER", help="dossier de sortie (défaut : outputs/)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="entrées exécutées en parallèle (défaut : nombre de cœurs)")
    p.add_argument("--only", nargs="+", default=None, metavar="ID", help="n'exécuter que ces entrées")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="exécuter au plus N entrées")
    p.add_argument("--to", default="html,pdf", metavar="FORMATS",
                   help="formats : html, pdf, docx, ou une liste comme html,pdf,docx (défaut : html,pdf)")
    p.add_argument("--renderer", choices=["auto", "weasyprint", "chromium", "quarto"], default="auto",
                   help="moteur PDF (auto : Quarto si son exécutable est dans le PATH, sinon WeasyPrint ; "
                        "chromium : un Chromium sans interface gardé ouvert par chaque processus, "
                        "plus rapide par rapport mais avec d'autres sauts de page)")
    p.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="où s'exécutent les entrées (défaut : local)")
    p.add_argument("--scheduler", default=None, metavar="ADRESSE",
                   help="adresse de l'ordonnanceur Dask (défaut : une grappe locale)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDES",
                   help="durée maximale d'une entrée, en secondes")
    p.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    return parser


def _sub(sub, name: str, help_: str, **kwargs):
    """Add subcommand ``name``: its one-line ``help_`` is also its description under ``--help``."""
    return sub.add_parser(name, help=help_, description=help_[:1].upper() + help_[1:] + ".", **kwargs)


#: Environment variable naming a file for the library's developer log (English), off by default.
LOG_ENV = "FNE_EVAL_LOG"


def configure_developer_log() -> None:
    """Keep the library's English log lines and Python warnings off the terminal.

    The library logs for developers, in English (``fne_eval.*`` loggers: rows left out of a
    join, estimates not computable...); without a handler Python prints WARNING records
    on standard error, where a French user read them. They go to the file named by
    ``$FNE_EVAL_LOG`` when set, else nowhere; ``fne-eval run`` keeps its workers' and
    kernels' standard error under ``<run>/logs/``. What the user must know is said in
    French by each command.
    """
    target = os.environ.get(LOG_ENV, "").strip()
    handler = logging.FileHandler(target, encoding="utf-8") if target else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("fne_eval", "py.warnings"):
        logger = logging.getLogger(name)
        if not any(getattr(h, "_fne_eval_cli", False) for h in logger.handlers):
            handler._fne_eval_cli = True
            logger.addHandler(handler)  # a handler on the way up: Python's last-resort printer stays silent
        if target:
            logger.setLevel(logging.INFO)


class _warnings_to_developer_log:
    """For the command's duration, Python warnings (English, for developers) go to the developer log."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()  # restores warnings.showwarning on exit: no state leaks
        self._ctx.__enter__()

        def show(message, category, filename, lineno, file=None, line=None):
            logging.getLogger("py.warnings").warning(
                "%s", warnings.formatwarning(message, category, filename, lineno, line).rstrip())

        warnings.showwarning = show
        return self

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_developer_log()

    handler = getattr(commands, "cmd_" + args.command)
    stderr = sys.stderr
    sys.stderr = FrenchStderr(stderr)
    try:
        with _warnings_to_developer_log():
            return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("fne-eval : interrompu", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `fne-eval figures --json | head`): no traceback;
        # point stdout at devnull so the interpreter's final flush does not fail again

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        sys.stderr = stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
