"""A generic bank or card CSV: the columns are named in `[entities.<key>.bank_csv]` (or on the
file's entry): `date`, `amount` or `debit` and `credit`, `description`, optional
`date_format` (strptime, default ISO then US), `skip` (lines before the header)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from . import day, load_tuples, money


class BankCSV:
    name = "bank_csv"
    title = "bank CSV (columns named in the config)"
    single_sided = True
    needs_options = True

    def sniff(self, path: Path, head: str) -> bool:
        return False  # only when named: a bank CSV has no fixed header

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        where_cfg = opts.get("_where", "bank_csv")
        date_col = opts.get("date")
        desc_col = opts.get("description", "")
        amount_col = opts.get("amount")
        debit_col, credit_col = opts.get("debit"), opts.get("credit")
        if not date_col or not (amount_col or (debit_col and credit_col)):
            raise ConfigError(
                f"{where_cfg}: a bank CSV needs `date` and `amount` (or `debit` and `credit`) "
                "column names"
            )
        out: list[tuple] = []
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for _ in range(int(opts.get("skip", 0))):
                fh.readline()
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            for name in (date_col, amount_col, debit_col, credit_col, desc_col or None):
                if name and name not in fields:
                    raise DataError(
                        f"{path}: no column {name!r} in the header (named in {where_cfg})"
                    )
            skip = int(opts.get("skip", 0))
            for row in reader:
                line = reader.line_num + skip
                where = f"{path}:{line}"
                if any(v is None for v in row.values()):
                    raise DataError(f"{where}: fewer fields than the header has")
                when = day(row[date_col], where, opts.get("date_format"))
                if amount_col:
                    amount = money(row[amount_col], where)
                else:
                    d, c = row[debit_col].strip(), row[credit_col].strip()
                    amount = (money(c, where, "credit") if c else 0) - (
                        money(d, where, "debit") if d else 0
                    )
                    amount = (
                        abs(amount) if c and not d else (-abs(amount) if d and not c else amount)
                    )
                desc = row.get(desc_col, "") if desc_col else ""
                out.append(
                    (line, where, when, amount, desc.strip(), desc.strip(), "", "", False, None, "")
                )
        load_tuples(con, table, out)


FORMAT = BankCSV()
