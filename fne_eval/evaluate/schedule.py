"""Track the chronogramme: state, late start, late end and progress of each task.

A task's reported status is the latest ``schedule_status`` row dated on or before
``as_of``. The rules that judge a task have an id (:data:`SCHEDULE_RULES`), their
thresholds live in :data:`SCHEDULE_THRESHOLDS` and their French sentences in the report
layer (:mod:`fne_eval.report.labels`). A late *start* and a late *end* are different
things and are kept apart:

``S1`` overdue        not done and its planned end has passed (``state`` ``late``);
``S2`` behind         planned end not passed, but its progress is behind the share of its
                      planned window already elapsed by more than ``progress_margin_pct``
                      points (``state`` ``late``; a task not started has progress 0);
``S3`` start late     not started more than ``grace_days`` after its planned start
                      (``start_late``; the task is not late on that account alone);
``S4`` started late   started more than ``grace_days`` after its planned start
                      (``start_late``; information only);
``S5`` ended late     done after its planned end (``end_delay_days`` > 0).

Derived ``state`` is one of ``done``, ``late`` (S1 or S2, rule in ``late_rule``),
``in_progress``, ``not_started``, ``cancelled`` or ``unreported``.

An absence of follow-up is not a delay. When the bundle holds no status report at all
at ``as_of`` (``schedule_status`` empty, or no row dated on or before ``as_of``: a bundle
made by ``fne-eval bundle init``, see :func:`has_followup`), no task is judged: every
task's ``state`` is ``unreported`` and no rule (S1 to S5) applies; the tasks keep their
planned dates. When *some* tasks have a report, the chronogramme is followed: a task
without a report of its own is taken as not started and judged on its plan (S1, S2, S3),
as a follow-up that omits a task says nothing was done on it (``has_status`` tells them
apart).

Planned dates inferred when the roadmap was transcribed (its source says « fenêtre
déduite », « sans fin imprimée »...) are flagged in ``dates_inferred``: a verdict that
rests on them is to be confirmed.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.core.periods import to_timestamp

STATES = ("not_started", "in_progress", "done", "late", "cancelled", "unreported")

#: Thresholds of the schedule rules, in one place.
SCHEDULE_THRESHOLDS = {
    "grace_days": 30,            # S3/S4: days a task may start after its planned start
    "progress_margin_pct": 25,   # S2: points of progress behind the elapsed share of the window
}
DEFAULT_GRACE_DAYS = SCHEDULE_THRESHOLDS["grace_days"]

#: The schedule rules: id -> (what it flags, thresholds it reads). French sentences: report layer.
SCHEDULE_RULES = {
    "S1": ("overdue", ()),
    "S2": ("behind", ("progress_margin_pct",)),
    "S3": ("start_late_not_started", ("grace_days",)),
    "S4": ("started_late", ("grace_days",)),
    "S5": ("ended_late", ()),
}

#: Words of a ``source`` saying that a planned date was inferred, not printed in the roadmap.
#: Each marker -> which dates it makes inferred.
INFERRED_MARKERS = {
    "fenêtre déduite": ("start", "end"),
    "sans fin imprimée": ("end",),
    "fin non imprimée": ("end",),
    "aucune imprimée": ("end",),
    "aucune date dans le texte": ("start",),
    "vraisemblablement": ("start", "end"),
    "lu ici comme": ("start", "end"),
    "début lu dans": ("start",),
    "dernier jalon imprimé": ("end",),
    "dates : lancement": ("start", "end"),
}

_OUT_COLUMNS = ["task_id", "action_code", "task_label", "planned_start", "planned_end",
                "status", "status_date", "actual_start", "actual_end", "progress_pct", "comment", "state",
                "late_rule", "slippage_days", "start_delay_days", "end_delay_days", "start_late",
                "elapsed_pct", "progress_gap_pct", "on_time", "has_status", "start_inferred", "end_inferred",
                "dates_inferred"]


def inferred_dates(source) -> tuple:
    """Return ``(start_inferred, end_inferred)`` read from a roadmap row's ``source`` text."""
    text = "" if source is None or (isinstance(source, float) and np.isnan(source)) else str(source).lower()
    start = end = False
    for marker, which in INFERRED_MARKERS.items():
        if marker in text:
            start = start or "start" in which
            end = end or "end" in which
    return start, end


