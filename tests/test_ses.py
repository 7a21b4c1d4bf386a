"""The `ses` sender against moto, in process (`mock_aws`).

Faults (throttling, rejections, timeouts) are injected at botocore's HTTP layer with its
event system, the way moto itself answers requests; the sender is never mocked.
"""

from __future__ import annotations

import email
import re
import sys
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import conftest_delivery as cd  # noqa: E402
from ci_tools import require_module  # noqa: E402

moto = require_module("moto")
# moto in process, or its server behind a FaultProxy: a hang fails within a minute
pytestmark = pytest.mark.timeout(60)
from execreport import DeliveryError, Message  # noqa: E402
from execreport.config import Config  # noqa: E402
from execreport.senders.ses import SESSender, TokenBucket, classify, sanitize_tag  # noqa: E402
from moto import mock_aws  # noqa: E402


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    cd.aws_env(monkeypatch)
    with mock_aws():
        yield


def backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][cd.REGION]


def verify(identity: str = "example.com") -> None:
    import boto3

    boto3.client("sesv2", region_name=cd.REGION).create_email_identity(EmailIdentity=identity)


def config(sender_from: str = cd.FROM) -> Config:
    return Config.model_validate({"delivery": {"from": sender_from, "sender": "ses"}})


def make_sender(**settings: Any) -> SESSender:
    settings.setdefault("region", cd.REGION)
    settings.setdefault("max_retry_seconds", 5)
    settings.setdefault("retry_base_seconds", 0.01)
    settings.setdefault("botocore_max_attempts", 1)
    return SESSender({**settings, "_config": settings.pop("_config", config())})


def message(to: list[str] | None = None, **kw: Any) -> Message:
    data: dict[str, Any] = dict(
        sender=cd.FROM,
        to=to or ["cfo@example.com"],
        bcc=[cd.AUDIT],
        subject="CFO Finance Review: Q1 2025",
        text="plain body",
        html="<p>html body</p>",
        role="cfo",
        version=3,
        entities=["jada", "queenofsandiego"],
    )
    data.update(kw)
    return Message(**data)


def headers_of(raw: str) -> email.message.Message:
    return email.message_from_string(raw)


def answer_account(sender: SESSender, account: dict[str, Any]) -> None:
    """SES's GetAccount answer (moto lacks GetAccount), given without a request."""
    sender.client.meta.events.register_first(
        "before-call.sesv2.GetAccount", lambda **_: cd.call_result(account)
    )


def answer_sends(sender: SESSender, answer: Any) -> None:
    sender.client.meta.events.register_first("before-call.sesv2.SendEmail", lambda **_: answer)


