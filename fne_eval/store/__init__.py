"""The indicator store: every published figure computed once per (bundle, date).

Analysts::

    from fne_eval import store
    s = store.load(year=2025)            # embedded bundle, as of 31 Dec 2025
    s.query("indicator == 'participations' and level == 'epci' and period == '2025'")

Reports read :func:`get_store` (one build per bundle, date and threshold, kept in memory
and on disk), so a figure printed in two reports is the same number with the same
publication status.
"""
from fne_eval.store.build import STORE_COLUMNS, build_store, population_year_for
from fne_eval.store.cache import STORE_MEMO, as_of_for, get_store, load, store_key  # noqa: F401
from fne_eval.store.registry import INDICATORS, POPULATION_RULE, Indicator, indicator, registry_frame

__all__ = ["load", "get_store", "store_key", "as_of_for", "STORE_COLUMNS", "INDICATORS", "POPULATION_RULE",
           "Indicator", "indicator", "registry_frame", "build_store", "population_year_for"]
