"""CMO: channel visibility, channel economics, marketplace sequence, email plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from execreport import hookimpl, read_settings

LIVE = ("claimed", "optimised")

# `[roles.cmo]` keys and their defaults (docs/roles.md, "CMO")
DEFAULTS: dict[str, Any] = {
    "commissions": {},  # channel -> rate | {rate, as_of} | [{rate, as_of}, ...]; or per entity
    "average_booking": None,  # money, or {entity key = money}; default from the ledger
    "rollout_order": [],  # channel names to put first, in this order
    "rollout_step_days": 30,  # one marketplace step per this many days
    "rating_warning": "4.5",  # a channel rating under it is a warning
    "warmup_start": 50,  # emails on the first warm-up day
    "warmup_factor": 2,  # daily volume multiplier
    "unsubscribe_business_days": 10,  # CAN-SPAM: opt-outs honoured within 10 business days
    "warmup_start_days": 1,  # day 1 of the warm-up is this many days after as_of
}


def channel_figures(entities: list[Any]) -> dict[str, Any]:
    """The METRICS.md cmo figures over `entities`."""
    channels = [c for e in entities for c in e.channels]
    lists = [
        e.audience.get("email_list") for e in entities if e.audience.get("email_list") is not None
    ]
    return {
        "channels_absent": sum(1 for c in channels if c.status == "absent"),
        "channels_live": sum(1 for c in channels if c.status in LIVE),
        "email_list": sum(int(n) for n in lists) if lists else None,
    }


def booking_figures(ledger: Any, as_of: date) -> dict[str, tuple[Decimal, int]]:
    """(revenue, bookings) over the trailing 3 months per entity and `consolidated`:
    revenue is the sum of 4xxx rows, a booking a 4xxx row with a positive amount."""
    from execreport import trailing_months

    start, end = trailing_months(as_of)
    rows = ledger.sql(
        """
        SELECT coalesce(entity, ''), coalesce(sum(amount), 0), count(*) FILTER (WHERE amount > 0)
        FROM ledger
        WHERE regexp_full_match(account, '4[0-9]{3}') AND date BETWEEN ? AND ?
        GROUP BY GROUPING SETS ((entity), ())
        """,
        [start, end],
    )
    return {(g or "consolidated"): (revenue, int(n)) for g, revenue, n in rows}


def _rate(value: Any, where: str) -> Decimal:
    from execreport import ExecReportError

    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        rate = Decimal(-1)
    if not Decimal(0) <= rate < 1:
        raise ExecReportError(
            f"[roles.cmo] {where}: commission {value!r} is not a fraction between 0 and 1 "
            '(write 15% as "0.15")'
        )
    return rate


def _dated(entry: Any, where: str) -> list[tuple[date, Decimal]]:
    """A configured commission as (applies from, rate) pairs."""
    from execreport import ExecReportError

    entries = entry if isinstance(entry, list) else [entry]
    out = []
    for i, item in enumerate(entries):
        at = f"{where}[{i}]" if isinstance(entry, list) else where
        if isinstance(item, dict):
            if "rate" not in item:
                raise ExecReportError(f"[roles.cmo] {at}: a dated commission needs a rate")
            since = item.get("as_of") or date.min
            if isinstance(since, str):
                try:
                    since = date.fromisoformat(since)
                except ValueError:
                    raise ExecReportError(
                        f"[roles.cmo] {at}: as_of {since!r} is not a date (YYYY-MM-DD)"
                    ) from None
            out.append((since, _rate(item["rate"], at)))
        else:
            out.append((date.min, _rate(item, at)))
    return out


def commission(
    entity: Any, channel: Any, settings: dict[str, Any], as_of: date
) -> tuple[Decimal | None, str]:
    """The channel's commission on `as_of` and where it comes from. The config
    (`[roles.cmo.commissions]`, per entity first) overrides the channel's own data; of dated
    entries the latest one in force on `as_of` applies."""
    table = settings.get("commissions") or {}
    lookups = []
    own = table.get(entity.key)
    if isinstance(own, dict) and "rate" not in own:
        lookups.append((own, f"commissions.{entity.key}"))
    lookups.append((table, "commissions"))
    for scope, where in lookups:
        for name, entry in scope.items():
            if name.strip().lower() != channel.name.strip().lower():
                continue
            if isinstance(entry, dict) and "rate" not in entry:
                continue  # another entity's table
            in_force = [(d, r) for d, r in _dated(entry, f"{where}.{name}") if d <= as_of]
            if in_force:
                since, rate = max(in_force, key=lambda p: p[0])
                label = "config" if since == date.min else f"config, from {since.isoformat()}"
                return rate, label
    if channel.commission is not None:
        return Decimal(str(channel.commission)), "entity.toml"
    return None, ""


def average_booking(
    key: str, settings: dict[str, Any], bookings: dict[str, tuple[Decimal, int]]
) -> tuple[Decimal | None, str]:
    """The average booking value: `average_booking` from the config (one figure, or one per
    entity key), else revenue / bookings over the trailing 3 months."""
    configured = settings.get("average_booking")
    if isinstance(configured, dict):
        configured = configured.get(key)
    if configured is not None:
        return Decimal(str(configured)), "config"
    revenue, n = bookings.get(key, (Decimal(0), 0))
    if n == 0 or revenue <= 0:
        return None, ""
    return revenue / n, "ledger"


def warmup_schedule(size: int, start: date, first: int = 50, factor: int = 2) -> list[tuple]:
    """(day, date, emails that day): `first` emails on `start`, multiplied by `factor` each
    day until a day's volume reaches the full list."""
    out: list[tuple[int, date, int]] = []
    volume, day = first, 1
    while size > 0:
        out.append((day, start + timedelta(days=day - 1), min(volume, size)))
        if volume >= size:
            break
        volume, day = volume * factor, day + 1
    return out


