"""Reporting completeness: how many of the expected reporters filed at least one activity.

A total of accompaniments means little without knowing how many lieux reported it (DHIS2's
"reporting rate"). This module measures it per territory and period and returns totals
with their completeness so that a report prints "X accompagnements (taux de remontée : Y %)".

Definitions
-----------
``reporter='lieu'`` (default)
    Expected reporters (denominator) = the lieux of the ``lieux`` table located in the
    territory (their ``territory_code``). The table is one snapshot: every lieu counts as
    expected in every period, including periods before it opened. Reporting reporters
    (numerator) = those lieux with at least one row in ``activities`` (``lieu_id``) dated in
    the period. Activities whose ``lieu_id`` is missing or not in ``lieux`` are not
    attributed (logged).
``reporter='mediator'``
    The bundle has no roster of médiateurs en poste, so expected reporters = the médiateurs
    who filed at least one activity at any date in the data, placed in the territory of the
    lieu they report from most often. A médiateur who never reported is invisible: the rate
    is an upper bound.

Rates are in percent (``reporting_rate_pct``), missing when there is no expected reporter
(zero denominator). Levels add up: numerator and denominator are summed over units, the
rate is computed last.
"""
from __future__ import annotations

import logging
from typing import Iterable, Union

import numpy as np
import pandas as pd

from fne_eval.bundle.diskcache import shared
from fne_eval.core.fmt import fmt_int, fmt_pct
from fne_eval.core.periods import PERIODS, assign_periods, period_range
from fne_eval.core.territory import stripped_codes, aggregate, member_codes, merge_logged
from fne_eval.evaluate.offer import table_or_empty as t

log = logging.getLogger(__name__)

REPORTERS = ("lieu", "mediator")
GEOGRAPHIES = ("beneficiary", "lieu")
LEVELS = ("arrondissement", "commune", "epci", "departement")
COLUMNS = ["level", "territory_code", "period", "reporter", "n_expected", "n_reporting",
           "reporting_rate_pct"]


def table_or_empty(bundle, name):
    return t(bundle, name)


def _reporter_units(bundle, reporter: str) -> pd.DataFrame:
    """Return ``reporter_id, unit_code`` for every expected reporter."""
    lieux = table_or_empty(bundle, "lieux")
    lieu_unit = pd.DataFrame({"lieu_id": stripped_codes(lieux["id"]), "unit_code": stripped_codes(lieux["territory_code"])}) \
        .dropna().drop_duplicates("lieu_id")
    if reporter == "lieu":
        return lieu_unit.rename(columns={"lieu_id": "reporter_id"})
    acts = table_or_empty(bundle, "activities")
    if acts.empty:
        return pd.DataFrame({"reporter_id": pd.Series([], dtype="string"),
                             "unit_code": pd.Series([], dtype="string")})
    a = pd.DataFrame({"reporter_id": stripped_codes(acts["mediator_id"]), "lieu_id": stripped_codes(acts["lieu_id"])}).dropna()
    a = merge_logged(a, lieu_unit, how="inner", validate="m:1", on="lieu_id",
                     what="reporting_completeness: activities from a lieu not in the lieux table")
    # the unit a médiateur reports from most often (ties: smallest code)
    counts = a.groupby(["reporter_id", "unit_code"]).size().rename("n").reset_index()
    counts = counts.sort_values(["reporter_id", "n", "unit_code"], ascending=[True, False, True])
    return counts.drop_duplicates("reporter_id")[["reporter_id", "unit_code"]].reset_index(drop=True)


