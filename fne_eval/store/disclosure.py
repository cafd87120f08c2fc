"""Statistical disclosure control: the one gate every published count of people goes through.

Rules (DESIGN.md, "Publishing rules")
-------------------------------------
* **Primary suppression.** A count ``n`` with ``0 < n < threshold`` (default 5) is hidden.
* **Zeros are published.** A 0 says that nobody is in the cell; it reveals nothing about an
  identifiable person, and hiding zeros would blank most small-territory tables. A zero is
  never hidden by the primary rule (it may be hidden as a complement, see below).
* **Secondary (complementary) suppression.** Margins (row and column totals) are treated as
  known to the reader *whether or not they are printed in this table* (they usually are
  somewhere else in the report). Every row and column of the table extended with its
  margins is an equation ``cells = total``; a line holding exactly one hidden entry would
  give it away, so another entry of that line is hidden: the smallest non-zero interior
  cell, else a zero cell, else the total itself. This is iterated to a fixed point.
* **Audit.** The line rule is necessary but not sufficient (a hidden cell that is a
  "bridge" between two groups of hidden cells can be solved by combining several
  equations). After the line rule, every hidden cell is checked exactly: it is
  recomputable iff the unit vector of that cell lies in the row space of the equations
  restricted to the hidden entries (null-space test). A recomputable cell gets one more
  complement in its row, and the line rule runs again, until nothing is recomputable.
  Bounds (counts are >= 0) are not used by the audit: interval disclosure is not checked.
* **Totals** are recomputed from the cells (a total column present in the input is
  overwritten, with a log line if it differed) and suppressed by the same rules.
* **Display.** A hidden count is shown as ``"< 5"`` (or ``"s"``), never as 0 or blank;
  its value is ``<NA>`` in :attr:`SuppressedTable.values`.

Examples
--------
>>> t = pd.DataFrame({"epci": ["A", "B"], "femmes": [12, 3], "hommes": [9, 8]})
>>> r = suppress(t, threshold=5, count_cols=["femmes", "hommes"], row_total="total",
...              col_total="Total")
>>> r.display()  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from fne_eval.core.fmt import fmt_int

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 5
SYMBOLS = ("threshold", "s")
_NONE, _PRIMARY, _SECONDARY = 0, 1, 2
_REASONS = {_NONE: "", _PRIMARY: "primary", _SECONDARY: "secondary"}


@dataclass
class SuppressedTable:
    """The result of :func:`suppress`.

    Attributes
    ----------
    values : pandas.DataFrame
        The table (label columns, count columns, totals if asked) with every hidden count
        set to ``<NA>`` (``Int64``).
    is_suppressed : pandas.DataFrame
        Same shape and labels as ``values``: True where a count is hidden (False in label
        columns).
    reason : pandas.DataFrame
        Same shape: ``''``, ``'primary'`` (below the threshold) or ``'secondary'``
        (complement).
    threshold : int
        The threshold used.
    count_cols : list of str
        The columns holding counts (totals column included when present).
    """

    values: pd.DataFrame
    is_suppressed: pd.DataFrame
    reason: pd.DataFrame
    threshold: int
    count_cols: list

    @property
    def n_primary(self) -> int:
        """Return the number of cells hidden because they are below the threshold."""
        return int((self.reason == "primary").to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        """Return the number of cells hidden as complements."""
        return int((self.reason == "secondary").to_numpy().sum())

    def display(self, symbol: str = "threshold") -> pd.DataFrame:
        """Return the table as French text: ``"1 234"``, and ``"< 5"`` or ``"s"`` if hidden.

        Parameters
        ----------
        symbol : {'threshold', 's'}, default 'threshold'
            ``'threshold'`` shows ``"< 5"`` (with the threshold used); ``'s'`` shows ``"s"``
            (secret statistique, INSEE's convention).
        """
        if symbol not in SYMBOLS:
            raise ValueError(f"unknown symbol {symbol!r}, expected one of {SYMBOLS}")

        hidden = f"< {self.threshold}" if symbol == "threshold" else "s"
        out = self.values.copy()
        for c in self.count_cols:
            out[c] = [hidden if s else fmt_int(v) for v, s in zip(self.values[c], self.is_suppressed[c])]
            out[c] = out[c].astype("string")
        return out


# --------------------------------------------------------------------------- core
def _lines(n_rows: int, n_cols: int, row_margin: bool, col_margin: bool) -> list:
    """Return the equations of the extended matrix as lists of flat indices (last = total)."""
    R = n_rows + (1 if col_margin else 0)
    C = n_cols + (1 if row_margin else 0)
    lines = []
    if row_margin:
        for i in range(R):
            lines.append([i * C + j for j in range(C)])
    if col_margin:
        for j in range(C):
            lines.append([i * C + j for i in range(R)])
    return lines


def _pick_complement(line: list, flat: np.ndarray, state: np.ndarray, margin: np.ndarray,
                     locked: np.ndarray):
    """Return the entry of ``line`` to hide next: smallest non-zero interior, zero interior, total.

    Returns None when every other entry is hidden or locked (a margin known elsewhere).
    """
    free = [k for k in line if state[k] == _NONE and not locked[k]]
    if not free:
        return None
    def key(k):
        return (bool(margin[k]), flat[k] == 0, flat[k], k)
    return min(free, key=key)


def _line_rule(lines, flat, state, margin, locked) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = sum(1 for k in line if state[k] != _NONE)
            if hidden == 1:
                k = _pick_complement(line, flat, state, margin, locked)
                if k is not None:
                    state[k] = _SECONDARY
                    changed = True


def recomputable(lines: list, hidden: np.ndarray, size: int) -> np.ndarray:
    """Return the flat indices of hidden entries that the published equations determine.

    Parameters
    ----------
    lines : list of list of int
        Equations ``sum(entries[:-1]) == entries[-1]`` over flat indices.
    hidden : numpy.ndarray of bool
        Which entries are hidden.
    size : int
        Number of entries.

    Returns
    -------
    numpy.ndarray of int
        Hidden entries whose value is uniquely determined (exact disclosure).
    """
    idx = np.flatnonzero(hidden)
    if idx.size == 0 or not lines:
        return np.array([], dtype=int)
    pos = {k: p for p, k in enumerate(idx)}
    rows = []
    for line in lines:
        coef = np.zeros(idx.size)
        touched = False
        for k in line[:-1]:
            if k in pos:
                coef[pos[k]] += 1.0
                touched = True
        if line[-1] in pos:
            coef[pos[line[-1]]] -= 1.0
            touched = True
        if touched:
            rows.append(coef)
    if not rows:
        return idx
    A = np.vstack(rows)
    # x_j is determined iff every null-space vector of A has a zero j-th component
    _, s, vt = np.linalg.svd(A, full_matrices=True)
    rank = int((s > 1e-9 * max(1.0, s.max() if s.size else 1.0)).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return idx
    determined = np.all(np.abs(null) < 1e-9, axis=0)
    return idx[determined]


def _protect(mat: np.ndarray, threshold: int, row_margin: bool, col_margin: bool,
             row_printed: bool = True, col_printed: bool = True):
    """Return ``(extended matrix, state)`` with primary and secondary suppression applied.

    A margin that is known but not printed (``*_printed`` False) is locked: it constrains
    the cells but is never hidden here.
    """
    n_rows, n_cols = mat.shape
    ext = mat
    if row_margin:
        ext = np.hstack([ext, ext.sum(axis=1, keepdims=True)])
    if col_margin:
        ext = np.vstack([ext, ext.sum(axis=0, keepdims=True)])
    R, C = ext.shape
    flat = ext.reshape(-1).astype(float)
    margin = np.zeros((R, C), dtype=bool)
    if row_margin:
        margin[:, -1] = True
    if col_margin:
        margin[-1, :] = True
    locked = np.zeros((R, C), dtype=bool)
    if row_margin and not row_printed:
        locked[:, -1] = True
    if col_margin and not col_printed:
        locked[-1, :] = True
    margin = margin.reshape(-1)
    locked = locked.reshape(-1)
    state = np.where((flat > 0) & (flat < threshold) & ~locked, _PRIMARY, _NONE).astype(int)
    lines = _lines(n_rows, n_cols, row_margin, col_margin)
    for _ in range(flat.size + 1):
        _line_rule(lines, flat, state, margin, locked)
        bad = recomputable(lines, state != _NONE, flat.size) if (state != _NONE).any() else []
        if len(bad) == 0:
            break
        # hide one more entry beside the first recomputable cell: in its row, else its column
        k = int(bad[0])
        placed = False
        for line in lines:
            pick = _pick_complement(line, flat, state, margin, locked) if k in line else None
            if pick is not None:
                state[pick] = _SECONDARY
                placed = True
                break
        if not placed:  # pragma: no cover - every line is fully hidden: nothing to add
            break
    return ext, state.reshape(R, C)


def suppress(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD,
             count_cols: Optional[Sequence[str]] = None, row_total: Optional[str] = None,
             col_total: Optional[str] = None, label_col: Optional[str] = None,
             margins_known: bool = True) -> SuppressedTable:
    """Hide the counts of people a reader could identify, with complementary suppression.

    Parameters
    ----------
    table : pandas.DataFrame
        A wide table: label column(s) and count columns (non-negative integers).
    threshold : int, default 5
        Counts ``0 < n < threshold`` are hidden. Must be >= 1.
    count_cols : sequence of str, optional
        The count columns; default every numeric column except ``row_total``.
    row_total : str, optional
        Name of a total column to publish (added, or recomputed if present).
    col_total : str, optional
        Label of a total row to publish (added, or recomputed if present), looked up in
        ``label_col``, else the first non-count column, else the index.
    label_col : str, optional
        Column holding the row labels (for ``col_total``).
    margins_known : bool, default True
        Protect cells against the row and column totals even when they are not printed
        here (they usually are elsewhere in the report). ``False`` protects only against
        the totals published in this table. The row margin of a one-column table (the
        cell itself) and the column margin of a one-row table are never used.

    Returns
    -------
    SuppressedTable
        ``values`` (hidden counts ``<NA>``), ``is_suppressed`` mask, ``reason``,
        ``display()``.

    Raises
    ------
    ValueError
        For a threshold < 1, an unknown column, negative or non-integer counts.

    Notes
    -----
    Missing counts (``NaN``) are treated as 0 in totals and kept missing.
    """
    threshold = int(threshold)
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    df = table.copy()
    if count_cols is None:
        count_cols = [c for c in df.columns if c != row_total and pd.api.types.is_numeric_dtype(df[c])
                      and not pd.api.types.is_bool_dtype(df[c])]
    count_cols = [c for c in count_cols if c != row_total]
    missing = [c for c in count_cols if c not in df.columns]
    if missing:
        raise ValueError(f"suppress: columns {missing} not in the table")
    labels = [c for c in df.columns if c not in count_cols and c != row_total]
    lab = label_col or (labels[0] if labels else None)
    if label_col is not None and label_col not in df.columns:
        raise ValueError(f"suppress: label column {label_col!r} not in the table")

    # locate and drop an existing total row: it is recomputed
    if col_total is not None:
        key = df[lab] if lab is not None else pd.Series(df.index, index=df.index)
        is_tot = (key.astype("string") == str(col_total)).fillna(False).to_numpy(dtype=bool)
        df = df.loc[~is_tot]
    raw = df[count_cols].apply(pd.to_numeric, errors="coerce").astype("float64") if count_cols else \
        pd.DataFrame(index=df.index)
    is_na = raw.isna().to_numpy()
    mat = raw.fillna(0).to_numpy()
    if (mat < 0).any():
        raise ValueError("suppress: counts must be >= 0")
    if not np.all(np.equal(np.mod(mat, 1), 0)):
        raise ValueError("suppress: counts must be whole numbers")
    if row_total is not None and row_total in df.columns:
        given = pd.to_numeric(df[row_total], errors="coerce").to_numpy(dtype=float)
        diff = ~np.isclose(np.nan_to_num(given, nan=-1), mat.sum(axis=1))
        if diff.any():
            log.warning("suppress: %d row totals in %r differ from the sum of the cells; recomputed",
                        int(diff.sum()), row_total)
    n_rows, n_cols = mat.shape
    row_margin = row_total is not None or (margins_known and n_cols >= 2)
    col_margin = col_total is not None or (margins_known and n_rows >= 2)
    if n_rows == 0 or n_cols == 0:
        row_margin = row_margin and n_rows > 0 and row_total is not None
        col_margin = col_margin and n_cols > 0 and col_total is not None
    ext, state = _protect(mat, threshold, row_margin, col_margin,
                          row_printed=row_total is not None, col_printed=col_total is not None)

    # build outputs: interior, then printed margins
    R = n_rows + (1 if col_total is not None else 0)
    out_cols = list(count_cols) + ([row_total] if row_total is not None else [])
    vals = np.full((R, len(out_cols)), np.nan)
    st = np.zeros((R, len(out_cols)), dtype=int)
    vals[:n_rows, :n_cols] = np.where(is_na, np.nan, mat)
    st[:n_rows, :n_cols] = state[:n_rows, :n_cols]
    if row_total is not None:
        vals[:n_rows, n_cols] = ext[:n_rows, n_cols]
        st[:n_rows, n_cols] = state[:n_rows, n_cols]
    if col_total is not None:
        vals[n_rows, :n_cols] = ext[n_rows, :n_cols]
        st[n_rows, :n_cols] = state[n_rows, :n_cols]
        if row_total is not None:
            vals[n_rows, n_cols] = ext[n_rows, n_cols]
            st[n_rows, n_cols] = state[n_rows, n_cols]
    # row labels: the label column (index reset), else the index itself
    base = df[labels].reset_index(drop=True) if lab is not None else df[labels].copy()
    if col_total is not None:
        total_row = {c: pd.NA for c in labels}
        if lab is not None:
            total_row[lab] = col_total
            base = pd.concat([base, pd.DataFrame([total_row], columns=labels)], ignore_index=True)
        else:
            base = pd.concat([base, pd.DataFrame([total_row], columns=labels, index=[col_total])])
    values = base.copy()
    mask = pd.DataFrame(False, index=base.index, columns=list(base.columns))
    reason = pd.DataFrame("", index=base.index, columns=list(base.columns), dtype="string")
    for j, c in enumerate(out_cols):
        hidden = st[:, j] != _NONE
        v = pd.array(np.where(np.isnan(vals[:, j]), 0, vals[:, j]).astype("int64"), dtype="Int64")
        v[np.isnan(vals[:, j]) | hidden] = pd.NA
        values[c] = pd.Series(v, index=base.index)
        mask[c] = hidden
        reason[c] = pd.Series([_REASONS[x] for x in st[:, j]], index=base.index, dtype="string")
    return SuppressedTable(values=values, is_suppressed=mask, reason=reason,
                           threshold=threshold, count_cols=out_cols)


def suppress_long(df: pd.DataFrame, count_col: str, group_cols: Sequence[str],
                  threshold: int = DEFAULT_THRESHOLD, by: Optional[Sequence[str]] = None,
                  margins_known: bool = True) -> pd.DataFrame:
    """Apply :func:`suppress` to a tidy frame of counts, one cell per row.

    The cells are laid out as a two-way table: rows = ``group_cols[:-1]``, columns =
    ``group_cols[-1]`` (one column when ``group_cols`` has a single column), with the
    margins of that table protected. Combinations absent from ``df`` count as 0. Each
    combination of ``by`` (e.g. ``['territory_code', 'year']``) is an independent table.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy counts; duplicated cells are summed.
    count_col : str
        The count column.
    group_cols : sequence of str
        One or more classifying columns (``['epci_siren', 'age_band']``).
    threshold : int, default 5
    by : sequence of str, optional
        Columns splitting the frame into independent tables.
    margins_known : bool, default True
        See :func:`suppress`.

    Returns
    -------
    pandas.DataFrame
        The rows of ``df`` (duplicates summed), ``count_col`` as ``Int64`` with ``<NA>``
        where hidden, plus ``is_suppressed`` (bool) and ``suppression`` (``''``,
        ``'primary'``, ``'secondary'``).
    """
    group_cols, by = list(group_cols), list(by or [])
    if not group_cols:
        raise ValueError("suppress_long: group_cols must name at least one column")
    missing = [c for c in [count_col, *group_cols, *by] if c not in df.columns]
    if missing:
        raise ValueError(f"suppress_long: columns {missing} not in the frame")
    keys = [*by, *group_cols]
    cells = df.groupby(keys, dropna=False, sort=True, observed=True)[count_col].sum(min_count=1).reset_index()
    out_cols = [*keys, count_col, "is_suppressed", "suppression"]
    if cells.empty:
        res = cells.assign(is_suppressed=pd.Series([], dtype=bool),
                           suppression=pd.Series([], dtype="string"))
        res[count_col] = res[count_col].astype("Int64")
        return res[out_cols]
    row_vars = group_cols[:-1] if len(group_cols) > 1 else []
    col_var = group_cols[-1] if len(group_cols) > 1 else None
    parts = []
    groups = cells.groupby(by, dropna=False, sort=True) if by else [((), cells)]
    for _, g in groups:
        if col_var is None:
            wide = g[[group_cols[0], count_col]].rename(columns={count_col: "__n"}).reset_index(drop=True)
            wide["__row"] = range(len(wide))
            r = suppress(wide[["__row", "__n"]], threshold, count_cols=["__n"], label_col="__row",
                         margins_known=margins_known)
            hidden = r.is_suppressed["__n"].to_numpy()
            why = r.reason["__n"].to_numpy()
            gg = g.reset_index(drop=True)
        else:
            gg = g.reset_index(drop=True)
            rk = gg[row_vars].astype("string").fillna("\x00NA").agg("\x1f".join, axis=1)
            ck = gg[col_var].astype("string").fillna("\x00NA")
            wide = pd.DataFrame({"__row": rk, "__col": ck, "__n": gg[count_col].astype("float64")}).pivot_table(
                index="__row", columns="__col", values="__n", aggfunc="sum", fill_value=0)
            cols = [str(c) for c in wide.columns]
            wide.columns = cols
            wide = wide.reset_index()
            r = suppress(wide, threshold, count_cols=cols, label_col="__row", margins_known=margins_known)
            m = r.is_suppressed.set_index(r.values["__row"].astype("string"))
            rs = r.reason.set_index(r.values["__row"].astype("string"))
            hidden = np.array([bool(m.at[a, b]) for a, b in zip(rk, ck)], dtype=bool)
            why = np.array([rs.at[a, b] for a, b in zip(rk, ck)], dtype=object)
        gg = gg.assign(is_suppressed=hidden, suppression=pd.array(why, dtype="string"))
        parts.append(gg)
    res = pd.concat(parts, ignore_index=True)
    n = res[count_col].astype("Int64")
    res[count_col] = n.mask(res["is_suppressed"])
    return res[out_cols]


def protection_problems(values: pd.DataFrame, is_suppressed: pd.DataFrame, count_cols: Sequence[str],
                        threshold: int = DEFAULT_THRESHOLD) -> list:
    """Return the reasons a published wide table breaks the publishing rules (empty if none).

    Checks that every published count is 0 or >= ``threshold`` and that, in every row and
    column of ``count_cols``, the number of hidden cells is 0 or >= 2. Used by tests and by
    data-quality checks of tables built outside :func:`suppress`.
    """
    probs = []
    v = values[list(count_cols)]
    m = is_suppressed[list(count_cols)].astype(bool)
    shown = v.where(~m)
    bad = ((shown > 0) & (shown < threshold)).fillna(False).to_numpy()
    if bad.any():
        probs.append(f"{int(bad.sum())} published count(s) between 1 and {threshold - 1}")
    mm = m.to_numpy()
    if mm.shape[1] >= 2 and ((mm.sum(axis=1) == 1)).any():
        probs.append("a row holds exactly one hidden cell")
    if mm.shape[0] >= 2 and ((mm.sum(axis=0) == 1)).any():
        probs.append("a column holds exactly one hidden cell")
    return probs
