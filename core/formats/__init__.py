"""Readers for the books people already keep (docs/data-format.md, "Other formats").

Each format is a module of this package with a `FORMAT` object: `name`, `title`,
`sniff(path, head) -> bool` (is this file mine, from its content) and
`read(path, opts, mapper) -> Postings`. `FORMAT_MODULES` lists them in the order detection
tries them; a third format registers by adding its module name (as DEFAULT_PLUGINS does).
A reader's heavy library (calamine, ofxtools, beancount) is imported inside `read`.
"""

from __future__ import annotations

import csv
import fnmatch
import importlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError, DataError

FORMAT_MODULES = (
    "execreport.formats.native",
    "execreport.formats.qbo",
    "execreport.formats.xero",
    "execreport.formats.stripe",
    "execreport.formats.ofx",
    "execreport.formats.beancount",
    "execreport.formats.bank_csv",
)

# a posting, as every reader gives it (one tuple per posting, in this order)
POSTING_COLUMNS = (
    ("line", "INTEGER"),  # the row's line in its file (XLSX: its row)
    ("loc", "VARCHAR"),  # how an error names the row: "file:12" or "file:Sheet1!12"
    ("date", "DATE"),
    ("amount", "DECIMAL(18,2)"),  # credit - debit on `source_account` (the ledger.csv sign)
    ("source_account", "VARCHAR"),  # the account as the source names it
    ("counterparty", "VARCHAR"),
    ("memo", "VARCHAR"),
    ("txn", "VARCHAR"),  # postings of one transaction share it ('' when not known)
    ("nat", "BOOLEAN"),  # amount is in the account's own direction (QBO's Amount)
    ("service_date", "DATE"),
    ("category", "VARCHAR"),  # a category the source gives (ledger.csv), else ''
    ("seq", "INTEGER"),  # tells apart postings of one line (Stripe: the gross and the fee)
)


class Reader(Protocol):
    name: str
    title: str
    single_sided: bool  # a statement of one money account (bank, card, Stripe)

    def sniff(self, path: Path, head: str) -> bool: ...

    def read(self, path: Path, opts: dict[str, Any], mapper: Mapper) -> list[tuple]: ...


def readers() -> dict[str, Reader]:
    out: dict[str, Reader] = {}
    for module in FORMAT_MODULES:
        fmt = importlib.import_module(module).FORMAT
        out[fmt.name] = fmt
    return out


def head_text(path: Path, size: int = 16384) -> str:
    """The first bytes of a file as text (for sniffing); '' for binary files (XLSX)."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    try:
        with path.open("rb") as fh:
            raw = fh.read(size)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if raw.startswith(b"PK\x03\x04"):
        return "\x00xlsx"
    return raw.decode("utf-8-sig", errors="replace")


def detect(path: Path, forced: str | None, where: str) -> Reader:
    """The reader for `path`: `forced` (a format name) or the first whose sniff accepts it."""
    known = readers()
    if forced:
        if forced not in known:
            raise ConfigError(
                f"{where}: format {forced!r} is not known; use one of {', '.join(known)}"
            )
        return known[forced]
    head = head_text(path)
    for fmt in known.values():
        if fmt.sniff(path, head):
            return fmt
    tried = ", ".join(f.name for f in known.values() if f.name != "bank_csv")
    raise DataError(
        f"{path}: not a known ledger format (tried {tried}); name it with "
        f'format = "..." (a bank CSV: format = "bank_csv" with its columns)'
    )


def csv_rows(text: str, limit: int = 40) -> list[list[str]]:
    out = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            if i >= limit:
                break
            out.append([c.strip() for c in row])
    except csv.Error:
        pass
    return out


# -- values --------------------------------------------------------------------------------
_MONEY = re.compile(r"[+-]?\d+(\.\d{1,2})?")


def money(raw: Any, where: str, what: str = "amount") -> Decimal:
    """'1,200.00', '$-5.00', '(42.10)' -> Decimal; anything else a `DataError` at `where`."""
    if isinstance(raw, Decimal):
        return raw.quantize(Decimal("0.01"))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Decimal(str(raw)).quantize(Decimal("0.01"))
    text = str(raw if raw is not None else "").strip()
    neg = text.startswith("(") and text.endswith(")")
    clean = text.strip("()").replace("$", "").replace(",", "").replace(" ", "")
    if neg:
        clean = "-" + clean.lstrip("+")
    if not _MONEY.fullmatch(clean):
        shown = f"{what} {text!r} is not an amount" if text else f"{what} is empty"
        raise DataError(f"{where}: {shown}")
    try:
        return Decimal(clean)
    except InvalidOperation:
        raise DataError(f"{where}: {what} {text!r} is not an amount") from None


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d %b %Y", "%d %B %Y", "%Y/%m/%d", "%m/%d/%y")


def day(raw: Any, where: str, fmt: str | None = None, what: str = "date") -> date:
    from datetime import datetime

    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw if raw is not None else "").strip()
    for f in (fmt,) if fmt else _DATE_FORMATS:
        try:
            return datetime.strptime(text, f).date()
        except ValueError:
            continue
    shown = f"{what} {text!r} is not a date" if text else f"{what} is empty"
    hint = f" ({fmt})" if fmt else ""
    raise DataError(f"{where}: {shown}{hint}")


# -- account mapping -----------------------------------------------------------------------
MONEY_RANGES = ((1000, 1099), (2100, 2199))  # cash, bank, Stripe balance; credit cards
_NUMBER = re.compile(r"^\s*(\d{4})\b|\((\d{4})\)\s*$")


def is_money(account: str) -> bool:
    if account == "transfer":
        return True
    return account.isdigit() and any(lo <= int(account) <= hi for lo, hi in MONEY_RANGES)


@dataclass
class Target:
    account: str  # four digits, 'transfer', or '' (unmapped)
    category: str
    how: str  # 'mapping', 'default', 'number in name', 'unmapped'


@dataclass
class Mapper:
    """`[entities.<key>.accounts]`: a source account's name, number or glob pattern ->
    a four-digit account (or 'transfer'); then the format's defaults."""

    explicit: dict[str, Any] = field(default_factory=dict)
    where: str = "accounts"
    cache: dict[tuple[str, str], Target] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.explicit.items():
            account = value.get("account") if isinstance(value, dict) else value
            if not isinstance(account, str) or not (
                re.fullmatch(r"\d{4}", account) or account == "transfer"
            ):
                raise ConfigError(
                    f'{self.where}.{key!r}: {account!r} is not a four-digit account or "transfer"'
                )

    def map(self, name: str, fmt: Any) -> Target:
        key = (name, fmt.name)
        if key not in self.cache:
            self.cache[key] = self._map(name, fmt)
        return self.cache[key]

    def _map(self, name: str, fmt: Any) -> Target:
        low = name.strip().lower()
        number = _NUMBER.search(name)
        digits = (number.group(1) or number.group(2)) if number else None
        plain = _strip_number(name)
        code = re.search(r"\((\w+)\)\s*$", name)  # Xero: "Sales (200)"
        for pattern, value in self.explicit.items():
            pat = pattern.strip().lower()
            hit = (
                pat == low
                or pat == plain.lower()
                or (digits is not None and pat == digits)
                or (code is not None and pat == code.group(1).lower())
                or (any(ch in pat for ch in "*?[") and fnmatch.fnmatchcase(low, pat))
            )
            if hit:
                account = value.get("account") if isinstance(value, dict) else value
                category = (
                    value.get("category") if isinstance(value, dict) else None
                ) or plain.lower()
                return Target(account, category, "mapping")
        if digits:
            return Target(digits, plain.lower(), "number in name")
        default = getattr(fmt, "default_account", None)
        found = default(name) if default else None
        if found:
            account, category = found
            return Target(account, category or plain.lower(), "default")
        return Target("", "uncategorized", "unmapped")


