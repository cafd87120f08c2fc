"""``fne-eval indicators OUT``: every published figure of the store, as open data.

Writes, in a new folder ``OUT`` (``OUT.xlsx``, ``OUT.parquet`` or ``OUT.csv`` name the format
and the folder ``OUT``): ``indicateurs.<csv|parquet|xlsx>`` (one row per indicator ×
territory × period × breakdown, the value empty where the pack hides it), ``registre.<ext>``
(the definition of every indicator) and ``datapackage.json`` (Frictionless Data Package with a
Table Schema per file). The folder is written next to ``OUT`` and renamed at the end: a failed
export leaves nothing, and an existing ``OUT`` is never overwritten.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from fne_eval.cli.bundle import load_for_command
from fne_eval.store import as_of_for, get_store, registry_frame

#: Column descriptions of the exported store (French, for readers of the open data).
STORE_FIELDS = {
    "indicator": ("string", "identifiant de l'indicateur (voir registre)"),
    "level": ("string", "niveau territorial : departement, epci, commune, arrondissement"),
    "territory_code": ("string", "code du territoire (département, SIREN d'EPCI, code INSEE)"),
    "period": ("string", "période : année AAAA ou mois AAAA-MM"),
    "breakdown": ("string", "ventilation « dimension=valeur », vide pour le total"),
    "value": ("number", "valeur ; vide quand elle est masquée (secret statistique)"),
    "numerator": ("number", "numérateur d'un taux ; vide quand masqué"),
    "denominator": ("number", "dénominateur d'un taux"),
    "ci_lower": ("number", "borne basse de l'intervalle de confiance à 95 %"),
    "ci_upper": ("number", "borne haute de l'intervalle de confiance à 95 %"),
    "unit": ("string", "unité"),
    "status": ("string", "shown (publié), primary (moins que le seuil), secondary (masqué pour protéger "
                         "un autre chiffre), not_applicable (pas de valeur)"),
    "source": ("string", "source"),
    "vintage": ("string", "millésime ou date des données"),
    "synthetic": ("boolean", "vrai si la valeur repose sur des données synthétiques"),
    "inferred": ("boolean", "vrai si la valeur repose sur une donnée déduite par l'outil"),
}


def published_frame(store: pd.DataFrame) -> pd.DataFrame:
    """Return the store as published: hidden cells keep their row and status, not their value."""
    out = store.copy()
    hidden = out["status"].isin(["primary", "secondary"])
    for col in ("value", "numerator", "ci_lower", "ci_upper"):
        out.loc[hidden, col] = float("nan")
    return out


def _schema(frame: pd.DataFrame, fields: dict) -> dict:
    return {"fields": [{"name": c, "type": fields.get(c, ("string", ""))[0],
                        "description": fields.get(c, ("string", ""))[1]} for c in frame.columns]}


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def export_indicators(store: pd.DataFrame, registry: pd.DataFrame, out: Path, fmt: str = "csv",
                      meta: dict = None) -> Path:
    """Write the published store, its registry and ``datapackage.json`` into the new folder ``out``."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} existe déjà : choisissez un dossier nouveau (rien n'a été écrit)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"le dossier parent {parent} n'existe pas (rien n'a été écrit)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        data = published_frame(store)
        names = {"indicateurs": data, "registre": registry}
        resources = []
        for name, frame in names.items():
            fname = f"{name}.{fmt}"
            _write(frame, tmp / fname, fmt)
            res = {"name": name, "path": fname, "format": fmt,
                   "schema": _schema(frame, STORE_FIELDS if name == "indicateurs" else {})}
            if fmt == "csv":
                res.update(mediatype="text/csv", encoding="utf-8")
            resources.append(res)
        package = {"name": "fne-eval-indicateurs", "title": "Indicateurs de la feuille de route France Numérique "
                   "Ensemble", "resources": resources, **({"fne_eval": meta} if meta else {})}
        (tmp / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def cmd_indicators(args) -> int:
    """Run ``fne-eval indicators OUT``."""
    bundle = load_for_command(args, "indicators")
    if bundle is None:
        return 2
    try:
        as_of = as_of_for(bundle, getattr(args, "year", None), getattr(args, "as_of", None))
        store = get_store(bundle, as_of)
        roadmap = bundle["indicators"]
        extra = pd.DataFrame({"indicator": "roadmap." + roadmap["indicator_code"].astype(str),
                              "label": roadmap["label"].astype(str) if "label" in roadmap else "",
                              "unit": roadmap["unit"].astype(str),
                              "source": "catalogue des indicateurs de la feuille de route"})
        out_path, fmt = Path(args.out), getattr(args, "fmt", None)
        if out_path.suffix.lower() in (".csv", ".parquet", ".xlsx"):  # the extension names the format
            fmt, out_path = out_path.suffix.lower()[1:], out_path.with_suffix("")
        out = export_indicators(store, registry_frame(extra), out_path, fmt or "csv",
                                meta={"bundle": bundle.source, "bundle_hash": bundle.hash,
                                      "as_of": str(as_of.date())})
    except (OSError, ValueError) as exc:
        print(f"fne-eval indicators : {exc}", file=sys.stderr)
        return 1
    n_hidden = int(store["status"].isin(["primary", "secondary"]).sum())
    print(f"{len(store)} chiffres au {as_of.strftime('%d/%m/%Y')} écrits dans {out} "
          f"({n_hidden} masqués par le secret statistique, valeur vide)")
    return 0
