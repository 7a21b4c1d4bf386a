"""A tiny real data set in tmp_path: one or two entity folders and an execreport.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LEDGER = """date,amount,account,category,counterparty,memo,service_date,receipt
2025-01-05,3000.00,4000,charter,Client A,deposit,2025-05-01,
2025-01-10,-200.00,5000,fuel,Fuel Co,,,r1.pdf
2025-01-10,-200.00,5000,fuel,fuel  co,,,r1.pdf
2025-02-10,-500.00,6100,insurance,Harbor Insurance,,,r2.pdf
2025-03-10,-100.00,6400,travel,<script>alert(1)</script> Supplies,,,
2025-03-20,1500.00,4000,charter,Client B,,2025-03-20,
"""

PROFILE = """name = "Acme Charters"
kind = "charter"
opening_cash = "1000.00"
opening_date = "2024-01-01"

[[assets]]
kind = "insurance"
name = "Hull policy"
expires = "2025-02-01"

[[stack]]
name = "booking site"
monthly_cost = "10.00"
mfa = true
secrets_in_repo = true

[[channels]]
name = "GetMyBoat"
status = "absent"

[audience]
email_list = 120
"""


def write_entity(folder: Path, ledger: str = LEDGER, profile: str = PROFILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger.csv").write_text(ledger)
    (folder / "entity.toml").write_text(profile)
    return folder


def write_config(
    root: Path, extra: str = "", entities: tuple[str, ...] = ("acme",), sender: str = "outbox"
) -> Path:
    """A config with `entities`, each a copy of the mini entity, delivering to an outbox."""
    for key in entities:
        if not (root / "data" / key).exists():
            write_entity(root / "data" / key)
    tables = "\n".join(f'[entities.{k}]\npath = "data/{k}"\n' for k in entities)
    cfg = root / "execreport.toml"
    cfg.write_text(
        f"""[report]
as_of = "2025-03-31"
period = "Q1 2025"

[archive]
path = "archive.sqlite3"

{tables}
[delivery]
sender = "{sender}"
from = "reports@example.com"
to = ["exec@example.com"]
bcc = ["audit@example.com"]

[delivery.outbox]
path = "outbox"
{extra}
"""
    )
    return cfg


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m execreport ARGS` as a user would; third-party plugins blocked."""
    full = {**os.environ, "EXECREPORT_LOAD_PLUGINS": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "execreport", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=120,
    )


def section(report, heading: str) -> str:
    """The body of the report's section with this heading (exactly one)."""
    (body,) = [s.body for s in report.sections if s.heading == heading]
    return body


def table_rows(body: str, first_cell: str = "") -> list[list[str]]:
    """The cells of each Markdown table row whose first cell starts with `first_cell`."""
    rows = []
    for line in body.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if cells[0].startswith(first_cell):
                rows.append(cells)
    return rows


class PreviousReportArchive:
    """Stands in for the archive in role tests: the given report is the role's last archived
    version (`latest`); nothing was delivered yet (`last_sent`)."""

    def __init__(self, report):
        self.previous = report

    def latest(self, role):
        from types import SimpleNamespace

        if role != self.previous.role:
            return None
        return SimpleNamespace(report=lambda: self.previous)

    def last_sent(self, role):
        return None
