"""A report compares with what its readers last received: the last *delivered* version, not
a newer one that was archived but never went out.

Real archive, real pipeline: version 1 of the CFO report is delivered; version 2 is built
and archived, but its delivery fails before anything leaves (the outbox cannot be created);
version 3 must then compare with version 1.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from execreport import hookimpl
from minidata import LEDGER, section, write_config, write_entity

# the mini entity's cash on 2025-03-31: 1000.00 opening + 3000 - 200 - 200 - 500 - 100 + 1500
CASH_V1 = Decimal("4500.00")


def equity(day: str, amount: str) -> str:
    """An owner's contribution (equity): of the CFO's key figures, only cash moves."""
    return f"{day},{amount},3000,owner contribution,Owner,,,\n"


class PreviousSeen:
    """A plugin that records the `previous` report each CFO build was given."""

    def __init__(self) -> None:
        self.previous: list[Any] = []

    @hookimpl
    def report_built(self, report: Any, ctx: Any) -> None:
        if report.role == "cfo":
            self.previous.append(ctx.previous)


def test_changes_section_compares_with_the_last_delivered_version_not_the_last_archived(
    tmp_path: Path, register_plugin: Any
) -> None:
    from execreport import DeliveryError
    from execreport.archive import Archive
    from execreport.config import load_config
    from execreport.pipeline import run

    seen = PreviousSeen()
    register_plugin(seen)
    folder = write_entity(tmp_path / "data" / "acme")
    config = write_config(tmp_path)

    # v1: built and delivered
    first = run(load_config(config), only=["cfo"])
    assert [(o.version, o.status) for o in first.outcomes] == [(1, "sent")]

    # v2: new figures, archived, but the outbox cannot be made (a file stands in its way):
    # the preflight fails and nothing is delivered
    (folder / "ledger.csv").write_text(LEDGER + equity("2025-03-25", "100.00"))
    (tmp_path / "blocked").write_text("not a folder")
    good = config.read_text()
    config.write_text(good.replace('path = "outbox"', 'path = "blocked/outbox"'))
    with pytest.raises(DeliveryError):
        run(load_config(config), only=["cfo"])
    with Archive(tmp_path / "archive.sqlite3") as archive:
        assert archive.latest("cfo").version == 2
        assert archive.last_sent("cfo").version == 1

    # v3: more new figures, delivered; compared with v1, what its readers last received
    config.write_text(good)
    (folder / "ledger.csv").write_text(
        LEDGER + equity("2025-03-25", "100.00") + equity("2025-03-26", "200.00")
    )
    third = run(load_config(config), only=["cfo"])
    assert [(o.version, o.status) for o in third.outcomes] == [(3, "sent")]

    v1_seen, v2_seen, v3_seen = seen.previous
    assert v1_seen is None
    assert Decimal(v2_seen.metrics["consolidated"]["cash"]) == CASH_V1  # v1, delivered
    # still v1, not v2 (4600.00), which was archived but never delivered
    assert Decimal(v3_seen.metrics["consolidated"]["cash"]) == CASH_V1

    (item,) = third.build.items
    changes = section(item.report, "Changes since the last report")
    assert "cash up $300.00 ($4,500.00 → $4,800.00)" in changes, changes
    assert "4,600.00" not in changes
