"""Word, tagged PDF and the warm PDF engines, on the reports of a real run.

One module fixture runs a small plan for real (``fne-eval run --to html,pdf,docx``, a
kernel per entry, ~20 s on 2 cores): its notebook shows a table through
``fne_eval.report.tables.html_table`` with a cell hidden by disclosure control (« < 5 »)
and a chart drawn by ``fne_eval.report.charts.bar_chart`` (with its alt text), under
headings of levels 1 to 4. Expected values are read from the run's HTML (what the reader
sees), never from the Word or PDF writers.
"""
import json
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from fne_eval.cli import main

from test_plan import make_bundle, write_plan

NOTEBOOK_CELLS = [
    ("markdown", "# Rapport d'essai Word\n\nIntroduction du rapport."),
    ("code", "import pandas as pd\n"
             "from fne_eval.report.tables import html_table\n"
             "from fne_eval.report.charts import bar_chart\n"
             "df = pd.DataFrame({'public': ['Seniors', 'Jeunes', 'Actifs'], 'people': [120, 3, 47]})"),
    ("markdown", "## Publics accompagnés\n\nTexte avec **du gras** et *de l'italique*."),
    ("code", "html_table(df, caption='Personnes accompagnées par public', count_columns=['people'],\n"
             "           suppressed={'people': [False, True, False]}, labels={'public': 'Public', 'people': 'Personnes'})"),
    ("markdown", "### Graphique des publics\n\n#### Détail du graphique : chiffres officiels"),
    ("code", "bar_chart(df.assign(people=[120, 0, 47]), 'public', 'people', 'Personnes par public', 'personnes')"),
]


