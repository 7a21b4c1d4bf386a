"""CEO: critical shortfalls, the 30-day agenda, asset inventory, KPI coverage."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl, read_settings

EXPIRING_DAYS = 60  # METRICS.md assets_expiring_60d; the findings use `expiring_days`

# `[roles.ceo]` keys and their defaults (docs/roles.md, "CEO")
DEFAULTS: dict[str, Any] = {
    "expiring_days": EXPIRING_DAYS,
    "critical_asset_kinds": ["insurance", "license"],
    "kpi_recent_days": 30,
    "lower_is_better": ["churn", "cac", "cost_per_lead", "cost_per_acquisition"],
    "agenda_days": 30,
    "due_days": {"critical": 3, "warning": 14, "info": 30},
}
_MONEY = re.compile(r"\$([0-9][0-9,]*(?:\.[0-9]+)?)")


def asset_figures(entities: list[Any], as_of: date) -> dict[str, Any]:
    """The METRICS.md ceo figures over `entities`."""
    from execreport import to_ratio

    assets = [a for e in entities for a in e.assets]
    soon = as_of + timedelta(days=EXPIRING_DAYS)
    declared = sum(len({k.name for k in e.kpis}) for e in entities)
    covered = sum(len(covered_kpis(e, as_of)) for e in entities)
    return {
        "assets": len(assets),
        "assets_expired": sum(1 for a in assets if a.expires is not None and a.expires < as_of),
        "assets_expiring_60d": sum(
            1 for a in assets if a.expires is not None and as_of <= a.expires <= soon
        ),
        "kpi_coverage": to_ratio(Decimal(covered) / declared) if declared else None,
    }


def covered_kpis(entity: Any, as_of: date, days: int = 30) -> set[str]:
    """Declared KPIs with a value dated within the `days` days ending `as_of`."""
    start = as_of - timedelta(days=days - 1)
    declared = {k.name for k in entity.kpis}
    return {v.kpi for v in entity.kpi_values if v.kpi in declared and start <= v.date <= as_of}


def kpi_states(entity: Any, as_of: date, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Each declared KPI with its latest value on or before `as_of`, whether that value is
    recent, and whether it meets the target."""
    recent_from = as_of - timedelta(days=int(settings["kpi_recent_days"]) - 1)
    lower = {str(n) for n in settings["lower_is_better"]}
    latest: dict[str, Any] = {}
    for v in entity.kpi_values:
        if v.date <= as_of and (v.kpi not in latest or v.date >= latest[v.kpi].date):
            latest[v.kpi] = v
    out = []
    seen: set[str] = set()
    for k in entity.kpis:
        if k.name in seen:
            continue
        seen.add(k.name)
        better = str((k.model_extra or {}).get("better", "")).lower()
        if better not in ("lower", "higher"):
            better = "lower" if k.name in lower else "higher"
        v = latest.get(k.name)
        off = None
        if v is not None and k.target is not None:
            off = v.value > k.target if better == "lower" else v.value < k.target
        out.append(
            {
                "kpi": k,
                "value": v,
                "recent": v is not None and v.date >= recent_from,
                "better": better,
                "off_target": off,
            }
        )
    return out


def at_stake(finding: Any) -> Decimal:
    """How much a finding is about: its `amount` when the model carries one, else the
    largest dollar figure its message states ($1,234.56), else 0."""
    amount = getattr(finding, "amount", None)
    if amount is not None:
        return abs(Decimal(str(amount)))
    found = [Decimal(m.replace(",", "")) for m in _MONEY.findall(finding.message)]
    return max(found, default=Decimal(0))


