"""Recognise what kind of file ``fne-eval import`` was given, from its header alone.

``fne-eval import KIND PATH`` used to read any CSV as ``KIND``: a France Services list read
as ``lieux-standard`` gave a header-only output and exit 1, never saying what the file was.
:func:`sniff` reads the header (first line of a CSV; the first rows of each sheet of a
workbook, where La Coop's export puts its table below a few lines of filters) and scores
every known kind by the columns that characterise it; :func:`check_kind` turns a mismatch
into a French message saying what the file looks like and which command reads it.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from fne_eval.ingest.common import IngestError, norm_label

#: Columns that characterise each kind (compared with :func:`norm_label`), and its French name.
SIGNATURES = {
    "lieux-standard": (("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj"),
                       "lieux de médiation numérique au standard national v1"),
    "lieux-hubdusud-2023": (("id", "nom", "commune", "code_postal", "adresse", "services", "labels_nationaux",
                             "publics_accueillis", "publics_specifiquement_adresses", "date_maj"),
                            "liste des lieux du Hub du Sud 2023 (format d'avant le standard v1)"),
    "lieux-aix-2024": (("id", "nom", "commune", "code_postal", "adresse", "typologie", "labels_nationaux",
                        "labels_autres", "cle_ban", "date_maj"),
                       "lieux du Pays d'Aix 2024 (format d'entrée de la cartographie nationale)"),
    "france-services": (("id_fs", "lib_fs", "insee_com", "code_postal"), "liste des France Services (ANCT)"),
    "conseillers-numeriques": (("structure", "siret", "nb de conseillers attribués", "code commune insee"),
                               "structures des conseillers numériques"),
    "coop-activites": (("date", "id cra", "durée", "thématique(s) d'accompagnement"),
                       "export « Mes activités » de La Coop de la médiation numérique"),
    "min-lieux": (("id", "nom", "adresse", "code insee"),
                  "export « Lieux d'inclusion » de Mon Inclusion Numérique"),
    "min-subventions": (("demande_subvention_id", "statut", "action_id", "nom_action", "montant_subvention"),
                        "demandes de subvention FNE de Mon Inclusion Numérique"),
}
#: Alternative labels of La Coop's older layouts.
_ALIASES = {"durée (min)": "durée", "thématiques d'accompagnement": "thématique(s) d'accompagnement",
            "thématiques": "thématique(s) d'accompagnement"}
#: Kinds read from an Excel workbook; the others are CSV.
XLSX_KINDS = {"coop-activites"}


@dataclass
class Sniffed:
    """What a file looks like: its format, header and the kinds it matches (best first)."""

    path: Path
    fmt: str  # "csv", "xlsx" or "autre"
    columns: list = field(default_factory=list)
    kinds: list = field(default_factory=list)
    where: str = ""  # « ligne 1 » or « feuille X, ligne N »

    def describe(self) -> str:
        """French description: « CSV, 27 colonnes en ligne 1 (id_fs, insee_dep, lib_fs, …) »."""
        if self.fmt == "autre":
            return "ni un CSV ni un classeur Excel lisible"
        shown = ", ".join(self.columns[:6]) + (", …" if len(self.columns) > 6 else "")
        what = "CSV" if self.fmt == "csv" else "classeur Excel"
        if not self.columns:
            return f"{what} sans ligne d'en-tête reconnaissable"
        return f"{what}, {len(self.columns)} colonnes en {self.where} ({shown})"


def _norm(label) -> str:
    n = norm_label(label)
    return _ALIASES.get(n, n)


def _score(columns: list) -> list:
    have = {_norm(c) for c in columns if c is not None}
    full = []
    for kind, (sig, _) in SIGNATURES.items():
        if all(_norm(c) in have for c in sig):
            full.append((len(sig), kind))
    # the most specific signature first (lieux-hubdusud-2023 before lieux-standard)
    return [k for _, k in sorted(full, key=lambda t: -t[0])]


def _csv_header(raw: bytes) -> Optional[list]:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    if "\x00" in text[:4096]:
        return None
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        return None
    seps = {sep: first.count(sep) for sep in (",", ";", "\t")}
    sep = max(seps, key=lambda s: (seps[s], s == ","))
    try:
        return [c.strip() for c in next(csv.reader(io.StringIO(first), delimiter=sep))]
    except (csv.Error, StopIteration):
        return None


def sniff(path: Union[str, Path]) -> Sniffed:
    """Read the header of ``path`` and return what it looks like (raises IngestError if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path} : fichier introuvable")
    head = path.read_bytes()[:1 << 16] if path.stat().st_size < (1 << 16) else _read_head(path)
    if zipfile.is_zipfile(path):
        return _sniff_xlsx(path)
    cols = _csv_header(head)
    if cols is None or len(cols) < 2:
        return Sniffed(path, "autre")
    return Sniffed(path, "csv", cols, _score(cols), "ligne 1")


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(1 << 16)


def _sniff_xlsx(path: Path) -> Sniffed:
    try:
        from openpyxl import load_workbook  # lazy: openpyxl (~0.7 s), Excel files only

        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a zip that is not a workbook: said as « autre »
        return Sniffed(path, "autre")
    best = None
    try:
        for ws in wb.worksheets:
            for i, row in enumerate(ws.iter_rows(max_row=30, values_only=True), start=1):
                cols = [str(v).strip() for v in row if v is not None and str(v).strip()]
                if len(cols) < 2:
                    continue
                kinds = _score(cols)
                cand = Sniffed(path, "xlsx", cols, kinds, f"feuille « {ws.title} », ligne {i}")
                if kinds:
                    return cand
                if best is None or len(cols) > len(best.columns):
                    best = cand
    finally:
        wb.close()
    return best or Sniffed(path, "xlsx")


def check_kind(kind: str, path: Union[str, Path], strict: bool = True) -> Sniffed:
    """Return the sniffed file when it can be read as ``kind``; else raise IngestError saying what it looks like.

    ``strict=False`` (La Coop and Mon Inclusion Numérique, whose readers explain a bad header
    column by column) refuses only a file recognised as another kind.
    """
    s = sniff(path)
    if kind in s.kinds or (not strict and not s.kinds):
        return s
    name = Path(path).name
    sig, label = SIGNATURES[kind]
    have = {_norm(c) for c in s.columns}
    missing = [c for c in sig if _norm(c) not in have]
    want = "un classeur Excel .xlsx" if kind in XLSX_KINDS else "un fichier CSV"
    msg = (f"{name} ne ressemble pas à un fichier « {kind} » ({label} : {want} avec les colonnes "
           f"{', '.join(sig)})")
    if s.columns and missing:
        msg += f" ; colonnes absentes : {', '.join(missing)}"
    msg += f". Ce fichier : {s.describe()}" if s.fmt != "autre" else f". Ce fichier n'est {s.describe()}"
    if s.kinds:
        other = s.kinds[0]
        msg += (f" : il ressemble à « {other} » ({SIGNATURES[other][1]}) ; l'importer avec "
                f"« fne-eval import {other} {name} … »")
    else:
        msg += " : il ne ressemble à aucun format connu"
    return _raise(msg + ". Rien n'a été écrit.")


def _raise(msg: str):
    raise IngestError(msg)
