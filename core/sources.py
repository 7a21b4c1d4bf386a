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
        if settings.get("ledger"):
            ledger = Ledger.from_files(
                ledger_files(settings, folder, self.key),
                entity=self.key,
                accounts=_accounts(settings, self.key),
                where=f"entities.{self.key}.accounts",
            )
            from .formats.combine import unmapped
            from .plugin_manager import warn as _warn

            for name, n, total in unmapped(ledger._con, ledger.schema):
                _warn(
                    f"entities.{self.key}: account {name!r} is not mapped: {n} rows, total "
                    f"{total}, kept as uncategorized (map it in [entities.{self.key}.accounts])"
                )
        else:
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


SOURCE_KEYS = ("ledger", "format", "accounts", "bank_csv")
FILE_KEYS = (
    "path",
    "format",
    "sheet",
    "date_format",
    "date",
    "amount",
    "debit",
    "credit",
    "description",
    "skip",
)


def ledger_files(settings: dict[str, Any], folder: Path, key: str) -> list[Any]:
    """`[entities.<key>] ledger`: a file or a list of files (or of tables with `path`,
    `format` and a bank CSV's columns), relative to the config file's folder (else to the
    entity folder); `format` and `[entities.<key>.bank_csv]` apply to every file."""
    from .errors import ConfigError
    from .formats.combine import FileSpec

    raw = settings["ledger"]
    items = raw if isinstance(raw, list) else [raw]
    base = Path(settings.get("_config_dir") or folder)
    common = dict(settings.get("bank_csv") or {})
    forced = settings.get("format")
    out = []
    for i, item in enumerate(items):
        where = f"entities.{key}.ledger" + (f"[{i}]" if isinstance(raw, list) else "")
        opts = dict(common)
        if isinstance(item, dict):
            for k in item:
                if k not in FILE_KEYS:
                    raise ConfigError(f"{where}: unknown key {k!r}; use {', '.join(FILE_KEYS)}")
            opts.update(item)
            item = item.get("path")
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}: must be a file path in quotes (or a table with path)")
        path = Path(item)
        if not path.is_absolute():
            path = (
                base / item
                if (base / item).exists() or not (folder / item).exists()
                else folder / item
            )
        fmt = opts.pop("format", None) or forced
        opts["_where"] = where if isinstance(items[i], dict) else f"entities.{key}.bank_csv"
        out.append(FileSpec(path=path, format=fmt, options=opts, where=where + ".format"))
    return out


def _accounts(settings: dict[str, Any], key: str) -> dict[str, Any]:
    from .errors import ConfigError

    accounts = settings.get("accounts") or {}
    if not isinstance(accounts, dict):
        raise ConfigError(f'entities.{key}.accounts: must be a table of name = "NNNN"')
    return accounts


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