class CEO:
    name = "ceo"
    title = "CEO Strategic Assessment"
    priority = 0
    settings_defaults = DEFAULTS  # every key of [roles.ceo], checked at load
    consolidates = True  # built after the other roles: it ranks their findings and actions

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Section,
            Severity,
            changes_section,
            md_escape,
            money,
        )

        settings = read_settings(self.name, ctx.settings, DEFAULTS)
        due_days = {**DEFAULTS["due_days"], **settings["due_days"]}
        expiring_days = int(settings["expiring_days"])
        critical_kinds = {str(k).lower() for k in settings["critical_asset_kinds"]}
        recent_days = int(settings["kpi_recent_days"])
        horizon_days = int(settings["agenda_days"])
        as_of = ctx.as_of
        soon = as_of + timedelta(days=expiring_days)
        horizon = as_of + timedelta(days=horizon_days)
        names = {e.key: e.name for e in ctx.entities}

        def due(sev: Any) -> date:
            return as_of + timedelta(days=int(due_days[str(sev)]))

        metrics: dict[str, dict[str, Any]] = {"consolidated": asset_figures(ctx.entities, as_of)}
        findings: list[Any] = []
        actions: list[Any] = []
        # how soon each of this role's findings must be acted on (for the shortfall ranking)
        act_by: dict[int, date] = {}

        # -- asset inventory -----------------------------------------------------------
        inventory: list[tuple[Any, ...]] = []
        for e in ctx.entities:
            metrics[e.key] = asset_figures([e], as_of)
            for a in e.assets:
                state, sev = "", None
                if a.expires is not None and a.expires < as_of:
                    days = (as_of - a.expires).days
                    state = f"**expired** {days} days ago"
                    sev = (
                        Severity.critical if a.kind.lower() in critical_kinds else Severity.warning
                    )
                    message = (
                        f"{e.name} {a.kind} {a.name!r} expired on {a.expires.isoformat()}, "
                        f"{days} days before {as_of.isoformat()} (entity.toml [[assets]])"
                    )
                    title = f"Renew {e.name}'s {a.kind} {a.name} (expired {a.expires.isoformat()})"
                    when = due(sev)
                elif a.expires is not None and a.expires <= soon:
                    days = (a.expires - as_of).days
                    state = f"expires in {days} days"
                    sev = Severity.warning
                    message = (
                        f"{e.name} {a.kind} {a.name!r} expires on {a.expires.isoformat()}, "
                        f"in {days} days (entity.toml [[assets]])"
                    )
                    title = f"Renew {e.name}'s {a.kind} {a.name} before {a.expires.isoformat()}"
                    when = min(max(a.expires, as_of + timedelta(days=1)), horizon)
                if sev is not None:
                    findings.append(Finding(severity=sev, entity=e.key, message=message))
                    act_by[id(findings[-1])] = when
                    actions.append(
                        Action(
                            title=title,
                            # the same renewal whether expiring or expired (Action.topic)
                            topic=f"renew:{a.kind}:{a.name}",
                            owner=self.name,
                            due=when,
                            priority=1 if sev == Severity.critical else 2,
                            entity=e.key,
                            severity=sev,
                        )
                    )
                inventory.append((a.kind, e.name, a.name, a.expires, a.value, state))
        inventory.sort(key=lambda r: (r[0].lower(), r[1], r[2]))

        by_kind: dict[str, list[Any]] = {}
        for row in inventory:
            by_kind.setdefault(row[0], []).append(row)
        kind_rows = []
        for kind, rows in by_kind.items():
            upcoming = [r[3] for r in rows if r[3] is not None and r[3] >= as_of]
            values = [r[4] for r in rows if r[4] is not None]
            kind_rows.append(
                f"| {md_escape(kind)} | {len(rows)} | "
                f"{sum(1 for r in rows if r[3] is not None and r[3] < as_of)} | "
                f"{sum(1 for r in rows if r[3] is not None and as_of <= r[3] <= soon)} | "
                f"{min(upcoming).isoformat() if upcoming else ''} | "
                f"{money(sum(values, Decimal(0))) if values else ''} |"
            )
        asset_rows = [
            f"| {md_escape(kind)} | {md_escape(entity)} | {md_escape(name)} | "
            f"{expires.isoformat() if expires else ''} | "
            f"{money(value) if value is not None else ''} | {state} |"
            for kind, entity, name, expires, value, state in inventory
        ]

        # -- KPIs ----------------------------------------------------------------------
        coverage_rows, kpi_rows = [], []
        for e in ctx.entities:
            states = kpi_states(e, as_of, settings)
            declared = {s["kpi"].name for s in states}
            missing = [k for k in e.expected_kpis if k not in declared]
            stale = [s for s in states if not s["recent"]]
            off = [s for s in states if s["off_target"]]
            covered = len(covered_kpis(e, as_of))
            m = metrics[e.key]
            m.update(
                kpis_declared=len(states),
                kpis_expected_missing=len(missing),
                kpis_stale=len(stale),
                kpis_off_target=len(off),
            )
            coverage = "n/a" if m["kpi_coverage"] is None else f"{m['kpi_coverage']:.2f}"
            coverage_rows.append(
                f"| {md_escape(e.name)} | {md_escape(e.kind)} | {len(states)} | {covered} | "
                f"{coverage} | {', '.join(md_escape(k) for k in missing) or 'none'} |"
            )
            if missing:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} does not declare {', '.join(missing)}, which a "
                        f"{e.kind} business should track (the entity plugin's expected KPIs; "
                        "entity.toml [[kpis]])",
                    )
                )
                actions.append(
                    Action(
                        title=f"Start tracking {', '.join(missing)} for {e.name} "
                        "([[kpis]] in entity.toml, values in kpis.csv)",
                        topic="track-expected-kpis",
                        owner=self.name,
                        due=due(Severity.warning),
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
            for s in states:
                k, v = s["kpi"], s["value"]
                value = "no value" if v is None else f"{v.value} ({v.date.isoformat()})"
                target = "" if k.target is None else f"{k.target} ({s['better']} is better)"
                if v is None:
                    state = "no value"
                elif s["off_target"] is None:
                    state = "no target"
                else:
                    state = "off target" if s["off_target"] else "on target"
                if v is not None and not s["recent"]:
                    state = f"stale; {state}"
                kpi_rows.append(
                    f"| {md_escape(e.name)} | {md_escape(k.name)} | {md_escape(k.unit)} | "
                    f"{target} | {value} | {state} |"
                )
            if stale:
                listed = ", ".join(
                    s["kpi"].name
                    + (f" (last {s['value'].date.isoformat()})" if s["value"] else " (never)")
                    for s in stale
                )
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} KPIs with no value in the {recent_days} days ending "
                        f"{as_of.isoformat()}: {listed} (kpis.csv)",
                    )
                )
                actions.append(
                    Action(
                        title=f"Record {e.name}'s current "
                        f"{', '.join(s['kpi'].name for s in stale)} in kpis.csv",
                        topic="record-stale-kpis",
                        owner=self.name,
                        due=due(Severity.info),
                        priority=3,
                        entity=e.key,
                        severity=Severity.info,
                    )
                )
            for s in off:
                k, v = s["kpi"], s["value"]
                gap = (v.value - k.target) / k.target * 100 if k.target else None
                gap_text = "" if gap is None else f", {gap:+.1f}% against it"
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} {k.name} is {v.value} on {v.date.isoformat()}, "
                        f"{'above' if s['better'] == 'lower' else 'below'} its target "
                        f"{k.target}{gap_text} (kpis.csv, entity.toml [[kpis]])",
                    )
                )
        for key in ("kpis_declared", "kpis_expected_missing", "kpis_stale", "kpis_off_target"):
            metrics["consolidated"][key] = sum(metrics[e.key][key] for e in ctx.entities)

        # -- critical shortfalls: every role's critical findings, this one's included ------
        sources = [(r.role, r) for r in ctx.reports] + [(self.name, None)]
        priorities = {r.role: r.priority for r in ctx.reports} | {self.name: self.priority}
        shortfalls = []
        for role, report in sources:
            role_findings = report.findings if report is not None else findings
            for f in role_findings:
                if f.severity != Severity.critical:
                    continue
                if report is None:
                    when = act_by.get(id(f), horizon)
                else:
                    dues = [
                        a.due
                        for a in report.actions
                        if a.entity == f.entity and a.severity == f.severity and a.due
                    ]
                    when = min(dues, default=horizon)
                when = min(max(when, as_of + timedelta(days=1)), horizon)
                shortfalls.append(
                    (
                        (
                            Severity(f.severity).rank,
                            when,
                            -at_stake(f),
                            priorities.get(role, 99),
                            f.entity or "",
                            f.message,
                        ),
                        role,
                        f,
                        when,
                    )
                )
        shortfalls.sort(key=lambda s: s[0])
        shortfall_rows = [
            f"| {i} | {md_escape(names.get(f.entity, f.entity or 'all'))} | {role} | "
            f"{md_escape(f.message)} | {when.isoformat()} |"
            for i, (_, role, f, when) in enumerate(shortfalls, 1)
        ]
        for e in ctx.entities:
            metrics[e.key]["critical_shortfalls"] = sum(
                1 for s in shortfalls if s[2].entity == e.key
            )
        metrics["consolidated"]["critical_shortfalls"] = len(shortfalls)
        warnings = sum(
            1
            for role, report in sources
            for f in (report.findings if report is not None else findings)
            if f.severity == Severity.warning
        )
        seen_roles = ", ".join([r.role for r in ctx.reports] + [self.name])

        # -- the 30-day agenda: every role's actions, de-duplicated, ranked ---------------
        def order(a: Any) -> tuple[Any, ...]:
            who = a.entity or ""
            return (
                Severity(a.severity).rank,
                a.due,
                a.priority,
                a.owner,
                names.get(who, who),
                a.title,
            )

        agenda: dict[str, Any] = {}
        for a in [*(a for r in ctx.reports for a in r.actions), *actions]:
            when = min(max(a.due or horizon, as_of + timedelta(days=1)), horizon)
            item = a.model_copy(update={"due": when})
            if a.key not in agenda or order(item) < order(agenda[a.key]):
                agenda[a.key] = item  # the most severe, earliest copy of the same action
        ranked = sorted(agenda.values(), key=order)
        agenda_rows = [
            f"| {i} | {md_escape(a.title)} | "
            f"{md_escape(names.get(a.entity, a.entity)) if a.entity else 'all'} | "
            f"{md_escape(a.owner)} | {a.due.isoformat()} | {a.severity} |"
            for i, a in enumerate(ranked, 1)
        ]
        for e in ctx.entities:
            metrics[e.key]["agenda_actions"] = sum(1 for a in ranked if a.entity == e.key)
        metrics["consolidated"]["agenda_actions"] = len(ranked)
        # the agenda's action keys, so that the next report can mark what is carried over
        metrics["consolidated"]["agenda_keys"] = [a.key for a in ranked]
        merged = sum(len(r.actions) for r in ctx.reports) + len(actions)
        by_owner: dict[str, int] = {}
        for a in ranked:
            by_owner[a.owner] = by_owner.get(a.owner, 0) + 1

        actions.sort(key=lambda a: (Severity(a.severity).rank, a.due, a.entity or "", a.title))
        c = metrics["consolidated"]
        cov = "n/a" if c["kpi_coverage"] is None else f"{c['kpi_coverage']:.2f}"
        sections = [
            Section(
                heading="Critical shortfalls",
                body="\n".join(
                    [
                        f"Critical findings across the reports: {len(shortfalls)}, ranked "
                        f"below; warnings: {warnings}, listed in each role's own report.",
                        "",
                        *(
                            [
                                "| # | Entity | Role | Finding | Act by |",
                                "|---|---|---|---|---|",
                                *shortfall_rows,
                            ]
                            if shortfall_rows
                            else ["No critical findings."]
                        ),
                        "",
                        "_How this was computed: the critical findings of the reports built in "
                        f"this run ({seen_roles}), ranked by severity, then how soon (the "
                        "earliest due date of the same role's critical actions for the entity), "
                        "then how much (the largest dollar figure the finding states), then "
                        "the role's send priority._",
                    ]
                ),
            ),
            Section(
                heading="30-day agenda",
                body="\n".join(
                    [
                        *(
                            [
                                f"{len(ranked)} actions due by {horizon.isoformat()} "
                                f"({merged - len(ranked)} duplicates merged): "
                                + ", ".join(f"{n} {o}" for o, n in sorted(by_owner.items()))
                                + ".",
                                "",
                                "| # | Action | Entity | Owner | Due | Severity |",
                                "|---|---|---|---|---|---|",
                                *agenda_rows,
                            ]
                            if agenda_rows
                            else ["No actions in the reports of this run."]
                        ),
                        "",
                        f"_How this was computed: the actions of {seen_roles}, de-duplicated "
                        "by their stable key (owner, entity, title; the most severe and "
                        "earliest copy kept), ranked by severity, then due date, then priority; "
                        f"due dates are held inside the {horizon_days} days after "
                        f"{as_of.isoformat()} (agenda_days)._",
                    ]
                ),
            ),
            Section(
                heading="Asset inventory",
                body="\n".join(
                    [
                        f"{c['assets']} assets; {c['assets_expired']} expired, "
                        f"{c['assets_expiring_60d']} expiring within {EXPIRING_DAYS} days.",
                        "",
                        "| Kind | Assets | Expired | Expiring | Next renewal | Value |",
                        "|---|---|---|---|---|---|",
                        *(kind_rows or ["| none | 0 | 0 | 0 | | |"]),
                        "",
                        "| Kind | Entity | Asset | Expires | Value | State |",
                        "|---|---|---|---|---|---|",
                        *asset_rows,
                        "",
                        "_How this was computed: the [[assets]] of each entity.toml; expired "
                        f"means expires before {as_of.isoformat()}, expiring means within "
                        f"{EXPIRING_DAYS} days (METRICS.md, ceo; findings use "
                        f"expiring_days = {expiring_days}). An expired "
                        f"{' or '.join(sorted(critical_kinds))} is critical "
                        "(critical_asset_kinds), any other expired asset a warning._",
                    ]
                ),
            ),
            Section(
                heading="KPI coverage",
                body="\n".join(
                    [
                        f"KPI coverage {cov}: the share of declared KPIs with a value in the "
                        f"30 days ending {as_of.isoformat()}. Should track but not declared: "
                        f"{c['kpis_expected_missing']}; stale: {c['kpis_stale']}; off target: "
                        f"{c['kpis_off_target']}.",
                        "",
                        "| Entity | Kind | Declared | With a value in 30 days | Coverage | "
                        "Should track, not declared |",
                        "|---|---|---|---|---|---|",
                        *coverage_rows,
                        "",
                        "| Entity | KPI | Unit | Target | Latest value | State |",
                        "|---|---|---|---|---|---|",
                        *(kpi_rows or ["| none | no [[kpis]] declared | | | | |"]),
                        "",
                        "_How this was computed: coverage = declared [[kpis]] with a kpis.csv "
                        "value dated within the 30 days ending as_of, over the declared "
                        "(METRICS.md, ceo); should-track KPIs come from the entity's plugin by "
                        f"business kind; stale = no value in the last {recent_days} days "
                        "(kpi_recent_days); off target compares the latest value on or before "
                        "as_of with the [[kpis]] target, lower being better for "
                        f"{', '.join(map(str, settings['lower_is_better']))} (lower_is_better) "
                        "or a KPI's `better` key._",
                    ]
                ),
            ),
        ]
        change = changes_section(
            ctx,
            metrics,
            actions,
            {
                "critical_shortfalls": ("critical shortfalls", "count"),
                "agenda_actions": ("actions on the agenda", "count"),
                "assets_expired": ("expired assets", "count"),
                "assets_expiring_60d": ("assets expiring in 60 days", "count"),
                "kpi_coverage": ("KPI coverage", "ratio"),
                "kpis_off_target": ("KPIs off target", "count"),
            },
        )
        if change is not None:
            sections.append(change)
        carried = carried_over_section(ctx, ranked, names)
        if carried is not None:
            sections.append(carried)
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CEO Strategic Assessment: {ctx.period} shortfalls and 30-day agenda",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


