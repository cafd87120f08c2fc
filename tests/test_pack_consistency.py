"""One figure, one printed value across the COPIL 2025 pack (issue 9, acceptance).

Over the published HTML of a real run of the pack (``params/copil-2025.yaml``), every cell or
figure carrying a store key (``data-indicator``, ``data-territory``, ``data-period``,
``data-breakdown``):

- prints the same text in every report that shows it;
- is hidden (« < 5 », « (s) ») in every report or in none;
- equals the store (:func:`fne_eval.store.load` for 2025, the independent analyst's entry
  point), read back from its French printing (« 41 052 », « 12 345,60 € », « 27,1 % »)
  to the precision printed.
"""
import html as htmllib
import re
from collections import defaultdict

import pytest

pytestmark = pytest.mark.slow

KEYS = ("indicator", "territory", "period", "breakdown")
TAGGED = re.compile(r'<(td|span)\b([^>]*\bdata-indicator="[^"]*"[^>]*)>(.*?)</\1>', re.S)
ATTR = re.compile(r'data-(indicator|territory|period|breakdown)="([^"]*)"')
#: A number printed the French way: thin spaces between thousands, a decimal comma, a unit.
FRENCH_NUMBER = re.compile(r"^[+-]?\d{1,3}(?:[\u202f\u00a0 ]\d{3})*(?:,(\d+))?(?:[\u202f\u00a0 ]?(?:€|%))?$")
HIDDEN = {"< 5": "primary", "(s)": "secondary"}


def tagged_figures(page: str) -> list:
    """Return ``(key, printed text)`` of every element of ``page`` that carries a store key."""
    out = []
    for _, attrs, body in TAGGED.findall(page):
        a = dict(ATTR.findall(attrs))
        key = tuple(htmllib.unescape(a.get(k, "")) for k in KEYS)
        text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", body)).split())
        out.append((key, text))
    return out


def read_french(text: str):
    """Return ``(value, decimals)`` of a number printed the French way, or None."""
    t = text.replace("\u202f", " ").replace("\u00a0", " ").strip()
    m = FRENCH_NUMBER.match(t)
    if not m:
        return None
    num = re.sub(r"[ €%]", "", t).replace(",", ".")
    return float(num), len(m.group(1) or "")


def test_reading_helpers_can_fail():
    page = ('<td class="num" data-indicator="participations" data-territory="13" data-period="2025" '
            'data-breakdown="" style="x">41\u202f052</td><span data-indicator="ifn" data-territory="13" '
            'data-period="2025" data-breakdown="">5,18</span>')
    assert tagged_figures(page) == [(("participations", "13", "2025", ""), "41 052"),
                                    (("ifn", "13", "2025", ""), "5,18")]
    assert read_french("12\u202f345,60\u00a0€") == (12345.60, 2)
    assert read_french("27,1\u00a0%") == (27.1, 1)
    assert read_french("41052.5") is None  # a decimal point is not French
    assert read_french("1,234.5") is None


@pytest.fixture(scope="module")
def published(copil_pack):
    """``{key: {report id: set of printed texts}}`` over the pack's published HTML."""
    import json

    manifest = json.loads((copil_pack / "manifest.json").read_text(encoding="utf-8"))
    seen = defaultdict(lambda: defaultdict(set))
    for e in manifest["entries"]:
        if e["status"] != "ok":
            continue
        page = (copil_pack / e["outputs"]["html"]).read_text(encoding="utf-8")
        for key, text in tagged_figures(page):
            seen[key][e["id"]].add(text)
    return seen


@pytest.fixture(scope="module")
def store_cells():
    from fne_eval import store

    s = store.load(year=2025)
    return {(r.indicator, r.territory_code, r.period, r.breakdown): (r.value, r.status)
            for r in s[["indicator", "territory_code", "period", "breakdown", "value", "status"]]
            .itertuples(index=False)}


def test_the_pack_tags_its_figures(published):
    reports = {r for by in published.values() for r in by}
    # the dossier, the budget follow-up and every territory report publish store figures
    assert "revue-annuelle" in reports and "budget" in reports
    assert sum(r.startswith("impact-") for r in reports) >= 5
    assert any(k[0] == "budget_paid_eur" for k in published), "the budget tables are not tagged"
    # some figures are shown in several reports: the check below has something to compare
    assert sum(len(by) > 1 for by in published.values()) >= 5


def test_one_printed_value_per_figure_across_the_pack(published):
    bad = {k: {r: sorted(t) for r, t in by.items()}
           for k, by in published.items() if len(set().union(*by.values())) > 1}
    assert not bad, list(bad.items())[:10]


def test_no_figure_shown_in_one_report_and_hidden_in_another(published):
    bad = {}
    for k, by in published.items():
        hidden = {r for r, texts in by.items() if texts & set(HIDDEN)}
        shown = {r for r, texts in by.items() if texts - set(HIDDEN)}
        if hidden and shown:
            bad[k] = (sorted(hidden), sorted(shown))
    assert not bad, list(bad.items())[:10]


def test_every_tagged_figure_equals_the_store(published, store_cells):
    bad = []
    for k, by in published.items():
        texts = set().union(*by.values())
        if k not in store_cells:
            bad.append((k, "absent du magasin"))
            continue
        value, status = store_cells[k]
        for text in texts:
            if text in HIDDEN:
                if HIDDEN[text] != status:
                    bad.append((k, text, status))
                continue
            if status in ("primary", "secondary"):
                bad.append((k, text, status))
                continue
            got = read_french(text)
            if got is None:
                bad.append((k, text, "pas un nombre écrit à la française"))
                continue
            printed, decimals = got
            if abs(printed - value) > 0.5 * 10 ** -decimals + 1e-9:
                bad.append((k, text, value))
    assert not bad, bad[:20]
