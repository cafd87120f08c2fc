"""Tests of fne_eval.evaluate.quality: each rule on a tiny inline bundle that triggers it and one
that does not, then the seed's own slips found on the embedded default bundle.

Expected values are computed by hand (arithmetic in comments) or read from the seed
(`tests/data/seed/feuille-de-route-fne-13.txt`) and PROVENANCE.md.
"""
import json

import pandas as pd
import pytest

from fne_eval.bundle.io import Bundle, coerce_table, write_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.quality import (
    FINDING_COLUMNS, RULES, mixed_script_words, quality_findings, quality_rules_table,
    summarize_findings,
)


def plain(text: str) -> str:
    """Replace the no-break spaces of French formatting by plain spaces."""
    return str(text).replace("\u202f", " ").replace("\xa0", " ")


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows), TABLES[name])


def bundle(as_of=None, **tables):
    return Bundle(tables={k: typed(k, v) for k, v in tables.items()},
                  meta={"data_as_of": as_of} if as_of else {}, source="inline")


def run(b, rule, **kw):
    f = quality_findings(b, rules=[rule], **kw)
    return [dict(r, message=plain(r["message"])) for r in f.to_dict("records")]


TERRITORIES = [
    {"territory_code": "13", "territory_name": "Bouches-du-Rhône", "level": "departement",
     "in_scope": True, "source": "t"},
    {"territory_code": "200000001", "territory_name": "EPCI Un", "level": "epci", "in_scope": True, "source": "t"},
    {"territory_code": "200000002", "territory_name": "EPCI Deux", "level": "epci", "in_scope": True, "source": "t"},
    {"territory_code": "13001", "territory_name": "Aix-en-Provence", "level": "commune", "departement_code": "13",
     "epci_siren": "200000001", "in_scope": True, "source": "t"},
    {"territory_code": "13004", "territory_name": "Arles", "level": "commune", "departement_code": "13",
     "epci_siren": "200000002", "in_scope": True, "source": "t"},
    {"territory_code": "84089", "territory_name": "Pertuis", "level": "commune", "departement_code": "84",
     "epci_siren": "200000002", "in_scope": False, "source": "t"},
]


def exposed(*rows):
    out = []
    for i, r in enumerate(rows, start=1):
        base = {"row_number": i, "printed_postal_code": "", "printed_ifn": 6.0, "is_total_row": False}
        base.update(r)
        out.append(base)
    return out


# =========================================================================== registry
def test_registry_and_columns():
    table = quality_rules_table()
    assert list(table.columns) == ["rule", "description"]
    assert table["rule"].is_unique and len(table) == len(RULES) >= 14
    empty = quality_findings(bundle())
    assert list(empty.columns) == FINDING_COLUMNS + ["territory_code"] and len(empty) == 0


def test_unknown_rule_raises():
    with pytest.raises(ValueError):
        quality_findings(bundle(), rules=["no_such_rule"])


# =========================================================================== ratios
def test_share_above_100_triggers():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "Village", "printed_population": 125, "printed_fragile_population": 513,
         "printed_share_pct": 410}))
    (f,) = run(b, "share_above_100")
    assert f["severity"] == "error" and f["key"] == "row_number=1"
    # 513 / 125 = 4.104 → 410,4 %
    assert "410 % > 100 %" in f["message"] and "410,4 %" in f["message"]


def test_share_above_100_quiet():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "Ville", "printed_population": 1000, "printed_fragile_population": 310,
         "printed_share_pct": 31}))
    assert run(b, "share_above_100") == []


def test_share_recomputed_triggers_beyond_rounding():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "Ville", "printed_population": 1000, "printed_fragile_population": 300,
         "printed_share_pct": 25}))
    (f,) = run(b, "share_recomputed")
    assert "300 / 1 000 = 30,0 %" in f["message"]  # 300 / 1000 = 30 %


