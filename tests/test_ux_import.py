"""Issue 13: ``import`` recognises the kind of file it is given and writes nothing when it is the wrong one."""
import shutil

import pytest

from fne_eval.cli.main import main
from fne_eval.core.paths import SAMPLES_DIR, STANDARDS_DIR
from fne_eval.ingest.sniff import sniff

FRANCE_SERVICES = SAMPLES_DIR / "france_services_13_2023.csv"
CONSEILLERS = SAMPLES_DIR / "conseillers_numeriques_structures_13_2023.csv"
HUBDUSUD = SAMPLES_DIR / "lieux_mediation_numerique_13_hubdusud_2023.csv"
AIX = SAMPLES_DIR / "lieux_mediation_numerique_aix_2024.csv"
STANDARD = STANDARDS_DIR / "lieux-mediation-numerique" / "exemple-valide.csv"
# the first line of Mon Inclusion Numérique's « Lieux d'inclusion » export (COOP-MIN-FORMATS §3.1)
MIN_LIEUX = ("ID,Nom,Adresse,Type de structure,ID Cartographie Nationale,FRR,QPV,Nombre d'accompagnements AC,"
             "Nombre d'accompagnements Coop,Code INSEE\n1234,Médiathèque,8 rue des Allumettes 13100 Aix-en-Provence,"
             "Bibliothèque,x__y,Non,Non,0,1,13001\n")


@pytest.mark.parametrize("path, kind", [(FRANCE_SERVICES, "france-services"),
                                        (CONSEILLERS, "conseillers-numeriques"),
                                        (HUBDUSUD, "lieux-hubdusud-2023"),
                                        (AIX, "lieux-aix-2024"),
                                        (STANDARD, "lieux-standard")])
def test_sniff_recognises_the_samples(path, kind):
    s = sniff(path)
    assert s.fmt == "csv" and s.kinds[0] == kind


def test_sniff_min_lieux_and_coop_export(tmp_path):
    p = tmp_path / "lieux-inclusion.csv"
    p.write_text(MIN_LIEUX, encoding="utf-8-sig")
    assert sniff(p).kinds == ["min-lieux"]
    from coop_fixtures import write_current_export

    x = write_current_export(tmp_path / "coop.xlsx", [])
    s = sniff(x)
    assert s.fmt == "xlsx" and s.kinds == ["coop-activites"]


def test_wrong_kind_says_what_the_file_looks_like_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "lieux.csv"
    assert main(["import", "lieux-standard", str(FRANCE_SERVICES), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ne ressemble pas à un fichier « lieux-standard »" in err
    assert "27 colonnes" in err  # the France Services list has 27 columns (its header, counted by hand)
    assert "« france-services »" in err and "fne-eval import france-services" in err
    assert "Rien n'a été écrit" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_wrong_kind_keeps_a_previous_output(tmp_path, capsys):
    out = tmp_path / "lieux.csv"
    out.write_text("ancien\n", encoding="utf-8")
    assert main(["import", "france-services", str(CONSEILLERS), "--out", str(out)]) == 2
    assert "« conseillers-numeriques »" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "ancien\n"


def test_unknown_file_is_said_unknown(tmp_path, capsys):
    p = tmp_path / "notes.csv"
    p.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    assert main(["import", "lieux-aix-2024", str(p), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "il ne ressemble à aucun format connu" in err and "3 colonnes" in err
    b = tmp_path / "binaire.csv"
    b.write_bytes(b"\x00\x01\x02" * 50)
    assert main(["import", "lieux-standard", str(b), "--out", str(tmp_path / "o.csv")]) == 2
    assert "ni un CSV ni un classeur Excel" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_real_kind_given_another_kind_of_file(tmp_path, capsys):
    bundle = tmp_path / "b"
    assert main(["bundle", "init", str(bundle)]) == 0
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    capsys.readouterr()
    copy = shutil.copy(FRANCE_SERVICES, tmp_path / "fs.csv")
    assert main(["import", "min-lieux", str(copy), "--into", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "« france-services »" in err and "Rien n'a été écrit" in err
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


def test_right_kind_still_imports(tmp_path, capsys):
    out = tmp_path / "fs.csv"
    assert main(["import", "france-services", str(FRANCE_SERVICES), "--out", str(out)]) in (0, 1)
    assert out.exists() and len(out.read_text(encoding="utf-8").splitlines()) > 1
