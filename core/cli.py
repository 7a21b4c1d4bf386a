"""The command line: parses arguments and calls the pipeline; nothing else lives here."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .errors import ExecReportError

app = typer.Typer(
    name="execreport",
    help="Executive reports from your own data, delivered exactly once.\n\n"
    "Builds one report per C-suite role (CEO, CTO, CFO, CMO, Accounting and any plugin "
    "role) from each entity's ledger and profile, archives every version and delivers each "
    "version once, critical reports first, through the outbox, SES or SMTP.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["--help", "-h"]},
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="execreport.toml (default: ./execreport.toml).",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The report date, YYYY-MM-DD (default: [report] as_of, "
        "else today in [report] timezone).",
        show_default=False,
    ),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        metavar="PATH",
        help="A dotenv file (e.g. repos.env); never overrides variables already set.",
        show_default=False,
    ),
]

NewArchiveOpt = Annotated[
    bool,
    typer.Option(
        "--new-archive",
        help="Start a new archive in place of an existing empty (0-byte) archive file, "
        "which is otherwise refused as damaged.",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])

NoEventsOpt = Annotated[
    bool,
    typer.Option(
        "--no-events",
        help="Do not read the SES events queue ([delivery.ses] events_queue) first.",
    ),
]

ResendOpt = Annotated[
    bool,
    typer.Option(
        "--resend",
        help="Send again on purpose what was already sent or is uncertain; needs --role "
        "(and, for send, --version) or --all.",
    ),
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="With --resend: send every role's latest version again (listed first)."
    ),
]
RecipientOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--recipient",
        metavar="ADDRESS",
        help="With --resend: send only to this reader of the report (repeatable); the audit "
        "BCC goes too.",
    ),
]


VerboseOpt = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        help="More log lines (debug); with --version: plugins.",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")
]
LogFormatOpt = Annotated[
    str,
    typer.Option(
        "--log-format",
        metavar="FORMAT",
        help="text (ISO timestamps when not on a terminal) or json (one object a line).",
        show_default=False,
    ),
]
PlainOpt = Annotated[
    bool, typer.Option("--plain", help="Plain line-oriented output, no colour (as NO_COLOR).")
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="One JSON document on stdout (schema: docs/cli.md)."),
]
ROLE_METAVAR = "ROLE"
RoleOpt = Annotated[
    list[str] | None,
    typer.Option("--role", "-r", metavar="ROLE", help="Only this role (repeatable)."),
]


def _log_options(verbose: int, quiet: bool, log_format: str, plain: bool) -> None:
    from .console import configure

    if log_format not in ("text", "json"):
        fail(f"--log-format: {log_format!r} is not text or json", 2)
    configure(verbose=verbose, quiet=quiet, log_format=log_format, plain=plain)


def logged(func: F) -> F:
    """Give a command -v/-q/--log-format/--plain and set logging up before it runs."""
    import inspect

    sig = inspect.signature(func)
    extra = [
        inspect.Parameter(
            "verbose", inspect.Parameter.KEYWORD_ONLY, default=0, annotation=VerboseOpt
        ),
        inspect.Parameter(
            "quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietOpt
        ),
        inspect.Parameter(
            "log_format", inspect.Parameter.KEYWORD_ONLY, default="text", annotation=LogFormatOpt
        ),
        inspect.Parameter(
            "plain", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=PlainOpt
        ),
    ]
    from typing import get_type_hints

    hints = get_type_hints(func, include_extras=True)
    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation))
        for p in sig.parameters.values()
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _log_options(
            kwargs.pop("verbose", 0),
            kwargs.pop("quiet", False),
            kwargs.pop("log_format", "text"),
            kwargs.pop("plain", False),
        )
        return func(*args, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **getattr(func, "__annotations__", {}),
        "verbose": VerboseOpt,
        "quiet": QuietOpt,
        "log_format": LogFormatOpt,
        "plain": PlainOpt,
    }
    return wrapper  # type: ignore[return-value]


def version_text(verbose: int) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        ours = dist_version("execreport")
    except PackageNotFoundError:
        ours = "unknown"
    lines = [f"execreport {ours}"]
    if verbose:
        from .plugin_manager import describe

        for r in describe():
            kind = "built-in" if r.get("builtin") else r["distribution"]
            lines.append(f"  {r['name']} {r['version'] or '?'} ({kind})")
    return "\n".join(lines)


@app.callback(
    invoke_without_command=True,
    epilog="Examples:\n\n"
    "  execreport check -c execreport.toml\n\n"
    "  execreport run --dry-run --json\n\n"
    "  execreport -v --version",
)
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version (with -v, the plugins' too).")
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = "text",
    plain: PlainOpt = False,
) -> None:
    """Executive reports from your own data, delivered exactly once."""
    _log_options(verbose, quiet, log_format, plain)
    if version:
        print(version_text(verbose))
        raise typer.Exit(0)
    ctx = click_context()
    if ctx is not None and ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(0)


def click_context() -> Any:
    import click

    return click.get_current_context(silent=True)


def fail(message: str, code: int) -> None:
    print(f"execreport: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def friendly(func: F) -> F:
    """Turn ExecReportError into one line on stderr and its exit code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ExecReportError as exc:
            problems = getattr(exc, "problems", None)
            if problems:  # content guards: one line per problem
                for line in problems:
                    print(f"execreport: error: {line}", file=sys.stderr)
                fail("run stopped, nothing was sent (--force REASON sends anyway)", exc.exit_code)
            *first, last = str(exc).splitlines() or [""]
            for line in first:  # several problems found at once: one line each
                print(f"execreport: error: {line}", file=sys.stderr)
            fail(last, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from .errors import ConfigError

        raise ConfigError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def setup(config: Path | None, env_file: Path | None, new_archive: bool = False) -> Any:
    from .config import load_config, load_env_file

    load_env_file(env_file)
    cfg = load_config(config)
    cfg.archive.new_archive = new_archive
    import logging

    logging.getLogger("execreport").debug(f"config {cfg.path}")
    return cfg


def progress() -> Callable[[str], None]:
    """Progress lines are INFO log lines: -q hides them, -v adds debug ones."""
    from .pipeline import stderr_progress

    return stderr_progress


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def resend_scope(
    command: str,
    resend: bool,
    roles: list[str] | None,
    version: int | None,
    recipients: list[str] | None,
    every: bool,
) -> None:
    """A resend says what it sends again; anything else is refused (exit 2, one line)."""
    if not resend:
        given = [
            n
            for n, v in (
                ("--version", version is not None),
                ("--recipient", recipients),
                ("--all", every),
            )
            if v
        ]
        if given:
            verb = "goes" if len(given) == 1 else "go"
            fail(f"{' and '.join(given)} {verb} only with --resend", 2)
        return
    if every and (roles or version is not None):
        fail(
            "--resend --all sends every role's latest version again: drop --role/--version, "
            "or drop --all",
            2,
        )
    if version is not None and len(roles or []) != 1:
        fail("--version N needs exactly one --role ROLE (versions are numbered per role)", 2)
    if not every and not roles:
        more = " (and --version N)" if command == "send" else ""
        fail(
            f"{command} --resend needs what to send again: add --role ROLE{more}, or --all "
            "for every role's latest version",
            2,
        )


def announce_resend(every: bool) -> Callable[[Any], None]:
    """Print, before anything is sent, what a resend sends again."""
    from .pipeline import recipients_display

    def show(plan: Any) -> None:
        scope = " (--all)" if every else ""
        print(f"Resending {len(plan)} message{'s' if len(plan) != 1 else ''}{scope}:")
        for o in plan:
            print(
                f"  {o.role} v{o.version} via {o.sender} to {recipients_display(o.recipients)}"
                f" ({o.detail})"
            )
        sys.stdout.flush()

    return show


SCHEMA_VERSION = 1


def outcome_json(o: Any, critical: set[str] | None) -> dict[str, Any]:
    from .config import bare_address

    row: dict[str, Any] = {
        "role": o.role,
        "version": o.version,
        "sender": o.sender,
        "status": o.status,
        "recipients": [bare_address(a) for a in o.recipients],
        "detail": o.detail,
    }
    if critical is not None:
        row["critical"] = o.role in critical
    if o.size:
        row["size"] = o.size
    return row


def emit_json(command: str, result: Any, **info: Any) -> None:
    """The one JSON document of `run`/`send` (docs/cli.md, "run and send")."""
    critical = info.pop("critical")
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    doc = {
        "schema": f"execreport.{command}/{SCHEMA_VERSION}",
        "command": command,
        **info,
        "ok": result.ok,
        "counts": dict(sorted(counts.items())),
        "deliveries": [
            outcome_json(o, critical if command == "run" else None) for o in result.outcomes
        ],
    }
    print_json(doc)


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=to_jsonable) + "\n")
    sys.stdout.flush()


