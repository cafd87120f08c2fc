"""Tests of the Mon Inclusion Numérique importers (fne_eval.ingest.mon_inclusion).

The CSV files are written by hand below in MIN's conventions (COOP-MIN-FORMATS §3.1:
UTF-8 BOM, ``,``, quotes only when needed; the grant requests ``;``-separated); the
expected rows and amounts are read off them.
"""
import json
from decimal import Decimal

import pytest

from fne_eval.bundle.load import load_bundle
from fne_eval.cli.main import main
from fne_eval.ingest.common import IngestError
from fne_eval.ingest.mon_inclusion import match_action, read_min_lieux, read_min_subventions, split_address

LIEUX_CSV = (
    "ID,Nom,Adresse,Type de structure,ID Cartographie Nationale,FRR,QPV,Nombre d'accompagnements AC,"
    "Nombre d'accompagnements Coop,Code INSEE\n"
    "1234,Médiathèque Méjanes,8 rue des Allumettes 13100 Aix-en-Provence,Bibliothèque / Médiathèque,"
    "Coop-numérique_a__b,Non,Non,0,1310,13001\n"
    '1235,"Espace numérique, La Joliette",12 rue de la République 13002 Marseille,Non renseigné,x__y,Non,Oui,4,20,'
    "13202\n"
    "1236,Tiers-lieu,2 rue X 69007 Lyon,Tiers lieu,z__w,Non,Non,0,3,69387\n"
    "1237,Lieu sans adresse,,Non renseigné,,Non,Non,0,0,13005\n"
)
SUBVENTIONS_CSV = (
    "demande_subvention_id;statut;action_id;nom_action;feuille_route_id;nom_feuille_route;code_departement;"
    "montant_subvention\n"
    "S-1;acceptee;a1;1.2 Réseau départemental;fr13;Feuille de route FNE 13;13;3 000,00\n"
    "S-2;acceptee;a2;Diagnostic territorial filière de reconditionnement de matériel informatique;fr13;"
    "Feuille de route FNE 13;13;12000.50\n"
    "S-3;deposee;a3;Communiquer autour des enjeux et ressources d'inclusion numérique;fr13;FdR;13;1950\n"
    "S-4;acceptee;a4;Ateliers de jardinage;fr13;FdR;13;500\n"
    "S-5;acceptee;a5;Gouvernance;fr01;Feuille de route de l'Ain;01;1000\n"
    "S-6;acceptee;a6;Renforcement des compétences des agents de collectivités;fr13;FdR;13;beaucoup\n"
    "S-7;acceptee;a7;RENFORCEMENT des compétences des agents de collectivités !;fr13;FdR;13;2 772\n"
)


@pytest.fixture(scope="module")
def roadmap():
    b = load_bundle()
    return b["territories"], b["actions"], b["budget_lines"]


def _write(path, text, bom=True):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_split_address():
    assert split_address("8 rue des Allumettes 13100 Aix-en-Provence") == ("8 rue des Allumettes", "13100",
                                                                          "Aix-en-Provence")
    assert split_address("Lieu-dit 3 13390 Auriol") == ("Lieu-dit 3", "13390", "Auriol")
    assert split_address("") == ("", "", "")


def test_min_lieux(tmp_path, roadmap):
    path = _write(tmp_path / "lieux-inclusion-2026-03-02T10-11-12.csv", LIEUX_CSV)
    lieux, rep = read_min_lieux(path, territories=roadmap[0])
    # kept: Aix (13001) and Marseille 2e (13202); Lyon outside; the last one has no postcode
    assert lieux["id"].tolist() == ["min-1234", "min-1235"]
    assert lieux["territory_code"].tolist() == ["13001", "13202"]
    assert lieux["code_postal"].tolist() == ["13100", "13002"]
    assert lieux["nom"].tolist()[1] == "Espace numérique, La Joliette"
    assert lieux["adresse"].tolist() == ["8 rue des Allumettes", "12 rue de la République"]
    assert (lieux["date_maj"] == "2026-03-02").all() and (lieux["source"] == "Mon Inclusion Numérique").all()
    assert rep.counts["Lieux hors des territoires du bundle (écartés)"] == 1 and rep.counts["  dont département 69"] == 1
    (err,) = rep.errors
    assert err.text().startswith(f"{path.name}, ligne 5, colonne « Adresse »")
    assert any("Bibliothèque / Médiathèque (1)" in n for n in rep.notes)
    assert len(rep.sources[0]["sha256"]) == 64 and rep.sources[0]["separator"] == ","


