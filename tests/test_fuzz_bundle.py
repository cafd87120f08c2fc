"""Fuzzed bundles: random and mutated files fed to the reader and the validator (issue 6, point 1).

Every input must end in one of two ways: a :class:`ValidationResult` (valid, or with errors
that each carry a French message naming the place), or a :class:`BundleError` with a
message. Anything else (a traceback from pandas, openpyxl, pandera...) or a hang fails.

Inputs start from a tiny valid bundle (5 territories, 4 axes, 1 action) and are mutated:
cells replaced by random or hostile text (odd Unicode, control characters, formulas, huge
numbers, full-width digits), bytes truncated or flipped, columns dropped, added or doubled,
whole files replaced by random bytes, Excel workbooks with random cells (formulas,
numbers, dates, booleans). Example counts are bounded (see ``EXAMPLES``; total printed by
``pytest --hypothesis-show-statistics``) so the module runs in well under a minute.
"""
from __future__ import annotations

import datetime as dt
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fne_eval.bundle.io import BundleError, read_bundle_raw
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.bundle.validate import ValidationResult, validate_bundle

from test_plan import make_bundle

#: Examples per property; the sum is the number of fuzzed inputs reported in the README.
EXAMPLES = {"cell": 40, "bytes": 30, "columns": 30, "random_file": 30, "xlsx": 15}
#: An example running longer than this is a hang (a guard, not a speed measure).
HANG_S = 60
FUZZ = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

HOSTILE_TEXT = [
    "", " ", "\u00a0", "\ufeff", "\u202e13", "13\u200b", "１３", "２４１３００４１７", "13\x00", "\x07",
    "=1+1", "=HYPERLINK(\"http://example.org\",\"clic\")", "+33 6 12 34 56 78", "-2+3", "@SUM(A1)",
    "=cmd|' /C calc'!A0", "1e308", "-1e308", "1e-400", "9" * 400, "NaN", "nan", "inf", "-0", "None", "null",
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "../../etc/passwd", "a;b;c", "a,b", "\"", "'",
    "a\nb", "a\r\nb", "\t", "2025-02-30", "31/12/99999", "oui", "𝟙𝟛", "Ⅻ", "ß", "İ", "🙂" * 50, "x" * 100_000,
    "1 234,56", "1.234.567,89", "12,5 %", "€", "|", "||", "2A004", "2a004", "13 001",
]

TABLES_FUZZED = ("territories", "axes", "actions")


