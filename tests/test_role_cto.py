"""The CTO report on a hand-computed data set: every figure, each planted finding, the
ranking of the engineering actions, and the changes since the last report."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minidata import PreviousReportArchive, cli, section, write_config, write_entity

AS_OF = date(2025, 3, 31)
HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"

# Trailing 3 months Jan-Mar 2025. Revenue 9000 -> 3000/month.
# Hosting/software spend: Jan 50 (account 6200); Feb 100 (6200); Mar 150 (category hosting)
# + 30 (category "Software", any case) - 10 (a refund on 6200) = 170. MoM (170-100)/100 = 70%.
# Average (50 + 100 + 170) / 3 = 106.67. Outside the window: 2024-12-15 and 2025-04-01.
ACME_LEDGER = HEADER + (
    "2024-12-15,-999.00,6200,software,Old,,,\n"
    "2025-01-10,-50.00,6200,tools,Tooling Inc,,,\n"
    "2025-01-15,3000.00,4000,sales,Client,,,\n"
    "2025-02-03,-100.00,6200,subscriptions,SaaS Co,,,\n"
    "2025-02-15,3000.00,4000,sales,Client,,,\n"
    "2025-03-03,-150.00,5500,hosting,AWS,,,\n"
    "2025-03-05,-30.00,6900,Software,Editor Ltd,,,\n"
    "2025-03-15,3000.00,4000,sales,Client,,,\n"
    "2025-03-20,10.00,6200,software,SaaS Co,refund,,\n"
    "2025-04-01,-500.00,6200,software,Later,,,\n"
)

# api: 7 checks, secrets_in_repo fails (critical); CI without tests but auto deploy (level
# 1, a warning); UX keys present. mail: 10 checks; hsts, dkim, dmarc fail; managed: no CI/CD.
# 17 checks, 4 failed: score 13/17 = 0.7647 -> 0.76. Stack cost 120.00 = 4.00% of revenue.
ACME_PROFILE = """name = "Acme|Labs"
kind = "software"

[[assets]]
kind = "domain"
name = "acme.test"

[[stack]]
name = "api"
provider = "aws"
monthly_cost = "100.00"
mfa = true
tls = true
hsts = true
backups = true
dependency_updates = true
logging = true
secrets_in_repo = true
ci = true
tests = false
auto_deploy = true
ux_gaps = ["no mobile booking"]
lighthouse_mobile = 42

