"""The report as a PDF, charts included: the email HTML printed by headless Chromium.

WeasyPrint is not installable here (it needs Pango); Chromium prints exactly what a browser
shows of the email. Its timestamps are fixed, so the same report gives the same bytes."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .errors import ExecReportError

_PDF_DATES = re.compile(rb"/(CreationDate|ModDate) ?\(D:[0-9+\-Z' ]*\)")
FIXED_DATE = b"D:20000101000000Z"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def inline_html(html: str, images: list[Any]) -> str:
    """The email HTML with every `cid:` image as a data URI: one self-contained file."""
    for img in images:
        uri = f"data:{img.mime_type};base64,{base64.b64encode(img.content).decode()}"
        html = html.replace(f'src="cid:{img.content_id}"', f'src="{uri}"')
    return html


def html_to_pdf(html: str, images: list[Any], *, timeout: float = 60) -> bytes:
    """Print the HTML (with its `cid:` images) to PDF. Raises ExecReportError when
    Chromium is missing or fails."""
    exe = chromium()
    if exe is None:
        raise ExecReportError(
            "PDF: headless Chromium is needed (apt-get install chromium); not found on PATH"
        )
    with tempfile.TemporaryDirectory(prefix="execreport-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(inline_html(html, images), encoding="utf-8")
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ExecReportError(f"PDF: Chromium failed: {exc}") from None
        if done.returncode != 0 or not out.is_file():
            last = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            raise ExecReportError(f"PDF: Chromium failed (exit {done.returncode}): {last}")
        data = out.read_bytes()
    return _PDF_DATES.sub(lambda m: b"/" + m.group(1) + b" (" + FIXED_DATE + b")", data)


def report_pdf(html: str, report: Any) -> bytes:
    from .charts import images

    return html_to_pdf(html, images(report))
