"""CFO: cash, burn, runway, contribution margin, break-even, revenue targets, capital
deployment (Profit First) and payback of planned investments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl, read_settings

CLASS = "CASE WHEN regexp_full_match(account, '[0-9]{4}') THEN left(account, 1) END"

# `[roles.cfo]` keys and their defaults (docs/roles.md, "CFO")
DEFAULTS: dict[str, Any] = {
    "runway_critical_months": 6,
    "runway_warning_months": 12,
    "target_monthly_profit": "0",  # profit a month on top of break-even, at the target month
    "target_month": None,  # "YYYY-MM"; None: December of the year after as_of
    "allocation": {"profit": 5, "owner_pay": 50, "tax": 15, "opex": 30},
    "investments": [],
    "due_days": {"critical": 7, "warning": 14, "info": 30},
}
BUCKETS = ("profit", "owner_pay", "tax", "opex")
BUCKET_NAMES = {"profit": "Profit", "owner_pay": "Owner pay", "tax": "Tax", "opex": "OpEx"}

# the figures the "Changes since the last report" section compares: (key, words, kind)
KEY_FIGURES = (
    ("cash", "cash", "money"),
    ("revenue_3m", "revenue (3 months)", "money"),
    ("net_burn_3m", "net burn", "money"),
    ("runway_months", "runway", "months"),
    ("cm_ratio", "contribution margin", "ratio"),
    ("break_even_revenue", "break-even revenue", "money"),
    ("margin_of_safety", "margin of safety", "ratio"),
)
CHANGES_HEADING = "Changes since the last report"


# -- the METRICS.md figures ---------------------------------------------------------------
def window_sums(ledger: Any, as_of: date) -> dict[str, dict[str, Decimal]]:
    """Revenue, COGS and opex over the trailing 3 months, per entity and consolidated."""
    from execreport import trailing_months

    start, end = trailing_months(as_of)
    rows = ledger.sql(
        f"""
        SELECT coalesce(entity, 'consolidated'),
               coalesce(sum(amount) FILTER (WHERE cls = '4'), 0),
               coalesce(-sum(amount) FILTER (WHERE cls = '5'), 0),
               coalesce(-sum(amount) FILTER (WHERE cls IN ('6', '7')), 0)
        FROM (SELECT entity, amount, {CLASS} AS cls FROM ledger
              WHERE date BETWEEN ? AND ?)
        GROUP BY GROUPING SETS ((entity), ())
        """,
        [start, end],
    )
    out = {r[0]: {"revenue": r[1], "cogs": r[2], "opex": r[3]} for r in rows}
    zero = {"revenue": Decimal(0), "cogs": Decimal(0), "opex": Decimal(0)}
    out.setdefault("consolidated", dict(zero))
    return out


def cash_by_entity(ctx: Any) -> dict[str, Decimal]:
    """opening_cash + every amount with opening_date <= date <= as_of, per entity."""
    out = {}
    for e in ctx.entities:
        opening = e.finance.opening_date or date.min
        moved = e.ledger.scalar(
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE date BETWEEN ? AND ?",
            [opening, ctx.as_of],
        )
        out[e.key] = e.finance.opening_cash + moved
    return out


def figures(cash: Decimal, sums: dict[str, Decimal]) -> dict[str, Any]:
    """The METRICS.md cfo figures, exact (rounding happens in `metrics`)."""
    revenue, cogs, opex = sums["revenue"], sums["cogs"], sums["opex"]
    gross = (cogs + opex) / 3
    net = (cogs + opex - revenue) / 3
    runway = max(cash, Decimal(0)) / net if net > 0 else None
    cm = (revenue - cogs) / revenue if revenue > 0 else None
    be = (opex / 3) / cm if cm is not None and cm > 0 else None
    monthly = revenue / 3
    mos = (monthly - be) / monthly if be is not None and monthly != 0 else None
    return {
        "cash": cash,
        "revenue_3m": revenue,
        "cogs_3m": cogs,
        "opex_3m": opex,
        "gross_burn_3m": gross,
        "net_burn_3m": net,
        "runway_months": runway,
        "cm_ratio": cm,
        "break_even_revenue": be,
        "margin_of_safety": mos,
    }


MONEY_KEYS = (
    "cash",
    "revenue_3m",
    "cogs_3m",
    "opex_3m",
    "gross_burn_3m",
    "net_burn_3m",
    "break_even_revenue",
)


def metrics(exact: dict[str, Any]) -> dict[str, Any]:
    """The METRICS.md figures rounded: money to the cent, ratios and months to two places."""
    from execreport import to_money, to_ratio

    return {k: (to_money(v) if k in MONEY_KEYS else to_ratio(v)) for k, v in exact.items()}


def compute(ctx: Any) -> dict[str, dict[str, Any]]:
    """Exact figures per entity key and `consolidated`."""
    sums = window_sums(ctx.ledger, ctx.as_of)
    cash = cash_by_entity(ctx)
    zero = {"revenue": Decimal(0), "cogs": Decimal(0), "opex": Decimal(0)}
    out = {"consolidated": figures(sum(cash.values(), Decimal(0)), sums["consolidated"])}
    for e in ctx.entities:
        out[e.key] = figures(cash[e.key], sums.get(e.key, zero))
    return out


# -- settings -----------------------------------------------------------------------------
def setting_error(table: str, key: str, problem: str) -> Exception:
    """An error naming the `[roles.<table>]` key at fault and what to do."""
    from execreport import ConfigError

    return ConfigError(f"roles.{table}.{key}: {problem}")


def to_decimal(value: Any, table: str, key: str) -> Decimal:
    """A configured number (TOML integer, float or quoted string) as a Decimal."""
    from decimal import InvalidOperation

    if isinstance(value, bool) or value is None:
        raise setting_error(table, key, f"{value!r} is not a number")
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise setting_error(table, key, f"{value!r} is not a number") from None
    if not out.is_finite():
        raise setting_error(table, key, f"{value!r} is not a finite number")
    return out


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def path_months(as_of: date) -> list[date]:
    """First days of the months from the month after `as_of` through December of the next
    calendar year."""
    from execreport import add_months

    first = add_months(month_start(as_of), 1)
    last = date(as_of.year + 1, 12, 1)
    out = []
    day = first
    while day <= last:
        out.append(day)
        day = add_months(day, 1)
    return out


@dataclass(frozen=True)
class PlanSettings:
    """The parameters of the revenue target path."""

    target_month: date  # first day of the month the path reaches its target
    target_monthly_profit: Decimal


def plan_settings(settings: dict[str, Any], as_of: date, table: str = "cfo") -> PlanSettings:
    """`target_month` and `target_monthly_profit` from a role's settings, checked."""
    months = path_months(as_of)
    raw = settings.get("target_month")
    if raw is None or raw == "":
        target = months[-1]
    else:
        text = raw.isoformat() if isinstance(raw, date) else str(raw).strip()
        try:
            year, month = (int(part) for part in text[:7].split("-"))
            target = date(year, month, 1)
        except ValueError:
            raise setting_error(
                table, "target_month", f"{raw!r} is not a month; write it as YYYY-MM"
            ) from None
        if not months[0] <= target <= months[-1]:
            raise setting_error(
                table,
                "target_month",
                f"{month_label(target)} is outside the target path, which runs from "
                f"{month_label(months[0])} through {month_label(months[-1])}; pick a month "
                "in that range",
            )
    profit = to_decimal(settings.get("target_monthly_profit", "0"), table, "target_monthly_profit")
    if profit < 0:
        raise setting_error(
            table, "target_monthly_profit", f"{profit} is negative; use 0 or more (dollars/month)"
        )
    return PlanSettings(target_month=target, target_monthly_profit=profit)


