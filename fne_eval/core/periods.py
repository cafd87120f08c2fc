"""Compute period bounds and labels (month, quarter, year) in one place.

Every evaluation function that cuts time into periods uses these helpers, so that a
period has the same bounds and the same label everywhere. Period codes are strings:
``"2025"`` (year), ``"2025-T1"`` (quarter, French *trimestre*), ``"2025-01"`` (month).
"""
from __future__ import annotations

import datetime as _dt
from typing import Optional

import pandas as pd


PERIODS = ("month", "quarter", "year")


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}, expected one of {PERIODS}")


def to_timestamp(value) -> pd.Timestamp:
    """Return ``value`` (str, date, datetime or Timestamp) as a normalized Timestamp.

    Raises
    ------
    ValueError
        When ``value`` is missing.
    """
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        raise ValueError("a date is required, got a missing value")
    return pd.Timestamp(value).normalize()


def period_start(when, period: str) -> pd.Timestamp:
    """Return the first day of the period that contains ``when``.

    Parameters
    ----------
    when : str, date or Timestamp
    period : {'month', 'quarter', 'year'}
    """
    _check_period(period)
    t = to_timestamp(when)
    if period == "year":
        return pd.Timestamp(t.year, 1, 1)
    if period == "quarter":
        return pd.Timestamp(t.year, 3 * ((t.month - 1) // 3) + 1, 1)
    return pd.Timestamp(t.year, t.month, 1)


def period_end(when, period: str) -> pd.Timestamp:
    """Return the last day of the period that contains ``when`` (inclusive bound)."""
    start = period_start(when, period)
    months = {"year": 12, "quarter": 3, "month": 1}[period]
    return start + pd.DateOffset(months=months) - pd.Timedelta(days=1)


def period_bounds(when, period: str) -> tuple:
    """Return ``(start, end)``, the inclusive bounds of the period that contains ``when``."""
    return period_start(when, period), period_end(when, period)


def period_code(when, period: str) -> str:
    """Return the code of the period containing ``when``: "2025", "2025-T1" or "2025-01"."""
    start = period_start(when, period)
    if period == "year":
        return f"{start.year}"
    if period == "quarter":
        return f"{start.year}-T{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def parse_period(code: str) -> tuple:
    """Return ``(period, start, end)`` for a period code made by :func:`period_code`.

    Raises
    ------
    ValueError
        When ``code`` is not a year, quarter or month code.
    """
    s = str(code).strip()
    try:
        if len(s) == 4 and s.isdigit():
            period, start = "year", pd.Timestamp(int(s), 1, 1)
        elif len(s) == 7 and s[4:6] == "-T" and s[6] in "1234":
            period, start = "quarter", pd.Timestamp(int(s[:4]), 3 * (int(s[6]) - 1) + 1, 1)
        elif len(s) == 7 and s[4] == "-" and s[5:].isdigit() and 1 <= int(s[5:]) <= 12:
            period, start = "month", pd.Timestamp(int(s[:4]), int(s[5:]), 1)
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f"not a period code: {code!r} (expected 2025, 2025-T1 or 2025-01)") from None
    return period, start, period_end(start, period)


def assign_periods(dates: pd.Series, period: str) -> pd.Series:
    """Return the period code of each date (missing dates give ``<NA>``), as a string Series."""
    _check_period(period)
    d = pd.to_datetime(dates)
    if period == "year":
        out = d.dt.year.astype("Int64").astype("string")
    elif period == "quarter":
        out = d.dt.year.astype("Int64").astype("string") + "-T" + d.dt.quarter.astype("Int64").astype("string")
    else:
        out = d.dt.strftime("%Y-%m").astype("string")
    return out.mask(d.isna(), pd.NA)


def period_range(start, end, period: str) -> list:
    """Return the codes of every period from the one holding ``start`` to the one holding ``end``.

    An ``end`` before ``start`` gives an empty list.
    """
    _check_period(period)
    s, e = period_start(start, period), period_start(end, period)
    months = {"year": 12, "quarter": 3, "month": 1}[period]
    out = []
    while s <= e:
        out.append(period_code(s, period))
        s = s + pd.DateOffset(months=months)
    return out


def year_end(year: int) -> pd.Timestamp:
    """Return 31 December of ``year``."""
    return pd.Timestamp(int(year), 12, 31)


def elapsed_share(start, end, as_of) -> float:
    """Return the share (0 to 1) of the inclusive span ``start``–``end`` elapsed at ``as_of``.

    Days are counted inclusively: on ``end`` the share is 1, the day before ``start`` it is 0.
    A missing bound gives NaN.
    """
    try:
        s, e, a = to_timestamp(start), to_timestamp(end), to_timestamp(as_of)
    except ValueError:
        return float("nan")
    total = (e - s).days + 1
    if total <= 0:
        return float("nan")
    done = (a - s).days + 1
    return float(min(max(done / total, 0.0), 1.0))


def default_as_of(today: Optional[_dt.date] = None) -> pd.Timestamp:
    """Return today's date as a Timestamp (the default ``as_of`` of the command line)."""
    return pd.Timestamp(today or _dt.date.today())


def evaluated_as_of(year: int, data_as_of=None) -> pd.Timestamp:
    """Return the date the figures of an evaluated ``year`` are computed at.

    The one rule of the pack, the command line and the store: 31 December of ``year``, or
    the data's end (``data_as_of``) when it comes earlier.
    """
    end = year_end(int(year))
    if data_as_of is not None and not pd.isna(data_as_of):
        data_end = to_timestamp(data_as_of)
        if data_end < end:
            return data_end
    return end
