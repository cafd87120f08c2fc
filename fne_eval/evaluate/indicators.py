"""Compute the results framework: indicator values per territory and period, and progress.

The catalogue (``indicators`` table; default ``data/roadmap/indicators.csv``) says what each
indicator means, its baseline and its targets. How each indicator is *computed* is
defined once, here, in :data:`DEFINITIONS` (one entry per ``indicator_code``).

Estimators
----------
``count``        value = numerator (a sum over the period); no interval.
``per_pop``      value = numerator / population × factor; exact Poisson interval.
``per_exposed``  value = numerator / fragile persons of Annexe 3 × factor; exact Poisson interval.
``proportion``   value = 100 × numerator / denominator; Wilson interval (statsmodels).
``share``        value = 100 × numerator / denominator; no interval (a census, not a sample).

Flows are summed within each period; ``cumulative`` indicators add every earlier period;
``stock`` indicators (lieux) are a snapshot reported in the period of the latest update.
Indicators that are not territorial (tasks, budget, network meetings) exist only at the
``departement`` level.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from fne_eval.bundle.diskcache import shared
from fne_eval.bundle.io import coerce_table, empty_table, tables_of
from scipy.stats import chi2
from statsmodels.stats.proportion import proportion_confint

from fne_eval.bundle.spec import LEVELS, ROADMAP_START, TABLES
from fne_eval.core.paths import ROADMAP_DIR
from fne_eval.core.periods import (PERIODS, assign_periods, parse_period, period_code, period_range,
                              to_timestamp, year_end)
from fne_eval.core.territory import (aggregate, code_membership, population_by_territory, stripped_codes,
                                     territories_at)
from fne_eval.evaluate.budget import budget_execution
from fne_eval.evaluate.schedule import task_status

VALUE_COLUMNS = ["indicator_code", "territory_code", "level", "period", "value", "numerator",
                 "denominator", "ci_lower", "ci_upper", "n_obs", "unit", "period_start",
                 "period_end", "population_year"]

PROGRESS_COLUMNS = ["indicator_code", "territory_code", "level", "period", "value", "baseline_value",
                    "baseline_date", "baseline_origin", "target_year", "target_value", "progress_pct",
                    "expected_value", "on_track", "direction", "as_of", "evaluated_at"]

TARGET_YEARS = (2025, 2026, 2027)
#: Days a lieu may go without update before it counts as stale (MIN uses 12 months).
FRESHNESS_DAYS = 365
ALPHA = 0.05

#: How each indicator of the catalogue is computed (the only place).
DEFINITIONS = {
    "ACC_N": {"source": "activities", "estimator": "count"},
    "ACC_PER_1000": {"source": "activities", "estimator": "per_pop", "factor": 1000},
    "ACC_PER_1000_EXPOSED": {"source": "activities_exposed", "estimator": "per_exposed", "factor": 1000},
    "ACC_EXPOSED_SHARE_PCT": {"source": "activities_exposed_share", "estimator": "proportion"},
    "LIEUX_N": {"source": "lieux", "estimator": "count", "stock": True},
    "LIEUX_PER_10K": {"source": "lieux", "estimator": "per_pop", "factor": 10000, "stock": True, "ci": False},
    "LIEUX_FRESH_PCT": {"source": "lieux_fresh", "estimator": "share", "stock": True},
    "NETWORK_SEMESTRIAL_MEETINGS_N": {"source": "meetings_semestrial", "estimator": "count", "territorial": False},
    "NETWORK_PARTICIPANTS": {"source": "meetings_participants", "estimator": "count", "territorial": False},
    "EVT_PART_1_4": {"source": "events", "action": "1.4", "estimator": "count"},
    "DEVICES_DISTRIBUTED": {"source": "refurbishment", "estimator": "count"},
    "EVT_N_3_1": {"source": "events_n", "action": "3.1", "estimator": "count"},
    "EVT_PART_3_1": {"source": "events", "action": "3.1", "estimator": "count"},
    "EVT_PART_3_2": {"source": "events", "action": "3.2", "estimator": "count"},
    "TRAINING_FUND_DEPARTURES_CUM": {"source": "trainings_fund", "estimator": "count", "cumulative": True},
    "TRAINING_COLLECTIVITE_CUM": {"source": "trainings_collectivite", "estimator": "count", "cumulative": True},
    "TASKS_ON_TIME_PCT": {"source": "tasks", "estimator": "share", "territorial": False},
    "BUDGET_COMMITMENT_RATE_PCT": {"source": "budget_commitment", "estimator": "share", "territorial": False},
    "BUDGET_PAYMENT_RATE_PCT": {"source": "budget_payment", "estimator": "share", "territorial": False},
}


# --------------------------------------------------------------------------- intervals
def poisson_ci(count, alpha: float = ALPHA) -> tuple:
    """Return the exact (Garwood) Poisson interval for an observed ``count``.

    lower = χ²(α/2; 2k)/2 (0 when k = 0), upper = χ²(1−α/2; 2k+2)/2.
    """
    k = float(count)
    if math.isnan(k) or k < 0:
        return float("nan"), float("nan")
    lower = 0.0 if k == 0 else float(chi2.ppf(alpha / 2, 2 * k) / 2)
    upper = float(chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2)
    return lower, upper


def _poisson_ci_array(counts: np.ndarray, use: np.ndarray, alpha: float = ALPHA) -> tuple:
    """Return :func:`poisson_ci` of every count where ``use`` is true (NaN elsewhere), vectorised."""
    k = np.asarray(counts, dtype="float64")
    ok = np.asarray(use, dtype=bool) & ~np.isnan(k) & (k >= 0)
    lo = np.full(len(k), np.nan)
    hi = np.full(len(k), np.nan)
    kk = k[ok]
    with np.errstate(invalid="ignore"):
        lo[ok] = np.where(kk == 0, 0.0, chi2.ppf(alpha / 2, 2 * np.where(kk == 0, 1.0, kk)) / 2)
        hi[ok] = chi2.ppf(1 - alpha / 2, 2 * kk + 2) / 2
    return lo, hi


def wilson_ci(count, nobs, alpha: float = ALPHA) -> tuple:
    """Return the Wilson interval of a proportion, in percent (NaN when ``nobs`` is 0)."""
    count, nobs = float(count), float(nobs)
    if math.isnan(count) or math.isnan(nobs) or nobs <= 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(count, nobs, alpha=alpha, method="wilson")
    return 100 * float(lo), 100 * float(hi)


# --------------------------------------------------------------------------- helpers
def _get(tables: dict, name: str) -> pd.DataFrame:
    df = tables.get(name)
    return empty_table(name) if df is None else df


def monitoring_data_end(tables: dict) -> Optional[pd.Timestamp]:
    dates = []
    for name, col in (("activities", "date"), ("events", "date"), ("network_meetings", "date"),
                      ("refurbishment", "period_start"), ("trainings", "date"),
                      ("budget_transactions", "date"), ("schedule_status", "status_date"),
                      ("lieux", "date_maj")):
        df = tables.get(name)
        if df is not None and len(df) and col in df.columns:
            d = pd.to_datetime(df[col]).max()
            if not pd.isna(d):
                dates.append(d)
    return max(dates) if dates else None


def exposed_codes(exposed_communes: pd.DataFrame) -> list:
    """Return the resolved territory codes of Annexe 3's exposed communes (total row excluded)."""
    if exposed_communes is None or len(exposed_communes) == 0 or "territory_code" not in exposed_communes:
        return []
    df = exposed_communes
    if "is_total_row" in df.columns:
        df = df[~df["is_total_row"].astype("boolean").fillna(False).astype(bool)]
    return sorted({str(c) for c in df["territory_code"].dropna()})