[[stack]]
name = "mail"
provider = "ses"
monthly_cost = "20.00"
mfa = true
tls = true
hsts = false
backups = true
dependency_updates = true
logging = true
secrets_in_repo = false
sends_mail = true
spf = true
dkim = false
dmarc = "none"
ci = true
tests = true
managed = true
"""

# beta: no stack; revenue 1000 in March (333.33/month); 40.00 of software in March that no
# [[stack]] item lists (info).
BETA_LEDGER = HEADER + (
    "2025-03-10,1000.00,4000,sales,Client,,,\n2025-03-11,-40.00,6200,software,Zapier,,,\n"
)
BETA_PROFILE = 'name = "Beta"\nkind = "other"\n'

CONFIG = """
[roles.cto]
cost_share_warning_pct = 3
sender_domain = "acme.test"
"""


@pytest.fixture
def holding(tmp_path: Path) -> Path:
    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    write_entity(tmp_path / "data" / "beta", BETA_LEDGER, BETA_PROFILE)
    return write_config(tmp_path, CONFIG, entities=("acme", "beta"))


def build(config: Path, previous=None):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    archive = PreviousReportArchive(previous) if previous is not None else None
    result = build_reports(load_config(config), only=["cto"], archive=archive)
    (item,) = result.items
    return item.report, item.rendered.markdown


# ------------------------------------------------------------------------------- figures


def test_cto_figures_per_entity_and_consolidated(holding):
    done = cli("build", "--json", "-q", "--config", str(holding), "-r", "cto")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    m = report["metrics"]
    assert m["acme"] == {
        "stack_monthly_cost": "120.00",
        "security_checks": 17,
        "security_checks_failed": 4,
        "security_score": 0.76,
        "revenue_monthly_3m": "3000.00",
        "stack_cost_pct_of_revenue": 4.0,
        "software_spend_monthly_3m": "106.67",
        "software_spend_prior_month": "100.00",
        "software_spend_last_month": "170.00",
        "software_spend_mom_pct": 70.0,
        "cicd_average_level": 1.0,
        "mail_items": 1,
        "mail_items_authenticated": 0,
    }
    assert m["beta"] == {
        "stack_monthly_cost": "0.00",
        "security_checks": 0,
        "security_checks_failed": 0,
        "security_score": None,
        "revenue_monthly_3m": "333.33",
        "stack_cost_pct_of_revenue": 0.0,
        "software_spend_monthly_3m": "13.33",
        "software_spend_prior_month": "0.00",
        "software_spend_last_month": "40.00",
        "software_spend_mom_pct": None,  # nothing the month before: no growth rate
        "cicd_average_level": None,
        "mail_items": 0,
        "mail_items_authenticated": 0,
    }
    # revenue 10000/3 = 3333.33; 120 / 3333.33 = 3.60%; spend Mar 170 + 40 = 210: +110%
    assert m["consolidated"] == {
        "stack_monthly_cost": "120.00",
        "security_checks": 17,
        "security_checks_failed": 4,
        "security_score": 0.76,
        "revenue_monthly_3m": "3333.33",
        "stack_cost_pct_of_revenue": 3.6,
        "software_spend_monthly_3m": "120.00",
        "software_spend_prior_month": "100.00",
        "software_spend_last_month": "210.00",
        "software_spend_mom_pct": 110.0,
        "cicd_average_level": 1.0,
        "mail_items": 1,
        "mail_items_authenticated": 0,
    }
    assert report["critical"] is True


def test_software_accounts_and_categories_are_configurable(tmp_path):
    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    cfg = write_config(
        tmp_path,
        '[roles.cto]\nsoftware_accounts = ["6900"]\nsoftware_categories = ["tools"]\n',
        entities=("acme",),
    )
    report, _ = build(cfg)
    # Jan 50 (category tools), Feb 0, Mar 30 (account 6900)
    assert report.metrics["acme"]["software_spend_prior_month"] == Decimal("0.00")
    assert report.metrics["acme"]["software_spend_last_month"] == Decimal("30.00")
    assert report.metrics["acme"]["software_spend_monthly_3m"] == Decimal("26.67")


# ------------------------------------------------------------------------------ findings


def test_secrets_in_a_repository_are_a_critical_finding_naming_entity_and_item(holding):
    report, markdown = build(holding)
    critical = [f for f in report.findings if f.severity == "critical"]
    assert [(f.entity, f.message) for f in critical] == [
        (
            "acme",
            "Acme|Labs api (aws): secrets are committed to the repository "
            "(secrets_in_repo = true) (entity.toml [[stack]])",
        )
    ]
    assert report.critical
    assert "> **Critical attention needed:**" in markdown


def test_each_failed_check_and_planted_problem_is_a_finding(holding):
    report, _ = build(holding)
    found = {(f.severity.value, f.entity, f.message) for f in report.findings}
    where = "(entity.toml [[stack]])"
    assert found == {
        (
            "critical",
            "acme",
            f"Acme|Labs api (aws): secrets are committed to the repository "
            f"(secrets_in_repo = true) {where}",
        ),
        ("warning", "acme", f"Acme|Labs mail (ses): hsts is false {where}"),
        ("warning", "acme", f"Acme|Labs mail (ses): dkim is false {where}"),
        (
            "warning",
            "acme",
            # one DMARC record per domain: judged, and named, per domain
            "acme.test: DMARC policy is none, not quarantine or reject (Acme|Labs mail; "
            "entity.toml [[stack]] dmarc)",
        ),
        (
            "warning",
            "acme",
            "Acme|Labs api (aws): deploys automatically without automated tests "
            "(auto_deploy = true, tests = false; entity.toml [[stack]])",
        ),
        (
            "warning",
            "acme",
            "Acme|Labs api (aws): Lighthouse mobile score 42 is poor (under 50; "
            "entity.toml [[stack]] lighthouse_mobile)",
        ),
        (
            "info",
            "acme",
            "Acme|Labs api (aws): UX gap: no mobile booking (entity.toml [[stack]] ux_gaps)",
        ),
        (
            "warning",
            "acme",
            "Acme|Labs stack costs $120.00/month, 4.00% of its monthly revenue of $3,000.00 "
            "(over 3%; entity.toml [[stack]] monthly_cost, ledger.csv 4xxx)",
        ),
        (
            "warning",
            "acme",
            "Acme|Labs hosting/software spend rose 70.00% from $100.00 in February 2025 to "
            "$170.00 in March 2025 (over 20%; ledger.csv)",
        ),
        (
            "info",
            "beta",
            "Beta ledger hosting/software spend averages $13.33/month, $13.33 more than the "
            "$0.00 the [[stack]] lists: services missing from the stack inventory "
            "(ledger.csv, entity.toml)",
        ),
    }


def test_a_missing_check_field_fails_as_not_recorded(tmp_path):
    profile = 'name = "Gamma"\n[[stack]]\nname = "site"\ntls = true\nmfa = "yes"\n'
    write_entity(tmp_path / "data" / "gamma", HEADER, profile)
    report, _ = build(write_config(tmp_path, entities=("gamma",)))
    assert report.metrics["gamma"]["security_checks_failed"] == 6
    messages = [f.message for f in report.findings]
    assert (
        "Gamma site: hsts is not recorded (a missing field fails its check) (entity.toml [[stack]])"
        in messages
    )
    assert "Gamma site: mfa is 'yes', not a TOML true/false (entity.toml [[stack]])" in messages
    secrets = [f for f in report.findings if "secrets_in_repo" in f.message]
    assert [f.severity for f in secrets] == ["warning"]  # unknown, not known leaked
    assert any("scan the repository" in a.title for a in report.actions)


# ------------------------------------------------------------------------------- actions


def test_engineering_actions_rank_by_severity_then_cost_of_inaction(holding):
    report, _ = build(holding)
    assert [(a.title, str(a.severity), a.due) for a in report.actions] == [
        (
            "Acme|Labs api: rotate every credential committed to the repository, purge them "
            "from its history and load secrets from the environment or a secrets manager",
            "critical",
            date(2025, 4, 3),
        ),
        (
            "Acme|Labs mail: turn on DKIM signing at ses and publish its public key in DNS",
            "warning",
            date(2025, 4, 14),
        ),
        (
            "Acme|Labs mail: publish DMARC p=quarantine (now none) and move to p=reject once "
            "the aggregate reports show only your own senders",
            "warning",
            date(2025, 4, 14),
        ),
        (
            "Acme|Labs api: add automated tests to CI before the automatic deploy",
            "warning",
            date(2025, 4, 14),
        ),
        (
            "Acme|Labs api: fix the mobile performance issues Lighthouse lists",
            "warning",
            date(2025, 4, 14),
        ),
        (
            "Acme|Labs mail: send Strict-Transport-Security: max-age=31536000; includeSubDomains",
            "warning",
            date(2025, 4, 14),
        ),
        ("Acme|Labs api: close the UX gap: no mobile booking", "info", date(2025, 4, 30)),
    ]
    assert all(a.owner == "cto" and a.entity == "acme" for a in report.actions)


def test_check_weights_and_due_days_come_from_the_config(tmp_path):
    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    cfg = write_config(
        tmp_path,
        "[roles.cto]\ntop_actions = 2\n[roles.cto.check_weights]\nhsts = 9\n"
        "[roles.cto.due_days]\nwarning = 7\n",
        entities=("acme",),
    )
    report, markdown = build(cfg)
    assert report.actions[1].title.startswith("Acme|Labs mail: send Strict-Transport-Security")
    assert report.actions[1].due == date(2025, 4, 7)
    top = section(report, "Top engineering actions")
    # the ranking is stated once; the actions are the report's Actions table, not repeated
    assert top.startswith("7 actions (1 critical, 5 warnings, 1 info), each listed once")
    assert "| 1 |" not in top


# ------------------------------------------------------------------------------ sections


def test_cost_cicd_email_and_ux_sections(holding):
    report, markdown = build(holding)
    assert [s.heading for s in report.sections] == [
        "Security audit by stack",
        "Cost analysis",
        "CI/CD maturity",
        "Email authentication (SPF, DKIM, DMARC)",
        "UX gaps",
        "Top engineering actions",
    ]
    for s in report.sections:
        assert s.body.strip().splitlines()[-1].startswith("_How this was computed: "), s.heading
    cost = section(report, "Cost analysis")
    assert (
        "| Acme\\|Labs | $120.00 | $3,000.00 | 4.00% | $106.67 | $100.00 | $170.00 | 70.00% |"
        in cost
    )
    assert "| Beta | $0.00 | $333.33 | 0.00% | $13.33 | $0.00 | $40.00 | n/a |" in cost
    cicd = section(report, "CI/CD maturity")
    assert (
        "| Acme\\|Labs | api | yes | no | yes | 1 | add tests: it deploys automatically "
        "without them |" in cicd
    )
    # `managed = true` (the older spelling of a service with no code of its own): no CI/CD row
    assert "| Acme\\|Labs | mail |" not in cicd
    mail = section(report, "Email authentication (SPF, DKIM, DMARC)")
    assert mail.startswith(
        "The reports are sent from acme.test: Acme\\|Labs mail: fails dkim, dmarc."
    )
    assert "| Acme\\|Labs | mail | acme.test | yes | no | none | fails dkim, dmarc |" in mail
    ux = section(report, "UX gaps")
    assert "| Acme\\|Labs | api | 42 |  | no mobile booking |" in ux
    # data text is escaped: the entity's pipe never splits a table cell
    assert "| Acme|Labs |" not in markdown


def test_no_ux_section_when_no_item_names_ux_data(tmp_path):
    write_entity(tmp_path / "data" / "beta", BETA_LEDGER, BETA_PROFILE)
    report, _ = build(write_config(tmp_path, entities=("beta",)))
    assert "UX gaps" not in [s.heading for s in report.sections]
    assert report.metrics["consolidated"]["security_score"] is None


# ------------------------------------------------------------------------------- changes


def test_changes_since_the_last_report(holding):
    from execreport import Action, Report

    first, _ = build(holding)
    assert "Changes since the last report" not in [s.heading for s in first.sections]
    previous = Report(
        role="cto",
        title="CTO Technology Review",
        metrics={
            "consolidated": {
                "security_checks_failed": 6,
                "security_score": 0.5,
                "stack_monthly_cost": "100.00",
                "software_spend_last_month": "210.00",
            },
            "acme": {"security_checks_failed": 4},
        },
        actions=[first.actions[0], Action(title="Retired server: turn it off", owner="cto")],
    )
    report, markdown = build(holding, previous)
    body = section(report, "Changes since the last report")
    assert report.sections[-1].since_previous
    assert body.splitlines()[:5] == [
        "1 of the last report's 2 actions are still open, 1 no longer raised, 6 new.",
        "",
        "| Scope | Figure | Last report | Now | Change |",
        "|---|---|---|---|---|",
        "| All entities | failed security checks | 6 | 4 | -2 |",
    ]
    assert "| All entities | security score | 0.5 | 0.76 | +0.26 |" in body
    assert "| All entities | stack cost/month | $100.00 | $120.00 | +$20.00 |" in body
    assert "hosting+software spend" not in body  # unchanged figures are not listed
    assert "| Acme\\|Labs |" not in body  # acme's failed checks did not change
    again, markdown_again = build(holding, previous)
    assert markdown_again == markdown  # deterministic


def test_a_rerun_on_unchanged_data_makes_no_new_version(holding):
    """The second run compares with the first (its changes section is shown), but a section
    that only compares with the previous report never makes a new version."""
    first = cli("run", "--config", str(holding), "-r", "cto")
    assert first.returncode == 0, first.stderr
    again = cli("run", "--config", str(holding), "-r", "cto")
    assert again.returncode == 0, again.stderr
    assert "archived cto v1 (unchanged)" in again.stderr
    assert "already sent" in again.stdout


def test_examples_report_the_planted_secrets_in_a_repository():
    from minidata import ROOT

    report, markdown = build(ROOT / "examples" / "execreport.toml")
    critical = [f for f in report.findings if f.severity == "critical"]
    assert any(
        f.entity == "dangerouscentaur" and "api" in f.message and "secrets" in f.message
        for f in critical
    )
    assert "DangerousCentaur api (aws): secrets are committed to the repository" in markdown


# ------------------------------------------------------------------------------ property

check_value = st.sampled_from([True, False, None, "yes", 1])
stack_item = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=8),
        "monthly_cost": st.decimals(min_value=0, max_value=10_000, places=2),
        **{
            f: check_value
            for f in (
                "mfa",
                "tls",
                "hsts",
                "backups",
                "dependency_updates",
                "logging",
                "secrets_in_repo",
                "sends_mail",
                "spf",
                "dkim",
                "ci",
                "tests",
                "auto_deploy",
            )
        },
        "dmarc": st.sampled_from(["none", "quarantine", "reject", "Reject", None]),
    }
)


def failed_checks(item: dict) -> int:
    """The failing METRICS.md security checks of one stack item, from the rules as written
    (not the product's code): for a `self_hosted` item (the default, and the only kind the
    items here are) mfa, tls, hsts, backups, dependency_updates and logging must be true
    and secrets_in_repo false; an item with sends_mail = true also needs spf and dkim true
    and dmarc quarantine or reject. Only a TOML true/false counts ("yes" or 1 fails)."""
    failed = 0
    for field in ("mfa", "tls", "hsts", "backups", "dependency_updates", "logging"):
        failed += item.get(field) is not True
    failed += item.get("secrets_in_repo") is not False
    if item.get("sends_mail") is True:
        failed += item.get("spf") is not True
        failed += item.get("dkim") is not True
        failed += item.get("dmarc") not in ("quarantine", "reject")
    return failed


def test_failed_checks_counts_by_the_written_rules():
    good = dict.fromkeys(("mfa", "tls", "hsts", "backups", "dependency_updates", "logging"), True)
    good["secrets_in_repo"] = False
    assert failed_checks(good) == 0
    assert failed_checks({}) == 7  # a missing field fails its check
    assert failed_checks({**good, "mfa": "yes", "tls": 1, "secrets_in_repo": None}) == 3
    mailer = {**good, "sends_mail": True}
    assert failed_checks(mailer) == 3
    assert failed_checks({**mailer, "spf": True, "dkim": True, "dmarc": "reject"}) == 0
    assert failed_checks({**mailer, "spf": True, "dkim": True, "dmarc": "Reject"}) == 1
    assert failed_checks({**good, "sends_mail": "yes", "dmarc": "none"}) == 0  # not a mailer


@settings(max_examples=200, deadline=None)
@given(st.lists(stack_item, max_size=12), st.randoms(use_true_random=False))
def test_stack_figures_do_not_depend_on_item_order_and_checks_reconcile(items, rnd):
    from execreport import StackItem
    from execreport.plugins.roles.cto import practice_figures, stack_figures

    models = [StackItem.model_validate(i) for i in items]
    shuffled = list(models)
    rnd.shuffle(shuffled)
    assert stack_figures(shuffled) == stack_figures(models)
    assert practice_figures(shuffled) == practice_figures(models)
    figures = stack_figures(models)
    mailers = sum(1 for i in items if i["sends_mail"] is True)
    assert figures["security_checks"] == 7 * len(items) + 3 * mailers
    failed = sum(failed_checks(i) for i in items)
    assert figures["security_checks_failed"] == failed
    checks = figures["security_checks"]  # passed / checks to two places; null without items
    score = Decimal(checks - failed) / checks if checks else None
    cents = None if score is None else float(score.quantize(Decimal("0.01"), ROUND_HALF_UP))
    assert figures["security_score"] == cents
    assert figures["stack_monthly_cost"] == sum((i["monthly_cost"] for i in items), Decimal("0.00"))


# ---------------------------------------------------------------- hosting and domains

HOSTED_PROFILE = """name = "Hosted"
[[assets]]
kind = "domain"
name = "hosted.test"

