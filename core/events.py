"""SES delivery events: parsed from an SQS queue and recorded per recipient in the archive.

SES publishes the events of a configuration set to an SNS topic (with an SQS queue
subscribed) or to EventBridge (with an SQS target). A queue message is one of:

- an SNS envelope (`{"Type": "Notification", "Message": "<the event as a string>"}`), or the
  event itself when the subscription uses raw message delivery;
- an EventBridge event (`{"detail-type": ..., "detail": {the event}}`);
- the event: `eventType` (event publishing) or `notificationType` (the older identity
  notifications), `mail.messageId`, and one of `bounce`, `complaint`, `delivery`, `reject`,
  `deliveryDelay`, each naming one recipient or several.

`drain` reads the queue, records each message's events in one archive transaction and
deletes the message only after that commit. A message that cannot be parsed is never
deleted: it is named in one line and left on the queue (with a redrive policy, SQS moves it
to the dead-letter queue after `maxReceiveCount` receives). Unknown fields are ignored;
event types execreport does not track (Send, Open, Click, ...) are acknowledged and deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from .errors import ConfigError, DeliveryError

Progress = Callable[[str], None]

DELIVERED, BOUNCED, COMPLAINED, REJECTED, DELAYED = (
    "delivered",
    "bounced",
    "complained",
    "rejected",
    "delayed",
)
# event types acknowledged without a per-recipient state
IGNORED_TYPES = frozenset(
    {"send", "open", "click", "rendering failure", "renderingfailure", "subscription"}
)
MAX_BATCHES = 100  # a drain reads at most 1,000 messages; the rest waits for the next run


class NotAnEvent(ValueError):
    """A queue message that is not an SES event execreport can read."""


@dataclass(frozen=True)
class Event:
    """One recipient's part of one SES notification."""

    message_id: str
    recipient: str  # bare, lower case
    state: str
    bounce_type: str | None
    diagnostic: str | None
    event_at: str  # UTC, ISO 8601
    event_key: str  # the same notification read twice has the same key


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAnEvent(f"{what} is not a JSON object")
    return value


def _when(value: Any, fallback: str) -> str:
    text = str(value or fallback or "")
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).isoformat(timespec="milliseconds")


