"""Faults injected on purpose into real runs (issue 6, point 2).

Nothing here is mocked: ``fne-eval run`` is started as a subprocess and killed with
SIGKILL, a notebook's kernel is killed with SIGKILL, a notebook hangs past ``--timeout``,
the output folder is a full 1 MiB tmpfs, a read-only bind mount or a file, and two runs
write to one output folder at once. Each test checks that earlier runs and their
``index.html`` are untouched, that nothing unfinished is presented as complete, that the
error is clear (no traceback), and that the next run succeeds.

Most runs use the runner's demo notebook (``tests/notebooks/demo.ipynb``) on a tiny
bundle to stay fast; the SIGKILL of ``fne-eval run`` uses ``params/exemple-petit.yaml``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from fne_eval.runner.index import list_runs

from test_plan import make_bundle, write_plan

REPO = Path(__file__).resolve().parents[1]
FNE_EVAL = str(Path(sys.executable).parent / "fne-eval")
#: Longest wait for a state the test waits for (a guard against hangs, not a speed measure).
WAIT_S = 240


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".index.lock"}


def _wait_for(predicate, what: str, timeout: float = WAIT_S, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended (code {proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _run(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([FNE_EVAL, *argv], capture_output=True, text=True, timeout=WAIT_S, **kw)


def _kernels_of(root_pid: int) -> list:
    """Return the kernels below ``root_pid``: ipykernel processes, or (forked kernels) listeners on TCP."""
    try:
        procs = psutil.Process(root_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in procs:
        try:
            if "ipykernel" in " ".join(p.cmdline()) or any(
                    c.status == psutil.CONN_LISTEN for c in p.net_connections(kind="tcp")):
                out.append(p)
        except psutil.Error:
            pass
    return out


def _marked_env(marker: str) -> dict:
    """Return the environment with a marker that every descendant (workers, kernels) inherits."""
    return {**os.environ, "FNE_FAULT_TEST": marker}


def _processes_marked(marker: str) -> list:
    """Return the pids of live processes started under ``marker`` (see :func:`_marked_env`)."""
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.environ().get("FNE_FAULT_TEST") == marker:
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def _variant(nb_dir: Path, name: str, code: str) -> None:
    nb = nbformat.read(str(nb_dir / "demo.ipynb"), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, str(nb_dir / f"{name}.ipynb"))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny bundle, a one-entry demo plan, and an output folder holding one good run."""
    root = tmp_path_factory.mktemp("faults")
    bundle = make_bundle(root / "bundle")
    plan = write_plan(root / "demo", {"name": "demo", "title": "Démo", "reports": [{"notebook": "demo"}]})
    out = root / "outputs"
    r = _run(["run", str(plan), "--bundle", bundle.source, "--out", str(out), "--to", "html", "--no-progress"])
    assert r.returncode == 0, r.stderr
    return {"root": root, "bundle": bundle.source, "plan": plan, "out": out}


def _good_run(setup, out: Path) -> subprocess.CompletedProcess:
    return _run(["run", str(setup["plan"]), "--bundle", setup["bundle"], "--out", str(out), "--to", "html",
                 "--no-progress"])


# --------------------------------------------------------------------------- SIGKILL

