"""Render executed notebooks to HTML and PDF (papermill executes; this only converts).

HTML comes from nbconvert's :class:`~nbconvert.HTMLExporter` with the ``fne_report``
template of ``templates/``: no code, no prompts, self-contained images, a table of contents
built from the markdown headings, a synthetic-data banner driven by ``is_synthetic`` (not by
the notebook), and a footer with the bundle's sources, its short hash, the package version
and the run date. PDF comes from that HTML through a warm engine of
:mod:`fne_eval.runner.pdf_engines` (a headless Chromium when one is installed, else WeasyPrint; A4,
"page X / Y", tagged), or from Quarto (``quarto render x.ipynb --to typst``) when its
binary is on PATH. Word comes from the same HTML (:mod:`fne_eval.runner.render_docx`).
"""
from __future__ import annotations

import functools

import html as html_lib
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from fne_eval.runner.pdf_engines import WEASYPRINT_OPTIONS, chromium_path

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "fne_report"
CSS_FILE = TEMPLATES_DIR / TEMPLATE_NAME / "report.css"
FORMATS = ("html", "pdf", "docx")
RENDERERS = ("auto", "weasyprint", "chromium", "quarto")
TOC_PLACEHOLDER = "<!--FNE-TOC-->"


class RenderError(Exception):
    """A renderer that is asked for and missing, or a conversion that failed."""


@dataclass
class RenderInfo:
    """What the template shows besides the notebook: provenance and the synthetic banner."""

    title: str = "Rapport"
    subtitle: str = ""
    is_synthetic: bool = False
    #: French names of the synthetic tables when the bundle mixes them with imported real ones
    #: (empty when everything the reports follow is synthetic, or nothing is)
    synthetic_tables: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    bundle_hash: str = ""
    version: str = ""
    run_date: str = ""
    entry_id: str = ""

    def resources(self) -> dict:
        """Return the ``resources['fne']`` dict the template reads."""
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "is_synthetic": bool(self.is_synthetic),
            "synthetic_tables": [str(t) for t in self.synthetic_tables],
            "sources": [str(s) for s in self.sources],
            "bundle_hash_short": (self.bundle_hash or "inconnu")[:12],
            "version": self.version,
            "run_date": self.run_date,
            "entry_id": self.entry_id,
            "css": CSS_FILE.read_text(encoding="utf-8"),
        }


