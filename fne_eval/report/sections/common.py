"""Building blocks shared by every report: paragraphs, headings, tables of store figures, the data-quality and sources sections."""
from __future__ import annotations

import html
import re
import unicodedata
from typing import Callable, Iterable, List, Optional

import pandas as pd

from fne_eval.core import territory
from fne_eval.evaluate import budget as budget_eval
from fne_eval.evaluate import indicators, quality
from fne_eval.evaluate import schedule as schedule_eval
from fne_eval.report import format as F
from fne_eval.report import storeview
from fne_eval.store import disclosure
from fne_eval.report.labels import code_label, key_label, log_label
from fne_eval.report.tables import HtmlFragment, Table, html_table
from fne_eval.store.build import ALIASES

__all__ = ["Section", "para", "heading", "bullets", "no_data", "note", "suppress_counts", "para_figures", "PEOPLE_UNITS", "data_quality", "MAX_FINDINGS_SHOWN", "FINDINGS_PER_RULE_SHOWN", "quality_summary", "group_sources", "sources"]


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


def append_part(blocks: list, builder: Callable, *args) -> None:
    """Append the block or blocks returned by ``builder(*args)`` (nothing when it returns None)."""
    out = builder(*args)
    if out is None:
        return
    if isinstance(out, (list, tuple)):
        blocks.extend(out)
    else:
        blocks.append(out)


# --------------------------------------------------------------------------- shared helpers
def once_per_report(ctx, key, compute):
    """Return ``compute()``, computed once per report and kept in ``ctx.extra[key]``."""
    if key not in ctx.extra:
        ctx.extra[key] = compute()
    return ctx.extra[key]


def territory_units(ctx) -> list:
    """Return the local units of the territory (:func:`fne_eval.core.territory.members`)."""
    members = territory.members
    return once_per_report(ctx, ("units", ctx.territory_code),
                 lambda: members(ctx.bundle["territories"], ctx.territory_code))


def member_codes_of(ctx) -> list:
    """Return every code whose rows count for the territory (:func:`fne_eval.core.territory.member_codes`)."""
    member_codes = territory.member_codes
    return once_per_report(ctx, ("codes", ctx.territory_code),
                 lambda: member_codes(ctx.bundle["territories"], ctx.territory_code))


def territory_communes(ctx) -> list:
    """Return the commune codes (13055 for Marseille's arrondissements) of the territory."""
    cm = territory.code_membership(ctx.bundle["territories"])
    units = set(territory_units(ctx))
    return sorted(set(cm.loc[cm["unit_code"].isin(units), "commune_code"].dropna().astype(str)))


def year_bounds(ctx, year: Optional[int] = None) -> tuple:
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


def count_text(n, ctx, noun: str) -> str:
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