def _address(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("emailAddress")
    if not isinstance(value, str) or not value.strip():
        raise NotAnEvent("a recipient without an emailAddress")
    return (parseaddr(value)[1] or value).strip().lower()


def unwrap(body: str) -> dict[str, Any] | None:
    """The SES event inside a queue message body (SNS envelope, EventBridge or raw); None
    for an SNS message that is not a notification (a subscription confirmation)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise NotAnEvent(f"not JSON ({exc.__class__.__name__}: {exc})") from None
    data = _object(data, "the message")
    if "Type" in data and "Message" in data and "eventType" not in data:
        if data.get("Type") != "Notification":
            return None
        inner = data.get("Message")
        if not isinstance(inner, str):
            raise NotAnEvent("the SNS envelope's Message is not a string")
        try:
            data = _object(json.loads(inner), "the SNS Message")
        except (json.JSONDecodeError, RecursionError):
            raise NotAnEvent("the SNS envelope's Message is not JSON") from None
    if "detail" in data and "detail-type" in data:
        data = _object(data.get("detail"), "the EventBridge detail")
    return data


def parse(body: str) -> list[Event]:
    """The per-recipient events of one queue message (empty for a type not tracked)."""
    data = unwrap(body)
    if data is None:
        return []
    kind = data.get("eventType") or data.get("notificationType")
    if not isinstance(kind, str) or not kind:
        raise NotAnEvent("no eventType or notificationType")
    mail = _object(data.get("mail"), "mail")
    message_id = mail.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise NotAnEvent("no mail.messageId")
    low = kind.strip().lower()
    if low in IGNORED_TYPES:
        return []
    sent_at = str(mail.get("timestamp") or "")
    parts: list[tuple[str, str, str | None, str | None, str]] = []  # addr, state, type, diag, at
    if low == "bounce":
        bounce = _object(data.get("bounce"), "bounce")
        btype = str(bounce.get("bounceType") or "Undetermined")
        sub = str(bounce.get("bounceSubType") or "")
        at = _when(bounce.get("timestamp"), sent_at)
        recipients = bounce.get("bouncedRecipients")
        if not isinstance(recipients, list) or not recipients:
            raise NotAnEvent("bounce without bouncedRecipients")
        for r in recipients:
            diag = (r.get("diagnosticCode") if isinstance(r, dict) else None) or (
                f"{btype}/{sub}" if sub else btype
            )
            parts.append((_address(r), BOUNCED, btype, _one_line(diag), at))
    elif low == "complaint":
        complaint = _object(data.get("complaint"), "complaint")
        at = _when(complaint.get("timestamp"), sent_at)
        diag = complaint.get("complaintFeedbackType") or complaint.get("complaintSubType")
        recipients = complaint.get("complainedRecipients")
        if not isinstance(recipients, list) or not recipients:
            raise NotAnEvent("complaint without complainedRecipients")
        for r in recipients:
            parts.append((_address(r), COMPLAINED, None, _one_line(diag or "complaint"), at))
    elif low == "delivery":
        delivery = _object(data.get("delivery"), "delivery")
        at = _when(delivery.get("timestamp"), sent_at)
        recipients = delivery.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise NotAnEvent("delivery without recipients")
        diag = delivery.get("smtpResponse")
        for r in recipients:
            parts.append((_address(r), DELIVERED, None, _one_line(diag) if diag else None, at))
    elif low == "reject":
        reject = data.get("reject") if isinstance(data.get("reject"), dict) else {}
        recipients = mail.get("destination")
        if not isinstance(recipients, list) or not recipients:
            raise NotAnEvent("reject without mail.destination")
        diag = _one_line(reject.get("reason") or "rejected")
        for r in recipients:
            parts.append((_address(r), REJECTED, None, diag, _when(sent_at, sent_at)))
    elif low in ("deliverydelay", "delivery delay"):
        delay = _object(data.get("deliveryDelay"), "deliveryDelay")
        at = _when(delay.get("timestamp"), sent_at)
        recipients = delay.get("delayedRecipients")
        if not isinstance(recipients, list) or not recipients:
            raise NotAnEvent("deliveryDelay without delayedRecipients")
        for r in recipients:
            diag = (r.get("diagnosticCode") if isinstance(r, dict) else None) or delay.get(
                "delayType"
            )
            parts.append((_address(r), DELAYED, None, _one_line(diag) if diag else None, at))
    else:
        return []  # a type SES may add later: acknowledged, not tracked
    out = []
    for address, state, btype, diag, at in parts:
        key = hashlib.sha256(
            json.dumps([message_id, address, state, btype, at, diag]).encode()
        ).hexdigest()
        out.append(Event(message_id, address, state, btype, diag, at, key))
    return out


def _one_line(text: Any, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- the queue ---------------------------------------------------------------------------------
@dataclass
class DrainResult:
    messages: int = 0
    recorded: int = 0
    duplicates: int = 0
    kept: int = 0  # events for a (version, recipient) whose recorded state stands
    unknown: int = 0  # events for messages this archive did not send
    ignored: int = 0  # messages of a type not tracked
    unreadable: list[str] = field(default_factory=list)  # queue message ids left on the queue
    notices: int = 0

    def summary(self) -> str:
        parts = [f"{self.messages} message{'s' if self.messages != 1 else ''} read"]
        for n, what in (
            (self.recorded, "recorded"),
            (self.duplicates, "seen before"),
            (self.kept, "older than the state recorded"),
            (self.unknown, "for messages not in this archive"),
        ):
            if n:
                parts.append(f"{n} event{'s' if n != 1 else ''} {what}")
        if self.ignored:
            parts.append(f"{self.ignored} not tracked")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} left on the queue (unreadable)")
        return "events: " + ", ".join(parts)


def events_queue(config: Any) -> str | None:
    """`[delivery.ses] events_queue`, or None when it is not set."""
    value = config.delivery.sender_settings("ses").get("events_queue")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{config.path}: delivery.ses.events_queue: a queue URL or name, not {value!r}"
        )
    return value.strip()


def drain(config: Any, archive: Any, progress: Progress, *, notify: bool = True) -> DrainResult:
    """Read every message on the events queue, record its events, delete it after the
    commit; then tell the owner of new permanent bounces and complaints."""
    from execreport.senders.ses import SESSender

    queue = events_queue(config)
    if queue is None:
        raise ConfigError(
            f"{config.path}: delivery.ses.events_queue: not set; nothing to read "
            "(see docs/delivery.md, Delivery events)"
        )
    settings = dict(config.delivery.sender_settings("ses"))
    settings.setdefault("_config", config)
    ses = SESSender(settings)
    client, url = ses.events_queue_client(queue)
    result = DrainResult()
    seen: set[str] = set()
    for _ in range(MAX_BATCHES):
        batch = ses.receive_events(client, url)
        fresh = [m for m in batch if m.get("MessageId") not in seen]
        if not fresh:
            break
        done = []
        for m in fresh:
            qid = str(m.get("MessageId"))
            seen.add(qid)
            result.messages += 1
            try:
                events = parse(str(m.get("Body", "")))
            except NotAnEvent as exc:
                result.unreadable.append(qid)
                progress(
                    f"events: queue message {qid} is not an SES event ({exc}); left on the queue"
                )
                continue
            if not events:
                result.ignored += 1
            else:
                for outcome in archive.record_events(events):  # committed here
                    if outcome.result == "recorded":
                        result.recorded += 1
                        progress(
                            f"events: {outcome.role} v{outcome.version} "
                            f"{outcome.event.recipient}: {describe(outcome.event)}"
                        )
                    elif outcome.result == "duplicate":
                        result.duplicates += 1
                    elif outcome.result == "kept":
                        result.kept += 1
                    else:
                        result.unknown += 1
            done.append(m)
        ses.delete_events(client, url, done)
    if notify:
        result.notices = notify_owner(config, archive, progress)
    return result


def describe(ev: Any) -> str:
    state = ev.state
    if state == BOUNCED and ev.bounce_type:
        state = f"bounced ({ev.bounce_type.lower()})"
    return f"{state}: {ev.diagnostic}" if ev.diagnostic else state


def notify_owner(config: Any, archive: Any, progress: Progress) -> int:
    """One notice for every permanent bounce and complaint not told yet; returns how many
    recipients it named (0 when nothing was new or no notice could be sent)."""
    from .pipeline import notify

    pending = archive.pending_notices()
    if not pending:
        return 0
    if not config.delivery.notify:
        archive.mark_notified([s for s, _ in pending])  # nobody to tell: not asked again
        return 0
    lines = [
        f"{v.role} v{v.version}: {s.recipient} {s.label}: {s.diagnostic or 'no diagnostic'}; "
        "the address is suppressed for later runs (execreport suppression remove ADDRESS)"
        for s, v in pending
    ]
    n = len(pending)
    subject = f"execreport: {n} report recipient{'s' if n != 1 else ''} bounced or complained"
    if notify(config, subject, lines, progress):
        archive.mark_notified([s for s, _ in pending])
        return n
    return 0


def drain_before(config: Any, archive: Any, progress: Progress) -> DrainResult | None:
    """What `run` and `send` do first: drain the queue when one is configured. A queue that
    cannot be read is one line, and the run goes on."""
    if events_queue(config) is None:
        return None
    try:
        result = drain(config, archive, progress)
    except DeliveryError as exc:
        progress(f"events: {exc}; the run goes on without them")
        return None
    progress(result.summary())
    return result
