"""Tests of fne_eval.store.figures and fne_eval.cli.figures: the seed's figures on the embedded bundle, and JSON/text output.

Expected values come from the seed (feuille de route, section 3 « Données INSEE 2021 » and
annexe 6) and from DOMAIN.md (IFN mean 5.25 over the 134 valued communes/arrondissements).
"""
import json
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from fne_eval.cli.figures import cmd_figures, figures_to_text
from fne_eval.store.figures import figures_to_json, headline_figures

EPCI_2021 = {  # seed, section 3, « Données INSEE 2021 »
    "200054807": 1911311,  # Métropole Aix-Marseille-Provence
    "241300375": 27712,  # CC Vallée des Baux-Alpilles
    "200035087": 60434,  # CA Terre de Provence
    "241300417": 83429,  # CA Arles-Crau-Camargue-Montagnette
}


_TABLES = {}


def default_bundle_tables():
    return _TABLES["t"]


@pytest.fixture(scope="module")
def dept_2021(default_bundle):
    _TABLES["t"] = default_bundle.tables
    return headline_figures(default_bundle, year=2021)


def test_departement_2021_reproduces_the_seed(dept_2021):
    f = dept_2021
    assert f["territory"] == {"code": "13", "name": "Bouches-du-Rhône", "level": "departement"}
    # département = its own communes only (PROVENANCE.md: 2 056 943 for millésime 2021)
    assert f["population"] == {"value": 2056943, "year": 2021}
    # 1 911 311 + 27 712 + 60 434 + 83 429 = 2 082 886 (the seed's « population de 2 082 886 habitants »)
    assert f["population_members_total"]["value"] == 2082886
    assert f["population_members_total"]["epci"] == EPCI_2021
    # annexe 6: 6 000 + 3 686 + 1 584 + 2 975 + 1 950 + 20 557 + 11 219 + 11 418 + 9 272 + 2 772 = 71 433
    assert f["budget"]["planned_eur"] == Decimal("71433.00")
    assert f["ifn"]["value"] == pytest.approx(hand_weighted_ifn(default_bundle_tables(), "13", 2021), abs=1e-9)
    assert sum(f["actions_by_status"].values()) == 10


@pytest.mark.parametrize("siren", sorted(EPCI_2021))
def test_epci_populations_2021(default_bundle, siren):
    f = headline_figures(default_bundle, siren, year=2021)
    assert f["territory"]["level"] == "epci"
    assert f["population"] == {"value": EPCI_2021[siren], "year": 2021}
    assert "pas territorialisé" in f["budget"]["note"]
    # the EPCI's IFN is the published one (DOMAIN.md c1: AMP 5.10, CATP 5.57, CCVBA 6.22, ACCM 6.43)
    published = {"200054807": 5.10, "200035087": 5.57, "241300375": 6.22, "241300417": 6.43}[siren]
    assert f["ifn"]["value"] == pytest.approx(published, abs=0.005)


def test_json_agrees_with_functions(default_bundle, dept_2021):
    from fne_eval.evaluate.budget import budget_execution
    from fne_eval.evaluate.meteo import action_meteo
    from fne_eval.core.territory import territory_population

    t = default_bundle.tables
    data = json.loads(figures_to_json(dept_2021))
    assert data["population"]["value"] == territory_population(t["territories"], t["populations"], "13", 2021)[0]
    lines = t["budget_lines"][t["budget_lines"]["action_code"].notna()]
    ex = budget_execution(lines, t["budget_transactions"], t["actions"], as_of=dept_2021["as_of"], totals=True)
    tot = ex[ex["is_total"]].iloc[0]
    assert data["budget"]["paid_eur"] == pytest.approx(float(tot["paid_eur"]))
    assert data["budget"]["committed_eur"] == pytest.approx(float(tot["committed_eur"]))
    meteo = action_meteo(default_bundle, dept_2021["as_of"])
    assert data["actions_by_status"]["red"] == int((meteo["final_status"] == "red").sum())
    # lieux per 10 000 = lieux / population × 10 000
    assert data["lieux_per_10k"] == pytest.approx(data["lieux"] / 2056943 * 10000)


