"""Tests of the La Coop activity-export importer (fne_eval.ingest.coop).

The exports are written by tests/coop_fixtures.py the way La Coop's exceljs code writes
them; their rows are written by hand below, and every expected figure is counted by hand
from those rows (the arithmetic is in the comments).
"""
import datetime as dt
from collections import Counter

import pandas as pd
import pytest

from coop_fixtures import (OLD_COLUMNS_2024, resave_without_table, write_current_export, write_old_export)
from fne_eval.cli.main import main
from fne_eval.ingest.common import IngestError, norm_person, pseudonym
from fne_eval.ingest.coop import (LAYOUT_PER_ACTIVITY, LAYOUT_PER_PARTICIPANT, parse_header_block,
                                  read_coop_exports, table_objects)

A = "\u2019"
KEY = bytes(range(32))
ID_A, ID_B, ID_C = ("a1a1a1a1-0000-4000-8000-00000000000a", "b2b2b2b2-0000-4000-8000-00000000000b",
                    "c3c3c3c3-0000-4000-8000-00000000000c")
ID_D, ID_E, ID_F = ("d4d4d4d4-0000-4000-8000-00000000000d", "e5e5e5e5-0000-4000-8000-00000000000e",
                    "f6f6f6f6-0000-4000-8000-00000000000f")
ID_H, ID_I = "12121212-0000-4000-8000-000000000012", "13131313-0000-4000-8000-000000000013"
#: Every name, note and e-mail of the fixtures: none may reach a bundle.
PERSONAL = ["Zanardelli", "Trouvetou", "Amélie", "Fernandezova", "fernandezova@example.org", "06 12 34 56 78",
            "Maximalis", "Petitcolin", "Laurentides", "Vasseurbot", "Rappeler", "Atelier très animé",
            "Suivi administratif", "Quillebarre"]

PAUL = {"Prénom du médiateur": "Paul", "Nom du médiateur": "Zanardelli", "Rôle": "Médiateur", "ID - Conum": False}
AMELIE = {"Prénom du médiateur": "Amélie", "Nom du médiateur": "Trouvetou", "Rôle": "Conseiller Numérique",
          "ID - Conum": True}
V2 = {"Source de la donnée": "La Coop de la médiation numérique (V2)"}


def _row(**kw) -> dict:
    """Return a row keyed by header label (keyword names are short aliases)."""
    alias = {"date": "Date", "type": "Type", "n": "Participants", "canal": f"Canaux d{A}accompagnement",
             "lieu": "Nom du lieu", "insee": "Code Insee", "duree": "Durée (min)",
             "themes": f"Thématique(s) d{A}accompagnement", "ben_insee": "Code Insee du bénéficiaire",
             "genre": "Genre du bénéficiaire", "age": f"Tranche d{A}âge du bénéficiaire",
             "statut": "Statut du bénéficiaire", "id": "ID CRA", "benef": "Bénéficiaire",
             "notes": "Notes supplémentaires", "atelier": f"Nom de l{A}atelier"}
    extra = kw.pop("extra", {})
    out = {alias[k]: v for k, v in kw.items()}
    out.update(extra)
    out.setdefault("Enregistré le", "03/10/2025 à 10:00")
    return out


