"""Validate a bundle at the door: every error, each naming its place.

An error is a dict with ``table``, ``row`` (the row number seen in the file or sheet,
header = 1, so the first data row is 2; ``None`` for a table-level error), ``column``,
``value`` (the cell's text) and ``message`` (French: the file or sheet, the row, the
column, the value and what was expected). Two more keys help displays: ``file`` (the
file or sheet) and ``expected`` (the message without its place).

Checks, in order:

1. per table: required columns present, required values present, kinds (int, float,
   money, date, bool) parse;
2. per column values, with the pandera schemas of :mod:`fne_eval.bundle.schemas`:
   code patterns (a code that lost its leading zeros is named as such), closed sets,
   minimum and maximum;
3. duplicate keys (naming both rows);
4. references between tables (:class:`fne_eval.bundle.spec.ForeignKey`);
5. dates of ``Table.roadmap_dates`` inside the roadmap period, end dates not before
   start dates;
6. budget: payments of a line above its commitments, commitments above the planned
   amount, a payment dated before the line's first commitment;
7. participants: an activity with participant rows has exactly ``participants`` of
   them, none ranked above that number.

Columns not in the spec are accepted silently, except personal-data columns
(:data:`fne_eval.bundle.spec.PERSONAL_DATA_COLUMNS`), which are dropped with a warning.
Checks are vectorised; a one-million-row table validates in seconds.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from fne_eval.bundle import schemas
from fne_eval.bundle.io import KIND_EXPECTED, RawBundle, parse_text, read_bundle_raw, text_series
from fne_eval.bundle.spec import (ACTION, INSEE, PERSONAL_DATA_COLUMNS, POSTCODE, ROADMAP_END, ROADMAP_START,
                                  SIREN, TABLES, TERRITORY, Column)
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

#: Individual errors kept per (table, column, check); the rest are counted in one more error.
MAX_ERRORS_PER_CHECK = 1000
#: Pairs (table, start column, end column) whose end must not precede the start.
DATE_ORDER = (
    ("actions", "start_date", "end_date"),
    ("schedule_tasks", "planned_start", "planned_end"),
    ("schedule_status", "actual_start", "actual_end"),
)
ERROR_KEYS = ("table", "row", "column", "value", "message")


@dataclass
class ValidationResult:
    """The outcome of validating a bundle.

    Attributes
    ----------
    errors : list of dict
        Every error (see the module docstring).
    warnings : list of dict
        Non-blocking remarks, same keys (e.g. a personal-data column dropped).
    tables : dict of str to pandas.DataFrame
        The typed tables (cells that failed to parse are missing).
    source : str
        The bundle validated.
    """

    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)
    source: str = ""

    @property
    def valid(self) -> bool:
        """Return True when the bundle has no error."""
        return not self.errors

    def to_dict(self) -> dict:
        """Return ``{"valid", "errors", "warnings"}`` with the five public keys per error."""
        return {
            "valid": self.valid,
            "errors": [{k: e.get(k) for k in ERROR_KEYS} for e in self.errors],
            "warnings": [{k: e.get(k) for k in ERROR_KEYS} for e in self.warnings],
        }


def format_error(e: dict) -> str:
    """Return one error as a line: ``table (file) row N, column C, value 'V': expected``."""
    parts = [f"{e.get('table') or '-'} ({e.get('file') or '-'})"]
    if e.get("row") is not None:
        parts.append(f"row {e['row']}")
    if e.get("column"):
        parts.append(f"column {e['column']}")
    if e.get("value") is not None:
        parts.append(f"value '{e['value']}'")
    return ", ".join(parts) + ": " + (e.get("expected") or e.get("message") or "")


def _fmt_eur(d) -> str:
    s = f"{Decimal(d):,.2f}".replace(",", "\u00a0").replace(".", ",")
    return f"{s}\u00a0€"


class _Collector:
    def __init__(self):
        self.errors = []
        self.warnings = []
        self._counts = Counter()

    def add(self, table, place, row, column, value, expected, check="", warning=False):
        target = self.warnings if warning else self.errors
        key = (table, column, check)
        self._counts[key] += 1
        if self._counts[key] > MAX_ERRORS_PER_CHECK:
            return
        where = place
        if row is not None:
            where += f", ligne {row}"
        if column:
            where += f", colonne « {column} »"
        if value is not None:
            where += f", valeur « {value} »"
        target.append({"table": table, "row": None if row is None else int(row), "column": column,
                       "value": value, "message": f"{where} : {expected}", "file": place,
                       "expected": expected})

    def room(self, table, column, check) -> int:
        """Return how many more errors of this kind are detailed."""
        return max(MAX_ERRORS_PER_CHECK - self._counts[(table, column, check)], 0)

    def count_more(self, table, column, check, n: int) -> None:
        """Count ``n`` more errors of this kind without detailing them."""
        self._counts[(table, column, check)] += max(int(n), 0)

    def add_rows(self, table, place, rows, column, values, expected, check):
        """Add one error per row; ``expected`` is a string or a function of the value.

        Past :data:`MAX_ERRORS_PER_CHECK` the rows are only counted; ``values`` may
        hold the values of the detailed rows only.
        """
        rows = list(rows)
        room = self.room(table, column, check)
        for row, value in zip(rows[:room], list(values)[:room]):
            msg = expected(value) if callable(expected) else expected
            self.add(table, place, row, column, value, msg, check)
        self._counts[(table, column, check)] += max(len(rows) - room, 0)

    def finish(self):
        for (table, column, check), n in self._counts.items():
            if n > MAX_ERRORS_PER_CHECK:
                extra = n - MAX_ERRORS_PER_CHECK
                first = next(e for e in self.errors if e["table"] == table and e["column"] == column)
                self.errors.append({
                    "table": table, "row": None, "column": column, "value": None, "file": first["file"],
                    "expected": f"{extra} autre(s) ligne(s) avec la même erreur ({check}) non détaillée(s)",
                    "message": f"{first['file']}, colonne « {column} » : {extra} autre(s) ligne(s) avec la "
                               f"même erreur ({check}) non détaillée(s)",
                })


#: What each code pattern of the spec means, in words.
PATTERN_LABELS = {
    INSEE: "un code INSEE de commune à 5 caractères (ex. 13055, 2A004)",
    SIREN: "un SIREN d'EPCI à 9 chiffres (ex. 200054807)",
    TERRITORY: "un code de territoire : département (13), INSEE à 5 caractères (13055) ou SIREN à 9 chiffres",
    POSTCODE: "un code postal à 5 chiffres (ex. 13001)",
    ACTION: "un code d'action « axe.numéro » (ex. 1.3)",
    r"^\d$": "un chiffre (ex. 1)",
}


def _pattern_expected(col: Column):
    label = PATTERN_LABELS.get(col.pattern, f"le motif {col.pattern}")

    def expected(value):
        v = str(value)
        if v.isdigit():
            for width in range(len(v) + 1, len(v) + 4):
                if re.fullmatch(col.pattern, v.zfill(width)):
                    return (f"le code a perdu ses caractères de tête (zéros initiaux) : « {v} » au lieu de "
                            f"« {v.zfill(width)} » ? Un tableur l'a sans doute lu comme un nombre ; "
                            f"formater la colonne en texte (attendu : {label})")
        return f"code invalide, attendu : {label}"
    return expected


def _allowed_text(allowed, limit=12) -> str:
    vals = [str(a) for a in allowed]
    text = ", ".join(vals[:limit])
    if len(vals) > limit:
        text += f", … ({len(vals)} valeurs, voir le modèle fne-eval template)"
    return text


def _check_table(name, df, place, out: _Collector) -> pd.DataFrame:
    """Check one table's columns; return its typed frame indexed by file row."""
    table = TABLES[name]
    for c in df.columns:
        if c in PERSONAL_DATA_COLUMNS:
            out.add(name, place, None, c, None,
                    "colonne de données personnelles : ignorée au chargement, jamais publiée",
                    check="personal", warning=True)
    typed = {}
    for col in table.columns:
        if col.name not in df.columns:
            if col.required:
                out.add(name, place, None, col.name, None,
                        f"colonne obligatoire absente (colonnes lues : {', '.join(map(str, df.columns))})",
                        check="missing_column")
            empty = pd.Series([None] * len(df), index=df.index, dtype=object)
            typed[col.name], _ = parse_text(text_series(empty), col)
            continue
        text = text_series(df[col.name])
        if col.required:
            missing = text.isna().to_numpy()
            if missing.any():
                rows = df.index[missing]
                out.add_rows(name, place, rows, col.name, [""] * min(len(rows), MAX_ERRORS_PER_CHECK),
                             f"valeur obligatoire manquante ({KIND_EXPECTED[col.kind]} attendu)", "required")
        values, bad = parse_text(text, col)
        if bad.any():
            rows = df.index[bad]
            raw = text[bad].tolist()
            expected = f"{KIND_EXPECTED[col.kind]} attendu"
            if col.kind == "date":
                expected = "date impossible ou mal écrite, " + KIND_EXPECTED["date"] + " attendue"
            if col.kind == "int":
                expected = f"{KIND_EXPECTED['int']} attendu (sans décimale)"
                huge = [r for r in raw if re.fullmatch(r"[+-]?\d{19,}", re.sub(r"[\s\u00a0\u202f']", "", r))]
                if huge and len(huge) == len(raw):  # e.g. 20 digits: more than a 64-bit integer holds
                    expected = f"{KIND_EXPECTED['int']} attendu, d'au plus 18 chiffres (nombre trop grand)"
            out.add_rows(name, place, rows, col.name, raw, expected, "kind")
        if col.kind in ("str", "list"):
            masked = (values != text).fillna(False).to_numpy(dtype=bool)
            if masked.any():
                out.add(name, place, None, col.name, None,
                        f"{int(masked.sum())} valeur(s) contenant un courriel ou un numéro de téléphone : "
                        "masqué(s) au chargement, jamais publié(s)", check="personal_text", warning=True)
        typed[col.name] = values
    return pd.DataFrame(typed, index=df.index, columns=table.column_names)