def segments(audience: dict[str, Any]) -> list[tuple[str, int | None]]:
    """`[audience] segments` as (name, contacts): a table name = size, a list of names, or a
    list of tables with name and size."""
    raw = audience.get("segments")
    if isinstance(raw, dict):
        return [(str(k), _count(v)) for k, v in raw.items()]
    if isinstance(raw, list):
        out = []
        for s in raw:
            if isinstance(s, dict):
                out.append((str(s.get("name", "")), _count(s.get("size"))))
            else:
                out.append((str(s), None))
        return out
    return []


def can_spam_checklist(
    audience: dict[str, Any], business_days: int = 10
) -> list[tuple[str, str, str, str, str]]:
    """The CAN-SPAM checklist from `[audience]`: (requirement, state, data key, problem,
    fix) per requirement; problem and fix are empty when the data shows no violation. A
    state starting with `**` or `not recorded` is a gap."""
    address = str(audience.get("physical_address") or "").strip()
    one_click = audience.get("one_click_unsubscribe")
    days = _count(audience.get("unsubscribe_days"))
    out = []
    if address:
        out.append(("present: " + _md(address), "", ""))
    else:
        out.append(
            (
                "**missing**",
                "no physical postal address on record, which CAN-SPAM requires in every "
                "commercial email",
                "Put {name}'s physical postal address in every email footer and record it "
                "as [audience] physical_address",
            )
        )
    if one_click is True:
        out.append(("in place", "", ""))
    elif one_click is False:
        out.append(
            (
                "**missing**",
                "no one-click unsubscribe (one_click_unsubscribe = false)",
                "Add a one-click unsubscribe (List-Unsubscribe and List-Unsubscribe-Post "
                "headers) to {name}'s emails",
            )
        )
    else:
        out.append(("not recorded: test it before day 1", "", ""))
    if days is None:
        out.append(("not recorded", "", ""))
    elif days <= business_days:
        out.append((f"{days} business days", "", ""))
    else:
        out.append(
            (
                f"**{days} business days, too slow**",
                f"unsubscribes are honoured in {days} business days, over the "
                f"{business_days} CAN-SPAM allows",
                f"Honour {{name}}'s unsubscribes within {business_days} business days (now {days})",
            )
        )
    requirements = [
        ("Physical postal address in every email", "[audience] physical_address"),
        ("A working one-click unsubscribe", "[audience] one_click_unsubscribe"),
        (
            f"Opt-outs honoured within {business_days} business days",
            "[audience] unsubscribe_days",
        ),
    ]
    rows = [
        (r, state, key, p, f) for (r, key), (state, p, f) in zip(requirements, out, strict=True)
    ]
    rows.append(
        (
            "Honest subject lines and sender",
            "a rule for every send: the subject says what the email is",
            "not in the data",
            "",
            "",
        )
    )
    return rows


