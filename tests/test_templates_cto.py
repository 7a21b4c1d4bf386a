"""The CTO report's words live in plugins/roles/templates/cto.md.j2: the built-in template
renders on the examples, on generated data and on a data set with empty tables; a user's
template can extend it and override single blocks; data is printed as text, never markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from datagen import make_dataset
from minidata import ROOT, PreviousReportArchive, section, write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
TEMPLATE = ROOT / "plugins" / "roles" / "templates" / "cto.md.j2"
HEADINGS = [
    "Security audit by stack",
    "Cost analysis",
    "CI/CD maturity",
    "Email authentication (SPF, DKIM, DMARC)",
    "UX gaps",
    "Top engineering actions",
]


def build(config: Path, previous=None):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    archive = PreviousReportArchive(previous) if previous is not None else None
    (item,) = build_reports(load_config(config), only=["cto"], archive=archive).items
    return item.report, item.rendered.markdown


def with_templates(config: Path, folder: str = "templates") -> Path:
    """The config with `[report] templates = folder`."""
    text = config.read_text()
    config.write_text(text.replace("[report]\n", f'[report]\ntemplates = "{folder}"\n', 1))
    return config


# a stack with every kind of row the template prints: checks, CI/CD, mail, UX
PROFILE = """name = "Acme"

[[assets]]
kind = "domain"
name = "acme.test"

[[stack]]
name = "api"
provider = "aws"
monthly_cost = "100.00"
mfa = true
tls = true
secrets_in_repo = true
ci = true
auto_deploy = true
ux_gaps = ["no mobile booking"]
lighthouse_mobile = 42

