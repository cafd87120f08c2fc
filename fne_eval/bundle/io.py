"""Read and write bundles (folder of CSV/Parquet, or one .xlsx workbook).

Reading takes files as French spreadsheets produce them: ``;`` or ``,`` separator
(sniffed from the header line), UTF-8 with or without BOM or Windows-1252 (UTF-8 is
tried strictly first), decimal commas and (narrow) no-break-space thousands separators
in numbers, dates ``YYYY-MM-DD`` or ``DD/MM/YYYY``, booleans ``oui/non/true/false/1/0``.
Every cell is read as text first, so that codes stay strings; typing happens column by
column (:func:`parse_column`) over the distinct values of a column, which keeps a
one-million-row table fast.

Raw frames (:func:`read_raw`) are indexed by the row number a user sees in the file or
sheet (header = row 1, first data row = 2), so that every validation error can name it.
"""
from __future__ import annotations

import copy
import csv
import datetime as _dt
import errno
import functools
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from fne_eval.bundle.datapackage import DATAPACKAGE_FILE, datapackage_text, write_workbook_descriptor
from fne_eval.bundle.spec import PERSONAL_DATA_COLUMNS, TABLES, Column, Table
from fne_eval.core.paths import chmod_as_umask

META_FILE = "bundle.json"
META_SHEET = "_meta"
TABLE_SUFFIXES = (".csv", ".parquet")
#: Text starting with one of these characters becomes a formula in a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@")
#: The same for a CSV cell opened in a spreadsheet (a tab or carriage return first counts too).
CSV_FORMULA_PREFIXES = FORMULA_PREFIXES + ("\t", "\r")


class BundleError(Exception):
    """A bundle that cannot be read at all (not a bundle, empty file, missing sheet...)."""


class BundleValidationError(BundleError):
    """A readable bundle whose tables break their schema.

    Attributes
    ----------
    errors : list of dict
        Every error, each with ``table``, ``row``, ``column``, ``value`` and ``message``.
    """

    def __init__(self, errors: list, source: str = "", max_shown: int = 20):
        self.errors = list(errors)
        self.source = source
        lines = [f"bundle {source} invalide : {len(self.errors)} erreur(s)"]
        lines += ["  " + e["message"] for e in self.errors[:max_shown]]
        if len(self.errors) > max_shown:
            lines.append(f"  ... et {len(self.errors) - max_shown} autre(s) (fne-eval validate {source})")
        super().__init__("\n".join(lines))


@dataclass
class Bundle:
    """A loaded bundle: typed tables and metadata.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        One typed frame per table of :data:`fne_eval.bundle.spec.TABLES`.
    meta : dict
        Metadata (``name``, ``is_synthetic``, ``synthetic_tables``, ``generator``...).
    source : str
        Where the bundle was read from.
    hash : str
        SHA-256 of the bundle's files, in a stable order.
    """

    tables: dict
    meta: dict = field(default_factory=dict)
    source: str = ""
    hash: str = ""

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def is_synthetic(self) -> bool:
        """Return True when any table of the bundle holds synthetic data."""
        return bool(self.meta.get("is_synthetic")) or bool(self.meta.get("synthetic_tables"))

    def copy(self) -> "Bundle":
        """Return a copy whose frames and metadata can be changed without touching this one."""
        return Bundle(
            tables={k: v.copy() for k, v in self.tables.items()},
            meta=copy.deepcopy(self.meta),
            source=self.source,
            hash=self.hash,
        )


@dataclass
class RawBundle:
    """A bundle read as text, before typing and validation.

    Attributes
    ----------
    frames : dict of str to pandas.DataFrame
        Text frames of the tables present (every cell a string, ``""`` when empty),
        indexed by the row number seen in the file (header = 1).
    places : dict of str to str
        Where each table was read from, as named in messages (``activities.csv``,
        ``feuille « activities » de bundle.xlsx``).
    meta : dict
        The bundle's metadata.
    files : list of Path
        The files read (for the hash).
    source : str
        The bundle path.
    warnings : list of dict
        Remarks made while reading (a hidden sheet ignored...), with the keys of a
        validation warning (``table``, ``row``, ``column``, ``value``, ``message``).
    """

    frames: dict
    places: dict
    meta: dict
    files: list
    source: str
    warnings: list = field(default_factory=list)


# --------------------------------------------------------------------------- values
def split_list(value) -> list:
    """Split a ``|``-joined list value into its stripped, non-empty elements."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return []
    return [v.strip() for v in str(value).split("|") if v.strip()]


def value_to_text(v) -> str:
    """Return one cell value (from Excel, Parquet or a typed frame) as bundle text.

    Integral floats lose their ``.0`` (Excel stores every number as a float), dates
    become ``YYYY-MM-DD``, booleans ``true``/``false``, missing values ``""``.
    """
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return ""
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.strftime("%Y-%m-%d")
        return v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return value_to_text(pd.Timestamp(v)) if not np.isnat(v) else ""
    return str(v)


_BAD = object()
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TRUE = {"true", "1", "oui", "vrai", "yes", "o", "x"}
_FALSE = {"false", "0", "non", "faux", "no", "n"}


def _normalise_number(text: str) -> str:
    """Return a number's text with a '.' decimal point and no thousands separators."""
    s = _SPACES.sub("", text)
    has_comma, has_dot = "," in s, "." in s
    if has_comma and has_dot:  # the rightmost separator is the decimal one
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif has_comma:
        s = s.replace(",", ".") if s.count(",") == 1 else s.replace(",", "")
    elif s.count(".") > 1:
        s = s.replace(".", "")
    return s


