"""The CMO report on a hand-computed holding: the channel matrix, channel economics with
configured (dated) commissions, the marketplace sequence, and the email plan."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

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

# Trailing 3 months Jan-Mar 2025: bookings 1000 + 1200 + 1400, a refund of 600 (revenue,
# not a booking): revenue 3000 over 3 bookings = 1000.00 per booking. Not counted: a
# booking in December, an owner's equity injection, an expense.
ACME_LEDGER = HEADER + (
    "2024-12-20,5000.00,4000,charter,Old,,,\n"
    "2025-01-12,1000.00,4000,charter,A,,,\n"
    "2025-02-12,1200.00,4000,charter,B,,,\n"
    "2025-02-20,-600.00,4900,refund,B,,,\n"
    "2025-03-12,1400.00,4000,charter,C,,,\n"
    "2025-03-13,3000.00,3000,equity,Owner,,,\n"
    "2025-03-14,-200.00,5000,fuel,Fuel Co,,,\n"
)
ACME_PROFILE = """name = "Acme_Charters"
kind = "charter"

[[channels]]
name = "Sailo"
status = "claimed"
commission = "0.15"
reviews = 14
rating = 4.9

[[channels]]
name = "GetMyBoat"
status = "absent"
commission = "0.085"

[[channels]]
name = "Viator"
status = "absent"
commission = "0.20"

[[channels]]
name = "Google Business Profile"
status = "optimised"
reviews = 41
rating = 4.2

[[stack]]
name = "newsletter"
sends_mail = true
spf = true
dkim = false
dmarc = "none"

[audience]
email_list = 1000
segments = { past_guests = 400, newsletter = 600 }
physical_address = "1 Harbor Dr, San Diego, CA"
one_click_unsubscribe = false
unsubscribe_days = 12
"""
# beta: no revenue in the window; its average booking comes from the config
BETA_LEDGER = HEADER + "2025-03-01,-50.00,6300,marketing,Ads,,,\n"
BETA_PROFILE = """name = "Beta"
kind = "junk_removal"

[[channels]]
name = "Yelp"
status = "claimed"

[[channels]]
name = "Angi"
status = "absent"
commission = "0.10"
"""

# Viator's 10% from 2025-01-01 replaces the data's 20%; GetMyBoat's 5% starts after A, so
# the data's 8.5% stands; Sailo's latest rate in force is 14%.
CONFIG = """
[roles.cmo]
average_booking = { beta = "350.00" }

[roles.cmo.commissions]
Viator = { rate = "0.10", as_of = "2025-01-01" }
GetMyBoat = { rate = "0.05", as_of = "2025-06-01" }
Sailo = [{ rate = "0.12", as_of = "2024-01-01" }, { rate = "0.14", as_of = 2025-03-01 }]
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
    result = build_reports(load_config(config), only=["cmo"], archive=archive)
    (item,) = result.items
    return item.report, item.rendered.markdown


# ------------------------------------------------------------------------------- figures


def test_cmo_figures_per_entity_and_consolidated(holding):
    done = cli("build", "--json", "-q", "--config", str(holding), "-r", "cmo")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    m = report["metrics"]
    assert m["acme"] == {
        "channels_absent": 2,
        "channels_live": 2,
        "email_list": 1000,
        "bookings_3m": 3,
        "average_booking": "1000.00",
        "rollout_steps": 3,
        "warmup_days": 5,
        "can_spam_gaps": 2,
    }
    assert m["beta"] == {
        "channels_absent": 1,
        "channels_live": 1,
        "email_list": None,
        "bookings_3m": 0,
        "average_booking": "350.00",
        "rollout_steps": 1,
        "warmup_days": None,
        "can_spam_gaps": None,
    }
    assert m["consolidated"] == {
        "channels_absent": 3,
        "channels_live": 3,
        "email_list": 1000,
        "bookings_3m": 3,
        "average_booking": "1000.00",
        "rollout_steps": 4,
        "warmup_days": 5,
        "can_spam_gaps": 2,
    }


# ----------------------------------------------------------------------------- economics


