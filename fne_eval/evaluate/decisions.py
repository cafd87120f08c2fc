"""What the COPIL has to decide: proposals, key figures against last year, what to confirm.

Everything here returns ids and figures; the French wording is the report layer's
(:mod:`fne_eval.report.sections.annual_review`).

:func:`propose_decisions`  3 to 5 decisions, each on one action, with its cause (a météo
                           finding: the task, its dates and its figure) and a proposal kind:
                           ``unblock`` (a partner or the means are missing), ``replan`` (a
                           task overdue or behind), ``reallocate`` (payments behind time),
                           ``confirm_date`` (the verdict rests on an inferred date).
                           A bundle without chronogramme follow-up has no task finding
                           (:func:`fne_eval.evaluate.schedule.has_followup`), hence no
                           ``replan``, ``unblock`` nor ``confirm_date`` on a task.
:func:`key_figures`        the year's key figures and the previous year's.
:func:`to_confirm`         the inferred dates, targets and baselines the Hub du Sud must confirm.
:func:`decision_follow_up` the previous COPIL/COTHEC decisions and what became of them.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

import pandas as pd

from fne_eval.bundle.io import empty_table, tables_of
from fne_eval.core.periods import to_timestamp
from fne_eval.evaluate.schedule import inferred_dates
from fne_eval.evaluate.targets import target_origin

#: Words of a task comment saying that the task waits for means or for a partner.
WAITING_MARKERS = ("attente", "moyens", "partenaire", "financement", "porteur")
#: How many decisions the dossier proposes.
MIN_DECISIONS, MAX_DECISIONS = 3, 5

PROPOSAL_KINDS = ("unblock", "replan", "reallocate", "confirm_date", "confirm_target")
_RANK = {"red": 0, "amber": 1, "green": 2, "grey": 3}


def _get(t: dict, name: str) -> pd.DataFrame:
    return t[name] if t.get(name) is not None else empty_table(name)


def _kind_of(finding: dict) -> str:
    rid = finding["rule_id"]
    if finding.get("inferred") and rid in ("R1", "A1", "A2"):
        return "confirm_date"
    comment = str(finding.get("comment") or "").lower()
    if rid in ("R1", "A1", "A2") and any(m in comment for m in WAITING_MARKERS):
        return "unblock"
    if rid in ("R1", "A1", "A2"):
        return "replan"
    if rid in ("R2", "A3"):
        return "reallocate"
    return "confirm_target"


def propose_decisions(meteo: pd.DataFrame, follow_up: Optional[pd.DataFrame] = None,
                      budget: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Return 3 to 5 decisions to propose to the COPIL, most urgent first.

    Parameters
    ----------
    meteo : pandas.DataFrame
        :func:`fne_eval.evaluate.meteo.action_meteo` (``findings`` per action).
    follow_up : pandas.DataFrame, optional
        :func:`decision_follow_up`: a previous decision not done on the same action makes
        the proposal an ``unblock`` and is cited.
    budget : pandas.DataFrame, optional
        :func:`fne_eval.evaluate.budget.budget_execution` by action (planned and paid amounts
        of the action, cited by ``reallocate``).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``action_code``, ``status`` (final météo), ``kind`` (see the module
        docstring), ``rule_id``, ``finding`` (dict: the task and its dates and figure, or
        the budget figures), ``inferred``, ``previous_decision`` (text of a previous decision
        on the action not done, or None), ``planned_eur``, ``paid_eur`` and ``committed_eur``. One decision per
        action; when fewer than 3 actions have a finding, the actions whose dates must be
        confirmed complete the list (``kind`` ``confirm_date``, ``rule_id`` ``C``).
    """
    prev = {}
    if follow_up is not None and len(follow_up):
        open_ = follow_up[follow_up["follow_up_status"].astype(str).isin(["not_done", "in_progress"])]
        for r in open_.sort_values("meeting_date").to_dict("records"):
            if not pd.isna(r.get("action_code")):
                prev[str(r["action_code"])] = r
    money = {}
    if budget is not None and len(budget):
        for r in budget.to_dict("records"):
            if not pd.isna(r.get("action_code")):
                money[str(r["action_code"])] = (r.get("planned_eur"), r.get("paid_eur"), r.get("committed_eur"))
    rows = []
    for m in meteo.to_dict("records"):
        findings = list(m.get("findings") or [])
        if not findings:
            continue
        # the firm findings first (an inferred one cannot alone carry the decision), then severity
        findings.sort(key=lambda f: (bool(f.get("inferred")), _RANK.get(f["status"], 9)))
        f = findings[0]
        kind = _kind_of(f)
        code = str(m["action_code"])
        p = prev.get(code)
        if p is not None and p["follow_up_status"] == "not_done":
            kind = "unblock"
        planned, paid, committed = money.get(code, (None, None, None))
        rows.append({"action_code": code, "status": m.get("final_status"), "kind": kind, "rule_id": f["rule_id"],
                     "finding": f, "inferred": bool(f.get("inferred")),
                     "previous_decision": None if p is None else str(p["decision"]),
                     "previous_status": None if p is None else str(p["follow_up_status"]),
                     "planned_eur": planned, "paid_eur": paid, "committed_eur": committed,
                     "_order": (_RANK.get(str(m.get("final_status")), 9), bool(f.get("inferred")),
                                _RANK.get(f["status"], 9), -float(planned or 0))})
    rows.sort(key=lambda r: r["_order"])
    rows = rows[:MAX_DECISIONS]
    if len(rows) < MIN_DECISIONS:
        have = {r["action_code"] for r in rows}
        for m in meteo.to_dict("records"):
            if len(rows) >= MIN_DECISIONS:
                break
            if str(m["action_code"]) in have or not m.get("action_dates_inferred"):
                continue
            rows.append({"action_code": str(m["action_code"]), "status": m.get("final_status"),
                         "kind": "confirm_date", "rule_id": "C", "finding": {"rule_id": "C", "inferred": True},
                         "inferred": True, "previous_decision": None, "previous_status": None,
                         "planned_eur": None, "paid_eur": None, "committed_eur": None, "_order": ()})
    cols = ["rank", "action_code", "status", "kind", "rule_id", "finding", "inferred", "previous_decision",
            "previous_status", "planned_eur", "paid_eur", "committed_eur"]
    out = pd.DataFrame([{k: v for k, v in r.items() if k != "_order"} for r in rows],
                       columns=[c for c in cols if c != "rank"])
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def decision_follow_up(bundle_or_tables, as_of) -> pd.DataFrame:
    """Return the COPIL/COTHEC decisions taken on or before ``as_of`` and their follow-up.

    A follow-up dated after ``as_of`` is not known at that date: the status is then
    ``in_progress`` without text.
    """
    t = tables_of(bundle_or_tables)
    as_of = to_timestamp(as_of)
    d = _get(t, "decisions")
    if not len(d):
        return d.copy()
    d = d[pd.to_datetime(d["meeting_date"]) <= as_of].copy()
    late = pd.to_datetime(d["follow_up_date"]) > as_of
    d.loc[late, "follow_up_status"] = "in_progress"
    d.loc[late, "follow_up"] = pd.NA
    d.loc[late, "follow_up_date"] = pd.NaT
    return d.sort_values(["meeting_date", "decision_id"]).reset_index(drop=True)


