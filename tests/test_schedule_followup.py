"""A bundle without chronogramme follow-up (no status report at all) gets no verdict on its tasks.

« fne-eval bundle init » writes the roadmap's tasks and planned dates and an empty
``schedule_status`` table: no task state is known, which is not « not started » nor « late ».
The COPIL dossier used to count every task past its planned end as « fin dépassée » (and the
météo could turn red on it). Expected values are worked out by hand in the comments from the
embedded default bundle's CSV files (fne_eval/data/default_bundle/schedule_*.csv).
"""
import html
import re

import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate import schedule
from fne_eval.evaluate.schedule import gantt_data, schedule_summary, task_status

AS_OF = "2025-06-30"


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


def test_empty_status_table_gives_no_verdict(default_bundle):
    tasks = default_bundle["schedule_tasks"]
    empty = typed("schedule_status", [])
    assert not schedule.has_followup(empty, AS_OF) and not schedule.has_followup(empty)
    ts = task_status(tasks, empty, AS_OF)
    # 38 tasks in schedule_tasks.csv; with reports, 3 of them are past their planned end at 2025-06-30
    assert len(ts) == 38
    assert (ts["state"] == "unreported").all()
    assert ts["late_rule"].isna().all() and ts["on_time"].isna().all() and ts["start_late"].isna().all()
    assert ts["end_delay_days"].isna().all() and ts["slippage_days"].isna().all()
    # the plan is kept: A5-1.2-01 runs 2025-01-01 – 2025-03-31, fully elapsed at 2025-06-30
    one = ts.set_index("task_id").loc["A5-1.2-01"]
    assert one["planned_end"] == pd.Timestamp("2025-03-31") and one["elapsed_pct"] == pytest.approx(100.0)
    s = schedule_summary(ts, default_bundle["actions"])
    assert s["n_late"].sum() == 0 and s["n_not_started"].sum() == 0 and s["n_unreported"].sum() == 38
    assert s["on_time_pct"].isna().all() and s["max_open_slippage_days"].isna().all()
    g = gantt_data(tasks, empty, AS_OF)
    assert set(g["bar_kind"]) == {"unreported"} and g["actual_start"].isna().all()
    # the Gantt draws the planned bars only: no coloured (green, blue or red) bar at all
    from fne_eval.report.charts import gantt_kind_colors
    assert gantt_kind_colors(g) == {}
    # control: with the reports, A5-2.1-02, CAL-1.4-02 and CAL-3.2-01 are drawn red (planned end passed, not done)
    full = gantt_data(tasks, default_bundle["schedule_status"], AS_OF)
    assert sorted(full.loc[full["bar_kind"] == "overdue", "task_id"]) == ["A5-2.1-02", "CAL-1.4-02", "CAL-3.2-01"]


def test_reports_only_after_as_of_are_no_followup(default_bundle):
    # the first reports of schedule_status.csv are dated 2023-12-31: nothing is known on 2023-12-30
    st = default_bundle["schedule_status"]
    assert schedule.has_followup(st) and not schedule.has_followup(st, "2023-12-30")
    assert schedule.has_followup(st, "2023-12-31")
    ts = task_status(default_bundle["schedule_tasks"], st, "2023-12-30")
    assert (ts["state"] == "unreported").all()


def test_default_bundle_counts_unchanged(default_bundle):
    ts = task_status(default_bundle["schedule_tasks"], default_bundle["schedule_status"], AS_OF)
    by = ts.set_index("task_id")
    # latest report ≤ 2025-06-30 of each task in schedule_status.csv: 21 done, 5 in progress, 4 not started,
    # 8 tasks without any report yet (partial follow-up: judged on their plan, as not started)
    assert int(by["has_status"].sum()) == 30
    assert (by["state"] == "done").sum() == 21
    assert not (by["state"] == "unreported").any()
    # not done and planned end before 2025-06-30: A5-2.1-02 (ends 2025-03-31), CAL-1.4-02, CAL-3.2-01
    s1 = sorted(by.index[(by["late_rule"] == "S1").fillna(False)])
    assert s1 == ["A5-2.1-02", "CAL-1.4-02", "CAL-3.2-01"]
    s = schedule_summary(ts, default_bundle["actions"])
    assert s["n_done"].sum() == 21 and s["n_unreported"].sum() == 0 and s["n_reported"].sum() == 30
    assert s["n_late"].sum() >= 3


