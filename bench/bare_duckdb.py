"""The bare baseline: the CFO and accounting figures of METRICS.md straight from the CSV
files with DuckDB, no validation, no framework. Prints the figures as JSON.

    python bench/bare_duckdb.py CONFIG_DIR AS_OF
"""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import date
from pathlib import Path

import duckdb

COLUMNS = {
    "date": "DATE",
    "amount": "DECIMAL(18,2)",
    "account": "VARCHAR",
    "category": "VARCHAR",
    "counterparty": "VARCHAR",
    "memo": "VARCHAR",
    "service_date": "DATE",
    "receipt": "VARCHAR",
}


def main() -> None:
    root, as_of = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
    config = tomllib.loads((root / "execreport.toml").read_text())
    con = duckdb.connect()
    parts, opening = [], []
    for key, table in config["entities"].items():
        folder = root / table["path"]
        profile = tomllib.loads((folder / "entity.toml").read_text())
        opening.append(
            (key, profile.get("opening_cash", "0"), profile.get("opening_date", "0001-01-01"))
        )
        parts.append(
            f"SELECT '{key}' AS entity, * FROM read_csv('{folder / 'ledger.csv'}', "
            f"header = true, columns = {COLUMNS})"
        )
    con.execute("CREATE TABLE ledger AS " + " UNION ALL ".join(parts))
    con.execute("CREATE TABLE opening (entity VARCHAR, cash DECIMAL(18,2), day DATE)")
    con.executemany("INSERT INTO opening VALUES (?, ?, ?)", opening)
    q = """
    WITH p AS (SELECT ?::DATE AS a),
    w AS (SELECT CASE WHEN a = last_day(a) THEN a ELSE date_trunc('month', a)::DATE - 1 END AS e,
                 a FROM p),
    b AS (SELECT e, date_trunc('month', e)::DATE - INTERVAL 2 MONTH AS s, a FROM w),
    l AS (SELECT l.*, CASE WHEN regexp_full_match(account, '[0-9]{4}') THEN left(account, 1) END AS cls
          FROM ledger l)
    SELECT coalesce(l.entity, 'consolidated'),
      sum(amount) FILTER (WHERE date >= o.day AND date <= b.a) ,
      coalesce(sum(amount) FILTER (WHERE cls = '4' AND date BETWEEN b.s AND b.e), 0),
      coalesce(-sum(amount) FILTER (WHERE cls = '5' AND date BETWEEN b.s AND b.e), 0),
      coalesce(-sum(amount) FILTER (WHERE cls IN ('6','7') AND date BETWEEN b.s AND b.e), 0)
    FROM l JOIN opening o USING (entity), b
    GROUP BY GROUPING SETS ((l.entity), ())
    """
    out: dict[str, dict] = {}
    for key, moved, rev, cogs, opex in con.execute(q, [as_of]).fetchall():
        out[key] = {
            "moved": str(moved),
            "revenue_3m": str(rev),
            "cogs": str(cogs),
            "opex": str(opex),
        }
    acc = """
    WITH e AS (SELECT entity, date, amount, category, receipt,
                      lower(trim(regexp_replace(counterparty, '\\s+', ' ', 'g'))) AS cp
               FROM ledger WHERE date > ?::DATE - INTERVAL 12 MONTH AND date <= ?
                 AND amount < 0 AND regexp_full_match(account, '[0-9]{4}')
                 AND left(account, 1) IN ('5', '6', '7'))
    SELECT coalesce(entity, 'consolidated'), sum(n - 1) FROM (
      SELECT entity, count(*) AS n FROM e GROUP BY GROUPING SETS ((entity, date, amount, cp), (date, amount, cp)))
    GROUP BY entity
    """
    for key, dup in con.execute(acc, [as_of, as_of]).fetchall():
        out.setdefault(key, {})["duplicate_rows"] = int(dup)
    near = """
    WITH e AS (SELECT entity, date, amount, lower(trim(regexp_replace(counterparty, '\\s+', ' ', 'g'))) AS cp
               FROM ledger WHERE date > ?::DATE - INTERVAL 12 MONTH AND date <= ?
                 AND amount < 0 AND regexp_full_match(account, '[0-9]{4}')
                 AND left(account, 1) IN ('5', '6', '7'))
    SELECT count(*), count(*) FILTER (WHERE a.entity = b.entity) FROM e a JOIN e b
      ON a.cp = b.cp AND a.amount = b.amount AND b.date BETWEEN a.date + 1 AND a.date + 3
    """
    out["consolidated"]["near_duplicate_pairs"] = con.execute(near, [as_of, as_of]).fetchone()[0]
    simple = """
    SELECT coalesce(entity, 'consolidated'),
      count(*) FILTER (WHERE lower(trim(coalesce(category, ''))) IN ('', 'uncategorized', 'misc',
            'miscellaneous', 'other', 'ask my accountant') OR NOT regexp_full_match(coalesce(account, ''), '[0-9]{4}')),
      count(*) FILTER (WHERE amount <= -75 AND regexp_full_match(account, '[0-9]{4}')
            AND left(account, 1) IN ('5','6','7') AND trim(coalesce(receipt, '')) = ''
            AND lower(trim(category)) IN ('travel','meals','entertainment','gifts','vehicle'))
    FROM ledger WHERE date > ?::DATE - INTERVAL 12 MONTH AND date <= ?
    GROUP BY GROUPING SETS ((entity), ())
    """
    for key, unc, rec in con.execute(simple, [as_of, as_of]).fetchall():
        out.setdefault(key, {}).update(uncategorized_rows=unc, missing_receipt_rows=rec)
    outliers = """
    WITH e AS (SELECT entity, category, abs(amount)::DECIMAL(38,6) AS x FROM ledger
               WHERE date > ?::DATE - INTERVAL 12 MONTH AND date <= ? AND amount < 0
                 AND regexp_full_match(account, '[0-9]{4}') AND left(account, 1) IN ('5','6','7')),
    g AS (SELECT entity AS g, category, x FROM e UNION ALL SELECT 'consolidated', category, x FROM e),
    m AS (SELECT g, category, median(x) AS med, count(*) AS n FROM g GROUP BY ALL),
    d AS (SELECT g.g, g.category, median(abs(g.x - m.med)) AS mad FROM g JOIN m USING (g, category) GROUP BY ALL)
    SELECT g.g, count(*) FROM g JOIN m USING (g, category) JOIN d USING (g, category)
    WHERE n >= 5 AND mad > 0 AND 0.6745 * abs(g.x - m.med) > 3.5 * mad GROUP BY g.g
    """
    for key, n in con.execute(outliers, [as_of, as_of]).fetchall():
        out.setdefault(key, {})["outlier_rows"] = n
    unearned = """
    SELECT coalesce(entity, 'consolidated'), sum(amount), count(*) FROM ledger
    WHERE regexp_full_match(account, '[0-9]{4}') AND left(account, 1) = '4' AND date <= ? AND service_date > ?
    GROUP BY GROUPING SETS ((entity), ())
    """
    for key, total, n in con.execute(unearned, [as_of, as_of]).fetchall():
        out.setdefault(key, {}).update(unearned_revenue=str(total), unearned_revenue_rows=n)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
