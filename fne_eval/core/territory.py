"""Territory hierarchy: département → EPCI → communes → Marseille's arrondissements.

The ``territories`` table of a bundle (see :mod:`fne_eval.bundle.spec`) holds one row per
territory with its ``level`` in ``{'departement', 'epci', 'commune', 'arrondissement'}``.
This module turns it into the few operations every evaluation function needs:

* the **local units**: the finest territories that partition the ground, i.e. the
  communes that have no arrondissements plus the arrondissements (13201–13216 for
  Marseille). Populations and activity are counted on local units; a commune with
  arrondissements (13055) is the *sum* of its arrondissements, never counted beside them;
* the **membership** of each local unit: its commune, its EPCI, its département;
* :func:`aggregate`, which rolls a tidy frame keyed by unit code up every level in one
  vectorised pass (a groupby on a membership join, never a loop over territories).

Rules of the hierarchy
----------------------
* An **EPCI's** figure is the sum over *all* its member communes, including members outside
  the département (the Métropole Aix-Marseille-Provence holds Pertuis 84089 and
  Saint-Zacharie 83120: ``departement_code`` 84 / 83, ``in_scope`` false).
* A **département's** figure is the sum over the communes whose ``departement_code`` is that
  département (so Pertuis and Saint-Zacharie are not in the 13's total). Hence
  ``département 13 != sum of its EPCI`` when an EPCI crosses the border: this is expected.
* A **commune's** figure is its own rows plus the rows of its arrondissements. Data may be
  keyed by 13055 (commune level) or by 13201–13216 (arrondissement level): both roll up to
  13055, the EPCI and the département; rows keyed by 13055 simply have no arrondissement.
* Non-additive values (rates, IFN) need an explicit ``how`` in
  ``{'weighted_mean', 'unweighted_mean'}``; ratios are aggregated by summing their
  numerator and denominator and dividing afterwards (never by averaging ratios).

Every merge uses ``validate=`` and logs the rows it loses (logger ``fne_eval.core.territory``).

Examples
--------
>>> from fne_eval.core.territory import aggregate, territory_population
>>> value, year = territory_population(territories, populations, "200054807", 2023)
>>> aggregate(activities, territories, ["participants"], "beneficiary_commune_code",
...           by=["year"])  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: Levels :func:`aggregate` can produce, from the finest to the coarsest.
AGGREGATE_LEVELS = ("arrondissement", "commune", "epci", "departement")
HOW = ("sum", "weighted_mean", "unweighted_mean")
MEMBERSHIP_COLUMNS = ["unit_code", "unit_level", "commune_code", "epci_siren", "departement_code"]

_LEVEL_COLUMN = {
    "arrondissement": "arrondissement_code",
    "commune": "commune_code",
    "epci": "epci_siren",
    "departement": "departement_code",
}


# --------------------------------------------------------------------------- helpers
def stripped_codes(s: pd.Series) -> pd.Series:
    """Return ``s`` as a stripped string series with ``<NA>`` for blanks."""
    s = s.astype("string").str.strip()
    return s.mask(s == "", pd.NA)


def _isin(s: pd.Series, values) -> np.ndarray:
    """Return whether each value of ``s`` is in ``values`` (missing: False), as a numpy mask.

    Goes through an object array: pandas' Arrow-string ``isin`` converts every value of
    the set one by one, which costs seconds for the 35 000 communes of France.
    """
    return pd.Series(s.to_numpy(dtype=object, na_value=None)).isin(list(values)).to_numpy(dtype=bool)


def merge_logged(left: pd.DataFrame, right: pd.DataFrame, *, how: str, validate: str,
                 what: str, **kwargs) -> pd.DataFrame:
    """Merge two frames with ``validate=`` and log the rows of ``left`` that find no match.

    Parameters
    ----------
    left, right : pandas.DataFrame
        Frames to merge, as for :meth:`pandas.DataFrame.merge`.
    how : {'inner', 'left'}
        Join type. With ``'inner'`` unmatched left rows are dropped and logged; with
        ``'left'`` they are kept (with missing right columns) and logged.
    validate : str
        Passed to :meth:`pandas.DataFrame.merge` (``'m:1'``, ``'1:1'``...).
    what : str
        Short description used in the log line.
    **kwargs
        ``on``, ``left_on``, ``right_on``... passed through.
    """
    if how not in ("inner", "left"):
        raise ValueError(f"unknown how {how!r}, expected 'inner' or 'left'")
    out = left.merge(right, how="left", validate=validate, indicator="_merge_status", **kwargs)
    unmatched = out["_merge_status"] == "left_only"
    n_lost = int(unmatched.sum())
    if n_lost:
        log.warning("%s: %d of %d rows have no match (%s)", what, n_lost, len(left),
                    "dropped" if how == "inner" else "kept with missing values")
        if how == "inner":
            out = out.loc[~unmatched]
    return out.drop(columns="_merge_status").reset_index(drop=True)


_PREPARED_CACHE: dict = {}
_PREPARED_COLUMNS = ["territory_code", "level", "territory_name", "departement_code", "epci_siren",
                     "commune_code", "in_scope"]


def _prepare(territories: pd.DataFrame) -> pd.DataFrame:
    """Return the territories with string codes and the columns this module reads (cached on content).

    A report asks for the level, the name and the members of its territory several times; the
    table is read once per content (the key hashes every column read here) and each caller gets
    its own copy.
    """
    return _memo(_PREPARED_CACHE, _content_key(territories, _PREPARED_COLUMNS), _prepare_uncached, territories)


def _prepare_uncached(territories: pd.DataFrame) -> pd.DataFrame:
    missing = {"territory_code", "level"} - set(territories.columns)
    if missing:
        raise ValueError(f"territories table lacks columns {sorted(missing)}")
    t = pd.DataFrame({"territory_code": stripped_codes(territories["territory_code"]),
                      "level": stripped_codes(territories["level"])})
    for col in ("territory_name", "departement_code", "epci_siren", "commune_code"):
        t[col] = stripped_codes(territories[col]) if col in territories.columns else pd.Series(
            pd.NA, index=territories.index, dtype="string")
    if "in_scope" in territories.columns:
        t["in_scope"] = territories["in_scope"].astype("boolean")
    else:
        t["in_scope"] = pd.Series(pd.NA, index=territories.index, dtype="boolean")
    return t.reset_index(drop=True)


# --------------------------------------------------------------------------- hierarchy
_MEMBERSHIP_CACHE: dict = {}
_CACHE_COLUMNS = ["territory_code", "level", "departement_code", "epci_siren", "commune_code"]


def _content_key(territories: pd.DataFrame, columns: list) -> tuple:
    """Return a cheap, content-based key of the given columns of the territories (order-sensitive)."""
    cols = [c for c in columns if c in territories.columns]
    h = pd.util.hash_pandas_object(territories[cols].astype("string"), index=False).to_numpy().astype("uint64")
    return (tuple(cols), len(territories), int(h.sum(dtype="uint64")),
            int((h * np.arange(1, len(h) + 1, dtype="uint64")).sum(dtype="uint64")))


def _memo(cache: dict, key: tuple, compute, territories: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``compute(territories)``, kept in ``cache`` under ``key`` (at most 17 entries)."""
    hit = cache.get(key)
    if hit is None:
        hit = compute(territories)
        if len(cache) > 16:
            cache.clear()
        cache[key] = hit
    return hit.copy()


