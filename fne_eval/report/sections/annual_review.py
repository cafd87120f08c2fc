"""Render the COPIL dossier: the annual review as a decision document (issue 11).

Order of the dossier (one function per part, each returns an :class:`HtmlFragment`):

:func:`first_page`   key figures of the year against the previous year, météo counts and
                        the 3 to 5 decisions to take (fits one A4 page);
:func:`chronogram`    the one-page Gantt of the roadmap's tasks, planned against done;
:func:`action_pages`  one page per action: planned vs done, tasks with their real dates,
                        progress and comments, budget, indicators against the roadmap's own
                        targets, météo with its reasons, risks;
:func:`governance`     COPIL/COTHEC held, structures represented, previous decisions and
                        what became of them;
:func:`funding_outlook`     the 2026–2027 funding outlook;
:func:`to_confirm`     what the Hub du Sud must confirm (inferred dates, proposed targets,
                        baselines the roadmap does not give);
:func:`rules`          the rules behind the verdicts, with their thresholds.

The evaluation modules return ids and figures (:mod:`fne_eval.evaluate.meteo`,
:mod:`fne_eval.evaluate.schedule`, :mod:`fne_eval.evaluate.targets`,
:mod:`fne_eval.evaluate.decisions`); every French sentence is written here or in
:mod:`fne_eval.report.labels`. An inferred date, target or baseline carries the mark
:data:`MARK` wherever it is shown, with a legend.
"""
from __future__ import annotations

import html
from decimal import Decimal
from typing import Iterable, Optional

import pandas as pd

from fne_eval.evaluate import budget as budget_eval
from fne_eval.evaluate import decisions as dec
from fne_eval.evaluate import indicators as ind_eval
from fne_eval.evaluate import meteo as meteo_eval
from fne_eval.evaluate import schedule as sched
from fne_eval.evaluate import targets as targets_eval
from fne_eval.report import charts
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.report.labels import VERDICT_TEXT, code_label, rule_text
from fne_eval.report.tables import HtmlFragment, html_table
from fne_eval.report.sections.common import (NO_BUDGET_FOLLOWUP, NO_SCHEDULE_FOLLOWUP, budget_followup,
                                             schedule_followup)

__all__ = ["first_page", "chronogram", "action_page", "action_pages", "governance", "funding_outlook", "to_confirm", "rules",
           "finding_text", "proposal_text"]

#: Mark of an inferred date, target or baseline (legend: :data:`MARK_LEGEND`).
MARK = "*"
MARK_LEGEND = (f"{MARK} date, cible ou valeur de référence déduite lors de la transcription de la feuille de "
               f"route : à confirmer par le Hub du Sud (liste en fin de dossier) ; elle ne décide jamais seule d'un "
               f"verdict.")
PAGE_BREAK = "break-before:page;page-break-before:always;"

THRESHOLDS = {**sched.SCHEDULE_THRESHOLDS, **meteo_eval.METEO_THRESHOLDS}

#: French names of the key figures (:data:`fne_eval.evaluate.decisions.KEY_FIGURE_IDS`) and whether
#: they count people (disclosure threshold applies).
KEY_FIGURE_TEXT = {
    "events": ("Événements organisés (hors expositions)", False),
    "event_participants": ("Participants aux événements et expositions", True),
    "exhibitions": ("Étapes de la tournée des expositions", False),
    "training_departures": ("Départs en formation", True),
    "devices_distributed": ("Matériels reconditionnés distribués", False),
    "network_meetings": ("Réunions du réseau (tous types)", False),
    "governance_meetings": ("COPIL et COTHEC tenus", False),
    "tasks_done": ("Tâches du chronogramme terminées", False),
    "paid_eur": ("Paiements FNE de l'année", False),
}

PROPOSAL_TEXT = {
    "unblock": "Débloquer",
    "replan": "Re-planifier",
    "reallocate": "Réaffecter ou accélérer",
    "confirm_date": "Confirmer une date",
    "confirm_target": "Confirmer une cible",
}
FOLLOW_UP_TEXT = {"done": "Réalisée", "in_progress": "En cours", "not_done": "Non réalisée",
                  "dropped": "Abandonnée"}
INSTANCE_TEXT = {"copil": "COPIL", "cothec": "COTHEC"}


# --------------------------------------------------------------------------- blocks
def _p(text: str, css: str = "fne-text") -> str:
    return f'<p class="{css}">{html.escape(text)}</p>'


def _h(text: str, level: int = 3, page: bool = False) -> str:
    style = f' style="{PAGE_BREAK}"' if page else ""
    return f"<h{level}{style}>{html.escape(text)}</h{level}>"


def _ul(items: Iterable[str]) -> str:
    return '<ul class="fne-list">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _note(text: str) -> str:
    return f'<p class="fne-note" style="font-size:0.85em;color:#444"><em>{html.escape(text)}</em></p>'


def _frag(parts: list, name: str, page: bool = False) -> HtmlFragment:
    style = f' style="{PAGE_BREAK}"' if page else ""
    body = "".join(p._repr_html_() if hasattr(p, "_repr_html_") else str(p) for p in parts if p is not None)
    return HtmlFragment(f'<div class="fne-section fne-dossier-{name}"{style}>{body}</div>',
                        text=f"Dossier COPIL : {name}")


def once_per_report(ctx, key, compute):
    k = ("dossier", key)
    if k not in ctx.extra:
        ctx.extra[k] = compute()
    return ctx.extra[k]


