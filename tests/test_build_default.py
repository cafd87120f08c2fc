"""Tests of the default bundle's builder (fne_eval.build.default_bundle).

Expected figures come from the seed (feuille de route, section 3 and annexe 3) and from
fne_eval/data/PROVENANCE.md, with the arithmetic written in comments.
"""
import json

import pandas as pd
import pytest

from fne_eval.build import default_bundle as bd
from fne_eval.bundle.io import META_FILE
from fne_eval.bundle.spec import TABLES
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

AMP, ACCM, CATP, CCVBA = "200054807", "241300417", "200035087", "241300375"


@pytest.fixture(scope="module")
def ref():
    return bd.build_reference_tables()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A full build in a temporary folder, once per module."""
    out = tmp_path_factory.mktemp("bundle") / "default_bundle"
    return bd.build_default_bundle(out)


# --------------------------------------------------------------------------- territories
def test_territory_levels_and_counts(ref):
    t = ref["territories"]
    # 1 département + 4 EPCI + 119 communes + Pertuis + Saint-Zacharie + 16 arrondissements = 142
    assert len(t) == 142
    assert t["level"].value_counts().to_dict() == {"commune": 121, "arrondissement": 16, "epci": 4,
                                                   "departement": 1}
    assert t["territory_code"].is_unique
    assert set(t.loc[t["level"] == "epci", "territory_code"]) == {AMP, ACCM, CATP, CCVBA}
    assert t["source"].notna().all()


def test_communes_outside_the_departement(ref):
    t = ref["territories"].set_index("territory_code")
    for code, dep, name in (("84089", "84", "Pertuis"), ("83120", "83", "Saint-Zacharie")):
        row = t.loc[code]
        assert (row["territory_name"], row["departement_code"], row["epci_siren"]) == (name, dep, AMP)
        assert not row["in_scope"]
    in13 = t[(t["level"] == "commune") & t["in_scope"]]
    assert len(in13) == 119 and (in13["departement_code"] == "13").all()


def test_arrondissements_belong_to_marseille(ref):
    t = ref["territories"]
    arr = t[t["level"] == "arrondissement"]
    assert sorted(arr["territory_code"]) == [str(c) for c in range(13201, 13217)]
    assert (arr["commune_code"] == "13055").all() and (arr["epci_siren"] == AMP).all()


# --------------------------------------------------------------------------- populations
def _pop(ref, year):
    p = ref["populations"]
    return p[p["year"] == year].set_index("territory_code")["population"]


def test_departement_population_is_the_sum_of_its_communes(ref):
    t = ref["territories"]
    in13 = t.loc[(t["level"] == "commune") & t["in_scope"], "territory_code"]
    # seed checks (PROVENANCE.md): 2020 2 048 070, 2021 2 056 943, 2022 2 069 811, 2023 2 087 658
    for year, total in ((2020, 2048070), (2021, 2056943), (2022, 2069811), (2023, 2087658)):
        assert _pop(ref, year).reindex(in13).sum() == total
    # the département total itself is not stored: it is computed by the library
    assert "13" not in set(ref["populations"]["territory_code"])


def test_epci_published_2021_and_sum_of_members(ref):
    p21 = _pop(ref, 2021)
    # seed section 3 « Données INSEE 2021 »
    published = {AMP: 1911311, ACCM: 83429, CATP: 60434, CCVBA: 27712}
    assert {k: p21[k] for k in published} == published
    # 1 911 311 + 83 429 + 60 434 + 27 712 = 2 082 886
    assert sum(published.values()) == 2082886
    # = 2 056 943 (the 119 communes) + 20 012 (Pertuis) + 5 931 (Saint-Zacharie)
    assert p21["84089"] == 20012 and p21["83120"] == 5931
    t = ref["territories"]
    communes = t[t["level"] == "commune"].set_index("territory_code")["epci_siren"]
    by_epci = p21.reindex(communes.index).groupby(communes).sum()
    assert by_epci.to_dict() == published


def test_population_rows_only_where_a_source_published(ref):
    p = ref["populations"]
    years = p.groupby("territory_code")["year"].apply(sorted)
    # Pertuis and Saint-Zacharie: 2021-2023 only (no 2020 in the EPCI member lists)
    assert years["84089"] == [2021, 2022, 2023] and years["83120"] == [2021, 2022, 2023]
    assert years["13055"] == [2020, 2021, 2022, 2023] and years["13201"] == [2020, 2021, 2022, 2023]
    # EPCI: DGCL 2024 (millésime 2021) and DGCL 2025 (millésime 2022) files
    assert years[AMP] == [2021, 2022]
    src22 = p[(p["territory_code"] == AMP) & (p["year"] == 2022)]["source"].iloc[0]
    assert "DGCL 2025" in src22
    # 119 + 16 territories × 4 years + 2 × 3 + 4 EPCI × 2 = 540 + 6 + 8 = 554
    assert len(p) == 554


def test_marseille_is_the_sum_of_its_arrondissements(ref):
    p21 = _pop(ref, 2021)
    arr = [str(c) for c in range(13201, 13217)]
    assert p21.reindex(arr).sum() == p21["13055"] == 873076  # PROVENANCE.md: Marseille 2021


# --------------------------------------------------------------------------- IFN
def test_ifn_rows_and_unweighted_mean(ref):
    ifn = ref["ifn"]
    # 119 communes + 16 arrondissements + 4 EPCI
    assert len(ifn) == 139
    assert (ifn["variant"] == "tout_age").all() and (ifn["vintage"] == "2021").all()
    assert ifn["source"].str.contains("La MedNum, via ANCT").all()
    local = ifn[ifn["territory_code"].str.len() == 5]
    valued = local[local["ifn_total"].notna()]
    assert len(valued) == 134  # Marseille 13055 kept, with empty scores
    assert ifn.set_index("territory_code").loc["13055", bd.IFN_COLUMNS + ("ifn_total",)].isna().all()
    # DOMAIN.md c1: unweighted mean of the 134 valued communes/arrondissements = 5.25
    assert valued["ifn_total"].mean() == pytest.approx(5.25, abs=0.005)
    # EPCI file: AMP 5.10 (DOMAIN.md c1)
    assert ifn.set_index("territory_code").loc[AMP, "ifn_total"] == pytest.approx(5.10, abs=0.005)


# --------------------------------------------------------------------------- context figures
def test_context_figures_seed_values(ref):
    cf = ref["context_figures"].set_index("figure_id")
    v = cf["value"]
    assert v["population_4_epci_2021"] == 2082886
    assert (v["population_amp_2021"], v["population_accm_2021"], v["population_catp_2021"],
            v["population_ccvba_2021"]) == (1911311, 83429, 60434, 27712)
    # printed shares are shares of 2 082 886: 1 911 311 / 2 082 886 = 91.76 % → 91.8
    for epci in ("amp", "ccvba", "catp", "accm"):
        share = v[f"population_share_{epci}_2021"]
        assert share == pytest.approx(100 * v[f"population_{epci}_2021"] / 2082886, abs=0.05)
    assert [v[f"illectronisme_{e}"] for e in ("amp", "ccvba", "catp", "accm")] == [15, 17, 16, 20]
    # the table « au 21/05/2024 »: 74 aidants + 16 conseillers numériques = 90
    assert v["aidants_attente_formation_aidants_2024"] + v["aidants_attente_formation_cnum_2024"] \
        == v["aidants_attente_formation_total_2024"] == 90
    assert cf.loc["aidants_attente_formation_total_2024", "reference_date"] == "2024-05-21"
    expected = {"lieux_inclusion_numerique_2024": 150, "aidants_connect_habilites_2024": 168,
                "conseillers_numeriques_valides_2024": 112, "conseillers_numeriques_en_poste_2024": 79,
                "conseillers_numeriques_lieux_2024": 134, "france_services_2024": 36,
                "france_services_itinerants_2024": 9, "promeneurs_du_net_2024": 28, "sud_labs_2024": 18,
                "micro_folies_2024": 11, "people_without_computer_2019": 245000,
                "exposed_people_annexe3": 118010, "exposed_people_more_than": 118000,
                "communes_above_mean": 29, "communes_portrea_total": 93,
                "marseille_4_arr_share_exposed": 60, "communes_fragilisees_tournee": 23,
                "formation_departs_target": 60, "ifn_departement": 5.2}
    assert {k: v[k] for k in expected} == expected
    ifn_cities = cf[cf["indicator"] == "ifn_total"].set_index("territory_code")["value"].to_dict()
    assert ifn_cities == {"13": 5.2, "13001": 4.7, "13055": 5.0, "13004": 6.6, "13063": 5.9,
                          "13027": 5.7, "13028": 5.2}
    assert cf.loc["lieux_inclusion_numerique_2024", "source"] == \
        "Données cartographie de Société Numérique de l'ANCT 2024"
    assert "Pertuis" in cf.loc["population_4_epci_2021", "note"]
    assert "119" in cf.loc["communes_portrea_total", "note"]


def test_context_figures_territories_exist(ref):
    codes = set(ref["territories"]["territory_code"])
    cf = ref["context_figures"]
    assert set(cf["territory_code"]) <= codes
    assert cf["figure_id"].is_unique
    assert cf["source"].notna().all() and cf["seed_location"].notna().all()


def test_context_ifn_city_values_round_the_ifn_file(ref):
    """The seed's main-text IFN of Aix, Arles, Miramas, Châteaurenard, La Ciotat match the file."""
    ifn = ref["ifn"].set_index("territory_code")["ifn_total"]
    cf = ref["context_figures"]
    cities = cf[(cf["indicator"] == "ifn_total") & ~cf["territory_code"].isin(["13", "13055"])]
    for code, value in zip(cities["territory_code"], cities["value"]):
        assert round(ifn[code], 1) == value, code


