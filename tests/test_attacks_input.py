"""Bad input under attack (issue 15): wrong figures published as ok, and tracebacks instead of French.

Each test reproduces one case of the issue as a careless user would make it.
"""
import io
import json
import math
import os
import shutil
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundles.small import META, small_tables, write_small_bundle  # noqa: E402
from fne_eval.bundle import load_bundle  # noqa: E402
from fne_eval.bundle.io import BundleError, BundleValidationError, read_bundle_raw  # noqa: E402
from fne_eval.bundle.validate import validate_bundle  # noqa: E402
from fne_eval.cli.main import main  # noqa: E402

from test_plan import make_bundle, write_plan  # noqa: E402


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _error_columns(result) -> set:
    return {(e["table"], e["column"]) for e in result.errors}


# --------------------------------------------------------------------------- wrong figures, status ok

@pytest.mark.parametrize("value", [20261031, "9999-12-31", "31/10/2026", "1815-03-29", True])
def test_data_as_of_must_be_an_iso_date_in_range(tmp_path, value):
    folder = write_small_bundle(tmp_path / "b", meta={**META, "data_as_of": value})
    result = validate_bundle(folder)
    assert not result.valid
    assert (None, "data_as_of") in _error_columns(result)
    code, _, err = _cli(["validate", str(folder)])
    assert code == 1 and "Traceback" not in err


def test_out_of_range_date_in_a_table_is_an_error(tmp_path):
    """9999-12-31 overflowed to 29 mars 1816 and was published."""
    tables = small_tables()
    tables["events"][0] = {**tables["events"][0], "date": "9999-12-31"}
    result = validate_bundle(write_small_bundle(tmp_path / "b", tables))
    assert ("events", "date") in _error_columns(result)
    assert all(d.year >= 1900 for d in result.tables["events"]["date"].dropna())


def test_synthetic_data_without_bundle_json_still_carries_the_banner(tmp_path):
    from fne_eval.core.paths import DEFAULT_BUNDLE_DIR

    folder = tmp_path / "copie"
    shutil.copytree(DEFAULT_BUNDLE_DIR, folder)
    (folder / "bundle.json").unlink()
    b = load_bundle(folder)
    assert b.is_synthetic
    assert "activities" in b.meta["synthetic_tables"]
    assert any("bundle.json absent" in w["message"] for w in validate_bundle(folder).warnings)
    # the report header says so
    from fne_eval.report.context import synthetic_banner

    assert "synthétiques" in synthetic_banner(b.meta)


def test_workbook_without_meta_sheet_is_flagged_synthetic(tmp_path):
    from openpyxl import load_workbook

    from fne_eval.bundle.io import write_bundle

    b = load_bundle(write_small_bundle(tmp_path / "b"))
    path = write_bundle(b.tables, tmp_path / "b.xlsx", {**b.meta, "is_synthetic": True})
    wb = load_workbook(path)
    del wb["_meta"]
    wb.save(path)
    assert load_bundle(path).is_synthetic


def test_very_hidden_sheet_never_replaces_the_visible_one(tmp_path):
    from openpyxl import load_workbook

    from fne_eval.bundle.io import write_bundle

    b = load_bundle(write_small_bundle(tmp_path / "b"))
    path = write_bundle(b.tables, tmp_path / "b.xlsx", b.meta)
    wb = load_workbook(path)
    hidden = wb.create_sheet("AXES ")
    hidden.append(["axis_code", "axis_title", "source"])
    hidden.append(["1", "Axe piégé", "caché"])
    hidden.sheet_state = "veryHidden"
    wb.save(path)
    raw = read_bundle_raw(path)
    assert raw.frames["axes"]["axis_title"].tolist() == [r["axis_title"] for r in small_tables()["axes"]]
    result = validate_bundle(path)
    assert any("AXES" in w["message"] and "masquée" in w["message"] for w in result.warnings)
    # two visible sheets with one name: ambiguous, refused
    wb = load_workbook(path)
    wb["AXES "].sheet_state = "visible"
    wb.save(path)
    with pytest.raises(BundleError, match="même nom"):
        read_bundle_raw(path)


