"""Need versus offer: lieux, exposed population, accompaniments and targeting by territory.

Every function takes the bundle (a :class:`fne_eval.bundle.Bundle`, or a dict of its
tables) and returns a tidy frame; all levels are computed in one pass with
:func:`fne_eval.core.territory.aggregate`, so they add up.

Definitions
-----------
* **Lieux**: rows of ``lieux``, placed in their ``territory_code`` (commune or
  arrondissement). A lieu coded 13055 (Marseille, arrondissement unknown) counts for
  Marseille, its EPCI and the département, not for any arrondissement. Labels come from
  ``dispositif_programmes_nationaux`` (:data:`LABELS`).
* **Population**: INSEE population municipale of the millésime ``year`` (default: the
  latest), summed over local units; a territory with a unit lacking the millésime has a
  missing population (and missing rates), never a partial one.
* **Exposed units** (:func:`exposed_population`), two definitions:
  ``'annexe3'`` — the units listed in the roadmap's Annexe 3; exposed population =
  the printed "Fragilité socio numérique" count of persons (as printed: Saint-Antonin-sur-
  Bayon prints 513 for 125 inhabitants, a data-quality finding, kept as printed);
  ``'ifn'`` — units whose IFN (variant ``tout_age``, latest vintage) is >= ``ifn_threshold``;
  exposed population = their whole population.
* **Accompaniments**: sum of ``participants`` of ``activities`` (people accompanied),
  placed in the beneficiaries' commune of residence (``beneficiary_commune_code``); rows
  without it are not placed (logged). Per 1 000 inhabitants = participants / population ×
  1 000; per 1 000 exposed people = participants resident in exposed units / exposed
  population × 1 000 (the data do not say whether an accompanied person is fragile).
* **Concentration index** (:func:`concentration_index`): units ranked by IFN from the least
  to the most fragile; x = cumulative share of population, y = cumulative share of
  accompaniments; index = 1 − 2 × area under that curve (ties in IFN grouped). Positive:
  accompaniments concentrated on the more fragile units; 0: in proportion to population;
  range −1 to 1.
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional

import numpy as np
import pandas as pd

from fne_eval.bundle.diskcache import shared
from fne_eval.bundle.spec import TABLES
from fne_eval.core.territory import (
    stripped_codes,
    aggregate,
    code_membership,
    members,
    merge_logged,
    population_by_territory,
    unit_membership,
    unit_populations,
)

log = logging.getLogger(__name__)

#: National labels followed in the offer: column suffix → value of dispositif_programmes_nationaux.
LABELS = {
    "france_services": "France Services",
    "conseillers_numeriques": "Conseillers numériques",
    "aidants_connect": "Aidants Connect",
}
ALL_LEVELS = ("arrondissement", "commune", "epci", "departement")
EXPOSURE_SOURCES = ("annexe3", "ifn")
DEFAULT_IFN_THRESHOLD = 6.0
IFN_VARIANT = "tout_age"

LIEUX_LONG_COLUMNS = ["level", "territory_code", "label", "n_lieux", "population", "population_year",
                      "lieux_per_10k"]
ACCOMPANIMENT_COLUMNS = ["level", "territory_code", "n_activities", "participants", "population",
                         "population_year", "accompaniments_per_1000", "exposed_population",
                         "participants_exposed_units", "accompaniments_per_1000_exposed"]
EXPOSED_COLUMNS = ["unit_code", "is_exposed", "exposed_population", "ifn_total", "population",
                   "population_year"]


# --------------------------------------------------------------------------- inputs
def table_or_empty(bundle, name: str) -> pd.DataFrame:
    """Return one table of a Bundle or dict, or an empty frame with the spec's columns."""
    try:
        df = bundle[name]
    except (KeyError, TypeError):
        df = None
    if df is None:
        return pd.DataFrame(columns=TABLES[name].column_names)
    return df


def _period(df: pd.DataFrame, start=None, end=None, col: str = "date") -> pd.DataFrame:
    """Return the rows of ``df`` whose ``col`` is within ``[start, end]`` (inclusive)."""
    if df.empty or (start is None and end is None):
        return df
    d = pd.to_datetime(df[col])
    keep = pd.Series(True, index=df.index)
    if start is not None:
        keep &= d >= pd.Timestamp(start)
    if end is not None:
        keep &= d <= pd.Timestamp(end)
    return df.loc[keep.fillna(False).to_numpy(dtype=bool)]