def team_rows() -> list:
    return [
        # A: individual, Marseille 1er, 45 min, three themes, resident of Marseille 3e
        _row(date=dt.datetime(2025, 9, 3), type="Accompagnement individuel", n=1, canal=f"Lieu d{A}activité",
             lieu="Médiathèque de la Gare", insee="13201", duree=45,
             themes="E-mail\nAide aux démarches administratives\nSocial - Santé", ben_insee="13203",
             genre="Féminin", age="60 - 69 ans", statut="Retraité", id=ID_A,
             extra={**PAUL, **V2, "Commune": "Marseille", "Code postal": "13001", "Matériel numérique utilisé":
                    "Ordinateur", "Commune du bénéficiaire": "Marseille", "Code postal du bénéficiaire": "13003"}),
        # B: a workshop of 3 in Aix, 120 min
        _row(date=dt.datetime(2025, 9, 10), type="Atelier collectif", n="1/3", canal=f"Lieu d{A}activité",
             lieu="Espace numérique Aix", insee="13001", duree=120, atelier="Découverte de l'e-mail",
             themes="Prévention en sécurité numérique\nNavigation sur internet", ben_insee="13001",
             genre="Masculin", age="25 - 39 ans", statut="En emploi", id=ID_B, extra={**AMELIE, **V2}),
        _row(date=dt.datetime(2025, 9, 10), type="Atelier collectif", n="2/3", canal=f"Lieu d{A}activité",
             lieu="Espace numérique Aix", insee="13001", duree=120, atelier="Découverte de l'e-mail",
             themes="Prévention en sécurité numérique\nNavigation sur internet", ben_insee="",
             genre="Non communiqué", age="Non communiqué", statut="Non communiqué ou hétérogène", id=ID_B,
             extra={**AMELIE, **V2}),
        _row(date=dt.datetime(2025, 9, 10), type="Atelier collectif", n="3/3", canal=f"Lieu d{A}activité",
             lieu="Espace numérique Aix", insee="13001", duree=120, atelier="Découverte de l'e-mail",
             themes="Prévention en sécurité numérique\nNavigation sur internet", ben_insee="13002",
             genre="Féminin", age="70 ans et plus", statut="Retraité", id=ID_B, extra={**AMELIE, **V2}),
        # C: remote, employer in Salon, labels of before 2025-05-01 / 2026-02-27, a V1 record
        _row(date=dt.datetime(2025, 8, 25), type="Accompagnement individuel", n=1, canal="À distance",
             insee="13103", duree=30, themes="Papiers - Élections Citoyenneté\nTravail - Formation",
             ben_insee="13004", genre="Masculin", age="18 - 24 ans", statut="Sans emploi", id=ID_C,
             extra={**PAUL, "Source de la donnée": "Espace coop (V1)"}),
        # D: place and resident in Avignon (84): outside the bundle's territories
        _row(date=dt.datetime(2025, 9, 12), type="Accompagnement individuel", n=1, canal=f"Lieu d{A}activité",
             lieu="Point numérique Avignon", insee="84007", duree=60, themes="E-mail", ben_insee="84007",
             genre="Féminin", age="40 - 59 ans", statut="En emploi", id=ID_D, extra={**AMELIE, **V2}),
        # E: place in Toulon (83) but resident of Aubagne (13005): kept
        _row(date=dt.datetime(2025, 9, 15), type="Accompagnement individuel", n=1, canal="Autre lieu",
             insee="83137", duree=60, themes="Bureautique", ben_insee="13005", genre="Féminin",
             age="40 - 59 ans", statut="En emploi", id=ID_E, extra={**AMELIE, **V2}),
        # F: before the roadmap period (2023-11-01)
        _row(date=dt.datetime(2023, 6, 1), type="Accompagnement individuel", n=1, canal=f"Lieu d{A}activité",
             lieu="Médiathèque de la Gare", insee="13201", duree=30, themes="E-mail", ben_insee="13201",
             genre="Masculin", age="70 ans et plus", statut="Retraité", id=ID_F, extra={**PAUL, **V2}),
    ]


