"""Tests of fne_eval.core.territory: hierarchy, populations, aggregation across levels."""
import logging

import numpy as np
import pandas as pd
import pytest

from fne_eval.core.paths import REFERENCE_DIR
from fne_eval.core.territory import (
    aggregate,
    code_membership,
    level_of,
    local_units,
    members,
    population_by_territory,
    territories_at,
    territory_population,
    unit_membership,
    unit_populations,
)

AMP = "200054807"


def tiny_territories():
    """Département 13, two EPCI; E1 holds Marseille (2 arrondissements), A and an
    out-of-département commune P (84); E2 holds B."""
    rows = [
        ("13", "Bouches-du-Rhône", "departement", None, None, None, True),
        ("111111111", "E1", "epci", None, None, None, True),
        ("222222222", "E2", "epci", None, None, None, True),
        ("13055", "Marseille", "commune", "13", "111111111", None, True),
        ("13201", "Marseille 1er", "arrondissement", "13", "111111111", "13055", True),
        ("13202", "Marseille 2e", "arrondissement", None, None, "13055", True),
        ("13001", "A", "commune", "13", "111111111", None, True),
        ("84089", "P", "commune", "84", "111111111", None, False),
        ("13004", "B", "commune", "13", "222222222", None, True),
    ]
    return pd.DataFrame(rows, columns=["territory_code", "territory_name", "level", "departement_code",
                                       "epci_siren", "commune_code", "in_scope"]).astype(
        {c: "string" for c in ["territory_code", "territory_name", "level", "departement_code",
                               "epci_siren", "commune_code"]})


def tiny_populations():
    rows = [
        ("13055", 2021, 1000),  # published commune figure, must not be added to its arrondissements
        ("13201", 2021, 600), ("13202", 2021, 400),
        ("13001", 2021, 50), ("84089", 2021, 20), ("13004", 2021, 7),
        ("13055", 2020, 990),  # 2020: arrondissements missing, commune stands in
        ("13001", 2020, 49), ("13004", 2020, 6),  # 84089 lacks 2020
        ("111111111", 2021, 99999),  # published EPCI row: never used
    ]
    return pd.DataFrame(rows, columns=["territory_code", "year", "population"]).astype(
        {"territory_code": "string"})


def real_territories():
    """Build the territories table from the reference CSVs (independent of the bundle)."""
    d = REFERENCE_DIR
    com = pd.read_csv(d / "communes_13.csv", dtype=str)
    arr = pd.read_csv(d / "arrondissements_marseille.csv", dtype=str)
    epci = pd.read_csv(d / "epci_13.csv", dtype=str)
    mem = pd.read_csv(d / "epci_membres_13.csv", dtype=str)
    outside = mem[mem["departement"] != "13"]
    rows = [("13", "Bouches-du-Rhône", "departement", None, None, None, True)]
    rows += [(r.epci_siren, r.epci_nom, "epci", None, None, None, True) for r in epci.itertuples()]
    rows += [(r.code_insee, r.nom, "commune", "13", r.epci_siren, None, True) for r in com.itertuples()]
    rows += [(r.code_insee, r.nom, "commune", r.departement, r.epci_siren, None, False) for r in outside.itertuples()]
    rows += [(r.code_insee, r.nom, "arrondissement", "13", r.epci_siren, r.commune_parent, True)
             for r in arr.itertuples()]
    terr = pd.DataFrame(rows, columns=["territory_code", "territory_name", "level", "departement_code",
                                       "epci_siren", "commune_code", "in_scope"])
    pops = []
    for r in com.itertuples():
        for y in (2020, 2021, 2022, 2023):
            pops.append((r.code_insee, y, int(getattr(r, f"pop_mun_{y}"))))
    for r in arr.itertuples():
        for y in (2020, 2021, 2022, 2023):
            pops.append((r.code_insee, y, int(getattr(r, f"pop_mun_{y}"))))
    for r in outside.itertuples():
        for y in (2021, 2022, 2023):
            pops.append((r.code_insee, y, int(getattr(r, f"pop_mun_{y}"))))
    return terr, pd.DataFrame(pops, columns=["territory_code", "year", "population"])


# --------------------------------------------------------------------------- hierarchy
def test_local_units_exclude_commune_with_arrondissements():
    t = tiny_territories()
    assert local_units(t)["territory_code"].tolist() == ["13001", "13004", "13201", "13202", "84089"]


def test_unit_membership_inherits_from_parent():
    m = unit_membership(tiny_territories()).set_index("unit_code")
    # 13202 has no epci/departement of its own: inherited from 13055
    assert m.loc["13202", "commune_code"] == "13055"
    assert m.loc["13202", "epci_siren"] == "111111111"
    assert m.loc["13202", "departement_code"] == "13"
    assert m.loc["84089", "departement_code"] == "84"
    assert "13055" not in m.index


