"""Accounting reports grouped by account (QuickBooks Online's General Ledger and Transaction
Detail by Account, Xero's Account Transactions): title lines, a header row, then per account
a heading row, its transactions and a "Total for ..." row. CSV is read by DuckDB in one pass
(so a 1M-row export loads about as fast as ledger.csv); XLSX through python-calamine."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ..errors import DataError
from . import POSTING_COLUMNS

DATE_NAMES = ("date", "transaction date")
NAME_NAMES = ("name", "contact", "payee", "customer/vendor")
MEMO_NAMES = ("memo/description", "description", "memo")
TYPE_NAMES = ("transaction type", "type", "source")
NUM_NAMES = ("num", "no.", "reference", "ref")
ACCOUNT_NAMES = ("account", "account name", "distribution account")
SKIP_PREFIXES = ("total", "opening balance", "closing balance", "net movement", "grand total")


def _norm(cell: str) -> str:
    return re.sub(r"\s*\([A-Z]{3}\)$", "", cell.strip()).lower()  # "Debit (USD)" -> "debit"


def find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    """The header row's index and the columns it names, or None."""
    for i, row in enumerate(rows):
        names = [_norm(c) for c in row]
        if not any(n in DATE_NAMES for n in names):
            continue
        if not ({"amount", "debit", "credit"} & set(names)):
            continue
        cols: dict[str, int] = {}

        def pick(
            key: str, options: tuple[str, ...], names: list[str] = names, cols: dict = cols
        ) -> None:
            for opt in options:
                if opt in names:
                    cols[key] = names.index(opt)
                    return

        pick("date", DATE_NAMES)
        pick("name", NAME_NAMES)
        pick("memo", MEMO_NAMES)
        pick("type", TYPE_NAMES)
        pick("num", NUM_NAMES)
        pick("account", ACCOUNT_NAMES)
        pick("amount", ("amount",))
        pick("debit", ("debit",))
        pick("credit", ("credit",))
        cols["_width"] = len(row)
        return i, cols
    return None


def sniff_grouped(head: str, title_words: tuple[str, ...], columns: tuple[str, ...]) -> bool:
    rows = _rows(head)
    found = find_header(rows)
    if found is None:
        return False
    index, _ = found
    titles = " ".join(" ".join(r) for r in rows[:index]).lower()
    header = [_norm(c) for c in rows[index]]
    return any(w in titles for w in title_words) or all(c in header for c in columns)


def _rows(text: str, limit: int = 40) -> list[list[str]]:
    out = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            if i >= limit:
                break
            out.append([c.strip() for c in row])
    except csv.Error:
        pass
    return out


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _blank_lines(path: Path, after: int) -> list[int]:
    """Physical line numbers (1-based) of empty lines after line `after`."""
    data = path.read_bytes()
    out = []
    line = 1
    pos = 0
    for m in re.finditer(rb"\n(?=\r?\n|$)", data):
        line += data.count(b"\n", pos, m.start())
        pos = m.start()
        blank = line + 1
        if blank > after and m.end() < len(data):
            out.append(blank)
    return out