@contextmanager
def no_hang(seconds: int = HANG_S):
    """Fail (instead of blocking the suite) when the body runs longer than ``seconds``."""
    def _alarm(signum, frame):
        raise AssertionError(f"hang: no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_outcome(path: Path) -> str:
    """Validate ``path`` and check that the outcome is a clean result or a clear error.

    Returns ``'valid'``, ``'invalid'`` or ``'unreadable'``.
    """
    with no_hang():
        try:
            result = validate_bundle(path)
        except BundleError as exc:
            assert str(exc).strip(), "a BundleError must carry a message"
            return "unreadable"
    assert isinstance(result, ValidationResult)
    for e in result.errors + result.warnings:
        assert isinstance(e["message"], str) and e["message"].strip()
        assert e["table"] is None or e["table"] in TABLES
    if result.errors:
        return "invalid"
    codes = result.tables["territories"]["territory_code"].dropna()
    assert all(isinstance(c, str) and c.isascii() for c in codes), "codes are ASCII strings"
    return "valid"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A tiny valid bundle folder (5 territories, 4 axes, 1 action)."""
    from fne_eval.bundle import write_bundle

    folder = tmp_path_factory.mktemp("fuzz") / "base"
    b = make_bundle(folder)
    tables = dict(b.tables)
    tables["actions"] = pd.DataFrame({
        "action_code": ["1.1"], "axis_code": ["1"], "action_title": ["Gouvernance"],
        "referents": ["Préfecture|Hub du Sud"], "partners": ["Orange"],
        "start_date": [pd.Timestamp("2024-01-01")], "end_date": [pd.Timestamp("2025-12-31")], "source": ["test"]})
    write_bundle(tables, folder, meta=b.meta)
    assert validate_bundle(folder).valid
    return folder


def _copy(base: Path, tmp: Path, name: str) -> Path:
    out = tmp / name
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base, out)
    return out


_counter = {"n": 0}


def _fresh(base: Path, tmp_path: Path) -> Path:
    _counter["n"] += 1
    return _copy(base, tmp_path, f"b{_counter['n']}")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


text_values = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30),
                        st.from_regex(r"[0-9 ,.\-+eE]{0,12}", fullmatch=True))


# --------------------------------------------------------------------------- properties

@settings(FUZZ, max_examples=EXAMPLES["cell"])
@given(table=st.sampled_from(TABLES_FUZZED), row=st.integers(0, 4), col=st.integers(0, 8),
       value=text_values, sep=st.sampled_from([",", ";"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_mutated_cell_is_valid_or_a_clear_error(base, tmp_path, table, row, col, value, sep, encoding):
    folder = _fresh(base, tmp_path)
    path = folder / f"{table}.csv"
    df = _read(path)
    df.iloc[row % len(df), col % len(df.columns)] = value
    try:
        data = df.to_csv(index=False, sep=sep, lineterminator="\n").encode(encoding)
    except UnicodeEncodeError:
        data = df.to_csv(index=False, sep=sep, lineterminator="\n").encode("utf-8")
    path.write_bytes(data)
    check_outcome(folder)


@settings(FUZZ, max_examples=EXAMPLES["bytes"])
@given(table=st.sampled_from(TABLES_FUZZED + ("bundle.json",)), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       insert=st.binary(max_size=20))
def test_truncated_or_corrupted_file_is_valid_or_a_clear_error(base, tmp_path, table, cut, flips, insert):
    folder = _fresh(base, tmp_path)
    path = folder / (table if table.endswith(".json") else f"{table}.csv")
    data = bytearray(path.read_bytes())
    data = data[: int(len(data) * cut)]
    for pos, byte in flips:
        if data:
            data[min(int(pos * len(data)), len(data) - 1)] = byte
    at = len(data) // 2
    data[at:at] = insert
    path.write_bytes(bytes(data))
    check_outcome(folder)


@settings(FUZZ, max_examples=EXAMPLES["columns"])
@given(table=st.sampled_from(TABLES_FUZZED),
       action=st.sampled_from(["drop", "add", "double", "double_case", "rename", "empty_header", "only_header"]),
       col=st.integers(0, 8), name=st.one_of(st.sampled_from(["courriel", "telephone", "Level", "LEVEL ", "", "x" * 300,
                                                               "territory_code", "=A1"]), st.text(max_size=12)))
def test_extra_missing_or_doubled_columns_are_valid_or_a_clear_error(base, tmp_path, table, action, col, name):
    folder = _fresh(base, tmp_path)
    path = folder / f"{table}.csv"
    df = _read(path)
    c = df.columns[col % len(df.columns)]
    header = list(df.columns)
    rows = df.values.tolist()
    if action == "drop":
        i = header.index(c)
        header.pop(i)
        rows = [r[:i] + r[i + 1:] for r in rows]
    elif action == "add":
        header.append(name)
        rows = [r + ["v"] for r in rows]
    elif action in ("double", "double_case"):
        header.append(c if action == "double" else c.upper())
        rows = [r + [r[header.index(c)]] for r in rows]
    elif action == "rename":
        header[header.index(c)] = name
    elif action == "empty_header":
        header = [""] * len(header)
    elif action == "only_header":
        rows = []
    import csv
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    check_outcome(folder)


@settings(FUZZ, max_examples=EXAMPLES["random_file"])
@given(table=st.sampled_from(TABLES_FUZZED), suffix=st.sampled_from([".csv", ".parquet"]),
       data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.sampled_from([b"PK\x03\x04junk", b"PAR1\x00\x00PAR1", b"\xef\xbb\xbf", b"\n\n\n", b";;;\n;;;",
                                       b"territory_code\n" + b"1" * 200_000])))
def test_file_replaced_by_random_content_is_valid_or_a_clear_error(base, tmp_path, table, suffix, data):
    folder = _fresh(base, tmp_path)
    (folder / f"{table}.csv").unlink()
    (folder / f"{table}{suffix}").write_bytes(data)
    check_outcome(folder)


cell_values = st.one_of(
    st.sampled_from(HOSTILE_TEXT[:30]), st.text(max_size=20), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["=SUM(1,2)", "=1/0", "=HYPERLINK(\"http://example.org\")", "=A1", "=NOW()"]))


@settings(FUZZ, max_examples=EXAMPLES["xlsx"])
@given(table=st.sampled_from(TABLES_FUZZED), cells=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 8), cell_values),
                                                              min_size=1, max_size=6),
       drop_sheet=st.booleans())
def test_excel_workbook_with_random_cells_is_valid_or_a_clear_error(base, tmp_path, table, cells, drop_sheet):
    from openpyxl import load_workbook

    from fne_eval.bundle import write_bundle

    _counter["n"] += 1
    xlsx = tmp_path / f"w{_counter['n']}.xlsx"
    if not (tmp_path / "base.xlsx").exists():
        write_bundle(load_bundle(base).tables, tmp_path / "base.xlsx", meta={"name": "fuzz"})
    shutil.copy(tmp_path / "base.xlsx", xlsx)
    wb = load_workbook(xlsx)
    ws = wb[table]
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for r, c, v in cells:  # control characters cannot be stored in a workbook at all
        ws.cell(row=r + 1, column=c + 1, value=ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    if drop_sheet:
        del wb["axes"]
    wb.save(xlsx)
    check_outcome(xlsx)


# --------------------------------------------------------------------------- pinned cases

def test_full_width_digits_are_not_a_code(base, tmp_path):
    """'２４１３００４１７' passes a naive \\d pattern but would never join with '241300417'."""
    folder = _fresh(base, tmp_path)
    path = folder / "territories.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("241300417", "２４１３００４１７"), encoding="utf-8")
    result = validate_bundle(folder)
    assert not result.valid
    assert any(e["table"] == "territories" and e["column"] == "territory_code" and e["row"] == 4
               for e in result.errors)


def test_same_column_twice_in_other_case_is_a_clear_error(base, tmp_path):
    folder = _fresh(base, tmp_path)
    path = folder / "territories.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",LEVEL"] + [ln + ",epci" for ln in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BundleError, match="level"):
        read_bundle_raw(folder)
    assert check_outcome(folder) == "unreadable"


def test_formula_in_excel_cell_is_read_as_text_never_computed(base, tmp_path):
    """A formula cell of a workbook is read as its text: '=1+1' in a title stays '=1+1', never 2."""
    from openpyxl import load_workbook

    from fne_eval.bundle import write_bundle

    xlsx = tmp_path / "f.xlsx"
    write_bundle(load_bundle(base).tables, xlsx, meta={"name": "fuzz"})
    wb = load_workbook(xlsx)
    wb["actions"]["C2"] = "=1+1"  # action_title of action 1.1
    wb.save(xlsx)
    bundle = load_bundle(xlsx)
    assert bundle["actions"]["action_title"].tolist() == ["=1+1"]


def test_formula_like_text_is_neutralised_when_written_to_excel(base, tmp_path):
    from openpyxl import load_workbook

    from fne_eval.bundle import write_bundle

    tables = load_bundle(base).tables
    tables["actions"].loc[0, "action_title"] = "=cmd|' /C calc'!A0"
    xlsx = tmp_path / "out.xlsx"
    write_bundle(tables, xlsx, meta={})
    wb = load_workbook(xlsx)
    kinds = {c.data_type for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "f" not in kinds  # no cell is a formula
    assert load_bundle(xlsx)["actions"]["action_title"].tolist() == ["=cmd|' /C calc'!A0"]


def test_cli_validate_answers_0_1_or_2_on_a_truncated_bundle(base, tmp_path):
    from fne_eval.cli.main import main

    folder = _fresh(base, tmp_path)
    path = folder / "territories.csv"
    path.write_bytes(path.read_bytes()[:37])  # cut inside the first data row
    assert main(["validate", str(folder)]) in (0, 1, 2)


def test_unnamed_header_cells_in_a_sheet_are_ignored(base, tmp_path):
    """Two header cells that clean to '' (empty, BOM only) used to crash the reader."""
    from openpyxl import load_workbook

    from fne_eval.bundle import write_bundle

    xlsx = tmp_path / "u.xlsx"
    write_bundle(load_bundle(base).tables, xlsx, meta={"name": "fuzz"})
    wb = load_workbook(xlsx)
    wb["axes"]["D1"] = " "
    wb["axes"]["E1"] = "\ufeff"
    wb["axes"]["E2"] = "valeur sans colonne"
    wb.save(xlsx)
    assert check_outcome(xlsx) == "valid"
    assert load_bundle(xlsx)["axes"]["axis_code"].tolist() == ["1", "2", "3", "4"]
