"""Two `execreport run`s started together on one archive, as subprocesses, into the outbox
and into SES (moto's server on loopback).

Every report goes out exactly once, neither run marks the other's delivery uncertain or
tells the owner of a failure, and both exit 0. The suite runs a few rounds of each;
`EXECREPORT_TEST_ROUNDS=10` runs more (`python -m pytest tests/test_concurrent_runs.py`).
"""

from __future__ import annotations

import email
import os
import sqlite3
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402

ROUNDS = int(os.environ.get("EXECREPORT_TEST_ROUNDS", "3"))
OWNER = "owner@example.com"


def config_for(root: Path, sender: str) -> Path:
    settings = (
        {"path": "outbox"} if sender == "outbox" else {"region": cd.REGION, "max_send_rate": 20}
    )
    path = cd.write_config(root, sender=sender, sender_settings=settings)
    text = path.read_text().replace("[delivery]\n", f'[delivery]\nnotify = ["{OWNER}"]\n', 1)
    path.write_text(text)
    return path


def two_runs(config: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(
            cd.cli_args(config),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(config.parent),
        )
        for _ in range(2)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def check_archive(root: Path) -> None:
    db = sqlite3.connect(root / "archive.sqlite3")
    versions = db.execute("SELECT role, count(*) FROM reports GROUP BY role").fetchall()
    assert sorted(versions) == sorted((r, 1) for r in cd.ROLES)  # one version each
    statuses = db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    assert statuses == [("sent", 5)]  # one row per report, sent
    db.close()


def check_runs(done: list[subprocess.CompletedProcess[str]]) -> dict[str, int]:
    """Both exit 0, neither reclaims the other's rows; returns what each outcome counted."""
    seen: dict[str, int] = {}
    for run in done:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "uncertain" not in run.stdout + run.stderr
        assert "notified" not in run.stderr
        assert "Traceback" not in run.stderr
        for line in run.stdout.splitlines():
            for status in ("sent", "skipped", "in-flight"):
                if f" {status} " in line:
                    seen[status] = seen.get(status, 0) + 1
    assert seen.get("sent") == 5  # between the two runs: each report once
    print("outcomes of both runs:", ", ".join(f"{n} {s}" for s, n in sorted(seen.items())))
    return seen


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_runs_into_the_outbox_deliver_each_report_once(tmp_path: Path, round_: int) -> None:
    config = config_for(tmp_path, "outbox")
    check_runs(two_runs(config, cd.clean_env()))
    check_archive(tmp_path)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    roles = []
    for eml in files:
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        assert OWNER not in str(msg["To"])  # no failure notice
        roles.append(str(msg["X-Execreport-Report"]).split(";")[0])
    assert sorted(roles) == sorted(cd.ROLES)


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("moto")
    with cd.moto_server() as moto_server:
        yield moto_server


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_runs_into_ses_deliver_each_report_once(
    server: cd.MotoServer, tmp_path: Path, round_: int
) -> None:
    server.reset()
    server.verify("example.com")
    config = config_for(tmp_path, "ses")
    env = cd.clean_env(AWS_ENDPOINT_URL=server.url)
    check_runs(two_runs(config, env))
    check_archive(tmp_path)
    sent = server.sent()
    roles = []
    for item in sent:
        assert OWNER not in item["destinations"]  # no failure notice
        msg = email.message_from_string(item["raw_data"])
        roles.append(msg["X-Execreport-Report"].split(";")[0])
    assert sorted(roles) == sorted(cd.ROLES)
