"""PDF engines that stay warm across the reports of a pool worker.

Two engines print the HTML report (the same HTML as ``html/<id>.html``) to an A4 PDF with
« page X / Y » and, for synthetic data, « Données synthétiques » at the foot of every page:

- :class:`WeasyPrintEngine` (``--renderer weasyprint`` and ``auto``): WeasyPrint in the
  worker process, imported once, with one :class:`weasyprint.text.fonts.FontConfiguration`
  (fontconfig and Pango font map) reused by every report. Tagged PDF/UA-1: structure tree,
  ``/Alt`` of every chart, ``/Lang (fr)`` from ``<html lang="fr">``.
- :class:`ChromiumEngine` (``--renderer chromium``, opt-in; the
  faster of the two by 2 to 4 × per report, see ``benchmarks/RESULTS.md``): one long-lived headless Chromium per
  worker, driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``:
  no port, no extra dependency), printing with ``Page.printToPDF`` (A4 from the CSS
  ``@page``, backgrounds, tagged output). The page footers come from the same CSS
  ``@page`` margin boxes, which Chromium ≥ 131 lays out.

:func:`get_engine` keeps one engine per process and name; it is closed at exit. A
Chromium started here dies with its worker whatever the way the worker ends: the DevTools
pipe closes (Chromium then quits), the kernel sends it SIGKILL when the worker dies
(``PR_SET_PDEATHSIG``), and the worker's SIGTERM handler stops its children.
"""
from __future__ import annotations

import atexit
import base64
import ctypes
import fcntl
import io
import json
import logging
import os
import re as _re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional, Union

from fne_eval.core.paths import atomic_write_bytes

ENGINES = ("weasyprint", "chromium")
#: Where the Chromium binary is looked for (``FNE_EVAL_CHROMIUM`` first).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Command-line switches of the headless Chromium (no network, no sync, no extensions updates).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe",
)
#: A4 in inches, for ``Page.printToPDF`` (used when the page gives no CSS size).
A4_INCHES = (210 / 25.4, 297 / 25.4)


class PdfEngineError(RuntimeError):
    """An engine that cannot start or a page it failed to print."""


#: WeasyPrint writes tagged PDF/UA-1 (structure tree, /Alt texts of the charts kept), cold or warm.
WEASYPRINT_OPTIONS = {"pdf_variant": "pdf/ua-1"}


# --------------------------------------------------------------------------- WeasyPrint

class WeasyPrintEngine:
    """WeasyPrint kept warm: imported once, one font configuration for every report.

    ``render`` gives the same PDF as :func:`fne_eval.runner.render.render_pdf_weasyprint`
    (same options), only without rebuilding the font configuration for each report.
    """

    name = "weasyprint"

    def __init__(self):
        import weasyprint  # lazy: WeasyPrint (~1.5 s, native libs), PDF only
        from weasyprint.text.fonts import FontConfiguration  # lazy: WeasyPrint (~1.5 s, native libs), PDF only

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self._weasyprint = weasyprint
        self.font_config = FontConfiguration()
        self.reports = 0

    def render(self, html: str, out: Union[str, Path], base_url: Optional[str] = None) -> Path:
        """Write ``html`` as a tagged A4 PDF at ``out`` (atomically); return ``out``."""
        doc = self._weasyprint.HTML(string=html, base_url=base_url)
        data = doc.write_pdf(font_config=self.font_config, **WEASYPRINT_OPTIONS)
        self.reports += 1
        return atomic_write_bytes(Path(out), data)

    def close(self) -> None:
        """Release nothing: WeasyPrint holds no process (kept for a common interface)."""


# --------------------------------------------------------------------------- Chromium