[[stack]]
name = "mail"
provider = "ses"
monthly_cost = "20.00"
sends_mail = true
spf = true
dkim = false
dmarc = "none"
managed = true
"""
LEDGER = HEADER + "2025-03-15,3000.00,4000,sales,Client,,,\n2025-03-20,-50.00,6200,software,X,,,\n"


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    write_entity(tmp_path / "data" / "acme", LEDGER, PROFILE)
    return write_config(tmp_path, '[roles.cto]\nsender_domain = "acme.test"\n')


# ------------------------------------------------------------------------- the built-in


def test_the_built_in_template_renders_every_section_and_the_subject(acme):
    report, markdown = build(acme)
    assert [s.heading for s in report.sections] == HEADINGS
    assert report.subject == "CTO Technology Review: Q1 2025 security, cost and CI/CD"
    for s in report.sections:
        assert s.body.splitlines()[-1].startswith("_How this was computed: "), s.heading
        assert "\n\n\n" not in s.body and s.body == s.body.strip()
    assert section(report, "Email authentication (SPF, DKIM, DMARC)").startswith(
        "The reports are sent from acme.test: Acme mail: fails dkim, dmarc.\n\n| Entity |"
    )
    cicd = section(report, "CI/CD maturity")
    assert "| Acme | api | yes | not recorded | yes | 1 | add tests: it deploys" in cicd
    # an item that records none of repo, ci, tests builds no code: no CI/CD row
    assert "| Acme | mail |" not in cicd


def test_the_built_in_template_renders_on_the_examples():
    report, markdown = build(ROOT / "examples" / "execreport.toml")
    assert [s.heading for s in report.sections][:4] == HEADINGS[:4]
    assert report.sections[-1].heading == "Top engineering actions"
    assert "DangerousCentaur | api | aws | $310.00 | 5/7 | backups, secrets_in_repo |" in markdown
    assert report.subject.endswith(" security, cost and CI/CD")


def test_the_built_in_template_renders_on_generated_data(tmp_path):
    config = make_dataset(tmp_path / "data", seed=7, n_entities=2, rows_per_entity=120)
    report, markdown = build(config)
    assert [s.heading for s in report.sections][:4] == HEADINGS[:4]
    top = section(report, "Top engineering actions")
    assert top.startswith(f"{len(report.actions)} actions (")


def test_entities_without_ledger_rows_or_stack_give_empty_tables(tmp_path):
    write_entity(tmp_path / "data" / "empty", HEADER, 'name = "Empty"\n')
    config = write_config(
        tmp_path, '[roles.cto]\nsender_domain = "example.com"\n', entities=("empty",)
    )
    report, _ = build(config)
    assert [s.heading for s in report.sections] == [h for h in HEADINGS if h != "UX gaps"]
    audit = section(report, "Security audit by stack")
    assert audit.startswith("0 of 0 checks pass (score n/a); 0 fail, each an action below.")
    assert "| none | no [[stack]] items | | | | |" in audit
    cost = section(report, "Cost analysis")
    assert "| **All entities** | $0.00 | $0.00 | n/a | $0.00 | $0.00 | $0.00 | n/a |" in cost
    assert "| Empty | $0.00 | $0.00 | n/a | $0.00 | $0.00 | $0.00 | n/a |" in cost
    assert "| none | no [[stack]] item builds code | | | | | |" in section(report, "CI/CD maturity")
    mail = section(report, "Email authentication (SPF, DKIM, DMARC)")
    assert mail.startswith("The reports are sent from example.com; no [[stack]] item")
    assert "| none | no item has sends_mail = true | | | | | | |" in mail
    top = section(report, "Top engineering actions")
    assert top.startswith("0 actions (0 critical, 0 warnings, 0 info)")
    assert report.actions == [] and report.findings == []


def test_unchanged_figures_say_so_in_the_changes_section(acme):
    from execreport import Report

    first, _ = build(acme)
    previous = Report(role="cto", title=first.title, metrics=first.metrics, actions=first.actions)
    report, _ = build(acme, previous)
    assert report.sections[-1].heading == "Changes since the last report"
    assert report.sections[-1].since_previous
    body = report.sections[-1].body
    n = len(first.actions)
    assert body.startswith(
        f"{n} of the last report's {n} actions are still open, 0 no longer raised, 0 new.\n\n"
        "No key figure changed.\n\n_How this was computed: "
    )


def test_every_variable_the_template_uses_is_documented():
    from execreport.plugins.roles.cto import CTO
    from execreport.templates import STANDARD_VARIABLES, check_role_template

    role = CTO()
    assert check_role_template(role, None) == "default:cto.md.j2"
    source = TEMPLATE.read_text()
    for name in role.template_variables:
        assert name not in STANDARD_VARIABLES
        assert re.search(rf"\b{name}\b", source), f"{name} is documented but unused"


# ------------------------------------------------------------------------- overrides


def block_source(name: str) -> str:
    """The built-in template's `{% block name %}...{% endblock %}`, as written."""
    source = TEMPLATE.read_text()
    start = source.index(f"{{% block {name} %}}")
    end = source.index("{% endblock %}", start) + len("{% endblock %}")
    return source[start:end]


def test_an_extending_template_drops_one_section_and_renames_another(acme):
    before, markdown_before = build(acme)
    folder = acme.parent / "templates"
    folder.mkdir()
    renamed = block_source("cicd_maturity").replace(
        'section("CI/CD maturity")', 'section("Delivery pipeline")'
    )
    (folder / "cto.md.j2").write_text(
        '{% extends "default:cto.md.j2" %}\n{% block ux_gaps %}{% endblock %}\n' + renamed + "\n"
    )
    after, markdown_after = build(with_templates(acme))

    expected = [
        s.model_copy(update={"heading": "Delivery pipeline"})
        if s.heading == "CI/CD maturity"
        else s
        for s in before.sections
        if s.heading != "UX gaps"
    ]
    assert after.sections == expected
    assert after.subject == before.subject
    assert (after.findings, after.actions, after.metrics) == (
        before.findings,
        before.actions,
        before.metrics,
    )
    ux = markdown_before.index("## UX gaps")
    dropped = markdown_before[ux : markdown_before.index("## Top engineering actions")]
    assert markdown_after == markdown_before.replace(dropped, "").replace(
        "## CI/CD maturity", "## Delivery pipeline"
    )


