"""Delivery events end to end: the CLI as a subprocess against moto's server on loopback
(SES, SQS, SNS), with SES-format events put on the queue through an SNS topic (the envelope
shape) or a raw-message-delivery subscription, as SES event publishing puts them there."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402

pytest.importorskip("moto")

FAST = {"region": cd.REGION, "max_send_rate": "off"}
CFO, CONTROLLER, OWNER = "cfo@example.com", "controller@example.com", "owner@example.com"
DIAGNOSTIC = "smtp; 550 5.1.1 <cfo@example.com>: Recipient address rejected: User unknown"


@pytest.fixture
def server():
    with cd.moto_server() as moto_server:
        moto_server.verify("example.com")
        yield moto_server


class Queue:
    """An SQS queue fed by an SNS topic, as SES event publishing is set up."""

    def __init__(self, server: cd.MotoServer, name: str = "ses-events", raw: bool = False):
        self.sqs = server.client("sqs")
        self.sns = server.client("sns")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.topic = self.sns.create_topic(Name=f"{name}-topic")["TopicArn"]
        attributes = {"RawMessageDelivery": "true"} if raw else {}
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)

    def publish(self, event: dict[str, Any]) -> None:
        self.sns.publish(TopicArn=self.topic, Message=json.dumps(event))

    def put_raw(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def left(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )


def mail(message_id: str, *to: str) -> dict[str, Any]:
    return {
        "timestamp": "2025-04-01T09:00:00.000Z",
        "source": cd.FROM,
        "messageId": message_id,
        "destination": list(to),
        "tags": {"role": ["cfo"]},
    }


def bounce_event(message_id: str, address: str, kind: str = "Permanent") -> dict[str, Any]:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": DIAGNOSTIC,
                }
            ],
            "timestamp": "2025-04-01T09:00:03.000Z",
            "feedbackId": "0100017e-bounce-feedback",
            "reportingMTA": "dsn; a27-30.smtp-out.us-west-2.amazonses.com",
        },
        "mail": mail(message_id, address),
    }


def delivery_event(
    message_id: str, *addresses: str, field: str = "eventType", at: str = "2025-04-01T09:00:02Z"
) -> dict[str, Any]:
    return {
        field: "Delivery",
        "delivery": {
            "timestamp": at,
            "processingTimeMillis": 1200,
            "recipients": list(addresses),
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a27-30.smtp-out.us-west-2.amazonses.com",
        },
        "mail": mail(message_id, *addresses),
    }


def config_for(tmp: Path, queue: str | None, cfo: list[str], **settings: Any) -> Path:
    extra = {**FAST, **({"events_queue": queue} if queue else {}), **settings}
    path = cd.write_config(tmp, sender="ses", sender_settings=extra, roles={"cfo": cfo})
    text = path.read_text().replace("[delivery]\n", f'[delivery]\nnotify = ["{OWNER}"]\n', 1)
    path.write_text(text)
    return path


def cli(config: Path, server: cd.MotoServer, *args: str, url: str | None = None):
    env = cd.clean_env(AWS_ENDPOINT_URL=url or server.url)
    # the tables fit COLUMNS; the asserts read whole details: run as from cron, not cut
    env.pop("COLUMNS", None)
    if args[0] == "suppression":  # a subcommand: --config goes after its name
        return subprocess.run(
            [sys.executable, "-m", "execreport", *args[:2], "--config", str(config), *args[2:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(config.parent),
        )
    return cd.run_cli(config, env, *args)


def history(config: Path, server: cd.MotoServer, role: str = "cfo") -> list[dict[str, Any]]:
    done = cli(config, server, "history", role, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def message_id(config: Path, server: cd.MotoServer, role: str = "cfo", version: int = 1) -> str:
    (row,) = [v for v in history(config, server, role) if v["version"] == version]
    (d,) = [d for d in row["deliveries"] if d["status"] == "sent"]
    return d["message_id"]


def state_of(rows: list[dict[str, Any]], version: int, address: str) -> dict[str, Any]:
    (row,) = [v for v in rows if v["version"] == version]
    return next(r for r in row["recipients"] if r["address"] == address)


def notices(server: cd.MotoServer) -> list[dict[str, Any]]:
    return [m for m in server.sent() if OWNER in m["destinations"]]


def sent_to(server: cd.MotoServer, subject_part: str) -> list[list[str]]:
    out = []
    for m in server.sent():
        if subject_part in m["raw_data"].split("\r\n\r\n", 1)[0]:
            out.append(sorted(set(m["destinations"])))
    return out


def new_cfo_version(tmp: Path) -> None:
    ledger = tmp / "data" / "acme" / "ledger.csv"
    ledger.write_text(
        ledger.read_text() + "2025-03-20,-150.00,6200,software,Amazon Web Services,,,\n"
    )


def test_a_permanent_bounce_is_recorded_told_once_and_suppresses_the_next_version(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    queue = Queue(server)
    config = config_for(tmp_path, queue.url, [CFO, CONTROLLER])
    first = cli(config, server, "run")
    assert first.returncode == 0, first.stderr
    assert "events: 0 messages read" in first.stderr  # drained first: an empty queue
    cfo_id = message_id(config, server)

    queue.publish(bounce_event(cfo_id, CFO))  # the SNS envelope shape
    queue.publish(delivery_event(cfo_id, CONTROLLER))
    read = cli(config, server, "events")
    assert read.returncode == 0, read.stderr
    assert "2 events recorded" in read.stdout
    rows = history(config, server)
    bounced = state_of(rows, 1, CFO)
    assert (bounced["state"], bounced["bounce_type"], bounced["diagnostic"]) == (
        "bounced",
        "Permanent",
        DIAGNOSTIC,
    )
    assert state_of(rows, 1, CONTROLLER)["state"] == "delivered"
    assert queue.left() == 0  # committed, then deleted
    (notice,) = notices(server)
    text = notice["raw_data"]
    for part in ("cfo v1", CFO, "User unknown"):
        assert part in text
    # the CEO report says how the last reports reached their readers: 6 recipients (cfo's
    # two, exec@ for each of the other four roles), 1 delivered, 1 bounced, 4 without event
    ceo = cli(config, server, "build", "-r", "ceo")
    assert ceo.returncode == 0, ceo.stderr
    assert "## Delivery health" in ceo.stdout
    assert (
        "Of 6 recipients of the last delivered versions, 1 confirmed delivery, 1 bounced and "
        "0 complained; 4 have no event yet. 1 address is suppressed and skipped by later runs."
    ) in ceo.stdout
    assert "| cfo | v1 | 2 | 1 | 1 | 0 | 0 | 0 |" in ceo.stdout

    # the same bounce again, a Delivery for the bounced address after the bounce, and a
    # message that is not JSON at all
    queue.publish(bounce_event(cfo_id, CFO))
    queue.publish(delivery_event(cfo_id, CFO, at="2025-04-01T09:00:09Z"))
    queue.put_raw("this is not { json")
    before = history(config, server)
    new_cfo_version(tmp_path)
    second = cli(config, server, "run")
    assert second.returncode == 0, second.stdout + second.stderr
    unreadable = [ln for ln in second.stderr.splitlines() if "is not an SES event" in ln]
    assert len(unreadable) == 1 and "not JSON" in unreadable[0]
    assert "left on the queue" in unreadable[0]
    assert queue.left() == 1  # the unreadable message is kept, the others deleted
    after = history(config, server)
    assert [r["recipients"] for r in after if r["version"] == 1] == [
        r["recipients"] for r in before if r["version"] == 1
    ]  # nothing changed for v1: the duplicate and the late Delivery
    assert len(notices(server)) == 1  # still one notice
    # the next CFO version goes to the controller, not to the bounced address, and says why
    assert [v["version"] for v in after] == [1, 2]
    assert sent_to(server, "CFO") == [
        sorted([CFO, CONTROLLER, cd.AUDIT]),
        sorted([CONTROLLER, cd.AUDIT]),
    ]
    line = next(ln for ln in second.stdout.splitlines() if " suppressed " in ln)
    assert "cfo" in line and CFO in line and "permanent bounce on cfo v1" in line
    assert "User unknown" in line

    # the plan says so too, and plans nothing again for the controller
    plan = cli(config, server, "run", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    cfo_rows = [ln for ln in plan.stdout.splitlines() if " cfo " in f" {ln} "]
    assert any(" suppressed " in ln and CFO in ln for ln in cfo_rows)
    assert any(" skipped " in ln and CONTROLLER in ln for ln in cfo_rows)

    listed = cli(config, server, "suppression", "list", "--json")
    assert [s["address"] for s in json.loads(listed.stdout)] == [CFO]
    shown = cli(config, server, "show", "cfo", "1", "--recipients")
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.splitlines()
    assert any(CFO in ln and "bounced (permanent)" in ln for ln in table)
    assert any(CONTROLLER in ln and "delivered" in ln for ln in table)

    removed = cli(config, server, "suppression", "remove", CFO)
    assert removed.returncode == 0, removed.stderr
    again = cli(config, server, "suppression", "remove", CFO)
    assert again.returncode == 2 and "not on the suppression list" in again.stderr


def test_raw_message_delivery_and_the_older_notification_type(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    queue = Queue(server, name="raw-events", raw=True)
    config = config_for(tmp_path, "raw-events", [CFO, CONTROLLER])  # by name, not URL
    assert cli(config, server, "run").returncode == 0
    cfo_id = message_id(config, server)
    # one notification for both recipients, in the older notificationType form
    queue.publish(delivery_event(cfo_id, CFO, CONTROLLER, field="notificationType"))
    body = queue.sqs.receive_message(QueueUrl=queue.url, VisibilityTimeout=0)["Messages"][0]
    assert json.loads(body["Body"])["notificationType"] == "Delivery"  # raw: no envelope
    skipped = cli(config, server, "send", "--no-events")
    assert skipped.returncode == 0, skipped.stderr
    assert queue.left() == 1 and state_of(history(config, server), 1, CFO)["state"] == "sent"
    # the message is deleted only once its events are committed: at the delete request,
    # the archive already holds them
    at_delete: list[int] = []

    def look(method: str, path: str, body: bytes):
        if b"ReceiptHandle" in body and b"Entries" in body:
            db = sqlite3.connect(tmp_path / "archive.sqlite3")
            at_delete.append(db.execute("SELECT count(*) FROM recipient_states").fetchone()[0])
            db.close()
        return None

    with cd.fault_proxy(server.url, look) as proxy:
        read = cli(config, server, "events", url=proxy.url)
    assert read.returncode == 0, read.stderr
    assert at_delete == [2]
    rows = history(config, server)
    assert state_of(rows, 1, CFO)["state"] == "delivered"
    assert state_of(rows, 1, CONTROLLER)["state"] == "delivered"
    assert queue.left() == 0


def test_a_role_with_no_deliverable_recipient_left_exits_1_and_the_others_go(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    queue = Queue(server)
    config = config_for(tmp_path, queue.url, [CFO])
    assert cli(config, server, "run").returncode == 0
    queue.publish(bounce_event(message_id(config, server), CFO))
    new_cfo_version(tmp_path)
    done = cli(config, server, "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no deliverable recipient left" in done.stdout
    assert sent_to(server, "CFO") == [sorted([CFO, cd.AUDIT])]  # v1 only
    ceo = [v for v in history(config, server, "ceo") if v["version"] == 2]
    assert ceo and ceo[0]["deliveries"][0]["status"] == "sent"  # the others went


def test_a_transient_bounce_goes_again_up_to_max_transient_retries(
    server: cd.MotoServer, tmp_path: Path
) -> None:
    queue = Queue(server)
    config = config_for(tmp_path, queue.url, [CFO, CONTROLLER], max_transient_retries=1)
    assert cli(config, server, "run").returncode == 0
    queue.publish(bounce_event(message_id(config, server), CFO, kind="Transient"))
    retry = cli(config, server, "run")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "again after a transient bounce" in retry.stdout
    assert sent_to(server, "CFO") == [sorted([CFO, CONTROLLER, cd.AUDIT]), sorted([CFO, cd.AUDIT])]
    assert len(notices(server)) == 0  # a transient bounce is no notice, and no suppression
    # the retry bounced too: with max_transient_retries = 1 it is not sent a third time
    retry_id = next(
        d["message_id"]
        for d in history(config, server)[0]["deliveries"]
        if d["to"] == [CFO] and d["status"] == "sent"
    )
    queue.publish(bounce_event(retry_id, CFO, kind="Transient"))
    third = cli(config, server, "run")
    assert third.returncode == 0, third.stdout + third.stderr
    assert len(sent_to(server, "CFO")) == 2


def test_no_events_queue_makes_no_call_for_events(server: cd.MotoServer, tmp_path: Path) -> None:
    bodies: list[str] = []

    def record(method: str, path: str, body: bytes):
        bodies.append(f"{method} {path} {body.decode('utf-8', 'replace')}")
        return None

    config = config_for(tmp_path, None, [CFO, CONTROLLER])
    with cd.fault_proxy(server.url, record) as proxy:
        first = cli(config, server, "run", url=proxy.url)
        second = cli(config, server, "send", url=proxy.url)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert bodies  # the proxy saw the SES calls ...
    assert not [b for b in bodies if "Queue" in b or "ReceiveMessage" in b]  # ... and no SQS
    assert "events:" not in first.stderr + second.stderr
    state = state_of(history(config, server), 1, CFO)
    assert state["state"] == "sent"  # no event: the state is what the sender said
    unset = cli(config, server, "events")
    assert unset.returncode == 2 and "events_queue: not set" in unset.stderr


def test_check_consults_the_account_suppression_list(server: cd.MotoServer, tmp_path: Path):
    quoted = urllib.parse.quote(CFO)

    def suppressed(method: str, path: str, body: bytes):
        if not path.startswith("/v2/email/suppression/addresses/"):
            return None
        if path.endswith((quoted, CFO)):
            answer = {
                "SuppressedDestination": {
                    "EmailAddress": CFO,
                    "Reason": "BOUNCE",
                    "LastUpdateTime": 1743500000,
                }
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        return cd.error_body(404, "NotFoundException", "not on the suppression list")

    config = config_for(tmp_path, None, [CFO, CONTROLLER])
    with cd.fault_proxy(server.url, suppressed) as proxy:
        done = cli(config, server, "check", url=proxy.url)
    assert done.returncode == 1, done.stdout + done.stderr
    # check lists every problem on stderr, one line each: the suppressed CFO is the only one
    errors = cd.error_lines(done.stderr)
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(
        f"execreport: error: {CFO}: on the SES account suppression list (BOUNCE since 2025-04-01)"
    )
    told = (done.stdout + done.stderr).splitlines()
    assert not [ln for ln in told if "suppression" in ln and CONTROLLER in ln]
    # moto itself has no such call: check says it skipped it, and passes
    plain = cli(config, server, "check")
    assert plain.returncode == 0, plain.stderr
    assert "account suppression list cannot be read" in plain.stdout
