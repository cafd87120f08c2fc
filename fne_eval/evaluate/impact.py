"""Impact: trends on a constant perimeter, and difference in differences around an action.

Two questions a COPIL asks:

* *Is activity growing?* :func:`trend` compares each period with the same period a year
  earlier **on the same perimeter**: only the local units (communes, arrondissements of
  residence of the beneficiaries) with activity in both periods are compared, so that a
  rise due to new places starting to report is not read as growth. The number of units
  left out is given. The last period, if the data stop before its end, is compared with
  the same dates a year earlier (``is_partial``).
* *Did the roadmap make a difference where it aimed?* :func:`did_estimate` compares the
  exposed communes (Annexe 3) with the other communes before and after an action's start
  (difference in differences, unit and period fixed effects, errors clustered by unit).
  The result always comes with a caveat in plain French: the exposed communes were not
  drawn at random, the reading is causal only if trends would have stayed parallel, and on
  the embedded bundle the data are synthetic, so the "effect" is the generator's assumption.
"""
from __future__ import annotations

import logging
import warnings
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from fne_eval.bundle.diskcache import shared
from fne_eval.core.periods import PERIODS, assign_periods, parse_period, period_end, period_start
from fne_eval.core.territory import stripped_codes, aggregate, code_membership, unit_membership, unit_populations
from fne_eval.evaluate.offer import table_or_empty as t

log = logging.getLogger(__name__)

LEVELS = ("arrondissement", "commune", "epci", "departement")
OUTCOMES = ("accompaniments_per_1000", "participants", "n_activities")
CLUSTERS = ("unit", "none")
#: Fewer clusters than this: cluster-robust errors are unreliable, HC1 is used instead.
MIN_CLUSTERS = 20
#: Fewer exposed units than this: the estimate is flagged as fragile.
MIN_TREATED = 10
#: Fewer pre-treatment periods than this: the pre-period is flagged as short.
MIN_PRE_PERIODS = 4
TREND_COLUMNS = ["level", "territory_code", "period", "previous_period", "is_partial", "participants",
                 "participants_same_perimeter", "previous_same_perimeter", "change_pct", "n_units",
                 "n_units_common", "n_units_dropped"]
DID_COLUMNS = ["estimate", "ci_lower", "ci_upper", "p_value", "n_obs", "n_units", "n_treated", "method",
               "caveat", "outcome", "n_pre_periods", "n_post_periods", "pre_trend_p_value"]


def table_or_empty(bundle, name):
    return t(bundle, name)


def _shift_year(codes: pd.Series, years: int) -> pd.Series:
    """Return period codes moved by ``years`` years ("2025-T1" → "2024-T1")."""
    c = codes.astype("string")
    return ((c.str.slice(0, 4).astype("Int64") + years).astype("string") + c.str.slice(4)).astype("string")