def allocation_settings(settings: dict[str, Any]) -> dict[str, Decimal]:
    """The Profit First percentages, defaults filled in, checked to sum to 100."""
    raw = settings.get("allocation", {})
    if not isinstance(raw, dict):
        raise setting_error(
            "cfo", "allocation", "must be a table such as {profit = 5, owner_pay = 50, ...}"
        )
    unknown = sorted(set(raw) - set(BUCKETS))
    if unknown:
        raise setting_error(
            "cfo",
            f"allocation.{unknown[0]}",
            f"unknown bucket; the buckets are {', '.join(BUCKETS)}",
        )
    merged = {**DEFAULTS["allocation"], **raw}
    out = {b: to_decimal(merged[b], "cfo", f"allocation.{b}") for b in BUCKETS}
    for bucket, pct in out.items():
        if pct < 0:
            raise setting_error("cfo", f"allocation.{bucket}", f"{pct} is negative")
    total = sum(out.values(), Decimal(0))
    if total != 100:
        terms = " + ".join(f"{b} {out[b].normalize():f}" for b in BUCKETS)
        raise setting_error(
            "cfo",
            "allocation",
            f"the percentages sum to {total.normalize():f}, not 100 ({terms}); "
            "make them add up to 100",
        )
    return out


@dataclass(frozen=True)
class Investment:
    name: str
    entity: str
    amount: Decimal
    monthly_return: Decimal

    @property
    def payback_months(self) -> Decimal | None:
        """amount / monthly_return; None when it never pays back (no positive return)."""
        return self.amount / self.monthly_return if self.monthly_return > 0 else None