def test_a_template_in_the_folder_replaces_the_built_in_one(acme):
    folder = acme.parent / "templates"
    folder.mkdir()
    (folder / "cto.md.j2").write_text(
        "{% block subject %}Tech: {{ period }}{% endblock %}\n"
        '{% call section("Stack") %}{{ security.failed }} checks fail.{% endcall %}\n'
    )
    report, _ = build(with_templates(acme))
    assert report.subject == "Tech: Q1 2025"
    assert [(s.heading, s.body) for s in report.sections] == [("Stack", "14 checks fail.")]
    assert report.critical  # the analysis does not depend on the words


def test_a_block_the_built_in_template_does_not_have_is_a_one_line_error(acme):
    from execreport import ConfigError

    folder = acme.parent / "templates"
    folder.mkdir()
    (folder / "cto.md.j2").write_text(
        '{% extends "default:cto.md.j2" %}\n{% block cicd %}{% endblock %}\n'
    )
    with pytest.raises(ConfigError, match=r"cto\.md\.j2:2: block 'cicd' does not exist"):
        build(with_templates(acme))


# --------------------------------------------------------------------------- escaping

LINK = "[click](https://evil.example)"
EVIL_PROFILE = f"""name = "{LINK}"

[[assets]]
kind = "domain"
name = "# Heading"

[[stack]]
name = "# Heading"
provider = "{LINK}"
monthly_cost = "10.00"
sends_mail = true
spf = true
dkim = true
dmarc = "{LINK}"
ci = true
ux_gaps = ["{LINK}", "# Heading"]
lighthouse_mobile = "- item"
lighthouse_desktop = "1. first"
"""


def test_names_and_other_data_are_printed_as_text_not_markup(tmp_path):
    from execreport import Report

    write_entity(tmp_path / "data" / "evil", LEDGER, EVIL_PROFILE)
    config = write_config(tmp_path, '[roles.cto]\nsender_domain = "# heading"\n', ("evil",))
    first, _ = build(config)
    previous = Report(
        role="cto",
        title=first.title,
        metrics={"evil": {"security_checks_failed": 0}},
        actions=[],
    )
    report, markdown = build(config, previous)
    link, heading = r"\[click\](https\[:\]//evil.example)", r"\# Heading"

    assert LINK not in markdown  # never a link: every bracket is escaped
    # no heading but the report's own
    assert [line for line in markdown.splitlines() if line.startswith("#")] == [
        "# CTO Technology Review",
        "## Findings",
        *(f"## {s.heading}" for s in report.sections),
        "## Actions",
    ]
    audit = section(report, "Security audit by stack")
    assert f"| {link} | {heading} | {link} | $10.00 | 2/10 |" in audit
    assert (
        f"| {link} | {heading} | yes | not recorded | not recorded | 1 | run the automated tests"
        in section(report, "CI/CD maturity")
    )
    mail = section(report, "Email authentication (SPF, DKIM, DMARC)")
    assert mail.startswith(
        r"The reports are sent from \# heading: " + f"{link} {heading}: fails dmarc."
    )
    assert f"| {link} | {heading} | {heading} | yes | yes | {link} | fails dmarc |" in mail
    assert f"(now {link})" in mail  # the remedy names the DMARC policy as written
    ux = section(report, "UX gaps")
    assert f"| {link} | {heading} | \\- item | 1\\. first | {link}; {heading} |" in ux
    top = section(report, "Top engineering actions")
    assert f"{link} # Heading: " in top  # the critical/first action's title, escaped
    changes = section(report, "Changes since the last report")
    assert f"| {link} | failed security checks | 0 | 8 | +8 |" in changes
