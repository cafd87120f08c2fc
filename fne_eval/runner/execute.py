"""Execute the entries of a run plan: the local process pool, the choice of executor, ``run_plan``.

What one entry does (papermill execution, then rendering) is :func:`fne_eval.runner.entry.run_entry`,
shared by every executor; it is re-exported here. Imports go one way: this module may import
:mod:`fne_eval.runner.dask_executor` (only when ``--executor dask`` is asked, as Dask is an
optional dependency), which imports :mod:`fne_eval.runner.entry`, never this module.

:func:`run_plan` is the whole ``fne-eval run``: check the renderer, validate the bundle,
validate and expand the plan, execute in ``outputs/.<run-id>.partial/``, write
``manifest.json`` and ``index.html``, then rename the folder to ``outputs/<run-id>/``.
"""
from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional, Union

from tqdm import tqdm

from fne_eval import __version__
from fne_eval.bundle import BundleError, load_bundle
from fne_eval.bundle.diskcache import cache_dir, shared_enabled
from fne_eval.bundle.io import bundle_content_hash
from fne_eval.bundle.origins import table_origins
from fne_eval.bundle.validate import validate_bundle
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR, OUTPUTS_DIR
from fne_eval.report.context import TABLE_NAMES_FR, make_context
from fne_eval.report.figcache import ENV
from fne_eval.report.sections.common import level_indicator_values
from fne_eval.runner.dask_executor import DaskExecutor
from fne_eval.runner.entry import (  # noqa: F401 - re-exported: the public names of a run's entries
    BLAS_THREAD_VARS, KERNEL_NAME, OUTPUT_DIRS, EntryResult, Executor, RunContext, error_message_of,
    prepare_worker_env, run_entry,
)
from fne_eval.runner.forkkernel import start_shared_template, template
from fne_eval.runner.index import write_outputs_index, write_run_index
from fne_eval.runner.manifest import build_manifest, write_json_atomic
from fne_eval.runner.plan import PlanError, expand_plan, load_plan, notebook_parameters, select_entries
from fne_eval.runner.pdf_engines import ENGINES as PDF_ENGINES
from fne_eval.runner.pdf_engines import get_engine
from fne_eval.runner.render import RenderError, parse_formats, resolve_renderer
from fne_eval.store import as_of_for, get_store, store_key
from fne_eval.store.cache import write_store_file

EXECUTORS = ("local", "dask")
#: Longest per-entry timeout accepted (one week, in seconds).
MAX_TIMEOUT_S = 7 * 24 * 3600


def _on_sigterm(signum, frame):  # pragma: no cover - runs in a pool worker being stopped
    _kill_children()
    os._exit(128 + signum)


def _kill_children() -> None:
    """Send SIGTERM to every descendant of this process (the kernels a worker started)."""
    try:
        import psutil  # lazy: psutil, undeclared (comes with ipykernel)

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
        self._warmups = []  # futures of prestart(): not waited for, their work only saves time

    def _start_pool(self, n_entries: int, context: RunContext) -> None:
        if self._pool is None:
            workers = min(self.jobs, n_entries)
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker,
                                             initargs=(str(Path(context.run_dir) / "logs"),))

    def prestart(self, entries: list, context: RunContext, warm_levels: list = ()) -> None:
        """Start the workers now, each with its kernel template and PDF engine, and warm shared results.

        Called before the driver builds the indicator store, so that the workers' start (their
        imports, the kernel template's, the PDF engine's) and the shared results of
        ``warm_levels`` (:func:`_warm_shared`) run while the store is built, instead of after.
        Nothing here can fail a run: a worker that could not warm up starts as before.
        """
        if not entries:
            return
        self._start_pool(len(entries), context)
        self._warmups = [self._pool.submit(_warm_worker, context)
                         for _ in range(min(self.jobs, len(entries)))]
        self._warmups += [self._pool.submit(_warm_shared, context, *args) for args in warm_levels]

    def run(self, entries: list, context: RunContext) -> Iterator[EntryResult]:
        if not entries:
            return
        self._start_pool(len(entries), context)
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
                                          "processus de travail interrompu : " + error_message_of(exc, None))
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


def _template_env() -> dict:
    """Return the environment of the run's kernel template: this process's, with one BLAS thread.

    The kernels forked from it keep the linear-algebra libraries as the template loaded them
    (see :data:`fne_eval.runner.entry.BLAS_THREAD_VARS`); a value the user set is kept.
    """
    env = dict(os.environ)
    for var in BLAS_THREAD_VARS:
        env.setdefault(var, "1")
    return env


def _warm_worker(context: RunContext) -> None:
    """In a pool worker, before its first entry: start the kernel template and the PDF engine.

    The entries would start them anyway (the first entry of each worker); done here, it happens
    while the driver builds the indicator store. Never raises.
    """
    try:
        prepare_worker_env(context)  # the template inherits it (one BLAS thread, shared results)
        template()
        if "pdf" in context.formats and context.renderer in PDF_ENGINES:
            get_engine(context.renderer)
    except Exception:  # noqa: BLE001 - the first entry starts them, or reports why not
        pass


