"""Rendering of executed notebooks to HTML and PDF (fne_eval.runner.render).

The notebooks here are built by hand with their outputs (no kernel runs), so these tests
take about a second; tests/test_run.py renders notebooks that papermill really executed.
"""
import base64
import os
import re
import stat
from pathlib import Path

import nbformat
import pytest

from fne_eval.runner.execute import mixed_synthetic_tables
from fne_eval.runner.render import (
    SYNTHETIC_NOTICE, RenderError, RenderInfo, parse_formats, quarto_command, render_html, render_pdf_quarto,
    render_pdf_weasyprint, resolve_renderer,
)

# 1×1 transparent PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")).decode()


def executed_notebook(path):
    """Write a notebook as papermill leaves it: parameters, code with outputs, headings."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('territory = "13"  # code', execution_count=1)
    params.metadata["tags"] = ["parameters"]
    table = nbformat.v4.new_code_cell("show_table_secret_code()", execution_count=3, outputs=[
        nbformat.v4.new_output("execute_result", execution_count=3, data={
            "text/html": "<table><tr><th>Indicateur</th><th>Valeur</th></tr>"
                         "<tr><td>Personnes accompagnées</td><td>1\u202f234</td></tr>"
                         "<tr><td>Part des seniors</td><td>12,5\u00a0%</td></tr></table>",
            "text/plain": "table"}),
        nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: something internal\n"),
    ])
    figure = nbformat.v4.new_code_cell("plot_secret_code()", execution_count=4, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])
    nb.cells = [
        params,
        nbformat.v4.new_markdown_cell("# Évaluation d'impact\n\nIntroduction."),
        nbformat.v4.new_markdown_cell("## Offre de médiation numérique"),
        table,
        nbformat.v4.new_markdown_cell("### Détail par commune"),
        figure,
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


INFO = dict(subtitle="Dossier COPIL · Métropole (200054807)", sources=["INSEE, populations 2021", "La MedNum, IFN"],
            bundle_hash="0123456789abcdef" * 4, version="9.9.9", run_date="29/11/2026 09:00 UTC", entry_id="impact-13")


@pytest.fixture()
def html(tmp_path):
    return render_html(executed_notebook(tmp_path / "x.ipynb"), RenderInfo(is_synthetic=True, **INFO))


def test_html_has_no_code_and_no_prompts(html):
    assert "secret_code" not in html and "territory =" not in html
    assert "In&nbsp;[" not in html and "In [" not in html and "Out[" not in html
    assert "<script" not in html  # no JavaScript, no CDN: the page is self-contained


def test_html_keeps_outputs_and_drops_stderr(html):
    assert "Personnes accompagnées" in html
    assert "1\u202f234" in html and "12,5\u00a0%" in html
    assert "FutureWarning" not in html
    assert f"data:image/png;base64,{PNG}" in html  # image embedded, not a file link


def test_html_table_of_contents_from_markdown_headings(html):
    nav = html[html.index("<nav"):html.index("</nav>")]
    # three markdown headings, in order, each linked to its renumbered id
    assert nav.index("Évaluation d&#x27;impact") < nav.index("Offre de médiation numérique") < nav.index("Détail par commune")
    for n in (1, 2, 3):
        assert f'href="#sec-{n}"' in nav and f'id="sec-{n}"' in html


def test_html_banner_and_footer(html, tmp_path):
    assert "Données synthétiques" in html
    # issue 11: lineage (sources, bundle hash, tool version) is for the analyst's annex; the
    # footer says so in one line, and the hash and version stay in the page's metadata only
    body = html[html.index("<body"):]
    assert "annexe pour l'analyste" in body or "annexe pour l&#39;analyste" in body
    assert "0123456789ab" not in body and "fne-eval" not in body
    head = html[:html.index("<body")]
    assert 'name="fne-bundle"' in head and "0123456789ab" in head and "0123456789abcdef0123" not in html
    assert "fne-eval 9.9.9" in head and "29/11/2026 09:00 UTC" in body
    assert "<title>Évaluation d&#39;impact</title>" in html or "<title>Évaluation d'impact</title>" in html
    real = render_html(executed_notebook(tmp_path / "y.ipynb"), RenderInfo(is_synthetic=False, **INFO))
    assert "Données synthétiques" not in real


def test_html_escapes_provenance_text(tmp_path):
    info = RenderInfo(is_synthetic=False, **{**INFO, "sources": ["<script>alert(1)</script>"]})
    out = render_html(executed_notebook(tmp_path / "x.ipynb"), info)
    # the sources are no longer printed in the footer (annex); never injected either
    assert "<script>alert(1)" not in out


def test_pdf_weasyprint_a4_with_page_numbers(html, tmp_path):
    import pypdf

    pdf = render_pdf_weasyprint(html, tmp_path / "x.pdf")
    reader = pypdf.PdfReader(str(pdf))
    page = reader.pages[0]
    # A4 = 210 × 297 mm = 595.3 × 841.9 pt (1 pt = 25.4/72 mm)
    assert abs(float(page.mediabox.width) - 595.3) < 1 and abs(float(page.mediabox.height) - 841.9) < 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Offre de médiation numérique" in text
    assert f"page 1 / {len(reader.pages)}" in text
    assert "secret_code" not in text


def test_parse_formats():
    assert parse_formats("html,pdf") == ("html", "pdf")
    assert parse_formats("pdf, html") == ("html", "pdf")
    assert parse_formats("html") == ("html",)
    assert parse_formats("docx,html") == ("html", "docx")
    with pytest.raises(ValueError, match="odt"):
        parse_formats("html,odt")
    with pytest.raises(ValueError):
        parse_formats("")


def test_unknown_renderer_raises_value_error():
    with pytest.raises(ValueError, match="latex"):
        resolve_renderer("latex")


# --------------------------------------------------------------------------- Quarto

def _fake_quarto(bindir: Path, log: Path) -> Path:
    """A ``quarto`` stand-in that records its arguments and writes a dummy PDF at --output."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / "quarto"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'out=""; prev=""\n'
        'for a in "$@"; do if [ "$prev" = "--output" ]; then out="$a"; fi; prev="$a"; done\n'
        'printf "%%PDF-1.4\\n%%fake\\n" > "$out"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def test_quarto_missing_is_a_clear_error(tmp_path, monkeypatch):
    """Without a ``quarto`` binary: ``quarto`` asked → RenderError naming the fix; ``auto`` → WeasyPrint."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RenderError, match="'quarto' est introuvable.*--renderer weasyprint"):
        resolve_renderer("quarto", ("html", "pdf"))
    assert resolve_renderer("auto", ("html", "pdf")) == "weasyprint"
    assert resolve_renderer("quarto", ("html",)) is None  # no PDF asked, no renderer needed


def test_quarto_branch_with_a_fake_binary(tmp_path, monkeypatch):
    """Covers: detection on PATH (auto picks Quarto), the command line (``--to typst``), moving the PDF.

    The real ``quarto`` binary is not run here: it cannot be installed from the registries
    this project's machines and CI reach (not on PyPI as a binary: its PyPI sdist downloads
    the binary from elsewhere at build time; not on npm or in Debian), only from conda-forge
    (``environment.yml``) or quarto.org. So Quarto's own rendering (Typst, fonts, the look of
    the PDF) is not covered; a stand-in script records its arguments and writes a PDF where
    ``--output`` says.
    """
    log = tmp_path / "args.txt"
    script = _fake_quarto(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert resolve_renderer("auto", ("html", "pdf")) == "quarto"
    (tmp_path / "run" / "notebooks").mkdir(parents=True)
    nb = executed_notebook(tmp_path / "run" / "notebooks" / "impact-13.ipynb")
    out = tmp_path / "run" / "pdf" / "impact-13.pdf"
    # --to typst: PDF through the Typst binary that conda-forge's quarto ships, no TeX needed
    assert quarto_command(nb, "impact-13.pdf") == [
        str(script), "render", str(nb), "--to", "typst", "--no-execute", "-M", "echo:false", "-M", "lang:fr",
        "-M", "papersize:a4", "--output", "impact-13.pdf"]
    assert quarto_command(nb, "x.pdf", is_synthetic=True)[-4:-2] == ["-M", f"subtitle:{SYNTHETIC_NOTICE}"]
    render_pdf_quarto(nb, out)
    assert out.read_bytes().startswith(b"%PDF")
    assert not (nb.parent / "impact-13.pdf").exists()  # moved, not copied
    assert log.read_text().split("\n")[:13] == [
        "render", str(nb), "--to", "typst", "--no-execute", "-M", "echo:false", "-M", "lang:fr", "-M", "papersize:a4",
        "--output", "impact-13.pdf"]


def test_quarto_failure_is_reported(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "quarto").write_text("#!/bin/sh\necho 'ERROR: typst compile failed: unknown font' >&2\nexit 1\n")
    (bindir / "quarto").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    nb = executed_notebook(tmp_path / "x.ipynb")
    with pytest.raises(RenderError, match="typst compile failed"):
        render_pdf_quarto(nb, tmp_path / "x.pdf")


def test_synthetic_notice_once_on_screen_and_on_every_pdf_page(html, tmp_path):
    # one banner at the top of the page, and the notice in the footer of every printed page
    assert html.count('class="fne-banner"') == 1
    assert '@bottom-left' in html and 'content: "Données synthétiques"' in html
    real = render_html(executed_notebook(tmp_path / "z.ipynb"), RenderInfo(is_synthetic=False, **INFO))
    assert '@bottom-left' not in real and 'class="fne-banner"' not in real


def test_auto_is_weasyprint_even_with_chromium_quarto_first(tmp_path, monkeypatch):
    """``auto``: Quarto when on PATH, else WeasyPrint (the layout the pack's fit checks hold on),
    even when a Chromium is installed; Chromium only when asked for."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "chromium"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.delenv("FNE_EVAL_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(bindir))
    assert resolve_renderer("auto", ("html", "pdf")) == "weasyprint"
    assert resolve_renderer("chromium", ("html", "pdf")) == "chromium"  # asked for: kept
    assert resolve_renderer("auto", ("html",)) is None
    _fake_quarto(bindir, tmp_path / "args.txt")
    assert resolve_renderer("auto", ("html", "pdf")) == "quarto"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert resolve_renderer("auto", ("html", "pdf")) == "weasyprint"


