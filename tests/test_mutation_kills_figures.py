"""Calendar windows and money rounding (core/figures.py), as METRICS.md "Terms" states them.

Every expected value is worked out by hand from the calendar (month lengths, leap years) and
the half-up rule; none comes from execreport. Written to kill the mutants of
`bench/mutation.sh figures` (docs/testing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from execreport.figures import (
    add_months,
    audit_window,
    month_end,
    to_money,
    to_ratio,
    trailing_months,
)


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2025, 3, 15), 0, date(2025, 3, 15)),
        (date(2025, 3, 15), 1, date(2025, 4, 15)),
        (date(2025, 3, 15), -3, date(2024, 12, 15)),
        (date(2025, 12, 10), 1, date(2026, 1, 10)),
        (date(2025, 1, 10), -1, date(2024, 12, 10)),
        (date(2025, 11, 30), 14, date(2027, 1, 30)),
        (date(2025, 1, 1), -25, date(2022, 12, 1)),
    ],
)
def test_moving_by_whole_months_keeps_the_day_and_crosses_years(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # 2025 is not a leap year
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # 2024 is
        (date(2024, 2, 29), -12, date(2023, 2, 28)),
        (date(2025, 5, 31), -1, date(2025, 4, 30)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 1, 31), 13, date(2026, 2, 28)),
    ],
)
def test_a_day_past_the_target_months_end_is_clamped_to_that_months_last_day(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    "day,expected",
    [
        (date(2024, 2, 10), date(2024, 2, 29)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 4, 30), date(2025, 4, 30)),
        (date(2025, 12, 5), date(2025, 12, 31)),
        (date(2025, 1, 1), date(2025, 1, 31)),
    ],
)
def test_month_end_is_the_last_day_of_the_same_month(day, expected):
    assert month_end(day) == expected


@pytest.mark.parametrize(
    "as_of,expected",
    [
        # A is a month's last day: its month is one of the three
        (date(2025, 3, 31), (date(2025, 1, 1), date(2025, 3, 31))),
        (date(2024, 2, 29), (date(2023, 12, 1), date(2024, 2, 29))),
        # A one day before the month's end: that month is not complete
        (date(2025, 3, 30), (date(2024, 12, 1), date(2025, 2, 28))),
        (date(2025, 2, 14), (date(2024, 11, 1), date(2025, 1, 31))),
        # A the first of a month: the month before it is the last complete one
        (date(2024, 3, 1), (date(2023, 12, 1), date(2024, 2, 29))),
        (date(2025, 1, 1), (date(2024, 10, 1), date(2024, 12, 31))),
    ],
)
def test_trailing_3_months_are_the_complete_calendar_months_ending_on_or_before_as_of(
    as_of, expected
):
    assert trailing_months(as_of) == expected
    assert trailing_months(as_of, 3) == expected


@pytest.mark.parametrize(
    "as_of,months,expected",
    [
        (date(2025, 3, 31), 1, (date(2025, 3, 1), date(2025, 3, 31))),
        (date(2025, 3, 15), 1, (date(2025, 2, 1), date(2025, 2, 28))),
        (date(2024, 12, 31), 12, (date(2024, 1, 1), date(2024, 12, 31))),
        (date(2025, 6, 15), 12, (date(2024, 6, 1), date(2025, 5, 31))),
    ],
)
def test_a_trailing_window_of_other_lengths(as_of, months, expected):
    assert trailing_months(as_of, months) == expected


@pytest.mark.parametrize(
    "as_of,start",
    [
        (date(2025, 3, 31), date(2024, 3, 31)),
        (date(2025, 2, 14), date(2024, 2, 14)),
        # 12 months before a leap day is the clamped 28 February
        (date(2024, 2, 29), date(2023, 2, 28)),
        (date(2025, 1, 1), date(2024, 1, 1)),
    ],
)
def test_the_audit_window_starts_12_months_before_as_of_exclusive_and_ends_on_it(as_of, start):
    assert audit_window(as_of) == (start, as_of)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2.345", "2.35"),  # half up, where banker's rounding gives 2.34
        ("2.335", "2.34"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),  # half away from zero for negatives too
        ("-0.005", "-0.01"),
        ("0.005", "0.01"),
        ("1", "1.00"),
        (7, "7.00"),
        (Decimal("1400.004"), "1400.00"),
        (Decimal("-433.3333"), "-433.33"),
    ],
)
def test_money_is_rounded_to_the_cent_half_up(value, expected):
    got = to_money(value)
    assert isinstance(got, Decimal)
    assert str(got) == expected


@pytest.mark.parametrize("value", ["-0.004", "-0.00", Decimal("-0.0033"), "0.004", 0])
def test_money_that_rounds_to_zero_has_no_sign(value):
    assert str(to_money(value)) == "0.00"


def test_no_money_stays_none():
    assert to_money(None) is None
    assert to_ratio(None) is None


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0.125", 0.13),  # half up
        ("0.115", 0.12),
        ("-0.125", -0.13),
        ("4.7857", 4.79),
        (Decimal(2) / Decimal(3), 0.67),
        (3, 3.0),
        ("0", 0.0),
    ],
)
def test_a_ratio_is_a_number_rounded_to_two_places_half_up(value, expected):
    got = to_ratio(value)
    assert type(got) is float
    assert got == expected