# --------------------------------------------------------------------------- trend
def trend(activities: pd.DataFrame, territories: pd.DataFrame, level: Union[str, Iterable[str]] = LEVELS,
          freq: str = "year", unit_col: str = "beneficiary_commune_code", start=None, end=None) -> pd.DataFrame:
    """Return accompaniments per period with the year-on-year change on a constant perimeter.

    Parameters
    ----------
    activities : pandas.DataFrame
        The ``activities`` table (``date``, ``participants``, ``unit_col``).
    territories : pandas.DataFrame
        The ``territories`` table.
    level : str or iterable of {'arrondissement', 'commune', 'epci', 'departement'}
    freq : {'year', 'quarter', 'month'}, default 'year'
        Each period is compared with the same period one year earlier (the same quarter or
        month for sub-annual periods, which neutralises seasonality).
    unit_col : str, default 'beneficiary_commune_code'
        Local unit of each row; the perimeter is made of these units.
    start, end : date-like, optional
        Inclusive bounds on ``date``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`: ``participants`` (all units), the same-perimeter
        values of the period and of the previous one, ``change_pct`` (missing for the
        first period or a zero base), ``n_units`` (units with activity in the period),
        ``n_units_common`` (in both periods) and ``n_units_dropped`` (in only one of them,
        left out of the comparison). ``is_partial``: the data stop before the period's
        end; the previous period is then cut at the same date a year earlier. Likewise,
        when the data start after the beginning of the first period, the next period is
        compared on the dates from the start date plus one year only.
    """
    levels = (level,) if isinstance(level, str) else tuple(level)
    if freq not in PERIODS:
        raise ValueError(f"unknown freq {freq!r}, expected one of {PERIODS}")
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ValueError(f"unknown level(s) {bad}, expected among {LEVELS}")
    if activities is None or activities.empty or territories.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    d = pd.DataFrame({"unit": stripped_codes(activities[unit_col]), "date": pd.to_datetime(activities["date"]),
                      "participants": pd.to_numeric(activities["participants"]).astype("float64")})
    if start is not None:
        d = d[d["date"] >= pd.Timestamp(start)]
    if end is not None:
        d = d[d["date"] <= pd.Timestamp(end)]
    d = d.dropna(subset=["unit", "date"])
    if d.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    d["period"] = assign_periods(d["date"], freq)
    data_end = d["date"].max()
    last = str(d.loc[d["date"] == data_end, "period"].iloc[0])
    is_partial_last = period_end(data_end, freq) > data_end.normalize()
    first = str(d["period"].min())

    cur = d.groupby(["unit", "period"], as_index=False)["participants"].sum()
    prev = cur.assign(period=_shift_year(cur["period"], 1)).rename(columns={"participants": "prev"})
    cmp = cur.rename(columns={"participants": "cmp"})
    if is_partial_last:
        # the last period is compared with the same dates one year earlier
        cutoff = data_end - pd.DateOffset(years=1)
        prev_last = _shift_year(pd.Series([last]), -1).iloc[0]
        cut = d[(d["period"] == prev_last) & (d["date"] <= cutoff)]
        cut = cut.groupby("unit", as_index=False)["participants"].sum().rename(columns={"participants": "prev"})
        prev = pd.concat([prev[prev["period"] != last], cut.assign(period=last)], ignore_index=True)
    data_start = d["date"].min()
    if data_start.normalize() > period_start(data_start, freq):
        # the first period is only partly covered: the next one is compared on the same dates
        after = _shift_year(pd.Series([first]), 1).iloc[0]
        cut = d[(d["period"] == after) & (d["date"] >= data_start + pd.DateOffset(years=1))]
        cut = cut.groupby("unit", as_index=False)["participants"].sum().rename(columns={"participants": "cmp"})
        cmp = pd.concat([cmp[cmp["period"] != after], cut.assign(period=after)], ignore_index=True)
    prev = prev[prev["period"] <= last]
    m = cur.merge(cmp, how="outer", on=["unit", "period"], validate="1:1")
    m = m.merge(prev, how="outer", on=["unit", "period"], validate="1:1")
    m = m[m["period"] >= first]
    has_cur, has_cmp, has_prev = m["participants"].notna(), m["cmp"].notna(), m["prev"].notna()
    common = has_cmp & has_prev
    m = m.assign(
        participants=m["participants"].fillna(0.0),
        same=m["cmp"].where(common, 0.0).fillna(0.0),
        prev_same=m["prev"].where(common, 0.0).fillna(0.0),
        n_units=has_cur.astype(float), n_common=common.astype(float),
        n_dropped=(has_cmp ^ has_prev).astype(float),
    )
    agg = aggregate(m, territories, ["participants", "same", "prev_same", "n_units", "n_common", "n_dropped"],
                    "unit", levels=levels, by=["period"])
    agg["period"] = agg["period"].astype("string")
    out = pd.DataFrame({
        "level": agg["level"], "territory_code": agg["territory_code"], "period": agg["period"],
        "previous_period": _shift_year(agg["period"], -1),
        "is_partial": (agg["period"] == last) & bool(is_partial_last),
        "participants": agg["participants"].fillna(0).astype("int64"),
        "participants_same_perimeter": agg["same"].fillna(0).astype("int64"),
        "previous_same_perimeter": agg["prev_same"].fillna(0).astype("int64"),
        "n_units": agg["n_units"].fillna(0).astype("int64"),
        "n_units_common": agg["n_common"].fillna(0).astype("int64"),
        "n_units_dropped": agg["n_dropped"].fillna(0).astype("Int64"),
    })
    base = out["previous_same_perimeter"].astype("float64")
    out["change_pct"] = ((out["participants_same_perimeter"] / base.where(base > 0) - 1) * 100).astype("float64")
    no_prev = out["previous_period"] < first
    out.loc[no_prev, "change_pct"] = np.nan
    out["n_units_dropped"] = out["n_units_dropped"].mask(no_prev)
    out["previous_same_perimeter"] = out["previous_same_perimeter"].astype("Int64").mask(no_prev)
    out["participants_same_perimeter"] = out["participants_same_perimeter"].astype("Int64").mask(no_prev)
    dropped = out.loc[~no_prev & (out["level"] == levels[-1]), "n_units_dropped"]
    if len(dropped) and dropped.sum() > 0:
        log.info("trend: %d unit-periods left out of year-on-year comparisons (not active in both periods)",
                 int(dropped.sum()))
    return out[TREND_COLUMNS].sort_values(["level", "territory_code", "period"]).reset_index(drop=True)