def self_rows() -> list:
    return [
        # A again, edited since the team export: 60 min
        _row(date=dt.datetime(2025, 9, 3), type="Accompagnement individuel", n=1, canal=f"Lieu d{A}activité",
             lieu="Médiathèque de la Gare", insee="13201", duree=60,
             themes="E-mail\nAide aux démarches administratives\nSocial - Santé", ben_insee="13203",
             genre="Féminin", age="60 - 69 ans", statut="Retraité", id=ID_A, benef="Lucie Fernandezova",
             notes="Rappeler au 06 12 34 56 78 ou fernandezova@example.org"),
        # H: a workshop of 2 in Aubagne: one anonymous participant, one named
        _row(date=dt.datetime(2025, 9, 20), type="Atelier collectif", n="1/2", canal=f"Lieu d{A}activité",
             lieu="Maison des associations", insee="13005", duree=90,
             themes="Culture numérique\nGérer ses contenus numériques", ben_insee="", genre="Féminin",
             age="12 - 17 ans", statut="Scolarisé", id=ID_H, benef="Bénéficiaire anonyme",
             notes="Atelier très animé"),
        _row(date=dt.datetime(2025, 9, 20), type="Atelier collectif", n="2/2", canal=f"Lieu d{A}activité",
             lieu="Maison des associations", insee="13005", duree=90,
             themes="Culture numérique\nGérer ses contenus numériques", ben_insee="13005", genre="Masculin",
             age="40 - 59 ans", statut="En emploi", id=ID_H, benef="Jean Maximalis"),
        # I: at home, the same beneficiary as H's second participant
        _row(date=dt.datetime(2025, 9, 22), type="Accompagnement individuel", n=1, canal="À domicile",
             insee="13005", duree=45, themes="Accompagner un professionnel\nIntelligence artificielle (IA)",
             ben_insee="13005", genre="Masculin", age="40 - 59 ans", statut="En emploi", id=ID_I,
             benef="Jean Maximalis"),
    ]


def old_rows() -> list:
    lieu, canal = "Lieu", f"Canaux d{A}accompagnement"
    res, age = "Commune de résidence du bénéficiaire", f"Tranche d{A}âge du bénéficiaire"
    th = f"Thématique(s) d{A}accompagnement"
    return [
        # J: individual, Marseille 3e (13203), 60 min
        {"Date": dt.datetime(2025, 6, 20), "Type": "Accompagnement individuel", "Nombre de participants": 1,
         "Bénéficiaire": "Marc Petitcolin", canal: f"Lieu d{A}activité", lieu: "Centre social Les Lilas, 13003 Marseille",
         "Durée (min)": 60, th: "E-mail", res: "13003 Marseille", "Genre du bénéficiaire": "Masculin",
         age: "40 - 59 ans", "Statut du bénéficiaire": "En emploi", "Notes supplémentaires": "Suivi administratif"},
        # K: a workshop of 3 in Aix (13100 → 13001), two anonymous participants
        {"Date": dt.datetime(2025, 7, 1), "Type": "Atelier collectif", "Nombre de participants": 3,
         "Bénéficiaire": "Bénéficiaire anonyme\nBénéficiaire anonyme\nSophie Laurentides", canal: "Autre lieu",
         lieu: "13100 Aix-en-Provence", "Durée (min)": 90, th: "Bureautique\nGérer ses contenus numériques",
         res: "-\n-\n13090 Aix-en-Provence", "Genre du bénéficiaire": "Féminin\nMasculin\nFéminin",
         age: "70 ans et plus\n60 - 69 ans\n25 - 39 ans", "Statut du bénéficiaire": "Retraité\nRetraité\nEn emploi"},
        # L: remote, employer in Salon-de-Provence (13300 → 13103)
        {"Date": dt.datetime(2025, 7, 3), "Type": "Accompagnement individuel", "Nombre de participants": 1,
         "Bénéficiaire": "Bénéficiaire anonyme", canal: "À distance",
         lieu: "Structure employeuse : Association Relais, 13300 Salon-de-Provence", "Durée (min)": 30,
         th: "Logement", res: "-", "Genre du bénéficiaire": "Non communiqué", age: "Non communiqué",
         "Statut du bénéficiaire": "Non communiqué ou hétérogène"},
    ]


def early_rows() -> list:
    canal, th = f"Canaux d{A}accompagnement", f"Thématique(s) d{A}accompagnement"
    res, age = "Commune de résidence du bénéficiaire", f"Tranche d{A}âge du bénéficiaire"
    return [
        # M: the former « démarche » type; « Gérer ses contenus numériques » in a file of January 2025
        {"Date": dt.datetime(2024, 12, 20), "Type": "Aide aux démarches administratives",
         "Nombre de participants": 1, "Bénéficiaire": "Bénéficiaire anonyme", canal: f"Lieu d{A}activité",
         "Lieu": "Mairie annexe, 13400 Aubagne", "Durée (min)": 45,
         th: "Gérer ses contenus numériques\nSocial - Santé", res: "13400 Aubagne",
         "Genre du bénéficiaire": "Féminin", age: "70 ans et plus", "Statut du bénéficiaire": "Retraité"},
        # N: a workshop of 2 with only one participant detailed, in Arles (13200 → 13004)
        {"Date": dt.datetime(2024, 12, 22), "Type": "Atelier collectif", "Nombre de participants": 2,
         "Bénéficiaire": "Bénéficiaire anonyme", canal: f"Lieu d{A}activité", "Lieu": "13200 Arles",
         "Durée (min)": 60, th: "Parentalité", res: "-", "Genre du bénéficiaire": "Masculin", age: "Mineur(e)",
         "Statut du bénéficiaire": "Scolarisé"},
    ]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "secret" / "pseudonym.key"))


