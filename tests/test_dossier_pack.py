"""Checks over a real run of the COPIL 2025 pack (issue 11): length, PDF fit, words for readers.

The pack is run once per session with ``fne-eval run params/copil-2025.yaml`` (HTML and PDF,
about two minutes on two cores) by the ``copil_pack`` fixture of ``conftest.py``, shared with
``test_pack_consistency.py``. To check an existing run instead, set ``FNE_EVAL_PACK_RUN`` to
its folder (the one holding ``manifest.json``).

- the pack is at most 150 PDF pages;
- no word of any PDF lies outside its page (a table wider than the page, a clipped cell);
- no page is less than a quarter full, except before a forced section break;
- the chronogramme holds on one page;
- the published text (HTML and PDF of every report but the analyst's annex) holds no
  snake_case token, no hexadecimal identifier, no « fne-eval », no « graine »;
- the dossier's first page holds the key figures against last year and at least three
  decisions, each with an action number, on one A4 page;
- ``index.html`` opens on the dossier, then the budget follow-up, then the territories.
"""
import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MAX_PAGES = 150
#: Words may not come closer than this to the page edge (points; the page margin is 15 mm = 42,5 pt).
EDGE_PT = 14.0

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", re.IGNORECASE)
HEXID = re.compile(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b")
WORDS = re.compile(r"fne-eval|\bgraine\b", re.IGNORECASE)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) missing")]


@pytest.fixture(scope="module")
def pack(copil_pack):
    """The shared run of the COPIL pack (``copil_pack`` in conftest.py; ``FNE_EVAL_PACK_RUN`` reuses a run)."""
    return copil_pack


def _manifest(pack):
    return json.loads((pack / "manifest.json").read_text(encoding="utf-8"))


def _pdfs(pack):
    return sorted((pack / "pdf").glob("*.pdf"))


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def _pdf_text(pdf: Path, first=None, last=None) -> str:
    cmd = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(pdf), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def _html_text(path: Path) -> str:
    s = path.read_text(encoding="utf-8")
    s = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", s)
    # alt texts of charts are read aloud: they are published text too
    alts = " ".join(re.findall(r'alt="([^"]*)"', s))
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", s) + " " + alts)


def _offending(text: str) -> list:
    found = set(SNAKE.findall(text)) | set(HEXID.findall(text)) | {w.lower() for w in WORDS.findall(text)}
    return sorted(found)


def test_pack_is_at_most_150_pages(pack):
    pages = {p.name: _pages(p) for p in _pdfs(pack)}
    assert pages, "no PDF in the pack"
    assert sum(pages.values()) <= MAX_PAGES, pages