def test_commission_from_the_config_overrides_the_data_by_date(holding):
    report, _ = build(holding)
    rows = table_rows(section(report, "Channel economics"), "Acme")
    # no ledger rows name these channels: the configured commission is the fallback, said so
    # entity | channel | status | spend | revenue | bookings | return | cost/booking | net | source
    assert rows[1:] == [
        [
            "Acme\\_Charters",
            "Sailo",
            "claimed",
            *["n/a"] * 4,
            "$140.00 (estimate)",
            "$860.00 per booking (estimate)",
            "no ledger rows: configured commission 14.0% (config, from 2025-03-01) of the "
            "average booking",
        ],
        [
            "Acme\\_Charters",
            "GetMyBoat",
            "absent",
            *["n/a"] * 4,
            "$85.00 (estimate)",
            "$915.00 per booking (estimate)",
            "no ledger rows: configured commission 8.5% (entity.toml) of the average booking",
        ],
        [
            "Acme\\_Charters",
            "Viator",
            "absent",
            *["n/a"] * 4,
            "$100.00 (estimate)",
            "$900.00 per booking (estimate)",
            "no ledger rows: configured commission 10.0% (config, from 2025-01-01) of the "
            "average booking",
        ],
    ]
    assert rows[0] == ["Acme\\_Charters", "$3,000.00", "3", "$1,000.00", "ledger"]
    assert ["Beta", "$0.00", "0", "$350.00", "config"] in table_rows(
        section(report, "Channel economics"), "Beta"
    )
    body = section(report, "Channel economics")
    assert "No ledger rows and no configured commission for: Google Business Profile" in body
    # Beta's $50 of ads no channel claims is unattributed, listed with its counterparty
    assert ["Beta", "Ads", "1", "$50.00"] in table_rows(body, "Beta")


def test_a_plain_config_commission_and_average_booking(tmp_path):
    from execreport.plugins.roles.cmo import commission

    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    cfg = write_config(
        tmp_path,
        '[roles.cmo]\naverage_booking = "2000"\n[roles.cmo.commissions]\nsailo = 0.1\n'
        '[roles.cmo.commissions.acme]\nSailo = "0.11"\n',
        entities=("acme",),
    )
    report, _ = build(cfg)
    row = table_rows(section(report, "Channel economics"), "Acme")[1]
    assert row[7:] == [
        "$220.00 (estimate)",
        "$1,780.00 per booking (estimate)",
        "no ledger rows: configured commission 11.0% (config) of the average booking",
    ]
    assert report.metrics["acme"]["average_booking"] == Decimal("2000.00")
    entity = SimpleNamespace(key="other")
    channel = SimpleNamespace(name="Sailo", commission=None)
    assert commission(entity, channel, {"commissions": {"sailo": 0.1}}, AS_OF) == (
        Decimal("0.1"),
        "config",
    )


def test_a_bad_configured_commission_is_an_error_naming_the_key(tmp_path):
    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    cfg = write_config(tmp_path, "[roles.cmo.commissions]\nViator = 15\n", entities=("acme",))
    done = cli("build", "-q", "--config", str(cfg), "-r", "cmo")
    assert done.returncode != 0
    assert "commissions.Viator: commission 15 is not a fraction between 0 and 1" in done.stderr


# ------------------------------------------------------------------ matrix and findings


def test_channel_visibility_matrix(holding):
    report, _ = build(holding)
    body = section(report, "Channel visibility matrix")
    assert table_rows(body)[0] == ["Channel", "Acme\\_Charters", "Beta"]
    assert ["Sailo", "claimed (14 reviews, rating 4.9)", "-"] in table_rows(body)
    assert ["Google Business Profile", "optimised (41 reviews, rating 4.2)", "-"] in (
        table_rows(body)
    )
    assert ["Angi", "-", "absent"] in table_rows(body)


def test_findings_name_the_entity_and_the_data(holding):
    report, _ = build(holding)
    found = {(str(f.severity), f.entity, f.message) for f in report.findings}
    assert found == {
        ("info", "acme", "Acme_Charters is absent from GetMyBoat (entity.toml [[channels]])"),
        ("info", "acme", "Acme_Charters is absent from Viator (entity.toml [[channels]])"),
        ("info", "beta", "Beta is absent from Angi (entity.toml [[channels]])"),
        (
            "warning",
            "acme",
            "Acme_Charters is rated 4.2 on Google Business Profile from 41 reviews, under "
            "4.5 (entity.toml [[channels]])",
        ),
        (
            "warning",
            "acme",
            "Acme_Charters email list of 1,000: no one-click unsubscribe "
            "(one_click_unsubscribe = false) (entity.toml [audience] one_click_unsubscribe)",
        ),
        (
            "warning",
            "acme",
            "Acme_Charters email list of 1,000: unsubscribes are honoured in 12 business days, "
            "over the 10 CAN-SPAM allows (entity.toml [audience] unsubscribe_days)",
        ),
        (
            "info",
            "beta",
            "Beta spent $50.00 on Ads (1 ledger rows, 2025-01-01 to 2025-03-31), marketing "
            "spend no [[channels]] counterparties claim (ledger.csv; entity.toml [[channels]] "
            "counterparties)",
        ),
    }


