"""DangerousCentaur: a software venture."""

from __future__ import annotations

from typing import Any

from execreport import FolderSource, hookimpl

SOURCE = FolderSource(
    key="dangerouscentaur",
    name="DangerousCentaur",
    kind="software",
    description="a software venture",
    expected_kpis=("mrr", "churn", "cac", "ltv"),
    key_channels=("Product Hunt", "G2", "AWS Marketplace"),
)


@hookimpl
def register_sources(register: Any) -> None:
    register(SOURCE)
