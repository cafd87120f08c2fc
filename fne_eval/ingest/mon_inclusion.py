"""Read Mon Inclusion Numérique's exports: lieux d'inclusion, and FNE grant requests.

- :func:`read_min_lieux`: the CSV « Lieux d'inclusion numérique »
  (``lieux-inclusion-YYYY-MM-DDTHH-MM-SS.csv``, COOP-MIN-FORMATS §3.1) → ``lieux``;
- :func:`read_min_subventions`: the CSV of FNE grant requests
  (``demande_subvention_id;statut;action_id;nom_action;feuille_route_id;nom_feuille_route;
  code_departement;montant_subvention``) → ``budget_transactions`` commitments, for the
  accepted requests that match an action of the roadmap (rule in the function's notes;
  every row not imported is reported with its reason).
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.core.communes import resolve_commune
from fne_eval.ingest.common import IngestError, IngestReport, departement_of, sha256_file
from fne_eval.ingest.coop import territory_codes
from fne_eval.core.fmt import fmt_eur
from fne_eval.ingest.opendata import parse_french_amount, read_text_csv

MIN_LIEUX_COLUMNS = ("ID", "Nom", "Adresse", "Code INSEE")
SUBVENTION_COLUMNS = ("demande_subvention_id", "statut", "action_id", "nom_action", "feuille_route_id",
                      "nom_feuille_route", "code_departement", "montant_subvention")
#: Status of a request that is a commitment (MIN's report counts only these, §3.4).
ACCEPTED = "acceptee"
_ADDRESS_RE = re.compile(r"^(.*?)[\s,]*\b(\d{5})\s+(\D.*?)\s*$")
_FILE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T\d{2}-\d{2}-\d{2})?")


def _read_csv(path: Path, report: IngestReport) -> pd.DataFrame:
    if not path.exists():
        raise IngestError(f"{path.name} : fichier introuvable ({path})")
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name} : fichier vide (0 octet)")
    try:
        df, enc, sep = read_text_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise IngestError(f"{path.name} : pas un fichier CSV lisible ({exc})") from exc
    report.sources.append({"name": path.name, "sha256": sha256_file(path), "encoding": enc, "separator": sep,
                           "rows": len(df)})
    return df


def _file_date(path: Path, given: Optional[str], report: IngestReport, what: str) -> str:
    """Return the date to use for rows that carry none: given, else in the file name, else the file's date."""
    if given:
        try:
            return _dt.date.fromisoformat(given).isoformat()
        except ValueError as exc:
            raise IngestError(f"date {given!r} : AAAA-MM-JJ attendue") from exc
    m = _FILE_DATE_RE.search(path.name)
    if m:
        try:
            d = _dt.date.fromisoformat(m.group(1)).isoformat()
            report.notes.append(f"{what} : {d}, date d'export lue dans le nom du fichier.")
            return d
        except ValueError:
            pass
    d = _dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    report.notes.append(f"{what} : {d}, date de modification du fichier (ni date donnée, ni date dans son nom).")
    return d


# --------------------------------------------------------------------------- lieux
def split_address(text: str) -> tuple:
    """Return ``(street, postcode, commune)`` of a MIN address ``<voie> <CP> <commune>``.

    >>> split_address("12 rue de la République 13001 Marseille")
    ('12 rue de la République', '13001', 'Marseille')
    """
    s = " ".join(str(text or "").split())
    m = _ADDRESS_RE.match(s)
    if not m:
        return s, "", ""
    return m.group(1).strip(), m.group(2), m.group(3).strip()


