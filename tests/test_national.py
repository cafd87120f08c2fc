"""National bundle and one-pass evaluation of every territory (fne_eval.evaluate.national)."""
import csv

import numpy as np
import pandas as pd
import pytest

from fne_eval.evaluate.national import (ARRONDISSEMENT_PARENTS, RESULT_COLUMNS, evaluate_all_levels,
                               evaluate_per_territory, national_reference_tables)
from fne_eval.core.paths import NATIONAL_DIR

E1, E2 = "200054807", "241300417"


@pytest.fixture()
def tiny():
    """Two départements, two EPCI (E1 crosses into 84), Marseille with 2 arrondissements."""
    territories = pd.DataFrame({
        "territory_code": ["13", "84", E1, E2, "13001", "84089", "13055", "13201", "13202", "13004"],
        "territory_name": ["BdR", "Vaucluse", "AMP", "ACCM", "Aix", "Pertuis", "Marseille", "M1", "M2", "Arles"],
        "level": ["departement", "departement", "epci", "epci", "commune", "commune", "commune",
                  "arrondissement", "arrondissement", "commune"],
        "departement_code": ["13", "84", None, None, "13", "84", "13", "13", "13", "13"],
        "epci_siren": [None, None, None, None, E1, E1, E1, E1, E1, E2],
        "commune_code": [None] * 7 + ["13055", "13055", None],
    }, dtype="string")
    populations = pd.DataFrame({
        "territory_code": ["13001", "84089", "13201", "13202", "13004", "13055"],
        "year": [2023] * 6, "population": [100, 50, 200, 300, 400, 500]})
    ifn = pd.DataFrame({"territory_code": ["13001", "84089", "13201", "13202", "13004"],
                        "variant": ["tout_age"] * 5, "ifn_total": [4.0, 6.0, 8.0, 2.0, 5.0]})
    lieux = pd.DataFrame({"id": ["L1", "L2", "L3", "L4"], "territory_code": ["13001", "13201", "13201", "13004"]})
    activities = pd.DataFrame({
        "date": pd.to_datetime(["2024-03-01", "2024-05-01", "2025-01-10", "2025-02-10", "2025-06-01",
                                "2025-07-01", "2025-08-01"]),
        "beneficiary_commune_code": pd.array(["13001", "13201", "13201", "13055", "84089", None, "13004"],
                                             dtype="string"),
        "participants": [1, 5, 1, 2, 1, 3, 4],
        "duration_min": [30, 120, 60, 45, 30, 60, 90],
        "activity_type": ["individuel", "collectif", "individuel", "individuel", "individuel", "collectif",
                          "collectif"],
    })
    return {"territories": territories, "populations": populations, "ifn": ifn, "lieux": lieux,
            "activities": activities}


def _row(res, code, year):
    sel = res[(res["territory_code"] == code) & (res["year"] == year)]
    assert len(sel) == 1, (code, year, sel)
    return sel.iloc[0]


def test_epci_crossing_the_border_and_rates(tiny):
    res = evaluate_all_levels(tiny)
    assert list(res.columns) == RESULT_COLUMNS
    r = _row(res, E1, 2024)  # a1 (13001) + a2 (13201)
    assert (r["n_activities"], r["participants"], r["n_collective"]) == (2, 6, 1)
    assert r["duration_h"] == pytest.approx(150 / 60)  # 30 + 120 min
    r = _row(res, E1, 2025)  # a3 (13201) + a4 (13055) + a5 (84089, outside the département)
    assert (r["n_activities"], r["participants"]) == (3, 4)
    assert r["population"] == 650  # 100 + 50 + 200 + 300 (13055's own row is not added)
    assert r["accompaniments_per_1000"] == pytest.approx(4 / 650 * 1000)
    assert r["n_lieux"] == 3 and r["lieux_per_10000"] == pytest.approx(3 / 650 * 10_000)
    # IFN weighted by population: (4×100 + 6×50 + 8×200 + 2×300) / 650 = 2900 / 650
    assert r["ifn_total"] == pytest.approx(2900 / 650)


def test_departements_communes_and_arrondissements(tiny):
    res = evaluate_all_levels(tiny)
    r = _row(res, "13", 2025)  # a3 + a4 + a7; Pertuis (84) and the unknown a6 are not in the 13
    assert (r["n_activities"], r["participants"]) == (3, 7)
    assert r["population"] == 1000  # 100 + 200 + 300 + 400
    assert r["accompaniments_per_1000"] == pytest.approx(7.0)
    r = _row(res, "84", 2025)
    assert (r["n_activities"], r["participants"], r["population"]) == (1, 1, 50)
    r = _row(res, "13055", 2025)  # a3 (13201) + a4 keyed by the commune itself
    assert (r["n_activities"], r["participants"], r["population"]) == (2, 3, 500)
    r = _row(res, "13202", 2025)  # no record: present with zeros (complete)
    assert (r["n_activities"], r["participants"], r["population"]) == (0, 0, 300)
    assert r["accompaniments_per_1000"] == 0
    r = _row(res, "13004", 2024)
    assert r["n_activities"] == 0 and r["n_lieux"] == 1
    # one row per territory of each level × year: 2 départements, 2 EPCI, 4 communes, 2 arr. × 2 years
    assert res.groupby("level").size().to_dict() == {"arrondissement": 4, "commune": 8, "departement": 4,
                                                     "epci": 4}