# --------------------------------------------------------------------------- Annexe 3
def test_exposed_communes_as_printed(ref):
    e = ref["exposed_communes"].set_index("row_number")
    assert len(e) == 24 and list(e.index) == list(range(1, 25))
    assert e["is_total_row"].tolist() == [False] * 23 + [True]
    rows = e[~e["is_total_row"]]
    # printed sums: 24 411 + 19 937 + … + 167 = 118 010 (the printed total row)
    assert rows["printed_fragile_population"].sum() == e.loc[24, "printed_fragile_population"] == 118010
    assert rows["printed_population"].sum() == e.loc[24, "printed_population"] == 362366
    by_name = rows.set_index("printed_name")
    # printed errors kept for the data-quality rules
    assert by_name.loc["Saint-Antonin-sur-Bayon", "printed_share_pct"] == 410
    assert by_name.loc["Marseille 3e Arrondissement", "printed_population"] == 52227
    assert by_name.loc["Saint-Marc-Jaumegarde", "printed_population"] == 1228
    assert by_name.loc["Saint-Antonin-sur-Bayon", "printed_postal_code"] == \
        by_name.loc["Saint-Marc-Jaumegarde", "printed_postal_code"] == "13100"


def test_exposed_communes_codes_resolved_by_name(ref):
    e = ref["exposed_communes"]
    codes = dict(zip(e["printed_name"], e["territory_code"]))
    expected = {  # COG 2026 codes, looked up by hand in reference/communes_13.csv
        "Marseille 15e Arrondissement": "13215", "Marseille 14e Arrondissement": "13214",
        "Marseille 3e Arrondissement": "13203", "Marseille 16e Arrondissement": "13216",
        "Arles": "13004", "Tarascon": "13108", "Berre-l'Étang": "13014",
        "Saint-Rémy-de-Provence": "13100", "Puylobier": "13079", "Peynier": "13072",
        "Saint-Antonin-sur-Bayon": "13090", "Saint-Marc-Jaumegarde": "13095",
    }
    assert {k: codes[k] for k in expected} == expected
    assert pd.isna(codes["Moyenne département"])
    assert e["territory_code"].iloc[:23].notna().all() and e["territory_code"].iloc[:23].is_unique
    notes = e.set_index("printed_name")["resolution_note"]
    assert "Puyloubier" in notes["Puylobier"]
    assert "13720" in notes["Peynier"] and "nom seul" in notes["Peynier"]  # Peynier's postcode is 13790


