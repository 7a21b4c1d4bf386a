"""Stripe: the balance-transactions CSV export (Dashboard -> Balance -> Export, or the
"Balance change from activity" itemized report). Amounts are in major units; `Amount` (gross)
is signed as it moves the Stripe balance, `Fee` is positive and `Net` = Amount - Fee.

Each row becomes: the gross as `Stripe charge` / `Stripe refund` / ... (revenue, negative
revenue), the fee as `Stripe fee` (an expense, 5200 payment processing), and a payout as a
transfer from the Stripe balance to the bank: never revenue, never an expense."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..errors import DataError
from . import csv_rows, day, load_tuples, money

ALIASES = {
    "id": ("id", "balance_transaction_id"),
    "type": ("type", "reporting_category"),
    "amount": ("amount", "gross"),
    "fee": ("fee",),
    "net": ("net",),
    "created": ("created (utc)", "created", "created_utc", "created_date"),
    "description": ("description",),
    "customer": ("customer email", "customer_email", "customer name", "customer_name"),
    "currency": ("currency",),
}
DEFAULTS = {
    "stripe charge": ("4000", "sales"),
    "stripe payment": ("4000", "sales"),
    "stripe refund": ("4000", "refund"),
    "stripe payment refund": ("4000", "refund"),
    "stripe fee": ("5200", "payment processing"),
    "stripe stripe fee": ("5200", "payment processing"),
    "stripe payout": ("transfer", "payout"),
    "stripe transfer": ("transfer", "payout"),
}


def _columns(header: list[str]) -> dict[str, int]:
    low = [h.strip().lower() for h in header]
    out = {}
    for key, names in ALIASES.items():
        for n in names:
            if n in low:
                out[key] = low.index(n)
                break
    return out


class Stripe:
    name = "stripe"
    title = "Stripe balance transactions (CSV)"
    single_sided = True

    def sniff(self, path: Path, head: str) -> bool:
        rows = csv_rows(head, 1)
        if not rows:
            return False
        cols = _columns(rows[0])
        return {"id", "type", "amount", "fee", "net"} <= set(cols)

    def default_account(self, name: str) -> tuple[str, str] | None:
        return DEFAULTS.get(name.lower())

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        out: list[tuple] = []
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            cols = _columns(header)
            for record in reader:
                line = reader.line_num
                if not any(c.strip() for c in record):
                    continue
                where = f"{path}:{line}"
                if len(record) < len(header):
                    raise DataError(
                        f"{where}: {len(record)} fields where the header has {len(header)}"
                    )

                def get(key: str, record: list[str] = record) -> str:
                    return record[cols[key]].strip() if key in cols else ""

                kind = get("type").lower().replace("_", " ")
                gross = money(get("amount"), where, "Amount")
                fee = money(get("fee") or "0", where, "Fee")
                if get("net"):
                    net = money(get("net"), where, "Net")
                    if net == gross + fee and fee < 0:  # an export with negative fees
                        fee = -fee
                    if net != gross - fee:
                        raise DataError(f"{where}: Net {net} is not Amount {gross} minus Fee {fee}")
                when = day(get("created")[:10], where, None, "Created")
                who = get("customer") or get("description")
                txn = get("id")
                label = f"Stripe {kind}"
                out.append(
                    (line, where, when, gross, label, who, get("description"), txn, False, None, "")
                )
                if fee:
                    out.append(
                        (
                            line,
                            where,
                            when,
                            -fee,
                            "Stripe fee",
                            "Stripe",
                            get("description"),
                            txn,
                            False,
                            None,
                            "",
                        )
                    )
        load_tuples(con, table, out)


FORMAT = Stripe()
