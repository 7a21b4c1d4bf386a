"""config → sources → roles → render → archive → deliver. The CLI only calls in here."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import plugin_manager as plugins
from .config import Config, bare_address
from .errors import ConfigError, DeliveryError, ExecReportError

Progress = Callable[[str], None]


def stderr_progress(text: str) -> None:
    """Progress as an INFO log line (see core/console.py); plain stderr without logging."""
    import logging

    logger = logging.getLogger("execreport")
    if logger.handlers:
        logger.info(text)
    else:
        print(text, file=sys.stderr, flush=True)


def quiet(text: str) -> None:
    pass


@dataclass
class Built:
    role: Any
    report: Any
    rendered: Any
    version: Any = None
    new: bool = False

    @property
    def critical(self) -> bool:
        return bool(self.report.critical)


@dataclass
class Build:
    as_of: date
    period: str
    entities: list[Any]
    items: list[Built]


@dataclass
class Outcome:
    role: str
    version: int
    sender: str
    recipients: list[str]
    status: str  # sent | skipped | in-flight | failed | uncertain | pending | planned
    detail: str = ""
    size: int = 0


@dataclass
class RunResult:
    build: Build | None
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        # a row another live run is sending is that run's to report, not a failure here
        return all(o.status in OK_STATUSES for o in self.outcomes)


# `suppressed`: one recipient left out after a bounce or complaint; the others still get it
OK_STATUSES = ("sent", "skipped", "planned", "in-flight", "suppressed")


# -- sources ----------------------------------------------------------------------------
def load_entities(config: Config, as_of: date, progress: Progress = quiet) -> list[Any]:
    from .sources import FolderSource

    if not config.entities:
        raise ConfigError(f"{config.path}: entities: no [entities.<key>] table; add one")
    registered = plugins.sources()
    entities = []
    for key, settings in config.entities.items():
        source = registered.get(key) or FolderSource(key=key)
        progress(f"loading {key} ({type(source).__name__})")
        entities.append(source.load(entity_settings(config, key, settings), as_of))
    return entities


def entity_settings(config: Config, key: str, settings: Any) -> dict[str, Any]:
    """What a source's `load` receives for `[entities.<key>]`: its keys, with the paths
    resolved against the config file's folder."""
    data = {**(settings.model_extra or {}), "path": config.resolve(settings.path)}
    if data.get("board"):  # board files, like every path in the config, are relative to it
        boards = data["board"] if isinstance(data["board"], list) else [data["board"]]
        data["board"] = [config.resolve(b) for b in boards]
    data["_config_key"] = f"{config.path}: entities.{key}.path"
    data["_config_dir"] = str(config.resolve("."))  # `ledger` files are relative to it
    return data


# -- roles ------------------------------------------------------------------------------
def selected_roles(config: Config, only: Iterable[str] | None = None) -> list[Any]:
    registered = plugins.roles()
    names = list(only) if only else [n for n in registered]
    for name in names:
        if name not in registered:
            known = ", ".join(sorted(registered))
            raise ConfigError(f"unknown role {name!r} (registered: {known})")
    for name in sorted(set(config.roles) - set(registered)):
        plugins.warn(
            f"{config.path}: roles.{name}: no role {name!r} is registered; the table is "
            f"ignored (registered: {', '.join(sorted(registered))})"
        )
    chosen = [registered[n] for n in names]
    if not only:
        chosen = [r for r in chosen if _enabled(config, r.name)]
    return _ordered(chosen)


def _enabled(config: Config, name: str) -> bool:
    return config.roles.get(name) is None or config.roles[name].enabled


def enabled_roles(config: Config) -> list[Any]:
    """The roles a full run builds (no warnings: `selected_roles` gives those)."""
    return _ordered([r for n, r in plugins.roles().items() if _enabled(config, n)])


def _ordered(roles: list[Any]) -> list[Any]:
    # roles that summarise the others (the CEO's shortfalls) are built after them
    return sorted(
        roles, key=lambda r: (bool(getattr(r, "consolidates", False)), r.priority, r.name)
    )


