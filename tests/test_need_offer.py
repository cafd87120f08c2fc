"""Tests of fne_eval.evaluate.offer on a tiny hand-made bundle (expected values by hand)."""
import math

import pandas as pd
import pytest

from fne_eval.evaluate import offer as N
from fne_eval.bundle.spec import TABLES

E1, E2 = "111111111", "222222222"


def _frame(name, rows):
    cols = TABLES[name].column_names
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = pd.NA
    return df[cols]


def tiny_bundle():
    S = "string"
    terr = pd.DataFrame([
        ("13", "BdR", "departement", None, None, None, True),
        (E1, "E1", "epci", None, None, None, True),
        (E2, "E2", "epci", None, None, None, True),
        ("13055", "Marseille", "commune", "13", E1, None, True),
        ("13201", "Marseille 1er", "arrondissement", "13", E1, "13055", True),
        ("13202", "Marseille 2e", "arrondissement", "13", E1, "13055", True),
        ("13001", "A", "commune", "13", E1, None, True),
        ("84089", "P", "commune", "84", E1, None, False),
        ("13004", "B", "commune", "13", E2, None, True),
    ], columns=["territory_code", "territory_name", "level", "departement_code", "epci_siren",
                "commune_code", "in_scope"]).astype({c: S for c in ["territory_code", "level",
                                                                    "departement_code", "epci_siren",
                                                                    "commune_code"]})
    pops = pd.DataFrame({"territory_code": ["13055", "13201", "13202", "13001", "84089", "13004",
                                            "13201", "13202", "13001", "13004"],
                         "year": [2023] * 6 + [2020] * 4,
                         "population": [10000, 6000, 4000, 2000, 1000, 500, 5900, 3900, 1900, 400]})
    lieux = _frame("lieux", [
        {"id": "L1", "territory_code": "13201", "dispositif_programmes_nationaux": "France Services|Conseillers numériques"},
        {"id": "L2", "territory_code": "13201", "dispositif_programmes_nationaux": "Aidants Connect"},
        {"id": "L3", "territory_code": "13001"},
        {"id": "L4", "territory_code": "84089", "dispositif_programmes_nationaux": "France Services"},
    ])
    ifn = _frame("ifn", [{"territory_code": c, "variant": "tout_age", "vintage": "2021", "ifn_total": v}
                         for c, v in [("13201", 6.5), ("13202", 5.0), ("13001", 4.0), ("84089", 3.0),
                                      ("13004", 7.0)]])
    exposed = _frame("exposed_communes", [
        {"row_number": 1, "printed_fragile_population": 1500, "is_total_row": False, "territory_code": "13201"},
        {"row_number": 2, "printed_fragile_population": 200, "is_total_row": False, "territory_code": "13004"},
        {"row_number": 3, "printed_fragile_population": 1700, "is_total_row": True, "territory_code": None},
    ])
    rows = [("13201", 1), ("13201", 1), ("13201", 6), ("13202", 2), ("13001", 4), ("13004", 10),
            (None, 5), ("84089", 1)]
    acts = pd.DataFrame({"activity_id": [f"A{i}" for i in range(len(rows) + 1)],
                         "date": pd.to_datetime(["2025-03-01"] * len(rows) + ["2024-05-01"]),
                         "beneficiary_commune_code": pd.array([r[0] for r in rows] + ["13001"], dtype="string"),
                         "participants": [r[1] for r in rows] + [100]})
    return {"territories": terr, "populations": pops, "lieux": lieux, "ifn": ifn,
            "exposed_communes": exposed, "activities": acts}


def _at(df, level, code, col):
    return df.set_index(["level", "territory_code"]).loc[(level, code), col]


