"""Run a plan's entries on a Dask distributed cluster (``fne-eval run --executor dask``).

Every entry runs :func:`fne_eval.runner.entry.run_entry`, the very function the local
process pool runs, so statuses, figures and manifest are the same; only where the work
happens changes. Without a scheduler address a :class:`distributed.LocalCluster` is started
on the loopback interface (127.0.0.1, one single-threaded worker process per job, no
dashboard) and stopped at the end.

With a remote scheduler (``--scheduler tcp://host:8786``) the workers must see the same
files as the client: the run folder, the notebooks and the bundle (a shared file system),
and have fne-eval installed at the same version. They need not see the client's cache folder:
the indicator store is built once by the client (``run_plan``) and shipped in the run folder
(a hidden ``.store/`` folder, removed before the run is published); every report reads it
from there (:attr:`~fne_eval.runner.entry.RunContext.store_files`, checked by its SHA-256 and
its key), none builds it.

Memory: at most ``2 × workers`` entries are in flight; each result is a small
:class:`~fne_eval.runner.entry.EntryResult` (the reports are written to disk by the
worker) and its future is released as soon as it is read, so the client's memory does not
grow with the number of entries.
"""
from __future__ import annotations

import logging
import os
import secrets
from typing import Iterator, Optional

from fne_eval.runner.entry import EntryResult, Executor, RunContext, error_message_of, run_entry

#: Entries submitted ahead per worker (keeps the scheduler busy without queueing everything).
IN_FLIGHT_PER_WORKER = 2


class DaskExecutor(Executor):
    """Run entries on a Dask cluster: the one at ``scheduler``, else a local loopback cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). When omitted, a local
        cluster of ``jobs`` worker processes listening on 127.0.0.1 is started.
    jobs : int, optional
        Workers of the local cluster (default: number of cores); ignored with ``scheduler``.
    connect_timeout : float, default 30
        Seconds to wait for the scheduler.

    Raises
    ------
    ValueError
        ``jobs`` below 1.
    """

    def __init__(self, scheduler: Optional[str] = None, jobs: Optional[int] = None,
                 connect_timeout: float = 30.0):
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs doit être au moins 1 (reçu {jobs})")
        self.scheduler = scheduler or None
        self.jobs = jobs or os.cpu_count() or 1
        self.connect_timeout = connect_timeout
        self._client = None
        self._cluster = None

    # ------------------------------------------------------------------ cluster
    def _connect(self):
        from dask.distributed import Client, LocalCluster  # lazy: optional [dask] extra, --executor dask only

        if self._client is not None:
            return self._client
        if self.scheduler:
            self._client = Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        else:
            self._cluster = LocalCluster(
                n_workers=self.jobs, threads_per_worker=1, processes=True,
                host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster, timeout=self.connect_timeout, set_as_default=False)
        return self._client

    def n_workers(self) -> int:
        """Return the number of workers the cluster has now (at least 1)."""
        client = self._connect()
        return max(1, len(client.scheduler_info().get("workers", {})))

    # ------------------------------------------------------------------ run
    def run(self, entries: list, context: RunContext) -> Iterator[EntryResult]:
        """Yield one result per entry as entries finish; a failure is a result, not an exception."""
        from dask.distributed import as_completed  # lazy: optional [dask] extra, --executor dask only

        if not entries:
            return
        client = self._connect()
        token = secrets.token_hex(4)
        todo = list(entries)[::-1]
        window = IN_FLIGHT_PER_WORKER * self.n_workers()
        by_key = {}

        def submit(entry):
            fut = client.submit(run_entry, entry, context, key=f"fne-eval-{token}-{entry.id}", pure=False,
                                retries=0)
            by_key[fut.key] = entry
            return fut

        first = [submit(todo.pop()) for _ in range(min(window, len(todo)))]
        pending = as_completed(first, loop=client.loop)
        try:
            for fut in pending:
                entry = by_key.pop(fut.key)
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its entry only
                    res = EntryResult(entry.id, entry.notebook, dict(entry.parameters), "failed",
                                      "processus de travail interrompu : " + error_message_of(exc, None))
                fut.release()
                if todo:
                    pending.add(submit(todo.pop()))
                yield res
        except BaseException:
            # interrupted: cancel what is left; the run folder stays a .partial one
            try:
                client.cancel(list(pending.futures))
            except Exception:  # noqa: BLE001
                pass
            self.close()
            raise

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started one."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass
        if cluster is not None:
            try:
                cluster.close()
            except Exception:  # noqa: BLE001
                pass
