"""The speed work leaves the published reports unchanged (issue 14).

- The figure cache (``fne_eval/report/figcache.py``): a chart read from the cache is the
  chart drawn without it (same PNG bytes, alt text, caption, width); the key follows the
  data; arguments it cannot hash are drawn as before.
- A real run (``fne-eval run --to html,pdf --jobs 1``, two reports sharing one chart) with
  the figure cache and the warm PDF engine publishes the same HTML and the same PDF text as
  a run with the cache switched off (``FNE_EVAL_FIGURE_CACHE=off``), apart from the run's
  date and identifier; the shared chart is drawn once instead of twice.
- The runner's per-stage seconds are in the manifest; ``runner/entry.py`` imports neither
  ``execute`` nor ``dask_executor`` (the former cycle), ``dask_executor`` does not import
  ``execute``.
"""
import ast
import io
import json
import os
import re
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from fne_eval.report import figcache

from test_plan import make_bundle, write_plan

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- figure cache, in process
@pytest.fixture()
def fig_dir(tmp_path, monkeypatch):
    folder = tmp_path / "figures"
    monkeypatch.setenv(figcache.ENV, str(folder))
    return folder


def _df(people=(120, 3, 47)):
    return pd.DataFrame({"public": ["Seniors", "Jeunes", "Actifs"], "people": list(people)})


def test_cached_chart_is_the_chart_drawn_without_cache(fig_dir, monkeypatch):
    from fne_eval.report.charts import bar_chart

    first = bar_chart(_df(), "public", "people", "Personnes par public", "personnes", caption="Source : essai")
    files = list(fig_dir.glob("*.json"))
    assert len(files) == 1
    again = bar_chart(_df(), "public", "people", "Personnes par public", "personnes", caption="Source : essai")
    monkeypatch.setenv(figcache.ENV, "off")
    plain = bar_chart(_df(), "public", "people", "Personnes par public", "personnes", caption="Source : essai")
    assert again.png == first.png == plain.png
    assert (again.alt, again.caption, again.width_px) == (plain.alt, plain.caption, plain.width_px)
    assert str(again) == str(plain)  # the HTML the notebook displays
    assert "Seniors (120)" in plain.alt  # the alt text names the largest bar with its value


def test_cache_hit_does_not_draw_again(fig_dir):
    calls = []

    def draw(df, title):
        from fne_eval.report.charts import Chart

        calls.append(title)
        return Chart(b"\x89PNG fake " + title.encode(), alt=f"{title}, {len(df)} lignes", caption="", width_px=300)

    drawn = figcache.cached(draw)
    a = drawn(_df(), "Titre")
    b = drawn(_df(), "Titre")
    c = drawn(_df(people=(120, 3, 48)), "Titre")  # one value differs: another chart
    d = drawn(_df(), "Autre titre")
    assert calls == ["Titre", "Titre", "Autre titre"]
    assert b.png == a.png and b.alt == "Titre, 3 lignes" and b.width_px == 300
    assert c.png == a.png  # (the fake draws by title only) but it was drawn, not read
    assert d.png != a.png


def test_key_follows_data_and_ignores_set_and_dict_order():
    def f(*a, **k):
        return None

    k = figcache.chart_key
    assert k(f, (_df(),), {}) == k(f, (_df(),), {})
    assert k(f, (_df(),), {}) != k(f, (_df(people=(120, 3, 46)),), {})
    assert k(f, (_df(),), {}) != k(f, (_df().rename(columns={"people": "n"}),), {})
    assert k(f, (_df(),), {}) != k(f, (_df().astype({"people": "float64"}),), {})
    assert k(f, (_df(),), {}) != k(f, (_df().set_axis([5, 6, 7]),), {})
    assert k(f, ({"13001": 1.5, "13004": 2.0},), {"marked": {"13004", "13001"}}) == \
        k(f, ({"13004": 2.0, "13001": 1.5},), {"marked": {"13001", "13004"}})
    assert k(f, ({"13001": 1.5},), {}) != k(f, ({"13001": 1.6},), {})
    assert k(f, ("1",), {}) != k(f, (1,), {})  # types count
    assert k(f, ((x for x in [1]),), {}) is None  # a generator cannot be hashed without consuming it


def test_unreadable_entry_is_drawn_again_and_without_env_nothing_is_written(fig_dir, monkeypatch):
    from fne_eval.report.charts import bar_chart

    chart = bar_chart(_df(), "public", "people", "Titre", "personnes")
    (path,) = fig_dir.glob("*.json")
    path.write_text("{tronqué", encoding="utf-8")
    again = bar_chart(_df(), "public", "people", "Titre", "personnes")
    assert again.png == chart.png
    assert json.loads(path.read_text(encoding="utf-8"))["alt"] == chart.alt  # rewritten whole
    monkeypatch.delenv(figcache.ENV)
    bar_chart(_df(), "public", "people", "Titre 2", "personnes")
    assert len(list(fig_dir.glob("*.json"))) == 1


