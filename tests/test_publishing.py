"""Publishing rules tried on purpose (issue 6, point 3).

A hostile bundle is built from the embedded one: personal-data columns (names, e-mails,
phone numbers) in ``lieux``, an e-mail and a phone number inside an action title, a
COPIL justification and a task comment, HTML and Markdown in action titles, a territory
name, a budget recipient and a funder, and the activities cut down to 60 rows so that
most counts of people are under the disclosure threshold. One real ``fne-eval run`` of the
three notebooks (HTML and PDF) then proves that none of it reaches the published HTML,
PDF or executed notebooks, and that no count of people under the threshold is shown.
"""
from __future__ import annotations

import html as html_lib
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from fne_eval.bundle import load_bundle, write_bundle
from fne_eval.bundle.io import EMAIL_MASK, PHONE_MASK, mask_personal_text
from fne_eval.bundle.validate import validate_bundle

THRESHOLD = 5
SCRIPT = '<script>alert("fne")</script>'
IMG = "<img src=x onerror=alert(1)>"
MDLINK = "[cliquez ici](javascript:alert(1))"
BOLD = "<b>gras</b>"
EMAIL = "jeanne.martin-h@example.org"
PHONE = "06 12 34 56 78"
PHONE_INTL = "+33 6 98 76 54 32"
NAME = "Jeanne Martin-Hostile"
#: Dollar signs would start matplotlib's mathtext in a chart label (an unbalanced one raises).
MATHTEXT = r"Coût 50 $ puis $\frac{1}{0}$ et $x^"
#: Strings that must not appear anywhere in a published file (raw, unescaped).
FORBIDDEN = [EMAIL, PHONE, PHONE_INTL, NAME, "<script>alert", "<img src=x", "<b>gras",
             'href="javascript', "onerror=alert(1)>"]
#: Headers of table columns that count people (labels of fne_eval.report.labels).
PEOPLE_HEADERS = ("Personnes accompagnées", "Accompagnements", "Participants", "Départs", "Personnes")
#: Sentences that state a count of people.
PEOPLE_SENTENCE = re.compile(r"(?<![\d\u202f\u00a0,.])(\d+)[\u00a0 ](?:personnes?|participants?|participations?|"
                             r"accompagnements?|bénéficiaires?|départs?)\b")


def make_hostile_bundle(folder: Path, n_activities: int = 60) -> Path:
    """Write the hostile bundle described in the module docstring; return its folder."""
    b = load_bundle()
    t = {k: v.copy() for k, v in b.tables.items()}
    a = t["actions"]
    a.loc[0, "action_title"] = "Gouvernance " + SCRIPT
    a.loc[1, "action_title"] = "Réseau " + MDLINK
    a.loc[2, "action_title"] = f"Contact {EMAIL} tél. {PHONE}"
    a.loc[3, "action_title"] = "Image " + IMG
    a.loc[4, "action_title"] = MATHTEXT
    t["axes"].loc[0, "axis_title"] = "Axe " + SCRIPT
    tr = t["territories"]
    tr.loc[tr["territory_code"] == "13", "territory_name"] = "Bouches-du-Rhône " + BOLD
    bl = t["budget_lines"]
    bl.loc[0, "recipient"] = "Hub " + IMG
    bl.loc[1, "funder"] = "Financeur " + MDLINK
    ss = t["schedule_status"]
    ss.loc[ss.index[-1], "comment"] = f"Rappeler la référente au {PHONE_INTL}"
    t["schedule_tasks"].loc[0, "task_label"] = "Tâche " + SCRIPT
    t["lieux"].loc[0, "nom"] = "Lieu " + SCRIPT
    t["meteo_overrides"] = pd.DataFrame({
        "action_code": ["1.2"], "decision_date": [pd.Timestamp("2025-06-30")], "status": ["red"],
        "justification": [f"Voir {EMAIL} ou {PHONE} {MDLINK}"], "decided_by": ["COPIL"]})
    acts = t["activities"]
    t["activities"] = acts.sample(n=n_activities, random_state=6).sort_values("activity_id").reset_index(drop=True)
    meta = dict(b.meta)
    meta["name"] = "bundle hostile " + SCRIPT
    write_bundle(t, folder, meta=meta)
    lieux = pd.read_csv(folder / "lieux.csv", dtype=str, keep_default_na=False)
    lieux["courriel"] = EMAIL
    lieux["telephone"] = PHONE
    lieux["nom_prenom"] = NAME
    lieux.to_csv(folder / "lieux.csv", index=False)
    return folder


# --------------------------------------------------------------------------- fast: the reader

