"""fne-eval: evaluation of the France Numérique Ensemble roadmap of the Bouches-du-Rhône.

The package reads one data bundle (reference data, the roadmap, monitoring data),
validates it, computes every figure of the COPIL reports with pure functions, and
runs parameterized notebooks into HTML and PDF reports.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("fne-eval")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
