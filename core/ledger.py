"""The ledger in DuckDB: CSV files streamed into typed tables, queried with SQL.

Every Ledger answers `sql()` against a view named `ledger` with the columns of ledger.csv
(`date` DATE, `amount` DECIMAL(18,2), `service_date` DATE, the rest VARCHAR) plus `entity`.
The table `ledger_lines` holds the same rows with `line`, the row's line in its file.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import DataError

COLUMNS = (
    "date",
    "amount",
    "account",
    "category",
    "counterparty",
    "memo",
    "service_date",
    "receipt",
)
REQUIRED = ("date", "amount")
# names the engine gives its own columns: a ledger.csv column with one of them would
# shadow it (an `entity` column moved rows to another entity)
RESERVED = {
    "entity": "it to the entity's key on every row",
    "line": "it to the row's line in the file",
    "_service_given": "it while reading service_date",
    "rowid": "it to the row's place in the file",
}
_DATE = r"\d{4}-\d{2}-\d{2}"
_AMOUNT = r"[+-]?\d+(\.\d{1,2})?"

_database: contextvars.ContextVar[Any] = contextvars.ContextVar("execreport_database")
_schemas = itertools.count(1)


def current_database() -> Any:
    """The DuckDB connection ledgers are loaded into (an in-memory one by default)."""
    con = _database.get(None)
    if con is None:
        import duckdb

        con = duckdb.connect(":memory:")
        _database.set(con)
    return con


@contextlib.contextmanager
def use_database(con: Any = None) -> Iterator[Any]:
    """Load ledgers into `con` (a fresh in-memory database if None) inside the block."""
    if con is None:
        import duckdb

        con = duckdb.connect(":memory:")
    token = _database.set(con)
    try:
        yield con
    finally:
        _database.reset(token)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Ledger:
    """Transactions in DuckDB. `sql()` runs against the view `ledger`."""

    def __init__(self, con: Any, schema: str, *, source: str | None = None) -> None:
        self._root = con
        self.schema = schema
        self.source = source
        self._con = con.cursor()
        self._con.execute(f"SET search_path = {_literal(schema)}")
        self.notes: list[str] = []  # what a multi-file load read, mapped and matched

    # -- queries -------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        """Run `query` (DuckDB SQL) and return all rows as tuples."""
        if params is None:
            return self._con.execute(query).fetchall()
        return self._con.execute(query, params).fetchall()

    def scalar(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        rows = self.sql(query, params)
        return rows[0][0] if rows else None

    def columns(self) -> list[str]:
        return [r[0] for r in self.sql("SELECT column_name FROM (DESCRIBE ledger)")]

    def __len__(self) -> int:
        return int(self.scalar("SELECT count(*) FROM ledger"))

    def last_date(self) -> Any:
        return self.scalar("SELECT max(date) FROM ledger")

    def __repr__(self) -> str:
        return f"Ledger(schema={self.schema!r}, source={self.source!r})"

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str | Path, entity: str) -> Ledger:
        """Load `ledger.csv`. A row that cannot be read raises `DataError('file:line: ...')`."""
        path = Path(path)
        con = current_database()
        schema = f"e{next(_schemas)}"
        header = _read_header(path)
        _check_header(path, header)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DataError(f"{path}:1: missing required column {missing[0]!r} in the header")
        columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in header) + "}"
        source = (
            f"read_csv({_literal(str(path))}, header = true, auto_detect = false, "
            f"delim = ',', quote = '\"', escape = '\"', columns = {columns}, strict_mode = true)"
        )
        have = set(header)

        def text(name: str) -> str:
            return f"coalesce({_ident(name)}, '')" if name in have else "''"

        def iso_date(name: str) -> str:
            value = f"trim({_ident(name)})"
            return f"CASE WHEN regexp_full_match({value}, '{_DATE}') THEN try_cast({value} AS DATE) END"

        extra = [c for c in header if c not in COLUMNS]
        given = "nullif(trim(service_date), '') IS NOT NULL" if "service_date" in have else "false"
        select = ", ".join(
            [
                f"{iso_date('date')} AS date",
                f"CASE WHEN regexp_full_match(trim(amount), '{_AMOUNT}') "
                "THEN try_cast(trim(amount) AS DECIMAL(18,2)) END AS amount",
                f"{text('account')} AS account",
                f"{text('category')} AS category",
                f"{text('counterparty')} AS counterparty",
                f"{text('memo')} AS memo",
                (f"{iso_date('service_date')}" if "service_date" in have else "NULL::DATE")
                + " AS service_date",
                f"{text('receipt')} AS receipt",
                *[f"{_ident(c)}" for c in extra],
                f"{given} AS _service_given",
            ]
        )
        con.execute(f"CREATE SCHEMA {schema}")
        # one pass over the file: parse, check and type every row; insertion order is kept,
        # so a row's rowid tells its place in the file
        try:
            con.execute(f"CREATE TABLE {schema}.rows AS SELECT {select} FROM {source}")
        except Exception as exc:  # duckdb.Error: a row with the wrong number of fields, ...
            con.execute(f"DROP SCHEMA {schema} CASCADE")
            bad = first_bad_utf8_line(path)
            if bad is not None:
                raise DataError(f"{path}:{bad[0]}: {utf8_problem(bad[1])}") from None
            raise DataError(_parse_error(path, str(exc), len(header))) from None
        count = con.execute(f"SELECT count(*) FROM {schema}.rows").fetchone()[0]
        starts = _record_lines(path, count)
        if starts is None:  # one record per line after the header: line = rowid + 2
            line = "CAST(r.rowid + 2 AS INTEGER)"
            lines_from = f"{schema}.rows r"
        else:  # blank lines or quoted line breaks: the lines were counted in Python
            con.execute(f"CREATE TABLE {schema}.lines (rid BIGINT, line INTEGER)")
            if starts:  # a header and blank lines only: no rows, as with a header alone
                con.executemany(
                    f"INSERT INTO {schema}.lines VALUES (?, ?)", list(enumerate(starts))
                )
            line = "m.line"
            lines_from = f"{schema}.rows r JOIN {schema}.lines m ON m.rid = r.rowid"
        _validate(con, schema, source, path, "service_date" in have, starts)
        con.execute(
            f"CREATE VIEW {schema}.ledger_lines AS SELECT {line} AS line, "
            f"r.* EXCLUDE (_service_given), {_literal(entity)} AS entity FROM {lines_from}"
        )
        con.execute(f"CREATE VIEW {schema}.ledger AS SELECT * EXCLUDE (line) FROM ledger_lines")
        return cls(con, schema, source=str(path))

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]], entity: str) -> Ledger:
        """A ledger from dicts with the ledger.csv keys (for sources that are not files)."""
        con = current_database()
        schema = f"e{next(_schemas)}"
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            f"CREATE TABLE {schema}.ledger_lines (line INTEGER, date DATE, amount DECIMAL(18,2), "
            "account VARCHAR, category VARCHAR, counterparty VARCHAR, memo VARCHAR, "
            "service_date DATE, receipt VARCHAR, entity VARCHAR)"
        )
        values = [
            (
                i + 1,
                r["date"],
                r["amount"],
                *(r.get(c) or "" for c in ("account", "category", "counterparty", "memo")),
                r.get("service_date") or None,
                r.get("receipt") or "",
                entity,
            )
            for i, r in enumerate(rows)
        ]
        if values:
            con.executemany(
                f"INSERT INTO {schema}.ledger_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values
            )
        con.execute(f"CREATE VIEW {schema}.ledger AS SELECT * EXCLUDE (line) FROM ledger_lines")
        return cls(con, schema, source=None)

    @classmethod
    def from_files(
        cls,
        files: Sequence[Any],
        entity: str,
        accounts: dict[str, Any] | None = None,
        where: str = "accounts",
    ) -> Ledger:
        """A ledger from several files, each in its own format (QuickBooks, Xero, OFX, Stripe,
        Beancount, a bank CSV, ledger.csv): see execreport.formats.combine. `notes` on the
        result says what was read, mapped, matched and left unmapped."""
        from .formats import Mapper
        from .formats.combine import build

        con = current_database()
        schema = f"e{next(_schemas)}"
        mapper = Mapper(dict(accounts or {}), where=where)
        con.execute(f"CREATE SCHEMA {schema}")
        try:
            notes = build(con, schema, list(files), mapper, entity)
        except BaseException:
            con.execute(f"DROP SCHEMA {schema} CASCADE")
            raise
        ledger = cls(con, schema, source=", ".join(str(f.path) for f in files))
        ledger.notes = notes
        return ledger

    @classmethod
    def consolidate(cls, ledgers: Sequence[Ledger], rates: Sequence[Any] | None = None) -> Ledger:
        """One ledger over all `ledgers`, their rows told apart by the `entity` column.

        `rates`, one a ledger: None keeps its amounts as they are; a Decimal multiplies them
        (an entity in another currency, converted at a stated rate; rounded to the cent)."""
        from decimal import Decimal

        con = current_database()
        schema = f"c{next(_schemas)}"
        con.execute(f"CREATE SCHEMA {schema}")
        parts = []
        for i, ledger in enumerate(ledgers):
            if ledger._root is not con:  # a source that kept its own database: copy it in
                ledger = _copy_into(con, ledger)
            rate = rates[i] if rates is not None else None
            if rate is None or Decimal(rate) == 1:
                parts.append(f"SELECT * FROM {ledger.schema}.ledger_lines")
                continue
            factor = Decimal(rate)
            if not factor.is_finite() or factor <= 0:
                raise ValueError(f"rate {rate!r} is not a positive number")
            parts.append(
                f"SELECT * REPLACE (CAST(round(amount * CAST('{factor}' AS DECIMAL(18,8)), 2) "
                f"AS DECIMAL(18,2)) AS amount) FROM {ledger.schema}.ledger_lines"
            )
        if parts:
            union = " UNION ALL BY NAME ".join(parts)
            con.execute(f"CREATE VIEW {schema}.ledger_lines AS {union}")
        else:
            con.execute(
                f"CREATE VIEW {schema}.ledger_lines AS SELECT 0::INTEGER AS line, "
                "NULL::DATE AS date, NULL::DECIMAL(18,2) AS amount, '' AS account, "
                "'' AS category, '' AS counterparty, '' AS memo, NULL::DATE AS service_date, "
                "'' AS receipt, '' AS entity WHERE false"
            )
        con.execute(f"CREATE VIEW {schema}.ledger AS SELECT * EXCLUDE (line) FROM ledger_lines")
        return cls(con, schema, source=None)


def _copy_into(con: Any, ledger: Ledger) -> Ledger:
    schema = f"e{next(_schemas)}"
    rows = ledger.sql("SELECT * FROM ledger_lines")
    cols = [r[0] for r in ledger.sql("SELECT column_name FROM (DESCRIBE ledger_lines)")]
    types = [r[1] for r in ledger.sql("SELECT column_type FROM (DESCRIBE ledger_lines)")]
    con.execute(f"CREATE SCHEMA {schema}")
    coldefs = ", ".join(f"{_ident(c)} {t}" for c, t in zip(cols, types, strict=True))
    con.execute(f"CREATE TABLE {schema}.ledger_lines ({coldefs})")
    if rows:
        marks = ", ".join("?" for _ in cols)
        con.executemany(f"INSERT INTO {schema}.ledger_lines VALUES ({marks})", rows)
    return Ledger(con, schema)


def _record_lines(path: Path, count: int) -> list[int] | None:
    """The line each data record starts on, or None when every record is one line right
    after the header (the common case, found by counting newlines, not by parsing)."""
    newlines, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    physical = newlines + (0 if last == b"\n" else 1)
    if physical == count + 1:
        return None
    starts: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        before = reader.line_num
        for record in reader:
            if record:  # DuckDB skips blank lines
                starts.append(before + 1)
            before = reader.line_num
    return starts if len(starts) == count else None


def _parse_error(path: Path, message: str, fields: int) -> str:
    """`path:LINE: what` for a row DuckDB could not split into the header's fields."""
    import re

    found = re.search(r"Line: (\d+)", message)
    if found:
        number = int(found.group(1))
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            before = 0
            for record in reader:
                if before < number <= reader.line_num and record:
                    return (
                        f"{path}:{before + 1}: {len(record)} fields where the header has {fields}"
                    )
                before = reader.line_num
    return f"{path}: {_first_line(message)}"


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


