"""Tests of the dossier's rules (issue 11) on hand-made schedules and catalogues.

Expected values are computed by hand in the comments; target sources are quoted from the
packaged catalogue (fne_eval/data/roadmap/indicators.csv, transcribed from the seed roadmap).
"""
import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES
from fne_eval.evaluate.meteo import METEO_RULES, METEO_THRESHOLDS, computed_status, task_findings
from fne_eval.evaluate.schedule import SCHEDULE_RULES, SCHEDULE_THRESHOLDS, inferred_dates, task_status
from fne_eval.evaluate.targets import target_origin, target_verdicts
from fne_eval.report.labels import RULE_TEXT, rule_text


def typed(name, rows):
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


def one_task(start, end, source="Calendrier imprimé"):
    return typed("schedule_tasks", [dict(task_id="T", action_code="2.1", task_label="Expérimentations",
                                         planned_start=start, planned_end=end, source=source)])


def report(*rows):
    return typed("schedule_status", [dict(task_id="T", status_date=d, status=s, actual_start=a, progress_pct=p,
                                          comment=c) for d, s, a, p, c in rows])


# ------------------------------------------------------------------ chronogramme
def test_late_start_of_a_long_task_is_not_late():
    # planned 2025-07-01 -> 2027-12-31, started 2025-11-07 (129 days late), as_of 2025-12-31:
    # 184 of 914 days elapsed = 20,1 %; progress 5 % -> 15,1 points behind < 25: on time, started late
    ts = task_status(one_task("2025-07-01", "2027-12-31"),
                     report(("2025-12-31", "in_progress", "2025-11-07", 5, None)), "2025-12-31").iloc[0]
    assert ts["state"] == "in_progress" and ts["start_late"] and ts["start_delay_days"] == 129
    assert ts["end_delay_days"] == 0 and ts["on_time"]
    assert ts["elapsed_pct"] == pytest.approx(100 * 184 / 914)


def test_behind_progress_by_more_than_the_margin():
    # 2025-01-01 -> 2025-12-31 at 2025-07-02: 183 / 365 = 50,1 % elapsed
    tasks = one_task("2025-01-01", "2025-12-31")
    behind = task_status(tasks, report(("2025-07-02", "in_progress", "2025-01-05", 20, None)), "2025-07-02").iloc[0]
    # 50,1 − 20 = 30,1 points > 25 -> late by S2, no late end
    assert behind["state"] == "late" and behind["late_rule"] == "S2" and behind["end_delay_days"] == 0
    assert behind["progress_gap_pct"] == pytest.approx(100 * 183 / 365 - 20)
    ok = task_status(tasks, report(("2025-07-02", "in_progress", "2025-01-05", 30, None)), "2025-07-02").iloc[0]
    # 50,1 − 30 = 20,1 points: within the margin
    assert ok["state"] == "in_progress" and pd.isna(ok["late_rule"])
    wider = task_status(tasks, report(("2025-07-02", "in_progress", "2025-01-05", 20, None)), "2025-07-02",
                        progress_margin_pct=35).iloc[0]
    assert wider["state"] == "in_progress"


def test_overdue_not_started_task_keeps_its_comment():
    # planned October 2025, not started at 2025-12-31: 61 days past its end (S1), comment carried
    ts = task_status(one_task("2025-10-01", "2025-10-31"),
                     report(("2025-12-31", "not_started", None, 0, "Tâche non démarrée : en attente de moyens")),
                     "2025-12-31").iloc[0]
    assert ts["state"] == "late" and ts["late_rule"] == "S1" and ts["end_delay_days"] == 61
    assert ts["start_delay_days"] == 91 and ts["start_late"]
    assert ts["comment"] == "Tâche non démarrée : en attente de moyens" and ts["progress_pct"] == 0


def test_inferred_dates_read_from_the_source():
    assert inferred_dates("Annexe 5 ; fenêtre déduite de « Calendrier » — à confirmer") == (True, True)
    assert inferred_dates("« dès l'été 2025 » ; sans fin imprimée : fin du plan (2027-12-31)") == (False, True)
    assert inferred_dates("« Janvier 2025 : constitution des groupes de travail »") == (False, False)
    assert inferred_dates(None) == (False, False)
    ts = task_status(one_task("2025-07-01", "2027-12-31", "été 2025 ; sans fin imprimée : fin du plan"),
                     report(("2025-12-31", "in_progress", "2025-07-05", 10, None)), "2025-12-31").iloc[0]
    assert ts["end_inferred"] and not ts["start_inferred"] and ts["dates_inferred"]


def test_every_rule_has_an_id_a_sentence_and_thresholds_in_one_place():
    ids = list(SCHEDULE_RULES) + [r["rule_id"] for r in METEO_RULES] + ["V", "G", "C", "T0", "T1", "T2", "T3", "T4"]
    for rid in ids:
        assert rid in RULE_TEXT, rid
        text = rule_text(rid, {**SCHEDULE_THRESHOLDS, **METEO_THRESHOLDS})
        assert "{" not in text and text[0].isupper()
    assert "90 jours" in rule_text("R1", METEO_THRESHOLDS)
    assert "25 points" in rule_text("S2", SCHEDULE_THRESHOLDS)
    assert "80 %" in rule_text("A3", METEO_THRESHOLDS)


