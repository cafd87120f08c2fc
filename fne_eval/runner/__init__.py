"""Run plans, batch execution of notebooks, rendering, manifest and indexes.

- :mod:`~fne_eval.runner.plan`: load and validate ``params/*.yaml``, expand into entries;
- :mod:`~fne_eval.runner.execute`: ``run_entry`` (one entry, picklable), executors,
  ``run_plan`` (the whole ``fne-eval run``);
- :mod:`~fne_eval.runner.render`: HTML (nbconvert) and PDF (WeasyPrint or Quarto);
- :mod:`~fne_eval.runner.manifest`, :mod:`~fne_eval.runner.index`: ``manifest.json`` and
  the ``index.html`` pages;
- :mod:`~fne_eval.cli.run`: ``cmd_plan`` and ``cmd_run``.

Imports are kept out of this file so that ``fne-eval --help`` stays fast.
"""
