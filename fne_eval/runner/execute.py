"""Execute the entries of a run plan: one papermill execution per entry, then rendering.

The work of one entry lives in ONE picklable top-level function, :func:`run_entry`, so
that every executor (the local process pool here, the Dask executor of
``fne_eval.runner.dask_executor``) runs exactly the same code and gives the same results.
An executor only has to implement :meth:`Executor.run`: take the entries and a
:class:`RunContext`, yield one :class:`EntryResult` per entry as they finish, never raise
for a failing entry.

:func:`run_plan` is the whole ``fne-eval run``: check the renderer, validate the bundle,
validate and expand the plan, execute in ``outputs/.<run-id>.partial/``, write
``manifest.json`` and ``index.html``, then rename the folder to ``outputs/<run-id>/``.
"""
from __future__ import annotations

import math
import os
import secrets
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional, Union

from fne_eval.runner.plan import PlanEntry, PlanError

KERNEL_NAME = "python3"
EXECUTORS = ("local", "dask")
#: Longest per-entry timeout accepted (one week, in seconds).
MAX_TIMEOUT_S = 7 * 24 * 3600
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
    is_synthetic, sources, bundle_hash, version, run_date, plan_title :
        Provenance shown by the renderer's banner and footer.
    territory_names : dict
        Territory code → name, for the report subtitle.
    """

    run_dir: str
    formats: tuple = ("html", "pdf")
    renderer: Optional[str] = "weasyprint"
    timeout: Optional[float] = None
    kernel_name: str = KERNEL_NAME
    is_synthetic: bool = False
    sources: list = field(default_factory=list)
    bundle_hash: str = ""
    version: str = ""
    run_date: str = ""
    plan_title: str = ""
    territory_names: dict = field(default_factory=dict)


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

    def to_dict(self) -> dict:
        """Return the result as a JSON-ready dict."""
        return asdict(self)


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _error_message(exc: BaseException, timeout: Optional[float]) -> str:
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
    from fne_eval.runner.manifest import entry_label

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
        import threading

        self.timeout = timeout
        self.fired = False
        self.km = None
        self._timer = threading.Timer(timeout, self._fire) if timeout else None
        if self._timer is not None:
            self._timer.daemon = True

    def kernel_manager_class(self):
        from jupyter_client.manager import AsyncKernelManager  # nbclient's default: its client is async

        from fne_eval.runner.forkkernel import ForkLaunchMixin

        watchdog = self

        # kernels are forked from a pre-imported template: same fresh kernel, no import cost
        class WatchedKernelManager(ForkLaunchMixin, AsyncKernelManager):
            async def _async_post_start_kernel(self, **kw):
                await super()._async_post_start_kernel(**kw)
                watchdog.km = self
                if watchdog._timer is not None and not watchdog._timer.is_alive():
                    watchdog._timer.start()

        return WatchedKernelManager

    def _fire(self) -> None:
        import signal

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
    from fne_eval.runner.scrub import path_labels, scrub_notebook

    scrub_notebook(nb_out, path_labels(bundle=entry.parameters.get("bundle") or None, run_dir=context.run_dir,
                                       extra=[(str(Path(entry.notebook_path).resolve().parent), "<notebooks>")]))


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
    import logging

    import papermill

    from fne_eval.runner.render import RenderInfo, render_html, render_pdf_quarto

    # papermill warns on help comments it cannot parse and on parameters it does not see;
    # plan.py has already checked every parameter against the notebook.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    start = time.perf_counter()
    run_dir = Path(context.run_dir)
    outputs = {}
    nb_rel = f"{OUTPUT_DIRS['notebook']}/{entry.id}.ipynb"
    nb_out = run_dir / nb_rel
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    source = Path(entry.notebook_path)
    try:
        import hashlib

        nb_hash = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        nb_hash = None
    watchdog = _Watchdog(context.timeout)
    try:
        papermill.execute_notebook(
            str(source), str(nb_out),
            parameters=dict(entry.parameters),
            kernel_name=context.kernel_name,
            execution_timeout=context.timeout,
            progress_bar=False,
            log_output=False,
            cwd=str(source.parent),
            kernel_manager_class=watchdog.kernel_manager_class(),
        )
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, never raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        if nb_out.exists():
            _scrub_paths(nb_out, entry, context)
            outputs["notebook"] = nb_rel
        message = (f"délai dépassé : l'exécution a duré plus de {context.timeout:g} s"
                   if watchdog.fired else _error_message(exc, context.timeout))
        return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                           message, round(time.perf_counter() - start, 3), outputs, nb_hash)
    finally:
        watchdog.cancel()
    _scrub_paths(nb_out, entry, context)  # before rendering: the HTML and PDF come from it
    outputs["notebook"] = nb_rel
    try:
        info = RenderInfo(subtitle=_subtitle(entry, context), is_synthetic=context.is_synthetic,
                          sources=list(context.sources), bundle_hash=context.bundle_hash,
                          version=context.version, run_date=context.run_date, entry_id=entry.id)
        html = render_html(nb_out, info)
        if "html" in context.formats:
            rel = f"{OUTPUT_DIRS['html']}/{entry.id}.html"
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / rel).write_text(html, encoding="utf-8")
            outputs["html"] = rel
        if "pdf" in context.formats:
            rel = f"{OUTPUT_DIRS['pdf']}/{entry.id}.pdf"
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            if context.renderer == "quarto":
                render_pdf_quarto(nb_out, run_dir / rel, timeout=context.timeout, is_synthetic=context.is_synthetic)
            else:  # one warm engine per worker process, reused by its next reports
                from fne_eval.runner.pdf_engines import get_engine

                get_engine(context.renderer or "weasyprint").render(html, run_dir / rel)
            outputs["pdf"] = rel
        if "docx" in context.formats:
            from fne_eval.runner.render_docx import render_docx

            rel = f"{OUTPUT_DIRS['docx']}/{entry.id}.docx"
            render_docx(html, run_dir / rel)
            outputs["docx"] = rel
    except Exception as exc:  # noqa: BLE001
        return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                           "rendu : " + _error_message(exc, None), round(time.perf_counter() - start, 3), outputs,
                           nb_hash)
    return EntryResult(entry.id, entry.notebook, dict(entry.parameters), "ok", None,
                       round(time.perf_counter() - start, 3), outputs, nb_hash)


# --------------------------------------------------------------------------- executors

class Executor:
    """Where entries run. Subclasses implement :meth:`run`."""

    def run(self, entries: list, context: RunContext) -> Iterator[EntryResult]:
        """Yield one result per entry, in completion order; a failure is a result, not an exception."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""