def _fingerprint(territories: pd.DataFrame) -> tuple:
    """Return a cheap, content-based key of the columns the hierarchy depends on."""
    return _content_key(territories, _CACHE_COLUMNS)


def code_membership(territories: pd.DataFrame) -> pd.DataFrame:
    """Return the membership of every commune and arrondissement code (cached on content).

    See :func:`_code_membership`.
    """
    return _memo(_MEMBERSHIP_CACHE, _fingerprint(territories), _code_membership, territories)


def _code_membership(territories: pd.DataFrame) -> pd.DataFrame:
    """Return the membership of every commune and arrondissement code.

    Unlike :func:`unit_membership` this also maps a commune that has arrondissements
    (13055) to itself, so that data keyed by the commune rather than by its arrondissements
    still rolls up to the commune, its EPCI and its département.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, unit_level, commune_code, epci_siren, departement_code,
        is_local_unit``; one row per commune or arrondissement code. An arrondissement
        inherits a missing EPCI or département from its parent commune.
    """
    t = _prepare(territories)
    local = t[t["level"].isin(["commune", "arrondissement"])].copy()
    parent = local["commune_code"].where(local["level"] == "arrondissement", local["territory_code"])
    out = pd.DataFrame({
        "unit_code": local["territory_code"],
        "unit_level": local["level"],
        "commune_code": parent,
        "epci_siren": local["epci_siren"],
        "departement_code": local["departement_code"],
    })
    communes = t.loc[t["level"] == "commune", ["territory_code", "epci_siren", "departement_code"]]
    communes = communes.drop_duplicates("territory_code").set_index("territory_code")
    out["epci_siren"] = out["epci_siren"].fillna(out["commune_code"].map(communes["epci_siren"]))
    out["departement_code"] = out["departement_code"].fillna(
        out["commune_code"].map(communes["departement_code"]))
    has_arr = set(out.loc[out["unit_level"] == "arrondissement", "commune_code"].dropna())
    out["is_local_unit"] = ~((out["unit_level"] == "commune") & out["unit_code"].isin(has_arr))
    return out.sort_values("unit_code").reset_index(drop=True)