def test_no_word_outside_its_page(pack):
    bad = []
    for pdf in _pdfs(pack):
        xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                             check=True).stdout
        for n, (w, body) in enumerate(re.findall(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', xml, re.S), 1):
            width = float(w)
            for x0, x1, word in re.findall(r'<word xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>([^<]*)</word>', body):
                if float(x1) > width - EDGE_PT or float(x0) < EDGE_PT:
                    bad.append((pdf.name, n, htmllib.unescape(word)))
    assert not bad, bad[:20]


PUBLISHED_EXEMPT = {"annexe"}  # the analyst's annex holds the lineage on purpose


def _published(pack):
    for e in _manifest(pack)["entries"]:
        if e["notebook"] in PUBLISHED_EXEMPT or e["status"] != "ok":
            continue
        yield e


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_published_text_has_no_code_words(pack, kind):
    found = {}
    for e in _published(pack):
        path = pack / e["outputs"][kind]
        text = _html_text(path) if kind == "html" else _pdf_text(path)
        words = _offending(text)
        if words:
            found[(e["id"], e["notebook"])] = words[:10]
    assert not found, found
    # the scan can fail: an indicator code in brackets is caught
    assert _offending("Participations (personnes × séances) (ACC_N), proposées par fne-eval") == \
        ["ACC_N", "fne-eval"]


def test_every_report_points_to_the_annex(pack):
    """Quality detail and lineage are in the annex only: each other report has one line pointing to it."""
    for e in _published(pack):
        text = _html_text(pack / e["outputs"]["html"])
        assert "Annexe pour l'analyste" in text or "annexe pour l'analyste" in text, e["id"]
        for lineage in ("Constats par règle", "Journal de calcul", "empreinte"):
            assert lineage not in text, (e["id"], lineage)


def test_dossier_first_page_fits_one_a4(pack):
    pdf = pack / "pdf" / "revue-annuelle.pdf"
    n = _pages(pdf)
    page = next(i for i in range(1, n + 1) if "Chiffres clés 2025 et 2024" in _pdf_text(pdf, i, i))
    text = _pdf_text(pdf, page, page)
    assert "Chiffres clés 2025 et 2024" in text and "décisions proposées au COPIL" in text
    # every decision row starts with its number then the action number: « 1   3.1 Mobiliser… »
    rows = re.findall(r"^\s*([1-5])\s+(\d\.\d)\s", text, re.M)
    assert len(rows) >= 3, text
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    # each cause cites a figure (days, a share or an amount) and a date
    assert len(re.findall(r"\d+ (?:jours|%)", text)) >= 3
    # the legend closing the page is on the same page: nothing spilled over
    assert "date, cible ou valeur de référence déduite" in text


def test_index_opens_on_the_dossier_then_budget_then_territories(pack):
    index = (pack / "index.html").read_text(encoding="utf-8")
    pos = [index.find(s) for s in ("1. Dossier du COPIL", "2. Suivi budgétaire", "3. Territoires")]
    assert -1 not in pos and pos == sorted(pos)
    assert index.find("revue-annuelle.html") < index.find("budget.html") < index.find("impact-13-axe-all.html")
    assert 'class="run-status"' in index


# --------------------------------------------------------------------------- pages a quarter full
#: Page margins of the PDF (mm, the report CSS's @page margin: top, sides, bottom); the content box lies inside.
MARGIN_MM = 15.0
TOP_MM, BOTTOM_MM = 18.0, 20.0
FILL_DPI = 24
#: A grey level under this is ink (0 black, 255 white).
INK = 200
MIN_FILL = 0.25


def _pgm_pages(pdf: Path, folder: Path) -> list:
    """Render every page of ``pdf`` grey at :data:`FILL_DPI` and return the (width, height, pixels) of each."""
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(FILL_DPI), "-gray", str(pdf), str(prefix)], check=True)
    pages = []
    for f in sorted(folder.glob(pdf.stem + "-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        data = f.read_bytes()
        # binary PGM: P5 <w> <h> <max> then one byte per pixel
        m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        w, h = int(m.group(1)), int(m.group(2))
        pages.append((w, h, data[m.end():m.end() + w * h]))
    return pages


def page_fill(w: int, h: int, pixels: bytes) -> float:
    """Return how far down the content box the lowest ink goes (0 empty, 1 full)."""
    margin = int(round(MARGIN_MM / 25.4 * FILL_DPI))
    top, bottom = int(round(TOP_MM / 25.4 * FILL_DPI)), h - int(round(BOTTOM_MM / 25.4 * FILL_DPI))
    lowest = None
    for y in range(bottom - 1, top - 1, -1):
        row = pixels[y * w + margin: y * w + w - margin]
        if min(row) < INK:
            lowest = y
            break
    return 0.0 if lowest is None else (lowest - top + 1) / (bottom - top)


def _forced_headings(html_path: Path) -> list:
    """Return the first words of the headings that start a page on purpose (forced section breaks)."""
    s = html_path.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r'(?:celltag_fne-new-page|break-before:\s*page)', s):
        h = re.search(r"<h[1-4][^>]*>(.*?)</h[1-4]>", s[m.end():m.end() + 4000], re.S)
        if h:
            text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", h.group(1))).split())
            out.append(text.replace("¶", "").strip()[:30])
    return [t for t in out if t]


def _starts_with_forced_break(pdf: Path, page: int, headings: list) -> bool:
    lines = [" ".join(ln.split()) for ln in _pdf_text(pdf, page, page).splitlines() if ln.strip()]
    head = " ".join(lines[:3])
    return any(h and h in head for h in headings)


def short_pages(pdf: Path, html_path: Path, folder: Path) -> list:
    """Return the pages (1-based) less than a quarter full, but for those before a forced section break.

    The last page is not exempt: a report that ends with a page holding two lines of its
    footer is a page too many.
    """
    pages = _pgm_pages(pdf, folder)
    headings = _forced_headings(html_path)
    bad = []
    for n, (w, h, px) in enumerate(pages, 1):
        fill = page_fill(w, h, px)
        if fill < MIN_FILL and (n == len(pages) or not _starts_with_forced_break(pdf, n + 1, headings)):
            bad.append((n, round(fill, 2)))
    return bad


def test_page_fill_measure_can_fail():
    """The measure sees an empty page, a page inked near its top and one inked to its foot."""
    w, h = 100, 200
    blank = bytes([255]) * (w * h)
    assert page_fill(w, h, blank) == 0.0
    top, bottom = int(round(TOP_MM / 25.4 * FILL_DPI)), int(round(BOTTOM_MM / 25.4 * FILL_DPI))
    top_ink = bytearray(blank)
    top_ink[(top + 5) * w + 50] = 0
    assert page_fill(w, h, bytes(top_ink)) < MIN_FILL
    foot = bytearray(blank)
    foot[(h - bottom - 1) * w + 50] = 0
    assert page_fill(w, h, bytes(foot)) == 1.0


def test_no_page_less_than_a_quarter_full(pack, tmp_path):
    bad = {}
    for e in _manifest(pack)["entries"]:
        if e["status"] != "ok":
            continue
        pdf, page_html = pack / e["outputs"]["pdf"], pack / e["outputs"]["html"]
        folder = tmp_path / e["id"]
        folder.mkdir()
        short = short_pages(pdf, page_html, folder)
        if short:
            bad[pdf.name] = short
    assert not bad, bad


def test_chronogramme_is_one_page(pack):
    """The Gantt fits one page: its heading and the next section start on consecutive pages."""
    pdf = pack / "pdf" / "revue-annuelle.pdf"
    firsts = [(_pdf_text(pdf, i, i).strip().splitlines() or [""])[0].strip() for i in range(1, _pages(pdf) + 1)]
    start = firsts.index("Chronogramme") + 1
    assert firsts[start] == "Les actions une par une", firsts
    text = _pdf_text(pdf, start, start)
    assert "Fin prévue dépassée" in text or "(rouge)" in text
