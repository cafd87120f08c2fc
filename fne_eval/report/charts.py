"""Draw the report charts (seaborn, French labels) as PNG images with alt text.

Each function returns a :class:`Chart`: it displays in Jupyter as an ``<img>`` with a
base64 PNG, an ``alt`` text describing what the chart shows, and a caption; the
notebook never holds a live matplotlib figure. Callers pass tidy frames whose values
are already computed (and already disclosure-controlled when they count people).
"""
from __future__ import annotations

import base64
import html
import io
import textwrap
from typing import Optional, Sequence

import pandas as pd

from fne_eval.report import format as F
from fne_eval.report.figcache import cached, register_chart_class
from fne_eval.report.tables import HtmlFragment
from fne_eval.report.theme import BUDGET_COLORS, DPI, METEO_COLORS, PALETTE, new_figure


@register_chart_class
class Chart(HtmlFragment):
    """A rendered chart: PNG bytes, alt text and caption, displayable in Jupyter."""

    def __init__(self, png: bytes, alt: str, caption: str = "", width_px: Optional[int] = None):
        self.png = png
        self.alt = alt
        self.caption = caption
        self.width_px = width_px
        b64 = base64.b64encode(png).decode("ascii")
        width = f' width="{int(width_px)}"' if width_px else ""
        cap = (f'<figcaption style="font-size:0.85em;color:#444">{html.escape(caption)}</figcaption>'
               if caption else "")
        text = (f'<figure class="fne-chart" style="margin:0.5em 0 1em 0">'
                f'<img src="data:image/png;base64,{b64}" alt="{html.escape(alt, quote=True)}"'
                f'{width} style="max-width:100%;height:auto">{cap}</figure>')
        super().__init__(text, text=f"Graphique : {alt}")


def wrap_title(title: str, width: int = 75) -> str:
    """Return a chart title wrapped on several lines so that it fits the figure width."""
    return "\n".join(textwrap.wrap(str(title), width, break_on_hyphens=False)) or str(title)


