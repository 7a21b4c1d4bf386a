"""Entity data folders: entity.toml, ledger.csv, kpis.csv, board.json (docs/data-format.md)."""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import DataError
from .plugin_manager import warn

__all__ = ["FolderSource"]

PROFILE_KEYS = {
    "name",
    "kind",
    "currency",
    "opening_cash",
    "opening_date",
    "assets",
    "stack",
    "channels",
    "kpis",
    "audience",
}
KINDS = ("charter", "junk_removal", "software", "other")


@dataclass
class FolderSource:
    """Loads an entity from its data folder. Built-in entities are FolderSources that add
    what their business must track (`expected_kpis`, `key_channels`)."""

    key: str
    name: str = ""
    kind: str = "other"
    expected_kpis: tuple[str, ...] = ()
    key_channels: tuple[str, ...] = ()
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def load(self, settings: dict[str, Any], as_of: date) -> Any:
        from .ledger import Ledger
        from .models import Entity

        folder = Path(settings["path"])
        if not folder.is_dir():
            where = settings.get("_config_key", f"entities.{self.key}.path")
            raise DataError(f"{where}: entity folder {folder} not found")
        profile = _read_profile(folder / "entity.toml")
        ledger_file = folder / "ledger.csv"
        if not ledger_file.exists():
            raise DataError(f"{ledger_file}: file not found (every entity needs a ledger)")
        ledger = Ledger.from_csv(ledger_file, entity=self.key)
        kind = profile.get("kind", self.kind)
        if kind not in KINDS:
            warn(f"{folder / 'entity.toml'}: kind {kind!r} is not one of {', '.join(KINDS)}")
        data = {
            "key": self.key,
            "name": profile.get("name") or self.name or self.key,
            "kind": kind,
            "currency": profile.get("currency", "USD"),
            "ledger": ledger,
            "assets": profile.get("assets", []),
            "stack": profile.get("stack", []),
            "channels": profile.get("channels", []),
            "kpis": profile.get("kpis", []),
            "kpi_values": _read_kpis(folder / "kpis.csv"),
            "tasks": _read_boards(folder, settings.get("board"), self.key),
            "audience": profile.get("audience", {}),
            "finance": {k: profile[k] for k in ("opening_cash", "opening_date") if k in profile},
            "expected_kpis": list(self.expected_kpis),
            "key_channels": list(self.key_channels),
            "path": str(folder),
        }
        from pydantic import ValidationError

        try:
            return Entity.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"] if p != "finance")
            raise DataError(f"{folder / 'entity.toml'}: {loc}: {err['msg']}") from None


def _read_text(path: Path) -> str:
    """A data file's text; a folder, unreadable file or non-UTF-8 byte is a `DataError`."""
    from .ledger import first_bad_utf8_line, utf8_problem

    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = first_bad_utf8_line(path)
        line, err = bad if bad is not None else (1, exc)
        raise DataError(f"{path}:{line}: {utf8_problem(err)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _key_line(text: str, key: str) -> int:
    """The line of a top-level `key = ...` in a TOML text (1 when not found)."""
    import re

    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            break
        if pattern.match(line):
            return number
    return 1


def _read_profile(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = _read_text(path)
    try:
        profile = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise DataError(f"{path}: not valid TOML: nested too deeply") from None
    for key in sorted(set(profile) - PROFILE_KEYS):
        warn(f"{path}: unknown key {key!r} ignored")
    # the name reaches mail headers (subjects, the From name): one plain line of text
    if "name" in profile:
        from .config import control_character

        name = profile["name"]
        where = f"{path}:{_key_line(text, 'name')}"
        if not isinstance(name, str):
            raise DataError(f"{where}: name must be a string in quotes, not {name!r}")
        bad = control_character(name)
        if bad:
            raise DataError(
                f"{where}: name {name!r} contains a control character ({bad}); use one plain line"
            )
    return profile


def _read_kpis(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = _read_text(path)
    out = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = {"date", "kpi", "value"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{path}:1: missing column {sorted(missing)[0]!r} in the header")
        for row in reader:
            line = reader.line_num
            raw_day, raw_value = row["date"], row["value"]
            if not isinstance(raw_day, str) or not isinstance(raw_value, str):
                raise DataError(f"{path}:{line}: fewer fields than the header has")
            try:
                day = date.fromisoformat(raw_day.strip())
            except ValueError:
                raise DataError(f"{path}:{line}: date {raw_day!r} is not a date") from None
            try:
                value = Decimal(raw_value.strip())
            except InvalidOperation:
                raise DataError(f"{path}:{line}: value {raw_value!r} is not a number") from None
            if not value.is_finite():
                raise DataError(f"{path}:{line}: value {raw_value!r} is not a finite number")
            kpi = row["kpi"]
            out.append(
                {"date": day, "kpi": (kpi if isinstance(kpi, str) else "").strip(), "value": value}
            )
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: cannot read the row: {exc}") from None
    return out


def _read_boards(folder: Path, board: Any, entity: str) -> list[Any]:
    """The entity's cards: `[entities.<key>] board` (a file or a list of files, in any board
    format), else the folder's `board.json`, else its `board.md`."""
    from .boards import read_board  # its parsers load when an entity is read, not at CLI start

    if board:
        paths = [Path(p) for p in (board if isinstance(board, list) else [board])]
    else:
        found = [p for p in (folder / "board.json", folder / "board.md") if p.exists()]
        paths = found[:1]
    return [t for p in paths for t in read_board(p, entity=entity)]
