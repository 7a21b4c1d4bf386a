"""An entity's ledger from several files in several formats: read, map, match, keep.

1. Each file is read by its format into postings (docs/data-format.md, "Other formats").
2. Each source account is mapped to the chart (`[entities.<key>.accounts]`, then the
   format's defaults). An account mapped to 1000-1099 or 2100-2199 (cash, bank, Stripe
   balance, credit cards) or to "transfer" is one of the business's own money accounts.
3. Postings to money accounts are not ledger rows: in a double-entry file (QuickBooks, Xero,
   Beancount) they are the cash side of the other postings; in a statement (bank, card,
   Stripe) a row whose other side is a money account is a transfer between own accounts.
4. The same transaction in two files is counted once (`match`).
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import Mapper, credit_normal, detect, is_money

MATCH_DAYS = 3
_STOP = {
    "pos",
    "ach",
    "debit",
    "credit",
    "deposit",
    "payment",
    "purchase",
    "card",
    "online",
    "transfer",
    "the",
    "inc",
    "llc",
    "co",
    "ltd",
    "corp",
    "and",
    "from",
    "to",
    "for",
    "xfer",
    "ppd",
    "web",
    "id",
    "ref",
    "dep",
    "pmt",
}
_tables = itertools.count(1)


@dataclass
class FileSpec:
    path: Path
    format: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    where: str = "ledger"


def normalize(name: str) -> str:
    return " ".join(name.lower().split())


def similar(a: str, b: str) -> bool:
    """Counterparties are similar when either is empty, one contains the other (normalized),
    they share a word of 3+ letters that is not a banking word, or difflib's ratio >= 0.6."""
    na, nb = normalize(a), normalize(b)
    if not na or not nb or na in nb or nb in na:
        return True
    wa = {w for w in re.findall(r"[a-z]{3,}", na) if w not in _STOP}
    wb = {w for w in re.findall(r"[a-z]{3,}", nb) if w not in _STOP}
    if wa & wb:
        return True
    return difflib.SequenceMatcher(None, na, nb).ratio() >= 0.6


