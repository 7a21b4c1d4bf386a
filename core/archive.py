"""The SQLite archive: every report version, and a delivery ledger keyed per version.

A version is stored only when a role's content (its Markdown) changes. Each delivery row is
written before the send (`pending`), taken with a transaction (`sending`) and closed after it
(`sent` with the provider's id, or `failed`). A row left in `sending` by a process that died
is `uncertain`: it is not sent again without `--resend`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ExecReportError

SCHEMA_VERSION = 2

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        role TEXT NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        as_of TEXT NOT NULL,
        period TEXT NOT NULL,
        built_at TEXT NOT NULL,
        title TEXT NOT NULL,
        subject TEXT NOT NULL,
        critical INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        markdown TEXT NOT NULL,
        html TEXT NOT NULL,
        text TEXT NOT NULL,
        report_json TEXT NOT NULL,
        forced_reason TEXT,
        UNIQUE (role, version)
    );
    CREATE INDEX reports_role ON reports (role, version);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports (id),
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        bcc TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (report_id, recipients, sender)
    );
    CREATE INDEX deliveries_status ON deliveries (status);
    """,
    # the hash of the content without the sections that compare with the previous report
    2: """
    ALTER TABLE reports ADD COLUMN base_hash TEXT;
    UPDATE reports SET base_hash = content_hash;
    """,
}


# the columns this version reads, checked when an archive is opened
_COLUMNS = {
    "reports": (
        "id",
        "role",
        "version",
        "content_hash",
        "as_of",
        "period",
        "built_at",
        "title",
        "subject",
        "critical",
        "priority",
        "markdown",
        "html",
        "text",
        "report_json",
        "forced_reason",
        "base_hash",
    ),
    "deliveries": (
        "id",
        "report_id",
        "sender",
        "recipients",
        "bcc",
        "status",
        "attempt",
        "message_id",
        "error",
        "created_at",
        "updated_at",
    ),
}


def archive_problem(path: Path, exc: sqlite3.Error) -> str:
    """One line for a SQLite error on the archive file: what it means for the person."""
    text = " ".join(str(exc).split())
    code = getattr(exc, "sqlite_errorname", "")
    if code == "SQLITE_FULL" or "disk is full" in text:
        return f"{path}: disk full: the archive cannot be written; free space and run again"
    if (
        code in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        or "not a database" in text
        or "malformed" in text
    ):
        return f"{path}: not an archive or damaged ({text}); restore it from a backup"
    if code in ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN"):
        return f"{path}: cannot write the archive ({text})"
    if code == "SQLITE_BUSY" or "locked" in text:
        return f"{path}: the archive is locked by another process ({text}); try again"
    return f"{path}: cannot use the archive: {text}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def content_hash(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Version:
    id: int
    role: str
    version: int
    content_hash: str
    as_of: str
    period: str
    built_at: str
    title: str
    subject: str
    critical: bool
    priority: int
    markdown: str
    html: str
    text: str
    report_json: str
    forced_reason: str | None = None
    base_hash: str | None = None

    def report(self) -> Any:
        from .models import Report

        return Report.model_validate_json(self.report_json)


@dataclass(frozen=True)
class Delivery:
    id: int
    report_id: int
    sender: str
    recipients: list[str]
    bcc: list[str]
    status: str
    attempt: int
    message_id: str | None
    error: str | None
    created_at: str
    updated_at: str


