"""Read La Coop de la médiation numérique's activity exports (xlsx) into bundle tables.

The field reference is ``COOP-MIN-FORMATS.md`` (§1); the layouts read are:

- **since 2025-08-20**: one row per accompagnement (beneficiary × activity); the n rows of
  an activity share its ``ID CRA`` and say ``i/n`` in ``Participants``. Two variants:
  *self* (a médiateur's own activities: ``Bénéficiaire`` and ``Notes supplémentaires``
  columns) and *team* (a coordinator's: ``Prénom/Nom du médiateur``, ``Rôle``,
  ``ID - Conum``), each with or without ``Source de la donnée``;
- **before 2025-08-20**: one row per activity, the per-participant values joined by
  line breaks in the same order across columns, a ``Lieu`` column ``<nom>, <CP> <commune>``
  and no ``ID CRA``, with the earlier header blocks (``Activités`` instead of ``Total``,
  ``Début/Fin de période`` filters) and column names (``Durée``, ``Niveau de l’atelier``...).

The table is found through the workbook's table object (``Activités``), or, when a user
re-saved the file without it, by scanning for the header row (``Date`` followed by known
column names); its row is never assumed. The header block above it gives the export date
and the filters, kept as provenance.

Personal data never leaves this module: the ``Bénéficiaire`` and ``Notes
supplémentaires`` columns, the médiateurs' names and the exporter's name are read only to
build pseudonymous keys (:func:`fne_eval.ingest.common.pseudonym`, secret key outside the
bundle) and are then dropped. Only their column names and counts reach the report.

Example
-------
>>> from fne_eval.ingest.coop import read_coop_exports
>>> result = read_coop_exports(["coop-numerique_accompagnements_2025-10-01.xlsx"])  # doctest: +SKIP
>>> result.activities, result.participants, print("\\n".join(result.report.lines_fr()))  # doctest: +SKIP
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import posixpath
import re
import unicodedata
import zipfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Union

import pandas as pd

from fne_eval.bundle.io import coerce_table, participant_rows  # noqa: F401  (participant_rows: see docs)
from fne_eval.bundle.io import BundleError, check_xlsx_size
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import INSEE, ROADMAP_END, ROADMAP_START, TABLES
from fne_eval.ingest.common import (IngestError, IngestReport, departement_of, norm_label, norm_person,
                                    pseudonym, pseudonym_key, sha256_file)
from fne_eval.core.paths import NATIONAL_DIR
from fne_eval.core.fmt import fmt_int
from fne_eval.ingest.opendata import normalize_commune_name, resolve_commune

SHEET_NAME = "Activités"
TABLE_NAME = "Activités"
#: Date of the switch to one row per accompagnement (commit 243d4fa2).
NEW_LAYOUT_DATE = _dt.date(2025, 8, 20)
LAYOUT_PER_PARTICIPANT = "une ligne par accompagnement (depuis le 2025-08-20)"
LAYOUT_PER_ACTIVITY = "une ligne par activité (avant le 2025-08-20)"
MAX_PARTICIPANTS = int(TABLES["participants"].column("participant_index").max)

# --------------------------------------------------------------------------- columns
#: Canonical column key → header labels of every layout (compared with :func:`norm_label`).
COLUMNS = {
    "date": ("Date",),
    "enregistre": ("Enregistré le",),
    "modifie": ("Dernière modification le",),
    "med_prenom": ("Prénom du médiateur",),
    "med_nom": ("Nom du médiateur",),
    "role": ("Rôle",),
    "conum": ("ID - Conum",),
    "type": ("Type", "Type d'accompagnement", "Type d'activité"),
    "participants": ("Participants",),
    "n_participants": ("Nombre de participants",),
    "beneficiaire": ("Bénéficiaire", "Bénéficiaires"),
    "canal": ("Canaux d'accompagnement", "Canal d'accompagnement", "Type de lieu", "Lieu d'accompagnement"),
    "lieu": ("Lieu",),
    "lieu_nom": ("Nom du lieu",),
    "adresse": ("Adresse",),
    "commune": ("Commune",),
    "code_postal": ("Code postal",),
    "code_insee": ("Code Insee", "Code INSEE"),
    "duree": ("Durée (min)", "Durée"),
    "atelier": ("Nom de l'atelier",),
    "materiel": ("Matériel numérique utilisé",),
    "themes": ("Thématique(s) d'accompagnement", "Thématiques d'accompagnement", "Thématiques"),
    "tags": ("Tags",),
    "demarche": ("Nom de la démarche administrative",),
    "autonomie": ("Niveau d'autonomie (ou de l'atelier)", "Niveau d'autonomie du bénéficiaire"),
    "niveau_atelier": ("Niveau de l'atelier",),
    "poursuite": ("Le bénéficiaire va-t-il poursuivre son parcours d'accompagnement ?",
                  "Le bénéficiaire intègre un accompagnement de médiation numérique ?"),
    "finalisee": ("La démarche est-elle finalisée ?",),
    "reoriente": ("Bénéficiaire réorienté", "Le bénéficiaire est-il orienté vers une autre structure ?"),
    "redirection": ("Structure de redirection",),
    "ben_commune": ("Commune du bénéficiaire",),
    "ben_cp": ("Code postal du bénéficiaire",),
    "ben_insee": ("Code Insee du bénéficiaire", "Code INSEE du bénéficiaire"),
    "ben_residence": ("Commune de résidence du bénéficiaire",),
    "genre": ("Genre du bénéficiaire",),
    "age": ("Tranche d'âge du bénéficiaire",),
    "statut": ("Statut du bénéficiaire",),
    "notes": ("Notes supplémentaires",),
    "source": ("Source de la donnée",),
    "id": ("ID CRA",),
}
_HEADER_KEYS = {norm_label(label): key for key, labels in COLUMNS.items() for label in labels}
#: Columns holding personal data: read only to build pseudonyms, then dropped.
PERSONAL_COLUMNS = ("beneficiaire", "notes", "med_prenom", "med_nom")
#: Per-participant columns of the pre-2025-08-20 layout (values joined by line breaks).
PER_PARTICIPANT_OLD = ("beneficiaire", "ben_residence", "genre", "age", "statut")
REQUIRED = {
    "new": ("date", "type", "participants", "canal", "code_insee", "duree", "themes", "genre", "age", "statut", "id"),
    "old": ("date", "type", "n_participants", "duree", "themes"),
}

# --------------------------------------------------------------------------- labels
ACTIVITY_TYPE_LABELS = {
    "Accompagnement individuel": "individuel",
    "Atelier collectif": "collectif",
    "Individuel": "individuel",
    "Collectif": "collectif",
    # until 2025-04-30 (migration remove_demarche_activite_type): now individuel + the
    # theme aide_aux_demarches_administratives
    "Aide aux démarches administratives": "demarche",
    "Démarche administrative": "demarche",
}
PLACE_TYPE_LABELS = {
    "Lieu d'activité": "lieu_activite",
    "Autre lieu": "autre",
    "À domicile": "domicile",
    "A domicile": "domicile",
    "Domicile": "domicile",
    "À distance": "a_distance",
    "A distance": "a_distance",
    "Autre": "autre",
}
THEME_LABELS = {
    "Diagnostic numérique": "diagnostic_numerique",
    "Prendre en main du matériel": "prendre_en_main_du_materiel",
    "Maintenance de matériel": "maintenance_de_materiel",
    "Gérer ses contenus numériques": "gere_ses_contenus_numeriques",  # see GERE_LABEL
    "Navigation sur internet": "navigation_sur_internet",
    "E-mail": "email",
    "Bureautique": "bureautique",
    "Réseaux sociaux communication": "reseaux_sociaux",
    "Réseaux sociaux": "reseaux_sociaux",
    "Santé": "sante",
    "Banque et achats en ligne": "banque_et_achats_en_ligne",
    "Accompagner un professionnel": "entrepreneuriat",
    "Entrepreneuriat": "entrepreneuriat",  # label until 2024-12-04
    "Insertion professionnelle": "insertion_professionnelle",
    "Prévention en sécurité numérique": "securite_numerique",
    "Parentalité": "parentalite",
    "Scolarité et numérique": "scolarite_et_numerique",
    "Créer avec le numérique": "creer_avec_le_numerique",
    "Culture numérique": "culture_numerique",
    "Intelligence artificielle (IA)": "intelligence_artificielle",
    "Aide aux démarches administratives": "aide_aux_demarches_administratives",
    "Papiers - Élections - Citoyenneté": "papiers_elections_citoyennete",
    "Papiers - Élections Citoyenneté": "papiers_elections_citoyennete",  # until 2026-02-27
    "Famille - Scolarité": "famille_scolarite",
    "Social - Santé": "social_sante",
    "Travail - Formation - Entreprise": "travail_formation",
    "Travail - Formation": "travail_formation",  # until 2025-05-01
    "Logement": "logement",
    "Transports - Mobilité": "transports_mobilite",
    "Argent - Impôts": "argent_impots",
    "Justice": "justice",
    "Étrangers - Europe": "etrangers_europe",
    "Loisirs - Sports - Culture": "loisirs_sports_culture",
    "Loisirs - Sports Culture": "loisirs_sports_culture",  # until 2026-02-27
    "Associations": "associations",
}
#: From 2024-12-16 to 2025-03-04 the code CreerAvecLeNumerique carried this label; since
#: 2025-03-26 it belongs to GereSesContenusNumeriques (COOP-MIN-FORMATS §1.4.3).
GERE_LABEL = "Gérer ses contenus numériques"
GERE_TRAP = (_dt.date(2024, 12, 16), _dt.date(2025, 3, 26))
GENDER_LABELS = {"Masculin": "masculin", "Féminin": "feminin", "Homme": "masculin", "Femme": "feminin",
                 "Non communiqué": "non_communique"}
AGE_LABELS = {
    "Moins de 12 ans": "moins_de_douze",
    "12 - 17 ans": "douze_dix_huit",
    "12 - 18 ans": "douze_dix_huit",  # 2024-11-04 → 2024-11-18
    "Mineur(e)": "douze_dix_huit",  # before 2024-11-04, migrated to douze_dix_huit
    "Mineur": "douze_dix_huit",
    "18 - 24 ans": "dix_huit_vingt_quatre",
    "25 - 39 ans": "vingt_cinq_trente_neuf",
    "40 - 59 ans": "quarante_cinquante_neuf",
    "60 - 69 ans": "soixante_soixante_neuf",
    "70 ans et plus": "soixante_dix_plus",
    "Non communiqué": "non_communique",
}
STATUS_LABELS = {
    "Retraité": "retraite", "Retraité(e)": "retraite",
    "Sans emploi": "sans_emploi",
    "En emploi": "en_emploi",
    "Scolarisé": "scolarise", "Scolarisé(e)": "scolarise",
    "Non communiqué ou hétérogène": "non_communique",
    "Non communiqué": "non_communique",
}
ANONYMOUS = norm_label("Bénéficiaire anonyme")
#: Header-block filter rows whose value names people: the value is not kept.
PERSONAL_FILTERS = {norm_label(x) for x in ("Bénéficiaire", "Bénéficiaires", "Médiateur", "Médiateurs")}
NOT_KEPT = "(non conservé : données personnelles)"


def _lookup(mapping: dict) -> dict:
    return {norm_label(k): v for k, v in mapping.items()}


_TYPES, _PLACES, _THEMES = _lookup(ACTIVITY_TYPE_LABELS), _lookup(PLACE_TYPE_LABELS), _lookup(THEME_LABELS)
_GENDERS, _AGES, _STATUSES = _lookup(GENDER_LABELS), _lookup(AGE_LABELS), _lookup(STATUS_LABELS)
_INSEE_RE = re.compile(INSEE)
_PLACE_RE = re.compile(r"(\d{5})\s+([^,\d][^,]*?)\s*$")


# --------------------------------------------------------------------------- results
@dataclass
class CoopImport:
    """What :func:`read_coop_exports` returns.

    Attributes
    ----------
    activities, participants : pandas.DataFrame
        Typed bundle tables (``spec.TABLES``).
    places : pandas.DataFrame
        ``activity_id``, ``lieu_nom``, ``code_insee``: the place named by each activity,
        to match it with the bundle's ``lieux`` (:func:`match_lieux`); no personal data.
    report : IngestReport
        Counts, located errors and warnings, notes, and ``sources``: one provenance
        record per file (name, SHA-256, export date and time, filters and period of the
        header block, layout and variant detected, how the table was found).
    deleted_ids : list of str
        Activities known to be deleted at the source (always empty for xlsx exports).
    """

    activities: pd.DataFrame
    participants: pd.DataFrame
    places: pd.DataFrame
    report: IngestReport
    deleted_ids: list = field(default_factory=list)


@dataclass
class _Sheet:
    """A workbook's activity table as read: header block, headers and data rows."""

    path: Path
    sheet: str
    header_row: int
    found_by: str
    columns: dict  # canonical key -> (index in the row, header label)
    ignored: list  # header labels not understood
    rows: list  # (excel row number, tuple of values)
    block: list  # (label, value) of the header block above the table


