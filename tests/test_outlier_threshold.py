"""The accounting outlier rule at its threshold (METRICS.md): an expense row is an outlier
when its modified z-score 0.6745·|x − median| / MAD *exceeds* 3.5. A score of exactly 3.5 is
not an outlier, 3.49 is not, 3.51 is.

The amounts are chosen so that the scores are exact in decimal arithmetic: with a MAD of
67.45 (= 0.6745 x 100), a row 349.00, 350.00 or 351.00 above the median scores exactly
3.49, 3.50 or 3.51.
"""

from __future__ import annotations

import statistics
from decimal import Decimal
from pathlib import Path

from minidata import write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
PROFILE = 'name = "Outlier Co"\nkind = "other"\n'

# one category of 9 expense rows (absolute amounts): the median is 1000.00; the absolute
# deviations are 0, 67.45 x 5, 349, 350, 351, so the MAD (their median) is 67.45
EQUIPMENT = [
    "932.55",
    "932.55",
    "932.55",
    "932.55",
    "1000.00",
    "1067.45",
    "1349.00",  # z = 3.49
    "1350.00",  # z = 3.50: not over 3.5
    "1351.00",  # z = 3.51: the only outlier
]


def modified_z(amounts: list[Decimal]) -> list[Decimal]:
    median = statistics.median(amounts)
    mad = statistics.median([abs(x - median) for x in amounts])
    return [Decimal("0.6745") * abs(x - median) / mad for x in amounts]


def test_the_amounts_score_exactly_349_350_and_351() -> None:
    scores = modified_z([Decimal(a) for a in EQUIPMENT])
    assert scores[-3:] == [Decimal("3.49"), Decimal("3.5"), Decimal("3.51")]
    assert all(s <= Decimal("0.6745") for s in scores[:-3])


def test_only_the_score_over_3_5_is_an_outlier_not_3_49_nor_exactly_3_5(tmp_path: Path) -> None:
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    # each row its own day and vendor: no duplicates, no near duplicates, receipts present
    rows = [
        f"2025-03-{day:02d},-{amount},6500,equipment,Vendor {day},,,r{day}.pdf\n"
        for day, amount in enumerate(EQUIPMENT, start=1)
    ]
    write_entity(tmp_path / "data" / "outl", HEADER + "".join(rows), PROFILE)
    config = write_config(tmp_path, entities=("outl",))
    (item,) = build_reports(load_config(config), only=["accounting"]).items
    metrics = item.report.metrics
    assert metrics["outl"]["outlier_rows"] == 1
    assert metrics["consolidated"]["outlier_rows"] == 1
    unusual = [f.message for f in item.report.findings if "unusual" in f.message]
    # the 1351.00 row is the 9th data row: ledger.csv line 10
    assert len(unusual) == 1, unusual
    assert "2025-03-09" in unusual[0] and "line 10," in unusual[0], unusual[0]