[[stack]]
name = "workspace"
provider = "google workspace"
hosting = "saas"
mfa = true
backups = true
logging = false
sends_mail = true
spf = true
dkim = true
dmarc = "quarantine"

[[stack]]
name = "site"
provider = "vercel"
hosting = "managed"
mfa = true
tls = true
backups = true
dependency_updates = true
logging = true
secrets_in_repo = false
sends_mail = true
spf = true
dkim = true
dmarc = "none"
ci = true

[[stack]]
name = "server"
provider = "hetzner"
mfa = true
tls = true
hsts = false
backups = true
dependency_updates = true
logging = true
secrets_in_repo = false
"""


def test_checks_follow_hosting_and_a_saas_item_is_never_asked_for_updates_hsts_or_ci(tmp_path):
    write_entity(tmp_path / "data" / "hosted", HEADER, HOSTED_PROFILE)
    report, markdown = build(write_config(tmp_path, entities=("hosted",)))
    # saas: mfa, backups, logging + spf, dkim, dmarc = 6 (logging fails);
    # managed: mfa, tls, backups, dependency_updates, logging, secrets + 3 mail = 9 (dmarc fails);
    # self_hosted: 6 + secrets = 7 (hsts fails). 22 checks, 3 fail.
    m = report.metrics["hosted"]
    assert (m["security_checks"], m["security_checks_failed"]) == (22, 3)
    workspace = [
        a.title for a in report.actions if "workspace" in a.title and "DMARC" not in a.title
    ]
    assert workspace == [
        "Hosted workspace: turn on access and audit logging and keep the logs",
    ]
    assert "| Hosted | workspace |" not in section(report, "CI/CD maturity")
    assert "| Hosted | site | yes |" in section(report, "CI/CD maturity")
    assert not any("hsts" in f.message for f in report.findings if "site" in f.message)
    assert any(
        f.message.startswith("Hosted server (hetzner): hsts is false") for f in report.findings
    )


def test_two_items_of_one_domain_with_different_dmarc_are_a_finding_naming_the_domain(tmp_path):
    write_entity(tmp_path / "data" / "hosted", HEADER, HOSTED_PROFILE)
    report, _ = build(write_config(tmp_path, entities=("hosted",)))
    conflicts = [f.message for f in report.findings if "contradictory DMARC" in f.message]
    assert conflicts == [
        "hosted.test: contradictory DMARC values (Hosted workspace: quarantine; Hosted site: "
        "none); a domain publishes one DMARC record, so at most one of them is true "
        "(entity.toml [[stack]] dmarc)"
    ]
    # one DMARC action for the domain, not one per item
    dmarc = [a for a in report.actions if "publish DMARC" in a.title]
    assert len(dmarc) == 1


def test_an_unknown_hosting_is_one_line_naming_the_item(tmp_path):
    profile = 'name = "Odd"\n[[stack]]\nname = "box"\nhosting = "cloud"\n'
    write_entity(tmp_path / "data" / "odd", HEADER, profile)
    config = write_config(tmp_path, entities=("odd",))
    result = cli("build", "--config", str(config), "--role", "cto")
    assert result.returncode == 1
    assert "[[stack]] 'box': hosting = 'cloud' is not one of self_hosted, managed, saas" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_the_critical_action_leads_the_actions_table_and_is_not_repeated(holding):
    report, markdown = build(holding)
    assert report.actions[0].severity == "critical"
    rows = [line for line in markdown.splitlines() if line.startswith("| 1 | ")]
    assert len(rows) == 1 and "rotate every credential" in rows[0]  # one table lists them