def test_one_pass_agrees_with_filtering_per_territory(tiny):
    res = evaluate_all_levels(tiny)
    codes = tiny["territories"]["territory_code"].tolist()
    loop = evaluate_per_territory(tiny, codes)
    merged = loop.merge(res, on=["territory_code", "year"], suffixes=("_loop", ""), validate="1:1")
    assert len(merged) == len(loop) > 0
    assert (merged["n_activities_loop"] == merged["n_activities"]).all()
    assert (merged["participants_loop"] == merged["participants"]).all()


def test_categorical_codes_give_the_same_result(tiny):
    cat = dict(tiny)
    act = tiny["activities"].copy()
    act["beneficiary_commune_code"] = act["beneficiary_commune_code"].astype("category")
    act["activity_type"] = act["activity_type"].astype("category")
    cat["activities"] = act
    pd.testing.assert_frame_equal(evaluate_all_levels(cat), evaluate_all_levels(tiny))


def test_years_and_levels_options(tiny):
    res = evaluate_all_levels(tiny, levels=["epci"], years=[2025])
    assert set(res["level"]) == {"epci"} and set(res["year"]) == {2025}
    with pytest.raises(ValueError):
        evaluate_all_levels(tiny, levels=["region"])


# --------------------------------------------------------------------------- national files
@pytest.fixture(scope="module")
def national():
    return national_reference_tables()


def _csv_rows(name):
    with open(NATIONAL_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_national_territories_match_the_files(national):
    communes = _csv_rows("communes_france.csv")
    epci = _csv_rows("epci_france.csv")
    t = national["territories"]
    counts = t["level"].value_counts().to_dict()
    n_arr = sum(r["type"] == "arrondissement-municipal" for r in communes)
    assert counts["epci"] == len(epci) == 1255
    assert counts["arrondissement"] == n_arr == 45
    assert counts["commune"] == len(communes) - n_arr
    assert counts["departement"] == len({r["departement"] for r in communes})
    codes = t.set_index("territory_code")
    assert codes.loc["75101", "commune_code"] == "75056"
    assert codes.loc["69381", "commune_code"] == "69123"
    assert codes.loc["13201", "commune_code"] == "13055"
    # an arrondissement belongs to its commune's EPCI (Paris: Métropole du Grand Paris)
    assert codes.loc["75101", "epci_siren"] == codes.loc["75056", "epci_siren"] == "200054781"
    assert set(ARRONDISSEMENT_PARENTS.values()) <= set(codes.index)
    # in scope: the roadmap's territories, as in the embedded bundle (1 + 4 EPCI + 119 communes + 16 arr.)
    in_13 = [r for r in communes if r["departement"] == "13"]
    scope = t[t["in_scope"].astype(bool)]["level"].value_counts().to_dict()
    assert scope == {"departement": 1, "epci": 4, "commune": sum(r["type"] == "commune-actuelle" for r in in_13),
                     "arrondissement": 16}
    assert scope["commune"] == 119


def test_national_population_is_the_sum_of_local_units(national):
    from fne_eval.core.territory import population_by_territory

    communes = _csv_rows("communes_france.csv")
    parents = set(ARRONDISSEMENT_PARENTS.values())
    # local units: every commune without arrondissements, and the arrondissements
    expected = sum(int(r["population"]) for r in communes if r["population"] and r["code_insee"] not in parents)
    pops = population_by_territory(national["territories"], national["populations"], 2023,
                                   levels=["departement"])
    assert int(pops["population"].sum()) == expected
    paris = population_by_territory(national["territories"], national["populations"], 2023, levels=["commune"])
    arr_paris = sum(int(r["population"]) for r in communes if r["code_insee"].startswith("751")
                    and r["type"] == "arrondissement-municipal")
    assert int(paris.loc[paris["territory_code"] == "75056", "population"].iloc[0]) == arr_paris


@pytest.mark.slow
def test_national_bundle_validates_and_evaluates(tmp_path):
    from fne_eval.bundle.validate import validate_bundle
    from fne_eval.evaluate.national import build_national_bundle

    out = build_national_bundle(tmp_path / "nat", n_activities=3_000, seed=7)
    assert (out / "activities.parquet").exists() and not (out / "activities.csv").exists()
    result = validate_bundle(out)
    assert result.valid, result.errors[:5]
    from fne_eval.bundle import load_bundle

    b = load_bundle(out)
    assert b.is_synthetic and len(b["activities"]) == 3_000
    res = evaluate_all_levels(b, levels=["departement"])
    located = b["activities"]["beneficiary_commune_code"].notna()
    # every located record is in exactly one département
    assert res["n_activities"].sum() == int(located.sum())
    assert np.isfinite(res["accompaniments_per_1000"].dropna()).all()
