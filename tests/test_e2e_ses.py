"""End to end: the CLI as a subprocess against moto's SES server on loopback.

The server runs in this process (`ThreadedMotoServer` on 127.0.0.1); the CLI reaches it
through `AWS_ENDPOINT_URL`, with dummy credentials, as it would reach SES.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
import time
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402

pytest.importorskip("moto")

SECRET = "testing-secret-never-printed"
FAST = {"region": cd.REGION, "max_send_rate": "off"}


@pytest.fixture
def server():
    with cd.moto_server() as moto_server:
        yield moto_server


def env_for(url: str, **extra: str) -> dict[str, str]:
    return cd.clean_env(AWS_ENDPOINT_URL=url, AWS_SECRET_ACCESS_KEY=SECRET, **extra)


def no_secret(*outputs: str) -> None:
    for text in outputs:
        assert SECRET not in text


def header_view(raw: str) -> tuple[email.message.Message, str]:
    msg = email.message_from_string(raw)
    head = raw.split("\r\n\r\n", 1)[0] if "\r\n\r\n" in raw else raw.split("\n\n", 1)[0]
    return msg, head


def summary(sent: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a recipient set sees, independent of Message-ID and Date: (report, subject,
    envelope recipients)."""
    out = []
    for item in sent:
        msg, _ = header_view(item["raw_data"])
        envelope = tuple(sorted(set(a for _, a in getaddresses(item["destinations"]))))
        out.append((msg["X-Execreport-Report"], msg["Subject"], envelope))
    return sorted(out)


def check_five_reports(sent: list[dict[str, Any]]) -> None:
    assert len(sent) == 5
    roles = sorted(header_view(m["raw_data"])[0]["X-Execreport-Report"].split(";")[0] for m in sent)
    assert roles == sorted(cd.ROLES)  # each report once
    for item in sent:
        msg, head = header_view(item["raw_data"])
        assert cd.AUDIT in item["destinations"]  # the audit copy is in the envelope ...
        assert msg["Bcc"] is None  # ... and nowhere in the headers
        assert cd.AUDIT not in head
        assert msg["From"] == cd.FROM


def test_run_delivers_each_report_once_then_nothing(server: cd.MotoServer, tmp_path: Path) -> None:
    server.verify("example.com")
    config = cd.write_config(tmp_path, sender="ses", sender_settings=FAST)
    env = env_for(server.url)
    first = cd.run_cli(config, env)
    assert first.returncode == 0, first.stderr
    assert "5 sent" in first.stdout
    check_five_reports(server.sent())

    second = cd.run_cli(config, env)
    assert second.returncode == 0, second.stderr
    assert "5 skipped" in second.stdout
    assert len(server.sent()) == 5  # a second run sends nothing
    no_secret(first.stdout, first.stderr, second.stdout, second.stderr)


def test_unverified_from_stops_before_any_send(server: cd.MotoServer, tmp_path: Path) -> None:
    server.verify("some-other-domain.example.org")
    config = cd.write_config(tmp_path, sender="ses", sender_settings=FAST)
    done = cd.run_cli(config, env_for(server.url))
    assert done.returncode == 1
    assert cd.error_lines(done.stderr) == [
        "execreport: error: SES: sender reports@example.com is not a verified identity in "
        "us-west-2 (verify the address or its domain)"
    ]
    assert "Traceback" not in done.stderr
    assert server.sent() == []
    no_secret(done.stdout, done.stderr)


def test_missing_credentials_one_line(server: cd.MotoServer, tmp_path: Path) -> None:
    server.verify("example.com")
    config = cd.write_config(tmp_path, sender="ses", sender_settings=FAST)
    env = env_for(server.url)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key)
    done = cd.run_cli(config, env)
    assert done.returncode == 1
    assert cd.error_lines(done.stderr) == [
        "execreport: error: SES: no AWS credentials found (set AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY, a profile, or an IAM role)"
    ]
    assert server.sent() == []


