"""Tests of the dossier's data (issue 11): governance tables, decisions, key figures, what to confirm.

Run on the embedded bundle (synthetic monitoring data, real roadmap) and on hand-made frames.
"""
import html

import pandas as pd
import pytest

from fne_eval.build.default_bundle import DEFAULT_BUNDLE_DIR
from fne_eval.bundle import load_bundle
from fne_eval.evaluate import decisions as D
from fne_eval.evaluate.meteo import action_meteo
from fne_eval.evaluate.schedule import task_status

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(DEFAULT_BUNDLE_DIR)


@pytest.fixture(scope="module")
def meteo(bundle):
    return action_meteo(bundle, AS_OF)


def test_governance_tables_are_loaded(bundle):
    m, d = bundle["meetings"], bundle["decisions"]
    assert len(m) and set(m["instance"].astype(str)) <= {"copil", "cothec"}
    assert len(d) and set(d["follow_up_status"].astype(str)) <= {"done", "in_progress", "not_done", "dropped"}
    # governance meetings are the COPIL/COTHEC of the network meetings table, same dates
    nm = bundle["network_meetings"]
    gov = nm[nm["meeting_type"].astype(str).isin(["copil", "cothec"])]
    assert sorted(pd.to_datetime(gov["date"])) == sorted(pd.to_datetime(m["date"]))


def test_no_event_of_a_task_not_started(bundle):
    # 3.1: « Événement Des Clics et des Livres 2025 » is not started at the end of 2025 (seed:
    # October 2025 event); no event of that title may then be recorded
    ts = task_status(bundle["schedule_tasks"], bundle["schedule_status"], AS_OF).set_index("task_id")
    assert ts.loc["CAL-3.1-02", "status"] == "not_started"
    titles = bundle["events"]["title"].astype(str)
    assert not titles.str.contains("Des Clics et des Livres 2025").any()
    # 3.2: the tour task runs with the exhibitions (first opening April 2025), not « done June 2024 »
    ev = bundle["events"][bundle["events"]["action_code"].astype(str) == "3.2"]
    first = pd.to_datetime(ev["date"]).min()
    assert ts.loc["CAL-3.2-01", "actual_start"] == first
    assert ts.loc["CAL-3.2-01", "status"] == "in_progress"


def test_no_red_from_a_late_start_alone(meteo):
    # 2.1's long task « Expérimentations » (July 2025 -> end 2027) started late: not a reason for red
    r = meteo.set_index("action_code").loc["2.1"]
    assert r["computed_status"] != "red"
    assert all(f.get("task_id") != "CAL-2.1-04" for f in r["findings"])


def test_propose_decisions(bundle, meteo):
    from fne_eval.evaluate.budget import budget_execution

    fu = D.decision_follow_up(bundle, AS_OF)
    bud = budget_execution(bundle["budget_lines"], bundle["budget_transactions"], bundle["actions"],
                           by="action_code", as_of=AS_OF)
    p = D.propose_decisions(meteo, fu, bud)
    assert 3 <= len(p) <= 5
    assert p["action_code"].is_unique and set(p["kind"]) <= set(D.PROPOSAL_KINDS)
    by = p.set_index("action_code")
    # 3.1: the overdue event waits for means and the February 2025 COPIL decision was not done: unblock
    assert by.loc["3.1", "kind"] == "unblock" and by.loc["3.1", "previous_status"] == "not_done"
    assert by.loc["3.1", "finding"]["days_overdue"] == 61  # 2025-12-31 − 2025-10-31
    # firm causes come before causes resting on inferred dates
    inferred = p["inferred"].tolist()
    assert inferred == sorted(inferred)


