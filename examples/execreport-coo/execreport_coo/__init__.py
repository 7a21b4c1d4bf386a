"""COO Operations Review: an execreport role written as a third-party plugin.

Only the public names of `execreport` are used. The module imports nothing heavy at the
top: `execreport plugins` and `execreport --help` load it without building anything.

The module computes; its words are in `templates/coo.md.j2`, rendered with execreport's
`render_template`, so a user's `[report] templates` folder can replace or extend it like a
built-in report's template.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
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
    template_folder = Path(__file__).parent / "templates"
    template_variables = {
        "days": "the activity window in days (`[roles.coo] window_days`)",
        "start": "the day before the window starts (a date)",
        "rows": "per entity: `name`, `transactions`, `customers`, `operating_spend`, "
        "`open_tasks`, `overdue_tasks`",
        "overdue": "the overdue cards: `entity` (name), `title`, `due`, `owner`",
    }

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Severity, render_template, to_money

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
        findings = []
        for e in ctx.entities:
            m = metrics[e.key]
            if m["transactions"] == 0:
                message = f"no ledger activity in the last {days} days"
                findings.append(Finding(severity=Severity.warning, message=message, entity=e.key))
            if m["overdue_tasks"]:
                message = f"{m['overdue_tasks']} board card(s) past their due date"
                findings.append(Finding(severity=Severity.warning, message=message, entity=e.key))
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
        words = render_template(
            ctx,
            self,
            {
                "days": days,
                "start": start,
                "rows": [{"name": e.name, **metrics[e.key]} for e in ctx.entities],
                "overdue": [
                    {
                        "entity": names.get(t.entity or "", t.entity or ""),
                        "title": t.title,
                        "due": t.due,
                        "owner": t.owner,
                    }
                    for t in overdue
                ],
            },
        )
        return Report(
            role=self.name,
            title=self.title,
            subject=words.subject,
            sections=words.sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(COO())
