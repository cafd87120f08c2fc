"""Tests of ``fne-eval bundle init``, imports ``--into``, table origins and participant rows."""
import json

import pandas as pd
import pytest

from bundles.small import small_tables, write_small_bundle
from coop_fixtures import write_current_export, write_old_export
from fne_eval.bundle.io import Bundle, participant_rows
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.origins import record_import, synthetic_tables, table_origins
from fne_eval.bundle.spec import TABLES, table_names
from fne_eval.bundle.validate import validate_bundle
from fne_eval.cli.main import main
from fne_eval.ingest.common import IngestError
from fne_eval.ingest.into import init_bundle
from test_coop_import import PERSONAL, old_rows, self_rows, team_rows


@pytest.fixture(autouse=True)
def _key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "secret" / "pseudonym.key"))


def _meta(bundle):
    return json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- init
def test_init_holds_reference_and_roadmap_and_empty_monitoring(tmp_path, default_bundle):
    out = init_bundle(tmp_path / "b")
    assert validate_bundle(out).valid
    b = load_bundle(out)
    for name in table_names("reference") + table_names("roadmap"):
        pd.testing.assert_frame_equal(b[name], default_bundle[name], check_dtype=False)
    for name in table_names("monitoring"):
        assert b[name].empty, name
    origins = table_origins(b)
    assert origins["territories"] == "reference" and origins["actions"] == "roadmap"
    assert origins["activities"] == "empty" and origins["lieux"] == "empty"
    assert origins["meteo_overrides"] == "empty"  # a roadmap table with no row
    assert synthetic_tables(b) == [] and not b.is_synthetic
    m = _meta(out)
    assert m["is_synthetic"] is False and m["synthetic_tables"] == []
    assert not any("synthétique" in s for s in m["sources"])


def test_init_refuses_a_folder_in_use(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["bundle", "init", str(out)]) == 0
    assert main(["bundle", "init", str(out)]) == 2
    assert "existe et n'est pas vide" in capsys.readouterr().err
    assert main(["bundle", "init", str(out), "--force"]) == 0


def test_key_file_inside_the_bundle_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "b" / "pseudonym.key"))
    with pytest.raises(IngestError, match="ne doit jamais être publiée"):
        init_bundle(tmp_path / "b")


