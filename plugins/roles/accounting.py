"""Accounting: chart of accounts, expense audit, revenue recognition."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl

VALID = "regexp_full_match(account, '[0-9]{4}')"
EXPENSE = f"amount < 0 AND {VALID} AND left(account, 1) IN ('5', '6', '7')"
NORM_CP = "lower(trim(regexp_replace(counterparty, '\\s+', ' ', 'g')))"
UNCATEGORIZED = ("uncategorized", "misc", "miscellaneous", "other", "ask my accountant")
RECEIPT_CATEGORIES = ("travel", "meals", "entertainment", "gifts", "vehicle")
CLASS_NAMES = {
    "1": "assets",
    "2": "liabilities",
    "3": "equity",
    "4": "revenue",
    "5": "cost of goods sold",
    "6": "operating expenses",
    "7": "operating expenses",
}


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v + "'" for v in values) + ")"


def audit_counts(ledger: Any, as_of: Any, group: str) -> dict[str, dict[str, Any]]:
    """The METRICS.md accounting figures grouped by `group` (`entity` or a constant)."""
    from execreport import audit_window

    start, end = audit_window(as_of)
    win = f"date > DATE '{start.isoformat()}' AND date <= DATE '{end.isoformat()}'"
    base = f"SELECT {group} AS g, * FROM ledger WHERE {win}"
    exp = f"SELECT * FROM ({base}) WHERE {EXPENSE}"
    queries = {
        "duplicate_rows": f"""
            SELECT g, sum(n - 1) FROM (
              SELECT g, count(*) AS n FROM ({exp}) GROUP BY g, date, amount, {NORM_CP}
            ) GROUP BY g""",
        "near_duplicate_pairs": f"""
            WITH e AS (SELECT g, date, amount, {NORM_CP} AS cp FROM ({exp}))
            SELECT a.g, count(*) FROM e a JOIN e b
              ON a.g = b.g AND a.cp = b.cp AND a.amount = b.amount
             AND b.date BETWEEN a.date + 1 AND a.date + 3
            GROUP BY a.g""",
        "uncategorized_rows": f"""
            SELECT g, count(*) FROM ({base})
            WHERE lower(trim(category)) IN ('', {_in(UNCATEGORIZED)[1:-1]}) OR NOT {VALID}
            GROUP BY g""",
        "outlier_rows": f"""
            WITH e AS (SELECT g, category, abs(amount)::DOUBLE AS x FROM ({exp})),
            m AS (SELECT g, category, median(x) AS med, count(*) AS n FROM e GROUP BY g, category),
            d AS (SELECT e.g, e.category, median(abs(e.x - m.med)) AS mad
                  FROM e JOIN m USING (g, category) GROUP BY e.g, e.category)
            SELECT e.g, count(*) FROM e JOIN m USING (g, category) JOIN d USING (g, category)
            WHERE m.n >= 5 AND d.mad > 0 AND 0.6745 * abs(e.x - m.med) / d.mad > 3.5
            GROUP BY e.g""",
        "missing_receipt_rows": f"""
            SELECT g, count(*) FROM ({exp})
            WHERE abs(amount) >= 75 AND trim(receipt) = ''
              AND lower(trim(category)) IN {_in(RECEIPT_CATEGORIES)}
            GROUP BY g""",
    }
    out: dict[str, dict[str, Any]] = {}
    for key, query in queries.items():
        for g, value in ledger.sql(query):
            out.setdefault(g, {})[key] = int(value)
    for g, total, n in ledger.sql(
        f"""SELECT {group}, coalesce(sum(amount), 0), count(*) FROM ledger
            WHERE {VALID} AND left(account, 1) = '4' AND date <= ? AND service_date > ?
            GROUP BY {group}""",
        [as_of, as_of],
    ):
        out.setdefault(g, {}).update(unearned_revenue=total, unearned_revenue_rows=int(n))
    return out


ZERO = {
    "duplicate_rows": 0,
    "near_duplicate_pairs": 0,
    "uncategorized_rows": 0,
    "outlier_rows": 0,
    "missing_receipt_rows": 0,
    "unearned_revenue": Decimal("0.00"),
    "unearned_revenue_rows": 0,
}


def compute(ctx: Any) -> dict[str, dict[str, Any]]:
    from execreport import to_money

    per = audit_counts(ctx.ledger, ctx.as_of, "entity")
    cons = audit_counts(ctx.ledger, ctx.as_of, "'consolidated'")
    out = {}
    for key, found in [
        ("consolidated", cons.get("consolidated", {})),
        *[(e.key, per.get(e.key, {})) for e in ctx.entities],
    ]:
        m = {**ZERO, **found}
        m["unearned_revenue"] = to_money(m["unearned_revenue"])
        out[key] = m
    return out


def duplicate_examples(ledger: Any, as_of: Any, limit: int = 5) -> list[tuple]:
    from execreport import audit_window

    start, _ = audit_window(as_of)
    return ledger.sql(
        f"""SELECT entity, date, amount, any_value(counterparty), count(*), list(line ORDER BY line)
            FROM ledger_lines WHERE date > ? AND date <= ? AND {EXPENSE}
            GROUP BY entity, date, amount, {NORM_CP} HAVING count(*) > 1
            ORDER BY entity, date LIMIT {int(limit)}""",
        [start, as_of],
    )


def receipt_gaps(ledger: Any, as_of: Any, limit: int = 10) -> list[tuple]:
    """Expense rows that need a receipt and have none (METRICS.md missing_receipt_rows)."""
    from execreport import audit_window

    start, _ = audit_window(as_of)
    return ledger.sql(
        f"""SELECT entity, line, date, amount, category, counterparty FROM ledger_lines
            WHERE date > ? AND date <= ? AND {EXPENSE} AND abs(amount) >= 75
              AND trim(receipt) = '' AND lower(trim(category)) IN {_in(RECEIPT_CATEGORIES)}
            ORDER BY abs(amount) DESC, entity, line LIMIT {int(limit)}""",
        [start, as_of],
    )


class Accounting:
    name = "accounting"
    title = "Accounting Review"
    priority = 50

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Section, Severity, md_escape, money

        m = compute(ctx)
        names = {e.key: e.name for e in ctx.entities}
        findings, actions = [], []
        due = ctx.as_of + timedelta(days=21)
        # chart of accounts actually used
        coa = ctx.ledger.sql(
            """SELECT account, min(category), count(*), sum(amount)
                FROM ledger WHERE date <= ? GROUP BY account ORDER BY account""",
            [ctx.as_of],
        )
        coa_rows = [
            f"| {md_escape(acct) or '(empty)'} | "
            f"{CLASS_NAMES.get(acct[:1], 'not a valid account') if len(acct) == 4 and acct.isdigit() else 'not a valid account'} | "  # noqa: E501
            f"{md_escape(cat)} | {n} | {money(total)} |"
            for acct, cat, n, total in coa
        ]
        audit_rows = []
        for e in ctx.entities:
            f = m[e.key]
            audit_rows.append(
                f"| {md_escape(e.name)} | {f['duplicate_rows']} | {f['near_duplicate_pairs']} | "
                f"{f['uncategorized_rows']} | {f['outlier_rows']} | {f['missing_receipt_rows']} | "
                f"{money(f['unearned_revenue'])} ({f['unearned_revenue_rows']} rows) |"
            )
            if f["duplicate_rows"]:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name}: {f['duplicate_rows']} duplicate expense rows in "
                        "ledger.csv (same date, amount and counterparty)",
                    )
                )
                actions.append(
                    Action(
                        title=f"Review and reverse {e.name}'s duplicate charges",
                        owner="accounting",
                        due=due,
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
            if f["unearned_revenue_rows"]:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name}: {money(f['unearned_revenue'])} of revenue booked before "
                        f"its service date ({f['unearned_revenue_rows']} rows) belongs in 2300 "
                        "deferred revenue",
                    )
                )
                actions.append(
                    Action(
                        title=f"Reclassify {money(f['unearned_revenue'])} of "
                        f"{e.name}'s unearned revenue to 2300 deferred revenue",
                        owner="accounting",
                        due=due,
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
            if f["uncategorized_rows"]:
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=e.key,
                        message=f"{e.name}: {f['uncategorized_rows']} uncategorized rows "
                        "(empty or catch-all category, or an account that is not four digits)",
                    )
                )
            if f["missing_receipt_rows"]:
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=e.key,
                        message=f"{e.name}: {f['missing_receipt_rows']} travel, meals, "
                        "entertainment, gift or vehicle expenses of $75 or more lack a receipt",
                    )
                )
        for ent, day, amount, cp, n, lines in duplicate_examples(ctx.ledger, ctx.as_of):
            findings.append(
                Finding(
                    severity=Severity.warning,
                    entity=ent,
                    message=f"duplicate charge: {day.isoformat()} {cp} {money(amount)} appears {n} "
                    f"times ({names.get(ent, ent)} ledger.csv lines "
                    f"{', '.join(str(x) for x in lines)})",
                )
            )
        gaps = [
            f"| {md_escape(names.get(ent, ent))} | {line} | {day.isoformat()} | {money(amount)} | "
            f"{md_escape(cat)} | {md_escape(cp)} |"
            for ent, line, day, amount, cat, cp in receipt_gaps(ctx.ledger, ctx.as_of)
        ]
        c = m["consolidated"]
        audit_rows.append(
            f"| **All entities** | {c['duplicate_rows']} | {c['near_duplicate_pairs']} | "
            f"{c['uncategorized_rows']} | {c['outlier_rows']} | {c['missing_receipt_rows']} | "
            f"{money(c['unearned_revenue'])} ({c['unearned_revenue_rows']} rows) |"
        )
        sections = [
            Section(
                heading="Chart of accounts in use",
                body="\n".join(
                    [
                        "| Account | Class | Category | Rows | Total |",
                        "|---|---|---|---|---|",
                        *coa_rows,
                        "",
                        f"_How this was computed: every ledger row dated on or before "
                        f"{ctx.as_of.isoformat()}, grouped by account; the class is the account's "
                        "first digit._",
                    ]
                ),
            ),
            Section(
                heading="Expense audit and revenue recognition",
                body="\n".join(
                    [
                        "| Entity | Duplicates | Near duplicates | Uncategorized | Outliers | "
                        "Missing receipts | Unearned revenue |",
                        "|---|---|---|---|---|---|---|",
                        *audit_rows,
                        "",
                        "_How this was computed: METRICS.md accounting definitions over the 12 months "
                        f"ending {ctx.as_of.isoformat()}; unearned revenue is 4xxx revenue dated on or "
                        "before that day whose service_date is later._",
                    ]
                ),
            ),
            Section(
                heading="Receipts to collect",
                body="\n".join(
                    [
                        "| Entity | ledger.csv line | Date | Amount | Category | Counterparty |",
                        "|---|---|---|---|---|---|",
                        *gaps,
                        "",
                        "_How this was computed: expense rows of $75.00 or more in travel, meals, "
                        "entertainment, gifts or vehicle with an empty receipt, largest first "
                        "(at most 10)._",
                    ]
                )
                if gaps
                else "Every travel, meals, entertainment, gift and vehicle expense of $75.00 or "
                "more has a receipt.",
            ),
        ]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"Accounting Review: {ctx.period} expense audit and revenue recognition",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=m,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(Accounting())
