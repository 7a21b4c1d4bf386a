"""The CFO report's words are its template, templates/cfo.md.j2: it renders on real and on
empty data, a user's folder overrides single blocks, and data is text, never Markdown."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from minidata import ROOT, PreviousReportArchive, section, write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
HEADINGS = [
    "Cash, burn and runway",
    "Revenue booked and recognized",
    "Contribution margin and break-even",
    "Revenue target path",
    "Capital deployment (Profit First)",
    "Planned investments",
]
BLOCKS = [
    "subject",
    "sections",
    "cash_and_runway",
    "revenue_recognition",
    "contribution_margin",
    "revenue_target_path",
    "capital_deployment",
    "planned_investments",
    "changes",
]


def build_cfo(config: Path, *, archive: Any = None, as_of: Any = None) -> Any:
    """The CFO report built in process from a config file."""
    from execreport.config import load_config
    from execreport.pipeline import build

    result = build(load_config(config), only=["cfo"], archive=archive, as_of=as_of)
    (item,) = result.items
    return item


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    shutil.copy(ROOT / "examples" / "execreport.toml", root / "execreport.toml")
    shutil.copytree(ROOT / "examples" / "data", root / "data")
    return root / "execreport.toml"


def with_templates(config: Path, files: dict[str, str]) -> Path:
    """`config` with `[report] templates = "templates"` and those files in the folder."""
    folder = config.parent / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    text = config.read_text()
    if 'templates = "templates"' not in text:
        text = text.replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
    out = config.with_name("with-templates.toml")
    out.write_text(text)
    return out


# ------------------------------------------------------------------------ the built-in template


def test_the_builtin_template_renders_every_section_on_the_examples(examples: Path) -> None:
    item = build_cfo(examples)
    report = item.report
    assert [s.heading for s in report.sections] == HEADINGS
    assert report.subject == "CFO Financial Review: Q1 2025 burn, runway and break-even"
    for s in report.sections:
        assert s.body.splitlines()[-1].startswith("_How this was computed:")
        assert not s.since_previous
    cash = section(report, "Cash, burn and runway")
    assert "| **All entities** | $94,737.32 |" in cash
    assert "| DangerousCentaur | -$5,806.41 |" in cash and "critical: negative cash |" in cash


def test_the_builtin_template_passes_the_check_of_variables_and_blocks() -> None:
    from execreport.plugins.roles.cfo import CFO
    from execreport.templates import check_role_template, describe

    assert check_role_template(CFO(), None) == "default:cfo.md.j2"
    assert describe(CFO(), None).blocks == BLOCKS


def test_every_variable_the_role_gives_is_documented(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`execreport templates show cfo --vars` lists what build passes, no more, no less."""
    import execreport
    from execreport.plugins.roles.cfo import CFO

    seen: dict[str, Any] = {}
    original = execreport.render_template

    def spy(ctx: Any, role: Any, variables: dict[str, Any]) -> Any:
        seen.update(variables)
        return original(ctx, role, variables)

    monkeypatch.setattr(execreport, "render_template", spy)
    build_cfo(examples)
    assert seen and set(seen) == set(CFO.template_variables)


def test_the_builtin_template_renders_entities_without_ledger_rows(tmp_path: Path) -> None:
    for key, name in (("empty", "Empty Co"), ("bare", "Bare Co")):
        write_entity(tmp_path / "data" / key, HEADER, f'name = "{name}"\nopening_cash = "0"\n')
    report = build_cfo(write_config(tmp_path, entities=("empty", "bare"))).report
    assert [s.heading for s in report.sections] == HEADINGS
    cash = section(report, "Cash, burn and runway")
    assert (
        "| Empty Co | $0.00 | $0.00 | no data a year back | $0.00 | $0.00 | not burning cash "
        "| $0.00 in 2025-04 | stays positive through 2026-03 | $0.00 | ok |"
    ) in cash
    cm = section(report, "Contribution margin and break-even")
    assert "| Bare Co | $0.00 | $0.00 | n/a | $0.00 | n/a | n/a | n/a |" in cm
    path = section(report, "Revenue target path")
    assert (
        "- Empty Co: no target path: the contribution margin is n/a, so no revenue level "
        "breaks even"
    ) in path
    assert "| 2025-04 | n/a | n/a | n/a |" in path
    alloc = section(report, "Capital deployment (Profit First)")
    assert "| Empty Co | $0.00 | $0.00 | $0.00 | $0.00 | $0.00 | $0.00 | under by $0.00 |" in alloc
    assert section(report, "Planned investments").startswith("No planned investments")


