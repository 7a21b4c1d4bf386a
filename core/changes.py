"""The "Changes since the last report" section roles share: key figures and actions
against the previous archived version of the same report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def changes_section(
    ctx: Any, metrics: dict[str, Any], actions: list[Any], figures: dict[str, tuple[str, str]]
) -> Any:
    """ "Changes since the last report": key figures against `ctx.previous.metrics` and the
    previous report's actions still open. None without a previous report."""
    from .models import Section
    from .render import md_escape, money

    previous = ctx.previous
    if previous is None:
        return None
    names = {"consolidated": "All entities", **{e.key: e.name for e in ctx.entities}}
    rows = []
    for scope, label in names.items():
        now, before = metrics.get(scope, {}), (previous.metrics or {}).get(scope, {})
        for key, (title, kind) in figures.items():
            old, new = before.get(key), now.get(key)
            if key not in before or _same(old, new):
                continue
            rows.append(
                f"| {md_escape(label)} | {title} | {_show(old, kind, money)} | "
                f"{_show(new, kind, money)} | {_delta(old, new, kind, money)} |"
            )
    old_keys = {a.key for a in previous.actions}
    new_keys = {a.key for a in actions}
    body = [
        f"{len(old_keys & new_keys)} of the last report's {len(old_keys)} actions are still "
        f"open, {len(old_keys - new_keys)} no longer raised, {len(new_keys - old_keys)} new.",
        "",
    ]
    if rows:
        body += ["| Scope | Figure | Last report | Now | Change |", "|---|---|---|---|---|", *rows]
    else:
        body.append("No key figure changed.")
    body += [
        "",
        "_How this was computed: this report's metrics against those of the last archived "
        "version of this report; actions compared by their stable key (owner, entity, "
        "title)._",
    ]
    # it compares with the previous report: shown, but alone it never makes a new version
    return Section(
        heading="Changes since the last report", body="\n".join(body), since_previous=True
    )


def _num(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _same(old: Any, new: Any) -> bool:
    return _num(old) == _num(new)


def _show(value: Any, kind: str, money: Any) -> str:
    if value is None:
        return "n/a"
    if kind == "money":
        return money(value)
    if kind == "pct":
        return f"{Decimal(str(value)):.2f}%"
    return str(value)


def _delta(old: Any, new: Any, kind: str, money: Any) -> str:
    if old is None or new is None:
        return "n/a"
    d = _num(new) - _num(old)  # type: ignore[operator]
    sign = "+" if d > 0 else ""
    if kind == "money":
        return sign + money(d)
    if kind == "pct":
        return f"{sign}{d:.2f} points"
    return f"{sign}{d}"