def test_bundle_edited_during_a_run_is_detected(tmp_path):
    """A notebook stands in for the user who edits the bundle while the run goes on."""
    from fne_eval.runner.execute import run_plan

    bundle = make_bundle(tmp_path / "bundle", synthetic=True)
    plan = write_plan(tmp_path / "p", {"name": "edition", "title": "Édition", "reports": [
        {"notebook": "edits", "id": "edite"}]}, notebooks=("edits",))
    nb_path = tmp_path / "p" / "nb" / "edits.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from pathlib import Path\np = Path(bundle) / 'axes.csv'\n"
        "p.write_text(p.read_text().replace('Axe 4', 'Axe X'))"))
    nbformat.write(nb, str(nb_path))
    outcome = run_plan(plan, bundle=bundle.source, out=tmp_path / "out", formats="html", progress=False, jobs=1,
                       log=lambda m: None)
    assert outcome.exit_code == 1
    (res,) = outcome.results
    assert res.status == "failed" and "bundle modifié pendant l'exécution" in res.error
    m = json.loads((Path(outcome.run_dir) / "manifest.json").read_text(encoding="utf-8"))
    assert m["bundle"]["hash"] == bundle.hash and m["bundle"]["hash_at_end"] != bundle.hash


def test_duplicated_key_in_bundle_json_is_refused(tmp_path):
    """`"is_synthetic": true, …, "is_synthetic": false`: the last one silently removed the banner."""
    folder = write_small_bundle(tmp_path / "b")
    (folder / "bundle.json").write_text('{"name": "x", "is_synthetic": true, "synthetic_tables": ["activities"], '
                                        '"is_synthetic": false}', encoding="utf-8")
    with pytest.raises(BundleError, match="en double"):
        read_bundle_raw(folder)
    code, _, err = _cli(["validate", str(folder)])
    assert code == 2 and "is_synthetic" in err and "Traceback" not in err


def test_load_bundle_sees_a_same_size_same_mtime_change(tmp_path):
    folder = write_small_bundle(tmp_path / "b")
    first = load_bundle(folder)
    p = folder / "populations.csv"
    st = p.stat()
    data = p.read_bytes()
    assert b"147122" in data
    p.write_bytes(data.replace(b"147122", b"147123"))  # same size
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    second = load_bundle(folder)
    assert 147123 in second["populations"]["population"].tolist()
    assert second.hash != first.hash


# --------------------------------------------------------------------------- French errors, not tracebacks

@pytest.mark.parametrize("content", ["[1, 2]", '{"run_id": "x", "started_at": 5, "counts": null}',
                                     '{"run_id": 3}', "{not json", '"texte"', '{"run_id": "y", "bundle": {"hash": null}}'])
def test_malformed_manifest_in_output_folder_breaks_no_later_run(tmp_path, content):
    from fne_eval.runner.index import list_runs, write_outputs_index

    out = tmp_path / "outputs"
    (out / "20250101-000000-abime-000000").mkdir(parents=True)
    (out / "20250101-000000-abime-000000" / "manifest.json").write_text(content, encoding="utf-8")
    good = out / "20251120-101500-copil-abcdef"
    good.mkdir()
    (good / "manifest.json").write_text(json.dumps({
        "run_id": good.name, "plan": {"title": "COPIL"}, "started_at": "2025-11-20T10:15:00+00:00",
        "duration_s": 3.0, "counts": {"ok": 1, "failed": 0}, "bundle": {"hash": "b" * 64}, "package_version": "1"}),
        encoding="utf-8")
    html = write_outputs_index(out).read_text(encoding="utf-8")
    assert good.name in html
    assert good.name in [m["run_id"] for m in list_runs(out)]


