"""Build the sections of the reports: one function per notebook section.

Each function takes the :class:`~fne_eval.report.context.ReportContext` returned by
:func:`~fne_eval.report.open_report` and returns a :class:`Section`, an object Jupyter
displays (``_repr_html_``): short French sentences, HTML tables and charts with alt text.
Every figure comes from an evaluation module (:mod:`fne_eval.core.territory`,
:mod:`fne_eval.evaluate.budget`, :mod:`fne_eval.evaluate.indicators`, ...); this module only selects,
formats and composes. Counts of people go through :func:`fne_eval.store.disclosure.suppress`
before display, and text from the data is HTML-escaped.

When an evaluation function is not available in the installed version, its part of the
section says so in French ("Section non disponible : …") instead of failing; when the
territory has no data, the section says "Pas de données : …". Any other error propagates
(a report must never be wrong silently).

Sections per notebook
---------------------
``impact``          :func:`contexte`, :func:`offre`, :func:`activite`, :func:`resultats`,
                    :func:`impact`, :func:`qualite`, :func:`sources`
``budget``          :func:`budget_synthese`, :func:`budget_par` (action, axis, recipient,
                    funder), :func:`budget_rythme`, :func:`fonds_formation`, :func:`sources`
``revue_annuelle``  :func:`synthese`, :func:`meteo`, :func:`decisions`, :func:`revue_axe`
                    (one per axis), :func:`regles_meteo`, :func:`sources`

Where the numbers come from: :mod:`fne_eval.core.territory` (members, populations, roll-ups),
:mod:`fne_eval.store` (every published figure, one definition each; :mod:`fne_eval.store.figures` for headline figures), :mod:`fne_eval.evaluate.offer`,
:mod:`fne_eval.evaluate.completeness`, :mod:`fne_eval.evaluate.impact`, :mod:`fne_eval.evaluate.indicators`,
:mod:`fne_eval.evaluate.budget`, :mod:`fne_eval.evaluate.schedule`, :mod:`fne_eval.evaluate.meteo`,
:mod:`fne_eval.evaluate.quality`, and :mod:`fne_eval.evaluate.activity` for the plain counts by
category; :mod:`fne_eval.store.disclosure` hides the small counts of people.
"""
from __future__ import annotations

import html
import re
from typing import Callable, Iterable, List, Optional

import pandas as pd

from fne_eval.core import territory
from fne_eval.evaluate import budget, completeness, indicators, offer, quality, schedule
from fne_eval.store import figures
from fne_eval.evaluate import impact as impact_eval
from fne_eval.evaluate import meteo as meteo_eval
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.store import disclosure
from fne_eval.report.labels import CODES, code_label
from fne_eval.report.tables import HtmlFragment, Table, html_table


# --------------------------------------------------------------------------- building blocks
class Section(HtmlFragment):
    """A report section: a list of HTML blocks (sentences, tables, charts)."""

    def __init__(self, blocks: Iterable, name: str = ""):
        self.blocks = [b for b in blocks if b is not None]
        self.name = name
        body = "".join(b._repr_html_() if hasattr(b, "_repr_html_") else str(b) for b in self.blocks)
        slug = re.sub(r"[^a-z0-9_-]", "", str(name).lower())
        css = f"fne-section fne-section-{slug}" if slug else "fne-section"
        super().__init__(f'<div class="{css}">{body}</div>',
                         text=f"Section {name} ({len(self.blocks)} éléments)")

    @property
    def tables(self) -> List[Table]:
        """Return the tables of the section (their ``data`` holds what is displayed)."""
        return [b for b in self.blocks if isinstance(b, Table)]


def para(text: str) -> HtmlFragment:
    """Return a paragraph of escaped French text."""
    return HtmlFragment(f'<p class="fne-text">{html.escape(text)}</p>', text=text)


def heading(text: str, level: int = 3) -> HtmlFragment:
    """Return an escaped sub-heading (``<h3>`` by default) inside a section."""
    if level not in (3, 4):
        raise ValueError(f"heading level must be 3 or 4, got {level}")
    return HtmlFragment(f"<h{level}>{html.escape(text)}</h{level}>", text=text)


def bullets(items: Iterable[str]) -> HtmlFragment:
    """Return an escaped bullet list."""
    items = list(items)
    body = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return HtmlFragment(f'<ul class="fne-list">{body}</ul>', text="; ".join(items))


def no_data(text: str) -> HtmlFragment:
    """Return the visible French sentence of an absence of data ("Pas de données : …")."""
    msg = f"Pas de données : {text}"
    return HtmlFragment(f'<p class="fne-absence" style="color:#7A4B00;background:#FFF6E0;'
                        f'padding:0.3em 0.6em;border-left:4px solid #F0A202">{html.escape(msg)}</p>',
                        text=msg)


def note(text: str) -> HtmlFragment:
    """Return a caveat or methodological note (escaped, in a box)."""
    return HtmlFragment(f'<p class="fne-note" style="font-size:0.9em;color:#333;background:#F4F7FB;'
                        f'padding:0.3em 0.6em;border-left:4px solid #0173B2">{html.escape(text)}</p>',
                        text=text)


def _part(blocks: list, builder: Callable, *args) -> None:
    """Append the block or blocks returned by ``builder(*args)`` (nothing when it returns None)."""
    out = builder(*args)
    if out is None:
        return
    if isinstance(out, (list, tuple)):
        blocks.extend(out)
    else:
        blocks.append(out)