# ------------------------------------------------------------------ météo
def _late(days, inferred=False):
    return pd.DataFrame([dict(task_id="T", task_label="Tâche", planned_start=pd.Timestamp("2025-01-01"),
                              planned_end=pd.Timestamp("2025-03-31"), late_rule="S1", end_delay_days=days,
                              progress_pct=0.0, elapsed_pct=100.0, status="not_started", comment=None,
                              end_inferred=inferred, dates_inferred=inferred)])


def test_overdue_thresholds_are_strict():
    assert task_findings(_late(90))[0]["rule_id"] == "A1"
    assert task_findings(_late(91))[0]["rule_id"] == "R1"
    assert task_findings(_late(30)) == []
    # one finding per task: R1 hides A1 for the same task
    assert [f["rule_id"] for f in task_findings(_late(200))] == ["R1"]


def test_red_on_an_inferred_date_is_amber_to_confirm():
    status, findings, ids, to_confirm = computed_status({}, True, tasks=_late(120, inferred=True))
    assert status == "amber" and to_confirm and ids == "R1" and findings[0]["inferred"]
    status, _, _, to_confirm = computed_status({}, True, tasks=_late(120, inferred=False))
    assert status == "red" and not to_confirm


def test_findings_name_the_task_dates_and_figure():
    (f,) = task_findings(_late(61))
    assert f["task_label"] == "Tâche" and f["days_overdue"] == 61
    assert f["planned_start"] == pd.Timestamp("2025-01-01") and f["planned_end"] == pd.Timestamp("2025-03-31")


# ------------------------------------------------------------------ targets
FUND_SOURCE = ("2027 : Feuille de route, annexe 6 (« 60 départs en formation au minimum ») ; "
               "2025 et 2026 : proposition fne-eval, à valider en COPIL (trajectoire linéaire)")
EVENT_SOURCE = ("2025 : Feuille de route, calendrier prévisionnel axe 3 (« Octobre 2025 : organisation "
                "événement Des Clics et des Livres ») ; 2026-2027 : proposition fne-eval, à valider en COPIL")


def test_target_origin_per_year():
    assert target_origin(FUND_SOURCE, 2027) == "roadmap"
    assert target_origin(FUND_SOURCE, 2025) == "proposal"
    assert target_origin(EVENT_SOURCE, 2025) == "roadmap"
    assert target_origin(EVENT_SOURCE, 2026) == "proposal"
    assert target_origin("proposition fne-eval, à valider en COPIL", 2025) == "proposal"
    assert target_origin("Feuille de route, section 4, action 1.2 : « constituer des réunions semestrielles »",
                         2025) == "roadmap"
    assert target_origin("pas de cible chiffrée dans la feuille de route ; à fixer en COPIL", 2025) == "none"
    assert target_origin(None, 2025) == "none"


def test_target_verdicts():
    cat = pd.DataFrame({"indicator_code": ["FUND", "STALE", "FLAT", "MEET", "MEET_OFF"],
                        "target_source": [FUND_SOURCE, "Feuille de route", "Feuille de route",
                                          "Feuille de route", "Feuille de route"]})
    row = lambda code, period, value, base, target, on: dict(
        indicator_code=code, period=period, value=value, baseline_value=base, target_year=2025,
        target_value=target, on_track=on, baseline_origin="catalogue")
    progress = pd.DataFrame([
        row("FUND", "2025", 30, 0, 20, True),        # proposal for 2025: never counted
        row("STALE", "2023", 67.7, 50, 60, True),    # a 2023 value in the 2025 review: not up to date
        row("FLAT", "2025", 60, 60, 60, True),       # target = baseline: no verdict
        row("MEET", "2025", 2, 0, 2, True),
        row("MEET_OFF", "2025", 1, 0, 2, False),
    ])
    v = target_verdicts(progress, cat, 2025).set_index("indicator_code")
    assert v.loc["FUND", "verdict"] == "proposal" and not v.loc["FUND", "counted"]
    assert v.loc["STALE", "verdict"] == "stale" and not v.loc["STALE", "counted"]
    assert v.loc["FLAT", "verdict"] == "target_equals_baseline" and not v.loc["FLAT", "counted"]
    assert v.loc["MEET", "verdict"] == "on_track" and v.loc["MEET", "counted"]
    assert v.loc["MEET_OFF", "verdict"] == "off_track" and v.loc["MEET_OFF", "counted"]
    # « n sur m sur la trajectoire » counts only the two roadmap verdicts
    assert int(v["counted"].sum()) == 2


# ------------------------------------------------------------------ baselines and as-of
def test_two_misattributed_baselines_are_gone():
    # seed roadmap: « plus de 60 personnes » counts the concertation (section 2), and the
    # October 2024 event is in the axis-3 calendar as planned: neither is a baseline of the roadmap
    from fne_eval.evaluate.indicators import load_catalogue

    cat = load_catalogue().set_index("indicator_code")
    for code in ("NETWORK_PARTICIPANTS", "EVT_N_3_1"):
        assert pd.isna(cat.loc[code, "baseline_value"]), code
        assert cat.loc[code, "baseline_source"].startswith("Pas de valeur de référence dans la feuille de route")


def test_impact_estimate_uses_data_up_to_as_of_only():
    from fne_eval.build.default_bundle import DEFAULT_BUNDLE_DIR
    from fne_eval.bundle import load_bundle
    from fne_eval.evaluate.impact import did_estimate

    b = load_bundle(DEFAULT_BUNDLE_DIR)
    r = did_estimate(b, start_date="2024-12-01", as_of="2025-12-31").iloc[0]
    # post periods: 2024-T4 (holds 1 December 2024) to 2025-T4 = 5 quarters, none of 2026
    assert r["n_post_periods"] == 5
