"""The SQLite archive: versions, schema migration, and the delivery ledger's claims."""

from __future__ import annotations

import sqlite3
import threading

from execreport.archive import _MIGRATIONS, SCHEMA_VERSION, Archive
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


def test_a_send_interrupted_mid_flight_is_uncertain_and_not_claimed_again(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = store(archive, "cfo", "cash 100")
        d = archive.plan_delivery(v.id, "ses", ["cfo@example.com"], [])
        assert archive.claim(d.id)
        # the process dies here; the next run finds the row still 'sending'
        assert [x.id for x in archive.mark_uncertain()] == [d.id]
        assert archive.deliveries(status="uncertain")[0].id == d.id
        assert not archive.claim(d.id)
        assert archive.claim(d.id, resend=True)
        archive.mark_sent(d.id, "msg-1")
        assert not archive.claim(d.id)
