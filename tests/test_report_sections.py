"""Section builders of the report layer: displayable, French, escaped, disclosure-safe."""
import html as htmllib
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bundles.small import AIX, EPCI, small_tables, write_small_bundle  # noqa: E402

from fne_eval.bundle import load_bundle  # noqa: E402
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR  # noqa: E402
from fne_eval.report import make_context, sections  # noqa: E402
from fne_eval.evaluate.activity import count_by, monthly_counts, territory_activities  # noqa: E402

IMPACT = ["context", "offer", "activity", "results", "impact_estimate", "data_quality", "sources"]
BUDGET = ["budget_summary", "budget_pace", "training_fund"]
REVIEW = ["first_page", "action_pages", "governance", "funding_outlook", "to_confirm", "rules"]
ALLAUCH = "13002"  # a commune added to the small bundle with a population and nothing else


def _tables(**changes):
    t = small_tables()
    t["territories"].append({"territory_code": ALLAUCH, "territory_name": "Allauch", "level": "commune",
                             "departement_code": "13", "epci_siren": EPCI, "in_scope": "true",
                             "source": "test"})
    t["populations"].append({"territory_code": ALLAUCH, "year": "2021", "population": "21490",
                             "source": "test"})
    for name, rows in changes.items():
        t[name] = rows
    return t


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_bundle(write_small_bundle(tmp_path_factory.mktemp("small"), _tables()))


def _all_sections(ctx):
    out = {name: getattr(sections, name)(ctx) for name in IMPACT + BUDGET + REVIEW}
    for by in ("action_code", "axis_code", "recipient", "funder"):
        out[f"budget_par_{by}"] = sections.budget_by(ctx, by)
    return out


def _check_displayable(secs: dict) -> None:
    for name, sec in secs.items():
        h = sec._repr_html_()
        assert h.startswith('<div class="fne-section'), name
        assert len(h) > 40, name
        words = re.sub(r"<[^>]+>", " ", h).split()
        assert "Traceback" not in h and "nan" not in words and "NaN" not in words, name


@pytest.fixture(scope="module")
def small_sections(small):
    """Every section of the three reports for the département, built once."""
    ctx = make_context(small, "13", "all", 2024, 5)
    return ctx, _all_sections(ctx)


def test_every_section_is_displayable_on_the_small_bundle(small_sections):
    _check_displayable(small_sections[1])


@pytest.mark.parametrize("territory", [EPCI, AIX])
def test_impact_sections_for_an_epci_and_a_commune(small, territory):
    ctx = make_context(small, territory, "1", 2024, 5)
    _check_displayable({name: getattr(sections, name)(ctx) for name in ("context", "activity", "results",
                                                                        "data_quality")})


def test_territory_without_data_says_so(small):
    ctx = make_context(small, ALLAUCH, "all", 2024, 5)
    act = sections.activity(ctx)._repr_html_()
    assert "Pas de données" in act and "aucun accompagnement" in act
    ctx_ = sections.context(ctx)._repr_html_()
    assert "Allauch compte 21\u202f490 habitants" in re.sub(r"<[^>]+>", "", ctx_)  # population 2021 of the one unit
    assert "Pas de données" in ctx_  # no exposed commune, no illectronisme figure


def test_unknown_parameters_are_refused(small):
    with pytest.raises(ValueError, match="territoire inconnu"):
        make_context(small, "99999", "all", 2024, 5)
    with pytest.raises(ValueError, match="axe inconnu"):
        make_context(small, "13", "7", 2024, 5)
    with pytest.raises(ValueError, match="rapport inconnu"):
        make_context(small, "13", "all", 2024, 5, report="bilan")
    with pytest.raises(ValueError, match="seuil"):
        make_context(small, "13", "all", 2024, 0)
    with pytest.raises(ValueError):
        sections.budget_by(make_context(small, "13", "all", 2024, 5), "referent")


