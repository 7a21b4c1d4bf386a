"""Xero: the Account Transactions report export (CSV or XLSX). Title lines ("Account
Transactions", the organisation, the period), a header with Debit and Credit columns, then
per account a heading ("Sales (200)"), an Opening Balance line, the rows and a Total line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import keyword_default
from .grouped import read_grouped_csv, read_grouped_xlsx, sniff_grouped, xlsx_to_rows
from .qbo import _is_zip


class Xero:
    name = "xero"
    title = "Xero Account Transactions (CSV, XLSX)"
    single_sided = False

    def sniff(self, path: Path, head: str) -> bool:
        if head == "\x00xlsx":
            try:
                _, rows = xlsx_to_rows(path, None)
            except Exception:
                return False
            head = "\n".join(",".join(str(c or "") for c in r) for r in rows[:40])
        return sniff_grouped(head, ("account transactions",), ("source", "running balance"))

    def names_sql(self, table: str) -> str:
        from .grouped import names_sql

        return names_sql(table)

    def default_account(self, name: str) -> tuple[str, str] | None:
        return keyword_default(name)

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        if path.suffix.lower() in (".xlsx", ".xlsm") or _is_zip(path):
            read_grouped_xlsx(path, con, table, sheet=opts.get("sheet"), txn_from="type_num_date")
        else:
            read_grouped_csv(
                path, con, table, txn_from="type_num_date", date_format=opts.get("date_format")
            )


FORMAT = Xero()
