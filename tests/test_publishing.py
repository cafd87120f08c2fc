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