def test_lieux_offer_counts_and_rates():
    lo = N.lieux_offer(tiny_bundle())
    assert _at(lo, "arrondissement", "13201", "lieux") == 2
    assert _at(lo, "arrondissement", "13201", "lieux_france_services") == 1
    assert _at(lo, "arrondissement", "13201", "lieux_aidants_connect") == 1
    assert _at(lo, "arrondissement", "13201", "lieux_per_10k") == pytest.approx(2 / 6000 * 1e4)  # 3.333
    assert _at(lo, "arrondissement", "13202", "lieux") == 0  # territory with no lieu
    assert _at(lo, "arrondissement", "13202", "lieux_per_10k") == 0
    assert _at(lo, "commune", "13055", "lieux_per_10k") == pytest.approx(2.0)  # 2 / 10 000
    # E1: L1..L4 = 4 lieux (Pertuis included), population 6000+4000+2000+1000 = 13 000
    assert _at(lo, "epci", E1, "lieux") == 4
    assert _at(lo, "epci", E1, "lieux_france_services") == 2
    assert _at(lo, "epci", E1, "lieux_per_10k") == pytest.approx(4 / 13000 * 1e4)
    # département: L1, L2, L3 = 3 lieux; population 6000+4000+2000+500 = 12 500 -> 2.4
    assert _at(lo, "departement", "13", "lieux") == 3
    assert _at(lo, "departement", "13", "lieux_per_10k") == pytest.approx(2.4)
    assert _at(lo, "departement", "13", "population_year") == 2023


def test_lieux_long_form_and_incomplete_population_year():
    long = N.lieux_by_territory(tiny_bundle(), year=2020)
    e1 = long[(long.territory_code == E1) & (long.label == "all")].iloc[0]
    # 84089 has no 2020 population: E1 population and rate are missing, not partial
    assert pd.isna(e1["population"]) and pd.isna(e1["lieux_per_10k"])
    dep = long[(long.territory_code == "13") & (long.label == "all")].iloc[0]
    assert dep["population"] == 12100  # 5900 + 3900 + 1900 + 400
    assert set(long["label"]) == {"all", "france_services", "conseillers_numeriques", "aidants_connect"}


def test_empty_lieux_gives_empty_frame():
    b = tiny_bundle()
    b["lieux"] = b["lieux"].iloc[:0]
    assert N.lieux_offer(b).empty
    assert list(N.lieux_by_territory(b).columns) == N.LIEUX_LONG_COLUMNS


def test_exposed_population_sources():
    b = tiny_bundle()
    a3 = N.exposed_population(b).set_index("unit_code")
    assert a3.loc["13201", "exposed_population"] == 1500 and a3.loc["13201", "is_exposed"]
    assert a3.loc["13001", "exposed_population"] == 0 and not a3.loc["13001", "is_exposed"]
    assert a3["exposed_population"].sum() == 1700  # the printed total row
    ifn = N.exposed_population(b, source="ifn", ifn_threshold=6.0).set_index("unit_code")
    assert sorted(ifn.index[ifn.is_exposed]) == ["13004", "13201"]
    assert ifn.loc["13004", "exposed_population"] == 500  # whole population
    with pytest.raises(ValueError):
        N.exposed_population(b, source="portrea")


def test_accompaniments_by_territory():
    acc = N.accompaniments_by_territory(tiny_bundle(), start="2025-01-01", end="2025-12-31")
    assert _at(acc, "arrondissement", "13201", "participants") == 8  # 1 + 1 + 6
    assert _at(acc, "commune", "13055", "participants") == 10  # 8 + 2
    assert _at(acc, "commune", "13055", "n_activities") == 4
    # E1: 10 + 4 + 1 = 15 for 13 000 inhabitants -> 1.1538 per 1 000
    assert _at(acc, "epci", E1, "participants") == 15
    assert _at(acc, "epci", E1, "accompaniments_per_1000") == pytest.approx(15 / 13000 * 1000)
    # E2: 10 / 500 * 1000 = 20; exposed: 10 / 200 * 1000 = 50
    assert _at(acc, "epci", E2, "accompaniments_per_1000") == pytest.approx(20.0)
    assert _at(acc, "epci", E2, "accompaniments_per_1000_exposed") == pytest.approx(50.0)
    # département: 10 + 4 + 10 = 24 (84089 and the unlocated row excluded), 12 500 inh.
    assert _at(acc, "departement", "13", "participants") == 24
    assert _at(acc, "departement", "13", "accompaniments_per_1000") == pytest.approx(1.92)
    # exposed: (8 + 10) / 1 700 * 1 000 = 10.588
    assert _at(acc, "departement", "13", "exposed_population") == 1700
    assert _at(acc, "departement", "13", "accompaniments_per_1000_exposed") == pytest.approx(18 / 1700 * 1000)
    # a unit with no exposed population: rate missing (zero denominator), not 0 or inf
    assert math.isnan(_at(acc, "commune", "13001", "accompaniments_per_1000_exposed"))