def test_planned_investments_render_as_a_table(tmp_path: Path) -> None:
    extra = (
        "\n[[roles.cfo.investments]]\n"
        'name = "Second boat"\nentity = "acme"\namount = "12000.00"\nmonthly_return = "0"\n'
    )
    report = build_cfo(write_config(tmp_path, extra=extra)).report
    body = section(report, "Planned investments")
    assert "| Investment | Entity | Amount | Return/mo | Payback | Runway | Cash |" in body
    assert "| Second boat | Acme Charters | $12,000.00 | $0.00 | never |" in body


# ------------------------------------------------------------------------ overrides


OVERRIDE = """\
{% extends "default:cfo.md.j2" %}
{% block planned_investments %}{% endblock %}
{% block capital_deployment %}{% call section("Spending plan") %}{{ super() }}{% endcall %}\
{% endblock %}
"""


def test_an_override_drops_one_section_and_renames_another_and_nothing_else(
    examples: Path,
) -> None:
    before = build_cfo(examples).report
    after = build_cfo(with_templates(examples, {"cfo.md.j2": OVERRIDE})).report
    expected = [
        (("Spending plan" if s.heading.startswith("Capital") else s.heading), s.body)
        for s in before.sections
        if s.heading != "Planned investments"
    ]
    assert [(s.heading, s.body) for s in after.sections] == expected
    assert after.subject == before.subject
    assert after.findings == before.findings and after.actions == before.actions
    assert after.metrics == before.metrics


def test_an_override_changes_one_table_column_wording(examples: Path) -> None:
    override = """\
{% extends "default:cfo.md.j2" %}
{% block cash_and_runway %}
{% call section("Runway") %}
{% for s in scopes if not s.consolidated %}
- {{ s.name }}: {{ months(s.runway_months) if s.runway_months is not none else "not burning" }}
{% endfor %}
{% endcall %}
{% endblock %}
"""
    report = build_cfo(with_templates(examples, {"cfo.md.j2": override})).report
    assert report.sections[0].heading == "Runway"
    assert report.sections[0].body.splitlines()[:2] == [
        "- JADA: 3.63 months",
        "- QueenofSanDiego: not burning",
    ]
    assert [s.heading for s in report.sections[1:]] == HEADINGS[1:]


def test_the_subject_setting_replaces_the_subject_block(tmp_path: Path) -> None:
    extra = '\n[roles.cfo]\nsubject = "Cash: {{ scopes[0].cash|money }} ({{ period }})"\n'
    assert build_cfo(write_config(tmp_path, extra=extra)).report.subject == (
        "Cash: $4,500.00 (Q1 2025)"
    )


# ------------------------------------------------------------------------ data is text


@pytest.mark.parametrize("name", ["[click](https://evil.example)", "# Heading", "**loud** _x_"])
def test_names_are_escaped_wherever_the_template_prints_them(tmp_path: Path, name: str) -> None:
    import markdown

    profile = f'name = "{name}"\nopening_cash = "100.00"\nopening_date = "2024-01-01"\n'
    ledger = HEADER + "2025-03-01,-500.00,6100,insurance,Insurer,,,r\n"
    write_entity(tmp_path / "data" / "acme", ledger, profile)
    extra = (
        "\n[[roles.cfo.investments]]\n"
        f'name = "{name}"\nentity = "acme"\namount = "10.00"\nmonthly_return = "1.00"\n'
    )
    config = write_config(tmp_path, extra=extra)
    first = build_cfo(config).report
    # a previous report without the entity: the changes section prints the name too
    first.metrics.pop("acme")
    report = build_cfo(config, archive=PreviousReportArchive(first)).report
    from execreport.templates import md_text

    escaped = md_text(name)
    assert escaped != name
    bodies = {s.heading: s.body for s in report.sections}
    for heading in [*HEADINGS[:4], "Changes since the last report"]:
        assert escaped in bodies[heading], heading
    assert f"| {escaped} | {escaped} | $10.00 |" in bodies["Planned investments"]
    html = markdown.markdown("\n\n".join(bodies.values()), extensions=["tables", "sane_lists"])
    assert "<a " not in html and "<h1" not in html and "<strong>loud" not in html
    assert "<em>x" not in html


