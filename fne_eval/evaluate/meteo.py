"""Rate each action green / amber / red (grey without data): the rule-based « météo ».

The rules live in ONE place, :data:`METEO_RULES`: a list of records, each with a status,
conditions on per-action metrics (all must hold) and a French text that reports show
(:func:`meteo_rules_table`). The metrics come from the chronogramme
(:mod:`fne_eval.evaluate.schedule`), the budget burn (:mod:`fne_eval.evaluate.budget`) and the indicators'
progress (:mod:`fne_eval.evaluate.indicators`). A COPIL decision in ``meteo_overrides`` replaces
the computed status; both are kept and shown, with the justification.
"""
from __future__ import annotations

import math
import operator
from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.bundle.io import empty_table, tables_of

from fne_eval.core.periods import to_timestamp
from fne_eval.core.fmt import fmt_number

#: Severity order of the statuses.
STATUS_RANK = {"grey": 0, "green": 1, "amber": 2, "red": 3}
STATUS_LABELS = {"green": "Vert", "amber": "Orange", "red": "Rouge", "grey": "Gris (pas de données)"}

#: French names and units of the metrics the rules read.
METRICS = {
    "max_open_slippage_days": ("retard maximal d'une tâche non terminée", " jours"),
    "on_time_pct": ("part des tâches dans les temps", " %"),
    "elapsed_pct": ("part de la période de l'action écoulée", " %"),
    "burn_ratio": ("ratio taux de paiement / temps écoulé", ""),
    "n_indicators_off_track": ("indicateurs hors trajectoire", ""),
    "min_progress_pct": ("avancement le plus faible d'un indicateur vers sa cible", " %"),
}

#: The météo rules: red before amber; within a status, in the order shown to readers.
#: ``supersedes`` names milder rules a fired rule hides from the reasons. No rule flags
#: payments running *ahead* of time: the FNE budget funds the "actions 2024 - 2025"
#: (annexe 6) while several actions run to 2027, so early payment is expected.
METEO_RULES = [
    {"rule_id": "R1", "status": "red", "conditions": (("max_open_slippage_days", ">", 90),), "supersedes": ("A1",),
     "text": "Au moins une tâche du chronogramme non terminée a plus de 90 jours de retard."},
    {"rule_id": "R2", "status": "red", "conditions": (("elapsed_pct", ">", 50), ("burn_ratio", "<", 0.5)),
     "supersedes": ("A3",),
     "text": "Plus de la moitié de la période de l'action est écoulée et le taux de paiement est inférieur "
             "à la moitié de la part de temps écoulé."},
    {"rule_id": "R3", "status": "red", "conditions": (("elapsed_pct", ">", 75), ("min_progress_pct", "<", 25)),
     "text": "Plus des trois quarts de la période de l'action sont écoulés et un indicateur a parcouru moins "
             "de 25 % du chemin entre sa valeur de référence et sa cible."},
    {"rule_id": "A1", "status": "amber", "conditions": (("max_open_slippage_days", ">", 30),),
     "text": "Au moins une tâche du chronogramme non terminée a plus de 30 jours de retard."},
    {"rule_id": "A2", "status": "amber", "conditions": (("on_time_pct", "<", 75),),
     "text": "Moins des trois quarts des tâches de l'action sont dans les temps."},
    {"rule_id": "A3", "status": "amber", "conditions": (("elapsed_pct", ">", 25), ("burn_ratio", "<", 0.8)),
     "text": "Plus d'un quart de la période de l'action est écoulé et le taux de paiement est inférieur "
             "à 80 % de la part de temps écoulé."},
    {"rule_id": "A4", "status": "amber", "conditions": (("n_indicators_off_track", ">=", 1),),
     "text": "Au moins un indicateur de l'action est en dessous de sa trajectoire vers la cible."},
]

NO_DATA_TEXT = ("Pas de données de suivi pour cette action à cette date (ni point d'avancement du "
                "chronogramme, ni engagement ou paiement, ni indicateur observé).")
NO_RULE_TEXT = "Aucune règle d'alerte déclenchée."