def _populations(bundle, year, levels) -> pd.DataFrame:
    """Return ``level, territory_code, population, population_year`` (NA when incomplete)."""
    pops = table_or_empty(bundle, "populations")
    terr = table_or_empty(bundle, "territories")
    if pops.empty or terr.empty:
        return pd.DataFrame(columns=["level", "territory_code", "population", "population_year"])
    pt = population_by_territory(terr, pops, year, levels=levels)
    incomplete = pt["n_units_missing"] > 0
    if incomplete.any():
        log.info("population %s incomplete for %d territories: rates left missing",
                 pt["population_year"].iloc[0], int(incomplete.sum()))
    pt["population"] = pt["population"].mask(incomplete)
    return pt[["level", "territory_code", "population", "population_year"]]


def _rate(num: pd.Series, den: pd.Series, per: float) -> pd.Series:
    """Return ``num / den * per``; missing when the denominator is 0 or missing."""
    n = pd.to_numeric(num, errors="coerce").astype("float64")
    d = pd.to_numeric(den, errors="coerce").astype("float64")
    return (n / d.where(d > 0) * per).astype("float64")


def ifn_by_unit(bundle, variant: str = IFN_VARIANT, vintage: Optional[str] = None) -> pd.DataFrame:
    """Return ``unit_code, ifn_total`` for the local units (one variant, one vintage).

    Parameters
    ----------
    variant : str, default 'tout_age'
    vintage : str, optional
        The latest vintage of that variant when omitted. Vintages are never mixed.
    """
    ifn = table_or_empty(bundle, "ifn")
    if ifn.empty:
        return pd.DataFrame({"unit_code": pd.Series([], dtype="string"),
                             "ifn_total": pd.Series([], dtype="float64")})
    f = ifn[stripped_codes(ifn["variant"]) == variant] if "variant" in ifn else ifn
    if vintage is None and len(f):
        vintage = sorted(stripped_codes(f["vintage"]).dropna().unique())[-1]
    f = f[stripped_codes(f["vintage"]) == str(vintage)] if len(f) else f
    out = pd.DataFrame({"unit_code": stripped_codes(f["territory_code"]),
                        "ifn_total": pd.to_numeric(f["ifn_total"], errors="coerce").astype("float64")})
    return out.dropna(subset=["ifn_total"]).drop_duplicates("unit_code").reset_index(drop=True)


# --------------------------------------------------------------------------- offer
@shared
def lieux_by_territory(bundle, year: Optional[int] = None,
                       levels: Iterable[str] = ALL_LEVELS) -> pd.DataFrame:
    """Count lieux per territory and label, and per 10 000 inhabitants.

    Parameters
    ----------
    bundle : Bundle or dict of DataFrame
        Needs ``lieux``, ``territories``, ``populations``.
    year : int, optional
        Population millésime (default: the latest).
    levels : iterable of {'arrondissement', 'commune', 'epci', 'departement'}

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, label, n_lieux, population, population_year,
        lieux_per_10k``; ``label`` is ``'all'`` or a key of :data:`LABELS`. Every territory
        of the levels appears (0 lieux included); empty when there is no lieu at all.
    """
    levels = tuple(levels)
    lieux, terr = table_or_empty(bundle, "lieux"), table_or_empty(bundle, "territories")
    if lieux.empty or terr.empty:
        return pd.DataFrame(columns=LIEUX_LONG_COLUMNS)
    disp = lieux["dispositif_programmes_nationaux"].astype("string").fillna("") \
        if "dispositif_programmes_nationaux" in lieux else pd.Series("", index=lieux.index)
    df = pd.DataFrame({"code": stripped_codes(lieux["territory_code"]), "all": 1})
    for key, value in LABELS.items():
        df[key] = disp.map(lambda s, v=value: v in [x.strip() for x in str(s).split("|")]).astype(int).to_numpy()
    cols = ["all", *LABELS]
    agg = aggregate(df, terr, cols, "code", levels=levels, complete=True)
    long = agg.melt(id_vars=["level", "territory_code"], value_vars=cols, var_name="label",
                    value_name="n_lieux")
    long["n_lieux"] = long["n_lieux"].fillna(0).astype("int64")
    long = long.merge(_populations(bundle, year, levels), how="left", on=["level", "territory_code"],
                      validate="m:1")
    long["lieux_per_10k"] = _rate(long["n_lieux"], long["population"], 10_000)
    return long[LIEUX_LONG_COLUMNS].reset_index(drop=True)


