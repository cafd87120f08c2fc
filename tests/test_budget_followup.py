"""A bundle without budget follow-up (no transaction at all) gets no verdict on its payments.

« fne-eval bundle init » writes the roadmap's planned amounts (annexe 6) and an empty
``budget_transactions`` table: nothing is known to be paid, which is not « 0 % paid ».
The budget report and the COPIL dossier used to label the 10 actions « en retard »
(and the météo read a burn ratio of 0). Expected values are worked out by hand in the
comments from the inline frames of tests/test_budget.py.
"""
import html
import re

import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.budget import budget_burn, has_followup
from fne_eval.evaluate.meteo import action_meteo

AS_OF = "2025-07-02"


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


def _tables(transactions):
    actions = typed("actions", [
        {"action_code": "1.1", "axis_code": "1", "action_title": "A", "referents": "X",
         "start_date": "2024-01-01", "end_date": "2024-12-31", "source": "s"},
        {"action_code": "1.2", "axis_code": "1", "action_title": "B", "referents": "X",
         "start_date": "2025-01-01", "end_date": "2026-12-31", "source": "s"}])
    lines = typed("budget_lines", [
        {"budget_line_id": "L1", "action_code": "1.1", "line_label": "a", "funder": "État - FNE",
         "recipient": "Métropole", "planned_eur": "1000.00", "source": "s"},
        {"budget_line_id": "L2", "action_code": "1.2", "line_label": "b", "funder": "État - FNE",
         "recipient": "Hub du Sud", "planned_eur": "3686.00", "source": "s"}])
    # one task of 1.1, done on time: the action has follow-up data of its own (not grey) and no task finding
    tasks = typed("schedule_tasks", [dict(task_id="T", action_code="1.1", task_label="Tâche", planned_start="2024-01-01",
                                          planned_end="2024-12-31", source="Calendrier imprimé")])
    status = typed("schedule_status", [dict(task_id="T", status_date="2024-12-15", status="done",
                                            actual_start="2024-01-02", actual_end="2024-12-15", progress_pct=100)])
    return {"actions": actions, "budget_lines": lines, "budget_transactions": typed("budget_transactions", transactions),
            "schedule_tasks": tasks, "schedule_status": status}


def test_burn_without_followup_gives_no_label():
    t = _tables([])
    assert not has_followup(t["budget_transactions"])
    out = budget_burn(t["budget_lines"], t["budget_transactions"], t["actions"], as_of=AS_OF).set_index("action_code")
    # 1.1 (2024) is 100 % elapsed and 1.2 183/730 = 25,1 %: with payments of 0 € both would be « en retard »
    assert out.loc["1.1", "elapsed_pct"] == pytest.approx(100.0)
    assert out["burn_label"].isna().all()
    assert out["burn_ratio"].isna().all() and out["payment_rate_pct"].isna().all()
    assert out["paid_eur"].isna().all()


def test_meteo_without_followup_is_not_red_on_payments():
    m = action_meteo(_tables([]), AS_OF).set_index("action_code")
    # 1.1: its task done on time, no budget data -> green, no budget rule
    assert m.loc["1.1", "final_status"] == "green"
    assert not {f["rule_id"] for f in m.loc["1.1", "findings"]} & {"R2", "A3"}


def test_meteo_with_followup_still_judges_an_unpaid_action():
    # control: one payment on 1.2's line is follow-up data; 1.1 then has 0 € of 1 000 € paid for 100 % of its
    # period elapsed: ratio 0 < 0,5 and elapsed 100 > 50 -> R2, red
    pay = [{"transaction_id": "P", "budget_line_id": "L2", "date": "2025-03-01", "kind": "payment",
            "amount_eur": "100.00"}]
    m = action_meteo(_tables(pay), AS_OF).set_index("action_code")
    assert "R2" in {f["rule_id"] for f in m.loc["1.1", "findings"]}
    assert m.loc["1.1", "final_status"] == "red"


# ------------------------------------------------------------------ rendered sections
@pytest.fixture(scope="module")
def init_bundle(tmp_path_factory):
    """A bundle as « fne-eval bundle init » writes it: roadmap and planned amounts, no follow-up."""
    from fne_eval.bundle.load import load_bundle
    from fne_eval.cli.main import main

    b = tmp_path_factory.mktemp("init") / "bundle"
    assert main(["bundle", "init", str(b)]) == 0
    assert len(load_bundle(b)["budget_transactions"]) == 0 and len(load_bundle(b)["budget_lines"]) > 0
    return b


def _text(*frags):
    text = html.unescape(re.sub(r"<[^>]+>", " ", "".join(f._repr_html_() for f in frags)))
    return text.replace("\u202f", " ").replace("\xa0", " ")  # French thin and non-breaking spaces


def test_budget_report_says_there_is_no_followup(init_bundle):
    from fne_eval.report import open_report, sections

    ctx = open_report(str(init_bundle), "13", "all", 2025, 5, report="budget", display=False)
    text = _text(sections.budget_summary(ctx), sections.budget_by(ctx, "action_code"), sections.budget_pace(ctx))
    assert "Aucune donnée de suivi budgétaire dans le bundle" in text
    assert "en retard" not in text
    assert "0 € payés" not in text and "0,0 %" not in text
    # the planned amounts are data (annexe 6 of the seed): 1.1 « 6 000 € », 1.2 « 3 686 € »
    assert "6 000 €" in text and "3 686 €" in text


def test_dossier_says_there_is_no_followup(init_bundle):
    from fne_eval.report import open_report, sections

    ctx = open_report(str(init_bundle), "13", "all", 2025, 5, report="revue_annuelle", display=False)
    r = sections.annual_review
    text = _text(r.first_page(ctx), r.action_pages(ctx), r.funding_outlook(ctx))
    assert "aucune donnée de suivi budgétaire dans le bundle" in text.lower()
    assert "0 € payés" not in text and "paiements :" not in text
    assert "Payer" not in text and "réaffecter le reliquat" not in text
    m = r._meteo(ctx)
    assert not any(f["rule_id"] in ("R2", "A3") for fs in m["findings"] for f in fs)