def test_propose_decisions_completes_to_three():
    meteo = pd.DataFrame([
        {"action_code": "1.1", "final_status": "amber", "action_dates_inferred": False,
         "findings": [{"rule_id": "A1", "status": "amber", "task_id": "T", "days_overdue": 40, "inferred": False,
                       "comment": None}]},
        {"action_code": "1.3", "final_status": "green", "action_dates_inferred": True, "findings": []},
        {"action_code": "1.4", "final_status": "green", "action_dates_inferred": True, "findings": []},
        {"action_code": "4.1", "final_status": "green", "action_dates_inferred": False, "findings": []},
    ])
    p = D.propose_decisions(meteo)
    assert list(p["action_code"]) == ["1.1", "1.3", "1.4"]
    assert list(p["kind"]) == ["replan", "confirm_date", "confirm_date"]


def test_key_figures_compare_with_previous_year(bundle):
    k = D.key_figures(bundle, 2025, AS_OF).set_index("figure_id")
    ev = bundle["events"]
    d = pd.to_datetime(ev["date"])
    expo = ev["event_type"].astype(str) == "exposition"
    # counted independently from the events table
    assert k.loc["exhibitions", "current"] == int(((d.dt.year == 2025) & expo).sum())
    assert k.loc["events", "previous"] == int(((d.dt.year == 2024) & ~expo).sum())
    tr = bundle["trainings"]
    assert k.loc["training_departures", "current"] == int(tr.loc[pd.to_datetime(tr["date"]).dt.year == 2025,
                                                                 "departures"].sum())
    assert k.loc["events", "change"] == k.loc["events", "current"] - k.loc["events", "previous"]
    assert "accompaniments" not in k.index  # activity figures come from the indicator store (issue 9)


def test_to_confirm_lists_inferred_items(bundle):
    tc = D.to_confirm(bundle, AS_OF)
    tasks = set(tc.loc[tc["kind"] == "task_dates", "item"])
    # the 13 windows of annexe 5 read « fenêtre déduite » in the transcription
    assert {f"A5-1.2-0{i}" for i in range(1, 7)} | {f"A5-2.1-0{i}" for i in range(1, 8)} <= tasks
    # a roadmap target is never listed; the training fund's 2025 and 2026 steps are proposals
    t = tc[tc["kind"] == "target"]
    fund = t[t["item"] == "TRAINING_FUND_DEPARTURES_CUM"]
    assert sorted(fund["year"].astype(int)) == [2025, 2026]
    assert not ((t["item"] == "EVT_N_3_1") & (t["year"] == 2025)).any()


def test_follow_up_after_as_of_is_unknown():
    d = pd.DataFrame({"decision_id": ["D1"], "meeting_date": [pd.Timestamp("2025-02-01")], "instance": ["copil"],
                      "action_code": ["3.1"], "decision": ["x"], "owner": ["y"], "due_date": [pd.NaT],
                      "follow_up_status": ["done"], "follow_up": ["fait"],
                      "follow_up_date": [pd.Timestamp("2026-02-01")]})
    out = D.decision_follow_up({"decisions": d}, AS_OF)
    assert out.loc[0, "follow_up_status"] == "in_progress" and pd.isna(out.loc[0, "follow_up"])


def test_run_index_order_without_running_a_pack():
    from fne_eval.runner.index import render_run_index

    entry = lambda i, nb, label: {"id": i, "notebook": nb, "parameters": {}, "status": "ok", "error": None,
                                  "duration_s": 1.0, "label": label,
                                  "outputs": {"html": f"html/{i}.html", "pdf": f"pdf/{i}.pdf"}}
    m = {"run_id": "r", "plan": {"name": "p", "title": "Dossier COPIL 2025"},
         "bundle": {"hash": "0" * 64, "embedded": True, "is_synthetic": True},
         "package_version": "0", "python_version": "3.11", "started_at": "2026-01-01T00:00:00+00:00",
         "finished_at": "2026-01-01T00:01:00+00:00", "duration_s": 60, "counts": {"ok": 4, "failed": 0},
         # the plan lists the territories first: the front page still opens on the dossier
         "entries": [entry("impact-13-axe-all", "impact", "Bouches-du-Rhône"), entry("annexe", "annexe", ""),
                     entry("budget", "budget", "année 2025"),
                     entry("revue-annuelle", "revue_annuelle", "année 2025")]}
    page = render_run_index(m)
    order = [page.find(s) for s in ("html/revue-annuelle.html", "html/budget.html", "html/impact-13-axe-all.html",
                                    "html/annexe.html")]
    assert -1 not in order and order == sorted(order)
    assert page.find('class="run-status"') < page.find("1. Dossier du COPIL")
    assert "Annexe pour l'analyste" in html.unescape(page)


