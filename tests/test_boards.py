"""Kanban boards: four formats read into the same tasks; actions written once as cards."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from execreport import Action
from execreport.boards import action_card_id, column_state, read_board, write_actions
from execreport.errors import DataError

KEY = "0123456789ab"

# one board, four formats: Backlog / Todo / In progress / Done, four cards
PROJECT = {
    "cards": [
        {
            "id": "c1",
            "title": "Renew hull insurance",
            "column": "Todo",
            "entity": "jada",
            "owner": "ceo",
            "due": "2025-04-15",
            "labels": ["insurance", "risk"],
            "action_key": KEY,
        },
        {
            "id": "c2",
            "title": "Claim the GetMyBoat listing",
            "column": "In progress",
            "entity": "jada",
            "owner": "cmo",
            "labels": ["marketing"],
        },
        {
            "id": "c3",
            "title": "Turn on MFA for the booking site",
            "column": "Done",
            "entity": "quickdumpnow",
            "owner": "cto",
            "due": "2025-03-01",
            "labels": [],
        },
        {
            "id": "c4",
            "title": "Reconcile February card fees",
            "column": "Backlog",
            "owner": "accounting",
            "labels": ["books"],
        },
    ]
}

TRELLO = {
    "id": "65f0c0ffee0000000000b0a4",
    "name": "Executive actions",
    "closed": False,
    "lists": [
        {"id": "L0", "name": "Backlog", "closed": False, "pos": 1},
        {"id": "L1", "name": "Todo", "closed": False, "pos": 2},
        {"id": "L2", "name": "In progress", "closed": False, "pos": 3},
        {"id": "L3", "name": "Done", "closed": False, "pos": 4},
        {"id": "L9", "name": "Old ideas", "closed": True, "pos": 5},
    ],
    "customFields": [
        {
            "id": "F1",
            "name": "Owner",
            "type": "list",
            "options": [
                {"id": "O1", "value": {"text": "ceo"}},
                {"id": "O2", "value": {"text": "cmo"}},
            ],
        },
        {"id": "F2", "name": "Entity", "type": "text"},
        {"id": "F3", "name": "Action key", "type": "text"},
    ],
    "labels": [],
    "cards": [
        {
            "id": "c1",
            "idShort": 1,
            "name": "Renew hull insurance",
            "desc": "",
            "closed": False,
            "idList": "L1",
            "due": "2025-04-15T12:00:00.000Z",
            "dueComplete": False,
            "labels": [
                {"id": "a", "name": "insurance", "color": "red"},
                {"id": "b", "name": "risk", "color": "orange"},
            ],
            "customFieldItems": [
                {"idCustomField": "F1", "idValue": "O1"},
                {"idCustomField": "F2", "value": {"text": "jada"}},
                {"idCustomField": "F3", "value": {"text": KEY}},
            ],
        },
        {
            "id": "c2",
            "idShort": 2,
            "name": "Claim the GetMyBoat listing",
            "desc": "",
            "closed": False,
            "idList": "L2",
            "due": None,
            "labels": [{"id": "c", "name": "marketing", "color": "blue"}],
            "customFieldItems": [
                {"idCustomField": "F1", "idValue": "O2"},
                {"idCustomField": "F2", "value": {"text": "jada"}},
            ],
        },
        {
            "id": "c3",
            "idShort": 3,
            "name": "Turn on MFA for the booking site",
            # no custom field: the Dataview-style inline fields in the description count
            "desc": "Owner and entity below.\n[owner:: cto] [entity:: quickdumpnow]",
            "closed": False,
            "idList": "L3",
            "due": "2025-03-01T08:00:00.000Z",
            "labels": [],
        },
        {
            "id": "c4",
            "idShort": 4,
            "name": "Reconcile February card fees",
            "desc": "[owner:: accounting]",
            "closed": False,
            "idList": "L0",
            "labels": [{"id": "d", "name": "books", "color": "green"}],
        },
        {
            "id": "c5",
            "idShort": 5,
            "name": "An archived card",
            "closed": True,
            "idList": "L1",
        },
        {
            "id": "c6",
            "idShort": 6,
            "name": "A card in an archived list",
            "closed": False,
            "idList": "L9",
        },
    ],
}

GITHUB = {
    "items": [
        {
            "content": {"type": "DraftIssue", "body": "", "title": "Renew hull insurance"},
            "id": "c1",
            "title": "Renew hull insurance",
            "status": "Todo",
            "labels": ["insurance", "risk"],
            "due date": "2025-04-15",
            "owner": "ceo",
            "entity": "jada",
            "action key": KEY,
        },
        {
            "content": {
                "type": "Issue",
                "body": "Needs photos.",
                "title": "Claim the GetMyBoat listing",
                "number": 12,
                "repository": "acme/ops",
                "url": "https://github.com/acme/ops/issues/12",
            },
            "id": "c2",
            "title": "Claim the GetMyBoat listing",
            "status": "In progress",
            "labels": ["marketing"],
            "owner": "cmo",
            "entity": "jada",
        },
        {
            "content": {
                "type": "DraftIssue",
                "body": "[owner:: cto] [entity:: quickdumpnow]",
                "title": "Turn on MFA for the booking site",
            },
            "id": "c3",
            "title": "Turn on MFA for the booking site",
            "status": "Done",
            "due date": "2025-03-01",
        },
        {
            "content": {"type": "DraftIssue", "body": "", "title": "Reconcile February card fees"},
            "id": "c4",
            "title": "Reconcile February card fees",
            "status": "Backlog",
            "labels": ["books"],
            "owner": "accounting",
        },
    ],
    "totalCount": 4,
}

MARKDOWN = """---