def _check_values(name, typed: pd.DataFrame, df: pd.DataFrame, place, out: _Collector) -> dict:
    """Run the pandera schema; return {column: set of failing rows}."""
    table = TABLES[name]
    frame = typed.copy()
    for col in table.columns:
        if col.kind == "money":
            frame[col.name] = pd.to_numeric(frame[col.name].map(lambda v: None if v is None else float(v)),
                                             errors="coerce").astype("float64")
    fc = schemas.failure_cases(frame, name)
    flagged = {}
    if fc.empty:
        return flagged
    for (column, check), g in fc.groupby(["column", "check"], sort=False):
        col = table.column(column)
        rows = np.sort(g["row"].to_numpy())
        flagged.setdefault(column, set()).update(rows.tolist())
        shown = rows[: out.room(name, column, check)]
        values = text_series(df[column]).reindex(shown).fillna("").tolist()
        if check == "pattern":
            expected = _pattern_expected(col)
        elif check == "allowed":
            expected = f"valeur non autorisée ; valeurs possibles : {_allowed_text(col.allowed)}"
        elif check == "allowed_list":
            def expected(v, col=col):
                bad = schemas.bad_list_elements(v, col.allowed)
                return (f"élément(s) non autorisé(s) : {', '.join(bad)} ; valeurs possibles (séparées par |) : "
                        f"{_allowed_text(col.allowed)}")
        elif check == "min":
            expected = f"valeur trop petite, minimum {col.min:g}"
        elif check == "max":
            expected = f"valeur trop grande, maximum {col.max:g}"
        else:
            expected = f"valeur refusée ({check})"
        out.add_rows(name, place, rows, column, values, expected, check)
    return flagged