def unit_membership(territories: pd.DataFrame) -> pd.DataFrame:
    """Return each local unit with its commune, EPCI and département.

    Parameters
    ----------
    territories : pandas.DataFrame
        The bundle's ``territories`` table.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, unit_level, commune_code, epci_siren, departement_code``; one
        row per local unit (see :func:`local_units`). For a commune without
        arrondissements ``commune_code == unit_code``; for 13201 it is ``"13055"``.

    Examples
    --------
    >>> m = unit_membership(territories)
    >>> m.loc[m.unit_code == "13201", "commune_code"].item()  # doctest: +SKIP
    '13055'
    """
    m = code_membership(territories)
    return m.loc[m["is_local_unit"], MEMBERSHIP_COLUMNS].reset_index(drop=True)


def local_units(territories: pd.DataFrame) -> pd.DataFrame:
    """Return the finest territories: communes without arrondissements, and arrondissements.

    These partition the ground: each person or lieu belongs to exactly one of them, so
    summing over local units never double counts Marseille (13055) and its arrondissements.

    Returns
    -------
    pandas.DataFrame
        The rows of ``territories`` that are local units (all its columns), sorted by code.
    """
    codes = set(unit_membership(territories)["unit_code"])
    t = territories.copy()
    mask = stripped_codes(t["territory_code"]).isin(codes).fillna(False).to_numpy(dtype=bool)
    return t.loc[mask].sort_values("territory_code").reset_index(drop=True)


def level_of(territories: pd.DataFrame, code: str) -> str:
    """Return the level of a territory code.

    Parameters
    ----------
    territories : pandas.DataFrame
        The bundle's ``territories`` table.
    code : str
        Territory code (INSEE or SIREN), as a string.

    Returns
    -------
    str
        One of ``'departement', 'epci', 'commune', 'arrondissement'``.

    Raises
    ------
    ValueError
        If ``code`` is not in the table.
    """
    t = _prepare(territories)
    hit = t.loc[t["territory_code"] == str(code).strip(), "level"]
    if hit.empty:
        raise ValueError(f"territoire inconnu : {code!r} (absent du référentiel territorial)")
    return str(hit.iloc[0])


def territory_name(territories: pd.DataFrame, code: str) -> str:
    """Return the name of a territory (raises ``ValueError`` for an unknown code)."""
    level_of(territories, code)
    t = _prepare(territories)
    return str(t.loc[t["territory_code"] == str(code).strip(), "territory_name"].iloc[0])


