"""French formats of the report layer, checked against hand-written values."""
import datetime as dt
import re
import math
from decimal import Decimal

import pandas as pd
import pytest

from fne_eval.report import format as F
from fne_eval.report.labels import code_label, column_label, relabel
from fne_eval.report.tables import html_table

NNBSP = "\u202f"  # narrow no-break space: thousands
NBSP = "\u00a0"  # no-break space: before € and %


@pytest.mark.parametrize("value, expected", [
    (0, "0"),
    (999, "999"),
    (1000, f"1{NNBSP}000"),
    (1234567, f"1{NNBSP}234{NNBSP}567"),
    (2056943, f"2{NNBSP}056{NNBSP}943"),  # population of the 13 in 2021 (seed)
    (-4500, f"-4{NNBSP}500"),
    (12.6, "13"),  # rounded half up
])
def test_fmt_int(value, expected):
    assert F.fmt_int(value) == expected


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, pd.NaT, math.nan])
def test_missing_values_are_a_dash(value):
    assert F.fmt_int(value) == "–"
    assert F.fmt_pct(value) == "–"
    assert F.fmt_eur(value) == "–"
    assert F.fmt_date(value) == "–"
    assert F.fmt_month(value) == "–"


def test_fmt_decimal_and_pct():
    assert F.fmt_decimal(12.5) == "12,5"
    assert F.fmt_decimal(5.25, 2) == "5,25"  # IFN mean of the 13 (seed: 5,25)
    assert F.fmt_decimal(12.25, 1) == "12,3"  # half up on the decimal value, not binary
    assert F.fmt_decimal(1234.5) == f"1{NNBSP}234,5"
    assert F.fmt_decimal(-0.04) == "0,0"  # never "-0,0"
    assert F.fmt_pct(12.5) == f"12,5{NBSP}%"
    # 513 / 125 = 4.104 -> 410,4 % (Saint-Antonin-sur-Bayon in annexe 3)
    assert F.fmt_pct(513 / 125 * 100) == f"410,4{NBSP}%"
    assert F.fmt_pct(91.76, 0) == f"92{NBSP}%"


def test_fmt_eur():
    assert F.fmt_eur(71433) == f"71{NNBSP}433{NBSP}€"  # planned FNE budget (annexe 6)
    assert F.fmt_eur(Decimal("1234.56")) == f"1{NNBSP}234,56{NBSP}€"
    assert F.fmt_eur(Decimal("6000.00")) == f"6{NNBSP}000{NBSP}€"  # cents dropped when zero
    assert F.fmt_eur(Decimal("0.10") * 3) == f"0,30{NBSP}€"
    assert F.fmt_eur(12, cents="always") == f"12,00{NBSP}€"
    with pytest.raises(ValueError):
        F.fmt_eur(1, cents="sometimes")


def test_fmt_dates():
    assert F.fmt_date(dt.date(2026, 11, 29)) == "29 novembre 2026"
    assert F.fmt_date("2025-01-01") == "1er janvier 2025"
    assert F.fmt_date(pd.Timestamp("2023-11-23")) == "23 novembre 2023"  # first COPIL
    assert F.fmt_month(pd.Timestamp("2026-11-29")) == "nov. 2026"
    assert F.fmt_month("2025-02-10") == "févr. 2025"
    assert F.fmt_month("2025-08-10") == "août 2025"
    assert F.fmt_date_short("2026-11-29") == "29 nov. 2026"
    assert F.fmt_date_short("2025-05-01") == "1er mai 2025"


def test_fmt_signed_and_count():
    assert F.fmt_signed(12) == "+12"
    assert F.fmt_signed(-3.5, 1, "%") == f"-3,5{NBSP}%"
    assert F.fmt_signed(0) == "0"
    assert F.fmt_count(3, suppressed=True) == "< 5"
    assert F.fmt_count(3, suppressed=True, threshold=10) == "< 10"
    assert F.fmt_count(1500) == f"1{NNBSP}500"
    with pytest.raises(ValueError):
        F.fmt_signed(1, unit="km")


