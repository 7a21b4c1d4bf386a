"""An independent reference implementation of every metric in METRICS.md.

Deliberately simple and slow: the csv module, tomllib and Decimal, one loop per figure.
It never imports execreport or duckdb, so the package's SQL can be checked against it.

Output has the shape of `execreport build --json` metrics:
``{"cfo": {"consolidated": {...}, "<entity key>": {...}}, "accounting": {...}, ...}``.
Money is a string with exactly two places, ratios and months are floats rounded to two
places (ROUND_HALF_UP of the exact value), counts are ints, undefined figures are None.
"""

from __future__ import annotations

import calendar
import csv
import statistics
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

ROLES = ("cfo", "accounting", "ceo", "cto", "cmo")

# The required keys of each role and how each is written (money, ratio or count).
MONEY, RATIO, COUNT = "money", "ratio", "count"
MONTH, FORECAST = "month", "forecast"  # a "YYYY-MM" string or null; a list of 12 months
KEYS: dict[str, dict[str, str]] = {
    "cfo": {
        "cash": MONEY,
        "revenue_3m": MONEY,
        "gross_burn_3m": MONEY,
        "net_burn_3m": MONEY,
        "runway_months": RATIO,
        "cm_ratio": RATIO,
        "break_even_revenue": MONEY,
        "margin_of_safety": RATIO,
        "revenue_3m_ly": MONEY,
        "revenue_yoy": RATIO,
        "recognized_revenue_3m": MONEY,
        "net_burn_12m": MONEY,
        "cash_forecast": FORECAST,
        "cash_out_month": MONTH,
        "funding_need_12m": MONEY,
    },
    "accounting": {
        "duplicate_rows": COUNT,
        "near_duplicate_pairs": COUNT,
        "uncategorized_rows": COUNT,
        "outlier_rows": COUNT,
        "missing_receipt_rows": COUNT,
        "unearned_revenue": MONEY,
        "unearned_revenue_rows": COUNT,
    },
    "ceo": {
        "assets": COUNT,
        "assets_expired": COUNT,
        "assets_expiring_60d": COUNT,
        "kpi_coverage": RATIO,
    },
    "cto": {
        "stack_monthly_cost": MONEY,
        "security_checks": COUNT,
        "security_checks_failed": COUNT,
        "security_score": RATIO,
    },
    "cmo": {
        "channels_absent": COUNT,
        "channels_live": COUNT,
        "email_list": COUNT,
    },
}

UNCATEGORIZED = {"", "uncategorized", "misc", "miscellaneous", "other", "ask my accountant"}
RECEIPT_CATEGORIES = {"travel", "meals", "entertainment", "gifts", "vehicle"}
RECEIPT_THRESHOLD = Decimal("75.00")
SECURITY_TRUE = ("mfa", "tls", "hsts", "backups", "dependency_updates", "logging")
MAIL_TRUE = ("spf", "dkim")
DMARC_PASS = ("quarantine", "reject")
TWO = Decimal("0.01")


# ---------------------------------------------------------------------------- reading


@dataclass
class Row:
    date: date
    amount: Decimal
    account: str
    category: str
    counterparty: str
    service_date: date | None
    receipt: str


@dataclass
class EntityData:
    key: str
    profile: dict[str, Any]
    rows: list[Row]
    kpi_values: list[tuple[date, str]]


def _to_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text) if text else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {k: (v or "") for k, v in row.items() if k is not None}
            for row in csv.DictReader(handle)
        ]


def read_entity(key: str, folder: Path) -> EntityData:
    """Read one entity folder (entity.toml, ledger.csv, kpis.csv)."""
    folder = Path(folder)
    toml_path = folder / "entity.toml"
    profile = tomllib.loads(toml_path.read_text("utf-8")) if toml_path.exists() else {}
    rows = []
    for raw in _read_csv(folder / "ledger.csv"):
        rows.append(
            Row(
                date=date.fromisoformat(raw["date"].strip()),
                amount=Decimal(raw["amount"].strip()),
                account=raw.get("account", ""),
                category=raw.get("category", ""),
                counterparty=raw.get("counterparty", ""),
                service_date=_to_date(raw.get("service_date", "")),
                receipt=raw.get("receipt", ""),
            )
        )
    kpis = [
        (date.fromisoformat(raw["date"].strip()), raw.get("kpi", ""))
        for raw in _read_csv(folder / "kpis.csv")
    ]
    return EntityData(key=key, profile=profile, rows=rows, kpi_values=kpis)