def test_json_amounts_have_two_decimals():
    text = figures_to_json({"budget": {"planned_eur": Decimal("71433"), "paid_eur": Decimal("0.1") + Decimal("0.2")}})
    assert '"planned_eur": 71433.00' in text and '"paid_eur": 0.30' in text
    assert json.loads(text)["budget"]["paid_eur"] == 0.3


def test_text_is_french(dept_2021):
    text = figures_to_text(dept_2021)
    assert "2\u202f056\u202f943 habitants" in text and "71\u202f433\xa0€" in text
    assert "5,18" in text and "synthétiques" in text


def test_cmd_unknown_territory(capsys):
    rc = cmd_figures(SimpleNamespace(bundle=None, territory="99999", year=None, json=False))
    assert rc == 1
    assert "99999" in capsys.readouterr().err


def test_cli_json_2021(capsys):
    # `fne-eval figures --year 2021 --json`, run in-process through the CLI entry point
    from fne_eval.cli.main import main

    assert main(["figures", "--year", "2021", "--json"]) == 0
    stdout = capsys.readouterr().out
    data = json.loads(stdout)
    assert data["population"]["value"] == 2056943 and data["population_members_total"]["value"] == 2082886
    assert data["population_members_total"]["epci"] == EPCI_2021
    assert data["budget"]["planned_eur"] == 71433.0 and "71433.00" in stdout
    assert round(data["ifn"]["value"], 2) == 5.18


def _mini_bundle():
    from fne_eval.bundle.io import Bundle, coerce_table
    from fne_eval.bundle.spec import TABLES

    rows = {
        "territories": [
            dict(territory_code="13", territory_name="BdR", level="departement", departement_code="13", in_scope="true", source="s"),
            dict(territory_code="200000001", territory_name="EPCI A", level="epci", in_scope="true", source="s"),
            dict(territory_code="13001", territory_name="C1", level="commune", departement_code="13",
                 epci_siren="200000001", in_scope="true", source="s"),
            dict(territory_code="13002", territory_name="C2", level="commune", departement_code="13",
                 epci_siren="200000001", in_scope="true", source="s")],
        "populations": [dict(territory_code="13001", year=2021, population=800, source="s"),
                        dict(territory_code="13002", year=2021, population=1200, source="s")],
        "activities": [
            dict(activity_id=i, date="2025-03-01", activity_type="individuel", place_type="lieu_activite", participants=p,
                 duration_min=30, themes="email", beneficiary_commune_code=c, age_band="non_communique",
                 gender="non_communique", social_status="non_communique")
            for i, c, p in [("a1", "13001", 3), ("a2", "13002", 7)]],
        "lieux": [dict(id="l1", nom="l", commune="c", code_postal="13000", territory_code="13002", date_maj="2025-01-01")],
    }
    tables = {name: coerce_table(pd.DataFrame(rows.get(name, []), columns=t.column_names), t)
              for name, t in TABLES.items()}
    return Bundle(tables=tables, meta={"data_as_of": "2025-12-31"})


def test_small_counts_are_suppressed():
    b = _mini_bundle()
    # commune 13001: 3 persons < 5 -> hidden, and its rate too
    a = headline_figures(b, "13001")["participations"]
    assert a["is_suppressed"] and a["value"] is None and a["per_1000"] is None and a["year"] == 2025
    assert "secret statistique" in figures_to_text(headline_figures(b, "13001"))
    # département: 3 + 7 = 10 persons for 800 + 1 200 = 2 000 inhabitants -> 5 per 1 000
    f = headline_figures(b)
    assert f["participations"]["value"] == 10 and f["participations"]["per_1000"] == pytest.approx(5.0)
    assert f["accompaniments"]["is_suppressed"]  # two activity records: a small count, hidden
    # 13002's 7 would give 13001's 3 back (10 - 7): the store hides it too, in every output
    assert headline_figures(b, "13002")["participations"]["is_suppressed"]
    # 1 lieu for 2 000 inhabitants -> 5 per 10 000; no budget line -> 0 planned; no action -> no status
    assert f["lieux"] == 1 and f["lieux_per_10k"] == pytest.approx(5.0)
    assert f["budget"]["planned_eur"] == Decimal("0.00") and sum(f["actions_by_status"].values()) == 0
    with pytest.raises(ValueError):
        headline_figures(b, "13001", year=2019)  # no population for that millésime


