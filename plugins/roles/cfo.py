"""CFO: cash, burn, runway, contribution margin, break-even, revenue targets, capital
deployment (Profit First) and payback of planned investments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

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
# what a figure is, for comparing it with the last report
FigureKind = Literal["money", "months", "ratio", "count"]

# the figures "Changes since the last report" compares, with their kind (the template has
# their words)
KEY_FIGURES: tuple[tuple[str, FigureKind], ...] = (
    ("cash", "money"),
    ("revenue_3m", "money"),
    ("net_burn_3m", "money"),
    ("runway_months", "months"),
    ("cm_ratio", "ratio"),
    ("break_even_revenue", "money"),
    ("margin_of_safety", "ratio"),
)


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
    "revenue_3m_ly",
    "recognized_revenue_3m",
    "net_burn_12m",
    "funding_need_12m",
    "low_point_cash",
    "revenue_deferred_out",
    "revenue_deferred_unearned",
    "revenue_earned_before",
    "revenue_deferred_in",
    "recognized_break_even_revenue",
)
# booked revenue_3m → recognized_revenue_3m: recognized = booked - deferred_out -
# earned_before + deferred_in; deferred_unearned is the part of deferred_out still unearned
# on A (in Accounting's unearned_revenue)
BRIDGE_KEYS = (
    "revenue_deferred_out",
    "revenue_deferred_unearned",
    "revenue_earned_before",
    "revenue_deferred_in",
)
RECOGNIZED_KEYS = ("cm_ratio", "break_even_revenue", "margin_of_safety")
# figures written as they are: a "YYYY-MM" month, or already rounded
PLAIN_KEYS = ("cash_out_month", "low_point_month")


def metrics(exact: dict[str, Any]) -> dict[str, Any]:
    """The METRICS.md figures rounded: money to the cent, ratios and months to two places."""
    from execreport import to_money, to_ratio

    out: dict[str, Any] = {}
    for k, v in exact.items():
        if k == "cash_forecast":
            out[k] = [{"month": month_label(m), "cash": to_money(c)} for m, c in v]
        elif k == "series":
            continue  # the monthly series is for the report text, not the metrics
        elif k in PLAIN_KEYS:
            out[k] = v
        elif k in MONEY_KEYS:
            out[k] = to_money(v)
        else:
            out[k] = to_ratio(v)
    return out


# -- prior year, recognized revenue, 12-month burn and the cash forecast (METRICS.md) ------
SERIES_MONTHS = 24  # the monthly series ends with the last complete month L
FORECAST_MONTHS = 12


@dataclass(frozen=True)
class MonthSums:
    """One calendar month of one scope: revenue, COGS, opex (exact) and month-end cash."""

    month: date  # first day
    revenue: Decimal
    cogs: Decimal
    opex: Decimal
    cash: Decimal | None = None  # month-end cash (entities and the holding); None: not known

    @property
    def operating(self) -> Decimal:
        return self.revenue - self.cogs - self.opex


def last_complete_month(as_of: date) -> date:
    """L: the first day of the latest calendar month ending on or before `as_of`."""
    from execreport import trailing_months

    return trailing_months(as_of)[1].replace(day=1)


def forecast_months(as_of: date) -> list[tuple[date, date]]:
    """(forecast month F, source month R) for the 12 months after `as_of`'s month: R is the
    latest month with F's month number on or before L."""
    from execreport import add_months

    last = last_complete_month(as_of)
    out = []
    for k in range(1, FORECAST_MONTHS + 1):
        f = add_months(month_start(as_of), k)
        r = add_months(f, -12)
        if r > last:
            r = add_months(f, -24)
        out.append((f, r))
    return out