def _universe(tables: dict, level: str, territories: Optional[Sequence[str]]) -> list:
    known = territories_at(tables["territories"], level)
    if territories is None:
        return known
    codes = [str(t).strip() for t in territories]
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValueError(f"territories {unknown} are not of level {level!r} in the territories table")
    return codes


def _aggregate_flow(df: pd.DataFrame, unit_col: Optional[str], value: pd.Series, periods: pd.Series,
                    tables: dict, level: str, codes: list, period_list: list,
                    counts: Optional[pd.Series] = None, cache: Optional[dict] = None) -> pd.DataFrame:
    """Sum ``value`` (and count rows) per territory of ``level`` and period; complete with 0.

    ``counts``, when given, is the number of source records each row of ``df`` stands for
    (rows already reduced by :func:`_reduced_activities`); ``n_obs`` then counts records.
    """
    idx = pd.MultiIndex.from_product([codes, period_list], names=["territory_code", "period"])
    full = pd.DataFrame(index=idx, data={"numerator": 0.0, "n_obs": 0, "period_n_obs": 0}).reset_index()
    if len(df) == 0:
        return full
    work = pd.DataFrame({
        "_v": pd.to_numeric(value, errors="coerce").astype("float64").to_numpy(),
        "_c": (np.ones(len(df)) if counts is None else np.asarray(counts, dtype="float64")),
        "period": periods.astype("string").to_numpy(),
        "unit": (df[unit_col].astype("string").to_numpy() if unit_col is not None
                 else pd.array([pd.NA] * len(df), dtype="string")),
    })
    work = work[work["period"].isin(period_list).fillna(False).to_numpy(dtype=bool)]

    def by_period(w: pd.DataFrame) -> pd.DataFrame:
        g = w.groupby("period")
        return pd.DataFrame({"sum": g["_v"].sum(), "size": g["_c"].sum()}).reset_index()

    if unit_col is None:
        # not territorial: everything belongs to the département(s) asked for
        sums = by_period(work)
        parts = [sums.assign(territory_code=c) for c in codes]
        res = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["territory_code", "period", "sum", "size"])
    else:
        # each commune or arrondissement to its territory of ``level`` (as ``aggregate`` rolls
        # them up: unknown codes and units outside a territory of the level are left out)
        target = stripped_codes(work["unit"]).map(_level_map(tables, level, cache))
        known = work.assign(territory_code=target.astype("string").to_numpy())
        known = known[known["territory_code"].notna().to_numpy()]
        g = known.groupby(["territory_code", "period"], sort=True)
        res = pd.DataFrame({"sum": g["_v"].sum(), "size": g["_c"].sum()}).reset_index()
        if level == "departement":
            # rows without a commune still happened in the département: count them when
            # the table holds a single département

            depts = _territories_at(tables, "departement", cache)
            unknown = work[work["unit"].isna()]
            if len(depts) == 1 and len(unknown):
                extra = by_period(unknown).assign(territory_code=depts[0])
                res = pd.concat([res, extra], ignore_index=True).groupby(
                    ["territory_code", "period"], as_index=False)[["sum", "size"]].sum()
    res = res.astype({"territory_code": "string", "period": "string"})
    out = full.merge(res, on=["territory_code", "period"], how="left", validate="1:1")
    out["numerator"] = out["sum"].fillna(0.0).astype("float64")
    out["n_obs"] = out["size"].fillna(0).astype("int64")
    # rows of the source in each period, whatever their territory: 0 means the period is empty
    out["period_n_obs"] = out["period"].map(work.groupby("period")["_c"].sum()).fillna(0).astype("int64")
    return out[["territory_code", "period", "numerator", "n_obs", "period_n_obs"]]


