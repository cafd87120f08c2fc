"""`fne-eval template` and `fne-eval export`: the workbook to fill in and round trips."""
import json
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook

from bundles.small import small_tables, write_small_bundle
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.bundle.template import INSTRUCTIONS_SHEET, LISTS_SHEET
from fne_eval.cli.main import main


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    """Read every bundle afresh: these tests are about reading and validating."""
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")


def assert_same_tables(a, b, exact=True):
    """Assert equal typed tables; money (Decimal) and every other column exactly.

    With ``exact=False`` floats may differ in their 17th significant digit: Excel keeps
    15 to 17 (6.0128246578295075 comes back as 6.012824657829507).
    """
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=exact, rtol=1e-14, atol=0, obj=name)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("tpl") / "modele.xlsx"
    assert main(["template", str(out)]) == 0
    return out


def test_template_has_a_sheet_per_table_with_bold_frozen_headers(template):
    wb = load_workbook(template)
    assert wb.sheetnames[0] == INSTRUCTIONS_SHEET
    assert set(TABLES) <= set(wb.sheetnames) and "_meta" in wb.sheetnames
    for name, table in TABLES.items():
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        assert headers == table.column_names
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"


def test_template_code_columns_are_text(template):
    ws = load_workbook(template)["activities"]
    cols = TABLES["activities"].column_names
    letter = chr(ord("A") + cols.index("beneficiary_commune_code"))
    assert ws.column_dimensions[letter].number_format == "@"
    letter = chr(ord("A") + cols.index("participants"))
    assert ws.column_dimensions[letter].number_format != "@"


def test_template_drop_down_lists_for_closed_sets(template):
    wb = load_workbook(template)
    ws = wb["activities"]
    cols = TABLES["activities"].column_names
    letter = chr(ord("A") + cols.index("activity_type"))
    dvs = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}2")]
    assert len(dvs) == 1 and dvs[0].type == "list"
    # the list points at the hidden sheet, which holds exactly the allowed values
    ref = dvs[0].formula1.split("!")[1].replace("$", "")
    start, end = ref.split(":")
    lists = wb[LISTS_SHEET]
    values = [c[0].value for c in lists[start:end]]
    assert values == ["individuel", "collectif"]
    assert lists.sheet_state == "hidden"


def test_template_instructions_in_french(template):
    ws = load_workbook(template)[INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    for needle in ("|", "AAAA-MM-JJ", "texte", "Obligatoire", "Valeurs autorisées", "Exemple"):
        assert needle in text
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    described = {(r[0], r[1]) for r in rows if r and r[0] in TABLES}
    # every column of every table has its line
    assert {(t, c) for t, tab in TABLES.items() for c in tab.column_names} <= described
    line = next(r for r in rows if r[0] == "activities" and r[1] == "activity_type")
    assert line[4] == "oui" and line[5] == "individuel | collectif"


def test_empty_template_is_a_valid_bundle(template, capsys):
    assert main(["validate", str(template)]) == 0
    capsys.readouterr()
    b = load_bundle(template)
    assert all(len(b[name]) == 0 for name in TABLES)


def test_template_needs_xlsx(tmp_path, capsys):
    assert main(["template", str(tmp_path / "modele.csv")]) == 2
    assert "xlsx" in capsys.readouterr().err


def test_filled_template_validates(template, tmp_path, capsys):
    """A user fills the template (codes typed as text, French decimals): it loads like the CSV bundle."""
    wb = load_workbook(template)
    for name, rows in small_tables().items():
        ws = wb[name]
        cols = TABLES[name].column_names
        for r in rows:
            ws.append([r.get(c, "") or None for c in cols])
    wb.save(tmp_path / "rempli.xlsx")
    assert main(["validate", str(tmp_path / "rempli.xlsx")]) == 0
    capsys.readouterr()
    assert_same_tables(load_bundle(write_small_bundle(tmp_path / "b")), load_bundle(tmp_path / "rempli.xlsx"))


# ----------------------------------------------------------------- export
def test_export_small_bundle_round_trips(tmp_path, capsys):
    src = write_small_bundle(tmp_path / "b")
    ref = load_bundle(src)
    assert main(["export", "--bundle", str(src), str(tmp_path / "out")]) == 0
    assert main(["export", "--bundle", str(src), str(tmp_path / "out.xlsx")]) == 0
    assert main(["validate", str(tmp_path / "out")]) == 0
    assert main(["validate", str(tmp_path / "out.xlsx")]) == 0
    capsys.readouterr()
    assert_same_tables(ref, load_bundle(tmp_path / "out"))
    xl = load_bundle(tmp_path / "out.xlsx")
    assert_same_tables(ref, xl)
    assert xl.meta == ref.meta  # the _meta sheet keeps the list and the boolean
    # amounts to the cent: 6 000,00 committed; 2 500,00 + 1 234,56 = 3 734,56 paid
    bt = xl["budget_transactions"]
    assert sum(bt.loc[bt["kind"] == "payment", "amount_eur"]) == Decimal("3734.56")


def test_export_invalid_bundle_exit_1_and_writes_nothing(tmp_path, capsys):
    tables = small_tables()
    tables["activities"][0]["gender"] = "inconnu"
    src = write_small_bundle(tmp_path / "b", tables)
    assert main(["export", "--bundle", str(src), str(tmp_path / "out.xlsx")]) == 1
    assert "activities.csv, ligne 2" in capsys.readouterr().err
    assert not (tmp_path / "out.xlsx").exists()


def test_export_unreadable_bundle_exit_2(tmp_path, capsys):
    assert main(["export", "--bundle", str(tmp_path / "absent"), str(tmp_path / "out")]) == 2
    assert "absent" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_meta_in_json_for_folders(tmp_path, capsys):
    src = write_small_bundle(tmp_path / "b")
    main(["export", "--bundle", str(src), str(tmp_path / "out")])
    capsys.readouterr()
    meta = json.loads((tmp_path / "out" / "bundle.json").read_text(encoding="utf-8"))
    assert meta["synthetic_tables"] == ["activities"] and meta["is_synthetic"] is True


# ----------------------------------------------------------------- the embedded default bundle
def _default_or_skip():
    from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

    if not any(DEFAULT_BUNDLE_DIR.glob("*.csv")):
        pytest.skip("the embedded default bundle is not built yet")


def test_default_bundle_csv_round_trip(tmp_path, capsys):
    """Exported to CSV, the default bundle validates again with the same typed tables."""
    _default_or_skip()
    ref = load_bundle()
    assert main(["export", str(tmp_path / "csv")]) == 0
    assert main(["validate", str(tmp_path / "csv")]) == 0
    capsys.readouterr()
    assert_same_tables(ref, load_bundle(tmp_path / "csv"))


@pytest.mark.slow
def test_default_bundle_xlsx_round_trip(tmp_path, capsys):
    """Exported to a workbook, the default bundle validates again with the same typed tables."""
    _default_or_skip()
    ref = load_bundle()
    assert main(["export", str(tmp_path / "b.xlsx")]) == 0
    capsys.readouterr()
    back = load_bundle(tmp_path / "b.xlsx")
    assert_same_tables(ref, back, exact=False)
    assert back.meta == ref.meta