def shorten_text(text, n: int) -> str:
    text = "" if F.is_missing(text) else str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _d(value, inferred: bool = False) -> str:
    """Return a short date, marked when inferred."""
    if F.is_missing(value):
        return F.MISSING
    return F.fmt_date_short(value) + (MARK if inferred else "")


def _people(value, ctx) -> str:
    if F.is_missing(value):
        return F.MISSING
    v = float(value)
    if 0 < v < ctx.threshold:
        return F.fmt_count(v, suppressed=True, threshold=ctx.threshold)
    return F.fmt_int(v)


# --------------------------------------------------------------------------- data (computed once)
def _meteo(ctx) -> pd.DataFrame:
    """The météo of the report's actions (all, or those of its axis: counts and decisions agree)."""
    def compute():
        m = meteo_eval.action_meteo(ctx.bundle, ctx.as_of)
        if ctx.axis != "all":
            m = m[m["axis_code"].astype(str) == str(ctx.axis)].reset_index(drop=True)
        return m
    return once_per_report(ctx, "meteo", compute)


def _tasks(ctx) -> pd.DataFrame:
    def compute():
        ts = sched.task_status(ctx.bundle["schedule_tasks"], ctx.bundle["schedule_status"], ctx.as_of)
        if ctx.axis != "all":
            ts = ts[ts["action_code"].astype(str).str.split(".").str[0] == str(ctx.axis)].reset_index(drop=True)
        return ts
    return once_per_report(ctx, "tasks", compute)


def _budget(ctx) -> pd.DataFrame:
    b = ctx.bundle
    return once_per_report(ctx, "budget", lambda: budget_eval.budget_execution(
        b["budget_lines"], b["budget_transactions"], b["actions"], by="action_code", as_of=ctx.as_of))


def _follow_up(ctx) -> pd.DataFrame:
    return once_per_report(ctx, "follow_up", lambda: dec.decision_follow_up(ctx.bundle, ctx.as_of))


def _decisions(ctx) -> pd.DataFrame:
    return once_per_report(ctx, "decisions", lambda: dec.propose_decisions(_meteo(ctx), _follow_up(ctx), _budget(ctx)))


def _indicators(ctx) -> pd.DataFrame:
    """Département values of the catalogue's indicators at ``as_of``, judged by the target rules."""
    def compute():
        cat = ctx.bundle["indicators"]
        if not len(cat):
            cat = ind_eval.load_catalogue()
        values = ind_eval.indicator_values(ctx.bundle, cat, "departement", period="year", as_of=ctx.as_of)
        prog = ind_eval.indicator_progress(values, cat, ctx.as_of)
        out = targets_eval.target_verdicts(prog, cat, ctx.year)
        info = cat.set_index(cat["indicator_code"].astype(str))
        out["label"] = out["indicator_code"].astype(str).map(info["label"].astype(str))
        out["action_code"] = out["indicator_code"].astype(str).map(info["action_code"].astype("string"))
        out["unit"] = out["indicator_code"].astype(str).map(info["unit"].astype(str))
        return out
    return once_per_report(ctx, "indicators", compute)


def _action_titles(ctx) -> dict:
    a = ctx.bundle["actions"]
    return dict(zip(a["action_code"].astype(str), a["action_title"].astype(str)))


# --------------------------------------------------------------------------- sentences
def finding_text(f: dict, as_of, labels: Optional[dict] = None) -> str:
    """Return the French sentence of one météo finding: the task, its dates and its figure.

    ``labels`` maps indicator codes to their French labels (codes are never shown).
    """
    rid = f.get("rule_id")
    mark = f" (à confirmer : date déduite{MARK})" if f.get("inferred") else ""
    if rid in ("R1", "A1"):
        extra = ""
        if not F.is_missing(f.get("progress_pct")) and f.get("status_reported") != "not_started":
            extra = f", avancement {F.fmt_number(f['progress_pct'], 0)} %"
        elif f.get("status_reported") == "not_started":
            extra = ", non démarrée"
        comment = ""
        if f.get("comment"):
            extra = ""
            comment = f" ; « {f['comment']} »"
        return (f"« {shorten_text(f.get('task_label'), 95)} » (prévue du {_d(f.get('planned_start'))} au "
                f"{_d(f.get('planned_end'))}) n'est pas terminée au {F.fmt_date_short(as_of)} : "
                f"{F.fmt_int(f.get('days_overdue'))} jours après sa fin prévue{extra}{comment}{mark}")
    if rid == "A2":
        return (f"« {shorten_text(f.get('task_label'), 95)} » (prévue du {_d(f.get('planned_start'))} au "
                f"{_d(f.get('planned_end'))}) : avancement {F.fmt_number(f.get('progress_pct'), 0)} % pour "
                f"{F.fmt_number(f.get('elapsed_pct'), 0)} % de sa période écoulée{mark}")
    if rid in ("R2", "A3"):
        return (f"paiements : {F.fmt_number(f.get('payment_rate_pct'), 0)} % du budget de l'action payé pour "
                f"{F.fmt_number(f.get('elapsed_pct'), 0)} % de sa période écoulée au "
                f"{F.fmt_date_short(as_of)}" + (f" (période de l'action déduite{MARK})" if f.get("inferred") else ""))
    if rid in ("R3", "A4"):
        parts = []
        for o in f.get("off_track") or []:
            name = (labels or {}).get(str(o["indicator_code"]), "indicateur")
            parts.append(f"{shorten_text(name, 60)} : {F.fmt_number(o.get('value'), 0)} pour "
                         f"{F.fmt_number(o.get('expected_value'), 0)} attendu à date "
                         f"(cible {F.fmt_number(o.get('target_value'), 0)} en {o.get('target_year')})")
        return "indicateur sous la trajectoire de la feuille de route : " + ("; ".join(parts) or "—")
    if rid == "C":
        return f"dates de l'action déduites lors de la transcription{MARK}"
    return str(rid)


