"""Run the fne-eval benchmarks: ``python -m benchmarks --quick|--full [--json] [--only PART ...]``.

Parts (issue 5):

- ``batch``: the COPIL pack (``--quick``: 4 of its 27 entries): ``fne-eval run --to html,pdf
  --jobs 2`` (default renderer ``auto``, and ``--renderer weasyprint``) against the naive loop that runs,
  per entry, the ``papermill`` CLI, ``jupyter nbconvert --to html --no-input`` and the
  ``weasyprint`` CLI (``pack_speedup_vs_naive_loop``, issue 14); ``fne-eval run --to html``
  against the papermill commands of that loop alone (``batch_speedup_vs_papermill_loop``,
  issue 5); the median seconds per stage of the run's reports from its manifest
  (``pack_cells_median_s`` is the median of the cells' time), and where one report's
  time goes (``batch_breakdown_seconds``, with the figure drawing);
- ``compute``: ``report_compute_median_s`` (issue 9: the département's all-axes impact report
  opened to its last section, store and shared results warm, rendering excluded) and
  ``store_build_s`` (``benchmarks/report_compute.py``);
- ``eval``: the national evaluation, i.e. the indicator store (``build_store``) on a national
  bundle with a synthetic activity table of two sizes (``--quick``: 200 000 and 2 million
  records; ``--full``: 1 and 10 million): ``national_store_seconds_<size>``,
  ``national_store_cpu_seconds_<size>``, ``national_store_peak_gb_<size>`` (targets at 10 M:
  ≤ 60 s, ≤ 8 Go); then the older one-pass table, its growth and its speed against
  filtering the table once per territory;
- ``dask``: a light plan on the Dask executor (loopback local cluster) against the pool;
- ``memory``: the peak memory of a run of N and 10 × N light entries;
- ``national``: ``params/national-epci.yaml`` (one impact report per EPCI of a national bundle)
  on a local Dask cluster of 1 then 2 workers (``--quick``: 8 EPCI, ``--full``: 100):
  ``national_reports_per_minute``, ``dask_scaling_1_to_2_workers``;
- ``pdf``: the PDF engines side by side on the same 3 HTML reports (``params/exemple-petit.yaml``
  and the annual review): WeasyPrint started per report, WeasyPrint warm, Chromium warm
  (``benchmarks/pdf_render.py``); ``pdf_render_median_s`` is the median of the engine
  ``--renderer auto`` uses (warm WeasyPrint; Chromium is measured beside it).

Prints a table (figures in French format); with ``--json``, a JSON object whose keys
include ``batch_speedup_vs_papermill_loop``, ``eval_seconds_<size>``, ``eval_peak_gb``,
``eval_linearity_ratio``, ``eval_speedup_vs_per_territory_loop``,
``dask_local_vs_pool_ratio``, each with the sizes used.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARTS = ("batch", "compute", "pdf", "eval", "dask", "memory", "national")
QUICK_BATCH_IDS = ["impact-13-axe-all", "impact-200054807-axe-all", "budget", "revue-annuelle"]
SIZES = {
    "quick": {"eval": (200_000, 2_000_000), "dask_entries": 8, "memory": (10, 40), "loop_sample": 8,
              "national_entries": 8, "compute_rounds": 5},
    "full": {"eval": (1_000_000, 10_000_000), "dask_entries": 40, "memory": (100, 1000), "loop_sample": 20,
             "national_entries": 100, "compute_rounds": 9},
    # tiny sizes for tests/test_benchmarks_smoke.py: checks the machinery, measures nothing
    "smoke": {"eval": (2_000, 20_000), "dask_entries": 2, "memory": (1, 2), "loop_sample": 4,
              "national_entries": 1, "compute_rounds": 1},
}
SMOKE_BATCH_IDS = ["budget"]
#: Synthetic records of the national bundle used by the light plans (dask, memory).
LIGHT_BUNDLE_ROWS = 20_000
#: Set to 1 to prebuild the national store with the primary suppression only (no secondary
#: suppression's linear programmes): the reports then read a store whose statuses differ from the
#: published pack's, at about the same cost; a way to measure the runner and the reports while
#: building the national store takes too long (said in the figures: ``national_store_primary_only``).
NATIONAL_PRIMARY_ONLY_ENV = "FNE_EVAL_BENCH_NATIONAL_PRIMARY_ONLY"


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def fr(x, digits: int = 1) -> str:
    """Return a number in French format (1 234,5)."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "oui" if x else "non"
    if isinstance(x, int):
        return f"{x:,}".replace(",", "\u202f")
    return f"{x:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- parts