def print_outcomes(
    outcomes: list[Any], *, title: str | None, critical: set[str] | None, sizes: bool
) -> None:
    """The delivery table, no wider than the terminal; the recipients shortened to fit."""
    from .config import bare_address
    from .console import print_table, shorten, status_text, width

    header = ["#", "role"]
    header += ["critical"] if critical is not None else []
    header += ["version", "sender", "status", "to"]
    header += ["size"] if sizes else []
    header += ["detail"]
    rows = []
    for i, o in enumerate(outcomes, 1):
        row = [str(i), o.role]
        if critical is not None:
            row.append("yes" if o.role in critical else "")
        row += [f"v{o.version}", o.sender, o.status, "\0"]
        row += [f"{o.size / 1024:.1f} KiB"] if sizes else []
        row.append(o.detail)
        rows.append(row)
    to = header.index("to")
    # the "to" column gets what the others leave, at least 24 characters
    others = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    detail_w = min(others[-1], 40)
    fixed = sum(w for i, w in enumerate(others) if i not in (to, len(header) - 1))
    budget = max(width() - fixed - detail_w - 2 * (len(header) - 1) - 1, 24)
    for row, o in zip(rows, outcomes, strict=True):
        row[to] = shorten([bare_address(a) for a in o.recipients], budget)
    print_table(
        rows, header, flex=[to, len(header) - 1], status=header.index("status"), title=title
    )
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    print(status_text(counts))


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@app.command()
@friendly
@logged
def run(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    role: RoleOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the delivery plan "
            "(order, recipients, sender, sizes); send and archive nothing.",
        ),
    ] = False,
    resend: ResendOpt = False,
    every: AllOpt = False,
    recipient: RecipientOpt = None,
    force: Annotated[
        str | None,
        typer.Option(
            "--force",
            metavar="REASON",
            help="Send even "
            "when a content guard (stale or missing data, a report without figures) "
            "would stop the run; the reason is recorded in the archive.",
        ),
    ] = None,
    new_archive: NewArchiveOpt = False,
    as_json: JsonOpt = False,
    no_events: NoEventsOpt = False,
) -> None:
    """Build every report, archive new versions and deliver them (the main job).

    Examples:

      execreport run -c execreport.toml

      execreport run --dry-run --json

      execreport run --resend --role cfo --recipient cfo@example.com
    """
    from .pipeline import run as run_pipeline

    resend_scope("run", resend, role, None, recipient, every)
    cfg = setup(config, env_file, new_archive)
    result = run_pipeline(
        cfg,
        as_of=parse_date(as_of),
        only=role,
        dry_run=dry_run,
        resend=resend,
        force=force,
        recipients=recipient or None,
        announce=announce_resend(every),
        progress=progress(),
        events=not no_events,
    )
    b = result.build
    assert b is not None
    critical = {it.role.name for it in b.items if it.critical}
    if as_json:
        emit_json(
            "run",
            result,
            dry_run=dry_run,
            as_of=b.as_of.isoformat(),
            period=b.period,
            critical=critical,
        )
    else:
        title = "Delivery plan (dry run: nothing sent)" if dry_run else "Delivery"
        print_outcomes(
            result.outcomes,
            title=f"{title}, as of {b.as_of.isoformat()} ({b.period}):",
            critical=critical,
            sizes=dry_run,
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command()
@friendly
@logged
def send(
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    role: RoleOpt = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", metavar="N", help="With --resend and one --role: that archived version."
        ),
    ] = None,
    resend: ResendOpt = False,
    every: AllOpt = False,
    recipient: RecipientOpt = None,
    new_archive: NewArchiveOpt = False,
    as_json: JsonOpt = False,
    no_events: NoEventsOpt = False,
) -> None:
    """Deliver what is archived and not yet delivered (after a crash or a quota stop), or,
    with --resend, send one version (or --all) again on purpose.

    Examples:

      execreport send

      execreport send --resend --role cfo --version 3 --json
    """
    from .pipeline import send_pending

    resend_scope("send", resend, role, version, recipient, every)
    cfg = setup(config, env_file, new_archive)
    result = send_pending(
        cfg,
        resend=resend,
        roles=role or None,
        version=version,
        recipients=recipient or None,
        announce=announce_resend(every),
        progress=progress(),
        events=not no_events,
    )
    if as_json:
        emit_json("send", result, dry_run=False, as_of=None, period=None, critical=set())
    else:
        print_outcomes(result.outcomes, title=None, critical=None, sizes=False)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
