"""Sections of the annual roadmap review (notebook ``revue_annuelle``): summary, action status (météo), decisions, axis reviews, rules."""
from __future__ import annotations

import re

import pandas as pd

from fne_eval.evaluate import budget, schedule
from fne_eval.store import figures
from fne_eval.evaluate import meteo as meteo_eval
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.report.labels import code_label
from fne_eval.report.tables import html_table

from fne_eval.report.sections.common import (Section, _axis_actions, _budget_tables, _count_text,
                                             _indicator_rows, _once, _part, _short, _shown_value,
                                             _with_action_title, _year_bounds, bullets, heading, no_data,
                                             note, para)

__all__ = ["summary", "action_status", "readable_reasons", "decisions", "PROPOSALS", "status_rules", "axis_review"]


# --------------------------------------------------------------------------- annual review
def summary(ctx) -> Section:
    """Return the one-page synthesis: key figures of the year and the points for the COPIL."""
    blocks = []
    _part(blocks, _key_figures, ctx)
    _part(blocks, _attention_points, ctx)
    return Section(blocks, "synthese")


def _attention_points(ctx):
    """List, in a few lines, what the COPIL should look at: red and amber actions, late tasks, pace."""
    m = _with_action_title(_meteo_frame(ctx), ctx)
    m = m[m["action_code"].astype(str).isin(_axis_actions(ctx)["action_code"].astype(str))]
    items = []
    status = m["final_status"].astype("string")
    red = m[(status == "red").fillna(False).to_numpy(dtype=bool)]
    for r in red.itertuples():
        reason = str(r.reasons).split(" ; ")[0].split(" (")[0].rstrip(".") if not F.is_missing(r.reasons) else ""
        items.append(f"En rouge : action {r.action_code} ({_short(str(r.action_title), 60)})"
                     + (f" — {reason[:1].lower() + reason[1:]}" if reason else "") + ".")
    amber = m[(status == "amber").fillna(False).to_numpy(dtype=bool)]
    if len(amber):
        items.append(f"En orange : {F.fmt_int(len(amber))} action{'s' if len(amber) > 1 else ''} ("
                     + ", ".join(amber["action_code"].astype(str)) + "), à suivre au prochain COTHEC.")
    grey = int((status == "grey").fillna(False).sum())
    if grey:
        items.append(f"Sans données de suivi : {F.fmt_int(grey)} action{'s' if grey > 1 else ''}.")
    ts = schedule.task_status(ctx.bundle["schedule_tasks"], ctx.bundle["schedule_status"], ctx.as_of)
    ts = ts[ts["action_code"].astype(str).isin(set(m["action_code"].astype(str)))]
    late = ts[(ts["state"].astype("string") == "late").fillna(False).to_numpy(dtype=bool)]
    if len(late):
        items.append(f"{F.fmt_int(len(late))} tâche{'s' if len(late) > 1 else ''} du chronogramme en "
                     f"retard au {F.fmt_date(ctx.as_of)} (détail par axe plus loin).")
    bb = budget.budget_burn(*_budget_tables(ctx, "actions"), as_of=ctx.as_of)
    bb = bb[bb["action_code"].astype(str).isin(set(m["action_code"].astype(str)))]
    slow = bb[(bb["burn_label"].astype("string") == "en retard").fillna(False).to_numpy(dtype=bool)]
    if len(slow):
        items.append(f"Paiements en retard sur le temps écoulé : action{'s' if len(slow) > 1 else ''} "
                     + ", ".join(slow["action_code"].astype(str)) + ".")
    if not items:
        return para("Aucun point d'attention : toutes les actions sont au vert.")
    return [heading("Points d'attention pour le COPIL"), bullets(items)]