def _read_header(path: Path) -> list[str]:
    """The header's column names; only the first line is read (and decoded)."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    try:
        with path.open("rb") as fh:
            first = fh.readline(1 << 20)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:1: {utf8_problem(exc)}") from None
    try:
        header = next(csv.reader([text]), None)
    except csv.Error as exc:
        raise DataError(f"{path}:1: cannot read the header: {exc}") from None
    if not header:
        raise DataError(f"{path}:1: empty file; expected the header {','.join(COLUMNS)}")
    return [h.strip() for h in header]


def utf8_problem(exc: UnicodeDecodeError) -> str:
    """What a decoding error says to a person: the byte, and that UTF-8 is expected."""
    byte = exc.object[exc.start : exc.start + 1]
    shown = f" (byte {byte[0]:#04x})" if byte else ""
    return f"not UTF-8 text{shown}; save the file as UTF-8"


def first_bad_utf8_line(path: Path) -> tuple[int, UnicodeDecodeError] | None:
    """The line of the first byte that is not UTF-8, read in blocks; None if all is UTF-8."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # the decoder's offsets are within its buffer: find the bad byte again
                data = block
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as inner:
                    return line + data[: inner.start].count(b"\n"), inner
                return line, exc
            if not block:
                return None
            line += block.count(b"\n")
            offset += len(block)