#: Integers a column can hold (int64): a 20-digit number is an error, not a crash.
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
#: Years a date may have: outside them a date is a typo (9999-12-31), not a fact of the roadmap.
DATE_YEAR_MIN, DATE_YEAR_MAX = 1900, 2100


def _parse_int(text: str):
    s = _SPACES.sub("", text)
    if not _INT.match(s) or len(s) > 20:
        return _BAD
    v = int(s)
    return v if INT_MIN <= v <= INT_MAX else _BAD


def _parse_float(text: str):
    s = _normalise_number(text)
    if not _NUMBER.match(s):
        return _BAD
    v = float(s)
    return v if math.isfinite(v) else _BAD


def _parse_money(text: str):
    s = text.replace("€", "").replace("EUR", "").replace("eur", "")
    s = _normalise_number(s)
    if not _NUMBER.match(s) or "e" in s.lower():
        return _BAD
    try:
        d = Decimal(s)
        q = d.quantize(Decimal("0.01"))
    except InvalidOperation:
        return _BAD
    return q if q == d else _BAD  # more than two decimals: not an amount to the cent


def parse_export_date(text: str):
    m = _ISO_DATE.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _FR_DATE.match(text)
        if not m:
            return _BAD
        d, mo, y = (int(g) for g in m.groups())
    if not DATE_YEAR_MIN <= y <= DATE_YEAR_MAX:
        return _BAD  # 9999-12-31 would overflow nanoseconds and come back as 1816
    try:
        return np.datetime64(_dt.date(y, mo, d), "ns")
    except ValueError:  # 2025-02-30
        return _BAD


def _parse_bool(text: str):
    s = text.lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return _BAD


_PARSERS = {"int": _parse_int, "float": _parse_float, "money": _parse_money,
            "date": parse_export_date, "bool": _parse_bool}

#: What a value of each kind must look like (French, for messages).
KIND_EXPECTED = {
    "code": "un code (texte)",
    "str": "du texte",
    "int": "un nombre entier",
    "float": "un nombre (virgule ou point décimal)",
    "money": "un montant en euros, au centime près (ex. 1 234,56)",
    "date": f"une date AAAA-MM-JJ ou JJ/MM/AAAA, entre {DATE_YEAR_MIN} et {DATE_YEAR_MAX}",
    "bool": "un booléen (oui/non, true/false, 1/0)",
    "list": "des valeurs séparées par |",
}


def _is_text_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)


def text_series(raw: pd.Series) -> pd.Series:
    """Return ``raw`` as stripped text (string dtype), empty cells as missing."""
    if _is_text_dtype(raw):
        s = raw.astype("string")
    else:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        texts = np.array([value_to_text(u) for u in uniques] + [None], dtype=object)
        s = pd.Series(texts[codes], index=raw.index, dtype="string")
    return s.str.strip().replace("", None)


def parse_column(raw: pd.Series, col: Column) -> tuple:
    """Type one column and say which non-empty cells do not parse.

    Parameters
    ----------
    raw : pandas.Series
        Text cells (or already typed values) of the column.
    col : Column
        Its declaration in :mod:`fne_eval.bundle.spec`.

    Returns
    -------
    typed : pandas.Series
        The typed column (same index; unparseable cells are missing), in the dtypes
        documented in :mod:`fne_eval.bundle`.
    bad : numpy.ndarray of bool
        True where a non-empty cell is not a valid value of the column's kind.
    """
    n = len(raw)
    no_bad = np.zeros(n, dtype=bool)
    kind = col.kind
    # fast paths for frames that are already typed
    if kind == "int" and pd.api.types.is_integer_dtype(raw.dtype):
        return _int_dtype(raw.astype("Int64"), col), no_bad
    if kind == "float" and pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64"), no_bad
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(raw.dtype):
        s = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) is not None else raw
        return s.dt.normalize().astype("datetime64[ns]"), no_bad
    if kind == "bool" and pd.api.types.is_bool_dtype(raw.dtype):
        return _bool_dtype(raw.astype("boolean"), col), no_bad

    return parse_text(text_series(raw), col)


#: Personal data inside free text (titles, comments, notes): e-mail addresses, plain or
#: obfuscated (``jean [at] x [dot] fr``, ``x(at)y.fr``, accented), phone numbers (French in
#: every usual spelling, foreign ones in international form), NIR and IBAN.
_AT = r"(?:\s?@\s?|\s*[\[\(\{<]\s*(?:at|arobase|chez|@)\s*[\]\)\}>]\s*|\s+(?:at|arobase)\s+)"
_DOT = r"(?:\.|\s\.\s|\s*[\[\(\{<]\s*(?:dot|point|\.)\s*[\]\)\}>]\s*|\s+(?:dot|point)\s+)"
_LABEL = r"[\w\-]+"
EMAIL_RE = re.compile(rf"[\w.%+\-]+{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[^\W\d_]{{2,}}(?![\w])", re.I)
_SEP = r"[\s./\-\u00a0]*"
PHONE_RE = re.compile(
    r"(?<![\w+])(?:\(\s*(?:\+|00)\s?33\s*\)|(?:\+|00)\s?33|\+\s?\(\s?33\s?\))" + _SEP + r"(?:\(\s?0\s?\)" + _SEP
    + r")?[1-9](?:" + _SEP + r"\d{2}){4}(?!\d)"
    r"|(?<![\w+])0[1-9](?:[\s./\-\u00a0]?\d{2}){4}(?!\d)")
