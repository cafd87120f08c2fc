"""Sections of the budget follow-up (notebook ``budget``): summary, execution by action/axis/recipient/funder, pace, training fund."""
from __future__ import annotations

from typing import Optional

import pandas as pd

from fne_eval.evaluate import budget
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.report.charts import bar_chart, grouped_bars, line_chart
from fne_eval.report.labels import CODES
from fne_eval.report.tables import HtmlFragment, html_table

from fne_eval.report.sections.common import (Section, budget_followup, no_budget_followup, budget_tables_of, count_text, append_part, shorten_text,
                                             with_action_title, no_data, note, para, suppress_counts)

__all__ = ["budget_summary", "budget_by", "budget_pace", "training_fund"]


def _other_lines_note(ctx) -> Optional[HtmlFragment]:
    """Return a sentence on the budget lines without an action (training fund), if any."""
    budget_execution = budget.budget_execution
    lines, tx, acts = budget_tables_of(ctx, "other")
    if lines.empty:
        return None
    ex = budget_execution(lines, tx, acts, by="budget_line_id", as_of=ctx.as_of)
    labels = dict(zip(lines["budget_line_id"].astype(str), lines["line_label"].astype(str)))
    followup = budget_followup(ctx)
    items = [f"{labels.get(str(r.budget_line_id), r.budget_line_id)} : prévu "
             f"{F.fmt_eur(r.planned_eur) if r.planned_eur is not None else 'non chiffré'}"
             + (f", engagé {F.fmt_eur(r.committed_eur)}, payé {F.fmt_eur(r.paid_eur)}" if followup else "")
             for r in ex.itertuples()]
    return note("Hors budget des actions (non compté dans les totaux ci-dessus) — " + " ; ".join(items) + ".")


def _territory_budget_note(ctx) -> Optional[HtmlFragment]:
    if ctx.level == "departement":
        return None
    return note(f"Le budget de la feuille de route n'est pas territorialisé : les montants sont ceux "
                f"de l'ensemble du département, pas de {ctx.territory_name}.")


def budget_summary(ctx) -> Section:
    """Return the budget totals: planned, committed, paid and their rates."""
    blocks = [_territory_budget_note(ctx)]
    append_part(blocks, _budget_totals, ctx)
    return Section(blocks, "budget_synthese")


def _budget_totals(ctx):
    budget_execution = budget.budget_execution
    ex = budget_execution(*budget_tables_of(ctx, "actions"), by="action_code", as_of=ctx.as_of, totals=True)
    tot = ex[ex["is_total"]]
    if tot.empty or len(ex) <= 1:
        return no_data("aucune ligne budgétaire rattachée à une action.")
    r = tot.iloc[0]
    if not budget_followup(ctx):
        return [para(f"Budget des {F.fmt_int(len(ex) - 1)} actions de la feuille de route : "
                     f"{F.fmt_eur(r['planned_eur'])} prévus (annexe 6)."), no_budget_followup(),
                _other_lines_note(ctx)]
    text = (f"Budget des {F.fmt_int(len(ex) - 1)} actions de la feuille de route au {F.fmt_date(ctx.as_of)} : "
            f"sur {F.fmt_eur(r['planned_eur'])} prévus, "
            f"{F.fmt_eur(r['committed_eur'])} sont engagés ({F.fmt_pct(r['commitment_rate_pct'])}) "
            f"et {F.fmt_eur(r['paid_eur'])} payés ({F.fmt_pct(r['payment_rate_pct'])} du prévu, "
            f"{F.fmt_pct(r['paid_of_committed_pct'])} de l'engagé).")
    return [para(text), _other_lines_note(ctx)]


def budget_by(ctx, by: str = "action_code") -> Section:
    """Return planned / committed / paid amounts per action, axis, recipient or funder.

    Parameters
    ----------
    by : {'action_code', 'axis_code', 'recipient', 'funder'}
    """
    if by not in ("action_code", "axis_code", "recipient", "funder"):
        raise ValueError(f"unknown budget breakdown {by!r}, expected 'action_code', 'axis_code', "
                         "'recipient' or 'funder'")
    blocks = [_territory_budget_note(ctx)]
    append_part(blocks, _budget_by, ctx, by)
    return Section(blocks, f"budget_{by}")