def proposal_text(d: dict, ctx) -> str:
    """Return the French proposal of one decision."""
    f = d.get("finding") or {}
    task = shorten_text(f.get("task_label"), 95)
    kind = d["kind"]
    if kind == "unblock":
        prev = (" (décision précédente du COPIL non réalisée)"
                if d.get("previous_decision") and d.get("previous_status") == "not_done" else "")
        return f"Désigner un porteur et les moyens pour « {task} », puis fixer une nouvelle date{prev}."
    if kind == "replan":
        return f"Fixer une nouvelle date de fin pour « {task} » et la faire valider au prochain COTHEC."
    if kind == "reallocate":
        planned, paid = d.get("planned_eur"), d.get("paid_eur")
        rest = (Decimal(str(planned)) - Decimal(str(paid or 0))) if not F.is_missing(planned) else None
        committed = d.get("committed_eur")
        eng = f"{F.fmt_eur(committed)} engagés, " if not F.is_missing(committed) else ""
        money = (f" ({eng}{F.fmt_eur(paid)} payés sur {F.fmt_eur(planned)} prévus)"
                 if rest is not None else "")
        return f"Arrêter un calendrier de paiement ou réaffecter le reliquat{money}."
    if kind == "confirm_date":
        return _confirm_date_text(d, ctx)
    return "Faire fixer par le COPIL une cible chiffrée."


def _inferred_dates_text(start, end, start_inferred: bool, end_inferred: bool) -> str:
    """Return « la fin prévue le 30 juin 2024 (date déduite*) » or the start and end (dates déduites)."""
    parts = []
    if start_inferred:
        parts.append(f"le début prévu le {F.fmt_date(start)}")
    if end_inferred:
        parts.append(f"la fin prévue le {F.fmt_date(end)}")
    if not parts:  # a finding without the detail: the whole window
        return f"la fenêtre prévue du {F.fmt_date(start)} au {F.fmt_date(end)} (dates déduites{MARK})"
    return " et ".join(parts) + (f" (dates déduites{MARK})" if len(parts) > 1 else f" (date déduite{MARK})")


def _confirm_date_text(d: dict, ctx) -> str:
    """Return a « Confirmer une date » proposal naming the inferred date(s) of the finding's task."""
    f = d.get("finding") or {}
    code = str(d["action_code"])
    acts = ctx.bundle["actions"]
    row = acts[acts["action_code"].astype(str) == code]
    title = str(row["action_title"].iloc[0]) if len(row) else ""
    action = f"de l'action {code} « {title} »" if title else f"de l'action {code}"
    if f.get("task_label"):
        # the decision table's row gives the action (its own column) and the task (the finding,
        # in full): the proposal names the dates to confirm (repeating both pushed the table
        # of decisions off the dossier's first page)
        dates = _inferred_dates_text(f.get("planned_start"), f.get("planned_end"),
                                     bool(f.get("start_inferred")), bool(f.get("end_inferred")))
        return f"Faire confirmer par le Hub du Sud {dates} de cette tâche ; re-planifier ensuite si besoin."
    s_inf, e_inf = sched.inferred_dates(row["source"].iloc[0] if len(row) else None)
    dates = _inferred_dates_text(row["start_date"].iloc[0] if len(row) else None,
                                 row["end_date"].iloc[0] if len(row) else None, s_inf, e_inf)
    return f"Faire confirmer par le Hub du Sud {dates} {action}."


