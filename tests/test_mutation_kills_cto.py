"""The CTO's METRICS.md figures and the cost and practice figures it adds
(plugins/roles/cto.py), every count and percentage worked out by hand. Written to kill the
mutants of `bench/mutation.sh cto`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from execreport.models import StackItem
from execreport.plugins.roles import cto
from mutation_data import context, entity, row

BASE = {f: True for f in ("mfa", "tls", "hsts", "backups", "dependency_updates", "logging")}


def item(name: str, cost: str = "0", **checks) -> StackItem:
    return StackItem(name=name, monthly_cost=Decimal(cost), **checks)


def test_each_check_passes_only_on_a_toml_true_and_secrets_only_on_false():
    good = item("good", **BASE, secrets_in_repo=False)
    assert cto.item_checks(good) == [(f, True) for f in BASE] + [("secrets_in_repo", True)]
    odd = item("odd", mfa="yes", tls=1, secrets_in_repo=0)
    assert cto.item_checks(odd) == [(f, False) for f in BASE] + [("secrets_in_repo", False)]
    leaky = item("leaky", **BASE, secrets_in_repo=True)
    assert cto.item_checks(leaky)[-1] == ("secrets_in_repo", False)


def test_an_item_that_sends_mail_is_checked_for_spf_dkim_and_dmarc():
    mail = item("m", **BASE, secrets_in_repo=False, sends_mail=True, spf=True, dkim=False,
                dmarc="reject")  # fmt: skip
    assert cto.item_checks(mail)[7:] == [("spf", True), ("dkim", False), ("dmarc", True)]
    for policy, passed in (("quarantine", True), ("none", False), (None, False)):
        m = item("m", sends_mail=True, dmarc=policy)
        assert cto.item_checks(m)[-1] == ("dmarc", passed)
    assert len(cto.item_checks(item("m", sends_mail="true", spf=True))) == 7


def test_stack_figures_count_checks_and_failures_over_all_items():
    items = [
        item("a", "10.50", **BASE, secrets_in_repo=False),  # 7 pass
        # 10 checks: tls, spf and dmarc pass; mfa "yes", the missing ones, dkim fail
        item(
            "b", "20", mfa="yes", tls=True, sends_mail=True, spf=True, dkim=False, dmarc="reject"
        ),  # fmt: skip
        item("c", **BASE, secrets_in_repo=False, sends_mail="true"),  # 7 pass
    ]
    got = cto.stack_figures(items)
    assert got == {
        "stack_monthly_cost": Decimal("30.50"),
        "security_checks": 24,
        "security_checks_failed": 7,
        "security_score": 0.71,  # 17 / 24 = 0.708
    }
    assert str(got["stack_monthly_cost"]) == "30.50"
    assert cto.stack_figures([]) == {
        "stack_monthly_cost": Decimal("0.00"),
        "security_checks": 0,
        "security_checks_failed": 0,
        "security_score": None,
    }
    assert cto.stack_figures(items[:1])["security_score"] == 1.0


def test_cicd_level_counts_the_steps_that_hold_in_order():
    assert cto.maturity(item("x", ci=True, tests=True, auto_deploy=True)) == 3
    assert cto.maturity(item("x", ci=True, tests=True, auto_deploy=False)) == 2
    assert cto.maturity(item("x", ci=True, tests="yes", auto_deploy=True)) == 1
    assert cto.maturity(item("x", ci=False, tests=True, auto_deploy=True)) == 0
    assert cto.maturity(item("x", tests=True)) == 0  # declares tests: code it builds, no CI
    # CI/CD applies only to code the business builds: a `repo`, or `ci`/`tests` declared
    assert cto.maturity(item("x", repo="git@x:app", auto_deploy=False)) == 0
    assert cto.maturity(item("x", repo="git@x:app", auto_deploy=True)) == 0  # no CI: none hold
    assert cto.maturity(item("x", repo="git@x:app", ci=True, tests=False)) == 1
    assert cto.maturity(item("x", auto_deploy=True)) is None  # deploys, but builds no code
    assert cto.maturity(item("x", repo="")) is None  # an empty repo is none
    assert cto.maturity(item("x")) is None  # records none of them
    # and never to a SaaS item (nor one marked managed = true, the older spelling)
    assert cto.maturity(item("x", ci=True, managed=True)) is None
    assert cto.maturity(item("x", ci=True, managed="yes")) == 1
    assert cto.maturity(item("x", repo="git@x:app", ci=True, hosting="saas")) is None
    assert cto.maturity(item("x", ci=True, tests=True, hosting="managed")) == 2
    assert (
        cto.maturity(item("x", ci=True, tests=True, auto_deploy=True, hosting="self_hosted")) == 3
    )


def test_practice_figures_average_the_levels_and_count_authenticated_mail():
    items = [
        item("a", ci=True, tests=True, auto_deploy=True),  # 3
        item("b", ci=True, tests=True),  # 2
        item("c", ci=False),  # 0
        item("d", ci=True, managed=True),  # not counted
        item("e"),  # not counted
        item("m1", sends_mail=True, spf=True, dkim=True, dmarc="quarantine"),
        item("m2", sends_mail=True, spf=True, dkim=True, dmarc="none"),
        item("m3", sends_mail="true", spf=True, dkim=True, dmarc="reject"),
    ]
    assert cto.practice_figures(items) == {
        "cicd_average_level": 1.67,  # 5 / 3
        "mail_items": 2,
        "mail_items_authenticated": 1,
    }
    assert cto.practice_figures([item("e")]) == {
        "cicd_average_level": None,
        "mail_items": 0,
        "mail_items_authenticated": 0,
    }
    assert cto.mail_authenticated(item("x", sends_mail=True, spf=True, dkim=True, dmarc="reject"))
    assert not cto.mail_authenticated(item("x", sends_mail=True, spf=False, dkim=True,
                                           dmarc="reject"))  # fmt: skip


def test_window_months_are_the_first_days_of_the_trailing_3_months():
    assert cto.window_months(date(2025, 3, 31)) == (
        [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)],
        date(2025, 3, 31),
    )
    assert cto.window_months(date(2025, 1, 15)) == (
        [date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)],
        date(2024, 12, 31),
    )


def test_software_spend_per_month_from_categories_and_accounts():
    a = entity(
        "a",
        [
            row("2025-01-10", "-100.00", "6300", " Hosting "),
            row("2025-02-10", "-200.00", " 6150", "tools"),
            row("2025-03-10", "-250.00", "6300", "SOFTWARE"),
            row("2025-03-11", "3000.00", "4000", "charter"),
            row("2024-12-31", "-999.00", "6300", "software"),  # before the window
            row("2025-02-11", "-40.00", "6300", "rent"),
        ],
    )
    b = entity("b", [row("2025-02-01", "-50.00", "6300", "software")])
    settings = {"software_accounts": ["6150 "], "software_categories": ["HOSTING", "software"]}
    got = cto.software_spend(context([a, b], date(2025, 3, 31)).ledger, date(2025, 3, 31),
                             settings)  # fmt: skip
    d = Decimal
    assert got == {
        "a": {"revenue_3m": d("3000.00"), "spend": [d("100.00"), d("200.00"), d("250.00")]},
        "b": {"revenue_3m": d(0), "spend": [d(0), d("50.00"), d(0)]},
        "consolidated": {
            "revenue_3m": d("3000.00"),
            "spend": [d("100.00"), d("250.00"), d("250.00")],
        },
    }


def test_cost_figures_share_of_revenue_and_month_on_month_growth():
    window = {"revenue_3m": Decimal(3000), "spend": [Decimal(100), Decimal(200), Decimal(250)]}
    got = cto.rounded(cto.cost_figures(Decimal("30.50"), window))
    assert {k: str(v) if isinstance(v, Decimal) else v for k, v in got.items()} == {
        "revenue_monthly_3m": "1000.00",
        "stack_cost_pct_of_revenue": 3.05,  # 30.50 / 1000 * 100
        "software_spend_monthly_3m": "183.33",  # 550 / 3
        "software_spend_prior_month": "200.00",
        "software_spend_last_month": "250.00",
        "software_spend_mom_pct": 25.0,  # (250 - 200) / 200 * 100
    }
    none = cto.rounded(cto.cost_figures(Decimal(10), None))
    assert {k: str(v) if isinstance(v, Decimal) else v for k, v in none.items()} == {
        "revenue_monthly_3m": "0.00",
        "stack_cost_pct_of_revenue": None,
        "software_spend_monthly_3m": "0.00",
        "software_spend_prior_month": "0.00",
        "software_spend_last_month": "0.00",
        "software_spend_mom_pct": None,
    }
    fall = {"revenue_3m": Decimal(-3), "spend": [Decimal(0), Decimal(0), Decimal(10)]}
    got = cto.cost_figures(Decimal(1), fall)
    assert (got["stack_cost_pct_of_revenue"], got["software_spend_mom_pct"]) == (None, None)
    drop = {"revenue_3m": Decimal(300), "spend": [Decimal(1), Decimal(40), Decimal(10)]}
    assert cto.cost_figures(Decimal(1), drop)["software_spend_mom_pct"] == -75


def test_only_a_toml_true_counts_as_a_cicd_step_or_as_managed():
    assert cto.maturity(item("x", ci=1, tests=True)) == 0  # 1 is not true
    assert cto.maturity(item("x", ci=True, managed=1)) == 1  # nor is it managed


def test_monthly_revenue_and_growth_keep_their_fractions_and_need_only_a_prior_month():
    window = {"revenue_3m": Decimal(1000), "spend": [Decimal(0), Decimal(40), Decimal(10)]}
    got = cto.rounded(cto.cost_figures(Decimal(1), window))
    # 1000 / 3 = 333.33; 1 / 333.33 * 100 = 0.3; (10 - 40) / 40 * 100 = -75
    assert str(got["revenue_monthly_3m"]) == "333.33"
    assert got["stack_cost_pct_of_revenue"] == 0.3
    assert got["software_spend_mom_pct"] == -75.0


def test_only_sends_mail_true_makes_a_mail_item():
    items = [item("m", sends_mail=1, spf=True, dkim=True, dmarc="reject")]
    assert cto.practice_figures(items)["mail_items"] == 0
    assert len(cto.item_checks(items[0])) == 7


def test_only_a_toml_true_passes_spf_or_dkim():
    m = item("m", sends_mail=True, spf=1, dkim=True, dmarc="reject")
    assert cto.item_checks(m)[7:] == [("spf", False), ("dkim", True), ("dmarc", True)]


def test_small_revenue_and_spend_still_give_a_share_and_a_growth_and_a_refund_month_none():
    # revenue 3 over 3 months: 1 a month; 2 / 1 * 100 = 200 %; spend 1 then 2: +100 %
    tiny = {"revenue_3m": Decimal(3), "spend": [Decimal(0), Decimal(1), Decimal(2)]}
    got = cto.cost_figures(Decimal(2), tiny)
    assert (got["stack_cost_pct_of_revenue"], got["software_spend_mom_pct"]) == (200, 100)
    # a month whose refunds exceed its spend: no growth from a negative base
    refund = {"revenue_3m": Decimal(3), "spend": [Decimal(0), Decimal(-10), Decimal(5)]}
    assert cto.cost_figures(Decimal(2), refund)["software_spend_mom_pct"] is None