@pytest.fixture
def team(tmp_path):
    return write_current_export(tmp_path / "coop-numerique_accompagnements_2025-10-01.xlsx", team_rows(),
                                variant="team", source_column=True,
                                exporter=("Quillebarre", "Jeanne"),
                                filters={"Départements": "13 · Bouches-du-Rhône",
                                         "Période": "01.08.2025 - 30.09.2025"})


@pytest.fixture
def selfx(tmp_path):
    return write_current_export(tmp_path / "coop-numerique_accompagnements_2025-10-02.xlsx", self_rows(),
                                variant="self", source_column=False, exporter=("Zanardelli", "Paul"),
                                role="Médiateur", export_date="02/10/2025", export_time="09:00",
                                straight_apostrophes=True,
                                filters={"Bénéficiaires": "Lucie Fernandezova"})


@pytest.fixture
def old(tmp_path):
    return write_old_export(tmp_path / "coop-numerique_activites_2025-07-15.xlsx", old_rows(),
                            exporter=("Vasseurbot", "Claire"), filters={"Période": "01.06.2025 - 15.07.2025"})


@pytest.fixture
def early(tmp_path):
    return write_old_export(tmp_path / "coop-numerique_activites_2025-01-15.xlsx", early_rows(),
                            columns=OLD_COLUMNS_2024, early_block=True, exporter=("Vasseurbot", "Claire"),
                            export_date="15/01/2025",
                            filters={"Début de période": "01/12/2024", "Fin de période": "31/12/2024"})


def _by_id(df):
    return df.set_index("activity_id")


def _people(result, aid):
    p = result.participants
    return p[p["activity_id"] == aid].sort_values("participant_index")


# --------------------------------------------------------------------------- current team export
def test_fixture_has_the_table_object_and_header_at_row_22(team):
    # 19 rows of header block + an empty row + the separator row: header at row 22 (§1.2);
    # 8 data rows (23-30); team columns 31 + « Source de la donnée » = 32 = AF
    assert table_objects(team) == [("Activités", "Activités", "A22:AF30")]


def test_team_export_counts_exactly(team):
    r = read_coop_exports([team], key=KEY)
    acts = _by_id(r.activities)
    # kept: A, B, C, E; D is in Avignon (84) with an Avignon resident; F is dated 2023-06-01
    assert sorted(acts.index) == sorted([ID_A, ID_B, ID_C, ID_E])
    assert len(r.participants) == 1 + 3 + 1 + 1
    assert int(acts["duration_min"].sum()) == 45 + 120 + 30 + 60
    assert acts["participants"].to_dict() == {ID_A: 1, ID_B: 3, ID_C: 1, ID_E: 1}
    assert acts["activity_type"].value_counts().to_dict() == {"individuel": 3, "collectif": 1}
    assert acts["place_type"].to_dict() == {ID_A: "lieu_activite", ID_B: "lieu_activite", ID_C: "a_distance",
                                            ID_E: "autre"}
    assert acts["place_commune_code"].to_dict() == {ID_A: "13201", ID_B: "13001", ID_C: "13103", ID_E: "83137"}
    assert acts.loc[ID_A, "themes"] == "email|aide_aux_demarches_administratives|social_sante"
    assert acts.loc[ID_B, "themes"] == "securite_numerique|navigation_sur_internet"
    # labels of before 2026-02-27 and 2025-05-01
    assert acts.loc[ID_C, "themes"] == "papiers_elections_citoyennete|travail_formation"
    assert acts.loc[ID_A, "date"] == dt.datetime(2025, 9, 3)
    p = r.participants
    assert Counter(p["gender"]) == {"feminin": 3, "masculin": 2, "non_communique": 1}
    assert Counter(p["age_band"]) == {"soixante_soixante_neuf": 1, "vingt_cinq_trente_neuf": 1,
                                      "non_communique": 1, "soixante_dix_plus": 1, "dix_huit_vingt_quatre": 1,
                                      "quarante_cinquante_neuf": 1}
    assert Counter(p["social_status"]) == {"retraite": 2, "en_emploi": 2, "non_communique": 1, "sans_emploi": 1}
    b = _people(r, ID_B)
    assert b["participant_index"].tolist() == [1, 2, 3]
    assert b["commune_code"].tolist()[0] == "13001" and b["commune_code"].isna().tolist() == [False, True, False]
    # a team export does not say who is anonymous: every workshop participant is flagged
    assert b["demographics_random"].tolist() == [True, True, True]
    assert not _people(r, ID_A)["demographics_random"].any()
    assert p["beneficiary_key"].isna().all()