# --------------------------------------------------------------------------- shared helpers
def _once(ctx, key, compute):
    """Return ``compute()``, computed once per report and kept in ``ctx.extra[key]``."""
    if key not in ctx.extra:
        ctx.extra[key] = compute()
    return ctx.extra[key]


def _units(ctx) -> list:
    """Return the local units of the territory (:func:`fne_eval.core.territory.members`)."""
    members = territory.members
    return _once(ctx, ("units", ctx.territory_code),
                 lambda: members(ctx.bundle["territories"], ctx.territory_code))


def _codes(ctx) -> list:
    """Return every code whose rows count for the territory (:func:`fne_eval.core.territory.member_codes`)."""
    member_codes = territory.member_codes
    return _once(ctx, ("codes", ctx.territory_code),
                 lambda: member_codes(ctx.bundle["territories"], ctx.territory_code))


def _communes_of(ctx) -> list:
    """Return the commune codes (13055 for Marseille's arrondissements) of the territory."""
    cm = territory.code_membership(ctx.bundle["territories"])
    units = set(_units(ctx))
    return sorted(set(cm.loc[cm["unit_code"].isin(units), "commune_code"].dropna().astype(str)))


def _year_bounds(ctx, year: Optional[int] = None) -> tuple:
    y = year or ctx.year
    start = pd.Timestamp(year=y, month=1, day=1)
    end = min(pd.Timestamp(year=y, month=12, day=31), ctx.as_of) if y == ctx.year else \
        pd.Timestamp(year=y, month=12, day=31)
    return start, end


def suppress_counts(df: pd.DataFrame, count_cols: list, threshold: int, group_col: str,
                    by: Optional[str] = None) -> pd.DataFrame:
    """Return ``df`` after disclosure control of its people counts.

    Each column of ``count_cols`` is treated as a one-way table of ``group_col`` (whose
    total is known to the reader; with ``by``, one table per value of ``by``, e.g. the
    months of each year, whose yearly total is published) by
    :func:`fne_eval.store.disclosure.suppress_long`, with complementary suppression. A hidden
    cell has a missing value and a True ``<col>_is_suppressed`` flag, so that tables print
    "< threshold", never 0.
    """
    out = df.reset_index(drop=True).copy()
    if out.empty:
        for col in count_cols:
            out[f"{col}_is_suppressed"] = pd.Series([], dtype=bool)
        return out
    keys = [group_col] + ([by] if by else [])
    if out[keys].duplicated().any():
        raise ValueError(f"suppress_counts: {keys} must identify the rows")
    suppress_long = disclosure.suppress_long
    key = out[group_col].astype("string")
    part = out[by].astype("string") if by else pd.Series("", index=out.index, dtype="string")
    for col in count_cols:
        cells = pd.DataFrame({"__key": key, "__by": part, "__n": pd.to_numeric(out[col]).astype("float64")})
        res = suppress_long(cells, count_col="__n", group_cols=["__key"], threshold=threshold, by=["__by"])
        hidden = dict(zip(zip(res["__by"].astype("string"), res["__key"].astype("string")),
                          res["is_suppressed"].astype(bool)))
        flag = pd.Series([bool(hidden.get((b, k), False)) for b, k in zip(part, key)]).to_numpy()
        out[col] = pd.to_numeric(out[col]).astype("float64").where(~flag)
        out[f"{col}_is_suppressed"] = flag
    return out


def _count_text(n, ctx, noun: str) -> str:
    if F.is_missing(n):
        return f"nombre de {noun} non disponible"
    n = int(n)
    if 0 < n < ctx.threshold:
        return f"moins de {ctx.threshold} {noun}"
    return f"{F.fmt_int(n)} {noun}"


def _axis_actions(ctx, axis: Optional[str] = None) -> pd.DataFrame:
    acts = ctx.bundle["actions"].copy()
    acts["axis_code"] = acts["axis_code"].astype(str)
    axes = [axis] if axis else ctx.axes
    return acts[acts["axis_code"].isin(axes)].sort_values("action_code").reset_index(drop=True)


def _action_titles(ctx) -> dict:
    acts = ctx.bundle["actions"]
    return dict(zip(acts["action_code"].astype(str), acts["action_title"].astype(str)))


