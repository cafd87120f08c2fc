"""The sections of the reports: one function per notebook section.

Each function takes the :class:`~fne_eval.report.context.ReportContext` returned by
:func:`~fne_eval.report.open_report` and returns a :class:`Section`, an object Jupyter
displays (``_repr_html_``): short French sentences, HTML tables and charts with alt text.
Sections select, format and draw; they compute no quantity. Figures come from the
indicator store (:mod:`fne_eval.store`, read through :mod:`fne_eval.report.storeview`,
each published figure tagged with its ``data-*`` key) and from the evaluation modules
(:mod:`fne_eval.evaluate`: budget, schedule, météo, quality, impact); text from the data
is HTML-escaped. When the territory has no data, a section says « Pas de données : … ».

Sections per notebook
---------------------
``impact``          :mod:`.impact`: :func:`context`, :func:`offer`, :func:`activity`,
                    :func:`results`, :func:`impact_estimate`; :mod:`.common`:
                    :func:`data_quality`, :func:`sources`
``budget``          :mod:`.budget`: :func:`budget_summary`, :func:`budget_by` (action, axis,
                    recipient, funder), :func:`budget_pace`, :func:`training_fund`
``revue_annuelle``  :mod:`.annual_review` (the COPIL dossier): :func:`first_page`,
                    :func:`action_pages`, :func:`governance`, :func:`funding_outlook`,
                    :func:`to_confirm`, :func:`rules`

Where a new section goes: in the module of its notebook; a block two notebooks share goes
to :mod:`.common`. Modules import one way: ``common`` ← ``budget`` ← ``impact`` ←
``annual_review``.
"""
from fne_eval.report.sections.common import *  # noqa: F401,F403
from fne_eval.report.sections.common import __all__ as _common_all
from fne_eval.report.sections.budget import *  # noqa: F401,F403
from fne_eval.report.sections.budget import __all__ as _budget_all
from fne_eval.report.sections.impact import *  # noqa: F401,F403
from fne_eval.report.sections.impact import __all__ as _impact_all
from fne_eval.report.sections.annual_review import *  # noqa: F401,F403
from fne_eval.report.sections.annual_review import __all__ as _review_all

__all__ = [*_common_all, *_budget_all, *_impact_all, *_review_all]
