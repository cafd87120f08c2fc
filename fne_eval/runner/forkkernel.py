"""Start report kernels by forking a pre-imported template process (fast, and still one kernel per report).

A report's kernel used to spend seconds importing the same modules before its first
figure: ipykernel, pandas, matplotlib, seaborn and scipy.stats (imported by the report
theme), statsmodels, the fne_eval library. The template server imports them once per pool
worker, then, for every notebook, ``fork()``\\ s a child that becomes an ordinary
ipykernel (``IPKernelApp``) on the connection file jupyter_client wrote. The template
never runs notebook code, so each report still gets a fresh kernel that has seen nothing
of any other report, used for exactly one notebook then shut down.

:class:`ForkLaunchMixin` (mixed into the runner's kernel manager) and
:class:`ForkKernelManager` make jupyter_client launch kernels this way for papermill/nbclient
(``kernel_manager_class``); they fall back to the ordinary launch when the
kernel command is not the standard ``python -m ipykernel_launcher -f FILE``, on platforms
without ``fork``, when ``FNE_EVAL_FORK_KERNELS=0``, or when the template cannot be started.

Protocol (one JSON line each way, over the template's stdin/stdout):
request ``{"argv": [...], "cwd": "...", "env": {...}}``, reply ``{"pid": 1234}`` or
``{"error": "..."}``.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

from jupyter_client.manager import AsyncKernelManager

ENV = "FNE_EVAL_FORK_KERNELS"
#: ``<socket path>:<pid>`` of a template shared by the processes of a run (:func:`start_shared_template`).
SHARED_ENV = "FNE_EVAL_KERNEL_TEMPLATE"
#: Third-party modules the template imports before forking (each optional). Never the inline
#: matplotlib backend: it hooks itself into the IPython shell when imported, which exists only in
#: the kernel (the template checks that pyplot has not resolved a backend before serving).
WARM_MODULES = (
    "ipykernel.kernelapp", "IPython", "numpy", "pandas", "pyarrow", "matplotlib", "matplotlib.pyplot",
    "scipy.stats", "seaborn", "statsmodels.api", "statsmodels.formula.api",
)


def _warm_library() -> None:
    """Import the library the reports use, in the template only (the parent never needs all of it).

    An explicit list, like :data:`WARM_MODULES`, but written as imports so readers, linters and
    the import graph see it.
    """
    import fne_eval.bundle  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.bundle.validate  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.core.periods  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.core.territory  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.budget  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.completeness  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.impact  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.indicators  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.meteo  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.offer  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.quality  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.evaluate.schedule  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.report  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.report.charts  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.report.maps  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.report.sections  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.report.theme  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.store.disclosure  # noqa: F401  # lazy: template process only, warmed for the forked kernels
    import fne_eval.store.figures  # noqa: F401  # lazy: template process only, warmed for the forked kernels


def enabled() -> bool:
    """Return whether kernels are forked from a template (``FNE_EVAL_FORK_KERNELS``, default on)."""
    return hasattr(os, "fork") and os.environ.get(ENV, "1").strip().lower() not in ("0", "off", "no", "false")


# --------------------------------------------------------------------------- template side
def serve() -> None:
    """Run the template: import the warm modules, then fork one kernel per request line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # nothing imported may write on the protocol channel
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel does
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that cannot be imported is imported by the kernel, or not
            pass
    try:
        _warm_library()
    except Exception:  # noqa: BLE001 - the kernel imports what it needs itself, or reports why not
        pass
    if "--die-with-parent" in sys.argv:
        _die_with_parent()
    mpl_inline = [m for m in sys.modules if m.startswith("matplotlib_inline.backend_inline")]
    plt = sys.modules.get("matplotlib.pyplot")
    if mpl_inline or getattr(plt, "_backend_mod", None) is not None:
        out.write(json.dumps({"ready": False, "error": "matplotlib backend resolved in the template"}) + "\n")
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped automatically
    if "--socket" in sys.argv:
        _serve_socket(sys.argv[sys.argv.index("--socket") + 1], devnull)
        return
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            out.write(json.dumps({"error": str(exc)}) + "\n")
            continue
        if pid == 0:  # the kernel
            try:
                _become_kernel(req, devnull)
            finally:
                os._exit(0)
        out.write(json.dumps({"pid": pid}) + "\n")