def _short(text: str, n: int) -> str:
    """Return ``text`` cut to at most ``n`` characters, at a word boundary, with an ellipsis."""
    if len(text) <= n:
        return text
    cut = text[: n - 1]
    if " " in cut[n // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:'’-") + "…"


def _with_action_title(df: pd.DataFrame, ctx) -> pd.DataFrame:
    titles = _action_titles(ctx)
    out = df.copy()
    out["action_title"] = [titles.get(str(c), "") if not F.is_missing(c) else ""
                           for c in out["action_code"].astype(object)]
    return out


# --------------------------------------------------------------------------- impact: contexte
def contexte(ctx) -> Section:
    """Return the context of the territory: population, IFN, illectronisme, exposed communes, map."""
    blocks = [heading("Population et fragilité numérique")]
    _part(blocks, _population_ifn, ctx)
    blocks.append(heading("Illectronisme et chiffres de l'état des lieux"))
    _part(blocks, _context_figures, ctx)
    blocks.append(heading("Communes les plus exposées (annexe 3 de la feuille de route)"))
    _part(blocks, _exposed_communes, ctx)
    _part(blocks, _ifn_map, ctx)
    return Section(blocks, "contexte")


def _population_ifn(ctx):
    year = str(ctx.as_of.year)
    pop = storeview.cell(ctx, "population", year)
    ifn = storeview.cell(ctx, "ifn", year)
    srow = storeview.store_of(ctx)
    vint = srow[(srow["indicator"] == "population") & (srow["territory_code"] == ctx.territory_code)
                & (srow["period"] == year)]["vintage"]
    n_units = len(_units(ctx))
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
        others["source"] = [x if F.is_missing(x) else _short(str(x), 80) for x in others["source"].astype(object)]
        blocks.append(html_table(
            others, columns=["label", "shown", "reference_date", "source"],
            widths={"label": 42, "shown": 12, "reference_date": 14, "source": 32},
            formats={"shown": "numtext", "reference_date": F.fmt_reference_date},
            caption="Chiffres de l'état des lieux de la feuille de route"))
    return blocks


def _exposed(ctx) -> pd.DataFrame:
    ex = ctx.bundle["exposed_communes"]
    ex = ex[~ex["is_total_row"].astype(bool)].copy()
    units = set(_units(ctx))
    communes = set(_communes_of(ctx))
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
             "Les valeurs sont reproduites telles qu'imprimées (voir la section qualité des données)."),
        html_table(shown, columns=["printed_name", "territory_code", "printed_population", "printed_ifn",
                                   "printed_fragile_population", "printed_share_pct"],
                   formats={"printed_population": "int", "printed_ifn": "decimal",
                            "printed_share_pct": "pct"},
                   count_columns=["printed_fragile_population"], threshold=ctx.threshold,
                   caption="Communes les plus exposées du territoire (annexe 3, valeurs imprimées)"),
    ]


def _commune_ifn(ctx) -> dict:
    """Return the store's IFN of each commune (Marseille: its arrondissements weighted by population)."""
    st = storeview.store_of(ctx)
    rows = st[(st["indicator"] == "ifn") & (st["level"] == "commune") & (st["period"] == str(ctx.as_of.year))]
    return {c: v for c, v in zip(rows["territory_code"], rows["value"]) if not pd.isna(v)}


def _ifn_map(ctx):
    from fne_eval.report.maps import choropleth

    values = _commune_ifn(ctx)
    exposed = _exposed(ctx)
    cm = territory.code_membership(ctx.bundle["territories"])
    to_commune = dict(zip(cm["unit_code"].astype(str), cm["commune_code"].astype(str)))
    marked = {to_commune.get(str(c), str(c)) for c in exposed["territory_code"].dropna()}
    chart = choropleth(values, title=f"Indice de fragilité numérique par commune — {ctx.territory_name}",
                       legend_label="IFN (0-10)", highlight=_communes_of(ctx), marked=marked,
                       marked_label="Commune exposée (annexe 3)", kind="decimal", cmap="OrRd",
                       caption="IFN La MedNum via ANCT ; Marseille : moyenne de ses arrondissements.")
    return chart


# --------------------------------------------------------------------------- impact: offre
def offre(ctx) -> Section:
    """Return the offer: lieux and labels, lieux per 10 000 inhabitants, exposed communes without a lieu."""
    blocks = []
    _part(blocks, _offer_summary, ctx)
    blocks.append(heading("Communes exposées sans lieu de médiation numérique"))
    _part(blocks, _exposed_without_lieu, ctx)
    return Section(blocks, "offre")


def _offer_summary(ctx):
    lieux_by_territory = offer.lieux_by_territory
    labels = offer.LABELS
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
    exposed_communes_offer = offer.exposed_communes_offer
    start, end = _year_bounds(ctx)
    res = exposed_communes_offer(ctx.bundle, source="annexe3", start=start, end=end)
    codes = set(_codes(ctx))
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
def activite(ctx) -> Section:
    """Return the accompaniments of the year: totals, completeness, publics, themes, trend."""
    blocks = []
    _part(blocks, _activity_summary, ctx)
    blocks.append(heading("Publics accompagnés"))
    _part(blocks, _activity_publics, ctx)
    blocks.append(heading("Thématiques"))
    _part(blocks, _activity_themes, ctx)
    blocks.append(heading("Évolution mensuelle"))
    _part(blocks, _activity_trend, ctx)
    return Section(blocks, "activite")


def _year_activities(ctx, year: Optional[int] = None) -> pd.DataFrame:
    from fne_eval.evaluate.activity import territory_activities

    start, end = _year_bounds(ctx, year)
    return territory_activities(ctx.bundle["activities"], _codes(ctx), start, end)


def para_figures(text: str, figures_html: dict) -> HtmlFragment:
    """Return a paragraph whose ``{name}`` placeholders are store figures (see :func:`storeview.figure_html`)."""
    body = html.escape(text)
    plain = text
    for name, fig in figures_html.items():
        body = body.replace("{" + name + "}", fig)
        plain = plain.replace("{" + name + "}", re.sub(r"<[^>]+>", "", fig))
    return HtmlFragment(f'<p class="fne-text">{body}</p>', text=html.unescape(plain))