def test_share_recomputed_quiet_within_rounding():
    # 513 / 125 = 410.4 % printed 410 %: within half a unit; 1605 / 16669 = 9.63 % printed 10 %
    b = bundle(exposed_communes=exposed(
        {"printed_name": "A", "printed_population": 125, "printed_fragile_population": 513, "printed_share_pct": 410},
        {"printed_name": "B", "printed_population": 16669, "printed_fragile_population": 1605, "printed_share_pct": 10}))
    assert run(b, "share_recomputed") == []


def _context(*rows):
    out = []
    for r in rows:
        base = {"label": r["figure_id"], "unit": "persons", "reference_date": "2021", "source": "s",
                "seed_location": "l"}
        base.update(r)
        out.append(base)
    return out


def test_share_recomputed_context_figures():
    b = bundle(territories=TERRITORIES, context_figures=_context(
        {"figure_id": "tot", "territory_code": "13", "indicator": "population_epci_sum", "value": 200},
        {"figure_id": "a", "territory_code": "200000001", "indicator": "population", "value": 150},
        {"figure_id": "a_share", "territory_code": "200000001", "indicator": "population_share",
         "value": 80.0, "unit": "pct"}))
    (f,) = run(b, "share_recomputed")
    assert f["key"] == "figure_id=a_share" and "150 / 200 = 75,00 %" in f["message"]  # 150/200 = 75 %


# =========================================================================== totals
def test_total_row_is_a_sum_not_a_mean():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "A", "printed_population": 100, "printed_fragile_population": 30, "printed_share_pct": 30,
         "printed_ifn": 6.0},
        {"printed_name": "B", "printed_population": 50, "printed_fragile_population": 20, "printed_share_pct": 40,
         "printed_ifn": 7.0},
        {"printed_name": "Moyenne département", "printed_population": 150, "printed_fragile_population": 50,
         "printed_share_pct": 33, "printed_ifn": 6.5, "is_total_row": True}))
    (f,) = run(b, "total_row")
    # 100 + 50 = 150 ; 30 + 20 = 50 ; (6.0 + 7.0) / 2 = 6.5
    assert "population 150 = somme des 2 lignes" in f["message"]
    assert "IFN 6,5 = moyenne des lignes" in f["message"]
    assert "pas une moyenne" in f["message"] and f["severity"] == "warning"


def test_total_row_not_the_sum():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "A", "printed_population": 100, "printed_fragile_population": 30, "printed_share_pct": 30},
        {"printed_name": "Total", "printed_population": 160, "printed_fragile_population": 30, "printed_share_pct": 19,
         "is_total_row": True}))
    (f,) = run(b, "total_row")
    assert "population 160 ≠ somme des 1 lignes (100)" in f["message"]


def test_total_row_quiet_when_a_true_total():
    b = bundle(exposed_communes=exposed(
        {"printed_name": "A", "printed_population": 100, "printed_fragile_population": 30, "printed_share_pct": 30},
        {"printed_name": "Total", "printed_population": 100, "printed_fragile_population": 30,
         "printed_share_pct": 30, "is_total_row": True}))
    assert run(b, "total_row") == []


def _pops(year, **values):
    return [{"territory_code": k.lstrip("c"), "year": year, "population": v, "source": "s"} for k, v in values.items()]


def test_parts_vs_total_sum_and_perimeter():
    b = bundle(
        territories=TERRITORIES,
        populations=_pops(2021, c13001=60, c13004=30, c84089=20),
        context_figures=_context(
            {"figure_id": "tot", "territory_code": "13", "indicator": "population_epci_sum", "value": 120},
            {"figure_id": "e1", "territory_code": "200000001", "indicator": "population", "value": 60},
            {"figure_id": "e2", "territory_code": "200000002", "indicator": "population", "value": 50}))
    msgs = [f["message"] for f in run(b, "parts_vs_total")]
    # 60 + 50 = 110 ≠ 120
    assert any("120 ≠ somme des 2 EPCI (110)" in m for m in msgs)
    # département = 60 + 30 = 90 ; EPCI members incl. Pertuis = 60 + 30 + 20 = 110
    (per,) = [m for m in msgs if "n'est pas la population du département" in m]
    assert "(90, millésime 2021)" in per and "Pertuis (84089, 20)" in per


