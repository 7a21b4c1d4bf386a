"""The `outbox` sender: each message as a standard .eml file, the envelope beside it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from execreport import DeliveryError, hookimpl


class OutboxSender:
    """Writes `<role>-v<version>-<recipients hash>.eml` and `.envelope.json` (with the BCC)."""

    name = "outbox"
    # every key of [delivery.outbox], with its default (checked when the config is loaded)
    settings_defaults: dict[str, Any] = {"path": "outbox"}

    def __init__(self, settings: dict[str, Any]) -> None:
        config = settings.get("_config")
        raw = settings.get("path", "outbox")
        self.path = config.resolve(raw) if config is not None else Path(raw)

    def check(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"delivery.outbox.path: cannot create {self.path}: {exc}") from None
        if not os.access(self.path, os.W_OK):
            raise DeliveryError(f"delivery.outbox.path: {self.path} is not writable")

    def send(self, message: Any) -> Any:
        from execreport import Receipt

        mime = message.as_mime()
        who = hashlib.sha256(",".join(sorted(message.to)).encode()).hexdigest()[:8]
        stem = f"{message.role or 'message'}-v{message.version}-{who}"
        data = mime.as_bytes()
        envelope = {
            "mail_from": message.sender,
            "rcpt_to": message.recipients,
            "to": message.to,
            "bcc": message.bcc,
            "message_id": mime["Message-ID"],
            "subject": message.subject,
            "role": message.role,
            "version": message.version,
        }
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # never overwrite: a resend or a second notice to the same people gets its own file
            base, n = stem, 1
            while (self.path / f"{stem}.eml").exists():
                n += 1
                stem = f"{base}-{n}"
            # write then rename: a crash never leaves half a message in the outbox
            for suffix, payload in (
                (".envelope.json", (json.dumps(envelope, indent=2) + "\n").encode()),
                (".eml", data),
            ):
                tmp = self.path / f".{stem}{suffix}.tmp"
                tmp.write_bytes(payload)
                os.replace(tmp, self.path / f"{stem}{suffix}")
        except OSError as exc:
            raise DeliveryError(f"outbox {self.path}: cannot write: {exc}") from None
        return Receipt(
            sender=self.name,
            message_id=str(mime["Message-ID"]),
            recipients=message.recipients,
            detail=str(self.path / f"{stem}.eml"),
        )


@hookimpl
def register_senders(register: Any) -> None:
    register("outbox", OutboxSender)
