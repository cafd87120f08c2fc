"""Sections of the impact assessment (notebook ``impact``): context, offer, activity, results, impact estimate."""
from __future__ import annotations

import pandas as pd

from fne_eval.bundle.spec import AGE_BANDS, GENDERS, SOCIAL_STATUSES
from fne_eval.core import territory
from fne_eval.evaluate import completeness
from fne_eval.evaluate import offer as offer_eval
from fne_eval.evaluate import impact as impact_eval
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.evaluate import targets as targets_eval
from fne_eval.report.charts import bar_chart, line_chart
from fne_eval.report.labels import VERDICT_TEXT, code_label
from fne_eval.report.maps import choropleth
from fne_eval.report.tables import html_table
from fne_eval.store.build import ALIASES
from fne_eval.store.registry import INDICATORS

from fne_eval.report.sections.common import (Section, member_codes_of, territory_communes, indicator_rows_of, once_per_report, append_part,
                                             shorten_text, shown_value_text, territory_units, year_bounds, heading, no_data,
                                             note, para, para_figures, suppress_counts)

__all__ = ["context", "offer", "activity", "results", "impact_estimate"]


# --------------------------------------------------------------------------- impact: contexte
def context(ctx) -> Section:
    """Return the context of the territory: population, IFN, illectronisme, exposed communes, map."""
    blocks = [heading("Population et fragilité numérique")]
    append_part(blocks, _population_ifn, ctx)
    blocks.append(heading("Illectronisme et chiffres de l'état des lieux"))
    append_part(blocks, _context_figures, ctx)
    blocks.append(heading("Communes les plus exposées (annexe 3 de la feuille de route)"))
    append_part(blocks, _exposed_communes, ctx)
    append_part(blocks, _ifn_map, ctx)
    return Section(blocks, "contexte")


def _population_ifn(ctx):
    year = str(ctx.as_of.year)
    pop = storeview.cell(ctx, "population", year)
    ifn = storeview.cell(ctx, "ifn", year)
    srow = storeview.store_of(ctx)
    vint = srow[(srow["indicator"] == "population") & (srow["territory_code"] == ctx.territory_code)
                & (srow["period"] == year)]["vintage"]
    n_units = len(territory_units(ctx))
    th = ctx.threshold
    text = (f"{ctx.territory_name} compte {{pop}} habitants (population municipale INSEE, "
            f"{vint.iloc[0] if len(vint) else 'millésime inconnu'}), répartis sur {F.fmt_int(n_units)} "
            f"commune{'s' if n_units > 1 else ''} ou arrondissement{'s' if n_units > 1 else ''}.")
    figs = {"pop": storeview.figure_html(pop, th)}
    if ifn is not None and ifn.value is not None:
        how = {"departement": "moyenne des communes et arrondissements pondérée par leur population",
               "epci": "valeur publiée pour l'EPCI"}.get(ctx.level, "valeur publiée, ou moyenne de ses "
                                                                  "arrondissements pondérée par leur population")
        ivint = srow[(srow["indicator"] == "ifn") & (srow["territory_code"] == ctx.territory_code)
                     & (srow["period"] == year)]["vintage"]
        text += (f" Indice de fragilité numérique (IFN) : {{ifn}} sur 10 ({how} ; source : La MedNum, via ANCT, "
                 f"{ivint.iloc[0] if len(ivint) else ''}).")
        figs["ifn"] = storeview.figure_html(ifn, th, lambda v: F.fmt_decimal(v, 2))
    else:
        text += " Indice de fragilité numérique : pas de valeur pour ce territoire."
    return [para_figures(text, figs)]


