"""Batch speed: ``fne-eval run`` against a naive loop of commands, and where time goes.

The naive loop is what one would write without the runner: for each entry of the plan,
sequentially, one ``papermill`` command (a new Python process, a new kernel), then
``jupyter nbconvert --to html --no-input`` and the ``weasyprint`` CLI. It runs with the
bundle disk cache switched off (``FNE_EVAL_CACHE_DIR=off``: each kernel parses and
validates the bundle, as before the cache existed). ``fne-eval run`` runs the same entries
in its process pool with a fresh, empty cache folder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _bin(name: str) -> str:
    p = VENV_BIN / name
    return str(p) if p.exists() else name


def plan_entries(plan: Path) -> list:
    """Return the entries of a plan (``fne-eval plan --json``) on the embedded bundle."""
    out = subprocess.run([_bin("fne-eval"), "plan", str(plan), "--json"], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return json.loads(out.stdout)["entries"]


def _env(cache: str) -> dict:
    env = dict(os.environ)
    env["FNE_EVAL_CACHE_DIR"] = cache
    return env


def naive_loop(entries: list, work: Path, cache: str = "off") -> dict:
    """The naive pack (issue 14): per entry, sequentially, the ``papermill`` CLI, then
    ``jupyter nbconvert --to html --no-input``, then the ``weasyprint`` CLI; return timings.

    Each command is a new Python process (and papermill a new kernel), as a shell loop over
    the plan would run them. ``papermill_seconds`` sums the papermill commands alone: the
    loop of ``batch_speedup_vs_papermill_loop``, measured as before (execution only).
    """
    nb_dir = REPO / "notebooks"
    work.mkdir(parents=True, exist_ok=True)
    per_entry, failed = {}, []
    sums = {"papermill": 0.0, "nbconvert": 0.0, "weasyprint": 0.0}
    cpu = 0.0
    t0 = time.perf_counter()
    for e in entries:
        params = work / f"{e['id']}.yaml"
        params.write_text(yaml.safe_dump(e["parameters"], allow_unicode=True), encoding="utf-8")
        nb_out = work / f"{e['id']}.ipynb"
        steps = {
            "papermill": [_bin("papermill"), str(nb_dir / f"{e['notebook']}.ipynb"), str(nb_out), "-f", str(params),
                          "--cwd", str(nb_dir), "-k", "python3", "--no-progress-bar"],
            "nbconvert": [_bin("jupyter-nbconvert"), "--to", "html", "--no-input", str(nb_out),
                          "--output-dir", str(work)],
            "weasyprint": [_bin("weasyprint"), str(work / f"{e['id']}.html"), str(work / f"{e['id']}.pdf")],
        }
        times = {}
        for step, cmd in steps.items():
            r = run_measured(cmd, env=_env(cache))
            times[step] = round(r["seconds"], 2)
            sums[step] += r["seconds"]
            cpu += r["cpu_seconds"]
            if r["returncode"] != 0:
                failed.append(f"{e['id']} ({step})")
                break
        per_entry[e["id"]] = times
    return {"seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(cpu, 2),
            "papermill_seconds": round(sums["papermill"], 2), "nbconvert_seconds": round(sums["nbconvert"], 2),
            "weasyprint_seconds": round(sums["weasyprint"], 2), "per_entry": per_entry, "failed": failed}


def fne_eval_run(plan: Path, ids: list, out: Path, formats: str = "html", jobs: int = 2,
                 executor: str = "local", cache: str = "", extra: tuple = ()) -> dict:
    """Run ``fne-eval run`` on the given entries; return wall time, exit status and per-entry durations."""
    cache = cache or tempfile.mkdtemp(prefix="fne-eval-cache-")
    cmd = [_bin("fne-eval"), "run", str(plan), "--out", str(out), "--to", formats, "--jobs", str(jobs),
           "--executor", executor, "--no-progress", *extra]
    if ids:
        cmd += ["--only", *ids]
    r = run_measured(cmd, env=_env(cache))
    seconds = r["seconds"]
    manifest = None
    for line in r["stdout"].splitlines():
        if line.startswith("Ouvrir : "):
            manifest = Path(line[len("Ouvrir : "):]).parent / "manifest.json"
    entries, renderer = {}, None
    if manifest and manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        renderer = (m.get("options") or {}).get("renderer")
        entries = {e["id"]: {"status": e["status"], "duration_s": e.get("duration_s"),
                             "stages": e.get("stages") or {}, "error": e.get("error")} for e in m["entries"]}
    return {"seconds": round(seconds, 2), "cpu_seconds": round(r["cpu_seconds"], 2), "exit_code": r["returncode"],
            "entries": entries, "renderer": renderer, "run_dir": str(manifest.parent) if manifest else None, "stderr_tail": r["stderr"][-500:] if r["returncode"] not in (0, 1) else ""}


def stage_medians(run: dict) -> dict:
    """Return the median seconds of each stage over a run's successful entries (from its manifest).

    ``kernel_and_papermill`` is the execution minus the cells: kernel start and readiness,
    papermill's reading and writing of the notebook.
    """
    import statistics

    rows = [e["stages"] for e in run["entries"].values() if e["status"] == "ok" and e.get("stages")]
    out = {}
    for stage in ("kernel_start", "cells", "html", "pdf", "execute"):
        vals = [r[stage] for r in rows if isinstance(r.get(stage), (int, float))]
        if vals:
            out[stage] = round(statistics.median(vals), 3)
    extra = [r["execute"] - r["cells"] for r in rows if isinstance(r.get("cells"), (int, float))]
    if extra:
        out["kernel_and_papermill"] = round(statistics.median(extra), 3)
    return out


def chart_counts(run: dict) -> dict:
    """Return the charts of a run's HTML reports: in all, and distinct images (what the figure cache draws)."""
    import hashlib
    import re

    if not run.get("run_dir"):
        return {}
    total, distinct = 0, set()
    for html in Path(run["run_dir"]).glob("html/*.html"):
        for b64 in re.findall(r'src="data:image/png;base64,([^"]+)"', html.read_text(encoding="utf-8")):
            total += 1
            distinct.add(hashlib.sha256(b64.encode()).hexdigest())
    return {"charts": total, "distinct_charts": len(distinct)}