@dataclass
class _Activity:
    activity_id: str
    date: _dt.date
    activity_type: str
    place_type: str
    n: int
    duration_min: int
    themes: list
    place_code: str
    mediator_id: str
    lieu_nom: str
    first_row: int
    participants: dict = field(default_factory=dict)  # index -> dict


# --------------------------------------------------------------------------- workbook
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _rels(z: zipfile.ZipFile, part: str) -> dict:
    """Return {relationship id: (type, absolute part path)} of an OOXML part."""
    folder, name = posixpath.split(part)
    rel_path = posixpath.join(folder, "_rels", name + ".rels")
    if rel_path not in z.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(z.read(rel_path)).findall("p:Relationship", _NS):
        target = rel.get("Target", "")
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type", ""), full)
    return out


def table_objects(path: Union[str, Path]) -> list:
    """Return the Excel table objects of a workbook as ``(sheet title, table name, ref)``.

    Read from the file's XML (``xl/tables/*.xml`` through the sheets' relationships), so
    that the workbook can then be streamed in read-only mode.
    """
    out = []
    with zipfile.ZipFile(path) as z:
        wb_part = "xl/workbook.xml"
        wb_rels = _rels(z, wb_part)
        for sheet in ET.fromstring(z.read(wb_part)).iter(f"{{{_NS['m']}}}sheet"):
            rid = sheet.get(f"{{{_NS['r']}}}id")
            if rid not in wb_rels:
                continue
            sheet_part = wb_rels[rid][1]
            for typ, part in _rels(z, sheet_part).values():
                if typ.endswith("/table") and part in z.namelist():
                    t = ET.fromstring(z.read(part))
                    out.append((sheet.get("name"), t.get("displayName") or t.get("name") or "", t.get("ref") or ""))
    return out


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _header_keys(cells) -> dict:
    """Return {canonical key: (index, label)} of a header row's understood cells."""
    out = {}
    for j, v in enumerate(cells):
        key = _HEADER_KEYS.get(norm_label(_text(v)))
        if key and key not in out:
            out[key] = (j, _text(v))
    return out


