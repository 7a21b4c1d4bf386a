"""Resending is deliberate and narrow; what `build`, `preview` and `run --dry-run` show is
what `run` sends."""

from __future__ import annotations

import email
import hashlib
import json
import re
import shutil
import sqlite3
from email import policy
from pathlib import Path

import pytest
from minidata import ROOT, cli, write_config

ROLES_TO = "".join(
    f'\n[roles.{r}]\nto = ["{r}@example.com"]\n' for r in ("ceo", "cto", "cfo", "cmo", "accounting")
)


@pytest.fixture(scope="module", autouse=True)
def no_columns():
    """The CLI's tables fit COLUMNS; the asserts read whole details, so every command runs
    as from cron: no terminal and no COLUMNS (lines not cut), whatever the caller's shell."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COLUMNS", raising=False)
        yield


def outbox(root: Path) -> list[tuple[Path, email.message.EmailMessage, dict]]:
    out = []
    for eml in sorted((root / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        out.append((eml, msg, json.loads(eml.with_suffix(".envelope.json").read_text())))
    return out


def new_files(root: Path, before: set[str]) -> list[tuple[str, dict]]:
    """(role, envelope) of each message written since `before`."""
    return sorted((env["role"], env) for p, _, env in outbox(root) if p.name not in before)


def names(root: Path) -> set[str]:
    return {p.name for p in (root / "outbox").glob("*.eml")}


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    """The mini data set, run once: five reports delivered, one to each role's reader."""
    root = tmp_path_factory.mktemp("delivered")
    cfg = write_config(root, extra=ROLES_TO)
    done = cli("run", "-q", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def copy(delivered, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(delivered, root)
    return root, root / "execreport.toml"


# -- resend -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["send", "--resend"],
            "send --resend needs what to send again: add --role ROLE (and --version N), "
            "or --all for every role's latest version",
        ),
        (
            ["run", "--resend"],
            "run --resend needs what to send again: add --role ROLE, or --all for every "
            "role's latest version",
        ),
        (
            ["send", "--resend", "--all", "--role", "cfo"],
            "--resend --all sends every role's latest version again: drop --role/--version, "
            "or drop --all",
        ),
        (
            ["send", "--resend", "--version", "1"],
            "--version N needs exactly one --role ROLE (versions are numbered per role)",
        ),
        (["send", "--version", "1", "--role", "cfo"], "--version goes only with --resend"),
        (["send", "--all"], "--all goes only with --resend"),
    ],
)
def test_a_resend_that_does_not_say_what_is_refused(copy, args, message):
    root, cfg = copy
    before = names(root)
    done = cli(*args, "--config", str(cfg))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"execreport: error: {message}"]
    assert names(root) == before


