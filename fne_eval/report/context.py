"""Open a report: load the bundle, check the parameters, apply the theme, show the header.

:func:`open_report` is the one setup call of every notebook. It returns a
:class:`ReportContext` that the section builders of :mod:`fne_eval.report.sections`
take as their first argument.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from typing import Optional

import pandas as pd

from fne_eval.bundle import load_bundle
from fne_eval.core.periods import evaluated_as_of
from fne_eval.report import format as F
from fne_eval.report.labels import code_label
from fne_eval.report.tables import HtmlFragment
from fne_eval.report.theme import apply_theme

#: Reports and their French titles.
REPORTS = {
    "impact": "Évaluation d'impact",
    "budget": "Suivi budgétaire",
    "revue_annuelle": "Revue annuelle de la feuille de route",
    "annexe": "Annexe pour l'analyste : qualité des données et traçabilité",
}

#: French names of the monitoring tables, for the synthetic-data banner.
TABLE_NAMES_FR = {
    "activities": "accompagnements", "budget_transactions": "engagements et paiements",
    "schedule_status": "avancement du chronogramme", "trainings": "départs en formation",
    "refurbishment": "reconditionnement", "events": "événements",
    "network_meetings": "réunions du réseau", "lieux": "lieux",
    "meetings": "réunions de gouvernance", "decisions": "décisions des instances et leur suivi",
}


@dataclass
class ReportContext:
    """What every section of a report needs: the bundle and the validated parameters.

    Attributes
    ----------
    bundle : fne_eval.bundle.Bundle
    report : {'impact', 'budget', 'revue_annuelle'}
    territory_code, territory_name, level : str
        The territory under study (``level`` in ``departement``, ``epci``, ``commune``,
        ``arrondissement``).
    axis : str
        ``"all"`` or an axis code.
    year : int
        Year under evaluation.
    threshold : int
        Disclosure threshold: counts of people below it are never shown.
    as_of : pandas.Timestamp
        Date the figures are computed at: 31 December of ``year``, or the bundle's
        ``data_as_of`` when earlier.
    """

    bundle: object
    report: str
    territory_code: str
    territory_name: str
    level: str
    axis: str
    year: int
    threshold: int
    as_of: pd.Timestamp
    data_as_of: Optional[pd.Timestamp] = None
    extra: dict = field(default_factory=dict)
    #: Log lines and warnings emitted by the evaluation modules while the report ran
    #: (rows dropped by a join, units without a value...): shown in the sources section.
    log: list = field(default_factory=list)

    @property
    def is_synthetic(self) -> bool:
        """Return True when the bundle holds synthetic data."""
        return bool(getattr(self.bundle, "is_synthetic", False))

    @property
    def axes(self) -> list:
        """Return the axis codes the report covers."""
        all_axes = sorted(self.bundle["axes"]["axis_code"].astype(str).tolist())
        return all_axes if self.axis == "all" else [self.axis]

    @property
    def title(self) -> str:
        """Return the report's French title line."""
        return f"{REPORTS[self.report]} — {self.territory_label} — {self.axis_label} — {self.year}"

    @property
    def territory_label(self) -> str:
        """Return "Name (level code)" of the territory."""
        lvl = code_label("level", self.level)
        return f"{self.territory_name} ({lvl} {self.territory_code})"

    @property
    def axis_label(self) -> str:
        """Return the axis in words ("tous les axes", "axe 2 : …")."""
        if self.axis == "all":
            return "tous les axes"
        axes = self.bundle["axes"]
        row = axes[axes["axis_code"].astype(str) == self.axis]
        title = str(row["axis_title"].iloc[0]) if len(row) else ""
        return f"axe {self.axis}" + (f" : {title}" if title else "")

    def header(self) -> HtmlFragment:
        """Return the report header: subtitle, parameters, provenance, synthetic banner."""
        meta = getattr(self.bundle, "meta", {}) or {}
        lines = [
            '<div class="fne-header">',
            f'<p class="fne-subtitle" style="font-size:1.15em;font-weight:bold;margin:0.2em 0">'
            f'{html.escape(self.territory_label)} — {html.escape(self.axis_label)} — '
            f'année {self.year}</p>',
            '<p class="fne-provenance" style="color:#444;font-size:0.9em;margin:0.2em 0">'
            f'Chiffres arrêtés au {html.escape(F.fmt_date(self.as_of))}'
            + (f" ; données disponibles jusqu'au {html.escape(F.fmt_date(self.data_as_of))}"
               if self.data_as_of is not None else "")
            + f" ; effectifs de moins de {self.threshold} personnes masqués (secret statistique).</p>",
        ]
        if self.is_synthetic:
            lines.append(synthetic_banner(meta))
        lines.append("</div>")
        return HtmlFragment("".join(lines), text=self.title)

    def _repr_html_(self) -> str:
        return self.header()._repr_html_()