def test_chromium_asked_but_missing_is_a_clear_error(tmp_path, monkeypatch):
    """``--renderer chromium`` without a Chromium binary: a French error naming the fix, before anything runs."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("FNE_EVAL_CHROMIUM", raising=False)
    with pytest.raises(RenderError, match="'chromium' est introuvable.*--renderer weasyprint"):
        resolve_renderer("chromium", ("html", "pdf"))
    assert resolve_renderer("chromium", ("html", "docx")) is None  # no PDF asked, no renderer needed


def test_pdf_weasyprint_is_tagged_with_alt_and_french(tmp_path):
    """The per-report path writes tagged PDF/UA-1: structure tree, /Figure with the image's alt, /Lang fr."""
    import pypdf

    html = ('<!DOCTYPE html><html lang="fr"><head><title>Essai</title></head><body><h1>Titre</h1>'
            f'<figure><img alt="Courbe des accompagnements, 2 points" src="data:image/png;base64,{PNG}" '
            'width="20"></figure></body></html>')
    reader = pypdf.PdfReader(str(render_pdf_weasyprint(html, tmp_path / "t.pdf")))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and str(root["/Lang"]) == "fr"
    stack, alts = [root["/StructTreeRoot"]], []
    while stack:
        node = stack.pop().get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            stack.extend(node)
        elif isinstance(node, pypdf.generic.DictionaryObject):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt")))
            if "/K" in node:
                stack.append(node["/K"])
    assert alts == ["Courbe des accompagnements, 2 points"]


def test_banner_of_a_mixed_bundle_names_its_generated_tables(tmp_path):
    # La Coop imported, budget still generated: the banner and the page footer say « en partie »
    info = RenderInfo(is_synthetic=True, synthetic_tables=["engagements et paiements"], **INFO)
    html = render_html(executed_notebook(tmp_path / "m.ipynb"), info)
    banner = re.search(r'<div class="fne-banner"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "Données en partie synthétiques" in banner and "engagements et paiements" in banner
    assert "Les autres données de suivi de ce rapport sont réelles" in banner
    assert 'content: "Données en partie synthétiques"' in html


def test_mixed_synthetic_tables_only_when_something_was_imported():
    generated = {"is_synthetic": True, "synthetic_tables": ["activities", "budget_transactions"]}
    assert mixed_synthetic_tables(generated) == []  # wholly synthetic: the general banner
    mixed = {"table_origins": {"activities": {"origin": "imported"},
                               "budget_transactions": {"origin": "synthetic"},
                               "decisions": {"origin": "empty"}}}
    assert mixed_synthetic_tables(mixed) == ["engagements et paiements"]