def entities_from_config(config_path: Path) -> list[tuple[str, Path]]:
    """The (key, folder) of each `[entities.<key>]` table, paths relative to the config."""
    config_path = Path(config_path)
    config = tomllib.loads(config_path.read_text("utf-8"))
    out = []
    for key, table in config.get("entities", {}).items():
        folder = Path(table["path"])
        if not folder.is_absolute():
            folder = config_path.parent / folder
        out.append((key, folder))
    return out


# ---------------------------------------------------------------------------- terms


def account_class(account: str) -> int | None:
    """First digit when the account is exactly four ASCII digits, else no class."""
    if len(account) == 4 and all(c in "0123456789" for c in account):
        return int(account[0])
    return None


def normalize_counterparty(text: str) -> str:
    return " ".join(text.lower().split())


def is_expense(row: Row) -> bool:
    return row.amount < 0 and account_class(row.account) in (5, 6, 7)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic clamped to the month's end (like dateutil relativedelta)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def trailing_3_months(as_of: date) -> tuple[date, date]:
    """First and last day of the three complete calendar months ending on or before A."""
    if as_of == month_end(as_of.year, as_of.month):
        last = as_of
    else:
        last = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    first_month = add_months(date(last.year, last.month, 1), -2)
    return first_month, last


def in_audit_window(day: date, as_of: date) -> bool:
    return add_months(as_of, -12) < day <= as_of


# ---------------------------------------------------------------------------- output


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = str(value.quantize(TWO, rounding=ROUND_HALF_UP))
    return "0.00" if text == "-0.00" else text