# ------------------------------------------------------------------------------ rollout


def test_marketplace_sequence_by_net_contribution(holding):
    report, _ = build(holding)
    rows = table_rows(section(report, "Marketplace rollout sequence"), "Acme")
    assert [(r[1], r[2], r[5], r[7]) for r in rows] == [
        ("1", "list on GetMyBoat", "$915.00", "2025-04-30"),
        ("2", "list on Viator", "$900.00", "2025-05-30"),
        ("3", "optimise the listing on Sailo", "$860.00", "2025-06-29"),
    ]
    firsts = [a for a in report.actions if a.title.startswith(("List", "Optimise"))]
    assert [(a.title, a.entity, a.due) for a in firsts] == [
        ("List Acme_Charters on GetMyBoat", "acme", date(2025, 4, 30)),
        ("List Beta on Angi", "beta", date(2025, 4, 30)),
    ]


def test_rollout_order_from_the_config_comes_first(tmp_path):
    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    cfg = write_config(
        tmp_path, '[roles.cmo]\nrollout_order = ["Sailo"]\nrollout_step_days = 14\n', ("acme",)
    )
    report, _ = build(cfg)
    rows = table_rows(section(report, "Marketplace rollout sequence"), "Acme")
    assert [(r[2], r[7]) for r in rows] == [
        ("optimise the listing on Sailo", "2025-04-14"),
        ("list on GetMyBoat", "2025-04-28"),
        ("list on Viator", "2025-05-12"),
    ]


def test_key_channels_of_the_business_come_first_and_missing_ones_are_listed(tmp_path):
    """Entities whose plugin names key channels (FolderSource.key_channels) put those first
    and list a key channel the data does not mention."""
    from execreport import Entity, RoleContext
    from execreport.config import load_config
    from execreport.ledger import Ledger
    from execreport.pipeline import load_entities
    from execreport.plugins.roles.cmo import CMO

    class WithKeyChannels(Entity):
        key_channels: list[str] = []

    write_entity(tmp_path / "data" / "acme", ACME_LEDGER, ACME_PROFILE)
    config = load_config(write_config(tmp_path, entities=("acme",)))
    (plain,) = load_entities(config, AS_OF)
    entity = WithKeyChannels.model_validate(
        {**dict(plain), "key_channels": ["Viator", "Google Business Profile", "Boatsetter"]}
    )
    ctx = RoleContext(
        entities=[entity],
        ledger=Ledger.consolidate([entity.ledger]),
        as_of=AS_OF,
        period="Q1 2025",
    )
    report = CMO().build(ctx)
    rows = table_rows(section(report, "Marketplace rollout sequence"), "Acme")
    assert [(r[2], r[3], r[6]) for r in rows] == [
        ("list on Viator", "absent", "key channel"),  # 20% from the data: $800.00
        ("list on Boatsetter", "not listed", "key channel"),
        ("list on GetMyBoat", "absent", "marketplace"),
        ("optimise the listing on Sailo", "claimed", "marketplace"),
    ]
    matrix = table_rows(section(report, "Channel visibility matrix"), "Boatsetter")
    assert matrix == [["Boatsetter", "not listed (key channel)"]]
    assert any("does not list Boatsetter, a key channel" in f.message for f in report.findings)


# --------------------------------------------------------------------------- email plan


