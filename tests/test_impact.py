"""Tests of fne_eval.evaluate.impact: constant-perimeter trend and difference in differences."""
import math

import numpy as np
import pandas as pd
import pytest

from fne_eval.evaluate.impact import DID_COLUMNS, TREND_COLUMNS, build_panel, did_estimate, simulate_panel, trend

E1, E2 = "111111111", "222222222"


def tiny_territories():
    return pd.DataFrame([
        ("13", "BdR", "departement", None, None, None, True),
        (E1, "E1", "epci", None, None, None, True),
        (E2, "E2", "epci", None, None, None, True),
        ("13055", "Marseille", "commune", "13", E1, None, True),
        ("13201", "M1", "arrondissement", "13", E1, "13055", True),
        ("13202", "M2", "arrondissement", "13", E1, "13055", True),
        ("13001", "A", "commune", "13", E1, None, True),
        ("13004", "B", "commune", "13", E2, None, True),
    ], columns=["territory_code", "territory_name", "level", "departement_code", "epci_siren",
                "commune_code", "in_scope"]).astype({"territory_code": "string", "level": "string",
                                                      "departement_code": "string", "epci_siren": "string",
                                                      "commune_code": "string"})


def acts(rows):
    return pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]),
                         "beneficiary_commune_code": pd.array([r[1] for r in rows], dtype="string"),
                         "participants": [r[2] for r in rows]})


ROWS = [("2024-03-01", "13201", 10), ("2024-06-01", "13202", 5), ("2024-09-01", "13001", 4),
        ("2025-03-01", "13201", 20), ("2025-05-01", "13004", 7), ("2025-12-31", "13001", 6)]


def _row(df, level, code, period):
    return df.set_index(["level", "territory_code", "period"]).loc[(level, code, period)]


def test_trend_same_perimeter():
    tr = trend(acts(ROWS), tiny_territories(), ("epci", "departement"), freq="year")
    e1 = _row(tr, "epci", E1, "2025")
    # 2025 units of E1: 13201, 13001; 2024: 13201, 13202, 13001 -> common 13201, 13001
    # same perimeter: 20 + 6 = 26 vs 10 + 4 = 14 -> +85.71 %; 13202 dropped
    assert e1["participants"] == 26
    assert e1["participants_same_perimeter"] == 26 and e1["previous_same_perimeter"] == 14
    assert e1["change_pct"] == pytest.approx((26 / 14 - 1) * 100)
    assert (e1["n_units"], e1["n_units_common"], e1["n_units_dropped"]) == (2, 2, 1)
    assert not e1["is_partial"]
    dep = _row(tr, "departement", "13", "2025")
    # 33 in all (20 + 7 + 6); 13202 (gone) and 13004 (new) left out of the comparison
    assert dep["participants"] == 33 and dep["participants_same_perimeter"] == 26
    assert dep["n_units_dropped"] == 2
    first = _row(tr, "departement", "13", "2024")
    assert math.isnan(first["change_pct"]) and pd.isna(first["n_units_dropped"])


def test_trend_partial_last_period_cut_a_year_earlier():
    rows = [("2024-03-01", "13201", 10), ("2024-09-01", "13201", 100),
            ("2025-03-01", "13201", 20), ("2025-06-30", "13201", 1)]
    tr = trend(acts(rows), tiny_territories(), "departement")
    r = _row(tr, "departement", "13", "2025")
    # data end 2025-06-30: 2024 cut at 2024-06-30 -> 10; 2025: 21 -> +110 %
    assert r["is_partial"] and r["previous_same_perimeter"] == 10
    assert r["change_pct"] == pytest.approx(110.0)


def test_trend_quarter_compares_same_quarter_previous_year():
    tr = trend(acts(ROWS), tiny_territories(), "departement", freq="quarter")
    r = _row(tr, "departement", "13", "2025-T1")
    # 2025-T1: 13201 20 vs 2024-T1: 13201 10 -> +100 %
    assert r["previous_period"] == "2024-T1" and r["change_pct"] == pytest.approx(100.0)


def test_trend_empty_and_bad_options():
    t = tiny_territories()
    assert list(trend(acts([]), t, "epci").columns) == TREND_COLUMNS
    assert trend(acts(ROWS), t, "epci", start="2030-01-01").empty
    with pytest.raises(ValueError):
        trend(acts(ROWS), t, "epci", freq="week")
    with pytest.raises(ValueError):
        trend(acts(ROWS), t, "region")


