"""Fixtures shared by the test suite. One fixture per clearly named function; add yours
below with a docstring that says what it gives."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ci_tools import in_ci

# Set before anything imports execreport, and inherited by every subprocess a test starts:
# a plugin installed on this machine never changes a test's result. A test that wants a
# third-party plugin sets the variable itself (monkeypatch.setenv / a subprocess env).
os.environ["EXECREPORT_LOAD_PLUGINS"] = ""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds a virtual environment or the like; runs in CI all the same"
    )


# -- no silent skips in CI ----------------------------------------------------------------
# A test that lacks a tool calls ci_tools.require_tool / require_module, which fail under
# CI. These two hooks are the net under that: any other skip (a skipif mark, an importorskip
# in a module, a pytest.skip in a fixture) is reported as a failure when CI is set.


def _skip_reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI, which counts as a failure (CI={os.environ['CI']}): "
            f"{_skip_reason(report.longrepr)}"
        )
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    if report.skipped and in_ci():
        report.outcome = "failed"
        report.longrepr = (
            f"{collector.nodeid} skipped in CI, which counts as a failure "
            f"(CI={os.environ['CI']}): {_skip_reason(report.longrepr)}"
        )
    return report


@pytest.fixture
def fresh_plugin_manager() -> Iterator[None]:
    """The plugin manager is rebuilt from scratch for this test, and forgotten after it."""
    from execreport.plugin_manager import reset_plugin_manager

    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def register_plugin(fresh_plugin_manager: None) -> Iterator[Callable[..., Any]]:
    """`register_plugin(plugin, name=None) -> PluginManager`: registers a test plugin (a
    module or any object with `@hookimpl` functions) for this test only.

    Like tox, it runs `check_pending()` after registering, so a misspelled hook name fails
    the test that registers it."""
    from execreport.plugin_manager import get_plugin_manager

    pm = get_plugin_manager()
    registered: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> Any:
        registered.append(plugin)
        pm.register(plugin, name=name)
        pm.check_pending()
        return pm

    yield register
    for plugin in registered:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
