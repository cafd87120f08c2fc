"""The Excel workbook to fill in (``fne-eval template OUT.xlsx``).

One sheet per table with its headers (bold, frozen), code and text columns formatted
as text (``@``) so that Excel keeps leading zeros, drop-down lists for closed sets, an
« Instructions » sheet in French describing every table and column, and a ``_meta``
sheet. The empty workbook is itself a valid bundle.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from fne_eval.bundle.io import META_SHEET, save_workbook_atomic
from fne_eval.bundle.spec import (ACTION, INSEE, POSTCODE, ROADMAP_END, ROADMAP_START, SIREN, TABLES, TERRITORY,
                                  Column)

#: Rows of each table sheet prepared with formats and drop-down lists.
PREPARED_ROWS = 5000
LISTS_SHEET = "_listes"
INSTRUCTIONS_SHEET = "Instructions"

KIND_LABELS = {
    "code": "code (texte)",
    "str": "texte",
    "int": "nombre entier",
    "float": "nombre décimal",
    "money": "montant en euros",
    "date": "date",
    "bool": "oui / non",
    "list": "liste (valeurs séparées par |)",
}
GROUP_LABELS = {"reference": "référentiel", "roadmap": "feuille de route", "monitoring": "suivi"}
_PATTERN_EXAMPLES = {INSEE: "13055", SIREN: "200054807", TERRITORY: "13055", POSTCODE: "13001", ACTION: "1.3",
                     r"^\d$": "1"}
_KIND_EXAMPLES = {"str": "texte libre", "int": "12", "float": "5,25", "money": "12 500,00",
                  "date": "2024-03-15", "bool": "oui", "code": "A001", "list": "valeur 1 | valeur 2"}

GENERAL_RULES = (
    "Ce classeur est un bundle de données fne-eval : une feuille par table, la ligne 1 porte les noms "
    "de colonnes (ne pas les modifier), une ligne par enregistrement à partir de la ligne 2.",
    "Vérifier le classeur avant de l'utiliser : fne-eval validate mon_classeur.xlsx (chaque erreur est "
    "signalée avec sa feuille, sa ligne, sa colonne, la valeur lue et ce qui est attendu).",
    "Codes (INSEE, SIREN, codes postaux, codes d'action) : saisir comme du texte. Les colonnes de codes "
    "sont déjà au format Texte ; ne pas les convertir en nombres (01001 deviendrait 1001).",
    f"Dates : AAAA-MM-JJ (2024-03-15) ou JJ/MM/AAAA (15/03/2024). Les dates de suivi doivent tomber dans "
    f"la période de la feuille de route, du {ROADMAP_START} au {ROADMAP_END}.",
    "Nombres : virgule ou point décimal (12,5 ou 12.5) ; les montants en euros au centime près "
    "(1 234,56). Oui / non : oui, non (ou true, false, 1, 0).",
    "Listes : plusieurs valeurs dans une même cellule, séparées par une barre verticale | "
    "(ex. email | bureautique).",
    "Les colonnes obligatoires doivent être remplies ; les colonnes facultatives peuvent rester vides. "
    "Une table facultative peut rester vide.",
    "Ne jamais saisir de données personnelles (noms, courriels, téléphones) : ces colonnes sont ignorées.",
    "Une cellule qui commence par =, +, - ou @ est lue comme du texte, jamais calculée.",
    "Les feuilles « Instructions » et « _listes » sont ignorées à la lecture ; la feuille « _meta » "
    "porte les métadonnées du bundle (une clé et une valeur par ligne).",
)


def _example(col: Column) -> str:
    if col.allowed:
        vals = [str(a) for a in col.allowed]
        return " | ".join(vals[:2]) if col.kind == "list" else vals[0]
    if col.pattern in _PATTERN_EXAMPLES:
        return _PATTERN_EXAMPLES[col.pattern]
    return _KIND_EXAMPLES[col.kind]


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter  # lazy: openpyxl (~0.7 s), Excel files only

    return get_column_letter(i)


def write_template(out: Union[str, Path]) -> Path:
    """Write the empty workbook to fill in and return its path.

    Parameters
    ----------
    out : str or Path
        Output path; must end in ``.xlsx``. Written atomically (temporary file, then
        renamed).

    Raises
    ------
    ValueError
        When ``out`` does not end in ``.xlsx``.
    """
    from openpyxl import Workbook  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.styles import Alignment, Font, PatternFill  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.worksheet.datavalidation import DataValidation  # lazy: openpyxl (~0.7 s), Excel files only

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"template output must end in '.xlsx', got {out.name!r}")
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ins = wb.active
    ins.title = INSTRUCTIONS_SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    list_col = 0

    # --- table sheets
    for table in TABLES.values():
        ws = wb.create_sheet(table.name)
        ws.freeze_panes = "A2"
        for j, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = bold
            cell.fill = head_fill
            letter = _col_letter(j)
            ws.column_dimensions[letter].width = max(12, min(40, len(col.name) + 4))
            if col.kind in ("code", "str", "list"):
                # a column style: Excel applies it to every cell typed in the column
                ws.column_dimensions[letter].number_format = "@"
            choices = None
            if col.allowed and col.kind != "list":
                choices = [str(a) for a in col.allowed]
            elif col.kind == "bool":
                choices = ["oui", "non"]
            if choices:
                list_col += 1
                lc = _col_letter(list_col)
                lists.cell(row=1, column=list_col, value=f"{table.name}.{col.name}").font = bold
                for i, v in enumerate(choices, start=2):
                    lists.cell(row=i, column=list_col, value=v)
                dv = DataValidation(type="list", formula1=f"={LISTS_SHEET}!${lc}$2:${lc}${len(choices) + 1}",
                                    allow_blank=True, showErrorMessage=True,
                                    errorTitle="Valeur non autorisée",
                                    error=f"Choisir une valeur de la liste ({table.name}.{col.name}).")
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{PREPARED_ROWS + 1}")
    lists.sheet_state = "hidden"

    # --- instructions
    ins.column_dimensions["A"].width = 22
    ins.column_dimensions["B"].width = 28
    ins.column_dimensions["C"].width = 60
    for letter in "DEFG":
        ins.column_dimensions[letter].width = 24
    wrap = Alignment(wrap_text=True, vertical="top")
    ins.append(["Modèle de bundle fne-eval — feuille de route France Numérique Ensemble (Bouches-du-Rhône)"])
    ins["A1"].font = Font(bold=True, size=14)
    ins.append([])
    ins.append(["Règles générales"])
    ins.cell(row=ins.max_row, column=1).font = bold
    for rule in GENERAL_RULES:
        ins.append(["", rule])
        ins.merge_cells(start_row=ins.max_row, start_column=2, end_row=ins.max_row, end_column=7)
        ins.cell(row=ins.max_row, column=2).alignment = wrap
        ins.row_dimensions[ins.max_row].height = 32
    ins.append([])
    ins.append(["Tables"])
    ins.cell(row=ins.max_row, column=1).font = bold
    ins.append(["Feuille", "Groupe", "Contenu", "Obligatoire", "Clé"])
    for c in range(1, 6):
        ins.cell(row=ins.max_row, column=c).font = bold
    for table in TABLES.values():
        ins.append([table.name, GROUP_LABELS.get(table.group, table.group), table.description,
                    "oui" if table.required else "non (peut être absente)", ", ".join(table.key)])
        ins.cell(row=ins.max_row, column=3).alignment = wrap
    ins.append([])
    ins.append(["Colonnes"])
    ins.cell(row=ins.max_row, column=1).font = bold
    ins.append(["Feuille", "Colonne", "Description", "Type", "Obligatoire", "Valeurs autorisées", "Exemple"])
    for c in range(1, 8):
        ins.cell(row=ins.max_row, column=c).font = bold
    for table in TABLES.values():
        for col in table.columns:
            allowed = " | ".join(str(a) for a in col.allowed) if col.allowed else ""
            if not allowed and (col.min is not None or col.max is not None):
                lo = "" if col.min is None else f"≥ {col.min:g}".replace(".", ",")
                hi = "" if col.max is None else f"≤ {col.max:g}".replace(".", ",")
                allowed = " et ".join(x for x in (lo, hi) if x)
            ins.append([table.name, col.name, col.description, KIND_LABELS[col.kind],
                        "oui" if col.required else "non", allowed, _example(col)])
            for c in (3, 6):
                ins.cell(row=ins.max_row, column=c).alignment = wrap
            ins.cell(row=ins.max_row, column=7).number_format = "@"

    meta = wb.create_sheet(META_SHEET)
    meta.append(["key", "value"])
    meta.append(["name", "bundle saisi à partir du modèle fne-eval"])
    meta["A1"].font = bold
    meta["B1"].font = bold

    out.parent.mkdir(parents=True, exist_ok=True)
    return save_workbook_atomic(wb, out)
