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
    path: Path,
    con: Any,
    table: str,
    *,
    txn_from: str,
    date_format: str | None = None,
    loc: str | None = None,
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
    rejects = f"{table}_rj"
    # rows with another number of fields than the header (an account heading written as one
    # field, the footer) are set aside by DuckDB with their line, and looked at below: the
    # parallel reader stays on (null_padding would turn it off)
    src = (
        f"read_csv({_lit(str(path))}, header = false, skip = {header_line}, all_varchar = true, "
        f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {spec}, "
        f"ignore_errors = true, store_rejects = true, rejects_table = {_lit(rejects)}, "
        f"rejects_scan = {_lit(rejects + '_scan')}, encoding = 'utf-8')"
    )
    try:
        _grouped_sql(con, path, src, table, cols, header_line, txn_from, date_format, rejects, loc)
    except BaseException:
        _drop(con, table)
        raise


def _guess_date_format(cells: list[str], given: str | None) -> str:
    """The date format of the report: `given`, else the one that reads most of the first
    date cells (US exports: 01/31/2025; Xero: 31 Jan 2025; ISO)."""
    if given:
        return given
    from datetime import datetime

    best, score = "%m/%d/%Y", -1
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%d %b %Y", "%d/%m/%Y", "%m/%d/%y", "%d %B %Y"):
        n = 0
        for c in cells:
            try:
                datetime.strptime(c, fmt)
                n += 1
            except ValueError:
                pass
        if n > score:
            best, score = fmt, n
    return best