def synthetic_banner(meta: dict) -> str:
    """Return the paragraph saying which monitoring tables are synthetic.

    The rendered report already opens with one banner ("Données synthétiques", from the
    report template, repeated in the footer of every PDF page): this paragraph, under the
    report's parameters, only details which tables are generated, without a second box.
    """
    tables = meta.get("synthetic_tables") or []
    names = ", ".join(TABLE_NAMES_FR.get(t, t) for t in tables)
    # tables imported from real sources (La Coop, Mon Inclusion Numérique...): said real, so that
    # a bundle mixing them with generated ones does not call every monitoring figure fictitious
    origins = meta.get("table_origins") or {}
    real = [TABLE_NAMES_FR[t] for t, e in origins.items()
            if t in TABLE_NAMES_FR and t not in tables and isinstance(e, dict) and e.get("origin") == "imported"]
    # the generator's seed is lineage, for the analyst's annex: never in a published report
    if names:
        text = (f"générées par un programme : {names}. Ces chiffres ne décrivent pas la réalité ; "
                + (f"{', '.join(real)} : données réelles importées ; " if real else "")
                + "les référentiels (territoires, populations INSEE, IFN) et la feuille de route sont réels.")
    else:
        text = ("générées par un programme. Les chiffres d'activité, d'exécution budgétaire et d'avancement ne "
                "décrivent pas la réalité ; seuls les référentiels (territoires, populations INSEE, IFN) et "
                "la feuille de route sont réels.")
    return ('<p class="fne-synthetic-detail" style="color:#5a1e00;font-size:0.9em;margin:0.2em 0">'
            f'<strong>Données de suivi synthétiques</strong>, {html.escape(text)}</p>')


def _as_of(year: int, data_as_of: Optional[pd.Timestamp]) -> pd.Timestamp:
    return evaluated_as_of(year, data_as_of)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython  # lazy: IPython exists only inside a kernel
    except ImportError:  # pragma: no cover
        return False
    return get_ipython() is not None


def make_context(bundle, territory: str = "13", axis: str = "all", year: int = 2025,
                 threshold: int = 5, report: str = "impact") -> ReportContext:
    """Check the parameters against a loaded bundle and return a :class:`ReportContext`.

    Raises
    ------
    ValueError
        Unknown report, territory, axis; a year or threshold out of range (French message).
    """
    if report not in REPORTS:
        raise ValueError(f"rapport inconnu {report!r} : attendu l'un de {sorted(REPORTS)}")
    territory = str(territory).strip()
    axis = str(axis).strip()
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValueError(f"année invalide {year!r} : attendu un entier entre 2000 et 2100")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"seuil de diffusion invalide {threshold!r} : attendu un entier ≥ 1")
    terr = bundle["territories"]
    row = terr[terr["territory_code"].astype(str) == territory]
    if row.empty:
        raise ValueError(f"territoire inconnu {territory!r} : ce code n'est pas dans la table "
                         "territories du bundle (attendu « 13 », un SIREN d'EPCI ou un code INSEE)")
    axes = bundle["axes"]["axis_code"].astype(str).tolist()
    if axis != "all" and axis not in axes:
        raise ValueError(f"axe inconnu {axis!r} : attendu « all » ou l'un de {sorted(axes)}")
    meta = getattr(bundle, "meta", {}) or {}
    data_as_of = pd.Timestamp(meta["data_as_of"]) if meta.get("data_as_of") else None
    return ReportContext(
        bundle=bundle, report=report, territory_code=territory,
        territory_name=str(row["territory_name"].iloc[0]), level=str(row["level"].iloc[0]),
        axis=axis, year=int(year), threshold=int(threshold), as_of=_as_of(int(year), data_as_of),
        data_as_of=data_as_of,
    )


class _CollectHandler(logging.Handler):
    """Keep the log records of the evaluation modules in a report's ``log`` list."""

    def __init__(self, sink: list):
        super().__init__(level=logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # pragma: no cover - a malformed record must not break a report
            msg = str(record.msg)
        if record.name == "py.warnings":  # "path:line: Category: text\n  source" -> "Category: text"
            msg = re.sub(r"^.*?:\d+: ", "", msg.strip()).splitlines()[0] if msg.strip() else msg
        if msg not in self.sink:
            self.sink.append(msg)


def capture_logs(ctx: ReportContext) -> None:
    """Route the ``fne_eval`` log lines and Python warnings into ``ctx.log``.

    In a report, a log line printed on stderr would land in the middle of the text; the
    lines are kept instead and listed in the sources section ("Journal de calcul").
    """
    logging.captureWarnings(True)
    for name in ("fne_eval", "py.warnings"):
        logger = logging.getLogger(name)
        for h in [h for h in logger.handlers if isinstance(h, _CollectHandler)]:
            logger.removeHandler(h)
        logger.addHandler(_CollectHandler(ctx.log))
        logger.propagate = False
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)


def open_report(bundle: str = "", territory: str = "13", axis: str = "all", year: int = 2025,
                threshold: int = 5, report: str = "impact", display: Optional[bool] = None
                ) -> ReportContext:
    """Load and validate the bundle, check the parameters, apply the theme, show the header.

    Parameters
    ----------
    bundle : str
        Path of the bundle; ``""`` for the embedded default bundle.
    territory : str
        ``"13"`` (département), an EPCI SIREN, or a commune/arrondissement INSEE code.
    axis : str
        ``"all"`` or an axis code (``"1"`` … ``"4"``).
    year : int
        Year under evaluation.
    threshold : int
        Disclosure threshold for counts of people.
    report : {'impact', 'budget', 'revue_annuelle'}
        Which report is opened (sets the title).
    display : bool, optional
        Display the header (default: when running inside IPython/Jupyter).

    Returns
    -------
    ReportContext
    """
    loaded = load_bundle(bundle or None)
    ctx = make_context(loaded, territory, axis, year, threshold, report)
    apply_theme()
    if display is None:
        display = _in_ipython()
    if display:
        capture_logs(ctx)
        from IPython.display import display as _display  # lazy: IPython exists only inside a kernel

        _display(ctx.header())
    return ctx
