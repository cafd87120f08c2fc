"""Track the chronogramme: state, slippage and on-time share of each task.

A task's reported status is the latest ``schedule_status`` row dated on or before
``as_of``. Its derived ``state`` is one of:

``done``         reported done;
``late``         not done after its planned end, or started (or still not started) more
                 than ``grace_days`` after its planned start;
``in_progress``  reported in progress, on time;
``not_started``  no start yet, within the grace period;
``cancelled``    reported cancelled (left out of on-time shares).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fne_eval.core.periods import to_timestamp

STATES = ("not_started", "in_progress", "done", "late", "cancelled")
DEFAULT_GRACE_DAYS = 30

_OUT_COLUMNS = ["task_id", "action_code", "task_label", "planned_start", "planned_end",
                "status", "status_date", "actual_start", "actual_end", "progress_pct", "state",
                "slippage_days", "start_delay_days", "on_time", "has_status"]


def latest_status(schedule_status: pd.DataFrame, as_of) -> pd.DataFrame:
    """Return the latest status row of each task dated on or before ``as_of``."""
    st = schedule_status
    if len(st):
        st = st[pd.to_datetime(st["status_date"]) <= to_timestamp(as_of)]
    st = st.sort_values(["task_id", "status_date"], kind="stable")
    return st.drop_duplicates("task_id", keep="last").reset_index(drop=True)


def _days(a, b):
    """Return (a − b) in whole days, or None when either is missing."""
    if pd.isna(a) or pd.isna(b):
        return None
    return int((pd.Timestamp(a) - pd.Timestamp(b)).days)


def _derive(task: dict, as_of: pd.Timestamp, grace: int) -> dict:
    status = task["status"]
    pstart, pend = task["planned_start"], task["planned_end"]
    astart, aend = task["actual_start"], task["actual_end"]
    astart_known = not pd.isna(astart)
    out = {"state": None, "slippage_days": None, "start_delay_days": None, "on_time": None}
    if status == "cancelled":
        out["state"] = "cancelled"
        return out
    if status == "done":
        end = aend if not pd.isna(aend) else task["status_date"]
        out["state"] = "done"
        out["slippage_days"] = _days(end, pend)
        out["start_delay_days"] = _days(astart, pstart) if astart_known else None
        out["on_time"] = out["slippage_days"] is not None and out["slippage_days"] <= 0
        return out
    started = status == "in_progress" or astart_known
    if started:
        delay = _days(astart, pstart) if astart_known else None
    else:
        # not started yet: the start delay runs until it starts
        delay = _days(as_of, pstart)
    out["start_delay_days"] = delay
    if as_of > pend:
        out["state"] = "late"
        out["slippage_days"] = _days(as_of, pend)
    elif delay is not None and delay > grace:
        out["state"] = "late"
        # a late start projects onto the end: the start delay is the projected slippage
        out["slippage_days"] = delay
    else:
        out["state"] = "in_progress" if started else "not_started"
        out["slippage_days"] = 0
    out["on_time"] = out["state"] != "late"
    return out


def task_status(schedule_tasks: pd.DataFrame, schedule_status: pd.DataFrame, as_of,
                grace_days: int = DEFAULT_GRACE_DAYS) -> pd.DataFrame:
    """Derive each task's state, slippage and on-time flag at ``as_of``.

    Parameters
    ----------
    schedule_tasks, schedule_status : pandas.DataFrame
        The ``schedule_tasks`` and ``schedule_status`` tables.
    as_of : date-like
        Evaluation date; later status reports are ignored.
    grace_days : int, default 30
        Days a task may start after its planned start before it counts as late.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task_id``, ``action_code``, ``task_label``, ``planned_start``,
        ``planned_end``, the latest report (``status``, ``status_date``, ``actual_start``,
        ``actual_end``, ``progress_pct``; missing without report), ``state`` (see the
        module docstring), ``slippage_days`` (actual end − planned end for done tasks,
        negative when early; ``as_of`` − planned end when overdue; the start delay when
        late only by its start; 0 otherwise), ``start_delay_days``, ``on_time`` (missing
        for cancelled tasks) and ``has_status`` (a report exists).
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be >= 0, got {grace_days}")
    as_of = to_timestamp(as_of)
    latest = latest_status(schedule_status, as_of)
    keep = ["task_id", "status", "status_date", "actual_start", "actual_end", "progress_pct"]
    df = schedule_tasks[["task_id", "action_code", "task_label", "planned_start", "planned_end"]].merge(
        latest[keep], on="task_id", how="left", validate="1:1")
    rows = [_derive(r, as_of, grace_days) for r in df.to_dict("records")]
    derived = pd.DataFrame(rows, index=df.index, columns=["state", "slippage_days", "start_delay_days", "on_time"])
    df = pd.concat([df, derived], axis=1)
    df["state"] = df["state"].astype("string")
    df["slippage_days"] = pd.array(df["slippage_days"].tolist(), dtype="Int64")
    df["start_delay_days"] = pd.array(df["start_delay_days"].tolist(), dtype="Int64")
    df["on_time"] = pd.array(df["on_time"].tolist(), dtype="boolean")
    df["has_status"] = df["status"].notna().astype(bool)
    return df[_OUT_COLUMNS].reset_index(drop=True)


