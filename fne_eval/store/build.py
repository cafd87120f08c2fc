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

from fne_eval.bundle.io import participant_rows, split_list, tables_of
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


def _codes(values) -> tuple:
    """Return ``(codes, labels)`` of a column: int64 codes (-1 = missing) and their labels as text."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(dtype=np.int64), np.asarray([str(c) for c in s.cat.categories], dtype=object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray([str(u) for u in uniques], dtype=object)


def _union_codes(*parts) -> tuple:
    """Recode several ``(codes, labels)`` pairs on the union of their labels; return ``(codes, labels)``."""
    labels = pd.Index(np.concatenate([lab for _, lab in parts]).astype(object)).unique()
    out = []
    for codes, lab in parts:
        where = labels.get_indexer(lab) if len(lab) else np.zeros(0, dtype=np.int64)
        out.append(np.where(codes >= 0, where[np.maximum(codes, 0)] if len(lab) else -1, -1))
    return (np.concatenate(out) if out else np.zeros(0, dtype=np.int64)), np.asarray(labels, dtype=object)


def _reduce(keys: list, weights: Optional[np.ndarray] = None) -> tuple:
    """Sum ``weights`` (or count rows) per combination of integer codes, in one vectorised pass.

    ``keys`` is a list of ``(codes, n_labels)`` (codes -1 for missing). Returns the codes of
    each group holding a positive sum (one array per key, -1 for missing) and the sums:
    a group with no record, or only records of weight 0 (an activity without participants),
    does not exist, as with a groupby over one row per participant.
    """
    radix = [int(k) + 1 for _, k in keys]  # slot 0 holds the missing values
    n = len(keys[0][0])
    key = np.zeros(n, dtype=np.int64)
    for (codes, _), r in zip(keys, radix):
        key *= r
        key += codes + 1
    size = int(np.prod(radix, dtype=np.float64))
    if size <= 20_000_000:
        sums = np.bincount(key, weights=weights, minlength=size)
        group = np.flatnonzero(sums > 0)
        sums = sums[group]
    else:  # too many combinations for a dense count: sort instead
        uniq, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv, weights=weights, minlength=len(uniq))
        keep = sums > 0
        group, sums = uniq[keep], sums[keep]
    out = []
    for r in reversed(radix):
        out.append(group % r - 1)
        group = group // r
    return out[::-1], sums.astype(np.float64)


def _labels(codes: np.ndarray, labels: np.ndarray, dtype=object):
    """Return the labels of ``codes`` (missing for -1) as an array of ``dtype``."""
    vals = np.asarray(labels, dtype=object)[np.maximum(codes, 0)] if len(labels) else np.full(len(codes), None)
    vals = np.where(codes >= 0, vals, None)
    return pd.array(vals, dtype="string") if dtype == "string" else vals


def _period_labels(ym: np.ndarray) -> tuple:
    """Return the year and month labels (``"2025"``, ``"2025-03"``) of months counted from 1970-01."""
    years = ym // 12 + 1970
    month = ym % 12 + 1
    return (np.asarray([str(y) for y in years], dtype=object),
            np.asarray([f"{y:04d}-{m:02d}" for y, m in zip(years, month)], dtype=object))


def _activity_records(bundle, as_of: pd.Timestamp) -> Optional[dict]:
    """Return the activity records up to ``as_of`` and their participants as integer codes.

    Records: ``unit`` (beneficiary commune), ``ym`` (months since 1970-01), ``activity_type``
    and ``themes`` codes. Participants: the ``participants`` table's rows of these records
    plus, for records without any, the record's own values weighted by its number of
    participants (the rows :func:`fne_eval.bundle.io.participant_rows` derives, without
    materialising one row per person). Returns ``None`` when no record is dated up to ``as_of``.
    """
    tables = tables_of(bundle)
    acts = tables["activities"]
    date = pd.to_datetime(acts["date"]).to_numpy(dtype="datetime64[ns]")
    sel = date <= np.datetime64(as_of.to_datetime64(), "ns")
    if not sel.any():
        return None
    ym = date[sel].astype("datetime64[M]").astype(np.int64)
    unit = _codes(acts["beneficiary_commune_code"])
    unit = (unit[0][sel], unit[1])
    atype = _codes(acts["activity_type"])
    themes = _codes(acts["themes"])
    rec = {"unit": unit, "ym": ym, "activity_type": (atype[0][sel], atype[1]),
           "themes": (themes[0][sel], themes[1])}
    # participants: the table's rows of the selected records, derived rows for the others
    table = tables.get("participants")
    has_rows = np.zeros(int(sel.sum()), dtype=bool)
    trows = None
    if table is not None and len(table):
        table = participant_rows({"participants": table, "activities": acts.iloc[:0]})
        # only the few records with rows become Python strings (not the millions of a national table)
        in_table = acts["activity_id"].isin(pd.unique(table["activity_id"].dropna())).to_numpy(dtype=bool)
        has_rows = in_table[sel]
        ids = acts["activity_id"][sel & in_table].to_numpy(dtype=object)
        when = pd.Series(ym[has_rows], index=pd.Index(ids))
        trows = table[table["activity_id"].isin(set(ids)).to_numpy(dtype=bool)]
        tym = trows["activity_id"].map(when).to_numpy(dtype=np.int64)
    legacy = ~has_rows
    n = pd.to_numeric(acts["participants"], errors="coerce").to_numpy(dtype=np.float64)[sel][legacy]
    weight = np.clip(np.nan_to_num(n, nan=0.0), 0, None)
    weight = np.floor(weight)  # participant_rows counts whole participants
    dims = {}
    for dim in CATEGORIES:
        if dim in acts.columns:
            c, lab = _codes(acts[dim])
            c = c[sel][legacy]
        else:
            c, lab = np.full(int(legacy.sum()), -1, dtype=np.int64), np.zeros(0, dtype=object)
        lab = np.append(lab, "non_communique").astype(object)
        c = np.where(c >= 0, c, len(lab) - 1)  # an empty value is « non communiqué »
        dims[dim] = [(c, lab)]
    pu = [(unit[0][legacy], unit[1])]
    pym = [ym[legacy]]
    pw = [weight]
    keys = None
    if trows is not None and len(trows):
        random = trows["demographics_random"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        for dim in CATEGORIES:
            # random demographics (La Coop's anonymous workshop participants) are not facts
            dims[dim].append(_codes(np.where(random, "non_communique", trows[dim].astype(str).to_numpy())))
        pu.append(_codes(trows["commune_code"].astype("string")))
        pym.append(tym)
        pw.append(np.ones(len(trows)))
        if "beneficiary_key" in trows and trows["beneficiary_key"].notna().any():
            keys = pd.DataFrame({"unit_code": trows["commune_code"].astype("string").to_numpy(),
                                 "year": (tym // 12 + 1970).astype(str),
                                 "key": trows["beneficiary_key"].astype("string").to_numpy()})
    parts = {"unit": _union_codes(*pu), "ym": np.concatenate(pym), "weight": np.concatenate(pw),
             "dims": {dim: _union_codes(*v) for dim, v in dims.items()}, "keys": keys}
    return {"records": rec, "participants": parts}


def _reduced(unit, ym, weight=None, dim=None, dim_labels=None, by_month=False) -> pd.DataFrame:
    """Return the counts per (unit, year or month[, category]) as a small frame for :func:`emit`."""
    y0 = int(ym.min()) if len(ym) else 0
    rel = ym - y0
    n_m = int(rel.max()) + 1 if len(rel) else 1
    if by_month:
        keys = [(unit[0], len(unit[1])), (rel, n_m)]
    else:
        ys = ym // 12 - y0 // 12
        keys = [(unit[0], len(unit[1])), (ys, int(ys.max()) + 1 if len(ys) else 1)]
    if dim is not None:
        keys.append((dim, len(dim_labels)))
    codes, sums = _reduce(keys, weight)
    frame = pd.DataFrame({"unit_code": _labels(codes[0], unit[1], "string")})
    if by_month:
        m = codes[1] + y0
        uniq, inv = np.unique(m, return_inverse=True)
        ylab, mlab = _period_labels(uniq)
        frame["year"] = ylab[inv]
        frame["month"] = mlab[inv]
    else:
        yy = codes[1] + y0 // 12 + 1970
        uniq, inv = np.unique(yy, return_inverse=True)
        frame["year"] = np.asarray([str(y) for y in uniq], dtype=object)[inv]
    if dim is not None:
        frame["category"] = _labels(codes[2], dim_labels)
    frame["one"] = sums
    return frame


def _activity_figures(bundle, terr: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    data = _activity_records(bundle, as_of)
    if data is None:
        return pd.DataFrame(columns=STORE_COLUMNS)
    depts = _dept_codes(terr)
    out = []

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

    # the records are reduced once per breakdown to (unit × period × category) counts; the
    # territory levels and the labels are built on these few rows, never on the records
    rec = data["records"]
    months = _reduced(rec["unit"], rec["ym"], by_month=True)
    emit(months, "one", "accompaniments", "year", None, LEVELS)
    emit(months, "one", "accompaniments", "month", None, BREAKDOWN_LEVELS)
    at = rec["activity_type"]
    types = _reduced(rec["unit"], rec["ym"], dim=at[0], dim_labels=at[1]).rename(columns={"category": "activity_type"})
    types["activity_type"] = pd.array(types["activity_type"].to_numpy(dtype=object), dtype="string")
    emit(types, "one", "accompaniments", "year", "activity_type", BREAKDOWN_LEVELS)
    par = data["participants"]
    if len(par["ym"]) and (par["weight"] > 0).any():
        pmonths = _reduced(par["unit"], par["ym"], par["weight"], by_month=True)
        emit(pmonths, "one", "participations", "year", None, LEVELS)
        emit(pmonths, "one", "participations", "month", None, BREAKDOWN_LEVELS)
        for dim in CATEGORIES:
            codes, labels = par["dims"][dim]
            frame = _reduced(par["unit"], par["ym"], par["weight"], dim=codes, dim_labels=labels)
            emit(frame.rename(columns={"category": dim}), "one", "participations", "year", dim, BREAKDOWN_LEVELS)
    # themes: an accompaniment counts once in each of its themes (not additive); the lists
    # are split once per distinct value, then spread over the reduced rows
    tc, tl = rec["themes"]
    combos = _reduced(rec["unit"], rec["ym"], dim=tc, dim_labels=tl)
    split = {v: split_list(v) for v in pd.unique(combos["category"].dropna())}
    themes = [split.get(v, []) if isinstance(v, str) else [] for v in combos["category"]]
    reps = np.repeat(np.arange(len(combos)), [len(t) for t in themes])
    tb = combos.iloc[reps].reset_index(drop=True)
    tb["theme"] = [t for ts in themes for t in ts]
    if len(tb):
        emit(tb, "one", "accompaniments", "year", "theme", BREAKDOWN_LEVELS)
    # distinct people: only where La Coop gives a pseudonymous key
    keyed = par["keys"]
    if keyed is not None:
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
