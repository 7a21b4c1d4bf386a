"""The audit copy travels in the envelope only: in the messages as they leave through SES
and SMTP (not only in the outbox), the audit address is an envelope recipient and appears
in no header, and there is no Bcc header at all.

SES: the raw bytes moto's server received. SMTP: the DATA a real SMTP server (aiosmtpd on
loopback) received, with its RCPT TO list.
"""

from __future__ import annotations

import email
import sys
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402

pytest.importorskip("moto")
pytest.importorskip("aiosmtpd")

from execreport import Message  # noqa: E402
from execreport.config import Config  # noqa: E402

READER = "CFO <cfo@example.com>"


def message(to: list[str]) -> Message:
    return Message(
        sender=cd.FROM,
        to=to,
        bcc=[cd.AUDIT],
        subject="CFO Financial Review: Q1 2025",
        text="plain body",
        html="<p>html body</p>",
        role="cfo",
        version=1,
    )


def config() -> Config:
    return Config.model_validate({"delivery": {"from": cd.FROM}})


def assert_no_bcc_header(raw: bytes) -> None:
    """No Bcc header, and the audit address in no header of any part."""
    msg = email.message_from_bytes(raw)
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert msg["Bcc"] is None
    assert "\nbcc:" not in "\n" + head.lower()
    for part in msg.walk():
        for name, value in part.items():
            assert cd.AUDIT not in str(value), f"{name}: {value}"


# -- SES ---------------------------------------------------------------------------------------
@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch):
    cd.aws_env(monkeypatch)
    # moto counts the To header on top of the envelope; SES does not (tests/
    # test_recipient_limits.py enforces SES's own count)
    monkeypatch.setattr("moto.ses.models.RECIPIENT_LIMIT", 100_000)
    with cd.moto_server() as server:
        server.verify("example.com")
        yield server


@pytest.mark.parametrize(
    "to",
    [
        pytest.param([READER], id="one-call"),
        pytest.param([f"exec{i:03d}@example.com" for i in range(100)], id="split-into-three"),
    ],
)
def test_ses_messages_as_sent_carry_the_audit_address_in_the_envelope_only(
    moto: cd.MotoServer, to: list[str]
) -> None:
    from execreport.senders.ses import SESSender

    sender = SESSender(
        {"region": cd.REGION, "endpoint_url": moto.url, "max_send_rate": "off", "_config": config()}
    )
    sender.check()
    sender.send(message(to))
    sent = moto.sent()
    assert sent
    # moto's destinations: the envelope plus the To header's addresses; the audit address
    # can only have come from the envelope, once overall
    envelopes = [[a for _, a in getaddresses(item["destinations"])] for item in sent]
    assert sum(e.count(cd.AUDIT) for e in envelopes) == 1
    for item in sent:
        assert_no_bcc_header(item["raw_data"].encode())


# -- SMTP --------------------------------------------------------------------------------------
def test_smtp_message_as_received_carries_the_audit_address_in_rcpt_to_only() -> None:
    from execreport.senders.smtp import SMTPSender

    with cd.smtp_server() as server:
        sender = SMTPSender(
            {
                "host": server.host,
                "port": server.port,
                "starttls": False,
                "timeout": 10,
                "_config": config(),
            }
        )
        sender.check()
        sender.send(message([READER]))
        sender.close()
        (envelope,) = server.envelopes
    assert envelope.mail_from == cd.FROM
    assert sorted(envelope.rcpt_tos) == sorted(["cfo@example.com", cd.AUDIT])
    content: Any = envelope.content
    assert_no_bcc_header(content if isinstance(content, bytes) else content.encode())
