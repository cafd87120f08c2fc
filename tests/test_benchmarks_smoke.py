"""Smoke test of the benchmarks (``python -m benchmarks``): the machinery runs, nothing is measured.

The figures themselves come from ``python -m benchmarks --quick --json`` (minutes), kept out
of the test suite; here the national evaluation part runs on tiny sizes in a subprocess.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_french_number_format_and_size_labels():
    from benchmarks.__main__ import _size_label, fr

    assert fr(1234567) == "1\u202f234\u202f567"
    assert fr(12.345, 2) == "12,35" or fr(12.345, 2) == "12,34"  # binary rounding of 12.345
    assert fr(3.0) == "3,0"
    assert _size_label(10_000_000) == "10m" and _size_label(200_000) == "200k"


def test_unknown_part_is_refused():
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nope"], capture_output=True,
                         text=True, cwd=REPO)
    assert out.returncode == 2 and "nope" in out.stderr


@pytest.mark.slow
def test_quick_machinery_runs_on_tiny_sizes(tmp_path):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--only", "eval", "--json",
                          "--work", str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout)
    for key in ("eval_seconds_20k", "eval_peak_gb", "eval_linearity_ratio", "eval_speedup_vs_per_territory_loop",
                "national_store_seconds_20k", "national_store_peak_gb_20k", "national_store_seconds_2k"):
        assert isinstance(res[key], (int, float)) and res[key] > 0, key
    assert res["eval_rows"] == 20_000 and res["eval_rows_small"] == 2_000
    assert res["eval_loop_agrees"] is True  # the per-territory loop finds the one pass's figures


def test_pdf_engines_benchmark_machinery(tmp_path):
    """``benchmarks.pdf_render`` prints each engine's medians and checks on two tiny reports (measures nothing)."""
    style = ('<style>@page { size: A4; @bottom-right { content: "page " counter(page) " / " counter(pages); } '
             '@bottom-left { content: "Données synthétiques"; } }</style>')
    pages = []
    for name, n in (("un", 1), ("deux", 2)):
        page_break = " style='break-before: page'"
        body = "".join(f'<h2{page_break if i else ""}>Partie {i}</h2><p>Texte.</p>' for i in range(n))
        path = tmp_path / f"{name}.html"
        path.write_text(f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{name}</title>{style}'
                        f'</head><body><div class="fne-banner">Données synthétiques.</div>{body}</body></html>',
                        encoding="utf-8")
        pages.append(str(path))
    out = subprocess.run([sys.executable, "-m", "benchmarks.pdf_render", "--rounds=1", str(tmp_path / "pdf"), *pages],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout)
    engines = ["weasyprint_per_report", "weasyprint_in_process", "weasyprint_warm"]
    if "chromium_start_s" in res:
        engines.append("chromium_warm")
    for engine in engines:
        r = res[engine]
        assert r["median_s_per_report"] > 0 and r["median_s_per_page"] > 0
        # the first report has one page, the second two (a forced page break)
        assert {k: v["pages"] for k, v in r["pdf"].items()} == {"un": 1, "deux": 2}
        for check in r["pdf"].values():
            assert check["tagged"] and check["lang"] == "fr"
            assert check["footer_every_page"] and check["synthetic_notice_every_page"]
