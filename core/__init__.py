"""execreport: executive reports from a company's own data, delivered exactly once.

The names below are the public API that plugins are written against (DESIGN.md). They are
loaded on first use so that `execreport --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigError, DataError, DeliveryError, ExecReportError
from .hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "Role": "roles",
    "RoleContext": "models",
    "Report": "models",
    "Section": "models",
    "Finding": "models",
    "Action": "models",
    "Severity": "models",
    "Entity": "models",
    "Message": "models",
    "Receipt": "models",
    "Attachment": "models",
    "Asset": "models",
    "StackItem": "models",
    "Channel": "models",
    "KPI": "models",
    "Task": "models",
    "Ledger": "ledger",
    "FolderSource": "sources",
    "md_escape": "render",
    "read_settings": "config",
    "money": "render",
    "changes_section": "changes",
    "add_months": "figures",
    "month_end": "figures",
    "trailing_months": "figures",
    "audit_window": "figures",
    "to_money": "figures",
    "to_ratio": "figures",
    "render_template": "templates",
    "RenderedTemplate": "templates",
}

__all__ = ["hookimpl", "ExecReportError", "ConfigError", "DataError", "DeliveryError", *_LAZY]

if TYPE_CHECKING:
    from .changes import changes_section
    from .config import read_settings
    from .figures import add_months, audit_window, month_end, to_money, to_ratio, trailing_months
    from .ledger import Ledger
    from .models import (
        KPI,
        Action,
        Asset,
        Attachment,
        Channel,
        Entity,
        Finding,
        Message,
        Receipt,
        Report,
        RoleContext,
        Section,
        Severity,
        StackItem,
        Task,
    )
    from .render import md_escape, money
    from .roles import Role
    from .sources import FolderSource
    from .templates import RenderedTemplate, render_template


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'execreport' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
