"""Markdown is the canonical form; HTML (email-safe: a <style> block and a few inline styles)
and plain text (from the parsed structure) follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|>])")

FONT = "-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
# The look lives once, in a <style> block in <head> (Gmail, Apple Mail, Outlook read it);
# the few inline styles are what a client that drops <style> needs to stay readable and fit
# a phone: the wrapper's font and width, the table's collapse, the image's max width. Cells
# inherit: no per-cell style attribute (1,289 of them made a CEO email 134 KB).
CSS = (
    "body{margin:0;padding:0;background:#f9fafb}"
    ".wrap{font-family:@FONT@;font-size:14px;line-height:1.5;color:#1f2937}"
    "h1{font-size:22px;line-height:1.3;color:#111827;margin:0 0 8px}"
    "h2{font-size:17px;color:#111827;margin:24px 0 8px;padding-bottom:4px;"
    "border-bottom:1px solid #e5e7eb}"
    "h3{font-size:15px;color:#111827;margin:16px 0 6px}"
    "p,ul,ol{margin:0 0 10px}ul,ol{padding-left:20px}li{margin:0 0 4px}"
    ".tw{overflow-x:auto;max-width:100%;margin:0 0 12px}"
    "table{border-collapse:collapse;font-size:13px}"
    "th{text-align:left;background:#f3f4f6;border:1px solid #d1d5db;padding:5px 7px}"
    "td{border:1px solid #e5e7eb;padding:5px 7px;vertical-align:top}"
    "blockquote{margin:0 0 12px;padding:8px 12px;border-left:4px solid #b91c1c;"
    "background:#fef2f2;color:#7f1d1d}"
    "code{font-family:Menlo,Consolas,monospace;font-size:12px;background:#f3f4f6;"
    "padding:1px 4px}"
    "hr{border:0;border-top:1px solid #e5e7eb;margin:16px 0}a{color:#1d4ed8}"
    "img{max-width:100%;height:auto;border:0}"
    ".nw{white-space:nowrap}"
    "@media (max-width:480px){.card{padding:12px 10px!important}}"
).replace("@FONT@", FONT)
# the inline styles that stay, per tag (each is short; cells get none)
STYLES = {
    "h1": "font-size:22px;margin:0 0 8px",
    "h2": "font-size:17px;margin:24px 0 8px",
    "blockquote": "margin:0 0 12px;padding:8px 12px;border-left:4px solid #b91c1c;"
    "background:#fef2f2",
    "table": "border-collapse:collapse",
    "img": "max-width:100%;height:auto",
}
_TAG = re.compile(r"<(" + "|".join(STYLES) + r")((?: [^>]*?)?)(/?)>")


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

    body = sanitize_html(_TAG.sub(_style_tag, _body_html(markdown_text)))
    body = _wrap_tables(_nowrap_dates(body))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_lib.escape(title)}</title><style>{CSS}</style></head>\n"
        '<body style="margin:0;padding:0;background:#f9fafb">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f9fafb;table-layout:fixed"><tr><td align="center" style="padding:8px">\n'
        '<div class="wrap card" style="max-width:760px;margin:0 auto;background:#ffffff;'
        "padding:20px 16px;border:1px solid #e5e7eb;text-align:left;"
        f'font-family:{FONT};font-size:14px;line-height:1.5;color:#1f2937;overflow-wrap:break-word">\n'
        f"{body}\n</div>\n</td></tr></table>\n</body></html>\n"
    )


def _body_html(markdown_text: str) -> str:
    import markdown

    md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    # data text must stay text: a counterparty named <script> is shown, not run
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return str(md.convert(markdown_text))


_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SPLIT_TAGS = re.compile(r"(<[^>]*>)")


def _nowrap_dates(body: str) -> str:
    """A date never breaks in two: `2025-04-03` in a nowrap span (text only, not attributes)."""
    parts = _SPLIT_TAGS.split(body)
    for i in range(0, len(parts), 2):
        if "-" in parts[i]:
            parts[i] = _DATE.sub(
                lambda m: f'<span class="nw" style="white-space:nowrap">{m.group(0)}</span>',
                parts[i],
            )
    return "".join(parts)


def _wrap_tables(body: str) -> str:
    """A wide table scrolls inside its own box instead of widening the email."""
    body = re.sub(
        r"<table(?=[ >])", '<div class="tw" style="overflow-x:auto;max-width:100%"><table', body
    )
    return body.replace("</table>", "</table></div>")


_ALLOWED_TAGS = {
    *STYLES,
    *("h1", "h2", "h3", "p", "ul", "ol", "li", "table", "th", "td", "blockquote", "code"),
    *("hr", "a", "img"),
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
    tag, attrs, close = m.group(1), m.group(2) or "", m.group(3)
    style = STYLES[tag]
    existing = re.search(r' style="([^"]*)"', attrs)
    if existing:
        attrs = attrs.replace(existing.group(0), "")
        style = f"{style};{existing.group(1)}"
    if tag == "img" and " width=" not in attrs:
        attrs += ' width="600"'
    return f'<{tag}{attrs} style="{style}"{close}>'


TEXT_WIDTH = 78


def to_text(markdown_text: str) -> str:
    """The plain-text alternative, rendered from the document's structure (the Markdown
    parsed, not shown): no escapes or emphasis markers, headings underlined, paragraphs
    wrapped at 78 columns, tables aligned (or `label: value` lines when too wide), a
    chart's alt text where the chart is."""
    from html.parser import HTMLParser

    class Node:
        def __init__(self, tag: str, attrs: dict[str, str]) -> None:
            self.tag, self.attrs, self.children = tag, attrs, []  # type: ignore[var-annotated]

    root = Node("root", {})
    stack = [root]
    void = {"img", "br", "hr"}

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            node = Node(tag, {k: v or "" for k, v in attrs})
            stack[-1].children.append(node)
            if tag not in void:
                stack.append(node)

        def handle_endtag(self, tag: str) -> None:
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].tag == tag:
                    del stack[i:]
                    break

        def handle_data(self, data: str) -> None:
            stack[-1].children.append(data)

    parser = Parser(convert_charrefs=True)
    parser.feed(_body_html(markdown_text))
    parser.close()
    blocks = _text_blocks(root.children)
    out = "\n\n".join(b for b in blocks if b.strip())
    return out.rstrip() + "\n"


