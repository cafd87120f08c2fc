"""French formats of numbers, dates and amounts for the reports (defined in :mod:`fne_eval.core.fmt`).

The formatting rules live in the core layer because every layer prints French numbers
(import messages, quality findings, the command line); the report layer reads them here.
"""
from fne_eval.core.fmt import *  # noqa: F401,F403
from fne_eval.core.fmt import (MISSING, MONTHS_SHORT, fmt_count, fmt_date, fmt_decimal, fmt_eur, fmt_int,  # noqa: F401
                               fmt_pct, fmt_value, is_missing, period_label)
