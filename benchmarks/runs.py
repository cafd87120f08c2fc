"""Dask against the local pool, and the memory of a run as the number of entries grows.

Both use a *light* plan: a one-cell notebook fanned out over the communes of a national
bundle, so that the figures measure the executors (scheduling, kernel start, results,
manifest), not the reports' computations. Peak memory is the largest sum of the resident
memory of the ``fne-eval run`` process and all its descendants (pool or Dask workers,
kernels), sampled every 0,1 s.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import yaml

import sys

from benchmarks.batch import REPO, _bin, _env, run_measured

LIGHT_NOTEBOOK_CELLS = (
    'territory: str = "13"  # territoire\nbundle: str = ""  # bundle\nyear: int = 2025  # année',
    "print(f'territoire {territory}, année {year}')",
)


def write_light_plan(folder: Path) -> Path:
    """Write a plan of one light notebook over every commune of the bundle; return its path."""
    nb_dir = folder / "nb"
    nb_dir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(LIGHT_NOTEBOOK_CELLS[0])
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_markdown_cell("# Rapport léger"),
                nbformat.v4.new_code_cell(LIGHT_NOTEBOOK_CELLS[1])]
    nbformat.write(nb, str(nb_dir / "leger.ipynb"))
    plan = {"name": "leger", "title": "Plan léger (benchmark)", "notebooks_dir": "nb",
            "defaults": {"year": 2025},
            "reports": [{"notebook": "leger", "territories": {"levels": ["commune"], "scope": "all"}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def timed_run(plan: Path, bundle: Path, out: Path, limit: int, executor: str = "local", jobs: int = 2,
              formats: str = "html", cache: str = "") -> dict:
    """Run ``fne-eval run`` with ``--limit``; return wall and CPU time, exit status, peak tree and driver memory."""
    cache = cache or tempfile.mkdtemp(prefix="fne-eval-cache-")
    cmd = [_bin("fne-eval"), "run", str(plan), "--bundle", str(bundle), "--out", str(out), "--limit", str(limit),
           "--to", formats, "--jobs", str(jobs), "--executor", executor, "--no-progress"]
    r = run_measured(cmd, env=_env(cache))
    ok = failed = 0
    for line in r["stdout"].splitlines():
        if "réussi(s)" in line:
            parts = line.split()
            ok, failed = int(parts[0]), int(parts[3])
    return {"entries": limit, "executor": executor, "jobs": jobs, "seconds": round(r["seconds"], 2),
            "cpu_seconds": round(r["cpu_seconds"], 2), "exit_code": r["returncode"], "ok": ok, "failed": failed,
            "peak_tree_gb": round(r["peak_tree_gb"], 3), "peak_driver_gb": round(r["peak_driver_gb"], 3),
            "stderr_tail": r["stderr"][-400:] if r["returncode"] not in (0, 1) else ""}


def build_bundle(folder: Path, n_activities: int) -> Path:
    """Write a national bundle with ``n_activities`` synthetic records (subprocess-free)."""
    from fne_eval.evaluate.national import build_national_bundle

    if not (folder / "bundle.json").exists():
        build_national_bundle(folder, n_activities=n_activities)
    return folder


PREBUILD = (
    "import sys\n"
    "if sys.argv[4] == '1':  # primary suppression only (see benchmarks.__main__.NATIONAL_PRIMARY_ONLY_ENV)\n"
    "    import numpy as np\n"
    "    import fne_eval.store.protect as P\n"
    "    def primary(cells, threshold, *a):\n"
    "        v = cells['value'].to_numpy(dtype=float)\n"
    "        return np.where((v > 0) & (v < threshold), 1, 0)\n"
    "    P._protect_system = P._protect_by_departement = primary\n"
    "from fne_eval.bundle import load_bundle\n"
    "from fne_eval.store import as_of_for, get_store\n"
    "b = load_bundle(sys.argv[1])\n"
    "s = get_store(b, as_of_for(b, int(sys.argv[2])), int(sys.argv[3]))\n"
    "print(len(s))\n"
)


def prebuild_store(bundle: Path, cache: str, year: int = 2025, threshold: int = 5, primary_only: bool = False) -> dict:
    """Parse the bundle and build its store into the disk cache ``cache``, in a subprocess; return its cost.

    Both timed national runs then start from the same warm cache (the bundle parsed, the store
    built), so that the 1-worker run does not pay alone what the 2-worker run reads back, and
    the ratio of their durations measures the reports. The store's cost is reported apart.
    With ``primary_only``, the store's secondary suppression is skipped (its statuses are not
    the published pack's; the reports' cost is about the same).
    """
    r = run_measured([sys.executable, "-c", PREBUILD, str(bundle), str(year), str(threshold),
                      "1" if primary_only else "0"], env=_env(cache))
    if r["returncode"] != 0:
        raise RuntimeError(f"magasin national non construit : {r['stderr'][-800:]}")
    stores = list((Path(cache) / "stores").glob("*.parquet"))
    return {"seconds": round(r["seconds"], 2), "cpu_seconds": round(r["cpu_seconds"], 2),
            "peak_gb": round(r["peak_tree_gb"], 3), "rows": int(r["stdout"].strip().splitlines()[-1]),
            "file_mb": round(sum(p.stat().st_size for p in stores) / 1e6, 2) if stores else None}