def members(territories: pd.DataFrame, code: str) -> list:
    """Return the local units that make up a territory.

    Parameters
    ----------
    territories : pandas.DataFrame
        The bundle's ``territories`` table.
    code : str
        Territory code of any level.

    Returns
    -------
    list of str
        Sorted local unit codes: for a département, its communes (with
        ``departement_code == code``) and arrondissements; for an EPCI, all its member
        communes (including those outside the département); for a commune, its
        arrondissements if it has some, else itself; for an arrondissement, itself.

    Raises
    ------
    ValueError
        If ``code`` is not in the table.
    """
    code = str(code).strip()
    level = level_of(territories, code)
    m = unit_membership(territories)
    col = {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code",
           "arrondissement": "unit_code"}[level]
    return sorted(m.loc[(m[col] == code).fillna(False), "unit_code"].tolist())


def member_codes(territories: pd.DataFrame, code: str) -> list:
    """Return every commune or arrondissement code whose rows count for a territory.

    Like :func:`members`, plus the communes with arrondissements (13055) that belong to
    the territory, since data may be keyed by them (a lieu coded 13055 counts for
    Marseille, its EPCI and the département, but for no arrondissement). Use it to filter
    rows keyed by a commune or arrondissement code without double counting.
    """
    code = str(code).strip()
    level = level_of(territories, code)
    if level == "arrondissement":
        return [code]
    cm = code_membership(territories)
    col = {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code"}[level]
    return sorted(cm.loc[(cm[col] == code).fillna(False), "unit_code"].tolist())


def territories_at(territories: pd.DataFrame, level: str, in_scope_only: bool = False) -> list:
    """Return the sorted codes of every territory of one level.

    Parameters
    ----------
    level : {'departement', 'epci', 'commune', 'arrondissement', 'unit'}
        ``'unit'`` returns the local units.
    in_scope_only : bool, default False
        Keep only territories with ``in_scope`` true (drops Pertuis and Saint-Zacharie).
    """
    if level not in AGGREGATE_LEVELS + ("unit",):
        raise ValueError(f"unknown level {level!r}, expected one of {AGGREGATE_LEVELS + ('unit',)}")
    t = _prepare(territories)
    if level == "unit":
        codes = set(unit_membership(territories)["unit_code"])
        sel = t[t["territory_code"].isin(codes)]
    else:
        sel = t[t["level"] == level]
    if in_scope_only:
        sel = sel[sel["in_scope"].fillna(False).astype(bool)]
    return sorted(sel["territory_code"].dropna().unique().tolist())


# --------------------------------------------------------------------------- aggregate
def aggregate(df: pd.DataFrame, territories: pd.DataFrame, value_cols: Sequence[str],
              unit_col: str, levels: Iterable[str] = ("commune", "epci", "departement"),
              how: str = "sum", weight_col: Optional[str] = None,
              by: Optional[Sequence[str]] = None, complete: bool = False) -> pd.DataFrame:
    """Roll values keyed by commune/arrondissement up every territory level in one pass.

    The frame is first reduced to one row per (unit, ``by``) group, joined once to
    :func:`code_membership` (``validate='m:1'``; rows with an unknown code are dropped and
    logged), then grouped by each level's membership column. The work is a handful of
    groupbys whatever the number of territories, so it scales to 35 000 communes and
    millions of rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy input, one row per observation, keyed by ``unit_col``.
    territories : pandas.DataFrame
        The bundle's ``territories`` table.
    value_cols : sequence of str
        Columns to aggregate (numeric; nullable dtypes accepted).
    unit_col : str
        Column holding a commune or arrondissement code (e.g. ``'territory_code'``,
        ``'beneficiary_commune_code'``). A commune code with arrondissements (13055) is
        accepted and counted at commune level and above.
    levels : iterable of {'arrondissement', 'commune', 'epci', 'departement'}
        Levels to produce. ``'commune'`` includes communes with arrondissements (13055 =
        sum of its arrondissements and of rows keyed 13055); ``'departement'`` sums the
        communes whose ``departement_code`` is a département of the table.
    how : {'sum', 'weighted_mean', 'unweighted_mean'}, default 'sum'
        ``'sum'`` for additive counts (all-missing groups give ``NaN``, not 0);
        ``'weighted_mean'`` = sum(value × weight) / sum(weight) over rows where both are
        present (e.g. IFN weighted by population); ``'unweighted_mean'`` = mean over rows
        (e.g. the IFN mean over communes, as La MedNum does for its EPCI file).
    weight_col : str, optional
        Weight column, required for ``'weighted_mean'``.
    by : sequence of str, optional
        Extra grouping columns kept in the output (``'year'``, ``'label'``...).
    complete : bool, default False
        Also return territories (× ``by`` values seen) that have no row: their sums are
        0 and their means ``NaN``.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, *by, *value_cols, n_obs`` where ``n_obs`` is the
        number of input rows behind the figure (for means: rows with a value).

    Raises
    ------
    ValueError
        On an unknown level or ``how``, a missing column, or a missing ``weight_col``.
    """
    levels = list(levels)
    bad = [lv for lv in levels if lv not in AGGREGATE_LEVELS]
    if bad:
        raise ValueError(f"unknown level(s) {bad}, expected among {AGGREGATE_LEVELS}")
    if how not in HOW:
        raise ValueError(f"unknown how {how!r}, expected one of {HOW}")
    if how == "weighted_mean" and not weight_col:
        raise ValueError("how='weighted_mean' needs weight_col")
    value_cols = list(value_cols)
    by = list(by or [])
    needed = [unit_col, *value_cols, *by] + ([weight_col] if how == "weighted_mean" else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"aggregate: columns {missing} not in the frame")
    out_cols = ["level", "territory_code", *by, *value_cols, "n_obs"]

    # 1. reduce to one row per (unit, by) with decomposable partial sums
    work = pd.DataFrame({"unit_code": stripped_codes(df[unit_col])})
    for c in by:
        work[c] = df[c].to_numpy()
    parts = []  # names of partial-sum columns
    for c in value_cols:
        v = pd.to_numeric(df[c], errors="coerce").astype("float64").to_numpy()
        if how == "weighted_mean":
            w = pd.to_numeric(df[weight_col], errors="coerce").astype("float64").to_numpy()
            ok = ~np.isnan(v) & ~np.isnan(w)
            work[f"{c}__num"] = np.where(ok, v * w, np.nan)
            work[f"{c}__den"] = np.where(ok, w, np.nan)
        else:
            work[f"{c}__num"] = v
            work[f"{c}__den"] = (~np.isnan(v)).astype("float64")
        parts += [f"{c}__num", f"{c}__den"]
    work["n_obs"] = 1.0 if how == "sum" else (
        work[[f"{c}__den" for c in value_cols]].gt(0).any(axis=1).astype("float64") if value_cols else 1.0)
    keys = ["unit_code", *by]
    no_code = work["unit_code"].isna()
    if no_code.any():
        log.warning("aggregate(%s): %d of %d rows have no territory code (dropped)",
                    unit_col, int(no_code.sum()), len(work))
        work = work.loc[~no_code.to_numpy(dtype=bool)]
    # min_count=1 keeps all-missing groups missing
    reduced = work.groupby(keys, dropna=False, sort=False)[parts + ["n_obs"]].sum(min_count=1)
    reduced = reduced.reset_index()

    # 2. one membership join
    m = code_membership(territories)
    m = m.assign(arrondissement_code=m["unit_code"].where(m["unit_level"] == "arrondissement"))
    joined = merge_logged(reduced, m.drop(columns=["unit_level", "is_local_unit"]),
                          how="inner", validate="m:1", on="unit_code",
                          what=f"aggregate({unit_col}): unknown territory codes")
    t = _prepare(territories)
    valid = {lv: set(t.loc[t["level"] == lv, "territory_code"]) for lv in AGGREGATE_LEVELS}

    # 3. one groupby per level
    frames = []
    for lv in levels:
        col = _LEVEL_COLUMN[lv]
        sub = joined[_isin(joined[col], valid[lv])]
        g = sub.groupby([col, *by], dropna=False, sort=True)[parts + ["n_obs"]].sum(min_count=1)
        g = g.reset_index().rename(columns={col: "territory_code"})
        if complete:
            g = _complete(g, sorted(valid[lv]), by, reduced)
        g.insert(0, "level", lv)
        frames.append(g)
    res = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=out_cols)
    for c in value_cols:
        num, den = res[f"{c}__num"].astype("float64"), res[f"{c}__den"].astype("float64")
        if how == "sum":
            # present with values: the sum; absent (only with complete=True): 0;
            # present but every value missing: NaN
            res[c] = np.where(den.fillna(0) > 0, num, np.where(den.isna(), 0.0, np.nan))
        else:
            res[c] = (num / den).where(den.fillna(0) > 0)
    res["n_obs"] = res["n_obs"].fillna(0).astype("int64")
    res["territory_code"] = res["territory_code"].astype("string")
    res["level"] = res["level"].astype("string")
    return res[out_cols].reset_index(drop=True)