def test_parts_vs_total_quiet():
    terr = [t for t in TERRITORIES if t["territory_code"] != "84089"]
    b = bundle(territories=terr, populations=_pops(2021, c13001=60, c13004=50),
               context_figures=_context(
                   {"figure_id": "tot", "territory_code": "13", "indicator": "population_epci_sum", "value": 110},
                   {"figure_id": "e1", "territory_code": "200000001", "indicator": "population", "value": 60},
                   {"figure_id": "e2", "territory_code": "200000002", "indicator": "population", "value": 50}))
    assert run(b, "parts_vs_total") == []


# =========================================================================== codes
def test_postcode_shared_and_colliding():
    b = bundle(territories=TERRITORIES, exposed_communes=exposed(
        {"printed_postal_code": "13100", "printed_name": "Saint-Antonin-sur-Bayon", "territory_code": "13090",
         "printed_population": 125, "printed_fragile_population": 10, "printed_share_pct": 8},
        {"printed_postal_code": "13100", "printed_name": "Saint-Marc-Jaumegarde", "territory_code": "13095",
         "printed_population": 1228, "printed_fragile_population": 10, "printed_share_pct": 1}))
    found = run(b, "postcode_as_code")
    keys = {f["key"]: f for f in found}
    assert keys["printed_postal_code=13100"]["severity"] == "warning"
    assert "13090" in keys["printed_postal_code=13100"]["message"] and "13095" in keys["printed_postal_code=13100"]["message"]
    # 13100 is the INSEE code of Saint-Rémy-de-Provence (COG)
    assert "Saint-Rémy-de-Provence (13100)" in keys["row_number=1"]["message"]


def test_postcode_quiet_when_codes_are_insee():
    b = bundle(exposed_communes=exposed(
        {"printed_postal_code": "13004", "printed_name": "Arles", "territory_code": "13004",
         "printed_population": 1, "printed_fragile_population": 0, "printed_share_pct": 0}))
    assert run(b, "postcode_as_code") == []


LIEU = {"nom": "Lieu", "commune": "Aix-en-Provence", "code_postal": "13100", "territory_code": "13001",
        "date_maj": "2026-09-01"}


def test_lieu_code_insee_is_a_postcode():
    b = bundle(lieux=[dict(LIEU, id="l1", code_insee="13100", commune="Saint-Marc-Jaumegarde", territory_code="13095"),
                      dict(LIEU, id="l2", code_insee="13001")])
    (f,) = run(b, "postcode_as_code")
    assert f["key"] == "id=l1" and "code postal" in f["message"]


# =========================================================================== alphabets
def test_mixed_script_words():
    assert mixed_script_words("Réциpiendaire") == ["Réциpiendaire"]
    assert mixed_script_words("Récipiendaire, Москва, αβγ") == []  # one alphabet per word


def test_mixed_scripts_in_table_and_source_header(tmp_path):
    (tmp_path / "budget.csv").write_text("Budget FNE,Réциpiendaire\n6000,Hub du Sud\n", encoding="utf-8")
    b = bundle(budget_lines=[{"budget_line_id": "L1", "line_label": "x", "funder": "État",
                              "recipient": "Réциpiendaire", "source": "s"}])
    found = run(b, "mixed_scripts", sources_dir=tmp_path)
    assert {(f["table"], f["key"]) for f in found} == {
        ("budget_lines", "budget_line_id=L1, colonne recipient"), ("source:budget.csv", "en-tête")}
    assert all("U+0446" in f["message"] and "cyrillique" in f["message"] for f in found)


def test_mixed_scripts_quiet(tmp_path):
    (tmp_path / "budget.csv").write_text("Budget FNE,Récipiendaire\n", encoding="utf-8")
    b = bundle(budget_lines=[{"budget_line_id": "L1", "line_label": "x", "funder": "État",
                              "recipient": "Hub du Sud", "source": "s"}])
    assert run(b, "mixed_scripts", sources_dir=tmp_path) == []


