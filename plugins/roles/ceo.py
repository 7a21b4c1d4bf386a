"""CEO: critical shortfalls, the 30-day agenda, asset inventory, KPI coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
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
    "agenda_size": 10,  # actions on the agenda; the rest is counted per role
    "max_rows": 12,  # rows of any other table; the rest is counted and left to the archive
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


def money_picture(ctx: Any) -> list[dict[str, Any]] | None:
    """One row per business from the CFO report of this run (its metrics, not recomputed):
    `name`, `cash`, `revenue_3m`, `revenue_3m_ly`, `revenue_yoy`, `net_burn_3m`,
    `net_burn_12m`, `low_point_cash`, `low_point_month`, `cash_out_month`,
    `funding_need_12m`, `band`; the holding last (`name` ""). None without a CFO report."""
    report = next((r for r in ctx.reports if r.role == "cfo"), None)
    if report is None or not report.metrics:
        return None
    keys = (
        "cash",
        "revenue_3m",
        "revenue_3m_ly",
        "revenue_yoy",
        "net_burn_3m",
        "net_burn_12m",
        "low_point_cash",
        "low_point_month",
        "cash_out_month",
        "funding_need_12m",
    )
    scopes = [(e.key, e.name) for e in ctx.entities] + [("consolidated", "")]
    rows = []
    for key, name in scopes:
        m = report.metrics.get(key)
        if m is None:
            continue
        rows.append({"name": name, **{k: m.get(k) for k in keys}, "band": m.get("runway_band")})
    return rows


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
        recent = v is not None and v.date >= recent_from
        off = None  # a KPI with no value in the window is stale: not judged against its target
        if recent and v is not None and k.target is not None:
            off = v.value > k.target if better == "lower" else v.value < k.target
        out.append(
            {
                "kpi": k,
                "value": v,
                "recent": recent,
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


def operating_without_cover(ctx: Any, critical_kinds: set[str]) -> list[Any]:
    """Cross-role rule: an expired insurance policy or licence (a `critical_asset_kinds`
    asset) while the ledger shows revenue after its expiry date is critical: the business
    took N bookings worth $X uncovered. One finding per asset, with `amount` = $X."""
    from execreport import Finding, Severity, money

    out = []
    for e in ctx.entities:
        for a in e.assets:
            if a.expires is None or a.expires >= ctx.as_of or a.kind.lower() not in critical_kinds:
                continue
            ((n, total),) = ctx.ledger.sql(
                """
                SELECT count(*), coalesce(sum(amount), 0) FROM ledger
                WHERE entity = ? AND regexp_full_match(account, '4[0-9]{3}') AND amount > 0
                  AND date > ? AND date <= ?
                """,
                [e.key, a.expires, ctx.as_of],
            )
            if not n:
                continue
            state = "uninsured" if a.kind.lower() == "insurance" else "without its " + a.kind
            out.append(
                Finding(
                    severity=Severity.critical,
                    entity=e.key,
                    amount=total,
                    message=f"{e.name} operating {state}: {n} bookings, {money(total)} since "
                    f"{a.expires.isoformat()}, when its {a.kind} {a.name!r} expired (entity.toml "
                    "[[assets]]; ledger.csv 4xxx rows after that date)",
                )
            )
    return out


# Cross-role rules: functions (ctx, critical asset kinds) -> findings, run by the CEO over
# every entity's data. A plugin contributes one by putting a critical Finding in its own
# Report (the CEO ranks every report's critical findings as shortfalls), or by registering
# a CEO subclass with a longer `rules` tuple (docs/roles.md, "Cross-role rules").
CROSS_ROLE_RULES = (operating_without_cover,)


@dataclass
class AssetRow:
    kind: str
    entity: str
    name: str
    expires: date | None
    value: Decimal | None
    state: str  # "expired", "expiring" or ""
    days: int  # days since it expired, or until it expires


@dataclass
class AssetKind:
    kind: str
    assets: int
    expired: int
    expiring: int
    next_renewal: date | None
    value: Decimal | None


@dataclass
class KPICoverage:
    entity: str
    kind: str
    declared: int
    covered: int
    coverage: float | None
    missing: list[str]


@dataclass
class KPIRow:
    entity: str
    kpi: str
    unit: str
    target: Decimal | None
    better: str  # "lower" or "higher"
    value: Decimal | None
    date: date | None
    recent: bool
    off_target: bool | None


@dataclass
class Shortfall:
    entity: str
    role: str
    finding: str
    act_by: date


@dataclass
class AgendaItem:
    title: str
    entity: str  # "" for all
    owner: str
    due: date
    key: str
    severity: str = ""


class CEO:
    rules = CROSS_ROLE_RULES
    name = "ceo"
    title = "CEO Strategic Assessment"
    priority = 0
    settings_defaults = DEFAULTS  # every key of [roles.ceo], checked at load
    consolidates = True  # built after the other roles: it ranks their findings and actions
    template_folder = Path(__file__).parent / "templates"
    template_variables = {
        "figures": "the consolidated metrics: `assets`, `assets_expired`, "
        "`assets_expiring_60d`, `kpi_coverage`, `kpis_expected_missing`, `kpis_stale`, "
        "`kpis_off_target`, `critical_shortfalls`, `agenda_actions`",
        "shortfalls": "the critical findings of every report, ranked: `entity`, `role`, "
        "`finding`, `act_by`",
        "warnings": "how many warnings the reports of the run have",
        "money": "the money picture from the CFO report's metrics, a row per business then the "
        "holding (`name` ''): `cash`, `revenue_3m`, `revenue_3m_ly` (none: no data a year "
        "back), `revenue_yoy`, `net_burn_3m`, `net_burn_12m`, `low_point_cash`, "
        "`low_point_month`, `cash_out_month` (none: stays positive), `funding_need_12m`, "
        "`band`; none without a CFO report in the run (the section is left out)",
        "roles_seen": "the roles whose reports were consolidated",
        "agenda": "the 30-day agenda, ranked, at most `agenda_size` actions: `title`, `entity` "
        "('' for all), `owner`, `due`, `severity`, `key`",
        "agenda_total": "the actions of the run after de-duplication (the agenda and the rest)",
        "agenda_size": "the agenda's limit (`agenda_size`)",
        "agenda_left_out": "(role, actions not on the agenda) pairs; they add up to "
        "`agenda_total` - the agenda's length",
        "max_rows": "the most rows any other table shows (`max_rows`)",
        "shortfalls_left_out": "critical findings not shown (max_rows)",
        "assets_left_out": "assets needing attention not shown (max_rows)",
        "assets_fine": "assets that need no attention (not expired, not expiring)",
        "kpis_left_out": "KPIs needing attention not shown (max_rows)",
        "kpis_fine": "KPIs with a recent value on target (or with no target)",
        "horizon": "the agenda's last day",
        "horizon_days": "the agenda's length in days (`agenda_days`)",
        "duplicates_merged": "how many duplicate actions the agenda merged",
        "by_owner": "(owner, number of agenda actions) pairs",
        "asset_kinds": "per kind of asset: `kind`, `assets`, `expired`, `expiring`, "
        "`next_renewal`, `value`",
        "assets": "the assets that need attention (expired or expiring), at most `max_rows`: "
        "`kind`, `entity`, `name`, `expires`, `value`, `state` (expired or expiring), `days`",
        "expiring_window_days": "the METRICS.md expiring window (60 days)",
        "expiring_days": "the findings' expiring window (`expiring_days`)",
        "critical_asset_kinds": "the asset kinds whose expiry is critical",
        "kpi_coverage": "per entity: `entity`, `kind`, `declared`, `covered`, `coverage`, "
        "`missing` (expected KPIs not declared)",
        "kpis": "the declared KPIs that need attention (stale: no value in the window; or off "
        "target), at most `max_rows`: `entity`, `kpi`, `unit`, `target`, `better`, `value`, "
        "`date`, `recent`, `off_target` (None when stale or without a target)",
        "kpi_recent_days": "how recent a KPI value must be (`kpi_recent_days`)",
        "lower_is_better": "the KPIs for which lower is better (`lower_is_better`)",
        "changes": "the 'Changes since the last report' section, or none",
        "carried_over": "(place, agenda item) of the actions already on the last report's "
        "agenda, or none without a previous report",
    }

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Severity,
            changes_section,
            render_template,
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

        # -- cross-role rules: facts of one role's data that change another's --------------
        cross = [f for rule in self.rules for f in rule(ctx, critical_kinds)]
        for f in cross:
            findings.append(f)
            act_by[id(f)] = due(f.severity)

        # -- asset inventory -----------------------------------------------------------
        inventory: list[AssetRow] = []
        for e in ctx.entities:
            metrics[e.key] = asset_figures([e], as_of)
            for a in e.assets:
                state, sev, days = "", None, 0
                if a.expires is not None and a.expires < as_of:
                    days = (as_of - a.expires).days
                    state = "expired"
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
                    state = "expiring"
                    sev = Severity.warning
                    message = (
                        f"{e.name} {a.kind} {a.name!r} expires on {a.expires.isoformat()}, "
                        f"in {days} days (entity.toml [[assets]])"
                    )
                    title = f"Renew {e.name}'s {a.kind} {a.name} before {a.expires.isoformat()}"
                    when = min(max(a.expires, as_of + timedelta(days=1)), horizon)
                said = any(
                    f.entity == e.key and f"{a.kind} {a.name!r} expired" in f.message for f in cross
                )  # the cross-role finding says it, with the bookings taken since
                if sev is not None and not said:
                    findings.append(Finding(severity=sev, entity=e.key, message=message))
                    act_by[id(findings[-1])] = when
                if sev is not None:
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
                inventory.append(AssetRow(a.kind, e.name, a.name, a.expires, a.value, state, days))
        inventory.sort(key=lambda r: (r.kind.lower(), r.entity, r.name))

        by_kind: dict[str, list[AssetRow]] = {}
        for row in inventory:
            by_kind.setdefault(row.kind, []).append(row)
        kinds = []
        for kind, rows in by_kind.items():
            upcoming = [r.expires for r in rows if r.expires is not None and r.expires >= as_of]
            values = [r.value for r in rows if r.value is not None]
            kinds.append(
                AssetKind(
                    kind=kind,
                    assets=len(rows),
                    expired=sum(1 for r in rows if r.expires is not None and r.expires < as_of),
                    expiring=sum(
                        1 for r in rows if r.expires is not None and as_of <= r.expires <= soon
                    ),
                    next_renewal=min(upcoming) if upcoming else None,
                    value=sum(values, Decimal(0)) if values else None,
                )
            )

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
            coverage_rows.append(
                KPICoverage(e.name, e.kind, len(states), covered, m["kpi_coverage"], missing)
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
                kpi_rows.append(
                    KPIRow(
                        entity=e.name,
                        kpi=k.name,
                        unit=k.unit,
                        target=k.target,
                        better=s["better"],
                        value=None if v is None else v.value,
                        date=None if v is None else v.date,
                        recent=s["recent"],
                        off_target=s["off_target"],
                    )
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
            parts = []
            for s in off:
                k, v = s["kpi"], s["value"]
                gap = (v.value - k.target) / k.target * 100 if k.target else None
                gap_text = "" if gap is None else f", {gap:+.1f}%"
                side = "above" if s["better"] == "lower" else "below"
                parts.append(
                    f"{k.name} {v.value} on {v.date.isoformat()}, {side} its target {k.target}"
                    f"{gap_text}"
                )
            if parts:  # one finding per entity: the KPI table has the rows
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} KPIs off target: {'; '.join(parts)} (kpis.csv, "
                        "entity.toml [[kpis]])",
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
            Shortfall(names.get(f.entity, f.entity or "all"), role, f.message, when)
            for _, role, f, when in shortfalls
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
        seen_roles = [r.role for r in ctx.reports] + [self.name]

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
        everything = sorted(agenda.values(), key=order)
        agenda_size = int(settings["agenda_size"])
        ranked = everything[: max(agenda_size, 0)]
        left_by_role: dict[str, int] = {}
        for a in everything[len(ranked) :]:
            left_by_role[a.owner] = left_by_role.get(a.owner, 0) + 1
        agenda_rows = [
            AgendaItem(
                a.title, names.get(a.entity, a.entity) if a.entity else "", a.owner, a.due, a.key
            )
            for a in ranked
        ]
        for item, a in zip(agenda_rows, ranked, strict=True):
            item.severity = str(a.severity)
        for e in ctx.entities:
            metrics[e.key]["agenda_actions"] = sum(1 for a in ranked if a.entity == e.key)
        metrics["consolidated"]["agenda_actions"] = len(ranked)
        metrics["consolidated"]["agenda_left_out"] = len(everything) - len(ranked)
        # the agenda's action keys, so that the next report can mark what is carried over
        metrics["consolidated"]["agenda_keys"] = [a.key for a in ranked]
        merged = sum(len(r.actions) for r in ctx.reports) + len(actions) - len(everything)
        by_owner: dict[str, int] = {}
        for a in ranked:
            by_owner[a.owner] = by_owner.get(a.owner, 0) + 1

        actions.sort(key=lambda a: (Severity(a.severity).rank, a.due, a.entity or "", a.title))
        max_rows = int(settings["max_rows"])
        attention_assets = [r for r in inventory if r.state]
        attention_kpis = [k for k in kpi_rows if not k.recent or k.off_target]
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
        words = render_template(
            ctx,
            self,
            {
                "figures": metrics["consolidated"],
                "money": money_picture(ctx),
                "shortfalls": shortfall_rows[:max_rows],
                "warnings": warnings,
                "roles_seen": seen_roles,
                "agenda": agenda_rows,
                "horizon": horizon,
                "horizon_days": horizon_days,
                "duplicates_merged": merged,
                "agenda_total": len(everything),
                "agenda_size": agenda_size,
                "agenda_left_out": sorted(left_by_role.items()),
                "max_rows": max_rows,
                "shortfalls_left_out": max(len(shortfall_rows) - max_rows, 0),
                "assets_left_out": max(len(attention_assets) - max_rows, 0),
                "assets_fine": len(inventory) - len(attention_assets),
                "kpis_left_out": max(len(attention_kpis) - max_rows, 0),
                "kpis_fine": len(kpi_rows) - len(attention_kpis),
                "by_owner": sorted(by_owner.items()),
                "asset_kinds": kinds,
                "assets": attention_assets[:max_rows],
                "expiring_window_days": EXPIRING_DAYS,
                "expiring_days": expiring_days,
                "critical_asset_kinds": sorted(critical_kinds),
                "kpi_coverage": coverage_rows,
                "kpis": attention_kpis[:max_rows],
                "kpi_recent_days": recent_days,
                "lower_is_better": [str(n) for n in settings["lower_is_better"]],
                "changes": change,
                "carried_over": carried_over(ctx, agenda_rows),
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


def carried_over(ctx: Any, agenda: list[AgendaItem]) -> list[tuple[int, AgendaItem]] | None:
    """The agenda actions (with their place on it) that were already on the last report's
    agenda; None without a previous report. The section compares with the previous report,
    so on its own it never makes a new version."""
    if ctx.previous is None:
        return None
    before = set((ctx.previous.metrics.get("consolidated") or {}).get("agenda_keys") or [])
    return [(i, a) for i, a in enumerate(agenda, 1) if a.key in before]


@hookimpl
def register_roles(register: Any) -> None:
    register(CEO())