# -- a kill at a known point ------------------------------------------------------------------
# A kill that lands "somewhere mid-run" is flaky: after SES accepted a message but before the
# archive recorded it, the rerun rightly reports it as uncertain. So each test below stops the
# run at one known point and checks the outcome that point must have.


def delivery_states(archive: Path) -> dict[str, int]:
    import sqlite3

    db = sqlite3.connect(f"{archive.as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    finally:
        db.close()
    return dict(rows)


def start_run(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cd.cli_args(config),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(config.parent),
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def kill_between_sends(proc: subprocess.Popen[bytes], archive: Path, timeout: float = 60) -> None:
    """SIGKILL the run after at least one delivery is recorded as sent and before it takes
    the next one. The test holds the archive's write lock while it looks and while it kills,
    so the run cannot take a row in between: nothing is in flight when the kill lands."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, f"no delivery was recorded as sent in {timeout} s"
        if not archive.exists() or archive.stat().st_size == 0:
            time.sleep(0.02)  # not made yet: opening it here would make an empty file
            continue
        # mode=rw: never create the file (an empty archive file is refused by the run)
        db = sqlite3.connect(f"{archive.as_uri()}?mode=rw", uri=True, timeout=0.05)
        db.isolation_level = None
        try:
            db.execute("BEGIN IMMEDIATE")  # the archive's one writer, until ROLLBACK
            states = dict(
                db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
            )
            if states.get("sent", 0) >= 1 and states.get("pending", 0) >= 1:
                assert states.get("sending", 0) == 0
                kill(proc)
                db.execute("ROLLBACK")
                return
            db.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass  # no archive or table yet, or the run is writing: look again
        finally:
            db.close()
        time.sleep(0.02)


def test_killed_before_acceptance_is_pending_and_sent_once_by_the_rerun(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    server.verify("example.com")
    paced = cd.write_config(
        tmp_path, sender="ses", sender_settings={"region": cd.REGION, "max_send_rate": 1}
    )
    env = env_for(server.url)
    proc = start_run(paced, env)
    try:
        kill_between_sends(proc, tmp_path / "archive.sqlite3")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_at = len(server.sent())
    assert 1 <= killed_at < 5
    # what SES accepted is what the archive says was sent; the rest was never taken
    assert delivery_states(tmp_path / "archive.sqlite3") == {
        "sent": killed_at,
        "pending": 5 - killed_at,
    }

    # the rerun resumes; pacing is switched off only to keep the test short
    rerun = cd.run_cli(paced, env | {"EXECREPORT_DELIVERY__SES__MAX_SEND_RATE": "off"})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{killed_at} skipped" in rerun.stdout
    assert f"{5 - killed_at} sent" in rerun.stdout
    resumed = server.sent()
    check_five_reports(resumed)  # each report exactly once
    assert delivery_states(tmp_path / "archive.sqlite3") == {"sent": 5}

    # the same as an uninterrupted run into a fresh SES and a fresh archive
    server.reset()
    server.verify("example.com")
    fresh = cd.write_config(
        tmp_path, sender="ses", sender_settings=FAST, name="fresh.toml", archive="fresh.sqlite3"
    )
    whole = cd.run_cli(fresh, env)
    assert whole.returncode == 0, whole.stderr
    assert summary(resumed) == summary(server.sent())


class AcceptThenHang:
    """For the proxy's `hold`: the `nth` SendEmail goes through to SES, which accepts it, and
    then its answer is held back until `release()`: the sender is killed while it waits for an
    answer SES has already given."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.count = 0
        self.accepted = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, method: str, path: str, status: int) -> None:
        if method != "POST" or not path.startswith(cd.SEND_PATH):
            return
        with self.lock:
            self.count += 1
            mine = self.count == self.nth
        if mine and status == 200:
            self.accepted.set()
            self.released.wait(timeout=60)

    def release(self) -> None:
        self.released.set()


def report_messages(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports among what SES accepted (not the owner's notices)."""
    return [m for m in sent if role_of(m) in cd.ROLES]


def role_of(item: dict[str, Any]) -> str:
    return (header_view(item["raw_data"])[0]["X-Execreport-Report"] or "").split(";")[0]


def with_notify(config: Path, address: str) -> Path:
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[delivery]\n", f"[delivery]\nnotify = [{address!r}]\n".replace("'", '"'), 1),
        encoding="utf-8",
    )
    return config


def test_killed_after_acceptance_is_uncertain_never_resent_and_the_owner_is_told(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    server.verify("example.com")
    owner = "owner@example.com"
    config = with_notify(cd.write_config(tmp_path, sender="ses", sender_settings=FAST), owner)
    rule = AcceptThenHang(nth=2)
    with cd.fault_proxy(server.url, lambda *_: None, hold=rule) as proxy:
        proc = start_run(config, env_for(proxy.url))
        try:
            assert rule.accepted.wait(timeout=60), "the second message never reached SES"
            kill(proc)
        finally:
            rule.release()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    accepted = server.sent()
    assert len(accepted) == 2  # SES has the second message; the run died waiting for the answer
    in_flight = header_view(accepted[1]["raw_data"])[0]["X-Execreport-Report"]
    assert delivery_states(tmp_path / "archive.sqlite3") == {"sent": 1, "sending": 1, "pending": 3}

    rerun = cd.run_cli(config, env_for(server.url))
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr  # uncertain is not success
    assert "Traceback" not in rerun.stderr
    assert "uncertain" in rerun.stdout + rerun.stderr
    assert delivery_states(tmp_path / "archive.sqlite3") == {"sent": 4, "uncertain": 1}

    reports = report_messages(server.sent())
    check_five_reports(reports)  # the uncertain one was not sent again
    assert [header_view(m["raw_data"])[0]["X-Execreport-Report"] for m in reports].count(
        in_flight
    ) == 1
    notices = [m for m in server.sent() if owner in m["destinations"]]
    assert len(notices) == 1  # the owner is told once, and what about
    notice, _ = header_view(notices[0]["raw_data"])
    assert "uncertain" in notice["Subject"]

    again = cd.run_cli(config, env_for(server.url))  # still never resent without --resend
    assert again.returncode == 1
    assert len(report_messages(server.sent())) == 5


def test_throttling_bursts_every_report_arrives_once(server: cd.MotoServer, tmp_path: Path) -> None:
    server.verify("example.com")
    settings = {
        **FAST,
        "botocore_max_attempts": 1,  # the sender's own retries take all four throttles
        "retry_base_seconds": 0.02,
        "max_retry_seconds": 20,
    }
    config = cd.write_config(tmp_path, sender="ses", sender_settings=settings)
    with cd.fault_proxy(server.url, cd.burst_rule(4)) as proxy:
        done = cd.run_cli(config, env_for(proxy.url))
        statuses = proxy.sends()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 sent" in done.stdout
    assert statuses.count(429) == 5 * 4 and statuses.count(200) == 5
    check_five_reports(server.sent())


def test_throttling_through_botocore_and_sender(server: cd.MotoServer, tmp_path: Path) -> None:
    """The default retry layering: botocore's attempts first, then the sender's."""
    server.verify("example.com")
    settings = {**FAST, "botocore_max_attempts": 3, "retry_base_seconds": 0.02}
    config = cd.write_config(
        tmp_path,
        sender="ses",
        sender_settings=settings,
        roles={r: ["ceo@example.com"] for r in cd.ROLES},
    )
    with cd.fault_proxy(server.url, cd.burst_rule(4)) as proxy:
        done = cd.run_cli(config, env_for(proxy.url), "run", "--role", "cfo")
        statuses = proxy.sends()
    assert done.returncode == 0, done.stdout + done.stderr
    assert statuses == [429, 429, 429, 429, 200]
    assert len(server.sent()) == 1