def test_dossier_on_one_axis_counts_only_that_axis():
    # issue 11: an axis-2 review said « 2 vert, 7 orange, 1 rouge » (all actions) then « Météo des 1 actions »
    import re

    from fne_eval.report import open_report, sections

    ctx = open_report("", "13", "2", 2025, 5, report="revue_annuelle", display=False)
    text = html.unescape(re.sub(r"<[^>]+>", " ", sections.annual_review.first_page(ctx)._repr_html_()))
    assert "Météo de l'action de l'axe 2 : 1 orange" in text
    assert set(sections.annual_review._decisions(ctx)["action_code"]) <= {"2.1"}


@pytest.fixture(scope="module")
def dossier_text():
    import re

    from fne_eval.report import open_report, sections

    ctx = open_report("", "13", "all", 2025, 5, report="revue_annuelle", display=False)
    parts = [sections.annual_review.first_page(ctx), sections.annual_review.action_pages(ctx), sections.annual_review.governance(ctx),
             sections.annual_review.funding_outlook(ctx), sections.annual_review.to_confirm(ctx), sections.annual_review.rules(ctx)]
    return html.unescape(re.sub(r"<[^>]+>", " ", "".join(p._repr_html_() for p in parts)))


def test_dossier_text_has_no_code_words(dossier_text):
    import re

    assert not re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", dossier_text, re.I)
    assert not re.findall(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", dossier_text)
    assert "fne-eval" not in dossier_text.lower() and "graine" not in dossier_text.lower()


def test_dossier_governance_and_late_start_shown_apart(bundle, dossier_text):
    d = bundle["decisions"]
    known = d[pd.to_datetime(d["meeting_date"]) <= AS_OF]
    done = ((known["follow_up_status"].astype(str) == "done")
            & (pd.to_datetime(known["follow_up_date"]) <= AS_OF)).sum()
    assert f"{done} décisions sur {len(known)} réalisées" in dossier_text
    # 2.1's long task: its late start is a separate column and a risk, not a late end
    assert "Retard au début" in dossier_text and "Retard à la fin" in dossier_text
    assert ("« Expérimentations d'actions pour préfigurer une filière départementale » a démarré avec 129 jours "
            "de retard") in dossier_text  # the task named in full
    assert "« Tâche non démarrée : en attente de moyens »" in dossier_text  # the comment reaches the reader


# --------------------------------------------------------------------------- chronogramme (Gantt)
#: Red bars at 31 Dec 2025, by hand from the seed roadmap's chronogramme
#: (fne_eval/data/roadmap/schedule_tasks.csv) and the embedded status reports: the only tasks whose
#: planned end (31 Oct 2025 and 30 June 2024) is before the as-of date and that are not done.
EXPECTED_RED = {"CAL-3.1-02", "CAL-3.2-01"}
#: Started, not done, planned end not passed (31 Dec 2025 or 31 Dec 2027): in progress, blue.
EXPECTED_BLUE = {"A5-1.2-05", "CAL-1.3-04", "CAL-1.4-04", "CAL-1.5-04", "A5-2.1-05", "CAL-2.1-04", "CAL-4.1-03"}


@pytest.fixture(scope="module")
def gantt(bundle):
    from fne_eval.evaluate.schedule import gantt_data

    return gantt_data(bundle["schedule_tasks"], bundle["schedule_status"], AS_OF)


def test_gantt_red_only_for_tasks_past_their_planned_end(gantt):
    from fne_eval.report.charts import GANTT_KINDS, gantt_kind_colors

    colors = gantt_kind_colors(gantt)
    red = {gantt.loc[i, "task_id"] for i, c in colors.items() if c == GANTT_KINDS["overdue"][0]}
    blue = {gantt.loc[i, "task_id"] for i, c in colors.items() if c == GANTT_KINDS["in_progress"][0]}
    assert red == EXPECTED_RED
    assert blue == EXPECTED_BLUE
    # 3.1's 2025 event has not started: it still gets its red bar (from its planned end on)
    assert pd.isna(gantt.set_index("task_id").loc["CAL-3.1-02", "actual_start"])
    # 2.1 « Réflexion label territorial » is behind its progress but within its window: blue, not red
    assert "A5-2.1-05" in blue


def test_gantt_kinds_on_hand_made_tasks():
    from fne_eval.evaluate.schedule import gantt_data

    tasks = pd.DataFrame({"task_id": ["a", "b", "c", "d"], "action_code": ["1.1"] * 4,
                          "task_label": ["A", "B", "C", "D"],
                          "planned_start": pd.to_datetime(["2025-01-01"] * 4),
                          "planned_end": pd.to_datetime(["2025-03-31", "2025-12-31", "2025-06-30", "2026-06-30"]),
                          "source": [""] * 4})
    status = pd.DataFrame({"task_id": ["a", "b", "c"], "status_date": pd.to_datetime(["2025-09-01"] * 3),
                           "status": ["in_progress", "in_progress", "done"],
                           "actual_start": pd.to_datetime(["2025-02-01", "2025-02-01", "2025-01-10"]),
                           "actual_end": pd.to_datetime([None, None, "2025-06-20"]),
                           "progress_pct": [50.0, 10.0, 100.0], "comment": [None] * 3})
    g = gantt_data(tasks, status, "2025-10-01").set_index("task_id")
    # a: end passed, not done → overdue; b: end ahead → in progress even at 10 %; c done; d not yet due
    assert g["bar_kind"].to_dict() == {"a": "overdue", "b": "in_progress", "c": "done", "d": "not_started"}


def test_gantt_legend_lists_only_the_kinds_drawn(gantt, monkeypatch):
    from fne_eval.report import charts

    seen = {}

    def capture(fig, alt, caption=""):
        seen["legend"] = [t.get_text() for t in fig.legends[0].get_texts()]
        return charts.Chart(b"", alt=alt)

    monkeypatch.delenv("FNE_EVAL_FIGURE_CACHE", raising=False)
    monkeypatch.setattr(charts, "render", capture)
    charts.gantt_chart(gantt, "t", as_of=AS_OF)
    assert seen["legend"] == ["Prévu", "Réalisé (terminé)", "Réalisé (en cours)", "Fin prévue dépassée, non terminée"]
    done_only = gantt[gantt["bar_kind"] == "done"]
    charts.gantt_chart(done_only, "t", as_of=AS_OF)
    assert seen["legend"] == ["Prévu", "Réalisé (terminé)"]


def test_decision_table_names_each_action_in_full(bundle):
    # the decision table on page 1 cut the action titles (« 3.1 Mobiliser la communauté éducati… »)
    import re

    from fne_eval.report import open_report, sections

    ctx = open_report("", "13", "all", 2025, 5, report="revue_annuelle", display=False)
    page = sections.annual_review.first_page(ctx)._repr_html_()
    table = page[page.index("décisions proposées au COPIL"):]
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", table)]
    titles = dict(zip(bundle["actions"]["action_code"].astype(str), bundle["actions"]["action_title"].astype(str)))
    actions = [c for c in cells if re.match(r"^\d\.\d ", c)]
    assert len(actions) >= 3
    for c in actions:
        code = c[:3]
        assert c == f"{code} {titles[code]}", c
