"""The CFO's METRICS.md figures computed in process (plugins/roles/cfo.py `window_sums`,
`cash_by_entity`, `figures`, `metrics`, `compute`) on a small ledger whose every figure is
worked out by hand below. Written to kill the mutants of `bench/mutation.sh cfo`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from execreport.models import Finance
from execreport.plugins.roles import cfo
from mutation_data import context, entity, row

AS_OF = date(2025, 3, 31)  # trailing 3 months: 2025-01-01 .. 2025-03-31


def holding():
    a = entity(
        "a",
        [
            row("2024-12-31", "1000.00", "4000"),  # the day before the window; before opening
            row("2025-01-01", "900.00", "4000"),  # the window's first day
            row("2025-03-31", "300.00", "4100"),  # its last day
            row("2025-04-01", "5000.00", "4000"),  # after as_of: no figure, no cash
            row("2025-02-10", "-200.00", "5000"),
            row("2025-03-04", "50.00", "5000"),  # a COGS credit
            row("2025-02-11", "-150.00", "6100"),
            row("2025-03-01", "-60.00", "7200"),
            row("2025-03-02", "-40.00", "400"),  # not four digits: no class
            row("2025-03-03", "-25.00", "1000"),  # a balance-sheet account
        ],
        finance=Finance(opening_cash=Decimal("1000.00"), opening_date=date(2025, 1, 1)),
    )
    b = entity(
        "b",
        [
            row("2025-02-15", "600.00", "4000"),
            row("2025-02-16", "-100.00", "4000"),  # a refund
            row("2025-03-10", "-900.00", "6000"),
        ],
    )
    c = entity("c", [row("2024-06-01", "-10.00", "6100")], finance=Finance(opening_cash=50))
    return [a, b, c]


# a: revenue 900 + 300 = 1200; cogs -(-200 + 50) = 150; opex -(-150 - 60) = 210
# b: revenue 600 - 100 = 500; cogs 0; opex 900.  c: no row in the window.
def test_window_sums_are_revenue_cogs_and_opex_of_the_trailing_3_months_per_entity():
    ctx = context(holding(), AS_OF)
    sums = cfo.window_sums(ctx.ledger, AS_OF)
    d = Decimal
    assert sums == {
        "a": {"revenue": d("1200.00"), "cogs": d("150.00"), "opex": d("210.00")},
        "b": {"revenue": d("500.00"), "cogs": d(0), "opex": d("900.00")},
        "consolidated": {"revenue": d("1700.00"), "cogs": d("150.00"), "opex": d("1110.00")},
    }


def test_window_sums_of_an_empty_ledger_are_zero_consolidated():
    ctx = context([entity("z")], AS_OF)
    assert cfo.window_sums(ctx.ledger, AS_OF) == {
        "consolidated": {"revenue": 0, "cogs": 0, "opex": 0}
    }


def test_cash_is_opening_cash_plus_the_rows_from_opening_date_to_as_of():
    ctx = context(holding(), AS_OF)
    # a: 1000 + (900 + 300 - 200 + 50 - 150 - 60 - 40 - 25) = 1775; b: 0 + 600 - 100 - 900;
    # c: 50 - 10 (no opening date: every row up to as_of)
    assert cfo.cash_by_entity(ctx) == {
        "a": Decimal("1775.00"),
        "b": Decimal("-400.00"),
        "c": Decimal("40.00"),
    }


def test_compute_gives_every_figure_per_entity_and_consolidated():
    got = {k: cfo.metrics(v) for k, v in cfo.compute(context(holding(), AS_OF)).items()}
    assert list(got) == ["consolidated", "a", "b", "c"]
    money = {k: str(v) if isinstance(v, Decimal) else v for k, v in got["a"].items()}
    # gross 360 / 3; net (360 - 1200) / 3; cm 1050 / 1200 = 0.875; break-even 70 / 0.875;
    # margin of safety (400 - 80) / 400
    expected = {
        "cash": "1775.00",
        "revenue_3m": "1200.00",
        "cogs_3m": "150.00",
        "opex_3m": "210.00",
        "gross_burn_3m": "120.00",
        "net_burn_3m": "-280.00",
        "runway_months": None,
        "cm_ratio": 0.88,
        "break_even_revenue": "80.00",
        "margin_of_safety": 0.8,
    }
    # compute gives more keys now (pinned by other tests): compare these, each present
    assert {k: money.get(k, "<missing>") for k in expected} == expected
    b = got["b"]  # burning with negative cash: runway 0; mos 1 - 900 / 500
    assert (str(b["net_burn_3m"]), b["runway_months"], b["cm_ratio"]) == ("133.33", 0.0, 1.0)
    assert (str(b["break_even_revenue"]), b["margin_of_safety"]) == ("300.00", -0.8)
    c = got["c"]  # no row in the window: zero sums, no ratio
    assert (str(c["cash"]), str(c["revenue_3m"]), str(c["gross_burn_3m"])) == (
        "40.00",
        "0.00",
        "0.00",
    )
    assert (c["runway_months"], c["cm_ratio"], c["break_even_revenue"]) == (None, None, None)
    assert c["margin_of_safety"] is None
    k = got["consolidated"]  # cash 1775 - 400 + 40; cm 1550 / 1700; be 370 * 1700 / 1550
    assert (str(k["cash"]), str(k["revenue_3m"]), str(k["opex_3m"])) == (
        "1415.00",
        "1700.00",
        "1110.00",
    )
    assert (str(k["gross_burn_3m"]), str(k["net_burn_3m"])) == ("420.00", "-146.67")
    assert (k["cm_ratio"], str(k["break_even_revenue"]), k["margin_of_safety"]) == (
        0.91,
        "405.81",
        0.28,  # 1 - 1110 / 1550
    )


def test_runway_is_cash_over_net_burn_when_burning():
    f = cfo.figures(
        Decimal("1000"), {"revenue": Decimal(300), "cogs": Decimal(100), "opex": Decimal(500)}
    )
    # net (600 - 300) / 3 = 100; cm 200 / 300; be (500 / 3) / (2 / 3) = 250; mos -150 / 100
    assert f["net_burn_3m"] == 100 and f["gross_burn_3m"] == 200
    assert f["runway_months"] == 10
    assert cfo.metrics(f)["cm_ratio"] == 0.67
    assert f["break_even_revenue"] == 250
    assert f["margin_of_safety"] == Decimal("-1.5")


def test_no_runway_at_zero_net_burn_and_no_break_even_without_a_positive_margin():
    zero = {"revenue": Decimal(300), "cogs": Decimal(300), "opex": Decimal(0)}
    f = cfo.figures(Decimal(5), zero)  # net 0; cm 0
    assert (f["net_burn_3m"], f["runway_months"], f["cm_ratio"]) == (0, None, 0)
    assert (f["break_even_revenue"], f["margin_of_safety"]) == (None, None)
    loss = cfo.figures(Decimal(5), {"revenue": Decimal(100), "cogs": Decimal(150), "opex": 0})
    assert (loss["cm_ratio"], loss["break_even_revenue"]) == (Decimal("-0.5"), None)
    refunds = cfo.figures(Decimal(5), {"revenue": Decimal(-100), "cogs": 0, "opex": 0})
    assert refunds["cm_ratio"] is None


@pytest.mark.parametrize("key", ["cash", "revenue_3m", "cogs_3m", "opex_3m", "gross_burn_3m",
                                 "net_burn_3m", "break_even_revenue"])  # fmt: skip
def test_money_figures_round_to_the_cent_and_the_others_to_two_places(key):
    m = cfo.metrics({key: Decimal("2.345"), "cm_ratio": Decimal("0.125")})
    assert str(m[key]) == "2.35" and m["cm_ratio"] == 0.13


def test_burn_and_runway_keep_their_fractions():
    # gross 100.5 / 3 = 33.5; net (100.5 - 0) / 3 = 33.5; runway 1000 / 33.5 = 29.85
    f = cfo.figures(
        Decimal("1000"), {"revenue": Decimal(0), "cogs": Decimal("100"), "opex": Decimal("0.5")}
    )
    assert (f["gross_burn_3m"], f["net_burn_3m"]) == (Decimal("33.5"), Decimal("33.5"))
    assert cfo.metrics(f)["runway_months"] == 29.85


def test_a_revenue_of_one_has_a_margin_and_a_monthly_revenue_of_one_a_margin_of_safety():
    one = cfo.figures(Decimal(0), {"revenue": Decimal(1), "cogs": Decimal(0), "opex": Decimal(0)})
    assert one["cm_ratio"] == 1
    # revenue 3: monthly 1; cm 1; break-even (3 / 3) / 1 = 1; margin of safety (1 - 1) / 1
    three = cfo.figures(Decimal(0), {"revenue": Decimal(3), "cogs": Decimal(0), "opex": Decimal(3)})
    assert (three["break_even_revenue"], three["margin_of_safety"]) == (1, 0)


def test_a_net_burn_under_one_still_has_a_runway():
    # net (1.5 - 0) / 3 = 0.5 a month; runway 10 / 0.5 = 20 months
    f = cfo.figures(
        Decimal(10), {"revenue": Decimal(0), "cogs": Decimal("1.5"), "opex": Decimal(0)}
    )
    assert (f["net_burn_3m"], f["runway_months"]) == (Decimal("0.5"), 20)


# Two entities with no revenue row and a negative cash from a balance-sheet row (class 1,
# not operating): a -100.00, b -50.00. Net burn 0 (no row in the window), so every forecast
# month keeps the cash: a -100.00, b -50.00, the holding -150.00 (the sum, started from 0);
# funding need a 100, b 50, the holding 150. Neither entity has a 4xxx row, so neither is in
# the revenue bridge's query: their four bridge figures are the 0.00 default; recognized
# revenue 0, so no recognized margin.
def test_the_holdings_forecast_and_funding_need_are_the_entities_sums_and_the_bridge_defaults_to_zero():
    a = entity("a", [row("2024-06-01", "-100.00", "1000")])
    b = entity("b", [row("2024-06-01", "-50.00", "1000")])
    got = {k: cfo.metrics(v) for k, v in cfo.compute(context([a, b], AS_OF)).items()}
    d = Decimal
    assert got["a"]["funding_need_12m"] == d("100.00")
    assert got["b"]["funding_need_12m"] == d("50.00")
    k = got["consolidated"]
    assert k["funding_need_12m"] == d("150.00")
    # forecast months: the 12 months after March 2025
    months = [f"2025-{m:02d}" for m in range(4, 13)] + [f"2026-{m:02d}" for m in (1, 2, 3)]
    assert k["cash_forecast"] == [{"month": m, "cash": d("-150.00")} for m in months]
    assert k["low_point_cash"] == d("-150.00")
    for scope in ("a", "b"):
        for key in cfo.BRIDGE_KEYS:
            assert got[scope][key] == d("0.00"), (scope, key)
        assert got[scope]["recognized_cm_ratio"] is None
    assert "series" not in k


def test_metrics_compares_key_names_by_value_not_by_identity():
    # key names made at run time (as from a file or JSON), equal to the literals but not
    # the same objects: a cash forecast is still listed by month, the series still left out
    forecast_key = "".join(["cash_", "forecast"])
    series_key = "".join(["ser", "ies"])
    got = cfo.metrics({forecast_key: [(date(2025, 4, 1), Decimal("1.005"))], series_key: [1, 2]})
    assert got == {"cash_forecast": [{"month": "2025-04", "cash": Decimal("1.01")}]}
