"""The project's own ledger.csv (docs/data-format.md): already in the chart of accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import POSTING_COLUMNS, csv_rows


class Native:
    name = "ledger_csv"
    title = "execreport ledger.csv"
    single_sided = True
    native = True

    def sniff(self, path: Path, head: str) -> bool:
        rows = csv_rows(head, 1)
        return bool(rows) and {"date", "amount"} <= set(rows[0]) and "account" in rows[0]

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        from ..ledger import Ledger

        led = Ledger.from_csv(path, entity="")
        cols = ", ".join(n for n, _ in POSTING_COLUMNS)
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT line, '{_q(str(path))}:' || line AS loc, "
            "date, amount, account AS source_account, counterparty, memo, '' AS txn, "
            f"false AS nat, service_date, category, 0 AS seq FROM {led.schema}.ledger_lines"
        )
        con.execute(f"SELECT {cols} FROM {table} LIMIT 0")


def _q(text: str) -> str:
    return text.replace("'", "''")


FORMAT = Native()
