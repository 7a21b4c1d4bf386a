"""What a role is: the protocol third-party roles implement."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Role(Protocol):
    """A report for one reader. `priority`: lower is sent first (after critical reports).

    Set `consolidates = True` on a role that summarises the others: it is built last and
    sees their reports in `ctx.reports`."""

    name: str
    title: str
    priority: int

    def build(self, ctx: Any) -> Any: ...