def part_batch(mode: str, work: Path) -> dict:
    from benchmarks.batch import (REPO, breakdown, chart_counts, fne_eval_run, naive_loop, plan_entries,
                                  stage_medians)

    plan = REPO / "params" / "copil-2025.yaml"
    entries = plan_entries(plan)
    if mode != "full":
        keep = QUICK_BATCH_IDS if mode == "quick" else SMOKE_BATCH_IDS
        entries = [e for e in entries if e["id"] in keep]
    ids = [e["id"] for e in entries]
    load_before = _uptime()
    log(f"batch : boucle naïve papermill + nbconvert + weasyprint sur {len(ids)} entrées (cache désactivé)")
    loop = naive_loop(entries, work / "loop", cache="off")
    log(f"batch : fne-eval run --to html ({len(ids)} entrées)")
    run_html = fne_eval_run(plan, ids, work / "run-html", formats="html")
    log("batch : fne-eval run --to html,pdf (moteur par défaut : auto)")
    run_pdf = fne_eval_run(plan, ids, work / "run-pdf", formats="html,pdf")
    smoke = mode == "smoke"
    run_weasy = None
    if not smoke:
        log("batch : fne-eval run --to html,pdf --renderer weasyprint")
        run_weasy = fne_eval_run(plan, ids, work / "run-pdf-weasyprint", formats="html,pdf",
                                 extra=("--renderer", "weasyprint"))
    log("batch : décomposition d'un rapport (impact, département)")
    parts = {}
    if mode == "full":  # a fresh kernel per stage: minutes on the shared machine, so --full only
        try:
            parts = breakdown("impact")
        except Exception as exc:  # noqa: BLE001 - the other figures stand without it
            parts = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    load_after = _uptime()
    n_ok = sum(1 for e in run_html["entries"].values() if e["status"] == "ok")
    medians = stage_medians(run_pdf)
    res = {
        "batch_entries": len(ids), "batch_plan": "copil-2025" + (" (extrait)" if mode == "quick" else ""),
        "batch_entry_ids": ids, "batch_uptime_before": load_before, "batch_uptime_after": load_after,
        "naive_loop_seconds": loop["seconds"], "naive_loop_cpu_seconds": loop["cpu_seconds"],
        "naive_loop_failed": loop["failed"],
        "naive_loop_split_seconds": {"papermill": loop["papermill_seconds"], "nbconvert": loop["nbconvert_seconds"],
                                     "weasyprint": loop["weasyprint_seconds"]},
        "batch_papermill_loop_seconds": loop["papermill_seconds"],
        "batch_run_html_seconds": run_html["seconds"], "batch_run_html_ok": n_ok,
        "batch_run_html_pdf_seconds": run_pdf["seconds"],
        "batch_run_html_cpu_seconds": run_html["cpu_seconds"],
        "batch_run_html_pdf_cpu_seconds": run_pdf["cpu_seconds"],
        "batch_speedup_vs_papermill_loop": round(loop["papermill_seconds"] / run_html["seconds"], 2),
        "pack_speedup_vs_naive_loop": round(loop["seconds"] / run_pdf["seconds"], 2),
        "pack_cpu_ratio_vs_naive_loop": round(loop["cpu_seconds"] / run_pdf["cpu_seconds"], 2),
        "pack_renderer": run_pdf.get("renderer"),
        "pack_cells_median_s": medians.get("cells"),
        "pack_stage_medians_s": medians,
        "pack_charts": chart_counts(run_pdf),
        "batch_per_entry_loop_seconds": loop["per_entry"],
        "batch_per_entry_run_seconds": {k: v["duration_s"] for k, v in run_pdf["entries"].items()},
        "batch_breakdown_seconds": parts,
        "batch_run_stderr": run_pdf["stderr_tail"] or run_html["stderr_tail"],
    }
    if run_weasy is not None:
        res.update({
            "batch_run_html_pdf_weasyprint_seconds": run_weasy["seconds"],
            "batch_run_html_pdf_weasyprint_cpu_seconds": run_weasy["cpu_seconds"],
            "pack_speedup_vs_naive_loop_weasyprint": round(loop["seconds"] / run_weasy["seconds"], 2),
            "pack_stage_medians_weasyprint_s": stage_medians(run_weasy),
        })
    return res