def build(con: Any, schema: str, files: list[FileSpec], mapper: Mapper, entity: str) -> list[str]:
    """Create `schema.postings` and the views `ledger_lines` / `ledger`; return the notes
    `execreport check` prints (formats, mapping, unmapped accounts, duplicates, transfers)."""
    parts = []
    prefixes: list[str] = []  # how a file's rows are named: "file:" or "file:Sheet1!"
    notes: list[str] = []
    fmts = {}
    for i, spec in enumerate(files):
        fmt = detect(spec.path, spec.format, spec.where)
        fmts[i] = fmt
        table = f"_p{next(_tables)}"
        opts = {**spec.options, "_where": spec.where}
        try:
            fmt.read(spec.path, opts, con, table)
        except Exception:
            _cleanup(con)
            raise
        native = bool(getattr(fmt, "native", False))
        single = bool(fmt.single_sided) and not native
        names_sql = getattr(fmt, "names_sql", None)  # a reader may know them cheaper
        query = names_sql(table) if names_sql else f"SELECT DISTINCT source_account FROM {table}"
        names = [r[0] for r in con.execute(query).fetchall()]
        rows = []
        for name in names:
            t = mapper.map(name, fmt)
            money = is_money(t.account) and not native
            rows.append((name, t.account, t.category, t.how, money, credit_normal(t.account, name)))
        mt = f"{table}_m"
        con.execute(
            f"CREATE TEMP TABLE {mt} (name VARCHAR, account VARCHAR, category VARCHAR, "
            "how VARCHAR, money BOOLEAN, cn BOOLEAN)"
        )
        if rows:
            con.executemany(f"INSERT INTO {mt} VALUES (?, ?, ?, ?, ?, ?)", rows)
        role = (
            "CASE WHEN m.money THEN " + ("'transfer'" if single else "'cash'") + " ELSE 'row' END"
        )
        value = "CASE WHEN p.nat AND NOT m.cn THEN -p.amount ELSE p.amount END"
        category = (
            "CASE WHEN p.category <> '' THEN p.category ELSE m.category END"
            if native
            else "m.category"
        )
        parts.append(
            f"SELECT {i} AS file_no, '{fmt.name}' AS format, {str(single).lower()} AS single, "
            f"p.line, p.seq, p.date, ({value})::DECIMAL(18,2) AS amount, p.source_account, "
            f"p.counterparty, p.memo, p.txn, p.service_date, "
            + (
                "p.source_account"
                if native
                else "CASE WHEN m.account = 'transfer' THEN '' ELSE m.account END"
            )
            + " AS account, "
            f"{category} AS category, m.how, {role} AS role FROM {table} p "
            f"JOIN {mt} m ON m.name = p.source_account"
        )
        first = con.execute(f"SELECT loc, line FROM {table} LIMIT 1").fetchall()
        prefixes.append(
            first[0][0][: len(first[0][0]) - len(str(first[0][1]))] if first else f"{spec.path}:"
        )
        notes.append(f"file {spec.path}: {fmt.name} ({fmt.title}), {{{i}}} postings")
    union = " UNION ALL ".join(parts)
    con.execute(
        f"CREATE TABLE {schema}.postings AS SELECT file_no * 1000000000000 + line * 1000 + seq AS pid, *, "
        "CASE WHEN role = 'cash' THEN -amount ELSE amount END AS cash, "
        "CASE WHEN role = 'row' THEN 'kept' ELSE role END AS status, '' AS matched "
        f"FROM ({union})"
    )
    _cleanup(con)
    counts = dict(
        con.execute(f"SELECT file_no, count(*) FROM {schema}.postings GROUP BY 1").fetchall()
    )
    notes = [n.replace("{" + str(i) + "}", str(counts.get(i, 0))) for i, n in enumerate(notes)]
    if any(fmt.single_sided and not getattr(fmt, "native", False) for fmt in fmts.values()):
        _match(con, schema, prefixes)
    notes += _summary(con, schema)
    source = (
        "CASE file_no "
        + " ".join(f"WHEN {i} THEN {_lit(pre)}" for i, pre in enumerate(prefixes))
        + " END || line"
    )
    con.execute(
        f"CREATE VIEW {schema}.ledger_lines AS SELECT line, date, amount, account, category, "
        "counterparty, memo, service_date, '' AS receipt, "
        + source
        + " AS source, source_account, "
        f"format AS source_format, '{entity.replace(chr(39), chr(39) * 2)}' AS entity "
        f"FROM {schema}.postings WHERE status = 'kept'"
    )
    con.execute(
        f"CREATE VIEW {schema}.ledger AS SELECT * EXCLUDE (line) FROM {schema}.ledger_lines"
    )
    return notes


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cleanup(con: Any) -> None:
    """Drop the readers' temporary views and tables (named _p<N>...)."""
    like = "LIKE '\\_p%' ESCAPE '\\'"
    for (v,) in con.execute(
        f"SELECT view_name FROM duckdb_views() WHERE temporary AND view_name {like}"
    ).fetchall():
        con.execute(f"DROP VIEW IF EXISTS {v}")
    for (t,) in con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name {like}"
    ).fetchall():
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _match(con: Any, schema: str, prefixes: list[str]) -> None:
    """Each statement row (bank, card, Stripe) is matched at most once, closest date first:
    1. to the cash side of a double-entry file's transaction (same amount, within 3 days,
       similar counterparty): the books have it; the statement row is not counted again;
    2. to a ledger row of a double-entry or ledger.csv file with the same amount;
    3. to a row of another statement with the same amount: counted once (the first file's);
    4. a transfer row (a Stripe payout, a row mapped to "transfer") to the row with the
       opposite amount in another statement: the other leg of the same transfer."""
    p = f"{schema}.postings"
    pairs = con.execute(
        f"""
        SELECT rule, s.pid, d.pid, abs(datediff('day', s.date, d.date)) AS gap,
               s.counterparty, d.counterparty, d.file_no, d.line
        FROM (
          SELECT 1 AS rule, s.pid AS sp, d.pid AS dp FROM {p} s JOIN {p} d
            ON s.single AND NOT d.single AND d.role = 'cash' AND s.role IN ('row', 'transfer')
           AND s.cash = d.cash
          UNION ALL
          SELECT 2, s.pid, d.pid FROM {p} s JOIN {p} d
            ON s.single AND NOT d.single AND d.role = 'row' AND s.role = 'row'
           AND s.cash = d.cash AND s.counterparty <> '' AND d.counterparty <> ''
          UNION ALL
          SELECT 3, s.pid, d.pid FROM {p} s JOIN {p} d
            ON s.single AND d.single AND s.role = 'row' AND d.role = 'row'
           AND d.file_no < s.file_no AND s.cash = d.cash
          UNION ALL
          SELECT 4, s.pid, d.pid FROM {p} s JOIN {p} d
            ON s.single AND d.single AND s.role = 'row' AND d.role = 'transfer'
           AND d.file_no <> s.file_no AND s.cash = -d.cash
        ) c JOIN {p} s ON s.pid = c.sp JOIN {p} d ON d.pid = c.dp
        WHERE s.file_no <> d.file_no AND abs(datediff('day', s.date, d.date)) <= {MATCH_DAYS}
        ORDER BY rule, gap, s.file_no, s.line, s.source_account, d.file_no, d.line,
                 d.source_account
        """
    ).fetchall()
    used_s: set[int] = set()
    used_d: set[int] = set()
    updates: list[tuple[str, str, int]] = []
    for rule, sp, dp, _gap, scp, dcp, d_file, d_line in pairs:
        if sp in used_s or dp in used_d or sp in used_d or dp in used_s:
            continue
        if not similar(scp, dcp):
            continue
        used_s.add(sp)
        used_d.add(dp)
        status = "transfer" if rule == 4 else "duplicate"
        updates.append((status, f"{prefixes[d_file]}{d_line}", sp))
    if updates:
        con.executemany(f"UPDATE {p} SET status = ?, matched = ? WHERE pid = ?", updates)


