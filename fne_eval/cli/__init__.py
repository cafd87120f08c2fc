"""The ``fne-eval`` command line: one module per command family, :func:`main` dispatches."""
from fne_eval.cli.main import main

__all__ = ["main"]