def _write_notebook(nb_dir: Path, name: str) -> None:
    base = nbformat.read(str(nb_dir / "demo.ipynb"), as_version=4)
    nb = nbformat.v4.new_notebook(metadata=base.metadata)
    nb.cells = [base.cells[0]] + [nbformat.v4.new_markdown_cell(src) if kind == "markdown"
                                  else nbformat.v4.new_code_cell(src) for kind, src in NOTEBOOK_CELLS]
    nbformat.write(nb, str(nb_dir / f"{name}.ipynb"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import io
    from contextlib import redirect_stderr, redirect_stdout

    root = tmp_path_factory.mktemp("docx")
    bundle = make_bundle(root / "bundle", synthetic=True)
    plan = write_plan(root / "plan", {"name": "word", "title": "Essai Word", "reports": [{"notebook": "word"}]},
                      notebooks=("demo",))
    _write_notebook(root / "plan" / "nb", "word")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["run", str(plan), "--bundle", bundle.source, "--out", str(root / "out"),
                     "--to", "html,pdf,docx", "--no-progress"])
    assert code == 0, out.getvalue() + err.getvalue()
    run_dir = Path(re.search(r"Ouvrir : (.*)/index.html", out.getvalue()).group(1))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    entry = manifest["entries"][0]
    html = (run_dir / entry["outputs"]["html"]).read_text(encoding="utf-8")
    return dict(dir=run_dir, manifest=manifest, entry=entry, html=html, soup=BeautifulSoup(html, "html.parser"))


# --------------------------------------------------------------------------- Word

def test_manifest_and_index_list_the_docx(run):
    assert run["entry"]["outputs"]["docx"] == "docx/word.docx"
    assert (run["dir"] / "docx" / "word.docx").is_file()
    index = (run["dir"] / "index.html").read_text(encoding="utf-8")
    assert '<a href="docx/word.docx">Word</a>' in index


def test_docx_headings_are_word_heading_styles(run):
    import docx

    doc = docx.Document(str(run["dir"] / run["entry"]["outputs"]["docx"]))
    main = run["soup"].find("main")
    for a in main.select("a.anchor-link"):  # the « ¶ » links, hidden by the CSS (display: none)
        a.decompose()
    expected = [(int(h.name[1]), re.sub(r"\s+", " ", h.get_text()).strip()) for h in main.find_all(["h1", "h2", "h3", "h4"])]
    assert [lvl for lvl, _ in expected] == [1, 2, 3, 4]  # the notebook has one heading of each level
    got = [(int(p.style.name.split()[-1]), p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert got == expected


def test_docx_table_keeps_caption_and_suppression_mark(run):
    import docx

    html_table = run["soup"].find("table", class_="fne-table")
    html_cells = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in html_table.find_all("tr")]
    assert ["Jeunes", "< 5"] in html_cells  # the HTML shows the hidden count as « < 5 »
    doc = docx.Document(str(run["dir"] / run["entry"]["outputs"]["docx"]))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    assert html_cells in tables
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert "Personnes accompagnées par public" in captions
    assert "Personnes accompagnées par public" == html_table.find("caption").get_text(strip=True)


def test_docx_chart_is_a_picture_with_the_html_alt_text(run):
    import docx
    from docx.oxml.ns import qn

    alts = [img["alt"] for img in run["soup"].select("figure.fne-chart img")]
    assert len(alts) == 1 and alts[0].startswith("Personnes par public. Diagramme en barres")
    doc = docx.Document(str(run["dir"] / run["entry"]["outputs"]["docx"]))
    descr = [el.get("descr") for el in doc.element.body.iter(qn("wp:docPr"))]
    assert descr == alts
    assert len(doc.inline_shapes) == 1


def test_docx_page_a4_french_footer_fields_and_synthetic_notice(run):
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(str(run["dir"] / run["entry"]["outputs"]["docx"]))
    sec = doc.sections[0]
    # A4 = 210 × 297 mm; 1 mm = 36 000 EMU
    assert (round(sec.page_width / 36000), round(sec.page_height / 36000)) == (210, 297)
    assert sec.page_width < sec.page_height  # portrait
    footer = sec.footer._element
    instr = [t.text.strip() for t in footer.iter(qn("w:instrText"))]
    assert instr == ["PAGE", "NUMPAGES"]
    assert "Données synthétiques" in "".join(t.text for t in footer.iter(qn("w:t")))
    assert "page " in "".join(t.text for t in footer.iter(qn("w:t")))
    langs = {el.get(qn("w:val")) for el in doc.styles.element.iter(qn("w:lang"))}
    assert langs == {"fr-FR"}
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Données synthétiques." in body  # the banner, as on screen
    assert "secret" not in body and "html_table(" not in body  # no code


# --------------------------------------------------------------------------- tagged PDF

def _struct_elements(reader):
    """Yield every structure element (dict with /S) of a PDF's structure tree."""
    import pypdf

    stack = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, pypdf.generic.ArrayObject):
            stack.extend(reversed(list(node)))
        elif isinstance(node, pypdf.generic.DictionaryObject):
            if "/S" in node:
                yield node
            if "/K" in node:
                stack.append(node["/K"])


def _check_tagged(pdf: Path, alts: list):
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == pypdf.generic.BooleanObject(True)
    assert str(root["/Lang"]).lower().startswith("fr")
    figure_alts = [str(e["/Alt"]) for e in _struct_elements(reader) if e["/S"] == "/Figure" and "/Alt" in e]
    assert figure_alts == alts
    return reader


def test_run_pdf_is_tagged_with_alt_texts_and_french(run):
    alts = [img["alt"] for img in run["soup"].select("figure.fne-chart img")]
    reader = _check_tagged(run["dir"] / run["entry"]["outputs"]["pdf"], alts)
    n = len(reader.pages)
    for i, page in enumerate(reader.pages):
        text = page.extract_text()
        assert f"page {i + 1} / {n}" in text and "Données synthétiques" in text


# --------------------------------------------------------------------------- warm engines

def _words(pdf: Path) -> list:
    """Return the words of a PDF in reading order by position (``pdftotext -layout``, poppler)."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_warm_weasyprint_gives_the_text_of_the_per_report_path(run, tmp_path):
    """Old path (WeasyPrint started for the report) and warm engine (reused twice): same words in the same order."""
    from fne_eval.runner.pdf_engines import WeasyPrintEngine
    from fne_eval.runner.render import render_pdf_weasyprint

    html = run["html"]
    old = render_pdf_weasyprint(html, tmp_path / "old.pdf")
    engine = WeasyPrintEngine()
    engine.render("<html lang='fr'><body><h1>Autre rapport</h1></body></html>", tmp_path / "other.pdf")
    warm = engine.render(html, tmp_path / "warm.pdf")
    assert engine.reports == 2
    assert _words(warm) == _words(old)
    assert "Seniors120" in "".join(_words(old)) and "Jeunes<5" in "".join(_words(old))  # the table is there


chromium = pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="chromium absent (apt-get install chromium)")


def _without_leaders(words: list) -> list:
    """Drop what differs between engines in the table of contents: leader dots and list bullets."""
    out = []
    for w in words:
        w = re.sub(r"\.{3,}", "", w)
        if w and w not in ("•", "◦"):
            out.append(w)
    return out


@chromium
def test_chromium_engine_prints_the_same_text_tagged(run, tmp_path):
    """Chromium kept warm prints the words of the old per-report path in the same order, table of contents
    page numbers included; tagged with the alt texts, A4, « page X / Y » on every page."""
    from fne_eval.runner.pdf_engines import ChromiumEngine
    from fne_eval.runner.render import render_pdf_weasyprint

    html = run["html"]
    old = render_pdf_weasyprint(html, tmp_path / "old.pdf")
    engine = ChromiumEngine()
    try:
        engine.render("<html lang='fr'><body><h1>Autre rapport</h1></body></html>", tmp_path / "other.pdf")
        pdf = engine.render(html, tmp_path / "chromium.pdf")
        assert engine.reports == 2
    finally:
        engine.close()
    assert not list(tmp_path.glob(".fne-print-*"))  # its temporary page is removed
    alts = [img["alt"] for img in run["soup"].select("figure.fne-chart img")]
    reader = _check_tagged(pdf, alts)
    page = reader.pages[0]
    # A4 = 210 × 297 mm = 595.3 × 841.9 pt
    assert abs(float(page.mediabox.width) - 595.3) < 1 and abs(float(page.mediabox.height) - 841.9) < 1
    n = len(reader.pages)
    for i, p in enumerate(reader.pages):
        text = p.extract_text()
        assert f"page {i + 1} / {n}" in text and "Données synthétiques" in text
    old_words = _without_leaders(_words(old))
    assert old_words[old_words.index("Sommaire"):][:8] == ["Sommaire", "1.", "Publics", "accompagnés", "1",
                                                           "Graphique", "des", "publics"]
    assert _without_leaders(_words(pdf)) == old_words


def test_run_pdf_through_the_default_renderer_has_the_text_of_the_cold_path(run, tmp_path):
    """What the speed work changed in the published PDF: nothing in its text.

    Covers: the run's PDF as published — ``--renderer auto``, i.e. WeasyPrint kept warm by the
    worker (one font configuration for all its reports; Chromium is opt-in, its text is checked
    by ``test_chromium_engine_prints_the_same_text_tagged``) — against
    the cold path of before (WeasyPrint started for this one report, fresh font configuration),
    on the same HTML: the same words in the same order (pdftotext), table of contents page
    numbers included; only leader dots and list bullets, which the two engines draw differently,
    are left out. Does not cover layout (line breaks, page breaks inside a page's text order
    are compared as one word stream) nor pictures (their alt texts: ``test_run_pdf_is_tagged...``).
    """
    from fne_eval.runner.render import render_pdf_weasyprint

    assert run["manifest"]["options"]["renderer"] == "weasyprint"
    published = run["dir"] / run["entry"]["outputs"]["pdf"]
    cold = render_pdf_weasyprint(run["html"], tmp_path / "cold.pdf")
    words = _without_leaders(_words(published))
    assert words == _without_leaders(_words(cold))
    assert "Sommaire" in words and "Seniors120" in "".join(words) and "Jeunes<5" in "".join(words)
    # the PDF's own text (what search and screen readers get, read by pypdf, which keeps ligature
    # characters where pdftotext splits them): letters, never « ﬀ », « ﬁ »... (U+FB00–FB06)
    import pypdf

    text = "".join(p.extract_text() for p in pypdf.PdfReader(str(published)).pages)
    assert "Publics accompagnés" in text and not re.search("[\ufb00-\ufb06]", text)


@chromium
def test_chromium_engine_leaves_no_process_after_parent_sigkill(tmp_path):
    """A process that started Chromium is killed with SIGKILL: Chromium and its children go too."""
    import os
    import signal
    import sys

    import psutil

    script = ("import sys, time\n"
              "from fne_eval.runner.pdf_engines import get_engine\n"
              "e = get_engine('chromium')\n"
              "print(e.proc.pid, flush=True)\n"
              "time.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = int(child.stdout.readline())
    browser = psutil.Process(pid)
    tree = [browser] + browser.children(recursive=True)
    assert len(tree) >= 2  # the browser and at least one of its helpers
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    _, alive = psutil.wait_procs(tree, timeout=15)
    assert [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