def _context_figures(ctx):
    cf = ctx.bundle["context_figures"].copy()
    cf["territory_code"] = cf["territory_code"].astype(str)
    codes = {ctx.territory_code}
    terr = ctx.bundle["territories"]
    if ctx.level in ("commune", "arrondissement"):
        row = terr[terr["territory_code"].astype(str) == ctx.territory_code]
        if len(row) and not F.is_missing(row["epci_siren"].iloc[0]):
            codes.add(str(row["epci_siren"].iloc[0]))
    illec = cf[cf["indicator"].astype(str).str.contains("illectronisme", case=False)].copy()
    if ctx.level == "departement":
        epcis = terr.loc[terr["level"] == "epci", "territory_code"].astype(str)
        illec = illec[illec["territory_code"].isin(codes | set(epcis))]
    else:
        illec = illec[illec["territory_code"].isin(codes)]
    blocks = []
    names = dict(zip(terr["territory_code"].astype(str), terr["territory_name"].astype(str)))
    if len(illec):
        illec["territory_name"] = illec["territory_code"].map(names)
        illec["shown"] = [F.fmt_value(v, u) for v, u in zip(illec["value"], illec["unit"])]
        blocks.append(html_table(
            illec, columns=["territory_name", "label", "shown", "reference_date", "source"],
            formats={"shown": "numtext", "reference_date": F.fmt_reference_date},
            caption="Illectronisme (chiffres cités par la feuille de route)"))
    else:
        blocks.append(no_data("aucun taux d'illectronisme n'est cité pour ce territoire."))
    others = cf[cf["territory_code"].isin(codes)
                & ~cf["indicator"].astype(str).str.contains("illectronisme", case=False)].copy()
    if len(others):
        others["shown"] = [F.fmt_value(v, u) for v, u in zip(others["value"], others["unit"])]
        # long source notes are cut here: the section "Sources" lists them in full
        others["source"] = [x if F.is_missing(x) else shorten_text(str(x), 80) for x in others["source"].astype(object)]
        blocks.append(html_table(
            others, columns=["label", "shown", "reference_date", "source"],
            widths={"label": 42, "shown": 12, "reference_date": 14, "source": 32},
            formats={"shown": "numtext", "reference_date": F.fmt_reference_date},
            caption="Chiffres de l'état des lieux de la feuille de route"))
    return blocks


