"""`execreport check`: every problem it can find, not just the first.

Each check is a dict: `kind` (config, template, entity, role, sender), `name`, `status`
(ok or error), `detail` (for an error: the one line naming file/key), `exit_code` (0, or
the error's code: 2 config, 1 data or delivery). A role's check also carries the
`delivery` it would make (role, version None, sender, status, recipients) for `--json`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .config import bare_address
from .errors import ConfigError, ExecReportError


def _item(kind: str, name: str, detail: str, code: int = 0) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "status": "ok" if code == 0 else "error",
        "detail": detail,
        "exit_code": code,
    }


def _errors(kind: str, name: str, exc: ExecReportError) -> list[dict[str, Any]]:
    lines = getattr(exc, "problems", None) or str(exc).splitlines() or [str(exc)]
    return [_item(kind, name, line, exc.exit_code) for line in lines]


def run_checks(cfg: Any, as_of: date | None) -> list[dict[str, Any]]:
    from . import plugin_manager as plugins
    from .ledger import use_database
    from .pipeline import check_templates, entity_settings, selected_roles
    from .sources import FolderSource

    items = [_item("config", str(cfg.path), "ok")]
    try:
        chosen = selected_roles(cfg)
    except ExecReportError as exc:
        return items + _errors("config", "roles", exc)
    seen: list[str] = []
    try:  # a template is config: checked before any data is read
        check_templates(cfg, chosen, progress=seen.append)
        for line in seen:  # "template cfo: default:cfo.md.j2: ok"
            name, _, where = line.removeprefix("template ").partition(": ")
            items.append(_item("template", name, where.removesuffix(": ok")))
    except ExecReportError as exc:
        items += _errors("template", "templates", exc)

    try:
        day = cfg.as_of(as_of)
    except ExecReportError as exc:
        return items + _errors("config", "report.as_of", exc)
    if not cfg.entities:
        items.append(
            _item("entity", "entities", f"{cfg.path}: entities: no [entities.<key>] table", 2)
        )
    registered = plugins.sources()
    with use_database():
        for key, settings in cfg.entities.items():
            source = registered.get(key) or FolderSource(key=key)
            try:
                e = source.load(entity_settings(cfg, key, settings), day)
                n, last = e.ledger.sql("SELECT count(*), max(date) FROM ledger")[0]
            except ExecReportError as exc:
                items += _errors("entity", key, exc)
                continue
            except Exception as exc:  # a plugin source failing: a data problem, one line
                items.append(_item("entity", key, f"entity {key}: {type(exc).__name__}: {exc}", 1))
                continue
            items.append(_item("entity", key, f"({e.name}): {n} ledger rows, last {last}"))
            for note in getattr(e.ledger, "notes", []):  # multi-file ledgers (formats/)
                items.append(_item("ledger", key, str(note)))

    names = list(cfg.delivery.sender)
    if not cfg.delivery.from_:
        items.append(
            _item(
                "config",
                "delivery.from",
                f"{cfg.path}: delivery.from: no sender address; set it or SES_SENDER_EMAIL",
                2,
            )
        )
    for role in chosen:
        to = cfg.recipients(role.name)
        if not to:
            items.append(
                _item(
                    "role",
                    role.name,
                    f"{cfg.path}: roles.{role.name}.to: no recipients for role "
                    f"{role.name!r}; set [roles.{role.name}] to, or [delivery] to for every role",
                    2,
                )
            )
            continue
        item = _item("role", role.name, f"to {', '.join(to)}")
        items.append(item)
        item["delivery"] = [
            {
                "role": role.name,
                "version": None,
                "sender": name,
                "status": "ready",
                "recipients": [bare_address(a) for a in to],
            }
            for name in names
        ]

    factories = plugins.senders()
    for name in names:
        if name not in factories:
            known = ", ".join(sorted(factories))
            items.append(
                _item(
                    "sender",
                    name,
                    f"{cfg.path}: delivery.sender: unknown sender {name!r} (registered: {known})",
                    2,
                )
            )
            continue
        try:
            settings = cfg.delivery.sender_settings(name)
            settings.setdefault("_config", cfg)
            factories[name](settings).check()
        except ExecReportError as exc:
            items += _errors("sender", name, exc)
            continue
        except Exception as exc:
            items.append(_item("sender", name, f"sender {name}: {type(exc).__name__}: {exc}", 1))
            continue
        items.append(_item("sender", name, "ok"))
    items += _account_suppressions(cfg, chosen)
    return items


def _account_suppressions(cfg: Any, chosen: list[Any]) -> list[dict[str, Any]]:
    """The senders' account-level suppression lists (SES), for every report recipient: SES
    drops mail to an address on it."""
    from .pipeline import make_senders

    addresses = list(dict.fromkeys(a for r in chosen for a in cfg.recipients(r.name)))
    out: list[dict[str, Any]] = []
    try:
        senders = make_senders(cfg)
    except ExecReportError:
        return out  # already reported with the senders above
    for name, sender in senders:
        look = getattr(sender, "account_suppressions", None)
        if not callable(look):
            continue
        try:
            found = look(addresses)
        except ExecReportError as exc:
            out += _errors("suppression", name, exc)
            continue
        if found is None:
            out.append(
                _item("suppression", name, "the account suppression list cannot be read (skipped)")
            )
            continue
        for address, why in found.items():
            out.append(
                _item(
                    "suppression",
                    address,
                    f"{address}: on the SES account suppression list ({why}); SES drops mail "
                    "to it (aws sesv2 delete-suppressed-destination --email-address ADDRESS)",
                    1,
                )
            )
        if not found:
            out.append(_item("suppression", name, "no recipient on the account suppression list"))
    return out


__all__ = ["ConfigError", "run_checks"]