def _serve_socket(path: str, devnull: int) -> None:
    """Serve fork requests on a Unix socket (one JSON line each way per connection).

    The socket appears at ``path`` only once the template is ready (bound under another
    name, then renamed), so a client that finds it can fork at once.
    """
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = f"{path}.{os.getpid()}.tmp"
    srv.bind(tmp)
    os.chmod(tmp, 0o600)
    srv.listen(16)
    os.replace(tmp, path)
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                conn.settimeout(30)
                req = json.loads(conn.makefile("r", encoding="utf-8").readline() or "{}")
                pid = os.fork()
            except (OSError, ValueError) as exc:
                _send_line(conn, {"error": str(exc)})
                continue
            if pid == 0:  # the kernel
                try:
                    srv.close()
                    conn.close()
                    _become_kernel(req, devnull)
                finally:
                    os._exit(0)
            _send_line(conn, {"pid": pid})


def _send_line(conn, obj: dict) -> None:
    try:
        conn.sendall((json.dumps(obj) + "\n").encode())
    except OSError:
        pass


def _die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent process dies (no orphan template or kernel)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _become_kernel(req: dict, devnull: int) -> None:
    os.setsid()
    _die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    env = req.get("env")
    if env:
        os.environ.clear()
        os.environ.update(env)
    if req.get("cwd"):
        os.chdir(req["cwd"])
    sys.argv = ["ipykernel_launcher", *req["argv"]]
    from ipykernel import kernelapp  # lazy: ipykernel, forked kernel process only

    kernelapp.launch_new_instance()


# --------------------------------------------------------------------------- client side

def _request(argv: list, cwd: Optional[str], env: Optional[dict]) -> str:
    """Return one fork request of the template's line protocol (see the module's docstring)."""
    return json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n"


def _stop(proc: subprocess.Popen) -> None:
    """Kill a template process and reap it (one already gone is fine)."""
    try:
        proc.kill()
        proc.wait(timeout=5)
    except Exception:  # noqa: BLE001 - stopping is best effort: the run goes on
        pass


def _pid_of(line: str) -> int:
    """Return the pid of the template's reply line, or raise with the template's error."""
    reply = json.loads(line or "{}")
    if "pid" not in reply:
        raise RuntimeError(reply.get("error", "template de noyaux arrêté"))
    return int(reply["pid"])


class _Template:
    """A template server owned by this process."""

    def __init__(self):
        self.lock = threading.Lock()
        # Linux's parent-death signal follows the spawning *thread*: ask for it only from the main
        # thread (a Dask worker runs tasks in other threads, which may end before the process)
        flag = ["--die-with-parent"] if threading.current_thread() is threading.main_thread() else []
        self.proc = subprocess.Popen([sys.executable, "-m", "fne_eval.runner.forkkernel", *flag],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     start_new_session=True)
        ready = self.proc.stdout.readline()
        if not ready or not json.loads(ready).get("ready"):
            self.close()
            raise RuntimeError("template de noyaux indisponible")

    def fork(self, argv: list, cwd: Optional[str], env: Optional[dict]) -> int:
        with self.lock:
            self.proc.stdin.write(_request(argv, cwd, env))
            return _pid_of(self.proc.stdout.readline())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        _stop(self.proc)


class _SocketTemplate:
    """A template shared by the processes of a run, reached over its Unix socket (see :func:`start_shared_template`)."""

    def __init__(self, spec: str, wait: float = 300.0):
        path, _, pid = spec.rpartition(":")
        self.path, self.pid = path, int(pid)
        end = time.monotonic() + wait
        while not os.path.exists(self.path):  # the template is still importing
            if not self.alive() or time.monotonic() > end:
                raise RuntimeError("template de noyaux partagé indisponible")
            time.sleep(0.05)

    def fork(self, argv: list, cwd: Optional[str], env: Optional[dict]) -> int:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(60)
            conn.connect(self.path)
            conn.sendall(_request(argv, cwd, env).encode())
            return _pid_of(conn.makefile("r", encoding="utf-8").readline())

    def alive(self) -> bool:
        return _ForkedProcess(self.pid).poll() is None

    def close(self) -> None:
        """Leave it running: the process that started it stops it (:meth:`SharedTemplate.close`)."""


class SharedTemplate:
    """A template started by a run's driver for all its pool workers (see :func:`start_shared_template`)."""

    def __init__(self, folder: str, proc: subprocess.Popen):
        self.folder, self.proc = folder, proc
        self.spec = f"{os.path.join(folder, 'template.sock')}:{proc.pid}"

    def close(self) -> None:
        """Stop the template (kernels it forked are not affected) and remove its socket."""
        _stop(self.proc)
        shutil.rmtree(self.folder, ignore_errors=True)
        if os.environ.get(SHARED_ENV) == self.spec:
            del os.environ[SHARED_ENV]