def _is_header(cells) -> bool:
    """Return True for the activity table's header row: ``Date`` then known column names."""
    if not cells or norm_label(_text(cells[0])) != "date":
        return False
    keys = _header_keys(cells)
    return len(keys) >= 5 and "type" in keys and ("themes" in keys or "duree" in keys)


def _read_sheet(path: Path) -> _Sheet:
    """Open an export and return its table, found by table object or by header scan."""
    from openpyxl import load_workbook  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.utils.cell import range_boundaries  # lazy: openpyxl (~0.7 s), Excel files only

    place = path.name
    if not path.exists():
        raise IngestError(f"{place} : fichier introuvable ({path})")
    if path.stat().st_size == 0:
        raise IngestError(f"{place} : fichier vide (0 octet)")
    if not zipfile.is_zipfile(path):
        raise IngestError(f"{place} : n'est pas un classeur Excel .xlsx (un export « Mes activités » de La Coop "
                          "est attendu ; un fichier réenregistré en CSV ne convient pas : reprendre le .xlsx)")

    try:
        check_xlsx_size(path)  # a decompression bomb is refused before anything is parsed
    except BundleError as exc:
        raise IngestError(str(exc)) from exc
    try:
        tables = table_objects(path)
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors of all kinds
        raise IngestError(f"{place} : classeur Excel illisible ({exc})") from exc
    try:
        chosen = None
        for sheet, name, ref in tables:
            if norm_label(name) == norm_label(TABLE_NAME) or (chosen is None and ref):
                chosen = (sheet, name, ref)
                if norm_label(name) == norm_label(TABLE_NAME):
                    break
        if chosen is not None and chosen[0] in wb.sheetnames:
            sheet = chosen[0]
            min_col, min_row, max_col, max_row = range_boundaries(chosen[2])
            ws = wb[sheet]
            all_rows = list(ws.iter_rows(min_row=1, max_row=max_row, max_col=max_col, values_only=True))
            header = all_rows[min_row - 1][min_col - 1:max_col] if len(all_rows) >= min_row else ()
            if _is_header(header):
                found_by = f"objet tableau « {chosen[1]} » ({chosen[2]})"
                data = [(i, tuple(r[min_col - 1:max_col])) for i, r in enumerate(all_rows, start=1)
                        if min_row < i <= max_row]
                return _sheet_of(path, sheet, min_row, found_by, header, data, all_rows[:min_row - 1])
        # no usable table object: scan each sheet (Activités first) for the header row
        order = sorted(wb.sheetnames, key=lambda s: norm_label(s) != norm_label(SHEET_NAME))
        for sheet in order:
            ws = wb[sheet]
            all_rows = list(ws.iter_rows(values_only=True))
            for i, r in enumerate(all_rows[:300], start=1):
                if _is_header(r):
                    width = len(r)
                    while width and _text(r[width - 1]) == "":
                        width -= 1
                    data = [(k, tuple(x[:width])) for k, x in enumerate(all_rows, start=1) if k > i]
                    found_by = f"recherche de la ligne d'en-tête (ligne {i}, sans objet tableau)"
                    return _sheet_of(path, sheet, i, found_by, r[:width], data, all_rows[:i - 1])
    finally:
        wb.close()
    expected = ", ".join(COLUMNS[k][0] for k in ("date", "type", "duree", "themes", "id"))
    raise IngestError(f"{place} : aucune table d'activités trouvée (ni objet tableau « {TABLE_NAME} », ni ligne "
                      f"d'en-tête commençant par « Date » suivie de colonnes comme {expected}) ; "
                      "un export « Mes activités » de La Coop est attendu")


def _sheet_of(path, sheet, header_row, found_by, header, data, above) -> _Sheet:
    columns = _header_keys(header)
    ignored = [_text(h) for j, h in enumerate(header)
               if _text(h) and j not in {idx for idx, _ in columns.values()}]
    rows = [(i, r) for i, r in data if any(_text(v) for v in r)]
    block = []
    for r in above:
        a = _text(r[0]) if len(r) > 0 else ""
        b = r[1] if len(r) > 1 else None
        if a:
            block.append((a, b))
    return _Sheet(path=path, sheet=sheet, header_row=header_row, found_by=found_by, columns=columns,
                  ignored=ignored, rows=rows, block=block)


