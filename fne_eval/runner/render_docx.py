"""Render an HTML report as a Word document (``--to docx``), with python-docx.

The Word file is made from the same HTML as ``html/<id>.html`` (what the reader sees on
screen), walked with BeautifulSoup: the report's ``h1``–``h4`` become Word's « Titre 1 »
to « Titre 4 » (``Heading 1``–``4``), paragraphs keep their bold, italic and code runs,
lists become Word lists, tables become Word tables with their caption (« Légende »), a
repeated header row and every cell as printed in the HTML (the suppression mark « < 5 »
included), charts become pictures whose alternative text (``descr`` of the drawing) is
the ``alt`` of the HTML image. The page is A4 portrait, the document's language is French
(``fr-FR`` on the default run properties, so Word's spelling checker and screen readers
use French), and every page footer reads « page X / Y » with Word fields (``PAGE``,
``NUMPAGES``) and, for synthetic data, « Données synthétiques », as the PDF does.
"""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Optional, Union

from fne_eval.core.paths import atomic_write_bytes

#: A4 portrait and the margins of the PDF (report.css ``@page``), in millimetres.
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 18, "right": 15, "bottom": 20, "left": 15}
LANGUAGE = "fr-FR"
FONT = "Arial"
SYNTHETIC_FOOTER = "Données synthétiques"
_WS = re.compile(r"[ \t\n\r\f\v]+")  # HTML white space (keeps no-break spaces as printed)
_BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "nav", "figure", "table", "ul", "ol",
           "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "img", "hr", "dl", "figcaption", "caption"}
_SKIP = {"style", "script", "head", "title", "meta", "link", "template", "noscript"}
_PX_PER_INCH = 96


def _text(el) -> str:
    """Return the text of an element with HTML white space collapsed."""
    return _WS.sub(" ", el.get_text()).strip()


# --------------------------------------------------------------------------- low-level XML

def _set_language(doc, lang: str = LANGUAGE) -> None:
    """Set ``lang`` on the document defaults and the Normal style (w:lang of w:rPr)."""
    from docx.oxml import OxmlElement  # lazy: python-docx, --to docx only
    from docx.oxml.ns import qn  # lazy: python-docx, --to docx only

    styles = doc.styles.element
    doc_defaults = styles.find(qn("w:docDefaults"))
    if doc_defaults is None:
        doc_defaults = OxmlElement("w:docDefaults")
        styles.insert(0, doc_defaults)
    rpr_default = doc_defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        doc_defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    for holder in (rpr, doc.styles["Normal"].element.get_or_add_rPr()):
        lang_el = holder.find(qn("w:lang"))
        if lang_el is None:
            lang_el = OxmlElement("w:lang")
            holder.append(lang_el)
        for attr in ("w:val", "w:eastAsia", "w:bidi"):
            lang_el.set(qn(attr), lang)
    doc.core_properties.language = lang


def _add_field(paragraph, instruction: str, placeholder: str = "1") -> None:
    """Append a Word field (``PAGE``, ``NUMPAGES``) to ``paragraph`` as begin/instr/separate/end runs."""
    from docx.oxml import OxmlElement  # lazy: python-docx, --to docx only
    from docx.oxml.ns import qn  # lazy: python-docx, --to docx only

    def fld_char(kind):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        return run

    fld_char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld_char("separate")
    paragraph.add_run(placeholder)
    fld_char("end")


def _shade(paragraph, fill: str, border: Optional[str] = None) -> None:
    """Give a paragraph a background colour and, optionally, a box border."""
    from docx.oxml import OxmlElement  # lazy: python-docx, --to docx only
    from docx.oxml.ns import qn  # lazy: python-docx, --to docx only

    ppr = paragraph._p.get_or_add_pPr()
    if border:
        bdr = OxmlElement("w:pBdr")
        for side in ("top", "left", "bottom", "right"):
            b = OxmlElement(f"w:{side}")
            for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", border)):
                b.set(qn(k), v)
            bdr.append(b)
        ppr.append(bdr)
    shd = OxmlElement("w:shd")
    for k, v in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(k), v)
    ppr.append(shd)


