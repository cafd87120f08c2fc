"""Reading bundles as French spreadsheets make them, typing, hashing, caching, writing."""
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bundles.small import small_tables, write_small_bundle, write_table
from fne_eval.bundle import io as bio
from fne_eval.bundle.io import Bundle, BundleError, coerce_table, parse_column, read_raw, split_list, to_text_frame, write_bundle
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES, Column
from fne_eval.cli.main import main


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    """Read every bundle afresh: these tests are about reading and validating."""
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")


def assert_same_tables(a: Bundle, b: Bundle):
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


@pytest.fixture
def reference(tmp_path):
    """The small bundle written plainly (UTF-8, ',', '.' decimals) and loaded."""
    return load_bundle(write_small_bundle(tmp_path / "plain"))


# ----------------------------------------------------------------- valid but unusual
@pytest.mark.parametrize("variant", [
    dict(sep=";", french_numbers=True),
    dict(sep=";", french_numbers=True, encoding="cp1252"),
    dict(encoding="cp1252"),
    dict(encoding="utf-8-sig"),
    dict(sep="\t", encoding="utf-8-sig", french_numbers=True),
], ids=["semicolon_decimal_comma", "semicolon_cp1252", "cp1252", "utf8_bom", "tab_bom"])
def test_french_spreadsheet_variants_give_the_same_figures(variant, tmp_path, reference, capsys):
    path = write_small_bundle(tmp_path / "v", **variant)
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert_same_tables(reference, load_bundle(path))


def test_cp1252_accents_are_read(tmp_path):
    path = write_small_bundle(tmp_path / "v", encoding="cp1252")
    assert (path / "lieux.csv").read_bytes().count("é".encode("cp1252")) >= 1
    lieux = load_bundle(path)["lieux"]
    assert lieux.loc[0, "nom"] == "Médiathèque Méjanes"


def test_amounts_with_spaces_euro_sign_and_french_dates(tmp_path):
    tables = small_tables()
    tables["budget_transactions"][0]["amount_eur"] = "6\u202f000,00 €"   # narrow no-break space
    tables["budget_transactions"][2]["amount_eur"] = "1\u00a0234,56"      # no-break space
    tables["budget_transactions"][1]["date"] = "01/03/2024"
    tables["trainings"][0]["funded_by_training_fund"] = "oui"
    b = load_bundle(write_small_bundle(tmp_path / "v", tables, sep=";"))
    bt = b["budget_transactions"]
    assert bt["amount_eur"].tolist() == [Decimal("6000.00"), Decimal("2500.00"), Decimal("1234.56")]
    assert bt.loc[1, "date"] == pd.Timestamp("2024-03-01")
    assert b["trainings"]["funded_by_training_fund"].tolist() == [True]


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    path = write_small_bundle(tmp_path / "v")
    text = (path / "events.csv").read_text(encoding="utf-8").splitlines()
    # header, blank line, data: the data row is row 3 of the file
    (path / "events.csv").write_text(text[0] + "\n\n" + text[1].replace("2024-10-05", "2024-13-05") + "\n",
                                     encoding="utf-8")
    from fne_eval.bundle.validate import validate_bundle

    (err,) = validate_bundle(path).errors
    assert (err["table"], err["row"], err["column"]) == ("events", 3, "date")


def test_optional_table_absent_is_empty(reference):
    meteo = reference["meteo_overrides"]
    assert len(meteo) == 0 and list(meteo.columns) == TABLES["meteo_overrides"].column_names


def test_codes_stay_strings(reference):
    t = reference["territories"]
    assert t.loc[t["level"] == "departement", "territory_code"].tolist() == ["13"]
    assert pd.api.types.is_string_dtype(t["territory_code"].dtype)
    assert reference["actions"]["action_code"].tolist() == ["1.1"]