def investment_settings(settings: dict[str, Any], entity_keys: Sequence[str]) -> list[Investment]:
    """`[[roles.cfo.investments]]`: name, entity, amount, monthly_return, each checked."""
    raw = settings.get("investments", [])
    if not isinstance(raw, list):
        raise setting_error("cfo", "investments", "must be a list of [[roles.cfo.investments]]")
    out = []
    for i, item in enumerate(raw):
        where = f"investments[{i}]"
        if not isinstance(item, dict):
            raise setting_error("cfo", where, "must be a table with name, entity, amount, ...")
        for key in ("name", "entity", "amount", "monthly_return"):
            if key not in item:
                raise setting_error("cfo", f"{where}.{key}", "is missing")
        entity = str(item["entity"])
        if entity not in entity_keys:
            raise setting_error(
                "cfo",
                f"{where}.entity",
                f"{entity!r} is not an entity (entities: {', '.join(entity_keys)})",
            )
        amount = to_decimal(item["amount"], "cfo", f"{where}.amount")
        if amount <= 0:
            raise setting_error("cfo", f"{where}.amount", f"{amount} must be more than 0")
        out.append(
            Investment(
                name=str(item["name"]),
                entity=entity,
                amount=amount,
                monthly_return=to_decimal(item["monthly_return"], "cfo", f"{where}.monthly_return"),
            )
        )
    return out


# -- the revenue target path --------------------------------------------------------------
@dataclass(frozen=True)
class RevenuePlan:
    """A monthly revenue target path for one entity (or the consolidated holding).

    Growth model: linear from the current monthly revenue (trailing 3 months / 3) to the
    target revenue, reached in `target_month` and held after it. The target revenue is the
    revenue whose contribution covers the fixed costs plus the target profit:
    (opex / 3 + target_monthly_profit) / cm_ratio, which is break-even revenue when the
    target profit is 0. Revenue already at or above the target is held flat.
    `status`: `above` (current revenue >= break-even), `on_path` (break-even reached on the
    path) or `no_break_even` (no revenue or a contribution margin <= 0: no revenue level
    breaks even)."""

    current: Decimal
    break_even: Decimal | None
    target: Decimal | None
    target_month: date
    months: tuple[tuple[date, Decimal], ...]
    status: str

    def first_month_at(self, level: Decimal) -> date | None:
        """The first month whose target revenue reaches `level`."""
        return next((m for m, revenue in self.months if revenue >= level), None)

    @property
    def break_even_month(self) -> date | None:
        if self.status != "on_path" or self.break_even is None:
            return None
        return self.first_month_at(self.break_even)

    @property
    def monthly_step(self) -> Decimal:
        if not self.months or self.target is None or self.current >= self.target:
            return Decimal(0)
        steps = sum(1 for m, _ in self.months if m <= self.target_month)
        return (self.target - self.current) / steps