def test_accompaniments_empty_period_and_zero_population():
    b = tiny_bundle()
    empty = N.accompaniments_by_territory(b, start="2030-01-01")
    assert empty.empty and list(empty.columns) == N.ACCOMPANIMENT_COLUMNS
    b["populations"].loc[b["populations"].territory_code == "13004", "population"] = 0
    acc = N.accompaniments_by_territory(b, start="2025-01-01")
    assert math.isnan(_at(acc, "epci", E2, "accompaniments_per_1000"))


def test_single_observation():
    b = tiny_bundle()
    b["activities"] = b["activities"].iloc[[5]]  # one row: 13004, 10 participants
    acc = N.accompaniments_by_territory(b)
    assert _at(acc, "departement", "13", "participants") == 10
    assert _at(acc, "epci", E1, "participants") == 0


def test_exposed_offer_and_communes_without_lieu():
    b = tiny_bundle()
    ex = N.exposed_communes_offer(b, start="2025-01-01")
    assert ex["territory_code"].tolist() == ["13201", "13004"]  # 1500 then 200 exposed people
    assert ex.set_index("territory_code").loc["13201", "has_lieu"]
    assert not ex.set_index("territory_code").loc["13004", "has_lieu"]
    assert N.communes_without_lieu(b)["territory_code"].tolist() == ["13004"]  # IFN >= 6: 13201, 13004
    # threshold 4.5: 13201 (lieu), 13202 (5.0, no lieu), 13004 (7.0, no lieu); most fragile first
    assert N.communes_without_lieu(b, ifn_threshold=4.5)["territory_code"].tolist() == ["13004", "13202"]
    assert N.communes_without_lieu(b, ifn_threshold=9.9).empty


def test_targeting_shares():
    t = N.targeting(tiny_bundle(), start="2025-01-01").set_index(["level", "territory_code"])
    r = t.loc[("departement", "13")]
    assert r["activity_share_exposed_pct"] == pytest.approx(75.0)  # 18 / 24
    assert r["population_share_exposed_pct"] == pytest.approx(52.0)  # (6000 + 500) / 12 500
    assert r["targeting_ratio"] == pytest.approx(75 / 52)


def test_concentration_curve_and_index():
    c = N.concentration_curve(tiny_bundle(), start="2025-01-01")
    # IFN order 3.0 (84089), 4.0, 5.0, 6.5, 7.0; populations 1000, 2000, 4000, 6000, 500
    # (13 500); accompaniments 1, 4, 2, 8, 10 (25)
    assert c["cum_population_share"].tolist() == pytest.approx([0, 1 / 13.5, 3 / 13.5, 7 / 13.5, 13 / 13.5, 1])
    assert c["cum_activity_share"].tolist() == pytest.approx([0, 0.04, 0.2, 0.28, 0.6, 1])
    # area = (1000*1 + 2000*6 + 4000*12 + 6000*22 + 500*40) / (13500*25*2) = 213000/675000
    assert N.concentration_index(c) == pytest.approx(1 - 2 * 213000 / 675000)  # 0.36889
    assert math.isnan(N.concentration_index(N.concentration_curve(tiny_bundle(), start="2031-01-01")))


def test_concentration_index_textbook_example():
    curve = pd.DataFrame({"cum_population_share": [0, 0.5, 1], "cum_activity_share": [0, 0.25, 1]})
    assert N.concentration_index(curve) == pytest.approx(0.25)  # docstring example
    equal = pd.DataFrame({"cum_population_share": [0, 0.5, 1], "cum_activity_share": [0, 0.5, 1]})
    assert N.concentration_index(equal) == pytest.approx(0.0)


def test_default_bundle_exposed_total_matches_seed(default_bundle):
    # seed, Annexe 3, "Moyenne département" row: 118 010 fragile people
    acc = N.accompaniments_by_territory(default_bundle, start="2025-01-01", end="2025-12-31",
                                        levels=("departement",))
    assert acc["exposed_population"].iloc[0] == 118010
