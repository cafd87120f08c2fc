"""National scale: a bundle for all of France and the one-pass evaluation of every territory.

The State's agency runs fne-eval for the 101 départements, 1 255 EPCI and 35 000 communes
at once. This module builds that bundle and evaluates it:

* :func:`national_reference_tables` reads ``fne_eval/data/national/`` (every commune and
  municipal arrondissement with its INSEE population, every EPCI, the IFN of both; see
  ``fne_eval/data/PROVENANCE.md`` section 6) into the bundle's ``territories``,
  ``populations`` and ``ifn`` tables;
* :func:`national_tables` / :func:`build_national_bundle` add placeholder lieux
  (:func:`fne_eval.build.synthetic.synthetic_lieux`) and a **synthetic** activity table of
  any size made by the package's seeded generator
  (:func:`fne_eval.build.synthetic.generate_activities`), and keep the roadmap and the
  other monitoring tables of the embedded bundle;
* :func:`evaluate_all_levels` computes the territorial indicators of every territory of
  every level in one pass over the activity table: the records are reduced once to one
  row per (local unit, year) with integer bincounts, then rolled up every level by
  :func:`fne_eval.core.territory.aggregate` (a few groupbys, never a loop over territories).
  :func:`evaluate_per_territory` is the naive alternative (filter the table once per
  territory), kept as the benchmark's baseline and as an independent check.

Rows whose beneficiary commune is unknown are counted at no territorial level (they
have no territory to roll up to); ``evaluate_all_levels`` logs how many.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from fne_eval.build.synthetic import DEFAULT_AS_OF, DEFAULT_SEED, generate_activities, synthetic_lieux
from fne_eval.bundle import load_bundle
from fne_eval.bundle.io import Bundle, coerce_table, write_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.core.paths import NATIONAL_DIR
from fne_eval.core.territory import (AGGREGATE_LEVELS, aggregate, code_membership, population_by_territory,
                                     unit_populations)

log = logging.getLogger(__name__)

#: Communes holding municipal arrondissements (Paris, Lyon, Marseille), by the
#: département prefix of their arrondissements' codes.
ARRONDISSEMENT_PARENTS = {"75": "75056", "69": "69123", "13": "13055"}
#: Département of the roadmap: its territories are ``in_scope`` (the others are context).
ROADMAP_DEPARTEMENT = "13"
#: INSEE millésime of ``communes_france.csv`` populations (PROVENANCE.md section 6).
COMMUNE_POPULATION_YEAR = 2023
#: DGCL millésime of ``epci_france.csv`` populations (published figures).
EPCI_POPULATION_YEAR = 2022
IFN_VARIANT = "tout_age"
IFN_VINTAGE = "2021"
IFN_COLUMNS = ("no_thd_coverage_rate", "no_4g_coverage_rate", "poverty_rate", "older_65_rate", "nscol15p_rate")
#: Levels :func:`evaluate_all_levels` produces by default.
LEVELS = ("arrondissement", "commune", "epci", "departement")
#: Columns of :func:`evaluate_all_levels`' result.
RESULT_COLUMNS = ["level", "territory_code", "year", "n_activities", "participants", "n_collective",
                  "duration_h", "n_lieux", "population", "population_year", "accompaniments_per_1000",
                  "lieux_per_10000", "ifn_total"]

_SOURCE_COMMUNES = ("COG et populations municipales INSEE (millésime 2023), via "
                    "@etalab/decoupage-administratif 6.0.0 (npm) — national/communes_france.csv")
_SOURCE_EPCI = "Liste des EPCI à fiscalité propre (DGCL 2025) — national/epci_france.csv"
_SOURCE_DEP = "Départements des communes de national/communes_france.csv"
_SOURCE_IFN = "Indice de fragilité numérique — La MedNum, via ANCT — national/ifn_{}_france.csv"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    table = TABLES[name]
    for c in table.column_names:
        if c not in df.columns:
            df[c] = None
    return coerce_table(df[table.column_names].reset_index(drop=True), table)


# --------------------------------------------------------------------------- reference
def national_reference_tables(national_dir: Union[str, Path] = NATIONAL_DIR) -> dict:
    """Build the ``territories``, ``populations`` and ``ifn`` tables of all of France.

    Départements are those of the communes (named "Département XX": the national files
    carry no département names); every EPCI of ``epci_france.csv``; every commune and the
    45 municipal arrondissements of Paris, Lyon and Marseille (``commune_code`` = 75056,
    69123, 13055; their EPCI is their commune's). ``in_scope`` marks the roadmap's
    territories as in the embedded bundle (the département 13, its communes and
    arrondissements, the 4 EPCI that hold them); a national plan selects ``scope: all``.
    The impact section's difference-in-differences is estimated on in-scope units only.

    Parameters
    ----------
    national_dir : str or Path
        Folder holding ``communes_france.csv``, ``epci_france.csv``,
        ``ifn_communes_france.csv`` and ``ifn_epci_france.csv``.

    Returns
    -------
    dict of str to pandas.DataFrame
        Typed ``territories``, ``populations`` (communes and arrondissements, millésime
        2023; EPCI as published, millésime 2022) and ``ifn`` (variant ``tout_age``,
        vintage ``2021``).
    """
    d = Path(national_dir)
    com = _read(d / "communes_france.csv")
    epci = _read(d / "epci_france.csv")
    is_arr = (com["type"] == "arrondissement-municipal").to_numpy()
    parent = com["code_insee"].str[:2].map(ARRONDISSEMENT_PARENTS).where(is_arr)
    bad = com.loc[is_arr & parent.isna().to_numpy(), "code_insee"].tolist()
    if bad:
        raise ValueError(f"arrondissements without a known parent commune: {bad[:5]}")
    epci_of = dict(zip(com["code_insee"], com["epci_siren"]))
    epci_siren = com["epci_siren"].where(~is_arr, parent.map(epci_of)).replace("", None)
    deps = sorted(set(com["departement"]) - {""})
    territories = pd.concat([
        pd.DataFrame({"territory_code": deps, "territory_name": [f"Département {c}" for c in deps],
                      "level": "departement", "departement_code": deps, "in_scope": True, "source": _SOURCE_DEP}),
        pd.DataFrame({"territory_code": epci["siren"], "territory_name": epci["nom"], "level": "epci",
                      "in_scope": True, "source": _SOURCE_EPCI}),
        pd.DataFrame({"territory_code": com["code_insee"], "territory_name": com["nom"],
                      "level": np.where(is_arr, "arrondissement", "commune"),
                      "departement_code": com["departement"].replace("", None), "epci_siren": epci_siren,
                      "commune_code": parent, "in_scope": True, "source": _SOURCE_COMMUNES}),
    ], ignore_index=True)
    # the roadmap is the Bouches-du-Rhône's: in scope are the 13, its communes and arrondissements and
    # the EPCI that hold one of them (as in the embedded bundle); the rest of France is context
    dep = territories["departement_code"].fillna("")
    in_13 = (dep == ROADMAP_DEPARTEMENT).to_numpy()
    epci_13 = set(territories.loc[in_13, "epci_siren"].dropna())
    territories["in_scope"] = in_13 | territories["territory_code"].isin(epci_13).to_numpy()
    known_epci = set(epci["siren"])
    orphan = territories["epci_siren"].notna() & ~territories["epci_siren"].isin(known_epci)
    if orphan.any():
        log.warning("national territories: %d communes name an EPCI absent from epci_france.csv (cleared)",
                    int(orphan.sum()))
        territories.loc[orphan, "epci_siren"] = None

    pop_c = com[com["population"] != ""]
    populations = pd.concat([
        pd.DataFrame({"territory_code": pop_c["code_insee"], "year": COMMUNE_POPULATION_YEAR,
                      "population": pop_c["population"], "source": _SOURCE_COMMUNES}),
        pd.DataFrame({"territory_code": epci["siren"], "year": EPCI_POPULATION_YEAR,
                      "population": epci["population_municipale"], "source": _SOURCE_EPCI}),
    ], ignore_index=True)
    populations = populations[populations["population"] != ""]

    frames = []
    for kind in ("communes", "epci"):
        raw = _read(d / f"ifn_{kind}_france.csv")
        df = raw.rename(columns={"code": "territory_code", "total": "ifn_total"})
        df = df[df["territory_code"].isin(set(territories["territory_code"]))]
        df = df.assign(variant=IFN_VARIANT, vintage=IFN_VINTAGE, source=_SOURCE_IFN.format(kind))
        frames.append(df)
    ifn = pd.concat(frames, ignore_index=True).drop_duplicates(["territory_code"])
    return {"territories": _typed("territories", territories),
            "populations": _typed("populations", populations),
            "ifn": _typed("ifn", ifn)}


# --------------------------------------------------------------------------- bundle
def national_lieux(territories: pd.DataFrame, populations: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Return placeholder lieux for all of France, complete enough to pass validation.

    :func:`fne_eval.build.synthetic.synthetic_lieux` places them (one per 9 238
    inhabitants); the placeholders' ``code_postal`` is the département's ``XX000``
    (``20000`` for Corsica) and ``date_maj`` the data date, both stated as synthetic in
    ``source``.
    """
    lieux = synthetic_lieux(territories, populations, rng=seed)
    code = lieux["territory_code"].astype(str)
    dep = code.str[:2].replace({"2A": "20", "2B": "20"})
    dep = dep.where(~code.str.startswith("97"), code.str[:3])
    lieux["code_postal"] = (dep + "000").str[:5].astype(lieux["code_postal"].dtype)
    lieux["date_maj"] = pd.Timestamp(DEFAULT_AS_OF)
    lieux["source"] = "Lieu fictif (fne-eval, placement synthétique), code postal indicatif"
    return lieux


def national_tables(n_activities: int = 1_000_000, seed: Optional[int] = None, compact: bool = True,
                    national_dir: Union[str, Path] = NATIONAL_DIR) -> tuple:
    """Assemble every table of a national bundle with ``n_activities`` synthetic records.

    Parameters
    ----------
    n_activities : int, default 1 000 000
        Exact number of activity records (10 million for the national benchmark).
    seed : int, optional
        Seed of the generator (default :data:`fne_eval.build.synthetic.DEFAULT_SEED`).
    compact : bool, default True
        Categorical code columns in ``activities`` (a fraction of the memory).
    national_dir : str or Path
        Folder of the national reference files.

    Returns
    -------
    tuple
        ``(tables, meta)``: typed tables (roadmap and other monitoring tables from the
        embedded bundle) and the ``bundle.json`` metadata, flagged synthetic.
    """
    seed = DEFAULT_SEED if seed is None else int(seed)
    base = load_bundle(None, validate=False)
    tables = dict(base.tables)
    tables.update(national_reference_tables(national_dir))
    tables["lieux"] = national_lieux(tables["territories"], tables["populations"], seed)
    tables["activities"] = generate_activities(tables["lieux"], tables["territories"], tables["populations"],
                                               tables["ifn"], n=int(n_activities), rng=seed, compact=compact)
    meta = dict(base.meta)
    meta.update({
        "name": f"fne-eval — bundle national ({n_activities:,} accompagnements synthétiques)".replace(",", " "),
        "description": ("Bundle national de fne-eval : référentiel réel de toute la France (départements, EPCI, "
                        "communes, arrondissements municipaux, populations INSEE, IFN) ; lieux et accompagnements "
                        "SYNTHÉTIQUES ; feuille de route et autres tables de suivi du bundle embarqué."),
        "is_synthetic": True,
        "synthetic_tables": sorted(set(meta.get("synthetic_tables") or []) | {"activities", "lieux"}),
        "generator": {"module": "fne_eval.build.synthetic", "seed": seed, "n_activities": int(n_activities)},
    })
    return tables, meta


def build_national_bundle(out: Optional[Union[str, Path]] = None, n_activities: int = 1_000_000,
                          seed: Optional[int] = None, national_dir: Union[str, Path] = NATIONAL_DIR):
    """Build a national bundle, in memory or written to a folder.

    Parameters
    ----------
    out : str or Path, optional
        Folder to write (CSV tables, ``activities`` as Parquet for speed); when omitted
        the bundle is only returned.
    n_activities, seed, national_dir :
        As :func:`national_tables`.

    Returns
    -------
    fne_eval.bundle.Bundle or Path
        The in-memory bundle, or ``out`` once written.
    """
    tables, meta = national_tables(n_activities, seed, compact=out is None, national_dir=national_dir)
    if out is None:
        return Bundle(tables=tables, meta=meta, source="national (en mémoire)", hash="")
    out = Path(out)
    act = tables.pop("activities")
    write_bundle(tables, out, meta)
    csv = out / "activities.csv"
    if csv.exists():
        csv.unlink()
    tmp = out / ".activities.parquet.tmp"
    act.to_parquet(tmp, index=False)
    tmp.replace(out / "activities.parquet")
    return out


# --------------------------------------------------------------------------- evaluation
def table_or_empty(bundle_or_tables, name: str) -> pd.DataFrame:
    if isinstance(bundle_or_tables, dict):
        return bundle_or_tables[name]
    return bundle_or_tables[name]


def _factorize(s: pd.Series) -> tuple:
    """Return ``(codes, uniques)`` of a code column, categorical or string (-1 = missing)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.asarray(s.cat.categories.astype(str), dtype=object)
        return s.cat.codes.to_numpy(dtype=np.int64), cats
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray([str(u) for u in uniques], dtype=object)


def _reduce_by_unit_year(act: pd.DataFrame) -> pd.DataFrame:
    """Reduce activity records to one row per (beneficiary unit, year) with bincounts.

    One vectorised pass over the records: integer keys ``unit * n_years + year`` and
    :func:`numpy.bincount` sums; no string operation on the records.
    """
    codes, uniques = _factorize(act["beneficiary_commune_code"])
    years = act["date"].to_numpy().astype("datetime64[Y]").astype(np.int64) + 1970
    ok = codes >= 0
    n_unknown = int((~ok).sum())
    if n_unknown:
        log.info("evaluate_all_levels: %d of %d records have no beneficiary commune (counted at no level)",
                 n_unknown, len(act))
    if not len(act) or not ok.any():
        return pd.DataFrame({"unit_code": pd.Series([], dtype="string"), "year": pd.Series([], dtype="int64"),
                             "n_activities": [], "participants": [], "n_collective": [], "duration_min": []})
    y0 = int(years[ok].min())
    ny = int(years[ok].max()) - y0 + 1
    key = codes[ok] * ny + (years[ok] - y0)
    size = len(uniques) * ny
    counts = np.bincount(key, minlength=size)
    part = np.bincount(key, weights=act["participants"].to_numpy(dtype=np.float64)[ok], minlength=size)
    dur = np.bincount(key, weights=act["duration_min"].to_numpy(dtype=np.float64)[ok], minlength=size)
    coll = np.bincount(key, weights=(act["activity_type"].to_numpy() == "collectif")[ok].astype(np.float64),
                       minlength=size)
    nz = np.flatnonzero(counts)
    return pd.DataFrame({
        "unit_code": pd.array(uniques[nz // ny], dtype="string"),
        "year": (nz % ny + y0).astype(np.int64),
        "n_activities": counts[nz].astype(np.float64),
        "participants": part[nz],
        "n_collective": coll[nz],
        "duration_min": dur[nz],
    })


def _rate(num: pd.Series, den: pd.Series, per: float) -> pd.Series:
    num = num.astype("float64")
    den = den.astype("float64")
    return (num / den * per).where(den > 0)


def evaluate_all_levels(bundle, levels: Iterable[str] = LEVELS, years: Optional[Sequence[int]] = None,
                        population_year: Optional[int] = None) -> pd.DataFrame:
    """Compute the territorial indicators of every territory of every level in one pass.

    For each territory and year: accompaniment records (``n_activities``), people
    accompanied (``participants``, indicator ACC_N), collective workshops, hours of
    accompaniment, lieux (LIEUX_N), population with its millésime, accompaniments per
    1 000 inhabitants (ACC_PER_1000 = participants / population × 1 000), lieux per
    10 000 inhabitants (LIEUX_PER_10K) and the population-weighted IFN.

    The activity table is read once (:func:`_reduce_by_unit_year`); everything else is a
    handful of :func:`fne_eval.core.territory.aggregate` passes over at most (units × years)
    rows, whatever the number of territories.

    Parameters
    ----------
    bundle : fne_eval.bundle.Bundle or dict of str to pandas.DataFrame
        Needs ``territories``, ``populations``, ``ifn``, ``lieux`` and ``activities``.
    levels : iterable of {'arrondissement', 'commune', 'epci', 'departement'}
        Levels to produce.
    years : sequence of int, optional
        Keep only these years of activity (default: every year with a record).
    population_year : int, optional
        INSEE millésime of the populations (default: the latest).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; one row per territory of the levels × year, with
        zero counts for territories without a record (``complete``). Rates are missing
        when the population is.

    Raises
    ------
    ValueError
        On an unknown level.
    """
    levels = list(levels)
    bad = [lv for lv in levels if lv not in AGGREGATE_LEVELS]
    if bad:
        raise ValueError(f"unknown level(s) {bad}, expected among {AGGREGATE_LEVELS}")
    terr = table_or_empty(bundle, "territories")
    reduced = _reduce_by_unit_year(table_or_empty(bundle, "activities"))
    if years is not None:
        reduced = reduced[reduced["year"].isin([int(y) for y in years])]
    value_cols = ["n_activities", "participants", "n_collective", "duration_min"]
    acts = aggregate(reduced, terr, value_cols, "unit_code", levels=levels, by=["year"], complete=True)
    if years is not None and len(acts) == 0:
        acts = acts.astype({"year": "int64"})

    lieux = table_or_empty(bundle, "lieux")
    lcodes, luniq = _factorize(lieux["territory_code"])
    lcount = np.bincount(lcodes[lcodes >= 0], minlength=len(luniq))
    lframe = pd.DataFrame({"unit_code": pd.array(luniq, dtype="string"), "n_lieux": lcount.astype(np.float64)})
    lagg = aggregate(lframe, terr, ["n_lieux"], "unit_code", levels=levels, complete=True)

    pops = population_by_territory(terr, table_or_empty(bundle, "populations"), population_year, levels=levels)

    ifn = table_or_empty(bundle, "ifn")
    ifn = ifn[ifn["variant"].astype(str) == IFN_VARIANT] if "variant" in ifn.columns else ifn

    up = unit_populations(terr, table_or_empty(bundle, "populations"), population_year)
    w = up.merge(pd.DataFrame({"unit_code": ifn["territory_code"].astype("string"),
                               "ifn_total": pd.to_numeric(ifn["ifn_total"], errors="coerce")})
                 .drop_duplicates("unit_code"), how="left", on="unit_code", validate="1:1")
    iagg = aggregate(w, terr, ["ifn_total"], "unit_code", levels=levels, how="weighted_mean",
                     weight_col="population")

    keys = ["level", "territory_code"]
    out = acts.merge(lagg[keys + ["n_lieux"]], how="left", on=keys, validate="m:1")
    out = out.merge(pops[keys + ["population", "population_year"]], how="left", on=keys, validate="m:1")
    out = out.merge(iagg[keys + ["ifn_total"]], how="left", on=keys, validate="m:1")
    out["duration_h"] = out["duration_min"] / 60.0
    for c in ("n_activities", "participants", "n_collective", "n_lieux"):
        out[c] = out[c].fillna(0).round().astype("int64")
    out["accompaniments_per_1000"] = _rate(out["participants"], out["population"], 1_000)
    out["lieux_per_10000"] = _rate(out["n_lieux"], out["population"], 10_000)
    out["year"] = out["year"].astype("int64")
    order = {lv: i for i, lv in enumerate(LEVELS)}
    out = out.sort_values(["level", "territory_code", "year"], key=lambda s: s.map(order) if s.name == "level" else s)
    return out[RESULT_COLUMNS].reset_index(drop=True)


def evaluate_per_territory(bundle, codes: Sequence[str], years: Optional[Sequence[int]] = None) -> pd.DataFrame:
    """Compute accompaniments and people of each territory by filtering the table once per territory.

    The naive way (what a loop of per-territory reports does): for every territory, the
    activity rows whose beneficiary code is one of its
    :func:`fne_eval.core.territory.member_codes` are selected, then counted by year. Kept as
    the benchmark's baseline and as an independent check of :func:`evaluate_all_levels`.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory_code, year, n_activities, participants``.
    """
    terr = table_or_empty(bundle, "territories")
    act = table_or_empty(bundle, "activities")
    cm = code_membership(terr)
    levels = dict(zip(terr["territory_code"].astype(str), terr["level"].astype(str)))
    col = {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code"}
    bcode = act["beneficiary_commune_code"]
    year = act["date"].dt.year
    rows = []
    for code in codes:
        code = str(code)
        lv = levels[code]
        members = [code] if lv == "arrondissement" else cm.loc[(cm[col[lv]] == code).fillna(False), "unit_code"]
        sel = bcode.isin(list(members)).to_numpy(dtype=bool)
        g = act.loc[sel, ["participants"]].groupby(year[sel].to_numpy())["participants"].agg(["size", "sum"])
        for y, r in g.iterrows():
            if years is None or int(y) in years:
                rows.append((code, int(y), int(r["size"]), int(r["sum"])))
    return pd.DataFrame(rows, columns=["territory_code", "year", "n_activities", "participants"])


def main(argv: Optional[list] = None) -> int:
    """Write a national bundle: ``python -m fne_eval.evaluate.national OUT [--activities N] [--seed S]``."""
    p = argparse.ArgumentParser(prog="python -m fne_eval.evaluate.national",
                                description="Écrit un bundle national (référentiel réel, accompagnements synthétiques).")
    p.add_argument("out", help="dossier du bundle à écrire")
    p.add_argument("--activities", type=int, default=1_000_000, help="nombre d'accompagnements synthétiques")
    p.add_argument("--seed", type=int, default=None, help="graine du générateur")
    args = p.parse_args(argv)
    if args.activities < 0:
        p.error("--activities doit être positif")
    out = build_national_bundle(args.out, n_activities=args.activities, seed=args.seed)
    print(f"bundle national écrit : {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