def _grouped_sql(
    con: Any,
    path: Path,
    src: str,
    table: str,
    cols: dict[str, int],
    header_line: int,
    txn_from: str,
    date_format: str | None,
    rejects: str,
    loc: str | None,
) -> None:
    def col(key: str) -> str:
        return f"trim(coalesce(c{cols[key]}, ''))" if key in cols else "''"

    def raw(key: str) -> str:  # a text cell: no trim (quoted cells come without padding)
        return f"coalesce(c{cols[key]}, '')" if key in cols else "''"

    def clean(expr: str) -> str:
        c = f"replace(replace(replace({expr}, ',', ''), '$', ''), ' ', '')"
        return f"CASE WHEN starts_with({c}, '(') THEN '-' || trim({c}, '()') ELSE {c} END"

    def cast(name: str) -> str:
        ok = rf"regexp_full_match({name}, '[+-]?\d+(\.\d{{1,2}})?')"
        return f"CASE WHEN {ok} THEN CAST({name} AS DECIMAL(18,2)) END"

    width = cols["_width"]
    sample = _rows(path.open(encoding="utf-8-sig", errors="replace").read(65536), 400)
    cells = [r[cols["date"]] for r in sample[1:] if len(r) > cols["date"] and r[cols["date"]]]
    fmt = _guess_date_format(cells, date_format)
    natural = "amount" in cols
    if natural:
        a_cols = f"{clean(col('amount'))} AS a1, '' AS a2, {col('amount')} AS a1_raw, '' AS a2_raw"
        value = f"{cast('a1')}"
        filled = "a1 <> ''"
    else:
        a_cols = (
            f"{clean(col('debit'))} AS a1, {clean(col('credit'))} AS a2, "
            f"{col('debit')} AS a1_raw, {col('credit')} AS a2_raw"
        )
        value = (
            f"CASE WHEN (a1 = '' OR {cast('a1')} IS NOT NULL) AND (a2 = '' OR {cast('a2')} "
            f"IS NOT NULL) THEN coalesce({cast('a2')}, 0) - coalesce({cast('a1')}, 0) END"
        )
        filled = "(a1 <> '' OR a2 <> '')"
    skip = " OR ".join(f"starts_with(lower(f0), {_lit(p)})" for p in SKIP_PREFIXES)
    g = f"{table}_g"
    # one pass over the file: only what the postings need is kept (the raw text of a bad row
    # is read again on the error path)
    con.execute(
        f"CREATE TEMP TABLE {g} AS SELECT _skip, _is_heading, "
        "CASE WHEN _is_heading THEN f0 END AS f0, nm, memo, ty, num, acct, _d, _a, "
        "(NOT _skip AND NOT _is_heading AND (d <> '' OR _filled) AND (_d IS NULL OR _a IS NULL)) "
        "AS _bad FROM ("
        f"SELECT *, CASE WHEN _d IS NULL AND f0 <> '' THEN ({skip}) ELSE false END AS _skip, "
        f"(_d IS NULL AND f0 <> '' AND NOT _filled AND NOT ({skip})) AS _is_heading FROM ("
        f"SELECT *, try_strptime(d, {_lit(fmt)})::DATE AS _d, {value} AS _a, "
        f"{filled} AS _filled FROM ("
        f"SELECT trim(coalesce(c0, '')) AS f0, {col('date')} AS d, "
        f"{raw('name')} AS nm, {raw('memo')} AS memo, {raw('type')} AS ty, {raw('num')} AS num, "
        f"{col('account')} AS acct, {a_cols} FROM {src})))"
    )
    # the lines DuckDB did not make rows of: empty lines, and lines with another number of
    # fields (an account heading on its own is one; any other is an error)
    headings: list[tuple[int, str]] = []
    missing = set(_blank_lines(path, header_line))
    rejected = con.execute(
        f"SELECT DISTINCT line, error_type, csv_line FROM {rejects} ORDER BY line"
    ).fetchall()
    for line, _kind, text in rejected:
        missing.add(int(line))
        fields = next(csv.reader([text.strip("\r\n")]), [])
        filled_cells = [c for c in fields if c.strip()]
        first = fields[0].strip() if fields else ""
        if len(filled_cells) <= 1 and (first or not filled_cells):
            if first and not first.lower().startswith(SKIP_PREFIXES):
                headings.append((int(line), first))
            continue
        raise DataError(f"{path}:{line}: {len(fields)} fields where the header has {width}")
    ms = f"{table}_ms"
    con.execute(f"CREATE TEMP TABLE {ms} (nb BIGINT, k INTEGER)")
    rows = [(0, 0)] + [(b - header_line - 1 - j, j + 1) for j, b in enumerate(sorted(missing))]
    con.execute(f"INSERT INTO {ms} SELECT * FROM (VALUES {', '.join(map(str, rows))})")
    gl = f"{table}_gl"
    count = con.execute(f"SELECT count(*) FROM {g}").fetchone()[0]
    starts = _record_starts(path, header_line, count, missing)
    if starts is not None:  # quoted line breaks: each record's first line, counted in Python
        con.execute(f"CREATE TEMP TABLE {ms}_l (rid BIGINT, line INTEGER)")
        con.executemany(f"INSERT INTO {ms}_l VALUES (?, ?)", list(enumerate(starts)))
        con.execute(
            f"CREATE TEMP VIEW {gl} AS SELECT g.*, m.line AS _line, g.rowid AS rid FROM {g} g "
            f"JOIN {ms}_l m ON m.rid = g.rowid"
        )
    elif len(rows) <= 64:  # the usual case: a few blank lines, a few one-field headings
        shift = " ".join(f"WHEN g.rowid >= {nb} THEN {k}" for nb, k in reversed(rows))
        con.execute(
            f"CREATE TEMP VIEW {gl} AS SELECT g.*, (g.rowid + {header_line + 1} + CASE {shift} "
            f"END)::INTEGER AS _line, g.rowid AS rid FROM {g} g"
        )
    else:
        con.execute(
            f"CREATE TEMP VIEW {gl} AS SELECT g.*, (g.rowid + {header_line + 1} + m.k)::INTEGER "
            f"AS _line, g.rowid AS rid FROM {g} g ASOF JOIN {ms} m ON g.rowid >= m.nb"
        )
    bad = con.execute(
        f"SELECT _line, _d IS NULL FROM {gl} WHERE _bad ORDER BY rid LIMIT 1"
    ).fetchall()
    if bad:
        lno, d_bad = bad[0]
        record = _record_at(path, lno)

        def cell(key: str, record: list[str] = record) -> str:
            i = cols.get(key)
            return record[i].strip() if i is not None and i < len(record) else ""

        dtext, a1 = cell("date"), cell("amount" if natural else "debit")
        a2 = "" if natural else cell("credit")
        if not dtext:
            what = "date is empty"
        elif d_bad:
            what = f"date {dtext!r} is not a date ({fmt})"
        elif natural:
            what = f"Amount {a1!r} is not an amount" if a1 else "Amount is empty"
        else:
            what = f"Debit {a1!r} / Credit {a2!r}: not an amount"
        raise DataError(f"{path}:{lno}: {what}")
    h = f"{table}_h"
    con.execute(
        f"CREATE TEMP TABLE {h} AS SELECT _line AS line, f0 AS grp FROM {gl} WHERE _is_heading"
    )
    if headings:
        con.executemany(f"INSERT INTO {h} VALUES (?, ?)", headings)
    heads = con.execute(f"SELECT line, grp FROM {h} ORDER BY line").fetchall()
    few = len(heads) <= 64  # then a CASE on the line, else a join on the line
    if few:
        groups = " ".join(f"WHEN g._line >= {ln} THEN {_lit(n)}" for ln, n in reversed(heads))
        group = f"CASE {groups} ELSE '' END" if heads else "''"
    else:
        group = "coalesce(h.grp, '')"
    account = f"CASE WHEN g.acct <> '' THEN g.acct ELSE {group} END"
    txn = {
        "type_num_date": "g.num",  # with the date and the name: one transaction
    }[txn_from]
    names = [n for n, _ in POSTING_COLUMNS]
    values = [
        "g._line",
        f"{_lit(loc or str(path) + ':')} || g._line",
        "g._d",
        "g._a",
        account,
        "g.nm",
        "g.memo",
        txn,
        str(natural).lower(),
        "NULL::DATE",
        "''",
        "0",
    ]
    select = ", ".join(f"{v} AS {n}" for v, n in zip(values, names, strict=True))
    con.execute(
        f"CREATE TEMP VIEW {table} AS SELECT {select} FROM {gl} g "
        + ("" if few else f"ASOF LEFT JOIN {h} h ON g._line >= h.line ")
        + "WHERE g._d IS NOT NULL AND g._a IS NOT NULL AND NOT g._skip AND NOT g._is_heading"
    )