#: International numbers: ``+`` or ``00``, a country code, then groups of digits (9 to 15 in all).
INTL_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)\s?\(?\d{1,3}\)?(?:[\s./\-\u00a0]{0,2}\(?\d{1,5}\)?){1,7}(?!\d)")
#: French social-security number (NIR), with or without its key and spaces.
NIR_RE = re.compile(r"(?<![\w])[1-478][\s.\-]?\d{2}[\s.\-]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.\-]?(?:\d{2}|2[AaBb])"
                    r"[\s.\-]?\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\w])")
#: IBAN: country, check digits, then 10 to 30 letters or digits, in groups or not.
IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[\s\-]?[A-Z0-9]){10,30}(?![\w])", re.I)
EMAIL_MASK = "[courriel masqué]"
PHONE_MASK = "[téléphone masqué]"
NIR_MASK = "[NIR masqué]"
IBAN_MASK = "[IBAN masqué]"


def _intl_phone(m: re.Match) -> str:
    digits = sum(ch.isdigit() for ch in m.group(0))
    return PHONE_MASK if 9 <= digits <= 15 else m.group(0)


def _iban(m: re.Match) -> str:
    body = re.sub(r"[\s\-]", "", m.group(0))
    return IBAN_MASK if 14 <= len(body) <= 34 and sum(ch.isdigit() for ch in body) >= 10 else m.group(0)


def mask_personal_value(text: str) -> str:
    """Return ``text`` with e-mails, phone numbers, NIR and IBAN replaced by a mask."""
    out = EMAIL_RE.sub(EMAIL_MASK, text)
    out = IBAN_RE.sub(_iban, out)
    out = NIR_RE.sub(NIR_MASK, out)
    out = PHONE_RE.sub(PHONE_MASK, out)
    return INTL_PHONE_RE.sub(_intl_phone, out)


def mask_personal_text(s: pd.Series) -> pd.Series:
    """Return free text with personal data (e-mails, phones, NIR, IBAN) replaced by a mask.

    Real files hold contacts inside titles and comments ("contact : j.dupont@...,
    06 12 34 56 78"); they must never reach a report, so they are masked when the text
    is typed (:func:`parse_text`), before any evaluation or display sees them. Works over
    the distinct values, so it stays fast on large columns.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    masked = [mask_personal_value(u) if isinstance(u, str) else u for u in uniques]
    if all(m == u for m, u in zip(masked, uniques)):
        return s
    values = np.array(masked + [None], dtype=object)[codes]
    return pd.Series(values, index=s.index, dtype=s.dtype)


def parse_text(s: pd.Series, col: Column) -> tuple:
    """Type one column already cleaned by :func:`text_series`; see :func:`parse_column`."""
    kind = col.kind
    no_bad = np.zeros(len(s), dtype=bool)
    if kind in ("code", "str", "list"):
        if col.allowed and any("'" in str(a) for a in col.allowed):
            s = s.str.replace("\u2019", "'", regex=False)
        if col.allowed:
            s = s.str.replace("\u00a0", " ", regex=False).str.replace("\u202f", " ", regex=False)
        if kind in ("str", "list"):
            s = mask_personal_text(s)
        return s, no_bad

    func = _PARSERS[kind]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    results = [func(u) for u in uniques]
    bad_u = np.array([r is _BAD for r in results] + [False], dtype=bool)
    bad = bad_u[codes]
    if kind == "date":
        arr = np.array([np.datetime64("NaT", "ns") if r is _BAD else r for r in results]
                       + [np.datetime64("NaT", "ns")], dtype="datetime64[ns]")
        return pd.Series(arr[codes], index=s.index, dtype="datetime64[ns]"), bad
    vals = np.empty(len(results) + 1, dtype=object)
    vals[:] = [None if r is _BAD else r for r in results] + [None]
    out = vals[codes]
    if kind == "int":
        return _int_dtype(pd.Series(pd.array(out, dtype="Int64"), index=s.index), col), bad
    if kind == "float":
        f = np.array([np.nan if v is None else v for v in vals], dtype="float64")[codes]
        return pd.Series(f, index=s.index, dtype="float64"), bad
    if kind == "money":
        return pd.Series(out, index=s.index, dtype=object), bad
    # bool
    return _bool_dtype(pd.Series(pd.array(out, dtype="boolean"), index=s.index), col), bad


def _int_dtype(s: pd.Series, col: Column) -> pd.Series:
    if col.required and not s.isna().any():
        return s.astype("int64")
    return s


def _bool_dtype(s: pd.Series, col: Column) -> pd.Series:
    if col.required and not s.isna().any():
        return s.astype(bool)
    return s


def coerce_table(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with each declared column converted to its typed dtype.

    Columns not declared in the spec are dropped; declared columns absent from ``df``
    are added empty. Raises ``ValueError`` naming the column and value on a cell that
    does not convert; validation reports such values precisely before this is called
    on user data.
    """
    out = {}
    for col in table.columns:
        if col.name in df.columns:
            raw = df[col.name]
        else:
            raw = pd.Series([None] * len(df), index=df.index, dtype=object)
        typed, bad = parse_column(raw, col)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"table {table.name!r}, column {col.name!r}: value {raw.iloc[i]!r} "
                             f"is not {KIND_EXPECTED[col.kind]}")
        out[col.name] = typed.reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), columns=table.column_names)


# --------------------------------------------------------------------------- reading
def _decode(data: bytes, place: str) -> tuple:
    """Return ``(text, encoding)`` of a CSV file's bytes: UTF-8 (BOM or not), else Windows-1252."""
    if not data:
        raise BundleError(f"{place} : fichier vide (0 octet)")
    head = data[:65536]
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"%PDF", b"\x89PNG", b"PAR1")):
        raise BundleError(f"{place} : fichier binaire, un fichier texte CSV est attendu")
    encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise BundleError(f"{place} : encodage illisible (ni UTF-8 ni Windows-1252)") from exc
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 0.01 * min(len(text), 65536):
        raise BundleError(f"{place} : fichier binaire, un fichier texte CSV est attendu")
    return text, encoding


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=counts.get)
    return sep if counts[sep] else ","


