"""A small, consistent bundle: 1 département, 1 EPCI, 2 communes, 1 axis, 1 action,
1 budget line and a few rows in each monitoring table.

``small_tables()`` returns the tables as lists of text rows (dicts); ``write_small_bundle``
writes them as a bundle folder, optionally the French-spreadsheet way (``;``, decimal
comma, Windows-1252, BOM). Tests change one cell of ``small_tables()`` to break it.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fne_eval.bundle.spec import TABLES

EPCI = "200054807"  # Métropole d'Aix-Marseille-Provence
AIX, MARSEILLE = "13001", "13055"

META = {"name": "petit bundle de test", "is_synthetic": True, "synthetic_tables": ["activities"]}


def small_tables() -> dict:
    """Return the small bundle's tables as {table: list of {column: text}}."""
    src = "test"
    return {
        "territories": [
            {"territory_code": "13", "territory_name": "Bouches-du-Rhône", "level": "departement",
             "in_scope": "true", "source": src},
            {"territory_code": EPCI, "territory_name": "Métropole d'Aix-Marseille-Provence", "level": "epci",
             "departement_code": "13", "in_scope": "true", "source": src},
            {"territory_code": AIX, "territory_name": "Aix-en-Provence", "level": "commune",
             "departement_code": "13", "epci_siren": EPCI, "in_scope": "true", "source": src},
            {"territory_code": MARSEILLE, "territory_name": "Marseille", "level": "commune",
             "departement_code": "13", "epci_siren": EPCI, "in_scope": "true", "source": src},
        ],
        "populations": [
            {"territory_code": AIX, "year": "2021", "population": "147122", "source": src},
            {"territory_code": MARSEILLE, "year": "2021", "population": "873076", "source": src},
        ],
        "ifn": [
            {"territory_code": AIX, "variant": "tout_age", "vintage": "2023", "poverty_rate": "4.5",
             "ifn_total": "5.25", "source": src},
        ],
        "context_figures": [
            {"figure_id": "F1", "territory_code": "13", "indicator": "illectronisme_rate",
             "label": "Taux d'illectronisme", "value": "17.5", "unit": "pct", "reference_date": "2021",
             "source": "INSEE", "seed_location": "p. 3"},
        ],
        "exposed_communes": [
            {"row_number": "1", "printed_postal_code": "13001", "printed_name": "Marseille 1er",
             "printed_population": "40000", "printed_ifn": "7.1", "printed_fragile_population": "12000",
             "printed_share_pct": "30.0", "is_total_row": "false", "territory_code": MARSEILLE},
        ],
        "axes": [{"axis_code": "1", "axis_title": "Gouvernance et pilotage", "source": src}],
        "actions": [
            {"action_code": "1.1", "axis_code": "1", "action_title": "Animer la gouvernance",
             "referents": "Préfecture | Hub du Sud", "partners": "Métropole", "start_date": "2024-01-01",
             "end_date": "2027-12-31", "source": src},
        ],
        "budget_lines": [
            {"budget_line_id": "BL1", "action_code": "1.1", "line_label": "Animation", "funder": "État - FNE",
             "recipient": "Hub du Sud", "planned_eur": "10000.00", "source": src},
        ],
        "schedule_tasks": [
            {"task_id": "T1", "action_code": "1.1", "task_label": "COPIL", "planned_start": "2024-01-01",
             "planned_end": "2024-12-31", "source": src},
        ],
        "indicators": [
            {"indicator_code": "I1", "label": "Accompagnements", "axis_code": "1", "action_code": "1.1",
             "kind": "output", "unit": "count", "numerator": "accompagnements", "direction": "higher",
             "aggregation": "sum", "target_2027": "1000.5"},
        ],
        "lieux": [
            {"id": "L1", "nom": "Médiathèque Méjanes", "commune": "Aix-en-Provence", "code_postal": "13100",
             "code_insee": AIX, "territory_code": AIX, "latitude": "43.5283", "longitude": "5.4497",
             "services": "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
             "frais_a_charge": "Gratuit", "date_maj": "2024-03-01"},
            {"id": "L2", "nom": "Espace numérique", "commune": "Marseille", "code_postal": "13001",
             "territory_code": MARSEILLE, "date_maj": "2024-05-15",
             "dispositif_programmes_nationaux": "Point d'accès numérique CAF"},
        ],
        "activities": [
            {"activity_id": "A1", "date": "2024-02-01", "lieu_id": "L1", "activity_type": "individuel",
             "place_type": "lieu_activite", "participants": "1", "duration_min": "45", "themes": "email",
             "beneficiary_commune_code": AIX, "age_band": "soixante_dix_plus", "gender": "feminin",
             "social_status": "retraite"},
            {"activity_id": "A2", "date": "2024-02-03", "lieu_id": "L2", "activity_type": "collectif",
             "place_type": "lieu_activite", "participants": "8", "duration_min": "120",
             "themes": "email|securite_numerique", "beneficiary_commune_code": MARSEILLE,
             "age_band": "non_communique", "gender": "non_communique", "social_status": "non_communique"},
            {"activity_id": "A3", "date": "2024-03-10", "lieu_id": "L1", "activity_type": "individuel",
             "place_type": "a_distance", "participants": "1", "duration_min": "30",
             "themes": "aide_aux_demarches_administratives", "age_band": "quarante_cinquante_neuf",
             "gender": "masculin", "social_status": "sans_emploi"},
        ],
        "participants": [],  # legacy layout: participants are derived from the activity columns
        "budget_transactions": [
            {"transaction_id": "B1", "budget_line_id": "BL1", "action_code": "1.1", "date": "2024-02-01",
             "kind": "commitment", "amount_eur": "6000.00", "reference": "Convention 2024-01"},
            {"transaction_id": "B2", "budget_line_id": "BL1", "action_code": "1.1", "date": "2024-03-01",
             "kind": "payment", "amount_eur": "2500.00"},
            {"transaction_id": "B3", "budget_line_id": "BL1", "action_code": "1.1", "date": "2024-06-01",
             "kind": "payment", "amount_eur": "1234.56"},
        ],
        "schedule_status": [
            {"task_id": "T1", "status_date": "2024-06-30", "status": "in_progress", "actual_start": "2024-01-15",
             "progress_pct": "50.5", "comment": "=à jour"},
        ],
        "trainings": [
            {"training_id": "TR1", "date": "2024-04-01", "training_type": "aidants_connect",
             "structure_type": "centre_social", "commune_code": MARSEILLE, "departures": "3",
             "funded_by_training_fund": "true"},
        ],
        "refurbishment": [
            {"record_id": "R1", "period_start": "2024-01-01", "operator": "Emmaüs Connect",
             "commune_code": MARSEILLE, "devices_collected": "40", "devices_refurbished": "30",
             "devices_distributed": "25"},
        ],
        "events": [
            {"event_id": "E1", "date": "2024-10-05", "action_code": "1.1", "event_type": "journee_echanges",
             "title": "Journée des aidants", "venue_commune_code": AIX, "participants": "60"},
        ],
        "network_meetings": [
            {"meeting_id": "M1", "date": "2024-05-20", "action_code": "1.1", "meeting_type": "copil",
             "participants_collectivite": "6", "participants_association": "4", "participants_etat": "3",
             "participants_autre": "0"},
        ],
    }


