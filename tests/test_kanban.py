"""The kanban sender through the real command line: actions land on the board once each,
a card someone moved stays where it is, and its state shows in the next report."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from execreport.boards import read_board
from minidata import cli, write_config

# a March expense: changes the accounting figures, so its report gets a new version
EXTRA_ROW = "2025-03-25,-80.00,6400,travel,Harbor Taxi,,,r9.pdf\n"


def kanban_config(root: Path, board: str, extra: str = "") -> Path:
    cfg = write_config(root, extra=f'\n[delivery.kanban]\nboard = "{board}"\n{extra}')
    text = cfg.read_text().replace('sender = "outbox"', 'sender = ["outbox", "kanban"]')
    cfg.write_text(text)
    return cfg


def run(cfg: Path, *args: str):
    result = cli("run", "--config", str(cfg), *args)
    assert result.returncode == 0, result.stderr
    return result


def archived_action_keys(root: Path) -> set[str]:
    with sqlite3.connect(root / "archive.sqlite3") as db:
        rows = db.execute("SELECT report_json FROM reports").fetchall()
    from execreport import Report

    return {a.key for (raw,) in rows for a in Report.model_validate_json(raw).actions}


def history(cfg: Path) -> list[dict]:
    result = cli("history", "--json", "--config", str(cfg))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def add_ledger_row(root: Path) -> None:
    with (root / "data" / "acme" / "ledger.csv").open("a") as fh:
        fh.write(EXTRA_ROW)


@pytest.mark.parametrize("board", ["board.md", "data/acme/board.json"])
def test_run_puts_every_reports_actions_on_the_board(tmp_path, board):
    cfg = kanban_config(tmp_path, board)
    run(cfg)
    tasks = read_board(tmp_path / board)
    keys = archived_action_keys(tmp_path)
    assert keys, "the mini data set recommends actions"
    assert sorted(t.action_key for t in tasks) == sorted(keys)
    assert all(t.column == "todo" for t in tasks)
    kanban = [d for v in history(cfg) for d in v["deliveries"] if d["sender"] == "kanban"]
    assert kanban and all(d["status"] == "sent" for d in kanban)
    name = Path(board).name
    assert all(d["message_id"].startswith(f"kanban:{name}:") for d in kanban)


def test_a_rerun_adds_no_duplicate_cards(tmp_path):
    cfg = kanban_config(tmp_path, "board.md")
    run(cfg)
    first = (tmp_path / "board.md").read_bytes()
    run(cfg)
    run(cfg, "--resend", "--all")  # sent again on purpose: the board still holds each action once
    assert (tmp_path / "board.md").read_bytes() == first


def test_a_rerun_on_unchanged_data_keeps_one_version_per_report(tmp_path):
    cfg = kanban_config(tmp_path, "board.md")
    run(cfg)
    run(cfg)
    versions = history(cfg)
    assert versions and all(v["version"] == 1 for v in versions)


@pytest.mark.parametrize("board", ["board.md", "data/acme/board.json"])
def test_a_new_version_adds_no_duplicate_and_leaves_a_moved_card_alone(tmp_path, board):
    cfg = kanban_config(tmp_path, board)
    run(cfg)
    path = tmp_path / board
    moved = move_to_done(path, "duplicate charge", retitle="Reversed the double fuel charge")
    add_ledger_row(tmp_path)
    run(cfg)
    assert any(v["version"] == 2 for v in history(cfg)), "the ledger change made a new version"
    assert path.read_text().count(moved) == 1
    tasks = read_board(path)
    assert len({t.action_key for t in tasks}) == len(tasks)
    card = next(t for t in tasks if t.id == moved)
    assert (card.column, card.title) == ("done", "Reversed the double fuel charge")


def test_moving_a_card_to_done_shows_as_done_in_the_next_report(tmp_path):
    cfg = kanban_config(tmp_path, "board.md")
    run(cfg)
    move_to_done(tmp_path / "board.md", "duplicate charge")
    add_ledger_row(tmp_path)
    run(cfg)
    shown = cli("show", "accounting", "--config", str(cfg))
    assert shown.returncode == 0, shown.stderr
    report = shown.stdout
    assert "## Progress since the last report" in report
    row = next(x for x in report.splitlines() if "duplicate charge" in x and x.startswith("| "))
    assert row.endswith("| done |")
    assert "actions done (" in report


def test_a_card_moved_to_done_alone_makes_the_next_report_show_it(tmp_path):
    cfg = kanban_config(tmp_path, "board.md")
    run(cfg)
    run(cfg)  # nothing changed: no new version, nothing sent
    assert [v["version"] for v in history(cfg) if v["role"] == "accounting"] == [1]
    move_to_done(tmp_path / "board.md", "duplicate charge")
    run(cfg)  # the data is the same, but someone acted on the board
    versions = [v for v in history(cfg) if v["role"] == "accounting"]
    assert [v["version"] for v in versions] == [1, 2]
    assert any(d["status"] == "sent" for d in versions[1]["deliveries"])
    report = cli("show", "accounting", "--config", str(cfg)).stdout
    row = next(x for x in report.splitlines() if "duplicate charge" in x and x.startswith("| "))
    assert row.endswith("| done |")
    run(cfg)  # and again: still two versions
    assert len([v for v in history(cfg) if v["role"] == "accounting"]) == 2


def test_a_board_the_sender_cannot_write_fails_the_kanban_delivery_with_a_clear_line(tmp_path):
    trello = {"lists": [{"id": "L", "name": "Todo"}], "cards": []}
    (tmp_path / "trello.json").write_text(json.dumps(trello))
    cfg = kanban_config(tmp_path, "trello.json")
    result = cli("run", "--config", str(cfg))
    assert result.returncode != 0
    assert "trello.json: is a Trello export" in result.stderr
    assert json.loads((tmp_path / "trello.json").read_text()) == trello


def test_a_missing_board_folder_fails_the_preflight(tmp_path):
    cfg = kanban_config(tmp_path, "nowhere/board.md")
    result = cli("run", "--config", str(cfg))
    assert result.returncode != 0
    assert "delivery.kanban.board: folder" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_notice_to_the_owner_never_goes_to_the_board(tmp_path):
    cfg = kanban_config(tmp_path, "board.md")
    text = cfg.read_text().replace('sender = ["outbox", "kanban"]', 'sender = ["kanban", "outbox"]')
    text = text.replace("bcc = [", 'notify = ["owner@example.com"]\nbcc = [')
    cfg.write_text(text)
    # a ledger 100 days old stops the run, and the owner is told by mail
    stopped = cli("run", "--config", str(cfg), "--as-of", "2025-06-30")
    assert stopped.returncode == 1
    assert not (tmp_path / "board.md").exists()
    notices = list((tmp_path / "outbox").glob("*.eml"))
    assert len(notices) == 1 and "owner@example.com" in notices[0].read_text()


def move_to_done(path: Path, words: str, retitle: str | None = None) -> str:
    """Move the card whose title has `words` to the done column, as a person would; its id."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        card = next(c for c in data["cards"] if words in c["title"])
        card["column"] = "done"
        if retitle:
            card["title"] = retitle
        path.write_text(json.dumps(data, indent=2) + "\n")
        return card["id"]
    lines = path.read_text().splitlines(keepends=True)
    line = next(x for x in lines if words in x)
    lines.remove(line)
    card_id = line.rstrip().rsplit("^", 1)[1]
    new = line.replace("- [ ]", "- [x]", 1)
    if retitle:
        new = f"- [x] {retitle} ^{card_id}\n"
    at = next(i for i, x in enumerate(lines) if x.startswith("**Complete**")) + 1
    lines.insert(at, new)
    path.write_text("".join(lines))
    return card_id