def _md(text: str) -> str:
    from execreport import md_escape

    return md_escape(text)


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Step:
    entity: Any
    name: str
    status: str  # absent | claimed | not listed
    rate: Decimal | None
    source: str
    net: Decimal | None
    fit: bool


class CMO:
    name = "cmo"
    title = "CMO Marketing Review"
    priority = 40
    settings_defaults = DEFAULTS  # every key of [roles.cmo], checked at load

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
            to_money,
            trailing_months,
        )

        settings = read_settings(self.name, ctx.settings, DEFAULTS)
        as_of = ctx.as_of
        step_days = int(settings["rollout_step_days"])
        rating_warning = float(settings["rating_warning"])
        first, factor = int(settings["warmup_start"]), int(settings["warmup_factor"])
        start_days = int(settings["warmup_start_days"])
        unsub_days = int(settings["unsubscribe_business_days"])
        order = [str(n).strip().lower() for n in settings["rollout_order"]]
        start, end = trailing_months(as_of)

        bookings = booking_figures(ctx.ledger, as_of)
        metrics: dict[str, dict[str, Any]] = {"consolidated": channel_figures(ctx.entities)}
        findings: list[Any] = []
        actions: list[Any] = []

        # -- channel visibility matrix: one row per channel, one column per entity ----------
        columns: dict[str, dict[str, str]] = {}
        for e in ctx.entities:
            metrics[e.key] = channel_figures([e])
            listed = {c.name.strip().lower() for c in e.channels}
            for c in e.channels:
                cell = c.status
                if c.reviews is not None or c.rating is not None:
                    parts = [] if c.reviews is None else [f"{c.reviews} reviews"]
                    parts += [] if c.rating is None else [f"rating {c.rating:.1f}"]
                    cell += " (" + ", ".join(parts) + ")"
                columns.setdefault(c.name, {})[e.key] = md_escape(cell)
                if c.status == "absent":
                    findings.append(
                        Finding(
                            severity=Severity.info,
                            entity=e.key,
                            message=f"{e.name} is absent from {c.name} (entity.toml [[channels]])",
                        )
                    )
                if c.rating is not None and c.rating < rating_warning:
                    findings.append(
                        Finding(
                            severity=Severity.warning,
                            entity=e.key,
                            message=f"{e.name} is rated {c.rating:.1f} on {c.name} from "
                            f"{c.reviews if c.reviews is not None else 'an unknown number of'} "
                            f"reviews, under {rating_warning} (entity.toml [[channels]])",
                        )
                    )
            for name in getattr(e, "key_channels", None) or []:
                if name.strip().lower() not in listed:
                    columns.setdefault(name, {})[e.key] = "not listed (key channel)"
                    findings.append(
                        Finding(
                            severity=Severity.info,
                            entity=e.key,
                            message=f"{e.name} does not list {name}, a key channel for a "
                            f"{e.kind} business (entity plugin; entity.toml [[channels]])",
                        )
                    )
        matrix = [
            f"| {md_escape(name)} | "
            + " | ".join(cells.get(e.key, "-") for e in ctx.entities)
            + " |"
            for name, cells in columns.items()
        ]

        # -- channel economics --------------------------------------------------------------
        econ_rows, booking_rows, unpriced = [], [], []
        steps: dict[str, list[Step]] = {}
        for e in ctx.entities:
            avg, avg_source = average_booking(e.key, settings, bookings)
            revenue, n = bookings.get(e.key, (Decimal(0), 0))
            metrics[e.key].update(bookings_3m=n, average_booking=to_money(avg))
            booking_rows.append(
                f"| {md_escape(e.name)} | {money(revenue)} | {n} | {money(avg)} | "
                f"{avg_source or 'none: no bookings'} |"
            )
            key_channels = {k.strip().lower() for k in getattr(e, "key_channels", None) or []}
            candidates = []
            listed = {c.name.strip().lower() for c in e.channels}
            for c in e.channels:
                rate, source = commission(e, c, settings, as_of)
                net = None if rate is None or avg is None else avg * (1 - rate)
                if rate is None:
                    unpriced.append(f"{md_escape(c.name)} ({md_escape(e.name)})")
                else:
                    econ_rows.append(
                        f"| {md_escape(e.name)} | {md_escape(c.name)} | {c.status} | "
                        f"{rate * 100:.1f}% | {source} | {money(avg)} | "
                        f"{money(None if avg is None else avg * rate)} | {money(net)} |"
                    )
                fit = c.name.strip().lower() in key_channels
                if c.status != "optimised" and (rate is not None or fit):
                    status = c.status if c.status in LIVE else "absent"
                    candidates.append(Step(e, c.name, status, rate, source, net, fit))
            for name in getattr(e, "key_channels", None) or []:
                if name.strip().lower() not in listed:
                    candidates.append(Step(e, name, "not listed", None, "", None, True))

            def rank(s: Step) -> tuple[Any, ...]:
                low = s.name.strip().lower()
                return (
                    order.index(low) if low in order else len(order),
                    not s.fit,
                    s.net is None,
                    -(s.net or 0),
                    s.status == "claimed",  # being seen at all before polishing a listing
                    s.name.lower(),
                )

            steps[e.key] = sorted(candidates, key=rank)
            metrics[e.key]["rollout_steps"] = len(steps[e.key])
        revenue, n = bookings.get("consolidated", (Decimal(0), 0))
        avg_all, _ = average_booking("consolidated", settings, bookings)
        metrics["consolidated"].update(bookings_3m=n, average_booking=to_money(avg_all))
        metrics["consolidated"]["rollout_steps"] = sum(len(s) for s in steps.values())

        rollout_rows = []
        for e in ctx.entities:
            for i, s in enumerate(steps[e.key], 1):
                verb = (
                    "list on" if s.status in ("absent", "not listed") else "optimise the listing on"
                )
                target = as_of + timedelta(days=step_days * i)
                rollout_rows.append(
                    f"| {md_escape(e.name)} | {i} | {verb} {md_escape(s.name)} | {s.status} | "
                    f"{'n/a' if s.rate is None else f'{s.rate * 100:.1f}%'} | {money(s.net)} | "
                    f"{'key channel' if s.fit else 'marketplace'} | {target.isoformat()} |"
                )
            if steps[e.key]:
                s = steps[e.key][0]
                title = (
                    f"List {e.name} on {s.name}"
                    if s.status in ("absent", "not listed")
                    else f"Optimise {e.name}'s {s.name} listing"
                )
                actions.append(
                    Action(
                        title=title,
                        topic=f"rollout:{s.name}",
                        owner=self.name,
                        due=as_of + timedelta(days=min(step_days, 30)),
                        priority=3,
                        entity=e.key,
                        severity=Severity.info,
                    )
                )

        # -- email plan ---------------------------------------------------------------------
        plan: list[str] = []
        for e in ctx.entities:
            size = e.audience.get("email_list")
            if size is None:
                metrics[e.key].update(warmup_days=None, can_spam_gaps=None)
                continue
            size = int(size)
            schedule = warmup_schedule(size, as_of + timedelta(days=start_days), first, factor)
            metrics[e.key]["warmup_days"] = len(schedule)
            day_one = schedule[0][1]  # CAN-SPAM gaps are fixed before the first send
            plan += [f"### {md_escape(e.name)}: {size:,} contacts", ""]
            segs = segments(e.audience)
            if segs:
                plan += ["| Segment | Contacts | Share of list |", "|---|---|---|"]
                for name, count in segs:
                    share = "" if count is None or not size else f"{count / size * 100:.1f}%"
                    plan.append(
                        f"| {md_escape(name)} | {'' if count is None else f'{count:,}'} | {share} |"
                    )
                plan.append("")
            senders = [i for i in e.stack if getattr(i, "sends_mail", None) is True]
            unready = [
                f"{md_escape(i.name)} ("
                + ", ".join(
                    f
                    for f, ok in (
                        ("SPF", i.spf is True),
                        ("DKIM", i.dkim is True),
                        (
                            f"DMARC {md_escape(i.dmarc or 'missing')}",
                            i.dmarc in ("quarantine", "reject"),
                        ),
                    )
                    if not ok
                )
                + ")"
                for i in senders
                if not (i.spf is True and i.dkim is True and i.dmarc in ("quarantine", "reject"))
            ]
            if not senders:
                plan += [
                    "Before day 1: no [[stack]] item sends mail, so the sending service and "
                    "its SPF/DKIM/DMARC state are not on record.",
                    "",
                ]
            elif unready:
                plan += [
                    "Before day 1: fix the sending authentication of "
                    + "; ".join(unready)
                    + " (entity.toml [[stack]]; the CTO report has the steps).",
                    "",
                ]
            plan += ["| Day | Date | Emails |", "|---|---|---|"]
            plan += [f"| {d} | {when.isoformat()} | {volume:,} |" for d, when, volume in schedule]
            plan.append("")
            actions.append(
                Action(
                    title=f"Warm up {e.name}'s email list: {first} emails on day 1, "
                    f"x{factor} a day until a day reaches the whole list",
                    topic="email-warm-up",
                    owner=self.name,
                    due=min(schedule[-1][1], as_of + timedelta(days=30)),
                    priority=3,
                    entity=e.key,
                    severity=Severity.info,
                )
            )

            gaps = 0
            rows = []
            for requirement, state, key, problem, fix in can_spam_checklist(e.audience, unsub_days):
                rows.append(f"| {requirement} | {state} | {key} |")
                gaps += state.startswith(("**", "not recorded"))
                if problem:
                    findings.append(
                        Finding(
                            severity=Severity.warning,
                            entity=e.key,
                            message=f"{e.name} email list of {size:,}: {problem} "
                            f"(entity.toml {key})",
                        )
                    )
                    actions.append(
                        Action(
                            title=fix.format(name=e.name),
                            topic=f"can-spam:{key}",
                            owner=self.name,
                            due=day_one,
                            priority=2,
                            entity=e.key,
                            severity=Severity.warning,
                        )
                    )
            metrics[e.key]["can_spam_gaps"] = gaps
            plan += ["| CAN-SPAM requirement | State | Data |", "|---|---|---|", *rows, ""]
        with_list = [e for e in ctx.entities if metrics[e.key]["warmup_days"] is not None]
        metrics["consolidated"]["warmup_days"] = max(
            (metrics[e.key]["warmup_days"] for e in with_list), default=None
        )
        metrics["consolidated"]["can_spam_gaps"] = (
            sum(metrics[e.key]["can_spam_gaps"] for e in with_list) if with_list else None
        )

        c = metrics["consolidated"]
        email = "not given" if c["email_list"] is None else f"{c['email_list']:,} contacts"
        window = f"{start.isoformat()} to {end.isoformat()}"
        sections = [
            Section(
                heading="Channel visibility matrix",
                body="\n".join(
                    [
                        f"{c['channels_live']} channel listings live, {c['channels_absent']} "
                        f"absent; email list {email}.",
                        "",
                        "| Channel | " + " | ".join(md_escape(e.name) for e in ctx.entities) + " |",
                        "|---|" + "---|" * len(ctx.entities),
                        *(matrix or ["| none |" + " |" * len(ctx.entities)]),
                        "",
                        "_How this was computed: the [[channels]] of each entity.toml (status, "
                        "reviews, rating); live means claimed or optimised (METRICS.md, cmo); "
                        "- means the entity does not list the channel; key channels come from "
                        f"the entity's plugin. A rating under {rating_warning} is a warning "
                        "(rating_warning)._",
                    ]
                ),
            ),
            Section(
                heading="Channel economics",
                body="\n".join(
                    [
                        "| Entity | Revenue (3 mo) | Bookings (3 mo) | Average booking | Source |",
                        "|---|---|---|---|---|",
                        *booking_rows,
                        "",
                        "| Entity | Channel | Status | Commission | Commission source | "
                        "Average booking | Commission/booking | Net/booking |",
                        "|---|---|---|---|---|---|---|---|",
                        *(econ_rows or ["| none | no channel has a commission | | | | | | |"]),
                        "",
                        *(
                            [
                                "No commission in the data or the config for: "
                                + ", ".join(unpriced)
                                + ".",
                                "",
                            ]
                            if unpriced
                            else []
                        ),
                        "_How this was computed: average booking = revenue (4xxx rows of "
                        f"ledger.csv, {window}) / bookings (the 4xxx rows with a positive "
                        "amount in those months), unless `average_booking` is configured; "
                        "commission from `[roles.cmo.commissions]` (per entity first; of dated "
                        f"entries the latest in force on {as_of.isoformat()}), else the "
                        "channel's `commission` in entity.toml; net/booking = average booking x "
                        "(1 - commission)._",
                    ]
                ),
            ),
            Section(
                heading="Marketplace rollout sequence",
                body="\n".join(
                    [
                        "| Entity | Step | Move | Now | Commission | Net/booking | Fit | "
                        "Target date |",
                        "|---|---|---|---|---|---|---|---|",
                        *(rollout_rows or ["| none | | nothing to roll out | | | | | |"]),
                        "",
                        "_How this was computed: per entity, the channels not yet optimised "
                        "that take a commission or are key channels for its business; ordered "
                        "by `rollout_order` when configured, then key channels first, then by "
                        "net contribution per booking (highest first), then absent before claimed; "
                        "one step every "
                        f"{step_days} days from {as_of.isoformat()} (rollout_step_days). The "
                        "first step of each entity is an action._",
                    ]
                ),
            ),
            Section(
                heading="Email plan",
                body="\n".join(
                    [
                        *(plan or ["No entity gives an [audience] email_list.", ""]),
                        "_How this was computed: [audience] email_list and segments of each "
                        f"entity.toml; warm-up from {first} emails {start_days} day(s) after "
                        f"{as_of.isoformat()}, multiplied by {factor} each day until one day "
                        "reaches the whole list (warmup_start, warmup_factor, "
                        "warmup_start_days); CAN-SPAM gaps are due before day 1; "
                        "checklist from [audience] physical_address, one_click_unsubscribe "
                        f"and unsubscribe_days (at most {unsub_days} business days, "
                        "unsubscribe_business_days)._",
                    ]
                ),
            ),
        ]
        change = changes_section(
            ctx,
            metrics,
            actions,
            {
                "channels_live": ("live channel listings", "count"),
                "channels_absent": ("absent channel listings", "count"),
                "email_list": ("email list", "count"),
                "average_booking": ("average booking", "money"),
                "rollout_steps": ("marketplace steps left", "count"),
                "can_spam_gaps": ("CAN-SPAM gaps", "count"),
            },
        )
        if change is not None:
            sections.append(change)
        actions.sort(
            key=lambda a: (
                Severity(a.severity).rank,
                a.due,
                a.entity or "",
                a.title,
            )
        )
        return Report(
            role=self.name,
            title=self.title,
            subject=f"CMO Marketing Review: {ctx.period} channels, marketplaces and email plan",
            sections=sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


@hookimpl
def register_roles(register: Any) -> None:
    register(CMO())
