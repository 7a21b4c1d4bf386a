"""The command line from outside (issue 13): --version, JSON documents valid against the
schemas in docs/cli.md, tables no wider than the terminal, no ANSI escapes with NO_COLOR,
timestamped logs when not on a terminal, `check` listing every problem, `diff` needing two
versions, one-line usage errors, money in its own currency."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from minidata import LEDGER, PROFILE, ROOT, cli, write_config, write_entity

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) ")
ANSI = re.compile(r"\x1b\[")


def schemas() -> dict[str, dict]:
    """The JSON schemas of docs/cli.md, by name, each able to resolve `#delivery`."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found = dict(re.findall(r"<!-- schema: (\w+) -->\n```json\n(.*?)\n```", text, re.S))
    out = {}
    delivery = {**json.loads(found.pop("delivery")), "$anchor": "delivery"}
    for name, body in found.items():
        schema = json.loads(body)
        schema.setdefault("$defs", {})["delivery"] = delivery
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        out[name] = schema
    return out


def validate(doc: dict, name: str) -> None:
    jsonschema.Draft202012Validator(schemas()[name]).validate(doc)


def readers(n: int) -> list[str]:
    return ["ceo@example.com", *[f"reader{i:03d}@example.com" for i in range(n - 1)]]


def holding(root: Path, n: int = 2, extra: str = "") -> Path:
    config = write_config(root, extra=extra)
    to = ", ".join(f'"{a}"' for a in readers(n))
    config.write_text(config.read_text().replace('to = ["exec@example.com"]', f"to = [{to}]"))
    return config


