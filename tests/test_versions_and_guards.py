"""Report history, diffs, content guards and the Lambda entry point."""

from __future__ import annotations

import json

from minidata import LEDGER, cli, write_config, write_entity


def test_history_lists_versions_with_their_deliveries(tmp_path):
    cfg = write_config(tmp_path)
    assert cli("run", "--config", str(cfg)).returncode == 0
    assert cli("run", "--config", str(cfg)).returncode == 0  # unchanged: no new version
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text().replace("-500.00", "-650.00"))
    assert cli("run", "--config", str(cfg)).returncode == 0
    rows = json.loads(cli("history", "cfo", "--json", "--config", str(cfg)).stdout)
    assert [r["version"] for r in rows] == [1, 2]
    for r in rows:
        assert r["deliveries"][0]["status"] == "sent"
        assert r["deliveries"][0]["to"] == ["exec@example.com"]
        assert r["deliveries"][0]["sender"] == "outbox"
    text = cli("history", "--config", str(cfg)).stdout
    assert "cfo" in text and "v2" in text


def test_diff_shows_the_changed_figures(tmp_path):
    cfg = write_config(tmp_path)
    cli("run", "--config", str(cfg))
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text().replace("-500.00", "-650.00"))
    cli("run", "--config", str(cfg))
    diff = cli("diff", "cfo", "--config", str(cfg)).stdout
    assert "--- cfo v1" in diff and "+++ cfo v2" in diff
    assert "-| Acme Charters | $4,500.00" in diff and "+| Acme Charters | $4,350.00" in diff
    stat = cli("diff", "cfo", "1", "2", "--stat", "--config", str(cfg)).stdout
    assert "Cash, burn and runway: +" in stat
    shown = cli("show", "cfo", "1", "--config", str(cfg)).stdout
    assert shown.startswith("# CFO") and "$4,500.00" in shown


def test_show_an_unknown_version_is_one_clear_line(tmp_path):
    cfg = write_config(tmp_path)
    cli("run", "--config", str(cfg))
    out = cli("show", "cfo", "9", "--config", str(cfg))
    assert out.returncode == 1 and "no version 9 of role 'cfo'" in out.stderr
    assert "Traceback" not in out.stderr


def stale_ledger() -> str:
    return "\n".join(ln for ln in LEDGER.splitlines() if not ln.startswith("2025-0")) + (
        "\n2025-01-05,3000.00,4000,charter,Client A,,,\n2025-01-10,-200.00,5000,fuel,Fuel Co,,,\n"
    )


def test_a_stale_ledger_stops_the_run_naming_entity_and_last_date(tmp_path):
    write_entity(tmp_path / "data" / "acme", ledger=stale_ledger())
    cfg = write_config(tmp_path)
    out = cli("run", "--config", str(cfg))
    assert out.returncode == 1
    assert "entity acme (Acme Charters) is stale: its last ledger row is dated 2025-01-10" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "outbox").exists()


def test_force_sends_a_stale_run_and_records_why(tmp_path):
    write_entity(tmp_path / "data" / "acme", ledger=stale_ledger())
    cfg = write_config(tmp_path)
    out = cli("run", "--config", str(cfg), "--force", "bank feed down, CFO approved")
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5
    rows = json.loads(cli("history", "cfo", "--json", "--config", str(cfg)).stdout)
    assert "bank feed down, CFO approved" in rows[0]["forced"]
    assert "stale" in rows[0]["forced"]


def test_an_entity_without_rows_stops_the_run_and_notifies_the_owner(tmp_path):
    write_entity(
        tmp_path / "data" / "acme",
        ledger="date,amount,account,category,counterparty,memo,service_date,receipt\n",
    )
    cfg = write_config(tmp_path, extra="")
    cfg.write_text(
        cfg.read_text().replace(
            'bcc = ["audit@example.com"]',
            'bcc = ["audit@example.com"]\nnotify = ["owner@example.com"]',
        )
    )
    out = cli("run", "--config", str(cfg))
    assert out.returncode == 1
    assert "entity acme (Acme Charters) has no ledger rows" in out.stderr
    sent = list((tmp_path / "outbox").glob("*.eml"))
    assert len(sent) == 1 and sent[0].name.startswith("notice-")  # the notice, no report
    assert "owner@example.com" in sent[0].read_text()


def test_only_when_changed_skips_a_recipient_already_sent_this_content(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace(
            "[delivery.outbox]", "only_when_changed = true\n\n[delivery.outbox]"
        )
    )
    assert cli("run", "--config", str(cfg)).returncode == 0  # v1 delivered
    ledger = tmp_path / "data" / "acme" / "ledger.csv"
    original = ledger.read_text()
    ledger.write_text(original.replace("-500.00", "-650.00"))
    # v2 is archived but its delivery fails: the outbox path is a file
    cfg.write_text(cfg.read_text().replace('path = "outbox"', 'path = "blocked"'))
    (tmp_path / "blocked").write_text("not a folder")
    assert cli("run", "--config", str(cfg)).returncode == 1
    # back to v1's content: v3 is new, but exec@ already has this content (v1)
    ledger.write_text(original)
    cfg.write_text(cfg.read_text().replace('path = "blocked"', 'path = "outbox"'))
    out = cli("run", "--config", str(cfg), "--role", "cfo")
    assert out.returncode == 0, out.stderr
    assert "content unchanged" in out.stdout
    assert len(list((tmp_path / "outbox").glob("cfo-*.eml"))) == 1


def test_main_is_a_lambda_handler(tmp_path, monkeypatch):
    import execreport.cli as cli_module

    cfg = write_config(tmp_path)
    monkeypatch.setenv("EXECREPORT_LOAD_PLUGINS", "")
    result = cli_module.main({"args": ["run", "--config", str(cfg), "--quiet"]}, None)
    assert result == {"exit_code": 0}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5
    again = cli_module.main({"args": ["run", "--config", str(cfg), "--as-of", "bad"]}, None)
    assert again == {"exit_code": 2}