def _strip_number(name: str) -> str:
    text = re.sub(r"^\s*\d{4}\s*[·:\-]?\s*", "", name)
    return re.sub(r"\s*\(\w+\)\s*$", "", text).strip() or name.strip()


def credit_normal(account: str, name: str) -> bool:
    """Whether an account grows with credits (2xxx-4xxx); unknown: by its name."""
    if account[:1] in ("2", "3", "4"):
        return True
    if account[:1] in ("1", "5", "6", "7", "8", "9") or account == "transfer":
        return False
    low = name.lower()
    return any(w in low for w in ("income", "revenue", "sales", "payable", "loan", "equity"))


# keyword defaults shared by the double-entry formats (QuickBooks' and Xero's account types)
KEYWORD_DEFAULTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("undeposited funds",), "1050", "undeposited funds"),
    (("checking", "savings", "bank", "petty cash", "cash on hand"), "1000", "bank"),
    (("credit card", "visa", "mastercard", "amex", "american express"), "2100", "credit card"),
    (("accounts receivable", "a/r"), "1200", "accounts receivable"),
    (("accounts payable", "a/p"), "2000", "accounts payable"),
    (("opening balance equity", "owner", "retained earnings", "equity"), "3000", "equity"),
    (("cost of goods", "cost of sales", "cogs"), "5000", "cost of goods sold"),
    (("income", "sales", "revenue"), "4000", ""),
)


def keyword_default(name: str) -> tuple[str, str] | None:
    low = name.lower()
    for words, account, category in KEYWORD_DEFAULTS:
        if any(w in low for w in words):
            return account, category
    return None


def load_tuples(con: Any, table: str, rows: list[tuple]) -> None:
    """Create `table` (the posting columns) from Python tuples, through a temporary CSV that
    DuckDB reads typed (far faster than row-by-row inserts)."""
    import tempfile

    cols = ", ".join(f"{n} {t}" for n, t in POSTING_COLUMNS)
    con.execute(f"CREATE TEMP TABLE {table} ({cols})")
    if not rows:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p.csv"
        seen: dict[Any, int] = {}
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for r in rows:
                seq = seen[r[0]] = seen.get(r[0], -1) + 1
                w.writerow(["" if v is None else v for v in r] + [seq])
        spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in POSTING_COLUMNS) + "}"
        path = str(out).replace("'", "''")
        con.execute(
            f"INSERT INTO {table} SELECT * FROM read_csv('{path}', header = false, "
            f"columns = {spec}, auto_detect = false, quote = '\"', escape = '\"', "
            "nullstr = '', delim = ',')"
        )
        con.execute(
            f"UPDATE {table} SET source_account = coalesce(source_account, ''), "
            "counterparty = coalesce(counterparty, ''), memo = coalesce(memo, ''), "
            "txn = coalesce(txn, ''), category = coalesce(category, '')"
        )
