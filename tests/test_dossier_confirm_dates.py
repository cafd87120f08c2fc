"""« Confirmer une date » proposals of the COPIL dossier name the action, the task and the inferred date.

Decisions 4 and 5 of the 2025 dossier on the embedded bundle said only « Faire confirmer
par le Hub du Sud la fenêtre prévue de la tâche (déduite*) », which task of which action
and which date left unsaid. The expected strings are written by hand from the seed
(/work/shared/seed/feuille-de-route-fne-13.txt):

- action 3.2, « Mobiliser la communauté éducative autour d'expositions collectives » (seed,
  section Action 3.2 and annexe 6); « Calendrier prévisionnel actions axe 3 » prints
  « Deuxième trimestre 2024 : organisation de la tournée départementale des expositions
  avec un début à Aix-en-Provence » under the year 2025: the planned end, end of the second
  quarter 2024 = 30 juin 2024, is uncertain (a late *end* is what the finding reads);
- action 2.1, « Mener une étude et des expérimentations pour préfigurer des filières locales
  de reconditionnement de matériel informatique et numérique » (annexe 5 title), task
  « Réflexion label territorial et actions de communication (métiers, image
  reconditionnement) » in the 2025 chronogramme whose month cells are unreadable: its window
  was placed on the second half of 2025, 1er juillet – 31 décembre 2025 (start and end
  inferred; a task behind its progress reads both).
"""
import html
import re

import pytest

AS_OF_YEAR = 2025
T32 = "Organisation de la tournée départementale des expositions (début à Aix-en-Provence)"
T21 = "Réflexion label territorial et actions de communication (métiers, image reconditionnement)"
A32 = "Mobiliser la communauté éducative autour d'expositions collectives"
A21 = ("Mener une étude et des expérimentations pour préfigurer des filières locales de reconditionnement "
       "de matériel informatique et numérique")


@pytest.fixture(scope="module")
def review():
    from fne_eval.report import open_report, sections

    ctx = open_report("", "13", "all", AS_OF_YEAR, 5, report="revue_annuelle", display=False)
    return ctx, sections.annual_review


def _proposals(ctx, r) -> dict:
    d = r._decisions(ctx)
    return {row["action_code"]: r.proposal_text(row, ctx) for row in d.to_dict("records")
            if row["kind"] == "confirm_date"}


def test_confirm_date_names_the_inferred_end(review):
    ctx, r = review
    p = _proposals(ctx, r)
    assert "3.2" in p, p
    text = p["3.2"]
    assert "de cette tâche" in text
    assert "la fin prévue le 30 juin 2024 (date déduite*)" in text
    assert "début prévu" not in text  # the late end is what the finding reads, not the start


def test_confirm_date_names_both_inferred_dates_of_a_window(review):
    ctx, r = review
    text = _proposals(ctx, r)["2.1"]
    assert "de cette tâche" in text
    assert "le début prévu le 1er juillet 2025 et la fin prévue le 31 décembre 2025 (dates déduites*)" in text


def test_first_page_shows_the_precise_proposals(review):
    ctx, r = review
    page = html.unescape(re.sub(r"<[^>]+>", " ", r.first_page(ctx)._repr_html_()))
    page = " ".join(page.replace("\u202f", " ").replace("\xa0", " ").split())
    assert "la fenêtre prévue de la tâche (déduite" not in page
    assert "la fin prévue le 30 juin 2024 (date déduite*)" in page
    # the row of the decision names the action's full title beside the proposal
    assert A32 in page and A21 in page
    # and the task, in full, in the finding of the same row
    for action, task, date in ((A32, T32, "la fin prévue le 30 juin 2024 (date déduite*)"),
                               (A21, T21, "la fin prévue le 31 décembre 2025 (dates déduites*)")):
        row = page[page.index(action):]
        assert row.index(task) < row.index(date), (task, date)
    # the legend of the mark says what an inferred date may not do
    assert "ne décide jamais seule d'un verdict" in page