def _key_figures(ctx):
    headline_figures = figures.headline_figures
    hf = headline_figures(ctx.bundle, ctx.territory_code, year=ctx.year, as_of=ctx.as_of, threshold=ctx.threshold)
    rows = []
    pop = hf.get("population") or {}
    rows.append(("Population", f"{F.fmt_int(pop.get('value'))} (INSEE, millésime {pop.get('year', '–')})"))
    ifn = hf.get("ifn") or {}
    if ifn and not F.is_missing(ifn.get("value")):
        rows.append(("Indice de fragilité numérique", f"{F.fmt_decimal(ifn.get('value'), 2)} sur 10 "
                                                      f"(millésime {ifn.get('vintage', '–')})"))
    if "lieux" in hf:
        rows.append(("Lieux de médiation numérique", F.fmt_int(hf.get("lieux"))))
    if "lieux_per_10k" in hf:
        rows.append(("Lieux pour 10 000 habitants", F.fmt_decimal(hf.get("lieux_per_10k"), 2)))
    th = ctx.threshold
    acc = storeview.cell(ctx, "accompaniments")
    part = storeview.cell(ctx, "participations")
    rate = storeview.cell(ctx, "participations_per_1000")
    who = " (y compris sans commune de résidence connue)" if ctx.level == "departement" else ""
    if acc is not None:
        rows.append((f"Accompagnements en {ctx.year}{who}", acc.text(th)))
    if part is not None:
        rows.append((f"Participations (personnes × séances) en {ctx.year}",
                     part.text(th) + (f" ({rate.text(th, lambda v: F.fmt_decimal(v, 1))} pour 1 000 habitants)"
                                      if rate is not None and not rate.hidden and not part.hidden else "")))
    bud = hf.get("budget") or {}
    if bud:
        rows.append(("Budget prévu (10 actions)", F.fmt_eur(bud.get("planned_eur"))))
        rows.append(("Budget engagé", f"{F.fmt_eur(bud.get('committed_eur'))} "
                                      f"({F.fmt_pct(bud.get('commitment_rate_pct'))})"))
        rows.append(("Budget payé", f"{F.fmt_eur(bud.get('paid_eur'))} ({F.fmt_pct(bud.get('payment_rate_pct'))})"))
    status = hf.get("actions_by_status") or {}
    if status:
        rows.append(("Météo des actions", ", ".join(f"{F.fmt_int(v)} {code_label('meteo', k).lower()}"
                                                    for k, v in status.items() if v)))
    tasks = hf.get("tasks_by_state") or {}
    if tasks:
        rows.append(("Tâches du chronogramme", ", ".join(
            f"{F.fmt_int(v)} {code_label('task_state', k).lower()}"
            f"{'s' if v > 1 and k in ('done', 'not_started', 'cancelled') else ''}"
            for k, v in tasks.items() if v)))
    df = pd.DataFrame(rows, columns=["figure", "value"])
    blocks = [html_table(df, formats={"value": "numtext"},
                         caption=f"Chiffres clés au {F.fmt_date(ctx.as_of)} — {ctx.territory_name}")]
    bnote = bud.get("note") or ""
    if bnote:
        blocks.append(note(str(bnote)))
    return blocks


def action_status(ctx) -> Section:
    """Return the météo of each action with its reasons and any COPIL override."""
    blocks = []
    _part(blocks, _meteo_table, ctx)
    return Section(blocks, "meteo")


def _meteo_frame(ctx) -> pd.DataFrame:
    """Return :func:`fne_eval.evaluate.meteo.action_meteo` (computed once), its reasons made readable."""
    if "meteo" not in ctx.extra:
        action_meteo = meteo_eval.action_meteo
        m = action_meteo(ctx.bundle, ctx.as_of).copy()
        m["reasons"] = [readable_reasons(r) for r in m["reasons"].astype(object)]
        ctx.extra["meteo"] = m
    return ctx.extra["meteo"]


def readable_reasons(text):
    """Return météo reasons as sentences with their figure inside: "… de retard (… : 63 jours)."

    :mod:`fne_eval.evaluate.meteo` writes each reason as "Sentence. (figure)" joined by " ; ".
    """
    if F.is_missing(text):
        return text
    parts = [re.sub(r"\.\s*\((.*)\)\s*\.?$", r" (\1)", p.strip()).rstrip(".") for p in str(text).split(" ; ")]
    return " ; ".join(p for p in parts if p) + "."


def _meteo_table(ctx):
    m = _meteo_frame(ctx)
    m = _with_action_title(m, ctx)
    m = m[m["action_code"].astype(str).isin(_axis_actions(ctx)["action_code"].astype(str))]
    if m.empty:
        return no_data("aucune action à évaluer.")
    counts = m["final_status"].value_counts()
    summary = ", ".join(f"{F.fmt_int(counts.get(s, 0))} {code_label('meteo', s).lower()}"
                        for s in ("green", "amber", "red", "grey") if counts.get(s, 0))
    overridden = m[m["override_status"].notna()]
    blocks = [para(f"Météo des {F.fmt_int(len(m))} actions au {F.fmt_date(ctx.as_of)} : {summary}."
                   + (f" {F.fmt_int(len(overridden))} météo{'s' if len(overridden) > 1 else ''} "
                      f"fixée{'s' if len(overridden) > 1 else ''} par le COPIL." if len(overridden) else ""))]
    shown = m.copy()
    shown["action_title"] = [_short(t, 70) for t in shown["action_title"].astype(str)]
    cols = ["action_code", "action_title", "final_status", "computed_status", "reasons"]
    if len(overridden):
        cols += ["override_justification", "override_date"]
    blocks.append(html_table(shown, columns=cols,
                             widths={"action_code": 7, "action_title": 25, "final_status": 11,
                                     "computed_status": 11} if len(cols) == 5 else None,
                             formats={"final_status": "meteo", "computed_status": "meteo", "reasons": "text",
                                      "override_date": "date_short"},
                             caption="Météo des actions"))
    return blocks