def read_min_lieux(path: Union[str, Path], territories=None, date_maj: Optional[str] = None) -> tuple:
    """Read MIN's « Lieux d'inclusion numérique » CSV into a ``lieux`` table.

    ``id`` = ``min-`` + MIN's id (an integer of MIN's database, not the cartographie's
    uuid); ``nom``; the address is split into street, postcode and commune;
    ``territory_code`` comes from ``Code INSEE`` (checked against the name); ``pivot`` from
    ``SIRET`` in files before 2026-07-15. The file has no update date per place:
    ``date_maj`` is ``date_maj`` if given, else the export date in the file name, else the
    file's date (said in the report). ``Type de structure`` is a French label that the
    ``typologie`` codes cannot be rebuilt from (MIN maps several codes to one label): its
    values are counted in the report, not imported. Places outside the bundle's
    territories are counted per département and left out.

    Returns
    -------
    tuple
        ``(lieux, report)``.
    """
    path = Path(path)
    report = IngestReport(kind="min-lieux")
    df = _read_csv(path, report)
    missing = [c for c in MIN_LIEUX_COLUMNS if c not in df.columns]
    if missing:
        raise IngestError(f"{path.name}, ligne 1 (en-tête) : colonne(s) absente(s) : {', '.join(missing)} ; "
                          "l'export CSV « Lieux d'inclusion » de Mon Inclusion Numérique est attendu")
    day = _file_date(path, date_maj, report, "date_maj des lieux")
    codes = territory_codes(territories)
    rows, outside, types = [], Counter(), Counter()
    for i, r in enumerate(df.to_dict("records"), start=2):
        g = lambda c, r=r: str(r.get(c, "") or "").strip()  # noqa: E731
        street, cp, commune = split_address(g("Adresse"))
        res = resolve_commune(cp, commune, g("Code INSEE"))
        code = res.territory_code or g("Code INSEE")
        if code not in codes:
            outside[departement_of(code or cp)] += 1
            continue
        if not g("ID") or not g("Nom") or not cp:
            col = "ID" if not g("ID") else ("Nom" if not g("Nom") else "Adresse")
            report.error(path.name, "identifiant, nom et code postal dans l'adresse attendus : lieu écarté",
                         row=i, column=col, value=g(col))
            continue
        if g("Type de structure"):
            types[g("Type de structure")] += 1
        siret = g("SIRET")
        rows.append({"id": f"min-{g('ID')}", "pivot": siret if re.fullmatch(r"\d{14}", siret) else None,
                     "nom": g("Nom"), "commune": commune, "code_postal": cp,
                     "code_insee": g("Code INSEE") if re.fullmatch(r"\d{5}|2[AB]\d{3}", g("Code INSEE")) else None,
                     "territory_code": code, "adresse": street or None,
                     "source": "Mon Inclusion Numérique", "date_maj": day})
    lieux = coerce_table(pd.DataFrame(rows, columns=TABLES["lieux"].column_names), TABLES["lieux"])
    report.count("Lieux lus", len(df))
    report.count("Lieux hors des territoires du bundle (écartés)", sum(outside.values()))
    for dep, n in sorted(outside.items()):
        report.count(f"  dont département {dep or 'inconnu'}", n)
    report.count("Lieux retenus", len(lieux))
    if types:
        report.notes.append("« Type de structure » (libellé, non converti en codes typologie) : " + ", ".join(
            f"{t} ({n})" for t, n in types.most_common()) + ".")
    return lieux, report


# --------------------------------------------------------------------------- grant requests
def _norm_title(s) -> str:
    s = unicodedata.normalize("NFKD", str(s or "")).encode("ascii", "ignore").decode().casefold()
    s = s.replace("professionnel.le.s", "professionnels")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def parse_amount(text) -> Optional[object]:
    """Return a grant amount as a Decimal (« 12 345,67 », « 12345.67 », « 12 345 € »), else None."""
    s = str(text or "").strip()
    if re.fullmatch(r"[0-9 \u00a0\u202f]*\.\d{1,2}", s.replace("€", "").strip()):
        s = s.replace(".", ",")
    try:
        return parse_french_amount(s)
    except ValueError:
        return None


def match_action(nom_action: str, actions: pd.DataFrame, budget_lines: pd.DataFrame) -> tuple:
    """Return ``(action_code, how)`` of a MIN action name, or ``("", reason)``.

    Rule, in order: (1) the name starts with an action code of the roadmap (« 1.3 … »,
    « Action 1.3 … »); (2) its normalised text (accents, case and punctuation ignored)
    equals the title of exactly one action or the label of exactly one of its FNE budget
    lines. Nothing approximate: anything else is unmatched, and reported.
    """
    codes = set(actions["action_code"].dropna())
    m = re.match(r"^\s*(?:action\s*)?(\d\.\d)\b", str(nom_action or ""), flags=re.I)
    if m and m.group(1) in codes:
        return m.group(1), "code en tête du nom"
    n = _norm_title(nom_action)
    if not n:
        return "", "nom d'action vide"
    hits = {c for c, t in zip(actions["action_code"], actions["action_title"]) if _norm_title(t) == n}
    hits |= {c for c, t in zip(budget_lines["action_code"], budget_lines["line_label"])
             if isinstance(c, str) and _norm_title(t) == n}
    if len(hits) == 1:
        return hits.pop(), "intitulé identique"
    if len(hits) > 1:
        return "", f"intitulé commun à plusieurs actions ({', '.join(sorted(hits))})"
    return "", "aucune action de la feuille de route n'a ce code ou cet intitulé"


