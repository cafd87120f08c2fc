"""End-to-end runs of small plans (fne_eval.runner.execute, fne-eval run).

Two real runs share one output folder (module fixture, ~30 s on 2 cores): an earlier good
run, then a run of 4 entries where one notebook raises and one hangs past the timeout.
"""
import hashlib
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest

from fne_eval.cli.main import main
from fne_eval.runner.index import list_runs, write_outputs_index

from test_plan import make_bundle, write_plan

TIMEOUT_S = 10


def _variant(nb_dir: Path, name: str, code: str, repeat: int = 1) -> None:
    """Copy the demo notebook as ``name`` with ``repeat`` cells of ``code`` after its first heading."""
    nb = nbformat.read(str(nb_dir / "demo.ipynb"), as_version=4)
    for _ in range(repeat):
        nb.cells.insert(2, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, str(nb_dir / f"{name}.ipynb"))


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    bundle = make_bundle(root / "bundle", synthetic=True)
    out = root / "outputs"
    # run 1: one good entry, HTML only
    first_plan = write_plan(root / "first", {"name": "premier", "title": "Premier essai", "reports": [
        {"notebook": "demo", "id": "seul"}]})
    code1, out1, _ = _cli(["run", str(first_plan), "--bundle", bundle.source, "--out", str(out),
                           "--to", "html", "--no-progress"])
    first_dir = Path(re.search(r"Ouvrir : (.*)/index.html", out1).group(1))
    before = _snapshot(first_dir)
    # run 2: 2 good entries, one that raises, one that hangs
    plan = write_plan(root / "second", {
        "name": "essai", "title": "Essai avec échecs", "defaults": {"year": 2025},
        "reports": [
            {"notebook": "demo", "territories": {"levels": ["departement", "epci"], "codes": ["13", "200054807"]},
             "axes": ["all"]},
            {"notebook": "broken"},
            {"notebook": "hangs"},
        ]})
    nb_dir = root / "second" / "nb"
    _variant(nb_dir, "broken", "raise ValueError('boom de test : données absentes')")
    # each cell stays under the per-cell timeout; together they outlast the entry's timeout
    _variant(nb_dir, "hangs", f"import time\ntime.sleep({TIMEOUT_S * 0.6})", repeat=3)
    code2, out2, err2 = _cli(["run", str(plan), "--bundle", bundle.source, "--out", str(out), "--jobs", "2",
                              "--timeout", str(TIMEOUT_S), "--no-progress"])
    second_dir = Path(re.search(r"Ouvrir : (.*)/index.html", out2).group(1))
    return dict(out=out, bundle=bundle, first=(code1, first_dir, before), second=(code2, out2, err2, second_dir))


def test_good_run_exit_0_and_layout(runs):
    code, folder, _ = runs["first"]
    assert code == 0
    assert folder.parent == runs["out"] and re.fullmatch(r"\d{8}-\d{6}-premier-[0-9a-f]{6}", folder.name)
    m = json.loads((folder / "manifest.json").read_text())
    assert [e["status"] for e in m["entries"]] == ["ok"]
    assert m["entries"][0]["outputs"] == {"notebook": "notebooks/seul.ipynb", "html": "html/seul.html"}
    assert (folder / "html" / "seul.html").is_file() and not (folder / "pdf" / "seul.pdf").exists()


def test_failing_run_exit_1_with_summary(runs):
    code, out, err, folder = runs["second"]
    assert code == 1
    assert "2 rapport(s) réussi(s), 2 en échec sur 4." in out
    assert "broken : ValueError: boom de test : données absentes" in out
    assert f"hangs : délai dépassé : l'exécution a duré plus de {TIMEOUT_S} s" in out


def test_manifest(runs):
    _, _, _, folder = runs["second"]
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["run_id"] == folder.name and m["plan"]["name"] == "essai"
    assert "boom" in (folder.parent / folder.name / "notebooks" / "broken.ipynb").read_text()
    assert m["bundle"]["hash"] == runs["bundle"].hash and m["bundle"]["is_synthetic"] is True
    assert m["plan"]["content"].startswith("notebooks_dir: nb")
    assert m["package_version"] and m["python_version"].count(".") == 2
    assert m["started_at"] <= m["finished_at"]
    status = {e["id"]: e["status"] for e in m["entries"]}
    assert status == {"demo-13-axe-all": "ok", "demo-200054807-axe-all": "ok", "broken": "failed", "hangs": "failed"}
    ok = m["entries"][1]
    assert ok["parameters"] == {"territory": "200054807", "axis": "all", "year": 2025,
                                "bundle": str(Path(runs["bundle"].source).resolve())}
    assert ok["outputs"] == {"notebook": "notebooks/demo-200054807-axe-all.ipynb",
                             "html": "html/demo-200054807-axe-all.html", "pdf": "pdf/demo-200054807-axe-all.pdf"}
    assert all((folder / p).is_file() for e in m["entries"] for p in e["outputs"].values())
    assert ok["label"] == "Métropole d'Aix-Marseille-Provence (200054807) · tous les axes · année 2025"
    broken = m["entries"][2]
    assert broken["error"] == "ValueError: boom de test : données absentes" and "html" not in broken["outputs"]
    assert m["entries"][3]["error"].startswith("délai dépassé")
    assert 0 < ok["duration_s"] < m["duration_s"]
    demo = folder.parent.parent / "second" / "nb" / "demo.ipynb"
    assert ok["notebook_sha256"] == hashlib.sha256(demo.read_bytes()).hexdigest()


