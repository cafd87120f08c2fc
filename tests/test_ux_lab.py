"""Issue 13: JupyterLab habits — named kernel, outputs stripped by a git filter, tables printed as text."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb")) + [REPO / "tests" / "notebooks" / "demo.ipynb"]
README = (REPO / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ tables as text
def test_print_table_is_text_with_french_numbers_and_suppression_marks():
    from fne_eval.report.tables import html_table

    df = pd.DataFrame({"territory_name": ["Aix-en-Provence", "Arles", "Total"],
                       "n_people": [1234, 3, 1237], "is_suppressed": [False, True, False]})
    t = html_table(df, caption="Personnes accompagnées", count_columns=["n_people"])
    text = str(t)
    assert "<" + "td" not in text and "<table" not in text
    lines = text.splitlines()
    assert lines[0] == "Personnes accompagnées"
    assert lines[2].startswith("---")  # a rule under the header
    row = next(l for l in lines if l.startswith("Aix-en-Provence"))
    assert re.search(r"1\s234$", row)  # French thousands separator, right-aligned number
    assert "< 5" in next(l for l in lines if l.startswith("Arles"))  # the cell hidden by disclosure control
    assert repr(t).startswith("Personnes accompagnées") and repr(t).endswith("(3 lignes)")


def test_print_section_shows_text_and_chart_alt():
    from fne_eval.report.tables import HtmlFragment, html_to_text

    html = ('<div><h3>Offre</h3><p class="fne-text">Deux lieux &amp; un bus.</p>'
            '<img src="data:image/png;base64,AAAA" alt="Lieux par EPCI : 2 au total"></div>')
    assert html_to_text(html) == "Offre\nDeux lieux & un bus.\n[graphique : Lieux par EPCI : 2 au total]"
    assert str(HtmlFragment(html)) == html_to_text(html)


# ------------------------------------------------------------------ named kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_name_the_fne_eval_kernel_and_carry_no_output(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"] == {"display_name": "Python (fne-eval)", "language": "python",
                                            "name": "fne-eval"}
    # what the kernel reports on start, so that JupyterLab finds nothing to change: no Python version
    li = nb["metadata"]["language_info"]
    assert li["name"] == "python" and li["pygments_lexer"] == "ipython3" and "version" not in li
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_kernel_fne_eval_is_found_and_runs_this_environment():
    # in a fresh clone, without `ipykernel install`: conftest.py puts jupyter/kernels on JUPYTER_PATH
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    spec = KernelSpecManager().get_kernel_spec("fne-eval")
    assert spec.display_name == "Python (fne-eval)"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "fne-eval", "display_name": "Python (fne-eval)",
                                                           "language": "python"}})
    nb.cells.append(nbformat.v4.new_code_cell("import sys, fne_eval; print(sys.executable)"))
    NotebookClient(nb, timeout=120).execute()  # kernel name taken from the notebook's metadata
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()
    # the language_info the kernel reported (nbclient stores it) is the one the notebooks are saved with
    committed = json.loads((REPO / "notebooks" / "budget.ipynb").read_text(encoding="utf-8"))
    assert dict(nb.metadata["language_info"]) == committed["metadata"]["language_info"]


def test_the_documented_kernel_command_installs_the_same_kernel(tmp_path):
    cmd = next(l.strip() for l in README.splitlines() if "fne_eval.cli.kernel install" in l and l.startswith("    "))
    assert cmd == ".venv/bin/python -m fne_eval.cli.kernel install --user"
    # the same command, into a throw-away prefix instead of the user's folder
    r = subprocess.run([sys.executable, "-m", "fne_eval.cli.kernel", "install", "--prefix", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Noyau « fne-eval » installé")
    spec = json.loads((tmp_path / "share/jupyter/kernels/fne-eval/kernel.json").read_text())
    ours = json.loads((REPO / "jupyter/kernels/fne-eval/kernel.json").read_text())
    assert Path(spec["argv"][0]).resolve() == Path(sys.executable).resolve()  # absolute: any Jupyter can run it
    assert spec["argv"][1:] == ours["argv"][1:] and spec["display_name"] == ours["display_name"]


# ------------------------------------------------------------------ git filter
def _git(cwd, *args, env=None):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="git absent")
def test_documented_filter_strips_outputs_from_git(tmp_path):
    repo = tmp_path / "clone"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(tmp_path)}
    _git(repo, "init", "-q", env=env)
    _git(repo, "config", "user.email", "t@example.org", env=env)
    _git(repo, "config", "user.name", "t", env=env)
    shutil.copy(REPO / ".gitattributes", repo / ".gitattributes")
    (repo / ".venv").symlink_to(Path(sys.prefix))  # the README's commands name .venv/bin/python
    (repo / "nb.ipynb").write_bytes((REPO / "notebooks" / "budget.ipynb").read_bytes())
    # the documented one-time command, run as typed
    line = next(l.strip() for l in README.splitlines() if l.strip().startswith("git config filter.nbstripout"))
    subprocess.run(line, shell=True, cwd=repo, check=True, env=env)
    _git(repo, "add", ".", env=env)
    _git(repo, "commit", "-qm", "clean", env=env)
    clean = (repo / "nb.ipynb").read_text(encoding="utf-8")
    # the committed notebook is a fixed point of the filter: a checkout is not « modified »
    assert _git(repo, "status", "--porcelain", env=env).stdout == ""
    # JupyterLab: Run All + save adds outputs, counts and language_info
    nb = json.loads(clean)
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x" * 1000]}]
    code["execution_count"] = 3
    nb["metadata"]["language_info"] = {**nb["metadata"]["language_info"], "version": "3.11.7"}
    (repo / "nb.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    assert _git(repo, "diff", env=env).stdout == ""  # git diff sees no change (git status may until git add)
    _git(repo, "add", "nb.ipynb", env=env)
    assert _git(repo, "status", "--porcelain", env=env).stdout == ""  # nothing to commit
    stored = json.loads(_git(repo, "show", ":nb.ipynb", env=env).stdout)
    code = next(c for c in stored["cells"] if c["cell_type"] == "code")
    assert code["outputs"] == [] and code["execution_count"] is None
    assert "version" not in stored["metadata"]["language_info"]
    assert [c["id"] for c in stored["cells"]] == [c["id"] for c in json.loads(clean)["cells"]]  # ids kept