def meetings_held(bundle_or_tables, year: int, as_of) -> pd.DataFrame:
    """Return the COPIL and COTHEC held in ``year`` up to ``as_of`` (the ``meetings`` table)."""
    t = tables_of(bundle_or_tables)
    m = _get(t, "meetings")
    if not len(m):
        return m.copy()
    dates = pd.to_datetime(m["date"])
    keep = (dates.dt.year == int(year)) & (dates <= to_timestamp(as_of))
    return m[keep.to_numpy()].sort_values("date").reset_index(drop=True)


def _year_mask(dates: pd.Series, year: int, as_of: pd.Timestamp) -> pd.Series:
    d = pd.to_datetime(dates)
    return ((d.dt.year == year) & (d <= as_of)).fillna(False).to_numpy(dtype=bool)


#: Key figures of the dossier's first page: id -> (table, what is summed).
KEY_FIGURE_IDS = ("events", "event_participants", "exhibitions", "training_departures",
                  "devices_distributed", "network_meetings", "governance_meetings", "tasks_done", "paid_eur")


def key_figures(bundle_or_tables, year: int, as_of) -> pd.DataFrame:
    """Return the key figures of ``year`` and of ``year − 1`` (both cut at ``as_of``).

    Returns
    -------
    pandas.DataFrame
        ``figure_id`` (see :data:`KEY_FIGURE_IDS`), ``current``, ``previous`` and ``change``
        (current − previous; missing when either is). Counts of people are raw: the report
        applies the disclosure threshold.
    """
    t = tables_of(bundle_or_tables)
    as_of = to_timestamp(as_of)
    rows = []
    for y in (year, year - 1):
        cut = min(as_of, pd.Timestamp(year=y, month=12, day=31))
        ev = _get(t, "events")
        tr = _get(t, "trainings")
        rf = _get(t, "refurbishment")
        nm = _get(t, "network_meetings")
        gm = _get(t, "meetings")
        st = _get(t, "schedule_status")
        tx = _get(t, "budget_transactions")
        ev_y = ev[_year_mask(ev["date"], y, cut)] if len(ev) else ev
        exhib = ev_y[ev_y["event_type"].astype(str).str.contains("expo", case=False)] if len(ev_y) else ev_y
        done = st[(st["status"].astype(str) == "done").to_numpy(dtype=bool)] if len(st) else st
        done = done.drop_duplicates("task_id", keep="first") if len(done) else done
        done_y = done[_year_mask(done["actual_end"].fillna(done["status_date"]), y, cut)] if len(done) else done
        pay = tx[(tx["kind"].astype(str) == "payment").to_numpy(dtype=bool)] if len(tx) else tx
        pay_y = pay[_year_mask(pay["date"], y, cut)] if len(pay) else pay
        values = {
            "events": int(len(ev_y) - len(exhib)),
            "event_participants": int(pd.to_numeric(ev_y["participants"]).sum()) if len(ev_y) else 0,
            "exhibitions": int(len(exhib)),
            "training_departures": int(pd.to_numeric(tr.loc[_year_mask(tr["date"], y, cut), "departures"]).sum())
            if len(tr) else 0,
            "devices_distributed": int(pd.to_numeric(
                rf.loc[_year_mask(rf["period_start"], y, cut), "devices_distributed"]).sum()) if len(rf) else 0,
            "network_meetings": int(_year_mask(nm["date"], y, cut).sum()) if len(nm) else 0,
            "governance_meetings": int(_year_mask(gm["date"], y, cut).sum()) if len(gm) else 0,
            "tasks_done": int(len(done_y)),
            "paid_eur": sum((Decimal(str(v)) for v in pay_y["amount_eur"]), Decimal("0")) if len(pay_y) else
            Decimal("0"),
        }
        rows.append(values)
    cur, prev = rows
    out = []
    for fid in KEY_FIGURE_IDS:
        c, p = cur.get(fid), prev.get(fid)
        out.append({"figure_id": fid, "current": c, "previous": p,
                    "change": None if c is None or p is None else c - p})
    return pd.DataFrame(out, columns=["figure_id", "current", "previous", "change"])