def _key_text(typed: pd.DataFrame, key) -> pd.Series:
    parts = []
    for k in key:
        s = typed[k]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            parts.append(s.dt.strftime("%Y-%m-%d").astype(object))
        else:
            parts.append(s.astype(object).astype(str))
    out = parts[0]
    for p in parts[1:]:
        out = out + " | " + p
    return out


def _check_duplicates(name, typed: pd.DataFrame, place, out: _Collector) -> None:
    key = list(TABLES[name].key)
    kf = typed[key]
    kf = kf[kf.notna().all(axis=1).to_numpy()]
    if kf.empty:
        return
    later = kf.duplicated(keep="first").to_numpy()
    if not later.any():
        return
    gid = kf.groupby(key, sort=False, dropna=True).ngroup().to_numpy()
    rows = kf.index.to_numpy()
    first_row = pd.Series(rows).groupby(gid).min()
    col_label = ", ".join(key)
    dup_rows = rows[later]
    shown = dup_rows[: out.room(name, col_label, "duplicate")]
    dup_first = dict(zip(shown, first_row.loc[gid[later][: len(shown)]].to_numpy()))
    values = _key_text(kf.loc[shown], key).tolist()
    for row, value in zip(shown, values):
        out.add(name, place, row, col_label, value,
                f"clé en double ({col_label} = « {value} ») : lignes {dup_first[row]} et {row}", "duplicate")
    out.count_more(name, col_label, "duplicate", len(dup_rows) - len(shown))