# --------------------------------------------------------------------------- header block
def _parse_day(v) -> Optional[_dt.date]:
    """Return a date from a cell: date/datetime, Excel serial, ``dd/mm/yyyy``, ``dd.mm.yyyy``, ISO."""
    if v is None or v == "":
        return None
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        if 20000 <= v <= 80000 and float(v).is_integer():  # an Excel serial that lost its format
            return _dt.date(1899, 12, 30) + _dt.timedelta(days=int(v))
        return None
    s = str(v).strip()
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", s)
    if m:
        d, mo, y = map(int, m.groups())
    else:
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?", s)
        if not m:
            return None
        y, mo, d = map(int, m.groups())
    try:
        return _dt.date(y, mo, d)
    except ValueError:
        return None


def parse_header_block(block: list) -> dict:
    """Return the export's provenance from its header block.

    Parameters
    ----------
    block : list of (label, value)
        Rows above the table, column A and B.

    Returns
    -------
    dict
        ``export_date`` (ISO or None), ``export_time``, ``role``, ``total`` (the announced
        row count), ``filters`` (label → value; values naming people are replaced by
        :data:`NOT_KEPT`), ``period`` (``[start, end]`` ISO or None) and, private to this
        module, ``_exporter`` (the exporter's normalised name, never stored).
    """
    info = {"export_date": None, "export_time": None, "role": None, "total": None, "filters": {},
            "period": None, "_exporter": ""}
    section = "info"
    names = []
    start = end = None
    for label, value in block:
        key = norm_label(label)
        text = _text(value)
        if key == "filtres" and not text:
            section = "filters"
            continue
        if key == "informations export" and not text:
            section = "info"
            continue
        if section == "info":
            if key in ("nom", "prénom"):
                if text and text != "-":
                    names.append(text)
            elif key == "rôle":
                info["role"] = text or None
            elif key in ("total", "activités", "accompagnements"):
                info["total"] = int(value) if isinstance(value, (int, float)) and float(value).is_integer() else \
                    (int(text) if text.isdigit() else None)
            elif key == "date d'export":
                d = _parse_day(value)
                info["export_date"] = d.isoformat() if d else None
            elif key == "heure d'export":
                info["export_time"] = value.strftime("%H:%M") if isinstance(value, _dt.time) else (text or None)
            continue
        shown = label.replace("\u2019", "'")
        if key in PERSONAL_FILTERS:
            info["filters"][shown] = NOT_KEPT if text and text != "-" else "-"
            continue
        if isinstance(value, (_dt.date, _dt.datetime)):
            text = _parse_day(value).isoformat()
        info["filters"][shown] = text or "-"
        if key == "période":
            m = re.fullmatch(r"\s*(\S+)\s*-\s*(\S+)\s*", text)
            if m:
                start, end = _parse_day(m.group(1)), _parse_day(m.group(2))
        elif key == "début de période":
            start = _parse_day(value)
        elif key == "fin de période":
            end = _parse_day(value)
    if start or end:
        info["period"] = [start.isoformat() if start else None, end.isoformat() if end else None]
    info["_exporter"] = norm_person(" ".join(names))
    return info


# --------------------------------------------------------------------------- communes
@lru_cache(maxsize=1)
def _national_by_name() -> dict:
    """Return {(département, normalised name): [INSEE codes]} of every commune of France."""
    df = pd.read_csv(NATIONAL_DIR / "communes_france.csv", dtype=str, keep_default_na=False,
                     usecols=["code_insee", "nom", "departement"])
    out = defaultdict(list)
    for code, nom, dep in df.itertuples(index=False):
        out[(dep, normalize_commune_name(nom))].append(code)
    return dict(out)


def resolve_place(code_postal: str, name: str) -> str:
    """Return the INSEE code (Marseille: arrondissement) of ``<CP> <commune>``, or "".

    The département's communes go through :func:`fne_eval.core.communes.resolve_commune`;
    elsewhere the name is looked up among the communes of the postcode's département.
    """
    cp = str(code_postal or "").strip()
    name = str(name or "").strip()
    if not cp and not name:
        return ""
    res = resolve_commune(cp, name)
    if res.territory_code and (not cp or departement_of(res.commune_code) == departement_of(cp)
                               or res.method.startswith("code_postal")):
        return res.territory_code
    dep = departement_of(cp)
    deps = ("2A", "2B") if dep == "20" else (dep,)
    hits = [c for d in deps for c in _national_by_name().get((d, normalize_commune_name(name)), [])]
    return hits[0] if len(hits) == 1 else ""


def _split_place(text: str) -> tuple:
    """Return ``(name, postcode, commune)`` of an old-layout ``Lieu`` cell."""
    s = " ".join(str(text or "").split())
    s = re.sub(r"^Structure employeuse\s*:\s*", "", s)
    m = _PLACE_RE.search(s)
    if not m:
        return s, "", ""
    name = s[:m.start()].rstrip(" ,")
    return name, m.group(1), m.group(2).strip()


def territory_codes(territories) -> set:
    """Return the commune and arrondissement codes of a bundle's ``territories`` table (or of codes)."""
    if territories is None:
        territories = load_bundle()["territories"]
    if isinstance(territories, pd.DataFrame):
        t = territories
        if "level" in t.columns:
            t = t[t["level"].isin(["commune", "arrondissement"])]
        return set(t["territory_code"].dropna().astype(str))
    return {str(c) for c in territories}


# --------------------------------------------------------------------------- cells
def _parse_int(v) -> Optional[int]:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    s = str(v).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    return int(s) if re.fullmatch(r"\d+", s) else None


def _parse_rank(v) -> Optional[tuple]:
    """Return ``(i, n)`` of a ``Participants`` cell (``1`` or ``i/n``), else None."""
    if isinstance(v, (_dt.date, _dt.datetime)):
        return None
    n = _parse_int(v)
    if n is not None:
        return (1, 1) if n == 1 else None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(v or ""))
    if not m:
        return None
    i, n = int(m.group(1)), int(m.group(2))
    return (i, n) if 1 <= i <= n else None


def _lines(v) -> list:
    """Return the lines of a multi-valued cell (line breaks), stripped, empty ones dropped."""
    return [x.strip() for x in re.split(r"\r\n|\r|\n", _text(v)) if x.strip()]