def test_code_membership_maps_parent_commune_to_itself():
    cm = code_membership(tiny_territories()).set_index("unit_code")
    assert cm.loc["13055", "commune_code"] == "13055"
    assert not cm.loc["13055", "is_local_unit"]


def test_members_per_level():
    t = tiny_territories()
    assert members(t, "13") == ["13001", "13004", "13201", "13202"]  # not 84089
    assert members(t, "111111111") == ["13001", "13201", "13202", "84089"]  # with 84089
    assert members(t, "13055") == ["13201", "13202"]
    assert members(t, "13001") == ["13001"]
    assert members(t, "13201") == ["13201"]


def test_level_of_and_unknown_code():
    t = tiny_territories()
    assert level_of(t, "13") == "departement"
    assert level_of(t, "111111111") == "epci"
    assert level_of(t, "13201") == "arrondissement"
    with pytest.raises(ValueError, match="inconnu"):
        level_of(t, "99999")
    with pytest.raises(ValueError, match="inconnu"):
        members(t, "99999")


def test_territories_at():
    t = tiny_territories()
    assert territories_at(t, "commune") == ["13001", "13004", "13055", "84089"]
    assert territories_at(t, "commune", in_scope_only=True) == ["13001", "13004", "13055"]
    assert territories_at(t, "unit") == ["13001", "13004", "13201", "13202", "84089"]
    with pytest.raises(ValueError):
        territories_at(t, "region")


# --------------------------------------------------------------------------- populations
def test_territory_population_sums_units_never_double_counts_marseille():
    t, p = tiny_territories(), tiny_populations()
    assert territory_population(t, p, "13055", 2021) == (1000, 2021)  # 600 + 400, not + 1000
    assert territory_population(t, p, "13", 2021) == (1057, 2021)  # 600+400+50+7
    assert territory_population(t, p, "111111111", 2021) == (1070, 2021)  # 600+400+50+20, not 99999
    assert territory_population(t, p, "222222222", 2021) == (7, 2021)
    assert territory_population(t, p, "13201", 2021) == (600, 2021)


def test_territory_population_default_year_is_latest_complete():
    t, p = tiny_territories(), tiny_populations()
    assert territory_population(t, p, "13") == (1057, 2021)


def test_territory_population_missing_year_names_the_unit():
    t, p = tiny_territories(), tiny_populations()
    with pytest.raises(ValueError, match=r"P \(84089\).*2021"):
        territory_population(t, p, "111111111", 2020)
    # 2020 for the département: 13055 stands in for its arrondissements: 990 + 49 + 6
    assert territory_population(t, p, "13", 2020) == (1045, 2020)
    with pytest.raises(ValueError, match="inconnu"):
        territory_population(t, p, "00000", 2021)


def test_unit_populations_missing_is_na_not_zero():
    up = unit_populations(tiny_territories(), tiny_populations(), 2020).set_index("unit_code")
    assert pd.isna(up.loc["84089", "population"])
    assert up.loc["13055", "population"] == 990


def test_population_by_territory_reports_incomplete():
    pt = population_by_territory(tiny_territories(), tiny_populations(), 2020).set_index(
        ["level", "territory_code"])
    assert pt.loc[("epci", "111111111"), "n_units_missing"] == 1  # 84089
    assert pt.loc[("epci", "111111111"), "population"] == 1039  # 990 + 49 (incomplete)
    assert pt.loc[("departement", "13"), "n_units_missing"] == 0
    assert pt.loc[("departement", "13"), "population"] == 1045


def test_real_reference_populations_match_published_totals():
    t, p = real_territories()
    # epci_13.csv (independent source): AMP pop_mun_2023 = 1 939 077 (92 communes, Pertuis and
    # Saint-Zacharie included); département part pop_mun_2023_dep13 = 1 913 650
    assert territory_population(t, p, AMP, 2023) == (1939077, 2023)
    assert territory_population(t, p, "241300375", 2023) == (27826, 2023)  # CC VBA
    # communes_13.csv: Marseille 2023 = 886 040 = sum of its 16 arrondissements
    assert territory_population(t, p, "13055", 2023) == (886040, 2023)
    dep = territory_population(t, p, "13", 2023)[0]
    com = pd.read_csv(REFERENCE_DIR / "communes_13.csv", dtype={"code_insee": str})
    assert dep == int(com["pop_mun_2023"].sum())  # 119 communes, Marseille once
    # 2020: Pertuis / Saint-Zacharie have no 2020 figure in the reference files
    with pytest.raises(ValueError, match="84089"):
        territory_population(t, p, AMP, 2020)
    assert len(local_units(t)) == 118 + 16 + 2  # 119 communes - Marseille + 16 arr. + 2 outside


