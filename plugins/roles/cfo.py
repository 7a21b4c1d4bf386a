"""CFO: cash, burn, runway, contribution margin, break-even and targets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl

CLASS = "CASE WHEN regexp_full_match(account, '[0-9]{4}') THEN left(account, 1) END"

DEFAULTS = {"runway_critical_months": 6, "runway_warning_months": 12}


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


def metrics(exact: dict[str, Any]) -> dict[str, Any]:
    from execreport import to_money, to_ratio

    money = (
        "cash",
        "revenue_3m",
        "cogs_3m",
        "opex_3m",
        "gross_burn_3m",
        "net_burn_3m",
        "break_even_revenue",
    )
    return {k: (to_money(v) if k in money else to_ratio(v)) for k, v in exact.items()}


def compute(ctx: Any) -> dict[str, dict[str, Any]]:
    """Exact figures per entity key and `consolidated`."""
    sums = window_sums(ctx.ledger, ctx.as_of)
    cash = cash_by_entity(ctx)
    zero = {"revenue": Decimal(0), "cogs": Decimal(0), "opex": Decimal(0)}
    out = {"consolidated": figures(sum(cash.values(), Decimal(0)), sums["consolidated"])}
    for e in ctx.entities:
        out[e.key] = figures(cash[e.key], sums.get(e.key, zero))
    return out


class CFO:
    name = "cfo"
    title = "CFO Financial Review"
    priority = 10

    def build(self, ctx: Any) -> Any:
        from execreport import Action, Finding, Report, Section, Severity, md_escape, money

        settings = {**DEFAULTS, **ctx.settings}
        crit_months = Decimal(str(settings["runway_critical_months"]))
        warn_months = Decimal(str(settings["runway_warning_months"]))
        exact = compute(ctx)
        shown = {k: metrics(v) for k, v in exact.items()}
        findings, actions = [], []
        due = ctx.as_of + timedelta(days=14)
        rows = []
        for e in [None, *ctx.entities]:
            key = e.key if e else "consolidated"
            f, m = exact[key], shown[key]
            label = md_escape(e.name) if e else "**All entities**"
            runway = (
                f"{m['runway_months']:.2f} months"
                if m["runway_months"] is not None
                else ("not burning cash")
            )
            rows.append(
                f"| {label} | {money(m['cash'])} | {money(m['revenue_3m'])} | "
                f"{money(m['gross_burn_3m'])} | {money(m['net_burn_3m'])} | {runway} | "
                f"{_pct(m['cm_ratio'])} | {money(m['break_even_revenue'])} | "
                f"{_pct(m['margin_of_safety'])} |"
            )
            if e is None:
                continue
            if f["cash"] < 0:
                findings.append(
                    Finding(
                        severity=Severity.critical,
                        entity=e.key,
                        message=f"{e.name} has a negative cash position of {money(m['cash'])} "
                        f"on {ctx.as_of.isoformat()} (opening cash plus ledger.csv movements)",
                    )
                )
                actions.append(
                    Action(
                        title=f"Fund {e.name}'s negative cash position "
                        f"({money(m['cash'])}) or stop its outflows",
                        owner="cfo",
                        due=due,
                        priority=1,
                        entity=e.key,
                        severity=Severity.critical,
                    )
                )
            runway_v = f["runway_months"]
            if runway_v is not None and runway_v < crit_months:
                findings.append(
                    Finding(
                        severity=Severity.critical,
                        entity=e.key,
                        message=f"{e.name} runway is {m['runway_months']:.2f} months (cash "
                        f"{money(m['cash'])}, net burn {money(m['net_burn_3m'])}/month), under "
                        f"{crit_months} months",
                    )
                )
                actions.append(
                    Action(
                        title=f"Cut {e.name}'s net burn of "
                        f"{money(m['net_burn_3m'])}/month or raise cash: runway "
                        f"{m['runway_months']:.2f} months",
                        owner="cfo",
                        due=due,
                        priority=1,
                        entity=e.key,
                        severity=Severity.critical,
                    )
                )
            elif runway_v is not None and runway_v < warn_months:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} runway is {m['runway_months']:.2f} months, under "
                        f"{warn_months} months",
                    )
                )
                actions.append(
                    Action(
                        title=f"Plan {e.name}'s path to break-even "
                        f"({money(m['break_even_revenue'])}/month revenue)",
                        owner="cfo",
                        due=ctx.as_of + timedelta(days=30),
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
            if f["margin_of_safety"] is not None and f["margin_of_safety"] < 0:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} revenue of {money(f['revenue_3m'] / 3)}/month is below "
                        f"its break-even of {money(m['break_even_revenue'])}/month",
                    )
                )
        table = "\n".join(
            [
                "| Entity | Cash | Revenue (3 mo) | Gross burn/mo | Net burn/mo | Runway | "
                "CM ratio | Break-even/mo | Margin of safety |",
                "|---|---|---|---|---|---|---|---|---|",
                *rows,
            ]
        )
        from execreport import trailing_months

        start, end = trailing_months(ctx.as_of)
        how = (
            f"_How this was computed: cash = opening cash + ledger amounts from the opening "
            f"date through {ctx.as_of.isoformat()}; burn, margin and break-even over the "
            f"trailing 3 months {start.isoformat()} to {end.isoformat()} (METRICS.md, cfo); "
            f"runway critical under {crit_months} months, warning under {warn_months}._"
        )
        sections = [Section(heading="Cash, burn and runway", body=f"{table}\n\n{how}")]
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CFO Financial Review: {ctx.period} burn, runway and break-even",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=shown,
        )


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


@hookimpl
def register_roles(register: Any) -> None:
    register(CFO())
