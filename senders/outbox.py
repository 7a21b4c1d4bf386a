"""The `outbox` sender: each message as a standard .eml file, the envelope beside it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
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

    def _free_stem(self, stem: str) -> str:
        """`stem`, or `stem-2`, `stem-3`, ...: never overwrite a file (a resend or a second
        notice to the same people gets its own); a link at a final name is refused."""
        base, n = stem, 1
        while True:
            taken = False
            for suffix in (".eml", ".envelope.json"):
                target = self.path / f"{stem}{suffix}"
                if target.is_symlink():
                    raise DeliveryError(
                        f"outbox {self.path}: {target.name} is a symbolic link; the outbox "
                        "never writes through a link it did not make: remove it"
                    )
                taken = taken or os.path.lexists(target)
            if not taken:
                return stem
            n += 1
            stem = f"{base}-{n}"

    def _write_new(self, name: str, payload: bytes) -> None:
        """Write `payload` to a fresh temp file with an unpredictable name (created with
        O_EXCL|O_NOFOLLOW, so a planted link is never followed), flush it to disk, then link
        it to `name` without replacing anything there. A failure (a full disk) removes the
        temp file: no half-written file is left."""
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            # link() fails if `name` exists (a file or a link): nothing is overwritten
            target = self.path / name
            try:
                os.link(tmp, target, follow_symlinks=False)
            except FileExistsError:
                raise
            except OSError as exc:  # a file system without hard links
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                    raise
                if os.path.lexists(target):
                    raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
                os.rename(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

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
            stem = self._free_stem(stem)
            # the envelope goes last: an envelope always has its message beside it
            self._write_new(f"{stem}.eml", data)
            try:
                self._write_new(
                    f"{stem}.envelope.json", (json.dumps(envelope, indent=2) + "\n").encode()
                )
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(self.path / f"{stem}.eml")
                raise
        except FileExistsError as exc:
            raise DeliveryError(
                f"outbox {self.path}: {exc.filename or 'a file'} appeared while writing; "
                "is another process writing this outbox?"
            ) from None
        except OSError as exc:
            raise DeliveryError(
                f"outbox {self.path}: cannot write: {exc.strerror or exc}"
            ) from None
        return Receipt(
            sender=self.name,
            message_id=str(mime["Message-ID"]),
            recipients=message.recipients,
            detail=str(self.path / f"{stem}.eml"),
        )


@hookimpl
def register_senders(register: Any) -> None:
    register("outbox", OutboxSender)
