"""The Accounting report's words come from templates/accounting.md.j2: the built-in template
renders on the examples and on empty data, a user's template extends it block by block, and
data printed by it stays text."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from minidata import ROOT, cli, table_rows, write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
AS_OF = date(2025, 3, 31)
HEADINGS = [
    "Chart of accounts in use",
    "Expense audit by category",
    "Revenue recognition",
    "Deferred revenue roll-forward",
    "Milestone roadmap to profitability",
]


def build_json(config: Path, *extra: str) -> dict[str, Any]:
    done = cli("build", "--json", "-q", "--config", str(config), "-r", "accounting", *extra)
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    return report


def build_text(config: Path, *extra: str) -> str:
    done = cli("build", "-q", "--config", str(config), "-r", "accounting", *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(*lines: tuple[str, ...]) -> list[dict[str, Any]]:
    keys = ("date", "amount", "account", "category", "counterparty", "memo", "service_date")
    out = []
    for n, values in enumerate(lines, 2):
        r = dict(zip(keys, values + ("",) * (len(keys) - len(values)), strict=True))
        out.append(
            {
                **r,
                "line": n,
                "date": date.fromisoformat(r["date"]),
                "amount": Decimal(r["amount"]),
                "service_date": date.fromisoformat(r["service_date"])
                if r["service_date"]
                else None,
                "receipt": "",
            }
        )
    return out


def build_role(entities: dict[str, tuple[str, list[dict[str, Any]]]], **ctx_args: Any) -> Any:
    """The Accounting report of `entities` ({key: (name, ledger rows)}), in process."""
    from execreport import Entity, Ledger, RoleContext
    from execreport.ledger import use_database
    from execreport.plugins.roles.accounting import Accounting

    with use_database():
        ents = [
            Entity(key=key, name=name, ledger=Ledger.from_rows(lines, key))
            for key, (name, lines) in entities.items()
        ]
        ctx = RoleContext(
            entities=ents,
            ledger=Ledger.consolidate([e.ledger for e in ents]),
            as_of=AS_OF,
            period="Q1 2025",
            **ctx_args,
        )
        return Accounting().build(ctx)


# ------------------------------------------------------------------------ the built-in template


def test_the_built_in_template_renders_every_section_on_the_examples(tmp_path):
    ignore = shutil.ignore_patterns(".execreport", "outbox", "execreport-coo")
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=ignore)
    config = tmp_path / "examples" / "execreport.toml"
    report = build_json(config)
    assert [s["heading"] for s in report["sections"]] == HEADINGS
    assert report["subject"] == "Accounting Review: Q1 2025 expense audit and revenue recognition"
    for section in report["sections"]:
        assert section["body"].splitlines()[-1].startswith("_How this was computed:")
    text = build_text(config)
    assert "| **All entities** | all categories |" in text
    assert "| Account | Class | Name | Rows | Total | Rows by entity (its own name) |" in text


def test_the_built_in_template_renders_entities_without_ledger_rows():
    report = build_role({"a": ("Alpha", []), "b": ("Beta", [])})
    assert [s.heading for s in report.sections] == HEADINGS
    body = {s.heading: s.body for s in report.sections}
    # the chart of accounts is a table without rows, the detail tables say there is nothing
    chart = body["Chart of accounts in use"].splitlines()
    assert chart[2] == "" and chart[3].startswith("_How this was computed:")
    assert "Categories with findings, by entity:\n\nNone.\n\n" in body["Expense audit by category"]
    assert (
        "No revenue booked before its service date, no refunds and no gift cards."
        in (body["Revenue recognition"])
    )
    assert "| Beta | $0.00 | $0.00 | $0.00 | $0.00 |" in body["Deferred revenue roll-forward"]
    assert (
        "| Alpha | $0.00 | n/a | n/a | no break-even (no revenue) | n/a |"
        in (body["Milestone roadmap to profitability"])
    )
    assert report.findings == [] and report.actions == []


def test_the_built_in_template_renders_without_any_entity():
    report = build_role({})
    assert [s.heading for s in report.sections] == HEADINGS
    assert "Uncategorized rows (any account, the audit window 2024-03-31 (exclusive) to " in (
        report.sections[1].body
    )


def test_the_changes_section_compares_with_the_previous_report():
    ledger = rows(
        ("2025-01-05", "-42.10", "6200", "Software", "Acme SaaS", ""),
        ("2025-01-05", "-42.10", "6200", "Software", "Acme SaaS", ""),
        ("2025-03-01", "1200.00", "4000", "Charter", "Client A", "deposit", "2025-05-01"),
    )
    now = build_role({"acme": ("Acme", ledger)})
    previous = now.model_copy(deep=True)
    previous.metrics["acme"]["duplicate_rows"] = 3
    previous.metrics["acme"]["unearned_revenue"] = Decimal("1000.00")
    previous.metrics["consolidated"]["unearned_revenue"] = None
    later = build_role({"acme": ("Acme", ledger)}, previous=previous)
    (changes,) = [s for s in later.sections if s.heading == "Changes since the last report"]
    assert changes.since_previous
    assert changes.body.splitlines()[:2] == [
        "- **All entities**: unearned revenue n/a → $1,200.00",
        "- Acme: duplicates 3 → 1; unearned revenue up $200.00 ($1,000.00 → $1,200.00)",
    ]
    assert changes.body.splitlines()[-1].startswith("_How this was computed: each figure")
    # the same figures: no section
    same = build_role({"acme": ("Acme", ledger)}, previous=now)
    assert "Changes since the last report" not in [s.heading for s in same.sections]


def test_a_new_entity_and_unchanged_key_figures_are_said_so():
    ledger = rows(("2025-01-05", "-42.10", "6200", "Software", "Acme SaaS", ""))
    now = build_role({"acme": ("Acme", ledger)})
    previous = now.model_copy(deep=True)
    previous.metrics["consolidated"]["expense_rows"] = 7  # not a key figure
    same = build_role({"acme": ("Acme", ledger)}, previous=previous)
    assert same.sections[-1].body.splitlines()[0] == (
        "No key figure changed since the last report."
    )
    del previous.metrics["acme"]
    new = build_role({"acme": ("Acme", ledger)}, previous=previous)
    assert new.sections[-1].body.splitlines()[0] == "- Acme: new in this report"


# ------------------------------------------------------------------------ a user's template

OVERRIDE = """{% extends "default:accounting.md.j2" %}
{% block deferred_revenue %}{% endblock %}
{% block milestone_roadmap %}
{% from "accounting_macros.md.j2" import label with context %}
{% call section("Road to profit") %}
{% for r in roadmap %}
- {{ label(r.scope) }}: break-even {{ r.break_even|money }}
{% endfor %}
{% endcall %}
{% endblock %}
"""


def test_an_override_drops_one_block_and_renames_another_section(tmp_path):
    ledger = HEADER + (
        "2025-01-10,3000.00,4000,charter,Client A,,,\n"
        "2025-01-15,-900.00,5000,fuel,Fuel Dock,,,r\n"
        "2025-02-20,-3500.00,6100,slip fees,Marina,,,r\n"
    )
    write_entity(tmp_path / "data" / "acme", ledger, 'name = "Acme Charters"\n')
    plain = write_config(tmp_path, entities=("acme",))
    before = build_json(plain)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "accounting.md.j2").write_text(OVERRIDE)
    text = plain.read_text().replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
    custom = tmp_path / "custom.toml"
    custom.write_text(text)
    after = build_json(custom)

    headings = [s["heading"] for s in before["sections"]]
    expected = [h for h in headings if h != "Deferred revenue roll-forward"]
    expected[expected.index("Milestone roadmap to profitability")] = "Road to profit"
    assert [s["heading"] for s in after["sections"]] == expected
    renamed = after["sections"][expected.index("Road to profit")]["body"]
    (road,) = [x["body"] for x in before["sections"] if x["heading"].startswith("Milestone")]
    break_even = table_rows(road, "**All entities**")[0][2]
    assert renamed.splitlines() == [
        f"- **All entities**: break-even {break_even}",
        f"- Acme Charters: break-even {break_even}",
    ]
    # every other section, the findings, actions, metrics and subject are as they were
    kept = {s["heading"]: s for s in before["sections"]}
    for s in after["sections"]:
        if s["heading"] != "Road to profit":
            assert s == kept[s["heading"]]
    for key in ("findings", "actions", "metrics", "subject"):
        assert after[key] == before[key]


def test_an_override_folder_given_to_the_role_context(tmp_path):
    (tmp_path / "accounting.md.j2").write_text(
        '{% extends "default:accounting.md.j2" %}\n'
        "{% block subject %}Books: {{ period }}{% endblock %}\n"
        "{% block chart_of_accounts %}{% endblock %}\n"
    )
    report = build_role({"a": ("Alpha", [])}, template_folder=tmp_path)
    assert report.subject == "Books: Q1 2025"
    assert [s.heading for s in report.sections] == HEADINGS[1:]


def test_the_template_declares_every_variable_it_uses():
    from execreport.plugins.roles.accounting import Accounting
    from execreport.templates import check_role_template

    where = check_role_template(Accounting(), None)
    assert where == "default:accounting.md.j2"


# ------------------------------------------------------------------------ data stays text

LINK = "[click](https://evil.example)"
HEADING = "# Heading"


@pytest.fixture(scope="module")
def hostile() -> Any:
    """An entity named like a link, with counterparties and categories that look like
    Markdown (a link, a heading, a list item), and a previous report to compare with."""
    ledger = rows(
        ("2025-01-05", "-42.10", "6200", HEADING, LINK, ""),
        ("2025-01-05", "-42.10", "6200", HEADING, LINK, ""),
        ("2025-03-01", "1200.00", "4000", "Charter", HEADING, "deposit", "2025-05-01"),
        ("2025-02-20", "-300.00", "4900", "Refund", "- item", ""),
        ("2025-03-05", "100.00", "4000", LINK, "Walk-in", "gift card sold"),
        ("2025-02-02", "-30.00", "7900", "", "1. first", ""),
        ("2025-02-04", "-25.00", "[x]", "Insurance", "Insurer", ""),
        ("2025-03-06", "50.00", "2400", "1. first", "Walk-in", "gift card sold"),
    )
    entities = {"evil": (LINK, ledger), "head": (HEADING, ledger[:2])}
    first = build_role(entities)
    previous = first.model_copy(deep=True)
    for scope in previous.metrics.values():
        scope["duplicate_rows"] += 1
    return build_role(entities, previous=previous)


def test_names_counterparties_and_categories_are_printed_as_text(hostile):
    text = "\n".join(s.body for s in hostile.sections)
    assert "evil.example" in text  # as text (md_escape defangs the scheme)
    # never a link, a heading or a list item: the markup is escaped wherever data is printed
    assert "[click](" not in text
    assert text.count("\\[click\\](https\\[:\\]//evil.example)") >= 10
    assert "\n#" not in text and "| # " not in text and ", # " not in text
    assert "| \\# Heading |" in text  # the entity, the category, the counterparty
    assert "| gift card | 2025-03-06 |  | 2400 | 1\\. first |" in text
    assert "| refund | 2025-02-20 |  | 4900 | \\- item |" in text
    assert "| \\[x\\] | not a valid account |" in text
    for section in hostile.sections:
        for line in section.body.splitlines():
            assert not line.startswith(("#", ">", "[")), line


def test_each_section_escapes_the_entity_names(hostile):
    bodies = {s.heading: s.body for s in hostile.sections}
    assert (
        "\\[click\\](https\\[:\\]//evil.example) 2, \\# Heading 2 |"
        in (bodies["Chart of accounts in use"])
    )
    assert "| \\# Heading | all categories |" in bodies["Expense audit by category"]
    assert (
        "**All entities** 2, \\[click\\](https\\[:\\]//evil.example) 2, \\# Heading 0."
        in (bodies["Expense audit by category"])
    )
    for heading in ("Revenue recognition", "Deferred revenue roll-forward"):
        assert "| \\# Heading | $0.00 |" in bodies[heading]
    assert "| \\# Heading | $0.00 | n/a |" in bodies["Milestone roadmap to profitability"]
    changes = bodies["Changes since the last report"].splitlines()
    # before the template, `- # Heading: ...` made a heading inside the list item
    assert "- \\# Heading: duplicates 2 → 1" in changes
    assert "- \\[click\\](https\\[:\\]//evil.example): duplicates 2 → 1" in changes


def test_findings_and_actions_keep_the_data_as_written(hostile):
    # they travel alone (the CEO's list, kanban cards); the renderer escapes them there
    assert any(LINK in f.message for f in hostile.findings)
    assert any(HEADING in a.title for a in hostile.actions)