# --------------------------------------------------------------------------- assembly
def test_build_is_deterministic(built, tmp_path):
    again = bd.build_default_bundle(tmp_path / "again")
    names = sorted(p.name for p in built.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (built / name).read_bytes() == (again / name).read_bytes(), name


def test_build_replaces_the_folder_and_keeps_it_on_failure(tmp_path, monkeypatch, ref):
    monkeypatch.setattr(bd, "build_default_tables", lambda seed: (ref, {"name": "test"}))
    out = tmp_path / "b"
    out.mkdir()
    (out / "stale.csv").write_text("x\n")
    bd.build_default_bundle(out)
    assert not (out / "stale.csv").exists() and (out / "territories.csv").exists()
    before = (out / "territories.csv").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bd, "write_bundle", boom)
    with pytest.raises(RuntimeError):
        bd.build_default_bundle(out)
    assert (out / "territories.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temporary folder left


def test_meta_of_the_build(built):
    meta = json.loads((built / META_FILE).read_text(encoding="utf-8"))
    assert meta["data_as_of"] == "2026-10-31"
    assert meta["roadmap"] == "Feuille de route FNE Bouches-du-Rhône 2024-2027"
    assert meta["generator"] == {"module": "fne_eval.build.synthetic", "seed": 20241}
    assert any("La MedNum, via ANCT" in s for s in meta["sources"])
    assert meta["is_synthetic"] == bool(meta["synthetic_tables"])
    assert set(meta["synthetic_tables"]) <= set(TABLES) - {"lieux"}


# --------------------------------------------------------------------------- committed bundle
def test_default_bundle_files_exist_and_load(default_bundle):
    for name in TABLES:
        # activities ships as Parquet (a tenth of the CSV's size), the rest as CSV
        suffix = ".parquet" if name == "activities" else ".csv"
        assert (DEFAULT_BUNDLE_DIR / f"{name}{suffix}").exists(), name
        assert not (DEFAULT_BUNDLE_DIR / f"{name}{'.csv' if suffix == '.parquet' else '.parquet'}").exists()
    assert (DEFAULT_BUNDLE_DIR / META_FILE).exists()
    b = default_bundle  # load_bundle() of the embedded folder, validated (conftest)
    assert len(b["territories"]) == 142 and len(b["actions"]) == 10
    assert b["territories"]["territory_code"].dtype != "int64"


@pytest.mark.parametrize("name", ["territories", "populations", "ifn", "context_figures", "exposed_communes",
                                  "axes", "actions", "budget_lines", "schedule_tasks"])
def test_committed_bundle_is_up_to_date(built, name):
    """The committed reference and roadmap tables equal a fresh build (rerun the builder if not)."""
    assert (DEFAULT_BUNDLE_DIR / f"{name}.csv").read_bytes() == (built / f"{name}.csv").read_bytes()
