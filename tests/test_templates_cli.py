"""A user's templates folder end to end: `execreport run` delivers the overridden CFO report
and leaves the other reports byte for byte as they were; a broken template stops `run` and
`check` with one line naming the file and line, before anything is sent."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from minidata import LEDGER, PROFILE, cli, write_config, write_entity

SUBJECT = "Cash and runway, {{ period }}: {{ entities|length }} entities"
OVERRIDE = """\
{% extends "default:cfo.md.j2" %}
{% block planned_investments %}{% endblock %}
{% block capital_deployment %}{% call section("Spending plan") %}{{ super() }}{% endcall %}\
{% endblock %}
"""
OTHERS = ("ceo", "cto", "cmo", "accounting")
ROLES = ("cfo", *OTHERS)


def holding(root: Path, *, templates: dict[str, str] | None = None) -> Path:
    """Two entities delivering to an outbox; with `templates`, a `templates/` folder next to
    the config holding those files and `[roles.cfo] subject` set."""
    write_entity(root / "data" / "acme")
    write_entity(root / "data" / "beta", LEDGER, PROFILE.replace("Acme Charters", "Beta Boats"))
    extra = "" if templates is None else f"\n[roles.cfo]\nsubject = {SUBJECT!r}\n"
    config = write_config(root, extra=extra, entities=("acme", "beta"))
    if templates is not None:
        (root / "templates").mkdir()
        for name, text in templates.items():
            (root / "templates" / name).write_text(text, encoding="utf-8")
        text = config.read_text().replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
        config.write_text(text)
    return config


def outbox(root: Path) -> dict[str, email.message.EmailMessage]:
    """The messages in the outbox by role."""
    out = {}
    for eml in sorted((root / "outbox").glob("*.eml")):
        role = eml.name.split("-v", 1)[0]
        out[role] = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    return out


def parts(msg: email.message.EmailMessage) -> tuple[str, str, str]:
    """What a reader gets: the subject, the plain text and the HTML."""
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    return str(msg["Subject"]), plain.get_content(), html.get_content()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same holding run once as it comes and once with the override folder and subject."""
    plain = tmp_path_factory.mktemp("builtin")
    custom = tmp_path_factory.mktemp("override")
    for root, templates in ((plain, None), (custom, {"cfo.md.j2": OVERRIDE})):
        done = cli("run", "-q", "--config", str(holding(root, templates=templates)))
        assert done.returncode == 0, done.stderr
    return plain, custom


def show(root: Path, role: str) -> str:
    done = cli("show", role, "--config", str(root / "execreport.toml"))
    assert done.returncode == 0, done.stderr
    return done.stdout


def without_investments_renamed(markdown: str) -> str:
    """The built-in CFO Markdown with the override's two changes made by hand."""
    chunks = markdown.rstrip("\n").split("\n\n## ")
    kept = [c for c in chunks if not c.startswith("Planned investments\n")]
    assert len(kept) == len(chunks) - 1
    renamed = [
        re.sub(r"^Capital deployment \(Profit First\)\n", "Spending plan\n", c) for c in kept
    ]
    assert renamed != kept
    return "\n\n## ".join(renamed) + "\n"


def text_without_investments_renamed(text: str) -> str:
    """The built-in CFO plain-text part (headings underlined with dashes) with the
    override's two changes made by hand."""
    chunks = re.split(r"\n\n(?=[^\n]+\n-+\n)", text.rstrip("\n"))
    kept = [c for c in chunks if not c.startswith("Planned investments\n")]
    assert len(kept) == len(chunks) - 1
    old = "Capital deployment (Profit First)"
    renamed = [
        c.replace(f"{old}\n{'-' * len(old)}\n", "Spending plan\n-------------\n", 1) for c in kept
    ]
    assert renamed != kept
    return "\n\n".join(renamed) + "\n"


def test_the_override_folder_delivers_a_cfo_email_with_exactly_those_changes(runs) -> None:
    plain, custom = runs
    before, after = outbox(plain)["cfo"], outbox(custom)["cfo"]
    subject, text, html = parts(after)
    assert parts(before)[0] == "CFO Financial Review: Q1 2025 burn, runway and break-even"
    assert subject == "Cash and runway, Q1 2025: 2 entities"
    expected = without_investments_renamed(show(plain, "cfo"))
    assert show(custom, "cfo") == expected
    assert "## Planned investments" not in expected and "## Spending plan" in expected
    assert text == text_without_investments_renamed(parts(before)[1])
    assert "Spending plan" in html and "Planned investments" not in html
    assert "Capital deployment" not in html


def test_the_other_four_reports_are_byte_identical_to_a_run_without_the_folder(runs) -> None:
    plain, custom = runs
    before, after = outbox(plain), outbox(custom)
    assert sorted(before) == sorted(after) == sorted(ROLES)
    for role in OTHERS:
        assert parts(after[role]) == parts(before[role]), role
        assert show(custom, role) == show(plain, role), role


BROKEN = {
    "a syntax error": (
        '{% extends "default:cfo.md.j2" %}\n\n{% block changes %}{% if %}{% endblock %}\n',
        r"templates/cfo\.md\.j2:3: ",
    ),
    "an undefined variable": (
        '{% extends "default:cfo.md.j2" %}\n{% block changes %}\n'
        '{% call section("Runway") %}{{ runway }}{% endcall %}{% endblock %}\n',
        r"templates/cfo\.md\.j2:3: 'runway' is undefined",
    ),
    "a block that does not exist": (
        '{% extends "default:cfo.md.j2" %}\n\n\n{% block runway_table %}{% endblock %}\n',
        r"templates/cfo\.md\.j2:4: block 'runway_table' does not exist in default:cfo\.md\.j2",
    ),
}


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_template_is_one_line_naming_file_and_line_and_nothing_is_sent(
    tmp_path: Path, case: str, command: str
) -> None:
    template, message = BROKEN[case]
    config = holding(tmp_path, templates={"cfo.md.j2": template})
    args = [command, "-q"] if command == "run" else [command]
    done = cli(*args, "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert re.match(rf"execreport: error: {message}", lines[0]), lines[0]
    sent = tmp_path / "outbox"
    assert not sent.exists() or not any(sent.iterdir())
