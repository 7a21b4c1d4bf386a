"""The data that flows between the parts: entities, reports, messages (pydantic v2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from email.message import EmailMessage

    from .ledger import Ledger
else:
    Ledger = Any


class Severity(StrEnum):
    critical = "critical"
    warning = "warning"
    info = "info"

    @property
    def rank(self) -> int:
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


class Section(BaseModel):
    """A part of a report. `since_previous=True` marks a section that compares with the
    previous report (changes, progress): it is shown, but it alone never makes a new version."""

    heading: str
    body: str = ""
    since_previous: bool = False
    # for a since_previous section: the part of it that is news in itself (a card someone
    # moved to done), so that a change of it alone does make a new version
    signature: str = ""


class Finding(BaseModel):
    severity: Severity = Severity.info
    message: str
    entity: str | None = None
    amount: Decimal | None = None  # the money at stake, when there is a figure for it


class Action(BaseModel):
    title: str
    owner: str = ""
    due: date | None = None
    priority: int = 3
    entity: str | None = None
    severity: Severity = Severity.info

    # a stable name for what the action is about ("renew:insurance:Hull policy"); without
    # it the key comes from the title with its figures left out
    topic: str | None = None

    @property
    def key(self) -> str:
        """A stable identity: the same action in a later report has the same key, even when
        the figures in its title changed (an amount, a count, a date, a line number)."""
        import hashlib
        import re

        what = self.topic or re.sub(r"[$€£]?[-+]?\d[\d,.:/-]*%?", "#", self.title)
        raw = "|".join([self.owner, self.entity or "", " ".join(what.lower().split())])
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


class Chart(BaseModel):
    """A chart a report's template placed (`chart()`): its data, drawn as a PNG when the
    message is made (core/charts.py), referenced in the HTML as `cid:<cid>`."""

    cid: str
    kind: str
    alt: str
    spec: dict[str, Any] = Field(default_factory=dict)


class Report(BaseModel):
    """A role's report. `metrics` is `{"consolidated": {...}, "<entity key>": {...}}`."""

    role: str
    title: str
    subject: str = ""
    sections: list[Section] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)
    priority: int = 50
    charts: list[Chart] = Field(default_factory=list)

    @property
    def critical(self) -> bool:
        return any(f.severity == Severity.critical for f in self.findings)


