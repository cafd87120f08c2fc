"""National evaluation benchmark: the indicator store on N synthetic records, one pass vs a per-territory loop.

The national evaluation is :func:`fne_eval.store.build.build_store` on the national bundle
(issue 9): its wall and CPU seconds and the process' peak memory after it are measured
first (``store_*``), then the older one-pass table and the per-territory loop.

Run as a subprocess (``python -m benchmarks.eval_national N``) so that its peak memory
(``ru_maxrss``) is its own; prints one JSON object.
"""
from __future__ import annotations

import json
import resource
import sys
import time


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def measure(n: int, loop_sample: int = 12, seed: int = 20241) -> dict:
    """Generate ``n`` records on the national bundle, evaluate every level, time a per-territory loop.

    The per-territory loop (:func:`fne_eval.evaluate.national.evaluate_per_territory`) is timed on
    ``loop_sample`` territories spread over the levels and extrapolated to all of them:
    running it for the 37 000 territories would take hours.
    """
    import numpy as np

    from fne_eval.evaluate.national import evaluate_all_levels, evaluate_per_territory, national_tables

    t0 = time.perf_counter()
    tables, _meta = national_tables(n, seed=seed, compact=True)
    t_build = time.perf_counter() - t0
    rss_build = _rss_gb()
    from fne_eval.bundle.io import Bundle
    from fne_eval.store.build import build_store

    bundle = Bundle(tables=tables, meta=_meta, source="national (en mémoire)", hash="")
    t0, c0 = time.perf_counter(), time.process_time()
    store = build_store(bundle, "2025-12-31")
    t_store, c_store = time.perf_counter() - t0, time.process_time() - c0
    rss_store = _rss_gb()
    n_store = int(len(store))
    del store
    t0 = time.perf_counter()
    res = evaluate_all_levels(tables)
    t_eval = time.perf_counter() - t0
    rss_eval = _rss_gb()
    from fne_eval.evaluate.national import _reduce_by_unit_year

    t0 = time.perf_counter()
    _reduce_by_unit_year(tables["activities"])  # the part that reads every record
    t_reduce = time.perf_counter() - t0
    terr = tables["territories"]
    codes = terr["territory_code"].astype(str).to_numpy()
    levels = terr["level"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    sample = []
    per_level = max(1, loop_sample // 4)
    for lv in ("departement", "epci", "commune", "arrondissement"):
        pool = codes[levels == lv]
        sample += list(rng.choice(pool, size=min(per_level, len(pool)), replace=False))
    t0 = time.perf_counter()
    loop = evaluate_per_territory(tables, sample)
    t_loop = time.perf_counter() - t0
    n_terr = int(len(codes))
    # the loop's figures must match the one pass (independent check)
    chk = res[res["territory_code"].isin(sample)].groupby("territory_code")["participants"].sum()
    lchk = loop.groupby("territory_code")["participants"].sum()
    agree = bool((chk.reindex(lchk.index).fillna(0).astype(int) == lchk.astype(int)).all())
    return {
        "n_records": int(n), "n_territories": n_terr, "n_result_rows": int(len(res)),
        "store_seconds": round(t_store, 2), "store_cpu_seconds": round(c_store, 2), "store_peak_gb": round(rss_store, 2),
        "store_rows": n_store,
        "build_seconds": round(t_build, 2), "eval_seconds": round(t_eval, 2), "reduce_seconds": round(t_reduce, 3),
        "peak_gb_after_build": round(rss_build, 2), "peak_gb": round(rss_eval, 2),
        "loop_sample": len(sample), "loop_sample_seconds": round(t_loop, 2),
        "loop_seconds_extrapolated": round(t_loop / len(sample) * n_terr, 1),
        "speedup_vs_per_territory_loop": round(t_loop / len(sample) * n_terr / t_eval, 1),
        "loop_agrees": agree,
    }


if __name__ == "__main__":
    n = int(sys.argv[1])
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    print(json.dumps(measure(n, sample)))
