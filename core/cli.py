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
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="execreport.toml (default: ./execreport.toml).", show_default=False
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The report date, YYYY-MM-DD (default: [report] as_of, "
        "else today in [report] timezone).",
        show_default=False,
    ),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
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
    return cfg


def progress(quiet: bool) -> Callable[[str], None]:
    from .pipeline import quiet as silent
    from .pipeline import stderr_progress

    return silent if quiet else stderr_progress


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


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@app.command()
@friendly
def run(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Only this role (repeatable).")
    ] = None,
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Build every report, archive new versions and deliver them (the main job)."""
    from .pipeline import recipients_display
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
        progress=progress(quiet),
    )
    b = result.build
    assert b is not None
    title = "Delivery plan (dry run: nothing sent)" if dry_run else "Delivery"
    print(f"{title}, as of {b.as_of.isoformat()} ({b.period}):")
    rows = []
    for i, o in enumerate(result.outcomes, 1):
        crit = next((it.critical for it in b.items if it.role.name == o.role), False)
        size = [f"{o.size / 1024:.1f} KiB"] if dry_run else []
        rows.append(
            [
                str(i),
                o.role,
                "critical" if crit else "",
                f"v{o.version}",
                o.sender,
                o.status,
                recipients_display(o.recipients),
                *size,
                o.detail,
            ]
        )
    header = ["#", "role", "", "version", "sender", "status", "to"]
    header += ["size", "detail"] if dry_run else ["detail"]
    print(table(rows, header))
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to deliver")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
@friendly
def send(
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Only this role (repeatable).")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", metavar="N", help="With --resend and one --role: that archived version."
        ),
    ] = None,
    resend: ResendOpt = False,
    every: AllOpt = False,
    recipient: RecipientOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Deliver what is archived and not yet delivered (after a crash or a quota stop), or,
    with --resend, send one version (or --all) again on purpose."""
    from .pipeline import recipients_display, send_pending

    resend_scope("send", resend, role, version, recipient, every)
    cfg = setup(config, env_file, new_archive)
    result = send_pending(
        cfg,
        resend=resend,
        roles=role or None,
        version=version,
        recipients=recipient or None,
        announce=announce_resend(every),
        progress=progress(quiet),
    )
    rows = [
        [o.role, f"v{o.version}", o.sender, o.status, recipients_display(o.recipients), o.detail]
        for o in result.outcomes
    ]
    print(table(rows, ["role", "version", "sender", "status", "to", "detail"]))
    if not result.ok:
        raise typer.Exit(1)


@app.command()
@friendly
def build(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Only this role (repeatable).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="A JSON array on stdout, one object per report; logs go to stderr."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Build the reports and print them (Markdown, or JSON with --json); nothing is sent."""
    from .pipeline import build as build_reports
    from .pipeline import reading_archive

    cfg = setup(config, env_file)
    # the same report `run` would deliver: compared with the last delivered version
    with reading_archive(cfg) as archive:
        result = build_reports(
            cfg, as_of=parse_date(as_of), only=role, archive=archive, progress=progress(quiet)
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
def preview(
    role: Annotated[str, typer.Argument(help="The role to preview, e.g. cfo.")],
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the HTML (default: next to the archive, preview/ROLE.html).",
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Write the report as a PDF (ROLE.pdf) too.")
    ] = False,
) -> None:
    """Build one report and write its email HTML to a file, its chart images beside it
    (so a browser shows what recipients see); prints the path."""
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
def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the plugins: version, hooks, and the sources, roles and senders they register."""
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
def check(
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    env_file: EnvFileOpt = None,
) -> None:
    """Check the config, every entity's data and each sender's preflight, without building."""
    from .ledger import use_database
    from .pipeline import (
        check_delivery,
        check_templates,
        load_entities,
        make_senders,
        selected_roles,
    )

    cfg = setup(config, env_file)
    print(f"config   {cfg.path}: ok")
    chosen = selected_roles(cfg)
    check_templates(cfg, chosen)  # before any data is read: a template is config
    day = cfg.as_of(parse_date(as_of))
    with use_database():
        for e in load_entities(cfg, day):
            n, last = e.ledger.sql("SELECT count(*), max(date) FROM ledger")[0]
            print(f"entity   {e.key} ({e.name}): {n} ledger rows, last {last}")
    roles = [r.name for r in chosen]
    check_delivery(cfg, roles)
    for r in roles:
        print(f"role     {r}: to {', '.join(cfg.recipients(r))}")
    for name, sender in make_senders(cfg):
        sender.check()
        print(f"sender   {name}: ok")


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
def templates_show(
    role: Annotated[str, typer.Argument(help="The role, e.g. cfo.")],
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
def templates_export(
    role: Annotated[str, typer.Argument(help="The role, e.g. cfo.")],
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
def history(
    role: Annotated[str | None, typer.Argument(help="Only this role.")] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Every archived version: number, built at, as_of, hash, and its deliveries."""
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
def show(
    role: Annotated[str, typer.Argument(help="The role, e.g. cfo.")],
    version: Annotated[int | None, typer.Argument(help="The version (default: latest).")] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    new_archive: NewArchiveOpt = False,
) -> None:
    """Print an archived version's Markdown."""
    from .pipeline import archived_version

    cfg = setup(config, env_file, new_archive)
    sys.stdout.write(archived_version(cfg, role, version).markdown)


@app.command()
@friendly
def diff(
    role: Annotated[str, typer.Argument(help="The role, e.g. cfo.")],
    v1: Annotated[int | None, typer.Argument(help="The older version.")] = None,
    v2: Annotated[int | None, typer.Argument(help="The newer version (default: latest).")] = None,
    config: ConfigOpt = None,
    env_file: EnvFileOpt = None,
    stat: Annotated[bool, typer.Option("--stat", help="One line per changed section.")] = False,
    new_archive: NewArchiveOpt = False,
) -> None:
    """A unified diff of two versions' Markdown (default: the last two)."""
    from .pipeline import diff_versions

    cfg = setup(config, env_file, new_archive)
    sys.stdout.write(diff_versions(cfg, role, v1, v2, stat=stat))


_commands_added = False


def main(event: dict[str, Any] | None = None, context: Any = None) -> Any:
    """Entry point: load plugins (they may add commands), then run the app.

    Also an AWS Lambda handler: `main(event, context)` runs `event["args"]` (default
    `["run"]`) and returns `{"exit_code": N}` instead of exiting."""
    from .plugin_manager import get_plugin_manager

    global _commands_added
    try:
        if not _commands_added:  # a warm Lambda calls main again: add plugin commands once
            get_plugin_manager().hook.register_commands(app=app)
            _commands_added = True
    except ExecReportError as exc:
        print(f"execreport: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    if event is None:
        return app()
    args = [str(a) for a in event.get("args", ["run"])]
    try:
        app(args=args, prog_name="execreport")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return {"exit_code": code}
    return {"exit_code": 0}


if __name__ == "__main__":
    main()
