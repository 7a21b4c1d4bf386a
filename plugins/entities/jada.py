"""JADA: a charter sailing yacht in San Diego."""

from __future__ import annotations

from typing import Any

from execreport import FolderSource, hookimpl

SOURCE = FolderSource(
    key="jada",
    name="JADA",
    kind="charter",
    description="a charter sailing yacht in San Diego",
    expected_kpis=("utilization", "revenue_per_charter", "booking_lead_time_days", "review_rating"),
    key_channels=("Sailo", "GetMyBoat", "Viator", "Google Business Profile"),
)


@hookimpl
def register_sources(register: Any) -> None:
    register(SOURCE)
