"""Progress since the last report: each previous action with its card's state now."""

from __future__ import annotations

from datetime import date

from execreport import Action, Report, Section, Task
from execreport.progress import (
    PROGRESS_HEADING,
    carried_over,
    progress_figures,
    progress_section,
    track_actions,
)

AS_OF = date(2025, 3, 31)

RENEW = Action(title="Renew the hull policy", owner="ceo", entity="jada", due=date(2025, 4, 3))
DMARC = Action(title="Publish a DMARC policy", owner="cto", entity="jada", due=date(2025, 4, 30))
FEES = Action(title="Review card fees", owner="cfo", due=date(2025, 3, 15))
LIST = Action(title="List on GetMyBoat", owner="cmo", entity="jada")
GONE = Action(title="Ask for a quote", owner="ceo")


def card(action: Action, column: str, **extra) -> Task:
    return Task(
        id=f"act-{action.key}",
        title=action.title,
        column=column,
        column_name=column.title(),
        action_key=action.key,
        **extra,
    )


def previous(*actions: Action) -> Report:
    return Report(role="ceo", title="CEO", actions=list(actions))


BOARD = [
    card(RENEW, "done"),
    card(DMARC, "doing"),
    card(FEES, "todo"),
    card(LIST, "todo"),
    Task(id="JADA-9", title="A card no report asked for", column="doing"),
]


def states(report: Report, tasks=BOARD, as_of=AS_OF) -> dict[str, str]:
    return {t.action.title: t.state for t in track_actions(report, tasks, as_of)}


def test_no_section_without_a_previous_version_or_without_actions():
    assert progress_section(None, BOARD, AS_OF) is None
    assert progress_section(previous(), BOARD, AS_OF) is None


def test_each_action_gets_its_cards_state_now():
    assert states(previous(RENEW, DMARC, FEES, LIST, GONE)) == {
        "Renew the hull policy": "done",
        "Publish a DMARC policy": "in progress",
        "Review card fees": "overdue",  # not done, due 2025-03-15 < as_of
        "List on GetMyBoat": "not started",
        "Ask for a quote": "card deleted",
    }


def test_overdue_means_not_done_and_due_before_as_of():
    late = [card(RENEW, "doing"), card(FEES, "done")]
    assert states(previous(RENEW, FEES), late, as_of=date(2025, 4, 4)) == {
        "Renew the hull policy": "overdue",
        "Review card fees": "done",
    }
    # due on as_of itself is not overdue yet
    assert states(previous(RENEW), late, as_of=date(2025, 4, 3)) == {
        "Renew the hull policy": "in progress"
    }


def test_the_cards_due_date_wins_over_the_actions():
    moved = [card(FEES, "todo", due=date(2025, 4, 30))]
    (tracked,) = track_actions(previous(FEES), moved, AS_OF)
    assert tracked.state == "not started" and tracked.due == date(2025, 4, 30)


def test_a_card_on_any_board_in_a_done_column_counts_as_done():
    two = [card(RENEW, "todo"), card(RENEW, "done")]  # on two boards
    assert states(previous(RENEW), two) == {"Renew the hull policy": "done"}


def test_raw_column_names_from_third_party_sources_are_normalised():
    raw = [card(RENEW, "Shipped"), card(DMARC, "In review")]
    assert states(previous(RENEW, DMARC), raw) == {
        "Renew the hull policy": "done",
        "Publish a DMARC policy": "in progress",
    }


def test_without_any_tracked_card_the_actions_are_not_on_a_board():
    untracked = [Task(id="JADA-1", title="Something else", column="todo")]
    assert set(states(previous(RENEW, FEES), untracked).values()) == {"not on a board"}


def test_the_same_action_twice_counts_once():
    assert len(track_actions(previous(RENEW, RENEW, FEES), BOARD, AS_OF)) == 2


def test_completion_ratio_is_done_over_actions():
    figures = progress_figures(track_actions(previous(RENEW, DMARC, FEES, GONE), BOARD, AS_OF))
    assert figures["actions"] == 4 and figures["done"] == 1
    assert str(figures["completion"]) == "0.2500"
    assert figures["card_deleted"] == 1 and figures["overdue"] == 1


def test_the_section_has_a_table_a_summary_and_how_it_was_computed():
    section = progress_section(
        previous(RENEW, DMARC, FEES, LIST, GONE), BOARD, AS_OF, since="v1 of 2025-03-31"
    )
    assert isinstance(section, Section) and section.heading == PROGRESS_HEADING
    assert section.since_previous  # alone it never makes a new version
    lines = section.body.splitlines()
    assert lines[0] == (
        "**1 of 5 actions done (20%)**; 1 in progress, 1 not started, 1 overdue, 1 card deleted."
    )
    assert "| # | Action | Owner | Due | Card | State |" in lines
    assert (
        f"| 1 | Renew the hull policy | ceo | 2025-04-03 | act-{RENEW.key} (Done) | done |" in lines
    )
    assert "| 3 | Review card fees | cfo | 2025-03-15 | " in section.body
    assert "| **overdue** |" in section.body
    assert "| 5 | Ask for a quote | ceo |  |  | card deleted |" in lines
    assert lines[-1].startswith("_How this was computed: the 5 actions of the last delivered")
    assert "(v1 of 2025-03-31)" in lines[-1] and "before 2025-03-31" in lines[-1]


def test_the_section_is_deterministic():
    report = previous(RENEW, DMARC, FEES, LIST, GONE)
    first = progress_section(report, BOARD, AS_OF)
    assert first == progress_section(report, list(BOARD), AS_OF)


def test_action_titles_are_escaped_in_the_table():
    odd = Action(title="Fix the | pipe and *stars*", owner="cto")
    section = progress_section(previous(odd), [card(odd, "todo")], AS_OF)
    assert "Fix the \\| pipe and \\*stars\\*" in section.body


def test_carried_over_names_the_actions_the_previous_report_had():
    assert carried_over(previous(RENEW, FEES), [RENEW, DMARC]) == {RENEW.key}
    assert carried_over(None, [RENEW]) == set()