def test_text_from_the_data_is_escaped(tmp_path):
    evil = "<script>alert('x')</script>"
    t = _tables()
    t["actions"][0]["action_title"] = evil
    t["axes"][0]["axis_title"] = evil
    t["budget_lines"][0]["recipient"] = "<b>Hub</b>"
    b = load_bundle(write_small_bundle(tmp_path, t))
    ctx = make_context(b, "13", "all", 2024, 5, report="revue_annuelle")
    assert "<script>" not in ctx.header()._repr_html_()
    secs = {name: getattr(sections, name)(ctx) for name in ("first_page", "action_pages", "budget_pace", "results")}
    for name, sec in secs.items():
        h = sec._repr_html_()
        assert "<script>" not in h and "<b>Hub</b>" not in h, name
    h = sections.budget_by(ctx, "action_code")._repr_html_()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in h
    assert "&lt;b&gt;Hub&lt;/b&gt;" in sections.budget_by(ctx, "recipient")._repr_html_()


def _num_cells(h: str) -> list:
    """Return the texts of the right-aligned (numeric) cells of the tables in ``h``."""
    return [re.sub(r"\s", " ", c) for c in re.findall(r'<td class="num"[^>]*>([^<]*)</td>', h)]


def _small_counts(cells: list, threshold: int) -> list:
    out = []
    for c in cells:
        if "%" in c or "€" in c or "<" in c or "&lt;" in c:
            continue
        digits = c.replace("\u202f", "").replace(" ", "")
        if re.fullmatch(r"\d+", digits) and 0 < int(digits) < threshold:
            out.append(c)
    return out


def test_no_count_below_threshold_is_published(tmp_path):
    # the small bundle's 2024 activities: 1 + 8 + 1 participants, in 3 accompaniments;
    # each age band, gender and status has 1, 8 or 1 person: the 1s must be hidden (and
    # nothing else below 5 is shown), the sentence must not print "3 accompagnements"
    b = load_bundle(write_small_bundle(tmp_path, _tables()))
    ctx = make_context(b, "13", "all", 2024, 5)
    h = sections.activity(ctx)._repr_html_()
    assert "&lt; 5" in h
    assert _small_counts(_num_cells(h), 5) == []
    text = re.sub(r"<[^>]+>", "", h)
    assert "&lt; 5 accompagnements" in text  # 3 accompaniments
    assert " 3 accompagnements" not in text
    tf = sections.training_fund(ctx)._repr_html_()  # 3 departures funded by the fund
    assert _small_counts(_num_cells(tf), 5) == [] and "moins de 5 départs" in tf
    # 60 - 3 = 57 remaining, or 3 / 60 = 5,0 %, would reveal the hidden 3
    assert "57" not in tf and "5,0\xa0%" not in tf
    review = sections.action_pages(ctx)._repr_html_()
    assert _small_counts(_num_cells(review), 5) == []


def test_higher_threshold_hides_more(tmp_path):
    b = load_bundle(write_small_bundle(tmp_path, _tables()))
    ctx = make_context(b, "13", "all", 2024, 10)
    h = sections.activity(ctx)._repr_html_()
    assert "&lt; 10" in h and _small_counts(_num_cells(h), 10) == []


def test_synthetic_detail_in_header_without_a_second_banner(small):
    ctx = make_context(small, "13", "all", 2024, 5)
    assert small.is_synthetic
    h = ctx.header()._repr_html_()
    # the report template draws the one banner; the header only says which tables are synthetic
    assert "fne-synthetic-detail" in h and "synthétiques" in h
    assert "fne-banner" not in h


def test_breakdowns_by_hand(small):
    acts = small["activities"]
    # A1 Aix (1 person, 2024-02-01), A2 Marseille (8, 2024-02-03), A3 no commune (1, 2024-03-10)
    aix = territory_activities(acts, [AIX])
    assert aix["activity_id"].tolist() == ["A1"]
    dep = territory_activities(acts, [AIX, "13055"], "2024-01-01", "2024-12-31", include_unlocated=True)
    assert len(dep) == 3
    g = count_by(dep, "gender", ["masculin", "feminin", "non_communique"])
    assert g["participants"].tolist() == [1, 1, 8]  # A3 man 1, A1 woman 1, A2 unknown 8
    assert g["activities"].tolist() == [1, 1, 1]
    th = count_by(dep, "themes").set_index("theme")
    assert th.loc["email", "activities"] == 2  # A1 and A2 both list email
    assert th.loc["email", "participants"] == 9  # 1 + 8
    m = monthly_counts(dep)
    assert m["participants"].tolist() == [9, 1]  # February 1 + 8, March 1
    assert m["month"].dt.month.tolist() == [2, 3]


