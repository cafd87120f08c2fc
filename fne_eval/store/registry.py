"""The indicator registry: every published quantity defined once.

Each :class:`Indicator` says what one figure counts, how it is computed, how it rolls up
the territory levels, where it comes from and which vintage it uses. The store
(:mod:`fne_eval.store.build`) computes exactly these ids; the reports, ``fne-eval figures``,
``fne-eval indicators`` and analysts read them by id. A quantity is named for what it
counts, and the same name is used everywhere:

* ``accompaniments``: activity records (one compte rendu d'activité = one accompagnement),
  whatever the number of people in it;
* ``participations``: people × sessions, the sum of the participants of the records (one
  person seen three times counts three);
* ``distinct_people``: distinct beneficiaries, only where the data identify them (a
  pseudonymous key from La Coop); otherwise the figure does not exist (it is never
  approximated by participations).

Geography of activity figures: a record belongs to the commune (or Marseille
arrondissement) of residence of its beneficiaries; an EPCI counts its member communes,
including those outside the département (Pertuis, Saint-Zacharie for the Métropole), and
so uses the population of all its members for its rates; the département counts its
communes and, in addition, the records without a known commune of residence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

import pandas as pd

__all__ = ["Indicator", "INDICATORS", "POPULATION_RULE", "registry_frame", "indicator"]

#: The population millésime a figure of year Y uses (one rule for every rate).
POPULATION_RULE = ("population municipale INSEE du dernier millésime disponible antérieur ou égal "
                   "à l'année évaluée (à défaut, le plus ancien disponible)")


@dataclass(frozen=True)
class Indicator:
    """One published quantity.

    Attributes
    ----------
    id : str
        Stable identifier (English, snake_case), the key of the store and of the ``data-indicator``
        attribute of published cells.
    label : str
        French label, as printed.
    unit : str
        ``count``, ``people``, ``per_1000``, ``per_10000``, ``index_0_10``, ``eur``, ``pct``.
    counts : str
        What one unit of the value is, in French.
    numerator, denominator : str
        French definitions (denominator empty for a plain count).
    aggregation : str
        How the value rolls up the territory levels.
    source : str
        Table or file the value comes from.
    vintage : str
        Which vintage is used.
    people : bool
        Counts people (or records of people): goes through disclosure control.
    breakdowns : tuple of str
        Dimensions the store breaks the value down by (``month``, ``age_band``...).
    """

    id: str
    label: str
    unit: str
    counts: str
    numerator: str
    denominator: str = ""
    aggregation: str = "somme des communes et arrondissements membres"
    source: str = ""
    vintage: str = ""
    people: bool = False
    breakdowns: Tuple[str, ...] = field(default_factory=tuple)


_ACTIVITY_GEO = ("par commune de résidence des personnes ; un EPCI compte toutes ses communes membres "
                 "(y compris hors du département) ; le département compte aussi les accompagnements "
                 "sans commune de résidence connue")

INDICATORS = {i.id: i for i in (
    Indicator("accompaniments", "Accompagnements", "count",
              "un compte rendu d'activité (un accompagnement, individuel ou collectif)",
              "nombre d'accompagnements datés de la période", aggregation=_ACTIVITY_GEO,
              source="table activities (La Coop ou données synthétiques)", vintage="données à la date d'arrêté",
              people=True, breakdowns=("month", "activity_type", "theme")),
    Indicator("participations", "Participations (personnes × séances)", "people",
              "une personne présente à un accompagnement (une personne venue trois fois compte trois)",
              "somme des participants des accompagnements de la période", aggregation=_ACTIVITY_GEO,
              source="tables activities et participants", vintage="données à la date d'arrêté",
              people=True, breakdowns=("month", "age_band", "gender", "social_status")),
    Indicator("distinct_people", "Personnes distinctes accompagnées", "people",
              "une personne distincte, identifiée par une clé pseudonyme (La Coop)",
              "nombre de clés de bénéficiaire distinctes des participations de la période",
              aggregation="personnes distinctes parmi les communes membres (non additif)",
              source="table participants (beneficiary_key)", vintage="données à la date d'arrêté", people=True),
    Indicator("participations_per_1000", "Participations pour 1 000 habitants", "per_1000",
              "participations rapportées à la population",
              "participations de la période", "population municipale du territoire (" + POPULATION_RULE + ")",
              aggregation="rapport des sommes", source="activities, populations INSEE",
              vintage=POPULATION_RULE, people=True),
    Indicator("population", "Population municipale", "count", "un habitant",
              "population municipale INSEE", source="INSEE, populations légales", vintage=POPULATION_RULE),
    Indicator("ifn", "Indice de fragilité numérique (pondéré par la population)", "index_0_10",
              "indice de 0 à 10", "IFN « tout âge » de chaque commune ou arrondissement",
              "population de la commune ou de l'arrondissement",
              aggregation="moyenne pondérée par la population des communes et arrondissements membres",
              source="La MedNum via ANCT", vintage="dernier millésime de l'IFN du bundle"),
    Indicator("lieux", "Lieux de médiation numérique", "count", "un lieu recensé",
              "nombre de lieux recensés", source="table lieux (standard national des lieux de médiation numérique)",
              vintage="liste des lieux du bundle"),
    Indicator("lieux_per_10000", "Lieux pour 10 000 habitants", "per_10000", "lieux rapportés à la population",
              "nombre de lieux recensés", "population municipale (" + POPULATION_RULE + ")",
              aggregation="rapport des sommes", source="lieux, populations INSEE", vintage=POPULATION_RULE),
    Indicator("budget_planned_eur", "Budget prévu", "eur", "un euro", "montant prévu des lignes budgétaires",
              aggregation="somme des lignes (département)", source="feuille de route, tableau budgétaire",
              vintage="feuille de route 2024-2027"),
    Indicator("budget_committed_eur", "Montant engagé", "eur", "un euro",
              "montants engagés jusqu'à la date d'arrêté", aggregation="somme des lignes (département)",
              source="table budget_transactions", vintage="données à la date d'arrêté"),
    Indicator("budget_paid_eur", "Montant payé", "eur", "un euro",
              "montants payés jusqu'à la date d'arrêté", aggregation="somme des lignes (département)",
              source="table budget_transactions", vintage="données à la date d'arrêté"),
)}


def indicator(indicator_id: str) -> Indicator:
    """Return the definition of one indicator (French error on an unknown id)."""
    try:
        return INDICATORS[indicator_id]
    except KeyError:
        raise KeyError(f"indicateur inconnu {indicator_id!r} : attendu l'un de {sorted(INDICATORS)}") from None


def registry_frame(extra: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Return the registry as a table, one row per indicator (for exports and ``help``)."""
    rows = [{"indicator": i.id, "label": i.label, "unit": i.unit, "counts": i.counts, "numerator": i.numerator,
             "denominator": i.denominator, "aggregation": i.aggregation, "source": i.source,
             "vintage": i.vintage, "people": i.people, "breakdowns": ",".join(i.breakdowns)}
            for i in INDICATORS.values()]
    out = pd.DataFrame(rows)
    if extra is not None and len(extra):
        out = pd.concat([out, extra], ignore_index=True)
    return out