def test_typed_dtypes(reference):
    a = reference["activities"]
    assert a["participants"].dtype == np.int64 and a["date"].dtype == "datetime64[ns]"
    # participants 1 + 8 + 1 = 10
    assert a["participants"].sum() == 10
    assert reference["budget_transactions"]["amount_eur"].map(type).eq(Decimal).all()
    assert reference["trainings"]["funded_by_training_fund"].dtype == bool
    assert reference["ifn"]["poverty_rate"].tolist() == [4.5]
    assert reference["indicators"]["baseline_value"].isna().all()


def test_parquet_table_is_read(tmp_path, reference):
    path = write_small_bundle(tmp_path / "v")
    (path / "activities.csv").unlink()
    reference["activities"].to_parquet(path / "activities.parquet")
    assert_same_tables(reference, load_bundle(path))


def test_csv_and_parquet_of_one_table_is_ambiguous(tmp_path, reference):
    path = write_small_bundle(tmp_path / "v")
    reference["activities"].to_parquet(path / "activities.parquet")
    with pytest.raises(BundleError, match="deux fois"):
        load_bundle(path)


def test_formula_text_is_data(tmp_path):
    """A cell starting with '=' is text, never evaluated, and neutralised in the xlsx export."""
    from openpyxl import load_workbook

    path = write_small_bundle(tmp_path / "v")
    b = load_bundle(path)
    assert b["schedule_status"].loc[0, "comment"] == "=à jour"
    xlsx = write_bundle(b.tables, tmp_path / "v.xlsx", b.meta)
    ws = load_workbook(xlsx)["schedule_status"]
    col = TABLES["schedule_status"].column_names.index("comment") + 1
    cell = ws.cell(row=2, column=col)
    assert cell.value == "'=à jour" and cell.data_type == "s"
    assert load_bundle(xlsx)["schedule_status"].loc[0, "comment"] == "=à jour"


# ----------------------------------------------------------------- parsing units
@pytest.mark.parametrize("text,expected", [
    ("12,5", Decimal("12.50")), ("1 234,56 €", Decimal("1234.56")), ("1\u202f234,56", Decimal("1234.56")),
    ("1.234,56", Decimal("1234.56")), ("1,234.56", Decimal("1234.56")), ("-3", Decimal("-3.00")),
    ("10000", Decimal("10000.00")),
])
def test_money_parsing(text, expected):
    typed, bad = parse_column(pd.Series([text], dtype=str), Column("m", "money"))
    assert not bad.any() and typed.iloc[0] == expected


@pytest.mark.parametrize("text", ["12,345", "abc", "1e3", "12.3.4,5,6"])
def test_money_rejects(text):
    # '12,345' would be 12.345 €: not to the cent; '1e3' is not how amounts are written
    _, bad = parse_column(pd.Series([text], dtype=str), Column("m", "money"))
    assert bad.all()


@pytest.mark.parametrize("text,expected", [
    ("2024-03-15", "2024-03-15"), ("15/03/2024", "2024-03-15"), ("5/3/2024", "2024-03-05"),
    ("2024-03-15 00:00:00", "2024-03-15"),
])
def test_date_parsing(text, expected):
    typed, bad = parse_column(pd.Series([text], dtype=str), Column("d", "date"))
    assert not bad.any() and typed.iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["2025-02-30", "31/04/2024", "2024/03/15", "mars 2024", "2024-03-15 10:30"])
def test_date_rejects(text):
    _, bad = parse_column(pd.Series([text], dtype=str), Column("d", "date"))
    assert bad.all()


def test_bool_int_float_parsing():
    typed, bad = parse_column(pd.Series(["oui", "non", "TRUE", "0", "Vrai", ""], dtype=str),
                              Column("b", "bool", required=False))
    assert typed.tolist()[:5] == [True, False, True, False, True] and pd.isna(typed.iloc[5]) and not bad.any()
    typed, bad = parse_column(pd.Series(["12", "1 200", "8.5", "8,0"], dtype=str), Column("i", "int"))
    assert bad.tolist() == [False, False, True, True] and typed.iloc[1] == 1200
    typed, bad = parse_column(pd.Series(["5,25", "1\u00a0000,5", "nan", "inf"], dtype=str), Column("f", "float"))
    assert typed.iloc[0] == 5.25 and typed.iloc[1] == 1000.5 and bad.tolist() == [False, False, True, True]


