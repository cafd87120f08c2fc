"""Draw choropleth maps of the communes of the Bouches-du-Rhône with matplotlib polygons.

The outlines come from ``fne_eval/data/reference/communes_13.geojson`` (119 communes;
Marseille is one polygon, 13055: values at arrondissement level must be rolled up to the
commune by the caller, with :mod:`fne_eval.core.territory`). No geopandas: the GeoJSON is read
with :mod:`json` and drawn as a :class:`matplotlib.collections.PolyCollection`.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Iterable, Mapping, Optional

from fne_eval.core.paths import REFERENCE_DIR
from fne_eval.report import format as F
from fne_eval.report.charts import Chart, render, wrap_title
from fne_eval.report.figcache import cached
from fne_eval.report.theme import MUTED, new_figure

COMMUNES_GEOJSON = REFERENCE_DIR / "communes_13.geojson"


@lru_cache(maxsize=4)
def commune_shapes(path: Optional[str] = None) -> dict:
    """Return ``{commune_code: (name, [ring, ...])}`` from the communes GeoJSON.

    Each ring is a list of ``(lon, lat)`` pairs (outer rings only: holes are drawn filled,
    which is invisible at this scale).
    """
    with open(path or COMMUNES_GEOJSON, encoding="utf-8") as fh:
        gj = json.load(fh)
    shapes = {}
    for feat in gj["features"]:
        props, geom = feat["properties"], feat["geometry"]
        code = str(props["code"])
        if geom["type"] == "Polygon":
            rings = [geom["coordinates"][0]]
        elif geom["type"] == "MultiPolygon":
            rings = [poly[0] for poly in geom["coordinates"]]
        else:  # pragma: no cover - not in the reference file
            raise ValueError(f"unexpected geometry {geom['type']!r} for commune {code}")
        shapes[code] = (props.get("nom", code), rings)
    return shapes


@cached  # the same map is drawn once per run (fne_eval/report/figcache.py)
def choropleth(
    values: Mapping[str, float],
    title: str,
    legend_label: str,
    highlight: Optional[Iterable[str]] = None,
    marked: Optional[Iterable[str]] = None,
    marked_label: str = "",
    kind: str = "decimal",
    cmap: str = "Blues",
    caption: str = "",
) -> Chart:
    """Draw the communes coloured by ``values`` (commune code → number).

    Parameters
    ----------
    values : mapping of str to float
        Value per commune INSEE code; communes without a value are drawn in light grey.
    highlight : iterable of str, optional
        Communes of the territory under study: the others are drawn faded.
    marked : iterable of str, optional
        Communes outlined in black (e.g. the exposed communes of annexe 3).
    kind : {'int', 'decimal', 'pct'}
        How the colour bar and the alt text format values.
    """
    if kind not in ("int", "decimal", "pct"):
        raise ValueError(f"unknown kind {kind!r}, expected 'int', 'decimal' or 'pct'")
    fmt = {"int": F.fmt_int, "decimal": lambda v: F.fmt_decimal(v, 1), "pct": F.fmt_pct}[kind]
    import matplotlib as mpl  # lazy: matplotlib (~1 s), charts only
    from matplotlib.collections import PolyCollection  # lazy: matplotlib (~1 s), charts only
    from matplotlib.ticker import FuncFormatter  # lazy: matplotlib (~1 s), charts only

    shapes = commune_shapes()
    vals = {str(k): float(v) for k, v in dict(values).items() if not F.is_missing(v)}
    hi = set(map(str, highlight)) if highlight is not None else set(shapes)
    mk = set(map(str, marked)) if marked is not None else set()
    shown = [v for k, v in vals.items() if k in hi and k in shapes]
    vmin, vmax = (min(shown), max(shown)) if shown else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    norm = mpl.colors.Normalize(vmin=vmin, vmax=vmax)
    colormap = mpl.colormaps[cmap]
    polys, faces, edges, widths = [], [], [], []
    for code, (_, rings) in shapes.items():
        for ring in rings:
            polys.append(ring)
            if code in hi and code in vals:
                faces.append(colormap(norm(vals[code])))
            elif code in hi:
                faces.append("#F4F4F4")
            else:
                faces.append(MUTED)
            edges.append("black" if code in mk else ("#666666" if code in hi else "#BBBBBB"))
            widths.append(1.2 if code in mk else 0.3)
    lats = [pt[1] for ring in polys for pt in ring]
    lons = [pt[0] for ring in polys for pt in ring]
    hi_pts = [pt for code, (_, rings) in shapes.items() if code in hi for ring in rings for pt in ring]
    fig, ax = new_figure(height=4.2)
    ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors=edges, linewidths=widths))
    pts = hi_pts or list(zip(lons, lats))
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    pad_x, pad_y = (x1 - x0) * 0.05 + 0.01, (y1 - y0) * 0.05 + 0.01
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    ax.set_ylim(y0 - pad_y, y1 + pad_y)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()
    ax.set_title(wrap_title(title, 60))
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=colormap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.7, label=legend_label)
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    if mk and marked_label:
        from matplotlib.patches import Patch  # lazy: matplotlib (~1 s), charts only

        ax.legend(handles=[Patch(facecolor="white", edgecolor="black", linewidth=1.2,
                                 label=marked_label)], loc="lower left")
    n_val = len([k for k in vals if k in hi and k in shapes])
    alt = (f"{title}. Carte des communes ({len(hi & set(shapes))} communes du territoire, "
           f"{n_val} avec une valeur)")
    if shown:
        names = {k: shapes[k][0] for k in shapes}
        top = max((k for k in vals if k in hi and k in shapes), key=lambda k: vals[k])
        low = min((k for k in vals if k in hi and k in shapes), key=lambda k: vals[k])
        alt += (f" ; {legend_label} de {fmt(vals[low])} ({names[low]}) "
                f"à {fmt(vals[top])} ({names[top]})")
    if mk:
        alt += f" ; {len(mk & set(shapes))} communes entourées : {marked_label or 'communes signalées'}"
    return render(fig, alt + ".", caption)
