"""Who a message goes to: the envelope and the headers (core/models.py `Message`, the SES
sender's split by 50, the SMTP sender's RCPT TO), with a real SMTP server on loopback
(aiosmtpd) for SMTP and no network for SES (the calls are built, not sent).

DESIGN.md: every recipient is in the envelope, the audit BCC once and never in a header;
SES takes at most 50 envelope recipients a call. Expected lists are written out by hand.
Written to kill the mutants of `bench/mutation.sh models ses smtp` (docs/testing.md)."""

from __future__ import annotations

import email
import smtplib
import sys
from email import policy
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from execreport import DeliveryError, Message  # noqa: E402
from execreport.models import Attachment  # noqa: E402
from execreport.senders.ses import SESSender  # noqa: E402
from execreport.senders.smtp import SMTPSender  # noqa: E402


def message(to: list[str], bcc: list[str] | None = None, **more: Any) -> Message:
    fields: dict[str, Any] = {
        "sender": "Reports <reports@example.com>",
        "to": to,
        "bcc": bcc or [],
        "subject": "CFO report",
        "text": "cash 100",
        **more,
    }
    return Message(**fields)


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


# -- Message -------------------------------------------------------------------------------
def test_the_envelope_is_to_then_bcc_each_address_once():
    m = message(["a@x.com", "b@x.com", "a@x.com"], ["audit@x.com", "b@x.com"])
    assert m.recipients == ["a@x.com", "b@x.com", "audit@x.com"]


def test_the_mime_message_names_the_to_list_and_never_the_bcc():
    m = message(["a@x.com", "B <b@x.com>"], ["audit@x.com"], message_id="<id-1@example.com>")
    mime = m.as_mime()
    assert mime["From"] == "Reports <reports@example.com>"
    assert mime["To"] == "a@x.com, B <b@x.com>"
    assert mime["Subject"] == "CFO report"
    assert mime["Message-ID"] == "<id-1@example.com>"
    assert mime["Bcc"] is None
    assert b"audit@x.com" not in mime.as_bytes()
    assert mime["Date"].datetime.utcoffset().total_seconds() == 0  # dated in UTC


def test_a_message_id_is_made_in_the_senders_domain():
    mime = message(["a@x.com"]).as_mime()
    assert mime["Message-ID"].endswith("@example.com>")
    bare = message(["a@x.com"], sender="reports@mail.example.org").as_mime()
    assert bare["Message-ID"].endswith("@mail.example.org>")
    odd = message(["a@x.com"], sender="a@b@c.example").as_mime()  # the last @ counts
    assert odd["Message-ID"].endswith("@c.example>")


def test_a_sender_without_a_domain_gets_the_invalid_domain():
    mime = message(["a@x.com"], sender="Reports <reports@>").as_mime()
    assert mime["Message-ID"].endswith("@execreport.invalid>")


def test_the_report_header_names_role_version_and_the_first_16_hash_characters():
    m = message(["a@x.com"], role="cfo", version=3, content_hash="0123456789abcdefXYZ")
    assert m.as_mime()["X-Execreport-Report"] == "cfo; version=3; hash=0123456789abcdef"
    assert message(["a@x.com"]).as_mime()["X-Execreport-Report"] is None


def test_extra_headers_are_added():
    mime = message(["a@x.com"], headers={"List-Unsubscribe": "<mailto:u@x.com>"}).as_mime()
    assert mime["List-Unsubscribe"] == "<mailto:u@x.com>"


def test_a_text_only_message_is_one_plain_part():
    mime = message(["a@x.com"]).as_mime()
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content().strip() == "cash 100"


def test_html_inline_images_and_attachments_are_their_own_parts():
    png = Attachment(filename="chart.png", content=b"\x89PNG1", mime_type="image/png")
    logo = Attachment(
        filename="l.png", content=b"\x89PNG2", mime_type="image/png", content_id="logo"
    )
    pdf = Attachment(filename="r.pdf", content=b"%PDF-1", mime_type="application/pdf")
    mime = message(
        ["a@x.com"], html="<p>cash</p>", inline_images=[png, logo], attachments=[pdf]
    ).as_mime()
    assert mime.get_content_type() == "multipart/mixed"
    parts = {p.get_content_type(): p for p in mime.walk()}
    assert parts["text/html"].get_content().strip() == "<p>cash</p>"
    assert parts["text/plain"].get_content().strip() == "cash 100"
    images = [p for p in mime.walk() if p.get_content_type() == "image/png"]
    assert [(p["Content-ID"], p.get_filename(), p.get_content()) for p in images] == [
        ("<chart.png>", "chart.png", b"\x89PNG1"),
        ("<logo>", "l.png", b"\x89PNG2"),
    ]
    (att,) = [p for p in mime.walk() if p.get_content_type() == "application/pdf"]
    assert (att.get_filename(), att.get_content()) == ("r.pdf", b"%PDF-1")
    assert att.get_content_disposition() == "attachment"