def test_parameters_were_injected(runs):
    _, _, _, folder = runs["second"]
    html = (folder / "html" / "demo-200054807-axe-all.html").read_text(encoding="utf-8")
    assert "Territoire <strong>200054807</strong>, axe <strong>all</strong>, année 2025" in html
    assert "Métropole d&#x27;Aix-Marseille-Provence (200054807)" in html or \
        "Métropole d'Aix-Marseille-Provence (200054807)" in html  # subtitle from the bundle


def test_html_report(runs):
    _, _, _, folder = runs["second"]
    html = (folder / "html" / "demo-13-axe-all.html").read_text(encoding="utf-8")
    assert "In&nbsp;[" not in html and "plt.subplots" not in html and "import " not in html
    assert "Données synthétiques" in html
    assert re.search("1[\u202f\u00a0 ]234", html) and re.search("12,5[\u202f\u00a0 ]%", html)
    assert "data:image/png;base64," in html  # the matplotlib figure, embedded
    assert runs["bundle"].hash[:12] in html


def test_pdf_report(runs):
    import pypdf

    _, _, _, folder = runs["second"]
    reader = pypdf.PdfReader(str(folder / "pdf" / "demo-13-axe-all.pdf"))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for heading in ("Rapport de démonstration", "Chiffres clés", "Graphique"):
        assert heading in text
    assert "Personnes accompagnées" in text and "Données synthétiques" in text
    assert "import" not in text


def test_run_index_names_failures(runs):
    _, _, _, folder = runs["second"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'href="html/demo-13-axe-all.html"' in index and 'href="pdf/demo-13-axe-all.pdf"' in index
    assert "broken" in index and "boom de test : données absentes" in index and "échec" in index
    assert "Données synthétiques" in index and runs["bundle"].hash[:12] in index
    assert "Métropole d&#39;Aix-Marseille-Provence (200054807) · tous les axes" in index


def test_earlier_run_untouched_and_no_partial_left(runs):
    _, first_dir, before = runs["first"]
    assert _snapshot(first_dir) == before
    assert not [p for p in runs["out"].iterdir() if p.name.endswith(".partial")]


def test_outputs_index_lists_finished_runs_only(runs):
    out = runs["out"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert runs["first"][1].name in index and runs["second"][3].name in index
    # an interrupted run leaves a .partial folder (even with a manifest): never listed
    partial = out / ".20990101-000000-essai-abcdef.partial"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"run_id": "20990101-000000-essai-abcdef"}))
    write_outputs_index(out)
    assert "20990101" not in (out / "index.html").read_text(encoding="utf-8")
    assert [m["run_id"] for m in list_runs(out)] == [runs["second"][3].name, runs["first"][1].name]
    partial.joinpath("manifest.json").unlink()
    partial.rmdir()


# --------------------------------------------------------------------------- refused before anything runs

def test_invalid_bundle_exit_2_before_any_notebook(tmp_path):
    import pandas as pd

    make_bundle(tmp_path / "bundle")
    path = tmp_path / "bundle" / "territories.csv"
    df = pd.read_csv(path, dtype=str)
    df.loc[1, "level"] = "region"  # not one of the allowed levels
    df.to_csv(path, index=False)
    plan = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": "demo"}]})
    code, out, err = _cli(["run", str(plan), "--bundle", str(tmp_path / "bundle"), "--out", str(tmp_path / "out"),
                           "--no-progress"])
    assert code == 2
    assert "Bundle invalide" in err and "region" in err
    assert not (tmp_path / "out").exists()


def test_invalid_plan_exit_2_before_any_notebook(tmp_path):
    make_bundle(tmp_path / "bundle")
    plan = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [
        {"notebook": "demo", "territories": {"levels": ["epci"]}, "axes": ["all", "9"]}]})
    code, out, err = _cli(["run", str(plan), "--bundle", str(tmp_path / "bundle"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "Plan invalide" in err and "demo-200054807-axe-9" in err and "'axis'" in err
    assert not (tmp_path / "out").exists()


def test_quarto_asked_but_missing_exit_2(tmp_path, monkeypatch):
    make_bundle(tmp_path / "bundle")
    plan = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": "demo"}]})
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    code, out, err = _cli(["run", str(plan), "--bundle", str(tmp_path / "bundle"), "--out", str(tmp_path / "out"),
                           "--renderer", "quarto"])
    assert code == 2 and "quarto" in err and "introuvable" in err
    assert not (tmp_path / "out").exists()


def test_unknown_only_id_exit_2(tmp_path):
    make_bundle(tmp_path / "bundle")
    plan = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": "demo"}]})
    code, out, err = _cli(["run", str(plan), "--bundle", str(tmp_path / "bundle"), "--out", str(tmp_path / "out"),
                           "--only", "demo-nope"])
    assert code == 2 and "demo-nope" in err