def _territories_at(tables: dict, level: str, cache: Optional[dict]) -> list:
    """Return :func:`territories_at` of ``level`` (kept in ``cache``: each call hashes the territories)."""
    key = ("territories_at", level)
    if cache is None:
        return territories_at(tables["territories"], level)
    if key not in cache:
        cache[key] = territories_at(tables["territories"], level)
    return cache[key]


def _level_map(tables: dict, level: str, cache: Optional[dict]) -> pd.Series:
    """Return the territory of ``level`` of each commune and arrondissement code (kept in ``cache``)."""
    key = ("level_map", level)
    if cache is not None and key in cache:
        return cache[key]
    m = code_membership(tables["territories"])
    if level == "arrondissement":
        col = m["unit_code"].where(m["unit_level"] == "arrondissement")
    else:
        col = m[{"commune": "commune_code", "epci": "epci_siren", "departement": "departement_code"}[level]]
    col = col.astype("string")
    valid = set(_territories_at(tables, level, cache))
    ok = pd.Series(col.to_numpy(dtype=object, na_value=None)).isin(list(valid)).to_numpy(dtype=bool)
    out = pd.Series(col[ok].to_numpy(dtype=object), index=m["unit_code"][ok].to_numpy(dtype=object))
    if cache is not None:
        cache[key] = out
    return out