def _check_unique_header(names: list, place: str) -> None:
    """Raise BundleError when a column name appears twice (ignoring case and spaces)."""
    seen = set()
    for name in names:
        key = str(name).replace("\ufeff", "").strip().lower()
        if key and key in seen:
            raise BundleError(f"{place} : la colonne « {key} » apparaît deux fois dans l'en-tête "
                              "(à la casse ou aux espaces près) ; laquelle lire est ambigu")
        seen.add(key)


def _finish_frame(df: pd.DataFrame, first_row: np.ndarray, place: str, table: Table) -> pd.DataFrame:
    """Clean a freshly read text frame: header names, row-number index, blank rows."""
    _check_unique_header(list(df.columns), place)
    df.columns = [str(c).replace("\ufeff", "").strip().lower() for c in df.columns]
    if "" in df.columns:  # unnamed columns (empty or BOM-only header cells) belong to no table
        df = df.loc[:, [c != "" for c in df.columns]]
    df.index = pd.Index(first_row, name="row")
    known = set(table.column_names) | set(PERSONAL_DATA_COLUMNS)
    if len(df.columns) and not known.intersection(df.columns):
        raise BundleError(
            f"{place} : aucune colonne attendue dans l'en-tête ({', '.join(map(str, df.columns[:6]))}) — "
            f"ce n'est pas un tableau CSV de la table {table.name} (colonnes attendues : "
            f"{', '.join(table.column_names)})")
    for c in df.columns:
        if not _is_text_dtype(df[c]):
            df[c] = df[c].astype("string")
    if len(df) and len(df.columns):
        blank = df.fillna("").eq("").all(axis=1).to_numpy(dtype=bool)  # blank lines
        if blank.any():
            df = df.loc[~blank]
    return df


