"""Issue 13: outputs readable as the umask says; an empty template is « valide mais vide » with a way out."""
import os
import stat

import pytest

from fne_eval.cli.main import main
from fne_eval.core.paths import SAMPLES_DIR


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_follow_the_umask(tmp_path, umask_027, capsys):
    # umask 027: files rw-r----- (0640), folders rwxr-x--- (0750); never mkstemp's 0600 / mkdtemp's 0700
    assert main(["template", str(tmp_path / "t.xlsx")]) == 0
    assert _mode(tmp_path / "t.xlsx") == 0o640
    assert main(["export", str(tmp_path / "csv")]) == 0
    assert _mode(tmp_path / "csv") == 0o750
    files = list((tmp_path / "csv").iterdir())
    assert files and all(_mode(f) == 0o640 for f in files), {f.name: oct(_mode(f)) for f in files}
    assert main(["export", str(tmp_path / "b.xlsx")]) == 0
    assert _mode(tmp_path / "b.xlsx") == 0o640
    out = tmp_path / "fs.csv"
    main(["import", "france-services", str(SAMPLES_DIR / "france_services_13_2023.csv"), "--out", str(out)])
    assert _mode(out) == 0o640
    assert main(["bundle", "init", str(tmp_path / "reel")]) == 0
    assert _mode(tmp_path / "reel") == 0o750
    assert all(_mode(f) == 0o640 for f in (tmp_path / "reel").iterdir())


def test_outputs_follow_a_permissive_umask(tmp_path, capsys):
    old = os.umask(0o002)
    try:
        assert main(["template", str(tmp_path / "t.xlsx")]) == 0
    finally:
        os.umask(old)
    assert _mode(tmp_path / "t.xlsx") == 0o664


def test_empty_template_is_valid_but_empty(tmp_path, capsys):
    t = tmp_path / "t.xlsx"
    assert main(["template", str(t)]) == 0
    capsys.readouterr()
    assert main(["validate", str(t)]) == 0
    out = capsys.readouterr().out
    assert "bundle valide mais vide" in out and "0 ligne" in out
    # what a report needs is listed, and the way to start from the embedded reference data
    for table in ("territories", "populations", "actions", "lieux", "activities"):
        assert f"  - {table} : " in out
    assert "fne-eval bundle init DOSSIER" in out and "fne-eval export --bundle DOSSIER" in out


def test_documented_path_from_empty_to_valid_bundle(tmp_path, capsys):
    # bundle init → export as a workbook to fill in → validate: valid, not empty, and only the
    # monitoring tables left to fill
    assert main(["bundle", "init", str(tmp_path / "d")]) == 0
    assert main(["export", "--bundle", str(tmp_path / "d"), str(tmp_path / "remplir.xlsx")]) == 0
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "remplir.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "bundle valide :" in out and "vide" not in out.splitlines()[0]
    assert "  - territories" not in out and "  - lieux : " in out and "  - activities : " in out
    # the README documents these commands
    readme = (__import__("pathlib").Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "bundle init" in readme and "valide mais vide" in readme


def test_figures_on_an_empty_template_says_why(tmp_path, capsys):
    t = tmp_path / "t.xlsx"
    assert main(["template", str(t)]) == 0
    capsys.readouterr()
    assert main(["figures", "--bundle", str(t)]) == 1
    err = capsys.readouterr().err
    assert "territoire inconnu" in err and "aucun territoire (table territories vide)" in err
    assert "fne-eval bundle init DOSSIER" in err