# --------------------------------------------------------------------------- a real run, cache on and off
CELLS = [
    ("code", "import json, os\n"
             "import pandas as pd\n"
             "from fne_eval.report import figcache\n"
             "from fne_eval.report.charts import bar_chart, line_chart"),
    ("markdown", "## Publics (identique pour tous les territoires)"),
    ("code", "bar_chart(pd.DataFrame({'public': ['Seniors', 'Jeunes', 'Actifs'], 'people': [120, 30, 47]}),\n"
             "          'public', 'people', 'Personnes par public', 'personnes', caption='Source : essai')"),
    ("markdown", "## Courbe du territoire"),
    ("code", "n = 10 if territory == '200054807' else 20\n"
             "line_chart(pd.DataFrame({'month': pd.date_range('2025-01-01', periods=6, freq='MS'),\n"
             "                         'participants': [n, n + 5, n + 2, n + 8, n + 1, n + 9]}),\n"
             "           'month', 'participants', f'Participants, territoire {territory}', 'personnes')"),
    ("code", "stats = os.environ.get('FNE_TEST_FIGURE_STATS')\n"
             "if stats:\n"
             "    with open(os.path.join(stats, territory + '.json'), 'w') as fh:\n"
             "        json.dump(figcache.STATS, fh)"),
]


def _write_notebook(nb_dir: Path, name: str) -> None:
    base = nbformat.read(str(nb_dir / "demo.ipynb"), as_version=4)
    nb = nbformat.v4.new_notebook(metadata=base.metadata)
    nb.cells = [base.cells[0]] + [nbformat.v4.new_markdown_cell(src) if kind == "markdown"
                                  else nbformat.v4.new_code_cell(src) for kind, src in CELLS]
    nbformat.write(nb, str(nb_dir / f"{name}.ipynb"))


def _normalise(text: str) -> str:
    """Blank what differs between two runs of the same plan: the run's date and identifier."""
    text = re.sub(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} UTC", "DATE", text)
    return re.sub(r"\d{8}-\d{6}-[\w.-]+?-[0-9a-f]{6}", "RUN", text)


def _pdf_words(pdf: Path) -> list:
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                         check=True)
    return _normalise(out.stdout).split()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from fne_eval.cli import main

    root = tmp_path_factory.mktemp("speed")
    bundle = make_bundle(root / "bundle", synthetic=True)
    plan = write_plan(root / "plan", {"name": "vitesse", "title": "Essai vitesse", "defaults": {"year": 2025},
                                      "reports": [{"notebook": "vitesse",
                                                   "territories": {"levels": ["epci"], "scope": "all"}}]},
                      notebooks=("demo",))
    _write_notebook(root / "plan" / "nb", "vitesse")
    runs = {}
    saved = {k: os.environ.get(k) for k in (figcache.ENV, "FNE_TEST_FIGURE_STATS")}
    try:
        for mode in ("off", "on"):
            stats = root / f"stats-{mode}"
            stats.mkdir()
            os.environ["FNE_TEST_FIGURE_STATS"] = str(stats)
            if mode == "off":
                os.environ[figcache.ENV] = "off"
            else:
                os.environ.pop(figcache.ENV, None)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(["run", str(plan), "--bundle", bundle.source, "--out", str(root / f"out-{mode}"),
                             "--to", "html,pdf", "--jobs", "1", "--no-progress"])
            assert code == 0, out.getvalue() + err.getvalue()
            run_dir = Path(re.search(r"Ouvrir : (.*)/index.html", out.getvalue()).group(1))
            manifest = json.loads((run_dir / "manifest.json").read_text())
            runs[mode] = dict(dir=run_dir, manifest=manifest,
                              stats={p.stem: json.loads(p.read_text()) for p in stats.glob("*.json")})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return runs


def test_published_html_and_pdf_text_unchanged_by_the_figure_cache(two_runs):
    off, on = two_runs["off"], two_runs["on"]
    ids = [e["id"] for e in off["manifest"]["entries"]]
    assert len(ids) == 2 and ids == [e["id"] for e in on["manifest"]["entries"]]
    for e_off, e_on in zip(off["manifest"]["entries"], on["manifest"]["entries"]):
        html_off = (off["dir"] / e_off["outputs"]["html"]).read_text(encoding="utf-8")
        html_on = (on["dir"] / e_on["outputs"]["html"]).read_text(encoding="utf-8")
        assert html_off.count("data:image/png;base64,") == 2
        assert _normalise(html_on) == _normalise(html_off)  # text, alt texts and image bytes
        words = _pdf_words(on["dir"] / e_on["outputs"]["pdf"])
        assert words == _pdf_words(off["dir"] / e_off["outputs"]["pdf"])
        assert "Publics" in words and "Données" in words  # the heading and the synthetic-data notice


