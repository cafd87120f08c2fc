"""Tests of fne_eval.evaluate.meteo on small inline tables (expected values computed by hand)."""
import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.meteo import (METEO_RULES, action_meteo, computed_status, evaluate_rules,
                            meteo_rules_table)


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


AS_OF = "2025-09-30"  # 2025-01-01 -> 2025-09-30 = 273 days of 365: 74.79 % elapsed


@pytest.fixture(scope="module")
def tables():
    codes = ["1.1", "1.2", "2.1", "3.1", "3.2"]
    act = typed("actions", [dict(action_code=c, axis_code=c[0], action_title=c, referents="r",
                                 start_date="2025-01-01", end_date="2025-12-31", source="s") for c in codes])
    task = lambda i, a, s, e: dict(task_id=i, action_code=a, task_label=i, planned_start=s, planned_end=e, source="s")
    tasks = typed("schedule_tasks", [
        task("K11", "1.1", "2025-01-01", "2025-03-31"),
        task("K12", "1.2", "2025-01-01", "2025-12-31"),
        task("K21", "2.1", "2025-01-01", "2025-12-31"),
        task("K32", "3.2", "2025-01-01", "2025-08-21"),
    ])
    st = lambda i, d, a: dict(task_id=i, status_date=d, status="in_progress", actual_start=a)
    status = typed("schedule_status", [st("K11", "2025-02-01", "2025-01-05"), st("K12", "2025-02-01", "2025-01-10"),
                                       st("K21", "2025-02-01", "2025-01-10"), st("K32", "2025-02-01", "2025-01-10")])
    line = lambda a: dict(budget_line_id=f"L{a}", action_code=a, line_label=a, funder="État - FNE", recipient="Hub",
                          planned_eur="1000", source="s")
    lines = typed("budget_lines", [line("1.1"), line("1.2"), line("2.1")])
    pay = lambda a, amount: dict(transaction_id=f"P{a}", budget_line_id=f"L{a}", date="2025-06-01", kind="payment",
                                 amount_eur=amount)
    tx = typed("budget_transactions", [pay("1.1", "748"), pay("1.2", "500"), pay("2.1", "750")])
    overrides = typed("meteo_overrides", [
        dict(action_code="3.2", decision_date="2025-07-01", status="green",
             justification="Retard accepté : report de l'exposition validé par le COPIL", decided_by="COPIL"),
        dict(action_code="3.2", decision_date="2025-10-15", status="red",
             justification="décision postérieure à la date d'évaluation", decided_by="COPIL"),
    ])
    terr = typed("territories", [dict(territory_code="13", territory_name="BdR", level="departement", in_scope="true", source="s"),
                                 dict(territory_code="13001", territory_name="Aix", level="commune", departement_code="13",
                                      in_scope="true", source="s")])
    return {"actions": act, "schedule_tasks": tasks, "schedule_status": status, "budget_lines": lines,
            "budget_transactions": tx, "meteo_overrides": overrides, "territories": terr}


@pytest.fixture(scope="module")
def meteo(tables):
    return action_meteo(tables, AS_OF).set_index("action_code")


def test_red_on_slippage(meteo):
    # K11 overdue: 2025-09-30 − 2025-03-31 = 183 days > 90 -> R1 (red); A1 is the same cause, milder
    r = meteo.loc["1.1"]
    assert r["computed_status"] == "red" and r["max_slippage_days"] == 183
    assert r["fired_rules"] == "R1" and not r["to_confirm"]
    (f,) = r["findings"]
    assert f["task_id"] == "K11" and f["days_overdue"] == 183
    assert f["planned_end"] == pd.Timestamp("2025-03-31")
    # budget: 748 / 1 000 = 74.8 % paid vs 74.79 % elapsed -> ratio ≈ 1.0, no budget rule
    assert r["burn_ratio"] == pytest.approx(74.8 / (273 / 365 * 100))
    assert "R2" not in r["fired_rules"] and "A3" not in r["fired_rules"]


def test_amber_on_burn(meteo):
    # 500 / 1 000 = 50 % paid vs 74.79 % elapsed -> ratio 0.669: < 0.8 (A3) but not < 0.5 (R2)
    r = meteo.loc["1.2"]
    assert r["computed_status"] == "amber" and r["fired_rules"] == "A3"
    assert r["burn_ratio"] == pytest.approx(50 / (273 / 365 * 100))
    assert r["findings"][0]["payment_rate_pct"] == pytest.approx(50.0)


def test_green_and_grey(meteo):
    # 2.1: on time, 75 % paid vs 74.79 % elapsed
    assert meteo.loc["2.1", "computed_status"] == "green" and meteo.loc["2.1", "findings"] == []
    # 3.1: no task, no budget line, no observed indicator -> grey
    assert meteo.loc["3.1", "computed_status"] == "grey"
    assert meteo.loc["3.1", "final_status"] == "grey"


def test_override(meteo):
    # K32 overdue by 2025-09-30 − 2025-08-21 = 40 days -> amber (A1); COPIL of 2025-07-01 says green,
    # the decision of 2025-10-15 is after as_of and ignored
    r = meteo.loc["3.2"]
    assert r["computed_status"] == "amber" and r["max_slippage_days"] == 40
    assert r["override_status"] == "green" and r["final_status"] == "green"
    assert r["override_date"] == pd.Timestamp("2025-07-01")
    assert r["override_justification"].startswith("Retard accepté")
    assert pd.isna(meteo.loc["1.1", "override_status"]) and meteo.loc["1.1", "final_status"] == "red"


def test_inferred_date_cannot_make_red_alone(tables):
    # the same 183-day overdue task, but its window was inferred at transcription: amber, to confirm
    t = dict(tables)
    tasks = t["schedule_tasks"].copy()
    tasks.loc[tasks["task_id"] == "K11", "source"] = "Annexe 5 ; fenêtre déduite du calendrier — à confirmer"
    t["schedule_tasks"] = tasks
    r = action_meteo(t, AS_OF).set_index("action_code").loc["1.1"]
    assert r["computed_status"] == "amber" and r["to_confirm"]
    assert r["findings"][0]["inferred"] and r["findings"][0]["rule_id"] == "R1"


def test_rules_on_metrics():
    # R3: > 75 % elapsed and an indicator under 25 % of its way
    fired = evaluate_rules({"elapsed_pct": 80.0, "min_progress_pct": 10.0})
    assert [r["rule_id"] for r in fired] == ["R3"]
    # A4 alone: one indicator off track
    status, findings, ids, to_confirm = computed_status({"n_indicators_off_track": 1}, has_data=True)
    assert status == "amber" and ids == "A4" and not to_confirm
    # NaN metrics never fire
    assert evaluate_rules({"burn_ratio": float("nan"), "elapsed_pct": 90.0}) == []


def test_rules_table():
    t = meteo_rules_table()
    assert len(t) == len(METEO_RULES) + 2
    assert t["rule_id"].is_unique
    assert set(t["status"]) == {"red", "amber", "green", "grey"}


def test_bad_rules_rejected(tables):
    with pytest.raises(ValueError):
        action_meteo(tables, AS_OF, rules=[{"rule_id": "X", "status": "red",
                                            "conditions": (("nonsense", ">", 1),)}])
