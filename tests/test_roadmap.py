"""Tests of the roadmap transcription (fne_eval/data/roadmap/*.csv) against the seed.

Expected values are read by hand in the seed (tests/data/seed/feuille-de-route-fne-13.txt,
a copy of shared/seed/); the transcribed strings are also looked up in it.
"""
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from fne_eval.build.default_bundle import build_roadmap_tables
from fne_eval.bundle.spec import ACTION_CODES, ROADMAP_END, ROADMAP_START

#: a copy of the customer's document kept in the repository, so that no test is skipped in a fresh clone
SEED = Path(__file__).resolve().parent / "data" / "seed" / "feuille-de-route-fne-13.txt"


@pytest.fixture(scope="module")
def roadmap():
    return build_roadmap_tables()


@pytest.fixture(scope="module")
def seed_text():
    return SEED.read_text(encoding="utf-8")


def test_four_axes_with_section_4_titles(roadmap):
    axes = roadmap["axes"].set_index("axis_code")
    assert list(axes.index) == ["1", "2", "3", "4"]
    # section 4 title, not the sommaire's « Structurer un réseau départemental autour… »
    assert axes.loc["2", "axis_title"].startswith("Structurer des filières locales")
    assert axes["source"].notna().all()


def test_ten_actions_with_codes_axes_and_referents(roadmap):
    actions = roadmap["actions"].set_index("action_code")
    assert sorted(actions.index) == sorted(ACTION_CODES)
    # the axis is the code's first digit: 1.1-1.5 → 1, 2.1 → 2, 3.1-3.2 → 3, 4.1-4.2 → 4
    assert all(actions.loc[c, "axis_code"] == c.split(".")[0] for c in actions.index)
    assert actions["referents"].notna().all()
    assert actions.loc["1.1", "referents"].split("|") == [
        "Préfecture des Bouches-du-Rhône", "Métropole Aix-Marseille", "Hub du Sud"]
    assert actions.loc["1.4", "referents"] == "ICOM' Provence"
    # « Les partenaires ici sont les mêmes que ceux de l'action 1 »: 9 public + 17 private
    assert actions.loc["1.2", "partners"] == actions.loc["1.1", "partners"]
    assert len(actions.loc["1.1", "partners"].split("|")) == 26


def test_action_titles_are_in_the_seed(roadmap, seed_text):
    for title in roadmap["actions"]["action_title"]:
        assert title in seed_text, title


def test_action_dates_read_from_the_text(roadmap):
    a = roadmap["actions"].set_index("action_code")
    ts = pd.Timestamp
    # 1.1 done: from the first COPIL (Nov. 2023) to the roadmap amended in Sept. 2024
    assert (a.loc["1.1", "start_date"], a.loc["1.1", "end_date"]) == (ts("2023-11-01"), ts("2024-09-30"))
    # 1.2 « dès la fin de l'année 2024 … durant toute la période du plan »
    assert a.loc["1.2", "start_date"].year == 2024 and a.loc["1.2", "start_date"].month >= 10
    assert a.loc["1.2", "end_date"] == ts(ROADMAP_END)
    # 1.5 « doit débuter en 2025 »; 4.1 « début d'année 2025 … tout au long de FNE »
    assert a.loc["1.5", "start_date"] == ts("2025-01-01")
    assert (a.loc["4.1", "start_date"], a.loc["4.1", "end_date"]) == (ts("2025-01-01"), ts(ROADMAP_END))
    assert (a["start_date"] <= a["end_date"]).all()
    assert (a["start_date"] >= ts(ROADMAP_START)).all() and (a["end_date"] <= ts(ROADMAP_END)).all()


def test_budget_lines_amounts_and_total(roadmap):
    b = roadmap["budget_lines"]
    lines = b[b["action_code"].notna()].set_index("action_code")
    expected = {"1.1": 6000, "1.2": 3686, "1.3": 1584, "1.4": 2975, "1.5": 1950, "2.1": 20557,
                "3.1": 11219, "3.2": 11418, "4.1": 9272, "4.2": 2772}
    assert {c: int(v) for c, v in lines["planned_eur"].items()} == expected
    # 6000+3686+1584+2975+1950 = 16 195 (axe 1); +20 557 = 36 752; +11 219 +11 418 = 59 389;
    # +9 272 +2 772 = 71 433
    assert sum(lines["planned_eur"]) == Decimal("71433.00")
    assert (b["funder"] == "État - FNE").all()
    assert lines.loc["1.1", "recipient"] == "Métropole Aix Marseille Provence"
    assert lines.loc["3.1", "recipient"] == "Ligue de l'Enseignement 13"
    assert lines.loc["1.4", "referents"] == "ICOM Provence"


def test_budget_amounts_are_printed_in_the_seed(roadmap, seed_text):
    for amount in roadmap["budget_lines"]["planned_eur"].dropna():
        printed = f"{int(amount):,}".replace(",", " ") + " €"  # 20557 → « 20 557 € »
        assert printed in seed_text, printed


def test_training_fund_line_has_no_amount_and_60_departures(roadmap):
    b = roadmap["budget_lines"]
    fund = b[b["action_code"].isna()]
    assert len(fund) == 1
    row = fund.iloc[0]
    assert row["planned_eur"] is None  # the seed prints no amount
    assert row["target_departures"] == 60
    assert row["recipient"] == "Hub du Sud"
    assert "Aidants Connect" in row["line_label"]


def test_annexe_5_tasks_and_derived_windows(roadmap, seed_text):
    t = roadmap["schedule_tasks"]
    a5 = t[t["task_id"].str.startswith("A5-")]
    # Annexe 5 lists 6 tasks under action 1.2 and 7 under action 2.1
    assert a5["action_code"].value_counts().to_dict() == {"2.1": 7, "1.2": 6}
    for label in a5["task_label"]:
        assert label in seed_text, label
    assert a5["source"].str.contains("fenêtre déduite").all()
    assert a5["source"].str.contains("à confirmer par le Hub du Sud").all()


def test_calendar_tasks_keep_printed_2024_quarters(roadmap):
    t = roadmap["schedule_tasks"].set_index("task_id")
    # axe 2: « groupes de travail … au deuxième trimestre 2024 », printed after Q1 2025
    gt = t.loc["CAL-2.1-03"]
    assert (gt["planned_start"], gt["planned_end"]) == (pd.Timestamp("2024-04-01"), pd.Timestamp("2024-06-30"))
    assert "deuxième trimestre 2024" in gt["source"]
    # axe 3: « Deuxième trimestre 2024 : organisation de la tournée départementale des expositions »
    tour = t.loc["CAL-3.2-01"]
    assert tour["planned_start"] == pd.Timestamp("2024-04-01")
    assert "Deuxième trimestre 2024" in tour["source"]


def test_schedule_tasks_reference_actions_and_order(roadmap):
    t = roadmap["schedule_tasks"]
    assert t["task_id"].is_unique
    assert set(t["action_code"]) <= set(ACTION_CODES)
    assert (t["planned_start"] <= t["planned_end"]).all()
    # every one of the 10 actions has at least one task (1.1: the concertation of the axe 1 calendar)
    assert set(t["action_code"]) == set(ACTION_CODES)


@pytest.mark.parametrize("name", ["axes", "actions", "budget_lines", "schedule_tasks"])
def test_every_roadmap_row_names_its_source(roadmap, name):
    assert roadmap[name]["source"].notna().all()
    assert (roadmap[name]["source"].str.len() > 10).all()