# --------------------------------------------------------------------------- panel
def build_panel(bundle, freq: str = "quarter", start=None, end=None, year: Optional[int] = None,
                in_scope_only: bool = True) -> pd.DataFrame:
    """Return a balanced unit × period panel of accompaniments per 1 000 inhabitants.

    Units are the local units (communes, arrondissements) with a population; accompaniments
    are placed in the beneficiaries' unit of residence (rows keyed by 13055 cannot be placed
    in an arrondissement and are left out). A last period that the data do not cover to
    its end is dropped (it would look like a fall).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, period, period_start, participants, n_activities, population,
        population_year, accompaniments_per_1000``.
    """
    cols = ["unit_code", "period", "period_start", "participants", "n_activities", "population",
            "population_year", "accompaniments_per_1000"]
    if freq not in PERIODS:
        raise ValueError(f"unknown freq {freq!r}, expected one of {PERIODS}")
    terr, pops, acts = table_or_empty(bundle, "territories"), table_or_empty(bundle, "populations"), table_or_empty(bundle, "activities")
    if terr.empty or pops.empty or acts.empty:
        return pd.DataFrame(columns=cols)
    um = unit_membership(terr)
    units = set(um["unit_code"])
    if in_scope_only and "in_scope" in terr.columns:
        scope = terr.assign(territory_code=stripped_codes(terr["territory_code"]))
        out_scope = set(scope.loc[~scope["in_scope"].astype("boolean").fillna(True).to_numpy(dtype=bool),
                                  "territory_code"])
        units -= out_scope
    up = unit_populations(terr, pops, year)
    up = up[up["unit_code"].isin(units) & (up["population"] > 0)]
    a = pd.DataFrame({"unit_code": stripped_codes(acts["beneficiary_commune_code"]), "date": pd.to_datetime(acts["date"]),
                      "participants": pd.to_numeric(acts["participants"]).astype("float64")})
    if start is not None:
        a = a[a["date"] >= pd.Timestamp(start)]
    if end is not None:
        a = a[a["date"] <= pd.Timestamp(end)]
    a = a.dropna(subset=["date"])
    if a.empty or up.empty:
        return pd.DataFrame(columns=cols)
    a["period"] = assign_periods(a["date"], freq)
    periods = sorted(a["period"].dropna().unique())
    data_end = a["date"].max()
    if period_end(data_end, freq) > data_end.normalize():
        periods = [p for p in periods if p != str(assign_periods(pd.Series([data_end]), freq).iloc[0])]
    if start is not None and len(periods) and period_start(start, freq) < pd.Timestamp(start):
        periods = periods[1:]  # first period only partly covered
    g = a[a["unit_code"].isin(set(up["unit_code"])).fillna(False).to_numpy(dtype=bool)]
    g = g.groupby(["unit_code", "period"]).agg(participants=("participants", "sum"),
                                               n_activities=("participants", "size")).reset_index()
    grid = up.merge(pd.DataFrame({"period": pd.array(periods, dtype="string")}), how="cross")
    p = grid.merge(g, how="left", on=["unit_code", "period"], validate="1:1")
    p["participants"] = p["participants"].fillna(0.0)
    p["n_activities"] = p["n_activities"].fillna(0).astype("int64")
    starts = {c: period_start(_code_date(c), freq) for c in periods}
    p["period_start"] = pd.to_datetime(p["period"].astype(str).map(starts))
    p["accompaniments_per_1000"] = p["participants"] / p["population"].astype("float64") * 1000
    return p[cols].sort_values(["unit_code", "period"]).reset_index(drop=True)


