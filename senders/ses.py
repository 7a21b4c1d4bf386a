"""The `ses` sender: Amazon SES API v2 `SendEmail` with raw MIME content.

boto3 is imported when the sender is first used, never when this module is imported
(`execreport --help` stays fast). Credentials come only from boto3's own chain (environment,
profile, SSO, container or instance role); `AWS_ENDPOINT_URL` points it at any SES-compatible
endpoint.

Settings (`[delivery.ses]`): `region`, `configuration_set`, `tags` (true/false, or a table
of extra static tags), `max_send_rate` (recipients per second; default the account's
`MaxSendRate`; 0 or "off" disables pacing), `max_retry_seconds` (default 60),
`retry_base_seconds` (default 0.5), `retry_cap_seconds` (default 20), `botocore_max_attempts`
(default 3), `connect_timeout`/`read_timeout` (seconds), `max_message_bytes` (default 40 MB),
`endpoint_url` (default: boto3's own resolution, which honours `AWS_ENDPOINT_URL`),
`events_queue` (the SQS queue URL or name that the configuration set's events reach; not set:
no event is read and no queue is called), `max_transient_retries` (default 3: how many times a
version goes again to a recipient whose copy bounced transiently).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from execreport import DeliveryError, hookimpl

MAX_RECIPIENTS = 50  # envelope recipients (To + Cc + Bcc) per SendEmail call
MAX_MESSAGE_BYTES = 40_000_000  # SES v2: 40 MB per message, MIME-encoded
DEFAULT_REGION = "us-east-1"

THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# errors that will hit every other message too: stop the run, leave the rest pending
STOP_CODES = frozenset(
    {
        "LimitExceededException",
        "AccountSuspendedException",
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)
NOT_IMPLEMENTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedException", "UnknownOperationException", "InvalidAction"}
)
_TAG_CHARS = re.compile(r"[^A-Za-z0-9_-]+")

RETRY, STOP, UNCERTAIN, PERMANENT = "retry", "stop", "uncertain", "permanent"


def _botocore_at_least(major: int, minor: int) -> bool:
    import botocore

    try:
        parts = [int(p) for p in botocore.__version__.split(".")[:2]]
    except ValueError:
        return True
    return (parts[0], parts[1]) >= (major, minor)


def _one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def sanitize_tag(value: Any) -> str:
    """A message-tag name or value SES accepts: ASCII letters, digits, `_` and `-`, at most
    256 characters, never empty."""
    text = _TAG_CHARS.sub("_", str(value)).strip("_") or "none"
    return text[:256]


def _rate(value: Any, where: str) -> float | None:
    """`max_send_rate`: a positive number, or 0/"off"/false for no pacing; None: not set."""
    if value is None:
        return None
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none", "")):
        return 0.0
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise DeliveryError(
            f'{where}: max_send_rate must be a number of emails per second or "off", not {value!r}'
        ) from None
    if rate < 0:
        raise DeliveryError(f"{where}: max_send_rate must not be negative ({value!r})")
    return rate


def _number(settings: dict[str, Any], key: str, default: float, where: str) -> float:
    value = settings.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DeliveryError(f"{where}: {key} must be a number, not {value!r}") from None
    if number < 0:
        raise DeliveryError(f"{where}: {key} must not be negative ({value!r})")
    return number


class TokenBucket:
    """Pacing at `rate` tokens per second, holding at most `capacity` tokens.

    `wait()` sleeps only when the bucket lacks the tokens asked for (there is no sleep while
    there is budget); `take(n)` spends `n` tokens and may leave a debt that the next `wait()`
    pays off, so a message to 3 recipients costs 3 even when the capacity is 1. `clock` and
    `sleep` are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = max(float(capacity), 1.0)
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.capacity
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, need: float = 1.0) -> float:
        """Block until `need` tokens (at most the capacity) are available; returns the
        seconds slept (0.0 when there was budget)."""
        need = min(float(need), self.capacity)
        self._refill()
        if self.tokens >= need:
            return 0.0
        delay = (need - self.tokens) / self.rate
        self.sleep(delay)
        self._refill()
        self.tokens = max(self.tokens, need)  # the sleep paid for it (clock granularity)
        return delay

    def take(self, n: float = 1.0) -> None:
        self._refill()
        self.tokens -= float(n)

    def acquire(self, n: float = 1.0) -> float:
        slept = self.wait(n)
        self.take(n)
        return slept


