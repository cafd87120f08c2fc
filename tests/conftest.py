"""Shared fixtures. Keep fixtures of one module in that module's test file."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COPIL_PLAN = REPO / "params" / "copil-2025.yaml"


@pytest.fixture(scope="session")
def default_bundle():
    """The embedded default bundle, loaded once per test session."""
    from fne_eval.bundle import load_bundle

    return load_bundle()


@pytest.fixture(scope="session")
def copil_pack(tmp_path_factory):
    """The run folder (holding ``manifest.json``) of one real run of the COPIL 2025 pack, HTML and PDF.

    Run once per session (about two minutes on two cores) and shared by the pack tests
    (``test_dossier_pack.py``, ``test_pack_consistency.py``). To check an existing run while
    iterating, set ``FNE_EVAL_PACK_RUN`` to its folder: it is reused as it is.
    """
    given = os.environ.get("FNE_EVAL_PACK_RUN", "").strip()
    if given:
        run = Path(given)
        if not (run / "manifest.json").is_file():
            pytest.fail(f"FNE_EVAL_PACK_RUN={given} : pas de manifest.json dans ce dossier "
                        "(donner le dossier d'une exécution, pas le dossier --out)")
        return run
    out = tmp_path_factory.mktemp("copil-pack")
    cmd = [sys.executable, "-m", "fne_eval.cli.main", "run", str(COPIL_PLAN), "--out", str(out), "--to",
           "html,pdf", "--no-progress", "--jobs", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    runs = [p for p in out.iterdir() if p.is_dir() and (p / "manifest.json").exists()]
    assert len(runs) == 1, runs
    return runs[0]
