"""Validation at the door: broken bundles give exit 1 (invalid) or 2 (unreadable) and
messages that name the table/file, the row, the column and the value.

Row numbers are those a user sees in the file: header = row 1, so the n-th data row
of the small bundle (tests/bundles/small.py) is row n + 1.
"""
import json

import pytest

from bundles.small import EPCI, small_tables, write_small_bundle, write_table
from fne_eval.bundle.io import BundleError, BundleValidationError
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.bundle.validate import MAX_ERRORS_PER_CHECK, format_error, validate_bundle
from fne_eval.cli.main import main


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    """Read every bundle afresh: these tests are about reading and validating."""
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")


def run_validate(path, capsys):
    """Run `fne-eval validate PATH --json`; return (exit status, parsed JSON)."""
    rc = main(["validate", str(path), "--json"])
    return rc, json.loads(capsys.readouterr().out)


def find(errors, table, column, row):
    """Return the errors of a given place."""
    return [e for e in errors if e["table"] == table and e["column"] == column and e["row"] == row]


def set_cell(tables, table, key_value, column, value):
    """Set one cell of the row whose first column equals key_value."""
    first = TABLES[table].column_names[0]
    for row in tables[table]:
        if row[first] == key_value:
            row[column] = value
            return tables
    raise KeyError(key_value)


# (case id, table, first-column value of the row, column, new value,
#  expected error: (table, row, column, value, substring of the message))
CELL_CASES = [
    ("missing_required_value", "activities", "A2", "place_type", "",
     ("activities", 3, "place_type", "", "obligatoire")),
    ("unknown_commune", "activities", "A1", "beneficiary_commune_code", "13099",
     ("activities", 2, "beneficiary_commune_code", "13099", "inconnu")),
    ("insee_lost_leading_zero", "activities", "A1", "beneficiary_commune_code", "1001",
     ("activities", 2, "beneficiary_commune_code", "1001", "01001")),
    ("siren_9_to_8_digits", "territories", "13001", "epci_siren", "20005480",
     ("territories", 4, "epci_siren", "20005480", "020005480")),
    ("negative_amount", "budget_transactions", "B2", "amount_eur", "-2500.00",
     ("budget_transactions", 3, "amount_eur", "-2500.00", "minimum 0")),
    ("unknown_action", "events", "E1", "action_code", "9.9",
     ("events", 2, "action_code", "9.9", "actions.csv")),
    ("unknown_lieu", "activities", "A3", "lieu_id", "L9",
     ("activities", 4, "lieu_id", "L9", "lieux.csv")),
    ("impossible_date", "trainings", "TR1", "date", "2025-02-30",
     ("trainings", 2, "date", "2025-02-30", "date impossible")),
    ("date_outside_roadmap", "events", "E1", "date", "2023-05-01",
     ("events", 2, "date", "2023-05-01", "2023-11-01")),
    ("wrong_enum", "activities", "A1", "activity_type", "individual",
     ("activities", 2, "activity_type", "individual", "individuel, collectif")),
    ("float_in_int_column", "activities", "A2", "participants", "8.5",
     ("activities", 3, "participants", "8.5", "entier")),
    ("wrong_list_element", "activities", "A2", "themes", "email|courriels",
     ("activities", 3, "themes", "email|courriels", "courriels")),
    ("above_max", "activities", "A1", "duration_min", "2000",
     ("activities", 2, "duration_min", "2000", "maximum 1440")),
    ("not_a_bool", "trainings", "TR1", "funded_by_training_fund", "peut-être",
     ("trainings", 2, "funded_by_training_fund", "peut-être", "oui/non")),
    ("not_an_amount", "budget_lines", "BL1", "planned_eur", "dix mille",
     ("budget_lines", 2, "planned_eur", "dix mille", "montant")),
    ("amount_below_the_cent", "budget_transactions", "B3", "amount_eur", "1234.567",
     ("budget_transactions", 4, "amount_eur", "1234.567", "centime")),
    # payments: 2 500,00 + 4 000,00 = 6 500,00 > 6 000,00 committed, at the row of B3
    ("payment_above_commitment", "budget_transactions", "B3", "amount_eur", "4000.00",
     ("budget_transactions", 4, "amount_eur", "4000.00", "6\u00a0500,00\u00a0€")),
    # commitment 12 000,00 > 10 000,00 planned for BL1
    ("commitment_above_planned", "budget_transactions", "B1", "amount_eur", "12000.00",
     ("budget_transactions", 2, "amount_eur", "12000.00", "10\u00a0000,00\u00a0€")),
    ("payment_before_commitment", "budget_transactions", "B2", "date", "2024-01-15",
     ("budget_transactions", 3, "date", "2024-01-15", "2024-02-01")),
    ("end_before_start", "schedule_tasks", "T1", "planned_end", "2023-12-01",
     ("schedule_tasks", 2, "planned_end", "2023-12-01", "planned_start")),
    ("bad_postcode", "lieux", "L2", "code_postal", "1300",
     ("lieux", 3, "code_postal", "1300", "5 chiffres")),
]