def _reduced_activities(tables: dict, period: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Return the activities up to ``as_of`` reduced to one row per commune of residence × period.

    Columns ``beneficiary_commune_code`` (missing kept), ``period``, ``participants`` (sum of
    the known values; NaN when none is known) and ``records`` (number of records). The
    activity indicators read this instead of every record: the millions of national records
    are read once per call of :func:`indicator_values`, and the period of a record depends
    only on its year and month, so it is computed on the reduced rows.
    """
    act = _get(tables, "activities")
    cols = ["beneficiary_commune_code", "period", "participants", "records"]
    if not len(act):
        return pd.DataFrame({"beneficiary_commune_code": pd.Series(dtype="string"),
                             "period": pd.Series(dtype="string"), "participants": pd.Series(dtype="float64"),
                             "records": pd.Series(dtype="float64")})[cols]
    dates = pd.to_datetime(act["date"])
    keep = (dates <= as_of).to_numpy()
    dates = dates[keep]
    unit, uniques = pd.factorize(act["beneficiary_commune_code"][keep], use_na_sentinel=True)
    unit = unit.astype("int64") + 1  # 0 = no commune
    ym = (dates.dt.year.to_numpy().astype("int64") * 12 + dates.dt.month.to_numpy().astype("int64") - 1)
    ym0 = int(ym.min()) if len(ym) else 0
    n_ym = int(ym.max()) - ym0 + 1 if len(ym) else 1
    # the period of each month of the range, then of each record through its month
    m = np.arange(ym0, ym0 + n_ym)
    month_starts = pd.to_datetime(pd.DataFrame({"year": m // 12, "month": m % 12 + 1, "day": 1}))
    per_idx, per_codes = pd.factorize(assign_periods(month_starts, period).to_numpy())
    n_per = len(per_codes)
    key = unit * n_per + per_idx[ym - ym0]
    size = (len(uniques) + 1) * n_per
    part = pd.to_numeric(act["participants"][keep], errors="coerce").astype("float64").to_numpy()
    known = ~np.isnan(part)
    records = np.bincount(key, minlength=size)
    sums = np.bincount(key, weights=np.where(known, part, 0.0), minlength=size)
    n_known = np.bincount(key, weights=known.astype("float64"), minlength=size)
    nz = np.flatnonzero(records)
    u, pi = nz // n_per, nz % n_per
    commune = pd.array(np.asarray(uniques.astype(object)).tolist() + [None], dtype="string")
    # codes: 1..n → uniques[0..n-1]; 0 → missing (last slot of ``commune``)
    commune = commune[np.where(u > 0, u - 1, len(uniques))]
    return pd.DataFrame({
        "beneficiary_commune_code": commune,
        "period": pd.array(np.asarray(per_codes, dtype=object)[pi], dtype="string"),
        "participants": np.where(n_known[nz] > 0, sums[nz], np.nan),
        "records": records[nz].astype("float64"),
    })[cols]


def _population_year(available: list, period: str, forced: Optional[int]) -> Optional[int]:
    if forced is not None:
        return int(forced)
    if not available:
        return None
    year = parse_period(period)[1].year
    before = [y for y in available if y <= year]
    return max(before) if before else min(available)


def _populations(tables: dict, level: str, year: int) -> pd.Series:
    pops = population_by_territory(tables["territories"], tables["populations"], year, levels=[level])
    pops = pops[pops["n_units_missing"] == 0]
    return pops.set_index("territory_code")["population"].astype("float64")


# --------------------------------------------------------------------------- numerators
def _flows(code: str, d: dict, tables: dict, level: str, codes: list, period: str,
           period_list: list, as_of: pd.Timestamp, cache: Optional[dict] = None) -> pd.DataFrame:
    """Return territory_code, period, numerator, denominator (optional), n_obs for one indicator."""
    src = d["source"]
    if cache is None:
        cache = {}
    flow = lambda df, unit, value, date: _aggregate_flow(
        df, unit, value, assign_periods(df[date], period) if len(df) else pd.Series(dtype="string"),
        tables, level, codes, period_list, cache=cache)

    if src in ("activities", "activities_exposed", "activities_exposed_share"):
        if ("activities", period, as_of) not in cache:
            cache[("activities", period, as_of)] = _reduced_activities(tables, period, as_of)
        act = cache[("activities", period, as_of)]
        exposed = set(exposed_codes(tables.get("exposed_communes")))
        rflow = lambda df: _aggregate_flow(df, "beneficiary_commune_code", df["participants"], df["period"],
                                           tables, level, codes, period_list, counts=df["records"], cache=cache)
        if src == "activities":
            return rflow(act)
        in_exp = act["beneficiary_commune_code"].isin(exposed).fillna(False).astype(bool).to_numpy()
        num = rflow(act[in_exp])
        # the period is empty only if it has no activity at all, exposed or not
        counts = act.groupby("period")["records"].sum().astype("int64")
        num["period_n_obs"] = num["period"].map(counts).fillna(0).astype("int64")
        if src == "activities_exposed":
            return num
        known = act["beneficiary_commune_code"].notna().to_numpy()
        den = rflow(act[known])
        num["denominator"] = den["numerator"].to_numpy()
        num["n_obs"] = den["n_obs"].to_numpy()
        return num

    if src in ("lieux", "lieux_fresh"):
        lieux = _get(tables, "lieux")
        dates = pd.to_datetime(lieux["date_maj"]) if len(lieux) else pd.Series(dtype="datetime64[ns]")
        snapshot = dates.max() if len(dates) else pd.NaT
        if pd.isna(snapshot):
            return _aggregate_flow(lieux.iloc[0:0], None, pd.Series(dtype="float64"), pd.Series(dtype="string"),
                                   tables, level, codes, []).iloc[0:0]
        snap_period = period_code(min(snapshot, as_of), period)
        per = pd.Series([snap_period] * len(lieux), index=lieux.index, dtype="string")
        ones = pd.Series(1.0, index=lieux.index)
        total = _aggregate_flow(lieux, "territory_code", ones, per, tables, level, codes, [snap_period], cache=cache)
        if src == "lieux":
            return total
        fresh = (dates >= snapshot - pd.Timedelta(days=FRESHNESS_DAYS)).astype("float64")
        num = _aggregate_flow(lieux, "territory_code", fresh, per, tables, level, codes, [snap_period], cache=cache)
        num["denominator"] = total["numerator"].to_numpy()
        num["n_obs"] = total["n_obs"].to_numpy()
        return num

    if src in ("events", "events_n"):
        ev = _get(tables, "events")
        if len(ev):
            ev = ev[(ev["action_code"] == d["action"]).fillna(False).to_numpy() & (pd.to_datetime(ev["date"]) <= as_of).to_numpy()]
        value = ev["participants"] if src == "events" else pd.Series(1.0, index=ev.index)
        return flow(ev, "venue_commune_code", value, "date")

    if src == "refurbishment":
        rf = _get(tables, "refurbishment")
        rf = rf[pd.to_datetime(rf["period_start"]) <= as_of] if len(rf) else rf
        return flow(rf, "commune_code", rf["devices_distributed"] if len(rf) else pd.Series(dtype="float64"), "period_start")

    if src in ("meetings_semestrial", "meetings_participants"):
        mt = _get(tables, "network_meetings")
        if len(mt):
            mt = mt[(mt["action_code"] == "1.2").fillna(False).to_numpy() & (pd.to_datetime(mt["date"]) <= as_of).to_numpy()]
        if src == "meetings_semestrial":
            mt = mt[(mt["meeting_type"] == "reunion_semestrielle").fillna(False).to_numpy()] if len(mt) else mt
            value = pd.Series(1.0, index=mt.index)
        else:
            cols = ["participants_collectivite", "participants_association", "participants_etat", "participants_autre"]
            value = mt[cols].apply(pd.to_numeric).astype("float64").sum(axis=1) if len(mt) else pd.Series(dtype="float64")
        return flow(mt, None, value, "date")

    if src in ("trainings_fund", "trainings_collectivite"):
        tr = _get(tables, "trainings")
        if len(tr):
            tr = tr[(pd.to_datetime(tr["date"]) <= as_of).to_numpy()]
            if src == "trainings_fund":
                tr = tr[tr["funded_by_training_fund"].astype("boolean").fillna(False).astype(bool).to_numpy()]
            else:
                tr = tr[(tr["structure_type"] == "collectivite").fillna(False).to_numpy()]
        return flow(tr, "commune_code", tr["departures"] if len(tr) else pd.Series(dtype="float64"), "date")

    if src == "tasks":
        rows = []
        tasks, status = _get(tables, "schedule_tasks"), _get(tables, "schedule_status")
        for p in period_list:
            when = min(parse_period(p)[2], as_of)
            ts = task_status(tasks, status, when) if len(tasks) else None
            if ts is None:
                num = den = 0
            else:
                # a task not judged (no chronogramme follow-up at that date) is no observation
                due = ts[(pd.to_datetime(ts["planned_start"]) <= when).to_numpy() & (ts["state"] != "cancelled").to_numpy()
                         & ts["on_time"].notna().to_numpy()]
                num, den = int(due["on_time"].astype(bool).sum()), len(due)
            rows += [{"territory_code": c, "period": p, "numerator": float(num), "denominator": float(den),
                      "n_obs": den} for c in codes]
        return pd.DataFrame(rows, columns=["territory_code", "period", "numerator", "denominator", "n_obs"])

    if src in ("budget_commitment", "budget_payment"):
        rows = []
        lines, tx, acts = _get(tables, "budget_lines"), _get(tables, "budget_transactions"), _get(tables, "actions")
        lines = lines[lines["action_code"].notna().to_numpy()] if len(lines) else lines
        tx = tx[tx["budget_line_id"].isin(set(lines["budget_line_id"])).to_numpy()] if len(tx) else tx
        for p in period_list:
            when = min(parse_period(p)[2], as_of)
            ex = budget_execution(lines, tx, acts, by="action_code", as_of=when, totals=True)
            tot = ex[ex["is_total"]].iloc[0] if len(lines) else None
            planned = float(tot["planned_eur"]) if tot is not None and tot["planned_eur"] is not None else float("nan")
            amount = float(tot["committed_eur" if src == "budget_commitment" else "paid_eur"]) if tot is not None else 0.0
            n = int(len(tx[(pd.to_datetime(tx["date"]) <= when).to_numpy()])) if len(tx) else 0
            rows += [{"territory_code": c, "period": p, "numerator": amount, "denominator": planned,
                      "n_obs": n} for c in codes]
        return pd.DataFrame(rows, columns=["territory_code", "period", "numerator", "denominator", "n_obs"])

    raise ValueError(f"indicator {code}: unknown source {src!r}")


# --------------------------------------------------------------------------- values
@shared
def indicator_values(bundle_or_tables, indicators: pd.DataFrame, level: str, period: str = "year",
                     territories: Optional[Sequence[str]] = None, as_of=None, start=None,
                     population_year: Optional[int] = None) -> pd.DataFrame:
    """Compute every indicator of the catalogue for each territory of a level and each period.

    Parameters
    ----------
    bundle_or_tables : Bundle or dict of str to DataFrame
        Typed tables (see :mod:`fne_eval.bundle.spec`).
    indicators : pandas.DataFrame
        The catalogue (``indicators`` table). Codes without a definition in
        :data:`DEFINITIONS` get rows with a missing value and ``n_obs`` 0 (absence is shown).
    level : {'departement', 'epci', 'commune', 'arrondissement'}
    period : {'year', 'quarter', 'month'}, default 'year'
    territories : sequence of str, optional
        Territory codes of ``level``; every territory of that level when omitted.
    as_of : date-like, optional
        Last date taken into account (periods after it are left out); when omitted, the
        bundle's ``data_as_of`` (``bundle.json``), else the latest date of the monitoring
        tables.
    start : date-like, optional
        First period; the start of the roadmap (November 2023) when omitted.
    population_year : int, optional
        INSEE millésime of the population denominators; otherwise, per period, the
        latest millésime not after the period's year (the earliest if none is).

    Returns
    -------
    pandas.DataFrame
        ``indicator_code, territory_code, level, period, value, numerator, denominator,
        ci_lower, ci_upper, n_obs, unit, period_start, period_end, population_year``.
        Empty periods (no record of the source in the period, whatever the territory)
        give 0 for counts, NaN for rates (and their intervals) and ``n_obs`` 0; in a period
        with records, a territory without any gets a true 0 rate (with its Poisson upper
        bound); a zero denominator gives NaN, never inf. Non-territorial indicators appear only at the
        ``departement`` level; stock indicators (lieux) only in the period of the
        snapshot.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}, expected one of {LEVELS}")
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}, expected one of {PERIODS}")
    tables = tables_of(bundle_or_tables)
    meta_as_of = (getattr(bundle_or_tables, "meta", None) or {}).get("data_as_of")
    if as_of is not None:
        as_of = to_timestamp(as_of)
    elif meta_as_of:
        as_of = to_timestamp(meta_as_of)
    else:
        as_of = monitoring_data_end(tables) or to_timestamp(ROADMAP_START)
    start = to_timestamp(start) if start is not None else to_timestamp(ROADMAP_START)
    period_list = period_range(start, as_of, period)
    codes = _universe(tables, level, territories)
    pops_years = sorted(set(pd.to_numeric(tables["populations"]["year"]).astype(int))) if len(tables.get("populations", [])) else []
    pop_cache: dict = {}
    flow_cache: dict = {}  # the activities reduced once for every activity indicator

    frames = []
    for ind in indicators.to_dict("records"):
        code = str(ind["indicator_code"])
        d = DEFINITIONS.get(code)
        unit = ind.get("unit")
        if d is None:
            idx = pd.MultiIndex.from_product([codes, period_list], names=["territory_code", "period"])
            f = pd.DataFrame(index=idx).reset_index().assign(numerator=np.nan, denominator=np.nan, n_obs=0,
                                                             value=np.nan)
        else:
            if not d.get("territorial", True) and level != "departement":
                continue
            if d.get("cumulative"):
                # flows from the earliest data onwards, summed up to each period
                first = _earliest(tables, d, start)
                all_periods = period_range(min(first, start), as_of, period)
                f = _flows(code, d, tables, level, codes, period, all_periods, as_of, flow_cache)
                f = f.sort_values(["territory_code", "period"])
                f["numerator"] = f.groupby("territory_code")["numerator"].cumsum()
                f["n_obs"] = f.groupby("territory_code")["n_obs"].cumsum()
                f = f[f["period"].isin(period_list)]
            else:
                f = _flows(code, d, tables, level, codes, period, period_list, as_of, flow_cache)
            if "denominator" not in f.columns:
                f["denominator"] = np.nan
            f = _estimate(f, d, tables, level, period, pops_years, population_year, pop_cache)
        f["indicator_code"] = code
        f["level"] = level
        f["unit"] = unit
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    for c in ("ci_lower", "ci_upper", "population_year"):
        if c not in out.columns:
            out[c] = np.nan
    bounds = {p: parse_period(p) for p in out["period"].unique()}
    out["period_start"] = pd.to_datetime([bounds[p][1] for p in out["period"]])
    out["period_end"] = pd.to_datetime([bounds[p][2] for p in out["period"]])
    out = out[VALUE_COLUMNS].copy()
    for c in ("indicator_code", "territory_code", "level", "period", "unit"):
        out[c] = out[c].astype("string")
    for c in ("value", "numerator", "denominator", "ci_lower", "ci_upper"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["n_obs"] = out["n_obs"].fillna(0).astype("int64")
    out["population_year"] = pd.array(out["population_year"].tolist(), dtype="Int64") if len(out) else out["population_year"]
    return out.sort_values(["indicator_code", "territory_code", "period"], kind="stable").reset_index(drop=True)


def _earliest(tables: dict, d: dict, default: pd.Timestamp) -> pd.Timestamp:
    name = {"trainings_fund": "trainings", "trainings_collectivite": "trainings"}.get(d["source"])
    df = tables.get(name) if name else None
    if df is None or not len(df):
        return default
    m = pd.to_datetime(df["date"]).min()
    return default if pd.isna(m) else m


def _estimate(f: pd.DataFrame, d: dict, tables: dict, level: str, period: str, pops_years: list,
              forced_year: Optional[int], cache: dict) -> pd.DataFrame:
    """Add value, ci_lower, ci_upper (and population_year) to a numerator frame."""
    est = d["estimator"]
    f = f.copy()
    f["numerator"] = f["numerator"].astype("float64")
    f["denominator"] = pd.to_numeric(f["denominator"], errors="coerce").astype("float64")
    f["ci_lower"] = np.nan
    f["ci_upper"] = np.nan
    f["population_year"] = np.nan
    if est == "count":
        f["value"] = f["numerator"]
        return f
    if est == "per_pop":
        factor = d["factor"]
        dens, years = [], []
        for code, p in zip(f["territory_code"], f["period"]):
            y = _population_year(pops_years, p, forced_year)
            if y is None:
                dens.append(np.nan), years.append(np.nan)
                continue
            if (level, y) not in cache:
                cache[(level, y)] = _populations(tables, level, y)
            dens.append(cache[(level, y)].get(code, np.nan))
            years.append(y)
        f["denominator"] = np.array(dens, dtype="float64")
        f["population_year"] = years
    elif est == "per_exposed":
        factor = d["factor"]
        f["denominator"] = _exposed_population(tables, level).reindex(f["territory_code"]).to_numpy(dtype="float64")
    else:
        factor = 100.0
    den = f["denominator"].to_numpy(dtype="float64")
    num = f["numerator"].to_numpy(dtype="float64")
    if est in ("per_pop", "per_exposed") and "period_n_obs" in f.columns:
        # an empty period (no record in the source at all) has no rate: NaN, not 0;
        # a territory with no record in a period that has some gets a true 0
        den = np.where(f["period_n_obs"].to_numpy() > 0, den, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(np.nan_to_num(den) > 0, num / den * factor, np.nan)
    f["value"] = value
    if est in ("per_pop", "per_exposed") and d.get("ci", True):
        lo, hi = _poisson_ci_array(num, np.nan_to_num(den) > 0)
        f["ci_lower"] = lo / np.where(den > 0, den, np.nan) * factor
        f["ci_upper"] = hi / np.where(den > 0, den, np.nan) * factor
    elif est == "proportion":
        lo, hi = zip(*[wilson_ci(k, n) for k, n in zip(num, den)]) if len(f) else ((), ())
        f["ci_lower"], f["ci_upper"] = np.array(lo, dtype="float64"), np.array(hi, dtype="float64")
    return f


def _exposed_population(tables: dict, level: str) -> pd.Series:
    """Return the fragile persons of Annexe 3 (printed) summed per territory of ``level``."""
    ex = tables.get("exposed_communes")
    if ex is None or not len(ex) or "territory_code" not in ex.columns:
        return pd.Series(dtype="float64")
    ex = ex[~ex["is_total_row"].astype("boolean").fillna(False).astype(bool).to_numpy()]
    ex = ex[ex["territory_code"].notna().to_numpy()]
    agg = aggregate(ex, tables["territories"], ["printed_fragile_population"], "territory_code", levels=[level])
    return agg.set_index("territory_code")["printed_fragile_population"].astype("float64")


# --------------------------------------------------------------------------- progress
def _target(ind: dict, as_of: pd.Timestamp) -> tuple:
    year = min(max(as_of.year, TARGET_YEARS[0]), TARGET_YEARS[-1])
    for y in TARGET_YEARS:
        if y < year:
            continue
        v = ind.get(f"target_{y}")
        if v is not None and not pd.isna(v):
            return y, float(v)
    return None, float("nan")


def partial_period_ok(code: str) -> bool:
    """Return True when a period still running gives a fair value of the indicator.

    Shares, cumulative counts, stocks and indicators without a definition are judged on
    the period under way; flows (counts and rates per population of a period) only on
    complete periods, since a part of a year would look behind its annual target.
    """
    d = DEFINITIONS.get(code)
    if d is None:
        return True
    return bool(d.get("cumulative") or d.get("stock") or d["estimator"] in ("share", "proportion"))


@shared
def indicator_progress(values: pd.DataFrame, indicators: pd.DataFrame, as_of,
                       catalogue_levels: Sequence[str] = ("departement",)) -> pd.DataFrame:
    """Compare each indicator's latest value with its baseline, target and trajectory.

    Parameters
    ----------
    values : pandas.DataFrame
        The result of :func:`indicator_values`.
    indicators : pandas.DataFrame
        The catalogue, with baselines and targets 2025–2027.
    as_of : date-like
        Evaluation date. The value used is that of the latest period that started on or
        before it, except for flows (see :func:`partial_period_ok`), judged on the latest
        period complete at ``as_of`` (when there is one); ``evaluated_at`` is then the end
        of that period, and the target and trajectory are read at that date.
    catalogue_levels : sequence of str, default ('departement',)
        Levels the catalogue's baselines and targets apply to (they are département
        figures); elsewhere the baseline is the first observed period and there is no target.

    Returns
    -------
    pandas.DataFrame
        One row per indicator × territory: ``value``, ``baseline_value``, ``baseline_date``
        and ``baseline_origin`` ('catalogue' or 'first_observed': the first period with
        ``n_obs > 0``, dated at its end), ``target_year`` (the year of ``as_of`` clipped to
        2025–2027, or the next year with a target), ``target_value``, ``progress_pct`` =
        100 × (value − baseline) / (target − baseline) (NaN when the target does not lie in
        the indicator's direction from the baseline), ``expected_value`` on the straight
        line from (baseline date, baseline) to (31 December of the target year, target) at
        ``as_of``, and ``on_track`` (value at least the expected value, or at most for a
        'lower' indicator).
    """
    as_of = to_timestamp(as_of)
    cat = {str(r["indicator_code"]): r for r in indicators.to_dict("records")}
    rows = []
    v = values[pd.to_datetime(values["period_start"]) <= as_of]
    for (code, terr, level), grp in v.groupby(["indicator_code", "territory_code", "level"], sort=True):
        ind = cat.get(str(code), {})
        grp = grp.sort_values("period_start")
        cur = grp.iloc[-1]
        if not partial_period_ok(str(code)):
            complete = grp[pd.to_datetime(grp["period_end"]) <= as_of]
            if len(complete):
                cur = complete.iloc[-1]
        when = min(as_of, pd.Timestamp(cur["period_end"]))
        direction = ind.get("direction") if isinstance(ind.get("direction"), str) else "higher"
        sign = -1.0 if direction == "lower" else 1.0
        use_cat = level in catalogue_levels
        base_v, base_d, origin = float("nan"), pd.NaT, None
        if use_cat and ind.get("baseline_value") is not None and not pd.isna(ind.get("baseline_value")):
            base_v = float(ind["baseline_value"])
            base_d = to_timestamp(ind["baseline_date"]) if not pd.isna(ind.get("baseline_date")) else pd.NaT
            origin = "catalogue"
        else:
            observed = grp[(grp["n_obs"] > 0) & grp["value"].notna()]
            if len(observed):
                first = observed.iloc[0]
                base_v, base_d, origin = float(first["value"]), pd.Timestamp(first["period_end"]), "first_observed"
        t_year, t_val = _target(ind, when) if use_cat else (None, float("nan"))
        value = float(cur["value"]) if not pd.isna(cur["value"]) else float("nan")
        progress = expected = float("nan")
        on_track = pd.NA
        if not math.isnan(t_val) and not math.isnan(base_v):
            needed = (t_val - base_v) * sign
            if needed > 0 and not math.isnan(value):
                progress = 100 * (value - base_v) * sign / needed
            t_date = year_end(t_year)
            if not pd.isna(base_d) and t_date > base_d:
                share = min(max((when - base_d).days / (t_date - base_d).days, 0.0), 1.0)
                expected = base_v + (t_val - base_v) * share
            elif not pd.isna(base_d):
                expected = t_val
            if not math.isnan(expected) and not math.isnan(value):
                on_track = bool((value - expected) * sign >= -1e-9)
        rows.append({"indicator_code": code, "territory_code": terr, "level": level, "period": cur["period"],
                     "value": value, "baseline_value": base_v, "baseline_date": base_d,
                     "baseline_origin": origin, "target_year": t_year, "target_value": t_val,
                     "progress_pct": progress, "expected_value": expected, "on_track": on_track,
                     "direction": direction, "as_of": as_of, "evaluated_at": when})
    out = pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
    for c in ("indicator_code", "territory_code", "level", "period", "baseline_origin", "direction"):
        out[c] = out[c].astype("string")
    for c in ("value", "baseline_value", "target_value", "progress_pct", "expected_value"):
        out[c] = out[c].astype("float64")
    out["baseline_date"] = pd.to_datetime(out["baseline_date"])
    out["as_of"] = pd.to_datetime(out["as_of"])
    out["evaluated_at"] = pd.to_datetime(out["evaluated_at"])
    out["target_year"] = pd.array(out["target_year"].tolist(), dtype="Int64")
    out["on_track"] = pd.array(out["on_track"].tolist(), dtype="boolean")
    return out


def load_catalogue(path=None) -> pd.DataFrame:
    """Return the indicator catalogue typed as the ``indicators`` table (the packaged one by default)."""
    path = path or (ROADMAP_DIR / "indicators.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return coerce_table(raw, TABLES["indicators"])