# --------------------------------------------------------------------------- page 1
def first_page(ctx) -> HtmlFragment:
    """Return page 1: key figures against last year, météo counts, the decisions to take."""
    parts = [_p(f"Situation au {F.fmt_date(ctx.as_of)}, comparée à {ctx.year - 1}. Feuille de route "
                f"départementale : chiffres du département.")]
    k = dec.key_figures(ctx.bundle, ctx.year, ctx.as_of)
    rows = []
    # activity figures are the store's cells (same value and same mark as in every report)
    for fid, label in (("accompaniments", "Accompagnements (individuels et collectifs)"),
                       ("participations", "Participations (personnes × séances)")):
        cur_c = storeview.cell(ctx, fid, str(ctx.year))
        prev_c = storeview.cell(ctx, fid, str(ctx.year - 1))
        if cur_c is None and prev_c is None:
            continue
        txt = (lambda c: F.MISSING if c is None else c.text(ctx.threshold))
        both = cur_c is not None and prev_c is not None and not cur_c.hidden and not prev_c.hidden
        rows.append({"figure": label, "previous": txt(prev_c), "current": txt(cur_c),
                     "change": F.fmt_signed(cur_c.value - prev_c.value) if both else F.MISSING,
                     "prev_cell": prev_c, "cur_cell": cur_c})
    for r in k.to_dict("records"):
        label, people = KEY_FIGURE_TEXT.get(r["figure_id"], (r["figure_id"], False))
        if r["figure_id"] == "paid_eur":
            cur, prev = F.fmt_eur(r["current"]), F.fmt_eur(r["previous"])
            ch = F.MISSING if F.is_missing(r["change"]) else ("+" if r["change"] >= 0 else "") + F.fmt_eur(r["change"])
        elif people:
            cur, prev = _people(r["current"], ctx), _people(r["previous"], ctx)
            hidden = cur.startswith("<") or prev.startswith("<")
            ch = F.MISSING if hidden or F.is_missing(r["change"]) else F.fmt_signed(r["change"])
        else:
            cur, prev = F.fmt_int(r["current"]), F.fmt_int(r["previous"])
            ch = F.MISSING if F.is_missing(r["change"]) else F.fmt_signed(r["change"])
        if r["current"] in (0, None) and r["previous"] in (0, None):
            continue
        rows.append({"figure": label, "previous": prev, "current": cur, "change": ch})
    kf = pd.DataFrame(rows, columns=["figure", "previous", "current", "change", "prev_cell", "cur_cell"])
    kf[["prev_cell", "cur_cell"]] = kf[["prev_cell", "cur_cell"]].astype(object).where(kf[["prev_cell", "cur_cell"]].notna(), None)
    parts.append(html_table(kf, columns=["figure", "previous", "current", "change"],
                            cells={"previous": "prev_cell", "current": "cur_cell"},
                            formats={"previous": "numtext", "current": "numtext", "change": "numtext"},
                            labels={"figure": "Chiffre clé", "previous": str(ctx.year - 1),
                                    "current": str(ctx.year), "change": "Évolution"},
                            widths={"figure": 58, "previous": 14, "current": 14, "change": 14},
                            caption=f"Chiffres clés {ctx.year} et {ctx.year - 1}"))
    m = _meteo(ctx)
    counts = m["final_status"].value_counts()
    n_conf = int(m["to_confirm"].sum())
    summary = ", ".join(f"{F.fmt_int(counts.get(s, 0))} {code_label('meteo', s).lower()}"
                        for s in ("green", "amber", "red", "grey") if counts.get(s, 0))
    ts = _tasks(ctx)
    late_end = int(((ts["state"] == "late") & (ts["late_rule"] == "S1")).fillna(False).sum())
    behind = int(((ts["state"] == "late") & (ts["late_rule"] == "S2")).fillna(False).sum())
    late_start = int((ts["start_late"].fillna(False) & (ts["state"] != "late").fillna(True)).sum())
    scope = "" if ctx.axis == "all" else f" de l'axe {ctx.axis}"
    what = f"des {F.fmt_int(len(m))} actions" if len(m) > 1 else "de l'action"
    if schedule_followup(ctx):
        chrono = (f"Chronogramme : {F.fmt_int(late_end)} tâche{'s' if late_end > 1 else ''} dont la fin prévue "
                  f"est dépassée, {F.fmt_int(behind)} en retard sur {'leur' if behind > 1 else 'son'} avancement, "
                  f"{F.fmt_int(late_start)} démarrée{'s' if late_start > 1 else ''} en retard mais dans les "
                  f"temps pour {'leur' if late_start > 1 else 'sa'} fin.")
    else:
        chrono = f"Chronogramme : {_lower_first(NO_SCHEDULE_FOLLOWUP)}"
    parts.append(_p(f"Météo {what}{scope} : {summary}"
                    + (f" (dont {F.fmt_int(n_conf)} à confirmer{MARK})" if n_conf else "") + ". " + chrono))
    d = _decisions(ctx)
    titles = _action_titles(ctx)
    drows = []
    for r in d.to_dict("records"):
        drows.append({"n": str(r["rank"]),
                      "action": f"{r['action_code']} {titles.get(r['action_code'], '')}",
                      "cause": finding_text(r["finding"], ctx.as_of)[:1].upper()
                      + finding_text(r["finding"], ctx.as_of)[1:] + ".",
                      "proposal": f"{PROPOSAL_TEXT[r['kind']]} : " + _lower_first(proposal_text(r, ctx))})
    parts.append(_h(f"{F.fmt_int(len(d))} décisions proposées au COPIL", 3))
    parts.append(html_table(pd.DataFrame(drows, columns=["n", "action", "cause", "proposal"]),
                            formats={c: "text" for c in ("n", "action", "cause", "proposal")},
                            labels={"n": "N°", "action": "Action", "cause": "Constat (chiffre et date)",
                                    "proposal": "Proposition"},
                            widths={"n": 4, "action": 22, "cause": 40, "proposal": 34}))
    parts.append(_note(MARK_LEGEND))
    frag = _frag(parts, "premiere-page")
    # page 1 is one A4 page: a slightly smaller type, kept whole
    return HtmlFragment(f'<div class="fne-section fne-section-page1" style="font-size:0.86em;break-inside:avoid">'
                        f'{frag._repr_html_()}</div>',
                        text="Dossier COPIL : première page")


# --------------------------------------------------------------------------- chronogramme
#: Height of the one-page Gantt (inches; the figure is 6,5 in wide and scaled to the page width).
CHRONOGRAM_HEIGHT_IN = 6.6


