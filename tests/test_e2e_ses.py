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


def test_sigkill_mid_send_then_rerun_loses_nothing_and_repeats_nothing(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    server.verify("example.com")
    paced = cd.write_config(
        tmp_path, sender="ses", sender_settings={"region": cd.REGION, "max_send_rate": 1}
    )
    env = env_for(server.url)
    proc = subprocess.Popen(
        cd.cli_args(paced),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(tmp_path),
    )
    try:
        deadline = time.monotonic() + 30
        while not server.sent():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no message reached moto in 30 s"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = len(server.sent())
    assert 1 <= killed_at < 5  # at 1 email/s (2 recipients each) the run was mid-way

    # the rerun resumes; pacing is switched off only to keep the test short
    rerun = cd.run_cli(paced, env | {"EXECREPORT_DELIVERY__SES__MAX_SEND_RATE": "off"})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{killed_at} skipped" in rerun.stdout
    assert f"{5 - killed_at} sent" in rerun.stdout
    resumed = server.sent()
    check_five_reports(resumed)

    # an uninterrupted run into a fresh SES and a fresh archive
    server.reset()
    server.verify("example.com")
    fresh = cd.write_config(
        tmp_path, sender="ses", sender_settings=FAST, name="fresh.toml", archive="fresh.sqlite3"
    )
    whole = cd.run_cli(fresh, env)
    assert whole.returncode == 0, whole.stderr
    assert summary(resumed) == summary(server.sent())


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