def read_grouped_csv(
    path: Path, con: Any, table: str, *, txn_from: str, date_format: str | None = None
) -> None:
    """Create `table` (the posting columns) from a grouped report CSV."""
    text = path.open(encoding="utf-8-sig", errors="replace").read(65536)
    found = find_header(_rows(text, 200))
    if found is None:
        raise DataError(f"{path}: no header row with Date and Amount (or Debit/Credit) columns")
    index, cols = found
    width = cols["_width"]
    header_line = _physical_line(path, index)
    names = {f"c{i}": "VARCHAR" for i in range(max(width, 2))}
    spec = "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in names.items()) + "}"
    src = (
        f"read_csv({_lit(str(path))}, header = false, skip = {header_line}, all_varchar = true, "
        f"null_padding = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {spec}, strict_mode = false, encoding = 'utf-8')"
    )
    raw = f"{table}_raw"
    con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {src}")
    blanks = _blank_lines(path, header_line)
    con.execute(f"CREATE TEMP TABLE {raw}_blank (nb BIGINT)")
    if blanks:
        con.executemany(
            f"INSERT INTO {raw}_blank VALUES (?)",
            [(b - header_line - 1 - j,) for j, b in enumerate(blanks)],
        )

    def col(key: str) -> str:
        return f"trim(coalesce(c{cols[key]}, ''))" if key in cols else "''"

    def amount(expr: str) -> str:
        clean = f"replace(replace(replace(replace({expr}, '$', ''), ',', ''), ' ', ''), '\"', '')"
        neg = f"(starts_with({clean}, '(') AND ends_with({clean}, ')'))"
        body = f"CASE WHEN {neg} THEN '-' || trim({clean}, '()') ELSE {clean} END"
        ok = rf"regexp_full_match({body}, '[+-]?\d+(\.\d{{1,2}})?')"
        return f"CASE WHEN {ok} THEN CAST({body} AS DECIMAL(18,2)) END"

    formats = [date_format] if date_format else ["%m/%d/%Y", "%Y-%m-%d", "%d %b %Y", "%d/%m/%Y"]
    d = col("date")
    parsed = "coalesce(" + ", ".join(f"try_strptime({d}, {_lit(f)})" for f in formats) + ")"
    first = "trim(coalesce(c0, ''))"
    if "amount" in cols:
        value = amount(col("amount"))
        filled = f"{col('amount')} <> ''"
        natural = "true"
    else:
        debit, credit = amount(col("debit")), amount(col("credit"))
        value = (
            f"CASE WHEN ({col('debit')} = '' OR {debit} IS NOT NULL) AND "
            f"({col('credit')} = '' OR {credit} IS NOT NULL) THEN "
            f"coalesce({credit}, 0) - coalesce({debit}, 0) END"
        )
        filled = f"({col('debit')} <> '' OR {col('credit')} <> '')"
        natural = "false"
    skip = " OR ".join(f"starts_with(lower({first}), {_lit(p)})" for p in SKIP_PREFIXES)
    # a heading row: text in the first column, no amount, no date; the account of the rows
    # under it until the next heading
    heading = f"CASE WHEN NOT ({skip}) AND NOT {filled} AND {parsed} IS NULL AND {first} <> '' THEN regexp_replace({first}, '^\\s+', '') END"
    con.execute(
        f"CREATE TEMP TABLE {raw}_g AS SELECT rowid AS rid, *, {parsed} AS _d, {value} AS _a, "
        f"{filled} AS _filled, ({skip}) AS _skip, {heading} AS _heading FROM {raw}"
    )
    line = f"(g.rid + {header_line + 1} + (SELECT count(*) FROM {raw}_blank b WHERE b.nb <= g.rid))"
    con.execute(
        f"CREATE TEMP TABLE {raw}_h AS SELECT g.*, {line}::INTEGER AS _line, "
        "last_value(_heading IGNORE NULLS) OVER (ORDER BY rid ROWS BETWEEN UNBOUNDED PRECEDING "
        f"AND CURRENT ROW) AS _group FROM {raw}_g g"
    )
    # a row with a date or an amount that is not a heading, a total or a balance line must
    # read cleanly
    bad = con.execute(
        f"SELECT _line, {d}, _a IS NULL, {col('amount') if 'amount' in cols else col('debit') + ' || ' + _lit(' / ') + ' || ' + col('credit')} "
        f"FROM {raw}_h WHERE NOT _skip AND _heading IS NULL AND ({d} <> '' OR _filled) "
        "AND (_d IS NULL OR _a IS NULL) ORDER BY rid LIMIT 1"
    ).fetchall()
    if bad:
        lno, dtext, a_bad, atext = bad[0]
        if not dtext:
            what = "date is empty"
        elif (
            a_bad
            and dtext
            and con.execute(f"SELECT {parsed.replace(d, _lit(dtext))}").fetchone()[0]
        ):
            what = f"amount {atext!r} is not an amount" if atext.strip(" /") else "amount is empty"
        else:
            what = f"date {dtext!r} is not a date" + (f" ({date_format})" if date_format else "")
        _drop(con, raw)
        raise DataError(f"{path}:{lno}: {what}")
    account = (
        f"CASE WHEN {col('account')} <> '' THEN {col('account')} ELSE coalesce(_group, '') END"
        if "account" in cols
        else "coalesce(_group, '')"
    )
    txn = {
        "type_num_date": f"{col('type')} || '|' || {col('num')} || '|' || strftime(_d, '%Y-%m-%d') || '|' || {col('name')}",
    }[txn_from]
    cols_sql = ", ".join(f"{n} {t}" for n, t in POSTING_COLUMNS)
    con.execute(f"CREATE TEMP TABLE {table} ({cols_sql})")
    con.execute(
        f"INSERT INTO {table} SELECT _line, {_lit(str(path))} || ':' || _line, _d::DATE, _a, "
        f"{account}, {col('name')}, {col('memo')}, {txn}, {natural}, NULL, '' FROM {raw}_h "
        "WHERE _d IS NOT NULL AND _a IS NOT NULL AND NOT _skip AND _heading IS NULL"
    )
    _drop(con, raw)


def _drop(con: Any, raw: str) -> None:
    for t in (raw, f"{raw}_blank", f"{raw}_g", f"{raw}_h"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _physical_line(path: Path, record_index: int) -> int:
    """The physical line (1-based) that ends record number `record_index` (0-based)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        for i, _ in enumerate(reader):
            if i == record_index:
                return reader.line_num
    return record_index + 1


def xlsx_to_rows(path: Path, sheet: str | None) -> tuple[str, list[list[Any]]]:
    """The sheet's name and its cells (python-calamine, imported here)."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        raise DataError(
            f"{path}: reading XLSX needs python-calamine: pip install 'execreport[qbo]'"
        ) from None
    try:
        book = CalamineWorkbook.from_path(str(path))
        name = sheet or book.sheet_names[0]
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:  # a broken zip, a missing sheet
        raise DataError(f"{path}: cannot read the workbook: {exc}") from None
    return name, rows


def read_grouped_xlsx(
    path: Path, con: Any, table: str, *, sheet: str | None, txn_from: str
) -> None:
    """The XLSX form: the rows become a CSV in memory's temp folder, read as above, and the
    locations say `file:sheet!row`."""
    import tempfile

    name, rows = xlsx_to_rows(path, sheet)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sheet.csv"
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for row in rows:
                w.writerow([_cell(c) for c in row] if row else [""])
        try:
            read_grouped_csv(out, con, table, txn_from=txn_from)
        except DataError as exc:
            msg = str(exc)
            m = re.match(rf"{re.escape(str(out))}:(\d+): (.*)", msg)
            if m:
                raise DataError(f"{path}:{name}!{m.group(1)}: {m.group(2)}") from None
            raise DataError(msg.replace(str(out), str(path))) from None
        con.execute(f"UPDATE {table} SET loc = {_lit(str(path) + ':' + name + '!')} || line")


def _cell(value: Any) -> str:
    from datetime import date, datetime

    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else f"{value:.2f}"
    return str(value)