def test_marseille_and_an_arrondissement(default_bundle):
    lieux = default_bundle["lieux"]
    # PROVENANCE.md: Marseille, population municipale millésime 2021 = 873 076 (sum of its 16 arrondissements)
    m = headline_figures(default_bundle, "13055", year=2021)
    assert m["population"]["value"] == 873076 and m["territory"]["level"] == "commune"
    # Marseille's lieux: those keyed by an arrondissement 13201-13216 or by 13055 itself
    codes = lieux["territory_code"].astype(str)
    assert m["lieux"] == int((codes.str.match(r"^132(0[1-9]|1[0-6])$") | (codes == "13055")).sum())
    a = headline_figures(default_bundle, "13201", year=2021)
    assert a["territory"]["level"] == "arrondissement" and a["lieux"] == int((codes == "13201").sum())
    ifn = default_bundle["ifn"]
    published = ifn[(ifn["territory_code"].astype(str) == "13201") & (ifn["variant"].astype(str) == "tout_age")]
    assert a["ifn"]["value"] == pytest.approx(float(published.sort_values("vintage")["ifn_total"].iloc[-1]))


# --------------------------------------------------------------------------- IFN, one definition
def hand_weighted_ifn(tables, dept: str, year: int) -> float:
    """IFN of a département computed here by hand: tout_age, latest vintage, each commune or
    arrondissement weighted by its population of ``year`` (arrondissements for Marseille)."""
    ifn = tables["ifn"]
    ifn = ifn[(ifn["variant"].astype(str) == "tout_age").to_numpy()]
    ifn = ifn[(ifn["vintage"].astype(str) == sorted(ifn["vintage"].astype(str).unique())[-1]).to_numpy()]
    pops = tables["populations"]
    pops = pops[(pd.to_numeric(pops["year"]) == year).to_numpy()]
    terr = tables["territories"]
    units = terr[(terr["level"].astype(str).isin(["commune", "arrondissement"])
                  & (terr["departement_code"].astype(str) == dept)).to_numpy()]
    units = units[~units["territory_code"].astype(str).isin(["13055"])]  # Marseille counts by arrondissement
    m = units[["territory_code"]].astype(str).merge(
        ifn[["territory_code", "ifn_total"]].astype({"territory_code": str}), on="territory_code").merge(
        pops[["territory_code", "population"]].astype({"territory_code": str}), on="territory_code")
    m = m.dropna(subset=["ifn_total", "population"])
    w = pd.to_numeric(m["population"]).astype(float)
    return float((pd.to_numeric(m["ifn_total"]).astype(float) * w).sum() / w.sum())


def test_departement_ifn_is_weighted_by_population(default_bundle):
    """One definition: the département's IFN is its units' mean weighted by population (5,18 for 2025)."""
    from fne_eval import store

    s = store.load(default_bundle, year=2025)
    got = s[(s["indicator"] == "ifn") & (s["territory_code"] == "13")]["value"].iloc[0]
    assert got == pytest.approx(hand_weighted_ifn(default_bundle.tables, "13", 2023), abs=1e-9)
    assert round(got, 2) == 5.18  # the figure (the unweighted mean, 5,25, is gone)
    f = headline_figures(default_bundle, year=2025)
    assert f["ifn"]["value"] == pytest.approx(got, abs=1e-12)
