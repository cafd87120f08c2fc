"""Tests of fne_eval.evaluate.indicators on a small inline bundle (expected values computed by hand).

Toy hierarchy: département 13 → EPCI 200000001 (communes 13001 and 13055, the latter with
arrondissements 13201, 13202) and EPCI 200000002 (commune 13002).
Populations 2021: 13001 = 1 000, 13201 = 2 000, 13202 = 3 000, 13002 = 4 000
→ EPCI A = 6 000, EPCI B = 4 000, département = 10 000.
Exposed communes (Annexe 3): 13202 (500 fragile persons), 13002 (1 000).
"""
import math

import pandas as pd
import pytest
from scipy.special import gammaincinv

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.indicators import (DEFINITIONS, indicator_progress, indicator_values, load_catalogue,
                                 poisson_ci, wilson_ci)

A, B = "200000001", "200000002"


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


@pytest.fixture(scope="module")
def tables():
    terr = lambda code, level, **kw: dict(territory_code=code, territory_name=f"T{code}", level=level,
                                          in_scope="true", source="test", **kw)
    t = {
        "territories": typed("territories", [
            terr("13", "departement"),
            terr(A, "epci"), terr(B, "epci"),
            terr("13001", "commune", departement_code="13", epci_siren=A),
            terr("13055", "commune", departement_code="13", epci_siren=A),
            terr("13201", "arrondissement", departement_code="13", epci_siren=A, commune_code="13055"),
            terr("13202", "arrondissement", departement_code="13", epci_siren=A, commune_code="13055"),
            terr("13002", "commune", departement_code="13", epci_siren=B),
        ]),
        "populations": typed("populations", [
            dict(territory_code=c, year=2021, population=p, source="test")
            for c, p in [("13001", 1000), ("13201", 2000), ("13202", 3000), ("13002", 4000)]]),
        "exposed_communes": typed("exposed_communes", [
            dict(row_number=1, printed_name="M2", printed_population=3000, printed_ifn=6, printed_fragile_population=500,
                 printed_share_pct=17, is_total_row="false", territory_code="13202"),
            dict(row_number=2, printed_name="C2", printed_population=4000, printed_ifn=7, printed_fragile_population=1000,
                 printed_share_pct=25, is_total_row="false", territory_code="13002"),
            dict(row_number=3, printed_name="Moyenne", printed_population=7000, printed_ifn=6, printed_fragile_population=1500,
                 printed_share_pct=21, is_total_row="true"),
        ]),
        "activities": typed("activities", [
            dict(activity_id=i, date=d, activity_type="individuel", place_type="lieu_activite", participants=p,
                 duration_min=60, themes="email", beneficiary_commune_code=c, age_band="non_communique",
                 gender="non_communique", social_status="non_communique")
            for i, d, c, p in [("a1", "2025-02-01", "13201", 3), ("a2", "2025-03-01", "13202", 5),
                               ("a3", "2025-04-01", "13002", 2), ("a4", "2025-05-01", None, 10),
                               ("a5", "2024-06-01", "13001", 4), ("a6", "2025-06-01", "13055", 1),
                               ("a7", "2025-08-01", "13001", 50)]]),  # a7 after as_of
        "lieux": typed("lieux", [
            dict(id=i, nom=i, commune="x", code_postal="13000", territory_code=c, date_maj=d)
            for i, c, d in [("l1", "13001", "2025-01-01"), ("l2", "13201", "2023-06-01"), ("l3", "13201", "2025-03-01")]]),
        "trainings": typed("trainings", [
            dict(training_id="t1", date="2024-10-01", training_type="aidants_connect", structure_type="association",
                 commune_code="13001", departures=5, funded_by_training_fund="true"),
            dict(training_id="t2", date="2025-01-15", training_type="aidants_connect", structure_type="association",
                 departures=7, funded_by_training_fund="true"),
            dict(training_id="t3", date="2025-03-01", training_type="autre", structure_type="collectivite",
                 commune_code="13002", departures=4, funded_by_training_fund="false"),
        ]),
        "actions": typed("actions", [dict(action_code="1.1", axis_code="1", action_title="a", referents="r",
                                          start_date="2024-01-01", end_date="2025-12-31", source="s")]),
        "budget_lines": typed("budget_lines", [
            dict(budget_line_id="L1", action_code="1.1", line_label="l", funder="État - FNE", recipient="Hub", planned_eur="1000", source="s"),
            dict(budget_line_id="FF", line_label="fonds", funder="État - FNE", recipient="Hub", target_departures=60, source="s")]),
        "budget_transactions": typed("budget_transactions", [
            dict(transaction_id="x1", budget_line_id="L1", date="2024-05-01", kind="commitment", amount_eur="500"),
            dict(transaction_id="x2", budget_line_id="L1", date="2025-02-01", kind="payment", amount_eur="250")]),
        "schedule_tasks": typed("schedule_tasks", [dict(task_id="K1", action_code="1.1", task_label="k",
                                                        planned_start="2025-01-01", planned_end="2025-03-31", source="s")]),
        "schedule_status": typed("schedule_status", [dict(task_id="K1", status_date="2025-04-10", status="done",
                                                          actual_start="2025-01-02", actual_end="2025-04-10")]),
        "events": typed("events", [
            dict(event_id="e1", date="2025-10-01", action_code="3.1", event_type="evenement", title="x",
                 venue_commune_code="13001", participants=80)]),
    }
    return t


AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def dept(tables, catalogue):
    return indicator_values(tables, catalogue, "departement", as_of=AS_OF)


@pytest.fixture(scope="module")
def epci(tables, catalogue):
    return indicator_values(tables, catalogue, "epci", as_of=AS_OF)


def pick(df, code, terr, period):
    r = df[(df.indicator_code == code) & (df.territory_code == terr) & (df.period == period)]
    assert len(r) == 1, (code, terr, period, len(r))
    return r.iloc[0]


def test_catalogue_is_complete(catalogue):
    # every catalogue row has a definition and vice versa; codes are unique strings
    assert set(catalogue["indicator_code"]) == set(DEFINITIONS)
    assert catalogue["indicator_code"].is_unique
    # the only seed target: 60 departures by 2027, cited
    tf = catalogue.set_index("indicator_code").loc["TRAINING_FUND_DEPARTURES_CUM"]
    assert tf["target_2027"] == 60 and "annexe 6" in tf["target_source"]
    # targets not in the seed are flagged as proposals
    for _, r in catalogue.iterrows():
        if not pd.isna(r["target_2026"]) and "Feuille de route" not in str(r["target_source"]).split(";")[0]:
            assert "proposition fne-eval, à valider en COPIL" in r["target_source"]


def test_periods_and_columns(dept):
    assert list(dept.columns[:11]) == ["indicator_code", "territory_code", "level", "period", "value", "numerator",
                                       "denominator", "ci_lower", "ci_upper", "n_obs", "unit"]
    # roadmap starts November 2023; as_of 2025-06-30 -> 2023, 2024, 2025
    assert sorted(dept.loc[dept.indicator_code == "ACC_N", "period"]) == ["2023", "2024", "2025"]


def test_accompaniments_counts(dept, epci):
    # 2025 up to 2025-06-30: 3 + 5 + 2 + 10 (no commune) + 1 (13055) = 21 ; a7 is after as_of
    r = pick(dept, "ACC_N", "13", "2025")
    assert r["value"] == 21 and r["n_obs"] == 5
    assert pick(dept, "ACC_N", "13", "2024")["value"] == 4
    # empty period: 0 and n_obs 0
    r = pick(dept, "ACC_N", "13", "2023")
    assert r["value"] == 0 and r["n_obs"] == 0
    # EPCI A: 3 + 5 + 1 = 9 ; EPCI B: 2 (the 10 without commune only count for the département)
    assert pick(epci, "ACC_N", A, "2025")["value"] == 9
    assert pick(epci, "ACC_N", B, "2025")["value"] == 2


def test_accompaniments_per_1000(dept, epci):
    r = pick(dept, "ACC_PER_1000", "13", "2025")
    # 21 / 10 000 × 1 000 = 2.1, population millésime 2021 (the only one)
    assert r["value"] == pytest.approx(2.1) and r["denominator"] == 10000 and r["population_year"] == 2021
    # exact Poisson interval via the gamma quantiles (independent formula): G⁻¹(k, .025), G⁻¹(k+1, .975)
    assert r["ci_lower"] == pytest.approx(gammaincinv(21, 0.025) / 10)
    assert r["ci_upper"] == pytest.approx(gammaincinv(22, 0.975) / 10)
    assert r["ci_lower"] < r["value"] < r["ci_upper"]
    # EPCI B: 2 / 4 000 × 1 000 = 0.5
    assert pick(epci, "ACC_PER_1000", B, "2025")["value"] == pytest.approx(0.5)


