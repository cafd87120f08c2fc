"""Render tidy DataFrames as French HTML tables for reports.

Tables have no index column, French headers from :mod:`fne_eval.report.labels`,
right-aligned numbers formatted by :mod:`fne_eval.report.format`, and every cell
HTML-escaped (text from the data never becomes markup). Counts hidden by disclosure
control are shown as "< 5", never as 0.
"""
from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Optional, Union

import pandas as pd

from fne_eval.report import format as F
from fne_eval.report.labels import COLUMN_VOCABULARY, code_label, column_label

#: Columns never displayed, whatever the caller asks (personal data).
from fne_eval.bundle.spec import PERSONAL_DATA_COLUMNS  # noqa: E402
from fne_eval.report.theme import METEO_COLORS

#: Names of the formats a column may be given.
FORMATS = ("int", "count", "decimal", "decimal2", "pct", "eur", "eur_cents", "date", "month",
           "text", "code", "bool", "signed", "signed_pct", "numtext", "date_short", "meteo")

#: Tables longer than this may break across PDF pages.
LONG_TABLE_ROWS = 8

#: Cells of a number column longer than this many characters may wrap (they hold text).
NOWRAP_MAX_CHARS = 28

_NUMERIC_FORMATS = {"int", "count", "decimal", "decimal2", "pct", "eur", "eur_cents",
                    "signed", "signed_pct", "numtext"}

#: Extra personal-data columns refused at display time (besides the spec's list).
_PERSONAL = set(PERSONAL_DATA_COLUMNS) | {"nom_prenom", "telephone", "courriel", "email",
                                          "e_mail", "phone", "prenom", "first_name",
                                          "last_name", "full_name"}


def infer_format(name: str, series: pd.Series) -> str:
    """Return the display format of a column from its name and dtype."""
    n = name.lower()
    if n.endswith("_eur"):
        return "eur"
    if n.endswith("_pct"):
        return "pct"
    if n.endswith("_date") or n in ("date", "start_date", "end_date", "planned_start",
                                    "planned_end", "actual_start", "actual_end", "as_of"):
        return "date"
    if n in ("month",):
        return "month"
    if n in ("year", "period", "vintage") or n.endswith("_year"):
        return "code"
    if n.endswith("_code") or n in ("key", "siren", "epci_siren", "task_id", "budget_line_id"):
        return "code"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "decimal"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if series.dtype == object:
        sample = series.dropna()
        if len(sample) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample):
            return "decimal"

        if len(sample) and all(isinstance(v, Decimal) for v in sample):
            return "decimal"
    return "text"


