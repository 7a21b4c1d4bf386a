"""The plugin manager: built-ins and third-party plugins come in through the same door."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

DEFAULT_PLUGINS = (
    "execreport.plugins.entities.jada",
    "execreport.plugins.entities.queenofsandiego",
    "execreport.plugins.entities.quickdumpnow",
    "execreport.plugins.entities.dangerouscentaur",
    "execreport.plugins.roles.ceo",
    "execreport.plugins.roles.cto",
    "execreport.plugins.roles.cfo",
    "execreport.plugins.roles.cmo",
    "execreport.plugins.roles.accounting",
    "execreport.senders.outbox",
    "execreport.senders.ses",
    "execreport.senders.smtp",
    "execreport.senders.kanban",
)

ENTRY_POINT_GROUP = "execreport"

_pm: pluggy.PluginManager | None = None
# distribution name of each plugin loaded from an entry point, for `execreport plugins`
_distributions: dict[str, tuple[str, str]] = {}


def warn(text: str) -> None:
    """A warning log line (with its timestamp when the output is not a terminal)."""
    import logging

    logger = logging.getLogger("execreport")
    if logger.handlers:
        logger.warning(text)
    else:  # logging not set up (a library caller): the plain line as before
        print(f"execreport: warning: {text}", file=sys.stderr)


def _allowlist() -> set[str] | None:
    """EXECREPORT_LOAD_PLUGINS: comma-separated distribution names; empty: none; unset: all."""
    raw = os.environ.get("EXECREPORT_LOAD_PLUGINS")
    if raw is None:
        return None
    return {_norm(n) for n in raw.split(",") if n.strip()}


def _norm(name: str) -> str:
    """Distribution names compare as packaging normalises them (PEP 503)."""
    import re

    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def load_entry_points(pm: pluggy.PluginManager) -> None:
    from importlib.metadata import entry_points

    allowed = _allowlist()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.name
        if allowed is not None and _norm(dist) not in allowed:
            continue
        if pm.has_plugin(ep.name):
            other = _distributions.get(ep.name, ("execreport", ""))[0]
            raise PluginError(
                f"plugin name {ep.name!r} is used by both {other} and {dist}; uninstall one "
                "or leave it out of EXECREPORT_LOAD_PLUGINS"
            )
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take the host down
            warn(f"plugin {ep.name!r} from {dist} failed to load: {type(exc).__name__}: {exc}")
            continue
        version = ep.dist.version if ep.dist is not None else ""
        _distributions[ep.name] = (dist, version)
        try:
            pm.register(plugin, name=ep.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(_invalid(ep.name, exc)) from None


def _invalid(name: str, exc: pluggy.PluginValidationError) -> str:
    """One line for a plugin whose hookimpl does not match a hookspec."""
    dist = _distributions.get(name, ("execreport", ""))[0]
    what = " ".join(str(exc).split())
    return (
        f"plugin {name!r} from {dist}: {what}; fix it (docs/hooks.md), uninstall it, or leave "
        "it out of EXECREPORT_LOAD_PLUGINS"
    )


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, built on first use."""
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager("execreport")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            warn(f"built-in plugin {name} failed to load: {type(exc).__name__}: {exc}")
            continue
        pm.register(module, name=name)
    load_entry_points(pm)
    # a misspelled hookimpl would otherwise be silently ignored
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_invalid(pm.get_name(exc.plugin) or repr(exc.plugin), exc)) from None
    _pm = pm
    return pm


def reset_plugin_manager() -> None:
    """Forget the plugin manager (tests register and unregister plugins)."""
    global _pm
    _pm = None
    _distributions.clear()


def _collect(hook_name: str, key: Callable[..., str], pm: pluggy.PluginManager) -> dict:
    """Call each implementation of a `register_*` hook; refuse a name registered twice."""
    found: dict[str, tuple[str, Any]] = {}
    hook = getattr(pm.hook, hook_name)
    # pluggy calls implementations last-registered first; keep that order
    for impl in reversed(hook.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register(*args: Any, _plugin: str = plugin_name) -> None:
            name = key(*args)
            if name in found:
                other = found[name][0]
                raise PluginError(
                    f"{hook_name.removeprefix('register_')[:-1]} {name!r} is registered by both "
                    f"{other!r} and {_plugin!r}; uninstall one or block it with "
                    "EXECREPORT_LOAD_PLUGINS"
                )
            found[name] = (_plugin, args[0] if len(args) == 1 else args[1])

        impl.function(register=register)
    return {name: value for name, value in found.items()}


def sources(pm: pluggy.PluginManager | None = None) -> dict[str, Any]:
    """Registered sources by key."""
    found = _collect("register_sources", lambda s: s.key, pm or get_plugin_manager())
    return {k: v[1] for k, v in found.items()}


def roles(pm: pluggy.PluginManager | None = None) -> dict[str, Any]:
    """Registered roles by name."""
    found = _collect("register_roles", lambda r: r.name, pm or get_plugin_manager())
    return {k: v[1] for k, v in found.items()}


def senders(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[[dict], Any]]:
    """Registered sender factories by name."""
    found = _collect("register_senders", lambda n, f: n, pm or get_plugin_manager())
    return {k: v[1] for k, v in found.items()}


def describe(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """Each plugin: name, distribution, version, hooks, and what it registers."""
    pm = pm or get_plugin_manager()
    registered: dict[str, dict[str, list[str]]] = {}
    for hook_name, what, key in (
        ("register_sources", "sources", lambda s: s.key),
        ("register_roles", "roles", lambda r: r.name),
        ("register_senders", "senders", lambda n, f: n),
    ):
        for name, (plugin, _) in _collect(hook_name, key, pm).items():
            registered.setdefault(plugin, {}).setdefault(what, []).append(name)
    from importlib.metadata import version as dist_version

    rows = []
    for plugin_name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        dist, version = _distributions.get(plugin_name, ("execreport", ""))
        if not version:
            try:
                version = dist_version(dist)
            except Exception:
                version = ""
        rows.append(
            {
                "name": plugin_name,
                "distribution": dist,
                "version": version,
                "builtin": plugin_name in DEFAULT_PLUGINS,
                "hooks": hooks,
                **{k: sorted(v) for k, v in sorted(registered.get(plugin_name, {}).items())},
            }
        )
    return sorted(rows, key=lambda r: (not r["builtin"], r["name"]))