def _read_csv(path: Path, table: Table) -> pd.DataFrame:
    place = path.name
    data = path.read_bytes()
    text, encoding = _decode(data, place)
    if "\r" in text and "\n" not in text:
        # old Mac line endings (CR only): read as lines, like a spreadsheet does
        data = data.replace(b"\r", b"\n")
        text = text.replace("\r", "\n")
    end = text.find("\n")
    header = text if end < 0 else text[:end]
    if not header.strip():
        raise BundleError(f"{place} : la première ligne (en-tête) est vide")
    sep = _sniff_separator(header)
    try:
        names = next(csv.reader([header.rstrip("\r")], delimiter=sep), [])
    except csv.Error as exc:
        raise BundleError(f"{place} : en-tête illisible ({exc})") from exc
    _check_unique_header(names, place)
    try:
        # parsing the bytes is faster than parsing the decoded text
        df = pd.read_csv(io.BytesIO(data), encoding=encoding, sep=sep, dtype=str, keep_default_na=False,
                         na_filter=False, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise BundleError(f"{place} : pas un fichier CSV lisible ({str(exc).strip()})") from exc
    for c in df.columns:  # a formula neutralised by write_bundle: "'=..." reads back as "=..."
        col = df[c]
        quoted = col.str.match(r"^'[=+\-@]", na=False)
        if quoted.any():
            df[c] = col.where(~quoted, col.str.slice(1))
    return _finish_frame(df, np.arange(2, len(df) + 2), place, table)


def _read_parquet(path: Path, table: Table) -> pd.DataFrame:
    place = path.name
    if path.stat().st_size == 0:
        raise BundleError(f"{place} : fichier vide (0 octet)")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds
        raise BundleError(f"{place} : fichier Parquet illisible ({exc})") from exc
    text = pd.DataFrame({c: text_series(df[c]).fillna("") for c in df.columns})
    return _finish_frame(text, np.arange(2, len(df) + 2), place, table)


def _excel_cell_text(v) -> str:
    if isinstance(v, str):
        # a neutralised formula written by write_bundle: "'=..." reads back as "=..."
        if len(v) > 1 and v[0] == "'" and v[1] in FORMULA_PREFIXES:
            return v[1:]
        return v
    return value_to_text(v)


def _sheet_frame(ws, place: str) -> tuple:
    """Return (header, rows, row_numbers) of a worksheet, skipping fully empty rows."""
    rows_iter = ws.iter_rows(values_only=True)
    header = None
    for header in rows_iter:
        break
    if header is None or all(v is None or str(v).strip() == "" for v in header):
        return None, [], []
    width = len(header)
    while width and (header[width - 1] is None or str(header[width - 1]).strip() == ""):
        width -= 1
    names = [_excel_cell_text(h).strip() for h in header[:width]]  # '' columns: dropped by _finish_frame
    data, numbers = [], []
    for i, row in enumerate(rows_iter, start=2):
        cells = [_excel_cell_text(v) for v in row[:width]]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        if any(c.strip() for c in cells):
            data.append(cells)
            numbers.append(i)
    return names, data, numbers


#: A workbook whose parts unzip to more than this is refused (a real bundle is far smaller).
XLSX_MAX_UNCOMPRESSED = 1024 ** 3
#: A part may unzip to at most this many times its compressed size, plus :data:`XLSX_RATIO_SLACK`:
#: real sheets compress 5 to 30 times; a « zip bomb » of shared strings a thousand times.
XLSX_MAX_RATIO = 100
XLSX_RATIO_SLACK = 8 * 1024 ** 2


def check_xlsx_size(path: Path) -> None:
    """Refuse a workbook whose parts would unzip to an unreasonable size (a decompression bomb)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(f"{path} : classeur Excel illisible ({exc})") from exc
    total = sum(i.file_size for i in infos)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise BundleError(f"{path} : classeur refusé, son contenu décompressé ferait {total // 1024 ** 2} Mo "
                          f"(au plus {XLSX_MAX_UNCOMPRESSED // 1024 ** 2} Mo)")
    for i in infos:
        if i.file_size > XLSX_MAX_RATIO * i.compress_size + XLSX_RATIO_SLACK:
            raise BundleError(
                f"{path} : classeur refusé, la partie {i.filename} se décompresse de {i.compress_size} octets en "
                f"{i.file_size} octets (plus de {XLSX_MAX_RATIO} fois) : fichier piégé (bombe de décompression) ; "
                "réenregistrez le classeur depuis Excel ou LibreOffice")


def _read_xlsx(path: Path) -> RawBundle:
    from openpyxl import load_workbook  # lazy: openpyxl (~0.7 s), Excel files only

    if path.stat().st_size == 0:
        raise BundleError(f"{path} : fichier vide (0 octet)")
    check_xlsx_size(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise BundleError(f"{path} : classeur Excel illisible ({exc})") from exc
    except Exception as exc:  # openpyxl's InvalidFileException and friends
        raise BundleError(f"{path} : classeur Excel illisible ({exc})") from exc
    warnings = []
    try:
        sheets = {}
        for name in wb.sheetnames:
            key = name.strip().lower()
            state = getattr(wb[name], "sheet_state", "visible") or "visible"
            if state != "visible":
                # a hidden or « very hidden » sheet is not what the user sees: never read it
                if key in TABLES or key == META_SHEET:
                    warnings.append({"table": key if key in TABLES else None, "row": None, "column": None,
                                     "value": name,
                                     "message": f"{path.name} : feuille masquée « {name} » ignorée "
                                                f"({'très masquée' if state == 'veryHidden' else 'masquée'}) ; "
                                                "seules les feuilles visibles sont lues"})
                continue
            if key in sheets:
                raise BundleError(f"{path} : deux feuilles « {sheets[key]} » et « {name} » portent le même nom "
                                  "aux majuscules et espaces près ; laquelle lire est ambigu")
            sheets[key] = name
        if not any(t in sheets for t in TABLES):
            raise BundleError(f"{path} : aucune feuille de table (attendu par exemple « "
                              f"{'», «'.join(list(TABLES)[:3])} ») — ce classeur n'est pas un bundle")
        frames, places = {}, {}
        for name, table in TABLES.items():
            place = f"feuille « {name} » de {path.name}"
            if name not in sheets:
                if table.required:
                    raise BundleError(f"{path} : feuille obligatoire « {name} » absente")
                continue
            header, data, numbers = _sheet_frame(wb[sheets[name]], place)
            if header is None:
                if table.required:
                    raise BundleError(f"{place} : feuille vide, la ligne 1 doit porter les en-têtes")
                continue
            df = pd.DataFrame(data, columns=header, dtype="string") if data else \
                pd.DataFrame({h: pd.Series([], dtype="string") for h in header})
            frames[name] = _finish_frame(df, np.array(numbers, dtype=int), place, table)
            places[name] = place
        meta = {}
        if META_SHEET in sheets:
            header, data, _ = _sheet_frame(wb[sheets[META_SHEET]], META_SHEET)
            rows = ([header] if header and header[0].lower() != "key" else []) + data
            for row in rows:
                if row and str(row[0]).strip():
                    meta[str(row[0]).strip()] = _meta_value(row[1] if len(row) > 1 else "")
        else:
            meta, missing = _undeclared_provenance(frames, f"feuille « {META_SHEET} »")
            warnings.extend(missing)
    finally:
        wb.close()
    return RawBundle(frames=frames, places=places, meta=meta, files=[path], source=str(path), warnings=warnings)


_JSON_LIKE = re.compile(r'^(\[.*\]|\{.*\}|".*"|true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$', re.S)


def _meta_value(text: str):
    """Return a ``_meta`` cell as its value: JSON when it reads as JSON, else the text."""
    t = text.strip()
    if _JSON_LIKE.match(t):
        try:
            return json.loads(t)
        except ValueError:
            return text
    return text


def _meta_cell(value) -> str:
    """Return a metadata value as a ``_meta`` cell (the inverse of :func:`_meta_value`)."""
    if isinstance(value, str) and not _JSON_LIKE.match(value.strip()):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _unique_keys(pairs: list) -> dict:
    """Build a JSON object, refusing a key given twice (the last one would win silently)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"clé « {k} » en double")
        out[k] = v
    return out


def _undeclared_provenance(frames: dict, missing: str) -> tuple:
    """Return ``(meta, warnings)`` for a bundle without metadata: its monitoring data count as synthetic.

    The synthetic banner is driven by the metadata; a bundle that lost its ``bundle.json``
    (or ``_meta`` sheet) must not be published as real data, so its non-empty monitoring
    tables are flagged synthetic until the metadata says otherwise.
    """
    monitoring = [n for n, t in TABLES.items() if t.group == "monitoring" and len(frames.get(n, ()))]
    if not monitoring:
        return {}, []
    meta = {"is_synthetic": True, "synthetic_tables": monitoring, "provenance_declared": False}
    warning = {"table": None, "row": None, "column": None, "value": None,
               "message": f"{missing} absent : la provenance des données de suivi ({', '.join(monitoring)}) "
                          "n'est pas déclarée ; elles sont traitées comme synthétiques (bannière dans chaque "
                          "rapport). Pour des données réelles, ajoutez les métadonnées avec "
                          "\"is_synthetic\": false (fne-eval bundle init les crée)."}
    return meta, [warning]