def start_shared_template(env: Optional[dict] = None) -> Optional[SharedTemplate]:
    """Start one template for every pool worker of a run; return it (None when kernels are not forked).

    It imports while the caller goes on (the run validates the bundle and builds the indicator
    store meanwhile); its address goes into ``$FNE_EVAL_KERNEL_TEMPLATE``, which the workers
    inherit, and their :func:`template` uses it instead of starting one each (the imports are
    paid once per run, not once per worker). ``env`` is the template's environment (default this
    process's). Call :meth:`SharedTemplate.close` at the end of the run.
    """
    if not enabled() or threading.current_thread() is not threading.main_thread():
        return None
    folder = tempfile.mkdtemp(prefix="fne-eval-kernels-")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "fne_eval.runner.forkkernel", "--die-with-parent",
                                 "--socket", os.path.join(folder, "template.sock")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
                                env=env)
    except OSError:
        os.rmdir(folder)
        return None
    shared = SharedTemplate(folder, proc)
    os.environ[SHARED_ENV] = shared.spec
    return shared


_TEMPLATE = None
_TEMPLATE_FAILED = False


def template():
    """Return this process's template server, starting it on first use (None if it cannot start).

    The run's shared template when ``$FNE_EVAL_KERNEL_TEMPLATE`` names one that is alive, else
    one owned by this process.
    """
    global _TEMPLATE, _TEMPLATE_FAILED
    if _TEMPLATE is not None and _TEMPLATE.alive():
        return _TEMPLATE
    if _TEMPLATE_FAILED:
        return None
    spec = os.environ.get(SHARED_ENV)
    if spec and not isinstance(_TEMPLATE, _SocketTemplate):  # a shared one that died is not waited for twice
        try:
            _TEMPLATE = _SocketTemplate(spec)
            return _TEMPLATE
        except Exception:  # noqa: BLE001 - start our own
            _TEMPLATE = None
    try:
        _TEMPLATE = _Template()
    except Exception:  # noqa: BLE001 - fall back to ordinary kernels
        _TEMPLATE_FAILED = True
        _TEMPLATE = None
    return _TEMPLATE


def close_template() -> None:
    """Stop this process's template server (kernels already forked are not affected)."""
    global _TEMPLATE
    if _TEMPLATE is not None:
        _TEMPLATE.close()
        _TEMPLATE = None


class _ForkedProcess:
    """The part of :class:`subprocess.Popen` jupyter_client uses, for a kernel we did not start ourselves."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is not None:
            return self.returncode
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            self.returncode = 0
            return 0
        except PermissionError:
            return None
        try:  # a zombie (not reaped yet) counts as finished
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                if fh.read().split(b") ", 1)[1][:1] == b"Z":
                    self.returncode = 0
                    return 0
        except OSError:
            pass
        return None

    def wait(self, timeout: Optional[float] = None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _kernel_argv(cmd: list) -> Optional[list]:
    """Return the ipykernel arguments of a standard kernel command, or None."""
    if len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"] and "-f" in cmd:
        exe = os.path.realpath(cmd[0]) if os.path.sep in cmd[0] else cmd[0]
        if exe in (os.path.realpath(sys.executable), "python", "python3"):
            return list(cmd[3:])
    return None


class ForkLaunchMixin:
    """Mix into a jupyter_client kernel manager to fork its kernel from the template (see the module)."""

    async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
        argv = _kernel_argv(list(kernel_cmd)) if enabled() else None
        tpl = template() if argv is not None else None
        if tpl is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        env = kw.get("env")
        try:
            pid = tpl.fork(argv, str(kw["cwd"]) if kw.get("cwd") else None, dict(env) if env else None)
        except (OSError, RuntimeError, ValueError):
            close_template()  # restarted on next use
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        prov = self.provisioner
        prov.process = _ForkedProcess(pid)
        prov.pid = pid
        prov.pgid = pid  # the kernel called setsid()
        prov.cwd = kw.get("cwd")
        self._reconcile_connection_info(prov.connection_info)


class ForkKernelManager(ForkLaunchMixin, AsyncKernelManager):
    """Async kernel manager whose kernels are forked from the pre-imported template."""


if __name__ == "__main__":
    serve()