class Archive:
    """Report versions and their deliveries in one SQLite file (WAL, transactions)."""

    def __init__(self, path: str | Path, *, new: bool = False) -> None:
        """Open (or create) the archive at `path`. An existing empty file is refused unless
        `new` (`--new-archive`): a truncated archive must not silently start over."""
        self.path = Path(path)
        if self.path.is_dir():
            raise ExecReportError(f"{self.path}: is a folder, not an archive file")
        try:
            empty = self.path.exists() and self.path.stat().st_size == 0
        except OSError as exc:
            raise ExecReportError(f"{self.path}: cannot open the archive: {exc}") from None
        if empty and not new:
            raise ExecReportError(
                f"{self.path}: the archive file is empty (0 bytes), not an archive; restore it "
                "from a backup, or pass --new-archive to start a new one in its place"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ExecReportError(f"{self.path}: cannot open the archive: {exc}") from None
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._check_integrity()
        except sqlite3.Error as exc:
            self.db.close()
            raise ExecReportError(archive_problem(self.path, exc)) from None
        except (UnicodeDecodeError, ValueError, OverflowError) as exc:  # damaged schema text
            self.db.close()
            raise ExecReportError(
                f"{self.path}: not an archive or damaged ({type(exc).__name__}); "
                "restore it from a backup"
            ) from None
        except ExecReportError:
            self.db.close()
            raise

    def _check_integrity(self) -> None:
        """The file is a whole SQLite database with every column this version reads."""
        problem = " ".join(str(self.db.execute("PRAGMA quick_check(1)").fetchone()[0]).split())
        if problem != "ok":
            raise ExecReportError(
                f"{self.path}: the archive is damaged ({problem}); restore it from a backup"
            )
        for table, needed in _COLUMNS.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in needed if c not in have]
            if missing:
                what = (
                    f"no table {table!r}" if not have else f"table {table!r} lacks {missing[0]!r}"
                )
                raise ExecReportError(
                    f"{self.path}: not an execreport archive of schema {SCHEMA_VERSION} ({what}); "
                    "restore it from a backup"
                )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------
    def _migrate(self) -> None:
        current = self.db.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise ExecReportError(
                f"{self.path}: archive schema {current} is newer than this execreport "
                f"({SCHEMA_VERSION}); upgrade execreport"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # the version is read again inside the lock: another process may have migrated
                if self.db.execute("PRAGMA user_version").fetchone()[0] >= version:
                    self.db.execute("COMMIT")
                    continue
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version}")
                self.db.execute("COMMIT")
            except BaseException:
                # a failed statement may have ended the transaction already (a full disk):
                # the error to report is the statement's, not "cannot rollback"
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- versions ------------------------------------------------------------------------
    def store(
        self,
        report: Any,
        rendered: Any,
        *,
        as_of: str,
        period: str,
        base: str | None = None,
    ) -> tuple[Version, bool]:
        """Store a built report; a new version only when its content changed.

        Sections that only compare with the previous report do not count: `base` is the
        Markdown without them. Returns the version and whether it is new."""
        digest = content_hash(rendered.markdown)
        base_digest = content_hash(base if base is not None else rendered.markdown)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            last = self.db.execute(
                "SELECT * FROM reports WHERE role = ? ORDER BY version DESC LIMIT 1",
                (report.role,),
            ).fetchone()
            if last is not None and base_digest in (last["base_hash"], last["content_hash"]):
                self.db.execute("COMMIT")
                return _version(last), False
            number = (last["version"] if last else 0) + 1
            cur = self.db.execute(
                "INSERT INTO reports (role, version, content_hash, as_of, period, built_at, "
                "title, subject, critical, priority, markdown, html, text, report_json, "
                "base_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.role,
                    number,
                    digest,
                    as_of,
                    period,
                    _now(),
                    report.title,
                    report.subject,
                    int(report.critical),
                    report.priority,
                    rendered.markdown,
                    rendered.html,
                    rendered.text,
                    report.model_dump_json(),
                    base_digest,
                ),
            )
            row = self.db.execute("SELECT * FROM reports WHERE id = ?", (cur.lastrowid,))
            version = _version(row.fetchone())
            self.db.execute("COMMIT")
            return version, True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def latest(self, role: str) -> Version | None:
        row = self.db.execute(
            "SELECT * FROM reports WHERE role = ? ORDER BY version DESC LIMIT 1", (role,)
        ).fetchone()
        return _version(row) if row else None

    def version(self, role: str, number: int) -> Version | None:
        row = self.db.execute(
            "SELECT * FROM reports WHERE role = ? AND version = ?", (role, number)
        ).fetchone()
        return _version(row) if row else None

    def versions(self, role: str | None = None) -> list[Version]:
        if role:
            rows = self.db.execute("SELECT * FROM reports WHERE role = ? ORDER BY version", (role,))
        else:
            rows = self.db.execute("SELECT * FROM reports ORDER BY role, version")
        return [_version(r) for r in rows]

    def get(self, report_id: int) -> Version:
        return _version(
            self.db.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        )

    def set_forced(self, report_id: int, reason: str) -> None:
        self.db.execute("UPDATE reports SET forced_reason = ? WHERE id = ?", (reason, report_id))

    # -- deliveries ----------------------------------------------------------------------
    def plan_delivery(
        self, report_id: int, sender: str, recipients: list[str], bcc: list[str]
    ) -> Delivery:
        """Record a delivery as pending (once: the same version, list and sender is one row)."""
        key = json.dumps(sorted(recipients))
        now = _now()
        self.db.execute(
            "INSERT INTO deliveries (report_id, sender, recipients, bcc, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) "
            "ON CONFLICT (report_id, recipients, sender) DO NOTHING",
            (report_id, sender, key, json.dumps(bcc), now, now),
        )
        row = self.db.execute(
            "SELECT * FROM deliveries WHERE report_id = ? AND recipients = ? AND sender = ?",
            (report_id, key, sender),
        ).fetchone()
        return _delivery(row)

    def claim(self, delivery_id: int, *, resend: bool = False) -> bool:
        """Take a delivery for sending. Only one process can take a row; a row already
        sent, or left in `sending`/`uncertain`, is taken only with `resend`."""
        allowed = (
            ("pending", "failed", "sent", "sending", "uncertain")
            if resend
            else ("pending", "failed")
        )
        marks = ",".join("?" for _ in allowed)
        cur = self.db.execute(
            f"UPDATE deliveries SET status = 'sending', attempt = attempt + 1, error = NULL, "
            f"updated_at = ? WHERE id = ? AND status IN ({marks})",
            (_now(), delivery_id, *allowed),
        )
        return cur.rowcount == 1

    def mark_sent(self, delivery_id: int, message_id: str) -> None:
        self.db.execute(
            "UPDATE deliveries SET status = 'sent', message_id = ?, error = NULL, updated_at = ? "
            "WHERE id = ?",
            (message_id, _now(), delivery_id),
        )

    def mark_failed(self, delivery_id: int, error: str, *, status: str = "failed") -> None:
        self.db.execute(
            "UPDATE deliveries SET status = ?, error = ?, updated_at = ? WHERE id = ?",
            (status, error, _now(), delivery_id),
        )

    def release(self, delivery_id: int, error: str | None = None) -> None:
        """Put a taken delivery back to pending (nothing was sent: a quota stop, say)."""
        self.db.execute(
            "UPDATE deliveries SET status = 'pending', attempt = max(attempt - 1, 0), "
            "error = ?, updated_at = ? WHERE id = ?",
            (error, _now(), delivery_id),
        )

    def mark_uncertain(self) -> list[Delivery]:
        """Rows a dead process left in `sending` become `uncertain`; returns them."""
        rows = self.db.execute("SELECT * FROM deliveries WHERE status = 'sending'").fetchall()
        found = [_delivery(r) for r in rows]
        if found:
            self.db.execute(
                "UPDATE deliveries SET status = 'uncertain', error = 'the process stopped "
                "between the send request and its record; check the recipient before "
                "--resend', updated_at = ? WHERE status = 'sending'",
                (_now(),),
            )
        return found

    def deliveries(self, report_id: int | None = None, status: str | None = None) -> list[Delivery]:
        query, params = "SELECT * FROM deliveries WHERE 1=1", list[Any]()
        if report_id is not None:
            query += " AND report_id = ?"
            params.append(report_id)
        if status is not None:
            query += " AND status = ?"
            params.append(status)
        return [_delivery(r) for r in self.db.execute(query + " ORDER BY id", params)]

    def last_sent(self, role: str) -> Version | None:
        """The newest version of `role` that went out through at least one sender."""
        row = self.db.execute(
            "SELECT * FROM reports r WHERE r.role = ? AND EXISTS (SELECT 1 FROM deliveries d "
            "WHERE d.report_id = r.id AND d.status = 'sent') ORDER BY r.version DESC LIMIT 1",
            (role,),
        ).fetchone()
        return _version(row) if row else None

    def last_delivered(self, role: str, sender: str, recipients: list[str]) -> Version | None:
        """The last version of `role` sent to exactly these recipients through `sender`."""
        row = self.db.execute(
            "SELECT r.* FROM reports r JOIN deliveries d ON d.report_id = r.id "
            "WHERE r.role = ? AND d.sender = ? AND d.recipients = ? AND d.status = 'sent' "
            "ORDER BY r.version DESC LIMIT 1",
            (role, sender, json.dumps(sorted(recipients))),
        ).fetchone()
        return _version(row) if row else None