def monthly_series(ctx: Any) -> dict[str, list[MonthSums]]:
    """Per entity and `consolidated`: the 24 calendar months ending with L, dense (a month
    without rows is zeros), with month-end cash. One DuckDB query."""
    from execreport import add_months

    last = last_complete_month(ctx.as_of)
    first = add_months(last, -(SERIES_MONTHS - 1))
    end = add_months(last, 1) - timedelta(days=1)
    openings = [
        (e.key, e.finance.opening_date or date.min, e.finance.opening_cash) for e in ctx.entities
    ]
    keys = [k for k, _, _ in openings]
    if not keys:
        return {"consolidated": []}
    values = ", ".join("(?, ?::DATE, ?::DECIMAL(38,2))" for _ in openings)
    params: list[Any] = [p for row in openings for p in row]
    rows = ctx.ledger.sql(
        f"""
        WITH open(entity, opening_date, opening_cash) AS (VALUES {values}),
        months AS (
            SELECT (DATE '{first.isoformat()}' + INTERVAL (i) MONTH)::DATE AS m
            FROM range(0, {SERIES_MONTHS}) t(i)
        ),
        flows AS (
            SELECT l.entity, date_trunc('month', l.date)::DATE AS m,
                   coalesce(sum(l.amount) FILTER (WHERE {CLASS.replace("account", "l.account")}
                       = '4'), 0) AS revenue,
                   coalesce(-sum(l.amount) FILTER (WHERE {CLASS.replace("account", "l.account")}
                       = '5'), 0) AS cogs,
                   coalesce(-sum(l.amount) FILTER (WHERE {CLASS.replace("account", "l.account")}
                       IN ('6', '7')), 0) AS opex,
                   coalesce(sum(l.amount) FILTER (WHERE l.date >= o.opening_date), 0) AS moved
            FROM ledger l JOIN open o USING (entity)
            WHERE l.date <= ?
            GROUP BY ALL
        ),
        dense AS (
            SELECT o.entity, months.m,
                   coalesce(f.revenue, 0) AS revenue, coalesce(f.cogs, 0) AS cogs,
                   coalesce(f.opex, 0) AS opex,
                   o.opening_cash + (SELECT coalesce(sum(p.moved), 0) FROM flows p
                                     WHERE p.entity = o.entity AND p.m <= months.m) AS cash
            FROM open o CROSS JOIN months
            LEFT JOIN flows f ON f.entity = o.entity AND f.m = months.m
        )
        SELECT coalesce(entity, 'consolidated'), m, sum(revenue), sum(cogs), sum(opex),
               sum(cash)
        FROM dense
        GROUP BY GROUPING SETS ((entity, m), (m))
        ORDER BY 1, 2
        """,
        [*params, end],
    )
    out: dict[str, list[MonthSums]] = {k: [] for k in ["consolidated", *keys]}
    for scope, m, revenue, cogs, opex, cash in rows:
        out[scope].append(MonthSums(m, revenue, cogs, opex, cash))
    return out


def prior_year_figures(ctx: Any) -> dict[str, dict[str, Any]]:
    """Per entity and `consolidated`: the earliest row date and the revenue recognized in the
    trailing 3 months (one DuckDB query), and each entity's forecast changes: for month k
    of the forecast, the sum of operating(R) over the months 1..k that have data and the
    number of months 1..k that fall back to the trailing-3 average (one DuckDB query)."""
    from execreport import trailing_months

    start, end = trailing_months(ctx.as_of)
    rows = ctx.ledger.sql(
        f"""
        SELECT coalesce(entity, 'consolidated'), min(date),
               coalesce(sum(amount) FILTER (WHERE {CLASS} = '4' AND date <= ?
                   AND coalesce(service_date, date) BETWEEN ? AND ?), 0)
        FROM ledger
        GROUP BY GROUPING SETS ((entity), ())
        """,
        [ctx.as_of, start, end],
    )
    out: dict[str, dict[str, Any]] = {
        k: {"earliest": None, "recognized": Decimal(0), "forecast": []}
        for k in ["consolidated", *(e.key for e in ctx.entities)]
    }
    for scope, earliest, recognized in rows:
        if scope in out:
            out[scope].update(earliest=earliest, recognized=recognized)
    months = forecast_months(ctx.as_of)
    keys = [e.key for e in ctx.entities]
    if not keys:
        return out
    fvalues = ", ".join("(?, ?::DATE, ?::DATE)" for _ in months)
    evalues = ", ".join("(?)" for _ in keys)
    params: list[Any] = [p for k, (f, r) in enumerate(months, 1) for p in (k, f, r)]
    rows = ctx.ledger.sql(
        f"""
        WITH fc(k, f, r) AS (VALUES {fvalues}),
        ents(entity) AS (VALUES {evalues}),
        first_row AS (SELECT entity, min(date) AS earliest FROM ledger GROUP BY entity),
        op AS (
            SELECT entity, date_trunc('month', date)::DATE AS m,
                   coalesce(sum(amount) FILTER (WHERE {CLASS} = '4'), 0)
                   + coalesce(sum(amount) FILTER (WHERE {CLASS} IN ('5', '6', '7')), 0)
                   AS operating
            FROM ledger
            WHERE date <= ? AND date >= (SELECT min(r) FROM fc)
            GROUP BY ALL
        ),
        changes AS (
            SELECT e.entity, fc.k, fc.f,
                   CASE WHEN fr.earliest <= fc.r THEN coalesce(op.operating, 0) END AS change
            FROM ents e CROSS JOIN fc
            LEFT JOIN first_row fr ON fr.entity = e.entity
            LEFT JOIN op ON op.entity = e.entity AND op.m = fc.r
        )
        SELECT entity, k, f,
               coalesce(sum(change) OVER w, 0),
               count(*) FILTER (WHERE change IS NULL) OVER w
        FROM changes
        WINDOW w AS (PARTITION BY entity ORDER BY k ROWS UNBOUNDED PRECEDING)
        ORDER BY entity, k
        """,
        [*params, *keys, ctx.as_of],
    )
    for entity, _k, f, data_sum, fallbacks in rows:
        out[entity]["forecast"].append((f, data_sum, int(fallbacks)))
    return out


