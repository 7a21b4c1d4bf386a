"""The CEO report on a hand-computed holding: asset inventory, KPI coverage and gaps, the
critical shortfalls of all roles ranked, and the de-duplicated 30-day agenda."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minidata import (
    ROOT,
    PreviousReportArchive,
    cli,
    section,
    table_rows,
    write_config,
    write_entity,
)

AS_OF = date(2025, 3, 31)
HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"
LEDGER = HEADER + "2025-03-10,100.00,4000,sales,Client,,,\n"

# The key `jada` picks the built-in JADA source: a charter, which should track utilization,
# revenue_per_charter, booking_lead_time_days and review_rating.
JADA = """name = "Jada Test"
kind = "charter"

[[assets]]
kind = "insurance"
name = "Hull policy"
expires = "2025-02-28"     # expired 31 days before A, an insurance: critical

[[assets]]
kind = "domain"
name = "jada.test"
expires = "2025-04-10"     # expires in 10 days: warning

[[assets]]
kind = "vessel"
name = "Boat"
value = "385000.00"        # no expiry

[[assets]]
kind = "website"
name = "old site"
expires = "2025-03-01"     # expired, not insurance or license: warning

[[kpis]]
name = "utilization"
target = "0.45"
unit = "ratio"

[[kpis]]
name = "revenue_per_charter"
target = "1200.00"
unit = "USD"

[[kpis]]
name = "review_rating"
target = "4.8"
"""
JADA_KPIS = (
    "date,kpi,value\n"
    "2025-01-31,utilization,0.50\n"
    "2025-03-31,utilization,0.30\n"  # latest, recent, below 0.45: off target
    "2025-03-01,revenue_per_charter,1300\n"  # A - 30 days: stale, on target
    "2025-03-02,review_rating,4.9\n"  # A - 29 days: recent, on target
)

# A generic entity: no expected KPIs. churn is lower-is-better by default.
ACME = """name = "Acme_Co"
kind = "software"

[[assets]]
kind = "license"
name = "Biz license"
expires = "2025-05-30"     # A + 60 days: expiring

[[assets]]
kind = "license"
name = "Permit"
expires = "2025-05-31"     # A + 61 days: neither

