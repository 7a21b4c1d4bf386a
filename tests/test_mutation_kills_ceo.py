"""The CEO's METRICS.md figures (plugins/roles/ceo.py `asset_figures`, `covered_kpis`), the
dates at each edge of their windows counted by hand. Written to kill the mutants of
`bench/mutation.sh ceo`."""

from __future__ import annotations

from datetime import date

from execreport.models import KPI, Asset, KPIValue
from execreport.plugins.roles.ceo import asset_figures, covered_kpis
from mutation_data import entity

AS_OF = date(2025, 3, 31)  # + 60 days = 2025-05-30; - 29 days = 2025-03-02


def value(kpi: str, day: str) -> KPIValue:
    return KPIValue(date=date.fromisoformat(day), kpi=kpi, value=1)


def holding():
    a = entity(
        "a",
        assets=[
            Asset(name="expired yesterday", expires=date(2025, 3, 30)),
            Asset(name="expires today", expires=date(2025, 3, 31)),
            Asset(name="expires on day 60", expires=date(2025, 5, 30)),
            Asset(name="expires on day 61", expires=date(2025, 5, 31)),
            Asset(name="never expires"),
        ],
        kpis=[KPI(name="revenue"), KPI(name="nps"), KPI(name="nps")],
        kpi_values=[
            value("revenue", "2025-03-02"),  # the window's first day
            value("nps", "2025-03-01"),  # one day before it
            value("nps", "2025-04-01"),  # after as_of
            value("undeclared", "2025-03-30"),
        ],
    )
    b = entity(
        "b",
        assets=[
            Asset(name="long gone", expires=date(2024, 1, 1)),
            Asset(name="gone this year", expires=date(2025, 1, 1)),
            Asset(name="next year", expires=date(2026, 1, 1)),
            Asset(name="the year after", expires=date(2027, 1, 1)),
        ],
        kpis=[KPI(name="x")],
        kpi_values=[value("x", "2025-03-31")],
    )
    return [a, b, entity("c")]


def test_asset_and_kpi_figures_over_all_entities():
    # assets 9; expired: 2025-03-30, 2024-01-01, 2025-01-01; expiring: 2025-03-31, 2025-05-30;
    # declared KPIs {revenue, nps} + {x} = 3, covered revenue and x: 2 / 3
    assert asset_figures(holding(), AS_OF) == {
        "assets": 9,
        "assets_expired": 3,
        "assets_expiring_60d": 2,
        "kpi_coverage": 0.67,
    }


def test_covered_kpis_are_declared_ones_with_a_value_in_the_30_days_ending_as_of():
    a, b, c = holding()
    assert covered_kpis(a, AS_OF) == {"revenue"}
    assert covered_kpis(b, AS_OF) == {"x"}
    assert covered_kpis(c, AS_OF) == set()
    assert covered_kpis(a, AS_OF, days=31) == {"revenue", "nps"}
    assert covered_kpis(a, date(2025, 3, 2), days=1) == {"revenue"}


def test_no_declared_kpi_has_no_coverage_and_no_asset_counts_zero():
    assert asset_figures([entity("c")], AS_OF) == {
        "assets": 0,
        "assets_expired": 0,
        "assets_expiring_60d": 0,
        "kpi_coverage": None,
    }
    full = entity("d", kpis=[KPI(name="k")], kpi_values=[value("k", "2025-03-31")])
    assert asset_figures([full], AS_OF)["kpi_coverage"] == 1.0
