"""Bad input: one clear line naming where and what, a non-zero exit, no traceback, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from minidata import LEDGER, cli, write_config, write_entity


def assert_one_line_error(result, code: int, *needles: str) -> None:
    err = result.stderr.strip().splitlines()
    errors = [ln for ln in err if ln.startswith("execreport: error:")]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def outbox_is_empty(root: Path) -> bool:
    box = root / "outbox"
    return not box.exists() or not any(box.glob("*.eml"))


@pytest.mark.parametrize(
    ("row", "line_text"),
    [
        ("2025-02-30,-10.00,6100,x,y,,,", "date '2025-02-30' is not a date"),
        ("03/01/2025,-10.00,6100,x,y,,,", "date '03/01/2025' is not a date"),
        ("2025-03-01,-10.005,6100,x,y,,,", "amount '-10.005'"),
        ('2025-03-01,"1,200.00",6100,x,y,,,', "amount '1,200.00'"),
        ("2025-03-01,,6100,x,y,,,", "amount is empty"),
        ("2025-03-01,-10.00,6100,x,y,,2025-13-01,", "service_date '2025-13-01'"),
    ],
)
def test_a_bad_ledger_row_names_file_line_and_field(tmp_path, row, line_text):
    write_entity(tmp_path / "data" / "acme", ledger=LEDGER + row + "\n")
    cfg = write_config(tmp_path)
    bad_line = len(LEDGER.splitlines()) + 1
    result = cli("run", "--config", str(cfg))
    assert_one_line_error(result, 1, f"ledger.csv:{bad_line}:", line_text)
    assert outbox_is_empty(tmp_path)


def test_a_row_with_too_many_fields_is_an_error_not_dropped(tmp_path):
    write_entity(tmp_path / "data" / "acme", ledger=LEDGER + "2025-03-01,-1.00,6100,a,b,c,,,x,y\n")
    result = cli("build", "--config", str(write_config(tmp_path)))
    assert_one_line_error(result, 1, "ledger.csv")


def test_several_bad_rows_report_the_first_and_count_the_rest(tmp_path):
    bad = "2025-03-01,abc,6100,x,y,,,\n2025-03-02,def,6100,x,y,,,\n"
    write_entity(tmp_path / "data" / "acme", ledger=LEDGER + bad)
    result = cli("build", "--config", str(write_config(tmp_path)))
    assert_one_line_error(result, 1, "ledger.csv:8:", "and 1 more bad rows")


def test_missing_config_file(tmp_path):
    result = cli("run", "--config", str(tmp_path / "nope.toml"))
    assert_one_line_error(result, 2, "nope.toml", "not found")


def test_no_config_in_working_directory(tmp_path):
    result = cli("run", cwd=tmp_path)
    assert_one_line_error(result, 2, "execreport.toml", "--config")


def test_broken_toml_names_the_file(tmp_path):
    cfg = tmp_path / "execreport.toml"
    cfg.write_text("[report\nas_of = 1\n")
    assert_one_line_error(cli("run", "--config", str(cfg)), 2, "execreport.toml", "TOML")


def test_unknown_key_names_the_key(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[archive]\npath", "[archive]\npth"))
    assert_one_line_error(cli("run", "--config", str(cfg)), 2, "archive.pth", "unknown key")


def test_unknown_sender_name(tmp_path):
    cfg = write_config(tmp_path, sender="carrier-pigeon")
    result = cli("run", "--config", str(cfg))
    assert_one_line_error(result, 2, "delivery.sender", "carrier-pigeon", "outbox")
    assert outbox_is_empty(tmp_path)


def test_missing_entity_folder(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('path = "data/acme"', 'path = "data/nowhere"'))
    result = cli("run", "--config", str(cfg))
    assert_one_line_error(result, 1, "entities.acme.path", "nowhere")
    assert outbox_is_empty(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('to = ["exec@example.com"]', 'to = ["exec@@example"]', "delivery.to[0]"),
        ('bcc = ["audit@example.com"]', 'bcc = ["audit at example.com"]', "delivery.bcc[0]"),
        ('from = "reports@example.com"', 'from = "reports"', "delivery.from"),
    ],
)
def test_invalid_recipient_address_names_key_and_address(tmp_path, old, new, key):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace(old, new))
    result = cli("run", "--config", str(cfg))
    assert_one_line_error(result, 2, key, "not a valid email address")
    assert outbox_is_empty(tmp_path)


def test_invalid_role_recipient(tmp_path):
    cfg = write_config(tmp_path, extra='\n[roles.cfo]\nto = ["cfo@example.com", "nobody"]\n')
    assert_one_line_error(cli("run", "--config", str(cfg)), 2, "roles.cfo.to[1]", "'nobody'")


def test_bad_as_of_option(tmp_path):
    cfg = write_config(tmp_path)
    result = cli("build", "--config", str(cfg), "--as-of", "2025-02-31")
    assert_one_line_error(result, 2, "--as-of", "2025-02-31")


def test_bad_date_in_config(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('as_of = "2025-03-31"', 'as_of = "someday"'))
    assert_one_line_error(cli("run", "--config", str(cfg)), 2, "report.as_of")


def test_bad_env_override_names_the_key(tmp_path):
    cfg = write_config(tmp_path)
    result = cli("run", "--config", str(cfg), env={"EXECREPORT_DELIVERY__BCC": "not-an-address"})
    assert_one_line_error(result, 2, "delivery.bcc[0]", "not-an-address")


def test_missing_env_file(tmp_path):
    cfg = write_config(tmp_path)
    result = cli("run", "--config", str(cfg), "--env-file", str(tmp_path / "repos.env"))
    assert_one_line_error(result, 2, "repos.env", "not found")


def test_entity_toml_with_a_bad_date(tmp_path):
    write_entity(
        tmp_path / "data" / "acme",
        profile='name = "A"\n[[assets]]\nkind = "domain"\nname = "a.com"\nexpires = "soon"\n',
    )
    result = cli("build", "--config", str(write_config(tmp_path)))
    assert_one_line_error(result, 1, "entity.toml", "assets.0.expires")


def test_a_row_with_a_missing_field_names_its_line_and_the_counts(tmp_path):
    write_entity(tmp_path / "data" / "acme", ledger=LEDGER + "2025-03-01,-1.00,6100,a,b,c,\n")
    result = cli("build", "--config", str(write_config(tmp_path)))
    line = len(LEDGER.splitlines()) + 1
    assert_one_line_error(result, 1, f"ledger.csv:{line}: 7 fields where the header has 8")


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path):
    lines = LEDGER.splitlines()
    ledger = "\n".join([*lines[:3], "", '2025-01-11,-5.00,6100,x,y,"two\nlines",,', *lines[3:]])
    ledger += "\n2025-03-01,oops,6100,x,y,,,\n"
    write_entity(tmp_path / "data" / "acme", ledger=ledger)
    result = cli("build", "--config", str(write_config(tmp_path)))
    bad = ledger.splitlines().index("2025-03-01,oops,6100,x,y,,,") + 1
    assert_one_line_error(result, 1, f"ledger.csv:{bad}: amount 'oops'")


def test_findings_name_the_physical_line_after_a_blank_line(tmp_path):
    lines = LEDGER.splitlines()
    ledger = "\n".join([lines[0], "", *lines[1:]]) + "\n"
    write_entity(tmp_path / "data" / "acme", ledger=ledger)
    out = cli("build", "--json", "--config", str(write_config(tmp_path)), "-r", "accounting")
    assert out.returncode == 0, out.stderr
    # the duplicate fuel charges are the 3rd and 4th rows: lines 4 and 5 with the blank line
    assert "lines 4, 5" in out.stdout or "lines 4 and 5" in out.stdout, out.stdout[:3000]
