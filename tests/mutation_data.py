"""Small in-process data for the role METRICS tests (tests/test_mutation_kills_*.py): entities
with DuckDB ledgers built from rows, and the RoleContext a role's `compute` reads."""

from __future__ import annotations

from datetime import date
from typing import Any


def row(day: str, amount: str, account: str = "", category: str = "", counterparty: str = "",
        memo: str = "", service_date: str = "", receipt: str = "") -> dict[str, Any]:  # fmt: skip
    return {
        "date": date.fromisoformat(day),
        "amount": amount,
        "account": account,
        "category": category,
        "counterparty": counterparty,
        "memo": memo,
        "service_date": date.fromisoformat(service_date) if service_date else None,
        "receipt": receipt,
    }


def entity(key: str, rows: list[dict[str, Any]] = (), **profile: Any) -> Any:  # type: ignore[assignment]
    from execreport.ledger import Ledger
    from execreport.models import Entity

    return Entity(key=key, name=key.upper(), ledger=Ledger.from_rows(rows, key), **profile)


def context(entities: list[Any], as_of: date, **more: Any) -> Any:
    from execreport.ledger import Ledger
    from execreport.models import RoleContext

    return RoleContext(
        entities=entities,
        ledger=Ledger.consolidate([e.ledger for e in entities]),
        as_of=as_of,
        period="Q1 2025",
        **more,
    )
