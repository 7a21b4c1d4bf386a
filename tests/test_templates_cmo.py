"""The CMO report's words come from templates/cmo.md.j2: the built-in template renders on the
examples and on entities with nothing in them, a user's template that extends it changes
exactly the blocks it overrides, and data (names, channels, segments) is printed as text."""

from __future__ import annotations

import re
from pathlib import Path

from minidata import ROOT, PreviousReportArchive, section, write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
BUILT_IN = ROOT / "plugins" / "roles" / "templates" / "cmo.md.j2"
HEADINGS = [
    "Channel visibility matrix",
    "Channel economics",
    "Marketplace rollout sequence",
    "Email plan",
]


def build(config: Path, previous=None):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    archive = PreviousReportArchive(previous) if previous is not None else None
    result = build_reports(load_config(config), only=["cmo"], archive=archive)
    (item,) = result.items
    return item.report, item.rendered


def with_templates(config: Path) -> Path:
    """`[report] templates = "templates"` in a config written by write_config."""
    text = config.read_text()
    config.write_text(
        text.replace('period = "Q1 2025"\n', 'period = "Q1 2025"\ntemplates = "templates"\n')
    )
    (config.parent / "templates").mkdir(exist_ok=True)
    return config


# ------------------------------------------------------------------------ the built-in one


def test_the_built_in_template_documents_every_variable_it_uses():
    from execreport.plugins.roles.cmo import CMO
    from execreport.templates import check_role_template

    assert check_role_template(CMO(), None) == "default:cmo.md.j2"


def test_the_built_in_template_renders_the_examples():
    report, rendered = build(ROOT / "examples" / "execreport.toml")
    assert [s.heading for s in report.sections] == HEADINGS
    assert report.subject == "CMO Marketing Review: Q1 2025 channels, marketplaces and email plan"
    for s in report.sections:
        assert s.body.splitlines()[-1].startswith("_How this was computed: "), s.heading
        assert "\n\n\n" not in s.body and s.body == s.body.strip()
    assert "| Sailo | claimed (14 reviews, rating 4.9) |" in section(report, HEADINGS[0])
    assert "### JADA: 3,676 contacts" in rendered.markdown


def test_entities_with_nothing_in_them(tmp_path):
    """No ledger rows, no channels, no stack; one entity without an email list, one with a
    list and no mail-sending [[stack]] item."""
    write_entity(tmp_path / "data" / "bare", HEADER, 'name = "Bare"\n')
    write_entity(
        tmp_path / "data" / "list", HEADER, 'name = "Listy"\n[audience]\nemail_list = 30\n'
    )
    report, rendered = build(write_config(tmp_path, entities=("bare", "list")))
    assert [s.heading for s in report.sections] == HEADINGS
    matrix, economics, rollout, email = (section(report, h) for h in HEADINGS)
    assert matrix.splitlines()[0] == "0 channel listings live, 0 absent; email list 30 contacts."
    assert "| Channel | Bare | Listy |\n|---|---|---|\n| none | | |" in matrix
    assert "| Bare | $0.00 | 0 | n/a | none: no bookings |" in economics
    assert "| none | no channel has ledger rows or a commission | | | | | | | | |" in economics
    assert "No commission in the data" not in economics
    assert "| none | | nothing to roll out | | | | | | |" in rollout
    assert email.startswith("### Listy: 30 contacts\n\nBefore day 1: no [[stack]] item sends mail")
    assert "| 1 | 2025-04-01 | 30 |" in email
    assert "Segment" not in email
    assert "| Physical postal address in every email | **missing** |" in email
    assert "Bare" not in email

    write_entity(tmp_path / "data" / "list", HEADER, 'name = "Listy"\n')
    report, _ = build(write_config(tmp_path, entities=("bare", "list")))
    assert section(report, HEADINGS[0]).startswith(
        "0 channel listings live, 0 absent; email list not given."
    )
    assert section(report, "Email plan").startswith(
        "No entity gives an [audience] email_list.\n\n_How"
    )


def test_no_key_figure_changed_since_the_last_report(tmp_path):
    config = write_config(tmp_path)
    first, rendered = build(config)
    again, _ = build(config, previous=first)
    body = section(again, "Changes since the last report")
    assert again.sections[-1].since_previous
    assert body.splitlines()[:3] == [
        f"{len(first.actions)} of the last report's {len(first.actions)} actions are still open, "
        "0 no longer raised, 0 new.",
        "",
        "No key figure changed.",
    ]
    assert again.sections[:-1] == first.sections


# ------------------------------------------------------------------------------ an override