METRIC_COLUMNS = ["action_code", "axis_code", "n_tasks", "n_reported", "n_late", "max_slippage_days",
                  "max_open_slippage_days",
                  "on_time_pct", "elapsed_pct", "payment_rate_pct", "burn_ratio", "burn_label",
                  "n_transactions", "n_indicators", "n_indicators_observed", "n_indicators_off_track",
                  "min_progress_pct", "has_data"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_OPS_FR = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def _check_rules(rules) -> None:
    for r in rules:
        if r["status"] not in ("red", "amber"):
            raise ValueError(f"rule {r['rule_id']}: status must be 'red' or 'amber', got {r['status']!r}")
        for metric, op, _ in r["conditions"]:
            if metric not in METRICS:
                raise ValueError(f"rule {r['rule_id']}: unknown metric {metric!r}")
            if op not in _OPS:
                raise ValueError(f"rule {r['rule_id']}: unknown operator {op!r}")


_check_rules(METEO_RULES)


def _fmt_metric(metric: str, value) -> str:
    unit = METRICS[metric][1]
    digits = 0 if metric in ("max_open_slippage_days", "n_indicators_off_track") else (2 if metric == "burn_ratio" else 1)
    text = fmt_number(value, digits)
    return text + ("\u00a0%" if unit == " %" else unit)


def meteo_rules_table(rules=None) -> pd.DataFrame:
    """Return the météo rules in French for display.

    Returns
    -------
    pandas.DataFrame
        ``rule_id``, ``meteo`` (French status), ``rule`` (the rule's text) and ``condition``
        (its conditions written out, e.g. « glissement maximal d'une tâche > 90 jours »),
        red rules first, then amber, then the green and grey cases.
    """
    rules = METEO_RULES if rules is None else rules
    rows = []
    for r in rules:
        cond = " et ".join(f"{METRICS[m][0]} {_OPS_FR[op]} {_fmt_metric(m, t)}" for m, op, t in r["conditions"])
        rows.append({"rule_id": r["rule_id"], "meteo": STATUS_LABELS[r["status"]], "rule": r["text"],
                     "condition": cond})
    rows.append({"rule_id": "V", "meteo": STATUS_LABELS["green"],
                 "rule": "Des données de suivi existent et aucune règle rouge ou orange n'est déclenchée.",
                 "condition": "aucune des règles ci-dessus"})
    rows.append({"rule_id": "G", "meteo": STATUS_LABELS["grey"], "rule": NO_DATA_TEXT,
                 "condition": "aucune donnée de suivi"})
    return pd.DataFrame(rows, columns=["rule_id", "meteo", "rule", "condition"])


def evaluate_rules(metrics: dict, rules=None) -> list:
    """Return the rules (records) whose conditions all hold for one action's ``metrics``.

    A missing or NaN metric never satisfies a condition.
    """
    rules = METEO_RULES if rules is None else rules
    fired = []
    for r in rules:
        ok = True
        for metric, op, threshold in r["conditions"]:
            v = metrics.get(metric)
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or not _OPS[op](v, threshold):
                ok = False
                break
        if ok:
            fired.append(r)
    return fired


def computed_status(metrics: dict, has_data: bool, rules=None) -> tuple:
    """Return ``(status, reasons, rule_ids)`` for one action from its metrics."""
    if not has_data:
        return "grey", NO_DATA_TEXT, ""
    fired = evaluate_rules(metrics, rules)
    if not fired:
        return "green", NO_RULE_TEXT, ""
    # a fired rule hides the milder rules it supersedes (e.g. > 90 days late hides > 30 days)
    hidden = {h for r in fired for h in r.get("supersedes", ())}
    fired = [r for r in fired if r["rule_id"] not in hidden]
    status = max((r["status"] for r in fired), key=STATUS_RANK.get)
    parts = []
    for r in fired:
        values = ", ".join(f"{METRICS[m][0]} : {_fmt_metric(m, metrics[m])}" for m, _, _ in r["conditions"])
        parts.append(f"{r['text']} ({values})")
    return status, " ; ".join(parts), "|".join(r["rule_id"] for r in fired)


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


def action_metrics(bundle_or_tables, as_of, grace_days: int = 30, tolerance: float = 0.2) -> pd.DataFrame:
    """Compute, per action, the metrics the météo rules read.

    Returns
    -------
    pandas.DataFrame
        ``action_code``, ``axis_code``, ``n_tasks``, ``n_reported``, ``n_late``,
        ``max_slippage_days`` (done tasks included), ``max_open_slippage_days`` (tasks not
        done: a delay still running; the rules read this one), ``on_time_pct``, ``elapsed_pct``, ``payment_rate_pct``,
        ``burn_ratio``, ``burn_label``, ``n_transactions``, ``n_indicators``,
        ``n_indicators_observed``, ``n_indicators_off_track``, ``min_progress_pct`` and
        ``has_data`` (a status report, a transaction or an observed indicator exists).
    """
    from fne_eval.evaluate.budget import budget_burn
    from fne_eval.evaluate.indicators import indicator_progress, indicator_values, load_catalogue
    from fne_eval.evaluate.schedule import schedule_summary, task_status

    t = tables_of(bundle_or_tables)
    get = lambda n: t[n] if t.get(n) is not None else empty_table(n)
    as_of = to_timestamp(as_of)
    actions = get("actions")
    ts = task_status(get("schedule_tasks"), get("schedule_status"), as_of, grace_days)
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
    progress = pd.DataFrame(columns=["indicator_code", "on_track", "progress_pct", "value"])
    observed = set()
    if len(cat) and t.get("territories") is not None and len(t["territories"]):
        values = indicator_values(t, cat, "departement", period="year", as_of=as_of)
        observed = set(values.loc[values["n_obs"] > 0, "indicator_code"])
        progress = indicator_progress(values, cat, as_of)
    ind_action = cat.set_index("indicator_code")["action_code"]
    progress = progress.assign(action_code=progress["indicator_code"].map(ind_action))

    rows = []
    for a in actions.to_dict("records"):
        code = a["action_code"]
        s = summary[summary["action_code"] == code]
        b = burn[burn["action_code"] == code]
        p = progress[progress["action_code"] == code]
        p_obs = p[p["indicator_code"].isin(observed)]
        row = {
            "action_code": code, "axis_code": a["axis_code"],
            "n_tasks": int(s["n_tasks"].iloc[0]) if len(s) else 0,
            "n_reported": int(s["n_reported"].iloc[0]) if len(s) else 0,
            "n_late": int(s["n_late"].iloc[0]) if len(s) else 0,
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
            "n_indicators_off_track": int((p_obs["on_track"] == False).sum()),  # noqa: E712
            "min_progress_pct": float(p_obs["progress_pct"].min()) if p_obs["progress_pct"].notna().any() else np.nan,
        }
        # a task without any report is still judged on its plan, but is no data by itself
        row["has_data"] = bool(row["n_reported"] or row["n_transactions"] or row["n_indicators_observed"])
        rows.append(row)
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    for c in ("max_slippage_days", "max_open_slippage_days"):
        out[c] = pd.array(out[c].tolist(), dtype="Int64")
    for c in ("action_code", "axis_code", "burn_label"):
        out[c] = out[c].astype("string")
    return out


def action_meteo(bundle_or_tables, as_of, grace_days: int = 30, tolerance: float = 0.2,
                 rules=None) -> pd.DataFrame:
    """Compute each action's météo, apply the COPIL overrides, and say why.

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
        grey without any data), ``reasons`` (French text of the rules that fired, with the
        values), ``fired_rules`` (ids joined by ``|``), ``override_status``,
        ``override_justification``, ``override_date``, ``override_decided_by`` (the latest
        COPIL decision on or before ``as_of``), ``final_status`` (the override when there is
        one, else the computed status), then the metrics of :func:`action_metrics`.
    """
    if rules is not None:
        _check_rules(rules)
    t = tables_of(bundle_or_tables)
    as_of = to_timestamp(as_of)
    metrics = action_metrics(t, as_of, grace_days, tolerance)
    results = []
    for m in metrics.to_dict("records"):
        m_clean = {k: (np.nan if v is pd.NA else v) for k, v in m.items()}
        status, reasons, fired = computed_status(m_clean, m["has_data"], rules)
        results.append({"action_code": m["action_code"], "computed_status": status, "reasons": reasons,
                        "fired_rules": fired})
    res = pd.DataFrame(results, columns=["action_code", "computed_status", "reasons", "fired_rules"])
    res["action_code"] = res["action_code"].astype("string")
    ov = _latest_overrides(t.get("meteo_overrides"), as_of)
    res = res.merge(ov, on="action_code", how="left", validate="1:1")
    res["final_status"] = res["override_status"].fillna(res["computed_status"])
    for c in ("computed_status", "reasons", "fired_rules", "override_status", "override_justification",
              "override_decided_by", "final_status"):
        res[c] = res[c].astype("string")
    res["override_date"] = pd.to_datetime(res["override_date"])
    out = res.merge(metrics, on="action_code", how="left", validate="1:1")
    return out.reset_index(drop=True)