def test_mask_personal_text_hides_emails_and_phones_only():
    s = pd.Series([f"Contact {EMAIL} tél. {PHONE}", PHONE_INTL, "tél 04.91.00.00.00", "Appeler le 0612345678.",
                   "SIREN 200054807", "13001 Marseille", "1 234 567 €", "ref 20005480712", "a@b", None],
                  dtype="string")
    out = mask_personal_text(s).tolist()
    assert out[:4] == [f"Contact {EMAIL_MASK} tél. {PHONE_MASK}", PHONE_MASK, f"tél {PHONE_MASK}",
                       f"Appeler le {PHONE_MASK}."]
    # codes, postcodes, amounts and a bare '@' are not contacts
    assert out[4:9] == ["SIREN 200054807", "13001 Marseille", "1 234 567 €", "ref 20005480712", "a@b"]
    assert out[9] is pd.NA


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return make_hostile_bundle(tmp_path_factory.mktemp("hostile") / "bundle")


def test_hostile_bundle_is_valid_and_warns_about_personal_data(hostile):
    result = validate_bundle(hostile)
    assert result.valid, result.errors[:3]
    warned = {(w["table"], w["column"]) for w in result.warnings}
    # three personal-data columns dropped, four free-text columns masked
    assert {("lieux", "courriel"), ("lieux", "telephone"), ("lieux", "nom_prenom")} <= warned
    assert {("actions", "action_title"), ("meteo_overrides", "justification"),
            ("schedule_status", "comment")} <= warned


def test_loaded_tables_hold_no_personal_data(hostile):
    bundle = load_bundle(hostile)
    assert "courriel" not in bundle["lieux"].columns and "nom_prenom" not in bundle["lieux"].columns
    text = "\n".join(df.astype(str).to_csv() for df in bundle.tables.values())
    for needle in (EMAIL, PHONE, PHONE_INTL, NAME):
        assert needle not in text
    assert bundle["actions"]["action_title"].iloc[2] == f"Contact {EMAIL_MASK} tél. {PHONE_MASK}"


# --------------------------------------------------------------------------- one real run