# =========================================================================== sources and vintages
def test_vintage_mismatch():
    pops = _pops(2020, c13203=52277) + _pops(2021, c13203=53115) + _pops(2020, c13001=100) + _pops(2021, c13001=110)
    b = bundle(populations=pops, exposed_communes=exposed(
        {"printed_name": "Marseille 3e", "territory_code": "13203", "printed_population": 52227,
         "printed_fragile_population": 1, "printed_share_pct": 0},
        {"printed_name": "Aix", "territory_code": "13001", "printed_population": 110,
         "printed_fragile_population": 1, "printed_share_pct": 1}))
    found = run(b, "vintage_mismatch")
    assert len(found) == 1
    assert "52 227, ne correspond à aucun millésime (2020 : 52 277 ; 2021 : 53 115)" in found[0]["message"]


def test_vintage_mixed_millesimes_reported():
    pops = _pops(2020, c13001=100, c13004=50) + _pops(2021, c13001=110, c13004=55)
    b = bundle(populations=pops, exposed_communes=exposed(
        {"printed_name": "Aix", "territory_code": "13001", "printed_population": 100,
         "printed_fragile_population": 1, "printed_share_pct": 1},
        {"printed_name": "Arles", "territory_code": "13004", "printed_population": 55,
         "printed_fragile_population": 1, "printed_share_pct": 2}))
    (f,) = run(b, "vintage_mismatch")
    assert f["severity"] == "info" and "millésime 2020 pour 1 lignes (Aix)" in f["message"]


def test_ifn_mismatch():
    ifn = [{"territory_code": "13203", "variant": "tout_age", "vintage": "2021", "ifn_total": 5.61, "source": "s"}]
    rows = {"printed_name": "Marseille 3e", "territory_code": "13203", "printed_population": 1,
            "printed_fragile_population": 0, "printed_share_pct": 0}
    b = bundle(ifn=ifn, exposed_communes=exposed(dict(rows, printed_ifn=6.3)))
    found = run(b, "ifn_mismatch")
    assert [f["key"] for f in found] == ["row_number=1", "printed_ifn"]
    assert "1 IFN imprimés sur 1" in found[1]["message"]
    b = bundle(ifn=ifn, exposed_communes=exposed(dict(rows, printed_ifn=5.6)))  # round(5.61, 1) = 5.6
    assert run(b, "ifn_mismatch") == []


def test_epci_population_vs_members():
    pops = _pops(2021, c200000002=100, c13004=60, c84089=50)
    b = bundle(territories=TERRITORIES, populations=pops)
    (f,) = run(b, "epci_population_vs_members")
    assert "100" in f["message"] and "(110)" in f["message"]  # 60 + 50 = 110
    b = bundle(territories=TERRITORIES, populations=_pops(2021, c200000002=110, c13004=60, c84089=50))
    assert run(b, "epci_population_vs_members") == []


def test_figures_disagree_communes_and_lieux():
    ctx = _context({"figure_id": "n", "territory_code": "13", "indicator": "communes_studied", "value": 93,
                    "unit": "communes"},
                   {"figure_id": "l", "territory_code": "13", "indicator": "lieux_inclusion_numerique",
                    "value": 150, "unit": "places"})
    b = bundle(territories=TERRITORIES, context_figures=ctx, lieux=[dict(LIEU, id="a"), dict(LIEU, id="b")])
    found = {f["key"]: f for f in run(b, "figures_disagree")}
    assert "le référentiel en compte 2" in found["figure_id=n"]["message"]  # Aix + Arles in dept 13
    assert "en compte 2" in found["figure_id=l"]["message"]


def test_figures_disagree_quiet():
    ctx = _context({"figure_id": "n", "territory_code": "13", "indicator": "communes_studied", "value": 2,
                    "unit": "communes"})
    assert run(bundle(territories=TERRITORIES, context_figures=ctx), "figures_disagree") == []


