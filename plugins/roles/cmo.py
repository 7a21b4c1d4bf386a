"""CMO: channel visibility, channel economics, marketplace sequence, email plan.

This module computes (SQL, rules, findings, actions, metrics) and hands the template typed
data; the report's words are in templates/cmo.md.j2, one block per section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

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
    # ledger rows that are marketing spend (a channel's or, unmatched, unattributed)
    "marketing_accounts": ["6300", "6310"],
    "marketing_categories": ["marketing", "advertising", "ads", "lead fees"],
    # when no CTO report is in the run: the CTO's warning due days for a failing SPF/DKIM/DMARC
    "email_auth_due_days": 14,
    "max_rows": 12,  # rows of any table; the rest is counted and left to the archive
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


@dataclass(frozen=True)
class Commission:
    """A channel's commission on a date and where it comes from."""

    rate: Decimal | None
    source: str = ""  # "config" | "entity.toml" | "" (no commission on record)
    since: date | None = None  # a dated config entry: in force from this date


def commission_in_force(
    entity: Any, channel: Any, settings: dict[str, Any], as_of: date
) -> Commission:
    """The channel's commission on `as_of`. The config (`[roles.cmo.commissions]`, per entity
    first) overrides the channel's own data; of dated entries the latest one in force on
    `as_of` applies."""
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
                return Commission(rate, "config", None if since == date.min else since)
    if channel.commission is not None:
        return Commission(Decimal(str(channel.commission)), "entity.toml")
    return Commission(None)


def commission(
    entity: Any, channel: Any, settings: dict[str, Any], as_of: date
) -> tuple[Decimal | None, str]:
    """The channel's commission on `as_of` and where it comes from, as a label: `config`,
    `config, from <date>` for a dated entry, `entity.toml`, or "" without a commission
    (`commission_in_force` gives the same as data)."""
    found = commission_in_force(entity, channel, settings, as_of)
    if found.since is not None:
        return found.rate, f"{found.source}, from {found.since.isoformat()}"
    return found.rate, found.source


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


class WarmupDay(NamedTuple):
    """One day of the warm-up: its number (day 1 first), its date and the emails it sends."""

    day: int
    date: date
    emails: int


def warmup_schedule(size: int, start: date, first: int = 50, factor: int = 2) -> list[WarmupDay]:
    """(day, date, emails that day): `first` new contacts on `start`, `factor` times more each
    day, until the whole list has had its first email: the sends sum to the list size."""
    out: list[WarmupDay] = []
    volume, day, left = max(first, 1), 1, size
    while left > 0:
        sends = min(volume, left)
        out.append(WarmupDay(day, start + timedelta(days=day - 1), sends))
        left -= sends
        volume, day = volume * max(factor, 1), day + 1
    return out


def norm(name: Any) -> str:
    """A counterparty compared as METRICS.md says: lower case, trimmed, white space collapsed."""
    return " ".join(str(name).lower().split())


def channel_counterparties(channel: Any) -> list[str]:
    """`counterparties` of a [[channels]] entry, normalized: a list of names, or one name."""
    raw = (channel.model_extra or {}).get("counterparties") or []
    names = [raw] if isinstance(raw, str) else list(raw)
    return [n for n in (norm(x) for x in names) if n]


def window_rows(ledger: Any, as_of: date) -> list[tuple[str, str, str, Decimal, str]]:
    """(entity, account, category, amount, counterparty) of the trailing 3 months."""
    from execreport import trailing_months

    start, end = trailing_months(as_of)
    return ledger.sql(
        """
        SELECT coalesce(entity, ''), trim(coalesce(account, '')),
               lower(trim(coalesce(category, ''))), amount, coalesce(counterparty, '')
        FROM ledger WHERE date BETWEEN ? AND ?
        ORDER BY entity, date, amount
        """,
        [start, end],
    )


