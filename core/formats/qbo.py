"""QuickBooks Online: the General Ledger and Transaction Detail by Account reports, CSV or
XLSX. Rows sit under account headings; the Amount column is in the account's own direction
(increases positive), or the report has Debit and Credit columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import keyword_default
from .grouped import read_grouped_csv, read_grouped_xlsx, sniff_grouped, xlsx_to_rows


class QuickBooks:
    name = "qbo"
    title = "QuickBooks Online General Ledger / Transaction Detail by Account (CSV, XLSX)"
    single_sided = False

    def sniff(self, path: Path, head: str) -> bool:
        if head == "\x00xlsx":
            try:
                _, rows = xlsx_to_rows(path, None)
            except Exception:
                return False
            text = "\n".join(",".join(str(c or "") for c in r) for r in rows[:40])
            return self._sniff_text(text)
        return self._sniff_text(head)

    def _sniff_text(self, text: str) -> bool:
        return sniff_grouped(
            text,
            ("general ledger", "transaction detail by account"),
            ("transaction type", "split"),
        )

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


def _is_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


FORMAT = QuickBooks()
