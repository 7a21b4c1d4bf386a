"""Calendar windows and rounding shared by the METRICS.md definitions."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def trailing_months(as_of: date, months: int = 3) -> tuple[date, date]:
    """First and last day of the `months` most recent complete calendar months ending on or
    before `as_of` (when `as_of` is a month's last day, its month is one of them)."""
    end = as_of if as_of == month_end(as_of) else as_of.replace(day=1) - timedelta(days=1)
    start = add_months(end.replace(day=1), -(months - 1))
    return start, end


def audit_window(as_of: date) -> tuple[date, date]:
    """(exclusive start, inclusive end): the rows with `as_of - 12 months < date <= as_of`."""
    return add_months(as_of, -12), as_of


def to_money(value: Any) -> Decimal | None:
    """Money rounded to the cent (half up); None stays None."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # never "-0.00"


def to_ratio(value: Any) -> float | None:
    """A ratio or a number of months rounded to two places, as a JSON number."""
    if value is None:
        return None
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))