# =========================================================================== staleness
def test_stale_lieux():
    lieux = [dict(LIEU, id="fake", date_maj="1970-01-01"),
             dict(LIEU, id="m12", date_maj="2025-10-01"),  # 2025-10-01 → 2026-10-31: 12 months
             dict(LIEU, id="m17", date_maj="2025-05-01"),  # 17 months
             dict(LIEU, id="m18", date_maj="2025-04-30"),  # 12 + 6 = 18 months
             dict(LIEU, id="fresh", date_maj="2026-06-01")]  # 5 months
    found = {f["key"]: f for f in run(bundle(as_of="2026-10-31", lieux=lieux), "stale_lieux")}
    assert set(found) == {"id=fake", "id=m12", "id=m17", "id=m18"}
    assert found["id=fake"]["severity"] == "error" and "date factice" in found["id=fake"]["message"]
    assert "à vérifier" in found["id=m12"]["message"] and "12 mois" in found["id=m12"]["message"]
    assert "à vérifier" in found["id=m17"]["message"]
    assert "à actualiser" in found["id=m18"]["message"] and "18 mois" in found["id=m18"]["message"]
    assert found["id=m18"]["territory_code"] == "13001"


def test_stale_lieux_without_date_of_data_only_flags_placeholder():
    lieux = [dict(LIEU, id="fake", date_maj="1970-01-01"), dict(LIEU, id="old", date_maj="2020-01-01")]
    assert [f["key"] for f in run(bundle(lieux=lieux), "stale_lieux")] == ["id=fake"]


# =========================================================================== duplicates
def test_duplicates_lieux_and_pivots():
    lieux = [dict(LIEU, id="a", nom="Point Numérique", pivot="12345678901234", adresse="1 rue A"),
             dict(LIEU, id="b", nom="POINT NUMERIQUE", pivot="12345678901234", adresse="1 rue A"),
             dict(LIEU, id="c", nom="Autre", pivot="00000000000000"),
             dict(LIEU, id="d", nom="Encore", pivot="00000000000000")]
    found = {f["key"]: f for f in run(bundle(lieux=lieux), "duplicates")}
    assert "à la même adresse" in found["id=a, b"]["message"]
    assert found["pivot=12345678901234"]["severity"] == "info"
    assert "pivot factice" in found["pivot=00000000000000"]["message"]


def test_duplicates_activities_and_keys():
    act = {"date": "2025-03-04", "lieu_id": "a", "mediator_id": "M1", "activity_type": "individuel",
           "place_type": "lieu_activite", "participants": 1, "duration_min": 30, "themes": "email",
           "age_band": "non_communique", "gender": "non_communique", "social_status": "non_communique"}
    b = bundle(activities=[dict(act, activity_id="x1"), dict(act, activity_id="x2"),
                           dict(act, activity_id="x3", duration_min=45)],
               axes=[{"axis_code": "1", "axis_title": "a", "source": "s"}, {"axis_code": "1", "axis_title": "b", "source": "s"}])
    found = {f["key"]: f for f in run(b, "duplicates")}
    assert set(found) == {"activity_id=x1, x2", "axis_code=1"}
    assert found["axis_code=1"]["severity"] == "error"


def test_duplicates_quiet():
    lieux = [dict(LIEU, id="a", nom="Un", pivot="12345678901234"), dict(LIEU, id="b", nom="Deux", pivot="98765432109876")]
    assert run(bundle(lieux=lieux), "duplicates") == []


# =========================================================================== dates
def _task(tid, action, start, end, label=None, source="« Calendrier axe 2 » : x"):
    return {"task_id": tid, "action_code": action, "task_label": label or tid, "planned_start": start,
            "planned_end": end, "source": source}


def test_dates_backwards():
    tasks = [_task("t1", "2.1", "2024-10-01", "2024-12-31"),
             _task("t2", "2.1", "2025-01-01", "2025-03-31"),
             _task("t3", "2.1", "2024-04-01", "2024-06-30"),  # printed after a 2025 step
             _task("t4", "2.1", "2025-06-01", "2025-05-01")]  # ends before it starts
    found = {f["key"]: f for f in run(bundle(schedule_tasks=tasks), "dates_backwards")}
    assert set(found) == {"task_id=t3", "task_id=t4"}
    assert found["task_id=t4"]["severity"] == "error"
    assert "imprimée après « t2 »" in found["task_id=t3"]["message"]


