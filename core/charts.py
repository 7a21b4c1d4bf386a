"""Charts in the email: PNGs drawn on the server (matplotlib, Agg), shown inline by `cid:`.

A role's template places a chart with `{{ chart("cfo_cash") }}`: that prints a Markdown
image `![chart:cfo_cash](cid:chart-cfo_cash.png)` where it stands, so a user's template
can move or drop it. Once the report is built, `attach()` computes each requested chart's
data from the report's metrics, the ledger and the entities (`KINDS` below), puts its alt
text (which states the key number) in the image, and records the chart on the report
(`report.charts`). `png()` draws it; the same data gives the same bytes (no timestamp in
the PNG, the DejaVu Sans font shipped with matplotlib), so an unchanged report keeps its
content hash and version.

matplotlib is imported only in `png()`: building the Markdown needs no matplotlib.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

PLACEHOLDER = re.compile(r"!\[chart:([a-z0-9_]+)\]\(cid:chart-\1\.png\)")
WIDTH_PX = 600  # every chart fits a 600 px wide email column
DPI = 100


def cid(kind: str) -> str:
    return f"chart-{kind}.png"


def placeholder(kind: str) -> str:
    return f"![chart:{kind}](cid:{cid(kind)})"


def _f(value: Any) -> float:
    return float(Decimal(str(value))) if value is not None else 0.0


def _money(value: float) -> str:
    from decimal import ROUND_HALF_UP

    d = Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,}"


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _entities(ctx: Any) -> list[Any]:
    return list(getattr(ctx, "entities", []) or [])


# -- the data of each chart: (report, ctx) -> spec or None (nothing to show) ----------------
def cash_history(entity: Any, as_of: date, months: int = 12) -> list[tuple[str, float]]:
    """Month-end cash of the last `months` months up to `as_of`: opening_cash + every
    amount from opening_date to the month's end (METRICS.md `cash`)."""
    opening = entity.finance.opening_date or date.min
    rows = entity.ledger.sql(
        "SELECT strftime(date, '%Y-%m') AS m, sum(amount) FROM ledger "
        "WHERE date >= ? AND date <= ? GROUP BY m ORDER BY m",
        [opening, as_of],
    )
    running = Decimal(entity.finance.opening_cash)
    by_month: dict[str, Decimal] = {}
    for m, total in rows:
        running += Decimal(total)
        by_month[m] = running
    out: list[tuple[str, float]] = []
    y, mo = as_of.year, as_of.month
    keys = []
    for _ in range(months):
        keys.append(f"{y:04d}-{mo:02d}")
        y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
    keys.reverse()
    last = Decimal(entity.finance.opening_cash)
    earlier = [k for k in by_month if k < keys[0]]
    if earlier:
        last = by_month[max(earlier)]
    for k in keys:
        last = by_month.get(k, last)
        out.append((k, float(last)))
    return out


def _forecast(m: dict[str, Any]) -> list[tuple[str, float]]:
    raw = m.get("cash_forecast") or []
    out = []
    for row in raw:
        if isinstance(row, dict) and "month" in row and "cash" in row:
            out.append((str(row["month"]), _f(row["cash"])))
    return out


def _cash_panels(report: Any, ctx: Any, with_forecast: bool) -> list[dict[str, Any]]:
    panels = []
    for e in _entities(ctx):
        m = report.metrics.get(e.key, {})
        history = cash_history(e, ctx.as_of)
        forecast = _forecast(m) if with_forecast else []
        cash_out = m.get("cash_out_month")
        if cash_out is None and history[-1][1] < 0:
            cash_out = _month(ctx.as_of)
        if cash_out is None and forecast:
            cash_out = next((k for k, v in forecast if v < 0), None)
        panels.append(
            {
                "name": e.name,
                "history": history,
                "forecast": forecast,
                "cash_out": cash_out,
                "cash": _f(m["cash"]) if m.get("cash") is not None else history[-1][1],
            }
        )
    return panels


def _cfo_cash(report: Any, ctx: Any) -> dict[str, Any] | None:
    panels = _cash_panels(report, ctx, with_forecast=True)
    if not panels:
        return None
    forecast = any(p["forecast"] for p in panels)
    outs = [f"{p['name']} runs out of cash in {p['cash_out']}" for p in panels if p["cash_out"]]
    words = "Cash per business, last 12 months" + (" and the 12-month forecast" if forecast else "")
    alt = f"{words}: " + ", ".join(f"{p['name']} {_money(p['cash'])}" for p in panels)
    alt += ". " + ("; ".join(outs) + "." if outs else "No business runs out of cash.")
    title = "Cash: history and 12-month forecast" if forecast else "Cash: last 12 months"
    return {"type": "cash", "title": title, "alt": alt, "panels": panels}