# --------------------------------------------------------------------------- reading one file
class _FileReader:
    """Turn one export's rows into activities with their participants."""

    def __init__(self, sh: _Sheet, info: dict, key: bytes, report: IngestReport, territories: set):
        self.sh, self.info, self.key, self.report, self.territories = sh, info, key, report, territories
        self.place = sh.path.name
        self.cols = sh.columns
        self.layout = "new" if "id" in self.cols and "participants" in self.cols else "old"
        self.variant = "equipe" if ("med_nom" in self.cols or "med_prenom" in self.cols) else "personnel"
        self.personal_counts = Counter()
        self.gere_code = None  # resolved per file, see _gere_code()

    # locating
    def err(self, row, key, value, message):
        label = self.cols[key][1] if key in self.cols else (COLUMNS[key][0] if key in COLUMNS else key)
        if key in PERSONAL_COLUMNS:
            value = NOT_KEPT
        self.report.error(self.place, message, sheet=self.sh.sheet, row=row, column=label, value=_text(value))

    def warn(self, row, key, value, message):
        label = self.cols[key][1] if key in self.cols else (COLUMNS[key][0] if key in COLUMNS else key)
        if key in PERSONAL_COLUMNS:
            value = NOT_KEPT
        self.report.warn(self.place, message, sheet=self.sh.sheet, row=row, column=label, value=_text(value))

    def get(self, r, key):
        if key not in self.cols:
            return None
        j = self.cols[key][0]
        return r[j] if j < len(r) else None

    def check_columns(self) -> None:
        missing = [k for k in REQUIRED[self.layout] if k not in self.cols]
        if self.layout == "old" and "canal" not in self.cols and "lieu" not in self.cols:
            missing.append("canal")
        if missing:
            names = ", ".join(f"« {COLUMNS[k][0]} »" for k in missing)
            raise IngestError(f"{self.place}, feuille « {self.sh.sheet} », ligne {self.sh.header_row} (en-tête) : "
                              f"colonne(s) absente(s) : {names} ; un export « Mes activités » de La Coop est attendu")

    # vocabularies
    def theme_codes(self, row, value) -> list:
        out = []
        for label in _lines(value):
            k = norm_label(label)
            if k == norm_label(GERE_LABEL):
                code = self._gere_code(row, label)
            else:
                code = _THEMES.get(k)
                if code is None:
                    self.err(row, "themes", label, "thématique inconnue, non reprise (libellés attendus : ceux de "
                             "La Coop, par exemple « E-mail », « Aide aux démarches administratives »)")
            if code and code not in out:
                out.append(code)
        return out

    def _gere_code(self, row, label) -> Optional[str]:
        if self.gere_code is None:
            d = _parse_day(self.info.get("export_date"))
            if d is not None:
                self.gere_code = "creer_avec_le_numerique" if GERE_TRAP[0] <= d < GERE_TRAP[1] \
                    else "gere_ses_contenus_numeriques"
            else:
                self.gere_code = self._guess_gere()
        if self.gere_code == "ambiguous":
            self.err(row, "themes", label, "thématique ambiguë : entre le 2024-12-16 et le 2025-03-26 ce libellé "
                     "désignait « Créer avec le numérique » ; sans date d'export dans le fichier, elle n'est pas "
                     "reprise")
            return None
        return self.gere_code

    def _guess_gere(self) -> str:
        creer = norm_label("Créer avec le numérique")
        latest = None
        for _, r in self.sh.rows:
            if any(norm_label(x) == creer for x in _lines(self.get(r, "themes"))):
                return "gere_ses_contenus_numeriques"  # both labels in one file: the current dictionary
            d = _parse_day(self.get(r, "date"))
            latest = d if d and (latest is None or d > latest) else latest
        if latest is not None and latest >= GERE_TRAP[1]:
            return "gere_ses_contenus_numeriques"
        return "ambiguous"

    def demographics(self, row, key, value, table) -> str:
        t = _text(value)
        if not t or t == "-":
            return "non_communique"
        code = table.get(norm_label(t))
        if code is None:
            self.err(row, key, t, "valeur inconnue, comptée « non communiqué »")
            return "non_communique"
        return code

    def activity_fields(self, row, r) -> Optional[dict]:
        """Return the activity-level fields of a row, or None (errors recorded)."""
        ok = True
        d = _parse_day(self.get(r, "date"))
        if d is None:
            self.err(row, "date", self.get(r, "date"), "date illisible (date Excel ou JJ/MM/AAAA attendue)")
            ok = False
        elif self.info.get("export_date") and d.isoformat() > self.info["export_date"]:
            self.warn(row, "date", d.isoformat(), f"date postérieure à la date d'export ({self.info['export_date']})")
        t_label = _text(self.get(r, "type"))
        t = _TYPES.get(norm_label(t_label))
        if t is None:
            self.err(row, "type", t_label, "type inconnu (« Accompagnement individuel » ou « Atelier collectif » "
                     "attendu)")
            ok = False
        duration = _parse_int(self.get(r, "duree"))
        if duration is None or not 1 <= duration <= 1440:
            self.err(row, "duree", self.get(r, "duree"), "durée en minutes attendue (nombre entier de 1 à 1 440)")
            ok = False
        themes = self.theme_codes(row, self.get(r, "themes"))
        if t == "demarche":
            t = "individuel"
            if "aide_aux_demarches_administratives" not in themes:
                themes.append("aide_aux_demarches_administratives")
            self.report.count("Activités de type « Aide aux démarches administratives » lues comme "
                              "individuelles avec cette thématique (comme La Coop depuis le 2025-04-30)")
        if ok and not themes:
            self.err(row, "themes", self.get(r, "themes"), "aucune thématique reconnue : activité écartée "
                     "(au moins une thématique est attendue)")
            ok = False
        return dict(date=d, activity_type=t, duration_min=duration, themes=themes) if ok else None

    def place_type(self, row, r) -> Optional[str]:
        if "canal" not in self.cols:  # earliest layout: the place is only in « Lieu »
            return "lieu_activite"
        label = _text(self.get(r, "canal"))
        code = _PLACES.get(norm_label(label))
        if code is None:
            self.err(row, "canal", label, "canal inconnu (« Lieu d'activité », « Autre lieu », « À domicile » "
                     "ou « À distance » attendu)")
        return code

    def mediator(self, r) -> str:
        if self.variant == "equipe":
            name = norm_person(f"{_text(self.get(r, 'med_prenom'))} {_text(self.get(r, 'med_nom'))}")
        else:
            name = self.info.get("_exporter", "")
        return pseudonym(self.key, "mediateur", name, "med-")

    def beneficiary(self, mediator_name: str, name: str) -> tuple:
        """Return (is_anonymous, beneficiary_key) of a ``Bénéficiaire`` value (self exports)."""
        if not name or norm_label(name) == ANONYMOUS:
            return True, ""
        return False, pseudonym(self.key, "beneficiaire", f"{mediator_name}|{norm_person(name)}", "ben-")

    def count_personal(self, r) -> None:
        for k in PERSONAL_COLUMNS:
            if k in self.cols and _text(self.get(r, k)):
                self.personal_counts[self.cols[k][1]] += 1

    # layouts
    def read(self) -> list:
        self.check_columns()
        acts = self.read_new() if self.layout == "new" else self.read_old()
        return acts

    def read_new(self) -> list:
        groups = defaultdict(list)
        for row, r in self.sh.rows:
            self.count_personal(r)
            aid = _text(self.get(r, "id"))
            if not aid:
                self.err(row, "id", "", "identifiant d'activité (ID CRA) manquant : ligne écartée")
                continue
            groups[aid].append((row, r))
        out = []
        for aid, rows in groups.items():
            act = self.build_new(aid, rows)
            if act is not None:
                out.append(act)
        return out

    def build_new(self, aid: str, rows: list) -> Optional[_Activity]:
        first_row, r0 = rows[0]
        fields = self.activity_fields(first_row, r0)
        place_type = self.place_type(first_row, r0)
        ranks = []
        for row, r in rows:
            rank = _parse_rank(self.get(r, "participants"))
            if rank is None:
                v = self.get(r, "participants")
                hint = " (un tableur l'a transformée en date : reprendre l'export .xlsx d'origine)" \
                    if isinstance(v, (_dt.date, _dt.datetime)) else ""
                self.err(row, "participants", v, f"« 1 » ou « i/n » attendu{hint} : activité {aid} écartée")
                return None
            ranks.append(rank)
        ns = {n for _, n in ranks}
        if len(ns) > 1:
            self.err(first_row, "participants", f"{ranks[0][0]}/{ranks[0][1]}",
                     f"les lignes de l'activité {aid} n'annoncent pas le même nombre de participants : écartée")
            return None
        n = ns.pop()
        if n > MAX_PARTICIPANTS:
            self.err(first_row, "participants", f"{ranks[0][0]}/{n}",
                     f"plus de {MAX_PARTICIPANTS} participants : activité {aid} écartée")
            return None
        seen = {}
        for (row, _), (i, _) in zip(rows, ranks):
            if i in seen:
                self.err(row, "participants", f"{i}/{n}", f"rang déjà présent ligne {seen[i]} pour l'activité "
                         f"{aid} : activité écartée")
                return None
            seen[i] = row
        code = _text(self.get(r0, "code_insee"))
        if code and not _INSEE_RE.match(code):
            self.warn(first_row, "code_insee", code, "code INSEE invalide (5 caractères attendus) : lieu non "
                      "rattaché à une commune")
            code = ""
        # activity-level values must agree over the rows of one activity
        for row, r in rows[1:]:
            for k in ("date", "type", "duree", "canal", "code_insee"):
                if k in self.cols and _text(self.get(r, k)) != _text(self.get(r0, k)):
                    self.err(row, k, self.get(r, k), f"diffère de la ligne {first_row} pour la même activité "
                             f"{aid} : activité écartée")
                    return None
        if fields is None or place_type is None:
            return None
        mediator_name = self.info.get("_exporter", "") if self.variant == "personnel" else \
            norm_person(f"{_text(self.get(r0, 'med_prenom'))} {_text(self.get(r0, 'med_nom'))}")
        act = _Activity(activity_id=aid, n=n, place_type=place_type, place_code=code,
                        mediator_id=self.mediator(r0), lieu_nom=_text(self.get(r0, "lieu_nom")),
                        first_row=first_row, **fields)
        collective = act.activity_type == "collectif"
        for (row, r), (i, _) in zip(rows, ranks):
            ben = _text(self.get(r, "ben_insee"))
            if ben and not _INSEE_RE.match(ben):
                self.warn(row, "ben_insee", ben, "code INSEE invalide : résidence non reprise")
                ben = ""
            if "beneficiaire" in self.cols:
                anonymous, bkey = self.beneficiary(mediator_name, _text(self.get(r, "beneficiaire")))
                random = collective and anonymous
            else:  # team export: anonymous participants cannot be told apart
                bkey, random = "", collective
            act.participants[i] = dict(
                commune_code=ben, age_band=self.demographics(row, "age", self.get(r, "age"), _AGES),
                gender=self.demographics(row, "genre", self.get(r, "genre"), _GENDERS),
                social_status=self.demographics(row, "statut", self.get(r, "statut"), _STATUSES),
                demographics_random=random, beneficiary_key=bkey)
        missing = n - len(rows)
        if missing:
            self.warn(first_row, "participants", f"{len(rows)}/{n}", f"{missing} participant(s) de l'activité {aid} "
                      "absent(s) du fichier (export filtré ?) : comptés sans résidence ni âge, genre, statut")
            self.report.count("Participants absents du fichier, comptés « non communiqué »", missing)
            for i in range(1, n + 1):
                act.participants.setdefault(i, dict(commune_code="", age_band="non_communique",
                                                    gender="non_communique", social_status="non_communique",
                                                    demographics_random=False, beneficiary_key=""))
        return act

    def read_old(self) -> list:
        out = []
        occurrences = Counter()
        for row, r in self.sh.rows:
            self.count_personal(r)
            act = self.build_old(row, r, occurrences)
            if act is not None:
                out.append(act)
        return out

    def old_id(self, r, occurrences: Counter) -> str:
        """Return a stable id for a row of the old layout: a hash of its non-personal content."""
        parts = []
        for key in sorted(self.cols):
            if key in PERSONAL_COLUMNS:
                continue
            v = self.get(r, key)
            parts.append(f"{key}={_parse_day(v).isoformat() if key == 'date' and _parse_day(v) else _text(v)}")
        content = "\x1f".join(parts)
        occurrences[content] += 1
        h = hashlib.sha256(f"{content}\x1e{occurrences[content]}".encode("utf-8")).hexdigest()
        return f"coop-v0-{h[:24]}"

    def build_old(self, row: int, r, occurrences: Counter) -> Optional[_Activity]:
        aid = self.old_id(r, occurrences)
        fields = self.activity_fields(row, r)
        place_type = self.place_type(row, r)
        n = _parse_int(self.get(r, "n_participants"))
        if n is None or not 1 <= n <= MAX_PARTICIPANTS:
            self.err(row, "n_participants", self.get(r, "n_participants"),
                     f"nombre entier de 1 à {MAX_PARTICIPANTS} attendu : activité écartée")
            return None
        if fields is None or place_type is None:
            return None
        lieu_nom, cp, commune = _split_place(self.get(r, "lieu"))
        code = resolve_place(cp, commune) if (cp or commune) else ""
        if (cp or commune) and not code:
            self.warn(row, "lieu", f"{cp} {commune}".strip(), "commune du lieu non reconnue : lieu non rattaché")
        lines = {k: _lines(self.get(r, k)) for k in PER_PARTICIPANT_OLD if k in self.cols}
        counts = {k: len(v) for k, v in lines.items() if v}
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{self.cols[k][1]} {c}" for k, c in counts.items())
            self.err(row, "genre", "", f"les colonnes par participant n'ont pas le même nombre de lignes ({detail}) : "
                     "appariement impossible, activité écartée")
            return None
        m = max(counts.values()) if counts else 0
        if m > n:
            self.err(row, "n_participants", n, f"{m} participants détaillés pour {n} annoncés : activité écartée")
            return None
        act = _Activity(activity_id=aid, n=n, place_type=place_type, place_code=code,
                        mediator_id=self.mediator(r), lieu_nom=lieu_nom, first_row=row, **fields)
        collective = act.activity_type == "collectif"
        mediator_name = self.info.get("_exporter", "")
        for i in range(1, n + 1):
            def line(k, i=i):
                v = lines.get(k) or []
                return v[i - 1] if i <= len(v) else ""
            residence = line("ben_residence")
            ben = ""
            if residence and residence != "-":
                m_cp = re.match(r"^(\d{5})\s+(.*)$", residence)
                ben = resolve_place(*(m_cp.groups() if m_cp else ("", residence)))
                if not ben:
                    self.warn(row, "ben_residence", residence, f"commune de résidence du participant {i} non reconnue")
            if "beneficiaire" in lines and i <= len(lines["beneficiaire"]):
                anonymous, bkey = self.beneficiary(mediator_name, line("beneficiaire"))
            else:
                anonymous, bkey = True, ""
            act.participants[i] = dict(
                commune_code=ben, age_band=self.demographics(row, "age", line("age"), _AGES),
                gender=self.demographics(row, "genre", line("genre"), _GENDERS),
                social_status=self.demographics(row, "statut", line("statut"), _STATUSES),
                demographics_random=collective and anonymous, beneficiary_key=bkey)
        if m < n:
            self.report.count("Participants sans détail dans l'ancien format, comptés « non communiqué »", n - m)
        return act


