"""SES takes at most 50 recipients per SendEmail call, To, CC and BCC counted together.

An SES double that enforces the limit as SES does: moto's server behind a loopback proxy
that rejects any SendEmail whose destinations exceed 50 (400, "Recipient count exceeds
50."). moto's own check is lifted, because moto counts the To header's addresses on top of
the envelope; the proxy counts what SES counts. (Message has no CC: To and the audit BCC.)
"""

from __future__ import annotations

import base64
import email
import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402

pytest.importorskip("moto")

from execreport import Message  # noqa: E402
from execreport.config import Config  # noqa: E402
from execreport.senders.ses import SESSender  # noqa: E402

SES_LIMIT = 50
DESTINATIONS = ("ToAddresses", "CcAddresses", "BccAddresses")


class SESRecipientLimit:
    """A FaultProxy rule: SendEmail with more than 50 destinations is rejected as SES
    rejects it; every call is kept as (destination count, accepted, params)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, method: str, path: str, body: bytes) -> Any:
        if method != "POST" or not path.startswith(cd.SEND_PATH):
            return None
        params = json.loads(body)
        destination = params.get("Destination") or {}
        n = sum(len(destination.get(k) or []) for k in DESTINATIONS)
        with self.lock:
            self.calls.append((n, n <= SES_LIMIT, params))
        if n > SES_LIMIT:
            return cd.error_body(400, "BadRequestException", "Recipient count exceeds 50.")
        return None

    def accepted(self) -> list[dict[str, Any]]:
        return [params for _, ok, params in self.calls if ok]

    @staticmethod
    def envelope(params: dict[str, Any]) -> list[str]:
        destination = params["Destination"]
        return [a for k in DESTINATIONS for a in destination.get(k) or []]

    @staticmethod
    def mime(params: dict[str, Any]) -> tuple[email.message.Message, str]:
        raw = base64.b64decode(params["Content"]["Raw"]["Data"]).decode()
        return email.message_from_string(raw), raw.split("\r\n\r\n", 1)[0]


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch):
    """(moto's server, the limit rule, the proxy in front of moto enforcing it)."""
    cd.aws_env(monkeypatch)
    # moto's server runs in this process: its own (header-counting) limit is lifted
    monkeypatch.setattr("moto.ses.models.RECIPIENT_LIMIT", 100_000)
    rule = SESRecipientLimit()
    with cd.moto_server() as server:
        server.verify("example.com")
        with cd.fault_proxy(server.url, rule) as proxy:
            yield server, rule, proxy


def send(proxy: cd.FaultProxy, to: list[str]) -> Any:
    config = Config.model_validate({"delivery": {"from": cd.FROM, "sender": "ses"}})
    sender = SESSender(
        {
            "region": cd.REGION,
            "endpoint_url": proxy.url,
            "max_send_rate": "off",
            "botocore_max_attempts": 1,
            "_config": config,
        }
    )
    sender.check()
    message = Message(
        sender=cd.FROM,
        to=to,
        bcc=[cd.AUDIT],
        subject="CFO Financial Review: Q1 2025",
        text="plain body",
        html="<p>html body</p>",
        role="cfo",
        version=1,
    )
    return sender.send(message)


def addresses(n: int) -> list[str]:
    return [f"exec{i:03d}@example.com" for i in range(n)]


def test_audit_bcc_on_a_full_batch_of_50_never_makes_a_51_recipient_call(ses) -> None:
    server, rule, proxy = ses
    to = addresses(50)
    send(proxy, to)
    assert [n for n, _, _ in rule.calls] == [50, 1]  # 50 To, then the audit copy alone
    assert proxy.sends() == [200, 200]
    received = Counter(a for params in rule.accepted() for a in rule.envelope(params))
    assert received == Counter([*to, cd.AUDIT])


@pytest.mark.parametrize("n_to", [1, 49, 50, 51, 99, 100, 120])
def test_every_recipient_gets_one_copy_in_calls_of_at_most_50_with_the_audit_bcc(
    ses, n_to: int
) -> None:
    server, rule, proxy = ses
    to = addresses(n_to)
    receipt = send(proxy, to)
    # To + BCC: 50 per call, as few calls as that allows
    expected_calls = -(-(n_to + 1) // SES_LIMIT)
    assert [ok for _, ok, _ in rule.calls] == [True] * expected_calls, rule.calls
    assert all(n <= SES_LIMIT for n, _, _ in rule.calls)
    assert proxy.sends() == [200] * expected_calls
    # each recipient exactly once, the audit address too
    received = Counter(a for params in rule.accepted() for a in rule.envelope(params))
    assert received == Counter([*to, cd.AUDIT])
    bcc = [a for params in rule.accepted() for a in params["Destination"].get("BccAddresses", [])]
    assert bcc == [cd.AUDIT]
    # what left: no Bcc header, the audit address in no header
    stored = server.sent()
    assert len(stored) == expected_calls
    assert receipt.message_id == ",".join(m["id"] for m in stored)
    for params in rule.accepted():
        msg, head = rule.mime(params)
        assert msg["Bcc"] is None and "bcc:" not in head.lower()
        assert cd.AUDIT not in head
    for item in stored:
        head = item["raw_data"].split("\r\n\r\n", 1)[0]
        assert "bcc:" not in head.lower() and cd.AUDIT not in head


def test_a_run_to_100_readers_gives_each_reader_and_the_audit_address_each_report_once(
    ses, tmp_path: Path
) -> None:
    server, rule, proxy = ses
    to = addresses(100)
    config = cd.write_config(
        tmp_path,
        sender="ses",
        sender_settings={"region": cd.REGION, "max_send_rate": "off"},
        to=to,
    )
    env = cd.clean_env(AWS_ENDPOINT_URL=proxy.url)
    done = cd.run_cli(config, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 sent" in done.stdout
    assert all(ok and n <= SES_LIMIT for n, ok, _ in rule.calls), [n for n, _, _ in rule.calls]
    per_report: dict[str, Counter[str]] = {}
    for params in rule.accepted():
        msg, head = rule.mime(params)
        role = msg["X-Execreport-Report"].split(";")[0]
        per_report.setdefault(role, Counter()).update(rule.envelope(params))
        assert msg["Bcc"] is None and cd.AUDIT not in head
    assert sorted(per_report) == sorted(cd.ROLES)
    for role, received in per_report.items():
        assert received == Counter([*to, cd.AUDIT]), role
