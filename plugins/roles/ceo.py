"""CEO: asset inventory, critical shortfalls, KPI coverage, the 30-day agenda."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl

EXPIRING_DAYS = 60


def asset_figures(entities: list[Any], as_of: Any) -> dict[str, Any]:
    from execreport import to_ratio

    assets = [a for e in entities for a in e.assets]
    soon = as_of + timedelta(days=EXPIRING_DAYS)
    declared = sum(len(e.kpis) for e in entities)
    covered = sum(len(covered_kpis(e, as_of)) for e in entities)
    return {
        "assets": len(assets),
        "assets_expired": sum(1 for a in assets if a.expires is not None and a.expires < as_of),
        "assets_expiring_60d": sum(
            1 for a in assets if a.expires is not None and as_of <= a.expires <= soon
        ),
        "kpi_coverage": to_ratio(Decimal(covered) / declared) if declared else None,
    }


def covered_kpis(entity: Any, as_of: Any) -> set[str]:
    """Declared KPIs with a value dated within the 30 days ending `as_of`."""
    start = as_of - timedelta(days=29)
    declared = {k.name for k in entity.kpis}
    return {v.kpi for v in entity.kpi_values if v.kpi in declared and start <= v.date <= as_of}


class CEO:
    name = "ceo"
    title = "CEO Strategic Assessment"
    priority = 0
    consolidates = True  # built after the other roles: it ranks their findings and actions

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Section, Severity, md_escape, money

        metrics = {"consolidated": asset_figures(ctx.entities, ctx.as_of)}
        findings, actions, inventory = [], [], []
        soon = ctx.as_of + timedelta(days=EXPIRING_DAYS)
        for e in ctx.entities:
            metrics[e.key] = asset_figures([e], ctx.as_of)
            for a in sorted(e.assets, key=lambda a: (a.kind, a.name)):
                state = ""
                if a.expires is not None and a.expires < ctx.as_of:
                    state = "**expired**"
                    sev = (
                        Severity.critical
                        if a.kind in ("insurance", "license")
                        else (Severity.warning)
                    )
                    findings.append(
                        Finding(
                            severity=sev,
                            entity=e.key,
                            message=f"{e.name} {a.kind} {a.name!r} expired on "
                            f"{a.expires.isoformat()}",
                        )
                    )
                    actions.append(
                        Action(
                            title=f"Renew {e.name}'s {a.kind} {a.name}",
                            owner="ceo",
                            due=ctx.as_of + timedelta(days=3 if sev == "critical" else 7),
                            priority=1,
                            entity=e.key,
                            severity=sev,
                        )
                    )
                elif a.expires is not None and a.expires <= soon:
                    state = "expiring"
                    findings.append(
                        Finding(
                            severity=Severity.warning,
                            entity=e.key,
                            message=f"{e.name} {a.kind} {a.name!r} expires on "
                            f"{a.expires.isoformat()}",
                        )
                    )
                    actions.append(
                        Action(
                            title=f"Renew {e.name}'s {a.kind} {a.name} before "
                            f"{a.expires.isoformat()}",
                            owner="ceo",
                            due=min(a.expires, ctx.as_of + timedelta(days=30)),
                            priority=2,
                            entity=e.key,
                            severity=Severity.warning,
                        )
                    )
                expires = a.expires.isoformat() if a.expires else ""
                value = money(a.value) if a.value is not None else ""
                inventory.append(
                    f"| {md_escape(e.name)} | {md_escape(a.kind)} | "
                    f"{md_escape(a.name)} | {expires} | {value} | {state} |"
                )
            missing = [k for k in e.expected_kpis if k not in {x.name for x in e.kpis}]
            if missing:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} does not track {', '.join(missing)}",
                    )
                )
        # shortfalls: the critical findings of every role, this one's included
        all_findings = [f for r in ctx.reports for f in r.findings] + findings
        critical = [f for f in all_findings if f.severity == Severity.critical]
        names = {e.key: e.name for e in ctx.entities}
        shortfalls = [
            f"{i}. {md_escape(names.get(f.entity, f.entity or 'all'))}: {md_escape(f.message)}"
            for i, f in enumerate(critical, 1)
        ]
        # the 30-day agenda: every role's actions, de-duplicated, by severity then due date
        horizon = ctx.as_of + timedelta(days=30)
        agenda: dict[str, Any] = {}
        for a in [*(a for r in ctx.reports for a in r.actions), *actions]:
            if a.key not in agenda:
                due = min(a.due or horizon, horizon)
                agenda[a.key] = a.model_copy(update={"due": due})
        ranked = sorted(
            agenda.values(),
            key=lambda a: (Severity(a.severity).rank, a.due, a.priority, a.owner, a.title),
        )
        agenda_rows = [
            f"| {i} | {md_escape(a.title)} | {a.owner} | {a.due.isoformat()} | {a.severity} |"
            for i, a in enumerate(ranked, 1)
        ]
        c = metrics["consolidated"]
        cov = "n/a" if c["kpi_coverage"] is None else f"{c['kpi_coverage'] * 100:.0f}%"
        sections = [
            Section(
                heading="Asset inventory",
                body="\n".join(
                    [
                        f"{c['assets']} assets; {c['assets_expired']} expired, "
                        f"{c['assets_expiring_60d']} expiring within {EXPIRING_DAYS} days.",
                        "",
                        "| Entity | Kind | Asset | Expires | Value | State |",
                        "|---|---|---|---|---|---|",
                        *inventory,
                        "",
                        f"_How this was computed: [[assets]] of each entity.toml; expired means expires "
                        f"before {ctx.as_of.isoformat()}, expiring means within {EXPIRING_DAYS} days "
                        "(METRICS.md, ceo)._",
                    ]
                ),
            ),
            Section(
                heading="Critical shortfalls",
                body="\n".join(
                    (shortfalls or ["No critical findings."])
                    + [
                        "",
                        "_How this was computed: the critical findings of every role's report in this "
                        "run._",
                    ]
                ),
            ),
            Section(
                heading="KPI coverage",
                body=(
                    f"{cov} of declared KPIs have a value in the 30 days ending "
                    f"{ctx.as_of.isoformat()}.\n\n_How this was computed: kpis.csv values dated "
                    "within the 30 days ending as_of, over the [[kpis]] declared (METRICS.md)._"
                ),
            ),
            Section(
                heading="30-day agenda",
                body="\n".join(
                    [
                        "| # | Action | Owner | Due | Severity |",
                        "|---|---|---|---|---|",
                        *agenda_rows,
                        "",
                        "_How this was computed: the actions of all roles, de-duplicated, ranked by "
                        f"severity then due date, due no later than {horizon.isoformat()}._",
                    ]
                ),
            ),
        ]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CEO Strategic Assessment: {ctx.period} Asset & Process Audit",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CEO())
