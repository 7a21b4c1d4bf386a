"""The CEO report's words come from plugins/roles/templates/ceo.md.j2: it renders on the
examples and on empty data, a user's override changes exactly what it says, and data is
always text."""

from __future__ import annotations

import json
from pathlib import Path

import markdown
from minidata import PROFILE, ROOT, cli, write_config, write_entity

EMPTY_PROFILE = """name = "Empty Co"
kind = "other"
opening_cash = "0.00"
opening_date = "2024-01-01"
"""
EMPTY_LEDGER = "date,amount,account,category,counterparty,memo,service_date,receipt\n"


def build(config: Path, *more: str) -> list[dict]:
    done = cli("build", "--json", "-q", "--config", str(config), *more)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ceo(reports: list[dict]) -> dict:
    (report,) = [r for r in reports if r["role"] == "ceo"]
    return report


def test_the_builtin_template_renders_on_the_examples() -> None:
    report = ceo(build(ROOT / "examples" / "execreport.toml"))
    assert [s["heading"] for s in report["sections"]] == [
        "Money by business",  # from the CFO report of the same run
        "Critical shortfalls",
        "30-day agenda",
        "Asset inventory",
        "KPI coverage",
    ]
    assert report["subject"] == "CEO Strategic Assessment: Q1 2025 shortfalls and 30-day agenda"


def test_the_builtin_template_renders_on_empty_tables(tmp_path: Path) -> None:
    write_entity(tmp_path / "data" / "acme", ledger=EMPTY_LEDGER, profile=EMPTY_PROFILE)
    config = write_config(tmp_path)
    done = cli("build", "--json", "-q", "-r", "ceo", "--config", str(config))
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    bodies = {s["heading"]: s["body"] for s in report["sections"]}
    assert "No critical findings." in bodies["Critical shortfalls"]
    assert "| none | 0 | 0 | 0 | | |" in bodies["Asset inventory"]
    assert "0 other KPIs have a recent value on target" in bodies["KPI coverage"]


def test_an_override_drops_one_section_and_renames_another(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra="")
    text = config.read_text().replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
    config.write_text(text + '\n[roles.ceo]\nsubject = "Board pack {{ period }}"\n')
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ceo.md.j2").write_text(
        '{% extends "default:ceo.md.j2" %}\n'
        "{% block kpis %}{% endblock %}\n"
        '{% block assets %}{% call section("What we own") %}{{ super() }}{% endcall %}'
        "{% endblock %}\n"
    )
    before = {
        s["heading"]: s["body"] for s in ceo(build(config, "--as-of", "2025-03-31"))["sections"]
    }
    report = ceo(build(config))
    assert report["subject"] == "Board pack Q1 2025"
    headings = [s["heading"] for s in report["sections"]]
    assert headings == ["Money by business", "Critical shortfalls", "30-day agenda", "What we own"]
    bodies = {s["heading"]: s["body"] for s in report["sections"]}
    assert bodies["What we own"] == before["What we own"]  # the body is the built-in one
    assert "Hull policy" in bodies["What we own"]


def test_names_from_data_are_text_in_the_ceo_report(tmp_path: Path) -> None:
    for key, name in (("a", "[click](https://evil.example)"), ("b", "# Heading")):
        write_entity(
            tmp_path / "data" / key,
            profile=PROFILE.replace('name = "Acme Charters"', f"name = {json.dumps(name)}"),
        )
    config = write_config(tmp_path, entities=("a", "b"))
    report = ceo(build(config))
    html = markdown.markdown(
        "\n\n".join(s["body"] for s in report["sections"]), extensions=["tables"]
    )
    assert "evil.example" in html  # the name is there, as text
    assert "<a " not in html
    assert "<h1" not in html
