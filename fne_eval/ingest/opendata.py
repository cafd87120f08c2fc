"""Import real open-data files into bundle tables (``lieux`` and conseiller structures).

Every reader takes a file "as it comes" (UTF-8 with or without BOM, or Windows-1252;
``,`` ``;`` or tab separated), maps it to the columns of the bundle's ``lieux`` table
(:data:`fne_eval.bundle.spec.TABLES`), resolves each row's ``territory_code`` (commune or
Marseille arrondissement INSEE code) and fills an :class:`ImportReport` that says what was
read, mapped, left unmapped, dropped or found invalid. Personal contact columns
(telephone, courriel(s), mail...) are never kept: they are dropped on reading and counted.

Readers
-------
``read_lieux_standard``        CSV of the national standard « Lieux de médiation numérique » v1.0.2
``read_lieux_hubdusud_2023``   the Hub du Sud / cartographie nationale export of 2023 (pre-v1 layout)
``read_lieux_aix_2024``        the producer's input file of the city of Aix-en-Provence (v0 labels)
``read_france_services``       the ANCT list of France services
``read_conseillers_numeriques`` structures employing conseillers numériques (not lieux)

Each reader returns a DataFrame; pass ``report=ImportReport()`` to get the report back
(it is also attached as ``df.attrs["import_report"]``).

Example
-------
>>> from fne_eval.ingest.opendata import ImportReport, read_lieux_hubdusud_2023
>>> rep = ImportReport()
>>> lieux = read_lieux_hubdusud_2023(report=rep)
>>> len(lieux), rep.n_rows_read
(226, 226)
"""
from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval.bundle.io import coerce_table, neutralise_csv_column, os_error_fr, to_text_frame
from fne_eval.bundle.spec import (
    DISPOSITIFS, FRAIS, MODALITES_ACCOMPAGNEMENT, PERSONAL_DATA_COLUMNS, PUBLICS, SERVICES,
    TABLES,
)
from fne_eval.core.communes import (Resolution, arrondissement_from_name, commune_name_matches, named_commune,  # noqa: F401
                                     normalize_commune_name, commune_reference, resolve_commune)
from fne_eval.core.paths import REFERENCE_DIR, SAMPLES_DIR, STANDARDS_DIR, chmod_as_umask
from fne_eval.ingest.common import IngestError
from fne_eval.ingest.sniff import check_kind

LIEUX = TABLES["lieux"]
LIEUX_COLUMNS = LIEUX.column_names

HUBDUSUD_2023_PATH = SAMPLES_DIR / "lieux_mediation_numerique_13_hubdusud_2023.csv"
AIX_2024_PATH = SAMPLES_DIR / "lieux_mediation_numerique_aix_2024.csv"
FRANCE_SERVICES_PATH = SAMPLES_DIR / "france_services_13_2023.csv"
CONSEILLERS_PATH = SAMPLES_DIR / "conseillers_numeriques_structures_13_2023.csv"
STANDARD_SCHEMA_PATH = STANDARDS_DIR / "lieux-mediation-numerique" / "schema.json"
STANDARD_EXAMPLE_PATH = STANDARDS_DIR / "lieux-mediation-numerique" / "exemple-valide.csv"

#: Date of the France services extract (added to the Portrea repository on 2023-07-07,
#: PROVENANCE.md section 3): the file has no per-row update date.
FRANCE_SERVICES_EXTRACT_DATE = "2023-07-07"

#: Placeholder values that stand for "unknown" in the cartographie nationale's exports.
PLACEHOLDER_DATE = "1970-01-01"
PLACEHOLDER_PIVOT_RE = re.compile(r"^0+$")

# --------------------------------------------------------------------------- vocabularies
#: Pre-v1 ``labels_nationaux`` values → v1 ``dispositif_programmes_nationaux``.
LABEL_TO_DISPOSITIF = {
    "CNFS": "Conseillers numériques",
    "Conseillers numériques": "Conseillers numériques",
    "Conseiller numérique": "Conseillers numériques",
    "France Services": "France Services",
    "France services": "France Services",
    "Aidants Connect": "Aidants Connect",
    "PIX": "Certification PIX",
    "Certification PIX": "Certification PIX",
    "Grande école du numérique": "Grande école du numérique",
    "Grande Ecole du Numérique": "Grande école du numérique",
    "Promeneurs du net": "Promeneurs du net",
    "Point d'accès numérique CAF": "Point d'accès numérique CAF",
    "Emmaüs Connect": "Emmaüs Connect",
    "Relais numérique (Emmaüs Connect)": "Relais numérique (Emmaüs Connect)",
    "La Croix Rouge": "La Croix Rouge",
    "Bibliothèques numérique de référence": "Bibliothèques numérique de référence",
}
#: The 15 services of the standard v0 → the 9 services of v1.0 (« condensation des 15
#: anciens services en 9 », descriptif-des-evolutions of LaMednum/standard-mediation-num).
V0_SERVICE_TO_V1 = {
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement": "Aide aux démarches administratives",
    "Accompagner les démarches de santé": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette": "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Promouvoir la citoyenneté numérique": "Compréhension du monde numérique",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Créer et développer mon entreprise": "Insertion professionnelle via le numérique",
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S'équiper en matériel informatique": "Acquisition de matériel informatique à prix solidaire",
    "Créer avec le numérique": "Loisirs et créations numériques",
    "Soutenir la parentalité et l'éducation avec le numérique": "Parentalité et éducation avec le numérique",
}
#: Pre-v1 ``publics_accueillis`` → v1 ``publics_specifiquement_adresses`` (the v1 field
#: was extracted from the old one; values with no v1 equivalent, e.g. « Adultes », are reported).
PUBLIC_V0_TO_V1 = {
    "Jeunes (16-26 ans)": "Jeunes",
    "Jeunes": "Jeunes",
    "Étudiants": "Étudiants",
    "Familles/enfants": "Familles et/ou enfants",
    "Familles et/ou enfants": "Familles et/ou enfants",
    "Seniors (+ 65 ans)": "Seniors",
    "Seniors": "Seniors",
    "Femmes": "Femmes",
    "Uniquement femmes": "Femmes",
}
#: Pre-v1 ``modalites_accompagnement`` values → v1.
MODALITE_V0_TO_V1 = {
    "Seul": "En autonomie",
    "En autonomie": "En autonomie",
    "Avec de l'aide": "Accompagnement individuel",
    "Accompagnement individuel": "Accompagnement individuel",
    "Dans un atelier": "Dans un atelier collectif",
    "Dans un atelier collectif": "Dans un atelier collectif",
    "Pour quelqu'un": "Accompagnement individuel",
    "À distance": "À distance",
    "A distance": "À distance",
}
FRAIS_V0_TO_V1 = {v: v for v in FRAIS} | {"Gratuit sous conditions": "Gratuit sous condition"}