def _exposed(ctx) -> pd.DataFrame:
    ex = ctx.bundle["exposed_communes"]
    ex = ex[~ex["is_total_row"].astype(bool)].copy()
    units = set(territory_units(ctx))
    communes = set(territory_communes(ctx))
    code = ex["territory_code"].astype("string")
    return ex[(code.isin(units) | code.isin(communes)).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def _exposed_communes(ctx):
    ex = _exposed(ctx)
    if ex.empty:
        return no_data(f"aucune commune de {ctx.territory_name} ne figure dans la liste des "
                       "communes les plus exposées (annexe 3).")
    total = int(pd.to_numeric(ex["printed_fragile_population"]).sum())
    shown = ex.sort_values("printed_fragile_population", ascending=False)
    shown = suppress_counts(shown[["row_number", "printed_name", "territory_code", "printed_population",
                                   "printed_ifn", "printed_fragile_population", "printed_share_pct"]],
                            ["printed_fragile_population"], ctx.threshold, "row_number")
    return [
        para(f"{F.fmt_int(len(ex))} des communes ou arrondissements listés par l'annexe 3 de la "
             f"feuille de route sont dans le territoire ; l'annexe y compte "
             f"{F.fmt_int(total)} personnes en situation de fragilité socio-numérique. "
             "Les valeurs sont reproduites telles qu'imprimées (contrôles dans l'annexe pour l'analyste)."),
        html_table(shown, columns=["printed_name", "territory_code", "printed_population", "printed_ifn",
                                   "printed_fragile_population", "printed_share_pct"],
                   formats={"printed_population": "int", "printed_ifn": "decimal",
                            "printed_share_pct": "pct"},
                   count_columns=["printed_fragile_population"], threshold=ctx.threshold,
                   caption="Communes les plus exposées du territoire (annexe 3, valeurs imprimées)"),
    ] + _impossible_shares(ex)


def _impossible_shares(ex: pd.DataFrame) -> list:
    """Return a note naming the annex rows whose fragile population exceeds the population."""
    fragile = pd.to_numeric(ex["printed_fragile_population"], errors="coerce")
    population = pd.to_numeric(ex["printed_population"], errors="coerce")
    bad = ex[(fragile > population).fillna(False).to_numpy(dtype=bool)]
    if bad.empty:
        return []
    rows = "ainsi que ".join(
        f"{r.printed_name} : {F.fmt_int(r.printed_fragile_population)} personnes fragiles pour "
        f"{F.fmt_int(r.printed_population)} habitants "
        for r in bad.itertuples(index=False))
    return [para(f"À confirmer avec le Hub du Sud — part impossible dans l'annexe 3 : {rows.strip()} "
                 "(plus de 100 % de la population) ; le chiffre est reproduit tel qu'imprimé.")]


def _commune_ifn(ctx) -> dict:
    """Return the store's IFN of each commune (Marseille: its arrondissements weighted by population)."""
    st = storeview.store_of(ctx)
    rows = st[(st["indicator"] == "ifn") & (st["level"] == "commune") & (st["period"] == str(ctx.as_of.year))]
    return {c: v for c, v in zip(rows["territory_code"], rows["value"]) if not pd.isna(v)}


def _ifn_map(ctx):
    values = _commune_ifn(ctx)
    exposed = _exposed(ctx)
    cm = territory.code_membership(ctx.bundle["territories"])
    to_commune = dict(zip(cm["unit_code"].astype(str), cm["commune_code"].astype(str)))
    marked = {to_commune.get(str(c), str(c)) for c in exposed["territory_code"].dropna()}
    chart = choropleth(values, title=f"Indice de fragilité numérique par commune — {ctx.territory_name}",
                       legend_label="IFN (0-10)", highlight=territory_communes(ctx), marked=marked,
                       marked_label="Commune exposée (annexe 3)", kind="decimal", cmap="OrRd",
                       caption="IFN La MedNum via ANCT ; Marseille : moyenne de ses arrondissements.")
    return chart


# --------------------------------------------------------------------------- impact: offre
def offer(ctx) -> Section:
    """Return the offer: lieux and labels, lieux per 10 000 inhabitants, exposed communes without a lieu."""
    blocks = []
    append_part(blocks, _offer_summary, ctx)
    blocks.append(heading("Communes exposées sans lieu de médiation numérique"))
    append_part(blocks, _exposed_without_lieu, ctx)
    return Section(blocks, "offre")


def _offer_summary(ctx):
    lieux_by_territory = offer_eval.lieux_by_territory
    labels = offer_eval.LABELS
    res = lieux_by_territory(ctx.bundle, levels=(ctx.level,))
    res = res[res["territory_code"].astype(str) == ctx.territory_code]
    allrow = res[res["label"] == "all"]
    if allrow.empty or int(allrow["n_lieux"].iloc[0]) == 0:
        return no_data(f"aucun lieu de médiation numérique n'est recensé pour {ctx.territory_name}.")
    lieux = ctx.bundle["lieux"]
    last = pd.to_datetime(lieux["date_maj"]).max() if len(lieux) else None
    year = str(ctx.as_of.year)
    n = storeview.cell(ctx, "lieux", year)
    per = storeview.cell(ctx, "lieux_per_10000", year)
    text = ("{n} lieux de médiation numérique sont recensés dans le territoire, soit {per} pour 10 000 habitants"
            + (f" ; mise à jour la plus récente de la liste des lieux : {F.fmt_date(last)}"
               if last is not None and not F.is_missing(last) else "") + ".")
    blocks = [para_figures(text, {"n": storeview.figure_html(n, ctx.threshold),
                                  "per": storeview.figure_html(per, ctx.threshold, lambda v: F.fmt_decimal(v, 2))})]
    tab = res.copy()
    tab["label_name"] = [("Tous les lieux" if k == "all" else labels.get(k, k)) for k in tab["label"]]
    blocks.append(html_table(tab, columns=["label_name", "n_lieux", "lieux_per_10k"],
                             formats={"lieux_per_10k": "decimal2"},
                             caption="Lieux par label national, pour 10 000 habitants"))
    return blocks


def _exposed_without_lieu(ctx):
    exposed_communes_offer = offer_eval.exposed_communes_offer
    start, end = year_bounds(ctx)
    res = exposed_communes_offer(ctx.bundle, source="annexe3", start=start, end=end)
    codes = set(member_codes_of(ctx))
    res = res[res["territory_code"].astype("string").isin(codes).fillna(False).to_numpy(dtype=bool)]
    if res.empty:
        return no_data(f"aucune commune de {ctx.territory_name} ne figure dans la liste des communes "
                       "les plus exposées (annexe 3).")
    without = res[~res["has_lieu"].astype(bool)]
    if without.empty:
        text = ("Toutes les communes exposées du territoire (annexe 3) disposent d'au moins un lieu de "
                "médiation numérique recensé.")
    else:
        text = (f"{F.fmt_int(len(without))} des {F.fmt_int(len(res))} communes ou arrondissements exposés "
                f"du territoire (annexe 3) n'ont aucun lieu de médiation numérique recensé : "
                + ", ".join(without["territory_name"].astype(str)) + ".")
    # the participations of each commune are the store's (hidden the same way in every report)
    shown = res.reset_index(drop=True).copy()
    shown["part_cell"] = [storeview.cell(ctx, "participations", territory=str(c)) for c in shown["territory_code"]]
    hidden = pd.Series([c is not None and c.hidden for c in shown["part_cell"]], index=shown.index)
    shown["participants"] = [None if (c is None or c.hidden) else c.value for c in shown["part_cell"]]
    # a rate computed on a hidden count would give it away
    shown["accompaniments_per_1000_exposed"] = [
        None if h or F.is_missing(v) or F.is_missing(pop) or not pop else v / pop * 1000
        for h, v, pop in zip(hidden, shown["participants"], shown["exposed_population"])]
    return [para(text),
            html_table(shown, columns=["territory_name", "ifn_total", "exposed_population", "n_lieux",
                                       "participants", "accompaniments_per_1000_exposed"],
                       labels={"participants": f"Participations en {ctx.year}",
                               "accompaniments_per_1000_exposed": "Pour 1 000 personnes exposées"},
                       formats={"ifn_total": "decimal2", "exposed_population": "int", "participants": "count"},
                       cells={"participants": "part_cell"}, threshold=ctx.threshold,
                       caption="Communes exposées : offre et accompagnements"),
            note("Personnes exposées : population en fragilité socio-numérique imprimée à l'annexe 3. "
                 "Un taux calculé sur un effectif masqué (« < " + str(ctx.threshold) + " ») n'est pas "
                 "affiché (–).")]


# --------------------------------------------------------------------------- impact: activité
def activity(ctx) -> Section:
    """Return the accompaniments of the year: totals, completeness, publics, themes, trend."""
    blocks = []
    append_part(blocks, _activity_summary, ctx)
    blocks.append(heading("Publics accompagnés"))
    append_part(blocks, _activity_publics, ctx)
    blocks.append(heading("Thématiques"))
    append_part(blocks, _activity_themes, ctx)
    blocks.append(heading("Évolution mensuelle"))
    append_part(blocks, _activity_trend, ctx)
    return Section(blocks, "activite")


def _activity_summary(ctx):
    start, end = year_bounds(ctx)
    acc = storeview.cell(ctx, "accompaniments")
    part = storeview.cell(ctx, "participations")
    if acc is None or (not acc.hidden and not acc.value):
        return no_data(f"aucun accompagnement n'est enregistré pour {ctx.territory_name} en {ctx.year}.")
    rate = storeview.cell(ctx, "participations_per_1000")
    tot = completeness.totals_with_completeness(ctx.bundle, ctx.territory_code, start=start, end=end,
                                                threshold=ctx.threshold)
    rep = tot.iloc[0]["reporting_rate_pct"]
    who = ("résidant dans le territoire, ou sans commune de résidence connue" if ctx.level == "departement"
           else "résidant dans le territoire")
    th = ctx.threshold
    text = (f"Du {F.fmt_date(start)} au {F.fmt_date(end)} : {{acc}} accompagnements, soit {{part}} participations "
            f"(personnes × séances) de personnes {who}"
            + (", {rate} pour 1 000 habitants" if rate is not None else "")
            + (f" ; taux de remontée : {F.fmt_pct(rep)}." if not F.is_missing(rep) else "."))
    figs = {"acc": storeview.figure_html(acc, th), "part": storeview.figure_html(part, th),
            "rate": storeview.figure_html(rate, th, lambda v: F.fmt_decimal(v, 1))}
    return [para_figures(text, figs),
            note("Un accompagnement est un compte rendu d'activité (individuel ou collectif) ; une participation "
                 "est une personne présente à un accompagnement (une personne venue trois fois compte trois). "
                 "Ils sont comptés dans le territoire de résidence des personnes ; le taux de remontée est la part "
                 "des lieux du territoire ayant saisi au moins un accompagnement sur la période.")]


def _store_breakdown_table(ctx, indicator_id: str, dim: str, cats, caption: str, value_label: str,
                           sort_by_value: bool = False):
    g = storeview.cells_by(ctx, indicator_id, dim)
    if g.empty:
        return None
    if cats is not None:
        order = {c: i for i, c in enumerate(cats)}
        g = g.assign(__o=g["category"].map(order)).sort_values("__o").drop(columns="__o")
    if sort_by_value:
        g = g.assign(__v=[c.value for c in g["cell"]]).sort_values(["__v", "category"], ascending=[False, True])
        g = g[[c.value != 0 for c in g["cell"]]].drop(columns="__v")
    g = g.rename(columns={"category": dim}).reset_index(drop=True)
    return html_table(g, columns=[dim, "value"], labels={"value": value_label}, formats={"value": "count"},
                      cells={"value": "cell"}, threshold=ctx.threshold, caption=caption)


def _activity_publics(ctx):
    blocks = []
    for col, cats, cap in (("age_band", AGE_BANDS, "Participations par tranche d'âge"),
                           ("gender", GENDERS, "Participations par genre"),
                           ("social_status", SOCIAL_STATUSES, "Participations par statut")):
        t = _store_breakdown_table(ctx, "participations", col, cats, f"{cap} — {ctx.year}", "Participations")
        if t is not None:
            blocks.append(t)
    if not blocks:
        return no_data(f"les publics ne sont publiés qu'au niveau du département et des EPCI ({ctx.territory_name} "
                       "est une commune : ses effectifs par catégorie seraient trop petits).")
    blocks.append(note("Participations : personnes × séances. Les participants des ateliers collectifs dont La Coop "
                       "ne connaît pas le profil sont comptés « non communiqué ». "
                       + storeview.hidden_legend(ctx.threshold)))
    return blocks


def _activity_themes(ctx):
    g = storeview.cells_by(ctx, "accompaniments", "theme")
    if g.empty:
        return no_data("aucune thématique à décrire à ce niveau territorial.")
    g = g.assign(n=[c.value for c in g["cell"]])
    g = g[g["n"] > 0].sort_values(["n", "category"], ascending=[False, True])
    if g.empty:  # every theme at 0 (an EPCI without records, national bundle): g[[]] would drop the columns
        return no_data("aucune thématique à décrire : aucun accompagnement sur la période.")
    shown = g[[not c.hidden for c in g["cell"]]].copy()
    shown["theme_label"] = [code_label("theme", t) for t in shown["category"]]
    shown["value"] = shown["n"]
    top = shown.head(12)
    chart = bar_chart(top, "theme_label", "value",
                      title="Thématiques les plus fréquentes des accompagnements",
                      value_label="Accompagnements", max_bars=12)
    # the table lists the other themes only: the chart already prints the values of the first ones
    drawn = set(top["category"])
    tab = (g[~g["category"].isin(drawn)].rename(columns={"category": "theme"}).drop(columns="n")
           .reset_index(drop=True))
    blocks = [chart, note("Un accompagnement peut porter sur plusieurs thématiques : les lignes ne "
                          "s'additionnent pas au total.")]
    if len(tab):
        blocks.append(html_table(tab, columns=["theme", "value"], labels={"value": "Accompagnements"},
                                 formats={"value": "count"}, cells={"value": "cell"}, threshold=ctx.threshold,
                                 caption=f"Autres thématiques (hors graphique) — {ctx.year}"))
    return blocks


def _activity_trend(ctx):
    m = storeview.monthly(ctx, "participations")
    if m.empty:
        return no_data("la série mensuelle n'est publiée qu'au niveau du département et des EPCI.")
    shown = m[[not c.hidden for c in m["cell"]]].assign(participants=lambda d: d["value"].astype("float64"))
    chart = line_chart(shown, "month", "participants",
                       title=f"Participations par mois — {ctx.territory_name}",
                       y_label="Participations (personnes × séances)")
    blocks = [chart]
    blocks.extend(_yearly_trend(ctx))
    last = m.tail(12).rename(columns={"value": "participants"})
    blocks.append(html_table(last, columns=["month", "participants"], labels={"participants": "Participations"},
                             formats={"participants": "count"}, cells={"participants": "cell"},
                             threshold=ctx.threshold, caption="Douze derniers mois (données du graphique)"))
    return blocks


def _yearly_trend(ctx) -> list:
    rows = []
    for y in range(ctx.year - 3, ctx.year + 1):
        c = storeview.cell(ctx, "participations", str(y))
        a = storeview.cell(ctx, "accompaniments", str(y))
        if c is None or a is None:
            continue
        rows.append({"period": str(y), "accompaniments": None if a.hidden else a.value, "acc_cell": a,
                     "participants": None if c.hidden else c.value, "part_cell": c})
    if not rows:
        return []
    yr = pd.DataFrame(rows)
    prev = yr["participants"].shift(1)
    yr["change_pct"] = [(v / p - 1) * 100 if v is not None and p is not None and not pd.isna(p) and p else None
                        for v, p in zip(yr["participants"], prev)]
    partial = ctx.as_of < pd.Timestamp(ctx.year, 12, 31)
    return [html_table(yr, columns=["period", "accompaniments", "participants", "change_pct"],
                       labels={"period": "Année", "accompaniments": "Accompagnements",
                               "participants": "Participations", "change_pct": "Évolution des participations"},
                       formats={"accompaniments": "count", "participants": "count", "change_pct": "pct"},
                       cells={"accompaniments": "acc_cell", "participants": "part_cell"},
                       threshold=ctx.threshold, caption="Évolution annuelle"),
            note("Chaque année compte les accompagnements de ses douze mois"
                 + (f" ; {ctx.year} s'arrête au {F.fmt_date(ctx.as_of)}." if partial else ".")
                 + " Les communes qui ne saisissent pas encore leurs accompagnements font varier le total "
                 "d'une année à l'autre : voir le taux de remontée.")]


# --------------------------------------------------------------------------- impact: résultats
def results(ctx) -> Section:
    """Return the indicators of the axis's actions against their targets."""
    blocks = []
    append_part(blocks, _indicator_table, ctx, ctx.axis if ctx.axis != "all" else None, ctx.year)
    return Section(blocks, "resultats")


def _indicator_table(ctx, axis, year):
    prog = indicator_rows_of(ctx, axis, year)
    if prog.empty:
        return no_data(f"aucun indicateur mesuré pour {ctx.axis_label} en {year}.")
    inds = ctx.bundle["indicators"].set_index("indicator_code")
    prog = prog.copy()
    prog["label"] = prog["indicator_code"].map(inds["label"].astype(str))
    prog["action_code"] = prog["indicator_code"].map(inds["action_code"].astype("string"))
    units = prog["indicator_code"].map(inds["unit"].astype(str))
    for c in ("value", "baseline_value", "target_value", "expected_value"):
        if c in prog.columns:
            prog[c + "_shown"] = [shown_value_text(v, u, ctx) for v, u in zip(prog[c], units)]
    # the measured value is printed as the store publishes it (same text, same mark in every report)
    prog["value_shown"] = [c.text(ctx.threshold, lambda v, u=u: F.fmt_value(v, u)) if c is not None and c.hidden
                           else t for c, t, u in zip(prog["cell"], prog["value_shown"], units)]
    if "target_year" in prog.columns and "target_value_shown" in prog.columns:
        prog["target_value_shown"] = [
            f"{t} ({int(y)})" if not F.is_missing(y) and int(y) != year and t != F.MISSING else t
            for t, y in zip(prog["target_value_shown"], prog["target_year"].astype(object))]
    # a roadmap indicator that is a registry quantity is named for what it counts (issue 9)
    prog["label"] = [INDICATORS[ALIASES[c]].label if c in ALIASES else lab
                     for c, lab in zip(prog["indicator_code"].astype(str), prog["label"].astype(str))]
    prog["label"] = [shorten_text(t, 90) for t in prog["label"].astype(str)]
    # verdicts by the roadmap's rules: only its own targets count; proposals, stale values and
    # targets equal to their baseline give no « sur la trajectoire » (evaluate/targets.py)
    prog = targets_eval.target_verdicts(prog, ctx.bundle["indicators"], year)
    prog["verdict_text"] = [VERDICT_TEXT.get(str(v), str(v)) for v in prog["verdict"]]
    prog["target_origin"] = [{"roadmap": "feuille de route", "proposal": "proposition à valider"}.get(str(o), F.MISSING)
                             for o in prog["target_origin"]]
    cols = ["action_code", "label", "period"] + [c + "_shown" for c in ("value", "baseline_value",
                                                                       "target_value", "expected_value")
                                                 if c in prog.columns]
    cols += ["verdict_text", "target_origin"]
    # no target at this level (an EPCI): the empty target columns are not printed
    cols = [c for c in cols if c not in ("target_value_shown", "expected_value_shown", "target_origin")
            or (prog[c].astype(str) != F.MISSING).any()]
    labels = {"verdict_text": "Verdict"}
    counted = prog["counted"].astype(bool)
    n_known = int(counted.sum())
    n_ok = int((prog["verdict"].astype(str) == "on_track").sum())
    if n_known:
        target_text = (f"{F.fmt_int(n_ok)} sur {F.fmt_int(n_known)} avec une cible de la feuille de route "
                       f"{'sont' if n_ok > 1 else 'est'} sur la trajectoire attendue au {F.fmt_date(ctx.as_of)} "
                       "(les cibles proposées, les données non à jour et les cibles égales à la référence ne "
                       "sont pas comptées).")
    elif ctx.level == "departement":
        target_text = "aucun indicateur n'a de cible de la feuille de route mesurable à cette date."
    else:
        target_text = ("aucune cible n'est fixée à ce niveau territorial (les cibles de la feuille de "
                       "route sont départementales).")
    blocks = [para(f"{F.fmt_int(len(prog))} indicateur{'s' if len(prog) > 1 else ''} suivi"
                   f"{'s' if len(prog) > 1 else ''} ; " + target_text),
              html_table(prog.sort_values(["action_code", "label"]), columns=cols, labels=labels,
                         formats={c: "numtext" for c in cols if c.endswith("_shown")},
                         cells={"value_shown": "cell"},
                         widths={"action_code": 7, "label": 33},
                         caption=f"Indicateurs et cibles — {year}")]
    if (prog["target_origin"] == "proposition à valider").any():
        blocks.append(note("Les cibles « proposition à valider » ne figurent pas dans la feuille de route : "
                           "proposées lors de la transcription, elles sont à valider en COPIL. Référence : valeur de "
                           "départ (catalogue) ou première valeur observée."))
    return blocks


# --------------------------------------------------------------------------- impact: estimate
def impact_estimate(ctx) -> Section:
    """Return the impact estimate (difference in differences) with its caveat."""
    blocks = []
    append_part(blocks, _impact_estimate, ctx)
    return Section(blocks, "impact")


def _impact_estimate(ctx):
    did_estimate = impact_eval.did_estimate
    acts = ctx.bundle["actions"]
    start_row = acts[acts["action_code"].astype(str) == "1.2"]
    if start_row.empty:
        return no_data("l'action 1.2 (animation du réseau), dont le début sert de date de référence, "
                       "n'est pas dans la feuille de route du bundle.")
    start = start_row["start_date"].iloc[0]
    # the estimate uses the data up to the report's date only (issue 11)
    res = once_per_report(ctx, ("impact", str(ctx.as_of.date())), lambda: did_estimate(ctx.bundle, start_date=start,
                                                                               as_of=ctx.as_of))
    if res is None or len(res) == 0:
        return no_data("pas assez de données pour estimer un effet (il faut des communes exposées et "
                       "d'autres, et des périodes avant et après le début de l'action).")
    r = res.iloc[0]
    text = (f"Écart estimé, après le début de l'action 1.2 ({F.fmt_date(start)}), entre l'évolution des "
            f"communes exposées (annexe 3) et celle des autres communes : "
            f"{F.fmt_signed(r['estimate'], 2)} accompagnements pour 1 000 habitants par trimestre, "
            f"intervalle de confiance à 95 % [{F.fmt_decimal(r['ci_lower'], 2)} ; "
            f"{F.fmt_decimal(r['ci_upper'], 2)}], p-valeur {F.fmt_decimal(r['p_value'], 3)}.")
    ci_has_zero = (not F.is_missing(r["ci_lower"]) and not F.is_missing(r["ci_upper"])
                   and float(r["ci_lower"]) <= 0 <= float(r["ci_upper"]))
    reading = ("L'intervalle contient 0 : les données ne permettent pas de conclure à un effet."
               if ci_has_zero else "L'intervalle ne contient pas 0.")
    if ctx.level != "departement":
        # the estimate is the département's: said once in the pack with its method and caveats, here in brief
        brief = (f"Estimation départementale (trop peu de communes exposées ici pour une estimation locale) : "
                 f"{F.fmt_signed(r['estimate'], 2)} accompagnements pour 1 000 habitants par trimestre dans les "
                 f"communes exposées depuis le début de l'action 1.2 ({F.fmt_month(start)}), intervalle de confiance à 95 % "
                 f"[{F.fmt_decimal(r['ci_lower'], 2)} ; {F.fmt_decimal(r['ci_upper'], 2)}]"
                 + (" : pas d'effet démontré." if ci_has_zero else ".")
                 + " Détail : rapport du département"
                 + (" ; données synthétiques." if ctx.is_synthetic else "."))
        return [para(brief)]
    detail = pd.DataFrame([
        ("Méthode", str(r["method"])),
        ("Observations (unités × trimestres)", F.fmt_int(r["n_obs"])),
        ("Unités (communes et arrondissements)", F.fmt_int(r["n_units"])),
        ("dont exposées", F.fmt_int(r["n_treated"])),
        ("Trimestres avant / après", f"{F.fmt_int(r.get('n_pre_periods'))} / {F.fmt_int(r.get('n_post_periods'))}"),
        ("Test des tendances parallèles avant l'action (p-valeur)", F.fmt_decimal(r.get("pre_trend_p_value"), 3)),
    ], columns=["figure", "value"])
    blocks = [para(text + " " + reading),
              html_table(detail, formats={"value": "numtext"}, labels={"figure": "Élément", "value": "Valeur"},
                         caption="Estimation par différence de différences")]
    caveat = r.get("caveat")
    if not F.is_missing(caveat) and str(caveat).strip():
        blocks.append(note(f"Avertissement : {caveat}"))
    return blocks