def carried_over_section(ctx: Any, ranked: list[Any], names: dict[str, str]) -> Any:
    """The agenda actions that were already on the last report's agenda. It compares with
    the previous report, so on its own it never makes a new version."""
    from execreport import Section, md_escape

    if ctx.previous is None:
        return None
    before = set((ctx.previous.metrics.get("consolidated") or {}).get("agenda_keys") or [])
    rows = [
        f"| {i} | {md_escape(a.title)} | "
        f"{md_escape(names.get(a.entity, a.entity)) if a.entity else 'all'} | "
        f"{md_escape(a.owner)} | {a.due.isoformat()} |"
        for i, a in enumerate(ranked, 1)
        if a.key in before
    ]
    body = [
        f"{len(rows)} of the {len(ranked)} actions on the 30-day agenda were already on the "
        "last report's agenda (carried over); the # is their place on this agenda.",
        "",
        *(
            ["| # | Action | Entity | Owner | Due |", "|---|---|---|---|---|", *rows]
            if rows
            else []
        ),
        "",
        "_How this was computed: the agenda's actions matched by their stable key against "
        "the agenda of the last delivered CEO report._",
    ]
    return Section(heading="Carried over on the agenda", body="\n".join(body), since_previous=True)


@hookimpl
def register_roles(register: Any) -> None:
    register(CEO())