kanban-plugin: basic

---

## Backlog

- [ ] Reconcile February card fees #books [owner:: accounting] ^c4


## Todo

- [ ] Renew hull insurance @{2025-04-15} #insurance #risk [owner:: ceo] [entity:: jada] [action_key:: 0123456789ab] ^c1


## In progress

- [ ] Claim the GetMyBoat listing #marketing [owner:: cmo] [entity:: jada]<br>needs photos ^c2


## Done

**Complete**
- [x] Turn on MFA for the booking site @{2025-03-01} [owner:: cto] [entity:: quickdumpnow] ^c3

***

## Archive

- [x] An archived card ^c5




%% kanban:settings
```
{"kanban-plugin":"basic","lane-width":272}
```
%%
"""

EXPECTED = [
    {
        "id": "c1",
        "title": "Renew hull insurance",
        "column": "todo",
        "column_name": "Todo",
        "entity": "jada",
        "owner": "ceo",
        "due": date(2025, 4, 15),
        "labels": ["insurance", "risk"],
        "action_key": KEY,
    },
    {
        "id": "c2",
        "title": "Claim the GetMyBoat listing",
        "column": "doing",
        "column_name": "In progress",
        "entity": "jada",
        "owner": "cmo",
        "due": None,
        "labels": ["marketing"],
        "action_key": None,
    },
    {
        "id": "c3",
        "title": "Turn on MFA for the booking site",
        "column": "done",
        "column_name": "Done",
        "entity": "quickdumpnow",
        "owner": "cto",
        "due": date(2025, 3, 1),
        "labels": [],
        "action_key": None,
    },
    {
        "id": "c4",
        "title": "Reconcile February card fees",
        "column": "todo",
        "column_name": "Backlog",
        "entity": "dflt",
        "owner": "accounting",
        "due": None,
        "labels": ["books"],
        "action_key": None,
    },
]


def write(path: Path, content: object) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def by_id(tasks):
    return sorted((t.model_dump() for t in tasks), key=lambda t: t["id"])


@pytest.mark.parametrize(
    "name, content",
    [
        ("board.json", PROJECT),
        ("trello-export.json", TRELLO),
        ("items.json", GITHUB),
        ("board.md", MARKDOWN),
    ],
    ids=["board.json", "trello", "github-projects", "obsidian-markdown"],
)
def test_each_of_the_four_formats_reads_into_the_same_tasks(tmp_path, name, content):
    tasks = read_board(write(tmp_path / name, content), entity="dflt")
    assert by_id(tasks) == EXPECTED


def test_the_four_formats_agree_with_each_other(tmp_path):
    boards = [
        read_board(write(tmp_path / name, content), entity="dflt")
        for name, content in (
            ("board.json", PROJECT),
            ("trello.json", TRELLO),
            ("gh.json", GITHUB),
            ("board.md", MARKDOWN),
        )
    ]
    first = by_id(boards[0])
    for other in boards[1:]:
        assert by_id(other) == first


def test_a_missing_or_empty_board_file_is_an_empty_board(tmp_path):
    assert read_board(tmp_path / "board.json") == []
    assert read_board(write(tmp_path / "empty.json", "\n")) == []
    assert read_board(write(tmp_path / "empty.md", "")) == []


def test_reading_never_changes_the_file(tmp_path):
    for name, content in (("b.json", PROJECT), ("t.json", TRELLO), ("b.md", MARKDOWN)):
        path = write(tmp_path / name, content)
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        read_board(path)
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "b.md", "t.json"]


def test_trello_leaves_out_closed_cards_and_cards_of_closed_lists(tmp_path):
    titles = {t.title for t in read_board(write(tmp_path / "t.json", TRELLO))}
    assert "An archived card" not in titles
    assert "A card in an archived list" not in titles


def test_trello_due_date_ticked_complete_is_done(tmp_path):
    data = json.loads(json.dumps(TRELLO))
    data["cards"][0]["dueComplete"] = True
    tasks = {t.id: t for t in read_board(write(tmp_path / "t.json", data))}
    assert tasks["c1"].column == "done" and tasks["c1"].column_name == "Todo"


def test_trello_card_without_id_falls_back_to_its_short_id(tmp_path):
    data = json.loads(json.dumps(TRELLO))
    del data["cards"][1]["id"]
    ids = {t.id for t in read_board(write(tmp_path / "t.json", data))}
    assert "2" in ids


def test_markdown_leaves_out_the_archive(tmp_path):
    titles = {t.title for t in read_board(write(tmp_path / "b.md", MARKDOWN))}
    assert "An archived card" not in titles


def test_markdown_ticked_card_is_done_in_any_column(tmp_path):
    board = "## Todo\n\n- [x] Ship the invoice template\n"
    (task,) = read_board(write(tmp_path / "b.md", board))
    assert task.column == "done" and task.column_name == "Todo"


def test_markdown_card_without_block_id_gets_a_stable_id_from_its_text(tmp_path):
    board = "## Todo\n\n- [ ] Call the broker #insurance\n- [ ] Call the broker\n"
    first = read_board(write(tmp_path / "b.md", board))
    moved = "## Todo\n\n\n## Doing\n\n- [ ] Call the broker #insurance\n- [ ] Call the broker\n"
    second = read_board(write(tmp_path / "b.md", moved))
    assert [t.id for t in first] == [t.id for t in second]
    assert len({t.id for t in first}) == 2  # same text twice: still two cards
    assert all(t.id.startswith("md-") for t in first)


def test_markdown_title_keeps_issue_numbers_and_drops_markers(tmp_path):
    board = "## Todo\n\n- [ ] Fix #12 in checkout @{2025-05-01} @@{10:00} #web [owner:: cto] ^x1\n"
    (task,) = read_board(write(tmp_path / "b.md", board))
    assert task.title == "Fix #12 in checkout"
    assert task.labels == ["web"] and task.owner == "cto" and task.due == date(2025, 5, 1)


def test_markdown_without_front_matter_is_read_by_its_extension(tmp_path):
    (task,) = read_board(write(tmp_path / "b.md", "## Doing\n\n- [ ] Hire a bookkeeper\n"))
    assert task.column == "doing"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Done", "done"),
        ("COMPLETED", "done"),
        ("✅ Shipped", "done"),
        ("closed", "done"),
        ("In Progress", "doing"),
        ("in-progress", "doing"),
        ("In review", "doing"),
        ("WIP", "doing"),
        ("Doing (3)", "doing"),
        ("Backlog", "todo"),
        ("To Do", "todo"),
        ("Ideas", "todo"),
        ("", "todo"),
    ],
)
def test_column_names_normalise_to_states(name, expected):
    assert column_state(name) == expected


def test_board_json_keeps_the_cards_other_fields(tmp_path):
    data = {"cards": [{"id": "X-1", "title": "Ask the bank", "points": 3}]}
    (task,) = read_board(write(tmp_path / "board.json", data), entity="acme")
    assert task.points == 3 and task.entity == "acme" and task.column == "todo"


def test_board_json_accepts_status_for_column(tmp_path):
    data = {"cards": [{"id": "X-1", "title": "Ask the bank", "status": "in progress"}]}
    (task,) = read_board(write(tmp_path / "board.json", data))
    assert task.column == "doing"


# -- bad input ------------------------------------------------------------------------------
def error_of(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_board(path)
    return str(info.value)


def test_malformed_json_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "board.json", '{"cards": [\n  {"id": "a", "title": "x"},\n  oops\n]}')
    assert error_of(path).startswith(f"{path}:3: not valid JSON")


def test_an_unknown_json_shape_is_an_unknown_format(tmp_path):
    path = write(tmp_path / "board.json", {"tasks": []})
    assert error_of(path).startswith(f"{path}: not a known board format")


def test_an_unknown_file_kind_is_an_unknown_format(tmp_path):
    path = write(tmp_path / "board.txt", "Todo: call the bank\n")
    assert error_of(path).startswith(f"{path}: not a known board format")


@pytest.mark.parametrize(
    "name, content, where",
    [
        ("board.json", {"cards": [{"title": "No id"}]}, "cards[0]"),
        ("t.json", {**TRELLO, "cards": [{"name": "No id", "idList": "L1"}]}, "cards[0]"),
        ("gh.json", {"items": [{"title": "No id", "status": "Todo"}]}, "items[0]"),
    ],
)
def test_a_card_without_id_is_an_error(tmp_path, name, content, where):
    path = write(tmp_path / name, content)
    assert error_of(path) == f"{path}: {where}: a card needs an id"


def test_an_unknown_column_in_board_json_is_an_error(tmp_path):
    path = write(
        tmp_path / "board.json", {"cards": [{"id": "A-1", "title": "x", "column": "blocked"}]}
    )
    message = error_of(path)
    assert message.startswith(f"{path}: cards[0] (A-1): column 'blocked' is not a known column")
    assert "todo, doing or done" in message


def test_a_card_without_title_is_an_error(tmp_path):
    path = write(tmp_path / "board.json", {"cards": [{"id": "A-1"}]})
    assert error_of(path) == f"{path}: cards[0] (A-1): a card needs a title"


def test_a_bad_due_date_is_an_error(tmp_path):
    path = write(tmp_path / "board.json", {"cards": [{"id": "A-1", "title": "x", "due": "soon"}]})
    assert error_of(path) == f"{path}: cards[0] (A-1): due 'soon' is not a date (YYYY-MM-DD)"
    md = write(tmp_path / "board.md", "## Todo\n\n- [ ] Call @{15/04/2025}\n")
    assert error_of(md).startswith(f"{md}:3 (")
    assert "due '15/04/2025' is not a date" in error_of(md)


def test_a_duplicate_card_id_is_an_error(tmp_path):
    path = write(
        tmp_path / "board.json", {"cards": [{"id": "A", "title": "x"}, {"id": "A", "title": "y"}]}
    )
    assert "card id 'A' is used twice" in error_of(path)
    md = write(tmp_path / "board.md", "## Todo\n\n- [ ] x ^a1\n- [ ] y ^a1\n")
    assert error_of(md) == f"{md}:4: card id ^a1 is used twice (lines 3 and 4)"


def test_a_markdown_card_outside_any_column_is_an_error(tmp_path):
    path = write(tmp_path / "board.md", "# Board\n\n- [ ] Orphan card\n\n## Todo\n")
    assert error_of(path).startswith(f"{path}:3: a card outside any column")


def test_trello_card_in_an_unknown_list_is_an_error(tmp_path):
    data = {**TRELLO, "cards": [{"id": "z", "name": "Lost", "idList": "nope"}]}
    path = write(tmp_path / "t.json", data)
    assert error_of(path) == f"{path}: cards[0] (z): list 'nope' is not among the export's lists"


# -- writing actions ------------------------------------------------------------------------
def actions() -> list[Action]:
    return [
        Action(
            title="Renew the hull policy",
            owner="ceo",
            entity="jada",
            due=date(2025, 4, 3),
            severity="critical",
        ),
        Action(title="Publish a DMARC policy", owner="cto", entity="jada"),
        Action(title="Review card fees", owner="cfo"),
    ]


@pytest.mark.parametrize("name", ["board.json", "board.md"])
def test_write_adds_a_card_per_action_and_a_rerun_adds_none(tmp_path, name):
    path = tmp_path / name
    assert write_actions(path, actions(), role="ceo", entity_names={"jada": "JADA"}) == (3, 0)
    first = path.read_bytes()
    assert write_actions(path, actions(), role="ceo", entity_names={"jada": "JADA"}) == (0, 3)
    assert path.read_bytes() == first
    tasks = read_board(path)
    assert sorted(t.action_key for t in tasks) == sorted(a.key for a in actions())
    assert {t.id for t in tasks} == {action_card_id(a.key) for a in actions()}
    card = next(t for t in tasks if t.title == "Renew the hull policy")
    assert (card.owner, card.entity, card.due, card.column) == (
        "ceo",
        "jada",
        date(2025, 4, 3),
        "todo",
    )


@pytest.mark.parametrize("name", ["board.json", "board.md"])
def test_a_new_version_of_an_action_adds_no_duplicate(tmp_path, name):
    path = tmp_path / name
    write_actions(path, actions(), role="ceo")
    later = [a.model_copy(update={"due": date(2025, 5, 1)}) for a in actions()]
    later.append(Action(title="Renew the domain", owner="cto", entity="jada"))
    assert write_actions(path, later, role="ceo") == (1, 3)
    assert len(read_board(path)) == 4


@pytest.mark.parametrize("name", ["board.json", "board.md"])
def test_the_same_action_twice_in_one_report_is_one_card(tmp_path, name):
    path = tmp_path / name
    assert write_actions(path, [*actions(), *actions()], role="ceo") == (3, 0)


def test_a_card_someone_moved_and_edited_is_never_overwritten_json(tmp_path):
    path = tmp_path / "board.json"
    write_actions(path, actions(), role="ceo")
    data = json.loads(path.read_text())
    data["cards"][0].update(column="done", title="Renewed with a new broker", due="2025-04-20")
    path.write_text(json.dumps(data, indent=2))
    edited = path.read_bytes()
    assert write_actions(path, actions(), role="ceo") == (0, 3)
    assert path.read_bytes() == edited


def test_a_card_someone_moved_and_edited_is_never_overwritten_markdown(tmp_path):
    path = tmp_path / "board.md"
    write_actions(path, actions(), role="ceo")
    text = path.read_text()
    line = next(x for x in text.splitlines() if "Renew the hull policy" in x)
    key = actions()[0].key
    text = text.replace(line + "\n", "")
    # moved to Done, ticked and retitled; the hidden ^id travels with it
    text = text.replace("**Complete**\n", f"**Complete**\n- [x] Renewed, new broker ^act-{key}\n")
    path.write_text(text)
    assert write_actions(path, actions(), role="ceo") == (0, 3)
    assert path.read_text() == text
    done = {t.action_key: t for t in read_board(path)}[key]
    assert done.column == "done" and done.title == "Renewed, new broker"


def test_json_write_keeps_every_other_byte(tmp_path):
    path = tmp_path / "board.json"
    original = (
        '{\n  "board": "JADA",\n  "cards": [\n    {\n      "id": "JADA-1",\n'
        '      "title": "Renew sailjada.com",\n      "column": "todo"\n    }\n  ],\n'
        '  "updated": "by hand"\n}\n'
    )
    path.write_text(original)
    write_actions(path, actions()[:1], role="ceo")
    text = path.read_text()
    cut = original.index("\n  ],")
    assert text.startswith(original[:cut]) and text.endswith(original[cut:])
    added = json.loads(text)["cards"][1]
    assert added["action_key"] == actions()[0].key and added["column"] == "todo"
    assert text[cut:].startswith(',\n    {\n      "id": "act-')  # the file's own indentation


def test_json_write_into_a_compact_or_empty_board(tmp_path):
    compact = write(tmp_path / "a.json", '{"cards": [{"id": "A", "title": "x"}]}')
    write_actions(compact, actions()[:1], role="ceo")
    assert compact.read_text().startswith('{"cards": [{"id": "A", "title": "x"}, {"id": "act-')
    empty = write(tmp_path / "b.json", '{\n  "cards": []\n}\n')
    write_actions(empty, actions()[:1], role="ceo")
    assert [c["title"] for c in json.loads(empty.read_text())["cards"]] == ["Renew the hull policy"]


def test_markdown_write_appends_to_the_todo_column_and_keeps_the_rest(tmp_path):
    path = write(tmp_path / "board.md", MARKDOWN)
    write_actions(path, actions()[:1], role="ceo")
    text = path.read_text()
    anchor = "[action_key:: 0123456789ab] ^c1\n"
    head, tail = text.split(anchor)
    added, rest = tail.split("\n", 1)
    assert MARKDOWN == head + anchor + rest
    key = actions()[0].key
    assert added == (
        "- [ ] Renew the hull policy @{2025-04-03} #ceo #critical [owner:: ceo] [entity:: jada] "
        f"^act-{key}"
    )


def test_markdown_write_to_an_empty_column(tmp_path):
    board = "---\n\nkanban-plugin: basic\n\n---\n\n## Todo\n\n\n\n## Done\n\n- [x] Old ^o1\n"
    path = write(tmp_path / "board.md", board)
    write_actions(path, actions()[:1], role="ceo")
    text = path.read_text()
    assert text.startswith("---\n\nkanban-plugin: basic\n\n---\n\n## Todo\n\n- [ ] Renew the hull")
    assert text.endswith("\n\n\n## Done\n\n- [x] Old ^o1\n")


def test_markdown_write_without_a_todo_column_adds_one_first(tmp_path):
    board = "## Doing\n\n- [ ] a ^a\n\n## Done\n\n- [x] b ^b"  # no final newline
    path = write(tmp_path / "board.md", board)
    write_actions(path, actions()[:1], role="ceo")
    text = path.read_text()
    assert text.startswith("## Todo\n\n- [ ] Renew the hull policy")
    assert text.endswith(board)
    assert [t.column_name for t in read_board(path)] == ["Todo", "Doing", "Done"]


def test_markdown_write_into_a_named_column(tmp_path):
    board = "## Inbox\n\n## Todo\n\n- [ ] a ^a\n"
    path = write(tmp_path / "board.md", board)
    write_actions(path, actions()[:1], role="ceo", column="Inbox")
    assert {t.title: t.column_name for t in read_board(path)}["Renew the hull policy"] == "Inbox"


def test_markdown_write_keeps_windows_line_endings(tmp_path):
    path = tmp_path / "board.md"
    path.write_bytes(b"## Todo\r\n\r\n- [ ] a ^a\r\n\r\n## Done\r\n")
    write_actions(path, actions()[:1], role="ceo")
    data = path.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.startswith(b"## Todo\r\n\r\n- [ ] a ^a\r\n- [ ] Renew")


def test_markdown_write_creates_an_obsidian_board(tmp_path):
    path = tmp_path / "actions.md"
    write_actions(path, actions()[:2], role="cto")
    text = path.read_text()
    assert text.startswith("---\n\nkanban-plugin: basic\n\n---\n\n## Todo\n\n- [ ] ")
    assert "## Doing" in text and "## Done\n\n**Complete**\n" in text
    assert text.endswith('%% kanban:settings\n```\n{"kanban-plugin":"basic"}\n```\n%%\n')
    assert [t.column for t in read_board(path)] == ["todo", "todo"]


def test_an_archived_markdown_card_is_not_added_again(tmp_path):
    key = actions()[0].key
    board = f"## Todo\n\n\n***\n\n## Archive\n\n- [x] Renewed ^act-{key}\n"
    path = write(tmp_path / "board.md", board)
    assert write_actions(path, actions()[:1], role="ceo") == (0, 1)
    assert path.read_text() == board


def test_writing_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = write(tmp_path / "board.json", PROJECT)
    os.chmod(path, 0o640)
    write_actions(path, actions(), role="ceo")
    assert [p.name for p in tmp_path.iterdir()] == ["board.json"]
    assert path.stat().st_mode & 0o777 == 0o640


def test_writing_refuses_a_trello_export_and_an_unknown_extension(tmp_path):
    trello = write(tmp_path / "trello.json", TRELLO)
    before = trello.read_bytes()
    with pytest.raises(DataError, match="is a Trello export"):
        write_actions(trello, actions(), role="ceo")
    assert trello.read_bytes() == before
    with pytest.raises(DataError, match=r"writes a \.json board"):
        write_actions(tmp_path / "board.txt", actions(), role="ceo")


def test_writing_refuses_a_malformed_board_and_leaves_it_alone(tmp_path):
    path = write(tmp_path / "board.json", '{"cards": [')
    with pytest.raises(DataError, match="not valid JSON"):
        write_actions(path, actions(), role="ceo")
    assert path.read_text() == '{"cards": ['


@pytest.mark.parametrize("name", ["board.json", "board.md"])
def test_write_into_an_empty_file_makes_a_new_board(tmp_path, name):
    path = write(tmp_path / name, "")
    assert write_actions(path, actions(), role="ceo") == (3, 0)
    assert len(read_board(path)) == 3


def test_a_board_saved_meanwhile_is_read_again_before_writing(tmp_path, monkeypatch):
    from execreport import boards

    path = tmp_path / "board.json"
    write_actions(path, actions()[:1], role="ceo")
    real, calls = boards._replace, []

    def someone_saves_first(target, data, *, expect):
        if not calls:  # a person adds a card between our read and our rename
            board = json.loads(target.read_text())
            board["cards"].append({"id": "HAND-1", "title": "Added by hand"})
            target.write_text(json.dumps(board, indent=2))
        calls.append(1)
        return real(target, data, expect=expect)

    monkeypatch.setattr(boards, "_replace", someone_saves_first)
    assert write_actions(path, actions(), role="ceo") == (2, 1)
    ids = [t.id for t in read_board(path)]
    assert "HAND-1" in ids and len(ids) == 4 and len(calls) == 2
