"""Tests of fne_eval.evaluate.schedule on small inline frames (expected values computed by hand)."""
import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.schedule import gantt_data, schedule_summary, task_status


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


@pytest.fixture
def tasks():
    t = lambda i, a, s, e: {"task_id": i, "action_code": a, "task_label": f"tâche {i}",
                            "planned_start": s, "planned_end": e, "source": "test"}
    return typed("schedule_tasks", [
        t("T1", "1.2", "2025-01-01", "2025-03-31"),  # done early
        t("T2", "1.2", "2025-01-01", "2025-03-31"),  # done late
        t("T3", "1.2", "2025-04-01", "2025-12-31"),  # in progress, on time
        t("T4", "2.1", "2025-01-01", "2025-02-28"),  # in progress, overdue
        t("T5", "2.1", "2025-05-01", "2025-12-31"),  # not started, within grace
        t("T6", "2.1", "2025-03-01", "2025-12-31"),  # no report, start missed by > 30 days
        t("T7", "2.1", "2025-01-01", "2025-12-31"),  # cancelled
        t("T8", "2.1", "2025-01-01", "2025-12-31"),  # started 60 days late
    ])


@pytest.fixture
def status():
    s = lambda i, d, st, a=None, e=None: {"task_id": i, "status_date": d, "status": st,
                                          "actual_start": a, "actual_end": e}
    return typed("schedule_status", [
        s("T1", "2025-01-15", "in_progress", "2025-01-05"),
        s("T1", "2025-03-25", "done", "2025-01-05", "2025-03-21"),
        s("T2", "2025-04-20", "done", "2025-01-02", "2025-04-15"),
        s("T3", "2025-04-10", "in_progress", "2025-04-08"),
        s("T4", "2025-01-20", "in_progress", "2025-01-10"),
        s("T5", "2025-04-01", "not_started"),
        s("T7", "2025-02-01", "cancelled"),
        s("T8", "2025-03-02", "in_progress", "2025-03-02"),
        # a later report after as_of must be ignored
        s("T4", "2025-06-30", "done", "2025-01-10", "2025-06-30"),
    ])


AS_OF = "2025-05-10"


def test_task_status(tasks, status):
    out = task_status(tasks, status, AS_OF).set_index("task_id")
    # T1 done on 2025-03-21, planned end 2025-03-31: 10 days early
    assert out.loc["T1", "state"] == "done" and out.loc["T1", "slippage_days"] == -10
    assert out.loc["T1", "on_time"]
    # T2 done 2025-04-15 vs 2025-03-31: ended 15 days late (late end, S5)
    assert out.loc["T2", "end_delay_days"] == 15 and not out.loc["T2", "on_time"]
    # T3 in progress within its window, progress not reported: not judged behind
    assert out.loc["T3", "state"] == "in_progress" and out.loc["T3", "slippage_days"] == 0
    # T4: the 2025-06-30 report is after as_of; overdue: 2025-05-10 − 2025-02-28 = 71 days (S1)
    assert out.loc["T4", "state"] == "late" and out.loc["T4", "late_rule"] == "S1"
    assert out.loc["T4", "end_delay_days"] == 71 and out.loc["T4", "status"] == "in_progress"
    # T5 not started, as_of is 9 days after its planned start (< 30 grace days)
    assert out.loc["T5", "state"] == "not_started" and out.loc["T5", "start_delay_days"] == 9
    assert out.loc["T5", "on_time"] and not out.loc["T5", "start_late"]
    # T6 no report: start missed by 2025-05-10 − 2025-03-01 = 70 days > 30 -> a late START (S3);
    # 71 of its 306 days elapsed = 23,2 % with progress 0: within the 25-point margin, not late
    assert out.loc["T6", "start_late"] and out.loc["T6", "state"] == "not_started"
    assert out.loc["T6", "elapsed_pct"] == pytest.approx(100 * 71 / 306)
    assert not out.loc["T6", "has_status"]
    # T7 cancelled: no on-time flag
    assert out.loc["T7", "state"] == "cancelled" and pd.isna(out.loc["T7", "on_time"])
    # T8 started 2025-03-02, planned 2025-01-01: 60 days > 30 -> started late (S4), still on time
    assert out.loc["T8", "state"] == "in_progress" and out.loc["T8", "start_delay_days"] == 60
    assert out.loc["T8", "start_late"] and out.loc["T8", "on_time"]


def test_grace_days(tasks, status):
    out = task_status(tasks, status, AS_OF, grace_days=90).set_index("task_id")
    # with 90 grace days T6 (70) and T8 (60) did not start late
    assert not out.loc["T6", "start_late"] and not out.loc["T8", "start_late"]
    with pytest.raises(ValueError):
        task_status(tasks, status, AS_OF, grace_days=-1)


def test_before_any_report(tasks, status):
    out = task_status(tasks, status, "2024-12-01")
    # nothing reported yet: no follow-up at that date, so no verdict (not « not started », not « on time »)
    assert (out["state"] == "unreported").all() and out["on_time"].isna().all()


def test_summary(tasks, status):
    actions = typed("actions", [
        {"action_code": c, "axis_code": c[0], "action_title": "x", "referents": "y",
         "start_date": "2025-01-01", "end_date": "2025-12-31", "source": "s"}
        for c in ("1.2", "2.1", "3.1")])
    ts = task_status(tasks, status, AS_OF)
    out = schedule_summary(ts, actions).set_index("action_code")
    # 1.2: T1 on time, T2 late-done, T3 on time -> 2/3
    assert out.loc["1.2", "n_tasks"] == 3 and out.loc["1.2", "n_done"] == 2
    assert out.loc["1.2", "on_time_pct"] == pytest.approx(200 / 3)
    # 2.1: T4 late; T5, T6, T8 on time (T6 and T8 only started late); T7 cancelled -> 3/4
    assert out.loc["2.1", "n_late"] == 1 and out.loc["2.1", "n_cancelled"] == 1
    assert out.loc["2.1", "n_start_late"] == 2
    assert out.loc["2.1", "on_time_pct"] == pytest.approx(75.0)
    assert out.loc["2.1", "max_slippage_days"] == 71
    # 1.2: T2 ended 15 days late (history); the open tasks (T3) are on time -> open slippage 0
    assert out.loc["1.2", "max_slippage_days"] == 15 and out.loc["1.2", "max_open_slippage_days"] == 0
    assert out.loc["2.1", "max_open_slippage_days"] == 71
    # 3.1 has no task: kept, with NaN share
    assert out.loc["3.1", "n_tasks"] == 0 and pd.isna(out.loc["3.1", "on_time_pct"])
    by_axis = schedule_summary(ts, actions, by="axis_code").set_index("axis_code")
    assert by_axis.loc["2", "n_tasks"] == 5
    with pytest.raises(ValueError):
        schedule_summary(ts, actions, by="commune")


def test_gantt(tasks, status):
    g = gantt_data(tasks, status, AS_OF).set_index("task_id")
    assert g.loc["T3", "actual_end"] == pd.Timestamp(AS_OF) and g.loc["T3", "is_ongoing"]
    assert g.loc["T1", "actual_end"] == pd.Timestamp("2025-03-21") and not g.loc["T1", "is_ongoing"]
    assert pd.isna(g.loc["T5", "actual_start"]) and pd.isna(g.loc["T6", "actual_end"])
    assert list(g.reset_index()["action_code"]) == ["1.2"] * 3 + ["2.1"] * 5
