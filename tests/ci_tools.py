"""Tools and modules a test needs: skipped on a developer's machine that lacks them, a
failure in CI (the `CI` environment variable set to anything but "", 0, false, no, off).

A test asks for what it needs in its body, so that a missing tool fails that test (not
its setup): `browser = require_tool("chromium", "chromium-browser")`. tests/conftest.py
also turns any other skip into a failure under CI, so none passes silently.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

FALSE_WORDS = ("", "0", "false", "no", "off")


def in_ci() -> bool:
    """True when the `CI` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in FALSE_WORDS


def missing(reason: str) -> None:
    """Fail under CI, skip otherwise; never returns."""
    if in_ci():
        pytest.fail(f"CI={os.environ['CI']}: {reason} (CI installs it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


def require_tool(*names: str) -> str:
    """The path of the first of `names` found on PATH; missing: fail under CI, else skip."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    missing(f"{' or '.join(names)} is not installed (not found on PATH)")
    raise AssertionError("unreachable")  # pragma: no cover


def require_module(name: str) -> ModuleType:
    """`import name`, like pytest.importorskip; missing: fail under CI, else skip."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"cannot import {name}: {exc}")
        raise AssertionError("unreachable") from None  # pragma: no cover