[[kpis]]
name = "churn"
target = "0.03"
"""
ACME_KPIS = "date,kpi,value\n2025-03-20,churn,0.05\n"


@pytest.fixture
def holding(tmp_path: Path) -> Path:
    jada = write_entity(tmp_path / "data" / "jada", LEDGER, JADA)
    (jada / "kpis.csv").write_text(JADA_KPIS)
    acme = write_entity(tmp_path / "data" / "acme", LEDGER, ACME)
    (acme / "kpis.csv").write_text(ACME_KPIS)
    return write_config(tmp_path, entities=("jada", "acme"))


def build(config: Path, roles=("ceo",), previous=None):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    archive = PreviousReportArchive(previous) if previous is not None else None
    # the CEO over `roles` only (a full run's CEO consolidates every enabled role)
    result = build_reports(
        load_config(config), only=list(roles), archive=archive, consolidate=False
    )
    by_role = {item.report.role: item for item in result.items}
    return by_role["ceo"].report, by_role["ceo"].rendered.markdown


# ------------------------------------------------------------------------------- figures


def test_ceo_figures_per_entity_and_consolidated(holding):
    done = cli("build", "--json", "-q", "--config", str(holding), "-r", "ceo")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    m = report["metrics"]
    assert m["jada"] == {
        "assets": 4,
        "assets_expired": 2,
        "assets_expiring_60d": 1,
        "kpi_coverage": 0.67,  # utilization and review_rating of 3
        "kpis_declared": 3,
        "kpis_expected_missing": 1,  # booking_lead_time_days
        "kpis_stale": 1,  # revenue_per_charter
        "kpis_off_target": 1,  # utilization
        "critical_shortfalls": 1,
        "agenda_actions": 6,  # 5 of its own and the CMO's (-r ceo consolidates every role)
    }
    assert m["acme"] == {
        "assets": 2,
        "assets_expired": 0,
        "assets_expiring_60d": 1,
        "kpi_coverage": 1.0,
        "kpis_declared": 1,
        "kpis_expected_missing": 0,
        "kpis_stale": 0,
        "kpis_off_target": 1,  # churn 0.05 above 0.03
        "critical_shortfalls": 0,
        "agenda_actions": 1,
    }
    keys = m["consolidated"].pop("agenda_keys")  # the agenda's action keys, one each
    assert len(set(keys)) == len(keys) == m["consolidated"]["agenda_actions"]
    assert m["consolidated"] == {
        "assets": 6,
        "assets_expired": 2,
        "assets_expiring_60d": 2,
        "kpi_coverage": 0.75,
        "kpis_declared": 4,
        "kpis_expected_missing": 1,
        "kpis_stale": 1,
        "kpis_off_target": 2,
        "critical_shortfalls": 1,
        "agenda_actions": 7,
        "agenda_left_out": 0,
    }
    assert report["critical"] is True


# ------------------------------------------------------------------------------ findings


def test_an_expired_insurance_policy_is_critical_naming_entity_and_item(holding):
    report, markdown = build(holding)
    critical = [(f.entity, f.message) for f in report.findings if f.severity == "critical"]
    # the lapsed policy with a booking after it (2025-03-10, $100.00) says what it means
    assert critical == [
        (
            "jada",
            "Jada Test operating uninsured: 1 bookings, $100.00 since 2025-02-28, when its "
            "insurance 'Hull policy' expired (entity.toml [[assets]]; ledger.csv 4xxx rows "
            "after that date)",
        )
    ]
    assert "- **CRITICAL** (Jada Test): Jada Test operating uninsured: 1 bookings" in markdown


def test_asset_and_kpi_findings(holding):
    report, _ = build(holding)
    found = {(str(f.severity), f.entity, f.message) for f in report.findings}
    assert found == {
        (
            "critical",
            "jada",
            "Jada Test operating uninsured: 1 bookings, $100.00 since 2025-02-28, when its "
            "insurance 'Hull policy' expired (entity.toml [[assets]]; ledger.csv 4xxx rows "
            "after that date)",
        ),
        (
            "warning",
            "jada",
            "Jada Test website 'old site' expired on 2025-03-01, 30 days before 2025-03-31 "
            "(entity.toml [[assets]])",
        ),
        (
            "warning",
            "jada",
            "Jada Test domain 'jada.test' expires on 2025-04-10, in 10 days "
            "(entity.toml [[assets]])",
        ),
        (
            "warning",
            "acme",
            "Acme_Co license 'Biz license' expires on 2025-05-30, in 60 days "
            "(entity.toml [[assets]])",
        ),
        (
            "warning",
            "jada",
            "Jada Test does not declare booking_lead_time_days, which a charter business "
            "should track (the entity plugin's expected KPIs; entity.toml [[kpis]])",
        ),
        (
            "warning",
            "jada",
            "Jada Test KPIs with no value in the 30 days ending 2025-03-31: "
            "revenue_per_charter (last 2025-03-01) (kpis.csv)",
        ),
        (
            "warning",
            "jada",
            "Jada Test KPIs off target: utilization 0.30 on 2025-03-31, below its target 0.45, "
            "-33.3% (kpis.csv, entity.toml [[kpis]])",
        ),
        (
            "warning",
            "acme",
            "Acme_Co KPIs off target: churn 0.05 on 2025-03-20, above its target 0.03, "
            "+66.7% (kpis.csv, entity.toml [[kpis]])",
        ),
    }


def test_kpi_direction_and_thresholds_come_from_the_config(tmp_path):
    acme = write_entity(tmp_path / "data" / "acme", LEDGER, ACME)
    (acme / "kpis.csv").write_text(ACME_KPIS)
    cfg = write_config(
        tmp_path,
        '[roles.ceo]\nlower_is_better = []\ncritical_asset_kinds = ["license"]\n'
        "expiring_days = 30\nkpi_recent_days = 5\n",
        entities=("acme",),
    )
    report, _ = build(cfg)
    # churn is now higher-is-better: 0.05 meets 0.03; 11 days old: stale under 5 days
    assert report.metrics["acme"]["kpis_off_target"] == 0
    assert report.metrics["acme"]["kpis_stale"] == 1
    # the license 60 days out is outside a 30-day warning window, but still counted by
    # the METRICS.md figure, which is always 60 days
    assert report.metrics["acme"]["assets_expiring_60d"] == 1
    assert not [f for f in report.findings if "license" in f.message]


def test_asset_inventory_by_kind(holding):
    report, _ = build(holding)
    body = section(report, "Asset inventory")
    assert body.startswith("6 assets; 2 expired, 2 expiring within 60 days.")
    assert table_rows(body, "insurance")[0] == ["insurance", "1", "1", "0", "", ""]
    assert ["license", "2", "0", "1", "2025-05-30", ""] in table_rows(body, "license")
    assert ["vessel", "1", "0", "0", "", "$385,000.00"] in table_rows(body, "vessel")
    assert [
        "insurance",
        "Jada Test",
        "Hull policy",
        "2025-02-28",
        "",
        "**expired** 31 days ago",
    ] in table_rows(body, "insurance")
    # only the assets that need attention are rows; the rest is counted
    assert not [r for r in table_rows(body) if "Permit" in r]
    assert "2 other assets are current or have no expiry date: not listed." in body


def test_kpi_coverage_section(holding):
    report, _ = build(holding)
    body = section(report, "KPI coverage")
    assert ["Jada Test", "charter", "3", "2", "0.67", "booking\\_lead\\_time\\_days"] in (
        table_rows(body, "Jada")
    )
    assert ["Acme\\_Co", "software", "1", "1", "1.00", "none"] in table_rows(body, "Acme")
    assert [
        "Jada Test",
        "revenue\\_per\\_charter",
        "USD",
        "1200.00 (higher is better)",
        "1300 (2025-03-01)",
        "stale",  # no value in the window: not judged against its target
    ] in table_rows(body, "Jada")
    assert [
        "Acme\\_Co",
        "churn",
        "",
        "0.03 (lower is better)",
        "0.05 (2025-03-20)",
        "off target",
    ] in table_rows(body, "Acme")


def test_every_section_ends_with_how_it_was_computed(holding):
    report, _ = build(holding)
    assert [s.heading for s in report.sections] == [
        "Critical shortfalls",
        "30-day agenda",
        "Asset inventory",
        "KPI coverage",
    ]
    for s in report.sections:
        assert s.body.strip().splitlines()[-1].startswith("_How this was computed: "), s.heading


# ------------------------------------------------------------ shortfalls and the agenda


class Ops:
    """A third-party role whose findings and actions the CEO must merge and rank."""

    name, title, priority = "ops", "Ops Review", 20

    def build(self, ctx):
        from execreport import Action, Finding, Report, Severity

        day = ctx.as_of
        return Report(
            role="ops",
            title=self.title,
            findings=[
                Finding(
                    severity=Severity.critical,
                    entity="acme",
                    message="Acme_Co payroll of $9,000.00 is unfunded",
                ),
                Finding(severity=Severity.critical, entity="jada", message="Jada Test hull leaks"),
                Finding(severity=Severity.warning, entity="jada", message="Jada Test paint"),
            ],
            actions=[
                Action(
                    title="Fund payroll",
                    owner="ops",
                    entity="acme",
                    severity=Severity.critical,
                    priority=1,
                    due=day + timedelta(days=2),
                ),
                # the same action (same owner, entity, title up to case and spaces): merged,
                # keeping the more severe, earlier copy above
                Action(
                    title="fund  PAYROLL",
                    owner="ops",
                    entity="acme",
                    severity=Severity.warning,
                    due=day + timedelta(days=20),
                ),
                Action(title="Sweep the deck", owner="ops", entity="jada", severity="warning"),
                Action(
                    title="Plan the haul-out",
                    owner="ops",
                    entity="jada",
                    severity="info",
                    due=date(2025, 6, 30),
                ),
                Action(
                    title="File the overdue form",
                    owner="ops",
                    entity="jada",
                    severity="warning",
                    priority=2,
                    due=date(2025, 3, 1),
                ),
            ],
        )


@pytest.fixture
def with_ops(register_plugin):
    from execreport import hookimpl

    class Plugin:
        @hookimpl
        def register_roles(self, register):
            register(Ops())

    register_plugin(Plugin(), name="ops-test")


def test_shortfalls_rank_the_critical_findings_of_all_roles(holding, with_ops):
    report, _ = build(holding, roles=("ops", "ceo"))
    rows = table_rows(section(report, "Critical shortfalls"))[1:]
    assert rows == [
        # due 2025-04-02 (ops' critical action for acme) before 2025-04-03 (renewal)
        ["1", "Acme\\_Co", "ops", "Acme\\_Co payroll of $9,000.00 is unfunded", "2025-04-02"],
        [
            "2",
            "Jada Test",
            "ceo",
            "Jada Test operating uninsured: 1 bookings, $100.00 since 2025-02-28, when its "
            "insurance 'Hull policy' expired (entity.toml \\[\\[assets\\]\\]; ledger.csv 4xxx "
            "rows after that date)",
            "2025-04-03",
        ],
        # no critical ops action for jada: acted on by the end of the agenda
        ["3", "Jada Test", "ops", "Jada Test hull leaks", "2025-04-30"],
    ]
    assert report.metrics["consolidated"]["critical_shortfalls"] == 3
    assert section(report, "Critical shortfalls").startswith(
        "Critical findings across the reports: 3, ranked below; warnings: 8,"
    )


def test_the_agenda_merges_duplicates_and_ranks_by_severity_then_due_date(holding, with_ops):
    report, _ = build(holding, roles=("ops", "ceo"))
    body = section(report, "30-day agenda")
    assert body.startswith(
        "The 10 most pressing of 10 actions due by 2025-04-30 (1 duplicates merged): 6 ceo, 4 ops."
    )
    rows = [(r[1], r[2], r[3], r[4], r[5]) for r in table_rows(body)[1:]]
    assert rows == [
        ("Fund payroll", "Acme\\_Co", "ops", "2025-04-02", "critical"),
        (
            "Renew Jada Test's insurance Hull policy (expired 2025-02-28)",
            "Jada Test",
            "ceo",
            "2025-04-03",
            "critical",
        ),
        # overdue: held at the first day after as_of
        ("File the overdue form", "Jada Test", "ops", "2025-04-01", "warning"),
        (
            "Renew Jada Test's domain jada.test before 2025-04-10",
            "Jada Test",
            "ceo",
            "2025-04-10",
            "warning",
        ),
        (
            "Renew Jada Test's website old site (expired 2025-03-01)",
            "Jada Test",
            "ceo",
            "2025-04-14",
            "warning",
        ),
        (
            "Start tracking booking\\_lead\\_time\\_days for Jada Test (\\[\\[kpis\\]\\] in "
            "entity.toml, values in kpis.csv)",
            "Jada Test",
            "ceo",
            "2025-04-14",
            "warning",
        ),
        # 2025-05-30 held at the horizon
        (
            "Renew Acme\\_Co's license Biz license before 2025-05-30",
            "Acme\\_Co",
            "ceo",
            "2025-04-30",
            "warning",
        ),
        # no due date: the horizon
        ("Sweep the deck", "Jada Test", "ops", "2025-04-30", "warning"),
        (
            "Record Jada Test's current revenue\\_per\\_charter in kpis.csv",
            "Jada Test",
            "ceo",
            "2025-04-30",
            "info",
        ),
        # 2025-06-30 held at the horizon
        ("Plan the haul-out", "Jada Test", "ops", "2025-04-30", "info"),
    ]
    assert report.metrics["consolidated"]["agenda_actions"] == 10


def test_agenda_due_dates_fall_inside_the_30_days_after_as_of(holding, with_ops):
    report, _ = build(holding, roles=("ops", "ceo"))
    dues = [date.fromisoformat(r[4]) for r in table_rows(section(report, "30-day agenda"))[1:]]
    assert dues and all(AS_OF < d <= AS_OF + timedelta(days=30) for d in dues)
    assert all(AS_OF < a.due <= AS_OF + timedelta(days=30) for a in report.actions)
    assert all(a.owner == "ceo" and a.entity for a in report.actions)


def test_ceo_alone_ranks_only_its_own_findings(holding):
    report, _ = build(holding)
    assert "(ceo)" in section(report, "Critical shortfalls").splitlines()[-1]
    assert report.metrics["consolidated"]["agenda_actions"] == 6


# ------------------------------------------------------------------------------- changes


def test_changes_since_the_last_report(holding):
    from execreport import Action, Report

    first, markdown = build(holding)
    previous = Report(
        role="ceo",
        title="CEO Strategic Assessment",
        metrics={
            "consolidated": {"critical_shortfalls": 3, "kpi_coverage": 0.5, "assets_expired": 2},
            "jada": {"agenda_actions": 7},
        },
        actions=[*first.actions[:2], Action(title="Done thing", owner="ceo")],
    )
    report, markdown = build(holding, previous=previous)
    body = section(report, "Changes since the last report")
    assert report.sections[-1].since_previous
    assert body.splitlines()[0] == (
        "2 of the last report's 3 actions are still open, 1 no longer raised, 4 new."
    )
    assert table_rows(body)[1:] == [
        ["All entities", "critical shortfalls", "3", "1", "-2"],
        ["All entities", "KPI coverage", "0.5", "0.75", "+0.25"],
        ["Jada Test", "actions on the agenda", "7", "5", "-2"],
    ]
    assert build(holding, previous=previous)[1] == markdown


def test_the_agenda_marks_the_actions_carried_over_from_the_last_report(holding):
    from execreport import Report

    first, _ = build(holding)
    keys = first.metrics["consolidated"]["agenda_keys"]
    assert len(keys) == first.metrics["consolidated"]["agenda_actions"] >= 3
    previous = Report(role="ceo", title="CEO", metrics={"consolidated": {"agenda_keys": keys[1:3]}})
    report, _ = build(holding, previous=previous)
    body = section(report, "Carried over on the agenda")
    assert body.startswith(f"2 of the {len(keys)} actions on the 30-day agenda were already")
    assert [row[0] for row in table_rows(body)[1:]] == ["2", "3"]
    assert next(s for s in report.sections if s.heading.startswith("Carried")).since_previous
    assert "Carried over on the agenda" not in [s.heading for s in first.sections]


def test_a_rerun_on_unchanged_data_makes_no_new_version(holding):
    """The second run compares with the first (its changes section is shown), but a section
    that only compares with the previous report never makes a new version."""
    first = cli("run", "--config", str(holding), "-r", "ceo")
    assert first.returncode == 0, first.stderr
    again = cli("run", "--config", str(holding), "-r", "ceo")
    assert again.returncode == 0, again.stderr
    assert "archived ceo v1 (unchanged)" in again.stderr
    assert "already sent" in again.stdout


# -------------------------------------------------------------------------- the examples


def test_examples_show_the_expired_insurance_and_the_leaked_secrets_as_shortfalls():
    report, _ = build(ROOT / "examples" / "execreport.toml", roles=("cto", "ceo"))
    body = section(report, "Critical shortfalls")
    assert "| JADA | ceo | JADA operating uninsured: " in body
    assert "| DangerousCentaur | cto | DangerousCentaur api (aws): secrets are committed" in body


# ------------------------------------------------------------------------------ property

action = st.builds(
    dict,
    title=st.sampled_from(["Fix A", "fix  a", "Fix B", "Renew C"]),
    owner=st.sampled_from(["cfo", "cto"]),
    entity=st.sampled_from(["e1", "e2", None]),
    severity=st.sampled_from(["critical", "warning", "info"]),
    priority=st.integers(1, 3),
    due=st.one_of(st.none(), st.dates(date(2025, 2, 1), date(2025, 7, 1))),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(action, max_size=15), st.randoms(use_true_random=False))
def test_the_agenda_does_not_depend_on_the_order_actions_arrive_in(actions, rnd):
    from execreport import Action, Report, RoleContext
    from execreport.plugins.roles.ceo import CEO

    def agenda(items):
        reports = [Report(role="x", title="X", actions=[Action(**a) for a in items])]
        ctx = RoleContext(entities=[], ledger=None, as_of=AS_OF, period="Q1", reports=reports)
        return section(CEO().build(ctx), "30-day agenda")

    shuffled = list(actions)
    rnd.shuffle(shuffled)
    first = agenda(actions)
    assert agenda(shuffled) == first
    keys = {Action(**a).key for a in actions}
    shown = len(table_rows(first)[1:])
    assert shown == min(len(keys), 10)  # agenda_size
    # what is left out is counted per role, and the counts add up
    left = re.search(r"Not on this agenda: (.*)\.", first)
    counted = sum(int(n) for n in re.findall(r"(\d+) \w+ \(in the", left.group(1))) if left else 0
    assert shown + counted == len(keys)
    # the "no actions" line stands exactly when no action came in
    assert first.startswith("No actions in the reports of this run.") == (not keys)


def test_the_agenda_holds_agenda_size_rows_and_counts_the_rest_per_role(holding, with_ops):
    cfg = holding.parent / "small.toml"
    cfg.write_text(holding.read_text() + "\n[roles.ceo]\nagenda_size = 3\n")
    report, _ = build(cfg, roles=("ops", "ceo"))
    body = section(report, "30-day agenda")
    assert len(table_rows(body)[1:]) == 3
    # 10 actions after merging: 3 shown (ops critical, ceo critical, ops warning), 7 left:
    # 5 ceo and 2 ops
    assert (
        "Not on this agenda: 5 ceo (in the CEO report's Actions table), 2 ops (in the OPS "
        "report's Actions table)." in body
    )
    assert report.metrics["consolidated"]["agenda_left_out"] == 7


def test_revenue_after_a_lapsed_licence_is_critical_with_its_count_and_amount(tmp_path):
    ledger = HEADER + (
        "2025-01-20,900.00,4000,job,Before,,,\n"  # before the lapse: not counted
        "2025-02-01,250.00,4100,job,A,,,\n"
        "2025-03-05,-40.00,4900,refund,A,,,\n"  # a refund is not a booking
        "2025-03-30,310.50,4100,job,B,,,\n"
        "2025-04-02,999.00,4100,job,Later,,,\n"  # after as_of
    )
    profile = (
        'name = "Haul"\n[[assets]]\nkind = "license"\nname = "City permit"\n'
        'expires = "2025-01-31"\n'
    )
    write_entity(tmp_path / "data" / "haul", ledger, profile)
    report, _ = build(write_config(tmp_path, entities=("haul",)))
    critical = [f for f in report.findings if f.severity == "critical"]
    assert [f.message for f in critical] == [
        "Haul operating without its license: 2 bookings, $560.50 since 2025-01-31, when its "
        "license 'City permit' expired (entity.toml [[assets]]; ledger.csv 4xxx rows after "
        "that date)"
    ]
    assert critical[0].amount == Decimal("560.50")