def classify(exc: BaseException) -> tuple[str, str]:
    """How to treat a failed SES call: (`retry` | `stop` | `uncertain` | `permanent`, text).

    `uncertain`: the request may have reached SES (the connection broke or timed out after it
    was sent); sending again could deliver it twice.
    """
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code", "") or "")
        message = _one_line(err.get("Message", "") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        text = f"{code}: {message}" if message else code or f"HTTP {status}"
        low = message.lower()
        if "daily message quota" in low or "daily sending quota" in low:
            return STOP, f"daily sending quota reached ({text})"
        if code == "LimitExceededException":
            return STOP, f"sending limit reached ({text})"
        if code in THROTTLING_CODES or status == 429 or "maximum sending rate exceeded" in low:
            return RETRY, text
        if code in STOP_CODES:
            return STOP, text
        if status >= 500 or code in TRANSIENT_CODES:
            return RETRY, text
        return PERMANENT, text
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            STOP,
            "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "a profile, or an IAM role)",
        )
    if isinstance(exc, bx.CredentialRetrievalError):
        return STOP, f"cannot get AWS credentials: {_one_line(exc)}"
    if isinstance(exc, bx.SSLError):
        return STOP, f"TLS failed: {_one_line(exc)}"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        # the connection was never made: nothing reached SES
        return RETRY, _one_line(exc)
    if isinstance(exc, bx.ConnectionError):
        return RETRY, _one_line(exc)
    if isinstance(exc, bx.HTTPClientError):
        # read timeout, connection closed mid-request: SES may have accepted the message
        return UNCERTAIN, _one_line(exc)
    return PERMANENT, f"{type(exc).__name__}: {_one_line(exc)}"


def _ambiguous(exc: BaseException | None) -> bool:
    from botocore import exceptions as bx

    return (
        isinstance(exc, bx.HTTPClientError)
        and not isinstance(exc, bx.ConnectionError)
        and not isinstance(exc, bx.EndpointConnectionError)
    )


def _no_blind_retry(caught_exception: BaseException | None = None, **_: Any) -> bool | None:
    """botocore retries read timeouts and dropped connections; for SendEmail that could
    deliver a message twice, so the decision comes back to us (returning False vetoes)."""
    if caught_exception is not None and _ambiguous(caught_exception):
        return False
    return None


def _uncertain(text: str, *, stop: bool = False) -> DeliveryError:
    err = DeliveryError(text, stop=stop)
    err.uncertain = True  # type: ignore[attr-defined]  # read by the pipeline
    return err