def _inline(children: list[Any]) -> str:
    parts: list[str] = []
    for c in children:
        if isinstance(c, str):
            parts.append(c)
        elif c.tag == "img":
            parts.append(f"[Chart: {c.attrs.get('alt', '')}]")
        elif c.tag == "br":
            parts.append("\n")
        elif c.tag == "a":
            text = _inline(c.children)
            href = c.attrs.get("href", "")
            parts.append(text if not href or href == text else f"{text} <{href}>")
        else:
            parts.append(_inline(c.children))
    return "".join(parts)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    import textwrap

    lines = []
    for para in text.split("\n"):
        lines.append(
            textwrap.fill(
                _flat(para),
                TEXT_WIDTH,
                initial_indent=first or indent,
                subsequent_indent=indent,
                break_long_words=True,
                break_on_hyphens=False,
            )
        )
        first = ""
    return "\n".join(lines)


def _text_blocks(children: list[Any], indent: str = "") -> list[str]:
    blocks: list[str] = []
    loose: list[Any] = []

    def flush() -> None:
        text = _flat(_inline(loose))
        if text:
            blocks.append(_wrap(text, indent))
        loose.clear()

    for c in children:
        if isinstance(c, str) or c.tag not in _BLOCK_TAGS:
            loose.append(c)
            continue
        flush()
        tag = c.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = _flat(_inline(c.children))[:TEXT_WIDTH]
            blocks.append(f"{text}\n{('=' if tag == 'h1' else '-') * len(text)}")
        elif tag == "p":
            blocks.append(_wrap(_inline(c.children), indent))
        elif tag in ("ul", "ol"):
            items = []
            n = int(c.attrs.get("start") or 1)
            for li in (x for x in c.children if not isinstance(x, str) and x.tag == "li"):
                mark = f"{n}. " if tag == "ol" else "- "
                n += 1
                inner = _text_blocks(li.children, indent + " " * len(mark))
                text = "\n".join(inner).lstrip()
                items.append(indent + mark + text)
            blocks.append("\n".join(items))
        elif tag == "blockquote":
            inner = _text_blocks(c.children, indent + "| ")
            blocks.append("\n".join(inner))
        elif tag == "table":
            blocks.append(_text_table(c, indent))
        elif tag == "hr":
            blocks.append("-" * 20)
        elif tag == "pre":
            blocks.append(_inline(c.children).rstrip())
        else:
            blocks.extend(_text_blocks(c.children, indent))
    flush()
    return blocks


_BLOCK_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "blockquote", "table", "hr"),
    *("pre", "div"),
}


def _rows(table: Any) -> list[list[str]]:
    rows: list[list[str]] = []

    def walk(node: Any) -> None:
        for c in node.children:
            if isinstance(c, str):
                continue
            if c.tag == "tr":
                rows.append(
                    [
                        _flat(_inline(cell.children))
                        for cell in c.children
                        if not isinstance(cell, str) and cell.tag in ("td", "th")
                    ]
                )
            else:
                walk(c)

    walk(table)
    return rows


def _text_table(table: Any, indent: str = "") -> str:
    """Columns aligned when they fit 78 columns, else one `label: value` line per cell."""
    rows = _rows(table)
    if not rows:
        return ""
    ncol = max(len(r) for r in rows)
    rows = [r + [""] * (ncol - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(ncol)]
    if len(indent) + sum(widths) + 2 * (ncol - 1) <= TEXT_WIDTH:
        lines = [
            indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        lines.insert(1, indent + "  ".join("-" * w for w in widths))
        return "\n".join(lines)
    header, body = rows[0], rows[1:]
    out = []
    for r in body:
        lines = [
            _wrap(f"{h}: {v}" if h else v, indent + "    ", indent + ("  " if i else "- "))
            for i, (h, v) in enumerate(zip(header, r, strict=True))
            if v
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out)


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