def forecast_figures(
    cash: Decimal, net_burn_3m: Decimal, parts: list[tuple[date, Decimal, int]], as_of: date
) -> dict[str, Any]:
    """`cash_forecast`, `cash_out_month`, `funding_need_12m` and the low point of one entity,
    from its cash, trailing-3 net burn and `prior_year_figures` forecast parts."""
    forecast = [(f, cash + data_sum - fallbacks * net_burn_3m) for f, data_sum, fallbacks in parts]
    return forecast_summary(cash, forecast, as_of)


def forecast_summary(
    cash: Decimal, forecast: list[tuple[date, Decimal]], as_of: date
) -> dict[str, Any]:
    """cash_out_month, funding_need_12m and the low point of a forecast."""
    if cash < 0:
        out_month: str | None = month_label(as_of)
    else:
        out_month = next((month_label(f) for f, c in forecast if c < 0), None)
    low_month, low_cash = min(forecast, key=lambda fc: fc[1]) if forecast else (None, cash)
    return {
        "cash_forecast": forecast,
        "cash_out_month": out_month,
        "funding_need_12m": max(Decimal(0), -min([cash, *(c for _, c in forecast)])),
        "low_point_month": month_label(low_month) if low_month else None,
        "low_point_cash": low_cash,
    }


def history_figures(
    exact: dict[str, Any],
    series: list[MonthSums],
    earliest: date | None,
    recognized: Decimal,
    as_of: date,
) -> dict[str, Any]:
    """revenue_3m_ly, revenue_yoy, recognized_revenue_3m and net_burn_12m of one scope."""
    from execreport import add_months, trailing_months

    start, _ = trailing_months(as_of)
    last = last_complete_month(as_of)
    ly_first, ly_last = add_months(start, -12), add_months(last, -12)
    if earliest is None or earliest > ly_first:
        ly = None
    else:
        ly = sum((s.revenue for s in series if ly_first <= s.month <= ly_last), Decimal(0))
    yoy = (exact["revenue_3m"] - ly) / ly if ly is not None and ly > 0 else None
    twelve = add_months(last, -11)
    op12 = sum((s.operating for s in series if twelve <= s.month <= last), Decimal(0))
    return {
        "revenue_3m_ly": ly,
        "revenue_yoy": yoy,
        "recognized_revenue_3m": recognized,
        "net_burn_12m": -op12 / 12,
        "series": series,
    }


def revenue_bridge(ctx: Any) -> dict[str, dict[str, Decimal]]:
    """Per entity and `consolidated`, the 4xxx rows dated on or before A that are booked in
    the trailing 3 months or recognized in them, split by where they are booked and where
    they are recognized (`service_date`, else `date`). One DuckDB query."""
    from execreport import trailing_months

    start, end = trailing_months(ctx.as_of)
    rows = ctx.ledger.sql(
        f"""
        SELECT coalesce(entity, 'consolidated'),
          coalesce(sum(amount) FILTER (WHERE d BETWEEN $s AND $e AND r > $e), 0),
          coalesce(sum(amount) FILTER (WHERE d BETWEEN $s AND $e AND r > $a), 0),
          coalesce(sum(amount) FILTER (WHERE d BETWEEN $s AND $e AND r < $s), 0),
          coalesce(sum(amount) FILTER (WHERE NOT (d BETWEEN $s AND $e)
                                         AND r BETWEEN $s AND $e), 0)
        FROM (SELECT entity, date AS d, amount, coalesce(service_date, date) AS r
              FROM ledger WHERE {CLASS} = '4' AND date <= $a)
        GROUP BY GROUPING SETS ((entity), ())
        """,
        {"s": start, "e": end, "a": ctx.as_of},
    )
    out = {}
    for scope, *values in rows:
        out[scope] = dict(zip(BRIDGE_KEYS, values, strict=True))
    return out


def recognized_margin(f: dict[str, Any]) -> dict[str, Any]:
    """cm_ratio, break-even and margin of safety with recognized revenue in place of booked."""
    revenue, cogs, opex = f["recognized_revenue_3m"], f["cogs_3m"], f["opex_3m"]
    cm = (revenue - cogs) / revenue if revenue > 0 else None
    be = (opex / 3) / cm if cm is not None and cm > 0 else None
    monthly = revenue / 3
    mos = (monthly - be) / monthly if be is not None and monthly != 0 else None
    return {
        "recognized_cm_ratio": cm,
        "recognized_break_even_revenue": be,
        "recognized_margin_of_safety": mos,
    }


