"""Kanban boards: four file formats read into the same tasks; actions written as cards.

Formats, recognised by content (and by extension for Markdown):

- the project's `board.json`: `{"cards": [{id, title, column, entity, owner, due, labels,
  action_key}]}`;
- a Trello board JSON export (top-level `lists` and `cards`);
- GitHub Projects items, as `gh project item-list --format json` prints them
  (`{"items": [...], "totalCount": N}`);
- a Markdown kanban as Obsidian's kanban plugin writes it (`## Column` headings,
  `- [ ] card` items).

Every card becomes a `Task` whose `column` is its state: `todo`, `doing` or `done`, and whose
`column_name` is the column as the board names it. A card tracks a report action when it
carries the action's key (`action_key`); `write_actions` adds only cards for keys the board
does not hold yet, so reruns never duplicate a card and never touch a card someone moved.
Reading never changes a file. docs/data-format.md is the reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataError

if TYPE_CHECKING:
    from .models import Action, Task

DONE_COLUMNS = frozenset({"done", "complete", "completed", "closed", "shipped"})
DOING_COLUMNS = frozenset({"doing", "in progress", "in review", "wip"})
# board.json names its column explicitly: only these (and the two sets above) are accepted
TODO_COLUMNS = frozenset({"todo", "to do", "backlog", "open", "new", "next", "not started"})
STATES = ("todo", "doing", "done")

MARKDOWN_SUFFIXES = (".md", ".markdown")
WRITABLE_SUFFIXES = (".json", *MARKDOWN_SUFFIXES)

OBSIDIAN_FRONT_MATTER = "---\n\nkanban-plugin: basic\n\n---\n\n"
OBSIDIAN_SETTINGS = '%% kanban:settings\n```\n{"kanban-plugin":"basic"}\n```\n%%\n'

_KEY = re.compile(r"^[0-9a-f]{12}$")
_INLINE_FIELD = re.compile(r"\[([A-Za-z][\w ]*?)::\s*([^\]]*?)\s*\]")


def column_state(name: str | None) -> str:
    """`done`, `doing` or `todo` for a column name as any board spells it."""
    key = _column_key(name or "")
    if key in DONE_COLUMNS:
        return "done"
    if key in DOING_COLUMNS:
        return "doing"
    return "todo"


def _column_key(name: str) -> str:
    # "In-Progress (3)", "✅ Done", "to_do" → "in progress", "done", "to do"
    name = re.sub(r"\(\d+\)\s*$", "", name)
    return " ".join(re.sub(r"[\W_]+", " ", name.lower()).split())


def action_card_id(key: str) -> str:
    """The id of the card written for the action with `key`."""
    return f"act-{key}"


# -- reading ----------------------------------------------------------------------------
def detect_format(path: Path, text: str) -> str:
    """`project`, `trello`, `github` or `markdown`; a DataError for anything else."""
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return "markdown"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")) or path.suffix.lower() == ".json":
        return _json_format(path, _load_json(path, text))
    if _front_matter(text.splitlines()).get("kanban-plugin") is not None:
        return "markdown"
    raise DataError(f"{path}: {_UNKNOWN}")


_UNKNOWN = (
    "not a known board format: expected the project's board.json "
    '({"cards": [...]}), a Trello board export ("lists" and "cards"), '
    '`gh project item-list --format json` output ("items") or a Markdown kanban '
    "(.md, ## Column headings)"
)


def _json_format(path: Path, data: Any) -> str:
    if isinstance(data, list):
        return "project"
    if isinstance(data, dict):
        if isinstance(data.get("lists"), list) and isinstance(data.get("cards"), list):
            return "trello"
        if isinstance(data.get("items"), list):
            return "github"
        if isinstance(data.get("cards"), list):
            return "project"
    raise DataError(f"{path}: {_UNKNOWN}")


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except RecursionError:
        raise DataError(f"{path}: not a board: JSON nested too deeply") from None
    except ValueError as exc:  # a number of more than 4300 digits, say
        raise DataError(f"{path}: not valid JSON: {exc}") from None


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a board file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the board: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8"
        ) from None


def read_board(path: Path, entity: str | None = None) -> list[Task]:
    """The cards of a board file in any of the four formats, as tasks.

    A missing file is an empty board. `entity` is the default for cards that name none.
    Closed Trello cards and lists, and the Markdown board's archive, are left out.
    """
    path = Path(path)
    if not path.exists():
        return []
    text = _read_text(path)
    if not text.strip():
        return []  # an empty file is an empty board
    kind = detect_format(path, text)
    if kind == "markdown":
        try:
            cards = [c for c in _parse_markdown(path, text).cards if not c.archived]
            return [c.task(entity) for c in cards]
        except DataError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            what = " ".join(str(exc).split())[:200]
            raise DataError(f"{path}: not a valid Markdown board: {what}") from None
    data = _load_json(path, text)
    reader = {"project": _project_cards, "trello": _trello_cards, "github": _github_cards}
    try:
        tasks = reader[kind](path, data, entity)
    except DataError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # a value of the wrong shape deep in a card (an id that is a list, ...)
        what = " ".join(str(exc).split())[:200]
        raise DataError(f"{path}: not a valid {kind} board: {type(exc).__name__}: {what}") from None
    seen: dict[str, int] = {}
    for i, t in enumerate(tasks):
        if t.id in seen:
            raise DataError(f"{path}: card id {t.id!r} is used twice (cards {seen[t.id]} and {i})")
        seen[t.id] = i
    return tasks


def _task(
    where: str,
    *,
    id: Any,
    title: Any,
    column_name: str,
    state: str | None = None,
    entity: Any = None,
    owner: Any = None,
    due: Any = None,
    labels: Any = None,
    action_key: Any = None,
    extra: dict[str, Any] | None = None,
) -> Task:
    """`where` names the card for errors: `file: cards[3]` or `file:12`."""
    if id is None or str(id).strip() == "":
        raise DataError(f"{where}: a card needs an id")
    where = f"{where} ({id})"
    if not isinstance(title, str) or not title.strip():
        raise DataError(f"{where}: a card needs a title")
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise DataError(f"{where}: labels must be a list of strings")
    for name, value in (("entity", entity), ("owner", owner), ("action_key", action_key)):
        if value is not None and not isinstance(value, str):
            raise DataError(f"{where}: {name} must be text, not {value!r}")
    from .models import Task

    return Task.model_validate(
        {
            **(extra or {}),
            "id": str(id).strip(),
            "title": " ".join(title.split()),
            "column": state or column_state(column_name),
            "column_name": column_name,
            "entity": entity or None,
            "owner": owner or "",
            "due": _date(where, due),
            "labels": labels,
            "action_key": (action_key or "").strip() or None,
        }
    )


def _date(where: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > 10:  # an ISO datetime (Trello): the day it names, in UTC
                return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise DataError(f"{where}: due {value!r} is not a date (YYYY-MM-DD)")


def _inline_fields(*texts: Any) -> dict[str, str]:
    """`[key:: value]` fields (Dataview's inline syntax) in card text, keys normalised."""
    found: dict[str, str] = {}
    for text in texts:
        if isinstance(text, str):
            for key, value in _INLINE_FIELD.findall(text):
                found.setdefault(_field_key(key), value)
    return found


def _field_key(name: str) -> str:
    # "Action key", "action_key", "actionKey" → "actionkey"
    return re.sub(r"[\W_]+", "", name.lower())


# the project's board.json ----------------------------------------------------------------
_PROJECT_FIELDS = {"id", "title", "column", "status", "entity", "owner", "due", "labels"}


def _project_cards(path: Path, data: Any, entity: str | None) -> list[Task]:
    cards = data if isinstance(data, list) else data["cards"]
    out = []
    for i, card in enumerate(cards):
        where = f"cards[{i}]"
        if not isinstance(card, dict):
            raise DataError(f"{path}: {where}: a card is an object, not {card!r}")
        raw = card.get("column", card.get("status"))
        if raw is None:
            column_name = "todo"
        else:
            key = _column_key(raw) if isinstance(raw, str) else ""
            if key not in DONE_COLUMNS | DOING_COLUMNS | TODO_COLUMNS:
                known = ", ".join(sorted(DONE_COLUMNS | DOING_COLUMNS | TODO_COLUMNS))
                raise DataError(
                    f"{path}: {where} ({card.get('id')}): column {raw!r} is not a known "
                    f"column; use todo, doing or done (or one of: {known})"
                )
            column_name = raw
        out.append(
            _task(
                f"{path}: {where}",
                id=card.get("id"),
                title=card.get("title"),
                column_name=column_name,
                entity=card.get("entity") or entity,
                owner=card.get("owner"),
                due=card.get("due"),
                labels=card.get("labels"),
                action_key=card.get("action_key"),
                # the card's other fields travel along: reading loses nothing
                extra={k: v for k, v in card.items() if k not in _PROJECT_FIELDS},
            )
        )
    return out


# a Trello export --------------------------------------------------------------------------
def _trello_cards(path: Path, data: dict[str, Any], entity: str | None) -> list[Task]:
    lists = {lst.get("id"): lst for lst in data["lists"] if isinstance(lst, dict)}
    custom = {f.get("id"): f for f in data.get("customFields") or [] if isinstance(f, dict)}
    out = []
    for i, card in enumerate(data["cards"]):
        where = f"cards[{i}]"
        if not isinstance(card, dict):
            raise DataError(f"{path}: {where}: a card is an object, not {card!r}")
        if card.get("closed"):
            continue
        lst = lists.get(card.get("idList"))
        if lst is None:
            raise DataError(
                f"{path}: {where} ({card.get('id')}): list {card.get('idList')!r} is not "
                "among the export's lists"
            )
        if lst.get("closed"):
            continue
        fields = _trello_custom_fields(card, custom)
        inline = _inline_fields(card.get("desc"))
        column_name = str(lst.get("name") or "")
        labels = [
            str(label.get("name") or label.get("color") or "")
            for label in card.get("labels") or []
            if isinstance(label, dict) and (label.get("name") or label.get("color"))
        ]
        out.append(
            _task(
                f"{path}: {where}",
                id=card.get("id") or card.get("idShort"),
                title=card.get("name"),
                column_name=column_name,
                # a due date ticked complete is a done card, whatever its list
                state="done" if card.get("dueComplete") else None,
                entity=_pick(fields, inline, "entity") or entity,
                owner=_pick(fields, inline, "owner"),
                due=card.get("due"),
                labels=labels,
                action_key=_pick(fields, inline, "actionkey"),
            )
        )
    return out


def _trello_custom_fields(card: dict[str, Any], custom: dict[Any, Any]) -> dict[str, str]:
    """A card's custom field values by normalised field name (text and list fields)."""
    out: dict[str, str] = {}
    for item in card.get("customFieldItems") or []:
        definition = custom.get(item.get("idCustomField"))
        if not definition:
            continue
        value = (item.get("value") or {}).get("text")
        if value is None and item.get("idValue"):
            for option in definition.get("options") or []:
                if option.get("id") == item["idValue"]:
                    value = (option.get("value") or {}).get("text")
        if isinstance(value, str):
            out[_field_key(str(definition.get("name", "")))] = value
    return out


def _pick(fields: dict[str, Any], inline: dict[str, str], key: str) -> Any:
    value = fields.get(key)
    return value if value not in (None, "") else inline.get(key)


# GitHub Projects items ------------------------------------------------------------------
_GITHUB_DUE = ("due", "duedate", "deadline", "targetdate")


def _github_cards(path: Path, data: dict[str, Any], entity: str | None) -> list[Task]:
    out = []
    for i, item in enumerate(data["items"]):
        where = f"items[{i}]"
        if not isinstance(item, dict):
            raise DataError(f"{path}: {where}: an item is an object, not {item!r}")
        # gh names each project field after the field (first letter lower-cased)
        fields = {_field_key(k): v for k, v in item.items()}
        content: dict[str, Any] = item["content"] if isinstance(item.get("content"), dict) else {}
        inline = _inline_fields(content.get("body"))
        labels = fields.get("labels")
        if isinstance(labels, str):
            labels = [x.strip() for x in labels.split(",") if x.strip()]
        due = next((fields[k] for k in _GITHUB_DUE if fields.get(k)), None)
        status = fields.get("status")
        out.append(
            _task(
                f"{path}: {where}",
                id=item.get("id"),
                title=item.get("title") or content.get("title"),
                column_name=str(status) if status else "No Status",
                entity=_pick(fields, inline, "entity") or entity,
                owner=_pick(fields, inline, "owner"),
                due=due,
                labels=labels,
                action_key=_pick(fields, inline, "actionkey"),
            )
        )
    return out


# a Markdown kanban ----------------------------------------------------------------------
_ITEM = re.compile(r"^[-*+] (?:\[(.)\](?: |$))?(.*?)\s*$")
_HEADING = re.compile(r"^## +(.*?)\s*$")
_BLOCK_ID = re.compile(r"\s\^([A-Za-z0-9-]+)$")
_DUE = re.compile(r"(?<!@)@\{([^}]*)\}|(?<!@)@\[\[(\d{4}-\d{2}-\d{2})\]\]|📅\s*(\S+)")
_TIME = re.compile(r"@@\{[^}]*\}")
_TAG = re.compile(r"(?<!\S)#([\w/-]+)")


def _tags(text: str) -> list[str]:
    # "#12" is an issue number, not a tag (Obsidian wants a non-digit in a tag)
    return list(dict.fromkeys(t for t in _TAG.findall(text) if not t.isdigit()))


@dataclass
class _Card:
    path: Path
    line: int  # 1-based
    checked: bool
    column_name: str
    archived: bool
    id: str = ""
    title: str = ""
    due: str | None = None
    labels: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def action_key(self) -> str | None:
        return self.fields.get("actionkey") or _key_from_id(self.id)

    def task(self, entity: str | None) -> Task:
        return _task(
            f"{self.path}:{self.line}",
            id=self.id,
            title=self.title,
            column_name=self.column_name,
            # a ticked item is done, whatever its column
            state="done" if self.checked else None,
            entity=self.fields.get("entity") or entity,
            owner=self.fields.get("owner"),
            due=self.due,
            labels=self.labels,
            action_key=self.action_key,
        )


def _key_from_id(card_id: str) -> str | None:
    # cards written by write_actions carry the action key in their block id, which the
    # kanban plugin keeps hidden and unchanged when a card is edited or moved
    key = card_id.removeprefix("act-")
    return key if card_id.startswith("act-") and _KEY.match(key) else None


@dataclass
class _Lane:
    name: str
    heading: int  # 0-based index of the "## name" line
    end: int  # index just after the lane's last card (or its heading / **Complete** line)
    archive: bool = False
    cards: int = 0


@dataclass
class _Markdown:
    lines: list[str]  # with their line endings
    cards: list[_Card]
    lanes: list[_Lane]
    body_start: int  # the first line after the front matter
    trailer: int  # where the archive ("***") or the settings block begins, else len(lines)


def _front_matter(lines: list[str]) -> dict[str, str]:
    if not lines or lines[0].strip() != "---":
        return {}
    out: dict[str, str] = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return out
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return {}


def _parse_markdown(path: Path, text: str) -> _Markdown:
    lines = text.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    start = 0
    if bare and bare[0].strip() == "---":
        close = next((i for i in range(1, len(bare)) if bare[i].strip() == "---"), None)
        if close is None:
            raise DataError(f"{path}:1: the front matter (---) is never closed")
        start = close + 1
    cards: list[_Card] = []
    lanes: list[_Lane] = []
    lane: _Lane | None = None
    rule: int | None = None  # the last "***" line, when only blank lines followed it
    trailer = len(lines)
    card_end = -1  # the index just after the last card's lines
    for i in range(start, len(bare)):
        line = bare[i]
        if line.startswith("%% kanban:settings"):
            trailer = min(trailer, rule if rule is not None else i)
            break
        heading = _HEADING.match(line)
        if heading:
            name = heading.group(1)
            # the plugin writes archived cards under "***" then "## Archive"
            archive = rule is not None and name.lower() == "archive"
            if rule is not None and archive:
                trailer = min(trailer, rule)
            lane = _Lane(name, i, i + 1, archive=archive)
            lanes.append(lane)
            rule = None
            continue
        if line.strip() in ("***", "---", "___", "* * *"):
            rule = i
            continue
        if not line.strip():
            continue
        rule = None
        if lane is not None and line.strip() == "**Complete**" and lane.end == lane.heading + 1:
            lane.end = i + 1
            continue
        if line[:1] in (" ", "\t") and i == card_end and cards:
            # an indented line continues the card above (a sub-item, a second line)
            cards[-1].fields = {**_inline_fields(line), **cards[-1].fields}
            card_end = i + 1
            if lane is not None:
                lane.end = i + 1
            continue
        item = _ITEM.match(line)
        if not item:
            continue
        if lane is None:
            raise DataError(
                f'{path}:{i + 1}: a card outside any column; put it under a "## Column" heading'
            )
        card = _card(path, i + 1, item.group(2), item.group(1), lane)
        card_end = lane.end = i + 1
        if card is not None:
            cards.append(card)
            lane.cards += 1
    _fallback_ids(path, cards)
    return _Markdown(lines, cards, lanes, start, trailer)


def _card(path: Path, line: int, text: str, check: str | None, lane: _Lane) -> _Card | None:
    if not text.strip():
        return None  # an empty item holds nothing to track
    card = _Card(
        path=path,
        line=line,
        checked=(check or " ").lower() == "x",
        column_name=lane.name,
        archived=lane.archive,
    )
    block = _BLOCK_ID.search(" " + text)
    if block:
        card.id = block.group(1)
        text = _BLOCK_ID.sub("", " " + text).strip()
    card.fields = _inline_fields(text)
    due = _DUE.search(text)
    if due:
        card.due = next(g for g in due.groups() if g is not None).strip()
    # the plugin writes a multi-line card on one line, joined by <br>: the first is the title
    first = text.split("<br>", 1)[0]
    card.labels = _tags(text)
    title = _INLINE_FIELD.sub(" ", first)
    title = _TIME.sub(" ", title)
    title = _DUE.sub(" ", title)
    title = _TAG.sub(lambda m: m.group(0) if m.group(1).isdigit() else " ", title)
    card.title = " ".join(title.split())
    if not card.title:
        card.title = " ".join(_TAG.sub(" ", _INLINE_FIELD.sub(" ", text)).split()) or text
    return card


def _fallback_ids(path: Path, cards: list[_Card]) -> None:
    """A card without a `^id` gets `md-<hash of its title>`: stable while its title is."""
    explicit: dict[str, int] = {}
    for c in cards:
        if c.id:
            if c.id in explicit:
                raise DataError(
                    f"{path}:{c.line}: card id ^{c.id} is used twice (lines {explicit[c.id]} "
                    f"and {c.line})"
                )
            explicit[c.id] = c.line
    taken = set(explicit)
    for c in cards:
        if c.id:
            continue
        base = "md-" + hashlib.sha256(c.title.lower().encode()).hexdigest()[:10]
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        c.id = candidate
        taken.add(candidate)


# -- writing ----------------------------------------------------------------------------
def board_keys(path: Path) -> set[str]:
    """Every action key a board file holds, archived cards included."""
    path = Path(path)
    if not path.exists():
        return set()
    text = _read_text(path)
    if not text.strip():
        return set()
    kind = _writable_format(path, text)
    if kind == "markdown":
        return {k for c in _parse_markdown(path, text).cards if (k := c.action_key)}
    return {k for t in read_board(path) if (k := getattr(t, "action_key", None))}


def _writable_format(path: Path, text: str) -> str:
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise DataError(
            f"{path}: the kanban sender writes a .json board (the project's format) or a "
            ".md Markdown kanban, not {path.suffix or 'a file without extension'}"
        )
    kind = detect_format(path, text)
    if kind in ("trello", "github"):
        name = "a Trello export" if kind == "trello" else "GitHub Projects items"
        raise DataError(
            f"{path}: is {name}; the kanban sender writes only the project's board.json "
            "or a Markdown kanban"
        )
    return kind


def write_actions(
    path: Path,
    actions: Iterable[Action],
    *,
    role: str,
    entity_names: dict[str, str] | None = None,
    column: str = "Todo",
) -> tuple[int, int]:
    """Add a card for each action whose key is not on the board yet; `(added, already there)`.

    A `.json` board gets cards in the project's format, a `.md` board gets Markdown kanban
    items in `column` (the first to-do column when there is none of that name). Cards already
    on the board are never rewritten, whatever column they moved to; the rest of the file is
    kept byte for byte. The file is replaced atomically, and created when missing.
    """
    path = Path(path)
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        _writable_format(path, "")
    entity_names = entity_names or {}
    unique: dict[str, Action] = {}
    for a in actions:
        unique.setdefault(a.key, a)
    for _attempt in range(3):
        before = path.read_bytes() if path.exists() else None
        text = before.decode("utf-8-sig") if before is not None else None
        if text is not None and text.strip():
            _writable_format(path, text)
        present = board_keys(path) if text is not None else set()
        new = [a for k, a in unique.items() if k not in present]
        kept = len(unique) - len(new)
        if not new:
            return 0, kept
        markdown = path.suffix.lower() in MARKDOWN_SUFFIXES
        if markdown:
            out = _markdown_with(path, text, new, role, column)
        else:
            out = _json_with(path, text, [_json_card(a, role, entity_names) for a in new])
        bom = b"\xef\xbb\xbf" if before is not None and before.startswith(b"\xef\xbb\xbf") else b""
        if _replace(path, bom + out.encode("utf-8"), expect=before):
            return len(new), kept
    raise DataError(f"{path}: the board kept changing while cards were added; run again")


def _replace(path: Path, data: bytes, *, expect: bytes | None) -> bool:
    """Write `data` to a temporary file and rename it over `path`, unless `path` changed
    since it was read (someone saved the board meanwhile): then False, nothing written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        current = path.read_bytes() if path.exists() else None
        if current != expect:
            tmp.unlink()
            return False
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def _json_card(action: Action, role: str, entity_names: dict[str, str]) -> dict[str, Any]:
    labels = [role] + ([str(action.severity)] if str(action.severity) != "info" else [])
    where = entity_names.get(action.entity or "", action.entity or "all entities")
    return {
        "id": action_card_id(action.key),
        "title": action.title,
        "column": "todo",
        "entity": action.entity,
        "owner": action.owner,
        "due": action.due.isoformat() if action.due else None,
        "labels": list(dict.fromkeys(x for x in labels if x)),
        "action_key": action.key,
        "note": f"From the {role} report ({where}).",
    }


def _json_with(path: Path, text: str | None, cards: list[dict[str, Any]]) -> str:
    if text is None or not text.strip():
        return json.dumps({"cards": cards}, indent=2, ensure_ascii=False) + "\n"
    data = json.loads(text)
    start, end = _cards_array(text)
    inner = text[start + 1 : end]
    if "\n" in text[start : end + 1] or (not inner.strip() and "\n" in text.strip()):
        if inner.strip():
            lead = inner[: len(inner) - len(inner.lstrip())]
            indent = lead.rsplit("\n", 1)[-1]
            first = inner.lstrip()
            unit = _indent_unit(first, indent)
        else:
            line_start = text.rfind("\n", 0, start) + 1
            outer = re.match(r"[ \t]*", text[line_start:]).group(0)  # type: ignore[union-attr]
            indent, unit = outer + "  ", 2
        nl = "\r\n" if "\r\n" in text else "\n"
        dumped = [_dump(c, unit).replace("\n", nl + indent) for c in cards]
        last = start + 1 + len(inner.rstrip())
        if inner.strip():
            insert = "".join(f",{nl}{indent}{d}" for d in dumped)
            out = text[:last] + insert + text[last:]
        else:
            closing = text[text.rfind("\n", 0, start) + 1 : start]
            closing = re.match(r"[ \t]*", closing).group(0)  # type: ignore[union-attr]
            body = f",{nl}{indent}".join(dumped)
            out = text[: start + 1] + f"{nl}{indent}{body}{nl}{closing}" + text[end:]
    else:
        dumped = [json.dumps(c, ensure_ascii=False) for c in cards]
        last = start + 1 + len(inner.rstrip())
        sep = ", " if inner.strip() else ""
        out = text[:last] + sep + ", ".join(dumped) + text[last:]
    # the insertion must give the same document plus the new cards; if not, say so loudly
    before = data if isinstance(data, list) else data.get("cards")
    after = json.loads(out)
    after_cards = after if isinstance(after, list) else after.get("cards")
    if after_cards != [*before, *cards]:
        raise DataError(f"{path}: could not add cards without changing the file's other content")
    return out


def _dump(card: dict[str, Any], unit: int) -> str:
    if unit <= 0:
        return json.dumps(card, ensure_ascii=False)
    return json.dumps(card, indent=unit, ensure_ascii=False)


def _indent_unit(first_element: str, indent: str) -> int:
    """How far the existing cards indent their fields (0: one card per line)."""
    lines = first_element.split("\n", 2)
    if not first_element.startswith("{") or len(lines) < 2:
        return 0
    inner = lines[1]
    width = len(inner) - len(inner.lstrip(" \t"))
    return max(width - len(indent), 1)


def _cards_array(text: str) -> tuple[int, int]:
    """Offsets of the `[` and `]` of the cards array: the top level, or the "cards" value."""
    i = _skip_ws(text, 0)
    if text[i] == "[":
        return i, _value_end(text, i) - 1
    span = None
    i += 1
    while True:
        i = _skip_ws(text, i)
        if text[i] == "}":
            break
        key_end = _value_end(text, i)
        key = json.loads(text[i:key_end])
        i = _skip_ws(text, key_end) + 1  # past ':'
        i = _skip_ws(text, i)
        value_end = _value_end(text, i)
        if key == "cards":
            span = (i, value_end - 1)  # json.loads keeps the last of duplicate keys
        i = _skip_ws(text, value_end)
        if text[i] == ",":
            i += 1
    assert span is not None
    return span


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n\ufeff":
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    """The offset just after the JSON value starting at `i` (the text is valid JSON)."""
    ch = text[i]
    if ch == '"':
        j = i + 1
        while text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if ch in "[{":
        depth, j = 0, i
        while True:
            c = text[j]
            if c == '"':
                j = _value_end(text, j)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
    j = i
    while j < len(text) and text[j] not in ",]} \t\r\n":
        j += 1
    return j


def _tag(text: str) -> str:
    return "#" + re.sub(r"[^\w/-]+", "-", text)


def _markdown_line(action: Action, role: str) -> str:
    parts = ["- [ ]", " ".join(action.title.replace("<br>", " ").split())]
    if action.due:
        parts.append(f"@{{{action.due.isoformat()}}}")
    tags = [role] + ([str(action.severity)] if str(action.severity) != "info" else [])
    parts += [_tag(t) for t in dict.fromkeys(tags) if t]
    if action.owner:
        parts.append(f"[owner:: {action.owner}]")
    if action.entity:
        parts.append(f"[entity:: {action.entity}]")
    parts.append(f"^{action_card_id(action.key)}")
    return " ".join(parts)


def _new_markdown_board(column: str, items: list[str]) -> str:
    """A board as the kanban plugin writes a new one: front matter, lanes, settings."""
    lanes = [(column, items)]
    for name in ("Doing", "Done"):
        if column_state(name) != column_state(column):
            lanes.append((name, []))
    out = OBSIDIAN_FRONT_MATTER
    for name, cards in lanes:
        complete = "**Complete**\n" if column_state(name) == "done" else ""
        out += f"## {name}\n\n{complete}" + "".join(f"{x}\n" for x in cards) + "\n\n\n"
    return out + "\n\n" + OBSIDIAN_SETTINGS


def _markdown_with(
    path: Path, text: str | None, actions: list[Action], role: str, column: str
) -> str:
    items = [_markdown_line(a, role) for a in actions]
    if text is None or not text.strip():
        return _new_markdown_board(column, items)
    doc = _parse_markdown(path, text)
    lines = list(doc.lines)
    nl = "\r\n" if lines[0].endswith("\r\n") else "\n"
    new = [x + nl for x in items]
    lanes = [lane for lane in doc.lanes if not lane.archive]
    wanted = _column_key(column)
    target = next((lane for lane in lanes if _column_key(lane.name) == wanted), None)
    if target is None:
        target = next((lane for lane in lanes if column_state(lane.name) == "todo"), None)
    if target is None:
        # no column to add to: a new one, before the others
        at = lanes[0].heading if lanes else doc.trailer
        block = [f"## {column}{nl}", nl, *new, nl, nl]
        if at > doc.body_start and lines[at - 1].strip():
            block.insert(0, nl)
        _terminate(lines, at, nl)
        return "".join(lines[:at] + block + lines[at:])
    at = target.end
    if target.cards == 0 and at == target.heading + 1:
        # an empty lane: "## Todo", a blank line, then the cards
        if at < len(lines) and not lines[at].strip():
            at += 1
        else:
            new.insert(0, nl)
        if at < len(lines) and lines[at].strip():
            new.append(nl)
    _terminate(lines, at, nl)
    return "".join(lines[:at] + new + lines[at:])


def _terminate(lines: list[str], at: int, nl: str) -> None:
    """The line before an insertion point must end with a newline."""
    if 0 < at <= len(lines) and not lines[at - 1].endswith("\n"):
        lines[at - 1] += nl