def build(
    config: Config,
    *,
    as_of: date | None = None,
    only: Iterable[str] | None = None,
    archive: Any = None,
    progress: Progress = quiet,
    consolidate: bool = True,
) -> Build:
    """Load the entities and build every selected role's report (nothing is stored).

    A selected role that consolidates the others (the CEO) sees the same reports as in a
    full run: they are built too, and left out of the result; `consolidate=False` builds it
    over the selected roles only (a role's test in isolation)."""
    from .charts import attach as attach_charts
    from .delivery_health import delivery_health_section
    from .ledger import Ledger, use_database
    from .models import Report, RoleContext, Task
    from .progress import progress_section
    from .render import render

    day = config.as_of(as_of)
    period = config.period(day)
    pm = plugins.get_plugin_manager()
    roles = selected_roles(config, only)
    wanted = {r.name for r in roles}
    if consolidate and only and any(getattr(r, "consolidates", False) for r in roles):
        roles = _ordered([*roles, *(r for r in enabled_roles(config) if r.name not in wanted)])
    with use_database():
        loaded = load_entities(config, day, progress)
        money = currency_plan(config, loaded)
        # the roles see every entity in [report] currency: converted at its stated rate, or
        # (no rate) not at all, so that nothing in another currency is summed as dollars
        entities = [
            convert_entity(e, money.rates[e.key], money.currency) if e.key in money.rates else e
            for e in loaded
            if e.key not in money.left_out
        ]
        consolidated = Ledger.consolidate([e.ledger for e in entities])
        board = [
            Task.model_validate(t) if not isinstance(t, Task) else t
            for e in entities
            for t in e.tasks
        ]
        # progress also reads the board the kanban sender writes, when no entity reads it
        tracked = board + kanban_board_tasks(config, entities)
        items: list[Built] = []
        for role in roles:
            progress(f"building {role.name}")
            previous = None
            if archive is not None:
                # the baseline is what readers last received, not a version never delivered
                last = archive.last_sent(role.name) or archive.latest(role.name)
                previous = last.report() if last else None
            ctx = RoleContext(
                entities=entities,
                ledger=consolidated,
                as_of=day,
                period=period,
                settings=config.role_settings(role.name),
                previous=previous,
                board=board,
                reports=[b.report for b in items],
                template_folder=template_folder(config),
            )
            try:
                report = role.build(ctx)
            except ExecReportError:
                raise
            except Exception as exc:
                raise ExecReportError(
                    f"role {role.name!r} failed to build: {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(report, Report):
                raise ExecReportError(
                    f"role {role.name!r} returned {type(report).__name__}, not a Report"
                )
            report.findings.extend(money.findings())
            report.sections.extend(money.sections(loaded, day))
            if "priority" not in report.model_fields_set:
                report.priority = role.priority
            if not report.subject:
                report.subject = f"{report.title}: {period}"
            if archive is not None:
                # what became of the actions of the last version that went out
                sent = archive.last_sent(role.name)
                section = progress_section(
                    sent.report() if sent else None,
                    tracked,
                    day,
                    since=f"v{sent.version} of {sent.as_of}" if sent else "",
                )
                if section is not None:
                    report.sections.insert(0, section)
                if getattr(role, "consolidates", False):
                    # how the last reports reached their readers (SES events, when read)
                    health = delivery_health_section(
                        archive, [r.name for r in enabled_roles(config)]
                    )
                    if health is not None:
                        report.sections.append(health)
            pm.hook.report_built(report=report, ctx=ctx)
            attach_charts(report, ctx)
            rendered = render(
                report, as_of=day, period=period, entities=entities, currency_note=money.note
            )
            items.append(Built(role=role, report=report, rendered=rendered))
    items = [b for b in items if b.role.name in wanted]
    entities = loaded
    items.sort(key=lambda b: (not b.critical, b.role.priority, b.role.name))
    return Build(as_of=day, period=period, entities=entities, items=items)


@dataclass
class CurrencyPlan:
    """How each entity's money enters the consolidated ledger: as it is (the report's
    currency), converted at a stated [report.fx] rate, or left out (no rate)."""

    currency: str
    rates: dict[str, Any] = field(default_factory=dict)  # entity key -> rate (converted)
    left_out: dict[str, str] = field(default_factory=dict)  # entity key -> its currency
    names: dict[str, str] = field(default_factory=dict)
    note: str = ""  # the sentence every report states, when anything was converted

    def findings(self) -> list[Any]:
        from .models import Finding, Severity

        return [
            Finding(
                severity=Severity.warning,
                entity=key,
                message=(
                    f"{self.names[key]} reports in {code} and [report.fx] has no {code} rate: "
                    f"its figures are left out of every {self.currency} figure in this report "
                    f'(set [report.fx] {code} = "RATE" and date = "YYYY-MM-DD" to include them)'
                ),
            )
            for key, code in self.left_out.items()
        ]

    def sections(self, entities: list[Any], as_of: date) -> list[Any]:
        """For each entity left out, its own figures in its own currency, never summed with
        the others: money in, money out and the net, over the report's last 90 days."""
        from datetime import timedelta

        from .models import Section
        from .render import md_escape
        from .render import money as fmt

        out = []
        start = as_of - timedelta(days=89)
        for e in entities:
            code = self.left_out.get(e.key)
            if code is None:
                continue
            got, spent = e.ledger.sql(
                "SELECT coalesce(sum(amount) FILTER (WHERE amount > 0), 0), "
                "coalesce(sum(amount) FILTER (WHERE amount < 0), 0) FROM ledger "
                "WHERE date BETWEEN ? AND ?",
                [start, as_of],
            )[0]
            body = "\n".join(
                [
                    f"{md_escape(e.name)} reports in {code}; with no [report.fx] rate its "
                    f"figures are shown here in {code} only and are in no total above.",
                    "",
                    f"| {start.isoformat()} to {as_of.isoformat()} | {code} |",
                    "|---|---:|",
                    f"| Money in | {md_escape(fmt(got, code))} |",
                    f"| Money out | {md_escape(fmt(spent, code))} |",
                    f"| Net | {md_escape(fmt(got + spent, code))} |",
                ]
            )
            out.append(Section(heading=f"{e.name} in {code} (not consolidated)", body=body))
        return out


def convert_entity(e: Any, rate: Any, home: str) -> Any:
    """The entity with its money in `home` currency: ledger amounts, opening cash, asset
    values and stack costs multiplied by `rate` (rounded to the cent)."""
    from decimal import ROUND_HALF_UP, Decimal

    from .ledger import Ledger

    def conv(value: Any) -> Any:
        if value is None:
            return None
        return (Decimal(value) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    ledger = Ledger.consolidate([e.ledger], [rate])
    ledger.source = e.ledger.source
    return e.model_copy(
        update={
            "currency": home,
            "ledger": ledger,
            "finance": e.finance.model_copy(update={"opening_cash": conv(e.finance.opening_cash)}),
            "assets": [a.model_copy(update={"value": conv(a.value)}) for a in e.assets],
            "stack": [s.model_copy(update={"monthly_cost": conv(s.monthly_cost)}) for s in e.stack],
        }
    )


def currency_plan(config: Config, entities: list[Any]) -> CurrencyPlan:
    """Never sum an entity in another currency as if it were in the report's: convert it
    at the configured dated rate (stated in the report), or leave it out with a finding."""
    home = config.report.currency
    plan = CurrencyPlan(currency=home)
    stated = []
    for e in entities:
        code = str(getattr(e, "currency", home) or home).upper()
        plan.names[e.key] = e.name
        if code == home:
            continue
        rate = config.report.rate(code)
        if rate is None:
            plan.left_out[e.key] = code
            continue
        plan.rates[e.key] = rate
        stated.append(f"{e.name} ({code}) at 1 {code} = {rate} {home}")
    if stated:
        day = config.report.fx["date"].isoformat()
        plan.note = f"Amounts in {home}; converted: {', '.join(stated)} (rates of {day})."
    return plan


def template_folder(config: Config) -> Any:
    """`[report] templates`, relative to the config file; None when not set."""
    if not config.report.templates:
        return None
    folder = config.resolve(config.report.templates)
    if not folder.is_dir():
        raise ConfigError(f"{config.path}: report.templates: {folder} is not a folder")
    return folder


def check_templates(config: Config, roles: Iterable[Any], progress: Progress = print) -> None:
    """Every role's template in force, checked without building: syntax, blocks that exist
    in the template extended, variables the role gives. All problems, one line each."""
    from .templates import check_role_template

    folder = template_folder(config)
    problems = []
    for role in roles:
        try:
            where = check_role_template(role, folder)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if where:
            progress(f"template {role.name}: {where}: ok")
    if problems:
        raise ConfigError("\n".join(problems))


def kanban_board_tasks(config: Config, entities: list[Any]) -> list[Any]:
    """The cards of the `[delivery.kanban] board`, unless an entity reads that file already."""
    from pathlib import Path

    from .boards import read_board

    raw = config.delivery.sender_settings("kanban").get("board")
    if "kanban" not in config.delivery.sender or not raw:
        return []
    path = config.resolve(raw).resolve()
    read = {(Path(e.path) / n).resolve() for e in entities if e.path for n in _FOLDER_BOARDS}
    for settings in config.entities.values():
        boards = (settings.model_extra or {}).get("board") or []
        read |= {
            config.resolve(b).resolve() for b in (boards if isinstance(boards, list) else [boards])
        }
    return [] if path in read else read_board(path)


_FOLDER_BOARDS = ("board.json", "board.md")


# -- delivery ---------------------------------------------------------------------------
def make_senders(config: Config) -> list[tuple[str, Any]]:
    factories = plugins.senders()
    out = []
    for name in config.delivery.sender:
        if name not in factories:
            known = ", ".join(sorted(factories))
            raise ConfigError(
                f"{config.path}: delivery.sender: unknown sender {name!r} (registered: {known})"
            )
        settings = config.delivery.sender_settings(name)
        settings.setdefault("_config", config)
        out.append((name, factories[name](settings)))
    return out


def check_delivery(config: Config, roles: Iterable[str]) -> None:
    """Everything about recipients that can be wrong, before anything is sent."""
    if not config.delivery.from_:
        raise ConfigError(
            f"{config.path}: delivery.from: no sender address; set it or SES_SENDER_EMAIL"
        )
    for role in roles:
        if not config.recipients(role):
            raise ConfigError(
                f"{config.path}: roles.{role}.to: no recipients for role {role!r}; set "
                f"[roles.{role}] to, or [delivery] to for every role"
            )


def message_for(
    config: Config, version: Any, sender_name: str, to: list[str], bcc: list[str]
) -> Any:
    from .charts import images
    from .models import Message

    report = version.report()
    entities = sorted({k for k in report.metrics if k != "consolidated"})
    inline = images(report) if version.html else []
    attachments = []
    if attach_pdf(config, version.role) and version.html:
        from .models import Attachment
        from .pdf import html_to_pdf

        attachments.append(
            Attachment(
                filename=f"{version.role}-v{version.version}.pdf",
                content=html_to_pdf(version.html, inline),
                mime_type="application/pdf",
            )
        )
    return Message(
        sender=config.delivery.from_,
        to=to,
        bcc=bcc,
        subject=version.subject,
        text=version.text,
        html=version.html,
        inline_images=inline,
        attachments=attachments,
        role=version.role,
        version=version.version,
        content_hash=version.content_hash,
        entities=entities,
        actions=report.actions,
    )


def attach_pdf(config: Config, role: str) -> bool:
    """`[roles.<name>] attach_pdf`, else `[report] attach_pdf`."""
    own = config.roles.get(role).attach_pdf if config.roles.get(role) else None
    return bool(config.report.attach_pdf if own is None else own)


def deliver(
    config: Config,
    archive: Any,
    versions: list[Any],
    *,
    resend: bool = False,
    dry_run: bool = False,
    recipients: dict[str, list[str]] | None = None,
    progress: Progress = quiet,
) -> list[Outcome]:
    """Deliver archived versions, in the given order, through every configured sender,
    each (version, recipients, sender) exactly once. `recipients` replaces a role's list
    (a resend to one reader). With `dry_run`, decide exactly as a real run would, from what
    the archive holds (`archive` may be None: nothing archived yet), and write nothing."""
    pm = plugins.get_plugin_manager()
    check_delivery(config, [v.role for v in versions])
    senders = make_senders(config)
    bcc = config.delivery.bcc
    if dry_run:
        return _plan(config, archive, versions, senders, bcc, resend, recipients)
    reclaimed, held = archive.reclaim()
    for d in reclaimed:
        who = f" (pid {d.owner_pid} on {d.owner_host} is gone)" if d.owner_pid else ""
        progress(f"delivery {d.id} was interrupted mid-send{who}: marked uncertain")
    for d in held:
        progress(f"delivery {d.id} is in flight in another run (pid {d.owner_pid}): left alone")
    planned: list[Planned] = []
    before: list[Outcome] = []
    suppressed = _suppressions(archive)
    for v in versions:
        for name, sender in senders:
            to = (recipients or {}).get(v.role) or config.recipients(v.role)
            keep, told = _without_suppressed(v, name, to, suppressed, progress)
            before += told
            if not keep:
                before.append(_no_recipient_left(v, name, to))
                continue
            d = _row(archive, v, name, to, keep, bcc, resend, write=True)
            planned.append(Planned(v, name, sender, d))
            if not resend:
                for address in _retries_due(archive, v, name, sender, keep):
                    r = archive.plan_delivery(v.id, name, [address], bcc)
                    _add_retry(planned, Planned(v, name, sender, r, retry=address))
    try:
        with archive.keep_leases():
            return before + _deliver_planned(config, archive, planned, bcc, resend, progress, pm)
    finally:
        for _, sender in senders:  # a sender holding a connection (SMTP) lets it go
            close = getattr(sender, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    pass


@dataclass
class Planned:
    """A delivery row to send (or skip), and for a retry after a transient bounce, whom."""

    version: Any
    name: str
    sender: Any
    row: Any
    retry: str | None = None


def _suppressions(archive: Any) -> dict[str, Any]:
    return archive.suppressions() if getattr(archive, "has_events", False) else {}


def _without_suppressed(
    v: Any, name: str, to: list[str], suppressed: dict[str, Any], progress: Progress = quiet
) -> tuple[list[str], list[Outcome]]:
    """`to` without the suppressed addresses, and one `suppressed` outcome for each left out."""
    keep, told = [], []
    for address in to:
        s = suppressed.get(bare_address(address).lower())
        if s is None:
            keep.append(address)
            continue
        origin = f" on {s.role} v{s.version}" if s.role else ""
        why = f": {s.diagnostic}" if s.diagnostic else ""
        detail = (
            f"not sent: suppressed after a {s.reason}{origin}{why} "
            "(execreport suppression remove ADDRESS sends to it again)"
        )
        told.append(Outcome(v.role, v.version, name, [address], "suppressed", detail))
        progress(f"{v.role} v{v.version} via {name}: skipping {bare_address(address)}, {detail}")
    return keep, told


def _no_recipient_left(v: Any, name: str, to: list[str]) -> Outcome:
    return Outcome(
        v.role,
        v.version,
        name,
        to,
        "failed",
        "no deliverable recipient left: every recipient is suppressed",
    )


def _row(
    archive: Any,
    v: Any,
    name: str,
    to: list[str],
    keep: list[str],
    bcc: list[str],
    resend: bool,
    *,
    write: bool,
) -> Any:
    """The delivery row for `keep` (the recipients left of `to`). When suppression made the
    list shorter, a row of this version that already went to all of `keep` stands for it:
    the others never get the same version twice because one reader bounced."""
    wanted = {bare_address(a).lower() for a in keep}
    if not resend and wanted != {bare_address(a).lower() for a in to} and archive is not None:
        for d in archive.deliveries(report_id=v.id) if v.id else []:
            have = {bare_address(a).lower() for a in d.recipients}
            if d.sender == name and d.status in ("sent", "uncertain", "sending") and wanted <= have:
                return d
    if write:
        return archive.plan_delivery(v.id, name, keep, bcc)
    return archive.find_delivery(v.id, name, keep) if archive is not None and v.id else None


def _retries_due(archive: Any, v: Any, name: str, sender: Any, keep: list[str]) -> list[str]:
    """The recipients of `v` whose last copy through `name` bounced transiently, with
    retries left (`max_transient_retries`), as configured."""
    limit = int(getattr(sender, "max_transient_retries", 0) or 0)
    if not v.id or limit <= 0 or not getattr(archive, "has_events", False):
        return []
    by_bare = {bare_address(a).lower(): a for a in keep}
    out = []
    for s in archive.transient_due(v.id, limit):
        d = archive.delivery(s.delivery_id)
        if d is not None and d.sender == name and s.recipient in by_bare:
            out.append(by_bare[s.recipient])
    return out


def _add_retry(planned: list[Planned], retry: Planned) -> None:
    for i, p in enumerate(planned):
        if p.row is not None and retry.row is not None and p.row.id == retry.row.id:
            planned[i] = retry  # the row of a one-recipient list: sent again as the retry
            return
    planned.append(retry)


def _in_flight(d: Any) -> tuple[str, str]:
    return "in-flight", f"in flight in another run (pid {d.owner_pid})"


def _skip(
    config: Config, archive: Any, v: Any, name: str, d: Any, resend: bool
) -> tuple[str, str] | None:
    """Why the row `d` (None: not planned yet) of version `v` via `name` is not sent: a
    (status, detail) pair, or None when it goes out."""
    status = d.status if d is not None else None
    if status == "sending":
        if not archive.owner_gone(d):
            return _in_flight(d)  # even with --resend: it is another live run's
        # only a dry run sees this: a real run has reclaimed it, as `uncertain`, by now
        status = "uncertain"
    if resend:
        return None
    if status == "sent":
        return "skipped", "already sent"
    if status == "uncertain":
        return "uncertain", "outcome unknown; not resent without --resend"
    if config.delivery.only_when_changed and archive is not None:
        last = archive.last_delivered(
            v.role, name, d.recipients if d else config.recipients(v.role)
        )
        # "same content": the same report apart from its comparisons with the previous one
        if (
            last is not None
            and last.id != v.id
            and (last.base_hash or last.content_hash) == (v.base_hash or v.content_hash)
        ):
            return "skipped", "content unchanged"
    return None


def _plan(
    config: Config,
    archive: Any,
    versions: list[Any],
    senders: list[tuple[str, Any]],
    bcc: list[str],
    resend: bool,
    recipients: dict[str, list[str]] | None,
) -> list[Outcome]:
    """The dry run's plan: each row's fate in a real run, from the archive as it is."""
    out = []
    suppressed = _suppressions(archive)
    for v in versions:
        full = (recipients or {}).get(v.role) or config.recipients(v.role)
        for name, sender in senders:
            to, told = _without_suppressed(v, name, full, suppressed)
            out += told
            if not to:
                out.append(_no_recipient_left(v, name, full))
                continue
            d = _row(archive, v, name, full, to, bcc, resend, write=False)
            message = message_for(config, v, name, to, bcc)
            size = len(message.as_mime().as_bytes())
            pdf = sum(len(a.content) for a in message.attachments if a.mime_type.endswith("pdf"))
            # the size includes the PDF: the sender's size check (SES 40 MB) sees it too
            with_pdf = f" (PDF attached: {pdf / 1024:.1f} KiB)" if pdf else ""
            if not resend:
                for address in _retries_due(archive, v, name, sender, to):
                    out.append(
                        Outcome(
                            v.role,
                            v.version,
                            name,
                            [address],
                            "planned",
                            "again: the last copy bounced transiently",
                            size,
                        )
                    )
            skip = _skip(config, archive, v, name, d, resend)
            if skip is not None:
                out.append(Outcome(v.role, v.version, name, to, skip[0], skip[1] + with_pdf, size))
                continue
            if not v.id:
                detail = "new version"
            elif d is None:
                detail = "not delivered yet"
            elif d.status == "sending":
                detail = "was interrupted mid-send (uncertain)"
            elif d.status in ("sent", "uncertain"):
                detail = f"was {d.status}"
            else:
                detail = d.status  # pending, failed
            out.append(Outcome(v.role, v.version, name, to, "planned", detail + with_pdf, size))
    return out


def _deliver_planned(
    config: Config,
    archive: Any,
    planned: list[Planned],
    bcc: list[str],
    resend: bool,
    progress: Progress,
    pm: Any,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    # decide first what needs sending, so that every sender it goes through is checked
    # before the first message leaves: a bad board or an unverified identity sends nothing
    # (a retry after a transient bounce goes again as a resend of its own row would)
    skip: dict[int, tuple[str, str]] = {}
    for i, p in enumerate(planned):
        why = _skip(config, archive, p.version, p.name, p.row, resend or p.retry is not None)
        if why is not None:
            skip[i] = why
    checked: set[str] = set()
    for i, p in enumerate(planned):
        if i not in skip and p.name not in checked:
            progress(f"preflight {p.name}")
            p.sender.check()  # raises DeliveryError before anything went out
            checked.add(p.name)
    stopped = ""
    to_send = sum(1 for i in range(len(planned)) if i not in skip)
    done = 0
    for i, p in enumerate(planned):
        v, name, sender, d = p.version, p.name, p.sender, p.row
        base = dict(role=v.role, version=v.version, sender=name, recipients=d.recipients)
        if stopped:
            outcomes.append(Outcome(**base, status="pending", detail=stopped))
            continue
        if i in skip:
            status, detail = skip[i]
            outcomes.append(Outcome(**base, status=status, detail=detail))
            continue
        message = message_for(config, v, name, d.recipients, bcc)
        done += 1
        if hasattr(sender, "wait"):
            bucket = getattr(sender, "bucket", None)
            pause = _pacing_wait(bucket)
            if pause > 0.05:
                progress(
                    f"pacing {name}: waiting {pause:.1f}s before {v.role} v{v.version} "
                    f"({done} of {to_send}, {to_send - done} left after it)"
                )
            sender.wait()  # pacing happens before the row is taken: a kill here loses nothing
        progress(f"sending {done} of {to_send}: {v.role} v{v.version} via {name}")
        if p.retry is not None:
            progress(f"{v.role} v{v.version} via {name}: again to {p.retry} (transient bounce)")
        if not archive.claim(d.id, resend=resend or p.retry is not None):
            now = archive.delivery(d.id)
            if now is not None and now.status == "sending":
                status, detail = _in_flight(now)
            else:
                state = now.status if now is not None else "gone"
                status, detail = "skipped", f"taken by another run ({state})"
            outcomes.append(Outcome(**base, status=status, detail=detail))
            progress(f"{v.role} v{v.version} via {name}: {detail}")
            continue
        try:
            receipt = sender.send(message)
        except DeliveryError as exc:
            if exc.uncertain:
                # the sender cannot tell whether it went out: never resent without --resend
                archive.mark_failed(d.id, str(exc), status="uncertain")
                outcomes.append(Outcome(**base, status="uncertain", detail=str(exc)))
                progress(f"uncertain {v.role} v{v.version} via {name}: {exc}")
                if exc.stop:
                    stopped = str(exc)
                continue
            if exc.stop:
                archive.release(d.id, str(exc))
                stopped = str(exc)
                outcomes.append(Outcome(**base, status="pending", detail=stopped))
                progress(f"stopped: {exc}")
                continue
            archive.mark_failed(d.id, str(exc))
            outcomes.append(Outcome(**base, status="failed", detail=str(exc)))
            progress(f"failed {v.role} v{v.version} via {name}: {exc}")
            continue
        except Exception as exc:
            archive.mark_failed(d.id, f"{type(exc).__name__}: {exc}")
            outcomes.append(Outcome(**base, status="failed", detail=f"{type(exc).__name__}: {exc}"))
            progress(f"failed {v.role} v{v.version} via {name}: {type(exc).__name__}: {exc}")
            continue
        archive.mark_sent(d.id, receipt.message_id)
        progress(f"sent {v.role} v{v.version} via {name} to {', '.join(d.recipients)}")
        detail = receipt.message_id
        if p.retry is not None:
            archive.count_retry(v.id, bare_address(p.retry))
            detail = f"{receipt.message_id} (again after a transient bounce)"
        outcomes.append(Outcome(**base, status="sent", detail=detail))
        pm.hook.message_sent(message=message, receipt=receipt)
    return outcomes


def _pacing_wait(bucket: Any) -> float:
    """How long the sender's token bucket will make the next message wait (0.0: none)."""
    try:
        bucket._refill()
        return max(0.0, (min(1.0, bucket.capacity) - bucket.tokens) / bucket.rate)
    except Exception:
        return 0.0


# -- guards -----------------------------------------------------------------------------
def guard_problems(config: Config, build: Build) -> list[str]:
    """What makes a build unfit to send: an entity with no data or stale data, a report
    with no figures. Each problem is one line naming the entity or report."""
    problems = []
    days = config.report.stale_after_days
    for e in build.entities:
        count, last = e.ledger.sql(
            "SELECT count(*), max(date) FROM ledger WHERE date <= ?", [build.as_of]
        )[0]
        where = e.ledger.source or e.key
        if count == 0:
            problems.append(
                f"entity {e.key} ({e.name}) has no ledger rows on or before "
                f"{build.as_of.isoformat()} in {where}"
            )
        elif (build.as_of - last).days > days:
            problems.append(
                f"entity {e.key} ({e.name}) is stale: its last ledger row is dated "
                f"{last.isoformat()}, {(build.as_of - last).days} days before "
                f"{build.as_of.isoformat()} (stale_after_days = {days}) in {where}"
            )
    for item in build.items:
        figures = [v for scope in item.report.metrics.values() for v in scope.values()]
        if not figures:
            problems.append(f"report {item.report.role} has no figures")
    return problems


def notify(config: Config, subject: str, lines: list[str], progress: Progress = quiet) -> bool:
    """Tell the owner (`[delivery] notify`) in one short message, through the first
    configured sender that takes it. Returns whether a sender took it."""
    from .models import Message

    if not config.delivery.notify or not config.delivery.from_:
        return False
    text = "\n".join([subject, "", *[f"- {ln}" for ln in lines], ""])
    message = Message(
        sender=config.delivery.from_,
        to=config.delivery.notify,
        subject=subject,
        text=text,
        role="notice",
    )
    try:
        senders = make_senders(config)
    except ExecReportError:
        return False
    for name, sender in senders:
        if not getattr(sender, "accepts_notices", True):
            continue
        try:
            sender.check()
            sender.send(message)
        except Exception as exc:  # the notice is best effort: the exit code tells anyway
            progress(f"notice via {name} failed: {exc}")
            continue
        progress(f"notified {', '.join(config.delivery.notify)} via {name}")
        return True
    return False


def archive_path(config: Config) -> Any:
    return config.resolve(config.archive.path)


def open_archive(config: Config) -> Any:
    from .archive import Archive

    return Archive(archive_path(config), new=config.archive.new_archive)


@contextlib.contextmanager
def reading_archive(config: Config) -> Iterator[Any]:
    """The archive opened read-only (nothing is written, not even a migration), or None
    when there is none yet: for a dry run, `build` and `preview`."""
    from .archive import Archive

    path = archive_path(config)
    if not path.exists():
        yield None
        return
    archive = Archive(path, readonly=True)
    try:
        yield archive
    finally:
        archive.close()


def run(
    config: Config,
    *,
    as_of: date | None = None,
    only: Iterable[str] | None = None,
    dry_run: bool = False,
    resend: bool = False,
    force: str | None = None,
    recipients: list[str] | None = None,
    announce: Callable[[list[Outcome]], None] | None = None,
    progress: Progress = quiet,
    events: bool = True,
) -> RunResult:
    """The main job: (read the SES events queue,) build, archive, deliver. Guards stop it before anything is sent
    unless `force` gives the reason to send anyway (recorded in the archive).

    A dry run reads the archive and plans what a real run would do (the same versions, new
    or unchanged, and the same skips) without writing anything. With `resend`, `announce`
    is given the plan of what goes out again before anything is sent."""
    from .errors import GuardError

    # fail on bad delivery config before the (possibly long) build
    make_senders(config)
    opened = reading_archive(config) if dry_run else open_archive(config)
    with opened as archive:
        if events and not dry_run:
            from .events import drain_before

            drain_before(config, archive, progress)
        result = build(config, as_of=as_of, only=only, archive=archive, progress=progress)
        check_delivery(config, [b.role.name for b in result.items])
        problems = guard_problems(config, result)
        if problems and not force:
            if not dry_run:
                notify(
                    config,
                    f"execreport: run stopped for {result.as_of.isoformat()}",
                    problems,
                    progress,
                )
            raise GuardError(problems)
        for problem in problems:
            progress(f"forced past: {problem}")
        versions = []
        for item in result.items:
            if dry_run:
                versions.append(_would_store(archive, item, result, progress))
                continue
            item.version, item.new = archive.store(
                item.report,
                item.rendered,
                as_of=result.as_of.isoformat(),
                period=result.period,
                base=item.rendered.base,
            )
            if problems and force:
                archive.set_forced(item.version.id, f"{force} (guards: {'; '.join(problems)})")
            state = "new version" if item.new else "unchanged"
            progress(f"archived {item.role.name} v{item.version.version} ({state})")
            versions.append(item.version)
        by_role = _readers(config, versions, recipients, archive) if recipients else None
        if by_role is not None:
            versions = [v for v in versions if v.role in by_role]
        if resend and announce is not None and not dry_run:
            announce(
                _planned_only(
                    deliver(
                        config, archive, versions, resend=True, dry_run=True, recipients=by_role
                    )
                )
            )
        outcomes = deliver(
            config,
            archive,
            versions,
            resend=resend,
            dry_run=dry_run,
            recipients=by_role,
            progress=progress,
        )
    run_result = RunResult(build=result, outcomes=outcomes)
    if not dry_run:
        report_failures(config, run_result, progress)
    return run_result


def _would_store(archive: Any, item: Built, result: Build, progress: Progress) -> Any:
    """The version a real run's `store` would give `item`: the archived one when the content
    is unchanged, else an unsaved one with the next number (id 0)."""
    from .archive import Version, content_hash

    existing, number = (
        archive.peek(item.report, item.rendered, base=item.rendered.base)
        if archive is not None
        else (None, 1)
    )
    if existing is not None:
        progress(f"would archive nothing for {item.role.name}: v{number} unchanged")
        return existing
    progress(f"would archive {item.role.name} v{number} (new version)")
    r = item.report
    return Version(
        id=0,
        role=r.role,
        version=number,
        content_hash=content_hash(item.rendered.markdown),
        as_of=result.as_of.isoformat(),
        period=result.period,
        built_at="",
        title=r.title,
        subject=r.subject,
        critical=r.critical,
        priority=r.priority,
        markdown=item.rendered.markdown,
        html=item.rendered.html,
        text=item.rendered.text,
        report_json=r.model_dump_json(),
        base_hash=content_hash(item.rendered.base),
    )


def _planned_only(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.status == "planned"]


def _readers(
    config: Config, versions: list[Any], addresses: list[str], archive: Any = None
) -> dict[str, list[str]]:
    """Per role, which of `addresses` read its report (as configured, or as recorded on a
    delivery of that version): a resend to one reader never reaches anyone else. An
    address that reads none of `versions` is refused."""
    wanted = {bare_address(a).lower(): a for a in addresses}
    out: dict[str, list[str]] = {}
    for v in versions:
        readers = list(config.recipients(v.role))
        if archive is not None and v.id:
            readers += [a for d in archive.deliveries(report_id=v.id) for a in d.recipients]
        known = {bare_address(a).lower(): a for a in readers}
        chosen = [known[k] for k in wanted if k in known]
        if chosen:
            out[v.role] = list(dict.fromkeys(chosen))
    for key, given in wanted.items():
        if not any(key in {bare_address(a).lower() for a in lst} for lst in out.values()):
            names = ", ".join(f"{v.role} v{v.version}" for v in versions) or "nothing"
            raise ConfigError(
                f"--recipient {given}: not a recipient of {names}; resend only to a reader "
                "of the report"
            )
    return out


def report_failures(config: Config, result: RunResult, progress: Progress = quiet) -> None:
    """One short notice to the owner when deliveries failed or are uncertain."""
    bad = [o for o in result.outcomes if o.status in ("failed", "uncertain")]
    if bad:
        notify(
            config,
            f"execreport: {len(bad)} deliveries failed or uncertain",
            [
                f"{o.role} v{o.version} via {o.sender} to {', '.join(o.recipients)}: "
                f"{o.status}: {o.detail}"
                for o in bad
            ],
            progress,
        )


def send_pending(
    config: Config,
    *,
    resend: bool = False,
    roles: Iterable[str] | None = None,
    version: int | None = None,
    recipients: list[str] | None = None,
    announce: Callable[[list[Outcome]], None] | None = None,
    progress: Progress = quiet,
    events: bool = True,
) -> RunResult:
    """Deliver the latest archived version of each role (or of `roles`; or `version` of the
    one role) that is not yet delivered; with `resend`, send those again on purpose (to
    `recipients` only, when given), after `announce` was shown what goes out."""
    with open_archive(config) as archive:
        if events:
            from .events import drain_before

            drain_before(config, archive, progress)
        archived = _archived_roles(archive)
        chosen = list(dict.fromkeys(roles or archived))
        missing = [r for r in chosen if r not in archived]
        if missing:
            raise ConfigError(
                f"no archived version of role {missing[0]!r} in {archive_path(config)} "
                f"(archived: {', '.join(archived) or 'none'})"
            )
        if version is not None:
            if len(chosen) != 1:
                raise ConfigError("--version N needs one --role ROLE (versions are per role)")
            found = archive.version(chosen[0], version)
            if found is None:
                numbers = ", ".join(str(v.version) for v in archive.versions(chosen[0]))
                raise ConfigError(
                    f"role {chosen[0]!r} has no version {version} (versions: {numbers})"
                )
            selected = [found]
        else:
            selected = [v for v in (archive.latest(r) for r in chosen) if v]
        selected.sort(key=lambda v: (not v.critical, v.priority, v.role))
        by_role = _readers(config, selected, recipients, archive) if recipients else None
        if by_role is not None:
            selected = [v for v in selected if v.role in by_role]
        if resend and announce is not None:
            plan = deliver(config, archive, selected, resend=True, dry_run=True, recipients=by_role)
            announce(_planned_only(plan))
        outcomes = deliver(
            config, archive, selected, resend=resend, recipients=by_role, progress=progress
        )
    run_result = RunResult(build=None, outcomes=outcomes)
    report_failures(config, run_result, progress)
    return run_result


def _archived_roles(archive: Any) -> list[str]:
    return sorted({v.role for v in archive.versions()})


def recipients_display(addresses: list[str]) -> str:
    return ", ".join(bare_address(a) for a in addresses)


# -- history ----------------------------------------------------------------------------
def history(config: Config, role: str | None = None) -> list[dict[str, Any]]:
    """Each archived version with its deliveries, oldest first."""
    with open_archive(config) as archive:
        out = []
        for v in archive.versions(role):
            out.append(
                {
                    "role": v.role,
                    "version": v.version,
                    "built_at": v.built_at,
                    "as_of": v.as_of,
                    "period": v.period,
                    "content_hash": v.content_hash,
                    "critical": v.critical,
                    "forced": v.forced_reason,
                    "deliveries": [
                        {
                            "sender": d.sender,
                            "to": d.recipients,
                            "bcc": d.bcc,
                            "status": d.status,
                            "message_id": d.message_id,
                            "error": d.error,
                            "at": d.updated_at,
                        }
                        for d in archive.deliveries(report_id=v.id)
                    ],
                    "recipients": recipient_states(archive, v),
                }
            )
    if role and not out:
        raise ExecReportError(f"no archived versions of role {role!r} in {archive_path(config)}")
    return out


def recipient_states(archive: Any, v: Any) -> list[dict[str, Any]]:
    """Each recipient of version `v` (as sent, audit copy too) with its last SES event:
    `state` is delivered, bounced, complained, rejected, delayed, or `sent` (no event yet)."""
    states = {s.recipient: s for s in archive.recipient_states(v.id)}
    out = []
    seen: set[str] = set()
    for d in archive.deliveries(report_id=v.id):
        if d.status != "sent":
            continue
        for kind, addresses in (("to", d.recipients), ("bcc", d.bcc)):
            for a in addresses:
                key = bare_address(a).lower()
                if key in seen:
                    continue
                seen.add(key)
                s = states.get(key)
                out.append(
                    {
                        "address": key,
                        "kind": kind,
                        "sender": d.sender,
                        "state": s.state if s else "sent",
                        "bounce_type": s.bounce_type if s else None,
                        "diagnostic": s.diagnostic if s else None,
                        "event_at": s.event_at if s else None,
                        "message_id": s.message_id if s else d.message_id,
                        "retries": s.retries if s else 0,
                    }
                )
    return out


def show_recipients(config: Config, role: str, number: int | None = None) -> list[dict[str, Any]]:
    """`recipient_states` of an archived version (default: the latest)."""
    with open_archive(config) as archive:
        v = archive.version(role, number) if number else archive.latest(role)
        if v is None:
            what = f"version {number} of role {role!r}" if number else f"a version of {role!r}"
            raise ExecReportError(f"{archive_path(config)}: no {what} in the archive")
        return recipient_states(archive, v)


def archived_version(config: Config, role: str, number: int | None = None) -> Any:
    with open_archive(config) as archive:
        v = archive.version(role, number) if number else archive.latest(role)
    if v is None:
        what = f"version {number} of role {role!r}" if number else f"a version of role {role!r}"
        raise ExecReportError(f"{archive_path(config)}: no {what} in the archive")
    return v


def diff_versions(
    config: Config, role: str, v1: int | None = None, v2: int | None = None, *, stat: bool = False
) -> str:
    """A unified diff of two versions' Markdown (default: the last two)."""
    return diff_document(config, role, v1, v2, stat=stat)["diff"]


def diff_document(
    config: Config, role: str, v1: int | None = None, v2: int | None = None, *, stat: bool = False
) -> dict[str, Any]:
    """The two versions compared (number, as_of, hash, deliveries) and their diff. Fewer
    than two versions to compare is an error (exit 1), not an empty diff."""
    from .archive import diff_markdown

    with open_archive(config) as archive:
        versions = archive.versions(role)
        if not versions:
            raise ExecReportError(f"{archive_path(config)}: no versions of role {role!r}")
        numbers = [v.version for v in versions]
        if len(numbers) < 2 and v1 is None:
            raise ExecReportError(
                f"role {role!r} has only version {numbers[0]} in {archive_path(config)}: "
                "diff needs two versions to compare"
            )
        new = v2 or numbers[-1]
        old = v1 or (numbers[-2] if new == numbers[-1] else new - 1)
        by = {v.version: v for v in versions}
        for n in (old, new):
            if n not in by:
                raise ExecReportError(
                    f"role {role!r} has no version {n} (versions: {', '.join(map(str, numbers))})"
                )

        def side(v: Any) -> dict[str, Any]:
            return {
                "version": v.version,
                "as_of": v.as_of,
                "content_hash": v.content_hash,
                "deliveries": [
                    {
                        "role": v.role,
                        "version": v.version,
                        "sender": d.sender,
                        "status": d.status,
                        "recipients": [bare_address(a) for a in d.recipients],
                    }
                    for d in archive.deliveries(report_id=v.id)
                ],
            }

        text = diff_markdown(by[old], by[new], stat=stat)
        return {
            "role": role,
            "old": side(by[old]),
            "new": side(by[new]),
            "changed": by[old].content_hash != by[new].content_hash,
            "diff": text,
        }