def test_html_without_images_is_an_alternative_to_the_text():
    mime = message(["a@x.com"], html="<p>cash</p>").as_mime()
    assert mime.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mime.iter_parts()] == ["text/plain", "text/html"]


# -- SES: the SendEmail calls --------------------------------------------------------------
def addresses(n: int, prefix: str = "u") -> list[str]:
    return [f"{prefix}{i:03}@x.com" for i in range(n)]


def test_one_call_for_up_to_50_envelope_recipients():
    to = addresses(49)
    ((call_to, call_bcc, raw),) = SESSender({})._calls(message(to, ["audit@x.com"]))
    assert (call_to, call_bcc) == (to, ["audit@x.com"])
    head = parsed(raw)
    assert head["To"] == ", ".join(to)
    assert head["Bcc"] is None and b"audit@x.com" not in raw
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only


def test_120_to_and_a_bcc_are_three_calls_of_50_50_and_21_with_the_bcc_last():
    to = addresses(120)
    calls = SESSender({})._calls(message(to, ["audit@x.com"]))
    assert [(len(t), b) for t, b, _ in calls] == [(50, []), (50, []), (20, ["audit@x.com"])]
    assert [t for t, _, _ in calls] == [to[:50], to[50:100], to[100:]]
    for t, _, raw in calls:  # each call's To header names its own recipients only
        head = parsed(raw)
        assert head["To"] == ", ".join(t)
        assert head["Bcc"] is None and b"audit@x.com" not in raw


def test_exactly_50_recipients_is_one_call_and_51_is_two():
    assert len(SESSender({})._calls(message(addresses(50)))) == 1
    assert len(SESSender({})._calls(message(addresses(49), ["audit@x.com"]))) == 1
    calls = SESSender({})._calls(message(addresses(50), ["audit@x.com"]))
    assert [(len(t), b) for t, b, _ in calls] == [(50, []), (0, ["audit@x.com"])]


def test_a_bcc_only_call_carries_the_previous_calls_to_header():
    to = addresses(50)
    calls = SESSender({})._calls(message(to, ["audit1@x.com", "audit2@x.com"]))
    assert [(t, b) for t, b, _ in calls] == [(to, []), ([], ["audit1@x.com", "audit2@x.com"])]
    assert parsed(calls[1][2])["To"] == ", ".join(to)
    assert b"audit1@x.com" not in calls[1][2]


def test_named_addresses_go_bare_in_the_envelope_and_named_in_the_header():
    to = [f"User {i} <u{i:03}@x.com>" for i in range(60)]
    calls = SESSender({})._calls(message(to))
    assert [t for t, _, _ in calls] == [
        [f"u{i:03}@x.com" for i in range(50)],
        [f"u{i:03}@x.com" for i in range(50, 60)],
    ]
    assert parsed(calls[1][2])["To"] == ", ".join(to[50:])
    assert SESSender._header_to(message(to[:3]), ["u001@x.com", "u002@x.com"]) == to[1:3]


def test_an_address_in_both_lists_is_sent_once_as_to():
    calls = SESSender({})._calls(
        message(["a@x.com", "A <a@x.com>", "b@x.com"], ["b@x.com", "audit@x.com", "audit@x.com"])
    )
    assert [(t, b) for t, b, _ in calls] == [(["a@x.com", "b@x.com"], ["audit@x.com"])]


def test_a_bcc_header_given_as_an_extra_header_is_removed():
    for to in (addresses(3), addresses(70)):
        calls = SESSender({})._calls(message(to, headers={"Bcc": "spy@x.com"}))
        assert all(parsed(raw)["Bcc"] is None for _, _, raw in calls)
        assert all(b"spy@x.com" not in raw for _, _, raw in calls)


def test_a_message_without_recipients_is_refused():
    with pytest.raises(DeliveryError, match="no recipients"):
        SESSender({})._calls(message([]))