def compute(ctx: Any) -> dict[str, dict[str, Any]]:
    """Exact figures per entity key and `consolidated`."""
    from execreport import to_money

    sums = window_sums(ctx.ledger, ctx.as_of)
    cash = cash_by_entity(ctx)
    zero = {"revenue": Decimal(0), "cogs": Decimal(0), "opex": Decimal(0)}
    out = {"consolidated": figures(sum(cash.values(), Decimal(0)), sums["consolidated"])}
    for e in ctx.entities:
        out[e.key] = figures(cash[e.key], sums.get(e.key, zero))
    series = monthly_series(ctx)
    extra = prior_year_figures(ctx)
    for scope, f in out.items():
        x = extra[scope]
        f.update(
            history_figures(f, series.get(scope, []), x["earliest"], x["recognized"], ctx.as_of)
        )
    bridge = revenue_bridge(ctx)
    for scope, f in out.items():
        f.update(bridge.get(scope, dict.fromkeys(BRIDGE_KEYS, Decimal(0))))
        f.update(recognized_margin(f))
    for e in ctx.entities:
        f = out[e.key]
        f.update(forecast_figures(f["cash"], f["net_burn_3m"], extra[e.key]["forecast"], ctx.as_of))
    # the holding: the sum of the entities' forecasts (as rounded) and of their funding needs
    months = [m for m, _ in forecast_months(ctx.as_of)]
    total = [
        (m, sum((to_money(out[e.key]["cash_forecast"][i][1]) for e in ctx.entities), Decimal(0)))
        for i, m in enumerate(months)
    ]
    c = out["consolidated"]
    c.update(forecast_summary(c["cash"], total, ctx.as_of))
    c["funding_need_12m"] = sum(
        (to_money(out[e.key]["funding_need_12m"]) for e in ctx.entities), Decimal(0)
    )
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


@dataclass(frozen=True)
class FigureChange:
    """One key figure of a scope, in the last report and now (both as rounded in the
    metrics; None where the figure was n/a)."""

    figure: str  # the metrics key, such as `runway_months`
    kind: FigureKind
    before: Decimal | None
    after: Decimal | None

    @property
    def direction(self) -> Literal["up", "down"] | None:
        """`up` or `down`; None for a count, when either side is n/a, or when it did not
        move."""
        if self.before is None or self.after is None or self.kind == "count":
            return None
        if self.after == self.before:
            return None
        return "up" if self.after > self.before else "down"

    @property
    def size(self) -> Decimal | None:
        """How much it moved (never negative); None when either side is n/a."""
        if self.before is None or self.after is None:
            return None
        return abs(self.after - self.before)


@dataclass(frozen=True)
class ScopeChanges:
    """What changed for one scope (an entity, or the consolidated holding)."""

    key: str  # the metrics key: an entity key or `consolidated`
    name: str  # the entity's name; "" for the consolidated holding
    consolidated: bool
    new: bool  # the scope is not in the last report at all
    figures: tuple[FigureChange, ...]  # the figures that changed, in the order compared


@dataclass(frozen=True)
class Changes:
    """Key figures against the last archived report: only the scopes that are new or have a
    changed figure (none at all: no key figure changed, though other metrics did)."""

    scopes: tuple[ScopeChanges, ...]
    compared: tuple[str, ...]  # the metrics keys compared, in order


def _comparable(m: dict[str, Any]) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(m)


def figure_changes(
    previous: Any,
    metrics_now: dict[str, dict[str, Any]],
    key_figures: Iterable[tuple[str, FigureKind]],
    scopes: Iterable[tuple[str, str]],
) -> Changes | None:
    """previous.metrics → `metrics_now` for `key_figures` ((metrics key, kind)) in each of
    `scopes` ((metrics key, entity name, "" for `consolidated`)). None without a previous
    report, or when no metric at all changed."""
    if previous is None:
        return None
    old = previous.metrics or {}
    if _comparable(old) == _comparable(metrics_now):
        return None
    key_figures = list(key_figures)
    out: list[ScopeChanges] = []
    for scope, name in scopes:
        before, after = old.get(scope), metrics_now.get(scope, {})
        consolidated = scope == "consolidated"
        if before is None:
            out.append(ScopeChanges(scope, name, consolidated, True, ()))
            continue
        changed = []
        for key, kind in key_figures:
            if key in after and key in before:
                change = FigureChange(key, kind, _number(before[key]), _number(after[key]))
                if change.before != change.after:
                    changed.append(change)
        if changed:
            out.append(ScopeChanges(scope, name, consolidated, False, tuple(changed)))
    return Changes(scopes=tuple(out), compared=tuple(key for key, _ in key_figures))