def has_followup(schedule_status: Optional[pd.DataFrame], as_of=None) -> bool:
    """Return True when the bundle holds chronogramme follow-up: a status report dated on or before ``as_of``.

    A bundle made by ``fne-eval bundle init`` carries the roadmap's tasks and planned dates
    but an empty ``schedule_status`` table until the follow-up is imported: no task state
    is then *known*, which is not the same as « not started » or « late ». Without
    ``as_of`` any report counts.
    """
    if schedule_status is None or not len(schedule_status):
        return False
    if as_of is None:
        return True
    return bool((pd.to_datetime(schedule_status["status_date"]) <= to_timestamp(as_of)).any())


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


def _elapsed_pct(pstart, pend, as_of) -> Optional[float]:
    if pd.isna(pstart) or pd.isna(pend):
        return None
    total = (pd.Timestamp(pend) - pd.Timestamp(pstart)).days + 1
    done = (as_of - pd.Timestamp(pstart)).days + 1
    return float(min(max(100.0 * done / total, 0.0), 100.0)) if total > 0 else None


def _derive(task: dict, as_of: pd.Timestamp, grace: int, margin: float, followup: bool = True) -> dict:
    status = task["status"]
    pstart, pend = task["planned_start"], task["planned_end"]
    astart, aend = task["actual_start"], task["actual_end"]
    astart_known = not pd.isna(astart)
    out = {"state": None, "late_rule": None, "slippage_days": None, "start_delay_days": None,
           "end_delay_days": None, "start_late": None, "elapsed_pct": None, "progress_gap_pct": None,
           "on_time": None}
    if not followup:
        # no status report in the bundle: the plan only, no verdict
        out["state"] = "unreported"
        out["elapsed_pct"] = _elapsed_pct(pstart, pend, as_of)
        return out
    if status == "cancelled":
        out["state"] = "cancelled"
        return out
    if status == "done":
        end = aend if not pd.isna(aend) else task["status_date"]
        out["state"] = "done"
        out["slippage_days"] = out["end_delay_days"] = _days(end, pend)
        out["start_delay_days"] = _days(astart, pstart) if astart_known else None
        out["start_late"] = out["start_delay_days"] is not None and out["start_delay_days"] > grace
        out["on_time"] = out["slippage_days"] is not None and out["slippage_days"] <= 0
        out["elapsed_pct"] = 100.0
        return out
    started = status == "in_progress" or astart_known
    # not started yet: the start delay runs until it starts
    delay = (_days(astart, pstart) if astart_known else None) if started else _days(as_of, pstart)
    out["start_delay_days"] = delay
    out["start_late"] = delay is not None and delay > grace
    elapsed = _elapsed_pct(pstart, pend, as_of)
    out["elapsed_pct"] = elapsed
    progress = task.get("progress_pct")
    if not started:
        progress = 0.0
    if progress is not None and not pd.isna(progress) and elapsed is not None:
        out["progress_gap_pct"] = float(elapsed - float(progress))
    if as_of > pend:
        out["state"], out["late_rule"] = "late", "S1"
        out["slippage_days"] = out["end_delay_days"] = _days(as_of, pend)
    elif out["progress_gap_pct"] is not None and out["progress_gap_pct"] > margin:
        out["state"], out["late_rule"] = "late", "S2"
        out["slippage_days"] = 0
        out["end_delay_days"] = 0
    else:
        out["state"] = "in_progress" if started else "not_started"
        out["slippage_days"] = 0
        out["end_delay_days"] = 0
    out["on_time"] = out["state"] != "late"
    return out


