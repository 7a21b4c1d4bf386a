"""Hostile config and data (issue 12): one line naming the file (and line) or key, exit 1
(data) or 2 (config), no traceback, nothing sent or half-sent."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from execreport import ConfigError, DataError, DeliveryError, ExecReportError
from execreport.config import load_config
from execreport.ledger import Ledger, use_database
from minidata import LEDGER, cli, write_config, write_entity


def one_line_error(result, code: int, *needles: str) -> str:
    errors = [
        ln for ln in result.stderr.strip().splitlines() if ln.startswith("execreport: error:")
    ]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def nothing_sent(root: Path) -> bool:
    box = root / "outbox"
    return not box.exists() or not any(box.iterdir())


def config_error(cfg: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    text = str(info.value)
    assert "\n" not in text
    return text


# -- control characters in headers ---------------------------------------------------------
def test_a_period_with_a_line_break_is_a_config_error_at_load(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace('period = "Q1 2025"', 'period = "Q1\\r\\nBcc: x@evil.example"')
    )
    assert "report.period: " in config_error(cfg)
    assert "control character" in config_error(cfg)


def test_a_role_subject_with_a_line_break_is_a_config_error_and_dry_run_has_no_traceback(
    tmp_path,
):
    cfg = write_config(tmp_path, '\n[roles.cfo]\nsubject = "Review\\nBcc: x@evil.example"\n')
    result = cli("run", "--dry-run", "--config", str(cfg))
    one_line_error(result, 2, "roles.cfo.subject", "control character")
    assert nothing_sent(tmp_path)


def test_an_entity_name_with_a_line_break_names_entity_toml_and_its_line(tmp_path):
    profile = 'kind = "charter"\nname = "Acme\\r\\nBcc: x@evil.example"\n'
    write_entity(tmp_path / "data" / "acme", profile=profile)
    result = cli("run", "--dry-run", "--config", str(write_config(tmp_path)))
    one_line_error(result, 1, "entity.toml:2:", "control character")


# -- the outbox never follows a link it did not make ---------------------------------------
def _message(**kw):
    from execreport import Message

    return Message(
        sender="reports@example.com",
        to=["cfo@example.com"],
        bcc=["audit@example.com"],
        subject="CFO",
        text="body",
        role="cfo",
        version=1,
        **kw,
    )


def _outbox(path: Path):
    from execreport.senders.outbox import OutboxSender

    return OutboxSender({"path": str(path)})


def _stem(message) -> str:
    who = hashlib.sha256(",".join(sorted(message.to)).encode()).hexdigest()[:8]
    return f"{message.role}-v{message.version}-{who}"


def test_a_link_planted_at_any_temp_name_is_never_written_through(tmp_path):
    box = tmp_path / "outbox"
    box.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    message = _message()
    stem = _stem(message)
    # every name an attacker could predict, old and new, plus a spread of others
    names = [f".{stem}{s}.tmp" for s in (".eml", ".envelope.json")]
    names += [f".{stem}-{n}{s}.tmp" for n in range(2, 5) for s in (".eml", ".envelope.json")]
    names += [f".tmp{i:04d}.tmp" for i in range(50)] + ["tmp", ".tmp", "x.tmp"]
    for name in names:
        (box / name).symlink_to(victim)
    receipt = _outbox(box).send(message)
    assert victim.read_text() == "precious"
    assert Path(receipt.detail).is_file() and not Path(receipt.detail).is_symlink()
    assert all((box / n).is_symlink() for n in names)  # left alone, not replaced


@pytest.mark.parametrize("suffix", [".eml", ".envelope.json"])
def test_a_link_at_a_final_name_is_refused_and_its_target_untouched(tmp_path, suffix):
    box = tmp_path / "outbox"
    box.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    message = _message()
    (box / f"{_stem(message)}{suffix}").symlink_to(victim)
    with pytest.raises(DeliveryError, match="symbolic link"):
        _outbox(box).send(message)
    assert victim.read_text() == "precious"
    assert not list(box.glob("*.eml")) or suffix == ".eml"


def test_a_dangling_link_at_a_final_name_creates_no_file_at_its_target(tmp_path):
    box = tmp_path / "outbox"
    box.mkdir()
    target = tmp_path / "created-by-attacker"
    message = _message()
    (box / f"{_stem(message)}.eml").symlink_to(target)
    with pytest.raises(DeliveryError):
        _outbox(box).send(message)
    assert not target.exists()


def test_a_full_disk_leaves_no_half_file_and_no_envelope_without_its_message(tmp_path, monkeypatch):
    box = tmp_path / "outbox"
    box.mkdir()
    real_fdopen = os.fdopen
    calls = {"n": 0}

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(fd, *args, **kw):
        calls["n"] += 1
        fh = real_fdopen(fd, *args, **kw)
        return Full(fh) if calls["n"] == fail_on else fh

    for fail_on in (1, 2):  # the message fails; the envelope after it fails
        calls["n"] = 0
        monkeypatch.setattr(os, "fdopen", fdopen)
        with pytest.raises(DeliveryError, match="No space left"):
            _outbox(box).send(_message())
        monkeypatch.setattr(os, "fdopen", real_fdopen)
        assert list(box.iterdir()) == [], fail_on


def test_the_outbox_writes_message_and_envelope_without_temp_files_left(tmp_path):
    box = tmp_path / "outbox"
    first = _outbox(box).send(_message())
    second = _outbox(box).send(_message())
    assert first.detail != second.detail
    names = sorted(p.name for p in box.iterdir())
    assert len(names) == 4 and not [n for n in names if n.endswith(".tmp")]
    envelope = json.loads(Path(second.detail.replace(".eml", ".envelope.json")).read_text())
    assert envelope["bcc"] == ["audit@example.com"]


# -- no tracebacks from bad input ------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("", "entities.acme.board"),
        ("", "entities.acme.path"),
        ("\n[delivery.kanban]\nboard = 5\n", "delivery.kanban.board"),
    ],
)
def test_a_path_setting_that_is_not_a_string_names_its_key(tmp_path, extra, key):
    cfg = write_config(tmp_path, extra)
    text = cfg.read_text()
    if key == "entities.acme.board":
        text = text.replace('path = "data/acme"', 'path = "data/acme"\nboard = 5')
    elif key == "entities.acme.path":
        text = text.replace('path = "data/acme"', "path = 5")
    cfg.write_text(text)
    message = config_error(cfg)
    assert f"{key}: " in message, message


def test_outbox_and_archive_paths_must_be_strings(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('path = "outbox"', "path = 5"))
    assert "delivery.outbox.path: must be a string" in config_error(cfg)
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('path = "archive.sqlite3"', "path = [1]"))
    assert "archive.path: must be a path" in config_error(cfg)


@pytest.mark.parametrize("name", ["ledger.csv", "entity.toml", "kpis.csv"])
def test_a_data_file_that_is_a_folder_is_one_line(tmp_path, name):
    folder = write_entity(tmp_path / "data" / "acme")
    (folder / name).unlink(missing_ok=True)
    (folder / name).mkdir()
    result = cli("build", "-q", "--config", str(write_config(tmp_path)))
    one_line_error(result, 1, f"{name}: is a folder")


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("ledger.csv", LEDGER.encode() + b"2025-03-21,-1.00,6100,x,caf\xe9,,,\n", 8),
        ("ledger.csv", b"date,amount,m\xe9mo\n2025-01-01,1.00,x\n", 1),
        ("entity.toml", b'kind = "charter"\n\nname = "Caf\xe9"\n', 3),
        ("kpis.csv", b"date,kpi,value\n2025-01-01,utilization,0.5\n2025-02-01,utili\xff,1\n", 3),
    ],
)
def test_non_utf8_bytes_name_the_line_and_say_utf8_is_expected(tmp_path, name, content, line):
    folder = write_entity(tmp_path / "data" / "acme")
    (folder / name).write_bytes(content)
    result = cli("build", "-q", "--config", str(write_config(tmp_path)))
    one_line_error(result, 1, f"{name}:{line}:", "UTF-8")


def test_a_ledger_with_a_header_and_only_blank_lines_has_no_rows_and_no_traceback(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("date,amount,account\n\n\n\n")
    with use_database():
        assert len(Ledger.from_csv(path, entity="acme")) == 0
    write_entity(tmp_path / "data" / "acme", ledger="date,amount,account\n\n\n\n")
    result = cli("run", "--config", str(write_config(tmp_path)))
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
    assert nothing_sent(tmp_path)


def test_a_board_nested_100000_levels_deep_is_one_line(tmp_path):
    folder = write_entity(tmp_path / "data" / "acme")
    (folder / "board.json").write_text("[" * 100_000 + "]" * 100_000)
    result = cli("build", "-q", "--config", str(write_config(tmp_path)))
    one_line_error(result, 1, "board.json", "nested too deeply")


def test_a_config_nested_deeply_is_one_line(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text() + "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "execreport.toml" in config_error(cfg)


# -- the archive file ------------------------------------------------------------------------
def _good_archive(path: Path) -> bytes:
    from execreport.archive import Archive

    Archive(path).close()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        ("garbage", "not an archive or damaged"),
        ("truncated", "damaged"),
        ("missing_column", "lacks 'subject'"),
        ("empty", "--new-archive"),
    ],
)
def test_a_bad_archive_file_is_one_line(tmp_path, damage, needle):
    from execreport.archive import Archive

    path = tmp_path / "archive.sqlite3"
    data = _good_archive(path)
    if damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "missing_column":
        db = sqlite3.connect(path)
        db.execute("ALTER TABLE reports DROP COLUMN subject")
        db.commit()
        db.close()
    else:
        path.write_bytes(b"")
    with pytest.raises(ExecReportError) as info:
        Archive(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_zero_length_archive_is_refused_by_run_unless_new_archive(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "archive.sqlite3").write_bytes(b"")
    one_line_error(cli("run", "--config", str(cfg)), 1, "archive.sqlite3", "--new-archive")
    assert nothing_sent(tmp_path)
    one_line_error(cli("history", "--config", str(cfg)), 1, "--new-archive")
    done = cli("run", "--new-archive", "--config", str(cfg))
    assert "Traceback" not in done.stderr
    assert (tmp_path / "archive.sqlite3").stat().st_size > 0


def test_new_archive_is_an_option_not_a_key_of_the_file(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[archive]\n", "[archive]\nnew_archive = true\n"))
    assert "--new-archive" in config_error(cfg)


def test_a_full_disk_while_opening_the_archive_says_disk_full(tmp_path, monkeypatch):
    from execreport.archive import Archive

    real = sqlite3.connect

    def tiny(*args, **kw):
        con = real(*args, **kw)
        con.execute("PRAGMA max_page_count = 1")  # SQLITE_FULL on the first table
        return con

    monkeypatch.setattr(sqlite3, "connect", tiny)
    with pytest.raises(ExecReportError) as info:
        Archive(tmp_path / "a.sqlite3")
    assert "disk full" in str(info.value)
    assert "rollback" not in str(info.value)


# -- typos are errors, not silence -----------------------------------------------------------
def test_a_misspelled_bcc_is_an_error_with_a_suggestion_and_check_is_not_ok(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("bcc = [", "bbc = ["))
    assert "delivery.bbc: unknown key; did you mean 'bcc'?" in config_error(cfg)
    result = cli("check", "--config", str(cfg))
    one_line_error(result, 2, "delivery.bbc", "did you mean 'bcc'")
    assert "ok" not in result.stdout


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ('\n[report]\nperod = "x"\n', None),
        ("\n[delivery.outbox]\npaht = 'x'\n", None),
        (
            "\n[delivery.smtp]\nhots = 'x'\n",
            "delivery.smtp.hots: unknown key; did you mean 'host'?",
        ),
        (
            "\n[delivery.sess]\nregion = 'x'\n",
            "delivery.sess: no sender 'sess' is registered; did you mean 'ses'?",
        ),
        (
            "\n[roles.ceo]\nexpring_days = 3\n",
            "roles.ceo.expring_days: unknown key; did you mean 'expiring_days'?",
        ),
        (
            "\n[roles.cfo]\nto_ = ['a@example.com']\n",
            "roles.cfo.to_: unknown key; did you mean 'to'?",
        ),
        ("\nfoo = 1\n", "foo: unknown key"),
    ],
)
def test_every_table_rejects_unknown_keys(tmp_path, extra, needle):
    cfg = write_config(tmp_path)
    if "[report]" in extra:
        cfg.write_text(cfg.read_text().replace("[report]\n", '[report]\nperod = "x"\n'))
        needle = "report.perod: unknown key; did you mean 'period'?"
    elif "[delivery.outbox]" in extra:
        cfg.write_text(
            cfg.read_text().replace(
                '[delivery.outbox]\npath = "outbox"', "[delivery.outbox]\npaht = 'x'"
            )
        )
        needle = "delivery.outbox.paht: unknown key; did you mean 'path'?"
    elif extra.startswith("\nfoo"):
        cfg.write_text("foo = 1\n" + cfg.read_text())
    else:
        cfg.write_text(cfg.read_text() + extra)
    assert needle in config_error(cfg)


@pytest.mark.parametrize(
    ("role", "setting", "needle"),
    [
        ("ceo", 'expiring_days = "soon"', "roles.ceo.expiring_days: must be a number"),
        ("ceo", "critical_asset_kinds = 3", "roles.ceo.critical_asset_kinds: must be a list"),
        ("ceo", "due_days = 3", "roles.ceo.due_days: must be a table"),
        ("ceo", 'due_days = {critical = "x"}', "roles.ceo.due_days.critical: must be a number"),
        ("cto", "software_accounts = [6200]", "roles.cto.software_accounts[0]: must be a string"),
        ("cmo", "rollout_step_days = true", "roles.cmo.rollout_step_days: must be a number"),
        ("accounting", "max_listed = [1]", "roles.accounting.max_listed: must be a number"),
        ("cfo", "runway_warning_months = nan", "roles.cfo.runway_warning_months: must be a number"),
    ],
)
def test_role_settings_of_the_wrong_type_exit_2_naming_the_key(tmp_path, role, setting, needle):
    cfg = write_config(tmp_path, f"\n[roles.{role}]\n{setting}\n")
    assert needle in config_error(cfg)


def test_role_settings_are_checked_where_the_role_reads_them(tmp_path):
    from execreport import read_settings

    with pytest.raises(ConfigError, match=r"roles\.ceo\.expiring_days: must be a number"):
        read_settings("ceo", {"expiring_days": "soon"}, {"expiring_days": 60})
    assert read_settings("ceo", {"expiring_days": "30", "to": []}, {"expiring_days": 60}) == {
        "expiring_days": 30,
        "to": [],
    }


def test_a_wrong_role_setting_never_reaches_the_role_as_a_type_error(tmp_path):
    cfg = write_config(tmp_path, '\n[roles.ceo]\nexpiring_days = "soon"\n')
    result = cli("build", "-q", "--config", str(cfg))
    line = one_line_error(result, 2, "roles.ceo.expiring_days")
    assert "failed to build" not in line and "TypeError" not in line


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "sNaN"])
def test_a_kpi_value_that_is_not_finite_is_reported_at_its_kpis_csv_line(tmp_path, value):
    folder = write_entity(tmp_path / "data" / "acme")
    (folder / "kpis.csv").write_text(
        f"date,kpi,value\n2025-01-01,utilization,0.5\n2025-02-01,utilization,{value}\n"
    )
    result = cli("build", "-q", "--config", str(write_config(tmp_path)))
    line = one_line_error(result, 1, "kpis.csv:3:", "not a finite number")
    assert "entity.toml" not in line


# -- reserved ledger columns -----------------------------------------------------------------
@pytest.mark.parametrize("column", ["entity", "Entity", "line", "rowid", "_service_given"])
def test_a_ledger_column_the_engine_uses_is_reserved(tmp_path, column):
    path = tmp_path / "ledger.csv"
    path.write_text(f"date,amount,{column}\n2025-01-01,1.00,other\n")
    with use_database(), pytest.raises(DataError) as info:
        Ledger.from_csv(path, entity="acme")
    assert f"ledger.csv:1: column {column!r} is reserved" in str(info.value)


def test_an_entity_column_does_not_move_rows_to_another_entity(tmp_path):
    ledger = LEDGER.replace("receipt\n", "receipt,entity\n", 1).replace(
        ",r1.pdf\n", ",r1.pdf,other\n"
    )
    write_entity(tmp_path / "data" / "acme", ledger=ledger)
    result = cli("build", "-q", "--config", str(write_config(tmp_path)))
    one_line_error(result, 1, "ledger.csv:1: column 'entity' is reserved")


def test_columns_that_differ_only_in_case_are_an_error(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("date,amount,Memo,memo\n2025-01-01,1.00,a,b\n")
    with use_database(), pytest.raises(DataError, match="differ only in case"):
        Ledger.from_csv(path, entity="acme")


# -- links from data are never live ----------------------------------------------------------
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src", "action")]


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_a_counterparty_autolink_is_not_a_live_link_in_the_accounting_email(tmp_path):
    from execreport.pipeline import build

    hostile = (
        "2025-03-12,-15.99,6300,subscriptions,Netflix <https://evil.example/phish>,"
        "see https://evil.example/raw [x](https://evil.example/md) <evil@evil.example>,,\n"
    )
    write_entity(tmp_path / "data" / "acme", ledger=LEDGER + hostile)
    result = build(load_config(write_config(tmp_path)), only=["accounting"])
    html = result.items[0].rendered.html
    assert "evil.example" in html  # the data is shown ...
    parsed = _links(html)
    assert not [h for h in parsed.hrefs if "evil" in h]  # ... never as a link
    assert "script" not in parsed.tags


def test_the_final_html_is_sanitized_but_keeps_styles_tables_and_cid_images():
    from execreport.render import sanitize_html

    dirty = (
        '<p style="color:#111">a</p><table style="width:100%"><tr><td style="padding:1px">t</td>'
        '</tr></table><img src="cid:chart-1" alt="c"><script>alert(1)</script>'
        '<a href="javascript:alert(1)">j</a><img src="https://evil.example/track.gif" onerror="x()">'
        '<form action="https://evil.example"><input></form>'
    )
    clean = sanitize_html(dirty)
    parsed = _links(clean)
    assert 'style="color:#111"' in clean and 'style="padding:1px"' in clean
    assert "<table" in clean and 'src="cid:chart-1"' in clean
    assert {"script", "form", "input"}.isdisjoint(parsed.tags)
    assert "javascript" not in clean and "onerror" not in clean


def test_md_escape_keeps_data_urls_as_text():
    from execreport import md_escape
    from execreport.render import to_html

    html = to_html(
        "- " + md_escape("<https://evil.example/a> <x@evil.example> https://evil.example/b"), "t"
    )
    assert not [h for h in _links(html).hrefs if "evil" in h]
    assert "&lt;https[:]//evil.example/a&gt;" in html
