"""Acceptance of issue 12: the La Coop importer on exports it has not seen.

The three exports come from ``tests/coop_unseen.py``, written from COOP-MIN-FORMATS.md
alone with a seeded generator that counts its own ground truth from what it writes
(never from the importer). Each one goes through the CLI as a user would:
``fne-eval bundle init`` then ``fne-eval import coop-activites … --into``. Checked:

- activities, participants, total duration, and counts per code (type, channel, theme;
  gender, age band, status and residence of the participants) equal the ground truth;
- no name, note, e-mail or phone number of the export is in any file of the bundle;
- the anonymous workshop participants, whose age, gender and status La Coop draws at
  random, are marked, and the figures the reports read count them « non communiqué »;
- a reduced COPIL pack (annual review, département impact report, budget; HTML and PDF)
  on the bundle built from the three exports carries no synthetic-data banner and none
  of their personal strings, and its gender table counts the random draws « Non
  communiqué ».
"""
import contextlib
import html as htmllib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coop_unseen import write_old_self_export, write_resaved_export, write_team_export
from fne_eval.bundle.load import load_bundle
from fne_eval.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
WRITERS = {"team": write_team_export, "old": write_old_self_export, "resaved": write_resaved_export}
FILES = {"team": "coop-numerique_accompagnements_2026-03-10.xlsx",
         "old": "coop-numerique_accompagnements_2025-07-30.xlsx",
         "resaved": "coop-numerique_accompagnements_2025-11-12 (copie).xlsx"}
PRINTED = {}  # export -> what « bundle init » and « import » printed (filled by the bundles fixture)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A pseudonymisation key outside every bundle, for the module's imports."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FNE_EVAL_KEY_FILE", str(tmp_path_factory.mktemp("key") / "pseudonym.key"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    return {name: write(folder / FILES[name]) for name, write in WRITERS.items()}


def _init_and_import(bundle: Path, *imports) -> str:
    """Run ``bundle init`` then each ``import coop-activites`` (a list of paths, then options)."""
    assert main(["bundle", "init", str(bundle)]) == 0
    for paths, *options in imports:
        assert main(["import", "coop-activites", *map(str, paths), "--into", str(bundle), *options]) == 0


@pytest.fixture(scope="module")
def bundles(env, exports, tmp_path_factory):
    """One bundle per export; ``PRINTED`` keeps what its commands wrote on stdout and stderr."""
    out = {}
    for name, truth in exports.items():
        b = tmp_path_factory.mktemp(f"bundle-{name}") / "donnees-reelles"
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            _init_and_import(b, ([truth.path],))
        out[name] = b
        PRINTED[name] = stdout.getvalue() + stderr.getvalue()
    return out