def _cli(argv):
    from fne_eval.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _visible_text(html_text: str) -> str:
    """Return the text a reader sees (tags dropped, entities decoded, no embedded images)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html_text, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def people_counts_in_tables(html_text: str) -> list:
    """Return ``(caption, header, cell text)`` of every cell of a people-count column."""
    found = []
    for table in re.findall(r"<table\b.*?</table>", html_text, flags=re.S):
        caption = re.search(r"<caption[^>]*>(.*?)</caption>", table, flags=re.S)
        caption = html_lib.unescape(caption.group(1)) if caption else ""
        heads = [html_lib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
                 for h in re.findall(r"<th\b[^>]*>(.*?)</th>", table, flags=re.S)]
        cols = [i for i, h in enumerate(heads) if h.startswith(PEOPLE_HEADERS)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
            cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td\b[^>]*>(.*?)</td>", row, flags=re.S)]
            if len(cells) == len(heads):
                found += [(caption, heads[i], cells[i]) for i in cols]
    return found


def small_counts(texts) -> list:
    """Return the people counts 1..threshold-1 stated in table cells or sentences."""
    bad = []
    for caption, head, cell in texts:
        digits = re.sub(r"[\s\u202f\u00a0]", "", cell)
        if digits.isdigit() and 0 < int(digits) < THRESHOLD:
            bad.append(f"{caption} / {head} : {cell}")
    return bad


def small_counts_in_sentences(text: str) -> list:
    sentence = re.compile(r"(?<![\d,.\u202f\u00a0])(\d{1,3}(?:[\u202f\u00a0 ]\d{3})+|\d+)[\u00a0 ]"
                          r"(personnes?|participants?|participations?|accompagnements?|bénéficiaires?|départs?)\b")
    out = []
    for m in sentence.finditer(text):
        n = int(re.sub(r"\D", "", m.group(1)))
        if 0 < n < THRESHOLD:
            out.append(text[max(0, m.start() - 60):m.end()])
    return out


@pytest.fixture(scope="module")
def published(hostile, tmp_path_factory):
    import yaml

    root = tmp_path_factory.mktemp("publish")
    plan = root / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "name": "publication", "title": "Essai des règles de publication",
        "defaults": {"year": 2025, "threshold": THRESHOLD},
        "reports": [{"notebook": "impact", "territories": {"levels": ["departement"]}, "axes": ["all"]},
                    {"notebook": "budget"}, {"notebook": "revue_annuelle"}]}, allow_unicode=True), encoding="utf-8")
    code, out, err = _cli(["run", str(plan), "--bundle", str(hostile), "--out", str(root / "out"),
                           "--to", "html,pdf", "--jobs", "2", "--no-progress"])
    run_dir = Path(re.search(r"Ouvrir : (.*)/index.html", out).group(1)) if "Ouvrir" in out else None
    return {"code": code, "out": out, "err": err, "run_dir": run_dir}


def test_run_of_the_hostile_bundle_succeeds(published):
    assert published["code"] == 0, published["out"] + published["err"]
    run_dir = published["run_dir"]
    assert len(list((run_dir / "html").glob("*.html"))) == 3
    assert len(list((run_dir / "pdf").glob("*.pdf"))) == 3


def _published_files(run_dir: Path) -> dict:
    files = {}
    for p in sorted(run_dir.rglob("*")):
        if p.suffix == ".pdf":
            files[p] = _pdf_text(p)
        elif p.suffix in (".html", ".ipynb", ".json"):
            files[p] = p.read_text(encoding="utf-8")
    files[run_dir.parent / "index.html"] = (run_dir.parent / "index.html").read_text(encoding="utf-8")
    return files


def test_no_personal_data_anywhere_in_published_files(published):
    files = _published_files(published["run_dir"])
    assert len(files) >= 3 * 3 + 3  # html, pdf and ipynb per entry, the indexes and the manifest
    leaks = [(str(p.name), s) for p, text in files.items() for s in (EMAIL, PHONE, PHONE_INTL, NAME) if s in text]
    assert not leaks
    # the masks are there instead: the contact was in the data, and was hidden
    html_all = "".join(t for p, t in files.items() if p.suffix == ".html")
    assert EMAIL_MASK in html_all and PHONE_MASK in html_all


def test_text_from_the_data_cannot_inject_markup(published):
    files = _published_files(published["run_dir"])
    markup = {}
    for p, text in files.items():
        if p.suffix == ".html":
            markup[p] = text
        elif p.suffix == ".ipynb":  # what a notebook viewer renders as markup (text/plain is shown as text)
            nb = nbformat.reads(text, as_version=4)
            parts = [c.source for c in nb.cells if c.cell_type == "markdown"]
            for c in nb.cells:
                for o in c.get("outputs", []):
                    data = o.get("data", {})
                    parts += [data.get(k, "") for k in ("text/html", "text/markdown", "image/svg+xml")]
            markup[p] = "\n".join(parts)
    assert len(markup) >= 3 * 2 + 2
    for p, text in markup.items():
        for s in ("<script>alert", "<img src=x", "<b>gras", 'href="javascript', "onerror=alert(1)>"):
            assert s not in text, f"{s!r} unescaped in {p.name}"
    report = "".join(t for p, t in files.items() if p.suffix == ".html" and p.parent.name == "html")
    # the hostile titles are shown, as text (the test is not vacuous)
    assert "&lt;script&gt;alert(&quot;fne&quot;)&lt;/script&gt;" in report or "&lt;script&gt;alert" in report
    assert "Financeur [cliquez ici](javascript:alert(1))" in _visible_text(report)
    assert MATHTEXT in _visible_text(report)  # dollars stay text; no chart choked on them
    assert "&lt;b&gt;gras&lt;/b&gt;" in report


def test_no_count_of_people_under_the_threshold_is_published(published):
    files = _published_files(published["run_dir"])
    cells = []
    for p, text in files.items():
        if p.suffix == ".html" and p.parent.name == "html":
            cells += people_counts_in_tables(text)
            assert not small_counts_in_sentences(_visible_text(text)), p.name
        if p.suffix == ".pdf":
            assert not small_counts_in_sentences(text), p.name
        if p.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            for cell in nb.cells:
                for o in cell.get("outputs", []):
                    html_out = o.get("data", {}).get("text/html", "")
                    cells += people_counts_in_tables(html_out)
                    plain = o.get("text", "") + o.get("data", {}).get("text/plain", "")
                    assert not small_counts_in_sentences(_visible_text(html_out) + plain), p.name
    assert not small_counts(cells)
    hidden = [c for c in cells if c[2].startswith("<")]
    shown = [c for c in cells if c[2][:1].isdigit()]
    # not vacuous: 60 activities give both hidden cells and published ones
    assert hidden and shown, (len(hidden), len(shown))
    assert all(c[2] == f"< {THRESHOLD}" for c in hidden)


def test_a_lower_threshold_shows_what_a_higher_one_hides():
    """The same sentence scanner sees a small count when one is there (the check can fail)."""
    assert small_counts_in_sentences("soit 3 personnes accompagnées") == ["soit 3 personnes"]
    assert small_counts_in_sentences("soit 1\u202f003 personnes et 0 participant") == []
    assert small_counts([("t", "Personnes accompagnées", "4"), ("t", "Accompagnements", "< 5")]) == \
        ["t / Personnes accompagnées : 4"]
