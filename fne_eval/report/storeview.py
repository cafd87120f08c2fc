"""The reports' view of the indicator store: one figure, one value, one status, everywhere.

Sections never count people themselves: they read the cells of
:func:`fne_eval.store.get_store` for the report's bundle, date and threshold, print them as
the store publishes them, and tag each printed figure with its key (``data-indicator``,
``data-territory``, ``data-period``, ``data-breakdown``) so that the pack can be checked:
the same key prints the same text in every report, and no hidden cell is recoverable
from the published ones.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from fne_eval.report import format as F
from fne_eval.store import get_store

__all__ = ["Cell", "store_of", "cell", "cells_by", "figure_html", "SECONDARY_MARK", "hidden_legend"]

#: Printed in place of a figure hidden to protect another one (its value may be large).
SECONDARY_MARK = "(s)"


@dataclass(frozen=True)
class Cell:
    """One figure of the store as a report prints it."""

    indicator: str
    territory: str
    period: str
    breakdown: str
    value: Optional[float]
    status: str

    @property
    def hidden(self) -> bool:
        """True when the pack does not publish this figure."""
        return self.status in ("primary", "secondary")

    def text(self, threshold: int, fmt=None) -> str:
        """Return the figure as printed (« < 5 », « (s) », or the formatted value)."""
        if self.status == "primary":
            return F.fmt_count(None, suppressed=True, threshold=threshold)
        if self.status == "secondary":
            return SECONDARY_MARK
        if self.value is None or pd.isna(self.value):
            return F.MISSING
        return (fmt or F.fmt_int)(self.value)

    def attributes(self) -> str:
        """Return the ``data-*`` attributes of a published cell (with a leading space)."""
        vals = (("indicator", self.indicator), ("territory", self.territory), ("period", self.period),
                ("breakdown", self.breakdown))
        return "".join(f' data-{k}="{html.escape(str(v), quote=True)}"' for k, v in vals)


def store_of(ctx) -> pd.DataFrame:
    """Return the store of the report's bundle at its date and threshold (built once per pack)."""
    key = ("store", str(ctx.as_of.date()), int(ctx.threshold))
    if key not in ctx.extra:
        ctx.extra[key] = get_store(ctx.bundle, ctx.as_of, ctx.threshold)
    return ctx.extra[key]


def _index(ctx) -> dict:
    key = ("store_index", str(ctx.as_of.date()), int(ctx.threshold))
    if key not in ctx.extra:
        s = store_of(ctx)
        # plain Python lists first: iterating Arrow-backed string columns row by row is ~4x slower
        keys = zip(*(s[c].tolist() for c in ("indicator", "territory_code", "period", "breakdown")))
        ctx.extra[key] = dict(zip(keys, zip(s["value"].tolist(), s["status"].tolist())))
    return ctx.extra[key]


def cell(ctx, indicator: str, period: Optional[str] = None, breakdown: str = "",
         territory: Optional[str] = None) -> Optional[Cell]:
    """Return one figure of the store (None when the store has no such figure)."""
    territory = str(territory or ctx.territory_code)
    period = str(period or ctx.year)
    got = _index(ctx).get((indicator, territory, period, breakdown))
    if got is None:
        return None
    value, status = got
    return Cell(indicator, territory, period, breakdown, None if pd.isna(value) else float(value), str(status))


def cells_by(ctx, indicator: str, dim: str, period: Optional[str] = None,
             territory: Optional[str] = None) -> pd.DataFrame:
    """Return the breakdown of a figure by ``dim``: columns ``category``, ``value``, ``cell``.

    ``value`` is None for a hidden cell; ``cell`` holds the :class:`Cell`. Empty when the
    store does not break the figure down at this territory's level.
    """
    territory = str(territory or ctx.territory_code)
    period = str(period or ctx.year)
    s = store_of(ctx)
    rows = s[(s["indicator"] == indicator) & (s["territory_code"] == territory) & (s["period"] == period)
             & s["breakdown"].str.startswith(dim + "=")]
    out = []
    for r in rows.itertuples(index=False):
        c = Cell(indicator, territory, period, r.breakdown, None if pd.isna(r.value) else float(r.value),
                 str(r.status))
        out.append({"category": r.breakdown.split("=", 1)[1], "value": None if c.hidden else c.value, "cell": c})
    return pd.DataFrame(out, columns=["category", "value", "cell"])


def monthly(ctx, indicator: str, territory: Optional[str] = None) -> pd.DataFrame:
    """Return the monthly series of a figure up to the report's date: ``month`` (Timestamp), ``value``, ``cell``."""
    territory = str(territory or ctx.territory_code)
    s = store_of(ctx)
    rows = s[(s["indicator"] == indicator) & (s["territory_code"] == territory) & (s["period"].str.len() == 7)
             & (s["breakdown"] == "")].sort_values("period")
    out = []
    for r in rows.itertuples(index=False):
        c = Cell(indicator, territory, r.period, "", None if pd.isna(r.value) else float(r.value), str(r.status))
        out.append({"month": pd.Timestamp(r.period + "-01"), "value": None if c.hidden else c.value, "cell": c})
    return pd.DataFrame(out, columns=["month", "value", "cell"])


def figure_html(c: Optional[Cell], threshold: int, fmt=None) -> str:
    """Return a figure for running text: its printed form in a ``<span>`` carrying its key."""
    if c is None:
        return F.MISSING
    return f'<span class="fne-figure"{c.attributes()}>{html.escape(c.text(threshold, fmt))}</span>'


def hidden_legend(threshold: int) -> str:
    """Return the French legend of the two marks of hidden figures."""
    return (f"« < {threshold} » : moins de {threshold} (secret statistique) ; « {SECONDARY_MARK} » : chiffre "
            f"masqué pour qu'on ne puisse pas retrouver un petit effectif par différence avec d'autres "
            f"chiffres publiés du dossier (secret statistique secondaire).")