def read_min_subventions(path: Union[str, Path], actions: pd.DataFrame, budget_lines: pd.DataFrame,
                         departement: str = "13", date: Optional[str] = None) -> tuple:
    """Read MIN's FNE grant requests into ``budget_transactions`` commitments.

    Parameters
    ----------
    path : str or Path
        The ``;``-separated CSV.
    actions, budget_lines : pandas.DataFrame
        The roadmap's tables (of the target bundle).
    departement : str, default "13"
        Requests of other départements are counted and left out.
    date : str, optional
        ISO date of the commitments (the file has none); default: a date in the file
        name, else the file's date (said in the report).

    Returns
    -------
    tuple
        ``(budget_transactions, report)``.

    Notes
    -----
    A row becomes a commitment (``kind`` = ``commitment``) when: its ``code_departement``
    is ``departement``; its ``statut`` is ``acceptee`` (MIN counts only accepted requests
    in its envelopes; the others are counted per status); its ``nom_action`` matches one
    action (:func:`match_action`), and that action has exactly one budget line funded by
    the FNE (funder containing « FNE »). ``transaction_id`` = ``MIN-SUBV-`` + request id,
    so that importing the file again replaces its rows instead of adding them.
    """
    path = Path(path)
    report = IngestReport(kind="min-subventions")
    df = _read_csv(path, report)
    missing = [c for c in SUBVENTION_COLUMNS if c not in df.columns]
    if missing:
        raise IngestError(f"{path.name}, ligne 1 (en-tête) : colonne(s) absente(s) : {', '.join(missing)} ; "
                          f"attendu : {';'.join(SUBVENTION_COLUMNS)}")
    day = _file_date(path, date, report, "date des engagements")
    fne_lines = {}
    for lid, code, funder in zip(budget_lines["budget_line_id"], budget_lines["action_code"], budget_lines["funder"]):
        if isinstance(code, str) and "FNE" in str(funder):
            fne_lines.setdefault(code, []).append(lid)
    rows, statuses, other_dep, seen = [], Counter(), Counter(), {}
    for i, r in enumerate(df.to_dict("records"), start=2):
        g = lambda c, r=r: str(r.get(c, "") or "").strip()  # noqa: E731
        rid = g("demande_subvention_id")
        dep = g("code_departement")
        if dep.isdigit() and len(dep) == 1:
            dep = dep.zfill(2)
        if dep != departement:
            other_dep[dep or "vide"] += 1
            continue
        if g("statut") != ACCEPTED:
            statuses[g("statut") or "(vide)"] += 1
            continue
        if not rid:
            report.error(path.name, "identifiant de la demande manquant : ligne écartée", row=i,
                         column="demande_subvention_id", value="")
            continue
        if rid in seen:
            report.error(path.name, f"demande déjà lue ligne {seen[rid]} : ligne écartée", row=i,
                         column="demande_subvention_id", value=rid)
            continue
        seen[rid] = i
        amount = parse_amount(g("montant_subvention"))
        if amount is None or amount < 0:
            report.error(path.name, "montant en euros attendu (ex. 12 345,67) : ligne écartée", row=i,
                         column="montant_subvention", value=g("montant_subvention"))
            continue
        code, how = match_action(g("nom_action"), actions, budget_lines)
        if not code:
            report.error(path.name, f"action non reconnue ({how}) : demande non importée", row=i,
                         column="nom_action", value=g("nom_action"))
            continue
        lines = fne_lines.get(code, [])
        if len(lines) != 1:
            report.error(path.name, f"l'action {code} a {len(lines)} ligne(s) budgétaire(s) FNE : rattachement "
                         "impossible, demande non importée", row=i, column="nom_action", value=g("nom_action"))
            continue
        report.count(f"Actions reconnues ({how})")
        rows.append({"transaction_id": f"MIN-SUBV-{rid}", "budget_line_id": lines[0], "action_code": code,
                     "date": day, "kind": "commitment", "amount_eur": amount,
                     "reference": f"Demande de subvention {rid} (Mon Inclusion Numérique"
                                  + (f", {g('nom_feuille_route')})" if g("nom_feuille_route") else ")")})
    out = coerce_table(pd.DataFrame(rows, columns=TABLES["budget_transactions"].column_names),
                       TABLES["budget_transactions"])
    report.count("Demandes lues", len(df))
    report.count("Demandes d'autres départements (ignorées)", sum(other_dep.values()))
    for s, n in sorted(statuses.items()):
        report.count(f"Demandes au statut « {s} » (non engagées, ignorées)", n)
    report.count("Engagements importés", len(out))
    total = sum(out["amount_eur"], Decimal("0.00"))
    report.notes.append(f"Montant engagé importé : {fmt_eur(total)}.")
    return out, report