class SESSender:
    """Sends each message as raw MIME through SES v2, paced, retried and split by 50."""

    name = "ses"
    # every key of [delivery.ses], with its default (checked when the config is loaded)
    settings_defaults: dict[str, Any] = {
        "region": "",
        "configuration_set": "",
        "tags": None,
        "max_send_rate": None,
        "max_retry_seconds": 60,
        "retry_base_seconds": 0.5,
        "retry_cap_seconds": 20,
        "botocore_max_attempts": 3,
        "connect_timeout": 10,
        "read_timeout": 60,
        "max_message_bytes": MAX_MESSAGE_BYTES,
        "endpoint_url": "",
        "events_queue": "",
        "max_transient_retries": 3,
    }

    def __init__(self, settings: dict[str, Any]) -> None:
        self.where = "delivery.ses"
        self.settings = settings
        config = settings.get("_config")
        self.from_address = ""
        if config is not None:
            self.from_address = config.delivery.from_
        self.region = (
            str(settings.get("region") or "").strip()
            or os.environ.get("AWS_REGION", "").strip()
            or os.environ.get("AWS_DEFAULT_REGION", "").strip()
            or DEFAULT_REGION
        )
        self.configuration_set = str(settings.get("configuration_set") or "").strip() or None
        tags = settings.get("tags")
        self.static_tags: dict[str, str] = {}
        if isinstance(tags, dict):
            self.static_tags = {sanitize_tag(k): sanitize_tag(v) for k, v in tags.items()}
            self.send_tags = True
        elif tags is None:
            self.send_tags = self.configuration_set is not None
        else:
            self.send_tags = bool(tags)
        self.configured_rate = _rate(settings.get("max_send_rate"), self.where)
        self.max_retry_seconds = _number(settings, "max_retry_seconds", 60, self.where)
        self.retry_base = _number(settings, "retry_base_seconds", 0.5, self.where)
        self.retry_cap = _number(settings, "retry_cap_seconds", 20, self.where)
        self.max_attempts = max(int(_number(settings, "botocore_max_attempts", 3, self.where)), 1)
        self.connect_timeout = _number(settings, "connect_timeout", 10, self.where)
        self.read_timeout = _number(settings, "read_timeout", 60, self.where)
        self.max_bytes = int(_number(settings, "max_message_bytes", MAX_MESSAGE_BYTES, self.where))
        self.endpoint_url = str(settings.get("endpoint_url") or "").strip() or None
        self.max_transient_retries = int(_number(settings, "max_transient_retries", 3, self.where))
        self.account: dict[str, Any] = {}
        self.rate: float | None = self.configured_rate
        self.bucket: TokenBucket | None = None
        if self.rate:
            self.bucket = TokenBucket(self.rate)
        self._session: Any = None
        self._client: Any = None
        # injectable for tests
        self.sleep: Callable[[float], None] = time.sleep
        self.random: Callable[[], float] = random.random
        self.clock: Callable[[], float] = time.monotonic

    # -- boto3 ---------------------------------------------------------------------------
    def _endpoint(self) -> str | None:
        if self.endpoint_url:
            return self.endpoint_url
        # botocore reads AWS_ENDPOINT_URL itself from 1.31 on; older ones need it passed
        if not _botocore_at_least(1, 31):
            return (
                os.environ.get("AWS_ENDPOINT_URL_SESV2")
                or os.environ.get("AWS_ENDPOINT_URL")
                or None
            )
        return None

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region)
        return self._session

    def _make_client(self, service: str, attempts: int) -> Any:
        from botocore.config import Config

        config = Config(
            region_name=self.region,
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra="execreport",
        )
        endpoint = self._endpoint()
        kwargs: dict[str, Any] = {"config": config}
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        return self.session.client(service, **kwargs)

    @property
    def client(self) -> Any:
        """The `sesv2` client, made on first use."""
        if self._client is None:
            self._client = self._make_client("sesv2", self.max_attempts)
            self._client.meta.events.register_first(
                "needs-retry.sesv2.SendEmail", _no_blind_retry, unique_id="execreport-ses"
            )
        return self._client

    def _credentials(self) -> None:
        try:
            found = self.session.get_credentials()
        except Exception as exc:  # a broken profile, an unreachable SSO, ...
            raise DeliveryError(f"SES: cannot get AWS credentials: {_one_line(exc)}") from None
        if found is None:
            raise DeliveryError(
                "SES: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "a profile, or an IAM role)"
            )

    def _fail(self, call: str, exc: BaseException, *, stop: bool = False) -> DeliveryError:
        kind, text = classify(exc)
        return DeliveryError(
            f"SES: {call} failed in {self.region}: {text}", stop=stop or kind == STOP
        )

    # -- preflight -----------------------------------------------------------------------
    def check(self) -> None:
        """The from identity is verified, sending is enabled, the quota is read."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.from_address:
            raise DeliveryError("SES: no from address; set [delivery] from or SES_SENDER_EMAIL")
        self._credentials()
        address = parseaddr(self.from_address)[1] or self.from_address
        self._check_identity(address, ClientError, BotoCoreError)
        self._check_account(ClientError, BotoCoreError)

    def _identity_verified(self, identity: str, ClientError: Any, BotoCoreError: Any) -> bool:
        try:
            found = self.client.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NotFoundException", "NotFound"):
                return False
            raise self._fail("GetEmailIdentity", exc) from None
        except BotoCoreError as exc:
            raise self._fail("GetEmailIdentity", exc) from None
        # VerifiedForSendingStatus is what SES itself goes by; VerificationStatus is the newer
        # field (and the only one moto sets to a verified value)
        return bool(found.get("VerifiedForSendingStatus")) or (
            found.get("VerificationStatus") == "SUCCESS"
        )

    def _check_identity(self, address: str, ClientError: Any, BotoCoreError: Any) -> None:
        domain = address.rsplit("@", 1)[-1]
        for identity in (address, domain):
            if self._identity_verified(identity, ClientError, BotoCoreError):
                return
        raise DeliveryError(
            f"SES: sender {address} is not a verified identity in {self.region} "
            "(verify the address or its domain)"
        )

    def _read_account(self, ClientError: Any, BotoCoreError: Any) -> dict[str, Any]:
        try:
            return dict(self.client.get_account())
        except NotImplementedError:
            pass  # moto, in process
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            message = str(err.get("Message", "")).lower()
            if not (
                code in NOT_IMPLEMENTED_CODES
                or status in (404, 501)
                or "not implemented" in message
                or "has not been implemented" in message
            ):
                raise self._fail("GetAccount", exc) from None
        except BotoCoreError as exc:
            raise self._fail("GetAccount", exc) from None
        # an endpoint without GetAccount (moto's server answers 404): the v1 quota call
        try:
            v1 = self._make_client("ses", self.max_attempts)
            quota = v1.get_send_quota()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("GetSendQuota", exc) from None
        return {
            "SendQuota": {
                k: quota.get(k) for k in ("Max24HourSend", "MaxSendRate", "SentLast24Hours")
            },
            "_fallback": True,
        }

    def _check_account(self, ClientError: Any, BotoCoreError: Any) -> None:
        from execreport.plugin_manager import warn

        account = self._read_account(ClientError, BotoCoreError)
        self.account = account
        if account.get("SendingEnabled") is False:
            raise DeliveryError(
                f"SES: sending is disabled for this account in {self.region} "
                "(re-enable it in the SES console; check the account's enforcement status)"
            )
        quota = account.get("SendQuota") or {}
        max24 = quota.get("Max24HourSend")
        sent24 = quota.get("SentLast24Hours")
        if max24 is not None and sent24 is not None and 0 <= float(max24) <= float(sent24):
            raise DeliveryError(
                f"SES: daily sending quota used up in {self.region} ({sent24:g} of {max24:g} "
                "in the last 24 hours); nothing sent, run `execreport send` later",
                stop=True,
            )
        production = account.get("ProductionAccessEnabled")
        sandbox = production is False or (
            production is None
            and max24 is not None
            and float(max24) == 200
            and float(quota.get("MaxSendRate") or 0) == 1
        )
        if sandbox:
            likely = "" if production is False else "probably "
            warn(
                f"SES account {likely}in the sandbox in {self.region}: every recipient must "
                "be a verified identity too (request production access to send to anyone)"
            )
        if self.configured_rate is None:
            account_rate = quota.get("MaxSendRate")
            self.rate = float(account_rate) if account_rate and float(account_rate) > 0 else 0.0
        else:
            self.rate = self.configured_rate
        self.bucket = (
            TokenBucket(self.rate, clock=self.clock, sleep=self.sleep) if self.rate else None
        )

    # -- account-level suppression list (sesv2 GetSuppressedDestination) -------------------
    def account_suppressions(self, addresses: list[str]) -> dict[str, str] | None:
        """Of `addresses`, those on the account-level suppression list, with why and since
        when; None when the endpoint does not offer the call."""
        from botocore.exceptions import BotoCoreError, ClientError

        self._credentials()
        found: dict[str, str] = {}
        for address in dict.fromkeys(parseaddr(a)[1] or a for a in addresses):
            try:
                answer = self.client.get_suppressed_destination(EmailAddress=address)
            except ClientError as exc:
                err = exc.response.get("Error", {}) or {}
                code = str(err.get("Code", ""))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                if code in ("NotFoundException", "NotFound"):
                    continue  # not on the list
                if code in NOT_IMPLEMENTED_CODES or status in (404, 501):
                    return None
                raise self._fail("GetSuppressedDestination", exc) from None
            except NotImplementedError:
                return None
            except BotoCoreError as exc:
                raise self._fail("GetSuppressedDestination", exc) from None
            item = answer.get("SuppressedDestination") or {}
            reason = str(item.get("Reason") or "suppressed")
            since = item.get("LastUpdateTime")
            when = f" since {since.date().isoformat()}" if hasattr(since, "date") else ""
            found[address.lower()] = f"{reason}{when}"
        return found

    # -- the events queue (SQS) ----------------------------------------------------------
    def events_queue_client(self, queue: str) -> tuple[Any, str]:
        """An SQS client (same region, credentials and endpoint resolution as SES) and the
        queue's URL (`queue` is a URL or a name)."""
        from botocore.exceptions import BotoCoreError, ClientError

        self._credentials()
        endpoint = self.endpoint_url
        self.endpoint_url = None  # an SES endpoint is not the queue's
        try:
            client = self._make_client("sqs", self.max_attempts)
        finally:
            self.endpoint_url = endpoint
        if queue.startswith(("https://", "http://")):
            return client, queue
        try:
            return client, str(client.get_queue_url(QueueName=queue)["QueueUrl"])
        except (ClientError, BotoCoreError) as exc:
            raise DeliveryError(
                f"SQS: cannot find events_queue {queue!r} in {self.region}: {classify(exc)[1]}"
            ) from None

    def receive_events(self, client: Any, url: str) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
            )
        except (ClientError, BotoCoreError) as exc:
            raise DeliveryError(
                f"SQS: cannot read events_queue {url}: {classify(exc)[1]}"
            ) from None
        return list(answer.get("Messages") or [])

    def delete_events(self, client: Any, url: str, messages: list[dict[str, Any]]) -> None:
        """Delete messages whose events are committed (at most 10 per call)."""
        from botocore.exceptions import BotoCoreError, ClientError

        for i in range(0, len(messages), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                for n, m in enumerate(messages[i : i + 10])
            ]
            try:
                answer = client.delete_message_batch(QueueUrl=url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise DeliveryError(
                    f"SQS: cannot delete read events from {url}: {classify(exc)[1]} (they are "
                    "recorded; reading them again changes nothing)"
                ) from None
            if answer.get("Failed"):
                first = answer["Failed"][0]
                raise DeliveryError(
                    f"SQS: cannot delete read events from {url}: {first.get('Code')}: "
                    f"{first.get('Message', '')} (they are recorded; reading them again "
                    "changes nothing)"
                )

    # -- pacing --------------------------------------------------------------------------
    def wait(self) -> None:
        """Pace before the next message (called before its delivery row is taken)."""
        if self.bucket is not None:
            self.bucket.wait()

    # -- sending -------------------------------------------------------------------------
    def _tags(self, message: Any) -> list[dict[str, str]]:
        tags = dict(self.static_tags)
        if message.role:
            tags["role"] = sanitize_tag(message.role)
        tags["version"] = sanitize_tag(message.version)
        if message.entities:
            tags["entities"] = sanitize_tag("-".join(message.entities))
        return [{"Name": k, "Value": v} for k, v in tags.items()]

    def _calls(self, message: Any) -> list[tuple[list[str], list[str], bytes]]:
        """(To, Bcc, raw MIME) per SendEmail call: at most 50 envelope recipients each, the
        BCC once overall (with the last To chunk), never as a header."""
        to = list(dict.fromkeys(parseaddr(a)[1] or a for a in message.to))
        bcc = [
            b for b in dict.fromkeys(parseaddr(a)[1] or a for a in message.bcc) if b not in set(to)
        ]
        envelope = [(a, "to") for a in to] + [(a, "bcc") for a in bcc]
        if not envelope:
            raise DeliveryError("SES: the message has no recipients")
        chunks = [envelope[i : i + MAX_RECIPIENTS] for i in range(0, len(envelope), MAX_RECIPIENTS)]
        calls = []
        header_to: list[str] = []
        single = len(chunks) == 1
        for chunk in chunks:
            chunk_to = [a for a, kind in chunk if kind == "to"]
            chunk_bcc = [a for a, kind in chunk if kind == "bcc"]
            if single:
                mime = message.as_mime()
            else:
                # each call is its own message: its To header names its own recipients; a
                # BCC-only call carries a copy of the previous one
                header_to = self._header_to(message, chunk_to) or header_to
                mime = message.model_copy(update={"to": header_to}).as_mime()
            if "Bcc" in mime:
                del mime["Bcc"]
            raw = _raw_bytes(mime)
            calls.append((chunk_to, chunk_bcc, raw))
        return calls

    @staticmethod
    def _header_to(message: Any, bare: list[str]) -> list[str]:
        wanted = set(bare)
        return [a for a in message.to if (parseaddr(a)[1] or a) in wanted]

    def send(self, message: Any) -> Any:
        from execreport import Receipt

        calls = self._calls(message)
        for _, _, raw in calls:
            if len(raw) > self.max_bytes:
                raise DeliveryError(
                    f"SES: message {message.role or message.subject!r} is {_size(len(raw))}, "
                    f"over the {_size(self.max_bytes)} SES limit; nothing sent"
                )
        sender = parseaddr(message.sender)[1] or message.sender
        base: dict[str, Any] = {"FromEmailAddress": sender}
        if self.configuration_set:
            base["ConfigurationSetName"] = self.configuration_set
        if self.send_tags:
            base["EmailTags"] = self._tags(message)
        ids: list[str] = []
        for n, (to, bcc, raw) in enumerate(calls):
            destination: dict[str, list[str]] = {}
            if to:
                destination["ToAddresses"] = to
            if bcc:
                destination["BccAddresses"] = bcc
            params = {**base, "Destination": destination, "Content": {"Raw": {"Data": raw}}}
            if n and self.bucket is not None:
                self.bucket.wait()
            try:
                response = self._send_with_retries(params)
                if self.bucket is not None:
                    self.bucket.take(len(to) + len(bcc))
            except DeliveryError as exc:
                if ids:
                    # part of the list already has it: sending again would repeat that part
                    done = ", ".join(ids)
                    raise _uncertain(
                        f"{exc} (after {len(ids)} of {len(calls)} parts were accepted: {done}; "
                        "check before --resend)",
                        stop=exc.stop,
                    ) from None
                raise
            ids.append(str(response.get("MessageId", "")))
        return Receipt(
            sender=self.name,
            message_id=",".join(ids),
            recipients=message.recipients,
            detail=f"{len(calls)} SendEmail call(s) in {self.region}",
        )

    def _send_with_retries(self, params: dict[str, Any]) -> dict[str, Any]:
        start = self.clock()
        attempt = 0
        while True:
            try:
                return self.client.send_email(**params)
            except Exception as exc:
                kind, text = classify(exc)
                if kind == RETRY:
                    delay = self.random() * min(self.retry_cap, self.retry_base * 2**attempt)
                    waited = self.clock() - start
                    if waited + delay > self.max_retry_seconds:
                        raise DeliveryError(
                            f"SES: gave up after {attempt + 1} attempt(s) over {waited:.1f}s "
                            f"in {self.region}: {text}; the rest stays pending, run "
                            "`execreport send` later",
                            stop=True,
                        ) from None
                    self.sleep(delay)
                    attempt += 1
                    continue
                if kind == STOP:
                    raise DeliveryError(
                        f"SES: {text} in {self.region}; the rest stays pending", stop=True
                    ) from None
                if kind == UNCERTAIN:
                    raise _uncertain(
                        f"SES: outcome unknown ({text}); SES may have accepted the message, "
                        "check before --resend"
                    ) from None
                raise DeliveryError(f"SES: {text}") from None


def _raw_bytes(mime: Any) -> bytes:
    """The message as SES and SMTP want it: CRLF line endings."""
    return mime.as_bytes(policy=mime.policy.clone(linesep="\r\n"))


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


@hookimpl
def register_senders(register: Any) -> None:
    register("ses", SESSender)