def chronogram(ctx) -> HtmlFragment:
    """Return the one-page chronogramme: every task's planned window and what was done, at ``as_of``.

    Finished work is green, work in progress within its window blue, and red only a task
    whose planned end has passed and which is not finished
    (:func:`fne_eval.evaluate.schedule.gantt_data`, ``bar_kind``). Without any chronogramme
    follow-up in the bundle the chart shows the planned bars only and the text says so
    (:data:`~fne_eval.report.sections.common.NO_SCHEDULE_FOLLOWUP`).
    """
    g = sched.gantt_data(ctx.bundle["schedule_tasks"], ctx.bundle["schedule_status"], ctx.as_of)
    if ctx.axis != "all":
        g = g[g["action_code"].astype(str).str.split(".").str[0] == str(ctx.axis)].reset_index(drop=True)
    if g.empty:
        return _frag([_p("Aucune tâche au chronogramme.")], "chronogramme")
    g = g.copy()
    g["label"] = [f"{a} · {shorten_text(t, 40)}" + (MARK if inf else "")
                  for a, t, inf in zip(g["action_code"].astype(str), g["task_label"], g["dates_inferred"].fillna(False))]
    kinds = g["bar_kind"].value_counts()
    overdue = g[g["bar_kind"] == "overdue"]
    late = " ; ".join(f"{r['action_code']} « {r['task_label']} » (fin prévue le {_d(r['planned_end'])}"
                     + (", non démarrée)" if F.is_missing(r["actual_start"]) else
                        f", avancement {F.fmt_number(r['progress_pct'], 0)} %)")
                     for r in overdue.to_dict("records"))
    if not schedule_followup(ctx):
        text = (f"{F.fmt_int(len(g))} tâches, fenêtres prévues seulement. {NO_SCHEDULE_FOLLOWUP} {MARK} fenêtre "
                "prévue déduite lors de la transcription (à confirmer) ; trait vertical : date d'arrêté des données.")
    else:
        text = (f"{F.fmt_int(len(g))} tâches : {F.fmt_int(kinds.get('done', 0))} terminées (vert), "
                f"{F.fmt_int(kinds.get('in_progress', 0))} en cours dans leur fenêtre (bleu), "
                f"{F.fmt_int(len(overdue))} dont la fin prévue est passée sans être terminées (rouge)"
                + (f" : {late}" if late else "") + f". {MARK} fenêtre prévue déduite lors de la transcription "
                "(à confirmer) ; trait vertical : date d'arrêté des données.")
    chart = charts.gantt_chart(g, f"Tâches prévues et réalisées au {F.fmt_date(ctx.as_of)}",
                               as_of=ctx.as_of, label="label", height=CHRONOGRAM_HEIGHT_IN)
    return _frag([_p(text), chart], "chronogramme")


# --------------------------------------------------------------------------- action pages
def _task_table(ctx, code: str):
    ts = _tasks(ctx)
    ts = ts[ts["action_code"].astype(str) == code].sort_values(["planned_start", "task_id"])
    if ts.empty:
        return _p("Aucune tâche au chronogramme pour cette action.")
    rows = []
    for t in ts.to_dict("records"):
        state = code_label("task_state", str(t["state"]))
        if t["state"] == "late" and t["late_rule"] == "S2":
            state = "En retard (avancement)"
        elif t["state"] == "late":
            state = "En retard (fin dépassée)"
        start_delay = t["start_delay_days"]
        end_delay = t["end_delay_days"]
        rows.append({
            "task": shorten_text(t["task_label"], 110),
            "planned": f"{_d(t['planned_start'], t['start_inferred'])} – {_d(t['planned_end'], t['end_inferred'])}",
            "actual": ((f"{_d(t['actual_start'])} – {_d(t['actual_end'])}" if not F.is_missing(t["actual_end"])
                        else f"depuis le {_d(t['actual_start'])}") if not F.is_missing(t["actual_start"])
                       else "non renseigné" if t["state"] == "unreported" else "non démarrée"),
            "state": state,
            "progress": F.MISSING if F.is_missing(t["progress_pct"]) else f"{F.fmt_number(t['progress_pct'], 0)} %",
            "start_delay": (F.fmt_signed(start_delay) + " j") if not F.is_missing(start_delay) and start_delay
            else F.MISSING,
            "end_delay": (F.fmt_signed(end_delay) + " j") if not F.is_missing(end_delay) and end_delay
            else F.MISSING,
        })
    blocks = [html_table(pd.DataFrame(rows), formats={c: "text" for c in rows[0]},
                         labels={"task": "Tâche", "planned": "Prévu", "actual": "Réalisé", "state": "État",
                                 "progress": "Avanc.", "start_delay": "Retard au début",
                                 "end_delay": "Retard à la fin"},
                         widths={"task": 30, "planned": 17, "actual": 17, "state": 12, "progress": 7,
                                 "start_delay": 8, "end_delay": 9},
                         caption="Tâches : prévu et réalisé")]
    if (ts["state"] == "unreported").fillna(False).all():
        blocks.append(_p(NO_SCHEDULE_FOLLOWUP))
    comments = [f"« {shorten_text(t['task_label'], 110)} » : {t['comment']}" for t in ts.to_dict("records")
                if not F.is_missing(t["comment"])]
    if comments:
        blocks.append(_p("Commentaires des référents : " + " ; ".join(comments) + "."))
    return "".join(b._repr_html_() if hasattr(b, "_repr_html_") else b for b in blocks)