def test_sigkill_of_fne_eval_run_leaves_earlier_runs_untouched_and_next_run_succeeds(setup):
    out = setup["out"]
    before = _snapshot(out)
    runs_before = [m["run_id"] for m in list_runs(out)]
    proc = subprocess.Popen([FNE_EVAL, "run", str(REPO / "params" / "exemple-petit.yaml"), "--out", str(out),
                             "--to", "html", "--jobs", "2", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_marked_env("sigkill-run"))
    partial = _wait_for(lambda: [p for p in out.glob(".*.partial") if p.is_dir()], "the .partial folder", proc=proc)[0]
    _wait_for(lambda: _kernels_of(proc.pid), "a kernel at work", proc=proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=WAIT_S)
    assert proc.returncode == -signal.SIGKILL
    # workers and kernels die with the run (parent-death signal), none is left behind
    _wait_for(lambda: not _processes_marked("sigkill-run"), "the workers and kernels to stop", timeout=60)
    after = _snapshot(out)
    assert {k: v for k, v in after.items() if not k.startswith(".")} == before  # earlier runs and index.html
    assert [m["run_id"] for m in list_runs(out)] == runs_before  # nothing half-done presented as a run
    assert not (partial / "manifest.json").exists()
    # the next run succeeds and the index lists it with the earlier one
    r = _good_run(setup, out)
    assert r.returncode == 0, r.stderr
    assert len(list_runs(out)) == len(runs_before) + 1
    assert all(not (out / rid).name.startswith(".") for rid in runs_before)


@pytest.fixture(scope="module")
def kernel_kill(setup):
    """One run of three entries: a kernel killed by SIGKILL, a notebook that hangs, a good one."""
    root = setup["root"] / "kernel"
    plan = write_plan(root, {"name": "noyau", "title": "Noyau tué", "reports": [
        {"notebook": "victim"}, {"notebook": "hangs"}, {"notebook": "demo"}]})
    nb_dir = root / "nb"
    _variant(nb_dir, "victim", "import time\ntime.sleep(60)")
    _variant(nb_dir, "hangs", "import time\ntime.sleep(600)")
    out = setup["out"]
    before = _snapshot(out)
    proc = subprocess.Popen([FNE_EVAL, "run", str(plan), "--bundle", setup["bundle"], "--out", str(out),
                             "--to", "html", "--jobs", "1", "--timeout", "25", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_marked_env("kernel-kill"))
    kernel = _wait_for(lambda: _kernels_of(proc.pid), "the first kernel", proc=proc)[0]
    time.sleep(3)  # inside the victim's sleep(60), well before the 25 s timeout
    kernel.send_signal(signal.SIGKILL)
    try:
        stdout, stderr = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:  # the run hangs on its dead kernel: a failure, not a stuck suite
        proc.kill()  # its workers and kernels follow (parent-death signal)
        stdout, stderr = proc.communicate()
        stderr += f"\nfne-eval run still running {WAIT_S} s after its kernel was killed"
    found = re.search(r"Ouvrir : (.*)/index.html", stdout)
    run_dir = Path(found.group(1)) if found else None
    return {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "run_dir": run_dir, "before": before,
            "out": out, "pid": proc.pid}


def test_killed_kernel_fails_its_entry_only(kernel_kill):
    assert kernel_kill["code"] == 1, kernel_kill["stderr"]
    manifest = json.loads((kernel_kill["run_dir"] / "manifest.json").read_text(encoding="utf-8"))
    status = {e["id"]: (e["status"], e["error"] or "") for e in manifest["entries"]}
    assert status["victim"][0] == "failed" and "noyau" in status["victim"][1]
    assert status["demo"] == ("ok", "")
    assert (kernel_kill["run_dir"] / "html" / "demo.html").is_file()
    assert not (kernel_kill["run_dir"] / "html" / "victim.html").exists()
    assert "Traceback" not in kernel_kill["stderr"]


def test_hanging_notebook_is_stopped_by_the_timeout_and_reported(kernel_kill):
    manifest = json.loads((kernel_kill["run_dir"] / "manifest.json").read_text(encoding="utf-8"))
    hangs = next(e for e in manifest["entries"] if e["id"] == "hangs")
    assert hangs["status"] == "failed" and "délai dépassé" in hangs["error"]
    assert hangs["duration_s"] < 600  # stopped, not waited for
    assert "hangs" in kernel_kill["stdout"]  # named in the summary
    index = (kernel_kill["run_dir"] / "index.html").read_text(encoding="utf-8")
    assert "délai dépassé" in index


def test_no_kernel_survives_the_run(kernel_kill):
    assert not psutil.pid_exists(kernel_kill["pid"]) or psutil.Process(kernel_kill["pid"]).status() == "zombie"
    _wait_for(lambda: not _processes_marked("kernel-kill"), "kernels to stop", timeout=60)


def test_earlier_runs_untouched_by_a_run_with_failures(kernel_kill):
    after = _snapshot(kernel_kill["out"])
    for k, v in kernel_kill["before"].items():
        if k != "index.html":  # the list of runs is rewritten to add the new run
            assert after.get(k) == v, k


# --------------------------------------------------------------------------- disk and folders

@pytest.fixture()
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount of a 1 MiB tmpfs refused: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_gives_a_clear_error_and_keeps_earlier_runs(setup, tiny_tmpfs):
    out = tiny_tmpfs / "outputs"
    r = _good_run(setup, out)  # a first run fits in 1 MiB (HTML only, small notebook)
    assert r.returncode == 0, r.stderr
    before = {k: v for k, v in _snapshot(out).items() if not k.startswith(".")}
    runs_before = [m["run_id"] for m in list_runs(out)]
    with open(tiny_tmpfs / "filler", "wb", buffering=0) as f:  # fill what is left
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    r = _good_run(setup, out)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    text = r.stdout + r.stderr
    assert "plus de place sur le disque" in text, text
    assert {k: v for k, v in _snapshot(out).items() if not k.startswith(".")} == before
    assert [m["run_id"] for m in list_runs(out)] == runs_before
    # room again: the next run succeeds
    (tiny_tmpfs / "filler").unlink()
    for p in out.glob(".*.partial"):
        shutil.rmtree(p)
    r = _good_run(setup, out)
    assert r.returncode == 0, r.stderr
    assert len(list_runs(out)) == len(runs_before) + 1


def test_read_only_output_folder_gives_a_clear_error(setup, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "--bind", str(ro), str(ro)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"bind mount refused: {r.stderr.strip()}")
    try:
        r = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"read-only remount refused: {r.stderr.strip()}")
        r = _good_run(setup, ro / "outputs")
        assert r.returncode == 2, r.stdout + r.stderr
        assert "Dossier de sortie inutilisable" in r.stderr and "système de fichiers en lecture seule" in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_file_where_the_output_folder_is_expected_gives_a_clear_error(setup, tmp_path):
    target = tmp_path / "outputs"
    target.write_text("not a folder", encoding="utf-8")
    r = _good_run(setup, target)
    assert r.returncode == 2
    assert "Dossier de sortie inutilisable" in r.stderr and "Traceback" not in r.stderr
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_unwritable_bundle_export_target_gives_a_clear_error(setup, tmp_path):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    r = _run(["export", "--bundle", setup["bundle"], str(target / "sub")])
    assert r.returncode == 2 and "export impossible" in r.stderr and "Traceback" not in r.stderr


# --------------------------------------------------------------------------- concurrency

def test_two_runs_at_once_on_one_output_folder(setup, tmp_path):
    out = tmp_path / "outputs"
    argv = [FNE_EVAL, "run", str(setup["plan"]), "--bundle", setup["bundle"], "--out", str(out), "--to", "html",
            "--no-progress"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=WAIT_S) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    runs = list_runs(out)
    assert len(runs) == 2 and runs[0]["run_id"] != runs[1]["run_id"]
    index = (out / "index.html").read_text(encoding="utf-8")
    for m in runs:
        assert m["run_id"] in index
        folder = out / m["run_id"]
        assert (folder / "index.html").is_file() and (folder / "html" / "demo.html").is_file()
        assert m["counts"] == {"ok": 1, "failed": 0}
    assert not list(out.glob(".*.partial"))