def task_status(schedule_tasks: pd.DataFrame, schedule_status: pd.DataFrame, as_of,
                grace_days: int = DEFAULT_GRACE_DAYS,
                progress_margin_pct: float = SCHEDULE_THRESHOLDS["progress_margin_pct"]) -> pd.DataFrame:
    """Derive each task's state, late start, late end and progress at ``as_of``.

    Parameters
    ----------
    schedule_tasks, schedule_status : pandas.DataFrame
        The ``schedule_tasks`` and ``schedule_status`` tables.
    as_of : date-like
        Evaluation date; later status reports are ignored.
    grace_days : int, default 30
        Days a task may start after its planned start before its start counts as late (S3, S4).
    progress_margin_pct : float, default 25
        Points of progress a task may be behind the elapsed share of its window (S2).

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task_id``, ``action_code``, ``task_label``, ``planned_start``,
        ``planned_end``, the latest report (``status``, ``status_date``, ``actual_start``,
        ``actual_end``, ``progress_pct``, ``comment``; missing without report), ``state``
        (see the module docstring), ``late_rule`` (S1 or S2 when late), ``slippage_days``
        and ``end_delay_days`` (late *end*: actual end − planned end for done tasks,
        negative when early; ``as_of`` − planned end when overdue; 0 otherwise),
        ``start_delay_days`` (late *start*), ``start_late`` (start delay > ``grace_days``),
        ``elapsed_pct`` (share of the planned window elapsed), ``progress_gap_pct``
        (elapsed share − progress), ``on_time`` (missing for cancelled tasks),
        ``has_status``, and ``start_inferred``, ``end_inferred``, ``dates_inferred`` (a
        planned date inferred at transcription, read from ``source``).

        Without any status report dated on or before ``as_of`` (:func:`has_followup`)
        every task is ``unreported``: ``late_rule``, the delays, ``start_late``,
        ``progress_gap_pct`` and ``on_time`` are missing, ``elapsed_pct`` is kept. When
        only some tasks have a report, a task without one is judged as not started (see
        the module docstring).
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be >= 0, got {grace_days}")
    if progress_margin_pct < 0:
        raise ValueError(f"progress_margin_pct must be >= 0, got {progress_margin_pct}")
    as_of = to_timestamp(as_of)
    latest = latest_status(schedule_status, as_of)
    keep = ["task_id", "status", "status_date", "actual_start", "actual_end", "progress_pct"]
    if "comment" in latest.columns:
        keep.append("comment")
    cols = ["task_id", "action_code", "task_label", "planned_start", "planned_end"]
    src = schedule_tasks["source"] if "source" in schedule_tasks.columns else pd.Series([None] * len(schedule_tasks))
    df = schedule_tasks[cols].merge(latest[keep], on="task_id", how="left", validate="1:1")
    if "comment" not in df.columns:
        df["comment"] = pd.NA
    df["comment"] = df["comment"].astype("string")
    followup = has_followup(schedule_status, as_of)
    rows = [_derive(r, as_of, grace_days, progress_margin_pct, followup) for r in df.to_dict("records")]
    derived = pd.DataFrame(rows, index=df.index,
                           columns=["state", "late_rule", "slippage_days", "start_delay_days", "end_delay_days",
                                    "start_late", "elapsed_pct", "progress_gap_pct", "on_time"])
    df = pd.concat([df, derived], axis=1)
    df["state"] = df["state"].astype("string")
    df["late_rule"] = df["late_rule"].astype("string")
    for c in ("slippage_days", "start_delay_days", "end_delay_days"):
        df[c] = pd.array(df[c].tolist(), dtype="Int64")
    for c in ("elapsed_pct", "progress_gap_pct"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["start_late"] = pd.array(df["start_late"].tolist(), dtype="boolean")
    df["on_time"] = pd.array(df["on_time"].tolist(), dtype="boolean")
    df["has_status"] = df["status"].notna().astype(bool)
    flags = [inferred_dates(s) for s in src.tolist()]
    df["start_inferred"] = [f[0] for f in flags]
    df["end_inferred"] = [f[1] for f in flags]
    df["dates_inferred"] = df["start_inferred"] | df["end_inferred"]
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
        ``n_cancelled``, ``n_unreported`` (no follow-up in the bundle), ``n_reported`` (tasks
        with a report), ``on_time_pct`` (on-time tasks among non-cancelled tasks that were
        judged; NaN without any), ``max_slippage_days`` (all
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
        row["n_start_late"] = int(grp["start_late"].fillna(False).astype(bool).sum()) if "start_late" in grp else 0
        judged = grp.loc[(grp["state"] != "cancelled") & grp["on_time"].notna(), "on_time"]
        row["on_time_pct"] = (100.0 * judged.astype(bool).sum() / len(judged)) if len(judged) else np.nan
        sl = grp["slippage_days"].dropna()
        row["max_slippage_days"] = int(sl.max()) if len(sl) else pd.NA
        open_sl = grp.loc[~grp["state"].isin(["done", "cancelled"]), "slippage_days"].dropna()
        row["max_open_slippage_days"] = int(open_sl.max()) if len(open_sl) else pd.NA
        rows.append(row)
    cols = [by, "n_tasks"] + [f"n_{s}" for s in STATES] + ["n_reported", "n_start_late", "on_time_pct",
                                                           "max_slippage_days",
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
    ``actual_start`` is missing for a task not started. ``bar_kind`` says how the task is
    drawn: ``done``, ``in_progress`` (started, planned end not passed), ``overdue`` (planned
    end before ``as_of`` and not done, started or not), ``not_started`` (not yet due),
    ``cancelled`` or ``unreported`` (no follow-up in the bundle, see :func:`has_followup`:
    the planned bar only, never ``overdue``). Rows are sorted by action and planned start.
    """
    ts = task_status(schedule_tasks, schedule_status, as_of, grace_days)
    as_of = to_timestamp(as_of)
    started = ts["actual_start"].notna() | ts["status"].isin(["in_progress", "done"])
    done = ts["status"] == "done"
    ongoing = started & ~done & (ts["status"] != "cancelled")
    out = ts[["task_id", "action_code", "task_label", "planned_start", "planned_end",
              "actual_start", "actual_end", "state", "slippage_days", "start_late", "progress_pct",
              "dates_inferred"]].copy()
    # a done task without an actual end ends on its report date
    out.loc[done & out["actual_end"].isna(), "actual_end"] = ts.loc[done & ts["actual_end"].isna(), "status_date"]
    # a started task without an actual start: its first report is unknown here, use the report date
    fill_start = started & out["actual_start"].isna()
    out.loc[fill_start, "actual_start"] = ts.loc[fill_start, "status_date"]
    out.loc[ongoing, "actual_end"] = as_of
    out["is_ongoing"] = ongoing.astype(bool)
    # what the chart draws: overdue (red) only when the planned end has passed and the task is
    # not finished; work in progress within its window is « en cours », never red
    unreported = (ts["state"] == "unreported").fillna(False).astype(bool)
    overdue = (ts["planned_end"].notna() & (pd.to_datetime(ts["planned_end"]) < as_of) & ~done
               & (ts["status"] != "cancelled") & ~unreported)
    kind = pd.Series("not_started", index=ts.index, dtype=object)
    kind[ongoing] = "in_progress"
    kind[done] = "done"
    kind[ts["status"] == "cancelled"] = "cancelled"
    kind[overdue] = "overdue"
    kind[unreported] = "unreported"
    out["bar_kind"] = kind.astype(str)
    return out.sort_values(["action_code", "planned_start", "task_id"], kind="stable").reset_index(drop=True)
