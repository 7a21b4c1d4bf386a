"""The archive's versions and delivery ledger (core/archive.py), state by state.

Each test states one promise of DESIGN.md's delivery ledger: a version only when content
changes, one row per (version, recipient list, sender), which states a claim takes with and
without --resend, what the marks write. The expected values are written out by hand (hashes
with hashlib, lists as literals). Written to kill the mutants of `bench/mutation.sh archive`
(docs/testing.md)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from execreport.archive import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    Archive,
    Owner,
    archive_problem,
    content_hash,
    pid_alive,
    process_started,
)
from execreport.errors import ExecReportError
from execreport.models import Finding, Report, Section, Severity
from execreport.render import Rendered


def report(role: str = "cfo", *, critical: bool = False, priority: int = 50) -> Report:
    findings = [Finding(severity=Severity.critical, message="cash gone")] if critical else []
    return Report(
        role=role,
        title=f"{role.upper()} report",
        subject=f"{role} subject",
        sections=[Section(heading="h", body="b")],
        findings=findings,
        priority=priority,
    )


def store(archive: Archive, role: str, markdown: str, base: str | None = None, **kw):
    rendered = Rendered(markdown=markdown, html=f"<p>{markdown}</p>", text=f"T {markdown}")
    return archive.store(
        report(role, **kw), rendered, as_of="2025-03-31", period="Q1 2025", base=base
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- versions ------------------------------------------------------------------------------
def test_a_stored_version_keeps_every_field_of_the_report_and_its_rendering(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, new = store(archive, "cfo", "cash 100", critical=True, priority=7)
        assert new is True
        assert (v.role, v.version, v.as_of, v.period) == ("cfo", 1, "2025-03-31", "Q1 2025")
        assert (v.title, v.subject, v.priority) == ("CFO report", "cfo subject", 7)
        assert v.critical is True
        assert (v.markdown, v.html, v.text) == ("cash 100", "<p>cash 100</p>", "T cash 100")
        assert v.content_hash == sha("cash 100") == v.base_hash
        assert v.forced_reason is None
        assert v.report().title == "CFO report"
        assert json.loads(v.report_json)["priority"] == 7
        assert v.built_at.endswith("+00:00")  # UTC, to the second
        assert len(v.built_at) == len("2025-03-31T10:00:00+00:00")


def test_a_report_without_critical_findings_is_stored_not_critical(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "cash 100")
        assert v.critical is False
        assert archive.latest("cfo").critical is False


def test_content_hash_is_the_sha256_of_the_utf8_markdown():
    assert content_hash("café") == hashlib.sha256("café".encode()).hexdigest()


def test_version_numbers_count_per_role_from_one(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        a1, _ = store(archive, "cfo", "one")
        b1, _ = store(archive, "ceo", "one")
        a2, _ = store(archive, "cfo", "two")
        a3, new = store(archive, "cfo", "three")
        assert (a1.version, b1.version, a2.version, a3.version, new) == (1, 1, 2, 3, True)
        assert [v.version for v in archive.versions("cfo")] == [1, 2, 3]
        assert [(v.role, v.version) for v in archive.versions()] == [
            ("ceo", 1),
            ("cfo", 1),
            ("cfo", 2),
            ("cfo", 3),
        ]
        assert archive.latest("cfo").version == 3
        assert archive.latest("cto") is None
        assert archive.version("cfo", 2).markdown == "two"
        assert archive.version("cfo", 4) is None
        assert archive.get(a2.id).markdown == "two"


def test_the_same_content_returns_the_latest_version_not_a_new_one(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        store(archive, "cfo", "one")
        v2, _ = store(archive, "cfo", "two")
        again, new = store(archive, "cfo", "two")
        assert (again.id, again.version, new) == (v2.id, 2, False)
        # content seen before, but not the latest: a new version
        back, new = store(archive, "cfo", "one")
        assert (back.version, new) == (3, True)


def test_a_change_only_in_the_comparison_sections_keeps_the_version(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v1, _ = store(archive, "cfo", "cash 100\nchanges: a", base="cash 100")
        assert v1.base_hash == sha("cash 100")
        assert v1.content_hash == sha("cash 100\nchanges: a")
        same, new = store(archive, "cfo", "cash 100\nchanges: b", base="cash 100")
        assert (same.version, new) == (1, False)
        v2, new = store(archive, "cfo", "cash 90\nchanges: b", base="cash 90")
        assert (v2.version, new) == (2, True)


def test_a_base_equal_to_the_last_full_content_keeps_the_version(tmp_path):
    # a version archived before base hashes existed has base_hash = content_hash
    with Archive(tmp_path / "a.sqlite3") as archive:
        store(archive, "cfo", "cash 100", base="cash")
        same, new = store(archive, "cfo", "cash 100 and more", base="cash 100")
        assert (same.version, new) == (1, False)


def test_a_failed_store_leaves_no_transaction_open(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        with pytest.raises(AttributeError):
            archive.store(
                report(), object(), as_of="2025-03-31", period="Q1 2025", base="x"
            )  # no .markdown
        bad = Rendered(markdown="m", html=None, text="t")  # type: ignore[arg-type]
        # the SQLite error is one line naming the file, and the transaction is rolled back
        with pytest.raises(
            ExecReportError,
            match=r"a\.sqlite3: cannot use the archive: NOT NULL constraint failed: reports\.html$",
        ):
            archive.store(report(), bad, as_of="2025-03-31", period="Q1 2025")
        assert not archive.db.in_transaction
        v, new = store(archive, "cfo", "m")
        assert (v.version, new) == (1, True)


def test_forcing_records_the_reason(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        archive.set_forced(v.id, "stale data sent anyway")
        assert archive.get(v.id).forced_reason == "stale data sent anyway"


# -- schema --------------------------------------------------------------------------------
def test_a_new_archive_is_at_the_current_schema(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        assert archive.schema_version == SCHEMA_VERSION == 4
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(reports)")]
        assert columns[-1] == "base_hash"  # schema 2
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(deliveries)")]
        assert columns[-4:] == ["owner_pid", "owner_host", "owner_started", "lease_until"]
        # schema 4: the per-recipient event tables
        tables = [
            r[0]
            for r in archive.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        assert tables == [
            "deliveries",
            "messages",
            "recipient_events",
            "recipient_states",
            "reports",
            "suppressions",
        ]
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(messages)")]
        assert columns == ["seq", "message_id", "delivery_id", "sent_at"]
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(suppressions)")]
        assert columns == [
            "address",
            "reason",
            "diagnostic",
            "role",
            "version",
            "message_id",
            "added_at",
        ]
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(recipient_states)")]
        assert columns[-2:] == ["retries", "notified_at"]
    with Archive(tmp_path / "a.sqlite3") as again:  # opening again migrates nothing
        assert again.schema_version == 4
        columns = [r[1] for r in again.db.execute("PRAGMA table_info(deliveries)")]
        assert columns.count("owner_pid") == 1


def test_an_archive_from_a_newer_execreport_is_refused_naming_both_schemas(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 5")
    db.close()
    with pytest.raises(ExecReportError, match=r"schema 5 is newer than this execreport \(4\)"):
        Archive(path)
    # read-only opening refuses it as well, and neither wrote to it
    with pytest.raises(ExecReportError, match=r"schema 5 is newer than this execreport \(4\)"):
        Archive(path, readonly=True)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 5
    assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    db.close()


def test_an_archive_that_cannot_be_opened_is_an_error_naming_the_path(tmp_path):
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(ExecReportError, match="dir.sqlite3: is a folder, not an archive file"):
        Archive(tmp_path / "dir.sqlite3")
    # under a file, not a folder: the folder cannot be made
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ExecReportError, match="a.sqlite3: cannot open the archive: .*File exists"):
        Archive(tmp_path / "file.txt" / "a.sqlite3")


def test_a_migration_that_fails_is_rolled_back(tmp_path):
    path = tmp_path / "half.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")  # no such schema 1
    db.commit()
    db.close()
    # one line naming the file and the failed statement's error, not a traceback
    with pytest.raises(
        ExecReportError,
        match=r"half\.sqlite3: cannot use the archive: table reports already exists$",
    ):
        Archive(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
        "reports"
    ]
    db.close()


def test_the_archive_uses_wal_and_foreign_keys(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(ExecReportError, match="FOREIGN KEY constraint failed$"):
            archive.plan_delivery(999, "outbox", ["a@example.com"], [])


# -- deliveries ----------------------------------------------------------------------------
def test_a_planned_delivery_is_pending_with_its_lists(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["b@x.com", "a@x.com"], ["audit@x.com"])
        assert (d.report_id, d.sender, d.status, d.attempt) == (v.id, "ses", "pending", 0)
        assert d.recipients == ["a@x.com", "b@x.com"]  # the key: sorted
        assert d.bcc == ["audit@x.com"]
        assert (d.message_id, d.error) == (None, None)
        assert d.created_at == d.updated_at


def test_the_same_list_in_another_order_is_the_same_delivery(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["b@x.com", "a@x.com"], [])
        same = archive.plan_delivery(v.id, "ses", ["a@x.com", "b@x.com"], [])
        other_sender = archive.plan_delivery(v.id, "smtp", ["a@x.com", "b@x.com"], [])
        other_list = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        assert same.id == d.id
        assert len({d.id, other_sender.id, other_list.id}) == 3
        assert [x.id for x in archive.deliveries()] == sorted(
            [d.id, other_sender.id, other_list.id]
        )


def test_a_claim_takes_pending_and_failed_rows_once_and_counts_the_attempt(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        assert archive.claim(d.id) is True
        row = archive.deliveries()[0]
        assert (row.status, row.attempt) == ("sending", 1)
        assert archive.claim(d.id) is False  # already taken
        archive.mark_failed(d.id, "refused")
        row = archive.deliveries()[0]
        assert (row.status, row.error, row.attempt) == ("failed", "refused", 1)
        assert archive.claim(d.id) is True  # a failed row is tried again
        row = archive.deliveries()[0]
        assert (row.status, row.attempt, row.error) == ("sending", 2, None)


def test_a_claim_of_an_unknown_row_takes_nothing(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        assert archive.claim(12345) is False
        assert archive.claim(12345, resend=True) is False


@pytest.mark.parametrize("state", ["sent", "uncertain"])
def test_a_sent_or_uncertain_row_is_taken_only_with_resend(tmp_path, state):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.db.execute("UPDATE deliveries SET status = ? WHERE id = ?", (state, d.id))
        assert archive.claim(d.id) is False
        assert archive.claim(d.id, resend=True) is True
        row = archive.deliveries()[0]
        assert (row.status, row.attempt) == ("sending", 1)


def test_a_row_in_sending_is_never_taken_not_even_with_resend(tmp_path):
    # another run is sending it (DESIGN.md: only a gone owner's row is reclaimed)
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        assert archive.claim(d.id) is True
        assert archive.claim(d.id) is False
        assert archive.claim(d.id, resend=True) is False
        row = archive.deliveries()[0]
        assert (row.status, row.attempt) == ("sending", 1)  # the refused claims counted none


def test_resend_also_takes_pending_and_failed_rows(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        assert archive.claim(d.id, resend=True) is True
        archive.mark_failed(d.id, "boom")
        assert archive.claim(d.id, resend=True) is True


def test_marking_sent_records_the_message_id_and_clears_the_error(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
        archive.mark_failed(d.id, "timeout", status="uncertain")
        row = archive.deliveries()[0]
        assert (row.status, row.error) == ("uncertain", "timeout")
        archive.mark_sent(d.id, "msg-7")
        row = archive.deliveries()[0]
        assert (row.status, row.message_id, row.error) == ("sent", "msg-7", None)


def test_a_released_row_is_pending_again_with_its_attempt_given_back(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
        archive.release(d.id, "daily quota")
        row = archive.deliveries()[0]
        assert (row.status, row.attempt, row.error) == ("pending", 0, "daily quota")
        archive.release(d.id)  # never below zero
        row = archive.deliveries()[0]
        assert (row.status, row.attempt, row.error) == ("pending", 0, None)
        # attempt 1 fails, attempt 2 is released: one attempt given back, not all
        archive.claim(d.id)
        archive.mark_failed(d.id, "refused")
        archive.claim(d.id)
        assert archive.deliveries()[0].attempt == 2
        archive.release(d.id)
        row = archive.deliveries()[0]
        assert (row.status, row.attempt, row.error) == ("pending", 1, None)


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_rows_left_sending_by_a_dead_process_become_uncertain_with_a_note(tmp_path):
    path = tmp_path / "a.sqlite3"
    host = socket.gethostname()
    pid = _dead_pid()
    with Archive(path, owner=Owner(pid=pid, host=host, started="0:1")) as dead:
        assert dead.mark_uncertain() == []
        v, _ = store(dead, "cfo", "one")
        a = dead.plan_delivery(v.id, "ses", ["a@x.com"], [])
        b = dead.plan_delivery(v.id, "ses", ["b@x.com"], [])
        mine = dead.plan_delivery(v.id, "ses", ["c@x.com"], [])
        dead.claim(a.id)
    with Archive(path) as archive:  # this (live) process
        archive.claim(mine.id)
        found = archive.mark_uncertain()
        # the row as it was found: still `sending`, with the dead owner recorded
        assert [(x.id, x.status, x.owner_pid, x.owner_host) for x in found] == [
            (a.id, "sending", pid, host)
        ]
        rows = {x.id: x for x in archive.deliveries()}
        assert rows[a.id].status == "uncertain"
        assert rows[a.id].error == (
            f"the process that took it (pid {pid} on {host}) stopped between the send "
            "request and its record; check the recipient before --resend"
        )
        assert (rows[b.id].status, rows[b.id].error) == ("pending", None)
        # a row this live process holds is not reclaimed
        assert (rows[mine.id].status, rows[mine.id].owner_pid) == ("sending", os.getpid())
        assert archive.mark_uncertain() == []


def test_deliveries_filter_by_version_and_status(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v1, _ = store(archive, "cfo", "one")
        v2, _ = store(archive, "cfo", "two")
        a = archive.plan_delivery(v1.id, "ses", ["a@x.com"], [])
        b = archive.plan_delivery(v2.id, "ses", ["a@x.com"], [])
        c = archive.plan_delivery(v2.id, "ses", ["c@x.com"], [])
        archive.claim(c.id)
        archive.mark_sent(c.id, "m")
        assert [x.id for x in archive.deliveries(report_id=v1.id)] == [a.id]
        assert [x.id for x in archive.deliveries(report_id=v2.id)] == [b.id, c.id]
        assert [x.id for x in archive.deliveries(status="sent")] == [c.id]
        assert [x.id for x in archive.deliveries(v2.id, "pending")] == [b.id]
        assert [x.id for x in archive.deliveries(v1.id, "sent")] == []


def test_last_sent_is_the_newest_version_with_a_sent_delivery(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v1, _ = store(archive, "cfo", "one")
        v2, _ = store(archive, "cfo", "two")
        v3, _ = store(archive, "cfo", "three")
        other, _ = store(archive, "ceo", "x")
        assert archive.last_sent("cfo") is None
        for v in (v1, v2):
            d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
            archive.claim(d.id)
            archive.mark_sent(d.id, f"m{v.version}")
        failed = archive.plan_delivery(v3.id, "ses", ["a@x.com"], [])
        archive.claim(failed.id)
        archive.mark_failed(failed.id, "no")
        d = archive.plan_delivery(other.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
        archive.mark_sent(d.id, "m")
        assert archive.last_sent("cfo").version == 2
        assert archive.last_sent("cto") is None


def test_last_delivered_matches_role_sender_and_the_exact_list(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v1, _ = store(archive, "cfo", "one")
        v2, _ = store(archive, "cfo", "two")
        v3, _ = store(archive, "cfo", "three")
        for v, to in ((v1, ["b@x.com", "a@x.com"]), (v2, ["a@x.com", "b@x.com"])):
            d = archive.plan_delivery(v.id, "ses", to, [])
            archive.claim(d.id)
            archive.mark_sent(d.id, "m")
        archive.plan_delivery(v3.id, "ses", ["a@x.com", "b@x.com"], [])  # pending only
        assert archive.last_delivered("cfo", "ses", ["b@x.com", "a@x.com"]).version == 2
        assert archive.last_delivered("cfo", "smtp", ["a@x.com", "b@x.com"]) is None
        assert archive.last_delivered("cfo", "ses", ["a@x.com"]) is None
        assert archive.last_delivered("ceo", "ses", ["a@x.com", "b@x.com"]) is None


def test_versions_and_deliveries_read_back_are_frozen(tmp_path):
    import dataclasses

    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.markdown = "changed"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.status = "sent"  # type: ignore[misc]


def test_an_archive_in_a_folder_not_made_yet_makes_the_folders(tmp_path):
    with Archive(tmp_path / "state" / "deep" / "a.sqlite3") as archive:
        assert archive.schema_version == 4
    assert (tmp_path / "state" / "deep" / "a.sqlite3").is_file()


def test_a_locked_archive_is_waited_for_30_seconds(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        assert archive.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def test_the_options_of_store_claim_and_mark_failed_are_keyword_only(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        rendered = Rendered(markdown="m", html="h", text="t")
        with pytest.raises(TypeError):
            archive.store(report(), rendered, "2025-03-31", "Q1 2025")  # type: ignore[misc]
        v, _ = store(archive, "cfo", "m")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        with pytest.raises(TypeError):
            archive.claim(d.id, True)  # type: ignore[misc]
        with pytest.raises(TypeError):
            archive.mark_failed(d.id, "e", "uncertain")  # type: ignore[misc]


class _RacingConnection(sqlite3.Connection):
    """A connection whose first read of the schema version is followed, before `_migrate`
    takes its lock, by another process migrating the file to `_other_reaches`."""

    _other_reaches = SCHEMA_VERSION
    _raced = False

    def execute(self, sql, *args):  # type: ignore[override]
        cur = super().execute(sql, *args)
        if sql == "PRAGMA user_version" and not _RacingConnection._raced:
            _RacingConnection._raced = True
            stale = cur.fetchone()
            other = sqlite3.connect(self.path_for_race)  # type: ignore[attr-defined]
            for version in range(1, self._other_reaches + 1):
                other.executescript(_MIGRATIONS[version] + f"; PRAGMA user_version = {version};")
            other.close()
            return _Rows([stale])
        return cur


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0]


@pytest.mark.parametrize("other_reaches", [1, 2, 3, 4])
def test_a_migration_done_by_another_process_meanwhile_is_not_done_again(
    tmp_path, monkeypatch, other_reaches
):
    path = tmp_path / "a.sqlite3"
    connect = sqlite3.connect

    def racing(*args, **kwargs):
        con = connect(*args, factory=_RacingConnection, **kwargs)
        con.path_for_race = str(path)
        return con

    monkeypatch.setattr(_RacingConnection, "_raced", False)
    monkeypatch.setattr(_RacingConnection, "_other_reaches", other_reaches)
    monkeypatch.setattr("execreport.archive.sqlite3.connect", racing)
    # the other process reached schema 1, 2, 3 or 4; this one migrates the rest, once each
    with Archive(path) as archive:
        assert _RacingConnection._raced is True  # the race did happen
        assert archive.schema_version == 4
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(reports)")]
        assert columns.count("base_hash") == 1
        columns = [r[1] for r in archive.db.execute("PRAGMA table_info(deliveries)")]
        assert columns.count("owner_pid") == columns.count("lease_until") == 1
        tables = [
            r[0] for r in archive.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        assert tables.count("messages") == tables.count("suppressions") == 1


# -- opening (schema 3: empty files, read-only, integrity) ---------------------------------
def test_an_empty_file_is_refused_unless_a_new_archive_is_asked_for(tmp_path):
    path = tmp_path / "a.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(ExecReportError, match=r"a\.sqlite3: the archive file is empty \(0 bytes\)"):
        Archive(path)
    assert path.stat().st_size == 0  # nothing written
    with Archive(path, new=True) as archive:
        assert archive.schema_version == 4
    assert path.stat().st_size > 0
    with Archive(path) as again:  # no longer empty: opens without `new`
        assert again.schema_version == 4


def test_a_read_only_archive_is_opened_as_it_is_and_refuses_writes(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        store(archive, "cfo", "one")
    with Archive(path, readonly=True) as peek:
        assert peek.readonly is True
        assert peek.latest("cfo").markdown == "one"
        assert peek.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        assert peek.db.isolation_level is None  # autocommit, as the writable one
        # the refused write is one line naming the file, not a traceback
        with pytest.raises(
            ExecReportError,
            match=r"a\.sqlite3: cannot write the archive \(attempt to write a readonly database\)$",
        ):
            peek.set_forced(1, "x")
    with Archive(path) as archive:
        assert archive.readonly is False
        assert archive.db.isolation_level is None


def test_a_read_only_opening_of_a_missing_file_names_it_and_makes_nothing(tmp_path):
    path = tmp_path / "none" / "a.sqlite3"
    with pytest.raises(ExecReportError, match=r"a\.sqlite3: cannot write the archive \("):
        Archive(path, readonly=True)
    assert not (tmp_path / "none").exists()


def test_an_archive_lacking_a_column_of_schema_4_is_refused_naming_it(tmp_path):
    # marked schema 4, but made without schema 3: deliveries lacks the owner columns
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        _MIGRATIONS[1] + ";" + _MIGRATIONS[2] + ";" + _MIGRATIONS[4] + "; PRAGMA user_version = 4;"
    )
    db.close()
    needle = (
        r"a\.sqlite3: not an execreport archive of schema 4 \(table 'deliveries' lacks "
        r"'owner_pid'\); restore it from a backup$"
    )
    with pytest.raises(ExecReportError, match=needle):
        Archive(path)
    with pytest.raises(ExecReportError, match=needle):  # read-only: schema 4 is checked too
        Archive(path, readonly=True)


def test_an_archive_lacking_a_table_of_schema_4_is_refused_naming_it(tmp_path):
    # marked schema 4, but made by schemas 1 to 3 only: no table for the SES events
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        _MIGRATIONS[1] + ";" + _MIGRATIONS[2] + ";" + _MIGRATIONS[3] + "; PRAGMA user_version = 4;"
    )
    db.close()
    needle = (
        r"a\.sqlite3: not an execreport archive of schema 4 \(no table 'messages'\); "
        r"restore it from a backup$"
    )
    for readonly in (False, True):
        with pytest.raises(ExecReportError, match=needle):
            Archive(path, readonly=readonly)


def test_an_archive_at_schema_4_without_tables_is_refused_naming_the_first(tmp_path):
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 4")
    db.close()
    with pytest.raises(ExecReportError, match=r"schema 4 \(no table 'reports'\)"):
        Archive(path)


def test_an_older_schema_read_only_is_not_checked_for_the_new_columns(tmp_path):
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[1] + ";" + _MIGRATIONS[2] + "; PRAGMA user_version = 2;")
    db.close()
    with Archive(path, readonly=True) as peek:
        assert peek.schema_version == 2
        assert peek.deliveries() == []


def test_a_file_that_is_not_sqlite_is_refused_as_not_an_archive(tmp_path):
    path = tmp_path / "a.sqlite3"
    path.write_bytes(b"this is not a database, just text " * 200)
    for readonly in (False, True):
        with pytest.raises(ExecReportError, match=r"a\.sqlite3: not an archive or damaged \("):
            Archive(path, readonly=readonly)


def _error(cls: type[sqlite3.Error], text: str, code: str | None) -> sqlite3.Error:
    exc = cls(text)
    # made at run time, as sqlite3 makes it: an equal string, not the interned literal
    exc.sqlite_errorname = "".join(code) if code else code  # type: ignore[attr-defined]
    assert code is None or exc.sqlite_errorname is not code
    return exc


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (
            "SQLITE_FULL",
            "x",
            "p: disk full: the archive cannot be written; free space and run again",
        ),
        (
            None,
            "database or disk is  full",
            "p: disk full: the archive cannot be written; free space and run again",
        ),
        ("SQLITE_NOTADB", "x", "p: not an archive or damaged (x); restore it from a backup"),
        ("SQLITE_CORRUPT", "x", "p: not an archive or damaged (x); restore it from a backup"),
        (
            None,
            "file is not a database",
            "p: not an archive or damaged (file is not a database); restore it from a backup",
        ),
        (
            None,
            "database disk image is\nmalformed",
            "p: not an archive or damaged (database "
            "disk image is malformed); restore it from a backup",
        ),
        ("SQLITE_READONLY", "x", "p: cannot write the archive (x)"),
        ("SQLITE_PERM", "x", "p: cannot write the archive (x)"),
        ("SQLITE_CANTOPEN", "x", "p: cannot write the archive (x)"),
        ("SQLITE_BUSY", "x", "p: the archive is locked by another process (x); try again"),
        (
            None,
            "database is locked",
            "p: the archive is locked by another process (database is locked); try again",
        ),
        ("SQLITE_ERROR", "no such table: t", "p: cannot use the archive: no such table: t"),
        (None, "disk", "p: cannot use the archive: disk"),
    ],
)
def test_each_sqlite_error_is_one_line_saying_what_it_means(code, text, expected):
    assert archive_problem(Path("p"), _error(sqlite3.OperationalError, text, code)) == expected


def test_a_sqlite_error_without_an_error_name_is_still_one_line():
    exc = sqlite3.DatabaseError("odd  error")  # no sqlite_errorname attribute at all
    if hasattr(exc, "sqlite_errorname"):
        del exc.sqlite_errorname
    assert archive_problem(Path("p"), exc) == "p: cannot use the archive: odd error"


# -- owners and leases (schema 3) ------------------------------------------------------------
def _proc_start(pid: int) -> str:
    """Field 22 of /proc/PID/stat, read by hand (the comm of these processes has no spaces),
    after the first 8 characters of the boot id."""
    boot = open("/proc/sys/kernel/random/boot_id").read()[:8]
    return f"{boot}:{open(f'/proc/{pid}/stat').read().split()[21]}"


def test_the_owner_is_this_process_on_this_host_with_its_start_time():
    me = Owner.me()
    assert (me.pid, me.host) == (os.getpid(), socket.gethostname())
    assert me.started == _proc_start(os.getpid()) == process_started(os.getpid())
    assert len(me.started.split(":")[0]) == 8


def test_a_process_gone_or_a_zombie_has_no_start_time():
    assert process_started(_dead_pid()) is None
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # until it has exited, not reaped yet
            state = open(f"/proc/{zombie.pid}/stat").read().rsplit(")", 1)[-1].split()[0]
            if state == "Z":
                break
            time.sleep(0.02)
        assert state == "Z"
        assert process_started(zombie.pid) is None
        assert pid_alive(zombie.pid) is True  # the pid is still taken, by a zombie
        # an owner recorded with that pid and a start time is gone
        owner = Owner(pid=1, host="h", started=None)
        assert owner.gone(zombie.pid, "h", "0:1", None, 0.0) is True
    finally:
        zombie.wait()


def test_pid_alive_is_true_for_a_live_process_only():
    assert pid_alive(os.getpid()) is True
    assert pid_alive(1) is True
    assert pid_alive(_dead_pid()) is False
    assert pid_alive(0) is False  # never "the process group"
    assert pid_alive(-1) is False  # never "every process"


def test_who_is_gone_as_this_owner_tells_it():
    me = Owner(pid=os.getpid(), host="here", started="s")
    live, dead = os.getpid(), _dead_pid()
    started = _proc_start(live)
    now = 1000.0
    # taken before owners were recorded
    assert me.gone(None, "here", None, None, now) is True
    assert me.gone(live, None, started, 5000.0, now) is True
    # another host: only the lease tells
    assert me.gone(dead, "there", "0:1", None, now) is True
    assert me.gone(dead, "there", "0:1", 999.0, now) is True
    assert me.gone(dead, "there", "0:1", 1000.0, now) is False  # expires after `now`
    assert me.gone(dead, "there", "0:1", 1001.0, now) is False
    # this host: the pid and its start time tell, not the lease
    assert me.gone(dead, "here", "0:1", 5000.0, now) is True
    assert me.gone(live, "here", None, 0.0, now) is False
    assert me.gone(live, "here", started, 0.0, now) is False
    assert me.gone(live, "here", started + "0", 5000.0, now) is True  # a reused pid


def test_a_claim_records_the_owner_and_a_lease_and_renew_extends_only_its_own(tmp_path):
    path = tmp_path / "a.sqlite3"
    owner = Owner(pid=4242, host="h.invalid", started="0:7")
    with Archive(path, owner=owner, lease_seconds=50.0) as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        other = archive.plan_delivery(v.id, "ses", ["b@x.com"], [])
        before = time.time()
        assert archive.claim(d.id)
        after = time.time()
        row = archive.delivery(d.id)
        assert (row.owner_pid, row.owner_host, row.owner_started) == (4242, "h.invalid", "0:7")
        assert before + 50.0 <= row.lease_until <= after + 50.0
        assert archive.renew() == 1
        # a row of another owner (same pid and host, another start) is not renewed
        with Archive(path, owner=Owner(4242, "h.invalid", "0:8"), lease_seconds=50.0) as b:
            assert b.claim(other.id)
            assert b.renew() == 1
        archive.db.execute("UPDATE deliveries SET lease_until = 1.0")
        before = time.time()
        assert archive.renew() == 1
        after = time.time()
        assert before + 50.0 <= archive.delivery(d.id).lease_until <= after + 50.0
        assert archive.delivery(other.id).lease_until == 1.0
        archive.mark_sent(d.id, "m")  # a sent row is no longer renewed
        assert archive.renew() == 0
    with Archive(path, owner=Owner(4242, "h.invalid", None)) as none:
        assert none.renew() == 0  # `IS ?`: a None start time matches only None


def test_leases_are_renewed_every_quarter_of_the_lease_by_default(tmp_path):
    with Archive(tmp_path / "a.sqlite3", lease_seconds=120.0) as archive:
        assert archive.lease_seconds == 120.0
        assert archive.keep_leases().every == 30.0
        assert archive.keep_leases(every=2.5).every == 2.5
        assert archive.keep_leases(every=0.01).every == 0.05  # never busier than 20 a second
    with Archive(tmp_path / "a.sqlite3") as archive:
        assert archive.lease_seconds == 120.0  # LEASE_SECONDS
    with Archive(tmp_path / "a.sqlite3", lease_seconds=10.0) as archive:
        assert archive.keep_leases().every == 2.5  # 10 / 4, the fraction kept


def test_reclaim_returns_the_gone_rows_and_the_held_ones_apart(tmp_path):
    path = tmp_path / "a.sqlite3"
    far = Owner(pid=1, host="far.invalid", started="0:1")
    with Archive(path, owner=far, lease_seconds=-1.0) as expired:
        v, _ = store(expired, "cfo", "one")
        a = expired.plan_delivery(v.id, "ses", ["a@x.com"], [])
        expired.claim(a.id)
    with Archive(path, owner=far, lease_seconds=600.0) as fresh:
        b = fresh.plan_delivery(v.id, "ses", ["b@x.com"], [])
        fresh.claim(b.id)
    with Archive(path) as archive:
        assert not archive.db.in_transaction
        gone, held = archive.reclaim()
        assert not archive.db.in_transaction
        assert [(x.id, x.status) for x in gone] == [(a.id, "sending")]
        assert [(x.id, x.status) for x in held] == [(b.id, "sending")]
        assert archive.delivery(a.id).status == "uncertain"
        assert archive.delivery(a.id).error == (
            "the process that took it (pid 1 on far.invalid) stopped between the send "
            "request and its record; check the recipient before --resend"
        )
        assert archive.delivery(b.id).status == "sending"
        assert archive.reclaim() == ([], [archive.delivery(b.id)])


def test_a_row_taken_before_owners_were_recorded_is_reclaimed_with_a_plain_note(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.db.execute("UPDATE deliveries SET status = 'sending' WHERE id = ?", (d.id,))
        assert [x.id for x in archive.mark_uncertain()] == [d.id]
        assert archive.delivery(d.id).error == (
            "the process that took it stopped between the send request and its record; "
            "check the recipient before --resend"
        )


def test_the_lease_keeper_renews_from_its_own_thread_and_stops(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path, lease_seconds=30.0) as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
        archive.db.execute("UPDATE deliveries SET lease_until = 1.0")
        with archive.keep_leases(every=0.05) as keeper:
            assert keeper.thread is not None and keeper.thread.daemon is True
            assert keeper.thread.name == "execreport-lease"
            for _ in range(100):
                if archive.delivery(d.id).lease_until > 1.0:
                    break
                time.sleep(0.05)
            assert archive.delivery(d.id).lease_until >= time.time() + 25.0
        assert not keeper.thread.is_alive()
        archive.db.execute("UPDATE deliveries SET lease_until = 1.0")
        time.sleep(0.2)
        assert archive.delivery(d.id).lease_until == 1.0  # stopped: no more renewals


def test_peek_tells_what_store_would_do_without_writing(tmp_path):
    def rendered(markdown: str) -> Rendered:
        return Rendered(markdown=markdown, html="h", text="t")

    with Archive(tmp_path / "a.sqlite3") as archive:
        # nothing stored yet: a new version 1
        assert archive.peek(report("cfo"), rendered("cash 100")) == (None, 1)
        v1, _ = store(archive, "cfo", "cash 100\nchanges: a", base="cash 100")
        # the same base, other comparison sections: version 1, as store would find it
        assert archive.peek(report("cfo"), rendered("cash 100\nchanges: b"), base="cash 100") == (
            v1,
            1,
        )
        # no base: the whole Markdown is compared (it equals neither hash of version 1)
        assert archive.peek(report("cfo"), rendered("cash 100\nchanges: b")) == (None, 2)
        # no base, and the whole Markdown is version 1's: version 1
        assert archive.peek(report("cfo"), rendered("cash 100\nchanges: a")) == (v1, 1)
        assert archive.peek(report("cfo"), rendered("cash 90"), base="cash 90") == (None, 2)
        assert archive.peek(report("ceo"), rendered("cash 100")) == (None, 1)
        assert [v.version for v in archive.versions()] == [1]  # peek stored nothing


def test_a_live_process_of_another_user_is_alive():
    # kill(pid, 0) on another user's process raises PermissionError: it exists all the same
    if os.geteuid() != 0:
        assert pid_alive(1) is True  # init, root's
        return
    child = os.fork()
    if child == 0:  # as root: drop to nobody in a child, then ask about init (root's)
        try:
            os.setgid(65534)
            os.setuid(65534)
            os._exit(0 if pid_alive(1) is True else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_explicit_now_decides_whether_a_lease_has_expired(tmp_path):
    far = Owner(pid=1, host="far.invalid", started="0:1")
    with Archive(tmp_path / "a.sqlite3", owner=far, lease_seconds=600.0) as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
        archive.db.execute("UPDATE deliveries SET lease_until = 500.0")
        row = archive.delivery(d.id)
        with Archive(tmp_path / "a.sqlite3") as here:
            assert here.owner_gone(row, now=499.0) is False  # 1970: the lease still runs
            assert here.owner_gone(row, now=501.0) is True
            assert here.owner_gone(row) is True  # now: it ran out long ago


def test_a_lease_keeper_that_cannot_open_the_archive_ends_quietly(tmp_path, monkeypatch):
    raised = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_type))
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        path.unlink()
        path.write_bytes(b"")  # the file is now empty: Archive() refuses it
        with archive.keep_leases(every=0.05) as keeper:
            keeper.thread.join(timeout=10)
            assert not keeper.thread.is_alive()  # ended at once, not renewing
    assert raised == []


def test_find_delivery_finds_the_row_of_a_version_list_and_sender(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["b@x.com", "a@x.com"], ["audit@x.com"])
        found = archive.find_delivery(v.id, "ses", ["a@x.com", "b@x.com"])  # any order
        assert (found.id, found.recipients, found.bcc) == (
            d.id,
            ["a@x.com", "b@x.com"],
            ["audit@x.com"],
        )
        assert archive.find_delivery(v.id, "smtp", ["a@x.com", "b@x.com"]) is None
        assert archive.find_delivery(v.id, "ses", ["a@x.com"]) is None
        assert archive.delivery(d.id).id == d.id
        assert archive.delivery(d.id + 1) is None


def test_the_base_of_peek_is_keyword_only(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        rendered = Rendered(markdown="m", html="h", text="t")
        with pytest.raises(TypeError):
            archive.peek(report(), rendered, "m")  # type: ignore[misc]


def test_asking_whether_a_process_lives_sends_it_no_signal():
    # the child ends with status 3 on any SIGHUP, SIGINT or SIGTERM (whatever its parent ignores)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):\n"
            "    signal.signal(s, lambda *a: sys.exit(3))\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n"
        assert pid_alive(child.pid) is True
        time.sleep(0.3)
        assert child.poll() is None  # still running: it was asked about, not signalled
    finally:
        child.kill()
        child.wait()


class _BrokenOwner(Owner):
    def gone(self, *args: object) -> bool:  # type: ignore[override]
        raise RuntimeError("cannot tell")


def test_a_reclaim_that_fails_leaves_no_transaction_open(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path, owner=Owner(pid=1, host="far.invalid", started="0:1")) as archive:
        v, _ = store(archive, "cfo", "one")
        d = archive.plan_delivery(v.id, "ses", ["a@x.com"], [])
        archive.claim(d.id)
    with Archive(path, owner=_BrokenOwner(pid=2, host="h", started=None)) as broken:
        with pytest.raises(RuntimeError, match="cannot tell"):
            broken.reclaim()
        assert not broken.db.in_transaction
        assert broken.delivery(d.id).status == "sending"
        with Archive(path) as other:  # the write lock was let go
            other.set_forced(v.id, "x")


def test_an_archive_failing_sqlites_quick_check_is_refused_as_damaged(tmp_path):
    # a NULL where the schema says NOT NULL: the file is whole, its content is not
    path = tmp_path / "a.sqlite3"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA writable_schema=ON")
    db.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'role TEXT NOT NULL', 'role TEXT') "
        "WHERE name = 'reports'"
    )
    db.commit()
    db.close()
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO reports (role, version, content_hash, as_of, period, built_at, title, "
        "subject, critical, priority, markdown, html, text, report_json) VALUES "
        "(NULL, 1, 'h', 'a', 'p', 'b', 't', 's', 0, 1, 'm', 'h', 't', '{}')"
    )
    db.commit()
    db.execute("PRAGMA writable_schema=ON")
    db.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'role TEXT,', 'role TEXT NOT NULL,') "
        "WHERE name = 'reports'"
    )
    db.commit()
    db.close()
    needle = (
        r"a\.sqlite3: the archive is damaged \(NULL value in reports\.role\); "
        r"restore it from a backup$"
    )
    for readonly in (False, True):
        with pytest.raises(ExecReportError, match=needle):
            Archive(path, readonly=readonly)


def test_an_owner_is_frozen_and_the_options_of_an_archive_are_keyword_only(tmp_path):
    import dataclasses

    owner = Owner(pid=1, host="h", started=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        owner.pid = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Archive(tmp_path / "a.sqlite3", True)  # type: ignore[misc]
    assert not (tmp_path / "a.sqlite3").exists()
