"""Write La Coop activity exports (xlsx) the way La Coop's exceljs code does, for tests.

What is reproduced (COOP-MIN-FORMATS §1.2–1.6): one sheet « Activités »; the header block
(« Informations export » and « Filtres » titles in bold, label in column A and value in B);
the table object « Activités » with an autofilter on its header row; every row wrapText;
the « Date » column as real date cells with the format dd/mm/yyyy; « Participants » as
the number 1 or the text « i/n »; multi-valued cells joined by line breaks; the earlier
layouts (one row per activity, earlier header blocks and column names).

Rows are given by hand, as {header label: value}, so that the expected tables are known
independently of the importer.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

A = "\u2019"  # La Coop's headers use the typographic apostrophe

#: Columns of the current export (since 2025-08-20), in order, with their variant.
CURRENT_COLUMNS = [
    ("Date", "both"), ("Enregistré le", "both"), ("Dernière modification le", "both"),
    ("Prénom du médiateur", "team"), ("Nom du médiateur", "team"), ("Rôle", "team"), ("ID - Conum", "team"),
    ("Type", "both"), ("Participants", "both"), ("Bénéficiaire", "self"),
    (f"Canaux d{A}accompagnement", "both"), ("Nom du lieu", "both"), ("Adresse", "both"), ("Commune", "both"),
    ("Code postal", "both"), ("Code Insee", "both"), ("Durée (min)", "both"), (f"Nom de l{A}atelier", "both"),
    ("Matériel numérique utilisé", "both"), (f"Thématique(s) d{A}accompagnement", "both"), ("Tags", "both"),
    ("Nom de la démarche administrative", "both"), (f"Niveau d{A}autonomie (ou de l{A}atelier)", "both"),
    ("Bénéficiaire réorienté", "both"), ("Structure de redirection", "both"), ("Commune du bénéficiaire", "both"),
    ("Code postal du bénéficiaire", "both"), ("Code Insee du bénéficiaire", "both"),
    ("Genre du bénéficiaire", "both"), (f"Tranche d{A}âge du bénéficiaire", "both"),
    ("Statut du bénéficiaire", "both"), ("Notes supplémentaires", "self"), ("Source de la donnée", "source"),
    ("ID CRA", "both"),
]

#: The one-row-per-activity layout as at commit dcbbabd3 (2025-07-23 → 2025-08-20).
OLD_COLUMNS_2025 = [
    "Date", "Type", "Nombre de participants", "Bénéficiaire", f"Canaux d{A}accompagnement", "Lieu",
    "Durée (min)", f"Nom de l{A}atelier", "Matériel numérique utilisé", f"Thématique(s) d{A}accompagnement",
    "Tags", "Nom de la démarche administrative", f"Niveau d{A}autonomie (ou de l{A}atelier)",
    "Bénéficiaire réorienté", "Structure de redirection", "Commune de résidence du bénéficiaire",
    "Genre du bénéficiaire", f"Tranche d{A}âge du bénéficiaire", "Statut du bénéficiaire", "Notes supplémentaires",
]

#: The same layout before 2025-05-28 / 2025-06-11 (separate autonomy and workshop levels,
#: « La démarche est-elle finalisée ? », the old re-orientation question, no Tags).
OLD_COLUMNS_2024 = [
    "Date", "Type", "Nombre de participants", "Bénéficiaire", f"Canaux d{A}accompagnement", "Lieu",
    "Durée (min)", f"Nom de l{A}atelier", "Matériel numérique utilisé", f"Thématique(s) d{A}accompagnement",
    "Nom de la démarche administrative", f"Niveau d{A}autonomie du bénéficiaire", f"Niveau de l{A}atelier",
    "La démarche est-elle finalisée ?", "Le bénéficiaire est-il orienté vers une autre structure ?",
    "Structure de redirection", "Commune de résidence du bénéficiaire", "Genre du bénéficiaire",
    f"Tranche d{A}âge du bénéficiaire", "Statut du bénéficiaire", "Notes supplémentaires",
]


def current_columns(variant: str, source_column: bool) -> list:
    """Return the header labels of a current export (``variant`` 'team' or 'self')."""
    out = []
    for label, kind in CURRENT_COLUMNS:
        if kind == "both" or kind == variant or (kind == "source" and source_column):
            out.append(label)
    return out


def _block_current(exporter: tuple, role: str, total: int, export_date: str, export_time: str,
                   filters: dict, straight: bool) -> list:
    apo = "'" if straight else A
    rows = [("Informations export", None, True), ("Nom", exporter[0], False), ("Prénom", exporter[1], False),
            ("Rôle", role, False), ("Total", total, False), (f"Date d{apo}export", export_date, False),
            (f"Heure d{apo}export", export_time, False), None, ("Filtres", None, True)]
    base = {"Période": "-", "Source": "-", f"Lieux d{A}accompagnement": "-", "Communes": "-", "Départements": "-",
            f"Type d{A}accompagnement": "-", "Rôle": "-", "Thématiques non administratives": "-",
            "Thématiques administratives": "-", "Tags": "-"}
    base.update(filters)
    rows += [(k, v, False) for k, v in base.items()]
    rows += [None, ("", None, False)]
    return rows


def _write(path: Path, block: list, columns: list, rows: list, table: bool) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Activités"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True)
    r = 0
    for item in block:
        r += 1
        if item is None:
            continue
        label, value, is_title = item
        ws.cell(r, 1, label).alignment = wrap
        if is_title:
            ws.cell(r, 1).font = bold
        if value is not None:
            ws.cell(r, 2, value).alignment = wrap
    header_row = r + 1
    for j, label in enumerate(columns, start=1):
        c = ws.cell(header_row, j, label)
        c.font = bold
        c.alignment = wrap
    for i, row in enumerate(rows, start=header_row + 1):
        unknown = set(row) - set(columns)
        assert not unknown, f"fixture row has columns not in the layout: {unknown}"
        for j, label in enumerate(columns, start=1):
            v = row.get(label, "")
            c = ws.cell(i, j, v)
            c.alignment = wrap
            if isinstance(v, (dt.date, dt.datetime)):
                c.number_format = "dd/mm/yyyy"
    if table:
        ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + max(len(rows), 1)}"
        t = Table(displayName="Activités", ref=ref)
        t.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
        ws.add_table(t)
    path = Path(path)
    wb.save(path)
    return path


def write_current_export(path, rows: list, variant: str = "team", source_column: bool = False,
                         table: bool = True, exporter=("Dupont", "Jeanne"), role: str = "Coordinateur",
                         export_date: str = "01/10/2025", export_time: str = "14:05", filters: dict = None,
                         straight_apostrophes: bool = False) -> Path:
    """Write an activities export in the layout since 2025-08-20 (one row per accompagnement)."""
    columns = current_columns(variant, source_column)
    block = _block_current(exporter, role, len(rows), export_date, export_time, filters or {}, straight_apostrophes)
    return _write(Path(path), block, columns, rows, table)


def write_old_export(path, rows: list, columns: list = None, early_block: bool = False,
                     exporter=("Martin", "Claire"), export_date: str = "15/07/2025", filters: dict = None,
                     table: bool = True) -> Path:
    """Write an activities export in the layout before 2025-08-20 (one row per activity).

    ``early_block`` writes the header block of 2024-09 → 2025-02 (first and last names
    swapped, « Activités » count, « Début/Fin de période » filters).
    """
    columns = columns or OLD_COLUMNS_2025
    if early_block:
        block = [("Informations export", None, True), ("Nom", exporter[1], False), ("Prénom", exporter[0], False),
                 ("Activités", len(rows), False), (f"Date d{A}export", export_date, False),
                 (f"Heure d{A}export", "09:30", False), None, ("Filtres", None, True)]
        base = {"Début de période": "-", "Fin de période": "-", "Type de lieu": "-", "Nom du lieu": "-",
                f"Type d{A}accompagnement": "-"}
    else:
        block = [("Informations export", None, True), ("Nom", exporter[0], False), ("Prénom", exporter[1], False),
                 ("Rôle", "Médiateur", False), ("Total", len(rows), False), (f"Date d{A}export", export_date, False),
                 (f"Heure d{A}export", "11:00", False), None, ("Filtres", None, True)]
        base = {"Période": "-", f"Lieux d{A}accompagnement": "-", "Communes": "-", "Départements": "-",
                f"Type d{A}accompagnement": "-", "Thématiques non administratives": "-",
                "Thématiques administratives": "-", "Tags": "-"}
    base.update(filters or {})
    block += [(k, v, False) for k, v in base.items()] + [None, ("", None, False)]
    return _write(Path(path), block, columns, rows, table)


def resave_without_table(src, dst, insert_rows_on_top: int = 1) -> Path:
    """Copy an export as a user re-saving it would: table object gone, rows shifted down."""
    wb = load_workbook(src)
    ws = wb["Activités"]
    for name in list(ws.tables):
        del ws.tables[name]
    if insert_rows_on_top:
        ws.insert_rows(1, insert_rows_on_top)
    wb.save(dst)
    return Path(dst)