def _warm_shared(context: RunContext, bundle: str, territory: str, year: int, threshold: int) -> None:
    """In a pool worker: compute a level's indicator values as the reports will ask for them.

    The same call as the reports' (:func:`fne_eval.report.sections.common.level_indicator_values`,
    the context made by :func:`fne_eval.report.context.make_context` from the same parameters),
    so it lands in the run's shared results (:func:`fne_eval.bundle.diskcache.shared`) that
    the reports read instead of computing it each. Never raises: a report computes it itself.
    """
    try:
        prepare_worker_env(context)
        if not shared_enabled():
            return
        loaded = load_bundle(bundle or None)
        ctx = make_context(loaded, territory, "all", int(year), int(threshold), "impact")
        level_indicator_values(ctx)
    except Exception:  # noqa: BLE001
        pass


def _warm_levels(entries: list, bundle_param: str, levels: dict) -> list:
    """Return one ``(bundle, territory, year, threshold)`` per (level, year, threshold) the entries ask for.

    ``levels`` maps territory codes to their level (the bundle's territories table).
    """
    seen, out = set(), []
    for e in entries:
        p = e.parameters
        terr, year = p.get("territory"), p.get("year")
        if terr is None or year is None:
            continue
        level = levels.get(str(terr))
        key = (level, year, p.get("threshold", 5))
        if level is not None and key not in seen:
            seen.add(key)
            out.append((bundle_param, str(terr), year, p.get("threshold", 5)))
    return out


