"""The hooks execreport calls, in lifecycle order. Documented in docs/hooks.md."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("execreport")
hookimpl = pluggy.HookimplMarker("execreport")


@hookspec
def register_sources(register: Any) -> None:
    """Register data sources.

    :param register: call ``register(source)`` with an object that has ``key``, ``name``,
        ``kind`` and ``load(settings: dict, as_of: date) -> Entity``.
    """


@hookspec
def register_roles(register: Any) -> None:
    """Register role reports.

    :param register: call ``register(role)`` with an object that has ``name``, ``title``,
        ``priority: int`` (lower sends first) and ``build(ctx: RoleContext) -> Report``.
    """


@hookspec
def register_senders(register: Any) -> None:
    """Register delivery channels.

    :param register: call ``register(name, factory)``; ``factory(settings: dict) -> Sender``,
        a Sender has ``check() -> None`` and ``send(message: Message) -> Receipt``.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the command line.

    :param app: the ``typer.Typer`` application.
    """


@hookspec
def report_built(report: Any, ctx: Any) -> None:
    """Called after a role built its report, before rendering and archiving.

    :param report: the ``Report``.
    :param ctx: the ``RoleContext`` it was built from.
    """


@hookspec
def message_sent(message: Any, receipt: Any) -> None:
    """Called after a sender accepted a message.

    :param message: the ``Message`` sent.
    :param receipt: the sender's ``Receipt``.
    """
