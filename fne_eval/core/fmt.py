"""Format numbers, amounts and dates the French way for reports.

Every function returns a ``str`` ready to print in a report and maps a missing value
(``None``, ``NaN``, ``pd.NA``, ``NaT``) to an en dash ``"–"``. Thousands are separated by a
narrow no-break space (U+202F) and a no-break space (U+00A0) precedes ``€`` and ``%``, so
that a number never breaks across lines.

Examples
--------
>>> fmt_int(1234567)
'1\u202f234\u202f567'
>>> fmt_pct(12.5)
'12,5\xa0%'
>>> fmt_eur(71433)
'71\u202f433\xa0€'
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from numbers import Number

import numpy as np
import pandas as pd

from fne_eval.core.periods import parse_period

#: Thousands separator: narrow no-break space.
THOUSANDS = "\u202f"
#: Space before a unit sign (€, %): no-break space.
UNIT_SPACE = "\u00a0"
#: What a missing value is shown as.
MISSING = "–"

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
MONTHS_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                "sept.", "oct.", "nov.", "déc.")


def is_missing(value) -> bool:
    """Return True when ``value`` is None, NaN, ``pd.NA`` or ``NaT``."""
    if value is None:
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, Decimal) and value.is_nan():
        return True
    if isinstance(value, np.floating) and np.isnan(value):
        return True
    if isinstance(value, np.datetime64) and np.isnat(value):
        return True
    return False


def _to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Number):
        return Decimal(repr(float(value)))
    if isinstance(value, str):
        return Decimal(value.strip())
    return Decimal(repr(float(value)))


def _group(int_digits: str) -> str:
    parts = []
    while len(int_digits) > 3:
        parts.insert(0, int_digits[-3:])
        int_digits = int_digits[:-3]
    parts.insert(0, int_digits)
    return THOUSANDS.join(parts)


def fmt_number(value, digits: int = 0) -> str:
    """Format a number with ``digits`` decimals, a decimal comma and grouped thousands.

    Rounding is half away from zero on the decimal value (12.25 → "12,3" with one digit),
    so that what is printed does not depend on binary floating point.

    Parameters
    ----------
    value : int, float, Decimal or numpy number
    digits : int, default 0
        Number of decimals kept (trailing zeros are kept: ``fmt_number(2, 1)`` is "2,0").
    """
    if is_missing(value):
        return MISSING
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    d = _to_decimal(value)
    if d.is_infinite():
        return MISSING
    q = Decimal(1).scaleb(-digits)
    d = d.quantize(q, rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    text = f"{abs(d):f}"
    if "." in text:
        int_part, frac = text.split(".")
    else:
        int_part, frac = text, ""
    out = sign + _group(int_part)
    if digits:
        out += "," + frac
    if out in ("-0", ) or (out.startswith("-") and set(out[1:]) <= set("0," + THOUSANDS)):
        out = out[1:]  # never print "-0" or "-0,0"
    return out


def fmt_int(value) -> str:
    """Format a whole number: ``1234567`` → "1 234 567" (narrow no-break spaces)."""
    return fmt_number(value, 0)


def fmt_decimal(value, digits: int = 1) -> str:
    """Format a real number with a decimal comma: ``12.5`` → "12,5"."""
    return fmt_number(value, digits)


def fmt_pct(value, digits: int = 1) -> str:
    """Format a percentage given in percent (not as a fraction): ``12.5`` → "12,5 %"."""
    if is_missing(value):
        return MISSING
    return f"{fmt_number(value, digits)}{UNIT_SPACE}%"


def fmt_eur(value, cents: str = "auto") -> str:
    """Format an amount in euros: "71 433 €", or "1 234,56 €" when cents matter.

    Parameters
    ----------
    value : Decimal, int or float
    cents : {'auto', 'always', 'never'}, default 'auto'
        ``'auto'`` shows cents only when the amount is not a whole number of euros.
    """
    if cents not in ("auto", "always", "never"):
        raise ValueError(f"unknown cents option {cents!r}, expected 'auto', 'always' or 'never'")
    if is_missing(value):
        return MISSING
    d = _to_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if cents == "always" or (cents == "auto" and d != d.to_integral_value()):
        digits = 2
    else:
        digits = 0
    return f"{fmt_number(d, digits)}{UNIT_SPACE}€"


def fmt_signed(value, digits: int = 0, unit: str = "") -> str:
    """Format a change with its sign: ``+12``, ``-3,5 %`` (``unit`` in {'', '%', '€'})."""
    if unit not in ("", "%", "€"):
        raise ValueError(f"unknown unit {unit!r}, expected '', '%' or '€'")
    if is_missing(value):
        return MISSING
    text = fmt_number(value, digits)
    if not text.startswith("-") and set(text) - set("0," + THOUSANDS):
        text = "+" + text
    return text + (UNIT_SPACE + unit if unit else "")


def _to_date(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        return _dt.date.fromisoformat(value[:10])
    return pd.Timestamp(value).date()


def fmt_date(value) -> str:
    """Format a date in full: "29 novembre 2026", "1er janvier 2025"."""
    if is_missing(value):
        return MISSING
    d = _to_date(value)
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def fmt_date_short(value) -> str:
    """Format a date in short: "29 nov. 2026", "1er mai 2025"."""
    if is_missing(value):
        return MISSING
    d = _to_date(value)
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS_SHORT[d.month - 1]} {d.year}"


def fmt_month(value) -> str:
    """Format a month in short: "nov. 2026", "mai 2025"."""
    if is_missing(value):
        return MISSING
    d = _to_date(value)
    return f"{MONTHS_SHORT[d.month - 1]} {d.year}"


def fmt_count(value, suppressed: bool = False, threshold: int = 5) -> str:
    """Format a count of people, or "< threshold" when disclosure control hid it."""
    if suppressed:
        return f"< {int(threshold)}"
    return fmt_int(value)


#: How a value of each unit is formatted (units of the ``indicators`` and
#: ``context_figures`` tables).
UNIT_FORMATS = {
    "persons": ("int", 0), "count": ("int", 0), "places": ("int", 0), "lieux": ("int", 0),
    "communes": ("int", 0), "devices": ("int", 0), "departures": ("int", 0),
    "structures": ("int", 0), "accompaniments": ("int", 0), "events": ("int", 0),
    "participants": ("int", 0), "tasks": ("int", 0), "number": ("int", 0),
    "pct": ("pct", 1), "percent": ("pct", 1), "rate_pct": ("pct", 1), "share_pct": ("pct", 1),
    "eur": ("eur", 0), "euros": ("eur", 0),
    "index": ("decimal", 2), "score": ("decimal", 2), "ifn": ("decimal", 2),
    "per_10k": ("decimal", 1), "per_1000": ("decimal", 1), "per_1k": ("decimal", 1),
    "ratio": ("decimal", 2), "days": ("int", 0),
    # units of the indicator catalogue (fne_eval/data/roadmap/indicators.csv)
    "accompagnements": ("int", 0), "personnes": ("int", 0), "reunions": ("int", 0),
    "materiels": ("int", 0), "evenements": ("int", 0), "departs": ("int", 0),
    "structures_mobilisees": ("int", 0), "taches": ("int", 0),
    "pour_1000_hab": ("decimal", 1), "pour_10000_hab": ("decimal", 2),
    "pour_1000_personnes_exposees": ("decimal", 1),
}


def fmt_value(value, unit: str = "") -> str:
    """Format a value according to its unit (``'pct'``, ``'eur'``, ``'persons'``...).

    Units not listed in :data:`UNIT_FORMATS` are formatted as numbers with up to one
    decimal (no decimal when the value is whole).
    """
    if is_missing(value):
        return MISSING
    kind, digits = UNIT_FORMATS.get(str(unit).lower(), (None, None))
    if kind == "int":
        return fmt_int(value)
    if kind == "pct":
        return fmt_pct(value, digits)
    if kind == "eur":
        return fmt_eur(value)
    if kind == "decimal":
        return fmt_decimal(value, digits)
    d = _to_decimal(value)
    return fmt_number(value, 0 if d == d.to_integral_value() else 1)


def fmt_reference_date(value) -> str:
    """Return a free-text reference date in French: ISO dates and months become words.

    ``"2024-05-21"`` → ``"21 mai 2024"``, ``"2024-01"`` → ``"janv. 2024"``; a year, a
    period (``"2024-2025"``) or a sentence (``"non datée (…)"``) is returned as it is.
    """
    if is_missing(value):
        return MISSING
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return fmt_date(text)
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{MONTHS_SHORT[int(m.group(2)) - 1]} {m.group(1)}"
    return text


def period_label(code: str) -> str:
    """Return the French label of a period code: "2025", "T1 2025", "janv. 2025"."""
    from_period, start, _ = parse_period(code)
    if from_period == "year":
        return str(start.year)
    if from_period == "quarter":
        return f"T{(start.month - 1) // 3 + 1} {start.year}"
    return f"{MONTHS_SHORT[start.month - 1]} {start.year}"