def _repeat_header(row) -> None:
    """Mark a table row as a header row repeated at the top of each page."""
    from docx.oxml import OxmlElement  # lazy: python-docx, --to docx only
    from docx.oxml.ns import qn  # lazy: python-docx, --to docx only

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _no_row_split(row) -> None:
    from docx.oxml import OxmlElement  # lazy: python-docx, --to docx only
    from docx.oxml.ns import qn  # lazy: python-docx, --to docx only

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    trpr.append(el)


# --------------------------------------------------------------------------- the walker

class _Writer:
    """Walk the HTML body and append its content to a python-docx Document."""

    def __init__(self, doc, content_width_in: float):
        self.doc = doc
        self.width_in = content_width_in
        self.images = 0

    # -- inline content
    def inline(self, paragraph, node, bold=False, italic=False, mono=False) -> None:
        from bs4 import NavigableString, Tag  # lazy: BeautifulSoup (~0.3 s), HTML post-processing only

        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                    continue
                text = _WS.sub(" ", str(child))
                if not text:
                    continue
                if not paragraph.runs or paragraph.text.endswith(" "):
                    text = text.lstrip(" ") if not paragraph.text else text
                run = paragraph.add_run(text)
                run.bold = bold or None
                run.italic = italic or None
                if mono:
                    run.font.name = "Courier New"
            elif isinstance(child, Tag):
                name = child.name
                if name in _SKIP or "anchor-link" in (child.get("class") or []):
                    continue  # anchor links are hidden by the report's CSS
                if name == "br":
                    paragraph.add_run().add_break()
                elif name == "img":
                    self.picture(child, paragraph)
                else:
                    self.inline(paragraph, child, bold=bold or name in ("strong", "b", "th"),
                                italic=italic or name in ("em", "i"), mono=mono or name in ("code", "kbd", "samp"))

    def paragraph(self, node, style: Optional[str] = None, **kw):
        p = self.doc.add_paragraph(style=style)
        self.inline(p, node, **kw)
        if p.runs:
            p.runs[-1].text = p.runs[-1].text.rstrip(" ")
        return p

    # -- blocks
    def block(self, node) -> None:
        """Append the blocks of ``node``; loose inline content between blocks becomes paragraphs."""
        from bs4 import NavigableString, Tag  # lazy: BeautifulSoup (~0.3 s), HTML post-processing only

        pending = []

        def flush():
            if not pending:
                return
            text = "".join(_WS.sub(" ", str(x)) if isinstance(x, NavigableString) else _text(x) for x in pending)
            if text.strip():
                p = self.doc.add_paragraph()
                for x in pending:
                    if isinstance(x, NavigableString):
                        p.add_run(_WS.sub(" ", str(x)))
                    else:
                        wrapper = x.parent
                        self.inline(p, _Only(x, wrapper))
                if p.runs:
                    p.runs[0].text = p.runs[0].text.lstrip(" ")
                    p.runs[-1].text = p.runs[-1].text.rstrip(" ")
            pending.clear()

        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ == "NavigableString":
                    pending.append(child)
                continue
            if not isinstance(child, Tag) or child.name in _SKIP:
                continue
            if child.name in _BLOCKS or child.name in ("li",):
                flush()
                self.element(child)
            else:
                pending.append(child)
        flush()

    def element(self, el) -> None:
        name = el.name
        classes = el.get("class") or []
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = min(int(name[1]), 4)
            for a in el.select("a.anchor-link"):
                a.extract()
            text = _text(el)
            if text:
                self.doc.add_heading(text, level=level)
        elif name == "nav":
            self.toc(el)
        elif "fne-banner" in classes:
            p = self.paragraph(el)
            _shade(p, "FFF4D6", border="B34000")
        elif name == "p":
            style = None
            if "fne-caption" in classes:
                style = "Caption"
            p = self.paragraph(el, style=style)
            if "fne-kicker" in classes:
                for r in p.runs:
                    r.font.all_caps = True
            if not p.text.strip() and not p._p.xpath(".//w:drawing"):
                p._p.getparent().remove(p._p)
        elif name in ("ul", "ol"):
            self.listing(el, ordered=name == "ol", level=1)
        elif name == "li":
            self.paragraph(el, style="List Bullet")
        elif name == "table":
            self.table(el)
        elif name == "figure":
            for child in el.find_all(["img", "figcaption", "table"], recursive=True):
                if child.name == "img":
                    self.picture(child)
                elif child.name == "table":
                    self.table(child)
                elif child.name == "figcaption":
                    self.paragraph(child, style="Caption")
        elif name == "img":
            self.picture(el)
        elif name in ("figcaption", "caption"):
            self.paragraph(el, style="Caption")
        elif name == "pre":
            p = self.doc.add_paragraph()
            for i, line in enumerate(el.get_text().rstrip("\n").split("\n")):
                if i:
                    p.add_run().add_break()
                run = p.add_run(line)
                run.font.name = "Courier New"
        elif name == "hr":
            return
        else:  # div, section, main, header, footer, blockquote…
            self.block(el)

    def toc(self, nav) -> None:
        """Write the table of contents as a list of the report's sections (Word cannot page them here)."""
        items = [li for li in nav.find_all("li") if "toc-h1" not in (li.get("class") or [])]
        if not items:
            return
        self.doc.add_paragraph().add_run("Sommaire").bold = True
        for li in items:
            level3 = "toc-h3" in (li.get("class") or [])
            self.doc.add_paragraph(_text(li), style="List Number 2" if level3 else "List Number")

    def listing(self, el, ordered: bool, level: int) -> None:
        base = "List Number" if ordered else "List Bullet"
        style = base if level == 1 else f"{base} {min(level, 3)}"
        for li in el.find_all("li", recursive=False):
            nested = li.find_all(["ul", "ol"], recursive=False)
            for n in nested:
                n.extract()
            self.paragraph(li, style=style)
            for n in nested:
                self.listing(n, ordered=n.name == "ol", level=level + 1)

    def table(self, el) -> None:
        """Write an HTML table (caption, header rows repeated, spans merged, numbers right-aligned)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT  # lazy: python-docx, --to docx only
        from docx.enum.text import WD_ALIGN_PARAGRAPH  # lazy: python-docx, --to docx only
        from docx.shared import Pt  # lazy: python-docx, --to docx only

        caption = el.find("caption")
        if caption is not None and _text(caption):
            p = self.paragraph(caption, style="Caption")
            p.paragraph_format.keep_with_next = True
        rows = [tr for tr in el.find_all("tr") if tr.find_parent("table") is el]
        if not rows:
            return
        # place every cell on a grid, honouring colspan and rowspan
        grid, spans, occupied = {}, [], set()
        n_cols = 0
        for r, tr in enumerate(rows):
            c = 0
            for cell in tr.find_all(["td", "th"], recursive=False):
                while (r, c) in occupied:
                    c += 1
                rs = max(1, int(cell.get("rowspan", 1) or 1))
                cs = max(1, int(cell.get("colspan", 1) or 1))
                grid[(r, c)] = cell
                for dr in range(rs):
                    for dc in range(cs):
                        occupied.add((r + dr, c + dc))
                if rs > 1 or cs > 1:
                    spans.append((r, c, min(r + rs - 1, len(rows) - 1), c + cs - 1))
                c += cs
                n_cols = max(n_cols, c)
        table = self.doc.add_table(rows=len(rows), cols=max(n_cols, 1))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        header_rows = sum(1 for tr in rows if tr.parent.name == "thead" or
                          (tr.find_all(["td", "th"], recursive=False) and
                           all(c.name == "th" for c in tr.find_all(["td", "th"], recursive=False))
                           and tr is rows[0]))
        for (r, c), cell in grid.items():
            p = table.cell(r, c).paragraphs[0]
            self.inline(p, cell, bold=cell.name == "th")
            if p.runs:
                p.runs[0].text = p.runs[0].text.lstrip(" ")
                p.runs[-1].text = p.runs[-1].text.rstrip(" ")
            for run in p.runs:
                run.font.size = Pt(8.5)
            cls = cell.get("class") or []
            if "num" in cls or "text-align:right" in (cell.get("style") or "").replace(" ", ""):
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for r0, c0, r1, c1 in spans:
            table.cell(r0, c0).merge(table.cell(r1, min(c1, n_cols - 1)))
        for i, row in enumerate(table.rows):
            _no_row_split(row)
            if i < header_rows:
                _repeat_header(row)
        self.doc.add_paragraph()

    def picture(self, img, paragraph=None) -> None:
        """Embed a ``data:`` image with its alt text as the picture's description (``descr``)."""
        from docx.shared import Inches  # lazy: python-docx, --to docx only

        src = img.get("src") or ""
        m = re.match(r"data:image/(png|jpe?g|gif|bmp);base64,(.*)$", src, re.S)
        if not m:
            return  # external or SVG images: not embedded (reports embed PNG only)
        data = base64.b64decode(m.group(2))
        width_px = None
        try:
            width_px = float(str(img.get("width", "")).replace("px", "")) or None
        except ValueError:
            width_px = None
        width_in = min(width_px / _PX_PER_INCH, self.width_in) if width_px else None
        if paragraph is None:
            paragraph = self.doc.add_paragraph()
        run = paragraph.add_run()
        shape = run.add_picture(io.BytesIO(data), width=Inches(width_in) if width_in else None)
        if not width_in and shape.width > Inches(self.width_in):
            ratio = Inches(self.width_in) / shape.width
            shape.width, shape.height = Inches(self.width_in), int(shape.height * ratio)
        self.images += 1
        doc_pr = shape._inline.docPr
        alt = _WS.sub(" ", img.get("alt") or "").strip()
        doc_pr.set("descr", alt)
        doc_pr.set("name", f"Graphique {self.images}")
        if img.get("title"):
            doc_pr.set("title", img["title"])
        paragraph.paragraph_format.keep_with_next = True