def parse_formats(value: Union[str, list, tuple]) -> tuple:
    """Return the output formats of ``--to`` (``"html,pdf"``) as a tuple in canonical order.

    PDF and Word are made from the HTML, so asking for ``pdf`` or ``docx`` alone still
    builds the HTML in memory but only writes what was asked.

    Raises
    ------
    ValueError
        An unknown or empty format.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [i.strip().lower() for i in items if i.strip()]
    unknown = [i for i in items if i not in FORMATS]
    if unknown or not items:
        raise ValueError(f"format inconnu {', '.join(unknown) or '(vide)'} : "
                         "attendu html, pdf, docx ou une liste comme html,pdf,docx")
    return tuple(f for f in FORMATS if f in items)


def quarto_path() -> Optional[str]:
    """Return the path of the ``quarto`` binary on PATH, or None."""
    return shutil.which("quarto")


def resolve_renderer(renderer: str = "auto", formats=("html", "pdf")) -> Optional[str]:
    """Return the PDF renderer to use: ``'weasyprint'``, ``'chromium'``, ``'quarto'`` or None (no PDF asked).

    Parameters
    ----------
    renderer : {'auto', 'weasyprint', 'chromium', 'quarto'}
        ``auto`` picks Quarto when its binary is on PATH, else WeasyPrint: the page layout the
        pack's fit checks (no clipped cell, no page under a quarter full, the dossier's first
        page on one A4) are made on. ``chromium`` (a headless Chromium kept running by each
        worker, see :func:`~fne_eval.runner.pdf_engines.chromium_path`) prints 2 to 4 × faster
        per report with the same words, but breaks pages elsewhere, and the pack's wall time was
        not shorter with it in either recorded run (``benchmarks/RESULTS.md``).
    formats : tuple of str
        The formats asked for; without ``pdf`` no renderer is needed.

    Raises
    ------
    ValueError
        An unknown renderer name.
    RenderError
        ``quarto`` or ``chromium`` asked for but not on PATH, or WeasyPrint not importable;
        raised before anything runs.
    """
    if renderer not in RENDERERS:
        raise ValueError(f"moteur de rendu inconnu {renderer!r} : attendu auto, weasyprint, chromium ou quarto")
    if "pdf" not in formats:
        return None
    if renderer == "chromium":
        if not chromium_path():
            raise RenderError(
                "--renderer chromium : le programme 'chromium' est introuvable dans le PATH. "
                "Installez-le (apt-get install chromium) ou utilisez --renderer weasyprint.")
        return "chromium"
    if renderer == "quarto" or (renderer == "auto" and quarto_path()):
        if not quarto_path():
            raise RenderError(
                "--renderer quarto : le programme 'quarto' est introuvable dans le PATH. "
                "Installez Quarto (https://quarto.org, ou 'conda env create -f environment.yml'), "
                "ou utilisez --renderer weasyprint.")
        return "quarto"
    try:
        import weasyprint  # lazy: WeasyPrint (~1.5 s, native libs), PDF only (noqa: F401)
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise RenderError(f"WeasyPrint indisponible ({exc}) : installez les bibliothèques Pango "
                          "(voir README) ou utilisez --to html") from exc
    return "weasyprint"


# --------------------------------------------------------------------------- HTML

_HEADING = re.compile(r"<h([1-3])\b([^>]*)\bid=\"([^\"]+)\"([^>]*)>(.*?)</h\1>", re.S)
_TAGS = re.compile(r"<[^>]+>")


def add_toc(body: str) -> str:
    """Return ``body`` with a table of contents of its h1–h3 headings at the placeholder.

    nbconvert gives an ``id`` to every markdown heading (headings inside notebook outputs
    have none and are left out). Those ids are percent-encoded text, which WeasyPrint's
    page references do not resolve, so each heading gets a plain ``sec-N`` id.
    """
    items = []

    def _renumber(m):
        level, before, _old, after, inner = m.groups()
        text = html_lib.unescape(_TAGS.sub("", inner)).replace("\u00b6", "").strip()
        if not text:
            return m.group(0)
        anchor = f"sec-{len(items) + 1}"
        items.append(f'<li class="toc-h{level}"><a href="#{anchor}">{html_lib.escape(text)}</a></li>')
        inner = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", inner, flags=re.S)
        return f'<h{level}{before}id="{anchor}"{after}>{inner}</h{level}>'

    body = _HEADING.sub(_renumber, body)
    toc = "<p>Sommaire</p><ol>" + "".join(items) + "</ol>" if items else ""
    return body.replace(TOC_PLACEHOLDER, toc, 1)


def _strip_stderr(nb):
    """Drop stderr streams (warnings) from the outputs: they are not part of a report."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def notebook_title(nb, default: str = "Rapport") -> str:
    """Return the text of the notebook's first level-1 markdown heading, or ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^#\s+(.+)$", line.strip())
                if m:
                    return m.group(1).strip()
    return default


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """Return this process's HTML exporter, built once: building one compiles its Jinja
    templates (0,7 s of the 1,8 s an impact report took to export); the exporter keeps no
    state from one notebook to the next (tests/test_speed_outputs.py)."""
    from nbconvert import HTMLExporter  # lazy: nbconvert (~1.5 s), HTML rendering only

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def render_html(notebook: Union[str, Path], info: RenderInfo, out: Optional[Union[str, Path]] = None) -> str:
    """Convert an executed notebook to a self-contained HTML report.

    Parameters
    ----------
    notebook : str or Path
        The executed ``.ipynb``.
    info : RenderInfo
        Banner and footer contents; ``info.title`` defaults to the first ``#`` heading.
    out : str or Path, optional
        Where to write the HTML.

    Returns
    -------
    str
        The HTML text.
    """
    import nbformat  # lazy: nbformat (~0.3 s), notebook files only

    nb = nbformat.read(str(notebook), as_version=4)
    nb = _strip_stderr(nb)
    for cell in nb.cells:  # papermill gives its injected cell a random id, which the HTML would carry
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
    if not info.title or info.title == "Rapport":
        info.title = notebook_title(nb)
    body, _ = _html_exporter().from_notebook_node(nb, resources={"fne": info.resources()})
    body = add_toc(body)
    if out is not None:
        Path(out).write_text(body, encoding="utf-8")
    return body


# --------------------------------------------------------------------------- PDF



def render_pdf_weasyprint(html: str, out: Union[str, Path], base_url: Optional[str] = None) -> Path:
    """Write ``html`` as a tagged A4 PDF with WeasyPrint (page numbers come from the CSS ``@page``).

    This starts WeasyPrint afresh (new font configuration) for each call; the runner uses
    the warm engines of :mod:`fne_eval.runner.pdf_engines`.
    """
    import weasyprint  # lazy: WeasyPrint (~1.5 s, native libs), PDF only

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html, base_url=base_url).write_pdf(str(out), **WEASYPRINT_OPTIONS)
    return Path(out)


SYNTHETIC_NOTICE = ("Données synthétiques : les données de suivi de ce rapport sont générées à titre "
                    "de démonstration et ne décrivent pas l'activité réelle.")


def quarto_command(notebook: Union[str, Path], out_name: str, is_synthetic: bool = False) -> list:
    """Return the command line that renders ``notebook`` to PDF with Quarto through Typst.

    ``--to typst`` makes Quarto write Typst and compile it to PDF with the Typst binary it
    ships (conda-forge's quarto includes it), where ``--to pdf`` would need a TeX
    installation that neither conda-forge's quarto nor ``environment.yml`` provides. Code
    is hidden (``echo: false``), cells are not re-run (papermill already executed them),
    the language is French and the paper A4:
    ``quarto render NB --to typst --no-execute -M echo:false -M lang:fr -M papersize:a4
    --output NAME``. For a synthetic bundle the notice goes in the document's subtitle,
    whatever the notebook shows.
    """
    binary = quarto_path() or "quarto"
    cmd = [binary, "render", str(notebook), "--to", "typst", "--no-execute", "-M", "echo:false",
           "-M", "lang:fr", "-M", "papersize:a4"]
    if is_synthetic:
        cmd += ["-M", f"subtitle:{SYNTHETIC_NOTICE}"]
    return cmd + ["--output", out_name]


def render_pdf_quarto(notebook: Union[str, Path], out: Union[str, Path], timeout: Optional[float] = None,
                      is_synthetic: bool = False) -> Path:
    """Render an executed notebook to PDF with Quarto and move the PDF to ``out``.

    Quarto writes next to the notebook (``--to typst`` compiles the ``.typ`` it writes to
    ``NAME.pdf``; the intermediate ``.typ`` is not kept); the PDF is then moved to ``out``.

    Raises
    ------
    RenderError
        Quarto missing, failing, or not producing the PDF.
    """
    notebook, out = Path(notebook), Path(out)
    if not quarto_path():
        raise RenderError("le programme 'quarto' est introuvable dans le PATH")
    name = notebook.stem + ".pdf"
    cmd = quarto_command(notebook, name, is_synthetic=is_synthetic)
    try:
        proc = subprocess.run(cmd, cwd=str(notebook.parent), capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "QUARTO_PRINT_STACK": "false"})
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"quarto : délai dépassé ({timeout} s)") from exc
    produced = notebook.parent / name
    if proc.returncode != 0 or not produced.exists():
        last = (proc.stderr or proc.stdout or "").strip().splitlines()
        raise RenderError(f"quarto a échoué (code {proc.returncode}) : {last[-1] if last else 'aucun message'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), str(out))
    return out