def _frenchify(table: str, row: dict) -> dict:
    """Return the row with decimal commas in float and money columns."""
    out = dict(row)
    for col in TABLES[table].columns:
        if col.kind in ("float", "money") and out.get(col.name):
            out[col.name] = out[col.name].replace(".", ",")
    return out


def write_table(path: Path, table: str, rows: list, sep: str = ",", encoding: str = "utf-8",
                french_numbers: bool = False, columns=None) -> Path:
    """Write one table as CSV text (all declared columns unless ``columns`` is given)."""
    columns = list(columns) if columns is not None else TABLES[table].column_names
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, delimiter=sep, lineterminator="\r\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        if french_numbers:
            row = _frenchify(table, row)
        w.writerow({c: row.get(c, "") for c in columns})
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_small_bundle(folder: Path, tables: dict = None, sep: str = ",", encoding: str = "utf-8",
                       french_numbers: bool = False, skip=(), meta: dict = None) -> Path:
    """Write the small bundle (or ``tables``) as a bundle folder and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = small_tables() if tables is None else tables
    for name, rows in tables.items():
        if name in skip:
            continue
        write_table(folder / f"{name}.csv", name, rows, sep=sep, encoding=encoding, french_numbers=french_numbers)
    (folder / "bundle.json").write_text(json.dumps(META if meta is None else meta, ensure_ascii=False),
                                        encoding="utf-8")
    return folder