def test_exposed_share_and_rate(dept, epci):
    r = pick(dept, "ACC_EXPOSED_SHARE_PCT", "13", "2025")
    # exposed residents: 5 (13202) + 2 (13002) = 7 ; known residence: 3 + 5 + 2 + 1 = 11 -> 63.64 %
    assert r["numerator"] == 7 and r["denominator"] == 11
    assert r["value"] == pytest.approx(700 / 11)
    # Wilson by hand: p = 7/11, z = 1.959964, centre = (p + z²/2n)/(1 + z²/n), half = z√(p(1-p)/n + z²/4n²)/(1 + z²/n)
    n, p, z = 11, 7 / 11, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert r["ci_lower"] == pytest.approx(100 * (centre - half)) and r["ci_upper"] == pytest.approx(100 * (centre + half))
    # empty period: no denominator -> NaN (not inf), n_obs 0
    r = pick(dept, "ACC_EXPOSED_SHARE_PCT", "13", "2023")
    assert math.isnan(r["value"]) and r["n_obs"] == 0 and math.isnan(r["ci_lower"])
    # per 1 000 exposed: 7 / (500 + 1 000) × 1 000 = 4.667 ; EPCI A: 5 / 500 × 1 000 = 10
    assert pick(dept, "ACC_PER_1000_EXPOSED", "13", "2025")["value"] == pytest.approx(7000 / 1500)
    assert pick(epci, "ACC_PER_1000_EXPOSED", A, "2025")["value"] == pytest.approx(10.0)


def test_lieux(dept, epci):
    # snapshot = latest date_maj 2025-03-01 -> period 2025 only
    assert list(dept.loc[dept.indicator_code == "LIEUX_N", "period"]) == ["2025"]
    assert pick(dept, "LIEUX_N", "13", "2025")["value"] == 3
    # per 10 000: 3 / 10 000 × 10 000 = 3.0 ; a census: no interval
    r = pick(dept, "LIEUX_PER_10K", "13", "2025")
    assert r["value"] == pytest.approx(3.0) and math.isnan(r["ci_lower"])
    # territory with no lieu: EPCI B -> 0 lieux, 0 per 10 000 (population 4 000 > 0)
    assert pick(epci, "LIEUX_N", B, "2025")["value"] == 0
    assert pick(epci, "LIEUX_PER_10K", B, "2025")["value"] == 0
    # freshness: l2 (2023-06-01) is more than 365 days before 2025-03-01 -> 2/3 ; EPCI B 0/0 -> NaN
    assert pick(dept, "LIEUX_FRESH_PCT", "13", "2025")["value"] == pytest.approx(200 / 3)
    assert math.isnan(pick(epci, "LIEUX_FRESH_PCT", B, "2025")["value"])


def test_training_cumulative(dept, epci):
    # funded departures: 5 in 2024, + 7 in 2025 -> cumulative 5 then 12
    assert pick(dept, "TRAINING_FUND_DEPARTURES_CUM", "13", "2024")["value"] == 5
    assert pick(dept, "TRAINING_FUND_DEPARTURES_CUM", "13", "2025")["value"] == 12
    assert pick(dept, "TRAINING_FUND_DEPARTURES_CUM", "13", "2023")["value"] == 0
    # EPCI A holds only t1 (t2 has no commune)
    assert pick(epci, "TRAINING_FUND_DEPARTURES_CUM", A, "2025")["value"] == 5
    assert pick(dept, "TRAINING_COLLECTIVITE_CUM", "13", "2025")["value"] == 4


