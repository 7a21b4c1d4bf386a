"""The CFO report as a specification: hand-computed figures, findings, the target path, the
Profit First allocation, investments and the changes since the last report."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from minidata import cli, write_config, write_entity

HEADER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"

# Acme, as of 2025-03-31 (trailing 3 months: 2025-01-01 to 2025-03-31):
#   revenue 3 x 3000 = 9000, COGS 3 x 900 = 2700, opex 3 x 3500 = 10500
#   cash = 10000 + 900 (December) + 9000 - 2700 - 10500 = 6700
#   gross burn 13200 / 3 = 4400, net burn 4200 / 3 = 1400, runway 6700 / 1400 = 4.79
#   CM ratio 6300 / 9000 = 0.7, break-even 3500 / 0.7 = 5000, margin (3000 - 5000) / 3000
ACME = HEADER + (
    "2024-12-15,900.00,4000,charter,Client Z,,,\n"
    "2025-01-10,3000.00,4000,charter,Client A,,,\n"
    "2025-02-10,3000.00,4000,charter,Client B,,,\n"
    "2025-03-10,3000.00,4000,charter,Client C,,,\n"
    "2025-01-15,-900.00,5000,fuel,Fuel Dock,,,r\n"
    "2025-02-15,-900.00,5000,fuel,Fuel Dock,,,r\n"
    "2025-03-15,-900.00,5000,fuel,Fuel Dock,,,r\n"
    "2025-01-20,-3500.00,6100,slip fees,Marina,,,r\n"
    "2025-02-20,-3500.00,6100,slip fees,Marina,,,r\n"
    "2025-03-20,-3500.00,6100,slip fees,Marina,,,r\n"
)
ACME_PROFILE = 'name = "Acme Charters"\nopening_cash = "10000.00"\nopening_date = "2024-01-01"\n'
# Beta: no revenue, one 500.00 expense against 100.00 of opening cash: cash -400.00
BETA = HEADER + "2025-03-01,-500.00,6100,insurance,Insurer,,,r\n"
BETA_PROFILE = 'name = "Beta <script>alert(1)</script> Labs"\nopening_cash = "100.00"\n'
# Gamma: revenue 3000/month, opex 1000/month: above break-even, not burning cash
GAMMA = HEADER + "".join(
    f"2025-0{m}-05,3000.00,4100,job,Customer {m},,,\n2025-0{m}-06,-1000.00,6200,software,SaaS,,,r\n"
    for m in (1, 2, 3)
)
GAMMA_PROFILE = 'name = "Gamma"\nopening_cash = "0"\n'


def holding(root: Path, extra: str = "") -> Path:
    write_entity(root / "data" / "acme", ACME, ACME_PROFILE)
    write_entity(root / "data" / "beta", BETA, BETA_PROFILE)
    write_entity(root / "data" / "gamma", GAMMA, GAMMA_PROFILE)
    return write_config(root, extra=extra, entities=("acme", "beta", "gamma"))


def build_json(config: Path, *roles: str) -> dict[str, dict]:
    args = [a for r in roles for a in ("-r", r)]
    done = cli("build", "--json", "-q", "--config", str(config), *args)
    assert done.returncode == 0, done.stderr
    return {r["role"]: r for r in json.loads(done.stdout)}


def build_markdown(config: Path, *roles: str) -> str:
    args = [a for r in roles for a in ("-r", r)]
    done = cli("build", "-q", "--config", str(config), *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[dict, str]:
    """The three-entity holding built once with the default settings: (JSON report, text)."""
    root = tmp_path_factory.mktemp("cfo")
    config = holding(root)
    return build_json(config, "cfo")["cfo"], build_markdown(config, "cfo")


# ------------------------------------------------------------------------ golden figures


def test_every_cfo_figure_of_the_hand_computed_entity(built):
    m = built[0]["metrics"]["acme"]
    assert m["cash"] == "6700.00"
    assert m["revenue_3m"] == "9000.00"
    assert m["gross_burn_3m"] == "4400.00"
    assert m["net_burn_3m"] == "1400.00"
    assert m["runway_months"] == 4.79
    assert m["cm_ratio"] == 0.7
    assert m["break_even_revenue"] == "5000.00"
    assert m["margin_of_safety"] == -0.67
    assert m["revenue_monthly"] == "3000.00"
    assert m["contribution_monthly"] == "2100.00"
    assert m["fixed_costs_monthly"] == "3500.00"


def test_consolidated_figures_are_the_same_formulas_over_all_rows(built):
    c = built[0]["metrics"]["consolidated"]
    assert c["cash"] == "12300.00"  # 6700 + (-400) + 6000
    # revenue 9000 + 9000; COGS 2700; opex 10500 + 500 + 3000
    assert c["revenue_3m"] == "18000.00"
    assert c["gross_burn_3m"] == "5566.67"  # 16700 / 3
    assert c["net_burn_3m"] == "-433.33"  # (16700 - 18000) / 3
    assert c["runway_months"] is None
    assert c["cm_ratio"] == 0.85  # (18000 - 2700) / 18000
    assert c["break_even_revenue"] == "5490.20"  # (14000 / 3) / 0.85
    assert c["margin_of_safety"] == 0.08  # (6000 - 5490.196) / 6000 = 0.085


def test_runway_is_null_when_not_burning_cash(built):
    assert built[0]["metrics"]["gamma"]["runway_months"] is None
    assert "not burning cash" in built[1]


def test_runway_under_6_months_is_critical_and_names_the_entity(built):
    report, _ = built
    runway = [f for f in report["findings"] if f["entity"] == "acme" and "runway" in f["message"]]
    assert [f["severity"] for f in runway] == ["critical"]
    assert "4.79 months" in runway[0]["message"] and "Acme Charters" in runway[0]["message"]
    assert report["critical"] is True


def test_negative_cash_is_critical_and_names_the_entity_and_the_amount(built):
    report, _ = built
    cash = [
        f for f in report["findings"] if f["entity"] == "beta" and "negative cash" in f["message"]
    ]
    assert len(cash) == 1 and cash[0]["severity"] == "critical"
    assert "-$400.00" in cash[0]["message"] and "Beta" in cash[0]["message"]
    assert any(a["entity"] == "beta" and a["severity"] == "critical" for a in report["actions"])


def test_runway_between_the_bands_is_a_warning(tmp_path):
    # the same entity with thresholds moved: 4.79 months is under 12 but not under 4
    config = holding(tmp_path, "\n[roles.cfo]\nrunway_critical_months = 4\n")
    report = build_json(config, "cfo")["cfo"]
    runway = [f for f in report["findings"] if f["entity"] == "acme" and "runway" in f["message"]]
    assert [f["severity"] for f in runway] == ["warning"]
    # Acme has no rows a year back: the forecast falls back to the trailing net burn of
    # 1400/month: 6700 - 5 x 1400 = -300 in 2025-08 (5 months: over 4, within 12); the low
    # point is 6700 - 12 x 1400 = -10100
    assert "runs out of cash in 2025-08, within 12 months" in runway[0]["message"]
    assert "trailing 3 months: runway 4.79 months" in runway[0]["message"]
    assert "low point -$10,100.00 in 2026-03" in runway[0]["message"]
    assert built_metrics(report)["acme"]["funding_need_12m"] == "10100.00"


def built_metrics(report: dict) -> dict:
    return report["metrics"]


# Sun: a seasonal business, as of 2025-03-31. Each month of 2024: opex 2000; revenue 1000 in
# Jan-Mar and 6000 in Apr-Dec 2024; 2025 Jan-Mar like 2024 but revenue 800 (a fall on the
# year: 2400 against 3000, -20%). Rows: 2024 -3 x 1000 + 9 x 4000 = 33000, 2025 -3 x 1200:
# cash -20000 + 29400 = 9400; trailing net burn (6000 - 2400) / 3 = 1200/month: runway 7.83
# months (a warning on the trailing view alone). The forecast repeats last year's months:
# Apr-Dec +4000 each (13400 in 2025-04 ... 45400), Jan-Mar 2026 -1200 each (41800): the low
# point is 13400 in 2025-04 and cash never runs out. The first row is dated 2024-01-01, the
# first day of last year's months, so last year counts.
SUN = (
    HEADER
    + "2024-01-01,0.00,1000,opening balance,Bank,,,\n"
    + "".join(
        f"{y}-{m:02d}-10,{rev},4000,charter,Guest,,,\n{y}-{m:02d}-12,-2000.00,6100,slip,Marina,,,r\n"
        for y, months_revenue in (
            (2024, [(m, "1000.00" if m <= 3 else "6000.00") for m in range(1, 13)]),
            (2025, [(m, "800.00") for m in (1, 2, 3)]),
        )
        for m, rev in months_revenue
    )
)
SUN_PROFILE = 'name = "Sun Charters"\nopening_cash = "-20000.00"\nopening_date = "2024-01-01"\n'


def test_a_seasonal_low_quarter_is_not_critical_and_names_the_low_point(tmp_path):
    write_entity(tmp_path / "data" / "sun", SUN, SUN_PROFILE)
    config = write_config(tmp_path, entities=("sun",))
    report = build_json(config, "cfo")["cfo"]
    m = report["metrics"]["sun"]
    assert m["cash"] == "9400.00" and m["runway_months"] == 7.83
    assert m["revenue_3m_ly"] == "3000.00" and m["revenue_yoy"] == -0.2
    assert m["cash_out_month"] is None and m["funding_need_12m"] == "0.00"
    # 12 months Apr 2024 - Mar 2025: 9 x 4000 - 3 x 1200 = 32400 earned: burn -2700/month
    assert m["net_burn_12m"] == "-2700.00"
    runway = [f for f in report["findings"] if "runway" in f["message"]]
    assert [f["severity"] for f in runway] == ["info"]
    assert "trailing 3 months: runway 7.83 months" in runway[0]["message"]
    assert (
        "cash stays positive through 2026-03, low point $13,400.00 in 2025-04"
        in (runway[0]["message"])
    )
    fell = [f for f in report["findings"] if "fell" in f["message"]]
    assert len(fell) == 1 and "fell 20.0% on the year" in fell[0]["message"]
    assert "$2,400.00" in fell[0]["message"] and "$3,000.00" in fell[0]["message"]
    text = build_markdown(config, "cfo")
    assert "$3,000.00 (-20.0%)" in text


def test_every_section_says_how_it_was_computed(built):
    report, text = built
    assert len(report["sections"]) >= 5
    for section in report["sections"]:
        assert section["body"].rstrip().splitlines()[-1].startswith("_How this was computed:")
    for heading in (
        "Cash, burn and runway",
        "Contribution margin and break-even",
        "Revenue target path",
        "Capital deployment (Profit First)",
        "Planned investments",
    ):
        assert f"## {heading}" in text


def test_data_text_stays_text_in_the_report(tmp_path):
    config = holding(tmp_path)
    out = tmp_path / "cfo.html"
    done = cli("preview", "cfo", "--config", str(config), "--output", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# ------------------------------------------------------------------------ the target path


def test_target_path_runs_from_the_month_after_as_of_through_december_next_year(built):
    path = built[0]["metrics"]["acme"]["target_path"]
    assert [p["month"] for p in path][0] == "2025-04"
    assert [p["month"] for p in path][-1] == "2026-12"
    assert len(path) == 21


def test_target_path_reaches_break_even_in_the_default_target_month(built):
    m = built[0]["metrics"]["acme"]
    path = {p["month"]: Decimal(p["revenue"]) for p in m["target_path"]}
    assert m["target_month"] == "2026-12"
    assert m["target_revenue"] == "5000.00"
    assert path["2026-12"] == Decimal("5000.00")
    # linear: 3000 + 2000 * k / 21
    assert path["2025-04"] == Decimal("3095.24")
    assert path["2026-11"] == Decimal("4904.76")
    assert m["break_even_status"] == "on_path"
    assert m["break_even_month"] == "2026-12"


def test_target_path_reaches_break_even_plus_profit_in_the_target_month(tmp_path):
    extra = '\n[roles.cfo]\ntarget_monthly_profit = "700.00"\ntarget_month = "2025-12"\n'
    m = build_json(holding(tmp_path, extra), "cfo")["cfo"]["metrics"]["acme"]
    path = {p["month"]: p["revenue"] for p in m["target_path"]}
    # (3500 + 700) / 0.7 = 6000, in 9 equal steps of 333.33 from April to December 2025
    assert m["target_revenue"] == "6000.00"
    assert path["2025-04"] == "3333.33"
    assert path["2025-12"] == "6000.00"
    assert path["2026-06"] == "6000.00" and path["2026-12"] == "6000.00"
    # 3000 + 3000 * 6 / 9 = 5000: break-even is crossed in the sixth month
    assert m["break_even_month"] == "2025-09"


def test_an_entity_above_break_even_holds_its_revenue(built):
    m = built[0]["metrics"]["gamma"]
    assert m["break_even_status"] == "above"
    assert m["break_even_month"] is None
    assert {p["revenue"] for p in m["target_path"]} == {"3000.00"}
    assert "Gamma: already above break-even" in built[1]


def test_no_target_path_without_revenue(built):
    m = built[0]["metrics"]["beta"]
    assert m["break_even_status"] == "no_break_even"
    assert m["target_path"] is None and m["target_revenue"] is None


@pytest.mark.parametrize(
    "value,message",
    [
        ('"2024-12"', "roles.cfo.target_month: 2024-12 is outside the target path"),
        ('"2027-01"', "roles.cfo.target_month: 2027-01 is outside the target path"),
        ('"December"', "roles.cfo.target_month: 'December' is not a month"),
    ],
)
def test_a_target_month_outside_the_path_is_an_error_naming_the_key(tmp_path, value, message):
    config = holding(tmp_path, f"\n[roles.cfo]\ntarget_month = {value}\n")
    done = cli("build", "-q", "--config", str(config), "-r", "cfo")
    assert done.returncode == 2  # a configuration error
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------------ capital deployment


def test_profit_first_allocation_defaults_to_5_50_15_30_of_monthly_revenue(built):
    m = built[0]["metrics"]["acme"]
    assert m["allocation"] == {
        "profit": "150.00",
        "owner_pay": "1500.00",
        "tax": "450.00",
        "opex": "900.00",
    }
    assert m["allocation_percent"] == {"profit": 5.0, "owner_pay": 50.0, "tax": 15.0, "opex": 30.0}
    assert built[0]["metrics"]["beta"]["allocation"]["profit"] == "0.00"


def test_allocation_is_configurable(tmp_path):
    extra = "\n[roles.cfo]\nallocation = {profit = 10, owner_pay = 40, tax = 20, opex = 30}\n"
    m = build_json(holding(tmp_path, extra), "cfo")["cfo"]["metrics"]["acme"]
    assert m["allocation"] == {
        "profit": "300.00",
        "owner_pay": "1200.00",
        "tax": "600.00",
        "opex": "900.00",
    }


def test_an_allocation_that_does_not_sum_to_100_is_an_error_naming_the_key(tmp_path):
    extra = "\n[roles.cfo]\nallocation = {profit = 10}\n"
    done = cli("build", "-q", "--config", str(holding(tmp_path, extra)), "-r", "cfo")
    assert done.returncode == 2  # a configuration error
    line = done.stderr.strip().splitlines()[-1]
    assert line == (
        "execreport: error: roles.cfo.allocation: the percentages sum to 105, not 100 "
        "(profit 10 + owner_pay 50 + tax 15 + opex 30); make them add up to 100"
    )


def test_an_unknown_allocation_bucket_is_an_error_naming_it(tmp_path):
    extra = "\n[roles.cfo]\nallocation = {profits = 5}\n"
    done = cli("build", "-q", "--config", str(holding(tmp_path, extra)), "-r", "cfo")
    assert done.returncode == 2  # a configuration error
    assert "roles.cfo.allocation.profits: unknown bucket" in done.stderr


# ------------------------------------------------------------------------ investments


def test_no_investments_configured_says_so(built):
    assert "No planned investments are configured" in built[1]
    assert built[0]["metrics"]["acme"]["investments"] == []


def test_payback_months_is_amount_over_monthly_return(tmp_path):
    extra = (
        "\n[[roles.cfo.investments]]\n"
        'name = "Second boat"\nentity = "acme"\namount = "12000.00"\nmonthly_return = "1000.00"\n'
        "\n[[roles.cfo.investments]]\n"
        'name = "Website"\nentity = "gamma"\namount = 900\nmonthly_return = 400\n'
    )
    report = build_json(holding(tmp_path, extra), "cfo")["cfo"]
    acme = report["metrics"]["acme"]["investments"]
    assert acme == [
        {
            "name": "Second boat",
            "entity": "acme",
            "amount": "12000.00",
            "monthly_return": "1000.00",
            "payback_months": 12.0,
        }
    ]
    assert report["metrics"]["gamma"]["investments"][0]["payback_months"] == 2.25
    assert len(report["metrics"]["consolidated"]["investments"]) == 2
    boat = [f["message"] for f in report["findings"] if "Second boat" in f["message"]]
    # 12 months of payback against a runway of 4.79; 12000 against 6700 of cash
    assert any("after the runway of 4.79 months ends" in msg for msg in boat)
    assert any("costs more than the cash on hand of $6,700.00" in msg for msg in boat)
    assert not [f for f in report["findings"] if "Website" in f["message"]]


def test_an_investment_for_an_unknown_entity_is_an_error_naming_the_key(tmp_path):
    extra = (
        '\n[[roles.cfo.investments]]\nname = "x"\nentity = "nope"\namount = 1\nmonthly_return = 1\n'
    )
    done = cli("build", "-q", "--config", str(holding(tmp_path, extra)), "-r", "cfo")
    assert done.returncode == 2  # a configuration error
    assert "roles.cfo.investments[0].entity: 'nope' is not an entity" in done.stderr


# ------------------------------------------------------------------------ changes


def test_changes_since_the_last_report_state_the_deltas(tmp_path):
    config = holding(tmp_path)
    first = cli("run", "-q", "--config", str(config), "-r", "cfo")
    assert first.returncode == 0, first.stderr
    # one more charter in March: cash, revenue, burn and runway all move
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text() + "2025-03-25,1400.00,4000,charter,Client D,,,\n")
    second = cli("run", "-q", "--config", str(config), "-r", "cfo")
    assert second.returncode == 0, second.stderr
    text = cli("show", "cfo", "--config", str(config)).stdout
    changes = text.split("## Changes since the last report", 1)[1].split("\n## ", 1)[0]
    # net burn (13200 - 10400) / 3 = 933.33; runway 8100 / 933.33 = 8.68
    assert (
        "- Acme Charters: cash up $1,400.00 ($6,700.00 → $8,100.00); revenue (3 months) up "
        "$1,400.00 ($9,000.00 → $10,400.00); net burn down $466.67 ($1,400.00 → $933.33); "
        "runway up 3.89 months (4.79 months → 8.68 months)"
    ) in changes
    assert "- Beta" not in changes  # nothing changed there
    assert changes.rstrip().splitlines()[-1].startswith("_How this was computed:")


def test_a_rerun_on_unchanged_data_stores_no_new_version(tmp_path):
    config = holding(tmp_path)
    for _ in range(2):
        assert cli("run", "-q", "--config", str(config), "-r", "cfo").returncode == 0
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text() + "2025-03-25,1400.00,4000,charter,Client D,,,\n")
    for _ in range(2):
        assert cli("run", "-q", "--config", str(config), "-r", "cfo").returncode == 0
    history = json.loads(cli("history", "cfo", "--json", "--config", str(config)).stdout)
    assert [v["version"] for v in history] == [1, 2]


def test_a_changed_figure_is_data_with_its_direction_and_size():
    """The deltas are data (the words are in templates/cfo.md.j2): up 1.20 months, down
    $50.00, and none for a figure that was n/a or did not move."""
    from execreport.plugins.roles.cfo import FigureChange

    up = FigureChange("runway_months", "months", Decimal("3.63"), Decimal("4.83"))
    assert (up.direction, up.size) == ("up", Decimal("1.20"))
    down = FigureChange("cash", "money", Decimal("100.00"), Decimal("50.00"))
    assert (down.direction, down.size) == ("down", Decimal("50.00"))
    new = FigureChange("runway_months", "months", None, Decimal("2.5"))
    assert (new.direction, new.size) == (None, None)
    same = FigureChange("runway_months", "months", Decimal("2.5"), Decimal("2.5"))
    assert same.direction is None


# ------------------------------------------------------------------------ properties

ROW = st.tuples(
    st.dates(date(2024, 10, 1), date(2025, 4, 30)),
    st.integers(-500_000, 500_000),
    st.sampled_from(["4000", "4900", "5000", "6100", "7100", "1000", "61O0", ""]),
)


def _build_cfo(rows: list[tuple[date, int, str]], opening: str) -> dict:
    from execreport import Entity, Ledger, RoleContext
    from execreport.ledger import use_database
    from execreport.plugins.roles.cfo import CFO

    with use_database():
        ledger = Ledger.from_rows(
            [
                {"date": d, "amount": Decimal(cents) / 100, "account": acct, "category": "c"}
                for d, cents, acct in rows
            ],
            "e",
        )
        entity = Entity(
            key="e",
            name="E",
            ledger=ledger,
            finance={"opening_cash": opening, "opening_date": date(2024, 11, 1)},
        )
        ctx = RoleContext(
            entities=[entity],
            ledger=Ledger.consolidate([ledger]),
            as_of=date(2025, 3, 31),
            period="Q1 2025",
        )
        report = CFO().build(ctx)
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(report.metrics)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, max_size=25),
    opening=st.sampled_from(["0", "1000.00", "-50.00"]),
    seed=st.integers(0, 2**32),
)
def test_cfo_figures_are_invariant_to_row_order(rows, opening, seed):
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    assert _build_cfo(rows, opening) == _build_cfo(shuffled, opening)


PROFITABLE = [(date(2025, m, 5), 1_000_00, "4000") for m in (1, 2, 3)] + [
    (date(2025, m, 6), -500_00, "6100") for m in (1, 2, 3)
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=25))
@example(rows=[])  # no revenue: no path
@example(rows=PROFITABLE)  # a path to check, whatever else hypothesis draws
def test_the_target_path_ends_at_the_target_and_never_falls(rows):
    m = _build_cfo(rows, "0")["e"]
    if m["target_path"] is None:
        assert m["break_even_status"] == "no_break_even"
        return
    revenues = [Decimal(p["revenue"]) for p in m["target_path"]]
    assert revenues == sorted(revenues)
    assert revenues[-1] == max(Decimal(m["target_revenue"]), Decimal(m["revenue_monthly"]))


def test_the_ceo_money_table_shows_every_business_from_the_cfo_figures(tmp_path):
    # Sun (above) and Beta (cash -400.00): each business's cash, revenue on the year and the
    # forecast low point. Beta's first row is 2025-03-01: Apr 2025-Feb 2026 fall back to its
    # trailing net burn of 500/3 a month (11 x 166.666.. = 1833.33), Mar 2026 repeats
    # 2025-03 (-500): -400 - 1833.33 - 500 = -2733.33 in 2026-03; the holding's funding need
    # is Beta's 2733.33 although Sun's cash would cover it
    write_entity(tmp_path / "data" / "sun", SUN, SUN_PROFILE)
    write_entity(tmp_path / "data" / "beta", BETA, BETA_PROFILE)
    config = write_config(tmp_path, entities=("sun", "beta"))
    text = build_markdown(config, "cfo", "ceo")
    ceo = text[text.index("# CEO Strategic Assessment") :]
    table = ceo[ceo.index("## Money by business") :]
    assert (
        "| Sun Charters | $9,400.00 | $2,400.00 | -20% (from $3,000.00) | $1,200.00 | -$2,700.00 "
        "| $13,400.00 in 2025-04 | stays positive | $0.00 | ok |"
    ) in table
    assert "| -$400.00 | $0.00 | no data a year back |" in table
    assert "| -$2,733.33 in 2026-03 | 2025-03 | $2,733.33 | critical: negative cash |" in table
    assert "| **All businesses** | $9,000.00 |" in table
    assert "| stays positive | $2,733.33 | needs funding |" in table
