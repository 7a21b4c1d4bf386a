"""The email HTML as a browser sees it: data text stays text, tables render (headless Chromium)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ci_tools import require_tool
from minidata import cli, write_config


def chromium() -> str:
    """Headless Chromium's path: skipped without it, a failure in CI (tests/ci_tools.py)."""
    return require_tool("chromium", "chromium-browser")


def dump_dom(browser: str, page: Path, profile: Path) -> str:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.timeout(90)  # a CLI run and a headless Chromium
def test_a_counterparty_named_script_is_shown_as_text_not_run(tmp_path):
    browser = chromium()
    cfg = write_config(tmp_path)
    preview = cli("preview", "accounting", "--config", str(cfg))
    assert preview.returncode == 0, preview.stderr
    page = Path(preview.stdout.strip())
    assert page.is_file(), preview.stdout
    dom = dump_dom(browser, page, tmp_path / "profile")
    assert "<script" not in dom  # no script element reached the document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Supplies" in dom  # shown as text
    assert "<table" in dom and 'style="' in dom