def _read_folder(path: Path) -> RawBundle:
    frames, places, files = {}, {}, []
    found_any = any((path / f"{n}{s}").exists() for n in TABLES for s in TABLE_SUFFIXES)
    if not found_any:
        raise BundleError(f"{path} : aucun fichier de table (attendu par exemple "
                          f"{', '.join(n + '.csv' for n in list(TABLES)[:3])}) — ce dossier n'est pas un bundle")
    for name, table in TABLES.items():
        present = [path / f"{name}{s}" for s in TABLE_SUFFIXES if (path / f"{name}{s}").exists()]
        if len(present) > 1:
            raise BundleError(f"{path} : la table {name} est présente deux fois ({', '.join(p.name for p in present)})")
        if not present:
            if table.required:
                raise BundleError(f"{path} : fichier obligatoire {name}.csv (ou {name}.parquet) absent")
            continue
        f = present[0]
        if not f.is_file():
            raise BundleError(f"{f} : n'est pas un fichier")
        frames[name] = _read_csv(f, table) if f.suffix == ".csv" else _read_parquet(f, table)
        places[name] = f.name
        files.append(f)
    meta = {}
    m = path / META_FILE
    if m.exists():
        try:
            meta = json.loads(m.read_text(encoding="utf-8-sig"), object_pairs_hook=_unique_keys)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise BundleError(f"{m} : JSON illisible ({exc})") from exc
        if not isinstance(meta, dict):
            raise BundleError(f"{m} : un objet JSON {{clé: valeur}} est attendu")
        files.append(m)
        warnings = []
    else:
        meta, warnings = _undeclared_provenance(frames, META_FILE)
    return RawBundle(frames=frames, places=places, meta=meta, files=files, source=str(path), warnings=warnings)


def read_bundle_raw(path: Union[str, Path]) -> RawBundle:
    """Read a bundle's tables as text frames, without typing or validation.

    Parameters
    ----------
    path : str or Path
        A bundle folder or an ``.xlsx`` workbook.

    Raises
    ------
    BundleError
        When the path does not exist, is not a bundle, or a file or sheet cannot be read
        (empty, binary, not CSV, missing required table); the message names it.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise BundleError(f"{path} : chemin inexistant")
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise BundleError(f"{path} : n'est pas un bundle (un dossier de fichiers CSV/Parquet ou un classeur .xlsx est attendu)")


def read_raw(path: Union[str, Path]) -> tuple:
    """Read a bundle's files as text frames (every cell a string), without typing.

    Returns ``(frames, meta, files)``; see :func:`read_bundle_raw` for the details.
    """
    raw = read_bundle_raw(path)
    return raw.frames, raw.meta, raw.files


def hash_bundle_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def bundle_files(path: Union[str, Path]) -> list:
    """Return the files the reader reads for the bundle at ``path`` (tables, ``bundle.json``; or the workbook)."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    files = [path / f"{name}{s}" for name in TABLES for s in TABLE_SUFFIXES]
    files.append(path / META_FILE)
    return [f for f in files if f.is_file()]


def bundle_content_hash(path: Union[str, Path]) -> str:
    """Return the SHA-256 of the bundle's files (names and bytes): :attr:`Bundle.hash` without reading it."""
    return hash_bundle_files(bundle_files(path))


# --------------------------------------------------------------------------- writing
_ERRNO_FR = {
    errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier", errno.EISDIR: "c'est un dossier",
    errno.EROFS: "système de fichiers en lecture seule", errno.ENOSPC: "disque plein",
    errno.EEXIST: "un fichier existe déjà à cet endroit", errno.ENOENT: "chemin inexistant",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}


def os_error_fr(exc: OSError) -> str:
    """Return a file-system error as a short French phrase (the path is named by the caller)."""
    if exc.errno in _ERRNO_FR:
        return _ERRNO_FR[exc.errno]
    if exc.strerror:
        return exc.strerror
    return str(exc)


def _format_cell(v):
    return value_to_text(v)


def series_to_text(s: pd.Series) -> pd.Series:
    """Return a typed column as canonical bundle text (``""`` for missing values)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "").astype(object)
    if _is_text_dtype(s):
        return s.astype(object).where(s.notna(), "")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    texts = np.array([value_to_text(u) for u in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=s.index, dtype=object)


def to_text_frame(df: pd.DataFrame, table: Table, neutralise: bool = False) -> pd.DataFrame:
    """Return the table as text cells in the bundle's canonical file format.

    With ``neutralise``, text that a spreadsheet opening the CSV would run as a formula
    (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``) is prefixed with ``'``
    (:func:`neutralise_csv_cell`); the reader removes that prefix again.
    """
    out = {}
    for col in table.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
        t = series_to_text(s)
        if neutralise and col.kind in ("code", "str", "list"):
            t = neutralise_csv_column(t)
        out[col.name] = t
    return pd.DataFrame(out, index=df.index, columns=table.column_names)


def neutralise_text_frame(text: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return a text frame with its text columns passed through :func:`neutralise_csv_column`."""
    out = text.copy()
    for col in table.columns:
        if col.kind in ("code", "str", "list") and col.name in out.columns:
            out[col.name] = neutralise_csv_column(out[col.name])
    return out