def revenue_plan(exact: dict[str, Any], as_of: date, plan: PlanSettings) -> RevenuePlan:
    """The target path for one set of exact `figures` (see RevenuePlan for the model)."""
    current = exact["revenue_3m"] / 3
    cm = exact["cm_ratio"]
    if cm is None or cm <= 0:
        return RevenuePlan(current, None, None, plan.target_month, (), "no_break_even")
    fixed = exact["opex_3m"] / 3
    break_even = exact["break_even_revenue"]
    target = (fixed + plan.target_monthly_profit) / cm
    if plan.target_monthly_profit == 0:
        target = break_even  # the same quotient: the path lands on break-even exactly
    months = path_months(as_of)
    steps = sum(1 for m in months if m <= plan.target_month)
    path = []
    for k, month in enumerate(months, 1):
        if current >= target:
            revenue = current
        elif k >= steps:
            revenue = target
        else:
            revenue = current + (target - current) * k / steps
        path.append((month, revenue))
    status = "above" if current >= break_even else "on_path"
    return RevenuePlan(current, break_even, target, plan.target_month, tuple(path), status)


def revenue_plans(
    exact: dict[str, dict[str, Any]], as_of: date, plan: PlanSettings
) -> dict[str, RevenuePlan]:
    """`revenue_plan` for every scope of `compute(ctx)`."""
    return {scope: revenue_plan(f, as_of, plan) for scope, f in exact.items()}


def plan_metrics(p: RevenuePlan, plan: PlanSettings) -> dict[str, Any]:
    from execreport import to_money

    be_month = p.break_even_month
    return {
        "target_month": month_label(plan.target_month),
        "target_monthly_profit": to_money(plan.target_monthly_profit),
        "target_revenue": to_money(p.target),
        "break_even_status": p.status,
        "break_even_month": month_label(be_month) if be_month else None,
        "target_path": (
            [{"month": month_label(m), "revenue": to_money(r)} for m, r in p.months]
            if p.months
            else None
        ),
    }


# -- changes since the last report ----------------------------------------------------------
def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _shown(kind: str, value: Decimal | None) -> str:
    from execreport import money

    if value is None:
        return "n/a"
    if kind == "money":
        return money(value)
    if kind == "months":
        return f"{value:.2f} months"
    if kind == "ratio":
        return f"{value * 100:.0f}%"
    return f"{value}"


def describe_change(words: str, kind: str, old: Any, new: Any) -> str | None:
    """`runway up 1.20 months (3.63 → 4.83)`, `duplicates 2 → 1`; None when unchanged."""
    from execreport import money

    a, b = _number(old), _number(new)
    if a == b:
        return None
    if a is None or b is None or kind == "count":
        return f"{words} {_shown(kind, a)} → {_shown(kind, b)}"
    way = "up" if b > a else "down"
    d = abs(b - a)
    size = {
        "money": money(d),
        "months": f"{d:.2f} months",
        "ratio": f"{d * 100:.0f} points",
    }.get(kind, f"{d}")
    return f"{words} {way} {size} ({_shown(kind, a)} → {_shown(kind, b)})"


def _comparable(m: dict[str, Any]) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(m)


