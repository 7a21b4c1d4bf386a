"""What the command line prints: logs (stdlib `logging`) on stderr, tables on stdout.

Logs: `-q` shows warnings only, `-v` debug too. When stdout or stderr is not a terminal
(cron, systemd, Lambda's CloudWatch) every log line starts with an ISO 8601 timestamp;
`--log-format json` writes one JSON object a line for log shippers.

Tables: rich (colour, width-aware) on a terminal; plain, line-oriented text otherwise, with
`NO_COLOR`, or with `--plain`. Either way no line is wider than the terminal (`COLUMNS`),
and a long recipient list is shortened ("ceo@example.com, +118 more").
rich is imported only when a table is printed to a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER = "execreport"
log = logging.getLogger(LOGGER)

STATUS_STYLE = {
    "sent": "green",
    "planned": "cyan",
    "skipped": "dim",
    "in-flight": "yellow",
    "pending": "yellow",
    "failed": "bold red",
    "uncertain": "bold magenta",
    "ok": "green",
    "error": "bold red",
}

_state: dict[str, Any] = {"plain": False}


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _TextFormatter(logging.Formatter):
    def __init__(self, stamped: bool) -> None:
        super().__init__()
        self.stamped = stamped

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        if not self.stamped:
            return f"{level}{message}"
        stamp = (
            datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        return f"{stamp} {record.levelname} {message}"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = (
            datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        return json.dumps(
            {
                "time": stamp,
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def configure(
    verbose: int = 0, quiet: bool = False, log_format: str = "text", plain: bool = False
) -> None:
    """Set up logging and output. Called for the top-level options and again for the
    command's own: the two are merged (`execreport -v run` and `execreport run -v`)."""
    _state["plain"] = _state.get("plain", False) or plain
    verbose = _state["verbose"] = max(_state.get("verbose", 0), verbose)
    quiet = _state["quiet"] = _state.get("quiet", False) or quiet
    if log_format == "text" and _state.get("log_format") == "json":
        log_format = "json"
    _state["log_format"] = log_format
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        stamped = not (_is_tty(sys.stdout) and _is_tty(sys.stderr))
        handler.setFormatter(_TextFormatter(stamped))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def reset() -> None:
    """Forget the options of a previous invocation (a warm Lambda runs main again)."""
    _state.clear()
    _state["plain"] = False


def info(text: str) -> None:
    """The pipeline's progress callback: one INFO log line."""
    log.info(text)


def warning(text: str) -> None:
    log.warning(text)


def use_rich() -> bool:
    """Colour and rich tables only on a terminal, without NO_COLOR or --plain."""
    if _state.get("plain") or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_tty(sys.stdout)


def width() -> int:
    """The terminal's width (COLUMNS wins). With no terminal (cron, a pipe, a log) and no
    COLUMNS, lines are not cut to a screen: a log keeps every detail (long recipient lists
    are still shortened)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if _is_tty(sys.stdout):
        return shutil.get_terminal_size((100, 24)).columns
    return NO_TERMINAL_WIDTH


NO_TERMINAL_WIDTH = 400


def shorten(addresses: list[str], budget: int) -> str:
    """As many addresses as fit in `budget` characters, then "+N more"."""
    if not addresses:
        return ""
    full = ", ".join(addresses)
    if len(full) <= budget:
        return full
    for shown in range(len(addresses) - 1, 0, -1):
        text = ", ".join(addresses[:shown]) + f", +{len(addresses) - shown} more"
        if len(text) <= budget:
            return text
    rest = f", +{len(addresses) - 1} more" if len(addresses) > 1 else ""
    first = addresses[0]
    room = max(budget - len(rest), 4)
    if len(first) > room:
        local = first.split("@", 1)[0]
        first = f"{local}@..." if len(local) + 4 <= room else first[: max(room - 3, 1)] + "..."
    return first + rest


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 3, 0)] + "..."


def fit(rows: list[list[str]], header: list[str], total: int, flex: list[int]) -> list[list[str]]:
    """Cells of the `flex` columns cut so that every line (two spaces between columns)
    fits in `total` characters; the other columns keep their width."""
    n = len(header)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(n)]
    fixed = sum(w for i, w in enumerate(widths) if i not in flex) + 2 * (n - 1)
    room = total - fixed
    need = sum(widths[i] for i in flex)
    if need <= room:
        return rows
    # share the room among the flexible columns, each at least its header's width
    budgets = {i: max(len(header[i]), 8) for i in flex}
    spare = room - sum(budgets.values())
    for i in sorted(flex, key=lambda i: widths[i]):
        extra = min(widths[i] - budgets[i], max(spare // max(len(flex), 1), 0))
        if extra > 0:
            budgets[i] += extra
            spare -= extra
    for i in flex:  # what is left goes to the first column that wants it
        if spare > 0 and widths[i] > budgets[i]:
            add = min(spare, widths[i] - budgets[i])
            budgets[i] += add
            spare -= add
    return [
        [_cut(str(c), budgets[i]) if i in budgets else c for i, c in enumerate(r)] for r in rows
    ]


def plain_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def print_table(
    rows: list[list[str]],
    header: list[str],
    *,
    flex: list[int] | None = None,
    status: int | None = None,
    title: str | None = None,
) -> None:
    """A table on stdout no wider than the terminal: `flex` columns are shortened to fit,
    the `status` column is coloured on a terminal."""
    total = width()
    flex = flex if flex is not None else [len(header) - 1]
    if not use_rich():
        if title:
            print(title)
        fitted = fit(rows, header, total, flex)
        print(plain_table(fitted, header) if rows else "(none)")
        sys.stdout.flush()
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(width=total, highlight=False, soft_wrap=False)
    if title:
        console.print(Text(title, style="bold"))
    # no vertical borders, one space either side of a column but at the edges: the same
    # two characters between columns as the plain table
    fitted = fit(rows, header, total - 1, flex)
    table = Table(
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
        show_edge=False,
        header_style="bold",
        expand=False,
    )
    for name in header:
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=None)
    for r in fitted:
        cells: list[Any] = [str(c) for c in r]
        if status is not None:
            cells[status] = Text(str(r[status]), style=STATUS_STYLE.get(str(r[status]), ""))
        table.add_row(*cells)
    console.print(table)


def print_diff(text: str) -> None:
    """A unified diff; added lines green and removed lines red on a terminal."""
    if not use_rich():
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    for line in text.splitlines():
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        console.print(Text(line, style=style))


def status_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "nothing to deliver"


__all__ = ["configure", "info", "log", "print_table", "shorten", "use_rich", "width", "_iso_now"]