def test_fmt_value_by_unit():
    assert F.fmt_value(150, "places") == "150"
    assert F.fmt_value(15, "pct") == f"15,0{NBSP}%"
    assert F.fmt_value(5.25, "index") == "5,25"
    assert F.fmt_value(2.5, "unknown_unit") == "2,5"
    assert F.fmt_value(3.0, "unknown_unit") == "3"


def test_labels():
    assert column_label("planned_eur") == "Prévu"
    assert column_label("some_new_column") == "Some new column"
    assert code_label("meteo", "amber") == "Orange"
    assert code_label("age_band", "soixante_dix_plus") == "70 ans et plus"
    assert code_label("theme", "not_a_theme") == "not_a_theme"
    with pytest.raises(ValueError):
        code_label("not_a_vocabulary", "x")
    df = pd.DataFrame({"gender": ["feminin", None], "n": [1, 2]})
    out = relabel(df)
    assert out["gender"].tolist()[0] == "Femme" and pd.isna(out["gender"].tolist()[1])
    assert df["gender"].tolist()[0] == "feminin"  # input untouched


def test_html_table_formats_escapes_and_aligns():
    df = pd.DataFrame({
        "action_code": ["1.3", "2.1"],
        "action_title": ["<script>alert(1)</script>", "Filière & co"],
        "planned_eur": [Decimal("1584.00"), Decimal("20557.50")],
        "payment_rate_pct": [12.5, None],
    })
    t = html_table(df)
    h = t._repr_html_()
    assert "<script>" not in h and "&lt;script&gt;" in h
    assert "Filière &amp; co" in h
    assert f"1{NNBSP}584{NBSP}€" in h and f"20{NNBSP}557,50{NBSP}€" in h
    assert f"12,5{NBSP}%" in h and "–" in h
    assert ">Prévu</th>" in h and ">Action</th>" in h
    assert "1.3" in h  # codes stay as written
    assert 'class="num" style="text-align:right' in h
    assert "<th></th>" not in h  # no index column


def test_html_table_suppressed_cells_and_personal_data():
    df = pd.DataFrame({"age_band": ["soixante_dix_plus", "douze_dix_huit"],
                       "participants": [120, None], "is_suppressed": [False, True]})
    h = html_table(df, count_columns=["participants"])._repr_html_()
    assert "&lt; 5" in h  # hidden count shown as "< 5", never 0
    assert "Is suppressed" not in h and "is_suppressed" not in h  # flag column not displayed
    assert ">120<" in h and "70 ans et plus" in h
    with pytest.raises(ValueError):
        html_table(pd.DataFrame({"courriel": ["a@b.fr"]}))
    with pytest.raises(ValueError):
        html_table(df, formats={"participants": "roman"})


def test_meteo_cells_have_a_coloured_dot_and_escape_unknown_codes():
    df = pd.DataFrame({"final_status": ["red", "<i>x</i>", None]})
    h = html_table(df, formats={"final_status": "meteo"})._repr_html_()
    assert "color:#C8102E" in h and "Rouge" in h  # red dot, French label
    assert "<i>x</i>" not in h and "&lt;i&gt;x&lt;/i&gt;" in h
    assert "–" in h  # missing status


# --------------------------------------------------------------------------- PDF layout of tables
def test_report_css_makes_tables_wrap():
    from fne_eval.runner.render import CSS_FILE

    css = CSS_FILE.read_text(encoding="utf-8")
    table_rule = css[css.index("table {"):css.index("}", css.index("table {"))]
    assert "max-width: 100%" in table_rule and "table-layout" in table_rule
    assert "overflow-wrap: anywhere" in css


