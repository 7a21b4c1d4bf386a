"""The `smtp` sender against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402
from ci_tools import require_module  # noqa: E402

require_module("aiosmtpd")
# each test starts an aiosmtpd server and a CLI run or two: a hang fails within a minute
pytestmark = pytest.mark.timeout(60)

from execreport import DeliveryError, Message  # noqa: E402
from execreport.config import Config  # noqa: E402
from execreport.senders.smtp import SMTPSender  # noqa: E402

PASSWORD = "s3cret-smtp-pass"


def smtp_settings(server: cd.SMTPServer, **more: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "starttls": False, "timeout": 10, **more}


def check_reports(envelopes: list[Any]) -> None:
    assert len(envelopes) == 5
    roles = []
    for env in envelopes:
        msg = email.message_from_bytes(env.content)
        head = env.content.split(b"\r\n\r\n", 1)[0].decode()
        roles.append(msg["X-Execreport-Report"].split(";")[0])
        assert env.mail_from == cd.FROM
        assert sorted(env.rcpt_tos) == sorted(["exec@example.com", cd.AUDIT])  # in the envelope
        assert msg["Bcc"] is None and cd.AUDIT not in head  # not in the headers
    assert sorted(roles) == sorted(cd.ROLES)


def test_delivers_all_reports_bcc_in_envelope_only(tmp_path: Path) -> None:
    with cd.smtp_server() as server:
        config = cd.write_config(tmp_path, sender="smtp", sender_settings=smtp_settings(server))
        done = cd.run_cli(config, cd.clean_env())
        assert done.returncode == 0, done.stdout + done.stderr
        assert "5 sent" in done.stdout
        check_reports(server.envelopes)
        again = cd.run_cli(config, cd.clean_env())
        assert again.returncode == 0 and "5 skipped" in again.stdout
        assert len(server.envelopes) == 5


def test_starttls_with_self_signed_cert_and_auth(tmp_path: Path) -> None:
    cert = cd.self_signed_cert(tmp_path / "tls")
    with cd.smtp_server(cert=cert, users={"reports": PASSWORD}) as server:
        settings = smtp_settings(server, starttls=True, ca_file=str(cert[0]), username="reports")
        config = cd.write_config(tmp_path, sender="smtp", sender_settings=settings)
        done = cd.run_cli(config, cd.clean_env(EXECREPORT_SMTP_PASSWORD=PASSWORD))
        assert done.returncode == 0, done.stdout + done.stderr
        check_reports(server.envelopes)
        assert PASSWORD not in done.stdout + done.stderr


def test_implicit_tls(tmp_path: Path) -> None:
    import ssl

    from aiosmtpd.controller import Controller

    cert = cd.self_signed_cert(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    handler = cd.Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=cd.free_port(), ssl_context=context)
    controller.start()
    try:
        cfg = Config.model_validate({"delivery": {"from": cd.FROM}})
        sender = SMTPSender(
            {
                "host": "127.0.0.1",
                "port": controller.port,
                "ssl": True,
                "ca_file": str(cert[0]),
                "_config": cfg,
            }
        )
        sender.check()
        sender.send(message())
        sender.close()
    finally:
        controller.stop()
    assert len(handler.envelopes) == 1


def test_wrong_password_one_line(tmp_path: Path) -> None:
    cert = cd.self_signed_cert(tmp_path / "tls")
    with cd.smtp_server(cert=cert, users={"reports": PASSWORD}) as server:
        settings = smtp_settings(server, starttls=True, ca_file=str(cert[0]), username="reports")
        config = cd.write_config(tmp_path, sender="smtp", sender_settings=settings)
        done = cd.run_cli(config, cd.clean_env(EXECREPORT_SMTP_PASSWORD="wrong-password-xyz"))
        assert done.returncode == 1
        [line] = cd.error_lines(done.stderr)
        assert line.startswith(
            f"execreport: error: SMTP 127.0.0.1:{server.port}: authentication failed for user "
            "'reports' (535"
        ), line
        assert "wrong-password-xyz" not in done.stdout + done.stderr
        assert server.envelopes == []


def test_missing_password_env(tmp_path: Path) -> None:
    with cd.smtp_server() as server:
        settings = smtp_settings(server, username="reports")
        config = cd.write_config(tmp_path, sender="smtp", sender_settings=settings)
        done = cd.run_cli(config, cd.clean_env())
        assert done.returncode == 1
        assert cd.error_lines(done.stderr) == [
            f"execreport: error: SMTP 127.0.0.1:{server.port}: delivery.smtp.username is set "
            "but EXECREPORT_SMTP_PASSWORD is not"
        ]


def test_untrusted_certificate_fails_tls(tmp_path: Path) -> None:
    cert = cd.self_signed_cert(tmp_path / "tls")
    with cd.smtp_server(cert=cert) as server:
        config = cd.write_config(
            tmp_path, sender="smtp", sender_settings=smtp_settings(server, starttls=True)
        )
        done = cd.run_cli(config, cd.clean_env())
        assert done.returncode == 1
        [line] = cd.error_lines(done.stderr)
        assert line.startswith(f"execreport: error: SMTP 127.0.0.1:{server.port}: TLS failed:")
        assert "certificate" in line
        assert server.envelopes == []


def test_connection_refused_one_line(tmp_path: Path) -> None:
    port = cd.free_port()  # nothing listens there
    settings = {"host": "127.0.0.1", "port": port, "starttls": False, "timeout": 5}
    config = cd.write_config(tmp_path, sender="smtp", sender_settings=settings)
    done = cd.run_cli(config, cd.clean_env())
    assert done.returncode == 1
    assert cd.error_lines(done.stderr) == [
        f"execreport: error: SMTP 127.0.0.1:{port}: connection refused"
    ]
    assert "Traceback" not in done.stderr


def test_password_in_config_is_refused(tmp_path: Path) -> None:
    settings = {"host": "127.0.0.1", "port": 2525, "password": "in-the-file"}
    config = cd.write_config(tmp_path, sender="smtp", sender_settings=settings)
    done = cd.run_cli(config, cd.clean_env())
    assert done.returncode == 1
    assert cd.error_lines(done.stderr) == [
        "execreport: error: delivery.smtp.password: the SMTP password is not read from the "
        "config; set EXECREPORT_SMTP_PASSWORD instead"
    ]
    assert "in-the-file" not in done.stdout + done.stderr


# -- refused recipients (in process) ---------------------------------------------------------
class Refusing(cd.Collector):
    def __init__(self, refuse: set[str]) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def message(**kw: Any) -> Message:
    data: dict[str, Any] = dict(
        sender=cd.FROM,
        to=["cfo@example.com"],
        bcc=[cd.AUDIT],
        subject="CFO review",
        text="body",
        html="<p>body</p>",
        role="cfo",
        version=1,
    )
    data.update(kw)
    return Message(**data)


def refusing_sender(refuse: set[str]):
    from aiosmtpd.controller import Controller

    handler = Refusing(refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=cd.free_port())
    controller.start()
    cfg = Config.model_validate({"delivery": {"from": cd.FROM}})
    sender = SMTPSender(
        {"host": "127.0.0.1", "port": controller.port, "starttls": False, "_config": cfg}
    )
    return controller, handler, sender


def test_all_recipients_refused_names_them() -> None:
    controller, handler, sender = refusing_sender({"cfo@example.com", cd.AUDIT})
    try:
        sender.check()
        with pytest.raises(DeliveryError) as info:
            sender.send(message())
        sender.close()
    finally:
        controller.stop()
    text = str(info.value)
    assert "recipients refused" in text and "cfo@example.com (550" in text and cd.AUDIT in text
    assert not getattr(info.value, "uncertain", False)
    assert handler.envelopes == []


def test_some_recipients_refused_is_uncertain() -> None:
    controller, handler, sender = refusing_sender({"cfo@example.com"})
    try:
        sender.check()
        with pytest.raises(DeliveryError) as info:
            sender.send(message())
        sender.close()
    finally:
        controller.stop()
    assert getattr(info.value, "uncertain", False)  # the audit copy went: not sent again blindly
    assert "refused cfo@example.com (550" in str(info.value)
    assert [e.rcpt_tos for e in handler.envelopes] == [[cd.AUDIT]]


def test_reconnects_when_the_server_dropped_the_connection() -> None:
    with cd.smtp_server() as server:
        cfg = Config.model_validate({"delivery": {"from": cd.FROM}})
        sender = SMTPSender({**smtp_settings(server), "_config": cfg})
        sender.check()
        assert sender._conn is not None
        sender._conn.sock.close()  # the server side timed out an idle connection, say
        sender.send(message())
        sender.close()
        assert len(server.envelopes) == 1
