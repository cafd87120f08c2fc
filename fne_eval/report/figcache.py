"""Draw each identical chart once per pack: a cache of rendered charts keyed by their data.

The 25 impact reports of the COPIL pack are 5 territories × 5 axes: the charts of a
territory that do not depend on the axis (the IFN map, the activity themes and trend) are
the same image in its 5 reports, and each report runs in its own fresh kernel, so an
in-memory cache would not see the other reports. :func:`cached` wraps a chart function
(``charts.bar_chart``, ``maps.choropleth``…): when ``$FNE_EVAL_FIGURE_CACHE`` names a folder
(``fne-eval run`` sets it to a private temporary folder for the run, removed at its end),
the chart is looked up there under a key made of

- the function (module and name) and the source of its module, of ``charts``, ``maps``,
  ``format`` and ``theme`` (an edited chart function never reuses an old image);
- the versions of fne-eval, matplotlib, seaborn and pandas;
- every argument: data frames by the hash of their values, index, column names and dtypes
  (:func:`pandas.util.hash_pandas_object`), mappings and sets in sorted order, scalars by
  their ``repr``.

An argument of any other type (a generator, an object) makes the call uncached: the chart
is drawn as without the cache. A hit returns a :class:`~fne_eval.report.charts.Chart` with
the very bytes, alt text, caption and width drawn the first time, so a report is the same
with or without the cache. Entries are written atomically (temporary file, then
``os.replace``): two kernels drawing the same chart at once both write the same content.
Without the variable (a notebook run by hand) nothing is cached.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import pandas

from fne_eval import __version__
from fne_eval.bundle.diskcache import call_key

ENV = "FNE_EVAL_FIGURE_CACHE"
#: What this kernel's charts cost: draws, hits, seconds spent drawing and reading (benchmarks read it).
STATS = {"drawn": 0, "hits": 0, "uncached": 0, "draw_seconds": 0.0, "hit_seconds": 0.0}


def cache_folder() -> Optional[Path]:
    """Return the figure cache folder (``$FNE_EVAL_FIGURE_CACHE``), or None when it is not set."""
    value = os.environ.get(ENV, "").strip()
    if not value or value.lower() in ("off", "0", "no", "none", "false"):
        return None
    return Path(value)


@functools.lru_cache(maxsize=None)
def _code_stamp(module_name: str) -> str:
    """Return the hash of the sources that draw charts and of the library versions."""
    import matplotlib  # lazy: matplotlib (~1 s), charts only
    import seaborn  # lazy: seaborn (~2 s, scipy), charts only

    h = hashlib.sha256(f"fne-eval {__version__} matplotlib {matplotlib.__version__} seaborn "
                       f"{seaborn.__version__} pandas {pandas.__version__}\n".encode())
    names = [module_name, "fne_eval.report.charts", "fne_eval.report.maps", "fne_eval.report.format",
             "fne_eval.report.theme", __name__]
    for name in dict.fromkeys(names):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            h.update(Path(path).read_bytes())
    return h.hexdigest()


def chart_key(fn: Callable, args: tuple, kwargs: dict) -> Optional[str]:
    """Return the cache key of ``fn(*args, **kwargs)``, or None when an argument cannot be hashed."""
    return call_key(fn, args, kwargs, _code_stamp(fn.__module__))


#: The class a cached chart is rebuilt as; :mod:`fne_eval.report.charts` registers its ``Chart``
#: (so that this module, which charts imports, never imports charts back).
_CHART_CLASS: Optional[type] = None


def register_chart_class(cls: type) -> type:
    """Set the class cached charts are rebuilt as (called once by :mod:`fne_eval.report.charts`)."""
    global _CHART_CLASS
    _CHART_CLASS = cls
    return cls


def _read(path: Path):
    if _CHART_CLASS is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _CHART_CLASS(base64.b64decode(data["png"]), alt=data["alt"], caption=data["caption"],
                            width_px=data["width_px"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or unreadable: drawn again and rewritten


def _write(path: Path, chart) -> None:
    data = {"png": base64.b64encode(chart.png).decode("ascii"), "alt": chart.alt, "caption": chart.caption,
            "width_px": chart.width_px}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:  # a full or read-only disk costs a redraw, never a report
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass


def cached(fn: Callable) -> Callable:
    """Wrap a function returning a :class:`~fne_eval.report.charts.Chart` with the figure cache."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        folder = cache_folder()
        key = chart_key(fn, args, kwargs) if folder is not None else None
        if key is not None:
            t = time.perf_counter()
            hit = _read(folder / f"{key}.json")
            if hit is not None:
                STATS["hits"] += 1
                STATS["hit_seconds"] += time.perf_counter() - t
                return hit
        else:
            STATS["uncached"] += 1
        t = time.perf_counter()
        chart = fn(*args, **kwargs)
        STATS["drawn"] += 1
        STATS["draw_seconds"] += time.perf_counter() - t
        if key is not None:
            _write(folder / f"{key}.json", chart)
        return chart

    wrapper.uncached = fn
    return wrapper