def test_dates_backwards_separate_calendars_and_repeated_items():
    tasks = [_task("a1", "1.2", "2025-10-01", "2025-12-31", source="Annexe 5 « Chronogramme » x"),
             _task("b1", "2.1", "2025-01-01", "2025-03-31", source="Annexe 5 « Chronogramme » y"),  # other axis
             _task("c1", "1.3", "2024-10-01", "2024-12-31", "GT", "« Cal axe 1 » : GT"),
             _task("c2", "1.3", "2025-10-01", "2027-12-31", "Réalisation", "« Cal axe 1 » : R"),
             _task("c3", "1.4", "2024-10-01", "2024-12-31", "GT", "« Cal axe 1 » : GT")]  # same printed item
    assert run(bundle(schedule_tasks=tasks), "dates_backwards") == []


# =========================================================================== budget
def _tx(tid, line, kind, amount, date="2025-01-15"):
    return {"transaction_id": tid, "budget_line_id": line, "date": date, "kind": kind, "amount_eur": amount}


def test_payment_without_commitment():
    lines = [{"budget_line_id": b, "line_label": "x", "funder": "État", "recipient": "Hub", "planned_eur": "1000",
              "source": "s"} for b in ("L1", "L2", "L3", "L4")]
    tx = [_tx("p1", "L1", "payment", "100"),
          _tx("c2", "L2", "commitment", "500"), _tx("p2", "L2", "payment", "500.01"),
          _tx("c3", "L3", "commitment", "1000.01"),
          _tx("c4", "L4", "commitment", "500", "2025-02-01"), _tx("p4", "L4", "payment", "100", "2025-01-01")]
    found = run(bundle(budget_lines=lines, budget_transactions=tx), "payment_without_commitment")
    msgs = {(f["key"], f["severity"]): f["message"] for f in found}
    assert "sans aucun engagement" in msgs[("budget_line_id=L1", "error")]
    assert "payé 500,01 € > engagé 500 €" in msgs[("budget_line_id=L2", "error")]
    assert "> prévu" in msgs[("budget_line_id=L3", "warning")]
    assert "avant le premier engagement" in msgs[("budget_line_id=L4", "warning")]
    assert len(found) == 4


def test_payment_quiet():
    tx = [_tx("c1", "L1", "commitment", "500"), _tx("p1", "L1", "payment", "500", "2025-03-01")]
    assert run(bundle(budget_transactions=tx), "payment_without_commitment") == []


# =========================================================================== the seed, on the default bundle
@pytest.fixture(scope="module")
def seed_findings(default_bundle):
    f = quality_findings(default_bundle)
    return f.assign(message=f["message"].map(plain))


def _one(f, rule, key):
    hit = f[(f["rule"] == rule) & (f["key"] == key)]
    assert len(hit) == 1, (rule, key, hit)
    return hit.iloc[0]


def test_seed_saint_antonin_410(seed_findings):
    r = _one(seed_findings, "share_above_100", "row_number=19")
    # Annexe 3: 513 fragile for a population of 125: 513 / 125 = 4.104 → 410,4 %
    assert r["severity"] == "error" and "Saint-Antonin-sur-Bayon" in r["message"]
    assert r["territory_code"] == "13090"  # COG: Saint-Antonin-sur-Bayon
    assert "513 personnes fragiles pour une population de 125, soit 410,4 %" in r["message"]