def changes_section(
    previous: Any,
    metrics_now: dict[str, dict[str, Any]],
    key_figures: Iterable[tuple[str, str, str]],
    scopes: Iterable[tuple[str, str]],
) -> Any:
    """The "Changes since the last report" section, or None without a previous report or
    when no figure at all changed.

    Deltas are previous.metrics → `metrics_now` for `key_figures` ((key, words, kind) with
    kind money, months, ratio or count) in each of `scopes` ((metrics key, Markdown label)).
    The section is `since_previous`: it compares with the previous report, so on its own it
    never makes a new version."""
    from execreport import Section

    if previous is None:
        return None
    old = previous.metrics or {}
    if _comparable(old) == _comparable(metrics_now):
        return None
    key_figures = list(key_figures)
    lines = []
    for scope, label in scopes:
        before, after = old.get(scope), metrics_now.get(scope, {})
        if before is None:
            lines.append(f"- {label}: new in this report")
            continue
        parts = [
            text
            for key, words, kind in key_figures
            if key in after
            and key in before
            and (text := describe_change(words, kind, before[key], after[key]))
        ]
        if parts:
            lines.append(f"- {label}: {'; '.join(parts)}")
    body = lines or ["No key figure changed since the last report."]
    names = ", ".join(words for _, words, _ in key_figures)
    how = (
        "_How this was computed: each figure of this report minus the same figure of the last "
        f"archived report ({names}); money to the cent, months and ratios as rounded in "
        "the metrics._"
    )
    return Section(heading=CHANGES_HEADING, body="\n".join([*body, "", how]), since_previous=True)


# -- the report ---------------------------------------------------------------------------
def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _months(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f} months"