def _check_foreign_keys(name, typed: dict, places: dict, flagged: dict, out: _Collector) -> None:
    table = TABLES[name]
    df = typed[name]
    for fk in table.foreign_keys:
        s = df[fk.column]
        ref = typed[fk.ref_table]
        mask = pd.Series(True, index=ref.index)
        for k, allowed in (fk.ref_filter or {}).items():
            mask &= ref[k].isin(list(allowed)).fillna(False).astype(bool)
        ref_values = pd.unique(ref.loc[mask.to_numpy(), fk.ref_column].dropna())
        bad = (s.notna() & ~s.isin(ref_values)).fillna(False).to_numpy(dtype=bool)
        skip = flagged.get(fk.column, set())
        rows = [r for r in df.index[bad] if r not in skip]
        if not rows:
            continue
        values = s.loc[rows].astype(str).tolist()
        where = f"{fk.ref_column} de {places.get(fk.ref_table, fk.ref_table + '.csv')}"
        if fk.ref_filter:
            where += " (" + "; ".join(f"{k} = {' ou '.join(v)}" for k, v in fk.ref_filter.items()) + ")"
        out.add_rows(name, places[name], rows, fk.column, values,
                     f"code inconnu : absent de la colonne {where}", "foreign_key")


def _check_dates(name, typed: pd.DataFrame, place, out: _Collector) -> None:
    table = TABLES[name]
    start, end = pd.Timestamp(ROADMAP_START), pd.Timestamp(ROADMAP_END)
    for c in table.roadmap_dates:
        s = typed[c]
        bad = ((s < start) | (s > end)).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            rows = typed.index[bad]
            out.add_rows(name, place, rows, c, s[bad].dt.strftime("%Y-%m-%d").tolist(),
                         f"date hors de la période de la feuille de route ({ROADMAP_START} – {ROADMAP_END})",
                         "roadmap_period")
    for t, a, b in DATE_ORDER:
        if t != name:
            continue
        sa, sb = typed[a], typed[b]
        bad = (sb < sa).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            rows = typed.index[bad]
            starts = sa[bad].dt.strftime("%Y-%m-%d").tolist()
            for row, v, st in zip(rows, sb[bad].dt.strftime("%Y-%m-%d"), starts):
                out.add(name, place, row, b, v, f"la fin précède le début ({a} = {st})", "date_order")