def shorten_text(text: str, n: int) -> str:
    """Return ``text`` cut to at most ``n`` characters, at a word boundary, with an ellipsis."""
    if len(text) <= n:
        return text
    cut = text[: n - 1]
    if " " in cut[n // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:'’-") + "…"


def with_action_title(df: pd.DataFrame, ctx) -> pd.DataFrame:
    titles = _action_titles(ctx)
    out = df.copy()
    out["action_title"] = [titles.get(str(c), "") if not F.is_missing(c) else ""
                           for c in out["action_code"].astype(object)]
    return out


def para_figures(text: str, figures_html: dict) -> HtmlFragment:
    """Return a paragraph whose ``{name}`` placeholders are store figures (see :func:`storeview.figure_html`)."""
    body = html.escape(text)
    plain = text
    for name, fig in figures_html.items():
        body = body.replace("{" + name + "}", fig)
        plain = plain.replace("{" + name + "}", re.sub(r"<[^>]+>", "", fig))
    return HtmlFragment(f'<p class="fne-text">{body}</p>', text=html.unescape(plain))


def level_indicator_values(ctx) -> pd.DataFrame:
    """Return the catalogue's yearly values for EVERY territory of the report's level at ``ctx.as_of``.

    The whole level rather than the report's territory alone: the cost is the same (it goes by
    indicator, not by territory), and the result is then one shared result
    (:func:`fne_eval.bundle.diskcache.shared`) for all the reports of that level in a run — the
    annual review asks the same at the département level — which ``fne-eval run`` computes
    while its workers start (:func:`fne_eval.runner.execute.run_plan`).
    """
    return indicators.indicator_values(ctx.bundle, ctx.bundle["indicators"], ctx.level, period="year",
                                       as_of=ctx.as_of)


def indicator_rows_of(ctx, axis: Optional[str], year: int) -> pd.DataFrame:
    """Return :func:`fne_eval.evaluate.indicators.indicator_progress` rows of the territory at the end of ``year``."""
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
    vals = once_per_report(ctx, ("indicator_values", ctx.level), lambda: level_indicator_values(ctx))
    vals = vals[(vals["territory_code"].astype(str) == ctx.territory_code)
                & vals["indicator_code"].isin(inds["indicator_code"])]
    as_of = ctx.as_of if year == ctx.year else pd.Timestamp(year=year, month=12, day=31)
    if vals.empty or pd.to_datetime(vals["period_start"]).min() > as_of:
        return inds.iloc[0:0]
    # a roadmap indicator that is a registry quantity takes the store's figure (one definition)
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


def shown_value_text(value, unit, ctx) -> str:
    if unit in PEOPLE_UNITS and not F.is_missing(value) and 0 < float(value) < ctx.threshold:
        return F.fmt_count(value, suppressed=True, threshold=ctx.threshold)
    return F.fmt_value(value, unit)


# --------------------------------------------------------------------------- quality
def data_quality(ctx) -> Section:
    """Return the data-quality findings that concern the territory."""
    blocks = []
    append_part(blocks, _quality, ctx)
    return Section(blocks, "qualite")


#: Findings about the territory listed one by one at most (the summary counts them all).
MAX_FINDINGS_SHOWN = 20
#: Findings of one rule listed at most.
FINDINGS_PER_RULE_SHOWN = 3

#: Order of the severities, most serious first.
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _quality_frame(ctx) -> pd.DataFrame:
    """Return the bundle's findings (:func:`fne_eval.evaluate.quality.quality_findings`), computed once."""
    return once_per_report(ctx, "quality", lambda: quality.quality_findings(ctx.bundle))


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
        msgs = [shorten_text(str(m), example_chars) for m in ordered["message"].head(n_examples)]
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
    codes = set(member_codes_of(ctx)) | {ctx.territory_code}
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
def budget_tables_of(ctx, scope: str = "all"):
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


#: What the reports say when the bundle holds no budget follow-up (no transaction at all).
NO_BUDGET_FOLLOWUP = ("Aucune donnée de suivi budgétaire dans le bundle (aucun engagement ni paiement importé) : "
                      "les montants engagés et payés ne sont pas connus et le rythme de paiement des actions "
                      "n'est pas jugé.")


def no_budget_followup() -> HtmlFragment:
    """Return the visible absence sentence of :data:`NO_BUDGET_FOLLOWUP` (styled as :func:`no_data`)."""
    return HtmlFragment(no_data("").html.replace(html.escape("Pas de données : "), html.escape(NO_BUDGET_FOLLOWUP)),
                        text=NO_BUDGET_FOLLOWUP)


def budget_followup(ctx) -> bool:
    """Return True when the report's bundle holds budget follow-up data (see :func:`fne_eval.evaluate.budget.has_followup`)."""
    return budget_eval.has_followup(ctx.bundle["budget_transactions"])


#: What the reports say when the bundle holds no chronogramme follow-up (no status report at all).
NO_SCHEDULE_FOLLOWUP = ("Aucun suivi du chronogramme dans le bundle : statut des tâches non renseigné "
                        "(aucun état d'avancement importé) ; les tâches sont présentées avec leurs dates prévues, "
                        "sans verdict de retard.")


def schedule_followup(ctx) -> bool:
    """Return True when the report's bundle holds chronogramme follow-up at ``ctx.as_of``.

    See :func:`fne_eval.evaluate.schedule.has_followup`.
    """
    return schedule_eval.has_followup(ctx.bundle["schedule_status"], ctx.as_of)