def _ceo_cash(report: Any, ctx: Any) -> dict[str, Any] | None:
    panels = _cash_panels(report, ctx, with_forecast=False)
    if not panels:
        return None
    for p in panels:
        p["cash"] = p["history"][-1][1]
    total = sum(p["cash"] for p in panels)
    alt = f"Cash per business over the last 12 months; together {_money(total)}: " + ", ".join(
        f"{p['name']} {_money(p['cash'])}" for p in panels
    )
    return {"type": "cash", "title": "Cash per business", "alt": alt + ".", "panels": panels}


def _cfo_break_even(report: Any, ctx: Any) -> dict[str, Any] | None:
    rows = []
    for e in _entities(ctx):
        m = report.metrics.get(e.key, {})
        if m.get("revenue_monthly") is None or m.get("break_even_revenue") is None:
            continue
        rows.append((e.name, _f(m["revenue_monthly"]), _f(m["break_even_revenue"])))
    if not rows:
        return None
    below = [n for n, r, b in rows if r < b]
    alt = "Monthly revenue against break-even revenue: " + ", ".join(
        f"{n} {_money(r)} vs {_money(b)}" for n, r, b in rows
    )
    alt += f". {len(below)} of {len(rows)} below break-even."
    return {
        "type": "bars",
        "title": "Monthly revenue vs break-even",
        "alt": alt,
        "labels": [n for n, _, _ in rows],
        "series": [
            ("Revenue / month", [r for _, r, _ in rows], "#2563eb"),
            ("Break-even", [b for _, _, b in rows], "#9ca3af"),
        ],
        "money": True,
    }


def _accounting_expenses(report: Any, ctx: Any) -> dict[str, Any] | None:
    cats = report.metrics.get("consolidated", {}).get("expense_categories") or []
    rows = sorted(
        ((str(c.get("category", "?")), abs(_f(c.get("total")))) for c in cats),
        key=lambda x: (-x[1], x[0]),
    )
    rows = [r for r in rows if r[1] > 0]
    if not rows:
        return None
    top, rest = rows[:8], rows[8:]
    if rest:
        top.append((f"{len(rest)} other categories", sum(v for _, v in rest)))
    total = sum(v for _, v in rows)
    alt = (
        f"Expense mix by category, {_money(total)} in all; the largest is {top[0][0]} at "
        f"{_money(top[0][1])} ({top[0][1] / total:.0%})."
    )
    return {
        "type": "hbars",
        "title": "Expenses by category",
        "alt": alt,
        "labels": [n for n, _ in top],
        "values": [v for _, v in top],
    }


def _accounting_deferred(report: Any, ctx: Any) -> dict[str, Any] | None:
    m = report.metrics.get("consolidated", {})
    keys = ("opening", "booked", "recognised", "closing")
    if any(m.get(f"deferred_revenue_{k}") is None for k in keys):
        return None
    o, b, r, c = (_f(m[f"deferred_revenue_{k}"]) for k in keys)
    alt = (
        f"Deferred revenue roll-forward: opening {_money(o)}, booked {_money(b)}, "
        f"recognised {_money(r)}, closing {_money(c)}."
    )
    return {
        "type": "waterfall",
        "title": "Deferred revenue roll-forward",
        "alt": alt,
        "steps": [("Opening", o), ("Booked", b), ("Recognised", -r), ("Closing", c)],
    }


def _cmo_channels(report: Any, ctx: Any) -> dict[str, Any] | None:
    """Per channel with a commission: what a booking costs (commission) and returns (net)."""
    from execreport.plugins.roles.cmo import commission_in_force

    rows = []
    settings = dict(getattr(ctx, "settings", {}) or {})
    for e in _entities(ctx):
        avg = report.metrics.get(e.key, {}).get("average_booking")
        if avg is None:
            continue
        for ch in e.channels:
            rate = commission_in_force(e, ch, settings, ctx.as_of).rate
            if rate is None:
                continue
            spend = _f(avg) * float(rate)
            rows.append((f"{ch.name} ({e.name})", spend, _f(avg) - spend))
    if not rows:
        return None
    rows.sort(key=lambda x: (-x[2], x[0]))
    rows = rows[:10]
    best = rows[0]
    alt = (
        f"Spend (commission) and return (net) per booking by channel, {len(rows)} channels; "
        f"the best return is {best[0]} at {_money(best[2])} net per booking."
    )
    return {
        "type": "hbars2",
        "title": "Per booking: commission vs net, by channel",
        "alt": alt,
        "labels": [n for n, _, _ in rows],
        "series": [
            ("Commission", [s for _, s, _ in rows], "#dc2626"),
            ("Net", [n for _, _, n in rows], "#16a34a"),
        ],
    }