class _Only:
    """A stand-in node whose only child is ``el`` (to run :meth:`_Writer.inline` on one tag)."""

    def __init__(self, el, parent):
        self.children = [el]
        self.parent = parent


# --------------------------------------------------------------------------- public

def html_to_document(html: str):
    """Return a python-docx Document holding the report ``html``.

    Parameters
    ----------
    html : str
        A report page made by :func:`fne_eval.runner.render.render_html`.

    Returns
    -------
    docx.document.Document
    """
    from bs4 import BeautifulSoup  # lazy: BeautifulSoup (~0.3 s), HTML post-processing only
    from docx import Document  # lazy: python-docx, --to docx only
    from docx.enum.section import WD_ORIENT  # lazy: python-docx, --to docx only
    from docx.enum.text import WD_TAB_ALIGNMENT  # lazy: python-docx, --to docx only
    from docx.shared import Mm, Pt, RGBColor  # lazy: python-docx, --to docx only

    soup = BeautifulSoup(html, "html.parser")
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    _set_language(doc)
    title = soup.find("title")
    doc.core_properties.title = _text(title) if title else ""
    doc.core_properties.subject = "France Numérique Ensemble — Bouches-du-Rhône"
    synthetic = soup.select_one(".fne-banner") is not None

    content_mm = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
    footer = section.footer
    p = footer.paragraphs[0]
    p.paragraph_format.tab_stops.add_tab_stop(Mm(content_mm), WD_TAB_ALIGNMENT.RIGHT)
    if synthetic:
        run = p.add_run(SYNTHETIC_FOOTER)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB3, 0x40, 0x00)
    p.add_run("\tpage ")
    _add_field(p, "PAGE")
    p.add_run(" / ")
    _add_field(p, "NUMPAGES")
    for run in p.runs:
        run.font.size = Pt(8)

    body = soup.body or soup
    _Writer(doc, content_width_in=content_mm / 25.4).block(body)
    return doc


def render_docx(html: str, out: Union[str, Path]) -> Path:
    """Write the report ``html`` as a Word document at ``out`` (atomically); return ``out``."""
    buf = io.BytesIO()
    html_to_document(html).save(buf)
    return atomic_write_bytes(Path(out), buf.getvalue())
