"""Reproducibility (issue 6, point 5).

The same plan on the same bundle with the same package version gives byte-identical
figures and tables (dates and timings aside), and the manifest holds what is needed to
reproduce a report: the second run here is rebuilt from the first run's manifest only
(plan text, bundle path and hash, options), then every executed notebook's outputs
(HTML tables, PNG figures, text) and every HTML report are compared byte for byte.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest

from fne_eval.bundle import load_bundle, write_bundle

PLAN = """\
name: repro
title: "Reproductibilité"
defaults: {year: 2025, threshold: 5}
reports:
  - notebook: impact
    territories: {levels: [departement]}
    axes: [all]
  - notebook: budget
"""


def _cli(argv):
    from fne_eval.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _run(plan: Path, bundle: str, out: Path, formats: str) -> Path:
    code, stdout, stderr = _cli(["run", str(plan), "--bundle", bundle, "--out", str(out), "--to", formats,
                                 "--jobs", "2", "--no-progress"])
    assert code == 0, stdout + stderr
    return Path(re.search(r"Ouvrir : (.*)/index.html", stdout).group(1))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("repro")
    b = load_bundle()
    tables = dict(b.tables)
    tables["activities"] = tables["activities"].iloc[::20].reset_index(drop=True)  # 1 row in 20: faster
    write_bundle(tables, root / "bundle", meta=b.meta)
    plan = root / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    first = _run(plan, str(root / "bundle"), root / "out", "html")
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    # the second run is rebuilt from the manifest alone
    plan2 = root / "from-manifest" / "plan.yaml"
    plan2.parent.mkdir()
    plan2.write_text(manifest["plan"]["content"], encoding="utf-8")
    second = _run(plan2, manifest["bundle"]["path"], root / "out", ",".join(manifest["options"]["formats"]))
    return first, second


def _outputs(nb_path: Path) -> list:
    """Return every output of an executed notebook with its cell index (metadata and timings dropped)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                continue  # warnings and logs, not part of a report
            data = dict(o.get("data", {}))
            out.append((i, o.get("output_type"), o.get("text", ""), json.dumps(data, sort_keys=True)))
    return out


def test_manifest_holds_what_reproduces_a_report(two_runs):
    first, second = two_runs
    m1 = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    m2 = json.loads((second / "manifest.json").read_text(encoding="utf-8"))
    assert m1["run_id"] != m2["run_id"]
    for key in ("package_version", "python_version"):
        assert m1[key] and m1[key] == m2[key]
    assert m1["bundle"]["hash"] == m2["bundle"]["hash"] and len(m1["bundle"]["hash"]) == 64
    assert m1["plan"]["content"] == m2["plan"]["content"] == PLAN
    strip = [{k: e[k] for k in ("id", "notebook", "parameters", "status", "outputs", "notebook_sha256")}
             for e in m1["entries"]]
    assert strip == [{k: e[k] for k in ("id", "notebook", "parameters", "status", "outputs", "notebook_sha256")}
                     for e in m2["entries"]]
    for e in m1["entries"]:
        src = Path(__file__).resolve().parents[1] / "notebooks" / f"{e['notebook']}.ipynb"
        assert e["notebook_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_figures_and_tables_are_byte_identical(two_runs):
    first, second = two_runs
    names = sorted(p.name for p in (first / "notebooks").glob("*.ipynb"))
    assert names == ["budget.ipynb", "impact-13-axe-all.ipynb"]
    n_png = n_tables = 0
    for name in names:
        o1, o2 = _outputs(first / "notebooks" / name), _outputs(second / "notebooks" / name)
        assert len(o1) == len(o2)
        for a, b in zip(o1, o2):
            assert a == b, f"{name}, cell {a[0]} differs"
        n_png += sum('"image/png"' in o[3] or "data:image/png" in o[3] for o in o1)
        n_tables += sum(o[3].count("<table") for o in o1)
    assert n_png >= 2 and n_tables >= 5  # the comparison covered figures and tables


def test_html_reports_are_identical_but_for_the_run_date(two_runs):
    first, second = two_runs
    date = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} UTC")
    for p in sorted((first / "html").glob("*.html")):
        a = p.read_text(encoding="utf-8")
        b = (second / "html" / p.name).read_text(encoding="utf-8")
        assert date.sub("<date>", a) == date.sub("<date>", b), p.name