def _done_items(ctx, code: str) -> list:
    b = ctx.bundle
    start, end = pd.Timestamp(ctx.year, 1, 1), ctx.as_of
    items = []
    ev = b["events"]
    ev = ev[(ev["action_code"].astype(str) == code) & (pd.to_datetime(ev["date"]) >= start)
            & (pd.to_datetime(ev["date"]) <= end)]
    if len(ev):
        expo = ev["event_type"].astype(str) == "exposition"
        people = int(pd.to_numeric(ev["participants"]).sum())
        if expo.all():
            items.append(f"{F.fmt_int(len(ev))} étapes d'exposition "
                         f"({_people(people, ctx)} visiteurs).")
        else:
            items.append(f"{F.fmt_int(len(ev))} événement{'s' if len(ev) > 1 else ''} : "
                         + ", ".join(sorted(set(ev['title'].astype(str)))) + f" ({_people(people, ctx)} participants).")
    mt = b["network_meetings"]
    mt = mt[(mt["action_code"].astype(str) == code) & (pd.to_datetime(mt["date"]) >= start)
            & (pd.to_datetime(mt["date"]) <= end)]
    if len(mt):
        kinds = ", ".join(sorted({code_label("meeting_type", k) for k in mt["meeting_type"].astype(str)}))
        items.append(f"{F.fmt_int(len(mt))} réunion{'s' if len(mt) > 1 else ''} ({kinds}).")
    if code == "2.1":
        rf = b["refurbishment"]
        rf = rf[(pd.to_datetime(rf["period_start"]) >= start) & (pd.to_datetime(rf["period_start"]) <= end)]
        if len(rf):
            items.append(f"Filière de reconditionnement : {F.fmt_int(pd.to_numeric(rf['devices_collected']).sum())} "
                         f"matériels collectés, {F.fmt_int(pd.to_numeric(rf['devices_refurbished']).sum())} "
                         f"reconditionnés, {F.fmt_int(pd.to_numeric(rf['devices_distributed']).sum())} distribués.")
    if code == "4.2":
        # the trainings of agents of local authorities belong to 4.2 only (never counted twice)
        tr = b["trainings"]
        tr = tr[(pd.to_datetime(tr["date"]) >= start) & (pd.to_datetime(tr["date"]) <= end)
                & (tr["structure_type"].astype(str) == "collectivite")]
        if len(tr):
            items.append(f"{_people(pd.to_numeric(tr['departures']).sum(), ctx)} départs en formation d'agents "
                         f"de collectivités en {ctx.year}.")
    return items


def _indicator_table(ctx, code: str):
    v = _indicators(ctx)
    v = v[v["action_code"].astype("string") == code]
    if v.empty:
        return None
    rows = []
    for r in v.to_dict("records"):
        target = F.MISSING
        if not F.is_missing(r["target_value"]):
            target = F.fmt_number(r["target_value"], 0) + f" en {r['target_year']}"
            if r["target_origin"] == "proposal":
                target += f" (proposée{MARK})"
        base = F.MISSING if F.is_missing(r["baseline_value"]) else F.fmt_number(
            r["baseline_value"], 0 if float(r["baseline_value"]).is_integer() else 1)
        if r["baseline_origin"] == "first_observed" and base != F.MISSING:
            base += " (1re mesure)"
        digits = 0 if not F.is_missing(r["value"]) and float(r["value"]).is_integer() else 1
        rows.append({"label": shorten_text(r["label"], 70), "value": F.fmt_number(r["value"], digits)
                     + f" ({r['period']})", "baseline": base, "target": target,
                     "verdict": VERDICT_TEXT.get(str(r["verdict"]), str(r["verdict"]))})
    return html_table(pd.DataFrame(rows), formats={c: "text" for c in rows[0]},
                      labels={"label": "Indicateur", "value": "Valeur", "baseline": "Référence", "target": "Cible",
                              "verdict": "Verdict"},
                      widths={"label": 36, "value": 14, "baseline": 14, "target": 18, "verdict": 18},
                      caption="Indicateurs (seules les cibles de la feuille de route donnent un verdict)")