class CFO:
    name = "cfo"
    title = "CFO Financial Review"
    priority = 10
    settings_defaults = DEFAULTS  # every key of [roles.cfo], checked at load

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
            to_ratio,
            trailing_months,
        )

        settings = read_settings(self.name, ctx.settings, DEFAULTS)
        crit_months = to_decimal(
            settings["runway_critical_months"], "cfo", "runway_critical_months"
        )
        warn_months = to_decimal(settings["runway_warning_months"], "cfo", "runway_warning_months")
        due_days = {**DEFAULTS["due_days"], **settings.get("due_days", {})}
        plan = plan_settings(settings, ctx.as_of)
        allocation = allocation_settings(settings)
        investments = investment_settings(settings, [e.key for e in ctx.entities])

        exact = compute(ctx)
        shown = {k: metrics(v) for k, v in exact.items()}
        plans = revenue_plans(exact, ctx.as_of, plan)
        for scope, m in shown.items():
            f = exact[scope]
            m["revenue_monthly"] = to_money(f["revenue_3m"] / 3)
            m["contribution_monthly"] = to_money((f["revenue_3m"] - f["cogs_3m"]) / 3)
            m["fixed_costs_monthly"] = to_money(f["opex_3m"] / 3)
            m.update(plan_metrics(plans[scope], plan))
            base = max(f["revenue_3m"] / 3, Decimal(0))
            m["allocation_percent"] = {b: to_ratio(allocation[b]) for b in BUCKETS}
            m["allocation"] = {b: to_money(base * allocation[b] / 100) for b in BUCKETS}
            m["investments"] = [
                {
                    "name": inv.name,
                    "entity": inv.entity,
                    "amount": to_money(inv.amount),
                    "monthly_return": to_money(inv.monthly_return),
                    "payback_months": to_ratio(inv.payback_months),
                }
                for inv in investments
                if scope in ("consolidated", inv.entity)
            ]

        start, end = trailing_months(ctx.as_of)
        window = f"ledger.csv rows {start.isoformat()} to {end.isoformat()}"
        scopes = [(None, "consolidated", "**All entities**")] + [
            (e, e.key, md_escape(e.name)) for e in ctx.entities
        ]
        findings: list[Any] = []
        actions: list[Any] = []

        def due(severity: str) -> date:
            return ctx.as_of + timedelta(days=int(due_days[severity]))

        # -- findings and actions, entity by entity
        for e in ctx.entities:
            f, m, p = exact[e.key], shown[e.key], plans[e.key]
            burn = f"net burn {money(m['net_burn_3m'])}/month over {window}"
            if f["cash"] < 0:
                findings.append(
                    Finding(
                        severity=Severity.critical,
                        entity=e.key,
                        message=f"{e.name} has a negative cash position of {money(m['cash'])} "
                        f"on {ctx.as_of.isoformat()} (entity.toml opening_cash "
                        f"{money(e.finance.opening_cash)} plus ledger.csv movements); {burn}",
                    )
                )
                actions.append(
                    Action(
                        title=f"Fund {e.name}'s negative cash position "
                        f"({money(m['cash'])}) or stop its outflows",
                        owner="cfo",
                        due=due("critical"),
                        priority=1,
                        entity=e.key,
                        severity=Severity.critical,
                    )
                )
            elif f["runway_months"] is not None and f["runway_months"] < crit_months:
                findings.append(
                    Finding(
                        severity=Severity.critical,
                        entity=e.key,
                        message=f"{e.name} runway is {_months(m['runway_months'])} (cash "
                        f"{money(m['cash'])}, {burn}), under {crit_months} months",
                    )
                )
                actions.append(
                    Action(
                        title=f"Cut {e.name}'s net burn of "
                        f"{money(m['net_burn_3m'])}/month or raise cash: runway "
                        f"{_months(m['runway_months'])}",
                        owner="cfo",
                        due=due("critical"),
                        priority=1,
                        entity=e.key,
                        severity=Severity.critical,
                    )
                )
            elif f["runway_months"] is not None and f["runway_months"] < warn_months:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} runway is {_months(m['runway_months'])} (cash "
                        f"{money(m['cash'])}, {burn}), under {warn_months} months",
                    )
                )
                # the target-path action below says how to get there
            if p.status == "on_path":
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} revenue of {money(m['revenue_monthly'])}/month is "
                        f"below its break-even of {money(m['break_even_revenue'])}/month "
                        f"(margin of safety {_pct(m['margin_of_safety'])}, {window})",
                    )
                )
                actions.append(
                    Action(
                        title=f"Grow {e.name}'s revenue by {money(p.monthly_step)} a month "
                        f"toward {money(p.target)}/month by {month_label(p.target_month)} "
                        "(the CFO target path)",
                        owner="cfo",
                        due=due("warning"),
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
            elif p.status == "no_break_even" and f["revenue_3m"] > 0:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} has a contribution margin of "
                        f"{_pct(m['cm_ratio'])}: cost of goods sold exceeds revenue over "
                        f"{window}, so no revenue level breaks even",
                    )
                )
                actions.append(
                    Action(
                        title=f"Reprice or cut {e.name}'s cost of goods sold: contribution "
                        f"margin {_pct(m['cm_ratio'])}",
                        owner="cfo",
                        due=due("warning"),
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
        for inv in investments:
            f, m = exact[inv.entity], shown[inv.entity]
            label = f"{inv.name} ({money(inv.amount)}, [[roles.cfo.investments]])"
            name = next(e.name for e in ctx.entities if e.key == inv.entity)
            payback = inv.payback_months
            if payback is None:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=inv.entity,
                        message=f"{name}: planned investment {label} never pays back: its "
                        f"monthly return is {money(inv.monthly_return)}",
                    )
                )
            elif f["runway_months"] is not None and payback > f["runway_months"]:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=inv.entity,
                        message=f"{name}: planned investment {label} pays back in "
                        f"{_months(to_ratio(payback))}, after the runway of "
                        f"{_months(m['runway_months'])} ends",
                    )
                )
            if inv.amount > f["cash"]:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=inv.entity,
                        message=f"{name}: planned investment {label} costs more than the cash "
                        f"on hand of {money(m['cash'])}",
                    )
                )

        # -- sections
        def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
            return "\n".join(lines)

        burn_rows = []
        for _, key, label in scopes:
            m = shown[key]
            runway = (
                _months(m["runway_months"])
                if m["runway_months"] is not None
                else ("not burning cash")
            )
            if exact[key]["cash"] < 0:
                band = "critical: negative cash"
            elif m["runway_months"] is None:
                band = "ok"
            elif exact[key]["runway_months"] < crit_months:
                band = "critical"
            elif exact[key]["runway_months"] < warn_months:
                band = "warning"
            else:
                band = "ok"
            burn_rows.append(
                [
                    label,
                    money(m["cash"]),
                    money(m["revenue_3m"]),
                    money(m["gross_burn_3m"]),
                    money(m["net_burn_3m"]),
                    runway,
                    band,
                ]
            )
        burn = table(
            ["Entity", "Cash", "Revenue (3 mo)", "Gross burn/mo", "Net burn/mo", "Runway", "Band"],
            burn_rows,
        )
        burn_how = (
            f"_How this was computed: cash = entity.toml opening_cash + ledger.csv amounts from "
            f"opening_date through {ctx.as_of.isoformat()}; revenue = 4xxx, COGS = 5xxx, opex = "
            f"6xxx-7xxx over the trailing 3 months {start.isoformat()} to {end.isoformat()}; "
            "gross burn = (COGS + opex) / 3, net burn = (COGS + opex - revenue) / 3, runway = "
            "max(cash, 0) / net burn when net burn > 0 (METRICS.md, cfo); bands: critical "
            f"under {crit_months} months or negative cash, warning under {warn_months} months "
            "(runway_critical_months, runway_warning_months)._"
        )

        cm_rows = []
        for _, key, label in scopes:
            m, p = shown[key], plans[key]
            if m["break_even_revenue"] is None:
                gap = "n/a"
            else:
                diff = exact[key]["break_even_revenue"] - exact[key]["revenue_3m"] / 3
                gap = f"needs +{money(diff)}" if diff > 0 else f"above by {money(-diff)}"
            cm_rows.append(
                [
                    label,
                    money(m["revenue_monthly"]),
                    money(m["contribution_monthly"]),
                    _pct(m["cm_ratio"]),
                    money(m["fixed_costs_monthly"]),
                    money(m["break_even_revenue"]),
                    gap,
                    _pct(m["margin_of_safety"]),
                ]
            )
        cm = table(
            [
                "Entity",
                "Revenue/mo",
                "Contribution/mo",
                "CM ratio",
                "Fixed costs/mo",
                "Break-even/mo",
                "Gap",
                "Margin of safety",
            ],
            cm_rows,
        )
        cm_how = (
            f"_How this was computed: over {start.isoformat()} to {end.isoformat()}, "
            "contribution = (revenue - COGS) / 3, CM ratio = (revenue - COGS) / revenue, fixed "
            "costs = opex / 3, break-even revenue = fixed costs / CM ratio, margin of safety = "
            "(revenue / 3 - break-even) / (revenue / 3) (METRICS.md, cfo); n/a when revenue or "
            "the contribution margin is not positive._"
        )

        plan_lines = []
        for _, key, label in scopes:
            p, m = plans[key], shown[key]
            if p.status == "no_break_even":
                plan_lines.append(
                    f"- {label}: no target path: the contribution margin is "
                    f"{_pct(m['cm_ratio'])}, so no revenue level breaks even"
                )
            elif p.status == "above" and p.current >= (p.target or 0):
                plan_lines.append(
                    f"- {label}: already above break-even ({money(p.current)}/month against "
                    f"{money(p.break_even)}) and at the target of {money(p.target)}: hold "
                    "revenue"
                )
            else:
                crossed = (
                    "already above break-even"
                    if p.status == "above"
                    else f"crosses break-even ({money(p.break_even)}) in "
                    f"{month_label(p.break_even_month) if p.break_even_month else 'n/a'}"
                )
                plan_lines.append(
                    f"- {label}: {money(p.current)}/month now to {money(p.target)}/month by "
                    f"{month_label(p.target_month)}, +{money(p.monthly_step)} each month; "
                    f"{crossed}"
                )
        months = path_months(ctx.as_of)
        path_rows = []
        for i, month in enumerate(months):
            cells = [month_label(month)]
            for _, key, _label in scopes:
                p = plans[key]
                cells.append(money(p.months[i][1]) if p.months else "n/a")
            path_rows.append(cells)
        path = table(["Month", *(label for _, _, label in scopes)], path_rows)
        path_how = (
            "_How this was computed: target revenue = (fixed costs / month + target profit) / "
            f"CM ratio, with target_monthly_profit = {money(plan.target_monthly_profit)}; the "
            "path grows in equal monthly steps from the current monthly revenue (trailing 3 "
            f"months / 3) to the target in target_month {month_label(plan.target_month)}, then "
            "holds; revenue already at or above the target is held flat. The consolidated path "
            "uses the consolidated figures._"
        )

        alloc_rows = []
        for _, key, label in scopes:
            m = shown[key]
            a = m["allocation"]
            spend = m["gross_burn_3m"]
            over = spend - a["opex"]
            alloc_rows.append(
                [
                    label,
                    money(m["revenue_monthly"]),
                    *(money(a[b]) for b in BUCKETS),
                    money(spend),
                    f"over by {money(over)}" if over > 0 else f"under by {money(-over)}",
                ]
            )
        alloc = table(
            [
                "Entity",
                "Revenue/mo",
                *(f"{BUCKET_NAMES[b]} {allocation[b].normalize():f}%" for b in BUCKETS),
                "Actual COGS + opex/mo",
                "Spend vs OpEx",
            ],
            alloc_rows,
        )
        alloc_how = (
            "_How this was computed: Profit First allocation of the monthly revenue (trailing 3 "
            "months / 3, at least 0) by the allocation percentages "
            + ", ".join(f"{b} {allocation[b].normalize():f}%" for b in BUCKETS)
            + "; actual spend is gross burn, (COGS + opex) / 3, compared with the OpEx share._"
        )

        if investments:
            inv_rows = []
            for inv in investments:
                name = next(e.name for e in ctx.entities if e.key == inv.entity)
                inv_rows.append(
                    [
                        md_escape(inv.name),
                        md_escape(name),
                        money(inv.amount),
                        money(inv.monthly_return),
                        _months(to_ratio(inv.payback_months))
                        if inv.payback_months is not None
                        else "never",
                        _months(shown[inv.entity]["runway_months"])
                        if shown[inv.entity]["runway_months"] is not None
                        else "not burning cash",
                        money(shown[inv.entity]["cash"]),
                    ]
                )
            inv_body = table(
                ["Investment", "Entity", "Amount", "Return/mo", "Payback", "Runway", "Cash"],
                inv_rows,
            )
        else:
            inv_body = "No planned investments are configured ([[roles.cfo.investments]])."
        inv_how = (
            "_How this was computed: payback months = amount / monthly_return from "
            "[[roles.cfo.investments]]; flagged when the return is not positive, when payback "
            "comes after the entity's runway, or when the amount exceeds its cash._"
        )

        sections = [
            Section(heading="Cash, burn and runway", body=f"{burn}\n\n{burn_how}"),
            Section(heading="Contribution margin and break-even", body=f"{cm}\n\n{cm_how}"),
            Section(
                heading="Revenue target path",
                body="\n".join(plan_lines) + f"\n\n{path}\n\n{path_how}",
            ),
            Section(heading="Capital deployment (Profit First)", body=f"{alloc}\n\n{alloc_how}"),
            Section(heading="Planned investments", body=f"{inv_body}\n\n{inv_how}"),
        ]
        changes = changes_section(
            ctx.previous, shown, KEY_FIGURES, [(key, label) for _, key, label in scopes]
        )
        if changes is not None:
            sections.append(changes)
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CFO Financial Review: {ctx.period} burn, runway and break-even",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=shown,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CFO())