def _complete(g: pd.DataFrame, codes: list, by: list, reduced: pd.DataFrame) -> pd.DataFrame:
    """Reindex ``g`` on every territory code × every ``by`` combination seen in the data."""
    if by:
        combos = reduced[by].drop_duplicates()
        full = pd.DataFrame({"territory_code": codes}).merge(combos, how="cross")
    else:
        full = pd.DataFrame({"territory_code": codes})
    full["territory_code"] = full["territory_code"].astype(g["territory_code"].dtype)
    return full.merge(g, how="left", on=["territory_code", *by], validate="1:1")


# --------------------------------------------------------------------------- populations
def unit_populations(territories: pd.DataFrame, populations: pd.DataFrame,
                     year: Optional[int] = None) -> pd.DataFrame:
    """Return the population of every local unit for one millésime.

    A commune with arrondissements (13055) is counted through its arrondissements; if the
    arrondissements lack the year but the commune row has it, the commune row stands in
    for them (unit_code ``13055``) so the total is still right at commune level and above.

    Parameters
    ----------
    year : int, optional
        INSEE millésime; the latest year of ``populations`` when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code, population, population_year``; units lacking the year have a
        missing ``population`` (never 0).
    """
    pops = pd.DataFrame({"unit_code": stripped_codes(populations["territory_code"]),
                         "year": pd.to_numeric(populations["year"]).astype("int64"),
                         "population": pd.to_numeric(populations["population"]).astype("float64")})
    if year is None:
        if pops.empty:
            raise ValueError("aucune population dans le référentiel")
        year = int(pops["year"].max())
    year = int(year)
    py = pops[pops["year"] == year].drop_duplicates("unit_code")
    cm = code_membership(territories)
    units = cm[cm["is_local_unit"]][["unit_code", "commune_code"]]
    u = merge_logged(units, py[["unit_code", "population"]], how="left", validate="1:1",
                     on="unit_code", what=f"unit_populations({year}): local units without population")
    # stand-in: a commune with arrondissements whose arrondissements all lack the year
    arr = u[u["unit_code"] != u["commune_code"]]
    lacking = arr.groupby("commune_code")["population"].apply(lambda s: s.isna().all())
    stand_in = [c for c in lacking[lacking].index if c in set(py["unit_code"])]
    if stand_in:
        u = u[~u["commune_code"].isin(stand_in) | (u["unit_code"] == u["commune_code"])]
        extra = py[py["unit_code"].isin(stand_in)][["unit_code", "population"]].assign(
            commune_code=lambda d: d["unit_code"])
        u = pd.concat([u, extra], ignore_index=True)
    u["population_year"] = year
    return u[["unit_code", "population", "population_year"]].sort_values("unit_code").reset_index(drop=True)


