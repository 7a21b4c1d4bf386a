"""The SQLite archive: versions, schema migration, and the delivery ledger's claims."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from execreport import ExecReportError
from execreport.archive import _MIGRATIONS, SCHEMA_VERSION, Archive, Owner, process_started
from execreport.models import Report, Section
from execreport.render import Rendered


def rendered(text: str, base: str | None = None) -> Rendered:
    return Rendered(markdown=text, html=f"<p>{text}</p>", text=text, base=base or text)


def store(archive: Archive, role: str, text: str, base: str | None = None):
    report = Report(role=role, title=role.upper(), sections=[Section(heading="h", body=text)])
    return archive.store(
        report, rendered(text, base), as_of="2025-03-31", period="Q1 2025", base=base or text
    )


def test_a_new_version_only_when_content_changes(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v1, new1 = store(archive, "cfo", "cash 100")
        v1b, new1b = store(archive, "cfo", "cash 100")
        v2, new2 = store(archive, "cfo", "cash 90")
        assert (v1.version, new1, v1b.version, new1b, v2.version, new2) == (
            1,
            True,
            1,
            False,
            2,
            True,
        )
        assert [v.version for v in archive.versions("cfo")] == [1, 2]


def test_a_changed_comparison_section_alone_makes_no_version(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        store(archive, "cfo", "cash 100", base="cash 100")
        v, new = store(archive, "cfo", "cash 100\nchanges: none", base="cash 100")
        assert (v.version, new) == (1, False)


def test_an_archive_of_schema_1_migrates_forward_keeping_its_versions(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[1] + "; PRAGMA user_version = 1;")
    db.execute(
        "INSERT INTO reports (role, version, content_hash, as_of, period, built_at, title, "
        "subject, critical, priority, markdown, html, text, report_json) VALUES ('cfo', 1, "
        "'abc', '2025-03-31', 'Q1', 'then', 'CFO', 's', 0, 10, 'md', 'h', 't', '{}')"
    )
    db.commit()
    db.close()
    with Archive(path) as archive:
        assert archive.schema_version == SCHEMA_VERSION
        assert archive.latest("cfo").base_hash == "abc"


def test_a_delivery_is_planned_once_and_claimed_by_one_process_only(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        v, _ = store(archive, "cfo", "cash 100")
        d = archive.plan_delivery(v.id, "outbox", ["cfo@example.com"], ["audit@example.com"])
        again = archive.plan_delivery(v.id, "outbox", ["cfo@example.com"], ["audit@example.com"])
        assert d.id == again.id and d.status == "pending"
    wins = []

    def claim() -> None:
        with Archive(path) as mine:
            wins.append(mine.claim(d.id))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def taken_by(path, owner: Owner, *, lease_seconds: float = 120.0):
    """A version with one delivery row, taken for sending by `owner`."""
    with Archive(path, owner=owner, lease_seconds=lease_seconds) as archive:
        v, _ = store(archive, "cfo", "cash 100")
        d = archive.plan_delivery(v.id, "ses", ["cfo@example.com"], [])
        assert archive.claim(d.id)
        return d


def test_a_send_interrupted_mid_flight_is_uncertain_and_not_claimed_again(tmp_path):
    path = tmp_path / "a.sqlite3"
    # the process that took the row dies; the next run finds the row still 'sending'
    d = taken_by(path, Owner(pid=dead_pid(), host=socket.gethostname(), started="0:1"))
    with Archive(path) as archive:
        assert [x.id for x in archive.mark_uncertain()] == [d.id]
        row = archive.deliveries(status="uncertain")[0]
        assert row.id == d.id and "check the recipient before --resend" in row.error
        assert not archive.claim(d.id)
        assert archive.claim(d.id, resend=True)
        archive.mark_sent(d.id, "msg-1")
        assert not archive.claim(d.id)


def test_a_row_held_by_a_live_run_on_this_host_is_left_alone(tmp_path):
    path = tmp_path / "a.sqlite3"
    d = taken_by(path, Owner.me())  # this test process is the live owner
    with Archive(path, owner=Owner(pid=1, host=socket.gethostname(), started=None)) as other:
        gone, held = other.reclaim()
        assert gone == [] and [x.id for x in held] == [d.id]
        assert other.delivery(d.id).status == "sending"
        assert (held[0].owner_pid, held[0].owner_host) == (os.getpid(), socket.gethostname())
        # not even a deliberate resend takes a row another live run is sending
        assert not other.claim(d.id, resend=True)


def test_a_reused_pid_is_not_mistaken_for_the_owner(tmp_path):
    path = tmp_path / "a.sqlite3"
    assert process_started(os.getpid()) is not None
    # the pid is alive (it is ours), but it started at another time: another process
    d = taken_by(path, Owner(pid=os.getpid(), host=socket.gethostname(), started="0:1"))
    with Archive(path) as archive:
        gone, held = archive.reclaim()
        assert [x.id for x in gone] == [d.id] and held == []


def test_a_row_held_from_another_host_is_reclaimed_only_when_its_lease_expired(tmp_path):
    path = tmp_path / "a.sqlite3"
    far = Owner(pid=os.getpid(), host="another-host.invalid", started="0:1")
    d = taken_by(path, far, lease_seconds=0.5)
    with Archive(path) as archive:
        assert archive.reclaim() == ([], [archive.delivery(d.id)])
        time.sleep(0.7)
        gone, held = archive.reclaim()
        assert [x.id for x in gone] == [d.id] and held == []


def test_the_owner_renews_its_lease_while_it_sends(tmp_path):
    path = tmp_path / "a.sqlite3"
    far = Owner(pid=os.getpid(), host="another-host.invalid", started="0:1")
    with Archive(path, owner=far, lease_seconds=0.5) as sender:
        v, _ = store(sender, "cfo", "cash 100")
        d = sender.plan_delivery(v.id, "ses", ["cfo@example.com"], [])
        with sender.keep_leases(every=0.1):
            assert sender.claim(d.id)
            time.sleep(1.2)  # a long send: more than twice the lease
            with Archive(path) as other:
                assert other.reclaim()[0] == []  # renewed: still the sender's
        time.sleep(0.7)  # stopped renewing (the process hangs, say): the lease runs out
        with Archive(path) as other:
            assert [x.id for x in other.reclaim()[0]] == [d.id]


def test_an_archive_of_schema_2_migrates_to_3_and_an_old_taken_row_is_reclaimed(tmp_path):
    path = tmp_path / "v2.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[1] + ";" + _MIGRATIONS[2] + "; PRAGMA user_version = 2;")
    db.execute(
        "INSERT INTO reports (role, version, content_hash, as_of, period, built_at, title, "
        "subject, critical, priority, markdown, html, text, report_json, base_hash) VALUES "
        "('cfo', 1, 'abc', '2025-03-31', 'Q1', 'then', 'CFO', 's', 0, 10, 'md', 'h', 't', "
        "'{}', 'abc')"
    )
    for status in ("sent", "sending"):
        db.execute(
            "INSERT INTO deliveries (report_id, sender, recipients, bcc, status, attempt, "
            "created_at, updated_at) VALUES (1, ?, '[\"cfo@example.com\"]', '[]', ?, 1, "
            "'then', 'then')",
            (f"s-{status}", status),
        )
    db.commit()
    db.close()
    with Archive(path, readonly=True) as peek:  # read as it is: no migration
        assert peek.schema_version == 2
        assert [d.status for d in peek.deliveries()] == ["sent", "sending"]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    with Archive(path) as archive:
        assert archive.schema_version == SCHEMA_VERSION  # 3, then on to the newest
        columns = {r[1] for r in archive.db.execute("PRAGMA table_info(deliveries)")}
        assert {"owner_pid", "owner_host", "owner_started", "lease_until"} <= columns
        assert archive.latest("cfo").base_hash == "abc"
        # taken before owners were recorded: nobody holds it any more
        gone, held = archive.reclaim()
        assert [d.sender for d in gone] == ["s-sending"] and held == []
        assert archive.deliveries()[0].status == "sent"


def test_two_runs_storing_the_same_new_content_make_one_version(tmp_path):
    path = tmp_path / "a.sqlite3"
    Archive(path).close()
    results = []
    start = threading.Barrier(6)

    def one() -> None:
        with Archive(path) as mine:
            start.wait()
            v, new = store(mine, "cfo", "cash 100")
            d = mine.plan_delivery(v.id, "outbox", ["cfo@example.com"], [])
            results.append((v.version, new, d.id, mine.claim(d.id)))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[:3] for r in results) == [(1, False, 1)] * 5 + [(1, True, 1)]
    assert sorted(r[3] for r in results) == [False] * 5 + [True]  # one claim wins


def test_a_read_only_archive_writes_nothing(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        v, _ = store(archive, "cfo", "cash 100")
        archive.plan_delivery(v.id, "outbox", ["cfo@example.com"], [])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with Archive(path, readonly=True) as peek:
        assert peek.latest("cfo").version == 1
        assert peek.peek(v.report(), rendered("cash 100"), base="cash 100") == (v, 1)
        assert peek.peek(v.report(), rendered("cash 90"), base="cash 90") == (None, 2)
        with pytest.raises(ExecReportError, match="cannot write the archive"):
            peek.claim(1)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_full_disk_while_storing_is_one_line_and_leaves_the_archive_as_it_was(tmp_path):
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        store(archive, "cfo", "cash 100")
        pages = archive.db.execute("PRAGMA page_count").fetchone()[0]
        archive.db.execute(f"PRAGMA max_page_count = {pages}")  # no room for one more page
        with pytest.raises(ExecReportError) as raised:
            store(archive, "cfo", "x" * 200_000)
        assert str(raised.value) == (
            f"{path}: disk full: the archive cannot be written; free space and run again"
        )
        assert not archive.db.in_transaction
        assert archive.latest("cfo").version == 1


def test_an_archive_of_schema_3_migrates_to_4_and_its_sent_ids_find_their_rows(tmp_path):
    path = tmp_path / "v3.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        _MIGRATIONS[1] + ";" + _MIGRATIONS[2] + ";" + _MIGRATIONS[3] + "; PRAGMA user_version = 3;"
    )
    db.execute(
        "INSERT INTO reports (role, version, content_hash, as_of, period, built_at, title, "
        "subject, critical, priority, markdown, html, text, report_json, base_hash) VALUES "
        "('cfo', 1, 'abc', '2025-03-31', 'Q1', 'then', 'CFO', 's', 0, 10, 'md', 'h', 't', "
        "'{}', 'abc')"
    )
    # one row sent in one SES call, one in two (a list over 50), one never sent
    for n, (status, ids) in enumerate(
        [("sent", "id-one"), ("sent", "id-a,id-b"), ("pending", None)]
    ):
        db.execute(
            "INSERT INTO deliveries (report_id, sender, recipients, bcc, status, attempt, "
            "message_id, created_at, updated_at) VALUES (1, 'ses', ?, '[]', ?, 1, ?, 'then', "
            "'then')",
            (f'["r{n}@example.com"]', status, ids),
        )
    db.commit()
    db.close()
    with Archive(path, readonly=True) as peek:  # read as it is: no tables of schema 4 yet
        assert peek.schema_version == 3
        assert peek.suppressions() == {} and peek.recipient_states(1) == []
    with Archive(path) as archive:
        assert archive.schema_version == SCHEMA_VERSION == 4
        for table in ("messages", "recipient_events", "recipient_states", "suppressions"):
            assert archive.db.execute(f"SELECT count(*) FROM {table}").fetchone() is not None
        assert archive.message("id-one")[1].recipients == ["r0@example.com"]
        assert archive.message("id-a")[1].recipients == ["r1@example.com"]
        assert archive.message("id-b")[1].recipients == ["r1@example.com"]
        assert archive.message("id-none") is None
        assert archive.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 3


def test_an_archive_missing_a_schema_4_table_is_refused(tmp_path):
    path = tmp_path / "a.sqlite3"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE suppressions")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="no table 'suppressions'"):
        Archive(path)
