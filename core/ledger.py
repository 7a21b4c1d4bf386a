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
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DataError(f"{path}:1: missing required column {missing[0]!r} in the header")
        dupes = [c for c in header if header.count(c) > 1]
        if dupes:
            raise DataError(f"{path}:1: column {dupes[0]!r} appears twice in the header")
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
            raise DataError(_parse_error(path, str(exc), len(header))) from None
        count = con.execute(f"SELECT count(*) FROM {schema}.rows").fetchone()[0]
        starts = _record_lines(path, count)
        if starts is None:  # one record per line after the header: line = rowid + 2
            line = "CAST(r.rowid + 2 AS INTEGER)"
            lines_from = f"{schema}.rows r"
        else:  # blank lines or quoted line breaks: the lines were counted in Python
            con.execute(f"CREATE TABLE {schema}.lines (rid BIGINT, line INTEGER)")
            con.executemany(f"INSERT INTO {schema}.lines VALUES (?, ?)", list(enumerate(starts)))
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
    def consolidate(cls, ledgers: Sequence[Ledger]) -> Ledger:
        """One ledger over all `ledgers`, their rows told apart by the `entity` column."""
        con = current_database()
        schema = f"c{next(_schemas)}"
        con.execute(f"CREATE SCHEMA {schema}")
        parts = []
        for ledger in ledgers:
            if ledger._root is not con:  # a source that kept its own database: copy it in
                ledger = _copy_into(con, ledger)
            parts.append(f"SELECT * FROM {ledger.schema}.ledger_lines")
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
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if not header:
        raise DataError(f"{path}:1: empty file; expected the header {','.join(COLUMNS)}")
    return [h.strip() for h in header]


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