def chromium_path() -> Optional[str]:
    """Return the Chromium binary to use (``$FNE_EVAL_CHROMIUM``, then PATH), or None."""
    env = os.environ.get("FNE_EVAL_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else shutil.which(env)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _child_setup(read_fd: int, write_fd: int):
    """Return the pre-exec function of the Chromium child: DevTools pipe on fds 3/4, die with us."""

    def setup():  # runs in the child between fork and exec: no allocation-heavy work
        os.dup2(read_fd, 3)
        os.dup2(write_fd, 4)
        if sys.platform.startswith("linux"):
            try:
                ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            except (OSError, AttributeError):
                pass

    return setup


class ChromiumEngine:
    """A long-lived headless Chromium printing HTML reports to PDF (DevTools protocol over a pipe).

    Parameters
    ----------
    binary : str, optional
        The Chromium executable (default :func:`chromium_path`).
    timeout : float
        Seconds allowed for one DevTools command (start, load, print).

    Raises
    ------
    PdfEngineError
        No Chromium found, or it did not answer.
    """

    name = "chromium"

    def __init__(self, binary: Optional[str] = None, timeout: float = 120.0):
        self.binary = binary or chromium_path()
        if not self.binary:
            raise PdfEngineError("le programme 'chromium' est introuvable dans le PATH "
                                 "(apt-get install chromium, ou --renderer weasyprint)")
        self.timeout = timeout
        self.proc = None
        self.reports = 0
        self._next_id = 0
        self._buffer = b""
        self._events = []
        self._lock = threading.Lock()
        self._start()

    # -- process
    def _start(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="fne-eval-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands, Chromium reads them on fd 3
        out_r, out_w = os.pipe()  # Chromium writes answers on fd 4, we read them
        # move the child's ends above 4 so that dup2 onto 3 and 4 cannot overwrite one another
        child_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
        child_w = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
        os.close(cmd_r)
        os.close(out_w)
        try:
            self.proc = subprocess.Popen(
                [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                close_fds=False, preexec_fn=_child_setup(child_r, child_w), start_new_session=True)
        except OSError as exc:
            for fd in (cmd_w, out_r):
                os.close(fd)
            raise PdfEngineError(f"chromium n'a pas pu démarrer : {exc}") from exc
        finally:
            os.close(child_r)
            os.close(child_w)
        self._wfd, self._rfd = cmd_w, out_r
        os.set_blocking(self._rfd, False)
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.send("Page.enable", session=True)
        except PdfEngineError:
            self.close()
            raise

    def alive(self) -> bool:
        """Return True while the Chromium process runs."""
        return self.proc is not None and self.proc.poll() is None

    # -- protocol
    def send(self, method: str, params: Optional[dict] = None, session: bool = False) -> dict:
        """Send one DevTools command and return its ``result`` (events that arrive meanwhile are kept).

        Raises
        ------
        PdfEngineError
            An error answer, Chromium gone, or no answer within ``timeout``.
        """
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._wfd, data):]
        except OSError as exc:
            raise PdfEngineError(f"chromium ne répond plus ({method} : {exc})") from exc
        answer = self._read_until(lambda m: m.get("id") == self._next_id, method)
        if "error" in answer:
            raise PdfEngineError(f"chromium : {method} : {answer['error'].get('message', answer['error'])}")
        return answer.get("result", {})

    def _read_until(self, match, what: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                msg = json.loads(raw)
                if match(msg):
                    return msg
                if "method" in msg:
                    self._events.append(msg)
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfEngineError(f"chromium : délai dépassé ({self.timeout:g} s) pour {what}")
            ready, _, _ = select.select([self._rfd], [], [], min(left, 1.0))
            if not ready:
                if not self.alive():
                    raise PdfEngineError(f"chromium s'est arrêté (code {self.proc.returncode}) pendant {what}")
                continue
            try:
                chunk = os.read(self._rfd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise PdfEngineError(f"chromium a fermé le canal DevTools pendant {what}")
            self._buffer += chunk

    def _wait_event(self, method: str) -> dict:
        for i, ev in enumerate(self._events):
            if ev.get("method") == method:
                return self._events.pop(i)
        return self._read_until(lambda m: m.get("method") == method, method)

    # -- printing
    def render(self, html: str, out: Union[str, Path], base_url: Optional[str] = None) -> Path:
        """Print ``html`` to a tagged A4 PDF at ``out`` (atomically); return ``out``.

        The HTML is written to a temporary file beside ``out`` (or in ``base_url``'s folder)
        and loaded from there, so relative links resolve as in the HTML report.
        """
        out = Path(out)
        with self._lock:
            if not self.alive():  # died (killed, crashed): start a new one for the next reports
                self.close()
                self._start()
            folder = Path(base_url) if base_url and Path(base_url).is_dir() else out.parent
            folder.mkdir(parents=True, exist_ok=True)
            fd, page = tempfile.mkstemp(prefix=".fne-print-", suffix=".html", dir=str(folder))
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(html)
                self._events.clear()
                nav = self.send("Page.navigate", {"url": Path(page).resolve().as_uri()}, session=True)
                if nav.get("errorText"):
                    raise PdfEngineError(f"chromium : chargement impossible ({nav['errorText']})")
                self._wait_event("Page.loadEventFired")
                self._evaluate(_NO_LIGATURES_JS)
                self.send("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)",
                                               "awaitPromise": True}, session=True)
                data = self._print()
                toc = self._evaluate(_TOC_TARGETS_JS)
                for _ in range(3):  # page numbers of the table of contents, until they are stable
                    if not toc:
                        break
                    pages = _toc_pages(data, toc)
                    if pages is None or not self._evaluate(_TOC_SET_JS % json.dumps(pages)):
                        break
                    data = self._print()
            finally:
                try:
                    os.unlink(page)
                except OSError:
                    pass
            self.reports += 1
            return atomic_write_bytes(out, data)

    def _print(self) -> bytes:
        result = self.send("Page.printToPDF", {
            "printBackground": True, "preferCSSPageSize": True,
            "paperWidth": A4_INCHES[0], "paperHeight": A4_INCHES[1],
            "displayHeaderFooter": False, "generateTaggedPDF": True,
            "generateDocumentOutline": True,
        }, session=True)
        return base64.b64decode(result["data"])

    def _evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise PdfEngineError(f"chromium : script en échec ({result['exceptionDetails'].get('text', '')})")
        return result.get("result", {}).get("value")

    def close(self) -> None:
        """Quit Chromium (politely, then by force) and remove its temporary profile."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.write(self._wfd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            except OSError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    proc.kill()
                proc.wait(timeout=5)
        if proc is not None:  # children of the browser left in its group (renderers, zygote)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        for name in ("_wfd", "_rfd"):
            fd = getattr(self, name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)
        self._buffer = b""
        if getattr(self, "profile", None):
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None


# Chromium maps a ligature glyph (« ﬀ » in « Chiffres ») to the one ligature character in the
# PDF's text, so a search or a text extraction for « Chiffres » fails; WeasyPrint's PDF gives
# the letters. Common ligatures are turned off for printing (the words then read as in the HTML).
_NO_LIGATURES_JS = """(() => { const st = document.createElement('style');
  st.textContent = '* { font-variant-ligatures: no-common-ligatures; }';
  document.head.appendChild(st); return true; })()"""

# Chromium lays out no ``target-counter()``: the page numbers of the table of contents are
# read from the outline of a first print (one entry per heading, in document order), written
# into the page, and the report is printed again.
_TOC_TARGETS_JS = """(() => Array.from(document.querySelectorAll('nav.fne-toc a[href^="#"]')).map(a => {
  const h = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
  return h ? h.textContent.replace(/\\s+/g, ' ').trim() : null;
}))()"""
_TOC_SET_JS = """((pages) => {
  const links = Array.from(document.querySelectorAll('nav.fne-toc a[href^="#"]'));
  let changed = false;
  if (!document.getElementById('fne-toc-pages')) {
    const st = document.createElement('style');
    st.id = 'fne-toc-pages';
    st.textContent = '.fne-toc a { display: flex; align-items: baseline; } '
      + '.fne-toc .fne-toc-leader { flex: 1; border-bottom: 1px dotted #888; margin: 0 0.3em; min-width: 1em; } '
      + '.fne-toc .fne-toc-page { color: #161616; }';
    document.head.appendChild(st);
  }
  links.forEach((a, i) => {
    if (pages[i] === null || pages[i] === undefined) return;
    let num = a.querySelector('.fne-toc-page');
    if (!num) {
      const lead = document.createElement('span');
      lead.className = 'fne-toc-leader';
      num = document.createElement('span');
      num.className = 'fne-toc-page';
      a.appendChild(lead);
      a.appendChild(num);
    }
    if (num.textContent !== String(pages[i])) { num.textContent = String(pages[i]); changed = true; }
  });
  return changed;
})(%s)"""


def _toc_pages(pdf: bytes, headings: list) -> Optional[list]:
    """Return the 1-based page of each heading of ``headings`` from the PDF outline (None if unreadable)."""
    try:
        import pypdf  # lazy: pypdf (~0.3 s), PDF post-processing only

        reader = pypdf.PdfReader(io.BytesIO(pdf))
        entries = []

        def walk(items):
            for item in items:
                if isinstance(item, list):
                    walk(item)
                else:
                    entries.append((_re.sub(r"\s+", " ", str(item.title)).strip(),
                                    reader.get_destination_page_number(item) + 1))

        walk(reader.outline)
    except Exception:  # noqa: BLE001 - no outline: the table of contents stays without numbers
        return None
    pages, start = [], 0
    for title in headings:
        found = None
        for k in range(start, len(entries)):
            if title is not None and entries[k][0] == title:
                found, start = entries[k][1], k + 1
                break
        pages.append(found)
    return pages


# --------------------------------------------------------------------------- one per process

_ENGINES: dict = {}


def get_engine(name: str = "weasyprint"):
    """Return this process's engine called ``name``, starting it on first use.

    Parameters
    ----------
    name : {'weasyprint', 'chromium'}

    Raises
    ------
    ValueError
        Unknown engine name.
    PdfEngineError
        The engine cannot start.
    """
    if name not in ENGINES:
        raise ValueError(f"moteur PDF inconnu {name!r} : attendu {' ou '.join(ENGINES)}")
    engine = _ENGINES.get(name)
    if engine is None:
        engine = WeasyPrintEngine() if name == "weasyprint" else ChromiumEngine()
        _ENGINES[name] = engine
    return engine


def close_engines() -> None:
    """Close every engine of this process (registered with :mod:`atexit`)."""
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        try:
            engine.close()
        except Exception:  # noqa: BLE001 - closing at exit must not raise
            pass


atexit.register(close_engines)