def _activity_summary(ctx):
    start, end = _year_bounds(ctx)
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
    from fne_eval.bundle.spec import AGE_BANDS, GENDERS, SOCIAL_STATUSES

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
    from fne_eval.report.charts import bar_chart

    g = storeview.cells_by(ctx, "accompaniments", "theme")
    if g.empty:
        return no_data("aucune thématique à décrire à ce niveau territorial.")
    g = g.assign(n=[c.value for c in g["cell"]])
    g = g[g["n"] > 0].sort_values(["n", "category"], ascending=[False, True])
    shown = g[[not c.hidden for c in g["cell"]]].copy()
    shown["theme_label"] = [code_label("theme", t) for t in shown["category"]]
    shown["value"] = shown["n"]
    chart = bar_chart(shown.head(12), "theme_label", "value",
                      title="Thématiques les plus fréquentes des accompagnements",
                      value_label="Accompagnements", max_bars=12)
    tab = g.rename(columns={"category": "theme"}).drop(columns="n").reset_index(drop=True)
    return [chart, note("Un accompagnement peut porter sur plusieurs thématiques : les lignes ne "
                        "s'additionnent pas au total."),
            html_table(tab, columns=["theme", "value"], labels={"value": "Accompagnements"},
                       formats={"value": "count"}, cells={"value": "cell"}, threshold=ctx.threshold,
                       caption=f"Accompagnements par thématique — {ctx.year}")]


def _activity_trend(ctx):
    from fne_eval.report.charts import line_chart

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
def resultats(ctx) -> Section:
    """Return the indicators of the axis's actions against their targets."""
    blocks = []
    _part(blocks, _indicator_table, ctx, ctx.axis if ctx.axis != "all" else None, ctx.year)
    return Section(blocks, "resultats")


def _indicator_rows(ctx, axis: Optional[str], year: int) -> pd.DataFrame:
    """Return :func:`fne_eval.evaluate.indicators.indicator_progress` rows of the territory at the end of ``year``."""
    indicator_values = indicators.indicator_values
    indicator_progress = indicators.indicator_progress
    inds = ctx.bundle["indicators"].copy()
    if inds.empty:
        return inds
    if axis is not None:
        act_axis = dict(zip(ctx.bundle["actions"]["action_code"].astype(str),
                            ctx.bundle["actions"]["axis_code"].astype(str)))
        ax = inds["axis_code"].astype("string").fillna(inds["action_code"].astype("string").map(act_axis))
        inds = inds[(ax == axis).fillna(False).to_numpy(dtype=bool)]
    if inds.empty:
        return inds
    vals = _once(ctx, ("indicator_values", ctx.level, ctx.territory_code),
                 lambda: indicator_values(ctx.bundle, ctx.bundle["indicators"], ctx.level, period="year",
                                          territories=[ctx.territory_code], as_of=ctx.as_of))
    vals = vals[(vals["territory_code"].astype(str) == ctx.territory_code)
                & vals["indicator_code"].isin(inds["indicator_code"])]
    as_of = ctx.as_of if year == ctx.year else pd.Timestamp(year=year, month=12, day=31)
    if vals.empty or pd.to_datetime(vals["period_start"]).min() > as_of:
        return inds.iloc[0:0]
    # a roadmap indicator that is a registry quantity takes the store's figure (one definition)
    from fne_eval.store.build import ALIASES

    vals = vals.copy()
    for i, r in vals.iterrows():
        alias = ALIASES.get(str(r["indicator_code"]))
        if alias:
            c = storeview.cell(ctx, alias, str(r["period"]))
            if c is not None:
                vals.at[i, "value"] = c.value
    prog = indicator_progress(vals, ctx.bundle["indicators"], as_of).reset_index(drop=True)
    prog["cell"] = [storeview.cell(ctx, ALIASES.get(str(c), "roadmap." + str(c)), str(p))
                    for c, p in zip(prog["indicator_code"], prog["period"])]
    return prog


#: Units whose values count people: small values are hidden like any count of people.
PEOPLE_UNITS = {"persons", "participants", "accompaniments", "departures", "count", "people",
                "personnes", "accompagnements", "departs"}


def _shown_value(value, unit, ctx) -> str:
    if unit in PEOPLE_UNITS and not F.is_missing(value) and 0 < float(value) < ctx.threshold:
        return F.fmt_count(value, suppressed=True, threshold=ctx.threshold)
    return F.fmt_value(value, unit)