def test_team_export_report_and_provenance(team):
    r = read_coop_exports([team], key=KEY)
    c = r.report.counts
    assert c["Activités reconstituées"] == 6 and c["Lignes de données lues"] == 8
    assert c["Activités hors des territoires du bundle (écartées)"] == 1 and c["  dont département 84"] == 1
    assert c["Activités hors de la période 2023-11-01 – 2027-12-31 (écartées)"] == 1
    # the source column counts rows: 7 V2 rows (A, B×3, D, E, F) and C's V1 row
    assert c["Lignes « Source de la donnée » = La Coop de la médiation numérique (V2)"] == 7
    assert c["Lignes « Source de la donnée » = Espace coop (V1)"] == 1
    assert not r.report.errors
    (src,) = r.report.sources
    assert src["name"] == team.name and len(src["sha256"]) == 64
    assert (src["export_date"], src["export_time"]) == ("2025-10-01", "14:05")
    assert src["period"] == ["2025-08-01", "2025-09-30"]
    assert src["filters"]["Départements"] == "13 · Bouches-du-Rhône"
    assert src["layout"] == LAYOUT_PER_PARTICIPANT and src["variant"] == "equipe" and src["source_column"]
    assert src["table_found_by"].startswith("objet tableau")
    assert src["announced_total"] == 8


def test_mediators_are_pseudonymous_and_stable(team, selfx):
    r = read_coop_exports([team], key=KEY)
    acts = _by_id(r.activities)
    paul = pseudonym(KEY, "mediateur", norm_person("Paul Zanardelli"), "med-")
    amelie = pseudonym(KEY, "mediateur", norm_person("Amélie Trouvetou"), "med-")
    assert acts["mediator_id"].to_dict() == {ID_A: paul, ID_B: amelie, ID_C: paul, ID_E: amelie}
    assert paul != amelie and paul.startswith("med-") and len(paul) == 20
    # the self export of Paul (the exporter) gives Paul's key too
    s = _by_id(read_coop_exports([selfx], key=KEY).activities)
    assert set(s["mediator_id"]) == {paul}
    # another key, other pseudonyms
    assert _by_id(read_coop_exports([team], key=bytes(32)).activities).loc[ID_A, "mediator_id"] != paul