# -- the report ---------------------------------------------------------------------------
# number formatting, also given to the template
def pct(value: Any) -> str:
    """A ratio as a whole percentage: `70%`; `n/a` for None."""
    return "n/a" if value is None else f"{value * 100:.0f}%"


def pct1(value: Any) -> str:
    """A ratio as a percentage to one place: `16.5%`; `n/a` for None."""
    from decimal import ROUND_HALF_UP

    if value is None:
        return "n/a"
    return f"{(Decimal(value) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def points(value: Any) -> str:
    """A change of a ratio in percentage points: `5 points`."""
    return "n/a" if value is None else f"{value * 100:.0f} points"


def months(value: Any) -> str:
    """A number of months to two places: `4.79 months`; `n/a` for None."""
    return "n/a" if value is None else f"{value:.2f} months"


def plain(value: Decimal) -> str:
    """A configured number without trailing zeros or exponent: `5`, `12.5`."""
    return f"{value.normalize():f}"


RunwayBand = Literal["negative_cash", "critical", "warning", "ok"]
PlanState = Literal["no_break_even", "at_target", "growing"]


@dataclass(frozen=True)
class ScopeView:
    """The figures of one row of the CFO tables: an entity, or the consolidated holding.
    Money rounded to the cent and ratios/months to two places, as in the metrics."""

    key: str  # an entity key, or `consolidated`
    name: str  # the entity's name; "" for the consolidated holding
    consolidated: bool
    cash: Decimal
    revenue_3m: Decimal
    gross_burn: Decimal  # a month: (COGS + opex) / 3
    net_burn: Decimal  # a month: (COGS + opex - revenue) / 3
    runway_months: float | None  # None: not burning cash
    band: RunwayBand
    revenue_monthly: Decimal
    contribution_monthly: Decimal
    cm_ratio: float | None
    fixed_costs_monthly: Decimal
    break_even: Decimal | None  # break-even revenue a month; None: no revenue breaks even
    below_break_even: bool  # the monthly revenue is under break-even (exact figures)
    break_even_gap: Decimal | None  # how far from break-even the revenue is (never negative)
    margin_of_safety: float | None
    plan: RevenuePlan  # the target path (exact figures)
    plan_state: PlanState  # no path; at (or above) the target already; growing toward it
    allocation: dict[str, Decimal]  # Profit First bucket → money a month
    over_opex: bool  # gross burn is more than the OpEx share
    opex_gap: Decimal  # how far gross burn is from the OpEx share (never negative)
    # prior year, recognized revenue, 12-month burn and the seasonal forecast (as rounded)
    revenue_3m_ly: Decimal | None = None  # None: no data a year back
    revenue_yoy: float | None = None
    revenue_yoy_exact: Decimal | None = None  # for a percentage to one place
    recognized_revenue_3m: Decimal | None = None
    net_burn_12m: Decimal | None = None
    cash_out_month: str | None = None  # "YYYY-MM"; None: cash stays positive
    funding_need: Decimal | None = None
    low_point_cash: Decimal | None = None
    low_point_month: str | None = None
    forecast_end: str | None = None  # the last month of the forecast
    trailing_band: RunwayBand = "ok"  # the band the trailing-3 runway alone would give
    bridge: dict[str, Decimal] | None = None  # booked → recognized revenue
    recognized: dict[str, Any] | None = None  # margin figures on recognized revenue


@dataclass(frozen=True)
class PathRow:
    """One month of the target path: each scope's target revenue, in `scopes` order (None for
    a scope without a path)."""

    month: date
    revenue: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class InvestmentView:
    """A planned investment ([[roles.cfo.investments]]) next to its entity's figures."""

    name: str
    entity: str  # the entity key
    entity_name: str
    amount: Decimal
    monthly_return: Decimal
    payback_months: float | None  # None: it never pays back
    runway_months: float | None  # the entity's; None: not burning cash
    cash: Decimal  # the entity's


def runway_band(exact: dict[str, Any], critical: Decimal, warning: Decimal) -> RunwayBand:
    """The runway band of a scope's exact figures."""
    if exact["cash"] < 0:
        return "negative_cash"
    runway = exact["runway_months"]
    if runway is None:
        return "ok"
    if runway < critical:
        return "critical"
    if runway < warning:
        return "warning"
    return "ok"


def on_recognized(exact: dict[str, Any]) -> dict[str, Any]:
    """A scope's exact figures with recognized revenue in place of booked revenue, for the
    margins, break-even and the plan."""
    return {
        **exact,
        "revenue_3m": exact["recognized_revenue_3m"],
        "cm_ratio": exact["recognized_cm_ratio"],
        "break_even_revenue": exact["recognized_break_even_revenue"],
        "margin_of_safety": exact["recognized_margin_of_safety"],
    }


