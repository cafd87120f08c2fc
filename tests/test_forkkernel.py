"""Kernels forked from the pre-imported template (fne_eval.runner.forkkernel)."""
import nbformat
import pytest
from nbclient import NotebookClient

from fne_eval.runner import forkkernel
from fne_eval.runner.forkkernel import ForkKernelManager, _kernel_argv

pytestmark = pytest.mark.skipif(not forkkernel.enabled(), reason="no fork on this platform")


def _nb(*sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _run(nb):
    NotebookClient(nb, kernel_name="python3", kernel_manager_class=ForkKernelManager, timeout=120).execute()
    return nb


def test_each_notebook_gets_a_fresh_kernel_with_inline_figures():
    try:
        first = _run(_nb("import os\nleak = 'rapport A'\nos.getpid()",
                         "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"))
        second = _run(_nb("import os\n'leak' in globals(), os.getpid()"))
    finally:
        forkkernel.close_template()
    assert forkkernel._TEMPLATE_FAILED is False
    pid_a = int(first.cells[0].outputs[0]["data"]["text/plain"])
    seen, pid_b = second.cells[0].outputs[0]["data"]["text/plain"].strip("()").split(", ")
    assert seen == "False"  # nothing of report A in report B's kernel
    assert int(pid_b) != pid_a
    # the inline backend still hooks into the forked kernel's shell
    assert any("image/png" in o.get("data", {}) for o in first.cells[1].outputs)


def test_only_standard_kernel_commands_are_forked():
    import sys

    assert _kernel_argv([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]) == ["-f", "k.json"]
    assert _kernel_argv(["python", "-m", "ipykernel_launcher", "-f", "k.json"]) == ["-f", "k.json"]
    assert _kernel_argv(["/opt/R/bin/R", "--slave", "-f", "k.json"]) is None
    assert _kernel_argv([sys.executable, "-m", "other_kernel", "-f", "k.json"]) is None


def test_a_run_shares_one_template_over_its_socket_and_stops_it():
    """The run's template (start_shared_template) forks the kernels of a process that did not start it."""
    import os

    shared = forkkernel.start_shared_template()
    assert shared is not None
    try:
        assert os.environ[forkkernel.SHARED_ENV] == shared.spec
        forkkernel.close_template()  # this process's own template, if an earlier test left one
        first = _run(_nb("import os\nos.getpid(), os.getppid()"))
        second = _run(_nb("import os\n'leak' in globals(), os.getppid()"))
        tpl = forkkernel.template()
        assert isinstance(tpl, forkkernel._SocketTemplate)
    finally:
        shared.close()
        forkkernel.close_template()
    pid_a, parent_a = (int(x) for x in first.cells[0].outputs[0]["data"]["text/plain"].strip("()").split(", "))
    seen, parent_b = second.cells[0].outputs[0]["data"]["text/plain"].strip("()").split(", ")
    # both kernels are children of the shared template, not of this process nor of a template of its own
    assert parent_a == shared.proc.pid and int(parent_b) == shared.proc.pid
    assert pid_a != shared.proc.pid and seen == "False"
    assert shared.proc.poll() is not None  # stopped by close()
    assert forkkernel.SHARED_ENV not in os.environ and not os.path.exists(shared.folder)
