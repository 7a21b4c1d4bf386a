"""What recipients get: charts as inline `cid:` images with alt text, a small HTML part
that fits a phone, a plain-text part a person can read, a PDF when asked for, and the same
bytes (charts included) for the same data."""

from __future__ import annotations

import email
import io
import re
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from ci_tools import require_tool
from minidata import cli, write_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROLES = ("ceo", "cfo", "cto", "cmo", "accounting")


@pytest.fixture(scope="module", autouse=True)
def no_columns():
    """The CLI's tables fit COLUMNS; the asserts read whole details, so every command runs
    as from cron: no terminal and no COLUMNS (lines not cut), whatever the caller's shell."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COLUMNS", raising=False)
        yield


def read_outbox(folder: Path) -> dict[str, email.message.EmailMessage]:
    out = {}
    for eml in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        out[msg["X-Execreport-Report"].split(";")[0]] = msg
    return out


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    shutil.copytree(EXAMPLES / "data", root / "data")
    shutil.copy(EXAMPLES / "execreport.toml", root / "execreport.toml")
    done = cli("run", "--config", str(root / "execreport.toml"))
    assert done.returncode == 0, done.stderr[-2000:]
    return root


def test_every_example_email_has_a_chart_as_a_related_cid_image_with_alt_text(examples):
    msgs = read_outbox(examples / "outbox")
    assert sorted(msgs) == sorted(ROLES)
    for role, msg in msgs.items():
        related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
        assert len(related) == 1, role
        html = msg.get_body(("html",)).get_content()
        parts = {
            p["Content-ID"].strip("<>"): p.get_content()
            for p in related[0].iter_parts()
            if p.get_content_type() == "image/png"
        }
        images = re.findall(r'<img alt="([^"]*)" src="cid:([^"]+)"', html)
        assert images, role
        for alt, cid in images:
            assert alt.strip(), f"{role}: empty alt"
            assert re.search(r"\$[0-9]|[0-9]+ of [0-9]+", alt), f"{role}: no key number: {alt}"
            png = parts[cid]
            assert png.startswith(b"\x89PNG") and len(png) < 60_000, (role, cid, len(png))
    cfo = msgs["cfo"].get_body(("html",)).get_content()
    assert 'src="cid:chart-cfo_cash.png"' in cfo and "Cash per business" in cfo
    assert 'src="cid:chart-cfo_break_even.png"' in cfo


def test_every_example_html_part_is_under_100_kb_with_no_per_cell_styles(examples):
    for role, msg in read_outbox(examples / "outbox").items():
        html = msg.get_body(("html",)).get_content()
        assert len(html.encode()) < 100_000, (role, len(html.encode()))
        assert "<td style=" not in html and "<th style=" not in html, role
        assert "data:image" not in html, role  # charts are parts, not embedded
        assert "<style>" in html and 'style="overflow-x:auto' in html, role


def test_every_example_text_part_is_readable_text_not_markdown(examples):
    for role, msg in read_outbox(examples / "outbox").items():
        text = msg.get_body(("plain",)).get_content()
        for mark in ("\\[", "\\_", "\\*", "\\|", "**", "](cid:"):
            assert mark not in text, (role, mark)
        assert max(len(line) for line in text.splitlines()) <= 78, role
        assert "[Chart: " in text, role


def test_a_date_never_wraps_and_a_wide_table_scrolls_in_its_box():
    from execreport.render import to_html

    html = to_html("Due 2025-04-03.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "T")
    assert '<span class="nw" style="white-space:nowrap">2025-04-03</span>' in html
    assert '<div class="tw" style="overflow-x:auto;max-width:100%"><table' in html


def test_the_text_part_aligns_a_narrow_table_and_lists_a_wide_one():
    from execreport.render import to_text

    md = (
        "# Title *x*\n\nSome **bold** and a \\[bracket\\] and `code`.\n\n"
        "| Entity | Cash |\n|---|---|\n| JADA | $1.00 |\n| QueenofSanDiego | $22.00 |\n\n"
        "| Long | Other |\n|---|---|\n| " + "a " * 40 + "| b |\n\n"
        "![Cash is $5](cid:chart-x.png)\n"
    )
    assert to_text(md) == (
        "Title x\n=======\n\n"
        "Some bold and a [bracket] and code.\n\n"
        "Entity           Cash\n"
        "---------------  ------\n"
        "JADA             $1.00\n"
        "QueenofSanDiego  $22.00\n\n"
        "- Long: a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a\n"
        "    a a a a a\n"
        "  Other: b\n\n"
        "[Chart: Cash is $5]\n"
    )


def test_the_chart_alt_text_states_the_hand_computed_cash(tmp_path):
    # cash = opening 1000 + 3000 - 200 - 200 - 500 - 100 + 1500 = 4500 (tests/minidata.py)
    cfg = write_config(tmp_path)
    done = cli("build", "--config", str(cfg), "--role", "ceo")
    assert done.returncode == 0, done.stderr
    assert (
        "![Cash per business over the last 12 months; together $4,500: Acme Charters "
        "$4,500.](cid:chart-ceo_cash.png)"
    ) in done.stdout


def test_the_cash_history_is_month_end_cash(tmp_path):
    from execreport.charts import cash_history
    from execreport.ledger import Ledger, use_database
    from execreport.models import Entity, Finance
    from minidata import write_entity

    folder = write_entity(tmp_path / "acme")
    with use_database():
        ledger = Ledger.from_csv(folder / "ledger.csv", "acme")
        e = Entity(
            key="acme",
            name="Acme",
            ledger=ledger,
            finance=Finance(opening_cash="1000.00", opening_date="2024-01-01"),
        )
        from datetime import date

        got = cash_history(e, date(2025, 3, 31), months=4)
    # Dec: opening only; Jan: +3000 -200 -200; Feb: -500; Mar: -100 +1500
    assert got == [
        ("2024-12", 1000.0),
        ("2025-01", 3600.0),
        ("2025-02", 3100.0),
        ("2025-03", 4500.0),
    ]


def test_the_same_chart_data_gives_byte_identical_pngs_600_px_wide_and_opaque():
    from execreport import charts
    from execreport.models import Chart
    from PIL import Image

    spec = {
        "type": "waterfall",
        "title": "Deferred revenue roll-forward",
        "alt": "x",
        "steps": [["Opening", 10.0], ["Booked", 5.0], ["Recognised", -3.0], ["Closing", 12.0]],
    }
    a = charts.png(Chart(cid="a.png", kind="k", alt="x", spec=spec))
    charts._png.cache_clear()  # drawn again, not taken from the cache
    b = charts.png(Chart(cid="a.png", kind="k", alt="x", spec=dict(spec)))
    assert a == b
    assert b"Software" not in a and b"matplotlib" not in a and b"tIME" not in a
    img = Image.open(io.BytesIO(a))
    assert img.size[0] == 600
    alpha = img.convert("RGBA").getchannel("A").getextrema()
    assert alpha == (255, 255)
    spec["steps"][1] = ["Booked", 6.0]
    assert charts.png(Chart(cid="a.png", kind="k", alt="x", spec=spec)) != a


def test_two_runs_on_unchanged_data_make_no_new_version_and_the_same_bodies(tmp_path):
    cfg = write_config(tmp_path)
    first = cli("run", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    bodies = {p.name: p.read_bytes() for p in (tmp_path / "outbox").glob("*.eml")}
    second = cli("run", "--config", str(cfg), "--resend", "--all")
    assert second.returncode == 0, second.stderr
    assert "new version" not in second.stderr and "v2" not in second.stderr
    again = {
        p.name: p.read_bytes() for p in (tmp_path / "outbox").glob("*.eml") if p.name not in bodies
    }
    assert len(again) == len(bodies) == 5

    def body(data: bytes) -> bytes:  # the message without its Date and Message-ID headers
        msg = email.message_from_bytes(data, policy=policy.default)
        del msg["Date"], msg["Message-ID"]
        return msg.as_bytes()

    first_by_role = {n.split("-v")[0]: body(d) for n, d in bodies.items()}
    second_by_role = {n.split("-v")[0]: body(d) for n, d in again.items()}
    assert first_by_role == second_by_role


@pytest.mark.timeout(180)
def test_attach_pdf_delivers_a_pdf_with_the_report_title(tmp_path):
    pdftotext = require_tool("pdftotext")
    require_tool("chromium", "chromium-browser")
    cfg = write_config(tmp_path, extra="\n[roles.cfo]\nattach_pdf = true\n")
    dry = cli("run", "--config", str(cfg), "--dry-run", "--role", "cfo")
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"PDF attached: [0-9.]+ KiB", dry.stdout), dry.stdout
    done = cli("run", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    msgs = read_outbox(tmp_path / "outbox")
    pdfs = [p for p in msgs["cfo"].iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    assert not [
        p for p in msgs["ceo"].iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    pdf = tmp_path / "cfo.pdf"
    pdf.write_bytes(pdfs[0].get_content())
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "CFO Financial Review" in text.stdout


@pytest.mark.timeout(180)
def test_preview_writes_the_html_with_its_charts_beside_it_and_a_pdf(tmp_path):
    pdftotext = require_tool("pdftotext")
    require_tool("chromium", "chromium-browser")
    cfg = write_config(tmp_path)
    out = tmp_path / "prev" / "cfo.html"
    done = cli("preview", "cfo", "--config", str(cfg), "-o", str(out), "--pdf")
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "cid:" not in html
    srcs = re.findall(r'src="([^"]+)"', html)
    assert srcs and all((out.parent / s).is_file() for s in srcs)
    text = subprocess.run(
        [pdftotext, str(out.with_suffix(".pdf")), "-"], capture_output=True, text=True
    )
    assert "CFO Financial Review" in text.stdout


def test_help_imports_neither_matplotlib_nor_weasyprint():
    code = (
        "import sys\nfrom execreport.cli import main\nsys.argv = ['execreport', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in ('matplotlib', 'weasyprint', 'PIL') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "LOADED []" in done.stdout, done.stdout[-500:]


def test_a_user_template_moves_one_chart_and_drops_another(tmp_path):
    cfg = write_config(tmp_path)
    text = cfg.read_text().replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
    cfg.write_text(text)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "cfo.md.j2").write_text(
        '{% extends "default:cfo.md.j2" %}\n'
        "{% block contribution_margin %}{% endblock %}\n"
        '{% block planned_investments %}{% call section("Cash at a glance") %}\n'
        '{{ chart("cfo_break_even") }}\n{% endcall %}{% endblock %}\n'
    )
    done = cli("build", "--config", str(cfg), "--role", "cfo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "## Contribution margin and break-even" not in out
    glance = out.split("## Cash at a glance", 1)[1]
    assert "(cid:chart-cfo_break_even.png)" in glance.split("\n## ", 1)[0]
    assert out.count("(cid:chart-cfo_cash.png)") == 1


def test_an_unknown_chart_name_is_one_line_naming_the_template_line(tmp_path):
    cfg = write_config(tmp_path)
    text = cfg.read_text().replace("[report]\n", '[report]\ntemplates = "templates"\n', 1)
    cfg.write_text(text)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "cfo.md.j2").write_text(
        '{% extends "default:cfo.md.j2" %}\n'
        '{% block planned_investments %}{% call section("Extra") %}\n'
        'Before.\n\n{{ chart("no_such_chart") }}\n\nAfter.\n{% endcall %}{% endblock %}\n'
    )
    done = cli("build", "--config", str(cfg), "--role", "cfo")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "templates/cfo.md.j2:5: " in done.stderr and "no_such_chart" in done.stderr


def test_the_cfo_cash_chart_shows_the_forecast_and_the_cash_out_month(tmp_path):
    from datetime import date
    from types import SimpleNamespace

    from execreport import charts
    from execreport.ledger import Ledger, use_database
    from execreport.models import Entity, Finance, Report, Section
    from minidata import write_entity

    folder = write_entity(tmp_path / "acme")
    forecast = [
        {"month": f"2025-{m:02d}", "cash": str(4500 - 1000 * (m - 3))} for m in range(4, 16 - 3)
    ]
    report = Report(
        role="cfo",
        title="CFO",
        sections=[Section(heading="Cash", body=charts.placeholder("cfo_cash") + "\n\nText.")],
        metrics={"acme": {"cash": "4500.00", "cash_forecast": forecast}},
    )
    with use_database():
        entity = Entity(
            key="acme",
            name="Acme",
            ledger=Ledger.from_csv(folder / "ledger.csv", "acme"),
            finance=Finance(opening_cash="1000.00", opening_date="2024-01-01"),
        )
        charts.attach(report, SimpleNamespace(entities=[entity], as_of=date(2025, 3, 31)))
    # 4500 - 1000 a month: 3500 in April, 2500 May, 1500 June, 500 July, -500 August
    alt = (
        "Cash per business, last 12 months and the 12-month forecast: Acme $4,500. "
        "Acme runs out of cash in 2025-08."
    )
    assert report.sections[0].body == f"![{alt}](cid:chart-cfo_cash.png)\n\nText."
    (chart,) = report.charts
    assert chart.spec["title"] == "Cash: history and 12-month forecast"
    assert charts.png(chart).startswith(b"\x89PNG")
