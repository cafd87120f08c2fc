"""Build the indicator store: every published figure of a bundle at a date, in one pass.

:func:`build_store` returns a tidy table, one row per indicator × territory × period ×
breakdown, with the value, its numerator and denominator, its unit, source, vintage,
flags for synthetic and inferred inputs, and its publication status after the pack-wide
disclosure control of :mod:`fne_eval.store.protect`. Indicators are those of
:mod:`fne_eval.store.registry`; the roadmap's own indicators (catalogue ``indicators``) are
added as ``roadmap.<CODE>`` for the département and the EPCI.

Periods are written ``"2025"`` (a calendar year, cut at the as-of date) and
``"2025-03"`` (a month); stocks (population, lieux, IFN) carry the evaluated year.
Breakdowns are written ``"dimension=value"`` (``""`` when none).
"""
from __future__ import annotations

import logging
from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.bundle.io import participant_rows, split_list
from fne_eval.bundle.spec import AGE_BANDS, GENDERS, SOCIAL_STATUSES
from fne_eval.core.periods import to_timestamp
from fne_eval.core.territory import aggregate, code_membership, unit_populations
from fne_eval.evaluate import budget as budget_eval
from fne_eval.evaluate import indicators as roadmap_indicators
from fne_eval.evaluate.offer import ifn_by_unit
from fne_eval.store.protect import protect
from fne_eval.store.registry import INDICATORS

__all__ = ["STORE_COLUMNS", "BREAKDOWN_LEVELS", "ALIASES", "build_store", "population_year_for"]

log = logging.getLogger(__name__)

STORE_COLUMNS = ["indicator", "level", "territory_code", "period", "breakdown", "value", "numerator",
                 "denominator", "ci_lower", "ci_upper", "unit", "status", "source", "vintage",
                 "synthetic", "inferred"]

#: Levels at which activity figures are broken down (age band, month...); totals exist at every level.
BREAKDOWN_LEVELS = ("departement", "epci")
LEVELS = ("arrondissement", "commune", "epci", "departement")

#: Roadmap catalogue indicators that are a registry quantity: shown from the registry's figure.
ALIASES = {"ACC_N": "participations", "ACC_PER_1000": "participations_per_1000"}

#: Closed vocabularies: every category is listed (0 included), so breakdowns add up to the total.
CATEGORIES = {"age_band": AGE_BANDS, "gender": GENDERS, "social_status": SOCIAL_STATUSES}


def population_year_for(populations: pd.DataFrame, year: int) -> int:
    """Return the INSEE millésime used for figures of ``year`` (see ``registry.POPULATION_RULE``)."""
    years = sorted(set(pd.to_numeric(populations["year"]).astype(int)))
    if not years:
        raise ValueError("aucune population dans le référentiel")
    before = [y for y in years if y <= int(year)]
    return before[-1] if before else years[0]


def _dept_codes(terr: pd.DataFrame) -> list:
    return sorted(terr.loc[terr["level"].astype(str) == "departement", "territory_code"].astype(str))


def _rows(frame: pd.DataFrame, indicator_id: str, **const) -> pd.DataFrame:
    out = frame.copy()
    out["indicator"] = indicator_id
    for k, v in const.items():
        out[k] = v
    return out


def _activity_cells(units: pd.DataFrame, value: str, terr: pd.DataFrame, depts: list, by: list,
                    levels) -> pd.DataFrame:
    """Roll unit-level sums up the levels; the département adds the rows without a commune."""
    located = units[units["unit_code"].notna()]
    agg = aggregate(located, terr, [value], "unit_code", levels=levels, by=by, complete=True)
    agg[value] = agg[value].fillna(0.0)
    agg = agg[["level", "territory_code", *by, value]]
    unlocated = units[units["unit_code"].isna()]
    if len(unlocated) and "departement" in levels and len(depts) == 1:
        d = (agg["level"] == "departement").to_numpy()
        dept = agg[d]
        if by:
            dept = dept.dropna(subset=by)
            extra = unlocated.groupby(by, dropna=False)[value].sum().rename("__extra").reset_index()
            # the département also has the periods/categories seen only among records without a commune
            dept = dept.merge(extra, how="outer", on=by, validate="1:1")
        else:
            dept = dept.assign(__extra=float(unlocated[value].sum()))
        dept["level"] = "departement"
        dept["territory_code"] = depts[0]
        dept[value] = dept[value].fillna(0.0) + dept["__extra"].fillna(0.0)
        agg = pd.concat([agg[~d], dept.drop(columns="__extra")], ignore_index=True)
    return agg