def test_did_exact_on_noise_free_panel():
    # 4 units x 4 quarters, y = unit + period + 3 x treated x post, no noise -> estimate 3
    rows = []
    starts = pd.date_range("2024-01-01", periods=4, freq="QS")
    for i, u in enumerate(["A", "B", "C", "D"]):
        for t, s in enumerate(starts):
            y = 10 * i + 2 * t + (3.0 if (u in ("A", "B") and t >= 2) else 0.0)
            rows.append((u, f"P{t}", s, y))
    panel = pd.DataFrame(rows, columns=["unit_code", "period", "period_start", "accompaniments_per_1000"])
    panel["accompaniments_per_1000"] = panel["accompaniments_per_1000"].astype("Float64")  # nullable input
    r = did_estimate(panel, treated_units=["A", "B"], start_date="2024-07-01").iloc[0]
    assert r["estimate"] == pytest.approx(3.0)
    assert (r["n_obs"], r["n_units"], r["n_treated"]) == (16, 4, 2)
    assert "HC1" in r["method"] and "HC1" in r["caveat"]  # 4 clusters < 20
    assert "Peu d'unités exposées" in r["caveat"]
    assert "courte" in r["caveat"]  # 2 pre periods
    assert list(did_estimate(panel, ["A", "B"], "2024-07-01").columns) == DID_COLUMNS


def test_did_recovers_known_effect_and_covers_zero():
    eff = simulate_panel(n_units=60, n_periods=12, effect=2.0, seed=7)
    r = did_estimate(eff).iloc[0]
    assert r["ci_lower"] <= 2.0 <= r["ci_upper"]
    assert r["ci_lower"] > 0  # the effect is detected
    assert "groupées par unité" in r["method"]
    null = did_estimate(simulate_panel(n_units=60, n_periods=12, effect=0.0, seed=8)).iloc[0]
    assert null["ci_lower"] <= 0.0 <= null["ci_upper"]
    assert not null["caveat"].startswith("Données synthétiques")
    assert did_estimate(simulate_panel(60, 12, 0.0, seed=8), synthetic=True)["caveat"].iloc[0].startswith(
        "Données synthétiques")


def test_did_flags_diverging_pre_trends():
    rng = np.random.default_rng(0)
    starts = pd.date_range("2023-01-01", periods=10, freq="QS")
    rows = []
    for i in range(40):
        treated = i < 15
        for t, s in enumerate(starts):
            y = i + t + (1.5 * t if treated else 0) + rng.normal(0, 0.3)
            rows.append((f"U{i}", f"P{t:02d}", s, y))
    panel = pd.DataFrame(rows, columns=["unit_code", "period", "period_start", "accompaniments_per_1000"])
    r = did_estimate(panel, [f"U{i}" for i in range(15)], starts[6]).iloc[0]
    assert r["pre_trend_p_value"] < 0.05
    assert "tendances avant le démarrage diffèrent" in r["caveat"]


def test_did_not_estimable_gives_empty_frame():
    panel = simulate_panel(10, 6, 0.0, seed=1)
    assert did_estimate(panel, treated_units=[], start_date=panel.attrs["start_date"]).empty
    assert did_estimate(panel, start_date="2030-01-01").empty  # no post period
    with pytest.raises(ValueError):
        did_estimate(panel, outcome="happiness")
    with pytest.raises(ValueError):
        did_estimate(panel, cluster="epci")


def test_build_panel_balanced_and_rate():
    terr = tiny_territories()
    pops = pd.DataFrame({"territory_code": ["13201", "13202", "13001", "13004"], "year": 2023,
                         "population": [1000, 2000, 500, 0]})
    b = {"territories": terr, "populations": pops, "activities": acts(ROWS)}
    p = build_panel(b, freq="year")
    # units with population > 0: 13201, 13202, 13001; years 2024, 2025 (2025 ends 31/12: complete)
    assert len(p) == 6
    r = p.set_index(["unit_code", "period"]).loc[("13201", "2025")]
    assert r["accompaniments_per_1000"] == pytest.approx(20 / 1000 * 1000)
    assert p.set_index(["unit_code", "period"]).loc[("13202", "2025"), "participants"] == 0


def test_did_on_synthetic_bundle_says_so(default_bundle):
    r = did_estimate(default_bundle, start_date="2024-10-01")
    assert len(r) == 1
    assert r["caveat"].iloc[0].startswith("Données synthétiques")
    assert r["n_treated"].iloc[0] == 23  # Annexe 3: 23 communes and arrondissements


def test_trend_partial_first_period_compared_on_same_dates():
    rows = [("2023-11-15", "13201", 10), ("2024-03-01", "13201", 100), ("2024-12-01", "13201", 7)]
    tr = trend(acts(rows), tiny_territories(), "departement")
    r = _row(tr, "departement", "13", "2024")
    # data start 2023-11-15: 2024 is compared from 2024-11-15 only: 7 vs 10 -> -30 %
    assert r["participants"] == 107
    assert r["participants_same_perimeter"] == 7 and r["previous_same_perimeter"] == 10
    assert r["change_pct"] == pytest.approx(-30.0)