@dataclass(frozen=True)
class ChannelLedger:
    """What a channel cost and brought in over the trailing 3 months, from the ledger rows
    whose counterparty contains one of its `counterparties`."""

    entity: Any
    channel: str
    status: str
    counterparties: list[str]
    rows: int  # matched ledger rows; 0: the figures below are a configured estimate or none
    spend: Decimal  # minus the matched expense rows (commission, lead fees, ads)
    revenue: Decimal  # the matched 4xxx rows (payouts, bookings)
    bookings: int  # matched 4xxx rows with a positive amount
    commission: Commission  # the configured fallback (rate None: none)
    average: Decimal | None  # the entity's average booking (for the fallback)

    @property
    def measured(self) -> bool:
        return self.rows > 0

    @property
    def return_on_spend(self) -> Decimal | None:
        return self.revenue / self.spend if self.measured and self.spend > 0 else None

    @property
    def cost_per_booking(self) -> Decimal | None:
        return self.spend / self.bookings if self.measured and self.bookings else None

    @property
    def net(self) -> Decimal | None:
        """Measured: revenue - spend over 3 months. Fallback: net per booking."""
        if self.measured:
            return self.revenue - self.spend
        if self.commission.rate is None or self.average is None:
            return None
        return self.average * (1 - self.commission.rate)


@dataclass(frozen=True)
class Unattributed:
    """Marketing spend of an entity that no [[channels]] counterparties claim."""

    entity: Any
    counterparty: str
    rows: int
    spend: Decimal


def is_marketing(account: str, category: str, settings: dict[str, Any]) -> bool:
    accounts = {str(a).strip() for a in settings["marketing_accounts"]}
    categories = {norm(c) for c in settings["marketing_categories"]}
    return account in accounts or norm(category) in categories


def is_expense(account: str, amount: Decimal) -> bool:
    return amount < 0 and len(account) == 4 and account[0] in "567"


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


# the states of a CAN-SPAM requirement that count as a gap (the `can_spam_gaps` metric)
GAPS = ("missing", "too_slow", "not_recorded")


@dataclass(frozen=True)
class CanSpamCheck:
    """One CAN-SPAM requirement as the data shows it.

    requirement: `physical_address`, `one_click_unsubscribe`, `unsubscribe_days` or
    `honest_subjects`; state: `present` or `missing` (address), `in_place`, `missing` or
    `not_recorded` (one-click unsubscribe), `in_time`, `too_slow` or `not_recorded` (opt-out
    days), `rule` (honest subjects: not in the data)."""

    requirement: str
    state: str
    key: str = ""  # where the data is read from: "[audience] physical_address"; "" if nowhere
    value: Any = None  # the address on record, or the business days opt-outs take
    problem: str = ""  # the finding's text when the data shows a violation
    fix: str = ""  # the action's title for a violation; {name} is the entity's name

    @property
    def gap(self) -> bool:
        return self.state in GAPS