# --------------------------------------------------------------------------- measurement
def run_measured(cmd: list, env: dict, cwd=REPO, interval: float = 0.1) -> dict:
    """Run a command; return wall seconds, CPU seconds and peak memory of its whole process tree.

    CPU is the sum over every process of the tree (the command, pool or Dask workers, kernel
    templates, kernels) of its user + system time, sampled every ``interval`` seconds, so a
    process's last fraction of a sample may be missed (both sides of a comparison are measured
    the same way). CPU time does not depend on what else the shared machine runs; wall time does.
    """
    import threading

    import psutil

    t = time.perf_counter()
    popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    root = psutil.Process(popen.pid)
    cpu, peak = {}, {"tree": 0, "driver": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                procs = []
            rss = 0
            for p in procs:
                try:
                    with p.oneshot():
                        ct = p.cpu_times()
                        cpu[p.pid] = ct.user + ct.system
                        m = p.memory_info().rss
                    rss += m
                    if p.pid == root.pid:
                        peak["driver"] = max(peak["driver"], m)
                except psutil.Error:
                    pass
            peak["tree"] = max(peak["tree"], rss)
            stop.wait(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, stderr = popen.communicate()
    seconds = time.perf_counter() - t
    stop.set()
    th.join()
    return {"seconds": seconds, "cpu_seconds": sum(cpu.values()), "returncode": popen.returncode,
            "stdout": stdout, "stderr": stderr, "peak_tree_gb": peak["tree"] / 1e9,
            "peak_driver_gb": peak["driver"] / 1e9}


# --------------------------------------------------------------------------- breakdown
_SETUP_IMPORTS = ("import pandas, matplotlib\nmatplotlib.use('Agg')\n"
                  "from fne_eval.report import open_report, sections\n")


def breakdown(notebook: str = "impact", parameters: dict = None) -> dict:
    """Time the stages of one report: CLI start, kernel start, imports, bundle load, compute, render.

    Stages are run one after the other in one fresh kernel (jupyter_client), the way
    papermill runs them, so each time is that stage's own.
    """
    import nbformat
    from jupyter_client.manager import start_new_kernel

    parameters = dict(parameters or {"territory": "13", "axis": "all", "year": 2025, "threshold": 5})
    out = {}
    t = time.perf_counter()
    subprocess.run([_bin("papermill"), "--help"], capture_output=True, cwd=REPO)
    out["papermill_cli_start"] = time.perf_counter() - t

    t = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(REPO / "notebooks"))
    out["kernel_start"] = time.perf_counter() - t
    try:
        def run(code: str) -> float:
            t0 = time.perf_counter()
            reply = kc.execute_interactive(code, timeout=900, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{code[:60]!r}: {reply['content'].get('ename')} {reply['content'].get('evalue')}")
            return time.perf_counter() - t0

        out["kernel_imports"] = run(_SETUP_IMPORTS)
        out["kernel_theme_imports"] = run("import fne_eval.report.theme as _t\n_t.apply_theme()")
        out["bundle_load_uncached"] = run(
            "import os\nos.environ['FNE_EVAL_CACHE_DIR'] = 'off'\n"
            "from fne_eval.bundle import load_bundle\nload_bundle(None)")
        cache = tempfile.mkdtemp(prefix="fne-eval-cache-")
        run(f"os.environ['FNE_EVAL_CACHE_DIR'] = {cache!r}\n"
            "from fne_eval.bundle import load as _io\n_io._load_cached.cache_clear()\nload_bundle(None)")
        run("_io._load_cached.cache_clear()")
        out["bundle_load_disk_cache"] = run("load_bundle(None)")
        params = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
        run(f"{params.replace(', ', chr(10))}\nbundle = ''\n")
        nb = nbformat.read(str(REPO / "notebooks" / f"{notebook}.ipynb"), as_version=4)
        compute = 0.0
        for cell in nb.cells:
            if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
                continue
            dt = run(cell.source)
            if "open_report" in cell.source:
                out["open_report_cached"] = dt
            else:
                compute += dt
        out["compute"] = compute
        stats = []
        kc.execute_interactive("import json as _j\nfrom fne_eval.report import figcache as _f\n"
                               "print(_j.dumps(_f.STATS))", timeout=60,
                               output_hook=lambda msg: stats.append(msg["content"].get("text", ""))
                               if msg["msg_type"] == "stream" else None)
        try:
            out["figures_draw"] = json.loads("".join(stats))["draw_seconds"]
            out["compute_without_figures"] = compute - out["figures_draw"]
        except (ValueError, KeyError):
            pass
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    # the runner's kernels: forked from a template that has imported everything once per worker
    from jupyter_client.manager import KernelManager

    from fne_eval.runner.forkkernel import ForkLaunchMixin, close_template, template

    class _ForkedKM(ForkLaunchMixin, KernelManager):
        pass

    t = time.perf_counter()
    template()
    out["fork_template_start_once_per_worker"] = time.perf_counter() - t
    t = time.perf_counter()
    km = _ForkedKM(kernel_name="python3")
    km.start_kernel(cwd=str(REPO / "notebooks"))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    out["forked_kernel_start"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        reply = kc.execute_interactive(_SETUP_IMPORTS + "import fne_eval.report.theme as _t\n_t.apply_theme()",
                                       timeout=300, output_hook=lambda msg: None)
        out["forked_kernel_imports_and_theme"] = time.perf_counter() - t
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        close_template()
    # render: execute once with papermill in-process, then time nbconvert and WeasyPrint
    import papermill

    from fne_eval.runner.render import RenderInfo, render_html, render_pdf_weasyprint

    with tempfile.TemporaryDirectory() as tmp:
        nb_out = Path(tmp) / "out.ipynb"
        papermill.execute_notebook(str(REPO / "notebooks" / f"{notebook}.ipynb"), str(nb_out),
                                   parameters=parameters, progress_bar=False, cwd=str(REPO / "notebooks"),
                                   kernel_name="python3")
        info = RenderInfo(subtitle="benchmark", is_synthetic=True, sources=[], bundle_hash="", version="",
                          run_date="", entry_id="bench")
        t = time.perf_counter()
        html = render_html(nb_out, info)
        out["render_html"] = time.perf_counter() - t
        t = time.perf_counter()
        try:
            render_pdf_weasyprint(html, Path(tmp) / "out.pdf")
            out["render_pdf"] = time.perf_counter() - t
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            out["render_pdf_error"] = str(exc)[:200]
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}
