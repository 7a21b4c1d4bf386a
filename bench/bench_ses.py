"""Benchmark: the `ses` sender's overhead against a bare boto3 loop (not a timed test).

Sends N messages (default 3,676: the charter's email list) through `SESSender` with pacing
off, and the same messages through a bare `sesv2.send_email` loop, both against moto in
process, and prints both timings and their ratio. The target is a ratio within 1.25x.

    python bench/bench_ses.py [--messages 3676] [--repeat 3]

Each loop builds the MIME of every message itself (`Message.as_mime()`), as any sender must;
the best of `--repeat` rounds is reported for each, in alternating order.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

REGION = "us-west-2"
FROM = "reports@example.com"


def messages(n: int) -> list[Any]:
    from execreport import Message

    text = "Quarterly update.\n\n" + "\n".join(f"- item {i}: all good" for i in range(40))
    html = "<h1>Quarterly update</h1>" + "".join(f"<p>item {i}: all good</p>" for i in range(40))
    return [
        Message(
            sender=FROM,
            to=[f"member{i:05d}@example.com"],
            subject="JADA charter news: Q1 2025",
            text=text,
            html=html,
            role="newsletter",
            version=1,
            entities=["jada"],
        )
        for i in range(n)
    ]


def verify() -> None:
    import boto3

    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")


def sent_count() -> int:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def with_sender(batch: list[Any]) -> float:
    from execreport.config import Config
    from execreport.senders.ses import SESSender
    from moto import mock_aws

    config = Config.model_validate({"delivery": {"from": FROM, "sender": "ses"}})
    with mock_aws():
        verify()
        sender = SESSender({"region": REGION, "max_send_rate": "off", "_config": config})
        sender.check()
        start = time.perf_counter()
        for message in batch:
            sender.wait()
            sender.send(message)
        elapsed = time.perf_counter() - start
        assert sent_count() == len(batch)
    return elapsed


def bare_loop(batch: list[Any]) -> float:
    import boto3
    from moto import mock_aws

    with mock_aws():
        verify()
        client = boto3.client("sesv2", region_name=REGION)
        start = time.perf_counter()
        for message in batch:
            client.send_email(
                FromEmailAddress=message.sender,
                Destination={"ToAddresses": message.to},
                Content={"Raw": {"Data": message.as_mime().as_bytes()}},
            )
        elapsed = time.perf_counter() - start
        assert sent_count() == len(batch)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3676)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)

    batch = messages(args.messages)
    with_sender(batch[:50])  # warm up imports and moto's models
    bare_loop(batch[:50])
    framework, bare = [], []
    for round_ in range(args.repeat):
        if round_ % 2:
            bare.append(bare_loop(batch))
            framework.append(with_sender(batch))
        else:
            framework.append(with_sender(batch))
            bare.append(bare_loop(batch))
    f, b = min(framework), min(bare)
    n = len(batch)
    print(f"messages:        {n}")
    print(f"SESSender:       {f:7.2f} s  ({f / n * 1000:.2f} ms/message)")
    print(f"bare boto3 loop: {b:7.2f} s  ({b / n * 1000:.2f} ms/message)")
    print(f"ratio:           {f / b:.3f}x  (target: within 1.25x)")


if __name__ == "__main__":
    main()