# --------------------------------------------------------------------------- self export, several files
def test_self_export_counts_and_anonymous_participants(selfx):
    r = read_coop_exports([selfx], key=KEY)
    acts = _by_id(r.activities)
    assert sorted(acts.index) == sorted([ID_A, ID_H, ID_I])
    assert len(r.participants) == 1 + 2 + 1 and int(acts["duration_min"].sum()) == 60 + 90 + 45
    # exported on 2025-10-02: « Gérer ses contenus numériques » is gere_ses_contenus_numeriques
    assert acts.loc[ID_H, "themes"] == "culture_numerique|gere_ses_contenus_numeriques"
    assert acts.loc[ID_I, "themes"] == "entrepreneuriat|intelligence_artificielle"
    assert acts.loc[ID_I, "place_type"] == "domicile"
    h = _people(r, ID_H)
    assert h["demographics_random"].tolist() == [True, False]  # anonymous, then named
    assert h["beneficiary_key"].isna().tolist() == [True, False]
    i = _people(r, ID_I)
    assert i["beneficiary_key"].iloc[0] == h["beneficiary_key"].iloc[1]  # the same person
    assert h["age_band"].tolist() == ["douze_dix_huit", "quarante_cinquante_neuf"]
    (src,) = r.report.sources
    assert src["variant"] == "personnel" and not src["source_column"]
    assert src["filters"]["Bénéficiaires"] == "(non conservé : données personnelles)"
    notes = " ".join(r.report.notes)
    assert "Bénéficiaire (4 valeurs)" in notes and "Notes supplémentaires (2 valeurs)" in notes


@pytest.mark.parametrize("order", ["team_first", "self_first"])
def test_overlapping_exports_deduplicated_latest_wins(team, selfx, order):
    files = [team, selfx] if order == "team_first" else [selfx, team]
    r = read_coop_exports(files, key=KEY)
    acts = _by_id(r.activities)
    # ids A B C D E F (team) + A H I (self): 8 distinct, A twice
    assert r.report.counts["Activités reconstituées"] == 8
    assert r.report.counts["Activités présentes dans plusieurs exports (version la plus récente retenue)"] == 1
    assert sorted(acts.index) == sorted([ID_A, ID_B, ID_C, ID_E, ID_H, ID_I])
    # A comes from the later (self) export, edited to 60 min
    assert acts.loc[ID_A, "duration_min"] == 60
    assert int(acts["duration_min"].sum()) == 60 + 120 + 30 + 60 + 90 + 45
    assert len(r.participants) == 1 + 3 + 1 + 1 + 2 + 1
    assert [s["name"] for s in r.report.sources] == [team.name, selfx.name]  # by export date


# --------------------------------------------------------------------------- re-saved without table
def test_resaved_without_table_object_gives_the_same_tables(team, tmp_path):
    bare = resave_without_table(team, tmp_path / "resaved.xlsx", insert_rows_on_top=2)
    assert table_objects(bare) == []
    a, b = read_coop_exports([team], key=KEY), read_coop_exports([bare], key=KEY)
    assert a.activities.equals(b.activities) and a.participants.equals(b.participants)
    (src,) = b.report.sources
    assert "ligne 24" in src["table_found_by"]  # 22 + the 2 rows inserted on top
    assert src["export_date"] == "2025-10-01"


# --------------------------------------------------------------------------- layout before 2025-08-20
def test_old_layout_one_row_per_activity(old):
    r = read_coop_exports([old], key=KEY)
    acts = r.activities.sort_values("date").reset_index(drop=True)
    assert len(acts) == 3 and len(r.participants) == 1 + 3 + 1
    assert int(acts["duration_min"].sum()) == 60 + 90 + 30
    assert acts["activity_type"].tolist() == ["individuel", "collectif", "individuel"]
    assert acts["place_type"].tolist() == ["lieu_activite", "autre", "a_distance"]
    # « 13003 Marseille » → Marseille 3e; « 13100 Aix-en-Provence » → 13001; Salon → 13103
    assert acts["place_commune_code"].tolist() == ["13203", "13001", "13103"]
    assert acts["themes"].tolist() == ["email", "bureautique|gere_ses_contenus_numeriques", "logement"]
    assert acts["activity_id"].str.match(r"^coop-v0-[0-9a-f]{24}$").all()
    k = _people(r, acts.loc[1, "activity_id"])
    assert k["gender"].tolist() == ["feminin", "masculin", "feminin"]
    assert k["age_band"].tolist() == ["soixante_dix_plus", "soixante_soixante_neuf", "vingt_cinq_trente_neuf"]
    assert k["commune_code"].isna().tolist() == [True, True, False] and k["commune_code"].iloc[2] == "13001"
    assert k["demographics_random"].tolist() == [True, True, False]
    j = _people(r, acts.loc[0, "activity_id"])
    assert (j["commune_code"].iloc[0], j["beneficiary_key"].notna().iloc[0]) == ("13203", True)
    assert int(r.participants["demographics_random"].sum()) == 2
    (src,) = r.report.sources
    assert src["layout"] == LAYOUT_PER_ACTIVITY and src["period"] == ["2025-06-01", "2025-07-15"]
    assert any("identifiant calculé" in n for n in r.report.notes)