def test_long_text_in_a_number_column_wraps_and_short_tables_keep_their_caption():
    method = "MCO à effets fixes unité et période (différence de différences), erreurs robustes"
    df = pd.DataFrame({"figure": ["Méthode", "Unités"], "value": [method, "134"]})
    h = html_table(df, formats={"value": "numtext"}, caption="Estimation").html
    cells = re.findall(r"<td[^>]*>[^<]*</td>", h)
    long_cell = next(c for c in cells if "MCO" in c)
    short_cell = next(c for c in cells if ">134<" in c)
    assert "nowrap" not in long_cell and "text-align:left" in long_cell
    assert "nowrap" in short_cell and "text-align:right" in short_cell
    # 2 rows (≤ LONG_TABLE_ROWS): caption and table in one block that does not break
    assert h.startswith('<div class="fne-table-block" style="break-inside:avoid')
    assert h.index("<caption") < h.index("</table>") < h.index("</div>")


def test_long_tables_may_break():
    from fne_eval.report.tables import LONG_TABLE_ROWS

    df = pd.DataFrame({"n": list(range(LONG_TABLE_ROWS + 1))})
    h = html_table(df, caption="Long").html
    assert "break-inside:avoid" not in h and "break-inside:auto" in h


# --------------------------------------------------------------------------- French words
def test_table_names_and_log_lines_in_french():
    from fne_eval.report.labels import log_label

    df = pd.DataFrame({"table": ["activities", "lieux", "schedule_tasks"]})
    h = html_table(df).html
    assert "Accompagnements" in h and "Chronogramme" in h and "activities" not in h
    assert log_label("trend: 9 unit-periods left out of year-on-year comparisons "
                     "(not active in both periods)").startswith("Évolution à périmètre constant : 9 ")
    assert log_label("exposed_population: units without IFN: 2 of 136 rows have no match "
                     "(kept with missing values)") == ("2 ligne(s) sur 136 sans correspondance, gardée(s) "
                                                       "avec des valeurs manquantes (communes exposées sans IFN).")
    assert log_label("something new happened") == "(message technique) something new happened"


@pytest.mark.parametrize("vocabulary, code, label", [
    ("task_state", "in_progress", "En cours"),
    ("training_type", "aidants_connect", "Aidants Connect"),
    ("meteo", "amber", "Orange"),
    ("table", "exposed_communes", "Annexe 3 (communes exposées)"),
])
def test_codes_shown_to_readers_have_french_labels(vocabulary, code, label):
    assert code_label(vocabulary, code) == label


def test_long_table_caption_is_a_paragraph_kept_with_the_table():
    from fne_eval.report.tables import LONG_TABLE_ROWS

    df = pd.DataFrame({"n": list(range(LONG_TABLE_ROWS + 3))})
    h = html_table(df, caption="Décisions à prendre").html
    assert "<caption" not in h
    cap = re.search(r'<p class="fne-caption"[^>]*>([^<]*)</p>', h)
    assert cap and cap.group(1) == "Décisions à prendre" and "break-after:avoid" in cap.group(0)
    assert cap.end() <= h.index("<table") and 'aria-label="Décisions à prendre"' in h


@pytest.mark.parametrize("value, expected", [
    ("2024-05-21", "21 mai 2024"),  # the seed's "au 21/05/2024"
    ("2024-01", "janv. 2024"),
    ("2024", "2024"),
    ("2024-2025", "2024-2025"),
    ("non datée (carte consultée en 2024)", "non datée (carte consultée en 2024)"),
    (None, "–"),
])
def test_fmt_reference_date(value, expected):
    assert F.fmt_reference_date(value) == expected


@pytest.mark.parametrize("key, expected", [
    ("row_number=19", "ligne 19"),
    ("activity_id=A0017490, A0017491", "accompagnement A0017490, A0017491"),
    ("printed_ifn", "IFN imprimé"),
    ("unknown_field=3", "unknown_field 3"),
])
def test_key_label(key, expected):
    from fne_eval.report.labels import key_label

    assert key_label(key) == expected


def test_html_table_widths():
    df = pd.DataFrame({"key": ["id=1"], "message": ["Un constat"]})
    h = html_table(df, widths={"key": 30, "message": 70}).html
    assert "width:100%" in h and "width:30%" in h and "width:70%" in h
    with pytest.raises(ValueError, match="widths"):
        html_table(df, columns=["message"], widths={"key": 30})
