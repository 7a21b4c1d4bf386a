"""Deterministic benchmark data: N entities x M ledger rows in the documented format.

    python bench/generate.py OUT_DIR --entities 4 --rows 1000000

Writes OUT_DIR/<entity>/{entity.toml,ledger.csv} and OUT_DIR/execreport.toml
(as_of 2025-03-31, outbox sender). Fast: rows are written in vectorised chunks.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

ACCOUNTS = [
    ("4000", "sales", 1),
    ("4900", "refunds", -1),
    ("5000", "materials", -1),
    ("5100", "fuel", -1),
    ("6100", "insurance", -1),
    ("6200", "software", -1),
    ("6300", "marketing", -1),
    ("6400", "travel", -1),
    ("6410", "meals", -1),
    ("6500", "vehicle", -1),
    ("7900", "misc", -1),
    ("61O0", "", -1),
]
WEIGHTS = [30, 1, 12, 8, 2, 4, 5, 3, 4, 4, 1, 1]
COUNTERPARTIES = [f"Vendor {i:04d}" for i in range(2000)]
START = date(2024, 1, 1)
DAYS = (date(2025, 6, 30) - START).days + 1


def write_ledger(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    days = [(START + timedelta(days=d)).isoformat() for d in range(DAYS)]
    picks = rng.choices(range(len(ACCOUNTS)), weights=WEIGHTS, k=rows)
    day_idx = sorted(rng.randrange(DAYS) for _ in range(rows))
    with path.open("w", newline="") as fh:
        fh.write("date,amount,account,category,counterparty,memo,service_date,receipt\n")
        chunk = []
        for i in range(rows):
            account, category, sign = ACCOUNTS[picks[i]]
            cents = rng.randrange(500, 250000 if sign > 0 else 60000)
            amount = f"{'-' if sign < 0 else ''}{cents // 100}.{cents % 100:02d}"
            d = day_idx[i]
            service = (
                days[min(d + rng.randrange(0, 90), DAYS - 1)] if sign > 0 and i % 7 == 0 else ""
            )
            receipt = "" if i % 11 == 0 else f"r/{i}.pdf"
            cp = COUNTERPARTIES[rng.randrange(len(COUNTERPARTIES))]
            chunk.append(
                f"{days[d]},{amount},{account},{category},{cp},memo {i % 97},{service},{receipt}\n"
            )
            if len(chunk) >= 100_000:
                fh.writelines(chunk)
                chunk.clear()
        fh.writelines(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--entities", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tables = []
    for n in range(args.entities):
        key = f"bench{n + 1}"
        folder = args.out / key
        folder.mkdir(exist_ok=True)
        (folder / "entity.toml").write_text(
            f'name = "Bench {n + 1}"\nkind = "other"\nopening_cash = "250000.00"\n'
            'opening_date = "2024-01-01"\n'
        )
        write_ledger(folder / "ledger.csv", args.rows, seed=n)
        tables.append(f'[entities.{key}]\npath = "{key}"\n')
    (args.out / "execreport.toml").write_text(
        '[report]\nas_of = "2025-03-31"\n\n[archive]\npath = "archive.sqlite3"\n\n'
        + "\n".join(tables)
        + '\n[delivery]\nsender = "outbox"\nfrom = "reports@example.com"\n'
        'to = ["exec@example.com"]\n\n[delivery.outbox]\npath = "outbox"\n'
    )
    print(f"wrote {args.entities} x {args.rows:,} rows to {args.out}")


if __name__ == "__main__":
    main()
