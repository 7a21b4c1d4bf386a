"""COO Operations Review: an execreport role written as a third-party plugin.

Only the public names of `execreport` are used. The module imports nothing heavy at the
top: `execreport plugins` and `execreport --help` load it without building anything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from execreport import hookimpl

__version__ = "0.1.0"

WINDOW_DAYS = 90  # [roles.coo] window_days overrides it
DONE_COLUMNS = frozenset({"done", "closed", "archived"})

# one row per entity plus one with entity NULL for all of them (the consolidated figures)
ACTIVITY_SQL = """
SELECT entity,
       count(*) AS transactions,
       count(DISTINCT lower(trim(counterparty))) FILTER (WHERE amount > 0) AS customers,
       coalesce(-sum(amount) FILTER (
           WHERE amount < 0 AND regexp_matches(account, '^[67][0-9]{3}$')), 0) AS operating_spend
FROM ledger
WHERE date > ? AND date <= ?
GROUP BY GROUPING SETS ((entity), ())
"""


class COO:
    """Operations: how busy each entity was in the window, and which work is overdue."""

    name = "coo"
    title = "COO Operations Review"
    priority = 60  # sent after the built-in roles (CEO 0 … Accounting 50)

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Section,
            Severity,
            md_escape,
            money,
            to_money,
        )

        days = int(ctx.settings.get("window_days", WINDOW_DAYS))
        start = ctx.as_of - timedelta(days=days)
        # SQL over the consolidated ledger, never a Python loop over its rows
        activity = {row[0]: row[1:] for row in ctx.ledger.sql(ACTIVITY_SQL, [start, ctx.as_of])}
        open_cards = [t for t in ctx.board if t.column not in DONE_COLUMNS]
        overdue = sorted(
            (t for t in open_cards if t.due is not None and t.due < ctx.as_of),
            key=lambda t: (t.due, t.id),
        )

        def figures(key: str | None) -> dict[str, Any]:
            transactions, customers, spend = activity.get(key, (0, 0, 0))
            mine = lambda cards: [t for t in cards if key is None or t.entity == key]  # noqa: E731
            return {
                "transactions": transactions,
                "customers": customers,
                "operating_spend": to_money(spend),
                "open_tasks": len(mine(open_cards)),
                "overdue_tasks": len(mine(overdue)),
            }

        metrics = {"consolidated": figures(None)} | {e.key: figures(e.key) for e in ctx.entities}
        names = {e.key: e.name for e in ctx.entities}
        rows, findings = [], []
        for e in ctx.entities:
            m = metrics[e.key]
            rows.append(
                f"| {md_escape(e.name)} | {m['transactions']} | {m['customers']} | "
                f"{money(m['operating_spend'])} | {m['open_tasks']} | {m['overdue_tasks']} |"
            )
            if m["transactions"] == 0:
                message = f"no ledger activity in the last {days} days"
                findings.append(Finding(severity=Severity.warning, message=message, entity=e.key))
            if m["overdue_tasks"]:
                message = f"{m['overdue_tasks']} board card(s) past their due date"
                findings.append(Finding(severity=Severity.warning, message=message, entity=e.key))
        table = "\n".join(
            [
                "| entity | transactions | customers | operating spend | open cards | overdue |",
                "|---|---:|---:|---:|---:|---:|",
                *rows,
            ]
        )
        overdue_list = "\n".join(
            f"- {md_escape(names.get(t.entity or '', t.entity or ''))}: {md_escape(t.title)} "
            f"(due {t.due.isoformat()}, owner {md_escape(t.owner or 'none')})"
            for t in overdue
        )
        actions = [
            Action(
                title=f"Finish or re-plan: {t.title}",
                owner=t.owner or self.name,
                due=ctx.as_of + timedelta(days=7),
                priority=2,
                entity=t.entity,
                severity=Severity.warning,
            )
            for t in overdue
        ]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"{self.title}: {ctx.period}",
            sections=[
                Section(
                    heading=f"Activity, last {days} days",
                    body=f"After {start.isoformat()}, up to {ctx.as_of.isoformat()}.\n\n{table}",
                ),
                Section(
                    heading="Overdue work",
                    body=overdue_list or "Nothing on the boards is past its due date.",
                ),
            ],
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(COO())