# -- SMTP: RCPT TO on a real server --------------------------------------------------------
class Handler:
    """Collects envelopes; refuses RCPT for addresses starting `refused` and DATA
    containing `REFUSE-DATA`."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if b"REFUSE-DATA" in envelope.content:
            return "554 5.6.0 content rejected"
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_server():
    pytest.importorskip("aiosmtpd")
    import conftest_delivery as cd
    from aiosmtpd.controller import Controller

    handler = Handler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=cd.free_port(), data_size_limit=5000
    )
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def smtp(server) -> SMTPSender:
    controller, _ = server
    return SMTPSender({"host": "127.0.0.1", "port": controller.port, "starttls": False})


def test_smtp_sends_to_every_recipient_once_with_the_bcc_in_the_envelope_only(smtp_server):
    _, handler = smtp_server
    handler.envelopes.clear()
    sender = smtp(smtp_server)
    m = message(
        ["A <a@x.com>", "b@x.com", "a@x.com"],
        ["audit@x.com", "b@x.com"],
        headers={"Bcc": "spy@x.com"},
        message_id="<m-1@example.com>",
    )
    receipt = sender.send(m)
    sender.close()
    (env,) = handler.envelopes
    assert env.mail_from == "reports@example.com"
    assert env.rcpt_tos == ["a@x.com", "b@x.com", "audit@x.com"]
    head = parsed(env.content)
    assert head["Bcc"] is None
    assert b"audit@x.com" not in env.content and b"spy@x.com" not in env.content
    assert b"\r\n" in env.content
    assert receipt.recipients == ["a@x.com", "b@x.com", "audit@x.com"]
    assert (receipt.sender, receipt.message_id) == ("smtp", "<m-1@example.com>")
    assert receipt.detail == f"127.0.0.1:{smtp_server[0].port}"


def test_smtp_refuses_a_message_over_the_servers_size_before_sending(smtp_server):
    _, handler = smtp_server
    handler.envelopes.clear()
    sender = smtp(smtp_server)
    with pytest.raises(DeliveryError, match=r"over the server's limit of 0\.0 MB; nothing sent"):
        sender.send(message(["a@x.com"], text="x" * 6000))
    sender.send(message(["a@x.com"], text="x" * 3000))  # under the limit: sent
    sender.close()
    assert len(handler.envelopes) == 1


def test_smtp_with_some_recipients_refused_is_uncertain_and_names_both(smtp_server):
    _, handler = smtp_server
    handler.envelopes.clear()
    sender = smtp(smtp_server)
    with pytest.raises(DeliveryError) as caught:
        sender.send(message(["a@x.com", "refused1@x.com"], ["audit@x.com"]))
    sender.close()
    text = str(caught.value)
    assert "sent to a@x.com, audit@x.com but refused refused1@x.com (550" in text
    assert getattr(caught.value, "uncertain", False) is True
    assert handler.envelopes[0].rcpt_tos == ["a@x.com", "audit@x.com"]


def test_smtp_with_every_recipient_refused_sent_nothing(smtp_server):
    sender = smtp(smtp_server)
    with pytest.raises(DeliveryError, match=r"recipients refused: refused2@x.com \(550 ") as c:
        sender.send(message(["refused2@x.com"]))
    sender.close()
    assert getattr(c.value, "uncertain", False) is False


def test_smtp_refused_data_is_a_plain_failure(smtp_server):
    sender = smtp(smtp_server)
    with pytest.raises(DeliveryError, match=r"message refused: 554 5\.6\.0 content rejected") as c:
        sender.send(message(["a@x.com"], text="REFUSE-DATA"))
    sender.close()
    assert getattr(c.value, "uncertain", False) is False


class Connection:
    """An open SMTP connection whose sendmail raises `error`."""

    does_esmtp = False
    esmtp_features: dict[str, str] = {}

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.closed = False

    def noop(self):
        return 250, b"ok"

    def sendmail(self, *args):
        raise self.error

    def quit(self):
        pass

    def close(self):
        self.closed = True


def send_failing(error: BaseException) -> tuple[DeliveryError, SMTPSender, Connection]:
    sender = SMTPSender({"host": "mail.invalid", "port": 2525, "starttls": False})
    conn = Connection(error)
    sender._conn = conn  # type: ignore[assignment]
    with pytest.raises(DeliveryError) as caught:
        sender.send(message(["a@x.com"]))
    return caught.value, sender, conn


def test_smtp_sender_refused_names_the_sender():
    err, _, _ = send_failing(smtplib.SMTPSenderRefused(553, b"not yours", "reports@example.com"))
    assert str(err) == "SMTP mail.invalid:2525: sender reports@example.com refused: 553 not yours"


@pytest.mark.parametrize(
    "error", [smtplib.SMTPServerDisconnected("gone"), ConnectionResetError("reset")]
)
def test_smtp_connection_lost_mid_send_is_uncertain_and_drops_the_connection(error):
    err, sender, conn = send_failing(error)
    assert "connection lost while sending" in str(err)
    assert "check before --resend" in str(err)
    assert getattr(err, "uncertain", False) is True
    assert conn.closed is True and sender._conn is None


def test_a_named_bcc_goes_bare_into_the_envelope():
    ((to, bcc, raw),) = SESSender({})._calls(message(["a@x.com"], ["Audit <audit@x.com>"]))
    assert (to, bcc) == (["a@x.com"], ["audit@x.com"])
    assert b"audit@x.com" not in raw


def test_the_date_header_is_in_utc_whatever_the_machines_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        date_header = message(["a@x.com"]).as_mime()["Date"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert date_header.datetime.utcoffset().total_seconds() == 0


def test_a_sender_without_an_at_sign_names_the_message_id_after_itself():
    assert message(["a@x.com"], sender="reports").as_mime()["Message-ID"].endswith("@reports>")


class Recording(Connection):
    """An ESMTP connection with a SIZE limit that records what it is given."""

    does_esmtp = True

    def __init__(self, size: int | None) -> None:
        super().__init__(RuntimeError("unused"))
        self.esmtp_features = {"size": str(size)} if size else {}
        self.data = b""

    def sendmail(self, sender, rcpt, data):
        self.data = data
        return {}


def sized(length: int, **more: Any) -> Message:
    """A message whose SMTP data is exactly `length` bytes: full lines of 60 characters (62
    bytes with CRLF) and a last line of 1 to 62 (7bit all through: no line over 78)."""
    sender = SMTPSender({"host": "mail.invalid", "port": 2525, "starttls": False})
    lines, extra = max(0, (length - 500) // 62), 1
    for _ in range(5):
        text = ("x" * 60 + "\n") * lines + "y" * extra
        m = message(["a@x.com"], text=text, message_id="<s@example.com>", **more)
        conn = Recording(None)
        sender._conn = conn  # type: ignore[assignment]
        sender.send(m)
        missing = length - len(conn.data)
        if missing == 0:
            return m
        extra += missing
        while extra > 62:
            lines, extra = lines + 1, extra - 62
        while extra < 1:
            lines, extra = lines - 1, extra + 62
    raise AssertionError(f"could not size a message to {length} bytes")


@pytest.mark.parametrize(
    "length,limit,shown",
    [
        (1_050_001, 1_050_000, "1.1 MB, over the server's limit of 1.1 MB"),
        (1_249_999, 1_000_000, "1.2 MB, over the server's limit of 1.0 MB"),
        (1_300_000, 1_250_000, "1.3 MB, over the server's limit of 1.2 MB"),  # 1.25: half even
    ],
)
def test_smtp_states_both_sizes_in_megabytes_of_a_million_bytes(length, limit, shown):
    m = sized(length, role="cfo")
    sender = SMTPSender({"host": "mail.invalid", "port": 2525, "starttls": False})
    conn = Recording(limit)
    sender._conn = conn  # type: ignore[assignment]
    with pytest.raises(DeliveryError) as caught:
        sender.send(m)
    assert str(caught.value) == f"SMTP mail.invalid:2525: message 'cfo' is {shown}; nothing sent"
    assert conn.data == b""


def test_smtp_sends_a_message_of_exactly_the_servers_size_and_names_the_subject_without_role():
    m = sized(2000)
    sender = SMTPSender({"host": "mail.invalid", "port": 2525, "starttls": False})
    exact = Recording(2000)
    sender._conn = exact  # type: ignore[assignment]
    sender.send(m)
    assert len(exact.data) == 2000
    sender._conn = Recording(1999)  # type: ignore[assignment]
    with pytest.raises(DeliveryError, match=r"message 'CFO report' is 0\.0 MB"):
        sender.send(m)
