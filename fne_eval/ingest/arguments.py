"""Arguments of ``fne-eval import`` (real-data kinds) and ``fne-eval bundle init``.

Kept apart from :mod:`fne_eval.ingest.commands` so that building the command line (and
``fne-eval --help``) does not import the bundle reader, pandas or pandera (~1,5 s): the
commands themselves are loaded when they run (:mod:`fne_eval.cli.commands`).
"""
from __future__ import annotations

REAL_KINDS = ("coop-activites", "coop-api", "min-lieux", "min-subventions")


def add_import_arguments(p) -> None:
    """Add the options of the real-data imports to the ``import`` subparser."""
    p.add_argument("--into", default=None, metavar="BUNDLE",
                   help="dossier de bundle où écrire (voir « fne-eval bundle init »), au lieu de --out")
    p.add_argument("--mode", choices=["replace", "append"], default=None,
                   help="avec --into : remplacer les tables, ou ajouter les lignes par clé (défaut : replace ; "
                        "append pour coop-api avec --since)")
    p.add_argument("--departement", default="13", metavar="CODE", help="département (coop-api, min-subventions ; défaut 13)")
    p.add_argument("--since", default=None, metavar="DATE", help="coop-api : activités datées à partir de DATE (AAAA-MM-JJ)")
    p.add_argument("--api-url", default=None, metavar="URL", help="coop-api : racine de l'API (défaut : l'API de production de La Coop)")
    p.add_argument("--date", default=None, metavar="DATE",
                   help="min-lieux : date_maj des lieux ; min-subventions : date des engagements (AAAA-MM-JJ)")


def add_bundle_parser(sub) -> None:
    """Add ``fne-eval bundle init OUT``."""
    p = sub.add_parser("bundle", help="créer un bundle pour les données réelles",
                       description="Créer un bundle pour les données réelles.")
    bsub = p.add_subparsers(dest="bundle_command", required=True, metavar="SOUS-COMMANDE", title="sous-commandes")
    help_ = "écrire un dossier de bundle : référentiel et feuille de route, tables de suivi vides"
    q = bsub.add_parser("init", help=help_, description=help_[:1].upper() + help_[1:] + ".",
                        epilog="Ensuite : fne-eval import coop-activites EXPORT.xlsx --into DOSSIER, "
                               "puis fne-eval validate DOSSIER.")
    q.add_argument("out", metavar="DOSSIER", help="dossier du bundle à créer")
    q.add_argument("--force", action="store_true", help="remplacer le bundle déjà présent dans DOSSIER")
