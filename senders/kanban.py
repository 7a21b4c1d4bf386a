"""The `kanban` sender: each report's actions become cards on a board file, once each.

```toml
[delivery]
sender = ["outbox", "kanban"]

[delivery.kanban]
board = "boards/actions.md"   # .json (the project's board.json) or .md (Markdown kanban)
column = "Todo"               # optional: the Markdown column new cards go to
```
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from execreport import DeliveryError, hookimpl


class KanbanSender:
    """Adds a card per action not yet on the board (by the action's key); never edits one."""

    name = "kanban"
    # every key of [delivery.kanban], with its default (checked when the config is loaded)
    settings_defaults: dict[str, Any] = {"board": "", "column": "Todo"}
    # a notice to the owner (a stopped run) has no actions: it must go by mail, not here
    accepts_notices = False

    def __init__(self, settings: dict[str, Any]) -> None:
        config = settings.get("_config")
        raw = settings.get("board")
        self.where = "delivery.kanban.board"
        if config is not None and getattr(config, "path", None):
            self.where = f"{config.path}: {self.where}"
        self.path: Path | None = None
        if isinstance(raw, str) and raw.strip():
            self.path = config.resolve(raw) if config is not None else Path(raw)
        self.column = str(settings.get("column") or "Todo")

    def check(self) -> None:
        """The board's format is one the sender writes, it reads cleanly, its folder is
        writable."""
        from execreport.boards import WRITABLE_SUFFIXES, board_keys
        from execreport.errors import DataError

        if self.path is None:
            raise DeliveryError(f'{self.where}: no board file; set board = "board.json"')
        if self.path.suffix.lower() not in WRITABLE_SUFFIXES:
            raise DeliveryError(
                f"{self.where}: {self.path}: the kanban sender writes a .json board (the "
                "project's board.json format) or a .md Markdown kanban"
            )
        folder = self.path.parent
        if not folder.is_dir():
            raise DeliveryError(f"{self.where}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise DeliveryError(f"{self.where}: folder {folder} is not writable")
        if self.path.exists():
            if not os.access(self.path, os.R_OK | os.W_OK):
                raise DeliveryError(f"{self.where}: {self.path} is not readable and writable")
            try:
                board_keys(self.path)
            except DataError as exc:
                raise DeliveryError(f"{self.where}: {exc}") from None

    def send(self, message: Any) -> Any:
        from execreport import Receipt
        from execreport.boards import write_actions
        from execreport.errors import DataError

        if self.path is None:
            raise DeliveryError(f'{self.where}: no board file; set board = "board.json"')
        actions = list(getattr(message, "actions", None) or [])
        try:
            added, kept = write_actions(
                self.path,
                actions,
                role=message.role or "report",
                entity_names=getattr(message, "entity_names", None) or {},
                column=self.column,
            )
        except DataError as exc:
            raise DeliveryError(f"kanban: {exc}") from None
        except OSError as exc:
            raise DeliveryError(f"kanban: {self.path}: cannot write: {exc}") from None
        return Receipt(
            sender=self.name,
            message_id=f"kanban:{self.path.name}:{added}+{kept}",
            recipients=[],
            detail=f"{self.path}: {added} card(s) added, {kept} already on the board",
        )


@hookimpl
def register_senders(register: Any) -> None:
    register("kanban", KanbanSender)