def test_seed_millesimes(seed_findings):
    r = _one(seed_findings, "vintage_mismatch", "row_number=3")
    # PROVENANCE.md: Marseille 3e 52 227 matches nothing, 2020 = 52 277
    assert "52 227, ne correspond à aucun millésime" in r["message"] and "2020 : 52 277" in r["message"]
    r = _one(seed_findings, "vintage_mismatch", "row_number=20")
    # PROVENANCE.md: Saint-Marc-Jaumegarde 1 228 matches nothing (2020 = 1 229, 2021 = 1 247)
    assert "1 228" in r["message"] and "2020 : 1 229 ; 2021 : 1 247" in r["message"]
    mixed = _one(seed_findings, "vintage_mismatch", "printed_population")
    # PROVENANCE.md: 2020 for Marseille 14e/15e/16e, Arles, Saintes-Maries, Peynier (+ Saint-Antonin's 125)
    assert "millésime 2020 pour 7 lignes" in mixed["message"]


def test_seed_13100_shared_postcode(seed_findings):
    r = _one(seed_findings, "postcode_as_code", "printed_postal_code=13100")
    assert "Saint-Antonin-sur-Bayon (13090)" in r["message"] and "Saint-Marc-Jaumegarde (13095)" in r["message"]


def test_seed_moyenne_departement_row(seed_findings):
    r = _one(seed_findings, "total_row", "row_number=24")
    # sum of the 23 printed populations: 79092 + 60968 + 52227 + 50968 + 16136 + 15423 + 13912
    # + 16009 + 9619 + 8446 + 5377 + 16669 + 2123 + 2698 + 3567 + 1733 + 2046 + 1783 + 125
    # + 1228 + 1041 + 887 + 289 = 362 366 — the « Moyenne » row is their SUM
    assert "population 362 366 = somme des 23 lignes" in r["message"]
    # fragile: 24411 + 19937 + … + 167 = 118 010
    assert "population fragile 118 010 = somme des 23 lignes" in r["message"]
    # IFN: 155.9 / 23 = 6.78 for the rows; 5.2 is the département's mean (seed section 3)
    assert "IFN 5,2 ≠ moyenne des 23 lignes (6,78)" in r["message"]
    assert "pas une moyenne" in r["message"] and "2 056 943" in r["message"]


def test_seed_93_communes(seed_findings):
    hit = seed_findings[(seed_findings["rule"] == "figures_disagree") & seed_findings["message"].str.contains("93 communes")]
    assert len(hit) == 1 and "119" in hit.iloc[0]["message"]


def test_seed_2082886_includes_two_outside_communes(seed_findings):
    hit = seed_findings[(seed_findings["rule"] == "parts_vs_total")
                        & seed_findings["message"].str.contains("2 082 886 n'est pas")]
    assert len(hit) == 1
    m = hit.iloc[0]["message"]
    # PROVENANCE.md: département 2 056 943 (2021); Pertuis 20 012, Saint-Zacharie 5 931
    assert "2 056 943" in m and "Pertuis (84089, 20 012)" in m and "Saint-Zacharie (83120, 5 931)" in m


def test_seed_ifn_count(seed_findings):
    # independent count: the printed IFN of Annexe 3 (seed) vs reference/ifn_13.csv rounded to 1 decimal
    from fne_eval.core.paths import REFERENCE_DIR

    printed = {"13215": 6.8, "13214": 6.7, "13203": 6.3, "13004": 6.9, "13077": 6.2, "13108": 7.2, "13014": 6.7,
               "13216": 6.2, "13100": 6.7, "13078": 8.0, "13084": 6.2, "13027": 6.5, "13096": 9.3, "13067": 7.2,
               "13072": 6.2, "13034": 7.6, "13049": 6.2, "13079": 6.8, "13090": 6.7, "13095": 6.4, "13111": 6.2,
               "13099": 6.6, "13011": 6.3}
    ifn = pd.read_csv(REFERENCE_DIR / "ifn_13.csv", dtype={"code": str}).set_index("code")["total"]
    expected = sum(abs(round(ifn[c], 1) - v) > 0.05 for c, v in printed.items())
    r = _one(seed_findings, "ifn_mismatch", "printed_ifn")
    assert f"{expected} IFN imprimés sur 23 diffèrent" in r["message"]
    assert ((seed_findings["rule"] == "ifn_mismatch") & seed_findings["key"].str.startswith("row_number")).sum() == expected