def decisions(ctx) -> Section:
    """Return the points the COPIL has to decide on: red and amber actions, late tasks."""
    blocks = []
    _part(blocks, _decisions, ctx)
    return Section(blocks, "decisions")


#: What the annual review proposes to the COPIL for each météo (to be completed by the référents).
PROPOSALS = {"red": "Plan de rattrapage ou révision du calendrier à décider",
             "amber": "Point de vigilance au prochain COTHEC",
             "grey": "Demander les remontées de suivi aux référents"}


def _decisions(ctx):
    m = _with_action_title(_meteo_frame(ctx), ctx)
    m = m[m["action_code"].astype(str).isin(_axis_actions(ctx)["action_code"].astype(str))]
    todo = m[m["final_status"].astype("string").isin(list(PROPOSALS)).fillna(False).to_numpy(dtype=bool)].copy()
    if todo.empty:
        return para("Aucune action en rouge, en orange ou sans données : pas de décision particulière "
                    "à proposer.")
    todo["_o"] = todo["final_status"].map({"red": 0, "amber": 1, "grey": 2})
    todo = todo.sort_values(["_o", "action_code"])
    todo["action_title"] = [_short(t, 60) for t in todo["action_title"].astype(str)]
    todo["main_reason"] = [str(r).split(" ; ")[0] if not F.is_missing(r) else "motif non précisé"
                           for r in todo["reasons"]]
    todo["proposal"] = todo["final_status"].map(PROPOSALS)
    n_red = int((todo["final_status"] == "red").sum())
    return [para(f"{F.fmt_int(len(todo))} action{'s' if len(todo) > 1 else ''} appelle"
                 f"{'nt' if len(todo) > 1 else ''} une décision ou une vigilance du COPIL"
                 + (f", dont {F.fmt_int(n_red)} en rouge" if n_red else "") + ". Propositions établies à "
                 "partir de la météo calculée, à compléter par les référents :"),
            html_table(todo, columns=["action_code", "action_title", "final_status", "main_reason", "proposal"],
                       formats={"final_status": "meteo"},
                       labels={"final_status": "Météo"},
                       caption="Décisions à prendre")]


def status_rules(ctx) -> Section:
    """Return the météo rules in French, as applied by :mod:`fne_eval.evaluate.meteo`."""
    blocks = []

    def _rules():
        rules = meteo_eval.meteo_rules_table()
        return html_table(rules, caption="Règles de calcul de la météo")

    _part(blocks, _rules)
    return Section(blocks, "regles_meteo")


def axis_review(ctx, axis: str) -> Section:
    """Return the review of one axis: per action, what was done, Gantt, budget, indicators, changes."""
    axes = ctx.bundle["axes"]
    if not str(axis).isdigit():
        raise ValueError(f"axe invalide {axis!r} : attendu un numéro d'axe (« 1 », « 2 »…)")
    row = axes[axes["axis_code"].astype(str) == str(axis)]
    if row.empty:
        return Section([no_data(f"l'axe {axis} n'existe pas dans la feuille de route de ce bundle.")],
                       f"axe_{axis}")
    blocks = [para(f"Axe {axis} : {row['axis_title'].iloc[0]}.")]
    if ctx.axis not in ("all", str(axis)):
        blocks.append(para(f"Axe hors du périmètre de ce rapport ({ctx.axis_label})."))
        return Section(blocks, f"axe_{axis}")
    acts = _axis_actions(ctx, str(axis))
    if acts.empty:
        blocks.append(no_data("aucune action dans cet axe."))
    _part(blocks, _axis_budget, ctx, str(axis))
    _part(blocks, _axis_gantt, ctx, str(axis))
    for a in acts.itertuples():
        blocks.append(heading(f"Action {a.action_code} — {a.action_title}", level=4))
        _part(blocks, _action_done, ctx, str(a.action_code))
    blocks.append(heading("Indicateurs et évolution depuis l'année précédente", level=4))
    _part(blocks, _axis_indicators_change, ctx, str(axis))
    return Section(blocks, f"axe_{axis}")