@pytest.mark.skipif(not (DEFAULT_BUNDLE_DIR / "territories.csv").exists(),
                    reason="the embedded default bundle is not built yet")
def test_sections_on_the_default_bundle(default_bundle):
    ctx = make_context(default_bundle, "13", "all", 2025, 5)
    secs = _all_sections(ctx)
    _check_displayable(secs)
    assert "fne-synthetic-detail" in ctx.header()._repr_html_()
    # no section fell back to "not available": every evaluation module is there
    missing = [n for n, s in secs.items() if "Section non disponible" in s._repr_html_()]
    assert missing == []
    # seed figures shown as printed: the 71 433 € planned budget of the 10 actions (annexe 6)
    assert "71\u202f433\xa0€" in secs["budget_summary"]._repr_html_()
    # no count of people below the threshold in the activity tables
    assert _small_counts(_num_cells(secs["activity"]._repr_html_()), 5) == []


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_BUNDLE_DIR / "territories.csv").exists(),
                    reason="the embedded default bundle is not built yet")
def test_sections_for_an_epci_on_the_default_bundle(default_bundle):
    ctx = make_context(default_bundle, "241300417", "2", 2025, 5)
    _check_displayable(_all_sections(ctx))


def test_months_are_protected_within_their_year():
    from fne_eval.report.sections import suppress_counts

    # 2024: 10 + 2 + 10 (the 2 is below 5: hidden, and one complement in 2024 since the
    # yearly total 22 is published); 2025: 7 + 8, nothing to hide
    df = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
                                                "2025-01-01", "2025-02-01"]),
                       "participants": [10, 2, 10, 7, 8]})
    out = suppress_counts(df.assign(year=df["month"].dt.year), ["participants"], 5, "month", by="year")
    hidden = out["participants_is_suppressed"].tolist()
    assert bool(hidden[1])  # the 2
    assert sum(hidden[:3]) == 2  # the 2 and one complement within 2024
    assert hidden[3:] == [False, False]
    assert out["participants"].isna().tolist() == hidden


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PARAMETERS = {"territory": "13", "axis": "all", "year": 2025, "bundle": "", "threshold": 5}


@pytest.mark.parametrize("name", ["impact", "budget", "revue_annuelle"])
def test_notebooks_are_thin_and_stripped(name):
    import ast

    import nbformat
    import papermill

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # committed without outputs or execution counts
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    # a tagged parameters cell of literals, with the agreed defaults, seen by papermill
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and code[0] is params[0]
    declared = papermill.inspect_notebook(str(path))
    assert set(declared) == set(PARAMETERS)
    tree = ast.parse(params[0].source)
    values = {node.target.id: ast.literal_eval(node.value) for node in tree.body}
    assert values == PARAMETERS
    # thin: one setup cell, then one call per section; no logic in the notebook
    for c in code[1:]:
        src = c.source
        for banned in ("def ", "try:", "except", "merge(", "groupby(", "open(", ".csv", ".xlsx", "/"):
            assert banned not in src, (name, banned, src)
        assert len([ln for ln in src.splitlines() if ln.strip()]) <= 3
    assert "open_report(bundle, territory, axis, year, threshold" in code[1].source
    # every section call names a function of fne_eval.report.sections
    modules = {"sections": sections}
    for c in code[2:]:
        call = ast.parse(c.source).body[0].value
        assert isinstance(call, ast.Call) and call.func.value.id in modules
        assert hasattr(modules[call.func.value.id], call.func.attr), call.func.attr


