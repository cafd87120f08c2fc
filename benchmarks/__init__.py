"""Benchmarks of fne-eval (issue 5): batch speed, national evaluation, Dask, memory.

Run with ``python -m benchmarks --quick`` (a few minutes) or ``--full``; add ``--json`` for
the figures as JSON. Not part of the test suite (``tests/test_benchmarks_smoke.py`` only
checks that the quick mode's machinery runs). Each measurement that needs its own peak
memory runs in a fresh subprocess.
"""