def _indicator_table(ctx, axis, year):
    prog = _indicator_rows(ctx, axis, year)
    if prog.empty:
        return no_data(f"aucun indicateur mesuré pour {ctx.axis_label} en {year}.")
    inds = ctx.bundle["indicators"].set_index("indicator_code")
    prog = prog.copy()
    prog["label"] = prog["indicator_code"].map(inds["label"].astype(str))
    prog["action_code"] = prog["indicator_code"].map(inds["action_code"].astype("string"))
    units = prog["indicator_code"].map(inds["unit"].astype(str))
    for c in ("value", "baseline_value", "target_value", "expected_value"):
        if c in prog.columns:
            prog[c + "_shown"] = [_shown_value(v, u, ctx) for v, u in zip(prog[c], units)]
    # the measured value is printed as the store publishes it (same text, same mark in every report)
    prog["value_shown"] = [c.text(ctx.threshold, lambda v, u=u: F.fmt_value(v, u)) if c is not None and c.hidden
                           else t for c, t, u in zip(prog["cell"], prog["value_shown"], units)]
    if "target_year" in prog.columns and "target_value_shown" in prog.columns:
        prog["target_value_shown"] = [
            f"{t} ({int(y)})" if not F.is_missing(y) and int(y) != year and t != F.MISSING else t
            for t, y in zip(prog["target_value_shown"], prog["target_year"].astype(object))]
    prog["label"] = [_short(t, 90) for t in prog["label"].astype(str)]
    if "target_source" in inds.columns:
        src = prog["indicator_code"].map(inds["target_source"].astype("string"))
        targets = prog["target_value"] if "target_value" in prog else pd.Series(float("nan"), index=prog.index)
        prog["target_origin"] = [
            F.MISSING if F.is_missing(t)
            else ("proposition à valider" if "proposition" in str(s_).lower() else "feuille de route")
            for s_, t in zip(src, targets)]
    cols = ["action_code", "label", "period"] + [c + "_shown" for c in ("value", "baseline_value",
                                                                       "target_value", "expected_value")
                                                 if c in prog.columns]
    cols += [c for c in ("on_track", "target_origin") if c in prog.columns]
    labels = {}
    n_ok = int(prog["on_track"].fillna(False).astype(bool).sum()) if "on_track" in prog else 0
    n_known = int(prog["on_track"].notna().sum()) if "on_track" in prog else 0
    if n_known:
        target_text = (f"{F.fmt_int(n_ok)} sur {F.fmt_int(n_known)} avec une cible "
                       f"{'sont' if n_ok > 1 else 'est'} sur la trajectoire attendue au {F.fmt_date(ctx.as_of)}.")
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
    if "target_origin" in prog and (prog["target_origin"] == "proposition à valider").any():
        blocks.append(note("Les cibles « proposition à valider » ne figurent pas dans la feuille de route : "
                           "proposées par fne-eval, elles sont à valider en COPIL. Référence : valeur de "
                           "départ (catalogue) ou première valeur observée."))
    return blocks


# --------------------------------------------------------------------------- impact: estimate
def impact(ctx) -> Section:
    """Return the impact estimate (difference in differences) with its caveat."""
    blocks = []
    _part(blocks, _impact_estimate, ctx)
    return Section(blocks, "impact")


def _impact_estimate(ctx):
    did_estimate = impact_eval.did_estimate
    acts = ctx.bundle["actions"]
    start_row = acts[acts["action_code"].astype(str) == "1.2"]
    if start_row.empty:
        return no_data("l'action 1.2 (animation du réseau), dont le début sert de date de référence, "
                       "n'est pas dans la feuille de route du bundle.")
    start = start_row["start_date"].iloc[0]
    res = _once(ctx, "impact", lambda: did_estimate(ctx.bundle, start_date=start))
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
    if ctx.level != "departement":
        blocks.append(note("L'estimation porte sur l'ensemble du département : un territoire compte trop "
                           "peu de communes exposées pour une estimation locale."))
    return blocks


# --------------------------------------------------------------------------- quality
def qualite(ctx) -> Section:
    """Return the data-quality findings that concern the territory."""
    blocks = []
    _part(blocks, _quality, ctx)
    return Section(blocks, "qualite")


#: Findings about the territory listed one by one at most (the summary counts them all).
MAX_FINDINGS_SHOWN = 20
#: Findings of one rule listed at most.
FINDINGS_PER_RULE_SHOWN = 3

#: Order of the severities, most serious first.
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _quality_frame(ctx) -> pd.DataFrame:
    """Return the bundle's findings (:func:`fne_eval.evaluate.quality.quality_findings`), computed once."""
    return _once(ctx, "quality", lambda: quality.quality_findings(ctx.bundle))


def quality_summary(findings: pd.DataFrame, mine: Optional[pd.Series] = None, n_examples: int = 1,
                    example_chars: int = 110) -> pd.DataFrame:
    """Summarise data-quality findings per rule and severity, with an example message.

    Parameters
    ----------
    findings : DataFrame
        Rows of :func:`fne_eval.evaluate.quality.quality_findings` (``rule, severity, table, key,
        message``).
    mine : Series of bool, optional
        Which findings concern the report's territory; gives an ``n_territory`` column.
    n_examples : int
        Example messages per rule (the territory's first when ``mine`` is given).
    example_chars : int
        Length at which an example is cut.

    Returns
    -------
    DataFrame
        ``rule, description, severity, n_findings, [n_territory,] example``, most severe
        first, then by decreasing count.
    """
    summarize_findings = quality.summarize_findings
    if findings.empty:
        cols = ["rule", "description", "severity", "n_findings"] + (["n_territory"] if mine is not None else [])
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols + ["example"]})
    summ = summarize_findings(findings).copy()
    f = findings.reset_index(drop=True)
    flag = (pd.Series(mine).reset_index(drop=True).fillna(False).astype(bool)
            if mine is not None else pd.Series(False, index=f.index))
    examples, counts = [], []
    for r in summ.itertuples():
        rows = f[(f["rule"] == r.rule).to_numpy() & (f["severity"] == r.severity).to_numpy()]
        own = flag[rows.index]
        ordered = pd.concat([rows[own.to_numpy()], rows[~own.to_numpy()]])
        msgs = [_short(str(m), example_chars) for m in ordered["message"].head(n_examples)]
        examples.append(" ; ".join(msgs))
        counts.append(int(own.sum()))
    summ["example"] = examples
    if mine is not None:
        summ["n_territory"] = counts
    summ["_o"] = summ["severity"].map(_SEVERITY_ORDER).fillna(9)
    summ = summ.sort_values(["_o", "n_findings", "rule"], ascending=[True, False, True], kind="stable")
    summ["description"] = summ["description"].astype("string").fillna(summ["rule"].astype("string"))
    return summ.drop(columns="_o").reset_index(drop=True)