# --------------------------------------------------------------------------- report
@dataclass
class ImportReport:
    """What an import read, mapped, dropped and found invalid.

    Attributes
    ----------
    kind : str
        Format read (``lieux-standard``, ``lieux-hubdusud-2023``...).
    source : str
        File read.
    encoding, separator : str
        Detected encoding and column separator.
    n_rows_read, n_rows_kept : int
        Data rows in the file, rows in the returned frame.
    personal_columns : dict of str to int
        Personal contact columns dropped → number of non-empty cells they held.
    ignored_columns : list of str
        Other source columns with no place in the target table.
    mapped : Counter
        ``(field, source value, target value)`` → rows where a value was translated.
    unmapped : Counter
        ``(field, source value)`` → rows where a value had no target and was left out.
    violations : list of dict
        ``row`` (1-based data row), ``field``, ``value``, ``message`` (French).
    resolution : Counter
        How ``territory_code`` was resolved → rows.
    unresolved : list of dict
        Rows whose commune could not be resolved (they are not in the frame).
    notes : list of str
        Other remarks, in French.
    """

    kind: str = ""
    source: str = ""
    encoding: str = ""
    separator: str = ""
    n_rows_read: int = 0
    n_rows_kept: int = 0
    personal_columns: dict = field(default_factory=dict)
    ignored_columns: list = field(default_factory=list)
    mapped: Counter = field(default_factory=Counter)
    unmapped: Counter = field(default_factory=Counter)
    violations: list = field(default_factory=list)
    resolution: Counter = field(default_factory=Counter)
    unresolved: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def violation(self, row: int, field_: str, value, message: str) -> None:
        """Record one schema violation (``row`` is the 1-based data row)."""
        self.violations.append({"row": row, "field": field_, "value": "" if value is None else str(value),
                                "message": message})

    def violations_frame(self) -> pd.DataFrame:
        """Return the violations as a tidy frame (row, field, value, message)."""
        return pd.DataFrame(self.violations, columns=["row", "field", "value", "message"])

    def to_dict(self) -> dict:
        """Return the report as plain JSON-able data."""
        return {
            "kind": self.kind, "source": self.source, "encoding": self.encoding,
            "separator": self.separator, "n_rows_read": self.n_rows_read,
            "n_rows_kept": self.n_rows_kept, "personal_columns": dict(self.personal_columns),
            "ignored_columns": list(self.ignored_columns),
            "mapped": [{"field": f, "from": a, "to": b, "n_rows": n} for (f, a, b), n in sorted(self.mapped.items())],
            "unmapped": [{"field": f, "value": a, "n_rows": n} for (f, a), n in sorted(self.unmapped.items())],
            "violations": list(self.violations),
            "resolution": dict(self.resolution), "unresolved": list(self.unresolved),
            "notes": list(self.notes),
        }

    def lines_fr(self) -> list:
        """Return the report as French sentences, one per line."""
        out = [f"Fichier {self.source} ({self.kind}) : {_n(self.n_rows_read)} lignes lues, "
               f"{_n(self.n_rows_kept)} conservées (encodage {self.encoding}, séparateur « {self.separator} »)."]
        if self.personal_columns:
            cols = ", ".join(f"{c} ({_n(n)} valeurs)" for c, n in sorted(self.personal_columns.items()))
            out.append(f"Colonnes de contact supprimées (données personnelles possibles) : {cols}.")
        else:
            out.append("Aucune colonne de contact dans le fichier.")
        if self.ignored_columns:
            out.append("Colonnes non reprises : " + ", ".join(self.ignored_columns) + ".")
        for (f, a, b), n in sorted(self.mapped.items()):
            out.append(f"Correspondance {f} : « {a} » → « {b} » ({_rows(n)}).")
        for (f, a), n in sorted(self.unmapped.items()):
            out.append(f"Valeur sans correspondance dans le standard, non reprise — {f} : « {a} » ({_rows(n)}).")
        if self.resolution:
            out.append("Résolution du territoire : " + ", ".join(
                f"{k} {_n(v)}" for k, v in sorted(self.resolution.items())) + ".")
        for u in self.unresolved:
            out.append(f"Ligne {u['row']} écartée : commune non résolue ({u.get('commune', '')}, "
                       f"code postal {u.get('code_postal', '')}).")
        if self.kind == "lieux-standard" and not self.violations:
            out.append("Aucun écart au schéma du standard v1.0.2.")
        if self.violations:
            out.append(f"{_n(len(self.violations))} écart(s) au schéma :")
            for v in self.violations:
                out.append(f"  ligne {v['row']}, champ {v['field']}, valeur « {v['value']} » : {v['message']}")
        out.extend(self.notes)
        return out