# ------------------------------------------------------------------------ changes


def test_changes_are_typed_deltas_and_the_template_words_them(tmp_path: Path) -> None:
    from execreport.plugins.roles.cfo import KEY_FIGURES, figure_changes

    config = write_config(tmp_path, entities=("acme", "beta"))
    first = build_cfo(config).report
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text() + "2025-03-25,1400.00,4000,charter,Client D,,,\n")
    item = build_cfo(config, archive=PreviousReportArchive(first))
    changes = figure_changes(
        first,
        item.report.metrics,
        KEY_FIGURES,
        [("consolidated", ""), ("acme", "Acme Charters"), ("beta", "Acme Charters")],
    )
    assert changes is not None
    assert [s.key for s in changes.scopes] == ["consolidated", "acme"]  # beta did not change
    cash = changes.scopes[1].figures[0]
    assert (cash.figure, cash.kind, cash.before, cash.after) == (
        "cash",
        "money",
        Decimal("4500.00"),
        Decimal("5900.00"),
    )
    assert (cash.direction, cash.size) == ("up", Decimal("1400.00"))
    body = section(item.report, "Changes since the last report")
    assert body.splitlines()[1].startswith(
        "- Acme Charters: cash up $1,400.00 ($4,500.00 → $5,900.00); revenue (3 months) up "
        "$1,400.00 ($4,500.00 → $5,900.00)"
    )
    (changed,) = [s for s in item.report.sections if s.since_previous]
    assert changed.heading == "Changes since the last report"
    assert item.report.sections[-1] is changed


def test_no_changes_section_without_a_previous_report_or_when_nothing_changed(
    tmp_path: Path,
) -> None:
    from execreport.plugins.roles.cfo import KEY_FIGURES, figure_changes

    config = write_config(tmp_path)
    first = build_cfo(config).report
    assert figure_changes(None, first.metrics, KEY_FIGURES, [("acme", "Acme")]) is None
    again = build_cfo(config, archive=PreviousReportArchive(first)).report
    assert [s.heading for s in again.sections] == HEADINGS


def test_a_count_or_a_figure_that_was_n_a_has_no_direction() -> None:
    from execreport.plugins.roles.cfo import FigureChange

    assert FigureChange("duplicates", "count", Decimal(2), Decimal(1)).direction is None
    assert FigureChange("runway_months", "months", None, Decimal("2.5")).direction is None
    assert FigureChange("runway_months", "months", None, Decimal("2.5")).size is None
    assert FigureChange("cm_ratio", "ratio", Decimal("0.5"), Decimal("0.45")).direction == "down"


def test_an_override_rewords_the_changes_from_the_same_data(tmp_path: Path) -> None:
    override = """\
{% extends "default:cfo.md.j2" %}
{% block changes %}
{% if changes is not none %}
{% call section("What moved", since_previous=True) %}
{% for s in changes.scopes %}
{% for c in s.figures %}
- {{ s.name or "All" }} {{ c.figure }}: {{ c.before }} to {{ c.after }}
{% endfor %}
{% endfor %}
{% endcall %}
{% endif %}
{% endblock %}
"""
    config = write_config(tmp_path)
    first = build_cfo(config).report
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text() + "2025-03-25,1400.00,4000,charter,Client D,,,\n")
    config = with_templates(config, {"cfo.md.j2": override})
    report = build_cfo(config, archive=PreviousReportArchive(first)).report
    body = section(report, "What moved")
    assert "- Acme Charters cash: 4500.00 to 5900.00" in body
    assert report.sections[-1].since_previous
