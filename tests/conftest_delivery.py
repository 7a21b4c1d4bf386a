"""Helpers for the delivery tests: a tiny data folder and config, moto's server, a loopback
fault proxy in front of it, an aiosmtpd server, a self-signed certificate, botocore fault
injection, and running the CLI as a subprocess.

Every server binds 127.0.0.1 and is a context manager that stops it on exit. The pytest
fixtures at the end wrap them for tests that want fixtures (tests/conftest.py may import
them); the test modules use the context managers directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-west-2"
FROM = "reports@example.com"
AUDIT = "audit@example.com"
ROLES = ("ceo", "cto", "cfo", "cmo", "accounting")
SEND_PATH = "/v2/email/outbound-emails"

ENTITY_TOML = """\
name = "Acme Software"
kind = "software"
currency = "USD"
opening_cash = "10000.00"
opening_date = "2025-01-01"

[audience]
email_list = 12
"""

LEDGER_CSV = """\
date,amount,account,category,counterparty,memo,service_date,receipt
2025-01-05,1200.00,4000,subscriptions,Client A,,,
2025-01-10,-300.00,6200,software,Amazon Web Services,,,
2025-02-05,1300.00,4000,subscriptions,Client A,,,
2025-02-10,-310.00,6200,software,Amazon Web Services,,,
2025-03-05,1250.00,4000,subscriptions,Client B,,,
2025-03-10,-320.00,6200,software,Amazon Web Services,,,
"""


# -- data and config ----------------------------------------------------------------------
def make_data(root: Path) -> Path:
    """One entity folder (entity.toml + ledger.csv) under `root/data/acme`."""
    folder = root / "data" / "acme"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "entity.toml").write_text(ENTITY_TOML, encoding="utf-8")
    (folder / "ledger.csv").write_text(LEDGER_CSV, encoding="utf-8")
    return folder


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_config(
    root: Path,
    *,
    sender: str,
    sender_settings: dict[str, Any] | None = None,
    sender_from: str = FROM,
    to: list[str] | None = None,
    bcc: list[str] | None = None,
    roles: dict[str, list[str]] | None = None,
    name: str = "execreport.toml",
    archive: str = "archive.sqlite3",
) -> Path:
    """An execreport.toml in `root` over the tiny data folder (made if missing)."""
    if not (root / "data" / "acme" / "ledger.csv").exists():
        make_data(root)
    lines = [
        "[report]",
        'as_of = "2025-03-31"',
        'period = "Q1 2025"',
        "",
        "[archive]",
        f"path = {_toml_value(archive)}",
        "",
        "[entities.acme]",
        'path = "data/acme"',
        "",
        "[delivery]",
        f"sender = {_toml_value(sender)}",
        f"from = {_toml_value(sender_from)}",
        f"to = {_toml_value(to if to is not None else ['exec@example.com'])}",
        f"bcc = {_toml_value(bcc if bcc is not None else [AUDIT])}",
        "",
        f"[delivery.{sender}]",
    ]
    for key, value in (sender_settings or {}).items():
        lines.append(f"{key} = {_toml_value(value)}")
    for role, addresses in (roles or {}).items():
        lines += ["", f"[roles.{role}]", f"to = {_toml_value(addresses)}"]
    path = root / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- environment and CLI -------------------------------------------------------------------
def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without AWS or execreport settings, plus `extra`:
    dummy credentials, no shared config files, no instance metadata lookups."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "EXECREPORT_", "SES_", "BOTO"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing-secret-never-printed",
        AWS_SESSION_TOKEN="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_REGION=REGION,
        EXECREPORT_LOAD_PLUGINS="",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def cli_args(config: Path, command: str = "run", *more: str) -> list[str]:
    return [sys.executable, "-m", "execreport", command, "--config", str(config), *more]


def run_cli(
    config: Path, env: dict[str, str], command: str = "run", *more: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_args(config, command, *more),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(config.parent),
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("execreport: error:")]


def aws_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """The same clean AWS environment for in-process tests."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "SES_", "EXECREPORT_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in clean_env(**extra).items():
        if key.startswith(("AWS_", "EXECREPORT_")):
            monkeypatch.setenv(key, value)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- moto's server ---------------------------------------------------------------------------
class MotoServer:
    """moto's ThreadedMotoServer on 127.0.0.1 with the SES helpers the tests need."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.reset()

    def stop(self) -> None:
        self.server.stop()

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def client(self, service: str = "sesv2", region: str = REGION) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def verify(self, identity: str, region: str = REGION) -> None:
        self.client(region=region).create_email_identity(EmailIdentity=identity)

    def sent(self) -> list[dict[str, Any]]:
        """Every raw message moto accepted: `destinations`, `raw_data`, `source`, `id`."""
        with urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=10) as resp:
            data = json.loads(resp.read())
        return list((data.get("ses") or {}).get("RawMessage") or [])


@contextlib.contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


# -- a loopback fault proxy ---------------------------------------------------------------
Rule = Callable[[str, str, bytes], tuple[int, dict[str, str], bytes] | None]


def error_body(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """An SES v2 (rest-json) error answer."""
    body = json.dumps({"message": message}).encode()
    return status, {"x-amzn-ErrorType": f"{code}:", "Content-Type": "application/json"}, body


def throttle_body(code: str = "TooManyRequestsException") -> tuple[int, dict[str, str], bytes]:
    """SES v2's answer when the sending rate is exceeded."""
    status = 429 if code == "TooManyRequestsException" else 400
    return error_body(status, code, "Maximum sending rate exceeded.")


