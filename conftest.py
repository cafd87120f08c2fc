"""Test-session set-up shared by ``tests/`` and ``notebooks/`` (``pytest tests notebooks --nbmake``).

The notebooks name the Jupyter kernel « fne-eval » (so that JupyterLab shows which
environment runs them). Its kernelspec is kept in the repository (``jupyter/kernels/``)
and put on ``JUPYTER_PATH`` here, so that nbmake and nbclient find it in a fresh clone
without ``ipykernel install``; ``"python"`` in its argv is the interpreter running the tests.
"""
import os
from pathlib import Path

_KERNELS = str(Path(__file__).resolve().parent / "jupyter")
if _KERNELS not in os.environ.get("JUPYTER_PATH", "").split(os.pathsep):
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (_KERNELS, os.environ.get("JUPYTER_PATH", "")) if p)