# --------------------------------------------------------------------------- end to end
def test_init_then_coop_import_is_valid_real_and_without_personal_data(tmp_path, capsys):
    bundle = tmp_path / "b"
    team = write_current_export(tmp_path / "team.xlsx", team_rows(), source_column=True)
    selfx = write_current_export(tmp_path / "self.xlsx", self_rows(), variant="self",
                                 exporter=("Zanardelli", "Paul"), export_date="02/10/2025")
    old = write_old_export(tmp_path / "old.xlsx", old_rows(), exporter=("Vasseurbot", "Claire"))
    assert main(["bundle", "init", str(bundle)]) == 0
    assert main(["import", "coop-activites", str(team), str(selfx), "--into", str(bundle)]) == 0
    # team + self: 6 activities, 9 participants (tests/test_coop_import.py); the old export appended: +3, +5
    assert main(["import", "coop-activites", str(old), "--into", str(bundle), "--mode", "append"]) == 0
    out = capsys.readouterr().out
    assert "activities 9 lignes, participants 14 lignes" in out
    assert main(["validate", str(bundle)]) == 0
    b = load_bundle(bundle)
    assert len(b["activities"]) == 9 and len(b["participants"]) == 14
    assert int(b["activities"]["duration_min"].sum()) == 405 + 180
    assert len(participant_rows(b)) == 14
    origins = table_origins(b)
    assert (origins["activities"], origins["participants"]) == ("imported", "imported")
    assert origins["budget_transactions"] == "empty" and synthetic_tables(b) == [] and not b.is_synthetic
    m = _meta(bundle)
    imports = m["table_origins"]["activities"]["imports"]
    assert [i["mode"] for i in imports] == ["replace", "append"]
    assert [s["name"] for s in imports[0]["sources"]] == ["team.xlsx", "self.xlsx"]
    assert imports[0]["sources"][1]["export_date"] == "2025-10-02" and len(imports[0]["sources"][0]["sha256"]) == 64
    assert m["data_as_of"] == "2025-10-02"
    assert sum("La Coop de la médiation numérique — export" in s for s in m["sources"]) == 3
    # no name, note, e-mail or phone number of the exports in any file of the bundle
    data = b"".join(p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file())
    for word in PERSONAL:
        assert word.encode() not in data, word
    # a quick report figure on the real data: 9 accompaniments (6 + 3 records), 14 participations (9 + 5)
    assert main(["figures", "--bundle", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "Accompagnements 2025 (année incomplète, jusqu'au 2 octobre 2025) : 9" in out
    assert "Participations 2025 (personnes × séances) : 14" in out


def test_replace_into_the_default_layout_keeps_other_origins(tmp_path, capsys):
    """Importing activities into a copy of a synthetic bundle: only those tables stop being synthetic."""
    bundle = write_small_bundle(tmp_path / "small")
    # the workshop B, in Aix-en-Provence (13001), one of the small bundle's two communes
    team = write_current_export(tmp_path / "team.xlsx", team_rows()[1:4], source_column=True)
    assert synthetic_tables(load_bundle(bundle)) == ["activities"]
    assert main(["import", "coop-activites", str(team), "--into", str(bundle)]) == 0
    b = load_bundle(bundle)
    assert synthetic_tables(b) == [] and not b.is_synthetic
    assert table_origins(b)["budget_transactions"] == "imported"  # user data of an older bundle
    assert b["activities"]["activity_id"].tolist() == ["b2b2b2b2-0000-4000-8000-00000000000b"]
    assert len(b["participants"]) == 3


def test_append_into_synthetic_table_stays_synthetic():
    meta = {"is_synthetic": True, "synthetic_tables": ["activities", "trainings"]}
    m = record_import(meta, ["activities", "participants"], {"kind": "coop-activites"}, "append")
    assert m["table_origins"]["activities"]["origin"] == "synthetic"
    assert m["table_origins"]["participants"]["origin"] == "imported"
    assert m["synthetic_tables"] == ["activities", "trainings"] and m["is_synthetic"]
    m = record_import(meta, ["activities"], {"kind": "coop-activites"}, "replace")
    assert m["synthetic_tables"] == ["trainings"]


# --------------------------------------------------------------------------- origins of older bundles
def test_origins_of_the_default_bundle(default_bundle):
    o = table_origins(default_bundle)
    assert synthetic_tables(default_bundle) == sorted(default_bundle.meta["synthetic_tables"])
    assert (o["territories"], o["budget_lines"], o["lieux"], o["participants"]) == \
        ("reference", "roadmap", "imported", "empty")


def test_origins_of_a_bundle_flagged_synthetic_without_a_list():
    tables = {n: pd.DataFrame({"x": [1]}) for n in TABLES}
    tables["trainings"] = pd.DataFrame()
    b = Bundle(tables=tables, meta={"is_synthetic": True})
    o = table_origins(b)
    assert o["activities"] == "synthetic" and o["trainings"] == "empty" and o["ifn"] == "reference"
    assert "lieux" in synthetic_tables(b)
    assert table_origins(Bundle(tables=tables, meta={}))["activities"] == "imported"


# --------------------------------------------------------------------------- participant rows
def test_participant_rows_from_the_legacy_layout(tmp_path):
    b = load_bundle(write_small_bundle(tmp_path / "s"))
    p = participant_rows(b)
    # A1: 1, A2: 8, A3: 1 (tests/bundles/small.py)
    assert len(p) == 10 and p.groupby("activity_id").size().to_dict() == {"A1": 1, "A2": 8, "A3": 1}
    a2 = p[p["activity_id"] == "A2"]
    assert a2["participant_index"].tolist() == list(range(1, 9))
    assert set(a2["commune_code"]) == {"13055"} and set(a2["gender"]) == {"non_communique"}
    assert not p["demographics_random"].any() and p["beneficiary_key"].isna().all()
    a1 = p[p["activity_id"] == "A1"].iloc[0]
    assert (a1["age_band"], a1["gender"], a1["social_status"]) == ("soixante_dix_plus", "feminin", "retraite")


def test_participant_rows_mixes_table_and_legacy(tmp_path):
    tables = small_tables()
    tables["participants"] = [{"activity_id": "A1", "participant_index": "1", "commune_code": "13001",
                               "age_band": "dix_huit_vingt_quatre", "gender": "masculin",
                               "social_status": "scolarise", "demographics_random": "false"}]
    b = load_bundle(write_small_bundle(tmp_path / "s", tables))
    p = participant_rows(b)
    assert len(p) == 10
    a1 = p[p["activity_id"] == "A1"].iloc[0]
    assert (a1["gender"], a1["age_band"]) == ("masculin", "dix_huit_vingt_quatre")  # the table wins
    assert p.iloc[0]["activity_id"] == "A1"


def test_validation_checks_participant_counts(tmp_path):
    tables = small_tables()
    tables["participants"] = [
        {"activity_id": "A2", "participant_index": str(i), "age_band": "non_communique", "gender": "non_communique",
         "social_status": "non_communique", "demographics_random": "true"} for i in (1, 2, 9)]
    res = validate_bundle(write_small_bundle(tmp_path / "s", tables))
    msgs = [e["message"] for e in res.errors]
    # A2 has participants = 8: rank 9 is too high, and 3 rows are not 8
    assert any("participants.csv, ligne 4, colonne « participant_index », valeur « 9 »" in m
               and "rang supérieur" in m for m in msgs), msgs
    assert any("participants.csv, ligne 2, colonne « activity_id », valeur « A2 »" in m
               and "3 ligne(s) de participants" in m and "vaut 8" in m for m in msgs), msgs
    tables["participants"][0]["activity_id"] = "A9"
    msgs = [e["message"] for e in validate_bundle(write_small_bundle(tmp_path / "t", tables)).errors]
    assert any("valeur « A9 »" in m and "code inconnu" in m for m in msgs), msgs
