"""Rate each action green / amber / red (grey without data): the rule-based « météo ».

The rules live in ONE place, :data:`METEO_RULES` (ids, statuses, what they read) with
their thresholds in :data:`METEO_THRESHOLDS`; their French sentences are in the report
layer (:mod:`fne_eval.report.labels`). This module returns rule ids and figures: each
fired rule gives *findings* naming what caused it (the task, its planned dates and its
delay or progress; the budget ratio; the indicator and its target).

A finding that rests on a date or a target inferred when the roadmap was transcribed is
``inferred``: it is « à confirmer », and inferred findings alone never make an action red
(the action is then amber with ``to_confirm``).

The metrics come from the chronogramme (:mod:`fne_eval.evaluate.schedule`: only late
*ends* and tasks behind their progress count, a late start alone does not), the budget
burn (:mod:`fne_eval.evaluate.budget`) and the indicators judged against the roadmap's own
targets (:mod:`fne_eval.evaluate.targets`). An absence of follow-up is not a delay:
without any chronogramme status report (:func:`fne_eval.evaluate.schedule.has_followup`)
the tasks are ``unreported`` and the task rules (R1, A1, A2) do not fire; without any
transaction the budget rules (R2, A3) do not. A COPIL decision in ``meteo_overrides``
replaces the computed status; both are kept.
"""
from __future__ import annotations

import math
import operator
from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.bundle.io import empty_table, tables_of
from fne_eval.core.periods import to_timestamp
from fne_eval.evaluate.budget import budget_burn
from fne_eval.evaluate.indicators import indicator_progress, indicator_values, load_catalogue
from fne_eval.evaluate.schedule import inferred_dates, schedule_summary, task_status
from fne_eval.evaluate.targets import target_verdicts

#: Severity order of the statuses.
STATUS_RANK = {"grey": 0, "green": 1, "amber": 2, "red": 3}

#: Every threshold of the météo, in one place.
METEO_THRESHOLDS = {
    "overdue_red_days": 90,        # R1: a task not done, planned end passed by more than this
    "overdue_amber_days": 30,      # A1: idem, milder
    "burn_red_elapsed_pct": 50,    # R2: share of the action's period elapsed ...
    "burn_red_ratio": 0.5,         # ... and payment rate / elapsed share below this
    "burn_amber_elapsed_pct": 25,  # A3
    "burn_amber_ratio": 0.8,
    "indicator_red_elapsed_pct": 75,   # R3: share elapsed ...
    "indicator_red_progress_pct": 25,  # ... and an indicator under this share of its way
}
_T = METEO_THRESHOLDS

#: The météo rules: red before amber. ``kind`` says what the rule reads: ``task`` rules fire
#: per task of the chronogramme (findings name the task), ``metric`` rules read the action's
#: metrics (all conditions must hold). ``supersedes`` names milder rules a fired rule hides
#: for the same cause. No rule flags payments running *ahead* of time: the FNE budget funds
#: the "actions 2024 - 2025" (annexe 6) while several actions run to 2027.
METEO_RULES = [
    {"rule_id": "R1", "status": "red", "kind": "task", "supersedes": ("A1",),
     "conditions": (("task_overdue_days", ">", _T["overdue_red_days"]),)},
    {"rule_id": "R2", "status": "red", "kind": "metric", "supersedes": ("A3",),
     "conditions": (("elapsed_pct", ">", _T["burn_red_elapsed_pct"]), ("burn_ratio", "<", _T["burn_red_ratio"]))},
    {"rule_id": "R3", "status": "red", "kind": "metric", "supersedes": ("A4",),
     "conditions": (("elapsed_pct", ">", _T["indicator_red_elapsed_pct"]),
                    ("min_progress_pct", "<", _T["indicator_red_progress_pct"]))},
    {"rule_id": "A1", "status": "amber", "kind": "task",
     "conditions": (("task_overdue_days", ">", _T["overdue_amber_days"]),)},
    {"rule_id": "A2", "status": "amber", "kind": "task",
     "conditions": (("task_behind", "==", True),)},
    {"rule_id": "A3", "status": "amber", "kind": "metric",
     "conditions": (("elapsed_pct", ">", _T["burn_amber_elapsed_pct"]), ("burn_ratio", "<", _T["burn_amber_ratio"]))},
    {"rule_id": "A4", "status": "amber", "kind": "metric",
     "conditions": (("n_indicators_off_track", ">=", 1),)},
]