def _check_header(path: Path, header: list[str]) -> None:
    """Column names: present, unique (DuckDB ignores case), none the engine uses itself."""
    for i, name in enumerate(header, 1):
        if not name:
            raise DataError(f"{path}:1: column {i} has no name in the header")
    seen: dict[str, str] = {}
    for name in header:
        low = name.lower()
        if low in seen:
            first = seen[low]
            if first == name:
                raise DataError(f"{path}:1: column {name!r} appears twice in the header")
            raise DataError(
                f"{path}:1: columns {first!r} and {name!r} differ only in case; "
                "give each column one name (the standard ones in lower case)"
            )
        seen[low] = name
    for name in header:
        low = name.lower()
        if low in RESERVED:
            raise DataError(
                f"{path}:1: column {name!r} is reserved (execreport sets "
                f"{RESERVED[low]}); rename the column"
            )
        if low in COLUMNS and name != low:
            raise DataError(f"{path}:1: column {name!r}: write the standard column as {low!r}")


def _validate(
    con: Any, schema: str, source: str, path: Path, service: bool, starts: list[int] | None
) -> None:
    """Report the first row whose date, amount or service_date could not be read."""
    bad = "date IS NULL OR amount IS NULL OR (_service_given AND service_date IS NULL)"
    rows = con.execute(
        f"SELECT rowid, date IS NULL, amount IS NULL, count(*) OVER () FROM {schema}.rows "
        f"WHERE {bad} ORDER BY rowid LIMIT 1"
    ).fetchall()
    if not rows:
        return
    rowid, d_bad, a_bad, total = rows[0]
    # the error path reads the raw text of that one row again
    raw = con.execute(
        f"SELECT date, amount, {'service_date' if service else 'NULL'} FROM {source} "
        f"LIMIT 1 OFFSET {int(rowid)}"
    ).fetchone()
    date, amount, service_date = raw
    if d_bad:
        what = f"date {date!r} is not a date (YYYY-MM-DD)" if date else "date is empty"
    elif a_bad:
        what = (
            f"amount {amount!r} is not a number with at most two decimals (like -42.10)"
            if amount
            else "amount is empty"
        )
    else:
        what = f"service_date {service_date!r} is not a date (YYYY-MM-DD)"
    more = f" (and {total - 1} more bad rows)" if total > 1 else ""
    con.execute(f"DROP SCHEMA {schema} CASCADE")
    line = starts[rowid] if starts is not None else rowid + 2
    raise DataError(f"{path}:{line}: {what}{more}")
