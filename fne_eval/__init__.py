"""fne-eval: evaluation of the France Numérique Ensemble roadmap of the Bouches-du-Rhône.

The package reads one data bundle (reference data, the roadmap, monitoring data),
validates it, computes every figure of the COPIL reports with pure functions, and
runs parameterized notebooks into HTML and PDF reports.

``__version__`` is read from the installed distribution when first asked for (PEP 562):
:mod:`importlib.metadata` costs ~0,3 s, which ``fne-eval --help`` need not pay.
"""

__all__ = ["__version__"]


def __getattr__(name: str):
    if name != "__version__":
        raise AttributeError(f"module 'fne_eval' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # lazy: importlib.metadata (~0,3 s), version only

    try:
        value = version("fne-eval")
    except PackageNotFoundError:  # running from a source tree without install
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
