"""Parameters are not a way in (issue 6, point 4).

Territory codes, axis codes, plan names, notebook names, entry ids and paths come from a
plan file and the command line; each is validated against the bundle or a safe grammar
before anything runs, never used raw in a file path (no ``../``), a shell command or code,
and papermill injects only validated literals. Hostile values are tried one by one and
with hypothesis (random text as a territory or axis code).
"""
from __future__ import annotations

import ast
import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fne_eval.runner.plan import SAFE_ID, PlanError, expand_plan, load_plan, select_entries

from test_plan import make_bundle, write_plan

HOSTILE = [
    "../../etc/passwd", "..", "13/../..", "/etc/passwd", "13; rm -rf /", "13 && touch pwned", "$(touch pwned)",
    "`touch pwned`", "13\"; import os; os.system('touch pwned'); x=\"", "13'; import os #", "13\n__import__('os')",
    "13\x00", "{{7*7}}", "${HOME}", "%s%s", "13|cat", "<script>", "13 ", " 13", "１３", "13\u202e",
]
PLAN_EXAMPLES = 60


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("params") / "bundle")


def _plan(tmp_path: Path, **report) -> Path:
    plan = {"name": "essai", "title": "Essai", "defaults": {"year": 2025, "threshold": 5},
            "reports": [{"notebook": "demo", **report}]}
    return write_plan(tmp_path, plan)


def _errors(path: Path, bundle) -> list:
    with pytest.raises(PlanError) as info:
        expand_plan(load_plan(path), bundle)
    return info.value.errors


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_territory_code_is_refused(value, tmp_path, bundle):
    errors = _errors(_plan(tmp_path, territories={"levels": ["departement", "epci"], "codes": [value]}), bundle)
    assert any("'territory'" in e for e in errors), errors


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_axis_code_is_refused(value, tmp_path, bundle):
    errors = _errors(_plan(tmp_path, axes=[value]), bundle)
    assert any("'axis'" in e for e in errors), errors


@pytest.mark.parametrize("key,value", [("name", "../../x"), ("name", "a/b"), ("name", "A B"), ("name", ".hidden"),
                                       ("notebooks_dir", "../../etc"), ("notebooks_dir", "/etc")])
def test_hostile_plan_name_or_folder_is_refused(key, value, tmp_path):
    path = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": "demo"}]})
    text = path.read_text(encoding="utf-8")
    if key == "name":
        text = text.replace("name: essai", f"name: '{value}'")
    else:
        text = re.sub(r"notebooks_dir: nb", f"notebooks_dir: '{value}'", text)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert any(f"'{key}'" in e for e in info.value.errors)


@pytest.mark.parametrize("notebook", ["../demo", "/tmp/demo", "demo.ipynb", "demo;ls", "Demo", "demo/../demo"])
def test_hostile_notebook_name_is_refused(notebook, tmp_path):
    path = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": notebook}]})
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert any("'notebook'" in e for e in info.value.errors)


@pytest.mark.parametrize("entry_id", ["../x", "a/b", "x y", "-x", "x--y", "X"])
def test_hostile_entry_id_is_refused(entry_id, tmp_path):
    path = write_plan(tmp_path, {"name": "essai", "title": "Essai", "reports": [{"notebook": "demo", "id": entry_id}]})
    with pytest.raises(PlanError):
        load_plan(path)


@pytest.mark.parametrize("value", ["2025; import os", "__import__('os').system('id')", "../x", "a\"b"])
def test_string_where_a_number_is_declared_is_refused(value, tmp_path, bundle):
    errors = _errors(_plan(tmp_path, parameters={"year": value}), bundle)
    assert any("'year'" in e and "type" in e for e in errors), errors


@pytest.mark.parametrize("value", ["../x", "a;b", "$(id)", "`id`", "x\"y", "x'y", "a\nb", "{x}"])
def test_unsafe_string_parameter_is_refused(value, tmp_path, bundle):
    errors = _errors(_plan(tmp_path, parameters={"territory": value}), bundle)
    assert any("'territory'" in e for e in errors), errors


def test_only_with_a_path_is_refused(tmp_path, bundle):
    entries = expand_plan(load_plan(_plan(tmp_path)), bundle)
    with pytest.raises(PlanError):
        select_entries(entries, only=["../demo"])


def test_bundle_cannot_smuggle_a_hostile_territory_code(tmp_path):
    """Codes come from the bundle; the bundle's own codes are validated at the door."""
    from fne_eval.bundle.validate import validate_bundle

    folder = tmp_path / "bundle"
    make_bundle(folder)
    path = folder / "territories.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("241300417", "../../x"), encoding="utf-8")
    result = validate_bundle(folder)
    assert not result.valid
    assert any(e["column"] == "territory_code" and e["value"] == "../../x" for e in result.errors)


@settings(max_examples=PLAN_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(territory=st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE + ["13", "200054807", "241300417"])),
       axis=st.one_of(st.text(max_size=4), st.sampled_from(["all", "1", "4", "9", "../1"])))
def test_random_codes_are_either_bundle_codes_or_refused(tmp_path, bundle, territory, axis):
    path = _plan(tmp_path, territories={"levels": ["departement", "epci"], "codes": [territory]}, axes=[axis])
    try:
        entries = expand_plan(load_plan(path), bundle)
    except PlanError as exc:
        assert exc.errors
        return
    (entry,) = entries
    assert entry.parameters["territory"] in {"13", "200054807", "241300417"}
    assert entry.parameters["axis"] in {"all", "1", "2", "3", "4"}
    assert SAFE_ID.match(entry.id)
    run_dir = tmp_path / "run"
    assert (run_dir / "html" / f"{entry.id}.html").resolve().parent == (run_dir / "html").resolve()


# --------------------------------------------------------------------------- what papermill injects

def _cli(argv):
    from fne_eval.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_papermill_injects_literals_only_even_from_a_hostile_bundle_path(tmp_path):
    """A bundle folder named like code is passed as a string literal, never run."""
    name = "b\"; open('PWNED', 'w'); x = \"'$(touch PWNED2)"
    folder = tmp_path / name
    make_bundle(folder)
    plan = write_plan(tmp_path / "plan", {"name": "essai", "title": "Essai", "defaults": {"year": 2025},
                                          "reports": [{"notebook": "demo"}]})
    nb_dir = tmp_path / "plan" / "nb"
    code, out, err = _cli(["run", str(plan), "--bundle", str(folder), "--out", str(tmp_path / "out"),
                           "--to", "html", "--no-progress"])
    assert code == 0, out + err
    for where in (nb_dir, tmp_path, Path.cwd()):
        assert not (where / "PWNED").exists() and not (where / "PWNED2").exists()
    (executed,) = (tmp_path / "out").glob("*/notebooks/demo.ipynb")
    nb = nbformat.read(str(executed), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    tree = ast.parse(injected[0].source)
    values = {}
    for node in tree.body:  # only `name = literal` statements
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["bundle"] == str(folder.resolve())
    assert values["year"] == 2025
