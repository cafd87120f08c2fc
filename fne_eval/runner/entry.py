"""The work of one entry of a run plan: execute its notebook with papermill, then render it.

The work of one entry lives in ONE picklable top-level function, :func:`run_entry`, so
that every executor (the local process pool of :mod:`fne_eval.runner.execute`, the Dask
executor of :mod:`fne_eval.runner.dask_executor`) runs exactly the same code and gives the
same results. An executor only has to implement :meth:`Executor.run`: take the entries and
a :class:`RunContext`, yield one :class:`EntryResult` per entry as they finish, never raise
for a failing entry.

Imports go one way: ``execute`` (the run: local pool, ``run_plan``) and ``dask_executor``
both import this module; this module imports neither.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from jupyter_client.manager import AsyncKernelManager  # already loaded by forkkernel

from fne_eval.bundle.diskcache import SHARED_ENV
from fne_eval.report.figcache import ENV as FIGURE_CACHE_ENV
from fne_eval.runner.forkkernel import ForkLaunchMixin
from fne_eval.runner.manifest import entry_label
from fne_eval.runner.pdf_engines import get_engine
from fne_eval.runner.plan import PlanEntry
from fne_eval.runner.render import RenderInfo, render_html, render_pdf_quarto
from fne_eval.runner.render_docx import render_docx
from fne_eval.runner.scrub import path_labels, scrub_notebook
from fne_eval.store.cache import SHIPPED_ENV

KERNEL_NAME = "python3"
#: Sub-folders of a run folder, by output kind.
OUTPUT_DIRS = {"notebook": "notebooks", "html": "html", "pdf": "pdf", "docx": "docx"}


@dataclass
class RunContext:
    """Everything :func:`run_entry` needs besides the entry (picklable, paths as text).

    Attributes
    ----------
    run_dir : str
        The run folder being written (the ``.partial`` one); outputs go below it.
    formats : tuple of str
        Subset of ``('html', 'pdf', 'docx')``.
    renderer : str or None
        ``'weasyprint'``, ``'chromium'``, ``'quarto'`` or None when no PDF is asked; the
        first two are warm engines, one per worker process (:mod:`fne_eval.runner.pdf_engines`).
    timeout : float or None
        Per-cell execution timeout in seconds (papermill ``execution_timeout``); a cell
        that runs longer stops the entry, which is reported as failed.
    is_synthetic, synthetic_tables, sources, bundle_hash, version, run_date, plan_title :
        Provenance shown by the renderer's banner and footer.
    territory_names : dict
        Territory code → name, for the report subtitle.
    store_files : dict
        Indicator stores built once by the run's driver: store key → ``[Parquet path, SHA-256]``
        (a hidden folder of the run, removed at the end); the kernels read them first
        (:func:`fne_eval.store.get_store`) instead of building the store again.
    """

    run_dir: str
    formats: tuple = ("html", "pdf")
    renderer: Optional[str] = "weasyprint"
    timeout: Optional[float] = None
    kernel_name: str = KERNEL_NAME
    is_synthetic: bool = False
    synthetic_tables: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    bundle_hash: str = ""
    version: str = ""
    run_date: str = ""
    plan_title: str = ""
    territory_names: dict = field(default_factory=dict)
    figure_cache: Optional[str] = None  # folder of the run's figure cache (fne_eval.report.figcache)
    store_files: dict = field(default_factory=dict)


@dataclass
class EntryResult:
    """The outcome of one entry; ``outputs`` are paths relative to the run folder."""

    id: str
    notebook: str
    parameters: dict
    status: str  # 'ok' | 'failed'
    error: Optional[str] = None
    duration_s: float = 0.0
    outputs: dict = field(default_factory=dict)
    notebook_sha256: Optional[str] = None  # of the source notebook, for reproducibility
    #: seconds per stage: kernel_start, cells (the notebook's code), execute (both, with papermill's
    #: own work), html, pdf, docx
    stages: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the result as a JSON-ready dict."""
        return asdict(self)


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def error_message_of(exc: BaseException, timeout: Optional[float]) -> str:
    """Return a one-line French/Python message for an entry's failure."""
    name = type(exc).__name__
    if name == "CellTimeoutError" or isinstance(exc, TimeoutError):
        return f"délai dépassé : une cellule a duré plus de {timeout:g} s" if timeout else f"délai dépassé ({_first_line(exc)})"
    if name == "PapermillExecutionError":
        return _first_line(f"{exc.ename}: {exc.evalue}") or exc.ename
    if name == "DeadKernelError":
        return f"le noyau Python s'est arrêté ({_first_line(exc)})"
    return _first_line(f"{name}: {exc}") or name