def part_compute(mode: str, work: Path) -> dict:
    """One report's compute once the run's caches are warm, and the store's build (``benchmarks/report_compute.py``)."""
    from benchmarks.batch import REPO

    rounds = SIZES[mode]["compute_rounds"]
    log(f"compute : rapport d'impact du département (tous axes), {rounds} tour(s), caches chauds")
    out = subprocess.run([sys.executable, "-m", "benchmarks.report_compute", f"--rounds={rounds}"],
                         capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"compute : {out.stderr[-800:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["report_compute_uptime"] = _uptime()
    return res


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def part_national(mode: str, work: Path) -> dict:
    """The national plan (one impact report per EPCI) on a local Dask cluster of 1, then 2 workers.

    The bundle is parsed and its store built first, into the cache both runs share
    (``national_store_build_s``; read back, not built, when a former measure with the same
    ``--work`` left it there); each run's driver then reads the store from that cache and
    ships it to its workers (``RunContext.store_files``): no report builds it.
    """
    import os
    import shutil
    import statistics

    from benchmarks.batch import REPO, fne_eval_run, stage_medians
    from benchmarks.runs import build_bundle, prebuild_store

    n = SIZES[mode]["national_entries"]
    bundle = build_bundle(work.parent / "national-bundle", LIGHT_BUNDLE_ROWS)
    plan = REPO / "params" / "national-epci.yaml"
    runs, loads = {}, {}
    primary_only = os.environ.get(NATIONAL_PRIMARY_ONLY_ENV, "").strip() == "1"
    # beside the bundle: a second measure with the same --work reads the store back instead of building it
    cache = str(work.parent / "national-cache")
    log("national : bundle national lu et magasin d'indicateurs construit (cache partagé par les deux lancements)")
    try:
        store = prebuild_store(bundle, cache, primary_only=primary_only)
    except RuntimeError as exc:  # the runs still say what each report gets (their drivers try again)
        log(f"national : {exc}")
        store = {"seconds": None, "cpu_seconds": None, "rows": None, "file_mb": None, "peak_gb": None,
                 "error": str(exc)[-400:]}
    for workers in (1, 2):
        # each run starts from a copy of that cache: the results its reports share (diskcache.shared) are
        # computed by its own first reports, not read back from the other run's
        run_cache = work / f"cache-{workers}"
        shutil.rmtree(run_cache, ignore_errors=True)
        shutil.copytree(cache, run_cache)
        shutil.rmtree(run_cache / "shared", ignore_errors=True)  # left by a former measure in the same --work
        log(f"national : {n} rapports d'EPCI, Dask local, {workers} travailleur(s)")
        loads[workers] = _uptime()
        runs[workers] = fne_eval_run(plan, [], work / f"out-{workers}", formats="html", jobs=workers,
                                     executor="dask", cache=str(run_cache),
                                     extra=("--bundle", str(bundle), "--limit", str(n)))
    one, two = runs[1], runs[2]
    ok = sum(1 for e in two["entries"].values() if e["status"] == "ok")
    ok_one = sum(1 for e in one["entries"].values() if e["status"] == "ok")
    durations = [e["duration_s"] for e in two["entries"].values() if e["status"] == "ok"]
    durations_one = [e["duration_s"] for e in one["entries"].values() if e["status"] == "ok"]
    return {
        "national_entries": n, "national_bundle_rows": LIGHT_BUNDLE_ROWS, "national_ok": ok,
        "national_store_primary_only": primary_only,
        "national_ok_1_worker": ok_one,
        "national_first_error": next((e["error"] for r in (one, two) for e in r["entries"].values()
                                      if e.get("error")), None),
        "national_store_build_s": store["seconds"], "national_store_build_cpu_s": store["cpu_seconds"],
        "national_store_rows": store["rows"], "national_store_file_mb": store["file_mb"],
        "national_store_build_peak_gb": store["peak_gb"], "national_store_error": store.get("error"),
        "national_seconds_1_worker": one["seconds"], "national_seconds_2_workers": two["seconds"],
        # CPU summed over the process tree: when it is the same for 1 and 2 workers but the wall time is
        # not halved, the second worker found no free core (the machine is shared), not a Dask limit
        "national_cpu_seconds_1_worker": one["cpu_seconds"], "national_cpu_seconds_2_workers": two["cpu_seconds"],
        "national_cpu_seconds_per_report": round(two["cpu_seconds"] / ok, 2) if ok else None,
        "national_cpu_seconds_per_report_1_worker": round(one["cpu_seconds"] / ok_one, 2) if ok_one else None,
        "national_cpu_share_1_worker": round(one["cpu_seconds"] / one["seconds"], 2) if one["seconds"] else None,
        "national_cpu_share_2_workers": round(two["cpu_seconds"] / two["seconds"], 2) if two["seconds"] else None,
        "national_reports_per_minute": round(60 * ok / two["seconds"], 2) if two["seconds"] else None,
        "national_reports_per_minute_1_worker": round(60 * ok_one / one["seconds"], 2) if one["seconds"] else None,
        "dask_scaling_1_to_2_workers": round(one["seconds"] / two["seconds"], 2),
        "national_report_median_s": round(statistics.median(durations), 2) if durations else None,
        "national_report_median_s_1_worker": round(statistics.median(durations_one), 2) if durations_one else None,
        "national_stage_medians_s": stage_medians(two),
        "national_stage_medians_1_worker_s": stage_medians(one),
        "national_uptime_before_1_worker": loads[1], "national_uptime_before_2_workers": loads[2],
        "national_uptime": _uptime(),
        "national_stderr": two["stderr_tail"] or one["stderr_tail"],
    }


def part_pdf(mode: str, work: Path) -> dict:
    from benchmarks.batch import REPO, fne_eval_run

    work.mkdir(parents=True, exist_ok=True)
    cache = tempfile.mkdtemp(prefix="fne-eval-cache-")
    log("pdf : rapports HTML de params/exemple-petit.yaml et de la revue annuelle")
    runs = [fne_eval_run(REPO / "params" / "exemple-petit.yaml", [], work / "html", formats="html", cache=cache),
            fne_eval_run(REPO / "params" / "copil-2025.yaml", ["revue-annuelle"], work / "html", formats="html",
                         cache=cache)]
    htmls = sorted(str(p) for p in (work / "html").glob("*/html/*.html"))
    if any(r["exit_code"] != 0 for r in runs) or len(htmls) != 3:
        raise RuntimeError(f"pdf : rapports HTML manquants ({htmls}) {[r['stderr_tail'] for r in runs]}")
    rounds = 1 if mode == "smoke" else 3 if mode == "quick" else 5
    log(f"pdf : 3 rapports × {rounds} tours, moteurs côte à côte")
    out = subprocess.run([sys.executable, "-m", "benchmarks.pdf_render", f"--rounds={rounds}", str(work / "pdf"),
                          *htmls], capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"pdf : {out.stderr[-800:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    keys = {"weasyprint_per_report": "per_report", "weasyprint_in_process": "in_process",
            "weasyprint_warm": "weasyprint_warm", "chromium_warm": "chromium_warm"}
    figures = {"pdf_reports": res["reports"], "pdf_rounds": rounds,
               "pdf_uptime": load, "pdf_chromium_start_s": res.get("chromium_start_s")}
    for engine, short in keys.items():
        if engine in res:
            figures[f"pdf_{short}_median_s"] = res[engine]["median_s_per_report"]
            figures[f"pdf_{short}_median_s_per_page"] = res[engine]["median_s_per_page"]
            figures[f"pdf_{short}_pages"] = {k: v["pages"] for k, v in res[engine]["pdf"].items()}
            if "median_cpu_s_per_report" in res[engine]:
                figures[f"pdf_{short}_median_cpu_s"] = res[engine]["median_cpu_s_per_report"]
            figures[f"pdf_{short}_checks_ok"] = all(
                v["tagged"] and v["lang"] == "fr" and v["footer_every_page"]
                and v["synthetic_notice_every_page"] in (True, None) for v in res[engine]["pdf"].values())
    # the engine --renderer auto uses: warm WeasyPrint (Chromium is opt-in, measured beside it)
    default = "weasyprint_warm"
    figures["pdf_render_engine"] = default
    figures["pdf_render_median_s"] = figures.get(f"pdf_{default}_median_s")
    figures["pdf_render_median_s_per_page"] = figures.get(f"pdf_{default}_median_s_per_page")
    if figures.get("pdf_chromium_warm_median_s"):
        figures["pdf_chromium_speedup_vs_weasyprint_warm"] = round(
            figures["pdf_weasyprint_warm_median_s"] / figures["pdf_chromium_warm_median_s"], 2)
    return figures


def part_eval(mode: str, work: Path) -> dict:
    small, large = SIZES[mode]["eval"]
    res = {}
    for n in (small, large):
        log(f"eval : {fr(n)} accompagnements synthétiques (sous-processus)")
        out = subprocess.run([sys.executable, "-m", "benchmarks.eval_national", str(n),
                              str(SIZES[mode]["loop_sample"])], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[1])
        if out.returncode != 0:
            raise RuntimeError(f"eval {n}: {out.stderr[-800:]}")
        res[n] = json.loads(out.stdout.strip().splitlines()[-1])
    big = res[large]
    label = _size_label(large)
    return {
        f"eval_seconds_{label}": big["eval_seconds"], "eval_rows": large, "eval_rows_small": small,
        "eval_seconds_small": res[small]["eval_seconds"],
        "eval_peak_gb": big["peak_gb"], "eval_peak_gb_after_generation": big["peak_gb_after_build"],
        "eval_generation_seconds": big["build_seconds"],
        "eval_linearity_ratio": round(big["eval_seconds"] / res[small]["eval_seconds"], 2),
        "eval_record_pass_seconds": [res[small]["reduce_seconds"], big["reduce_seconds"]],
        "eval_linearity_rows_ratio": large // small,
        "eval_speedup_vs_per_territory_loop": big["speedup_vs_per_territory_loop"],
        "eval_per_territory_loop_sample": big["loop_sample"],
        "eval_per_territory_loop_seconds_extrapolated": big["loop_seconds_extrapolated"],
        "eval_territories": big["n_territories"], "eval_result_rows": big["n_result_rows"],
        "eval_loop_agrees": big["loop_agrees"] and res[small]["loop_agrees"],
        # the national evaluation proper: the indicator store on the national bundle (issue 9)
        **{f"national_store_{k}_{_size_label(n)}": res[n][f"store_{src}"]
           for n in (small, large) for k, src in (("seconds", "seconds"), ("cpu_seconds", "cpu_seconds"),
                                                  ("peak_gb", "peak_gb"), ("rows", "rows"))},
        "national_store_uptime": _uptime(),
    }


def _light(work: Path):
    from benchmarks.runs import build_bundle, write_light_plan

    bundle = build_bundle(work.parent / "national-bundle", LIGHT_BUNDLE_ROWS)
    return write_light_plan(work / "light"), bundle


def part_dask(mode: str, work: Path) -> dict:
    from benchmarks.runs import timed_run

    plan, bundle = _light(work)
    n = SIZES[mode]["dask_entries"]
    log(f"dask : plan léger, {n} entrées, pool local puis Dask (cluster local sur 127.0.0.1)")
    pool = timed_run(plan, bundle, work / "out-pool", n, executor="local")
    dask = timed_run(plan, bundle, work / "out-dask", n, executor="dask")
    return {
        "dask_entries": n, "dask_workers": 2,
        "dask_pool_seconds": pool["seconds"], "dask_seconds": dask["seconds"],
        "dask_local_vs_pool_ratio": round(dask["seconds"] / pool["seconds"], 2),
        "dask_ok": dask["ok"], "dask_failed": dask["failed"], "pool_ok": pool["ok"],
        "dask_stderr": dask["stderr_tail"] or pool["stderr_tail"],
    }


def part_memory(mode: str, work: Path) -> dict:
    from benchmarks.runs import timed_run

    plan, bundle = _light(work)
    out = {}
    for n in SIZES[mode]["memory"]:
        log(f"mémoire : plan léger, {n} entrées")
        r = timed_run(plan, bundle, work / f"out-mem-{n}", n, executor="local")
        out[n] = r
    a, b = SIZES[mode]["memory"]
    return {
        "memory_entries": [a, b],
        "memory_peak_tree_gb": [out[a]["peak_tree_gb"], out[b]["peak_tree_gb"]],
        "memory_peak_driver_gb": [out[a]["peak_driver_gb"], out[b]["peak_driver_gb"]],
        "memory_seconds": [out[a]["seconds"], out[b]["seconds"]],
        "memory_ok": [out[a]["ok"], out[b]["ok"]],
        "memory_growth_ratio": round(out[b]["peak_tree_gb"] / out[a]["peak_tree_gb"], 2)
        if out[a]["peak_tree_gb"] else None,
    }


# --------------------------------------------------------------------------- output
ROWS = [
    ("pack_speedup_vs_naive_loop", "Gain fne-eval run --to html,pdf / boucle naïve avec PDF (cible ≥ 6)", 2),
    ("pack_speedup_vs_naive_loop_weasyprint", "Même gain, --renderer weasyprint", 2),
    ("pack_cpu_ratio_vs_naive_loop", "Temps CPU boucle naïve / fne-eval run --to html,pdf", 2),
    ("report_compute_median_s", "Calcul d'un rapport d'impact (13, tous axes), caches chauds, médiane (s, cible ≤ 0,5)", 2),
    ("report_compute_cpu_median_s", "Même calcul, temps CPU médian (s)", 2),
    ("report_compute_cold_s", "Même rapport, premier du lancement (s)", 2),
    ("store_build_s", "Construction du magasin d'indicateurs, bundle embarqué (s)", 1),
    ("pack_cells_median_s", "Cellules d'un rapport dans fne-eval run, médiane (s)", 2),
    ("batch_speedup_vs_papermill_loop", "Gain fne-eval run --to html / boucle papermill (cible ≥ 3)", 2),
    ("naive_loop_seconds", "Boucle naïve papermill + nbconvert + weasyprint (s)", 1),
    ("batch_papermill_loop_seconds", "Boucle papermill (s)", 1),
    ("batch_run_html_seconds", "fne-eval run --to html (s)", 1),
    ("batch_run_html_pdf_seconds", "fne-eval run --to html,pdf (s)", 1),
    ("batch_run_html_pdf_weasyprint_seconds", "fne-eval run --to html,pdf --renderer weasyprint (s)", 1),
    ("national_reports_per_minute", "Plan national (EPCI), Dask 2 travailleurs : rapports par minute", 1),
    ("dask_scaling_1_to_2_workers", "Durée Dask 1 travailleur / 2 travailleurs (cible ≥ 1,7)", 2),
    ("national_report_median_s", "Plan national : durée médiane d'un rapport (s)", 1),
    ("pdf_render_median_s", "PDF, moteur par défaut (auto : WeasyPrint chaud), s par rapport", 2),
    ("pdf_per_report_median_s", "PDF, WeasyPrint démarré pour chaque rapport, s par rapport", 2),
    ("pdf_weasyprint_warm_median_s", "PDF, WeasyPrint chaud, s par rapport", 2),
    ("pdf_chromium_warm_median_s", "PDF, Chromium chaud, s par rapport", 2),
    ("pdf_chromium_warm_median_s_per_page", "PDF, Chromium chaud, s par page", 3),
    ("pdf_weasyprint_warm_median_s_per_page", "PDF, WeasyPrint chaud, s par page", 3),
    ("pdf_chromium_speedup_vs_weasyprint_warm", "Gain Chromium chaud / WeasyPrint chaud", 2),
    ("national_store_seconds_10m", "Magasin d'indicateurs national, 10 M lignes (s, cible ≤ 60)", 1),
    ("national_store_cpu_seconds_10m", "Magasin d'indicateurs national, 10 M lignes (s CPU)", 1),
    ("national_store_peak_gb_10m", "Magasin national, 10 M lignes : mémoire maximale (Go, cible ≤ 8)", 2),
    ("national_store_seconds_2m", "Magasin d'indicateurs national, 2 M lignes (s)", 1),
    ("national_store_peak_gb_2m", "Magasin national, 2 M lignes : mémoire maximale (Go)", 2),
    ("eval_seconds_10m", "Évaluation nationale, 10 M lignes (s, cible ≤ 60)", 1),
    ("eval_seconds_2m", "Évaluation nationale, 2 M lignes (s)", 1),
    ("eval_peak_gb", "Mémoire maximale du processus d'évaluation (Go, cible ≤ 8)", 2),
    ("eval_linearity_ratio", "Coût grand / petit volume (cible ≤ 1,2 × rapport des tailles)", 2),
    ("eval_speedup_vs_per_territory_loop", "Gain / filtrage par territoire (cible ≥ 20)", 0),
    ("eval_generation_seconds", "Génération du bundle national (s, hors évaluation)", 1),
    ("dask_local_vs_pool_ratio", "Durée Dask local / pool local (plan léger)", 2),
    ("memory_growth_ratio", "Mémoire max. N × 10 / N entrées", 2),
]


def print_table(res: dict) -> None:
    print("Benchmarks fne-eval")
    print(f"  machine : {res['machine']}, mode {res['mode']}")
    for key, label, digits in ROWS:
        if res.get(key) is not None:
            v = res[key]
            print(f"  {label:<72} {fr(v, digits) if isinstance(v, (int, float)) else v}")
    for key in ("pack_stage_medians_s", "pack_stage_medians_weasyprint_s", "national_stage_medians_s",
                "report_compute_sections_median_s"):
        if res.get(key):
            print(f"  Médianes par étape, {key} (s) : " + ", ".join(f"{k} {fr(v, 2)}" for k, v in res[key].items()))
    if "batch_breakdown_seconds" in res:
        print("  Décomposition d'un rapport d'impact (s) :")
        for k, v in res["batch_breakdown_seconds"].items():
            print(f"    {k:<28} {fr(v, 2) if isinstance(v, (int, float)) else v}")
    if "memory_entries" in res:
        print(f"  Mémoire max. (Go) pour {res['memory_entries']} entrées : {res['memory_peak_tree_gb']} "
              f"(processus principal seul : {res['memory_peak_driver_gb']})")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="Benchmarks de fne-eval (issue 5).")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="petites tailles, quelques minutes (défaut)")
    g.add_argument("--full", action="store_true", help="tailles de la cible (10 M lignes, pack COPIL complet)")
    g.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests only
    p.add_argument("--json", action="store_true", help="imprime les chiffres en JSON")
    p.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parties à lancer")
    p.add_argument("--work", default=None, help="dossier de travail (défaut : dossier temporaire)")
    args = p.parse_args(argv)
    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    import os

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="fne-eval-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    res = {"mode": mode, "machine": f"{os.cpu_count()} cœurs, Python {platform.python_version()}",
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "work_dir": str(work)}
    t0 = time.perf_counter()
    for part in PARTS:
        if part in args.only:
            res.update(globals()[f"part_{part}"](mode, work / part))
    res["total_seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
