"""The `smtp` sender: the standard library's smtplib, STARTTLS or implicit TLS.

Settings (`[delivery.smtp]`): `host`, `port` (587; 465 with `ssl`), `starttls` (true),
`ssl` (implicit TLS, false), `username`, `timeout` (30 s), `ca_file` (a CA bundle, e.g. for a
self-signed test server), `verify` (true). The password is read only from the environment
variable `EXECREPORT_SMTP_PASSWORD`, never from the config, and never printed.

The audit BCC travels in the SMTP envelope (RCPT TO) only: the message has no Bcc header.
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from execreport import DeliveryError, hookimpl

PASSWORD_ENV = "EXECREPORT_SMTP_PASSWORD"

if TYPE_CHECKING:  # smtplib and ssl load only when mail is sent, not at CLI start
    import smtplib
    import ssl


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _reply(code: Any, text: Any) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    line = " ".join(str(text).split())
    return f"{code} {line}".strip()


class SMTPSender:
    """One connection per run, opened by `check()` and reused; `close()` ends it."""

    name = "smtp"
    # every key of [delivery.smtp], with its default (checked when the config is loaded)
    settings_defaults: dict[str, Any] = {
        "host": "",
        "port": 587,
        "ssl": None,
        "starttls": None,
        "timeout": 30,
        "username": "",
        "verify": None,
        "ca_file": "",
        "password": None,  # refused with its own message: the password comes from the env
    }

    def __init__(self, settings: dict[str, Any]) -> None:
        where = "delivery.smtp"
        if "password" in settings:
            raise DeliveryError(
                f"{where}.password: the SMTP password is not read from the config; "
                f"set {PASSWORD_ENV} instead"
            )
        self.host = str(settings.get("host") or "").strip()
        if not self.host:
            raise DeliveryError(f"{where}.host: no SMTP host; set [delivery.smtp] host")
        self.ssl = _truthy(settings.get("ssl"), False)
        self.starttls = _truthy(settings.get("starttls"), True) and not self.ssl
        try:
            self.port = int(settings.get("port") or (465 if self.ssl else 587))
            self.timeout = float(settings.get("timeout") or 30)
        except (TypeError, ValueError):
            raise DeliveryError(f"{where}: port and timeout must be numbers") from None
        self.username = str(settings.get("username") or "").strip() or None
        self.verify = _truthy(settings.get("verify"), True)
        config = settings.get("_config")
        ca = settings.get("ca_file")
        self.ca_file = (config.resolve(ca) if config is not None else ca) if ca else None
        self.where = f"SMTP {self.host}:{self.port}"
        self._conn: smtplib.SMTP | None = None

    # -- connection ----------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        import ssl

        try:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"delivery.smtp.ca_file: cannot read {self.ca_file}: {exc}"
            ) from None
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        import smtplib
        import socket
        import ssl

        password = None
        if self.username:
            password = os.environ.get(PASSWORD_ENV)
            if not password:
                raise DeliveryError(
                    f"{self.where}: delivery.smtp.username is set but {PASSWORD_ENV} is not"
                )
        context = self._context() if (self.ssl or self.starttls) else None
        conn: smtplib.SMTP | None = None
        try:
            if self.ssl:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                if not conn.has_extn("starttls"):
                    raise DeliveryError(
                        f"{self.where}: the server does not offer STARTTLS; set "
                        "[delivery.smtp] starttls = false only on a trusted network"
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, password or "")
        except DeliveryError:
            _close(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            raise DeliveryError(
                f"{self.where}: authentication failed for user {self.username!r} "
                f"({_reply(exc.smtp_code, exc.smtp_error)})"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            _close(conn)
            raise DeliveryError(f"{self.where}: {exc}") from None
        except ssl.SSLError as exc:
            _close(conn)
            reason = getattr(exc, "verify_message", None) or exc.reason or exc
            raise DeliveryError(f"{self.where}: TLS failed: {reason}") from None
        except ConnectionRefusedError:
            _close(conn)
            raise DeliveryError(f"{self.where}: connection refused") from None
        except socket.gaierror as exc:
            _close(conn)
            raise DeliveryError(f"{self.where}: cannot resolve the host: {exc}") from None
        except TimeoutError:
            _close(conn)
            raise DeliveryError(f"{self.where}: timed out after {self.timeout:g}s") from None
        except smtplib.SMTPResponseException as exc:
            _close(conn)
            raise DeliveryError(
                f"{self.where}: refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _close(conn)
            raise DeliveryError(f"{self.where}: {type(exc).__name__}: {exc}") from None
        return conn

    def _connection(self) -> smtplib.SMTP:
        """The open connection, or a new one when the server dropped the idle one."""
        import smtplib

        if self._conn is not None:
            try:
                code, _ = self._conn.noop()
                if code == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            _close(self._conn)
            self._conn = None
        self._conn = self._connect()
        return self._conn

    def check(self) -> None:
        """Connect, EHLO, STARTTLS and log in: any failure is one line naming host:port."""
        self._connection()

    def close(self) -> None:
        import smtplib

        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            _close(self._conn)
            self._conn = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass

    # -- sending -------------------------------------------------------------------------
    def send(self, message: Any) -> Any:
        import smtplib

        from execreport import Receipt

        mime = message.as_mime()
        if "Bcc" in mime:
            del mime["Bcc"]
        data = mime.as_bytes(policy=mime.policy.clone(linesep="\r\n"))
        sender = parseaddr(message.sender)[1] or message.sender
        rcpt = list(dict.fromkeys(parseaddr(a)[1] or a for a in message.recipients))
        conn = self._connection()
        limit = conn.esmtp_features.get("size", "") if conn.does_esmtp else ""
        if limit.isdigit() and int(limit) and len(data) > int(limit):
            raise DeliveryError(
                f"{self.where}: message {message.role or message.subject!r} is "
                f"{len(data) / 1_000_000:.1f} MB, over the server's limit of "
                f"{int(limit) / 1_000_000:.1f} MB; nothing sent"
            )
        try:
            refused = conn.sendmail(sender, rcpt, data)
        except smtplib.SMTPRecipientsRefused as exc:
            # every recipient refused: nothing was sent
            raise DeliveryError(
                f"{self.where}: recipients refused: {_refused(exc.recipients)}"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise DeliveryError(
                f"{self.where}: sender {sender} refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(
                f"{self.where}: message refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # the connection broke mid-transaction: the server may have queued it
            _close(self._conn)
            self._conn = None
            err = DeliveryError(
                f"{self.where}: connection lost while sending ({type(exc).__name__}: {exc}); "
                "the server may have accepted it, check before --resend"
            )
            err.uncertain = True  # type: ignore[attr-defined]  # read by the pipeline
            raise err from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"{self.where}: {type(exc).__name__}: {exc}") from None
        if refused:
            accepted = [a for a in rcpt if a not in refused]
            err = DeliveryError(
                f"{self.where}: sent to {', '.join(accepted)} but refused "
                f"{_refused(refused)}; check before --resend"
            )
            err.uncertain = True  # type: ignore[attr-defined]
            raise err
        return Receipt(
            sender=self.name,
            message_id=str(mime["Message-ID"]),
            recipients=rcpt,
            detail=f"{self.host}:{self.port}",
        )


def _refused(recipients: dict[str, Any]) -> str:
    return "; ".join(f"{addr} ({_reply(*reply)})" for addr, reply in recipients.items())


def _close(conn: smtplib.SMTP | None) -> None:

    if conn is None:
        return
    try:
        conn.close()
    except OSError:
        pass


@hookimpl
def register_senders(register: Any) -> None:
    register("smtp", SMTPSender)
