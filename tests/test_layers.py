"""The house in layers (issue 10): imports go one way, down the layers of pyproject.toml.

The contracts are import-linter's (``[tool.importlinter]`` in ``pyproject.toml``); this test
runs them, so the README's test command checks the architecture as CI does.
"""
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fne_eval"


def _lint_imports():
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.fail("import-linter is not installed (it is in the dev extra of pyproject.toml)")
        exe = Path(found)
    return subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True)


def test_import_contracts_hold():
    res = _lint_imports()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_the_contract_can_fail(tmp_path):
    """A report import planted in the evaluation layer breaks the contract (the check is not empty)."""
    planted = PACKAGE / "evaluate" / "_planted_for_test.py"
    planted.write_text("from fne_eval.report import format  # noqa: F401\n", encoding="utf-8")
    try:
        res = _lint_imports()
    finally:
        planted.unlink()
    assert res.returncode != 0 and "fne_eval.evaluate._planted_for_test" in res.stdout


def test_no_internal_module_is_looked_up_by_name():
    """No importlib look-up of the package's own modules, except the forked kernel's warm-up list."""
    allowed = {PACKAGE / "runner" / "forkkernel.py", PACKAGE / "build" / "default_bundle.py"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"import_module\(|__import__\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_sections_have_english_names_and_an_all():
    from fne_eval.report import sections

    for mod in (sections.common, sections.impact, sections.budget, sections.annual_review):
        assert mod.__all__, mod.__name__
        for name in mod.__all__:
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.isascii(), name
            assert hasattr(mod, name), (mod.__name__, name)
    french = {"contexte", "offre", "activite", "resultats", "qualite", "synthese", "revue_axe", "fonds_formation",
              "budget_synthese", "budget_par", "budget_rythme", "regles_meteo", "premiere_page", "gouvernance"}
    assert not french & set(sections.__all__)


def test_core_and_evaluate_hold_no_report_words():
    """The lower layers return ids and figures: no report formatting module is imported there."""
    for layer in ("core", "bundle", "evaluate", "store", "ingest", "build"):
        for path in (PACKAGE / layer).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(("fne_eval.report", "fne_eval.runner", "fne_eval.cli")), \
                        (str(path.relative_to(ROOT)), node.module)