@pytest.mark.parametrize("case", CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_broken_cell_is_reported_with_its_place(case, tmp_path, capsys):
    _, table, key, column, value, (e_table, e_row, e_column, e_value, e_text) = case
    tables = set_cell(small_tables(), table, key, column, value)
    path = write_small_bundle(tmp_path / "b", tables)
    rc, out = run_validate(path, capsys)
    assert rc == 1
    assert out["valid"] is False
    hits = find(out["errors"], e_table, e_column, e_row)
    assert hits, out["errors"]
    assert any(h["value"] == e_value and e_text in h["message"] for h in hits), hits
    # the message alone names the file, the row, the column and the value
    msg = next(h["message"] for h in hits if e_text in h["message"])
    assert f"{e_table}.csv" in msg and f"ligne {e_row}" in msg and e_column in msg and f"« {e_value} »" in msg


def test_missing_column(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    cols = [c for c in TABLES["activities"].column_names if c != "participants"]
    write_table(path / "activities.csv", "activities", small_tables()["activities"], columns=cols)
    rc, out = run_validate(path, capsys)
    assert rc == 1
    (err,) = find(out["errors"], "activities", "participants", None)
    assert "activities.csv" in err["message"] and "absente" in err["message"]


def test_missing_optional_column_is_fine(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    cols = [c for c in TABLES["activities"].column_names if c != "mediator_id"]
    write_table(path / "activities.csv", "activities", small_tables()["activities"], columns=cols)
    rc, out = run_validate(path, capsys)
    assert rc == 0, out


def test_duplicate_key_names_both_rows(tmp_path, capsys):
    tables = set_cell(small_tables(), "activities", "A3", "activity_id", "A2")
    rc, out = run_validate(write_small_bundle(tmp_path / "b", tables), capsys)
    assert rc == 1
    (err,) = find(out["errors"], "activities", "activity_id", 4)
    assert err["value"] == "A2" and "lignes 3 et 4" in err["message"]


def test_composite_duplicate_key(tmp_path, capsys):
    tables = small_tables()
    tables["schedule_status"].append(dict(tables["schedule_status"][0], status_date="30/06/2024"))
    rc, out = run_validate(write_small_bundle(tmp_path / "b", tables), capsys)
    assert rc == 1
    (err,) = find(out["errors"], "schedule_status", "task_id, status_date", 3)
    assert err["value"] == "T1 | 2024-06-30" and "lignes 2 et 3" in err["message"]


def test_ref_filter_is_respected(tmp_path, capsys):
    # the EPCI of a commune must be a territory of level 'epci': a commune code is refused
    tables = small_tables()
    tables["territories"].append({"territory_code": "123456789", "territory_name": "X", "level": "commune",
                                  "in_scope": "false", "source": "test"})
    set_cell(tables, "territories", "13001", "epci_siren", "123456789")
    rc, out = run_validate(write_small_bundle(tmp_path / "b", tables), capsys)
    assert rc == 1
    (err,) = find(out["errors"], "territories", "epci_siren", 4)
    assert "level = epci" in err["message"]


def test_every_error_is_listed_not_just_the_first(tmp_path, capsys):
    tables = small_tables()
    set_cell(tables, "activities", "A1", "participants", "0")  # min 1
    set_cell(tables, "activities", "A2", "participants", "beaucoup")
    set_cell(tables, "events", "E1", "venue_commune_code", "13999")
    set_cell(tables, "lieux", "L1", "date_maj", "31/02/2024")
    rc, out = run_validate(write_small_bundle(tmp_path / "b", tables), capsys)
    assert rc == 1
    places = {(e["table"], e["row"], e["column"]) for e in out["errors"]}
    assert places == {("activities", 2, "participants"), ("activities", 3, "participants"),
                      ("events", 2, "venue_commune_code"), ("lieux", 2, "date_maj")}


def test_many_errors_are_capped_with_a_count(tmp_path):
    tables = small_tables()
    base = tables["activities"][0]
    n = MAX_ERRORS_PER_CHECK + 50
    tables["activities"] = [dict(base, activity_id=f"X{i}", gender="autre") for i in range(n)]
    result = validate_bundle(write_small_bundle(tmp_path / "b", tables))
    gender = [e for e in result.errors if e["column"] == "gender"]
    assert len(gender) == MAX_ERRORS_PER_CHECK + 1  # 1000 detailed + one summary
    assert gender[-1]["row"] is None and "50 autre(s)" in gender[-1]["message"]


def test_personal_data_column_dropped_with_warning(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    rows = [dict(r, courriel="jeanne@example.org") for r in small_tables()["lieux"]]
    write_table(path / "lieux.csv", "lieux", rows, columns=TABLES["lieux"].column_names + ["courriel"])
    rc, out = run_validate(path, capsys)
    assert rc == 0
    assert [w["column"] for w in out["warnings"]] == ["courriel"]
    assert "courriel" not in load_bundle(path)["lieux"].columns


def test_extra_column_is_accepted_silently(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    rows = [dict(r, remarque="ok") for r in small_tables()["lieux"]]
    write_table(path / "lieux.csv", "lieux", rows, columns=TABLES["lieux"].column_names + ["remarque"])
    rc, out = run_validate(path, capsys)
    assert rc == 0 and out["warnings"] == []


# ----------------------------------------------------------------- unreadable: exit 2
def _unreadable(path, capsys, must_name):
    rc, out = run_validate(path, capsys)
    assert rc == 2
    assert out["valid"] is False
    (err,) = out["errors"]
    assert set(err) >= {"table", "row", "column", "value", "message"}
    assert err["table"] is None and err["row"] is None
    assert must_name in err["message"], err["message"]
    return err["message"]


def test_empty_file(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    (path / "activities.csv").write_bytes(b"")
    assert "vide" in _unreadable(path, capsys, "activities.csv")


def test_binary_file(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    (path / "lieux.csv").write_bytes(bytes(range(256)) * 20)
    assert "binaire" in _unreadable(path, capsys, "lieux.csv")


def test_table_file_that_is_not_csv(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b")
    (path / "events.csv").write_text("Compte rendu de la réunion du 5 mars.\nRien à signaler.\n", encoding="utf-8")
    assert "CSV" in _unreadable(path, capsys, "events.csv")


def test_txt_path_is_not_a_bundle(tmp_path, capsys):
    txt = tmp_path / "notes.txt"
    txt.write_text("bonjour, ceci n'est pas un bundle\n", encoding="utf-8")
    _unreadable(txt, capsys, "notes.txt")


def test_nonexistent_path(tmp_path, capsys):
    _unreadable(tmp_path / "nulle-part", capsys, "nulle-part")


def test_folder_without_tables(tmp_path, capsys):
    (tmp_path / "vide").mkdir()
    (tmp_path / "vide" / "lisez-moi.md").write_text("rien", encoding="utf-8")
    assert "pas un bundle" in _unreadable(tmp_path / "vide", capsys, "vide")


def test_missing_required_table_file(tmp_path, capsys):
    path = write_small_bundle(tmp_path / "b", skip=("budget_lines",))
    _unreadable(path, capsys, "budget_lines.csv")


def test_missing_required_sheet_in_xlsx(tmp_path, capsys):
    from openpyxl import load_workbook

    xlsx = tmp_path / "b.xlsx"
    assert main(["export", "--bundle", str(write_small_bundle(tmp_path / "b")), str(xlsx)]) == 0
    capsys.readouterr()
    wb = load_workbook(xlsx)
    del wb["activities"]
    wb.save(xlsx)
    msg = _unreadable(xlsx, capsys, "« activities »")
    assert "b.xlsx" in msg


def test_corrupt_xlsx(tmp_path, capsys):
    bad = tmp_path / "faux.xlsx"
    bad.write_bytes(b"ceci n'est pas un classeur")
    _unreadable(bad, capsys, "faux.xlsx")


def test_excel_number_that_lost_its_leading_zero(tmp_path, capsys):
    """An INSEE code stored by Excel as the number 1001 (for 01001) is an error, never zero-padded."""
    from openpyxl import load_workbook

    xlsx = tmp_path / "b.xlsx"
    main(["export", "--bundle", str(write_small_bundle(tmp_path / "b")), str(xlsx)])
    capsys.readouterr()
    wb = load_workbook(xlsx)
    ws = wb["activities"]
    col = TABLES["activities"].column_names.index("beneficiary_commune_code") + 1
    ws.cell(row=3, column=col, value=1001)  # a number, as Excel makes of 01001
    wb.save(xlsx)
    rc, out = run_validate(xlsx, capsys)
    assert rc == 1
    (err,) = find(out["errors"], "activities", "beneficiary_commune_code", 3)
    assert err["value"] == "1001" and "01001" in err["message"] and "feuille « activities »" in err["message"]


# ----------------------------------------------------------------- API and text output
def test_load_bundle_raises_with_every_error(tmp_path):
    tables = set_cell(small_tables(), "activities", "A1", "gender", "x")
    set_cell(tables, "events", "E1", "participants", "-1")
    with pytest.raises(BundleValidationError) as info:
        load_bundle(write_small_bundle(tmp_path / "b", tables))
    assert isinstance(info.value, BundleError)
    assert {(e["table"], e["column"]) for e in info.value.errors} == {("activities", "gender"),
                                                                     ("events", "participants")}
    assert "activities.csv, ligne 2" in str(info.value)


def test_text_output_one_line_per_error(tmp_path, capsys):
    tables = set_cell(small_tables(), "activities", "A2", "participants", "8.5")
    rc = main(["validate", str(write_small_bundle(tmp_path / "b", tables))])
    lines = capsys.readouterr().out.strip().splitlines()
    assert rc == 1
    assert lines == ["activities (activities.csv), row 3, column participants, value '8.5': "
                     "un nombre entier attendu (sans décimale)"]


def test_valid_small_bundle_exit_0(tmp_path, capsys):
    rc, out = run_validate(write_small_bundle(tmp_path / "b"), capsys)
    assert rc == 0 and out == {"valid": True, "errors": [], "warnings": []}


def test_format_error_table_level():
    e = {"table": "lieux", "file": "lieux.csv", "row": None, "column": "nom", "value": None,
         "expected": "colonne obligatoire absente"}
    assert format_error(e) == "lieux (lieux.csv), column nom: colonne obligatoire absente"


def test_validate_default_bundle(capsys):
    """The embedded default bundle validates (exit 0)."""
    from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

    if not any(DEFAULT_BUNDLE_DIR.glob("*.csv")):
        pytest.skip("the embedded default bundle is not built yet")
    rc = main(["validate"])
    out = capsys.readouterr().out
    assert rc == 0, out


def test_siren_epci_level_code_is_accepted(tmp_path, capsys):
    # populations may name an EPCI by its SIREN (no level filter on that reference)
    tables = small_tables()
    tables["populations"].append({"territory_code": EPCI, "year": "2021", "population": "1900000",
                                  "source": "DGCL"})
    rc, out = run_validate(write_small_bundle(tmp_path / "b", tables), capsys)
    assert rc == 0, out


@pytest.mark.parametrize("second", ["participants", "Participants"])
def test_doubled_column_is_unreadable(second, tmp_path, capsys):
    """Two columns of one name (up to case): which to read is ambiguous, exit 2."""
    path = write_small_bundle(tmp_path / "b")
    cols = TABLES["activities"].column_names
    rows = small_tables()["activities"]
    text = ",".join(cols + [second]) + "\n" + "\n".join(",".join([r.get(c, "") for c in cols] + ["1"]) for r in rows)
    (path / "activities.csv").write_text(text + "\n", encoding="utf-8")
    msg = _unreadable(path, capsys, "activities.csv")
    assert "participants" in msg and "deux fois" in msg


def test_doubled_column_in_a_sheet_is_unreadable(tmp_path, capsys):
    from openpyxl import load_workbook

    xlsx = tmp_path / "b.xlsx"
    main(["export", "--bundle", str(write_small_bundle(tmp_path / "b")), str(xlsx)])
    capsys.readouterr()
    wb = load_workbook(xlsx)
    ws = wb["events"]
    ws.cell(row=1, column=ws.max_column + 1, value="Title")
    wb.save(xlsx)
    msg = _unreadable(xlsx, capsys, "« events »")
    assert "title" in msg
