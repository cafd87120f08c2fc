"""What one report computes once the run's caches are warm (issue 9, issue 14).

``python -m benchmarks.report_compute [--rounds N] [--territory 13] [--axis all]`` prints one
JSON line. In this process (with the modules a report kernel's template has imported), on the
embedded bundle and an empty private cache folder:

1. ``store_build_s``: :func:`fne_eval.store.build.build_store` for the evaluated year, alone
   (no cache), what ``fne-eval run`` does once in its driver before the workers start;
2. ``report_compute_cold_s``: the impact report (``open_report`` to its last section, what the
   notebook's cells run; HTML and PDF excluded) with the store in the cache folder but nothing
   else: its quantities computed and its charts drawn — what the first report of a run pays;
3. ``report_compute_median_s``: the same report ``rounds`` more times, each as a new kernel
   sees it: the in-memory memos are emptied (bundle, store, shared results), so the bundle,
   the store and the shared results (:func:`fne_eval.bundle.diskcache.shared`) are read back
   from the cache folder and the charts from the run's figure cache — what every other report
   of the territory pays in a run; ``report_compute_charts_drawn_median_s``: the same with the
   figure cache off (charts drawn every time: the first report of each territory).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

SECTIONS = ("context", "offer", "activity", "results", "impact_estimate")


def _clear_memory() -> None:
    """Forget what this process keeps in memory, as a new report kernel would not have it."""
    from fne_eval.bundle import diskcache
    from fne_eval.bundle import load as bundle_load
    from fne_eval.store import cache as store_cache

    from fne_eval.core import territory

    diskcache.clear_shared_memory()
    territory._MEMBERSHIP_CACHE.clear()  # a new kernel starts without the hierarchy's memos
    territory._PREPARED_CACHE.clear()
    store_cache.STORE_MEMO.clear()
    bundle_load._load_cached.cache_clear()


def _one(territory: str, axis: str, year: int) -> dict:
    from fne_eval.report import open_report, sections

    c0 = time.process_time()
    t0 = time.perf_counter()
    ctx = open_report("", territory, axis, year, 5, report="impact")
    out = {"open_report": time.perf_counter() - t0}
    for name in SECTIONS:
        t = time.perf_counter()
        getattr(sections, name)(ctx)
        out[name] = time.perf_counter() - t
    out["total"] = time.perf_counter() - t0
    out["cpu"] = time.process_time() - c0
    return out


def measure(rounds: int = 5, territory: str = "13", axis: str = "all", year: int = 2025) -> dict:
    """Return the figures described in the module docstring."""
    work = tempfile.mkdtemp(prefix="fne-eval-compute-")
    os.environ["FNE_EVAL_CACHE_DIR"] = os.path.join(work, "cache")
    os.environ["FNE_EVAL_FIGURE_CACHE"] = os.path.join(work, "figures")
    os.environ["FNE_EVAL_SHARED"] = "on"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in a run's kernels
    os.makedirs(os.environ["FNE_EVAL_FIGURE_CACHE"], exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    t = time.perf_counter()
    import fne_eval.report.sections  # noqa: F401 - what the kernel template imports
    from fne_eval.bundle import diskcache, load_bundle
    from fne_eval.report import theme
    from fne_eval.store import as_of_for, get_store
    from fne_eval.store.build import build_store

    theme.apply_theme()
    imports = time.perf_counter() - t
    bundle = load_bundle(None)
    as_of = as_of_for(bundle, year)
    t = time.perf_counter()
    build_store(bundle, as_of, 5)
    store_build = time.perf_counter() - t
    get_store(bundle, as_of, 5)  # into the cache folder, as the run's driver does
    _clear_memory()
    cold = _one(territory, axis, year)
    computed = diskcache.SHARED_STATS["computed"]
    warm = []
    for _ in range(rounds):
        _clear_memory()
        warm.append(_one(territory, axis, year))
    hits = diskcache.SHARED_STATS["disk_hits"]
    os.environ["FNE_EVAL_FIGURE_CACHE"] = "off"
    drawn = []
    for _ in range(max(1, rounds // 2)):
        _clear_memory()
        drawn.append(_one(territory, axis, year)["total"])

    def med(key):
        return round(statistics.median(r[key] for r in warm), 3)

    return {
        "report_compute_report": f"impact, territoire {territory}, axe {axis}, {year}",
        "report_compute_rounds": rounds,
        "store_build_s": round(store_build, 2),
        "report_compute_cold_s": round(cold["total"], 2),
        "report_compute_cold_sections_s": {k: round(v, 2) for k, v in cold.items() if k not in ("total", "cpu")},
        "report_compute_median_s": med("total"),
        "report_compute_cpu_median_s": med("cpu"),
        "report_compute_sections_median_s": {k: med(k) for k in ("open_report",) + SECTIONS},
        "report_compute_charts_drawn_median_s": round(statistics.median(drawn), 3),
        "report_compute_shared_results": {"computed_first_report": computed, "read_back": hits},
        "report_compute_imports_s": round(imports, 2),
    }


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.report_compute")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--territory", default="13")
    p.add_argument("--axis", default="all")
    p.add_argument("--year", type=int, default=2025)
    a = p.parse_args(argv)
    print(json.dumps(measure(a.rounds, a.territory, a.axis, a.year), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