def schedule_summary(task_status: pd.DataFrame, actions: pd.DataFrame, by: str = "action_code") -> pd.DataFrame:
    """Summarise task states per action or per axis.

    Parameters
    ----------
    task_status : pandas.DataFrame
        The result of :func:`task_status`.
    actions : pandas.DataFrame
        The ``actions`` table (gives each action its axis; every action gets a row).
    by : {'action_code', 'axis_code'}, default 'action_code'

    Returns
    -------
    pandas.DataFrame
        ``by``, ``n_tasks``, ``n_not_started``, ``n_in_progress``, ``n_done``, ``n_late``,
        ``n_cancelled``, ``n_reported`` (tasks with a report), ``on_time_pct`` (on-time
        tasks among non-cancelled tasks; NaN without any), ``max_slippage_days`` (all
        tasks, done ones included) and ``max_open_slippage_days`` (tasks not done: the
        delay still running).
    """
    if by not in ("action_code", "axis_code"):
        raise ValueError(f"unknown grouping {by!r}, expected 'action_code' or 'axis_code'")
    acts = actions[["action_code", "axis_code"]].astype("string")
    ts = task_status.merge(acts, on="action_code", how="left", validate="m:1")
    keys = sorted(acts[by].dropna().unique().tolist())
    extra = sorted(set(ts[by].dropna().unique().tolist()) - set(keys))
    rows = []
    for key in keys + extra:
        grp = ts[ts[by] == key]
        row = {by: key, "n_tasks": len(grp)}
        for s in STATES:
            row[f"n_{s}"] = int((grp["state"] == s).sum())
        row["n_reported"] = int(grp["has_status"].sum())
        active = grp[grp["state"] != "cancelled"]
        row["on_time_pct"] = (100.0 * active["on_time"].astype(bool).sum() / len(active)) if len(active) else np.nan
        sl = grp["slippage_days"].dropna()
        row["max_slippage_days"] = int(sl.max()) if len(sl) else pd.NA
        open_sl = grp.loc[~grp["state"].isin(["done", "cancelled"]), "slippage_days"].dropna()
        row["max_open_slippage_days"] = int(open_sl.max()) if len(open_sl) else pd.NA
        rows.append(row)
    cols = [by, "n_tasks"] + [f"n_{s}" for s in STATES] + ["n_reported", "on_time_pct", "max_slippage_days",
                                                           "max_open_slippage_days"]
    out = pd.DataFrame(rows, columns=cols)
    out[by] = out[by].astype("string")
    out["on_time_pct"] = out["on_time_pct"].astype("float64")
    out["max_slippage_days"] = out["max_slippage_days"].astype("Int64")
    out["max_open_slippage_days"] = out["max_open_slippage_days"].astype("Int64")
    return out


def gantt_data(schedule_tasks: pd.DataFrame, schedule_status: pd.DataFrame, as_of,
               grace_days: int = DEFAULT_GRACE_DAYS) -> pd.DataFrame:
    """Return one row per task with planned and actual bars for a Gantt chart.

    ``actual_end`` is ``as_of`` while a started task is not done (``is_ongoing`` True);
    ``actual_start`` is missing for a task not started. Rows are sorted by action and
    planned start.
    """
    ts = task_status(schedule_tasks, schedule_status, as_of, grace_days)
    as_of = to_timestamp(as_of)
    started = ts["actual_start"].notna() | ts["status"].isin(["in_progress", "done"])
    done = ts["status"] == "done"
    ongoing = started & ~done & (ts["status"] != "cancelled")
    out = ts[["task_id", "action_code", "task_label", "planned_start", "planned_end",
              "actual_start", "actual_end", "state", "slippage_days"]].copy()
    # a done task without an actual end ends on its report date
    out.loc[done & out["actual_end"].isna(), "actual_end"] = ts.loc[done & ts["actual_end"].isna(), "status_date"]
    # a started task without an actual start: its first report is unknown here, use the report date
    fill_start = started & out["actual_start"].isna()
    out.loc[fill_start, "actual_start"] = ts.loc[fill_start, "status_date"]
    out.loc[ongoing, "actual_end"] = as_of
    out["is_ongoing"] = ongoing.astype(bool)
    return out.sort_values(["action_code", "planned_start", "task_id"], kind="stable").reset_index(drop=True)
