"""Every METRICS.md window, at its edges: a row on the first and on the last day of the
window counts, a row one day outside it does not.

Each case puts rows on the days around both edges of one window, a different number of
rows on each day (1, 2, 4, 8), so that the figure says exactly which days were counted: a
window one day too early, too late, too wide or too narrow gives another number. The
windows and the expected figures are worked out by hand from METRICS.md (and docs/roles.md
for the CMO's bookings), never with the product's own date helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from minidata import write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
PROFILE = 'name = "Edge Co"\nkind = "other"\nopening_cash = "0.00"\nopening_date = "2020-01-01"\n'
ROWS_ON_EACH_DAY = (1, 2, 4, 8)


@dataclass(frozen=True)
class Edges:
    """The four days around a window: the day before its first day, its first day, its
    last day and the day after it (as_of is in `id` for the test name)."""

    as_of: date
    before: date
    first: date
    last: date
    after: date

    @property
    def days(self) -> tuple[date, date, date, date]:
        return self.before, self.first, self.last, self.after

    def counted(self) -> int:
        """Rows counted when exactly the first and the last day are in: 2 + 4."""
        return ROWS_ON_EACH_DAY[1] + ROWS_ON_EACH_DAY[2]


def build(tmp_path: Path, as_of: date, roles: list[str], ledger: str, kpis: str = "", profile=""):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    folder = write_entity(tmp_path / "data" / "edge", HEADER + ledger, PROFILE + profile)
    if kpis:
        (folder / "kpis.csv").write_text("date,kpi,value\n" + kpis)
    config = write_config(tmp_path, entities=("edge",))
    result = build_reports(load_config(config), as_of=as_of, only=roles)
    return {item.report.role: item.report.metrics["edge"] for item in result.items}


def rows_around(edges: Edges, line: str) -> str:
    """`line` (a CSV row without its date) repeated 1, 2, 4 and 8 times on the four days."""
    return "".join(
        f"{day.isoformat()},{line}\n" * n
        for day, n in zip(edges.days, ROWS_ON_EACH_DAY, strict=True)
    )


# -- the trailing 3 months (CFO revenue_3m, CMO bookings_3m) --------------------------------
# "the three most recent complete calendar months that end on or before A (if A is the last
# day of a month, that month is one of them)"
TRAILING = [
    pytest.param(
        Edges(
            date(2025, 3, 31),
            date(2024, 12, 31),
            date(2025, 1, 1),
            date(2025, 3, 31),
            date(2025, 4, 1),
        ),
        id="as_of-month-end-2025-03-31-is-Jan-to-Mar",
    ),
    pytest.param(
        Edges(
            date(2025, 3, 15),
            date(2024, 11, 30),
            date(2024, 12, 1),
            date(2025, 2, 28),
            date(2025, 3, 1),
        ),
        id="as_of-mid-month-2025-03-15-is-Dec-to-Feb",
    ),
    pytest.param(
        Edges(
            date(2025, 3, 30),
            date(2024, 11, 30),
            date(2024, 12, 1),
            date(2025, 2, 28),
            date(2025, 3, 1),
        ),
        id="as_of-day-before-month-end-2025-03-30-is-Dec-to-Feb",
    ),
    pytest.param(
        Edges(
            date(2025, 2, 28),
            date(2024, 11, 30),
            date(2024, 12, 1),
            date(2025, 2, 28),
            date(2025, 3, 1),
        ),
        id="as_of-end-of-February-2025-02-28-is-Dec-to-Feb",
    ),
]


@pytest.mark.parametrize("edges", TRAILING)
def test_trailing_3_months_count_their_first_and_last_day_and_nothing_outside(
    tmp_path: Path, edges: Edges
) -> None:
    # every row a booking of 100.00: revenue_3m is 100.00 per counted row
    ledger = rows_around(edges, "100.00,4000,sales,Client,,,")
    metrics = build(tmp_path, edges.as_of, ["cfo"], ledger)
    assert Decimal(str(metrics["cfo"]["revenue_3m"])) == Decimal("100.00") * edges.counted()


@pytest.mark.parametrize("edges", TRAILING)
def test_cmo_bookings_are_counted_over_the_trailing_3_months(tmp_path: Path, edges: Edges) -> None:
    # docs/roles.md: "revenue over the trailing 3 months / bookings, a booking being a 4xxx
    # row with a positive amount"; a refund (negative) is no booking but lowers revenue
    ledger = rows_around(edges, "100.00,4000,sales,Client,,,") + (
        f"{edges.first.isoformat()},-60.00,4000,refund,Client,,,\n"
    )
    metrics = build(tmp_path, edges.as_of, ["cmo"], ledger)["cmo"]
    assert metrics["bookings_3m"] == edges.counted() == 6
    # (6 x 100.00 - 60.00) / 6 bookings
    assert Decimal(str(metrics["average_booking"])) == Decimal("90.00")


# -- the audit window (accounting) ------------------------------------------------------------
# "the rows with A minus 12 months < date <= A": the day exactly 12 months before is out
AUDIT = [
    pytest.param(
        Edges(
            date(2025, 3, 31),
            date(2024, 3, 31),
            date(2024, 4, 1),
            date(2025, 3, 31),
            date(2025, 4, 1),
        ),
        id="as_of-2025-03-31",
    ),
    pytest.param(
        Edges(
            date(2025, 3, 15),
            date(2024, 3, 15),
            date(2024, 3, 16),
            date(2025, 3, 15),
            date(2025, 3, 16),
        ),
        id="as_of-2025-03-15",
    ),
]


@pytest.mark.parametrize("edges", AUDIT)
def test_audit_window_excludes_the_day_12_months_before_and_includes_the_day_after(
    tmp_path: Path, edges: Edges
) -> None:
    # an uncategorized row (counted over the ledger's rows) and a travel expense of 80.00
    # without a receipt (counted over the expense rows) on each day
    ledger = rows_around(edges, "25.00,4000,misc,Client,,,") + rows_around(
        edges, "-80.00,6400,travel,Airline,,,"
    )
    metrics = build(tmp_path, edges.as_of, ["accounting"], ledger)["accounting"]
    assert metrics["uncategorized_rows"] == edges.counted() == 6
    assert metrics["missing_receipt_rows"] == 6
    # each day's travel rows repeat one another: a group of n is n - 1 duplicates
    assert metrics["duplicate_rows"] == (2 - 1) + (4 - 1)


# -- the 30-day KPI window (CEO kpi_coverage) -------------------------------------------------
# "a kpis.csv value dated within the 30 days ending A (A − 29 days <= date <= A)"
KPI = [
    pytest.param(
        Edges(
            date(2025, 3, 31),
            date(2025, 3, 1),
            date(2025, 3, 2),
            date(2025, 3, 31),
            date(2025, 4, 1),
        ),
        id="as_of-2025-03-31",
    ),
    pytest.param(
        Edges(
            date(2025, 3, 15),
            date(2025, 2, 13),
            date(2025, 2, 14),
            date(2025, 3, 15),
            date(2025, 3, 16),
        ),
        id="as_of-2025-03-15",
    ),
]


@pytest.mark.parametrize("edges", KPI)
def test_kpi_coverage_counts_values_from_29_days_before_as_of_to_as_of(
    tmp_path: Path, edges: Edges
) -> None:
    # 15 declared KPIs, each with one value: 1 on the day before the window, 2 on its first
    # day, 4 on its last day (as_of), 8 on the day after
    profile, kpis, n = "", "", 0
    for day, count in zip(edges.days, ROWS_ON_EACH_DAY, strict=True):
        for _ in range(count):
            n += 1
            profile += f'\n[[kpis]]\nname = "kpi{n:02d}"\n'
            kpis += f"{day.isoformat()},kpi{n:02d},1\n"
    ledger = f"{edges.as_of.isoformat()},100.00,4000,sales,Client,,,\n"
    metrics = build(tmp_path, edges.as_of, ["ceo"], ledger, kpis, profile)["ceo"]
    assert metrics["kpi_coverage"] == 0.4  # (2 + 4) / 15