#: Metrics and task figures the rules may read.
METRICS = ("task_overdue_days", "task_behind", "max_open_slippage_days", "on_time_pct", "elapsed_pct",
           "burn_ratio", "n_indicators_off_track", "min_progress_pct")

METRIC_COLUMNS = ["action_code", "axis_code", "n_tasks", "n_reported", "n_late", "n_start_late",
                  "max_slippage_days", "max_open_slippage_days",
                  "on_time_pct", "elapsed_pct", "payment_rate_pct", "burn_ratio", "burn_label",
                  "n_transactions", "n_indicators", "n_indicators_observed", "n_indicators_off_track",
                  "min_progress_pct", "action_dates_inferred", "has_data"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


def _check_rules(rules) -> None:
    for r in rules:
        if r["status"] not in ("red", "amber"):
            raise ValueError(f"rule {r['rule_id']}: status must be 'red' or 'amber', got {r['status']!r}")
        if r.get("kind", "metric") not in ("task", "metric"):
            raise ValueError(f"rule {r['rule_id']}: kind must be 'task' or 'metric'")
        for metric, op, _ in r["conditions"]:
            if metric not in METRICS:
                raise ValueError(f"rule {r['rule_id']}: unknown metric {metric!r}")
            if op not in _OPS:
                raise ValueError(f"rule {r['rule_id']}: unknown operator {op!r}")


_check_rules(METEO_RULES)


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _holds(values: dict, conditions) -> bool:
    for metric, op, threshold in conditions:
        v = values.get(metric)
        if _missing(v) or not _OPS[op](v, threshold):
            return False
    return True


def evaluate_rules(metrics: dict, rules=None) -> list:
    """Return the *metric* rules (records) whose conditions all hold for one action's ``metrics``.

    A missing or NaN metric never satisfies a condition.
    """
    rules = METEO_RULES if rules is None else rules
    return [r for r in rules if r.get("kind", "metric") == "metric" and _holds(metrics, r["conditions"])]


def task_findings(tasks: pd.DataFrame, rules=None) -> list:
    """Return the findings of the *task* rules for the tasks of one action.

    ``tasks`` holds rows of :func:`fne_eval.evaluate.schedule.task_status`. A task fires at
    most one rule: the most severe (R1 before A1). Each finding is a dict with ``rule_id``,
    ``status``, ``task_id``, ``task_label``, ``planned_start``, ``planned_end``,
    ``days_overdue`` or ``progress_pct`` and ``elapsed_pct``, ``comment``, ``inferred``
    (a date the verdict rests on was inferred), and ``start_inferred`` / ``end_inferred``
    (which of those dates: only the planned end for a late end, start and end for a task
    behind its progress).
    """
    rules = METEO_RULES if rules is None else rules
    task_rules = [r for r in rules if r.get("kind") == "task"]
    out = []
    for t in tasks.to_dict("records"):
        overdue = t.get("late_rule") == "S1"
        values = {"task_overdue_days": int(t["end_delay_days"]) if overdue and not _missing(t.get("end_delay_days"))
                  else None,
                  "task_behind": True if t.get("late_rule") == "S2" else None}
        for r in task_rules:
            if _holds(values, r["conditions"]):
                # the dates the verdict rests on: the planned end for a late end, the whole window otherwise
                inf_start = False if overdue else bool(t.get("start_inferred"))
                inf_end = bool(t.get("end_inferred"))
                if not overdue and t.get("start_inferred") is None and t.get("end_inferred") is None:
                    inf_start = inf_end = bool(t.get("dates_inferred"))
                inferred = inf_end if overdue else bool(t.get("dates_inferred"))
                out.append({"rule_id": r["rule_id"], "status": r["status"], "task_id": t["task_id"],
                            "task_label": t["task_label"], "planned_start": t["planned_start"],
                            "planned_end": t["planned_end"],
                            "days_overdue": values["task_overdue_days"],
                            "progress_pct": None if _missing(t.get("progress_pct")) else float(t["progress_pct"]),
                            "elapsed_pct": None if _missing(t.get("elapsed_pct")) else float(t["elapsed_pct"]),
                            "status_reported": t.get("status"),
                            "comment": None if _missing(t.get("comment")) else str(t["comment"]),
                            "inferred": inferred, "start_inferred": inf_start and inferred,
                            "end_inferred": inf_end and inferred})
                break
    return out


def computed_status(metrics: dict, has_data: bool, rules=None, tasks: Optional[pd.DataFrame] = None) -> tuple:
    """Return ``(status, findings, rule_ids, to_confirm)`` for one action.

    ``findings`` is a list of dicts (see :func:`task_findings`; metric rules give
    ``rule_id``, ``status``, the figures they read and ``inferred``). Red resting only on
    inferred findings is lowered to amber and ``to_confirm`` is True.
    """
    if not has_data:
        return "grey", [], "", False
    findings = task_findings(tasks, rules) if tasks is not None and len(tasks) else []
    fired = evaluate_rules(metrics, rules)
    hidden = {h for r in fired for h in r.get("supersedes", ())}
    for r in fired:
        if r["rule_id"] in hidden:
            continue
        f = {"rule_id": r["rule_id"], "status": r["status"],
             "inferred": bool(metrics.get("action_dates_inferred")) and any(
                 m == "elapsed_pct" for m, _, _ in r["conditions"])}
        for m, _, _ in r["conditions"]:
            f[m] = metrics.get(m)
        if r["rule_id"] in ("R2", "A3"):
            f["payment_rate_pct"] = metrics.get("payment_rate_pct")
        if r["rule_id"] in ("R3", "A4"):
            f["off_track"] = metrics.get("off_track_indicators", [])
        findings.append(f)
    if not findings:
        return "green", [], "", False
    firm = [f for f in findings if not f["inferred"]]
    status = max((f["status"] for f in findings), key=STATUS_RANK.get)
    to_confirm = any(f["inferred"] for f in findings)
    if status == "red" and not any(f["status"] == "red" for f in firm):
        status = "amber"
    order = {r["rule_id"]: i for i, r in enumerate(METEO_RULES if rules is None else rules)}
    findings.sort(key=lambda f: (order.get(f["rule_id"], 99), f["inferred"]))
    ids = []
    for f in findings:
        if f["rule_id"] not in ids:
            ids.append(f["rule_id"])
    return status, findings, "|".join(ids), to_confirm


def meteo_rules_table(rules=None) -> pd.DataFrame:
    """Return the météo rules as data: ``rule_id``, ``status``, ``kind``, ``conditions`` (tuples).

    The report layer writes them in French; the green (``V``) and grey (``G``) cases close the list.
    """
    rules = METEO_RULES if rules is None else rules
    rows = [{"rule_id": r["rule_id"], "status": r["status"], "kind": r.get("kind", "metric"),
             "conditions": r["conditions"]} for r in rules]
    rows.append({"rule_id": "V", "status": "green", "kind": "none", "conditions": ()})
    rows.append({"rule_id": "G", "status": "grey", "kind": "none", "conditions": ()})
    return pd.DataFrame(rows, columns=["rule_id", "status", "kind", "conditions"])


def _latest_overrides(overrides: Optional[pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    if overrides is None or not len(overrides):
        return pd.DataFrame(columns=["action_code", "override_status", "override_justification",
                                     "override_date", "override_decided_by"])
    ov = overrides[pd.to_datetime(overrides["decision_date"]) <= as_of]
    ov = ov.sort_values(["action_code", "decision_date"], kind="stable").drop_duplicates("action_code", keep="last")
    return pd.DataFrame({"action_code": ov["action_code"].astype("string"),
                         "override_status": ov["status"].astype("string"),
                         "override_justification": ov["justification"].astype("string"),
                         "override_date": pd.to_datetime(ov["decision_date"]),
                         "override_decided_by": ov["decided_by"].astype("string")})


def action_metrics(bundle_or_tables, as_of, grace_days: int = 30, tolerance: float = 0.2,
                   task_status_frame: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Compute, per action, the metrics the météo rules read.

    Returns
    -------
    pandas.DataFrame
        ``action_code``, ``axis_code``, ``n_tasks``, ``n_reported``, ``n_late`` (late ends
        and tasks behind), ``n_start_late``, ``max_slippage_days`` (done tasks included),
        ``max_open_slippage_days`` (tasks not done), ``on_time_pct``, ``elapsed_pct``,
        ``payment_rate_pct``, ``burn_ratio``, ``burn_label``, ``n_transactions``,
        ``n_indicators``, ``n_indicators_observed``, ``n_indicators_off_track`` (against the
        roadmap's own targets only, see :mod:`fne_eval.evaluate.targets`),
        ``min_progress_pct`` (idem), ``action_dates_inferred`` and ``has_data``.
    """
    t = tables_of(bundle_or_tables)
    get = lambda n: t[n] if t.get(n) is not None else empty_table(n)
    as_of = to_timestamp(as_of)
    actions = get("actions")
    ts = task_status_frame if task_status_frame is not None else task_status(
        get("schedule_tasks"), get("schedule_status"), as_of, grace_days)
    summary = schedule_summary(ts, actions, by="action_code")
    burn = budget_burn(get("budget_lines"), get("budget_transactions"), actions, as_of, tolerance)

    lines = get("budget_lines")
    tx = get("budget_transactions")
    tx = tx[pd.to_datetime(tx["date"]) <= as_of] if len(tx) else tx
    line_action = lines.set_index("budget_line_id")["action_code"] if len(lines) else pd.Series(dtype="string")
    tx_actions = tx["budget_line_id"].map(line_action) if len(tx) else pd.Series(dtype="string")
    n_tx = tx_actions.value_counts()

    catalogue = get("indicators")
    if not len(catalogue):
        catalogue = load_catalogue()
    cat = catalogue[catalogue["action_code"].notna()]
    progress = pd.DataFrame(columns=["indicator_code", "on_track", "progress_pct", "value", "counted", "verdict",
                                     "target_value", "target_year", "expected_value"])
    observed = set()
    if len(cat) and t.get("territories") is not None and len(t["territories"]):
        # the whole catalogue (each indicator is computed on its own), then the actions' ones: the
        # call the annual review and the département's reports make, shared by a run's reports
        values = indicator_values(bundle_or_tables, catalogue, "departement",
                                  period="year", as_of=as_of)
        values = values[values["indicator_code"].isin(set(cat["indicator_code"])).to_numpy(dtype=bool)]
        values = values.reset_index(drop=True)
        observed = set(values.loc[values["n_obs"] > 0, "indicator_code"])
        progress = target_verdicts(indicator_progress(values, cat, as_of), cat, as_of.year)
    ind_action = cat.set_index("indicator_code")["action_code"]
    progress = progress.assign(action_code=progress["indicator_code"].map(ind_action))

    rows = []
    for a in actions.to_dict("records"):
        code = a["action_code"]
        s = summary[summary["action_code"] == code]
        b = burn[burn["action_code"] == code]
        p = progress[progress["action_code"] == code]
        p_obs = p[p["indicator_code"].isin(observed)]
        counted = p_obs[p_obs["counted"].astype(bool)] if len(p_obs) else p_obs
        off = counted[counted["verdict"] == "off_track"] if len(counted) else counted
        a_start, a_end = inferred_dates(a.get("source"))
        row = {
            "action_code": code, "axis_code": a["axis_code"],
            "n_tasks": int(s["n_tasks"].iloc[0]) if len(s) else 0,
            "n_reported": int(s["n_reported"].iloc[0]) if len(s) else 0,
            "n_late": int(s["n_late"].iloc[0]) if len(s) else 0,
            "n_start_late": int(s["n_start_late"].iloc[0]) if len(s) else 0,
            "max_slippage_days": s["max_slippage_days"].iloc[0] if len(s) else pd.NA,
            "max_open_slippage_days": s["max_open_slippage_days"].iloc[0] if len(s) else pd.NA,
            "on_time_pct": float(s["on_time_pct"].iloc[0]) if len(s) else np.nan,
            "elapsed_pct": float(b["elapsed_pct"].iloc[0]) if len(b) else np.nan,
            "payment_rate_pct": float(b["payment_rate_pct"].iloc[0]) if len(b) else np.nan,
            "burn_ratio": float(b["burn_ratio"].iloc[0]) if len(b) else np.nan,
            "burn_label": b["burn_label"].iloc[0] if len(b) else pd.NA,
            "n_transactions": int(n_tx.get(code, 0)),
            "n_indicators": int((cat["action_code"] == code).sum()),
            "n_indicators_observed": int(p_obs["indicator_code"].nunique()),
            "n_indicators_off_track": int(len(off)),
            "min_progress_pct": float(counted["progress_pct"].min())
            if len(counted) and counted["progress_pct"].notna().any() else np.nan,
            "action_dates_inferred": bool(a_start or a_end),
        }
        # a task without any report is still judged on its plan, but is no data by itself
        row["has_data"] = bool(row["n_reported"] or row["n_transactions"] or row["n_indicators_observed"])
        row["_off_track"] = [{"indicator_code": r["indicator_code"], "value": r["value"],
                              "target_value": r["target_value"], "target_year": r["target_year"],
                              "expected_value": r["expected_value"]} for r in off.to_dict("records")]
        rows.append(row)
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS + ["_off_track"])
    for c in ("max_slippage_days", "max_open_slippage_days"):
        out[c] = pd.array(out[c].tolist(), dtype="Int64")
    for c in ("action_code", "axis_code", "burn_label"):
        out[c] = out[c].astype("string")
    return out


def action_meteo(bundle_or_tables, as_of, grace_days: int = 30, tolerance: float = 0.2,
                 rules=None) -> pd.DataFrame:
    """Compute each action's météo, apply the COPIL overrides, and say why (as data).

    Parameters
    ----------
    bundle_or_tables : Bundle or dict of str to DataFrame
        Typed tables; reads ``actions``, ``schedule_tasks``, ``schedule_status``,
        ``budget_lines``, ``budget_transactions``, ``indicators`` (the packaged catalogue
        when empty), the monitoring tables behind the indicators, and ``meteo_overrides``.
    as_of : date-like
        Evaluation date; later reports, transactions and COPIL decisions are ignored.
    grace_days : int, default 30
        Grace period of a task's start (see :func:`fne_eval.evaluate.schedule.task_status`).
    tolerance : float, default 0.2
        Band of the budget burn label (see :func:`fne_eval.evaluate.budget.budget_burn`).
    rules : list of dict, optional
        Rules to apply instead of :data:`METEO_RULES` (same record shape).

    Returns
    -------
    pandas.DataFrame
        One row per action: ``action_code``, ``computed_status`` (green, amber, red, or
        grey without any data), ``findings`` (list of dicts: what caused each fired rule,
        see :func:`computed_status`), ``fired_rules`` (ids joined by ``|``), ``to_confirm``
        (a finding rests on an inferred date), ``reasons`` (the rule ids with their main
        figure, for logs; readers get the report layer's sentences), ``override_status``,
        ``override_justification``, ``override_date``, ``override_decided_by``,
        ``final_status``, then the metrics of :func:`action_metrics`.
    """
    if rules is not None:
        _check_rules(rules)
    t = tables_of(bundle_or_tables)
    get = lambda n: t[n] if t.get(n) is not None else empty_table(n)
    as_of = to_timestamp(as_of)
    ts = task_status(get("schedule_tasks"), get("schedule_status"), as_of, grace_days)
    # the bundle itself, not its tables: its indicator values are then a shared result of the run
    metrics = action_metrics(bundle_or_tables, as_of, grace_days, tolerance, task_status_frame=ts)
    results = []
    for m in metrics.to_dict("records"):
        m_clean = {k: (np.nan if v is pd.NA else v) for k, v in m.items()}
        m_clean["off_track_indicators"] = m.get("_off_track", [])
        tasks = ts[ts["action_code"].astype(str) == str(m["action_code"])]
        status, findings, fired, to_confirm = computed_status(m_clean, m["has_data"], rules, tasks)
        short = " ; ".join(
            f["rule_id"] + (f" {f['task_id']}" if f.get("task_id") else "")
            + (f" {f['days_overdue']}" if f.get("days_overdue") is not None else "") for f in findings)
        results.append({"action_code": m["action_code"], "computed_status": status, "findings": findings,
                        "reasons": short, "fired_rules": fired, "to_confirm": to_confirm})
    res = pd.DataFrame(results, columns=["action_code", "computed_status", "findings", "reasons", "fired_rules",
                                         "to_confirm"])
    res["action_code"] = res["action_code"].astype("string")
    ov = _latest_overrides(t.get("meteo_overrides"), as_of)
    res = res.merge(ov, on="action_code", how="left", validate="1:1")
    res["final_status"] = res["override_status"].fillna(res["computed_status"])
    for c in ("computed_status", "reasons", "fired_rules", "override_status", "override_justification",
              "override_decided_by", "final_status"):
        res[c] = res[c].astype("string")
    res["to_confirm"] = res["to_confirm"].astype(bool)
    res["override_date"] = pd.to_datetime(res["override_date"])
    out = res.merge(metrics.drop(columns=["_off_track"]), on="action_code", how="left", validate="1:1")
    return out.reset_index(drop=True)
