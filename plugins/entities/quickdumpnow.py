"""QuickDumpNow: junk removal and hauling."""

from __future__ import annotations

from typing import Any

from execreport import FolderSource, hookimpl

SOURCE = FolderSource(
    key="quickdumpnow",
    name="QuickDumpNow",
    kind="junk_removal",
    description="junk removal and hauling",
    expected_kpis=("jobs_per_truck_day", "average_ticket", "cost_per_lead"),
    key_channels=("Google Business Profile", "Yelp", "Thumbtack", "Angi"),
)


@hookimpl
def register_sources(register: Any) -> None:
    register(SOURCE)
