"""Run plans: loading, expansion, validation errors (fne_eval.runner.plan)."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fne_eval.runner.plan import PlanError, expand_plan, load_plan, notebook_parameters, select_entries

REPO = Path(__file__).resolve().parents[1]
DEMO_NB = REPO / "tests" / "notebooks" / "demo.ipynb"
PARAMS = REPO / "params"


# --------------------------------------------------------------------------- helpers (also used by test_run, test_render)

def make_bundle(folder, synthetic=True):
    """Write a tiny valid bundle: département 13, 2 EPCI, 2 communes, axes 1–4; return it loaded."""
    from fne_eval.bundle import load_bundle, write_bundle

    territories = pd.DataFrame({
        "territory_code": ["13", "200054807", "241300417", "13001", "13004"],
        "territory_name": ["Bouches-du-Rhône", "Métropole d'Aix-Marseille-Provence",
                           "CA d'Arles-Crau-Camargue-Montagnette", "Aix-en-Provence", "Arles"],
        "level": ["departement", "epci", "epci", "commune", "commune"],
        "departement_code": ["13", None, None, "13", "13"],
        "epci_siren": [None, None, None, "200054807", "241300417"],
        "commune_code": [None] * 5,
        "in_scope": [True] * 5,
        "source": ["test"] * 5,
    })
    axes = pd.DataFrame({"axis_code": ["1", "2", "3", "4"],
                         "axis_title": ["Axe 1", "Axe 2", "Axe 3", "Axe 4"], "source": ["test"] * 4})
    # populations 2021 (INSEE): a bundle without any population is invalid (issue 15)
    populations = pd.DataFrame({"territory_code": ["13", "200054807", "241300417", "13001", "13004"],
                                "year": [2021] * 5, "population": [2043110, 1911311, 83429, 147122, 52510],
                                "source": ["test"] * 5})
    meta = {"name": "test-runner", "is_synthetic": synthetic, "sources": ["INSEE, populations 2021", "La MedNum, IFN"]}
    write_bundle({"territories": territories, "axes": axes, "populations": populations}, folder, meta=meta)
    return load_bundle(folder, validate=False)


def write_plan(folder, plan: dict, notebooks=("demo",)):
    """Write ``plan`` as YAML in ``folder`` with the demo notebook copied as each of ``notebooks``."""
    folder = Path(folder)
    (folder / "nb").mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        shutil.copy(DEMO_NB, folder / "nb" / f"{name}.ipynb")
    plan = {"notebooks_dir": "nb", **plan}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def bundle(tmp_path):
    return make_bundle(tmp_path / "bundle")


def _base_plan(**report):
    rep = {"notebook": "demo", **report}
    return {"name": "essai", "title": "Essai", "defaults": {"year": 2025, "threshold": 5}, "reports": [rep]}


def _errors(tmp_path, bundle, plan):
    path = write_plan(tmp_path, plan)
    with pytest.raises(PlanError) as info:
        expand_plan(load_plan(path), bundle)
    return path, info.value.errors


# --------------------------------------------------------------------------- expansion

def test_expansion_fans_out_over_bundle_territories_and_axes(tmp_path, bundle):
    plan = _base_plan(territories={"levels": ["departement", "epci"]}, axes=["all", 2])
    plan["reports"].append({"notebook": "demo", "id": "budget"})
    entries = expand_plan(load_plan(write_plan(tmp_path, plan)), bundle)
    # 1 département + 2 EPCI in the test bundle, × 2 axes = 6, + 1 single entry = 7
    assert len(entries) == 7
    ids = [e.id for e in entries]
    assert ids[:2] == ["demo-13-axe-all", "demo-13-axe-2"]
    assert "demo-200054807-axe-2" in ids and ids[-1] == "budget"
    e = entries[3]
    assert e.parameters == {"territory": "200054807", "axis": "2", "year": 2025, "threshold": 5}
    assert isinstance(e.parameters["axis"], str)  # the unquoted YAML 2 became the code "2"
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") for i in ids)


def test_select_entries_only_and_limit(tmp_path, bundle):
    plan = _base_plan(territories={"levels": ["epci"]}, axes=["all"])
    entries = expand_plan(load_plan(write_plan(tmp_path, plan)), bundle)
    assert [e.id for e in select_entries(entries, only=["demo-241300417-axe-all"])] == ["demo-241300417-axe-all"]
    assert len(select_entries(entries, limit=1)) == 1
    with pytest.raises(PlanError, match="inconnu 'nope'"):
        select_entries(entries, only=["nope"])


def test_copil_2025_expands_to_one_report_per_territory(default_bundle):
    """COPIL pack (issue 11): département + each EPCI in scope, all axes together; axis reports
    only when a plan asks; + revue (the dossier), budget and the analyst's annex."""
    t = default_bundle["territories"]
    if t.empty:
        pytest.skip("the embedded default bundle is not built yet")
    in_scope = t["in_scope"].fillna(False).astype(bool)
    n_territories = int((t["level"].isin(["departement", "epci"]) & in_scope).sum())
    entries = expand_plan(load_plan(PARAMS / "copil-2025.yaml"), default_bundle)
    assert len(entries) == n_territories + 3  # 5 + 3 = 8 on the 13 bundle
    assert len({e.id for e in entries}) == len(entries)
    assert {"budget", "revue-annuelle", "annexe"} <= {e.id for e in entries}
    assert entries[0].id == "revue-annuelle"


