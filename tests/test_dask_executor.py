"""The Dask executor (fne_eval.runner.dask_executor) gives the local executor's results.

The end-to-end test runs the same small plan (two good entries, one failing notebook) with
the local process pool and on a Dask LocalCluster of 2 single-threaded workers bound to
127.0.0.1, then compares the manifests (statuses, errors, outputs) and the figures the
executed notebooks show.
"""
import json
from pathlib import Path

import nbformat
import pytest

from fne_eval.runner.execute import get_executor, run_plan

from test_plan import make_bundle, write_plan

dask_distributed = pytest.importorskip("dask.distributed")


def test_get_executor_dask_and_bad_jobs():
    from fne_eval.runner.dask_executor import DaskExecutor

    ex = get_executor("dask", None, None)
    assert isinstance(ex, DaskExecutor)
    assert ex.scheduler is None  # no address: a local loopback cluster
    with pytest.raises(ValueError):
        DaskExecutor(None, jobs=0)
    with pytest.raises(ValueError):
        get_executor("spark")


def _figures(nb_path: Path) -> list:
    """Return the text and HTML outputs of an executed notebook (images left out)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            for mime in ("text/html", "text/markdown", "text/plain"):
                if mime in data and not str(data[mime]).startswith("<Figure"):
                    out.append((mime, data[mime]))
            if o.get("output_type") == "error":
                out.append(("error", o.get("ename"), o.get("evalue")))
    return out


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    bundle = make_bundle(root / "bundle", synthetic=True)
    plan = write_plan(root / "plan", {
        "name": "essai-dask", "title": "Essai Dask", "defaults": {"year": 2025},
        "reports": [
            {"notebook": "demo", "territories": {"levels": ["departement", "epci"], "codes": ["13", "200054807"]},
             "axes": ["all"]},
            {"notebook": "broken"},
        ]}, notebooks=("demo",))
    nb = nbformat.read(str(root / "plan" / "nb" / "demo.ipynb"), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("raise ValueError('boom de test')"))
    nbformat.write(nb, str(root / "plan" / "nb" / "broken.ipynb"))
    runs = {}
    for name in ("local", "dask"):
        outcome = run_plan(plan, bundle=bundle.source, out=root / f"out-{name}", jobs=2, formats="html",
                           executor=name, progress=False, log=lambda msg: None)
        runs[name] = outcome
    return runs


@pytest.mark.slow
def test_dask_same_statuses_and_manifest_as_local(both_runs):
    local, dask = both_runs["local"], both_runs["dask"]
    assert local.exit_code == dask.exit_code == 1  # one entry fails in both
    ml = json.loads((Path(local.run_dir) / "manifest.json").read_text(encoding="utf-8"))
    md = json.loads((Path(dask.run_dir) / "manifest.json").read_text(encoding="utf-8"))

    def entries(m):
        return {e["id"]: (e["status"], e["error"], e["parameters"], sorted(e["outputs"])) for e in m["entries"]}

    assert entries(ml) == entries(md)
    # 2 territories × demo ok, broken failed with the notebook's own error message
    assert sorted(s for s, *_ in entries(md).values()) == ["failed", "ok", "ok"]
    assert any(err and "boom de test" in err for _, err, *_ in entries(md).values())
    assert md["options"]["executor"] == "dask" and ml["options"]["executor"] == "local"
    assert md["bundle"]["hash"] == ml["bundle"]["hash"]


@pytest.mark.slow
def test_dask_same_report_figures_as_local(both_runs):
    local, dask = Path(both_runs["local"].run_dir), Path(both_runs["dask"].run_dir)
    nbs = sorted(p.name for p in (local / "notebooks").glob("*.ipynb"))
    assert nbs == sorted(p.name for p in (dask / "notebooks").glob("*.ipynb"))
    assert len(nbs) == 3
    for name in nbs:
        figs = _figures(local / "notebooks" / name)
        assert figs, name
        assert figs == _figures(dask / "notebooks" / name), name
    # the demo notebook's table figure is in the dask report's HTML
    html = next((dask / "html").glob("demo-*.html")).read_text(encoding="utf-8")
    assert "1\u202f234" in html