# --------------------------------------------------------------------------- several files
def _sort_key(item) -> tuple:
    info, path = item[1], item[0].path
    return (info.get("export_date") or "", info.get("export_time") or "", os.path.getmtime(path))


def read_coop_exports(paths: Iterable[Union[str, Path]], territories=None, key: Optional[bytes] = None,
                      period: tuple = (ROADMAP_START, ROADMAP_END)) -> CoopImport:
    """Read La Coop activity exports (xlsx, any layout) into ``activities`` and ``participants``.

    Parameters
    ----------
    paths : iterable of str or Path
        One or several exports. Activities found in several files (same ``ID CRA``) are
        taken from the latest export (header-block date and time, else file date); the
        report says how many.
    territories : pandas.DataFrame or iterable of str, optional
        The bundle's ``territories`` table (or its commune and arrondissement codes):
        an activity whose place and participants' residences all lie outside is left
        out and counted per département. Default: the embedded bundle's.
    key : bytes, optional
        Pseudonymisation key; default :func:`fne_eval.ingest.common.pseudonym_key`.
    period : (str, str)
        Activities dated outside are left out and counted (default: the roadmap's period).

    Returns
    -------
    CoopImport
        Typed tables, places, and the report (French lines with
        ``result.report.lines_fr()``; per-file provenance in ``result.report.sources``).

    Raises
    ------
    fne_eval.ingest.common.IngestError
        A file cannot be read as a La Coop export (the message names it).

    Notes
    -----
    - ``mediator_id`` = ``med-`` + HMAC-SHA256 of the médiateur's normalised name (team
      exports) or of the exporter's (self exports); ``beneficiary_key`` = ``ben-`` + HMAC
      of the médiateur and beneficiary names (self exports, named beneficiaries only).
    - ``demographics_random`` is True for the anonymous participants of a collective
      workshop (La Coop draws their age, gender and status at random within the
      workshop's totals), and for every participant of a collective in a team export,
      which does not say who is anonymous.
    - Files in the layout before 2025-08-20 have no ``ID CRA``: each activity gets
      ``coop-v0-`` + a SHA-256 of its row's non-personal content and its rank among
      identical rows of the file, so that the same activity in two overlapping old exports
      is counted once; an activity edited between two exports gets a new id.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no export given")
    key = pseudonym_key() if key is None else key
    codes = territory_codes(territories)
    report = IngestReport(kind="coop-activites")
    sheets = []
    for p in paths:
        sh = _read_sheet(p)
        info = parse_header_block(sh.block)
        sheets.append((sh, info, sha256_file(p)))
    sheets.sort(key=lambda item: _sort_key(item))
    chosen = {}  # activity id -> (_Activity, file rank)
    overlaps = 0
    personal = Counter()
    layouts = set()
    for rank, (sh, info, digest) in enumerate(sheets):
        reader = _FileReader(sh, info, key, report, codes)
        acts = reader.read()
        layouts.add(reader.layout)
        personal.update(reader.personal_counts)
        for a in acts:
            if a.activity_id in chosen and chosen[a.activity_id][1] != rank:
                overlaps += 1
            chosen[a.activity_id] = (a, rank)
        total_rows = len(sh.rows)
        record = {
            "name": sh.path.name, "sha256": digest, "export_date": info["export_date"],
            "export_time": info["export_time"], "exporter_role": info["role"], "filters": info["filters"],
            "period": info["period"],
            "layout": LAYOUT_PER_PARTICIPANT if reader.layout == "new" else LAYOUT_PER_ACTIVITY,
            "variant": reader.variant, "source_column": "source" in sh.columns, "sheet": sh.sheet,
            "table_found_by": sh.found_by, "rows": total_rows, "activities": len(acts),
            "announced_total": info["total"],
            "ignored_columns": [c for c in sh.ignored],
        }
        report.sources.append(record)
        report.count("Fichiers lus")
        report.count("Lignes de données lues", total_rows)
        if info["total"] is not None and info["total"] != total_rows:
            report.warn(sh.path.name, f"le total annoncé dans l'en-tête ({fmt_int(info['total'])}) diffère du nombre "
                        f"de lignes du tableau ({fmt_int(total_rows)}) : fichier modifié ou tronqué ?",
                        sheet=sh.sheet)
        if not info["export_date"]:
            report.notes.append(f"{sh.path.name} : pas de date d'export dans l'en-tête ; l'ordre des exports suit la "
                                "date du fichier.")
        if reader.layout == "old":
            report.notes.append(f"{sh.path.name} : ancien format (une ligne par activité, sans ID CRA) ; chaque "
                                "activité reçoit un identifiant calculé (empreinte SHA-256 du contenu non personnel "
                                "de sa ligne), stable d'un export à l'autre tant que l'activité n'est pas modifiée.")
        if "source" in sh.columns:
            values = Counter(_text(r[sh.columns["source"][0]]) for _, r in sh.rows
                             if sh.columns["source"][0] < len(r))
            for v, n in sorted(values.items()):
                report.count(f"Lignes « Source de la donnée » = {v or '(vide)'}", n)
    if layouts == {"new", "old"}:
        report.notes.append("Attention : des exports de l'ancien et du nouveau format sont mélangés ; une même "
                            "activité présente dans les deux ne peut pas être reconnue (pas d'ID CRA dans l'ancien "
                            "format) : vérifier que leurs périodes ne se chevauchent pas.")
    if personal:
        report.notes.append("Colonnes de données personnelles supprimées à la lecture : " + ", ".join(
            f"{c} ({fmt_int(n)} valeurs)" for c, n in sorted(personal.items())) + ".")
    report.count("Activités reconstituées", len(chosen))
    report.count("Activités présentes dans plusieurs exports (version la plus récente retenue)", overlaps)
    return _finish([a for a, _ in chosen.values()], report, codes, period)


def _finish(acts: list, report: IngestReport, codes: set, period: tuple) -> CoopImport:
    start, end = _dt.date.fromisoformat(period[0]), _dt.date.fromisoformat(period[1])
    out_period, outside, unknown = 0, Counter(), 0
    kept = []
    for a in sorted(acts, key=lambda a: (a.date, a.activity_id)):
        if not start <= a.date <= end:
            out_period += 1
            continue
        residences = [p["commune_code"] for p in a.participants.values() if p["commune_code"]]
        place_in = a.place_code in codes if a.place_code else None
        res_in = any(c in codes for c in residences)
        if place_in is False and not res_in:
            outside[departement_of(a.place_code)] += 1
            continue
        if place_in is None and residences and not res_in:
            outside[departement_of(residences[0])] += 1
            continue
        if place_in is None and not residences:
            unknown += 1
        kept.append(a)
    report.count(f"Activités hors de la période {period[0]} – {period[1]} (écartées)", out_period)
    report.count("Activités hors des territoires du bundle (écartées)", sum(outside.values()))
    for dep, n in sorted(outside.items()):
        report.count(f"  dont département {dep or 'inconnu'}", n)
    if unknown:
        report.count("Activités sans commune de lieu ni de résidence (conservées, non rattachées)", unknown)
    act_rows, part_rows, places = [], [], []
    for a in kept:
        act_rows.append({
            "activity_id": a.activity_id, "date": a.date.isoformat(), "lieu_id": None,
            "mediator_id": a.mediator_id or None, "activity_type": a.activity_type, "place_type": a.place_type,
            "participants": a.n, "duration_min": a.duration_min, "themes": "|".join(a.themes),
            "place_commune_code": a.place_code or None,
        })
        places.append({"activity_id": a.activity_id, "lieu_nom": a.lieu_nom, "code_insee": a.place_code})
        for i in range(1, a.n + 1):
            p = a.participants[i]
            part_rows.append({"activity_id": a.activity_id, "participant_index": i,
                              "commune_code": p["commune_code"] or None, "age_band": p["age_band"],
                              "gender": p["gender"], "social_status": p["social_status"],
                              "demographics_random": bool(p["demographics_random"]),
                              "beneficiary_key": p["beneficiary_key"] or None})
    activities = coerce_table(pd.DataFrame(act_rows, columns=TABLES["activities"].column_names),
                              TABLES["activities"])
    participants = coerce_table(pd.DataFrame(part_rows, columns=TABLES["participants"].column_names),
                                TABLES["participants"])
    report.count("Activités retenues", len(activities))
    report.count("  dont individuelles", int((activities["activity_type"] == "individuel").sum()))
    report.count("  dont ateliers collectifs", int((activities["activity_type"] == "collectif").sum()))
    report.count("Participants (accompagnements) retenus", len(participants))
    report.count("  dont âge, genre et statut attribués au hasard par La Coop (ateliers)",
                 int(participants["demographics_random"].sum()))
    report.count("Durée totale des activités retenues (minutes)", int(activities["duration_min"].sum()))
    return CoopImport(activities=activities, participants=participants,
                      places=pd.DataFrame(places, columns=["activity_id", "lieu_nom", "code_insee"]), report=report)


# --------------------------------------------------------------------------- lieux
def _norm_place_name(s) -> str:
    s = unicodedata.normalize("NFKD", str(s or "")).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def match_lieux(activities: pd.DataFrame, places: pd.DataFrame, lieux: pd.DataFrame) -> tuple:
    """Fill ``lieu_id`` where an activity's place matches exactly one lieu of the bundle.

    The export has no place id: an activity is matched when the normalised place name
    (accents, case and punctuation ignored) and the commune (INSEE code, or the lieu's
    ``territory_code``) equal those of exactly one lieu.

    Returns
    -------
    tuple
        ``(activities, n_matched)``: a copy with ``lieu_id`` filled, and the number of
        activities matched.
    """
    out = activities.copy()
    if lieux is None or lieux.empty or places.empty:
        return out, 0
    index = defaultdict(set)
    for lid, nom, ci, tc in lieux[["id", "nom", "code_insee", "territory_code"]].itertuples(index=False):
        for c in {ci, tc}:
            if isinstance(c, str) and c:
                index[(_norm_place_name(nom), c)].add(lid)
    found = {}
    for aid, nom, code in places.itertuples(index=False):
        hits = index.get((_norm_place_name(nom), code), set()) if nom and code else set()
        if len(hits) == 1:
            found[aid] = next(iter(hits))
    mask = out["activity_id"].isin(found) & out["lieu_id"].isna()
    out.loc[mask, "lieu_id"] = out.loc[mask, "activity_id"].map(found)
    return out, int(mask.sum())