def to_confirm(bundle_or_tables, as_of) -> pd.DataFrame:
    """Return what the Hub du Sud must confirm: inferred dates, proposed targets, baselines not in the roadmap.

    Returns
    -------
    pandas.DataFrame
        ``kind`` (``action_dates``, ``task_dates``, ``target``, ``baseline``), ``action_code``,
        ``item`` (task id or indicator code), ``label`` (task label or indicator label),
        ``start``, ``end`` (the inferred dates), ``value`` (the proposed target or baseline),
        ``year``.
    """
    t = tables_of(bundle_or_tables)
    year = to_timestamp(as_of).year
    rows = []
    for a in _get(t, "actions").to_dict("records"):
        s, e = inferred_dates(a.get("source"))
        if s or e:
            rows.append({"kind": "action_dates", "action_code": a["action_code"], "item": a["action_code"],
                         "label": a["action_title"], "start": a["start_date"] if s else pd.NaT,
                         "end": a["end_date"] if e else pd.NaT, "value": None, "year": None})
    for k in _get(t, "schedule_tasks").to_dict("records"):
        s, e = inferred_dates(k.get("source"))
        if s or e:
            rows.append({"kind": "task_dates", "action_code": k["action_code"], "item": k["task_id"],
                         "label": k["task_label"], "start": k["planned_start"] if s else pd.NaT,
                         "end": k["planned_end"] if e else pd.NaT, "value": None, "year": None})
    for i in _get(t, "indicators").to_dict("records"):
        for y in (2025, 2026, 2027):
            v = i.get(f"target_{y}")
            if v is None or pd.isna(v) or y < year:
                continue
            if target_origin(i.get("target_source"), y) == "proposal":
                rows.append({"kind": "target", "action_code": i.get("action_code"), "item": i["indicator_code"],
                             "label": i["label"], "start": pd.NaT, "end": pd.NaT, "value": float(v), "year": y})
        bsrc = str(i.get("baseline_source") or "").lower()
        if i.get("baseline_value") is not None and not pd.isna(i.get("baseline_value")) and "calcul" in bsrc:
            rows.append({"kind": "baseline", "action_code": i.get("action_code"), "item": i["indicator_code"],
                         "label": i["label"], "start": pd.NaT, "end": pd.NaT, "value": float(i["baseline_value"]),
                         "year": None})
    out = pd.DataFrame(rows, columns=["kind", "action_code", "item", "label", "start", "end", "value", "year"])
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    return out
