"""The main job end to end into the outbox, on the examples and on a tiny data set."""

from __future__ import annotations

import email
import json
import shutil
import sqlite3
from email import policy
from pathlib import Path

import pytest
from minidata import ROOT, cli, write_config

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The examples copied to a temporary folder and run once."""
    root = tmp_path_factory.mktemp("examples")
    shutil.copy(EXAMPLES / "execreport.toml", root / "execreport.toml")
    shutil.copytree(EXAMPLES / "data", root / "data")
    result = cli("run", "--config", str(root / "execreport.toml"))
    return root, result


def read_outbox(root: Path) -> list[tuple[email.message.EmailMessage, dict]]:
    out = []
    for eml in sorted((root / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        envelope = json.loads(eml.with_suffix(".envelope.json").read_text())
        out.append((msg, envelope))
    return out


def test_examples_deliver_five_reports_naming_all_four_entities(example_run):
    root, result = example_run
    assert result.returncode == 0, result.stderr
    messages = read_outbox(root)
    assert len(messages) == 5
    text = ""
    for msg, envelope in messages:
        assert msg.get_content_type() == "multipart/alternative"
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
        for header in ("From", "To", "Date", "Message-ID", "Subject"):
            assert msg[header], header
        assert msg["Bcc"] is None
        assert "audit@example.com" not in msg.as_string().split("\n\n", 1)[0]
        assert "audit@example.com" in envelope["rcpt_to"]
        text += msg.get_body(("plain",)).get_content()
    for name in ("JADA", "QueenofSanDiego", "QuickDumpNow", "DangerousCentaur"):
        assert name in text


def test_a_second_run_sends_nothing(example_run):
    root, _ = example_run
    before = sorted(p.name for p in (root / "outbox").iterdir())
    again = cli("run", "--config", str(root / "execreport.toml"))
    assert again.returncode == 0, again.stderr
    assert "5 skipped" in again.stdout
    assert sorted(p.name for p in (root / "outbox").iterdir()) == before


def test_critical_reports_are_delivered_first(example_run):
    root, _ = example_run
    db = sqlite3.connect(root / ".execreport" / "archive.sqlite3")
    rows = db.execute(
        "SELECT r.critical FROM deliveries d JOIN reports r ON r.id = d.report_id ORDER BY d.id"
    ).fetchall()
    flags = [r[0] for r in rows]
    assert flags == sorted(flags, reverse=True)
    assert flags[0] == 1


def test_build_json_is_byte_identical_across_runs(tmp_path):
    cfg = EXAMPLES / "execreport.toml"
    first = cli("build", "--json", "--config", str(cfg))
    second = cli("build", "--json", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    reports = json.loads(first.stdout)
    assert {r["role"] for r in reports} == {"ceo", "cto", "cfo", "cmo", "accounting"}
    for r in reports:
        assert set(r) >= {"role", "title", "subject", "metrics", "findings", "actions", "sections"}
        assert "consolidated" in r["metrics"]


def test_build_json_keeps_logs_off_stdout(tmp_path):
    cfg = write_config(tmp_path)
    result = cli("build", "--json", "--config", str(cfg))
    json.loads(result.stdout)  # nothing but JSON
    assert "building cfo" in result.stderr


def test_as_of_option_changes_the_report_date(tmp_path):
    cfg = write_config(tmp_path)
    result = cli("build", "--json", "--config", str(cfg), "--as-of", "2025-02-14")
    assert json.loads(result.stdout)[0]["as_of"] == "2025-02-14"


def test_html_escapes_data_text(tmp_path):
    cfg = write_config(tmp_path)
    out = cli("preview", "accounting", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    page = Path(out.stdout.strip()).read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_preview_writes_html_styled_once_with_the_layout_inline(tmp_path):
    cfg = write_config(tmp_path)
    out = cli("preview", "cfo", "--config", str(cfg), "--output", str(tmp_path / "cfo.html"))
    assert out.stdout.strip() == str(tmp_path / "cfo.html")
    page = (tmp_path / "cfo.html").read_text()
    # the look in one <style> block; what a client without <style> needs to lay it out
    # (the wrapper's width, a table's scroll box) inline; no style on any cell
    assert page.count("<style>") == 1 and page.index("<style>") < page.index("</head>")
    assert 'style="max-width:760px;' in page and 'style="overflow-x:auto;max-width:100%"' in page
    assert "<table" in page and "<td style=" not in page and "<th style=" not in page


def test_check_validates_without_building(tmp_path):
    cfg = write_config(tmp_path)
    out = cli("check", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert "entity   acme" in out.stdout and "sender   outbox: ok" in out.stdout
    assert not (tmp_path / "archive.sqlite3").exists()


def test_dry_run_prints_the_plan_and_sends_nothing(tmp_path):
    cfg = write_config(tmp_path)
    out = cli("run", "--dry-run", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert "planned" in out.stdout and "KiB" in out.stdout
    assert not (tmp_path / "outbox").exists()


def test_unchanged_data_keeps_one_version_and_a_changed_row_makes_another(tmp_path):
    cfg = write_config(tmp_path)
    assert cli("run", "--config", str(cfg)).returncode == 0
    assert cli("run", "--config", str(cfg)).returncode == 0
    db = sqlite3.connect(tmp_path / "archive.sqlite3")
    assert db.execute("SELECT count(*) FROM reports WHERE role = 'cfo'").fetchone()[0] == 1
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text().replace("-500.00", "-650.00"))
    assert cli("run", "--config", str(cfg)).returncode == 0
    assert db.execute("SELECT count(*) FROM reports WHERE role = 'cfo'").fetchone()[0] == 2
    assert len(list((tmp_path / "outbox").glob("cfo-*.eml"))) == 2


def test_env_file_and_overrides(tmp_path):
    cfg = write_config(tmp_path)
    env_file = tmp_path / "repos.env"
    env_file.write_text("SES_SENDER_EMAIL=admin@example.com\nEXECREPORT_REPORT__PERIOD=Spring\n")
    out = cli(
        "run",
        "--config",
        str(cfg),
        "--env-file",
        str(env_file),
        env={"EXECREPORT_REPORT__PERIOD": "Q1 FY25"},
    )
    assert out.returncode == 0, out.stderr
    msg = email.message_from_bytes(
        next((tmp_path / "outbox").glob("cfo-*.eml")).read_bytes(), policy=policy.default
    )
    assert msg["From"] == "admin@example.com"  # from the env file
    assert "Q1 FY25" in msg["Subject"]  # the variable already set wins over the file


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    cfg = write_config(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert cli("run", "--config", str(cfg), cwd=elsewhere).returncode == 0
    assert (tmp_path / "outbox").is_dir() and not (elsewhere / "outbox").exists()


def test_help_imports_no_heavy_library():
    import subprocess
    import sys

    code = (
        "import sys\nsys.argv = ['execreport', '--help']\nfrom execreport.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'duckdb', 'markdown', 'jinja2') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    assert "run" in out.stdout and "build" in out.stdout


def test_a_role_without_recipients_goes_to_everyone_who_receives_a_report(tmp_path):
    cfg = write_config(tmp_path)
    text = cfg.read_text().replace('to = ["exec@example.com"]\n', "")
    cfg.write_text(
        text + '\n[roles.cfo]\nto = ["cfo@example.com"]\n\n[roles.ceo]\nto = ["ceo@example.com"]\n'
    )
    out = cli("run", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    envelopes = {
        p.name.split("-")[0]: json.loads(p.read_text())
        for p in (tmp_path / "outbox").glob("*.envelope.json")
    }
    assert envelopes["cfo"]["to"] == ["cfo@example.com"]
    assert envelopes["cmo"]["to"] == ["ceo@example.com", "cfo@example.com"]


def test_no_recipient_anywhere_stops_before_anything_is_sent(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('to = ["exec@example.com"]\n', ""))
    out = cli("run", "--config", str(cfg))
    assert out.returncode == 2
    assert "no recipients for role" in out.stderr
    assert not (tmp_path / "outbox").exists()