def _cto_checks(report: Any, ctx: Any) -> dict[str, Any] | None:
    from execreport.plugins.roles.cto import item_checks

    rows = []
    for e in _entities(ctx):
        for item in e.stack:
            checks = item_checks(item)
            if not checks:
                continue
            failed = sum(1 for _, ok in checks if not ok)
            rows.append((f"{item.name} ({e.name})", len(checks) - failed, failed))
    if not rows:
        return None
    rows.sort(key=lambda x: (-x[2], x[0]))
    total_failed = sum(f for _, _, f in rows)
    total = sum(p + f for _, p, f in rows)
    alt = (
        f"Security checks per stack item: {total_failed} of {total} failed across "
        f"{len(rows)} items; most failures: {rows[0][0]} ({rows[0][2]})."
    )
    return {
        "type": "stacked",
        "title": "Security checks per stack item",
        "alt": alt,
        "labels": [n for n, _, _ in rows],
        "series": [
            ("Passed", [p for _, p, _ in rows], "#16a34a"),
            ("Failed", [f for _, _, f in rows], "#dc2626"),
        ],
    }


KINDS: dict[str, Callable[[Any, Any], dict[str, Any] | None]] = {
    "cfo_cash": _cfo_cash,
    "cfo_break_even": _cfo_break_even,
    "ceo_cash": _ceo_cash,
    "accounting_expenses": _accounting_expenses,
    "accounting_deferred": _accounting_deferred,
    "cmo_channels": _cmo_channels,
    "cto_checks": _cto_checks,
}


def attach(report: Any, ctx: Any) -> None:
    """Fill in the charts the report's sections ask for: alt text in the image, the chart
    on `report.charts`. A chart with no data to show leaves no image behind."""
    from .models import Chart
    from .render import md_escape

    done: dict[str, Chart | None] = {}

    def replace(m: re.Match[str]) -> str:
        kind = m.group(1)
        if kind not in done:
            fn = KINDS.get(kind)
            spec = fn(report, ctx) if fn is not None else None
            done[kind] = (
                Chart(cid=cid(kind), kind=kind, alt=spec["alt"], spec=_jsonable(spec))
                if spec
                else None
            )
        chart = done[kind]
        if chart is None:
            return ""
        return f"![{md_escape(chart.alt)}](cid:{chart.cid})"

    for s in report.sections:
        if "![chart:" in s.body:
            s.body = re.sub(r"\n{3,}", "\n\n", PLACEHOLDER.sub(replace, s.body)).strip()
    report.charts = [c for c in done.values() if c is not None]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


