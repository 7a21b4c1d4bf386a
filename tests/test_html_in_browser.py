"""The email HTML as a browser sees it: data text stays text, tables render (headless Chromium)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from minidata import cli, write_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")


def dump_dom(page: Path, profile: Path) -> str:
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
    done = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_counterparty_named_script_is_shown_as_text_not_run(tmp_path):
    cfg = write_config(tmp_path)
    page = Path(cli("preview", "accounting", "--config", str(cfg)).stdout.strip())
    dom = dump_dom(page, tmp_path / "profile")
    assert "<script" not in dom  # no script element reached the document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Supplies" in dom  # shown as text
    assert "<table" in dom and 'style="' in dom
