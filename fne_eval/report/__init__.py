"""Report display layer: French formats, labels, theme, tables, charts, maps, sections.

Notebooks call :func:`open_report` once, then one function of
:mod:`fne_eval.report.sections` per section. Everything a report reader sees is French.
"""
from fne_eval.report.context import ReportContext, make_context, open_report  # noqa: F401

__all__ = ["ReportContext", "make_context", "open_report"]