def reporting_completeness(bundle, level: Union[str, Iterable[str]] = LEVELS, period: str = "year",
                           reporter: str = "lieu", start=None, end=None) -> pd.DataFrame:
    """Return the share of expected reporters that filed at least one activity, per territory and period.

    Parameters
    ----------
    bundle : Bundle or dict of DataFrame
        Needs ``lieux``, ``activities``, ``territories``.
    level : str or iterable of {'arrondissement', 'commune', 'epci', 'departement'}
        Level(s) of the result.
    period : {'month', 'quarter', 'year'}, default 'year'
        Period codes as :func:`fne_eval.core.periods.period_code` ("2025", "2025-T1", "2025-01").
    reporter : {'lieu', 'mediator'}, default 'lieu'
        What is expected to report (see the module docstring for each denominator).
    start, end : date-like, optional
        Periods covered; default from the first to the last activity date. Periods without
        any activity inside that range appear with 0 reporting.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, period, reporter, n_expected, n_reporting,
        reporting_rate_pct``; every territory of the level(s) × every period. Empty when
        there is no activity and no ``start``/``end``.

    Examples
    --------
    >>> reporting_completeness(bundle, level="epci", period="year")  # doctest: +SKIP
    """
    levels = (level,) if isinstance(level, str) else tuple(level)
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ValueError(f"unknown level(s) {bad}, expected among {LEVELS}")
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}, expected one of {PERIODS}")
    if reporter not in REPORTERS:
        raise ValueError(f"unknown reporter {reporter!r}, expected one of {REPORTERS}")
    terr, acts = table_or_empty(bundle, "territories"), table_or_empty(bundle, "activities")
    if terr.empty:
        return pd.DataFrame(columns=COLUMNS)
    dates = pd.to_datetime(acts["date"]) if len(acts) else pd.Series([], dtype="datetime64[ns]")
    if start is None and end is None and dates.dropna().empty:
        return pd.DataFrame(columns=COLUMNS)
    lo = pd.Timestamp(start) if start is not None else dates.min()
    hi = pd.Timestamp(end) if end is not None else dates.max()
    if pd.isna(lo):
        lo = hi
    if pd.isna(hi):
        hi = lo
    periods = period_range(lo, hi, period)
    if not periods:
        return pd.DataFrame(columns=COLUMNS)

    units = _reporter_units(bundle, reporter)
    # denominator: expected reporters per territory, broadcast over periods
    expected = aggregate(units.assign(one=1.0), terr, ["one"], "unit_code", levels=levels, complete=True)
    expected = expected.rename(columns={"one": "n_expected"})[["level", "territory_code", "n_expected"]]
    grid = expected.merge(pd.DataFrame({"period": pd.array(periods, dtype="string")}), how="cross")

    # numerator: distinct reporters with >= 1 activity in the period
    keep = ((dates >= lo) & (dates <= hi)).to_numpy(dtype=bool) if len(acts) else np.zeros(0, dtype=bool)
    a = acts.loc[keep]
    col = "lieu_id" if reporter == "lieu" else "mediator_id"
    rep = pd.DataFrame({"reporter_id": stripped_codes(a[col]) if len(a) else pd.Series([], dtype="string"),
                        "period": assign_periods(a["date"], period) if len(a) else pd.Series([], dtype="string")})
    rep = rep.dropna().drop_duplicates()
    rep = rep.merge(units, how="inner", on="reporter_id", validate="m:1")
    unknown = set(stripped_codes(a[col]).dropna()) - set(units["reporter_id"]) if len(a) else set()
    if unknown:
        log.warning("reporting_completeness: %d %s id(s) in activities not attributable to a territory",
                    len(unknown), reporter)
    num = aggregate(rep.assign(one=1.0), terr, ["one"], "unit_code", levels=levels, by=["period"]) \
        .rename(columns={"one": "n_reporting"})[["level", "territory_code", "period", "n_reporting"]]
    num["period"] = num["period"].astype("string")
    out = grid.merge(num, how="left", on=["level", "territory_code", "period"], validate="1:1")
    out["n_expected"] = out["n_expected"].fillna(0).astype("int64")
    out["n_reporting"] = out["n_reporting"].fillna(0).astype("int64")
    den = out["n_expected"].astype("float64")
    out["reporting_rate_pct"] = (out["n_reporting"] / den.where(den > 0) * 100).astype("float64")
    out["reporter"] = reporter
    return out[COLUMNS].sort_values(["level", "territory_code", "period"]).reset_index(drop=True)