def test_shipped_plans_load():
    for name in ("copil-2025", "exemple-petit", "national-epci"):
        plan = load_plan(PARAMS / f"{name}.yaml")
        assert plan.name == name


# --------------------------------------------------------------------------- errors

def test_unknown_top_level_key(tmp_path, bundle):
    plan = _base_plan()
    plan["colour"] = "blue"
    path = write_plan(tmp_path, plan)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    (msg,) = info.value.errors
    assert str(path) in msg and "'colour'" in msg and "clé inconnue" in msg


def test_unknown_report_key_names_entry(tmp_path, bundle):
    path = write_plan(tmp_path, _base_plan(axis=["1"]))  # 'axis' instead of 'axes'
    with pytest.raises(PlanError) as info:
        load_plan(path)
    msg = info.value.errors[0]
    assert str(path) in msg and "reports[0] (notebook demo)" in msg and "reports[0].axis" in msg


def test_missing_key(tmp_path, bundle):
    plan = _base_plan()
    del plan["title"]
    path = write_plan(tmp_path, plan)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert any(str(path) in m and "'title'" in m and "manquante" in m for m in info.value.errors)


def test_unknown_notebook_parameter(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(parameters={"colour": "bleu"}))
    assert any(str(path) in m and "reports[0]" in m and "'parameters.colour'" in m and "inconnu" in m
               for m in errors)


def test_wrong_type(tmp_path, bundle):
    plan = _base_plan()
    plan["defaults"]["year"] = "2025"  # the notebook declares year: int
    path, errors = _errors(tmp_path, bundle, plan)
    assert any(str(path) in m and "entrée demo" in m and "'year'" in m and "au lieu de int" in m for m in errors)


def test_territory_that_does_not_exist(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(territories={"codes": ["200099999"], "levels": ["epci"]}))
    assert any(str(path) in m and "demo-200099999" in m and "'territory'" in m and "absent du bundle" in m
               for m in errors)


def test_territory_at_a_level_not_allowed(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(parameters={"territory": "13001"}))
    assert any("'territory'" in m and "13001" in m and "commune" in m for m in errors)


def test_territory_code_as_number_is_refused(tmp_path, bundle):
    path = write_plan(tmp_path, _base_plan(territories={"codes": [13]}))
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert any("territories.codes[0]" in m for m in info.value.errors)


def test_axis_that_does_not_exist(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(axes=["all", "7"]))
    assert any(str(path) in m and "demo-axe-7" in m and "'axis'" in m and "'7' absent" in m for m in errors)