def _summary(con: Any, schema: str) -> list[str]:
    p = f"{schema}.postings"
    notes = []
    for name, account, how, n, _total in con.execute(
        f"SELECT source_account, account, how, count(*), sum(amount) FROM {p} "
        "WHERE how <> 'unmapped' AND format <> 'ledger_csv' "
        "GROUP BY ALL ORDER BY source_account"
    ).fetchall():
        notes.append(f"mapping  {name!r} -> {account or 'transfer'} ({how}): {n} rows")
    for name, n, total in unmapped(con, schema):
        notes.append(
            f"unmapped {name!r}: {n} rows, total {total} (kept as uncategorized; map it in "
            "[entities.<key>.accounts])"
        )
    dup = con.execute(f"SELECT count(*) FROM {p} WHERE status = 'duplicate'").fetchone()[0]
    if dup:
        notes.append(
            f"matched  {dup} statement rows already in another file (same amount, dates "
            f"within {MATCH_DAYS} days, similar counterparty): counted once"
        )
    tr = con.execute(f"SELECT count(*) FROM {p} WHERE status = 'transfer'").fetchone()[0]
    de = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT file_no, txn, date, counterparty FROM {p} c "
        "WHERE role = 'cash' "
        f"AND NOT EXISTS (SELECT 1 FROM {p} r WHERE r.role = 'row' AND "
        "r.file_no = c.file_no AND r.txn = c.txn AND r.date = c.date AND "
        "r.counterparty = c.counterparty))"
    ).fetchone()[0]
    if tr or de:
        notes.append(
            f"transfer {tr + de} transfer rows between the business's own accounts: not revenue, "
            "not expense, not counted"
        )
    return notes


def unmapped(con: Any, schema: str) -> list[tuple[str, int, Any]]:
    return con.execute(
        f"SELECT source_account, count(*), sum(amount) FROM {schema}.postings "
        "WHERE status = 'kept' AND account = '' GROUP BY source_account ORDER BY source_account"
    ).fetchall()