def _n(x) -> str:
    """Format an integer the French way (narrow no-break space thousands)."""
    return f"{int(x):,}".replace(",", "\u202f")


def _rows(n) -> str:
    """Return « 1 ligne » / « 12 lignes »."""
    return f"{_n(n)} ligne" + ("s" if int(n) > 1 else "")


# --------------------------------------------------------------------------- reading
def read_text_csv(path: Union[str, Path]) -> tuple:
    """Read a CSV file as it comes and return ``(frame of str, encoding, separator)``.

    Tries UTF-8 (with or without BOM) then Windows-1252; sniffs the separator among
    ``,`` ``;`` and tab from the header line. Every cell is a string, empty for missing.
    """
    raw = Path(path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text, enc = raw[3:].decode("utf-8"), "utf-8-sig"
    else:
        try:
            text, enc = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = raw.decode("cp1252"), "cp1252"
    header = text.split("\n", 1)[0]
    counts = {sep: _count_outside_quotes(header, sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=lambda s: (counts[s], s == ","))
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    return df, enc, sep


def _count_outside_quotes(line: str, sep: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            n += 1
    return n


def _norm_col(name: str) -> str:
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def is_personal_column(name: str) -> bool:
    """Return True when a column name denotes personal contact data (phone, e-mail...)."""
    n = _norm_col(name)
    if n in PERSONAL_DATA_COLUMNS:
        return True
    return bool(re.match(r"^(telephone|tel|phone|courriels?|e_?mails?|mails?|portable|mobile_phone)(_|$)", n))


def drop_personal_columns(df: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """Drop personal contact columns, counting their non-empty cells in ``report``."""
    personal = [c for c in df.columns if is_personal_column(c)]
    for c in personal:
        report.personal_columns[c] = int((df[c].astype(str).str.strip() != "").sum())
    return df.drop(columns=personal)


# --------------------------------------------------------------------------- helpers
def _split(value: str, seps: str) -> list:
    if value is None:
        return []
    parts = re.split("[" + re.escape(seps) + "]", str(value))
    return [p.strip() for p in parts if p.strip()]


def _norm_quotes(s: str) -> str:
    return s.replace("\u2019", "'").replace("\xa0", " ").replace("\u202f", " ").strip()


def map_label_list(values: list, mapping: dict, allowed: tuple, field_: str, report: ImportReport) -> str:
    """Translate list values to the standard's vocabulary; return the ``|``-joined result."""
    out = []
    lookup = {_norm_quotes(k).casefold(): v for k, v in mapping.items()}
    lookup.update({_norm_quotes(a).casefold(): a for a in allowed})
    for v in values:
        key = _norm_quotes(v).casefold()
        tgt = lookup.get(key)
        if tgt is None:
            report.unmapped[(field_, v)] += 1
            continue
        if tgt != v:
            report.mapped[(field_, v, tgt)] += 1
        if tgt not in out:
            out.append(tgt)
    return "|".join(out)


def finish_lieux(rows: list, report: ImportReport) -> pd.DataFrame:
    """Type the lieux rows per the bundle spec and attach the report."""
    df = pd.DataFrame(rows, columns=LIEUX_COLUMNS) if rows else pd.DataFrame(columns=LIEUX_COLUMNS)
    for c in ("latitude", "longitude"):
        df[c] = pd.to_numeric(df[c].replace("", None), errors="coerce")
    df["date_maj"] = pd.to_datetime(df["date_maj"].replace("", None), errors="coerce", format="mixed")
    typed = coerce_table(df, LIEUX)
    report.n_rows_kept = len(typed)
    typed.attrs["import_report"] = report
    return typed


def parse_export_date(value: str) -> str:
    """Return an ISO date from ``YYYY-MM-DD``, ``DD/MM/YYYY`` or an ISO timestamp, else ""."""
    s = (value or "").strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = re.match(r"^(\d{2})/(\d{2})/(\d{4})$", s)
    if m:
        return f"{m.group(3)}-{m.group(2)}-{m.group(1)}"
    return ""


def float_or_blank(value: str) -> str:
    s = (value or "").strip().replace(",", ".")
    try:
        float(s)
        return s
    except ValueError:
        return ""


def _resolved_records(df: pd.DataFrame, report: ImportReport, postcode: str = "code_postal",
                      name: str = "commune", insee: str = "code_insee", pre=None):
    """Yield ``(row number, getter, resolution)`` for each row whose commune resolves.

    ``getter(column)`` returns the row's stripped text; ``pre(getter)`` may give already
    derived (commune, fine) codes. Unresolved rows are recorded in ``report`` and skipped.
    """
    for i, r in enumerate(df.to_dict("records"), start=1):
        g = (lambda rec: lambda c: str(rec.get(c, "") or "").strip())(r)
        res = _resolve_row(i, g(postcode), g(name), g(insee), report, pre=pre(g) if pre else None)
        if res is not None:
            yield i, g, res


def _resolve_row(i: int, cp: str, commune: str, code_insee: str, report: ImportReport,
                 pre: Optional[tuple] = None) -> Optional[Resolution]:
    """Resolve one row (``pre`` = already derived (commune, fine) codes), or report it."""
    if pre and (pre[1] or pre[0]):
        res = Resolution(pre[0] or pre[1], pre[1] or pre[0], "colonnes derive_*")
    else:
        res = resolve_commune(cp, commune, code_insee)
    if not res.territory_code:
        report.unresolved.append({"row": i, "commune": commune, "code_postal": cp})
        return None
    report.resolution[res.method.split(" (")[0]] += 1
    if "arrondissement inconnu" in res.method or (res.territory_code == "13055"):
        report.notes.append(f"Ligne {i} ({commune}, {cp}) : arrondissement de Marseille non déterminé, "
                            "rattachée à la commune 13055.")
    return res


def base_lieu_row() -> dict:
    return {c: "" for c in LIEUX_COLUMNS}


# --------------------------------------------------------------------------- Hub du Sud 2023
def read_lieux_hubdusud_2023(path: Optional[Union[str, Path]] = None,
                             report: Optional[ImportReport] = None) -> pd.DataFrame:
    """Read the Hub du Sud / cartographie nationale export of 2023 into a ``lieux`` table.

    The file (226 lieux of the département, pre-v1 layout, PROVENANCE.md section 3) is
    mapped to the v1.0.2 fields: ``labels_nationaux`` (``;``-separated: CNFS → « Conseillers
    numériques », France Services, Aidants Connect) → ``dispositif_programmes_nationaux``;
    ``services`` (``|``) kept where they are v1 values, v0 labels mapped, others reported;
    ``publics_accueillis`` + ``publics_specifiquement_adresses`` → the v1 publics;
    ``frais_a_charge`` and ``modalites_accompagnement`` checked against the v1 values.
    ``territory_code`` is ``derive_code_insee_arm`` (then ``derive_code_insee_commune``, then
    :func:`resolve_commune`). The 47 placeholder dates 1970-01-01 and the placeholder pivot
    ``00000000000000`` are kept as published: the data-quality rules flag them.

    Parameters
    ----------
    path : str or Path, optional
        The file; default the sample shipped in ``fne_eval/data/samples/``.
    report : ImportReport, optional
        Filled with what was mapped, dropped and left unresolved.

    Returns
    -------
    pandas.DataFrame
        Typed ``lieux`` table (columns of ``spec.TABLES["lieux"]``).
    """
    path = Path(path) if path is not None else HUBDUSUD_2023_PATH
    report = report if report is not None else ImportReport()
    report.kind, report.source = "lieux-hubdusud-2023", str(path)
    df, report.encoding, report.separator = read_text_csv(path)
    df = drop_personal_columns(df, report)
    report.n_rows_read = len(df)
    used = {"id", "nom", "pivot", "commune", "code_postal", "code_insee", "adresse", "latitude",
            "longitude", "services", "labels_nationaux", "publics_accueillis",
            "publics_specifiquement_adresses", "frais_a_charge", "modalites_accompagnement",
            "source", "date_maj", "derive_code_insee_commune", "derive_code_insee_arm"}
    report.ignored_columns = [c for c in df.columns if c not in used]
    rows = []
    n_placeholder = 0
    derived = lambda g: (g("derive_code_insee_commune"), g("derive_code_insee_arm"))  # noqa: E731
    for i, g, res in _resolved_records(df, report, pre=derived):
        row = base_lieu_row()
        row.update(id=g("id"), pivot=g("pivot"), nom=g("nom"), commune=g("commune"),
                   code_postal=g("code_postal").zfill(5) if g("code_postal") else "",
                   territory_code=res.territory_code, adresse=g("adresse"),
                   latitude=float_or_blank(g("latitude")), longitude=float_or_blank(g("longitude")),
                   source=g("source"))
        ci = g("code_insee")
        row["code_insee"] = ci if re.fullmatch(r"\d{5}|2[AB]\d{3}", ci) else ""
        row["services"] = map_label_list(_split(g("services"), "|;"), V0_SERVICE_TO_V1, SERVICES, "services", report)
        row["dispositif_programmes_nationaux"] = map_label_list(
            _split(g("labels_nationaux"), ";|"), LABEL_TO_DISPOSITIF, DISPOSITIFS, "labels_nationaux", report)
        publics = _split(g("publics_specifiquement_adresses"), "|;") + _split(g("publics_accueillis"), ";|")
        row["publics_specifiquement_adresses"] = map_label_list(publics, PUBLIC_V0_TO_V1, PUBLICS,
                                                           "publics", report)
        row["frais_a_charge"] = map_label_list(_split(g("frais_a_charge"), "|;"), FRAIS_V0_TO_V1, FRAIS,
                                          "frais_a_charge", report)
        row["modalites_accompagnement"] = map_label_list(_split(g("modalites_accompagnement"), "|;"),
                                                    MODALITE_V0_TO_V1, MODALITES_ACCOMPAGNEMENT,
                                                    "modalites_accompagnement", report)
        d = parse_export_date(g("date_maj"))
        if not d:
            report.violation(i, "date_maj", g("date_maj"), "date de mise à jour absente ou illisible")
            d = PLACEHOLDER_DATE
        if d == PLACEHOLDER_DATE:
            n_placeholder += 1
        row["date_maj"] = d
        rows.append(row)
    if n_placeholder:
        report.notes.append(f"{_n(n_placeholder)} lieux portent la date factice {PLACEHOLDER_DATE} : "
                            "conservée telle que publiée (signalée par le contrôle qualité).")
    n_zero = sum(1 for r in rows if PLACEHOLDER_PIVOT_RE.match(r["pivot"] or "x"))
    if n_zero:
        report.notes.append(f"{_n(n_zero)} lieux portent le pivot factice 00000000000000 (SIRET non "
                            "renseigné) : conservé tel que publié.")
    return finish_lieux(rows, report)


# --------------------------------------------------------------------------- standard v1.0.2
@lru_cache(maxsize=1)
def standard_schema() -> dict:
    """Return the national lieux standard's Table Schema (v1.0.2) as published."""
    return json.loads(STANDARD_SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_standard(df: pd.DataFrame, report: ImportReport, schema: Optional[dict] = None) -> None:
    """Check a lieux file against the standard's constraints, recording each violation.

    Checks every constraint the schema declares: required columns and values, ``pattern``
    (matched on the whole value, as Table Schema does), ``maxLength``, ``unique``, and
    the ``number`` and ``date`` types. Personal contact columns are expected to be
    dropped already: their values are never copied into the report.
    """
    schema = schema or standard_schema()
    for f in schema["fields"]:
        name, cons = f["name"], f.get("constraints", {})
        if is_personal_column(name):
            continue
        if name not in df.columns:
            if cons.get("required"):
                report.violation(0, name, "", "colonne obligatoire absente de l'en-tête")
            continue
        pattern = re.compile(cons["pattern"]) if cons.get("pattern") else None
        seen = {}
        for i, v in enumerate(df[name].tolist(), start=1):
            v = "" if v is None else str(v).strip()
            if v == "":
                if cons.get("required"):
                    report.violation(i, name, v, "valeur obligatoire manquante")
                continue
            if pattern is not None and not pattern.fullmatch(v):
                report.violation(i, name, v, "valeur hors du motif ou du vocabulaire du standard")
            if cons.get("maxLength") and len(v) > cons["maxLength"]:
                report.violation(i, name, v[:40] + "…", f"plus de {cons['maxLength']} caractères")
            if f.get("type") == "number" and not float_or_blank(v):
                report.violation(i, name, v, "nombre attendu")
            if f.get("type") == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                report.violation(i, name, v, "date AAAA-MM-JJ attendue")
            if cons.get("unique"):
                if v in seen:
                    report.violation(i, name, v, f"valeur déjà utilisée ligne {seen[v]} (doit être unique)")
                seen.setdefault(v, i)


def read_lieux_standard(path: Union[str, Path], report: Optional[ImportReport] = None) -> pd.DataFrame:
    """Read a CSV of the national standard « Lieux de médiation numérique » v1.0.2.

    Validates it against ``schema.json`` (violations reported with row and field; rows
    are kept), drops the contact columns (``telephone``, ``courriels``), keeps the fields of
    the ``lieux`` table (``|``-separated lists, values outside the v1 vocabularies reported
    and left out) and resolves ``territory_code`` with :func:`resolve_commune`.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8 with or without BOM, or Windows-1252; ``,`` or ``;``).
    report : ImportReport, optional
        Filled with violations and mappings.

    Returns
    -------
    pandas.DataFrame
        Typed ``lieux`` table; rows whose commune cannot be resolved are left out and
        listed in ``report.unresolved``.
    """
    path = Path(path)
    report = report if report is not None else ImportReport()
    report.kind, report.source = "lieux-standard", str(path)
    df, report.encoding, report.separator = read_text_csv(path)
    df = drop_personal_columns(df, report)
    report.n_rows_read = len(df)
    validate_standard(df, report)
    direct = ("id", "pivot", "nom", "commune", "adresse", "source", "typologie")
    lists = {
        "services": ({}, SERVICES), "publics_specifiquement_adresses": ({}, PUBLICS),
        "frais_a_charge": ({}, FRAIS), "itinerance": ({}, ("Itinérant", "Fixe")),
        "dispositif_programmes_nationaux": ({}, DISPOSITIFS),
        "modalites_accompagnement": ({}, MODALITES_ACCOMPAGNEMENT),
    }
    used = set(direct) | set(lists) | {"code_postal", "code_insee", "latitude", "longitude", "date_maj"}
    report.ignored_columns = [c for c in df.columns if c not in used]
    rows = []
    for i, g, res in _resolved_records(df, report):
        row = base_lieu_row()
        row.update({c: g(c) for c in direct})
        row["typologie"] = "|".join(_split(g("typologie"), "|"))
        row["code_postal"] = g("code_postal") if re.fullmatch(r"\d{5}", g("code_postal")) else ""
        row["code_insee"] = g("code_insee") if re.fullmatch(r"\d{5}|2[AB]\d{3}", g("code_insee")) else ""
        row["territory_code"] = res.territory_code
        row["latitude"], row["longitude"] = float_or_blank(g("latitude")), float_or_blank(g("longitude"))
        for col, (mapping, allowed) in lists.items():
            row[col] = map_label_list(_split(g(col), "|"), mapping, allowed, col, report)
        row["date_maj"] = parse_export_date(g("date_maj"))
        if not row["date_maj"] or not row["code_postal"]:
            report.notes.append(f"Ligne {i} écartée : date_maj ou code_postal inutilisable.")
            continue
        rows.append(row)
    return finish_lieux(rows, report)


# --------------------------------------------------------------------------- Aix 2024
def read_lieux_aix_2024(path: Optional[Union[str, Path]] = None,
                        report: Optional[ImportReport] = None) -> pd.DataFrame:
    """Read the city of Aix-en-Provence's producer file (2024) into a ``lieux`` table.

    The file is the cartographie nationale's input format: ``Adresse``, ``;``-separated
    lists, the 15 services of the standard v0 (mapped to the 9 services of v1 with
    :data:`V0_SERVICE_TO_V1`; unknown labels reported), ``labels_nationaux`` (CNFS →
    « Conseillers numériques »), ``typologie`` codes.

    Parameters
    ----------
    path : str or Path, optional
        Default: ``fne_eval/data/samples/lieux_mediation_numerique_aix_2024.csv``.
    report : ImportReport, optional
        Filled with mappings and unresolved rows.
    """
    path = Path(path) if path is not None else AIX_2024_PATH
    report = report if report is not None else ImportReport()
    report.kind, report.source = "lieux-aix-2024", str(path)
    df, report.encoding, report.separator = read_text_csv(path)
    df = drop_personal_columns(df, report)
    report.n_rows_read = len(df)
    used = {"id", "pivot", "nom", "commune", "code_postal", "code_insee", "Adresse", "adresse",
            "latitude", "longitude", "typologie", "source", "date_maj", "services", "labels_nationaux"}
    report.ignored_columns = [c for c in df.columns if c not in used]
    rows = []
    for i, g, res in _resolved_records(df, report):
        row = base_lieu_row()
        row.update(id=g("id"), pivot=g("pivot"), nom=g("nom"), commune=g("commune"),
                   code_postal=g("code_postal").zfill(5), territory_code=res.territory_code,
                   adresse=g("Adresse") or g("adresse"), source=g("source"),
                   latitude=float_or_blank(g("latitude")), longitude=float_or_blank(g("longitude")),
                   typologie="|".join(_split(g("typologie"), ";|")))
        ci = g("code_insee")
        row["code_insee"] = ci if re.fullmatch(r"\d{5}|2[AB]\d{3}", ci) else ""
        row["services"] = map_label_list(_split(g("services"), ";|"), V0_SERVICE_TO_V1, SERVICES, "services", report)
        row["dispositif_programmes_nationaux"] = map_label_list(
            _split(g("labels_nationaux"), ";|"), LABEL_TO_DISPOSITIF, DISPOSITIFS, "labels_nationaux", report)
        row["date_maj"] = parse_export_date(g("date_maj"))
        if not row["date_maj"]:
            report.violation(i, "date_maj", g("date_maj"), "date de mise à jour absente ou illisible")
            row["date_maj"] = PLACEHOLDER_DATE
        rows.append(row)
    return finish_lieux(rows, report)


# --------------------------------------------------------------------------- France services
def read_france_services(path: Optional[Union[str, Path]] = None,
                         report: Optional[ImportReport] = None,
                         date_maj: str = FRANCE_SERVICES_EXTRACT_DATE) -> pd.DataFrame:
    """Read the ANCT list of France services into a ``lieux`` table.

    Every row gets the dispositif « France Services »; ``itinerance`` is « Itinérant »
    when the list says ``itinerance`` = Oui or ``format_fs_anct`` = Mobile, else « Fixe ».
    The list has no update date per row: ``date_maj`` is the extract's date. The free
    text ``commentaire`` (which holds phone numbers and e-mails in the real file) and the
    ``mail`` / ``telephone`` columns are never kept.

    Parameters
    ----------
    path : str or Path, optional
        Default: ``fne_eval/data/samples/france_services_13_2023.csv`` (32 rows).
    report : ImportReport, optional
        Filled with what was read and dropped.
    date_maj : str, default "2023-07-07"
        Date given to every row (ISO).
    """
    path = Path(path) if path is not None else FRANCE_SERVICES_PATH
    report = report if report is not None else ImportReport()
    report.kind, report.source = "france-services", str(path)
    df, report.encoding, report.separator = read_text_csv(path)
    df = drop_personal_columns(df, report)
    report.n_rows_read = len(df)
    used = {"id_fs", "lib_fs", "adresse", "complement_adresse", "insee_com", "code_postal", "lib_com",
            "latitude", "longitude", "itinerance", "format_fs_anct"}
    report.ignored_columns = [c for c in df.columns if c not in used]
    if "commentaire" in df.columns:
        report.notes.append("La colonne « commentaire » (texte libre pouvant contenir téléphones et courriels) "
                            "n'est pas reprise.")
    d = parse_export_date(date_maj)
    if not d:
        raise ValueError(f"date_maj {date_maj!r}: expected an ISO date YYYY-MM-DD")
    rows = []
    for i, g, res in _resolved_records(df, report, name="lib_com", insee="insee_com"):
        mobile = g("itinerance").lower() == "oui" or g("format_fs_anct").lower() == "mobile"
        row = base_lieu_row()
        adresse = g("adresse") + (", " + g("complement_adresse") if g("complement_adresse") else "")
        row.update(id=f"france-services-{g('id_fs')}", nom=g("lib_fs"), commune=g("lib_com"),
                   code_postal=g("code_postal").zfill(5), code_insee=g("insee_com"),
                   territory_code=res.territory_code, adresse=adresse,
                   latitude=float_or_blank(g("latitude")), longitude=float_or_blank(g("longitude")),
                   itinerance="Itinérant" if mobile else "Fixe",
                   dispositif_programmes_nationaux="France Services",
                   source="ANCT - liste des France services", date_maj=d)
        rows.append(row)
    report.notes.append(f"date_maj = date de l'extrait ({d}) : la liste ne date pas ses lignes.")
    return finish_lieux(rows, report)


# --------------------------------------------------------------------------- conseillers numériques
CONSEILLERS_COLUMNS = [
    "territory_code", "commune_code", "epci_siren", "code_postal", "structure", "siret",
    "n_postes_attribues", "n_en_formation", "n_formes", "n_recrutes", "investment_eur",
    "is_france_services", "qpv", "is_zrr", "source",
]
_CNUM_SOURCE = {
    "Siret": "siret", "Nb de conseillers attribués": "n_postes_attribues",
    "Nb de conseillers en formation": "n_en_formation", "Nb de conseillers formés": "n_formes",
    "Nb de conseillers recrutés": "n_recrutes", "Code postal": "code_postal",
    "Code commune Insee": "code_insee", "Investissement estimatif de l'état": "investment_eur",
    "Label France Services": "is_france_services", "Postes attribués en QPV": "qpv", "ZRR": "is_zrr",
}


def parse_french_amount(value) -> Optional[Decimal]:
    """Parse an amount printed the French way (« 37 428,83 », « 1 234 € ») to a Decimal.

    Returns None for an empty value; raises ValueError for text that is not an amount.

    >>> parse_french_amount("37 428,83")
    Decimal('37428.83')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    s = str(value).strip()
    for ch in ("\u202f", "\xa0", " ", "€"):
        s = s.replace(ch, "")
    if s == "":
        return None
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        return Decimal(s).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _yes_no(v: str):
    s = (v or "").strip().lower()
    return True if s == "oui" else False if s == "non" else pd.NA


def read_conseillers_numeriques(path: Optional[Union[str, Path]] = None,
                                report: Optional[ImportReport] = None) -> pd.DataFrame:
    """Read the structures employing conseillers numériques into a tidy frame.

    Not lieux (the file has no address): one row per structure with its territory
    (``territory_code`` = commune or Marseille arrondissement from « Code commune Insee »,
    ``commune_code``, ``epci_siren``), ``structure``, ``siret``, the counts of postes
    attribués / conseillers en formation / formés / recrutés, and the « Investissement
    estimatif de l'état » parsed to :class:`decimal.Decimal` (``investment_eur``).
    Sum them per territory with :func:`summarize_conseillers`.

    Parameters
    ----------
    path : str or Path, optional
        Default: ``fne_eval/data/samples/conseillers_numeriques_structures_13_2023.csv``.
    report : ImportReport, optional
        Filled with what was read.
    """
    path = Path(path) if path is not None else CONSEILLERS_PATH
    report = report if report is not None else ImportReport()
    report.kind, report.source = "conseillers-numeriques", str(path)
    df, report.encoding, report.separator = read_text_csv(path)
    df = drop_personal_columns(df, report)
    report.n_rows_read = len(df)
    report.ignored_columns = [c for c in df.columns if c not in _CNUM_SOURCE and c != "structure"
                              and not c.startswith("derive_")]
    epci = _commune_epci()
    rows = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        g = lambda c: str(r.get(c, "") or "").strip()  # noqa: E731
        cp = g("Code postal").zfill(5) if g("Code postal") else ""
        insee = g("Code commune Insee")
        insee = insee.zfill(5) if insee.isdigit() else insee
        res = _resolve_row(i, cp, "", insee, report)
        if res is None:
            continue
        counts = {}
        for src in ("Nb de conseillers attribués", "Nb de conseillers en formation",
                    "Nb de conseillers formés", "Nb de conseillers recrutés"):
            v = g(src)
            if v and not re.fullmatch(r"\d+", v):
                report.violation(i, src, v, "nombre entier attendu")
                v = ""
            counts[_CNUM_SOURCE[src]] = int(v) if v else pd.NA
        try:
            amount = parse_french_amount(g("Investissement estimatif de l'état"))
        except ValueError:
            report.violation(i, "Investissement estimatif de l'état", g("Investissement estimatif de l'état"),
                             "montant illisible")
            amount = None
        rows.append({
            "territory_code": res.territory_code, "commune_code": res.commune_code,
            "epci_siren": epci.get(res.commune_code, ""), "code_postal": cp,
            "structure": g("structure"), "siret": g("Siret"), **counts, "investment_eur": amount,
            "is_france_services": _yes_no(g("Label France Services")),
            "qpv": g("Postes attribués en QPV"), "is_zrr": _yes_no(g("ZRR")),
            "source": "conseiller-numerique.gouv.fr (tableau de bord public, via Portrea)",
        })
    out = pd.DataFrame(rows, columns=CONSEILLERS_COLUMNS)
    for c in ("territory_code", "commune_code", "epci_siren", "code_postal", "structure", "siret", "qpv", "source"):
        out[c] = out[c].astype("string").replace("", pd.NA)
    for c in ("n_postes_attribues", "n_en_formation", "n_formes", "n_recrutes"):
        out[c] = out[c].astype("Int64")
    for c in ("is_france_services", "is_zrr"):
        out[c] = out[c].astype("boolean")
    out["investment_eur"] = out["investment_eur"].astype(object)
    report.n_rows_kept = len(out)
    out.attrs["import_report"] = report
    return out


@lru_cache(maxsize=1)
def _commune_epci() -> dict:
    com = pd.read_csv(REFERENCE_DIR / "communes_13.csv", dtype=str, keep_default_na=False)
    return dict(zip(com["code_insee"], com["epci_siren"]))


def summarize_conseillers(structures: pd.DataFrame, level: str = "commune") -> pd.DataFrame:
    """Sum the conseiller numérique counts and investment per territory.

    Parameters
    ----------
    structures : pandas.DataFrame
        Output of :func:`read_conseillers_numeriques`.
    level : {'territory', 'commune', 'epci', 'departement'}
        ``territory`` = commune or Marseille arrondissement; ``departement`` = one row "13".

    Returns
    -------
    pandas.DataFrame
        ``territory_code, n_structures, n_postes_attribues, n_en_formation, n_formes,
        n_recrutes, investment_eur`` (investment as an exact Decimal sum).
    """
    keys = {"territory": "territory_code", "commune": "commune_code", "epci": "epci_siren",
            "departement": None}
    if level not in keys:
        raise ValueError(f"unknown level {level!r}, expected one of {sorted(keys)}")
    df = structures.copy()
    key = keys[level]
    df["_key"] = "13" if key is None else df[key]
    agg = df.groupby("_key", sort=True).agg(
        n_structures=("structure", "size"), n_postes_attribues=("n_postes_attribues", "sum"),
        n_en_formation=("n_en_formation", "sum"), n_formes=("n_formes", "sum"),
        n_recrutes=("n_recrutes", "sum"),
        investment_eur=("investment_eur", lambda s: sum((v for v in s if v is not None), Decimal("0.00"))),
    )
    return agg.reset_index().rename(columns={"_key": "territory_code"})


# --------------------------------------------------------------------------- CLI
#: ``fne-eval import KIND``: reader of each kind.
READERS = {
    "lieux-standard": read_lieux_standard,
    "lieux-hubdusud-2023": read_lieux_hubdusud_2023,
    "lieux-aix-2024": read_lieux_aix_2024,
    "france-services": read_france_services,
    "conseillers-numeriques": read_conseillers_numeriques,
}


def import_file(kind: str, path: Union[str, Path]) -> tuple:
    """Import ``path`` read as ``kind`` and return ``(frame, report)``.

    Raises ValueError for an unknown kind.
    """
    if kind not in READERS:
        raise ValueError(f"unknown import kind {kind!r}, expected one of {sorted(READERS)}")
    rep = ImportReport()
    df = READERS[kind](path, report=rep)
    return df, rep


def _frame_as_text(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    if kind != "conseillers-numeriques":
        return to_text_frame(df, LIEUX)
    out = df.astype(object).where(df.notna(), "")
    for c in ("is_france_services", "is_zrr"):
        out[c] = [("true" if v else "false") if v != "" else "" for v in out[c]]
    return out.astype(str)


def write_csv_atomic(df: pd.DataFrame, out: Union[str, Path]) -> Path:
    """Write a text frame as UTF-8 CSV through a temporary file renamed into place.

    Text cells that a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+cmd|…``)
    are prefixed with ``'`` (the bundle reader removes it). Raises ``OSError`` with a French
    message when ``out`` is a folder or cannot be written.
    """
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"{out} est un dossier ; un chemin de fichier .csv est attendu")
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype):
            df[c] = neutralise_csv_column(df[c])
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            df.to_csv(f, index=False, lineterminator="\n")
        chmod_as_umask(tmp)  # mkstemp's 0600 would stay on the output
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out


def cmd_import(args) -> int:
    """Run ``fne-eval import KIND PATH --out OUT.csv``.

    Writes the imported table in the bundle's CSV format (atomically) and prints what was
    mapped and dropped, in French. Exit 0 when imported, 1 when the file was imported but
    breaks the standard (lieux-standard) or has unresolved communes, 2 when unreadable.
    La Coop and Mon Inclusion Numérique kinds are run by :mod:`fne_eval.ingest.commands`
    (the command line dispatches).
    """
    if isinstance(args.path, list):
        if len(args.path) != 1 or not args.out or getattr(args, "into", None):
            print(f"fne-eval import {args.kind} : un fichier et --out SORTIE.csv attendus", file=sys.stderr)
            return 2
        args.path = args.path[0]

    try:
        check_kind(args.kind, args.path)  # a file of another kind: say what it looks like, write nothing
        df, rep = import_file(args.kind, args.path)
    except IngestError as exc:
        print(f"fne-eval import : {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        print(f"fne-eval import : fichier illisible {args.path} : {exc}", file=sys.stderr)
        return 2
    try:
        write_csv_atomic(_frame_as_text(df, args.kind), args.out)
    except OSError as exc:
        print(f"fne-eval import : écriture impossible vers {args.out} : {os_error_fr(exc)}", file=sys.stderr)
        return 2
    for line in rep.lines_fr():
        print(line)
    print(f"Écrit : {args.out} ({_n(len(df))} lignes).")
    return 1 if (rep.violations or rep.unresolved) else 0