def test_csv_with_cr_only_line_endings_is_read(tmp_path):
    folder = write_small_bundle(tmp_path / "b")
    p = folder / "axes.csv"
    p.write_bytes(p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    result = validate_bundle(folder)
    assert result.valid, result.errors[:3]
    assert result.tables["axes"]["axis_title"].tolist() == [r["axis_title"] for r in small_tables()["axes"]]


def test_twenty_digit_integer_is_a_validation_error(tmp_path):
    tables = small_tables()
    tables["events"][0] = {**tables["events"][0], "participants": "12345678901234567890"}
    folder = write_small_bundle(tmp_path / "b", tables)
    result = validate_bundle(folder)
    assert ("events", "participants") in _error_columns(result)
    with pytest.raises(BundleValidationError):
        load_bundle(folder)
    code, out, err = _cli(["validate", str(folder)])
    assert code == 1 and "trop grand" in out and "Traceback" not in err
    # the same in a float column: 1e400 is no number
    tables = small_tables()
    tables["ifn"][0] = {**tables["ifn"][0], "ifn_total": "1e400"}
    assert ("ifn", "ifn_total") in _error_columns(validate_bundle(write_small_bundle(tmp_path / "c", tables)))


@pytest.mark.parametrize("target", ["folder", "under_a_file"])
def test_import_out_to_a_folder_or_unwritable_path_is_a_french_error(tmp_path, target):
    from fne_eval.ingest.opendata import STANDARD_EXAMPLE_PATH

    if target == "folder":
        out = tmp_path / "dossier"
        out.mkdir()
    else:
        (tmp_path / "fichier.txt").write_text("x")
        out = tmp_path / "fichier.txt" / "lieux.csv"
    code, _, err = _cli(["import", "lieux-standard", str(STANDARD_EXAMPLE_PATH), "--out", str(out)])
    assert code == 2
    assert "écriture impossible" in err and str(out) in err
    assert not list(tmp_path.rglob(".*.tmp"))


def test_unreachable_dask_scheduler_is_a_french_error(tmp_path):
    pytest.importorskip("distributed")
    from fne_eval.runner.dask_executor import DaskExecutor
    from fne_eval.runner.execute import run_plan

    bundle = make_bundle(tmp_path / "bundle")
    plan = write_plan(tmp_path / "p", {"name": "dask", "title": "Dask", "reports": [{"notebook": "demo"}]})
    ex = DaskExecutor("tcp://127.0.0.1:9", connect_timeout=2)  # nothing listens on port 9 (discard)
    out = tmp_path / "out"
    outcome = run_plan(plan, bundle=bundle.source, out=out, formats="html", executor=ex, scheduler="tcp://127.0.0.1:9",
                       progress=False, log=lambda m: None)
    assert outcome.exit_code == 2
    assert "indisponible" in outcome.errors[0] and "127.0.0.1:9" in outcome.errors[0]
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]  # nothing half-written


def test_empty_populations_table_is_a_validation_error(tmp_path):
    tables = small_tables()
    tables["populations"] = []
    folder = write_small_bundle(tmp_path / "b", tables)
    result = validate_bundle(folder)
    assert ("populations", None) in _error_columns(result)
    code, _, err = _cli(["figures", "--bundle", str(folder)])
    assert code != 0 and "Traceback" not in err and "populations" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_timeout_must_be_finite(tmp_path, value):
    code, _, err = _cli(["run", str(tmp_path / "absent.yaml"), f"--timeout={value}", "--no-progress"])
    assert code == 2 and "--timeout" in err
    from fne_eval.runner.execute import run_plan

    outcome = run_plan(tmp_path / "absent.yaml", timeout=float(value), progress=False, log=lambda m: None)
    assert outcome.exit_code == 2 and "--timeout" in outcome.errors[0]
    assert not math.isfinite(float(value)) or float(value) > 1e6