def sequence_rule(answers: list[tuple[int, dict[str, str], bytes]]) -> Rule:
    """Answer the first SendEmail requests with `answers` in turn, then forward."""
    left = list(answers)
    lock = threading.Lock()

    def rule(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        if method != "POST" or not path.startswith(SEND_PATH):
            return None
        with lock:
            return left.pop(0) if left else None

    return rule


def burst_rule(burst: int = 4, code: str = "TooManyRequestsException") -> Rule:
    """Throttle each distinct SendEmail request `burst` times in a row, then let it through.
    (botocore and the sender resend the same body, so every message meets a full burst.)"""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def rule(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        if method != "POST" or not path.startswith(SEND_PATH):
            return None
        key = hashlib.sha256(body).hexdigest()
        with lock:
            seen[key] = seen.get(key, 0) + 1
            n = seen[key]
        return throttle_body(code) if n <= burst else None

    return rule


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of `target`: `rule(method, path, body)` may answer
    a request itself (status, headers, body); otherwise the request is forwarded. `hold`, if
    given, is called with (method, path, status) after the answer is known and before it is
    written back: a test can keep an answer from the client that the target already gave."""

    def __init__(
        self, target: str, rule: Rule, hold: Callable[[str, str, int], None] | None = None
    ) -> None:
        self.target = target.removeprefix("http://").rstrip("/")
        self.rule = rule
        self.hold = hold
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = proxy.rule(self.command, self.path, body)
                if answer is None:
                    answer = proxy.forward(self.command, self.path, dict(self.headers), body)
                status, headers, payload = answer
                proxy.log.append((self.command, self.path, status))
                if proxy.hold is not None:
                    proxy.hold(self.command, self.path, status)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client was killed while it waited

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.target, timeout=30)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() != "connection"}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def sends(self) -> list[int]:
        return [status for method, path, status in self.log if path.startswith(SEND_PATH)]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextlib.contextmanager
def fault_proxy(
    target: str, rule: Rule, hold: Callable[[str, str, int], None] | None = None
) -> Iterator[FaultProxy]:
    proxy = FaultProxy(target, rule, hold)
    try:
        yield proxy
    finally:
        proxy.stop()


# -- botocore fault injection (in process) ----------------------------------------------------
# A `before-call` handler that returns (http response, parsed response) answers the call
# without any request being made (botocore's Stubber works this way); a `before-send` handler
# that raises makes the HTTP layer fail (a timeout, a refused connection). Answering with a
# response from `before-send` is no good in process: moto's own before-send handler would
# still process the request.
class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def call_result(parsed: dict[str, Any], status: int = 200) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0}}
    return AWSResponse("https://fault.invalid/", status, {}, _Raw(b"")), parsed


def call_error(status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    return call_result({"Error": {"Code": code, "Message": message}}, status)


def inject_faults(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    """Register `handler` for `event` (e.g. "before-call.sesv2.SendEmail") first in every
    botocore session made from now on (undone by monkeypatch)."""
    from botocore import handlers

    monkeypatch.setattr(
        handlers,
        "BUILTIN_HANDLERS",
        [(event, handler, handlers.REGISTER_FIRST), *handlers.BUILTIN_HANDLERS],
    )


# -- SMTP ---------------------------------------------------------------------------------------
class Collector:
    """An aiosmtpd handler keeping each envelope: mail_from, rcpt_tos, content."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files in `folder`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SMTPServer:
    def __init__(self, controller: Any, handler: Collector) -> None:
        self.controller = controller
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = controller.port

    @property
    def envelopes(self) -> list[Any]:
        return self.handler.envelopes


@contextlib.contextmanager
def smtp_server(
    *, cert: tuple[Path, Path] | None = None, users: dict[str, str] | None = None
) -> Iterator[SMTPServer]:
    """aiosmtpd on 127.0.0.1; with `cert`, STARTTLS is offered and required; with `users`,
    AUTH (after STARTTLS) is required."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    handler = Collector()
    kwargs: dict[str, Any] = {}
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        kwargs.update(tls_context=context, require_starttls=True)
    if users is not None:

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
            ok = (
                isinstance(data, LoginPassword)
                and users.get(data.login.decode()) == data.password.decode()
            )
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield SMTPServer(controller, handler)
    finally:
        controller.stop()


# -- fixtures (for tests/conftest.py to import) --------------------------------------------------
@pytest.fixture
def moto_ses() -> Iterator[MotoServer]:
    """moto's server on loopback, the `from` identity not yet verified."""
    with moto_server() as server:
        yield server


@pytest.fixture
def smtp_plain() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server