def _quality(ctx):
    qf = _quality_frame(ctx).reset_index(drop=True)
    if qf.empty:
        return para("Aucun constat de qualité des données sur le bundle de ce rapport.")
    codes = set(_codes(ctx)) | {ctx.territory_code}
    where = (qf["territory_code"].astype("string") if "territory_code" in qf
             else pd.Series(pd.NA, index=qf.index, dtype="string"))
    mine = where.isin(codes).fillna(False).astype(bool)
    counts = qf["severity"].value_counts()
    summary = ", ".join(f"{F.fmt_int(counts.get(s_, 0))} {code_label('severity', s_).lower()}"
                        f"{'s' if counts.get(s_, 0) > 1 else ''}"
                        for s_ in ("error", "warning", "info") if counts.get(s_, 0))
    n_mine = int(mine.sum())
    blocks = [para(f"Le bundle de données compte {F.fmt_int(len(qf))} constat{'s' if len(qf) > 1 else ''} "
                   f"de qualité ({summary}), dont {F.fmt_int(n_mine)} sur des lignes rattachées au "
                   f"territoire ({ctx.territory_name}). Les constats signalent des données à vérifier ; ils "
                   "n'empêchent pas le calcul des chiffres du rapport.")]
    summ = quality_summary(qf, mine)
    blocks.append(html_table(summ, columns=["description", "severity", "n_findings", "n_territory", "example"],
                             widths={"description": 30, "severity": 14, "n_findings": 9, "n_territory": 9,
                                     "example": 38},
                             labels={"description": "Règle", "n_territory": "Dont ce territoire",
                                     "example": "Exemple"},
                             formats={"n_findings": "int", "n_territory": "int"},
                             caption="Constats par règle (tout le bundle)"))
    detail = qf[mine.to_numpy()]
    if detail.empty:
        blocks.append(para(f"Aucun constat ne porte sur une ligne rattachée au territoire ({ctx.territory_name})."))
    else:
        detail = detail.assign(_o=detail["severity"].map(_SEVERITY_ORDER)).sort_values(
            ["_o", "rule", "table", "key"], kind="stable")
        # a few per rule, so that one abundant rule (stale lieux) does not fill the list
        shown = detail.groupby(["rule", "severity"], sort=False).head(FINDINGS_PER_RULE_SHOWN)
        shown = shown.head(MAX_FINDINGS_SHOWN)
        from fne_eval.report.labels import key_label

        blocks.append(html_table(shown, columns=["severity", "table", "key", "message"],
                                 formats={"key": key_label}, labels={"key": "Ligne concernée"},
                                 widths={"severity": 14, "table": 16, "key": 20, "message": 50},
                                 caption=f"Exemples de constats sur le territoire, {F.fmt_int(len(shown))} sur "
                                         f"{F.fmt_int(len(detail))} (au plus {FINDINGS_PER_RULE_SHOWN} par règle, "
                                         "erreurs d'abord)"))
        rest = len(detail) - len(shown)
        if rest > 0:
            blocks.append(para(f"… et {F.fmt_int(rest)} autre{'s' if rest > 1 else ''} constat"
                               f"{'s' if rest > 1 else ''} sur ce territoire."))
    blocks.append(note("La liste complète des constats, ligne par ligne, s'obtient avec la commande "
                       "« fne-eval quality » sur le même bundle (option --json pour un tableur)."))
    return blocks


# --------------------------------------------------------------------------- sources
_NOT_CITED = re.compile(r"^\s*(?:source\s+)?non\s+cit[ée]e?s?\b(?:\s+dans\s+la\s+feuille\s+de\s+route)?"
                        r"\s*(?:\((?P<detail>.*)\))?\s*[.;]?\s*$", re.I | re.S)


def group_sources(items: Iterable[str]) -> List[str]:
    """Return the cited sources once each, the "non citée" ones grouped on one line.

    The roadmap's figures cite their source as free text: the same source comes back with
    other spacing or case, and the figures without a named source say "Non citée (…)" in
    many variants. Each distinct source is kept once (first spelling, sorted); the
    "non citée" ones become one line listing their details.
    """
    seen, named, details, n_uncited = set(), [], [], 0
    for raw in items:
        text = " ".join(str(raw).split())
        if not text:
            continue
        m = _NOT_CITED.match(text)
        if m:
            n_uncited += 1
            d = (m.group("detail") or "").strip()
            if d and d.lower() not in {x.lower() for x in details}:
                details.append(d)
            continue
        key = text.lower().rstrip(" .")
        if key not in seen:
            seen.add(key)
            named.append(text)
    import unicodedata

    def _key(t: str) -> str:
        return unicodedata.normalize("NFKD", t.lower()).encode("ascii", "ignore").decode()

    out = sorted(named, key=_key)
    if n_uncited:
        out.append("Source non citée par la feuille de route" + (
            " (" + " ; ".join(sorted(details, key=_key)) + ")" if details else ""))
    return out


