"""Tests of fne_eval.core.periods (bounds and labels computed by hand)."""
import pandas as pd
import pytest

from fne_eval.core.periods import (assign_periods, elapsed_share, parse_period, period_bounds, period_code,
                              period_range)
from fne_eval.report.format import period_label


def test_bounds_and_codes():
    assert period_bounds("2024-02-15", "month") == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-29"))
    assert period_bounds("2025-08-15", "quarter") == (pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30"))
    assert period_bounds("2025-08-15", "year") == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31"))
    assert period_code("2025-11-30", "quarter") == "2025-T4"
    assert period_code("2025-03-01", "month") == "2025-03"
    with pytest.raises(ValueError):
        period_code("2025-03-01", "week")


def test_parse_and_labels():
    assert parse_period("2025-T2") == ("quarter", pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"))
    assert period_label("2025-T1") == "T1 2025"
    assert period_label("2025-01") == "janv. 2025"
    assert period_label("2025") == "2025"
    for bad in ("2025-T5", "2025-13", "25", "2025Q1"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_assign_and_range():
    s = pd.Series(pd.to_datetime(["2025-01-31", "2025-04-01", None]))
    out = assign_periods(s, "quarter")
    assert out.iloc[0] == "2025-T1" and out.iloc[1] == "2025-T2" and pd.isna(out.iloc[2])
    assert list(assign_periods(s, "month").iloc[:2]) == ["2025-01", "2025-04"]
    # November 2023 to February 2024: 4 months; 2 years; end before start: nothing
    assert period_range("2023-11-01", "2024-02-10", "month") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert period_range("2023-11-01", "2024-02-10", "year") == ["2023", "2024"]
    assert period_range("2025-01-01", "2024-01-01", "year") == []


def test_elapsed_share():
    # 2025 has 365 days; on 2025-07-02, 183 days are elapsed (inclusive)
    assert elapsed_share("2025-01-01", "2025-12-31", "2025-07-02") == pytest.approx(183 / 365)
    assert elapsed_share("2025-01-01", "2025-12-31", "2024-12-31") == 0.0
    assert elapsed_share("2025-01-01", "2025-12-31", "2026-03-01") == 1.0
    assert pd.isna(elapsed_share(None, "2025-12-31", "2025-06-01"))