def _code_date(code: str) -> pd.Timestamp:
    """Return a date inside the period of a code ("2025", "2025-T2", "2025-03")."""
    return parse_period(str(code))[1]


def simulate_panel(n_units: int = 60, n_periods: int = 12, effect: float = 0.0, seed: int = 0,
                   treated_share: float = 0.3, start_period: Optional[int] = None,
                   noise_sd: float = 1.0, freq_start: str = "2023-01-01") -> pd.DataFrame:
    """Return a synthetic quarterly panel with a known treatment effect, to test :func:`did_estimate`.

    ``y = unit effect + period effect + effect × treated × post + noise`` with unit effects
    ~ N(20, 5), period effects a common linear trend plus N(0, 1) shocks, and noise
    ~ N(0, ``noise_sd``). Trends are parallel by construction.

    Parameters
    ----------
    n_units, n_periods : int
    effect : float
        The true effect added to treated units after ``start_period``.
    seed : int
    treated_share : float, default 0.3
    start_period : int, optional
        Index of the first treated period (default: the middle).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, period, period_start, accompaniments_per_1000, is_treated,
        is_post``; ``attrs['treated_units']`` and ``attrs['start_date']`` hold the design.
    """
    rng = np.random.default_rng(seed)
    start_period = n_periods // 2 if start_period is None else int(start_period)
    n_treated = max(1, int(round(n_units * treated_share)))
    units = [f"U{i:04d}" for i in range(n_units)]
    treated = set(units[:n_treated])
    starts = pd.date_range(freq_start, periods=n_periods, freq="QS")
    alpha = rng.normal(20, 5, n_units)
    gamma = 0.5 * np.arange(n_periods) + rng.normal(0, 1, n_periods)
    uu, tt = np.meshgrid(np.arange(n_units), np.arange(n_periods), indexing="ij")
    is_t = np.isin(np.array(units)[uu], list(treated))
    post = tt >= start_period
    y = alpha[uu] + gamma[tt] + effect * (is_t & post) + rng.normal(0, noise_sd, uu.shape)
    df = pd.DataFrame({
        "unit_code": np.array(units)[uu].ravel(),
        "period": [f"{d.year}-T{(d.month - 1) // 3 + 1}" for d in starts[tt.ravel()]],
        "period_start": starts[tt.ravel()],
        "accompaniments_per_1000": y.ravel(),
        "is_treated": is_t.ravel(), "is_post": post.ravel(),
    })
    df.attrs["treated_units"] = sorted(treated)
    df.attrs["start_date"] = starts[start_period]
    return df


# --------------------------------------------------------------------------- DiD
def _expand_treated(bundle, treated_units: Sequence[str]) -> set:
    """Return the local units of the treated codes (13055 → its arrondissements)."""
    treated = {str(u) for u in treated_units if u is not None and not pd.isna(u)}
    try:
        terr = table_or_empty(bundle, "territories")
    except Exception:  # pragma: no cover - a bare panel has no territories
        return treated
    if terr is None or terr.empty:
        return treated
    cm = code_membership(terr)
    local = cm[cm["is_local_unit"]]
    parents = treated & set(cm.loc[~cm["is_local_unit"], "unit_code"])
    if parents:
        treated |= set(local.loc[local["commune_code"].isin(parents), "unit_code"])
        treated -= parents
    return treated


