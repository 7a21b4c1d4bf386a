"""The email HTML as a browser sees it (headless Chromium): data text stays text, tables
render, every example report fits a phone (390 px) and a desktop (1000 px) without running
off the right edge, and its chart images load from the message's own `cid:` parts.

Screenshots of the example reports go to tmp; with EXECREPORT_SCREENSHOTS=docs/img they are
written there (the README shows them)."""

from __future__ import annotations

import base64
import email
import html as html_lib
import json
import os
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest
from ci_tools import require_tool
from minidata import cli, write_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROLES = ("ceo", "cfo", "cto", "cmo", "accounting")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    """Headless Chromium's path: skipped without it, a failure in CI (tests/ci_tools.py)."""
    return require_tool("chromium", "chromium-browser")


def dump_dom(browser: str, page: Path, profile: Path, width: int = 1000) -> str:
    flags = [
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
        "--virtual-time-budget=5000",  # the page's load handler has run
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(browser: str, page: Path, profile: Path, width: int, out: Path) -> None:
    flags = [
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},2000",
        f"--screenshot={out}",
        page.as_uri(),
    ]
    done = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and out.is_file(), done.stderr[-2000:]


@pytest.mark.timeout(90)  # a CLI run and a headless Chromium
def test_a_counterparty_named_script_is_shown_as_text_not_run(tmp_path):
    browser = chromium()
    cfg = write_config(tmp_path)
    preview = cli("preview", "accounting", "--config", str(cfg))
    assert preview.returncode == 0, preview.stderr
    page = Path(preview.stdout.strip())
    assert page.is_file(), preview.stdout
    dom = dump_dom(browser, page, tmp_path / "profile")
    assert "<script" not in dom  # no script element reached the document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Supplies" in dom  # shown as text
    assert "<table" in dom


@pytest.fixture(scope="module")
def example_emails(tmp_path_factory) -> dict[str, email.message.EmailMessage]:
    """The five example reports as delivered: a run of the examples into an outbox."""
    root = tmp_path_factory.mktemp("examples")
    shutil.copytree(EXAMPLES / "data", root / "data")
    shutil.copy(EXAMPLES / "execreport.toml", root / "execreport.toml")
    done = cli("run", "--config", str(root / "execreport.toml"))
    assert done.returncode == 0, done.stderr[-2000:]
    out = {}
    for eml in sorted((root / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        role = msg["X-Execreport-Report"].split(";")[0]
        out[role] = msg
    assert sorted(out) == sorted(ROLES)
    return out


# the email in an iframe exactly `width` px wide (a headless window is never narrower than
# 500 px), measured after the load event: how wide its document is, whether each image decoded
HOST = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><iframe id="f" style="border:0;width:%(w)dpx;height:900px"
srcdoc="%(doc)s"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, w = this.contentWindow;
  var imgs = Array.prototype.map.call(d.images, function (i) {
    return {alt: i.alt, ok: i.complete && i.naturalWidth > 0,
            right: i.getBoundingClientRect().right};
  });
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify({inner: w.innerWidth,
    scroll: d.documentElement.scrollWidth, imgs: imgs});
  document.body.appendChild(pre);
});
</script></body></html>"""


def html_with_parts(msg: email.message.EmailMessage) -> tuple[str, dict[str, bytes]]:
    """The HTML part and its related images, by Content-ID."""
    html_part = msg.get_body(("html",))
    assert html_part is not None
    images = {}
    for part in msg.walk():
        if part.get_content_maintype() == "image":
            images[part["Content-ID"].strip("<>")] = part.get_content()
    return html_part.get_content(), images


@pytest.mark.timeout(600)
@pytest.mark.parametrize("width", [390, 1000])
def test_every_example_report_fits_the_viewport_and_its_charts_load(request, tmp_path, width):
    browser = chromium()  # first: without it the test skips (fails under CI), nothing is run
    example_emails = request.getfixturevalue("example_emails")
    shots = Path(os.environ.get("EXECREPORT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        html, images = html_with_parts(example_emails[role])
        cids = re.findall(r'src="cid:([^"]+)"', html)
        assert cids, f"{role}: no cid: image"
        assert set(cids) <= set(images), f"{role}: cid: without a part: {set(cids) - set(images)}"
        page_html = html
        for cid, data in images.items():
            uri = "data:image/png;base64," + base64.b64encode(data).decode()
            page_html = page_html.replace(f'src="cid:{cid}"', f'src="{uri}"')
        page = tmp_path / f"{role}-{width}.html"
        page.write_text(page_html, encoding="utf-8")
        host = tmp_path / f"{role}-{width}-host.html"
        doc = html_lib.escape(page_html, quote=True)
        host.write_text(HOST % {"w": width, "doc": doc}, encoding="utf-8")
        dom = dump_dom(browser, host, tmp_path / "profile", 1200)
        found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
        assert found, f"{role}: the measuring script did not run"
        m = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        assert m["inner"] == width, m
        assert m["scroll"] <= width, f"{role} at {width} px: the page is {m['scroll']} px wide"
        assert len(m["imgs"]) == len(cids)
        for img in m["imgs"]:
            assert img["ok"], f"{role}: a chart did not load: {img['alt'][:60]}"
            assert img["alt"].strip(), f"{role}: a chart without alt text"
            assert img["right"] <= width, f"{role}: a chart runs off the edge at {width} px"
        shot = (
            tmp_path / f"{role}-{width}.png" if shots == tmp_path else shots / f"{role}-{width}.png"
        )
        screenshot(browser, tmp_path / f"{role}-{width}.html", tmp_path / "profile", width, shot)
        assert shot.stat().st_size > 10_000  # a page was drawn, not an empty frame
        if shots != tmp_path:  # kept in the repository: 256 colours are plenty for a page
            from PIL import Image

            Image.open(shot).convert("RGB").quantize(256).save(shot, optimize=True)