def lieux_offer(bundle, year: Optional[int] = None, levels: Iterable[str] = ALL_LEVELS) -> pd.DataFrame:
    """Return the offer per territory, one row each (wide form of :func:`lieux_by_territory`).

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, lieux, lieux_france_services,
        lieux_conseillers_numeriques, lieux_aidants_connect, population, population_year,
        lieux_per_10k`` (``lieux`` = all lieux; per 10 000 inhabitants of ``population_year``).
    """
    cols = ["level", "territory_code", "lieux", *[f"lieux_{k}" for k in LABELS], "population",
            "population_year", "lieux_per_10k"]
    long = lieux_by_territory(bundle, year, levels)
    if long.empty:
        return pd.DataFrame(columns=cols)
    wide = long.pivot_table(index=["level", "territory_code"], columns="label", values="n_lieux",
                            aggfunc="sum").reset_index()
    wide = wide.rename(columns={"all": "lieux", **{k: f"lieux_{k}" for k in LABELS}})
    allrows = long[long["label"] == "all"][["level", "territory_code", "population", "population_year",
                                           "lieux_per_10k"]]
    out = wide.merge(allrows, how="left", on=["level", "territory_code"], validate="1:1")
    for c in ["lieux", *[f"lieux_{k}" for k in LABELS]]:
        out[c] = out[c].astype("int64")
    out.columns.name = None
    return out[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- need
def exposed_population(bundle, source: str = "annexe3", ifn_threshold: float = DEFAULT_IFN_THRESHOLD,
                       year: Optional[int] = None) -> pd.DataFrame:
    """Return, for every local unit, whether it is exposed and its exposed population.

    Parameters
    ----------
    source : {'annexe3', 'ifn'}, default 'annexe3'
        ``'annexe3'``: units listed in the roadmap's Annexe 3, exposed population = printed
        fragile population (persons). ``'ifn'``: units with IFN >= ``ifn_threshold``,
        exposed population = their population of ``year``.
    ifn_threshold : float, default 6.0
        Used when ``source='ifn'``.
    year : int, optional
        Population millésime (default: the latest).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, is_exposed, exposed_population, ifn_total, population,
        population_year``; ``exposed_population`` is 0 for units that are not exposed. An
        Annexe 3 row coded as a commune with arrondissements (13055) keeps that code.
    """
    if source not in EXPOSURE_SOURCES:
        raise ValueError(f"unknown source {source!r}, expected one of {EXPOSURE_SOURCES}")
    terr, pops = table_or_empty(bundle, "territories"), table_or_empty(bundle, "populations")
    if terr.empty:
        return pd.DataFrame(columns=EXPOSED_COLUMNS)
    units = unit_membership(terr)[["unit_code"]]
    if not pops.empty:
        up = unit_populations(terr, pops, year)
        units = units.merge(up[up["unit_code"].isin(set(units["unit_code"]))], how="left",
                            on="unit_code", validate="1:1")
    else:
        units = units.assign(population=np.nan, population_year=pd.NA)
    units = merge_logged(units, ifn_by_unit(bundle), how="left", validate="1:1", on="unit_code",
                         what="exposed_population: units without IFN")
    if source == "ifn":
        units["is_exposed"] = (units["ifn_total"] >= float(ifn_threshold)).fillna(False).astype(bool)
        units["exposed_population"] = units["population"].where(units["is_exposed"], 0.0)
    else:
        ex = table_or_empty(bundle, "exposed_communes")
        if ex.empty:
            units["is_exposed"] = False
            units["exposed_population"] = 0.0
        else:
            rows = ex[~ex["is_total_row"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
            listed = pd.DataFrame({"unit_code": stripped_codes(rows["territory_code"]),
                                   "exposed_population": pd.to_numeric(rows["printed_fragile_population"])
                                   .astype("float64")})
            unresolved = listed["unit_code"].isna()
            if unresolved.any():
                log.warning("exposed_population: %d Annexe 3 rows without a resolved code (ignored)",
                            int(unresolved.sum()))
            listed = listed[~unresolved].groupby("unit_code", as_index=False)["exposed_population"].sum()
            # a row coded 13055 keeps that code: it rolls up at commune level and above
            extra = listed[~listed["unit_code"].isin(set(units["unit_code"]))]
            units = units.merge(listed, how="left", on="unit_code", validate="1:1")
            if len(extra):
                units = pd.concat([units, extra], ignore_index=True)
            units["is_exposed"] = units["exposed_population"].notna()
            units["exposed_population"] = units["exposed_population"].fillna(0.0)
    units["population_year"] = units["population_year"].astype("Int64")
    return units[EXPOSED_COLUMNS].sort_values("unit_code").reset_index(drop=True)


# --------------------------------------------------------------------------- activity
def _located_activities(bundle, start, end) -> pd.DataFrame:
    acts = _period(table_or_empty(bundle, "activities"), start, end)
    return pd.DataFrame({"code": stripped_codes(acts["beneficiary_commune_code"]) if len(acts) else
                         pd.Series([], dtype="string"),
                         "participants": pd.to_numeric(acts["participants"]).astype("float64")
                         if len(acts) else pd.Series([], dtype="float64"),
                         "one": 1.0})


def accompaniments_by_territory(bundle, start=None, end=None, year: Optional[int] = None,
                                source: str = "annexe3", ifn_threshold: float = DEFAULT_IFN_THRESHOLD,
                                levels: Iterable[str] = ALL_LEVELS) -> pd.DataFrame:
    """Count accompaniments per territory, per 1 000 inhabitants and per 1 000 exposed people.

    Parameters
    ----------
    bundle : Bundle or dict of DataFrame
        Needs ``activities``, ``territories``, ``populations`` (and ``exposed_communes`` or
        ``ifn`` for the exposed population).
    start, end : date-like, optional
        Inclusive bounds on the activity ``date``.
    year : int, optional
        Population millésime (default: the latest).
    source, ifn_threshold
        Definition of exposed units, see :func:`exposed_population`.
    levels : iterable of {'arrondissement', 'commune', 'epci', 'departement'}

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACCOMPANIMENT_COLUMNS`. Every territory of the levels appears
        (0 when none); empty when there is no activity in the period. Rates are missing
        when the denominator is 0 or missing.
    """
    levels = tuple(levels)
    terr = table_or_empty(bundle, "territories")
    acts = _located_activities(bundle, start, end)
    if acts.empty or terr.empty:
        return pd.DataFrame(columns=ACCOMPANIMENT_COLUMNS)
    exp = exposed_population(bundle, source, ifn_threshold, year)
    exposed_codes = set(exp.loc[exp["is_exposed"], "unit_code"])
    # an activity coded 13055 is in an exposed unit only if 13055 itself is listed
    acts["participants_exposed_units"] = acts["participants"].where(acts["code"].isin(exposed_codes)
                                                                   .fillna(False), 0.0)
    a = aggregate(acts.rename(columns={"one": "n_activities"}), terr,
                  ["n_activities", "participants", "participants_exposed_units"], "code",
                  levels=levels, complete=True)
    e = aggregate(exp, terr, ["exposed_population"], "unit_code", levels=levels, complete=True)
    out = a.merge(e[["level", "territory_code", "exposed_population"]], how="left",
                  on=["level", "territory_code"], validate="1:1")
    out = out.merge(_populations(bundle, year, levels), how="left", on=["level", "territory_code"],
                    validate="1:1")
    out["n_activities"] = out["n_activities"].fillna(0).astype("int64")
    out["participants"] = out["participants"].fillna(0).astype("int64")
    out["participants_exposed_units"] = out["participants_exposed_units"].fillna(0).astype("int64")
    out["accompaniments_per_1000"] = _rate(out["participants"], out["population"], 1000)
    out["accompaniments_per_1000_exposed"] = _rate(out["participants_exposed_units"],
                                                   out["exposed_population"], 1000)
    return out[ACCOMPANIMENT_COLUMNS].reset_index(drop=True)


@shared
def exposed_communes_offer(bundle, source: str = "annexe3", ifn_threshold: float = DEFAULT_IFN_THRESHOLD,
                           start=None, end=None, year: Optional[int] = None) -> pd.DataFrame:
    """Return each exposed unit with its lieux and accompaniments.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory_code, territory_name, epci_siren, ifn_total, population,
        population_year, exposed_population, n_lieux, has_lieu, participants,
        accompaniments_per_1000_exposed``, sorted by exposed population (largest first).
        ``n_lieux`` counts lieux coded to the unit itself (a lieu coded 13055 does not
        count for an arrondissement).
    """
    cols = ["territory_code", "territory_name", "epci_siren", "ifn_total", "population", "population_year",
            "exposed_population", "n_lieux", "has_lieu", "participants", "accompaniments_per_1000_exposed"]
    terr = table_or_empty(bundle, "territories")
    exp = exposed_population(bundle, source, ifn_threshold, year)
    exp = exp[exp["is_exposed"]]
    if exp.empty:
        return pd.DataFrame(columns=cols)
    lieux = table_or_empty(bundle, "lieux")
    n_lieux = stripped_codes(lieux["territory_code"]).value_counts() if len(lieux) else pd.Series(dtype="int64")
    acts = _located_activities(bundle, start, end)
    part = acts.groupby("code")["participants"].sum() if len(acts) else pd.Series(dtype="float64")
    cm = code_membership(terr).set_index("unit_code")
    names = terr.assign(territory_code=stripped_codes(terr["territory_code"])).drop_duplicates("territory_code") \
        .set_index("territory_code")["territory_name"]
    out = pd.DataFrame({
        "territory_code": exp["unit_code"].astype("string"),
        "territory_name": exp["unit_code"].map(names).astype("string"),
        "epci_siren": exp["unit_code"].map(cm["epci_siren"]).astype("string"),
        "ifn_total": exp["ifn_total"],
        "population": exp["population"].astype("Int64"),
        "population_year": exp["population_year"],
        "exposed_population": exp["exposed_population"].round().astype("int64"),
    })
    out["n_lieux"] = out["territory_code"].map(n_lieux).fillna(0).astype("int64")
    out["has_lieu"] = out["n_lieux"] > 0
    out["participants"] = out["territory_code"].map(part).fillna(0).astype("int64")
    out["accompaniments_per_1000_exposed"] = _rate(out["participants"], out["exposed_population"], 1000)
    return out.sort_values(["exposed_population", "territory_code"], ascending=[False, True])[cols] \
        .reset_index(drop=True)


def communes_without_lieu(bundle, ifn_threshold: float = DEFAULT_IFN_THRESHOLD, source: str = "ifn",
                          year: Optional[int] = None) -> pd.DataFrame:
    """Return the exposed communes and arrondissements that have no lieu de médiation numérique.

    Parameters
    ----------
    ifn_threshold : float, default 6.0
        IFN at or above which a unit is exposed (``source='ifn'``).
    source : {'ifn', 'annexe3'}, default 'ifn'
        How exposure is defined (see :func:`exposed_population`).

    Returns
    -------
    pandas.DataFrame
        Columns ``territory_code, territory_name, epci_siren, ifn_total, population,
        population_year, exposed_population``, most fragile first.
    """
    res = exposed_communes_offer(bundle, source=source, ifn_threshold=ifn_threshold, year=year)
    cols = ["territory_code", "territory_name", "epci_siren", "ifn_total", "population", "population_year",
            "exposed_population"]
    if res.empty:
        return pd.DataFrame(columns=cols)
    res = res[~res["has_lieu"]]
    return res.sort_values(["ifn_total", "territory_code"], ascending=[False, True])[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- targeting
def targeting(bundle, start=None, end=None, year: Optional[int] = None, source: str = "annexe3",
              ifn_threshold: float = DEFAULT_IFN_THRESHOLD,
              levels: Iterable[str] = ("epci", "departement")) -> pd.DataFrame:
    """Compare the share of accompaniments and the share of population of exposed units.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, participants, participants_exposed_units,
        activity_share_exposed_pct, population, population_exposed_units,
        population_share_exposed_pct, targeting_ratio``. ``targeting_ratio`` =
        activity share / population share: above 1, exposed units receive more than their
        demographic weight. Shares and ratio are computed from additive parts at each level.
    """
    cols = ["level", "territory_code", "participants", "participants_exposed_units",
            "activity_share_exposed_pct", "population", "population_exposed_units",
            "population_share_exposed_pct", "targeting_ratio"]
    levels = tuple(levels)
    acc = accompaniments_by_territory(bundle, start, end, year, source, ifn_threshold, levels)
    if acc.empty:
        return pd.DataFrame(columns=cols)
    terr = table_or_empty(bundle, "territories")
    exp = exposed_population(bundle, source, ifn_threshold, year)
    exp = exp.assign(pop_exp=exp["population"].where(exp["is_exposed"], 0.0),
                     pop_all=exp["population"])
    p = aggregate(exp, terr, ["pop_exp", "pop_all"], "unit_code", levels=levels, complete=True)
    out = acc.merge(p[["level", "territory_code", "pop_exp"]], how="left", on=["level", "territory_code"],
                    validate="1:1").rename(columns={"pop_exp": "population_exposed_units"})
    out["activity_share_exposed_pct"] = _rate(out["participants_exposed_units"], out["participants"], 100)
    out["population_share_exposed_pct"] = _rate(out["population_exposed_units"], out["population"], 100)
    out["targeting_ratio"] = _rate(out["activity_share_exposed_pct"], out["population_share_exposed_pct"], 1)
    out["population_exposed_units"] = out["population_exposed_units"].round().astype("Int64")
    return out[cols].reset_index(drop=True)


def concentration_curve(bundle, start=None, end=None, year: Optional[int] = None,
                        territory_code: Optional[str] = None) -> pd.DataFrame:
    """Return the concentration curve of accompaniments over units ranked by IFN.

    Units (communes and arrondissements, of ``territory_code`` if given) with an IFN and a
    population are sorted from the least to the most fragile; tied IFN values form one
    point. The curve starts at (0, 0) and ends at (1, 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``ifn_total, n_units, population, participants, cum_population_share,
        cum_activity_share``; the first row is the origin (``ifn_total`` missing). Empty
        when there is no accompaniment or no population.
    """
    cols = ["ifn_total", "n_units", "population", "participants", "cum_population_share",
            "cum_activity_share"]
    terr, pops = table_or_empty(bundle, "territories"), table_or_empty(bundle, "populations")
    acts = _located_activities(bundle, start, end)
    if terr.empty or pops.empty or acts.empty:
        return pd.DataFrame(columns=cols)
    up = unit_populations(terr, pops, year)
    # activity keyed by a commune with arrondissements (13055) cannot be ranked by IFN
    um = set(unit_membership(terr)["unit_code"])
    off = ~acts["code"].isin(um).fillna(False)
    if off.any():
        log.warning("concentration_curve: %d activity rows not on a local unit (left out)", int(off.sum()))
    part = acts[~off].groupby("code")["participants"].sum()
    d = merge_logged(up, ifn_by_unit(bundle), how="inner", validate="1:1", on="unit_code",
                     what="concentration_curve: units without IFN (left out)")
    if territory_code is not None:
        d = d[d["unit_code"].isin(set(members(terr, territory_code)))]
    d = d.dropna(subset=["population", "ifn_total"])
    d = d[d["population"] > 0]
    d["participants"] = d["unit_code"].map(part).fillna(0.0)
    if d.empty or d["participants"].sum() == 0:
        return pd.DataFrame(columns=cols)
    g = d.groupby("ifn_total", sort=True).agg(n_units=("unit_code", "size"), population=("population", "sum"),
                                              participants=("participants", "sum")).reset_index()
    g["cum_population_share"] = g["population"].cumsum() / g["population"].sum()
    g["cum_activity_share"] = g["participants"].cumsum() / g["participants"].sum()
    origin = pd.DataFrame({"ifn_total": [np.nan], "n_units": [0], "population": [0.0], "participants": [0.0],
                           "cum_population_share": [0.0], "cum_activity_share": [0.0]})
    return pd.concat([origin, g], ignore_index=True)[cols]


def concentration_index(curve: pd.DataFrame) -> float:
    """Return 1 − 2 × the area under a concentration curve (trapezoids).

    Positive when accompaniments are concentrated on the more fragile units (the curve of
    :func:`concentration_curve` then lies below the diagonal); ``NaN`` for an empty curve.

    Examples
    --------
    Two units of 100 inhabitants, IFN 2 with 10 accompaniments and IFN 8 with 30: points
    (0, 0), (0.5, 0.25), (1, 1); area = 0.0625 + 0.3125 = 0.375; index = 0.25.
    """
    if curve is None or len(curve) < 2:
        return float("nan")
    x = curve["cum_population_share"].to_numpy(dtype=float)
    y = curve["cum_activity_share"].to_numpy(dtype=float)
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    return 1.0 - 2.0 * area
