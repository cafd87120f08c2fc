"""Issue 13: the README's commands work as typed on a fresh machine (no bare `fne-eval`, `pip`, `papermill`…)."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
#: programs installed in the virtual environment: typed bare, they are « command not found » (or the system's)
VENV_PROGRAMS = ("fne-eval", "pip", "pip3", "python", "papermill", "jupyter", "pytest", "nbstripout", "frictionless")


def _commands():
    """Command lines of the README: indented code-block lines and inline code spans."""
    lines = [l[4:] for l in README.splitlines() if l.startswith("    ") and l.strip()]
    spans = re.findall(r"`([^`\n]+)`", README)
    return lines + spans


def test_no_bare_venv_program():
    bare = []
    for cmd in _commands():
        for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", cmd.strip()):
            first = part.split(" ", 1)[0]
            if first in VENV_PROGRAMS and " " in part:  # « fne-eval run » as prose has no argument
                bare.append(cmd)
    assert bare == [], bare


def test_the_two_commands_at_the_top_are_kept():
    head = README.split("---", 1)[0]
    assert '    python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/fne-eval run params/copil-2025.yaml' in head
    assert "    .venv/bin/python -m pytest tests notebooks --nbmake -q" in head


def test_venv_programs_of_the_readme_exist():
    # every `.venv/bin/X` the README types exists in this environment (jupyter: after the lab extra)
    bindir = Path(sys.executable).parent
    used = set(re.findall(r"\.venv/bin/([A-Za-z0-9_.-]+)", README))
    assert {"fne-eval", "python", "pip", "papermill", "frictionless"} <= used
    missing = [p for p in sorted(used - {"jupyter"}) if not (bindir / p).exists()]
    assert missing == [], missing


def test_readme_fne_eval_commands_parse(capsys):
    # each `.venv/bin/fne-eval …` command of a code block is accepted by the parser as typed
    from fne_eval.cli.main import build_parser

    parser = build_parser()
    n = 0
    block_lines = [l[4:] for l in README.splitlines() if l.startswith("    ") and l.strip()]
    for cmd in block_lines:
        for part in re.split(r"\s*(?:&&|;)\s*", cmd.strip()):
            if not part.startswith(".venv/bin/fne-eval ") or any(ch in part for ch in "[]…|<>"):
                continue
            argv = shlex.split(part.split("#", 1)[0])[1:]
            if any(re.fullmatch(r"[A-Z][A-Z_]*(\.[a-z]+)?", a) for a in argv):
                continue  # a syntax line with placeholders (KIND, OUT.xlsx, B), not a command to type
            if not argv or argv[-1] in ("--help",) or "COMMANDE" in argv:
                continue
            parser.parse_args(argv)  # exits 2 with a French message on a wrong line
            n += 1
    assert n >= 8


def test_papermill_help_notebook_works_as_typed():
    r = subprocess.run([str(Path(sys.executable).parent / "papermill"), "--help-notebook", "notebooks/impact.ipynb"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "territory" in r.stdout and "axis" in r.stdout
