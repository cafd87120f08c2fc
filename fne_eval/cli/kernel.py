"""The Jupyter kernel « fne-eval »: the environment's Python, with a language_info that does not change.

JupyterLab counts the ``language_info`` a kernel reports on start as a change of the
notebook whenever it differs from the saved one: with IPython's kernel it holds the Python
version (``3.11.7``), so a notebook opened on another machine was marked modified before
anything was done. This kernel is IPython's, reporting the same ``language_info`` without
the version; the notebooks are saved with exactly that, so opening one changes nothing.

Install it once for JupyterLab (the environment's interpreter, absolute path)::

    .venv/bin/python -m fne_eval.cli.kernel install --user

(``--sys-prefix`` installs it in the virtual environment instead). The tests find the
same kernelspec in ``jupyter/kernels/fne-eval`` without installing it (``conftest.py``).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ipykernel.ipkernel import IPythonKernel

from fne_eval.cli.french import FrenchArgumentParser

KERNEL_NAME = "fne-eval"
DISPLAY_NAME = "Python (fne-eval)"
#: IPython's language_info without the Python version (identical on every machine)
LANGUAGE_INFO = {k: v for k, v in IPythonKernel.language_info.items() if k != "version"}


class FneEvalKernel(IPythonKernel):
    """IPython's kernel reporting :data:`LANGUAGE_INFO` (no Python version)."""

    implementation = "fne-eval"
    language_info = LANGUAGE_INFO


def kernel_json(python: str = "python") -> dict:
    """The kernelspec: ``python`` (``"python"`` = the interpreter that starts the kernel) runs :class:`FneEvalKernel`."""
    return {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.kernel_class=fne_eval.cli.kernel.FneEvalKernel"],
            "display_name": DISPLAY_NAME, "language": "python", "metadata": {"debugger": True}}


def install(user: bool = True, prefix=None) -> str:
    """Install the kernelspec for JupyterLab; return its folder."""
    from jupyter_client.kernelspec import KernelSpecManager  # lazy: jupyter_client (~0.5 s), kernel launch only

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(kernel_json(sys.executable), indent=1) + "\n",
                                               encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(tmp, KERNEL_NAME, user=user and prefix is None,
                                                       prefix=prefix)


def main(argv=None) -> int:
    parser = FrenchArgumentParser(prog="python -m fne_eval.cli.kernel",
                                  description="Installer le noyau Jupyter « fne-eval » (cet environnement Python).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE", title="commandes")
    p = sub.add_parser("install", help="installer le noyau pour JupyterLab",
                       description="Installer le noyau pour JupyterLab.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="dans le dossier de l'utilisateur (défaut)")
    where.add_argument("--sys-prefix", action="store_true", help="dans l'environnement virtuel")
    where.add_argument("--prefix", default=None, metavar="DOSSIER", help="sous DOSSIER/share/jupyter/kernels")
    args = parser.parse_args(argv)
    prefix = sys.prefix if args.sys_prefix else args.prefix
    folder = install(user=prefix is None, prefix=prefix)
    print(f"Noyau « {KERNEL_NAME} » installé : {folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
