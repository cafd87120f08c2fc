"""Tests of fne_eval.evaluate.completeness (hand-computed expected values)."""
import math

import pandas as pd
import pytest

from fne_eval.evaluate.completeness import reporting_completeness, totals_with_completeness

E1, E2 = "111111111", "222222222"


def tiny_bundle():
    S = "string"
    terr = pd.DataFrame([
        ("13", "BdR", "departement", None, None, None),
        (E1, "E1", "epci", None, None, None),
        (E2, "E2", "epci", None, None, None),
        ("13055", "Marseille", "commune", "13", E1, None),
        ("13201", "Marseille 1er", "arrondissement", "13", E1, "13055"),
        ("13001", "A", "commune", "13", E1, None),
        ("13004", "B", "commune", "13", E2, None),
    ], columns=["territory_code", "territory_name", "level", "departement_code", "epci_siren",
                "commune_code"]).astype(S)
    # lieux: L1, L2 in 13201; L3 in 13001; L4 coded 13055; 13004 has no lieu
    lieux = pd.DataFrame({"id": ["L1", "L2", "L3", "L4"],
                          "territory_code": ["13201", "13201", "13001", "13055"]}).astype(S)
    acts = pd.DataFrame({
        "date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-05-01", "2025-01-10", "2025-02-10",
                                "2025-03-01"]),
        "lieu_id": pd.array(["L1", "L1", "L3", "L1", "L4", "LX"], dtype=S),
        "mediator_id": pd.array(["M1", "M1", "M2", "M1", "M3", "M9"], dtype=S),
        "participants": [1, 3, 2, 6, 1, 4],
        "beneficiary_commune_code": pd.array(["13201", "13201", "13001", "13201", "13004", "13004"], dtype=S),
    })
    return {"territories": terr, "lieux": lieux, "activities": acts}


def _get(df, level, code, period, col):
    return df.set_index(["level", "territory_code", "period"]).loc[(level, code, period), col]


def test_lieu_completeness_per_year_and_level():
    r = reporting_completeness(tiny_bundle(), period="year")
    # 2024: L1 and L3 reported. E1 expects L1, L2, L3, L4 = 4 -> 2/4 = 50 %
    assert _get(r, "epci", E1, "2024", "n_expected") == 4
    assert _get(r, "epci", E1, "2024", "reporting_rate_pct") == pytest.approx(50.0)
    # 2025: L1, L4 (LX unknown, not attributed) -> 2/4 = 50 %; 13055: L1, L2, L4 -> L1, L4 = 2/3
    assert _get(r, "commune", "13055", "2025", "reporting_rate_pct") == pytest.approx(200 / 3)
    assert _get(r, "arrondissement", "13201", "2025", "n_reporting") == 1  # L4 is not in 13201
    # B (13004) has no lieu: zero denominator -> missing rate, not 0 or an error
    assert _get(r, "commune", "13004", "2024", "n_expected") == 0
    assert math.isnan(_get(r, "commune", "13004", "2024", "reporting_rate_pct"))
    assert _get(r, "departement", "13", "2024", "n_expected") == 4


def test_empty_period_has_zero_reporting():
    r = reporting_completeness(tiny_bundle(), level="departement", period="quarter")
    # quarters 2024-T1 .. 2025-T1 = 5; 2024-T3 and 2024-T4 have no activity -> 0 / 4
    assert r["period"].tolist() == ["2024-T1", "2024-T2", "2024-T3", "2024-T4", "2025-T1"]
    assert _get(r, "departement", "13", "2024-T3", "n_reporting") == 0
    assert _get(r, "departement", "13", "2024-T3", "reporting_rate_pct") == 0.0
    # 2024-T1: L1 only -> 1/4
    assert _get(r, "departement", "13", "2024-T1", "reporting_rate_pct") == pytest.approx(25.0)


def test_mediator_completeness():
    r = reporting_completeness(tiny_bundle(), level="epci", period="year", reporter="mediator")
    # mediators seen: M1 (13201), M2 (13001), M3 (13055) -> all E1; M9 reports from an unknown lieu
    assert _get(r, "epci", E1, "2024", "n_expected") == 3
    assert _get(r, "epci", E1, "2025", "n_reporting") == 2  # M1, M3
    assert _get(r, "epci", E2, "2025", "n_expected") == 0


def test_empty_inputs_and_bad_options():
    b = tiny_bundle()
    b["activities"] = b["activities"].iloc[:0]
    assert reporting_completeness(b).empty
    r = reporting_completeness(b, level="epci", start="2025-01-01", end="2025-12-31")
    assert r["n_reporting"].tolist() == [0, 0]
    with pytest.raises(ValueError):
        reporting_completeness(tiny_bundle(), level="region")
    with pytest.raises(ValueError):
        reporting_completeness(tiny_bundle(), period="week")
    with pytest.raises(ValueError):
        reporting_completeness(tiny_bundle(), reporter="structure")


def test_totals_with_completeness_sentence():
    t = totals_with_completeness(tiny_bundle(), E1, start="2024-01-01", end="2024-12-31").iloc[0]
    # 2024, beneficiaries in E1: 3 activities, 1 + 3 + 2 = 6 people; lieux L1, L3 of 4
    assert t["n_activities"] == 3 and t["participants"] == 6
    assert t["reporting_rate_pct"] == pytest.approx(50.0)
    assert t["text"].replace("\xa0", " ") == "moins de 5 accompagnements (taux de remontée : 50,0 %)"
    t2 = totals_with_completeness(tiny_bundle(), "13004", threshold=1).iloc[0]
    assert t2["n_activities"] == 2 and "non calculable" in t2["text"]  # no lieu in B
    lieu_geo = totals_with_completeness(tiny_bundle(), "13055", geography="lieu").iloc[0]
    assert lieu_geo["n_activities"] == 4  # L1 x3 + L4
    with pytest.raises(ValueError):
        totals_with_completeness(tiny_bundle(), "13", geography="moon")
    with pytest.raises(ValueError):
        totals_with_completeness(tiny_bundle(), "99999")