def names_sql(table: str) -> str:
    """The account names of a grouped report: its headings and its Account column."""
    return (
        f"SELECT grp FROM {table}_h UNION SELECT DISTINCT acct FROM {table}_g "
        "WHERE acct <> '' UNION SELECT '' "
    )


def _record_starts(path: Path, header_line: int, count: int, missing: set[int]) -> list[int] | None:
    """None when every row is one physical line (counted from the bytes, fast); else the
    first line of each record DuckDB made a row of (a memo with a line break in quotes)."""
    newlines, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    physical = newlines + (0 if last == b"\n" else 1)
    if physical == header_line + count + len(missing):
        return None
    out: list[int] = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        before = 0
        for record in reader:
            start = before + 1
            before = reader.line_num
            if start <= header_line or not record or start in missing:
                continue
            out.append(start)
    return out if len(out) == count else None


def _record_at(path: Path, line: int) -> list[str]:
    """The CSV record that starts on physical line `line` (the error path only)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        before = 0
        for record in reader:
            if before + 1 >= line:
                return record
            before = reader.line_num
    return []


def _drop(con: Any, table: str) -> None:
    """Drop a grouped reader's temporary objects (the combine step does it after use)."""
    for v in (table, f"{table}_gl"):
        con.execute(f"DROP VIEW IF EXISTS {v}")
    for t in (
        f"{table}_g",
        f"{table}_h",
        f"{table}_ms",
        f"{table}_ms_l",
        f"{table}_rj",
        f"{table}_rj_scan",
    ):
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
            read_grouped_csv(out, con, table, txn_from=txn_from, loc=f"{path}:{name}!")
        except DataError as exc:
            msg = str(exc)
            m = re.match(rf"{re.escape(str(out))}:(\d+): (.*)", msg)
            if m:
                raise DataError(f"{path}:{name}!{m.group(1)}: {m.group(2)}") from None
            raise DataError(msg.replace(str(out), str(path))) from None


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