def _bytes_of(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _cells_text(path: Path) -> str:
    wb = load_workbook(path, read_only=True)
    text = "\n".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    wb.close()
    return text


# --------------------------------------------------------------------------- counts
@pytest.mark.parametrize("name", ["team", "resaved"])
def test_the_ground_truth_is_what_the_file_says(name, exports):
    """Read back with openpyxl alone: one row per participant, activities by ID CRA."""
    truth = exports[name]
    wb = load_workbook(truth.path, read_only=True)
    rows = list(wb["Activités"].iter_rows(values_only=True))
    wb.close()
    header = list(rows[truth.header_row - 1])
    data = [dict(zip(header, r)) for r in rows[truth.header_row:] if any(v not in (None, "") for v in r)]
    assert header[0] == "Date" and len(data) == truth.rows == truth.participants
    by_id = {}
    for r in data:
        by_id.setdefault(r["ID CRA"], []).append(r)
    assert len(by_id) == truth.activities
    assert sum(rs[0]["Durée (min)"] for rs in by_id.values()) == truth.duration_min
    for rs in by_id.values():  # « 1 » alone, or « 1/n » … « n/n »
        n = len(rs)
        assert [r["Participants"] for r in rs] == ([1] if n == 1 else [f"{i}/{n}" for i in range(1, n + 1)])
    assert Counter(r["Type"] for rs in by_id.values() for r in rs[:1]) == {
        "Accompagnement individuel": truth.activity_type["individuel"],
        "Atelier collectif": truth.activity_type["collectif"]}
    assert Counter(r["Genre du bénéficiaire"] for r in data) == {
        "Masculin": truth.gender["masculin"], "Féminin": truth.gender["feminin"],
        "Non communiqué": truth.gender["non_communique"]}


@pytest.mark.parametrize("name", list(WRITERS))
def test_counts_match_the_ground_truth_exactly(name, exports, bundles):
    truth = exports[name]
    b = load_bundle(bundles[name])
    acts, parts = b["activities"], b["participants"]
    assert len(acts) == truth.activities
    assert len(parts) == truth.participants == int(acts["participants"].sum())
    assert int(acts["duration_min"].sum()) == truth.duration_min
    assert Counter(acts["activity_type"].astype(str)) == truth.activity_type
    assert Counter(acts["place_type"].astype(str)) == truth.place_type
    assert Counter(c for v in acts["themes"].astype(str) for c in v.split("|")) == truth.themes
    assert Counter(parts["gender"].astype(str)) == truth.gender
    assert Counter(parts["age_band"].astype(str)) == truth.age_band
    assert Counter(parts["social_status"].astype(str)) == truth.social_status
    assert Counter(parts["commune_code"].astype("string").fillna("")) == truth.residence
    assert acts["mediator_id"].nunique() == truth.mediators
    # every participant belongs to an activity of the bundle, with indexes 1..n
    n = acts.set_index("activity_id")["participants"]
    assert parts.groupby("activity_id")["participant_index"].max().sort_index().equals(
        n.loc[sorted(set(parts["activity_id"]))].rename("participant_index").astype(parts["participant_index"].dtype))


def test_the_exports_are_what_they_claim(exports, bundles):
    """Team export with its table object; old layout; re-saved file found by its header row."""
    sources = {}
    for name, b in bundles.items():
        meta = json.loads((b / "bundle.json").read_text(encoding="utf-8"))
        (imp,) = meta["table_origins"]["activities"]["imports"]
        (src,) = imp["sources"]
        sources[name] = src
        assert meta["table_origins"]["activities"]["origin"] == "imported"
        assert meta["is_synthetic"] is False and meta["synthetic_tables"] == []
        assert src["rows"] == exports[name].rows
    assert sources["team"]["table_found_by"].startswith("objet tableau « Activités »")
    assert exports["team"].header_row == 23  # the « Médiateurs » filter row pushes the table down
    assert sources["team"]["variant"] == "equipe" and sources["team"]["source_column"] is True
    assert sources["team"]["export_date"] == "2026-03-10"
    assert "avant" in sources["old"]["layout"] and sources["old"]["export_date"] == "2025-07-30"
    assert sources["resaved"]["table_found_by"] == \
        f"recherche de la ligne d'en-tête (ligne {exports['resaved'].header_row}, sans objet tableau)"
    assert sources["resaved"]["variant"] == "personnel" and "depuis" in sources["resaved"]["layout"]


# --------------------------------------------------------------------------- personal data
@pytest.mark.parametrize("name", list(WRITERS))
def test_no_personal_string_anywhere_in_the_bundle(name, exports, bundles):
    truth = exports[name]
    cells = _cells_text(truth.path)
    in_file = [w for w in truth.personal if w in cells]
    # the export does hold names, notes and e-mails (else this test would prove nothing)
    assert any("@" in w for w in in_file) and any(" " in w for w in in_file) and len(in_file) >= 10, in_file
    data = _bytes_of(bundles[name])
    assert b"activities" in data and len(data) > 100_000
    for word in in_file:
        assert word.encode("utf-8") not in data, word
        assert word not in PRINTED[name], word


# --------------------------------------------------------------------------- random demographics
@pytest.mark.parametrize("name", list(WRITERS))
def test_random_demographics_of_anonymous_workshop_participants_are_marked(name, exports, bundles):
    truth = exports[name]
    b = load_bundle(bundles[name])
    parts = b["participants"].merge(b["activities"][["activity_id", "activity_type"]], on="activity_id")
    marked = parts[parts["demographics_random"].astype(bool)]
    assert (marked["activity_type"] == "collectif").all()
    if name == "team":
        # a team export has no « Bénéficiaire » column: every workshop participant may be a draw
        assert len(marked) == truth.collective_participants
    else:
        assert len(marked) == truth.anonymous_collective > 0
        assert Counter(marked["gender"].astype(str)) == truth.gender_random


@pytest.fixture(scope="module")
def combined(env, exports, tmp_path_factory):
    """The three exports in one bundle: the two current ones replace, the old one is appended."""
    b = tmp_path_factory.mktemp("combined") / "donnees-reelles"
    _init_and_import(b, ([exports["team"].path, exports["resaved"].path],),
                     ([exports["old"].path], "--mode", "append"))
    return b


def _published_2025(exports, dim_index: int) -> Counter:
    """Participations of 2025 of the département, per category, draws counted « non communiqué ».

    Participants are counted where they live; those living in Pertuis (84089, Vaucluse)
    are outside the département, those with no known residence count in it.
    """
    out = Counter()
    for truth in exports.values():
        for rec in truth.people:
            if rec[0].year == 2025 and not rec[6].startswith("84"):
                out["non_communique" if rec[2] else rec[dim_index]] += 1
    return out


def test_reports_figures_count_random_draws_as_non_communique(exports, combined):
    from fne_eval.store.build import build_store

    store = build_store(load_bundle(combined), "2025-12-31")
    cells = store[(store["indicator"] == "participations") & (store["level"] == "departement")
                  & (store["territory_code"] == "13") & (store["period"] == "2025")]
    for dim, index in (("gender", 3), ("age_band", 4), ("social_status", 5)):
        rows = cells[cells["breakdown"].str.startswith(dim + "=")]
        got = {b.split("=", 1)[1]: int(v) for b, v in zip(rows["breakdown"], rows["value"]) if v}
        assert got == dict(_published_2025(exports, index)), dim


# --------------------------------------------------------------------------- the pack
def _html_text(path: Path) -> str:
    s = path.read_text(encoding="utf-8")
    s = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", s)
    alts = " ".join(re.findall(r'alt="([^"]*)"', s))
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", s) + " " + alts).split())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) missing")
def test_pack_on_the_real_bundle_has_no_synthetic_banner_nor_personal_data(exports, combined, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "fne_eval.cli.main", "run", str(ROOT / "params" / "copil-2025.yaml"),
           "--bundle", str(combined), "--out", str(out), "--to", "html,pdf", "--no-progress", "--jobs", "2",
           "--only", "revue-annuelle", "impact-13-axe-all", "budget"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), env=os.environ.copy())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (run,) = [p for p in out.iterdir() if p.is_dir() and (p / "manifest.json").exists()]
    htmls, pdfs = sorted((run / "html").glob("*.html")), sorted((run / "pdf").glob("*.pdf"))
    assert [p.stem for p in htmls] == [p.stem for p in pdfs] == ["budget", "impact-13-axe-all", "revue-annuelle"]
    personal = sorted({w for t in exports.values() for w in t.personal})
    texts = {p: _html_text(p) for p in htmls}
    texts.update({p: subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
                  for p in pdfs})
    for p, text in texts.items():
        assert not re.search(r"synth[ée]tique", text, re.IGNORECASE), p.name
        for word in personal:
            assert word not in text, (p.name, word)
    raw = b"".join(p.read_bytes() for p in htmls)
    assert b"fne-synthetic" not in raw
    # the impact report's gender table: the random draws are « Non communiqué »
    text = texts[run / "html" / "impact-13-axe-all.html"]
    m = re.search(r"Participations par genre — 2025 Genre Participations Homme (\d+) Femme (\d+) "
                  r"Non communiqué (\d+)", text)
    assert m, text[text.find("Participations par genre"):][:300]
    expected = _published_2025(exports, 3)
    assert tuple(map(int, m.groups())) == (expected["masculin"], expected["feminin"], expected["non_communique"])


def test_banner_of_a_bundle_mixing_imported_activities_and_synthetic_budget():
    """La Coop imported into a copy of the embedded bundle: activities real, the rest still generated."""
    from fne_eval.bundle.origins import record_import
    from fne_eval.report.context import synthetic_banner

    before = load_bundle().meta
    assert {"activities", "budget_transactions"} <= set(before["synthetic_tables"])
    meta = record_import(before, ["activities", "participants"], {"kind": "coop-activites", "sources": []},
                         "replace")
    assert "activities" not in meta["synthetic_tables"] and "budget_transactions" in meta["synthetic_tables"]
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", synthetic_banner(meta)))
    generated = text.split(" : ", 1)[1].split(".", 1)[0]  # the list of generated tables
    assert "engagements et paiements" in generated and "accompagnements" not in generated
    assert "accompagnements : données réelles importées" in text
    assert "Les chiffres d'activité" not in text  # the activity figures are not called fictitious