def territory_population(territories: pd.DataFrame, populations: pd.DataFrame, code: str,
                         year: Optional[int] = None) -> tuple:
    """Return a territory's population as the sum over its local units, with its millésime.

    Parameters
    ----------
    territories, populations : pandas.DataFrame
        The bundle's ``territories`` and ``populations`` tables. Published EPCI or
        département rows of ``populations`` are not used: the figure is always the sum of
        the units, so that levels add up.
    code : str
        Territory code of any level.
    year : int, optional
        INSEE millésime. When omitted, the latest year for which every unit has a value.

    Returns
    -------
    tuple of (int, int)
        ``(population, year_used)``.

    Raises
    ------
    ValueError
        For an unknown code, or when some units lack that year (the message names them
        and the years they have, e.g. Pertuis 84089 has no 2020 figure).

    Examples
    --------
    >>> territory_population(territories, populations, "13055", 2023)  # doctest: +SKIP
    (886040, 2023)
    """
    code = str(code).strip()
    level = level_of(territories, code)  # raises on unknown code
    if not members(territories, code):
        raise ValueError(f"le territoire {code} n'a aucune commune dans le référentiel")
    pops = pd.DataFrame({"unit_code": stripped_codes(populations["territory_code"]),
                         "year": pd.to_numeric(populations["year"]).astype("int64")})
    years = [int(year)] if year is not None else sorted(set(pops["year"]), reverse=True)
    if not years:
        raise ValueError("aucune population dans le référentiel")
    cm = code_membership(territories).set_index("unit_code")
    col = {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code",
           "arrondissement": None}[level]
    first = None
    for y in years:
        up = unit_populations(territories, populations, y)
        if col is None:
            sel = up[up["unit_code"] == code]
        else:
            sel = up[(up["unit_code"].map(cm[col]) == code).fillna(False).to_numpy(dtype=bool)]
        missing = sel.loc[sel["population"].isna(), "unit_code"].tolist()
        if len(sel) and not missing:
            return int(round(sel["population"].sum())), y
        if first is None:
            first = (y, missing or members(territories, code))
    y, missing = first
    have = pops[pops["unit_code"].isin(missing)].groupby("unit_code")["year"].apply(
        lambda s: ", ".join(str(v) for v in sorted(set(s))))
    names = _prepare(territories).drop_duplicates("territory_code").set_index("territory_code")["territory_name"]
    detail = "; ".join(f"{names.get(u, u)} ({u}) : millésimes disponibles {have.get(u, 'aucun')}"
                       for u in sorted(set(missing)))
    if year is None:
        raise ValueError(f"aucun millésime de population n'est complet pour le territoire {code} — {detail}")
    raise ValueError(f"population {y} incomplète pour le territoire {code} : "
                     f"{len(set(missing))} unité(s) sans population {y} — {detail}")