@friendly
@logged
def build(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    role: RoleOpt = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="A JSON array on stdout, one object per report; logs go to stderr."
        ),
    ] = False,
) -> None:
    """Build the reports and print them (Markdown, or JSON with --json); nothing is sent.

    Examples:

      execreport build -r cfo

      execreport build --json --as-of 2025-03-31 > reports.json
    """
    from .pipeline import build as build_reports
    from .pipeline import reading_archive

    cfg = setup(config, env_file)
    # the same report `run` would deliver: compared with the last delivered version
    with reading_archive(cfg) as archive:
        result = build_reports(
            cfg, as_of=parse_date(as_of), only=role, archive=archive, progress=progress()
        )
    if as_json:
        out = []
        for item in result.items:
            r = item.report.model_dump(mode="python")
            out.append(
                {
                    "role": r["role"],
                    "title": r["title"],
                    "subject": r["subject"],
                    "as_of": result.as_of,
                    "period": result.period,
                    "critical": item.critical,
                    "priority": r["priority"],
                    "metrics": r["metrics"],
                    "findings": r["findings"],
                    "actions": r["actions"],
                    "sections": r["sections"],
                }
            )
        sys.stdout.write(json.dumps(out, indent=2, default=to_jsonable) + "\n")
        return
    for item in result.items:
        sys.stdout.write(item.rendered.markdown + "\n")