def capture_params(sender: SESSender) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def grab(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    sender.client.meta.events.register("before-parameter-build.sesv2.SendEmail", grab)
    return calls


# -- preflight ----------------------------------------------------------------------------
def test_verified_address_passes_check(aws: None) -> None:
    verify(cd.FROM)
    sender = make_sender()
    sender.check()
    # moto has no GetAccount: the quota came from v1 GetSendQuota, and paces at its rate
    assert sender.account["SendQuota"]["MaxSendRate"] == 1.0
    assert sender.rate == 1.0


def test_verified_domain_passes_check(aws: None) -> None:
    verify("example.com")  # the domain of cd.FROM, not the address itself
    sender = make_sender()
    sender.check()
    # the check went past the identity to the account, as for a verified address
    assert sender.account["SendQuota"]["MaxSendRate"] == 1.0
    assert sender.rate == 1.0


def test_unverified_from_names_address_and_region(aws: None) -> None:
    verify("other.example.org")
    with pytest.raises(DeliveryError) as info:
        make_sender().check()
    assert str(info.value) == (
        "SES: sender reports@example.com is not a verified identity in us-west-2 "
        "(verify the address or its domain)"
    )
    assert backend().sent_messages == []


def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    cd.aws_env(monkeypatch)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    # (outside mock_aws, which sets dummy credentials of its own): fails before any request
    with pytest.raises(DeliveryError) as info:
        make_sender().check()
    assert str(info.value) == (
        "SES: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
        "a profile, or an IAM role)"
    )


def test_sandbox_note_and_account_rate(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    verify()
    account = {
        "SendingEnabled": True,
        "ProductionAccessEnabled": False,
        "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 7.0, "SentLast24Hours": 3.0},
    }
    sender = make_sender()
    answer_account(sender, account)
    sender.check()
    assert sender.rate == 7.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sandbox" in err[0] and "verified identity too" in err[0]


def test_sending_disabled_stops(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    verify()
    account = {"SendingEnabled": False, "ProductionAccessEnabled": True, "SendQuota": {}}
    sender = make_sender()
    answer_account(sender, account)
    with pytest.raises(DeliveryError, match="sending is disabled"):
        sender.check()


def test_daily_quota_used_up_in_preflight(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    verify()
    account = {
        "SendingEnabled": True,
        "ProductionAccessEnabled": True,
        "SendQuota": {"Max24HourSend": 100.0, "MaxSendRate": 10.0, "SentLast24Hours": 100.0},
    }
    sender = make_sender()
    answer_account(sender, account)
    with pytest.raises(DeliveryError, match="daily sending quota used up") as info:
        sender.check()
    assert info.value.stop


def test_configured_rate_overrides_account(aws: None) -> None:
    verify()
    sender = make_sender(max_send_rate=14)
    sender.check()
    assert sender.rate == 14.0
    off = make_sender(max_send_rate="off")
    off.check()
    assert off.rate == 0.0 and off.bucket is None


# -- sending --------------------------------------------------------------------------------
def test_send_lands_in_moto_with_bcc_in_envelope_only(aws: None) -> None:
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    receipt = sender.send(message())
    [sent] = backend().sent_messages
    assert receipt.message_id == sent.id
    # moto appends the To header's addresses to the envelope; the audit copy is only there
    assert cd.AUDIT in sent.destinations
    assert "cfo@example.com" in sent.destinations
    parsed = headers_of(sent.raw_data)
    assert parsed["Bcc"] is None
    assert "bcc:" not in sent.raw_data.lower().split("\r\n\r\n", 1)[0]
    assert cd.AUDIT not in sent.raw_data
    assert parsed["To"] == "cfo@example.com"
    assert parsed.get_content_type() == "multipart/alternative"
    assert receipt.recipients == ["cfo@example.com", cd.AUDIT]


def test_120_recipients_split_into_three_calls(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto counts the To header's addresses on top of the envelope against its limit of 50;
    # SES counts the envelope, so lift moto's limit for this test
    monkeypatch.setattr("moto.ses.models.RECIPIENT_LIMIT", 10_000)
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    calls = capture_params(sender)
    to = [f"exec{i:03d}@example.com" for i in range(120)]
    receipt = sender.send(message(to=to))
    assert len(calls) == 3
    sizes = [len(c["Destination"].get("ToAddresses", [])) for c in calls]
    bccs = [c["Destination"].get("BccAddresses", []) for c in calls]
    assert sizes == [50, 50, 20]
    assert bccs == [[], [], [cd.AUDIT]]  # the audit copy once overall
    for call in calls:
        total = len(call["Destination"].get("ToAddresses", [])) + len(
            call["Destination"].get("BccAddresses", [])
        )
        assert total <= 50
    sent = backend().sent_messages
    assert len(sent) == 3
    assert receipt.message_id == ",".join(m.id for m in sent)
    delivered = [a for c in calls for a in c["Destination"].get("ToAddresses", [])]
    assert delivered == to
    for m in sent:
        assert "Bcc" not in headers_of(m.raw_data)
    # each part's To header names that part's recipients
    last_to = headers_of(sent[2].raw_data).get_all("To")
    assert [a for _, a in getaddresses(last_to)] == to[100:]


def test_message_over_40mb_rejected_before_sending(aws: None) -> None:
    from execreport import Attachment

    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    calls = capture_params(sender)
    big = Attachment(filename="ledger.bin", content=b"\0" * 30_000_000)  # 41 MB in base64
    with pytest.raises(DeliveryError) as info:
        sender.send(message(attachments=[big]))
    text = str(info.value)
    assert re.fullmatch(
        r"SES: message 'cfo' is 41\.\d MB, over the 40\.0 MB SES limit; nothing sent", text
    ), text
    assert "\n" not in text
    assert calls == [] and backend().sent_messages == []


def test_configuration_set_and_sanitised_tags(aws: None) -> None:
    verify()
    sender = make_sender(max_send_rate="off", configuration_set="exec-reports")
    sender.check()
    calls = capture_params(sender)
    sender.send(message(role="cfo", version=12, entities=["jada", "queen of/sd"]))
    [call] = calls
    assert call["ConfigurationSetName"] == "exec-reports"
    tags = {t["Name"]: t["Value"] for t in call["EmailTags"]}
    assert tags == {"role": "cfo", "version": "12", "entities": "jada-queen_of_sd"}


def test_no_tags_without_configuration_set(aws: None) -> None:
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    calls = capture_params(sender)
    sender.send(message())
    assert "EmailTags" not in calls[0] and "ConfigurationSetName" not in calls[0]


def test_sanitize_tag() -> None:
    assert sanitize_tag("a b.c@d") == "a_b_c_d"
    assert sanitize_tag("") == "none"
    assert len(sanitize_tag("x" * 300)) == 256


# -- retries --------------------------------------------------------------------------------
# Throttling and server errors come from a loopback proxy in front of moto's server, so that
# botocore's own retries and the sender's happen as they would against SES.
@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    cd.aws_env(monkeypatch)
    with cd.moto_server() as moto_server:
        moto_server.verify("example.com")
        yield moto_server


def proxied_sender(proxy: cd.FaultProxy, **settings: Any) -> SESSender:
    sender = make_sender(endpoint_url=proxy.url, max_send_rate="off", **settings)
    sender.check()
    return sender


def test_throttling_retried_beyond_botocore(server: cd.MotoServer) -> None:
    rule = cd.sequence_rule(
        [
            cd.throttle_body("TooManyRequestsException"),
            cd.throttle_body("Throttling"),
            cd.throttle_body("ThrottlingException"),
            cd.error_body(400, "MessageRejected", "Maximum sending rate exceeded."),
        ]
    )
    with cd.fault_proxy(server.url, rule) as proxy:
        # botocore makes 2 attempts per call; the sender calls again after each failed pair
        sender = proxied_sender(proxy, botocore_max_attempts=2, retry_base_seconds=0.01)
        receipt = sender.send(message())
        assert proxy.sends() == [429, 400, 400, 400, 200]
    [sent] = server.sent()
    assert receipt.message_id == sent["id"]


def test_transient_errors_retried(server: cd.MotoServer) -> None:
    rule = cd.sequence_rule(
        [
            cd.error_body(500, "InternalFailure", "try again"),
            cd.error_body(503, "ServiceUnavailable", "busy"),
        ]
    )
    with cd.fault_proxy(server.url, rule) as proxy:
        sender = proxied_sender(proxy)
        sender.send(message())
        assert proxy.sends() == [500, 503, 200]
    assert len(server.sent()) == 1


def test_refused_connection_retried(aws: None) -> None:
    from botocore.exceptions import EndpointConnectionError

    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    refused = [EndpointConnectionError(endpoint_url="https://email.us-west-2.amazonaws.com")] * 2

    def fail_twice(**_: Any) -> None:
        if refused:
            raise refused.pop()

    sender.client.meta.events.register_first("before-send.sesv2.SendEmail", fail_twice)
    sender.send(message())
    assert refused == [] and len(backend().sent_messages) == 1


def test_retries_bounded_then_stop(server: cd.MotoServer) -> None:
    def always(method: str, path: str, body: bytes) -> Any:
        return cd.throttle_body() if path.startswith(cd.SEND_PATH) else None

    with cd.fault_proxy(server.url, always) as proxy:
        sender = proxied_sender(proxy, max_retry_seconds=0.3, retry_base_seconds=0.05)
        with pytest.raises(DeliveryError) as info:
            sender.send(message())
        assert len(proxy.sends()) >= 2
    assert info.value.stop and "gave up" in str(info.value)
    assert server.sent() == []


@pytest.mark.parametrize(
    "code,text",
    [
        ("Throttling", "Daily message quota exceeded."),
        ("LimitExceededException", "Sending limit exceeded."),
    ],
)
def test_daily_quota_stops_the_run(aws: None, code: str, text: str) -> None:
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    answer_sends(sender, cd.call_error(400, code, text))
    with pytest.raises(DeliveryError) as info:
        sender.send(message())
    assert info.value.stop
    assert "quota" in str(info.value) or "limit" in str(info.value)
    assert backend().sent_messages == []


@pytest.mark.parametrize(
    "code",
    [
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    ],
)
def test_permanent_errors_fail_the_message(aws: None, code: str) -> None:
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    answer_sends(sender, cd.call_error(400, code, f"{code} details\nsecond line"))
    with pytest.raises(DeliveryError) as info:
        sender.send(message())
    assert not info.value.stop
    assert str(info.value) == f"SES: {code}: {code} details second line"


def test_invalid_address_is_permanent(aws: None) -> None:
    verify()
    sender = make_sender(max_send_rate="off")
    sender.check()
    with pytest.raises(DeliveryError) as info:
        sender.send(message(to=["not-an-address"]))
    assert not info.value.stop and "InvalidParameterValue" in str(info.value)


def test_read_timeout_is_uncertain_and_not_retried(aws: None) -> None:
    from botocore.exceptions import ReadTimeoutError

    verify()
    sender = make_sender(max_send_rate="off", botocore_max_attempts=3)
    sender.check()
    attempts: list[int] = []

    def time_out(**_: Any) -> None:
        attempts.append(1)
        raise ReadTimeoutError(endpoint_url="https://email.us-west-2.amazonaws.com")

    sender.client.meta.events.register_first("before-send.sesv2.SendEmail", time_out)
    with pytest.raises(DeliveryError) as info:
        sender.send(message())
    assert getattr(info.value, "uncertain", False)
    assert "outcome unknown" in str(info.value)
    assert attempts == [1]  # neither botocore nor the sender sent it again


def test_classify_messages() -> None:
    from botocore.exceptions import ClientError, NoCredentialsError

    def err(code: str, msg: str, status: int = 400) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": code, "Message": msg},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "SendEmail",
        )

    assert classify(err("TooManyRequestsException", "x", 429))[0] == "retry"
    assert classify(err("Throttling", "Maximum sending rate exceeded."))[0] == "retry"
    assert classify(err("Throttling", "Daily message quota exceeded."))[0] == "stop"
    assert classify(err("InternalFailure", "x", 500))[0] == "retry"
    assert classify(err("MessageRejected", "Email address is not verified."))[0] == "permanent"
    assert classify(err("AccessDeniedException", "no"))[0] == "stop"
    assert classify(NoCredentialsError())[0] == "stop"


# -- the run goes on after a permanent error -------------------------------------------------------
def test_permanent_error_recorded_and_run_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from execreport import pipeline
    from execreport.config import load_config

    cd.aws_env(monkeypatch)
    path = cd.write_config(
        tmp_path,
        sender="ses",
        sender_settings={"region": cd.REGION, "max_send_rate": "off"},
        roles={"cfo": ["cfo@example.com"]},
    )

    def reject_cfo(params: dict[str, Any], **_: Any) -> Any:
        # `params` is the serialized request: the Destination is in its JSON body
        if b'"cfo@example.com"' in params["body"]:
            return cd.call_error(
                400, "MessageRejected", "Email address is on the suppression list."
            )
        return None

    cd.inject_faults(monkeypatch, "before-call.sesv2.SendEmail", reject_cfo)
    with mock_aws():
        verify()
        result = pipeline.run(load_config(path))
        by_role = {o.role: o for o in result.outcomes}
        assert by_role["cfo"].status == "failed"
        assert by_role["cfo"].detail == (
            "SES: MessageRejected: Email address is on the suppression list."
        )
        assert sorted(r for r, o in by_role.items() if o.status == "sent") == sorted(
            set(cd.ROLES) - {"cfo"}
        )
        assert not result.ok
        assert len(backend().sent_messages) == 4
        with pipeline.open_archive(load_config(path)) as archive:
            failed = archive.deliveries(status="failed")
        assert [d.error for d in failed] == [by_role["cfo"].detail]


def test_timeout_after_request_is_uncertain_and_not_resent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ReadTimeoutError
    from execreport import pipeline
    from execreport.config import load_config

    cd.aws_env(monkeypatch)
    path = cd.write_config(
        tmp_path,
        sender="ses",
        sender_settings={"region": cd.REGION, "max_send_rate": "off"},
        roles={"cfo": ["cfo@example.com"]},
    )

    def time_out_cfo(request: Any, **_: Any) -> None:
        if b'"cfo@example.com"' in (request.body or b""):
            raise ReadTimeoutError(endpoint_url=request.url)

    cd.inject_faults(monkeypatch, "before-send.sesv2.SendEmail", time_out_cfo)
    with mock_aws():
        verify()
        first = {o.role: o for o in pipeline.run(load_config(path)).outcomes}
        assert first["cfo"].status == "uncertain"
        assert "outcome unknown" in first["cfo"].detail
        again = {o.role: o for o in pipeline.run(load_config(path)).outcomes}
        assert again["cfo"].status == "uncertain"  # not sent again without --resend
        assert {o.status for r, o in again.items() if r != "cfo"} <= {"skipped", "sent"}
        with pipeline.open_archive(load_config(path)) as archive:
            assert len(archive.deliveries(status="uncertain")) == 1


# -- pacing -----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("rate,n", [(1.0, 5), (14.0, 30), (0.5, 4)])
def test_token_bucket_paces_n_sends(rate: float, n: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(n):
        bucket.acquire()
    assert clock.now - start >= (n - 1) / rate - 1e-9
    assert clock.sleeps[0] == pytest.approx(1 / rate)
    assert len(clock.sleeps) == n - 1


def test_token_bucket_no_sleep_with_budget() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    assert bucket.acquire() == 0.0  # a full bucket: no sleep
    clock.now += 0.5  # one token's worth of time passed
    assert bucket.acquire() == 0.0
    clock.now += 10  # idle: the budget is capped, still no sleep
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)
    assert clock.sleeps == [pytest.approx(0.5)]


def test_token_bucket_counts_recipients() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, clock=clock, sleep=clock.sleep)
    bucket.wait()
    bucket.take(3)  # a message to three recipients
    assert bucket.wait() == pytest.approx(3.0)


def test_sender_wait_paces_at_configured_rate(aws: None) -> None:
    verify()
    clock = FakeClock()
    sender = make_sender(max_send_rate=4)
    sender.clock, sender.sleep = clock, clock.sleep
    sender.check()
    start = clock.now
    for _ in range(5):
        sender.wait()
        sender.send(message(bcc=[]))
    assert clock.now - start >= 4 / 4 - 1e-9
    assert len(backend().sent_messages) == 5


def test_boto3_not_imported_by_help() -> None:
    import subprocess

    code = (
        "import sys; from execreport.cli import main\n"
        "sys.argv = ['execreport', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'\n"
    )
    env = cd.clean_env()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