def test_an_override_that_extends_the_built_in_one_changes_only_its_blocks(tmp_path):
    config = write_config(tmp_path)
    before, _ = build(config)
    # the block as the built-in template writes it, renamed: what a user copies and edits
    block = re.search(
        r"{% block channel_economics %}.*?{% endblock %}", BUILT_IN.read_text(), re.S
    ).group(0)
    renamed = block.replace('section("Channel economics")', 'section("Booking economics")')
    assert renamed != block
    (with_templates(config).parent / "templates" / "cmo.md.j2").write_text(
        '{% extends "default:cmo.md.j2" %}\n{% block email_plan %}{% endblock %}\n' + renamed + "\n"
    )
    after, _ = build(config)
    assert [s.heading for s in after.sections] == [
        "Channel visibility matrix",
        "Booking economics",
        "Marketplace rollout sequence",
    ]
    old = {s.heading: s for s in before.sections}
    assert after.sections[0] == old["Channel visibility matrix"]
    assert after.sections[1].body == old["Channel economics"].body
    assert after.sections[2] == old["Marketplace rollout sequence"]
    assert (after.findings, after.actions, after.metrics, after.subject) == (
        before.findings,
        before.actions,
        before.metrics,
        before.subject,
    )


def test_an_override_of_the_subject_block(tmp_path):
    config = with_templates(write_config(tmp_path))
    (tmp_path / "templates" / "cmo.md.j2").write_text(
        '{% extends "default:cmo.md.j2" %}\n'
        "{% block subject %}Marketing, {{ period }}: {{ email_plans|length }} lists{% endblock %}\n"
    )
    report, _ = build(config)
    assert report.subject == "Marketing, Q1 2025: 1 lists"
    assert [s.heading for s in report.sections] == HEADINGS


# ------------------------------------------------------------------------------- escaping

LINK = "[click](https://evil.example)"
ESCAPED = "\\[click\\](https\\[:\\]//evil.example)"
EVIL_PROFILE = f"""name = "{LINK}"
kind = "charter"

[[channels]]
name = "# Heading"
status = "absent"
commission = "0.10"

[[channels]]
name = "{LINK}"
status = "{LINK}"
commission = "0.20"
reviews = 3
rating = 4.9

[[stack]]
name = "{LINK}"
sends_mail = true
spf = true
dkim = true
dmarc = "{LINK}"

[audience]
email_list = 100
segments = {{ "# Heading" = 10, "{LINK}" = 20 }}
physical_address = "{LINK}"
"""
LEDGER = HEADER + "2025-02-01,500.00,4000,charter,Client,,,\n"


def test_data_is_printed_as_text_wherever_the_template_prints_it(tmp_path):
    write_entity(tmp_path / "data" / "evil", LEDGER, EVIL_PROFILE)
    write_entity(
        tmp_path / "data" / "head", HEADER, 'name = "# Heading"\n[audience]\nemail_list = 5\n'
    )
    report, rendered = build(write_config(tmp_path, entities=("evil", "head")))
    md = rendered.markdown
    assert LINK not in md
    assert "https://evil.example" not in rendered.html.replace("https://evil.example)", "")
    assert 'href="https://evil.example"' not in rendered.html
    assert not [ln for ln in md.splitlines() if ln.startswith("# Heading")]
    bodies = {s.heading: s.body for s in report.sections}
    matrix = bodies["Channel visibility matrix"]
    assert f"| Channel | {ESCAPED} | \\# Heading |" in matrix
    assert "| \\# Heading | absent | - |" in matrix
    assert f"| {ESCAPED} | {ESCAPED} (3 reviews, rating 4.9) | - |" in matrix
    economics = bodies["Channel economics"]
    assert f"| {ESCAPED} | $500.00 | 1 | $500.00 | ledger |" in economics
    assert "| \\# Heading | $0.00 | 0 | n/a | none: no bookings |" in economics
    assert f"| {ESCAPED} | \\# Heading | absent | n/a |" in economics
    assert "configured commission 10.0% (entity.toml)" in economics
    # the status was printed as it was before templates; now it is data like any other
    assert f"| {ESCAPED} | {ESCAPED} | {ESCAPED} | n/a |" in economics
    rollout = bodies["Marketplace rollout sequence"]
    assert f"| {ESCAPED} | 1 | list on \\# Heading | absent | 10.0% |" in rollout
    email = bodies["Email plan"]
    assert f"### {ESCAPED}: 100 contacts" in email
    assert "### \\# Heading: 5 contacts" in email
    assert "| \\# Heading | 10 | 10.0% |" in email
    assert f"| {ESCAPED} | 20 | 20.0% |" in email
    assert f"Before day 1: fix the sending authentication of {ESCAPED} (DMARC {ESCAPED})" in email
    assert f"| Physical postal address in every email | present: {ESCAPED} |" in email


def test_escaped_names_in_the_changes_section(tmp_path):
    from execreport import Report

    write_entity(tmp_path / "data" / "evil", LEDGER, EVIL_PROFILE)
    config = write_config(tmp_path, entities=("evil",))
    previous = Report(
        role="cmo", title="CMO Marketing Review", metrics={"evil": {"email_list": 90}}
    )
    report, rendered = build(config, previous)
    body = section(report, "Changes since the last report")
    assert f"| {ESCAPED} | email list | 90 | 100 | +10 |" in body
    assert LINK not in rendered.markdown