def render(fig, alt: str, caption: str = "") -> Chart:
    """Return a :class:`Chart` from a matplotlib figure (the figure is then discarded)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    width = int(round(fig.get_figwidth() * DPI))
    fig.clear()
    return Chart(buf.getvalue(), alt=alt, caption=caption, width_px=width)


def _thousands(ax, axis: str = "x", kind: str = "int") -> None:
    from matplotlib.ticker import FuncFormatter  # lazy: matplotlib (~1 s), charts only

    from matplotlib.ticker import MaxNLocator  # lazy: matplotlib (~1 s), charts only

    fmt = {"int": lambda v, _: F.fmt_int(v), "eur": lambda v, _: F.fmt_eur(round(v)),
           "pct": lambda v, _: F.fmt_pct(v, 0)}[kind]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(fmt))
    # French amounts are wide ("12 500 €"): few ticks on a horizontal axis, so they never touch
    target.set_major_locator(MaxNLocator(nbins=5 if axis == "x" else 7, integer=kind == "int"))


def _describe_extremes(df: pd.DataFrame, label: str, value: str, fmt) -> str:
    if df.empty:
        return "aucune donnée"
    top = df.loc[df[value].astype(float).idxmax()]
    low = df.loc[df[value].astype(float).idxmin()]
    if len(df) == 1:
        return f"{top[label]} : {fmt(top[value])}"
    return (f"valeur la plus haute {top[label]} ({fmt(top[value])}), "
            f"la plus basse {low[label]} ({fmt(low[value])})")


@cached
def bar_chart(
    df: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    value_label: str,
    kind: str = "int",
    color: Optional[str] = None,
    max_bars: int = 20,
    caption: str = "",
) -> Chart:
    """Draw horizontal bars of ``value`` per ``label`` (largest first).

    Parameters
    ----------
    df : DataFrame
        One row per bar; ``label`` holds French text, ``value`` a number.
    kind : {'int', 'eur', 'pct'}
        How values are formatted on the axis and in the alt text.
    """
    if kind not in ("int", "eur", "pct"):
        raise ValueError(f"unknown kind {kind!r}, expected 'int', 'eur' or 'pct'")
    fmt = {"int": F.fmt_int, "eur": F.fmt_eur, "pct": F.fmt_pct}[kind]
    data = df[[label, value]].dropna().copy()
    data[value] = data[value].astype(float)
    data = data.sort_values(value, ascending=False).head(max_bars)
    data[label] = data[label].astype(str)
    height = min(7.5, 0.9 + 0.28 * max(len(data), 1))
    fig, ax = new_figure(height=height)
    import seaborn as sns  # lazy: seaborn (~2 s, scipy), charts only

    if len(data):
        sns.barplot(data=data, y=label, x=value, ax=ax, color=color or PALETTE[0], orient="h")
        for patch, v in zip(ax.patches, data[value]):
            ax.annotate(fmt(v), (patch.get_width(), patch.get_y() + patch.get_height() / 2),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
        ax.margins(x=0.15)
    ax.set_title(wrap_title(title))
    ax.set_xlabel(value_label)
    ax.set_ylabel("")
    _thousands(ax, "x", kind)
    alt = f"{title}. Diagramme en barres, {len(data)} barres ; " + _describe_extremes(
        data, label, value, fmt) + "."
    return render(fig, alt, caption)


@cached
def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    y_label: str,
    hue: Optional[str] = None,
    x_label: str = "Mois",
    kind: str = "int",
    caption: str = "",
) -> Chart:
    """Draw ``y`` over time ``x`` (one line per ``hue`` value), French month ticks."""
    if kind not in ("int", "eur", "pct"):
        raise ValueError(f"unknown kind {kind!r}, expected 'int', 'eur' or 'pct'")
    fmt = {"int": F.fmt_int, "eur": F.fmt_eur, "pct": F.fmt_pct}[kind]
    data = df.dropna(subset=[y]).copy()
    data[x] = pd.to_datetime(data[x])
    data[y] = data[y].astype(float)
    fig, ax = new_figure()
    import seaborn as sns  # lazy: seaborn (~2 s, scipy), charts only

    if len(data):
        sns.lineplot(data=data, x=x, y=y, hue=hue, ax=ax, marker="o", markersize=3)
        from matplotlib.ticker import FuncFormatter  # lazy: matplotlib (~1 s), charts only
        import matplotlib.dates as mdates  # lazy: matplotlib (~1 s), charts only

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: F.fmt_month(mdates.num2date(v))))
        if hue:  # below the plot, never over the lines
            handles, names = ax.get_legend_handles_labels()
            ax.get_legend().remove()
            fig.legend(handles, names, loc="outside lower center", ncol=max(len(names), 1), title=None)
    ax.set_title(wrap_title(title))
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    _thousands(ax, "y", kind)
    if len(data):
        ordered = data.sort_values(x)
        first, last = ordered.iloc[0], ordered.iloc[-1]
        if hue:
            lasts = ordered.groupby(hue, sort=False).tail(1)
            end = "dernières valeurs : " + ", ".join(f"{h} {fmt(v)}" for h, v in zip(lasts[hue], lasts[y]))
        else:
            end = f"dernière valeur {fmt(last[y])}"
        alt = f"{title}. Courbe de {F.fmt_month(first[x])} à {F.fmt_month(last[x])} ; {end}."
    else:
        alt = f"{title}. Aucune donnée."
    return render(fig, alt, caption)


@cached
def grouped_bars(
    df: pd.DataFrame,
    label: str,
    values: Sequence[str],
    value_labels: Sequence[str],
    title: str,
    value_label: str,
    kind: str = "eur",
    colors: Optional[Sequence[str]] = None,
    caption: str = "",
) -> Chart:
    """Draw, per ``label``, one horizontal bar per column of ``values`` side by side."""
    if kind not in ("int", "eur", "pct"):
        raise ValueError(f"unknown kind {kind!r}, expected 'int', 'eur' or 'pct'")
    long = df[[label, *values]].melt(id_vars=label, var_name="serie", value_name="v")
    long["v"] = long["v"].map(lambda v: float(v) if not F.is_missing(v) else 0.0)
    names = dict(zip(values, value_labels))
    long["serie"] = long["serie"].map(names)
    long[label] = long[label].astype(str)
    palette = list(colors) if colors else [BUDGET_COLORS.get(v, PALETTE[i]) for i, v in enumerate(values)]
    height = min(6.0, 1.0 + 0.14 * len(long))
    fig, ax = new_figure(height=height)
    import seaborn as sns  # lazy: seaborn (~2 s, scipy), charts only

    if len(long):
        sns.barplot(data=long, y=label, x="v", hue="serie", ax=ax, palette=palette, orient="h")
        ax.get_legend().remove()
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=len(values))
    ax.set_title(wrap_title(title))
    ax.set_xlabel(value_label)
    ax.set_ylabel("")
    _thousands(ax, "x", kind)
    fmt = {"int": F.fmt_int, "eur": F.fmt_eur, "pct": F.fmt_pct}[kind]
    totals = " ; ".join(f"{n} au total {fmt(sum(float(x) for x in df[v] if not F.is_missing(x)))}"
                       for v, n in names.items())
    alt = (f"{title}. Barres groupées pour {len(df)} élément{'s' if len(df) > 1 else ''} ; {totals}.")
    return render(fig, alt, caption)


#: Colours and legend labels of the Gantt's bars, by ``bar_kind`` of
#: :func:`fne_eval.evaluate.schedule.gantt_data` (the legend lists only the kinds drawn).
GANTT_KINDS = {
    "done": (METEO_COLORS["green"], "Réalisé (terminé)"),
    "in_progress": (PALETTE[0], "Réalisé (en cours)"),
    "overdue": (METEO_COLORS["red"], "Fin prévue dépassée, non terminée"),
}
GANTT_PLANNED = "#BFD7EA"


def gantt_kind_colors(df: pd.DataFrame) -> dict:
    """Return ``{task index: colour}`` of the actual bars the Gantt draws (no bar: not listed)."""
    out = {}
    for i, row in df.reset_index(drop=True).iterrows():
        kind = str(row.get("bar_kind", ""))
        if kind in GANTT_KINDS and (pd.notna(row.get("actual_start")) or kind == "overdue"):
            out[i] = GANTT_KINDS[kind][0]
    return out


@cached
def gantt_chart(
    df: pd.DataFrame,
    title: str,
    as_of=None,
    label: str = "task_label",
    caption: str = "",
    height: Optional[float] = None,
) -> Chart:
    """Draw a Gantt chart of planned (light) vs actual (coloured) windows of tasks.

    ``df`` has one row per task with ``label``, ``planned_start``, ``planned_end``,
    ``actual_start``, ``actual_end`` (actual may be missing) and ``bar_kind``
    (:func:`fne_eval.evaluate.schedule.gantt_data`): finished work is green, work in progress
    within its window blue, a task whose planned end has passed and which is not finished
    red (when it has not started, the red bar runs from its planned end to ``as_of``). The
    legend lists only the kinds drawn.
    """
    import matplotlib.dates as mdates  # lazy: matplotlib (~1 s), charts only
    from matplotlib.patches import Patch  # lazy: matplotlib (~1 s), charts only

    data = df.copy().reset_index(drop=True)
    for c in ("planned_start", "planned_end", "actual_start", "actual_end"):
        data[c] = pd.to_datetime(data[c]) if c in data.columns else pd.NaT
    if "bar_kind" not in data:
        data["bar_kind"] = "in_progress"
    n = len(data)
    fig, ax = new_figure(height=height or min(9.0, 1.0 + 0.32 * max(n, 1)))
    names = [shorten_text(str(v), 60) for v in data[label]]
    colors = gantt_kind_colors(data)
    drawn = set()
    limit = pd.Timestamp(as_of) if as_of is not None else None
    for i, row in data.iterrows():
        y = n - 1 - i
        if pd.notna(row["planned_start"]) and pd.notna(row["planned_end"]):
            ax.barh(y + 0.18, (row["planned_end"] - row["planned_start"]).days or 1,
                    left=mdates.date2num(row["planned_start"]), height=0.32, color=GANTT_PLANNED)
        if i not in colors:
            continue
        if pd.notna(row["actual_start"]):
            start = row["actual_start"]
            end = row["actual_end"] if pd.notna(row["actual_end"]) else start
        else:  # overdue and not started: the time past its planned end
            start, end = row["planned_end"], limit if limit is not None else row["planned_end"]
        ax.barh(y - 0.18, max((end - start).days, 1), left=mdates.date2num(start), height=0.32,
                color=colors[i])
        drawn.add(str(row["bar_kind"]))
    ax.set_yticks(range(n))
    ax.set_yticklabels(list(reversed(names)), fontsize=7 if n > 25 else 9)
    ax.xaxis_date()
    from matplotlib.ticker import FuncFormatter  # lazy: matplotlib (~1 s), charts only

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1,)))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: F.fmt_month(mdates.num2date(v))))
    ax.grid(axis="x", which="minor", linewidth=0.4, alpha=0.5)
    ax.grid(axis="y", visible=False)
    ax.set_ylim(-0.6, n - 0.4)
    if as_of is not None:
        ax.axvline(mdates.date2num(pd.Timestamp(as_of)), color="#333", linestyle="--", linewidth=1)
    ax.set_title(wrap_title(title, 55))
    ax.set_xlabel("")
    handles = [Patch(color=GANTT_PLANNED, label="Prévu")] + [
        Patch(color=c, label=lab) for k, (c, lab) in GANTT_KINDS.items() if k in drawn]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    late = int((data["bar_kind"] == "overdue").sum())
    running = int((data["bar_kind"] == "in_progress").sum())
    alt = (f"{title}. Diagramme de Gantt de {n} tâche{'s' if n > 1 else ''} : fenêtres prévues "
           f"en clair, réalisations en couleur ; {running} en cours en bleu"
           + (f" ; {late} dont la fin prévue est dépassée sans être terminées, en rouge" if late else "")
           + (f" ; trait vertical à la date du {F.fmt_date(as_of)}" if as_of is not None else "") + ".")
    return render(fig, alt, caption)


def shorten_text(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