def _fit(formula: str, data: pd.DataFrame, cluster_groups: Optional[np.ndarray]):
    import statsmodels.formula.api as smf  # lazy: statsmodels (~2 s), impact regression only

    model = smf.ols(formula, data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cluster_groups is not None:
            return model.fit(method="qr", cov_type="cluster", cov_kwds={"groups": cluster_groups})
        return model.fit(method="qr", cov_type="HC1")


@shared
def did_estimate(data, treated_units: Optional[Sequence[str]] = None, start_date=None,
                 outcome: str = "accompaniments_per_1000", cluster: str = "unit", freq: str = "quarter",
                 synthetic: Optional[bool] = None, alpha: float = 0.05, as_of=None) -> pd.DataFrame:
    """Estimate the difference in differences between treated (exposed) and other units.

    Model: ``y ~ treated:post + C(unit) + C(period)`` by OLS (two-way fixed effects: the
    main effects of ``treated`` and ``post`` are absorbed by the unit and period effects);
    the estimate is the coefficient of ``treated:post``. Errors are clustered by unit; with
    fewer than :data:`MIN_CLUSTERS` units, heteroskedasticity-robust HC1 errors are used
    instead, and the caveat says so. Parallel pre-trends are tested roughly: on
    pre-treatment periods, ``y ~ C(unit) + C(period) + treated:t`` (a different linear
    trend for the treated) — a p-value below 0.05 is reported as a warning.

    Parameters
    ----------
    data : Bundle, dict of DataFrame, or pandas.DataFrame
        A bundle (a quarterly panel is built with :func:`build_panel`) or a ready panel
        with ``unit_code, period, period_start`` and the outcome column.
    treated_units : sequence of str
        Treated local units (e.g. the Annexe 3 communes; 13055 stands for its
        arrondissements). Default for a bundle: the Annexe 3 units; for a panel made by
        :func:`simulate_panel`: its ``attrs['treated_units']``.
    start_date : date-like
        Start of the action: periods starting on or after the start of the period that
        holds it are "post".
    outcome : {'accompaniments_per_1000', 'participants', 'n_activities'}
    cluster : {'unit', 'none'}, default 'unit'
        ``'none'``: HC1 errors.
    freq : {'quarter', 'month', 'year'}, default 'quarter'
        Period of the panel built from a bundle.
    synthetic : bool, optional
        Whether the data are synthetic; default: the bundle's ``is_synthetic`` (False for
        a bare panel).
    alpha : float, default 0.05
        1 − confidence level of the interval.
    as_of : date-like, optional
        Only activities dated on or before it enter the panel built from a bundle (a report
        « arrêté au 31 décembre 2025 » must not use 2026 data).

    Returns
    -------
    pandas.DataFrame
        One row, columns :data:`DID_COLUMNS`: ``estimate, ci_lower, ci_upper, p_value,
        n_obs, n_units, n_treated, method, caveat`` (plain French, never empty), plus
        ``outcome, n_pre_periods, n_post_periods, pre_trend_p_value``. Empty when the
        design cannot be estimated (no treated or no control unit, no pre or no post
        period).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}, expected one of {OUTCOMES}")
    if cluster not in CLUSTERS:
        raise ValueError(f"unknown cluster {cluster!r}, expected one of {CLUSTERS}")
    if isinstance(data, pd.DataFrame):
        panel = data
        if treated_units is None:
            treated_units = data.attrs.get("treated_units", [])
        if start_date is None:
            start_date = data.attrs.get("start_date")
        treated = {str(u) for u in treated_units}
        is_synth = bool(synthetic) if synthetic is not None else False
    else:
        panel = build_panel(data, freq=freq, end=as_of)
        if treated_units is None:
            ex = table_or_empty(data, "exposed_communes")
            rows = ex[~ex["is_total_row"].astype("boolean").fillna(False).to_numpy(dtype=bool)] if len(ex) else ex
            treated_units = stripped_codes(rows["territory_code"]).dropna().tolist() if len(rows) else []
        treated = _expand_treated(data, treated_units)
        if synthetic is not None:
            is_synth = bool(synthetic)
        else:
            is_synth = bool(getattr(data, "is_synthetic", False)) or bool(
                (getattr(data, "meta", None) or {}).get("is_synthetic"))
    if start_date is None:
        raise ValueError("did_estimate needs start_date")
    empty = pd.DataFrame(columns=DID_COLUMNS)
    if panel is None or panel.empty or outcome not in panel.columns:
        return empty
    start = pd.Timestamp(start_date)
    df = pd.DataFrame({
        "unit": panel["unit_code"].astype(str).to_numpy(),
        "period": panel["period"].astype(str).to_numpy(),
        "period_start": pd.to_datetime(panel["period_start"]).to_numpy(),
        # statsmodels needs plain floats, not nullable dtypes
        "y": pd.to_numeric(panel[outcome], errors="coerce").astype("float64").to_numpy(),
    }).dropna(subset=["y"])
    # a period is post when it starts on or after the start of the period holding start_date
    starts = sorted(pd.to_datetime(pd.unique(df["period_start"])))
    first_post = start
    if starts:
        step = pd.Series(starts).diff().median() if len(starts) > 1 else pd.Timedelta(days=92)
        holding = [s for s in starts if s <= start < s + step]
        if holding:
            first_post = holding[-1]
    df["treated"] = df["unit"].isin(treated).astype(float)
    df["post"] = (df["period_start"] >= first_post).astype(float)
    df["treated_post"] = df["treated"] * df["post"]
    n_units = int(df["unit"].nunique())
    n_treated = int(df.loc[df["treated"] == 1, "unit"].nunique())
    n_control = n_units - n_treated
    pre_periods = sorted(df.loc[df["post"] == 0, "period"].unique())
    post_periods = sorted(df.loc[df["post"] == 1, "period"].unique())
    if n_treated == 0 or n_control == 0 or not pre_periods or not post_periods:
        log.warning("did_estimate: design not estimable (%d treated, %d control, %d pre, %d post periods)",
                    n_treated, n_control, len(pre_periods), len(post_periods))
        return empty

    use_cluster = cluster == "unit" and n_units >= MIN_CLUSTERS
    groups = pd.factorize(df["unit"])[0] if use_cluster else None
    res = _fit("y ~ treated_post + C(unit) + C(period)", df, groups)
    est = float(res.params["treated_post"])
    ci = res.conf_int(alpha=alpha).loc["treated_post"]
    p_value = float(res.pvalues["treated_post"])
    method = ("MCO à effets fixes unité et période (différence de différences), erreurs "
              + ("robustes groupées par unité" if use_cluster else "robustes HC1"))

    # rough parallel pre-trends test
    pre = df[df["post"] == 0].copy()
    pre_p = float("nan")
    if len(pre_periods) >= 3:
        order = {p: i for i, p in enumerate(pre_periods)}
        pre["t"] = pre["period"].map(order).astype(float)
        pre["treated_t"] = pre["treated"] * pre["t"]
        try:
            g = pd.factorize(pre["unit"])[0] if use_cluster else None
            rp = _fit("y ~ treated_t + C(unit) + C(period)", pre, g)
            pre_p = float(rp.pvalues["treated_t"])
        except Exception as exc:  # pragma: no cover - singular pre-period design
            log.warning("did_estimate: pre-trend test failed: %s", exc)

    caveats = []
    if is_synth:
        caveats.append("Données synthétiques : l'écart estimé reproduit une hypothèse du générateur de "
                       "données (surcroît d'activité dans les communes exposées), ce n'est pas un résultat "
                       "sur le territoire.")
    if n_treated < MIN_TREATED:
        caveats.append(f"Peu d'unités exposées ({n_treated}) : l'estimation est fragile.")
    if not use_cluster and cluster == "unit":
        caveats.append(f"Trop peu d'unités ({n_units}, moins de {MIN_CLUSTERS}) pour des erreurs groupées "
                       "par unité : erreurs robustes HC1, qui sous-estiment probablement l'incertitude.")
    if len(pre_periods) < MIN_PRE_PERIODS:
        caveats.append(f"Période avant le démarrage courte ({len(pre_periods)} période(s)) : l'hypothèse "
                       "de tendances parallèles ne peut pas être vérifiée.")
    elif not np.isnan(pre_p) and pre_p < 0.05:
        p_txt = f"{pre_p:.3f}".replace(".", ",")
        caveats.append(f"Les tendances avant le démarrage diffèrent entre unités exposées et autres "
                       f"(test approximatif, p = {p_txt}) : l'écart ne peut pas être lu comme un effet "
                       "de l'action.")
    caveats.append("Les communes exposées n'ont pas été tirées au hasard : la lecture causale repose sur "
                   "l'hypothèse que, sans l'action, leur activité aurait évolué comme celle des autres.")
    return pd.DataFrame([{
        "estimate": est, "ci_lower": float(ci.iloc[0]), "ci_upper": float(ci.iloc[1]), "p_value": p_value,
        "n_obs": int(res.nobs), "n_units": n_units, "n_treated": n_treated, "method": method,
        "caveat": " ".join(caveats), "outcome": outcome, "n_pre_periods": len(pre_periods),
        "n_post_periods": len(post_periods), "pre_trend_p_value": pre_p,
    }])[DID_COLUMNS]