def test_email_plan_warm_up_segments_and_can_spam(holding):
    report, _ = build(holding)
    body = section(report, "Email plan")
    assert "### Acme\\_Charters: 1,000 contacts" in body
    assert table_rows(body, "past") == [["past\\_guests", "400", "40.0%"]]
    assert table_rows(body, "newsletter") == [["newsletter", "600", "60.0%"]]
    days = [r for r in table_rows(body) if r[0].isdigit()]
    # the newsletter fails DKIM and DMARC; without a CTO report in the run the fix is due
    # email_auth_due_days (14) after as_of, 2025-04-14: day 1 is the day after. Each day
    # sends to new contacts, 50 then twice as many, until the 1,000 have had one email.
    assert days == [
        ["1", "2025-04-15", "50", "50 of 1,000"],
        ["2", "2025-04-16", "100", "150 of 1,000"],
        ["3", "2025-04-17", "200", "350 of 1,000"],
        ["4", "2025-04-18", "400", "750 of 1,000"],
        ["5", "2025-04-19", "250", "1,000 of 1,000"],
    ]
    assert "Day 1 is 2025-04-15, the day after the email-authentication fixes are due" in body
    assert "Before day 1: fix the sending authentication of newsletter (DKIM, DMARC none)" in body
    checklist = {r[0]: r[1] for r in table_rows(body) if len(r) == 3 and not r[0].isdigit()}
    assert checklist["Physical postal address in every email"] == (
        "present: 1 Harbor Dr, San Diego, CA"
    )
    assert checklist["A working one-click unsubscribe"] == "**missing**"
    assert checklist["Opt-outs honoured within 10 business days"] == (
        "**12 business days, too slow**"
    )
    assert "Honest subject lines and sender" in checklist
    warm_up = [(a.title, a.due) for a in report.actions if a.title.startswith("Warm up")]
    assert warm_up == [
        (
            "Warm up Acme_Charters's email list: 50 emails on day 1, x2 a day until a day "
            "reaches the whole list",
            date(2025, 4, 19),
        )
    ]
    # the fixes are due before the first send
    fixes = [a for a in report.actions if a.severity == "warning"]
    assert [(a.title, a.due) for a in fixes] == [
        (
            "Add a one-click unsubscribe (List-Unsubscribe and List-Unsubscribe-Post headers) "
            "to Acme_Charters's emails",
            date(2025, 4, 15),
        ),
        ("Honour Acme_Charters's unsubscribes within 10 business days (now 12)", date(2025, 4, 15)),
    ]


def test_a_missing_physical_address_is_a_warning(tmp_path):
    profile = 'name = "Gamma"\n[audience]\nemail_list = 60\n'
    write_entity(tmp_path / "data" / "gamma", HEADER, profile)
    report, _ = build(write_config(tmp_path, entities=("gamma",)))
    assert [f.message for f in report.findings if f.severity == "warning"] == [
        "Gamma email list of 60: no physical postal address on record, which CAN-SPAM "
        "requires in every commercial email (entity.toml [audience] physical_address)"
    ]
    assert report.metrics["gamma"]["can_spam_gaps"] == 3  # address, one-click, days unknown
    assert report.metrics["gamma"]["warmup_days"] == 2  # 50, then all 60


def test_every_section_ends_with_how_it_was_computed(holding):
    report, _ = build(holding)
    assert [s.heading for s in report.sections] == [
        "Channel visibility matrix",
        "Channel economics",
        "Marketplace rollout sequence",
        "Email plan",
    ]
    for s in report.sections:
        assert s.body.strip().splitlines()[-1].startswith("_How this was computed: "), s.heading


def test_changes_since_the_last_report(holding):
    from execreport import Report

    first, _ = build(holding)
    previous = Report(
        role="cmo",
        title="CMO Marketing Review",
        metrics={"acme": {"channels_live": 1, "average_booking": "900.00", "email_list": 1000}},
        actions=first.actions[:1],
    )
    report, markdown = build(holding, previous)
    body = section(report, "Changes since the last report")
    assert report.sections[-1].since_previous
    assert body.splitlines()[0] == (
        "1 of the last report's 1 actions are still open, 0 no longer raised, 4 new."
    )
    assert table_rows(body)[1:] == [
        ["Acme\\_Charters", "live channel listings", "1", "2", "+1"],
        ["Acme\\_Charters", "average booking", "$900.00", "$1,000.00", "+$100.00"],
    ]
    assert build(holding, previous)[1] == markdown


def test_a_rerun_on_unchanged_data_makes_no_new_version(holding):
    """The second run compares with the first (its changes section is shown), but a section
    that only compares with the previous report never makes a new version."""
    first = cli("run", "--config", str(holding), "-r", "cmo")
    assert first.returncode == 0, first.stderr
    again = cli("run", "--config", str(holding), "-r", "cmo")
    assert again.returncode == 0, again.stderr
    assert "archived cmo v1 (unchanged)" in again.stderr
    assert "already sent" in again.stdout


def test_examples_sequence_the_charters_marketplaces():
    report, _ = build(ROOT / "examples" / "execreport.toml")
    rows = table_rows(section(report, "Marketplace rollout sequence"), "JADA")
    assert {r[2].split(" on ")[-1] for r in rows} >= {"Sailo", "GetMyBoat", "Viator"}


