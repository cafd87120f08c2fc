"""Judge indicators against their targets with the roadmap's own rules of evidence.

:func:`fne_eval.evaluate.indicators.indicator_progress` compares a value with any target of
the catalogue. A COPIL cannot count all of them: some targets are proposals made when the
catalogue was written (« proposition … à valider en COPIL »), some values are older than
the evaluated year, some targets equal their baseline. :func:`target_verdicts` gives each
indicator one verdict id (French wording in the report layer):

``T1`` ``on_track`` / ``off_track``  the target of the year is the roadmap's own, the value
                                     is of the evaluated year, the target differs from the
                                     baseline: the only verdicts that count;
``T2`` ``proposal``                  the target of the year is a proposal: shown apart, never counted;
``T3`` ``stale``                     the latest value is older than the evaluated year (« donnée non à jour »);
``T4`` ``target_equals_baseline``    the roadmap's baseline equals the target: nothing to
                                     progress towards, no verdict;
``T0`` ``no_target``                 no target for that year.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Words of ``target_source`` that make a target a proposal, not the roadmap's.
PROPOSAL_MARKERS = ("proposition", "à valider")
#: Words of ``baseline_source`` / ``target_source`` saying there is none in the roadmap.
NONE_MARKERS = ("pas de cible", "indicateur de contexte")

VERDICT_RULES = {
    "on_track": "T1", "off_track": "T1", "proposal": "T2", "stale": "T3",
    "target_equals_baseline": "T4", "no_target": "T0",
}
COUNTED_VERDICTS = ("on_track", "off_track")

_YEARS = re.compile(r"^\s*((?:20\d\d)(?:\s*(?:,|et|-|–|à)\s*20\d\d)*)\s*:")


def _segment_years(segment: str) -> list:
    """Return the years a ``"2025 et 2026 : …"`` / ``"2026-2027 : …"`` segment is about (empty: all)."""
    m = _YEARS.match(segment)
    if not m:
        return []
    found = [int(y) for y in re.findall(r"20\d\d", m.group(1))]
    if re.search(r"20\d\d\s*[-–à]\s*20\d\d", m.group(1)) and len(found) == 2:
        return list(range(found[0], found[1] + 1))
    return found


def target_origin(target_source, year: int) -> str:
    """Return where the target of ``year`` comes from: ``'roadmap'``, ``'proposal'`` or ``'none'``.

    ``target_source`` may speak of several years, segments separated by « ; »
    (« 2027 : Feuille de route, annexe 6 … ; 2025 et 2026 : proposition … »).
    """
    if target_source is None or (isinstance(target_source, float) and np.isnan(target_source)):
        return "none"
    text = str(target_source)
    if not text.strip():
        return "none"
    segments = [s for s in text.split(";") if s.strip()]
    chosen = None
    for seg in segments:
        years = _segment_years(seg)
        if years and int(year) in years:
            chosen = seg
            break
    if chosen is None:
        # segments without years apply to all years; with years only, the year is not covered
        general = [s for s in segments if not _segment_years(s)]
        if not general:
            return "none"
        chosen = general[0]
    low = chosen.lower()
    if any(m in low for m in NONE_MARKERS):
        return "none"
    if any(m in low for m in PROPOSAL_MARKERS):
        return "proposal"
    return "roadmap"


def target_verdicts(progress: pd.DataFrame, catalogue: pd.DataFrame, year: int) -> pd.DataFrame:
    """Add ``target_origin``, ``verdict``, ``verdict_rule`` and ``counted`` to indicator progress.

    Parameters
    ----------
    progress : pandas.DataFrame
        The result of :func:`fne_eval.evaluate.indicators.indicator_progress`.
    catalogue : pandas.DataFrame
        The ``indicators`` table (``target_source`` tells roadmap targets from proposals).
    year : int
        The evaluated year: a value of an earlier period is « non à jour ».
    """
    src = catalogue.set_index(catalogue["indicator_code"].astype(str))["target_source"] \
        if len(catalogue) else pd.Series(dtype=object)
    out = progress.copy()
    origins, verdicts = [], []
    for r in out.to_dict("records"):
        code = str(r["indicator_code"])
        t_year = r.get("target_year")
        t_val = r.get("target_value")
        has_target = t_year is not None and not pd.isna(t_year) and t_val is not None and not pd.isna(t_val)
        origin = target_origin(src.get(code), int(t_year)) if has_target else "none"
        origins.append(origin)
        period = str(r.get("period") or "")
        period_year = int(period[:4]) if period[:4].isdigit() else None
        base = r.get("baseline_value")
        if period_year is not None and period_year < int(year):
            verdict = "stale"
        elif not has_target or origin == "none":
            verdict = "no_target"
        elif origin == "proposal":
            verdict = "proposal"
        elif (r.get("baseline_origin") == "catalogue" and base is not None and not pd.isna(base)
              and float(base) == float(t_val)):
            verdict = "target_equals_baseline"
        elif r.get("on_track") is pd.NA or r.get("on_track") is None or pd.isna(r.get("on_track")):
            verdict = "no_target"
        else:
            verdict = "on_track" if bool(r["on_track"]) else "off_track"
        verdicts.append(verdict)
    out["target_origin"] = pd.array(origins, dtype="string")
    out["verdict"] = pd.array(verdicts, dtype="string")
    out["verdict_rule"] = out["verdict"].map(VERDICT_RULES).astype("string")
    out["counted"] = out["verdict"].isin(COUNTED_VERDICTS).astype(bool)
    return out
