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


#: Third-party modules that may be imported inside a function (each heavy or optional), and nothing else.
LAZY_ALLOWED = {"dask", "distributed", "weasyprint", "openpyxl", "statsmodels", "seaborn", "matplotlib", "docx",
                "IPython", "jupyter_client", "ipykernel", "papermill", "nbconvert", "nbformat", "pypdf", "bs4",
                "pyarrow", "psutil",
                # importlib.metadata (~0,3 s: email parser) only for fne_eval.__version__, which `fne-eval --help` skips
                "importlib"}
#: The explicit registries that load the package's own modules late, and the function holding each.
REGISTRIES = {"fne_eval/cli/commands.py": None,  # every function: one per command
              "fne_eval/runner/forkkernel.py": "_warm_library"}


def _function_imports(source: str):
    """Yield ``(function, lineno, module, text)`` for every import inside a function or method."""
    lines = source.splitlines()

    def visit(node, fn):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, child.name)
                continue
            if fn is not None and isinstance(child, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in child.names] if isinstance(child, ast.Import) else \
                    ["." * child.level + (child.module or "")]
                text = "\n".join(lines[child.lineno - 1:child.end_lineno])
                for mod in mods:
                    yield fn, child.lineno, mod, text
            yield from visit(child, fn)

    yield from visit(ast.parse(source), None)


def _import_offences(rel: str, source: str) -> list:
    """Function-level imports of ``source`` that are unmarked, or not of an allowed heavy module."""
    offences = []
    for fn, lineno, mod, text in _function_imports(source):
        where = f"{rel}:{lineno} ({fn}) {mod}"
        reason = re.search(r"# lazy: (\S.*)", text)
        if reason is None or len(reason.group(1).strip()) < 10:
            offences.append(where + " : no '# lazy: <reason>' comment")
        root = mod.split(".")[0]
        if root == "fne_eval":
            if rel not in REGISTRIES or REGISTRIES[rel] not in (None, fn):
                offences.append(where + " : the package's own module imported inside a function")
        elif root not in LAZY_ALLOWED:
            offences.append(where + " : not an optional heavy module (import it at module top)")
    return offences


def test_imports_inside_functions_are_heavy_optional_and_say_why():
    """Issue 10: imports at module top; inside a function only heavy/optional modules, with a reason."""
    assert LAZY_ALLOWED == {"dask", "distributed", "weasyprint", "openpyxl", "statsmodels", "seaborn",
                            "matplotlib", "docx", "IPython", "jupyter_client", "ipykernel", "papermill",
                            "nbconvert", "nbformat", "pypdf", "bs4", "pyarrow", "psutil", "importlib"}
    offences, seen = [], 0
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        source = path.read_text(encoding="utf-8")
        seen += sum(1 for _ in _function_imports(source))
        offences += _import_offences(rel, source)
    assert offences == []
    assert seen > 0  # the walk does find imports inside functions (the lazy ones)


def test_the_function_import_check_can_fail():
    source = ("import os\n"
              "def f():\n"
              "    import pandas as pd\n"
              "    from fne_eval.core import fmt\n"
              "    import matplotlib  # lazy: matplotlib (~1 s), charts only\n"
              "    import seaborn\n"
              "class C:\n"
              "    def m(self):\n"
              "        from fne_eval.cli.run import cmd_run  # lazy: command registry, loaded when it runs\n")
    found = _import_offences("fne_eval/x.py", source)
    assert len([o for o in found if "no '# lazy" in o]) == 3  # pandas, fmt, seaborn
    assert any("pandas : not an optional heavy module" in o for o in found)
    assert any("(f) fne_eval.core : the package's own module" in o for o in found)
    assert any("(m) fne_eval.cli.run : the package's own module" in o for o in found)
    assert not any("matplotlib" in o for o in found)
    assert _import_offences("fne_eval/cli/commands.py", source.split("class C")[0].replace(
        "from fne_eval.core import fmt", "from fne_eval.core import fmt  # lazy: command registry, at run")) == [
        "fne_eval/x.py:3 (f) pandas : no '# lazy: <reason>' comment".replace("x.py", "cli/commands.py"),
        "fne_eval/cli/commands.py:3 (f) pandas : not an optional heavy module (import it at module top)",
        "fne_eval/cli/commands.py:6 (f) seaborn : no '# lazy: <reason>' comment"]


def _cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (or a module importing itself): Tarjan."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycle_between_modules():
    """Issue 10: the package's import graph (every import, also inside functions) has no cycle."""
    grimp = pytest.importorskip("grimp")  # comes with import-linter (dev extra)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 10000))
    try:
        graph = grimp.build_graph("fne_eval", cache_dir=None)
        edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
        assert len(edges) > 50 and edges["fne_eval.cli.main"]  # the whole package, with its imports
        assert _cycles(edges) == []
    finally:
        sys.setrecursionlimit(old_limit)


def test_no_internal_module_is_looked_up_by_name():
    """No importlib/__import__ look-up of the package's own modules: they are imported by name."""
    from fne_eval.runner import forkkernel

    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("import_module", "__import__"):
                continue
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant):
                if str(arg.value).startswith(("fne_eval", ".")):
                    offenders.append(f"{rel}:{node.lineno} {arg.value}")
            elif rel != "fne_eval/runner/forkkernel.py":  # its WARM_MODULES, checked below
                offenders.append(f"{rel}:{node.lineno} look-up of a computed name")
    assert offenders == []
    assert forkkernel.WARM_MODULES and not [m for m in forkkernel.WARM_MODULES if m.startswith("fne_eval")]


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


def _private_imports(source: str) -> list:
    """Return the private names (``_x``, not dunders) a module imports from fne_eval modules."""
    return [f"{node.module}.{alias.name}" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fne_eval")
            for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]


def test_no_private_name_is_imported_across_modules():
    # issue 10: a name another module needs is public (named without « _ »), so readers and
    # linters see the module's real interface
    found = {str(p.relative_to(ROOT)): names for p in sorted((ROOT / "fne_eval").rglob("*.py"))
             if (names := _private_imports(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_private_import_check_can_fail():
    assert _private_imports("from fne_eval.core.territory import _str, members\n") == ["fne_eval.core.territory._str"]
    assert _private_imports("from fne_eval.x import __all__ as a\nfrom pandas import _libs\n") == []
