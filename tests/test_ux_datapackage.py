"""Issue 13: ``export`` and ``template`` write a Frictionless data package derived from spec.py."""
import csv
import json

import pytest

frictionless = pytest.importorskip("frictionless")  # in the dev extra: never skipped on a fresh set-up

from fne_eval.bundle.spec import TABLES  # noqa: E402
from fne_eval.cli.main import main  # noqa: E402


def _errors(report):
    return [(e.type, getattr(e, "note", "")) for task in report.tasks for e in task.errors] + \
           [(e.type, getattr(e, "note", "")) for e in report.errors]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "bundle"
    assert main(["export", str(out)]) == 0
    return out


def test_export_writes_a_valid_data_package(exported):
    dp = json.loads((exported / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in dp["resources"]] == list(TABLES)
    for res in dp["resources"]:
        # each schema lists the CSV's own header, read from the file
        with open(exported / res["path"], encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        assert [fld["name"] for fld in res["schema"]["fields"]] == header, res["name"]
    report = frictionless.validate(str(exported / "datapackage.json"))
    assert report.valid, _errors(report)[:10]


def test_schemas_carry_the_spec_constraints(exported):
    dp = json.loads((exported / "datapackage.json").read_text(encoding="utf-8"))
    res = {r["name"]: r for r in dp["resources"]}
    terr = res["territories"]["schema"]
    assert terr["primaryKey"] == ["territory_code"]
    level = next(f for f in terr["fields"] if f["name"] == "level")
    assert level["constraints"]["enum"] == ["departement", "epci", "commune", "arrondissement"]
    actions = res["actions"]["schema"]
    assert {"fields": ["axis_code"], "reference": {"resource": "axes", "fields": ["axis_code"]}} in actions["foreignKeys"]
    planned = next(f for f in res["budget_lines"]["schema"]["fields"] if f["name"] == "planned_eur")
    assert planned["type"] == "number"


def test_the_schemas_catch_bad_data(tmp_path):
    out = tmp_path / "b"
    assert main(["bundle", "init", str(tmp_path / "init")]) == 0
    assert main(["export", "--bundle", str(tmp_path / "init"), str(out)]) == 0
    # a level outside the allowed values, and an action on an axis that does not exist
    terr = (out / "territories.csv").read_text(encoding="utf-8").replace(",departement,", ",region,", 1)
    (out / "territories.csv").write_text(terr, encoding="utf-8")
    lines = (out / "actions.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    i = header.index("axis_code")
    row = next(csv.reader([lines[1]]))
    row[i] = "9"
    buf = __import__("io").StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    lines[1] = buf.getvalue()
    (out / "actions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = frictionless.validate(str(out / "datapackage.json"))
    types = {t for t, _ in _errors(report)}
    assert not report.valid and "constraint-error" in types and "foreign-key" in types, types


def test_template_writes_a_data_package_of_its_sheets(tmp_path, capsys):
    assert main(["template", str(tmp_path / "modele.xlsx")]) == 0
    assert "modele.datapackage.json" in capsys.readouterr().out
    dp = json.loads((tmp_path / "modele.datapackage.json").read_text(encoding="utf-8"))
    assert {r["dialect"]["excel"]["sheet"] for r in dp["resources"]} == set(TABLES)
    assert all(r["path"] == "modele.xlsx" for r in dp["resources"])
    report = frictionless.validate(str(tmp_path / "modele.datapackage.json"))
    assert report.valid, _errors(report)[:10]


def test_a_bundle_with_its_data_package_is_read_back(exported, tmp_path, capsys):
    from fne_eval.bundle import load_bundle

    assert main(["validate", str(exported)]) == 0
    b = load_bundle(exported)
    assert len(b["territories"]) > 0
    # import into it: the bundle is rewritten, the descriptor kept beside the tables
    import shutil

    from test_ux_import import MIN_LIEUX

    target = tmp_path / "copie"
    shutil.copytree(exported, target)
    src = tmp_path / "lieux-inclusion.csv"
    src.write_text(MIN_LIEUX, encoding="utf-8-sig")
    n_before = len(b["lieux"])
    assert main(["import", "min-lieux", str(src), "--into", str(target), "--mode", "append"]) == 0
    assert len(load_bundle(target)["lieux"]) == n_before + 1
    assert (target / "datapackage.json").exists() and main(["validate", str(target)]) == 0
