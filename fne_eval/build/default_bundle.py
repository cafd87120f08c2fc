"""Build the embedded default bundle from the reference data and the roadmap transcription.

The default bundle (``fne_eval/data/default_bundle/``) is what every command and notebook
reads when no bundle is given. It assembles:

- the **reference tables** (``territories``, ``populations``, ``ifn``, ``context_figures``,
  ``exposed_communes``) built from ``fne_eval/data/reference/`` (real data, see
  ``fne_eval/data/PROVENANCE.md``) and from the hand transcriptions of the seed in
  ``fne_eval/data/roadmap/`` (see ``fne_eval/data/roadmap/SOURCES.md``);
- the **roadmap tables** (``axes``, ``actions``, ``budget_lines``, ``schedule_tasks``, and
  ``indicators`` / ``meteo_overrides`` when their CSV exists), read from
  ``fne_eval/data/roadmap/``;
- the ``lieux`` table (real, Hub du Sud 2023, via :mod:`fne_eval.ingest.opendata`);
- the **synthetic monitoring tables** made by :func:`fne_eval.build.synthetic.generate_monitoring`
  with a fixed seed, declared as synthetic in ``bundle.json``.

Rebuild the committed folder with::

    python -m fne_eval.build.default_bundle

The build is deterministic: two runs give byte-identical files.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from fne_eval.bundle.io import coerce_table, write_bundle
from fne_eval.build.synthetic import generate_monitoring
from fne_eval.bundle.spec import TABLES, table_names
from fne_eval.core.communes import resolve_commune
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR, REFERENCE_DIR, ROADMAP_DIR, SAMPLES_DIR
from fne_eval.ingest.opendata import read_lieux_hubdusud_2023

log = logging.getLogger(__name__)

#: Seed of the synthetic monitoring generator for the embedded bundle.
DEFAULT_SEED = 20241
#: Date of the (synthetic) monitoring data of the embedded bundle.
DATA_AS_OF = "2026-10-31"
ROADMAP_NAME = "Feuille de route FNE Bouches-du-Rhône 2024-2027"

DEPARTEMENT_CODE = "13"
DEPARTEMENT_NAME = "Bouches-du-Rhône"
MARSEILLE = "13055"
#: INSEE millésimes of the commune populations in ``reference/`` (PROVENANCE.md section 1).
POPULATION_YEARS = (2020, 2021, 2022, 2023)

# --------------------------------------------------------------------------- source texts
_DA = "@etalab/decoupage-administratif"
SOURCE_COG = f"COG 2026 (INSEE), via {_DA} 6.0.0 (npm) — reference/{{file}}"
SOURCE_EPCI = f"Liste et composition des EPCI (DGCL), via {_DA} 6.0.0 (npm) — reference/epci_13.csv"
SOURCE_OUTSIDE = (f"Membre de la Métropole hors département : COG 2026 et composition DGCL via {_DA} 6.0.0 "
                  "— reference/epci_membres_13.csv")
#: Source of each commune / arrondissement population millésime (communes.json of the package version).
SOURCE_POP_COMMUNE = {
    2020: f"INSEE, population municipale millésime 2020 — {_DA} 3.1.1 data/communes.json — reference/{{file}}",
    2021: f"INSEE, population municipale millésime 2021 — {_DA} 4.0.0 data/communes.json — reference/{{file}}",
    2022: f"INSEE, population municipale millésime 2022 — {_DA} 4.1.0 data/communes.json — reference/{{file}}",
    2023: f"INSEE, population municipale millésime 2023 — {_DA} 6.0.0 data/communes.json — reference/{{file}}",
}
#: Pertuis and Saint-Zacharie are only in the EPCI member lists (no 2020 figure there).
SOURCE_POP_OUTSIDE = {
    2021: (f"INSEE, population municipale millésime 2021 — DGCL 2024, {_DA} 4.0.0 data/epci.json (membres) "
           "— reference/epci_membres_13.csv"),
    2022: (f"INSEE, population municipale millésime 2022 — DGCL 2025, {_DA} 6.0.0 data/epci.json (membres) "
           "— reference/epci_membres_13.csv"),
    2023: (f"INSEE, population municipale millésime 2023 — {_DA} 6.0.0 data/communes.json "
           "— reference/epci_membres_13.csv"),
}
#: Published EPCI populations. epci_13.csv's pop_mun_2023 is a sum of member communes made by
#: the extraction script (PROVENANCE.md, extract_cog13.py), not a published figure: not stored.
SOURCE_POP_EPCI = {
    2021: (f"DGCL 2024 (liste et composition des EPCI), population municipale millésime 2021 publiée — "
           f"{_DA} 4.0.0 data/epci.json — reference/epci_13.csv"),
    2022: (f"DGCL 2025 (liste et composition des EPCI), population municipale millésime 2022 publiée — "
           f"{_DA} 6.0.0 data/epci.json (identique aux versions 5.0.1 à 5.3.0) — reference/epci_13.csv"),
}
IFN_ATTRIBUTION = "Indice de fragilité numérique — La MedNum, via ANCT"
IFN_COMMIT = "github:inclusion-numerique/inclusion-numerique@a15f92000cadd0e1cfcdb5bd9c25ff7b8ccf6d8c"
IFN_FILES = {
    "city": "apps/web/public/data/ifn-city-all-variation.csv",
    "epci": "apps/web/public/data/ifn-epci-all-variation.csv",
}
IFN_VARIANT = "tout_age"
#: « données de la MedNum calculées en 2021 » (ANCT, Mon Inclusion Numérique).
IFN_VINTAGE = "2021"
IFN_COLUMNS = ("no_thd_coverage_rate", "no_4g_coverage_rate", "poverty_rate", "older_65_rate", "nscol15p_rate")

#: One line per source of the embedded bundle, with licence or attribution (bundle.json).
SOURCES = (
    "Code officiel géographique 2026 et populations légales INSEE (millésimes 2020 à 2023), liste et "
    "composition des EPCI (DGCL 2024 et 2025), via @etalab/decoupage-administratif 3.1.1, 4.0.0, 4.1.0 et "
    "6.0.0 (npm) — Licence Ouverte (Etalab)",
    f"{IFN_ATTRIBUTION} : données calculées en 2021, fichiers ifn-city-all-variation.csv et "
    f"ifn-epci-all-variation.csv de {IFN_COMMIT} — conditions de réutilisation des données à confirmer "
    "(le dépôt est sous AGPL-3.0 et ne précise pas de licence pour ces fichiers)",
    f"{ROADMAP_NAME} (Préfecture des Bouches-du-Rhône, Métropole Aix-Marseille-Provence, Hub du Sud) : "
    "axes, actions, budget, chronogramme, chiffres de l'état des lieux et annexe 3, transcrits à la main "
    "(fne_eval/data/roadmap/SOURCES.md)",
)
SOURCE_LIEUX = (
    "Lieux de médiation numérique du Hub du Sud (export de la cartographie nationale du 17/05/2023, "
    "github:anct-cartographie-nationale/client-application@8b2dea590c4f0d08a45f6c569184e8463864a63c), "
    "colonnes de contact retirées — Licence Ouverte 2.0"
)
SOURCE_SYNTHETIC = (
    "Données de suivi synthétiques générées par {module} (graine {seed}, données au {as_of}) : "
    "fictives, pour démonstration uniquement"
)

#: Roadmap tables read from ``ROADMAP_DIR`` (file name = table name + ``.csv``).
ROADMAP_TABLES = ("axes", "actions", "budget_lines", "schedule_tasks")
#: Roadmap tables owned by another module: read when their CSV exists, else empty.
OPTIONAL_ROADMAP_TABLES = ("indicators", "meteo_overrides")

_LEVEL_ORDER = {"departement": 0, "epci": 1, "commune": 2, "arrondissement": 3}


# --------------------------------------------------------------------------- helpers
def _read_text(path: Path) -> pd.DataFrame:
    """Read a UTF-8 CSV with every cell as text ("" for empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the spec's columns of ``name``, typed as loading types them."""
    return coerce_table(df, TABLES[name])


def _empty(name: str) -> pd.DataFrame:
    return _typed(name, pd.DataFrame(columns=TABLES[name].column_names))


# --------------------------------------------------------------------------- reference
def build_territories(reference_dir: Union[str, Path] = REFERENCE_DIR) -> pd.DataFrame:
    """Build the ``territories`` table: département 13, its 4 EPCI, communes, arrondissements.

    The communes are the 119 of the département (COG 2026) plus Pertuis (84089) and
    Saint-Zacharie (83120), members of the Métropole outside the département
    (``in_scope`` false); Marseille's 16 arrondissements (13201–13216) carry
    ``commune_code`` 13055.

    Parameters
    ----------
    reference_dir : str or Path
        Folder holding ``communes_13.csv``, ``arrondissements_marseille.csv``,
        ``epci_13.csv`` and ``epci_membres_13.csv``.

    Returns
    -------
    pandas.DataFrame
        The typed ``territories`` table, ordered by level then code.
    """
    ref = Path(reference_dir)
    communes = _read_text(ref / "communes_13.csv")
    arrs = _read_text(ref / "arrondissements_marseille.csv")
    epci = _read_text(ref / "epci_13.csv")
    members = _read_text(ref / "epci_membres_13.csv")
    rows = [{
        "territory_code": DEPARTEMENT_CODE, "territory_name": DEPARTEMENT_NAME, "level": "departement",
        "departement_code": DEPARTEMENT_CODE, "in_scope": True,
        "source": SOURCE_COG.format(file="communes_13.csv") + " (département des 119 communes)",
    }]
    for r in epci.itertuples(index=False):
        rows.append({"territory_code": r.epci_siren, "territory_name": r.epci_nom, "level": "epci",
                     "in_scope": True, "source": SOURCE_EPCI})
    for r in communes.itertuples(index=False):
        rows.append({"territory_code": r.code_insee, "territory_name": r.nom, "level": "commune",
                     "departement_code": DEPARTEMENT_CODE, "epci_siren": r.epci_siren, "in_scope": True,
                     "source": SOURCE_COG.format(file="communes_13.csv")})
    outside = members[members["departement"] != DEPARTEMENT_CODE]
    for r in outside.itertuples(index=False):
        rows.append({"territory_code": r.code_insee, "territory_name": r.nom, "level": "commune",
                     "departement_code": r.departement, "epci_siren": r.epci_siren, "in_scope": False,
                     "source": SOURCE_OUTSIDE})
    for r in arrs.itertuples(index=False):
        rows.append({"territory_code": r.code_insee, "territory_name": r.nom, "level": "arrondissement",
                     "departement_code": DEPARTEMENT_CODE, "epci_siren": r.epci_siren,
                     "commune_code": r.commune_parent, "in_scope": True,
                     "source": SOURCE_COG.format(file="arrondissements_marseille.csv")})
    df = pd.DataFrame(rows)
    df = df.sort_values(["level", "territory_code"], key=lambda s: s.map(_LEVEL_ORDER) if s.name == "level" else s,
                        kind="stable")
    return _typed("territories", df)


def build_populations(reference_dir: Union[str, Path] = REFERENCE_DIR) -> pd.DataFrame:
    """Build the ``populations`` table: every published population with its INSEE millésime.

    Rows: each commune and arrondissement of the département for 2020–2023; Pertuis and
    Saint-Zacharie for 2021–2023 (the reference has no 2020 figure for them: none is
    invented); the 4 EPCI as published by the DGCL (2021 and 2022). The département's
    population is not stored: it is the sum of its communes, computed by the library.
    Neither is epci_13.csv's ``pop_mun_2023``, a sum made by the extraction script.

    Parameters
    ----------
    reference_dir : str or Path
        Folder of the reference CSV files.

    Returns
    -------
    pandas.DataFrame
        The typed ``populations`` table, ordered by territory code then year.
    """
    ref = Path(reference_dir)
    rows = []
    for file in ("communes_13.csv", "arrondissements_marseille.csv"):
        df = _read_text(ref / file)
        for year in POPULATION_YEARS:
            col = f"pop_mun_{year}"
            src = SOURCE_POP_COMMUNE[year].format(file=file)
            for code, pop in zip(df["code_insee"], df[col]):
                if pop != "":
                    rows.append((code, year, pop, src))
    members = _read_text(ref / "epci_membres_13.csv")
    outside = members[members["departement"] != DEPARTEMENT_CODE]
    for year, src in SOURCE_POP_OUTSIDE.items():
        for code, pop in zip(outside["code_insee"], outside[f"pop_mun_{year}"]):
            if pop != "":
                rows.append((code, year, pop, src))
    epci = _read_text(ref / "epci_13.csv")
    for year, src in SOURCE_POP_EPCI.items():
        for code, pop in zip(epci["epci_siren"], epci[f"pop_mun_{year}"]):
            rows.append((code, year, pop, src))
    df = pd.DataFrame(rows, columns=["territory_code", "year", "population", "source"])
    df = df.sort_values(["territory_code", "year"], kind="stable")
    return _typed("populations", df)


def build_ifn(reference_dir: Union[str, Path] = REFERENCE_DIR) -> pd.DataFrame:
    """Build the ``ifn`` table from ``ifn_13.csv`` (variant ``tout_age``, vintage ``2021``).

    Communes, arrondissements and EPCI are kept as published, including Marseille's
    13055 row whose scores are empty; ``total`` becomes ``ifn_total``.

    Parameters
    ----------
    reference_dir : str or Path
        Folder holding ``ifn_13.csv``.

    Returns
    -------
    pandas.DataFrame
        The typed ``ifn`` table, ordered by territory code.
    """
    raw = _read_text(Path(reference_dir) / "ifn_13.csv")
    unknown = sorted(set(raw["division"]) - set(IFN_FILES))
    if unknown:
        raise ValueError(f"ifn_13.csv: unknown division {unknown}, expected one of {sorted(IFN_FILES)}")
    df = raw.rename(columns={"code": "territory_code", "total": "ifn_total"})
    df["variant"] = IFN_VARIANT
    df["vintage"] = IFN_VINTAGE
    df["source"] = [f"{IFN_ATTRIBUTION} ; {IFN_FILES[d]} de {IFN_COMMIT} (reference/ifn_13.csv)"
                    for d in raw["division"]]
    df = df.sort_values("territory_code", kind="stable")
    return _typed("ifn", df)


def read_context_figures(roadmap_dir: Union[str, Path] = ROADMAP_DIR) -> pd.DataFrame:
    """Read the hand transcription of the seed's context figures (``context_figures.csv``).

    Parameters
    ----------
    roadmap_dir : str or Path
        Folder holding ``context_figures.csv``.

    Returns
    -------
    pandas.DataFrame
        The typed ``context_figures`` table, in the transcription's order.
    """
    return _typed("context_figures", _read_text(Path(roadmap_dir) / "context_figures.csv"))


def _resolution_note(printed_cp: str, printed_name: str, code: str, method: str, names: dict,
                     postcode_owners: dict) -> str:
    """Return, in French, how a printed Annexe 3 row was given its INSEE code."""
    name = names.get(code, "")
    owners = postcode_owners.get(printed_cp, [])
    head = f"« {printed_name} » → {code} {name}"
    if code.startswith("132"):
        return (f"{head} (arrondissement de Marseille, commune 13055) : nom et « code postal » {printed_cp} "
                f"concordants ; {printed_cp} est un code postal, pas un code INSEE")
    if method == "code_postal+nom":
        if len(owners) > 1:
            others = ", ".join(f"{names[c]} ({c})" for c in owners if c != code)
            return (f"{head} : résolu par le nom ; le « code postal » {printed_cp} est partagé avec {others}")
        return f"{head} : nom et code postal {printed_cp} concordants (COG 2026)"
    if method == "nom":
        return (f"{head} : résolu par le nom seul ; le « code postal » imprimé {printed_cp} n'est pas un code "
                f"postal de {name} (COG 2026)")
    if method == "code_postal":
        return (f"{head} : nom imprimé absent du COG (orthographe de « {name} ») ; code postal {printed_cp} "
                f"propre à cette seule commune")
    return f"{head} : méthode {method}"


def build_exposed_communes(roadmap_dir: Union[str, Path] = ROADMAP_DIR,
                           reference_dir: Union[str, Path] = REFERENCE_DIR) -> pd.DataFrame:
    """Build the ``exposed_communes`` table: the seed's Annexe 3 as printed, with codes resolved.

    The printed values are kept as they are (errors included: the data-quality rules
    report them). Each row's ``territory_code`` is resolved from the printed name and
    « Code postal » by :func:`fne_eval.core.communes.resolve_commune` — the printed code is a
    postcode, never used as an INSEE code — and ``resolution_note`` says how. The total
    row « Moyenne département » gets no code.

    Parameters
    ----------
    roadmap_dir : str or Path
        Folder holding ``exposed_communes.csv``.
    reference_dir : str or Path
        Folder of the reference CSV files (names and postcodes for the notes).

    Returns
    -------
    pandas.DataFrame
        The typed ``exposed_communes`` table.

    Raises
    ------
    ValueError
        A row other than the total row does not resolve.
    """
    ref = Path(reference_dir)
    df = _read_text(Path(roadmap_dir) / "exposed_communes.csv")
    communes = _read_text(ref / "communes_13.csv")
    arrs = _read_text(ref / "arrondissements_marseille.csv")
    names = dict(zip(communes["code_insee"], communes["nom"]))
    names.update(zip(arrs["code_insee"], arrs["nom"]))
    postcode_owners: dict = {}
    for code, cps in zip(communes["code_insee"], communes["codes_postaux"]):
        for cp in cps.split(";"):
            postcode_owners.setdefault(cp, []).append(code)
    codes, notes = [], []
    for r in df.itertuples(index=False):
        if r.is_total_row.strip().lower() == "true":
            codes.append("")
            notes.append("Ligne de total « Moyenne département » (département 13) : pas de code commune")
            continue
        res = resolve_commune(r.printed_postal_code, r.printed_name)
        if not res.territory_code:
            raise ValueError(f"exposed_communes.csv row {r.row_number}: « {r.printed_name} » "
                             f"({r.printed_postal_code}) does not resolve to a commune or arrondissement")
        codes.append(res.territory_code)
        notes.append(_resolution_note(r.printed_postal_code, r.printed_name, res.territory_code, res.method,
                                      names, postcode_owners))
    df["territory_code"] = codes
    df["resolution_note"] = notes
    return _typed("exposed_communes", df)


def build_reference_tables(reference_dir: Union[str, Path] = REFERENCE_DIR,
                           roadmap_dir: Union[str, Path] = ROADMAP_DIR) -> dict:
    """Build the reference tables of the default bundle.

    Parameters
    ----------
    reference_dir : str or Path
        Folder of the reference CSV files (``fne_eval/data/reference/``).
    roadmap_dir : str or Path
        Folder of the hand transcriptions (``fne_eval/data/roadmap/``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``territories``, ``populations``, ``ifn``, ``context_figures``, ``exposed_communes``,
        typed per :mod:`fne_eval.bundle.spec`.
    """
    return {
        "territories": build_territories(reference_dir),
        "populations": build_populations(reference_dir),
        "ifn": build_ifn(reference_dir),
        "context_figures": read_context_figures(roadmap_dir),
        "exposed_communes": build_exposed_communes(roadmap_dir, reference_dir),
    }


# --------------------------------------------------------------------------- roadmap
def build_roadmap_tables(roadmap_dir: Union[str, Path] = ROADMAP_DIR) -> dict:
    """Read the roadmap tables transcribed from the seed.

    ``axes``, ``actions``, ``budget_lines`` and ``schedule_tasks`` must exist;
    ``indicators`` and ``meteo_overrides`` are read when their CSV exists, else empty.

    Parameters
    ----------
    roadmap_dir : str or Path
        Folder of the roadmap CSV files.

    Returns
    -------
    dict of str to pandas.DataFrame
        The typed roadmap tables.
    """
    roadmap_dir = Path(roadmap_dir)
    out = {name: _typed(name, _read_text(roadmap_dir / f"{name}.csv")) for name in ROADMAP_TABLES}
    for name in OPTIONAL_ROADMAP_TABLES:
        path = roadmap_dir / f"{name}.csv"
        if path.exists():
            out[name] = _typed(name, _read_text(path))
        else:
            log.info("%s absent: table %s left empty", path, name)
            out[name] = _empty(name)
    return out


# --------------------------------------------------------------------------- monitoring
def build_lieux(path: Optional[Union[str, Path]] = None) -> tuple:
    """Read the real Hub du Sud 2023 lieux with the importer, or an empty table without it.

    Returns
    -------
    tuple
        ``(lieux, is_real)``: the typed ``lieux`` table and whether it was read.
    """
    reader = read_lieux_hubdusud_2023
    if reader is None:
        return _empty("lieux"), False
    path = Path(path) if path is not None else SAMPLES_DIR / "lieux_mediation_numerique_13_hubdusud_2023.csv"
    lieux = reader(path)
    return _typed("lieux", lieux).sort_values("id", kind="stable").reset_index(drop=True), True


def build_monitoring_tables(tables: dict, seed: int = DEFAULT_SEED, as_of: str = DATA_AS_OF) -> tuple:
    """Generate the synthetic monitoring tables, or empty ones while the generator is missing.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Reference, roadmap and ``lieux`` tables the generator draws from.
    seed : int
        Seed of the generator.
    as_of : str
        Date of the synthetic data (nothing dated after it).

    Returns
    -------
    tuple
        ``(monitoring, synthetic_names)``: a dict of typed monitoring tables (``lieux``
        excluded) and the sorted names of the tables that hold synthetic data.
    """
    names = [n for n in table_names("monitoring") if n != "lieux"]
    generate = generate_monitoring
    if generate is None:
        return {n: _empty(n) for n in names}, []
    generated = generate(tables, seed=seed, as_of=as_of)
    unknown = sorted(set(generated) - set(names))
    if unknown:
        raise ValueError(f"generate_monitoring returned unknown tables {unknown}, expected some of {names}")
    out = {n: generated.get(n, _empty(n)) for n in names}
    return out, sorted(n for n in names if n in generated)


# --------------------------------------------------------------------------- assembly
def bundle_meta(seed: int, synthetic_tables: list, lieux_is_real: bool, as_of: str = DATA_AS_OF) -> dict:
    """Return the ``bundle.json`` metadata of the default bundle."""
    module = "fne_eval.build.synthetic"
    sources = list(SOURCES)
    if lieux_is_real:
        sources.append(SOURCE_LIEUX)
    if synthetic_tables:
        sources.append(SOURCE_SYNTHETIC.format(module=module, seed=seed, as_of=as_of))
    return {
        "name": "Bundle par défaut (Bouches-du-Rhône)",
        "description": (
            "Bundle embarqué de fne-eval : référentiel territorial réel du département des Bouches-du-Rhône "
            "(département, 4 EPCI, 119 communes et Pertuis et Saint-Zacharie, membres de la Métropole hors "
            "département, 16 arrondissements de Marseille), populations INSEE par millésime, indice de "
            "fragilité numérique, feuille de route France Numérique Ensemble 2024-2027 transcrite (axes, "
            "actions, budget, chronogramme, chiffres de l'état des lieux), lieux de médiation numérique réels "
            "du Hub du Sud (2023) et données de suivi SYNTHÉTIQUES (activités, budget exécuté, avancement, "
            "formations, reconditionnement, événements, réunions) : ces dernières sont fictives."
        ),
        "is_synthetic": bool(synthetic_tables),
        "synthetic_tables": list(synthetic_tables),
        "generator": {"module": module, "seed": seed},
        "data_as_of": as_of,
        "sources": sources,
        "roadmap": ROADMAP_NAME,
    }


def build_default_tables(seed: int = DEFAULT_SEED, as_of: str = DATA_AS_OF) -> tuple:
    """Assemble every table of the default bundle.

    Returns
    -------
    tuple
        ``(tables, meta)``: the typed tables (one per spec table) and the metadata.
    """
    tables = build_reference_tables()
    tables.update(build_roadmap_tables())
    tables["lieux"], lieux_is_real = build_lieux()
    monitoring, synthetic = build_monitoring_tables(tables, seed=seed, as_of=as_of)
    tables.update(monitoring)
    missing = sorted(set(TABLES) - set(tables))
    if missing:
        raise ValueError(f"default bundle: no table built for {missing}")
    return tables, bundle_meta(seed, synthetic, lieux_is_real, as_of)


def build_default_bundle(out: Union[str, Path] = DEFAULT_BUNDLE_DIR, seed: int = DEFAULT_SEED) -> Path:
    """Build the default bundle and write it to ``out``, replacing the folder atomically.

    Everything is written to a temporary sibling folder first, then renamed into place
    (two renames: the previous folder aside, the new one in), so a failed build never
    leaves a half-written ``out`` and no stale file of a previous build survives.

    Parameters
    ----------
    out : str or Path, default ``fne_eval/data/default_bundle``
        Bundle folder to (re)write.
    seed : int, default 20241
        Seed of the synthetic monitoring generator.

    Returns
    -------
    Path
        ``out``.
    """
    out = Path(out)
    tables, meta = build_default_tables(seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    try:
        new, old = work / "new", work / "old"
        write_bundle(tables, new, meta, parquet=("activities",))
        os.chmod(new, 0o755)  # mkdtemp's 0700 would otherwise become the bundle folder's mode
        if out.exists():
            os.replace(out, old)
        try:
            os.replace(new, out)
        except OSError:
            if old.exists():
                os.replace(old, out)  # put the previous bundle back
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv: Optional[list] = None) -> int:
    """Rebuild the default bundle from the command line."""
    parser = argparse.ArgumentParser(prog="python -m fne_eval.build.default_bundle",
                                     description="Reconstruit le bundle par défaut embarqué.")
    parser.add_argument("--out", default=str(DEFAULT_BUNDLE_DIR), help="dossier de sortie")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="graine du générateur synthétique")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    out = build_default_bundle(args.out, seed=args.seed)
    print(f"bundle écrit : {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