def action_page(ctx, code: str, new_page: bool = True) -> HtmlFragment:
    """Return the page of one action (starting a new page unless ``new_page`` is False)."""
    acts = ctx.bundle["actions"]
    a = acts[acts["action_code"].astype(str) == code].iloc[0]
    s_inf, e_inf = sched.inferred_dates(a.get("source"))
    m = _meteo(ctx).set_index("action_code").loc[code]
    parts = [_h(f"Action {code} — {a['action_title']}", 3)]
    status = code_label("meteo", str(m["final_status"]))
    reasons = [finding_text(f, ctx.as_of) for f in m["findings"]]
    head = (f"Météo : {status}" + (f" (à confirmer{MARK})" if m["to_confirm"] else "") + ". "
            + (("Motifs : " + " ; ".join(reasons) + ".") if reasons else (
                "aucune règle d'alerte déclenchée." if m["final_status"] == "green"
                else "pas de données de suivi à cette date.")))
    if not F.is_missing(m.get("override_status")):
        head += (f" Météo fixée par le COPIL du {F.fmt_date_short(m['override_date'])} : "
                 f"{m['override_justification']}.")
    parts.append(_p(head))
    ex = _budget(ctx)
    b = ex[ex["action_code"].astype("string") == code]
    money = ""
    if len(b) and not budget_followup(ctx):
        money = (f" Budget : {F.fmt_eur(b.iloc[0]['planned_eur'])} prévus ; aucune donnée de suivi budgétaire "
                 f"dans le bundle (engagé et payé non connus, pas de verdict sur les paiements).")
    elif len(b):
        r = b.iloc[0]
        money = (f" Budget : {F.fmt_eur(r['planned_eur'])} prévus, {F.fmt_eur(r['committed_eur'])} engagés, "
                 f"{F.fmt_eur(r['paid_eur'])} payés au {F.fmt_date_short(ctx.as_of)}.")
    parts.append(_p(f"Période prévue : {_d(a['start_date'], s_inf)} – {_d(a['end_date'], e_inf)}." + money
                    + f" Référents : {', '.join(str(a['referents']).split('|'))}."))
    parts.append(_task_table(ctx, code))
    done = _done_items(ctx, code)
    if done:
        parts.append(_p(f"Réalisé en {ctx.year} : " + " ".join(done)))
    parts.append(_indicator_table(ctx, code))
    fu = _follow_up(ctx)
    risks = []
    if len(fu):
        mine = fu[fu["action_code"].astype("string") == code]
        for r in mine.to_dict("records"):
            if r["follow_up_status"] in ("not_done", "in_progress"):
                risks.append(f"décision du {INSTANCE_TEXT.get(str(r['instance']), r['instance'])} du "
                             f"{F.fmt_date_short(r['meeting_date'])} « {shorten_text(r['decision'], 80)} » : "
                             f"{FOLLOW_UP_TEXT[str(r['follow_up_status'])].lower()}"
                             + (f" ({r['follow_up']})" if not F.is_missing(r["follow_up"]) else ""))
    ts = _tasks(ctx)
    for t in ts[(ts["action_code"].astype(str) == code)].to_dict("records"):
        if t["start_late"] and t["state"] not in ("late", "done"):
            risks.append(f"« {shorten_text(t['task_label'], 110)} » a démarré avec {F.fmt_int(t['start_delay_days'])} "
                         f"jours de retard : fin prévue le {_d(t['planned_end'], t['end_inferred'])} à tenir")
    if risks:
        parts.append(_p("Risques et points à suivre : " + " ; ".join(risks) + "."))
    return _frag(parts, f"action-{code.replace('.', '-')}", page=new_page)


def action_pages(ctx) -> HtmlFragment:
    """Return one page per action of the roadmap (or of the report's axis)."""
    acts = ctx.bundle["actions"]
    if ctx.axis != "all":
        acts = acts[acts["axis_code"].astype(str) == str(ctx.axis)]
    codes = acts["action_code"].astype(str).tolist()
    pages = [action_page(ctx, c, new_page=i > 0) for i, c in enumerate(codes)]
    return _frag(pages + [_note(MARK_LEGEND)], "actions")


# --------------------------------------------------------------------------- governance
def governance(ctx) -> HtmlFragment:
    """Return the governance page: meetings held, structures represented, previous decisions."""
    parts = []
    m = dec.meetings_held(ctx.bundle, ctx.year, ctx.as_of)
    if len(m):
        rows = [{"date": F.fmt_date_short(r["date"]), "instance": INSTANCE_TEXT.get(str(r["instance"]), r["instance"]),
                 "chair": r["chair"], "n": _people(r["participants_n"], ctx),
                 "structures": F.fmt_int(len(str(r["structures"]).split("|")))} for r in m.to_dict("records")]
        parts.append(html_table(pd.DataFrame(rows), formats={c: "text" for c in rows[0]},
                                labels={"date": "Date", "instance": "Instance", "chair": "Présidence",
                                        "n": "Participants", "structures": "Structures représentées"},
                                widths={"date": 18, "instance": 12, "chair": 36, "n": 14, "structures": 20},
                                caption=f"COPIL et COTHEC tenus en {ctx.year}"))
        members = sorted({s for v in m["structures"].astype(str) for s in v.split("|") if s})
        parts.append(_p(f"Structures représentées au moins une fois en {ctx.year} ({F.fmt_int(len(members))}) : "
                        + ", ".join(members) + "."))
    else:
        parts.append(_p(f"Aucune réunion de gouvernance enregistrée en {ctx.year}."))
    fu = _follow_up(ctx)
    if len(fu):
        rows = [{"date": f"{INSTANCE_TEXT.get(str(r['instance']), r['instance'])} du "
                         f"{F.fmt_date_short(r['meeting_date'])}",
                 "action": F.MISSING if F.is_missing(r["action_code"]) else str(r["action_code"]),
                 "decision": str(r["decision"]), "owner": str(r["owner"]),
                 "due": _d(r["due_date"]),
                 "status": FOLLOW_UP_TEXT.get(str(r["follow_up_status"]), str(r["follow_up_status"]))
                 + ("" if F.is_missing(r["follow_up"]) else f" : {r['follow_up']}")}
                for r in fu.to_dict("records")]
        n_done = int((fu["follow_up_status"].astype(str) == "done").sum())
        parts.append(_p(f"{F.fmt_int(n_done)} décision{'s' if n_done > 1 else ''} sur {F.fmt_int(len(fu))} "
                        f"réalisée{'s' if n_done > 1 else ''} au {F.fmt_date_short(ctx.as_of)}."))
        parts.append(html_table(pd.DataFrame(rows), formats={c: "text" for c in rows[0]},
                                labels={"date": "Décidé par", "action": "Action", "decision": "Décision",
                                        "owner": "Responsable", "due": "Échéance", "status": "Suivi"},
                                widths={"date": 13, "action": 7, "decision": 30, "owner": 12, "due": 10,
                                        "status": 28},
                                caption="Décisions précédentes et leur suivi"))
    else:
        parts.append(_p("Aucune décision antérieure enregistrée dans les données."))
    return _frag(parts, "gouvernance")