def test_seed_sources_disagree(seed_findings):
    msgs = " | ".join(seed_findings.loc[seed_findings["rule"] == "figures_disagree", "message"])
    # seed 150 lieux vs 226 in the Hub du Sud file; 36 France Services vs 32 in the ANCT list;
    # 112 / 79 conseillers vs 81 postes attribués / 66 recrutés (PROVENANCE.md)
    assert "150 (" in msgs and "en compte 226" in msgs
    assert "36 (" in msgs and ": 32" in msgs
    assert "112 (" in msgs and "postes attribués : 81" in msgs
    assert "79 (" in msgs and "conseillers recrutés : 66" in msgs
    assert "29 ; l'annexe des communes exposées en liste 23" in msgs


def test_seed_placeholder_dates_and_pivot(seed_findings):
    stale = seed_findings[seed_findings["rule"] == "stale_lieux"]
    assert (stale["message"].str.contains("date factice")).sum() == 47  # PROVENANCE.md: 47 placeholders
    assert (stale["severity"] == "error").sum() == 47
    r = _one(seed_findings, "duplicates", "pivot=00000000000000")
    assert "226 lieux" in r["message"]


def test_seed_roadmap_dates_backwards(seed_findings):
    hit = seed_findings[seed_findings["rule"] == "dates_backwards"]
    # seed axis 2: GT « deuxième trimestre 2024 » printed after Q1 2025; axis 3: exhibitions
    # tour « Deuxième trimestre 2024 » printed after October 2024
    assert sorted(m.split(" :")[0] for m in hit["message"]) == ["Action 2.1", "Action 3.2"]
    assert all("1er avril 2024" in m for m in hit["message"])


def test_summarize_findings(seed_findings):
    s = summarize_findings(seed_findings)
    assert s["n_findings"].sum() == len(seed_findings)


# =========================================================================== CLI
def test_cli_quality_json(tmp_path, capsys):
    from fne_eval.cli.main import main

    tables = {"exposed_communes": typed("exposed_communes", exposed(
        {"printed_name": "Village", "printed_population": 125, "printed_fragile_population": 513,
         "printed_share_pct": 410}))}
    write_bundle(tables, tmp_path / "b")
    assert main(["quality", str(tmp_path / "b"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in out["findings"]] == ["share_above_100"]
    assert main(["quality", str(tmp_path / "b"), "--all"]) == 0
    assert "[erreur] share_above_100" in capsys.readouterr().out


def test_cli_quality_unreadable(tmp_path):
    from fne_eval.cli.main import main

    assert main(["quality", str(tmp_path / "absent")]) == 2


def test_partial_tables_and_failing_rule(monkeypatch):
    import fne_eval.evaluate.quality as q

    # a frame without most columns is read as empty columns, not a crash
    b = Bundle(tables={"lieux": pd.DataFrame({"id": ["a"], "date_maj": [pd.Timestamp("1970-01-01")]})},
               meta={}, source="x")
    f = quality_findings(b, rules=["stale_lieux"])
    assert list(f["key"]) == ["id=a"]

    def boom(ctx):
        raise RuntimeError("oups")

    monkeypatch.setattr(q, "RULES", [q.Rule("boom", "Règle test", boom)])
    (r,) = quality_findings(bundle()).to_dict("records")
    assert r["rule"] == "boom" and "oups" in r["message"]


def test_figures_disagree_samples_only_for_their_departement():
    terr = TERRITORIES + [{"territory_code": "84", "territory_name": "Vaucluse", "level": "departement",
                           "in_scope": False, "source": "t"}]
    ctx = _context({"figure_id": "fs13", "territory_code": "13", "indicator": "france_services", "value": 36,
                    "unit": "places"},
                   {"figure_id": "fs84", "territory_code": "84", "indicator": "france_services", "value": 5,
                    "unit": "places"})
    found = run(bundle(territories=terr, context_figures=ctx), "figures_disagree")
    # the France services sample covers the Bouches-du-Rhône only (PROVENANCE.md: 32 rows)
    assert [f["key"] for f in found] == ["figure_id=fs13"] and ": 32" in found[0]["message"]