def _version(row: sqlite3.Row) -> Version:
    data = dict(row)
    data["critical"] = bool(data["critical"])
    return Version(**data)


def _delivery(row: sqlite3.Row) -> Delivery:
    data = dict(row)
    data["recipients"] = json.loads(data["recipients"])
    data["bcc"] = json.loads(data["bcc"])
    return Delivery(**data)


def diff_markdown(old: Version, new: Version, *, stat: bool = False) -> str:
    """Unified diff of two versions' Markdown; with `stat`, one line per changed section."""
    import difflib

    a, b = old.markdown.splitlines(keepends=True), new.markdown.splitlines(keepends=True)
    name_a, name_b = f"{old.role} v{old.version}", f"{new.role} v{new.version}"
    if not stat:
        return "".join(difflib.unified_diff(a, b, name_a, name_b))
    sections_a, sections_b = _sections(a), _sections(b)
    lines = []
    for heading in dict.fromkeys([*sections_a, *sections_b]):
        old_lines, new_lines = sections_a.get(heading, []), sections_b.get(heading, [])
        plus = minus = 0
        for line in difflib.unified_diff(old_lines, new_lines, n=0):
            if line.startswith("+") and not line.startswith("+++"):
                plus += 1
            elif line.startswith("-") and not line.startswith("---"):
                minus += 1
        if plus or minus:
            state = "added" if not old_lines else "removed" if not new_lines else "changed"
            lines.append(f"{heading}: +{plus} -{minus} ({state})\n")
    header = f"{name_a} -> {name_b}: {len(lines)} sections changed\n"
    return header + "".join(lines)


def _sections(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = "(title)"
    for line in lines:
        if line.startswith("## "):
            current = line[3:].strip()
        out.setdefault(current, []).append(line)
    return out