# --------------------------------------------------------------------------- funding outlook
def funding_outlook(ctx) -> HtmlFragment:
    """Return the 2026–2027 funding outlook: what the 2024–2025 envelope leaves, what has no funding."""
    parts = []
    ex = _budget(ctx)
    followup = budget_followup(ctx)
    acts = ctx.bundle["actions"].set_index(ctx.bundle["actions"]["action_code"].astype(str))
    rows = []
    no_funding = []
    for r in ex.to_dict("records"):
        code = r.get("action_code")
        if F.is_missing(code) or str(code) not in acts.index:
            continue
        a = acts.loc[str(code)]
        end = pd.Timestamp(a["end_date"])
        _, e_inf = sched.inferred_dates(a.get("source"))
        planned = r.get("planned_eur")
        paid = r.get("paid_eur") or Decimal("0")
        rest = (Decimal(str(planned)) - Decimal(str(paid))) if not F.is_missing(planned) else None
        runs_on = end.year >= ctx.year + 1
        rows.append({"action": str(code), "end": _d(end, e_inf), "planned": F.fmt_eur(planned),
                     "paid": F.fmt_eur(paid) if followup else F.MISSING,
                     "rest": F.fmt_eur(rest) if followup else F.MISSING,
                     "after": "à financer" if runs_on else "—"})
        if runs_on:
            no_funding.append(str(code))
    if rows:
        parts.append(html_table(pd.DataFrame(rows), formats={c: "text" for c in rows[0]},
                                labels={"action": "Action", "end": "Fin prévue", "planned": "Prévu (annexe 6)",
                                        "paid": "Payé", "rest": "Reste à payer", "after": f"{ctx.year + 1}–2027"},
                                widths={"action": 10, "end": 16, "planned": 18, "paid": 18, "rest": 18, "after": 20},
                                caption=f"Enveloppe FNE « actions 2024 - 2025 » au {F.fmt_date_short(ctx.as_of)}"))
    if rows and not followup:
        parts.append(_p(NO_BUDGET_FOLLOWUP))
    parts.append(_p("L'annexe 6 de la feuille de route finance les « actions 2024 - 2025 » ; aucune ligne n'est "
                    f"chiffrée au-delà. {F.fmt_int(len(no_funding))} actions se poursuivent après {ctx.year} ("
                    + ", ".join(no_funding) + ") : leur financement "
                    f"{ctx.year + 1}–2027 est à identifier (reliquats, crédits FNE suivants, cofinancements "
                    "des collectivités et partenaires)."))
    return _frag(parts, "financement")


# --------------------------------------------------------------------------- to confirm
def to_confirm(ctx) -> HtmlFragment:
    """Return the short « Ce qui reste à confirmer » list for the Hub du Sud."""
    tc = dec.to_confirm(ctx.bundle, ctx.as_of)
    parts = [_p("Éléments déduits lors de la transcription de la feuille de route (marqués " + MARK + " dans le "
                "dossier) : à confirmer ou corriger par le Hub du Sud ; les constats qui en dépendent sont "
                "« à confirmer » et ne mettent jamais une action en rouge à eux seuls.")]
    items = []
    a = tc[tc["kind"] == "action_dates"]
    if len(a):
        items.append("Dates des actions " + ", ".join(
            f"{r['item']} ({'début ' + _d(r['start']) if not F.is_missing(r['start']) else ''}"
            f"{' ; ' if not F.is_missing(r['start']) and not F.is_missing(r['end']) else ''}"
            f"{'fin ' + _d(r['end']) if not F.is_missing(r['end']) else ''})" for r in a.to_dict("records")) + ".")
    t = tc[tc["kind"] == "task_dates"]
    if len(t):
        by = t.groupby("action_code")["item"].count()
        items.append(f"Fenêtres de {F.fmt_int(len(t))} tâches du chronogramme (cases de mois illisibles ou fin non "
                     "imprimée) : " + ", ".join(f"action {k} ({v})" for k, v in by.items()) + ".")
    g = tc[tc["kind"] == "target"]
    if len(g):
        labels = g.groupby("label")["year"].apply(lambda s: ", ".join(str(int(y)) for y in sorted(s)))
        items.append("Cibles proposées, jamais comptées dans les verdicts : " + " ; ".join(
            f"{shorten_text(k, 60)} ({v})" for k, v in labels.items()) + ".")
    bl = tc[tc["kind"] == "baseline"]
    if len(bl):
        items.append("Valeurs de référence calculées, non imprimées dans la feuille de route : " + " ; ".join(
            f"{shorten_text(r['label'], 60)} ({F.fmt_decimal(r['value'], 2)})" for r in bl.to_dict("records")) + ".")
    parts.append(_ul(items) if items else _p("Rien à confirmer."))
    return _frag(parts, "a-confirmer")


# --------------------------------------------------------------------------- rules
def rules(ctx) -> HtmlFragment:
    """Return the rules behind the verdicts, each with its id, its sentence and its thresholds."""
    ids = list(sched.SCHEDULE_RULES) + [r["rule_id"] for r in meteo_eval.METEO_RULES] + ["V", "G", "C"] + [
        "T1", "T2", "T3", "T4"]
    df = pd.DataFrame({"rule_id": ids, "rule": [rule_text(i, THRESHOLDS) for i in ids]})
    return _frag([html_table(df, formats={"rule_id": "text", "rule": "text"},
                             labels={"rule_id": "Règle", "rule": "Énoncé"}, widths={"rule_id": 8, "rule": 92})],
                 "regles")