def _kill_tree(pid: int) -> None:
    """Send SIGTERM to a worker and its child processes (the kernels it started)."""
    children = []
    try:
        import psutil  # lazy: psutil, undeclared (comes with ipykernel)

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
            import dask.distributed  # noqa: F401  # lazy: optional [dask] extra, checked here to say so in French
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

    :func:`fne_eval.bundle.validate.validate_bundle` gives every error, with table, row,
    column and value.
    """
    try:
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
    except BundleError as exc:
        errs = getattr(exc, "errors", None)
        if errs:
            return None, [str(e) for e in errs]
        return None, [str(exc)]
    except Exception as exc:  # noqa: BLE001 - an unreadable bundle stops the run with its message
        return None, [f"bundle illisible : {type(exc).__name__}: {exc}"]


def mixed_synthetic_tables(bundle) -> list:
    """Return the French names of the synthetic tables of a bundle that also holds imported ones.

    A bundle that mixes real imports (La Coop, Mon Inclusion Numérique) with generated tables
    gets a banner naming the generated ones; a wholly synthetic bundle (nothing imported) keeps
    the general banner, and a bundle without synthetic table has none: both give ``[]``.
    """
    recorded = (getattr(bundle, "meta", None) if not isinstance(bundle, dict) else bundle) or {}
    recorded = recorded.get("table_origins") or {}
    # only an import recorded by `fne-eval import … --into` counts (a legacy bundle's unlisted
    # tables are inferred « imported », which says nothing about real monitoring data)
    if not any(isinstance(e, dict) and e.get("origin") == "imported" for e in recorded.values()):
        return []
    origins = table_origins(bundle)
    return [TABLE_NAMES_FR.get(name, name) for name, origin in sorted(origins.items()) if origin == "synthetic"]


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


#: Hidden folder of a run where the driver ships the indicator stores to the kernels; removed before
#: the run folder is published (a store keeps the values of the cells the reports hide).
STORE_SHIP_DIR = ".store"


def _warm_store(bundle_obj, entries: list, log, ship_dir: Optional[Path] = None) -> dict:
    """Build the indicator store once, here, for every (year, threshold) the entries ask for, and ship it.

    Each report runs in its own kernel and asks :func:`fne_eval.store.get_store` for the store.
    Built here before the workers start, it is built once per run instead of by the reports.
    It is written to ``ship_dir`` (a hidden folder of the run folder, which every executor's
    workers see: local pool, Dask workers on this machine or on a shared file system) as a
    Parquet file carrying its key (bundle content hash, date, threshold, code of the figures);
    the returned ``{key: [path, sha256]}`` goes to :attr:`RunContext.store_files`, and the
    kernels read that file first. It also lands in the disk cache when there is one. A store
    that cannot be built is left to the reports, which say why in their own words.
    """
    if not entries or (cache_dir() is None and ship_dir is None):
        return {}
    shipped = {}
    for year, threshold in sorted({(e.parameters.get("year"), e.parameters.get("threshold", 5)) for e in entries},
                                  key=repr):
        t = time.perf_counter()
        try:
            as_of = as_of_for(bundle_obj, year)
            frame = get_store(bundle_obj, as_of, int(threshold))
            key = store_key(bundle_obj, as_of, int(threshold))
            if ship_dir is not None and key:
                Path(ship_dir).mkdir(mode=0o700, parents=True, exist_ok=True)  # the run's user only
                path = Path(ship_dir) / f"{key}.parquet"
                shipped[key] = [str(path), write_store_file(path, key, frame)]
        except Exception as exc:  # noqa: BLE001 - MemoryError included: the reports will report it
            log(f"attention : magasin d'indicateurs non préparé ({year}, seuil {threshold}) : "
                f"{type(exc).__name__}: {str(exc)[:200]}")
            continue
        log(f"magasin d'indicateurs prêt ({year}, seuil {threshold}) en {time.perf_counter() - t:.1f} s")
    return shipped


def _new_figure_cache(ex: Executor) -> Optional[str]:
    """Return a private temporary folder for the run's figure cache, or None.

    Charts identical across reports (a territory's map in its 5 axis reports) are drawn once
    per run (:mod:`fne_eval.report.figcache`); the folder is removed when the run ends. None
    (no cache) with a remote Dask scheduler, whose workers do not see this machine's disk,
    and when ``FNE_EVAL_FIGURE_CACHE=off``.
    """
    if os.environ.get(ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    if getattr(ex, "scheduler", None):
        return None
    try:
        return tempfile.mkdtemp(prefix="fne-eval-figures-")
    except OSError:
        return None


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

    # one kernel template for all the pool's workers, importing while the bundle is validated
    # and the store built (forkkernel.start_shared_template); stopped when the run ends
    shared_template = start_shared_template(_template_env()) if isinstance(ex, LocalExecutor) else None
    try:
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
            is_synthetic=bundle_obj.is_synthetic, synthetic_tables=mixed_synthetic_tables(bundle_obj),
            sources=_bundle_sources(bundle_obj.meta),
            bundle_hash=bundle_obj.hash, version=__version__,
            run_date=started.strftime("%d/%m/%Y %H:%M UTC"), plan_title=plan.title, territory_names=names,
            figure_cache=_new_figure_cache(ex),
        )
        log(f"fne-eval run : {len(entries)} rapport(s), plan {plan.name}, dossier {partial}")
        if hasattr(ex, "prestart"):  # the workers start (and warm the shared results) while the store is built
            levels = {str(c): str(v) for c, v in zip(terr["territory_code"], terr["level"]) if str(c) in wanted}
            warm = [e for e in entries if {"territory", "year", "threshold"} <= set(declared[e.notebook_path])]
            ex.prestart(entries, context, _warm_levels(warm, bundle_param, levels) if cache_dir() is not None else [])
        context.store_files = _warm_store(
            bundle_obj, [e for e in entries if {"year", "threshold"} <= set(declared[e.notebook_path])], log,
            ship_dir=partial / STORE_SHIP_DIR)
        results = {}

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
                             f"indisponible ({error_message_of(exc, None)})"
            if scheduler:
                executor_error += f" ; l'ordonnanceur Dask {scheduler} est-il joignable ?"
        finally:
            bar.close()
            try:
                ex.close()
            except Exception:  # noqa: BLE001 - closing a client that never connected
                pass
            if context.figure_cache:
                shutil.rmtree(context.figure_cache, ignore_errors=True)
            shutil.rmtree(partial / STORE_SHIP_DIR, ignore_errors=True)  # not published: hidden cells' values
        if executor_error is not None and not results:
            shutil.rmtree(partial, ignore_errors=True)  # nothing ran: no half-written run folder
            return RunOutcome(2, errors=[f"{executor_error}. Aucun notebook n'a été exécuté."])
        ordered = [results[e.id] if e.id in results else
                   EntryResult(e.id, e.notebook, dict(e.parameters), "failed", executor_error or "non exécuté")
                   for e in entries]
        finished = datetime.now(timezone.utc)
        # the reports must describe the bundle whose hash the manifest gives: one edited during
        # the run (even with the same size and date) makes every report of the run unreliable

        try:
            hash_at_end = bundle_content_hash(Path(bundle) if bundle is not None else DEFAULT_BUNDLE_DIR)
        except OSError:
            hash_at_end = None
        if hash_at_end != bundle_obj.hash:
            msg = (f"bundle modifié pendant l'exécution (empreinte {bundle_obj.hash[:12]} au début, "
                   f"{(hash_at_end or 'illisible')[:12]} à la fin) : rapport non fiable, relancer l'exécution")
            log(f"attention : {msg}")
            ordered = [EntryResult(r.id, r.notebook, r.parameters, "failed", msg, r.duration_s, r.outputs,
                                   r.notebook_sha256, r.stages) for r in ordered]
        bundle_info = {
            "path": str(Path(bundle).resolve()) if bundle is not None else str(DEFAULT_BUNDLE_DIR),
            "embedded": bundle is None,
            "hash": bundle_obj.hash,
            "hash_at_end": hash_at_end,
            "is_synthetic": bundle_obj.is_synthetic,
            "synthetic_tables": mixed_synthetic_tables(bundle_obj),
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
    finally:
        if shared_template is not None:
            shared_template.close()