def _axis_budget(ctx, axis):
    budget_execution = budget.budget_execution
    ex = budget_execution(*_budget_tables(ctx, "actions"), by="action_code", as_of=ctx.as_of)
    codes = set(_axis_actions(ctx, axis)["action_code"].astype(str))
    ex = ex[ex["action_code"].astype("string").isin(codes).fillna(False).to_numpy(dtype=bool)]
    if ex.empty:
        return no_data("aucune ligne budgétaire pour cet axe.")
    ex = _with_action_title(ex, ctx)
    ex["action_title"] = [_short(t, 60) for t in ex["action_title"].astype(str)]
    return html_table(ex, columns=["action_code", "action_title", "planned_eur", "committed_eur", "paid_eur",
                                   "payment_rate_pct"],
                      caption=f"Budget de l'axe {axis} au {F.fmt_date(ctx.as_of)}")


def _axis_gantt(ctx, axis):
    from fne_eval.report.charts import gantt_chart

    gantt_data = schedule.gantt_data
    g = gantt_data(ctx.bundle["schedule_tasks"], ctx.bundle["schedule_status"], ctx.as_of)
    codes = set(_axis_actions(ctx, axis)["action_code"].astype(str))
    g = g[g["action_code"].astype("string").isin(codes).fillna(False).to_numpy(dtype=bool)]
    if g.empty:
        return no_data("aucune tâche du chronogramme pour cet axe.")
    g = g.sort_values(["action_code", "planned_start"]).reset_index(drop=True)
    g["task_label_short"] = [f"{a} · {t}" for a, t in zip(g["action_code"], g["task_label"])]
    chart = gantt_chart(g, title=f"Chronogramme de l'axe {axis} : prévu et réalisé", as_of=ctx.as_of,
                        label="task_label_short")
    cols = [c for c in ("action_code", "task_label", "planned_start", "planned_end", "actual_start",
                        "actual_end", "state", "slippage_days") if c in g.columns]
    table = g.copy()
    if "is_ongoing" in table:  # the chart draws an ongoing task up to as_of; it has no real end yet
        table["actual_end"] = table["actual_end"].where(~table["is_ongoing"].astype(bool))
    return [chart, html_table(table, columns=cols,
                              formats={"state": "text", **{c: "date_short" for c in cols if "_start" in c or "_end" in c}},
                              caption=f"Tâches de l'axe {axis} (données du chronogramme)")]