def format_cell(value, fmt: str, threshold: int = 5) -> str:
    """Return the display text of one value in format ``fmt`` (see :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}, expected one of {FORMATS}")
    if F.is_missing(value):
        return F.MISSING
    if fmt in ("int", "count"):
        return F.fmt_int(value)
    if fmt == "decimal":
        return F.fmt_decimal(value, 1)
    if fmt == "decimal2":
        return F.fmt_decimal(value, 2)
    if fmt == "pct":
        return F.fmt_pct(value)
    if fmt == "eur":
        return F.fmt_eur(value)
    if fmt == "eur_cents":
        return F.fmt_eur(value, cents="always")
    if fmt == "date":
        return F.fmt_date(value)
    if fmt == "month":
        return F.fmt_month(value)
    if fmt == "date_short":
        return F.fmt_date_short(value)
    if fmt == "meteo":
        return code_label("meteo", str(value))
    if fmt == "bool":
        return code_label("bool", bool(value))
    if fmt == "signed":
        return F.fmt_signed(value)
    if fmt == "signed_pct":
        return F.fmt_signed(value, 1, "%")
    return str(value)


def _meteo_dot(status: str) -> str:
    """Return a coloured dot for a météo status code (only known codes get a colour)."""
    color = METEO_COLORS.get(status, "#999999")
    return f'<span class="fne-meteo fne-meteo-{html.escape(status)}" style="color:{color};font-size:1.2em">●</span>&nbsp;'


#: Longest cell shown by ``print(table)`` (longer text is cut with « … »: the HTML has it whole).
MAX_TEXT_CELL = 60
_NUMBER_CELL = re.compile(r"^[<>≤≥+\-−]?\s?[\d\s\u00a0\u202f,.]+\s?(€|%|‰)?$")
_TEXT_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "p", "li", "figcaption", "caption")


def _table_text(table) -> list:
    """Lines of an HTML table as aligned text: header, a rule, then the rows (cells as shown)."""
    rows, header_rows = [], 0
    for tr in table.find_all("tr"):
        cells = [" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["th", "td"])]
        if not cells:
            continue
        if all(c.name == "th" for c in tr.find_all(["th", "td"])) and len(rows) == header_rows:
            header_rows += 1
        rows.append(cells)
    if not rows:
        return []
    n = max(len(r) for r in rows)
    rows = [[c if len(c) <= MAX_TEXT_CELL else c[:MAX_TEXT_CELL - 1] + "…" for c in r] + [""] * (n - len(r))
            for r in rows]
    widths = [max(len(r[j]) for r in rows) for j in range(n)]
    lines = []
    cap = table.find("caption")
    if cap is not None and cap.get_text(strip=True):
        lines.append(" ".join(cap.get_text(" ", strip=True).split()))
    for i, r in enumerate(rows):
        lines.append("  ".join(c.rjust(w) if i >= header_rows and _NUMBER_CELL.match(c) else c.ljust(w)
                               for c, w in zip(r, widths)).rstrip())
        if i + 1 == header_rows:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def html_to_text(html_text: str) -> str:
    """Return the text a reader sees in ``html_text``: headings, paragraphs, aligned tables, image alt texts.

    What ``print()`` of a report block shows in a terminal or a notebook's text output,
    instead of its raw HTML.
    """
    from bs4 import BeautifulSoup  # lazy: BeautifulSoup (~0.3 s), HTML post-processing only

    soup = BeautifulSoup(html_text, "html.parser")
    for tag in soup.find_all(["style", "script"]):
        tag.decompose()
    lines = []
    for el in soup.find_all(True):
        if el.name != "table" and el.find_parent("table") is not None:
            continue
        if el.name == "table":
            lines += _table_text(el)
        elif el.name == "img":
            alt = " ".join(str(el.get("alt", "")).split())
            lines.append(f"[graphique : {alt}]" if alt else "[image]")
        elif el.name in _TEXT_BLOCKS and el.find_parent(list(_TEXT_BLOCKS)) is None:
            text = " ".join(el.get_text(" ", strip=True).split())
            if text:
                lines.append(text)
    return "\n".join(lines)


class HtmlFragment:
    """Wrap HTML text so that Jupyter displays it (``_repr_html_``); ``print()`` shows it as text."""

    def __init__(self, html_text: str, text: str = ""):
        self.html = html_text
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text or "<HTML>"

    def __str__(self) -> str:
        return html_to_text(self.html) or self.text


class Table(HtmlFragment):
    """An HTML table built from a DataFrame; ``data`` keeps the displayed frame.

    ``print(table)`` and its ``repr`` give the table as aligned text, with the cells as
    the report shows them (French numbers, « < 5 » for hidden counts).
    """

    def __init__(self, html_text: str, data: pd.DataFrame, caption: str = ""):
        super().__init__(html_text, text=f"Tableau « {caption} » ({len(data)} lignes)")
        self.data = data
        self.caption = caption

    def __repr__(self) -> str:
        return f"{html_to_text(self.html)}\n({len(self.data)} lignes)"


def _suppressed_mask(df: pd.DataFrame, suppressed, count_columns) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    if suppressed is None:
        if "is_suppressed" in df.columns:
            rows = df["is_suppressed"].fillna(False).astype(bool)
            for col in count_columns:
                if col in mask.columns:
                    mask[col] = rows.to_numpy()
        for col in df.columns:
            flag = f"{col}_is_suppressed"
            if flag in df.columns:
                mask[col] = df[flag].fillna(False).astype(bool).to_numpy()
        return mask
    if isinstance(suppressed, pd.DataFrame):
        for col in suppressed.columns:
            if col in mask.columns:
                mask[col] = suppressed[col].fillna(False).astype(bool).to_numpy()
        return mask
    if isinstance(suppressed, Mapping):
        for col, rows in suppressed.items():
            if col in mask.columns:
                mask[col] = pd.Series(rows).fillna(False).astype(bool).to_numpy()
        return mask
    raise ValueError("suppressed must be None, a DataFrame or a mapping of column to booleans")


def html_table(
    df: pd.DataFrame,
    columns: Optional[Iterable[str]] = None,
    formats: Optional[Mapping[str, Union[str, Callable]]] = None,
    labels: Optional[Mapping[str, str]] = None,
    caption: str = "",
    suppressed=None,
    count_columns: Iterable[str] = (),
    threshold: int = 5,
    max_rows: Optional[int] = None,
    relabel_codes: bool = True,
    css_class: str = "fne-table",
    widths: Optional[Mapping[str, int]] = None,
    cells: Optional[Mapping[str, str]] = None,
) -> Table:
    """Render ``df`` as an escaped French HTML table.

    Parameters
    ----------
    df : DataFrame
        Tidy frame with English snake_case columns.
    columns : iterable of str, optional
        Columns to show, in order (default: all but flags such as ``is_suppressed``).
    formats : mapping, optional
        Column → a format name of :data:`FORMATS` or a callable ``value -> str``;
        other columns get :func:`infer_format`.
    labels : mapping, optional
        Column → header overriding :data:`fne_eval.report.labels.COLUMNS`.
    caption : str
        Table caption (escaped).
    suppressed : DataFrame or mapping, optional
        Cells hidden by disclosure control (True = hidden). Default: the frame's own
        ``is_suppressed`` column applied to ``count_columns``, and ``<col>_is_suppressed``.
    count_columns : iterable of str
        Columns counting people: hidden cells show "< threshold".
    threshold : int
        Disclosure threshold shown in hidden cells.
    max_rows : int, optional
        Show at most this many rows and say how many were left out.
    relabel_codes : bool
        Translate coded columns (age band, météo...) with their French labels.
    widths : mapping, optional
        Column → share of the table width in percent, for tables whose long text would
        otherwise squeeze a column (the table then spans the page width).
    cells : mapping, optional
        Column → name of a column of ``df`` holding, for each row, the store cell behind the
        figure (a :class:`fne_eval.report.storeview.Cell`, or None). Such a cell is printed
        as the store publishes it (« < 5 » for a small count, « (s) » for a cell hidden to
        protect another) and carries ``data-indicator``, ``data-territory``, ``data-period``
        and ``data-breakdown`` attributes, so that a published figure can be traced to its
        definition and checked against every other report.

    Raises
    ------
    ValueError
        When a personal-data column is asked for or a format name is unknown.
    """
    formats = dict(formats or {})
    labels = dict(labels or {})
    count_columns = list(count_columns)
    if columns is None:
        columns = [c for c in df.columns
                   if c != "is_suppressed" and not str(c).endswith("_is_suppressed")]
    columns = [c for c in columns]
    bad = [c for c in columns if str(c).lower() in _PERSONAL]
    if bad:
        raise ValueError(f"personal-data columns cannot be displayed: {bad}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in the frame: {missing}")
    for col in count_columns:
        formats.setdefault(col, "count")
    mask = _suppressed_mask(df, suppressed, count_columns)
    shown = df
    omitted = 0
    if max_rows is not None and len(df) > max_rows:
        omitted = len(df) - max_rows
        shown = df.iloc[:max_rows]
        mask = mask.iloc[:max_rows]
    fmts = {}
    for col in columns:
        f = formats.get(col) or infer_format(str(col), df[col])
        if not callable(f) and f not in FORMATS:
            raise ValueError(f"unknown format {f!r} for column {col!r}, expected one of {FORMATS}")
        fmts[col] = f
    # a long table may break across pages (its header row repeats); a short one stays whole,
    # with its caption: the block around it keeps them on the same page
    is_long = len(shown) > LONG_TABLE_ROWS
    breaking = "break-inside:auto;page-break-inside:auto;" if is_long else ""
    keep = "" if is_long else "break-inside:avoid;page-break-inside:avoid;"
    parts = [f'<div class="fne-table-block" style="{keep}max-width:100%">']
    label = ""
    if caption and is_long:
        # a <caption> is left alone at the foot of a page when its long table starts on the
        # next one; a paragraph kept with what follows is not
        parts.append(f'<p class="fne-caption" style="font-weight:bold;margin:0.6em 0 0 0;'
                     f'break-after:avoid;page-break-after:avoid">{html.escape(caption)}</p>')
        label = f' aria-label="{html.escape(caption, quote=True)}"'
    widths = dict(widths or {})
    bad_w = [c for c in widths if c not in columns]
    if bad_w:
        raise ValueError(f"widths given for columns not shown: {bad_w}")
    full = "width:100%;" if widths else ""
    parts.append(f'<table class="{html.escape(css_class)}"{label} style="border-collapse:collapse;{breaking}'
                 f'{full}max-width:100%;font-size:0.9em;margin:0.4em 0 1em 0">')
    if caption and not is_long:
        parts.append(f'<caption style="caption-side:top;text-align:left;font-weight:bold;'
                     f'padding-bottom:0.3em;break-after:avoid">{html.escape(caption)}</caption>')
    parts.append("<thead><tr>")
    for col in columns:
        head = labels.get(col) or column_label(str(col))
        num = fmts[col] in _NUMERIC_FORMATS if not callable(fmts[col]) else False
        align = "right" if num else "left"
        width = f"width:{int(widths[col])}%;" if col in widths else ""
        parts.append(f'<th class="{"num" if num else "text"}" style="{width}text-align:{align};'
                     f'border-bottom:1px solid #444;padding:2px 6px">{html.escape(head)}</th>')
    parts.append("</tr></thead><tbody>")
    cells = dict(cells or {})
    bad_c = [c for c, k in cells.items() if c not in columns or k not in df.columns]
    if bad_c:
        raise ValueError(f"cells given for columns not shown or without a cell column: {bad_c}")
    # one list per column (no row Series per row: iterrows cost most of a report's table time)
    values = {c: shown[c].tolist() for c in dict.fromkeys(list(columns) + list(cells.values()))}
    hidden_mask = {col: mask[col].to_numpy(dtype=bool) for col in columns}
    for i in range(len(shown)):
        parts.append("<tr>")
        for col in columns:
            value = values[col][i]
            f = fmts[col]
            cell_ref = values[cells[col]][i] if col in cells else None
            attrs = cell_ref.attributes() if cell_ref is not None and hasattr(cell_ref, "attributes") else ""
            if cell_ref is not None and getattr(cell_ref, "hidden", False):
                text = cell_ref.text(threshold)
                parts.append(f'<td class="num"{attrs} style="text-align:right;white-space:nowrap;padding:2px 6px;'
                             f'border-bottom:1px solid #ddd">{html.escape(text)}</td>')
                continue
            if hidden_mask[col][i]:
                text = F.fmt_count(None, suppressed=True, threshold=threshold)
                num = True
            elif callable(f):
                text = F.MISSING if F.is_missing(value) else str(f(value))
                num = False
            else:
                if relabel_codes and f == "text" and col in COLUMN_VOCABULARY and not F.is_missing(value):
                    value = code_label(COLUMN_VOCABULARY[col], value)
                text = format_cell(value, f, threshold)
                num = f in _NUMERIC_FORMATS
            # figures never break inside ("1 234 €"); a long text in a number column
            # (a method, a sentence) wraps like any text
            if num and len(text) > NOWRAP_MAX_CHARS:
                num = False
                style = "text-align:left"
            else:
                style = "text-align:right;white-space:nowrap" if num else "text-align:left"
            if f in ("date_short", "month") and not hidden_mask[col][i]:
                style += ";white-space:nowrap"  # "1er janv. 2025" on one line
            cell = html.escape(text)
            if f == "meteo" and not F.is_missing(value) and not hidden_mask[col][i]:
                cell = _meteo_dot(str(value)) + cell
                style += ";white-space:nowrap"
            parts.append(f'<td class="{"num" if num else "text"}"{attrs} style="{style};padding:2px 6px;'
                         f'border-bottom:1px solid #ddd">{cell}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if omitted:
        parts.append(f'<p class="fne-note"><em>{html.escape(F.fmt_int(omitted))} ligne'
                     f'{"s" if omitted > 1 else ""} non affichée{"s" if omitted > 1 else ""}.</em></p>')
    parts.append("</div>")
    data = df[columns]
    if cells:  # the data behind the table never holds a hidden value
        data = data.copy()
        for col, key in cells.items():
            hidden = [getattr(c, "hidden", False) for c in df[key]]
            data[col] = data[col].astype(object).where(~pd.Series(hidden, index=data.index), None)
    return Table("".join(parts), data=data, caption=caption)