@pytest.mark.parametrize("value", ["../../etc", "13; rm -rf /", "a/b", "$(id)"])
def test_path_or_shell_characters_in_a_value(tmp_path, bundle, value):
    path, errors = _errors(tmp_path, bundle, _base_plan(parameters={"axis": value}))
    assert any(str(path) in m and "'axis'" in m and "refusée" in m for m in errors)


def test_unsafe_id_and_plan_name(tmp_path, bundle):
    plan = _base_plan(id="../x")
    plan["name"] = "Essai Plan"
    path = write_plan(tmp_path, plan)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert any("'name'" in m for m in info.value.errors)
    assert any("reports[0]" in m and "'id'" in m for m in info.value.errors)


def test_bundle_parameter_is_set_by_the_runner_only(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(parameters={"bundle": "/tmp/x"}))
    assert any("'bundle'" in m for m in errors)


def test_missing_required_parameter(tmp_path, bundle):
    import nbformat

    path = write_plan(tmp_path, _base_plan())
    nb = nbformat.read(str(tmp_path / "nb" / "demo.ipynb"), as_version=4)
    nb.cells[0].source += "\nseason: str  # saison (obligatoire)"
    nbformat.write(nb, str(tmp_path / "nb" / "demo.ipynb"))
    assert notebook_parameters(tmp_path / "nb" / "demo.ipynb")["season"].required
    with pytest.raises(PlanError) as info:
        expand_plan(load_plan(path), bundle)
    assert any("'season'" in m and "obligatoire" in m and "entrée demo" in m for m in info.value.errors)


def test_missing_notebook(tmp_path, bundle):
    path, errors = _errors(tmp_path, bundle, _base_plan(notebook="absent"))
    assert any("reports[0] (notebook absent)" in m and "introuvable" in m for m in errors)


def test_duplicate_ids(tmp_path, bundle):
    plan = _base_plan()
    plan["reports"].append({"notebook": "demo"})
    path, errors = _errors(tmp_path, bundle, plan)
    assert any("reports[1]" in m and "double" in m for m in errors)


def test_notebook_parameters_read_types_defaults_and_help():
    p = notebook_parameters(DEMO_NB)
    assert p["year"].type_name == "int" and p["year"].default == 2025 and not p["year"].required
    assert p["territory"].default == "13" and p["territory"].help.startswith("code du territoire")


# --------------------------------------------------------------------------- CLI

def test_cli_plan_list_json(tmp_path, bundle, capsys):
    from fne_eval.cli.main import main

    path = write_plan(tmp_path, _base_plan(territories={"levels": ["epci"]}, axes=["1"]))
    assert main(["plan", str(path), "--list", "--json", "--bundle", bundle.source]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 2  # 2 EPCI × 1 axis
    assert out["entries"][0]["parameters"]["territory"] == "200054807"


def test_cli_plan_invalid_exit_1(tmp_path, bundle, capsys):
    from fne_eval.cli.main import main

    path = write_plan(tmp_path, _base_plan(axes=["9"]))
    assert main(["plan", str(path), "--list", "--bundle", bundle.source]) == 1
    err = capsys.readouterr().err
    assert "Plan invalide" in err and "'axis'" in err


def test_default_no_notebook_declares(tmp_path, bundle):
    plan = _base_plan()
    plan["defaults"]["yaer"] = 2025  # typo of 'year'
    path, errors = _errors(tmp_path, bundle, plan)
    assert any(str(path) in m and "'defaults.yaer'" in m for m in errors)


def test_non_scalar_value_gives_one_message(tmp_path):
    plan = _base_plan()
    plan["defaults"]["year"] = [2025]
    path = write_plan(tmp_path, plan)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert len(info.value.errors) == 1  # not one per member of the str/int/float/bool union
    assert "'defaults.year'" in info.value.errors[0] and "[2025]" in info.value.errors[0]
