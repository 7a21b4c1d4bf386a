"""The accounting figures computed in process (plugins/roles/accounting.py `compute`, `audit`,
`ledger_counts`, `ExpenseFlags`, `quarter_start`) on a small two-entity ledger; every count
and sum is worked out by hand in the comments. Written to kill the mutants of
`bench/mutation.sh accounting`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from execreport.plugins.roles import accounting
from mutation_data import context, entity, row

AS_OF = date(2025, 3, 31)  # audit window: 2024-03-31 < date <= 2025-03-31; quarter 2025-01-01

A_ROWS = [
    row("2025-01-05", "3000.00", "4000", "charter", "Client A", "deposit", "2025-05-01"),  # 1
    row("2025-01-10", "-200.00", "5000", "fuel", "Fuel Co", receipt="r1"),  # 2
    row("2025-01-10", "-200.00", "5000", "fuel", "fuel  co", receipt="r1"),  # 3: repeats 2
    row("2025-01-12", "-200.00", "5000", "fuel", "Fuel Co", receipt="r2"),  # 4: 2 days on
    row("2025-02-10", "-500.00", "6100", "insurance", "Harbor", receipt="r3"),  # 5
    row("2025-03-10", "-100.00", "6400", "travel", "Shop"),  # 6: no receipt, >= 75
    row("2025-03-11", "-80.00", "6400", "Meals", "Cafe", receipt="r"),  # 7
    row("2025-03-12", "-74.99", "6400", "travel", "Taxi"),  # 8: under 75
    row("2025-03-20", "1500.00", "4000", "charter", "Client B", service_date="2025-03-20"),
    row("2025-02-01", "-50.00", "4000", "refunds", "Client C"),  # 10: a refund
    row("2025-02-02", "100.00", "4000", "Gift card sales", "Walk-in"),  # 11
    row("2025-02-03", "-30.00", "6500", "misc", "Netflix", receipt="r"),  # 12
    row("2024-03-31", "-999.00", "6100", "misc", "Old", receipt="r"),  # 13: outside
    row("2025-04-02", "-10.00", "6100", "insurance", "Later", receipt="r"),  # 14: after A
    row("2024-12-20", "400.00", "4000", "charter", "Client D", service_date="2025-02-01"),
    row("2025-03-05", "-20.00", "abc", "supplies", "Store", receipt="r"),  # 16: bad account
    *(
        row(f"2025-03-0{i + 1}", f"-{v}.00", "6200", "software", f"V{i}", receipt="r")
        for i, v in enumerate([10, 11, 12, 13, 100])  # 17-21: median 12, MAD 1
    ),
]
B_ROWS = [
    row("2025-01-10", "-200.00", "5000", "fuel", "FUEL CO", receipt="r"),  # 1: twin of a's
    row("2025-02-15", "800.00", "4000", "charter", "Client E", service_date="2025-06-01"),
]


@pytest.fixture(scope="module")
def ctx():
    return context([entity("a", A_ROWS), entity("b", B_ROWS)], AS_OF)


def money(figures: dict) -> dict:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in figures.items()}


def only(figures: dict, expected: dict) -> dict:
    """The figures these tests were written for (compute gives more keys now, pinned by
    other tests); a key missing from the figures fails the comparison."""
    return {k: figures.get(k, "<missing>") for k in expected}


def test_every_figure_of_an_entity(ctx):
    a = money(accounting.compute(ctx)["a"])
    categories = a.pop("expense_categories")
    expected = {
        "duplicate_rows": 1,  # 3 repeats 2
        "near_duplicate_pairs": 2,  # 4 follows 2 and 3 by two days
        "uncategorized_rows": 2,  # 12 (misc), 16 (account abc); 13 is outside
        "outlier_rows": 1,  # 100.00: 0.6745 * 88 / 1 > 3.5
        "missing_receipt_rows": 1,  # 6
        "unearned_revenue": "3000.00",  # 1
        "unearned_revenue_rows": 1,
        "personal_rows": 1,  # 12 (netflix)
        "personal_total": "-30.00",
        "refund_rows": 1,
        "refund_total": "-50.00",
        "gift_card_rows": 1,
        "gift_card_revenue": "100.00",
        "deferred_revenue_opening": "400.00",  # 15: booked before the quarter for it
        "deferred_revenue_booked": "3000.00",  # 1
        "deferred_revenue_recognised": "400.00",  # 15's service date is in the quarter
        "deferred_revenue_closing": "3000.00",
        "accounts_used": 7,  # 4000 5000 6100 6200 6400 6500 abc
        "expense_rows": 13,  # 2-8, 12, 17-21
        "expense_total": "-1530.99",
    }
    assert only(a, expected) == expected
    assert [(c["category"], c["rows"], str(c["total"])) for c in categories] == [
        ("fuel", 3, "-600.00"),
        ("insurance", 1, "-500.00"),
        ("travel", 2, "-174.99"),
        ("software", 5, "-146.00"),
        ("Meals", 1, "-80.00"),
        ("misc", 1, "-30.00"),
    ]
    fuel, _, travel, software, _, misc = categories
    assert (fuel["duplicates"], fuel["near_duplicates"]) == (1, 2)
    assert (software["outliers"], travel["missing_receipts"], misc["personal"]) == (1, 1, 1)
    assert "personal_total" not in fuel


def test_the_other_entity_and_the_consolidated_figures(ctx):
    got = accounting.compute(ctx)
    assert list(got) == ["consolidated", "a", "b"]
    b = money(got["b"])
    assert (b["expense_rows"], b["expense_total"], b["accounts_used"]) == (1, "-200.00", 2)
    assert (b["unearned_revenue"], b["unearned_revenue_rows"]) == ("800.00", 1)
    assert (b["deferred_revenue_booked"], b["deferred_revenue_closing"]) == ("800.00", "800.00")
    assert (b["duplicate_rows"], b["near_duplicate_pairs"], b["personal_total"]) == (0, 0, "0.00")
    assert (b["refund_total"], b["gift_card_revenue"]) == ("0.00", "0.00")
    c = money(got["consolidated"])
    c.pop("expense_categories")
    expected = {
        "duplicate_rows": 2,  # a2, a3 and b1 are one group
        "near_duplicate_pairs": 3,  # a4 follows a2, a3 and b1
        "uncategorized_rows": 2,
        "outlier_rows": 1,
        "missing_receipt_rows": 1,
        "unearned_revenue": "3800.00",
        "unearned_revenue_rows": 2,
        "personal_rows": 1,
        "personal_total": "-30.00",
        "refund_rows": 1,
        "refund_total": "-50.00",
        "gift_card_rows": 1,
        "gift_card_revenue": "100.00",
        "deferred_revenue_opening": "400.00",
        "deferred_revenue_booked": "3800.00",
        "deferred_revenue_recognised": "400.00",
        "deferred_revenue_closing": "3800.00",
        "accounts_used": 7,
        "expense_rows": 14,
        "expense_total": "-1730.99",
    }
    assert only(c, expected) == expected
    assert all(type(c[k]) is int for k in ("duplicate_rows", "expense_rows", "accounts_used"))


def test_personal_keywords_given_replace_the_defaults_and_none_given_keep_them(ctx):
    harbor = accounting.compute(ctx, ["harbor"])["a"]
    assert (harbor["personal_rows"], str(harbor["personal_total"])) == (1, "-500.00")
    default = accounting.compute(ctx, [])["a"]
    assert (default["personal_rows"], str(default["personal_total"])) == (1, "-30.00")
    with accounting.ExpenseFlags(ctx.ledger, AS_OF, []) as flags:
        assert sum(x["personal"] for x in flags.by_category(False)["a"]) == 0


def test_ledger_counts_list_the_first_rows_behind_each_issue(ctx):
    counts, issues = accounting.ledger_counts(ctx.ledger, AS_OF, cap=1)
    assert counts["a"]["uncategorized_rows"] == 2 and counts["consolidated"]["refund_rows"] == 1
    assert {k: {e: [r[:2] for r in rows] for e, rows in v.items()} for k, v in issues.items()} == {
        "uncategorized": {"a": [("a", 12)]},  # 16 is past the cap
        "unearned": {"a": [("a", 1)], "b": [("b", 2)]},
        "refund": {"a": [("a", 10)]},
        "gift": {"a": [("a", 11)]},
    }
    (first,) = issues["unearned"]["b"]
    assert first == ("b", 2, date(2025, 2, 15), date(2025, 6, 1), Decimal("800.00"), "4000",
                     "charter", "Client E", "")  # fmt: skip
    _, more = accounting.ledger_counts(ctx.ledger, AS_OF, cap=2)
    assert [r[1] for r in more["uncategorized"]["a"]] == [12, 16]


@pytest.mark.parametrize(
    "month,first", [(1, 1), (2, 1), (3, 1), (4, 4), (6, 4), (7, 7), (9, 7), (10, 10), (12, 10)]
)
def test_the_quarter_starts_on_the_first_of_january_april_july_or_october(month, first):
    assert accounting.quarter_start(date(2025, month, 15)) == date(2025, first, 1)


def test_an_entity_without_rows_has_zero_counts_and_zero_money():
    ctx = context([entity("a", A_ROWS), entity("empty")], AS_OF)
    empty = accounting.compute(ctx)["empty"]
    categories = empty.pop("expense_categories")
    assert categories == []
    assert {k: (type(v).__name__, str(v)) for k, v in empty.items()} == {
        **{k: ("int", "0") for k in accounting.COUNT_KEYS},
        **{k: ("Decimal", "0.00") for k in accounting.MONEY_KEYS},
    }


def test_at_most_10_rows_are_listed_per_issue_and_entity_by_default():
    rows = [row(f"2025-02-{d:02}", "-1.00", "6100", "misc", f"C{d}", receipt="r") for d in
            range(1, 13)]  # fmt: skip
    ctx = context([entity("a", rows)], AS_OF)
    _, issues = accounting.ledger_counts(ctx.ledger, AS_OF)
    assert [r[1] for r in issues["uncategorized"]["a"]] == list(range(1, 11))
    with accounting.ExpenseFlags(ctx.ledger, AS_OF, []) as flags:
        audited = accounting.audit(ctx, flags)
    assert len(audited.issues["uncategorized"]["a"]) == 10
    assert audited.metrics["a"]["uncategorized_rows"] == 12
