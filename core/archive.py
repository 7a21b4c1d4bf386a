"""The SQLite archive: every report version, and a delivery ledger keyed per version.

A version is stored only when a role's content (its Markdown) changes. Each delivery row is
written before the send (`pending`), taken with a transaction (`sending`) and closed after it
(`sent` with the provider's id, or `failed`). A row taken for sending belongs to the process
that took it: the row records its owner (pid, host, the process's start time) and a lease that
the owner renews while it sends. Another run reclaims the row (marks it `uncertain`) only when
that owner is gone: on the same host, its pid is not alive or is another process now; on
another host, its lease has expired. An `uncertain` row is not sent again without `--resend`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ExecReportError

SCHEMA_VERSION = 4

# how long a taken row stays its owner's without a renewal (seen from another host)
LEASE_SECONDS = 120.0

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
    # who took a row for sending, and until when (seconds since the epoch) it is theirs
    3: """
    ALTER TABLE deliveries ADD COLUMN owner_pid INTEGER;
    ALTER TABLE deliveries ADD COLUMN owner_host TEXT;
    ALTER TABLE deliveries ADD COLUMN owner_started TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_until REAL;
    """,
    # per-recipient SES events: each message id sent (a delivery may be several SES calls,
    # and a resend gives a row a new id), each event once, each (version, recipient)'s last
    # state, and the local suppression list
    4: """
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        sent_at TEXT NOT NULL
    );
    CREATE TABLE recipient_events (
        id INTEGER PRIMARY KEY,
        event_key TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        recipient TEXT NOT NULL,
        state TEXT NOT NULL,
        bounce_type TEXT,
        diagnostic TEXT,
        event_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE recipient_states (
        report_id INTEGER NOT NULL REFERENCES reports (id),
        recipient TEXT NOT NULL,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        bounce_type TEXT,
        diagnostic TEXT,
        event_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        retries INTEGER NOT NULL DEFAULT 0,
        notified_at TEXT,
        PRIMARY KEY (report_id, recipient)
    );
    CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        diagnostic TEXT,
        role TEXT,
        version INTEGER,
        message_id TEXT,
        added_at TEXT NOT NULL
    );
    INSERT OR IGNORE INTO messages (message_id, delivery_id, sent_at)
        SELECT message_id, id, updated_at FROM deliveries
        WHERE message_id IS NOT NULL AND message_id != '' AND instr(message_id, ',') = 0
        ORDER BY id;
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
        "owner_pid",
        "owner_host",
        "owner_started",
        "lease_until",
    ),
    # schema 4
    "messages": ("seq", "message_id", "delivery_id", "sent_at"),
    "recipient_events": (
        "id",
        "event_key",
        "message_id",
        "delivery_id",
        "recipient",
        "state",
        "bounce_type",
        "diagnostic",
        "event_at",
        "recorded_at",
    ),
    "recipient_states": (
        "report_id",
        "recipient",
        "delivery_id",
        "message_id",
        "state",
        "bounce_type",
        "diagnostic",
        "event_at",
        "updated_at",
        "retries",
        "notified_at",
    ),
    "suppressions": (
        "address",
        "reason",
        "diagnostic",
        "role",
        "version",
        "message_id",
        "added_at",
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


# -- owners -------------------------------------------------------------------------------
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return ""


def process_started(pid: int) -> str | None:
    """When process `pid` started, as an opaque string (None if it cannot be told, or the
    process is gone or a zombie). Two processes that reuse one pid never share it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie has finished already
        return None
    # field 22 of proc(5): start time in clock ticks after boot; the boot id tells reboots apart
    return f"{_boot_id()}:{fields[19]}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Owner:
    """The process that takes delivery rows: this one, by default."""

    pid: int
    host: str
    started: str | None

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(pid=pid, host=socket.gethostname(), started=process_started(pid))

    def gone(
        self,
        pid: int | None,
        host: str | None,
        started: str | None,
        lease: float | None,
        now: float,
    ) -> bool:
        """Whether the owner recorded on a row (pid, host, start, lease) no longer holds it,
        as far as this process can tell."""
        if pid is None or host is None:
            return True  # taken before owners were recorded (schema 2): nobody renews it
        if host != self.host:
            return lease is None or lease < now
        if not pid_alive(pid):
            return True
        if started is None:
            return False  # recorded without a start time: a live pid is all we know
        current = process_started(pid)
        if current is None:
            # with /proc, an unreadable entry is a process gone (or a zombie); without it,
            # a live pid is all that can be told
            return Path("/proc/self/stat").exists()
        return current != started


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
    # schema 3: who took the row for sending, and until when it is theirs
    owner_pid: int | None = None
    owner_host: str | None = None
    owner_started: str | None = None
    lease_until: float | None = None


def _set_wal(db: sqlite3.Connection, patience: float = 30.0) -> None:
    """WAL mode. Switching the journal mode does not wait for a lock as other statements do
    (SQLite answers "database is locked" at once), so two runs opening a new archive at the
    same moment retry here for up to `patience` seconds."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _Guarded:
    """The archive's connection: a SQLite error while the archive is in use (a full disk, a
    file damaged under a running process) is one line naming the file, not a traceback."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise ExecReportError(archive_problem(self._path, exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class Archive:
    """Report versions and their deliveries in one SQLite file (WAL, transactions).

    `readonly` opens an existing archive without writing anything to it, not even a schema
    migration (for planning and previews); an older schema is read as it is. An existing
    empty file is refused unless `new` (`--new-archive`): a truncated archive must not
    silently start over."""

    def __init__(
        self,
        path: str | Path,
        *,
        readonly: bool = False,
        new: bool = False,
        owner: Owner | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.owner = owner or Owner.me()
        self.lease_seconds = lease_seconds
        if self.path.is_dir():
            raise ExecReportError(f"{self.path}: is a folder, not an archive file")
        try:
            empty = self.path.exists() and self.path.stat().st_size == 0
            # another run may have made the file this instant and not yet written its
            # header: an empty file refused is one that stays empty for a moment
            deadline = time.monotonic() + 1.0
            while empty and not new and time.monotonic() < deadline:
                time.sleep(0.05)
                empty = self.path.exists() and self.path.stat().st_size == 0
        except OSError as exc:
            raise ExecReportError(f"{self.path}: cannot open the archive: {exc}") from None
        if empty and not new:
            raise ExecReportError(
                f"{self.path}: the archive file is empty (0 bytes), not an archive; restore it "
                "from a backup, or pass --new-archive to start a new one in its place"
            )
        try:
            if readonly:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            if readonly:
                self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            else:
                _set_wal(self.db)
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:  # garbage, truncated, a full disk: what it means
            raise ExecReportError(archive_problem(self.path, exc)) from None
        except (UnicodeDecodeError, ValueError, OverflowError) as exc:  # damaged schema text
            raise ExecReportError(
                f"{self.path}: not an archive or damaged ({type(exc).__name__}); "
                "restore it from a backup"
            ) from None
        except OSError as exc:
            raise ExecReportError(f"{self.path}: cannot open the archive: {exc}") from None
        try:
            if readonly:
                current = self.schema_version
                if current > SCHEMA_VERSION:
                    raise ExecReportError(
                        f"{self.path}: archive schema {current} is newer than this execreport "
                        f"({SCHEMA_VERSION}); upgrade execreport"
                    )
                self._check_integrity(columns=current >= SCHEMA_VERSION)
            else:
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
        self.db = _Guarded(self.db, self.path)  # type: ignore[assignment]

    def _check_integrity(self, columns: bool = True) -> None:
        """The file is a whole SQLite database with every column this version reads."""
        problem = " ".join(str(self.db.execute("PRAGMA quick_check(1)").fetchone()[0]).split())
        if problem != "ok":
            raise ExecReportError(
                f"{self.path}: the archive is damaged ({problem}); restore it from a backup"
            )
        if not columns:
            return
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
                if version in _MIGRATION_STEPS:
                    _MIGRATION_STEPS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version}")
                self.db.execute("COMMIT")
            except BaseException:
                # a failed statement may have ended the transaction already (a full disk):
                # the error to report is the statement's, not "cannot rollback"
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise

    def _abort(self) -> None:
        """Roll back what is open. A failed statement may have ended the transaction already
        (a full disk): the error to report is the statement's, not "cannot rollback"."""
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error, ExecReportError):
                self.db.execute("ROLLBACK")

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
            # read inside the write lock: of two runs storing the same content, one stores it
            # and the other finds it stored
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
            self._abort()
            raise

    def peek(
        self, report: Any, rendered: Any, *, base: str | None = None
    ) -> tuple[Version | None, int]:
        """What `store` would do, writing nothing: the stored version the report matches
        (and its number), or None and the number a new version would get."""
        base_digest = content_hash(base if base is not None else rendered.markdown)
        last = self.latest(report.role)
        if last is not None and base_digest in (last.base_hash, last.content_hash):
            return last, last.version
        return None, (last.version if last else 0) + 1

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

    def delivery(self, delivery_id: int) -> Delivery | None:
        row = self.db.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        return _delivery(row) if row else None

    def find_delivery(self, report_id: int, sender: str, recipients: list[str]) -> Delivery | None:
        """The row for (version, recipient list, sender), if one was planned."""
        row = self.db.execute(
            "SELECT * FROM deliveries WHERE report_id = ? AND recipients = ? AND sender = ?",
            (report_id, json.dumps(sorted(recipients)), sender),
        ).fetchone()
        return _delivery(row) if row else None

    def claim(self, delivery_id: int, *, resend: bool = False) -> bool:
        """Take a delivery for sending, as this archive's owner, with a lease. Only one
        process can take a row; a row already sent or `uncertain` is taken only with
        `resend`; a row in `sending` (another live run's) never."""
        allowed = ("pending", "failed", "sent", "uncertain") if resend else ("pending", "failed")
        marks = ",".join("?" for _ in allowed)
        me = self.owner
        cur = self.db.execute(
            f"UPDATE deliveries SET status = 'sending', attempt = attempt + 1, error = NULL, "
            f"updated_at = ?, owner_pid = ?, owner_host = ?, owner_started = ?, "
            f"lease_until = ? WHERE id = ? AND status IN ({marks})",
            (
                _now(),
                me.pid,
                me.host,
                me.started,
                time.time() + self.lease_seconds,
                delivery_id,
                *allowed,
            ),
        )
        return cur.rowcount == 1

    def renew(self) -> int:
        """Extend the lease of every row this owner holds in `sending`; returns how many."""
        me = self.owner
        cur = self.db.execute(
            "UPDATE deliveries SET lease_until = ? WHERE status = 'sending' AND owner_pid = ? "
            "AND owner_host = ? AND owner_started IS ?",
            (time.time() + self.lease_seconds, me.pid, me.host, me.started),
        )
        return cur.rowcount

    def keep_leases(self, every: float | None = None) -> LeaseKeeper:
        """A thread renewing this owner's leases (a long send, SES pacing between the parts
        of a long list) until it is stopped; use it as a context manager."""
        return LeaseKeeper(self, every if every is not None else self.lease_seconds / 4)

    def owner_gone(self, d: Delivery, now: float | None = None) -> bool:
        """Whether the process that took `d` for sending no longer holds it."""
        return self.owner.gone(
            d.owner_pid, d.owner_host, d.owner_started, d.lease_until, now or time.time()
        )

    def mark_sent(self, delivery_id: int, message_id: str) -> None:
        now = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', message_id = ?, error = NULL, "
                "updated_at = ? WHERE id = ?",
                (message_id, now, delivery_id),
            )
            # every provider id (a list split into several SES calls has several) maps back
            # to this row: delivery events name the id of their own message
            for one in _message_ids(message_id):
                self.db.execute(
                    "INSERT OR IGNORE INTO messages (message_id, delivery_id, sent_at) "
                    "VALUES (?, ?, ?)",
                    (one, delivery_id, now),
                )
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

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

    def reclaim(self) -> tuple[list[Delivery], list[Delivery]]:
        """Rows in `sending` whose owner is gone become `uncertain` (the first list); rows
        another live run still holds are left alone (the second list)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            rows = [
                _delivery(r)
                for r in self.db.execute("SELECT * FROM deliveries WHERE status = 'sending'")
            ]
            now = time.time()
            gone = [d for d in rows if self.owner_gone(d, now)]
            held = [d for d in rows if d not in gone]
            for d in gone:
                self.db.execute(
                    "UPDATE deliveries SET status = 'uncertain', error = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'sending'",
                    (_interrupted(d), _now(), d.id),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self._abort()
            raise
        return gone, held

    def mark_uncertain(self) -> list[Delivery]:
        """Rows a dead process left in `sending` become `uncertain`; returns them."""
        return self.reclaim()[0]

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

    # -- recipient events (schema 4) ------------------------------------------------------
    @property
    def has_events(self) -> bool:
        """Whether this archive has the per-recipient tables (a read-only older one has not)."""
        return self.schema_version >= 4

    def message(self, message_id: str) -> tuple[int, Delivery] | None:
        """The sequence number of a sent message and its delivery row, by provider id."""
        row = self.db.execute(
            "SELECT seq, delivery_id FROM messages WHERE message_id = ?", (message_id,)
        ).fetchone()
        if row is None:
            return None
        d = self.delivery(int(row["delivery_id"]))
        return (int(row["seq"]), d) if d is not None else None

    def record_events(self, events: list[Any]) -> list[EventOutcome]:
        """Record SES events (each with `event_key`, `message_id`, `recipient`, `state`,
        `bounce_type`, `diagnostic`, `event_at`) in one transaction, and what each did.

        An event seen before changes nothing. Of two events for one (version, recipient),
        a later message wins (a retry); for the same message the weightier state wins
        (a Delivery after a Bounce does not overwrite it), then the later one. A permanent
        bounce or a complaint for a report recipient puts the address on the suppression
        list."""
        out: list[EventOutcome] = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for ev in events:
                out.append(self._record(ev))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return out

    def _record(self, ev: Any) -> EventOutcome:
        found = self.message(ev.message_id)
        if found is None:
            return EventOutcome(ev, "unknown", "no delivery in this archive has that message id")
        seq, d = found
        address = ev.recipient.lower()
        to = {_bare(a) for a in d.recipients}
        if address not in to | {_bare(a) for a in d.bcc}:
            return EventOutcome(ev, "unknown", f"{address} is not a recipient of that message")
        now = _now()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO recipient_events (event_key, message_id, delivery_id, "
            "recipient, state, bounce_type, diagnostic, event_at, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ev.event_key,
                ev.message_id,
                d.id,
                address,
                ev.state,
                ev.bounce_type,
                ev.diagnostic,
                ev.event_at,
                now,
            ),
        )
        version = self.get(d.report_id)
        if cur.rowcount == 0:
            return EventOutcome(ev, "duplicate", "seen before", version.role, version.version)
        old = self.db.execute(
            "SELECT s.*, m.seq AS seq FROM recipient_states s LEFT JOIN messages m "
            "ON m.message_id = s.message_id WHERE s.report_id = ? AND s.recipient = ?",
            (d.report_id, address),
        ).fetchone()
        if old is not None:
            old_seq = int(old["seq"]) if old["seq"] is not None else 0
            newer = (seq, _rank(ev.state, ev.bounce_type), ev.event_at) > (
                old_seq,
                _rank(old["state"], old["bounce_type"]),
                old["event_at"],
            )
            if not newer:
                return EventOutcome(
                    ev,
                    "kept",
                    f"{old['state']} at {old['event_at']} stands",
                    version.role,
                    version.version,
                )
        self.db.execute(
            "INSERT INTO recipient_states (report_id, recipient, delivery_id, message_id, "
            "state, bounce_type, diagnostic, event_at, updated_at, retries, notified_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL) "
            "ON CONFLICT (report_id, recipient) DO UPDATE SET delivery_id = excluded.delivery_id, "
            "message_id = excluded.message_id, state = excluded.state, "
            "bounce_type = excluded.bounce_type, diagnostic = excluded.diagnostic, "
            "event_at = excluded.event_at, updated_at = excluded.updated_at, notified_at = NULL",
            (
                d.report_id,
                address,
                d.id,
                ev.message_id,
                ev.state,
                ev.bounce_type,
                ev.diagnostic,
                ev.event_at,
                now,
            ),
        )
        if address in to and suppresses(ev.state, ev.bounce_type):
            self.db.execute(
                "INSERT OR IGNORE INTO suppressions (address, reason, diagnostic, role, "
                "version, message_id, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    address,
                    "complaint" if ev.state == "complained" else "permanent bounce",
                    ev.diagnostic,
                    version.role,
                    version.version,
                    ev.message_id,
                    now,
                ),
            )
        return EventOutcome(ev, "recorded", ev.state, version.role, version.version)

    def recipient_states(self, report_id: int) -> list[RecipientState]:
        if not self.has_events:
            return []
        rows = self.db.execute(
            "SELECT * FROM recipient_states WHERE report_id = ? ORDER BY recipient", (report_id,)
        )
        return [RecipientState(**dict(r)) for r in rows]

    def pending_notices(self) -> list[tuple[RecipientState, Version]]:
        """Permanent bounces and complaints of report recipients the owner was not told of."""
        rows = self.db.execute(
            "SELECT * FROM recipient_states WHERE notified_at IS NULL AND (state = 'complained' "
            "OR (state = 'bounced' AND bounce_type = 'Permanent')) ORDER BY report_id, recipient"
        ).fetchall()
        out = []
        for r in rows:
            state = RecipientState(**dict(r))
            d = self.delivery(state.delivery_id)
            if d is not None and state.recipient in {_bare(a) for a in d.recipients}:
                out.append((state, self.get(state.report_id)))
        return out

    def mark_notified(self, states: list[RecipientState]) -> None:
        now = _now()
        for s in states:
            self.db.execute(
                "UPDATE recipient_states SET notified_at = ? WHERE report_id = ? AND recipient = ?",
                (now, s.report_id, s.recipient),
            )

    def transient_due(self, report_id: int, max_retries: int) -> list[RecipientState]:
        """Recipients of a version whose newest message to them bounced transiently, with
        retries left: the next run sends that version to them again."""
        out = []
        for s in self.recipient_states(report_id):
            if s.state != "bounced" or s.bounce_type != "Transient" or s.retries >= max_retries:
                continue
            if self._newest_message(report_id, s.recipient) == s.message_id:
                out.append(s)
        return out

    def _newest_message(self, report_id: int, address: str) -> str | None:
        rows = self.db.execute(
            "SELECT m.message_id, d.recipients FROM messages m JOIN deliveries d "
            "ON d.id = m.delivery_id WHERE d.report_id = ? ORDER BY m.seq DESC",
            (report_id,),
        )
        for r in rows:
            if address in {_bare(a) for a in json.loads(r["recipients"])}:
                return str(r["message_id"])
        return None

    def count_retry(self, report_id: int, address: str) -> None:
        self.db.execute(
            "UPDATE recipient_states SET retries = retries + 1 WHERE report_id = ? "
            "AND recipient = ?",
            (report_id, address.lower()),
        )

    # -- suppression list ------------------------------------------------------------------
    def suppressions(self) -> dict[str, Suppression]:
        """The local suppression list, by lower-case bare address."""
        if not self.has_events:
            return {}
        rows = self.db.execute("SELECT * FROM suppressions ORDER BY address")
        return {r["address"]: Suppression(**dict(r)) for r in rows}

    def suppress(self, address: str, reason: str, diagnostic: str | None = None) -> bool:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO suppressions (address, reason, diagnostic, added_at) "
            "VALUES (?, ?, ?, ?)",
            (_bare(address), reason, diagnostic, _now()),
        )
        return cur.rowcount == 1

    def unsuppress(self, address: str) -> bool:
        cur = self.db.execute("DELETE FROM suppressions WHERE address = ?", (_bare(address),))
        return cur.rowcount == 1


# how much an event's state weighs against another for the same message and recipient
_RANKS = {"delayed": 0, "delivered": 1, "bounced": 2, "rejected": 3, "complained": 4}


def _rank(state: str, bounce_type: str | None) -> int:
    if state == "bounced" and bounce_type == "Permanent":
        return 3
    return _RANKS.get(state, 0)


def suppresses(state: str, bounce_type: str | None) -> bool:
    """Whether an event of this state puts its address on the suppression list."""
    return state == "complained" or (state == "bounced" and bounce_type == "Permanent")


def _bare(address: str) -> str:
    from email.utils import parseaddr

    return (parseaddr(address)[1] or address).strip().lower()


def _message_ids(message_id: str | None) -> list[str]:
    return [p.strip() for p in (message_id or "").split(",") if p.strip()]


def _split_message_ids(db: sqlite3.Connection) -> None:
    """Schema 4: the ids of deliveries sent in several SES calls, one row each."""
    rows = db.execute(
        "SELECT id, message_id, updated_at FROM deliveries WHERE instr(message_id, ',') > 0 "
        "ORDER BY id"
    ).fetchall()
    for delivery_id, message_id, at in rows:
        for one in _message_ids(message_id):
            db.execute(
                "INSERT OR IGNORE INTO messages (message_id, delivery_id, sent_at) "
                "VALUES (?, ?, ?)",
                (one, delivery_id, at),
            )


_MIGRATION_STEPS = {4: _split_message_ids}


@dataclass(frozen=True)
class RecipientState:
    """One (version, recipient)'s last SES event."""

    report_id: int
    recipient: str
    delivery_id: int
    message_id: str
    state: str  # delivered | bounced | complained | rejected | delayed
    bounce_type: str | None
    diagnostic: str | None
    event_at: str
    updated_at: str
    retries: int = 0
    notified_at: str | None = None

    @property
    def label(self) -> str:
        if self.state == "bounced" and self.bounce_type:
            return f"bounced ({self.bounce_type.lower()})"
        return self.state