def test_coerce_table_keeps_its_contract():
    df = pd.DataFrame({"task_id": ["T1"], "status_date": ["2024-06-30"], "status": ["done"],
                       "progress_pct": ["100"]})
    out = coerce_table(df, TABLES["schedule_status"])
    assert list(out.columns) == TABLES["schedule_status"].column_names
    assert out.loc[0, "progress_pct"] == 100.0 and out["comment"].isna().all()
    with pytest.raises(ValueError, match="progress_pct"):
        coerce_table(df.assign(progress_pct=["cent"]), TABLES["schedule_status"])


def test_text_frame_round_trip(reference):
    for name in ("budget_transactions", "activities", "trainings"):
        text = to_text_frame(reference[name], TABLES[name])
        pd.testing.assert_frame_equal(coerce_table(text, TABLES[name]), reference[name])
    assert to_text_frame(reference["budget_transactions"], TABLES["budget_transactions"]).loc[2, "amount_eur"] \
        == "1234.56"


def test_split_list():
    assert split_list(" a | b ||c ") == ["a", "b", "c"] and split_list(None) == [] and split_list(np.nan) == []


def test_read_raw_is_text_indexed_by_file_row(tmp_path):
    frames, meta, files = read_raw(write_small_bundle(tmp_path / "v"))
    assert frames["activities"].index.tolist() == [2, 3, 4]
    assert frames["populations"].loc[2, "population"] == "147122"
    # every table but the absent meteo_overrides and the optional governance tables (meetings,
    # decisions, issue 11) the small bundle does not hold, plus bundle.json
    assert meta["name"] == "petit bundle de test" and len(files) == len(TABLES) - 3 + 1


# ----------------------------------------------------------------- hash and cache
def test_hash_is_stable_and_follows_content(tmp_path):
    a = load_bundle(write_small_bundle(tmp_path / "a"))
    b = load_bundle(write_small_bundle(tmp_path / "b"))
    assert a.hash == b.hash and len(a.hash) == 64
    tables = small_tables()
    tables["activities"][0]["participants"] = "2"
    assert load_bundle(write_small_bundle(tmp_path / "c", tables)).hash != a.hash


def test_cache_returns_independent_copies(tmp_path):
    path = write_small_bundle(tmp_path / "a")
    first = load_bundle(path)
    first["activities"].loc[0, "participants"] = 99
    first.tables["lieux"] = first["lieux"].iloc[:0]
    first.meta["name"] = "modifié"
    second = load_bundle(path)
    assert second["activities"].loc[0, "participants"] == 1
    assert len(second["lieux"]) == 2 and second.meta["name"] == "petit bundle de test"


def test_cache_sees_a_changed_file(tmp_path):
    path = write_small_bundle(tmp_path / "a")
    assert load_bundle(path)["activities"]["participants"].sum() == 10
    tables = small_tables()
    tables["activities"][1]["participants"] = "18"  # 1 + 18 + 1 = 20
    write_table(path / "activities.csv", "activities", tables["activities"])
    assert load_bundle(path)["activities"]["participants"].sum() == 20


def test_load_without_validation_still_types(tmp_path):
    tables = small_tables()
    tables["events"][0]["action_code"] = "9.9"  # an unknown action: only validation objects
    b = load_bundle(write_small_bundle(tmp_path / "a", tables), validate=False)
    assert b["events"].loc[0, "action_code"] == "9.9"


# ----------------------------------------------------------------- atomic writes
def test_write_folder_keeps_other_files(tmp_path, reference):
    out = tmp_path / "out"
    out.mkdir()
    (out / "LISEZMOI.md").write_text("garder", encoding="utf-8")
    (out / "activities.parquet").write_bytes(b"old")
    write_bundle(reference.tables, out, reference.meta)
    assert (out / "LISEZMOI.md").read_text(encoding="utf-8") == "garder"
    assert not (out / "activities.parquet").exists()  # replaced by activities.csv
    assert_same_tables(reference, load_bundle(out))