def _on_sigterm(signum, frame):  # pragma: no cover - runs in a pool worker being stopped
    _kill_children()
    os._exit(128 + signum)


def _kill_children() -> None:
    """Send SIGTERM to every descendant of this process (the kernels a worker started)."""
    import signal

    try:
        import psutil

        children = psutil.Process().children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing
        return
    for p in children:
        try:
            p.send_signal(signal.SIGTERM)
        except Exception:  # noqa: BLE001 - already gone
            pass


def _init_worker(log_dir: str) -> None:
    """Prepare a pool worker: stderr to a log file of the run, die with the parent.

    The worker's stderr (and its kernels', which inherit it) goes to
    ``<run>/logs/worker-<pid>.log``. On Linux the worker asks for SIGTERM when the
    ``fne-eval run`` process dies (even by SIGKILL), and on SIGTERM it stops its kernels
    before exiting, so an interrupted run leaves no process behind.
    """
    import signal

    try:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(str(Path(log_dir) / f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    except OSError:
        pass
    signal.signal(signal.SIGTERM, _on_sigterm)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


class LocalExecutor(Executor):
    """Run entries in a pool of ``jobs`` processes on this machine (one kernel per entry).

    Parameters
    ----------
    jobs : int, optional
        Parallel entries; default the number of cores.
    """

    def __init__(self, jobs: Optional[int] = None):
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs doit être au moins 1 (reçu {jobs})")
        self.jobs = jobs or os.cpu_count() or 1
        self._pool = None

    def run(self, entries: list, context: RunContext) -> Iterator[EntryResult]:
        import multiprocessing

        if not entries:
            return
        workers = min(self.jobs, len(entries))
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(str(Path(context.run_dir) / "logs"),))
        pending = {self._pool.submit(run_entry, e, context): e for e in entries}
        try:
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    entry = pending.pop(fut)
                    try:
                        yield fut.result()
                    except Exception as exc:  # noqa: BLE001 - a dead worker fails its entry only
                        yield EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                                          "processus de travail interrompu : " + _error_message(exc, None))
        except BaseException:
            # interrupted (Ctrl-C, or the consumer stopped): stop the workers now rather
            # than wait for the entries they run; the run folder stays a .partial one.
            self.terminate()
            raise
        finally:
            self.close()

    def terminate(self) -> None:
        """Stop the pool's workers and their kernels at once."""
        if self._pool is None:
            return
        procs = list(getattr(self._pool, "_processes", {}).values())
        for proc in procs:
            _kill_tree(proc.pid)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _kill_tree(pid: int) -> None:
    """Send SIGTERM to a worker and its child processes (the kernels it started)."""
    import signal

    children = []
    try:
        import psutil

        children = psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        pass
    for p in children:
        try:
            p.send_signal(signal.SIGTERM)
        except Exception:  # noqa: BLE001
            pass
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def get_executor(name: str = "local", jobs: Optional[int] = None, scheduler: Optional[str] = None) -> Executor:
    """Return the executor called ``name``.

    Parameters
    ----------
    name : {'local', 'dask'}
    jobs : int, optional
        Local pool size (``local`` only).
    scheduler : str, optional
        Dask scheduler address (``dask`` only; default a local cluster).

    Raises
    ------
    ValueError
        Unknown executor name, or ``dask`` not available.
    """
    if name == "local":
        return LocalExecutor(jobs)
    if name == "dask":
        try:
            from fne_eval.runner.dask_executor import DaskExecutor
        except ImportError as exc:
            raise ValueError(f"exécuteur dask indisponible : {exc} (installez fne-eval[dask])") from exc
        return DaskExecutor(scheduler, jobs=jobs)
    raise ValueError(f"exécuteur inconnu {name!r} : attendu local ou dask")