@dataclass(frozen=True)
class Suppression:
    address: str
    reason: str
    diagnostic: str | None
    role: str | None
    version: int | None
    message_id: str | None
    added_at: str


@dataclass(frozen=True)
class EventOutcome:
    """What recording one event did: recorded | duplicate | kept | unknown."""

    event: Any
    result: str
    detail: str = ""
    role: str | None = None
    version: int | None = None


class LeaseKeeper:
    """Renews an owner's leases from a thread (its own connection) every `every` seconds."""

    def __init__(self, archive: Archive, every: float) -> None:
        self.archive = archive
        self.every = max(every, 0.05)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def _loop(self) -> None:
        try:
            db = Archive(
                self.archive.path,
                owner=self.archive.owner,
                lease_seconds=self.archive.lease_seconds,
            )
        except ExecReportError:
            return
        try:
            while not self.stop_event.wait(self.every):
                try:
                    db.renew()
                except (sqlite3.Error, ExecReportError):
                    pass  # busy for 30 s: the next round tries again
        finally:
            db.close()

    def __enter__(self) -> LeaseKeeper:
        self.thread = threading.Thread(target=self._loop, name="execreport-lease", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=35)


def _interrupted(d: Delivery) -> str:
    who = f" (pid {d.owner_pid} on {d.owner_host})" if d.owner_pid else ""
    return (
        f"the process that took it{who} stopped between the send request and its record; "
        "check the recipient before --resend"
    )


def _version(row: sqlite3.Row) -> Version:
    data = dict(row)
    data.setdefault("base_hash", None)  # a schema-1 archive opened read-only
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