def _budget_by(ctx, by):
    budget_execution = budget.budget_execution
    ex = budget_execution(*budget_tables_of(ctx, "actions"), by=by, as_of=ctx.as_of, totals=True)
    if ex.empty:
        return no_data("aucune ligne budgétaire.")
    ex = ex.copy()
    ex[by] = ex[by].astype("string").fillna("hors action")
    if by == "action_code":
        ex = with_action_title(ex, ctx)
        ex.loc[ex["is_total"], "action_title"] = ""
        ex.loc[ex["action_code"] == "hors action", "action_title"] = "Fonds de formation et lignes hors action"
    if by == "axis_code":
        titles = dict(zip(ctx.bundle["axes"]["axis_code"].astype(str), ctx.bundle["axes"]["axis_title"].astype(str)))
        ex["axis_title"] = [titles.get(str(c), "") for c in ex["axis_code"]]
    ex.loc[ex["is_total"], by] = "Total"
    cols = [by] + (["action_title"] if by == "action_code" else []) + (["axis_title"] if by == "axis_code" else [])
    followup = budget_followup(ctx)
    amounts = (["planned_eur", "committed_eur", "paid_eur"] if followup else ["planned_eur"])
    cols += amounts + (["commitment_rate_pct", "payment_rate_pct"] if followup else [])
    body = ex[~ex["is_total"]]
    label = body[by].astype(str)
    if by == "axis_code":
        label = "Axe " + label
    if by == "action_code":  # a reader does not know the actions by their number
        label = pd.Series([f"{c} · {shorten_text(t, 38)}" if t else c
                           for c, t in zip(label, body["action_title"].astype(str))], index=body.index)
    chart_df = body.assign(_label=label.to_numpy())
    chart = grouped_bars(chart_df, "_label", amounts, ["Prévu", "Engagé", "Payé"][:len(amounts)],
                         title=f"Budget par {CODES['budget_by'][by]} au {F.fmt_date(ctx.as_of)}",
                         value_label="Montant (€)", kind="eur")
    cells = {c: k for c, k in _budget_cells(ctx, ex, by).items() if c in cols}
    # titles in full (a cut title hides which action it is): the title column takes the room it needs
    widths = ({by: 6, "action_title" if by == "action_code" else "axis_title": 34, "planned_eur": 11,
               "committed_eur": 12, "paid_eur": 12, "commitment_rate_pct": 12, "payment_rate_pct": 13}
              if by in ("action_code", "axis_code") else None)
    if widths and not followup:
        widths = {c: w for c, w in widths.items() if c in cols}
    caption = (f"Prévu, engagé et payé par {CODES['budget_by'][by]}" if followup
               else f"Prévu par {CODES['budget_by'][by]} (annexe 6)")
    return [chart, html_table(ex, columns=cols, cells=cells, widths=widths, caption=caption),
            None if followup else no_budget_followup(),
            # said once under the synthesis and the first breakdown, not under each one
            _other_lines_note(ctx) if by == "action_code" else None]


#: Store indicator of each amount column of the budget tables.
BUDGET_STORE = {"planned_eur": "budget_planned_eur", "committed_eur": "budget_committed_eur",
                "paid_eur": "budget_paid_eur"}


def _budget_cells(ctx, ex: pd.DataFrame, by: str) -> dict:
    """Tag the amounts of the action and axis tables with their store key (added to ``ex`` as ``_cell_*`` columns).

    The store holds the roadmap's budget for the département (one key per action, per axis
    and the total); recipients and funders are not store figures and stay untagged.
    """
    if by not in ("action_code", "axis_code"):
        return {}
    terr = ctx.bundle["territories"]
    dept = terr.loc[terr["level"].astype(str) == "departement", "territory_code"].astype(str)
    if len(dept) != 1:
        return {}
    dim = "action" if by == "action_code" else "axis"
    period = str(ctx.as_of.year)
    out = {}
    for col, ind in BUDGET_STORE.items():
        key = f"_cell_{col}"
        ex[key] = [storeview.cell(ctx, ind, period, "" if total else f"{dim}={code}", territory=dept.iloc[0])
                   for code, total in zip(ex[by].astype(str), ex["is_total"].astype(bool))]
        out[col] = key
    return out


def budget_pace(ctx) -> Section:
    """Return the execution of each action against the share of its period elapsed."""
    blocks = [_territory_budget_note(ctx)]
    append_part(blocks, _budget_over_time, ctx)
    append_part(blocks, _budget_burn, ctx)
    return Section(blocks, "budget_rythme")


def _budget_over_time(ctx):
    """Chart the cumulative committed and paid amounts at each month end, against the plan."""
    budget_execution = budget.budget_execution
    lines, tx, acts = budget_tables_of(ctx, "actions")
    if not budget_followup(ctx):
        return no_budget_followup()
    if tx.empty:
        return no_data("aucun engagement ni paiement enregistré sur les lignes des actions.")
    first = pd.to_datetime(tx["date"]).min()
    ends = pd.date_range(first, ctx.as_of, freq="ME")
    if len(ends) == 0 or ends[-1] < ctx.as_of:
        ends = ends.append(pd.DatetimeIndex([ctx.as_of]))
    rows = []
    for end in ends:  # one snapshot per month end, each computed by budget.budget_execution
        tot = budget_execution(lines, tx, acts, by="action_code", as_of=end, totals=True)
        tot = tot[tot["is_total"]].iloc[0]
        rows.append({"month": end, "committed_eur": tot["committed_eur"], "paid_eur": tot["paid_eur"],
                     "planned_eur": tot["planned_eur"]})
    df = pd.DataFrame(rows)
    long = pd.concat([
        pd.DataFrame({"month": df["month"], "amount": [float(v) for v in df[c]], "serie": name})
        for c, name in (("planned_eur", "Prévu"), ("committed_eur", "Engagé cumulé"), ("paid_eur", "Payé cumulé"))
    ], ignore_index=True)
    chart = line_chart(long, "month", "amount", title="Engagements et paiements cumulés des actions",
                       y_label="Montant (€)", hue="serie", kind="eur")
    last = df.iloc[-1]
    return [chart, para(f"Au {F.fmt_date(ctx.as_of)} : {F.fmt_eur(last['committed_eur'])} engagés et "
                        f"{F.fmt_eur(last['paid_eur'])} payés, pour {F.fmt_eur(last['planned_eur'])} prévus.")]