def _subtitle(entry: PlanEntry, context: RunContext) -> str:
    label = entry_label(entry.parameters, context.territory_names)
    return " · ".join(x for x in (context.plan_title, label) if x)


class _Watchdog:
    """Kill an entry's kernel when the whole execution outlasts the timeout.

    papermill's ``execution_timeout`` bounds each cell; this bounds their sum. The kernel
    manager class handed to papermill records the kernel it starts (one per entry, so it
    is safe with several entries per process); the timer kills that kernel only, and
    nbclient then stops with a dead-kernel error, reported as a timeout.
    """

    def __init__(self, timeout: Optional[float]):
        self.timeout = timeout
        self.fired = False
        self.km = None
        self.kernel_start_s = None
        self._timer = threading.Timer(timeout, self._fire) if timeout else None
        if self._timer is not None:
            self._timer.daemon = True

    def kernel_manager_class(self):
        watchdog = self

        # kernels are forked from a pre-imported template: same fresh kernel, no import cost
        class WatchedKernelManager(ForkLaunchMixin, AsyncKernelManager):  # nbclient's default: its client is async
            async def _async_pre_start_kernel(self, *args, **kw):
                watchdog._t_start = time.perf_counter()
                return await super()._async_pre_start_kernel(*args, **kw)

            async def _async_post_start_kernel(self, **kw):
                await super()._async_post_start_kernel(**kw)
                watchdog.kernel_start_s = time.perf_counter() - getattr(watchdog, "_t_start", time.perf_counter())
                watchdog.km = self
                if watchdog._timer is not None and not watchdog._timer.is_alive():
                    watchdog._timer.start()

        return WatchedKernelManager

    def _fire(self) -> None:
        self.fired = True
        prov = getattr(self.km, "provisioner", None)
        pid = getattr(getattr(prov, "process", None), "pid", None) or getattr(prov, "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _scrub_paths(nb_out: Path, entry: PlanEntry, context: RunContext) -> None:
    """Remove this machine's absolute paths from an executed notebook (a published artefact)."""
    scrub_notebook(nb_out, path_labels(bundle=entry.parameters.get("bundle") or None, run_dir=context.run_dir,
                                       extra=[(str(Path(entry.notebook_path).resolve().parent), "<notebooks>")]))


#: Threads of the linear-algebra libraries in report kernels: the pool runs one report per core
#: already; with OpenBLAS's default (one thread per core) two kernels fight for the cores and
#: a small least-squares fit (the DiD) took 3 to 11 s instead of 0,6 s on the loaded machine.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def prepare_worker_env(context: RunContext) -> None:
    """Set what the kernels of this worker inherit: one BLAS thread, the run's figure cache and store, shared results.

    A value the user set for a BLAS variable is kept. Kernels (and their template, started by
    the first entry of a worker) copy this process's environment.
    """
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")
    # the reports of a run share their expensive quantities (fne_eval.bundle.diskcache.shared):
    # each kernel reads its bundle as loaded, so its content hash says what it holds
    os.environ.setdefault(SHARED_ENV, "on")
    if context.figure_cache:
        os.environ[FIGURE_CACHE_ENV] = context.figure_cache
    else:
        os.environ.pop(FIGURE_CACHE_ENV, None)
    # the store the driver built, shipped in the run folder: read by every kernel, built by none
    if context.store_files:
        os.environ[SHIPPED_ENV] = json.dumps(context.store_files)
    else:
        os.environ.pop(SHIPPED_ENV, None)


def _cell_seconds(nb) -> Optional[float]:
    """Return the seconds the notebook's cells ran (papermill's per-cell durations)."""
    total, seen = 0.0, False
    for cell in getattr(nb, "cells", []) or []:
        d = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        if isinstance(d, (int, float)):
            total += d
            seen = True
    return round(total, 3) if seen else None


#: The papermill engine of the runner (registered on first use): nbclient, saving at the end only.
ENGINE_NAME = "fne-eval"


def _register_engine() -> str:
    """Register papermill's nbclient engine that writes the executed notebook once, at the end.

    papermill writes the output notebook when each cell starts and ends (two JSON dumps of
    the growing notebook, charts included, per cell: ~36 writes for an impact report). The
    runner only reads it at the end, so this engine writes it once, when execution ends —
    also when it fails (error, timeout, dead kernel: papermill's ``notebook_complete`` runs
    in a ``finally``), so a failed entry still keeps its notebook for diagnosis.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines  # lazy: papermill (~1 s), notebook execution only

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class SaveAtEndManager(NotebookExecutionManager):
        final = False

        def save(self, **kwargs):
            if self.final:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs):
            self.final = True
            super().notebook_complete(**kwargs)

    class SaveAtEndEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                             autosave_cell_every=30, **kwargs):
            nb_man = SaveAtEndManager(nb, output_path=output_path, progress_bar=progress_bar,
                                      log_output=log_output, autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(ENGINE_NAME, SaveAtEndEngine)
    return ENGINE_NAME


def run_entry(entry: PlanEntry, context: RunContext) -> EntryResult:
    """Execute one entry's notebook with papermill, then render it; never raise.

    The executed notebook goes to ``notebooks/<id>.ipynb`` (kept also when execution
    fails, for diagnosis), the reports to ``html/<id>.html``, ``pdf/<id>.pdf`` and
    ``docx/<id>.docx``.

    Parameters
    ----------
    entry : PlanEntry
        Validated entry: its ``parameters`` are the literals papermill injects.
    context : RunContext

    Returns
    -------
    EntryResult
        ``status`` is ``'ok'`` or ``'failed'`` with the first line of the error.
    """
    import papermill  # lazy: papermill (~1 s), notebook execution only

    # papermill warns on help comments it cannot parse and on parameters it does not see;
    # plan.py has already checked every parameter against the notebook.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    prepare_worker_env(context)
    start = time.perf_counter()
    stages = {}
    run_dir = Path(context.run_dir)
    outputs = {}
    nb_rel = f"{OUTPUT_DIRS['notebook']}/{entry.id}.ipynb"
    nb_out = run_dir / nb_rel
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    source = Path(entry.notebook_path)
    try:
        nb_hash = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        nb_hash = None
    watchdog = _Watchdog(context.timeout)
    try:
        executed = papermill.execute_notebook(
            str(source), str(nb_out),
            parameters=dict(entry.parameters),
            kernel_name=context.kernel_name,
            execution_timeout=context.timeout,
            progress_bar=False,
            log_output=False,
            cwd=str(source.parent),
            kernel_manager_class=watchdog.kernel_manager_class(),
            engine_name=_register_engine(),
        )
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, never raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        if nb_out.exists():
            _scrub_paths(nb_out, entry, context)
            outputs["notebook"] = nb_rel
        message = (f"délai dépassé : l'exécution a duré plus de {context.timeout:g} s"
                   if watchdog.fired else error_message_of(exc, context.timeout))
        return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                           message, round(time.perf_counter() - start, 3), outputs, nb_hash, stages)
    finally:
        watchdog.cancel()
        stages["execute"] = round(time.perf_counter() - start, 3)
        if watchdog.kernel_start_s is not None:
            stages["kernel_start"] = round(watchdog.kernel_start_s, 3)
    stages["cells"] = _cell_seconds(executed)
    _scrub_paths(nb_out, entry, context)  # before rendering: the HTML and PDF come from it
    outputs["notebook"] = nb_rel
    try:
        info = RenderInfo(subtitle=_subtitle(entry, context), is_synthetic=context.is_synthetic,
                          synthetic_tables=list(context.synthetic_tables), sources=list(context.sources), bundle_hash=context.bundle_hash,
                          version=context.version, run_date=context.run_date, entry_id=entry.id)
        t = time.perf_counter()
        html = render_html(nb_out, info)
        stages["html"] = round(time.perf_counter() - t, 3)
        if "html" in context.formats:
            rel = f"{OUTPUT_DIRS['html']}/{entry.id}.html"
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / rel).write_text(html, encoding="utf-8")
            outputs["html"] = rel
        if "pdf" in context.formats:
            rel = f"{OUTPUT_DIRS['pdf']}/{entry.id}.pdf"
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            if context.renderer == "quarto":
                render_pdf_quarto(nb_out, run_dir / rel, timeout=context.timeout, is_synthetic=context.is_synthetic)
            else:  # one warm engine per worker process, reused by its next reports

                get_engine(context.renderer or "weasyprint").render(html, run_dir / rel)
            stages["pdf"] = round(time.perf_counter() - t, 3)
            outputs["pdf"] = rel
        if "docx" in context.formats:
            rel = f"{OUTPUT_DIRS['docx']}/{entry.id}.docx"
            t = time.perf_counter()
            render_docx(html, run_dir / rel)
            stages["docx"] = round(time.perf_counter() - t, 3)
            outputs["docx"] = rel
    except Exception as exc:  # noqa: BLE001
        return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                           "rendu : " + error_message_of(exc, None), round(time.perf_counter() - start, 3), outputs,
                           nb_hash, stages)
    return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "ok", None,
                       round(time.perf_counter() - start, 3), outputs, nb_hash, stages)


# --------------------------------------------------------------------------- executors

class Executor:
    """Where entries run. Subclasses implement :meth:`run`."""

    def run(self, entries: list, context: RunContext) -> Iterator[EntryResult]:
        """Yield one result per entry, in completion order; a failure is a result, not an exception."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""