def test_failed_folder_write_leaves_out_untouched(tmp_path, reference, monkeypatch):
    out = write_bundle(reference.tables, tmp_path / "out", reference.meta)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = {"n": 0}
    real = bio.to_text_frame

    def failing(df, table):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disque plein")
        return real(df, table)

    monkeypatch.setattr(bio, "to_text_frame", failing)
    tables = dict(reference.tables, activities=reference["activities"].iloc[:1])
    with pytest.raises(RuntimeError):
        write_bundle(tables, out, reference.meta)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plain"]  # no temporary folder left


def test_failed_xlsx_write_leaves_out_untouched(tmp_path, reference, monkeypatch):
    from openpyxl import Workbook

    out = tmp_path / "b.xlsx"
    out.write_bytes(b"ancien")

    real_save = Workbook.save

    def failing(self, filename):
        real_save(self, filename)  # the temporary file is written, then the disk fails
        raise OSError("disque plein")

    monkeypatch.setattr(Workbook, "save", failing)
    with pytest.raises(OSError):
        write_bundle(reference.tables, out, reference.meta)
    assert out.read_bytes() == b"ancien"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx", "plain"]  # no temporary file left


def test_write_bundle_rejects_unknown_output():
    with pytest.raises(ValueError, match="xlsx"):
        write_bundle({}, "sortie.xls")


def test_excel_formula_cell_is_read_as_its_text(tmp_path):
    """A formula typed in a text column is kept as text, never evaluated."""
    from openpyxl import load_workbook

    xlsx = write_bundle(load_bundle(write_small_bundle(tmp_path / "v")).tables, tmp_path / "v.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["events"]
    ws.cell(row=2, column=TABLES["events"].column_names.index("title") + 1, value="=1+1")
    assert ws.cell(row=2, column=TABLES["events"].column_names.index("title") + 1).data_type == "f"
    wb.save(xlsx)
    assert load_bundle(xlsx)["events"].loc[0, "title"] == "=1+1"


def test_meta_sheet_keeps_value_types(tmp_path):
    meta = {"name": "essai", "vintage": "2023", "seed": 42, "share": 0.5, "is_synthetic": True,
            "synthetic_tables": ["activities", "lieux"], "generator": {"version": "0.1.0"}, "note": None}
    xlsx = write_bundle(load_bundle(write_small_bundle(tmp_path / "v")).tables, tmp_path / "v.xlsx", meta)
    assert load_bundle(xlsx).meta == meta


def test_sheet_rows_keep_their_excel_numbers(tmp_path):
    """An empty row in a sheet is skipped but does not shift the row numbers of errors."""
    from openpyxl import load_workbook

    from fne_eval.bundle.validate import validate_bundle

    xlsx = write_bundle(load_bundle(write_small_bundle(tmp_path / "v")).tables, tmp_path / "v.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["activities"]
    ws.insert_rows(3)  # data rows now on 2, 4, 5
    col = TABLES["activities"].column_names.index("gender") + 1
    ws.cell(row=5, column=col, value="inconnu")
    wb.save(xlsx)
    (err,) = validate_bundle(xlsx).errors
    assert (err["table"], err["row"], err["column"], err["value"]) == ("activities", 5, "gender", "inconnu")
    assert err["message"].startswith("feuille « activities » de v.xlsx, ligne 5")


def test_sheet_with_empty_header_cells_is_read(tmp_path):
    from openpyxl import load_workbook

    xlsx = write_bundle(load_bundle(write_small_bundle(tmp_path / "v")).tables, tmp_path / "v.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["events"]
    n = ws.max_column
    ws.cell(row=1, column=n + 3, value="remarque")  # two empty header cells before it
    ws.cell(row=2, column=n + 1, value="sans en-tête")
    ws.cell(row=2, column=n + 2, value="idem")
    wb.save(xlsx)
    assert load_bundle(xlsx)["events"].loc[0, "title"] == "Journée des aidants"