# ------------------------------------------------------------------------------ property


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 2_000_000),
    st.integers(1, 500),
    st.integers(2, 4),
    st.dates(date(2024, 1, 1), date(2026, 12, 31)),
)
def test_warm_up_sends_each_contact_once_and_never_more_than_the_list(size, first, factor, day):
    from execreport.plugins.roles.cmo import warmup_schedule

    plan = warmup_schedule(size, day, first, factor)
    assert plan[0][:2] == (1, day)
    assert sum(p[2] for p in plan) == size  # every contact once, never more than the list
    assert [p[1] for p in plan] == [day + timedelta(days=i) for i in range(len(plan))]
    for i, (_, _, sends) in enumerate(plan[:-1]):
        assert sends == first * factor**i  # full days grow by the factor
    assert 0 < plan[-1][2] <= first * factor ** (len(plan) - 1)
    assert plan[0][2] == min(first, size)


# ------------------------------------------------------- economics from the ledger

# Jan-Mar 2025: Thumbtack lead fees 40 + 60 = 100 (its counterparty "Thumbtack Inc" contains
# the configured "thumbtack"); two bookings from Viator payouts 500 + 700 and its commission
# of 120 + 80 = 200; Google Ads 300, claimed by no channel. Outside the window: a lead fee.
LEDGER_CHANNELS = HEADER + (
    "2024-12-30,-999.00,6310,lead fees,Thumbtack Inc,,,\n"
    "2025-01-05,-40.00,6310,lead fees,Thumbtack Inc,,,\n"
    "2025-02-05,-60.00,6310,lead fees,  THUMBTACK   inc ,,,\n"
    "2025-01-10,500.00,4000,charter,Viator,,,\n"
    "2025-01-10,-120.00,5300,channel commission,Viator,,,\n"
    "2025-03-10,700.00,4000,charter,Viator,,,\n"
    "2025-03-10,-80.00,5300,channel commission,Viator,,,\n"
    "2025-03-15,-300.00,6300,marketing,Google Ads,,,\n"
)
LEDGER_PROFILE = """name = "Ledgered"
kind = "charter"

[[channels]]
name = "Thumbtack"
status = "claimed"
counterparties = ["thumbtack"]

[[channels]]
name = "Viator"
status = "claimed"
commission = "0.50"
counterparties = ["Viator"]

[[stack]]
name = "mail"
hosting = "saas"
sends_mail = true
spf = true
dkim = true
dmarc = "none"

[audience]
email_list = 120
"""


def test_channel_spend_and_revenue_come_from_the_ledger_via_counterparties(tmp_path):
    write_entity(tmp_path / "data" / "led", LEDGER_CHANNELS, LEDGER_PROFILE)
    report, markdown = build(write_config(tmp_path, entities=("led",)))
    body = section(report, "Channel economics")
    rows = {r[1]: r for r in table_rows(body, "Ledgered") if len(r) == 10}
    # spend | revenue | bookings | return on spend | cost per booking | net contribution
    assert rows["Thumbtack"][3:9] == ["$100.00", "$0.00", "0", "0.00x", "n/a", "-$100.00"]
    assert rows["Thumbtack"][9] == "ledger: 2 rows of thumbtack"
    # the ledger wins over the configured 50%: 1200 / 200 = 6.00x, 200 / 2 = 100 a booking
    assert rows["Viator"][3:9] == ["$200.00", "$1,200.00", "2", "6.00x", "$100.00", "$1,000.00"]
    assert ["Ledgered", "Google Ads", "1", "$300.00"] in table_rows(body, "Ledgered")
    assert "no commission in the data" not in markdown.lower()
    # measured net contribution orders the rollout: Viator (+1,000) before Thumbtack (-100)
    steps = table_rows(section(report, "Marketplace rollout sequence"), "Ledgered")
    assert [r[2] for r in steps] == [
        "optimise the listing on Viator",
        "optimise the listing on Thumbtack",
    ]


def test_the_first_send_waits_for_the_ctos_email_authentication_fix(tmp_path):
    from execreport.config import load_config
    from execreport.pipeline import build as build_reports

    write_entity(tmp_path / "data" / "led", LEDGER_CHANNELS, LEDGER_PROFILE)
    config = write_config(tmp_path, "[roles.cto.due_days]\nwarning = 20\n", entities=("led",))
    result = build_reports(load_config(config), only=["cto", "cmo"])
    cto, cmo = (next(i.report for i in result.items if i.report.role == r) for r in ("cto", "cmo"))
    dmarc = [a.due for a in cto.actions if "DMARC" in a.title]
    assert dmarc == [date(2025, 4, 20)]  # as_of + the CTO's 20 days
    days = [r for r in table_rows(section(cmo, "Email plan")) if r[0].isdigit()]
    assert days[0][1] == "2025-04-21"  # the day after
    assert sum(int(r[2].replace(",", "")) for r in days) == 120  # never more than the list