def test_old_layout_ids_are_stable_and_deduplicate_overlapping_files(old, tmp_path):
    import shutil

    copy = shutil.copy(old, tmp_path / "copie.xlsx")
    a = read_coop_exports([old], key=KEY)
    b = read_coop_exports([old, copy], key=KEY)
    assert sorted(a.activities["activity_id"]) == sorted(b.activities["activity_id"])
    assert b.report.counts["Activités présentes dans plusieurs exports (version la plus récente retenue)"] == 3


def test_early_layout_header_block_and_labels_of_the_time(early, old):
    r = read_coop_exports([early], key=KEY)
    acts = r.activities.sort_values("date").reset_index(drop=True)
    assert len(acts) == 2 and len(r.participants) == 1 + 2 and int(acts["duration_min"].sum()) == 45 + 60
    # the former « démarche » type is an individual accompaniment with the démarches theme; in a
    # file exported on 2025-01-15, « Gérer ses contenus numériques » is creer_avec_le_numerique
    assert acts.loc[0, "activity_type"] == "individuel"
    assert acts.loc[0, "themes"] == "creer_avec_le_numerique|social_sante|aide_aux_demarches_administratives"
    assert acts["place_commune_code"].tolist() == ["13005", "13004"]
    n = _people(r, acts.loc[1, "activity_id"])
    assert n["age_band"].tolist() == ["douze_dix_huit", "non_communique"]  # « Mineur(e) », then padded
    assert n["gender"].tolist() == ["masculin", "non_communique"]
    (src,) = r.report.sources
    assert src["period"] == ["2024-12-01", "2024-12-31"] and src["export_date"] == "2025-01-15"
    assert src["announced_total"] == 2
    # the early header block swapped first and last names: the médiateur keeps the same key
    later = read_coop_exports([old], key=KEY)
    assert set(r.activities["mediator_id"]) == set(later.activities["mediator_id"])


def test_header_block_parser_drops_names():
    info = parse_header_block([("Informations export", None), ("Nom", "Vasseurbot"), ("Prénom", "Claire"),
                               ("Rôle", "Médiateur"), ("Total", 12), ("Date d’export", "05/01/2026"),
                               ("Filtres", None), ("Période", "01.01.2025 - 31.12.2025"),
                               ("Médiateurs", "Paul Zanardelli"), ("Communes", "Lyon 2eme · 69002")])
    assert info["export_date"] == "2026-01-05" and info["total"] == 12 and info["role"] == "Médiateur"
    assert info["period"] == ["2025-01-01", "2025-12-31"]
    assert info["filters"] == {"Période": "01.01.2025 - 31.12.2025",
                               "Médiateurs": "(non conservé : données personnelles)",
                               "Communes": "Lyon 2eme · 69002"}
    assert "Vasseurbot" not in repr({k: v for k, v in info.items() if k != "_exporter"})


# --------------------------------------------------------------------------- errors
def test_bad_rows_are_located_and_left_out(tmp_path):
    rows = team_rows()[:4]  # A and the workshop B
    rows[0]["Durée (min)"] = "une heure"
    rows[2]["Participants"] = dt.datetime(2025, 3, 2)  # « 2/3 » turned into a date by a spreadsheet
    rows[3]["Genre du bénéficiaire"] = "Autre"
    path = write_current_export(tmp_path / "abimé.xlsx", rows, source_column=True)
    r = read_coop_exports([path], key=KEY)
    assert r.activities.empty  # A (duration) and B (participants) left out
    texts = [p.text() for p in r.report.errors]
    assert any(t.startswith("abimé.xlsx, feuille « Activités », ligne 23, colonne « Durée (min) », valeur « une heure »")
               and "1 à 1 440" in t for t in texts), texts
    assert any("ligne 25, colonne « Participants »" in t and "transformée en date" in t for t in texts), texts
    assert not any("Autre" in t for t in texts)  # B was left out before its participants were read