def can_spam_checklist(audience: dict[str, Any], business_days: int = 10) -> list[CanSpamCheck]:
    """The CAN-SPAM checklist from `[audience]`, one check per requirement; problem and fix
    are empty when the data shows no violation. A state in GAPS is a gap."""
    address = str(audience.get("physical_address") or "").strip()
    one_click = audience.get("one_click_unsubscribe")
    days = _count(audience.get("unsubscribe_days"))
    out = []
    key = "[audience] physical_address"
    if address:
        out.append(CanSpamCheck("physical_address", "present", key, address))
    else:
        out.append(
            CanSpamCheck(
                "physical_address",
                "missing",
                key,
                problem="no physical postal address on record, which CAN-SPAM requires in "
                "every commercial email",
                fix="Put {name}'s physical postal address in every email footer and record it "
                "as [audience] physical_address",
            )
        )
    key = "[audience] one_click_unsubscribe"
    if one_click is True:
        out.append(CanSpamCheck("one_click_unsubscribe", "in_place", key, True))
    elif one_click is False:
        out.append(
            CanSpamCheck(
                "one_click_unsubscribe",
                "missing",
                key,
                False,
                problem="no one-click unsubscribe (one_click_unsubscribe = false)",
                fix="Add a one-click unsubscribe (List-Unsubscribe and List-Unsubscribe-Post "
                "headers) to {name}'s emails",
            )
        )
    else:
        out.append(CanSpamCheck("one_click_unsubscribe", "not_recorded", key))
    key = "[audience] unsubscribe_days"
    if days is None:
        out.append(CanSpamCheck("unsubscribe_days", "not_recorded", key))
    elif days <= business_days:
        out.append(CanSpamCheck("unsubscribe_days", "in_time", key, days))
    else:
        out.append(
            CanSpamCheck(
                "unsubscribe_days",
                "too_slow",
                key,
                days,
                problem=f"unsubscribes are honoured in {days} business days, over the "
                f"{business_days} CAN-SPAM allows",
                fix=f"Honour {{name}}'s unsubscribes within {business_days} business days "
                f"(now {days})",
            )
        )
    out.append(CanSpamCheck("honest_subjects", "rule"))
    return out


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _num(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# -- what the template receives: data, no words -----------------------------------------------
@dataclass(frozen=True)
class Listing:
    """A channel as one entity lists it (a cell of the visibility matrix)."""

    status: str  # absent | claimed | optimised | ... as entity.toml says
    reviews: int | None = None
    rating: float | None = None
    key_channel: bool = False  # not listed, but a key channel of the entity's business


@dataclass
class MatrixRow:
    """A row of the visibility matrix: a channel and, per entity, how it lists it."""

    channel: str
    listings: list[Listing | None]  # in the order of `entities`; None: not listed


@dataclass(frozen=True)
class BookingRow:
    """An entity's bookings over the trailing 3 months and its average booking."""

    entity: Any
    revenue: Decimal
    bookings: int
    average: Decimal | None
    source: str  # "config" | "ledger" | "" (no bookings)


@dataclass(frozen=True)
class ChannelEconomics:
    """A channel with a commission: what a booking through it brings in."""

    entity: Any
    channel: str
    status: str
    commission: Commission  # its rate is never None here
    average: Decimal | None  # the entity's average booking
    per_booking: Decimal | None  # commission per booking
    net: Decimal | None  # net contribution per booking


@dataclass(frozen=True)
class Unpriced:
    """A channel with no commission in the data or the config."""

    entity: Any
    channel: str


@dataclass
class Step:
    """A candidate marketplace move of one entity."""

    entity: Any
    name: str
    status: str  # absent | claimed | not listed
    rate: Decimal | None
    source: str
    net: Decimal | None
    fit: bool  # a key channel of the entity's business
    measured_net: Decimal | None = None  # ledger revenue - spend over 3 months; None: no rows

    @property
    def new_listing(self) -> bool:
        """The move lists the entity on the channel (rather than optimising a listing)."""
        return self.status in ("absent", "not listed")


@dataclass(frozen=True)
class RolloutRow:
    """A step of an entity's marketplace rollout."""

    entity: Any
    step: int  # 1 first
    move: Step
    target: date


@dataclass(frozen=True)
class Segment:
    name: str
    contacts: int | None
    share: float | None  # of the list, 0..1; None when the size is unknown


@dataclass(frozen=True)
class UnreadySender:
    """A [[stack]] item that sends mail without full authentication."""

    name: str
    failing: list[str]  # of "SPF", "DKIM", "DMARC", in that order
    dmarc: Any  # the DMARC policy on record; None when missing


@dataclass
class EmailPlan:
    """The email plan of an entity with an `[audience] email_list`."""

    entity: Any
    size: int
    segments: list[Segment]
    senders: int  # [[stack]] items that send mail
    unready: list[UnreadySender]
    schedule: list[WarmupDay]
    checklist: list[CanSpamCheck]
    auth_due: date | None = None  # the last due date of the failing email-authentication fixes
    auth_from_cto: bool = False  # that date is the CTO report's (else email_auth_due_days)


@dataclass(frozen=True)
class FigureChange:
    """A key figure that changed since the previous report."""

    entity: Any | None  # None: all entities
    figure: str  # its metric key (CHANGE_FIGURES)
    kind: str  # count | money
    before: Any  # None: n/a
    now: Any
    delta: Decimal | None  # now - before; None when either is missing


@dataclass(frozen=True)
class Changes:
    """This report against the last archived one."""

    previous_actions: int
    still_open: int
    no_longer_raised: int
    new: int
    figures: list[FigureChange] = field(default_factory=list)


# the key figures "Changes since the last report" compares, in order, and their kind
CHANGE_FIGURES: dict[str, str] = {
    "channels_live": "count",
    "channels_absent": "count",
    "email_list": "count",
    "average_booking": "money",
    "rollout_steps": "count",
    "can_spam_gaps": "count",
}


def changes_since(ctx: Any, metrics: dict[str, Any], actions: list[Any]) -> Changes | None:
    """The key figures against `ctx.previous.metrics` and the previous report's actions
    still open, by their stable key. None without a previous report."""
    previous = ctx.previous
    if previous is None:
        return None
    scopes: dict[str, Any] = {"consolidated": None, **{e.key: e for e in ctx.entities}}
    figures = []
    for scope, entity in scopes.items():
        now, before = metrics.get(scope, {}), (previous.metrics or {}).get(scope, {})
        for key, kind in CHANGE_FIGURES.items():
            old, new = before.get(key), now.get(key)
            was, now_is = _num(old), _num(new)
            if key not in before or was == now_is:
                continue
            delta = None if was is None or now_is is None else now_is - was
            figures.append(FigureChange(entity, key, kind, old, new, delta))
    old_keys = {a.key for a in previous.actions}
    new_keys = {a.key for a in actions}
    return Changes(
        previous_actions=len(old_keys),
        still_open=len(old_keys & new_keys),
        no_longer_raised=len(old_keys - new_keys),
        new=len(new_keys - old_keys),
        figures=figures,
    )


def pct(fraction: Any) -> str:
    """A fraction as a percent with one decimal: 0.085 -> `8.5%`."""
    return f"{fraction * 100:.1f}%"


def number(value: int) -> str:
    """A count with thousands separators: `3,676`."""
    return f"{value:,}"


class CMO:
    name = "cmo"
    title = "CMO Marketing Review"
    priority = 40
    settings_defaults = DEFAULTS  # every key of [roles.cmo], checked at load
    template_folder: Path = Path(__file__).parent / "templates"
    template_variables: dict[str, str] = {
        "metrics": "the report's metrics by scope (`consolidated` and each entity key), "
        "METRICS.md cmo: `metrics.consolidated.channels_live`, `channels_absent`, `email_list` "
        "(None when no entity gives one), ...",
        "matrix": "the visibility matrix: rows with `channel` and `listings`, one per entity in "
        "the order of `entities`, each None (not listed) or with `status`, `reviews`, `rating` "
        "(None when not given) and `key_channel` (not listed, a key channel of the business)",
        "bookings": "per entity: `entity`, `revenue` and `bookings` (trailing 3 months), "
        "`average` (average booking, None without bookings) and `source` "
        "(`config`, `ledger`, or empty)",
        "economics": "per channel with a commission: `entity`, `channel`, `status`, "
        "`commission` (`rate`, `source`: `config` or `entity.toml`, `since`: the date a dated "
        "config entry applies from, or None), `average`, `per_booking`, `net`",
        "unpriced": "the channels with no commission: `entity`, `channel`",
        "rollout": "the marketplace steps: `entity`, `step` (1 first), `target` (a date) and "
        "`move` (`name`, `status`: absent, claimed or not listed, `rate` (None: none), `net`, "
        "`fit`: a key channel of the business, `new_listing`: absent or not listed)",
        "email_plans": "per entity with an email list: `entity`, `size`, `segments` (`name`, "
        "`contacts`, `share`: 0..1, None when unknown), `senders` (the [[stack]] items that "
        "send mail), `unready` (`name`, `failing`: of SPF, DKIM, DMARC, `dmarc`: the policy or "
        "None), `schedule` (`day`, `date`, `emails`) and `checklist` (`requirement`, `state`, "
        "`key`, `value`, `gap`; see CanSpamCheck), `auth_due` (the last due date of the failing "
        "SPF/DKIM/DMARC fixes, or None) and `auth_from_cto` (that date is the CTO report's)",
        "changes": "None without a previous report; else `previous_actions`, `still_open`, "
        "`no_longer_raised`, `new` and `figures` (`entity`: None for all entities, `figure`: "
        "the metric key, `kind`: count or money, `before`, `now`, `delta`: None when either is "
        "None)",
        "window_start": "the first day of the trailing 3 months (a date)",
        "window_end": "the last day of the trailing 3 months (a date)",
        "rating_warning": "a rating under it is a warning (`[roles.cmo] rating_warning`)",
        "rollout_step_days": "days between marketplace steps (`rollout_step_days`)",
        "warmup_start": "emails on day 1 of the warm-up (`warmup_start`)",
        "warmup_factor": "the warm-up's daily multiplier (`warmup_factor`)",
        "warmup_start_days": "day 1 is this many days after `as_of` (`warmup_start_days`)",
        "unsubscribe_business_days": "the CAN-SPAM limit for opt-outs "
        "(`unsubscribe_business_days`)",
        "pct": "`pct(fraction)`: `0.085` -> `8.5%`",
        "number": "`number(count)`: `3676` -> `3,676`",
        "channel_ledger": "per channel with ledger rows or a commission: `entity`, `channel`, "
        "`status`, `counterparties`, `rows` (matched ledger rows; 0: a configured estimate), "
        "`measured`, `spend`, `revenue`, `bookings`, `return_on_spend`, `cost_per_booking`, "
        "`net` (revenue - spend; per booking when estimated), `commission`, `average`; at most "
        "`max_rows`",
        "channel_ledger_left_out": "channels not shown (max_rows)",
        "unattributed": "marketing spend no channel claims: `entity`, `counterparty`, `rows`, "
        "`spend`; at most `max_rows`",
        "unattributed_left_out": "counterparties not shown (max_rows)",
        "marketing_accounts": "ledger accounts counted as marketing (`marketing_accounts`)",
        "max_rows": "the most rows a table shows (`max_rows`)",
    }

    def build(self, ctx: Any) -> Any:
        from execreport import (
            Action,
            Finding,
            Report,
            Severity,
            render_template,
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
        max_rows = int(settings["max_rows"])
        ledger_rows = window_rows(ctx.ledger, as_of)
        metrics: dict[str, dict[str, Any]] = {"consolidated": channel_figures(ctx.entities)}
        findings: list[Any] = []
        actions: list[Any] = []

        # -- channel visibility matrix: one row per channel, one column per entity ----------
        columns: dict[str, dict[str, Listing]] = {}
        for e in ctx.entities:
            metrics[e.key] = channel_figures([e])
            listed = {c.name.strip().lower() for c in e.channels}
            for c in e.channels:
                columns.setdefault(c.name, {})[e.key] = Listing(c.status, c.reviews, c.rating)
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
                    columns.setdefault(name, {})[e.key] = Listing("not listed", key_channel=True)
                    findings.append(
                        Finding(
                            severity=Severity.info,
                            entity=e.key,
                            message=f"{e.name} does not list {name}, a key channel for a "
                            f"{e.kind} business (entity plugin; entity.toml [[channels]])",
                        )
                    )
        matrix = [
            MatrixRow(name, [cells.get(e.key) for e in ctx.entities])
            for name, cells in columns.items()
        ]

        # -- channel economics --------------------------------------------------------------
        booking_rows: list[BookingRow] = []
        economics: list[ChannelEconomics] = []
        unpriced: list[Unpriced] = []
        channel_ledger: list[ChannelLedger] = []
        unattributed: list[Unattributed] = []
        steps: dict[str, list[Step]] = {}
        for e in ctx.entities:
            own_rows = [r for r in ledger_rows if r[0] == e.key]
            claimed: set[int] = set()
            measured: dict[str, ChannelLedger] = {}
            avg_e, _ = average_booking(e.key, settings, bookings)
            for c in e.channels:
                names = channel_counterparties(c)
                hits = [
                    (i, r)
                    for i, r in enumerate(own_rows)
                    if names and any(n in norm(r[4]) for n in names)
                ]
                claimed |= {i for i, _ in hits}
                spend = -sum((r[3] for _, r in hits if is_expense(r[1], r[3])), Decimal(0))
                revenue_rows = [r for _, r in hits if r[1][:1] == "4" and len(r[1]) == 4]
                row = ChannelLedger(
                    entity=e,
                    channel=c.name,
                    status=c.status,
                    counterparties=names,
                    rows=len(hits),
                    spend=spend,
                    revenue=sum((r[3] for r in revenue_rows), Decimal(0)),
                    bookings=sum(1 for r in revenue_rows if r[3] > 0),
                    commission=commission_in_force(e, c, settings, as_of),
                    average=avg_e,
                )
                measured[c.name] = row
                if row.measured or row.commission.rate is not None:
                    channel_ledger.append(row)
            spent: dict[str, list[Any]] = {}
            for i, r in enumerate(own_rows):
                if (
                    i in claimed
                    or not is_expense(r[1], r[3])
                    or not is_marketing(r[1], r[2], settings)
                ):
                    continue
                slot = spent.setdefault(norm(r[4]), [" ".join(str(r[4]).split()), 0, Decimal(0)])
                slot[1] += 1
                slot[2] -= r[3]
            for name, n_rows, total in sorted(spent.values(), key=lambda x: (-x[2], x[0])):
                unattributed.append(Unattributed(e, name, n_rows, total))
                findings.append(
                    Finding(
                        severity=Severity.info,
                        entity=e.key,
                        message=f"{e.name} spent ${total:,.2f} on {name} ({n_rows} ledger rows, "
                        f"{start.isoformat()} to {end.isoformat()}), marketing spend no "
                        "[[channels]] counterparties claim (ledger.csv; entity.toml [[channels]] "
                        "counterparties)",
                        amount=total,
                    )
                )
            avg, avg_source = average_booking(e.key, settings, bookings)
            revenue, n = bookings.get(e.key, (Decimal(0), 0))
            metrics[e.key].update(bookings_3m=n, average_booking=to_money(avg))
            booking_rows.append(BookingRow(e, revenue, n, avg, avg_source))
            key_channels = {k.strip().lower() for k in getattr(e, "key_channels", None) or []}
            candidates = []
            listed = {c.name.strip().lower() for c in e.channels}
            for c in e.channels:
                found = commission_in_force(e, c, settings, as_of)
                rate = found.rate
                net = None if rate is None or avg is None else avg * (1 - rate)
                seen = measured[c.name]
                if rate is None and not seen.measured:
                    unpriced.append(Unpriced(e, c.name))
                elif rate is not None:
                    economics.append(
                        ChannelEconomics(
                            e,
                            c.name,
                            c.status,
                            found,
                            avg,
                            None if avg is None else avg * rate,
                            net,
                        )
                    )
                fit = c.name.strip().lower() in key_channels
                if c.status != "optimised" and (rate is not None or fit or seen.measured):
                    status = c.status if c.status in LIVE else "absent"
                    step = Step(e, c.name, status, rate, found.source, net, fit)
                    step.measured_net = seen.net if seen.measured else None
                    candidates.append(step)
            for name in getattr(e, "key_channels", None) or []:
                if name.strip().lower() not in listed:
                    candidates.append(Step(e, name, "not listed", None, "", None, True))

            def rank(s: Step) -> tuple[Any, ...]:
                low = s.name.strip().lower()
                return (
                    order.index(low) if low in order else len(order),
                    s.measured_net is None,  # measured net contribution first, highest first
                    -(s.measured_net or 0),
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

        rollout: list[RolloutRow] = []
        for e in ctx.entities:
            for i, s in enumerate(steps[e.key], 1):
                rollout.append(RolloutRow(e, i, s, as_of + timedelta(days=step_days * i)))
            if steps[e.key]:
                s = steps[e.key][0]
                title = (
                    f"List {e.name} on {s.name}"
                    if s.new_listing
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
        plans: list[EmailPlan] = []
        for e in ctx.entities:
            size = e.audience.get("email_list")
            if size is None:
                metrics[e.key].update(warmup_days=None, can_spam_gaps=None)
                continue
            size = int(size)
            senders = [i for i in e.stack if getattr(i, "sends_mail", None) is True]
            auth_due, from_cto = email_auth_due(ctx, e, senders, as_of, settings)
            day_one = as_of + timedelta(days=start_days)
            if auth_due is not None:  # no send before the authentication fixes are due
                day_one = max(day_one, auth_due + timedelta(days=1))
            schedule = warmup_schedule(size, day_one, first, factor)
            metrics[e.key]["warmup_days"] = len(schedule)
            day_one = schedule[0].date  # CAN-SPAM gaps are fixed before the first send
            segs = [
                Segment(name, count, None if count is None or not size else count / size)
                for name, count in segments(e.audience)
            ]
            unready = []
            for i in senders:
                failing = [
                    check
                    for check, ok in (
                        ("SPF", i.spf is True),
                        ("DKIM", i.dkim is True),
                        ("DMARC", i.dmarc in ("quarantine", "reject")),
                    )
                    if not ok
                ]
                if failing:
                    unready.append(UnreadySender(i.name, failing, i.dmarc))
            actions.append(
                Action(
                    title=f"Warm up {e.name}'s email list: {first} emails on day 1, "
                    f"x{factor} a day until a day reaches the whole list",
                    topic="email-warm-up",
                    owner=self.name,
                    due=schedule[-1].date,
                    priority=3,
                    entity=e.key,
                    severity=Severity.info,
                )
            )
            checklist = can_spam_checklist(e.audience, unsub_days)
            for check in checklist:
                if check.problem:
                    findings.append(
                        Finding(
                            severity=Severity.warning,
                            entity=e.key,
                            message=f"{e.name} email list of {size:,}: {check.problem} "
                            f"(entity.toml {check.key})",
                        )
                    )
                    actions.append(
                        Action(
                            title=check.fix.format(name=e.name),
                            topic=f"can-spam:{check.key}",
                            owner=self.name,
                            due=day_one,
                            priority=2,
                            entity=e.key,
                            severity=Severity.warning,
                        )
                    )
            metrics[e.key]["can_spam_gaps"] = sum(check.gap for check in checklist)
            plans.append(
                EmailPlan(
                    e, size, segs, len(senders), unready, schedule, checklist, auth_due, from_cto
                )
            )
        with_list = [e for e in ctx.entities if metrics[e.key]["warmup_days"] is not None]
        metrics["consolidated"]["warmup_days"] = max(
            (metrics[e.key]["warmup_days"] for e in with_list), default=None
        )
        metrics["consolidated"]["can_spam_gaps"] = (
            sum(metrics[e.key]["can_spam_gaps"] for e in with_list) if with_list else None
        )

        changes = changes_since(ctx, metrics, actions)
        out = render_template(
            ctx,
            self,
            {
                "metrics": metrics,
                "matrix": matrix,
                "bookings": booking_rows,
                "economics": economics,
                "unpriced": unpriced,
                "channel_ledger": channel_ledger[:max_rows],
                "channel_ledger_left_out": max(len(channel_ledger) - max_rows, 0),
                "unattributed": unattributed[:max_rows],
                "unattributed_left_out": max(len(unattributed) - max_rows, 0),
                "max_rows": max_rows,
                "marketing_accounts": [str(x) for x in settings["marketing_accounts"]],
                "rollout": rollout,
                "email_plans": plans,
                "changes": changes,
                "window_start": start,
                "window_end": end,
                "rating_warning": rating_warning,
                "rollout_step_days": step_days,
                "warmup_start": first,
                "warmup_factor": factor,
                "warmup_start_days": start_days,
                "unsubscribe_business_days": unsub_days,
                "pct": pct,
                "number": number,
            },
        )
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
            subject=out.subject,
            sections=out.sections,
            findings=findings,
            actions=actions,
            metrics=metrics,
        )


AUTH_CHECKS = ("spf", "dkim", "dmarc", "conflict_dmarc", "conflict_spf")


def email_auth_due(
    ctx: Any, entity: Any, senders: list[Any], as_of: date, settings: dict[str, Any]
) -> tuple[date | None, bool]:
    """The last due date of the entity's failing SPF/DKIM/DMARC fixes: the CTO report's
    actions when it is in the run (True), else `email_auth_due_days` after as_of when a
    sender fails (False); None when every sender is authenticated."""
    cto = next((r for r in getattr(ctx, "reports", []) or [] if r.role == "cto"), None)
    if cto is not None:
        dues = [
            a.due
            for a in cto.actions
            if a.entity == entity.key and a.due and (a.topic or "").split(":")[0] in AUTH_CHECKS
        ]
        return (max(dues), True) if dues else (None, True)
    failing = any(
        not (i.spf is True and i.dkim is True and i.dmarc in ("quarantine", "reject"))
        for i in senders
    )
    if failing:
        return as_of + timedelta(days=int(settings["email_auth_due_days"])), False
    return None, False


@hookimpl
def register_roles(register: Any) -> None:
    register(CMO())
