"""A 1M-row QuickBooks Online General Ledger CSV against the same rows as ledger.csv.

    python bench/bench_sources.py [--rows 1000000] [--repeat 3]

Writes both files to a temporary folder (the QBO one with its title lines, account headings
and "Total for ..." rows, amounts with thousands separators, US dates), loads each through
the Ledger (`Ledger.from_files` for QBO, `Ledger.from_csv` for ledger.csv) and prints the best
of `--repeat` load times and their ratio (issue 14: within 2x). Both ledgers must give the
same row count and revenue/expense sums, or the bench fails.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ACCOUNTS = [  # (name in QBO, chart number, sign of a typical row in the ledger)
    ("Charter Income", "4000", 1),
    ("Fuel", "5000", -1),
    ("Crew", "5100", -1),
    ("Insurance", "6100", -1),
    ("Software", "6200", -1),
    ("Marketing", "6300", -1),
    ("Slip Fees", "6600", -1),
    ("Bank Fees", "7900", -1),
]


def write(folder: Path, rows: int) -> tuple[Path, Path]:
    rng = random.Random(14)
    start = date(2024, 1, 1)
    per = {a[0]: [] for a in ACCOUNTS}
    native = folder / "ledger.csv"
    with native.open("w") as out:
        out.write("date,amount,account,category,counterparty,memo,service_date,receipt\n")
        for i in range(rows):
            name, number, sign = ACCOUNTS[rng.randrange(len(ACCOUNTS))]
            day = start + timedelta(days=rng.randrange(450))
            cents = rng.randrange(100, 500000)
            amount = sign * cents / 100
            who = f"Vendor {rng.randrange(500)}"
            out.write(f"{day.isoformat()},{amount:.2f},{number},{name.lower()},{who},m{i},,\n")
            per[name].append((day, cents, who, i))
    qbo = folder / "qbo.csv"
    with qbo.open("w") as out:
        out.write('"General Ledger"\n"Bench Co"\n"January 1, 2024 - March 31, 2025"\n\n')
        out.write(
            '"","Date","Transaction Type","Num","Name","Memo/Description","Split",'
            '"Amount","Balance"\n'
        )
        for name, _number, _sign in ACCOUNTS:
            out.write(f'"{name}",,,,,,,,\n')
            total = 0
            for day, cents, who, i in per[name]:
                total += cents
                out.write(
                    f',"{day:%m/%d/%Y}","Expense","{i}","{who}","m{i}","Checking",'
                    f'"{cents / 100:,.2f}","{total / 100:,.2f}"\n'
                )
            out.write(f'"Total for {name}",,,,,,,"${total / 100:,.2f}",\n')
        out.write('"TOTAL",,,,,,,"$0.00",\n\n"Accrual Basis"\n')
    return native, qbo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from execreport.formats.combine import FileSpec
    from execreport.ledger import Ledger, use_database

    with tempfile.TemporaryDirectory() as tmp:
        native, qbo = write(Path(tmp), args.rows)
        mapping = {name: number for name, number, _ in ACCOUNTS}
        times: dict[str, float] = {}
        figures = {}
        for label, load in (
            ("ledger.csv", lambda: Ledger.from_csv(native, "b")),
            ("qbo.csv", lambda: Ledger.from_files([FileSpec(qbo)], "b", mapping)),
        ):
            best = float("inf")
            for _ in range(args.repeat):
                with use_database():
                    t0 = time.perf_counter()
                    led = load()
                    n = len(led)
                    best = min(best, time.perf_counter() - t0)
                    figures[label] = led.sql(
                        "SELECT count(*), sum(amount) FILTER (account LIKE '4%'), "
                        "sum(amount) FILTER (account SIMILAR TO '[5-7].*') FROM ledger"
                    )[0]
            times[label] = best
            print(f"{label:11} {n:>9} rows  {best:6.2f} s")
        assert figures["ledger.csv"] == figures["qbo.csv"], figures
        ratio = times["qbo.csv"] / times["ledger.csv"]
        print(
            f"ratio       {ratio:.2f}x (issue 14 asks <= 2x); figures equal: {figures['qbo.csv']}"
        )


if __name__ == "__main__":
    main()
