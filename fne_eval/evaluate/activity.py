"""Select and count the monitoring rows a report section shows for one territory.

These are the small counting steps that sit between the evaluation modules and the
display (the notebooks may not filter or group): the accompaniments of a territory in a
period, and their breakdown by one coded column. Every count of people they return must
still go through :func:`fne_eval.store.disclosure.suppress` before display; the section
builders do that.

Geography: an accompaniment belongs to the territory of the beneficiaries' commune of
residence (``beneficiary_commune_code``, as in :mod:`fne_eval.evaluate.offer`); rows without
it are counted apart (``n_unlocated``) and only in département-wide figures.
"""
from __future__ import annotations

from typing import Iterable, Optional

import pandas as pd

from fne_eval.bundle.io import split_list

#: Columns of :func:`count_by`'s result besides the grouping column.
COUNT_COLUMNS = ("participants", "activities")


def territory_activities(activities: pd.DataFrame, units: Iterable[str], start=None, end=None,
                         include_unlocated: bool = False) -> pd.DataFrame:
    """Return the accompaniments of the given local units, dated within ``[start, end]``.

    Parameters
    ----------
    activities : DataFrame
        The bundle's ``activities`` table.
    units : iterable of str
        Local unit codes of the territory (:func:`fne_eval.core.territory.members`).
    start, end : date-like, optional
        Inclusive bounds on ``date``.
    include_unlocated : bool, default False
        Keep rows without a beneficiary commune (for département-wide figures).
    """
    units = {str(u) for u in units}
    codes = activities["beneficiary_commune_code"].astype("string")
    keep = codes.isin(units).fillna(False)
    if include_unlocated:
        keep = keep | codes.isna()
    dates = pd.to_datetime(activities["date"])
    if start is not None:
        keep = keep & (dates >= pd.Timestamp(start))
    if end is not None:
        keep = keep & (dates <= pd.Timestamp(end))
    return activities.loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def count_by(activities: pd.DataFrame, by: str, categories: Optional[Iterable[str]] = None
             ) -> pd.DataFrame:
    """Count people accompanied and accompaniments per value of one column.

    Parameters
    ----------
    activities : DataFrame
        Rows of the ``activities`` table.
    by : str
        A coded column (``age_band``, ``gender``, ``social_status``, ``activity_type``,
        ``place_type``) or ``themes`` (a ``|`` list: an accompaniment counts once in each
        of its themes, so theme rows do not add up to the total).
    categories : iterable of str, optional
        Every category to list, in order, even with a count of 0 (a closed vocabulary).

    Returns
    -------
    DataFrame
        Columns ``by, participants, activities`` (int64), sorted by ``categories`` order
        when given, else by decreasing ``participants``.
    """
    if by not in activities.columns:
        raise ValueError(f"unknown column {by!r} for a breakdown of activities")
    col = "theme" if by == "themes" else by
    if by == "themes":
        work = pd.DataFrame({
            col: [split_list(v) for v in activities["themes"]],
            "participants": pd.to_numeric(activities["participants"]).astype("int64").to_numpy(),
        }).explode(col).dropna(subset=[col])
    else:
        work = pd.DataFrame({
            col: activities[by].astype("string").to_numpy(),
            "participants": pd.to_numeric(activities["participants"]).astype("int64").to_numpy(),
        }).dropna(subset=[col])
    g = work.groupby(col, sort=False).agg(participants=("participants", "sum"),
                                          activities=("participants", "size")).reset_index()
    g[col] = g[col].astype(str)
    if categories is not None:
        cats = [str(c) for c in categories]
        extra = [c for c in g[col] if c not in cats]
        g = g.set_index(col).reindex(cats + extra, fill_value=0).rename_axis(col).reset_index()
    else:
        g = g.sort_values(["participants", col], ascending=[False, True])
    g["participants"] = g["participants"].astype("int64")
    g["activities"] = g["activities"].astype("int64")
    return g.reset_index(drop=True)


def monthly_counts(activities: pd.DataFrame) -> pd.DataFrame:
    """Count people accompanied and accompaniments per calendar month.

    Returns
    -------
    DataFrame
        Columns ``month`` (Timestamp of the 1st), ``participants``, ``activities``; every
        month between the first and the last one seen is listed (0 when empty).
    """
    if activities.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"),
                             "participants": pd.Series(dtype="int64"),
                             "activities": pd.Series(dtype="int64")})
    month = pd.to_datetime(activities["date"]).dt.to_period("M").dt.to_timestamp()
    work = pd.DataFrame({"month": month.to_numpy(),
                         "participants": pd.to_numeric(activities["participants"]).astype("int64").to_numpy()})
    g = work.groupby("month").agg(participants=("participants", "sum"),
                                  activities=("participants", "size"))
    full = pd.date_range(g.index.min(), g.index.max(), freq="MS")
    g = g.reindex(full, fill_value=0).rename_axis("month").reset_index()
    g["participants"] = g["participants"].astype("int64")
    g["activities"] = g["activities"].astype("int64")
    return g