def test_send_resend_role_sends_that_roles_latest_version_again(copy):
    root, cfg = copy
    before = names(root)
    done = cli("send", "--resend", "--role", "cfo", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Resending 1 message:\n  cfo v1 via outbox to cfo@example.com")
    sent = new_files(root, before)
    assert [(r, e["version"], e["rcpt_to"]) for r, e in sent] == [
        ("cfo", 1, ["cfo@example.com", "audit@example.com"])
    ]


def test_send_resend_role_version_sends_that_version(copy):
    root, cfg = copy
    before = names(root)
    done = cli("send", "--resend", "--role", "cto", "--version", "1", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert [(r, e["version"]) for r, e in new_files(root, before)] == [("cto", 1)]
    missing = cli("send", "--resend", "--role", "cto", "--version", "9", "--config", str(cfg))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "execreport: error: role 'cto' has no version 9 (versions: 1)"
    ]


def test_send_resend_to_one_recipient_reaches_only_that_reader(copy):
    root, cfg = copy
    before = names(root)
    done = cli(
        "send", "--resend", "--role", "cfo", "--recipient", "cfo@example.com", "--config", str(cfg)
    )
    assert done.returncode == 0, done.stderr
    assert [e["rcpt_to"] for _, e in new_files(root, before)] == [
        ["cfo@example.com", "audit@example.com"]
    ]
    # not a reader of the report: refused, nothing sent
    stranger = cli(
        "send", "--resend", "--role", "cfo", "--recipient", "x@evil.example", "--config", str(cfg)
    )
    assert stranger.returncode == 2
    assert len(stranger.stderr.splitlines()) == 1
    assert "--recipient x@evil.example: not a recipient of cfo v1" in stranger.stderr
    assert len(new_files(root, before)) == 1


def test_send_resend_all_lists_everything_first_then_sends_it(copy):
    root, cfg = copy
    before = names(root)
    done = cli("send", "--resend", "--all", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Resending 5 messages (--all):"
    assert sorted(line.split()[0] for line in lines[1:6]) == sorted(
        ["ceo", "cto", "cfo", "cmo", "accounting"]
    )
    assert sorted(r for r, _ in new_files(root, before)) == sorted(
        ["ceo", "cto", "cfo", "cmo", "accounting"]
    )


def test_run_resend_role_sends_only_that_role_again(copy):
    root, cfg = copy
    before = names(root)
    done = cli("run", "-q", "--resend", "--role", "cmo", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Resending 1 message:")
    assert [r for r, _ in new_files(root, before)] == ["cmo"]


def test_send_without_resend_sends_nothing_already_sent(copy):
    root, cfg = copy
    before = names(root)
    done = cli("send", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert names(root) == before


# -- dry run ------------------------------------------------------------------------------
def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_dry_run_after_a_complete_run_plans_nothing_new_and_writes_nothing(copy):
    root, cfg = copy
    archive = root / "archive.sqlite3"
    before, outbox_before = digest(archive), names(root)
    done = cli("run", "--dry-run", "-q", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "5 skipped"
    assert "planned" not in done.stdout and " v0 " not in done.stdout
    assert done.stdout.count("already sent") == 5
    assert digest(archive) == before and names(root) == outbox_before


def test_a_dry_run_plans_what_the_real_run_then_does(copy):
    root, cfg = copy
    ledger = root / "data" / "acme" / "ledger.csv"
    ledger.write_text(ledger.read_text().replace("-500.00", "-650.00"))
    archive = root / "archive.sqlite3"
    before = digest(archive)
    plan = cli("run", "--dry-run", "-q", "--config", str(cfg))
    assert plan.returncode == 0, plan.stderr
    assert digest(archive) == before
    real = cli("run", "-q", "--config", str(cfg))
    assert real.returncode == 0, real.stderr

    def rows(out: str) -> list[tuple[str, str, str]]:
        got = []
        for line in out.splitlines()[3:-1]:
            cells = line.split()
            version = next(c for c in cells if c.startswith("v") and c[1:].isdigit())
            status = "sent" if " planned " in line else cells[cells.index("outbox") + 1]
            got.append((cells[1], version, status))
        return sorted(got)

    planned = rows(plan.stdout)
    assert planned == rows(real.stdout)
    assert ("cfo", "v2", "sent") in planned and "new version" in plan.stdout


def test_a_dry_run_on_a_new_archive_creates_none(tmp_path):
    cfg = write_config(tmp_path, extra=ROLES_TO)
    done = cli("run", "--dry-run", "-q", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("new version") == 5 and " v1 " in done.stdout
    assert not (tmp_path / "archive.sqlite3").exists()


# -- build, preview and the delivered message are one report --------------------------------
@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    root = tmp_path_factory.mktemp("examples")
    shutil.copy(ROOT / "examples" / "execreport.toml", root / "execreport.toml")
    shutil.copytree(ROOT / "examples" / "data", root / "data")
    return root, root / "execreport.toml"


def parts(root: Path, before: set[str]) -> dict[str, tuple[str, str]]:
    """role -> (text part, HTML part) of each message delivered since `before`."""
    out = {}
    for path, msg, env in outbox(root):
        if path.name not in before:
            text = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            out[env["role"]] = (text, html)
    return out


def check_same_report(root: Path, cfg: Path, before: set[str]) -> dict[str, tuple[str, str]]:
    built = cli("build", "-q", "--config", str(cfg))
    assert built.returncode == 0, built.stderr
    ceo_alone = cli("build", "-q", "-r", "ceo", "--config", str(cfg))
    assert ceo_alone.returncode == 0, ceo_alone.stderr
    previews = {}
    for role in ("ceo", "cfo"):
        out = root / f"{role}.html"
        shown = cli("preview", role, "--config", str(cfg), "--output", str(out))
        assert shown.returncode == 0, shown.stderr
        previews[role] = out.read_text(encoding="utf-8")
    done = cli("run", "-q", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    sent = parts(root, before)
    assert sent
    for role, (text, html) in sent.items():
        # build prints what is delivered: the text part is that Markdown as plain text, its
        # headings (underlined) the Markdown's headings, in the same order
        lines = text.splitlines()
        headings = [
            a
            for a, b in zip(lines, lines[1:], strict=False)
            if b and set(b) <= {"=", "-"} and len(b) == len(a)
        ]
        assert headings, role
        at = 0
        for h in headings:
            found = re.search(rf"^#{{1,6}} {re.escape(h)}$", built.stdout[at:], re.M)
            assert found, (role, h)
            at += found.end()
        if role in previews:
            # the preview shows the charts from files beside it, the email from its cid: parts
            shown = re.sub(r'src="(chart-[a-z0-9_]+\.png)"', r'src="cid:\1"', previews[role])
            assert shown.strip() == html.strip(), role
    if "ceo" in sent:
        # the CEO alone consolidates the same findings as in the full run
        assert ceo_alone.stdout.strip() in built.stdout
    return sent


def test_build_preview_and_the_delivered_message_are_the_same_report(examples):
    root, cfg = examples
    first = check_same_report(root, cfg, set())
    assert sorted(first) == ["accounting", "ceo", "cfo", "cmo", "cto"]
    assert len(outbox(root)) == 5


def test_after_a_change_build_and_preview_show_the_changes_section_that_is_sent(examples):
    root, cfg = examples
    archive = root / ".execreport" / "archive.sqlite3"
    if not archive.exists():  # run alone (-k, another xdist worker): deliver v1 first
        check_same_report(root, cfg, set())
    db = sqlite3.connect(archive)
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 5
    ledger = root / "data" / "jada" / "ledger.csv"
    lines = ledger.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("2025-03-"))
    cells = lines[n].split(",")
    cells[1] = f"{float(cells[1]) - 1234.5:.2f}"  # a changed figure in the quarter: new versions
    lines[n] = ",".join(cells)
    ledger.write_text("\n".join(lines) + "\n")
    before = {p.name for p in (root / "outbox").glob("*.eml")}
    second = check_same_report(root, cfg, before)
    assert second  # at least one report changed and went out as v2
    # compared with what readers last received: the progress since v1
    assert all("(v1 of 2025-03-31)" in text for text, _ in second.values())