# --------------------------------------------------------------------------- run

@dataclass
class RunOutcome:
    """What :func:`run_plan` did; ``exit_code`` follows DESIGN.md (0 ok, 1 some failed, 2 nothing ran)."""

    exit_code: int
    run_id: Optional[str] = None
    run_dir: Optional[str] = None
    results: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # why nothing ran

    @property
    def failed(self) -> list:
        return [r for r in self.results if r.status != "ok"]


def new_run_id(plan_name: str, now: Optional[datetime] = None) -> str:
    """Return ``YYYYMMDD-HHMMSS-<plan-name>-<6 hex>`` (UTC time)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{plan_name}-{secrets.token_hex(3)}"


def check_bundle(bundle_path: Optional[Union[str, Path]]):
    """Validate and load the bundle; return ``(bundle, errors)`` (``bundle`` None when invalid).

    Uses :func:`fne_eval.bundle.validate.validate_bundle` when present (every error, with
    table, row, column and value), else :func:`fne_eval.bundle.load_bundle`.
    """
    from fne_eval.bundle import BundleError, load_bundle

    try:
        from fne_eval.bundle.validate import validate_bundle
    except ImportError:
        validate_bundle = None
    try:
        if validate_bundle is not None:
            result = validate_bundle(bundle_path)
            if not result.valid:
                errors = []
                for e in result.errors:
                    if isinstance(e, dict):
                        where = ", ".join(f"{k} {e[k]}" for k in ("table", "row", "column") if e.get(k) is not None)
                        val = f", valeur {e['value']!r}" if e.get("value") is not None else ""
                        errors.append(f"{where}{val} : {e.get('message', '')}".strip(" :"))
                    else:
                        errors.append(str(e))
                return None, errors or ["bundle invalide"]
            return load_bundle(bundle_path, validate=False), []
        return load_bundle(bundle_path), []
    except BundleError as exc:
        errs = getattr(exc, "errors", None)
        if errs:
            return None, [str(e) for e in errs]
        return None, [str(exc)]
    except Exception as exc:  # noqa: BLE001 - an unreadable bundle stops the run with its message
        return None, [f"bundle illisible : {type(exc).__name__}: {exc}"]


def _bundle_sources(meta: dict) -> list:
    src = meta.get("sources") or []
    if isinstance(src, str):
        return [src]
    if isinstance(src, dict):
        return [f"{k} : {v}" for k, v in src.items()]
    out = []
    for s in src:
        if isinstance(s, dict):
            label = s.get("name") or s.get("title") or s.get("label") or ""
            extra = s.get("source") or s.get("producer") or s.get("url") or ""
            out.append(" — ".join(x for x in (label, extra) if x) or str(s))
        else:
            out.append(str(s))
    return out


def run_plan(
    plan_path: Union[str, Path],
    bundle: Optional[Union[str, Path]] = None,
    out: Optional[Union[str, Path]] = None,
    jobs: Optional[int] = None,
    only: Optional[list] = None,
    limit: Optional[int] = None,
    formats: Union[str, tuple] = ("html", "pdf"),
    renderer: str = "auto",
    executor: Union[str, Executor] = "local",
    scheduler: Optional[str] = None,
    timeout: Optional[float] = None,
    progress: bool = True,
    notebooks_dir: Optional[Union[str, Path]] = None,
    log=None,
) -> RunOutcome:
    """Run a plan: validate, execute every entry, render, write the run folder atomically.

    Parameters
    ----------
    plan_path : str or Path
        The run plan (YAML).
    bundle : str or Path, optional
        The bundle (default: the embedded one); notebooks receive its absolute path in
        their ``bundle`` parameter (``""`` for the embedded bundle).
    out : str or Path, optional
        Output folder (default ``outputs/``); the run goes to ``out/<run-id>/``.
    jobs, only, limit, formats, renderer, executor, scheduler, timeout, progress :
        As the ``fne-eval run`` options.
    notebooks_dir : str or Path, optional
        Where notebook names are resolved (default: the plan's, else ``notebooks/``).
    log : callable, optional
        Receives progress lines (default: print to stderr).

    Returns
    -------
    RunOutcome
    """
    import platform

    from fne_eval import __version__
    from fne_eval.core.paths import DEFAULT_BUNDLE_DIR, OUTPUTS_DIR
    from fne_eval.runner.index import write_outputs_index, write_run_index
    from fne_eval.runner.manifest import build_manifest, write_json_atomic
    from fne_eval.runner.plan import expand_plan, load_plan, notebook_parameters, select_entries
    from fne_eval.runner.render import RenderError, parse_formats, resolve_renderer

    if log is None:
        def log(msg):
            print(msg, file=sys.stderr)
    if bundle is not None:
        bundle = Path(bundle).expanduser()  # the manifest writes paths under the home folder as ~/...

    # 1. options that fail before anything runs
    try:
        fmt = parse_formats(formats)
        pdf_renderer = resolve_renderer(renderer, fmt)
        if isinstance(executor, str) and executor not in EXECUTORS:
            raise ValueError(f"exécuteur inconnu {executor!r} : attendu local ou dask")
        if jobs is not None and jobs < 1:
            raise ValueError(f"--jobs doit être au moins 1 (reçu {jobs})")
        if timeout is not None and not (isinstance(timeout, (int, float)) and math.isfinite(timeout)
                                        and 0 < timeout <= MAX_TIMEOUT_S):
            raise ValueError(f"--timeout doit être un nombre de secondes fini, positif et d'au plus "
                             f"{MAX_TIMEOUT_S} (une semaine) ; reçu {timeout}")
        ex = get_executor(executor, jobs, scheduler) if isinstance(executor, str) else executor
    except (ValueError, RenderError) as exc:
        return RunOutcome(2, errors=[str(exc)])

    # 2. the bundle, then the plan
    bundle_obj, errors = check_bundle(bundle)
    if bundle_obj is None:
        return RunOutcome(2, errors=["Bundle invalide : aucun notebook n'a été exécuté."] + errors)
    try:
        plan = load_plan(plan_path)
        entries = expand_plan(plan, bundle_obj, notebooks_dir=notebooks_dir)
        entries = select_entries(entries, only=only, limit=limit)
    except PlanError as exc:
        return RunOutcome(2, errors=["Plan invalide : aucun notebook n'a été exécuté."] + exc.errors)
    if not entries:
        return RunOutcome(2, errors=["Aucune entrée à exécuter (voir --only / --limit)."])
    bundle_param = str(Path(bundle).resolve()) if bundle is not None else ""
    declared = {}
    for e in entries:
        if e.notebook_path not in declared:
            declared[e.notebook_path] = notebook_parameters(e.notebook_path)
        if "bundle" in declared[e.notebook_path]:
            e.parameters["bundle"] = bundle_param

    # 3. the run folder, built aside and renamed at the end
    out_dir = Path(out) if out is not None else OUTPUTS_DIR
    started = datetime.now(timezone.utc)
    run_id = new_run_id(plan.name, started)
    partial = out_dir / f".{run_id}.partial"
    final = out_dir / run_id
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial.mkdir()
        for sub in OUTPUT_DIRS.values():
            (partial / sub).mkdir()
    except OSError as exc:
        return RunOutcome(2, errors=[f"Dossier de sortie inutilisable {out_dir} : {exc}"])

    terr = bundle_obj["territories"]
    wanted = {e.parameters.get("territory") for e in entries}
    names = {str(c): str(n) for c, n in zip(terr["territory_code"], terr["territory_name"]) if str(c) in wanted}
    context = RunContext(
        run_dir=str(partial.resolve()), formats=fmt, renderer=pdf_renderer, timeout=timeout,
        is_synthetic=bundle_obj.is_synthetic, sources=_bundle_sources(bundle_obj.meta),
        bundle_hash=bundle_obj.hash, version=__version__,
        run_date=started.strftime("%d/%m/%Y %H:%M UTC"), plan_title=plan.title, territory_names=names,
    )
    log(f"fne-eval run : {len(entries)} rapport(s), plan {plan.name}, dossier {partial}")
    results = {}
    from tqdm import tqdm

    bar = tqdm(total=len(entries), file=sys.stderr, disable=not progress, unit="rapport", desc="rapports")
    executor_error = None
    try:
        for res in ex.run(entries, context):
            results[res.id] = res
            bar.update(1)
            if res.status != "ok":
                bar.write(f"échec {res.id} : {res.error}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - an unreachable scheduler, a lost cluster: said in French
        executor_error = f"exécuteur {executor if isinstance(executor, str) else type(executor).__name__} " \
                         f"indisponible ({_error_message(exc, None)})"
        if scheduler:
            executor_error += f" ; l'ordonnanceur Dask {scheduler} est-il joignable ?"
    finally:
        bar.close()
        try:
            ex.close()
        except Exception:  # noqa: BLE001 - closing a client that never connected
            pass
    if executor_error is not None and not results:
        import shutil

        shutil.rmtree(partial, ignore_errors=True)  # nothing ran: no half-written run folder
        return RunOutcome(2, errors=[f"{executor_error}. Aucun notebook n'a été exécuté."])
    ordered = [results[e.id] if e.id in results else
               EntryResult(e.id, e.notebook, dict(e.parameters), "failed", executor_error or "non exécuté")
               for e in entries]
    finished = datetime.now(timezone.utc)
    # the reports must describe the bundle whose hash the manifest gives: one edited during
    # the run (even with the same size and date) makes every report of the run unreliable
    from fne_eval.bundle.io import bundle_content_hash

    try:
        hash_at_end = bundle_content_hash(Path(bundle) if bundle is not None else DEFAULT_BUNDLE_DIR)
    except OSError:
        hash_at_end = None
    if hash_at_end != bundle_obj.hash:
        msg = (f"bundle modifié pendant l'exécution (empreinte {bundle_obj.hash[:12]} au début, "
               f"{(hash_at_end or 'illisible')[:12]} à la fin) : rapport non fiable, relancer l'exécution")
        log(f"attention : {msg}")
        ordered = [EntryResult(r.id, r.notebook, r.parameters, "failed", msg, r.duration_s, r.outputs,
                               r.notebook_sha256) for r in ordered]
    bundle_info = {
        "path": str(Path(bundle).resolve()) if bundle is not None else str(DEFAULT_BUNDLE_DIR),
        "embedded": bundle is None,
        "hash": bundle_obj.hash,
        "hash_at_end": hash_at_end,
        "is_synthetic": bundle_obj.is_synthetic,
        "name": bundle_obj.meta.get("name"),
    }
    options = {"formats": list(fmt), "renderer": pdf_renderer, "jobs": getattr(ex, "jobs", jobs),
               "executor": executor if isinstance(executor, str) else type(executor).__name__,
               "scheduler": scheduler, "timeout_s": timeout, "only": only, "limit": limit}
    manifest = build_manifest(run_id=run_id, plan=plan, bundle=bundle_info, results=ordered,
                              started=started, finished=finished, options=options,
                              package_version=__version__, python_version=platform.python_version(),
                              territory_names=names)
    try:
        write_json_atomic(partial / "manifest.json", manifest)
        write_run_index(partial, manifest)
        os.replace(partial, final)
    except OSError as exc:
        return RunOutcome(2, results=ordered, errors=[
            f"Impossible de terminer l'exécution dans {partial} : {exc}. "
            "Le dossier .partial n'est pas une exécution terminée ; les exécutions précédentes sont intactes."])
    try:
        write_outputs_index(out_dir)
    except OSError as exc:
        log(f"attention : index des exécutions {out_dir / 'index.html'} non mis à jour : {exc}")
    n_failed = sum(r.status != "ok" for r in ordered)
    return RunOutcome(1 if n_failed else 0, run_id=run_id, run_dir=str(final), results=ordered)