def population_by_territory(territories: pd.DataFrame, populations: pd.DataFrame,
                            year: Optional[int] = None,
                            levels: Iterable[str] = ("arrondissement", "commune", "epci", "departement"),
                            ) -> pd.DataFrame:
    """Return the population of every territory of the given levels, for one millésime.

    Each figure is the sum over local units (:func:`unit_populations`), computed in one
    :func:`aggregate` pass.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, territory_code, population, population_year, n_units,
        n_units_missing``; ``population`` is missing (not 0) when every unit lacks the
        year, and ``n_units_missing > 0`` says the figure is incomplete.
    """
    up = unit_populations(territories, populations, year)
    yr = int(up["population_year"].iloc[0]) if len(up) else year
    up = up.assign(has_pop=up["population"].notna().astype("int64"),
                   lacks_pop=up["population"].isna().astype("int64"), one=1)
    agg = aggregate(up, territories, ["population", "has_pop", "lacks_pop", "one"], "unit_code",
                    levels=levels, how="sum", complete=True)
    agg["population"] = agg["population"].where(agg["has_pop"] > 0)
    return pd.DataFrame({
        "level": agg["level"], "territory_code": agg["territory_code"],
        "population": agg["population"].astype("Int64"),
        "population_year": yr,
        "n_units": agg["one"].astype("int64"),
        "n_units_missing": agg["lacks_pop"].astype("int64"),
    })