@app.command()
@friendly
@logged
def preview(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role to preview, e.g. cfo.")],
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Where to write the HTML (default: next to the archive, preview/ROLE.html).",
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Write the report as a PDF (ROLE.pdf) too.")
    ] = False,
) -> None:
    """Build one report and write its email HTML to a file, its chart images beside it
    (so a browser shows what recipients see); prints the path.

    Example: execreport preview cfo -o cfo.html
    """
    from .charts import images
    from .pipeline import archive_path, reading_archive
    from .pipeline import build as build_reports

    cfg = setup(config, env_file)
    with reading_archive(cfg) as archive:
        result = build_reports(cfg, as_of=parse_date(as_of), only=[role], archive=archive)
    item = result.items[0]
    path = output or archive_path(cfg).parent / "preview" / f"{role}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    html = item.rendered.html
    inline = images(item.report)
    for img in inline:
        (path.parent / img.filename).write_bytes(img.content)
        html = html.replace(f'src="cid:{img.content_id}"', f'src="{img.filename}"')
    path.write_text(html, encoding="utf-8")
    print(path)
    if pdf:
        from .pdf import html_to_pdf

        target = path.with_suffix(".pdf")
        target.write_bytes(html_to_pdf(item.rendered.html, inline))
        print(target)


@app.command("plugins")
@friendly
@logged
def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the plugins: version, hooks, and the sources, roles and senders they register.

    Example: execreport plugins --json
    """
    from .plugin_manager import describe

    rows = describe()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    out = []
    for r in rows:
        what = "; ".join(
            f"{k}: {', '.join(r[k])}" for k in ("sources", "roles", "senders") if r.get(k)
        )
        out.append([r["name"], r["distribution"], r["version"], ", ".join(r["hooks"]), what])
    print(table(out, ["plugin", "distribution", "version", "hooks", "registers"]))


@app.command()
@friendly
@logged
def check(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the config, every entity's data, the templates, the recipients and each
    sender's preflight, without building. Every problem is listed; the exit code is the
    worst one (2 config, 1 data or delivery).

    Examples:

      execreport check -c execreport.toml

      execreport check --json
    """
    from .checks import run_checks

    cfg = setup(config, env_file)
    items = run_checks(cfg, parse_date(as_of))
    code = max((i["exit_code"] for i in items), default=0)
    if as_json:
        deliveries = [d for i in items for d in i.get("delivery") or []]
        print_json(
            {
                "schema": f"execreport.check/{SCHEMA_VERSION}",
                "command": "check",
                "config": str(cfg.path),
                "ok": code == 0,
                "exit_code": code,
                "checks": [{k: v for k, v in i.items() if k != "delivery"} for i in items],
                "deliveries": deliveries,
            }
        )
    else:
        from .console import shorten, width

        for i in items:
            if i["status"] == "ok":
                head = f"{i['kind']:<8} {i['name']}: "
                if i.get("delivery"):
                    to = i["delivery"][0]["recipients"]
                    text = "to " + shorten(to, max(width() - len(head) - 3, 20))
                else:
                    text = i["detail"]
                print(head + text)
        for i in items:
            if i["status"] != "ok":
                print(f"execreport: error: {i['detail']}", file=sys.stderr)
        bad = sum(1 for i in items if i["status"] != "ok")
        if bad > 1:  # one problem is its own line; several are counted
            print(
                f"execreport: error: check found {bad} problems",
                file=sys.stderr,
            )
    if code:
        raise typer.Exit(code)