def _action_done(ctx, action_code):
    """List what was done for one action in the year, from the monitoring tables."""
    start, end = _year_bounds(ctx)
    b = ctx.bundle
    items = []
    ts = _once(ctx, ("task_status", str(ctx.as_of.date())),
               lambda: schedule.task_status(b["schedule_tasks"], b["schedule_status"], ctx.as_of))
    ts = ts[ts["action_code"].astype(str) == action_code]
    ends = pd.to_datetime(ts["actual_end"])
    done = ts[(ts["status"].astype("string") == "done").fillna(False).to_numpy(dtype=bool)
              & (ends >= start).fillna(False).to_numpy(dtype=bool)
              & (ends <= end).fillna(False).to_numpy(dtype=bool)]
    if len(done):
        items.append(f"Tâche{'s' if len(done) > 1 else ''} terminée{'s' if len(done) > 1 else ''} "
                     f"en {ctx.year} : " + " ; ".join(
                         f"{t} ({F.fmt_date_short(d)})" for t, d in zip(done["task_label"], done["actual_end"])) + ".")
    late = ts[(ts["state"].astype("string") == "late").fillna(False).to_numpy(dtype=bool)]
    if len(late):
        items.append(f"En retard au {F.fmt_date(ctx.as_of)} : " + " ; ".join(
            f"{t} ({F.fmt_int(d)} jours)" for t, d in zip(late["task_label"], late["slippage_days"])) + ".")
    ev = b["events"]
    ev = ev[(ev["action_code"].astype(str) == action_code) & (pd.to_datetime(ev["date"]) >= start)
            & (pd.to_datetime(ev["date"]) <= end)]
    if len(ev):
        people = int(pd.to_numeric(ev["participants"]).sum())
        items.append(f"{F.fmt_int(len(ev))} événement{'s' if len(ev) > 1 else ''} "
                     f"({_count_text(people, ctx, 'participants')}).")
    mt = b["network_meetings"]
    mt = mt[(mt["action_code"].astype(str) == action_code) & (pd.to_datetime(mt["date"]) >= start)
            & (pd.to_datetime(mt["date"]) <= end)]
    if len(mt):
        people = int(sum(pd.to_numeric(mt[c]).sum() for c in ("participants_collectivite",
                     "participants_association", "participants_etat", "participants_autre")))
        kinds = ", ".join(sorted({code_label("meeting_type", k) for k in mt["meeting_type"].astype(str)}))
        items.append(f"{F.fmt_int(len(mt))} réunion{'s' if len(mt) > 1 else ''} du réseau ({kinds}) ; "
                     f"{_count_text(people, ctx, 'participations')}.")
    acts = b["actions"]
    axis = str(acts.loc[acts["action_code"].astype(str) == action_code, "axis_code"].iloc[0])
    if axis == "2":
        rf = b["refurbishment"]
        rf = rf[(pd.to_datetime(rf["period_start"]) >= start) & (pd.to_datetime(rf["period_start"]) <= end)]
        if len(rf):
            items.append(f"Filière de reconditionnement : {F.fmt_int(pd.to_numeric(rf['devices_collected']).sum())} "
                         f"matériels collectés, {F.fmt_int(pd.to_numeric(rf['devices_refurbished']).sum())} "
                         f"reconditionnés, {F.fmt_int(pd.to_numeric(rf['devices_distributed']).sum())} distribués.")
    if axis == "4":
        tr = b["trainings"]
        tr = tr[(pd.to_datetime(tr["date"]) >= start) & (pd.to_datetime(tr["date"]) <= end)]
        if len(tr):
            items.append(f"{_count_text(pd.to_numeric(tr['departures']).sum(), ctx, 'départs en formation')} "
                         f"dans l'année.")
    m = _meteo_frame(ctx)
    r = m[m["action_code"].astype(str) == action_code]
    if len(r):
        r = r.iloc[0]
        extra = (f" (météo COPIL du {F.fmt_date(r['override_date'])} : {r['override_justification']})"
                 if not F.is_missing(r.get("override_status")) else "")
        reasons = str(r["reasons"]).strip().rstrip(".") if not F.is_missing(r.get("reasons")) else ""
        items.insert(0, f"Météo : {code_label('meteo', str(r['final_status']))}{extra}"
                     + (f" — {reasons}" if reasons else "") + ".")
    if not items:
        return no_data(f"aucune réalisation enregistrée pour l'action {action_code} en {ctx.year}.")
    return bullets(items)


def _axis_indicators_change(ctx, axis):
    cur = _indicator_rows(ctx, axis, ctx.year)
    if cur.empty:
        return no_data(f"aucun indicateur mesuré pour l'axe {axis}.")
    prev = _indicator_rows(ctx, axis, ctx.year - 1)
    inds = ctx.bundle["indicators"].set_index("indicator_code")
    # a value counts for a year only if it was measured in that year (stocks are snapshots)
    cur = cur.assign(value=cur["value"].where(cur["period"].astype(str) == str(ctx.year)))
    df = cur[["indicator_code", "value"]].rename(columns={"value": "current"})
    if len(prev):
        prev = prev.assign(value=prev["value"].where(prev["period"].astype(str) == str(ctx.year - 1)))
        p = prev[["indicator_code", "value"]].rename(columns={"value": "previous"})
    else:
        p = pd.DataFrame({"indicator_code": pd.Series(dtype="string"), "previous": pd.Series(dtype="float64")})
    df = df.merge(p, on="indicator_code", how="left", validate="1:1")
    df["label"] = df["indicator_code"].map(inds["label"].astype(str))
    units = df["indicator_code"].map(inds["unit"].astype(str))
    df["previous_shown"] = [_shown_value(v, u, ctx) for v, u in zip(df["previous"], units)]
    df["current_shown"] = [_shown_value(v, u, ctx) for v, u in zip(df["current"], units)]
    hidden = [a.startswith("<") or b.startswith("<") for a, b in zip(df["previous_shown"], df["current_shown"])]
    # counts change by whole numbers (+22), rates and indices by tenths (+1,5)
    df["change"] = [F.fmt_signed(c - p, 0 if float(c).is_integer() and float(p).is_integer() else 1)
                    if not (F.is_missing(c) or F.is_missing(p) or h) else F.MISSING
                    for c, p, h in zip(df["current"].astype("float64"), df["previous"].astype("float64"), hidden)]
    return html_table(df, columns=["label", "previous_shown", "current_shown", "change"],
                      labels={"previous_shown": str(ctx.year - 1), "current_shown": str(ctx.year)},
                      formats={"previous_shown": "numtext", "current_shown": "numtext", "change": "numtext"},
                      caption=f"Indicateurs de l'axe {axis} : {ctx.year - 1} et {ctx.year}")