# -- drawing ------------------------------------------------------------------------------
def png(chart: Any) -> bytes:
    """The chart's PNG: 600 px wide, white background, the same bytes for the same data."""
    import json

    return _png(json.dumps(chart.spec, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _png(spec_json: str) -> bytes:
    import io
    import json

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: a bare Figure keeps no global state

    spec = json.loads(spec_json)
    rc = {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "svg.hashsalt": "execreport",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(WIDTH_PX / DPI, _height(spec) / DPI), dpi=DPI, facecolor="white")
        DRAW[spec["type"]](fig, spec)
        fig.suptitle(spec["title"], fontsize=11, fontweight="bold", x=0.01, ha="left")
        buf = io.BytesIO()
        fig.savefig(
            buf,
            format="png",
            dpi=DPI,
            facecolor="white",
            metadata={"Software": None},
        )
    return buf.getvalue()


def _height(spec: dict[str, Any]) -> int:
    t = spec["type"]
    if t == "cash":
        n = len(spec["panels"])
        return 140 + 170 * ((n + 1) // 2)
    if t in ("hbars", "hbars2", "stacked"):
        return 100 + 24 * len(spec["labels"]) * (2 if t == "hbars2" else 1)
    return 300


def _money_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: _money(v) if abs(v) < 1000 else _money(v / 1000) + "k")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _draw_cash(fig: Any, spec: dict[str, Any]) -> None:
    panels = spec["panels"]
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_visible(False)
            continue
        p = panels[i]
        hist = p["history"]
        fc = p["forecast"]
        labels = [k for k, _ in hist] + [k for k, _ in fc]
        xs = list(range(len(labels)))
        ax.plot(xs[: len(hist)], [v for _, v in hist], color="#2563eb", lw=1.8)
        if fc:
            ax.plot(
                xs[len(hist) - 1 :],
                [hist[-1][1]] + [v for _, v in fc],
                color="#2563eb",
                lw=1.5,
                ls="--",
            )
        ax.axhline(0, color="#111827", lw=0.8)
        if p.get("cash_out") in labels:
            x = labels.index(p["cash_out"])
            ax.axvline(x, color="#dc2626", lw=1, ls=":")
            ax.annotate(
                f"cash out {p['cash_out']}",
                (x, 0),
                xytext=(-3, 4),
                textcoords="offset points",
                ha="right",
                color="#dc2626",
                fontsize=7,
            )
        ax.set_title(f"{p['name']}: {_money(p['cash'])}", fontsize=9, loc="left")
        step = max(1, len(labels) // 4)
        ax.set_xticks(xs[::step], [labels[j] for j in xs[::step]], fontsize=7)
        _money_axis(ax)
        ax.tick_params(axis="y", labelsize=7)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.86, bottom=0.08, hspace=0.55, wspace=0.3)


def _draw_bars(fig: Any, spec: dict[str, Any]) -> None:
    ax = fig.subplots()
    labels = spec["labels"]
    n = len(spec["series"])
    width = 0.8 / n
    for j, (name, values, color) in enumerate(spec["series"]):
        xs = [i + (j - (n - 1) / 2) * width for i in range(len(labels))]
        ax.bar(xs, values, width, label=name, color=color)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    _money_axis(ax)
    ax.legend(fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.86, bottom=0.12)


def _draw_hbars(fig: Any, spec: dict[str, Any]) -> None:
    ax = fig.subplots()
    labels = spec["labels"][::-1]
    ax.barh(range(len(labels)), spec["values"][::-1], color="#2563eb")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    _money_axis(ax, "x")
    fig.subplots_adjust(left=0.32, right=0.97, top=0.88, bottom=0.1)


def _draw_hbars2(fig: Any, spec: dict[str, Any]) -> None:
    ax = fig.subplots()
    labels = spec["labels"][::-1]
    h = 0.4
    for j, (name, values, color) in enumerate(spec["series"]):
        ys = [i + (j - 0.5) * h for i in range(len(labels))]
        ax.barh(ys, values[::-1], h, label=name, color=color)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    _money_axis(ax, "x")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.subplots_adjust(left=0.4, right=0.97, top=0.92, bottom=0.06)


def _draw_stacked(fig: Any, spec: dict[str, Any]) -> None:
    ax = fig.subplots()
    labels = spec["labels"][::-1]
    left = [0.0] * len(labels)
    for name, values, color in spec["series"]:
        vals = values[::-1]
        ax.barh(range(len(labels)), vals, left=left, label=name, color=color)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2)
    fig.subplots_adjust(left=0.42, right=0.97, top=0.9, bottom=0.06)


def _draw_waterfall(fig: Any, spec: dict[str, Any]) -> None:
    ax = fig.subplots()
    level = 0.0
    for i, (name, value) in enumerate(spec["steps"]):
        if name in ("Opening", "Closing"):
            ax.bar(i, value, color="#2563eb")
            level = value
            top = value
        else:
            ax.bar(i, value, bottom=level, color="#16a34a" if value >= 0 else "#dc2626")
            level += value
            top = max(level, level - value)
        ax.annotate(_money(value), (i, top), xytext=(0, 3), textcoords="offset points", ha="center")
    ax.set_xticks(range(len(spec["steps"])), [n for n, _ in spec["steps"]])
    _money_axis(ax)
    fig.subplots_adjust(left=0.12, right=0.98, top=0.86, bottom=0.1)


DRAW: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "cash": _draw_cash,
    "bars": _draw_bars,
    "hbars": _draw_hbars,
    "hbars2": _draw_hbars2,
    "stacked": _draw_stacked,
    "waterfall": _draw_waterfall,
}


def images(report: Any) -> list[Any]:
    """The report's charts as inline images (Attachment with a content_id)."""
    from .models import Attachment

    return [
        Attachment(filename=c.cid, content=png(c), mime_type="image/png", content_id=c.cid)
        for c in getattr(report, "charts", []) or []
    ]
