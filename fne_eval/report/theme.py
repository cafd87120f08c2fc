"""Apply one seaborn/matplotlib theme to every chart of the reports.

Charts are drawn on :class:`matplotlib.figure.Figure` objects created by
:func:`new_figure` (no pyplot global state, nothing auto-displayed by the notebook
backend) and sized for an A4 page: 16 cm wide at most.
"""
from __future__ import annotations

from typing import Optional

from cycler import cycler

#: Width of a full-width chart, in inches (about 16.5 cm: an A4 page minus margins).
FULL_WIDTH_IN = 6.5
#: Default height of a chart, in inches.
DEFAULT_HEIGHT_IN = 3.2
#: Resolution of the PNG images embedded in reports.
DPI = 110

#: Main colours (colour-blind safe, from the seaborn "colorblind" palette).
PALETTE = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4",
           "#949494", "#ECE133", "#56B4E9"]
#: Colours of the planned / committed / paid amounts, always the same.
BUDGET_COLORS = {"planned_eur": "#BFD7EA", "committed_eur": "#0173B2", "paid_eur": "#029E73"}
#: Colours of the météo statuses.
METEO_COLORS = {"green": "#2E9E44", "amber": "#F0A202", "red": "#C8102E", "grey": "#9E9E9E"}
#: Symbols shown beside a météo label in tables (text, so it survives PDF conversion).
METEO_SYMBOLS = {"green": "●", "amber": "●", "red": "●", "grey": "○"}
#: Colour of the territory's own communes on maps, and of the others.
HIGHLIGHT = "#0173B2"
MUTED = "#E6E6E6"

_applied = False


def rc_params() -> dict:
    """Return the matplotlib settings of the theme."""
    return {
        "figure.figsize": (FULL_WIDTH_IN, DEFAULT_HEIGHT_IN),
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.formatter.use_locale": False,
        "svg.fonttype": "none",
        # labels come from the data: a "$" must stay a dollar sign, never start mathtext
        "text.parse_math": False,
    }


def apply_theme(force: bool = False) -> None:
    """Set the seaborn theme and the matplotlib settings of the reports (idempotent)."""
    global _applied
    if _applied and not force:
        return
    import seaborn as sns  # lazy: seaborn (~2 s, scipy), charts only

    sns.set_theme(style="whitegrid", palette=PALETTE, rc=rc_params())
    _applied = True


def new_figure(height: Optional[float] = None, width: Optional[float] = None):
    """Return a new themed ``(figure, axes)`` pair not registered with pyplot."""
    apply_theme()
    from matplotlib.figure import Figure  # lazy: matplotlib (~1 s), charts only

    fig = Figure(figsize=(width or FULL_WIDTH_IN, height or DEFAULT_HEIGHT_IN), dpi=DPI,
                 layout="constrained")
    ax = fig.add_subplot()
    return fig, ax