@shared
def totals_with_completeness(bundle, territory_code: str, start=None, end=None, reporter: str = "lieu",
                             geography: str = "beneficiary", threshold: int = 5) -> pd.DataFrame:
    """Return a territory's accompaniments over ``[start, end]`` with the reporting rate.

    Parameters
    ----------
    territory_code : str
        Territory of any level.
    start, end : date-like, optional
        Inclusive bounds on the activity date (default: all the data).
    reporter : {'lieu', 'mediator'}
        Denominator of the rate (see module docstring).
    geography : {'beneficiary', 'lieu'}, default 'beneficiary'
        Where an accompaniment is counted: the beneficiaries' commune of residence (as in
        :mod:`fne_eval.evaluate.offer`) or the lieu's commune. The rate is always about the
        lieux (or médiateurs) of the territory.
    threshold : int, default 5
        Disclosure threshold for the sentence: a count ``0 < n < threshold`` is written
        "moins de 5".

    Returns
    -------
    pandas.DataFrame
        One row: ``territory_code, n_activities, participants, n_expected, n_reporting,
        reporting_rate_pct, text`` where ``text`` is e.g. "1 234 accompagnements
        (taux de remontée : 84,0 %)".
    """
    if geography not in GEOGRAPHIES:
        raise ValueError(f"unknown geography {geography!r}, expected one of {GEOGRAPHIES}")
    terr, acts, lieux = table_or_empty(bundle, "territories"), table_or_empty(bundle, "activities"), table_or_empty(bundle, "lieux")
    code = str(territory_code)
    units = set(member_codes(terr, code))  # local units, and 13055 when it belongs
    dates = pd.to_datetime(acts["date"]) if len(acts) else pd.Series([], dtype="datetime64[ns]")
    keep = pd.Series(True, index=acts.index)
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates <= pd.Timestamp(end)
    a = acts.loc[keep.to_numpy(dtype=bool)]
    if geography == "beneficiary":
        where = stripped_codes(a["beneficiary_commune_code"]) if len(a) else pd.Series([], dtype="string")
    else:
        lu = dict(zip(stripped_codes(lieux["id"]), stripped_codes(lieux["territory_code"])))
        where = stripped_codes(a["lieu_id"]).map(lu) if len(a) else pd.Series([], dtype="string")
    mine = a.loc[where.isin(units).fillna(False).to_numpy(dtype=bool)]
    n_act = int(len(mine))
    people = int(pd.to_numeric(mine["participants"]).sum()) if n_act else 0

    rep_units = _reporter_units(bundle, reporter)
    expected = rep_units[rep_units["unit_code"].isin(units)]
    col = "lieu_id" if reporter == "lieu" else "mediator_id"
    reported = set(stripped_codes(a[col]).dropna()) & set(expected["reporter_id"]) if len(a) else set()
    n_exp, n_rep = int(len(expected)), int(len(reported))
    rate = n_rep / n_exp * 100 if n_exp else float("nan")
    count_txt = f"moins de {threshold}" if 0 < n_act < threshold else fmt_int(n_act)
    noun = "accompagnement" if n_act <= 1 else "accompagnements"
    rate_txt = fmt_pct(rate) if n_exp else "non calculable (aucun lieu attendu)" if reporter == "lieu" \
        else "non calculable (aucun médiateur attendu)"
    text = f"{count_txt} {noun} (taux de remontée : {rate_txt})"
    return pd.DataFrame([{"territory_code": code, "n_activities": n_act, "participants": people,
                          "n_expected": n_exp, "n_reporting": n_rep, "reporting_rate_pct": rate,
                          "text": text}])