def test_unknown_theme_is_reported_and_dropped(tmp_path):
    rows = team_rows()[:1]
    rows[0][f"Thématique(s) d{A}accompagnement"] = "E-mail\nJardinage"
    r = read_coop_exports([write_current_export(tmp_path / "x.xlsx", rows, source_column=True)], key=KEY)
    assert r.activities["themes"].tolist() == ["email"]
    assert "valeur « Jardinage »" in r.report.errors[0].text() and "thématique inconnue" in r.report.errors[0].text()


def test_not_an_export_is_a_clear_error(tmp_path):
    csv = tmp_path / "export.csv"
    csv.write_text("Date;Type\n01/10/2025;Atelier collectif\n", encoding="utf-8")
    with pytest.raises(IngestError, match="export.csv : n'est pas un classeur Excel"):
        read_coop_exports([csv], key=KEY)
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Nom", "Prénom"])
    wb.save(tmp_path / "autre.xlsx")
    with pytest.raises(IngestError, match="autre.xlsx : aucune table d'activités trouvée"):
        read_coop_exports([tmp_path / "autre.xlsx"], key=KEY)


# --------------------------------------------------------------------------- CLI --out
def test_cli_out_writes_two_csv_without_personal_data(selfx, tmp_path, capsys):
    out = tmp_path / "o" / "activites.csv"
    assert main(["import", "coop-activites", str(selfx), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Activités retenues : 3" in text and "Participants (accompagnements) retenus : 4" in text
    parts = out.with_name("activites_participants.csv")
    assert out.exists() and parts.exists()
    data = out.read_bytes() + parts.read_bytes() + text.encode()
    for word in PERSONAL:
        assert word.encode() not in data, word


def test_cli_exit_statuses(tmp_path, capsys):
    rows = team_rows()[:1]
    rows[0]["Durée (min)"] = 0
    bad = write_current_export(tmp_path / "bad.xlsx", rows, source_column=True)
    assert main(["import", "coop-activites", str(bad), "--out", str(tmp_path / "a.csv")]) == 1
    assert main(["import", "coop-activites", str(tmp_path / "absent.xlsx"), "--out", str(tmp_path / "b.csv")]) == 2
    assert "absent.xlsx : fichier introuvable" in capsys.readouterr().err
    assert main(["import", "coop-activites", str(bad)]) == 2  # neither --out nor --into
    # the key was created 0600 outside the outputs
    import os
    import stat

    key = tmp_path / "secret" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_gerer_ses_contenus_without_export_date(tmp_path):
    rows = early_rows()[:1]  # dated 2024-12-20, « Gérer ses contenus numériques »
    path = write_old_export(tmp_path / "sans-date.xlsx", rows, columns=OLD_COLUMNS_2024, export_date="")
    r = read_coop_exports([path], key=KEY)
    # no export date and nothing dated after 2025-03-26: the label cannot be decided, the theme is left out
    assert r.activities["themes"].tolist() == ["social_sante|aide_aux_demarches_administratives"]
    assert "thématique ambiguë" in r.report.errors[0].text()
    assert any("pas de date d'export" in n for n in r.report.notes)


def test_match_lieux_by_name_and_commune(team):
    from fne_eval.ingest.coop import match_lieux

    r = read_coop_exports([team], key=KEY)
    lieux = pd.DataFrame({"id": ["L1", "L2", "L3"],
                          "nom": ["MÉDIATHÈQUE de la gare", "Espace numérique Aix", "Espace numérique Aix"],
                          "code_insee": ["13201", "13001", "13001"], "territory_code": ["13201", "13001", "13001"]})
    acts, n = match_lieux(r.activities, r.places, lieux)
    # A matches L1 (accents and case ignored); B matches two lieux: left unmatched
    assert n == 1 and acts.set_index("activity_id")["lieu_id"].dropna().to_dict() == {ID_A: "L1"}