def sources(ctx) -> Section:
    """Return the sources of the report: bundle metadata and the sources cited by the roadmap."""
    meta = getattr(ctx.bundle, "meta", {}) or {}
    items = [str(s) for s in (meta.get("sources") or [])]
    blocks = []
    if items:
        blocks.append(bullets(items))
    else:
        blocks.append(no_data("le bundle ne liste pas ses sources."))
    cf = ctx.bundle["context_figures"]
    cited = group_sources(cf["source"].dropna().astype(str))
    if cited:
        blocks.append(para("Sources citées par la feuille de route pour l'état des lieux :"))
        blocks.append(bullets(cited))
    if getattr(ctx, "log", None):
        from fne_eval.report.labels import log_label

        lines = list(dict.fromkeys(log_label(m) for m in ctx.log))
        blocks.append(para("Journal de calcul (lignes écartées ou incomplètes signalées par les "
                           "fonctions d'évaluation pendant la production de ce rapport) :"))
        blocks.append(bullets(lines[:40]))
    blocks.append(para(f"Bundle : « {meta.get('name', 'sans nom')} », empreinte "
                       f"{str(getattr(ctx.bundle, 'hash', ''))[:12]}"
                       + (f", données arrêtées au {F.fmt_date(meta['data_as_of'])}" if meta.get('data_as_of') else "")
                       + "."))
    if ctx.is_synthetic:
        blocks.append(note("Les données de suivi (accompagnements, budget exécuté, avancement, "
                           "formations, événements) de ce bundle sont synthétiques."))
    return Section(blocks, "sources")


# --------------------------------------------------------------------------- budget
def _budget_tables(ctx, scope: str = "all"):
    """Return (budget_lines, transactions, actions); ``scope`` 'actions' keeps the action lines.

    The roadmap's budget is the planned amount of its actions (annexe 6); a line without an
    action (the training fund, which has no planned amount) is shown apart so that it does
    not inflate the execution rates of the actions.
    """
    if scope not in ("all", "actions", "other"):
        raise ValueError(f"unknown budget scope {scope!r}, expected 'all', 'actions' or 'other'")
    b = ctx.bundle
    lines = b["budget_lines"]
    if scope != "all":
        has_action = lines["action_code"].notna().to_numpy(dtype=bool)
        lines = lines[has_action if scope == "actions" else ~has_action]
    ids = set(lines["budget_line_id"].astype(str))
    tx = b["budget_transactions"]
    tx = tx[tx["budget_line_id"].astype(str).isin(ids).to_numpy(dtype=bool)]
    return lines, tx, b["actions"]


def _other_lines_note(ctx) -> Optional[HtmlFragment]:
    """Return a sentence on the budget lines without an action (training fund), if any."""
    budget_execution = budget.budget_execution
    lines, tx, acts = _budget_tables(ctx, "other")
    if lines.empty:
        return None
    ex = budget_execution(lines, tx, acts, by="budget_line_id", as_of=ctx.as_of)
    labels = dict(zip(lines["budget_line_id"].astype(str), lines["line_label"].astype(str)))
    items = [f"{labels.get(str(r.budget_line_id), r.budget_line_id)} : prévu "
             f"{F.fmt_eur(r.planned_eur) if r.planned_eur is not None else 'non chiffré'}, engagé "
             f"{F.fmt_eur(r.committed_eur)}, payé {F.fmt_eur(r.paid_eur)}" for r in ex.itertuples()]
    return note("Hors budget des actions (non compté dans les totaux ci-dessus) — " + " ; ".join(items) + ".")


def _territory_budget_note(ctx) -> Optional[HtmlFragment]:
    if ctx.level == "departement":
        return None
    return note(f"Le budget de la feuille de route n'est pas territorialisé : les montants sont ceux "
                f"de l'ensemble du département, pas de {ctx.territory_name}.")


def budget_synthese(ctx) -> Section:
    """Return the budget totals: planned, committed, paid and their rates."""
    blocks = [_territory_budget_note(ctx)]
    _part(blocks, _budget_totals, ctx)
    return Section(blocks, "budget_synthese")


def _budget_totals(ctx):
    budget_execution = budget.budget_execution
    ex = budget_execution(*_budget_tables(ctx, "actions"), by="action_code", as_of=ctx.as_of, totals=True)
    tot = ex[ex["is_total"]]
    if tot.empty or len(ex) <= 1:
        return no_data("aucune ligne budgétaire rattachée à une action.")
    r = tot.iloc[0]
    text = (f"Budget des {F.fmt_int(len(ex) - 1)} actions de la feuille de route au {F.fmt_date(ctx.as_of)} : "
            f"sur {F.fmt_eur(r['planned_eur'])} prévus, "
            f"{F.fmt_eur(r['committed_eur'])} sont engagés ({F.fmt_pct(r['commitment_rate_pct'])}) "
            f"et {F.fmt_eur(r['paid_eur'])} payés ({F.fmt_pct(r['payment_rate_pct'])} du prévu, "
            f"{F.fmt_pct(r['paid_of_committed_pct'])} de l'engagé).")
    return [para(text), _other_lines_note(ctx)]


def budget_par(ctx, by: str = "action_code") -> Section:
    """Return planned / committed / paid amounts per action, axis, recipient or funder.

    Parameters
    ----------
    by : {'action_code', 'axis_code', 'recipient', 'funder'}
    """
    if by not in ("action_code", "axis_code", "recipient", "funder"):
        raise ValueError(f"unknown budget breakdown {by!r}, expected 'action_code', 'axis_code', "
                         "'recipient' or 'funder'")
    blocks = [_territory_budget_note(ctx)]
    _part(blocks, _budget_by, ctx, by)
    return Section(blocks, f"budget_{by}")