class Asset(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: str = "other"
    name: str
    expires: date | None = None
    value: Decimal | None = None


class StackItem(BaseModel):
    """A system in the entity's tech stack; a check field left out is `None` (fails audits)."""

    model_config = ConfigDict(extra="allow")
    name: str
    provider: str = ""
    monthly_cost: Decimal = Decimal("0")
    # kept as written: only a TOML true/false passes a check ("yes" or 1 does not)
    mfa: Any = None
    tls: Any = None
    hsts: Any = None
    backups: Any = None
    dependency_updates: Any = None
    logging: Any = None
    secrets_in_repo: Any = None
    sends_mail: Any = None
    spf: Any = None
    dkim: Any = None
    dmarc: Any = None
    ci: Any = None
    tests: Any = None
    auto_deploy: Any = None


class Channel(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    status: str = "absent"
    commission: Decimal | None = None
    reviews: int | None = None
    rating: float | None = None


class KPI(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    target: Decimal | None = None
    unit: str = ""


class KPIValue(BaseModel):
    date: date
    kpi: str
    value: Decimal


class Task(BaseModel):
    """A kanban card. `column` is its state (`todo`, `doing`, `done`), `column_name` the
    column as its board names it, `action_key` the key of the report action it tracks."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    column: str = "todo"
    entity: str | None = None
    owner: str = ""
    due: date | None = None
    labels: list[str] = Field(default_factory=list)
    column_name: str = ""
    action_key: str | None = None


class Finance(BaseModel):
    opening_cash: Decimal = Decimal("0")
    opening_date: date | None = None


class Entity(BaseModel):
    """One business: its profile, its ledger and its small tables."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    key: str
    name: str
    kind: str = "other"
    currency: str = "USD"
    ledger: Ledger
    assets: list[Asset] = Field(default_factory=list)
    stack: list[StackItem] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    kpis: list[KPI] = Field(default_factory=list)
    kpi_values: list[KPIValue] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    audience: dict[str, Any] = Field(default_factory=dict)
    finance: Finance = Field(default_factory=Finance)
    expected_kpis: list[str] = Field(default_factory=list)
    # the channels its business must be visible on (the entity plugin's key_channels)
    key_channels: list[str] = Field(default_factory=list)
    path: str | None = None


class RoleContext(BaseModel):
    """What a role sees when it builds its report."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    entities: list[Entity]
    ledger: Ledger
    as_of: date
    period: str
    settings: dict[str, Any] = Field(default_factory=dict)
    previous: Report | None = None
    board: list[Task] = Field(default_factory=list)
    # reports built earlier in this run (roles with `consolidates = True` are built last)
    reports: list[Report] = Field(default_factory=list)
    # `[report] templates`, resolved: the user's templates, which override the built-in ones
    template_folder: Path | None = None


class Attachment(BaseModel):
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    content_id: str | None = None  # set for an inline image referenced as cid:<content_id>


class Message(BaseModel):
    """One email: a report version for a list of recipients."""

    sender: str
    to: list[str]
    bcc: list[str] = Field(default_factory=list)
    subject: str
    text: str
    html: str = ""
    inline_images: list[Attachment] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    role: str = ""
    version: int = 0
    content_hash: str = ""
    entities: list[str] = Field(default_factory=list)
    # the report's actions, for senders that turn them into cards (kanban)
    actions: list[Action] = Field(default_factory=list)
    message_id: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    def as_mime(self) -> EmailMessage:
        """The RFC 5322 message. No Bcc header: the audit copy travels in the envelope only."""
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = self.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.sender.rsplit("@", 1)[-1].strip("> ") or "execreport.invalid"
        msg["Message-ID"] = self.message_id or make_msgid(domain=domain)
        if self.role:
            msg["X-Execreport-Report"] = f"{self.role}; version={self.version}; " + (
                f"hash={self.content_hash[:16]}"
            )
        for name, value in self.headers.items():
            msg[name] = value
        msg.set_content(self.text)
        if self.html:
            msg.add_alternative(self.html, subtype="html")
            if self.inline_images:
                html_part: Any = msg.get_body(("html",))
                for img in self.inline_images:
                    maintype, _, subtype = img.mime_type.partition("/")
                    html_part.add_related(
                        img.content,
                        maintype=maintype,
                        subtype=subtype,
                        cid=f"<{img.content_id or img.filename}>",
                        filename=img.filename,
                    )
        for att in self.attachments:
            maintype, _, subtype = att.mime_type.partition("/")
            msg.add_attachment(
                att.content, maintype=maintype, subtype=subtype, filename=att.filename
            )
        self._fixed_boundaries(msg)
        return msg

    def _fixed_boundaries(self, msg: EmailMessage) -> None:
        """MIME boundaries from the content, not random: the same report gives the same
        body bytes (only Date and Message-ID tell two sends apart)."""
        import hashlib

        digest = hashlib.sha256()
        for piece in (self.text, self.html, self.subject):
            digest.update(piece.encode("utf-8", "surrogateescape") + b"\0")
        for part in [*self.inline_images, *self.attachments]:
            digest.update(part.content + b"\0")
        tag = digest.hexdigest()[:32]
        for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
            part.set_boundary(f"=_execreport_{tag}_{i}")

    @property
    def recipients(self) -> list[str]:
        """Every envelope recipient: To and the audit BCC."""
        return list(dict.fromkeys([*self.to, *self.bcc]))


class Receipt(BaseModel):
    """A sender's word that it accepted a message."""

    sender: str
    message_id: str
    recipients: list[str] = Field(default_factory=list)
    detail: str = ""