def _check_budget(typed: dict, places: dict, out: _Collector) -> None:
    bt = typed["budget_transactions"]
    lines = typed["budget_lines"]
    place = places.get("budget_transactions", "budget_transactions.csv")
    ok = bt["budget_line_id"].notna() & bt["date"].notna() & bt["kind"].notna() & bt["amount_eur"].notna()
    bt = bt[ok.to_numpy(dtype=bool)]
    if bt.empty:
        return
    planned = {}
    for line, p in zip(lines["budget_line_id"], lines["planned_eur"]):
        if p is not None and not pd.isna(line):
            planned[line] = p
    order = bt.assign(_row=bt.index).sort_values(["date", "_row"], kind="stable")
    for line, g in order.groupby("budget_line_id", sort=True):
        is_c = (g["kind"] == "commitment").to_numpy(dtype=bool)
        is_p = (g["kind"] == "payment").to_numpy(dtype=bool)
        amounts = g["amount_eur"].tolist()
        rows = g["_row"].tolist()
        dates = g["date"].tolist()
        total_c = sum((a for a, c in zip(amounts, is_c) if c), Decimal(0))
        cum = Decimal(0)
        for a, p, r in zip(amounts, is_p, rows):
            if p:
                cum += a
                if cum > total_c:
                    out.add("budget_transactions", place, r, "amount_eur", format(a, "f"),
                            f"ligne budgétaire « {line} » : les paiements cumulés atteignent {_fmt_eur(cum)} "
                            f"à cette ligne, au-delà des engagements de la ligne ({_fmt_eur(total_c)})",
                            "payments_above_commitments")
                    break
        if line in planned:
            cum = Decimal(0)
            for a, c, r in zip(amounts, is_c, rows):
                if c:
                    cum += a
                    if cum > planned[line]:
                        out.add("budget_transactions", place, r, "amount_eur", format(a, "f"),
                                f"ligne budgétaire « {line} » : les engagements cumulés atteignent {_fmt_eur(cum)} "
                                f"à cette ligne, au-delà du montant prévu ({_fmt_eur(planned[line])}, "
                                f"{places.get('budget_lines', 'budget_lines.csv')})",
                                "commitments_above_planned")
                        break
        c_dates = [d for d, c in zip(dates, is_c) if c]
        if c_dates:
            first = min(c_dates)
            for d, p, r in zip(dates, is_p, rows):
                if p and d < first:
                    out.add("budget_transactions", place, r, "date", d.strftime("%Y-%m-%d"),
                            f"paiement de la ligne « {line} » daté avant son premier engagement "
                            f"({first.strftime('%Y-%m-%d')})", "payment_before_commitment")


def _check_participants(typed: dict, places: dict, out: _Collector) -> None:
    """Check that each activity with participant rows has exactly ``participants`` of them, ranked 1..n."""
    parts, acts = typed["participants"], typed["activities"]
    if parts.empty or acts.empty:
        return
    place = places.get("participants", "participants.csv")
    n_of = acts.dropna(subset=["activity_id"]).drop_duplicates("activity_id").set_index("activity_id")["participants"]
    ok = parts["activity_id"].isin(n_of.index).to_numpy(dtype=bool) & parts["participant_index"].notna().to_numpy()
    p = parts[ok]
    if p.empty:
        return
    expected_n = p["activity_id"].map(n_of)
    over = (p["participant_index"] > expected_n).fillna(False).to_numpy(dtype=bool)
    rows = p.index[over]
    out.add_rows("participants", place, rows, "participant_index", p.loc[rows, "participant_index"].astype(str).tolist(),
                 lambda v: f"rang supérieur au nombre de participants de l'activité "
                           f"({places.get('activities', 'activities.csv')}, colonne participants)", "participant_rank")
    counts = p.groupby("activity_id", sort=False).size()
    bad = counts[counts.to_numpy() != n_of.reindex(counts.index).to_numpy()]
    first_row = p.reset_index().groupby("activity_id", sort=False)[p.index.name or "index"].min()
    shown = bad.index[: out.room("participants", "activity_id", "participant_count")]
    for aid in shown:
        out.add("participants", place, int(first_row[aid]), "activity_id", str(aid),
                f"{bad[aid]} ligne(s) de participants pour cette activité, alors que sa colonne participants vaut "
                f"{n_of[aid]} ({places.get('activities', 'activities.csv')})", "participant_count")
    out.count_more("participants", "activity_id", "participant_count", len(bad) - len(shown))