# --------------------------------------------------------------------------- aggregate
def test_aggregate_sum_every_level():
    t = tiny_territories()
    df = pd.DataFrame({"code": ["13201", "13202", "13055", "13001", "84089", "13004", "99999"],
                       "n": [1, 2, 4, 8, 16, 32, 64]})
    out = aggregate(df, t, ["n"], "code", levels=("arrondissement", "commune", "epci", "departement"))
    got = out.set_index(["level", "territory_code"])["n"]
    assert got[("arrondissement", "13201")] == 1
    assert got[("commune", "13055")] == 7  # 1 + 2 + 4 (rows keyed by 13055 too)
    assert got[("epci", "111111111")] == 31  # 7 + 8 + 16
    assert got[("epci", "222222222")] == 32
    assert got[("departement", "13")] == 47  # 7 + 8 + 32: 84089 excluded
    assert ("departement", "84") not in got.index  # not a département of the table
    assert 64 not in got.values  # unknown code dropped
    assert out.loc[out.territory_code == "13055", "n_obs"].item() == 3


def test_aggregate_logs_lost_rows(caplog):
    t = tiny_territories()
    df = pd.DataFrame({"code": ["13001", "99999"], "n": [1, 1]})
    with caplog.at_level(logging.WARNING, logger="fne_eval.core.territory"):
        aggregate(df, t, ["n"], "code")
    assert "1 of 2 rows" in caplog.text


def test_aggregate_by_and_complete():
    t = tiny_territories()
    df = pd.DataFrame({"code": ["13001", "13001", "13004"], "year": [2024, 2025, 2025], "n": [3, 4, 5]})
    out = aggregate(df, t, ["n"], "code", levels=("commune",), by=["year"], complete=True)
    # 4 communes x 2 years = 8 rows; 13055 has 0 both years
    assert len(out) == 8
    got = out.set_index(["territory_code", "year"])["n"]
    assert got[("13055", 2024)] == 0
    assert got[("13004", 2024)] == 0
    assert got[("13004", 2025)] == 5


def test_aggregate_weighted_and_unweighted_mean():
    t = tiny_territories()
    df = pd.DataFrame({"code": ["13201", "13202", "13001", "13004"],
                       "ifn": [6.0, 4.0, 2.0, np.nan], "pop": [600, 400, 50, 7]})
    w = aggregate(df, t, ["ifn"], "code", how="weighted_mean", weight_col="pop").set_index(
        ["level", "territory_code"])["ifn"]
    # 13055: (6*600 + 4*400) / 1000 = 5.2 ; dept: (3600 + 1600 + 100) / 1050 = 5.047619...
    assert w[("commune", "13055")] == pytest.approx(5.2)
    assert w[("departement", "13")] == pytest.approx(5300 / 1050)
    assert np.isnan(w[("commune", "13004")])  # only a missing value
    u = aggregate(df, t, ["ifn"], "code", how="unweighted_mean").set_index(
        ["level", "territory_code"])
    assert u.loc[("departement", "13"), "ifn"] == pytest.approx(4.0)  # (6 + 4 + 2) / 3
    assert u.loc[("departement", "13"), "n_obs"] == 3
    with pytest.raises(ValueError):
        aggregate(df, t, ["ifn"], "code", how="weighted_mean")
    with pytest.raises(ValueError):
        aggregate(df, t, ["ifn"], "code", how="median")
    with pytest.raises(ValueError):
        aggregate(df, t, ["ifn"], "code", levels=("region",))


def test_aggregate_empty_frame():
    out = aggregate(pd.DataFrame({"code": pd.Series([], dtype="string"), "n": pd.Series([], dtype="int64")}),
                    tiny_territories(), ["n"], "code")
    assert out.empty
    assert list(out.columns) == ["level", "territory_code", "n", "n_obs"]


def test_aggregate_nullable_values():
    t = tiny_territories()
    df = pd.DataFrame({"code": ["13001", "13001"], "n": pd.array([2, pd.NA], dtype="Int64")})
    out = aggregate(df, t, ["n"], "code", levels=("commune",))
    assert out["n"].tolist() == [2.0]


def test_member_codes_include_parent_commune():
    from fne_eval.core.territory import member_codes

    t = tiny_territories()
    assert member_codes(t, "13") == ["13001", "13004", "13055", "13201", "13202"]
    assert member_codes(t, "13055") == ["13055", "13201", "13202"]
    assert member_codes(t, "13201") == ["13201"]
    assert member_codes(t, "222222222") == ["13004"]