def ratio(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(value.quantize(TWO, rounding=ROUND_HALF_UP))


def _dec(value: Any, default: str = "0") -> Decimal:
    if value is None:
        return Decimal(default)
    return Decimal(str(value).strip() or default)


# ---------------------------------------------------------------------------- cfo


def entity_cash(entity: EntityData, as_of: date) -> Decimal:
    opening_cash = _dec(entity.profile.get("opening_cash"))
    opening_date = _to_date(entity.profile.get("opening_date"))
    total = opening_cash
    for row in entity.rows:
        if row.date <= as_of and (opening_date is None or opening_date <= row.date):
            total += row.amount
    return total


def cfo_metrics(rows: list[Row], cash: Decimal, as_of: date) -> dict[str, Any]:
    first, last = trailing_3_months(as_of)
    revenue = cogs = opex = Decimal(0)
    for row in rows:
        if not first <= row.date <= last:
            continue
        klass = account_class(row.account)
        if klass == 4:
            revenue += row.amount
        elif klass == 5:
            cogs -= row.amount
        elif klass in (6, 7):
            opex -= row.amount
    with localcontext() as ctx:
        ctx.prec = 60
        gross_burn = (cogs + opex) / 3
        net_burn = (cogs + opex - revenue) / 3
        runway = max(cash, Decimal(0)) / net_burn if net_burn > 0 else None
        cm_ratio = (revenue - cogs) / revenue if revenue > 0 else None
        if cm_ratio is None or cm_ratio <= 0:
            break_even = None
        else:
            break_even = (opex / 3) / cm_ratio
        monthly_revenue = revenue / 3
        if break_even is None or monthly_revenue == 0:
            safety = None
        else:
            safety = (monthly_revenue - break_even) / monthly_revenue
    return {
        "cash": money(cash),
        "revenue_3m": money(revenue),
        "gross_burn_3m": money(gross_burn),
        "net_burn_3m": money(net_burn),
        "runway_months": ratio(runway),
        "cm_ratio": ratio(cm_ratio),
        "break_even_revenue": money(break_even),
        "margin_of_safety": ratio(safety),
    }


# ------------------------------------------------- cfo: prior year, 12-month burn, forecast


def _month_key(day: date) -> tuple[int, int]:
    return (day.year, day.month)


def _shift(ym: tuple[int, int], months: int) -> tuple[int, int]:
    index = ym[0] * 12 + ym[1] - 1 + months
    return (index // 12, index % 12 + 1)


def _label(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def operating(rows: list[Row], ym: tuple[int, int], as_of: date) -> Decimal:
    """revenue - cogs - opex of the rows dated in month `ym` and on or before A."""
    total = Decimal(0)
    for row in rows:
        if _month_key(row.date) == ym and row.date <= as_of:
            if account_class(row.account) in (4, 5, 6, 7):
                total += row.amount  # revenue rows add, cost rows (negative) subtract
    return total


def revenue_in(rows: list[Row], first: tuple[int, int], last: tuple[int, int]) -> Decimal:
    total = Decimal(0)
    for row in rows:
        if first <= _month_key(row.date) <= last and account_class(row.account) == 4:
            total += row.amount
    return total


def cfo_history(rows: list[Row], cash: Decimal, as_of: date) -> dict[str, Any]:
    """The exact new cfo figures of one set of rows (an entity, or all rows)."""
    first_day, last_day = trailing_3_months(as_of)
    last = _month_key(last_day)  # L
    first = _month_key(first_day)
    earliest = min((row.date for row in rows), default=None)
    ly_first, ly_last = _shift(first, -12), _shift(last, -12)
    if earliest is None or earliest > date(ly_first[0], ly_first[1], 1):
        ly = None
    else:
        ly = revenue_in(rows, ly_first, ly_last)
    revenue_3m = revenue_in(rows, first, last)
    with localcontext() as ctx:
        ctx.prec = 60
        yoy = (revenue_3m - ly) / ly if ly is not None and ly > 0 else None
        recognized = Decimal(0)
        for row in rows:
            if account_class(row.account) != 4 or row.date > as_of:
                continue
            when = row.service_date or row.date
            if first_day <= when <= last_day:
                recognized += row.amount
        op12 = sum((operating(rows, _shift(last, -i), as_of) for i in range(12)), Decimal(0))
        net_burn_12m = -op12 / 12
        # the trailing-3 net burn, again from the rows
        net_3 = -sum((operating(rows, _shift(last, -i), as_of) for i in range(3)), Decimal(0)) / 3
        forecast = []
        running = cash
        for k in range(1, 13):
            month = _shift(_month_key(as_of), k)
            source = _shift(month, -12)
            while source > last:
                source = _shift(source, -12)
            if earliest is None or earliest > date(source[0], source[1], 1):
                change = -net_3
            else:
                change = operating(rows, source, as_of)
            running += change
            forecast.append((_label(month), running))
    return {
        "revenue_3m_ly": ly,
        "revenue_yoy": yoy,
        "recognized_revenue_3m": recognized,
        "net_burn_12m": net_burn_12m,
        "forecast": forecast,
    }


def forecast_outcome(cash: Decimal, forecast: list[tuple[str, Decimal]], as_of: date) -> dict:
    """cash_forecast, cash_out_month and funding_need_12m from exact (or cent) values."""
    shown = [(month, money(value)) for month, value in forecast]
    if cash < 0:
        out_month = _label(_month_key(as_of))
    else:
        out_month = next((month for month, value in forecast if value < 0), None)
    lowest = min([cash] + [value for _, value in forecast])
    need = -lowest if lowest < 0 else Decimal(0)
    return {
        "cash_forecast": [{"month": month, "cash": text} for month, text in shown],
        "cash_out_month": out_month,
        "funding_need_12m": need,
    }


def cfo_new_metrics(history: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "revenue_3m_ly": money(history["revenue_3m_ly"]),
        "revenue_yoy": ratio(history["revenue_yoy"]),
        "recognized_revenue_3m": money(history["recognized_revenue_3m"]),
        "net_burn_12m": money(history["net_burn_12m"]),
        "cash_forecast": outcome["cash_forecast"],
        "cash_out_month": outcome["cash_out_month"],
        "funding_need_12m": money(outcome["funding_need_12m"]),
    }


# ---------------------------------------------------------------------------- accounting


def accounting_metrics(rows: list[Row], as_of: date) -> dict[str, Any]:
    window = [row for row in rows if in_audit_window(row.date, as_of)]
    expenses = [row for row in window if is_expense(row)]

    groups: dict[tuple, int] = {}
    for row in expenses:
        key = (row.date, row.amount, normalize_counterparty(row.counterparty))
        groups[key] = groups.get(key, 0) + 1
    duplicate_rows = sum(size - 1 for size in groups.values())

    near_pairs = 0
    for i, a in enumerate(expenses):
        for b in expenses[i + 1 :]:
            if (
                a.amount == b.amount
                and normalize_counterparty(a.counterparty) == normalize_counterparty(b.counterparty)
                and 1 <= abs((a.date - b.date).days) <= 3
            ):
                near_pairs += 1

    uncategorized = sum(
        1
        for row in window
        if row.category.strip().lower() in UNCATEGORIZED or account_class(row.account) is None
    )

    by_category: dict[str, list[Decimal]] = {}
    for row in expenses:
        by_category.setdefault(row.category, []).append(abs(row.amount))
    outliers = 0
    for values in by_category.values():
        if len(values) < 5:
            continue
        median = statistics.median(values)
        mad = statistics.median([abs(x - median) for x in values])
        if mad <= 0:
            continue
        with localcontext() as ctx:
            ctx.prec = 60
            outliers += sum(
                1 for x in values if Decimal("0.6745") * abs(x - median) / mad > Decimal("3.5")
            )

    missing_receipts = sum(
        1
        for row in expenses
        if abs(row.amount) >= RECEIPT_THRESHOLD
        and row.receipt.strip() == ""
        and row.category.strip().lower() in RECEIPT_CATEGORIES
    )

    unearned = [
        row
        for row in rows
        if account_class(row.account) == 4
        and row.service_date is not None
        and row.date <= as_of < row.service_date
    ]
    return {
        "duplicate_rows": duplicate_rows,
        "near_duplicate_pairs": near_pairs,
        "uncategorized_rows": uncategorized,
        "outlier_rows": outliers,
        "missing_receipt_rows": missing_receipts,
        "unearned_revenue": money(sum((row.amount for row in unearned), Decimal(0))),
        "unearned_revenue_rows": len(unearned),
    }


# ---------------------------------------------------------------------------- ceo


def ceo_counts(entity: EntityData, as_of: date) -> dict[str, int]:
    assets = entity.profile.get("assets", [])
    expired = expiring = 0
    for asset in assets:
        expires = _to_date(asset.get("expires"))
        if expires is None:
            continue
        if expires < as_of:
            expired += 1
        elif expires <= as_of + timedelta(days=60):
            expiring += 1
    declared = {k.get("name") for k in entity.profile.get("kpis", [])}
    recent = {kpi for day, kpi in entity.kpi_values if as_of - timedelta(days=29) <= day <= as_of}
    return {
        "assets": len(assets),
        "assets_expired": expired,
        "assets_expiring_60d": expiring,
        "kpis_declared": len(declared),
        "kpis_covered": len(declared & recent),
    }


def ceo_metrics(counts: dict[str, int]) -> dict[str, Any]:
    declared = counts["kpis_declared"]
    coverage = Decimal(counts["kpis_covered"]) / Decimal(declared) if declared else None
    return {
        "assets": counts["assets"],
        "assets_expired": counts["assets_expired"],
        "assets_expiring_60d": counts["assets_expiring_60d"],
        "kpi_coverage": ratio(coverage),
    }


# ---------------------------------------------------------------------------- cto


def cto_counts(entity: EntityData) -> dict[str, Any]:
    stack = entity.profile.get("stack", [])
    cost = sum((_dec(item.get("monthly_cost")) for item in stack), Decimal(0))
    checks = failed = 0
    for item in stack:
        kind = item.get("hosting", "self_hosted")
        applies = {
            "self_hosted": SECURITY_TRUE,
            "managed": [f for f in SECURITY_TRUE if f != "hsts"],
            "saas": ["mfa", "backups", "logging"],
        }[kind]
        results = [item.get(field) is True for field in applies]
        if kind != "saas":
            results.append(item.get("secrets_in_repo") is False)
        if item.get("sends_mail") is True:
            results += [item.get(field) is True for field in MAIL_TRUE]
            results.append(item.get("dmarc") in DMARC_PASS)
        checks += len(results)
        failed += results.count(False)
    return {"cost": cost, "items": len(stack), "checks": checks, "failed": failed}


def cto_metrics(counts: dict[str, Any]) -> dict[str, Any]:
    checks, failed = counts["checks"], counts["failed"]
    score = None
    if counts["items"] and checks:
        score = Decimal(checks - failed) / Decimal(checks)
    return {
        "stack_monthly_cost": money(counts["cost"]),
        "security_checks": checks,
        "security_checks_failed": failed,
        "security_score": ratio(score),
    }


# ---------------------------------------------------------------------------- cmo


def cmo_metrics(entity: EntityData) -> dict[str, Any]:
    channels = entity.profile.get("channels", [])
    email_list = entity.profile.get("audience", {}).get("email_list")
    return {
        "channels_absent": sum(1 for c in channels if c.get("status") == "absent"),
        "channels_live": sum(1 for c in channels if c.get("status") in ("claimed", "optimised")),
        "email_list": None if email_list is None else int(email_list),
    }


# ---------------------------------------------------------------------------- all roles


def compute_metrics(
    entities: Iterable[tuple[str, Path]] | Iterable[EntityData], as_of: date
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every METRICS.md figure for every role, per entity key and consolidated."""
    data = [e if isinstance(e, EntityData) else read_entity(*e) for e in entities]
    out: dict[str, dict[str, dict[str, Any]]] = {role: {} for role in ROLES}

    all_rows = [row for entity in data for row in entity.rows]
    cash = {entity.key: entity_cash(entity, as_of) for entity in data}
    ceo = {entity.key: ceo_counts(entity, as_of) for entity in data}
    cto = {entity.key: cto_counts(entity) for entity in data}
    cmo = {entity.key: cmo_metrics(entity) for entity in data}

    out["cfo"]["consolidated"] = cfo_metrics(all_rows, sum(cash.values(), Decimal(0)), as_of)
    out["accounting"]["consolidated"] = accounting_metrics(all_rows, as_of)
    ceo_keys = ("assets", "assets_expired", "assets_expiring_60d", "kpis_declared", "kpis_covered")
    out["ceo"]["consolidated"] = ceo_metrics({k: sum(c[k] for c in ceo.values()) for k in ceo_keys})
    out["cto"]["consolidated"] = cto_metrics(
        {
            "cost": sum((c["cost"] for c in cto.values()), Decimal(0)),
            "items": sum(c["items"] for c in cto.values()),
            "checks": sum(c["checks"] for c in cto.values()),
            "failed": sum(c["failed"] for c in cto.values()),
        }
    )
    email_lists = [m["email_list"] for m in cmo.values() if m["email_list"] is not None]
    out["cmo"]["consolidated"] = {
        "channels_absent": sum(m["channels_absent"] for m in cmo.values()),
        "channels_live": sum(m["channels_live"] for m in cmo.values()),
        "email_list": sum(email_lists) if email_lists else None,
    }

    # the new cfo figures: each entity's own rows; the holding sums the entities' forecasts
    # (to the cent, month by month) and their funding needs, never netting one against another
    histories = {e.key: cfo_history(e.rows, cash[e.key], as_of) for e in data}
    outcomes = {
        e.key: forecast_outcome(cash[e.key], histories[e.key]["forecast"], as_of) for e in data
    }
    total_cash = sum(cash.values(), Decimal(0))
    summed = []
    for i in range(12):
        month = _label(_shift(_month_key(as_of), i + 1))
        summed.append(
            (
                month,
                sum(
                    (Decimal(o["cash_forecast"][i]["cash"]) for o in outcomes.values()), Decimal(0)
                ),
            )
        )
    whole = forecast_outcome(total_cash, summed, as_of)
    whole["funding_need_12m"] = sum(
        (Decimal(money(o["funding_need_12m"])) for o in outcomes.values()), Decimal(0)
    )
    out["cfo"]["consolidated"].update(
        cfo_new_metrics(cfo_history(all_rows, total_cash, as_of), whole)
    )

    for entity in data:
        out["cfo"][entity.key] = cfo_metrics(entity.rows, cash[entity.key], as_of)
        out["cfo"][entity.key].update(cfo_new_metrics(histories[entity.key], outcomes[entity.key]))
        out["accounting"][entity.key] = accounting_metrics(entity.rows, as_of)
        out["ceo"][entity.key] = ceo_metrics(ceo[entity.key])
        out["cto"][entity.key] = cto_metrics(cto[entity.key])
        out["cmo"][entity.key] = cmo[entity.key]
    return out


def compute_from_config(config_path: Path, as_of: date) -> dict[str, dict[str, dict[str, Any]]]:
    return compute_metrics(entities_from_config(config_path), as_of)


if __name__ == "__main__":  # python tests/reference_metrics.py CONFIG [AS_OF]
    import json
    import sys

    cfg = Path(sys.argv[1])
    if len(sys.argv) > 2:
        when = date.fromisoformat(sys.argv[2])
    else:
        when = _to_date(tomllib.loads(cfg.read_text("utf-8"))["report"]["as_of"])
    print(json.dumps(compute_from_config(cfg, when), indent=2))