def neutralise_csv_cell(v):
    """Return a CSV cell prefixed with ``'`` when a spreadsheet would read it as a formula.

    Plain numbers (``-3.5``, ``+33612345678``) are left alone: a spreadsheet reads them as
    numbers, which runs nothing, and a longitude must stay a number.
    """
    if not isinstance(v, str) or not v or v[0] not in CSV_FORMULA_PREFIXES:
        return v
    if v[0] in "+-" and _NUMBER.match(_normalise_number(v)):
        return v
    return "'" + v


def neutralise_csv_column(s: pd.Series) -> pd.Series:
    """Apply :func:`neutralise_csv_cell` to a text column (fast when nothing needs it)."""
    text = s.astype(object)
    first = text.map(lambda v: v[:1] if isinstance(v, str) else "")
    if not first.isin(CSV_FORMULA_PREFIXES).any():
        return s
    return text.map(neutralise_csv_cell)


def _atomic_dir_commit(tmp: Path, out: Path) -> None:
    """Move the files written in ``tmp`` into ``out``, replacing each one atomically."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if not out.is_dir():
        raise BundleError(f"{out} existe et n'est pas un dossier")
    for f in sorted(tmp.iterdir()):
        stem = f.stem
        if f.suffix in TABLE_SUFFIXES:  # a table now written as CSV replaces its Parquet twin
            for s in TABLE_SUFFIXES:
                other = out / f"{stem}{s}"
                if s != f.suffix and other.exists():
                    other.unlink()
        os.replace(f, out / f.name)
    shutil.rmtree(tmp, ignore_errors=True)


def _write_folder(tables: dict, out: Path, meta: dict, parquet: tuple = (), datapackage: bool = False) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    chmod_as_umask(tmp, directory=True)  # mkdtemp's 0700 would become the bundle folder's mode
    try:
        for name, table in TABLES.items():
            df = tables.get(name)
            if df is None:
                df = pd.DataFrame(columns=table.column_names)
            text = to_text_frame(df, table)
            if name not in parquet:  # a CSV opened in a spreadsheet never runs a formula
                text = neutralise_text_frame(text, table)
            if name in parquet:
                # text columns, like the CSV: the same parsing path reads both back
                text.astype("string").to_parquet(tmp / f"{name}.parquet", index=False,
                                                  compression="zstd")
            else:
                text.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True, default=str)
                                     + "\n", encoding="utf-8")
        if datapackage:
            (tmp / DATAPACKAGE_FILE).write_text(datapackage_text(meta, parquet=parquet), encoding="utf-8")
        _atomic_dir_commit(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def neutralise_formula(text: str) -> str:
    """Return ``text`` prefixed with ``'`` when a spreadsheet would read it as a formula."""
    if isinstance(text, str) and text[:1] in FORMULA_PREFIXES:
        return "'" + text
    return text


