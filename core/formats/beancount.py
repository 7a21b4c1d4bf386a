"""Beancount v3 ledgers through the beancount library: every posting of a Transaction, its
account's top-level name (Income, Expenses, Assets, Liabilities, Equity) giving the default
chart class. Amounts are signed the Beancount way (debit > 0), so the ledger sign is minus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DataError
from . import load_tuples

TOP = {"income": ("4000", ""), "expenses": ("6000", ""), "equity": ("3000", "equity")}


class Beancount:
    name = "beancount"
    title = "Beancount v3 ledger"
    single_sided = False

    def sniff(self, path: Path, head: str) -> bool:
        import re

        if path.suffix.lower() in (".beancount", ".bean"):
            return True
        return bool(re.search(r"^\d{4}-\d{2}-\d{2}\s+(open|\*|txn|!)\s", head, re.M))

    def default_account(self, name: str) -> tuple[str, str] | None:
        parts = name.split(":")
        top = parts[0].lower()
        leaf = parts[-1].lower()
        if top == "assets":
            low = name.lower()
            if any(w in low for w in ("bank", "checking", "savings", "cash", "stripe", "paypal")):
                return "1000", "bank"
            return "1200", leaf
        if top == "liabilities":
            if any(w in name.lower() for w in ("card", "visa", "amex", "mastercard")):
                return "2100", "credit card"
            return "2000", leaf
        found = TOP.get(top)
        return (found[0], leaf) if found else None

    def read(self, path: Path, opts: dict[str, Any], con: Any, table: str) -> None:
        try:
            from beancount import loader
            from beancount.core import data
        except ImportError:
            raise DataError(
                f"{path}: reading Beancount needs beancount v3: pip install 'execreport[beancount]'"
            ) from None
        entries, errors, _ = loader.load_file(str(path))
        for err in errors:
            meta = getattr(err, "source", None) or {}
            line = meta.get("lineno", 0) if isinstance(meta, dict) else 0
            first = str(err.message).strip().splitlines()[0]
            raise DataError(f"{path}:{line}: {first}")
        out: list[tuple] = []
        for n, entry in enumerate(entries):
            if not isinstance(entry, data.Transaction):
                continue
            line = int(entry.meta.get("lineno", 0))
            where = f"{path}:{line}"
            for p in entry.postings:
                if p.units is None or p.units.number is None:
                    continue
                out.append(
                    (
                        line,
                        where,
                        entry.date,
                        -p.units.number,
                        p.account,
                        entry.payee or "",
                        entry.narration or "",
                        f"b{n}",
                        False,
                        None,
                        "",
                    )
                )
        load_tuples(con, table, out)


FORMAT = Beancount()