templates_app = typer.Typer(
    help="The report templates: list them, show the one in force, export one to edit.\n\n"
    "A file named like a built-in template in the [report] templates folder replaces it; "
    'one that starts with {% extends "default:cfo.md.j2" %} changes single blocks. '
    "See docs/templates.md.",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")


def _template_roles(cfg: Any, role: str | None) -> list[Any]:
    from .pipeline import selected_roles

    return selected_roles(cfg, [role] if role else None)


@templates_app.command("list")
@friendly
@logged
def templates_list(
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every role's template: built-in, replaced or extended by yours, and its path.

    Example: execreport templates list -c examples/execreport.toml
    """
    from dataclasses import asdict

    from .pipeline import template_folder
    from .templates import describe

    cfg = setup(config, env_file)
    infos = [describe(r, template_folder(cfg)) for r in _template_roles(cfg, None)]
    if as_json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return
    rows = [[i.role, i.state, i.path or "(no template: built in Python)"] for i in infos]
    print(table(rows, ["role", "template", "path"]))


@templates_app.command("show")
@friendly
@logged
def templates_show(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role, e.g. cfo.")],
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    variables: Annotated[
        bool, typer.Option("--vars", help="List the variables the template receives instead.")
    ] = False,
) -> None:
    """Print the template in force for ROLE (yours if you have one), or its variables.

    Example: execreport templates show cfo --vars
    """
    from .pipeline import template_folder
    from .templates import describe, variables_of

    cfg = setup(config, env_file)
    (chosen,) = _template_roles(cfg, role)
    if variables:
        for name, what in variables_of(chosen).items():
            print(f"{name:<24} {what}")
        return
    info = describe(chosen, template_folder(cfg))
    if not info.path:
        from .errors import ConfigError

        raise ConfigError(f"role {role!r} has no template (its words are built in Python)")
    sys.stdout.write(Path(info.path).read_text(encoding="utf-8"))


@templates_app.command("export")
@friendly
@logged
def templates_export(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role, e.g. cfo.")],
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            metavar="DIR",
            help="The folder to write to (default: [report] templates, else ./templates).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
) -> None:
    """Write ROLE's built-in template, with its block names, into a folder to edit.

    Example: execreport templates export cfo --to templates
    """
    from .pipeline import template_folder
    from .templates import describe, export

    cfg = setup(config, env_file)
    (chosen,) = _template_roles(cfg, role)
    folder = to or template_folder(cfg) or cfg.resolve("templates")
    path = export(chosen, folder)
    print(path)
    print(f"blocks: {', '.join(describe(chosen, None).blocks)}")
    if not cfg.report.templates:
        print('set [report] templates = "templates" in the config to use it')


@app.command()
@friendly
@logged
def history(
    role: Annotated[str | None, typer.Argument(metavar="ROLE", help="Only this role.")] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Every archived version: number, built at, as_of, hash, and its deliveries.

    Examples:

      execreport history cfo

      execreport history --json
    """
    from .pipeline import history as archive_history

    rows = archive_history(setup(config, env_file, new_archive), role)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    out = []
    for r in rows:
        sent = (
            "; ".join(
                f"{d['sender']} {d['status']} to {', '.join(d['to'])}" for d in r["deliveries"]
            )
            or "not delivered"
        )
        sent += recipient_notes(r.get("recipients") or [])
        out.append(
            [
                r["role"],
                f"v{r['version']}",
                r["built_at"],
                r["as_of"],
                r["content_hash"][:12],
                sent + (f" (forced: {r['forced']})" if r["forced"] else ""),
            ]
        )
    print(table(out, ["role", "version", "built at", "as_of", "hash", "deliveries"]))


@app.command()
@friendly
@logged
def show(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role, e.g. cfo.")],
    version: Annotated[
        int | None, typer.Argument(metavar="VERSION", help="The version (default: latest).")
    ] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    new_archive: NewArchiveOpt = False,
    recipients: Annotated[
        bool,
        typer.Option("--recipients", help="Print only the recipients and their delivery states."),
    ] = False,
) -> None:
    """Print an archived version's Markdown; its recipients and their delivery states
    (delivered, bounced, complained, ... from the SES events) follow on stderr.

    Example: execreport show cfo 3
    """
    from .pipeline import archived_version

    cfg = setup(config, env_file, new_archive)
    if recipients:
        print_recipients(cfg, role, version, sys.stdout)
        return
    sys.stdout.write(archived_version(cfg, role, version).markdown)
    sys.stdout.flush()
    print_recipients(cfg, role, version, sys.stderr)


@app.command()
@friendly
@logged
def diff(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The role, e.g. cfo.")],
    v1: Annotated[int | None, typer.Argument(metavar="V1", help="The older version.")] = None,
    v2: Annotated[
        int | None, typer.Argument(metavar="V2", help="The newer version (default: latest).")
    ] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    stat: Annotated[bool, typer.Option("--stat", help="One line per changed section.")] = False,
    new_archive: NewArchiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """A unified diff of two versions' Markdown (default: the last two). Fewer than two
    versions: says so and exits 1.

    Examples:

      execreport diff cfo

      execreport diff cfo 2 5 --stat

      execreport diff cfo --json
    """
    from .console import print_diff
    from .pipeline import diff_document

    cfg = setup(config, env_file, new_archive)
    doc = diff_document(cfg, role, v1, v2, stat=stat)
    if as_json:
        print_json({"schema": f"execreport.diff/{SCHEMA_VERSION}", "command": "diff", **doc})
        return
    print_diff(doc["diff"])


# -- delivery events and the suppression list ---------------------------------------------
def recipient_notes(states: list[dict[str, Any]]) -> str:
    """` [a@x: delivered; b@x: bounced (permanent)]` for the recipients with an event."""
    noted = [
        f"{s['address']}: {s['state']}"
        + (f" ({s['bounce_type'].lower()})" if s.get("bounce_type") else "")
        for s in states
        if s["state"] != "sent"
    ]
    return f" [{'; '.join(noted)}]" if noted else ""


def print_recipients(cfg: Any, role: str, version: int | None, out: Any) -> None:
    from .pipeline import show_recipients

    states = show_recipients(cfg, role, version)
    if not states:
        print("recipients: none (not delivered)", file=out)
        return
    rows = [
        [
            s["address"] + (" (bcc)" if s["kind"] == "bcc" else ""),
            s["state"] + (f" ({s['bounce_type'].lower()})" if s["bounce_type"] else ""),
            s["event_at"] or "",
            s["diagnostic"] or "",
        ]
        for s in states
    ]
    print(table(rows, ["recipient", "state", "at", "diagnostic"]), file=out)


@app.command("events")
@friendly
@logged
def events_command(
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Read the SES events queue ([delivery.ses] events_queue) and record each delivery,
    bounce and complaint per recipient; `run` and `send` do this first."""
    from .events import drain
    from .pipeline import open_archive

    cfg = setup(config, env_file, new_archive)
    with open_archive(cfg) as archive:
        result = drain(cfg, archive, progress())
    print(result.summary())


suppression_app = typer.Typer(
    help="The local suppression list: addresses that bounced permanently or complained, "
    "which later runs skip.",
    no_args_is_help=True,
)
app.add_typer(suppression_app, name="suppression")


@suppression_app.command("list")
@friendly
@logged
def suppression_list(
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Every suppressed address: why, since when, from which report."""
    from dataclasses import asdict

    from .pipeline import open_archive

    with open_archive(setup(config, env_file, new_archive)) as archive:
        items = list(archive.suppressions().values())
    if as_json:
        print(json.dumps([asdict(i) for i in items], indent=2))
        return
    if not items:
        print("no suppressed address")
        return
    rows = [
        [
            i.address,
            i.reason,
            f"{i.role} v{i.version}" if i.role else "",
            i.added_at,
            i.diagnostic or "",
        ]
        for i in items
    ]
    print(table(rows, ["address", "reason", "report", "since", "diagnostic"]))


@suppression_app.command("remove")
@friendly
@logged
def suppression_remove(
    address: Annotated[str, typer.Argument(help="The address to send to again.")],
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Take ADDRESS off the local suppression list: later runs send to it again."""
    from .errors import ConfigError
    from .pipeline import open_archive

    with open_archive(setup(config, env_file, new_archive)) as archive:
        removed = archive.unsuppress(address)
        known = ", ".join(archive.suppressions()) or "none"
    if not removed:
        raise ConfigError(f"{address}: not on the suppression list (suppressed: {known})")
    print(f"{address}: removed from the suppression list")


_commands_added = False


def _help_only(argv: list[str]) -> bool:
    """`execreport --help` (or `--version`) with no third-party plugin installed: loading
    the built-in plugins (pydantic, the roles) would only slow the help down, and none of
    them adds a command."""
    if not argv or any(a not in ("--help", "-h", "--version") for a in argv):
        return False
    from importlib.metadata import entry_points

    from .plugin_manager import ENTRY_POINT_GROUP, _allowlist, _norm

    allowed = _allowlist()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.name
        if allowed is None or _norm(dist) in allowed:
            return False
    return True


def invoke(args: list[str] | None) -> int:
    """Run the app; click's usage errors become the project's one line (exit 2)."""
    try:  # newer typer carries its own copy of click
        from typer._click import exceptions as click  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - typer on the click package
        from click import exceptions as click  # type: ignore[no-redef]
    # Abort lives in typer.exceptions with typer's own click, in click.exceptions without
    aborts = tuple({a for a in (getattr(click, "Abort", None), getattr(typer, "Abort", None)) if a})

    no_args = getattr(click, "NoArgsIsHelpError", None)
    try:
        rv = app(args=args, prog_name="execreport", standalone_mode=False)
    except click.UsageError as exc:
        if no_args is not None and isinstance(exc, no_args):
            print(exc.format_message())
            return 0
        where = exc.ctx.command_path if exc.ctx is not None else "execreport"
        print(
            f"execreport: error: {exc.format_message().rstrip('.')} (see {where} --help)",
            file=sys.stderr,
        )
        return 2
    except click.ClickException as exc:
        print(f"execreport: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except (*aborts, KeyboardInterrupt):
        print("execreport: error: interrupted", file=sys.stderr)
        return 130
    return rv if isinstance(rv, int) else 0


def main(event: dict[str, Any] | None = None, context: Any = None) -> Any:
    """Entry point: load plugins (they may add commands), then run the app.

    Also an AWS Lambda handler: `main(event, context)` runs `event["args"]` (default
    `["run"]`) and returns `{"exit_code": N}` instead of exiting."""
    from .plugin_manager import get_plugin_manager

    global _commands_added
    argv = sys.argv[1:] if event is None else [str(a) for a in event.get("args", ["run"])]
    try:
        if not _commands_added and not _help_only(
            argv
        ):  # a warm Lambda calls main again: add plugin commands once
            get_plugin_manager().hook.register_commands(app=app)
            _commands_added = True
    except ExecReportError as exc:
        print(f"execreport: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    from .console import reset

    reset()
    if event is None:
        raise SystemExit(invoke(None))
    args = [str(a) for a in event.get("args", ["run"])]
    try:
        code = invoke(args)
        if code:
            return {"exit_code": code}
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return {"exit_code": code}
    return {"exit_code": 0}


if __name__ == "__main__":
    main()