def _budget_by(ctx, by):
    from fne_eval.report.charts import grouped_bars

    budget_execution = budget.budget_execution
    ex = budget_execution(*_budget_tables(ctx, "actions"), by=by, as_of=ctx.as_of, totals=True)
    if ex.empty:
        return no_data("aucune ligne budgétaire.")
    ex = ex.copy()
    ex[by] = ex[by].astype("string").fillna("hors action")
    if by == "action_code":
        ex = _with_action_title(ex, ctx)
        ex.loc[ex["is_total"], "action_title"] = ""
        ex.loc[ex["action_code"] == "hors action", "action_title"] = "Fonds de formation et lignes hors action"
    if by == "axis_code":
        titles = dict(zip(ctx.bundle["axes"]["axis_code"].astype(str), ctx.bundle["axes"]["axis_title"].astype(str)))
        ex["axis_title"] = [titles.get(str(c), "") for c in ex["axis_code"]]
    ex.loc[ex["is_total"], by] = "Total"
    cols = [by] + (["action_title"] if by == "action_code" else []) + (["axis_title"] if by == "axis_code" else [])
    cols += ["planned_eur", "committed_eur", "paid_eur", "commitment_rate_pct", "payment_rate_pct"]
    if "action_title" in ex:
        ex["action_title"] = [_short(t, 70) for t in ex["action_title"].astype(str)]
    body = ex[~ex["is_total"]]
    label = body[by].astype(str)
    if by == "axis_code":
        label = "Axe " + label
    if by == "action_code":  # a reader does not know the actions by their number
        label = pd.Series([f"{c} · {_short(t, 38)}" if t else c
                           for c, t in zip(label, body["action_title"].astype(str))], index=body.index)
    chart_df = body.assign(_label=label.to_numpy())
    chart = grouped_bars(chart_df, "_label", ["planned_eur", "committed_eur", "paid_eur"],
                         ["Prévu", "Engagé", "Payé"],
                         title=f"Budget par {CODES['budget_by'][by]} au {F.fmt_date(ctx.as_of)}",
                         value_label="Montant (€)", kind="eur")
    return [chart, html_table(ex, columns=cols,
                              caption=f"Prévu, engagé et payé par {CODES['budget_by'][by]}"),
            # said once under the synthesis and the first breakdown, not under each one
            _other_lines_note(ctx) if by == "action_code" else None]


def budget_rythme(ctx) -> Section:
    """Return the execution of each action against the share of its period elapsed."""
    blocks = [_territory_budget_note(ctx)]
    _part(blocks, _budget_over_time, ctx)
    _part(blocks, _budget_burn, ctx)
    return Section(blocks, "budget_rythme")


def _budget_over_time(ctx):
    """Chart the cumulative committed and paid amounts at each month end, against the plan."""
    from fne_eval.report.charts import line_chart

    budget_execution = budget.budget_execution
    lines, tx, acts = _budget_tables(ctx, "actions")
    if tx.empty:
        return no_data("aucun engagement ni paiement enregistré.")
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
    budget_burn = budget.budget_burn
    bb = budget_burn(*_budget_tables(ctx, "actions"), as_of=ctx.as_of)
    if bb.empty:
        return no_data("aucune action.")
    bb = _with_action_title(bb, ctx)
    late = bb[bb["burn_label"].astype("string") == "en retard"]
    text = (f"Au {F.fmt_date(ctx.as_of)}, {F.fmt_int(len(late))} action"
            f"{'s' if len(late) > 1 else ''} sur {F.fmt_int(len(bb))} "
            f"{'ont' if len(late) > 1 else 'a'} payé nettement moins que la part de leur période écoulée"
            + (f" ({', '.join(late['action_code'].astype(str))})" if len(late) else "") + ".")
    return [para(text),
            html_table(bb.assign(action_title=[_short(t, 60) for t in bb["action_title"].astype(str)],
                                 period=[f"{F.fmt_month(a)} – {F.fmt_month(b)}"
                                         for a, b in zip(bb["start_date"], bb["end_date"])]),
                       columns=["action_code", "action_title", "period", "elapsed_pct", "payment_rate_pct",
                                "burn_label"],
                       labels={"period": "Période de l'action"},
                       formats={"burn_label": "text"},
                       caption="Rythme de paiement au regard du temps écoulé"),
            note("Rythme : « en retard » quand la part payée est inférieure de plus de 20 % à la part "
                 "de la période de l'action déjà écoulée, « en avance » quand elle la dépasse de plus "
                 "de 20 %.")]


def fonds_formation(ctx) -> Section:
    """Return the training fund's departures against the 60-departure minimum."""
    blocks = []
    _part(blocks, _training_fund, ctx)
    return Section(blocks, "fonds_formation")


def _training_fund(ctx):
    training_fund = budget.training_fund
    tf = training_fund(ctx.bundle["budget_lines"], ctx.bundle["trainings"], as_of=ctx.as_of,
                       by=("training_type",))
    tot = tf[tf["is_total"]].iloc[0]
    text = (f"Au {F.fmt_date(ctx.as_of)}, {_count_text(tot['departures'], ctx, 'départs en formation')} "
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
        from fne_eval.report.charts import bar_chart

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


# --------------------------------------------------------------------------- annual review
def synthese(ctx) -> Section:
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


def meteo(ctx) -> Section:
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


def regles_meteo(ctx) -> Section:
    """Return the météo rules in French, as applied by :mod:`fne_eval.evaluate.meteo`."""
    blocks = []

    def _rules():
        rules = meteo_eval.meteo_rules_table()
        return html_table(rules, caption="Règles de calcul de la météo")

    _part(blocks, _rules)
    return Section(blocks, "regles_meteo")


def revue_axe(ctx, axis: str) -> Section:
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
