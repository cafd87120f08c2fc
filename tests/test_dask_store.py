"""The indicator store of a run is built once, by the driver, and shipped to every report (issue 14).

A run's reports each ask :func:`fne_eval.store.get_store` for the store, in their own kernel.
The driver builds it before the workers start and writes it into a hidden folder of the run
folder; the kernels read it from there (``RunContext.store_files``), on the local pool and on
Dask workers alike, also without a disk cache (``FNE_EVAL_CACHE_DIR=off``, the situation of
remote workers that do not see this machine's cache folder).

How builds are counted: the test notebook wraps ``build_store`` in its own kernel so that every
build appends a line to a counter file; the driver's builds are counted in this process. A
control runs the same notebook without a shipped store: its kernel builds (one line), so the
counter does see a rebuild.
"""
import json
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from fne_eval.store import cache as store_cache
from fne_eval.store import STORE_COLUMNS

from test_plan import make_bundle

#: The parameters of the test notebook (those of the reports that read the store).
PARAMS = 'territory: str = "13"\nbundle: str = ""\nyear: int = 2025\nthreshold: int = 5'


def _counting_notebook(path: Path, counter: Path) -> Path:
    """A report that asks for the store like the sections do, counting its own builds."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    count = nbformat.v4.new_code_cell(
        "import fne_eval.store.cache as c\n"
        "from fne_eval.bundle import load_bundle\n"
        "_build = c.build_store\n"
        "def _counted(*a, **k):\n"
        f"    with open({str(counter)!r}, 'a') as fh:\n"
        "        fh.write(territory + '\\n')\n"
        "    return _build(*a, **k)\n"
        "c.build_store = _counted\n"
        "b = load_bundle(bundle or None)\n"
        "s = c.get_store(b, c.as_of_for(b, year), threshold)\n"
        "print('lignes du magasin', len(s), 'territoires', s['territory_code'].nunique())")
    nb.cells = [params, nbformat.v4.new_markdown_cell("# Magasin partagé"), count]
    nbformat.write(nb, str(path))
    return path


def _plan(folder: Path, counter: Path) -> Path:
    import yaml

    (folder / "nb").mkdir(parents=True, exist_ok=True)
    _counting_notebook(folder / "nb" / "magasin.ipynb", counter)
    plan = {"name": "magasin", "title": "Magasin partagé", "notebooks_dir": "nb",
            "defaults": {"year": 2025, "threshold": 5},
            "reports": [{"notebook": "magasin", "territories": {"levels": ["epci", "commune"]}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _lines(path: Path) -> list:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def driver_builds(monkeypatch):
    """Count the store builds of this process (the run's driver)."""
    calls = []
    real = store_cache.build_store

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(store_cache, "build_store", counted)
    store_cache.STORE_MEMO.clear()
    yield calls
    store_cache.STORE_MEMO.clear()


def _printed(nb_path: Path) -> str:
    nb = nbformat.read(str(nb_path), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_store_built_once_by_the_driver_for_all_reports(tmp_path, monkeypatch, driver_builds, executor):
    if executor == "dask":
        pytest.importorskip("dask.distributed")
    from fne_eval.runner.execute import run_plan

    # no disk cache: the kernels can only get the store shipped in the run folder, or build it
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")
    counter = tmp_path / "builds.txt"
    bundle = make_bundle(tmp_path / "bundle")
    plan = _plan(tmp_path / "plan", counter)
    logs = []
    outcome = run_plan(plan, bundle=bundle.source, out=tmp_path / "out", jobs=2, formats="html",
                       executor=executor, progress=False, log=logs.append)
    assert outcome.exit_code == 0, (outcome.errors, [r.error for r in outcome.results])
    # 2 EPCI + 2 communes in the test bundle
    assert len(outcome.results) == 4
    assert len(driver_builds) == 1  # the driver built it, once
    assert _lines(counter) == []  # no report rebuilt it
    assert any("magasin d'indicateurs prêt (2025, seuil 5)" in m for m in logs)
    run_dir = Path(outcome.run_dir)
    printed = {p.stem: _printed(p) for p in (run_dir / "notebooks").glob("*.ipynb")}
    assert len(printed) == 4
    # every report read the whole store of the 5 territories of the bundle
    assert all("territoires 5" in text for text in printed.values()), printed
    # the shipped store keeps the values of hidden cells: it is not left in the published run folder
    assert not (run_dir / ".store").exists()
    assert not list(run_dir.rglob("*.parquet"))


@pytest.mark.slow
def test_a_report_without_shipped_store_builds_it(tmp_path, monkeypatch):
    """Control: the counter sees a kernel that builds the store (no shipped store, no disk cache)."""
    from fne_eval.runner.entry import RunContext, run_entry
    from fne_eval.runner.plan import PlanEntry

    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")
    monkeypatch.delenv(store_cache.SHIPPED_ENV, raising=False)
    counter = tmp_path / "builds.txt"
    bundle = make_bundle(tmp_path / "bundle")
    nb = _counting_notebook(tmp_path / "magasin.ipynb", counter)
    entry = PlanEntry(id="magasin-13001", notebook="magasin", notebook_path=str(nb),
                      parameters={"territory": "13001", "bundle": str(bundle.source), "year": 2025, "threshold": 5})
    saved = dict(os.environ)
    try:
        res = run_entry(entry, RunContext(run_dir=str(tmp_path / "run"), formats=("html",), renderer=None))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert res.status == "ok", res.error
    assert _lines(counter) == ["13001"]


# --------------------------------------------------------------------------- the shipped file

def _store_frame() -> pd.DataFrame:
    return pd.DataFrame([{
        "indicator": "population", "level": "commune", "territory_code": "13001", "period": "2025", "breakdown": "",
        "value": 147122.0, "numerator": 147122.0, "denominator": None, "ci_lower": None, "ci_upper": None,
        "unit": "count", "status": "published", "source": "INSEE", "vintage": "2021", "synthetic": False,
        "inferred": False}], columns=STORE_COLUMNS)


def test_shipped_store_file_round_trip_and_refusals(tmp_path):
    frame = _store_frame()
    path = tmp_path / "k1.parquet"
    sha = store_cache.write_store_file(path, "k1", frame)
    got = store_cache.read_store_file(path, "k1", sha)
    assert got is not None and got["value"].tolist() == [147122.0] and list(got.columns) == STORE_COLUMNS
    # another key (other bundle, date, threshold or code): not served
    assert store_cache.read_store_file(path, "k2", sha) is None
    # the file changed since the driver wrote it: not served
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    assert store_cache.read_store_file(path, "k1", sha) is None
    # missing file: not served (the report builds the store)
    assert store_cache.read_store_file(tmp_path / "absent.parquet", "k1", sha) is None


def test_get_store_reads_the_shipped_store_first(tmp_path, monkeypatch):
    """get_store serves the driver's file for its key without building; a wrong SHA-256 falls back to building."""
    from fne_eval.bundle import load_bundle

    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", "off")
    bundle = load_bundle(make_bundle(tmp_path / "bundle").source)
    as_of = store_cache.as_of_for(bundle, 2025)
    key = store_cache.store_key(bundle, as_of, 5)
    sha = store_cache.write_store_file(tmp_path / "s.parquet", key, _store_frame())  # 1 row, unlike a real build
    builds = []
    monkeypatch.setattr(store_cache, "build_store", lambda *a, **k: builds.append(1) or pd.DataFrame(
        columns=STORE_COLUMNS))
    store_cache.STORE_MEMO.clear()
    try:
        monkeypatch.setenv(store_cache.SHIPPED_ENV, json.dumps({key: [str(tmp_path / "s.parquet"), sha]}))
        assert len(store_cache.get_store(bundle, as_of, 5)) == 1 and builds == []
        store_cache.STORE_MEMO.clear()
        monkeypatch.setenv(store_cache.SHIPPED_ENV, json.dumps({key: [str(tmp_path / "s.parquet"), "0" * 64]}))
        assert len(store_cache.get_store(bundle, as_of, 5)) == 0 and builds == [1]
        store_cache.STORE_MEMO.clear()
        monkeypatch.setenv(store_cache.SHIPPED_ENV, "pas du JSON")
        assert len(store_cache.get_store(bundle, as_of, 5)) == 0 and builds == [1, 1]
    finally:
        store_cache.STORE_MEMO.clear()


# --------------------------------------------------------------------------- a national EPCI without records

def test_activity_themes_of_a_territory_without_records(monkeypatch):
    """An EPCI without any record (national bundle: most of them at 20 000 records) has every theme at 0:
    its report says so instead of failing (« KeyError: 'category' », 2 of 8 national reports)."""
    from fne_eval.report import storeview
    from fne_eval.report.sections import impact

    zeros = pd.DataFrame([{"category": t, "value": 0.0,
                           "cell": storeview.Cell("accompaniments", "200000172", "2025", f"theme={t}", 0.0, "published")}
                          for t in ("demarches", "outils")], columns=["category", "value", "cell"])
    monkeypatch.setattr(storeview, "cells_by", lambda ctx, *a, **k: zeros)
    out = impact._activity_themes(object())
    assert out.text == "Pas de données : aucune thématique à décrire : aucun accompagnement sur la période."
