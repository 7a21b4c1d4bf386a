"""Every name the package root exports is in docs/hooks.md's public API table: plugin
authors learn the API there (DESIGN.md: the table is the full reference)."""

from __future__ import annotations

import re
from pathlib import Path

import execreport

DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"


def test_every_exported_name_is_in_the_public_api_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## The public API", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_]+)`", table))
    missing = sorted(set(execreport.__all__) - documented)
    assert execreport.__all__, "execreport exports nothing"
    assert not missing, f"docs/hooks.md's public API table lacks {missing}"