def _breakdown(df: pd.DataFrame, dim: Optional[str], col: str = "category") -> pd.Series:
    if dim is None:
        return pd.Series("", index=df.index, dtype=object)
    return (dim + "=" + df[col].astype(str)).astype(object)


def _activity_figures(bundle, terr: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    acts = bundle["activities"]
    acts = acts[pd.to_datetime(acts["date"]) <= as_of]
    depts = _dept_codes(terr)
    out = []
    if acts.empty:
        return pd.DataFrame(columns=STORE_COLUMNS)
    date = pd.to_datetime(acts["date"])
    base = pd.DataFrame({"unit_code": acts["beneficiary_commune_code"].astype("string").to_numpy(),
                         "year": date.dt.year.astype(str).to_numpy(),
                         "month": date.dt.strftime("%Y-%m").to_numpy(),
                         "activity_type": acts["activity_type"].astype("string").to_numpy(),
                         "one": 1.0})
    # participations: one row per participant (La Coop) or derived from the record
    parts = participant_rows(bundle)
    parts = parts[parts["activity_id"].isin(set(acts["activity_id"]))]
    when = dict(zip(acts["activity_id"], date))
    pdate = pd.to_datetime(parts["activity_id"].map(when))
    pbase = pd.DataFrame({"unit_code": parts["commune_code"].astype("string").to_numpy(),
                          "year": pdate.dt.year.astype(str).to_numpy(),
                          "month": pdate.dt.strftime("%Y-%m").to_numpy(), "one": 1.0})
    random = parts["demographics_random"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    for dim in CATEGORIES:
        # random demographics (La Coop's anonymous workshop participants) are not facts
        pbase[dim] = np.where(random, "non_communique", parts[dim].astype(str).to_numpy())

    def emit(frame, value, indicator_id, period_col, dim, levels):
        by = [period_col] + ([dim] if dim else [])
        units = frame.groupby(["unit_code", *by], dropna=False)[value].sum().reset_index()
        cells = _activity_cells(units, value, terr, depts, by, levels)
        if dim in CATEGORIES:  # every category of a closed vocabulary, zeros included
            keys = cells[["level", "territory_code", period_col]].drop_duplicates()
            full = keys.merge(pd.DataFrame({dim: list(CATEGORIES[dim])}), how="cross")
            cells = full.merge(cells, how="left", on=["level", "territory_code", period_col, dim], validate="1:1")
            cells[value] = cells[value].fillna(0.0)
        res = pd.DataFrame({"level": cells["level"].astype(str), "territory_code": cells["territory_code"].astype(str),
                            "period": cells[period_col].astype(str),
                            "breakdown": _breakdown(cells, dim, dim) if dim else "",
                            "value": cells[value].astype("float64")})
        out.append(_rows(res, indicator_id))

    emit(base, "one", "accompaniments", "year", None, LEVELS)
    emit(base, "one", "accompaniments", "month", None, BREAKDOWN_LEVELS)
    emit(base, "one", "accompaniments", "year", "activity_type", BREAKDOWN_LEVELS)
    emit(pbase, "one", "participations", "year", None, LEVELS)
    emit(pbase, "one", "participations", "month", None, BREAKDOWN_LEVELS)
    for dim in CATEGORIES:
        emit(pbase, "one", "participations", "year", dim, BREAKDOWN_LEVELS)
    # themes: an accompaniment counts once in each of its themes (not additive)
    themes = [split_list(v) for v in acts["themes"]]
    reps = np.repeat(np.arange(len(acts)), [len(t) for t in themes])
    tb = base.iloc[reps].reset_index(drop=True)
    tb["theme"] = [t for ts in themes for t in ts]
    if len(tb):
        emit(tb, "one", "accompaniments", "year", "theme", BREAKDOWN_LEVELS)
    # distinct people: only where La Coop gives a pseudonymous key
    if "beneficiary_key" in parts and parts["beneficiary_key"].notna().any():
        keyed = pbase.assign(key=parts["beneficiary_key"].astype("string").to_numpy())
        keyed = keyed[keyed["key"].notna()]
        cm = code_membership(terr).set_index("unit_code")
        rows = []
        for lv, col in (("departement", "departement_code"), ("epci", "epci_siren")):
            tcode = keyed["unit_code"].map(cm[col])
            g = keyed.assign(t=tcode).dropna(subset=["t"]).groupby(["t", "year"])["key"].nunique()
            rows += [{"level": lv, "territory_code": str(t), "period": str(y), "breakdown": "",
                      "value": float(n)} for (t, y), n in g.items()]
        if rows:
            out.append(_rows(pd.DataFrame(rows), "distinct_people"))
    return pd.concat(out, ignore_index=True)


def _population_frame(bundle, terr: pd.DataFrame, year: int) -> pd.DataFrame:
    pops = bundle["populations"]
    pyear = population_year_for(pops, year)
    up = unit_populations(terr, pops, pyear)
    up = up.assign(has=up["population"].notna().astype("int64"), lacks=up["population"].isna().astype("int64"))
    agg = aggregate(up, terr, ["population", "has", "lacks"], "unit_code", levels=LEVELS, complete=True)
    pop = agg["population"].where((agg["has"] > 0) & (agg["lacks"] == 0))
    return pd.DataFrame({"level": agg["level"].astype(str), "territory_code": agg["territory_code"].astype(str),
                         "population": pop.astype("float64"), "population_year": pyear}), up


def _stock_figures(bundle, terr: pd.DataFrame, year: int) -> pd.DataFrame:
    pop, units = _population_frame(bundle, terr, year)
    period = str(year)
    rows = [_rows(pd.DataFrame({"level": pop["level"], "territory_code": pop["territory_code"], "period": period,
                                "breakdown": "", "value": pop["population"],
                                "vintage": "millésime " + pop["population_year"].astype(str)}), "population")]
    lieux = bundle["lieux"]
    lf = pd.DataFrame({"unit_code": lieux["territory_code"].astype("string"), "n": 1.0})
    lagg = aggregate(lf, terr, ["n"], "unit_code", levels=LEVELS, complete=True)
    lagg["n"] = lagg["n"].fillna(0.0)
    l_ = lagg[["level", "territory_code", "n"]].astype({"territory_code": str, "level": str}).merge(
        pop, how="left", on=["level", "territory_code"], validate="1:1")
    last = pd.to_datetime(lieux["date_maj"]).max() if len(lieux) else pd.NaT
    vintage = f"liste des lieux, mise à jour la plus récente {last.date()}" if not pd.isna(last) else ""
    rows.append(_rows(pd.DataFrame({"level": l_["level"], "territory_code": l_["territory_code"], "period": period,
                                    "breakdown": "", "value": l_["n"], "vintage": vintage}), "lieux"))
    rows.append(_rows(pd.DataFrame({"level": l_["level"], "territory_code": l_["territory_code"], "period": period,
                                    "breakdown": "", "numerator": l_["n"], "denominator": l_["population"],
                                    "value": (l_["n"] / l_["population"].where(l_["population"] > 0) * 10_000),
                                    "vintage": "millésime " + l_["population_year"].astype(str)}),
                      "lieux_per_10000"))
    ifn = ifn_by_unit(bundle)
    if len(ifn):
        vint = str(sorted(bundle["ifn"]["vintage"].astype(str).dropna().unique())[-1])
        w = units.merge(ifn, how="left", on="unit_code", validate="1:1")
        iagg = aggregate(w, terr, ["ifn_total"], "unit_code", levels=LEVELS, how="weighted_mean",
                         weight_col="population")
        # a commune or EPCI with its own published value keeps it (La MedNum's file)
        published = dict(zip(bundle["ifn"]["territory_code"].astype(str),
                             pd.to_numeric(bundle["ifn"]["ifn_total"], errors="coerce")))
        vals = [published.get(c, v) if lv == "epci" and not pd.isna(published.get(c, np.nan)) else v
                for lv, c, v in zip(iagg["level"].astype(str), iagg["territory_code"].astype(str), iagg["ifn_total"])]
        rows.append(_rows(pd.DataFrame({"level": iagg["level"].astype(str),
                                        "territory_code": iagg["territory_code"].astype(str), "period": period,
                                        "breakdown": "", "value": pd.Series(vals, dtype="float64"),
                                        "vintage": f"IFN {vint}"}), "ifn"))
    return pd.concat(rows, ignore_index=True), pop


def _budget_figures(bundle, as_of: pd.Timestamp, depts: list) -> pd.DataFrame:
    lines, tx, acts = bundle["budget_lines"], bundle["budget_transactions"], bundle["actions"]
    if lines.empty or len(depts) != 1:
        return pd.DataFrame(columns=STORE_COLUMNS)
    # the FNE budget is the roadmap's action lines (annexe 6); other lines (funds, co-financing) are not in it
    lines = lines[lines["action_code"].notna().to_numpy()]
    if len(tx):
        tx = tx[tx["budget_line_id"].isin(set(lines["budget_line_id"])).to_numpy()]
    rows = []
    for by in ("action_code", "axis_code"):
        ex = budget_eval.budget_execution(lines, tx, acts, by=by, as_of=as_of, totals=True)
        for _, r in ex.iterrows():
            bd = "" if bool(r["is_total"]) else f"{'action' if by == 'action_code' else 'axis'}={r[by]}"
            if by == "axis_code" and bd == "":
                continue  # the total is the same as the action table's
            for ind, col in (("budget_planned_eur", "planned_eur"), ("budget_committed_eur", "committed_eur"),
                             ("budget_paid_eur", "paid_eur")):
                v = r.get(col)
                rows.append({"indicator": ind, "level": "departement", "territory_code": depts[0],
                             "period": str(as_of.year), "breakdown": bd,
                             "value": float(v) if v is not None and not pd.isna(v) else np.nan})
    return pd.DataFrame(rows)


def _roadmap_figures(bundle, as_of: pd.Timestamp) -> pd.DataFrame:
    cat = bundle["indicators"]
    if cat.empty:
        return pd.DataFrame(columns=STORE_COLUMNS)
    own = cat[~cat["indicator_code"].astype(str).isin(ALIASES)]
    rows = []
    for level in BREAKDOWN_LEVELS:
        vals = roadmap_indicators.indicator_values(bundle, own, level, period="year", as_of=as_of)
        if vals.empty:
            continue
        units = dict(zip(cat["indicator_code"].astype(str), cat["unit"].astype(str)))
        rows.append(pd.DataFrame({
            "indicator": "roadmap." + vals["indicator_code"].astype(str),
            "level": level, "territory_code": vals["territory_code"].astype(str),
            "period": vals["period"].astype(str), "breakdown": "",
            "value": pd.to_numeric(vals["value"], errors="coerce").astype("float64"),
            "numerator": pd.to_numeric(vals.get("numerator"), errors="coerce"),
            "denominator": pd.to_numeric(vals.get("denominator"), errors="coerce"),
            "ci_lower": pd.to_numeric(vals.get("ci_lower"), errors="coerce"),
            "ci_upper": pd.to_numeric(vals.get("ci_upper"), errors="coerce"),
            "unit": vals["indicator_code"].astype(str).map(units),
            "source": "catalogue des indicateurs de la feuille de route"}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=STORE_COLUMNS)


def build_store(bundle, as_of, threshold: int = 5) -> pd.DataFrame:
    """Compute every published figure of ``bundle`` at ``as_of``, with its publication status.

    Parameters
    ----------
    bundle : fne_eval.bundle.Bundle
        A loaded bundle (or dict of typed tables).
    as_of : date-like
        Figures use the data dated up to this day; the years run up to ``as_of.year``
        (the last one cut at ``as_of``).
    threshold : int, default 5
        Disclosure threshold (:func:`fne_eval.store.protect.protect`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STORE_COLUMNS`, one row per indicator × territory × period × breakdown.
    """
    as_of = to_timestamp(as_of)
    terr = bundle["territories"]
    depts = _dept_codes(terr)
    meta = getattr(bundle, "meta", {}) or {}
    synthetic_tables = set(meta.get("synthetic_tables") or [])
    acts = _activity_figures(bundle, terr, as_of)
    stocks, pop = _stock_figures(bundle, terr, as_of.year)
    # rates per 1 000 inhabitants: year totals over the population of their year's millésime
    tot = acts[(acts["indicator"] == "participations") & (acts["breakdown"] == "")
               & (acts["period"].str.len() == 4)]
    pops_by_year = {}
    for y in sorted(set(tot["period"])):
        pops_by_year[y] = _population_frame(bundle, terr, int(y))[0] if int(y) != as_of.year else pop
    rate_rows = []
    for y, g in tot.groupby("period"):
        m = g.merge(pops_by_year[y], how="left", on=["level", "territory_code"], validate="1:1")
        rate_rows.append(_rows(pd.DataFrame({
            "level": m["level"], "territory_code": m["territory_code"], "period": y, "breakdown": "",
            "numerator": m["value"], "denominator": m["population"],
            "value": m["value"] / m["population"].where(m["population"] > 0) * 1_000,
            "vintage": "millésime " + m["population_year"].astype(str)}), "participations_per_1000"))
    parts = [acts, stocks, *rate_rows, _budget_figures(bundle, as_of, depts), _roadmap_figures(bundle, as_of)]
    store = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for col in STORE_COLUMNS:
        if col not in store.columns:
            store[col] = np.nan
    reg = INDICATORS
    store["unit"] = store["unit"].where(store["unit"].notna(),
                                        store["indicator"].map({k: v.unit for k, v in reg.items()}))
    store["source"] = store["source"].where(store["source"].notna(),
                                            store["indicator"].map({k: v.source for k, v in reg.items()}))
    store["vintage"] = store["vintage"].where(store["vintage"].notna(),
                                              store["indicator"].map({k: v.vintage for k, v in reg.items()}))
    activity_like = store["indicator"].isin(["accompaniments", "participations", "distinct_people",
                                             "participations_per_1000"])
    store["synthetic"] = (activity_like & bool({"activities"} & synthetic_tables)) | (
        store["indicator"].str.startswith(("budget_committed", "budget_paid"))
        & bool({"budget_transactions"} & synthetic_tables)) | (
        store["indicator"].str.startswith("roadmap.") & bool(synthetic_tables))
    store["inferred"] = False
    store["status"] = "shown"
    store.loc[store["value"].isna(), "status"] = "not_applicable"
    store = protect(store, terr, threshold)
    for c in ("value", "numerator", "denominator", "ci_lower", "ci_upper"):
        store[c] = pd.to_numeric(store[c], errors="coerce").astype("float64")
    for c in ("indicator", "level", "territory_code", "period", "breakdown", "unit", "status", "source", "vintage"):
        store[c] = store[c].astype("str")  # the dtype Parquet gives back: a cached store equals a built one
    store["breakdown"] = store["breakdown"].fillna("")
    store["synthetic"] = store["synthetic"].astype(bool)
    store["inferred"] = store["inferred"].astype(bool)
    store = store[STORE_COLUMNS].sort_values(["indicator", "level", "territory_code", "period", "breakdown"])
    return store.reset_index(drop=True)