def test_min_lieux_missing_columns_is_unreadable(tmp_path, roadmap):
    path = _write(tmp_path / "x.csv", "Nom;Ville\nA;B\n")
    with pytest.raises(IngestError, match="x.csv, ligne 1 .* colonne\\(s\\) absente\\(s\\) : ID, Adresse, Code INSEE"):
        read_min_lieux(path, territories=roadmap[0])


def test_match_action_rule(roadmap):
    _, actions, lines = roadmap
    assert match_action("Action 3.1 : événements", actions, lines) == ("3.1", "code en tête du nom")
    # the title of action 2.1 and the label of its budget line differ: both match
    assert match_action("Mener une étude et des expérimentations pour préfigurer des filières locales de "
                        "reconditionnement de matériel informatique et numérique", actions, lines)[0] == "2.1"
    assert match_action("Ateliers de jardinage", actions, lines)[0] == ""
    assert match_action("9.9 Inexistante", actions, lines)[0] == ""


def test_min_subventions(tmp_path, roadmap):
    _, actions, lines = roadmap
    path = _write(tmp_path / "subventions.csv", SUBVENTIONS_CSV, bom=False)
    out, rep = read_min_subventions(path, actions, lines, date="2025-06-30")
    assert out["transaction_id"].tolist() == ["MIN-SUBV-S-1", "MIN-SUBV-S-2", "MIN-SUBV-S-7"]
    assert out["action_code"].tolist() == ["1.2", "2.1", "4.2"]
    assert out["budget_line_id"].tolist() == ["FNE-1.2", "FNE-2.1", "FNE-4.2"]
    assert out["amount_eur"].tolist() == [Decimal("3000.00"), Decimal("12000.50"), Decimal("2772.00")]
    assert (out["kind"] == "commitment").all() and (out["date"] == "2025-06-30").all()
    assert rep.counts["Demandes au statut « deposee » (non engagées, ignorées)"] == 1
    assert rep.counts["Demandes d'autres départements (ignorées)"] == 1
    texts = [e.text() for e in rep.errors]
    assert len(texts) == 2
    assert texts[0].startswith("subventions.csv, ligne 5, colonne « nom_action », valeur « Ateliers de jardinage »")
    assert "ligne 7, colonne « montant_subvention », valeur « beaucoup »" in texts[1]
    assert any("17\u202f772,50\xa0€" in n for n in rep.notes)  # 3 000 + 12 000,50 + 2 772


def test_cli_into_bundle(tmp_path, capsys):
    bundle = tmp_path / "b"
    assert main(["bundle", "init", str(bundle)]) == 0
    lieux = _write(tmp_path / "lieux-inclusion-2026-03-02T10-11-12.csv", LIEUX_CSV)
    assert main(["import", "min-lieux", str(lieux), "--into", str(bundle)]) == 1  # one row in error
    subv = _write(tmp_path / "subventions.csv", SUBVENTIONS_CSV, bom=False)
    assert main(["import", "min-subventions", str(subv), "--date", "2025-06-30", "--into", str(bundle)]) == 1
    capsys.readouterr()
    assert main(["validate", str(bundle)]) == 0
    b = load_bundle(bundle)
    assert len(b["lieux"]) == 2 and len(b["budget_transactions"]) == 3
    meta = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert meta["table_origins"]["budget_transactions"]["origin"] == "imported"
    assert meta["table_origins"]["budget_transactions"]["imports"][0]["sources"][0]["name"] == "subventions.csv"


def test_commitments_above_planned_write_nothing(tmp_path, capsys):
    bundle = tmp_path / "b"
    assert main(["bundle", "init", str(bundle)]) == 0
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    # action 1.3 has 1 584 € planned (annexe 6)
    subv = _write(tmp_path / "s.csv", SUBVENTIONS_CSV.split("\n")[0] + "\nS-9;acceptee;x;1.3 Pilotage;f;F;13;5000\n",
                  bom=False)
    assert main(["import", "min-subventions", str(subv), "--date", "2025-06-30", "--into", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "Rien n'a été écrit" in err and "au-delà du montant prévu" in err
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before