def test_commune_map_and_chart_alt_texts():
    from fne_eval.report.charts import bar_chart
    from fne_eval.report.maps import choropleth, commune_shapes

    shapes = commune_shapes()
    assert len(shapes) == 119  # the communes of the 13 (Marseille is one polygon, 13055)
    assert shapes["13055"][0] == "Marseille" and shapes["13004"][0] == "Arles"
    m = choropleth({"13004": 6.6, "13001": 4.7, "13055": 5.0}, "IFN", "IFN (0-10)",
                   highlight=["13004", "13001", "13055"], marked=["13004"], marked_label="exposée")
    # seed: Aix 4.7, Arles 6.6 -> lowest Aix-en-Provence, highest Arles
    assert "de 4,7 (Aix-en-Provence) à 6,6 (Arles)" in m.alt
    assert 'alt="IFN. Carte des communes (3 communes du territoire' in m._repr_html_()
    assert m.png[:8] == b"\x89PNG\r\n\x1a\n"
    b = bar_chart(pd.DataFrame({"l": ["<b>a</b>", "b"], "v": [3, 1200]}), "l", "v", "Titre", "Valeur")
    h = b._repr_html_()
    assert "<b>a</b>" not in h and "la plus haute b (1\u202f200)" in b.alt
    with pytest.raises(ValueError):
        bar_chart(pd.DataFrame({"l": ["a"], "v": [1]}), "l", "v", "T", "V", kind="roman")


def test_log_lines_and_warnings_are_kept_out_of_the_report_text():
    import logging
    import warnings

    from fne_eval.report.context import capture_logs

    class _Ctx:
        log: list = []

    ctx = _Ctx()
    root = logging.getLogger("fne_eval")
    before = (list(root.handlers), root.propagate, root.level)
    try:
        capture_logs(ctx)
        logging.getLogger("fne_eval.core.territory").warning("aggregate: 4 of 138 rows dropped")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("pattern has match groups", UserWarning)
    finally:
        logging.captureWarnings(False)
        for name in ("fne_eval", "py.warnings"):
            lg = logging.getLogger(name)
            for h in list(lg.handlers):
                if h not in before[0]:
                    lg.removeHandler(h)
            lg.propagate = True
        root.setLevel(before[2])
    assert ctx.log == ["aggregate: 4 of 138 rows dropped", "UserWarning: pattern has match groups"]


# --------------------------------------------------------------------------- reading as a COPIL member
#: Codes of closed vocabularies that a reader must never see as such (labels.py translates them).
RAW_CODES = ["in_progress", "not_started", "aidants_connect", "mediation_numerique", "green", "amber",
             "grey", "warning", "error", "activities", "schedule_tasks", "exposed_communes", "True", "False"]


def _visible_words(h: str) -> set:
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", h, flags=re.S)
    text = re.sub(r'<img[^>]*>', " ", text)  # alt texts are French sentences checked elsewhere
    text = re.sub(r"<[^>]+>", " ", text)
    return set(re.findall(r"[A-Za-z_]+", text))


def test_no_raw_codes_in_rendered_sections(small_sections):
    for name, sec in small_sections[1].items():
        found = _visible_words(sec._repr_html_()) & set(RAW_CODES)
        assert not found, (name, found)


def test_group_sources_dedupes_and_groups_the_uncited():
    got = sections.group_sources([
        "Données INSEE 2021", "données INSEE 2021 ", "Non citée", "Non citée (label de la Région Sud)",
        "Source non citée dans la feuille de route (état des lieux du Hub du Sud, 2024)",
        "Non citée (label de la Région Sud)", "État des lieux du Hub du Sud", "ANCT 2024"])
    # 8 items: 2 spellings of one source, 4 "non citée" with 2 distinct details, 2 other sources
    assert got == ["ANCT 2024", "Données INSEE 2021", "État des lieux du Hub du Sud",
                   "Source non citée par la feuille de route (état des lieux du Hub du Sud, 2024 ; "
                   "label de la Région Sud)"]


def test_quality_summary_counts_per_rule_with_territory_examples():
    qf = pd.DataFrame({
        "rule": ["stale_lieux", "stale_lieux", "stale_lieux", "duplicates", "ifn_mismatch"],
        "severity": ["warning", "warning", "error", "warning", "info"],
        "table": ["lieux", "lieux", "lieux", "activities", "exposed_communes"],
        "key": ["id=1", "id=2", "id=3", "activity_id=A1", "row_number=1"],
        "message": ["Lieu 1 ancien", "Lieu 2 ancien", "Lieu 3 factice", "Doublon A1", "IFN différent"],
        "territory_code": ["13004", "13100", "13100", None, "13100"],
    })
    mine = qf["territory_code"].isin(["13100"])
    s = sections.quality_summary(qf, mine)
    # errors first, then warnings by decreasing count (stale 2 > duplicates 1), then info
    assert list(zip(s["rule"], s["severity"], s["n_findings"], s["n_territory"])) == [
        ("stale_lieux", "error", 1, 1), ("stale_lieux", "warning", 2, 1), ("duplicates", "warning", 1, 0),
        ("ifn_mismatch", "info", 1, 1)]
    # the example is the territory's own finding first (Lieu 2, not Lieu 1)
    assert s.loc[1, "example"] == "Lieu 2 ancien"


