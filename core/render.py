"""Markdown is the canonical form; HTML (email-safe, inline styles) and plain text follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|>])")

FONT = "-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
STYLES = {
    "h1": "font-family:{f};font-size:22px;line-height:1.3;color:#111827;margin:0 0 8px",
    "h2": "font-family:{f};font-size:17px;color:#111827;margin:24px 0 8px;"
    "padding-bottom:4px;border-bottom:1px solid #e5e7eb",
    "h3": "font-family:{f};font-size:15px;color:#111827;margin:16px 0 6px",
    "p": "font-family:{f};font-size:14px;line-height:1.5;color:#1f2937;margin:0 0 10px",
    "ul": "font-family:{f};font-size:14px;line-height:1.5;color:#1f2937;margin:0 0 10px;"
    "padding-left:20px",
    "ol": "font-family:{f};font-size:14px;line-height:1.5;color:#1f2937;margin:0 0 10px;"
    "padding-left:20px",
    "li": "margin:0 0 4px",
    "table": "border-collapse:collapse;width:100%;margin:0 0 12px;font-family:{f};font-size:13px",
    "th": "text-align:left;background:#f3f4f6;border:1px solid #d1d5db;padding:6px 8px",
    "td": "border:1px solid #e5e7eb;padding:6px 8px;vertical-align:top",
    "blockquote": "margin:0 0 12px;padding:8px 12px;border-left:4px solid #b91c1c;"
    "background:#fef2f2;color:#7f1d1d",
    "code": "font-family:Menlo,Consolas,monospace;font-size:12px;background:#f3f4f6;"
    "padding:1px 4px",
    "hr": "border:0;border-top:1px solid #e5e7eb;margin:16px 0",
    "a": "color:#1d4ed8",
}
_TAG = re.compile(r"<(" + "|".join(STYLES) + r")((?: [^>]*)?)>")


# `<https://...>` and `<a@b>` are autolinks: escaping the closing `>` keeps them text; a
# URL from data is shown defanged (`https[:]//...`) so that no mail client makes it a link
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp)(:)(?=//)|\b(mailto|javascript)(:)(?=\S)")


def md_escape(text: Any) -> str:
    """Escape data text for use inside Markdown (a table cell, a list item): it stays text,
    never markup and never a live link."""
    flat = " ".join(str(text).split())
    flat = _URL_SCHEME.sub(lambda m: f"{m.group(1) or m.group(3)}[:]", flat)
    return _MD_SPECIAL.sub(r"\\\1", flat)


# ISO 4217 code -> (symbol written before the amount, decimals). A code not listed is
# written after the amount ("1,234.56 CHF"). A table, not Babel: see docs/cli.md, "Money".
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "CAD": ("CA$", 2),
    "AUD": ("A$", 2),
    "NZD": ("NZ$", 2),
    "MXN": ("MX$", 2),
    "JPY": ("¥", 0),
    "CNY": ("CN¥", 2),
    "INR": ("₹", 2),
    "KRW": ("₩", 0),
    "BRL": ("R$", 2),
    "HKD": ("HK$", 2),
    "SGD": ("SGD ", 2),
}


def money(value: Any, currency: str = "$") -> str:
    """`$1,234.56` / `-$1,234.56`; `n/a` for None. `currency` is a symbol ("$") or an ISO
    code: `money(x, "EUR")` is `€1,234.56`, `money(x, "JPY")` `¥1,235`, `money(x, "CHF")`
    `1,234.56 CHF`."""
    if value is None:
        return "n/a"
    from decimal import ROUND_HALF_UP, Decimal

    symbol, places, after = currency, 2, ""
    if len(currency) == 3 and currency.isascii() and currency.isalpha():
        code = currency.upper()
        if code in CURRENCIES:
            symbol, places = CURRENCIES[code]
        else:
            symbol, after = "", f" {code}"
    d = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    return f"{sign}{symbol}{abs(d):,.{places}f}{after}"


@dataclass(frozen=True)
class Rendered:
    markdown: str
    html: str
    text: str
    # the Markdown without the sections that compare with the previous report
    base: str = ""


def to_markdown(
    report: Any, *, as_of: date, period: str, entities: list[Any], currency_note: str = ""
) -> str:
    """The canonical document: title, summary, findings, sections, actions."""
    lines = [f"# {md_escape(report.title)}", ""]
    names = ", ".join(md_escape(e.name) for e in entities)
    lines += [f"**{md_escape(period)}**, as of {as_of.isoformat()}. Entities: {names}.", ""]
    if currency_note:  # an entity in another currency, converted at a stated rate
        lines += [md_escape(currency_note), ""]
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in _SEVERITIES}
    if report.findings:
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        if counts["critical"]:
            lines += [f"> **Critical attention needed:** {summary}.", ""]
        else:
            lines += [f"Findings: {summary}.", ""]
        lines += ["## Findings", ""]
        order = sorted(report.findings, key=lambda f: (_rank(f.severity), f.entity or ""))
        by_key = {e.key: e.name for e in entities}
        for f in order:
            who = f" ({md_escape(by_key.get(f.entity, f.entity))})" if f.entity else ""
            lines.append(f"- **{f.severity.upper()}**{who}: {md_escape(f.message)}")
        lines.append("")
    for section in report.sections:
        lines += [f"## {md_escape(section.heading)}", "", section.body.strip(), ""]
    if report.actions:
        lines += [
            "## Actions",
            "",
            "| # | Action | Owner | Due | Entity |",
            "|---|---|---|---|---|",
        ]
        by_key = {e.key: e.name for e in entities}
        for i, a in enumerate(report.actions, 1):
            due = a.due.isoformat() if a.due else ""
            ent = md_escape(by_key.get(a.entity, a.entity)) if a.entity else "all"
            lines.append(f"| {i} | {md_escape(a.title)} | {md_escape(a.owner)} | {due} | {ent} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_SEVERITIES = ("critical", "warning", "info")


def _rank(severity: Any) -> int:
    return _SEVERITIES.index(str(severity))


def to_html(markdown_text: str, title: str) -> str:
    """Email HTML: raw HTML in the Markdown is escaped, never passed through."""
    import html as html_lib

    import markdown

    md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    # data text must stay text: a counterparty named <script> is shown, not run
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    body = md.convert(markdown_text)
    body = sanitize_html(_TAG.sub(_style_tag, body))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_lib.escape(title)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f9fafb">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f9fafb"><tr><td align="center" style="padding:16px">\n'
        '<div style="max-width:760px;margin:0 auto;background:#ffffff;padding:24px;'
        'border:1px solid #e5e7eb;text-align:left">\n'
        f"{body}\n</div>\n</td></tr></table>\n</body></html>\n"
    )


_ALLOWED_TAGS = {
    *STYLES,
    *("h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "sup", "sub", "br", "pre"),
    *("span", "div", "img", "thead", "tbody", "tfoot", "tr", "caption", "colgroup", "col"),
}
_ALLOWED_ATTRIBUTES = {
    "*": {"style", "title", "align", "class", "id"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"role", "width", "cellpadding", "cellspacing", "border"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width", "scope"},
    "ol": {"start"},
}


def sanitize_html(fragment: str) -> str:
    """The email body through an allowlist (nh3): tables, inline styles and `cid:` images
    stay; scripts, event handlers, forms and links to anything but http(s), mailto and cid
    go. The last step of the HTML: whatever a template or a plugin produced, this holds."""
    import nh3

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _style_tag(m: re.Match[str]) -> str:
    tag, attrs = m.group(1), m.group(2) or ""
    style = STYLES[tag].format(f=FONT)
    existing = re.search(r' style="([^"]*)"', attrs)
    if existing:
        attrs = attrs.replace(existing.group(0), "")
        style = f"{style};{existing.group(1)}"
    return f'<{tag}{attrs} style="{style}">'


def to_text(markdown_text: str) -> str:
    """The plain-text alternative: the Markdown, which reads well as it is."""
    return markdown_text


def render(
    report: Any, *, as_of: date, period: str, entities: list[Any], currency_note: str = ""
) -> Rendered:
    md = to_markdown(
        report, as_of=as_of, period=period, entities=entities, currency_note=currency_note
    )
    stable = report.model_copy(
        update={
            "sections": [
                s if not s.since_previous else s.model_copy(update={"body": s.signature})
                for s in report.sections
                if not s.since_previous or s.signature
            ]
        }
    )
    base = to_markdown(
        stable, as_of=as_of, period=period, entities=entities, currency_note=currency_note
    )
    return Rendered(markdown=md, html=to_html(md, report.title), text=to_text(md), base=base)