def test_budget_and_tasks_departement_only(dept, epci):
    # commitment: 500 / 1 000 = 50 % from 2024 on ; payment 250 / 1 000 = 25 % in 2025, 0 % in 2024
    assert pick(dept, "BUDGET_COMMITMENT_RATE_PCT", "13", "2024")["value"] == pytest.approx(50.0)
    assert pick(dept, "BUDGET_PAYMENT_RATE_PCT", "13", "2024")["value"] == pytest.approx(0.0)
    assert pick(dept, "BUDGET_PAYMENT_RATE_PCT", "13", "2025")["value"] == pytest.approx(25.0)
    # the only task (due 2025-03-31) ended 2025-04-10: 0 of 1 on time in 2025; none due in 2024 -> NaN
    assert pick(dept, "TASKS_ON_TIME_PCT", "13", "2025")["value"] == 0
    assert math.isnan(pick(dept, "TASKS_ON_TIME_PCT", "13", "2024")["value"])
    assert not epci["indicator_code"].isin(["BUDGET_PAYMENT_RATE_PCT", "TASKS_ON_TIME_PCT"]).any()


def test_event_after_as_of_is_ignored(dept):
    # e1 is on 2025-10-01, after as_of
    assert pick(dept, "EVT_PART_3_1", "13", "2025")["value"] == 0


def test_quarters_and_commune_level(tables, catalogue):
    q = indicator_values(tables, catalogue[catalogue.indicator_code == "ACC_N"], "commune",
                         period="quarter", as_of=AS_OF, start="2025-01-01")
    # 13055 = its arrondissements + rows keyed 13055: Q1 3 + 5 = 8, Q2 1
    assert pick(q, "ACC_N", "13055", "2025-T1")["value"] == 8
    assert pick(q, "ACC_N", "13055", "2025-T2")["value"] == 1
    assert set(q["period"]) == {"2025-T1", "2025-T2"}


def test_unknown_options(tables, catalogue):
    with pytest.raises(ValueError):
        indicator_values(tables, catalogue, "region")
    with pytest.raises(ValueError):
        indicator_values(tables, catalogue, "epci", period="week")


def test_unknown_indicator_shows_absence(tables, catalogue):
    extra = catalogue.iloc[:1].copy()
    extra["indicator_code"] = "NOT_DEFINED"
    out = indicator_values(tables, extra, "departement", as_of=AS_OF)
    assert out["value"].isna().all() and (out["n_obs"] == 0).all() and len(out) == 3


def test_intervals():
    # k = 0: lower 0, upper = -ln(0.025) = 3.689
    assert poisson_ci(0) == (0.0, pytest.approx(-math.log(0.025)))
    assert all(math.isnan(x) for x in wilson_ci(0, 0))


def test_progress():
    cat = typed("indicators", [
        dict(indicator_code="X", label="x", kind="output", unit="n", numerator="n", direction="higher", aggregation="sum",
             baseline_value=10, baseline_date="2024-12-31", target_2025=20, target_2026=30),
        dict(indicator_code="Y", label="y", kind="output", unit="n", numerator="n", direction="lower", aggregation="sum",
             baseline_value=50, baseline_date="2024-12-31", target_2025=30),
        dict(indicator_code="Z", label="z", kind="output", unit="n", numerator="n", direction="higher", aggregation="sum"),
    ])
    row = lambda code, period, value, n=1: dict(indicator_code=code, territory_code="13", level="departement",
                                                period=period, value=value, n_obs=n,
                                                period_start=pd.Timestamp(f"{period}-01-01"),
                                                period_end=pd.Timestamp(f"{period}-12-31"))
    values = pd.DataFrame([row("X", "2024", 9), row("X", "2025", 14), row("X", "2026", 99),
                           row("Y", "2025", 39), row("Z", "2024", 0, n=0), row("Z", "2025", 7)])
    out = indicator_progress(values, cat, "2025-07-02").set_index("indicator_code")
    # X: period 2026 starts after as_of -> value 14 ; progress (14 − 10)/(20 − 10) = 40 %
    # expected: 10 + 10 × 183/365 (2024-12-31 -> 2025-07-02 is 183 days of 365) = 15.01 -> not on track
    assert out.loc["X", "value"] == 14 and out.loc["X", "target_year"] == 2025
    assert out.loc["X", "progress_pct"] == pytest.approx(40.0)
    assert out.loc["X", "expected_value"] == pytest.approx(10 + 10 * 183 / 365)
    assert not out.loc["X", "on_track"]
    # Y (lower is better): (50 − 39)/(50 − 30) = 55 % ; expected 50 − 20 × 183/365 = 39.97 ; 39 <= 39.97 -> on track
    assert out.loc["Y", "progress_pct"] == pytest.approx(55.0)
    assert out.loc["Y", "on_track"]
    # Z: no catalogue baseline -> first period with observations (2025, value 7); no target
    assert out.loc["Z", "baseline_origin"] == "first_observed" and out.loc["Z", "baseline_value"] == 7
    assert math.isnan(out.loc["Z", "progress_pct"]) and pd.isna(out.loc["Z", "on_track"])
    # in 2026, X is judged against its 2026 target (30)
    out26 = indicator_progress(values, cat, "2026-12-31").set_index("indicator_code")
    # value 99, progress (99 − 10)/(30 − 10) = 445 %
    assert out26.loc["X", "target_value"] == 30 and out26.loc["X", "progress_pct"] == pytest.approx(445.0)