def test_partial_followup_judges_unreported_tasks_on_their_plan():
    # documented: one task reported -> the bundle is followed; T2, not reported and past its end, is late (S1)
    tasks = typed("schedule_tasks", [
        dict(task_id="T1", action_code="1.1", task_label="a", planned_start="2024-01-01", planned_end="2024-06-30",
             source="s"),
        dict(task_id="T2", action_code="1.1", task_label="b", planned_start="2024-01-01", planned_end="2024-06-30",
             source="s")])
    status = typed("schedule_status", [dict(task_id="T1", status_date="2024-06-15", status="done",
                                            actual_start="2024-01-02", actual_end="2024-06-15", progress_pct=100)])
    ts = task_status(tasks, status, "2024-12-31").set_index("task_id")
    assert ts.loc["T1", "state"] == "done"
    # 2024-12-31 − 2024-06-30 = 184 days
    assert ts.loc["T2", "state"] == "late" and ts.loc["T2", "late_rule"] == "S1"
    assert ts.loc["T2", "end_delay_days"] == 184
    # the same tasks without T1's report: no verdict at all
    none = task_status(tasks, typed("schedule_status", []), "2024-12-31")
    assert (none["state"] == "unreported").all()


def test_meteo_without_schedule_followup_fires_no_task_rule(default_bundle):
    from fne_eval.evaluate.meteo import action_meteo

    t = dict(default_bundle.tables) if hasattr(default_bundle, "tables") else {
        n: default_bundle[n] for n in TABLES if n in default_bundle}
    with_st = action_meteo(t, AS_OF)
    # control: with the reports, A5-2.1-02 (planned end 2025-03-31, 91 days before 2025-06-30) fires a task rule
    assert any(f["rule_id"] in ("R1", "A1", "A2") for fs in with_st["findings"] for f in fs)
    t["schedule_status"] = typed("schedule_status", [])
    m = action_meteo(t, AS_OF)
    assert not any(f["rule_id"] in ("R1", "A1", "A2") for fs in m["findings"] for f in fs)
    assert (m["n_late"] == 0).all()


# ------------------------------------------------------------------ rendered sections
@pytest.fixture(scope="module")
def init_bundle(tmp_path_factory):
    """A bundle as « fne-eval bundle init » writes it: roadmap and planned dates, no follow-up."""
    from fne_eval.bundle.load import load_bundle
    from fne_eval.cli.main import main

    b = tmp_path_factory.mktemp("init") / "bundle"
    assert main(["bundle", "init", str(b)]) == 0
    loaded = load_bundle(b)
    assert len(loaded["schedule_status"]) == 0 and len(loaded["schedule_tasks"]) > 0
    return b


def _text(*frags):
    text = html.unescape(re.sub(r"<[^>]+>", " ", "".join(f._repr_html_() for f in frags)))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_dossier_says_there_is_no_schedule_followup(init_bundle):
    from fne_eval.report import open_report, sections

    ctx = open_report(str(init_bundle), "13", "all", 2025, 5, report="revue_annuelle", display=False)
    r = sections.annual_review
    first, chrono, pages = r.first_page(ctx), r.chronogram(ctx), r.action_pages(ctx)
    text = _text(first, chrono, pages)
    assert "chronogramme : aucun suivi du chronogramme dans le bundle" in _text(first).lower()
    assert "aucun suivi du chronogramme dans le bundle" in _text(chrono).lower()
    assert "fin prévue est dépassée" not in text and "fin prévue est passée" not in text
    assert "En retard" not in text and "(rouge)" not in text and "non démarrée" not in text
    assert "Non renseigné" in _text(pages)
    m = r._meteo(ctx)
    assert not any(f["rule_id"] in ("R1", "A1", "A2") for fs in m["findings"] for f in fs)
    assert not (m["final_status"] == "red").any()
    d = r._decisions(ctx)
    assert not set(d["kind"]) & {"replan", "unblock"}


def test_headline_figures_count_unreported_tasks(default_bundle):
    # fne-eval figures on a bundle without any status report: the 38 tasks of
    # schedule_tasks.csv are « sans statut », none late, none « non commencée »
    from fne_eval.cli.figures import figures_to_text
    from fne_eval.store.figures import headline_figures
    b = default_bundle.copy()
    b.tables["schedule_status"] = typed("schedule_status", [])
    f = headline_figures(b, "13", year=2025)
    assert f["tasks_by_state"]["unreported"] == 38
    assert f["tasks_by_state"]["late"] == 0 and f["tasks_by_state"]["not_started"] == 0
    assert "sans statut (aucun suivi) 38" in figures_to_text(f)
    # with the reports, no task is unreported and the text does not mention the state
    g = headline_figures(default_bundle, "13", year=2025)
    assert g["tasks_by_state"]["unreported"] == 0
    assert "sans statut" not in figures_to_text(g)