def test_quality_section_lists_only_the_territory_capped(small):
    ctx = make_context(small, "13", "all", 2024, 5)
    rules = [f"rule_{i // 3}" for i in range(25)]  # 9 rules: 8 with 3 findings, 1 with 1
    qf = pd.DataFrame({"rule": rules, "severity": ["warning"] * 25, "table": ["lieux"] * 25,
                       "key": [f"id={i}" for i in range(25)], "message": [f"Lieu {i}" for i in range(25)],
                       "territory_code": [AIX] * 24 + ["99999"]})
    ctx.extra["quality"] = qf
    h = sections.data_quality(ctx)._repr_html_()
    # 24 findings in the département (AIX), 1 outside (the last one, rule_8): 20 listed, "… et 4 autres"
    assert "… et 4 autres constats" in h
    # 20 detail rows + the example of each of the 9 rules in the summary table
    assert h.count("Lieu ") == 20 + 9
    assert "fne-eval quality" in h
    # one abundant rule gives at most FINDINGS_PER_RULE_SHOWN rows
    qf2 = qf.assign(rule="stale_lieux")
    ctx.extra["quality"] = qf2
    h = sections.data_quality(ctx)._repr_html_()
    assert h.count("Lieu ") == sections.FINDINGS_PER_RULE_SHOWN + 1 and "… et 21 autres constats" in h


def test_yearly_trend_prints_the_store_figures(default_bundle):
    """CC Vallée des Baux-Alpilles: the yearly table shows each year's participations, counted here by hand."""
    ctx = make_context(default_bundle, "241300375", "all", 2025, 5)
    table = sections.impact._yearly_trend(ctx)[0]
    acts = default_bundle["activities"]
    parts = default_bundle["participants"] if "participants" in default_bundle.tables else None
    terr = default_bundle["territories"]
    members = set(terr.loc[terr["epci_siren"].astype(str) == "241300375", "territory_code"].astype(str))
    year = pd.to_datetime(acts["date"]).dt.year
    mine = acts[acts["beneficiary_commune_code"].astype(str).isin(members).to_numpy()]
    for y in (2024, 2025):
        sel = mine[(year[mine.index] == y).to_numpy()]
        expected = int(pd.to_numeric(sel["participants"]).sum())
        cell = re.search(r'data-indicator="participations" data-territory="241300375" data-period="%d" '
                         r'data-breakdown=""[^>]*>([^<]*)</td>' % y, table.html)
        assert cell is not None
        shown = cell.group(1).replace("\u202f", "").replace(" ", "")
        assert shown == str(expected) or shown in ("(s)", "&lt;5")
    assert "même périmètre" not in table.html  # the same-perimeter columns are gone




@pytest.mark.skipif(not (DEFAULT_BUNDLE_DIR / "territories.csv").exists(),
                    reason="the embedded default bundle is not built yet")
def test_impossible_share_of_annex_3_is_named_where_it_is_printed(default_bundle):
    # the roadmap's annex 3 prints Saint-Antonin-sur-Bayon with 125 inhabitants and 513 fragile
    # people (« 410% », seed line 823): a share above 100 % is named next to the table
    text = _text(sections.context(make_context(default_bundle, "200054807", "all", 2025, 5))._repr_html_())
    assert "part impossible dans l'annexe 3 : Saint-Antonin-sur-Bayon : 513 personnes fragiles pour 125 habitants" in text
    # a territory without such a row gets no note (Arles' EPCI: its annex-3 rows are all ≤ 100 %)
    other = _text(sections.context(make_context(default_bundle, "241300417", "all", 2025, 5))._repr_html_())
    assert "part impossible" not in other


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).replace("\u202f", " ").replace("\xa0", " ")