def test_progress_of_a_flow_uses_the_last_complete_period():
    cat = typed("indicators", [
        dict(indicator_code="EVT_N_3_1", label="x", kind="output", unit="n", numerator="n", direction="higher",
             aggregation="sum", baseline_value=1, baseline_date="2024-12-31", target_2025=3, target_2026=5),
        dict(indicator_code="TRAINING_FUND_DEPARTURES_CUM", label="x", kind="output", unit="n", numerator="n",
             direction="higher", aggregation="sum", baseline_value=0, baseline_date="2024-12-31", target_2026=40)])
    row = lambda code, period, value: dict(indicator_code=code, territory_code="13", level="departement",
                                           period=period, value=value, n_obs=1,
                                           period_start=pd.Timestamp(f"{period}-01-01"),
                                           period_end=pd.Timestamp(f"{period}-12-31"))
    values = pd.DataFrame([row("EVT_N_3_1", "2025", 2), row("EVT_N_3_1", "2026", 0),
                           row("TRAINING_FUND_DEPARTURES_CUM", "2025", 10), row("TRAINING_FUND_DEPARTURES_CUM", "2026", 30)])
    out = indicator_progress(values, cat, "2026-06-30").set_index("indicator_code")
    # a flow: 2026 is under way, so 2025 (value 2) is judged against the 2025 target 3:
    # progress (2 − 1)/(3 − 1) = 50 %, expected at 2025-12-31 = 3 -> not on track
    r = out.loc["EVT_N_3_1"]
    assert r["period"] == "2025" and r["value"] == 2 and r["target_value"] == 3
    assert r["progress_pct"] == pytest.approx(50.0) and r["evaluated_at"] == pd.Timestamp("2025-12-31")
    # a cumulative count is judged now: 30 of 40 = 75 %; expected 0 + 40 × 546/730
    # (2024-12-31 -> 2026-06-30 is 546 days of the 730 to 2026-12-31)
    r = out.loc["TRAINING_FUND_DEPARTURES_CUM"]
    assert r["period"] == "2026" and r["progress_pct"] == pytest.approx(75.0)
    assert r["expected_value"] == pytest.approx(40 * 546 / 730) and r["on_track"]


def test_territories_must_be_of_the_level(tables, catalogue):
    with pytest.raises(ValueError, match="not of level"):
        indicator_values(tables, catalogue, "epci", territories=["13001"], as_of=AS_OF)
    out = indicator_values(tables, catalogue[catalogue.indicator_code == "ACC_N"], "epci", territories=[B], as_of=AS_OF)
    assert set(out["territory_code"]) == {B}


def test_empty_period_rates_are_nan_but_true_zeros_stay(dept, epci):
    # 2023 has no activity at all: counts 0, rates NaN (no interval), n_obs 0
    r = pick(dept, "ACC_PER_1000", "13", "2023")
    assert math.isnan(r["value"]) and math.isnan(r["ci_upper"]) and r["n_obs"] == 0 and r["denominator"] == 10000
    assert math.isnan(pick(dept, "ACC_PER_1000_EXPOSED", "13", "2023")["value"])
    # 2024 has one activity (13001, EPCI A): EPCI B has a true 0 per 1 000 with a Poisson upper bound
    # of −ln(0.025) / 4 000 × 1 000 = 0.922
    r = pick(epci, "ACC_PER_1000", B, "2024")
    assert r["value"] == 0 and r["ci_upper"] == pytest.approx(-math.log(0.025) / 4)
