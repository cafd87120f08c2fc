"""PDF engines side by side on the same rendered HTML reports (issue 14).

``python -m benchmarks.pdf_render OUT_DIR REPORT.html ...`` prints one JSON line. Each
engine prints every report ``rounds`` times, in the same process run, one after the other:

- ``weasyprint_per_report``: today's path as a report pays it when WeasyPrint starts for
  it: a new Python process that imports WeasyPrint and calls
  :func:`fne_eval.runner.render.render_pdf_weasyprint` (timed from the process start);
- ``weasyprint_in_process``: the same function called in a process that has already imported
  WeasyPrint (what a pool worker paid from its second report on: a new font configuration
  per report);
- ``weasyprint_warm``: :class:`fne_eval.runner.pdf_engines.WeasyPrintEngine`, one per process,
  font configuration reused;
- ``chromium_warm``: :class:`fne_eval.runner.pdf_engines.ChromiumEngine`, one headless
  Chromium kept running, ``Page.printToPDF`` over the DevTools pipe; its start is timed
  apart (``chromium_start_s``), once per worker.

Per engine: the median seconds per report and per page, the median CPU seconds per report of
the warm engines (Chromium: summed over all its processes), (each report's time divided by its
page count, then the median), the pages of each report, whether the PDF is tagged
(``/StructTreeRoot`` and ``/MarkInfo /Marked``), its ``/Lang``, and whether every page
carries « page X / Y » and, for synthetic data, « Données synthétiques ».
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENGINES = ("weasyprint_per_report", "weasyprint_in_process", "weasyprint_warm", "chromium_warm")
_PER_REPORT = ("import sys, time; t = time.perf_counter(); "
               "from fne_eval.runner.render import render_pdf_weasyprint; "
               "from pathlib import Path; "
               "render_pdf_weasyprint(Path(sys.argv[1]).read_text(encoding='utf-8'), sys.argv[2]); "
               "print(time.perf_counter() - t)")


def _tree_cpu(pid: int) -> float:
    """Return the user + system CPU seconds of a process and its descendants (psutil)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for p in [root] + root.children(recursive=True):
            try:
                ct = p.cpu_times()
                total += ct.user + ct.system + ct.children_user + ct.children_system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def check_pdf(path: Path, synthetic: bool) -> dict:
    """Return pages, tagging, language and footers of a PDF (pypdf)."""
    import pypdf

    reader = pypdf.PdfReader(str(path))
    root = reader.trailer["/Root"]
    n = len(reader.pages)
    texts = [p.extract_text() or "" for p in reader.pages]
    footers = all(re.search(rf"page\s*{i + 1}\s*/\s*{n}", t) for i, t in enumerate(texts))
    notice = all("Données synthétiques" in t for t in texts) if synthetic else None
    mark = root.get("/MarkInfo")
    return {"pages": n, "tagged": "/StructTreeRoot" in root and bool(mark and mark.get("/Marked")),
            "lang": str(root.get("/Lang")) if root.get("/Lang") is not None else None,
            "footer_every_page": footers, "synthetic_notice_every_page": notice}


def measure(out_dir: Path, reports: list, rounds: int = 3) -> dict:
    """Print every report with every engine ``rounds`` times; return the figures."""
    from fne_eval.runner.pdf_engines import ChromiumEngine, WeasyPrintEngine, chromium_path
    from fne_eval.runner.render import render_pdf_weasyprint

    out_dir.mkdir(parents=True, exist_ok=True)
    htmls = {Path(r).stem: Path(r).read_text(encoding="utf-8") for r in reports}
    times = {e: {name: [] for name in htmls} for e in ENGINES}
    cpu = {"weasyprint_warm": [], "chromium_warm": []}  # CPU seconds (Chromium: all its processes)
    res = {"rounds": rounds, "reports": list(htmls)}
    warm = WeasyPrintEngine()
    chromium = None
    if chromium_path():
        t = time.perf_counter()
        chromium = ChromiumEngine()
        res["chromium_start_s"] = round(time.perf_counter() - t, 3)
    try:
        for _ in range(rounds):
            for name, html in htmls.items():
                src = Path(reports[list(htmls).index(name)])
                t = time.perf_counter()
                p = subprocess.run([sys.executable, "-c", _PER_REPORT, str(src),
                                    str(out_dir / f"{name}.weasyprint_per_report.pdf")],
                                   capture_output=True, text=True, check=True)
                times["weasyprint_per_report"][name].append(time.perf_counter() - t)
                res.setdefault("weasyprint_per_report_inside_s", []).append(float(p.stdout.strip()))
                t = time.perf_counter()
                render_pdf_weasyprint(html, out_dir / f"{name}.weasyprint_in_process.pdf")
                times["weasyprint_in_process"][name].append(time.perf_counter() - t)
                c0 = time.process_time()
                t = time.perf_counter()
                warm.render(html, out_dir / f"{name}.weasyprint_warm.pdf")
                times["weasyprint_warm"][name].append(time.perf_counter() - t)
                cpu["weasyprint_warm"].append(time.process_time() - c0)
                if chromium is not None:
                    c0 = _tree_cpu(chromium.proc.pid) + time.process_time()
                    t = time.perf_counter()
                    chromium.render(html, out_dir / f"{name}.chromium_warm.pdf")
                    times["chromium_warm"][name].append(time.perf_counter() - t)
                    cpu["chromium_warm"].append(_tree_cpu(chromium.proc.pid) + time.process_time() - c0)
    finally:
        if chromium is not None:
            chromium.close()
    for engine in ENGINES:
        if not any(times[engine].values()):
            continue
        checks = {name: check_pdf(out_dir / f"{name}.{engine}.pdf", 'class="fne-banner"' in html)
                  for name, html in htmls.items()}
        per_report = [t for name in htmls for t in times[engine][name]]
        per_page = [t / checks[name]["pages"] for name in htmls for t in times[engine][name]]
        res[engine] = {
            "median_s_per_report": round(statistics.median(per_report), 3),
            "median_s_per_page": round(statistics.median(per_page), 4),
            "median_s_by_report": {n: round(statistics.median(v), 3) for n, v in times[engine].items()},
            "pdf": checks,
        }
        if cpu.get(engine):
            res[engine]["median_cpu_s_per_report"] = round(statistics.median(cpu[engine]), 3)
    return res


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rounds = 3
    if argv and argv[0].startswith("--rounds="):
        rounds = int(argv.pop(0).split("=", 1)[1])
    print(json.dumps(measure(Path(argv[0]), argv[1:], rounds), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
