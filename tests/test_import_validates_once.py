"""An import into a bundle validates once: the bundle it is about to put in place.

``fne-eval import coop-activites EXPORT --into B`` validated B three times (the command read
it validated, write_into read it validated again, then validated the result): ~14 of 22 s.
"""
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coop_unseen import write_team_export  # noqa: E402

from fne_eval.bundle import validate as validate_mod  # noqa: E402
from fne_eval.bundle.io import read_bundle_raw  # noqa: E402
from fne_eval.bundle.load import load_bundle  # noqa: E402
from fne_eval.cli.main import main  # noqa: E402
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR  # noqa: E402
from fne_eval.ingest import commands as commands_mod  # noqa: E402
from fne_eval.ingest import into as into_mod  # noqa: E402


def test_typed_tables_are_the_validated_tables():
    # the import's reading of the current bundle gives what validation gave it, table by table
    raw = read_bundle_raw(DEFAULT_BUNDLE_DIR)
    typed = into_mod.typed_tables(raw)
    validated = validate_mod.validate_raw(raw).tables
    assert set(typed) == set(validated)
    for name in validated:
        pd.testing.assert_frame_equal(typed[name], validated[name], check_exact=True, obj=name)


def test_import_into_validates_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "key" / "pseudonym.key"))
    truth = write_team_export(tmp_path / "coop-numerique_accompagnements_2026-03-10.xlsx")
    bundle = tmp_path / "bundle"
    assert main(["bundle", "init", str(bundle)]) == 0
    calls = []
    real = validate_mod.validate_raw

    def counting(raw):
        calls.append(raw.source)
        return real(raw)

    # every name the import could call it by
    for mod in (validate_mod, into_mod, commands_mod):
        monkeypatch.setattr(mod, "validate_raw", counting, raising=False)
    assert main(["import", "coop-activites", str(truth.path), "--into", str(bundle)]) == 0
    assert len(calls) == 1, calls
    assert len(load_bundle(bundle)["activities"]) == truth.activities  # the import did happen


def test_an_invalid_result_is_still_refused(tmp_path, monkeypatch):
    # the one validation left is the one that matters: a result with errors is not put in place
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "key" / "pseudonym.key"))
    truth = write_team_export(tmp_path / "coop-numerique_accompagnements_2026-03-10.xlsx")
    bundle = tmp_path / "bundle"
    assert main(["bundle", "init", str(bundle)]) == 0
    before = sorted(p.name for p in bundle.iterdir())
    real = validate_mod.validate_raw

    def failing(raw):
        res = real(raw)
        res.errors.append({"table": "activities", "message": "erreur plantée par le test"})
        return res

    monkeypatch.setattr(validate_mod, "validate_raw", failing)
    assert main(["import", "coop-activites", str(truth.path), "--into", str(bundle)]) == 1
    assert sorted(p.name for p in bundle.iterdir()) == before
    assert len(load_bundle(bundle)["activities"]) == 0