def recognized_view(exact: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """The margin table row on recognized revenue: the figures as rounded, and the gap to
    break-even from the exact ones."""
    from execreport import to_money

    revenue = exact["recognized_revenue_3m"]
    be = exact["recognized_break_even_revenue"]
    diff = None if be is None else be - revenue / 3
    return {
        "revenue_monthly": to_money(revenue / 3),
        "contribution_monthly": to_money((revenue - exact["cogs_3m"]) / 3),
        **{k: shown[f"recognized_{k}"] for k in RECOGNIZED_KEYS},
        "below_break_even": diff is not None and diff > 0,
        "break_even_gap": None if diff is None else to_money(abs(diff)),
    }


def scope_view(
    key: str,
    name: str,
    exact: dict[str, Any],
    shown: dict[str, Any],
    plan: RevenuePlan,
    critical: Decimal,
    warning: Decimal,
    as_of: date | None = None,
) -> ScopeView:
    """The table row of one scope from its exact and rounded figures and its target path."""
    if exact["break_even_revenue"] is None:
        below, gap = False, None
    else:
        diff = exact["break_even_revenue"] - exact["revenue_3m"] / 3
        below, gap = diff > 0, abs(diff)
    if plan.status == "no_break_even":
        state: PlanState = "no_break_even"
    elif plan.status == "above" and plan.current >= (plan.target or 0):
        state = "at_target"
    else:
        state = "growing"
    over = shown["gross_burn_3m"] - shown["allocation"]["opex"]
    return ScopeView(
        key=key,
        name=name,
        consolidated=key == "consolidated",
        cash=shown["cash"],
        revenue_3m=shown["revenue_3m"],
        gross_burn=shown["gross_burn_3m"],
        net_burn=shown["net_burn_3m"],
        runway_months=shown["runway_months"],
        band=(
            runway_band(exact, critical, warning)
            if as_of is None or "cash_out_month" not in exact
            else forecast_band(exact, as_of, critical, warning)
        ),
        revenue_monthly=shown["revenue_monthly"],
        contribution_monthly=shown["contribution_monthly"],
        cm_ratio=shown["cm_ratio"],
        fixed_costs_monthly=shown["fixed_costs_monthly"],
        break_even=shown["break_even_revenue"],
        below_break_even=below,
        break_even_gap=gap,
        margin_of_safety=shown["margin_of_safety"],
        plan=plan,
        plan_state=state,
        allocation=dict(shown["allocation"]),
        over_opex=over > 0,
        opex_gap=abs(over),
        revenue_3m_ly=shown.get("revenue_3m_ly"),
        revenue_yoy=shown.get("revenue_yoy"),
        revenue_yoy_exact=exact.get("revenue_yoy"),
        recognized_revenue_3m=shown.get("recognized_revenue_3m"),
        net_burn_12m=shown.get("net_burn_12m"),
        cash_out_month=shown.get("cash_out_month"),
        funding_need=shown.get("funding_need_12m"),
        low_point_cash=shown.get("low_point_cash"),
        low_point_month=shown.get("low_point_month"),
        forecast_end=(shown.get("cash_forecast") or [{"month": None}])[-1]["month"],
        trailing_band=runway_band(exact, critical, warning),
        bridge={k: shown[k] for k in BRIDGE_KEYS} if BRIDGE_KEYS[0] in shown else None,
        recognized=recognized_view(exact, shown) if "recognized_cm_ratio" in shown else None,
    )


def months_until(month_label_text: str, as_of: date) -> int:
    """How many months after `as_of`'s month a "YYYY-MM" month is (0: A's month)."""
    year, month = (int(x) for x in month_label_text.split("-"))
    return (year * 12 + month) - (as_of.year * 12 + as_of.month)


def forecast_band(
    exact: dict[str, Any], as_of: date, critical: Decimal, warning: Decimal
) -> RunwayBand:
    """The band from the seasonal forecast: negative cash; critical when cash runs out within
    `critical` months of A's month, warning within `warning`; else ok."""
    if exact["cash"] < 0:
        return "negative_cash"
    out = exact.get("cash_out_month")
    if out is None:
        return "ok"
    k = months_until(out, as_of)
    if k <= critical:
        return "critical"
    if k <= warning:
        return "warning"
    return "ok"


def seasonal_words(shown: dict[str, Any], as_of: date) -> str:
    """`seasonal forecast: cash stays positive through 2026-03, low point $X in 2026-01`."""
    from execreport import money

    forecast = shown.get("cash_forecast") or []
    low = f"low point {money(shown['low_point_cash'])} in {shown['low_point_month']}"
    if shown["cash_out_month"] is None:
        through = forecast[-1]["month"] if forecast else month_label(as_of)
        return f"seasonal forecast: cash stays positive through {through}, {low}"
    return f"seasonal forecast: cash runs out in {shown['cash_out_month']}, {low}"


class CFO:
    name = "cfo"
    title = "CFO Financial Review"
    priority = 10
    settings_defaults = DEFAULTS  # every key of [roles.cfo], checked at load
    template_folder = Path(__file__).parent / "templates"
    template_variables = {
        "scopes": 'the consolidated holding, then each entity: `key`, `name` ("" for the '
        "holding), `consolidated`, `cash`, `revenue_3m`, `gross_burn`, `net_burn` (a month), "
        "`runway_months` (none: not burning cash), `band` (negative_cash, critical, warning, "
        "ok), `revenue_monthly`, `contribution_monthly`, `cm_ratio`, `fixed_costs_monthly`, "
        "`break_even` (none: no break-even), `below_break_even`, `break_even_gap`, "
        "`margin_of_safety`, `plan` (`current`, `target`, `break_even`, `status`, "
        "`break_even_month`, `target_month`, `monthly_step`), `plan_state` (no_break_even, "
        "at_target, growing), `allocation` (bucket → money a month), `over_opex`, `opex_gap`",
        "path": "the target path, a row a month: `month` (a date), `revenue` (one per scope, "
        "in `scopes` order; none without a path)",
        "investments": "the planned investments: `name`, `entity`, `entity_name`, `amount`, "
        "`monthly_return`, `payback_months` (none: never), `runway_months`, `cash`",
        "changes": "against the last report (none without one, or when no metric changed): "
        "`scopes` (`key`, `name`, `consolidated`, `new`, `figures`: `figure`, `kind`, `before`, "
        "`after`, `direction` up/down/none, `size`), `compared` (the figure keys)",
        "start": "the first day of the trailing 3 months (a date)",
        "end": "the last day of the trailing 3 months (a date)",
        "runway_critical_months": "`[roles.cfo] runway_critical_months` (a number)",
        "runway_warning_months": "`[roles.cfo] runway_warning_months` (a number)",
        "plan": "the target path settings: `target_month` (a date), `target_monthly_profit`",
        "allocation_percent": "the Profit First percentages: `profit`, `owner_pay`, `tax`, "
        "`opex` (numbers)",
        "pct": "`pct(ratio)`: `70%`, `n/a` for none",
        "pct1": "`pct1(ratio)`: `16.5%`, `n/a` for none",
        "points": "`points(ratio)`: `5 points`",
        "months": "`months(value)`: `4.79 months`, `n/a` for none",
        "plain": "`plain(number)`: a number without trailing zeros, `5`, `12.5`",
        "month_label": "`month_label(date)`: `2026-12`",
    }

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Severity,
            money,
            render_template,
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
        # margins, break-even and the plan use recognized revenue (one revenue truth with
        # Accounting's deferred revenue); the METRICS.md figures on booked revenue stay
        plans = revenue_plans({k: on_recognized(f) for k, f in exact.items()}, ctx.as_of, plan)
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

        for scope, m in shown.items():  # the band from the seasonal forecast, for the CEO
            m["runway_band"] = forecast_band(exact[scope], ctx.as_of, crit_months, warn_months)
        start, end = trailing_months(ctx.as_of)
        window = f"ledger.csv rows {start.isoformat()} to {end.isoformat()}"
        # (metrics key, entity name): the consolidated holding first, then each entity
        scopes = [("consolidated", "")] + [(e.key, e.name) for e in ctx.entities]
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
                        f"{money(e.finance.opening_cash)} plus ledger.csv movements); {burn}; "
                        f"{seasonal_words(m, ctx.as_of)}; funding need "
                        f"{money(m['funding_need_12m'])}",
                        amount=m["funding_need_12m"],
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
            band = forecast_band(f, ctx.as_of, crit_months, warn_months)
            trailing = (
                f"trailing 3 months: runway {months(m['runway_months'])}"
                if m["runway_months"] is not None
                else "trailing 3 months: not burning cash"
            )
            seasonal = seasonal_words(m, ctx.as_of)
            if f["cash"] >= 0 and band in ("critical", "warning"):
                limit = crit_months if band == "critical" else warn_months
                findings.append(
                    Finding(
                        severity=Severity(band),
                        entity=e.key,
                        message=f"{e.name} runs out of cash in {m['cash_out_month']}, within "
                        f"{plain(limit)} months: {trailing} ({burn}); {seasonal}; funding "
                        f"need {money(m['funding_need_12m'])}",
                        amount=m["funding_need_12m"],
                    )
                )
                if band == "critical":
                    actions.append(
                        Action(
                            title=f"Raise {money(m['funding_need_12m'])} for {e.name} or cut "
                            f"its burn before {m['cash_out_month']} (runway: seasonal forecast)",
                            owner="cfo",
                            due=due("critical"),
                            priority=1,
                            entity=e.key,
                            severity=Severity.critical,
                            topic=f"cfo:funding:{e.key}",
                        )
                    )
            elif (
                f["cash"] >= 0
                and f["runway_months"] is not None
                and f["runway_months"] < warn_months
            ):
                # the trailing quarter alone would raise the alarm; the seasonal forecast
                # says the cash holds: not a warning, but both views are stated
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=e.key,
                        message=f"{e.name}: {trailing} ({burn}); {seasonal}; over 12 months "
                        f"the net burn is {money(m['net_burn_12m'])}/month",
                    )
                )
            if f["revenue_yoy"] is not None and f["revenue_yoy"] < 0:
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} revenue fell {pct1(-f['revenue_yoy'])} on the year: "
                        f"{money(m['revenue_3m'])} over {start.isoformat()} to "
                        f"{end.isoformat()} against {money(m['revenue_3m_ly'])} a year "
                        "earlier",
                        amount=m["revenue_3m_ly"] - m["revenue_3m"],
                    )
                )
            if p.status == "on_path":
                findings.append(
                    Finding(
                        severity=Severity.warning,
                        entity=e.key,
                        message=f"{e.name} recognized revenue of "
                        f"{money(to_money(f['recognized_revenue_3m'] / 3))}/month is below its "
                        f"break-even of {money(m['recognized_break_even_revenue'])}/month "
                        f"(margin of safety {pct(m['recognized_margin_of_safety'])}, {window})",
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
                        f"{pct(m['cm_ratio'])}: cost of goods sold exceeds revenue over "
                        f"{window}, so no revenue level breaks even",
                    )
                )
                actions.append(
                    Action(
                        title=f"Reprice or cut {e.name}'s cost of goods sold: contribution "
                        f"margin {pct(m['cm_ratio'])}",
                        owner="cfo",
                        due=due("warning"),
                        priority=2,
                        entity=e.key,
                        severity=Severity.warning,
                    )
                )
        needs = [(e, shown[e.key]["funding_need_12m"]) for e in ctx.entities]
        short = [(e, n) for e, n in needs if n > 0]
        if short:
            total_need = shown["consolidated"]["funding_need_12m"]
            findings.append(
                Finding(
                    severity=Severity.critical
                    if any(exact[e.key]["cash"] < 0 for e, _ in short)
                    or any(
                        forecast_band(exact[e.key], ctx.as_of, crit_months, warn_months)
                        == "critical"
                        for e, _ in short
                    )
                    else Severity.warning,
                    entity=None,
                    message=f"The businesses need {money(total_need)} over the next 12 months, "
                    "the sum of "
                    + ", ".join(f"{e.name} {money(n)}" for e, n in short)
                    + "; no business's cash is counted against another's shortfall",
                    amount=total_need,
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
                        f"{months(to_ratio(payback))}, after the runway of "
                        f"{months(m['runway_months'])} ends",
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

        # -- what the template shows
        names = {e.key: e.name for e in ctx.entities}
        views = [
            scope_view(
                key, name, exact[key], shown[key], plans[key], crit_months, warn_months, ctx.as_of
            )
            for key, name in scopes
        ]
        path = [
            PathRow(
                month=month,
                revenue=tuple(
                    plans[key].months[i][1] if plans[key].months else None for key, _ in scopes
                ),
            )
            for i, month in enumerate(path_months(ctx.as_of))
        ]
        planned = [
            InvestmentView(
                name=inv.name,
                entity=inv.entity,
                entity_name=names[inv.entity],
                amount=inv.amount,
                monthly_return=inv.monthly_return,
                payback_months=to_ratio(inv.payback_months),
                runway_months=shown[inv.entity]["runway_months"],
                cash=shown[inv.entity]["cash"],
            )
            for inv in investments
        ]
        out = render_template(
            ctx,
            self,
            {
                "scopes": views,
                "path": path,
                "investments": planned,
                "changes": figure_changes(ctx.previous, shown, KEY_FIGURES, scopes),
                "start": start,
                "end": end,
                "runway_critical_months": crit_months,
                "runway_warning_months": warn_months,
                "plan": plan,
                "allocation_percent": allocation,
                "pct": pct,
                "pct1": pct1,
                "points": points,
                "months": months,
                "plain": plain,
                "month_label": month_label,
            },
        )
        return Report(
            role=self.name,
            title=self.title,
            subject=out.subject,
            sections=out.sections,
            findings=findings,
            actions=actions,
            metrics=shown,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CFO())