def _excel_values(df: pd.DataFrame, table: Table) -> list:
    """Return one list of Python cell values per declared column, ready for openpyxl."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # lazy: openpyxl (~0.7 s), Excel files only

    cols = []
    for col in table.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([None] * len(df), dtype=object)
        if col.kind in ("code", "str", "list"):
            t = series_to_text(s)
            vals = [None if v == "" else ILLEGAL_CHARACTERS_RE.sub("", neutralise_formula(v)) for v in t]
        elif col.kind == "date":
            t = pd.to_datetime(s) if not pd.api.types.is_datetime64_any_dtype(s.dtype) else s
            vals = [None if pd.isna(v) else v.date() for v in t]
        elif col.kind == "int":
            vals = [None if pd.isna(v) else int(v) for v in s.astype(object)]
        elif col.kind == "float":
            vals = [None if pd.isna(v) else float(v) for v in s.astype(object)]
        elif col.kind == "money":
            vals = [None if v is None or (not isinstance(v, Decimal) and pd.isna(v)) else Decimal(str(v))
                    for v in s.astype(object)]
        else:  # bool
            vals = [None if pd.isna(v) else bool(v) for v in s.astype(object)]
        cols.append(vals)
    return cols


_EXCEL_FORMATS = {"code": "@", "str": "@", "list": "@", "date": "yyyy-mm-dd", "money": "#,##0.00",
                  "int": "0", "float": "General", "bool": "General"}


def _write_xlsx(tables: dict, out: Path, meta: dict) -> Path:
    from openpyxl import Workbook  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.cell import WriteOnlyCell  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.styles import Font  # lazy: openpyxl (~0.7 s), Excel files only
    from openpyxl.utils import get_column_letter  # lazy: openpyxl (~0.7 s), Excel files only

    out.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, table in TABLES.items():
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        for j, c in enumerate(table.columns, start=1):
            fmt = _EXCEL_FORMATS[c.kind]
            dim = ws.column_dimensions[get_column_letter(j)]
            dim.width = max(10, min(40, len(c.name) + 3))
            if fmt != "General":
                dim.number_format = fmt
        header = []
        for c in table.column_names:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        df = tables.get(name)
        if df is None or not len(df):
            continue
        cols = _excel_values(df, table)
        date_cols = [j for j, c in enumerate(table.columns) if c.kind == "date"]
        for row in zip(*cols):
            cells = list(row)
            for j in date_cols:  # a date cell needs its own format; the others take the column's
                if cells[j] is not None:
                    cell = WriteOnlyCell(ws, value=cells[j])
                    cell.number_format = _EXCEL_FORMATS["date"]
                    cells[j] = cell
            ws.append(cells)
    ws = wb.create_sheet(META_SHEET)
    ws.append(["key", "value"])
    for k in sorted(meta):
        ws.append([str(k), _meta_cell(meta[k])])
    return save_workbook_atomic(wb, out)


def tables_of(bundle_or_tables) -> dict:
    """Return the dict of tables of a :class:`Bundle`, or the dict itself."""
    if hasattr(bundle_or_tables, "tables"):
        return bundle_or_tables.tables
    if isinstance(bundle_or_tables, dict):
        return bundle_or_tables
    raise ValueError("expected a Bundle or a dict of tables")


def participant_rows(tables) -> pd.DataFrame:
    """Return one row per participant of every activity: the table to count people from.

    Activities imported from La Coop carry their participants in the ``participants``
    table (residence, age band, gender, status per accompagnement). Bundles in the older
    layout (the synthetic generator, user workbooks) hold one age band, gender, status and
    residence per activity instead. This function returns the ``participants`` rows, and
    for every activity that has none, derives its rows from the activity-level columns:
    ``participants`` rows with the activity's values copied (``non_communique`` when
    empty), ``demographics_random`` False and no ``beneficiary_key``. When the
    ``participants`` table is empty, every row is derived; when it covers every
    activity, it is returned as it is.

    Parameters
    ----------
    tables : Bundle or dict of str to pandas.DataFrame
        Typed tables; ``activities`` and ``participants`` are read (either may be absent).

    Returns
    -------
    pandas.DataFrame
        Typed frame with the columns of ``spec.TABLES["participants"]``: the table's own
        rows first, then the derived ones in the order of ``activities``.

    Examples
    --------
    >>> acts = pd.DataFrame({"activity_id": ["A"], "participants": [2], "gender": ["feminin"]})
    >>> participant_rows({"activities": acts})[["activity_id", "participant_index", "gender"]].values.tolist()
    [['A', 1, 'feminin'], ['A', 2, 'feminin']]
    """
    tables = tables_of(tables)
    spec = TABLES["participants"]
    parts = tables.get("participants")
    parts = empty_table("participants") if parts is None else parts
    acts = tables.get("activities")
    if acts is None or acts.empty:
        return coerce_table(parts.reset_index(drop=True), spec)
    legacy = acts
    if len(parts):
        legacy = acts[~acts["activity_id"].isin(pd.unique(parts["activity_id"].dropna()))]
        if legacy.empty:
            return coerce_table(parts.reset_index(drop=True), spec)
    n = pd.to_numeric(legacy["participants"], errors="coerce").fillna(0).astype("int64").clip(lower=0).to_numpy()
    pos = np.repeat(np.arange(len(legacy)), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    derived = {
        "activity_id": legacy["activity_id"].to_numpy()[pos],
        "participant_index": np.arange(len(pos), dtype="int64") - starts + 1,
    }
    for target, source in (("commune_code", "beneficiary_commune_code"), ("age_band", "age_band"),
                           ("gender", "gender"), ("social_status", "social_status")):
        if source in legacy.columns:
            values = legacy[source].astype(object).to_numpy()[pos]
        else:
            values = np.full(len(pos), None, dtype=object)
        if target != "commune_code":
            values = np.where(pd.isna(values), "non_communique", values)
        derived[target] = values
    derived["demographics_random"] = np.zeros(len(pos), dtype=bool)
    derived["beneficiary_key"] = np.full(len(pos), None, dtype=object)
    frames = [coerce_table(pd.DataFrame(derived), spec)]
    if len(parts):
        frames.insert(0, coerce_table(parts.reset_index(drop=True), spec))
    return coerce_table(pd.concat(frames, ignore_index=True), spec)


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty typed frame with the columns of table ``name``."""
    table = TABLES[name]
    return coerce_table(pd.DataFrame(columns=table.column_names), table)


def save_workbook_atomic(wb, out: Path) -> Path:
    """Save an openpyxl workbook to ``out`` through a temporary file and a rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        wb.save(tmp)
        chmod_as_umask(tmp)  # mkstemp's 0600 would stay on the workbook
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def write_bundle(tables: dict, out: Union[str, Path], meta: Optional[dict] = None,
                 parquet: tuple = (), datapackage: bool = False) -> Path:
    """Write tables as a bundle: a folder of UTF-8 CSV files plus ``bundle.json``, or a workbook.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Typed (or text) frames; a missing table is written empty.
    out : str or Path
        Output folder, or an ``.xlsx`` path for a workbook with a sheet per table and a
        ``_meta`` sheet (text that a spreadsheet would take for a formula is prefixed
        with ``'``).
    meta : dict, optional
        Metadata, written to ``bundle.json`` or the ``_meta`` sheet.
    parquet : tuple of str, optional
        Tables to write as Parquet (text columns, zstd) instead of CSV in a folder
        bundle: large tables such as ``activities`` take a tenth of the space.
    datapackage : bool, default False
        Also write a Frictionless ``datapackage.json`` (a Table Schema per table, from
        :mod:`fne_eval.bundle.spec`) in the folder, or ``<nom>.datapackage.json`` beside
        a workbook (``fne-eval export``).

    Notes
    -----
    Writing is atomic: everything is written to a temporary file or folder beside
    ``out`` first, then moved into place, so a failure never leaves a half-written
    ``out`` nor destroys an existing one. Files of an existing folder that are not
    bundle tables are kept.
    """
    out = Path(out)
    if out.suffix.lower() == ".xlsx":
        written = _write_xlsx(tables, out, dict(meta or {}))
        if datapackage:
            write_workbook_descriptor(written, dict(meta or {}))
        return written
    if out.suffix.lower() in (".xls", ".xlsm", ".ods", ".csv", ".parquet"):
        raise ValueError(f"unsupported output {out.name!r}: expected a folder or a '.xlsx' path")
    unknown = set(parquet) - set(TABLES)
    if unknown:
        raise ValueError(f"parquet: unknown tables {sorted(unknown)}")
    return _write_folder(tables, out, dict(meta or {}), tuple(parquet), datapackage)
