"""Progress since the last report: what became of the actions the last delivered version
recommended, read from the cards that carry their keys on the kanban boards.

Pure functions of their arguments (no clock, no files): the same report, boards and `as_of`
give the same section, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .boards import DOING_COLUMNS, DONE_COLUMNS, column_state
from .models import Action, Report, Section, Task

PROGRESS_HEADING = "Progress since the last report"

DONE = "done"
IN_PROGRESS = "in progress"
NOT_STARTED = "not started"
OVERDUE = "overdue"
CARD_DELETED = "card deleted"
NOT_ON_A_BOARD = "not on a board"
STATES = (DONE, IN_PROGRESS, NOT_STARTED, OVERDUE, CARD_DELETED, NOT_ON_A_BOARD)


@dataclass(frozen=True)
class Tracked:
    """One action of the previous report and what its cards say now."""

    action: Action
    state: str
    due: date | None
    cards: tuple[Task, ...]


def _unique(actions: Iterable[Action]) -> list[Action]:
    seen: dict[str, Action] = {}
    for a in actions:
        seen.setdefault(a.key, a)
    return list(seen.values())


def track_actions(previous: Report, tasks: Sequence[Task], as_of: date) -> list[Tracked]:
    """Each distinct action of `previous`, in its order, with its state as of `as_of`.

    done: a card carrying the action's key is in a done column (or ticked complete);
    overdue: not done and due before `as_of` (the card's due date, else the action's);
    in progress / not started: the card's column; card deleted: no card carries the key.
    When no card on any board carries an action key at all, the actions were never put on a
    board (no kanban sender), and each is `not on a board` rather than `card deleted`.
    """
    by_key: dict[str, list[Task]] = {}
    for t in tasks:
        key = getattr(t, "action_key", None)
        if key:
            by_key.setdefault(key, []).append(t)
    out = []
    for a in _unique(previous.actions):
        cards = tuple(by_key.get(a.key, ()))
        card_dues = [c.due for c in cards if c.due is not None]
        due = min(card_dues) if card_dues else a.due
        states = {column_state(c.column) for c in cards}
        if not cards:
            state = CARD_DELETED if by_key else NOT_ON_A_BOARD
        elif "done" in states:
            state = DONE
        elif due is not None and due < as_of:
            state = OVERDUE
        elif "doing" in states:
            state = IN_PROGRESS
        else:
            state = NOT_STARTED
        out.append(Tracked(action=a, state=state, due=due, cards=cards))
    return out


def progress_figures(tracked: Sequence[Tracked]) -> dict[str, Any]:
    """Counts per state and `completion` (done / actions, a Decimal ratio; None: no actions)."""
    counts = {s: sum(1 for t in tracked if t.state == s) for s in STATES}
    total = len(tracked)
    completion = (
        (Decimal(counts[DONE]) / Decimal(total)).quantize(Decimal("0.0001")) if total else None
    )
    return {
        "actions": total,
        **{s.replace(" ", "_"): n for s, n in counts.items()},
        "completion": completion,
    }


def progress_section(
    previous: Report | None, tasks: Sequence[Task], as_of: date, *, since: str = ""
) -> Section | None:
    """The "Progress since the last report" section (`since_previous`: it alone never makes a
    new version), or None when `previous` (the last delivered version of this report) is
    missing or recommended no actions.

    `since` names that version in the text (e.g. "v3 of 2025-03-31").
    """
    if previous is None or not previous.actions:
        return None
    from .render import md_escape

    tracked = track_actions(previous, tasks, as_of)
    figures = progress_figures(tracked)
    total = figures["actions"]
    rows = [
        "| # | Action | Owner | Due | Card | State |",
        "|---|---|---|---|---|---|",
    ]
    for i, t in enumerate(tracked, 1):
        card = ", ".join(
            f"{md_escape(c.id)} ({md_escape(getattr(c, 'column_name', None) or c.column)})"
            for c in t.cards
        )
        due = t.due.isoformat() if t.due else ""
        state = f"**{t.state}**" if t.state == OVERDUE else t.state
        rows.append(
            f"| {i} | {md_escape(t.action.title)} | {md_escape(t.action.owner)} | {due} | "
            f"{card} | {state} |"
        )
    percent = (figures["completion"] * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    parts = [
        f"{figures[s.replace(' ', '_')]} {s}" for s in STATES[1:] if figures[s.replace(" ", "_")]
    ]
    summary = f"**{figures['done']} of {total} actions done ({percent}%)**"
    summary += ("; " + ", ".join(parts) + ".") if parts else "."
    which = f" ({md_escape(since)})" if since else ""
    how = (
        f"_How this was computed: the {total} actions of the last delivered version of this "
        f"report{which}, each matched by its action key to the cards on the boards read for "
        f"this run. Done: a card in a {_names(DONE_COLUMNS)} column, or ticked complete; in "
        f"progress: a card in {_names(DOING_COLUMNS)}; overdue: not done and due (the card's "
        f"date, else the action's) before {as_of.isoformat()}; card deleted: no card carries "
        "the key"
        + (
            "; not on a board: no card on any board carries an action key yet (the kanban "
            "sender puts them there)"
            if figures["not_on_a_board"]
            else ""
        )
        + ". Completion = done / actions._"
    )
    # it compares with the previous report: shown, but alone it never makes a new version
    body = "\n".join([summary, "", *rows, "", how])
    # what people did on the board is news: a card moved or deleted makes a new version
    acted = sorted(f"{t.action.key}: {t.state}" for t in tracked if t.state in ACTED)
    return Section(
        heading=PROGRESS_HEADING, body=body, since_previous=True, signature="\n".join(acted)
    )


ACTED = (DONE, IN_PROGRESS, CARD_DELETED)


def _names(columns: Iterable[str]) -> str:
    ordered = sorted(columns)
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def carried_over(previous: Report | None, actions: Iterable[Action]) -> set[str]:
    """The keys of `actions` that the previous report recommended already."""
    if previous is None:
        return set()
    before = {a.key for a in previous.actions}
    return {a.key for a in actions if a.key in before}