def test_shared_chart_drawn_once_with_the_cache(two_runs):
    off = two_runs["off"]["stats"]
    on = two_runs["on"]["stats"]
    assert set(off) == set(on) == {"200054807", "241300417"}
    # without the cache, each report draws its 2 charts; with it, the second report reads the shared one
    assert sum(s["drawn"] for s in off.values()) == 4 and sum(s["hits"] for s in off.values()) == 0
    assert sum(s["drawn"] for s in on.values()) == 3 and sum(s["hits"] for s in on.values()) == 1


def test_run_removes_its_figure_cache_and_keeps_nothing_in_the_run_folder(two_runs):
    on = two_runs["on"]["dir"]
    assert not any(p.suffix == ".json" and p.parent.name != on.name for p in on.rglob("*.json"))
    assert {p.name for p in on.iterdir()} <= {"notebooks", "html", "pdf", "docx", "logs", "manifest.json",
                                              "index.html"}


def test_manifest_has_the_stages_of_each_entry(two_runs):
    for e in two_runs["on"]["manifest"]["entries"]:
        st = e["stages"]
        assert set(st) >= {"execute", "cells", "html", "pdf"}
        assert 0 < st["cells"] < st["execute"] <= e["duration_s"]
        assert st["html"] > 0 and st["pdf"] > 0
        assert st["execute"] + st["html"] + st["pdf"] <= e["duration_s"] + 0.01


# --------------------------------------------------------------------------- import direction
def _imported(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_runner_imports_go_one_way():
    runner = ROOT / "fne_eval" / "runner"
    entry = _imported(runner / "entry.py")
    dask = _imported(runner / "dask_executor.py")
    assert not entry & {"fne_eval.runner.execute", "fne_eval.runner.dask_executor"}
    assert "fne_eval.runner.execute" not in dask and "fne_eval.runner.entry" in dask
    from fne_eval.runner import entry as entry_mod, execute

    assert execute.run_entry is entry_mod.run_entry  # one function for every executor


# --------------------------------------------------------------------------- the notebook is written once, also on failure
def _one_notebook(path: Path, *sources) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def worker_env():
    """run_entry sets its worker's environment (BLAS threads, shared results): undone after the test."""
    import os

    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("second_cell, timeout, error", [
    ("raise ValueError('valeur refusée')", None, "ValueError: valeur refusée"),
    ("import time\ntime.sleep(60)", 4, "délai dépassé"),
])
def test_failed_entry_keeps_its_notebook_with_the_cells_that_ran(tmp_path, second_cell, timeout, error,
                                                                  worker_env):
    """papermill no longer writes the notebook at each cell: a failed entry still keeps it for diagnosis."""
    from fne_eval.runner.entry import RunContext, run_entry
    from fne_eval.runner.plan import PlanEntry

    src = _one_notebook(tmp_path / "echec.ipynb", "print('première cellule exécutée')", second_cell)
    entry = PlanEntry(id="echec", notebook="echec", notebook_path=str(src))
    res = run_entry(entry, RunContext(run_dir=str(tmp_path / "run"), formats=("html",), renderer=None,
                                      timeout=timeout))
    assert res.status == "failed" and error in res.error
    assert res.outputs["notebook"] == "notebooks/echec.ipynb"
    nb = nbformat.read(str(tmp_path / "run" / res.outputs["notebook"]), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")  # (papermill puts an error banner above)
    assert "première cellule exécutée" in first.outputs[0]["text"]
    assert first.metadata["papermill"]["status"] == "completed"


def test_ok_entry_notebook_is_complete(tmp_path, worker_env):
    from fne_eval.runner.entry import RunContext, run_entry
    from fne_eval.runner.plan import PlanEntry

    src = _one_notebook(tmp_path / "ok.ipynb", "x = 6 * 7", "print(x)")
    res = run_entry(PlanEntry(id="ok", notebook="ok", notebook_path=str(src)),
                    RunContext(run_dir=str(tmp_path / "run"), formats=("html",), renderer=None))
    assert res.status == "ok", res.error
    nb = nbformat.read(str(tmp_path / "run" / res.outputs["notebook"]), as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    assert all(c.metadata["papermill"]["status"] == "completed" for c in nb.cells)
    assert res.stages["cells"] >= 0 and res.stages["execute"] >= res.stages["cells"]


def test_reused_html_exporter_gives_the_html_of_a_fresh_one(two_runs):
    """The runner keeps one nbconvert exporter per process: the HTML of a notebook exported after
    another one is the HTML a fresh exporter gives."""
    from fne_eval.runner import render

    run_dir = two_runs["on"]["dir"]
    first, second = sorted((run_dir / "notebooks").glob("*.ipynb"))

    def info():
        return render.RenderInfo(subtitle="essai", is_synthetic=True, sources=["INSEE"], bundle_hash="abc",
                                 version="1", run_date="01/12/2026 10:00 UTC", entry_id=first.stem)

    render._html_exporter.cache_clear()
    fresh = render.render_html(first, info())
    render.render_html(second, info())
    again = render.render_html(first, info())
    assert again == fresh
    assert "Personnes par public" in fresh