#: Tables that must have rows once another one has: (that table, why), in French for the message.
#: (An entirely empty bundle, such as the template, stays valid.)
NON_EMPTY_TABLES = {
    "populations": ("territories", "les rapports ont besoin d'une population par territoire, pour les taux "
                                   "et les chiffres clés"),
}
#: Years a bundle's ``data_as_of`` may name.
DATA_AS_OF_YEARS = (2000, 2100)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_meta(raw: RawBundle, out: _Collector) -> None:
    """Check the metadata the reports rely on: ``data_as_of``, ``is_synthetic``, ``synthetic_tables``."""
    place = "bundle.json" if Path(raw.source).is_dir() else "feuille « _meta »"
    meta = raw.meta or {}
    if "data_as_of" in meta and meta["data_as_of"] not in (None, ""):
        v = meta["data_as_of"]
        ok = isinstance(v, str) and bool(_ISO_DAY.match(v.strip()))
        if ok:
            try:
                day = dt.date.fromisoformat(v.strip())
                ok = DATA_AS_OF_YEARS[0] <= day.year <= DATA_AS_OF_YEARS[1]
            except ValueError:
                ok = False
        if not ok:
            out.add(None, place, None, "data_as_of", repr(v) if not isinstance(v, str) else v,
                    f"date d'arrêt des données attendue en texte AAAA-MM-JJ, entre {DATA_AS_OF_YEARS[0]} et "
                    f"{DATA_AS_OF_YEARS[1]} (ex. \"2026-10-31\") ; reçu {type(v).__name__} {v!r}", check="meta")
    if "is_synthetic" in meta and not isinstance(meta["is_synthetic"], bool):
        out.add(None, place, None, "is_synthetic", repr(meta["is_synthetic"]),
                "true ou false attendu (booléen JSON)", check="meta")
    st = meta.get("synthetic_tables")
    if st is not None and (not isinstance(st, list) or any(not isinstance(t, str) or t not in TABLES for t in st)):
        out.add(None, place, None, "synthetic_tables", repr(st),
                "liste de noms de tables du bundle attendue", check="meta")


def validate_raw(raw: RawBundle) -> ValidationResult:
    """Validate a bundle already read as text (see :func:`fne_eval.bundle.io.read_bundle_raw`)."""
    out = _Collector()
    _check_meta(raw, out)
    out.warnings.extend(getattr(raw, "warnings", []) or [])
    typed, places, flagged = {}, {}, {}
    for name, table in TABLES.items():
        place = raw.places.get(name, f"{name}.csv")
        places[name] = place
        df = raw.frames.get(name)
        if df is None:  # optional table absent: empty
            df = pd.DataFrame({c: pd.Series([], dtype="string") for c in table.column_names})
        t = _check_table(name, df, place, out)
        flagged[name] = _check_values(name, t, df, place, out)
        _check_duplicates(name, t, place, out)
        _check_dates(name, t, place, out)
        typed[name] = t
    for name, (needed_by, why) in NON_EMPTY_TABLES.items():
        if name in typed and typed[name].empty and not typed[needed_by].empty:
            out.add(name, places[name], None, None, None,
                    f"table vide alors que la table {needed_by} a {len(typed[needed_by])} ligne(s) : {why}",
                    check="empty")
    for name in TABLES:
        _check_foreign_keys(name, typed, places, flagged[name], out)
    _check_budget(typed, places, out)
    _check_participants(typed, places, out)
    out.finish()
    # parse_text already gives the dtypes documented in fne_eval.bundle
    tables = {name: typed[name].reset_index(drop=True) for name in TABLES}
    return ValidationResult(errors=out.errors, warnings=out.warnings, tables=tables, source=raw.source)


def validate_bundle(path: Optional[Union[str, Path]] = None) -> ValidationResult:
    """Validate a bundle and return every error.

    Parameters
    ----------
    path : str or Path, optional
        A bundle folder or ``.xlsx`` workbook; the embedded default bundle when omitted.

    Returns
    -------
    ValidationResult
        ``.valid``, ``.errors``, ``.warnings`` and the typed ``.tables``.

    Raises
    ------
    fne_eval.bundle.io.BundleError
        When the bundle cannot be read at all (the CLI's exit status 2).
    """
    return validate_raw(read_bundle_raw(Path(path) if path is not None else DEFAULT_BUNDLE_DIR))