def test_version_prints_the_version_and_with_v_the_plugins(tmp_path: Path) -> None:
    done = cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "execreport 0.1.0\n"
    done = cli("-v", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("execreport 0.1.0\n")
    assert "execreport.senders.outbox 0.1.0 (built-in)" in done.stdout
    assert "execreport.plugins.roles.cfo 0.1.0 (built-in)" in done.stdout


def test_schemas_in_the_docs_refuse_a_delivery_without_recipients() -> None:
    doc = {
        "schema": "execreport.run/1",
        "command": "run",
        "dry_run": True,
        "as_of": "2025-03-31",
        "period": "Q1 2025",
        "ok": True,
        "counts": {"planned": 1},
        "deliveries": [{"role": "cfo", "version": 1, "sender": "outbox", "status": "planned"}],
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, "run")


def test_every_json_document_is_valid_and_holds_every_delivery(tmp_path: Path) -> None:
    config = holding(tmp_path, n=3)
    roles = {"ceo", "cto", "cfo", "cmo", "accounting"}
    want = ["ceo@example.com", "reader000@example.com", "reader001@example.com"]

    done = cli("run", "--dry-run", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    validate(plan, "run")
    assert plan["dry_run"] is True and plan["as_of"] == "2025-03-31"
    assert {d["role"] for d in plan["deliveries"]} == roles
    for d in plan["deliveries"]:
        assert (d["version"], d["sender"], d["status"], d["recipients"]) == (
            1,
            "outbox",
            "planned",
            want,
        )
    assert not (tmp_path / "outbox").exists()

    done = cli("run", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    ran = json.loads(done.stdout)
    validate(ran, "run")
    assert ran["counts"] == {"sent": 5}
    assert {(d["role"], d["status"]) for d in ran["deliveries"]} == {(r, "sent") for r in roles}
    assert all(d["recipients"] == want for d in ran["deliveries"])

    done = cli("send", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    sent = json.loads(done.stdout)
    validate(sent, "run")
    assert sent["command"] == "send"
    assert {(d["role"], d["version"], d["status"]) for d in sent["deliveries"]} == {
        (r, 1, "skipped") for r in roles
    }

    done = cli("check", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    checked = json.loads(done.stdout)
    validate(checked, "check")
    assert checked["ok"] is True and checked["exit_code"] == 0
    assert {(d["role"], d["sender"], d["status"]) for d in checked["deliveries"]} == {
        (r, "outbox", "ready") for r in roles
    }

    # a second version of every report: a new ledger row
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text() + "2025-03-25,250.00,4000,charter,Client C,,,\n")
    assert cli("run", "-q", "-c", str(config)).returncode == 0
    done = cli("diff", "cfo", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    diffed = json.loads(done.stdout)
    validate(diffed, "diff")
    assert (diffed["old"]["version"], diffed["new"]["version"], diffed["changed"]) == (1, 2, True)
    assert diffed["old"]["deliveries"][0]["recipients"] == want
    assert "+" in diffed["diff"]


def test_diff_with_one_version_says_so_and_exits_1(tmp_path: Path) -> None:
    config = holding(tmp_path)
    assert cli("run", "-q", "-c", str(config)).returncode == 0
    done = cli("diff", "cfo", "-c", str(config))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"execreport: error: role 'cfo' has only version 1 in {tmp_path / 'archive.sqlite3'}: "
        "diff needs two versions to compare"
    ]


def test_run_table_with_120_recipients_fits_100_columns(tmp_path: Path) -> None:
    config = holding(tmp_path, n=120)
    done = cli("run", "-c", str(config), env={"COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    rows = [line for line in lines if " outbox " in line]
    assert len(rows) == 5
    assert all("+119 more" in row for row in rows)
    assert "critical" in lines[1]  # the column has a header now
    assert not ANSI.search(done.stdout + done.stderr)


def on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run execreport with stdout and stderr on a pseudo-terminal; all it wrote."""
    leader, follower = pty.openpty()
    full = {**os.environ, "EXECREPORT_LOAD_PLUGINS": "", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "execreport", *args],
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=full,
        cwd=cwd,
    )
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode("utf-8", errors="replace")


def test_on_a_terminal_colour_unless_no_color_and_the_table_still_fits(tmp_path: Path) -> None:
    config = holding(tmp_path, n=120)
    args = ["run", "--dry-run", "-c", str(config)]
    coloured = on_terminal(args, {"COLUMNS": "100", "TERM": "xterm"}, tmp_path)
    assert ANSI.search(coloured)
    visible = [ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", ln)) for ln in coloured.splitlines()]
    assert max(len(ln.rstrip("\r")) for ln in visible) <= 100
    assert "+119 more" in coloured
    plain = on_terminal(args, {"COLUMNS": "100", "TERM": "xterm", "NO_COLOR": "1"}, tmp_path)
    assert not ANSI.search(plain)
    assert "+119 more" in plain


def test_log_lines_carry_an_iso_timestamp_when_not_on_a_terminal(tmp_path: Path) -> None:
    config = holding(tmp_path)
    done = cli("run", "-c", str(config))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) >= 8  # loading, 5 builds, archived..., sending...
    assert all(ISO.match(line) for line in lines), lines
    assert any("sending 1 of 5: " in line for line in lines)

    done = cli("--log-format", "json", "send", "-v", "-c", str(config))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [r["message"] for r in records] == [f"config {config}"]
    assert records[0]["level"] == "debug"
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert all(re.match(r"\d{4}-\d{2}-\d{2}T", r["time"]) for r in records)

    done = cli("run", "-q", "-c", str(config))
    assert done.returncode == 0 and done.stderr == ""


def test_check_reports_three_independent_problems_and_exits_with_the_worst(
    tmp_path: Path,
) -> None:
    write_entity(tmp_path / "data" / "acme", LEDGER + "2025-13-01,5.00,4000,x,y,,,\n")
    config = write_config(tmp_path, entities=("acme", "beta"))
    (tmp_path / "data" / "beta" / "ledger.csv").unlink()  # a second entity's data missing
    text = config.read_text().replace('sender = "outbox"', 'sender = ["outbox", "pigeon"]')
    config.write_text(text)
    done = cli("check", "-c", str(config))
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("execreport: error:")]
    assert len(errors) == 4, done.stderr  # three problems and the count
    assert "ledger.csv:8" in errors[0]  # acme: the bad date, with its line
    assert "beta" in errors[1]
    assert "unknown sender 'pigeon'" in errors[2]
    assert errors[3] == "execreport: error: check found 3 problems"
    assert done.returncode == 2  # the unknown sender is config: the worst code
    assert "Traceback" not in done.stderr
    assert "sender   outbox: ok" in done.stdout

    done = cli("check", "--json", "-c", str(config))
    doc = json.loads(done.stdout)
    validate(doc, "check")
    bad = [c for c in doc["checks"] if c["status"] == "error"]
    assert [(c["kind"], c["name"]) for c in bad] == [
        ("entity", "acme"),
        ("entity", "beta"),
        ("sender", "pigeon"),
    ]
    assert doc["exit_code"] == 2 and done.returncode == 2


def test_usage_errors_are_one_line_in_the_project_style() -> None:
    done = cli("run", "--bogus")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "execreport: error: No such option: --bogus (Possible options: --verbose) "
        "(see execreport run --help)"
    ]
    done = cli("diff")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "execreport: error: Missing argument 'ROLE' (see execreport diff --help)"
    ]


def test_help_shows_word_metavars_examples_and_completion() -> None:
    done = cli("run", "--help", env={"COLUMNS": "120"})
    assert done.returncode == 0
    for metavar in ("--config PATH", "--as-of DATE", "--recipient ADDRESS", "--role ROLE"):
        assert metavar in done.stdout
    assert "<list[str]>" not in done.stdout and "<str>" not in done.stdout
    assert "execreport run --dry-run --json" in done.stdout
    top = cli("--help").stdout
    assert "--install-completion" in top
    for command in ("send", "check", "diff"):
        assert f"execreport {command}" in cli(command, "--help").stdout


def test_help_imports_neither_rich_nor_the_plugins() -> None:
    code = (
        "import sys; sys.argv = ['execreport', '--help']\n"
        "from execreport.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', 'rich' in sys.modules, 'pydantic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "EXECREPORT_LOAD_PLUGINS": ""},
        timeout=60,
    )
    assert done.stdout.splitlines()[-1] == "MODULES False False"


EUR_PROFILE = PROFILE.replace("Acme Charters", "Beta Boats").replace(
    'kind = "charter"', 'kind = "charter"\ncurrency = "EUR"'
)


def euro_holding(root: Path, fx: str = "") -> Path:
    write_entity(root / "data" / "beta", LEDGER, EUR_PROFILE)
    config = write_config(root, entities=("acme", "beta"))
    if fx:
        text = config.read_text().replace('period = "Q1 2025"\n', f'period = "Q1 2025"\n{fx}', 1)
        config.write_text(text)
    return config


def cash_row(markdown: str, name: str) -> str:
    (row,) = [ln for ln in markdown.splitlines() if ln.startswith(f"| {name} |")][:1]
    return row


def test_a_eur_entity_without_a_rate_is_in_no_dollar_sum_and_printed_in_euros(
    tmp_path: Path,
) -> None:
    config = euro_holding(tmp_path)
    done = cli("build", "--role", "cfo", "-q", "-c", str(config))
    assert done.returncode == 0, done.stderr
    md = done.stdout
    # Acme alone: opening 1,000.00 + 3,000 - 200 - 200 - 500 - 100 + 1,500 = 4,500.00
    assert cash_row(md, "**All entities**").split("|")[2].strip() == "$4,500.00"
    assert "| Beta Boats |" not in md.split("## Beta Boats in EUR")[0]
    assert "Beta Boats reports in EUR and \\[report.fx\\] has no EUR rate" in md
    # Beta's own figures, Q1 (2025-01-01 to 2025-03-31): in 4,500, out -1,000, net 3,500
    euros = md.split("## Beta Boats in EUR (not consolidated)")[1]
    assert "| Money in | €4,500.00 |" in euros
    assert "| Money out | -€1,000.00 |" in euros
    assert "| Net | €3,500.00 |" in euros


def test_a_eur_entity_with_a_dated_rate_is_converted_and_the_rate_stated(tmp_path: Path) -> None:
    config = euro_holding(tmp_path, '\n[report.fx]\ndate = "2025-03-31"\nEUR = "1.10"\n')
    done = cli("build", "--role", "cfo", "-q", "-c", str(config))
    assert done.returncode == 0, done.stderr
    md = done.stdout
    assert (
        "Amounts in USD; converted: Beta Boats (EUR) at 1 EUR = 1.10 USD (rates of 2025-03-31)."
        in md
    )
    # Beta: 4,500.00 EUR x 1.10 = 4,950.00; with Acme's 4,500.00: 9,450.00
    assert cash_row(md, "Beta Boats").split("|")[2].strip() == "$4,950.00"
    assert cash_row(md, "**All entities**").split("|")[2].strip() == "$9,450.00"


def test_a_rate_without_its_date_is_refused_in_one_line(tmp_path: Path) -> None:
    config = euro_holding(tmp_path, '\n[report.fx]\nEUR = "1.10"\n')
    done = cli("build", "-q", "-c", str(config))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("execreport: error: ") and "report.fx" in line and "date" in line


def test_money_in_each_currency() -> None:
    from execreport.render import money

    assert money("1234.5") == "$1,234.50"
    assert money("1234.5", "EUR") == "€1,234.50"
    assert money("-1234.5", "EUR") == "-€1,234.50"
    assert money("1234.5", "JPY") == "¥1,235"
    assert money("1234.5", "CHF") == "1,234.50 CHF"
    assert money(None, "EUR") == "n/a"