def _budget_burn(ctx):
    if not budget_followup(ctx):
        return None  # said once by the chart above: no verdict without follow-up data
    budget_burn = budget.budget_burn
    lines, _, acts = budget_tables_of(ctx, "actions")
    # the whole follow-up: budget_burn judges « no data » on the bundle's transactions, not the action lines'
    bb = budget_burn(lines, ctx.bundle["budget_transactions"], acts, as_of=ctx.as_of)
    if bb.empty:
        return no_data("aucune action.")
    bb = with_action_title(bb, ctx)
    late = bb[bb["burn_label"].astype("string") == "en retard"]
    text = (f"Au {F.fmt_date(ctx.as_of)}, {F.fmt_int(len(late))} action"
            f"{'s' if len(late) > 1 else ''} sur {F.fmt_int(len(bb))} "
            f"{'ont' if len(late) > 1 else 'a'} payé nettement moins que la part de leur période écoulée"
            + (f" ({', '.join(late['action_code'].astype(str))})" if len(late) else "") + ".")
    return [para(text),
            html_table(bb.assign(period=[f"{F.fmt_month(a)} – {F.fmt_month(b)}"
                                         for a, b in zip(bb["start_date"], bb["end_date"])]),
                       columns=["action_code", "action_title", "period", "elapsed_pct", "payment_rate_pct",
                                "burn_label"],
                       labels={"period": "Période de l'action"},
                       formats={"burn_label": "text"},
                       widths={"action_code": 7, "action_title": 41, "period": 20, "elapsed_pct": 11,
                               "payment_rate_pct": 11, "burn_label": 10},
                       caption="Rythme de paiement au regard du temps écoulé"),
            note("Rythme : « en retard » quand la part payée est inférieure de plus de 20 % à la part "
                 "de la période de l'action déjà écoulée, « en avance » quand elle la dépasse de plus "
                 "de 20 %.")]


def training_fund(ctx) -> Section:
    """Return the training fund's departures against the 60-departure minimum."""
    blocks = []
    append_part(blocks, _training_fund, ctx)
    return Section(blocks, "fonds_formation")


def _training_fund(ctx):
    training_fund = budget.training_fund
    tf = training_fund(ctx.bundle["budget_lines"], ctx.bundle["trainings"], as_of=ctx.as_of,
                       by=("training_type",))
    tot = tf[tf["is_total"]].iloc[0]
    text = (f"Au {F.fmt_date(ctx.as_of)}, {count_text(tot['departures'], ctx, 'départs en formation')} "
            f"financés par le fonds de formation FNE, pour un objectif minimal de "
            f"{F.fmt_int(tot['target_departures'])} (feuille de route, annexe 6)")
    if 0 < int(tot["departures"]) < ctx.threshold:
        text += "."  # the share achieved and the remainder would give the hidden count away
    else:
        text += (f" : {F.fmt_pct(tot['share_achieved_pct'])} de l'objectif, "
                 f"{F.fmt_int(tot['remaining'])} départ{'s' if int(tot['remaining']) > 1 else ''} "
                 f"restant à réaliser.")
    body = tf[~tf["is_total"]][["training_type", "departures"]].copy()
    blocks = [para(text)]
    if not 0 < int(tot["departures"]) < ctx.threshold:
        bars = pd.DataFrame({"what": [f"Départs financés au {F.fmt_date(ctx.as_of)}",
                                      "Objectif minimal (annexe 6)"],
                             "n": [int(tot["departures"]), int(tot["target_departures"])]})
        blocks.append(bar_chart(bars, "what", "n", title="Fonds de formation : départs et objectif",
                                value_label="Départs en formation", color="#029E73"))
    if len(body):
        body = suppress_counts(body, ["departures"], ctx.threshold, "training_type")
        blocks.append(html_table(body, columns=["training_type", "departures"], count_columns=["departures"],
                                 threshold=ctx.threshold,
                                 caption="Départs financés par type de formation"))
    else:
        blocks.append(no_data("aucun départ en formation financé par le fonds."))
    return blocks
